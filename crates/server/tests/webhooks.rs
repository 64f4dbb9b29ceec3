//! Task URLs and redirects against a real HTTP receiver: every Autopilot
//! parameter, the signature, and each way a webhook can fail.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use common::*;
use hmac::{KeyInit, Mac};
use otto_model::Sid;
use serde_json::{Value, json};

const FALLBACK: &str = "Sorry, that did not work. Say hello to start again.";

/// An assistant whose tasks call the receiver.
fn schema(base: &str) -> String {
    json!({
        "uniqueName": "hooks",
        "defaults": {"defaults": {"fallback": "task://fallback"}},
        "tasks": [
            {"uniqueName": "greeting",
             "actions": {"actions": [{"say": "Hello from the static task."}, {"listen": true}]},
             "samples": [{"language": "en-US", "taggedText": "hello"},
                         {"language": "en-US", "taggedText": "hi there"},
                         {"language": "en-US", "taggedText": "good morning"}]},
            {"uniqueName": "remote",
             "actionsUrl": format!("{base}/actions"),
             "fields": [{"uniqueName": "party_size", "fieldType": "Twilio.NUMBER"}],
             "samples": [{"language": "en-US", "taggedText": "check the remote task"},
                         {"language": "en-US", "taggedText": "remote task for {party_size}"},
                         {"language": "en-US", "taggedText": "ask the remote server about {party_size} seats"}]},
            {"uniqueName": "lookup",
             "actions": {"actions": [{"redirect": {"uri": format!("{base}/lookup?source=otto"), "method": "GET"}}]},
             "samples": [{"language": "en-US", "taggedText": "look up my order"},
                         {"language": "en-US", "taggedText": "where is my order"},
                         {"language": "en-US", "taggedText": "order status"}]},
            {"uniqueName": "slow", "actionsUrl": format!("{base}/slow"),
             "samples": [{"language": "en-US", "taggedText": "the slow one"},
                         {"language": "en-US", "taggedText": "take your time"}]},
            {"uniqueName": "broken", "actionsUrl": format!("{base}/broken"),
             "samples": [{"language": "en-US", "taggedText": "the broken one"},
                         {"language": "en-US", "taggedText": "crash the server"}]},
            {"uniqueName": "garbled", "actionsUrl": format!("{base}/garbled"),
             "samples": [{"language": "en-US", "taggedText": "the garbled one"},
                         {"language": "en-US", "taggedText": "send me html"}]},
            {"uniqueName": "huge", "actionsUrl": format!("{base}/huge"),
             "samples": [{"language": "en-US", "taggedText": "the huge one"},
                         {"language": "en-US", "taggedText": "a very long answer"}]},
            {"uniqueName": "endless", "actionsUrl": format!("{base}/endless"),
             "samples": [{"language": "en-US", "taggedText": "the endless one"},
                         {"language": "en-US", "taggedText": "never stop talking"}]},
            {"uniqueName": "counter", "actionsUrl": format!("{base}/count"),
             "samples": [{"language": "en-US", "taggedText": "count me in"},
                         {"language": "en-US", "taggedText": "add one more"},
                         {"language": "en-US", "taggedText": "increment the counter"}]},
            {"uniqueName": "fallback",
             "actions": {"actions": [{"say": FALLBACK}, {"listen": true}]}}
        ]
    })
    .to_string()
}

async fn setup(timeout: Duration) -> (TestServer, RunningReceiver, Sid) {
    let receiver = Receiver::default();
    receiver.on("/actions", Duration::ZERO, |request| {
        let memory: Value = serde_json::from_str(request.param("Memory").unwrap_or("{}")).unwrap();
        actions(json!({"actions": [
            {"say": format!("Remote says hi, tier {}.", memory["crm"]["tier"].as_str().unwrap_or("?"))},
            {"remember": {"remote_seen": true}},
            {"listen": true}
        ]}))
    });
    receiver.on("/lookup", Duration::ZERO, |_| {
        actions(json!({"actions": [{"say": "Your order ships today."}, {"listen": true}]}))
    });
    receiver.on("/slow", Duration::from_millis(1500), |_| {
        actions(json!({"actions": [{"say": "too late"}]}))
    });
    receiver.on("/broken", Duration::ZERO, |_| {
        (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
    });
    receiver.on("/garbled", Duration::ZERO, |_| {
        (StatusCode::OK, "<html>not json</html>").into_response()
    });
    receiver.on("/huge", Duration::ZERO, |_| {
        let said = "x".repeat(20_000);
        actions(json!({"actions": [{"say": said}]}))
    });
    receiver.on("/endless", Duration::ZERO, |_| {
        // A body that never ends: only a reader that stops at the limit gets out.
        let chunks = futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b' '; 1024]))
        });
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            axum::body::Body::from_stream(chunks),
        )
            .into_response()
    });
    receiver.on("/count", Duration::from_millis(300), |request| {
        let memory: Value = serde_json::from_str(request.param("Memory").unwrap()).unwrap();
        let count = memory["count"].as_i64().unwrap_or(0) + 1;
        actions(json!({"actions": [
            {"remember": {"count": count}},
            {"say": format!("count is {count}")},
            {"listen": true}
        ]}))
    });
    let running = receiver.start().await;
    let t = TestServer::start(|config| config.fetch.timeout = timeout).await;
    let sid = t.import(&schema(&running.base)).await;
    (t, running, sid)
}

/// Twilio's algorithm written out again here, independently of the server's.
fn expected_signature(url: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut text = url.to_owned();
    for (name, value) in sorted {
        text.push_str(&name);
        text.push_str(&value);
    }
    let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_task_url_gets_every_autopilot_parameter_signed() {
    let (t, hooks, sid) = setup(Duration::from_secs(5)).await;
    let json = t
        .say_with(
            &sid,
            "+15550100",
            "remote task for 4",
            &[("Memory", "{\"crm\": {\"tier\": \"gold\"}}")],
        )
        .await;
    assert_eq!(TestServer::texts(&json), ["Remote says hi, tier gold."]);
    let dialogue = TestServer::dialogue_sid(&json);

    let requests = hooks.receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.uri, "/actions");
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let names: Vec<&str> = request.params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "AccountSid",
            "AssistantSid",
            "DialogueSid",
            "UserIdentifier",
            "CurrentInput",
            "CurrentTask",
            "CurrentTaskConfidence",
            "NextBestTask",
            "Field_party_size_Value",
            "Field_party_size_Type",
            "DialoguePayloadUrl",
            "Memory",
            "Channel",
        ]
    );
    assert_eq!(request.param("AccountSid"), Some(ACCOUNT));
    assert_eq!(request.param("AssistantSid"), Some(sid.as_str()));
    assert_eq!(request.param("DialogueSid"), Some(dialogue.as_str()));
    assert_eq!(request.param("UserIdentifier"), Some("+15550100"));
    assert_eq!(request.param("CurrentInput"), Some("remote task for 4"));
    assert_eq!(request.param("CurrentTask"), Some("remote"));
    let confidence: f64 = request
        .param("CurrentTaskConfidence")
        .unwrap()
        .parse()
        .unwrap();
    assert!(confidence > 0.0 && confidence <= 1.0, "{confidence}");
    let next_best = request.param("NextBestTask").unwrap();
    assert!(
        [
            "greeting", "lookup", "slow", "broken", "garbled", "huge", "endless", "counter",
            "fallback"
        ]
        .contains(&next_best),
        "{next_best}"
    );
    assert_eq!(request.param("Field_party_size_Value"), Some("4"));
    assert_eq!(
        request.param("Field_party_size_Type"),
        Some("Twilio.NUMBER")
    );
    assert_eq!(
        request.param("DialoguePayloadUrl").unwrap(),
        t.url(&format!("/v1/Assistants/{sid}/Dialogues/{dialogue}"))
    );
    assert_eq!(
        serde_json::from_str::<Value>(request.param("Memory").unwrap()).unwrap(),
        json!({"crm": {"tier": "gold"}})
    );
    assert_eq!(request.param("Channel"), Some("web"));

    let url = format!("{}/actions", hooks.base);
    let signature = request.headers["x-twilio-signature"].to_str().unwrap();
    assert_eq!(signature, expected_signature(&url, &request.params));
    assert!(otto_server::signature::verify(
        TOKEN,
        &url,
        &request.params,
        signature
    ));

    // The payload URL it was given answers with the live dialogue.
    let response = t
        .client
        .get(request.param("DialoguePayloadUrl").unwrap())
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["memory"],
        json!({"crm": {"tier": "gold"}, "remote_seen": true})
    );
    assert_eq!(body["data"]["current_task"], "remote");
}

#[tokio::test]
async fn a_get_redirect_signs_its_url_and_sends_no_memory() {
    let (t, hooks, sid) = setup(Duration::from_secs(5)).await;
    let json = t.say(&sid, "u1", "where is my order").await;
    assert_eq!(TestServer::texts(&json), ["Your order ships today."]);
    let requests = hooks.receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::GET);
    assert!(request.uri.starts_with("/lookup?source=otto&AccountSid="));
    assert_eq!(request.param("source"), Some("otto"));
    assert_eq!(request.param("CurrentTask"), Some("lookup"));
    assert_eq!(request.param("Memory"), None);
    let url = format!("{}{}", hooks.base, request.uri);
    assert_eq!(
        request.headers["x-twilio-signature"].to_str().unwrap(),
        expected_signature(&url, &[])
    );
    let turn = t.last_turn(&TestServer::dialogue_sid(&json)).await;
    assert_eq!(turn.output["errors"], json!([]));
}

/// A webhook failure: the fallback answers, the error is in the turn record,
/// and the dialogue goes on.
async fn fails(t: &TestServer, sid: &Sid, user: &str, text: &str) -> Value {
    let json = t.say(sid, user, text).await;
    assert_eq!(TestServer::texts(&json), [FALLBACK], "{text}");
    assert_eq!(json["dialogue"]["ended"], false);
    let dialogue = TestServer::dialogue_sid(&json);
    let turn = t.last_turn(&dialogue).await;
    let errors = turn.output["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let after = t.say(sid, user, "hello").await;
    assert_eq!(TestServer::texts(&after), ["Hello from the static task."]);
    assert_eq!(TestServer::dialogue_sid(&after), dialogue);
    errors[0].clone()
}

#[tokio::test]
async fn webhook_failures_take_the_failure_path() {
    let (t, hooks, sid) = setup(Duration::from_millis(300)).await;
    let base = &hooks.base;

    let error = fails(&t, &sid, "u-timeout", "the slow one").await;
    assert_eq!(
        error,
        json!({"kind": "fetch", "code": 11200, "task": "slow",
               "message": format!("{base}/slow: no answer within 300 ms")})
    );
    let error = fails(&t, &sid, "u-500", "the broken one").await;
    assert_eq!(
        error,
        json!({"kind": "fetch", "code": 11200, "task": "broken",
               "message": format!("{base}/broken: the server answered with HTTP status 500")})
    );
    let error = fails(&t, &sid, "u-html", "the garbled one").await;
    assert_eq!(
        error,
        json!({"kind": "fetch", "code": 90100, "task": "garbled",
               "message": format!("{base}/garbled: the response is not valid JSON: expected value at line 1 column 1")})
    );
    let error = fails(&t, &sid, "u-huge", "the huge one").await;
    assert_eq!(
        error,
        json!({"kind": "fetch", "code": 90100, "task": "huge",
               "message": format!("{base}/huge: the response is larger than 16384 bytes")})
    );
    let error = fails(&t, &sid, "u-endless", "the endless one").await;
    assert_eq!(
        error,
        json!({"kind": "fetch", "code": 90100, "task": "endless",
               "message": format!("{base}/endless: the response is larger than 16384 bytes")})
    );
}

#[tokio::test]
async fn two_messages_at_once_run_in_order_without_losing_memory() {
    let (t, hooks, sid) = setup(Duration::from_secs(5)).await;
    let first = t.say(&sid, "u1", "count me in");
    let second = t.say(&sid, "u1", "add one more");
    let (first, second) = tokio::join!(first, second);
    let mut said = vec![
        TestServer::texts(&first).join(" "),
        TestServer::texts(&second).join(" "),
    ];
    said.sort();
    assert_eq!(said, ["count is 1", "count is 2"]);
    // One at a time, and the second saw the first's memory.
    assert_eq!(hooks.receiver.max_in_flight(), 1);
    let seen: Vec<Value> = hooks
        .receiver
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r.param("Memory").unwrap()).unwrap()["count"].clone()
        })
        .collect();
    assert_eq!(seen, [Value::Null, json!(1)]);
    let dialogue = TestServer::dialogue_sid(&first);
    assert_eq!(TestServer::dialogue_sid(&second), dialogue);
    let record = t.otto.store.dialogue(&dialogue).await.unwrap();
    assert_eq!(record.state.memory["count"], 2);
    assert_eq!(record.turn_count, 2);

    // Different users do not wait for each other.
    let (a, b) = tokio::join!(
        t.say(&sid, "u2", "count me in"),
        t.say(&sid, "u3", "count me in")
    );
    assert_eq!(TestServer::texts(&a), ["count is 1"]);
    assert_eq!(TestServer::texts(&b), ["count is 1"]);
    assert_eq!(hooks.receiver.max_in_flight(), 2);
}
