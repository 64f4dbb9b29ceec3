//! Every real Autopilot export in shared/data/autopilot-schemas imports and
//! holds a short conversation: initiation, fallback and a task or two.

mod common;

use common::*;
use otto_engine::{EndReason, ErrorKind, InputKind, ListenState, Route, TurnResult};
use otto_model::import_schema;
use serde_json::{Value, json};

const FIXTURE_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/autopilot-schemas/"
);

fn harness(file: &str) -> Harness {
    let text = std::fs::read_to_string(format!("{FIXTURE_DIR}{file}"))
        .unwrap_or_else(|error| panic!("reading {file}: {error}"));
    let assistant =
        import_schema(&text).unwrap_or_else(|error| panic!("importing {file}: {error}"));
    let nlu = KeywordNlu::from_samples(&assistant);
    Harness::new(assistant, nlu)
}

/// A call that connects, then the caller says each of `utterances`.
fn call(h: &Harness, utterances: &[&str]) -> Vec<TurnResult> {
    let mut results = vec![h.turn(None, voice(InputKind::CallStart, ""), at(0))];
    for (minute, text) in utterances.iter().enumerate() {
        let state = results.last().unwrap().state.clone();
        results.push(h.turn(
            Some(state),
            voice(InputKind::Message, text),
            at(minute as i64 + 1),
        ));
    }
    results
}

fn answer(result: &TurnResult, collect: &str, question: &str) -> Value {
    result.state.memory["twilio"]["collected_data"][collect]["answers"][question]["answer"].clone()
}

const FALLBACK: &str = "I'm sorry didn't quite get that. Please say that again.";

#[test]
fn hello_world() {
    let h = harness("twilio__autopilot-templates__Assistants-HelloWorld-schema.json");
    let r = call(&h, &["blorp zzz", "no thanks"]);
    assert_eq!(texts(&r[0]), ["Hello, what can I help you with today?"]);
    assert_eq!(
        (r[0].route, r[0].task.as_deref()),
        (Route::Initiation, Some("greeting"))
    );
    assert_eq!(r[0].output.listen, Some(ListenState::default()));
    assert_eq!(texts(&r[1]), [FALLBACK]);
    assert_eq!(
        texts(&r[2]),
        ["Thank you! Please reach out again if you need anything. Goodbye."]
    );
    assert_eq!(r[2].state.end_reason, Some(EndReason::Completed));
    assert!(
        r.iter()
            .all(|result| result.errors.is_empty() && result.state.sid == dialogue_sid(1))
    );
}

#[test]
fn faqs_internet_plan() {
    let h = harness("twilio__autopilot-templates__Assistants-FAQsInternetPlan-schema.json");
    let r = call(
        &h,
        &["what?", "how do I test the speed", "that is all thank you"],
    );
    assert_eq!(
        texts(&r[0]),
        [
            "Hello! I can answer questions about your internet plan, like replacing a modem or transferring and cancelling a plan. What can I help with today?"
        ]
    );
    assert_eq!(texts(&r[1]), [FALLBACK]);
    assert_eq!(
        texts(&r[2]),
        [
            "You can test your internet speed by going to www.speedtest.net. Can I help with anything else?"
        ]
    );
    assert_eq!(
        texts(&r[3]),
        ["Great. Please reach out again if you have any questions."]
    );
    assert!(r[3].output.ended);
}

#[test]
fn appointment_scheduling_books_through_its_collect() {
    let h = harness("twilio__autopilot-templates__Assistants-ApptScheduling-schema.json");
    let r = call(
        &h,
        &[
            "Can I get an appointment",
            "whenever",
            "tomorrow",
            "4pm",
            "+15550123",
        ],
    );
    assert_eq!(r[0].output.say_voice.as_deref(), Some("Polly.Matthew"));
    assert_eq!(
        texts(&r[1]),
        [
            "Okay lets get you a new appointment. I just need you to answer a few questions.",
            "Please tell me the date you want to come in."
        ]
    );
    assert_eq!(
        texts(&r[2]),
        ["I didn't get that. What did you say?"],
        "the style sheet's first retry message"
    );
    assert_eq!(texts(&r[3]), ["Thanks, and what time?"]);
    assert_eq!(
        texts(&r[4]),
        ["Awesome, last question. What is the best number to reach you on?"]
    );
    assert_eq!(
        texts(&r[5]),
        ["Thanks! I've booked your appointment. See you soon :)"]
    );
    assert_eq!(
        answer(&r[5], "schedule_appt", "appt_date"),
        json!("2024-03-02")
    );
    assert_eq!(answer(&r[5], "schedule_appt", "appt_time"), json!("16:00"));
    assert!(r[5].output.ended);
}

#[test]
fn appointment_scheduling_listen_tasks_restrict_routing() {
    let h = harness("twilio__autopilot-templates__Assistants-ApptScheduling-schema.json");
    let r = call(&h, &["When is my appointment", "hello", "cancel appt"]);
    assert_eq!(
        texts(&r[1]),
        [
            "Your next appointment is on July 1st at 4.30 pm. I can always help you reschedule or cancel it."
        ]
    );
    assert_eq!(
        texts(&r[2]),
        [FALLBACK],
        "greeting is not among list_appointments' listen tasks"
    );
    assert_eq!(
        texts(&r[3]),
        ["Okay I've cancelled your appointment. What else can I help you with?"]
    );
}

#[test]
fn customer_satisfaction_survey() {
    let h =
        harness("twilio__autopilot-templates__Assistants-CustomerSatisfactionSurvey-schema.json");
    let r = call(&h, &["Yes", "9", "fast service", "nah", "yes"]);
    assert_eq!(
        texts(&r[0]),
        ["Hi! Can you spare a few minutes to answer a few questions about your experience?"]
    );
    assert_eq!(
        texts(&r[1]),
        [
            "Thank you for making the time for this survey. Your answers help us improve the service!",
            "How likely are you to recommend our service on a scale of 1 to 10?"
        ]
    );
    assert_eq!(
        h.nlu.parse_calls()[0].1,
        Some(vec!["start_survey".to_owned(), "goodbye".to_owned()])
    );
    assert_eq!(
        texts(&r[2]),
        ["Thanks! And what is the primary reason for your score?"]
    );
    assert_eq!(
        texts(&r[3]),
        ["Do you want to participate in customer research sessions in the future?"]
    );
    assert_eq!(texts(&r[4]), ["I didn't get that. What did you say?"]);
    assert_eq!(
        texts(&r[5]),
        [
            "Thank you so much for your time. If you answered yes to the last question, we'll reach out to schedule a customer research session with you. Goodbye!"
        ]
    );
    assert_eq!(answer(&r[5], "csat_answers", "nps_score"), json!("9"));
    assert_eq!(
        answer(&r[5], "csat_answers", "research_yes_no"),
        json!("Yes")
    );
}

#[test]
fn restaurant_reservations() {
    let h = harness("twilio__autopilot-templates__Assistants-RestaurantReservations-schema.json");
    let r = call(
        &h,
        &["specials", "book a table", "Val", "today", "7pm", "2"],
    );
    assert!(texts(&r[0])[0].starts_with("Welcome to Deep Table, the worlds smartest restaurant"));
    assert_eq!(r[0].output.say_voice.as_deref(), Some("Polly.Salli"));
    assert!(texts(&r[1])[0].starts_with("Today's special is duck confit"));
    assert_eq!(
        texts(&r[2]),
        ["Great, I can help you with that. What's your first name?"]
    );
    assert_eq!(
        texts(&r[3]),
        ["When day would you like your reservation for?"]
    );
    assert_eq!(texts(&r[4]), ["Great at what time?"]);
    assert_eq!(texts(&r[5]), ["For how many people"]);
    assert_eq!(
        texts(&r[6]),
        [
            "Ok 'x' name. Your reservation for 'x' date at 'x' time for 'x' people is now confirmed. thank you for booking with us"
        ]
    );
    assert_eq!(
        answer(&r[6], "make_reservation", "date"),
        json!("2024-03-01")
    );
    assert_eq!(answer(&r[6], "make_reservation", "party_size"), json!("2"));
}

#[test]
fn insurance_placeholders_report_errors_and_fall_back() {
    let h = harness("twilio__autopilot-templates__Assistants-insurance-schema.json");
    let r = call(&h, &["car insurance"]);
    for result in &r {
        assert_eq!(
            texts(result),
            ["Sorry I didn't understand, can you please say that again"]
        );
        assert_eq!(error_kinds(result), [ErrorKind::InvalidTarget]);
        assert!(!result.state.ended);
    }
    assert_eq!(
        r[1].errors[0].task.as_deref(),
        Some("insurance_auto_get_insurance_quote")
    );
}

#[test]
fn cli_test_assistant() {
    let h = harness("twilio__autopilot-cli__test-test_assistant.json");
    let r = call(&h, &["blah blah", "cancel book"]);
    assert!(texts(&r[0])[0].starts_with("Hi! I am Virtual Assistant"));
    assert_eq!(texts(&r[1]), ["I didn't get that. Can you say it again?"]);
    assert_eq!(
        texts(&r[2]),
        ["Okay, no problem! We will cancel your appointment. Have a great day."]
    );
}

#[test]
fn legacy_deep_table_fetches_its_stub() {
    let h = harness("twilio__autopilot-cli__sandbox-deep-table-assistant.json");
    let stub = "https://inquisitive-stretch-2083.twil.io/assistant-stub";
    h.fetcher().always(
        stub,
        Ok(json!({"actions": [{"say": "What else?"}, {"listen": true}]})),
    );
    let r = call(&h, &["mumble", "cancel my appointment"]);
    let special = "Todays special is duck confit with roasted brussel sprouts";
    assert_eq!(texts(&r[0]), [special, "What else?"]);
    assert_eq!(r[0].task.as_deref(), Some("initiation"));
    assert_eq!(texts(&r[1]), [special, "What else?"]);
    assert_eq!(r[1].task.as_deref(), Some("fallback"));
    assert_eq!(texts(&r[2]), ["What else?"]);
    let requests = h.fetcher().requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].param("CurrentTask"), Some("cancel-appointment"));
    assert_eq!(requests[2].param("Channel"), Some("voice"));
}
