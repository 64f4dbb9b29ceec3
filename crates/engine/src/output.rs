//! What one turn produces for the channel to deliver.

use otto_model::actions::{Handoff, Play, Show, StringOrNumber};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fetch::Method;
use crate::state::{DigitsState, ListenState};

/// The turn's output, in channel-neutral form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Output {
    pub says: Vec<SayOutput>,
    pub plays: Vec<PlayOutput>,
    pub shows: Vec<ShowOutput>,
    /// The order the says, plays and shows were produced in (voice interleaves them).
    pub order: Vec<OutputItem>,
    /// Set when the dialogue waits for the next input through NLU.
    pub listen: Option<ListenState>,
    /// Set when the dialogue waits for the answer to a collect question.
    pub collect_prompt: Option<CollectPrompt>,
    pub handoff: Option<HandoffOutput>,
    /// The dialogue ended with this turn.
    pub ended: bool,
    /// `style_sheet.voice.say_voice`, for voice channels.
    pub say_voice: Option<String>,
}

/// Points into [`Output::says`], [`Output::plays`] or [`Output::shows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "index", rename_all = "snake_case")]
pub enum OutputItem {
    Say(usize),
    Play(usize),
    Show(usize),
}

impl Output {
    pub(crate) fn push_say(&mut self, speech: String) {
        let text = strip_ssml(&speech);
        self.order.push(OutputItem::Say(self.says.len()));
        self.says.push(SayOutput { speech, text });
    }

    pub(crate) fn push_play(&mut self, play: &Play) {
        self.order.push(OutputItem::Play(self.plays.len()));
        self.plays.push(PlayOutput {
            url: play.url.clone(),
            loop_count: play.loop_count,
        });
    }

    pub(crate) fn push_show(&mut self, show: &Show, body: String) {
        self.order.push(OutputItem::Show(self.shows.len()));
        let images = show
            .images
            .iter()
            .map(|image| ImageOutput {
                url: image.url.clone(),
                label: image.label.clone(),
            })
            .collect();
        self.shows.push(ShowOutput { body, images });
    }
}

/// One `say`: the custom channel's `{speech, text}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SayOutput {
    /// As written (after templates), SSML included.
    pub speech: String,
    /// SSML tags removed, for text channels.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayOutput {
    pub url: String,
    /// `loop`; `None` = once.
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub loop_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowOutput {
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageOutput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOutput {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The question a pending collect waits on (voice needs its DTMF settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectPrompt {
    /// The collect's name.
    pub collect: String,
    /// The question's name.
    pub question: String,
    /// The prompt as rendered; it is in [`Output::says`] when it was asked this turn.
    pub prompt: String,
    pub field_type: Option<String>,
    pub voice_digits: Option<DigitsState>,
    pub barge: Option<bool>,
}

/// A `handoff`, with the Autopilot request parameters a TwiML URL is requested with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffOutput {
    /// A TwiML URL or `taskrouter://WW…`.
    pub uri: String,
    pub method: Option<Method>,
    pub voice_status_callback_url: Option<String>,
    pub voice_status_callback_method: Option<Method>,
    pub wait_url: Option<String>,
    pub wait_url_method: Option<Method>,
    pub action: Option<String>,
    pub priority: Option<String>,
    pub timeout: Option<String>,
    pub attributes: Option<Value>,
    /// The Autopilot request (POST form) for the hand-off URL.
    pub params: Vec<(String, String)>,
}

impl HandoffOutput {
    pub(crate) fn new(handoff: &Handoff, params: Vec<(String, String)>) -> HandoffOutput {
        HandoffOutput {
            uri: handoff.uri.clone(),
            method: handoff.method.map(Method::from),
            voice_status_callback_url: handoff.voice_status_callback_url.clone(),
            voice_status_callback_method: handoff.voice_status_callback_method.map(Method::from),
            wait_url: handoff.wait_url.clone(),
            wait_url_method: handoff.wait_url_method.map(Method::from),
            action: handoff.action.clone(),
            priority: handoff.priority.as_ref().map(text_of),
            timeout: handoff.timeout.as_ref().map(text_of),
            attributes: handoff.attributes.clone(),
            params,
        }
    }
}

fn text_of(value: &StringOrNumber) -> String {
    match value {
        StringOrNumber::String(text) => text.clone(),
        StringOrNumber::Number(number) => number.to_string(),
    }
}

/// Removes SSML markup: tags (`<say-as …>`, `</speak>`, `<break/>`) go, the
/// five XML entities are decoded. A `<` that starts no tag ("3 < 5") stays.
pub fn strip_ssml(speech: &str) -> String {
    let mut text = String::with_capacity(speech.len());
    let mut rest = speech;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match tag_length(candidate) {
            Some(length) => rest = &candidate[length..],
            None => {
                text.push('<');
                rest = &candidate[1..];
            }
        }
    }
    text.push_str(rest);
    decode_entities(&text)
}

/// The byte length of a tag at the start of `text`, if one starts there.
fn tag_length(text: &str) -> Option<usize> {
    let after = text[1..].chars().next()?;
    if !(after.is_ascii_alphabetic() || matches!(after, '/' | '!' | '?')) {
        return None;
    }
    text.find('>').map(|end| end + 1)
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ssml_tags() {
        assert_eq!(
            strip_ssml("Good morning! <say-as interpret-as='interjection'>Welcome</say-as>"),
            "Good morning! Welcome"
        );
        assert_eq!(
            strip_ssml("<speak>One<break time=\"1s\"/>two</speak>"),
            "Onetwo"
        );
        assert_eq!(strip_ssml("3 < 5 and 5 > 3"), "3 < 5 and 5 > 3");
        assert_eq!(strip_ssml("a <b"), "a <b");
        assert_eq!(strip_ssml("Tom &amp; Jerry &lt;3"), "Tom & Jerry <3");
        assert_eq!(strip_ssml("é<p>ü</p>"), "éü");
    }
}
