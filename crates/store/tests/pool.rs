//! The PostgreSQL connection pool after the server dropped its connections
//! (a restart, a failover, an idle timeout on the server or a proxy).

mod common;

use std::time::Duration;

use common::{fresh_postgres_schema, options, postgres_admin, postgres_url_with_schema};
use otto_store::{Clock, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_dropped_while_idle_are_replaced_before_use() {
    let schema = fresh_postgres_schema().await;
    // A name of its own, so that only this store's connections are ended.
    let name = format!("otto_pool_test_{}", &schema["otto_test_".len()..]);
    let url = format!(
        "{}&application_name={name}",
        postgres_url_with_schema(&schema)
    );
    let store = Store::connect_with(&url, options(Clock::system()))
        .await
        .expect("connect to PostgreSQL");
    store.set_setting("probe", "1").await.unwrap();

    let mut admin = postgres_admin().await;
    let ended: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1) AS ended",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(ended >= 1, "the store had no connection to end");

    // Idle past the pool's threshold: the next use tests the connection,
    // finds it dead and opens another, instead of failing the caller.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for attempt in 0..3 {
        assert_eq!(
            store
                .get_setting("probe")
                .await
                .unwrap_or_else(|error| panic!(
                    "attempt {attempt} after the server ended the connections: {error}"
                )),
            Some("1".to_owned())
        );
    }
    store.close().await;
}
