//! API keys as credentials, over loopback: `SK…:secret` of the account is
//! accepted wherever the account SID and auth token are (REST API, custom
//! channel, dialogue resource); a wrong secret, a deleted key, another
//! account's key and malformed headers are 401 with Twilio's error body. Also
//! path segments that do not decode on the custom channel and the dialogue
//! resource: Twilio's 400, after the credentials.

mod common;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use otto_model::{Sid, SidPrefix};
use otto_server::demo::DEMO_SCHEMA;
use serde_json::{Value, json};

fn error(code: u32, status: u16, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// A path and its form (`None`: a GET).
type Route = (
    &'static str,
    Option<&'static [(&'static str, &'static str)]>,
);

const INVALID: &str = "Authentication Error - invalid username or password";
const NOT_BASIC: &str = "Authentication Error - the Authorization header is not HTTP Basic credentials (Basic base64(AccountSid:AuthToken) or Basic base64(ApiKeySid:ApiKeySecret))";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

struct Answer {
    status: StatusCode,
    www_authenticate: Option<String>,
    body: Value,
}

/// A request with the given `Authorization` header (none when `None`); a
/// form body when `form` is given (POST), else GET.
async fn send(
    t: &TestServer,
    path: &str,
    authorization: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Answer {
    let mut request = match form {
        Some(form) => t.client.post(t.url(path)).form(form),
        None => t.client.get(t.url(path)),
    };
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let www_authenticate = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text:?} (status {status})"));
    Answer {
        status,
        www_authenticate,
        body,
    }
}

fn assert_unauthorized(answer: &Answer, message: &str, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        answer.body
    );
    assert_eq!(answer.body, error(20003, 401, message), "{what}");
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some("Basic realm=\"otto\""),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_works_wherever_the_auth_token_does() {
    let t = TestServer::start(|_| {}).await;
    let demo = t.import(DEMO_SCHEMA).await;
    let key = t
        .otto
        .store
        .create_api_key(&t.account().sid, Some("tests"))
        .await
        .unwrap();
    let auth = basic(key.record.sid.as_str(), &key.secret);

    // The REST API: list, create, fetch.
    let listed = send(&t, "/v1/Assistants", Some(&auth), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["assistants"][0]["unique_name"], "otto-demo");
    let created = send(
        &t,
        "/v1/Assistants",
        Some(&auth),
        Some(&[("UniqueName", "made-with-a-key")]),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["account_sid"], ACCOUNT);
    let fetched = send(
        &t,
        "/v1/Assistants/made-with-a-key/Tasks",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);

    // The custom channel, v2 and v1.
    let path = format!("/v2/{ACCOUNT}/{demo}/custom/web");
    let said = send(
        &t,
        &path,
        Some(&auth),
        Some(&[("UserId", "k1"), ("Text", "hello"), ("Language", "en-US")]),
    )
    .await;
    assert_eq!(said.status, StatusCode::OK, "{}", said.body);
    assert!(
        TestServer::texts(&said.body)[0].starts_with("Hi! I'm Otto"),
        "{}",
        said.body
    );
    let dialogue = TestServer::dialogue_sid(&said.body);
    let v1 = send(
        &t,
        &format!("/v1/{ACCOUNT}/otto-demo/custom/legacy"),
        Some(&auth),
        Some(&[("user_id", "k2"), ("text", "hello")]),
    )
    .await;
    assert_eq!(v1.status, StatusCode::OK, "{}", v1.body);
    assert!(v1.body["says"].is_array(), "{}", v1.body);

    // The live dialogue resource.
    let live = send(
        &t,
        &format!("/v1/Assistants/{demo}/Dialogues/{dialogue}"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    assert_eq!(live.body["data"]["user_identifier"], "k1");

    // A key of this account still only reaches this account's paths.
    let elsewhere = send(
        &t,
        "/v2/AC00000000000000000000000000000000/otto-demo/custom/web",
        Some(&auth),
        Some(&[("UserId", "k1"), ("Text", "hello")]),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{}",
        elsewhere.body
    );

    // The auth token keeps working beside the key.
    let token = send(&t, "/v1/Assistants", Some(&basic(ACCOUNT, TOKEN)), None).await;
    assert_eq!(token.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_deleted_foreign_and_malformed_keys_are_401() {
    let t = TestServer::start(|_| {}).await;
    let store = &t.otto.store;
    let key = store.create_api_key(&t.account().sid, None).await.unwrap();
    let other = store.create_api_key(&t.account().sid, None).await.unwrap();
    let sid = key.record.sid.as_str().to_owned();
    // A key stored for another account (a database shared with another server).
    let foreign_account = Sid::from_number(SidPrefix::Account, 0xf00);
    let foreign = store.create_api_key(&foreign_account, None).await.unwrap();

    let mut wrong = key.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'x' { 'y' } else { 'x' });
    let routes: [Route; 4] = [
        ("/v1/Assistants", None),
        ("/v1/Assistants", Some(&[("UniqueName", "refused")])),
        (
            "/v2/AC0123456789abcdef0123456789abcdef/otto-demo/custom/web",
            Some(&[("UserId", "u"), ("Text", "hello")]),
        ),
        (
            "/v1/Assistants/otto-demo/Dialogues/UK00000000000000000000000000000000",
            None,
        ),
    ];
    let invalid: Vec<(String, String)> = vec![
        ("a wrong secret".into(), basic(&sid, &wrong)),
        ("an empty secret".into(), basic(&sid, "")),
        (
            "a prefix of the secret".into(),
            basic(&sid, &key.secret[..31]),
        ),
        (
            "the secret and a bit more".into(),
            basic(&sid, &format!("{}x", key.secret)),
        ),
        (
            "another key's secret".into(),
            basic(other.record.sid.as_str(), &key.secret),
        ),
        (
            "the key SID in upper case".into(),
            basic(&sid.to_uppercase(), &key.secret),
        ),
        (
            "a key of another account".into(),
            basic(foreign.record.sid.as_str(), &foreign.secret),
        ),
        (
            "the auth token as a key's secret".into(),
            basic(&sid, TOKEN),
        ),
        (
            "the key's secret as the auth token".into(),
            basic(ACCOUNT, &key.secret),
        ),
        (
            "an SK that is not a SID".into(),
            basic("SKshort", &key.secret),
        ),
        ("no user".into(), basic("", &key.secret)),
    ];
    let not_basic: Vec<(String, String)> = vec![
        ("Bearer".into(), format!("Bearer {}", key.secret)),
        ("bad base64".into(), "Basic !!!not-base64".into()),
        (
            "no colon".into(),
            format!("Basic {}", STANDARD.encode(&sid)),
        ),
        ("no credentials after Basic".into(), "Basic".into()),
        (
            "not UTF-8 inside".into(),
            format!("Basic {}", STANDARD.encode(b"SK\xff:\xfe")),
        ),
    ];
    for (path, form) in routes {
        for (what, header) in &invalid {
            let answer = send(&t, path, Some(header), form).await;
            assert_unauthorized(&answer, INVALID, &format!("{what} on {path}"));
        }
        for (what, header) in &not_basic {
            let answer = send(&t, path, Some(header), form).await;
            assert_unauthorized(&answer, NOT_BASIC, &format!("{what} on {path}"));
        }
        let answer = send(&t, path, None, form).await;
        assert_unauthorized(
            &answer,
            "Authentication Error - No credentials provided: use HTTP Basic authentication with the account SID and auth token (or an API key SID and secret)",
            &format!("no header on {path}"),
        );
    }

    // Working before the delete, refused after it; the other key is unaffected.
    let auth = basic(&sid, &key.secret);
    assert_eq!(
        send(&t, "/v1/Assistants", Some(&auth), None).await.status,
        StatusCode::OK
    );
    store.delete_api_key(&t.account().sid, &sid).await.unwrap();
    for (path, form) in routes {
        let answer = send(&t, path, Some(&auth), form).await;
        assert_unauthorized(&answer, INVALID, &format!("a deleted key on {path}"));
    }
    let still = basic(other.record.sid.as_str(), &other.secret);
    assert_eq!(
        send(&t, "/v1/Assistants", Some(&still), None).await.status,
        StatusCode::OK
    );
    // None of the refused requests created anything.
    let listed = send(&t, "/v1/Assistants", Some(&still), None).await;
    assert_eq!(listed.body["assistants"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_path_segments_are_twilio_errors_after_the_credentials() {
    let t = TestServer::start(|_| {}).await;
    let key = t
        .otto
        .store
        .create_api_key(&t.account().sid, None)
        .await
        .unwrap();
    let cases: [Route; 4] = [
        (
            "/v2/AC0123456789abcdef0123456789abcdef/%FF/custom/web",
            Some(&[("UserId", "u"), ("Text", "hello")]),
        ),
        (
            "/v1/AC0123456789abcdef0123456789abcdef/bot/custom/%C3%28",
            Some(&[("user_id", "u"), ("text", "hello")]),
        ),
        (
            "/v1/Assistants/%FF/Dialogues/UK00000000000000000000000000000000",
            None,
        ),
        ("/v1/Assistants/otto-demo/Dialogues/%FE", None),
    ];
    for (path, form) in cases {
        for auth in [
            basic(ACCOUNT, TOKEN),
            basic(key.record.sid.as_str(), &key.secret),
        ] {
            let answer = send(&t, path, Some(&auth), form).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{path}: {}",
                answer.body
            );
            assert_eq!(answer.body["code"], 20001, "{path}");
            assert_eq!(answer.body["status"], 400, "{path}");
            let message = answer.body["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("the URL path {path} is malformed")),
                "{path}: {message}"
            );
        }
        // Without credentials the path is not even looked at.
        let answer = send(&t, path, None, form).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.body["code"], 20003, "{path}");
        let answer = send(&t, path, Some(&basic(ACCOUNT, "wrong")), form).await;
        assert_unauthorized(&answer, INVALID, path);
    }
}

/// `/2010-04-01/Accounts/{Sid}/Keys…` as Twilio's 2010 API has it, managed
/// with the auth token only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_managed_through_twilio_2010_api_with_the_auth_token() {
    let t = TestServer::start(|_| {}).await;
    let token = basic(ACCOUNT, TOKEN);
    let keys = format!("/2010-04-01/Accounts/{ACCOUNT}/Keys.json");
    let send_with =
        |method: reqwest::Method, path: String, auth: String, form: Vec<(&'static str, String)>| {
            let request = t
                .client
                .request(method, t.url(&path))
                .header("authorization", auth)
                .form(&form);
            async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                let text = response.text().await.unwrap();
                let body = if text.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
                };
                (status, body)
            }
        };
    use reqwest::Method;

    let (status, made) = send_with(
        Method::POST,
        keys.clone(),
        token.clone(),
        vec![("FriendlyName", "ci".into())],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let sid = made["sid"].as_str().unwrap().to_owned();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        made,
        json!({
            "sid": sid,
            "friendly_name": "ci",
            "date_created": "Wed, 11 Mar 2026 10:00:00 +0000",
            "date_updated": "Wed, 11 Mar 2026 10:00:00 +0000",
            "secret": secret,
        })
    );
    let with_key = basic(&sid, &secret);
    let (status, _) = send_with(
        Method::GET,
        "/v1/Assistants".into(),
        with_key.clone(),
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Fetch and rename; the secret is never shown again.
    let one = format!("/2010-04-01/Accounts/{ACCOUNT}/Keys/{sid}.json");
    let (status, fetched) = send_with(Method::GET, one.clone(), token.clone(), vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["friendly_name"], "ci");
    assert!(fetched.get("secret").is_none(), "{fetched}");
    t.hand.advance(90);
    let (status, renamed) = send_with(
        Method::POST,
        one.clone(),
        token.clone(),
        vec![("FriendlyName", "deploy".into())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["friendly_name"], "deploy");
    assert_eq!(renamed["date_updated"], "Wed, 11 Mar 2026 10:01:30 +0000");

    // Lists in pages, with 2010-style URIs.
    for name in ["two", "three"] {
        let (status, _) = send_with(
            Method::POST,
            keys.clone(),
            token.clone(),
            vec![("FriendlyName", name.into())],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, first) = send_with(
        Method::GET,
        format!("{keys}?PageSize=2"),
        token.clone(),
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let names: Vec<&str> = first["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["friendly_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deploy", "two"]);
    assert_eq!(
        (first["start"].clone(), first["end"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(first["page"], 0);
    assert_eq!(first["page_size"], 2);
    assert_eq!(first["uri"], format!("{keys}?PageSize=2&Page=0"));
    assert_eq!(first["first_page_uri"], format!("{keys}?PageSize=2&Page=0"));
    assert_eq!(first["previous_page_uri"], Value::Null);
    let next = first["next_page_uri"].as_str().unwrap().to_owned();
    assert!(
        next.starts_with(&format!("{keys}?PageSize=2&Page=1&PageToken=")),
        "{next}"
    );
    let (status, second) = send_with(Method::GET, next, token.clone(), vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["keys"][0]["friendly_name"], "three");
    assert_eq!(second["keys"].as_array().unwrap().len(), 1);
    assert_eq!(
        (second["start"].clone(), second["end"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(second["next_page_uri"], Value::Null);
    assert!(second["previous_page_uri"].is_string(), "{second}");

    // A key cannot manage keys, not even itself.
    let forbidden = format!(
        "API key {sid} may not manage API keys: use the account SID and auth token (otto's keys are Twilio's standard keys)"
    );
    for (method, path) in [
        (Method::GET, keys.clone()),
        (Method::POST, keys.clone()),
        (Method::GET, one.clone()),
        (Method::POST, one.clone()),
        (Method::DELETE, one.clone()),
    ] {
        let (status, body) =
            send_with(method.clone(), path.clone(), with_key.clone(), vec![]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(body, error(20403, 403, &forbidden), "{method} {path}");
    }
    // Credentials come first, then the account, then the rest.
    let (status, body) = send_with(Method::GET, keys.clone(), basic(&sid, "wrong"), vec![]).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!(20003))
    );
    let (status, body) = send_with(
        Method::GET,
        "/2010-04-01/Accounts/AC00000000000000000000000000000000/Keys.json".into(),
        token.clone(),
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        body["message"],
        format!(
            "account \"AC00000000000000000000000000000000\" was not found: this server runs account {ACCOUNT}"
        )
    );
    let (status, body) = send_with(
        Method::POST,
        keys.clone(),
        token.clone(),
        vec![("FriendlyName", "x".repeat(65))],
    )
    .await;
    assert_eq!(
        body,
        error(
            20001,
            400,
            "parameter FriendlyName is 65 characters long; at most 64 are allowed"
        )
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = send_with(
        Method::GET,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Keys/{sid}.xml"),
        token.clone(),
        vec![],
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!(20404))
    );
    let unknown = "SK00000000000000000000000000000000";
    let (status, body) = send_with(
        Method::GET,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Keys/{unknown}.json"),
        token.clone(),
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        format!("API key \"{unknown}\" was not found in account {ACCOUNT}")
    );

    // Deleted: 204, then the secret is refused and the key gone.
    let (status, body) = send_with(Method::DELETE, one.clone(), token.clone(), vec![]).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = send_with(Method::GET, "/v1/Assistants".into(), with_key, vec![]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send_with(Method::GET, one.clone(), token.clone(), vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = send_with(Method::GET, keys.clone(), token, vec![]).await;
    assert_eq!(listed["keys"].as_array().unwrap().len(), 2);
}
