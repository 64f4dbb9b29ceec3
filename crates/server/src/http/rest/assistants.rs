//! Assistants (`/v1/Assistants`, `/v1/Assistants/{Sid}`), Restore, and the
//! Defaults and StyleSheet singletons (reference 2.4, 2.5).

use axum::Router;
use axum::routing::{get, post};
use otto_model::assistant::{Defaults, StyleSheet};
use otto_model::{ShapeError, Sid, SidPrefix};
use otto_store::{AssistantRecord, AssistantUpdate, NewAssistant};
use serde_json::{Value, json};

use super::{
    Answer, Call, FRIENDLY_NAME_LIMIT, Ids, OrApi, SHORT_LIMIT, assistant_path, created, date,
    deleted, list_body, list_page, ok,
};
use crate::http::AppState;
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Assistants", get(list).post(create))
        .route("/v1/Assistants/Restore", post(restore))
        .route(
            "/v1/Assistants/{sid}",
            get(fetch).post(update).delete(remove),
        )
        .route(
            "/v1/Assistants/{assistant}/Defaults",
            get(fetch_defaults).post(update_defaults),
        )
        .route(
            "/v1/Assistants/{assistant}/StyleSheet",
            get(fetch_style_sheet).post(update_style_sheet),
        )
}

/// The assistant resource.
fn render(call: &Call, record: &AssistantRecord) -> Value {
    let link = |rest: &str| call.url(&assistant_path(&record.sid, rest));
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "friendly_name": record.friendly_name,
        "latest_model_build_sid": record.latest_model_build_sid,
        "links": {
            "field_types": link("FieldTypes"),
            "tasks": link("Tasks"),
            "model_builds": link("ModelBuilds"),
            "queries": link("Queries"),
            "style_sheet": link("StyleSheet"),
            "defaults": link("Defaults"),
            "dialogues": link("Dialogues"),
            "webhooks": link("Webhooks"),
        },
        "log_queries": record.log_queries,
        "development_stage": record.development_stage,
        "needs_model_build": record.needs_model_build,
        "sid": record.sid,
        "unique_name": record.unique_name,
        "url": link(""),
        "callback_url": record.callback_url,
        "callback_events": record.callback_events,
    })
}

/// What Restore answers: the assistant without `url` and `links`.
fn render_restored(record: &AssistantRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "sid": record.sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "unique_name": record.unique_name,
        "friendly_name": record.friendly_name,
        "needs_model_build": record.needs_model_build,
        "latest_model_build_sid": record.latest_model_build_sid,
        "log_queries": record.log_queries,
        "development_stage": record.development_stage,
        "callback_url": record.callback_url,
        "callback_events": record.callback_events,
    })
}

fn shape_error(parameter: &str, error: ShapeError) -> ApiError {
    let at = if error.path.is_empty() {
        String::new()
    } else {
        format!(" at {}", error.path)
    };
    ApiError::bad_request(format!(
        "parameter {parameter} is not a valid {}{at}: {}",
        if parameter == "Defaults" {
            "defaults document {\"defaults\": {...}}"
        } else {
            "style sheet {\"style_sheet\": {...}}"
        },
        error.problem
    ))
}

fn defaults_param(call: &Call, name: &str) -> Result<Option<Defaults>, ApiError> {
    call.form
        .json(name)?
        .map(|value| Defaults::from_value(&value).map_err(|error| shape_error(name, error)))
        .transpose()
}

fn style_sheet_param(call: &Call, name: &str) -> Result<Option<StyleSheet>, ApiError> {
    call.form
        .json(name)?
        .map(|value| StyleSheet::from_value(&value).map_err(|error| shape_error(name, error)))
        .transpose()
}

async fn list(call: Call) -> Answer {
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let call = &call;
        async move { call.store().list_assistants(call.account(), &request).await }
    })
    .await?;
    Ok(list_body(
        &call,
        "assistants",
        &page,
        &[],
        listed,
        |record| render(&call, record),
    ))
}

async fn create(call: Call) -> Answer {
    let form = &call.form;
    let new = NewAssistant {
        unique_name: form.unique_name("UniqueName")?,
        friendly_name: form.optional("FriendlyName", FRIENDLY_NAME_LIMIT)?,
        log_queries: form.boolean("LogQueries")?,
        development_stage: form.optional("DevelopmentStage", SHORT_LIMIT)?,
        callback_url: form.url("CallbackUrl")?,
        callback_events: form.optional("CallbackEvents", SHORT_LIMIT)?,
        defaults: defaults_param(&call, "Defaults")?,
        style_sheet: style_sheet_param(&call, "StyleSheet")?,
    };
    let record = call
        .store()
        .create_assistant(call.account(), new)
        .await
        .api()?;
    Ok(created(render(&call, &record)))
}

async fn fetch(Ids(sid): Ids<String>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_assistant(call.account(), &sid)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn update(Ids(sid): Ids<String>, call: Call) -> Answer {
    let form = &call.form;
    let update = AssistantUpdate {
        unique_name: form.unique_name("UniqueName")?,
        friendly_name: form.clearable("FriendlyName", FRIENDLY_NAME_LIMIT)?,
        log_queries: form.boolean("LogQueries")?,
        development_stage: form.optional("DevelopmentStage", SHORT_LIMIT)?,
        callback_url: form.clearable_url("CallbackUrl")?,
        callback_events: form.clearable("CallbackEvents", SHORT_LIMIT)?,
        defaults: defaults_param(&call, "Defaults")?,
        style_sheet: style_sheet_param(&call, "StyleSheet")?,
    };
    let record = call
        .store()
        .update_assistant(call.account(), &sid, update)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn remove(Ids(sid): Ids<String>, call: Call) -> Answer {
    call.store()
        .delete_assistant(call.account(), &sid)
        .await
        .api()?;
    Ok(deleted())
}

async fn restore(call: Call) -> Answer {
    let key = call.form.required("Assistant", 64)?;
    let sid = Sid::parse_kind(&key, SidPrefix::Assistant).map_err(|error| {
        ApiError::bad_request(format!(
            "parameter Assistant must be the SID of a deleted assistant: {error}"
        ))
    })?;
    let record = call
        .store()
        .restore_assistant(call.account(), &sid)
        .await
        .api()?;
    Ok(ok(render_restored(&record)))
}

/// `{account_sid, assistant_sid, url, data}` of a singleton.
fn singleton(call: &Call, record: &AssistantRecord, rest: &str, data: Value) -> Value {
    json!({
        "account_sid": record.account_sid,
        "assistant_sid": record.sid,
        "url": call.url(&assistant_path(&record.sid, rest)),
        "data": data,
    })
}

/// The assistant after `update`, or as it is when there is nothing to change
/// (an update of Defaults or StyleSheet without the parameter).
async fn updated_or_current(
    call: &Call,
    assistant: &str,
    update: Option<AssistantUpdate>,
) -> Result<AssistantRecord, ApiError> {
    let store = call.store();
    match update {
        Some(update) => {
            store
                .update_assistant(call.account(), assistant, update)
                .await
        }
        None => store.fetch_assistant(call.account(), assistant).await,
    }
    .api()
}

async fn fetch_defaults(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_assistant(call.account(), &assistant)
        .await
        .api()?;
    Ok(ok(singleton(
        &call,
        &record,
        "Defaults",
        record.defaults.to_value(),
    )))
}

async fn update_defaults(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let defaults = defaults_param(&call, "Defaults")?;
    let update = defaults.map(|defaults| AssistantUpdate {
        defaults: Some(defaults),
        ..AssistantUpdate::default()
    });
    let record = updated_or_current(&call, &assistant, update).await?;
    Ok(ok(singleton(
        &call,
        &record,
        "Defaults",
        record.defaults.to_value(),
    )))
}

async fn fetch_style_sheet(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_assistant(call.account(), &assistant)
        .await
        .api()?;
    Ok(ok(singleton(
        &call,
        &record,
        "StyleSheet",
        record.style_sheet.to_value(),
    )))
}

async fn update_style_sheet(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let style_sheet = style_sheet_param(&call, "StyleSheet")?;
    let update = style_sheet.map(|style_sheet| AssistantUpdate {
        style_sheet: Some(style_sheet),
        ..AssistantUpdate::default()
    });
    let record = updated_or_current(&call, &assistant, update).await?;
    Ok(ok(singleton(
        &call,
        &record,
        "StyleSheet",
        record.style_sheet.to_value(),
    )))
}
