//! An assistant's definition as NLU training data. The NLU knows nothing of
//! assistants; this is where the two meet.

use std::collections::HashMap;

use otto_model::Assistant;
use otto_nlu::{CustomFieldType, CustomValue, FieldData, Language, Sample, TaskData, TrainingData};

/// The training data of `assistant`. Its language is the one most of its
/// samples are tagged with (Autopilot only knew `en-US`).
pub fn training_data(assistant: &Assistant) -> TrainingData {
    TrainingData {
        language: main_language(assistant),
        tasks: assistant
            .tasks
            .iter()
            .map(|task| TaskData {
                name: task.unique_name.clone(),
                samples: task
                    .samples
                    .iter()
                    .map(|s| sample(&s.tagged_text))
                    .collect(),
                fields: task
                    .fields
                    .iter()
                    .map(|f| FieldData {
                        name: f.unique_name.clone(),
                        field_type: canonical_type(&f.field_type),
                    })
                    .collect(),
            })
            .collect(),
        field_types: assistant
            .field_types
            .iter()
            .map(|t| CustomFieldType {
                name: t.unique_name.clone(),
                values: t
                    .values
                    .iter()
                    .map(|v| CustomValue {
                        value: v.value.clone(),
                        synonym_of: v.synonym_of.clone().filter(|s| !s.trim().is_empty()),
                    })
                    .collect(),
            })
            .collect(),
        out_of_scope: Vec::new(),
    }
}

/// Tags written `{ name }` read as `{name}`; text the model cannot parse as
/// tags stays as written (validation reports it).
fn sample(tagged_text: &str) -> Sample {
    match otto_model::assistant::TaggedText::parse(tagged_text) {
        Ok(tagged) => Sample::Tagged(tagged.fill(|name| format!("{{{name}}}")).text),
        Err(_) => Sample::Tagged(tagged_text.to_string()),
    }
}

/// `Twilio.Email` is Autopilot's `Twilio.EMAIL`.
fn canonical_type(field_type: &str) -> String {
    otto_model::assistant::builtin_field_type(field_type)
        .map(str::to_string)
        .unwrap_or_else(|| field_type.to_string())
}

fn main_language(assistant: &Assistant) -> Language {
    let mut counts: HashMap<Language, usize> = HashMap::new();
    for sample in assistant.tasks.iter().flat_map(|t| &t.samples) {
        if let Some(language) = Language::from_tag(&sample.language) {
            *counts.entry(language).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(language, count)| (count, language == Language::English))
        .map_or(Language::English, |(language, _)| language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_trains_and_answers_its_own_samples() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/autopilot-schemas");
        let mut trained = 0;
        for entry in std::fs::read_dir(&dir).expect("the fixtures folder") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let json = std::fs::read_to_string(&path).expect("a readable fixture");
            let assistant = otto_model::import_schema(&json).expect("an importable fixture");
            let data = training_data(&assistant);
            data.validate()
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            let model = otto_nlu::Model::train(&data, &Default::default(), &mut |_| {})
                .expect("training succeeds");
            // A sample without tags is answered with its own task.
            for task in &assistant.tasks {
                if let Some(s) = task.samples.iter().find(|s| !s.tagged_text.contains('{')) {
                    let parse = model.parse(&s.tagged_text, &Default::default());
                    assert_eq!(
                        parse.task.as_deref(),
                        Some(task.unique_name.as_str()),
                        "{}: {:?}",
                        path.display(),
                        s.tagged_text
                    );
                }
            }
            trained += 1;
        }
        assert_eq!(trained, 8);
    }
}
