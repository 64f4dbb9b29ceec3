//! otto-load: plays many concurrent conversations against one or several otto
//! instances over the custom channel, measures turns per second and latency,
//! compares with a bare axum handler (the HTTP ceiling of the machine) and
//! checks in the store that every acknowledged turn and every memory is there.
//!
//! The library is what the `otto-load` binary and the multi-instance, crash
//! and database-down tests share: [`drive::run`] plays, [`verify::verify`]
//! checks.

pub mod baseline;
pub mod drive;
pub mod script;
pub mod stalls;
pub mod verify;

pub use drive::{Figures, Pick, Plan, Played, RunResult, Target, TurnOutcome, Until};
pub use script::{Conversation, Script};
pub use verify::{Verification, verify};
