//! Conformance with Twilio's description of Autopilot v1: a real server on
//! loopback is walked through every path and method of
//! `../shared/spec/twilio_autopilot_v1.openapi.json`; each answer must have the
//! declared status and a body that fits the declared schema exactly (no
//! missing and no extra property, types, nullability, enums, SID patterns,
//! date and URL formats). Errors must fit Twilio's error body.

mod common;
mod rest_support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use rest_support::{
    ACCOUNT, Rest, assert_error, check, expected_response, operations, twilio_spec,
};
use serde_json::Value;

/// Walks operations and records which were checked.
struct Walker {
    spec: Value,
    rest: Rest,
    visited: BTreeSet<(String, String)>,
    problems: Vec<String>,
}

impl Walker {
    /// Calls `method template` with `args` filling the `{…}` placeholders in
    /// order, checks the answer against the description and returns its body.
    async fn op(
        &mut self,
        method: Method,
        template: &str,
        args: &[&str],
        form: &[(&str, &str)],
        query: &str,
    ) -> Value {
        let mut path = String::new();
        let mut args = args.iter();
        for (index, piece) in template.split('{').enumerate() {
            if index == 0 {
                path.push_str(piece);
                continue;
            }
            let (_, tail) = piece.split_once('}').unwrap();
            path.push_str(args.next().expect("an argument per placeholder"));
            path.push_str(tail);
        }
        assert!(args.next().is_none(), "too many arguments for {template}");
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let reply = self.rest.send(method.clone(), &path, form).await;
        let (status, schema) = expected_response(&self.spec, method.as_str(), template);
        self.visited
            .insert((method.as_str().to_owned(), template.to_owned()));
        let label = format!("{method} {path}");
        if reply.status.as_u16() != status {
            self.problems.push(format!(
                "{label}: status {} instead of {status}: {}",
                reply.status, reply.text
            ));
            return reply.body;
        }
        match schema {
            Some(schema) => {
                if !reply
                    .content_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("application/json"))
                {
                    self.problems
                        .push(format!("{label}: content type {:?}", reply.content_type));
                }
                for problem in check(&self.spec, &schema, &reply.body, "$") {
                    self.problems.push(format!("{label}: {problem}"));
                }
            }
            None => {
                if !reply.text.is_empty() {
                    self.problems
                        .push(format!("{label}: expected no body, got {}", reply.text));
                }
            }
        }
        reply.body
    }

    async fn get(&mut self, template: &str, args: &[&str]) -> Value {
        self.op(Method::GET, template, args, &[], "").await
    }

    async fn list(&mut self, template: &str, args: &[&str], query: &str) -> Value {
        self.op(Method::GET, template, args, &[], query).await
    }

    async fn post(&mut self, template: &str, args: &[&str], form: &[(&str, &str)]) -> Value {
        self.op(Method::POST, template, args, form, "").await
    }

    async fn delete(&mut self, template: &str, args: &[&str]) {
        self.op(Method::DELETE, template, args, &[], "").await;
    }
}

fn sid(body: &Value) -> String {
    body["sid"]
        .as_str()
        .unwrap_or_else(|| panic!("no sid in {body}"))
        .to_owned()
}

const A: &str = "/v1/Assistants";
const A1: &str = "/v1/Assistants/{Sid}";
const DEFAULTS: &str = "/v1/Assistants/{AssistantSid}/Defaults";
const STYLE: &str = "/v1/Assistants/{AssistantSid}/StyleSheet";
const DIALOGUE: &str = "/v1/Assistants/{AssistantSid}/Dialogues/{Sid}";
const TASKS: &str = "/v1/Assistants/{AssistantSid}/Tasks";
const TASK: &str = "/v1/Assistants/{AssistantSid}/Tasks/{Sid}";
const ACTIONS: &str = "/v1/Assistants/{AssistantSid}/Tasks/{TaskSid}/Actions";
const STATS: &str = "/v1/Assistants/{AssistantSid}/Tasks/{TaskSid}/Statistics";
const FIELDS: &str = "/v1/Assistants/{AssistantSid}/Tasks/{TaskSid}/Fields";
const FIELD: &str = "/v1/Assistants/{AssistantSid}/Tasks/{TaskSid}/Fields/{Sid}";
const SAMPLES: &str = "/v1/Assistants/{AssistantSid}/Tasks/{TaskSid}/Samples";
const SAMPLE: &str = "/v1/Assistants/{AssistantSid}/Tasks/{TaskSid}/Samples/{Sid}";
const TYPES: &str = "/v1/Assistants/{AssistantSid}/FieldTypes";
const TYPE: &str = "/v1/Assistants/{AssistantSid}/FieldTypes/{Sid}";
const VALUES: &str = "/v1/Assistants/{AssistantSid}/FieldTypes/{FieldTypeSid}/FieldValues";
const VALUE: &str = "/v1/Assistants/{AssistantSid}/FieldTypes/{FieldTypeSid}/FieldValues/{Sid}";
const BUILDS: &str = "/v1/Assistants/{AssistantSid}/ModelBuilds";
const BUILD: &str = "/v1/Assistants/{AssistantSid}/ModelBuilds/{Sid}";
const QUERIES: &str = "/v1/Assistants/{AssistantSid}/Queries";
const QUERY: &str = "/v1/Assistants/{AssistantSid}/Queries/{Sid}";
const HOOKS: &str = "/v1/Assistants/{AssistantSid}/Webhooks";
const HOOK: &str = "/v1/Assistants/{AssistantSid}/Webhooks/{Sid}";
const RESTORE: &str = "/v1/Assistants/Restore";

const ACTIONS_JSON: &str =
    r#"{"actions": [{"say": "Which colour would you like?"}, {"listen": true}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_described_on_sqlite() {
    let server = common::TestServer::start(|_| {}).await;
    let _workers = server.otto.spawn_workers();
    walk_every_operation(&server.server.url()).await;
}

/// The same walk over PostgreSQL (a fresh schema of the test database, as the
/// store's tests use; fails, never skips, when PostgreSQL is not running).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_described_on_postgres() {
    let (otto, server, schema) = postgres_server().await;
    let _workers = otto.spawn_workers();
    walk_every_operation(&server.url()).await;
    server.shutdown().await;
    otto.store.close().await;
    drop_schema(&schema).await;
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn postgres_url() -> String {
    std::env::var("OTTO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

async fn postgres_admin() -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = postgres_url();
    match tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sqlx::AnyConnection::connect(&url),
    )
    .await
    {
        Ok(Ok(conn)) => conn,
        Ok(Err(error)) => panic!(
            "PostgreSQL is not reachable at {url} ({error}): start it (scripts/test does) \
             or set OTTO_TEST_POSTGRES_URL (trust auth, the database must exist)"
        ),
        Err(_) => panic!("PostgreSQL at {url} did not answer within 10 s"),
    }
}

/// A server on a fresh schema; named like the store tests' schemas
/// (`otto_test_<epoch>_…`) so their clean-up drops it if this test cannot.
async fn postgres_server() -> (otto_server::Otto, otto_server::RunningServer, String) {
    use sqlx::Executor;
    let schema = format!(
        "otto_test_{}_rest_{}",
        otto_store::Clock::system().now(),
        &otto_model::Sid::generate(otto_model::SidPrefix::Account).as_str()[2..12]
    );
    let mut admin = postgres_admin().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create a test schema");
    let base = postgres_url();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let (clock, _hand) = otto_store::Clock::manual(common::START);
    let store = otto_store::Store::connect_with(
        &url,
        otto_store::StoreOptions {
            clock: clock.clone(),
            ..otto_store::StoreOptions::default()
        },
    )
    .await
    .unwrap_or_else(|error| panic!("connect to PostgreSQL schema {schema}: {error}"));
    let account = store
        .ensure_account(Some(common::ACCOUNT), Some(common::TOKEN))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = otto_server::ServerConfig {
        public_url: format!("http://{}", listener.local_addr().unwrap()),
        clock,
        ..otto_server::ServerConfig::default()
    };
    let otto = otto_server::Otto::new(store, account, config).unwrap();
    let server = otto.spawn(listener).unwrap();
    (otto, server, schema)
}

async fn drop_schema(schema: &str) {
    use sqlx::Executor;
    let mut admin = postgres_admin().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await
        .expect("drop the test schema");
}

/// Every operation of the description, in an order that creates what the
/// next one needs, with the answers checked as they come.
async fn walk_every_operation(base: &str) {
    let spec = twilio_spec();
    let mut w = Walker {
        spec: spec.clone(),
        rest: Rest::new(base),
        visited: BTreeSet::new(),
        problems: Vec::new(),
    };

    // Assistants.
    let empty = w.list(A, &[], "").await;
    assert_eq!(empty["assistants"], serde_json::json!([]));
    let created = w
        .post(
            A,
            &[],
            &[
                ("FriendlyName", "Paint shop"),
                ("UniqueName", "paint-shop"),
                ("LogQueries", "true"),
                ("CallbackUrl", "https://example.com/callback"),
                ("CallbackEvents", "model_build_completed model_build_failed"),
                (
                    "StyleSheet",
                    r#"{"style_sheet": {"voice": {"say_voice": "Polly.Joanna"}}}"#,
                ),
                ("Defaults", r#"{"defaults": {"fallback": "task://colour"}}"#),
            ],
        )
        .await;
    let ua = sid(&created);
    assert!(ua.starts_with("UA"));
    assert_eq!(created["unique_name"], "paint-shop");
    assert_eq!(created["log_queries"], true);
    assert_eq!(created["latest_model_build_sid"], Value::Null);
    assert_eq!(created["url"], format!("{base}/v1/Assistants/{ua}"));
    assert_eq!(
        created["links"]["tasks"],
        format!("{base}/v1/Assistants/{ua}/Tasks")
    );
    // By unique name as well as SID.
    let by_name = w.get(A1, &["paint-shop"]).await;
    assert_eq!(by_name["sid"], ua.as_str());
    let updated = w
        .post(
            A1,
            &[&ua],
            &[
                ("FriendlyName", "The paint shop"),
                ("DevelopmentStage", "in-production"),
            ],
        )
        .await;
    assert_eq!(updated["friendly_name"], "The paint shop");
    assert_eq!(updated["development_stage"], "in-production");
    let listed = w.list(A, &[], "PageSize=10").await;
    assert_eq!(listed["assistants"][0]["sid"], ua.as_str());
    assert_eq!(listed["meta"]["key"], "assistants");
    assert_eq!(listed["meta"]["page_size"], 10);

    // Defaults and style sheet.
    let defaults = w.get(DEFAULTS, &["paint-shop"]).await;
    assert_eq!(defaults["data"]["defaults"]["fallback"], "task://colour");
    let defaults = w
        .post(
            DEFAULTS,
            &[&ua],
            &[(
                "Defaults",
                r#"{"defaults": {"assistant_initiation": "task://colour", "fallback": "task://colour"}}"#,
            )],
        )
        .await;
    assert_eq!(
        defaults["data"]["defaults"]["assistant_initiation"],
        "task://colour"
    );
    let style = w.get(STYLE, &[&ua]).await;
    assert_eq!(
        style["data"]["style_sheet"]["voice"]["say_voice"],
        "Polly.Joanna"
    );
    let style = w
        .post(
            STYLE,
            &[&ua],
            &[(
                "StyleSheet",
                r#"{"style_sheet": {"voice": {"say_voice": "Polly.Matthew"}}}"#,
            )],
        )
        .await;
    assert_eq!(
        style["data"]["style_sheet"]["voice"]["say_voice"],
        "Polly.Matthew"
    );

    // Field types and values.
    let field_type = w
        .post(
            TYPES,
            &[&ua],
            &[("UniqueName", "colour"), ("FriendlyName", "Colours")],
        )
        .await;
    let ub = sid(&field_type);
    w.get(TYPE, &[&ua, "colour"]).await;
    w.post(TYPE, &[&ua, &ub], &[("FriendlyName", "Paint colours")])
        .await;
    w.list(TYPES, &[&ua], "").await;
    let red = w
        .post(
            VALUES,
            &[&ua, "colour"],
            &[("Language", "en-US"), ("Value", "red")],
        )
        .await;
    let uc = sid(&red);
    let crimson = w
        .post(
            VALUES,
            &[&ua, &ub],
            &[
                ("Language", "en-US"),
                ("Value", "crimson"),
                ("SynonymOf", "red"),
            ],
        )
        .await;
    assert_eq!(crimson["synonym_of"], uc.as_str());
    for value in ["blue", "green", "yellow"] {
        w.post(
            VALUES,
            &[&ua, &ub],
            &[("Language", "en-US"), ("Value", value)],
        )
        .await;
    }
    w.get(VALUE, &[&ua, &ub, &uc]).await;
    let values = w.list(VALUES, &[&ua, &ub], "Language=en-US").await;
    assert_eq!(values["field_values"].as_array().unwrap().len(), 5);
    assert!(
        values["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("Language=en-US&PageSize=50&Page=0")
    );

    // Tasks, actions, statistics, fields, samples.
    let task = w
        .post(
            TASKS,
            &[&ua],
            &[
                ("UniqueName", "colour"),
                ("FriendlyName", "Pick a colour"),
                ("Actions", ACTIONS_JSON),
            ],
        )
        .await;
    let ud = sid(&task);
    let greet = w
        .post(
            TASKS,
            &[&ua],
            &[
                ("UniqueName", "greeting"),
                ("ActionsUrl", "https://example.com/greeting"),
            ],
        )
        .await;
    let greet_sid = sid(&greet);
    w.get(TASK, &[&ua, "colour"]).await;
    w.post(TASK, &[&ua, &ud], &[("FriendlyName", "Choose a colour")])
        .await;
    w.list(TASKS, &[&ua], "").await;
    let actions = w.get(ACTIONS, &[&ua, "colour"]).await;
    assert_eq!(
        actions["data"]["actions"][0]["say"],
        "Which colour would you like?"
    );
    w.post(ACTIONS, &[&ua, &ud], &[("Actions", ACTIONS_JSON)])
        .await;
    let field = w
        .post(
            FIELDS,
            &[&ua, &ud],
            &[("FieldType", "colour"), ("UniqueName", "shade")],
        )
        .await;
    let ue = sid(&field);
    w.get(FIELD, &[&ua, &ud, "shade"]).await;
    w.list(FIELDS, &[&ua, &ud], "").await;
    let mut first_sample = String::new();
    for text in [
        "I would like {shade}",
        "paint it {shade}",
        "{shade} please",
        "can I get {shade} paint",
        "I want the colour {shade}",
        "my favourite colour is {shade}",
    ] {
        let sample = w
            .post(
                SAMPLES,
                &[&ua, &ud],
                &[("Language", "en-US"), ("TaggedText", text)],
            )
            .await;
        if first_sample.is_empty() {
            first_sample = sid(&sample);
        }
    }
    for text in [
        "hello",
        "hi there",
        "good morning",
        "hey",
        "hello there friend",
    ] {
        w.post(
            SAMPLES,
            &[&ua, &greet_sid],
            &[
                ("Language", "en-US"),
                ("TaggedText", text),
                ("SourceChannel", "sms"),
            ],
        )
        .await;
    }
    w.get(SAMPLE, &[&ua, &ud, &first_sample]).await;
    let sample = w
        .post(
            SAMPLE,
            &[&ua, &ud, &first_sample],
            &[("SourceChannel", "voice")],
        )
        .await;
    assert_eq!(sample["source_channel"], "voice");
    w.list(SAMPLES, &[&ua, &ud], "Language=en-US").await;
    let stats = w.get(STATS, &[&ua, &ud]).await;
    assert_eq!(stats["samples_count"], 6);
    assert_eq!(stats["fields_count"], 1);

    // Webhooks.
    let hook = w
        .post(
            HOOKS,
            &[&ua],
            &[
                ("UniqueName", "events"),
                ("Events", "onDialogueStart onDialogueEnd"),
                ("WebhookUrl", "https://example.com/events"),
            ],
        )
        .await;
    let um = sid(&hook);
    assert_eq!(hook["webhook_method"], "POST");
    w.get(HOOK, &[&ua, "events"]).await;
    w.post(HOOK, &[&ua, &um], &[("WebhookMethod", "GET")]).await;
    w.list(HOOKS, &[&ua], "").await;

    // Model builds: trained in the background by the worker.
    let build = w.post(BUILDS, &[&ua], &[("UniqueName", "v0.1")]).await;
    let ug = sid(&build);
    assert_eq!(build["status"], "enqueued");
    let finished = w.rest.wait_for_build(&ua, &ug).await;
    assert_eq!(finished["status"], "completed", "{finished}");
    let fetched = w.get(BUILD, &[&ua, "v0.1"]).await;
    assert_eq!(fetched["status"], "completed");
    assert!(fetched["build_duration"].is_i64());
    w.post(BUILD, &[&ua, &ug], &[("UniqueName", "v1.0")]).await;
    w.list(BUILDS, &[&ua], "").await;
    let assistant = w.get(A1, &[&ua]).await;
    assert_eq!(assistant["latest_model_build_sid"], ug.as_str());
    assert_eq!(assistant["needs_model_build"], false);

    // Queries.
    let query = w
        .post(
            QUERIES,
            &[&ua],
            &[("Language", "en-US"), ("Query", "I would like crimson")],
        )
        .await;
    let uh = sid(&query);
    assert_eq!(query["results"]["task"]["name"], "colour", "{query}");
    assert_eq!(query["results"]["task"]["task_sid"], ud.as_str());
    assert!(query["results"]["task"]["confidence"].as_f64().unwrap() > 0.0);
    assert_eq!(query["results"]["fields"][0]["name"], "shade", "{query}");
    assert_eq!(query["results"]["fields"][0]["value"], "red", "{query}");
    assert_eq!(query["results"]["fields"][0]["type"], "colour", "{query}");
    assert_eq!(query["model_build_sid"], ug.as_str());
    assert_eq!(query["status"], "pending-review");
    w.get(QUERY, &[&ua, &uh]).await;
    let reviewed = w
        .post(
            QUERY,
            &[&ua, &uh],
            &[("Status", "reviewed"), ("SampleSid", &first_sample)],
        )
        .await;
    assert_eq!(reviewed["status"], "reviewed");
    assert_eq!(reviewed["sample_sid"], first_sample.as_str());
    let queries = w
        .list(QUERIES, &[&ua], "Status=reviewed&Language=en-US")
        .await;
    assert_eq!(queries["queries"].as_array().unwrap().len(), 1);

    // A live dialogue through the custom channel, then its resource.
    let turn = w
        .rest
        .post(
            &format!("/v2/{ACCOUNT}/{ua}/custom/web"),
            &[
                ("UserId", "u1"),
                ("Text", "paint it blue"),
                ("Language", "en-US"),
            ],
        )
        .await;
    assert_eq!(turn.status, StatusCode::OK, "{}", turn.text);
    let uk = turn.body["dialogue"]["sid"].as_str().unwrap().to_owned();
    let dialogue = w.get(DIALOGUE, &[&ua, &uk]).await;
    assert_eq!(dialogue["sid"], uk.as_str());
    // otto's own routes answer as otto's served description says.
    let served = w.rest.get("/v1/openapi.json").await.body;
    let schema_of = |path: &str, method: &str| {
        served["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone()
    };
    let v1 = w
        .rest
        .post(
            &format!("/v1/{ACCOUNT}/{ua}/custom/web"),
            &[("user_id", "u2"), ("text", "hello there")],
        )
        .await;
    assert_eq!(v1.status, StatusCode::OK, "{}", v1.text);
    let health = w.rest.get("/health").await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    for (label, schema, body) in [
        (
            "v2 custom channel",
            schema_of(
                "/v2/{AccountSid}/{AssistantSid}/custom/{ChannelName}",
                "post",
            ),
            &turn.body,
        ),
        (
            "v1 custom channel",
            schema_of(
                "/v1/{AccountSid}/{AssistantSid}/custom/{ChannelName}",
                "post",
            ),
            &v1.body,
        ),
        ("health", schema_of("/health", "get"), &health.body),
    ] {
        assert!(schema.is_object(), "{label}: no schema served");
        for problem in check(&served, &schema, body, "$") {
            w.problems.push(format!("{label}: {problem}"));
        }
    }

    // Deletes, children first, then the assistant and its restore.
    w.delete(QUERY, &[&ua, &uh]).await;
    w.delete(HOOK, &[&ua, &um]).await;
    w.delete(SAMPLE, &[&ua, &ud, &first_sample]).await;
    w.delete(FIELD, &[&ua, &ud, &ue]).await;
    w.delete(VALUE, &[&ua, &ub, &uc]).await;
    w.delete(TYPE, &[&ua, &ub]).await;
    w.delete(BUILD, &[&ua, &ug]).await;
    w.delete(TASK, &[&ua, &ud]).await;
    w.delete(A1, &[&ua]).await;
    let restored = w.post(RESTORE, &[], &[("Assistant", &ua)]).await;
    assert_eq!(restored["sid"], ua.as_str());
    assert_eq!(restored["unique_name"], "paint-shop");

    assert!(
        w.problems.is_empty(),
        "differences from the description:\n{}",
        w.problems.join("\n")
    );
    let all: BTreeSet<(String, String)> = operations(&spec).into_iter().collect();
    let missed: Vec<_> = all.difference(&w.visited).collect();
    assert!(missed.is_empty(), "operations never walked: {missed:?}");
    assert_eq!(all.len(), 52, "the description's operation count changed");

    // Deleted resources are gone, with Twilio's error body.
    for path in [
        format!("/v1/Assistants/{ua}/Queries/{uh}"),
        format!("/v1/Assistants/{ua}/Webhooks/{um}"),
        format!("/v1/Assistants/{ua}/Tasks/{ud}"),
        format!("/v1/Assistants/{ua}/FieldTypes/{ub}"),
        format!("/v1/Assistants/{ua}/ModelBuilds/{ug}"),
    ] {
        assert_error(&w.rest.get(&path).await, 404, 20404, "was not found");
    }
}

/// The description otto serves covers the same operations with the same
/// resource schemas as Twilio's, and points at this server.
#[tokio::test]
async fn the_served_description_matches_twilio() {
    let server = common::TestServer::start(|_| {}).await;
    let mut rest = Rest::new(&server.server.url());
    rest.auth = None;
    let reply = rest.get("/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let served = reply.body;
    assert_eq!(served["servers"][0]["url"], server.server.url());
    let twilio = twilio_spec();
    let mut expected = operations(&twilio);
    for (method, path) in [
        ("GET", "/v1/openapi.json"),
        ("GET", "/health"),
        (
            "POST",
            "/v2/{AccountSid}/{AssistantSid}/custom/{ChannelName}",
        ),
        (
            "POST",
            "/v1/{AccountSid}/{AssistantSid}/custom/{ChannelName}",
        ),
        ("GET", "/2010-04-01/Accounts/{AccountSid}/Keys.json"),
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Keys.json"),
        ("GET", "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}"),
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}"),
        ("DELETE", "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}"),
    ] {
        expected.push((method.into(), path.into()));
    }
    expected.sort();
    assert_eq!(operations(&served), expected);
    for (name, schema) in twilio["components"]["schemas"].as_object().unwrap() {
        assert_eq!(
            &served["components"]["schemas"][name], schema,
            "schema {name}"
        );
    }
    for (method, path) in operations(&twilio) {
        let operation = &served["paths"][&path][method.to_lowercase()];
        assert_eq!(
            operation["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/otto.error",
            "{method} {path}"
        );
    }
}

/// The checker itself finds each kind of difference (so a passing walk means
/// something).
#[test]
fn the_checker_finds_differences() {
    let spec = twilio_spec();
    let schema =
        serde_json::json!({"$ref": "#/components/schemas/autopilot.v1.assistant.model_build"});
    let good = serde_json::json!({
        "account_sid": ACCOUNT,
        "date_created": "2026-03-11T10:00:00Z",
        "date_updated": "2026-03-11T10:00:00Z",
        "assistant_sid": "UA0123456789abcdef0123456789abcdef",
        "sid": "UG0123456789abcdef0123456789abcdef",
        "status": "completed",
        "unique_name": "v1",
        "url": "http://127.0.0.1/v1/Assistants/UA0123456789abcdef0123456789abcdef/ModelBuilds/UG0123456789abcdef0123456789abcdef",
        "build_duration": 3,
        "error_code": null,
    });
    assert_eq!(check(&spec, &schema, &good, "$"), Vec::<String>::new());
    let cases: [(&str, Value, &str); 7] = [
        (
            "sid",
            Value::from("UA0123456789abcdef0123456789abcdef"),
            "does not match",
        ),
        ("status", Value::from("done"), "is not one of"),
        ("build_duration", Value::from("3"), "expected integer"),
        (
            "date_created",
            Value::from("2026-03-11 10:00:00"),
            "YYYY-MM-DD",
        ),
        ("url", Value::from("/v1/Assistants"), "URL"),
        ("extra", Value::from(1), "extra property"),
        ("sid", Value::from("UG0123"), "shorter than 34"),
    ];
    for (name, value, expected) in cases {
        let mut bad = good.clone();
        bad[name] = value;
        let problems = check(&spec, &schema, &bad, "$");
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{name}: {problems:?}"
        );
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("error_code");
    assert_eq!(
        check(&spec, &schema, &missing, "$"),
        vec!["$: missing property \"error_code\"".to_owned()]
    );
    let list = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    assert_eq!(
        check(&spec, &list, &serde_json::json!({"n": null}), "$"),
        vec!["$.n: null, but the schema is not nullable".to_owned()]
    );
}
