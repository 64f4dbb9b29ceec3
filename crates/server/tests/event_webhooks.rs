//! Event webhook delivery against real HTTP receivers on loopback: every
//! event type a conversation produces with its parameters and a signature
//! Twilio's RequestValidator accepts; retries with exponential backoff on
//! errors and timeouts (the store's manual clock moves, nobody sleeps for
//! the backoff); a worker killed mid-delivery loses nothing; two workers on
//! one database (SQLite and PostgreSQL) deliver each event once; the worker
//! of `Otto::spawn_workers` never holds up a turn.

mod common;
mod twilio_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use common::*;
use otto_model::Sid;
use otto_server::events::{EventDelivery, EventDeliveryConfig, Round};
use otto_store::{
    Clock, EventStatus, NewAssistant, NewEvent, NewWebhook, PageRequest, QueuedEvent, Store,
    StoreOptions,
};
use serde_json::{Value, json};
use twilio_support::*;

const ALL_EVENTS: &str = "onDialogueStart onDialogueEnd onDialogueTaskStart onDialogueTaskEnd onDialogueTurn onActionsFetch onCollectAttempt";

fn schema(base: &str) -> String {
    json!({
        "uniqueName": "events",
        "defaults": {"defaults": {"fallback": "task://fallback"}},
        "tasks": [
            {"uniqueName": "greeting",
             "actions": {"actions": [{"say": "Hello!"}, {"listen": true}]},
             "samples": [{"language": "en-US", "taggedText": "hello"},
                         {"language": "en-US", "taggedText": "hi there"},
                         {"language": "en-US", "taggedText": "good morning"}]},
            {"uniqueName": "book",
             "actions": {"actions": [
                 {"remember": {"booking": true}},
                 {"collect": {"name": "booking",
                              "questions": [{"question": "How many people?", "name": "party_size",
                                             "type": "Twilio.NUMBER"}],
                              "on_complete": {"redirect": {"uri": format!("{base}/done"), "method": "POST"}}}}]},
             "samples": [{"language": "en-US", "taggedText": "book a table"},
                         {"language": "en-US", "taggedText": "I want to reserve a table"},
                         {"language": "en-US", "taggedText": "a table for dinner please"}]},
            {"uniqueName": "fallback",
             "actions": {"actions": [{"say": "Sorry?"}, {"listen": true}]}}
        ]
    })
    .to_string()
}

fn fast_config() -> EventDeliveryConfig {
    EventDeliveryConfig {
        poll: Duration::from_millis(20),
        timeout: Duration::from_millis(500),
        lease_seconds: 60,
        backoff_base_seconds: 10,
        backoff_max_seconds: 3600,
        max_attempts: 3,
        ..EventDeliveryConfig::default()
    }
}

fn ok() -> axum::response::Response {
    (StatusCode::OK, "thanks").into_response()
}

async fn setup(config: EventDeliveryConfig) -> (TestServer, RunningReceiver, Sid) {
    let receiver = Receiver::default();
    receiver.on("/done", Duration::ZERO, |request| {
        let memory: Value = serde_json::from_str(request.param("Memory").unwrap()).unwrap();
        let size = memory["twilio"]["collected_data"]["booking"]["answers"]["party_size"]["answer"]
            .as_str()
            .unwrap()
            .to_owned();
        actions(json!({"actions": [{"say": format!("Booked for {size}.")}]}))
    });
    let receiver = receiver.start().await;
    let server = TestServer::start(|c| c.events = config).await;
    let assistant = server.import(&schema(&receiver.base)).await;
    (server, receiver, assistant)
}

async fn subscribe(
    server: &TestServer,
    assistant: &Sid,
    name: &str,
    events: &str,
    url: &str,
    method: &str,
) -> Sid {
    server
        .otto
        .store
        .create_webhook(
            &server.account().sid,
            assistant.as_str(),
            NewWebhook {
                unique_name: name.to_owned(),
                events: events.to_owned(),
                webhook_url: url.to_owned(),
                webhook_method: Some(method.to_owned()),
            },
        )
        .await
        .unwrap()
        .sid
}

async fn queued(store: &Store, assistant: &Sid) -> Vec<QueuedEvent> {
    store
        .list_events(assistant, &PageRequest::first(1000))
        .await
        .unwrap()
        .items
}

/// Delivers until a round claims nothing.
async fn drain(delivery: &EventDelivery) -> Round {
    let mut total = Round::default();
    loop {
        let round = delivery.deliver_due().await.unwrap();
        if round.claimed == 0 {
            return total;
        }
        total.claimed += round.claimed;
        total.delivered += round.delivered;
        total.retried += round.retried;
        total.failed += round.failed;
        total.lost += round.lost;
    }
}

/// The requests a receiver got on `path`, with what Twilio's validator
/// needs (the URL as requested: base, path and query).
fn signed_requests(receiver: &RunningReceiver, path: &str) -> Vec<(Received, SignedRequest)> {
    receiver
        .receiver
        .requests()
        .into_iter()
        .filter(|r| r.uri.split('?').next() == Some(path))
        .map(|r| {
            let signed = SignedRequest {
                token: TOKEN.to_owned(),
                url: format!("{}{}", receiver.base, r.uri),
                params: if r.method == Method::GET {
                    vec![]
                } else {
                    r.params.clone()
                },
                signature: r
                    .headers
                    .get("x-twilio-signature")
                    .expect("every event webhook is signed")
                    .to_str()
                    .unwrap()
                    .to_owned(),
            };
            (r, signed)
        })
        .collect()
}

fn params_map(received: &Received) -> BTreeMap<String, String> {
    received.params.iter().cloned().collect()
}

#[tokio::test]
async fn every_event_of_a_conversation_with_its_parameters_and_a_valid_signature() {
    let (server, receiver, assistant) = setup(fast_config()).await;
    receiver.receiver.on("/events", Duration::ZERO, |_| ok());
    receiver.receiver.on("/ends", Duration::ZERO, |_| ok());
    subscribe(
        &server,
        &assistant,
        "all",
        ALL_EVENTS,
        &format!("{}/events", receiver.base),
        "POST",
    )
    .await;
    // Names match ignoring case (a helper fixture stored `ondialogueend`); GET
    // puts the parameters in the query string and signs the whole URL.
    subscribe(
        &server,
        &assistant,
        "ends",
        "ondialogueend",
        &format!("{}/ends?source=otto", receiver.base),
        "GET",
    )
    .await;

    let first = server.say(&assistant, "ada", "hello").await;
    let dialogue = TestServer::dialogue_sid(&first);
    server
        .say(&assistant, "ada", "I want to reserve a table")
        .await;
    let last = server.say(&assistant, "ada", "4").await;
    assert_eq!(TestServer::texts(&last), ["Booked for 4."]);
    assert_eq!(last["dialogue"]["ended"], true);
    // Turns only queued the events: nothing was sent yet.
    assert!(
        receiver
            .receiver
            .requests()
            .iter()
            .all(|r| r.uri == "/done")
    );

    let round = drain(&server.otto.events).await;
    assert_eq!(round.failed + round.retried + round.lost, 0, "{round:?}");
    let events = signed_requests(&receiver, "/events");
    let ends = signed_requests(&receiver, "/ends");
    assert_eq!(round.delivered, events.len() + ends.len());

    // Twilio's own RequestValidator accepts every signature.
    let all: Vec<SignedRequest> = events
        .iter()
        .chain(&ends)
        .map(|(_, s)| SignedRequest {
            token: s.token.clone(),
            url: s.url.clone(),
            params: s.params.clone(),
            signature: s.signature.clone(),
        })
        .collect();
    assert!(twilio_validates(&all).iter().all(|valid| *valid));
    // And refuses them with another token (the check can fail).
    let other: Vec<SignedRequest> = all
        .iter()
        .take(2)
        .map(|s| SignedRequest {
            token: "ffffffffffffffffffffffffffffffff".into(),
            url: s.url.clone(),
            params: s.params.clone(),
            signature: s.signature.clone(),
        })
        .collect();
    assert_eq!(twilio_validates(&other), [false, false]);

    // The events, each once, in the turn they happened (deliveries run
    // concurrently, so compare as a set).
    let mut seen: Vec<(String, String, String)> = events
        .iter()
        .map(|(r, _)| {
            let p = params_map(r);
            (
                p["Event"].clone(),
                p.get("TaskName").cloned().unwrap_or_default(),
                p["CurrentInput"].clone(),
            )
        })
        .collect();
    seen.sort();
    let mut expected: Vec<(String, String, String)> = [
        ("onDialogueStart", "", "hello"),
        ("onDialogueTaskStart", "greeting", "hello"),
        ("onDialogueTaskEnd", "greeting", "hello"),
        ("onDialogueTurn", "", "hello"),
        ("onDialogueTaskStart", "book", "I want to reserve a table"),
        ("onDialogueTurn", "", "I want to reserve a table"),
        ("onCollectAttempt", "", "4"),
        ("onActionsFetch", "", "4"),
        ("onDialogueTaskEnd", "book", "4"),
        ("onDialogueTurn", "", "4"),
        ("onDialogueEnd", "", "4"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    expected.sort();
    assert_eq!(seen, expected);

    for (request, _) in &events {
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.headers.get("content-type").unwrap(),
            "application/x-www-form-urlencoded"
        );
        let p = params_map(request);
        let event = p["Event"].as_str();
        // The standard Autopilot parameters, in Autopilot's order.
        let names: Vec<&str> = request.params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names[..9],
            [
                "Event",
                "AccountSid",
                "AssistantSid",
                "DialogueSid",
                "UserIdentifier",
                "Channel",
                "CurrentTask",
                "CurrentInput",
                "Memory"
            ],
            "{event}"
        );
        assert_eq!(p["AccountSid"], ACCOUNT);
        assert_eq!(p["AssistantSid"], assistant.as_str());
        assert_eq!(p["DialogueSid"], dialogue.as_str());
        assert_eq!(p["UserIdentifier"], "ada");
        assert_eq!(p["Channel"], "web");
        let memory: Value = serde_json::from_str(&p["Memory"]).unwrap();
        assert!(memory.is_object(), "{event}: {memory}");
        let own: Vec<&str> = names[9..].to_vec();
        match event {
            "onDialogueStart" | "onDialogueTurn" => assert_eq!(own, Vec::<&str>::new(), "{event}"),
            "onDialogueTaskStart" | "onDialogueTaskEnd" => {
                assert_eq!(own, ["TaskName"]);
                assert_eq!(p["CurrentTask"], p["TaskName"]);
            }
            "onCollectAttempt" => {
                assert_eq!(own, ["CollectSuccess", "CollectFieldName", "CollectOutput"]);
                assert_eq!(p["CollectSuccess"], "true");
                assert_eq!(p["CollectFieldName"], "party_size");
                assert_eq!(p["CollectOutput"], "4");
                assert_eq!(p["CurrentTask"], "book");
            }
            "onActionsFetch" => {
                assert_eq!(own, ["ActionsUrl"]);
                assert_eq!(p["ActionsUrl"], format!("{}/done", receiver.base));
            }
            "onDialogueEnd" => {
                assert_eq!(own, ["EndReason"]);
                assert_eq!(p["EndReason"], "completed");
                // The memory at the end of the dialogue.
                assert_eq!(memory["booking"], true);
                assert_eq!(
                    memory["twilio"]["collected_data"]["booking"]["answers"]["party_size"]["answer"],
                    "4"
                );
            }
            other => panic!("unexpected event {other}"),
        }
        // Each delivery has its own idempotency token.
        assert!(request.headers.get("i-twilio-idempotency-token").is_some());
    }
    let tokens: std::collections::HashSet<_> = events
        .iter()
        .map(|(r, _)| r.headers.get("i-twilio-idempotency-token").unwrap().clone())
        .collect();
    assert_eq!(tokens.len(), events.len());

    // The GET subscription got onDialogueEnd only, in the query string.
    assert_eq!(ends.len(), 1);
    let (end, _) = &ends[0];
    assert_eq!(end.method, Method::GET);
    assert!(
        end.uri
            .starts_with("/ends?source=otto&Event=onDialogueEnd&"),
        "{}",
        end.uri
    );
    assert_eq!(params_map(end)["EndReason"], "completed");
    assert!(params_map(end).contains_key("Memory"));

    // Everything is marked delivered; nothing is sent twice.
    assert!(
        queued(&server.otto.store, &assistant)
            .await
            .iter()
            .all(|e| e.status == EventStatus::Delivered)
    );
    assert_eq!(drain(&server.otto.events).await, Round::default());
}

#[tokio::test]
async fn failures_and_timeouts_are_retried_with_exponential_backoff_then_given_up() {
    let (server, receiver, assistant) = setup(fast_config()).await;
    receiver.receiver.on("/flaky", Duration::ZERO, |_| {
        (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response()
    });
    subscribe(
        &server,
        &assistant,
        "flaky",
        "onDialogueStart",
        &format!("{}/flaky", receiver.base),
        "POST",
    )
    .await;
    server.say(&assistant, "ada", "hello").await;
    let store = &server.otto.store;
    let events = &server.otto.events;

    // Attempt 1: HTTP 500, again in 10 s.
    let round = events.deliver_due().await.unwrap();
    assert_eq!((round.claimed, round.retried), (1, 1));
    let event = queued(store, &assistant).await.remove(0);
    assert_eq!(event.status, EventStatus::Pending);
    assert_eq!(event.attempts, 1);
    assert_eq!(event.next_attempt_at, START + 10);
    assert_eq!(
        event.last_error.as_deref(),
        Some("the webhook answered HTTP 500")
    );
    assert_eq!(event.lease_owner, None);
    // Not due before then.
    assert_eq!(events.deliver_due().await.unwrap().claimed, 0);
    server.hand.advance(9);
    assert_eq!(events.deliver_due().await.unwrap().claimed, 0);

    // Attempt 2: the receiver is too slow (timeout 0.5 s), again in 20 s.
    receiver
        .receiver
        .on("/flaky", Duration::from_secs(3), |_| ok());
    server.hand.advance(1);
    let round = events.deliver_due().await.unwrap();
    assert_eq!((round.claimed, round.retried), (1, 1));
    let event = queued(store, &assistant).await.remove(0);
    assert_eq!(event.attempts, 2);
    assert_eq!(event.next_attempt_at, START + 10 + 20);
    assert_eq!(event.last_error.as_deref(), Some("no answer within 0.5 s"));
    server.hand.advance(19);
    assert_eq!(events.deliver_due().await.unwrap().claimed, 0);

    // Attempt 3 succeeds.
    receiver.receiver.on("/flaky", Duration::ZERO, |_| ok());
    server.hand.advance(1);
    let round = events.deliver_due().await.unwrap();
    assert_eq!((round.claimed, round.delivered), (1, 1));
    let event = queued(store, &assistant).await.remove(0);
    assert_eq!(event.status, EventStatus::Delivered);
    assert_eq!(event.attempts, 3);
    assert_eq!(event.last_error, None);
    // The three attempts carried the same delivery: parameters and token.
    let requests = signed_requests(&receiver, "/flaky");
    assert_eq!(requests.len(), 3);
    let token = |r: &Received| r.headers.get("i-twilio-idempotency-token").unwrap().clone();
    assert!(
        requests
            .iter()
            .all(|(r, _)| token(r) == token(&requests[0].0))
    );
    assert!(
        requests
            .iter()
            .all(|(r, _)| r.params == requests[0].0.params)
    );
    let signed: Vec<SignedRequest> = requests.into_iter().map(|(_, s)| s).collect();
    assert_eq!(twilio_validates(&signed), [true, true, true]);

    // A webhook that never answers well is given up after max_attempts (3).
    receiver.receiver.on("/dead", Duration::ZERO, |_| {
        (StatusCode::SERVICE_UNAVAILABLE, "gone").into_response()
    });
    subscribe(
        &server,
        &assistant,
        "dead",
        "onDialogueStart",
        &format!("{}/dead", receiver.base),
        "POST",
    )
    .await;
    server.say(&assistant, "bob", "hello").await;
    let mut rounds = Vec::new();
    for _ in 0..3 {
        rounds.push(events.deliver_due().await.unwrap());
        server.hand.advance(3600);
    }
    assert_eq!(rounds[0].claimed, 2); // /flaky (delivered) and /dead
    assert_eq!((rounds[0].delivered, rounds[0].retried), (1, 1));
    assert_eq!((rounds[1].claimed, rounds[1].retried), (1, 1));
    assert_eq!((rounds[2].claimed, rounds[2].failed), (1, 1));
    assert_eq!(events.deliver_due().await.unwrap().claimed, 0);
    let dead = queued(store, &assistant)
        .await
        .into_iter()
        .find(|e| e.status != EventStatus::Delivered)
        .unwrap();
    assert_eq!(dead.status, EventStatus::Failed);
    assert_eq!(dead.attempts, 3);
    assert_eq!(
        dead.last_error.as_deref(),
        Some("the webhook answered HTTP 503")
    );
    assert_eq!(signed_requests(&receiver, "/dead").len(), 3);
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_loses_nothing() {
    let config = EventDeliveryConfig {
        timeout: Duration::from_secs(30),
        ..fast_config()
    };
    let (server, receiver, assistant) = setup(config.clone()).await;
    // The receiver takes its time: the worker is killed while it waits.
    receiver
        .receiver
        .on("/slow", Duration::from_secs(20), |_| ok());
    subscribe(
        &server,
        &assistant,
        "slow",
        "onDialogueStart",
        &format!("{}/slow", receiver.base),
        "POST",
    )
    .await;
    server.say(&assistant, "ada", "hello").await;

    let db = format!("sqlite://{}", server.dir.path().join("otto.db").display());
    let first =
        EventDelivery::with_worker_id(server.otto.store.clone(), TOKEN, config.clone(), "worker-a")
            .unwrap();
    let running = tokio::spawn(async move { first.deliver_due().await });
    for _ in 0..200 {
        if !signed_requests(&receiver, "/slow").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(signed_requests(&receiver, "/slow").len(), 1);
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    let event = queued(&server.otto.store, &assistant).await.remove(0);
    assert_eq!(event.status, EventStatus::Delivering);
    assert_eq!(event.lease_owner.as_deref(), Some("worker-a"));

    // The process restarts: a new store and worker on the same database.
    let clock = Clock::manual(server.hand.now());
    let store = Store::connect_with(
        &db,
        StoreOptions {
            clock: clock.0,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let second = EventDelivery::with_worker_id(store.clone(), TOKEN, config, "worker-b").unwrap();
    receiver.receiver.on("/slow", Duration::ZERO, |_| ok());
    // While the lease of the dead worker runs, nobody takes the event…
    assert_eq!(second.deliver_due().await.unwrap().claimed, 0);
    clock.1.advance(59);
    assert_eq!(second.deliver_due().await.unwrap().claimed, 0);
    // …then the new worker does, and delivers it.
    clock.1.advance(1);
    let round = second.deliver_due().await.unwrap();
    assert_eq!((round.claimed, round.delivered), (1, 1));
    let event = queued(&store, &assistant).await.remove(0);
    assert_eq!(event.status, EventStatus::Delivered);
    assert_eq!(event.attempts, 2);
    // The receiver saw the same delivery twice (at least once), with one token.
    let requests = signed_requests(&receiver, "/slow");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].0.headers.get("i-twilio-idempotency-token"),
        requests[1].0.headers.get("i-twilio-idempotency-token")
    );
}

/// Two workers, each with its own store on one database, deliver 60 events
/// concurrently: every event exactly once.
async fn two_workers_deliver_each_event_once(first: Store, second: Store) {
    let receiver = Receiver::default();
    let counts: Arc<std::sync::Mutex<HashMap<String, usize>>> = Arc::default();
    let count = counts.clone();
    receiver.on("/hook", Duration::from_millis(5), move |request| {
        let token = request
            .headers
            .get("i-twilio-idempotency-token")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        *count.lock().unwrap().entry(token).or_default() += 1;
        ok()
    });
    let receiver = receiver.start().await;
    let account = first
        .ensure_account(Some(ACCOUNT), Some(TOKEN))
        .await
        .unwrap();
    let assistant = first
        .create_assistant(
            &account.sid,
            NewAssistant {
                unique_name: Some("workers".into()),
                ..NewAssistant::default()
            },
        )
        .await
        .unwrap()
        .sid;
    first
        .create_webhook(
            &account.sid,
            assistant.as_str(),
            NewWebhook {
                unique_name: "hook".into(),
                events: "onDialogueTurn".into(),
                webhook_url: format!("{}/hook", receiver.base),
                webhook_method: None,
            },
        )
        .await
        .unwrap();
    let events: Vec<NewEvent> = (0..60)
        .map(|n| {
            NewEvent::new(
                "onDialogueTurn",
                json!([["Event", "onDialogueTurn"], ["N", n.to_string()]]),
            )
        })
        .collect();
    assert_eq!(first.enqueue_events(&assistant, &events).await.unwrap(), 60);

    let config = EventDeliveryConfig {
        batch: 4,
        ..fast_config()
    };
    let workers = [
        EventDelivery::with_worker_id(first.clone(), TOKEN, config.clone(), "one").unwrap(),
        EventDelivery::with_worker_id(second, TOKEN, config, "two").unwrap(),
    ];
    let delivered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in workers {
        let delivered = delivered.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = 0;
            loop {
                let round = worker.deliver_due().await.unwrap();
                assert_eq!(round.delivered, round.claimed, "{round:?}");
                mine += round.delivered;
                delivered.fetch_add(round.delivered, Ordering::SeqCst);
                if round.claimed == 0 {
                    return mine;
                }
            }
        }));
    }
    let mut per_worker = Vec::new();
    for task in tasks {
        per_worker.push(task.await.unwrap());
    }
    assert_eq!(delivered.load(Ordering::SeqCst), 60, "{per_worker:?}");
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.len(), 60);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let queued = queued(&first, &assistant).await;
    assert!(
        queued
            .iter()
            .all(|e| e.status == EventStatus::Delivered && e.attempts == 1)
    );
}

#[tokio::test]
async fn two_workers_on_sqlite_deliver_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("otto.db").display());
    let (clock, _hand) = Clock::manual(START);
    let options = || StoreOptions {
        clock: clock.clone(),
        ..StoreOptions::default()
    };
    let first = Store::connect_with(&url, options()).await.unwrap();
    let second = Store::connect_with(&url, options()).await.unwrap();
    two_workers_deliver_each_event_once(first, second).await;
}

#[tokio::test]
async fn two_workers_on_postgres_deliver_each_event_once() {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let base = std::env::var("OTTO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let mut admin =
        match tokio::time::timeout(Duration::from_secs(10), sqlx::AnyConnection::connect(&base))
            .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(error)) => panic!(
                "PostgreSQL is not reachable at {base} ({error}): start it (scripts/test does) \
             or set OTTO_TEST_POSTGRES_URL (trust auth, the database must exist)"
            ),
            Err(_) => panic!("PostgreSQL at {base} did not answer within 10 s"),
        };
    let schema = format!(
        "otto_test_{}_events_{}",
        Clock::system().now(),
        std::process::id()
    );
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let (clock, _hand) = Clock::manual(START);
    let options = || StoreOptions {
        clock: clock.clone(),
        ..StoreOptions::default()
    };
    let first = Store::connect_with(&url, options()).await.unwrap();
    let second = Store::connect_with(&url, options()).await.unwrap();
    two_workers_deliver_each_event_once(first.clone(), second).await;
    first.close().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_background_worker_delivers_without_holding_up_turns() {
    let config = EventDeliveryConfig {
        timeout: Duration::from_secs(10),
        ..fast_config()
    };
    let (server, receiver, assistant) = setup(config).await;
    // A receiver that takes 1 s per event, far longer than a turn.
    receiver
        .receiver
        .on("/turns", Duration::from_secs(1), |_| ok());
    subscribe(
        &server,
        &assistant,
        "turns",
        "onDialogueTurn",
        &format!("{}/turns", receiver.base),
        "POST",
    )
    .await;
    let workers = server.otto.spawn_workers();

    server.say(&assistant, "ada", "hello").await;
    for _ in 0..300 {
        if receiver.receiver.in_flight.lock().unwrap().0 == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The worker is waiting on the receiver; a turn still answers at once.
    assert_eq!(receiver.receiver.in_flight.lock().unwrap().0, 1);
    let second = server.say(&assistant, "ada", "good morning").await;
    assert_eq!(TestServer::texts(&second), ["Hello!"]);
    assert_eq!(receiver.receiver.in_flight.lock().unwrap().0, 1);
    assert_eq!(signed_requests(&receiver, "/turns").len(), 1);

    // Both events arrive.
    for _ in 0..500 {
        let events = queued(&server.otto.store, &assistant).await;
        if events.len() == 2 && events.iter().all(|e| e.status == EventStatus::Delivered) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let events = queued(&server.otto.store, &assistant).await;
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().all(|e| e.status == EventStatus::Delivered),
        "{events:?}"
    );
    let inputs: Vec<String> = signed_requests(&receiver, "/turns")
        .iter()
        .map(|(r, _)| r.param("CurrentInput").unwrap().to_owned())
        .collect();
    assert_eq!(inputs, ["hello", "good morning"]);
    for worker in workers {
        worker.abort();
    }
}
