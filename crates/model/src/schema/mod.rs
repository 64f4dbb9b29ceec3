//! The Autopilot CLI schema file (reference 17): import and export.

mod export;
mod import;

pub use export::export_schema;
pub use import::{LEGACY_FALLBACK_TASK, LEGACY_INITIATION_TASK, import_schema};

use crate::json::ShapeError;

/// Why a schema file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The file is not JSON at all.
    #[error("not valid JSON at line {line} column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON does not have the schema's shape; the path uses the file's own keys,
    /// e.g. `tasks[3].actions.actions[1].collect: missing "questions"`.
    #[error("{0}")]
    Shape(ShapeError),
}

impl SchemaError {
    fn syntax(error: &serde_json::Error) -> SchemaError {
        let location = format!(" at line {} column {}", error.line(), error.column());
        let text = error.to_string();
        let message = text.strip_suffix(&location).unwrap_or(&text).to_owned();
        SchemaError::Syntax {
            line: error.line(),
            column: error.column(),
            message,
        }
    }
}

impl From<ShapeError> for SchemaError {
    fn from(error: ShapeError) -> SchemaError {
        SchemaError::Shape(error)
    }
}
