//! The custom channel (reference 14): v2 `POST /v2/{AccountSid}/{AssistantSid}/custom/{ChannelName}`
//! with `UserId`, `Text`, `Language`, `TargetTask`, `Memory`, and the deprecated
//! v1 form `POST /v1/{AccountSid}/{AssistantSid}/custom/{ChannelName}` with
//! `text` and `user_id`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use otto_engine::TurnInput;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::rest::Ids;
use super::{AppState, auth, form, render};

/// Which version of the channel API a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

pub async fn v2(
    State(state): State<AppState>,
    Ids((account, assistant, channel)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        state,
        Version::V2,
        &account,
        &assistant,
        &channel,
        &uri,
        &headers,
        body,
    )
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

pub async fn v1(
    State(state): State<AppState>,
    Ids((account, assistant, channel)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        state,
        Version::V1,
        &account,
        &assistant,
        &channel,
        &uri,
        &headers,
        body,
    )
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    state: AppState,
    version: Version,
    account: &str,
    assistant: &str,
    channel: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    auth::check(headers, &state).await?;
    if account != state.account.sid.as_str() {
        return Err(ApiError::not_found(format!(
            "account {account:?} was not found: this server runs account {}",
            state.account.sid
        )));
    }
    let params = form::read_pairs(
        headers,
        body,
        state.body_limit,
        "form fields UserId, Text, Language…",
    )
    .await?;
    let input = turn_input(version, channel, uri, &params)?;
    let outcome = state.turns.turn(assistant, input).await?;
    let response = render::response(&outcome.result.output);
    let body = match version {
        Version::V2 => json!({
            "response": response,
            "dialogue": {
                "sid": outcome.result.state.sid,
                "ended": outcome.result.state.ended,
            },
        }),
        Version::V1 => response,
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn query_params(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

fn turn_input(
    version: Version,
    channel: &str,
    uri: &Uri,
    params: &[(String, String)],
) -> Result<TurnInput, ApiError> {
    let (user_name, text_name) = match version {
        Version::V2 => ("UserId", "Text"),
        Version::V1 => ("user_id", "text"),
    };
    let user = param(params, user_name).map(str::trim).unwrap_or("");
    if user.is_empty() {
        return Err(ApiError::bad_request(format!(
            "missing required parameter {user_name}: the form field that identifies the end user"
        )));
    }
    let Some(text) = param(params, text_name) else {
        return Err(ApiError::bad_request(format!(
            "missing required parameter {text_name}: the form field with what the user said"
        )));
    };
    if channel.is_empty() {
        return Err(ApiError::bad_request(
            "the channel name in the URL is empty",
        ));
    }
    // `TargetTask` and `Memory` may also come in the URL's query string, as
    // on Autopilot's channel URLs; the form wins.
    let query = query_params(uri);
    let lookup = |name: &str| param(params, name).or_else(|| param(&query, name));
    let target_task = lookup("TargetTask")
        .map(str::trim)
        .filter(|task| !task.is_empty())
        .map(str::to_owned);
    let inbound_memory = lookup("Memory")
        .filter(|memory| !memory.trim().is_empty())
        .map(parse_memory)
        .transpose()?;
    Ok(TurnInput {
        target_task,
        inbound_memory,
        ..TurnInput::message(user, channel, text)
    })
}

fn parse_memory(text: &str) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::bad_request(format!(
            "Memory must be a JSON object, got {}",
            kind(&other)
        ))),
        Err(error) => Err(ApiError::bad_request(format!(
            "Memory is not valid JSON: {error}"
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn v2_fields() {
        let uri: Uri = "/v2/AC/UA/custom/web?TargetTask=greeting&Memory=%7B%22a%22%3A1%7D"
            .parse()
            .unwrap();
        let input = turn_input(
            Version::V2,
            "web",
            &uri,
            &form(&[("UserId", "u1"), ("Text", "hi"), ("Language", "en-US")]),
        )
        .unwrap();
        assert_eq!(input.user_identifier, "u1");
        assert_eq!(input.channel, "web");
        assert_eq!(input.text, "hi");
        assert_eq!(input.target_task.as_deref(), Some("greeting"));
        assert_eq!(input.inbound_memory, json!({"a": 1}).as_object().cloned());
        // The form wins over the query string.
        let input = turn_input(
            Version::V2,
            "web",
            &uri,
            &form(&[("UserId", "u1"), ("Text", "hi"), ("TargetTask", "other")]),
        )
        .unwrap();
        assert_eq!(input.target_task.as_deref(), Some("other"));
    }

    #[test]
    fn precise_errors() {
        let uri: Uri = "/v2/AC/UA/custom/web".parse().unwrap();
        let message = |version, list: &[(&str, &str)]| {
            turn_input(version, "web", &uri, &form(list))
                .unwrap_err()
                .message
        };
        assert_eq!(
            message(Version::V2, &[("Text", "hi")]),
            "missing required parameter UserId: the form field that identifies the end user"
        );
        assert_eq!(
            message(Version::V2, &[("UserId", " "), ("Text", "hi")]),
            "missing required parameter UserId: the form field that identifies the end user"
        );
        assert_eq!(
            message(Version::V2, &[("UserId", "u")]),
            "missing required parameter Text: the form field with what the user said"
        );
        assert_eq!(
            message(Version::V1, &[("UserId", "u"), ("Text", "x")]),
            "missing required parameter user_id: the form field that identifies the end user"
        );
        assert_eq!(
            message(
                Version::V2,
                &[("UserId", "u"), ("Text", "x"), ("Memory", "[1]")]
            ),
            "Memory must be a JSON object, got an array"
        );
        assert_eq!(
            message(
                Version::V2,
                &[("UserId", "u"), ("Text", "x"), ("Memory", "{")]
            ),
            "Memory is not valid JSON: EOF while parsing an object at line 1 column 1"
        );
    }
}
