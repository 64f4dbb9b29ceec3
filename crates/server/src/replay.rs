//! A turn that runs again calls its webhooks once.
//!
//! A turn's commit can be refused after the turn ran: the assistant's
//! definition changed meanwhile (a build completed, a task was edited), or
//! another process wrote the dialogue. The turn service then runs the turn
//! again from what is stored (`TurnService::turn_of`). Its remote calls (a
//! task's `actionsUrl`, a redirect, a collect's validation webhook) may have
//! done something on the author's side: booked the table, charged the card.
//! So a call the earlier run made is answered, in the later run, with the
//! answer it got then, when it is the same request (URL, method and every
//! parameter, `Memory` included); a call that differs (the dialogue had
//! changed, the task now calls another URL) is made. Within one run nothing
//! is replayed: a run that calls the same URL twice calls it twice, as
//! Autopilot did.

use std::cell::RefCell;
use std::future::Future;

use otto_engine::{FetchError, RemoteRequest};
use serde_json::Value;

type Answer = Result<Value, FetchError>;

#[derive(Default)]
struct Calls {
    /// Made by earlier runs of the turn and not replayed yet.
    earlier: Vec<(RemoteRequest, Answer)>,
    /// Made by this run.
    this_run: Vec<(RemoteRequest, Answer)>,
}

tokio::task_local! {
    static CALLS: RefCell<Calls>;
}

/// Runs `turn` (all its runs) with its remote calls kept for replay.
pub(crate) async fn keeping_calls<T>(turn: impl Future<Output = T>) -> T {
    CALLS.scope(RefCell::new(Calls::default()), turn).await
}

/// The turn runs again: what the last run called becomes replayable.
pub(crate) fn next_run() {
    let _ = CALLS.try_with(|calls| {
        let mut calls = calls.borrow_mut();
        let made = std::mem::take(&mut calls.this_run);
        calls.earlier.extend(made);
    });
}

/// The answer an earlier run got to this very request, taken (each answer
/// replays once); `None` outside [`keeping_calls`] or for a new request.
pub(crate) fn replayed(request: &RemoteRequest) -> Option<Answer> {
    CALLS
        .try_with(|calls| {
            let mut calls = calls.borrow_mut();
            let at = calls.earlier.iter().position(|(made, _)| made == request)?;
            let (made, answer) = calls.earlier.remove(at);
            calls.this_run.push((made, answer.clone()));
            Some(answer)
        })
        .ok()
        .flatten()
}

/// Keeps a call this run made (nothing outside [`keeping_calls`]).
pub(crate) fn made(request: &RemoteRequest, answer: &Answer) {
    let _ = CALLS.try_with(|calls| {
        (calls.borrow_mut().this_run).push((request.clone(), answer.clone()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_engine::Method;
    use serde_json::json;

    fn request(memory: &str) -> RemoteRequest {
        RemoteRequest {
            url: "https://example.com/book".into(),
            method: Method::Post,
            params: vec![("Memory".into(), memory.into())],
        }
    }

    #[tokio::test]
    async fn an_earlier_runs_call_is_replayed_once_and_only_when_identical() {
        keeping_calls(async {
            let same = request("{}");
            // First run: nothing to replay; the call is made.
            assert_eq!(replayed(&same), None);
            made(&same, &Ok(json!({"actions": []})));
            // Within the run, the same call again is made again.
            assert_eq!(replayed(&same), None);
            made(&same, &Err(FetchError::Timeout { millis: 10 }));

            next_run();
            // Both answers replay, in the order they were got, once each.
            assert_eq!(replayed(&same), Some(Ok(json!({"actions": []}))));
            assert_eq!(
                replayed(&same),
                Some(Err(FetchError::Timeout { millis: 10 }))
            );
            assert_eq!(replayed(&same), None);
            // Another memory is another request.
            assert_eq!(replayed(&request(r#"{"a":1}"#)), None);

            // A third run replays what the second one got.
            next_run();
            assert_eq!(replayed(&same), Some(Ok(json!({"actions": []}))));
        })
        .await;
    }

    #[tokio::test]
    async fn outside_a_turn_nothing_is_kept() {
        made(&request("{}"), &Ok(json!({})));
        next_run();
        assert_eq!(replayed(&request("{}")), None);
    }
}
