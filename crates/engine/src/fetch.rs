//! Remote actions as the engine sees them: a request to make and a trait that
//! makes it (implemented elsewhere with an HTTP client).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use otto_model::actions::HttpMethod;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long Autopilot waited for a task URL, redirect URL or webhook.
pub const FETCH_TIMEOUT_SECONDS: u64 = 10;
/// The largest response body Autopilot accepted: 16 KB.
pub const RESPONSE_SIZE_LIMIT: usize = otto_model::actions::ACTIONS_SIZE_LIMIT;

/// GET or POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<HttpMethod> for Method {
    fn from(method: HttpMethod) -> Method {
        match method {
            HttpMethod::Get => Method::Get,
            HttpMethod::Post => Method::Post,
        }
    }
}

/// One call to an author's URL: a task's `actions_url`, a redirect URL, a
/// default target URL or a collect validation webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteRequest {
    pub url: String,
    pub method: Method,
    /// The Autopilot request parameters (reference 4), in the order Autopilot
    /// documents them: a form body for POST, the query string for GET.
    pub params: Vec<(String, String)>,
}

impl RemoteRequest {
    /// The value of a parameter, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// "10 seconds", "1 second", "300 ms".
fn wait_text(millis: u64) -> String {
    match (millis / 1000, millis % 1000) {
        (1, 0) => "1 second".to_owned(),
        (seconds, 0) => format!("{seconds} seconds"),
        _ => format!("{millis} ms"),
    }
}

/// Why a remote call gave no usable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FetchError {
    /// No answer within the fetcher's timeout, `millis` milliseconds.
    #[error("no answer within {}", wait_text(*.millis))]
    Timeout { millis: u64 },
    #[error("the server answered with HTTP status {status}")]
    Status { status: u16 },
    #[error("the response is not valid JSON: {reason}")]
    InvalidJson { reason: String },
    #[error("the response is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the server could not be reached: {reason}")]
    Transport { reason: String },
}

/// Makes remote calls for the engine. The implementation signs requests,
/// applies the 10-second timeout and the 16 KB size limit and parses the body
/// as JSON; the engine checks the JSON's meaning.
pub trait ActionFetcher: Send + Sync {
    fn fetch(
        &self,
        request: RemoteRequest,
    ) -> impl Future<Output = Result<Value, FetchError>> + Send;
}

/// A shared fetcher (one HTTP client for many engines).
impl<T: ActionFetcher> ActionFetcher for Arc<T> {
    fn fetch(
        &self,
        request: RemoteRequest,
    ) -> impl Future<Output = Result<Value, FetchError>> + Send {
        (**self).fetch(request)
    }
}

impl<T: ActionFetcher> ActionFetcher for &T {
    fn fetch(
        &self,
        request: RemoteRequest,
    ) -> impl Future<Output = Result<Value, FetchError>> + Send {
        (**self).fetch(request)
    }
}
