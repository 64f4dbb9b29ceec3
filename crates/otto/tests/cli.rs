//! The `otto` command as a process: serve, import, export, chat, test and keys.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

use common::Served;

const OTTO: &str = env!("CARGO_BIN_EXE_otto");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("../shared/data/autopilot-schemas").join(name)
}

fn demo_schema() -> PathBuf {
    repo().join("crates/server/src/demo/otto-demo.json")
}

/// `otto` with a clean environment (no account or database from outside).
fn otto(args: &[&str]) -> Command {
    let mut command = Command::new(OTTO);
    command
        .args(args)
        .env_remove("OTTO_ACCOUNT_SID")
        .env_remove("OTTO_AUTH_TOKEN")
        .env_remove("OTTO_DB")
        .env_remove("RUST_LOG");
    command
}

fn run(args: &[&str]) -> Output {
    otto(args).output().expect("otto runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("otto.db").display())
}

/// (fixture file, conversation file, conversations in it)
const FIXTURE_CONVERSATIONS: [(&str, &str, usize); 8] = [
    (
        "twilio__autopilot-templates__Assistants-HelloWorld-schema.json",
        "HelloWorld.txt",
        2,
    ),
    (
        "twilio__autopilot-templates__Assistants-FAQsInternetPlan-schema.json",
        "FAQsInternetPlan.txt",
        2,
    ),
    (
        "twilio__autopilot-templates__Assistants-ApptScheduling-schema.json",
        "ApptScheduling.txt",
        4,
    ),
    (
        "twilio__autopilot-templates__Assistants-CustomerSatisfactionSurvey-schema.json",
        "CustomerSatisfactionSurvey.txt",
        3,
    ),
    (
        "twilio__autopilot-templates__Assistants-RestaurantReservations-schema.json",
        "RestaurantReservations.txt",
        3,
    ),
    (
        "twilio__autopilot-templates__Assistants-insurance-schema.json",
        "insurance.txt",
        1,
    ),
    (
        "twilio__autopilot-cli__test-test_assistant.json",
        "test_assistant.txt",
        2,
    ),
    (
        "twilio__autopilot-cli__sandbox-deep-table-assistant.json",
        "deep-table-assistant.txt",
        2,
    ),
];

#[test]
fn every_fixture_holds_its_conversations_over_the_custom_channel() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conversations");
    for (schema, file, count) in FIXTURE_CONVERSATIONS {
        let path = dir.join(file);
        let output = run(&[
            "test",
            path.to_str().unwrap(),
            "--schema",
            fixture(schema).to_str().unwrap(),
        ]);
        let out = stdout(&output);
        assert!(output.status.success(), "{file}:\n{out}{}", stderr(&output));
        assert_eq!(
            out.lines().last().unwrap(),
            format!("{}: {count} passed, 0 failed", path.display()),
            "{out}"
        );
        assert_eq!(out.lines().filter(|l| l.starts_with("ok ")).count(), count);
    }
}

#[test]
fn the_demo_example_passes_and_reports_json() {
    let example = repo().join("examples/otto-demo.txt");
    let output = run(&[
        "test",
        example.to_str().unwrap(),
        "--schema",
        demo_schema().to_str().unwrap(),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["passed"], 5);
    assert_eq!(report["failed"], 0);
    let titles: Vec<&str> = report["files"][0]["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Greeting",
            "Booking a table, with a wrong party size and seating on the way",
            "A party size said with the request is not asked again (prefill)",
            "Opening hours, something it does not know, and an idle timeout",
            "TargetTask and inbound context (Memory) from the channel",
        ]
    );
}

#[test]
fn a_failing_test_shows_the_difference_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.txt");
    std::fs::write(
        &file,
        "# wrong greeting\n> hello\n< Hello there!\ntask: greeting\n\n# wrong task\n> when are you open\ntask: goodbye\n\n# right\n> bye\ndialogue: ended\n",
    )
    .unwrap();
    let name = file.display().to_string();
    let output = run(&["test", &name, "--schema", demo_schema().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!(
            "FAILED  wrong greeting ({name}:1)\n\
             \x20       after > hello\n\
             \x20       {name}:3: the replies differ (1 expected, 1 received)\n\
             \x20       - Hello there!\n\
             \x20       + Hi! I'm Otto, the booking assistant of the Blue Door bistro. I can book you a table or tell you our opening hours.\n\
             FAILED  wrong task ({name}:6)\n\
             \x20       after > when are you open\n\
             \x20       {name}:8: the input led to another task\n\
             \x20       - task: goodbye\n\
             \x20       + task: opening_hours\n\
             ok      right ({name}:10)\n\
             {name}: 1 passed, 2 failed\n"
        )
    );
}

#[test]
fn a_test_file_that_does_not_read_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.txt");
    std::fs::write(&file, "> hello\ndialog: ended\n").unwrap();
    let name = file.display().to_string();
    let output = run(&["test", &name, "--schema", demo_schema().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {name}:line 2: unknown check \"dialog\": use task, memory.<path>, dialogue, end, error, now, wait, target, context or user\n"
        )
    );
}

#[test]
fn import_export_and_reimport_every_fixture_as_processes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    for (schema, _, _) in FIXTURE_CONVERSATIONS {
        let path = fixture(schema);
        // Training is tested once below; an export needs no model.
        let output = run(&[
            "import",
            path.to_str().unwrap(),
            "--db",
            &db,
            "--json",
            "--no-train",
        ]);
        assert!(output.status.success(), "{schema}: {}", stderr(&output));
        let imported: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let sid = imported["sid"].as_str().unwrap().to_owned();
        assert!(sid.starts_with("UA") && sid.len() == 34, "{sid}");
        assert_eq!(imported["model_build_status"], Value::Null);

        let exported_path = dir.path().join("exported.json");
        let output = run(&[
            "export",
            &sid,
            "--db",
            &db,
            "-o",
            exported_path.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let original = otto_model::import_schema(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let exported = std::fs::read_to_string(&exported_path).unwrap();
        assert_eq!(
            otto_model::import_schema(&exported).unwrap(),
            original,
            "{schema}"
        );
        // To standard output: the same file and a newline.
        let output = run(&["export", &sid, "--db", &db]);
        assert_eq!(stdout(&output), format!("{exported}\n"));

        // Importing the export again under another name gives the same assistant.
        let output = run(&[
            "import",
            exported_path.to_str().unwrap(),
            "--db",
            &db,
            "--unique-name",
            &format!("{}-again", original.unique_name),
            "--no-train",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let again_sid = stdout(&output).trim().to_owned();
        assert_ne!(again_sid, sid);
        let output = run(&["export", &again_sid, "--db", &db]);
        let mut again = otto_model::import_schema(&stdout(&output)).unwrap();
        again.unique_name = original.unique_name.clone();
        assert_eq!(again, original, "{schema}");
        // Free the name for the fixture that shares it.
        delete(&db, &sid);
        delete(&db, &again_sid);
    }
}

/// Deletes an assistant through the store (the CLI has no delete command).
fn delete(db: &str, sid: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = otto_store::Store::connect(db).await.unwrap();
        let account = store.ensure_account(None, None).await.unwrap();
        store.delete_assistant(&account.sid, sid).await.unwrap();
        store.close().await;
    });
}

#[test]
fn import_refuses_a_taken_name_unless_told_to_replace() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let schema = demo_schema();
    let first = run(&["import", schema.to_str().unwrap(), "--db", &db]);
    assert!(first.status.success(), "{}", stderr(&first));
    let sid = stdout(&first).trim().to_owned();
    let said = stderr(&first);
    assert!(
        said.starts_with(&format!("imported otto-demo as {sid}; model build UG"))
            && said.ends_with(" completed\n"),
        "{said}"
    );

    let again = run(&["import", schema.to_str().unwrap(), "--db", &db]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        format!(
            "error: an assistant named \"otto-demo\" already exists ({sid}): use --replace to replace it or --unique-name NAME to import a copy\n"
        )
    );
    let replaced = run(&[
        "import",
        schema.to_str().unwrap(),
        "--db",
        &db,
        "--replace",
        "--json",
    ]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    let replaced: Value = serde_json::from_str(&stdout(&replaced)).unwrap();
    assert_eq!(replaced["sid"], sid.as_str());
    assert_eq!(replaced["unique_name"], "otto-demo");
    assert_eq!(replaced["model_build_status"], "completed");
    // The schema's build name was taken by the first import: the SID names the new one.
    let build = replaced["model_build_sid"].as_str().unwrap();
    assert!(build.starts_with("UG") && build.len() == 34, "{build}");

    // The database now holds one assistant: `otto test` finds it alone.
    let example = repo().join("examples/otto-demo.txt");
    let output = run(&["test", example.to_str().unwrap(), "--db", &db]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).ends_with("otto-demo.txt: 5 passed, 0 failed\n"));
}

#[test]
fn import_refuses_an_invalid_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"{"uniqueName": "bad", "tasks": [{"uniqueName": "t", "fields": [{"uniqueName": "f", "fieldType": "Nope"}]}]}"#,
    )
    .unwrap();
    let output = run(&[
        "import",
        file.to_str().unwrap(),
        "--db",
        &db_url(dir.path()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let name = file.display();
    assert_eq!(
        stderr(&output),
        format!(
            "{name}: error: tasks[0].fields[0].field_type: \"Nope\" is neither a built-in Twilio type nor a field type of this assistant\nerror: {name} has 1 error(s); nothing was imported\n"
        )
    );
}

#[test]
fn chat_runs_the_turn_service_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let import = run(&["import", demo_schema().to_str().unwrap(), "--db", &db]);
    assert!(import.status.success(), "{}", stderr(&import));
    let mut child = otto(&["chat", "otto-demo", "--db", &db, "--show", "task,memory"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello\nwhen are you open\n/new\nbye\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "otto> Hi! I'm Otto, the booking assistant of the Blue Door bistro. I can book you a table or tell you our opening hours.",
            "      task: greeting",
            "      memory: {}",
            "otto> We are open Tuesday to Sunday, from noon to 11 pm.",
            "      task: opening_hours",
        ]
    );
    assert_eq!(lines[6], "(new user chat-user-1)");
    assert_eq!(lines[7], "otto> Thanks for stopping by. Goodbye!");
    assert!(
        lines[10].starts_with("(dialogue UK")
            && lines[10].ends_with("ended: completed; the next message starts a new one)"),
        "{out}"
    );
}

fn word_after(line: &str, prefix: &str) -> String {
    line[prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn serve_starts_with_the_demo_on_an_empty_database_and_answers_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let mut served = Served::spawn(otto(&["serve", "--listen", "127.0.0.1:0", "--db", &db]));
    let listening = served.line("otto ");
    let base = served.base();
    assert!(base.starts_with("http://127.0.0.1:"), "{listening}");
    let account = word_after(&served.line("account    "), "account    ");
    let token_line = served.line("auth token ");
    assert!(token_line.ends_with("(generated now and stored; shown only this once)"));
    let token = word_after(&token_line, "auth token ");
    assert_eq!(served.line("assistants "), "assistants otto-demo");
    let curl = served.line("  curl ");
    assert_eq!(
        curl,
        format!(
            "  curl -u '{account}:{token}' {base}/v2/{account}/otto-demo/custom/web -d UserId=me -d Language=en-US --data-urlencode 'Text=I would like to book a table'"
        )
    );
    let trained = served.line("demo assistant otto-demo (UA");
    assert!(trained.contains(" completed in "), "{trained}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    otto_server::fetch::install_crypto_provider();
    let client = reqwest::Client::new();
    let post = |text: &str| {
        let request = client
            .post(format!("{base}/v2/{account}/otto-demo/custom/web"))
            .basic_auth(&account, Some(&token))
            .form(&[("UserId", "me"), ("Language", "en-US"), ("Text", text)]);
        runtime.block_on(async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        })
    };
    let (status, json) = post("I would like to book a table");
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["response"]["says"][0]["text"],
        "Happy to book you a table. What's your first name?"
    );
    let (status, json) = post("Grace");
    assert_eq!(status, 200);
    assert_eq!(
        json["response"]["says"][0]["text"],
        "Thanks Grace! For how many people?"
    );
    drop(served);

    // Started again: the same account, its token not shown, no second demo.
    let mut served = Served::spawn(otto(&["serve", "--listen", "127.0.0.1:0", "--db", &db]));
    assert_eq!(
        word_after(&served.line("account    "), "account    "),
        account
    );
    assert_eq!(
        served.line("auth token "),
        "auth token stored in the database (printed on its first start; set OTTO_AUTH_TOKEN to choose one)"
    );
    assert_eq!(served.line("assistants "), "assistants otto-demo");
    let base = served.base();
    let request = client
        .post(format!("{base}/v2/{account}/otto-demo/custom/web"))
        .basic_auth(&account, Some(&token))
        .form(&[("UserId", "me"), ("Language", "en-US"), ("Text", "4")]);
    let (status, json) = runtime.block_on(async move {
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    });
    assert_eq!(status, 200, "{json}");
    // The dialogue survived the restart.
    assert_eq!(
        json["response"]["says"][0]["text"],
        "On which day? You can say a date or, for example, next Friday."
    );
}

#[test]
fn help_explains_the_commands() {
    let output = run(&["--help"]);
    let out = stdout(&output);
    for command in [
        "serve", "import", "export", "chat", "test", "train", "query", "keys", "nlu",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{out}"
        );
    }
    let output = run(&["test", "--help"]);
    assert!(
        stdout(&output).contains("< ~ first name"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn keys_are_created_listed_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let output = run(&["keys", "create", "--name", "deploy", "--json", "--db", &db]);
    assert!(output.status.success(), "{}", stderr(&output));
    let created: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let sid = created["sid"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("SK") && sid.len() == 34, "{created}");
    assert_eq!(secret.len(), 32);
    assert_eq!(created["friendly_name"], "deploy");
    let account = created["account_sid"].as_str().unwrap().to_owned();
    assert!(account.starts_with("AC"), "{created}");

    // Without --json: the SID, the secret and the account on standard output.
    let output = run(&["keys", "create", "--db", &db]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let second = word_after(lines[0], "key     ");
    assert!(second.starts_with("SK"), "{out}");
    assert_eq!(word_after(lines[1], "secret  ").len(), 32, "{out}");
    assert_eq!(lines[2], format!("account {account}"));
    assert!(stderr(&output).contains("shown only this once"));

    let output = run(&["keys", "list", "--json", "--db", &db]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["sid"], sid.as_str());
    assert_eq!(listed[0]["friendly_name"], "deploy");
    assert_eq!(listed[1]["sid"], second.as_str());
    assert_eq!(listed[1]["friendly_name"], Value::Null);
    assert!(
        listed.iter().all(|key| key.get("secret").is_none()),
        "{listed:?}"
    );
    let output = run(&["keys", "list", "--db", &db]);
    let out = stdout(&output);
    assert!(out.lines().next().unwrap().starts_with(&sid), "{out}");
    assert!(out.lines().next().unwrap().ends_with("  deploy"), "{out}");

    // The printed secret is the one the store accepts, until the delete.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let verify = |secret: &str| {
        runtime.block_on(async {
            let store = otto_store::Store::connect(&db).await.unwrap();
            let account = otto_model::Sid::parse(&account).unwrap();
            let valid = store.verify_api_key(&account, &sid, secret).await.unwrap();
            store.close().await;
            valid
        })
    };
    assert!(verify(&secret));
    assert!(!verify("not-the-secret"));
    let output = run(&["keys", "delete", &sid, "--db", &db]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), format!("deleted API key {sid}\n"));
    assert!(!verify(&secret));
    let output = run(&["keys", "delete", &sid, "--db", &db]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        format!(
            "error: cannot delete API key \"{sid}\": API key \"{sid}\" was not found in account {account}\n"
        )
    );
    let output = run(&["keys", "list", "--json", "--db", &db]);
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let output = run(&["keys", "create", "--name", &"x".repeat(65), "--db", &db]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("at most 64 are allowed"),
        "{}",
        stderr(&output)
    );
}
