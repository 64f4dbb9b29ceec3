//! otto's natural-language understanding.
//!
//! Trained from what an Autopilot assistant holds (tasks with tagged samples,
//! fields, custom field types), a [`Model`] turns one utterance into a ranked
//! list of tasks with calibrated probabilities, Autopilot's confidence figure,
//! an out-of-scope decision and the fields found. It knows nothing of
//! dialogues, storage or HTTP.
//!
//! Pipeline: [`text`] (tokenise, fold, stem) → [`features`] (word and
//! character n-grams, TF-IDF) → [`classify`] (one-vs-rest linear SVMs, close
//! calls re-ranked by the nearest training utterances,
//! softmax calibration, out-of-scope threshold) → [`fields`] (custom values
//! and synonyms, a CRF per task for values never listed, built-in types).
//! A close call between tasks with open fields (names, titles) is re-ranked
//! by each task's score on the utterance without the values its field
//! extractor finds.

pub mod classify;
pub mod dataset;
pub mod embeddings;
pub mod eval;
pub mod features;
pub mod fields;
pub mod model;
mod parallel;
mod rng;
mod sorted_map;
pub mod text;
pub mod training;

pub use model::{
    FieldMatch, MODEL_FORMAT_VERSION, Model, ModelError, Parse, ParseOptions, TaskScore,
    TrainOptions, TrainProgress,
};
pub use text::Language;
pub use training::{
    Annotation, CustomFieldType, CustomValue, FieldData, Sample, TaskData, TrainingData,
    TrainingError,
};
