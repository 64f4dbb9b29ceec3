//! `collect`: a conversational form of typed, validated questions.

use serde_json::{Map, Value};

use super::flow::{HttpMethod, Redirect, VoiceDigits};
use super::output::SayMessage;
use crate::json::{
    Field, Fields, ObjectBuilder, OrderedJson, ShapeError, index_path, key_path, wrong_type,
};

/// The `collect` action.
#[derive(Debug, Clone, PartialEq)]
pub struct Collect {
    /// The form's name: its answers are stored under `twilio.collected_data.<name>`.
    pub name: String,
    /// At least one, with unique names.
    pub questions: Vec<Question>,
    pub on_complete: OnComplete,
    pub extra: Map<String, Value>,
}

/// `on_complete`: `{"redirect": …}` run once every question is answered.
#[derive(Debug, Clone, PartialEq)]
pub struct OnComplete {
    pub redirect: Redirect,
    pub extra: Map<String, Value>,
}

/// One question of a collect.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub question: Prompt,
    /// The answer's key, unique within the collect, no spaces.
    pub name: String,
    /// The `type` property: a built-in `Twilio.*` type or a custom field type; none = free text.
    pub field_type: Option<String>,
    pub validate: Option<Validate>,
    pub voice_digits: Option<VoiceDigits>,
    pub barge: Option<bool>,
    /// A field whose value, recognised earlier, answers this question.
    pub prefill: Option<String>,
    pub confirm: Option<Confirm>,
    pub extra: Map<String, Value>,
}

/// The prompt of a question: a string or `{"say": …}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Text(String),
    Message(SayMessage),
}

impl Prompt {
    /// The words of the prompt, whichever form was used.
    pub fn speech(&self) -> &str {
        match self {
            Prompt::Text(text) => text,
            Prompt::Message(message) => message.say.speech(),
        }
    }
}

/// A question's `validate` property.
#[derive(Debug, Clone, PartialEq)]
pub enum Validate {
    /// `true`/`false`: no rules of its own (false switches validation off;
    /// Autopilot left the exact meaning undocumented, so the flag is kept as written).
    Flag(bool),
    Rules(Box<ValidateRules>),
}

/// The object form of `validate`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidateRules {
    /// `allowed_values.list`: the answer must be one of these.
    pub allowed_values: Option<AllowedValues>,
    pub webhook: Option<ValidationWebhook>,
    pub on_failure: Option<OnFailure>,
    pub on_success: Option<SayMessage>,
    pub max_attempts: Option<MaxAttempts>,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AllowedValues {
    pub list: Vec<String>,
    pub extra: Map<String, Value>,
}

/// `validate.webhook`: a URL answering `{"valid": true|false}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationWebhook {
    pub url: String,
    pub method: Option<HttpMethod>,
    pub extra: Map<String, Value>,
}

/// Messages used in turn after failed answers (also the style sheet's
/// `collect.validate.on_failure` and a confirm's `on_reject`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OnFailure {
    /// Omitted from the output when empty.
    pub messages: Vec<SayMessage>,
    pub repeat_question: Option<bool>,
    pub extra: Map<String, Value>,
}

/// `max_attempts` inside actions: where to go after too many failures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MaxAttempts {
    pub redirect: Option<Redirect>,
    /// At least 1.
    pub num_attempts: Option<u32>,
    pub extra: Map<String, Value>,
}

/// A question's read-back confirmation (seen in one public sample only, so every
/// part is optional).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Confirm {
    pub messages: Vec<SayMessage>,
    pub on_confirm: Option<SayMessage>,
    pub on_reject: Option<OnFailure>,
    pub max_attempts: Option<MaxAttempts>,
    pub extra: Map<String, Value>,
}

/// A collect or question name: non-empty and free of white space, because it
/// becomes a key in memory paths such as `twilio.collected_data.<collect>`.
fn read_name(field: &Field<'_>) -> Result<String, ShapeError> {
    let name = field.str()?;
    if name.is_empty() {
        return Err(ShapeError::new(&field.path, "must not be empty"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(ShapeError::new(
            &field.path,
            format!("{name:?} must not contain spaces"),
        ));
    }
    Ok(name.to_owned())
}

fn write_say_messages(messages: &[SayMessage]) -> Option<OrderedJson> {
    (!messages.is_empty())
        .then(|| OrderedJson::Array(messages.iter().map(SayMessage::write).collect()))
}

impl Collect {
    pub(crate) fn read(value: &Value, path: &str) -> Result<Collect, ShapeError> {
        let mut fields = Fields::of(
            value,
            path,
            "an object with \"name\", \"questions\" and \"on_complete\"",
        )?;
        let name = read_name(&fields.required("name")?)?;
        let questions = read_questions(&fields.required("questions")?)?;
        let on_complete = fields.required_with("on_complete", OnComplete::read)?;
        Ok(Collect {
            name,
            questions,
            on_complete,
            extra: fields.into_extra(),
        })
    }

    /// The action's JSON (the object under `"collect"`), compact, keys as
    /// [`Collect::write`] orders them. A dialogue waiting on a collect keeps
    /// it in its state; written straight from the action, not through a
    /// `serde_json::Value`.
    pub fn to_json(&self) -> String {
        // Strings, numbers and objects with string keys always serialise.
        serde_json::to_string(&self.write()).expect("an ordered JSON tree serialises")
    }

    /// Keys in the order Twilio's API returned them (seen in exported templates),
    /// so a re-export reads like the original.
    pub(crate) fn write(&self) -> OrderedJson {
        let questions: Vec<OrderedJson> = self.questions.iter().map(Question::write).collect();
        ObjectBuilder::new()
            .field("on_complete", self.on_complete.write())
            .field("name", &self.name)
            .field("questions", questions)
            .extra(&self.extra)
            .build()
    }
}

fn read_questions(field: &Field<'_>) -> Result<Vec<Question>, ShapeError> {
    let questions = field.each(Question::read)?;
    if questions.is_empty() {
        return Err(ShapeError::new(
            &field.path,
            "must list at least one question",
        ));
    }
    reject_duplicate_names(&questions, &field.path)?;
    Ok(questions)
}

fn reject_duplicate_names(questions: &[Question], path: &str) -> Result<(), ShapeError> {
    for (index, question) in questions.iter().enumerate() {
        let earlier = questions[..index]
            .iter()
            .position(|q| q.name == question.name);
        if let Some(first) = earlier {
            return Err(ShapeError::new(
                key_path(&index_path(path, index), "name"),
                format!(
                    "duplicate question name {:?} (also questions[{first}])",
                    question.name
                ),
            ));
        }
    }
    Ok(())
}

impl OnComplete {
    fn read(value: &Value, path: &str) -> Result<OnComplete, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"redirect\"")?;
        let redirect = fields.required_with("redirect", Redirect::read)?;
        Ok(OnComplete {
            redirect,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("redirect", self.redirect.write())
            .extra(&self.extra)
            .build()
    }
}

impl Question {
    fn read(value: &Value, path: &str) -> Result<Question, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"question\" and \"name\"")?;
        let question = fields.required_with("question", read_prompt)?;
        let name = read_name(&fields.required("name")?)?;
        let field_type = fields.optional_string("type")?;
        let validate = fields
            .optional("validate")
            .map(|f| read_validate(&f))
            .transpose()?;
        let voice_digits = fields.optional_with("voice_digits", VoiceDigits::read)?;
        let barge = fields.optional_bool("barge")?;
        let prefill = fields.optional_string("prefill")?;
        let confirm = fields.optional_with("confirm", Confirm::read)?;
        Ok(Question {
            question,
            name,
            field_type,
            validate,
            voice_digits,
            barge,
            prefill,
            confirm,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        let question = match &self.question {
            Prompt::Text(text) => OrderedJson::from(text),
            Prompt::Message(message) => message.write(),
        };
        // `type`, `question`, `name` is Twilio's order in exported templates.
        ObjectBuilder::new()
            .optional("type", self.field_type.as_ref())
            .field("question", question)
            .field("name", &self.name)
            .optional("validate", self.validate.as_ref().map(write_validate))
            .optional(
                "voice_digits",
                self.voice_digits.as_ref().map(VoiceDigits::write),
            )
            .optional("barge", self.barge)
            .optional("prefill", self.prefill.as_ref())
            .optional("confirm", self.confirm.as_ref().map(Confirm::write))
            .extra(&self.extra)
            .build()
    }
}

fn read_prompt(value: &Value, path: &str) -> Result<Prompt, ShapeError> {
    match value {
        Value::String(text) => Ok(Prompt::Text(text.clone())),
        Value::Object(_) => SayMessage::read(value, path).map(Prompt::Message),
        other => Err(wrong_type(
            path,
            "a string or an object with \"say\"",
            other,
        )),
    }
}

fn read_validate(field: &Field<'_>) -> Result<Validate, ShapeError> {
    match field.value {
        Value::Bool(flag) => Ok(Validate::Flag(*flag)),
        Value::Object(_) => ValidateRules::read(field.value, &field.path)
            .map(|rules| Validate::Rules(Box::new(rules))),
        other => Err(wrong_type(&field.path, "an object or a boolean", other)),
    }
}

fn write_validate(validate: &Validate) -> OrderedJson {
    match validate {
        Validate::Flag(flag) => OrderedJson::from(*flag),
        Validate::Rules(rules) => rules.write(),
    }
}

impl ValidateRules {
    fn read(value: &Value, path: &str) -> Result<ValidateRules, ShapeError> {
        let mut fields = Fields::of(value, path, "an object")?;
        let allowed_values = fields.optional_with("allowed_values", AllowedValues::read)?;
        let webhook = fields.optional_with("webhook", ValidationWebhook::read)?;
        let on_failure = fields.optional_with("on_failure", OnFailure::read)?;
        let on_success = fields.optional_with("on_success", SayMessage::read)?;
        let max_attempts = fields.optional_with("max_attempts", MaxAttempts::read)?;
        Ok(ValidateRules {
            allowed_values,
            webhook,
            on_failure,
            on_success,
            max_attempts,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .optional(
                "allowed_values",
                self.allowed_values.as_ref().map(AllowedValues::write),
            )
            .optional(
                "webhook",
                self.webhook.as_ref().map(ValidationWebhook::write),
            )
            .optional("on_failure", self.on_failure.as_ref().map(OnFailure::write))
            .optional(
                "on_success",
                self.on_success.as_ref().map(SayMessage::write),
            )
            .optional(
                "max_attempts",
                self.max_attempts.as_ref().map(MaxAttempts::write),
            )
            .extra(&self.extra)
            .build()
    }
}

impl AllowedValues {
    fn read(value: &Value, path: &str) -> Result<AllowedValues, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"list\"")?;
        let list = fields.required("list")?.strings()?;
        Ok(AllowedValues {
            list,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("list", self.list.iter().collect::<Vec<_>>())
            .extra(&self.extra)
            .build()
    }
}

impl ValidationWebhook {
    fn read(value: &Value, path: &str) -> Result<ValidationWebhook, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"url\"")?;
        let url = fields.required("url")?.string()?;
        let method = fields.optional_with("method", HttpMethod::read)?;
        Ok(ValidationWebhook {
            url,
            method,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("url", &self.url)
            .optional("method", self.method)
            .extra(&self.extra)
            .build()
    }
}

impl OnFailure {
    pub(crate) fn read(value: &Value, path: &str) -> Result<OnFailure, ShapeError> {
        let mut fields = Fields::of(value, path, "an object")?;
        let messages = fields.list("messages", SayMessage::read)?;
        let repeat_question = fields.optional_bool("repeat_question")?;
        Ok(OnFailure {
            messages,
            repeat_question,
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        self.write_with_order(FailureKeyOrder::MessagesFirst)
    }

    /// The style sheet writes `repeat_question` first, as Twilio returned it.
    pub(crate) fn write_with_order(&self, order: FailureKeyOrder) -> OrderedJson {
        let messages = write_say_messages(&self.messages);
        let builder = ObjectBuilder::new();
        let builder = match order {
            FailureKeyOrder::MessagesFirst => builder
                .optional("messages", messages)
                .optional("repeat_question", self.repeat_question),
            FailureKeyOrder::RepeatQuestionFirst => builder
                .optional("repeat_question", self.repeat_question)
                .optional("messages", messages),
        };
        builder.extra(&self.extra).build()
    }
}

/// Where `repeat_question` goes relative to `messages` when writing an [`OnFailure`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum FailureKeyOrder {
    MessagesFirst,
    RepeatQuestionFirst,
}

impl MaxAttempts {
    fn read(value: &Value, path: &str) -> Result<MaxAttempts, ShapeError> {
        let mut fields = Fields::of(
            value,
            path,
            "an object with \"redirect\" and \"num_attempts\"",
        )?;
        let redirect = fields.optional_with("redirect", Redirect::read)?;
        let num_attempts = fields.optional_positive("num_attempts")?;
        Ok(MaxAttempts {
            redirect,
            num_attempts,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .optional("redirect", self.redirect.as_ref().map(Redirect::write))
            .optional("num_attempts", self.num_attempts)
            .extra(&self.extra)
            .build()
    }
}

impl Confirm {
    fn read(value: &Value, path: &str) -> Result<Confirm, ShapeError> {
        let mut fields = Fields::of(value, path, "an object")?;
        let messages = fields.list("messages", SayMessage::read)?;
        let on_confirm = fields.optional_with("on_confirm", SayMessage::read)?;
        let on_reject = fields.optional_with("on_reject", OnFailure::read)?;
        let max_attempts = fields.optional_with("max_attempts", MaxAttempts::read)?;
        Ok(Confirm {
            messages,
            on_confirm,
            on_reject,
            max_attempts,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .optional("messages", write_say_messages(&self.messages))
            .optional(
                "on_confirm",
                self.on_confirm.as_ref().map(SayMessage::write),
            )
            .optional("on_reject", self.on_reject.as_ref().map(OnFailure::write))
            .optional(
                "max_attempts",
                self.max_attempts.as_ref().map(MaxAttempts::write),
            )
            .extra(&self.extra)
            .build()
    }
}
