//! Memory limits and templates in static actions.

mod common;

use common::*;
use otto_engine::{EngineConfig, ErrorKind, Waiting};
use otto_model::Assistant;
use serde_json::json;

fn bot() -> Assistant {
    assistant(
        vec![
            task(
                "name",
                json!([{"remember": {"first_name": "Val", "cart": {"items": 3}}}, {"say": "Noted."}, {"listen": true}]),
            ),
            task(
                "hoard",
                json!([{"say": "Saving a lot."}, {"remember": {"a": "x".repeat(9_000)}}, {"redirect": "task://hoard_more"}]),
            ),
            task(
                "hoard_more",
                json!([{"remember": {"b": "x".repeat(9_000)}}, {"listen": true}]),
            ),
            task(
                "hello",
                json!([{"say": "Hi {{memory.first_name}}, from {{user.identifier}} on {{channel}} in {{task}}."},
                       {"show": {"body": "Cart: {{memory.cart.items}} items", "images": [{"url": "https://x.test/{{memory.first_name}}.png"}]}},
                       {"listen": true}]),
            ),
            task(
                "plain",
                json!([{"say": "Use {curly} and <say-as interpret-as='digits'>123</say-as> { { } }"}, {"listen": true}]),
            ),
            task(
                "broken",
                json!([{"say": "Hello {{ memory.first_name "}, {"say": "Still here."}, {"listen": true}]),
            ),
            task(
                "runaway",
                json!([{"say": "{% for i in range(99999) %}{{ i }}{% endfor %}"}, {"listen": true}]),
            ),
            task(
                "ask",
                json!([{"collect": {"name": "trip", "questions": [
                    {"question": "Where to, {{memory.first_name}}?", "name": "city",
                     "validate": {"allowed_values": {"list": ["Paris"]},
                                  "on_failure": {"messages": [{"say": "{{memory.first_name}}, we only fly to Paris."}]}}}],
                    "on_complete": {"redirect": "task://name"}}}]),
            ),
        ],
        json!({}),
    )
}

fn nlu() -> KeywordNlu {
    KeywordNlu::new()
        .task("name", &["my name"])
        .task("hoard", &["hoard"])
        .task("hello", &["hello"])
        .task("plain", &["plain"])
        .task("broken", &["broken"])
        .task("runaway", &["runaway"])
        .task("ask", &["trip"])
}

#[test]
fn memory_over_16_kb_is_refused_and_rolled_back_and_the_dialogue_goes_on() {
    let h = Harness::new(bot(), nlu());
    let named = h.say(None, "my name is Val", at(0));
    let result = h.say(Some(named.state.clone()), "hoard", at(1));
    assert_eq!(error_kinds(&result), [ErrorKind::MemoryTooLarge]);
    assert_eq!(result.errors[0].code, Some(90100));
    assert_eq!(
        result.errors[0].message,
        "memory refused and rolled back: the memory is 18053 bytes; the limit is 16384 bytes"
    );
    assert_eq!(result.state.memory, named.state.memory);
    assert_eq!(texts(&result), ["Saving a lot."]);
    assert!(matches!(result.state.waiting, Waiting::Listen(_)));
    assert!(!result.state.ended);
    assert!(
        result
            .events
            .iter()
            .all(|event| event.memory == named.state.memory)
    );
}

#[test]
fn a_new_dialogue_rolls_back_to_empty_memory() {
    let h = Harness::new(bot(), nlu());
    let result = h.say(None, "hoard", at(0));
    assert_eq!(error_kinds(&result), [ErrorKind::MemoryTooLarge]);
    assert!(result.state.memory.is_empty());
}

#[test]
fn the_memory_limit_is_configurable_for_studio() {
    let config = EngineConfig {
        memory_limit: 12 * 1024,
        ..EngineConfig::default()
    };
    let h = Harness::with_config(bot(), nlu(), config);
    let input = otto_engine::TurnInput {
        inbound_memory: Some(map(json!({"crm": "y".repeat(13_000)}))),
        ..sms("my name")
    };
    let result = h.turn(None, input, at(0));
    assert_eq!(
        result.errors[0].message,
        "memory refused and rolled back: the memory is 13048 bytes; the limit is 12288 bytes"
    );
    assert!(
        result.state.memory.is_empty(),
        "the inbound context went with the rest"
    );
}

#[test]
fn templates_render_memory_user_channel_and_task() {
    let h = Harness::new(bot(), nlu());
    let named = h.say(None, "my name is Val", at(0));
    let result = h.say(Some(named.state), "hello", at(1));
    assert_eq!(
        texts(&result),
        [format!("Hi Val, from {USER} on sms in hello.")]
    );
    assert_eq!(result.output.shows[0].body, "Cart: 3 items");
    assert_eq!(
        result.output.shows[0].images[0].url, "https://x.test/{{memory.first_name}}.png",
        "only body is a template"
    );
    assert!(result.errors.is_empty());
}

#[test]
fn text_without_template_syntax_is_untouched() {
    let h = Harness::new(bot(), nlu());
    let result = h.say(None, "plain", at(0));
    assert_eq!(
        result.output.says[0].speech,
        "Use {curly} and <say-as interpret-as='digits'>123</say-as> { { } }"
    );
    assert_eq!(result.output.says[0].text, "Use {curly} and 123 { { } }");
}

#[test]
fn a_template_error_keeps_the_text_as_written_and_the_turn_goes_on() {
    let h = Harness::new(bot(), nlu());
    let result = h.say(None, "broken", at(0));
    assert_eq!(
        texts(&result),
        ["Hello {{ memory.first_name ", "Still here."]
    );
    assert_eq!(error_kinds(&result), [ErrorKind::Template]);
    assert!(
        result.errors[0]
            .message
            .starts_with("template \"Hello {{ memory.first_name \" not rendered: syntax error")
    );
    assert_eq!(result.errors[0].task.as_deref(), Some("broken"));
    assert!(matches!(result.state.waiting, Waiting::Listen(_)));
}

#[test]
fn a_runaway_template_is_stopped_by_its_fuel() {
    let h = Harness::new(bot(), nlu());
    let result = h.say(None, "runaway", at(0));
    assert_eq!(
        texts(&result),
        ["{% for i in range(99999) %}{{ i }}{% endfor %}"]
    );
    assert!(
        result.errors[0].message.contains("engine ran out of fuel"),
        "{}",
        result.errors[0].message
    );
}

#[test]
fn collect_prompts_and_retry_messages_are_templates_too() {
    let h = Harness::new(bot(), nlu());
    let named = h.say(None, "my name is Val", at(0));
    let asked = h.say(Some(named.state), "trip", at(1));
    assert_eq!(texts(&asked), ["Where to, Val?"]);
    assert_eq!(
        asked.output.collect_prompt.as_ref().unwrap().prompt,
        "Where to, Val?"
    );
    let wrong = h.say(Some(asked.state), "Rome", at(2));
    assert_eq!(texts(&wrong), ["Val, we only fly to Paris."]);
}
