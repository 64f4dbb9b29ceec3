//! The REST API's refusals, each with Twilio's error body and a message that
//! names the problem, and nothing changed by a refused request; paging over
//! several pages; edits while a dialogue runs.

mod common;
mod rest_support;

use reqwest::{Method, StatusCode};
use rest_support::{ACCOUNT, Rest, assert_error};
use serde_json::Value;

async fn server() -> (common::TestServer, Rest) {
    let server = common::TestServer::start(|_| {}).await;
    let rest = Rest::new(&server.server.url());
    (server, rest)
}

/// Creates an assistant `bot` with a task `order`; returns their SIDs.
async fn assistant(rest: &Rest) -> (String, String) {
    let reply = rest.post("/v1/Assistants", &[("UniqueName", "bot")]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let ua = reply.body["sid"].as_str().unwrap().to_owned();
    let reply = rest
        .post(
            &format!("/v1/Assistants/{ua}/Tasks"),
            &[("UniqueName", "order")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    (ua, reply.body["sid"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn credentials_are_checked_before_anything_else() {
    let (_server, rest) = server().await;
    let mut anonymous = rest.clone();
    anonymous.auth = None;
    let reply = anonymous.get("/v1/Assistants").await;
    assert_error(&reply, 401, 20003, "No credentials provided");
    // Even for an assistant that does not exist: no information without credentials.
    let reply = anonymous
        .get("/v1/Assistants/UA00000000000000000000000000000000")
        .await;
    assert_error(&reply, 401, 20003, "No credentials");
    let reply = anonymous
        .post("/v1/Assistants", &[("UniqueName", "x")])
        .await;
    assert_error(&reply, 401, 20003, "No credentials");
    let mut wrong = rest.clone();
    wrong.auth = Some((ACCOUNT.into(), "not-the-token".into()));
    assert_error(
        &wrong.get("/v1/Assistants").await,
        401,
        20003,
        "invalid username or password",
    );
    wrong.auth = Some((
        "AC00000000000000000000000000000000".into(),
        common::TOKEN.into(),
    ));
    assert_error(
        &wrong.get("/v1/Assistants").await,
        401,
        20003,
        "invalid username or password",
    );
    // An API key that does not exist (tests/api_keys.rs has keys that do).
    wrong.auth = Some(("SK00000000000000000000000000000000".into(), "secret".into()));
    assert_error(&wrong.get("/v1/Assistants").await, 401, 20003, "invalid");
    let reply = rest
        .finish(
            rest.client
                .get(format!("{}/v1/Assistants", rest.base))
                .bearer_auth("token"),
        )
        .await;
    assert_error(&reply, 401, 20003, "not HTTP Basic");
    // Nothing was created by the refused POST.
    let list = rest.get("/v1/Assistants").await;
    assert_eq!(list.body["assistants"], serde_json::json!([]));
}

#[tokio::test]
async fn malformed_forms_are_400_naming_the_problem() {
    let (_server, rest) = server().await;
    let url = format!("{}/v1/Assistants", rest.base);
    let (user, password) = rest.auth.clone().unwrap();
    let send = |content_type: &'static str, body: &'static [u8]| {
        rest.client
            .post(&url)
            .basic_auth(&user, Some(&password))
            .header("content-type", content_type)
            .body(body)
    };
    let reply = rest
        .finish(send("application/json", br#"{"UniqueName": "x"}"#))
        .await;
    assert_error(
        &reply,
        400,
        20001,
        "must be application/x-www-form-urlencoded",
    );
    let reply = rest
        .finish(send(
            "application/x-www-form-urlencoded",
            b"UniqueName=a&FriendlyName=%FF%FE",
        ))
        .await;
    assert_error(
        &reply,
        400,
        20001,
        "the value of FriendlyName is not valid percent-encoded UTF-8",
    );
    let reply = rest
        .finish(send(
            "application/x-www-form-urlencoded",
            b"UniqueName=a&UniqueName=b",
        ))
        .await;
    assert_error(&reply, 400, 20001, "parameter UniqueName is given twice");
    let reply = rest
        .post("/v1/Assistants", &[("LogQueries", "maybe")])
        .await;
    assert_error(
        &reply,
        400,
        20001,
        "parameter LogQueries must be true or false, not \"maybe\"",
    );
    let reply = rest
        .post("/v1/Assistants", &[("StyleSheet", "{not json")])
        .await;
    assert_error(&reply, 400, 20001, "parameter StyleSheet is not valid JSON");
    let reply = rest
        .post("/v1/Assistants", &[("Defaults", r#"{"defaults": 5}"#)])
        .await;
    assert_error(&reply, 400, 20001, "parameter Defaults is not a valid");
    let reply = rest
        .post("/v1/Assistants", &[("CallbackUrl", "ftp://example.com")])
        .await;
    assert_error(
        &reply,
        400,
        20001,
        "parameter CallbackUrl must be an http:// or https:// URL",
    );
    // A path segment that is not UTF-8: Twilio's body too, after the credentials.
    assert_error(
        &rest.get("/v1/Assistants/%FF/Tasks").await,
        400,
        20001,
        "the URL path /v1/Assistants/%FF/Tasks is malformed",
    );
    let mut anonymous = rest.clone();
    anonymous.auth = None;
    assert_error(
        &anonymous.get("/v1/Assistants/%FF/Tasks").await,
        401,
        20003,
        "No credentials",
    );
    for (query, needle) in [
        (
            "PageSize=0",
            "PageSize must be a whole number from 1 to 1000",
        ),
        (
            "PageSize=1001",
            "PageSize must be a whole number from 1 to 1000",
        ),
        ("PageSize=ten", "PageSize must be a whole number"),
        ("Page=-1", "Page must be a whole number from 0 up"),
        ("PageToken=bogus", "page token \"bogus\" is not valid"),
        ("PageSize=%FF", "query string is malformed"),
    ] {
        let reply = rest.get(&format!("/v1/Assistants?{query}")).await;
        assert_error(&reply, 400, 20001, needle);
    }
    assert_eq!(
        rest.get("/v1/Assistants").await.body["assistants"],
        serde_json::json!([])
    );
}

/// A path, its form and a part of the expected message.
type Case = (String, Vec<(&'static str, String)>, &'static str);

#[tokio::test]
async fn required_parameters_and_size_limits() {
    let (_server, rest) = server().await;
    let (ua, ud) = assistant(&rest).await;
    let tasks = format!("/v1/Assistants/{ua}/Tasks");
    let samples = format!("{tasks}/{ud}/Samples");
    let long_name = "n".repeat(65);
    let cases: Vec<Case> = vec![
        (
            tasks.clone(),
            vec![],
            "missing required parameter UniqueName",
        ),
        (
            tasks.clone(),
            vec![("UniqueName", "   ".into())],
            "parameter UniqueName must not be empty",
        ),
        (
            tasks.clone(),
            vec![("UniqueName", long_name.clone())],
            "parameter UniqueName is 65 characters long; at most 64 are allowed",
        ),
        (
            tasks.clone(),
            vec![
                ("UniqueName", "ok".into()),
                ("FriendlyName", "f".repeat(256)),
            ],
            "parameter FriendlyName is 256 characters long; at most 255 are allowed",
        ),
        (
            "/v1/Assistants".into(),
            vec![("UniqueName", long_name.clone())],
            "at most 64 are allowed",
        ),
        (
            samples.clone(),
            vec![
                ("Language", "en-US".into()),
                ("TaggedText", "w".repeat(2049)),
            ],
            "parameter TaggedText is 2049 characters long; at most 2048 are allowed",
        ),
        (
            samples.clone(),
            vec![("TaggedText", "hello".into())],
            "missing required parameter Language",
        ),
        (
            samples.clone(),
            vec![
                ("Language", "en-US".into()),
                ("TaggedText", "a {broken".into()),
            ],
            "parameter TaggedText",
        ),
        (
            samples.clone(),
            vec![
                ("Language", "en-US".into()),
                ("TaggedText", "hello".into()),
                ("SourceChannel", "fax".into()),
            ],
            "parameter SourceChannel is \"fax\"; it must be one of voice, sms, chat",
        ),
        (
            format!("/v1/Assistants/{ua}/FieldTypes"),
            vec![("UniqueName", long_name.clone())],
            "at most 64",
        ),
        (
            format!("/v1/Assistants/{ua}/Webhooks"),
            vec![
                ("UniqueName", "w".into()),
                ("Events", "onDialogueEnd".into()),
                ("WebhookUrl", "https://example.com".into()),
                ("WebhookMethod", "PUT".into()),
            ],
            "parameter WebhookMethod is \"PUT\"; it must be GET or POST",
        ),
        (
            format!("/v1/Assistants/{ua}/Webhooks"),
            vec![
                ("UniqueName", "w".into()),
                ("Events", "onDialogueEnd".into()),
            ],
            "missing required parameter WebhookUrl",
        ),
        (
            format!("/v1/Assistants/{ua}/Queries"),
            vec![("Language", "en-US".into()), ("Query", "q".repeat(2049))],
            "parameter Query is 2049 characters long; at most 2048 are allowed",
        ),
        (
            format!("{tasks}/{ud}/Fields"),
            vec![
                ("UniqueName", "when".into()),
                ("FieldType", "Twilio.NOPE".into()),
            ],
            "parameter FieldType: field type \"Twilio.NOPE\" was not found",
        ),
    ];
    for (path, form, needle) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = rest.post(&path, &form).await;
        assert_error(&reply, 400, 20001, needle);
    }
    // Nothing was created by the refusals.
    let listed = rest.get(&tasks).await;
    assert_eq!(listed.body["tasks"].as_array().unwrap().len(), 1);
    let listed = rest.get(&samples).await;
    assert_eq!(listed.body["samples"], serde_json::json!([]));
    assert_eq!(
        rest.get(&format!("/v1/Assistants/{ua}/Webhooks"))
            .await
            .body["webhooks"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let (_server, rest) = server().await;
    let big = "x".repeat(70 * 1024);
    let reply = rest
        .post("/v1/Assistants", &[("FriendlyName", big.as_str())])
        .await;
    assert_error(&reply, 413, 20001, "larger than 65536 bytes");
    // Without a Content-Length: stopped while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..70)
        .map(|i| {
            Ok(if i == 0 {
                b"FriendlyName=".to_vec()
            } else {
                vec![b'y'; 1024]
            })
        })
        .collect();
    let (user, password) = rest.auth.clone().unwrap();
    let reply = rest
        .finish(
            rest.client
                .post(format!("{}/v1/Assistants", rest.base))
                .basic_auth(user, Some(password))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                    chunks,
                ))),
        )
        .await;
    assert_error(&reply, 413, 20001, "larger than 65536 bytes");
    assert_eq!(
        rest.get("/v1/Assistants").await.body["assistants"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn bad_actions_json_is_90100_naming_the_action() {
    let (_server, rest) = server().await;
    let (ua, ud) = assistant(&rest).await;
    let good = r#"{"actions": [{"say": "Hello"}, {"listen": true}]}"#;
    let reply = rest
        .post(
            &format!("/v1/Assistants/{ua}/Tasks/{ud}/Actions"),
            &[("Actions", good)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cases = [
        (
            r#"{"actions": [{"say": "Hi"}, {"sya": "typo"}]}"#,
            "actions[1]: unknown action \"sya\"",
        ),
        (
            r#"{"actions": [{"listen": true}, {"say": "after"}]}"#,
            "actions[0]",
        ),
        (r#"{"actions": [{"say": 5}]}"#, "actions[0].say"),
        (r#"{"actions": "#, "not valid JSON"),
        (r#"[{"say": "Hi"}]"#, "expected an object"),
    ];
    for (document, needle) in cases {
        for path in [
            format!("/v1/Assistants/{ua}/Tasks/{ud}/Actions"),
            format!("/v1/Assistants/{ua}/Tasks/{ud}"),
        ] {
            let reply = rest.post(&path, &[("Actions", document)]).await;
            assert_error(&reply, 400, 90100, needle);
            assert!(
                reply.body["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Invalid Autopilot Actions JSON: "),
                "{}",
                reply.text
            );
        }
        let reply = rest
            .post(
                &format!("/v1/Assistants/{ua}/Tasks"),
                &[("UniqueName", "new"), ("Actions", document)],
            )
            .await;
        assert_error(&reply, 400, 90100, needle);
    }
    // Over 16 KB.
    let long = format!(r#"{{"actions": [{{"say": "{}"}}]}}"#, "a".repeat(16 * 1024));
    let reply = rest
        .post(
            &format!("/v1/Assistants/{ua}/Tasks/{ud}/Actions"),
            &[("Actions", long.as_str())],
        )
        .await;
    assert_error(&reply, 400, 90100, "the limit is 16384 bytes");
    // The stored actions are the good ones still, and no task was added.
    let reply = rest
        .get(&format!("/v1/Assistants/{ua}/Tasks/{ud}/Actions"))
        .await;
    assert_eq!(reply.body["data"]["actions"][0]["say"], "Hello");
    let listed = rest.get(&format!("/v1/Assistants/{ua}/Tasks")).await;
    assert_eq!(listed.body["tasks"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_resources_are_404_with_twilio_errors() {
    let (_server, rest) = server().await;
    let (ua, ud) = assistant(&rest).await;
    let missing = "UA00000000000000000000000000000000";
    for (path, needle) in [
        (
            format!("/v1/Assistants/{missing}"),
            format!("assistant \"{missing}\" was not found"),
        ),
        (
            "/v1/Assistants/no-such-bot/Tasks".to_owned(),
            "assistant \"no-such-bot\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Tasks/UD00000000000000000000000000000000"),
            "task \"UD00000000000000000000000000000000\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Tasks/nope/Samples"),
            "task \"nope\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Tasks/{ud}/Samples/UF00000000000000000000000000000000"),
            "sample".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Tasks/{ud}/Fields/nope"),
            "field \"nope\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/FieldTypes/nope/FieldValues"),
            "field type \"nope\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/ModelBuilds/nope"),
            "model build \"nope\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Queries/UH00000000000000000000000000000000"),
            "query".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Webhooks/nope"),
            "webhook \"nope\" was not found".to_owned(),
        ),
        (
            format!("/v1/Assistants/{ua}/Dialogues/UK00000000000000000000000000000000"),
            "dialogue".to_owned(),
        ),
        (
            "/v1/Nothing/Here".to_owned(),
            "/v1/Nothing/Here was not found".to_owned(),
        ),
    ] {
        assert_error(&rest.get(&path).await, 404, 20404, &needle);
    }
    assert_error(
        &rest
            .delete(&format!("/v1/Assistants/{ua}/Tasks/nope"))
            .await,
        404,
        20404,
        "task \"nope\"",
    );
    assert_error(
        &rest
            .post(
                "/v1/Assistants/Restore",
                &[("Assistant", "UA00000000000000000000000000000000")],
            )
            .await,
        404,
        20404,
        "was not found",
    );
    assert_error(
        &rest
            .post("/v1/Assistants/Restore", &[("Assistant", "bot")])
            .await,
        400,
        20001,
        "parameter Assistant must be the SID of a deleted assistant",
    );
    assert_error(
        &rest.send(Method::PUT, "/v1/Assistants", &[]).await,
        405,
        20004,
        "PUT is not allowed",
    );
    assert_error(
        &rest.delete(&format!("/v1/Assistants/{ua}/Defaults")).await,
        405,
        20004,
        "DELETE is not allowed",
    );
}

#[tokio::test]
async fn conflicts_are_409_and_change_nothing() {
    let (_server, rest) = server().await;
    let (ua, ud) = assistant(&rest).await;
    assert_error(
        &rest.post("/v1/Assistants", &[("UniqueName", "bot")]).await,
        409,
        20001,
        "the unique name \"bot\" is already used by another assistant",
    );
    assert_error(
        &rest
            .post(
                &format!("/v1/Assistants/{ua}/Tasks"),
                &[("UniqueName", "order")],
            )
            .await,
        409,
        20001,
        "the unique name \"order\" is already used by another task",
    );
    // Renaming onto a taken name.
    let other = rest
        .post(
            &format!("/v1/Assistants/{ua}/Tasks"),
            &[("UniqueName", "other")],
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_error(
        &rest
            .post(
                &format!("/v1/Assistants/{ua}/Tasks/other"),
                &[("UniqueName", "order"), ("FriendlyName", "changed")],
            )
            .await,
        409,
        20001,
        "already used",
    );
    let unchanged = rest.get(&format!("/v1/Assistants/{ua}/Tasks/other")).await;
    assert_eq!(unchanged.body["friendly_name"], Value::Null);
    let types = format!("/v1/Assistants/{ua}/FieldTypes");
    assert_eq!(
        rest.post(&types, &[("UniqueName", "size")]).await.status,
        StatusCode::CREATED
    );
    assert_error(
        &rest.post(&types, &[("UniqueName", "size")]).await,
        409,
        20001,
        "already used by another field type",
    );
    let values = format!("{types}/size/FieldValues");
    assert_eq!(
        rest.post(&values, &[("Language", "en-US"), ("Value", "Large")])
            .await
            .status,
        StatusCode::CREATED
    );
    assert_error(
        &rest
            .post(&values, &[("Language", "en-US"), ("Value", "large")])
            .await,
        409,
        20001,
        "already has the value \"large\"",
    );
    let fields = format!("/v1/Assistants/{ua}/Tasks/{ud}/Fields");
    assert_eq!(
        rest.post(&fields, &[("UniqueName", "size"), ("FieldType", "size")])
            .await
            .status,
        StatusCode::CREATED
    );
    assert_error(
        &rest
            .post(
                &fields,
                &[("UniqueName", "size"), ("FieldType", "Twilio.NUMBER")],
            )
            .await,
        409,
        20001,
        "already used by another field",
    );
    assert_error(
        &rest.delete(&format!("{types}/size")).await,
        409,
        20001,
        "cannot be deleted: it is used by",
    );
    let hooks = format!("/v1/Assistants/{ua}/Webhooks");
    let hook = [
        ("UniqueName", "events"),
        ("Events", "onDialogueEnd"),
        ("WebhookUrl", "https://example.com/e"),
    ];
    assert_eq!(rest.post(&hooks, &hook).await.status, StatusCode::CREATED);
    assert_error(&rest.post(&hooks, &hook).await, 409, 20001, "already used");
    // A deleted assistant frees its name; restoring it then conflicts.
    assert_eq!(
        rest.delete(&format!("/v1/Assistants/{ua}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &rest.get(&format!("/v1/Assistants/{ua}")).await,
        404,
        20404,
        "",
    );
    let again = rest.post("/v1/Assistants", &[("UniqueName", "bot")]).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_error(
        &rest
            .post("/v1/Assistants/Restore", &[("Assistant", &ua)])
            .await,
        409,
        20001,
        "already used",
    );
}

#[tokio::test]
async fn pages_are_followed_forwards_and_backwards() {
    let (server, rest) = server().await;
    let (ua, _) = assistant(&rest).await;
    for index in 0..6 {
        let reply = rest
            .post(
                &format!("/v1/Assistants/{ua}/Tasks"),
                &[("UniqueName", &format!("task-{index}"))],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let base = server.server.url();
    let first = rest
        .get(&format!("/v1/Assistants/{ua}/Tasks?PageSize=3"))
        .await;
    let names = |reply: &rest_support::Reply| -> Vec<String> {
        reply.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|task| task["unique_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["order", "task-0", "task-1"]);
    let meta = &first.body["meta"];
    assert_eq!(meta["page"], 0);
    assert_eq!(meta["page_size"], 3);
    assert_eq!(meta["key"], "tasks");
    assert_eq!(meta["previous_page_url"], Value::Null);
    assert_eq!(
        meta["first_page_url"],
        format!("{base}/v1/Assistants/{ua}/Tasks?PageSize=3&Page=0")
    );
    assert_eq!(meta["url"], meta["first_page_url"]);
    let next = meta["next_page_url"].as_str().unwrap();
    assert!(next.starts_with(&format!(
        "{base}/v1/Assistants/{ua}/Tasks?PageSize=3&Page=1&PageToken="
    )));
    let second = rest.get(next).await;
    assert_eq!(names(&second), ["task-2", "task-3", "task-4"]);
    assert_eq!(second.body["meta"]["page"], 1);
    let third = rest
        .get(second.body["meta"]["next_page_url"].as_str().unwrap())
        .await;
    assert_eq!(names(&third), ["task-5"]);
    assert_eq!(third.body["meta"]["page"], 2);
    assert_eq!(third.body["meta"]["next_page_url"], Value::Null);
    let back = rest
        .get(third.body["meta"]["previous_page_url"].as_str().unwrap())
        .await;
    assert_eq!(names(&back), ["task-2", "task-3", "task-4"]);
    assert_eq!(back.body["meta"]["page"], 1);
    // `Page` alone (a client counting pages itself).
    let counted = rest
        .get(&format!("/v1/Assistants/{ua}/Tasks?PageSize=3&Page=2"))
        .await;
    assert_eq!(names(&counted), ["task-5"]);
    let beyond = rest
        .get(&format!("/v1/Assistants/{ua}/Tasks?PageSize=3&Page=9"))
        .await;
    assert_eq!(beyond.status, StatusCode::OK);
    assert!(names(&beyond).is_empty());
    // Filters are echoed in the page URLs.
    let samples = rest
        .get(&format!(
            "/v1/Assistants/{ua}/Tasks/order/Samples?Language=fr-FR&PageSize=2"
        ))
        .await;
    assert_eq!(
        samples.body["meta"]["url"],
        format!("{base}/v1/Assistants/{ua}/Tasks/order/Samples?Language=fr-FR&PageSize=2&Page=0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_need_a_build_and_follow_log_queries() {
    let (server, rest) = server().await;
    let _workers = server.otto.spawn_workers();
    let reply = rest
        .post(
            "/v1/Assistants",
            &[("UniqueName", "quiet"), ("LogQueries", "false")],
        )
        .await;
    let ua = reply.body["sid"].as_str().unwrap().to_owned();
    let queries = format!("/v1/Assistants/{ua}/Queries");
    let ask = [("Language", "en-US"), ("Query", "hello")];
    assert_error(
        &rest.post(&queries, &ask).await,
        503,
        20503,
        "has no completed model build yet",
    );
    for (name, texts) in [
        ("greet", ["hello", "hi", "good morning", "hey there"]),
        ("bye", ["goodbye", "bye", "see you later", "farewell"]),
    ] {
        let reply = rest
            .post(
                &format!("/v1/Assistants/{ua}/Tasks"),
                &[
                    ("UniqueName", name),
                    ("Actions", r#"{"actions": [{"say": "ok"}]}"#),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        for text in texts {
            let reply = rest
                .post(
                    &format!("/v1/Assistants/{ua}/Tasks/{name}/Samples"),
                    &[("Language", "en-US"), ("TaggedText", text)],
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED);
        }
    }
    let build = rest
        .post(&format!("/v1/Assistants/{ua}/ModelBuilds"), &[])
        .await;
    assert_eq!(build.status, StatusCode::CREATED, "{}", build.text);
    let ug = build.body["sid"].as_str().unwrap().to_owned();
    // A build without a name is named by its SID.
    assert_eq!(build.body["unique_name"], ug.as_str());
    let done = rest.wait_for_build(&ua, &ug).await;
    assert_eq!(done["status"], "completed");
    let reply = rest.post(&queries, &ask).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["results"]["task"]["name"], "greet");
    // Not logged: answered, not kept.
    let sid = reply.body["sid"].as_str().unwrap();
    assert!(sid.starts_with("UH"));
    assert_error(&rest.get(&format!("{queries}/{sid}")).await, 404, 20404, "");
    assert_eq!(
        rest.get(&queries).await.body["queries"],
        serde_json::json!([])
    );
    // Restricted to other tasks, the answer is one of them.
    let reply = rest
        .post(
            &queries,
            &[("Language", "en-US"), ("Query", "hello"), ("Tasks", "bye")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_ne!(reply.body["results"]["task"]["name"], "greet");
    assert_error(
        &rest
            .post(
                &queries,
                &[
                    ("Language", "en-US"),
                    ("Query", "hello"),
                    ("Tasks", "greet,nope"),
                ],
            )
            .await,
        400,
        20001,
        "has no task \"nope\"",
    );
    // Logging on: kept and listable, filtered by model build.
    let reply = rest
        .post(&format!("/v1/Assistants/{ua}"), &[("LogQueries", "true")])
        .await;
    assert_eq!(reply.body["log_queries"], true);
    let reply = rest
        .post(
            &queries,
            &[
                ("Language", "en-US"),
                ("Query", "bye now"),
                ("ModelBuild", &ug),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["results"]["task"]["name"], "bye");
    let listed = rest.get(&format!("{queries}?ModelBuild={ug}")).await;
    assert_eq!(listed.body["queries"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["queries"][0]["query"], "bye now");
    // A build that is not completed cannot answer.
    let pending = server
        .otto
        .store
        .create_model_build(&server.account().sid, &ua, Default::default())
        .await
        .unwrap();
    let reply = rest
        .post(
            &queries,
            &[
                ("Language", "en-US"),
                ("Query", "hi"),
                ("ModelBuild", pending.sid.as_str()),
            ],
        )
        .await;
    if reply.status == StatusCode::BAD_REQUEST {
        assert_error(&reply, 400, 20001, "only a completed build can answer");
    } else {
        // The worker was quicker and trained it.
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
}

/// Definition edits act on the next turn of a running dialogue, and a build
/// being trained does not hold turns up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_do_not_block_a_running_dialogue() {
    let (server, rest) = server().await;
    let _workers = server.otto.spawn_workers();
    let reply = rest.post("/v1/Assistants", &[("UniqueName", "live")]).await;
    let ua = reply.body["sid"].as_str().unwrap().to_owned();
    let reply = rest
        .post(
            &format!("/v1/Assistants/{ua}/Tasks"),
            &[
                ("UniqueName", "greet"),
                (
                    "Actions",
                    r#"{"actions": [{"say": "Hello!"}, {"listen": true}]}"#,
                ),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    for text in ["hello", "hi", "hey", "good morning"] {
        rest.post(
            &format!("/v1/Assistants/{ua}/Tasks/greet/Samples"),
            &[("Language", "en-US"), ("TaggedText", text)],
        )
        .await;
    }
    let build = rest
        .post(&format!("/v1/Assistants/{ua}/ModelBuilds"), &[])
        .await;
    let ug = build.body["sid"].as_str().unwrap().to_owned();
    assert_eq!(rest.wait_for_build(&ua, &ug).await["status"], "completed");
    let channel = format!("/v2/{ACCOUNT}/{ua}/custom/web");
    let turn = |text: &'static str| {
        let rest = rest.clone();
        let channel = channel.clone();
        async move {
            let reply = rest
                .post(&channel, &[("UserId", "u1"), ("Text", text)])
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            reply.body
        }
    };
    let first = turn("hello").await;
    assert_eq!(first["response"]["says"][0]["text"], "Hello!");
    let dialogue = first["dialogue"]["sid"].clone();
    // Change the task's actions and queue a build; the next turn of the same
    // dialogue answers at once with the new actions and the current model.
    let reply = rest
        .post(
            &format!("/v1/Assistants/{ua}/Tasks/greet/Actions"),
            &[(
                "Actions",
                r#"{"actions": [{"say": "Welcome back!"}, {"listen": true}]}"#,
            )],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let queued = rest
        .post(&format!("/v1/Assistants/{ua}/ModelBuilds"), &[])
        .await;
    assert_eq!(queued.status, StatusCode::CREATED);
    let second = turn("hi").await;
    assert_eq!(second["response"]["says"][0]["text"], "Welcome back!");
    assert_eq!(second["dialogue"]["sid"], dialogue);
    let ug2 = queued.body["sid"].as_str().unwrap().to_owned();
    assert_eq!(rest.wait_for_build(&ua, &ug2).await["status"], "completed");
    let assistant = rest.get(&format!("/v1/Assistants/{ua}")).await;
    assert_eq!(assistant.body["latest_model_build_sid"], ug2.as_str());
    let third = turn("hey").await;
    assert_eq!(third["dialogue"]["sid"], dialogue);
}
