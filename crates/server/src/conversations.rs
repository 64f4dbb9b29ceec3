//! Conversation tests (`otto test`): a plain-text format to write by hand,
//! and a runner that plays it against the custom channel of a server.
//!
//! ```text
//! # Booking with a wrong party size       <- the first comment names the conversation
//! now: 2026-03-11T10:00:00Z               <- set the test clock (optional)
//! > I'd like to book a table              <- the user says this (a new user per conversation)
//! < Happy to book you a table. What's your first name?   <- the reply, exactly
//! task: book_table                        <- the task the input led to (`none`: no task)
//! > Ada
//! < ~ For how many people                 <- a reply containing this text
//! > lots
//! < Sorry, how many people will come? Please tell me a number, like 4.
//! > 4
//! memory.twilio.collected_data.booking.answers.party_size.answer: 4
//! wait: 4h1m                              <- move the clock
//! > hello
//! dialogue: new                           <- new | same | active | ended
//!
//! # next conversation (after a blank line)
//! target: goodbye                         <- send the next message with TargetTask
//! context: {"vip": true}                  <- and with inbound Memory
//! > bye
//! dialogue: ended
//! end: completed                          <- why it ended
//! ```
//!
//! When a turn has `<` lines they must match its replies one for one (each
//! say's text, then each show's body). A turn whose record holds errors must
//! name them with `error: text` (a substring of one of them), so nothing goes
//! wrong unseen. A conversation stops at its first failure.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use otto_engine::EngineError;
use otto_model::Sid;
use otto_store::{Account, ManualClock, PageRequest, Store};
use serde::Serialize;
use serde_json::Value;

use crate::turns::recorded_errors;

/// A parsed test file.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub conversations: Vec<Conversation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub title: String,
    /// Where it starts (1-based).
    pub line: usize,
    /// `user: id`, else a fresh user per run.
    pub user: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Now { line: usize, at: DateTime<Utc> },
    Wait { line: usize, by: TimeDelta },
    Turn(Turn),
}

/// One message and what must come of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub line: usize,
    pub text: String,
    pub target_task: Option<String>,
    /// Inbound `Memory` (a JSON object as text).
    pub context: Option<String>,
    pub replies: Vec<(usize, Expect)>,
    pub checks: Vec<(usize, Check)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Exact(String),
    Contains(String),
}

impl Expect {
    fn matches(&self, reply: &str) -> bool {
        match self {
            Expect::Exact(text) => reply == text,
            Expect::Contains(text) => reply.contains(text.as_str()),
        }
    }

    fn written(&self) -> String {
        match self {
            Expect::Exact(text) => text.clone(),
            Expect::Contains(text) => format!("~ {text}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogueCheck {
    Active,
    Ended,
    /// The turn runs in another dialogue than the turn before.
    New,
    Same,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// `task: name`; `None` for `task: none`.
    Task(Option<String>),
    /// `memory.a.b: value`: the value at that path (a string equal to the
    /// text, or JSON equal to the text read as JSON; `null` also matches a
    /// missing key).
    Memory {
        path: String,
        expected: String,
    },
    Dialogue(DialogueCheck),
    /// `end: handoff`: the dialogue ended for this reason.
    End(String),
    /// `error: text`: one of the turn's errors contains the text.
    Error(String),
}

/// A line that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Reads a test file.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let mut conversations = Vec::new();
    let mut current: Option<Builder> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            if let Some(builder) = current.take() {
                conversations.extend(builder.finish()?);
            }
            continue;
        }
        let builder = current.get_or_insert_with(|| Builder::new(line));
        builder.line(line, raw.trim_end())?;
    }
    if let Some(builder) = current.take() {
        conversations.extend(builder.finish()?);
    }
    if conversations.is_empty() {
        return Err(error(
            text.lines().count().max(1),
            "no conversation: write at least one `> message` line",
        ));
    }
    Ok(Script { conversations })
}

struct Builder {
    line: usize,
    title: Option<String>,
    user: Option<String>,
    steps: Vec<Step>,
    target_task: Option<String>,
    context: Option<String>,
    /// Whether the last step is a turn that later lines may add to.
    open_turn: bool,
}

impl Builder {
    fn new(line: usize) -> Builder {
        Builder {
            line,
            title: None,
            user: None,
            steps: Vec::new(),
            target_task: None,
            context: None,
            open_turn: false,
        }
    }

    fn turn(&mut self, line: usize, what: &str) -> Result<&mut Turn, ParseError> {
        match self.steps.last_mut() {
            Some(Step::Turn(turn)) if self.open_turn => Ok(turn),
            _ => Err(error(
                line,
                format!("{what} needs a `> message` line before it"),
            )),
        }
    }

    fn line(&mut self, line: usize, text: &str) -> Result<(), ParseError> {
        let trimmed = text.trim_start();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if self.title.is_none() && self.steps.is_empty() {
                let comment = comment.trim();
                if !comment.is_empty() {
                    self.title = Some(comment.to_owned());
                }
            }
            return Ok(());
        }
        if let Some(said) = trimmed.strip_prefix('>') {
            let said = said.strip_prefix(' ').unwrap_or(said);
            self.steps.push(Step::Turn(Turn {
                line,
                text: said.to_owned(),
                target_task: self.target_task.take(),
                context: self.context.take(),
                replies: Vec::new(),
                checks: Vec::new(),
            }));
            self.open_turn = true;
            return Ok(());
        }
        if let Some(reply) = trimmed.strip_prefix('<') {
            let reply = reply.strip_prefix(' ').unwrap_or(reply);
            let expect = match reply.trim_start().strip_prefix('~') {
                Some(part) => {
                    let part = part.trim();
                    if part.is_empty() {
                        return Err(error(line, "`< ~` needs the text the reply contains"));
                    }
                    Expect::Contains(part.to_owned())
                }
                None => Expect::Exact(reply.to_owned()),
            };
            self.turn(line, "a `<` reply")?.replies.push((line, expect));
            return Ok(());
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            return Err(error(
                line,
                format!(
                    "{trimmed:?} is not a test line: use `> message`, `< reply`, `< ~ part of a reply`, `task: name`, `memory.path: value`, `dialogue: new|same|active|ended`, `end: reason`, `error: text`, `now: time`, `wait: 1h30m`, `target: task`, `context: {{json}}`, `user: id` or `# comment`"
                ),
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "task" => {
                let task = match value {
                    "" => return Err(error(line, "`task:` needs a task name (or `none`)")),
                    "none" => None,
                    name => Some(name.to_owned()),
                };
                self.turn(line, "`task:`")?
                    .checks
                    .push((line, Check::Task(task)));
            }
            "dialogue" => {
                let check = match value {
                    "active" => DialogueCheck::Active,
                    "ended" => DialogueCheck::Ended,
                    "new" => DialogueCheck::New,
                    "same" => DialogueCheck::Same,
                    other => {
                        return Err(error(
                            line,
                            format!(
                                "`dialogue:` is one of new, same, active, ended, not {other:?}"
                            ),
                        ));
                    }
                };
                self.turn(line, "`dialogue:`")?
                    .checks
                    .push((line, Check::Dialogue(check)));
            }
            "end" => {
                const REASONS: [&str; 6] = [
                    "completed",
                    "handoff",
                    "hang_up",
                    "idle_timeout",
                    "replaced",
                    "error",
                ];
                if !REASONS.contains(&value) {
                    return Err(error(
                        line,
                        format!("`end:` is one of {}, not {value:?}", REASONS.join(", ")),
                    ));
                }
                self.turn(line, "`end:`")?
                    .checks
                    .push((line, Check::End(value.to_owned())));
            }
            "error" => {
                let text = value.strip_prefix('~').unwrap_or(value).trim();
                if text.is_empty() {
                    return Err(error(line, "`error:` needs a part of the error's text"));
                }
                self.turn(line, "`error:`")?
                    .checks
                    .push((line, Check::Error(text.to_owned())));
            }
            "now" => {
                let at = DateTime::parse_from_rfc3339(value)
                    .map_err(|e| {
                        error(
                            line,
                            format!(
                                "`now:` takes an RFC 3339 time such as 2026-03-11T10:00:00Z ({e})"
                            ),
                        )
                    })?
                    .with_timezone(&Utc);
                self.steps.push(Step::Now { line, at });
                self.open_turn = false;
            }
            "wait" => {
                let by = parse_duration(value).ok_or_else(|| {
                    error(
                        line,
                        format!("`wait:` takes a duration such as 4h, 30m, 1h30m, 90s or 2d, not {value:?}"),
                    )
                })?;
                self.steps.push(Step::Wait { line, by });
                self.open_turn = false;
            }
            "target" => {
                if value.is_empty() {
                    return Err(error(line, "`target:` needs a task name"));
                }
                self.target_task = Some(value.to_owned());
                self.open_turn = false;
            }
            "context" => {
                match serde_json::from_str::<Value>(value) {
                    Ok(Value::Object(_)) => {}
                    _ => {
                        return Err(error(
                            line,
                            "`context:` takes a JSON object, such as {\"vip\": true}",
                        ));
                    }
                }
                self.context = Some(value.to_owned());
                self.open_turn = false;
            }
            "user" => {
                if value.is_empty() || !self.steps.is_empty() {
                    return Err(error(
                        line,
                        "`user:` names the user before the conversation's first message",
                    ));
                }
                self.user = Some(value.to_owned());
            }
            key if key.starts_with("memory.") && key.len() > "memory.".len() => {
                let path = key["memory.".len()..].to_owned();
                self.turn(line, "a memory check")?.checks.push((
                    line,
                    Check::Memory {
                        path,
                        expected: value.to_owned(),
                    },
                ));
            }
            other => {
                return Err(error(
                    line,
                    format!(
                        "unknown check {other:?}: use task, memory.<path>, dialogue, end, error, now, wait, target, context or user"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Option<Conversation>, ParseError> {
        let turns = self
            .steps
            .iter()
            .filter(|step| matches!(step, Step::Turn(_)))
            .count();
        if turns == 0 {
            if self.steps.is_empty() && self.target_task.is_none() && self.context.is_none() {
                // Only comments.
                return Ok(None);
            }
            return Err(error(
                self.line,
                "this conversation has no `> message` line",
            ));
        }
        if self.target_task.is_some() || self.context.is_some() {
            return Err(error(
                self.line,
                "`target:` or `context:` at the end of a conversation: they apply to the next `> message`",
            ));
        }
        Ok(Some(Conversation {
            title: self
                .title
                .unwrap_or_else(|| format!("conversation at line {}", self.line)),
            line: self.line,
            user: self.user,
            steps: self.steps,
        }))
    }
}

/// `4h`, `30m`, `1h30m`, `90s`, `2d`.
pub fn parse_duration(text: &str) -> Option<TimeDelta> {
    let mut total = TimeDelta::zero();
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let amount: i64 = number.parse().ok()?;
        number.clear();
        total += match c {
            'd' => TimeDelta::try_days(amount)?,
            'h' => TimeDelta::try_hours(amount)?,
            'm' => TimeDelta::try_minutes(amount)?,
            's' => TimeDelta::try_seconds(amount)?,
            _ => return None,
        };
        any = true;
    }
    (any && number.is_empty()).then_some(total)
}

// ---- running -----------------------------------------------------------------

/// Where the conversations are played.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    pub account: Account,
    /// The assistant's SID or unique name.
    pub assistant: String,
    /// The custom channel's name.
    pub channel: String,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub conversations: Vec<ConversationResult>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.conversations
            .iter()
            .filter(|c| c.failure.is_none())
            .count()
    }

    pub fn failed(&self) -> usize {
        self.conversations.len() - self.passed()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationResult {
    pub title: String,
    pub line: usize,
    /// Messages sent.
    pub turns: usize,
    pub failure: Option<Failure>,
}

/// The first thing that did not hold, with what was expected and what came.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub line: usize,
    /// The message of the turn it happened in.
    pub input: Option<String>,
    pub message: String,
    pub expected: Vec<String>,
    pub got: Vec<String>,
}

/// Plays scripts against a server.
#[derive(Debug, Clone)]
pub struct Runner {
    target: Target,
    store: Store,
    clock: Option<ManualClock>,
    client: reqwest::Client,
    nonce: String,
}

/// What a turn left behind, as the runner sees it.
struct Observed {
    replies: Vec<String>,
    dialogue: Sid,
    ended: bool,
    end_reason: Option<String>,
    memory: serde_json::Map<String, Value>,
    task: Option<String>,
    errors: Vec<EngineError>,
}

impl Runner {
    /// `store` is the server's (the runner reads each turn's record there);
    /// `clock` the server's manual clock, for `now:` and `wait:`.
    pub fn new(target: Target, store: Store, clock: Option<ManualClock>) -> Runner {
        crate::fetch::install_crypto_provider();
        let mut bytes = [0u8; 4];
        let _ = getrandom::fill(&mut bytes);
        Runner {
            target,
            store,
            clock,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("a plain HTTP client builds"),
            nonce: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    pub async fn run(&self, script: &Script) -> Report {
        let mut conversations = Vec::new();
        for (index, conversation) in script.conversations.iter().enumerate() {
            conversations.push(self.run_one(index, conversation).await);
        }
        Report { conversations }
    }

    async fn run_one(&self, index: usize, conversation: &Conversation) -> ConversationResult {
        let user = conversation
            .user
            .clone()
            .unwrap_or_else(|| format!("otto-test-{}-{}", self.nonce, index + 1));
        let mut turns = 0;
        let mut previous: Option<Sid> = None;
        let mut failure = None;
        for step in &conversation.steps {
            let outcome = match step {
                Step::Now { line, at } => self.set_clock(*line, |clock| clock.set(at.timestamp())),
                Step::Wait { line, by } => {
                    self.set_clock(*line, |clock| clock.advance(by.num_seconds()))
                }
                Step::Turn(turn) => {
                    turns += 1;
                    self.play(&user, turn, &mut previous).await
                }
            };
            if let Err(found) = outcome {
                failure = Some(found);
                break;
            }
        }
        ConversationResult {
            title: conversation.title.clone(),
            line: conversation.line,
            turns,
            failure,
        }
    }

    fn set_clock(&self, line: usize, change: impl FnOnce(&ManualClock)) -> Result<(), Failure> {
        match &self.clock {
            Some(clock) => {
                change(clock);
                Ok(())
            }
            None => Err(Failure {
                line,
                input: None,
                message: "`now:` and `wait:` need the test clock, which this run does not have"
                    .into(),
                expected: vec![],
                got: vec![],
            }),
        }
    }

    async fn play(
        &self,
        user: &str,
        turn: &Turn,
        previous: &mut Option<Sid>,
    ) -> Result<(), Failure> {
        let fail =
            |line: usize, message: String, expected: Vec<String>, got: Vec<String>| Failure {
                line,
                input: Some(turn.text.clone()),
                message,
                expected,
                got,
            };
        let observed = self
            .send(user, turn)
            .await
            .map_err(|message| fail(turn.line, message, vec![], vec![]))?;
        let before = previous.replace(observed.dialogue.clone());

        if !turn.replies.is_empty() {
            let matches = turn.replies.len() == observed.replies.len()
                && turn
                    .replies
                    .iter()
                    .zip(&observed.replies)
                    .all(|((_, expect), reply)| expect.matches(reply));
            if !matches {
                let line = turn
                    .replies
                    .iter()
                    .zip(&observed.replies)
                    .find(|((_, expect), reply)| !expect.matches(reply))
                    .map_or(turn.replies[0].0, |((line, _), _)| *line);
                return Err(fail(
                    line,
                    format!(
                        "the replies differ ({} expected, {} received)",
                        turn.replies.len(),
                        observed.replies.len()
                    ),
                    turn.replies.iter().map(|(_, e)| e.written()).collect(),
                    observed.replies.clone(),
                ));
            }
        }

        let expected_errors: Vec<&str> = turn
            .checks
            .iter()
            .filter_map(|(_, check)| match check {
                Check::Error(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let error_texts: Vec<String> = observed.errors.iter().map(ToString::to_string).collect();
        if expected_errors.is_empty() && !error_texts.is_empty() {
            return Err(fail(
                turn.line,
                "the turn had errors the test does not expect (name them with `error: text`)"
                    .into(),
                vec![],
                error_texts,
            ));
        }

        for (line, check) in &turn.checks {
            let line = *line;
            match check {
                Check::Task(expected) => {
                    if &observed.task != expected {
                        return Err(fail(
                            line,
                            "the input led to another task".into(),
                            vec![format!("task: {}", expected.as_deref().unwrap_or("none"))],
                            vec![format!(
                                "task: {}",
                                observed.task.as_deref().unwrap_or("none")
                            )],
                        ));
                    }
                }
                Check::Memory { path, expected } => {
                    let found = memory_at(&observed.memory, path);
                    if !memory_matches(found, expected) {
                        return Err(fail(
                            line,
                            format!("memory.{path} differs"),
                            vec![format!("memory.{path}: {expected}")],
                            vec![format!(
                                "memory.{path}: {}",
                                found.map_or("(missing)".to_owned(), Value::to_string)
                            )],
                        ));
                    }
                }
                Check::Dialogue(expected) => {
                    let holds = match expected {
                        DialogueCheck::Active => !observed.ended,
                        DialogueCheck::Ended => observed.ended,
                        DialogueCheck::New => before.as_ref() != Some(&observed.dialogue),
                        DialogueCheck::Same => before.as_ref() == Some(&observed.dialogue),
                    };
                    if !holds {
                        let got = match expected {
                            DialogueCheck::Active | DialogueCheck::Ended => {
                                if observed.ended { "ended" } else { "active" }.to_owned()
                            }
                            _ => format!(
                                "{} (before: {})",
                                observed.dialogue,
                                before.as_ref().map_or("none", Sid::as_str)
                            ),
                        };
                        return Err(fail(
                            line,
                            "the dialogue is not as expected".into(),
                            vec![format!("dialogue: {}", dialogue_word(expected))],
                            vec![format!("dialogue: {got}")],
                        ));
                    }
                }
                Check::End(reason) => {
                    if observed.end_reason.as_deref() != Some(reason.as_str()) {
                        return Err(fail(
                            line,
                            "the dialogue did not end that way".into(),
                            vec![format!("end: {reason}")],
                            vec![format!(
                                "end: {}",
                                observed.end_reason.as_deref().unwrap_or("(still active)")
                            )],
                        ));
                    }
                }
                Check::Error(text) => {
                    if !error_texts
                        .iter()
                        .any(|error| error.contains(text.as_str()))
                    {
                        return Err(fail(
                            line,
                            "no error of the turn contains that text".into(),
                            vec![format!("error: {text}")],
                            error_texts.iter().map(|e| format!("error: {e}")).collect(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    async fn send(&self, user: &str, turn: &Turn) -> Result<Observed, String> {
        let url = format!(
            "{}/v2/{}/{}/custom/{}",
            self.target.base_url.trim_end_matches('/'),
            self.target.account.sid,
            self.target.assistant,
            self.target.channel
        );
        let mut form = vec![
            ("UserId", user.to_owned()),
            ("Text", turn.text.clone()),
            ("Language", "en-US".to_owned()),
        ];
        if let Some(task) = &turn.target_task {
            form.push(("TargetTask", task.clone()));
        }
        if let Some(context) = &turn.context {
            form.push(("Memory", context.clone()));
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .client
            .post(&url)
            .basic_auth(
                self.target.account.sid.as_str(),
                Some(&self.target.account.auth_token),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("reading the answer of {url}: {e}"))?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "the answer of {url} (HTTP {status}) is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
        if !status.is_success() {
            let message = json["message"].as_str().unwrap_or("(no message)");
            return Err(format!("the server answered HTTP {status}: {message}"));
        }
        let mut replies: Vec<String> = json["response"]["says"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|say| say["text"].as_str().unwrap_or_default().to_owned())
            .collect();
        replies.extend(
            json["response"]["shows"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|show| show["body"].as_str().unwrap_or_default().to_owned()),
        );
        let sid = json["dialogue"]["sid"]
            .as_str()
            .and_then(|sid| Sid::parse(sid).ok())
            .ok_or_else(|| format!("the answer has no dialogue SID: {json}"))?;
        let record = self
            .store
            .dialogue(&sid)
            .await
            .map_err(|e| format!("reading dialogue {sid}: {e}"))?;
        let turns = self
            .store
            .list_turns(&sid, &PageRequest::first(otto_store::MAX_PAGE_SIZE))
            .await
            .map_err(|e| format!("reading the turns of dialogue {sid}: {e}"))?;
        let last = turns
            .items
            .last()
            .ok_or_else(|| format!("dialogue {sid} has no turn record"))?;
        Ok(Observed {
            replies,
            dialogue: sid,
            ended: record.state.ended,
            end_reason: record.state.end_reason.map(|r| r.as_str().to_owned()),
            memory: record.state.memory,
            task: last.task.clone(),
            errors: recorded_errors(&last.output),
        })
    }
}

fn dialogue_word(check: &DialogueCheck) -> &'static str {
    match check {
        DialogueCheck::Active => "active",
        DialogueCheck::Ended => "ended",
        DialogueCheck::New => "new",
        DialogueCheck::Same => "same",
    }
}

fn memory_at<'a>(memory: &'a serde_json::Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = memory.get(parts.next()?)?;
    for part in parts {
        value = match value {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn memory_matches(found: Option<&Value>, expected: &str) -> bool {
    let parsed = serde_json::from_str::<Value>(expected).ok();
    match found {
        None => parsed == Some(Value::Null),
        Some(Value::String(text)) => {
            text == expected || parsed.as_ref() == Some(&Value::String(text.clone()))
        }
        Some(value) => parsed.as_ref() == Some(value),
    }
}

/// The report as people read it: one line per conversation, and for a
/// failure where it happened and what differed (`-` expected, `+` received).
pub fn render(file: &str, report: &Report) -> String {
    let mut out = String::new();
    for result in &report.conversations {
        match &result.failure {
            None => {
                let _ = writeln!(out, "ok      {} ({file}:{})", result.title, result.line);
            }
            Some(failure) => {
                let _ = writeln!(out, "FAILED  {} ({file}:{})", result.title, result.line);
                if let Some(input) = &failure.input {
                    let _ = writeln!(out, "        after > {input}");
                }
                let _ = writeln!(out, "        {file}:{}: {}", failure.line, failure.message);
                for line in &failure.expected {
                    let _ = writeln!(out, "        - {line}");
                }
                for line in &failure.got {
                    let _ = writeln!(out, "        + {line}");
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "{file}: {} passed, {} failed",
        report.passed(),
        report.failed()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_format() {
        let script = parse(
            "# greeting\n> hi\n< Hello!\n< ~ help\ntask: greeting\n\n\
             # comments only\n\n\
             user: u1\nnow: 2026-03-11T10:00:00Z\ntarget: book\ncontext: {\"a\": 1}\n>book\nmemory.a: 1\nwait: 4h30m\n>   \ndialogue: new\nend: completed\nerror: ~ 11200\n",
        )
        .unwrap();
        assert_eq!(script.conversations.len(), 2);
        let first = &script.conversations[0];
        assert_eq!(first.title, "greeting");
        assert_eq!(first.line, 1);
        assert_eq!(
            first.steps,
            [Step::Turn(Turn {
                line: 2,
                text: "hi".into(),
                target_task: None,
                context: None,
                replies: vec![
                    (3, Expect::Exact("Hello!".into())),
                    (4, Expect::Contains("help".into()))
                ],
                checks: vec![(5, Check::Task(Some("greeting".into())))],
            })]
        );
        let second = &script.conversations[1];
        assert_eq!(second.title, "conversation at line 9");
        assert_eq!(second.user.as_deref(), Some("u1"));
        assert_eq!(second.steps.len(), 4);
        assert_eq!(
            second.steps[1],
            Step::Turn(Turn {
                line: 13,
                text: "book".into(),
                target_task: Some("book".into()),
                context: Some("{\"a\": 1}".into()),
                replies: vec![],
                checks: vec![(
                    14,
                    Check::Memory {
                        path: "a".into(),
                        expected: "1".into()
                    }
                )],
            })
        );
        assert_eq!(
            second.steps[2],
            Step::Wait {
                line: 15,
                by: TimeDelta::minutes(270)
            }
        );
        match &second.steps[3] {
            Step::Turn(turn) => {
                // Trailing white space is not part of a message.
                assert_eq!(turn.text, "");
                assert_eq!(
                    turn.checks,
                    [
                        (17, Check::Dialogue(DialogueCheck::New)),
                        (18, Check::End("completed".into())),
                        (19, Check::Error("11200".into())),
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn precise_parse_errors() {
        let message = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            message("< Hello"),
            "line 1: a `<` reply needs a `> message` line before it"
        );
        assert_eq!(
            message("> hi\nwait: 5x"),
            "line 2: `wait:` takes a duration such as 4h, 30m, 1h30m, 90s or 2d, not \"5x\""
        );
        assert_eq!(
            message("> hi\ndialogue: over"),
            "line 2: `dialogue:` is one of new, same, active, ended, not \"over\""
        );
        assert_eq!(
            message("> hi\nfoo: bar"),
            "line 2: unknown check \"foo\": use task, memory.<path>, dialogue, end, error, now, wait, target, context or user"
        );
        assert!(
            message("> hi\nhello there").starts_with("line 2: \"hello there\" is not a test line")
        );
        assert_eq!(
            message("# nothing\n"),
            "line 1: no conversation: write at least one `> message` line"
        );
        assert_eq!(
            message("> hi\ntarget: x\n"),
            "line 1: `target:` or `context:` at the end of a conversation: they apply to the next `> message`"
        );
        assert_eq!(
            message("context: [1]\n> hi"),
            "line 1: `context:` takes a JSON object, such as {\"vip\": true}"
        );
        assert_eq!(
            message("> hi\nwait: 1h\ntask: x"),
            "line 3: `task:` needs a `> message` line before it"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("4h1m"),
            Some(TimeDelta::seconds(4 * 3600 + 60))
        );
        assert_eq!(parse_duration("2d"), Some(TimeDelta::days(2)));
        assert_eq!(parse_duration("90s"), Some(TimeDelta::seconds(90)));
        assert_eq!(parse_duration("4"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn memory_values() {
        let memory = serde_json::json!({"a": {"b": "4", "n": 4, "list": [true]}, "s": "x y"});
        let memory = memory.as_object().unwrap();
        assert!(memory_matches(memory_at(memory, "a.b"), "4"));
        assert!(memory_matches(memory_at(memory, "a.b"), "\"4\""));
        assert!(memory_matches(memory_at(memory, "a.n"), "4"));
        assert!(!memory_matches(memory_at(memory, "a.n"), "5"));
        assert!(memory_matches(memory_at(memory, "a.list.0"), "true"));
        assert!(memory_matches(memory_at(memory, "s"), "x y"));
        assert!(memory_matches(memory_at(memory, "missing"), "null"));
        assert!(!memory_matches(memory_at(memory, "missing"), "x"));
    }
}
