//! The kept assistant definition (`current_assistant`) follows every change,
//! also one made by another process; model builds claimed by a trainer that
//! died are claimed again once their lease runs out. On both backends.

mod common;

use std::sync::Arc;

use common::{TestDb, account};
use otto_model::{ActionsDocument, Sid, SidPrefix};
use otto_store::*;

both_backends!(
    the_kept_definition_follows_every_change,
    a_turns_lock_reads_the_definition_version,
    another_process_sees_changes_at_once,
    a_dead_trainers_build_is_claimed_again,
);

async fn bot_with_task(store: &Store) {
    store
        .create_assistant(
            &account(),
            NewAssistant {
                unique_name: Some("bot".into()),
                ..NewAssistant::default()
            },
        )
        .await
        .unwrap();
    store
        .create_task(
            &account(),
            "bot",
            NewTask {
                unique_name: "greet".into(),
                friendly_name: None,
                actions: Some(
                    ActionsDocument::parse(r#"{"actions": [{"say": "Hello"}]}"#).unwrap(),
                ),
                actions_url: None,
            },
        )
        .await
        .unwrap();
}

fn say_of(definition: &Definition) -> String {
    let task = &definition.assistant.tasks[0];
    serde_json::to_string(&task.actions).unwrap()
}

/// What the turn service checks its kept definition with: the version read
/// with the user's lock, and the kept definition found by SID or name.
async fn a_turns_lock_reads_the_definition_version(db: TestDb) {
    let store = &db.store;
    bot_with_task(store).await;
    assert!(store.kept_definition_by_key(&account(), "bot").is_none());
    let kept = store.current_assistant(&account(), "bot").await.unwrap();
    let by_name = store.kept_definition_by_key(&account(), "bot").unwrap();
    assert!(Arc::ptr_eq(&kept, &by_name));
    let by_sid = store
        .kept_definition_by_key(&account(), kept.ids.sid.as_str())
        .unwrap();
    assert!(Arc::ptr_eq(&kept, &by_sid));
    let other_account = Sid::from_number(SidPrefix::Account, 999);
    assert!(
        store
            .kept_definition_by_key(&other_account, "bot")
            .is_none()
    );

    let (lock, version) = store
        .lock_user_with_definition_version(&kept.ids.sid, "+15550100", kept.version)
        .await
        .unwrap();
    assert_eq!(version, Some(kept.version));
    assert!(lock.dialogue().is_none());
    drop(lock);
    // With a dialogue: read in the same statement, the same as lock_user's.
    let dialogue = Sid::from_number(SidPrefix::Dialogue, 1);
    let state = common::state(
        &dialogue,
        "+15550100",
        serde_json::json!({"a": 1}),
        common::T0,
    );
    store
        .commit_turn(
            &kept.ids.sid,
            TurnCommit {
                state,
                turn: None,
                events: Vec::new(),
                message_sid: None,
            },
        )
        .await
        .unwrap();
    let (lock, version) = store
        .lock_user_with_definition_version(&kept.ids.sid, "+15550100", kept.version)
        .await
        .unwrap();
    assert_eq!(version, Some(kept.version));
    let plain = store
        .load_active_dialogue(&kept.ids.sid, "+15550100")
        .await
        .unwrap();
    assert_eq!(lock.dialogue(), plain.as_ref());
    assert_eq!(lock.dialogue().unwrap().state.memory["a"], 1);
    drop(lock);
    store
        .update_task(
            &account(),
            "bot",
            "greet",
            TaskUpdate {
                friendly_name: Some(Some("Greet".into())),
                ..TaskUpdate::default()
            },
        )
        .await
        .unwrap();
    let changed = version_after_a_refused_commit(store, &kept, &dialogue).await;
    assert!(changed > Some(kept.version), "{changed:?}");
    // The caller loads the changed definition and goes on with its version:
    // the commit finds it unchanged.
    let current = changed.unwrap();
    let (lock, again) = store
        .lock_user_with_definition_version(&kept.ids.sid, "+15550100", current)
        .await
        .unwrap();
    assert_eq!(again, changed);
    let committed = lock.commit(no_turn(&dialogue)).await.unwrap();
    assert_eq!(committed.dialogue.state.memory["b"], 2);

    // Gone: the user's dialogue is still cached (SQLite) when it is deleted.
    store
        .commit_turn(
            &kept.ids.sid,
            TurnCommit {
                state: common::state(&dialogue, "+15550100", serde_json::json!({}), common::T0),
                turn: None,
                events: Vec::new(),
                message_sid: None,
            },
        )
        .await
        .unwrap();
    store.delete_assistant(&account(), "bot").await.unwrap();
    let (lock, version) = store
        .lock_user_with_definition_version(&kept.ids.sid, "+15550100", current)
        .await
        .unwrap();
    if store.backend() == Backend::Sqlite {
        assert_eq!(version, Some(current), "a cached dialogue: nothing read");
        let refused = lock.commit(no_turn(&dialogue)).await.unwrap_err();
        assert!(
            matches!(refused, StoreError::DefinitionChanged { expected, found: None, .. } if expected == current),
            "{refused:?}"
        );
        let (_, gone) = store
            .lock_user_with_definition_version(&kept.ids.sid, "+15550100", current)
            .await
            .unwrap();
        assert_eq!(gone, None);
    } else {
        assert_eq!(version, None);
    }
}

fn no_turn(dialogue: &Sid) -> TurnCommit {
    TurnCommit {
        state: common::state(
            dialogue,
            "+15550100",
            serde_json::json!({"b": 2}),
            common::T0,
        ),
        turn: None,
        events: Vec::new(),
        message_sid: None,
    }
}

/// The definition version a turn's lock finds after the definition changed
/// under a cached dialogue. On SQLite the lock reads nothing (the dialogue is
/// in this process's cache) and returns the kept version; the commit is the
/// one to find the change: it is refused, writes nothing, and the next lock
/// reads the store. On PostgreSQL the lock reads the version.
async fn version_after_a_refused_commit(
    store: &Store,
    kept: &Definition,
    dialogue: &Sid,
) -> Option<i64> {
    let (lock, version) = store
        .lock_user_with_definition_version(&kept.ids.sid, "+15550100", kept.version)
        .await
        .unwrap();
    if store.backend() == Backend::Postgres {
        return version;
    }
    assert_eq!(
        version,
        Some(kept.version),
        "a cached dialogue: nothing read"
    );
    let before = lock.dialogue().unwrap().version;
    let refused = lock.commit(no_turn(dialogue)).await.unwrap_err();
    let StoreError::DefinitionChanged {
        expected, found, ..
    } = refused
    else {
        panic!("{refused:?}");
    };
    assert_eq!(expected, kept.version);
    // Nothing of the refused turn was written.
    let stored = store
        .load_active_dialogue(&kept.ids.sid, "+15550100")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, before);
    assert_eq!(stored.state.memory["a"], 1);
    let (lock, version) = store
        .lock_user_with_definition_version(&kept.ids.sid, "+15550100", kept.version)
        .await
        .unwrap();
    assert_eq!(version, found, "read, once the commit was refused");
    drop(lock);
    version
}

async fn the_kept_definition_follows_every_change(db: TestDb) {
    let store = &db.store;
    bot_with_task(store).await;
    let first = store.current_assistant(&account(), "bot").await.unwrap();
    assert_eq!(first.assistant.tasks.len(), 1);
    assert!(say_of(&first).contains("Hello"));
    // Unchanged: the same definition, not read again.
    let again = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    let by_sid = store
        .current_assistant(&account(), first.ids.sid.as_str())
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&first, &by_sid));
    assert_eq!(store.kept_definitions(), 1);

    // Task actions (what the REST API changes during live dialogues).
    store
        .update_task(
            &account(),
            "bot",
            "greet",
            TaskUpdate {
                actions: Some(Some(
                    ActionsDocument::parse(r#"{"actions": [{"say": "Welcome"}]}"#).unwrap(),
                )),
                ..TaskUpdate::default()
            },
        )
        .await
        .unwrap();
    let changed = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(changed.version > first.version);
    assert!(say_of(&changed).contains("Welcome"));

    // A sample, a field type value, the assistant itself: each is seen.
    store
        .create_sample(
            &account(),
            "bot",
            "greet",
            NewSample {
                language: "en-US".into(),
                tagged_text: "hi there".into(),
                source_channel: None,
            },
        )
        .await
        .unwrap();
    let with_sample = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(with_sample.version > changed.version);
    assert_eq!(with_sample.assistant.tasks[0].samples.len(), 1);
    store
        .update_assistant(
            &account(),
            "bot",
            AssistantUpdate {
                friendly_name: Some(Some("Bot".into())),
                ..AssistantUpdate::default()
            },
        )
        .await
        .unwrap();
    let renamed = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(renamed.version > with_sample.version);
    assert_eq!(renamed.assistant.friendly_name, "Bot");
    assert_eq!(
        renamed.assistant,
        store.load_assistant(&account(), "bot").await.unwrap().1
    );

    // Event webhooks: what they subscribe to is part of the definition.
    assert!(renamed.webhook_events.is_empty());
    store
        .create_webhook(
            &account(),
            "bot",
            NewWebhook {
                unique_name: "events".into(),
                events: "onDialogueEnd  ondialogueturn".into(),
                webhook_url: "https://example.test/events".into(),
                webhook_method: None,
            },
        )
        .await
        .unwrap();
    let hooked = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(hooked.version > renamed.version);
    assert_eq!(hooked.webhook_events, ["onDialogueEnd", "ondialogueturn"]);
    store
        .update_webhook(
            &account(),
            "bot",
            "events",
            WebhookUpdate {
                events: Some("onDialogueStart".into()),
                ..WebhookUpdate::default()
            },
        )
        .await
        .unwrap();
    let rehooked = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(rehooked.version > hooked.version);
    assert_eq!(rehooked.webhook_events, ["onDialogueStart"]);
    store
        .delete_webhook(&account(), "bot", "events")
        .await
        .unwrap();
    let unhooked = store.current_assistant(&account(), "bot").await.unwrap();
    assert!(unhooked.version > rehooked.version);
    assert!(unhooked.webhook_events.is_empty());

    // A completed build changes what the definition names as latest.
    let build = store
        .create_model_build(&account(), "bot", NewModelBuild::default())
        .await
        .unwrap();
    let claimed = store.claim_model_build().await.unwrap().unwrap();
    assert_eq!(claimed.sid, build.sid);
    store
        .finish_model_build(
            &build.sid,
            BuildOutcome::Completed {
                model: vec![1, 2, 3],
                build_duration: 1,
            },
        )
        .await
        .unwrap();
    let trained = store.current_assistant(&account(), "bot").await.unwrap();
    assert_eq!(trained.ids.latest_model_build_sid, Some(build.sid.clone()));

    // Deleted: not found any more.
    store.delete_assistant(&account(), "bot").await.unwrap();
    let error = store
        .current_assistant(&account(), "bot")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NotFound { .. }), "{error:?}");
}

async fn another_process_sees_changes_at_once(db: TestDb) {
    let here = &db.store;
    bot_with_task(here).await;
    let kept = here.current_assistant(&account(), "bot").await.unwrap();
    let there = db.second_store().await;
    there
        .update_task(
            &account(),
            "bot",
            "greet",
            TaskUpdate {
                actions: Some(Some(
                    ActionsDocument::parse(r#"{"actions": [{"say": "From elsewhere"}]}"#).unwrap(),
                )),
                ..TaskUpdate::default()
            },
        )
        .await
        .unwrap();
    let seen = here.current_assistant(&account(), "bot").await.unwrap();
    assert!(seen.version > kept.version);
    assert!(say_of(&seen).contains("From elsewhere"));
    there.close().await;
}

async fn a_dead_trainers_build_is_claimed_again(db: TestDb) {
    let store = &db.store;
    bot_with_task(store).await;
    let build = store
        .create_model_build(&account(), "bot", NewModelBuild::default())
        .await
        .unwrap();
    let claimed = store.claim_model_build().await.unwrap().unwrap();
    assert_eq!(claimed.sid, build.sid);
    assert_eq!(claimed.status, ModelBuildStatus::Building);
    // Held while the lease runs, and renewed by a live trainer.
    assert!(store.claim_model_build().await.unwrap().is_none());
    db.clock.advance(MODEL_BUILD_LEASE_SECONDS - 1);
    assert!(store.renew_model_build_lease(&build.sid).await.unwrap());
    db.clock.advance(MODEL_BUILD_LEASE_SECONDS - 1);
    assert!(store.claim_model_build().await.unwrap().is_none());
    // The trainer died: no renewal; past the lease another worker takes it.
    db.clock.advance(2);
    let again = store.claim_model_build().await.unwrap().unwrap();
    assert_eq!(again.sid, build.sid);
    assert!(store.claim_model_build().await.unwrap().is_none());
    store
        .finish_model_build(
            &build.sid,
            BuildOutcome::Completed {
                model: vec![7],
                build_duration: 3,
            },
        )
        .await
        .unwrap();
    // A finished build has no lease to renew.
    assert!(!store.renew_model_build_lease(&build.sid).await.unwrap());
}
