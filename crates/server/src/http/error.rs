//! Twilio's REST error body: `{code, message, more_info, status}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Authentication failed (no or wrong credentials).
pub const AUTHENTICATE: u32 = 20003;
/// The request names something that does not exist.
pub const NOT_FOUND: u32 = 20404;
/// A parameter is missing or has a wrong value.
pub const INVALID_PARAMETER: u32 = 20001;
/// The method is not allowed on this resource.
pub const METHOD_NOT_ALLOWED: u32 = 20004;
/// Something failed on otto's side.
pub const INTERNAL: u32 = 20500;
/// Try again later (database unreachable, assistant still training).
pub const UNAVAILABLE: u32 = 20503;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    pub code: u32,
    pub message: String,
    pub more_info: String,
    pub status: u16,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            more_info: format!("https://www.twilio.com/docs/errors/{code}"),
            status: status.as_u16(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, INVALID_PARAMETER, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, AUTHENTICATE, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let mut response = (status, Json(self)).into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"otto\""),
            );
        }
        response
    }
}

impl From<otto_store::StoreError> for ApiError {
    fn from(error: otto_store::StoreError) -> ApiError {
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match status.as_u16() {
            404 => NOT_FOUND,
            400 => INVALID_PARAMETER,
            // Conflicts of concurrent changes: the same request may succeed later.
            409 | 503 => UNAVAILABLE,
            _ => INTERNAL,
        };
        if code == INTERNAL {
            tracing::error!(%error, "store");
        }
        ApiError::new(status, code, error.to_string())
    }
}

impl From<crate::turns::TurnError> for ApiError {
    fn from(error: crate::turns::TurnError) -> ApiError {
        use crate::builds::BuildError;
        use crate::turns::TurnError;
        match error {
            TurnError::AssistantNotFound { .. } => ApiError::not_found(error.to_string()),
            TurnError::NotTrained { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                UNAVAILABLE,
                error.to_string(),
            ),
            TurnError::Store(error) | TurnError::Build(BuildError::Store(error)) => error.into(),
            TurnError::Build(error) => {
                tracing::error!(%error, "model");
                ApiError::internal(error.to_string())
            }
        }
    }
}
