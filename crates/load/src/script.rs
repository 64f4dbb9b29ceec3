//! The conversations a load run plays, and what each must leave behind.
//!
//! A script is a list of conversation templates (JSON, see `demo.json`). Each
//! played conversation takes the next template in turn and a number `n`, which
//! fills the placeholders `{n}`, `{name}` (a first name from a fixed list) and
//! `{party}` (2 to 8) in texts, expected replies, inbound memory and expected
//! memory; so every conversation is different and what it must leave in the
//! store is known in advance.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The demo assistant's conversations (`otto serve` imports it as `otto-demo`).
pub const DEMO_SCRIPT: &str = include_str!("demo.json");

/// First names the demo's `Twilio.FIRST_NAME` question accepts.
const NAMES: [&str; 12] = [
    "Ada", "Bruno", "Carla", "Daniel", "Emma", "Felix", "Greta", "Hugo", "Irene", "Jonas", "Laura",
    "Marco",
];

/// One conversation, as written in the script file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// For reports.
    pub name: String,
    pub turns: Vec<TurnTemplate>,
    /// Dotted memory paths and the value each must have after the last turn.
    #[serde(default)]
    pub memory: Map<String, Value>,
    /// Whether the last turn ends the dialogue.
    #[serde(default)]
    pub ends: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnTemplate {
    pub text: String,
    /// A part of the reply's text that must be there.
    #[serde(default)]
    pub expect: Option<String>,
    /// Sent as the custom channel's `Memory` (merged into the dialogue's memory).
    #[serde(default)]
    pub memory: Option<Value>,
}

/// A script: the templates, played in turn.
#[derive(Debug, Clone)]
pub struct Script {
    pub templates: Vec<Template>,
}

/// One conversation with its placeholders filled.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub template: String,
    pub number: u64,
    pub turns: Vec<Turn>,
    pub memory: Map<String, Value>,
    pub ends: bool,
}

#[derive(Debug, Clone)]
pub struct Turn {
    pub text: String,
    pub expect: Option<String>,
    /// JSON text for the `Memory` form field.
    pub memory: Option<String>,
}

impl Script {
    pub fn demo() -> Script {
        Script::parse(DEMO_SCRIPT).expect("the embedded demo script is valid")
    }

    pub fn parse(text: &str) -> anyhow::Result<Script> {
        let templates: Vec<Template> = serde_json::from_str(text)?;
        anyhow::ensure!(!templates.is_empty(), "the script has no conversations");
        for template in &templates {
            anyhow::ensure!(
                !template.turns.is_empty(),
                "conversation {:?} has no turns",
                template.name
            );
        }
        Ok(Script { templates })
    }

    /// Conversation number `n`: template `n mod count`, placeholders filled.
    pub fn conversation(&self, n: u64) -> Conversation {
        let count = self.templates.len() as u64;
        let template = &self.templates[(n % count) as usize];
        // The template index is taken out of `n` so consecutive conversations
        // of one template still differ in name and party size.
        let fill = Fill::new(n, n / count);
        Conversation {
            template: template.name.clone(),
            number: n,
            turns: template
                .turns
                .iter()
                .map(|turn| Turn {
                    text: fill.text(&turn.text),
                    expect: turn.expect.as_deref().map(|e| fill.text(e)),
                    memory: turn.memory.as_ref().map(|m| fill.value(m).to_string()),
                })
                .collect(),
            memory: template
                .memory
                .iter()
                .map(|(path, value)| (path.clone(), fill.value(value)))
                .collect(),
            ends: template.ends,
        }
    }
}

struct Fill {
    n: String,
    name: &'static str,
    party: String,
}

impl Fill {
    fn new(n: u64, variant: u64) -> Fill {
        Fill {
            n: n.to_string(),
            name: NAMES[(variant % NAMES.len() as u64) as usize],
            party: (2 + variant % 7).to_string(),
        }
    }

    fn text(&self, text: &str) -> String {
        text.replace("{n}", &self.n)
            .replace("{name}", self.name)
            .replace("{party}", &self.party)
    }

    fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, v)| (self.text(key), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The value at a dotted path of a memory object.
pub fn memory_at<'a>(memory: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = memory.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current)
}

/// Whether a stored memory value is the expected one. Collected answers are
/// stored as Autopilot keeps them (a number may be a JSON number or its text),
/// so a string expectation also matches the same text of a number or boolean.
pub fn memory_matches(found: &Value, expected: &Value) -> bool {
    match (found, expected) {
        (Value::Number(number), Value::String(text)) => number.to_string() == *text,
        (Value::Bool(flag), Value::String(text)) => flag.to_string() == *text,
        (Value::String(text), Value::Number(number)) => number.to_string() == *text,
        _ => found == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled_per_conversation() {
        let script = Script::demo();
        let count = script.templates.len() as u64;
        let first = script.conversation(0);
        let again = script.conversation(count);
        assert_eq!(first.template, again.template);
        assert_ne!(first.turns[1].text, again.turns[1].text, "another name");
        assert!(first.turns.iter().all(|t| !t.text.contains('{')));
        let memory = first.turns[0].memory.as_deref().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(memory).unwrap(),
            json!({"load": {"conversation": "0"}})
        );
        assert_eq!(first.memory["load.conversation"], json!("0"));
    }

    #[test]
    fn memory_paths_and_matching() {
        let memory = json!({"a": {"b": {"c": 4}}, "ok": true});
        let memory = memory.as_object().unwrap();
        assert_eq!(memory_at(memory, "a.b.c"), Some(&json!(4)));
        assert_eq!(memory_at(memory, "a.x"), None);
        assert!(memory_matches(&json!(4), &json!("4")));
        assert!(memory_matches(&json!(true), &json!(true)));
        assert!(!memory_matches(&json!(5), &json!("4")));
        assert!(!memory_matches(&json!("x"), &json!(true)));
    }

    #[test]
    fn bad_scripts_are_refused() {
        assert!(Script::parse("[]").is_err());
        assert!(Script::parse(r#"[{"name": "x", "turns": []}]"#).is_err());
        assert!(Script::parse(r#"[{"name": "x", "turns": [{"txt": "a"}]}]"#).is_err());
    }
}
