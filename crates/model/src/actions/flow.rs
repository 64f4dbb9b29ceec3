//! Actions that move the conversation: `redirect`, `listen`, `handoff`.

use std::fmt;

use serde_json::{Map, Value};

use crate::json::{Fields, ObjectBuilder, OrderedJson, ShapeError, key_path, wrong_type};
use crate::target::{Target, TargetError};

/// The HTTP method of a redirect, webhook or hand-off URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }

    /// `GET` or `POST`, in any letter case (Autopilot documents mix them).
    pub(crate) fn read(value: &Value, path: &str) -> Result<HttpMethod, ShapeError> {
        let text = value
            .as_str()
            .ok_or_else(|| wrong_type(path, "a string", value))?;
        if text.eq_ignore_ascii_case("GET") {
            Ok(HttpMethod::Get)
        } else if text.eq_ignore_ascii_case("POST") {
            Ok(HttpMethod::Post)
        } else {
            let problem = format!("expected \"GET\" or \"POST\", found {text:?}");
            Err(ShapeError::new(path, problem))
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<HttpMethod> for OrderedJson {
    fn from(method: HttpMethod) -> OrderedJson {
        OrderedJson::from(method.as_str())
    }
}

/// `redirect`: a `task://` name or a URL, as a bare string or `{uri, method}`.
///
/// The URI is kept as written and checked only when asked ([`Redirect::target`])
/// because Autopilot stored redirects it could not follow (the public templates
/// ship `{"redirect": ""}` placeholders); [`crate::Assistant::validate`] reports them.
#[derive(Debug, Clone, PartialEq)]
pub enum Redirect {
    /// `"redirect": "task://x"`
    Uri(String),
    /// `"redirect": {"uri": "…", "method": "POST"}`
    Object {
        uri: String,
        method: Option<HttpMethod>,
        extra: Map<String, Value>,
    },
}

impl Redirect {
    pub fn uri(&self) -> &str {
        match self {
            Redirect::Uri(uri) | Redirect::Object { uri, .. } => uri,
        }
    }

    /// The method given by the author, if any (Autopilot's default was POST).
    pub fn method(&self) -> Option<HttpMethod> {
        match self {
            Redirect::Uri(_) => None,
            Redirect::Object { method, .. } => *method,
        }
    }

    /// Where the redirect goes, or why it goes nowhere.
    pub fn target(&self) -> Result<Target, TargetError> {
        Target::parse(self.uri())
    }

    pub(crate) fn read(value: &Value, path: &str) -> Result<Redirect, ShapeError> {
        const EXPECTED: &str = "a string or an object with \"uri\"";
        match value {
            Value::String(uri) => Ok(Redirect::Uri(uri.clone())),
            Value::Object(_) => Redirect::read_object(Fields::of(value, path, EXPECTED)?),
            other => Err(wrong_type(path, EXPECTED, other)),
        }
    }

    /// The pre-Autopilot `fetch_actions: {uri}` action, which fetched actions
    /// from a URL just as a redirect does. It becomes the short form unless it
    /// carries more than the URI.
    pub(crate) fn read_legacy(value: &Value, path: &str) -> Result<Redirect, ShapeError> {
        let redirect = Redirect::read_object(Fields::of(value, path, "an object with \"uri\"")?)?;
        Ok(match redirect {
            Redirect::Object {
                uri,
                method: None,
                extra,
            } if extra.is_empty() => Redirect::Uri(uri),
            other => other,
        })
    }

    fn read_object(mut fields: Fields<'_>) -> Result<Redirect, ShapeError> {
        let uri = fields.required("uri")?.string()?;
        let method = fields.optional_with("method", HttpMethod::read)?;
        Ok(Redirect::Object {
            uri,
            method,
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        match self {
            Redirect::Uri(uri) => OrderedJson::from(uri),
            // `method` before `uri` is Twilio's order in exported templates.
            Redirect::Object { uri, method, extra } => ObjectBuilder::new()
                .optional("method", *method)
                .field("uri", uri)
                .extra(extra)
                .build(),
        }
    }
}

/// `listen`: wait for the user's next input.
#[derive(Debug, Clone, PartialEq)]
pub enum Listen {
    /// `"listen": true`: route the next input over all tasks.
    AllTasks,
    /// `"listen": {…}`
    With(ListenOptions),
}

/// The object form of `listen`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListenOptions {
    /// Restrict NLU routing of the next input to these task unique names.
    pub tasks: Option<Vec<String>>,
    pub voice_digits: Option<VoiceDigits>,
    /// Voice: whether the caller may interrupt speech (Autopilot's default was true).
    pub barge: Option<bool>,
    pub extra: Map<String, Value>,
}

impl Listen {
    pub(crate) fn read(value: &Value, path: &str) -> Result<Listen, ShapeError> {
        const EXPECTED: &str = "true or an object";
        match value {
            Value::Bool(true) => Ok(Listen::AllTasks),
            Value::Object(_) => {
                let mut fields = Fields::of(value, path, EXPECTED)?;
                let tasks = fields.optional("tasks").map(|f| f.strings()).transpose()?;
                let voice_digits = fields.optional_with("voice_digits", VoiceDigits::read)?;
                let barge = fields.optional_bool("barge")?;
                Ok(Listen::With(ListenOptions {
                    tasks,
                    voice_digits,
                    barge,
                    extra: fields.into_extra(),
                }))
            }
            // `false` has no documented meaning; refusing it beats guessing.
            other => Err(wrong_type(path, EXPECTED, other)),
        }
    }

    pub(crate) fn write(&self) -> OrderedJson {
        match self {
            Listen::AllTasks => OrderedJson::from(true),
            Listen::With(options) => ObjectBuilder::new()
                .optional(
                    "tasks",
                    options.tasks.as_ref().map(|t| t.iter().collect::<Vec<_>>()),
                )
                .optional(
                    "voice_digits",
                    options.voice_digits.as_ref().map(VoiceDigits::write),
                )
                .optional("barge", options.barge)
                .extra(&options.extra)
                .build(),
        }
    }
}

/// `voice_digits` of `listen` and of collect questions: accept DTMF key presses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VoiceDigits {
    pub num_digits: Option<u32>,
    /// `""` (no terminating key) or one of `0`-`9`, `#`, `*`.
    pub finish_on_key: Option<String>,
    /// Digits pressed → where to go, in key order (omitted when empty).
    pub redirects: Vec<(String, Redirect)>,
    pub extra: Map<String, Value>,
}

fn is_keypad_key(c: char) -> bool {
    c.is_ascii_digit() || c == '#' || c == '*'
}

impl VoiceDigits {
    pub(crate) fn read(value: &Value, path: &str) -> Result<VoiceDigits, ShapeError> {
        let mut fields = Fields::of(value, path, "an object")?;
        let num_digits = fields.optional_positive("num_digits")?;
        let finish_on_key = fields.optional_with("finish_on_key", read_finish_on_key)?;
        let redirects = fields.optional_with("redirects", read_digit_redirects)?;
        Ok(VoiceDigits {
            num_digits,
            finish_on_key,
            redirects: redirects.unwrap_or_default(),
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        let redirects = (!self.redirects.is_empty()).then(|| {
            OrderedJson::Object(
                self.redirects
                    .iter()
                    .map(|(digits, redirect)| (digits.clone(), redirect.write()))
                    .collect(),
            )
        });
        ObjectBuilder::new()
            .optional("num_digits", self.num_digits)
            .optional("finish_on_key", self.finish_on_key.as_ref())
            .optional("redirects", redirects)
            .extra(&self.extra)
            .build()
    }
}

fn read_finish_on_key(value: &Value, path: &str) -> Result<String, ShapeError> {
    let key = value
        .as_str()
        .ok_or_else(|| wrong_type(path, "a string", value))?;
    let mut chars = key.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(String::new()),
        (Some(c), None) if is_keypad_key(c) => Ok(key.to_owned()),
        _ => Err(ShapeError::new(
            path,
            format!("{key:?} is not a key: expected one of 0-9, # or *, or \"\" for none"),
        )),
    }
}

fn read_digit_redirects(value: &Value, path: &str) -> Result<Vec<(String, Redirect)>, ShapeError> {
    let map = value
        .as_object()
        .ok_or_else(|| wrong_type(path, "an object", value))?;
    map.iter()
        .map(|(digits, value)| {
            let path = key_path(path, digits);
            if digits.is_empty() || !digits.chars().all(is_keypad_key) {
                return Err(ShapeError::new(
                    &path,
                    format!("{digits:?} is not a key sequence: use the keys 0-9, # and *"),
                ));
            }
            Ok((digits.clone(), Redirect::read(value, &path)?))
        })
        .collect()
}

/// `priority` and `timeout` of a hand-off: strings in Twilio's examples, but
/// numbers are what TaskRouter means, so both are accepted and kept as written.
#[derive(Debug, Clone, PartialEq)]
pub enum StringOrNumber {
    String(String),
    Number(serde_json::Number),
}

impl StringOrNumber {
    fn read(value: &Value, path: &str) -> Result<StringOrNumber, ShapeError> {
        match value {
            Value::String(text) => Ok(StringOrNumber::String(text.clone())),
            Value::Number(number) => Ok(StringOrNumber::Number(number.clone())),
            other => Err(wrong_type(path, "a string or a number", other)),
        }
    }
}

impl From<&StringOrNumber> for OrderedJson {
    fn from(value: &StringOrNumber) -> OrderedJson {
        match value {
            StringOrNumber::String(text) => OrderedJson::from(text),
            StringOrNumber::Number(number) => OrderedJson::Scalar(Value::Number(number.clone())),
        }
    }
}

/// `handoff`: pass a voice call to a TwiML URL or a TaskRouter workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Handoff {
    /// A TwiML URL or `taskrouter://WW…`.
    pub uri: String,
    pub method: Option<HttpMethod>,
    pub voice_status_callback_url: Option<String>,
    pub voice_status_callback_method: Option<HttpMethod>,
    pub wait_url: Option<String>,
    pub wait_url_method: Option<HttpMethod>,
    pub action: Option<String>,
    pub priority: Option<StringOrNumber>,
    pub timeout: Option<StringOrNumber>,
    /// Extra TaskRouter task attributes: an object or a JSON string.
    pub attributes: Option<Value>,
    pub extra: Map<String, Value>,
}

/// The only channel a hand-off supports; `channel` must say so.
const HANDOFF_CHANNEL: &str = "voice";

impl Handoff {
    pub(crate) fn read(value: &Value, path: &str) -> Result<Handoff, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"channel\" and \"uri\"")?;
        read_handoff_channel(&mut fields)?;
        Ok(Handoff {
            uri: fields.required("uri")?.string()?,
            method: fields.optional_with("method", HttpMethod::read)?,
            voice_status_callback_url: fields.optional_string("voice_status_callback_url")?,
            voice_status_callback_method: fields
                .optional_with("voice_status_callback_method", HttpMethod::read)?,
            wait_url: fields.optional_string("wait_url")?,
            wait_url_method: fields.optional_with("wait_url_method", HttpMethod::read)?,
            action: fields.optional_string("action")?,
            priority: fields.optional_with("priority", StringOrNumber::read)?,
            timeout: fields.optional_with("timeout", StringOrNumber::read)?,
            attributes: read_attributes(&mut fields)?,
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("channel", HANDOFF_CHANNEL)
            .field("uri", &self.uri)
            .optional("method", self.method)
            .optional(
                "voice_status_callback_url",
                self.voice_status_callback_url.as_ref(),
            )
            .optional(
                "voice_status_callback_method",
                self.voice_status_callback_method,
            )
            .optional("wait_url", self.wait_url.as_ref())
            .optional("wait_url_method", self.wait_url_method)
            .optional("action", self.action.as_ref())
            .optional("priority", self.priority.as_ref())
            .optional("timeout", self.timeout.as_ref())
            .optional(
                "attributes",
                self.attributes.as_ref().map(OrderedJson::from),
            )
            .extra(&self.extra)
            .build()
    }
}

fn read_handoff_channel(fields: &mut Fields<'_>) -> Result<(), ShapeError> {
    let channel = fields.required("channel")?;
    match channel.str()? {
        HANDOFF_CHANNEL => Ok(()),
        other => Err(ShapeError::new(
            &channel.path,
            format!("must be \"voice\" (hand-off works on voice calls only), found {other:?}"),
        )),
    }
}

fn read_attributes(fields: &mut Fields<'_>) -> Result<Option<Value>, ShapeError> {
    match fields.optional("attributes") {
        None => Ok(None),
        Some(f) if f.value.is_object() || f.value.is_string() => Ok(Some(f.value.clone())),
        Some(f) => Err(wrong_type(&f.path, "an object or a JSON string", f.value)),
    }
}
