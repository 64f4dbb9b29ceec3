//! Routing and the dialogue lifecycle: greeting, fallback, ends, expiry,
//! target task, inbound memory, listen restrictions, DTMF, URL tasks.

mod common;

use chrono::TimeDelta;
use common::*;
use otto_engine::state::{DigitRedirect, DigitsState};
use otto_engine::{
    Bot, EndReason, EngineConfig, ErrorKind, EventKind, InputKind, ListenState, Method, Route,
    TurnInput, Waiting,
};
use otto_model::Assistant;
use serde_json::json;

fn shop() -> Assistant {
    assistant(
        vec![
            task(
                "greeting",
                json!([{"say": "Hello! How can I help?"}, {"listen": true}]),
            ),
            task(
                "fallback",
                json!([{"say": "Sorry, say that again?"}, {"listen": true}]),
            ),
            task("goodbye", json!([{"say": {"speech": "Bye!"}}])),
            task(
                "agent",
                json!([{"say": "Connecting you."},
                       {"handoff": {"channel": "voice", "uri": "https://example.com/agent.xml", "method": "POST"}}]),
            ),
            task(
                "menu",
                json!([{"say": "Press 1 for sales, 2 for support."},
                       {"listen": {"voice_digits": {"num_digits": 1, "finish_on_key": "#",
                                                    "redirects": {"1": "task://sales", "2": "https://actions.test/support"}}}}]),
            ),
            task(
                "sales",
                json!([{"say": "Sales here."}, {"listen": {"tasks": ["goodbye", "agent"]}}]),
            ),
            url_task("orders", "https://actions.test/orders"),
        ],
        json!({"assistant_initiation": "task://greeting", "fallback": "task://fallback"}),
    )
}

fn shop_nlu() -> KeywordNlu {
    KeywordNlu::new()
        .task("greeting", &["hello", "hi there"])
        .task("goodbye", &["bye"])
        .task("agent", &["agent"])
        .task("menu", &["menu"])
        .task("sales", &["sales"])
        .task("orders", &["order"])
        .number_field("orders", "order_number")
}

fn harness() -> Harness {
    Harness::new(shop(), shop_nlu())
}

#[test]
fn a_greeting_answers_and_listens() {
    let h = harness();
    let result = h.say(None, "hello", at(0));
    assert_eq!(texts(&result), ["Hello! How can I help?"]);
    assert_eq!(result.output.listen, Some(ListenState::default()));
    assert!(!result.output.ended);
    assert_eq!(result.state.sid, dialogue_sid(1));
    assert_eq!(
        result.state.waiting,
        Waiting::Listen(ListenState::default())
    );
    assert_eq!(result.state.current_task.as_deref(), Some("greeting"));
    assert_eq!(
        (result.route, result.task.as_deref(), result.confidence),
        (Route::Nlu, Some("greeting"), 0.9)
    );
    assert_eq!(
        event_names(&result),
        [
            "onDialogueStart",
            "onDialogueTaskStart",
            "onDialogueTaskEnd",
            "onDialogueTurn"
        ]
    );
    assert!(result.errors.is_empty());
    assert_eq!(result.state.created_at, at(0));
    assert_eq!(result.state.last_input_at, at(0));
}

#[test]
fn only_subscribed_events_are_built() {
    let h = harness();
    let turn = |subscribed: &[String]| {
        let bot = Bot {
            subscribed_events: Some(subscribed),
            ..h.bot()
        };
        block_on(h.engine.turn(bot, None, sms("hello"), at(0)))
    };
    let wanted = [
        "ondialoguetaskstart".to_owned(),
        "onDialogueTurn".to_owned(),
    ];
    let some = turn(&wanted);
    assert_eq!(
        event_names(&some),
        ["onDialogueTaskStart", "onDialogueTurn"],
        "names compare in any case"
    );
    let none = turn(&[]);
    assert!(none.events.is_empty());
    // The conversation itself is the same.
    assert_eq!(texts(&none), texts(&h.say(None, "hello", at(0))));
}

#[test]
fn event_params_carry_the_dialogue_context() {
    let h = harness();
    let result = h.say(None, "hello", at(0));
    let start = &result.events[1];
    assert_eq!(
        start.kind,
        EventKind::TaskStart {
            task: "greeting".into()
        }
    );
    let sid = dialogue_sid(1).to_string();
    assert_eq!(
        start.params(),
        [
            ("Event", "onDialogueTaskStart"),
            ("AccountSid", account_sid().as_str()),
            ("AssistantSid", assistant_sid().as_str()),
            ("DialogueSid", sid.as_str()),
            ("UserIdentifier", USER),
            ("Channel", "sms"),
            ("CurrentTask", "greeting"),
            ("CurrentInput", "hello"),
            ("Memory", "{}"),
            ("TaskName", "greeting"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(result.events[0].current_task, None);
    assert_eq!(result.events[0].at, at(0));
}

#[test]
fn unmatched_input_runs_the_fallback_and_the_dialogue_goes_on() {
    let h = harness();
    let first = h.say(None, "what's the weather", at(0));
    assert_eq!(texts(&first), ["Sorry, say that again?"]);
    assert_eq!(
        (first.route, first.task.as_deref(), first.confidence),
        (Route::Nlu, Some("fallback"), 0.0)
    );
    assert!(first.errors.is_empty());

    let second = h.say(Some(first.state), "bye", at(1));
    assert_eq!(texts(&second), ["Bye!"]);
    assert_eq!(second.state.sid, dialogue_sid(1));
    assert!(second.output.ended);
    assert!(second.state.ended);
    assert_eq!(second.state.end_reason, Some(EndReason::Completed));
    assert_eq!(second.state.waiting, Waiting::Nothing);
    assert_eq!(
        event_names(&second),
        [
            "onDialogueTaskStart",
            "onDialogueTaskEnd",
            "onDialogueTurn",
            "onDialogueEnd"
        ]
    );
    assert_eq!(
        second.events[3].kind,
        EventKind::DialogueEnd {
            reason: EndReason::Completed
        }
    );
}

#[test]
fn without_a_fallback_the_user_gets_an_apology_and_the_operator_an_error() {
    let mut assistant = shop();
    assistant.defaults.fallback = None;
    let h = Harness::new(assistant, shop_nlu());
    let result = h.say(None, "gibberish", at(0));
    assert_eq!(texts(&result), [otto_engine::DEFAULT_APOLOGY]);
    assert_eq!(error_kinds(&result), [ErrorKind::NoFallback]);
    assert_eq!(
        result.errors[0].message,
        "no task matched \"gibberish\" and defaults.fallback is not set"
    );
    assert_eq!(result.state.end_reason, Some(EndReason::Error));
    assert!(result.output.ended);
}

#[test]
fn a_message_after_the_end_starts_a_new_dialogue() {
    let h = harness();
    let ended = h.say(None, "bye", at(0));
    assert!(ended.state.ended);
    let next = h.say(Some(ended.state), "hello", at(1));
    assert_eq!(next.state.sid, dialogue_sid(2));
    assert_eq!(next.state.created_at, at(1));
    assert_eq!(event_names(&next)[0], "onDialogueStart");
}

#[test]
fn handoff_ends_the_dialogue_with_the_request_for_the_twiml_url() {
    let h = harness();
    let result = h.turn(None, voice(InputKind::Message, "get me an agent"), at(0));
    assert_eq!(texts(&result), ["Connecting you."]);
    let handoff = result.output.handoff.as_ref().expect("a handoff");
    assert_eq!(handoff.uri, "https://example.com/agent.xml");
    assert_eq!(handoff.method, Some(Method::Post));
    let param = |name: &str| {
        handoff
            .params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(param("CurrentTask"), Some("agent"));
    assert_eq!(param("Channel"), Some("voice"));
    assert_eq!(param("Memory"), Some("{}"));
    assert!(result.output.ended);
    assert_eq!(result.state.end_reason, Some(EndReason::Handoff));
    assert_eq!(result.output.listen, None);
}

#[test]
fn hang_up_ends_a_live_dialogue() {
    let h = harness();
    let live = h.turn(None, voice(InputKind::CallStart, ""), at(0));
    let result = h.turn(Some(live.state), voice(InputKind::HangUp, ""), at(1));
    assert!(result.output.ended);
    assert!(result.output.says.is_empty());
    assert_eq!(result.state.sid, dialogue_sid(1));
    assert_eq!(result.state.end_reason, Some(EndReason::HangUp));
    assert_eq!(result.route, Route::NotRouted);
    assert_eq!(event_names(&result), ["onDialogueEnd"]);
}

#[test]
fn hang_up_without_a_dialogue_reports_nothing() {
    let h = harness();
    let result = h.turn(None, voice(InputKind::HangUp, ""), at(0));
    assert!(result.output.ended);
    assert!(result.state.ended);
    assert_eq!(result.state.end_reason, Some(EndReason::HangUp));
    assert!(result.events.is_empty());
    assert!(h.nlu.parse_calls().is_empty());
}

#[test]
fn idle_dialogues_expire_and_the_next_input_starts_a_new_one() {
    let h = harness();
    let first = h.say(None, "hello", at(0));
    let within = h.say(Some(first.state.clone()), "hello", at(240));
    assert_eq!(
        within.state.sid,
        dialogue_sid(1),
        "exactly 4 hours is still live"
    );

    let late = h.say(Some(within.state), "hello", at(240 + 241));
    assert_eq!(late.state.sid, dialogue_sid(2));
    assert_eq!(late.state.created_at, at(481));
    assert_eq!(
        event_names(&late),
        [
            "onDialogueEnd",
            "onDialogueStart",
            "onDialogueTaskStart",
            "onDialogueTaskEnd",
            "onDialogueTurn"
        ]
    );
    assert_eq!(late.events[0].dialogue_sid, dialogue_sid(1));
    assert_eq!(
        late.events[0].kind,
        EventKind::DialogueEnd {
            reason: EndReason::IdleTimeout
        }
    );
    assert_eq!(late.events[1].dialogue_sid, dialogue_sid(2));
}

#[test]
fn the_idle_timeout_is_configurable_and_a_sweeper_can_expire() {
    let config = EngineConfig {
        idle_timeout: TimeDelta::minutes(10),
        ..EngineConfig::default()
    };
    let h = Harness::with_config(shop(), shop_nlu(), config);
    let first = h.say(None, "hello", at(0));
    assert!(
        h.engine
            .expire_idle(h.bot(), first.state.clone(), at(10))
            .is_none()
    );
    let expired = h
        .engine
        .expire_idle(h.bot(), first.state.clone(), at(11))
        .expect("expired");
    assert!(expired.state.ended);
    assert_eq!(expired.state.end_reason, Some(EndReason::IdleTimeout));
    assert_eq!(expired.events.len(), 1);
    assert_eq!(
        expired.events[0].kind,
        EventKind::DialogueEnd {
            reason: EndReason::IdleTimeout
        }
    );
    assert!(
        h.engine
            .expire_idle(h.bot(), expired.state, at(60))
            .is_none(),
        "already ended"
    );
    assert_eq!(
        h.say(Some(first.state), "hello", at(11)).state.sid,
        dialogue_sid(2)
    );
}

#[test]
fn a_call_runs_the_initiation_default_and_a_new_call_replaces_a_live_dialogue() {
    let h = harness();
    let call = h.turn(None, voice(InputKind::CallStart, ""), at(0));
    assert_eq!(texts(&call), ["Hello! How can I help?"]);
    assert_eq!(
        (call.route, call.task.as_deref()),
        (Route::Initiation, Some("greeting"))
    );
    assert!(
        h.nlu.parse_calls().is_empty(),
        "initiation bypasses the NLU"
    );

    let again = h.turn(Some(call.state), voice(InputKind::CallStart, ""), at(1));
    assert_eq!(again.state.sid, dialogue_sid(2));
    assert_eq!(
        again.events[0].kind,
        EventKind::DialogueEnd {
            reason: EndReason::Replaced
        }
    );
    assert_eq!(again.events[0].dialogue_sid, dialogue_sid(1));
}

#[test]
fn a_target_task_bypasses_the_nlu() {
    let h = harness();
    let input = TurnInput {
        target_task: Some("sales".into()),
        ..sms("hello")
    };
    let result = h.turn(None, input, at(0));
    assert_eq!(texts(&result), ["Sales here."]);
    assert_eq!(
        (result.route, result.task.as_deref(), result.confidence),
        (Route::TargetTask, Some("sales"), 1.0)
    );
    assert!(h.nlu.parse_calls().is_empty());
}

#[test]
fn a_target_task_that_does_not_exist_takes_the_failure_path() {
    let h = harness();
    let input = TurnInput {
        target_task: Some("nope".into()),
        ..sms("hello")
    };
    let result = h.turn(None, input, at(0));
    assert_eq!(texts(&result), ["Sorry, say that again?"]);
    assert_eq!(error_kinds(&result), [ErrorKind::UnknownTask]);
    assert_eq!(
        result.errors[0].message,
        "task://nope names no task of the assistant"
    );
}

#[test]
fn inbound_memory_is_merged_before_the_dialogue_starts_and_on_each_turn() {
    let h = harness();
    let input = TurnInput {
        inbound_memory: Some(map(json!({"CarMake": "Lamborghini", "Color": "red"}))),
        ..sms("order 7")
    };
    h.fetcher().always(
        "https://actions.test/orders",
        Ok(json!({"actions": [{"listen": true}]})),
    );
    let first = h.turn(None, input, at(0));
    assert_eq!(
        first.state.memory,
        map(json!({"CarMake": "Lamborghini", "Color": "red"}))
    );
    let memory_sent = h.fetcher().requests()[0].param("Memory").map(str::to_owned);
    assert_eq!(
        memory_sent.as_deref(),
        Some("{\"CarMake\":\"Lamborghini\",\"Color\":\"red\"}")
    );
    assert_eq!(
        first.events[0].memory, first.state.memory,
        "onDialogueStart sees the context"
    );

    let input = TurnInput {
        inbound_memory: Some(map(json!({"CarMake": "Ferrari"}))),
        ..sms("hello")
    };
    let second = h.turn(Some(first.state), input, at(1));
    assert_eq!(
        second.state.memory,
        map(json!({"CarMake": "Ferrari", "Color": "red"}))
    );
}

#[test]
fn channel_data_lands_in_its_twilio_namespace() {
    let h = harness();
    let input = TurnInput {
        channel_data: Some(otto_engine::ChannelData {
            namespace: "voice".into(),
            values: map(json!({"CallSid": "CA123", "From": USER, "To": "+15550199"})),
        }),
        ..voice(InputKind::CallStart, "")
    };
    let result = h.turn(None, input, at(0));
    assert_eq!(
        result.state.memory,
        map(json!({"twilio": {"voice": {"CallSid": "CA123", "From": USER, "To": "+15550199"}}}))
    );
}

#[test]
fn listen_tasks_restrict_the_next_classification() {
    let h = harness();
    let sales = h.say(None, "sales please", at(0));
    assert_eq!(
        sales.output.listen,
        Some(ListenState {
            tasks: Some(vec!["goodbye".into(), "agent".into()]),
            ..ListenState::default()
        })
    );
    let next = h.say(Some(sales.state), "hello", at(1));
    let calls = h.nlu.parse_calls();
    assert_eq!(calls[0], ("sales please".to_owned(), None));
    assert_eq!(
        calls[1],
        (
            "hello".to_owned(),
            Some(vec!["goodbye".to_owned(), "agent".to_owned()])
        )
    );
    assert_eq!(
        next.task.as_deref(),
        Some("fallback"),
        "greeting is outside the restriction"
    );
    let after = h.say(Some(next.state), "hello", at(2));
    assert_eq!(
        h.nlu.parse_calls()[2].1,
        None,
        "the fallback's listen lifts the restriction"
    );
    assert_eq!(after.task.as_deref(), Some("greeting"));
}

#[test]
fn voice_digit_redirects_come_before_the_nlu() {
    let h = harness();
    let menu = h.turn(None, voice(InputKind::Message, "menu"), at(0));
    let listen = menu.output.listen.clone().expect("listening");
    assert_eq!(
        listen.voice_digits,
        Some(DigitsState {
            num_digits: Some(1),
            finish_on_key: Some("#".into()),
            redirects: vec![
                DigitRedirect {
                    digits: "1".into(),
                    uri: "task://sales".into(),
                    method: None
                },
                DigitRedirect {
                    digits: "2".into(),
                    uri: "https://actions.test/support".into(),
                    method: None
                },
            ],
        })
    );
    let sales = h.turn(
        Some(menu.state.clone()),
        voice(InputKind::Digits("1".into()), ""),
        at(1),
    );
    assert_eq!(texts(&sales), ["Sales here."]);
    assert_eq!(
        (sales.route, sales.task.as_deref()),
        (Route::Digits, Some("sales"))
    );
    assert_eq!(
        h.nlu.parse_calls().len(),
        1,
        "only the first turn asked the NLU"
    );

    h.fetcher().always(
        "https://actions.test/support",
        Ok(json!({"actions": [{"say": "Support."}]})),
    );
    let support = h.turn(
        Some(menu.state.clone()),
        voice(InputKind::Digits("2".into()), ""),
        at(1),
    );
    assert_eq!(texts(&support), ["Support."]);
    let request = &h.fetcher().requests()[0];
    assert_eq!(request.param("CurrentInput"), Some("2"));
    assert_eq!(request.param("CurrentTask"), Some("menu"));

    let other = h.turn(
        Some(menu.state),
        voice(InputKind::Digits("9".into()), ""),
        at(1),
    );
    assert_eq!(texts(&other), ["Sorry, say that again?"]);
    assert_eq!(h.nlu.parse_calls()[1], ("9".to_owned(), None));
}

#[test]
fn a_url_task_is_fetched_with_every_autopilot_parameter() {
    let h = harness();
    h.fetcher().always(
        "https://actions.test/orders",
        Ok(json!({"actions": [{"say": "Order {{fields.order_number}} shipped."}, {"listen": true}]})),
    );
    let result = h.say(None, "where is my order 42", at(0));
    assert_eq!(texts(&result), ["Order 42 shipped."]);
    let requests = h.fetcher().requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url, "https://actions.test/orders");
    assert_eq!(requests[0].method, Method::Post);
    let dialogue = dialogue_sid(1).to_string();
    let payload_url = format!(
        "https://otto.test/v1/Assistants/{}/Dialogues/{dialogue}",
        assistant_sid()
    );
    let expected: Vec<(String, String)> = [
        ("AccountSid", account_sid().as_str()),
        ("AssistantSid", assistant_sid().as_str()),
        ("DialogueSid", dialogue.as_str()),
        ("UserIdentifier", USER),
        ("CurrentInput", "where is my order 42"),
        ("CurrentTask", "orders"),
        ("CurrentTaskConfidence", "0.9"),
        ("NextBestTask", ""),
        ("Field_order_number_Value", "42"),
        ("Field_order_number_Type", "Twilio.NUMBER"),
        ("DialoguePayloadUrl", payload_url.as_str()),
        ("Memory", "{}"),
        ("Channel", "sms"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(requests[0].params, expected);
    assert_eq!(
        event_names(&result),
        [
            "onDialogueStart",
            "onDialogueTaskStart",
            "onActionsFetch",
            "onDialogueTaskEnd",
            "onDialogueTurn"
        ]
    );
    assert_eq!(
        result.events[2].kind,
        EventKind::ActionsFetch {
            url: "https://actions.test/orders".into()
        }
    );
    assert_eq!(result.fields[0].value, "42");
}

#[test]
fn the_runner_up_is_sent_as_next_best_task() {
    let h = harness();
    h.fetcher().always(
        "https://actions.test/orders",
        Ok(json!({"actions": [{"listen": true}]})),
    );
    let result = h.say(None, "order an agent", at(0));
    assert_eq!(
        (result.task.as_deref(), result.confidence),
        (Some("agent"), 0.5)
    );
    assert_eq!(result.next_best_task.as_deref(), Some("orders"));
}

#[test]
fn play_show_and_say_keep_their_order_and_ssml_is_stripped_for_text() {
    let h = Harness::new(
        assistant(
            vec![task(
                "promo",
                json!([
                    {"say": "Good morning! <say-as interpret-as='interjection'>Welcome</say-as>"},
                    {"play": {"url": "https://example.com/chime.mp3", "loop": 2}},
                    {"show": {"body": "Menu", "images": [{"label": "menu", "url": "https://example.com/menu.png"}]}},
                    {"remember": {"seen_promo": true}},
                    {"say": "Anything else?"},
                    {"listen": true}
                ]),
            )],
            json!({}),
        ),
        KeywordNlu::new().task("promo", &["promo"]),
    );
    let result = h.say(None, "promo", at(0));
    let output = &result.output;
    assert_eq!(
        output.says[0].speech,
        "Good morning! <say-as interpret-as='interjection'>Welcome</say-as>"
    );
    assert_eq!(output.says[0].text, "Good morning! Welcome");
    assert_eq!(output.plays[0].url, "https://example.com/chime.mp3");
    assert_eq!(output.plays[0].loop_count, Some(2));
    assert_eq!(output.shows[0].body, "Menu");
    assert_eq!(output.shows[0].images[0].label.as_deref(), Some("menu"));
    use otto_engine::output::OutputItem::{Play, Say, Show};
    assert_eq!(output.order, [Say(0), Play(0), Show(0), Say(1)]);
    assert_eq!(result.state.memory, map(json!({"seen_promo": true})));
    let custom = serde_json::to_value(output).unwrap();
    assert_eq!(
        custom["says"][1],
        json!({"speech": "Anything else?", "text": "Anything else?"})
    );
    assert_eq!(
        custom["plays"][0],
        json!({"url": "https://example.com/chime.mp3", "loop": 2})
    );
}

#[test]
fn the_style_sheet_voice_is_handed_to_the_channel() {
    let h = Harness::new(
        with_style(shop(), json!({"voice": {"say_voice": "Polly.Matthew"}})),
        shop_nlu(),
    );
    let result = h.turn(None, voice(InputKind::CallStart, ""), at(0));
    assert_eq!(result.output.say_voice.as_deref(), Some("Polly.Matthew"));
}
