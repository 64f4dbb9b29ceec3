//! Tasks, TaskActions, TaskStatistics, Fields and Samples (reference 2.6–2.8).

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use otto_model::ActionsDocument;
use otto_model::assistant::SOURCE_CHANNELS;
use otto_store::{
    FieldRecord, NewField, NewSample, NewTask, SampleFilter, SampleRecord, SampleUpdate,
    TaskRecord, TaskUpdate,
};
use serde_json::{Value, json};

use super::{
    Answer, Call, FRIENDLY_NAME_LIMIT, Ids, OrApi, SHORT_LIMIT, TEXT_LIMIT, UNIQUE_NAME_LIMIT,
    assistant_path, created, date, deleted, list_body, list_page, ok,
};
use crate::http::AppState;
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Assistants/{assistant}/Tasks", get(list).post(create))
        .route(
            "/v1/Assistants/{assistant}/Tasks/{sid}",
            get(fetch).post(update).delete(remove),
        )
        .route(
            "/v1/Assistants/{assistant}/Tasks/{task}/Actions",
            get(fetch_actions).post(update_actions),
        )
        .route(
            "/v1/Assistants/{assistant}/Tasks/{task}/Statistics",
            get(statistics),
        )
        .route(
            "/v1/Assistants/{assistant}/Tasks/{task}/Fields",
            get(list_fields).post(create_field),
        )
        .route(
            "/v1/Assistants/{assistant}/Tasks/{task}/Fields/{sid}",
            get(fetch_field).delete(remove_field),
        )
        .route(
            "/v1/Assistants/{assistant}/Tasks/{task}/Samples",
            get(list_samples).post(create_sample),
        )
        .route(
            "/v1/Assistants/{assistant}/Tasks/{task}/Samples/{sid}",
            get(fetch_sample).post(update_sample).delete(remove_sample),
        )
}

fn task_path(record: &TaskRecord, rest: &str) -> String {
    let tail = if rest.is_empty() {
        format!("Tasks/{}", record.sid)
    } else {
        format!("Tasks/{}/{rest}", record.sid)
    };
    assistant_path(&record.assistant_sid, &tail)
}

fn render(call: &Call, record: &TaskRecord) -> Value {
    let link = |rest: &str| call.url(&task_path(record, rest));
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "friendly_name": record.friendly_name,
        "links": {
            "fields": link("Fields"),
            "samples": link("Samples"),
            "task_actions": link("Actions"),
            "statistics": link("Statistics"),
        },
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "unique_name": record.unique_name,
        "actions_url": record.actions_url,
        "url": link(""),
    })
}

/// The `Actions` parameter checked as Autopilot did: error 90100 (HTTP 400)
/// naming where in the document the problem is (`actions[1].say: …`).
fn actions_param(call: &Call) -> Result<Option<ActionsDocument>, ApiError> {
    let Some(text) = call.form.get("Actions") else {
        return Ok(None);
    };
    ActionsDocument::parse(text).map(Some).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            error.code(),
            format!("{}: {error}", error.title()),
        )
    })
}

async fn list(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let assistant = assistant.clone();
        let call = &call;
        async move {
            call.store()
                .list_tasks(call.account(), &assistant, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(&call, "tasks", &page, &[], listed, |record| {
        render(&call, record)
    }))
}

async fn create(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let form = &call.form;
    let unique_name = form.required("UniqueName", UNIQUE_NAME_LIMIT)?;
    let new = NewTask {
        unique_name,
        friendly_name: form.optional("FriendlyName", FRIENDLY_NAME_LIMIT)?,
        actions: actions_param(&call)?,
        actions_url: form.url("ActionsUrl")?,
    };
    let record = call
        .store()
        .create_task(call.account(), &assistant, new)
        .await
        .api()?;
    Ok(created(render(&call, &record)))
}

async fn fetch(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_task(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn update(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let form = &call.form;
    let update = TaskUpdate {
        unique_name: form.unique_name("UniqueName")?,
        friendly_name: form.clearable("FriendlyName", FRIENDLY_NAME_LIMIT)?,
        actions: actions_param(&call)?.map(Some),
        actions_url: form.clearable_url("ActionsUrl")?,
    };
    let record = call
        .store()
        .update_task(call.account(), &assistant, &sid, update)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn remove(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    call.store()
        .delete_task(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(deleted())
}

/// TaskActions: `data` is the task's Actions JSON, `{}` when it has none.
fn render_actions(call: &Call, record: &TaskRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "assistant_sid": record.assistant_sid,
        "task_sid": record.sid,
        "url": call.url(&task_path(record, "Actions")),
        "data": record.actions.as_ref().map_or_else(|| json!({}), ActionsDocument::to_value),
    })
}

async fn fetch_actions(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_task(call.account(), &assistant, &task)
        .await
        .api()?;
    Ok(ok(render_actions(&call, &record)))
}

async fn update_actions(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let record = match actions_param(&call)? {
        Some(actions) => call
            .store()
            .update_task(
                call.account(),
                &assistant,
                &task,
                TaskUpdate {
                    actions: Some(Some(actions)),
                    ..TaskUpdate::default()
                },
            )
            .await
            .api()?,
        None => call
            .store()
            .fetch_task(call.account(), &assistant, &task)
            .await
            .api()?,
    };
    Ok(ok(render_actions(&call, &record)))
}

async fn statistics(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_task(call.account(), &assistant, &task)
        .await
        .api()?;
    let counts = call
        .store()
        .task_statistics(call.account(), &assistant, &task)
        .await
        .api()?;
    Ok(ok(json!({
        "account_sid": record.account_sid,
        "assistant_sid": record.assistant_sid,
        "task_sid": record.sid,
        "samples_count": counts.samples_count,
        "fields_count": counts.fields_count,
        "url": call.url(&task_path(&record, "Statistics")),
    })))
}

// Fields

fn render_field(call: &Call, record: &FieldRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "field_type": record.field_type,
        "task_sid": record.task_sid,
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "unique_name": record.unique_name,
        "url": call.url(&assistant_path(
            &record.assistant_sid,
            &format!("Tasks/{}/Fields/{}", record.task_sid, record.sid),
        )),
    })
}

async fn list_fields(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let (assistant, task, call) = (assistant.clone(), task.clone(), &call);
        async move {
            call.store()
                .list_fields(call.account(), &assistant, &task, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(&call, "fields", &page, &[], listed, |record| {
        render_field(&call, record)
    }))
}

async fn create_field(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let new = NewField {
        // Checked first, as the OpenAPI lists them: FieldType, UniqueName.
        field_type: call.form.required("FieldType", UNIQUE_NAME_LIMIT + 16)?,
        unique_name: call.form.required("UniqueName", UNIQUE_NAME_LIMIT)?,
    };
    let record = call
        .store()
        .create_field(call.account(), &assistant, &task, new)
        .await
        .map_err(|error| match error {
            // An unknown FieldType is a bad parameter of a request whose
            // path exists, not a missing path resource.
            otto_store::StoreError::NotFound {
                kind: otto_store::ResourceKind::FieldType,
                ..
            } => ApiError::bad_request(format!("parameter FieldType: {error}")),
            other => super::store_error(other),
        })?;
    Ok(created(render_field(&call, &record)))
}

async fn fetch_field(
    Ids((assistant, task, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    let record = call
        .store()
        .fetch_field(call.account(), &assistant, &task, &sid)
        .await
        .api()?;
    Ok(ok(render_field(&call, &record)))
}

async fn remove_field(
    Ids((assistant, task, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    call.store()
        .delete_field(call.account(), &assistant, &task, &sid)
        .await
        .api()?;
    Ok(deleted())
}

// Samples

fn render_sample(call: &Call, record: &SampleRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "task_sid": record.task_sid,
        "language": record.language,
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "tagged_text": record.tagged_text,
        "url": call.url(&assistant_path(
            &record.assistant_sid,
            &format!("Tasks/{}/Samples/{}", record.task_sid, record.sid),
        )),
        "source_channel": record.source_channel,
    })
}

/// `TaggedText`: at most [`TEXT_LIMIT`] characters, with well-formed `{field}` tags.
fn tagged_text(call: &Call, required: bool) -> Result<Option<String>, ApiError> {
    let text = if required {
        Some(call.form.required("TaggedText", TEXT_LIMIT)?)
    } else {
        call.form.optional("TaggedText", TEXT_LIMIT)?
    };
    if let Some(text) = &text {
        otto_model::assistant::TaggedText::parse(text).map_err(|error| {
            ApiError::bad_request(format!("parameter TaggedText {text:?}: {error}"))
        })?;
    }
    Ok(text)
}

async fn list_samples(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let page = call.page()?;
    let language = call.query.optional("Language", SHORT_LIMIT)?;
    let filter = SampleFilter {
        language: language.clone(),
    };
    let listed = list_page(&page, |request| {
        let (assistant, task, call, filter) = (assistant.clone(), task.clone(), &call, &filter);
        async move {
            call.store()
                .list_samples(call.account(), &assistant, &task, filter, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(
        &call,
        "samples",
        &page,
        &[("Language", language.as_deref())],
        listed,
        |record| render_sample(&call, record),
    ))
}

async fn create_sample(Ids((assistant, task)): Ids<(String, String)>, call: Call) -> Answer {
    let new = NewSample {
        language: call.form.required("Language", SHORT_LIMIT)?,
        tagged_text: tagged_text(&call, true)?.unwrap_or_default(),
        source_channel: call.form.one_of("SourceChannel", &SOURCE_CHANNELS)?,
    };
    let record = call
        .store()
        .create_sample(call.account(), &assistant, &task, new)
        .await
        .api()?;
    Ok(created(render_sample(&call, &record)))
}

async fn fetch_sample(
    Ids((assistant, task, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    let record = call
        .store()
        .fetch_sample(call.account(), &assistant, &task, &sid)
        .await
        .api()?;
    Ok(ok(render_sample(&call, &record)))
}

async fn update_sample(
    Ids((assistant, task, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    let source_channel = match call.form.get("SourceChannel") {
        Some("") => Some(None),
        Some(_) => Some(call.form.one_of("SourceChannel", &SOURCE_CHANNELS)?),
        None => None,
    };
    let language = call.form.optional("Language", SHORT_LIMIT)?;
    if language
        .as_deref()
        .is_some_and(|language| language.trim().is_empty())
    {
        return Err(ApiError::bad_request(
            "parameter Language must not be empty",
        ));
    }
    let update = SampleUpdate {
        language,
        tagged_text: tagged_text(&call, false)?,
        source_channel,
    };
    let record = call
        .store()
        .update_sample(call.account(), &assistant, &task, &sid, update)
        .await
        .api()?;
    Ok(ok(render_sample(&call, &record)))
}

async fn remove_sample(
    Ids((assistant, task, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    call.store()
        .delete_sample(call.account(), &assistant, &task, &sid)
        .await
        .api()?;
    Ok(deleted())
}
