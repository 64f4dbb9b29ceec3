//! A dialogue's next turn on SQLite reads nothing before it runs when its
//! dialogue is in the process's cache; its commit checks that the dialogue
//! and the assistant's definition are still what the turn ran with. These
//! tests change one or the other between two turns, from this process and
//! from another connection to the same file (as another process would), and
//! check that the next turn answers from what is stored now.

mod common;

use common::*;
use otto_engine::DialogueState;
use otto_model::{ActionsDocument, Sid};
use otto_store::{Store, TaskUpdate, TurnCommit};
use serde_json::json;
use std::time::Duration;

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

fn greeting_says(text: &str) -> TaskUpdate {
    let actions = json!({"actions": [{"say": text}, {"listen": true}]}).to_string();
    TaskUpdate {
        actions: Some(Some(ActionsDocument::parse(&actions).unwrap())),
        ..TaskUpdate::default()
    }
}

/// Another connection to the server's database file, as another process
/// (`otto import`, a second `otto serve`) would open.
async fn other_process(t: &TestServer) -> Store {
    let url = format!("sqlite://{}", t.dir.path().join("otto.db").display());
    Store::connect(&url).await.unwrap()
}

async fn first_turn(t: &TestServer) -> (Sid, Sid) {
    let sid = t.import(&schema()).await;
    let json = t.say(&sid, "u1", "hello").await;
    assert_eq!(TestServer::texts(&json), ["Hello!"]);
    (sid, TestServer::dialogue_sid(&json))
}

/// The user's next turn says `text`, in the same dialogue, recorded once.
async fn next_turn_says(t: &TestServer, sid: &Sid, dialogue: &Sid, text: &str) {
    let json = t.say(sid, "u1", "hello").await;
    assert_eq!(TestServer::texts(&json), [text]);
    assert_eq!(&TestServer::dialogue_sid(&json), dialogue);
    let stored = t.otto.store.dialogue(dialogue).await.unwrap();
    assert_eq!(stored.turn_count, 2, "the turn is recorded once");
}

#[tokio::test]
async fn a_task_changed_in_this_process_answers_the_next_turn_of_a_cached_dialogue() {
    let t = TestServer::start(|_| {}).await;
    let (sid, dialogue) = first_turn(&t).await;
    t.otto
        .store
        .update_task(
            &t.otto.account.sid,
            "desk",
            "greeting",
            greeting_says("Hello again!"),
        )
        .await
        .unwrap();
    next_turn_says(&t, &sid, &dialogue, "Hello again!").await;
}

#[tokio::test]
async fn a_task_changed_by_another_process_answers_the_next_turn_of_a_cached_dialogue() {
    let t = TestServer::start(|_| {}).await;
    let (sid, dialogue) = first_turn(&t).await;
    let other = other_process(&t).await;
    other
        .update_task(
            &t.otto.account.sid,
            "desk",
            "greeting",
            greeting_says("Hello from the other side!"),
        )
        .await
        .unwrap();
    // This process's dialogue cache and kept definition are both out of date:
    // the commit finds the definition changed, and the turn runs again (the
    // refused run left nothing behind).
    next_turn_says(&t, &sid, &dialogue, "Hello from the other side!").await;
    other.close().await;
}

#[tokio::test]
async fn a_dialogue_changed_by_another_process_goes_on_from_what_is_stored() {
    let t = TestServer::start(|_| {}).await;
    let (sid, dialogue) = first_turn(&t).await;
    let other = other_process(&t).await;
    let lock = other.lock_user(&sid, "u1").await.unwrap();
    let mut state: DialogueState = lock.state().unwrap();
    state.memory.insert("from_elsewhere".into(), json!("yes"));
    lock.commit(TurnCommit {
        state,
        turn: None,
        events: Vec::new(),
        message_sid: None,
    })
    .await
    .unwrap();
    let json = t.say(&sid, "u1", "hello").await;
    assert_eq!(TestServer::texts(&json), ["Hello!"]);
    assert_eq!(TestServer::dialogue_sid(&json), dialogue);
    let stored = t.otto.store.dialogue(&dialogue).await.unwrap();
    assert_eq!(stored.state.memory["from_elsewhere"], "yes", "{stored:?}");
    assert_eq!(stored.state.memory["greeted"], true);
    assert_eq!(stored.turn_count, 2);
    other.close().await;
}

#[tokio::test]
async fn a_deleted_assistant_is_not_found_by_the_next_turn_of_a_cached_dialogue() {
    let t = TestServer::start(|_| {}).await;
    let (sid, _) = first_turn(&t).await;
    t.otto
        .store
        .delete_assistant(&t.otto.account.sid, "desk")
        .await
        .unwrap();
    let form = [("UserId", "u1"), ("Text", "hello"), ("Language", "en-US")];
    let (status, json) = t.post(&t.channel_path(sid.as_str()), &form).await;
    assert_eq!(status, 404, "{json}");
    assert_eq!(json["code"], 20404, "{json}");
}

/// The kept definition can be one without a model (read by another user's
/// turn while no build existed) while a user's dialogue is cached; once a
/// build completes, that user's next turn must not answer "not trained".
#[tokio::test]
async fn a_cached_dialogue_is_answered_by_a_build_made_after_the_kept_definition() {
    let t = TestServer::start(|_| {}).await;
    let (sid, dialogue) = first_turn(&t).await;
    let builds = t
        .otto
        .store
        .list_model_builds(
            &t.otto.account.sid,
            sid.as_str(),
            &otto_store::PageRequest::first(50),
        )
        .await
        .unwrap();
    for build in builds.items {
        t.otto
            .store
            .delete_model_build(&t.otto.account.sid, sid.as_str(), build.sid.as_str())
            .await
            .unwrap();
    }
    // Another user's turn reads the definition without a model and keeps it.
    let form = [("UserId", "u2"), ("Text", "hello"), ("Language", "en-US")];
    let (status, json) = t.post(&t.channel_path(sid.as_str()), &form).await;
    assert_ne!(status, 200, "{json}");
    t.train(&sid).await;
    let json = t.say(&sid, "u1", "hello").await;
    assert_eq!(TestServer::texts(&json), ["Hello!"]);
    assert_eq!(TestServer::dialogue_sid(&json), dialogue);
}

/// The desk of [`schema`] with a `book` task that asks the author's webhook
/// at `base`.
fn schema_with_webhook(base: &str) -> String {
    let mut schema: serde_json::Value = serde_json::from_str(&schema()).unwrap();
    schema["tasks"].as_array_mut().unwrap().push(json!(
        {"uniqueName": "book", "actionsUrl": format!("{base}/book"),
         "samples": [{"language": "en-US", "taggedText": "book a table"},
                     {"language": "en-US", "taggedText": "reserve a table"},
                     {"language": "en-US", "taggedText": "I want to book"}]}
    ));
    schema.to_string()
}

#[tokio::test]
async fn a_turn_run_again_after_a_change_calls_its_webhook_once() {
    let receiver = Receiver::default();
    // Slow enough for the definition to change while the turn waits for it.
    receiver.on("/book", Duration::from_millis(500), |_| {
        actions(json!({"actions": [{"say": "Booked: table 7."}, {"listen": true}]}))
    });
    let webhook = receiver.start().await;
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(&schema_with_webhook(&webhook.base)).await;
    let first = t.say(&sid, "u1", "hello").await;
    assert_eq!(TestServer::texts(&first), ["Hello!"]);
    let dialogue = TestServer::dialogue_sid(&first);

    let other = other_process(&t).await;
    let change_during_the_call = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while webhook.receiver.requests().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no webhook call");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        other
            .update_task(
                &t.otto.account.sid,
                "desk",
                "greeting",
                greeting_says("Hello again!"),
            )
            .await
            .unwrap();
    };
    let (answer, ()) = tokio::join!(t.say(&sid, "u1", "book a table"), change_during_the_call);

    // The commit found the definition changed and the turn ran again; the
    // second run got the first one's answer instead of booking again.
    assert_eq!(TestServer::texts(&answer), ["Booked: table 7."]);
    assert_eq!(TestServer::dialogue_sid(&answer), dialogue);
    assert_eq!(
        webhook.receiver.requests().len(),
        1,
        "the webhook was called again"
    );
    let stored = t.otto.store.dialogue(&dialogue).await.unwrap();
    assert_eq!(stored.turn_count, 2, "the turn is recorded once");
    // The change is in effect for the next turn.
    let next = t.say(&sid, "u1", "hello").await;
    assert_eq!(TestServer::texts(&next), ["Hello again!"]);
    other.close().await;
}
