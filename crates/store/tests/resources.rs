//! CRUD of every REST resource, unique-name conflicts and paging, on both backends.

mod common;

use common::{T0, TestDb, account};
use otto_model::{ActionsDocument, Defaults, Sid, SidPrefix, StyleSheet};
use otto_store::*;
use serde_json::json;

both_backends!(
    assistants_crud,
    assistant_unique_names_and_restore,
    tasks_crud,
    fields_crud,
    samples_crud,
    field_types_and_values,
    model_builds_lifecycle,
    queries_crud,
    webhooks_crud,
    paging,
);

fn other_account() -> Sid {
    Sid::from_number(SidPrefix::Account, 0xb0b)
}

fn named(name: &str) -> NewAssistant {
    NewAssistant {
        unique_name: Some(name.to_owned()),
        friendly_name: Some(format!("{name} friendly")),
        ..NewAssistant::default()
    }
}

fn task(name: &str) -> NewTask {
    NewTask {
        unique_name: name.to_owned(),
        ..NewTask::default()
    }
}

async fn assistants_crud(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let created = store.create_assistant(&acc, named("bot")).await.unwrap();
    assert_eq!(created.sid.kind(), Some(SidPrefix::Assistant));
    assert_eq!(created.account_sid, acc);
    assert_eq!(created.unique_name, "bot");
    assert_eq!(created.friendly_name.as_deref(), Some("bot friendly"));
    assert!(created.log_queries);
    assert_eq!(created.development_stage, "in-development");
    assert_eq!(created.callback_url, None);
    assert_eq!(created.callback_events, None);
    assert!(created.defaults.is_empty());
    assert!(created.style_sheet.is_empty());
    assert!(!created.needs_model_build);
    assert_eq!(created.latest_model_build_sid, None);
    assert!(!created.deleted);
    assert_eq!((created.date_created, created.date_updated), (T0, T0));

    // Addressed by SID and by unique name.
    assert_eq!(store.fetch_assistant(&acc, "bot").await.unwrap(), created);
    assert_eq!(
        store
            .fetch_assistant(&acc, created.sid.as_str())
            .await
            .unwrap(),
        created
    );
    // Another account does not see it.
    let error = store
        .fetch_assistant(&other_account(), "bot")
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "assistant \"bot\" was not found");
    assert_eq!(error.http_status(), 404);

    // Without a unique name, the SID is the unique name.
    let anonymous = store
        .create_assistant(&acc, NewAssistant::default())
        .await
        .unwrap();
    assert_eq!(anonymous.unique_name, anonymous.sid.as_str());
    assert_eq!(anonymous.friendly_name, None);

    db.clock.advance(10);
    let defaults =
        Defaults::from_value(&json!({"defaults": {"fallback": "task://fallback"}})).unwrap();
    let style_sheet =
        StyleSheet::from_value(&json!({"style_sheet": {"voice": {"say_voice": "Polly.Joanna"}}}))
            .unwrap();
    let updated = store
        .update_assistant(
            &acc,
            "bot",
            AssistantUpdate {
                unique_name: Some("bot-2".into()),
                friendly_name: Some(None),
                log_queries: Some(false),
                development_stage: Some("in-production".into()),
                callback_url: Some(Some("https://example.com/cb".into())),
                callback_events: Some(Some("model_build_completed".into())),
                defaults: Some(defaults.clone()),
                style_sheet: Some(style_sheet.clone()),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.sid, created.sid);
    assert_eq!(updated.unique_name, "bot-2");
    assert_eq!(updated.friendly_name, None);
    assert!(!updated.log_queries);
    assert_eq!(updated.development_stage, "in-production");
    assert_eq!(
        updated.callback_url.as_deref(),
        Some("https://example.com/cb")
    );
    assert_eq!(
        updated.callback_events.as_deref(),
        Some("model_build_completed")
    );
    assert_eq!(updated.defaults, defaults);
    assert_eq!(updated.style_sheet, style_sheet);
    assert_eq!((updated.date_created, updated.date_updated), (T0, T0 + 10));
    assert!(matches!(
        store.fetch_assistant(&acc, "bot").await,
        Err(StoreError::NotFound { .. })
    ));

    // An empty update only touches date_updated.
    db.clock.advance(5);
    let touched = store
        .update_assistant(&acc, "bot-2", AssistantUpdate::default())
        .await
        .unwrap();
    assert_eq!(touched.date_updated, T0 + 15);
    assert_eq!(touched.defaults, defaults);

    let page = store
        .list_assistants(&acc, &PageRequest::default())
        .await
        .unwrap();
    let names: Vec<_> = page.items.iter().map(|a| a.unique_name.as_str()).collect();
    assert_eq!(names, vec!["bot-2", anonymous.sid.as_str()]);
    assert_eq!(page.next_page_token, None);
    assert_eq!(page.previous_page_token, None);

    store.delete_assistant(&acc, "bot-2").await.unwrap();
    let error = store.fetch_assistant(&acc, "bot-2").await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::NotFound {
            kind: ResourceKind::Assistant,
            ..
        }
    ));
    let error = store.delete_assistant(&acc, "bot-2").await.unwrap_err();
    assert!(matches!(error, StoreError::NotFound { .. }));
    let page = store
        .list_assistants(&acc, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    // Children of a deleted assistant are out of reach.
    let error = store
        .create_task(&acc, created.sid.as_str(), task("x"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::NotFound {
            kind: ResourceKind::Assistant,
            ..
        }
    ));

    // Invalid names are refused with the reason.
    let error = store
        .create_assistant(&acc, named(&"n".repeat(65)))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "invalid assistant unique_name: \"{}\" has 65 characters, at most 64 are allowed",
            "n".repeat(65)
        )
    );
    assert_eq!(error.http_status(), 400);
}

async fn assistant_unique_names_and_restore(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let first = store.create_assistant(&acc, named("bot")).await.unwrap();
    let error = store
        .create_assistant(&acc, named("bot"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("the unique name \"bot\" is already used by another assistant in account {acc}")
    );
    assert_eq!(error.http_status(), 409);
    // Unique per account, not globally.
    store
        .create_assistant(&other_account(), named("bot"))
        .await
        .unwrap();
    let second = store.create_assistant(&acc, named("other")).await.unwrap();
    let error = store
        .update_assistant(
            &acc,
            "other",
            AssistantUpdate {
                unique_name: Some("bot".into()),
                ..AssistantUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::UniqueNameTaken {
            kind: ResourceKind::Assistant,
            ..
        }
    ));
    // Renaming to its own name is no conflict.
    store
        .update_assistant(
            &acc,
            "bot",
            AssistantUpdate {
                unique_name: Some("bot".into()),
                ..AssistantUpdate::default()
            },
        )
        .await
        .unwrap();

    // A task survives delete + restore.
    store.create_task(&acc, "bot", task("greet")).await.unwrap();
    db.clock.advance(60);
    store.delete_assistant(&acc, "bot").await.unwrap();
    // The name is free while deleted…
    let taker = store.create_assistant(&acc, named("bot")).await.unwrap();
    // …so restoring the first conflicts until the taker goes.
    let error = store.restore_assistant(&acc, &first.sid).await.unwrap_err();
    assert!(matches!(error, StoreError::UniqueNameTaken { .. }));
    store
        .delete_assistant(&acc, taker.sid.as_str())
        .await
        .unwrap();
    db.clock.advance(1);
    let restored = store.restore_assistant(&acc, &first.sid).await.unwrap();
    assert!(!restored.deleted);
    assert_eq!(restored.date_updated, T0 + 61);
    assert_eq!(
        store
            .fetch_task(&acc, "bot", "greet")
            .await
            .unwrap()
            .unique_name,
        "greet"
    );
    // Restoring a live one returns it unchanged.
    assert_eq!(
        store.restore_assistant(&acc, &second.sid).await.unwrap(),
        second
    );
    let missing = Sid::from_number(SidPrefix::Assistant, 9);
    assert!(matches!(
        store.restore_assistant(&acc, &missing).await,
        Err(StoreError::NotFound { .. })
    ));

    // Purge removes only assistants deleted before the cutoff, with their rows.
    assert_eq!(store.purge_deleted_assistants(T0).await.unwrap(), 0);
    assert_eq!(store.purge_deleted_assistants(T0 + 100).await.unwrap(), 1);
    assert!(matches!(
        store.restore_assistant(&acc, &taker.sid).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn tasks_crud(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let bot = store.create_assistant(&acc, named("bot")).await.unwrap();
    let actions =
        ActionsDocument::parse(r#"{"actions": [{"say": "Hello"}, {"listen": true}]}"#).unwrap();
    let created = store
        .create_task(
            &acc,
            "bot",
            NewTask {
                unique_name: "greet".into(),
                friendly_name: Some("Greeting".into()),
                actions: Some(actions.clone()),
                actions_url: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.sid.kind(), Some(SidPrefix::Task));
    assert_eq!(created.account_sid, acc);
    assert_eq!(created.assistant_sid, bot.sid);
    assert_eq!(created.unique_name, "greet");
    assert_eq!(created.friendly_name.as_deref(), Some("Greeting"));
    assert_eq!(created.actions, Some(actions));
    assert_eq!(created.actions_url, None);
    assert_eq!((created.date_created, created.date_updated), (T0, T0));
    // Training data changed.
    assert!(
        store
            .fetch_assistant(&acc, "bot")
            .await
            .unwrap()
            .needs_model_build
    );

    assert_eq!(
        store.fetch_task(&acc, "bot", "greet").await.unwrap(),
        created
    );
    assert_eq!(
        store
            .fetch_task(&acc, bot.sid.as_str(), created.sid.as_str())
            .await
            .unwrap(),
        created
    );
    let error = store.fetch_task(&acc, "bot", "nope").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("task \"nope\" was not found in assistant {}", bot.sid)
    );

    let error = store
        .create_task(&acc, "bot", task("greet"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the unique name \"greet\" is already used by another task in assistant {}",
            bot.sid
        )
    );
    // Task names are per assistant.
    store.create_assistant(&acc, named("bot2")).await.unwrap();
    store
        .create_task(&acc, "bot2", task("greet"))
        .await
        .unwrap();

    db.clock.advance(3);
    let updated = store
        .update_task(
            &acc,
            "bot",
            "greet",
            TaskUpdate {
                unique_name: Some("hello".into()),
                friendly_name: Some(None),
                actions: Some(None),
                actions_url: Some(Some("https://example.com/actions".into())),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.unique_name, "hello");
    assert_eq!(updated.friendly_name, None);
    assert_eq!(updated.actions, None);
    assert_eq!(
        updated.actions_url.as_deref(),
        Some("https://example.com/actions")
    );
    assert_eq!(updated.date_updated, T0 + 3);
    store.create_task(&acc, "bot", task("other")).await.unwrap();
    let error = store
        .update_task(
            &acc,
            "bot",
            "other",
            TaskUpdate {
                unique_name: Some("hello".into()),
                ..TaskUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::UniqueNameTaken {
            kind: ResourceKind::Task,
            ..
        }
    ));

    let listed = store
        .list_tasks(&acc, "bot", &PageRequest::default())
        .await
        .unwrap();
    let names: Vec<_> = listed
        .items
        .iter()
        .map(|t| t.unique_name.as_str())
        .collect();
    assert_eq!(names, vec!["hello", "other"]);
    assert_eq!(listed.items[0], updated);

    store.delete_task(&acc, "bot", "hello").await.unwrap();
    assert!(matches!(
        store.fetch_task(&acc, "bot", "hello").await,
        Err(StoreError::NotFound {
            kind: ResourceKind::Task,
            ..
        })
    ));
    assert!(matches!(
        store.delete_task(&acc, "bot", "hello").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn fields_crud(db: TestDb) {
    let store = &db.store;
    let acc = account();
    store.create_assistant(&acc, named("bot")).await.unwrap();
    let book = store.create_task(&acc, "bot", task("book")).await.unwrap();
    let city_type = store
        .create_field_type(
            &acc,
            "bot",
            NewFieldType {
                unique_name: "city".into(),
                friendly_name: None,
            },
        )
        .await
        .unwrap();
    let new_field = |name: &str, field_type: &str| NewField {
        unique_name: name.into(),
        field_type: field_type.into(),
    };
    let party = store
        .create_field(&acc, "bot", "book", new_field("party", "Twilio.NUMBER"))
        .await
        .unwrap();
    assert_eq!(party.sid.kind(), Some(SidPrefix::Field));
    assert_eq!(party.task_sid, book.sid);
    assert_eq!(party.assistant_sid, book.assistant_sid);
    assert_eq!(party.account_sid, acc);
    assert_eq!(party.field_type, "Twilio.NUMBER");
    assert_eq!((party.date_created, party.date_updated), (T0, T0));
    // Built-ins keep the spelling given; custom types by name or SID are stored by name.
    let email = store
        .create_field(&acc, "bot", "book", new_field("email", "Twilio.Email"))
        .await
        .unwrap();
    assert_eq!(email.field_type, "Twilio.Email");
    let from = store
        .create_field(
            &acc,
            "bot",
            "book",
            new_field("from", city_type.sid.as_str()),
        )
        .await
        .unwrap();
    assert_eq!(from.field_type, "city");
    let error = store
        .create_field(&acc, "bot", "book", new_field("to", "town"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "field type \"town\" was not found in assistant {} (nor is it a built-in Twilio.* type)",
            book.assistant_sid
        )
    );
    let error = store
        .create_field(&acc, "bot", "book", new_field("party", "Twilio.NUMBER"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the unique name \"party\" is already used by another field in task {}",
            book.sid
        )
    );

    assert_eq!(
        store
            .fetch_field(&acc, "bot", "book", "party")
            .await
            .unwrap(),
        party
    );
    assert_eq!(
        store
            .fetch_field(&acc, "bot", book.sid.as_str(), party.sid.as_str())
            .await
            .unwrap(),
        party
    );
    let page = store
        .list_fields(&acc, "bot", "book", &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items, vec![party.clone(), email.clone(), from.clone()]);
    let stats = store.task_statistics(&acc, "bot", "book").await.unwrap();
    assert_eq!(
        stats,
        TaskStatistics {
            samples_count: 0,
            fields_count: 3
        }
    );

    store
        .delete_field(&acc, "bot", "book", "email")
        .await
        .unwrap();
    assert!(matches!(
        store.fetch_field(&acc, "bot", "book", "email").await,
        Err(StoreError::NotFound {
            kind: ResourceKind::Field,
            ..
        })
    ));
    // Deleting the task deletes its fields.
    store.delete_task(&acc, "bot", "book").await.unwrap();
    store.create_task(&acc, "bot", task("book")).await.unwrap();
    let page = store
        .list_fields(&acc, "bot", "book", &PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

async fn samples_crud(db: TestDb) {
    let store = &db.store;
    let acc = account();
    store.create_assistant(&acc, named("bot")).await.unwrap();
    let book = store.create_task(&acc, "bot", task("book")).await.unwrap();
    let sample = |language: &str, text: &str, channel: Option<&str>| NewSample {
        language: language.into(),
        tagged_text: text.into(),
        source_channel: channel.map(str::to_owned),
    };
    let first = store
        .create_sample(
            &acc,
            "bot",
            "book",
            sample("en-US", "book a table for {party}", None),
        )
        .await
        .unwrap();
    assert_eq!(first.sid.kind(), Some(SidPrefix::Sample));
    assert_eq!(first.task_sid, book.sid);
    assert_eq!(first.language, "en-US");
    assert_eq!(first.tagged_text, "book a table for {party}");
    assert_eq!(first.source_channel, None);
    let second = store
        .create_sample(
            &acc,
            "bot",
            "book",
            sample("es-MX", "reservar una mesa", Some("sms")),
        )
        .await
        .unwrap();
    assert_eq!(second.source_channel.as_deref(), Some("sms"));
    let error = store
        .create_sample(&acc, "bot", "book", sample("en-US", "  ", None))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid TaggedText: it must not be empty"
    );

    assert_eq!(
        store
            .fetch_sample(&acc, "bot", "book", first.sid.as_str())
            .await
            .unwrap(),
        first
    );
    // Samples are addressed by SID only.
    let error = store
        .fetch_sample(&acc, "bot", "book", "book a table")
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::NotFound {
            kind: ResourceKind::Sample,
            ..
        }
    ));

    db.clock.advance(7);
    let updated = store
        .update_sample(
            &acc,
            "bot",
            "book",
            first.sid.as_str(),
            SampleUpdate {
                language: None,
                tagged_text: Some("table for {party} please".into()),
                source_channel: Some(Some("voice".into())),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.tagged_text, "table for {party} please");
    assert_eq!(updated.source_channel.as_deref(), Some("voice"));
    assert_eq!(updated.language, "en-US");
    assert_eq!((updated.date_created, updated.date_updated), (T0, T0 + 7));

    let all = store
        .list_samples(
            &acc,
            "bot",
            "book",
            &SampleFilter::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(all.items, vec![updated.clone(), second.clone()]);
    let spanish = store
        .list_samples(
            &acc,
            "bot",
            "book",
            &SampleFilter {
                language: Some("es-MX".into()),
            },
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(spanish.items, vec![second.clone()]);
    assert_eq!(
        store.task_statistics(&acc, "bot", "book").await.unwrap(),
        TaskStatistics {
            samples_count: 2,
            fields_count: 0
        }
    );

    store
        .delete_sample(&acc, "bot", "book", second.sid.as_str())
        .await
        .unwrap();
    assert!(matches!(
        store
            .delete_sample(&acc, "bot", "book", second.sid.as_str())
            .await,
        Err(StoreError::NotFound { .. })
    ));
    // A sample of another task is not found through this one.
    store.create_task(&acc, "bot", task("other")).await.unwrap();
    assert!(matches!(
        store
            .fetch_sample(&acc, "bot", "other", first.sid.as_str())
            .await,
        Err(StoreError::NotFound {
            kind: ResourceKind::Sample,
            ..
        })
    ));
}

async fn field_types_and_values(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let bot = store.create_assistant(&acc, named("bot")).await.unwrap();
    let city = store
        .create_field_type(
            &acc,
            "bot",
            NewFieldType {
                unique_name: "city".into(),
                friendly_name: Some("City".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(city.sid.kind(), Some(SidPrefix::FieldType));
    assert_eq!(city.assistant_sid, bot.sid);
    assert_eq!(city.friendly_name.as_deref(), Some("City"));
    let error = store
        .create_field_type(
            &acc,
            "bot",
            NewFieldType {
                unique_name: "city".into(),
                friendly_name: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::UniqueNameTaken {
            kind: ResourceKind::FieldType,
            ..
        }
    ));
    assert_eq!(
        store.fetch_field_type(&acc, "bot", "city").await.unwrap(),
        city
    );

    let value = |language: &str, value: &str, synonym_of: Option<&str>| NewFieldValue {
        language: language.into(),
        value: value.into(),
        synonym_of: synonym_of.map(str::to_owned),
    };
    let new_york = store
        .create_field_value(&acc, "bot", "city", value("en-US", "New York", None))
        .await
        .unwrap();
    assert_eq!(new_york.sid.kind(), Some(SidPrefix::FieldValue));
    assert_eq!(new_york.field_type_sid, city.sid);
    assert_eq!(new_york.synonym_of, None);
    // A synonym by value (case-insensitive) and by SID.
    let nyc = store
        .create_field_value(&acc, "bot", "city", value("en-US", "NYC", Some("new york")))
        .await
        .unwrap();
    assert_eq!(nyc.synonym_of.as_ref(), Some(&new_york.sid));
    let big_apple = store
        .create_field_value(
            &acc,
            "bot",
            city.sid.as_str(),
            value("en-US", "big apple", Some(new_york.sid.as_str())),
        )
        .await
        .unwrap();
    assert_eq!(big_apple.synonym_of.as_ref(), Some(&new_york.sid));
    let error = store
        .create_field_value(
            &acc,
            "bot",
            "city",
            value("en-US", "LA", Some("los angeles")),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "field value \"los angeles\" was not found in field type {} (the value SynonymOf names)",
            city.sid
        )
    );
    // Values are unique per language ignoring case.
    let error = store
        .create_field_value(&acc, "bot", "city", value("en-US", "new YORK", None))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "field type {} already has the value \"new YORK\" in en-US (values are compared ignoring case)",
            city.sid
        )
    );
    let spanish = store
        .create_field_value(&acc, "bot", "city", value("es-MX", "New York", None))
        .await
        .unwrap();
    let listed = store
        .list_field_values(
            &acc,
            "bot",
            "city",
            &FieldValueFilter::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        listed.items,
        vec![
            new_york.clone(),
            nyc.clone(),
            big_apple.clone(),
            spanish.clone()
        ]
    );
    let listed = store
        .list_field_values(
            &acc,
            "bot",
            "city",
            &FieldValueFilter {
                language: Some("es-MX".into()),
            },
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.items, vec![spanish.clone()]);
    assert_eq!(
        store
            .fetch_field_value(&acc, "bot", "city", nyc.sid.as_str())
            .await
            .unwrap(),
        nyc
    );

    // A field uses the type; renaming the type follows into the field.
    store
        .create_task(&acc, "bot", task("travel"))
        .await
        .unwrap();
    store
        .create_field(
            &acc,
            "bot",
            "travel",
            NewField {
                unique_name: "destination".into(),
                field_type: "city".into(),
            },
        )
        .await
        .unwrap();
    db.clock.advance(2);
    let renamed = store
        .update_field_type(
            &acc,
            "bot",
            "city",
            FieldTypeUpdate {
                unique_name: Some("town".into()),
                friendly_name: Some(None),
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.unique_name, "town");
    assert_eq!(renamed.friendly_name, None);
    assert_eq!(renamed.date_updated, T0 + 2);
    assert_eq!(
        store
            .fetch_field(&acc, "bot", "travel", "destination")
            .await
            .unwrap()
            .field_type,
        "town"
    );
    let error = store
        .delete_field_type(&acc, "bot", "town")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "field type \"town\" cannot be deleted: it is used by the field(s) travel.destination"
    );
    assert_eq!(error.http_status(), 409);

    // Deleting a canonical value deletes its synonyms.
    store
        .delete_field_value(&acc, "bot", "town", new_york.sid.as_str())
        .await
        .unwrap();
    let listed = store
        .list_field_values(
            &acc,
            "bot",
            "town",
            &FieldValueFilter::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.items, vec![spanish]);

    store
        .delete_field(&acc, "bot", "travel", "destination")
        .await
        .unwrap();
    store.delete_field_type(&acc, "bot", "town").await.unwrap();
    assert!(matches!(
        store.fetch_field_type(&acc, "bot", "town").await,
        Err(StoreError::NotFound {
            kind: ResourceKind::FieldType,
            ..
        })
    ));
    let types = store
        .list_field_types(&acc, "bot", &PageRequest::default())
        .await
        .unwrap();
    assert!(types.items.is_empty());
}

async fn model_builds_lifecycle(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let bot = store.create_assistant(&acc, named("bot")).await.unwrap();
    store.create_task(&acc, "bot", task("greet")).await.unwrap();
    let v1 = store
        .create_model_build(
            &acc,
            "bot",
            NewModelBuild {
                unique_name: Some("v1".into()),
                status_callback: Some("https://example.com/status".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(v1.sid.kind(), Some(SidPrefix::ModelBuild));
    assert_eq!(v1.status, ModelBuildStatus::Enqueued);
    assert_eq!(v1.build_duration, None);
    assert_eq!(v1.error_code, None);
    assert_eq!(
        v1.status_callback.as_deref(),
        Some("https://example.com/status")
    );
    let error = store
        .create_model_build(
            &acc,
            "bot",
            NewModelBuild {
                unique_name: Some("v1".into()),
                status_callback: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::UniqueNameTaken {
            kind: ResourceKind::ModelBuild,
            ..
        }
    ));
    let unnamed = store
        .create_model_build(&acc, "bot", NewModelBuild::default())
        .await
        .unwrap();
    assert_eq!(unnamed.unique_name, unnamed.sid.as_str());

    // Claims hand out the oldest enqueued build, each once.
    db.clock.advance(1);
    let claimed = store.claim_model_build().await.unwrap().unwrap();
    assert_eq!(claimed.sid, v1.sid);
    assert_eq!(claimed.status, ModelBuildStatus::Building);
    assert_eq!(claimed.date_updated, T0 + 1);
    let claimed2 = store.claim_model_build().await.unwrap().unwrap();
    assert_eq!(claimed2.sid, unnamed.sid);
    assert_eq!(store.claim_model_build().await.unwrap(), None);

    // v1 completes with nothing changed since its claim: no build needed.
    let done = store
        .finish_model_build(
            &v1.sid,
            BuildOutcome::Completed {
                model: vec![1, 2, 3, 0, 255],
                build_duration: 4,
            },
        )
        .await
        .unwrap();
    assert_eq!(done.status, ModelBuildStatus::Completed);
    assert_eq!(done.build_duration, Some(4));
    let assistant = store.fetch_assistant(&acc, "bot").await.unwrap();
    assert_eq!(assistant.latest_model_build_sid.as_ref(), Some(&v1.sid));
    assert!(!assistant.needs_model_build);
    assert_eq!(
        store.model_build_artifact(&v1.sid).await.unwrap(),
        vec![1, 2, 3, 0, 255]
    );
    assert_eq!(
        store.latest_model(&bot.sid).await.unwrap(),
        Some((v1.sid.clone(), vec![1, 2, 3, 0, 255]))
    );
    let error = store
        .finish_model_build(&v1.sid, BuildOutcome::Canceled)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "model build {} is completed; this needs it to be enqueued or building",
            v1.sid
        )
    );

    // Data changes while the second build runs: it completes, but a build is still needed.
    store.create_task(&acc, "bot", task("bye")).await.unwrap();
    assert!(
        store
            .fetch_assistant(&acc, "bot")
            .await
            .unwrap()
            .needs_model_build
    );
    store
        .finish_model_build(
            &unnamed.sid,
            BuildOutcome::Completed {
                model: vec![9],
                build_duration: 2,
            },
        )
        .await
        .unwrap();
    let assistant = store.fetch_assistant(&acc, "bot").await.unwrap();
    assert_eq!(
        assistant.latest_model_build_sid.as_ref(),
        Some(&unnamed.sid)
    );
    assert!(assistant.needs_model_build);

    // A failed build records its error and changes nothing else.
    let v3 = store
        .create_model_build(
            &acc,
            "bot",
            NewModelBuild {
                unique_name: Some("v3".into()),
                status_callback: None,
            },
        )
        .await
        .unwrap();
    store.claim_model_build().await.unwrap().unwrap();
    let failed = store
        .finish_model_build(
            &v3.sid,
            BuildOutcome::Failed {
                error_code: 35003,
                build_duration: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.status, ModelBuildStatus::Failed);
    assert_eq!(failed.error_code, Some(35003));
    assert!(matches!(
        store.model_build_artifact(&v3.sid).await,
        Err(StoreError::WrongStatus { .. })
    ));
    assert_eq!(
        store
            .fetch_assistant(&acc, "bot")
            .await
            .unwrap()
            .latest_model_build_sid
            .as_ref(),
        Some(&unnamed.sid)
    );

    // Rename, fetch by the new name, list in order.
    let renamed = store
        .update_model_build(&acc, "bot", unnamed.sid.as_str(), "v2")
        .await
        .unwrap();
    assert_eq!(renamed.unique_name, "v2");
    assert_eq!(
        store.fetch_model_build(&acc, "bot", "v2").await.unwrap(),
        renamed
    );
    let error = store
        .update_model_build(&acc, "bot", "v2", "v1")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::UniqueNameTaken { .. }));
    let page = store
        .list_model_builds(&acc, "bot", &PageRequest::default())
        .await
        .unwrap();
    let names: Vec<_> = page.items.iter().map(|b| b.unique_name.as_str()).collect();
    assert_eq!(names, vec!["v1", "v2", "v3"]);

    // Deleting the latest falls back to the newest other completed build.
    store.delete_model_build(&acc, "bot", "v2").await.unwrap();
    let assistant = store.fetch_assistant(&acc, "bot").await.unwrap();
    assert_eq!(assistant.latest_model_build_sid.as_ref(), Some(&v1.sid));
    store.delete_model_build(&acc, "bot", "v1").await.unwrap();
    assert_eq!(
        store
            .fetch_assistant(&acc, "bot")
            .await
            .unwrap()
            .latest_model_build_sid,
        None
    );
    assert_eq!(store.latest_model(&bot.sid).await.unwrap(), None);
}

async fn queries_crud(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let bot = store.create_assistant(&acc, named("bot")).await.unwrap();
    let build = store
        .create_model_build(
            &acc,
            "bot",
            NewModelBuild {
                unique_name: Some("v1".into()),
                status_callback: None,
            },
        )
        .await
        .unwrap();
    let dialogue = Sid::from_number(SidPrefix::Dialogue, 5);
    let results =
        json!({"task": {"name": "book", "task_sid": null, "confidence": 0.9}, "fields": []});
    let first = store
        .create_query(
            &acc,
            "bot",
            NewQuery {
                language: "en-US".into(),
                query: "book a table".into(),
                model_build_sid: Some(build.sid.clone()),
                results: results.clone(),
                source_channel: Some("sms".into()),
                dialogue_sid: Some(dialogue.clone()),
                status: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.sid.kind(), Some(SidPrefix::Query));
    assert_eq!(first.assistant_sid, bot.sid);
    assert_eq!(first.status, "pending-review");
    assert_eq!(first.results, results);
    assert_eq!(first.model_build_sid.as_ref(), Some(&build.sid));
    assert_eq!(first.dialogue_sid.as_ref(), Some(&dialogue));
    assert_eq!(first.sample_sid, None);
    db.clock.advance(100);
    let second = store
        .create_query(
            &acc,
            "bot",
            NewQuery {
                language: "es-MX".into(),
                query: "hola".into(),
                model_build_sid: None,
                results: json!({}),
                source_channel: None,
                dialogue_sid: None,
                status: Some("reviewed".into()),
            },
        )
        .await
        .unwrap();
    let list = |filter: QueryFilter| {
        let store = store.clone();
        let acc = acc.clone();
        async move {
            store
                .list_queries(&acc, "bot", &filter, &PageRequest::default())
                .await
                .unwrap()
                .items
        }
    };
    assert_eq!(
        list(QueryFilter::default()).await,
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        list(QueryFilter {
            language: Some("es-MX".into()),
            ..QueryFilter::default()
        })
        .await,
        vec![second.clone()]
    );
    assert_eq!(
        list(QueryFilter {
            model_build: Some("v1".into()),
            ..QueryFilter::default()
        })
        .await,
        vec![first.clone()]
    );
    assert_eq!(
        list(QueryFilter {
            status: Some("reviewed".into()),
            ..QueryFilter::default()
        })
        .await,
        vec![second.clone()]
    );
    assert_eq!(
        list(QueryFilter {
            dialogue_sid: Some(dialogue.to_string()),
            ..QueryFilter::default()
        })
        .await,
        vec![first.clone()]
    );

    let sample = Sid::from_number(SidPrefix::Sample, 1);
    let updated = store
        .update_query(
            &acc,
            "bot",
            first.sid.as_str(),
            QueryUpdate {
                sample_sid: Some(Some(sample.clone())),
                status: Some("discarded".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.sample_sid, Some(sample));
    assert_eq!(updated.status, "discarded");
    assert_eq!(updated.date_updated, T0 + 100);
    let error = store
        .update_query(
            &acc,
            "bot",
            first.sid.as_str(),
            QueryUpdate {
                sample_sid: None,
                status: Some("done".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid Status: \"done\" is not one of pending-review, reviewed, discarded"
    );
    assert_eq!(
        store
            .fetch_query(&acc, "bot", first.sid.as_str())
            .await
            .unwrap(),
        updated
    );

    // Retention: only the older query goes.
    assert_eq!(store.purge_queries(T0 + 50).await.unwrap(), 1);
    store
        .delete_query(&acc, "bot", second.sid.as_str())
        .await
        .unwrap();
    assert!(list(QueryFilter::default()).await.is_empty());
    assert!(matches!(
        store.fetch_query(&acc, "bot", second.sid.as_str()).await,
        Err(StoreError::NotFound {
            kind: ResourceKind::Query,
            ..
        })
    ));
}

async fn webhooks_crud(db: TestDb) {
    let store = &db.store;
    let acc = account();
    store.create_assistant(&acc, named("bot")).await.unwrap();
    let hook = store
        .create_webhook(
            &acc,
            "bot",
            NewWebhook {
                unique_name: "ends".into(),
                events: "onDialogueEnd ondialoguestart".into(),
                webhook_url: "https://example.com/hook".into(),
                webhook_method: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(hook.sid.kind(), Some(SidPrefix::Webhook));
    assert_eq!(hook.webhook_method, "POST");
    assert_eq!(hook.events, "onDialogueEnd ondialoguestart");
    assert!(hook.subscribes_to("onDialogueStart"));
    assert!(!hook.subscribes_to("onDialogueTurn"));
    let error = store
        .create_webhook(
            &acc,
            "bot",
            NewWebhook {
                unique_name: "ends".into(),
                events: "onDialogueEnd".into(),
                webhook_url: "https://example.com/other".into(),
                webhook_method: Some("GET".into()),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::UniqueNameTaken {
            kind: ResourceKind::Webhook,
            ..
        }
    ));
    let error = store
        .create_webhook(
            &acc,
            "bot",
            NewWebhook {
                unique_name: "bad".into(),
                events: "onDialogueEnd".into(),
                webhook_url: "https://example.com/other".into(),
                webhook_method: Some("PUT".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid WebhookMethod: \"PUT\" is not GET or POST"
    );

    db.clock.advance(9);
    let updated = store
        .update_webhook(
            &acc,
            "bot",
            "ends",
            WebhookUpdate {
                unique_name: Some("turns".into()),
                events: Some("onDialogueTurn".into()),
                webhook_url: Some("http://localhost:9/x".into()),
                webhook_method: Some("get".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.unique_name, "turns");
    assert_eq!(updated.events, "onDialogueTurn");
    assert_eq!(updated.webhook_url, "http://localhost:9/x");
    assert_eq!(updated.webhook_method, "GET");
    assert_eq!((updated.date_created, updated.date_updated), (T0, T0 + 9));
    assert_eq!(
        store
            .fetch_webhook(&acc, "bot", hook.sid.as_str())
            .await
            .unwrap(),
        updated
    );
    let page = store
        .list_webhooks(&acc, "bot", &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items, vec![updated]);
    store.delete_webhook(&acc, "bot", "turns").await.unwrap();
    assert!(matches!(
        store.fetch_webhook(&acc, "bot", "turns").await,
        Err(StoreError::NotFound {
            kind: ResourceKind::Webhook,
            ..
        })
    ));
}

async fn paging(db: TestDb) {
    let store = &db.store;
    let acc = account();
    store.create_assistant(&acc, named("bot")).await.unwrap();
    for index in 0..7 {
        store
            .create_task(&acc, "bot", task(&format!("t{index}")))
            .await
            .unwrap();
    }
    let names = |page: &Page<TaskRecord>| -> Vec<String> {
        page.items.iter().map(|t| t.unique_name.clone()).collect()
    };
    let first = store
        .list_tasks(&acc, "bot", &PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(names(&first), vec!["t0", "t1", "t2"]);
    assert_eq!(first.previous_page_token, None);
    let next = first.next_page_token.clone().expect("a second page");
    let second = store
        .list_tasks(&acc, "bot", &PageRequest::at(3, &next))
        .await
        .unwrap();
    assert_eq!(names(&second), vec!["t3", "t4", "t5"]);
    let third = store
        .list_tasks(
            &acc,
            "bot",
            &PageRequest::at(3, second.next_page_token.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(names(&third), vec!["t6"]);
    assert_eq!(third.next_page_token, None);
    // Back from the second page to the first.
    let back = store
        .list_tasks(
            &acc,
            "bot",
            &PageRequest::at(3, second.previous_page_token.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(back, first);
    // A row deleted between pages does not shift the next page.
    store.delete_task(&acc, "bot", "t3").await.unwrap();
    let again = store
        .list_tasks(&acc, "bot", &PageRequest::at(3, &next))
        .await
        .unwrap();
    assert_eq!(names(&again), vec!["t4", "t5", "t6"]);
    assert_eq!(again.next_page_token, None);
    // One page holding everything.
    let all = store
        .list_tasks(&acc, "bot", &PageRequest::first(1000))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 6);
    assert_eq!((all.next_page_token, all.previous_page_token), (None, None));

    let error = store
        .list_tasks(&acc, "bot", &PageRequest::at(3, "PTabc"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "page token \"PTabc\" is not valid: pass back the token of a previous page unchanged"
    );
    assert_eq!(error.http_status(), 400);
    for size in [0, 1001] {
        let error = store
            .list_tasks(&acc, "bot", &PageRequest::first(size))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("invalid PageSize: {size} is out of range: it must be 1 to 1000")
        );
    }
    // Paging lists only the parent's rows.
    store.create_assistant(&acc, named("bot2")).await.unwrap();
    store.create_task(&acc, "bot2", task("x")).await.unwrap();
    let two = store
        .list_tasks(&acc, "bot2", &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(names(&two), vec!["x"]);
    assert_eq!((two.next_page_token, two.previous_page_token), (None, None));
}
