//! API keys on both backends: created with a secret shown once, verified
//! against the stored hash only, scoped to their account, listed, renamed,
//! deleted.

mod common;

use common::{T0, TestDb, account};
use otto_model::{Sid, SidPrefix};
use otto_store::*;
use sqlx::Row;

both_backends!(
    create_verify_and_delete,
    keys_belong_to_their_account,
    list_rename_and_refusals,
);

async fn create_verify_and_delete(db: TestDb) {
    let store = &db.store;
    let created = store
        .create_api_key(&account(), Some("deploy script"))
        .await
        .unwrap();
    let key = &created.record;
    assert_eq!(key.sid.kind(), Some(SidPrefix::ApiKey));
    assert_eq!(key.account_sid, account());
    assert_eq!(key.friendly_name.as_deref(), Some("deploy script"));
    assert_eq!((key.date_created, key.date_updated), (T0, T0));
    assert_eq!(created.secret.len(), 32);
    assert!(created.secret.bytes().all(|b| b.is_ascii_alphanumeric()));

    // The secret itself is nowhere in the database, only its SHA-256.
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT secret_hash FROM api_keys WHERE sid = '{}'",
        key.sid
    )))
    .fetch_one(&mut raw(&db).await)
    .await
    .unwrap();
    let stored: String = row.get("secret_hash");
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&created.secret));

    let sid = key.sid.as_str();
    assert!(
        store
            .verify_api_key(&account(), sid, &created.secret)
            .await
            .unwrap()
    );
    // One character off, a prefix, empty, the hash itself: all refused.
    let mut wrong = created.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    for bad in [wrong.as_str(), &created.secret[..31], "", stored.as_str()] {
        assert!(
            !store.verify_api_key(&account(), sid, bad).await.unwrap(),
            "{bad:?}"
        );
    }
    // The SID is matched exactly (lower-case hex as issued).
    assert!(
        !store
            .verify_api_key(&account(), &sid.to_uppercase(), &created.secret)
            .await
            .unwrap()
    );
    assert!(
        !store
            .verify_api_key(&account(), "SKnot-a-sid", &created.secret)
            .await
            .unwrap()
    );

    // A second key has its own secret.
    let other = store.create_api_key(&account(), None).await.unwrap();
    assert_ne!(other.secret, created.secret);
    assert_eq!(other.record.friendly_name, None);
    assert!(
        !store
            .verify_api_key(&account(), other.record.sid.as_str(), &created.secret)
            .await
            .unwrap()
    );

    store.delete_api_key(&account(), sid).await.unwrap();
    assert!(
        !store
            .verify_api_key(&account(), sid, &created.secret)
            .await
            .unwrap()
    );
    let again = store.delete_api_key(&account(), sid).await.unwrap_err();
    assert!(matches!(again, StoreError::NotFound { .. }), "{again}");
    assert_eq!(
        again.to_string(),
        format!("API key \"{sid}\" was not found in account {}", account())
    );
    assert_eq!(again.http_status(), 404);
    // The other key still works.
    assert!(
        store
            .verify_api_key(&account(), other.record.sid.as_str(), &other.secret)
            .await
            .unwrap()
    );
}

async fn keys_belong_to_their_account(db: TestDb) {
    let store = &db.store;
    let elsewhere = Sid::from_number(SidPrefix::Account, 0xbee);
    let created = store.create_api_key(&account(), None).await.unwrap();
    let sid = created.record.sid.as_str();
    assert!(
        !store
            .verify_api_key(&elsewhere, sid, &created.secret)
            .await
            .unwrap()
    );
    assert!(matches!(
        store.fetch_api_key(&elsewhere, sid).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_api_key(&elsewhere, sid).await,
        Err(StoreError::NotFound { .. })
    ));
    let listed = store
        .list_api_keys(&elsewhere, &PageRequest::default())
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    // Still there for its own account.
    assert_eq!(
        store.fetch_api_key(&account(), sid).await.unwrap(),
        created.record
    );
}

async fn list_rename_and_refusals(db: TestDb) {
    let store = &db.store;
    let mut created = Vec::new();
    for index in 0..5 {
        db.clock.set(T0 + index);
        let name = format!("key {index}");
        created.push(
            store
                .create_api_key(&account(), Some(&name))
                .await
                .unwrap()
                .record,
        );
    }
    // Creation order, in pages.
    let first = store
        .list_api_keys(&account(), &PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(first.items, created[..3]);
    let token = first.next_page_token.expect("a second page");
    let second = store
        .list_api_keys(&account(), &PageRequest::at(3, &token))
        .await
        .unwrap();
    assert_eq!(second.items, created[3..]);
    assert_eq!(second.next_page_token, None);

    db.clock.set(T0 + 100);
    let renamed = store
        .update_api_key(&account(), created[1].sid.as_str(), Some("renamed"))
        .await
        .unwrap();
    assert_eq!(renamed.friendly_name.as_deref(), Some("renamed"));
    assert_eq!(
        (renamed.date_created, renamed.date_updated),
        (T0 + 1, T0 + 100)
    );
    let cleared = store
        .update_api_key(&account(), created[1].sid.as_str(), None)
        .await
        .unwrap();
    assert_eq!(cleared.friendly_name, None);

    let long = "x".repeat(API_KEY_NAME_LIMIT + 1);
    let error = store
        .create_api_key(&account(), Some(&long))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid API key friendly_name: it is 65 characters long; at most 64 are allowed"
    );
    assert!(
        store
            .update_api_key(&account(), created[0].sid.as_str(), Some(&long))
            .await
            .is_err()
    );
    // A refused create adds nothing.
    let all = store
        .list_api_keys(&account(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 5);

    // Not an SK SID at all: not found, naming what was asked for.
    let error = store
        .fetch_api_key(&account(), "UA00000000000000000000000000000001")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "API key \"UA00000000000000000000000000000001\" was not found in account {}",
            account()
        )
    );
}

/// A plain connection to the test database, to look at what is stored.
async fn raw(db: &TestDb) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::AnyConnection::connect(&db.url).await.unwrap()
}
