//! A real server on loopback over a real SQLite file, with a manual clock, and
//! a real HTTP receiver that plays the bot's webhooks.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use otto_model::Sid;
use otto_server::{Otto, RunningServer, ServerConfig};
use otto_store::{Account, Clock, ManualClock, Store, StoreOptions};
use serde_json::Value;
use tempfile::TempDir;

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// 2026-03-11T10:00:00Z, a Wednesday.
pub const START: i64 = 1_773_223_200;

pub struct TestServer {
    pub otto: Otto,
    pub server: RunningServer,
    pub hand: ManualClock,
    pub client: reqwest::Client,
    pub dir: TempDir,
}

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/data/autopilot-schemas/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_names() -> Vec<String> {
    let dir = format!(
        "{}/../../../shared/data/autopilot-schemas",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

impl TestServer {
    /// A server on an empty database.
    pub async fn start(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (clock, hand) = Clock::manual(START);
        let url = format!("sqlite://{}", dir.path().join("otto.db").display());
        let store = Store::connect_with(
            &url,
            StoreOptions {
                clock: clock.clone(),
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap();
        let account = store
            .ensure_account(Some(ACCOUNT), Some(TOKEN))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut config = ServerConfig {
            public_url: format!("http://{address}"),
            clock,
            ..ServerConfig::default()
        };
        tweak(&mut config);
        let otto = Otto::new(store, account, config).unwrap();
        let server = otto.spawn(listener).unwrap();
        TestServer {
            otto,
            server,
            hand,
            client: reqwest::Client::new(),
            dir,
        }
    }

    /// Imports a schema and trains it.
    pub async fn import(&self, schema: &str) -> Sid {
        let assistant = otto_model::import_schema(schema).unwrap();
        let sid = self
            .otto
            .store
            .import_assistant(&self.account().sid, &assistant)
            .await
            .unwrap();
        self.train(&sid).await;
        sid
    }

    pub async fn train(&self, sid: &Sid) {
        let build = self
            .otto
            .builds
            .enqueue(&self.account().sid, sid.as_str(), Default::default())
            .await
            .unwrap();
        let done = self
            .otto
            .builds
            .wait(&self.account().sid, sid.as_str(), &build.sid)
            .await
            .unwrap();
        assert_eq!(done.status, otto_store::ModelBuildStatus::Completed);
    }

    pub fn account(&self) -> &Account {
        &self.otto.account
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// POSTs a form with the account's credentials.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .client
            .post(self.url(path))
            .basic_auth(ACCOUNT, Some(TOKEN))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        (status, json)
    }

    pub fn channel_path(&self, assistant: &str) -> String {
        format!("/v2/{ACCOUNT}/{assistant}/custom/web")
    }

    /// A message over the v2 custom channel; must answer 200.
    pub async fn say(&self, assistant: &Sid, user: &str, text: &str) -> Value {
        self.say_with(assistant, user, text, &[]).await
    }

    pub async fn say_with(
        &self,
        assistant: &Sid,
        user: &str,
        text: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let mut form = vec![("UserId", user), ("Text", text), ("Language", "en-US")];
        form.extend_from_slice(extra);
        let (status, json) = self
            .post(&self.channel_path(assistant.as_str()), &form)
            .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        json
    }

    /// The texts said in a v2 answer.
    pub fn texts(json: &Value) -> Vec<String> {
        json["response"]["says"]
            .as_array()
            .unwrap()
            .iter()
            .map(|say| say["text"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn dialogue_sid(json: &Value) -> Sid {
        Sid::parse(json["dialogue"]["sid"].as_str().unwrap()).unwrap()
    }

    /// The last turn record of a dialogue.
    pub async fn last_turn(&self, dialogue: &Sid) -> otto_store::StoredTurn {
        self.otto
            .store
            .list_turns(dialogue, &otto_store::PageRequest::first(1000))
            .await
            .unwrap()
            .items
            .pop()
            .unwrap()
    }
}

// ---- the bot's webhook --------------------------------------------------------

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    /// As requested (path and query).
    pub uri: String,
    pub headers: HeaderMap,
    /// Form body (POST) or query (GET) parameters, in order.
    pub params: Vec<(String, String)>,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Answer = Arc<dyn Fn(&Received) -> Response + Send + Sync>;

#[derive(Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<HashMap<String, (Duration, Answer)>>>,
    pub in_flight: Arc<Mutex<(usize, usize)>>,
}

pub struct RunningReceiver {
    pub receiver: Receiver,
    pub base: String,
    _server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Answers `path` after `delay` with what `answer` makes of the request.
    pub fn on(
        &self,
        path: &str,
        delay: Duration,
        answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
    ) {
        self.answers
            .lock()
            .unwrap()
            .insert(path.to_owned(), (delay, Arc::new(answer)));
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Most requests handled at the same time so far.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }

    pub async fn start(self) -> RunningReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new().fallback(any(handle)).with_state(self.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        RunningReceiver {
            receiver: self,
            base,
            _server: server,
        }
    }
}

async fn handle(
    State(receiver): State<Receiver>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: Vec<(String, String)> = if method == Method::GET {
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    } else {
        form_urlencoded::parse(&body).into_owned().collect()
    };
    let received = Received {
        method,
        uri: uri.to_string(),
        headers,
        params,
    };
    receiver.received.lock().unwrap().push(received.clone());
    {
        let mut flight = receiver.in_flight.lock().unwrap();
        flight.0 += 1;
        flight.1 = flight.1.max(flight.0);
    }
    let answer = receiver.answers.lock().unwrap().get(uri.path()).cloned();
    let response = match answer {
        Some((delay, answer)) => {
            tokio::time::sleep(delay).await;
            answer(&received)
        }
        None => (StatusCode::NOT_FOUND, "no such test route").into_response(),
    };
    receiver.in_flight.lock().unwrap().0 -= 1;
    response
}

/// An actions document as a JSON response.
pub fn actions(json: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        json.to_string(),
    )
        .into_response()
}
