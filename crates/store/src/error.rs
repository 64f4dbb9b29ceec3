//! What can go wrong in the store, precisely enough for the REST layer to pick a
//! Twilio error code and for a person to fix it.

use std::fmt;

/// The kinds of stored things, for error messages and lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Assistant,
    Task,
    Field,
    Sample,
    FieldType,
    FieldValue,
    ModelBuild,
    Query,
    Webhook,
    Dialogue,
    Event,
    ApiKey,
}

impl ResourceKind {
    /// The lower-case name used in messages, e.g. `field type`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::Assistant => "assistant",
            ResourceKind::Task => "task",
            ResourceKind::Field => "field",
            ResourceKind::Sample => "sample",
            ResourceKind::FieldType => "field type",
            ResourceKind::FieldValue => "field value",
            ResourceKind::ModelBuild => "model build",
            ResourceKind::Query => "query",
            ResourceKind::Webhook => "webhook",
            ResourceKind::Dialogue => "dialogue",
            ResourceKind::Event => "event",
            ResourceKind::ApiKey => "API key",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A store failure. Suggested REST mapping (see README): `NotFound` → 404 / Twilio
/// 20404; the conflicts (`UniqueNameTaken`, `ValueTaken`, `InUse`, `WrongStatus`,
/// `DialogueChanged`, `DefinitionChanged`, `DuplicateMessage`, `LeaseLost`) → 409; `Invalid` and
/// `InvalidPageToken` → 400; `Unavailable` → 503; `Corrupt` and `Database` → 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such resource (by SID or unique name) in the given scope.
    #[error("{kind} {key:?} was not found{}", scope_suffix(.scope))]
    NotFound {
        kind: ResourceKind,
        /// The SID or unique name that was asked for.
        key: String,
        /// Where it was looked for, e.g. `assistant UA…`; `None` for top-level resources.
        scope: Option<String>,
    },

    /// Another resource of the same kind in the same scope has this unique name.
    #[error("the unique name {unique_name:?} is already used by another {kind} in {scope}")]
    UniqueNameTaken {
        kind: ResourceKind,
        unique_name: String,
        scope: String,
    },

    /// A field type already has this value (compared ignoring case) in this language.
    #[error(
        "field type {field_type} already has the value {value:?} in {language} (values are compared ignoring case)"
    )]
    ValueTaken {
        field_type: String,
        value: String,
        language: String,
    },

    /// The resource cannot be deleted while other resources refer to it.
    #[error("{kind} {key:?} cannot be deleted: it is used by {used_by}")]
    InUse {
        kind: ResourceKind,
        key: String,
        used_by: String,
    },

    /// The operation does not apply to a resource in its current status.
    #[error("{kind} {key} is {status}; this needs it to be {expected}")]
    WrongStatus {
        kind: ResourceKind,
        key: String,
        status: String,
        expected: String,
    },

    /// A value given to the store is not acceptable.
    #[error("invalid {what}: {problem}")]
    Invalid { what: String, problem: String },

    /// A page token that this store did not issue.
    #[error("page token {token:?} is not valid: pass back the token of a previous page unchanged")]
    InvalidPageToken { token: String },

    /// The user's active dialogue changed between loading it and committing a turn
    /// (another process, on SQLite shared by several processes). Load it again and
    /// run the turn again.
    #[error(
        "the active dialogue of user {user_identifier:?} in assistant {assistant_sid} changed since it was loaded (expected {expected}, found {found}); load it again and retry the turn"
    )]
    DialogueChanged {
        assistant_sid: String,
        user_identifier: String,
        expected: String,
        found: String,
    },

    /// The assistant's definition changed between the start of a turn and its
    /// commit. On SQLite a turn that goes on with a cached dialogue does not
    /// read the definition version first; its commit checks it instead. Run
    /// the turn again with the current definition.
    #[error(
        "the definition of assistant {assistant_sid} changed during the turn (it ran with version {expected}, the store has {}); run the turn again",
        .found.map_or_else(|| "none: the assistant is gone".to_owned(), |found| found.to_string())
    )]
    DefinitionChanged {
        assistant_sid: String,
        expected: i64,
        found: Option<i64>,
    },

    /// This inbound message SID was already processed: answer the retry without
    /// running or counting the turn again.
    #[error("message {message_sid} was already processed")]
    DuplicateMessage { message_sid: String },

    /// The queued event is not leased by this worker any more (it was delivered,
    /// or its lease ran out and another worker claimed it).
    #[error("event {id} is not leased by worker {worker:?} (status {status})")]
    LeaseLost {
        id: i64,
        worker: String,
        status: String,
    },

    /// The database cannot be reached or is overloaded; retry later (HTTP 503).
    /// The pool reconnects by itself when the database is back.
    #[error("the database is unavailable: {message}")]
    Unavailable {
        message: String,
        #[source]
        source: Option<sqlx::Error>,
    },

    /// Stored data that does not read back (a bug or a hand-edited database).
    #[error("stored {what} cannot be read: {problem}")]
    Corrupt { what: String, problem: String },

    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),

    /// Any other error of the direct SQLite connections of the turn path.
    #[error("database error: {message}")]
    Sqlite { message: String },
}

fn scope_suffix(scope: &Option<String>) -> String {
    match scope {
        Some(scope) => format!(" in {scope}"),
        None => String::new(),
    }
}

impl StoreError {
    /// The HTTP status the REST layer should answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            StoreError::NotFound { .. } => 404,
            StoreError::UniqueNameTaken { .. }
            | StoreError::ValueTaken { .. }
            | StoreError::InUse { .. }
            | StoreError::WrongStatus { .. }
            | StoreError::DialogueChanged { .. }
            | StoreError::DefinitionChanged { .. }
            | StoreError::DuplicateMessage { .. }
            | StoreError::LeaseLost { .. } => 409,
            StoreError::Invalid { .. } | StoreError::InvalidPageToken { .. } => 400,
            StoreError::Unavailable { .. } => 503,
            StoreError::Corrupt { .. } | StoreError::Database(_) | StoreError::Sqlite { .. } => 500,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    pub(crate) fn not_found(kind: ResourceKind, key: &str, scope: Option<String>) -> StoreError {
        StoreError::NotFound {
            kind,
            key: key.to_owned(),
            scope,
        }
    }

    pub(crate) fn invalid(what: &str, problem: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            what: what.to_owned(),
            problem: problem.into(),
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, problem: impl fmt::Display) -> StoreError {
        StoreError::Corrupt {
            what: what.into(),
            problem: problem.to_string(),
        }
    }

    pub(crate) fn unavailable(message: impl Into<String>, source: sqlx::Error) -> StoreError {
        StoreError::Unavailable {
            message: message.into(),
            source: Some(source),
        }
    }
}

/// SQLSTATE classes and codes that mean "the server is not there or not taking work".
fn postgres_unavailable(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources (too many connections, disk full)
        || code.starts_with("57P") // admin/crash shutdown, cannot connect now
}

/// SQLite primary result codes: BUSY, LOCKED, CANTOPEN, IOERR.
fn sqlite_unavailable(code: &str) -> bool {
    code.parse::<i64>()
        .map(|code| matches!(code & 0xff, 5 | 6 | 10 | 14))
        .unwrap_or(false)
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        match &error {
            sqlx::Error::Io(io) => {
                let message = format!("connection failed: {io}");
                StoreError::unavailable(message, error)
            }
            sqlx::Error::Tls(tls) => {
                let message = format!("TLS failed: {tls}");
                StoreError::unavailable(message, error)
            }
            sqlx::Error::PoolTimedOut => StoreError::unavailable(
                "no database connection became free in time (the database is down or overloaded)",
                error,
            ),
            sqlx::Error::PoolClosed => StoreError::unavailable("the store was closed", error),
            sqlx::Error::WorkerCrashed => {
                StoreError::unavailable("the SQLite worker thread stopped", error)
            }
            sqlx::Error::Protocol(message) => {
                let message = format!("the connection broke: {message}");
                StoreError::unavailable(message, error)
            }
            sqlx::Error::Database(db) => {
                let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
                let unavailable = if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    sqlite_unavailable(&code)
                } else {
                    postgres_unavailable(&code)
                };
                if unavailable {
                    let message = format!("{} (code {code})", db.message());
                    StoreError::unavailable(message, error)
                } else {
                    StoreError::Database(error)
                }
            }
            _ => StoreError::Database(error),
        }
    }
}

/// Whether a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_where() {
        let error = StoreError::not_found(
            ResourceKind::Task,
            "book",
            Some("assistant UA00000000000000000000000000000001".into()),
        );
        assert_eq!(
            error.to_string(),
            "task \"book\" was not found in assistant UA00000000000000000000000000000001"
        );
        assert_eq!(error.http_status(), 404);
        let error = StoreError::not_found(ResourceKind::Assistant, "bot", None);
        assert_eq!(error.to_string(), "assistant \"bot\" was not found");
    }

    #[test]
    fn unavailable_codes() {
        assert!(postgres_unavailable("08006"));
        assert!(postgres_unavailable("57P01"));
        assert!(postgres_unavailable("53300"));
        assert!(!postgres_unavailable("23505"));
        assert!(sqlite_unavailable("5"));
        assert!(sqlite_unavailable("517"));
        assert!(sqlite_unavailable("14"));
        assert!(!sqlite_unavailable("2067"));
        assert!(!sqlite_unavailable("23505"));
    }

    #[test]
    fn pool_timeouts_are_unavailable() {
        let error = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(error.is_unavailable());
        assert_eq!(error.http_status(), 503);
    }
}
