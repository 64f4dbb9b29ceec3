//! Turning tagged samples into training utterances.
//!
//! Autopilot samples carry tags, not values (`book a table for {party_size}`),
//! so each tag is filled with a value of the field's type: one of the custom
//! type's values and synonyms, or an example of the built-in type. The
//! classifier then learns from realistic utterances and the tagger learns
//! where values sit.

use otto_builtin_types::BuiltinType;
use rustc_hash::{FxHashMap, FxHashSet};

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

/// Copies of the training utterances without the values of their open
/// fields, for the task classifier. `filled[i]` is an utterance with its
/// class (its task). A field of a task is open when at least `distinct` of
/// its values in the task's utterances differ from each other (lower-cased):
/// names and titles (snips: `movie_name`, `object_name`, `track`, `city`),
/// which nearly never repeat, as against `music_item` or `rating_unit`,
/// which do. Every utterance with a value of an open field gets one copy
/// with all such values cut out (the words around them kept, separated by
/// a space); the others get none. The classifier then learns from the
/// context alone as well as with the names, instead of only learning the
/// names of its training utterances by heart. `open` is [`open_fields`].
pub(crate) fn without_open_values(
    filled: &[(Filled, usize)],
    open: &FxHashSet<(usize, usize)>,
) -> Vec<(String, usize)> {
    let open = |class: usize, field: usize| open.contains(&(class, field));
    let mut copies = Vec::new();
    for (utterance, class) in filled {
        let spans: Vec<(usize, usize)> = utterance
            .spans
            .iter()
            .filter(|&&(field, _, _)| open(*class, field))
            .map(|&(_, start, end)| (start, end))
            .collect();
        if spans.is_empty() {
            continue;
        }
        copies.push((cut(&utterance.text, spans), *class));
    }
    copies
}

/// The open fields of [`without_open_values`]: `(class, field index in the
/// task)` of every field whose distinct values (lower-cased) are at least
/// `distinct` of its values in the class's utterances.
pub(crate) fn open_fields(filled: &[(Filled, usize)], distinct: f32) -> FxHashSet<(usize, usize)> {
    let mut seen: FxHashMap<(usize, usize), (usize, FxHashSet<String>)> = FxHashMap::default();
    for (utterance, class) in filled {
        for &(field, start, end) in &utterance.spans {
            let (count, values) = seen.entry((*class, field)).or_default();
            *count += 1;
            values.insert(utterance.text[start..end].to_lowercase());
        }
    }
    seen.into_iter()
        .filter(|(_, (count, values))| values.len() as f32 >= distinct * *count as f32)
        .map(|(key, _)| key)
        .collect()
}

/// `text` with the byte ranges `spans` cut out, a space in the place of
/// each (the words around a cut stay apart). Spans do not overlap; one
/// starting inside a cut already made is skipped.
pub(crate) fn cut(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut position = 0;
    for (start, end) in spans {
        if start < position {
            continue;
        }
        out.push_str(&text[position..start]);
        out.push(' ');
        position = end;
    }
    out.push_str(&text[position..]);
    out
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

    fn utterance(text: &str, spans: &[(usize, &str)]) -> Filled {
        Filled {
            text: text.into(),
            spans: spans
                .iter()
                .map(|&(field, value)| {
                    let start = text.find(value).expect("the value is in the text");
                    (field, start, start + value.len())
                })
                .collect(),
        }
    }

    #[test]
    fn copies_cut_the_values_of_open_fields_only() {
        // Task 0: field 0 is a title (every value differs), field 1 a kind
        // of work that repeats. Task 1 has no fields.
        let filled = vec![
            (
                utterance("find the song Heat Wave", &[(1, "song"), (0, "Heat Wave")]),
                0,
            ),
            (utterance("play Blue Moon", &[(0, "Blue Moon")]), 0),
            (
                utterance("the song Red Sky please", &[(1, "song"), (0, "Red Sky")]),
                0,
            ),
            (utterance("any song", &[(1, "song")]), 0),
            (utterance("hello there", &[]), 1),
        ];
        let copies = without_open_values(&filled, &open_fields(&filled, 0.9));
        assert_eq!(
            copies,
            vec![
                ("find the song  ".to_string(), 0),
                ("play  ".to_string(), 0),
                ("the song   please".to_string(), 0),
            ]
        );
    }

    #[test]
    fn openness_is_counted_per_task_and_lower_cased() {
        // The same field index means a different field in each task; in
        // task 1 its two values are one value (case aside), so not open.
        let filled = vec![
            (utterance("see Heat Wave", &[(0, "Heat Wave")]), 0),
            (utterance("see Blue Moon", &[(0, "Blue Moon")]), 0),
            (utterance("weather in Paris", &[(0, "Paris")]), 1),
            (utterance("weather in paris today", &[(0, "paris")]), 1),
        ];
        let copies = without_open_values(&filled, &open_fields(&filled, 0.9));
        assert_eq!(copies.len(), 2);
        assert!(copies.iter().all(|(_, class)| *class == 0));
        // With a share of 0.5, one distinct value of two is enough.
        assert_eq!(
            without_open_values(&filled, &open_fields(&filled, 0.5)).len(),
            4
        );
        // Above 1 nothing is open.
        assert!(without_open_values(&filled, &open_fields(&filled, 1.5)).is_empty());
    }

    #[test]
    fn open_fields_are_the_fields_whose_values_nearly_never_repeat() {
        let filled = vec![
            (
                utterance("find the song Heat Wave", &[(1, "song"), (0, "Heat Wave")]),
                0,
            ),
            (utterance("play Blue Moon", &[(0, "Blue Moon")]), 0),
            (utterance("any song", &[(1, "song")]), 0),
            (utterance("weather in Paris", &[(0, "Paris")]), 1),
            (utterance("weather in Rome", &[(0, "Rome")]), 1),
        ];
        let open = open_fields(&filled, 0.9);
        let mut open: Vec<_> = open.into_iter().collect();
        open.sort_unstable();
        assert_eq!(open, vec![(0, 0), (1, 0)]);
    }

    #[test]
    fn cut_leaves_a_space_for_each_value_and_skips_nested_spans() {
        let text = "play Heat Wave by the Beatles now";
        let heat = text.find("Heat Wave").unwrap();
        let beatles = text.find("the Beatles").unwrap();
        let spans = vec![
            (beatles, beatles + "the Beatles".len()),
            (heat, heat + "Heat Wave".len()),
        ];
        assert_eq!(cut(text, spans), "play   by   now");
        // A span inside one already cut changes nothing.
        let spans = vec![(heat, heat + "Heat Wave".len()), (heat + 5, heat + 9)];
        assert_eq!(cut(text, spans), "play   by the Beatles now");
        assert_eq!(cut(text, Vec::new()), text);
    }
}
