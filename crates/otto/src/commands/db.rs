//! What the commands that touch the database share: `--db`, the account,
//! training with a progress bar, logging.

use std::io::IsTerminal;

use anyhow::{Context, bail};
use clap::Args;
use otto_model::Sid;
use otto_nlu::TrainProgress;
use otto_server::Builds;
use otto_store::{
    AUTH_TOKEN_KEY, Account, Clock, ModelBuildRecord, ModelBuildStatus, NewModelBuild, PageRequest,
    Store, StoreOptions,
};

use super::progress::bar;

/// The default database: a SQLite file in the working folder.
pub const DEFAULT_DB: &str = "sqlite://otto.db";

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// The database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "OTTO_DB", default_value = DEFAULT_DB)]
    pub db: String,
}

/// An open store and the account it serves.
pub struct Opened {
    pub store: Store,
    pub account: Account,
    /// The auth token was generated just now (first start on this database).
    pub generated: bool,
}

/// Connects and settles the account: `OTTO_ACCOUNT_SID` / `OTTO_AUTH_TOKEN`
/// when set, else the stored one, generated on first use.
pub async fn open(db: &str, clock: Clock) -> anyhow::Result<Opened> {
    let store = Store::connect_with(
        db,
        StoreOptions {
            clock,
            ..StoreOptions::default()
        },
    )
    .await
    .with_context(|| format!("cannot open the database {db}"))?;
    let env_sid = std::env::var("OTTO_ACCOUNT_SID").ok();
    let env_token = std::env::var("OTTO_AUTH_TOKEN").ok();
    let had_token = store.get_setting(AUTH_TOKEN_KEY).await?.is_some();
    let account = store
        .ensure_account(env_sid.as_deref(), env_token.as_deref())
        .await?;
    Ok(Opened {
        store,
        account,
        generated: !had_token && env_token.is_none(),
    })
}

/// Queues a build of the assistant and trains until it is done, with a
/// progress bar on a terminal.
pub async fn train(
    builds: &Builds,
    account: &Sid,
    assistant: &Sid,
    unique_name: Option<String>,
) -> anyhow::Result<ModelBuildRecord> {
    let build = match builds
        .enqueue(
            account,
            assistant.as_str(),
            NewModelBuild {
                unique_name: unique_name.clone(),
                status_callback: None,
            },
        )
        .await
    {
        Ok(build) => build,
        // The schema's build name is taken (a replaced assistant): let the SID name it.
        Err(otto_server::BuildError::Store(otto_store::StoreError::UniqueNameTaken { .. }))
            if unique_name.is_some() =>
        {
            builds
                .enqueue(account, assistant.as_str(), NewModelBuild::default())
                .await?
        }
        Err(error) => return Err(error.into()),
    };
    wait_trained(builds, account, assistant, &build.sid).await
}

/// Trains enqueued builds until `build` is finished.
pub async fn wait_trained(
    builds: &Builds,
    account: &Sid,
    assistant: &Sid,
    build: &Sid,
) -> anyhow::Result<ModelBuildRecord> {
    let progress = bar(0, "training");
    if !std::io::stderr().is_terminal() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let record = loop {
        let record = builds
            .wait_step(account, assistant.as_str(), build, {
                let progress = progress.clone();
                Box::new(move |step| {
                    if let TrainProgress::Fields { done, total } = step {
                        progress.set_length(total as u64);
                        progress.set_position(done as u64);
                    }
                })
            })
            .await?;
        if let Some(record) = record {
            break record;
        }
    };
    progress.finish_and_clear();
    if record.status != ModelBuildStatus::Completed {
        bail!(
            "model build {} of assistant {assistant} {}{}",
            record.sid,
            record.status,
            record
                .error_code
                .map(|code| format!(" with error {code}"))
                .unwrap_or_default()
        );
    }
    Ok(record)
}

/// The assistant a command works on: the one named, or the only one.
pub async fn pick_assistant(
    store: &Store,
    account: &Sid,
    named: Option<&str>,
) -> anyhow::Result<Sid> {
    if let Some(key) = named {
        let record = store
            .fetch_assistant(account, key)
            .await
            .with_context(|| format!("assistant {key:?}"))?;
        return Ok(record.sid);
    }
    let page = store
        .list_assistants(account, &PageRequest::first(50))
        .await?;
    match page.items.as_slice() {
        [] => bail!("the database has no assistant: import one with `otto import FILE`"),
        [only] => Ok(only.sid.clone()),
        many => bail!(
            "the database has {} assistants; name one with --assistant ({})",
            many.len(),
            many.iter()
                .map(|a| a.unique_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Logs to standard error; `RUST_LOG` overrides the default level.
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
