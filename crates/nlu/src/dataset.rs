//! The benchmark data-set format (one JSON object a line: `text`, `intent`,
//! `entities` with character offsets) and its conversion into the assistant
//! an Autopilot user would have built from it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::text::{Language, fold};
use crate::training::{
    Annotation, CustomFieldType, CustomValue, FieldData, Sample, TaskData, TrainingData,
};

/// The intent that marks an out-of-scope utterance.
pub const OUT_OF_SCOPE_INTENT: &str = "oos";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Example {
    pub text: String,
    pub intent: String,
    #[serde(default)]
    pub entities: Vec<Entity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entity {
    /// Character offset of the first character.
    pub start: usize,
    /// Character offset just past the last character.
    pub end: usize,
    pub entity: String,
    pub value: String,
}

/// A problem in a data file, with the file and line it is on.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: no examples (the file is empty)")]
    Empty { file: String },
}

/// Longest text accepted in a data file, in characters (Autopilot's query limit is 2,048).
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Reads a JSONL data file; every malformed line is reported with its number.
pub fn load(path: &Path) -> Result<Vec<Example>, DatasetError> {
    let file = path.display().to_string();
    let content = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        file: file.clone(),
        source,
    })?;
    parse(&content, &file)
}

/// Parses JSONL content; `file` names it in errors.
pub fn parse(content: &str, file: &str) -> Result<Vec<Example>, DatasetError> {
    let mut examples = Vec::new();
    for (index, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let invalid = |message: String| DatasetError::Invalid {
            file: file.to_string(),
            line: index + 1,
            message,
        };
        let example: Example = serde_json::from_str(line)
            .map_err(|e| invalid(format!("not a valid example object: {e}")))?;
        check(&example).map_err(invalid)?;
        examples.push(example);
    }
    if examples.is_empty() {
        return Err(DatasetError::Empty {
            file: file.to_string(),
        });
    }
    Ok(examples)
}

fn check(example: &Example) -> Result<(), String> {
    if example.intent.trim().is_empty() {
        return Err("\"intent\" is empty".into());
    }
    let chars: Vec<char> = example.text.chars().collect();
    if chars.len() > MAX_TEXT_CHARS {
        return Err(format!(
            "\"text\" has {} characters; at most {MAX_TEXT_CHARS} are accepted",
            chars.len()
        ));
    }
    let mut previous_end = 0;
    for (i, entity) in example.entities.iter().enumerate() {
        if entity.start >= entity.end || entity.end > chars.len() {
            return Err(format!(
                "entities[{i}] ({}): span {}..{} is not inside the {}-character text",
                entity.entity,
                entity.start,
                entity.end,
                chars.len()
            ));
        }
        let covered: String = chars[entity.start..entity.end].iter().collect();
        if covered != entity.value {
            return Err(format!(
                "entities[{i}] ({}): the text at {}..{} is {covered:?}, not the value {:?}",
                entity.entity, entity.start, entity.end, entity.value
            ));
        }
        if entity.start < previous_end {
            return Err(format!(
                "entities[{i}] ({}): overlaps the previous entity or is out of order",
                entity.entity
            ));
        }
        if entity.entity.trim().is_empty() {
            return Err(format!("entities[{i}]: \"entity\" is empty"));
        }
        previous_end = entity.end;
    }
    Ok(())
}

/// The assistant an Autopilot user would build from these examples: a task per
/// intent, samples with their entities' words tagged as fields, and a custom
/// field type per entity holding every value seen in training. `oos`
/// examples become the out-of-scope set.
pub fn to_training_data(examples: &[Example], language: Language) -> TrainingData {
    let mut tasks: BTreeMap<&str, TaskData> = BTreeMap::new();
    let mut values: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut out_of_scope = Vec::new();
    for example in examples {
        if example.intent == OUT_OF_SCOPE_INTENT {
            out_of_scope.push(example.text.clone());
            continue;
        }
        let task = tasks.entry(&example.intent).or_insert_with(|| TaskData {
            name: example.intent.clone(),
            ..Default::default()
        });
        task.samples.push(annotated_sample(example));
        for entity in &example.entities {
            let name = field_name(&entity.entity);
            if !task.fields.iter().any(|f| f.name == name) {
                task.fields.push(FieldData {
                    name: name.clone(),
                    field_type: name.clone(),
                });
            }
            values
                .entry(name)
                .or_default()
                .entry(fold(&entity.value))
                .or_insert_with(|| entity.value.clone());
        }
    }
    TrainingData {
        language,
        tasks: tasks.into_values().collect(),
        field_types: values
            .into_iter()
            .map(|(name, values)| CustomFieldType {
                name,
                values: values
                    .into_values()
                    .map(|value| CustomValue {
                        value,
                        synonym_of: None,
                    })
                    .collect(),
            })
            .collect(),
        out_of_scope,
    }
}

/// The example as an annotated sample: its text with each entity's words
/// marked as the field named after the entity.
fn annotated_sample(example: &Example) -> Sample {
    let byte_offset = |chars: usize| {
        example
            .text
            .char_indices()
            .nth(chars)
            .map_or(example.text.len(), |(i, _)| i)
    };
    Sample::Annotated {
        text: example.text.clone(),
        fields: example
            .entities
            .iter()
            .map(|e| Annotation {
                field: field_name(&e.entity),
                start: byte_offset(e.start),
                end: byte_offset(e.end),
            })
            .collect(),
    }
}

/// Entity labels as Autopilot field names (letters, digits, `_`, `-`, `.`).
pub(crate) fn field_name(entity: &str) -> String {
    entity
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Validation folds: fold `k` of `folds` held out, the rest kept, stratified
/// by intent (each intent's examples shuffled by a fixed seed, then dealt
/// round-robin), so every run of the research tools splits the same way.
pub fn fold_split(examples: &[Example], folds: usize, k: usize) -> (Vec<Example>, Vec<Example>) {
    let mut by_intent: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, e) in examples.iter().enumerate() {
        by_intent.entry(&e.intent).or_default().push(i);
    }
    let mut state = 0x5eed_u64;
    let mut fold_of = vec![0; examples.len()];
    let mut dealt = 0;
    for indexes in by_intent.values_mut() {
        for i in (1..indexes.len()).rev() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            indexes.swap(i, ((z ^ (z >> 31)) % (i as u64 + 1)) as usize);
        }
        for &i in indexes.iter() {
            fold_of[i] = dealt % folds;
            dealt += 1;
        }
    }
    let (mut fit, mut val) = (Vec::new(), Vec::new());
    for (i, e) in examples.iter().enumerate() {
        if fold_of[i] == k {
            val.push(e.clone());
        } else {
            fit.push(e.clone());
        }
    }
    (fit, val)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_hold_each_example_once_stratified_and_the_same_every_time() {
        let examples: Vec<Example> = (0..23)
            .map(|i| Example {
                text: format!("utterance {i}"),
                intent: if i % 3 == 0 { "a" } else { "b" }.to_owned(),
                entities: Vec::new(),
            })
            .collect();
        let mut seen = Vec::new();
        for k in 0..4 {
            let (fit, val) = fold_split(&examples, 4, k);
            assert_eq!(fit.len() + val.len(), examples.len());
            assert!(val.iter().all(|e| !fit.contains(e)));
            // Each intent's examples are spread evenly over the folds.
            for intent in ["a", "b"] {
                let total = examples.iter().filter(|e| e.intent == intent).count();
                let held = val.iter().filter(|e| e.intent == intent).count();
                assert!(held.abs_diff(total / 4) <= 1, "{intent}: {held} of {total}");
            }
            assert_eq!(fold_split(&examples, 4, k), (fit, val.clone()));
            seen.extend(val);
        }
        seen.sort_by(|a, b| a.text.cmp(&b.text));
        let mut all = examples.clone();
        all.sort_by(|a, b| a.text.cmp(&b.text));
        assert_eq!(seen, all, "every example is held out exactly once");
    }

    const LINE: &str = r#"{"text": "add clem burke to my playlist Jazz", "intent": "AddToPlaylist", "entities": [{"start": 4, "end": 14, "entity": "artist", "value": "clem burke"}, {"start": 30, "end": 34, "entity": "playlist", "value": "Jazz"}]}"#;

    #[test]
    fn parses_examples() {
        let examples = parse(LINE, "t.jsonl").unwrap();
        assert_eq!(examples[0].entities[1].value, "Jazz");
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let content = format!("{LINE}\n\n{{\"text\": 3}}\n");
        let error = parse(&content, "t.jsonl").unwrap_err().to_string();
        assert!(
            error.starts_with("t.jsonl:3: not a valid example object: invalid type: integer `3`"),
            "{error}"
        );
        let wrong_value = LINE.replace("\"value\": \"Jazz\"", "\"value\": \"Rock\"");
        assert_eq!(
            parse(&wrong_value, "t.jsonl").unwrap_err().to_string(),
            "t.jsonl:1: entities[1] (playlist): the text at 30..34 is \"Jazz\", not the value \"Rock\""
        );
        let outside = LINE.replace("\"end\": 34", "\"end\": 99");
        assert_eq!(
            parse(&outside, "t.jsonl").unwrap_err().to_string(),
            "t.jsonl:1: entities[1] (playlist): span 30..99 is not inside the 34-character text"
        );
        assert_eq!(
            parse("\n \n", "e.jsonl").unwrap_err().to_string(),
            "e.jsonl: no examples (the file is empty)"
        );
        assert!(
            load(Path::new("/nonexistent/x.jsonl"))
                .unwrap_err()
                .to_string()
                .starts_with("/nonexistent/x.jsonl: cannot read")
        );
    }

    #[test]
    fn builds_the_assistant_an_autopilot_user_would() {
        let mut content = String::from(LINE);
        content.push_str(
            "\n{\"text\": \"what is the meaning of life\", \"intent\": \"oos\", \"entities\": []}",
        );
        let data = to_training_data(&parse(&content, "t").unwrap(), Language::English);
        assert_eq!(data.tasks.len(), 1);
        let Sample::Annotated { text, fields } = &data.tasks[0].samples[0] else {
            panic!("an annotated sample");
        };
        assert_eq!(&text[fields[1].start..fields[1].end], "Jazz");
        assert_eq!(fields[0].field, "artist");
        assert_eq!(data.tasks[0].fields[0].field_type, "artist");
        assert_eq!(data.field_types[1].values[0].value, "Jazz");
        assert_eq!(data.out_of_scope, ["what is the meaning of life"]);
        data.validate().unwrap();
    }

    #[test]
    fn non_ascii_offsets_are_characters() {
        let line = r#"{"text": "Añade Café to lista", "intent": "Add", "entities": [{"start": 6, "end": 10, "entity": "song", "value": "Café"}]}"#;
        let data = to_training_data(&parse(line, "t").unwrap(), Language::Spanish);
        let Sample::Annotated { text, fields } = &data.tasks[0].samples[0] else {
            panic!("an annotated sample");
        };
        assert_eq!(&text[fields[0].start..fields[0].end], "Café");
    }
}
