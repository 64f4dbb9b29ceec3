//! The Autopilot v1 REST API (`/v1/Assistants…`, reference section 2), one
//! file per resource family:
//!
//! | file | resources |
//! |---|---|
//! | `assistants.rs` | Assistants, Restore, Defaults, StyleSheet |
//! | `tasks.rs` | Tasks, TaskActions, TaskStatistics, Fields, Samples |
//! | `field_types.rs` | FieldTypes, FieldValues |
//! | `model_builds.rs` | ModelBuilds |
//! | `queries.rs` | Queries |
//! | `webhooks.rs` | Webhooks |
//! | `keys.rs` | API keys, as Twilio's 2010 API has them (`/2010-04-01/Accounts/{Sid}/Keys.json`) |
//! | `openapi.rs` | `GET /v1/openapi.json`, the description of what otto serves |
//!
//! This file holds what they share: the [`Call`] extractor (HTTP Basic auth,
//! the form body with its limits, the query string), parameter readers that
//! name the parameter in their errors, paging (`meta`), dates and URLs.
//! The Dialogues resource lives in `http/dialogues.rs` (it predates this module).

mod assistants;
mod field_types;
mod keys;
mod model_builds;
mod openapi;
mod queries;
mod tasks;
mod webhooks;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use otto_store::{Page, PageRequest, StoreError};
use serde_json::{Map, Value, json};

use super::error::{ApiError, INVALID_PARAMETER};
use super::{AppState, auth};

pub use openapi::OPENAPI_PATH;

/// Twilio's limit on `FriendlyName`.
pub const FRIENDLY_NAME_LIMIT: usize = otto_model::assistant::FRIENDLY_NAME_LIMIT;
/// Twilio's limit on `UniqueName`.
pub const UNIQUE_NAME_LIMIT: usize = otto_model::assistant::UNIQUE_NAME_LIMIT;
/// Twilio's limit on a query's text; otto uses it for `TaggedText`, `Tasks`
/// and `SynonymOf` too (Autopilot documented none for those).
pub const TEXT_LIMIT: usize = 2048;
/// URLs (`ActionsUrl`, `WebhookUrl`, `CallbackUrl`, `StatusCallback`).
pub const URL_LIMIT: usize = 2048;
/// JSON documents given as parameters (`StyleSheet`, `Defaults`); `Actions`
/// has the model's own 16 KB limit with error 90100.
pub const JSON_PARAMETER_LIMIT: usize = 16 * 1024;
/// Short strings such as `Language`, `Status`, `SourceChannel`, `Events`.
pub const SHORT_LIMIT: usize = 1024;

/// HTTP 409 for a unique name or value that is taken, a field type in use:
/// the request is valid but conflicts with what is stored.
const CONFLICT_CODE: u32 = INVALID_PARAMETER;

/// The REST routes (merged into [`super::router`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(assistants::router())
        .merge(tasks::router())
        .merge(field_types::router())
        .merge(model_builds::router())
        .merge(queries::router())
        .merge(webhooks::router())
        .merge(keys::router())
        .merge(openapi::router())
}

/// The path's parameters, like axum's `Path`, but a segment that does not
/// decode (invalid percent-encoded UTF-8) is Twilio's 400 rather than axum's
/// plain-text answer, given after the credentials are checked.
pub(crate) struct Ids<T>(pub T);

impl<T> axum::extract::FromRequestParts<AppState> for Ids<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Ids<T>, ApiError> {
        match WebhookIds::<T>::from_request_parts(parts, state).await {
            Ok(WebhookIds(value)) => Ok(Ids(value)),
            Err(malformed) => {
                // Credentials first, as for every other refusal.
                auth::check(&parts.headers, state).await?;
                Err(malformed)
            }
        }
    }
}

/// Like [`Ids`] for the Twilio webhooks, which carry Twilio's signature
/// instead of credentials (checked by the handler once the path is read).
pub(crate) struct WebhookIds<T>(pub T);

impl<T> axum::extract::FromRequestParts<AppState> for WebhookIds<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<WebhookIds<T>, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(WebhookIds(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "the URL path {} is malformed: {}",
                parts.uri.path(),
                rejection.body_text()
            ))),
        }
    }
}

/// One authenticated REST request: its parameters (form body for POST, query
/// string for GET) and what is needed to write URLs.
pub(crate) struct Call {
    pub state: AppState,
    /// What the request authenticated with (API keys may not manage keys).
    pub credential: auth::Credential,
    pub form: Params,
    pub query: Params,
    pub path: String,
}

impl FromRequest<AppState> for Call {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Call, ApiError> {
        let (parts, body) = request.into_parts();
        let credential = auth::check(&parts.headers, state).await?;
        let query = Params::parse(parts.uri.query().unwrap_or("").as_bytes(), "query string")?;
        let form = read_form(&parts.headers, body, state.body_limit).await?;
        Ok(Call {
            state: state.clone(),
            credential,
            form,
            query,
            path: parts.uri.path().to_owned(),
        })
    }
}

impl Call {
    pub fn store(&self) -> &otto_store::Store {
        self.state.turns.store()
    }

    pub fn account(&self) -> &otto_model::Sid {
        &self.state.account.sid
    }

    /// `https://host/v1/…` for a path starting with `/v1/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.state.public_url.trim_end_matches('/'))
    }

    /// The page the query string asks for (`PageSize`, `Page`, `PageToken`).
    pub fn page(&self) -> Result<PageParams, ApiError> {
        PageParams::read(&self.query)
    }
}

/// Reads the form body: `application/x-www-form-urlencoded` (or no content
/// type with an empty body), at most `limit` bytes, valid UTF-8 after
/// percent-decoding, each parameter once.
async fn read_form(headers: &HeaderMap, body: Body, limit: usize) -> Result<Params, ApiError> {
    let bytes = super::form::read_body(headers, body, limit).await?;
    if bytes.is_empty() {
        return Ok(Params::default());
    }
    if let Some(content_type) = super::form::not_form(headers) {
        return Err(ApiError::bad_request(format!(
            "the request body must be {} (parameters such as FriendlyName=…&UniqueName=…), not {:?}",
            super::form::FORM,
            if content_type.is_empty() {
                "no Content-Type"
            } else {
                content_type
            }
        )));
    }
    Params::parse(&bytes, "form body")
}

/// Request parameters in the order given; each name at most once.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2`, refusing percent-escapes that do not decode to UTF-8
    /// and names given twice (Autopilot has no list parameters, so a repeated
    /// name is a client bug whose intent is unclear).
    fn parse(bytes: &[u8], what: &str) -> Result<Params, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in bytes
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
        {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(at) => (&piece[..at], &piece[at + 1..]),
                None => (piece, &b""[..]),
            };
            let name = decode(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "the {what} is malformed: a parameter name is not valid percent-encoded UTF-8"
                ))
            })?;
            let value = decode(value).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "the {what} is malformed: the value of {name} is not valid percent-encoded UTF-8"
                ))
            })?;
            if name.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "the {what} is malformed: a parameter has no name"
                )));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(ApiError::bad_request(format!(
                    "parameter {name} is given twice in the {what}; give it once"
                )));
            }
            pairs.push((name, value));
        }
        Ok(Params(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A required string of 1 to `limit` characters.
    pub fn required(&self, name: &str, limit: usize) -> Result<String, ApiError> {
        match self.optional(name, limit)? {
            Some(value) if !value.trim().is_empty() => Ok(value),
            Some(_) => Err(ApiError::bad_request(format!(
                "parameter {name} must not be empty"
            ))),
            None => Err(ApiError::bad_request(format!(
                "missing required parameter {name}"
            ))),
        }
    }

    /// An optional string of at most `limit` characters.
    pub fn optional(&self, name: &str, limit: usize) -> Result<Option<String>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let length = value.chars().count();
        if length > limit {
            return Err(ApiError::bad_request(format!(
                "parameter {name} is {length} characters long; at most {limit} are allowed"
            )));
        }
        Ok(Some(value.to_owned()))
    }

    /// An optional string where an empty value means "clear it" (`Some(None)`).
    pub fn clearable(&self, name: &str, limit: usize) -> Result<Option<Option<String>>, ApiError> {
        Ok(self
            .optional(name, limit)?
            .map(|value| (!value.is_empty()).then_some(value)))
    }

    /// `UniqueName`: 1 to 64 characters.
    pub fn unique_name(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.optional(name, UNIQUE_NAME_LIMIT)? {
            Some(value) if value.trim().is_empty() => Err(ApiError::bad_request(format!(
                "parameter {name} must not be empty"
            ))),
            other => Ok(other),
        }
    }

    /// `true` / `false` (any case; the helper libraries send lower case).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(value) => Err(ApiError::bad_request(format!(
                "parameter {name} must be true or false, not {value:?}"
            ))),
        }
    }

    /// An http(s) URL.
    pub fn url(&self, name: &str) -> Result<Option<String>, ApiError> {
        let Some(value) = self.optional(name, URL_LIMIT)? else {
            return Ok(None);
        };
        check_url(name, &value)?;
        Ok(Some(value))
    }

    /// A URL where an empty value clears it.
    pub fn clearable_url(&self, name: &str) -> Result<Option<Option<String>>, ApiError> {
        let Some(value) = self.optional(name, URL_LIMIT)? else {
            return Ok(None);
        };
        if value.is_empty() {
            return Ok(Some(None));
        }
        check_url(name, &value)?;
        Ok(Some(Some(value)))
    }

    /// A JSON document given as a string (`StyleSheet`, `Defaults`).
    pub fn json(&self, name: &str) -> Result<Option<Value>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        if text.len() > JSON_PARAMETER_LIMIT {
            return Err(ApiError::bad_request(format!(
                "parameter {name} is {} bytes; at most {JSON_PARAMETER_LIMIT} are allowed",
                text.len()
            )));
        }
        serde_json::from_str(text).map(Some).map_err(|error| {
            ApiError::bad_request(format!("parameter {name} is not valid JSON: {error}"))
        })
    }

    /// One of a fixed set of values.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        if allowed.contains(&value) {
            Ok(Some(value.to_owned()))
        } else {
            Err(ApiError::bad_request(format!(
                "parameter {name} is {value:?}; it must be one of {}",
                allowed.join(", ")
            )))
        }
    }

    /// A SID of one kind.
    pub fn sid(
        &self,
        name: &str,
        prefix: otto_model::SidPrefix,
    ) -> Result<Option<otto_model::Sid>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        otto_model::Sid::parse_kind(value, prefix)
            .map(Some)
            .map_err(|error| ApiError::bad_request(format!("parameter {name}: {error}")))
    }
}

fn check_url(name: &str, value: &str) -> Result<(), ApiError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !value.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(ApiError::bad_request(format!(
            "parameter {name} must be an http:// or https:// URL, not {value:?}"
        ))),
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
fn decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// `PageSize`, `Page` and `PageToken` of a list request.
#[derive(Debug, Clone)]
pub(crate) struct PageParams {
    pub size: u32,
    pub page: u64,
    pub token: Option<String>,
}

impl PageParams {
    fn read(query: &Params) -> Result<PageParams, ApiError> {
        let size = match query.get("PageSize") {
            None => otto_store::DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<u32>() {
                Ok(size) if (1..=otto_store::MAX_PAGE_SIZE).contains(&size) => size,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "PageSize must be a whole number from 1 to {}, not {text:?}",
                        otto_store::MAX_PAGE_SIZE
                    )));
                }
            },
        };
        let page = match query.get("Page") {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "Page must be a whole number from 0 up, not {text:?}"
                ))
            })?,
        };
        let token = query
            .get("PageToken")
            .filter(|token| !token.is_empty())
            .map(str::to_owned);
        Ok(PageParams { size, page, token })
    }

    fn request(&self) -> PageRequest {
        PageRequest {
            page_size: self.size,
            page_token: self.token.clone(),
        }
    }
}

/// Lists one page. `Page=N` without a `PageToken` (a client that counts pages
/// itself) walks N pages forward from the first.
pub(crate) async fn list_page<T, F, Fut>(
    page: &PageParams,
    mut fetch: F,
) -> Result<Page<T>, ApiError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    if page.token.is_some() || page.page == 0 {
        return Ok(fetch(page.request()).await?);
    }
    let mut current = fetch(PageRequest::first(page.size)).await?;
    for _ in 0..page.page {
        match current.next_page_token.clone() {
            Some(token) => current = fetch(PageRequest::at(page.size, &token)).await?,
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next_page_token: None,
                    previous_page_token: None,
                });
            }
        }
    }
    Ok(current)
}

/// The list body: `{key: [...], meta: {...}}`. `filters` are echoed in the
/// page URLs before the paging parameters, as Twilio does.
pub(crate) fn list_body<T>(
    call: &Call,
    key: &str,
    page: &PageParams,
    filters: &[(&str, Option<&str>)],
    listed: Page<T>,
    render: impl Fn(&T) -> Value,
) -> Response {
    let base = call.url(&call.path);
    let page_url = |number: u64, token: Option<&str>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in filters {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        query.append_pair("PageSize", &page.size.to_string());
        query.append_pair("Page", &number.to_string());
        if let Some(token) = token {
            query.append_pair("PageToken", token);
        }
        format!("{base}?{}", query.finish())
    };
    let next = listed
        .next_page_token
        .as_deref()
        .map(|token| page_url(page.page + 1, Some(token)));
    let previous = listed
        .previous_page_token
        .as_deref()
        .map(|token| page_url(page.page.saturating_sub(1), Some(token)));
    let items: Vec<Value> = listed.items.iter().map(render).collect();
    let mut body = Map::new();
    body.insert(key.to_owned(), Value::Array(items));
    body.insert(
        "meta".to_owned(),
        json!({
            "first_page_url": page_url(0, None),
            "key": key,
            "next_page_url": next,
            "page": page.page,
            "page_size": page.size,
            "previous_page_url": previous,
            "url": page_url(page.page, page.token.as_deref()),
        }),
    );
    (StatusCode::OK, axum::Json(Value::Object(body))).into_response()
}

/// 201 with the created resource.
pub(crate) fn created(body: Value) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// 200 with the resource.
pub(crate) fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// 204, no body.
pub(crate) fn deleted() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Store errors as REST errors: conflicts (a unique name taken, a field type
/// in use) are 409 with the store's message; the rest as [`ApiError::from`].
pub(crate) fn store_error(error: StoreError) -> ApiError {
    match &error {
        StoreError::UniqueNameTaken { .. }
        | StoreError::ValueTaken { .. }
        | StoreError::InUse { .. }
        | StoreError::WrongStatus { .. } => {
            ApiError::new(StatusCode::CONFLICT, CONFLICT_CODE, error.to_string())
        }
        _ => ApiError::from(error),
    }
}

/// Epoch seconds as Twilio's ISO-8601 UTC (`2015-07-30T20:00:00Z`).
pub(crate) fn date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Handler results: a response or a Twilio error.
pub(crate) type Answer = Result<Response, ApiError>;

/// `?` on store results inside handlers.
pub(crate) trait OrApi<T> {
    fn api(self) -> Result<T, ApiError>;
}

impl<T> OrApi<T> for Result<T, StoreError> {
    fn api(self) -> Result<T, ApiError> {
        self.map_err(store_error)
    }
}

/// The path of an assistant's resource by SID: `/v1/Assistants/UA…/rest`.
pub(crate) fn assistant_path(assistant: &otto_model::Sid, rest: &str) -> String {
    if rest.is_empty() {
        format!("/v1/Assistants/{assistant}")
    } else {
        format!("/v1/Assistants/{assistant}/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms_strictly() {
        let params = Params::parse(b"A=1+2&B=%C3%A9t%C3%A9&C=&D", "form body").unwrap();
        assert_eq!(params.get("A"), Some("1 2"));
        assert_eq!(params.get("B"), Some("été"));
        assert_eq!(params.get("C"), Some(""));
        assert_eq!(params.get("D"), Some(""));
        let twice = Params::parse(b"A=1&A=2", "form body").unwrap_err();
        assert_eq!(
            twice.message,
            "parameter A is given twice in the form body; give it once"
        );
        let bad = Params::parse(b"A=%FF", "form body").unwrap_err();
        assert!(
            bad.message.contains("value of A is not valid"),
            "{}",
            bad.message
        );
        assert!(Params::parse(b"=x", "form body").is_err());
    }

    #[test]
    fn reads_parameters_with_limits() {
        let params = Params::parse(b"N=abc&B=TRUE&U=ftp://x&E=", "form body").unwrap();
        assert_eq!(params.optional("N", 3).unwrap().as_deref(), Some("abc"));
        assert!(params.optional("N", 2).is_err());
        assert_eq!(params.boolean("B").unwrap(), Some(true));
        assert!(params.boolean("N").is_err());
        assert!(params.url("U").is_err());
        assert_eq!(params.clearable("E", 5).unwrap(), Some(None));
        assert!(params.required("E", 5).is_err());
        assert!(params.required("missing", 5).is_err());
        assert!(check_url("X", "https://example.com/a?b=c").is_ok());
        assert!(check_url("X", "https:///a").is_err());
    }

    #[test]
    fn formats_dates() {
        assert_eq!(date(1_773_223_200), "2026-03-11T10:00:00Z");
    }
}
