//! otto-model: the data of a Twilio Autopilot assistant and the rules it must follow.
//!
//! Pure data and validation: SIDs, Actions JSON, the assistant definition and the
//! Autopilot CLI schema format. No I/O beyond parsing strings.

pub mod actions;
pub mod assistant;
mod json;
pub mod schema;
pub mod sid;
pub mod target;

pub use actions::{Action, ActionsDocument, ActionsError};
pub use assistant::{
    Assistant, Defaults, Field, FieldType, FieldValue, Problem, Sample, Severity, StyleSheet, Task,
};
pub use json::ShapeError;
pub use schema::{SchemaError, export_schema, import_schema};
pub use sid::{Sid, SidError, SidPrefix};
pub use target::{Target, TargetError};
