//! [`otto_engine::Understanding`] over a trained [`otto_nlu::Model`]: task
//! classification for routing, and the type check of collect answers.

use chrono::{DateTime, Utc};
use otto_builtin_types::{BuiltinType, Context, Lang};
use otto_engine::{RecognizedField, Understanding, Understood};
use otto_nlu::fields::gazetteer::Gazetteer;
use otto_nlu::text::{Stemmer, tokenize};
use otto_nlu::{Language, Model, ParseOptions, TrainingData};

/// One assistant's trained model, ready for turns.
///
/// Custom field types are checked against a gazetteer of the assistant's
/// values and synonyms built from the same training data as the model (the
/// model keeps its own private; the two are built by the same
/// `Gazetteer::new`, so they agree).
#[derive(Debug)]
pub struct NluUnderstanding {
    model: Model,
    gazetteer: Gazetteer,
    stemmer: Stemmer,
    language: Language,
    lang: Lang,
}

impl NluUnderstanding {
    /// `data` is what the model was trained on (its custom field types).
    pub fn new(model: Model, data: &TrainingData) -> NluUnderstanding {
        let language = model.language();
        NluUnderstanding {
            gazetteer: Gazetteer::new(&data.field_types, language),
            stemmer: Stemmer::new(language),
            language,
            lang: Lang::from_tag(language.tag()),
            model,
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }
}

impl Understanding for NluUnderstanding {
    fn parse(&self, text: &str, tasks: Option<&[String]>, now: DateTime<Utc>) -> Understood {
        let options = ParseOptions {
            tasks,
            reference: now.naive_utc(),
        };
        let parse = self.model.parse(text, &options);
        Understood {
            task: parse.task,
            confidence: f64::from(parse.confidence),
            next_best_task: parse.next_best_task,
            fields: parse
                .fields
                .into_iter()
                .map(|field| RecognizedField {
                    name: field.name,
                    field_type: field.field_type,
                    value: field.value,
                })
                .collect(),
        }
    }

    /// Built-in types through their answer parsers (`"four"` → `4`), custom
    /// types through the values and synonyms of the type (`"on the patio"` →
    /// `terrace` when `patio` is a synonym of it), and an untyped question
    /// (`""`) takes the whole answer.
    fn normalize(&self, field_type: &str, answer: &str, now: DateTime<Utc>) -> Option<String> {
        if field_type.trim().is_empty() {
            let answer = answer.trim();
            return (!answer.is_empty()).then(|| answer.to_owned());
        }
        if let Some(builtin) = BuiltinType::from_name(field_type) {
            let context = Context::new(now.naive_utc(), self.lang);
            return otto_builtin_types::parse_answer(builtin, answer, &context);
        }
        let index = self.gazetteer.type_index(field_type)?;
        if let Some(value) = self.gazetteer.resolve(index, answer) {
            return Some(value.to_owned());
        }
        self.value_within(index, answer)
    }
}

impl NluUnderstanding {
    /// The value of a custom type said inside a longer answer ("on the
    /// patio, please"): the one value found, or `None` when none or two
    /// different ones are ("inside or outside?").
    fn value_within(&self, field_type: usize, answer: &str) -> Option<String> {
        let tokens = tokenize(answer, self.language);
        let stems = self.stemmer.stems(&tokens);
        let mut wanted = vec![false; field_type + 1];
        wanted[field_type] = true;
        let found = self.gazetteer.find(&tokens, &stems, &wanted);
        let mut values = found.iter().map(|m| m.value);
        let first = values.next()?;
        if values.any(|other| other != first) {
            return None;
        }
        Some(self.gazetteer.canonical(first).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn demo() -> NluUnderstanding {
        let data = crate::training_data::training_data(&crate::demo::demo_assistant());
        let model = Model::train(&data, &Default::default(), &mut |_| {}).unwrap();
        NluUnderstanding::new(model, &data)
    }

    fn wednesday() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 11, 10, 0, 0).unwrap()
    }

    #[test]
    fn built_in_types_use_their_answer_parsers() {
        let nlu = demo();
        let now = wednesday();
        assert_eq!(
            nlu.normalize("Twilio.NUMBER", "four", now).as_deref(),
            Some("4")
        );
        assert_eq!(nlu.normalize("Twilio.NUMBER", "lots", now), None);
        assert_eq!(
            nlu.normalize("Twilio.DATE", "tomorrow", now).as_deref(),
            Some("2026-03-12")
        );
        assert_eq!(
            nlu.normalize("Twilio.FIRST_NAME", "my name is ada", now)
                .as_deref(),
            Some("Ada")
        );
        assert_eq!(
            nlu.normalize("Twilio.YES_NO", "yep", now).as_deref(),
            Some("Yes")
        );
    }

    #[test]
    fn custom_types_use_values_and_synonyms() {
        let nlu = demo();
        let now = wednesday();
        let seating = |answer| nlu.normalize("Seating", answer, now);
        assert_eq!(seating("terrace").as_deref(), Some("terrace"));
        assert_eq!(seating("Outside").as_deref(), Some("terrace"));
        assert_eq!(seating("the dining room").as_deref(), Some("indoors"));
        assert_eq!(seating("on the patio please").as_deref(), Some("terrace"));
        assert_eq!(seating("terace").as_deref(), Some("terrace"), "one typo");
        assert_eq!(seating("inside or outside?"), None, "two different values");
        assert_eq!(seating("at the bar"), None);
        assert_eq!(nlu.normalize("NoSuchType", "terrace", now), None);
    }

    #[test]
    fn untyped_questions_take_the_whole_answer() {
        let nlu = demo();
        assert_eq!(
            nlu.normalize("", "  anything at all ", wednesday())
                .as_deref(),
            Some("anything at all")
        );
        assert_eq!(nlu.normalize("", "   ", wednesday()), None);
    }

    #[test]
    fn parse_routes_and_restricts() {
        let nlu = demo();
        let now = wednesday();
        let understood = nlu.parse("book a table for 4 people", None, now);
        assert_eq!(understood.task.as_deref(), Some("book_table"));
        assert_eq!(
            understood.fields,
            [RecognizedField::new("party_size", "Twilio.NUMBER", "4")]
        );
        assert!(understood.confidence > 0.0 && understood.confidence <= 1.0);
        let only = ["goodbye".to_owned()];
        let restricted = nlu.parse("book a table for 4 people", Some(&only), now);
        assert_ne!(restricted.task.as_deref(), Some("book_table"));
    }
}
