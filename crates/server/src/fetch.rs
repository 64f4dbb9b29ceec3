//! Remote actions over HTTP: [`otto_engine::ActionFetcher`] with reqwest.
//!
//! Requests go out as Autopilot made them: a form POST (or the parameters in
//! the query string for GET), signed with `X-Twilio-Signature`. The answer
//! must come within the timeout (10 s), be a 2xx and at most 16 KB of JSON;
//! the body is read chunk by chunk and the read stops as soon as it passes
//! the limit, so a huge or endless answer costs at most the limit in memory.

use std::sync::Once;
use std::time::Duration;

use otto_engine::{ActionFetcher, FetchError, Method, RemoteRequest};
use reqwest::Url;
use serde_json::Value;

use crate::signature;

/// Settings of the HTTP client.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Whole request, body included (Autopilot: 10 s).
    pub timeout: Duration,
    /// Largest answer accepted (Autopilot: 16 KB).
    pub size_limit: usize,
    /// Redirects (HTTP 3xx) followed.
    pub max_http_redirects: usize,
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            timeout: Duration::from_secs(otto_engine::fetch::FETCH_TIMEOUT_SECONDS),
            size_limit: otto_engine::fetch::RESPONSE_SIZE_LIMIT,
            max_http_redirects: 5,
            user_agent: format!("otto/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Installs ring as the process's rustls crypto provider (once; a provider
/// installed earlier by someone else is kept).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Calls task URLs, redirect URLs and validation webhooks for the engine.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    auth_token: String,
    config: FetchConfig,
}

/// A request ready to send: the URL with its query, and the form body.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub method: Method,
    pub url: String,
    /// Form parameters (POST only).
    pub form: Vec<(String, String)>,
    pub signature: String,
}

impl HttpFetcher {
    /// `auth_token` signs the requests (the account's token, as Twilio does).
    pub fn new(auth_token: &str, config: FetchConfig) -> Result<HttpFetcher, FetchError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(
                config.max_http_redirects,
            ))
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|error| FetchError::Transport {
                reason: format!("cannot build the HTTP client: {error}"),
            })?;
        Ok(HttpFetcher {
            client,
            auth_token: auth_token.to_owned(),
            config,
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The URL, body and signature a request goes out with.
    pub fn prepare(&self, request: &RemoteRequest) -> Result<Prepared, FetchError> {
        let mut url = Url::parse(&request.url).map_err(|error| FetchError::Transport {
            reason: format!("{:?} is not a URL: {error}", request.url),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Transport {
                reason: format!("{:?} is not an http(s) URL", request.url),
            });
        }
        match request.method {
            Method::Get => {
                if !request.params.is_empty() {
                    url.query_pairs_mut().extend_pairs(&request.params);
                }
                let url = url.to_string();
                Ok(Prepared {
                    method: Method::Get,
                    signature: signature::sign(&self.auth_token, &url, &[]),
                    url,
                    form: Vec::new(),
                })
            }
            Method::Post => {
                let url = url.to_string();
                Ok(Prepared {
                    method: Method::Post,
                    signature: signature::sign(&self.auth_token, &url, &request.params),
                    url,
                    form: request.params.clone(),
                })
            }
        }
    }

    async fn send(&self, prepared: Prepared) -> Result<Value, FetchError> {
        let builder = match prepared.method {
            Method::Get => self.client.get(&prepared.url),
            Method::Post => {
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&prepared.form)
                    .finish();
                self.client
                    .post(&prepared.url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
            }
        };
        let mut response = builder
            .header(signature::HEADER, &prepared.signature)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|error| transport(error, self.config.timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
            });
        }
        let limit = self.config.size_limit;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| transport(error, self.config.timeout))?
        {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|error| FetchError::InvalidJson {
            reason: error.to_string(),
        })
    }
}

fn transport(error: reqwest::Error, timeout: std::time::Duration) -> FetchError {
    if error.is_timeout() {
        return timed_out(timeout);
    }
    // The chain says what failed (connection refused, DNS, TLS…).
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    FetchError::Transport { reason }
}

fn timed_out(timeout: std::time::Duration) -> FetchError {
    FetchError::Timeout {
        millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

impl ActionFetcher for HttpFetcher {
    async fn fetch(&self, request: RemoteRequest) -> Result<Value, FetchError> {
        // A turn that runs again gets the answers its earlier run got.
        if let Some(answer) = crate::replay::replayed(&request) {
            return answer;
        }
        let result = self.call(&request).await;
        crate::replay::made(&request, &result);
        result
    }
}

impl HttpFetcher {
    async fn call(&self, request: &RemoteRequest) -> Result<Value, FetchError> {
        let url = request.url.clone();
        let method = request.method;
        let prepared = self.prepare(request)?;
        // The client's timeout covers the body too; this one is the backstop.
        let result = match tokio::time::timeout(self.config.timeout, self.send(prepared)).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(self.config.timeout)),
        };
        if let Err(error) = &result {
            tracing::warn!(%url, %method, %error, "remote actions request failed");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, url: &str) -> RemoteRequest {
        RemoteRequest {
            url: url.into(),
            method,
            params: vec![
                ("CurrentInput".into(), "a table for 4 & more".into()),
                ("AccountSid".into(), "AC1".into()),
            ],
        }
    }

    #[test]
    fn get_puts_the_parameters_in_the_signed_url() {
        let fetcher = HttpFetcher::new("token", FetchConfig::default()).unwrap();
        let prepared = fetcher
            .prepare(&request(Method::Get, "https://x.example/a?k=v"))
            .unwrap();
        assert_eq!(
            prepared.url,
            "https://x.example/a?k=v&CurrentInput=a+table+for+4+%26+more&AccountSid=AC1"
        );
        assert!(prepared.form.is_empty());
        assert_eq!(
            prepared.signature,
            signature::sign("token", &prepared.url, &[])
        );
    }

    #[test]
    fn post_signs_the_url_and_the_form() {
        let fetcher = HttpFetcher::new("token", FetchConfig::default()).unwrap();
        let request = request(Method::Post, "https://x.example/a");
        let prepared = fetcher.prepare(&request).unwrap();
        assert_eq!(prepared.url, "https://x.example/a");
        assert_eq!(prepared.form, request.params);
        assert!(signature::verify(
            "token",
            "https://x.example/a",
            &request.params,
            &prepared.signature
        ));
    }

    #[test]
    fn urls_that_cannot_be_called_are_transport_errors() {
        let fetcher = HttpFetcher::new("token", FetchConfig::default()).unwrap();
        for (url, reason) in [
            ("", "\"\" is not a URL: relative URL without a base"),
            (
                "ftp://x.example/a",
                "\"ftp://x.example/a\" is not an http(s) URL",
            ),
        ] {
            assert_eq!(
                fetcher.prepare(&request(Method::Post, url)),
                Err(FetchError::Transport {
                    reason: reason.into()
                })
            );
        }
    }
}
