//! Actions JSON: every action form, every rule with its exact message, limits and hostile input.

use otto_model::actions::{
    ACTIONS_SIZE_LIMIT, Action, ActionsDocument, ActionsError, Collect, Handoff, HttpMethod,
    Listen, MEMORY_SIZE_LIMIT, Prompt, Redirect, STUDIO_MEMORY_SIZE_LIMIT, Say, StringOrNumber,
    Validate, check_memory_size,
};
use otto_model::target::Target;
use serde_json::{Value, json};

fn parse_value(value: Value) -> Result<ActionsDocument, ActionsError> {
    ActionsDocument::from_value(&value)
}

fn parse_err(text: &str) -> String {
    let error = ActionsDocument::parse(text).unwrap_err();
    assert_eq!(error.code(), 90100);
    error.to_string()
}

fn value_err(value: Value) -> String {
    let error = parse_value(value).unwrap_err();
    assert_eq!(error.code(), 90100);
    error.to_string()
}

/// Parsing then writing gives back the same JSON value.
fn assert_round_trip(value: Value) -> ActionsDocument {
    let document = parse_value(value.clone()).unwrap();
    assert_eq!(document.to_value(), value);
    document
}

fn only_action(document: &ActionsDocument) -> &Action {
    assert_eq!(document.actions.len(), 1);
    &document.actions[0]
}

// ---- each action form ----

#[test]
fn say_as_a_string() {
    let document = assert_round_trip(json!({"actions": [{"say": "Hello <break/> there"}]}));
    assert_eq!(
        only_action(&document),
        &Action::Say(Say::Text("Hello <break/> there".into()))
    );
}

#[test]
fn say_as_speech_object() {
    let document = assert_round_trip(json!({"actions": [{"say": {"speech": "Hi"}}]}));
    let Action::Say(say) = only_action(&document) else {
        panic!("expected say")
    };
    assert_eq!(say.speech(), "Hi");
    assert!(matches!(say, Say::Speech { .. }));
}

#[test]
fn play_with_url_and_loop() {
    let document =
        assert_round_trip(json!({"actions": [{"play": {"url": "https://x.io/a.mp3", "loop": 2}}]}));
    let Action::Play(play) = only_action(&document) else {
        panic!("expected play")
    };
    assert_eq!(play.url, "https://x.io/a.mp3");
    assert_eq!(play.loop_count, Some(2));
}

#[test]
fn show_with_body_and_images() {
    let document = assert_round_trip(json!({"actions": [{"show": {
        "body": "Twilio Owls",
        "images": [{"url": "https://demo.twilio.com/owl.png", "label": "Original Owl"}, {"url": "https://x.io/b.png"}]
    }}]}));
    let Action::Show(show) = only_action(&document) else {
        panic!("expected show")
    };
    assert_eq!(show.body, "Twilio Owls");
    assert_eq!(show.images.len(), 2);
    assert_eq!(show.images[0].label.as_deref(), Some("Original Owl"));
    assert_eq!(show.images[1].label, None);
}

#[test]
fn remember_keeps_nested_values() {
    let document = assert_round_trip(
        json!({"actions": [{"remember": {"first_name": "Valentina", "cart": {"items": 2}}}]}),
    );
    let Action::Remember(memory) = only_action(&document) else {
        panic!("expected remember")
    };
    assert_eq!(memory["cart"], json!({"items": 2}));
}

#[test]
fn listen_true_keeps_its_form() {
    let document = assert_round_trip(json!({"actions": [{"say": "Hi"}, {"listen": true}]}));
    assert_eq!(document.actions[1], Action::Listen(Listen::AllTasks));
}

#[test]
fn listen_with_tasks_voice_digits_and_barge() {
    let document = assert_round_trip(json!({"actions": [{"listen": {
        "tasks": ["search-for-product", "checkout"],
        "voice_digits": {"num_digits": 1, "finish_on_key": "#",
                         "redirects": {"1": "task://confirm", "2": "task://agent"}},
        "barge": true
    }}]}));
    let Action::Listen(Listen::With(options)) = only_action(&document) else {
        panic!("expected listen with options")
    };
    assert_eq!(
        options.tasks.as_deref(),
        Some(&["search-for-product".to_string(), "checkout".to_string()][..])
    );
    let digits = options.voice_digits.as_ref().unwrap();
    assert_eq!(digits.num_digits, Some(1));
    assert_eq!(digits.finish_on_key.as_deref(), Some("#"));
    assert_eq!(digits.redirects[1].0, "2");
    assert_eq!(
        digits.redirects[1].1.target(),
        Ok(Target::Task("agent".into()))
    );
    assert_eq!(options.barge, Some(true));
}

fn reservation_collect() -> Value {
    json!({"collect": {
        "name": "make_reservation",
        "questions": [
            {"question": "What's your first name?", "name": "first_name", "type": "Twilio.FIRST_NAME"},
            {"question": {"say": "Which city?"}, "name": "city", "type": "Twilio.CITY",
             "validate": {
                 "allowed_values": {"list": ["New York", "NYC", "San Francisco", "SF"]},
                 "webhook": {"url": "https://x.io/check", "method": "POST"},
                 "on_failure": {"messages": [{"say": "I don't know that city."},
                                             {"say": "Please say New York or San Francisco."}],
                                "repeat_question": true},
                 "on_success": {"say": "Got it."},
                 "max_attempts": {"redirect": "task://having-trouble", "num_attempts": 3}}},
            {"question": "Your PIN?", "name": "pin", "type": "Twilio.NUMBER_SEQUENCE",
             "voice_digits": {"num_digits": 4, "finish_on_key": "#"}, "barge": false,
             "prefill": "pin", "validate": false,
             "confirm": {"messages": [{"say": "You said {pin}?"}],
                         "on_confirm": {"say": "Thanks"},
                         "on_reject": {"messages": [{"say": "Again then."}]},
                         "max_attempts": {"redirect": {"uri": "https://x.io/help", "method": "GET"}, "num_attempts": 2}}},
            {"question": "Any comments?", "name": "comments"}
        ],
        "on_complete": {"redirect": "task://confirm_reservation"}
    }})
}

#[test]
fn collect_with_every_question_property() {
    let document = assert_round_trip(json!({"actions": [reservation_collect()]}));
    let Action::Collect(collect) = only_action(&document) else {
        panic!("expected collect")
    };
    assert_eq!(collect.name, "make_reservation");
    assert_eq!(collect.questions.len(), 4);
    assert_eq!(
        collect.on_complete.redirect.target(),
        Ok(Target::Task("confirm_reservation".into()))
    );
    let city = &collect.questions[1];
    assert!(matches!(city.question, Prompt::Message(_)));
    assert_eq!(city.question.speech(), "Which city?");
    let Some(Validate::Rules(rules)) = &city.validate else {
        panic!("expected rules")
    };
    assert_eq!(rules.allowed_values.as_ref().unwrap().list[3], "SF");
    assert_eq!(
        rules.webhook.as_ref().unwrap().method,
        Some(HttpMethod::Post)
    );
    let on_failure = rules.on_failure.as_ref().unwrap();
    assert_eq!(
        on_failure.messages[1].say.speech(),
        "Please say New York or San Francisco."
    );
    assert_eq!(on_failure.repeat_question, Some(true));
    assert_eq!(rules.on_success.as_ref().unwrap().say.speech(), "Got it.");
    let max = rules.max_attempts.as_ref().unwrap();
    assert_eq!(max.num_attempts, Some(3));
    assert_eq!(
        max.redirect.as_ref().unwrap().uri(),
        "task://having-trouble"
    );
    let pin = &collect.questions[2];
    assert_eq!(pin.validate, Some(Validate::Flag(false)));
    assert_eq!(pin.voice_digits.as_ref().unwrap().num_digits, Some(4));
    assert_eq!(pin.barge, Some(false));
    assert_eq!(pin.prefill.as_deref(), Some("pin"));
    let confirm = pin.confirm.as_ref().unwrap();
    assert_eq!(confirm.messages[0].say.speech(), "You said {pin}?");
    assert_eq!(
        confirm
            .max_attempts
            .as_ref()
            .unwrap()
            .redirect
            .as_ref()
            .unwrap()
            .method(),
        Some(HttpMethod::Get)
    );
    assert_eq!(collect.questions[3].field_type, None);
}

#[test]
fn redirect_as_string_and_as_object() {
    let short = assert_round_trip(json!({"actions": [{"redirect": "https://x.io/actions"}]}));
    assert_eq!(
        only_action(&short),
        &Action::Redirect(Redirect::Uri("https://x.io/actions".into()))
    );
    let long = assert_round_trip(
        json!({"actions": [{"redirect": {"uri": "task://survey", "method": "POST"}}]}),
    );
    let Action::Redirect(redirect) = only_action(&long) else {
        panic!("expected redirect")
    };
    assert_eq!(redirect.method(), Some(HttpMethod::Post));
    assert_eq!(redirect.target(), Ok(Target::Task("survey".into())));
}

#[test]
fn redirect_method_is_case_insensitive_and_written_upper_case() {
    let document =
        parse_value(json!({"actions": [{"redirect": {"uri": "https://x.io", "method": "get"}}]}))
            .unwrap();
    assert_eq!(
        document.to_value(),
        json!({"actions": [{"redirect": {"uri": "https://x.io", "method": "GET"}}]})
    );
}

#[test]
fn an_empty_redirect_is_stored_and_its_target_explains_why_it_goes_nowhere() {
    // The public insurance template ships these placeholders.
    let document = assert_round_trip(json!({"actions": [{"redirect": ""}]}));
    let Action::Redirect(redirect) = only_action(&document) else {
        panic!("expected redirect")
    };
    assert_eq!(
        redirect.target().unwrap_err().to_string(),
        "the target is empty: expected task://<unique_name> or an http(s) URL"
    );
}

#[test]
fn legacy_fetch_actions_becomes_a_redirect() {
    let document = parse_value(json!({"actions": [
        {"say": "Today's special is duck"},
        {"fetch_actions": {"uri": "https://inquisitive-stretch-2083.twil.io/assistant-stub"}}
    ]}))
    .unwrap();
    assert_eq!(
        document.actions[1],
        Action::Redirect(Redirect::Uri(
            "https://inquisitive-stretch-2083.twil.io/assistant-stub".into()
        ))
    );
    assert_eq!(
        document.to_value(),
        json!({"actions": [
            {"say": "Today's special is duck"},
            {"redirect": "https://inquisitive-stretch-2083.twil.io/assistant-stub"}
        ]})
    );
}

#[test]
fn legacy_fetch_actions_with_a_method_keeps_the_object_form() {
    let document = parse_value(
        json!({"actions": [{"fetch_actions": {"uri": "https://x.io", "method": "GET"}}]}),
    )
    .unwrap();
    assert_eq!(
        document.to_value(),
        json!({"actions": [{"redirect": {"uri": "https://x.io", "method": "GET"}}]})
    );
}

#[test]
fn handoff_to_twiml_and_to_taskrouter() {
    let twiml = assert_round_trip(json!({"actions": [{"handoff": {
        "channel": "voice", "uri": "https://x.io/agent.xml", "method": "POST",
        "voice_status_callback_url": "https://x.io/status", "voice_status_callback_method": "POST"}}]}));
    let Action::Handoff(handoff) = only_action(&twiml) else {
        panic!("expected handoff")
    };
    assert_eq!(
        handoff.voice_status_callback_url.as_deref(),
        Some("https://x.io/status")
    );

    let flex = assert_round_trip(json!({"actions": [{"handoff": {
        "channel": "voice", "uri": "taskrouter://WW0123456789abcdef0123456789abcdef",
        "wait_url": "https://x.io/hold", "wait_url_method": "GET", "action": "https://x.io/after",
        "priority": "5", "timeout": 200, "attributes": {"skill": "billing"}}}]}));
    let Action::Handoff(Handoff {
        priority,
        timeout,
        attributes,
        wait_url_method,
        ..
    }) = only_action(&flex)
    else {
        panic!("expected handoff")
    };
    assert_eq!(priority, &Some(StringOrNumber::String("5".into())));
    assert_eq!(timeout, &Some(StringOrNumber::Number(200.into())));
    assert_eq!(attributes, &Some(json!({"skill": "billing"})));
    assert_eq!(wait_url_method, &Some(HttpMethod::Get));
}

#[test]
fn unknown_properties_are_kept_for_the_round_trip() {
    assert_round_trip(json!({"actions": [
        {"show": {"body": "b", "subject": "s", "images": [{"url": "u", "alt": "a"}]}}
    ]}));
    let document = assert_round_trip(json!({
        "actions": [
            {"say": {"speech": "Hi", "voice": "Polly.Joanna"}},
            {"collect": {"name": "c", "flavour": 1,
                         "questions": [{"question": "q", "name": "n", "hint": "h",
                                        "validate": {"custom": true, "on_failure": {"messages": [{"say": "again"}], "x": 1}}}],
                         "on_complete": {"redirect": {"uri": "task://t", "note": "n"}, "why": "w"}}}
        ],
        "version": 2
    }));
    assert_eq!(document.extra["version"], json!(2));
}

#[test]
fn empty_action_list_is_allowed() {
    assert_eq!(parse_value(json!({"actions": []})).unwrap().actions, vec![]);
}

#[test]
fn serde_output_is_a_plain_value_with_sorted_keys() {
    let document = parse_value(json!({"actions": [{"collect": {
        "on_complete": {"redirect": "task://x"}, "questions": [{"type": "Twilio.DATE", "name": "d", "question": "When?"}], "name": "c"}}]}))
    .unwrap();
    assert_eq!(
        serde_json::to_string(&document).unwrap(),
        r#"{"actions":[{"collect":{"name":"c","on_complete":{"redirect":"task://x"},"questions":[{"name":"d","question":"When?","type":"Twilio.DATE"}]}}]}"#
    );
}

#[test]
fn serde_deserialize_applies_the_rules() {
    let error = serde_json::from_value::<ActionsDocument>(
        json!({"actions": [{"listen": true}, {"say": "x"}]}),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "actions[0]: \"listen\" ends the turn and must be the last action; actions[1] would never run"
    );
}

// ---- rules and their exact messages ----

#[test]
fn an_action_object_must_have_exactly_one_key_listed_in_document_order() {
    assert_eq!(
        parse_err(r#"{"actions": [{"say": "a"}, {"say": "b"}, {"say": "Hi", "listen": true}]}"#),
        "actions[2]: an action object must have exactly one key, found 2 (\"say\", \"listen\")"
    );
    assert_eq!(
        value_err(json!({"actions": [{}]})),
        "actions[0]: an action object must have exactly one key, found 0"
    );
}

#[test]
fn a_repeated_action_key_is_reported() {
    assert_eq!(
        parse_err(r#"{"actions": [{"say": "a", "say": "b"}]}"#),
        "actions[0]: an action object must have exactly one key, found 2 (\"say\", \"say\")"
    );
}

#[test]
fn a_repeated_actions_key_is_reported() {
    assert_eq!(
        parse_err(r#"{"actions": [], "actions": [{"say": "x"}]}"#),
        "key \"actions\" appears more than once"
    );
}

#[test]
fn an_action_element_must_be_an_object() {
    assert_eq!(
        value_err(json!({"actions": ["say"]})),
        "actions[0]: expected an object with one key naming the action, found a string"
    );
}

#[test]
fn unknown_action_names_are_rejected() {
    assert_eq!(
        value_err(json!({"actions": [{"say": "a"}, {"speak": "b"}]})),
        "actions[1]: unknown action \"speak\"; expected one of say, play, show, remember, listen, collect, redirect, handoff"
    );
}

#[test]
fn the_envelope_must_be_an_object_with_an_actions_array() {
    assert_eq!(
        value_err(json!([{"say": "x"}])),
        "expected an object {\"actions\": [...]}, found an array"
    );
    assert_eq!(value_err(json!({"action": []})), "missing \"actions\"");
    assert_eq!(
        value_err(json!({"actions": {"say": "x"}})),
        "actions: expected an array, found an object"
    );
}

#[test]
fn listen_must_be_last() {
    assert_eq!(
        value_err(
            json!({"actions": [{"say": "a"}, {"say": "b"}, {"say": "c"}, {"listen": true}, {"say": "d"}]})
        ),
        "actions[3]: \"listen\" ends the turn and must be the last action; actions[4] would never run"
    );
}

#[test]
fn redirect_collect_and_handoff_must_be_last() {
    assert_eq!(
        value_err(json!({"actions": [{"redirect": "task://a"}, {"say": "b"}]})),
        "actions[0]: \"redirect\" passes control to another program and must be the last action; actions[1] would never run"
    );
    let mut collect = reservation_collect();
    collect["collect"]["questions"] = json!([{"question": "q", "name": "n"}]);
    assert_eq!(
        value_err(json!({"actions": [collect, {"say": "b"}]})),
        "actions[0]: \"collect\" takes over the conversation and must be the last action; actions[1] would never run"
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"handoff": {"channel": "voice", "uri": "https://x.io"}}, {"listen": true}]})
        ),
        "actions[0]: \"handoff\" hands the call off and must be the last action; actions[1] would never run"
    );
}

#[test]
fn legacy_fetch_actions_must_be_last_and_is_named_as_written() {
    assert_eq!(
        value_err(json!({"actions": [{"fetch_actions": {"uri": "https://x.io"}}, {"say": "b"}]})),
        "actions[0]: \"fetch_actions\" passes control to another program and must be the last action; actions[1] would never run"
    );
}

#[test]
fn show_cannot_share_a_list_with_collect() {
    let mut collect = reservation_collect();
    collect["collect"]["questions"] = json!([{"question": "q", "name": "n"}]);
    assert_eq!(
        value_err(json!({"actions": [{"say": "a"}, {"show": {"body": "b"}}, collect]})),
        "actions[1]: \"show\" cannot be combined with \"collect\" (actions[2]) in one list; put the show in another task and redirect between them"
    );
}

#[test]
fn collect_needs_name_questions_and_on_complete() {
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "c", "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[0].collect: missing \"questions\""
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "c", "questions": [{"question": "q", "name": "n"}]}}]})
        ),
        "actions[0].collect: missing \"on_complete\""
    );
    assert_eq!(
        value_err(json!({"actions": [{"collect": {"questions": [], "on_complete": {}}}]})),
        "actions[0].collect: missing \"name\""
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "c", "questions": [], "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[0].collect.questions: must list at least one question"
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "c", "questions": [{"question": "q", "name": "n"}], "on_complete": {"say": "x"}}}]})
        ),
        "actions[0].collect.on_complete: missing \"redirect\""
    );
}

#[test]
fn the_error_exposes_path_problem_and_twilio_code() {
    let error = parse_value(json!({"actions": [{"say": "x"}, {"collect": {"name": "c",
        "questions": [{"question": "q"}], "on_complete": {"redirect": "task://x"}}}]}))
    .unwrap_err();
    assert_eq!(error.path(), "actions[1].collect.questions[0]");
    assert_eq!(error.problem(), "missing \"name\"");
    assert_eq!(error.code(), 90100);
    assert_eq!(error.title(), "Invalid Autopilot Actions JSON");
    assert_eq!(
        error.into_shape_error().within("tasks[0].actions").path,
        "tasks[0].actions.actions[1].collect.questions[0]"
    );
}

#[test]
fn question_needs_name_and_question() {
    assert_eq!(
        value_err(
            json!({"actions": [{"say": "x"}, {"collect": {"name": "c", "questions": [{"question": "q"}], "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[1].collect.questions[0]: missing \"name\""
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "c", "questions": [{"name": "n"}], "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[0].collect.questions[0]: missing \"question\""
    );
}

#[test]
fn duplicate_question_names_are_rejected() {
    assert_eq!(
        value_err(json!({"actions": [{"collect": {"name": "c", "questions": [
            {"question": "a", "name": "city"}, {"question": "b", "name": "zip"}, {"question": "c", "name": "city"}],
            "on_complete": {"redirect": "task://x"}}}]})),
        "actions[0].collect.questions[2].name: duplicate question name \"city\" (also questions[0])"
    );
}

#[test]
fn names_must_not_contain_spaces_or_be_empty() {
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "make reservation", "questions": [{"question": "q", "name": "n"}], "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[0].collect.name: \"make reservation\" must not contain spaces"
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "c", "questions": [{"question": "q", "name": "first\tname"}], "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[0].collect.questions[0].name: \"first\\tname\" must not contain spaces"
    );
    assert_eq!(
        value_err(
            json!({"actions": [{"collect": {"name": "", "questions": [{"question": "q", "name": "n"}], "on_complete": {"redirect": "task://x"}}}]})
        ),
        "actions[0].collect.name: must not be empty"
    );
}

#[test]
fn wrong_types_name_what_was_expected_and_found() {
    let cases = [
        (
            json!({"say": 5}),
            "actions[0].say: expected a string or an object with \"speech\", found a number",
        ),
        (
            json!({"say": {"text": "x"}}),
            "actions[0].say: missing \"speech\"",
        ),
        (
            json!({"play": "https://x.io/a.mp3"}),
            "actions[0].play: expected an object with \"url\", found a string",
        ),
        (
            json!({"play": {"url": "u", "loop": -1}}),
            "actions[0].play.loop: expected a whole number from 0 to 4294967295, found -1",
        ),
        (
            json!({"show": {"images": []}}),
            "actions[0].show: missing \"body\"",
        ),
        (
            json!({"show": {"body": "b", "images": [{"label": "x"}]}}),
            "actions[0].show.images[0]: missing \"url\"",
        ),
        (
            json!({"remember": ["a"]}),
            "actions[0].remember: expected an object of keys to remember, found an array",
        ),
        (
            json!({"listen": false}),
            "actions[0].listen: expected true or an object, found a boolean",
        ),
        (
            json!({"listen": {"tasks": "a"}}),
            "actions[0].listen.tasks: expected an array, found a string",
        ),
        (
            json!({"listen": {"tasks": ["a", 1]}}),
            "actions[0].listen.tasks[1]: expected a string, found a number",
        ),
        (
            json!({"listen": {"barge": "yes"}}),
            "actions[0].listen.barge: expected true or false, found a string",
        ),
        (
            json!({"listen": {"voice_digits": {"num_digits": 0}}}),
            "actions[0].listen.voice_digits.num_digits: must be at least 1",
        ),
        (
            json!({"listen": {"voice_digits": {"finish_on_key": "##"}}}),
            "actions[0].listen.voice_digits.finish_on_key: \"##\" is not a key: expected one of 0-9, # or *, or \"\" for none",
        ),
        (
            json!({"listen": {"voice_digits": {"redirects": {"x": "task://a"}}}}),
            "actions[0].listen.voice_digits.redirects.x: \"x\" is not a key sequence: use the keys 0-9, # and *",
        ),
        (
            json!({"listen": {"voice_digits": {"redirects": {"1": 5}}}}),
            "actions[0].listen.voice_digits.redirects[\"1\"]: expected a string or an object with \"uri\", found a number",
        ),
        (
            json!({"redirect": 1}),
            "actions[0].redirect: expected a string or an object with \"uri\", found a number",
        ),
        (
            json!({"redirect": {"method": "POST"}}),
            "actions[0].redirect: missing \"uri\"",
        ),
        (
            json!({"redirect": {"uri": "task://a", "method": "PUT"}}),
            "actions[0].redirect.method: expected \"GET\" or \"POST\", found \"PUT\"",
        ),
        (
            json!({"handoff": {"uri": "https://x.io"}}),
            "actions[0].handoff: missing \"channel\"",
        ),
        (
            json!({"handoff": {"channel": "sms", "uri": "https://x.io"}}),
            "actions[0].handoff.channel: must be \"voice\" (hand-off works on voice calls only), found \"sms\"",
        ),
        (
            json!({"handoff": {"channel": "voice"}}),
            "actions[0].handoff: missing \"uri\"",
        ),
        (
            json!({"handoff": {"channel": "voice", "uri": "u", "priority": true}}),
            "actions[0].handoff.priority: expected a string or a number, found a boolean",
        ),
        (
            json!({"handoff": {"channel": "voice", "uri": "u", "attributes": 3}}),
            "actions[0].handoff.attributes: expected an object or a JSON string, found a number",
        ),
        (
            json!({"fetch_actions": "https://x.io"}),
            "actions[0].fetch_actions: expected an object with \"uri\", found a string",
        ),
    ];
    for (action, expected) in cases {
        assert_eq!(value_err(json!({"actions": [action]})), expected);
    }
}

#[test]
fn wrong_types_inside_collect_name_the_path() {
    let collect = |question: Value| json!({"actions": [{"collect": {"name": "c", "questions": [question], "on_complete": {"redirect": "task://x"}}}]});
    let cases = [
        (
            json!({"question": 1, "name": "n"}),
            "actions[0].collect.questions[0].question: expected a string or an object with \"say\", found a number",
        ),
        (
            json!({"question": {"speech": "q"}, "name": "n"}),
            "actions[0].collect.questions[0].question: missing \"say\"",
        ),
        (
            json!({"question": "q", "name": "n", "type": 3}),
            "actions[0].collect.questions[0].type: expected a string, found a number",
        ),
        (
            json!({"question": "q", "name": "n", "validate": "yes"}),
            "actions[0].collect.questions[0].validate: expected an object or a boolean, found a string",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"allowed_values": {"list": [1]}}}),
            "actions[0].collect.questions[0].validate.allowed_values.list[0]: expected a string, found a number",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"allowed_values": ["a"]}}),
            "actions[0].collect.questions[0].validate.allowed_values: expected an object with \"list\", found an array",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"webhook": {"method": "GET"}}}),
            "actions[0].collect.questions[0].validate.webhook: missing \"url\"",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"on_failure": {"messages": ["try again"]}}}),
            "actions[0].collect.questions[0].validate.on_failure.messages[0]: expected an object with \"say\", found a string",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"on_failure": {"repeat_question": "no"}}}),
            "actions[0].collect.questions[0].validate.on_failure.repeat_question: expected true or false, found a string",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"max_attempts": 3}}),
            "actions[0].collect.questions[0].validate.max_attempts: expected an object with \"redirect\" and \"num_attempts\", found a number",
        ),
        (
            json!({"question": "q", "name": "n", "validate": {"max_attempts": {"num_attempts": 0}}}),
            "actions[0].collect.questions[0].validate.max_attempts.num_attempts: must be at least 1",
        ),
        (
            json!({"question": "q", "name": "n", "confirm": {"on_confirm": "ok"}}),
            "actions[0].collect.questions[0].confirm.on_confirm: expected an object with \"say\", found a string",
        ),
        (
            json!("q"),
            "actions[0].collect.questions[0]: expected an object with \"question\" and \"name\", found a string",
        ),
    ];
    for (question, expected) in cases {
        assert_eq!(value_err(collect(question)), expected);
    }
}

#[test]
fn collect_question_types_are_not_checked_here() {
    // Whether a type exists depends on the assistant; Assistant::validate checks it.
    let document = parse_value(json!({"actions": [{"collect": {"name": "c",
        "questions": [{"question": "q", "name": "n", "type": "Custom.NOPE"}],
        "on_complete": {"redirect": "task://x"}}}]}))
    .unwrap();
    let Action::Collect(Collect { questions, .. }) = only_action(&document) else {
        panic!("expected collect")
    };
    assert_eq!(questions[0].field_type.as_deref(), Some("Custom.NOPE"));
}

// ---- size limits ----

/// A document whose compact form is exactly `size` bytes.
fn document_of_size(size: usize) -> Value {
    let overhead = serde_json::to_string(&json!({"actions": [{"say": ""}]}))
        .unwrap()
        .len();
    json!({"actions": [{"say": "x".repeat(size - overhead)}]})
}

#[test]
fn a_document_of_exactly_16_kb_is_accepted() {
    let document = document_of_size(ACTIONS_SIZE_LIMIT);
    assert_eq!(serde_json::to_string(&document).unwrap().len(), 16_384);
    assert!(parse_value(document.clone()).is_ok());
    assert!(ActionsDocument::parse(&serde_json::to_string(&document).unwrap()).is_ok());
}

#[test]
fn a_document_one_byte_over_16_kb_is_rejected() {
    let document = document_of_size(ACTIONS_SIZE_LIMIT + 1);
    assert_eq!(
        value_err(document.clone()),
        "the Actions JSON is 16385 bytes; the limit is 16384 bytes"
    );
    assert_eq!(
        parse_err(&serde_json::to_string(&document).unwrap()),
        "the Actions JSON is 16385 bytes; the limit is 16384 bytes"
    );
}

#[test]
fn parse_measures_the_text_as_received() {
    // Pretty printing can push a document over the limit that compact JSON stays under.
    let compact = document_of_size(ACTIONS_SIZE_LIMIT - 10);
    let padded = format!(
        "{}{}",
        serde_json::to_string(&compact).unwrap(),
        " ".repeat(20)
    );
    assert_eq!(
        parse_err(&padded),
        "the Actions JSON is 16394 bytes; the limit is 16384 bytes"
    );
}

#[test]
fn memory_over_the_limit_is_a_90100_error() {
    let small = json!({"first_name": "Valentina"});
    assert!(check_memory_size(&small, MEMORY_SIZE_LIMIT).is_ok());
    let big = json!({"notes": "x".repeat(16_380)});
    let error = check_memory_size(&big, MEMORY_SIZE_LIMIT).unwrap_err();
    assert_eq!(error.code(), 90100);
    assert_eq!(error.title(), "Invalid Autopilot Actions JSON");
    assert_eq!(
        error.to_string(),
        "the memory is 16392 bytes; the limit is 16384 bytes"
    );
    let studio = json!({"notes": "x".repeat(12_280)});
    assert_eq!(
        check_memory_size(&studio, STUDIO_MEMORY_SIZE_LIMIT)
            .unwrap_err()
            .to_string(),
        "the memory is 12292 bytes; the limit is 12288 bytes"
    );
}

// ---- malformed and hostile input ----

#[test]
fn malformed_json_gives_line_and_column() {
    assert_eq!(
        parse_err("{\"actions\": [\n  {\"say\": \"hi\"},\n  {\"say\" \"oops\"}\n]}"),
        "not valid JSON: expected `:` at line 3 column 10"
    );
    assert_eq!(
        parse_err(""),
        "not valid JSON: EOF while parsing a value at line 1 column 0"
    );
    assert_eq!(
        parse_err("{\"actions\": []} x"),
        "not valid JSON: trailing characters at line 1 column 17"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "{{\"actions\": [{{\"remember\": {}{}}}]}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert_eq!(
        parse_err(&deep),
        "not valid JSON: recursion limit exceeded at line 1 column 151"
    );
    let deep_objects = format!(
        "{{\"actions\": {}1{}}}",
        "{\"a\":".repeat(2000),
        "}".repeat(2000)
    );
    assert_eq!(
        parse_err(&deep_objects),
        "not valid JSON: recursion limit exceeded at line 1 column 643"
    );
}

#[test]
fn a_one_megabyte_string_is_refused_by_size_before_parsing() {
    let huge = format!(
        "{{\"actions\": [{{\"say\": \"{}\"}}]}}",
        "a".repeat(1 << 20)
    );
    assert_eq!(
        parse_err(&huge),
        "the Actions JSON is 1048602 bytes; the limit is 16384 bytes"
    );
    let value = json!({"actions": [{"say": "a".repeat(1 << 20)}]});
    assert_eq!(
        value_err(value),
        "the Actions JSON is 1048600 bytes; the limit is 16384 bytes"
    );
}

#[test]
fn a_one_megabyte_garbage_input_is_an_error() {
    let garbage = "\u{0}".repeat(1 << 20);
    assert_eq!(
        parse_err(&garbage),
        "the Actions JSON is 1048576 bytes; the limit is 16384 bytes"
    );
    assert_eq!(
        parse_err("\u{0}"),
        "not valid JSON: expected value at line 1 column 1"
    );
}

#[test]
fn many_small_actions_within_the_limit_parse() {
    let actions: Vec<Value> = (0..1000).map(|_| json!({"say": "h"})).collect();
    let document = parse_value(json!({"actions": actions})).unwrap();
    assert_eq!(document.actions.len(), 1000);
}

/// A collect's own JSON (what a dialogue waiting on it stores) is the object
/// under `"collect"` of the document's, in Autopilot's key order, compact.
#[test]
fn a_collects_json_is_its_document_entry_in_written_key_order() {
    let written = json!({"actions": [{"collect": {
        "name": "booking",
        "questions": [
            {"question": "Your name?", "name": "name", "type": "Twilio.FIRST_NAME",
             "validate": {"on_failure": {"messages": [{"say": "Again?"}]}, "max_attempts": {"redirect": "task://agent", "num_attempts": 2}}},
            {"question": {"say": "How many?"}, "name": "party", "type": "Twilio.NUMBER"}
        ],
        "on_complete": {"redirect": {"uri": "https://example.com/done", "method": "POST"}},
        "custom": "kept"
    }}]});
    let document = parse_value(written).unwrap();
    let Action::Collect(collect) = only_action(&document) else {
        panic!("a collect");
    };
    let text = collect.to_json();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, document.to_value()["actions"][0]["collect"]);
    assert!(!text.contains('\n') && !text.contains(": "), "{text}");
    let keys: Vec<usize> = ["\"on_complete\"", "\"name\"", "\"questions\"", "\"custom\""]
        .iter()
        .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} in {text}")))
        .collect();
    assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    // And it reads back as the same action.
    let again = parse_value(json!({"actions": [{"collect": back}]})).unwrap();
    assert_eq!(only_action(&again), only_action(&document));
}
