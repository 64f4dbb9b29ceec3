//! Dialogues end (idle timeout, hang-up, hand-off, completion) under a
//! controlled clock, and the next message starts a new one.

mod common;

use axum::http::StatusCode;
use common::*;
use otto_engine::{EndReason, InputKind, TurnInput};
use otto_model::Sid;
use serde_json::{Value, json};

fn schema() -> String {
    json!({
        "uniqueName": "desk",
        "defaults": {"defaults": {"fallback": "task://fallback"}},
        "tasks": [
            {"uniqueName": "greeting",
             "actions": {"actions": [{"remember": {"greeted": true}}, {"say": "Hello!"}, {"listen": true}]},
             "samples": [{"language": "en-US", "taggedText": "hello"},
                         {"language": "en-US", "taggedText": "hi there"},
                         {"language": "en-US", "taggedText": "good morning"}]},
            {"uniqueName": "agent",
             "actions": {"actions": [
                 {"say": "Connecting you to an agent."},
                 {"handoff": {"channel": "voice", "uri": "taskrouter://WW0123456789abcdef0123456789abcdef"}}
             ]},
             "samples": [{"language": "en-US", "taggedText": "talk to an agent"},
                         {"language": "en-US", "taggedText": "I want a human"},
                         {"language": "en-US", "taggedText": "speak to a person"}]},
            {"uniqueName": "goodbye",
             "actions": {"actions": [{"say": "Bye!"}]},
             "samples": [{"language": "en-US", "taggedText": "goodbye"},
                         {"language": "en-US", "taggedText": "bye"},
                         {"language": "en-US", "taggedText": "see you later"}]},
            {"uniqueName": "fallback",
             "actions": {"actions": [{"say": "Sorry?"}, {"listen": true}]}}
        ]
    })
    .to_string()
}

async fn setup() -> (TestServer, Sid) {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(&schema()).await;
    (t, sid)
}

const FOUR_HOURS: i64 = 4 * 3600;

#[tokio::test]
async fn a_dialogue_idle_for_exactly_four_hours_goes_on() {
    let (t, sid) = setup().await;
    let first = TestServer::dialogue_sid(&t.say(&sid, "u1", "hello").await);
    t.hand.advance(FOUR_HOURS);
    let json = t.say(&sid, "u1", "hello").await;
    assert_eq!(TestServer::dialogue_sid(&json), first);
    let record = t.otto.store.dialogue(&first).await.unwrap();
    assert_eq!(record.turn_count, 2);
    assert_eq!(record.last_input_at, START + FOUR_HOURS);
}

#[tokio::test]
async fn past_the_idle_timeout_the_next_message_starts_a_new_dialogue() {
    let (t, sid) = setup().await;
    let first = TestServer::dialogue_sid(&t.say(&sid, "u1", "hello").await);
    t.hand.advance(FOUR_HOURS + 1);
    let json = t.say(&sid, "u1", "zzz qqq").await;
    let second = TestServer::dialogue_sid(&json);
    assert_ne!(second, first);
    assert_eq!(TestServer::texts(&json), ["Sorry?"]);
    let old = t.otto.store.dialogue(&first).await.unwrap();
    assert!(!old.active);
    let new = t.otto.store.dialogue(&second).await.unwrap();
    assert!(new.active);
    // A new dialogue starts with empty memory.
    assert_eq!(new.state.memory, serde_json::Map::new());
    assert_eq!(new.date_created, START + FOUR_HOURS + 1);
    let response = t
        .client
        .get(t.url(&format!("/v1/Assistants/{sid}/Dialogues/{first}")))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_sweeper_ends_idle_dialogues_on_time() {
    let (t, sid) = setup().await;
    let first = TestServer::dialogue_sid(&t.say(&sid, "u1", "hello").await);
    let other = TestServer::dialogue_sid(&t.say(&sid, "u2", "hello").await);
    t.hand.advance(FOUR_HOURS);
    // u2 spoke again; u1 did not.
    t.say(&sid, "u2", "hello").await;
    assert_eq!(t.otto.turns.expire_idle(100).await.unwrap(), 0);
    t.hand.advance(1);
    assert_eq!(t.otto.turns.expire_idle(100).await.unwrap(), 1);
    let ended = t.otto.store.dialogue(&first).await.unwrap();
    assert!(!ended.active);
    assert!(ended.state.ended);
    assert_eq!(ended.state.end_reason, Some(EndReason::IdleTimeout));
    assert_eq!(ended.turn_count, 1, "ending is not a turn");
    assert!(t.otto.store.dialogue(&other).await.unwrap().active);
    // Nothing left to end; the next message of u1 starts over.
    assert_eq!(t.otto.turns.expire_idle(100).await.unwrap(), 0);
    let json = t.say(&sid, "u1", "hello").await;
    assert_ne!(TestServer::dialogue_sid(&json), first);
}

#[tokio::test]
async fn a_hang_up_ends_the_dialogue() {
    let (t, sid) = setup().await;
    let first = TestServer::dialogue_sid(&t.say(&sid, "+15550100", "hello").await);
    let input = TurnInput::message("+15550100", "web", "").with_kind(InputKind::HangUp);
    let outcome = t.otto.turns.turn(sid.as_str(), input).await.unwrap();
    assert_eq!(outcome.result.state.sid, first);
    assert!(outcome.result.state.ended);
    assert_eq!(outcome.result.state.end_reason, Some(EndReason::HangUp));
    assert!(outcome.result.output.says.is_empty());
    let stored = t.otto.store.dialogue(&first).await.unwrap();
    assert!(!stored.active);
    assert_eq!(stored.state.end_reason, Some(EndReason::HangUp));
    let json = t.say(&sid, "+15550100", "hello").await;
    assert_ne!(TestServer::dialogue_sid(&json), first);
}

#[tokio::test]
async fn a_handoff_ends_the_dialogue_and_is_passed_on() {
    let (t, sid) = setup().await;
    let json = t.say(&sid, "u1", "hello").await;
    let first = TestServer::dialogue_sid(&json);
    let json = t.say(&sid, "u1", "talk to an agent").await;
    assert_eq!(TestServer::dialogue_sid(&json), first);
    assert_eq!(json["dialogue"]["ended"], true);
    assert_eq!(TestServer::texts(&json), ["Connecting you to an agent."]);
    assert_eq!(
        json["response"]["handoff"],
        json!({
            "uri": "taskrouter://WW0123456789abcdef0123456789abcdef",
            "method": null, "action": null, "priority": null, "timeout": null, "attributes": null,
        })
    );
    assert_eq!(json["response"]["listen"], Value::Null);
    let stored = t.otto.store.dialogue(&first).await.unwrap();
    assert_eq!(stored.state.end_reason, Some(EndReason::Handoff));
    let next = t.say(&sid, "u1", "hello").await;
    assert_ne!(TestServer::dialogue_sid(&next), first);
}

#[tokio::test]
async fn a_task_that_does_not_listen_completes_the_dialogue() {
    let (t, sid) = setup().await;
    let first = TestServer::dialogue_sid(&t.say(&sid, "u1", "hello").await);
    let json = t.say(&sid, "u1", "goodbye").await;
    assert_eq!(TestServer::texts(&json), ["Bye!"]);
    assert_eq!(json["dialogue"], json!({"sid": first, "ended": true}));
    let stored = t.otto.store.dialogue(&first).await.unwrap();
    assert_eq!(stored.state.end_reason, Some(EndReason::Completed));
    let turns = t
        .otto
        .store
        .list_turns(&first, &otto_store::PageRequest::first(10))
        .await
        .unwrap();
    let recorded: Vec<(&str, Option<&str>)> = turns
        .items
        .iter()
        .map(|turn| (turn.input.as_str(), turn.task.as_deref()))
        .collect();
    assert_eq!(
        recorded,
        [("hello", Some("greeting")), ("goodbye", Some("goodbye"))]
    );
    let next = t.say(&sid, "u1", "hello").await;
    assert_ne!(TestServer::dialogue_sid(&next), first);
}
