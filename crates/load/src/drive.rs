//! Plays conversations against otto (or the baseline) over HTTP and measures.
//!
//! Closed loop (`rate: None`): `concurrency` workers, each playing one
//! conversation after another, a turn as soon as the previous one answered:
//! the peak rate. Open loop (`rate: Some(r)`): turns are given send times
//! `start + k / r` and latency is counted from that time, so a server that
//! falls behind shows it in the percentiles (no coordinated omission).
//!
//! A worker finishes the conversation it is in when the run ends, so every
//! conversation is complete and its memory can be checked; only turns
//! answered inside the measurement window (after the warm-up, before the end)
//! count in the figures.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::Value;

use crate::script::{Conversation, Script};

/// Where the turns go.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URLs (`http://127.0.0.1:8080`), one per otto instance.
    pub urls: Vec<String>,
    pub account_sid: String,
    pub auth_token: String,
    /// SID or unique name.
    pub assistant: String,
    pub channel: String,
}

/// How turns are shared out among the instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pick {
    /// Turn after turn over all instances, also within one conversation.
    RoundRobin,
    Random,
}

/// When a run stops starting conversations.
#[derive(Debug, Clone)]
pub enum Until {
    Elapsed(Duration),
    Conversations(u64),
    /// Until the flag is set (tests: load while something else happens).
    Flag(Arc<AtomicBool>),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub concurrency: usize,
    pub until: Until,
    /// Turns answered before this are not counted in the figures.
    pub warmup: Duration,
    /// Turns per second for an open-loop run; `None`: as fast as answered.
    pub rate: Option<f64>,
    pub pick: Pick,
    /// Prefix of the user identifiers (distinct per run, so runs against one
    /// database never meet each other's dialogues).
    pub user_prefix: String,
    /// The baseline answers a fixed JSON: nothing to check or record.
    pub baseline: bool,
    /// Wait this long after a connection error before the next conversation
    /// (an instance that is down is not hammered in a tight loop).
    pub error_pause: Duration,
}

impl Plan {
    pub fn new(concurrency: usize, until: Until, user_prefix: impl Into<String>) -> Plan {
        Plan {
            concurrency,
            until,
            warmup: Duration::ZERO,
            rate: None,
            pick: Pick::RoundRobin,
            user_prefix: user_prefix.into(),
            baseline: false,
            error_pause: Duration::from_millis(20),
        }
    }
}

/// How one turn went.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    Acknowledged {
        dialogue_sid: String,
        /// The says of the answer, joined.
        reply: String,
        instance: usize,
    },
    Failed {
        error: String,
        instance: usize,
    },
}

/// A conversation as played: its turns stop at the first failure (what the
/// server did with a failed turn is unknown, so the script cannot go on).
#[derive(Debug, Clone)]
pub struct Played {
    pub user: String,
    pub conversation: Conversation,
    pub outcomes: Vec<TurnOutcome>,
}

impl Played {
    pub fn acknowledged(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, TurnOutcome::Acknowledged { .. }))
            .count()
    }

    pub fn complete(&self) -> bool {
        self.acknowledged() == self.conversation.turns.len()
    }
}

/// The figures of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Turns answered successfully inside the window.
    pub turns: u64,
    pub seconds: f64,
    pub turns_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Failed turns (any time in the run), by kind.
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// Answers whose text lacked the script's expected part.
    pub unexpected_replies: u64,
    pub unexpected_examples: Vec<String>,
    pub conversations: u64,
    pub sent: u64,
    pub acknowledged: u64,
}

#[derive(Debug)]
pub struct RunResult {
    pub figures: Figures,
    pub played: Vec<Played>,
}

struct Shared {
    script: Script,
    target: Target,
    endpoints: Vec<String>,
    authorization: String,
    plan: Plan,
    client: reqwest::Client,
    next_conversation: AtomicU64,
    next_turn: AtomicU64,
    next_slot: AtomicU64,
    started: Instant,
    window: (Instant, Instant),
    progress: Option<ProgressBar>,
    counted: AtomicU64,
    collected: Mutex<Collected>,
}

#[derive(Default)]
struct Collected {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    unexpected: u64,
    unexpected_examples: Vec<String>,
    played: Vec<Played>,
    sent: u64,
    acknowledged: u64,
}

/// An HTTP client for load: keeps a connection per worker and instance.
pub fn client(concurrency: usize) -> reqwest::Client {
    // Fails only when a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(1))
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .build()
        .expect("an HTTP client without TLS builds")
}

/// Runs the plan; `progress` (if any) counts the window's turns.
pub async fn run(
    script: &Script,
    target: &Target,
    plan: &Plan,
    progress: Option<ProgressBar>,
) -> anyhow::Result<RunResult> {
    anyhow::ensure!(!target.urls.is_empty(), "no URL to send turns to");
    anyhow::ensure!(plan.concurrency > 0, "concurrency must be at least 1");
    let started = Instant::now();
    let window_end = match &plan.until {
        Until::Elapsed(duration) => started + *duration,
        // Counted until the run stops starting conversations (set below).
        _ => started + Duration::from_secs(365 * 24 * 3600),
    };
    let credentials = format!("{}:{}", target.account_sid, target.auth_token);
    let shared = Arc::new(Shared {
        script: script.clone(),
        endpoints: target
            .urls
            .iter()
            .map(|url| {
                format!(
                    "{}/v2/{}/{}/custom/{}",
                    url.trim_end_matches('/'),
                    target.account_sid,
                    target.assistant,
                    target.channel
                )
            })
            .collect(),
        target: target.clone(),
        authorization: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        ),
        plan: plan.clone(),
        client: client(plan.concurrency),
        next_conversation: AtomicU64::new(0),
        next_turn: AtomicU64::new(0),
        next_slot: AtomicU64::new(0),
        started,
        window: (started + plan.warmup, window_end),
        progress,
        counted: AtomicU64::new(0),
        collected: Mutex::new(Collected::default()),
    });
    let mut workers = Vec::new();
    for worker in 0..plan.concurrency {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move { work(shared, worker).await }));
    }
    for worker in workers {
        worker.await?;
    }
    let ended = Instant::now();
    let shared =
        Arc::try_unwrap(shared).map_err(|_| anyhow::anyhow!("a worker outlived the run"))?;
    let window = (shared.window.0, shared.window.1.min(ended));
    let collected = shared
        .collected
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut latencies = collected.latencies;
    latencies.sort();
    let seconds = window.1.saturating_duration_since(window.0).as_secs_f64();
    let turns = latencies.len() as u64;
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let mut played = collected.played;
    played.sort_by_key(|p| p.conversation.number);
    let figures = Figures {
        turns,
        seconds,
        turns_per_second: if seconds > 0.0 {
            turns as f64 / seconds
        } else {
            0.0
        },
        p50_ms: percentile(0.50),
        p90_ms: percentile(0.90),
        p99_ms: percentile(0.99),
        max_ms: latencies
            .last()
            .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0),
        errors: collected.errors.values().sum(),
        error_kinds: collected.errors,
        unexpected_replies: collected.unexpected,
        unexpected_examples: collected.unexpected_examples,
        conversations: played.len() as u64,
        sent: collected.sent,
        acknowledged: collected.acknowledged,
    };
    Ok(RunResult { figures, played })
}

fn stopping(shared: &Shared) -> bool {
    match &shared.plan.until {
        Until::Elapsed(duration) => shared.started.elapsed() >= *duration,
        Until::Conversations(_) => false,
        Until::Flag(flag) => flag.load(Ordering::Relaxed),
    }
}

async fn work(shared: Arc<Shared>, worker: usize) {
    let mut random = 0x9e37_79b9_7f4a_7c15_u64 ^ (worker as u64 + 1).wrapping_mul(0xbf58_476d);
    loop {
        if stopping(&shared) {
            return;
        }
        let number = shared.next_conversation.fetch_add(1, Ordering::Relaxed);
        if let Until::Conversations(limit) = shared.plan.until
            && number >= limit
        {
            return;
        }
        let conversation = shared.script.conversation(number);
        let user = format!("{}-{number}", shared.plan.user_prefix);
        let mut outcomes = Vec::with_capacity(conversation.turns.len());
        let mut connection_failed = false;
        for turn in &conversation.turns {
            let instance = match shared.plan.pick {
                Pick::RoundRobin => {
                    (shared.next_turn.fetch_add(1, Ordering::Relaxed) as usize)
                        % shared.endpoints.len()
                }
                Pick::Random => {
                    // xorshift64: cheap, and each worker has its own sequence.
                    random ^= random << 13;
                    random ^= random >> 7;
                    random ^= random << 17;
                    (random % shared.endpoints.len() as u64) as usize
                }
            };
            let scheduled = match shared.plan.rate {
                Some(rate) if !stopping(&shared) => {
                    let slot = shared.next_slot.fetch_add(1, Ordering::Relaxed);
                    let at = shared.started + Duration::from_secs_f64(slot as f64 / rate);
                    if Instant::now() < at {
                        // On schedule: latency counts from the wake-up. tokio's
                        // timer ticks in whole milliseconds, so the wake-up is up
                        // to a millisecond late; that lateness is the client's
                        // (the bare handler showed it too), not the server's.
                        tokio::time::sleep_until(at.into()).await;
                        Instant::now()
                    } else {
                        // Behind schedule because earlier turns were slow: the
                        // wait counts, as it would for the user.
                        at
                    }
                }
                _ => Instant::now(),
            };
            let outcome = send(&shared, &user, turn, instance).await;
            let done = Instant::now();
            let mut collected = shared
                .collected
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            collected.sent += 1;
            match &outcome {
                Ok(answer) => {
                    collected.acknowledged += 1;
                    if done >= shared.window.0 && done <= shared.window.1 && !stopping(&shared) {
                        collected.latencies.push(done - scheduled);
                        let counted = shared.counted.fetch_add(1, Ordering::Relaxed) + 1;
                        if let Some(progress) = &shared.progress {
                            progress.set_position(counted);
                        }
                    }
                    if let Some(expect) = &turn.expect
                        && !shared.plan.baseline
                        && !answer.reply.contains(expect.as_str())
                    {
                        collected.unexpected += 1;
                        if collected.unexpected_examples.len() < 5 {
                            collected.unexpected_examples.push(format!(
                                "{user} said {:?}: expected {expect:?} in {:?}",
                                turn.text, answer.reply
                            ));
                        }
                    }
                }
                Err(failure) => {
                    *collected.errors.entry(failure.kind.clone()).or_default() += 1;
                    connection_failed = failure.connection;
                }
            }
            drop(collected);
            match outcome {
                Ok(answer) => outcomes.push(TurnOutcome::Acknowledged {
                    dialogue_sid: answer.dialogue_sid,
                    reply: answer.reply,
                    instance,
                }),
                Err(failure) => {
                    outcomes.push(TurnOutcome::Failed {
                        error: failure.detail,
                        instance,
                    });
                    break;
                }
            }
        }
        if !shared.plan.baseline {
            let mut collected = shared
                .collected
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            collected.played.push(Played {
                user,
                conversation,
                outcomes,
            });
        }
        if connection_failed {
            tokio::time::sleep(shared.plan.error_pause).await;
        }
    }
}

struct Answer {
    dialogue_sid: String,
    reply: String,
}

struct Failure {
    /// For counting: `HTTP 503 (20503)`, `connection refused`…
    kind: String,
    detail: String,
    connection: bool,
}

async fn send(
    shared: &Shared,
    user: &str,
    turn: &crate::script::Turn,
    instance: usize,
) -> Result<Answer, Failure> {
    let body = {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("UserId", user)
            .append_pair("Language", "en-US")
            .append_pair("Text", &turn.text);
        if let Some(memory) = &turn.memory {
            form.append_pair("Memory", memory);
        }
        form.finish()
    };
    let response = shared
        .client
        .post(&shared.endpoints[instance])
        .header("authorization", &shared.authorization)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    let transport = |error: reqwest::Error| {
        let kind = if error.is_connect() {
            "connection refused or reset"
        } else if error.is_timeout() {
            "timeout"
        } else {
            "connection error"
        };
        Failure {
            kind: kind.to_owned(),
            detail: format!("{}: {error}", shared.target.urls[instance]),
            connection: true,
        }
    };
    let response = response.map_err(transport)?;
    let status = response.status();
    let body = response.bytes().await.map_err(transport)?;
    if !status.is_success() {
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        let code = json
            .as_ref()
            .and_then(|j| j.get("code"))
            .and_then(Value::as_i64);
        return Err(Failure {
            kind: match code {
                Some(code) => format!("HTTP {} (code {code})", status.as_u16()),
                None => format!("HTTP {}", status.as_u16()),
            },
            detail: format!(
                "{}: HTTP {status}: {}",
                shared.target.urls[instance],
                String::from_utf8_lossy(&body)
            ),
            connection: false,
        });
    }
    if shared.plan.baseline {
        return Ok(Answer {
            dialogue_sid: String::new(),
            reply: String::new(),
        });
    }
    let json: Value = serde_json::from_slice(&body).map_err(|error| Failure {
        kind: "answer is not JSON".to_owned(),
        detail: format!("{error}: {}", String::from_utf8_lossy(&body)),
        connection: false,
    })?;
    let dialogue_sid = json
        .pointer("/dialogue/sid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let reply = json
        .pointer("/response/says")
        .and_then(Value::as_array)
        .map(|says| {
            says.iter()
                .filter_map(|say| say.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Ok(Answer {
        dialogue_sid,
        reply,
    })
}
