//! Several `otto serve` processes on one database, killed and restarted under
//! load, and a database that goes away and comes back.
//!
//! Each test spawns the real binary (`otto serve`) as child processes, plays
//! the demo assistant's conversations through them with `otto-load`'s driver
//! and checks the store with its verifier: every acknowledged turn is stored,
//! in order, and every completed conversation left the memory it should.
//! PostgreSQL tests use a fresh schema of the test database
//! (`OTTO_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! The tests take a lock so they run one at a time: each starts up to three
//! servers, and together they would crowd two cores and PostgreSQL's
//! connection limit.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otto_load::{Pick, Plan, Played, Script, Target, TurnOutcome, Until};
use otto_store::Store;
use serde_json::Value;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const ACCOUNT: &str = "AC5ca1e000000000000000000000000001";
const TOKEN: &str = "scale-test-token";

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running `otto serve`.
struct Instance {
    child: Child,
    url: String,
    port: u16,
    db: String,
    lines: mpsc::UnboundedReceiver<String>,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

impl Instance {
    /// Starts `otto serve` on `port` and waits until it listens (and, on an
    /// empty database, `fresh`, until it has trained the demo assistant).
    async fn start_with(db: &str, port: u16, fresh: bool) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_otto"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--db",
                db,
            ])
            .env("OTTO_ACCOUNT_SID", ACCOUNT)
            .env("OTTO_AUTH_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start otto serve");
        let stdout = child.stdout.take().unwrap();
        let (send, mut lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut url = None;
        let mut trained = !fresh;
        let wait = async {
            while let Some(line) = lines.recv().await {
                if let Some(rest) = line.strip_prefix("otto ")
                    && let Some((_, address)) = rest.split_once(" listening on ")
                {
                    url = Some(address.to_owned());
                }
                if line.starts_with("demo assistant otto-demo") {
                    assert!(line.contains("completed"), "{line}");
                    trained = true;
                }
                if url.is_some() && trained {
                    return;
                }
            }
            panic!("otto serve --db {db} stopped before it was ready");
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .expect("otto serve ready within 60 s");
        let url = url.unwrap();
        Instance {
            child,
            url,
            port,
            db: db.to_owned(),
            lines,
        }
    }

    /// The first instance on an empty database.
    async fn first(db: &str) -> Instance {
        Instance::start_with(db, free_port(), true).await
    }

    /// Another instance on a database the first one set up.
    async fn another(db: &str) -> Instance {
        Instance::start_with(db, free_port(), false).await
    }

    /// SIGKILL: no shutdown of any kind.
    async fn kill(&mut self) {
        self.child.kill().await.expect("kill otto serve");
        while self.lines.try_recv().is_ok() {}
    }

    async fn restart(&mut self) {
        *self = Instance::start_with(&self.db, self.port, false).await;
    }
}

fn target(instances: &[&Instance]) -> Target {
    Target {
        urls: instances.iter().map(|i| i.url.clone()).collect(),
        account_sid: ACCOUNT.to_owned(),
        auth_token: TOKEN.to_owned(),
        assistant: "otto-demo".to_owned(),
        channel: "load".to_owned(),
    }
}

fn prefix(name: &str) -> String {
    static RUN: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::SeqCst)
    )
}

fn postgres_base_url() -> String {
    std::env::var("OTTO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema in the test database; the URL selects it for every
/// connection.
async fn fresh_postgres() -> String {
    sqlx::any::install_default_drivers();
    let base = postgres_base_url();
    let mut admin = tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(&base))
        .await
        .unwrap_or_else(|_| panic!("PostgreSQL at {base} did not answer within 10 s"))
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is not reachable at {base} ({error}); start it (scripts/test does) \
                 or set OTTO_TEST_POSTGRES_URL"
            )
        });
    let stamp = otto_store::Clock::system().now();
    let schema = format!("otto_test_{stamp}_scale_{}", &prefix("s").replace('-', "_"));
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create a test schema");
    admin.close().await.ok();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
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

async fn check_store(db: &str, played: &[Played]) -> otto_load::Verification {
    let store = Store::connect(db).await.expect("open the store");
    let verification = otto_load::verify(&store, played).await.unwrap();
    store.close().await;
    assert!(
        verification.ok(),
        "the store disagrees with what was acknowledged:\n{}",
        verification.problems.join("\n")
    );
    verification
}

/// Load in the background until the returned flag is set.
fn background_load(
    target: Target,
    concurrency: usize,
    name: &str,
) -> (Arc<AtomicBool>, JoinHandle<otto_load::RunResult>) {
    let stop = Arc::new(AtomicBool::new(false));
    let plan = Plan {
        pick: Pick::Random,
        ..Plan::new(concurrency, Until::Flag(stop.clone()), prefix(name))
    };
    let handle = tokio::spawn(async move {
        otto_load::drive::run(&Script::demo(), &target, &plan, None)
            .await
            .unwrap()
    });
    (stop, handle)
}

/// Sends one message; the status and the JSON answer.
async fn say(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    text: &str,
    memory: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![("UserId", user), ("Text", text), ("Language", "en-US")];
    if let Some(memory) = memory {
        form.push(("Memory", memory));
    }
    let response = client
        .post(format!("{url}/v2/{ACCOUNT}/otto-demo/custom/test"))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .form(&form)
        .send()
        .await
        .expect("otto answers");
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_postgres_lose_nothing_and_keep_order() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = fresh_postgres().await;
    let a = Instance::first(&db).await;
    let b = Instance::another(&db).await;
    let c = Instance::another(&db).await;
    let all = target(&[&a, &b, &c]);

    // One conversation at a time, each turn on the next instance.
    let plan = Plan::new(1, Until::Conversations(3), prefix("round-robin"));
    let serial = otto_load::drive::run(&Script::demo(), &all, &plan, None)
        .await
        .unwrap();
    for played in &serial.played {
        let instances: Vec<usize> = played
            .outcomes
            .iter()
            .map(|outcome| match outcome {
                TurnOutcome::Acknowledged { instance, .. } => *instance,
                TurnOutcome::Failed { error, .. } => panic!("a turn failed: {error}"),
            })
            .collect();
        let used: BTreeSet<usize> = instances.iter().copied().collect();
        assert_eq!(used.len(), 3, "every instance took turns of one dialogue");
    }
    assert_eq!(serial.figures.unexpected_replies, 0, "{:?}", serial.figures);

    // Many conversations at once, turns spread at random.
    let plan = Plan {
        pick: Pick::Random,
        ..Plan::new(12, Until::Conversations(60), prefix("concurrent"))
    };
    let concurrent = otto_load::drive::run(&Script::demo(), &all, &plan, None)
        .await
        .unwrap();
    assert_eq!(concurrent.figures.errors, 0, "{:?}", concurrent.figures);
    assert_eq!(
        concurrent.figures.unexpected_replies, 0,
        "{:?}",
        concurrent.figures
    );
    let mut played = serial.played;
    played.extend(concurrent.played);
    let verification = check_store(&db, &played).await;
    assert_eq!(verification.complete, 63);

    // One user, nine messages at once over the three instances: each waits
    // for the previous one (the advisory lock), none loses another's memory.
    let client = otto_load::drive::client(16);
    let user = prefix("burst");
    let urls = [a.url.clone(), b.url.clone(), c.url.clone()];
    let sends = (0..9).map(|i| {
        let (client, url, user) = (client.clone(), urls[i % 3].clone(), user.clone());
        async move {
            let memory = format!("{{\"burst_{i}\": {i}}}");
            say(
                &client,
                &url,
                &user,
                &format!("when are you open {i}"),
                Some(&memory),
            )
            .await
        }
    });
    let answers = futures_join_all(sends).await;
    let mut dialogue = None;
    for (status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        let sid = answer["dialogue"]["sid"].as_str().unwrap().to_owned();
        assert_eq!(dialogue.get_or_insert(sid.clone()), &sid);
    }
    let store = Store::connect(&db).await.unwrap();
    let sid = otto_model::Sid::parse(&dialogue.unwrap()).unwrap();
    let record = store.dialogue(&sid).await.unwrap();
    assert_eq!(record.turn_count, 9);
    for i in 0..9 {
        assert_eq!(
            record.state.memory.get(&format!("burst_{i}")),
            Some(&Value::from(i)),
            "memory of message {i} kept: {:?}",
            record.state.memory
        );
    }
    let turns = store
        .list_turns(&sid, &otto_store::PageRequest::first(100))
        .await
        .unwrap();
    let seqs: Vec<i64> = turns.items.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
    let inputs: BTreeSet<String> = turns.items.iter().map(|t| t.input.clone()).collect();
    assert_eq!(inputs.len(), 9);
    store.close().await;
}

/// `join_all` without another dependency: spawn each and await in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

/// Kills instance `victim` of `instances` with SIGKILL during load, restarts
/// it, and checks the store.
async fn crash_during_load(db: &str, instances: &mut [Instance], victim: usize) {
    let refs: Vec<&Instance> = instances.iter().collect();
    let all = target(&refs);
    let (stop, load) = background_load(all, 8, "crash");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    instances[victim].kill().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    instances[victim].restart().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let result = load.await.unwrap();
    let figures = &result.figures;
    assert!(
        figures.errors > 0,
        "the kill happened during load: {figures:?}"
    );
    assert!(figures.acknowledged > 50, "{figures:?}");
    // Turns after the restart were answered (also by the restarted instance).
    let restarted_answered = result.played.iter().rev().take(20).any(|played| {
        played.outcomes.iter().any(|outcome| {
            matches!(outcome, TurnOutcome::Acknowledged { instance, .. } if *instance == victim)
        })
    });
    assert!(restarted_answered, "the restarted instance answers");
    let verification = check_store(db, &result.played).await;
    assert!(verification.complete > 10, "{verification:?}");

    // No user stays locked: every user whose turn died with the instance
    // is answered again at once, on any instance.
    let client = otto_load::drive::client(16);
    let broken: Vec<&Played> = result
        .played
        .iter()
        .filter(|played| !played.complete() && played.acknowledged() > 0)
        .collect();
    for played in broken.iter().take(5) {
        let started = std::time::Instant::now();
        let (status, answer) = tokio::time::timeout(
            Duration::from_secs(15),
            say(
                &client,
                &instances[(victim + 1) % instances.len()].url,
                &played.user,
                "when are you open",
                None,
            ),
        )
        .await
        .expect("the user's dialogue is not left locked");
        assert_eq!(status, 200, "{answer}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_load_on_sqlite_loses_no_acknowledged_turn() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let mut instances = vec![Instance::first(&db).await];
    crash_during_load(&db, &mut instances, 0).await;
    // The file is sound.
    let mut conn = AnyConnection::connect(&db).await.unwrap();
    let row = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let verdict: String = sqlx::Row::get(&row, 0);
    assert_eq!(verdict, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_load_on_postgres_loses_no_acknowledged_turn() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = fresh_postgres().await;
    let mut instances = vec![
        Instance::first(&db).await,
        Instance::another(&db).await,
        Instance::another(&db).await,
    ];
    crash_during_load(&db, &mut instances, 1).await;
}

/// A TCP forwarder standing in for the network path to PostgreSQL.
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

/// 503 with Twilio's error JSON while the database is away.
fn assert_unavailable(status: u16, answer: &Value) {
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["code"], 20503, "{answer}");
    assert_eq!(answer["status"], 503, "{answer}");
    assert!(
        answer["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{answer}"
    );
}

/// Sends until a 200 comes back (the database is back); at most `within`.
async fn until_answered(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    text: &str,
    within: Duration,
) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (status, answer) = say(client, url, user, text, None).await;
        if status == 200 {
            return answer;
        }
        assert_unavailable(status, &answer);
        assert!(
            started.elapsed() < within,
            "otto did not recover within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_gives_503_and_otto_recovers_by_itself() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = fresh_postgres().await;
    let proxy = Proxy::start(&host_port(&db), 0).await;
    let through_proxy = db.replacen(&host_port(&db), &format!("127.0.0.1:{}", proxy.port), 1);
    let otto = Instance::first(&through_proxy).await;
    let client = otto_load::drive::client(16);
    let user = prefix("db-down");

    let (status, answer) = say(&client, &otto.url, &user, "I'd like to book a table", None).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = say(&client, &otto.url, &user, "Ada", None).await;
    assert_eq!(status, 200);

    proxy.stop();
    let (status, answer) = say(&client, &otto.url, &user, "4", None).await;
    assert_unavailable(status, &answer);
    let health = client
        .get(format!("{}/health", otto.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);

    let back = Proxy::start(&proxy.target, proxy.port).await;
    let answer = until_answered(&client, &otto.url, &user, "4", Duration::from_secs(30)).await;
    // The conversation goes on where it was: the failed turn left nothing.
    let says = answer["response"]["says"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(says.contains("On which day?"), "{answer}");
    let store = Store::connect(&db).await.unwrap();
    let sid = otto_model::Sid::parse(answer["dialogue"]["sid"].as_str().unwrap()).unwrap();
    let record = store.dialogue(&sid).await.unwrap();
    assert_eq!(record.turn_count, 3);
    let party = otto_load::script::memory_at(
        &record.state.memory,
        "twilio.collected_data.booking.answers.party_size.answer",
    );
    assert!(
        party.is_some_and(|found| otto_load::script::memory_matches(found, &Value::from("4"))),
        "{:?}",
        record.state.memory
    );
    store.close().await;
    back.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_by_another_process_gives_503_and_otto_recovers_by_itself() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let otto = Instance::first(&db).await;
    let client = otto_load::drive::client(16);
    let user = prefix("db-locked");
    let (status, answer) = say(&client, &otto.url, &user, "I'd like to book a table", None).await;
    assert_eq!(status, 200, "{answer}");

    // What SQLite can do to otto: another process (a backup, a migration,
    // `sqlite3 otto.db` left in a transaction) holds the write lock past
    // otto's busy timeout (5 s).
    let mut other = AnyConnection::connect(&db).await.unwrap();
    other.execute("BEGIN EXCLUSIVE").await.unwrap();
    let (status, answer) = say(&client, &otto.url, &user, "Ada", None).await;
    assert_unavailable(status, &answer);
    other.execute("ROLLBACK").await.unwrap();
    other.close().await.unwrap();

    let answer = until_answered(&client, &otto.url, &user, "Ada", Duration::from_secs(30)).await;
    let says = answer["response"]["says"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(says, "Thanks Ada! For how many people?", "{answer}");
}
