//! `Twilio.NUMBER_SEQUENCE`: digit strings said or typed any way ("94105", "four one five",
//! "nine four one oh five", "415-555-0100", "double five") → the digits only.

use crate::numbers::{digit_word, words_at};
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

/// One piece of a sequence at token `i`: (digits, token past it, was it typed in digits).
pub(crate) fn unit_at(toks: &Toks, i: usize, lang: Lang) -> Option<(String, usize, bool)> {
    if toks.is_num(i) {
        return Some((toks.norm(i).to_string(), i + 1, true));
    }
    if !toks.is_word(i) {
        return None;
    }
    // "double five", "triple zero"
    let times = match (lang, toks.norm(i)) {
        (Lang::En, "double") => 2,
        (Lang::En, "triple") => 3,
        _ => 1,
    };
    if times > 1 {
        let (d, end, typed) = unit_at(toks, i + 1, lang)?;
        return (d.len() == 1).then(|| (d.repeat(times), end, typed));
    }
    if let Some(d) = digit_word(toks.norm(i), lang) {
        // "una mesa" is an article; "um meia dois" a digit among digits.
        let article = matches!(
            toks.norm(i),
            "un" | "una" | "une" | "ein" | "eine" | "um" | "uma"
        );
        let next_is_digit = toks.is_num(i + 1) || digit_word(toks.norm(i + 1), lang).is_some();
        if !article || next_is_digit || words_at(toks, i, lang).is_some() {
            return Some(((char::from(b'0' + d)).to_string(), i + 1, false));
        }
    }
    // "ninety four", "nineteen eighty four": small numbers in words give their digits.
    let (v, end) = words_at(toks, i, lang)?;
    Some((v.to_string(), end, false))
}

/// Separators allowed inside a sequence.
fn separator(toks: &Toks, i: usize) -> bool {
    ["-", "(", ")", "."].iter().any(|s| toks.norm(i) == *s)
}

/// The longest run of units from token `i`: (digits, units, any typed, token past it).
pub(crate) fn run_at(toks: &Toks, i: usize, lang: Lang) -> Option<(String, usize, bool, usize)> {
    let (mut digits, mut end, mut typed) = unit_at(toks, i, lang)?;
    let mut units = 1;
    let mut j = end;
    loop {
        let mut k = j;
        while separator(toks, k) && k < j + 2 {
            k += 1;
        }
        let Some((d, e, t)) = unit_at(toks, k, lang) else {
            break;
        };
        digits.push_str(&d);
        typed |= t;
        units += 1;
        end = e;
        j = e;
    }
    Some((digits, units, typed, end))
}

pub(crate) fn find(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        // Digits glued to letters are codes ("AB123"), not sequences.
        let glued_to_word = i > 0 && toks.glued(i) && toks.is_word(i - 1);
        if !glued_to_word && let Some((digits, units, typed, end)) = run_at(toks, i, lang) {
            let code = (toks.glued(end) && toks.is_word(end) && toks.is_num(end - 1))
                || crate::numbers::part_of_code(toks, i, end);
            if !code && (typed || units >= 2 || mode == Mode::Answer) {
                out.push(Cand::new(i, end, digits));
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        find(&Toks::new(text), lang, Mode::Find, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn spoken_and_typed_sequences() {
        assert_eq!(seqs("four one five", Lang::En), ["415"]);
        assert_eq!(seqs("my zip is nine four one oh five", Lang::En), ["94105"]);
        assert_eq!(seqs("415-555-0100", Lang::En), ["4155550100"]);
        assert_eq!(seqs("double five seven", Lang::En), ["557"]);
        assert_eq!(seqs("0042", Lang::En), ["0042"]);
        assert_eq!(seqs("nineteen eighty four", Lang::En), ["1984"]);
        assert_eq!(seqs("cuatro uno cinco", Lang::Es), ["415"]);
        assert_eq!(seqs("vier eins fünf", Lang::De), ["415"]);
        assert_eq!(seqs("um meia dois", Lang::Pt), ["162"]);
        assert!(seqs("I want one", Lang::En).is_empty());
        assert!(seqs("code AB123", Lang::En).is_empty());
    }
}
