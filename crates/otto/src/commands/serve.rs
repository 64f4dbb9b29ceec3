//! `otto serve`: the HTTP server, with the demo assistant on an empty database.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use otto_server::{Otto, ServerConfig};
use otto_store::{Clock, PageRequest};

use super::db::{self, DbArgs};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address in use is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// The base URL clients reach the server at, for `DialoguePayloadUrl`
    /// (default: http:// plus the listening address).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Accept Twilio webhooks (messaging, voice) without a valid
    /// X-Twilio-Signature. For local testing only: anyone who can reach the
    /// server can then talk as any phone number.
    #[arg(long)]
    pub no_signature_check: bool,
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    db::init_logging("info");
    let opened = db::open(&args.db.db, Clock::system()).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let otto = Otto::new(
        opened.store.clone(),
        opened.account.clone(),
        ServerConfig {
            public_url: public_url.clone(),
            check_signatures: !args.no_signature_check,
            ..ServerConfig::default()
        },
    )?;
    let demo = otto_server::demo::ensure_demo(&otto.store, &otto.builds, &otto.account.sid).await?;
    let workers = otto.spawn_workers();

    let account = &otto.account;
    println!(
        "otto {} listening on {public_url}",
        env!("CARGO_PKG_VERSION")
    );
    println!("database   {}", args.db.db);
    if args.no_signature_check {
        println!(
            "warning    Twilio webhooks are accepted without X-Twilio-Signature (--no-signature-check)"
        );
    }
    println!("account    {}", account.sid);
    let token = if opened.generated {
        println!(
            "auth token {}  (generated now and stored; shown only this once)",
            account.auth_token
        );
        account.auth_token.clone()
    } else if std::env::var_os("OTTO_AUTH_TOKEN").is_some() {
        println!("auth token from OTTO_AUTH_TOKEN");
        "$OTTO_AUTH_TOKEN".to_owned()
    } else {
        println!(
            "auth token stored in the database (printed on its first start; set OTTO_AUTH_TOKEN to choose one)"
        );
        "AUTH_TOKEN".to_owned()
    };
    let assistants = otto
        .store
        .list_assistants(&account.sid, &PageRequest::first(50))
        .await?;
    if let Some(first) = assistants.items.first() {
        let names: Vec<&str> = assistants
            .items
            .iter()
            .map(|a| a.unique_name.as_str())
            .collect();
        println!("assistants {}", names.join(", "));
        println!();
        println!("Talk to {} over the custom channel:", first.unique_name);
        println!(
            "  curl -u '{}:{token}' {public_url}/v2/{}/{}/custom/web -d UserId=me -d Language=en-US --data-urlencode 'Text=I would like to book a table'",
            account.sid, account.sid, first.unique_name
        );
        println!("Twilio webhooks (signed over {public_url}, see docs/channels.md):");
        println!(
            "  messaging {public_url}/v1/{}/{}/twilio-messaging",
            account.sid, first.unique_name
        );
        println!(
            "  voice     {public_url}/v1/{}/{}/twilio-voice",
            account.sid, first.unique_name
        );
        println!();
    }
    let server = axum::serve(listener, otto.router()).with_graceful_shutdown(shutdown_signal());
    if let Some((sid, build)) = demo {
        let builds = otto.builds.clone();
        let account = account.sid.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            match builds.wait(&account, sid.as_str(), &build.sid).await {
                Ok(record) => println!(
                    "demo assistant otto-demo ({sid}) imported; model build {} {} in {:.1} s",
                    record.sid,
                    record.status,
                    started.elapsed().as_secs_f64()
                ),
                Err(error) => eprintln!("error: training the demo assistant: {error}"),
            }
        });
    }
    server.await.context("the HTTP server stopped")?;
    for worker in workers {
        worker.abort();
    }
    println!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
