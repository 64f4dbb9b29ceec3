//! Text handling shared by every NLU stage: language tags, tokenisation,
//! normalisation and stemming.
//!
//! Every token keeps its byte span in the original utterance, so field values
//! can always be reported "as said" even though matching works on normalised
//! forms.

mod language;
mod normalize;
mod stem;
mod tokenize;

pub use language::Language;
pub use normalize::{fold, fold_into};
pub use stem::Stemmer;
pub use tokenize::{Token, TokenKind, tokenize};
