//! Connecting: migrations at start (idempotent, concurrent), settings and the
//! account, and a database that goes away and comes back, on both backends.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{T0, TestDb, account, fresh_url, options, postgres_base_url};
use otto_model::SidPrefix;
use otto_store::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

both_backends!(
    migrations_are_idempotent,
    concurrent_first_starts_agree,
    settings_and_account,
    unavailable_database_then_recovery,
);

async fn migrations_are_idempotent(db: TestDb) {
    assert_eq!(db.store.schema_versions().await.unwrap(), all_versions());
    let created = db
        .store
        .create_assistant(
            &account(),
            NewAssistant {
                unique_name: Some("kept".into()),
                ..NewAssistant::default()
            },
        )
        .await
        .unwrap();
    db.store.close().await;
    // A restart applies nothing and keeps the data.
    for _ in 0..2 {
        let again = Store::connect_with(&db.url, options(Clock::manual(T0).0))
            .await
            .unwrap();
        assert_eq!(again.schema_versions().await.unwrap(), all_versions());
        assert_eq!(
            again.fetch_assistant(&account(), "kept").await.unwrap(),
            created
        );
        again.close().await;
    }
    // A closed store says so.
    let error = db.store.ping().await.unwrap_err();
    assert!(error.is_unavailable(), "{error}");
}

async fn concurrent_first_starts_agree(db: TestDb) {
    let (url, _dir) = fresh_url(db.backend).await;
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(
                async move { Store::connect_with(&url, options(Clock::manual(T0).0)).await },
            )
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.unwrap().expect("every process starts"));
    }
    for store in &stores {
        assert_eq!(store.schema_versions().await.unwrap(), all_versions());
    }
    // They agree on one generated account.
    let accounts: Vec<_> = futures_join(stores.iter().map(|s| s.ensure_account(None, None))).await;
    assert_eq!(accounts[0], accounts[1]);
    assert_eq!(accounts[1], accounts[2]);
    for store in stores {
        store.close().await;
    }
}

async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let mut out = Vec::new();
    for future in futures {
        out.push(future.await.unwrap());
    }
    out
}

async fn settings_and_account(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.get_setting("greeting").await.unwrap(), None);
    store.set_setting("greeting", "hello").await.unwrap();
    store.set_setting("greeting", "hi").await.unwrap();
    assert_eq!(
        store.get_setting("greeting").await.unwrap().as_deref(),
        Some("hi")
    );
    assert_eq!(
        store
            .setting_or_insert("greeting", "ignored")
            .await
            .unwrap(),
        "hi"
    );

    // Generated on first start, the same afterwards and in other processes.
    let generated = store.ensure_account(None, None).await.unwrap();
    assert_eq!(generated.sid.kind(), Some(SidPrefix::Account));
    assert_eq!(generated.auth_token.len(), 32);
    assert!(generated.auth_token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(store.ensure_account(None, None).await.unwrap(), generated);
    let other = db.second_store().await;
    assert_eq!(other.ensure_account(None, None).await.unwrap(), generated);
    other.close().await;
    assert_eq!(
        store.get_setting(ACCOUNT_SID_KEY).await.unwrap().as_deref(),
        Some(generated.sid.as_str())
    );
    assert_eq!(
        store.get_setting(AUTH_TOKEN_KEY).await.unwrap(),
        Some(generated.auth_token.clone())
    );

    // The environment wins and is not stored.
    let env_sid = "AC0123456789abcdef0123456789abcdef";
    let from_env = store
        .ensure_account(Some(env_sid), Some("s3cret"))
        .await
        .unwrap();
    assert_eq!(from_env.sid.as_str(), env_sid);
    assert_eq!(from_env.auth_token, "s3cret");
    assert_eq!(store.ensure_account(None, None).await.unwrap(), generated);
    let mixed = store.ensure_account(None, Some("tok")).await.unwrap();
    assert_eq!(
        (mixed.sid, mixed.auth_token.as_str()),
        (generated.sid.clone(), "tok")
    );

    let error = store
        .ensure_account(Some("UA0123456789abcdef0123456789abcdef"), None)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid OTTO_ACCOUNT_SID: \"UA0123456789abcdef0123456789abcdef\" is a UA SID, expected a AC SID"
    );
    let error = store.ensure_account(None, Some("")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid OTTO_AUTH_TOKEN: it is set but empty; unset it to use the stored token"
    );
}

/// A TCP forwarder standing in for the network path to PostgreSQL, so the
/// test can take the database away and bring it back.
struct Proxy {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: &str, port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the proxy port");
        let port = listener.local_addr().unwrap().port();
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let tasks = tasks.clone();
            let target = target.to_owned();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let target = target.clone();
                    let pipe = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    tasks.lock().unwrap().push(pipe);
                }
            })
        };
        tasks.lock().unwrap().push(accept);
        Proxy {
            port,
            target: target.to_owned(),
            tasks,
        }
    }

    /// Closes the listener and every forwarded connection.
    fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// `host:port` of a `postgres://user@host:port/db?…` URL.
fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).expect("a URL");
    let authority = rest.split('/').next().unwrap();
    let host = authority.rsplit('@').next().unwrap();
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

async fn unavailable_database_then_recovery(db: TestDb) {
    match db.backend {
        Backend::Sqlite => {
            // A file that cannot be opened is a database that is not there.
            let error = Store::connect("sqlite:///nonexistent-otto-folder/otto.db")
                .await
                .unwrap_err();
            assert!(error.is_unavailable(), "{error:?}");
            assert_eq!(error.http_status(), 503);
            assert!(
                error.to_string().starts_with(
                    "the database is unavailable: cannot connect to the SQLite database"
                ),
                "{error}"
            );
            db.store.ping().await.unwrap();
        }
        Backend::Postgres => {
            // Nothing listens: connecting fails as unavailable.
            let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let closed_port = free.local_addr().unwrap().port();
            drop(free);
            let url = db
                .url
                .replacen(&host_port(&db.url), &format!("127.0.0.1:{closed_port}"), 1);
            let quick = StoreOptions {
                acquire_timeout: Duration::from_secs(2),
                ..options(Clock::manual(T0).0)
            };
            let error = Store::connect_with(&url, quick.clone()).await.unwrap_err();
            assert!(error.is_unavailable(), "{error:?}");
            assert!(
                error.to_string().starts_with(
                    "the database is unavailable: cannot connect to the PostgreSQL server"
                ),
                "{error}"
            );

            // Through a proxy we can cut and restore.
            let target = host_port(&postgres_base_url());
            let proxy = Proxy::start(&target, 0).await;
            let url = db
                .url
                .replacen(&host_port(&db.url), &format!("127.0.0.1:{}", proxy.port), 1);
            let store = Store::connect_with(&url, quick).await.unwrap();
            let created = store
                .create_assistant(
                    &account(),
                    NewAssistant {
                        unique_name: Some("survivor".into()),
                        ..NewAssistant::default()
                    },
                )
                .await
                .unwrap();

            proxy.stop();
            let error = store
                .fetch_assistant(&account(), "survivor")
                .await
                .unwrap_err();
            assert!(error.is_unavailable(), "{error:?}");
            assert_eq!(error.http_status(), 503);
            let error = store.ping().await.unwrap_err();
            assert!(error.is_unavailable(), "{error:?}");

            // The database comes back on the same address: the pool reconnects.
            let back = Proxy::start(&proxy.target, proxy.port).await;
            let mut recovered = None;
            for _ in 0..20 {
                match store.fetch_assistant(&account(), "survivor").await {
                    Ok(record) => {
                        recovered = Some(record);
                        break;
                    }
                    Err(error) => {
                        assert!(error.is_unavailable(), "{error:?}");
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
            assert_eq!(recovered, Some(created));
            store.ping().await.unwrap();
            store.close().await;
            back.stop();
        }
    }
}

/// Every migration applied: versions 1 to [`SCHEMA_VERSION`].
fn all_versions() -> Vec<i64> {
    (1..=SCHEMA_VERSION).collect()
}
