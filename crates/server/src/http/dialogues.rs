//! `GET /v1/Assistants/{AssistantSid}/Dialogues/{Sid}`: the live dialogue
//! that `DialoguePayloadUrl` points at (404 once it ended).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::error::ApiError;
use super::rest::Ids;
use super::{AppState, auth};

pub async fn fetch(
    State(state): State<AppState>,
    Ids((assistant, dialogue)): Ids<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    auth::check(&headers, &state).await?;
    let record = state
        .turns
        .store()
        .fetch_dialogue(&state.account.sid, &assistant, &dialogue)
        .await?;
    let url = otto_engine::request::dialogue_payload_url(
        &state.public_url,
        record.assistant_sid.as_str(),
        record.sid.as_str(),
    );
    Ok(Json(json!({
        "account_sid": record.account_sid,
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "data": {
            "user_identifier": record.user_identifier,
            "channel": record.channel,
            "memory": record.state.memory,
            "current_task": record.state.current_task,
            "waiting": record.state.waiting,
            "turn_count": record.turn_count,
            "date_created": rfc3339(record.date_created),
            "last_input_at": rfc3339(record.last_input_at),
        },
        "url": url,
    })))
}

fn rfc3339(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
