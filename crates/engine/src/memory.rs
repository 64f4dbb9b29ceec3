//! Dialogue memory in Autopilot's layout (reference 5): author keys at the top,
//! Twilio-populated data under `twilio`.

use otto_model::ActionsError;
use otto_model::actions::check_memory_size;
use serde_json::{Map, Value, json};

/// The reserved key for Twilio-populated data.
pub const TWILIO_KEY: &str = "twilio";
/// Where collect answers live: `twilio.collected_data.<collect>.answers.<question>`.
pub const COLLECTED_DATA_KEY: &str = "collected_data";

/// Merges `incoming` into `memory`: a new key is added, an existing key is
/// overwritten (the `remember` action and inbound `Memory` context).
pub fn merge(memory: &mut Map<String, Value>, incoming: &Map<String, Value>) {
    for (key, value) in incoming {
        memory.insert(key.clone(), value.clone());
    }
}

/// Replaces one channel namespace under `twilio` (e.g. `twilio.voice`,
/// `twilio["messaging.whatsapp"]`) with what the channel adapter supplied.
pub fn set_channel_data(
    memory: &mut Map<String, Value>,
    namespace: &str,
    values: &Map<String, Value>,
) {
    object_at(memory, TWILIO_KEY).insert(namespace.to_owned(), Value::Object(values.clone()));
}

/// Clears a collect's stored answers: running the same collect again starts afresh.
pub fn reset_collect(memory: &mut Map<String, Value>, collect: &str) {
    let collected = object_at(object_at(memory, TWILIO_KEY), COLLECTED_DATA_KEY);
    collected.insert(collect.to_owned(), json!({"answers": {}}));
}

/// One stored collect answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer<'a> {
    pub answer: &'a str,
    pub field_type: Option<&'a str>,
    /// Whether the question was answered validly.
    pub filled: bool,
    pub attempts: u32,
}

/// Writes `twilio.collected_data.<collect>.answers.<question>`.
pub fn store_answer(
    memory: &mut Map<String, Value>,
    collect: &str,
    question: &str,
    stored: &StoredAnswer<'_>,
) {
    let collected = object_at(object_at(memory, TWILIO_KEY), COLLECTED_DATA_KEY);
    let answers = object_at(object_at(collected, collect), "answers");
    let mut entry = Map::new();
    entry.insert("answer".into(), Value::from(stored.answer));
    if let Some(field_type) = stored.field_type {
        entry.insert("type".into(), Value::from(field_type));
    }
    entry.insert("filled".into(), Value::from(stored.filled));
    entry.insert("attempts".into(), Value::from(stored.attempts));
    answers.insert(question.to_owned(), Value::Object(entry));
}

/// Checks memory against a size limit, measured as compact JSON (error 90100).
pub fn check_size(memory: &Map<String, Value>, limit: usize) -> Result<(), ActionsError> {
    check_memory_size(memory, limit)
}

/// The object under `key`, created (or replacing a non-object) when needed.
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key.to_owned()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(object) => object,
        _ => unreachable!("the slot was just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn merge_adds_and_overwrites_top_level_keys() {
        let mut memory = map(json!({"a": 1, "b": {"x": 1}}));
        merge(&mut memory, &map(json!({"b": {"y": 2}, "c": "new"})));
        assert_eq!(
            Value::Object(memory),
            json!({"a": 1, "b": {"y": 2}, "c": "new"})
        );
    }

    #[test]
    fn answers_are_stored_under_collected_data() {
        let mut memory = map(json!({"twilio": "not an object"}));
        reset_collect(&mut memory, "form");
        let stored = StoredAnswer {
            answer: "4",
            field_type: Some("Twilio.NUMBER"),
            filled: true,
            attempts: 2,
        };
        store_answer(&mut memory, "form", "party_size", &stored);
        let untyped = StoredAnswer {
            answer: "none",
            field_type: None,
            filled: false,
            attempts: 3,
        };
        store_answer(&mut memory, "form", "notes", &untyped);
        assert_eq!(
            Value::Object(memory.clone()),
            json!({"twilio": {"collected_data": {"form": {"answers": {
                "party_size": {"answer": "4", "type": "Twilio.NUMBER", "filled": true, "attempts": 2},
                "notes": {"answer": "none", "filled": false, "attempts": 3}}}}}})
        );
        reset_collect(&mut memory, "form");
        assert_eq!(
            memory["twilio"]["collected_data"]["form"],
            json!({"answers": {}})
        );
    }

    #[test]
    fn channel_data_replaces_its_namespace_only() {
        let mut memory = map(json!({"twilio": {"collected_data": {}, "voice": {"old": true}}}));
        set_channel_data(&mut memory, "voice", &map(json!({"CallSid": "CA1"})));
        assert_eq!(
            Value::Object(memory),
            json!({"twilio": {"collected_data": {}, "voice": {"CallSid": "CA1"}}})
        );
    }

    #[test]
    fn size_is_checked_as_compact_json() {
        let fits = map(json!({"k": "x".repeat(16384 - 8)}));
        assert_eq!(serde_json::to_string(&fits).unwrap().len(), 16384);
        assert!(check_size(&fits, 16384).is_ok());
        let over = map(json!({"k": "x".repeat(16384 - 7)}));
        let error = check_size(&over, 16384).unwrap_err();
        assert_eq!(error.code(), 90100);
        assert_eq!(
            error.problem(),
            "the memory is 16385 bytes; the limit is 16384 bytes"
        );
    }
}
