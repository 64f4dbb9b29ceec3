//! otto-engine: one turn of an Autopilot conversation.
//!
//! Given the assistant, the stored dialogue state and one inbound input,
//! [`Engine::turn`] decides what happens and returns the new state and the
//! output. No I/O of its own: the NLU ([`Understanding`]) and remote actions
//! ([`ActionFetcher`]) are traits, and the clock is a parameter.

mod collect;
mod engine;
pub mod errors;
pub mod events;
pub mod fetch;
mod lifecycle;
pub mod memory;
pub mod output;
pub mod request;
mod routing;
mod runner;
pub mod state;
pub mod templates;
mod turn;
pub mod understanding;

pub use engine::{
    Bot, ChannelData, DEFAULT_APOLOGY, DEFAULT_IDLE_TIMEOUT, DEFAULT_TEMPLATE_FUEL, Engine,
    EngineConfig, Expired, InputKind, MAX_REDIRECTS, Route, SidSource, TurnInput, TurnResult,
};
pub use errors::{EngineError, ErrorKind};
pub use events::{Event, EventKind};
pub use fetch::{ActionFetcher, FetchError, Method, RemoteRequest};
pub use output::{CollectPrompt, HandoffOutput, Output, SayOutput, ShowOutput};
pub use state::{CollectState, DialogueState, EndReason, ListenState, Waiting};
pub use understanding::{RecognizedField, Understanding, Understood};
