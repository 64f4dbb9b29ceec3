//! ModelBuilds (reference 2.10, 11). `POST` queues a build and wakes the build
//! worker ([`crate::builds::Builds::enqueue`]); training runs in the background
//! and turns and queries keep answering from the newest completed build
//! meanwhile.

use axum::Router;
use axum::routing::get;
use std::time::{Duration, Instant};

use otto_store::{ModelBuildRecord, ModelBuildStatus, NewModelBuild};
use serde_json::{Value, json};

use super::{
    Answer, Call, Ids, OrApi, assistant_path, created, date, deleted, list_body, list_page, ok,
    store_error,
};
use crate::builds::BuildError;
use crate::http::AppState;
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/Assistants/{assistant}/ModelBuilds",
            get(list).post(create),
        )
        .route(
            "/v1/Assistants/{assistant}/ModelBuilds/{sid}",
            get(fetch).post(update).delete(remove),
        )
}

pub(super) fn render(call: &Call, record: &ModelBuildRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "status": record.status.as_str(),
        "unique_name": record.unique_name,
        "url": call.url(&assistant_path(
            &record.assistant_sid,
            &format!("ModelBuilds/{}", record.sid),
        )),
        "build_duration": record.build_duration,
        "error_code": record.error_code,
    })
}

async fn list(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let (assistant, call) = (assistant.clone(), &call);
        async move {
            call.store()
                .list_model_builds(call.account(), &assistant, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(
        &call,
        "model_builds",
        &page,
        &[],
        listed,
        |record| render(&call, record),
    ))
}

async fn create(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let new = NewModelBuild {
        unique_name: call.form.unique_name("UniqueName")?,
        status_callback: call.form.url("StatusCallback")?,
    };
    let record = call
        .state
        .turns
        .builds()
        .enqueue(call.account(), &assistant, new)
        .await
        .map_err(|error| match error {
            BuildError::Store(error) => store_error(error),
            other => ApiError::internal(other.to_string()),
        })?;
    if let Some(url) = record.status_callback.clone() {
        tokio::spawn(status_callback(
            call.store().clone(),
            call.state.account.clone(),
            record.clone(),
            url,
        ));
    }
    Ok(created(render(&call, &record)))
}

/// How often a build with a `StatusCallback` is looked at.
const CALLBACK_POLL: Duration = Duration::from_millis(250);
/// Builds must finish within an hour on Autopilot; watch a little longer.
const CALLBACK_WATCH: Duration = Duration::from_secs(2 * 3600);
const CALLBACK_ATTEMPTS: u32 = 3;

/// Waits for the build to finish and POSTs its outcome to `url`, signed with
/// `X-Twilio-Signature` like every request otto makes: `AccountSid`,
/// `AssistantSid`, `ModelBuildSid`, `UniqueName`, `Status`, and
/// `BuildDuration` / `ErrorCode` when set (Twilio never documented the
/// payload). The watch lives in this process: a restart before the build
/// finishes loses the callback (the build itself is kept).
async fn status_callback(
    store: otto_store::Store,
    account: otto_store::Account,
    build: ModelBuildRecord,
    url: String,
) {
    let started = Instant::now();
    let finished = loop {
        tokio::time::sleep(CALLBACK_POLL).await;
        match store
            .fetch_model_build(
                &account.sid,
                build.assistant_sid.as_str(),
                build.sid.as_str(),
            )
            .await
        {
            Ok(record)
                if !matches!(
                    record.status,
                    ModelBuildStatus::Enqueued | ModelBuildStatus::Building
                ) =>
            {
                break record;
            }
            Ok(_) => {}
            Err(otto_store::StoreError::NotFound { .. }) => return,
            Err(error) => {
                tracing::warn!(build = %build.sid, %error, "status callback: reading the build")
            }
        }
        if started.elapsed() > CALLBACK_WATCH {
            tracing::warn!(build = %build.sid, "status callback: the build did not finish; not called");
            return;
        }
    };
    let mut params = vec![
        ("AccountSid".to_owned(), finished.account_sid.to_string()),
        (
            "AssistantSid".to_owned(),
            finished.assistant_sid.to_string(),
        ),
        ("ModelBuildSid".to_owned(), finished.sid.to_string()),
        ("UniqueName".to_owned(), finished.unique_name.clone()),
        ("Status".to_owned(), finished.status.as_str().to_owned()),
    ];
    if let Some(duration) = finished.build_duration {
        params.push(("BuildDuration".to_owned(), duration.to_string()));
    }
    if let Some(code) = finished.error_code {
        params.push(("ErrorCode".to_owned(), code.to_string()));
    }
    let signature = crate::signature::sign(&account.auth_token, &url, &params);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    crate::fetch::install_crypto_provider();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "status callback: HTTP client");
            return;
        }
    };
    for attempt in 1..=CALLBACK_ATTEMPTS {
        let sent = client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", &signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                tracing::info!(build = %finished.sid, %url, "status callback delivered");
                return;
            }
            Ok(response) => {
                tracing::warn!(build = %finished.sid, %url, status = %response.status(), attempt, "status callback refused")
            }
            Err(error) => {
                tracing::warn!(build = %finished.sid, %url, %error, attempt, "status callback failed")
            }
        }
        tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
    }
}

async fn fetch(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_model_build(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn update(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let record = match call.form.unique_name("UniqueName")? {
        Some(name) => call
            .store()
            .update_model_build(call.account(), &assistant, &sid, &name)
            .await
            .api()?,
        None => call
            .store()
            .fetch_model_build(call.account(), &assistant, &sid)
            .await
            .api()?,
    };
    Ok(ok(render(&call, &record)))
}

async fn remove(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    call.store()
        .delete_model_build(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(deleted())
}
