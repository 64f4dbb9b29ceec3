//! The embedded data tables (`data/*.txt`), parsed once on first use.
//!
//! Line format: `|`-separated fields, the last being `;`-separated aliases. An alias (or the
//! first field) may start with `~` (also a common word: only trusted capitalised in free
//! text) and then `xx:` (used only for that language in free text). `#` starts a comment.

use crate::Lang;
use crate::phrases::{ALL_LANGS, Phrases, bit};

pub(crate) const COUNTRIES: &str = include_str!("../data/countries.txt");
pub(crate) const LANGUAGES: &str = include_str!("../data/languages.txt");
pub(crate) const CURRENCIES: &str = include_str!("../data/currencies.txt");
pub(crate) const CITIES: &str = include_str!("../data/cities.txt");
pub(crate) const US_STATES: &str = include_str!("../data/us_states.txt");
pub(crate) const FIRST_NAMES: &str = include_str!("../data/first_names.txt");
pub(crate) const LAST_NAMES: &str = include_str!("../data/last_names.txt");

/// A name or alias with its flags.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Alias {
    pub text: &'static str,
    pub langs: u8,
    pub ambiguous: bool,
}

/// One line of a table.
#[derive(Debug)]
pub(crate) struct Row {
    /// The fields before the aliases; `~` removed from the first.
    pub fields: Vec<&'static str>,
    /// The first field and the aliases.
    pub names: Vec<Alias>,
}

fn alias(raw: &'static str) -> Option<Alias> {
    let raw = raw.trim();
    let (ambiguous, rest) = match raw.strip_prefix('~') {
        Some(r) => (true, r),
        None => (false, raw),
    };
    let (langs, text) = match rest.split_once(':') {
        Some((tag, text)) if tag.len() == 2 && tag.bytes().all(|b| b.is_ascii_lowercase()) => {
            let lang = Lang::ALL.iter().find(|l| l.code() == tag)?;
            (bit(*lang), text)
        }
        _ => (ALL_LANGS, rest),
    };
    (!text.is_empty()).then_some(Alias {
        text,
        langs,
        ambiguous,
    })
}

/// Parses a table whose rows have `fields` fields before the alias list.
pub(crate) fn rows(src: &'static str, fields: usize) -> Vec<Row> {
    let mut out = Vec::new();
    for line in src.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&'static str> = line.split('|').collect();
        let Some(first) = parts.first().and_then(|p| alias(p)) else {
            continue;
        };
        let mut row = Row {
            fields: parts
                .iter()
                .take(fields)
                .map(|p| p.trim().trim_start_matches('~'))
                .collect(),
            names: vec![first],
        };
        while row.fields.len() < fields {
            row.fields.push("");
        }
        if let Some(aliases) = parts.get(fields) {
            row.names.extend(aliases.split(';').filter_map(alias));
        }
        out.push(row);
    }
    out
}

/// A phrase index of every name of every row, valued by row number, skipping the first
/// field when `first_is_name` is false (currency codes).
pub(crate) fn index(rows: &[Row], first_is_name: bool) -> Phrases<u16> {
    let mut p = Phrases::new();
    for (n, row) in rows.iter().enumerate() {
        let skip = usize::from(!first_is_name);
        for a in row.names.iter().skip(skip) {
            p.insert(a.text, n as u16, a.langs, a.ambiguous);
        }
    }
    p
}

/// One word per line (names lists).
pub(crate) fn words(src: &'static str) -> impl Iterator<Item = &'static str> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_languages() {
        let rows = rows("# c\n~Chad|TD|TCD|es:Chad;~fr:Tchad;Tchad\n", 3);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].fields, ["Chad", "TD", "TCD"]);
        assert!(rows[0].names[0].ambiguous);
        assert_eq!(rows[0].names[1].langs, bit(Lang::Es));
        assert!(rows[0].names[2].ambiguous && rows[0].names[2].langs == bit(Lang::Fr));
        assert_eq!(rows[0].names[3].langs, ALL_LANGS);
    }

    #[test]
    fn every_table_parses() {
        assert!(rows(COUNTRIES, 3).len() >= 240);
        assert!(rows(LANGUAGES, 2).len() >= 90);
        assert!(rows(CURRENCIES, 3).len() >= 150);
        assert!(rows(CITIES, 2).len() >= 500);
        assert!(rows(US_STATES, 2).len() >= 51);
        assert!(words(FIRST_NAMES).count() >= 1500);
        assert!(words(LAST_NAMES).count() >= 2000);
    }
}
