//! Queries (reference 2.11, 10): the NLU of a completed model build applied to
//! one utterance. Kept (listable, 30 days) when the assistant's `log_queries`
//! is on; otherwise answered and forgotten.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use otto_engine::Understanding;
use otto_model::{Sid, SidPrefix};
use otto_store::{
    AssistantIds, ModelBuildStatus, NewQuery, QUERY_STATUSES, QueryFilter, QueryRecord, QueryUpdate,
};
use serde_json::{Value, json};

use super::{
    Answer, Call, Ids, OrApi, SHORT_LIMIT, TEXT_LIMIT, UNIQUE_NAME_LIMIT, assistant_path, created,
    date, deleted, list_body, list_page, ok,
};
use crate::builds::{BuildError, LoadedModel};
use crate::http::AppState;
use crate::http::error::{ApiError, UNAVAILABLE};
use crate::understanding::NluUnderstanding;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Assistants/{assistant}/Queries", get(list).post(create))
        .route(
            "/v1/Assistants/{assistant}/Queries/{sid}",
            get(fetch).post(update).delete(remove),
        )
}

fn render(call: &Call, record: &QueryRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "results": record.results,
        "language": record.language,
        "model_build_sid": record.model_build_sid,
        "query": record.query,
        "sample_sid": record.sample_sid,
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "status": record.status,
        "url": call.url(&assistant_path(
            &record.assistant_sid,
            &format!("Queries/{}", record.sid),
        )),
        "source_channel": record.source_channel,
        "dialogue_sid": record.dialogue_sid,
    })
}

fn build_error(error: BuildError) -> ApiError {
    match error {
        BuildError::Store(error) => super::store_error(error),
        BuildError::BadModel { .. } => ApiError::internal(error.to_string()),
    }
}

/// The model to answer with: the named build (which must be completed) or
/// the assistant's newest completed build. The newest comes from the shared
/// cache; an older named build is loaded for this query only, so it does not
/// push the model that live dialogues use out of the cache.
async fn model(
    call: &Call,
    ids: &AssistantIds,
    definition: &otto_model::Assistant,
    named: Option<&str>,
) -> Result<Arc<LoadedModel>, ApiError> {
    let builds = call.state.turns.builds();
    let Some(named) = named else {
        return match builds
            .model_for(ids, definition)
            .await
            .map_err(build_error)?
        {
            Some(model) => Ok(model),
            None => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                UNAVAILABLE,
                format!(
                    "assistant {} has no completed model build yet: create one (POST …/ModelBuilds) and query when its status is completed",
                    ids.sid
                ),
            )),
        };
    };
    let build = call
        .store()
        .fetch_model_build(call.account(), ids.sid.as_str(), named)
        .await
        .api()?;
    if build.status != ModelBuildStatus::Completed {
        return Err(ApiError::bad_request(format!(
            "parameter ModelBuild: model build {} is {}; only a completed build can answer queries",
            build.sid, build.status
        )));
    }
    if ids.latest_model_build_sid.as_ref() == Some(&build.sid)
        && let Some(model) = builds
            .model_for(ids, definition)
            .await
            .map_err(build_error)?
    {
        return Ok(model);
    }
    let bytes = call.store().model_build_artifact(&build.sid).await.api()?;
    let model = otto_nlu::Model::from_bytes(&bytes).map_err(|error| {
        build_error(BuildError::BadModel {
            build: build.sid.clone(),
            problem: error.to_string(),
        })
    })?;
    let data = crate::training_data::training_data(definition);
    Ok(Arc::new(LoadedModel {
        build_sid: build.sid.clone(),
        assistant_sid: ids.sid.clone(),
        understanding: NluUnderstanding::new(model, &data),
    }))
}

async fn create(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let form = &call.form;
    let language = form.required("Language", SHORT_LIMIT)?;
    let text = form.required("Query", TEXT_LIMIT)?;
    let named_build = form.optional("ModelBuild", UNIQUE_NAME_LIMIT)?;
    let tasks_param = form.optional("Tasks", TEXT_LIMIT)?;
    let (ids, definition) = call
        .store()
        .load_assistant(call.account(), &assistant)
        .await
        .api()?;
    // `Tasks`: comma-separated unique names restricting the candidates.
    let tasks: Option<Vec<String>> = match tasks_param {
        None => None,
        Some(list) => {
            let names: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect();
            if names.is_empty() {
                return Err(ApiError::bad_request(
                    "parameter Tasks names no task: give task unique names separated by commas",
                ));
            }
            if let Some(unknown) = names.iter().find(|name| definition.task(name).is_none()) {
                return Err(ApiError::bad_request(format!(
                    "parameter Tasks: assistant {} has no task {unknown:?}",
                    ids.sid
                )));
            }
            Some(names)
        }
    };
    let loaded = model(&call, &ids, &definition, named_build.as_deref()).await?;
    let understood = loaded
        .understanding
        .parse(&text, tasks.as_deref(), call.state.turns.now());
    let task_sid = understood
        .task
        .as_deref()
        .and_then(|name| ids.task_sid(&definition, name));
    let results = json!({
        "task": {
            "name": understood.task,
            "task_sid": task_sid,
            "confidence": understood.confidence,
        },
        "fields": understood.fields.iter().map(|field| json!({
            "name": field.name,
            "value": field.value,
            "type": field.field_type,
        })).collect::<Vec<_>>(),
        "next_best_task": understood.next_best_task,
    });
    let new = NewQuery {
        language,
        query: text,
        model_build_sid: Some(loaded.build_sid.clone()),
        results,
        source_channel: None,
        dialogue_sid: None,
        status: None,
    };
    let record = if definition_logs_queries(&call, &ids).await? {
        call.store()
            .create_query(call.account(), ids.sid.as_str(), new)
            .await
            .api()?
    } else {
        // Not kept: the answer is the same, under a SID that will not resolve.
        let now = call.store().now();
        QueryRecord {
            sid: Sid::generate(SidPrefix::Query),
            account_sid: call.account().clone(),
            assistant_sid: ids.sid.clone(),
            language: new.language,
            query: new.query,
            model_build_sid: new.model_build_sid,
            results: new.results,
            sample_sid: None,
            status: otto_store::DEFAULT_QUERY_STATUS.to_owned(),
            source_channel: None,
            dialogue_sid: None,
            date_created: now,
            date_updated: now,
        }
    };
    Ok(created(render(&call, &record)))
}

async fn definition_logs_queries(call: &Call, ids: &AssistantIds) -> Result<bool, ApiError> {
    let record = call
        .store()
        .fetch_assistant(call.account(), ids.sid.as_str())
        .await
        .api()?;
    Ok(record.log_queries)
}

async fn list(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let page = call.page()?;
    let query = &call.query;
    let filter = QueryFilter {
        language: query.optional("Language", SHORT_LIMIT)?,
        model_build: query.optional("ModelBuild", UNIQUE_NAME_LIMIT)?,
        status: query.one_of("Status", &QUERY_STATUSES)?,
        dialogue_sid: query
            .sid("DialogueSid", SidPrefix::Dialogue)?
            .map(|sid| sid.to_string()),
    };
    let listed = list_page(&page, |request| {
        let (assistant, call, filter) = (assistant.clone(), &call, &filter);
        async move {
            call.store()
                .list_queries(call.account(), &assistant, filter, &request)
                .await
        }
    })
    .await?;
    let filters = [
        ("Language", filter.language.as_deref()),
        ("ModelBuild", filter.model_build.as_deref()),
        ("Status", filter.status.as_deref()),
        ("DialogueSid", filter.dialogue_sid.as_deref()),
    ];
    Ok(list_body(
        &call,
        "queries",
        &page,
        &filters,
        listed,
        |record| render(&call, record),
    ))
}

async fn fetch(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_query(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn update(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let sample_sid = match call.form.get("SampleSid") {
        None => None,
        Some("") => Some(None),
        Some(_) => Some(call.form.sid("SampleSid", SidPrefix::Sample)?),
    };
    let update = QueryUpdate {
        sample_sid,
        status: call.form.one_of("Status", &QUERY_STATUSES)?,
    };
    let record = call
        .store()
        .update_query(call.account(), &assistant, &sid, update)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn remove(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    call.store()
        .delete_query(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(deleted())
}
