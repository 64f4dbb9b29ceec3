//! `POST /v1/{AccountSid}/{AssistantSid}/twilio-messaging` (reference 12.3,
//! 12.4): Twilio's incoming-message webhook for SMS, MMS and WhatsApp (and
//! Messenger through Twilio), answered with TwiML `<Message>`s.
//!
//! The user is `From`. The sender's data goes to memory under the channel's
//! namespace (reference 5): `twilio.sms` for SMS and MMS (the sample code's
//! `twilio.sms.From`), `twilio["messaging.whatsapp"]` for `whatsapp:`
//! senders, `twilio["messaging.facebook-messenger"]` for `messenger:`.
//! Twilio retries a webhook that failed or timed out with the same
//! `MessageSid`: a message is run once and a retry answered with the same
//! TwiML from the stored turn.

use axum::body::Body;
use axum::extract::State;

use super::rest::WebhookIds;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use otto_engine::{ChannelData, TurnInput};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use super::twilio_webhook::{self, Webhook};
use crate::turns::Once;
use crate::twiml;

/// The sender parameters kept in memory when Twilio sends them.
const SENDER_PARAMS: &[&str] = &[
    "From",
    "To",
    "MessageSid",
    "AccountSid",
    "MessagingServiceSid",
    "ProfileName",
    "WaId",
    "NumMedia",
];

/// The channel (`Channel` parameter, dialogue channel) and the memory
/// namespace of a sender address.
pub fn channel_of(from: &str) -> (&'static str, &'static str) {
    let scheme = from
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("whatsapp") => ("whatsapp", "messaging.whatsapp"),
        Some("messenger") => ("facebook-messenger", "messaging.facebook-messenger"),
        _ => ("sms", "sms"),
    }
}

pub async fn handle(
    State(state): State<AppState>,
    WebhookIds((account, assistant)): WebhookIds<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    message(state, &account, &assistant, &uri, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn message(
    state: AppState,
    account: &str,
    assistant: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let webhook = twilio_webhook::receive(&state, account, uri, headers, body).await?;
    let from = webhook.required("From", "the sender's address, the user of the dialogue")?;
    let message_sid = webhook
        .param("MessageSid")
        .or_else(|| webhook.param("SmsMessageSid"))
        .or_else(|| webhook.param("SmsSid"))
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing required parameter MessageSid: the message's SID, which makes Twilio's retries safe (Twilio sends it with every webhook)",
            )
        })?;
    let (channel, namespace) = channel_of(from);
    let input = TurnInput {
        target_task: webhook.target_task(),
        inbound_memory: webhook.inbound_memory()?,
        channel_data: Some(ChannelData {
            namespace: namespace.to_owned(),
            values: sender_values(&webhook),
        }),
        ..TurnInput::message(from, channel, webhook.param("Body").unwrap_or(""))
    };
    let document = match state.turns.turn_once(assistant, input, message_sid).await? {
        Once::Ran(outcome) => twiml::messaging(&outcome.result.output),
        Once::Repeated(repeated) => repeated
            .output()
            .map(|output| twiml::messaging(&output))
            .unwrap_or_else(twiml::empty),
    };
    Ok(twilio_webhook::twiml_response(document))
}

/// What goes under the channel's namespace: the sender parameters and, for
/// MMS, each `MediaUrl{N}` and `MediaContentType{N}`.
fn sender_values(webhook: &Webhook) -> serde_json::Map<String, Value> {
    let mut values = webhook.values_of(SENDER_PARAMS);
    let media = webhook
        .param("NumMedia")
        .and_then(|count| count.parse::<usize>().ok())
        .unwrap_or(0)
        // Twilio sends at most 10 media per message.
        .min(10);
    for index in 0..media {
        for name in [
            format!("MediaUrl{index}"),
            format!("MediaContentType{index}"),
        ] {
            if let Some(value) = webhook.param(&name) {
                values.insert(name, Value::from(value));
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_by_sender_address() {
        assert_eq!(channel_of("+15555550100"), ("sms", "sms"));
        assert_eq!(
            channel_of("whatsapp:+15555550100"),
            ("whatsapp", "messaging.whatsapp")
        );
        assert_eq!(
            channel_of("WhatsApp:+15555550100"),
            ("whatsapp", "messaging.whatsapp")
        );
        assert_eq!(
            channel_of("messenger:12345"),
            ("facebook-messenger", "messaging.facebook-messenger")
        );
    }
}
