//! Test doubles: a keyword NLU, a scripted fetcher that records every request,
//! a fixed clock and a tiny executor.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, Duration, NaiveDate, TimeDelta, TimeZone, Utc};
use otto_engine::{
    ActionFetcher, Bot, DialogueState, Engine, EngineConfig, FetchError, InputKind,
    RecognizedField, RemoteRequest, SidSource, TurnInput, TurnResult, Understanding, Understood,
};
use otto_model::{ActionsDocument, Assistant, Defaults, Sid, SidPrefix, StyleSheet, Task};
use serde_json::{Map, Value, json};

/// Runs a future that never waits (the doubles answer at once).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
    panic!("the future did not complete");
}

/// 2024-03-01 12:00:00 UTC plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

pub fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

// ---------------------------------------------------------------- NLU double

/// Routes by keywords: the first task (in rule order) whose keyword occurs in
/// the lower-cased text wins; the second such task is the runner-up.
#[derive(Default)]
pub struct KeywordNlu {
    rules: Vec<(String, String)>,
    /// Whole-text matching (ignoring case and end punctuation) instead of substrings.
    exact: bool,
    number_fields: Vec<(String, String)>,
    custom_types: HashMap<String, Vec<String>>,
    pub parses: Mutex<Vec<(String, Option<Vec<String>>)>>,
    pub normalizations: Mutex<Vec<(String, String)>>,
}

impl KeywordNlu {
    pub fn new() -> KeywordNlu {
        KeywordNlu::default()
    }

    pub fn task(mut self, task: &str, keywords: &[&str]) -> KeywordNlu {
        for keyword in keywords {
            self.rules.push((keyword.to_lowercase(), task.to_owned()));
        }
        self
    }

    /// A field of `task` filled with the first number in the text.
    pub fn number_field(mut self, task: &str, field: &str) -> KeywordNlu {
        self.number_fields.push((task.to_owned(), field.to_owned()));
        self
    }

    pub fn custom_type(mut self, name: &str, values: &[&str]) -> KeywordNlu {
        self.custom_types.insert(
            name.to_owned(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }

    /// Exact-sample rules for every task of an imported assistant.
    pub fn from_samples(assistant: &Assistant) -> KeywordNlu {
        let mut nlu = KeywordNlu {
            exact: true,
            ..KeywordNlu::default()
        };
        for task in &assistant.tasks {
            for sample in &task.samples {
                if !sample.tagged_text.contains('{') {
                    nlu.rules
                        .push((simplify(&sample.tagged_text), task.unique_name.clone()));
                }
            }
        }
        nlu
    }

    pub fn parse_calls(&self) -> Vec<(String, Option<Vec<String>>)> {
        self.parses.lock().unwrap().clone()
    }
}

impl Understanding for KeywordNlu {
    fn parse(&self, text: &str, tasks: Option<&[String]>, _now: DateTime<Utc>) -> Understood {
        self.parses
            .lock()
            .unwrap()
            .push((text.to_owned(), tasks.map(<[String]>::to_vec)));
        let lower = text.to_lowercase();
        let simple = simplify(text);
        let hit = |keyword: &str| match self.exact {
            true => simple == keyword,
            false => lower.contains(keyword),
        };
        let allowed = |task: &String| tasks.is_none_or(|tasks| tasks.contains(task));
        let mut matches: Vec<&String> = Vec::new();
        for (keyword, task) in &self.rules {
            if hit(keyword) && allowed(task) && !matches.contains(&task) {
                matches.push(task);
            }
        }
        let Some(task) = matches.first() else {
            return Understood::default();
        };
        let fields = self
            .number_fields
            .iter()
            .filter(|(owner, _)| owner == *task)
            .filter_map(|(_, field)| {
                first_number(text).map(|n| RecognizedField::new(field, "Twilio.NUMBER", &n))
            })
            .collect();
        Understood {
            task: Some((*task).clone()),
            confidence: if matches.len() > 1 { 0.5 } else { 0.9 },
            next_best_task: matches.get(1).map(|t| (*t).clone()),
            fields,
        }
    }

    fn normalize(&self, field_type: &str, answer: &str, now: DateTime<Utc>) -> Option<String> {
        self.normalizations
            .lock()
            .unwrap()
            .push((field_type.to_owned(), answer.to_owned()));
        let lower = answer.trim().to_lowercase();
        match field_type {
            "Twilio.NUMBER" => first_number(&lower).or_else(|| number_word(&lower)),
            "Twilio.YES_NO" => match lower.as_str() {
                "yes" | "yeah" | "yep" | "sure" => Some("Yes".into()),
                "no" | "nope" => Some("No".into()),
                _ => None,
            },
            "Twilio.FIRST_NAME" => {
                let word = answer.trim();
                (!word.is_empty() && word.chars().all(char::is_alphabetic))
                    .then(|| capitalize(word))
            }
            "Twilio.DATE" => match lower.as_str() {
                "today" => Some(now.date_naive().to_string()),
                "tomorrow" => Some((now + Duration::days(1)).date_naive().to_string()),
                other => NaiveDate::parse_from_str(other, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.to_string()),
            },
            "Twilio.TIME" => lower
                .strip_suffix("pm")
                .and_then(|h| h.trim().parse::<u32>().ok())
                .map(|h| format!("{}:00", h + 12)),
            custom => match self.custom_types.get(custom) {
                Some(values) => values.iter().find(|v| v.to_lowercase() == lower).cloned(),
                None => Some(answer.trim().to_owned()),
            },
        }
    }
}

/// Lower case, single spaces, without the punctuation at the end.
fn simplify(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['?', '.', '!'])
        .to_owned()
}

fn first_number(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

fn number_word(text: &str) -> Option<String> {
    let words = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    words.iter().position(|w| *w == text).map(|n| n.to_string())
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

// ------------------------------------------------------------ fetcher double

/// Answers by URL from a script and records every request.
#[derive(Default)]
pub struct ScriptedFetcher {
    queued: Mutex<HashMap<String, VecDeque<Result<Value, FetchError>>>>,
    always: Mutex<HashMap<String, Result<Value, FetchError>>>,
    pub requests: Mutex<Vec<RemoteRequest>>,
}

impl ScriptedFetcher {
    /// Answers every request to `url` with `response`.
    pub fn always(&self, url: &str, response: Result<Value, FetchError>) {
        self.always.lock().unwrap().insert(url.to_owned(), response);
    }

    /// Answers the next request to `url` with `response` (before any `always`).
    pub fn once(&self, url: &str, response: Result<Value, FetchError>) {
        self.queued
            .lock()
            .unwrap()
            .entry(url.to_owned())
            .or_default()
            .push_back(response);
    }

    pub fn requests(&self) -> Vec<RemoteRequest> {
        self.requests.lock().unwrap().clone()
    }

    pub fn urls(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.url).collect()
    }
}

impl ActionFetcher for ScriptedFetcher {
    async fn fetch(&self, request: RemoteRequest) -> Result<Value, FetchError> {
        let url = request.url.clone();
        self.requests.lock().unwrap().push(request);
        if let Some(response) = self
            .queued
            .lock()
            .unwrap()
            .get_mut(&url)
            .and_then(VecDeque::pop_front)
        {
            return response;
        }
        self.always
            .lock()
            .unwrap()
            .get(&url)
            .cloned()
            .unwrap_or(Err(FetchError::Status { status: 404 }))
    }
}

// ------------------------------------------------------------------ harness

pub fn account_sid() -> Sid {
    Sid::from_number(SidPrefix::Account, 0xac)
}

pub fn assistant_sid() -> Sid {
    Sid::from_number(SidPrefix::Assistant, 0xa1)
}

/// `UK…0001`, `UK…0002`: the SIDs the sequence source hands out.
pub fn dialogue_sid(number: u128) -> Sid {
    Sid::from_number(SidPrefix::Dialogue, number)
}

pub fn task(name: &str, actions: Value) -> Task {
    let mut task = Task::new(name);
    task.actions =
        Some(ActionsDocument::from_value(&json!({"actions": actions})).expect("valid actions"));
    task
}

pub fn url_task(name: &str, url: &str) -> Task {
    let mut task = Task::new(name);
    task.actions_url = Some(url.to_owned());
    task
}

pub fn assistant(tasks: Vec<Task>, defaults: Value) -> Assistant {
    let mut assistant = Assistant::new("test-bot");
    assistant.tasks = tasks;
    assistant.defaults =
        Defaults::from_value(&json!({"defaults": defaults})).expect("valid defaults");
    assistant
}

pub fn with_style(mut assistant: Assistant, style: Value) -> Assistant {
    assistant.style_sheet =
        StyleSheet::from_value(&json!({"style_sheet": style})).expect("valid style sheet");
    assistant
}

/// An assistant, its NLU, an engine with a scripted fetcher and a clock.
pub struct Harness {
    pub assistant: Assistant,
    pub nlu: KeywordNlu,
    pub engine: Engine<ScriptedFetcher>,
    account_sid: Sid,
    assistant_sid: Sid,
}

impl Harness {
    pub fn new(assistant: Assistant, nlu: KeywordNlu) -> Harness {
        Harness::with_config(assistant, nlu, EngineConfig::default())
    }

    pub fn with_config(assistant: Assistant, nlu: KeywordNlu, config: EngineConfig) -> Harness {
        let config = EngineConfig {
            sids: SidSource::sequence(),
            api_base_url: "https://otto.test".into(),
            ..config
        };
        Harness {
            assistant,
            nlu,
            engine: Engine::new(ScriptedFetcher::default(), config),
            account_sid: account_sid(),
            assistant_sid: assistant_sid(),
        }
    }

    pub fn fetcher(&self) -> &ScriptedFetcher {
        self.engine.fetcher()
    }

    pub fn bot(&self) -> Bot<'_> {
        Bot {
            account_sid: &self.account_sid,
            assistant_sid: &self.assistant_sid,
            assistant: &self.assistant,
            understanding: &self.nlu,
            subscribed_events: None,
        }
    }

    pub fn turn(
        &self,
        state: Option<DialogueState>,
        input: TurnInput,
        now: DateTime<Utc>,
    ) -> TurnResult {
        block_on(self.engine.turn(self.bot(), state, input, now))
    }

    /// A message from the default user on SMS.
    pub fn say(&self, state: Option<DialogueState>, text: &str, now: DateTime<Utc>) -> TurnResult {
        self.turn(state, sms(text), now)
    }
}

pub const USER: &str = "+15550100";

pub fn sms(text: &str) -> TurnInput {
    TurnInput::message(USER, "sms", text)
}

pub fn voice(kind: InputKind, text: &str) -> TurnInput {
    TurnInput::message(USER, "voice", text).with_kind(kind)
}

/// The `text` of every say, in order.
pub fn texts(result: &TurnResult) -> Vec<String> {
    result
        .output
        .says
        .iter()
        .map(|say| say.text.clone())
        .collect()
}

/// The names of the events, in order.
pub fn event_names(result: &TurnResult) -> Vec<&'static str> {
    result
        .events
        .iter()
        .map(|event| event.kind.name())
        .collect()
}

pub fn error_kinds(result: &TurnResult) -> Vec<otto_engine::ErrorKind> {
    result.errors.iter().map(|error| error.kind).collect()
}
