//! The HTTP front over loopback: custom channel v2 and v1, authentication,
//! precise errors, the live dialogue resource and the health probe.

mod common;

use axum::http::StatusCode;
use common::*;
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

const GREETING: &str = "Hi! I'm Otto, the booking assistant of the Blue Door bistro. I can book you a table or tell you our opening hours.";

#[tokio::test]
async fn v2_answers_with_response_and_dialogue() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let json = t.say(&sid, "u1", "hello").await;
    let dialogue = TestServer::dialogue_sid(&json);
    assert_eq!(
        json,
        json!({
            "response": {
                "says": [{"speech": GREETING, "text": GREETING}],
                "shows": [],
                "listen": {"tasks": []},
                "collect": null,
            },
            "dialogue": {"sid": dialogue, "ended": false},
        })
    );
    // The same user continues the same dialogue; by unique name too.
    let (status, json) = t
        .post(
            "/v2/AC0123456789abcdef0123456789abcdef/otto-demo/custom/web",
            &[
                ("UserId", "u1"),
                ("Text", "book a table"),
                ("Language", "en-US"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(TestServer::dialogue_sid(&json), dialogue);
    assert_eq!(
        json["response"]["collect"],
        json!({
            "name": "booking",
            "question": "first_name",
            "prompt": "Happy to book you a table. What's your first name?",
            "type": "Twilio.FIRST_NAME",
        })
    );
    assert_eq!(json["response"]["listen"], Value::Null);
}

#[tokio::test]
async fn v1_takes_text_and_user_id_and_answers_unwrapped() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let (status, json) = t
        .post(
            &format!("/v1/{ACCOUNT}/{sid}/custom/legacy"),
            &[("user_id", "u1"), ("text", "hello")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json,
        json!({
            "says": [{"speech": GREETING, "text": GREETING}],
            "shows": [],
            "listen": {"tasks": []},
            "collect": null,
        })
    );
    let (status, json) = t
        .post(
            &format!("/v1/{ACCOUNT}/{sid}/custom/legacy"),
            &[("text", "hello")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        error(
            20001,
            400,
            "missing required parameter user_id: the form field that identifies the end user"
        )
    );
}

#[tokio::test]
async fn credentials_are_required_and_checked() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let url = t.url(&t.channel_path(sid.as_str()));
    let form = [("UserId", "u1"), ("Text", "hello")];

    let response = t.client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"otto\""
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        error(
            20003,
            401,
            "Authentication Error - No credentials provided: use HTTP Basic authentication with the account SID and auth token (or an API key SID and secret)"
        )
    );

    for (user, password) in [
        (ACCOUNT, "wrong"),
        ("AC00000000000000000000000000000000", TOKEN),
    ] {
        let response = t
            .client
            .post(&url)
            .basic_auth(user, Some(password))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            error(
                20003,
                401,
                "Authentication Error - invalid username or password"
            )
        );
    }

    let response = t
        .client
        .post(&url)
        .header("authorization", "Bearer abc")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["message"],
        "Authentication Error - the Authorization header is not HTTP Basic credentials (Basic base64(AccountSid:AuthToken) or Basic base64(ApiKeySid:ApiKeySecret))"
    );
}

#[tokio::test]
async fn unknown_assistants_and_accounts_are_404() {
    let t = TestServer::start(|_| {}).await;
    t.import(DEMO_SCHEMA).await;
    let (status, json) = t
        .post(
            &t.channel_path("no-such-bot"),
            &[("UserId", "u1"), ("Text", "hello")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        json,
        error(
            20404,
            404,
            &format!("assistant \"no-such-bot\" was not found in account {ACCOUNT}")
        )
    );
    let (status, json) = t
        .post(
            "/v2/AC00000000000000000000000000000000/otto-demo/custom/web",
            &[("UserId", "u1"), ("Text", "hello")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        json["message"],
        format!(
            "account \"AC00000000000000000000000000000000\" was not found: this server runs account {ACCOUNT}"
        )
    );
    let (status, json) = t.post("/v2/nothing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        json,
        error(
            20404,
            404,
            "The requested resource /v2/nothing was not found"
        )
    );
}

#[tokio::test]
async fn malformed_bodies_get_precise_400s() {
    let t = TestServer::start(|config| config.body_limit = 4096).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let path = t.channel_path(sid.as_str());
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("Text", "hello")],
            "missing required parameter UserId: the form field that identifies the end user",
        ),
        (
            &[("UserId", "u1")],
            "missing required parameter Text: the form field with what the user said",
        ),
        (
            &[("UserId", "u1"), ("Text", "hi"), ("Memory", "[1, 2]")],
            "Memory must be a JSON object, got an array",
        ),
        (
            &[("UserId", "u1"), ("Text", "hi"), ("Memory", "\"vip\"")],
            "Memory must be a JSON object, got a string",
        ),
        (
            &[("UserId", "u1"), ("Text", "hi"), ("Memory", "{\"a\": }")],
            "Memory is not valid JSON: expected value at line 1 column 7",
        ),
    ];
    for (form, message) in cases {
        let (status, json) = t.post(&path, form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(json, error(20001, 400, message), "{form:?}");
    }

    let response = t
        .client
        .post(t.url(&path))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .json(&json!({"UserId": "u1", "Text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["message"],
        "the body must be application/x-www-form-urlencoded (form fields UserId, Text, Language…), not \"application/json\""
    );

    let big = "x".repeat(5000);
    let (status, json) = t
        .post(&path, &[("UserId", "u1"), ("Text", big.as_str())])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json,
        error(20001, 413, "the body is larger than 4096 bytes")
    );

    // A body without a length that grows past the limit is cut off too.
    let chunks =
        futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1000])));
    let response = t
        .client
        .post(t.url(&path))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Nothing was stored for the refused requests.
    assert_eq!(
        t.otto.store.load_active_dialogue(&sid, "u1").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn inbound_memory_and_target_task() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let json = t
        .say_with(
            &sid,
            "u1",
            "whatever",
            &[
                ("TargetTask", "opening_hours"),
                ("Memory", "{\"crm\": {\"tier\": \"gold\"}}"),
            ],
        )
        .await;
    assert_eq!(
        TestServer::texts(&json),
        ["We are open Tuesday to Sunday, from noon to 11 pm."]
    );
    let dialogue = TestServer::dialogue_sid(&json);
    let record = t.otto.store.dialogue(&dialogue).await.unwrap();
    assert_eq!(record.state.memory["crm"], json!({"tier": "gold"}));
    let turn = t.last_turn(&dialogue).await;
    assert_eq!(turn.task.as_deref(), Some("opening_hours"));
    assert_eq!(turn.output["route"], "target_task");
    assert_eq!(turn.input, "whatever");
}

#[tokio::test]
async fn an_assistant_without_a_model_is_503() {
    let t = TestServer::start(|_| {}).await;
    let assistant = otto_model::import_schema(DEMO_SCHEMA).unwrap();
    let sid = t
        .otto
        .store
        .import_assistant(&t.account().sid, &assistant)
        .await
        .unwrap();
    let (status, json) = t
        .post(
            &t.channel_path(sid.as_str()),
            &[("UserId", "u1"), ("Text", "hello")],
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json,
        error(
            20503,
            503,
            &format!(
                "assistant {sid} has no completed model build yet (no model build was started); send the message again when training is done"
            )
        )
    );
}

#[tokio::test]
async fn dialogue_resource_while_active_and_404_after() {
    let t = TestServer::start(|_| {}).await;
    let sid = t.import(DEMO_SCHEMA).await;
    let json = t
        .say_with(&sid, "u1", "hello", &[("Memory", "{\"vip\": true}")])
        .await;
    let dialogue = TestServer::dialogue_sid(&json);
    let path = format!("/v1/Assistants/{sid}/Dialogues/{dialogue}");
    let get = |path: String| {
        let request = t.client.get(t.url(&path)).basic_auth(ACCOUNT, Some(TOKEN));
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = get(path.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "account_sid": ACCOUNT,
            "assistant_sid": sid,
            "sid": dialogue,
            "data": {
                "user_identifier": "u1",
                "channel": "web",
                "memory": {"vip": true},
                "current_task": "greeting",
                "waiting": {"kind": "listen"},
                "turn_count": 1,
                "date_created": "2026-03-11T10:00:00Z",
                "last_input_at": "2026-03-11T10:00:00Z",
            },
            "url": t.url(&path),
        })
    );
    // By unique name too.
    let (status, _) = get(format!("/v1/Assistants/otto-demo/Dialogues/{dialogue}")).await;
    assert_eq!(status, StatusCode::OK);

    let json = t.say(&sid, "u1", "goodbye").await;
    assert_eq!(json["dialogue"]["ended"], true);
    let (status, body) = get(path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], 20404);

    let response = t
        .client
        .get(t.url("/v1/Assistants/otto-demo/Dialogues/UKx"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_and_method_not_allowed() {
    let t = TestServer::start(|_| {}).await;
    let response = t.client.get(t.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok", "database": "ok"})
    );
    let response = t
        .client
        .get(t.url(&format!("/v2/{ACCOUNT}/x/custom/web")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        error(
            20004,
            405,
            &format!("GET is not allowed on /v2/{ACCOUNT}/x/custom/web")
        )
    );
    t.otto.store.close().await;
    let response = t.client.get(t.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"],
        "unavailable"
    );
}
