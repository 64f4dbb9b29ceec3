//! The HTTP front: axum routes for the custom channel, the live dialogue
//! resource and the health probe. Channels only translate: every turn goes
//! through [`crate::turns::TurnService`].

mod auth;
mod custom_channel;
mod dialogues;
pub mod error;
pub mod form;
pub mod render;
pub mod rest;
mod twilio_messaging;
mod twilio_voice;
mod twilio_webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use otto_store::Account;
use serde_json::json;

use crate::turns::TurnService;
use error::{ApiError, METHOD_NOT_ALLOWED};

/// Largest request body accepted (a custom-channel form with a 16 KB `Memory`
/// fits easily).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub turns: Arc<TurnService>,
    pub account: Account,
    /// The public base URL (for `url` properties).
    pub public_url: String,
    pub body_limit: usize,
    /// Whether Twilio webhooks must carry a valid `X-Twilio-Signature`.
    pub check_signatures: bool,
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(
            "/v2/{account_sid}/{assistant_sid}/custom/{channel}",
            post(custom_channel::v2),
        )
        .route(
            "/v1/{account_sid}/{assistant_sid}/custom/{channel}",
            post(custom_channel::v1),
        )
        .route(
            "/v1/Assistants/{assistant_sid}/Dialogues/{sid}",
            get(dialogues::fetch),
        )
        .route(
            "/v1/{account_sid}/{assistant_sid}/twilio-messaging",
            post(twilio_messaging::handle),
        )
        .route(
            "/v1/{account_sid}/{assistant_sid}/twilio-voice",
            post(twilio_voice::handle),
        )
        .merge(rest::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// `GET /health`: 200 when the database answers, 503 otherwise.
async fn health(State(state): State<AppState>) -> Response {
    match state.turns.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(json!({"status": "ok", "database": "ok"})),
        )
            .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable", "database": error.to_string()})),
        )
            .into_response(),
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "The requested resource {} was not found",
        uri.path()
    ))
}

async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}
