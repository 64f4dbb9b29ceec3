//! The test harness: one suite, run against SQLite (a temporary file) and
//! PostgreSQL (a fresh schema per test in `OTTO_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`).
//!
//! PostgreSQL tests fail, loudly, when the server is not running: they are
//! never skipped.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use otto_engine::{DialogueState, Waiting};
use otto_model::{Sid, SidPrefix};
use otto_store::{Clock, ManualClock, Store, StoreOptions};
use serde_json::{Map, Value};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Where the store clock of every test starts: 2023-11-14T22:13:20Z.
pub const T0: i64 = 1_700_000_000;

/// Runs the named `async fn(TestDb)` once on each backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::TestDb::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::TestDb::postgres().await).await;
                }
            }
        )*
    };
}

/// A database for one test, with a store on it and the hand of its clock.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was connected with (a second store may connect to it).
    pub url: String,
    pub clock: ManualClock,
    pub backend: otto_store::Backend,
    _dir: Option<tempfile::TempDir>,
}

pub fn postgres_base_url() -> String {
    std::env::var("OTTO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = Sid::generate(SidPrefix::Account);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        &random.as_str()[2..10]
    )
}

fn now_seconds() -> i64 {
    Clock::system().now()
}

/// Connects to the test PostgreSQL server, failing with instructions when it is not there.
pub async fn postgres_admin() -> AnyConnection {
    sqlx::any::install_default_drivers();
    let url = postgres_base_url();
    match tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(&url)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(error)) => panic!(
            "PostgreSQL is not running or not reachable at {url} ({error}). \
             The PostgreSQL half of the store tests needs it: start it (.ci/run starts it), \
             or set OTTO_TEST_POSTGRES_URL to another server (trust auth, database must exist)."
        ),
        Err(_) => panic!(
            "PostgreSQL at {url} did not answer within 10 s. Start it (.ci/run starts it), \
             or set OTTO_TEST_POSTGRES_URL to another server."
        ),
    }
}

/// A URL of the test server whose connections use `schema`.
pub fn postgres_url_with_schema(schema: &str) -> String {
    let base = postgres_base_url();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Creates a fresh schema (and drops those left by runs over an hour old).
pub async fn fresh_postgres_schema() -> String {
    let mut admin = postgres_admin().await;
    let stale = sqlx::query(
        "SELECT nspname::text AS nspname FROM pg_namespace WHERE nspname LIKE 'otto_test_%'",
    )
    .fetch_all(&mut admin)
    .await
    .expect("list schemas");
    let cutoff = now_seconds() - 3600;
    for row in stale {
        let name: String = sqlx::Row::get(&row, "nspname");
        let created = name
            .split('_')
            .nth(2)
            .and_then(|stamp| stamp.parse::<i64>().ok())
            .unwrap_or(i64::MAX);
        if created < cutoff {
            let _ = admin
                .execute(AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .await;
        }
    }
    let schema = format!("otto_test_{}_{}", now_seconds(), unique_suffix());
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create a test schema");
    admin.close().await.ok();
    schema
}

pub fn options(clock: Clock) -> StoreOptions {
    StoreOptions {
        clock,
        acquire_timeout: Duration::from_secs(10),
        ..StoreOptions::default()
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("otto.db").display());
        let (clock, hand) = Clock::manual(T0);
        let store = Store::connect_with(&url, options(clock))
            .await
            .expect("connect to a new SQLite file");
        TestDb {
            store,
            url,
            clock: hand,
            backend: otto_store::Backend::Sqlite,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        let schema = fresh_postgres_schema().await;
        let url = postgres_url_with_schema(&schema);
        let (clock, hand) = Clock::manual(T0);
        let store = Store::connect_with(&url, options(clock))
            .await
            .unwrap_or_else(|error| panic!("connect to PostgreSQL schema {schema}: {error}"));
        TestDb {
            store,
            url,
            clock: hand,
            backend: otto_store::Backend::Postgres,
            _dir: None,
        }
    }

    /// Another store on the same database, as a second process would have.
    pub async fn second_store(&self) -> Store {
        Store::connect_with(&self.url, options(Clock::manual(self.clock.now()).0))
            .await
            .expect("a second store on the same database")
    }
}

pub fn account() -> Sid {
    Sid::from_number(SidPrefix::Account, 0xacc)
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).expect("a valid instant")
}

/// A dialogue state as the engine would store it.
pub fn state(sid: &Sid, user: &str, memory: Value, at_seconds: i64) -> DialogueState {
    let memory: Map<String, Value> = match memory {
        Value::Object(map) => map,
        other => panic!("memory must be an object, got {other}"),
    };
    DialogueState {
        sid: sid.clone(),
        user_identifier: user.to_owned(),
        channel: "sms".to_owned(),
        memory,
        waiting: Waiting::Nothing,
        current_task: None,
        created_at: at(at_seconds),
        last_input_at: at(at_seconds),
        ended: false,
        end_reason: None,
    }
}

/// The path of a shared fixture folder.
pub fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(path)
}

/// A URL of a new, empty database of the same backend (nothing connected yet),
/// and the folder to keep alive for SQLite.
pub async fn fresh_url(backend: otto_store::Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        otto_store::Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
            (url, Some(dir))
        }
        otto_store::Backend::Postgres => {
            let schema = fresh_postgres_schema().await;
            (postgres_url_with_schema(&schema), None)
        }
    }
}
