//! The engine's front door: configuration, the turn's input and result.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use otto_model::{Assistant, Sid, SidPrefix};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::errors::EngineError;
use crate::events::{Event, EventKind};
use crate::fetch::ActionFetcher;
use crate::lifecycle;
use crate::output::Output;
use crate::state::DialogueState;
use crate::templates::Templates;
use crate::turn::Turn;
use crate::understanding::{RecognizedField, Understanding};

/// Messaging dialogues time out after 4 hours without input.
pub const DEFAULT_IDLE_TIMEOUT: TimeDelta = TimeDelta::hours(4);
/// Redirects one inbound input may follow.
pub const MAX_REDIRECTS: u32 = 5;
/// Instructions one template may execute.
pub const DEFAULT_TEMPLATE_FUEL: u64 = 20_000;
/// What the user hears when something failed and no fallback exists.
pub const DEFAULT_APOLOGY: &str = "Sorry, something went wrong. Please try again later.";

/// Makes the SIDs of new dialogues.
#[derive(Clone)]
pub struct SidSource(Arc<dyn Fn() -> Sid + Send + Sync>);

impl SidSource {
    /// Random `UK…` SIDs that sort by creation time
    /// ([`Sid::generate_time_ordered`]: a dialogue's turns are stored by its
    /// SID, and recent dialogues' turns then share index pages).
    pub fn random() -> SidSource {
        SidSource(Arc::new(|| Sid::generate_time_ordered(SidPrefix::Dialogue)))
    }

    /// `UK000…1`, `UK000…2`, …: deterministic SIDs for tests and tools.
    pub fn sequence() -> SidSource {
        let counter = AtomicU64::new(0);
        SidSource(Arc::new(move || {
            let number = counter.fetch_add(1, Ordering::Relaxed) + 1;
            Sid::from_number(SidPrefix::Dialogue, u128::from(number))
        }))
    }

    pub fn from_fn(make: impl Fn() -> Sid + Send + Sync + 'static) -> SidSource {
        SidSource(Arc::new(make))
    }

    pub(crate) fn next(&self) -> Sid {
        (self.0)()
    }
}

impl fmt::Debug for SidSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SidSource")
    }
}

/// Settings of an engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Inactivity after which a dialogue ends and the next input starts a new one.
    pub idle_timeout: TimeDelta,
    /// Memory size limit (16 KB; 12 KB reproduces Studio).
    pub memory_limit: usize,
    /// Redirects per inbound input.
    pub max_redirects: u32,
    /// The public base URL of otto's REST API, for `DialoguePayloadUrl`.
    pub api_base_url: String,
    /// Said when a failure has no fallback to go to.
    pub apology: String,
    pub template_fuel: u64,
    /// Collect attempts when neither the question nor the style sheet sets
    /// `max_attempts`; `None` = unlimited (Autopilot documented no default).
    pub default_max_attempts: Option<u32>,
    pub sids: SidSource,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            memory_limit: otto_model::actions::MEMORY_SIZE_LIMIT,
            max_redirects: MAX_REDIRECTS,
            api_base_url: "http://localhost".to_owned(),
            apology: DEFAULT_APOLOGY.to_owned(),
            template_fuel: DEFAULT_TEMPLATE_FUEL,
            default_max_attempts: None,
            sids: SidSource::random(),
        }
    }
}

/// The assistant a turn runs against, with its SIDs and its trained NLU.
#[derive(Clone, Copy)]
pub struct Bot<'a> {
    pub account_sid: &'a Sid,
    pub assistant_sid: &'a Sid,
    pub assistant: &'a Assistant,
    pub understanding: &'a dyn Understanding,
    /// The events someone listens to (the names the assistant's event
    /// webhooks subscribe to, any case); `None`: all. Events nobody wants
    /// are not built: each carries a copy of the memory.
    pub subscribed_events: Option<&'a [String]>,
}

impl Bot<'_> {
    /// Whether an event of this kind is wanted.
    pub fn wants_event(&self, kind: &EventKind) -> bool {
        self.subscribed_events.is_none_or(|names| {
            names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(kind.name()))
        })
    }
}

/// What kind of input arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "digits", rename_all = "snake_case")]
pub enum InputKind {
    /// A message or a speech transcript.
    Message,
    /// A call connected: the assistant speaks first (`defaults.assistant_initiation`).
    CallStart,
    /// Keys pressed on a call.
    Digits(String),
    /// The caller hung up.
    HangUp,
}

/// Data a channel adapter keeps under `twilio.<namespace>` (e.g. `voice` with
/// `CallSid`, `From`, `To`; `chat`; `messaging.whatsapp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelData {
    pub namespace: String,
    pub values: Map<String, Value>,
}

/// One inbound input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnInput {
    pub user_identifier: String,
    pub channel: String,
    /// May be empty (a call that just connected).
    pub text: String,
    pub kind: InputKind,
    /// `TargetTask`: run this task instead of asking the NLU.
    pub target_task: Option<String>,
    /// `Memory`: inbound context merged into memory.
    pub inbound_memory: Option<Map<String, Value>>,
    pub channel_data: Option<ChannelData>,
}

impl TurnInput {
    /// A plain message.
    pub fn message(user_identifier: &str, channel: &str, text: &str) -> TurnInput {
        TurnInput {
            user_identifier: user_identifier.to_owned(),
            channel: channel.to_owned(),
            text: text.to_owned(),
            kind: InputKind::Message,
            target_task: None,
            inbound_memory: None,
            channel_data: None,
        }
    }

    /// Another input of the same user on the same channel.
    pub fn with_kind(mut self, kind: InputKind) -> TurnInput {
        self.kind = kind;
        self
    }
}

/// How the input found its first task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// NLU classification (the fallback when nothing matched).
    Nlu,
    /// `TargetTask` given with the input.
    TargetTask,
    /// `defaults.assistant_initiation` on a new call.
    Initiation,
    /// A `voice_digits.redirects` entry.
    Digits,
    /// The input answered a collect question.
    CollectAnswer,
    /// Nothing ran (a hang-up).
    NotRouted,
}

/// Everything one turn decided.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnResult {
    /// The state to store.
    pub state: DialogueState,
    pub output: Output,
    pub route: Route,
    /// The task the input led to first (the fallback's, when NLU matched nothing).
    pub task: Option<String>,
    pub confidence: f64,
    pub next_best_task: Option<String>,
    /// Fields recognised in the input.
    pub fields: Vec<RecognizedField>,
    /// Event webhooks to deliver, in the order they happened.
    pub events: Vec<Event>,
    pub errors: Vec<EngineError>,
}

/// An idle dialogue ended by [`Engine::expire_idle`].
#[derive(Debug, Clone, PartialEq)]
pub struct Expired {
    pub state: DialogueState,
    pub events: Vec<Event>,
}

/// The dialogue engine: runs turns of Autopilot conversations.
#[derive(Debug)]
pub struct Engine<F> {
    pub(crate) fetcher: F,
    pub(crate) config: EngineConfig,
    pub(crate) templates: Templates,
}

impl<F: ActionFetcher> Engine<F> {
    pub fn new(fetcher: F, config: EngineConfig) -> Engine<F> {
        let templates = Templates::new(config.template_fuel);
        Engine {
            fetcher,
            config,
            templates,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// Runs one turn: continues `state` (or starts a new dialogue when there is
    /// none, it ended, it idled past the timeout or a new call starts), handles
    /// the input and returns the new state, the output and what happened.
    /// Never fails: problems are in [`TurnResult::errors`].
    pub async fn turn(
        &self,
        bot: Bot<'_>,
        state: Option<DialogueState>,
        input: TurnInput,
        now: DateTime<Utc>,
    ) -> TurnResult {
        self.turn_after(bot, state.as_ref(), input, now).await
    }

    /// [`Engine::turn`] on a stored state that the caller keeps (a cached
    /// dialogue): the turn works on a copy of it, and the memory-size
    /// rollback restores from it instead of from a copy of its own.
    pub async fn turn_after(
        &self,
        bot: Bot<'_>,
        stored: Option<&DialogueState>,
        input: TurnInput,
        now: DateTime<Utc>,
    ) -> TurnResult {
        let opened = lifecycle::open(&self.config, bot, stored, &input, now);
        Turn::new(self, bot, opened, input, now).run().await
    }

    /// Ends `state` if it idled past the timeout (for a sweeper that fires
    /// `onDialogueEnd` without waiting for the user's next input).
    pub fn expire_idle(
        &self,
        bot: Bot<'_>,
        state: DialogueState,
        now: DateTime<Utc>,
    ) -> Option<Expired> {
        lifecycle::expire_idle(&self.config, bot, state, now)
    }
}
