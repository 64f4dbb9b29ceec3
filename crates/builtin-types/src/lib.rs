//! Autopilot's 19 built-in field types (`Twilio.NUMBER`, `Twilio.DATE`, …), parsed in-process.
//!
//! Two entry points:
//! - [`find`]: every occurrence of a type inside an utterance, with byte offsets and a
//!   normalised value (used by the NLU to fill task fields);
//! - [`parse_answer`]: the normalised value of a whole answer to a `collect` question of that
//!   type, tolerant of filler ("it's 42", "yes please"), or `None` if it is not one.
//!
//! Everything is hand-written and table-driven (see the README's "Decisions"): a parse of
//! one utterance takes microseconds. Input is folded (case, Latin accents), so "MAÑANA" and
//! "manana" agree; any text, including non-Latin scripts and emoji, is accepted and simply
//! yields nothing when there is nothing to find.

use chrono::NaiveDateTime;

mod alphanumeric;
mod answer;
mod calendar;
mod currency;
mod data;
mod dates;
mod email;
mod names;
mod numbers;
mod phone;
mod phrases;
mod places;
mod sequence;
mod text;
mod times;
mod yes_no;

use text::Toks;
pub(crate) use yes_no::is_word as yes_no_word;

/// One of Autopilot's built-in field types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinType {
    Number,
    NumberSequence,
    Alphanumeric,
    PhoneNumber,
    YesNo,
    Date,
    Time,
    FirstName,
    LastName,
    Email,
    City,
    UsState,
    Country,
    CountryIsoAlpha2,
    CountryIsoAlpha3,
    Language,
    Currency,
    DayOfWeek,
    Month,
}

/// (type, name, internal SID from Twilio's CLI core; reference section 9.5).
const TYPES: [(BuiltinType, &str, &str); 19] = [
    (
        BuiltinType::Number,
        "Twilio.NUMBER",
        "UB2d5c8ef1654c60cbf8a178c206314612",
    ),
    (
        BuiltinType::NumberSequence,
        "Twilio.NUMBER_SEQUENCE",
        "UB38ae14ac8665efbcaafa967eb7da9ded",
    ),
    (
        BuiltinType::Alphanumeric,
        "Twilio.ALPHANUMERIC",
        "UB9bce39a559ebba8ad7cc0eb050b006f9",
    ),
    (
        BuiltinType::PhoneNumber,
        "Twilio.PHONE_NUMBER",
        "UBeb96371fcad6f2de0aa3b7b2ccb0edad",
    ),
    (
        BuiltinType::YesNo,
        "Twilio.YES_NO",
        "UB377f7bb9716a4200563feeb205c4b98a",
    ),
    (
        BuiltinType::Date,
        "Twilio.DATE",
        "UB98df8f10368a8219e8c502159ecb0d99",
    ),
    (
        BuiltinType::Time,
        "Twilio.TIME",
        "UB299b79bec26e8de166658d66cc35f191",
    ),
    (
        BuiltinType::FirstName,
        "Twilio.FIRST_NAME",
        "UB04cc3caa97eebecb37d7306941fead79",
    ),
    (
        BuiltinType::LastName,
        "Twilio.LAST_NAME",
        "UB1acd1e47b32288fedb829b2da7e1b161",
    ),
    (
        BuiltinType::Email,
        "Twilio.EMAIL",
        "UB36e50a2caa1b826ce7da4aaa444cec08",
    ),
    (
        BuiltinType::City,
        "Twilio.CITY",
        "UB4130bb37b688db48eee4c6225c442c39",
    ),
    (
        BuiltinType::UsState,
        "Twilio.US_STATE",
        "UB68c611f8170b88406f14dd0f4daf2d22",
    ),
    (
        BuiltinType::Country,
        "Twilio.COUNTRY",
        "UB33a70fdcf028f0b38718fa3af13fa0ad",
    ),
    (
        BuiltinType::CountryIsoAlpha2,
        "Twilio.COUNTRY_ISO_ALPHA2",
        "UB263f22d51bad0933ee6df561b5eb4174",
    ),
    (
        BuiltinType::CountryIsoAlpha3,
        "Twilio.COUNTRY_ISO_ALPHA3",
        "UB67553e526f26837242dfb54cd8b6ab0c",
    ),
    (
        BuiltinType::Language,
        "Twilio.LANGUAGE",
        "UB90ae830d3ba92630e776aece499e4c3d",
    ),
    (
        BuiltinType::Currency,
        "Twilio.CURRENCY",
        "UBee5a6123468ac8691cfa1b21297753c5",
    ),
    (
        BuiltinType::DayOfWeek,
        "Twilio.DAY_OF_WEEK",
        "UBd4fc42d42a99ccff01053d6b99d5a5b9",
    ),
    (
        BuiltinType::Month,
        "Twilio.MONTH",
        "UB6158e3f6fc519ac5e8aee4eca7fc63b9",
    ),
];

const ALL_TYPES: [BuiltinType; 19] = {
    let mut all = [BuiltinType::Number; 19];
    let mut i = 0;
    while i < 19 {
        all[i] = TYPES[i].0;
        i += 1;
    }
    all
};

impl BuiltinType {
    /// `"Twilio.NUMBER"` (any case) → `Number`; anything else → `None`.
    pub fn from_name(name: &str) -> Option<BuiltinType> {
        TYPES
            .iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(t, _, _)| *t)
    }

    /// The type's name as Autopilot spells it: `"Twilio.NUMBER"`.
    pub fn name(self) -> &'static str {
        TYPES[self as usize].1
    }

    /// All 19 types, in the order of the reference table.
    pub fn all() -> &'static [BuiltinType] {
        &ALL_TYPES
    }

    /// The type's internal `UB…` SID (from Twilio's CLI core).
    pub fn sid(self) -> &'static str {
        TYPES[self as usize].2
    }

    /// The type whose internal SID is `sid`.
    pub fn from_sid(sid: &str) -> Option<BuiltinType> {
        TYPES.iter().find(|(_, _, s)| *s == sid).map(|(t, _, _)| *t)
    }
}

impl std::fmt::Display for BuiltinType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The languages the parsers know. Other languages fall back to English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Es,
    Fr,
    De,
    It,
    Pt,
}

impl Lang {
    pub(crate) const ALL: [Lang; 6] = [Lang::En, Lang::Es, Lang::Fr, Lang::De, Lang::It, Lang::Pt];

    /// From a language tag: `"en-US"`, `"es-MX"`, `"pt_BR"`, `"fr"` (any case). Unknown → `En`.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "es" | "spa" => Lang::Es,
            "fr" | "fra" | "fre" => Lang::Fr,
            "de" | "deu" | "ger" => Lang::De,
            "it" | "ita" => Lang::It,
            "pt" | "por" => Lang::Pt,
            _ => Lang::En,
        }
    }

    /// The two-letter code: `"en"`.
    pub fn code(self) -> &'static str {
        ["en", "es", "fr", "de", "it", "pt"][self as usize]
    }
}

/// What a parse needs to know about the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The user's local "now": relative dates ("tomorrow") count from it.
    pub reference: NaiveDateTime,
    pub lang: Lang,
}

impl Context {
    pub fn new(reference: NaiveDateTime, lang: Lang) -> Context {
        Context { reference, lang }
    }
}

/// One occurrence of a type in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// Byte offset of the first byte (on a char boundary).
    pub start: usize,
    /// Byte offset past the last byte (exclusive, on a char boundary).
    pub end: usize,
    /// The text as said: `&text[start..end]`.
    pub raw: String,
    /// The normalised value (see the README's table).
    pub value: String,
}

/// Every non-overlapping occurrence of `ty` in `text`, left to right (longest match wins on
/// overlap).
pub fn find(ty: BuiltinType, text: &str, ctx: &Context) -> Vec<Match> {
    let toks = Toks::new(text);
    let mut cands = Vec::new();
    candidates(ty, &toks, ctx, Mode::Find, &mut cands);
    if ty != BuiltinType::Email {
        // "bob.lee@example.co.uk" holds no first name, surname or country.
        cands.retain(|c| !inside_address(&toks, c.first, c.end));
    }
    resolve(&toks, cands)
}

/// Tokens `first..end` are part of a longer glued run containing "@" or "://".
pub(crate) fn inside_address(toks: &Toks, first: usize, end: usize) -> bool {
    let mut a = first;
    while a > 0 && toks.glued(a) {
        a -= 1;
    }
    let mut b = end;
    while b < toks.len() && toks.glued(b) {
        b += 1;
    }
    (a < first || b > end)
        && (a..b)
            .any(|k| toks.is_punct(k, '@') || (toks.is_punct(k, ':') && toks.is_punct(k + 1, '/')))
}

/// `text` is the whole answer to a question of type `ty`: its normalised value, or `None` if
/// it is not one. Tolerant of filler ("it's 42", "my number is +1 415 555 0100", "yes please",
/// "nope").
pub fn parse_answer(ty: BuiltinType, text: &str, ctx: &Context) -> Option<String> {
    answer::parse(ty, text, ctx)
}

/// How strict a recogniser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Inside any utterance: ambiguous words ("may", "Nice", "OK") need supporting evidence.
    Find,
    /// The whole text answers a question of this type, so the type itself is the evidence.
    Answer,
}

/// A candidate occurrence, in tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cand {
    pub first: usize,
    /// Token index past the last token.
    pub end: usize,
    pub value: String,
}

impl Cand {
    pub fn new(first: usize, end: usize, value: String) -> Cand {
        Cand { first, end, value }
    }
}

/// Runs the recogniser of `ty`, adding candidates in any order (they may overlap).
pub(crate) fn candidates(
    ty: BuiltinType,
    toks: &Toks,
    ctx: &Context,
    mode: Mode,
    out: &mut Vec<Cand>,
) {
    use BuiltinType::*;
    let lang = ctx.lang;
    match ty {
        Number => numbers::find(toks, lang, out),
        NumberSequence => sequence::find(toks, lang, mode, out),
        Alphanumeric => alphanumeric::find(toks, lang, mode, out),
        PhoneNumber => phone::find(toks, lang, mode, out),
        YesNo => yes_no::find(toks, lang, mode, out),
        Date => dates::find(toks, ctx, mode, out),
        Time => times::find(toks, lang, mode, out),
        FirstName => names::find_first(toks, lang, mode, out),
        LastName => names::find_last(toks, lang, mode, out),
        Email => email::find(toks, lang, out),
        City => places::find_city(toks, lang, mode, out),
        UsState => places::find_state(toks, lang, mode, out),
        Country => places::find_country(toks, lang, mode, places::CountryField::Name, out),
        CountryIsoAlpha2 => {
            places::find_country(toks, lang, mode, places::CountryField::Alpha2, out)
        }
        CountryIsoAlpha3 => {
            places::find_country(toks, lang, mode, places::CountryField::Alpha3, out)
        }
        Language => places::find_language(toks, lang, mode, out),
        Currency => currency::find(toks, lang, mode, out),
        DayOfWeek => calendar::find_weekday(toks, lang, mode, out),
        Month => calendar::find_month(toks, lang, mode, out),
    }
}

/// Keeps the longest of overlapping candidates (then the leftmost), in text order.
pub(crate) fn resolve(toks: &Toks, mut cands: Vec<Cand>) -> Vec<Match> {
    cands.retain(|c| c.first < c.end && c.end <= toks.len());
    let span = |c: &Cand| toks.span(c.first, c.end);
    cands.sort_by_key(|c| {
        let (s, e) = span(c);
        (std::cmp::Reverse(e - s), s)
    });
    let mut kept: Vec<Cand> = Vec::with_capacity(cands.len());
    for c in cands {
        if kept.iter().all(|k| c.end <= k.first || k.end <= c.first) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.first);
    kept.into_iter()
        .map(|c| {
            let (start, end) = span(&c);
            Match {
                start,
                end,
                raw: toks.text[start..end].to_string(),
                value: c.value,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sids_round_trip() {
        assert_eq!(BuiltinType::all().len(), 19);
        for &t in BuiltinType::all() {
            assert_eq!(BuiltinType::from_name(t.name()), Some(t));
            assert_eq!(BuiltinType::from_sid(t.sid()), Some(t));
            assert!(t.sid().starts_with("UB") && t.sid().len() == 34);
        }
        assert_eq!(
            BuiltinType::from_name("twilio.number"),
            Some(BuiltinType::Number)
        );
        assert_eq!(BuiltinType::from_name("Twilio.ZIP_CODE"), None);
        assert_eq!(BuiltinType::Month.name(), "Twilio.MONTH");
        assert_eq!(
            BuiltinType::YesNo.sid(),
            "UB377f7bb9716a4200563feeb205c4b98a"
        );
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::from_tag("en-US"), Lang::En);
        assert_eq!(Lang::from_tag("es-MX"), Lang::Es);
        assert_eq!(Lang::from_tag("pt_BR"), Lang::Pt);
        assert_eq!(Lang::from_tag("FR-ca"), Lang::Fr);
        assert_eq!(Lang::from_tag("de"), Lang::De);
        assert_eq!(Lang::from_tag("it-IT"), Lang::It);
        assert_eq!(Lang::from_tag("ja-JP"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
    }
}
