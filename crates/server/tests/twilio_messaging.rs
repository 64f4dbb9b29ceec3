//! `POST /v1/{AccountSid}/{AssistantSid}/twilio-messaging` over real HTTP:
//! signatures made by Twilio's own RequestValidator accepted, anything else
//! refused with nothing stored, Twilio's retries answered once, SMS and
//! WhatsApp memory namespaces, media, `TargetTask` and `Memory`.

mod common;
mod twilio_support;

use axum::http::StatusCode;
use common::*;
use otto_model::Sid;
use otto_store::{DialogueRecord, PageRequest};
use serde_json::{Value, json};
use twilio_support::*;

const TWILIO_NUMBER: &str = "+15555550199";

fn schema() -> String {
    json!({
        "uniqueName": "texts",
        "defaults": {"defaults": {"fallback": "task://fallback"}},
        "tasks": [
            {"uniqueName": "greeting",
             "actions": {"actions": [{"say": "Hello! Text MENU to see what we cook."}, {"listen": true}]},
             "samples": [{"language": "en-US", "taggedText": "hello"},
                         {"language": "en-US", "taggedText": "hi there"},
                         {"language": "en-US", "taggedText": "good morning"}]},
            {"uniqueName": "menu",
             "actions": {"actions": [
                 {"say": "Tonight: <b>soup</b> & bread."},
                 {"show": {"body": "Here is our menu", "images": [
                     {"url": "https://example.com/menu.png?size=large&v=2", "label": "Menu"},
                     {"url": "https://example.com/wine.png", "label": "Wine"}]}},
                 {"listen": true}]},
             "samples": [{"language": "en-US", "taggedText": "show me the menu"},
                         {"language": "en-US", "taggedText": "what is on the menu"},
                         {"language": "en-US", "taggedText": "menu please"}]},
            {"uniqueName": "goodbye",
             "actions": {"actions": [{"say": "Goodbye, {{memory.crm.name}}!"}]},
             "samples": [{"language": "en-US", "taggedText": "goodbye"},
                         {"language": "en-US", "taggedText": "bye for now"},
                         {"language": "en-US", "taggedText": "see you later"}]},
            {"uniqueName": "card",
             "actions": {"actions": [
                 {"show": {"body": "Card of {{memory.crm.name}}", "images": [{"url": "https://example.com/card.png"}]}},
                 {"listen": true}]}},
            {"uniqueName": "fallback",
             "actions": {"actions": [{"say": "Sorry, I did not get that."}, {"listen": true}]}}
        ]
    })
    .to_string()
}

async fn setup(check_signatures: bool) -> (TestServer, Sid) {
    let server = TestServer::start(|config| config.check_signatures = check_signatures).await;
    let sid = server.import(&schema()).await;
    (server, sid)
}

fn sms(from: &str, body: &str, message_sid: &str) -> Vec<(String, String)> {
    owned(&[
        ("ToCountry", "US"),
        ("SmsMessageSid", message_sid),
        ("NumMedia", "0"),
        ("SmsSid", message_sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", TWILIO_NUMBER),
        ("NumSegments", "1"),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ])
}

/// The texts of the `<Message>`s (their own text or their `<Body>`).
fn messages(twiml: &Twiml) -> Vec<String> {
    twiml
        .children
        .iter()
        .map(|message| {
            assert_eq!(message.name, "Message");
            match message.children.iter().find(|c| c.name == "Body") {
                Some(body) => body.text.clone(),
                None => message.text.clone(),
            }
        })
        .collect()
}

async fn active(server: &TestServer, assistant: &Sid, user: &str) -> Option<DialogueRecord> {
    server
        .otto
        .store
        .load_active_dialogue(assistant, user)
        .await
        .unwrap()
}

async fn turn_count(server: &TestServer, assistant: &Sid) -> i64 {
    server
        .otto
        .store
        .usage(Some(assistant), 0, i64::MAX)
        .await
        .unwrap()
        .turns
}

#[tokio::test]
async fn twilios_signature_is_accepted_and_anything_else_refused() {
    let (server, assistant) = setup(true).await;
    let path = messaging_path(assistant.as_str());

    // Signed by Twilio's RequestValidator over the public URL and the form.
    let answer = post_webhook(
        &server,
        &path,
        &sms(
            "+15555550100",
            "hello",
            "SM00000000000000000000000000000001",
        ),
        Signing::Twilio,
    )
    .await;
    let twiml = answer.twiml();
    assert_eq!(messages(&twiml), ["Hello! Text MENU to see what we cook."]);
    assert_eq!(turn_count(&server, &assistant).await, 1);

    // Each way of getting it wrong: 403 with Twilio's error JSON, nothing stored.
    let refusals = [
        Signing::TwilioWithToken("ffffffffffffffffffffffffffffffff"),
        Signing::Header("0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        Signing::Header("not base64 at all"),
        Signing::Unsigned,
    ];
    for (index, signing) in refusals.into_iter().enumerate() {
        let user = format!("+1555555020{index}");
        let answer = post_webhook(
            &server,
            &path,
            &sms(
                &user,
                "hello",
                &format!("SM1000000000000000000000000000000{index}"),
            ),
            signing,
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        let error = answer.json();
        assert_eq!(error["code"], 20403);
        assert_eq!(error["status"], 403);
        assert_eq!(
            error["more_info"],
            "https://www.twilio.com/docs/errors/20403"
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("X-Twilio-Signature"),
            "{error}"
        );
        assert!(active(&server, &assistant, &user).await.is_none());
    }
    assert_eq!(turn_count(&server, &assistant).await, 1);

    // A signature over other parameters than those sent (a tampered body).
    let signed = sms(
        "+15555550300",
        "hello",
        "SM00000000000000000000000000000300",
    );
    let url = server.url(&path);
    let signature = twilio_signature(TOKEN, &url, &signed);
    let tampered = sms(
        "+15555550300",
        "goodbye",
        "SM00000000000000000000000000000300",
    );
    let answer = post_webhook(&server, &path, &tampered, Signing::Header(&signature)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // A signature that leaves out the URL's query string.
    let with_query = format!("{path}?TargetTask=menu");
    let answer = post_webhook(&server, &with_query, &signed, Signing::Header(&signature)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(active(&server, &assistant, "+15555550300").await.is_none());
    assert_eq!(turn_count(&server, &assistant).await, 1);
    // Nothing about those messages was recorded: the same MessageSid, now
    // signed, runs as a first delivery.
    let answer = post_webhook(&server, &with_query, &signed, Signing::Twilio).await;
    assert_eq!(messages(&answer.twiml())[0], "Tonight: soup & bread.");
    assert_eq!(turn_count(&server, &assistant).await, 2);

    // The signature is checked before anything else: an unknown account or
    // assistant is a 403 unsigned and a 404 signed.
    let other_account = "/v1/AC00000000000000000000000000000000/texts/twilio-messaging";
    let params = sms(
        "+15555550400",
        "hello",
        "SM00000000000000000000000000000400",
    );
    let answer = post_webhook(&server, other_account, &params, Signing::Unsigned).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = post_webhook(&server, other_account, &params, Signing::Twilio).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["code"], 20404);
    let answer = post_webhook(&server, &messaging_path("nope"), &params, Signing::Twilio).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json()["message"],
        format!("assistant \"nope\" was not found in account {ACCOUNT}")
    );
    // By unique name as well as by SID.
    let answer = post_webhook(&server, &messaging_path("texts"), &params, Signing::Twilio).await;
    assert_eq!(
        messages(&answer.twiml()),
        ["Hello! Text MENU to see what we cook."]
    );
}

#[tokio::test]
async fn a_retried_message_sid_is_answered_once_with_the_same_twiml() {
    let (server, assistant) = setup(true).await;
    let path = messaging_path(assistant.as_str());
    let first = sms(
        "+15555550100",
        "show me the menu",
        "SM20000000000000000000000000000001",
    );
    let answer = post_webhook(&server, &path, &first, Signing::Twilio).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(turn_count(&server, &assistant).await, 1);
    // Twilio retries: same MessageSid, same answer byte for byte, no new turn.
    let retry = post_webhook(&server, &path, &first, Signing::Twilio).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body, answer.body);
    assert_eq!(turn_count(&server, &assistant).await, 1);
    let dialogue = active(&server, &assistant, "+15555550100").await.unwrap();
    assert_eq!(dialogue.turn_count, 1);
    let turns = server
        .otto
        .store
        .list_turns(&dialogue.sid, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(turns.items.len(), 1);
    assert_eq!(
        turns.items[0].message_sid.as_deref(),
        Some("SM20000000000000000000000000000001")
    );

    // A retry that arrives while the first delivery is still running: both
    // are answered alike, one turn is counted.
    let second = sms(
        "+15555550100",
        "goodbye",
        "SM20000000000000000000000000000002",
    );
    let (a, b) = tokio::join!(
        post_webhook(&server, &path, &second, Signing::Twilio),
        post_webhook(&server, &path, &second, Signing::Twilio),
    );
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, b.body);
    assert_eq!(messages(&a.twiml()), ["Goodbye, !"]);
    assert_eq!(turn_count(&server, &assistant).await, 2);
    let usage = server
        .otto
        .store
        .usage(Some(&assistant), 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(usage.inbound_messages, 2);
    // The dialogue ended with that message; a new MessageSid starts another.
    assert!(active(&server, &assistant, "+15555550100").await.is_none());
    let third = sms(
        "+15555550100",
        "hello",
        "SM20000000000000000000000000000003",
    );
    let answer = post_webhook(&server, &path, &third, Signing::Twilio).await;
    assert_eq!(
        messages(&answer.twiml()),
        ["Hello! Text MENU to see what we cook."]
    );
    assert_eq!(turn_count(&server, &assistant).await, 3);
}

#[tokio::test]
async fn sms_memory_namespace_and_media_in_the_dialogue_resource() {
    let (server, assistant) = setup(true).await;
    let path = messaging_path(assistant.as_str());
    let mut params = sms(
        "+15555550100",
        "menu please",
        "MM30000000000000000000000000000001",
    );
    params.retain(|(name, _)| name != "NumMedia");
    params.extend(owned(&[
        ("NumMedia", "1"),
        (
            "MediaUrl0",
            "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1",
        ),
        ("MediaContentType0", "image/jpeg"),
    ]));
    let answer = post_webhook(&server, &path, &params, Signing::Twilio).await;
    let twiml = answer.twiml();
    // The say (SSML-like markup removed, & kept as text), then the show with
    // its images as <Media>.
    assert_eq!(twiml.verbs(), ["Message", "Message"]);
    assert_eq!(twiml.children[0].text, "Tonight: soup & bread.");
    let show = &twiml.children[1];
    assert_eq!(show.verbs(), ["Body", "Media", "Media"]);
    assert_eq!(show.children[0].text, "Here is our menu");
    assert_eq!(
        show.children[1].text,
        "https://example.com/menu.png?size=large&v=2"
    );
    assert_eq!(show.children[2].text, "https://example.com/wine.png");

    // Memory, through the dialogue resource (HTTP Basic).
    let dialogue = active(&server, &assistant, "+15555550100").await.unwrap();
    assert_eq!(dialogue.channel, "sms");
    let response = server
        .client
        .get(server.url(&format!(
            "/v1/Assistants/{assistant}/Dialogues/{}",
            dialogue.sid
        )))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let resource: Value = response.json().await.unwrap();
    assert_eq!(resource["data"]["user_identifier"], "+15555550100");
    assert_eq!(resource["data"]["channel"], "sms");
    assert_eq!(
        resource["data"]["memory"]["twilio"]["sms"],
        json!({
            "From": "+15555550100",
            "To": TWILIO_NUMBER,
            "MessageSid": "MM30000000000000000000000000000001",
            "AccountSid": ACCOUNT,
            "NumMedia": "1",
            "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1",
            "MediaContentType0": "image/jpeg",
        })
    );
    // The next message replaces the namespace: no stale media.
    let next = sms(
        "+15555550100",
        "hello",
        "SM30000000000000000000000000000002",
    );
    post_webhook(&server, &path, &next, Signing::Twilio)
        .await
        .twiml();
    let dialogue = active(&server, &assistant, "+15555550100").await.unwrap();
    assert_eq!(
        Value::Object(dialogue.state.memory)["twilio"]["sms"]["MediaUrl0"],
        Value::Null
    );
}

#[tokio::test]
async fn whatsapp_senders_target_task_and_inbound_memory() {
    let (server, assistant) = setup(true).await;
    let memory = json!({"crm": {"name": "Ada", "tier": "gold"}}).to_string();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("TargetTask", "goodbye")
        .append_pair("Memory", &memory)
        .finish();
    let path = format!("{}?{query}", messaging_path(assistant.as_str()));
    let mut params = sms(
        "whatsapp:+15555550100",
        "anything at all",
        "SM40000000000000000000000000000001",
    );
    params.retain(|(name, _)| name != "To");
    params.extend(owned(&[
        ("To", "whatsapp:+14155238886"),
        ("ProfileName", "Ada <Lovelace>"),
        ("WaId", "15555550100"),
    ]));
    let answer = post_webhook(&server, &path, &params, Signing::Twilio).await;
    // TargetTask bypassed the NLU; Memory was merged before the task ran.
    assert_eq!(messages(&answer.twiml()), ["Goodbye, Ada!"]);
    // The dialogue ended (goodbye has no listen): find it through its turn.
    let usage = server
        .otto
        .store
        .usage(Some(&assistant), 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(usage.dialogues_started, 1);
    let processed = server
        .otto
        .store
        .message_processed("SM40000000000000000000000000000001")
        .await
        .unwrap()
        .unwrap();
    let dialogue = server
        .otto
        .store
        .dialogue(&processed.dialogue_sid.unwrap())
        .await
        .unwrap();
    assert_eq!(dialogue.user_identifier, "whatsapp:+15555550100");
    assert_eq!(dialogue.channel, "whatsapp");
    let memory = Value::Object(dialogue.state.memory);
    assert_eq!(memory["crm"]["tier"], "gold");
    assert_eq!(
        memory["twilio"]["messaging.whatsapp"],
        json!({
            "From": "whatsapp:+15555550100",
            "To": "whatsapp:+14155238886",
            "MessageSid": "SM40000000000000000000000000000001",
            "AccountSid": ACCOUNT,
            "ProfileName": "Ada <Lovelace>",
            "WaId": "15555550100",
            "NumMedia": "0",
        })
    );
    assert_eq!(memory["twilio"]["sms"], Value::Null);

    // A WhatsApp conversation that goes on: shows carry their media.
    let path = messaging_path(assistant.as_str());
    let hello = sms(
        "whatsapp:+15555550101",
        "hello",
        "SM40000000000000000000000000000002",
    );
    post_webhook(&server, &path, &hello, Signing::Twilio)
        .await
        .twiml();
    let menu = sms(
        "whatsapp:+15555550101",
        "show me the menu",
        "SM40000000000000000000000000000003",
    );
    let twiml = post_webhook(&server, &path, &menu, Signing::Twilio)
        .await
        .twiml();
    assert_eq!(twiml.children[1].verbs(), ["Body", "Media", "Media"]);
    let dialogue = active(&server, &assistant, "whatsapp:+15555550101")
        .await
        .unwrap();
    assert_eq!(dialogue.turn_count, 2);
}

#[tokio::test]
async fn bad_requests_are_refused_clearly_and_store_nothing() {
    let (server, assistant) = setup(true).await;
    let path = messaging_path(assistant.as_str());
    type Case = (String, Vec<(String, String)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            format!("{path}?Memory=%5B1%5D"),
            sms(
                "+15555550100",
                "hello",
                "SM50000000000000000000000000000001",
            ),
            "the Memory query parameter must be a JSON object",
        ),
        (
            format!("{path}?Memory=%7Bnope"),
            sms(
                "+15555550100",
                "hello",
                "SM50000000000000000000000000000002",
            ),
            "the Memory query parameter is not valid JSON: key must be a string at line 1 column 2",
        ),
        (
            path.clone(),
            owned(&[
                ("Body", "hello"),
                ("MessageSid", "SM50000000000000000000000000000003"),
            ]),
            "missing required parameter From: the sender's address, the user of the dialogue (Twilio sends it with every webhook)",
        ),
        (
            path.clone(),
            owned(&[("Body", "hello"), ("From", "+15555550100")]),
            "missing required parameter MessageSid: the message's SID, which makes Twilio's retries safe (Twilio sends it with every webhook)",
        ),
    ];
    for (path, params, message) in cases {
        let answer = post_webhook(&server, &path, &params, Signing::Twilio).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert_eq!(answer.json()["message"], message);
        assert_eq!(answer.json()["code"], 20001);
    }
    // A path segment that is not percent-encoded UTF-8: Twilio's error JSON,
    // on both webhooks, not axum's plain text.
    for path in [messaging_path("%FF"), voice_path("%C3%28")] {
        let params = sms(
            "+15555550100",
            "hello",
            "SM50000000000000000000000000000004",
        );
        let answer = post_webhook(&server, &path, &params, Signing::Twilio).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert_eq!(answer.json()["code"], 20001, "{}", answer.body);
        let message = answer.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.starts_with(&format!("the URL path {path} is malformed")),
            "{message}"
        );
    }
    assert!(active(&server, &assistant, "+15555550100").await.is_none());
    assert_eq!(turn_count(&server, &assistant).await, 0);
    // A body that is not a form.
    let response = server
        .client
        .post(server.url(&path))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_check_can_be_switched_off_for_local_testing() {
    let (server, assistant) = setup(false).await;
    let path = messaging_path(assistant.as_str());
    let answer = post_webhook(
        &server,
        &path,
        &sms(
            "+15555550100",
            "hello",
            "SM60000000000000000000000000000001",
        ),
        Signing::Unsigned,
    )
    .await;
    assert_eq!(
        messages(&answer.twiml()),
        ["Hello! Text MENU to see what we cook."]
    );
    let answer = post_webhook(
        &server,
        &path,
        &sms(
            "+15555550100",
            "menu please",
            "SM60000000000000000000000000000002",
        ),
        Signing::Header("wrong"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(turn_count(&server, &assistant).await, 2);
}

#[tokio::test]
async fn markup_in_user_data_stays_text() {
    let (server, assistant) = setup(true).await;
    // The goodbye task says "Goodbye, {{memory.crm.name}}!": the name comes
    // from the caller-controlled Memory parameter.
    let name = "</Message><Redirect>https://evil.example/x</Redirect><Message>&amp;\u{7}";
    let memory = json!({"crm": {"name": name}}).to_string();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("TargetTask", "goodbye")
        .append_pair("Memory", &memory)
        .finish();
    let path = format!("{}?{query}", messaging_path(assistant.as_str()));
    let params = sms(
        "+15555550100",
        "<Hangup/>",
        "SM70000000000000000000000000000001",
    );
    let twiml = post_webhook(&server, &path, &params, Signing::Twilio)
        .await
        .twiml();
    assert_eq!(twiml.verbs(), ["Message"]);
    assert!(twiml.children[0].children.is_empty());
    // One message whose text is the say's text: the engine removes what
    // looks like SSML tags and decodes entities for text channels; the
    // control character XML cannot carry is dropped; the `&` is escaped by
    // the writer and reads back as text.
    assert_eq!(twiml.children[0].text, "Goodbye, https://evil.example/x&!");

    // Show bodies are not SSML: the markup arrives as text, escaped.
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("TargetTask", "card")
        .append_pair("Memory", &memory)
        .finish();
    let path = format!("{}?{query}", messaging_path(assistant.as_str()));
    let params = sms("+15555550101", "hi", "SM70000000000000000000000000000002");
    let answer = post_webhook(&server, &path, &params, Signing::Twilio).await;
    assert!(
        answer.body.contains("&lt;/Message&gt;&lt;Redirect&gt;"),
        "{}",
        answer.body
    );
    let twiml = answer.twiml();
    assert_eq!(twiml.verbs(), ["Message"]);
    assert_eq!(twiml.children[0].verbs(), ["Body", "Media"]);
    assert_eq!(
        twiml.children[0].children[0].text,
        "Card of </Message><Redirect>https://evil.example/x</Redirect><Message>&amp;"
    );
}
