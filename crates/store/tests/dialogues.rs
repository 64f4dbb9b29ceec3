//! Dialogue turns: commit and reload, per-user serialisation, processes sharing
//! a database, inbound message idempotency, and real engine turns, on both backends.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{T0, TestDb, account, at, shared, state};
use otto_engine::{
    ActionFetcher, Bot, DialogueState, EndReason, Engine, EngineConfig, FetchError, RemoteRequest,
    TurnInput, Understanding, Understood,
};
use otto_model::{Sid, SidPrefix};
use otto_store::*;
use serde_json::{Value, json};

both_backends!(
    commit_and_reload,
    a_new_dialogue_replaces_the_active_one,
    concurrent_turns_of_one_user_are_serialised,
    different_users_do_not_wait_for_each_other,
    two_processes_never_lose_an_update,
    message_sids_are_processed_once,
    engine_turns_persist,
    a_refused_commit_among_many_leaves_the_others_committed,
    a_state_of_another_user_in_a_loaded_dialogue_is_refused_and_leaves_nothing,
);

const USER: &str = "+15555550100";

async fn bot(store: &Store) -> Sid {
    store
        .create_assistant(
            &account(),
            NewAssistant {
                unique_name: Some("bot".into()),
                ..NewAssistant::default()
            },
        )
        .await
        .unwrap()
        .sid
}

fn turn(input: &str) -> Option<TurnRecord> {
    Some(TurnRecord {
        input: input.to_owned(),
        output: json!({"says": [format!("you said {input}")]}).to_string(),
        task: Some("echo".to_owned()),
    })
}

fn commit(state: DialogueState, input: &str, message_sid: Option<&str>) -> TurnCommit {
    TurnCommit {
        state,
        turn: turn(input),
        events: vec![
            NewEvent::new("onDialogueTurn", json!({"input": input})),
            NewEvent::new("onDialogueEnd", json!({})),
        ],
        message_sid: message_sid.map(str::to_owned),
    }
}

fn counter(state: &Option<DialogueState>) -> i64 {
    state
        .as_ref()
        .and_then(|state| state.memory.get("count"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

async fn commit_and_reload(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let assistant = bot(store).await;
    store
        .create_webhook(
            &acc,
            "bot",
            NewWebhook {
                unique_name: "turns".into(),
                events: "onDialogueTurn".into(),
                webhook_url: "https://example.com/turns".into(),
                webhook_method: None,
            },
        )
        .await
        .unwrap();

    let lock = store.lock_user(&assistant, USER).await.unwrap();
    assert_eq!(lock.dialogue(), None);
    assert_eq!(lock.state(), None);
    let sid = Sid::from_number(SidPrefix::Dialogue, 1);
    let first = state(&sid, USER, json!({"count": 1}), T0);
    let done = lock
        .commit(commit(first.clone(), "hi", Some("SM1")))
        .await
        .unwrap();
    assert_eq!(done.turn_seq, Some(1));
    // Only the subscribed event is queued.
    assert_eq!(done.events_enqueued, 1);
    let dialogue = (*done.dialogue).clone();
    assert_eq!(dialogue.sid, sid);
    assert_eq!(dialogue.account_sid, acc);
    assert_eq!(dialogue.assistant_sid, assistant);
    assert_eq!(dialogue.user_identifier, USER);
    assert_eq!(dialogue.channel, "sms");
    assert_eq!(dialogue.state, first);
    assert!(dialogue.active);
    assert_eq!(
        (
            dialogue.version,
            dialogue.turn_count,
            dialogue.last_input_at
        ),
        (1, 1, T0)
    );
    assert_eq!((dialogue.date_created, dialogue.date_updated), (T0, T0));

    let loaded = store
        .load_active_dialogue(&assistant, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded, dialogue);
    assert_eq!(
        store
            .fetch_dialogue(&acc, "bot", sid.as_str())
            .await
            .unwrap(),
        dialogue
    );
    assert_eq!(
        store
            .load_active_dialogue(&assistant, "someone else")
            .await
            .unwrap(),
        None
    );

    db.clock.advance(30);
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    assert_eq!(lock.dialogue(), Some(&dialogue));
    let mut second = lock.state().unwrap();
    second.memory.insert("count".into(), json!(2));
    second.last_input_at = at(T0 + 30);
    let done = lock
        .commit(commit(second.clone(), "again", Some("SM2")))
        .await
        .unwrap();
    assert_eq!(done.turn_seq, Some(2));
    assert_eq!(
        (
            done.dialogue.version,
            done.dialogue.turn_count,
            done.dialogue.last_input_at,
            done.dialogue.date_updated
        ),
        (2, 2, T0 + 30, T0 + 30)
    );
    assert_eq!(done.dialogue.state, second);

    let turns = store
        .list_turns(&sid, &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(turns.len(), 2);
    assert_eq!(
        turns[0],
        StoredTurn {
            dialogue_sid: sid.clone(),
            seq: 1,
            assistant_sid: assistant.clone(),
            input: "hi".into(),
            output: json!({"says": ["you said hi"]}),
            task: Some("echo".into()),
            message_sid: Some("SM1".into()),
            date_created: T0,
        }
    );
    assert_eq!((turns[1].seq, turns[1].input.as_str()), (2, "again"));

    // The dialogue ends: no longer active, no longer fetchable, still stored.
    db.clock.advance(5);
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    let mut ended = lock.state().unwrap();
    ended.ended = true;
    ended.end_reason = Some(EndReason::Completed);
    let done = lock
        .commit(TurnCommit {
            state: ended.clone(),
            turn: turn("bye"),
            events: vec![],
            message_sid: None,
        })
        .await
        .unwrap();
    assert!(!done.dialogue.active);
    assert_eq!(
        store.load_active_dialogue(&assistant, USER).await.unwrap(),
        None
    );
    let error = store
        .fetch_dialogue(&acc, "bot", sid.as_str())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "dialogue \"{sid}\" was not found in assistant {assistant} (ended dialogues are not kept visible)"
        )
    );
    let kept = store.dialogue(&sid).await.unwrap();
    assert_eq!(kept.state, ended);
    assert_eq!(kept.turn_count, 3);

    // A state of another user is refused by this user's lock.
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    let stranger = state(
        &Sid::from_number(SidPrefix::Dialogue, 2),
        "other",
        json!({}),
        T0,
    );
    let error = lock.commit(commit(stranger, "x", None)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "invalid turn commit: the state belongs to user \"other\", the lock to user \"{USER}\""
        )
    );

    let usage = store.usage(Some(&assistant), T0, T0 + 3600).await.unwrap();
    assert_eq!(
        usage,
        Usage {
            dialogues_started: 1,
            turns: 3,
            inbound_messages: 2,
            queries: 0
        }
    );
    assert_eq!(store.usage(None, T0 + 1, T0 + 3600).await.unwrap().turns, 2);
}

async fn a_new_dialogue_replaces_the_active_one(db: TestDb) {
    let store = &db.store;
    let assistant = bot(store).await;
    let old = Sid::from_number(SidPrefix::Dialogue, 1);
    let new = Sid::from_number(SidPrefix::Dialogue, 2);
    store
        .commit_turn(
            &assistant,
            commit(state(&old, USER, json!({}), T0), "hi", None),
        )
        .await
        .unwrap();
    // The engine started another dialogue (idle timeout, a new call).
    db.clock.advance(5 * 3600);
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    assert_eq!(lock.dialogue().map(|d| d.sid.clone()), Some(old.clone()));
    lock.commit(commit(
        state(&new, USER, json!({}), T0 + 5 * 3600),
        "back",
        None,
    ))
    .await
    .unwrap();
    let active = store
        .load_active_dialogue(&assistant, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.sid, new);
    let old_record = store.dialogue(&old).await.unwrap();
    assert!(!old_record.active);
    assert_eq!(old_record.version, 2);

    // The idle sweeper finds active dialogues idle since before a cutoff.
    let idle = store.idle_dialogues(T0 + 5 * 3600 + 1, 10).await.unwrap();
    assert_eq!(idle.iter().map(|d| &d.sid).collect::<Vec<_>>(), vec![&new]);
    assert!(
        store
            .idle_dialogues(T0 + 5 * 3600, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Each task: lock, read the counter, wait, write counter + 1.
async fn increment(store: Store, assistant: Sid, pause: Duration) -> Result<i64> {
    let lock = store.lock_user(&assistant, USER).await?;
    let current = lock.state();
    let count = counter(&current) + 1;
    tokio::time::sleep(pause).await;
    let mut next =
        current.unwrap_or_else(|| state(&Sid::generate(SidPrefix::Dialogue), USER, json!({}), T0));
    next.memory.insert("count".into(), json!(count));
    lock.commit(commit(next, &format!("turn {count}"), None))
        .await?;
    Ok(count)
}

async fn concurrent_turns_of_one_user_are_serialised(db: TestDb) {
    let store = &db.store;
    let assistant = bot(store).await;
    let pause = Duration::from_millis(200);
    let started = Instant::now();
    let a = tokio::spawn(increment(store.clone(), assistant.clone(), pause));
    let b = tokio::spawn(increment(store.clone(), assistant.clone(), pause));
    let mut seen = vec![a.await.unwrap().unwrap(), b.await.unwrap().unwrap()];
    seen.sort();
    assert_eq!(seen, vec![1, 2], "each turn saw the other's update");
    assert!(
        started.elapsed() >= pause * 2,
        "the two turns overlapped: {:?}",
        started.elapsed()
    );
    let dialogue = store
        .load_active_dialogue(&assistant, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dialogue.state.memory["count"], json!(2));
    assert_eq!(dialogue.turn_count, 2);

    // More at once: still no lost update.
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(increment(
                store.clone(),
                assistant.clone(),
                Duration::from_millis(10),
            ))
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let dialogue = store
        .load_active_dialogue(&assistant, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dialogue.state.memory["count"], json!(8));
    assert_eq!(dialogue.turn_count, 8);
}

async fn different_users_do_not_wait_for_each_other(db: TestDb) {
    let store = &db.store;
    let assistant = bot(store).await;
    let held = store.lock_user(&assistant, USER).await.unwrap();
    let other = "+15555550199";
    let quick = tokio::time::timeout(Duration::from_secs(5), async {
        let lock = store.lock_user(&assistant, other).await?;
        lock.commit(commit(
            state(
                &Sid::from_number(SidPrefix::Dialogue, 9),
                other,
                json!({}),
                T0,
            ),
            "hi",
            None,
        ))
        .await
    })
    .await
    .expect("another user's turn does not wait for this user's lock")
    .unwrap();
    assert!(quick.dialogue.active);
    // The same user does wait.
    let blocked = tokio::time::timeout(
        Duration::from_millis(300),
        store.lock_user(&assistant, USER),
    )
    .await;
    assert!(blocked.is_err(), "a second lock of the same user must wait");
    held.commit(commit(
        state(
            &Sid::from_number(SidPrefix::Dialogue, 8),
            USER,
            json!({}),
            T0,
        ),
        "hi",
        None,
    ))
    .await
    .unwrap();
    // Released by the commit.
    let again = tokio::time::timeout(Duration::from_secs(5), store.lock_user(&assistant, USER))
        .await
        .expect("the lock is free after the commit")
        .unwrap();
    assert_eq!(
        again.dialogue().map(|d| d.sid.clone()),
        Some(Sid::from_number(SidPrefix::Dialogue, 8))
    );
    drop(again);
    // Dropping a lock without committing releases it and writes nothing.
    let dropped = store.lock_user(&assistant, USER).await.unwrap();
    drop(dropped);
    let after = tokio::time::timeout(Duration::from_secs(5), store.lock_user(&assistant, USER))
        .await
        .expect("a dropped lock is released")
        .unwrap();
    assert_eq!(after.dialogue().unwrap().version, 1);
}

async fn two_processes_never_lose_an_update(db: TestDb) {
    let one = db.store.clone();
    let two = db.second_store().await;
    let assistant = bot(&one).await;
    let sid = Sid::from_number(SidPrefix::Dialogue, 1);
    one.commit_turn(
        &assistant,
        commit(state(&sid, USER, json!({"count": 0}), T0), "start", None),
    )
    .await
    .unwrap();

    let first = one.lock_user(&assistant, USER).await.unwrap();
    match db.backend {
        Backend::Postgres => {
            // The advisory lock is seen by every connection to the database.
            let waiting =
                tokio::time::timeout(Duration::from_millis(300), two.lock_user(&assistant, USER))
                    .await;
            assert!(waiting.is_err(), "the other process must wait for the lock");
            let mut next = first.state().unwrap();
            next.memory.insert("count".into(), json!(1));
            first.commit(commit(next, "one", None)).await.unwrap();
            let second = two.lock_user(&assistant, USER).await.unwrap();
            assert_eq!(counter(&second.state()), 1);
            let mut next = second.state().unwrap();
            next.memory.insert("count".into(), json!(2));
            second.commit(commit(next, "two", None)).await.unwrap();
        }
        Backend::Sqlite => {
            // Each process has its own lock table: both load version 1, the
            // later commit is refused instead of overwriting the earlier one.
            let second = two.lock_user(&assistant, USER).await.unwrap();
            let mut next = first.state().unwrap();
            next.memory.insert("count".into(), json!(1));
            first.commit(commit(next, "one", None)).await.unwrap();
            let mut stale = second.state().unwrap();
            stale.memory.insert("count".into(), json!(1));
            let error = second.commit(commit(stale, "two", None)).await.unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "the active dialogue of user \"{USER}\" in assistant {assistant} changed since it was loaded \
                     (expected dialogue {sid} version 1, found dialogue {sid} version 2); load it again and retry the turn"
                )
            );
            assert_eq!(error.http_status(), 409);
            // The retry sees the other process's update.
            let retry = two.lock_user(&assistant, USER).await.unwrap();
            assert_eq!(counter(&retry.state()), 1);
            let mut next = retry.state().unwrap();
            next.memory.insert("count".into(), json!(2));
            retry.commit(commit(next, "two", None)).await.unwrap();
        }
    }
    let dialogue = two
        .load_active_dialogue(&assistant, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dialogue.state.memory["count"], json!(2));
    assert_eq!(dialogue.turn_count, 3);
    assert_eq!(dialogue.version, 3);
    // The first process last wrote version 2 itself (and keeps it in memory
    // on SQLite): its next turn still loads the other process's version 3.
    let next = one.lock_user(&assistant, USER).await.unwrap();
    assert_eq!(next.dialogue().map(|d| d.version), Some(3));
    assert_eq!(counter(&next.state()), 2);
    drop(next);
    two.close().await;
}

/// Many users' turns committed at once (on SQLite they share the writer's
/// transactions, some turns in savepoints, some without): the ones refused
/// (a repeated message SID) change nothing, every other one is stored.
async fn a_refused_commit_among_many_leaves_the_others_committed(db: TestDb) {
    let store = db.store.clone();
    let assistant = bot(&store).await;
    let users: Vec<String> = (0..40).map(|i| format!("+1555000{i:04}")).collect();
    let first_turns = users.iter().enumerate().map(|(i, user)| {
        let (store, assistant, user) = (store.clone(), assistant.clone(), user.clone());
        tokio::spawn(async move {
            let sid = Sid::from_number(SidPrefix::Dialogue, 100 + i as u128);
            let lock = store.lock_user(&assistant, &user).await?;
            let message = format!("SM{i:032}");
            lock.commit(commit(
                state(&sid, &user, json!({"count": 1}), T0),
                "one",
                Some(&message),
            ))
            .await
        })
    });
    for done in futures_join(first_turns).await {
        assert_eq!(done.turn_seq, Some(1));
    }
    // Second turns, all at once: the even users repeat their first message SID.
    let second_turns = users.iter().enumerate().map(|(i, user)| {
        let (store, assistant, user) = (store.clone(), assistant.clone(), user.clone());
        tokio::spawn(async move {
            let lock = store.lock_user(&assistant, &user).await?;
            let mut next = lock.state().expect("the first turn's dialogue");
            next.memory.insert("count".into(), json!(2));
            // Even users repeat their first message SID; of the others, half
            // send a new one, half none (the SQLite writer's savepoint-free turns).
            let message = match i % 4 {
                0 | 2 => Some(format!("SM{i:032}")),
                1 => Some(format!("SM{:032}", 1000 + i)),
                _ => None,
            };
            lock.commit(commit(next, "two", message.as_deref())).await
        })
    });
    let results: Vec<Result<CommittedTurn>> = join_all_results(second_turns).await;
    for (i, (user, result)) in users.iter().zip(results).enumerate() {
        let stored = store
            .load_active_dialogue(&assistant, user)
            .await
            .unwrap()
            .unwrap();
        if i % 2 == 0 {
            assert!(
                matches!(result, Err(StoreError::DuplicateMessage { .. })),
                "user {i}: {result:?}"
            );
            assert_eq!(
                stored.turn_count, 1,
                "user {i}: the refused turn left nothing"
            );
            assert_eq!(stored.state.memory["count"], json!(1));
            assert_eq!(stored.version, 1);
        } else {
            assert_eq!(result.unwrap().turn_seq, Some(2), "user {i}");
            assert_eq!(stored.turn_count, 2);
            assert_eq!(stored.state.memory["count"], json!(2));
        }
        let turns = store
            .list_turns(&stored.sid, &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(turns.items.len() as i64, stored.turn_count, "user {i}");
    }
}

/// On SQLite, a turn of one process refused because another process changed
/// its dialogue (found by the writer's versioned `UPDATE`, without a
/// savepoint) leaves nothing, and the turns committed with it are all stored.
/// (On PostgreSQL the other process would wait for the user's lock instead.)
#[tokio::test]
async fn sqlite_a_stale_turn_refused_among_many_leaves_the_others_committed() {
    let db = TestDb::sqlite().await;
    let one = db.store.clone();
    let two = db.second_store().await;
    let assistant = bot(&one).await;
    let users: Vec<String> = (0..20).map(|i| format!("+1555001{i:04}")).collect();
    for (i, user) in users.iter().enumerate() {
        let sid = Sid::from_number(SidPrefix::Dialogue, 500 + i as u128);
        one.commit_turn(
            &assistant,
            commit(state(&sid, user, json!({"count": 1}), T0), "one", None),
        )
        .await
        .unwrap();
    }
    // Process two loads user 0's dialogue, then process one moves it on.
    let stale = two.lock_user(&assistant, &users[0]).await.unwrap();
    let moved = one.lock_user(&assistant, &users[0]).await.unwrap();
    let mut next = moved.state().unwrap();
    next.memory.insert("count".into(), json!(10));
    moved.commit(commit(next, "moved", None)).await.unwrap();
    // Process two commits the stale turn together with every other user's.
    let mut stale_state = stale.state().unwrap();
    stale_state.memory.insert("count".into(), json!(2));
    let stale_turn = tokio::spawn(stale.commit(commit(stale_state, "stale", None)));
    let others = users[1..].iter().map(|user| {
        let (two, assistant, user) = (two.clone(), assistant.clone(), user.clone());
        tokio::spawn(async move {
            let lock = two.lock_user(&assistant, &user).await?;
            let mut next = lock.state().expect("the first turn's dialogue");
            next.memory.insert("count".into(), json!(2));
            lock.commit(commit(next, "two", None)).await
        })
    });
    for done in futures_join(others).await {
        assert_eq!(done.turn_seq, Some(2));
    }
    let refused = stale_turn.await.unwrap().unwrap_err();
    assert!(
        matches!(refused, StoreError::DialogueChanged { .. }),
        "{refused}"
    );
    for (i, user) in users.iter().enumerate() {
        let stored = one
            .load_active_dialogue(&assistant, user)
            .await
            .unwrap()
            .unwrap();
        let expected = if i == 0 { 10 } else { 2 };
        assert_eq!(stored.state.memory["count"], json!(expected), "user {i}");
        assert_eq!(stored.turn_count, 2, "user {i}");
        let turns = one
            .list_turns(&stored.sid, &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(turns.items.len(), 2, "user {i}");
    }
    two.close().await;
}

/// Under steady commits the WAL is never all copied at a moment when the
/// writer starts a transaction, which is when SQLite starts it over; the
/// checkpoint thread makes it start over all the same, holding the writer
/// between two transactions, so the file stays bounded. The WAL header's
/// checkpoint sequence number counts the restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_the_wal_starts_over_under_steady_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("otto.db");
    let restart_frames = 64;
    let store = Store::connect_with(
        &format!("sqlite://{}", path.display()),
        StoreOptions {
            sqlite_wal_restart_frames: restart_frames,
            ..common::options(Clock::manual(T0).0)
        },
    )
    .await
    .unwrap();
    let assistant = bot(&store).await;
    let wal = dir.path().join("otto.db-wal");
    let restarts = || {
        let header = std::fs::read(&wal).expect("the WAL file");
        u32::from_be_bytes(header[12..16].try_into().unwrap())
    };
    let before = restarts();
    // Eight users taking turns without a pause keep the writer busy.
    let until = Instant::now() + Duration::from_secs(3);
    let users: Vec<_> = (0..8)
        .map(|i| {
            let (store, assistant) = (store.clone(), assistant.clone());
            tokio::spawn(async move {
                let user = format!("+1555002{i:04}");
                let mut turns = 0;
                while Instant::now() < until {
                    let lock = store.lock_user(&assistant, &user).await?;
                    let mut next = lock.state().unwrap_or_else(|| {
                        state(&Sid::generate(SidPrefix::Dialogue), &user, json!({}), T0)
                    });
                    turns += 1;
                    next.memory.insert("count".into(), json!(turns));
                    lock.commit(commit(next, "again", None)).await?;
                }
                Ok::<_, StoreError>(turns)
            })
        })
        .collect();
    let mut turns: u32 = 0;
    for user in users {
        turns += user.await.unwrap().unwrap();
    }
    let after = restarts();
    assert!(
        after >= before + 3,
        "the WAL started over {} times in {turns} turns",
        after - before
    );
    // What the WAL held at most: the frames of one checkpoint interval past
    // the restart threshold, far from all the frames written.
    let wal_bytes = std::fs::metadata(&wal).unwrap().len();
    let written_bytes = u64::from(turns) * 4 * 4096;
    assert!(
        wal_bytes < written_bytes / 2,
        "WAL of {wal_bytes} bytes after {turns} turns"
    );
    let stored = store
        .load_active_dialogue(&assistant, "+15550020003")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.turn_count > 1);
    assert_eq!(stored.state.memory["count"], json!(stored.turn_count));
}

/// The state-owner check also holds for a turn that goes on with the dialogue
/// it loaded (on SQLite the writer runs those without a savepoint): refused
/// with a 400, nothing written, the next turns committed.
async fn a_state_of_another_user_in_a_loaded_dialogue_is_refused_and_leaves_nothing(db: TestDb) {
    let store = db.store.clone();
    let assistant = bot(&store).await;
    let sid = Sid::from_number(SidPrefix::Dialogue, 40);
    store
        .commit_turn(
            &assistant,
            commit(state(&sid, USER, json!({"count": 1}), T0), "one", None),
        )
        .await
        .unwrap();
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    assert_eq!(lock.dialogue().map(|d| d.sid.clone()), Some(sid.clone()));
    let stranger = state(&sid, "other", json!({"count": 9}), T0);
    let error = lock.commit(commit(stranger, "x", None)).await.unwrap_err();
    assert_eq!(error.http_status(), 400, "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "invalid turn commit: the state belongs to user \"other\", the lock to user \"{USER}\""
        )
    );
    let kept = store
        .load_active_dialogue(&assistant, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.turn_count, kept.version), (1, 1));
    assert_eq!(kept.state.memory["count"], json!(1));
    // The user's next turn goes on from there.
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    let mut next = lock.state().unwrap();
    next.memory.insert("count".into(), json!(2));
    let done = lock.commit(commit(next, "two", None)).await.unwrap();
    assert_eq!(done.turn_seq, Some(2));
}

async fn futures_join(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<Result<CommittedTurn>>>,
) -> Vec<CommittedTurn> {
    join_all_results(tasks)
        .await
        .into_iter()
        .map(|result| result.expect("commit"))
        .collect()
}

async fn join_all_results(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<Result<CommittedTurn>>>,
) -> Vec<Result<CommittedTurn>> {
    let tasks: Vec<_> = tasks.collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("the task ran"));
    }
    results
}

async fn message_sids_are_processed_once(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let assistant = bot(store).await;
    store
        .create_webhook(
            &acc,
            "bot",
            NewWebhook {
                unique_name: "all".into(),
                events: "onDialogueTurn".into(),
                webhook_url: "https://example.com/all".into(),
                webhook_method: None,
            },
        )
        .await
        .unwrap();
    let sid = Sid::from_number(SidPrefix::Dialogue, 1);

    // Twilio delivers the same message twice, at the same time.
    let deliver = |store: Store, assistant: Sid, sid: Sid| async move {
        let mut lock = store.lock_user(&assistant, USER).await?;
        if let Some(seen) = lock.message_processed("SM42").await? {
            return Ok::<_, StoreError>(("duplicate", seen.turn_seq));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let done = lock
            .commit(commit(
                state(&sid, USER, json!({}), T0),
                "hello",
                Some("SM42"),
            ))
            .await?;
        Ok(("answered", done.turn_seq))
    };
    let a = tokio::spawn(deliver(store.clone(), assistant.clone(), sid.clone()));
    let b = tokio::spawn(deliver(store.clone(), assistant.clone(), sid.clone()));
    let mut outcomes = vec![a.await.unwrap().unwrap(), b.await.unwrap().unwrap()];
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![("answered", Some(1)), ("duplicate", Some(1))]
    );

    let seen = store.message_processed("SM42").await.unwrap().unwrap();
    assert_eq!(
        seen,
        ProcessedMessage {
            message_sid: "SM42".into(),
            assistant_sid: assistant.clone(),
            dialogue_sid: Some(sid.clone()),
            turn_seq: Some(1),
            date_created: T0,
        }
    );
    // Committing it again (a caller that did not check) is refused and stores nothing.
    let lock = store.lock_user(&assistant, USER).await.unwrap();
    let error = lock
        .commit(commit(
            state(&sid, USER, json!({"x": 1}), T0),
            "hello",
            Some("SM42"),
        ))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "message SM42 was already processed");
    assert!(matches!(error, StoreError::DuplicateMessage { .. }));
    let dialogue = store.dialogue(&sid).await.unwrap();
    assert_eq!((dialogue.version, dialogue.turn_count), (1, 1));
    assert_eq!(dialogue.state.memory.get("x"), None);
    let events = store
        .list_events(&assistant, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1, "the duplicate queued no event");
    assert_eq!(
        store
            .usage(Some(&assistant), T0, T0 + 1)
            .await
            .unwrap()
            .inbound_messages,
        1
    );

    // Outside turns (e.g. a status callback): recorded once.
    assert!(store.record_message(&assistant, "SM43").await.unwrap());
    assert!(!store.record_message(&assistant, "SM43").await.unwrap());
    assert!(!store.record_message(&assistant, "SM42").await.unwrap());
}

// ---- a real engine ----------------------------------------------------------

/// Routes "bye" to `goodbye`, anything else to `greeting`.
struct Keywords;

impl Understanding for Keywords {
    fn parse(&self, text: &str, _tasks: Option<&[String]>, _now: DateTime<Utc>) -> Understood {
        let task = if text.contains("bye") {
            "goodbye"
        } else {
            "greeting"
        };
        Understood {
            task: Some(task.to_owned()),
            confidence: 0.9,
            next_best_task: None,
            fields: Vec::new(),
        }
    }

    fn normalize(&self, _field_type: &str, answer: &str, _now: DateTime<Utc>) -> Option<String> {
        Some(answer.to_owned())
    }
}

/// HelloWorld never fetches anything.
struct NoFetch;

impl ActionFetcher for NoFetch {
    async fn fetch(&self, request: RemoteRequest) -> std::result::Result<Value, FetchError> {
        panic!("unexpected fetch of {}", request.url)
    }
}

async fn engine_turns_persist(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let text = std::fs::read_to_string(shared(
        "data/autopilot-schemas/twilio__autopilot-templates__Assistants-HelloWorld-schema.json",
    ))
    .unwrap();
    let assistant_sid = store
        .import_assistant(&acc, &otto_model::import_schema(&text).unwrap())
        .await
        .unwrap();
    store
        .create_webhook(
            &acc,
            assistant_sid.as_str(),
            NewWebhook {
                unique_name: "lifecycle".into(),
                events: "onDialogueStart onDialogueEnd".into(),
                webhook_url: "https://example.com/events".into(),
                webhook_method: None,
            },
        )
        .await
        .unwrap();
    let (_, assistant) = store
        .load_assistant(&acc, assistant_sid.as_str())
        .await
        .unwrap();
    let engine = Arc::new(Engine::new(NoFetch, EngineConfig::default()));
    let bot = Bot {
        account_sid: &acc,
        assistant_sid: &assistant_sid,
        assistant: &assistant,
        understanding: &Keywords,
        subscribed_events: None,
    };

    let run = async |input: &str, message: &str, now: i64| {
        let lock = store.lock_user(&assistant_sid, USER).await.unwrap();
        let result = engine
            .turn(
                bot,
                lock.state(),
                TurnInput::message(USER, "sms", input),
                at(now),
            )
            .await;
        let done = lock
            .commit(TurnCommit {
                state: result.state.clone(),
                turn: Some(TurnRecord {
                    input: input.to_owned(),
                    output: serde_json::to_string(&result.output).unwrap(),
                    task: result.task.clone(),
                }),
                events: result
                    .events
                    .iter()
                    .cloned()
                    .map(NewEvent::from_engine)
                    .collect(),
                message_sid: Some(message.to_owned()),
            })
            .await
            .unwrap();
        (result, done)
    };

    let (first, done) = run("hi there", "SM1", T0).await;
    assert_eq!(first.task.as_deref(), Some("greeting"));
    assert!(!first.state.ended);
    assert_eq!(done.events_enqueued, 1, "onDialogueStart");
    let stored = store
        .load_active_dialogue(&assistant_sid, USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.state, first.state,
        "the engine state reads back equal"
    );

    let (second, done) = run("ok bye", "SM2", T0 + 60).await;
    assert_eq!(
        second.state.sid, first.state.sid,
        "the same dialogue continues"
    );
    assert_eq!(second.task.as_deref(), Some("goodbye"));
    assert!(second.state.ended);
    assert!(!done.dialogue.active);
    assert_eq!(done.events_enqueued, 1, "onDialogueEnd");
    assert_eq!(
        store
            .load_active_dialogue(&assistant_sid, USER)
            .await
            .unwrap(),
        None
    );

    let turns = store
        .list_turns(&first.state.sid, &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        turns.iter().map(|t| t.task.as_deref()).collect::<Vec<_>>(),
        vec![Some("greeting"), Some("goodbye")]
    );
    assert_eq!(
        turns[0].output["says"][0]["text"],
        json!("Hello, what can I help you with today?")
    );

    let claimed = store.claim_events("worker", 10, 30).await.unwrap();
    let names: Vec<_> = claimed.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, vec!["onDialogueStart", "onDialogueEnd"]);
    let params = claimed[1].form_params().expect("form parameters");
    assert!(params.contains(&("Event".to_owned(), "onDialogueEnd".to_owned())));
    assert!(params.contains(&("DialogueSid".to_owned(), first.state.sid.to_string())));
}
