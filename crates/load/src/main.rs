//! `otto-load`: load otto over HTTP and check the store afterwards.
//!
//! ```sh
//! otto-load run --url http://127.0.0.1:8080 --db sqlite://otto.db
//! otto-load run --url http://a:8080 --url http://b:8080 --db postgres://… --pick random --json
//! otto-load baseline --listen 127.0.0.1:9000
//! otto-load stalls --seconds 3
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use otto_load::{Figures, Pick, Plan, Script, Target, Until, Verification, baseline, drive};
use otto_store::Store;
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(
    name = "otto-load",
    version,
    about = "Load otto over HTTP, compare with a bare handler, check the store"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The baseline, then otto at its peak, then otto at half that rate; then
    /// the store check (with --db).
    Run(RunArgs),
    /// Serves the bare handler (a fixed JSON for every request).
    Baseline {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// How often this machine stops a running thread (another process, the
    /// host of a virtual machine), and for how long: one core spins reading
    /// the clock. Stalls of several ms set a run's p99 whatever otto does.
    Stalls {
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Base URL of an otto instance (repeat for several; turns go round-robin or at random).
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// The database the instances share: the account is read from it and
    /// every acknowledged turn and memory is checked in it afterwards.
    #[arg(long, env = "OTTO_DB")]
    db: Option<String>,
    #[arg(long, env = "OTTO_ACCOUNT_SID")]
    account_sid: Option<String>,
    #[arg(long, env = "OTTO_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
    /// The assistant (SID or unique name).
    #[arg(long, default_value = "otto-demo")]
    assistant: String,
    #[arg(long, default_value = "load")]
    channel: String,
    /// Conversations to play (JSON, like the built-in demo script
    /// `crates/load/src/demo.json`); default: the demo assistant's.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Conversations played at once (closed loop).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds each phase lasts.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds at the start of each phase not counted.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    #[arg(long, value_enum, default_value = "round-robin")]
    pick: Pick,
    /// Skip the bare-handler baseline.
    #[arg(long)]
    no_baseline: bool,
    /// Skip the phase at half of otto's peak rate.
    #[arg(long)]
    no_half_load: bool,
    /// Run otto at this many turns per second (open loop) instead of the peak
    /// and half-load phases.
    #[arg(long)]
    rate: Option<f64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    urls: Vec<String>,
    concurrency: usize,
    pick: Pick,
    baseline: Option<Figures>,
    peak: Option<Figures>,
    /// The peak turns per second as a fraction of the baseline's requests per second.
    peak_ratio: Option<f64>,
    half_load: Option<Figures>,
    /// The bare handler at the half-load rate, open loop: the p99 this
    /// machine and client give at that rate with no work behind the answer.
    baseline_half_load: Option<Figures>,
    fixed_rate: Option<Figures>,
    store: Option<Verification>,
}

// The same allocator as `otto`, so that the bare handler it measures as the
// ceiling runs on the same footing.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Baseline { listen } => runtime.block_on(baseline::serve(&listen)),
        Command::Stalls { seconds, json } => {
            let length = Duration::try_from_secs_f64(seconds)
                .context("--seconds must be a positive number of seconds")?;
            let stalls = otto_load::stalls::measure(length);
            if json {
                println!("{}", serde_json::to_string(&stalls)?);
            } else {
                println!("{stalls}");
            }
            Ok(())
        }
        Command::Run(args) => {
            let ok = runtime.block_on(run(args))?;
            if !ok {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let script = match &args.script {
        Some(path) => Script::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{}", path.display()))?,
        None => Script::demo(),
    };
    let store = match &args.db {
        Some(url) => Some(
            Store::connect(url)
                .await
                .with_context(|| format!("cannot open {url}"))?,
        ),
        None => None,
    };
    let (account_sid, auth_token) = match (&args.account_sid, &args.auth_token, &store) {
        (Some(sid), Some(token), _) => (sid.clone(), token.clone()),
        (sid, token, Some(store)) => {
            let account = store
                .ensure_account(sid.as_deref(), token.as_deref())
                .await?;
            (account.sid.to_string(), account.auth_token)
        }
        _ => anyhow::bail!(
            "say whose account to use: --db (where otto keeps it) or --account-sid and --auth-token"
        ),
    };
    let target = Target {
        urls: args.urls.clone(),
        account_sid,
        auth_token,
        assistant: args.assistant.clone(),
        channel: args.channel.clone(),
    };
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let phase = Duration::from_secs_f64(args.duration);
    let plan = |name: &str, rate: Option<f64>| Plan {
        warmup: Duration::from_secs_f64(args.warmup),
        rate,
        pick: args.pick,
        ..Plan::new(
            if rate.is_some() {
                args.concurrency.max(64)
            } else {
                args.concurrency
            },
            Until::Elapsed(phase),
            format!("load-{stamp}-{name}"),
        )
    };
    let quiet = args.json;
    let no_bar = args.json || !std::io::stderr().is_terminal();
    let mut report = Report {
        urls: args.urls.clone(),
        concurrency: args.concurrency,
        pick: args.pick,
        baseline: None,
        peak: None,
        peak_ratio: None,
        half_load: None,
        baseline_half_load: None,
        fixed_rate: None,
        store: None,
    };
    let mut played = Vec::new();

    // Kept until the end: it is measured again at the half-load rate.
    let mut bare = None;
    if !args.no_baseline {
        let process = baseline::spawn(&std::env::current_exe()?).await?;
        let base_target = Target {
            urls: vec![process.url.clone()],
            ..target.clone()
        };
        let base_plan = Plan {
            baseline: true,
            ..plan("baseline", None)
        };
        let result = drive::run(
            &script,
            &base_target,
            &base_plan,
            progress(no_bar, "bare handler", phase),
        )
        .await?;
        say(quiet, "bare axum handler", &result.figures, None);
        report.baseline = Some(result.figures);
        bare = Some((process, base_target));
    }
    let phases: Vec<(&str, Option<f64>)> = match args.rate {
        Some(rate) => vec![("fixed", Some(rate))],
        None => vec![("peak", None)],
    };
    for (name, rate) in phases {
        let result = drive::run(
            &script,
            &target,
            &plan(name, rate),
            progress(no_bar, name, phase),
        )
        .await?;
        let ratio = report
            .baseline
            .as_ref()
            .filter(|b| b.turns_per_second > 0.0)
            .map(|b| result.figures.turns_per_second / b.turns_per_second);
        match rate {
            None => {
                say(quiet, "otto at its peak", &result.figures, ratio);
                report.peak_ratio = ratio;
                report.peak = Some(result.figures);
            }
            Some(rate) => {
                say(
                    quiet,
                    &format!("otto at {rate:.0} turns/s"),
                    &result.figures,
                    None,
                );
                report.fixed_rate = Some(result.figures);
            }
        }
        played.extend(result.played);
    }
    if let Some(peak) = report.peak.as_ref().filter(|_| !args.no_half_load) {
        let rate = (peak.turns_per_second / 2.0).max(1.0);
        let result = drive::run(
            &script,
            &target,
            &plan("half", Some(rate)),
            progress(no_bar, "half load", phase),
        )
        .await?;
        say(
            quiet,
            &format!("otto at half its peak ({rate:.0} turns/s offered)"),
            &result.figures,
            None,
        );
        report.half_load = Some(result.figures);
        played.extend(result.played);
        if let Some((_process, base_target)) = &bare {
            // The same rate with nothing behind the answer: what the machine
            // and the client alone add to the tail.
            let base_plan = Plan {
                baseline: true,
                ..plan("baseline-half", Some(rate))
            };
            let result = drive::run(
                &script,
                base_target,
                &base_plan,
                progress(no_bar, "bare handler, same rate", phase),
            )
            .await?;
            say(
                quiet,
                &format!("bare handler at the same rate ({rate:.0}/s)"),
                &result.figures,
                None,
            );
            report.baseline_half_load = Some(result.figures);
        }
    }
    if let Some(store) = &store {
        let verification = otto_load::verify(store, &played).await?;
        if !quiet {
            println!(
                "store check: {} conversations ({} complete), {} acknowledged turns found in order, {} memory values as expected; {} problems",
                verification.conversations,
                verification.complete,
                verification.turns,
                verification.memory_values,
                verification.problems.len()
            );
            for problem in verification.problems.iter().take(20) {
                println!("  {problem}");
            }
        }
        report.store = Some(verification);
    }
    let figures = [&report.peak, &report.half_load, &report.fixed_rate];
    let errors: u64 = figures
        .iter()
        .filter_map(|f| f.as_ref())
        .map(|f| f.errors)
        .sum();
    let unexpected: u64 = figures
        .iter()
        .filter_map(|f| f.as_ref())
        .map(|f| f.unexpected_replies)
        .sum();
    let ok = errors == 0 && unexpected == 0 && report.store.as_ref().is_none_or(Verification::ok);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ok)
}

fn progress(quiet: bool, name: &str, phase: Duration) -> Option<ProgressBar> {
    let bar = ProgressBar::no_length();
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
        return None;
    }
    bar.set_style(
        ProgressStyle::with_template("{prefix:>14} {spinner} {pos} turns  {per_sec}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(name.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    // Cleared when the phase ends.
    let cleared = bar.clone();
    tokio::spawn(async move {
        tokio::time::sleep(phase + Duration::from_millis(200)).await;
        cleared.finish_and_clear();
    });
    Some(bar)
}

fn say(quiet: bool, what: &str, figures: &Figures, ratio: Option<f64>) {
    if quiet {
        return;
    }
    let ratio = ratio
        .map(|r| format!("  = {:.1}% of the bare handler", r * 100.0))
        .unwrap_or_default();
    println!(
        "{what:<44} {:>8.0}/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  ({} turns, {} errors){ratio}",
        figures.turns_per_second,
        figures.p50_ms,
        figures.p90_ms,
        figures.p99_ms,
        figures.max_ms,
        figures.turns,
        figures.errors,
    );
    for (kind, count) in &figures.error_kinds {
        println!("    {count} × {kind}");
    }
    if figures.unexpected_replies > 0 {
        println!(
            "    {} unexpected replies, e.g.:",
            figures.unexpected_replies
        );
        for example in &figures.unexpected_examples {
            println!("      {example}");
        }
    }
}
