//! The event-delivery queue: fan-out, claims with leases, two workers, retries,
//! on both backends.

mod common;

use std::collections::HashSet;

use common::{T0, TestDb, account};
use otto_model::Sid;
use otto_store::*;
use serde_json::json;

both_backends!(
    events_fan_out_and_are_claimed_once,
    two_workers_deliver_each_event_once,
    leases_expire_and_retries_wait,
    events_go_with_their_webhook,
);

async fn setup(store: &Store) -> Sid {
    let acc = account();
    let assistant = store
        .create_assistant(
            &acc,
            NewAssistant {
                unique_name: Some("bot".into()),
                ..NewAssistant::default()
            },
        )
        .await
        .unwrap()
        .sid;
    for (name, events, method) in [
        ("a", "onDialogueEnd", None),
        ("b", "onDialogueEnd onDialogueStart", Some("GET")),
        ("c", "onDialogueTurn", None),
    ] {
        store
            .create_webhook(
                &acc,
                "bot",
                NewWebhook {
                    unique_name: name.into(),
                    events: events.into(),
                    webhook_url: format!("https://example.com/{name}"),
                    webhook_method: method.map(str::to_owned),
                },
            )
            .await
            .unwrap();
    }
    assistant
}

async fn events_fan_out_and_are_claimed_once(db: TestDb) {
    let store = &db.store;
    let assistant = setup(store).await;
    let queued = store
        .enqueue_events(
            &assistant,
            &[
                NewEvent::new("onDialogueStart", json!({"n": 1})),
                // Subscriptions match ignoring case.
                NewEvent::new("ONDIALOGUEEND", json!({"n": 2})),
                NewEvent::new("onActionsFetch", json!({"n": 3})),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        queued, 3,
        "start → b; end → a, b; nobody wants onActionsFetch"
    );
    let listed = store
        .list_events(&assistant, &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|e| e.status == EventStatus::Pending
        && e.attempts == 0
        && e.next_attempt_at == T0
        && e.lease_owner.is_none()));

    let first = store.claim_events("w1", 2, 30).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].event, "onDialogueStart");
    assert_eq!(first[0].webhook_url, "https://example.com/b");
    assert_eq!(first[0].webhook_method, "GET");
    assert_eq!(first[0].payload, json!({"n": 1}));
    assert_eq!((first[0].attempts, first[0].lease_until), (1, T0 + 30));
    assert_eq!(first[1].event, "ONDIALOGUEEND");
    assert_eq!(first[1].webhook_url, "https://example.com/a");
    assert_eq!(first[1].webhook_method, "POST");
    let second = store.claim_events("w2", 10, 30).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].webhook_url, "https://example.com/b");
    assert!(store.claim_events("w3", 10, 30).await.unwrap().is_empty());
    let ids: HashSet<i64> = first.iter().chain(&second).map(|e| e.id).collect();
    assert_eq!(ids.len(), 3);

    // Only the holder completes an event, once.
    let error = store.complete_event(first[0].id, "w2").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "event {} is not leased by worker \"w2\" (status delivering, leased by \"w1\")",
            first[0].id
        )
    );
    store.complete_event(first[0].id, "w1").await.unwrap();
    store.complete_event(first[1].id, "w1").await.unwrap();
    store.complete_event(second[0].id, "w2").await.unwrap();
    let error = store.complete_event(second[0].id, "w2").await.unwrap_err();
    assert!(matches!(&error, StoreError::LeaseLost { status, .. } if status == "delivered"));
    let done = store.fetch_event(first[0].id).await.unwrap();
    assert_eq!(done.status, EventStatus::Delivered);
    assert_eq!(done.lease_owner, None);
    assert!(matches!(
        store.fetch_event(999_999).await,
        Err(StoreError::NotFound {
            kind: ResourceKind::Event,
            ..
        })
    ));
}

/// Claims and completes until nothing is left; returns the ids it delivered.
async fn worker(store: Store, name: &'static str) -> Vec<i64> {
    let mut delivered = Vec::new();
    loop {
        let batch = store.claim_events(name, 7, 300).await.unwrap();
        if batch.is_empty() {
            return delivered;
        }
        for event in batch {
            store.complete_event(event.id, name).await.unwrap();
            delivered.push(event.id);
        }
        tokio::task::yield_now().await;
    }
}

async fn two_workers_deliver_each_event_once(db: TestDb) {
    let store = &db.store;
    let assistant = setup(store).await;
    let events: Vec<NewEvent> = (0..150)
        .map(|n| NewEvent::new("onDialogueTurn", json!({"n": n})))
        .collect();
    assert_eq!(
        store.enqueue_events(&assistant, &events).await.unwrap(),
        150
    );
    // The second worker is another process: its own pool.
    let other = db.second_store().await;
    let one = tokio::spawn(worker(store.clone(), "one"));
    let two = tokio::spawn(worker(other.clone(), "two"));
    let mut all = one.await.unwrap();
    all.extend(two.await.unwrap());
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 150, "every event delivered exactly once");
    assert_eq!(unique.len(), 150);
    let mut page = PageRequest::first(1000);
    page.page_token = None;
    let listed = store.list_events(&assistant, &page).await.unwrap().items;
    assert!(
        listed
            .iter()
            .all(|e| e.status == EventStatus::Delivered && e.attempts == 1)
    );
    other.close().await;
}

async fn leases_expire_and_retries_wait(db: TestDb) {
    let store = &db.store;
    let assistant = setup(store).await;
    store
        .enqueue_events(&assistant, &[NewEvent::new("onDialogueTurn", json!({}))])
        .await
        .unwrap();
    let claimed = store.claim_events("w1", 5, 30).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id;
    db.clock.advance(29);
    assert!(store.claim_events("w2", 5, 30).await.unwrap().is_empty());
    // w1 went quiet; its lease ran out.
    db.clock.advance(1);
    let taken = store.claim_events("w2", 5, 30).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].id, taken[0].attempts), (id, 2));
    assert!(matches!(
        store.complete_event(id, "w1").await,
        Err(StoreError::LeaseLost { .. })
    ));

    let retried = store
        .retry_event(
            id,
            "w2",
            "HTTP 500 from https://example.com/c",
            Some(T0 + 100),
        )
        .await
        .unwrap();
    assert_eq!(retried.status, EventStatus::Pending);
    assert_eq!(retried.next_attempt_at, T0 + 100);
    assert_eq!(
        retried.last_error.as_deref(),
        Some("HTTP 500 from https://example.com/c")
    );
    assert_eq!((retried.lease_owner, retried.lease_until), (None, None));
    assert!(store.claim_events("w1", 5, 30).await.unwrap().is_empty());
    db.clock.set(T0 + 100);
    let again = store.claim_events("w1", 5, 30).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (id, 3));
    let failed = store.retry_event(id, "w1", "gave up", None).await.unwrap();
    assert_eq!(failed.status, EventStatus::Failed);
    assert_eq!(failed.attempts, 3);
    db.clock.advance(10);
    assert!(store.claim_events("w1", 5, 30).await.unwrap().is_empty());

    // Finished events are purged once old enough.
    assert_eq!(store.purge_events(T0 + 100).await.unwrap(), 0);
    assert_eq!(store.purge_events(T0 + 101).await.unwrap(), 1);
    assert!(store.fetch_event(id).await.is_err());
}

async fn events_go_with_their_webhook(db: TestDb) {
    let store = &db.store;
    let assistant = setup(store).await;
    store
        .enqueue_events(&assistant, &[NewEvent::new("onDialogueTurn", json!({}))])
        .await
        .unwrap();
    let id = store
        .list_events(&assistant, &PageRequest::default())
        .await
        .unwrap()
        .items[0]
        .id;
    store.delete_webhook(&account(), "bot", "c").await.unwrap();
    assert!(matches!(
        store.fetch_event(id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.claim_events("w", 5, 30).await.unwrap().is_empty());
    assert!(store.claim_events("w", 0, 30).await.unwrap().is_empty());
}
