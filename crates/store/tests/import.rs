//! Whole-assistant import, load and export, on both backends, for every real
//! Autopilot schema in `shared/data/autopilot-schemas/`.

mod common;

use common::{TestDb, account, shared};
use otto_model::{Assistant, FieldType, FieldValue, Sid, SidPrefix, Task, import_schema};
use otto_store::*;

both_backends!(
    every_fixture_round_trips,
    imported_rows_are_rest_resources,
    import_is_all_or_nothing,
    replace_keeps_the_sid,
    load_reports_the_latest_build_name,
);

/// Every fixture file, sorted by name.
fn fixtures() -> Vec<(String, String)> {
    let dir = shared("data/autopilot-schemas");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("a readable fixture");
            (name, text)
        })
        .collect()
}

fn fixture(name_part: &str) -> Assistant {
    let (_, text) = fixtures()
        .into_iter()
        .find(|(name, _)| name.contains(name_part))
        .unwrap_or_else(|| panic!("no fixture named like {name_part}"));
    import_schema(&text).expect("the fixture imports")
}

async fn every_fixture_round_trips(db: TestDb) {
    let store = &db.store;
    let files = fixtures();
    assert_eq!(files.len(), 8, "the eight Autopilot exports");
    for (index, (name, text)) in files.iter().enumerate() {
        let original = import_schema(text).unwrap_or_else(|error| panic!("{name}: {error}"));
        // One account each: two fixtures may share a unique name.
        let acc = Sid::from_number(SidPrefix::Account, index as u128 + 1);
        let sid = store
            .import_assistant(&acc, &original)
            .await
            .unwrap_or_else(|error| panic!("{name}: import: {error}"));
        assert_eq!(sid.kind(), Some(SidPrefix::Assistant), "{name}");

        let (ids, loaded) = store.load_assistant(&acc, sid.as_str()).await.unwrap();
        assert_eq!(loaded, original, "{name}: loaded by SID differs");
        assert_eq!(ids.sid, sid);
        assert_eq!(ids.account_sid, acc);
        assert_eq!(ids.tasks.len(), original.tasks.len(), "{name}");
        assert_eq!(ids.field_types.len(), original.field_types.len(), "{name}");
        assert_eq!(ids.latest_model_build_sid, None);

        let (_, by_name) = store
            .load_assistant(&acc, &original.unique_name)
            .await
            .unwrap();
        assert_eq!(by_name, original, "{name}: loaded by unique name differs");

        let exported = store.export_assistant(&acc, sid.as_str()).await.unwrap();
        assert_eq!(exported, otto_model::export_schema(&original), "{name}");
        assert_eq!(import_schema(&exported).unwrap(), original, "{name}");

        // The task SIDs are the REST resources of those tasks, in order.
        for (task, task_sid) in original.tasks.iter().zip(&ids.tasks) {
            let record = store
                .fetch_task(&acc, sid.as_str(), task_sid.as_str())
                .await
                .unwrap();
            assert_eq!(record.unique_name, task.unique_name, "{name}");
            assert_eq!(ids.task_sid(&loaded, &task.unique_name), Some(task_sid));
        }
    }
}

async fn imported_rows_are_rest_resources(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let original = fixture("test-test_assistant");
    let sid = store.import_assistant(&acc, &original).await.unwrap();
    let record = store.fetch_assistant(&acc, sid.as_str()).await.unwrap();
    assert_eq!(record.unique_name, original.unique_name);
    assert_eq!(
        record.friendly_name.as_deref(),
        Some(original.friendly_name.as_str())
    );
    assert_eq!(record.log_queries, original.log_queries);
    assert_eq!(record.defaults, original.defaults);
    assert_eq!(record.style_sheet, original.style_sheet);
    assert!(
        record.needs_model_build,
        "imported training data is not built yet"
    );

    let tasks = store
        .list_tasks(&acc, sid.as_str(), &PageRequest::first(1000))
        .await
        .unwrap();
    let names: Vec<_> = tasks.items.iter().map(|t| t.unique_name.clone()).collect();
    let expected: Vec<_> = original
        .tasks
        .iter()
        .map(|t| t.unique_name.clone())
        .collect();
    assert_eq!(names, expected);
    for (task, record) in original.tasks.iter().zip(&tasks.items) {
        assert_eq!(record.actions, task.actions);
        assert_eq!(record.actions_url, task.actions_url);
        let samples = store
            .list_samples(
                &acc,
                sid.as_str(),
                &task.unique_name,
                &SampleFilter::default(),
                &PageRequest::first(1000),
            )
            .await
            .unwrap();
        let texts: Vec<_> = samples
            .items
            .iter()
            .map(|s| s.tagged_text.clone())
            .collect();
        let expected: Vec<_> = task.samples.iter().map(|s| s.tagged_text.clone()).collect();
        assert_eq!(texts, expected, "samples of {}", task.unique_name);
        let stats = store
            .task_statistics(&acc, sid.as_str(), &task.unique_name)
            .await
            .unwrap();
        assert_eq!(stats.samples_count, task.samples.len() as i64);
        assert_eq!(stats.fields_count, task.fields.len() as i64);
    }

    // Synonyms are stored as the canonical value's SID.
    let mut synonyms_seen = 0;
    for field_type in &original.field_types {
        let values = store
            .list_field_values(
                &acc,
                sid.as_str(),
                &field_type.unique_name,
                &FieldValueFilter::default(),
                &PageRequest::first(1000),
            )
            .await
            .unwrap()
            .items;
        assert_eq!(values.len(), field_type.values.len());
        for (value, record) in field_type.values.iter().zip(&values) {
            assert_eq!(record.value, value.value);
            match &value.synonym_of {
                Some(canonical) => {
                    synonyms_seen += 1;
                    let target = values
                        .iter()
                        .find(|v| Some(&v.sid) == record.synonym_of.as_ref())
                        .expect("the synonym points at a value of the type");
                    assert_eq!(target.value.to_lowercase(), canonical.to_lowercase());
                }
                None => assert_eq!(record.synonym_of, None),
            }
        }
    }
    assert!(synonyms_seen > 0, "the fixture has synonyms");
}

async fn import_is_all_or_nothing(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let mut broken = Assistant::new("broken");
    broken.tasks.push(Task::new("a"));
    broken.tasks.push(Task::new("b"));
    broken.tasks.push(Task::new("a"));
    let error = store.import_assistant(&acc, &broken).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::UniqueNameTaken { kind: ResourceKind::Task, unique_name, .. } if unique_name == "a"),
        "{error}"
    );

    let mut dangling = Assistant::new("dangling");
    dangling.field_types.push(FieldType {
        unique_name: "color".into(),
        friendly_name: None,
        values: vec![FieldValue {
            language: "en-US".into(),
            value: "crimson".into(),
            synonym_of: Some("red".into()),
        }],
    });
    let error = store.import_assistant(&acc, &dangling).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "field value \"red\" was not found in field type color (named as synonym_of by the value \"crimson\")"
    );

    let mut twice = Assistant::new("twice");
    twice.field_types.push(FieldType {
        unique_name: "color".into(),
        friendly_name: None,
        values: vec![
            FieldValue {
                language: "en-US".into(),
                value: "Red".into(),
                synonym_of: None,
            },
            FieldValue {
                language: "en-US".into(),
                value: "red".into(),
                synonym_of: None,
            },
        ],
    });
    assert!(matches!(
        store.import_assistant(&acc, &twice).await,
        Err(StoreError::ValueTaken { .. })
    ));

    // Nothing of the failed imports is left.
    let page = store
        .list_assistants(&acc, &PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());

    // A taken assistant name fails the import.
    let hello = fixture("HelloWorld");
    store.import_assistant(&acc, &hello).await.unwrap();
    let error = store.import_assistant(&acc, &hello).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::UniqueNameTaken {
            kind: ResourceKind::Assistant,
            ..
        }
    ));
    let page = store
        .list_assistants(&acc, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

async fn replace_keeps_the_sid(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let hello = fixture("HelloWorld");
    let sid = store.import_assistant(&acc, &hello).await.unwrap();
    let build = store
        .create_model_build(&acc, sid.as_str(), NewModelBuild::default())
        .await
        .unwrap();
    let mut survey = fixture("CustomerSatisfaction");
    survey.unique_name = "HelloWorld".into();
    let ids = store
        .replace_assistant(&acc, "HelloWorld", &survey)
        .await
        .unwrap();
    assert_eq!(ids.sid, sid);
    let (_, loaded) = store.load_assistant(&acc, sid.as_str()).await.unwrap();
    assert_eq!(loaded, survey);
    // Builds are history, kept.
    assert_eq!(
        store
            .fetch_model_build(&acc, sid.as_str(), build.sid.as_str())
            .await
            .unwrap()
            .sid,
        build.sid
    );
    // Another assistant's name cannot be taken by a replace.
    let other = fixture("FAQsInternetPlan");
    store.import_assistant(&acc, &other).await.unwrap();
    let error = store
        .replace_assistant(&acc, sid.as_str(), &other)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::UniqueNameTaken { .. }));
    let (_, unchanged) = store.load_assistant(&acc, sid.as_str()).await.unwrap();
    assert_eq!(unchanged, survey);
}

async fn load_reports_the_latest_build_name(db: TestDb) {
    let store = &db.store;
    let acc = account();
    let hello = fixture("HelloWorld");
    assert_eq!(hello.model_build_name.as_deref(), Some("v0.1"));
    let sid = store.import_assistant(&acc, &hello).await.unwrap();
    let build = store
        .create_model_build(
            &acc,
            sid.as_str(),
            NewModelBuild {
                unique_name: Some("v0.2".into()),
                status_callback: None,
            },
        )
        .await
        .unwrap();
    // Not completed yet: the imported name stands.
    let (_, loaded) = store.load_assistant(&acc, sid.as_str()).await.unwrap();
    assert_eq!(loaded.model_build_name.as_deref(), Some("v0.1"));
    store.claim_model_build().await.unwrap().unwrap();
    store
        .finish_model_build(
            &build.sid,
            BuildOutcome::Completed {
                model: vec![7],
                build_duration: 1,
            },
        )
        .await
        .unwrap();
    let (ids, loaded) = store.load_assistant(&acc, sid.as_str()).await.unwrap();
    assert_eq!(loaded.model_build_name.as_deref(), Some("v0.2"));
    assert_eq!(ids.latest_model_build_sid, Some(build.sid));
}
