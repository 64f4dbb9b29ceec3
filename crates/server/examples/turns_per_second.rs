//! A quick load run: the demo assistant on a temporary SQLite file, served on
//! loopback, and `USERS` concurrent users each sending `TURNS` messages over
//! the custom channel. Prints turns per second and latency percentiles.
//!
//! `cargo run --release -p otto-server --example turns_per_second -- [USERS] [TURNS] [postgres://…]`

use std::time::{Duration, Instant};

use otto_server::{Otto, ServerConfig};
use otto_store::Store;

const SCRIPT: [&str; 6] = [
    "hello",
    "when are you open",
    "I'd like to book a table",
    "Ada",
    "four",
    "purple elephants",
];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let turns: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let url = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("load.db").display()));
    let store = Store::connect(&url).await.unwrap();
    let account = store.ensure_account(None, None).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let otto = Otto::new(
        store,
        account.clone(),
        ServerConfig {
            public_url: format!("http://{}", listener.local_addr().unwrap()),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let (sid, build) = otto_server::demo::ensure_demo(&otto.store, &otto.builds, &account.sid)
        .await
        .unwrap()
        .expect("a fresh database");
    otto.builds
        .wait(&account.sid, sid.as_str(), &build.sid)
        .await
        .unwrap();
    let server = otto.spawn(listener).unwrap();
    let endpoint = format!("{}/v2/{}/{sid}/custom/load", server.url(), account.sid);
    otto_server::fetch::install_crypto_provider();
    let client = reqwest::Client::new();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for user in 0..users {
        let (client, endpoint, account) = (client.clone(), endpoint.clone(), account.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(turns);
            for turn in 0..turns {
                let text = SCRIPT[turn % SCRIPT.len()];
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([("UserId", format!("user-{user}").as_str()), ("Text", text)])
                    .finish();
                let sent = Instant::now();
                let response = client
                    .post(&endpoint)
                    .basic_auth(account.sid.as_str(), Some(&account.auth_token))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                response.bytes().await.unwrap();
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{} turns by {users} users in {:.2} s: {:.0} turns/s; latency p50 {:.1} ms, p99 {:.1} ms ({})",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        url.split(':').next().unwrap_or("")
    );
}
