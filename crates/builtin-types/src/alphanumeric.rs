//! `Twilio.ALPHANUMERIC`: codes of letters and digits (confirmation numbers, claim IDs) →
//! uppercase letters and digits concatenated ("AB-123", "a b 1 2 3", "alpha bravo one two
//! three", "B as in boy" → `AB123`, `B`).

use crate::numbers::digit_word;
use crate::text::{Kind, Toks};
use crate::{Cand, Lang, Mode};

/// The NATO alphabet, said for letters on the phone.
const NATO: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
];

/// A glued group of ASCII letters, digits and inner hyphens from token `i` ("AB-123",
/// "X7Y9Z"): (value, has letter, has digit, token past it).
fn glued_group(toks: &Toks, i: usize) -> Option<(String, bool, bool, usize)> {
    let alnum =
        |k: usize| matches!(toks.kind(k), Some(Kind::Word | Kind::Num)) && toks.raw(k).is_ascii();
    if !alnum(i) {
        return None;
    }
    let (mut value, mut letter, mut digit) = (String::new(), false, false);
    let mut j = i;
    loop {
        letter |= toks.is_word(j);
        digit |= toks.is_num(j);
        value.push_str(&toks.raw(j).to_ascii_uppercase());
        j += 1;
        if alnum(j) && toks.glued(j) {
            continue;
        }
        // An inner hyphen or slash: "AB-123"
        if (toks.is_punct(j, '-') || toks.is_punct(j, '/'))
            && toks.glued(j)
            && toks.glued(j + 1)
            && alnum(j + 1)
        {
            j += 1;
            continue;
        }
        break;
    }
    Some((value, letter, digit, j))
}

/// Digits followed by a unit or an ordinal suffix: "5th", "3pm", "15h", "10kg".
fn number_with_unit(toks: &Toks, i: usize, end: usize) -> bool {
    const UNITS: &[&str] = &[
        "st", "nd", "rd", "th", "am", "pm", "h", "hr", "hrs", "min", "mins", "s", "sec", "k", "m",
        "km", "cm", "mm", "kg", "g", "mg", "lb", "lbs", "oz", "ml", "l", "gb", "mb", "kb", "tb",
        "px", "er", "e", "eme", "o", "a", "x", "uhr", "d", "y", "yr", "yrs", "mo",
    ];
    end == i + 2 && toks.is_num(i) && UNITS.contains(&toks.norm(i + 1))
}

/// One spoken character at token `i`: a single letter or digit, a digit word, a NATO word,
/// "B as in boy". (value, is digit, token past it)
fn spoken_char(toks: &Toks, i: usize, lang: Lang) -> Option<(char, bool, usize)> {
    let w = toks.norm(i);
    if toks.is_num(i) && w.len() == 1 {
        return Some((w.chars().next()?, true, i + 1));
    }
    if !toks.is_word(i) || !toks.raw(i).is_ascii() {
        return None;
    }
    if w == "x" && toks.is_punct(i + 1, '-') && toks.norm(i + 2) == "ray" {
        return Some(('X', false, i + 3));
    }
    if w.len() == 1 {
        let c = w.chars().next()?.to_ascii_uppercase();
        // "B as in boy"
        if toks.is_any(i + 1, &["as", "como", "comme", "wie", "come"])
            && toks.is_any(i + 2, &["in", "en", "dans", "in", "em"])
            && toks.is_word(i + 3)
        {
            return Some((c, false, i + 4));
        }
        if toks.is_any(i + 1, &["for", "de", "pour", "wie", "per"]) && toks.is_word(i + 2) {
            // "B for boy"
            if toks.norm(i + 2).starts_with(w) && toks.norm(i + 2).len() > 1 {
                return Some((c, false, i + 3));
            }
        }
        return Some((c, false, i + 1));
    }
    if let Some(d) = digit_word(w, lang) {
        return Some((char::from(b'0' + d), true, i + 1));
    }
    let nato = NATO
        .iter()
        .find(|n| **n == w || (w == "juliett" && **n == "juliet"));
    nato.map(|n| {
        (
            n.chars().next().unwrap_or('A').to_ascii_uppercase(),
            false,
            i + 1,
        )
    })
}

/// The code at token `i` in `mode`: (value, token past it), the longer of a typed code
/// ("AB-123", then any spelled characters after it) and a spelled one ("b as in boy").
pub(crate) fn code_at(toks: &Toks, i: usize, lang: Lang, mode: Mode) -> Option<(String, usize)> {
    let typed = glued_group(toks, i).and_then(|(value, letter, digit, end)| {
        // Typed codes need a digit and a letter to stand out from words and numbers, and
        // are not a number with a unit ("5th", "3pm", "10kg").
        if mode == Mode::Find && (!(letter && digit) || number_with_unit(toks, i, end)) {
            return None;
        }
        // In an answer a word alone is a code only when it is the whole answer or in
        // capitals ("ABCDE", not "people").
        if mode == Mode::Answer && !digit && end == i + 1 {
            let words = (0..toks.len())
                .filter(|&k| toks.kind(k) != Some(Kind::Punct))
                .count();
            if words > 1 && !toks.toks[i].upper {
                return None;
            }
        }
        let (more, end2) = spoken_run(toks, end, lang);
        Some(if more.is_empty() || mode == Mode::Find {
            (value, end)
        } else {
            (value + &more, end2)
        })
    });
    let spoken = {
        let (value, end) = spoken_run(toks, i, lang);
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let letters = value.len() - digits;
        let ok = match mode {
            Mode::Find => value.len() >= 3 && digits >= 1 && letters >= 1,
            Mode::Answer => !value.is_empty(),
        };
        ok.then_some((value, end))
    };
    match (typed, spoken) {
        (Some(t), Some(s)) => Some(if s.1 >= t.1 { s } else { t }),
        (t, s) => t.or(s),
    }
}

/// Spoken characters from token `i`: (value, token past them).
fn spoken_run(toks: &Toks, i: usize, lang: Lang) -> (String, usize) {
    let mut value = String::new();
    let mut j = i;
    loop {
        let k = if !value.is_empty() && (toks.is_punct(j, '-') || toks.is_punct(j, ',')) {
            j + 1
        } else {
            j
        };
        match spoken_char(toks, k, lang) {
            Some((c, _, e)) => {
                value.push(c);
                j = e;
            }
            None => break,
        }
    }
    (value, j)
}

pub(crate) fn find(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        let glued_before = i > 0 && toks.glued(i) && !toks.is_punct(i - 1, '(');
        if !glued_before && let Some((value, end)) = code_at(toks, i, lang, mode) {
            out.push(Cand::new(i, end, value));
            i = end;
            continue;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, mode: Mode) -> Vec<String> {
        let mut out = Vec::new();
        find(&Toks::new(text), Lang::En, mode, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    fn answer(text: &str) -> Option<String> {
        code_at(&Toks::new(text), 0, Lang::En, Mode::Answer).map(|(v, _)| v)
    }

    #[test]
    fn typed_and_spoken_codes() {
        assert_eq!(codes("my code is AB-123", Mode::Find), ["AB123"]);
        assert_eq!(codes("ref x7y9z please", Mode::Find), ["X7Y9Z"]);
        assert_eq!(codes("a b 1 2 3", Mode::Find), ["AB123"]);
        assert_eq!(codes("alpha bravo one two three", Mode::Find), ["AB123"]);
        assert_eq!(codes("K9", Mode::Find), ["K9"]);
        assert!(codes("a dog and a cat", Mode::Find).is_empty());
        assert!(codes("hello 42", Mode::Find).is_empty());
        assert_eq!(answer("b as in boy 4").as_deref(), Some("B4"));
        assert_eq!(answer("x-ray 7 k").as_deref(), Some("X7K"));
        assert_eq!(answer("ABCDE").as_deref(), Some("ABCDE"));
    }
}
