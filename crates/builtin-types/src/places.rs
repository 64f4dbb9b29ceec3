//! Table-driven place and language names: `Twilio.CITY`, `Twilio.US_STATE`,
//! `Twilio.COUNTRY`, `Twilio.COUNTRY_ISO_ALPHA2/3` and `Twilio.LANGUAGE`.
//!
//! Each table lists a canonical name and aliases in six languages ("NYC" → New York,
//! "Alemania" → Germany, "español" → Spanish). In free text an alias of another language
//! than the user's (or English) is ignored, a name that is also a common word ("Nice",
//! "Chad") must be capitalised, and a code ("CA", "FR") must be written in capitals in
//! mixed-case text. A whole answer may use any of them.

use std::sync::LazyLock;

use crate::data::{self, Row};
use crate::phrases::{ALL_LANGS, FnvMap, Hit, Phrases, with_english};
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

/// A table with its phrase index and code look-up.
pub(crate) struct Table {
    pub rows: Vec<Row>,
    pub index: Phrases<u16>,
    /// Lowercase code → row.
    codes: FnvMap<String, u16>,
}

impl Table {
    fn new(src: &'static str, fields: usize, code_fields: &[usize]) -> Table {
        let rows = data::rows(src, fields);
        let index = data::index(&rows, true);
        let mut codes = FnvMap::default();
        for (n, row) in rows.iter().enumerate() {
            for &f in code_fields {
                let code = row.fields[f].to_ascii_lowercase();
                if !code.is_empty() {
                    codes.entry(code).or_insert(n as u16);
                }
            }
        }
        Table { rows, index, codes }
    }

    /// The name row at token `i`: (row, token past it).
    pub fn name_at(&self, toks: &Toks, i: usize, lang: Lang, mode: Mode) -> Option<(u16, usize)> {
        let langs = match mode {
            Mode::Find => with_english(lang),
            Mode::Answer => ALL_LANGS,
        };
        let hit = self
            .index
            .longest(toks, i, langs, |h| trusted(toks, i, h, mode))?;
        Some((hit.value, hit.end))
    }

    /// A code at token `i` ("FR", "USA", "CA").
    fn code_at(&self, toks: &Toks, i: usize, mode: Mode, deny: &[&str]) -> Option<u16> {
        if !toks.is_word(i) {
            return None;
        }
        let t = toks.toks[i];
        let alone = toks
            .toks
            .iter()
            .filter(|t| t.kind != crate::text::Kind::Punct)
            .count()
            == 1;
        let ok = match mode {
            Mode::Answer => alone || t.upper,
            Mode::Find => t.upper && toks.case_informative() && !deny.contains(&toks.raw(i)),
        };
        if !ok {
            return None;
        }
        self.codes.get(toks.norm(i)).copied()
    }
}

/// Whether a name hit is trustworthy where it stands.
fn trusted(toks: &Toks, i: usize, hit: &Hit<u16>, mode: Mode) -> bool {
    if !hit.ambiguous {
        return true;
    }
    let t = toks.toks[i];
    // "LA", "SF": as written in capitals (or alone as an answer).
    let raw = toks.raw(i);
    if raw.len() <= 3 && hit.end == i + 1 {
        return t.upper || (mode == Mode::Answer && alone(toks));
    }
    // "Nice", "Chad": capitalised inside a sentence; anywhere in an answer.
    mode == Mode::Answer || (t.cap && toks.case_informative() && (i > 0 || hit.end > i + 1))
}

/// The text is a single word (give or take punctuation).
fn alone(toks: &Toks) -> bool {
    toks.toks
        .iter()
        .filter(|t| t.kind != crate::text::Kind::Punct)
        .count()
        == 1
}

pub(crate) static COUNTRIES: LazyLock<Table> =
    LazyLock::new(|| Table::new(data::COUNTRIES, 3, &[1, 2]));
pub(crate) static LANGUAGES: LazyLock<Table> =
    LazyLock::new(|| Table::new(data::LANGUAGES, 2, &[]));
pub(crate) static CITIES: LazyLock<Table> = LazyLock::new(|| Table::new(data::CITIES, 2, &[]));
pub(crate) static STATES: LazyLock<Table> = LazyLock::new(|| Table::new(data::US_STATES, 2, &[1]));

/// Capitalised words that are codes but far more often something else.
const COUNTRY_CODE_DENY: &[&str] = &[
    "AM", "AS", "AT", "BE", "BY", "DO", "GO", "HE", "IN", "IS", "IT", "ME", "MY", "NO", "SO", "TO",
    "AND", "ARE", "CAN", "PER", "MAR", "NOR", "TV", "ID", "PM", "ST", "AI", "CV", "PS", "MS",
];
const STATE_CODE_DENY: &[&str] = &["IN", "OR", "ME", "HI", "OK", "OH", "ID", "AS", "LA", "PM"];

/// Which country field a type wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CountryField {
    Name,
    Alpha2,
    Alpha3,
}

/// Runs `at` at every token, left to right, keeping what it finds.
fn scan(toks: &Toks, out: &mut Vec<Cand>, mut at: impl FnMut(usize) -> Option<(String, usize)>) {
    let mut i = 0;
    while i < toks.len() {
        match at(i) {
            Some((value, end)) if end > i => {
                out.push(Cand::new(i, end, value));
                i = end;
            }
            _ => i += 1,
        }
    }
}

pub(crate) fn find_country(
    toks: &Toks,
    lang: Lang,
    mode: Mode,
    field: CountryField,
    out: &mut Vec<Cand>,
) {
    let t = &*COUNTRIES;
    let value = |row: u16| {
        let f = &t.rows[row as usize].fields;
        match field {
            CountryField::Name => f[0],
            CountryField::Alpha2 => f[1],
            CountryField::Alpha3 => f[2],
        }
        .to_string()
    };
    scan(toks, out, |i| {
        if let Some((row, end)) = t.name_at(toks, i, lang, mode) {
            return Some((value(row), end));
        }
        t.code_at(toks, i, mode, COUNTRY_CODE_DENY)
            .map(|row| (value(row), i + 1))
    });
}

pub(crate) fn find_state(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let t = &*STATES;
    scan(toks, out, |i| {
        if let Some((row, end)) = t.name_at(toks, i, lang, mode) {
            return Some((t.rows[row as usize].fields[0].to_string(), end));
        }
        t.code_at(toks, i, mode, STATE_CODE_DENY)
            .map(|row| (t.rows[row as usize].fields[0].to_string(), i + 1))
    });
}

pub(crate) fn find_city(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let t = &*CITIES;
    scan(toks, out, |i| {
        t.name_at(toks, i, lang, mode)
            .map(|(row, end)| (t.rows[row as usize].fields[0].to_string(), end))
    });
}

pub(crate) fn find_language(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let t = &*LANGUAGES;
    scan(toks, out, |i| {
        t.name_at(toks, i, lang, mode)
            .map(|(row, end)| (t.rows[row as usize].fields[0].to_string(), end))
    });
}

/// Is the phrase at token `i` a place name (any table)? Used by names to reject "Paris".
pub(crate) fn is_place_at(toks: &Toks, i: usize) -> bool {
    let any = |t: &Table| t.index.at(toks, i, ALL_LANGS).is_some();
    any(&CITIES) || any(&COUNTRIES) || any(&STATES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        f: impl Fn(&Toks, Lang, Mode, &mut Vec<Cand>),
        text: &str,
        lang: Lang,
        mode: Mode,
    ) -> Vec<String> {
        let mut out = Vec::new();
        f(&Toks::new(text), lang, mode, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    fn countries(text: &str, lang: Lang, field: CountryField) -> Vec<String> {
        let mut out = Vec::new();
        find_country(&Toks::new(text), lang, Mode::Find, field, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn countries_by_name_alias_and_code() {
        use CountryField::*;
        assert_eq!(
            countries("I live in the USA", Lang::En, Name),
            ["United States"]
        );
        assert_eq!(countries("vivo en Alemania", Lang::Es, Name), ["Germany"]);
        assert_eq!(countries("j'habite en Allemagne", Lang::Fr, Alpha2), ["DE"]);
        assert_eq!(countries("from France", Lang::En, Alpha3), ["FRA"]);
        assert_eq!(
            countries("shipping to FR please", Lang::En, Alpha3),
            ["FRA"]
        );
        assert_eq!(countries("Côte d'Ivoire", Lang::En, Alpha2), ["CI"]);
        assert!(countries("in it to win it", Lang::En, Name).is_empty());
        assert!(countries("my friend chad", Lang::En, Name).is_empty());
        assert_eq!(countries("I flew to Chad", Lang::En, Name), ["Chad"]);
    }

    #[test]
    fn states_cities_languages() {
        assert_eq!(
            run(find_state, "I'm in CA", Lang::En, Mode::Find),
            ["California"]
        );
        assert_eq!(
            run(find_state, "calif", Lang::En, Mode::Find),
            ["California"]
        );
        assert_eq!(
            run(find_state, "north carolina", Lang::En, Mode::Find),
            ["North Carolina"]
        );
        assert!(run(find_state, "I am in or near ok", Lang::En, Mode::Find).is_empty());
        assert_eq!(run(find_state, "ok", Lang::En, Mode::Answer), ["Oklahoma"]);
        assert_eq!(
            run(find_city, "flying to NYC", Lang::En, Mode::Find),
            ["New York"]
        );
        assert_eq!(
            run(find_city, "São Paulo", Lang::Pt, Mode::Find),
            ["São Paulo"]
        );
        assert_eq!(
            run(find_city, "sao paulo", Lang::En, Mode::Find),
            ["São Paulo"]
        );
        assert_eq!(
            run(find_city, "voy a Londres", Lang::Es, Mode::Find),
            ["London"]
        );
        assert_eq!(run(find_city, "München", Lang::De, Mode::Find), ["Munich"]);
        assert!(run(find_city, "that's nice", Lang::En, Mode::Find).is_empty());
        assert_eq!(
            run(find_language, "hablo español", Lang::Es, Mode::Find),
            ["Spanish"]
        );
        assert_eq!(
            run(find_language, "Deutsch bitte", Lang::De, Mode::Find),
            ["German"]
        );
        assert_eq!(
            run(find_language, "in Mandarin", Lang::En, Mode::Find),
            ["Chinese"]
        );
    }
}
