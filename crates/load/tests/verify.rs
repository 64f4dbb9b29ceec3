//! The store check finds what is missing or wrong, not only that all is well.

use chrono::DateTime;
use otto_engine::{DialogueState, Waiting};
use otto_load::{Played, Script, TurnOutcome};
use otto_model::{Sid, SidPrefix};
use otto_store::{NewAssistant, Store, TurnCommit, TurnRecord};
use serde_json::{Map, Value, json};

const USER: &str = "verify-user";

async fn store() -> (Store, Sid, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("otto.db").display());
    let store = Store::connect(&url).await.unwrap();
    let account = Sid::from_number(SidPrefix::Account, 1);
    let assistant = store
        .create_assistant(
            &account,
            NewAssistant {
                unique_name: Some("bot".into()),
                ..NewAssistant::default()
            },
        )
        .await
        .unwrap();
    (store, assistant.sid, dir)
}

/// Commits `inputs` as turns of one dialogue, leaving `memory` and `ended`.
async fn commit(
    store: &Store,
    assistant: &Sid,
    inputs: &[String],
    memory: Value,
    ended: bool,
) -> Sid {
    let sid = Sid::generate(SidPrefix::Dialogue);
    let memory: Map<String, Value> = memory.as_object().unwrap().clone();
    for (index, input) in inputs.iter().enumerate() {
        let at = DateTime::from_timestamp(1_700_000_000 + index as i64, 0).unwrap();
        let lock = store.lock_user(assistant, USER).await.unwrap();
        lock.commit(TurnCommit {
            state: DialogueState {
                sid: sid.clone(),
                user_identifier: USER.to_owned(),
                channel: "load".to_owned(),
                memory: memory.clone(),
                waiting: Waiting::Nothing,
                current_task: None,
                created_at: at,
                last_input_at: at,
                ended: ended && index + 1 == inputs.len(),
                end_reason: None,
            },
            turn: Some(TurnRecord {
                input: input.clone(),
                output: "{}".to_owned(),
                task: None,
            }),
            events: Vec::new(),
            message_sid: None,
        })
        .await
        .unwrap();
    }
    sid
}

fn played(acknowledged: usize, dialogue: &Sid, failed_after: bool) -> Played {
    let conversation = Script::demo().conversation(0);
    let mut outcomes: Vec<TurnOutcome> = (0..acknowledged)
        .map(|_| TurnOutcome::Acknowledged {
            dialogue_sid: dialogue.to_string(),
            reply: String::new(),
            instance: 0,
        })
        .collect();
    if failed_after {
        outcomes.push(TurnOutcome::Failed {
            error: "connection reset".into(),
            instance: 0,
        });
    }
    Played {
        user: USER.to_owned(),
        conversation,
        outcomes,
    }
}

fn texts(count: usize) -> Vec<String> {
    Script::demo().conversation(0).turns[..count]
        .iter()
        .map(|turn| turn.text.clone())
        .collect()
}

/// The memory conversation 0 of the demo script must leave.
fn expected_memory() -> Value {
    let mut memory = json!({});
    for (path, value) in &Script::demo().conversation(0).memory {
        let mut node = &mut memory;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = node
                .as_object_mut()
                .unwrap()
                .entry(part.to_string())
                .or_insert_with(|| json!({}));
        }
        node[parts[parts.len() - 1]] = value.clone();
    }
    memory
}

#[tokio::test]
async fn a_complete_conversation_passes() {
    let (store, assistant, _dir) = store().await;
    let all = Script::demo().conversation(0).turns.len();
    let sid = commit(&store, &assistant, &texts(all), expected_memory(), true).await;
    let report = otto_load::verify(&store, &[played(all, &sid, false)])
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.complete, 1);
    assert_eq!(report.turns, all as u64);
    assert!(report.memory_values >= 5);
}

#[tokio::test]
async fn a_missing_acknowledged_turn_is_found() {
    let (store, assistant, _dir) = store().await;
    let sid = commit(&store, &assistant, &texts(2), json!({}), false).await;
    let report = otto_load::verify(&store, &[played(3, &sid, true)])
        .await
        .unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("3 turns acknowledged, 2 stored"),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn a_failed_turn_that_was_committed_is_allowed() {
    let (store, assistant, _dir) = store().await;
    let sid = commit(&store, &assistant, &texts(3), json!({}), false).await;
    let report = otto_load::verify(&store, &[played(2, &sid, true)])
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.committed_unacknowledged, 1);
}

#[tokio::test]
async fn turns_out_of_order_and_wrong_memory_are_found() {
    let (store, assistant, _dir) = store().await;
    let all = Script::demo().conversation(0).turns.len();
    let mut swapped = texts(all);
    swapped.swap(1, 2);
    let sid = commit(&store, &assistant, &swapped, expected_memory(), true).await;
    let report = otto_load::verify(&store, &[played(all, &sid, false)])
        .await
        .unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("turn 2 of dialogue"),
        "{:?}",
        report.problems
    );

    let mut memory = expected_memory();
    memory["booked"] = json!(false);
    let sid = commit(&store, &assistant, &texts(all), memory, false).await;
    let report = otto_load::verify(&store, &[played(all, &sid, false)])
        .await
        .unwrap();
    let problems = report.problems.join("\n");
    assert!(
        problems.contains("memory booked is false, expected true"),
        "{problems}"
    );
    assert!(problems.contains("should have ended"), "{problems}");
}
