//! What the Twilio channel webhooks share: reading Twilio's form, checking
//! `X-Twilio-Signature` (reference 20), the account in the path, the
//! `TargetTask` and `Memory` query parameters, and the TwiML answer.
//!
//! Twilio webhooks carry no HTTP Basic credentials: the signature is their
//! authentication. It is computed by Twilio over the URL it requested (our
//! public URL, the path and the query string exactly as received) followed by
//! the sorted form parameters, keyed with the account's auth token.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::AppState;
use super::error::ApiError;
use crate::signature;
use crate::twiml;

/// Twilio's "403 Forbidden" error code, for a webhook whose signature does
/// not match.
pub const FORBIDDEN: u32 = 20403;

/// A Twilio webhook request that passed the checks.
pub struct Webhook {
    /// The form parameters, in order.
    pub params: Vec<(String, String)>,
    /// The query parameters of the URL Twilio requested.
    pub query: Vec<(String, String)>,
}

impl Webhook {
    /// A form parameter; empty values count as absent.
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name).filter(|value| !value.is_empty())
    }

    /// A form parameter Twilio always sends; a 400 naming it when missing.
    pub fn required(&self, name: &str, what: &str) -> Result<&str, ApiError> {
        self.param(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "missing required parameter {name}: {what} (Twilio sends it with every webhook)"
            ))
        })
    }

    /// `TargetTask` from the query string.
    pub fn target_task(&self) -> Option<String> {
        find(&self.query, "TargetTask")
            .map(str::trim)
            .filter(|task| !task.is_empty())
            .map(str::to_owned)
    }

    /// `Memory` from the query string: a JSON object, or a 400.
    pub fn inbound_memory(&self) -> Result<Option<Map<String, Value>>, ApiError> {
        let Some(text) = find(&self.query, "Memory").filter(|text| !text.trim().is_empty()) else {
            return Ok(None);
        };
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(ApiError::bad_request(
                "the Memory query parameter must be a JSON object",
            )),
            Err(error) => Err(ApiError::bad_request(format!(
                "the Memory query parameter is not valid JSON: {error}"
            ))),
        }
    }

    /// The named form parameters that are present, as a memory object.
    pub fn values_of(&self, names: &[&str]) -> Map<String, Value> {
        names
            .iter()
            .filter_map(|name| {
                self.param(name)
                    .map(|value| ((*name).to_owned(), Value::from(value)))
            })
            .collect()
    }
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Reads and checks a Twilio webhook: form body within the limit, a valid
/// signature (unless the check is switched off), this server's account.
/// Nothing is stored before these pass.
pub async fn receive(
    state: &AppState,
    account: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Webhook, ApiError> {
    let params =
        super::form::read_pairs(headers, body, state.body_limit, "Twilio's webhook form").await?;
    if state.check_signatures {
        let url = public_request_url(&state.public_url, uri);
        let given = headers
            .get(signature::HEADER)
            .and_then(|value| value.to_str().ok());
        let Some(given) = given else {
            return Err(forbidden(format!(
                "the request has no {} header: Twilio signs every webhook with the account's auth token",
                signature::HEADER
            )));
        };
        let valid = url_variants(&url)
            .iter()
            .any(|url| signature::verify(&state.account.auth_token, url, &params, given));
        if !valid {
            return Err(forbidden(format!(
                "the {} header does not match the request: it must be signed with the account's auth token over {url} and the form parameters (is the server's public URL right?)",
                signature::HEADER
            )));
        }
    }
    if account != state.account.sid.as_str() {
        return Err(ApiError::not_found(format!(
            "account {account:?} was not found: this server runs account {}",
            state.account.sid
        )));
    }
    let query = uri
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    Ok(Webhook { params, query })
}

fn forbidden(message: String) -> ApiError {
    tracing::warn!("Twilio webhook refused: {message}");
    ApiError::new(StatusCode::FORBIDDEN, FORBIDDEN, message)
}

/// The URL Twilio requested: the public base URL, the path and the query
/// string exactly as received.
pub fn public_request_url(public_url: &str, uri: &Uri) -> String {
    let mut url = public_url.trim_end_matches('/').to_owned();
    url.push_str(uri.path());
    if let Some(query) = uri.query() {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// The URL as given and with the default port added or removed: Twilio's own
/// validators accept either, since proxies differ in what they pass on.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(host_end);
    match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port => {
            variants.push(format!("{scheme}://{host}{tail}"));
        }
        Some((_, port)) if port.chars().all(|c| c.is_ascii_digit()) => {}
        _ => variants.push(format!("{scheme}://{authority}:{default_port}{tail}")),
    }
    variants
}

/// A 200 TwiML answer.
pub fn twiml_response(document: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, twiml::CONTENT_TYPE)],
        document,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_url_is_the_public_url_with_path_and_raw_query() {
        let uri: Uri = "/v1/AC1/UA1/twilio-messaging?TargetTask=a%20b&Memory=%7B%7D"
            .parse()
            .unwrap();
        assert_eq!(
            public_request_url("https://bots.example/", &uri),
            "https://bots.example/v1/AC1/UA1/twilio-messaging?TargetTask=a%20b&Memory=%7B%7D"
        );
        let uri: Uri = "/v1/AC1/UA1/twilio-voice".parse().unwrap();
        assert_eq!(
            public_request_url("http://127.0.0.1:8080", &uri),
            "http://127.0.0.1:8080/v1/AC1/UA1/twilio-voice"
        );
    }

    #[test]
    fn default_ports_are_optional() {
        assert_eq!(
            url_variants("https://a.example/x?y=1"),
            vec!["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
        );
        assert_eq!(
            url_variants("https://a.example:443/x"),
            vec!["https://a.example:443/x", "https://a.example/x"]
        );
        assert_eq!(
            url_variants("http://127.0.0.1:8080/x"),
            vec!["http://127.0.0.1:8080/x"]
        );
        assert_eq!(url_variants("http://h"), vec!["http://h", "http://h:80"]);
    }
}
