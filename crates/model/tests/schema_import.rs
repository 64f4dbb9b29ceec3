//! Schema import: tolerance, legacy mapping, precise errors, hostile input; export layout.

use otto_model::actions::{Action, ActionsDocument, Say};
use otto_model::schema::SchemaError;
use otto_model::{
    Assistant, Field, FieldType, FieldValue, Sample, Target, Task, export_schema, import_schema,
};
use serde_json::{Value, json};

fn import(value: Value) -> Assistant {
    import_schema(&value.to_string()).unwrap()
}

fn import_err(value: Value) -> String {
    import_schema(&value.to_string()).unwrap_err().to_string()
}

fn say(text: &str) -> ActionsDocument {
    ActionsDocument::new(vec![Action::Say(Say::Text(text.into()))])
}

// ---- tolerance ----

#[test]
fn a_minimal_schema_needs_only_a_name() {
    let assistant = import(json!({"uniqueName": "bot"}));
    assert_eq!(assistant, Assistant::new("bot"));
    assert_eq!(
        import(json!({"friendlyName": "My Bot"})).unique_name,
        "My Bot"
    );
    let both = import(json!({"uniqueName": "bot", "friendlyName": ""}));
    assert_eq!(both.friendly_name, "bot");
}

#[test]
fn optional_keys_may_be_missing_or_null() {
    let assistant = import(json!({
        "uniqueName": "bot", "logQueries": false, "defaults": null, "styleSheet": null, "modelBuild": {},
        "assistantSid": "UA00000000000000000000000000000001", "somethingNew": [1, 2],
        "fieldTypes": [{"uniqueName": "Color", "values": [{"value": "red"}, {"value": "crimson", "synonymOf": "red"}]}],
        "tasks": [{"uniqueName": "t", "samples": [{"taggedText": "hi"}]}, {"uniqueName": "u", "actions": {}}]
    }));
    assert!(!assistant.log_queries);
    assert_eq!(assistant.model_build_name, None);
    assert_eq!(
        assistant.field_types[0].values,
        [
            FieldValue {
                language: "en-US".into(),
                value: "red".into(),
                synonym_of: None
            },
            FieldValue {
                language: "en-US".into(),
                value: "crimson".into(),
                synonym_of: Some("red".into())
            },
        ]
    );
    assert_eq!(assistant.tasks[0].samples, [Sample::new("en-US", "hi")]);
    assert_eq!(assistant.tasks[0].actions, None);
    assert_eq!(assistant.tasks[1].actions, None);
    assert!(assistant.tasks[1].fields.is_empty() && assistant.tasks[1].samples.is_empty());
}

#[test]
fn synonym_of_null_empty_or_missing_all_mean_canonical() {
    let assistant = import(
        json!({"uniqueName": "b", "fieldTypes": [{"uniqueName": "T", "values": [
        {"language": "en-US", "value": "a", "synonymOf": null},
        {"language": "en-US", "value": "b", "synonymOf": ""},
        {"language": "en-US", "value": "c"},
        {"language": "en-US", "value": "d", "synonymOf": "a"}]}]}),
    );
    let synonyms: Vec<_> = assistant.field_types[0]
        .values
        .iter()
        .map(|v| v.synonym_of.as_deref())
        .collect();
    assert_eq!(synonyms, [None, None, None, Some("a")]);
}

#[test]
fn defaults_and_style_sheet_without_their_wrapper_key_are_ignored_like_the_cli() {
    let assistant = import(json!({"uniqueName": "b",
        "defaults": {"fallback": "task://x"}, "styleSheet": {"voice": {"say_voice": "Polly.Joanna"}}}));
    assert!(assistant.defaults.is_empty());
    assert!(assistant.style_sheet.is_empty());
}

#[test]
fn legacy_types_become_field_types() {
    let assistant =
        import(json!({"uniqueName": "b", "types": [{"uniqueName": "Color", "values": []}]}));
    assert_eq!(assistant.field_types[0].unique_name, "Color");
}

#[test]
fn legacy_default_task_names_avoid_existing_tasks() {
    let assistant = import(json!({"uniqueName": "b",
        "intents": [{"uniqueName": "fallback"}, {"uniqueName": "initiation"}, {"uniqueName": "initiation-2"}],
        "initiationActions": {"actions": [{"say": "hello"}, {"listen": true}]},
        "fallbackActions": {"actions": [{"say": "sorry"}]}}));
    let names: Vec<_> = assistant
        .tasks
        .iter()
        .map(|t| t.unique_name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "fallback",
            "initiation",
            "initiation-2",
            "initiation-3",
            "fallback-2"
        ]
    );
    assert_eq!(
        assistant.defaults.assistant_initiation,
        Some(Target::Task("initiation-3".into()))
    );
    assert_eq!(
        assistant.defaults.fallback,
        Some(Target::Task("fallback-2".into()))
    );
    assert_eq!(assistant.tasks[4].actions, Some(say("sorry")));
}

#[test]
fn an_empty_legacy_program_creates_no_task() {
    let assistant = import(json!({"uniqueName": "b", "fallbackActions": {}}));
    assert!(assistant.tasks.is_empty());
    assert_eq!(assistant.defaults.fallback, None);
}

// ---- errors ----

#[test]
fn json_syntax_errors_give_line_and_column() {
    let error = import_schema("{\n  \"uniqueName\": \"b\",\n  \"tasks\": [}\n").unwrap_err();
    assert_eq!(
        error,
        SchemaError::Syntax {
            line: 3,
            column: 13,
            message: "expected value".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "not valid JSON at line 3 column 13: expected value"
    );
}

#[test]
fn shape_errors_name_the_path_in_the_file() {
    let cases = [
        (
            json!([]),
            "expected an object (an Autopilot schema), found an array",
        ),
        (json!({}), "needs \"uniqueName\" or \"friendlyName\""),
        (
            json!({"uniqueName": 5}),
            "uniqueName: expected a string, found a number",
        ),
        (
            json!({"uniqueName": "b", "logQueries": "yes"}),
            "logQueries: expected true or false, found a string",
        ),
        (
            json!({"uniqueName": "b", "tasks": {}}),
            "tasks: expected an array, found an object",
        ),
        (
            json!({"uniqueName": "b", "tasks": [{"uniqueName": "a"}, {"actions": {}}]}),
            "tasks[1]: missing \"uniqueName\"",
        ),
        (
            json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "samples": [{"language": "en-US"}]}]}),
            "tasks[0].samples[0]: missing \"taggedText\"",
        ),
        (
            json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "fields": [{"uniqueName": "f"}]}]}),
            "tasks[0].fields[0]: missing \"fieldType\"",
        ),
        (
            json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "actionsUrl": 1}]}),
            "tasks[0].actionsUrl: expected a string, found a number",
        ),
        (
            json!({"uniqueName": "b", "fieldTypes": [{"uniqueName": "T", "values": [{"value": "a"}, {"value": "b", "synonymOf": 1}]}]}),
            "fieldTypes[0].values[1].synonymOf: expected a string, found a number",
        ),
        (
            json!({"uniqueName": "b", "fieldTypes": [{"values": []}]}),
            "fieldTypes[0]: missing \"uniqueName\"",
        ),
        (
            json!({"uniqueName": "b", "modelBuild": "v1"}),
            "modelBuild: expected an object, found a string",
        ),
        (
            json!({"uniqueName": "b", "modelBuild": {"uniqueName": 1}}),
            "modelBuild.uniqueName: expected a string, found a number",
        ),
        (
            json!({"uniqueName": "b", "defaults": {"defaults": {"fallback": "nowhere"}}}),
            "defaults.defaults.fallback: \"nowhere\" is not a target: expected task://<unique_name> or an http(s) URL",
        ),
        (
            json!({"uniqueName": "b", "defaults": []}),
            "defaults: expected an object {\"defaults\": {...}}, found an array",
        ),
        (
            json!({"uniqueName": "b", "styleSheet": {"style_sheet": {"voice": "x"}}}),
            "styleSheet.style_sheet.voice: expected an object, found a string",
        ),
        (
            json!({"uniqueName": "b", "tasks": [], "intents": []}),
            "both \"tasks\" and \"intents\" are present; a schema uses one or the other",
        ),
        (
            json!({"uniqueName": "b", "fieldTypes": [], "types": []}),
            "both \"fieldTypes\" and \"types\" are present; a schema uses one or the other",
        ),
        (
            json!({"uniqueName": "b", "defaults": {"defaults": {"fallback": "task://f"}}, "fallbackActions": {"actions": []}}),
            "fallbackActions: sets the same default as defaults.defaults.fallback; keep one of them",
        ),
        (
            json!({"uniqueName": "b", "initiationActions": {"actions": {}}}),
            "initiationActions.actions: expected an array, found an object",
        ),
    ];
    for (schema, expected) in cases {
        assert_eq!(import_err(schema), expected);
    }
}

#[test]
fn actions_errors_are_placed_inside_the_task() {
    assert_eq!(
        import_err(
            json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "actions": {"actions": [
            {"say": "x"}, {"collect": {"name": "c", "on_complete": {"redirect": "task://a"}}}]}}]})
        ),
        "tasks[0].actions.actions[1].collect: missing \"questions\""
    );
    assert_eq!(
        import_err(
            json!({"uniqueName": "b", "intents": [{"uniqueName": "a"}, {"uniqueName": "z", "actions": {"actions": [
            {"listen": true}, {"say": "x"}]}}]})
        ),
        "intents[1].actions.actions[0]: \"listen\" ends the turn and must be the last action; actions[1] would never run"
    );
    assert_eq!(
        import_err(json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "actions": []}]})),
        "tasks[0].actions: expected an object {\"actions\": [...]}, found an array"
    );
}

#[test]
fn stored_actions_over_16_kb_are_refused() {
    let big = "x".repeat(16_384);
    assert_eq!(
        import_err(
            json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "actions": {"actions": [{"say": big}]}}]})
        ),
        "tasks[0].actions: the Actions JSON is 16408 bytes; the limit is 16384 bytes"
    );
}

#[test]
fn hostile_input_gives_errors_not_panics() {
    let deep = format!(
        "{{\"uniqueName\": \"b\", \"x\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        import_schema(&deep).unwrap_err().to_string(),
        "not valid JSON at line 1 column 152: recursion limit exceeded"
    );
    let garbage = "\u{0}".repeat(1 << 20);
    assert_eq!(
        import_schema(&garbage).unwrap_err().to_string(),
        "not valid JSON at line 1 column 1: expected value"
    );
    let unterminated = format!("{{\"uniqueName\": \"{}", "a".repeat(1 << 20));
    assert_eq!(
        import_schema(&unterminated).unwrap_err().to_string(),
        "not valid JSON at line 1 column 1048592: EOF while parsing a string"
    );
}

#[test]
fn a_one_megabyte_sample_imports_and_round_trips() {
    let long = "word ".repeat(200_000);
    let assistant = import(
        json!({"uniqueName": "b", "tasks": [{"uniqueName": "a", "samples": [{"taggedText": long}]}]}),
    );
    assert_eq!(assistant.tasks[0].samples[0].tagged_text.len(), 1_000_000);
    assert_eq!(
        import_schema(&export_schema(&assistant)).unwrap(),
        assistant
    );
}

// ---- export layout ----

fn small_assistant() -> Assistant {
    let mut assistant = Assistant::new("pizza-line");
    assistant.friendly_name = "Pizza Line".into();
    assistant.defaults.fallback = Some(Target::Task("sorry".into()));
    assistant.field_types.push(FieldType {
        unique_name: "Pizza.SIZE".into(),
        friendly_name: None,
        values: vec![
            FieldValue {
                language: "en-US".into(),
                value: "large".into(),
                synonym_of: None,
            },
            FieldValue {
                language: "en-US".into(),
                value: "big".into(),
                synonym_of: Some("large".into()),
            },
        ],
    });
    let mut order = Task::new("order");
    order.fields.push(Field {
        unique_name: "size".into(),
        field_type: "Pizza.SIZE".into(),
    });
    order.samples.push(Sample::new("en-US", "a {size} pizza"));
    order.actions = Some(say("Coming up"));
    assistant.tasks.push(order);
    assistant.tasks.push(Task::new("sorry"));
    assistant
}

#[test]
fn export_writes_the_cli_layout_exactly() {
    let expected = r#"{
    "friendlyName" : "Pizza Line",
    "logQueries" : true,
    "uniqueName" : "pizza-line",
    "defaults" : {
        "defaults" : {
            "fallback" : "task://sorry"
        }
    },
    "styleSheet" : {},
    "fieldTypes" : [
        {
            "uniqueName" : "Pizza.SIZE",
            "values" : [
                {
                    "language" : "en-US",
                    "value" : "large",
                    "synonymOf" : null
                },
                {
                    "language" : "en-US",
                    "value" : "big",
                    "synonymOf" : "large"
                }
            ]
        }
    ],
    "tasks" : [
        {
            "uniqueName" : "order",
            "actions" : {
                "actions" : [{ "say" : "Coming up" }]
            },
            "fields" : [
                {
                    "uniqueName" : "size",
                    "fieldType" : "Pizza.SIZE"
                }
            ],
            "samples" : [
                {
                    "language" : "en-US",
                    "taggedText" : "a {size} pizza"
                }
            ]
        },
        {
            "uniqueName" : "sorry",
            "actions" : {},
            "fields" : [],
            "samples" : []
        }
    ],
    "modelBuild" : {}
}"#;
    let assistant = small_assistant();
    assert_eq!(export_schema(&assistant), expected);
    assert_eq!(import_schema(expected).unwrap(), assistant);
}

#[test]
fn keys_the_cli_format_lacks_are_written_only_when_set() {
    let mut assistant = small_assistant();
    assistant.model_build_name = Some("v1".into());
    assistant.tasks[1].friendly_name = Some("Sorry".into());
    assistant.tasks[1].actions_url = Some("https://x.io/sorry".into());
    assistant.tasks[0].samples[0].source_channel = Some("sms".into());
    assistant.field_types[0].friendly_name = Some("Sizes".into());
    let exported = export_schema(&assistant);
    for expected in [
        "\"friendlyName\" : \"Sorry\"",
        "\"actionsUrl\" : \"https://x.io/sorry\"",
        "\"sourceChannel\" : \"sms\"",
        "\"friendlyName\" : \"Sizes\"",
        "\"modelBuild\" : { \"uniqueName\" : \"v1\" }",
    ] {
        assert!(exported.contains(expected), "missing {expected}");
    }
    assert_eq!(import_schema(&exported).unwrap(), assistant);
}

#[test]
fn assistant_serde_round_trips_in_snake_case() {
    let assistant = small_assistant();
    let value = serde_json::to_value(&assistant).unwrap();
    assert_eq!(value["unique_name"], json!("pizza-line"));
    assert_eq!(
        value["defaults"],
        json!({"defaults": {"fallback": "task://sorry"}})
    );
    assert_eq!(
        value["tasks"][0]["actions"],
        json!({"actions": [{"say": "Coming up"}]})
    );
    assert_eq!(
        serde_json::from_value::<Assistant>(value).unwrap(),
        assistant
    );
}
