//! Assistant::validate: every reference check and limit, with exact paths and messages.

use otto_model::actions::ActionsDocument;
use otto_model::assistant::{
    FIELD_TYPES_LIMIT, FIELDS_PER_TASK_LIMIT, SAMPLES_LIMIT, Severity, TASKS_LIMIT,
    VALUES_PER_FIELD_TYPE_LIMIT,
};
use otto_model::{Assistant, Field, FieldType, FieldValue, Problem, Sample, Target, Task};
use serde_json::{Value, json};

fn actions(value: Value) -> Option<ActionsDocument> {
    Some(ActionsDocument::from_value(&value).unwrap())
}

fn value(text: &str, synonym_of: Option<&str>) -> FieldValue {
    FieldValue {
        language: "en-US".into(),
        value: text.into(),
        synonym_of: synonym_of.map(str::to_owned),
    }
}

/// A small assistant with no problems: two tasks, a custom type, defaults.
fn valid() -> Assistant {
    let mut assistant = Assistant::new("bookings");
    assistant.defaults.assistant_initiation = Some(Target::Task("greeting".into()));
    assistant.defaults.fallback = Some(Target::Url("https://x.io/fallback".into()));
    assistant.field_types.push(FieldType {
        unique_name: "Room.TYPE".into(),
        friendly_name: None,
        values: vec![value("suite", None), value("deluxe", Some("suite"))],
    });
    let mut greeting = Task::new("greeting");
    greeting.actions =
        actions(json!({"actions": [{"say": "Hi"}, {"listen": {"tasks": ["book"]}}]}));
    greeting.samples.push(Sample::new("en-US", "hello"));
    let mut book = Task::new("book");
    book.fields.push(Field {
        unique_name: "date".into(),
        field_type: "Twilio.DATE".into(),
    });
    book.fields.push(Field {
        unique_name: "room".into(),
        field_type: "Room.TYPE".into(),
    });
    book.samples
        .push(Sample::new("en-US", "book a {room} on {date}"));
    book.actions = actions(json!({"actions": [{"collect": {"name": "booking",
        "questions": [{"question": "Which room?", "name": "room", "type": "Room.TYPE"},
                      {"question": "When?", "name": "date", "type": "Twilio.DATE"}],
        "on_complete": {"redirect": "task://greeting"}}}]}));
    assistant.tasks.push(greeting);
    assistant.tasks.push(book);
    assistant
}

fn problems(assistant: &Assistant) -> Vec<String> {
    assistant
        .validate()
        .iter()
        .map(Problem::to_string)
        .collect()
}

#[test]
fn a_valid_assistant_has_no_problems() {
    assert_eq!(valid().validate(), vec![]);
}

#[test]
fn problem_display_and_severity() {
    let mut assistant = valid();
    assistant.defaults.fallback = Some(Target::Task("gone".into()));
    let found = assistant.validate();
    assert_eq!(
        found,
        vec![Problem {
            severity: Severity::Warning,
            path: "defaults.fallback".into(),
            message: "task://gone names no task of this assistant".into(),
        }]
    );
    assert!(!found[0].is_error());
    assert_eq!(
        found[0].to_string(),
        "warning: defaults.fallback: task://gone names no task of this assistant"
    );
}

#[test]
fn every_default_target_is_checked() {
    let mut assistant = valid();
    assistant.defaults.assistant_initiation = Some(Target::Task("a".into()));
    assistant.defaults.collect_validate_on_failure = Some(Target::Task("b".into()));
    assert_eq!(
        problems(&assistant),
        [
            "warning: defaults.assistant_initiation: task://a names no task of this assistant",
            "warning: defaults.collect.validate_on_failure: task://b names no task of this assistant",
        ]
    );
}

#[test]
fn name_lengths_follow_the_limits() {
    let mut assistant = valid();
    assistant.unique_name = "u".repeat(65);
    assistant.friendly_name = "é".repeat(256);
    assistant.tasks[0].friendly_name = Some("f".repeat(256));
    assistant.tasks[1].fields[0].unique_name = String::new();
    assistant.field_types[0].friendly_name = Some("t".repeat(255));
    assert_eq!(
        problems(&assistant),
        [
            "error: unique_name: is 65 characters; the limit is 64",
            "error: friendly_name: is 256 characters; the limit is 255",
            "error: tasks[0].friendly_name: is 256 characters; the limit is 255",
            "error: tasks[1].fields[0].unique_name: must not be empty",
            "error: tasks[1].samples[0].tagged_text: the tag {date} names no field of task \"book\"",
        ]
    );
    let mut at_the_limit = valid();
    at_the_limit.unique_name = "u".repeat(64);
    at_the_limit.friendly_name = "é".repeat(255);
    assert_eq!(problems(&at_the_limit), Vec::<String>::new());
}

#[test]
fn duplicate_unique_names_are_errors() {
    let mut assistant = valid();
    assistant.tasks.push(Task::new("book"));
    assistant.tasks[1].fields.push(Field {
        unique_name: "date".into(),
        field_type: "Twilio.DATE".into(),
    });
    assistant.field_types.push(FieldType {
        unique_name: "Room.TYPE".into(),
        friendly_name: None,
        values: vec![],
    });
    assert_eq!(
        problems(&assistant),
        [
            "error: field_types[1].unique_name: duplicate field type \"Room.TYPE\" (also field_types[0])",
            "error: tasks[2].unique_name: duplicate task \"book\" (also tasks[1])",
            "error: tasks[1].fields[2].unique_name: duplicate field \"date\" (also tasks[1].fields[0])",
        ]
    );
}

#[test]
fn counts_follow_the_limits() {
    let mut assistant = valid();
    for index in assistant.tasks.len()..=TASKS_LIMIT {
        assistant.tasks.push(Task::new(&format!("t{index}")));
    }
    for index in assistant.field_types.len()..=FIELD_TYPES_LIMIT {
        assistant.field_types.push(FieldType {
            unique_name: format!("T{index}"),
            friendly_name: None,
            values: vec![],
        });
    }
    let values = &mut assistant.field_types[0].values;
    for index in values.len()..=VALUES_PER_FIELD_TYPE_LIMIT {
        values.push(value(&format!("v{index}"), None));
    }
    let fields = &mut assistant.tasks[1].fields;
    for index in fields.len()..=FIELDS_PER_TASK_LIMIT {
        fields.push(Field {
            unique_name: format!("f{index}"),
            field_type: "Twilio.NUMBER".into(),
        });
    }
    assistant.tasks[2].samples = vec![Sample::new("en-US", "x"); SAMPLES_LIMIT - 1];
    assert_eq!(
        problems(&assistant),
        [
            "error: field_types: 51 field types; the limit is 50",
            "error: field_types[0].values: 1001 values; the limit is 1000",
            "error: tasks: 601 tasks; the limit is 600",
            "error: tasks: 50001 samples; the limit is 50000",
            "error: tasks[1].fields: 51 fields; the limit is 50",
        ]
    );
}

#[test]
fn field_types_must_exist() {
    let mut assistant = valid();
    assistant.tasks[1].fields[1].field_type = "Room.KIND".into();
    assistant.tasks[1].fields[0].field_type = "Twilio.date".into();
    assistant.tasks[1].fields.push(Field {
        unique_name: "zip".into(),
        field_type: "Twilio.ZIP_CODE".into(),
    });
    assistant.tasks[1].fields.push(Field {
        unique_name: "room2".into(),
        field_type: "room.type".into(),
    });
    assert_eq!(
        problems(&assistant),
        [
            "warning: tasks[1].fields[0].field_type: \"Twilio.date\" differs in letter case from the built-in type \"Twilio.DATE\" and is treated as it",
            "error: tasks[1].fields[1].field_type: \"Room.KIND\" is neither a built-in Twilio type nor a field type of this assistant",
            "error: tasks[1].fields[2].field_type: \"Twilio.ZIP_CODE\" is neither a built-in Twilio type nor a field type of this assistant",
            "error: tasks[1].fields[3].field_type: \"room.type\" is neither a built-in Twilio type nor a field type of this assistant",
        ]
    );
}

#[test]
fn samples_must_tag_existing_fields_with_well_formed_tags() {
    let mut assistant = valid();
    let samples = &mut assistant.tasks[1].samples;
    samples.push(Sample::new(
        "en-US",
        "for {party_size} people, {party_size}!",
    ));
    samples.push(Sample::new("en-US", "on {date"));
    samples.push(Sample::new("en-US", "on {}"));
    let mut with_channel = Sample::new("en-US", "book it");
    with_channel.source_channel = Some("fax".into());
    samples.push(with_channel);
    let mut sms = Sample::new("en-US", "book");
    sms.source_channel = Some("sms".into());
    samples.push(sms);
    assert_eq!(
        problems(&assistant),
        [
            "error: tasks[1].samples[1].tagged_text: the tag {party_size} names no field of task \"book\"",
            "error: tasks[1].samples[2].tagged_text: the tag opened at character 3 is never closed with \"}\"",
            "error: tasks[1].samples[3].tagged_text: the tag at character 3 is empty: write a field name between the braces",
            "error: tasks[1].samples[4].source_channel: \"fax\" is not a channel: expected one of voice, sms, chat, alexa, google-assistant, slack",
        ]
    );
}

#[test]
fn field_values_are_checked_ignoring_case() {
    let mut assistant = valid();
    let values = &mut assistant.field_types[0].values;
    values.push(value("Suite", None));
    values.push(value("", None));
    values.push(value("penthouse", Some("presidential")));
    values.push(value("big", Some("SUITE")));
    assert_eq!(
        problems(&assistant),
        [
            "error: field_types[0].values[2].value: \"Suite\" repeats values[0] (values are compared ignoring case)",
            "error: field_types[0].values[3].value: must not be empty",
            "error: field_types[0].values[4].synonym_of: \"presidential\" is not a value of field type \"Room.TYPE\"",
        ]
    );
}

#[test]
fn actions_url_must_be_a_url() {
    let mut assistant = valid();
    assistant.tasks[0].actions_url = Some("task://book".into());
    assistant.tasks[1].actions_url = Some("https://x.io/book".into());
    assert_eq!(
        problems(&assistant),
        ["error: tasks[0].actions_url: \"task://book\" is not an http(s) URL"]
    );
}

#[test]
fn every_reference_inside_actions_is_checked() {
    let mut assistant = valid();
    assistant.tasks[0].actions = actions(json!({"actions": [{"listen": {
        "tasks": ["book", "cancel"],
        "voice_digits": {"num_digits": 1, "redirects": {"1": "task://book", "2": "task://agent", "3": "ftp://x"}}}}]}));
    assistant.tasks[1].actions = actions(json!({"actions": [{"collect": {"name": "booking",
        "questions": [
            {"question": "Which room?", "name": "room", "type": "Room.KIND",
             "validate": {"max_attempts": {"redirect": "task://help", "num_attempts": 2}},
             "voice_digits": {"redirects": {"9": {"uri": "task://operator"}}}},
            {"question": "When?", "name": "date", "type": "Twilio.Date",
             "confirm": {"max_attempts": {"redirect": "https://x.io/help", "num_attempts": 1}}},
            {"question": "Code?", "name": "code", "confirm": {"max_attempts": {"redirect": "task://"}}}],
        "on_complete": {"redirect": {"uri": "task://done", "method": "POST"}}}}]}));
    assert_eq!(
        problems(&assistant),
        [
            "warning: tasks[0].actions.actions[0].listen.tasks[1]: \"cancel\" names no task of this assistant",
            "warning: tasks[0].actions.actions[0].listen.voice_digits.redirects[\"2\"]: task://agent names no task of this assistant",
            "warning: tasks[0].actions.actions[0].listen.voice_digits.redirects[\"3\"]: \"ftp://x\" is not a target: expected task://<unique_name> or an http(s) URL",
            "error: tasks[1].actions.actions[0].collect.questions[0].type: \"Room.KIND\" is neither a built-in Twilio type nor a field type of this assistant",
            "warning: tasks[1].actions.actions[0].collect.questions[0].validate.max_attempts.redirect: task://help names no task of this assistant",
            "warning: tasks[1].actions.actions[0].collect.questions[0].voice_digits.redirects[\"9\"]: task://operator names no task of this assistant",
            "warning: tasks[1].actions.actions[0].collect.questions[1].type: \"Twilio.Date\" differs in letter case from the built-in type \"Twilio.DATE\" and is treated as it",
            "warning: tasks[1].actions.actions[0].collect.questions[2].confirm.max_attempts.redirect: \"task://\" names no task: expected task://<unique_name>",
            "warning: tasks[1].actions.actions[0].collect.on_complete.redirect: task://done names no task of this assistant",
        ]
    );
}

#[test]
fn plain_redirects_are_checked() {
    let mut assistant = valid();
    assistant.tasks[0].actions =
        actions(json!({"actions": [{"say": "x"}, {"redirect": "task://nowhere"}]}));
    assert_eq!(
        problems(&assistant),
        [
            "warning: tasks[0].actions.actions[1].redirect: task://nowhere names no task of this assistant"
        ]
    );
}

#[test]
fn a_huge_assistant_validates_quickly() {
    // Duplicate detection uses hash maps: 100,000 values must not take quadratic time.
    let mut assistant = valid();
    assistant.field_types[0].values = (0..100_000)
        .map(|i| value(&format!("v{i}"), None))
        .collect();
    let started = std::time::Instant::now();
    assert_eq!(
        problems(&assistant),
        ["error: field_types[0].values: 100000 values; the limit is 1000"]
    );
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}
