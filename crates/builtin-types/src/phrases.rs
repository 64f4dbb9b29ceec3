//! A table of multi-word phrases ("new york", "day after tomorrow", "vingt et un"), looked up
//! at a token position, longest phrase first.
//!
//! Keys are tokenised with the same tokeniser as the input, so folding, punctuation and
//! letter/digit splits agree by construction. Hyphens, apostrophes and periods between the
//! words of a phrase are optional on both sides ("St. Louis" = "St Louis", "Xi'an" = "Xi an",
//! "sexta-feira" = "sexta feira").

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Lang;
use crate::text::{Kind, Toks};

/// Every language (a bit per `Lang`).
pub(crate) const ALL_LANGS: u8 = 0x3f;

/// What a look-up found.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit<V> {
    /// Token index just past the phrase.
    pub end: usize,
    pub value: V,
    /// The phrase is also a common word ("Nice", "Chad"): only trust it capitalised.
    pub ambiguous: bool,
}

struct Entry<V> {
    rest: Box<[Box<str>]>,
    value: V,
    langs: u8,
    ambiguous: bool,
}

/// FNV-1a: keys are short words, so a simple hash beats SipHash here.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

pub(crate) struct Phrases<V> {
    by_first: FnvMap<Box<str>, Vec<Entry<V>>>,
}

impl<V: Copy + PartialEq> Phrases<V> {
    pub fn new() -> Self {
        Phrases {
            by_first: FnvMap::default(),
        }
    }

    /// Adds `phrase` for the languages in `langs` (bits of `Lang`).
    pub fn insert(&mut self, phrase: &str, value: V, langs: u8, ambiguous: bool) {
        let words = key_words(phrase);
        let Some((first, rest)) = words.split_first() else {
            return;
        };
        let entries = self.by_first.entry(first.as_str().into()).or_default();
        let rest: Box<[Box<str>]> = rest.iter().map(|w| w.as_str().into()).collect();
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.rest == rest && e.value == value)
        {
            e.langs |= langs;
            e.ambiguous &= ambiguous;
            return;
        }
        entries.push(Entry {
            rest,
            value,
            langs,
            ambiguous,
        });
        // Longest first, so the first hit is the longest.
        entries.sort_by_key(|e| std::cmp::Reverse(e.rest.len()));
    }

    /// The longest phrase starting at token `i` for a language in `langs` that `accept`s.
    pub fn longest(
        &self,
        toks: &Toks,
        i: usize,
        langs: u8,
        accept: impl Fn(&Hit<V>) -> bool,
    ) -> Option<Hit<V>> {
        if !matches!(toks.kind(i), Some(Kind::Word | Kind::Num)) {
            return None;
        }
        let entries = self.by_first.get(toks.norm(i))?;
        for e in entries {
            if e.langs & langs == 0 {
                continue;
            }
            if let Some(end) = match_rest(toks, i + 1, &e.rest) {
                let hit = Hit {
                    end,
                    value: e.value,
                    ambiguous: e.ambiguous,
                };
                if accept(&hit) {
                    return Some(hit);
                }
            }
        }
        None
    }

    /// Like `longest`, accepting any hit.
    pub fn at(&self, toks: &Toks, i: usize, langs: u8) -> Option<Hit<V>> {
        self.longest(toks, i, langs, |_| true)
    }
}

/// Matches the remaining key words from token `j`; returns the index past the last one.
fn match_rest(toks: &Toks, mut j: usize, rest: &[Box<str>]) -> Option<usize> {
    for w in rest {
        if is_joiner(toks, j) && toks.kind(j + 1).is_some_and(|k| k != Kind::Punct) {
            j += 1;
        }
        if toks.norm(j) != &**w || j >= toks.len() {
            return None;
        }
        j += 1;
    }
    Some(j)
}

/// Punctuation that may join or separate the words of a phrase.
pub(crate) fn is_joiner(toks: &Toks, j: usize) -> bool {
    toks.kind(j) == Some(Kind::Punct) && matches!(toks.norm(j), "-" | "'" | "." | "‐" | "–")
}

/// The folded words of a key, without joiners.
fn key_words(phrase: &str) -> Vec<String> {
    let toks = Toks::new(phrase);
    (0..toks.len())
        .filter(|&i| !is_joiner(&toks, i))
        .map(|i| toks.norm(i).to_string())
        .collect()
}

/// The bit of one language.
pub(crate) fn bit(lang: Lang) -> u8 {
    1 << lang as u8
}

/// `lang` plus English, which users mix into every language ("ok", "3pm").
pub(crate) fn with_english(lang: Lang) -> u8 {
    bit(lang) | bit(Lang::En)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_longest_phrase_and_skips_joiners() {
        let mut p = Phrases::new();
        p.insert("new york", 1, ALL_LANGS, false);
        p.insert("new york city", 2, ALL_LANGS, false);
        p.insert("new", 3, ALL_LANGS, false);
        let t = Toks::new("I love New-York City!");
        let hit = p.at(&t, 2, ALL_LANGS).unwrap();
        assert_eq!((hit.end, hit.value), (6, 2));
        let t = Toks::new("new yorker");
        assert_eq!(p.at(&t, 0, ALL_LANGS).unwrap().value, 3);
    }

    #[test]
    fn respects_languages() {
        let mut p = Phrases::new();
        p.insert("mañana", 1, bit(Lang::Es), false);
        let t = Toks::new("manana");
        assert!(p.at(&t, 0, bit(Lang::Es)).is_some());
        assert!(p.at(&t, 0, bit(Lang::En)).is_none());
    }
}
