//! Shared by the REST tests: Twilio's OpenAPI description of Autopilot v1, a
//! checker for the subset of JSON Schema it uses, and a small REST client.

#![allow(dead_code)]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// `../shared/spec/twilio_autopilot_v1.openapi.json` beside the repository.
pub fn twilio_spec() -> Value {
    let path = format!(
        "{}/../../../shared/spec/twilio_autopilot_v1.openapi.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `(METHOD, path template)` the description defines.
pub fn operations(spec: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "delete", "put", "patch"].contains(&method.as_str()) {
                found.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    found.sort();
    found
}

/// The one success status an operation declares and the schema of its body
/// (`None` for a response without content, e.g. 204).
pub fn expected_response(spec: &Value, method: &str, template: &str) -> (u16, Option<Value>) {
    let operation = &spec["paths"][template][method.to_lowercase()];
    assert!(
        operation.is_object(),
        "the description has no {method} {template}"
    );
    let responses = operation["responses"].as_object().unwrap();
    let codes: Vec<&String> = responses.keys().filter(|code| *code != "default").collect();
    assert_eq!(
        codes.len(),
        1,
        "{method} {template} declares several success responses: {codes:?}"
    );
    let code = codes[0];
    let schema = responses[code]
        .get("content")
        .map(|content| content["application/json"]["schema"].clone());
    (code.parse().unwrap(), schema)
}

/// Checks `value` against `schema` (types, `nullable`, `enum`, `$ref`,
/// properties: every declared one present and no other, `required`, `items`,
/// `minLength`/`maxLength`, SID `pattern`s, `date-time`/`uri`/`uri-map`
/// formats). Returns the problems, each with its JSON path.
pub fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut problems = Vec::new();
    check_into(spec, schema, value, at, &mut problems);
    problems
}

fn resolve<'a>(spec: &'a Value, reference: &str) -> &'a Value {
    let name = reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("unsupported $ref {reference}"));
    let schema = &spec["components"]["schemas"][name];
    assert!(schema.is_object(), "unknown schema {reference}");
    schema
}

fn check_into(spec: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let nullable = schema["nullable"].as_bool().unwrap_or(false);
    if value.is_null() {
        let referenced_nullable = schema["$ref"]
            .as_str()
            .is_some_and(|r| resolve(spec, r)["nullable"].as_bool().unwrap_or(false));
        // A schema with no type at all (e.g. `data`, `results`) accepts anything.
        let untyped = schema.get("type").is_none() && schema.get("$ref").is_none();
        if !(nullable || referenced_nullable || untyped) {
            problems.push(format!("{at}: null, but the schema is not nullable"));
        }
        return;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        check_into(spec, resolve(spec, reference), value, at, problems);
    }
    if let Some(kind) = schema["type"].as_str() {
        let fits = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            other => panic!("unsupported type {other} at {at}"),
        };
        if !fits {
            problems.push(format!("{at}: expected {kind}, found {value}"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if let Some(min) = schema["minLength"].as_u64()
            && length < min
        {
            problems.push(format!("{at}: {text:?} is shorter than {min}"));
        }
        if let Some(max) = schema["maxLength"].as_u64()
            && length > max
        {
            problems.push(format!("{at}: {text:?} is longer than {max}"));
        }
        if let Some(pattern) = schema["pattern"].as_str()
            && !sid_pattern_matches(pattern, text)
        {
            problems.push(format!("{at}: {text:?} does not match {pattern}"));
        }
        match schema["format"].as_str() {
            Some("date-time") if !is_iso_date(text) => {
                problems.push(format!("{at}: {text:?} is not YYYY-MM-DDTHH:MM:SSZ"));
            }
            Some("uri") if !is_url(text) => {
                problems.push(format!("{at}: {text:?} is not an absolute http(s) URL"));
            }
            _ => {}
        }
    }
    if let Some(object) = value.as_object() {
        if schema["format"].as_str() == Some("uri-map") {
            for (key, link) in object {
                if !link.as_str().is_some_and(is_url) {
                    problems.push(format!("{at}.{key}: {link} is not a URL"));
                }
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            // Twilio's schemas list no `required`: Twilio always writes every
            // property of a resource (null when unset), so there a missing one
            // is a difference. A schema with `required` (otto's own routes)
            // makes only those mandatory. An extra property is always one.
            if schema.get("required").is_none() {
                for name in properties.keys() {
                    if !object.contains_key(name) {
                        problems.push(format!("{at}: missing property {name:?}"));
                    }
                }
            }
            for (name, item) in object {
                match properties.get(name) {
                    Some(property) => {
                        check_into(spec, property, item, &format!("{at}.{name}"), problems)
                    }
                    None => problems.push(format!("{at}: extra property {name:?}")),
                }
            }
        }
        if let Some(required) = schema["required"].as_array() {
            for name in required {
                if !object.contains_key(name.as_str().unwrap()) {
                    problems.push(format!("{at}: missing required {name}"));
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (index, item) in array.iter().enumerate() {
            check_into(spec, items, item, &format!("{at}[{index}]"), problems);
        }
    }
}

/// The only patterns the description uses: `^XX[0-9a-fA-F]{32}$` (SIDs).
fn sid_pattern_matches(pattern: &str, text: &str) -> bool {
    let prefix = pattern
        .strip_prefix('^')
        .and_then(|rest| rest.strip_suffix("[0-9a-fA-F]{32}$"))
        .unwrap_or_else(|| panic!("unsupported pattern {pattern}"));
    text.len() == prefix.len() + 32
        && text.starts_with(prefix)
        && text[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn is_url(text: &str) -> bool {
    (text.starts_with("http://") || text.starts_with("https://")) && !text.contains(' ')
}

/// Twilio's error body.
pub fn error_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "required": ["code", "message", "more_info", "status"],
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "more_info": {"type": "string", "format": "uri"},
            "status": {"type": "integer"},
        }
    })
}

/// A response: status, content type and body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Value,
    pub text: String,
}

/// A REST client for one server.
#[derive(Clone)]
pub struct Rest {
    pub base: String,
    pub client: reqwest::Client,
    pub auth: Option<(String, String)>,
}

impl Rest {
    pub fn new(base: &str) -> Rest {
        Rest {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            auth: Some((ACCOUNT.to_owned(), TOKEN.to_owned())),
        }
    }

    /// `path` may be absolute (a `next_page_url`) or start with `/`.
    pub async fn send(&self, method: Method, path: &str, form: &[(&str, &str)]) -> Reply {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.client.request(method.clone(), &url);
        if let Some((user, password)) = &self.auth {
            request = request.basic_auth(user, Some(password));
        }
        if method == Method::POST {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        self.finish(request).await
    }

    pub async fn finish(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Reply {
            status,
            content_type,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[]).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, path, form).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, &[]).await
    }

    /// Polls a model build until it is completed or failed (60 s at most).
    pub async fn wait_for_build(&self, assistant: &str, build: &str) -> Value {
        for _ in 0..600 {
            let reply = self
                .get(&format!("/v1/Assistants/{assistant}/ModelBuilds/{build}"))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            let status = reply.body["status"].as_str().unwrap().to_owned();
            if status != "enqueued" && status != "building" {
                return reply.body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("model build {build} did not finish within 60 s");
    }
}

/// Asserts a Twilio error: status, code, and that the message contains `needle`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: u64, needle: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    let problems = check(&Value::Null, &error_schema(), &reply.body, "$");
    assert!(problems.is_empty(), "{problems:?}: {}", reply.text);
    assert_eq!(reply.body["code"], code, "{}", reply.text);
    assert_eq!(reply.body["status"], status, "{}", reply.text);
    assert_eq!(
        reply.body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}"),
        "{}",
        reply.text
    );
    let message = reply.body["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} does not contain {needle:?}"
    );
}
