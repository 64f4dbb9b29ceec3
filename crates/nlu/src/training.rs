//! What the NLU is trained from: an assistant's tasks, samples, fields and
//! custom field types, in the shape Autopilot kept them (reference sections 9
//! and 10), independent of how they were stored.

use serde::{Deserialize, Serialize};

use crate::text::Language;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainingData {
    pub language: Language,
    pub tasks: Vec<TaskData>,
    pub field_types: Vec<CustomFieldType>,
    /// Utterances known to be out of scope (none in a usual Autopilot
    /// assistant); when given, the model learns them as a class of their own.
    #[serde(default)]
    pub out_of_scope: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TaskData {
    pub name: String,
    pub samples: Vec<Sample>,
    pub fields: Vec<FieldData>,
}

/// A training utterance of a task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Sample {
    /// Autopilot's form: `book a table for {party_size} on {date}`. Tags carry
    /// no value, so training fills them with values of the field's type.
    Tagged(String),
    /// A real utterance with the words of each field marked, as a data set
    /// (or a user who highlights the value in a sample) gives it. The values
    /// stay in their context, which tells tasks apart better than values
    /// drawn at random from a type shared by several tasks.
    Annotated {
        text: String,
        fields: Vec<Annotation>,
    },
}

/// The words of one field in an annotated sample (byte offsets into its text).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Annotation {
    pub field: String,
    pub start: usize,
    pub end: usize,
}

impl From<&str> for Sample {
    fn from(tagged: &str) -> Sample {
        Sample::Tagged(tagged.to_string())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FieldData {
    pub name: String,
    /// `Twilio.NUMBER`-style built-in name, or a custom field type's name.
    pub field_type: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CustomFieldType {
    pub name: String,
    pub values: Vec<CustomValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomValue {
    pub value: String,
    /// The canonical value this one stands for (`nope` → `No`).
    pub synonym_of: Option<String>,
}

/// A piece of a tagged sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// Splits a tagged sample into text and `{field}` tags. A brace that does not
/// enclose a plausible field name (letters, digits, `_`, `-`, `.`) is text.
pub fn segments(tagged: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let bytes = tagged.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'{'
            && let Some(len) = tagged[i + 1..].find('}')
        {
            let name = &tagged[i + 1..i + 1 + len];
            if is_field_name(name) {
                if text_start < i {
                    out.push(Segment::Text(&tagged[text_start..i]));
                }
                out.push(Segment::Field(name));
                i += len + 2;
                text_start = i;
                continue;
            }
        }
        i += 1;
    }
    if text_start < tagged.len() {
        out.push(Segment::Text(&tagged[text_start..]));
    }
    out
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A problem in the training data, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct TrainingError {
    pub location: String,
    pub message: String,
}

impl TrainingData {
    /// Checks what training relies on: unique task names, samples whose tags
    /// name a field of their task, fields whose type exists.
    pub fn validate(&self) -> Result<(), Vec<TrainingError>> {
        let mut problems = Vec::new();
        let mut problem =
            |location: String, message: String| problems.push(TrainingError { location, message });
        let mut names = std::collections::HashSet::new();
        for (t, task) in self.tasks.iter().enumerate() {
            let at = format!("tasks[{t}] ({})", task.name);
            if task.name.trim().is_empty() {
                problem(format!("tasks[{t}]"), "the task has no name".into());
            }
            if !names.insert(task.name.as_str()) {
                problem(at.clone(), "another task has the same name".into());
            }
            for (f, field) in task.fields.iter().enumerate() {
                if !self.type_exists(&field.field_type) {
                    problem(
                        format!("{at}.fields[{f}] ({})", field.name),
                        format!(
                            "field type {:?} is neither a Twilio built-in type nor a custom field type of this assistant",
                            field.field_type
                        ),
                    );
                }
            }
            for (s, sample) in task.samples.iter().enumerate() {
                for message in sample_problems(sample, task) {
                    problem(format!("{at}.samples[{s}]"), message);
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn type_exists(&self, name: &str) -> bool {
        otto_builtin_types::BuiltinType::from_name(name).is_some()
            || self.field_types.iter().any(|t| t.name == name)
    }

    pub fn custom_type(&self, name: &str) -> Option<&CustomFieldType> {
        self.field_types.iter().find(|t| t.name == name)
    }
}

fn sample_problems(sample: &Sample, task: &TaskData) -> Vec<String> {
    let has_field = |name: &str| task.fields.iter().any(|f| f.name == name);
    let mut problems = Vec::new();
    match sample {
        Sample::Tagged(tagged) => {
            for segment in segments(tagged) {
                if let Segment::Field(name) = segment
                    && !has_field(name)
                {
                    problems.push(format!("tag {{{name}}} names no field of this task"));
                }
            }
        }
        Sample::Annotated { text, fields } => {
            let mut previous_end = 0;
            for a in fields {
                if !has_field(&a.field) {
                    problems.push(format!(
                        "annotation {:?} names no field of this task",
                        a.field
                    ));
                }
                let inside = a.start < a.end
                    && a.end <= text.len()
                    && text.is_char_boundary(a.start)
                    && text.is_char_boundary(a.end);
                if !inside || a.start < previous_end {
                    problems.push(format!(
                        "annotation {:?} at bytes {}..{} is not a separate span of the {}-byte text",
                        a.field,
                        a.start,
                        a.end,
                        text.len()
                    ));
                }
                previous_end = a.end;
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tags_from_text() {
        assert_eq!(
            segments("book for {party_size} on {date}"),
            [
                Segment::Text("book for "),
                Segment::Field("party_size"),
                Segment::Text(" on "),
                Segment::Field("date"),
            ]
        );
        assert_eq!(segments("{item}"), [Segment::Field("item")]);
    }

    #[test]
    fn stray_braces_are_text() {
        assert_eq!(segments("a { b } c"), [Segment::Text("a { b } c")]);
        assert_eq!(segments("open {"), [Segment::Text("open {")]);
        assert_eq!(segments("{}"), [Segment::Text("{}")]);
    }

    #[test]
    fn validation_names_the_problem() {
        let data = TrainingData {
            tasks: vec![TaskData {
                name: "order".into(),
                samples: vec![
                    "a {size} pizza".into(),
                    Sample::Annotated {
                        text: "two pizzas".into(),
                        fields: vec![Annotation {
                            field: "count".into(),
                            start: 0,
                            end: 30,
                        }],
                    },
                ],
                fields: vec![FieldData {
                    name: "count".into(),
                    field_type: "Pizza.COUNT".into(),
                }],
            }],
            ..Default::default()
        };
        let problems = data.validate().unwrap_err();
        assert_eq!(problems.len(), 3);
        assert_eq!(
            problems[0].to_string(),
            "tasks[0] (order).fields[0] (count): field type \"Pizza.COUNT\" is neither a Twilio built-in type nor a custom field type of this assistant"
        );
        assert_eq!(
            problems[1].to_string(),
            "tasks[0] (order).samples[0]: tag {size} names no field of this task"
        );
        assert_eq!(
            problems[2].to_string(),
            "tasks[0] (order).samples[1]: annotation \"count\" at bytes 0..30 is not a separate span of the 10-byte text"
        );
    }
}
