//! Event webhooks (reference 13): what happened in a turn, for the server to
//! deliver later to the assistant's subscribed URLs.

use chrono::{DateTime, Utc};
use otto_model::Sid;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::state::EndReason;

/// Which event, with its own payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum EventKind {
    #[serde(rename = "onDialogueStart")]
    DialogueStart,
    #[serde(rename = "onDialogueEnd")]
    DialogueEnd { reason: EndReason },
    #[serde(rename = "onDialogueTaskStart")]
    TaskStart { task: String },
    #[serde(rename = "onDialogueTaskEnd")]
    TaskEnd { task: String },
    #[serde(rename = "onDialogueTurn")]
    Turn,
    #[serde(rename = "onActionsFetch")]
    ActionsFetch { url: String },
    #[serde(rename = "onCollectAttempt")]
    CollectAttempt {
        collect: String,
        /// `CollectFieldName`: the question's name.
        question: String,
        /// `CollectSuccess`
        success: bool,
        /// `CollectOutput`: the normalised answer, or the input when it was refused.
        output: String,
    },
}

impl EventKind {
    /// The name subscribers give in a webhook's `events`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::DialogueStart => "onDialogueStart",
            EventKind::DialogueEnd { .. } => "onDialogueEnd",
            EventKind::TaskStart { .. } => "onDialogueTaskStart",
            EventKind::TaskEnd { .. } => "onDialogueTaskEnd",
            EventKind::Turn => "onDialogueTurn",
            EventKind::ActionsFetch { .. } => "onActionsFetch",
            EventKind::CollectAttempt { .. } => "onCollectAttempt",
        }
    }
}

/// One event with the dialogue context of the moment it fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub dialogue_sid: Sid,
    pub user_identifier: String,
    pub channel: String,
    pub current_task: Option<String>,
    pub current_input: String,
    /// The dialogue memory at the end of the turn (for an ended dialogue, its last memory).
    pub memory: Map<String, Value>,
}

impl Event {
    /// The form parameters to POST: `Event`, the standard Autopilot request
    /// parameters, and the event's own (`CollectSuccess`, `CollectFieldName`,
    /// `CollectOutput`, `TaskName`, `EndReason`, `ActionsUrl`).
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            param("Event", self.kind.name()),
            param("AccountSid", self.account_sid.as_str()),
            param("AssistantSid", self.assistant_sid.as_str()),
            param("DialogueSid", self.dialogue_sid.as_str()),
            param("UserIdentifier", &self.user_identifier),
            param("Channel", &self.channel),
            param("CurrentTask", self.current_task.as_deref().unwrap_or("")),
            param("CurrentInput", &self.current_input),
            param("Memory", &crate::request::memory_json(&self.memory)),
        ];
        params.extend(self.own_params());
        params
    }

    fn own_params(&self) -> Vec<(String, String)> {
        match &self.kind {
            EventKind::DialogueStart | EventKind::Turn => vec![],
            EventKind::DialogueEnd { reason } => vec![param("EndReason", reason.as_str())],
            EventKind::TaskStart { task } | EventKind::TaskEnd { task } => {
                vec![param("TaskName", task)]
            }
            EventKind::ActionsFetch { url } => vec![param("ActionsUrl", url)],
            EventKind::CollectAttempt {
                question,
                success,
                output,
                ..
            } => vec![
                param("CollectSuccess", if *success { "true" } else { "false" }),
                param("CollectFieldName", question),
                param("CollectOutput", output),
            ],
        }
    }
}

fn param(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}
