//! Model builds: statuses, the stored model, the in-memory cache, the newest
//! completed build answering, and failed builds.

mod common;

use axum::http::StatusCode;
use common::*;
use otto_server::demo::DEMO_SCHEMA;
use otto_server::{Builds, Otto, ServerConfig};
use otto_store::{ModelBuildStatus, NewModelBuild, PageRequest};
use serde_json::json;

#[tokio::test]
async fn a_build_goes_from_enqueued_to_completed_with_its_model_stored() {
    let t = TestServer::start(|_| {}).await;
    let assistant = otto_model::import_schema(DEMO_SCHEMA).unwrap();
    let sid = t
        .otto
        .store
        .import_assistant(&t.account().sid, &assistant)
        .await
        .unwrap();
    let build = t
        .otto
        .builds
        .enqueue(
            &t.account().sid,
            "otto-demo",
            NewModelBuild {
                unique_name: Some("v1".into()),
                status_callback: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(build.status, ModelBuildStatus::Enqueued);
    assert_eq!(build.unique_name, "v1");
    let done = t.otto.builds.train_next(None).await.unwrap().unwrap();
    assert_eq!(done.sid, build.sid);
    assert_eq!(done.status, ModelBuildStatus::Completed);
    assert!(matches!(done.build_duration, Some(seconds) if (0..60).contains(&seconds)));
    assert_eq!(done.error_code, None);
    assert!(t.otto.builds.train_next(None).await.unwrap().is_none());

    let record = t
        .otto
        .store
        .fetch_assistant(&t.account().sid, sid.as_str())
        .await
        .unwrap();
    assert_eq!(record.latest_model_build_sid, Some(build.sid.clone()));
    assert!(!record.needs_model_build);
    let bytes = t.otto.store.model_build_artifact(&build.sid).await.unwrap();
    let model = otto_nlu::Model::from_bytes(&bytes).unwrap();
    assert_eq!(
        model.tasks(),
        [
            "greeting",
            "book_table",
            "confirm_booking",
            "opening_hours",
            "goodbye",
            "fallback"
        ]
    );
}

#[tokio::test]
async fn turns_use_the_cached_model_and_read_it_from_the_store_once() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let builds = &t.otto.builds;
    // Trained here: already in memory.
    t.say(&sid, "u1", "hello").await;
    assert_eq!(builds.loads_from_store(), 0);
    let latest = t
        .otto
        .store
        .fetch_assistant(&t.account().sid, sid.as_str())
        .await
        .unwrap()
        .latest_model_build_sid
        .unwrap();
    assert_eq!(builds.cached_builds(), std::slice::from_ref(&latest));

    builds.clear_cache();
    let (a, b) = tokio::join!(t.say(&sid, "u2", "hello"), t.say(&sid, "u3", "hello"));
    assert_eq!(TestServer::texts(&a), TestServer::texts(&b));
    assert_eq!(
        builds.loads_from_store(),
        1,
        "two turns missing the cache load once"
    );
    for _ in 0..3 {
        t.say(&sid, "u4", "what are your opening hours").await;
    }
    assert_eq!(builds.loads_from_store(), 1);
    assert_eq!(builds.cached_builds(), [latest]);
}

#[tokio::test]
async fn the_newest_completed_build_answers() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let account = t.account().sid.clone();
    let first = t
        .otto
        .store
        .fetch_assistant(&account, sid.as_str())
        .await
        .unwrap()
        .latest_model_build_sid
        .unwrap();
    t.train(&sid).await;
    let second = t
        .otto
        .store
        .fetch_assistant(&account, sid.as_str())
        .await
        .unwrap()
        .latest_model_build_sid
        .unwrap();
    assert_ne!(first, second);
    t.say(&sid, "u1", "hello").await;
    assert_eq!(t.otto.builds.cached_builds(), std::slice::from_ref(&second));

    // A server started later on the same database answers from the stored model.
    let restarted = Otto::new(
        t.otto.store.clone(),
        t.account().clone(),
        ServerConfig {
            clock: t.otto.config.clock.clone(),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let outcome = restarted
        .turns
        .turn(
            sid.as_str(),
            otto_engine::TurnInput::message("u9", "web", "what are your opening hours"),
        )
        .await
        .unwrap();
    assert_eq!(outcome.result.task.as_deref(), Some("opening_hours"));
    assert_eq!(restarted.builds.loads_from_store(), 1);
    assert_eq!(restarted.builds.cached_builds(), [second]);
}

#[tokio::test]
async fn a_build_of_data_the_nlu_refuses_fails_with_its_code() {
    let t = TestServer::start(|_| {}).await;
    let schema = json!({
        "uniqueName": "broken-types",
        "tasks": [
            {"uniqueName": "order",
             "actions": {"actions": [{"say": "ok"}]},
             "fields": [{"uniqueName": "size", "fieldType": "Pizza.SIZE"}],
             "samples": [{"language": "en-US", "taggedText": "a {size} pizza"}]}
        ]
    })
    .to_string();
    let assistant = otto_model::import_schema(&schema).unwrap();
    let sid = t
        .otto
        .store
        .import_assistant(&t.account().sid, &assistant)
        .await
        .unwrap();
    let build = t
        .otto
        .builds
        .enqueue(&t.account().sid, sid.as_str(), Default::default())
        .await
        .unwrap();
    let done = t
        .otto
        .builds
        .wait(&t.account().sid, sid.as_str(), &build.sid)
        .await
        .unwrap();
    assert_eq!(done.status, ModelBuildStatus::Failed);
    assert_eq!(
        done.error_code,
        Some(otto_server::builds::INVALID_TRAINING_DATA)
    );
    let (status, json) = t
        .post(
            &t.channel_path(sid.as_str()),
            &[("UserId", "u1"), ("Text", "a large pizza")],
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json["message"],
        format!(
            "assistant {sid} has no completed model build yet (its latest build {} failed with error 90001); send the message again when training is done",
            build.sid
        )
    );
}

/// Several instances started at once on an empty database each find no
/// assistant and import the demo: one import wins, the others see its
/// assistant and start without one (none fails, no second demo).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_imported_once_when_instances_start_at_once() {
    let t = TestServer::start(|_| {}).await;
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let (store, builds) = (t.otto.store.clone(), t.otto.builds.clone());
            let account = t.account().sid.clone();
            tokio::spawn(
                async move { otto_server::demo::ensure_demo(&store, &builds, &account).await },
            )
        })
        .collect();
    let mut imported = 0;
    for start in starts {
        if start
            .await
            .unwrap()
            .expect("every start succeeds")
            .is_some()
        {
            imported += 1;
        }
    }
    assert_eq!(imported, 1);
    let assistants = t
        .otto
        .store
        .list_assistants(&t.account().sid, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(assistants.items.len(), 1);
    assert_eq!(assistants.items[0].unique_name, "otto-demo");
}

#[tokio::test]
async fn the_worker_trains_what_is_enqueued() {
    let t =
        TestServer::start(|config| config.build_poll = std::time::Duration::from_millis(20)).await;
    let workers = t.otto.spawn_workers();
    let (sid, build) =
        otto_server::demo::ensure_demo(&t.otto.store, &t.otto.builds, &t.account().sid)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(build.unique_name, "demo-v1");
    // The demo is only imported into an empty account.
    assert!(
        otto_server::demo::ensure_demo(&t.otto.store, &t.otto.builds, &t.account().sid)
            .await
            .unwrap()
            .is_none()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let builds = t
            .otto
            .store
            .list_model_builds(&t.account().sid, sid.as_str(), &PageRequest::default())
            .await
            .unwrap();
        if builds.items[0].status == ModelBuildStatus::Completed {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never trained"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let json = t.say(&sid, "u1", "hello").await;
    assert_eq!(json["response"]["says"].as_array().unwrap().len(), 1);
    for worker in workers {
        worker.abort();
    }
    // A fresh Builds shares nothing in memory with the server's.
    let other = Builds::new(t.otto.store.clone());
    assert!(other.cached_builds().is_empty());
}

/// A model written by another otto version (another model format) is not
/// an error the operator must fix: the build is trained again, turns answer
/// 503 meanwhile, and only one new build is queued however many turns come.
#[tokio::test]
async fn a_model_of_another_format_version_is_trained_again() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let account = t.account().sid.clone();
    let store = &t.otto.store;
    // A completed build whose model says it has the next format version.
    let good = store
        .model_build_artifact(
            &store
                .fetch_assistant(&account, sid.as_str())
                .await
                .unwrap()
                .latest_model_build_sid
                .unwrap(),
        )
        .await
        .unwrap();
    let mut other_version = good.clone();
    other_version[8..12].copy_from_slice(&(otto_nlu::MODEL_FORMAT_VERSION + 1).to_le_bytes());
    let new = NewModelBuild {
        unique_name: Some("from-another-version".into()),
        status_callback: None,
    };
    let old = t
        .otto
        .builds
        .enqueue(&account, sid.as_str(), new)
        .await
        .unwrap();
    assert_eq!(
        store.claim_model_build().await.unwrap().unwrap().sid,
        old.sid
    );
    let outcome = otto_store::BuildOutcome::Completed {
        model: other_version,
        build_duration: 1,
    };
    store.finish_model_build(&old.sid, outcome).await.unwrap();
    t.otto.builds.clear_cache();

    let channel = t.channel_path(sid.as_str());
    for user in ["u1", "u2"] {
        let (status, json) = t
            .post(&channel, &[("UserId", user), ("Text", "hello")])
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
        assert_eq!(json["code"], 20503, "{json}");
    }
    let builds = store
        .list_model_builds(&account, sid.as_str(), &PageRequest::default())
        .await
        .unwrap();
    let queued: Vec<_> = builds
        .items
        .iter()
        .filter(|b| b.status == ModelBuildStatus::Enqueued)
        .collect();
    assert_eq!(queued.len(), 1, "one rebuild for two turns: {builds:?}");

    let rebuilt = t.otto.builds.train_next(None).await.unwrap().unwrap();
    assert_eq!(rebuilt.status, ModelBuildStatus::Completed);
    let json = t.say(&sid, "u1", "hello").await;
    assert!(!TestServer::texts(&json).is_empty(), "{json}");
    assert_eq!(t.otto.builds.cached_builds(), [rebuilt.sid]);
}
