//! Turning tagged samples into training utterances.
//!
//! Autopilot samples carry tags, not values (`book a table for {party_size}`),
//! so each tag is filled with a value of the field's type: one of the custom
//! type's values and synonyms, or an example of the built-in type. The
//! classifier then learns from realistic utterances and the tagger learns
//! where values sit.

use otto_builtin_types::BuiltinType;

use crate::rng::SplitMix;
use crate::text::Language as Lang;
use crate::training::{Sample, Segment, TaskData, TrainingData, segments};

/// A sample with its tags filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filled {
    pub text: String,
    /// `(field index in the task, byte start, byte end)` of each filled tag.
    pub spans: Vec<(usize, usize, usize)>,
}

/// The sample as a training utterance. An annotated sample keeps its own
/// values unless `fresh_values` asks for values drawn from the field types
/// (more variety for the tagger); a tagged one always draws them.
pub(crate) fn fill_sample(
    sample: &Sample,
    task: &TaskData,
    data: &TrainingData,
    fresh_values: bool,
    rng: &mut SplitMix,
) -> Filled {
    match sample {
        Sample::Tagged(tagged) => fill_tags(tagged, task, data, rng),
        Sample::Annotated { text, fields } => {
            let mut filled = Filled {
                text: String::with_capacity(text.len() + 16),
                spans: Vec::new(),
            };
            let mut position = 0;
            for annotation in fields {
                let Some(index) = task.fields.iter().position(|f| f.name == annotation.field)
                else {
                    continue;
                };
                filled.text.push_str(&text[position..annotation.start]);
                let start = filled.text.len();
                if fresh_values {
                    let field = &task.fields[index];
                    filled
                        .text
                        .push_str(&example_value(&field.field_type, &field.name, data, rng));
                } else {
                    filled
                        .text
                        .push_str(&text[annotation.start..annotation.end]);
                }
                filled.spans.push((index, start, filled.text.len()));
                position = annotation.end;
            }
            filled.text.push_str(&text[position..]);
            filled
        }
    }
}

fn fill_tags(tagged: &str, task: &TaskData, data: &TrainingData, rng: &mut SplitMix) -> Filled {
    let mut filled = Filled {
        text: String::with_capacity(tagged.len() + 16),
        spans: Vec::new(),
    };
    for segment in segments(tagged) {
        match segment {
            Segment::Text(text) => filled.text.push_str(text),
            Segment::Field(name) => {
                let Some(index) = task.fields.iter().position(|f| f.name == name) else {
                    filled.text.push_str(name);
                    continue;
                };
                let value = example_value(&task.fields[index].field_type, name, data, rng);
                let start = filled.text.len();
                filled.text.push_str(&value);
                filled.spans.push((index, start, filled.text.len()));
            }
        }
    }
    filled
}

fn example_value(field_type: &str, field: &str, data: &TrainingData, rng: &mut SplitMix) -> String {
    if let Some(builtin) = BuiltinType::from_name(field_type) {
        let examples = builtin_examples(builtin, data.language);
        return examples[rng.below(examples.len())].to_string();
    }
    match data.custom_type(field_type) {
        Some(t) if !t.values.is_empty() => t.values[rng.below(t.values.len())].value.clone(),
        // A type without values: the field's name is the best stand-in word.
        _ => field.replace(['_', '-', '.'], " "),
    }
}

/// Typical values of each built-in type, used to fill tags in samples.
pub(super) fn builtin_examples(ty: BuiltinType, language: Lang) -> &'static [&'static str] {
    use BuiltinType::*;
    if language != Lang::English
        && let Some(examples) = localised_examples(ty, language)
    {
        return examples;
    }
    match ty {
        Number => &["4", "twenty", "3", "12", "two", "100", "one"],
        NumberSequence => &["12345", "4155550100", "0042", "987654"],
        Alphanumeric => &["AB123", "X7Y9Z", "2B4C6D", "K9"],
        PhoneNumber => &["+1 415 555 0100", "4155550100", "(212) 555-0199"],
        YesNo => &["yes", "no", "yeah", "nope"],
        Date => &["tomorrow", "next friday", "march 3rd", "today", "12/24"],
        Time => &["3pm", "noon", "7:30", "8 in the morning", "10 am"],
        FirstName => &["John", "Maria", "Alex", "Priya", "Wei"],
        LastName => &["Smith", "Garcia", "Nguyen", "Müller", "Rossi"],
        Email => &["jane@example.com", "bob.smith@mail.com"],
        City => &["Paris", "New York", "London", "Tokyo", "Chicago"],
        UsState => &["California", "Texas", "New York", "Ohio"],
        Country => &["France", "Japan", "Brazil", "Canada"],
        CountryIsoAlpha2 => &["US", "FR", "DE"],
        CountryIsoAlpha3 => &["USA", "FRA", "DEU"],
        Language => &["Spanish", "French", "English", "German"],
        Currency => &["dollars", "euros", "$20", "10 pounds"],
        DayOfWeek => &["Monday", "Friday", "Sunday"],
        Month => &["January", "March", "October"],
    }
}

fn localised_examples(ty: BuiltinType, language: Lang) -> Option<&'static [&'static str]> {
    use BuiltinType::*;
    use Lang::*;
    Some(match (ty, language) {
        (Number, Spanish) => &["4", "veinte", "tres", "12"],
        (Number, French) => &["4", "vingt", "trois", "12"],
        (Number, German) => &["4", "zwanzig", "drei", "12"],
        (Number, Italian) => &["4", "venti", "tre", "12"],
        (Number, Portuguese) => &["4", "vinte", "três", "12"],
        (YesNo, Spanish) => &["sí", "no"],
        (YesNo, French) => &["oui", "non"],
        (YesNo, German) => &["ja", "nein"],
        (YesNo, Italian) => &["sì", "no"],
        (YesNo, Portuguese) => &["sim", "não"],
        (Date, Spanish) => &["mañana", "hoy", "el viernes"],
        (Date, French) => &["demain", "aujourd'hui", "vendredi"],
        (Date, German) => &["morgen", "heute", "Freitag"],
        (Date, Italian) => &["domani", "oggi", "venerdì"],
        (Date, Portuguese) => &["amanhã", "hoje", "sexta-feira"],
        (Time, Spanish) => &["a las 3", "15:00"],
        (Time, French) => &["15h", "midi"],
        (Time, German) => &["15 Uhr", "Mittag"],
        (Time, Italian) => &["alle 15", "mezzogiorno"],
        (Time, Portuguese) => &["às 15h", "meio-dia"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::{CustomFieldType, CustomValue, FieldData};

    #[test]
    fn fills_tags_with_values_of_their_type() {
        let data = TrainingData {
            field_types: vec![CustomFieldType {
                name: "Pizza.SIZE".into(),
                values: vec![CustomValue {
                    value: "large".into(),
                    synonym_of: None,
                }],
            }],
            ..Default::default()
        };
        let task = TaskData {
            name: "order".into(),
            samples: vec![],
            fields: vec![
                FieldData {
                    name: "size".into(),
                    field_type: "Pizza.SIZE".into(),
                },
                FieldData {
                    name: "count".into(),
                    field_type: "Twilio.NUMBER".into(),
                },
            ],
        };
        let sample = Sample::from("{count} {size} pizzas");
        let filled = fill_sample(&sample, &task, &data, false, &mut SplitMix(1));
        let (_, start, end) = filled.spans[1];
        assert_eq!(&filled.text[start..end], "large");
        assert!(filled.text.ends_with(" large pizzas"));
        let (field, start, end) = filled.spans[0];
        assert_eq!(field, 1);
        assert!(
            builtin_examples(BuiltinType::Number, Lang::English)
                .contains(&&filled.text[start..end])
        );
    }
}
