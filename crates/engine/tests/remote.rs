//! Redirects (task:// and URLs), the redirect limit, and remote failures
//! following the failure path with an operator-visible error.

mod common;

use common::*;
use otto_engine::{EndReason, ErrorKind, FetchError, Method, Route, Waiting};
use otto_model::Assistant;
use serde_json::{Value, json};

const REMOTE: &str = "https://actions.test/remote";

fn bot(extra_tasks: Vec<otto_model::Task>) -> Assistant {
    let mut tasks = vec![
        task(
            "start",
            json!([{"say": "Starting."}, {"redirect": "task://middle"}]),
        ),
        task(
            "middle",
            json!([{"say": "Middle."}, {"redirect": {"uri": REMOTE, "method": "POST"}}]),
        ),
        task(
            "fallback",
            json!([{"say": "Fallback here."}, {"listen": true}]),
        ),
        url_task("remote_task", REMOTE),
    ];
    tasks.extend(extra_tasks);
    assistant(tasks, json!({"fallback": "task://fallback"}))
}

fn nlu() -> KeywordNlu {
    KeywordNlu::new()
        .task("start", &["start"])
        .task("remote_task", &["remote"])
        .task("chain", &["chain"])
        .task("get", &["get"])
        .task("legacy", &["legacy"])
        .task("broken", &["broken"])
}

#[test]
fn task_and_url_redirects_run_in_order_with_the_current_task() {
    let h = Harness::new(bot(vec![]), nlu());
    h.fetcher().always(
        REMOTE,
        Ok(json!({"actions": [{"say": "Remote."}, {"listen": true}]})),
    );
    let result = h.say(None, "start", at(0));
    assert_eq!(texts(&result), ["Starting.", "Middle.", "Remote."]);
    assert_eq!(
        result.task.as_deref(),
        Some("start"),
        "the task the input led to"
    );
    assert_eq!(
        result.state.current_task.as_deref(),
        Some("middle"),
        "a URL redirect stays in the task"
    );
    let request = &h.fetcher().requests()[0];
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.param("CurrentTask"), Some("middle"));
    assert_eq!(request.param("CurrentInput"), Some("start"));
    assert_eq!(
        event_names(&result),
        [
            "onDialogueStart",
            "onDialogueTaskStart",
            "onDialogueTaskEnd",
            "onDialogueTaskStart",
            "onActionsFetch",
            "onDialogueTaskEnd",
            "onDialogueTurn"
        ]
    );
    assert!(result.errors.is_empty());
}

#[test]
fn a_get_redirect_sends_no_memory_and_a_legacy_fetch_actions_is_a_redirect() {
    let h = Harness::new(
        bot(vec![
            task(
                "get",
                json!([{"remember": {"k": "v"}}, {"redirect": {"uri": "https://actions.test/get", "method": "GET"}}]),
            ),
            task(
                "legacy",
                json!([{"fetch_actions": {"uri": "https://actions.test/legacy"}}]),
            ),
        ]),
        nlu(),
    );
    h.fetcher().always(
        "https://actions.test/get",
        Ok(json!({"actions": [{"say": "Got."}]})),
    );
    h.fetcher().always(
        "https://actions.test/legacy",
        Ok(json!({"actions": [{"say": "Legacy."}]})),
    );
    assert_eq!(texts(&h.say(None, "get", at(0))), ["Got."]);
    assert_eq!(texts(&h.say(None, "legacy", at(0))), ["Legacy."]);
    let requests = h.fetcher().requests();
    assert_eq!(requests[0].method, Method::Get);
    assert_eq!(requests[0].param("Memory"), None);
    assert_eq!(requests[0].param("Channel"), Some("sms"));
    assert_eq!(requests[1].method, Method::Post);
    assert_eq!(requests[1].param("Memory"), Some("{}"));
}

fn chain() -> Vec<otto_model::Task> {
    let mut tasks = vec![task(
        "chain",
        json!([{"say": "0"}, {"redirect": "task://c1"}]),
    )];
    for n in 1..=6 {
        tasks.push(task(
            &format!("c{n}"),
            json!([{"say": n.to_string()}, {"redirect": format!("task://c{}", n + 1)}]),
        ));
    }
    tasks.push(task("c7", json!([{"say": "never"}])));
    tasks
}

#[test]
fn the_sixth_redirect_of_one_input_takes_the_failure_path() {
    let h = Harness::new(bot(chain()), nlu());
    let result = h.say(None, "chain", at(0));
    assert_eq!(
        texts(&result),
        ["0", "1", "2", "3", "4", "5", "Fallback here."]
    );
    assert_eq!(error_kinds(&result), [ErrorKind::RedirectLimit]);
    assert_eq!(
        result.errors[0].message,
        "more than 5 redirects for one input; not following task://c6"
    );
    assert_eq!(result.errors[0].task.as_deref(), Some("c5"));
    assert!(matches!(result.state.waiting, Waiting::Listen(_)));
    assert!(!result.state.ended);
}

#[test]
fn the_redirect_budget_is_per_input() {
    let mut tasks = chain();
    tasks[0] = task("chain", json!([{"say": "0"}, {"redirect": "task://c3"}]));
    // Five redirects, chain→c3→c4→c5→c6→c7, fit exactly.
    let h = Harness::new(bot(tasks), nlu());
    let first = h.say(None, "chain", at(0));
    assert_eq!(texts(&first), ["0", "3", "4", "5", "6", "never"]);
    assert!(first.errors.is_empty());
    let second = h.say(None, "chain", at(1));
    assert_eq!(texts(&second), ["0", "3", "4", "5", "6", "never"]);
    assert!(second.errors.is_empty());
}

fn failing(response: Result<Value, FetchError>) -> otto_engine::TurnResult {
    let h = Harness::new(bot(vec![]), nlu());
    h.fetcher().always(REMOTE, response);
    let result = h.say(None, "remote", at(0));
    assert_eq!(
        texts(&result),
        ["Fallback here."],
        "the fallback default answers"
    );
    assert_eq!(result.route, Route::Nlu);
    assert!(!result.state.ended, "the dialogue goes on");
    result
}

#[test]
fn a_timeout_follows_the_failure_path() {
    let result = failing(Err(FetchError::Timeout { millis: 10_000 }));
    assert_eq!(error_kinds(&result), [ErrorKind::Fetch]);
    assert_eq!(result.errors[0].code, Some(11200));
    assert_eq!(
        result.errors[0].message,
        "https://actions.test/remote: no answer within 10 seconds"
    );
    assert_eq!(result.errors[0].task.as_deref(), Some("remote_task"));
    assert_eq!(
        result.errors[0].to_string(),
        "[11200] https://actions.test/remote: no answer within 10 seconds (task remote_task)"
    );
}

#[test]
fn an_http_500_follows_the_failure_path() {
    let result = failing(Err(FetchError::Status { status: 500 }));
    assert_eq!(
        result.errors[0].message,
        "https://actions.test/remote: the server answered with HTTP status 500"
    );
    assert_eq!(result.errors[0].code, Some(11200));
}

#[test]
fn invalid_json_follows_the_failure_path_as_90100() {
    let result = failing(Err(FetchError::InvalidJson {
        reason: "expected value at line 1 column 1".into(),
    }));
    assert_eq!(result.errors[0].code, Some(90100));
    assert_eq!(
        result.errors[0].message,
        "https://actions.test/remote: the response is not valid JSON: expected value at line 1 column 1"
    );
}

#[test]
fn an_oversized_answer_follows_the_failure_path_as_90100() {
    let result = failing(Err(FetchError::TooLarge { limit: 16384 }));
    assert_eq!(result.errors[0].code, Some(90100));
    assert_eq!(
        result.errors[0].message,
        "https://actions.test/remote: the response is larger than 16384 bytes"
    );
}

#[test]
fn invalid_actions_json_follows_the_failure_path() {
    let result = failing(Ok(json!({"actions": [{"listen": true}, {"say": "late"}]})));
    assert_eq!(error_kinds(&result), [ErrorKind::InvalidActions]);
    assert_eq!(result.errors[0].code, Some(90100));
    assert_eq!(
        result.errors[0].message,
        "https://actions.test/remote: invalid Actions JSON: actions[0]: \"listen\" ends the turn and must be the last action; actions[1] would never run"
    );
    let result = failing(Ok(json!({"say": "no envelope"})));
    assert_eq!(
        result.errors[0].message,
        "https://actions.test/remote: invalid Actions JSON: missing \"actions\""
    );
}

#[test]
fn output_before_a_failing_redirect_is_kept() {
    let h = Harness::new(bot(vec![]), nlu());
    h.fetcher()
        .always(REMOTE, Err(FetchError::Status { status: 502 }));
    let result = h.say(None, "start", at(0));
    assert_eq!(texts(&result), ["Starting.", "Middle.", "Fallback here."]);
}

#[test]
fn without_a_fallback_a_failure_apologises_and_ends_the_dialogue() {
    let mut assistant = bot(vec![]);
    assistant.defaults.fallback = None;
    let h = Harness::new(assistant, nlu());
    let result = h.say(None, "remote", at(0));
    assert_eq!(texts(&result), [otto_engine::DEFAULT_APOLOGY]);
    assert_eq!(error_kinds(&result), [ErrorKind::Fetch]);
    assert!(result.output.ended);
    assert_eq!(result.state.end_reason, Some(EndReason::Error));
    assert_eq!(
        event_names(&result),
        [
            "onDialogueStart",
            "onDialogueTaskStart",
            "onActionsFetch",
            "onDialogueTaskEnd",
            "onDialogueTurn",
            "onDialogueEnd"
        ]
    );
}

#[test]
fn a_failing_fallback_is_tried_once_then_the_apology() {
    let mut assistant = bot(vec![]);
    assistant.defaults = otto_model::Defaults::from_value(
        &json!({"defaults": {"fallback": "https://actions.test/fallback"}}),
    )
    .unwrap();
    let h = Harness::new(assistant, nlu());
    h.fetcher().always(
        "https://actions.test/fallback",
        Err(FetchError::Timeout { millis: 10_000 }),
    );
    let result = h.say(None, "something unknown", at(0));
    assert_eq!(texts(&result), [otto_engine::DEFAULT_APOLOGY]);
    assert_eq!(h.fetcher().urls(), ["https://actions.test/fallback"]);
    assert_eq!(error_kinds(&result), [ErrorKind::Fetch]);
}

#[test]
fn an_empty_redirect_is_an_invalid_target() {
    let h = Harness::new(
        bot(vec![task(
            "broken",
            json!([{"say": "Hm."}, {"redirect": ""}]),
        )]),
        nlu(),
    );
    let result = h.say(None, "broken", at(0));
    assert_eq!(texts(&result), ["Hm.", "Fallback here."]);
    assert_eq!(error_kinds(&result), [ErrorKind::InvalidTarget]);
    assert_eq!(
        result.errors[0].message,
        "redirect not followed: the target is empty: expected task://<unique_name> or an http(s) URL"
    );
}

#[test]
fn a_redirect_to_a_missing_task_is_reported() {
    let h = Harness::new(
        bot(vec![task("broken", json!([{"redirect": "task://ghost"}]))]),
        nlu(),
    );
    let result = h.say(None, "broken", at(0));
    assert_eq!(texts(&result), ["Fallback here."]);
    assert_eq!(
        result.errors[0].message,
        "task://ghost names no task of the assistant"
    );
}
