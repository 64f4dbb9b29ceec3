//! The baseline: a bare axum handler that answers every POST with a fixed
//! JSON, on the same HTTP stack as otto (axum 0.8 over hyper, tokio's
//! multi-threaded runtime). Measured with the same client in the same run, it
//! is the ceiling of requests per second on this machine; otto's figures are
//! reported as ratios of it.

use std::process::Stdio;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// About the size of otto's answer to a turn.
const ANSWER: &str = r#"{"response":{"says":[{"speech":"We are open Tuesday to Sunday, from noon to 11 pm.","text":"We are open Tuesday to Sunday, from noon to 11 pm."}],"shows":[],"listen":{"tasks":[]},"collect":null},"dialogue":{"sid":"UK00000000000000000000000000000000","ended":false}}"#;

/// Reads the body (as otto reads the form) and answers the fixed JSON.
async fn answer(_body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], ANSWER)
}

pub fn router() -> Router {
    Router::new().fallback(answer)
}

/// Serves the baseline until the process ends; prints
/// `baseline listening on http://ADDR` first.
pub async fn serve(listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router()).await?;
    Ok(())
}

/// The baseline as a child process (`otto-load baseline`), like otto runs in
/// its own process: the load client does not share its runtime.
pub struct BaselineProcess {
    _child: Child,
    pub url: String,
}

pub async fn spawn(program: &std::path::Path) -> anyhow::Result<BaselineProcess> {
    let mut child = Command::new(program)
        .args(["baseline", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout from the baseline process"))?;
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next_line()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the baseline process printed nothing"))?;
    let url = line
        .strip_prefix("baseline listening on ")
        .ok_or_else(|| anyhow::anyhow!("unexpected first line from the baseline: {line:?}"))?
        .to_owned();
    Ok(BaselineProcess { _child: child, url })
}
