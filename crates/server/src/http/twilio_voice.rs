//! `POST /v1/{AccountSid}/{AssistantSid}/twilio-voice` (reference 12.2, 21):
//! a phone number's voice webhook, the `<Gather>` results of the call, and
//! its status callback, all on one URL.
//!
//! - The call's first request (no `OttoStep` in the query) starts a dialogue
//!   with `defaults.assistant_initiation` (`InputKind::CallStart`).
//! - While the dialogue waits, the answer ends with `<Gather input="speech
//!   dtmf" action="…?OttoStep=N">`: Twilio posts `SpeechResult` (a message)
//!   or `Digits` (`listen.voice_digits`, collect answers) there. Silence
//!   falls through to a `<Redirect>` to the same URL without either, which
//!   runs as an empty input (the fallback, or a failed collect attempt).
//! - A request with a final `CallStatus` (`completed`, `busy`, `failed`,
//!   `no-answer`, `canceled`) is the status callback: it hangs up the call's
//!   dialogue (`InputKind::HangUp`) and answers an empty `<Response/>`.
//!
//! The user is the caller, `From` (`To` on outbound calls). Memory gets
//! `twilio.voice` with `CallSid`, `From`, `To` and the other call parameters
//! Twilio sends. Each request is idempotent by `CallSid` and step (`CA…/start`,
//! `CA…/3`, `CA…/completed`): Twilio's retry of a request gets the stored
//! answer.

use axum::body::Body;
use axum::extract::State;

use super::rest::WebhookIds;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use otto_engine::{ChannelData, InputKind, Output, TurnInput};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use super::twilio_webhook::{self, Webhook};
use crate::turns::Once;
use crate::twiml::{self, VoiceUrls};

/// The query parameter that numbers the steps of a call in the URLs otto
/// gives Twilio (`<Gather action>`, `<Redirect>`).
pub const STEP_PARAM: &str = "OttoStep";

/// The dialogue channel and `Channel` parameter of calls.
pub const CHANNEL: &str = "voice";

/// Call parameters kept under `twilio.voice` when Twilio sends them.
const CALL_PARAMS: &[&str] = &[
    "CallSid",
    "AccountSid",
    "From",
    "To",
    "Caller",
    "Called",
    "Direction",
    "ForwardedFrom",
    "CallerName",
    "ParentCallSid",
    "FromCity",
    "FromState",
    "FromZip",
    "FromCountry",
    "ToCity",
    "ToState",
    "ToZip",
    "ToCountry",
];

/// `CallStatus` values after which the call is over.
const FINAL_STATUSES: &[&str] = &["completed", "busy", "failed", "no-answer", "canceled"];

pub async fn handle(
    State(state): State<AppState>,
    WebhookIds((account, assistant)): WebhookIds<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    call(state, &account, &assistant, &uri, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn call(
    state: AppState,
    account: &str,
    assistant: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let webhook = twilio_webhook::receive(&state, account, uri, headers, body).await?;
    let call_sid = webhook.required("CallSid", "the call's SID")?;
    let outbound = webhook
        .param("Direction")
        .is_some_and(|direction| direction.starts_with("outbound"));
    let user = if outbound {
        webhook.required("To", "the number called, the user of an outbound call")?
    } else {
        webhook.required("From", "the caller's number, the user of the dialogue")?
    };
    let status = webhook.param("CallStatus").unwrap_or("");
    if FINAL_STATUSES.contains(&status) {
        hang_up(&state, assistant, user, call_sid, status).await?;
        return Ok(twilio_webhook::twiml_response(twiml::empty()));
    }
    let step = webhook
        .query
        .iter()
        .find(|(name, _)| name == STEP_PARAM)
        .map(|(_, value)| value.as_str());
    let base = TurnInput {
        target_task: webhook.target_task(),
        inbound_memory: webhook.inbound_memory()?,
        channel_data: Some(ChannelData {
            namespace: CHANNEL.to_owned(),
            values: webhook.values_of(CALL_PARAMS),
        }),
        ..TurnInput::message(user, CHANNEL, "")
    };
    let (input, key) = match step {
        None => (
            base.with_kind(InputKind::CallStart),
            format!("{call_sid}/start"),
        ),
        Some(step) => {
            let input = match webhook.param("Digits") {
                Some(digits) => base.with_kind(InputKind::Digits(digits.to_owned())),
                None => TurnInput {
                    text: webhook.param("SpeechResult").unwrap_or("").to_owned(),
                    ..base
                },
            };
            (input, format!("{call_sid}/{step}"))
        }
    };
    let (output, step) = match state.turns.turn_once(assistant, input, &key).await? {
        Once::Ran(outcome) => (
            outcome.result.output,
            outcome.committed.turn_seq.unwrap_or(0),
        ),
        Once::Repeated(repeated) => match repeated.output() {
            Some(output) => (output, repeated.processed.turn_seq.unwrap_or(0)),
            None => return Ok(twilio_webhook::twiml_response(twiml::empty())),
        },
    };
    Ok(twilio_webhook::twiml_response(render(
        &state, uri, &webhook, &output, step,
    )))
}

fn render(state: &AppState, uri: &Uri, webhook: &Webhook, output: &Output, step: i64) -> String {
    let next = step_url(&state.public_url, uri.path(), &webhook.query, step);
    twiml::voice(
        output,
        &VoiceUrls {
            gather_action: next.clone(),
            no_input: next,
        },
    )
}

/// This URL for the next step: the public URL, the path, the query the call
/// came in with (`TargetTask`, `Memory` apply to every step, as to every
/// message of a messaging URL) and `OttoStep`.
fn step_url(public_url: &str, path: &str, query: &[(String, String)], step: i64) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in query.iter().filter(|(name, _)| name != STEP_PARAM) {
        serializer.append_pair(name, value);
    }
    serializer.append_pair(STEP_PARAM, &step.to_string());
    format!(
        "{}{path}?{}",
        public_url.trim_end_matches('/'),
        serializer.finish()
    )
}

/// The status callback: ends the dialogue of this call, if it is still live
/// (a dialogue of a later call from the same number is left alone).
async fn hang_up(
    state: &AppState,
    assistant: &str,
    user: &str,
    call_sid: &str,
    status: &str,
) -> Result<(), ApiError> {
    let (assistant_sid, _) = state.turns.assistant(assistant).await?;
    let live = state
        .turns
        .store()
        .load_active_dialogue(&assistant_sid, user)
        .await?;
    let of_this_call = live.is_some_and(|dialogue| {
        dialogue
            .state
            .memory
            .get("twilio")
            .and_then(|twilio| twilio.get(CHANNEL))
            .and_then(|voice| voice.get("CallSid"))
            .and_then(Value::as_str)
            == Some(call_sid)
    });
    if !of_this_call {
        tracing::info!(call_sid, status, "call ended with no live dialogue of it");
        return Ok(());
    }
    let input = TurnInput::message(user, CHANNEL, "").with_kind(InputKind::HangUp);
    state
        .turns
        .turn_once(assistant, input, &format!("{call_sid}/{status}"))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_urls_keep_the_query_and_replace_the_step() {
        let query = vec![
            ("TargetTask".to_owned(), "menu".to_owned()),
            ("OttoStep".to_owned(), "2".to_owned()),
            ("Memory".to_owned(), "{\"a\":1}".to_owned()),
        ];
        assert_eq!(
            step_url("https://bots.example/", "/v1/AC/UA/twilio-voice", &query, 3),
            "https://bots.example/v1/AC/UA/twilio-voice?TargetTask=menu&Memory=%7B%22a%22%3A1%7D&OttoStep=3"
        );
        assert_eq!(step_url("http://h", "/p", &[], 1), "http://h/p?OttoStep=1");
    }
}
