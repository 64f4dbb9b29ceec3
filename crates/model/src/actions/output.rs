//! The pass-through actions that produce output: `say`, `play`, `show`.

use serde_json::{Map, Value};

use crate::json::{Fields, ObjectBuilder, OrderedJson, ShapeError, wrong_type};

/// `say`: text or SSML, written as a bare string or as `{"speech": …}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Say {
    /// `"say": "Hello"`
    Text(String),
    /// `"say": {"speech": "Hello"}`, with any other keys the author added.
    Speech {
        speech: String,
        extra: Map<String, Value>,
    },
}

impl Say {
    /// The words to speak or send, whichever form was used.
    pub fn speech(&self) -> &str {
        match self {
            Say::Text(text) => text,
            Say::Speech { speech, .. } => speech,
        }
    }

    pub(crate) fn read(value: &Value, path: &str) -> Result<Say, ShapeError> {
        const EXPECTED: &str = "a string or an object with \"speech\"";
        match value {
            Value::String(text) => Ok(Say::Text(text.clone())),
            Value::Object(_) => {
                let mut fields = Fields::of(value, path, EXPECTED)?;
                let speech = fields.required("speech")?.string()?;
                Ok(Say::Speech {
                    speech,
                    extra: fields.into_extra(),
                })
            }
            other => Err(wrong_type(path, EXPECTED, other)),
        }
    }

    pub(crate) fn write(&self) -> OrderedJson {
        match self {
            Say::Text(text) => OrderedJson::from(text),
            Say::Speech { speech, extra } => ObjectBuilder::new()
                .field("speech", speech)
                .extra(extra)
                .build(),
        }
    }
}

/// `{"say": …}` inside other properties: collect prompts, `on_success`,
/// `on_failure.messages`, the style sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SayMessage {
    pub say: Say,
    pub extra: Map<String, Value>,
}

impl SayMessage {
    pub fn new(text: &str) -> SayMessage {
        SayMessage {
            say: Say::Text(text.to_owned()),
            extra: Map::new(),
        }
    }

    pub(crate) fn read(value: &Value, path: &str) -> Result<SayMessage, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"say\"")?;
        let say = fields.required_with("say", Say::read)?;
        Ok(SayMessage {
            say,
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("say", self.say.write())
            .extra(&self.extra)
            .build()
    }
}

/// `play`: an audio file for voice calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    pub url: String,
    /// The `loop` property: how many times to play (TwiML `<Play loop>`, 0 = until hang-up).
    pub loop_count: Option<u32>,
    pub extra: Map<String, Value>,
}

impl Play {
    pub(crate) fn read(value: &Value, path: &str) -> Result<Play, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"url\"")?;
        let url = fields.required("url")?.string()?;
        let loop_count = fields.optional("loop").map(|f| f.u32()).transpose()?;
        Ok(Play {
            url,
            loop_count,
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("url", &self.url)
            .optional("loop", self.loop_count)
            .extra(&self.extra)
            .build()
    }
}

/// `show`: text plus optional images for screens and messaging.
#[derive(Debug, Clone, PartialEq)]
pub struct Show {
    pub body: String,
    /// Omitted from the output when empty.
    pub images: Vec<Image>,
    pub extra: Map<String, Value>,
}

/// One `show.images[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub url: String,
    pub label: Option<String>,
    pub extra: Map<String, Value>,
}

impl Show {
    pub(crate) fn read(value: &Value, path: &str) -> Result<Show, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"body\"")?;
        let body = fields.required("body")?.string()?;
        let images = fields.list("images", Image::read)?;
        Ok(Show {
            body,
            images,
            extra: fields.into_extra(),
        })
    }

    pub(crate) fn write(&self) -> OrderedJson {
        let images = (!self.images.is_empty())
            .then(|| self.images.iter().map(Image::write).collect::<Vec<_>>());
        ObjectBuilder::new()
            .field("body", &self.body)
            .optional("images", images)
            .extra(&self.extra)
            .build()
    }
}

impl Image {
    fn read(value: &Value, path: &str) -> Result<Image, ShapeError> {
        let mut fields = Fields::of(value, path, "an object with \"url\"")?;
        let url = fields.required("url")?.string()?;
        let label = fields.optional_string("label")?;
        Ok(Image {
            url,
            label,
            extra: fields.into_extra(),
        })
    }

    fn write(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field("url", &self.url)
            .optional("label", self.label.as_ref())
            .extra(&self.extra)
            .build()
    }
}
