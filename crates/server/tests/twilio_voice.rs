//! `POST /v1/{AccountSid}/{AssistantSid}/twilio-voice`: whole calls played as
//! Twilio plays them (the number's webhook, each `<Gather>` result posted to
//! its action URL, silence falling through to the `<Redirect>`, hand-offs,
//! the status callback), every request signed by Twilio's RequestValidator
//! over the exact URL otto gave, every answer read with an XML parser.

mod common;
mod twilio_support;

use axum::http::StatusCode;
use common::*;
use otto_engine::EndReason;
use otto_model::Sid;
use otto_store::DialogueRecord;
use serde_json::{Value, json};
use twilio_support::*;

const TWILIO_NUMBER: &str = "+15555550199";
const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";

fn schema() -> String {
    json!({
        "uniqueName": "phone",
        "defaults": {"defaults": {"assistant_initiation": "task://greeting", "fallback": "task://fallback"}},
        "styleSheet": {"style_sheet": {"voice": {"say_voice": "Polly.Joanna"}}},
        "tasks": [
            {"uniqueName": "greeting",
             "actions": {"actions": [
                 {"say": "Welcome to the bistro. <break time=\"500ms\"/>Say book a table, or press 1 for our hours."},
                 {"listen": {"voice_digits": {"num_digits": 1, "finish_on_key": "#",
                                              "redirects": {"1": "task://hours", "9": "task://agent_queue"}}}}]},
             "samples": [{"language": "en-US", "taggedText": "hello"},
                         {"language": "en-US", "taggedText": "hi there"},
                         {"language": "en-US", "taggedText": "start over"}]},
            {"uniqueName": "hours",
             "actions": {"actions": [
                 {"say": "We open at noon & close late."},
                 {"play": {"url": "https://example.com/chime.mp3", "loop": 2}},
                 {"listen": true}]},
             "samples": [{"language": "en-US", "taggedText": "when are you open"},
                         {"language": "en-US", "taggedText": "opening hours"},
                         {"language": "en-US", "taggedText": "what time do you open"}]},
            {"uniqueName": "book_table",
             "actions": {"actions": [
                 {"collect": {"name": "booking",
                              "questions": [{"question": "How many people?", "name": "party_size",
                                             "type": "Twilio.NUMBER",
                                             "voice_digits": {"finish_on_key": "#"}}],
                              "on_complete": {"redirect": "task://confirm"}}}]},
             "samples": [{"language": "en-US", "taggedText": "book a table"},
                         {"language": "en-US", "taggedText": "I want to reserve a table"},
                         {"language": "en-US", "taggedText": "a table for dinner please"}]},
            {"uniqueName": "confirm",
             "actions": {"actions": [
                 {"say": "A table for {{memory.twilio.collected_data.booking.answers.party_size.answer}} is booked."},
                 {"listen": true}]}},
            {"uniqueName": "agent",
             "actions": {"actions": [
                 {"say": "Connecting you to a person."},
                 {"handoff": {"channel": "voice", "uri": "https://example.com/agent.xml?team=front", "method": "POST"}}]},
             "samples": [{"language": "en-US", "taggedText": "talk to a person"},
                         {"language": "en-US", "taggedText": "human agent please"},
                         {"language": "en-US", "taggedText": "let me speak to a representative"}]},
            {"uniqueName": "agent_queue",
             "actions": {"actions": [
                 {"handoff": {"channel": "voice", "uri": format!("taskrouter://{WORKFLOW}"),
                              "wait_url": "https://example.com/hold-music", "wait_url_method": "GET",
                              "action": "https://example.com/after-queue", "priority": "5", "timeout": 200,
                              "attributes": {"skill": "booking"}}}]}},
            {"uniqueName": "goodbye",
             "actions": {"actions": [{"say": "Goodbye!"}]},
             "samples": [{"language": "en-US", "taggedText": "goodbye"},
                         {"language": "en-US", "taggedText": "that is all thank you"},
                         {"language": "en-US", "taggedText": "bye for now"}]},
            {"uniqueName": "fallback",
             "actions": {"actions": [{"say": "Sorry, I did not catch that."}, {"listen": true}]}}
        ]
    })
    .to_string()
}

/// One call as Twilio makes it.
struct Call<'a> {
    server: &'a TestServer,
    assistant: &'a Sid,
    call_sid: String,
    from: String,
    to: String,
    direction: &'static str,
    /// The URL Twilio requests next (the `<Gather action>` of the last answer).
    next: Option<String>,
}

impl<'a> Call<'a> {
    fn new(server: &'a TestServer, assistant: &'a Sid, call_sid: &str, from: &str) -> Call<'a> {
        Call {
            server,
            assistant,
            call_sid: call_sid.to_owned(),
            from: from.to_owned(),
            to: TWILIO_NUMBER.to_owned(),
            direction: "inbound",
            next: None,
        }
    }

    fn params(&self, status: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut params = owned(&[
            ("AccountSid", ACCOUNT),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", &self.call_sid),
            ("CallStatus", status),
            ("Called", &self.to),
            ("Caller", &self.from),
            ("Direction", self.direction),
            ("From", &self.from),
            ("FromCity", "SAN FRANCISCO"),
            ("FromCountry", "US"),
            ("To", &self.to),
        ]);
        params.extend(owned(extra));
        params
    }

    /// Posts to `path_and_query`, signed by Twilio's validator.
    async fn post(&self, path_and_query: &str, params: &[(String, String)]) -> Answer {
        post_webhook(self.server, path_and_query, params, Signing::Twilio).await
    }

    /// The call connects: Twilio requests the number's voice URL.
    async fn connect(&mut self, query: &str) -> Twiml {
        let path = format!("{}{query}", voice_path(self.assistant.as_str()));
        let answer = self.post(&path, &self.params("ringing", &[])).await;
        self.follow(answer)
    }

    /// The caller speaks: Twilio posts the speech result to the Gather action.
    async fn say(&mut self, words: &str) -> Twiml {
        let params = self.params(
            "in-progress",
            &[("SpeechResult", words), ("Confidence", "0.92")],
        );
        let answer = self.post(&self.next_path(), &params).await;
        self.follow(answer)
    }

    /// The caller presses keys.
    async fn press(&mut self, digits: &str) -> Twiml {
        let params = self.params("in-progress", &[("Digits", digits)]);
        let answer = self.post(&self.next_path(), &params).await;
        self.follow(answer)
    }

    /// Nothing said: Twilio falls through the `<Gather>` to the `<Redirect>`.
    async fn silence(&mut self, redirect: &str) -> Twiml {
        let params = self.params("in-progress", &[]);
        let answer = self.post(&self.path_of(redirect), &params).await;
        self.follow(answer)
    }

    /// The status callback.
    async fn hang_up(&self) -> Answer {
        let path = voice_path(self.assistant.as_str());
        self.post(&path, &self.params("completed", &[("CallDuration", "42")]))
            .await
    }

    fn follow(&mut self, answer: Answer) -> Twiml {
        let twiml = answer.twiml();
        self.next = twiml
            .children
            .iter()
            .find(|verb| verb.name == "Gather")
            .and_then(|gather| gather.attr("action"))
            .map(str::to_owned);
        twiml
    }

    fn next_path(&self) -> String {
        let next = self
            .next
            .as_deref()
            .expect("the last answer had no <Gather>");
        self.path_of(next)
    }

    /// A URL otto gave, as a path for the test client (it must start with
    /// the server's public URL, since Twilio will request it as given).
    fn path_of(&self, url: &str) -> String {
        let base = self.server.server.url();
        url.strip_prefix(&base)
            .unwrap_or_else(|| panic!("{url} is not under the public URL {base}"))
            .to_owned()
    }
}

async fn setup() -> (TestServer, Sid) {
    let server = TestServer::start(|_| {}).await;
    let sid = server.import(&schema()).await;
    (server, sid)
}

async fn active(server: &TestServer, assistant: &Sid, user: &str) -> Option<DialogueRecord> {
    server
        .otto
        .store
        .load_active_dialogue(assistant, user)
        .await
        .unwrap()
}

async fn turns(server: &TestServer, assistant: &Sid) -> i64 {
    server
        .otto
        .store
        .usage(Some(assistant), 0, i64::MAX)
        .await
        .unwrap()
        .turns
}

fn step_of(url: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "OttoStep")
        .unwrap()
        .1
        .into_owned()
}

/// The `<Gather>` of a waiting answer and the `<Redirect>` after it, checked.
fn gather_of<'t>(twiml: &'t Twiml, step: &str) -> &'t Twiml {
    assert_eq!(twiml.verbs(), ["Gather", "Redirect"], "{twiml:#?}");
    let gather = &twiml.children[0];
    assert_eq!(gather.attr("input"), Some("speech dtmf"));
    assert_eq!(gather.attr("method"), Some("POST"));
    assert_eq!(gather.attr("speechTimeout"), Some("auto"));
    let action = gather.attr("action").unwrap();
    assert_eq!(step_of(action), step);
    let redirect = &twiml.children[1];
    assert_eq!(redirect.attr("method"), Some("POST"));
    assert_eq!(redirect.text, action);
    gather
}

#[tokio::test]
async fn a_whole_call_with_speech_digits_silence_a_collect_and_a_handoff() {
    let (server, assistant) = setup().await;
    let caller = "+15555550100";
    let mut call = Call::new(
        &server,
        &assistant,
        "CA00000000000000000000000000000001",
        caller,
    );

    // 1. The call connects: the initiation task speaks with the style
    // sheet's voice, SSML kept as SSML, inside a speech+DTMF <Gather> with
    // the listen's voice_digits.
    let twiml = call.connect("").await;
    let gather = gather_of(&twiml, "1");
    assert_eq!(gather.attr("numDigits"), Some("1"));
    assert_eq!(gather.attr("finishOnKey"), Some("#"));
    assert_eq!(gather.verbs(), ["Say"]);
    let say = &gather.children[0];
    assert_eq!(say.attr("voice"), Some("Polly.Joanna"));
    assert_eq!(say.verbs(), ["break"]);
    assert_eq!(say.children[0].attr("time"), Some("500ms"));
    assert_eq!(
        say.text,
        "Welcome to the bistro. Say book a table, or press 1 for our hours."
    );
    let action = gather.attr("action").unwrap().to_owned();
    assert_eq!(
        action,
        server.url(&format!("{}?OttoStep=1", voice_path(assistant.as_str())))
    );
    // Memory: twilio.voice with the call's parameters.
    let dialogue = active(&server, &assistant, caller).await.unwrap();
    assert_eq!(dialogue.channel, "voice");
    assert_eq!(
        Value::Object(dialogue.state.memory.clone())["twilio"]["voice"],
        json!({
            "CallSid": "CA00000000000000000000000000000001",
            "AccountSid": ACCOUNT,
            "From": caller,
            "To": TWILIO_NUMBER,
            "Caller": caller,
            "Called": TWILIO_NUMBER,
            "Direction": "inbound",
            "FromCity": "SAN FRANCISCO",
            "FromCountry": "US",
        })
    );
    // Twilio retries the first request: the same TwiML, no second turn.
    let retry = call
        .post(
            &voice_path(assistant.as_str()),
            &call.params("ringing", &[]),
        )
        .await;
    assert_eq!(Twiml::parse(&retry.body), twiml);
    assert_eq!(turns(&server, &assistant).await, 1);

    // 2. The caller presses 1: the voice_digits redirect to `hours`; say and
    // play inside the next Gather (barge-in), play with its loop.
    let twiml = call.press("1").await;
    let gather = gather_of(&twiml, "2");
    assert_eq!(gather.attr("numDigits"), None);
    assert_eq!(gather.verbs(), ["Say", "Play"]);
    assert_eq!(gather.children[0].text, "We open at noon & close late.");
    assert_eq!(gather.children[1].attr("loop"), Some("2"));
    assert_eq!(gather.children[1].text, "https://example.com/chime.mp3");
    let dialogue = active(&server, &assistant, caller).await.unwrap();
    assert_eq!(dialogue.state.current_task.as_deref(), Some("hours"));

    // 3. Speech: the NLU routes to the booking collect; the question's DTMF
    // settings go on the Gather.
    let twiml = call.say("I want to reserve a table").await;
    let gather = gather_of(&twiml, "3");
    assert_eq!(gather.attr("finishOnKey"), Some("#"));
    assert_eq!(gather.verbs(), ["Say"]);
    assert_eq!(gather.children[0].text, "How many people?");
    let redirect = twiml.children[1].text.clone();

    // 4. Silence: Twilio follows the <Redirect>; an empty answer is a failed
    // attempt and the question is asked again.
    let twiml = call.silence(&redirect).await;
    let gather = gather_of(&twiml, "4");
    assert_eq!(gather.children.last().unwrap().text, "How many people?");
    let dialogue = active(&server, &assistant, caller).await.unwrap();
    assert_eq!(dialogue.state.collect().unwrap().attempts, 1);

    // 5. Digits answer the question; on_complete goes to `confirm`.
    let twiml = call.press("4").await;
    let gather = gather_of(&twiml, "5");
    assert_eq!(gather.children[0].text, "A table for 4 is booked.");
    let dialogue = active(&server, &assistant, caller).await.unwrap();
    let memory = Value::Object(dialogue.state.memory);
    assert_eq!(
        memory["twilio"]["collected_data"]["booking"]["answers"]["party_size"],
        json!({"answer": "4", "type": "Twilio.NUMBER", "filled": true, "attempts": 2})
    );

    // 6. A hand-off to a TwiML URL: <Say> then <Redirect> to it, with the
    // Autopilot request in its query string (no Memory).
    let twiml = call.say("let me speak to a representative").await;
    assert_eq!(twiml.verbs(), ["Say", "Redirect"]);
    assert_eq!(twiml.children[0].text, "Connecting you to a person.");
    let redirect = &twiml.children[1];
    assert_eq!(redirect.attr("method"), Some("POST"));
    let (base, query) = redirect.text.split_once('?').unwrap();
    assert_eq!(base, "https://example.com/agent.xml");
    let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let value = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(value("team"), Some("front"));
    assert_eq!(value("AccountSid"), Some(ACCOUNT));
    assert_eq!(value("AssistantSid"), Some(assistant.as_str()));
    assert_eq!(value("DialogueSid"), Some(dialogue.sid.as_str()));
    assert_eq!(value("UserIdentifier"), Some(caller));
    assert_eq!(value("CurrentTask"), Some("agent"));
    assert_eq!(
        value("CurrentInput"),
        Some("let me speak to a representative")
    );
    assert_eq!(value("Channel"), Some("voice"));
    assert_eq!(value("Memory"), None);
    // The hand-off ended the dialogue.
    assert!(active(&server, &assistant, caller).await.is_none());
    let ended = server.otto.store.dialogue(&dialogue.sid).await.unwrap();
    assert_eq!(ended.state.end_reason, Some(EndReason::Handoff));
    assert_eq!(turns(&server, &assistant).await, 6);

    // 7. The status callback once the agent hangs up: nothing left to end.
    let answer = call.hang_up().await;
    assert_eq!(answer.twiml().children, vec![]);
    assert_eq!(turns(&server, &assistant).await, 6);
}

#[tokio::test]
async fn the_status_callback_hangs_up_the_dialogue_of_its_call_once() {
    let (server, assistant) = setup().await;
    let caller = "+15555550101";
    let mut call = Call::new(
        &server,
        &assistant,
        "CA00000000000000000000000000000002",
        caller,
    );
    call.connect("").await;
    call.say("when are you open").await;
    let dialogue = active(&server, &assistant, caller).await.unwrap();

    // A status callback of another (older) call of the same number changes
    // nothing.
    let old = Call::new(
        &server,
        &assistant,
        "CA000000000000000000000000000000ff",
        caller,
    );
    assert_eq!(old.hang_up().await.twiml().children, vec![]);
    assert!(active(&server, &assistant, caller).await.is_some());

    // `completed` hangs up: an empty answer, the dialogue ended by hang-up.
    let answer = call.hang_up().await;
    assert_eq!(
        answer.body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
    );
    assert!(active(&server, &assistant, caller).await.is_none());
    let ended = server.otto.store.dialogue(&dialogue.sid).await.unwrap();
    assert!(ended.state.ended);
    assert_eq!(ended.state.end_reason, Some(EndReason::HangUp));
    let count = turns(&server, &assistant).await;
    // Twilio retries the callback: nothing more happens.
    call.hang_up().await.twiml();
    assert_eq!(turns(&server, &assistant).await, count);

    // A call that ends with the assistant's goodbye hangs up itself.
    let mut call = Call::new(
        &server,
        &assistant,
        "CA00000000000000000000000000000003",
        caller,
    );
    call.connect("").await;
    let twiml = call.say("that is all thank you").await;
    assert_eq!(twiml.verbs(), ["Say", "Hangup"]);
    assert_eq!(twiml.children[0].text, "Goodbye!");
    assert_eq!(twiml.children[0].attr("voice"), Some("Polly.Joanna"));
    assert!(active(&server, &assistant, caller).await.is_none());
}

#[tokio::test]
async fn taskrouter_handoff_outbound_calls_target_task_and_signatures() {
    let (server, assistant) = setup().await;

    // Pressing 9 hands the call to a TaskRouter workflow.
    let caller = "+15555550102";
    let mut call = Call::new(
        &server,
        &assistant,
        "CA00000000000000000000000000000004",
        caller,
    );
    call.connect("").await;
    let twiml = call.press("9").await;
    assert_eq!(twiml.verbs(), ["Enqueue"]);
    let enqueue = &twiml.children[0];
    assert_eq!(enqueue.attr("workflowSid"), Some(WORKFLOW));
    assert_eq!(
        enqueue.attr("waitUrl"),
        Some("https://example.com/hold-music")
    );
    assert_eq!(enqueue.attr("waitUrlMethod"), Some("GET"));
    assert_eq!(
        enqueue.attr("action"),
        Some("https://example.com/after-queue")
    );
    let task = enqueue.child("Task");
    assert_eq!(task.attr("priority"), Some("5"));
    assert_eq!(task.attr("timeout"), Some("200"));
    assert_eq!(
        serde_json::from_str::<Value>(&task.text).unwrap(),
        json!({"skill": "booking"})
    );
    assert!(active(&server, &assistant, caller).await.is_none());

    // An outbound call: the user is the number called. TargetTask and Memory
    // from the voice URL apply, and stay on the Gather action URL.
    let mut call = Call::new(
        &server,
        &assistant,
        "CA00000000000000000000000000000005",
        TWILIO_NUMBER,
    );
    call.to = "+15555550103".to_owned();
    call.direction = "outbound-api";
    let memory = json!({"crm": {"name": "Ada"}}).to_string();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("TargetTask", "hours")
        .append_pair("Memory", &memory)
        .finish();
    let twiml = call.connect(&format!("?{query}")).await;
    let gather = gather_of(&twiml, "1");
    assert_eq!(gather.children[0].text, "We open at noon & close late.");
    let action = gather.attr("action").unwrap();
    assert!(action.contains("TargetTask=hours"), "{action}");
    let dialogue = active(&server, &assistant, "+15555550103").await.unwrap();
    assert_eq!(Value::Object(dialogue.state.memory)["crm"]["name"], "Ada");

    // Signatures: unsigned, or signed without the step in the URL, is 403
    // and changes nothing.
    let params = call.params("in-progress", &[("SpeechResult", "goodbye")]);
    let count = turns(&server, &assistant).await;
    let path = call.next_path();
    let answer = post_webhook(&server, &path, &params, Signing::Unsigned).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["code"], 20403);
    let without_step =
        twilio_signature(TOKEN, &server.url(&voice_path(assistant.as_str())), &params);
    let answer = post_webhook(&server, &path, &params, Signing::Header(&without_step)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(turns(&server, &assistant).await, count);

    // The same step posted twice (a retry) runs once.
    let first = post_webhook(&server, &path, &params, Signing::Twilio).await;
    let second = post_webhook(&server, &path, &params, Signing::Twilio).await;
    assert_eq!(first.body, second.body);
    assert_eq!(turns(&server, &assistant).await, count + 1);

    // Twilio's parameters are required.
    let answer = post_webhook(
        &server,
        &voice_path(assistant.as_str()),
        &owned(&[("From", "+15555550104")]),
        Signing::Twilio,
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json()["message"],
        "missing required parameter CallSid: the call's SID (Twilio sends it with every webhook)"
    );
}
