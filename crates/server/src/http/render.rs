//! The custom channel's answer (reference 14): the turn's output as JSON.

use otto_engine::Output;
use serde_json::{Map, Value, json};

/// `{"says": [{speech, text}], "shows": [...], "listen": …, "collect": …}`,
/// plus `plays` and `handoff` when the turn had them. `listen` is `null`
/// unless the assistant listens (`{"tasks": [...]}`, empty = every task);
/// `collect` is `null` unless a collect question waits for its answer.
pub fn response(output: &Output) -> Value {
    let mut response = Map::new();
    response.insert(
        "says".into(),
        Value::Array(
            output
                .says
                .iter()
                .map(|say| json!({"speech": say.speech, "text": say.text}))
                .collect(),
        ),
    );
    response.insert("shows".into(), json!(output.shows));
    if !output.plays.is_empty() {
        response.insert("plays".into(), json!(output.plays));
    }
    response.insert(
        "listen".into(),
        match &output.listen {
            Some(listen) => json!({"tasks": listen.tasks.clone().unwrap_or_default()}),
            None => Value::Null,
        },
    );
    response.insert(
        "collect".into(),
        match &output.collect_prompt {
            Some(prompt) => json!({
                "name": prompt.collect,
                "question": prompt.question,
                "prompt": prompt.prompt,
                "type": prompt.field_type,
            }),
            None => Value::Null,
        },
    );
    if let Some(handoff) = &output.handoff {
        response.insert(
            "handoff".into(),
            json!({
                "uri": handoff.uri,
                "method": handoff.method,
                "action": handoff.action,
                "priority": handoff.priority,
                "timeout": handoff.timeout,
                "attributes": handoff.attributes,
            }),
        );
    }
    Value::Object(response)
}

/// The lines a person reads, in the order the assistant produced them: each
/// say's text and each show's body.
pub fn reply_lines(output: &Output) -> Vec<String> {
    output
        .order
        .iter()
        .filter_map(|item| match item {
            otto_engine::output::OutputItem::Say(index) => {
                output.says.get(*index).map(|say| say.text.clone())
            }
            otto_engine::output::OutputItem::Show(index) => {
                output.shows.get(*index).map(|show| show.body.clone())
            }
            otto_engine::output::OutputItem::Play(_) => None,
        })
        .collect()
}
