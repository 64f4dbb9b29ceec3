//! `parse_answer`: the value of a whole answer to a `collect` question.
//!
//! The answer is known to be of the type, so recognisers run in `Mode::Answer` (ambiguous
//! words, codes in any case and languages other than the user's are accepted) and the
//! first match wins. Types whose answer is free-form (names, codes) first drop the filler
//! before the value: "yes, it's", "my code is", "me llamo".

use std::sync::LazyLock;

use crate::phrases::{ALL_LANGS, Phrases};
use crate::text::{Kind, Toks};
use crate::{
    BuiltinType, Cand, Context, Mode, alphanumeric, calendar, dates, names, resolve, yes_no,
};

/// Words said before an answer that carry nothing.
const FILLER: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "um",
    "uh",
    "umm",
    "uhh",
    "er",
    "erm",
    "well",
    "so",
    "oh",
    "hi",
    "hello",
    "hey",
    "it's",
    "it is",
    "its",
    "that's",
    "that is",
    "this is",
    "here it is",
    "here you go",
    "of course",
    "please",
    "si",
    "oui",
    "ja",
    "sim",
    "claro",
    "bueno",
    "pues",
    "alors",
    "eh",
    "bon",
    "also",
    "na",
    "allora",
    "ecco",
    "entao",
    "e",
    "es",
    "c'est",
    "das ist",
    "it",
    "is",
    "the",
    "my",
];

static FILLER_INDEX: LazyLock<Phrases<()>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for f in FILLER {
        p.insert(f, (), ALL_LANGS, false);
    }
    p
});

/// Words that end an introduction: "my confirmation number IS …".
fn copula(toks: &Toks, i: usize) -> bool {
    matches!(
        toks.norm(i),
        "is" | "es" | "est" | "ist" | "sono" | "son" | "are"
    ) || matches!(toks.raw(i), "è" | "é" | "È" | "É")
        || toks.is_punct(i, ':')
}

/// The token where the value of an answer starts, after filler and an introduction.
fn value_start(toks: &Toks) -> usize {
    let mut i = 0;
    loop {
        while matches!(toks.kind(i), Some(Kind::Punct)) && !toks.is_punct(i, '+') {
            i += 1;
        }
        match FILLER_INDEX.at(toks, i, ALL_LANGS) {
            Some(hit) if hit.end < toks.len() => i = hit.end,
            _ => break,
        }
    }
    // "my confirmation number is", "the code is:", "mi código es"
    if let Some(c) = (i..toks.len().min(i + 6)).rev().find(|&k| copula(toks, k))
        && c + 1 < toks.len()
    {
        i = c + 1;
    }
    while matches!(toks.kind(i), Some(Kind::Punct)) && !toks.is_punct(i, '+') {
        i += 1;
    }
    i
}

/// The text from token `i` on.
fn rest<'a>(toks: &Toks<'a>, i: usize) -> &'a str {
    toks.toks.get(i).map_or("", |t| &toks.text[t.start..])
}

fn first_value(ty: BuiltinType, toks: &Toks, ctx: &Context) -> Option<String> {
    let mut cands: Vec<Cand> = Vec::new();
    crate::candidates(ty, toks, ctx, Mode::Answer, &mut cands);
    if ty != BuiltinType::Email {
        cands.retain(|c| !crate::inside_address(toks, c.first, c.end));
    }
    resolve(toks, cands).into_iter().next().map(|m| m.value)
}

pub(crate) fn parse(ty: BuiltinType, text: &str, ctx: &Context) -> Option<String> {
    use BuiltinType::*;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let toks = Toks::new(text);
    match ty {
        YesNo => first_value(ty, &toks, ctx).or_else(|| {
            // A yes or no in any language: "si" to an English bot is still a yes.
            let mut cands = Vec::new();
            yes_no::find_in(&toks, ALL_LANGS, Mode::Answer, &mut cands);
            resolve(&toks, cands).into_iter().next().map(|m| m.value)
        }),
        NumberSequence => {
            let mut cands = Vec::new();
            crate::candidates(ty, &toks, ctx, Mode::Answer, &mut cands);
            cands.into_iter().map(|c| c.value).max_by_key(String::len)
        }
        Alphanumeric => {
            let value = Toks::new(rest(&toks, value_start(&toks)));
            let mut best: Option<(String, usize)> = None;
            for i in 0..value.len() {
                if let Some((code, end)) = alphanumeric::code_at(&value, i, ctx.lang, Mode::Answer)
                    && best.as_ref().is_none_or(|(b, _)| code.len() > b.len())
                {
                    best = Some((code, end));
                }
            }
            // One spelled letter out of a sentence ("I'm not sure" → "I") is no code.
            let words = (0..value.len())
                .filter(|&k| value.kind(k) != Some(Kind::Punct))
                .count();
            best.map(|(code, _)| code)
                .filter(|code| code.len() >= 2 || words <= 2)
        }
        FirstName => {
            let after = Toks::new(rest(&toks, names::strip_cue(&toks)));
            let after = Toks::new(rest(&after, value_start(&after)));
            names::first_answer(&after)
        }
        LastName => {
            let after = Toks::new(rest(&toks, names::strip_cue(&toks)));
            let after = Toks::new(rest(&after, value_start(&after)));
            names::last_answer(&after)
        }
        Date => first_value(ty, &toks, ctx).or_else(|| {
            // "15": a day of the month.
            let value = Toks::new(rest(&toks, value_start(&toks)));
            let day = single_number(&value).filter(|d| (1..=31).contains(d))?;
            dates::next_day_of_month(ctx.reference.date(), day as u32)
                .map(|d| d.format("%Y-%m-%d").to_string())
        }),
        DayOfWeek => first_value(ty, &toks, ctx).or_else(|| {
            // "tomorrow": the weekday of that date.
            let (date, _) =
                (0..toks.len()).find_map(|i| dates::date_at(&toks, i, ctx, Mode::Answer))?;
            Some(calendar::weekday_name(chrono::Datelike::weekday(&date)).to_string())
        }),
        Month => first_value(ty, &toks, ctx).or_else(|| {
            // "3": March.
            let value = Toks::new(rest(&toks, value_start(&toks)));
            let m = single_number(&value).filter(|m| (1..=12).contains(m))?;
            Some(calendar::month_name(m as u32).to_string())
        }),
        PhoneNumber => first_value(ty, &toks, ctx),
        _ => first_value(ty, &toks, ctx),
    }
}

/// The number when the text is only a number (trailing punctuation allowed).
fn single_number(toks: &Toks) -> Option<u64> {
    let words: Vec<usize> = (0..toks.len())
        .filter(|&i| toks.kind(i) != Some(Kind::Punct))
        .collect();
    match words.as_slice() {
        [i] if toks.is_num(*i) => toks.norm(*i).parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_where_the_value_starts() {
        let t = Toks::new("yes, my confirmation number is AB123");
        assert_eq!(t.norm(value_start(&t)), "ab");
        let t = Toks::new("um it's: X7");
        assert_eq!(t.norm(value_start(&t)), "x");
        let t = Toks::new("AB123");
        assert_eq!(value_start(&t), 0);
    }
}
