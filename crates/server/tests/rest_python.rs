//! Twilio's official Python helper library (twilio 7.16.0, pinned in
//! `tests/python/requirements.txt`) drives otto's REST API with only its base
//! URL changed: `tests/python/autopilot_helper_library.py` creates an
//! assistant, a field type with values, tasks with actions, fields and
//! samples, a model build (waiting for `completed`), a query, pages through
//! lists and deletes and restores. This test runs it against a real server on
//! loopback and checks its summary against the store.
//!
//! The interpreter is `OTTO_TEST_PYTHON` (`scripts/test` sets it); when unset
//! the test runs `scripts/python-env` itself. It never skips: without Python
//! and the library it fails, saying why.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use otto_model::Sid;
use otto_store::{ModelBuildStatus, PageRequest, QueryFilter};
use serde_json::Value;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter with the pinned library.
fn python() -> String {
    if let Ok(python) = std::env::var("OTTO_TEST_PYTHON")
        && !python.trim().is_empty()
    {
        return python;
    }
    let script = repository().join("scripts/python-env");
    let output = Command::new(&script)
        .current_dir(repository())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "OTTO_TEST_PYTHON is unset and {} could not run: {e}",
                script.display()
            )
        });
    assert!(
        output.status.success(),
        "OTTO_TEST_PYTHON is unset and {} failed ({}): {}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_python_library_drives_the_rest_api() {
    let python = python();
    let server = common::TestServer::start(|_| {}).await;
    let _workers = server.otto.spawn_workers();
    let script = repository().join("tests/python/autopilot_helper_library.py");
    let base = server.server.url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .env("OTTO_BASE_URL", &base)
            .env("OTTO_ACCOUNT_SID", common::ACCOUNT)
            .env("OTTO_AUTH_TOKEN", common::TOKEN)
            // The library rewrites host names when these are set.
            .env_remove("TWILIO_EDGE")
            .env_remove("TWILIO_REGION")
            .output()
            .unwrap_or_else(|e| panic!("{python} could not run: {e}"))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the helper-library script failed ({}):\n{stderr}\n{stdout}",
        output.status
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no JSON summary ({e}):\n{stdout}\n{stderr}"));

    assert_eq!(summary["build_status"], "completed");
    assert_eq!(summary["query_task"], "colour");
    assert_eq!(
        summary["query_fields"],
        serde_json::json!([{"name": "shade", "value": "red", "type": "colour"}])
    );
    assert_eq!(summary["pages"], 3);

    // What the library did is what the store holds.
    let store = &server.otto.store;
    let account = &server.account().sid;
    let assistant = summary["assistant_sid"].as_str().unwrap();
    let record = store.fetch_assistant(account, "paint-shop").await.unwrap();
    assert_eq!(record.sid.as_str(), assistant);
    assert_eq!(record.friendly_name.as_deref(), Some("The paint shop"));
    assert!(!record.deleted, "restored");
    let build = Sid::parse(summary["build_sid"].as_str().unwrap()).unwrap();
    assert_eq!(record.latest_model_build_sid.as_ref(), Some(&build));
    let stored_build = store
        .fetch_model_build(account, assistant, build.as_str())
        .await
        .unwrap();
    assert_eq!(stored_build.status, ModelBuildStatus::Completed);
    let tasks: Vec<String> = store
        .list_tasks(account, assistant, &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|task| task.unique_name)
        .collect();
    assert_eq!(
        tasks,
        [
            "colour", "greeting", "extra-0", "extra-1", "extra-2", "extra-3"
        ],
        "extra-4 was deleted"
    );
    let listed: Vec<&str> = summary["listed_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert_eq!(
        listed[..6],
        tasks.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    let queries = store
        .list_queries(
            account,
            assistant,
            &QueryFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(queries.len(), 1);
    assert_eq!(
        queries[0].sid.as_str(),
        summary["query_sid"].as_str().unwrap()
    );
    assert_eq!(queries[0].status, "reviewed");
    assert_eq!(queries[0].results["task"]["name"], "colour");
    let statistics = store
        .task_statistics(account, assistant, "colour")
        .await
        .unwrap();
    assert_eq!(
        statistics.samples_count, 5,
        "one of six samples was deleted"
    );
    assert!(
        store
            .fetch_sample(
                account,
                assistant,
                "colour",
                summary["deleted_sample"].as_str().unwrap()
            )
            .await
            .is_err()
    );
    assert!(
        store
            .fetch_webhook(account, assistant, "events")
            .await
            .is_err()
    );
    // Deleting the assistant ended its dialogues (restoring does not revive them).
    let dialogue = store
        .dialogue(&Sid::parse(summary["dialogue_sid"].as_str().unwrap()).unwrap())
        .await
        .unwrap();
    assert!(!dialogue.active);
    assert_eq!(dialogue.assistant_sid.as_str(), assistant);
    assert_eq!(dialogue.user_identifier, "painter");
    assert_eq!(dialogue.state.current_task.as_deref(), Some("colour"));
}

/// `Client(key_sid, key_secret, account_sid)`: the library authenticates with
/// an API key of the account, and a wrong secret is its `TwilioRestException`
/// with 401 / 20003. With the auth token it creates, lists, renames and
/// deletes keys over the 2010 API; a key may not (403 / 20403).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_python_library_authenticates_with_an_api_key() {
    let python = python();
    let server = common::TestServer::start(|_| {}).await;
    let store = &server.otto.store;
    let account = &server.account().sid;
    store
        .create_assistant(
            account,
            otto_store::NewAssistant {
                unique_name: Some("listed-with-a-key".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let key = store.create_api_key(account, Some("python")).await.unwrap();
    let script = repository().join("tests/python/api_key_client.py");
    let base = server.server.url();
    let (key_sid, key_secret) = (key.record.sid.to_string(), key.secret.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .env("OTTO_BASE_URL", &base)
            .env("OTTO_ACCOUNT_SID", common::ACCOUNT)
            .env("OTTO_AUTH_TOKEN", common::TOKEN)
            .env("OTTO_API_KEY", &key_sid)
            .env("OTTO_API_SECRET", &key_secret)
            .env_remove("TWILIO_EDGE")
            .env_remove("TWILIO_REGION")
            .output()
            .unwrap_or_else(|e| panic!("{python} could not run: {e}"))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the API-key script failed ({}):\n{stderr}\n{stdout}",
        output.status
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no JSON summary ({e}):\n{stdout}\n{stderr}"));
    assert_eq!(summary["listed"], serde_json::json!(["listed-with-a-key"]));
    let created = store
        .fetch_assistant(account, "made-with-a-key")
        .await
        .unwrap();
    assert_eq!(summary["created"], created.sid.as_str());
    assert_eq!(
        summary["refused"],
        serde_json::json!({
            "status": 401,
            "code": 20003,
            // The library puts its own words before otto's message.
            "message": "Unable to fetch record: Authentication Error - invalid username or password",
        })
    );
    let new_key = summary["new_key"].as_str().unwrap();
    assert_eq!(
        summary["new_key_assistants"],
        serde_json::json!(["listed-with-a-key", "made-with-a-key"])
    );
    assert_eq!(
        summary["keys_listed"],
        serde_json::json!([
            [key.record.sid.as_str(), "python"],
            [new_key, "from python"]
        ])
    );
    assert_eq!(summary["renamed"], "renamed");
    assert_eq!(summary["fetched"], "renamed");
    assert_eq!(summary["forbidden"]["status"], 403);
    assert_eq!(summary["forbidden"]["code"], 20403);
    assert_eq!(summary["deleted"], true);
    assert_eq!(summary["after_delete"]["status"], 401);
    // Deleted in the store too; the first key is still there.
    assert!(store.fetch_api_key(account, new_key).await.is_err());
    assert!(
        store
            .verify_api_key(account, key.record.sid.as_str(), &key.secret)
            .await
            .unwrap()
    );
}
