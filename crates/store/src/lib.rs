//! otto-store: everything otto keeps, on SQLite (the default) or PostgreSQL.
//!
//! One [`Store`] per process, connected with [`Store::connect`] to
//! `sqlite://PATH` or `postgres://…`; the built-in migrations run at connect.
//! All SQL lives in this crate and goes through sqlx's `Any` driver, so one
//! code path serves both databases (only the row-locking clauses differ).
//!
//! - Assistants and their resources: create / fetch by SID or unique name /
//!   update / delete / list with paging, typed errors ([`StoreError`]).
//! - Whole assistants: [`Store::import_assistant`], [`Store::load_assistant`],
//!   [`Store::export_assistant`], [`Store::replace_assistant`].
//! - Dialogue turns: [`Store::lock_user`] → run the engine → [`UserLock::commit`].
//! - Event delivery: [`Store::claim_events`], [`Store::complete_event`],
//!   [`Store::retry_event`]; model builds: [`Store::claim_model_build`],
//!   [`Store::finish_model_build`].
//! - API keys: [`Store::create_api_key`] (the secret shown once, a hash kept),
//!   [`Store::verify_api_key`].

mod api_keys;
mod assistants;
mod clock;
mod db;
mod dialogues;
mod direct;
mod error;
mod events;
mod field_types;
mod import;
mod migrate;
mod model_builds;
mod page;
mod queries;
mod settings;
mod sql;
mod tasks;
mod wal_writes;
mod webhooks;

pub use api_keys::{API_KEY_NAME_LIMIT, ApiKeyRecord, NewApiKey};
pub use assistants::{AssistantRecord, AssistantUpdate, NewAssistant};
pub use clock::{Clock, ManualClock};
pub use db::{Backend, Store, StoreOptions};
pub use dialogues::{
    CommittedTurn, DialogueRecord, ProcessedMessage, StoredTurn, TurnCommit, TurnRecord, Usage,
    UserLock,
};
pub use error::{ResourceKind, Result, StoreError};
pub use events::{ClaimedEvent, EventStatus, NewEvent, QueuedEvent};
pub use field_types::{
    FieldTypeRecord, FieldTypeUpdate, FieldValueFilter, FieldValueRecord, NewFieldType,
    NewFieldValue,
};
pub use import::{AssistantIds, Definition};
pub use migrate::SCHEMA_VERSION;
pub use model_builds::{
    BuildOutcome, MODEL_BUILD_LEASE_SECONDS, ModelBuildRecord, ModelBuildStatus, NewModelBuild,
};
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
pub use queries::{
    DEFAULT_QUERY_STATUS, NewQuery, QUERY_STATUSES, QueryFilter, QueryRecord, QueryUpdate,
};
pub use settings::{ACCOUNT_SID_KEY, AUTH_TOKEN_KEY, Account};
pub use tasks::{
    FieldRecord, NewField, NewSample, NewTask, SampleFilter, SampleRecord, SampleUpdate,
    TaskRecord, TaskStatistics, TaskUpdate,
};
pub use webhooks::{NewWebhook, WebhookRecord, WebhookUpdate};
