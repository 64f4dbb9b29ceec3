//! The turn service: one inbound input, durable before its answer leaves.
//!
//! `lock_user` (one turn of a user at a time; a second message waits) → load
//! the assistant, its model and the user's dialogue → `Engine::turn` →
//! `UserLock::commit` (state, turn record, events in one transaction) → the
//! result goes back to the channel. The clock is injected, so tests move time
//! instead of sleeping.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use otto_engine::{
    Bot, Engine, EngineConfig, EngineError, Output, TurnInput, TurnResult, Understanding,
    Understood,
};
use otto_model::{Assistant, Sid};
use otto_store::{
    Account, Clock, CommittedTurn, Definition, DialogueRecord, ModelBuildStatus, NewEvent,
    PageRequest, ProcessedMessage, Store, StoreError, StoredTurn, TurnCommit, TurnRecord, UserLock,
};
use serde_json::Value;
use tracing::Instrument;

use crate::builds::{BuildError, Builds};
use crate::fetch::HttpFetcher;

/// How often a turn is run again when another process changed the user's
/// dialogue between loading and committing (only possible with several
/// processes on one SQLite file).
const COMMIT_ATTEMPTS: usize = 3;

/// Why a turn could not run. None of these is about the conversation itself
/// (those are [`EngineError`]s in the turn record): they are about the request.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("assistant {key:?} was not found in account {account}")]
    AssistantNotFound { key: String, account: Sid },
    #[error(
        "assistant {assistant} has no completed model build yet ({state}); send the message again when training is done"
    )]
    NotTrained { assistant: Sid, state: String },
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TurnError {
    fn from(error: StoreError) -> TurnError {
        TurnError::Store(error)
    }
}

/// A committed turn.
#[derive(Debug, Clone)]
pub struct TurnOutcome {
    pub assistant_sid: Sid,
    /// The engine's result; its `events` are empty: they went to the store
    /// with the commit (`committed.events_enqueued` says how many were queued).
    pub result: TurnResult,
    /// What the store holds now.
    pub committed: CommittedTurn,
}

/// What [`TurnService::turn_once`] did.
#[derive(Debug, Clone)]
pub enum Once {
    /// The first delivery of the message: the turn ran and was committed.
    Ran(Box<TurnOutcome>),
    /// A repeat of a message already processed: nothing ran.
    Repeated(Box<Repeated>),
}

/// A message that was already processed, and the turn it was answered with.
#[derive(Debug, Clone)]
pub struct Repeated {
    pub assistant_sid: Sid,
    pub processed: ProcessedMessage,
    /// `None` when the message was recorded without a turn.
    pub turn: Option<StoredTurn>,
}

impl Repeated {
    /// The output the first delivery answered with, read back from the turn
    /// record (`None` without a turn).
    pub fn output(&self) -> Option<Output> {
        let turn = self.turn.as_ref()?;
        serde_json::from_value(turn.output.get("output")?.clone()).ok()
    }
}

/// Runs turns for one account.
#[derive(Debug)]
pub struct TurnService {
    store: Store,
    account: Account,
    builds: Arc<Builds>,
    engine: Engine<HttpFetcher>,
    clock: Clock,
}

impl TurnService {
    pub fn new(
        store: Store,
        account: Account,
        builds: Arc<Builds>,
        fetcher: HttpFetcher,
        config: EngineConfig,
        clock: Clock,
    ) -> TurnService {
        TurnService {
            store,
            account,
            builds,
            engine: Engine::new(fetcher, config),
            clock,
        }
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn builds(&self) -> &Arc<Builds> {
        &self.builds
    }

    pub fn engine_config(&self) -> &EngineConfig {
        self.engine.config()
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.clock.now(), 0).unwrap_or_default()
    }

    /// Runs one input of a user of the assistant (addressed by SID or unique
    /// name) and commits it. Two inputs of one user run one after the other,
    /// in the order they took the user's lock.
    pub async fn turn(&self, assistant: &str, input: TurnInput) -> Result<TurnOutcome, TurnError> {
        let span = tracing::info_span!(
            "turn",
            assistant = tracing::field::Empty,
            user = %input.user_identifier,
            channel = %input.channel,
            dialogue_sid = tracing::field::Empty,
        );
        match self
            .turn_of(assistant, input, None)
            .instrument(span)
            .await?
        {
            Once::Ran(outcome) => Ok(*outcome),
            // Only a turn with a message SID can be a repeat.
            Once::Repeated(repeated) => Err(TurnError::Store(StoreError::DuplicateMessage {
                message_sid: repeated.processed.message_sid,
            })),
        }
    }

    /// Like [`TurnService::turn`], for an inbound message with an ID (Twilio's
    /// `MessageSid`; a call's step): the first delivery runs the turn and
    /// records the ID with it; a retry, even one arriving while the first is
    /// still running, waits for the user's lock and gets the turn stored the
    /// first time, without running or counting another.
    pub async fn turn_once(
        &self,
        assistant: &str,
        input: TurnInput,
        message_sid: &str,
    ) -> Result<Once, TurnError> {
        let span = tracing::info_span!(
            "turn",
            assistant = tracing::field::Empty,
            user = %input.user_identifier,
            channel = %input.channel,
            message_sid,
            dialogue_sid = tracing::field::Empty,
        );
        self.turn_of(assistant, input, Some(message_sid))
            .instrument(span)
            .await
    }

    /// Takes the user's lock and returns it with the assistant's definition
    /// as stored now. Definitions are kept in memory and checked against
    /// their stored version at every turn, so task actions changed through
    /// the REST API, here or on another instance, take effect at the next
    /// turn, as on Autopilot. The check is read with the user's dialogue
    /// (one statement on SQLite); an assistant not kept yet, or changed, is
    /// read again before the lock is taken.
    async fn lock_with_definition(
        &self,
        assistant: &str,
        user: &str,
    ) -> Result<(Arc<Definition>, UserLock), TurnError> {
        if let Some(kept) = self
            .store
            .kept_definition_by_key(&self.account.sid, assistant)
        {
            let (lock, version) = self
                .store
                .lock_user_with_definition_version(&kept.ids.sid, user, kept.version)
                .await?;
            if version == Some(kept.version) {
                return Ok((kept, lock));
            }
        }
        let definition = self.definition(assistant).await?;
        let lock = self.store.lock_user(&definition.ids.sid, user).await?;
        Ok((definition, lock))
    }

    /// The assistant's definition as stored now (kept in memory while its
    /// stored version is unchanged).
    async fn definition(&self, assistant: &str) -> Result<Arc<Definition>, TurnError> {
        match self
            .store
            .current_assistant(&self.account.sid, assistant)
            .await
        {
            Ok(definition) => Ok(definition),
            Err(StoreError::NotFound { .. }) => Err(TurnError::AssistantNotFound {
                key: assistant.to_owned(),
                account: self.account.sid.clone(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Runs the turn until its commit is accepted (at most
    /// [`COMMIT_ATTEMPTS`] runs); a run after the first gets the answers the
    /// earlier ones got from remote calls identical to its own (`replay`).
    async fn turn_of(
        &self,
        assistant_key: &str,
        input: TurnInput,
        message_sid: Option<&str>,
    ) -> Result<Once, TurnError> {
        crate::replay::keeping_calls(self.runs_of(assistant_key, input, message_sid)).await
    }

    async fn runs_of(
        &self,
        assistant_key: &str,
        input: TurnInput,
        message_sid: Option<&str>,
    ) -> Result<Once, TurnError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                crate::replay::next_run();
            }
            let (definition, mut lock) = self
                .lock_with_definition(assistant_key, &input.user_identifier)
                .await?;
            let Definition {
                ids,
                assistant,
                webhook_events,
                ..
            } = &*definition;
            tracing::Span::current().record("assistant", ids.sid.as_str());
            let model = match self.builds.model_for(ids, assistant).await {
                Ok(Some(model)) => model,
                // The kept definition was not checked against the store (a
                // cached dialogue), and only a commit would have: its build
                // may be gone or superseded. Read it before answering that
                // the assistant is not trained, or that its model is missing.
                _ if lock.definition_unchecked() && attempt < COMMIT_ATTEMPTS => {
                    lock.release_and_read_next_time();
                    continue;
                }
                Ok(None) => {
                    drop(lock);
                    return Err(TurnError::NotTrained {
                        state: self.build_state(&ids.sid).await,
                        assistant: ids.sid.clone(),
                    });
                }
                Err(error) => return Err(error.into()),
            };
            let bot = Bot {
                account_sid: &self.account.sid,
                assistant_sid: &ids.sid,
                assistant,
                understanding: &model.understanding,
                subscribed_events: Some(webhook_events),
            };
            if let Some(message_sid) = message_sid
                && let Some(processed) = lock.message_processed(message_sid).await?
            {
                drop(lock);
                return Ok(Once::Repeated(Box::new(
                    self.repeated(ids.sid.clone(), processed).await?,
                )));
            }
            if let Some(dialogue) = lock.dialogue() {
                tracing::Span::current().record("dialogue_sid", dialogue.sid.as_str());
            }
            let now = self.now();
            let mut result = self
                .engine
                .turn_after(bot, lock.dialogue().map(|d| &d.state), input.clone(), now)
                .await;
            tracing::Span::current().record("dialogue_sid", result.state.sid.as_str());
            let commit = TurnCommit {
                state: result.state.clone(),
                turn: Some(TurnRecord {
                    input: input.text.clone(),
                    output: turn_record_output(&result),
                    task: result.task.clone(),
                }),
                // Moved, not copied: each event holds the whole memory.
                events: std::mem::take(&mut result.events)
                    .into_iter()
                    .map(NewEvent::from_engine)
                    .collect(),
                message_sid: message_sid.map(str::to_owned),
            };
            match lock.commit(commit).await {
                Ok(committed) => {
                    log_turn(&result);
                    return Ok(Once::Ran(Box::new(TurnOutcome {
                        assistant_sid: ids.sid.clone(),
                        result,
                        committed,
                    })));
                }
                Err(
                    changed @ (StoreError::DialogueChanged { .. }
                    | StoreError::DefinitionChanged { .. }),
                ) if attempt < COMMIT_ATTEMPTS => {
                    tracing::warn!(attempt, "{changed}; running the turn again");
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The turn a processed message was answered with.
    async fn repeated(
        &self,
        assistant_sid: Sid,
        processed: ProcessedMessage,
    ) -> Result<Repeated, TurnError> {
        let turn = match (&processed.dialogue_sid, processed.turn_seq) {
            (Some(dialogue), Some(seq)) => {
                // Turns are listed by `seq`; the page after `seq - 1` starts with it.
                let page = PageRequest::at(1, &format!("PT{}", seq - 1));
                let mut turns = self.store.list_turns(dialogue, &page).await?;
                turns.items.pop().filter(|turn| turn.seq == seq)
            }
            _ => None,
        };
        tracing::info!(message_sid = %processed.message_sid, "a repeated message answered from the stored turn");
        Ok(Repeated {
            assistant_sid,
            processed,
            turn,
        })
    }

    async fn build_state(&self, assistant: &Sid) -> String {
        let page = self
            .store
            .list_model_builds(
                &self.account.sid,
                assistant.as_str(),
                &PageRequest::first(1000),
            )
            .await;
        match page.ok().and_then(|page| page.items.last().cloned()) {
            None => "no model build was started".to_owned(),
            Some(build) if build.status == ModelBuildStatus::Failed => format!(
                "its latest build {} failed with error {}",
                build.sid,
                build.error_code.unwrap_or_default()
            ),
            Some(build) => format!("build {} is {}", build.sid, build.status),
        }
    }

    /// Ends the dialogues that idled past the timeout (firing their
    /// `onDialogueEnd`) without waiting for the users' next input; returns
    /// how many ended.
    pub async fn expire_idle(&self, limit: u32) -> Result<usize, TurnError> {
        let now = self.now();
        let timeout = self.engine.config().idle_timeout;
        let idle_since = (now - timeout).timestamp();
        let mut ended = 0;
        for dialogue in self.store.idle_dialogues(idle_since, limit).await? {
            if self.expire(&dialogue).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    async fn expire(&self, dialogue: &DialogueRecord) -> Result<bool, TurnError> {
        let definition = match self
            .store
            .current_assistant(&dialogue.account_sid, dialogue.assistant_sid.as_str())
            .await
        {
            Ok(loaded) => loaded,
            // A deleted assistant: its dialogues are not ours to end.
            Err(StoreError::NotFound { .. }) => return Ok(false),
            Err(error) => return Err(error.into()),
        };
        let lock = self
            .store
            .lock_user(&dialogue.assistant_sid, &dialogue.user_identifier)
            .await?;
        let Some(state) = lock.state().filter(|state| state.sid == dialogue.sid) else {
            return Ok(false);
        };
        let bot = Bot {
            account_sid: &dialogue.account_sid,
            assistant_sid: &dialogue.assistant_sid,
            assistant: &definition.assistant,
            understanding: &NoUnderstanding,
            subscribed_events: Some(&definition.webhook_events),
        };
        let Some(expired) = self.engine.expire_idle(bot, state, self.now()) else {
            return Ok(false);
        };
        lock.commit(TurnCommit {
            state: expired.state,
            turn: None,
            events: expired
                .events
                .into_iter()
                .map(NewEvent::from_engine)
                .collect(),
            message_sid: None,
        })
        .await?;
        tracing::info!(dialogue_sid = %dialogue.sid, "idle dialogue ended");
        Ok(true)
    }

    /// Sweeps idle dialogues every `every`, until the process ends.
    pub async fn run_idle_sweeper(self: Arc<Self>, every: std::time::Duration) {
        loop {
            tokio::time::sleep(every).await;
            match self.expire_idle(500).await {
                Ok(0) => {}
                Ok(ended) => tracing::info!(ended, "idle dialogues ended"),
                Err(error) => tracing::error!(%error, "idle sweeper"),
            }
        }
    }

    /// The idle timeout as configured.
    pub fn idle_timeout(&self) -> TimeDelta {
        self.engine.config().idle_timeout
    }

    /// The assistant definition, for tools.
    pub async fn assistant(&self, key: &str) -> Result<(Sid, Assistant), TurnError> {
        match self.store.load_assistant(&self.account.sid, key).await {
            Ok((ids, assistant)) => Ok((ids.sid, assistant)),
            Err(StoreError::NotFound { .. }) => Err(TurnError::AssistantNotFound {
                key: key.to_owned(),
                account: self.account.sid.clone(),
            }),
            Err(error) => Err(error.into()),
        }
    }
}

/// What the turn record keeps: the channel-neutral output and how the input
/// was understood, with the operator-visible errors.
pub fn turn_record_output(result: &TurnResult) -> String {
    /// The record's JSON, written straight from the result (keys in
    /// alphabetical order, as they always were stored).
    #[derive(serde::Serialize)]
    struct Recorded<'a> {
        confidence: f64,
        errors: &'a [EngineError],
        fields: &'a [otto_engine::RecognizedField],
        next_best_task: &'a Option<String>,
        output: &'a Output,
        route: &'a otto_engine::Route,
        task: &'a Option<String>,
    }
    let recorded = Recorded {
        confidence: result.confidence,
        errors: &result.errors,
        fields: &result.fields,
        next_best_task: &result.next_best_task,
        output: &result.output,
        route: &result.route,
        task: &result.task,
    };
    // Plain data (strings, numbers, lists): serialising it cannot fail.
    serde_json::to_string(&recorded).expect("a turn record serialises")
}

/// The errors kept in a turn record by [`turn_record_output`].
pub fn recorded_errors(output: &Value) -> Vec<EngineError> {
    output
        .get("errors")
        .and_then(|errors| serde_json::from_value(errors.clone()).ok())
        .unwrap_or_default()
}

fn log_turn(result: &TurnResult) {
    for error in &result.errors {
        tracing::warn!(
            code = error.code,
            kind = ?error.kind,
            task = error.task.as_deref().unwrap_or(""),
            "{}",
            error.message
        );
    }
    tracing::info!(
        task = result.task.as_deref().unwrap_or(""),
        route = ?result.route,
        confidence = result.confidence,
        ended = result.state.ended,
        "turn"
    );
}

/// For ending idle dialogues, which needs no understanding.
struct NoUnderstanding;

impl Understanding for NoUnderstanding {
    fn parse(&self, _text: &str, _tasks: Option<&[String]>, _now: DateTime<Utc>) -> Understood {
        Understood::default()
    }

    fn normalize(&self, _field_type: &str, _answer: &str, _now: DateTime<Utc>) -> Option<String> {
        None
    }
}
