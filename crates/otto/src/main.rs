//! The `otto` command.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "otto",
    version,
    about = "Run Twilio Autopilot assistants on your own machines",
    long_about = "otto runs Twilio Autopilot assistants unchanged: it imports their schemas, \
                  understands users with its own NLU, and holds the conversations.\n\n\
                  Commands that use the database take --db URL (sqlite://PATH, the default \
                  sqlite://otto.db in the working folder, or postgres://…). The account is \
                  OTTO_ACCOUNT_SID / OTTO_AUTH_TOKEN when set, otherwise generated on first \
                  use and stored in the database."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve assistants over HTTP (custom channel); starts with a demo assistant on an empty database.
    Serve(commands::serve::ServeArgs),
    /// Import an assistant from an Autopilot schema file, train it, and print its SID.
    Import(commands::assistants::ImportArgs),
    /// Print an assistant as an Autopilot CLI schema file.
    Export(commands::assistants::ExportArgs),
    /// Talk to an assistant in the terminal.
    Chat(commands::chat::ChatArgs),
    /// Run conversation tests against an assistant.
    #[command(long_about = commands::test::LONG_ABOUT)]
    Test(commands::test::TestArgs),
    /// Train an assistant's NLU model from its schema file.
    Train(commands::train::TrainArgs),
    /// Understand one utterance: task, confidence and fields.
    Query(commands::train::QueryArgs),
    /// Manage API keys (SK… and a secret), credentials besides the auth token.
    Keys {
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
    /// Natural-language understanding tools: evaluate on a data set.
    Nlu {
        #[command(subcommand)]
        command: commands::nlu::NluCommand,
    },
}

// See the workspace Cargo.toml: many small allocations from several threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// For the one-shot training commands: training touches a few hundred
/// megabytes of fresh memory once, and with transparent huge pages (which
/// mimalloc asks for) each first touch faults in and clears 2 MB. Measured
/// on our 2-core VMs, that was about 0.2 s of system time in a cold
/// `otto nlu eval` of banking77, 40 % of its training time
/// (bench/research/REPORT.md §13). `otto serve` keeps huge pages: a server
/// reuses its memory.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this
    // process; it reads no memory of ours. A kernel without it refuses the
    // call, and training is then only as fast as before.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let done = |result: anyhow::Result<()>| result.map(|()| ExitCode::SUCCESS);
    let result = match cli.command {
        Command::Train(args) => {
            without_huge_pages();
            done(commands::train::train(args))
        }
        Command::Query(args) => done(commands::train::query(args)),
        Command::Nlu { command } => {
            without_huge_pages();
            done(commands::nlu::run(command))
        }
        Command::Serve(args) => block_on(async { done(commands::serve::serve(args).await) }),
        Command::Import(args) => block_on(async { done(commands::assistants::import(args).await) }),
        Command::Export(args) => block_on(async { done(commands::assistants::export(args).await) }),
        Command::Chat(args) => block_on(async { done(commands::chat::chat(args).await) }),
        Command::Test(args) => block_on(commands::test::test(args)),
        Command::Keys { command } => block_on(async { done(commands::keys::run(command).await) }),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an async command on a multi-threaded runtime (TLS through ring).
fn block_on(
    command: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    otto_server::fetch::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(command)
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn training_commands_turn_huge_pages_off_for_their_process() {
        // The flag is per process; no other test of this binary depends on it.
        super::without_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("THP_enabled:"))
            .expect("the kernel reports THP_enabled (Linux 5.0 and later)");
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
