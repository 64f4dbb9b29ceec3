//! The assistant's style sheet: `{"style_sheet": {voice, collect, name}}`.

use serde_json::{Map, Value};

use crate::actions::{FailureKeyOrder, OnFailure, SayMessage};
use crate::json::{Field, Fields, ObjectBuilder, OrderedJson, ShapeError};

/// Assistant-wide presentation and collect-validation defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StyleSheet {
    pub voice: VoiceStyle,
    pub collect: CollectStyle,
    /// A free-text personality name; no behaviour.
    pub name: Option<String>,
    /// Unknown keys inside `style_sheet`, kept for the round trip.
    pub extra: Map<String, Value>,
}

/// `style_sheet.voice`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VoiceStyle {
    /// The TTS voice for `say` on calls, e.g. `Polly.Matthew`.
    pub say_voice: Option<String>,
    pub extra: Map<String, Value>,
}

/// `style_sheet.collect`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CollectStyle {
    pub validate: ValidateStyle,
    pub extra: Map<String, Value>,
}

/// `style_sheet.collect.validate`: defaults for every collect question.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidateStyle {
    pub on_failure: Option<OnFailure>,
    pub on_success: Option<SayMessage>,
    /// Attempts before `defaults.collect.validate_on_failure` (a plain integer
    /// here, unlike the object form inside actions).
    pub max_attempts: Option<u32>,
    pub extra: Map<String, Value>,
}

const WRAPPER: &str = "style_sheet";

impl StyleSheet {
    /// Reads `{"style_sheet": {...}}`; `{}` (an assistant that never set one)
    /// gives the empty style sheet.
    pub fn from_value(value: &Value) -> Result<StyleSheet, ShapeError> {
        let mut wrapper = Fields::of(value, "", "an object {\"style_sheet\": {...}}")?;
        let Some(inner) = wrapper.optional(WRAPPER) else {
            return Ok(StyleSheet::default());
        };
        let mut fields = inner.fields("an object")?;
        let voice = read_section(fields.optional("voice"), VoiceStyle::read)?;
        let collect = read_section(fields.optional("collect"), CollectStyle::read)?;
        let name = fields.optional_string("name")?;
        Ok(StyleSheet {
            voice,
            collect,
            name,
            extra: fields.into_extra(),
        })
    }

    /// `{"style_sheet": {...}}`, or `{}` when nothing is set.
    pub fn to_value(&self) -> Value {
        self.to_ordered().into_value()
    }

    pub fn is_empty(&self) -> bool {
        *self == StyleSheet::default()
    }

    /// Keys in the order Twilio returned them in every public template
    /// (`collect` before `voice`), so template exports read like the originals.
    pub(crate) fn to_ordered(&self) -> OrderedJson {
        if self.is_empty() {
            return ObjectBuilder::new().build();
        }
        let inner = ObjectBuilder::new()
            .optional("collect", self.collect.to_ordered())
            .optional("voice", self.voice.to_ordered())
            .optional("name", self.name.as_ref())
            .extra(&self.extra)
            .build();
        ObjectBuilder::new().field(WRAPPER, inner).build()
    }
}

/// An optional sub-object: absent reads as the empty section.
fn read_section<T: Default>(
    field: Option<Field<'_>>,
    read: impl FnOnce(Fields<'_>) -> Result<T, ShapeError>,
) -> Result<T, ShapeError> {
    match field {
        Some(field) => read(field.fields("an object")?),
        None => Ok(T::default()),
    }
}

impl VoiceStyle {
    fn read(mut fields: Fields<'_>) -> Result<VoiceStyle, ShapeError> {
        let say_voice = fields.optional_string("say_voice")?;
        Ok(VoiceStyle {
            say_voice,
            extra: fields.into_extra(),
        })
    }

    /// `None` when there is nothing to write.
    fn to_ordered(&self) -> Option<OrderedJson> {
        (*self != VoiceStyle::default()).then(|| {
            ObjectBuilder::new()
                .optional("say_voice", self.say_voice.as_ref())
                .extra(&self.extra)
                .build()
        })
    }
}

impl CollectStyle {
    fn read(mut fields: Fields<'_>) -> Result<CollectStyle, ShapeError> {
        let validate = read_section(fields.optional("validate"), ValidateStyle::read)?;
        Ok(CollectStyle {
            validate,
            extra: fields.into_extra(),
        })
    }

    fn to_ordered(&self) -> Option<OrderedJson> {
        (*self != CollectStyle::default()).then(|| {
            ObjectBuilder::new()
                .optional("validate", self.validate.to_ordered())
                .extra(&self.extra)
                .build()
        })
    }
}

impl ValidateStyle {
    fn read(mut fields: Fields<'_>) -> Result<ValidateStyle, ShapeError> {
        let on_failure = fields.optional_with("on_failure", OnFailure::read)?;
        let on_success = fields.optional_with("on_success", SayMessage::read)?;
        let max_attempts = fields.optional_positive("max_attempts")?;
        Ok(ValidateStyle {
            on_failure,
            on_success,
            max_attempts,
            extra: fields.into_extra(),
        })
    }

    fn to_ordered(&self) -> Option<OrderedJson> {
        (*self != ValidateStyle::default()).then(|| {
            let on_failure = self
                .on_failure
                .as_ref()
                .map(|f| f.write_with_order(FailureKeyOrder::RepeatQuestionFirst));
            ObjectBuilder::new()
                .optional("on_failure", on_failure)
                .optional(
                    "on_success",
                    self.on_success.as_ref().map(SayMessage::write),
                )
                .optional("max_attempts", self.max_attempts)
                .extra(&self.extra)
                .build()
        })
    }
}

crate::json::serde_via_value!(StyleSheet);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template_style_sheet() -> Value {
        json!({"style_sheet": {
            "collect": {"validate": {
                "on_failure": {"repeat_question": false,
                               "messages": [{"say": "I didn't get that. What did you say?"},
                                            {"say": "I still didn't catch that. Please repeat."}]},
                "on_success": {"say": ""},
                "max_attempts": 4}},
            "voice": {"say_voice": "Polly.Matthew"}
        }})
    }

    #[test]
    fn reads_every_documented_setting() {
        let style = StyleSheet::from_value(&template_style_sheet()).unwrap();
        assert_eq!(style.voice.say_voice.as_deref(), Some("Polly.Matthew"));
        let validate = &style.collect.validate;
        assert_eq!(validate.max_attempts, Some(4));
        assert_eq!(validate.on_success.as_ref().unwrap().say.speech(), "");
        let on_failure = validate.on_failure.as_ref().unwrap();
        assert_eq!(on_failure.repeat_question, Some(false));
        assert_eq!(
            on_failure.messages[1].say.speech(),
            "I still didn't catch that. Please repeat."
        );
        assert_eq!(style.to_value(), template_style_sheet());
    }

    #[test]
    fn keeps_the_name_and_unknown_keys_at_every_level() {
        let value = json!({"style_sheet": {
            "name": "Matthew", "mood": "cheerful",
            "voice": {"say_voice": "Polly.Joanna", "rate": "slow"},
            "collect": {"confirm": true, "validate": {"max_attempts": 2, "trim": true}}
        }});
        let style = StyleSheet::from_value(&value).unwrap();
        assert_eq!(style.name.as_deref(), Some("Matthew"));
        assert_eq!(style.extra["mood"], json!("cheerful"));
        assert_eq!(style.voice.extra["rate"], json!("slow"));
        assert_eq!(style.collect.extra["confirm"], json!(true));
        assert_eq!(style.collect.validate.extra["trim"], json!(true));
        assert_eq!(style.to_value(), value);
    }

    #[test]
    fn empty_documents_give_the_empty_style_sheet() {
        assert!(StyleSheet::from_value(&json!({})).unwrap().is_empty());
        assert!(
            StyleSheet::from_value(&json!({"style_sheet": {"voice": {}}}))
                .unwrap()
                .is_empty()
        );
        assert_eq!(StyleSheet::default().to_value(), json!({}));
    }

    #[test]
    fn max_attempts_is_a_positive_integer() {
        let error = StyleSheet::from_value(&json!({"style_sheet": {"collect": {"validate": {"max_attempts": {"num_attempts": 3}}}}}))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "style_sheet.collect.validate.max_attempts: expected a whole number, found an object"
        );
        let error = StyleSheet::from_value(
            &json!({"style_sheet": {"collect": {"validate": {"max_attempts": 0}}}}),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "style_sheet.collect.validate.max_attempts: must be at least 1"
        );
    }

    #[test]
    fn wrong_shapes_name_their_path() {
        let error =
            StyleSheet::from_value(&json!({"style_sheet": {"voice": "Polly.Joanna"}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "style_sheet.voice: expected an object, found a string"
        );
        let error = StyleSheet::from_value(&json!({"style_sheet": {"collect": {"validate": {"on_failure": {"messages": [{"speech": "x"}]}}}}}))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "style_sheet.collect.validate.on_failure.messages[0]: missing \"say\""
        );
    }

    #[test]
    fn serde_uses_the_wrapped_form() {
        let style: StyleSheet = serde_json::from_value(template_style_sheet()).unwrap();
        assert_eq!(
            serde_json::to_value(&style).unwrap(),
            template_style_sheet()
        );
    }
}
