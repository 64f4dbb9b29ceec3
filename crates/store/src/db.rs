//! The connection pool, the two backends, and the small helpers every module
//! uses to talk SQL through sqlx's `Any` driver (one code path for both).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::direct::{Direct, DirectSettings};
use otto_model::{Sid, SidPrefix};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Connection, Executor, Row, Transaction};

use crate::clock::Clock;
use crate::error::{ResourceKind, Result, StoreError};
use crate::migrate;

/// A pooled PostgreSQL connection idle this long is tested before use.
const TEST_IDLE_AFTER: Duration = Duration::from_secs(1);

pub(crate) type Tx = Transaction<'static, Any>;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to connect. `StoreOptions::default()` suits a server.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size; `None` = 8 on SQLite, 10 on PostgreSQL.
    pub max_connections: Option<u32>,
    /// How long a call waits for a connection (or for the database to come
    /// back) before it fails with [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// How long SQLite waits for another writer before giving up (`busy_timeout`).
    pub sqlite_busy_timeout: Duration,
    /// SQLite: fsync every commit (`synchronous = FULL`) instead of at WAL
    /// checkpoints (`NORMAL`, the default). Both survive a crash of the
    /// process; only FULL survives losing power or the OS right after an
    /// answer. Also set by `?synchronous=full` in the URL.
    pub sqlite_synchronous_full: bool,
    /// SQLite: how many frames (pages) the WAL may hold before the checkpoint
    /// thread makes it start over from its beginning, holding the writer for
    /// the moment that takes (default 8,192, 32 MB with 4 kB pages).
    pub sqlite_wal_restart_frames: u32,
    pub clock: Clock,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_synchronous_full: false,
            sqlite_wal_restart_frames: 8_192,
            clock: Clock::system(),
        }
    }
}

/// The store: cheap to clone, share one per process.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) clock: Clock,
    /// SQLite only: one async mutex per (assistant, user) key currently in use.
    pub(crate) user_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Assistant definitions by SID, with the `definition_version` they were
    /// read at (see [`Store::current_assistant`]).
    pub(crate) definitions: Mutex<HashMap<Sid, Arc<crate::import::Definition>>>,
    /// SQLite: the turn path's direct connections (set once migrated).
    pub(crate) direct: std::sync::OnceLock<Direct>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

/// Reads a database URL: `sqlite://PATH` (file created if missing) or
/// `postgres://…` / `postgresql://…`.
pub(crate) fn parse_url(url: &str) -> Result<(Backend, String)> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let file = path.split('?').next().unwrap_or("");
        if file.is_empty() || file == ":memory:" || path.contains("mode=memory") {
            return Err(StoreError::invalid(
                "database URL",
                format!(
                    "{url:?} names no file; otto keeps its data in a file: use sqlite://PATH (for tests, a file in a temporary folder)"
                ),
            ));
        }
        let mut url = url.to_owned();
        if !path.contains("mode=") {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str("mode=rwc");
        }
        return Ok((Backend::Sqlite, url));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    Err(StoreError::invalid(
        "database URL",
        format!(
            "{url:?} is not supported: use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
        ),
    ))
}

/// Takes `synchronous=full|normal` out of a SQLite URL's query (sqlx does not
/// know it); `true` for full.
fn take_synchronous(url: &str) -> Result<(String, bool)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), false));
    };
    if !url.starts_with("sqlite:") {
        return Ok((url.to_owned(), false));
    }
    let mut full = false;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("synchronous", value)) => match value.to_ascii_lowercase().as_str() {
                "full" => full = true,
                "normal" => full = false,
                other => {
                    return Err(StoreError::invalid(
                        "database URL",
                        format!("synchronous={other} is not supported: use full or normal"),
                    ));
                }
            },
            _ => kept.push(pair),
        }
    }
    if kept.is_empty() {
        Ok((base.to_owned(), full))
    } else {
        Ok((format!("{base}?{}", kept.join("&")), full))
    }
}

impl Store {
    /// Connects with default options and applies the built-in migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, StoreOptions::default()).await
    }

    /// Connects, creating the SQLite file if needed, and applies the built-in
    /// migrations (idempotent; concurrent starts are serialised). A database
    /// that cannot be reached gives [`StoreError::Unavailable`].
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (url, synchronous_full) = take_synchronous(url)?;
        let (backend, url) = parse_url(&url)?;
        let synchronous = if synchronous_full || options.sqlite_synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        let max_connections = options.max_connections.unwrap_or(match backend {
            Backend::Sqlite => 8,
            // Every turn in progress holds one connection from lock to commit.
            Backend::Postgres => 16,
        });
        let busy_ms = options.sqlite_busy_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            // A network connection can die while idle in the pool (the server
            // restarted): one idle for a while is tested first, so callers do
            // not get a dead one. One used a moment ago is not: under load
            // that test was a round trip more on every turn. A SQLite
            // connection is a file handle: nothing to test.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for >= TEST_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        let pragma = format!("PRAGMA busy_timeout = {busy_ms}");
                        conn.execute(AssertSqlSafe(pragma)).await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // In WAL mode NORMAL fsyncs at checkpoints, not at
                        // every commit: a commit is in the WAL file (the OS
                        // has it) before it returns, so it survives the
                        // process crashing; only a power or OS failure can
                        // lose the last commits. FULL (opt-in) fsyncs each.
                        let pragma = format!("PRAGMA synchronous = {synchronous}");
                        conn.execute(AssertSqlSafe(pragma)).await?;
                        // Every commit invalidates the other connections'
                        // page caches; mapped pages are read back without
                        // a copy. (Address space only; 256 MB at most.)
                        conn.execute("PRAGMA mmap_size = 268435456").await?;
                        // Checkpoints run in the background (see
                        // `direct::run_checkpointer`), not in the commit of
                        // whichever turn crosses the threshold; this one only
                        // bounds the WAL (40 MB) if that task is not running.
                        conn.execute("PRAGMA wal_autocheckpoint = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|error| connect_error(backend, error))?;
        let store = Store {
            inner: Arc::new(Inner {
                pool,
                backend,
                clock: options.clock,
                user_locks: Mutex::new(HashMap::new()),
                definitions: Mutex::new(HashMap::new()),
                direct: std::sync::OnceLock::new(),
            }),
        };
        migrate::run(&store).await?;
        if backend == Backend::Sqlite {
            let settings = DirectSettings {
                path: store.sqlite_file().await?,
                busy_timeout: options.sqlite_busy_timeout,
                synchronous_full: synchronous == "FULL",
                wal_restart_frames: options.sqlite_wal_restart_frames,
            };
            let direct = Direct::open(settings)?;
            let _ = store.inner.direct.set(direct);
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Now, by the store's clock (epoch seconds).
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Closes every connection; later calls fail with `Unavailable`.
    pub async fn close(&self) {
        if let Some(direct) = self.inner.direct.get() {
            direct.close();
        }
        self.inner.pool.close().await;
    }

    /// SQLite: the turn path's direct connections.
    pub(crate) fn direct(&self) -> Result<&Direct> {
        self.inner
            .direct
            .get()
            .ok_or_else(|| StoreError::invalid("store", "direct connections are SQLite's only"))
    }

    /// The SQLite database file, as SQLite itself resolved it.
    async fn sqlite_file(&self) -> Result<std::path::PathBuf> {
        let row = sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&self.inner.pool)
            .await?;
        Ok(std::path::PathBuf::from(text(&row, "file")?))
    }

    /// Checks that the database answers (for a readiness probe).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .fetch_one(&self.inner.pool)
            .await
            .map(|_| ())
            .map_err(StoreError::from)
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes can fail with SQLITE_BUSY_SNAPSHOT instead of waiting.
    pub(crate) async fn write_tx(&self) -> Result<Tx> {
        let tx = match self.inner.backend {
            Backend::Sqlite => self.inner.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.inner.pool.begin().await?,
        };
        Ok(tx)
    }

    /// A transaction that only reads, seeing one consistent snapshot.
    pub(crate) async fn read_tx(&self) -> Result<Tx> {
        let tx = match self.inner.backend {
            Backend::Sqlite => self.inner.pool.begin().await?,
            Backend::Postgres => {
                self.inner
                    .pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        Ok(tx)
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<Any>> {
        Ok(self.inner.pool.acquire().await?)
    }
}

fn connect_error(backend: Backend, error: sqlx::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::Unavailable { message, source } => {
            let what = match backend {
                Backend::Sqlite => "SQLite database",
                Backend::Postgres => "PostgreSQL server",
            };
            StoreError::Unavailable {
                message: format!("cannot connect to the {what}: {message}"),
                source,
            }
        }
        StoreError::Database(error) => {
            let message = format!("cannot connect: {error}");
            StoreError::unavailable(message, error)
        }
        other => other,
    }
}

/// A value to bind, for SQL assembled at run time.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Blob(Option<Vec<u8>>),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

impl From<&Sid> for Arg {
    fn from(sid: &Sid) -> Arg {
        Arg::Text(sid.as_str().to_owned())
    }
}

impl From<i64> for Arg {
    fn from(number: i64) -> Arg {
        Arg::Int(number)
    }
}

impl From<bool> for Arg {
    fn from(flag: bool) -> Arg {
        Arg::Int(i64::from(flag))
    }
}

impl From<Option<String>> for Arg {
    fn from(text: Option<String>) -> Arg {
        Arg::OptText(text)
    }
}

impl From<Option<&str>> for Arg {
    fn from(text: Option<&str>) -> Arg {
        Arg::OptText(text.map(str::to_owned))
    }
}

impl From<Option<i64>> for Arg {
    fn from(number: Option<i64>) -> Arg {
        Arg::OptInt(number)
    }
}

/// `sqlx::query` for SQL built at run time, with its arguments bound.
pub(crate) fn query_with(sql: String, args: Vec<Arg>) -> Query<'static, Any, AnyArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text),
            Arg::Int(number) => query.bind(number),
            Arg::OptText(text) => query.bind(text),
            Arg::OptInt(number) => query.bind(number),
            Arg::Blob(bytes) => query.bind(bytes),
        };
    }
    query
}

/// Inserts rows in batches of multi-row `VALUES` (fewer round trips on PostgreSQL).
pub(crate) async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Arg>>,
) -> Result<()> {
    for (sql, args) in crate::sql::insert_statements(table, columns, rows) {
        query_with(sql, args).execute(&mut *conn).await?;
    }
    Ok(())
}

// ---- reading rows ---------------------------------------------------------

fn decode_error(column: &str, error: sqlx::Error) -> StoreError {
    StoreError::corrupt(format!("column {column}"), error)
}

pub(crate) fn text(row: &AnyRow, column: &str) -> Result<String> {
    row.try_get::<String, _>(column)
        .map_err(|error| decode_error(column, error))
}

pub(crate) fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>> {
    row.try_get::<Option<String>, _>(column)
        .map_err(|error| decode_error(column, error))
}

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i64> {
    row.try_get::<i64, _>(column)
        .map_err(|error| decode_error(column, error))
}

pub(crate) fn opt_int(row: &AnyRow, column: &str) -> Result<Option<i64>> {
    row.try_get::<Option<i64>, _>(column)
        .map_err(|error| decode_error(column, error))
}

pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(int(row, column)? != 0)
}

pub(crate) fn blob(row: &AnyRow, column: &str) -> Result<Option<Vec<u8>>> {
    row.try_get::<Option<Vec<u8>>, _>(column)
        .map_err(|error| decode_error(column, error))
}

pub(crate) fn sid(row: &AnyRow, column: &str) -> Result<Sid> {
    let value = text(row, column)?;
    Sid::parse(&value).map_err(|error| StoreError::corrupt(format!("column {column}"), error))
}

pub(crate) fn opt_sid(row: &AnyRow, column: &str) -> Result<Option<Sid>> {
    match opt_text(row, column)? {
        Some(value) => Sid::parse(&value)
            .map(Some)
            .map_err(|error| StoreError::corrupt(format!("column {column}"), error)),
        None => Ok(None),
    }
}

pub(crate) fn json(row: &AnyRow, column: &str) -> Result<serde_json::Value> {
    let value = text(row, column)?;
    serde_json::from_str(&value)
        .map_err(|error| StoreError::corrupt(format!("JSON in column {column}"), error))
}

pub(crate) fn to_json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

// ---- addressing -------------------------------------------------------------

/// How a resource kind is stored and addressed.
pub(crate) struct Table {
    pub(crate) kind: ResourceKind,
    pub(crate) name: &'static str,
    pub(crate) prefix: SidPrefix,
    /// The column holding the parent's SID.
    pub(crate) parent: &'static str,
    /// Whether `unique_name` also addresses it.
    pub(crate) by_unique_name: bool,
}

pub(crate) const TASKS: Table = Table {
    kind: ResourceKind::Task,
    name: "tasks",
    prefix: SidPrefix::Task,
    parent: "assistant_sid",
    by_unique_name: true,
};
pub(crate) const FIELDS: Table = Table {
    kind: ResourceKind::Field,
    name: "fields",
    prefix: SidPrefix::Field,
    parent: "task_sid",
    by_unique_name: true,
};
pub(crate) const SAMPLES: Table = Table {
    kind: ResourceKind::Sample,
    name: "samples",
    prefix: SidPrefix::Sample,
    parent: "task_sid",
    by_unique_name: false,
};
pub(crate) const FIELD_TYPES: Table = Table {
    kind: ResourceKind::FieldType,
    name: "field_types",
    prefix: SidPrefix::FieldType,
    parent: "assistant_sid",
    by_unique_name: true,
};
pub(crate) const FIELD_VALUES: Table = Table {
    kind: ResourceKind::FieldValue,
    name: "field_values",
    prefix: SidPrefix::FieldValue,
    parent: "field_type_sid",
    by_unique_name: false,
};
pub(crate) const MODEL_BUILDS: Table = Table {
    kind: ResourceKind::ModelBuild,
    name: "model_builds",
    prefix: SidPrefix::ModelBuild,
    parent: "assistant_sid",
    by_unique_name: true,
};
pub(crate) const QUERIES: Table = Table {
    kind: ResourceKind::Query,
    name: "queries",
    prefix: SidPrefix::Query,
    parent: "assistant_sid",
    by_unique_name: false,
};
pub(crate) const WEBHOOKS: Table = Table {
    kind: ResourceKind::Webhook,
    name: "webhooks",
    prefix: SidPrefix::Webhook,
    parent: "assistant_sid",
    by_unique_name: true,
};

/// The scope text of error messages: `assistant UA…`.
pub(crate) fn scope(kind: ResourceKind, sid: &Sid) -> String {
    format!("{kind} {sid}")
}

/// The parent's kind for the scope of messages.
fn parent_kind(table: &Table) -> ResourceKind {
    match table.parent {
        "task_sid" => ResourceKind::Task,
        "field_type_sid" => ResourceKind::FieldType,
        _ => ResourceKind::Assistant,
    }
}

/// Finds a child resource's SID by SID or (where allowed) unique name.
pub(crate) async fn resolve(
    conn: &mut AnyConnection,
    table: &Table,
    parent: &Sid,
    key: &str,
) -> Result<Sid> {
    let by_sid = Sid::parse_kind(key, table.prefix).is_ok();
    if !by_sid && !table.by_unique_name {
        return Err(StoreError::not_found(
            table.kind,
            key,
            Some(scope(parent_kind(table), parent)),
        ));
    }
    let column = if by_sid { "sid" } else { "unique_name" };
    let sql = format!(
        "SELECT sid FROM {} WHERE {} = $1 AND {column} = $2",
        table.name, table.parent
    );
    let row = query_with(sql, vec![parent.into(), key.into()])
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => sid(&row, "sid"),
        None => Err(StoreError::not_found(
            table.kind,
            key,
            Some(scope(parent_kind(table), parent)),
        )),
    }
}

/// Finds a live (not deleted) assistant of the account by SID or unique name.
pub(crate) async fn resolve_assistant(
    conn: &mut AnyConnection,
    account: &Sid,
    key: &str,
) -> Result<Sid> {
    let column = if Sid::parse_kind(key, SidPrefix::Assistant).is_ok() {
        "sid"
    } else {
        "unique_name"
    };
    let sql = format!(
        "SELECT sid FROM assistants WHERE account_sid = $1 AND {column} = $2 AND deleted = 0"
    );
    let row = query_with(sql, vec![account.into(), key.into()])
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => sid(&row, "sid"),
        None => Err(StoreError::not_found(ResourceKind::Assistant, key, None)),
    }
}

/// Whether another row of the table in the same parent already has this unique name.
pub(crate) async fn unique_name_taken(
    conn: &mut AnyConnection,
    table: &Table,
    parent: &Sid,
    unique_name: &str,
    except: Option<&Sid>,
) -> Result<bool> {
    let sql = format!(
        "SELECT sid FROM {} WHERE {} = $1 AND unique_name = $2",
        table.name, table.parent
    );
    let rows = query_with(sql, vec![parent.into(), unique_name.into()])
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        if Some(&sid(&row, "sid")?) != except {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn name_taken(table: &Table, parent: &Sid, unique_name: &str) -> StoreError {
    StoreError::UniqueNameTaken {
        kind: table.kind,
        unique_name: unique_name.to_owned(),
        scope: scope(parent_kind(table), parent),
    }
}

/// Deletes one row by SID within its parent; `NotFound` when there is none.
pub(crate) async fn delete_row(
    conn: &mut AnyConnection,
    table: &Table,
    parent: &Sid,
    sid: &Sid,
) -> Result<()> {
    let sql = format!(
        "DELETE FROM {} WHERE {} = $1 AND sid = $2",
        table.name, table.parent
    );
    let done = query_with(sql, vec![parent.into(), sid.into()])
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(
            table.kind,
            sid.as_str(),
            Some(scope(parent_kind(table), parent)),
        ));
    }
    Ok(())
}

/// Marks the assistant's training data as changed since its last model build.
pub(crate) async fn touch_training(conn: &mut AnyConnection, assistant: &Sid) -> Result<()> {
    sqlx::query(
        "UPDATE assistants SET needs_model_build = 1, training_version = training_version + 1 WHERE sid = $1",
    )
    .bind(assistant.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Checks a unique name: 1 to 64 characters, and not shaped like a SID of its
/// own kind (it could never be addressed by name).
pub(crate) fn check_unique_name(kind: ResourceKind, prefix: SidPrefix, name: &str) -> Result<()> {
    let what = format!("{kind} unique_name");
    let length = name.chars().count();
    if length == 0 {
        return Err(StoreError::invalid(&what, "it must not be empty"));
    }
    if length > otto_model::assistant::UNIQUE_NAME_LIMIT {
        return Err(StoreError::invalid(
            &what,
            format!(
                "{name:?} has {length} characters, at most {} are allowed",
                otto_model::assistant::UNIQUE_NAME_LIMIT
            ),
        ));
    }
    if Sid::parse_kind(name, prefix).is_ok() {
        return Err(StoreError::invalid(
            &what,
            format!("{name:?} looks like a {prefix} SID; a unique name must not"),
        ));
    }
    Ok(())
}

/// [`check_unique_name`] for a resource whose unique name may be its own SID
/// (assistants and model builds default to that).
pub(crate) fn check_own_unique_name(
    kind: ResourceKind,
    prefix: SidPrefix,
    name: &str,
    own: &Sid,
) -> Result<()> {
    if name == own.as_str() {
        return Ok(());
    }
    check_unique_name(kind, prefix, name)
}

/// Checks a friendly name: at most 255 characters.
pub(crate) fn check_friendly_name(kind: ResourceKind, name: Option<&str>) -> Result<()> {
    let Some(name) = name else {
        return Ok(());
    };
    let length = name.chars().count();
    if length > otto_model::assistant::FRIENDLY_NAME_LIMIT {
        return Err(StoreError::invalid(
            &format!("{kind} friendly_name"),
            format!(
                "it has {length} characters, at most {} are allowed",
                otto_model::assistant::FRIENDLY_NAME_LIMIT
            ),
        ));
    }
    Ok(())
}

/// A random SID of the given kind.
pub(crate) fn new_sid(prefix: SidPrefix) -> Sid {
    Sid::generate(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("sqlite://otto.db").unwrap(),
            (Backend::Sqlite, "sqlite://otto.db?mode=rwc".to_owned())
        );
        assert_eq!(
            parse_url("sqlite:///tmp/x.db?mode=ro").unwrap(),
            (Backend::Sqlite, "sqlite:///tmp/x.db?mode=ro".to_owned())
        );
        assert_eq!(
            parse_url("sqlite:///tmp/x.db?cache=shared").unwrap(),
            (
                Backend::Sqlite,
                "sqlite:///tmp/x.db?cache=shared&mode=rwc".to_owned()
            )
        );
        assert_eq!(
            parse_url("postgres://postgres@127.0.0.1/test").unwrap().0,
            Backend::Postgres
        );
        assert_eq!(parse_url("postgresql://h/db").unwrap().0, Backend::Postgres);
        let error = parse_url("mysql://h/db").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid database URL: \"mysql://h/db\" is not supported: use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
        );
        assert!(matches!(
            parse_url("sqlite::memory:"),
            Err(StoreError::Invalid { .. })
        ));
    }

    #[test]
    fn synchronous_is_taken_out_of_sqlite_urls() {
        assert_eq!(
            take_synchronous("sqlite:///x.db").unwrap(),
            ("sqlite:///x.db".to_owned(), false)
        );
        assert_eq!(
            take_synchronous("sqlite:///x.db?synchronous=FULL").unwrap(),
            ("sqlite:///x.db".to_owned(), true)
        );
        assert_eq!(
            take_synchronous("sqlite:///x.db?mode=rwc&synchronous=normal").unwrap(),
            ("sqlite:///x.db?mode=rwc".to_owned(), false)
        );
        assert!(take_synchronous("sqlite:///x.db?synchronous=off").is_err());
        assert_eq!(
            take_synchronous("postgres://h/db?synchronous=full").unwrap(),
            ("postgres://h/db?synchronous=full".to_owned(), false)
        );
    }

    #[test]
    fn unique_names() {
        assert!(check_unique_name(ResourceKind::Task, SidPrefix::Task, "book").is_ok());
        let error = check_unique_name(ResourceKind::Task, SidPrefix::Task, "").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid task unique_name: it must not be empty"
        );
        let long = "x".repeat(65);
        let error = check_unique_name(ResourceKind::Task, SidPrefix::Task, &long).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("has 65 characters, at most 64 are allowed")
        );
        let sid = Sid::from_number(SidPrefix::Task, 7);
        assert!(check_unique_name(ResourceKind::Task, SidPrefix::Task, sid.as_str()).is_err());
        // Another kind's SID is just a name here.
        assert!(check_unique_name(ResourceKind::Field, SidPrefix::Field, sid.as_str()).is_ok());
    }
}
