//! `otto chat`: a conversation in the terminal, through the same turn service
//! the server runs (in-process, no HTTP).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;
use clap::Args;
use otto_engine::TurnInput;
use otto_server::http::render::reply_lines;
use otto_server::{Otto, ServerConfig};
use otto_store::Clock;

use super::db::{self, DbArgs};

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The assistant: its SID or unique name.
    pub assistant: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// Also show, after each reply: task, confidence, fields, memory (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = ["task", "confidence", "fields", "memory"])]
    pub show: Vec<String>,
    /// The user you are (`UserIdentifier`); a new one starts a new dialogue.
    #[arg(long, default_value = "chat-user")]
    pub user: String,
    /// The channel name the assistant sees (`Channel`).
    #[arg(long, default_value = "chat")]
    pub channel: String,
}

pub async fn chat(args: ChatArgs) -> anyhow::Result<()> {
    db::init_logging("error");
    let opened = db::open(&args.db.db, Clock::system()).await?;
    let otto = Otto::new(opened.store, opened.account, ServerConfig::default())?;
    let record = otto
        .store
        .fetch_assistant(&otto.account.sid, &args.assistant)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    if record.latest_model_build_sid.is_none() {
        eprintln!("{} has no model yet; training it…", record.unique_name);
        db::train(&otto.builds, &otto.account.sid, &record.sid, None).await?;
    }
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "Talking to {} ({}). Type a message; /quit ends, /new starts over as a new user.",
            record.unique_name, record.sid
        );
    }
    let show = |what: &str| args.show.iter().any(|s| s == what);
    let mut user = args.user.clone();
    let mut restarts = 0;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            eprint!("you> ");
            std::io::stderr().flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        match line.trim() {
            "/quit" | "/exit" => break,
            "/new" => {
                restarts += 1;
                user = format!("{}-{restarts}", args.user);
                println!("(new user {user})");
                continue;
            }
            _ => {}
        }
        let input = TurnInput::message(&user, &args.channel, &line);
        let outcome = match otto.turns.turn(record.sid.as_str(), input).await {
            Ok(outcome) => outcome,
            Err(error) => bail!("{error}"),
        };
        let result = &outcome.result;
        for reply in reply_lines(&result.output) {
            println!("otto> {reply}");
        }
        if show("task") {
            println!("      task: {}", result.task.as_deref().unwrap_or("(none)"));
        }
        if show("confidence") {
            println!(
                "      confidence: {:.3}  next best: {}",
                result.confidence,
                result.next_best_task.as_deref().unwrap_or("-")
            );
        }
        if show("fields") {
            for field in &result.fields {
                println!(
                    "      field: {} ({}) = {}",
                    field.name, field.field_type, field.value
                );
            }
        }
        if show("memory") {
            println!(
                "      memory: {}",
                serde_json::to_string(&result.state.memory)?
            );
        }
        for error in &result.errors {
            println!("      error: {error}");
        }
        if result.state.ended {
            println!(
                "(dialogue {} ended: {}; the next message starts a new one)",
                result.state.sid,
                result.state.end_reason.map_or("", |r| r.as_str())
            );
        }
    }
    Ok(())
}
