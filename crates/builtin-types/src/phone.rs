//! `Twilio.PHONE_NUMBER`: typed or spoken phone numbers → E.164 (`+14155550100`) when the
//! country is clear, else the digits.
//!
//! The country is clear with a leading "+" or "00" ("+44 20 7946 0958"), or for a valid
//! North American number in English (10 digits, or 11 starting with 1): the convention of
//! Twilio's US-centred channels. Anything else keeps its digits as said.

use crate::sequence::unit_at;
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

/// Fewest and most digits of a phone number (E.164 allows 15).
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// A phone number starting at token `i`: (normalised, token past it).
fn phone_at(toks: &Toks, i: usize, lang: Lang) -> Option<(String, usize)> {
    let mut j = i;
    let mut plus = false;
    let sign = toks.is_punct(j, '+') && (toks.is_num(j + 1) || toks.is_punct(j + 1, '('));
    if sign
        || (toks.is_any(j, &["plus", "mas", "piu", "mais"]) && unit_at(toks, j + 1, lang).is_some())
    {
        plus = true;
        j += 1;
    }
    let mut digits = String::new();
    let mut end = i;
    let mut groups = 0;
    loop {
        let mut k = j;
        // Separators: spaces (implicit), "-", ".", "/", "(", ")".
        while toks.norm(k).len() == 1
            && matches!(toks.norm(k), "-" | "." | "/" | "(" | ")")
            && k < j + 3
        {
            // "+44 (0)20": the trunk zero in brackets is dropped.
            if toks.is_punct(k, '(')
                && toks.norm(k + 1) == "0"
                && toks.is_punct(k + 2, ')')
                && plus
                && groups > 0
            {
                k += 3;
                continue;
            }
            k += 1;
        }
        let Some((d, e, _)) = unit_at(toks, k, lang) else {
            break;
        };
        if digits.len() + d.len() > MAX_DIGITS + 2 {
            break;
        }
        digits.push_str(&d);
        groups += 1;
        end = e;
        j = e;
    }
    // A closing bracket belongs to the number: "(415)".
    if toks.is_punct(end, ')') && toks.glued(end) && (i..end).any(|k| toks.is_punct(k, '(')) {
        end += 1;
    }
    if plus && digits.starts_with("00") {
        return None;
    }
    let intl = !plus && digits.starts_with("00") && digits.len() > 2 + MIN_DIGITS;
    let digits = if intl {
        digits[2..].to_string()
    } else {
        digits
    };
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
        return None;
    }
    Some((normalise(&digits, plus || intl, lang), end))
}

/// E.164 when the country is known, else the digits.
fn normalise(digits: &str, international: bool, lang: Lang) -> String {
    if international {
        return format!("+{digits}");
    }
    let nanp = |d: &str| {
        let b = d.as_bytes();
        d.len() == 10 && (b'2'..=b'9').contains(&b[0]) && (b'2'..=b'9').contains(&b[3])
    };
    if lang == Lang::En {
        if nanp(digits) {
            return format!("+1{digits}");
        }
        if digits.len() == 11 && digits.starts_with('1') && nanp(&digits[1..]) {
            return format!("+{digits}");
        }
    }
    digits.to_string()
}

/// A date written with separators ("2026-12-01", "12/01/2026") is not a phone number.
fn looks_like_date(toks: &Toks, i: usize, end: usize) -> bool {
    let nums: Vec<&str> = (i..end)
        .filter(|&k| toks.is_num(k))
        .map(|k| toks.norm(k))
        .collect();
    let seps: Vec<&str> = (i..end)
        .filter(|&k| !toks.is_num(k))
        .map(|k| toks.norm(k))
        .collect();
    let short = |n: &str| n.len() <= 2;
    nums.len() == 3
        && seps.len() == 2
        && seps[0] == seps[1]
        && matches!(seps[0], "-" | "/" | ".")
        && ((nums[0].len() == 4 && short(nums[1]) && short(nums[2]))
            || (short(nums[0]) && short(nums[1]) && matches!(nums[2].len(), 2 | 4)))
}

pub(crate) fn find(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let _ = mode;
    let mut i = 0;
    while i < toks.len() {
        let glued_to_word = i > 0 && toks.glued(i) && toks.is_word(i - 1);
        if !glued_to_word && let Some((value, end)) = phone_at(toks, i, lang) {
            // A date is skipped whole, not searched for shorter numbers.
            if !looks_like_date(toks, i, end) {
                out.push(Cand::new(i, end, value));
            }
            i = end;
            continue;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones(text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        find(&Toks::new(text), lang, Mode::Find, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn formats() {
        assert_eq!(phones("+1 (415) 555-0100", Lang::En), ["+14155550100"]);
        assert_eq!(
            phones("call (415) 555-0100 now", Lang::En),
            ["+14155550100"]
        );
        assert_eq!(phones("4155550100", Lang::En), ["+14155550100"]);
        assert_eq!(phones("1-415-555-0100", Lang::En), ["+14155550100"]);
        assert_eq!(phones("+44 (0)20 7946 0958", Lang::En), ["+442079460958"]);
        assert_eq!(phones("0044 20 7946 0958", Lang::En), ["+442079460958"]);
        assert_eq!(phones("06 12 34 56 78", Lang::Fr), ["0612345678"]);
        assert_eq!(
            phones("four one five five five five zero one zero zero", Lang::En),
            ["+14155550100"]
        );
        assert_eq!(
            phones(
                "plus four four two zero seven nine four six zero nine five eight",
                Lang::En
            ),
            ["+442079460958"]
        );
        assert!(phones("on 2026-12-01", Lang::En).is_empty());
        assert!(phones("42", Lang::En).is_empty());
    }
}
