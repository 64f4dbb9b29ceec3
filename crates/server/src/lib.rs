//! otto-server: runs Autopilot assistants for real.
//!
//! | module | job |
//! |---|---|
//! | [`understanding`] | `otto_engine::Understanding` over a trained `otto_nlu::Model` |
//! | [`builds`] | training model builds from the stored assistant; the in-memory model cache |
//! | [`fetch`] | `otto_engine::ActionFetcher` over HTTP (signed, 10 s, 16 KB) |
//! | [`signature`] | `X-Twilio-Signature` |
//! | [`turns`] | the turn service: lock the user, run the engine, commit, answer |
//! | [`http`] | axum routes: custom channel v1/v2, Twilio messaging and voice, live dialogues, health |
//! | [`twiml`] | a turn's output as TwiML |
//! | [`events`] | the event webhook delivery worker |
//! | [`demo`] | the demo assistant `otto serve` starts with |
//! | [`conversations`] | the conversation test format and its runner (`otto test`) |
//! | [`training_data`] | an assistant as NLU training data |
//! | [`app`] | putting the parts together |

pub mod app;
pub mod builds;
pub mod conversations;
pub mod demo;
pub mod events;
pub mod fetch;
pub mod http;
mod replay;
pub mod signature;
pub mod training_data;
pub mod turns;
pub mod twiml;
pub mod understanding;

pub use app::{Otto, RunningServer, ServerConfig};
pub use builds::{BuildError, Builds};
pub use fetch::{FetchConfig, HttpFetcher};
pub use turns::{TurnError, TurnOutcome, TurnService};
pub use understanding::NluUnderstanding;
