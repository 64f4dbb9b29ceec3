use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{Language, Token, TokenKind};

/// A stemmer that remembers the stems of the training vocabulary.
///
/// Snowball stemming costs about a microsecond a word; an utterance mostly
/// repeats words seen in training, so looking their stems up keeps parsing
/// fast. The cache is part of the model, so a model keeps the stems it was
/// trained with even if the stemmer library changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stemmer {
    language: Language,
    #[serde(with = "crate::sorted_map")]
    known: FxHashMap<String, String>,
}

impl Stemmer {
    pub fn new(language: Language) -> Stemmer {
        Stemmer {
            language,
            known: FxHashMap::default(),
        }
    }

    /// Stems `tokens` and remembers the stems of their words.
    pub fn learn(&mut self, tokens: &[Token]) {
        let stemmer = self.language.stemmer();
        for token in tokens.iter().filter(|t| t.kind == TokenKind::Word) {
            if !self.known.contains_key(&token.norm) {
                let stem = stemmer.stem(&token.norm).into_owned();
                self.known.insert(token.norm.clone(), stem);
            }
        }
    }

    /// Remembers the stems `other` remembers (the same stemmer on other
    /// words: a word has one stem whoever computed it).
    pub fn absorb(&mut self, other: Stemmer) {
        for (word, stem) in other.known {
            self.known.entry(word).or_insert(stem);
        }
    }

    /// The words whose stems are remembered (the training vocabulary).
    pub fn words(&self) -> impl Iterator<Item = &str> + Clone {
        self.known.keys().map(String::as_str)
    }

    pub fn stem<'a>(&'a self, word: &'a str) -> Cow<'a, str> {
        match self.known.get(word) {
            Some(stem) => Cow::Borrowed(stem),
            None => self.language.stemmer().stem(word),
        }
    }

    /// [`Stemmer::stems`] borrowing what it can: the stems of remembered
    /// words and the folded forms of other tokens (after [`Stemmer::learn`]
    /// on `tokens`, nothing is allocated but the vector).
    pub fn stems_borrowed<'a>(&'a self, tokens: &'a [Token]) -> Vec<Cow<'a, str>> {
        tokens
            .iter()
            .map(|t| match t.kind {
                TokenKind::Word => self.stem(&t.norm),
                _ => Cow::Borrowed(t.norm.as_str()),
            })
            .collect()
    }

    /// One stem per token, aligned with `tokens`: words are stemmed, other
    /// tokens keep their folded form.
    pub fn stems(&self, tokens: &[Token]) -> Vec<String> {
        tokens
            .iter()
            .map(|t| match t.kind {
                TokenKind::Word => self.stem(&t.norm).into_owned(),
                _ => t.norm.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    #[test]
    fn cached_and_computed_stems_agree() {
        let mut stemmer = Stemmer::new(Language::English);
        let tokens = tokenize("Running dogs, 3 cats!", Language::English);
        let fresh = stemmer.stems(&tokens);
        stemmer.learn(&tokens);
        assert_eq!(stemmer.stems(&tokens), fresh);
        assert_eq!(fresh, ["run", "dog", ",", "3", "cat", "!"]);
        let borrowed = stemmer.stems_borrowed(&tokens);
        assert_eq!(borrowed, fresh);
        assert!(borrowed.iter().all(|s| matches!(s, Cow::Borrowed(_))));
        assert!(matches!(stemmer.stem("dogs"), Cow::Borrowed(_)));
        assert_eq!(stemmer.stem("jumping"), "jump");
    }
}
