//! The demo assistant `otto serve` starts with on an empty database: a bistro
//! that books tables (a collect with a first name, a `Twilio.NUMBER` party
//! size, a `Twilio.DATE` and a custom `Seating` type), answers its opening
//! hours, confirms with a `{{memory…}}` template, falls back and says goodbye.

use otto_model::{Assistant, Sid};
use otto_store::{ModelBuildRecord, NewModelBuild, PageRequest, Store};

use crate::builds::{BuildError, Builds};

/// The demo's schema, in the Autopilot CLI's format.
pub const DEMO_SCHEMA: &str = include_str!("demo/otto-demo.json");

/// The demo's unique name.
pub const DEMO_UNIQUE_NAME: &str = "otto-demo";

/// The demo assistant's definition.
pub fn demo_assistant() -> Assistant {
    otto_model::import_schema(DEMO_SCHEMA).expect("the embedded demo schema imports")
}

/// Imports the demo and queues its model build when the account has no
/// assistant yet; returns them, or `None` when the account had assistants.
pub async fn ensure_demo(
    store: &Store,
    builds: &Builds,
    account: &Sid,
) -> Result<Option<(Sid, ModelBuildRecord)>, BuildError> {
    let existing = store
        .list_assistants(account, &PageRequest::first(1))
        .await?;
    if !existing.items.is_empty() {
        return Ok(None);
    }
    let assistant = demo_assistant();
    let sid = match store.import_assistant(account, &assistant).await {
        Ok(sid) => sid,
        // Several instances started at once on an empty database: another
        // one imported the demo between our look and our import.
        Err(_) if has_demo(store, account).await => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let build = builds
        .enqueue(
            account,
            sid.as_str(),
            NewModelBuild {
                unique_name: assistant.model_build_name.clone(),
                status_callback: None,
            },
        )
        .await?;
    tracing::info!(assistant = %sid, "demo assistant imported");
    Ok(Some((sid, build)))
}

async fn has_demo(store: &Store, account: &Sid) -> bool {
    store
        .current_assistant(account, DEMO_UNIQUE_NAME)
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_model::assistant::Severity;

    #[test]
    fn the_demo_is_a_valid_assistant() {
        let assistant = demo_assistant();
        assert_eq!(assistant.unique_name, DEMO_UNIQUE_NAME);
        let problems = assistant.validate();
        assert!(
            problems.iter().all(|p| p.severity != Severity::Error),
            "{problems:?}"
        );
        assert_eq!(problems, []);
        let tasks: Vec<&str> = assistant
            .tasks
            .iter()
            .map(|task| task.unique_name.as_str())
            .collect();
        assert_eq!(
            tasks,
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
}
