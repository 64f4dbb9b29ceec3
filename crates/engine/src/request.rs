//! The Autopilot request (reference 4): the parameters sent to task URLs,
//! redirect URLs, hand-off URLs and collect validation webhooks.

use serde_json::{Map, Value};

use crate::fetch::Method;
use crate::understanding::RecognizedField;

/// Everything the parameters are made of.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    pub account_sid: &'a str,
    pub assistant_sid: &'a str,
    pub dialogue_sid: &'a str,
    pub user_identifier: &'a str,
    pub current_input: &'a str,
    pub current_task: Option<&'a str>,
    pub confidence: f64,
    pub next_best_task: Option<&'a str>,
    pub fields: &'a [RecognizedField],
    pub dialogue_payload_url: &'a str,
    pub memory: &'a Map<String, Value>,
    pub channel: &'a str,
}

/// The REST URL of a live dialogue: `{base}/v1/Assistants/{UA}/Dialogues/{UK}`.
pub fn dialogue_payload_url(api_base_url: &str, assistant_sid: &str, dialogue_sid: &str) -> String {
    let base = api_base_url.trim_end_matches('/');
    format!("{base}/v1/Assistants/{assistant_sid}/Dialogues/{dialogue_sid}")
}

/// The parameters in Autopilot's documented order. `Memory` is sent with POST
/// only (a GET query string could truncate it). Absent values are sent empty,
/// as Autopilot sent an empty `NextBestTask` when the runner-up was the fallback.
pub fn autopilot_params(context: &RequestContext<'_>, method: Method) -> Vec<(String, String)> {
    let mut params = vec![
        param("AccountSid", context.account_sid),
        param("AssistantSid", context.assistant_sid),
        param("DialogueSid", context.dialogue_sid),
        param("UserIdentifier", context.user_identifier),
        param("CurrentInput", context.current_input),
        param("CurrentTask", context.current_task.unwrap_or("")),
        param(
            "CurrentTaskConfidence",
            &format_confidence(context.confidence),
        ),
        param("NextBestTask", context.next_best_task.unwrap_or("")),
    ];
    for field in context.fields {
        params.push((format!("Field_{}_Value", field.name), field.value.clone()));
        params.push((
            format!("Field_{}_Type", field.name),
            field.field_type.clone(),
        ));
    }
    params.push(param("DialoguePayloadUrl", context.dialogue_payload_url));
    if method == Method::Post {
        params.push(param("Memory", &memory_json(context.memory)));
    }
    params.push(param("Channel", context.channel));
    params
}

/// Memory as the compact JSON string Autopilot sent.
pub fn memory_json(memory: &Map<String, Value>) -> String {
    // A map with string keys always serialises.
    serde_json::to_string(memory).unwrap_or_default()
}

/// `0.87`, `1`, `0`: the shortest text that reads back as the same number.
pub fn format_confidence(confidence: f64) -> String {
    if confidence.is_finite() {
        format!("{confidence}")
    } else {
        "0".to_owned()
    }
}

fn param(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_requests_leave_memory_out() {
        let memory = json!({"name": "Val"}).as_object().cloned().unwrap();
        let fields = [RecognizedField::new("party_size", "Twilio.NUMBER", "4")];
        let context = RequestContext {
            account_sid: "AC1",
            assistant_sid: "UA1",
            dialogue_sid: "UK1",
            user_identifier: "+1555",
            current_input: "table for 4",
            current_task: Some("book"),
            confidence: 0.87,
            next_best_task: None,
            fields: &fields,
            dialogue_payload_url: "https://x/v1/Assistants/UA1/Dialogues/UK1",
            memory: &memory,
            channel: "sms",
        };
        let names =
            |params: Vec<(String, String)>| params.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            names(autopilot_params(&context, Method::Get)),
            [
                "AccountSid",
                "AssistantSid",
                "DialogueSid",
                "UserIdentifier",
                "CurrentInput",
                "CurrentTask",
                "CurrentTaskConfidence",
                "NextBestTask",
                "Field_party_size_Value",
                "Field_party_size_Type",
                "DialoguePayloadUrl",
                "Channel"
            ]
        );
        let post = autopilot_params(&context, Method::Post);
        assert_eq!(
            post[11],
            ("Memory".to_owned(), "{\"name\":\"Val\"}".to_owned())
        );
        assert_eq!(post[6].1, "0.87");
        assert_eq!(post[7].1, "");
    }

    #[test]
    fn confidence_and_payload_url_formats() {
        assert_eq!(format_confidence(1.0), "1");
        assert_eq!(format_confidence(0.0), "0");
        assert_eq!(format_confidence(f64::NAN), "0");
        assert_eq!(
            dialogue_payload_url("http://otto.local/", "UA1", "UK2"),
            "http://otto.local/v1/Assistants/UA1/Dialogues/UK2"
        );
    }
}
