//! ModelBuilds (reference 2.10, 11). `POST` queues a build and wakes the build
//! worker ([`crate::builds::Builds::enqueue`]); training runs in the background
//! and turns and queries keep answering from the newest completed build
//! meanwhile.

use axum::Router;
use axum::routing::get;
use otto_store::{ModelBuildRecord, NewModelBuild};
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
    Ok(created(render(&call, &record)))
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
