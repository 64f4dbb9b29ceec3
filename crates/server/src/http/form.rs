//! Reading form bodies, the one format Twilio's webhooks and the Autopilot
//! API speak: the size limit (declared and actual) and the content type are
//! checked the same way on every route.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};

use super::error::{ApiError, INVALID_PARAMETER};

pub const FORM: &str = "application/x-www-form-urlencoded";

/// The body, refused with 413 when its `Content-Length` or its actual size
/// is over `limit` bytes (reading stops at the limit).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            INVALID_PARAMETER,
            format!("the body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// The `Content-Type` header's value when it is not a form (`""` when
/// absent), for the caller's error message.
pub fn not_form(headers: &HeaderMap) -> Option<&str> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("?"))
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    (!mime.eq_ignore_ascii_case(FORM)).then_some(content_type)
}

/// A form body as name/value pairs (no content type is taken as a form);
/// `what` names the expected fields in the error for any other type.
pub async fn read_pairs(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    if headers.contains_key(header::CONTENT_TYPE)
        && let Some(content_type) = not_form(headers)
    {
        return Err(ApiError::bad_request(format!(
            "the body must be {FORM} ({what}), not {content_type:?}"
        )));
    }
    let bytes = read_body(headers, body, limit).await?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}
