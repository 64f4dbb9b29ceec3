//! `otto import` and `otto export`: assistants as Autopilot CLI schema files.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use otto_model::assistant::Severity;
use otto_server::Builds;
use otto_store::Clock;
use serde_json::json;

use super::db::{self, DbArgs};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A schema file as the Autopilot CLI exported it (legacy "Understand" files too).
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// Import under this unique name instead of the file's.
    #[arg(long)]
    pub unique_name: Option<String>,
    /// Replace the assistant that has this unique name (keeping its SID,
    /// dialogues and builds) instead of refusing.
    #[arg(long)]
    pub replace: bool,
    /// Do not train a model build now (`otto serve` trains it later).
    #[arg(long)]
    pub no_train: bool,
    /// Print {"sid", "unique_name", "model_build_sid", "model_build_status"} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The assistant: its SID or unique name.
    pub assistant: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    db::init_logging("error");
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut assistant = otto_model::import_schema(&text)
        .with_context(|| format!("{} is not an Autopilot schema", args.file.display()))?;
    if let Some(name) = &args.unique_name {
        assistant.unique_name = name.clone();
    }
    let problems = assistant.validate();
    for problem in &problems {
        eprintln!(
            "{}: {}: {}: {}",
            args.file.display(),
            match problem.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            problem.path,
            problem.message
        );
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        bail!(
            "{} has {errors} error(s); nothing was imported",
            args.file.display()
        );
    }
    let opened = db::open(&args.db.db, Clock::system()).await?;
    let (store, account) = (opened.store, opened.account);
    let existing = store
        .fetch_assistant(&account.sid, &assistant.unique_name)
        .await
        .ok();
    let sid = match existing {
        Some(record) if args.replace => {
            store
                .replace_assistant(&account.sid, record.sid.as_str(), &assistant)
                .await?;
            record.sid
        }
        Some(record) => bail!(
            "an assistant named {:?} already exists ({}): use --replace to replace it or --unique-name NAME to import a copy",
            assistant.unique_name,
            record.sid
        ),
        None => store.import_assistant(&account.sid, &assistant).await?,
    };
    let build = if args.no_train {
        None
    } else {
        let builds = Arc::new(Builds::new(store.clone()));
        Some(
            db::train(
                &builds,
                &account.sid,
                &sid,
                assistant.model_build_name.clone(),
            )
            .await?,
        )
    };
    if args.json {
        println!(
            "{}",
            json!({
                "sid": sid,
                "unique_name": assistant.unique_name,
                "model_build_sid": build.as_ref().map(|b| b.sid.to_string()),
                "model_build_status": build.as_ref().map(|b| b.status.as_str()),
            })
        );
    } else {
        println!("{sid}");
        if let Some(build) = &build {
            eprintln!(
                "imported {} as {sid}; model build {} {}",
                assistant.unique_name, build.sid, build.status
            );
        }
    }
    Ok(())
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    db::init_logging("error");
    let opened = db::open(&args.db.db, Clock::system()).await?;
    let schema = opened
        .store
        .export_assistant(&opened.account.sid, &args.assistant)
        .await
        .with_context(|| format!("cannot export assistant {:?}", args.assistant))?;
    match &args.output {
        Some(path) => std::fs::write(path, &schema)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{schema}"),
    }
    Ok(())
}
