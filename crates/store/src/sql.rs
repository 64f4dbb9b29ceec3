//! One interface over the two ways the store reaches a database: through
//! sqlx (every backend, every query of the REST API) and through a direct
//! SQLite connection (the turn path on SQLite, see [`crate::direct`]). What
//! must behave the same on both, a turn's commit above all, is written once
//! against [`SqlConn`].
//!
//! The direct implementation never waits: its futures are ready when first
//! polled, so the SQLite writer thread runs them with [`crate::direct`]'s
//! `ready` instead of an executor.

use otto_model::Sid;
use sqlx::AnyConnection;

use crate::db::{Arg, int, query_with, sid, text};
use crate::dialogues::{DialogueRecord, ProcessedMessage, dialogue_from_row};
use crate::error::Result;

/// The dialogue columns, in the order both implementations read them.
pub(crate) const DIALOGUE_COLUMNS: &str = "seq, sid, account_sid, assistant_sid, user_identifier, channel, state, active, version, turn_count, last_input_at, date_created, date_updated";

pub(crate) const ACTIVE_DIALOGUE: &str =
    "assistant_sid = $1 AND user_identifier = $2 AND active = 1";
pub(crate) const DIALOGUE_BY_SID: &str = "sid = $1";
pub(crate) const PROCESSED_MESSAGE: &str = "SELECT message_sid, assistant_sid, dialogue_sid, turn_seq, date_created FROM inbound_messages WHERE message_sid = $1";
pub(crate) const WEBHOOK_SUBSCRIPTIONS: &str =
    "SELECT sid, events FROM webhooks WHERE assistant_sid = $1 ORDER BY seq";
pub(crate) const DEFINITION_VERSION: &str =
    "SELECT definition_version FROM assistants WHERE sid = $1 AND deleted = 0";
/// The assistant's definition version and the head of the user's active
/// dialogue, in one statement (one read transaction for a turn on SQLite).
/// `$1` comes first in the text: SQLite numbers parameters in that order.
pub(crate) const DEFINITION_VERSION_AND_DIALOGUE_HEAD: &str = "SELECT a.definition_version, d.sid, d.version FROM assistants a \
     LEFT JOIN dialogues d ON d.assistant_sid = $1 AND d.user_identifier = $2 AND d.active = 1 \
     WHERE a.sid = $1 AND a.deleted = 0";
pub(crate) const DIALOGUE_HEAD: &str = "SELECT sid, version FROM dialogues WHERE assistant_sid = $1 AND user_identifier = $2 AND active = 1";
pub(crate) const ASSISTANT_ACCOUNT: &str = "SELECT account_sid FROM assistants WHERE sid = $1";

/// The assistant's SID and definition version, by SID or by unique name.
pub(crate) fn assistant_version_sql(by_sid: bool) -> &'static str {
    if by_sid {
        "SELECT sid, definition_version FROM assistants WHERE account_sid = $1 AND sid = $2 AND deleted = 0"
    } else {
        "SELECT sid, definition_version FROM assistants WHERE account_sid = $1 AND unique_name = $2 AND deleted = 0"
    }
}

/// What a turn reads and writes, on either kind of connection. SQL uses
/// `$1`-style placeholders, numbered in order of first use (SQLite binds
/// them by position in that order).
pub(crate) trait SqlConn {
    /// Runs a statement; returns the rows it changed.
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64>;

    /// The first dialogue matching `filter` (a `WHERE` clause).
    async fn dialogue_where(
        &mut self,
        filter: &str,
        args: Vec<Arg>,
    ) -> Result<Option<DialogueRecord>>;

    /// The SID and version of the user's active dialogue (without reading
    /// its state).
    async fn dialogue_head(&mut self, assistant: &Sid, user: &str) -> Result<Option<(Sid, i64)>>;

    /// `(sid, events)` of the assistant's webhooks, in creation order.
    async fn webhook_subscriptions(&mut self, assistant: &Sid) -> Result<Vec<(String, String)>>;

    /// The account an assistant belongs to.
    async fn assistant_account(&mut self, assistant: &Sid) -> Result<Option<String>>;

    /// A processed inbound message, by its SID.
    async fn processed_message(&mut self, message_sid: &str) -> Result<Option<ProcessedMessage>>;

    /// An assistant's definition version, if it exists and is not deleted.
    async fn definition_version(&mut self, assistant: &Sid) -> Result<Option<i64>>;

    /// An assistant's SID and definition version, by SID (`by_sid`) or
    /// unique name, if it exists and is not deleted.
    async fn assistant_version(
        &mut self,
        account: &Sid,
        by_sid: bool,
        key: &str,
    ) -> Result<Option<(Sid, i64)>>;

    /// The user's active dialogue with the assistant.
    async fn active_dialogue(
        &mut self,
        assistant: &Sid,
        user: &str,
    ) -> Result<Option<DialogueRecord>> {
        self.dialogue_where(ACTIVE_DIALOGUE, vec![assistant.into(), user.into()])
            .await
    }

    /// A dialogue by SID, active or not.
    async fn dialogue_by_sid(&mut self, sid: &Sid) -> Result<Option<DialogueRecord>> {
        self.dialogue_where(DIALOGUE_BY_SID, vec![sid.into()]).await
    }
}

impl SqlConn for AnyConnection {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        let done = query_with(sql.to_owned(), args).execute(&mut *self).await?;
        Ok(done.rows_affected())
    }

    async fn dialogue_where(
        &mut self,
        filter: &str,
        args: Vec<Arg>,
    ) -> Result<Option<DialogueRecord>> {
        let sql = format!("SELECT {DIALOGUE_COLUMNS} FROM dialogues WHERE {filter}");
        let row = query_with(sql, args).fetch_optional(&mut *self).await?;
        row.map(|row| dialogue_from_row(&row)).transpose()
    }

    async fn dialogue_head(&mut self, assistant: &Sid, user: &str) -> Result<Option<(Sid, i64)>> {
        let row = query_with(
            DIALOGUE_HEAD.to_owned(),
            vec![assistant.into(), user.into()],
        )
        .fetch_optional(&mut *self)
        .await?;
        row.map(|row| Ok((sid(&row, "sid")?, int(&row, "version")?)))
            .transpose()
    }

    async fn webhook_subscriptions(&mut self, assistant: &Sid) -> Result<Vec<(String, String)>> {
        query_with(WEBHOOK_SUBSCRIPTIONS.to_owned(), vec![assistant.into()])
            .fetch_all(&mut *self)
            .await?
            .iter()
            .map(|row| Ok((text(row, "sid")?, text(row, "events")?)))
            .collect()
    }

    async fn assistant_account(&mut self, assistant: &Sid) -> Result<Option<String>> {
        let row = query_with(ASSISTANT_ACCOUNT.to_owned(), vec![assistant.into()])
            .fetch_optional(&mut *self)
            .await?;
        row.map(|row| text(&row, "account_sid")).transpose()
    }

    async fn definition_version(&mut self, assistant: &Sid) -> Result<Option<i64>> {
        let row = query_with(DEFINITION_VERSION.to_owned(), vec![assistant.into()])
            .fetch_optional(&mut *self)
            .await?;
        row.map(|row| int(&row, "definition_version")).transpose()
    }

    async fn assistant_version(
        &mut self,
        account: &Sid,
        by_sid: bool,
        key: &str,
    ) -> Result<Option<(Sid, i64)>> {
        let sql = assistant_version_sql(by_sid).to_owned();
        let row = query_with(sql, vec![account.into(), key.into()])
            .fetch_optional(&mut *self)
            .await?;
        row.map(|row| Ok((sid(&row, "sid")?, int(&row, "definition_version")?)))
            .transpose()
    }

    async fn processed_message(&mut self, message_sid: &str) -> Result<Option<ProcessedMessage>> {
        let row = query_with(PROCESSED_MESSAGE.to_owned(), vec![message_sid.into()])
            .fetch_optional(&mut *self)
            .await?;
        row.map(|row| {
            Ok(ProcessedMessage {
                message_sid: text(&row, "message_sid")?,
                assistant_sid: sid(&row, "assistant_sid")?,
                dialogue_sid: crate::db::opt_sid(&row, "dialogue_sid")?,
                turn_seq: crate::db::opt_int(&row, "turn_seq")?,
                date_created: int(&row, "date_created")?,
            })
        })
        .transpose()
    }
}

/// `INSERT`s of `rows` in batches of multi-row `VALUES` (fewer round trips on
/// PostgreSQL), each with its arguments.
pub(crate) fn insert_statements(
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Arg>>,
) -> Vec<(String, Vec<Arg>)> {
    // Well under SQLite's and PostgreSQL's limits on bound parameters.
    let per_batch = (900 / columns.len().max(1)).max(1);
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Arg>> = rows.by_ref().take(per_batch).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut args = Vec::with_capacity(batch.len() * columns.len());
        for (index, row) in batch.into_iter().enumerate() {
            debug_assert_eq!(row.len(), columns.len());
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..row.len() {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", args.len() + column + 1));
            }
            sql.push(')');
            args.extend(row);
        }
        statements.push((sql, args));
    }
    statements
}
