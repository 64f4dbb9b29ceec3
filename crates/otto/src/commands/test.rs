//! `otto test`: conversation tests played over the custom channel of a
//! server started in this process (on a free loopback port).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use otto_server::conversations::{self, Report, Runner, Target};
use otto_server::{Otto, ServerConfig};
use otto_store::Clock;
use serde_json::json;

use super::db;

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Conversation test files (see `otto test --help` and examples/).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Test this schema file: imported and trained into a temporary database.
    #[arg(long, conflicts_with = "db")]
    pub schema: Option<PathBuf>,
    /// Test an assistant of this database (default: OTTO_DB, else sqlite://otto.db).
    #[arg(long)]
    pub db: Option<String>,
    /// Which assistant of the database (SID or unique name); needed when it has several.
    #[arg(long, conflicts_with = "schema")]
    pub assistant: Option<String>,
    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub const LONG_ABOUT: &str =
    "Runs conversation tests: plain-text files where each conversation is a \
block of lines (a blank line between conversations, each one a new user). The notes \
on the right explain the lines; they are not part of the file:

  # Booking a table                   the first comment names the conversation
  now: 2026-03-11T10:00:00Z           set the test clock
  > I'd like to book a table          what the user says
  < Happy to book you a table. What's your first name?
                                      the reply, exactly (all replies of the turn, in order)
  < ~ first name                      a reply containing this text
  task: book_table                    the task the input led to (none: no task)
  memory.twilio.collected_data.booking.answers.party_size.answer: 4
  dialogue: new                       new | same | active | ended
  end: completed                      why the dialogue ended
  error: 11200                        the turn had an error containing this (unexpected errors fail)
  wait: 4h1m                          move the clock (idle timeouts without waiting)
  target: goodbye                     send the next message with TargetTask
  context: {\"vip\": true}              send the next message with inbound Memory
  user: +15550100                     the user id (before the first message)

Failures show the expected (-) and received (+) lines; the exit code is 1 when a test fails.";

pub async fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    db::init_logging("error");
    let mut scripts = Vec::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let script =
            conversations::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", file.display()))?;
        scripts.push((file.display().to_string(), script));
    }

    let start = chrono::Utc::now().timestamp();
    let (clock, hand) = Clock::manual(start);
    let temporary = tempfile::tempdir()?;
    let (url, schema) = match (&args.schema, &args.db) {
        (Some(schema), _) => (
            format!(
                "sqlite://{}",
                temporary.path().join("otto-test.db").display()
            ),
            Some(schema),
        ),
        (None, Some(url)) => (url.clone(), None),
        (None, None) => (
            std::env::var("OTTO_DB").unwrap_or_else(|_| db::DEFAULT_DB.to_owned()),
            None,
        ),
    };
    let opened = db::open(&url, clock.clone()).await?;
    let otto = Otto::new(
        opened.store.clone(),
        opened.account.clone(),
        ServerConfig {
            clock,
            ..ServerConfig::default()
        },
    )?;
    let assistant = match schema {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let assistant = otto_model::import_schema(&text)
                .with_context(|| format!("{} is not an Autopilot schema", path.display()))?;
            otto.store
                .import_assistant(&otto.account.sid, &assistant)
                .await
                .with_context(|| format!("cannot import {}", path.display()))?
        }
        None => {
            db::pick_assistant(&otto.store, &otto.account.sid, args.assistant.as_deref()).await?
        }
    };
    let record = otto
        .store
        .fetch_assistant(&otto.account.sid, assistant.as_str())
        .await?;
    if record.latest_model_build_sid.is_none() {
        db::train(&otto.builds, &otto.account.sid, &assistant, None).await?;
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = otto.spawn(listener)?;
    let runner = Runner::new(
        Target {
            base_url: server.url(),
            account: otto.account.clone(),
            assistant: assistant.to_string(),
            channel: "test".to_owned(),
        },
        otto.store.clone(),
        Some(hand),
    );
    let mut reports: Vec<(String, Report)> = Vec::new();
    for (file, script) in &scripts {
        reports.push((file.clone(), runner.run(script).await));
    }
    server.shutdown().await;

    let failed: usize = reports.iter().map(|(_, r)| r.failed()).sum();
    let passed: usize = reports.iter().map(|(_, r)| r.passed()).sum();
    if args.json {
        let files: Vec<_> = reports
            .iter()
            .map(|(file, report)| json!({"file": file, "conversations": report.conversations}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "assistant": assistant,
                "passed": passed,
                "failed": failed,
                "files": files,
            }))?
        );
    } else {
        for (file, report) in &reports {
            print!("{}", conversations::render(file, report));
        }
        if reports.len() > 1 {
            println!("total: {passed} passed, {failed} failed");
        }
    }
    if passed + failed == 0 {
        bail!("no conversation was run");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
