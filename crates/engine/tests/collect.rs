//! `collect`: typed answers, allowed values, the validation webhook, retry
//! messages in turn, attempts and their redirects, style-sheet defaults.

mod common;

use common::*;
use otto_engine::state::DigitsState;
use otto_engine::{
    DialogueState, EndReason, EngineConfig, ErrorKind, EventKind, FetchError, InputKind, Method,
    Route, TurnResult, Waiting,
};
use otto_model::Assistant;
use serde_json::{Value, json};

const ANSWERS: &str = "/twilio/collected_data/make_reservation/answers";

fn reservation_actions() -> Value {
    json!([
        {"say": "Let's book."},
        {"collect": {
            "name": "make_reservation",
            "questions": [
                {"question": "What's your first name?", "name": "first_name", "type": "Twilio.FIRST_NAME"},
                {"question": {"say": "How many people, {{memory.twilio.collected_data.make_reservation.answers.first_name.answer}}?"},
                 "name": "party_size", "type": "Twilio.NUMBER", "prefill": "party_size"},
                {"question": "Which city?", "name": "city",
                 "validate": {
                    "allowed_values": {"list": ["New York", "NYC", "San Francisco"]},
                    "on_failure": {"messages": [{"say": "I don't know that city."},
                                                {"say": "Please say New York or San Francisco."}],
                                   "repeat_question": true},
                    "on_success": {"say": "Got it."},
                    "max_attempts": {"redirect": "task://having_trouble", "num_attempts": 3}}},
                {"question": "Any comments?", "name": "comments"}
            ],
            "on_complete": {"redirect": "task://confirm"}
        }}
    ])
}

fn restaurant() -> Assistant {
    let assistant = assistant(
        vec![
            task("reserve", reservation_actions()),
            task(
                "confirm",
                json!([{"say": "Booked for {{memory.twilio.collected_data.make_reservation.answers.party_size.answer}}."}]),
            ),
            task(
                "having_trouble",
                json!([{"say": "Let's try something else."}, {"listen": true}]),
            ),
            task(
                "collect_fallback",
                json!([{"say": "Sorry, too many tries."}, {"listen": true}]),
            ),
            task("fallback", json!([{"say": "Say again?"}, {"listen": true}])),
        ],
        json!({"fallback": "task://fallback", "collect": {"validate_on_failure": "task://collect_fallback"}}),
    );
    with_style(
        assistant,
        json!({"collect": {"validate": {
            "on_failure": {"repeat_question": false,
                           "messages": [{"say": "Style retry 1"}, {"say": "Style retry 2"}]},
            "on_success": {"say": ""},
            "max_attempts": 2}}}),
    )
}

fn nlu() -> KeywordNlu {
    KeywordNlu::new()
        .task("reserve", &["book"])
        .number_field("reserve", "party_size")
}

fn answer_at(result: &TurnResult, question: &str) -> Value {
    let memory = Value::Object(result.state.memory.clone());
    let path = format!("{ANSWERS}/{question}");
    memory.pointer(&path).cloned().unwrap_or(Value::Null)
}

/// Talks through `answers`, returning every result.
fn converse(h: &Harness, answers: &[&str]) -> Vec<TurnResult> {
    let mut state: Option<DialogueState> = None;
    let mut results = Vec::new();
    for (minute, text) in answers.iter().enumerate() {
        let result = h.say(state.take(), text, at(minute as i64));
        state = Some(result.state.clone());
        results.push(result);
    }
    results
}

#[test]
fn a_collect_asks_its_first_question_and_waits() {
    let h = Harness::new(restaurant(), nlu());
    let result = h.say(None, "book a table", at(0));
    assert_eq!(texts(&result), ["Let's book.", "What's your first name?"]);
    let prompt = result
        .output
        .collect_prompt
        .as_ref()
        .expect("a pending question");
    assert_eq!(
        (
            prompt.collect.as_str(),
            prompt.question.as_str(),
            prompt.prompt.as_str()
        ),
        ("make_reservation", "first_name", "What's your first name?")
    );
    assert_eq!(prompt.field_type.as_deref(), Some("Twilio.FIRST_NAME"));
    assert_eq!(result.output.listen, None);
    let pending = result.state.collect().expect("collecting");
    assert_eq!(
        (pending.question, pending.attempts, pending.failure_message),
        (0, 0, 0)
    );
    assert_eq!(
        result.state.memory["twilio"],
        json!({"collected_data": {"make_reservation": {"answers": {}}}})
    );
    assert_eq!(
        event_names(&result),
        ["onDialogueStart", "onDialogueTaskStart", "onDialogueTurn"]
    );
}

#[test]
fn a_wrong_typed_answer_gets_the_style_sheet_message_then_a_right_one_moves_on() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(&h, &["book a table", "42", "valentina"]);
    let wrong = &results[1];
    assert_eq!(
        texts(wrong),
        ["Style retry 1"],
        "repeat_question is false in the style sheet"
    );
    assert_eq!(wrong.route, Route::CollectAnswer);
    assert_eq!(wrong.task.as_deref(), Some("reserve"));
    assert_eq!(
        wrong.output.collect_prompt.as_ref().unwrap().question,
        "first_name"
    );
    assert_eq!(wrong.state.collect().unwrap().attempts, 1);
    assert_eq!(
        wrong.events[0].kind,
        EventKind::CollectAttempt {
            collect: "make_reservation".into(),
            question: "first_name".into(),
            success: false,
            output: "42".into()
        }
    );
    let params = wrong.events[0].params();
    assert_eq!(
        &params[9..],
        [
            ("CollectSuccess".to_owned(), "false".to_owned()),
            ("CollectFieldName".to_owned(), "first_name".to_owned()),
            ("CollectOutput".to_owned(), "42".to_owned()),
        ]
    );
    assert!(h.nlu.parse_calls().len() == 1, "answers are not classified");

    let right = &results[2];
    assert_eq!(
        texts(right),
        ["How many people, Valentina?"],
        "on_success \"\" says nothing"
    );
    assert_eq!(
        answer_at(right, "first_name"),
        json!({"answer": "Valentina", "type": "Twilio.FIRST_NAME", "filled": true, "attempts": 2})
    );
    assert_eq!(
        right.events[0].kind,
        EventKind::CollectAttempt {
            collect: "make_reservation".into(),
            question: "first_name".into(),
            success: true,
            output: "Valentina".into()
        }
    );
    let pending = right.state.collect().unwrap();
    assert_eq!((pending.question, pending.attempts), (1, 0));
    assert_eq!(
        h.nlu.normalizations.lock().unwrap()[1],
        ("Twilio.FIRST_NAME".to_owned(), "valentina".to_owned())
    );
}

#[test]
fn out_of_attempts_without_a_question_redirect_goes_to_validate_on_failure() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(&h, &["book a table", "Val", "lots", "many"]);
    assert_eq!(texts(&results[2]), ["Style retry 1"]);
    let last = &results[3];
    assert_eq!(
        texts(last),
        ["Sorry, too many tries."],
        "style max_attempts 2 reached"
    );
    assert_eq!(
        answer_at(last, "party_size"),
        json!({"answer": "many", "type": "Twilio.NUMBER", "filled": false, "attempts": 2})
    );
    assert!(matches!(last.state.waiting, Waiting::Listen(_)));
    assert_eq!(
        event_names(last),
        [
            "onCollectAttempt",
            "onDialogueTaskEnd",
            "onDialogueTaskStart",
            "onDialogueTaskEnd",
            "onDialogueTurn"
        ]
    );
    assert_eq!(last.state.current_task.as_deref(), Some("collect_fallback"));
}

#[test]
fn allowed_values_messages_in_turn_repeat_question_and_on_success() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(&h, &["book a table", "Val", "4", "Boston", "Austin", "nyc"]);
    assert_eq!(texts(&results[2]), ["Which city?"]);
    assert_eq!(
        texts(&results[3]),
        ["I don't know that city.", "Which city?"]
    );
    assert_eq!(
        texts(&results[4]),
        ["Please say New York or San Francisco.", "Which city?"]
    );
    assert_eq!(texts(&results[5]), ["Got it.", "Any comments?"]);
    assert_eq!(
        answer_at(&results[5], "city"),
        json!({"answer": "NYC", "filled": true, "attempts": 3})
    );
}

#[test]
fn failure_messages_start_over_after_the_last_one() {
    let mut assistant = restaurant();
    assistant.style_sheet.collect.validate.max_attempts = Some(5);
    let h = Harness::new(assistant, nlu());
    let results = converse(&h, &["book a table", "1", "2", "3"]);
    assert_eq!(texts(&results[1]), ["Style retry 1"]);
    assert_eq!(texts(&results[2]), ["Style retry 2"]);
    assert_eq!(texts(&results[3]), ["Style retry 1"]);
}

#[test]
fn the_question_max_attempts_redirect_wins_over_the_default() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(
        &h,
        &["book a table", "Val", "4", "Boston", "Austin", "Paris"],
    );
    let last = &results[5];
    assert_eq!(texts(last), ["Let's try something else."]);
    assert_eq!(
        answer_at(last, "city"),
        json!({"answer": "Paris", "filled": false, "attempts": 3})
    );
    assert_eq!(last.state.current_task.as_deref(), Some("having_trouble"));
}

#[test]
fn on_complete_redirects_with_the_answers_in_memory() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(
        &h,
        &[
            "book a table",
            "Val",
            "four",
            "SF",
            "San Francisco",
            "window seat",
        ],
    );
    let last = &results[5];
    assert_eq!(texts(last), ["Booked for 4."]);
    assert!(last.output.ended);
    assert_eq!(last.state.end_reason, Some(EndReason::Completed));
    assert_eq!(last.state.collect(), None);
    assert_eq!(
        answer_at(last, "comments"),
        json!({"answer": "window seat", "filled": true, "attempts": 1})
    );
    assert_eq!(answer_at(last, "city")["answer"], json!("San Francisco"));
    assert_eq!(
        event_names(last),
        [
            "onCollectAttempt",
            "onDialogueTaskEnd",
            "onDialogueTaskStart",
            "onDialogueTaskEnd",
            "onDialogueTurn",
            "onDialogueEnd"
        ]
    );
}

#[test]
fn a_recognised_field_prefills_its_question() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(&h, &["book a table for 6", "Val"]);
    assert_eq!(
        texts(&results[1]),
        ["Which city?"],
        "party_size came with the first message"
    );
    assert_eq!(
        answer_at(&results[1], "party_size"),
        json!({"answer": "6", "type": "Twilio.NUMBER", "filled": true, "attempts": 0})
    );
}

#[test]
fn running_the_same_collect_again_clears_its_answers() {
    let h = Harness::new(restaurant(), nlu());
    let results = converse(&h, &["book a table", "Val"]);
    assert_eq!(answer_at(&results[1], "first_name")["answer"], json!("Val"));
    let mut state = results[1].state.clone();
    state.waiting = Waiting::Listen(Default::default());
    let again = h.say(Some(state), "book again", at(5));
    assert_eq!(
        again.state.memory["twilio"]["collected_data"]["make_reservation"],
        json!({"answers": {}})
    );
}

fn webhook_assistant() -> Assistant {
    assistant(
        vec![
            task(
                "zip",
                json!([{"collect": {
                    "name": "address",
                    "questions": [{"question": "Your zip code?", "name": "zip", "type": "Twilio.NUMBER",
                                   "validate": {"webhook": {"url": "https://validate.test/zip", "method": "POST"},
                                                "on_failure": {"messages": [{"say": "That zip is not served."}]},
                                                "max_attempts": {"num_attempts": 5}}}],
                    "on_complete": {"redirect": "task://done"}}}]),
            ),
            task("done", json!([{"say": "Thanks."}])),
            task("fallback", json!([{"say": "Say again?"}, {"listen": true}])),
        ],
        json!({"fallback": "task://fallback"}),
    )
}

#[test]
fn the_validation_webhook_decides_with_valid_true_or_false() {
    let h = Harness::new(webhook_assistant(), KeywordNlu::new().task("zip", &["zip"]));
    let url = "https://validate.test/zip";
    h.fetcher().once(url, Ok(json!({"valid": false})));
    h.fetcher().once(url, Ok(json!({"valid": true})));
    let results = converse(&h, &["zip", "123", "456"]);
    assert_eq!(texts(&results[1]), ["That zip is not served."]);
    assert_eq!(texts(&results[2]), ["Thanks."]);
    let requests = h.fetcher().requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].url, url);
    assert_eq!(requests[1].method, Method::Post);
    assert_eq!(requests[1].param("ValidateFieldAnswer"), Some("456"));
    assert_eq!(requests[1].params.last().unwrap().0, "ValidateFieldAnswer");
    assert_eq!(requests[1].param("CurrentTask"), Some("zip"));
    assert_eq!(requests[1].param("CurrentInput"), Some("456"));
    assert_eq!(requests[1].param("Channel"), Some("sms"));
    assert!(
        requests[1]
            .param("Memory")
            .unwrap()
            .contains("\"collected_data\"")
    );
    assert!(results.iter().all(|r| r.errors.is_empty()));
}

#[test]
fn a_failing_or_confused_webhook_refuses_the_answer_and_reports_it() {
    let h = Harness::new(webhook_assistant(), KeywordNlu::new().task("zip", &["zip"]));
    let url = "https://validate.test/zip";
    h.fetcher()
        .once(url, Err(FetchError::Status { status: 500 }));
    h.fetcher().once(url, Ok(json!({"ok": true})));
    let results = converse(&h, &["zip", "123", "456"]);
    assert_eq!(texts(&results[1]), ["That zip is not served."]);
    assert_eq!(error_kinds(&results[1]), [ErrorKind::ValidationWebhook]);
    assert_eq!(results[1].errors[0].code, Some(11200));
    assert_eq!(
        results[1].errors[0].message,
        "https://validate.test/zip: the server answered with HTTP status 500"
    );
    assert_eq!(
        results[2].errors[0].message,
        "https://validate.test/zip: expected {\"valid\": true|false}, got {\"ok\":true}"
    );
    assert_eq!(results[2].state.collect().unwrap().attempts, 2);
}

#[test]
fn a_type_mismatch_never_reaches_the_webhook() {
    let h = Harness::new(webhook_assistant(), KeywordNlu::new().task("zip", &["zip"]));
    let results = converse(&h, &["zip", "no idea"]);
    assert_eq!(texts(&results[1]), ["That zip is not served."]);
    assert!(h.fetcher().requests().is_empty());
}

#[test]
fn without_any_max_attempts_a_question_is_asked_until_answered() {
    let mut assistant = restaurant();
    assistant.style_sheet = Default::default();
    let h = Harness::new(assistant, nlu());
    let mut answers = vec!["book a table"];
    answers.extend(["1"; 12]);
    let results = converse(&h, &answers);
    let last = results.last().unwrap();
    assert_eq!(
        texts(last),
        ["What's your first name?"],
        "no message anywhere: the question is repeated"
    );
    assert_eq!(last.state.collect().unwrap().attempts, 12);
}

#[test]
fn the_engine_default_max_attempts_applies_when_nothing_else_does() {
    let mut assistant = restaurant();
    assistant.style_sheet = Default::default();
    let config = EngineConfig {
        default_max_attempts: Some(1),
        ..EngineConfig::default()
    };
    let h = Harness::with_config(assistant, nlu(), config);
    let results = converse(&h, &["book a table", "1"]);
    assert_eq!(texts(&results[1]), ["Sorry, too many tries."]);
}

#[test]
fn out_of_attempts_with_nowhere_to_go_takes_the_failure_path() {
    let mut assistant = restaurant();
    assistant.defaults.collect_validate_on_failure = None;
    let h = Harness::new(assistant, nlu());
    let results = converse(&h, &["book a table", "1", "2"]);
    assert_eq!(texts(&results[2]), ["Say again?"]);
    assert_eq!(error_kinds(&results[2]), [ErrorKind::NoCollectFallback]);
}

#[test]
fn digits_answer_a_question_on_a_call() {
    let h = Harness::new(
        assistant(
            vec![
                task(
                    "pin",
                    json!([{"collect": {
                        "name": "login",
                        "questions": [{"question": "Enter your PIN.", "name": "pin", "type": "Twilio.NUMBER",
                                       "voice_digits": {"num_digits": 4, "finish_on_key": "#"}, "barge": false}],
                        "on_complete": {"redirect": "task://welcome"}}}]),
                ),
                task("welcome", json!([{"say": "Welcome back."}])),
            ],
            json!({"assistant_initiation": "task://pin"}),
        ),
        KeywordNlu::new(),
    );
    let call = h.turn(None, voice(InputKind::CallStart, ""), at(0));
    let prompt = call.output.collect_prompt.clone().unwrap();
    assert_eq!(
        prompt.voice_digits,
        Some(DigitsState {
            num_digits: Some(4),
            finish_on_key: Some("#".into()),
            redirects: vec![]
        })
    );
    assert_eq!(prompt.barge, Some(false));
    let entered = h.turn(
        Some(call.state),
        voice(InputKind::Digits("1234".into()), ""),
        at(1),
    );
    assert_eq!(texts(&entered), ["Welcome back."]);
    assert_eq!(
        entered.state.memory["twilio"]["collected_data"]["login"]["answers"]["pin"]["answer"],
        json!("1234")
    );
}

#[test]
fn hanging_up_mid_collect_ends_the_task_and_the_dialogue() {
    let h = Harness::new(restaurant(), nlu());
    let started = h.say(None, "book a table", at(0));
    let result = h.turn(
        Some(started.state),
        sms("").with_kind(InputKind::HangUp),
        at(1),
    );
    assert_eq!(event_names(&result), ["onDialogueTaskEnd", "onDialogueEnd"]);
    assert_eq!(
        result.events[0].kind,
        EventKind::TaskEnd {
            task: "reserve".into()
        }
    );
    assert_eq!(result.state.collect(), None);
}

#[test]
fn a_stored_state_resumes_a_collect_exactly() {
    let h = Harness::new(restaurant(), nlu());
    let started = h.say(None, "book a table", at(0));
    let json = serde_json::to_string(&started.state).unwrap();
    let stored: DialogueState = serde_json::from_str(&json).unwrap();
    assert_eq!(stored, started.state);
    let stored_json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(stored_json["waiting"]["kind"], json!("collect"));
    assert_eq!(
        stored_json["waiting"]["collect"]["name"],
        json!("make_reservation")
    );
    let resumed = h.say(Some(stored), "Val", at(1));
    assert_eq!(texts(&resumed), ["How many people, Val?"]);
}
