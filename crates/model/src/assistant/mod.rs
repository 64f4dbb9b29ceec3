//! The assistant definition: what an import creates and an export writes.

mod defaults;
mod field_types;
mod style_sheet;
mod tagged_text;
mod validate;

pub use defaults::Defaults;
pub use field_types::{BUILTIN_FIELD_TYPES, builtin_field_type};
pub use style_sheet::{CollectStyle, StyleSheet, ValidateStyle, VoiceStyle};
pub use tagged_text::{FieldSpan, FilledSample, Segment, TagError, TaggedText};
pub use validate::{
    FIELD_TYPES_LIMIT, FIELDS_PER_TASK_LIMIT, FRIENDLY_NAME_LIMIT, Problem, SAMPLES_LIMIT,
    Severity, TASKS_LIMIT, UNIQUE_NAME_LIMIT, VALUES_PER_FIELD_TYPE_LIMIT,
};

use serde::{Deserialize, Serialize};

use crate::actions::ActionsDocument;

/// One bot: its settings, custom field types and tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assistant {
    /// Unique per account, at most 64 characters.
    pub unique_name: String,
    /// Display name, at most 255 characters.
    pub friendly_name: String,
    /// Whether live utterances are stored as queries.
    pub log_queries: bool,
    pub defaults: Defaults,
    pub style_sheet: StyleSheet,
    pub field_types: Vec<FieldType>,
    pub tasks: Vec<Task>,
    /// The unique name of the most recent model build, as recorded in an export.
    pub model_build_name: Option<String>,
}

impl Assistant {
    /// An assistant with the given name and nothing else, logging queries as
    /// Autopilot did by default.
    pub fn new(unique_name: &str) -> Assistant {
        Assistant {
            unique_name: unique_name.to_owned(),
            friendly_name: unique_name.to_owned(),
            log_queries: true,
            defaults: Defaults::default(),
            style_sheet: StyleSheet::default(),
            field_types: Vec::new(),
            tasks: Vec::new(),
            model_build_name: None,
        }
    }

    pub fn task(&self, unique_name: &str) -> Option<&Task> {
        self.tasks
            .iter()
            .find(|task| task.unique_name == unique_name)
    }

    pub fn field_type(&self, unique_name: &str) -> Option<&FieldType> {
        self.field_types
            .iter()
            .find(|ft| ft.unique_name == unique_name)
    }
}

/// One thing a user wants to do: its program, slots and training phrases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Unique within the assistant, at most 64 characters.
    pub unique_name: String,
    pub friendly_name: Option<String>,
    /// The stored program.
    pub actions: Option<ActionsDocument>,
    /// A URL answering with the program instead.
    pub actions_url: Option<String>,
    pub fields: Vec<Field>,
    pub samples: Vec<Sample>,
}

impl Task {
    /// A task with a name and nothing else.
    pub fn new(unique_name: &str) -> Task {
        Task {
            unique_name: unique_name.to_owned(),
            friendly_name: None,
            actions: None,
            actions_url: None,
            fields: Vec::new(),
            samples: Vec::new(),
        }
    }

    pub fn field(&self, unique_name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|field| field.unique_name == unique_name)
    }
}

/// A typed slot of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub unique_name: String,
    /// A built-in `Twilio.*` type or a custom field type's unique name.
    pub field_type: String,
}

/// A training utterance; `{field}` tags mark where a field's value sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub language: String,
    /// Kept as written; [`Sample::tags`] parses it.
    pub tagged_text: String,
    /// `voice`, `sms`, `chat`, `alexa`, `google-assistant` or `slack`.
    pub source_channel: Option<String>,
}

impl Sample {
    pub fn new(language: &str, tagged_text: &str) -> Sample {
        Sample {
            language: language.to_owned(),
            tagged_text: tagged_text.to_owned(),
            source_channel: None,
        }
    }

    /// The text split into literal parts and field tags.
    pub fn tags(&self) -> Result<TaggedText, TagError> {
        TaggedText::parse(&self.tagged_text)
    }
}

/// The channels a sample may be tagged with.
pub const SOURCE_CHANNELS: [&str; 6] =
    ["voice", "sms", "chat", "alexa", "google-assistant", "slack"];

/// A custom enumeration of values (an entity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldType {
    pub unique_name: String,
    pub friendly_name: Option<String>,
    pub values: Vec<FieldValue>,
}

/// One value of a custom field type, possibly a synonym of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub language: String,
    pub value: String,
    /// The canonical value this one stands for; `None` for a canonical value.
    pub synonym_of: Option<String>,
}
