//! Problems a turn ran into. None of them fails the turn: the user gets the
//! failure path's answer and the operator gets one of these.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Twilio error 90100, "Invalid Autopilot Actions JSON" (also memory over 16 KB).
pub const INVALID_ACTIONS_JSON: u32 = otto_model::actions::INVALID_ACTIONS_JSON;
/// Twilio error 11200, "HTTP retrieval failure": a URL did not answer usably.
pub const HTTP_RETRIEVAL_FAILURE: u32 = 11200;

/// What went wrong, for grouping and alerting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A task URL, redirect URL or default URL failed (timeout, status, not JSON, too large).
    Fetch,
    /// A document was not valid Actions JSON.
    InvalidActions,
    /// More than the allowed redirects for one input.
    RedirectLimit,
    /// A `task://` target or NLU result names no task of the assistant.
    UnknownTask,
    /// A redirect or default is not `task://…` or a URL (e.g. `""`).
    InvalidTarget,
    /// No task matched the input and `defaults.fallback` is not set.
    NoFallback,
    /// A collect question ran out of attempts with nowhere to redirect.
    NoCollectFallback,
    /// A collect validation webhook failed or answered without `valid`.
    ValidationWebhook,
    /// Memory grew over the limit; it was rolled back.
    MemoryTooLarge,
    /// A template in a static action could not be rendered; the text was used as written.
    Template,
}

/// An operator-visible problem of one turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineError {
    pub kind: ErrorKind,
    /// The Twilio error code, where Twilio had one.
    pub code: Option<u32>,
    /// What happened and where, e.g. `https://x.io/a: the server answered with HTTP status 500`.
    pub message: String,
    /// The task running when it happened.
    pub task: Option<String>,
}

impl EngineError {
    pub(crate) fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        task: Option<&str>,
    ) -> EngineError {
        let code = match kind {
            ErrorKind::Fetch => Some(HTTP_RETRIEVAL_FAILURE),
            ErrorKind::InvalidActions | ErrorKind::MemoryTooLarge => Some(INVALID_ACTIONS_JSON),
            _ => None,
        };
        EngineError {
            kind,
            code,
            message: message.into(),
            task: task.map(str::to_owned),
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = self.code {
            write!(f, "[{code}] ")?;
        }
        f.write_str(&self.message)?;
        if let Some(task) = &self.task {
            write!(f, " (task {task})")?;
        }
        Ok(())
    }
}

impl std::error::Error for EngineError {}
