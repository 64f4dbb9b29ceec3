//! `otto keys …`: the account's API keys (`SK…`), a credential that can be
//! given out and deleted without changing the auth token.

use anyhow::Context;
use clap::{Args, Subcommand};
use otto_store::{ApiKeyRecord, Clock, PageRequest};
use serde_json::{Value, json};

use super::db::{self, DbArgs};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create an API key and print its SID and secret (the secret only this once).
    Create(CreateArgs),
    /// List the account's API keys (never their secrets).
    List(ListArgs),
    /// Delete an API key: its secret stops working at once.
    Delete(DeleteArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// A name to recognise the key by (at most 64 characters).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Print {"sid", "secret", "friendly_name", "account_sid", "date_created", "date_updated"} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print a JSON array of {"sid", "friendly_name", "account_sid", "date_created", "date_updated"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// The key's SID (SK…).
    pub sid: String,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    db::init_logging("error");
    match command {
        KeysCommand::Create(args) => create(args).await,
        KeysCommand::List(args) => list(args).await,
        KeysCommand::Delete(args) => delete(args).await,
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let opened = db::open(&args.db.db, Clock::system()).await?;
    let created = opened
        .store
        .create_api_key(&opened.account.sid, args.name.as_deref())
        .await?;
    if args.json {
        let mut body = record_json(&created.record);
        body["secret"] = Value::String(created.secret);
        println!("{body}");
    } else {
        let key = &created.record;
        println!("key     {}", key.sid);
        println!("secret  {}", created.secret);
        println!("account {}", key.account_sid);
        eprintln!(
            "The secret is shown only this once (otto keeps only its hash). Use the key as HTTP Basic \
             credentials, e.g. curl -u '{}:SECRET', or Client(\"{}\", SECRET, \"{}\") in Twilio's helper libraries.",
            key.sid, key.sid, key.account_sid
        );
    }
    Ok(())
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let opened = db::open(&args.db.db, Clock::system()).await?;
    let mut keys = Vec::new();
    let mut page = PageRequest::first(otto_store::MAX_PAGE_SIZE);
    loop {
        let listed = opened
            .store
            .list_api_keys(&opened.account.sid, &page)
            .await?;
        keys.extend(listed.items);
        match listed.next_page_token {
            Some(token) => page = PageRequest::at(page.page_size, &token),
            None => break,
        }
    }
    if args.json {
        let items: Vec<Value> = keys.iter().map(record_json).collect();
        println!("{}", Value::Array(items));
    } else if keys.is_empty() {
        eprintln!(
            "account {} has no API keys: create one with `otto keys create --name NAME`",
            opened.account.sid
        );
    } else {
        for key in &keys {
            println!(
                "{}  {}  {}",
                key.sid,
                date(key.date_created),
                key.friendly_name.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

async fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let opened = db::open(&args.db.db, Clock::system()).await?;
    opened
        .store
        .delete_api_key(&opened.account.sid, &args.sid)
        .await
        .with_context(|| format!("cannot delete API key {:?}", args.sid))?;
    eprintln!("deleted API key {}", args.sid);
    Ok(())
}

/// A key as Twilio's Keys resource has it (plus the account).
fn record_json(key: &ApiKeyRecord) -> Value {
    json!({
        "sid": key.sid,
        "friendly_name": key.friendly_name,
        "account_sid": key.account_sid,
        "date_created": date(key.date_created),
        "date_updated": date(key.date_updated),
    })
}

/// Epoch seconds as ISO-8601 UTC (`2026-03-11T10:00:00Z`).
fn date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
