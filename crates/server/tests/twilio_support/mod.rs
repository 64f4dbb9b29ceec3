//! What the Twilio channel and event webhook tests share: Twilio's own
//! `RequestValidator` (the pinned Python helper library, through
//! `tests/python/twilio_signature.py`), webhooks posted as Twilio posts them,
//! and TwiML read with an XML parser.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{ACCOUNT, TOKEN, TestServer};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with twilio==7.16.0: `OTTO_TEST_PYTHON` (set by `scripts/test`),
/// else what `scripts/python-env` makes. Never skipped: no Python, no pass.
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(path) = std::env::var("OTTO_TEST_PYTHON")
            && !path.is_empty()
        {
            return path;
        }
        let output = Command::new(repo_root().join("scripts/python-env"))
            .stderr(Stdio::inherit())
            .output()
            .expect("running scripts/python-env (needs python3 with venv and pip)");
        assert!(
            output.status.success(),
            "scripts/python-env failed: the Twilio signature tests need Twilio's Python helper library"
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    })
}

fn run_validator(jobs: Value) -> Value {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(repo_root().join("tests/python/twilio_signature.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(jobs.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "tests/python/twilio_signature.py failed"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn pairs_json(params: &[(String, String)]) -> Value {
    Value::Array(params.iter().map(|(n, v)| json!([n, v])).collect())
}

/// `RequestValidator(token).compute_signature(url, params)`.
pub fn twilio_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let out = run_validator(
        json!({"sign": [{"token": token, "url": url, "params": pairs_json(params)}]}),
    );
    out["sign"][0].as_str().unwrap().to_owned()
}

/// A request a receiver got, for Twilio's validator.
pub struct SignedRequest {
    pub token: String,
    /// As requested (query string included).
    pub url: String,
    /// Form parameters (none for a GET).
    pub params: Vec<(String, String)>,
    pub signature: String,
}

/// `RequestValidator(token).validate(url, params, signature)` for each request.
pub fn twilio_validates(jobs: &[SignedRequest]) -> Vec<bool> {
    let jobs: Vec<Value> = jobs
        .iter()
        .map(|job| {
            json!({"token": job.token, "url": job.url, "params": pairs_json(&job.params), "signature": job.signature})
        })
        .collect();
    let out = run_validator(json!({"validate": jobs}));
    out["validate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect()
}

pub fn owned(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// How a test signs a webhook.
pub enum Signing<'a> {
    /// As Twilio does, by Twilio's RequestValidator with the account's token.
    Twilio,
    /// By Twilio's RequestValidator with another token.
    TwilioWithToken(&'a str),
    /// This header value.
    Header(&'a str),
    /// No header.
    Unsigned,
}

/// An answer: status, content type and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The TwiML, parsed; the answer must be a 200 with an XML content type.
    pub fn twiml(&self) -> Twiml {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert!(
            self.content_type.starts_with("text/xml"),
            "content type {}",
            self.content_type
        );
        Twiml::parse(&self.body)
    }
}

/// POSTs a Twilio webhook form to `path_and_query` (path and query as Twilio
/// requests them), signed over the server's public URL.
pub async fn post_webhook(
    server: &TestServer,
    path_and_query: &str,
    params: &[(String, String)],
    signing: Signing<'_>,
) -> Answer {
    let url = server.url(path_and_query);
    let signature = match signing {
        Signing::Twilio => Some(twilio_signature(TOKEN, &url, params)),
        Signing::TwilioWithToken(token) => Some(twilio_signature(token, &url, params)),
        Signing::Header(value) => Some(value.to_owned()),
        Signing::Unsigned => None,
    };
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut request = server
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("X-Twilio-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.text().await.unwrap();
    Answer {
        status,
        content_type,
        body,
    }
}

pub fn messaging_path(assistant: &str) -> String {
    format!("/v1/{ACCOUNT}/{assistant}/twilio-messaging")
}

pub fn voice_path(assistant: &str) -> String {
    format!("/v1/{ACCOUNT}/{assistant}/twilio-voice")
}

// ---- TwiML -------------------------------------------------------------------

/// One TwiML element, read with roxmltree.
#[derive(Debug, Clone, PartialEq)]
pub struct Twiml {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    /// The element's own text (direct text children, joined).
    pub text: String,
    pub children: Vec<Twiml>,
}

impl Twiml {
    pub fn parse(xml: &str) -> Twiml {
        let document = roxmltree::Document::parse(xml)
            .unwrap_or_else(|e| panic!("TwiML does not parse ({e}): {xml}"));
        let root = Twiml::of(document.root_element());
        assert_eq!(root.name, "Response", "{xml}");
        root
    }

    fn of(node: roxmltree::Node<'_, '_>) -> Twiml {
        Twiml {
            name: node.tag_name().name().to_owned(),
            attributes: node
                .attributes()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect(),
            text: node
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect(),
            children: node
                .children()
                .filter(|c| c.is_element())
                .map(Twiml::of)
                .collect(),
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The names of the children, in order.
    pub fn verbs(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }

    pub fn child(&self, name: &str) -> &Twiml {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no <{name}> in {self:#?}"))
    }
}
