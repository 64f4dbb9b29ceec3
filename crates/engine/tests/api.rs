//! The engine's contract with the server: Send futures, fetchers that really
//! wait, and a state that survives the store's JSON.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::*;
use otto_engine::{
    ActionFetcher, DialogueState, Engine, EngineConfig, FetchError, InputKind, RemoteRequest,
};
use serde_json::{Value, json};

fn assert_send<T: Send>(_: &T) {}

#[test]
fn the_turn_future_is_send() {
    let h = Harness::new(
        assistant(vec![task("hi", json!([{"say": "Hi."}]))], json!({})),
        KeywordNlu::new().task("hi", &["hi"]),
    );
    let future = h.engine.turn(h.bot(), None, sms("hi"), at(0));
    assert_send(&future);
    assert_eq!(texts(&block_on(future)), ["Hi."]);
}

/// Answers after being polled once without an answer, as a real client would.
struct SlowFetcher;

struct PendingOnce {
    polled: bool,
    answer: Option<Value>,
}

impl Future for PendingOnce {
    type Output = Result<Value, FetchError>;
    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.polled {
            self.polled = true;
            context.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(
            self.answer
                .take()
                .ok_or(FetchError::Timeout { millis: 10_000 }),
        )
    }
}

impl ActionFetcher for SlowFetcher {
    fn fetch(
        &self,
        _request: RemoteRequest,
    ) -> impl Future<Output = Result<Value, FetchError>> + Send {
        let answer = json!({"actions": [{"say": "Fetched."}, {"listen": true}]});
        PendingOnce {
            polled: false,
            answer: Some(answer),
        }
    }
}

#[test]
fn a_fetcher_that_waits_is_awaited() {
    let assistant = assistant(
        vec![url_task("remote", "https://actions.test/x")],
        json!({}),
    );
    let nlu = KeywordNlu::new().task("remote", &["remote"]);
    let engine = Engine::new(std::sync::Arc::new(SlowFetcher), EngineConfig::default());
    let (account, assistant_sid) = (account_sid(), common::assistant_sid());
    let bot = otto_engine::Bot {
        account_sid: &account,
        assistant_sid: &assistant_sid,
        assistant: &assistant,
        understanding: &nlu,
        subscribed_events: None,
    };
    let result = block_on(engine.turn(bot, None, sms("remote"), at(0)));
    assert_eq!(texts(&result), ["Fetched."]);
    assert_eq!(
        result.state.sid.prefix_letters(),
        "UK",
        "random SIDs by default"
    );
}

#[test]
fn every_waiting_state_round_trips_through_json() {
    let h = Harness::new(
        assistant(
            vec![task(
                "menu",
                json!([{"listen": {"tasks": ["a"], "barge": false,
                                   "voice_digits": {"num_digits": 2, "redirects": {"12": {"uri": "https://x.test/y", "method": "GET"}}}}}]),
            )],
            json!({}),
        ),
        KeywordNlu::new().task("menu", &["menu"]),
    );
    let listening = h.turn(None, voice(InputKind::Message, "menu"), at(0));
    let json = serde_json::to_value(&listening.state).unwrap();
    assert_eq!(
        json["waiting"],
        json!({"kind": "listen", "tasks": ["a"], "barge": false,
               "voice_digits": {"num_digits": 2, "redirects": [{"digits": "12", "uri": "https://x.test/y", "method": "GET"}]}})
    );
    assert_eq!(json["sid"], json!(dialogue_sid(1).to_string()));
    assert_eq!(json["created_at"], json!("2024-03-01T12:00:00Z"));
    let back: DialogueState = serde_json::from_value(json).unwrap();
    assert_eq!(back, listening.state);

    let ended = h
        .turn(Some(listening.state), voice(InputKind::HangUp, ""), at(1))
        .state;
    let json = serde_json::to_value(&ended).unwrap();
    assert_eq!(
        (json["ended"].clone(), json["end_reason"].clone()),
        (json!(true), json!("hang_up"))
    );
    assert_eq!(json["waiting"], json!({"kind": "nothing"}));
    assert_eq!(
        serde_json::from_value::<DialogueState>(json).unwrap(),
        ended
    );
}

#[test]
fn a_stored_collect_that_no_longer_parses_is_refused() {
    let state = json!({
        "sid": dialogue_sid(1).to_string(), "user_identifier": USER, "channel": "sms", "memory": {},
        "waiting": {"kind": "collect", "collect": {"name": "x", "questions": [], "on_complete": {"redirect": "task://y"}},
                    "question": 0, "attempts": 0, "failure_message": 0},
        "current_task": null, "created_at": "2024-03-01T12:00:00Z", "last_input_at": "2024-03-01T12:00:00Z",
        "ended": false, "end_reason": null
    });
    let error = serde_json::from_value::<DialogueState>(state).unwrap_err();
    assert_eq!(
        error.to_string(),
        "actions[0].collect.questions: must list at least one question"
    );
}

#[test]
fn a_stored_collect_past_its_last_question_does_not_trap_the_user() {
    let h = Harness::new(
        assistant(
            vec![
                task(
                    "form",
                    json!([{"collect": {"name": "f", "questions": [{"question": "Q?", "name": "q"}],
                                                  "on_complete": {"redirect": "task://done"}}}]),
                ),
                task("done", json!([{"say": "Done."}])),
                task("hi", json!([{"say": "Hi."}, {"listen": true}])),
            ],
            json!({}),
        ),
        KeywordNlu::new()
            .task("form", &["form"])
            .task("hi", &["hi"]),
    );
    let mut state = h.say(None, "form", at(0)).state;
    if let otto_engine::Waiting::Collect(pending) = &mut state.waiting {
        pending.question = 7;
    }
    let result = h.say(Some(state), "hi", at(1));
    assert_eq!(texts(&result), ["Hi."]);
    assert_eq!(result.route, otto_engine::Route::Nlu);
}
