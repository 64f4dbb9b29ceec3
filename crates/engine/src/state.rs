//! The stored state of one dialogue: what the store saves as JSON between turns.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use otto_model::actions::{Collect, Listen, Redirect, VoiceDigits};
use otto_model::{Action, ActionsDocument, Sid};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::fetch::Method;
use crate::understanding::RecognizedField;

/// One conversation between a user on a channel and the assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogueState {
    /// `UK…`, the `DialogueSid`.
    pub sid: Sid,
    /// The `UserIdentifier`: phone number, chat identity, custom-channel `UserId`.
    pub user_identifier: String,
    /// The `Channel` the dialogue started on (`voice`, `sms`, `chat`, a custom name…).
    pub channel: String,
    /// The dialogue memory in Autopilot's layout (reference 5).
    pub memory: Map<String, Value>,
    /// What the next input is for.
    pub waiting: Waiting,
    /// The task that ran last (or is collecting).
    pub current_task: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_input_at: DateTime<Utc>,
    pub ended: bool,
    pub end_reason: Option<EndReason>,
}

impl DialogueState {
    /// The pending collect, if the dialogue is in the middle of one.
    pub fn collect(&self) -> Option<&CollectState> {
        match &self.waiting {
            Waiting::Collect(collect) => Some(collect),
            _ => None,
        }
    }
}

/// Why a dialogue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// A turn's actions finished without `listen` or `collect`.
    Completed,
    /// A `handoff` passed the conversation on.
    Handoff,
    /// The caller hung up.
    HangUp,
    /// No input within the idle timeout (4 hours by default).
    IdleTimeout,
    /// A new call from the same user started another dialogue.
    Replaced,
    /// Remote actions failed with no fallback to go to; the user got an apology.
    Error,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Completed => "completed",
            EndReason::Handoff => "handoff",
            EndReason::HangUp => "hang_up",
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Replaced => "replaced",
            EndReason::Error => "error",
        }
    }
}

/// What the dialogue waits for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Waiting {
    /// Nothing pending: a new dialogue, or one that ended.
    #[default]
    Nothing,
    /// A `listen`: route the next input through NLU.
    Listen(ListenState),
    /// A `collect`: the next input answers the current question.
    Collect(CollectState),
}

/// A pending `listen`, also handed to channels (voice needs the DTMF settings).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ListenState {
    /// Restrict NLU routing to these tasks; `None` (or empty) = all tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_digits: Option<DigitsState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barge: Option<bool>,
}

impl From<&Listen> for ListenState {
    fn from(listen: &Listen) -> ListenState {
        match listen {
            Listen::AllTasks => ListenState::default(),
            Listen::With(options) => ListenState {
                tasks: options.tasks.clone(),
                voice_digits: options.voice_digits.as_ref().map(DigitsState::from),
                barge: options.barge,
            },
        }
    }
}

impl ListenState {
    /// The NLU restriction: `None` when every task may match.
    pub fn task_restriction(&self) -> Option<&[String]> {
        self.tasks.as_deref().filter(|tasks| !tasks.is_empty())
    }
}

/// `voice_digits` of a listen or collect question.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DigitsState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_digits: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_on_key: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<DigitRedirect>,
}

impl From<&VoiceDigits> for DigitsState {
    fn from(digits: &VoiceDigits) -> DigitsState {
        DigitsState {
            num_digits: digits.num_digits,
            finish_on_key: digits.finish_on_key.clone(),
            redirects: digits
                .redirects
                .iter()
                .map(|(keys, redirect)| DigitRedirect::new(keys, redirect))
                .collect(),
        }
    }
}

/// Keys pressed → where to go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitRedirect {
    pub digits: String,
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
}

impl DigitRedirect {
    fn new(digits: &str, redirect: &Redirect) -> DigitRedirect {
        DigitRedirect {
            digits: digits.to_owned(),
            uri: redirect.uri().to_owned(),
            method: redirect.method().map(Method::from),
        }
    }
}

/// A collect in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectState {
    /// The whole collect action, as the author wrote it.
    pub collect: CollectDefinition,
    /// Index of the question being asked.
    pub question: usize,
    /// Answers tried for the current question so far.
    pub attempts: u32,
    /// Which `on_failure` message comes next.
    pub failure_message: usize,
    /// Fields recognised in the input that started the collect, for `prefill`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<RecognizedField>,
}

/// A `collect` action kept in the dialogue state. Serialised in its Actions JSON
/// form and checked again by otto-model when read back.
///
/// The state is written at every turn of a collect, and building the
/// action's JSON again each time was the largest part of writing the state:
/// it is built once, as text, and shared by every copy of the state (a JSON
/// serialiser copies it as it is).
#[derive(Debug, Clone)]
pub struct CollectDefinition {
    action: Collect,
    json: Arc<OnceLock<Box<RawValue>>>,
}

impl CollectDefinition {
    pub fn new(action: Collect) -> CollectDefinition {
        CollectDefinition {
            action,
            json: Arc::default(),
        }
    }

    /// The action as the author wrote it.
    pub fn action(&self) -> &Collect {
        &self.action
    }

    fn json(&self) -> &RawValue {
        self.json.get_or_init(|| {
            // `to_json` writes valid JSON.
            RawValue::from_string(self.action.to_json()).expect("a collect action's JSON")
        })
    }
}

impl PartialEq for CollectDefinition {
    fn eq(&self, other: &CollectDefinition) -> bool {
        self.action == other.action
    }
}

impl Serialize for CollectDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CollectDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CollectDefinition, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let document = ActionsDocument::from_value(&json!({"actions": [{"collect": value}]}))
            .map_err(serde::de::Error::custom)?;
        match document.actions.into_iter().next() {
            Some(Action::Collect(collect)) => Ok(CollectDefinition::new(collect)),
            _ => Err(serde::de::Error::custom("expected a collect action")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collect_is_written_in_its_actions_json_form_every_time() {
        let document = ActionsDocument::from_value(&json!({"actions": [{"collect": {
            "name": "booking",
            "questions": [{"question": "Your name?", "name": "name", "type": "Twilio.FIRST_NAME"}],
            "on_complete": {"redirect": "task://done"}
        }}]}))
        .unwrap();
        let Some(Action::Collect(action)) = document.actions.first().cloned() else {
            panic!("a collect action");
        };
        let expected = document.to_value()["actions"][0]["collect"].clone();
        let definition = CollectDefinition::new(action);
        assert_eq!(serde_json::to_value(&definition).unwrap(), expected);
        // Built once, shared by copies: the same JSON again.
        let copy = definition.clone();
        assert_eq!(serde_json::to_value(&copy).unwrap(), expected);
        assert_eq!(serde_json::to_value(&definition).unwrap(), expected);
        let back: CollectDefinition = serde_json::from_value(expected).unwrap();
        assert_eq!(back, definition);
    }
}
