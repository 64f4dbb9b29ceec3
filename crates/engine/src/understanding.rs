//! The NLU as the engine sees it: a trait implemented elsewhere (otto-nlu).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Classifies utterances and checks typed answers. Implemented by otto's NLU for
/// one trained assistant; the engine is handed the one that belongs to the bot.
pub trait Understanding: Send + Sync {
    /// Classifies `text`. `tasks` restricts the candidates to these unique names
    /// (a pending `listen.tasks`); `None` means every task. `now` anchors
    /// relative dates such as "tomorrow".
    fn parse(&self, text: &str, tasks: Option<&[String]>, now: DateTime<Utc>) -> Understood;

    /// Checks `answer` against a field type (a built-in `Twilio.*` type in its
    /// canonical spelling, or a custom field type's unique name) and returns the
    /// normalised value (`"yes"` → `"Yes"` for `Twilio.YES_NO`), or `None` when
    /// the answer is not a value of that type.
    fn normalize(&self, field_type: &str, answer: &str, now: DateTime<Utc>) -> Option<String>;
}

/// What the NLU made of one utterance.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Understood {
    /// The winning task; `None` when no task is confident enough (the fallback).
    pub task: Option<String>,
    /// `CurrentTaskConfidence`, 0 to 1.
    pub confidence: f64,
    /// The runner-up; `None` when it is the fallback.
    pub next_best_task: Option<String>,
    /// Fields recognised in the utterance.
    pub fields: Vec<RecognizedField>,
}

/// One field value recognised in an utterance (`Field_{name}_Value` / `_Type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecognizedField {
    /// The field's unique name, in the author's casing.
    pub name: String,
    /// `Twilio.NUMBER` or a custom field type's unique name.
    pub field_type: String,
    /// Always a string, as in the Autopilot request.
    pub value: String,
}

impl RecognizedField {
    pub fn new(name: &str, field_type: &str, value: &str) -> RecognizedField {
        RecognizedField {
            name: name.to_owned(),
            field_type: field_type.to_owned(),
            value: value.to_owned(),
        }
    }
}
