//! Dialogues (`UK…`), their turns, processed inbound messages, and the
//! per-user lock that makes turns of one user run one after another.
//!
//! A turn is: [`Store::lock_user`] (which also loads the user's active
//! dialogue), run the engine, [`UserLock::commit`] (dialogue state, turn
//! record, events and message SID in one transaction). The lock is held from
//! `lock_user` until `commit` or drop:
//! - inside the process, on both backends: an async mutex per (assistant,
//!   user), so turns waiting in this process hold no database connection;
//! - across processes, on PostgreSQL: then a transaction holding
//!   `pg_advisory_xact_lock(hash(assistant, user))` until the commit, so every
//!   process sharing the database waits for it.
//!
//! Either way the commit also checks that the active dialogue is still the
//! one that was loaded (SID and version); if not (another process on a shared
//! SQLite file), it fails with [`StoreError::DialogueChanged`] instead of
//! losing an update. Different users never wait for each other's lock.

use std::sync::Arc;

use otto_engine::DialogueState;
use otto_model::Sid;
use sqlx::any::AnyRow;

use crate::db::{Arg, Backend, Store, Tx, int, query_with, resolve_assistant, sid, text};
use crate::direct::ready;
use crate::error::{ResourceKind, Result, StoreError};
use crate::events::{NewEvent, enqueue};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};
use crate::sql::{DIALOGUE_COLUMNS, SqlConn};

/// A stored dialogue.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogueRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub user_identifier: String,
    pub channel: String,
    /// The engine's state: memory, what it waits for, current task…
    pub state: DialogueState,
    /// At most one active dialogue per (assistant, user).
    pub active: bool,
    /// Bumped by every write; what the commit check compares.
    pub version: i64,
    pub turn_count: i64,
    /// Epoch seconds of the last input.
    pub last_input_at: i64,
    pub date_created: i64,
    pub date_updated: i64,
}

/// What one turn adds to the dialogue's history.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRecord {
    /// The user's input as received.
    pub input: String,
    /// What the assistant answered (the rendered output), as JSON text:
    /// serialised by the caller straight from its own types, stored as it is.
    pub output: String,
    /// The task the input led to.
    pub task: Option<String>,
}

/// A stored turn.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTurn {
    pub dialogue_sid: Sid,
    /// 1, 2, 3… within the dialogue.
    pub seq: i64,
    pub assistant_sid: Sid,
    pub input: String,
    pub output: serde_json::Value,
    pub task: Option<String>,
    pub message_sid: Option<String>,
    pub date_created: i64,
}

/// Everything one turn writes, atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnCommit {
    /// The new state (a new SID starts a new dialogue and deactivates the
    /// user's previous one; `ended` makes it inactive).
    pub state: DialogueState,
    /// `None` for a state change without input (an idle sweeper ending it).
    pub turn: Option<TurnRecord>,
    /// Fanned out to the subscribed webhooks of the assistant.
    pub events: Vec<NewEvent>,
    /// The inbound message (Twilio `MessageSid`); recorded so a retry of it
    /// is refused with [`StoreError::DuplicateMessage`].
    pub message_sid: Option<String>,
}

/// What a commit stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedTurn {
    /// Shared with the SQLite dialogue cache, which keeps it for the next turn.
    pub dialogue: Arc<DialogueRecord>,
    /// The turn's `seq`, when a turn was recorded.
    pub turn_seq: Option<i64>,
    /// Event deliveries queued.
    pub events_enqueued: usize,
}

/// A processed inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedMessage {
    pub message_sid: String,
    pub assistant_sid: Sid,
    pub dialogue_sid: Option<Sid>,
    pub turn_seq: Option<i64>,
    pub date_created: i64,
}

/// Counts for a period, for usage reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub dialogues_started: i64,
    pub turns: i64,
    pub inbound_messages: i64,
    pub queries: i64,
}

pub(crate) fn dialogue_from_row(row: &AnyRow) -> Result<DialogueRecord> {
    RawDialogue {
        sid: text(row, "sid")?,
        account_sid: text(row, "account_sid")?,
        assistant_sid: text(row, "assistant_sid")?,
        user_identifier: text(row, "user_identifier")?,
        channel: text(row, "channel")?,
        state: text(row, "state")?,
        active: int(row, "active")?,
        version: int(row, "version")?,
        turn_count: int(row, "turn_count")?,
        last_input_at: int(row, "last_input_at")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    }
    .into_record()
}

/// A dialogue row as read, before its SIDs and state are parsed (shared by
/// the sqlx and the direct SQLite readers).
pub(crate) struct RawDialogue {
    pub(crate) sid: String,
    pub(crate) account_sid: String,
    pub(crate) assistant_sid: String,
    pub(crate) user_identifier: String,
    pub(crate) channel: String,
    pub(crate) state: String,
    pub(crate) active: i64,
    pub(crate) version: i64,
    pub(crate) turn_count: i64,
    pub(crate) last_input_at: i64,
    pub(crate) date_created: i64,
    pub(crate) date_updated: i64,
}

impl RawDialogue {
    pub(crate) fn into_record(self) -> Result<DialogueRecord> {
        let parse = |value: &str, column: &str| {
            Sid::parse(value)
                .map_err(|error| StoreError::corrupt(format!("column {column}"), error))
        };
        let sid = parse(&self.sid, "sid")?;
        let state: DialogueState = serde_json::from_str(&self.state)
            .map_err(|error| StoreError::corrupt(format!("state of dialogue {sid}"), error))?;
        Ok(DialogueRecord {
            account_sid: parse(&self.account_sid, "account_sid")?,
            assistant_sid: parse(&self.assistant_sid, "assistant_sid")?,
            user_identifier: self.user_identifier,
            channel: self.channel,
            state,
            active: self.active != 0,
            version: self.version,
            turn_count: self.turn_count,
            last_input_at: self.last_input_at,
            date_created: self.date_created,
            date_updated: self.date_updated,
            sid,
        })
    }
}

/// The advisory-lock key of a user of an assistant: FNV-1a (64 bit), stable
/// across processes and builds.
pub(crate) fn lock_key(assistant: &Sid, user: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in assistant
        .as_str()
        .bytes()
        .chain(std::iter::once(0))
        .chain(user.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

fn describe(dialogue: Option<(&Sid, i64)>) -> String {
    match dialogue {
        Some((sid, version)) => format!("dialogue {sid} version {version}"),
        None => "no active dialogue".to_owned(),
    }
}

/// A user of an assistant, as the in-process lock table and the SQLite
/// dialogue cache name them.
pub(crate) fn user_key(assistant: &Sid, user: &str) -> String {
    format!("{assistant}\u{0}{user}")
}

/// The in-process lock of one (assistant, user) on SQLite; frees its map
/// entry when the last holder or waiter is gone.
struct KeyGuard {
    store: Store,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let mut locks = self
            .store
            .inner
            .user_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.guard.take();
        if let Some(mutex) = locks.get(&self.key) {
            // Only the map holds it: nobody holds or waits for this key.
            if Arc::strong_count(mutex) == 1 {
                locks.remove(&self.key);
            }
        }
    }
}

/// What a [`UserLock`] holds. On PostgreSQL the transaction is dropped (rolled
/// back, releasing the advisory lock) before the in-process guard.
enum Held {
    Postgres(Tx, KeyGuard),
    Sqlite(KeyGuard),
}

/// Exclusive access to one user's dialogue with one assistant, until
/// [`UserLock::commit`] or drop (which releases it and writes nothing).
pub struct UserLock {
    store: Store,
    assistant_sid: Sid,
    user: String,
    held: Held,
    /// Shared with the SQLite dialogue cache: not copied per turn.
    loaded: Option<Arc<DialogueRecord>>,
    /// The definition version the commit must still find (see
    /// [`Store::lock_user_with_definition_version`]).
    check_definition: Option<i64>,
}

impl std::fmt::Debug for UserLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserLock")
            .field("assistant_sid", &self.assistant_sid)
            .field("user", &self.user)
            .field("loaded", &self.loaded.as_ref().map(|d| (&d.sid, d.version)))
            .finish()
    }
}

impl UserLock {
    /// The user's active dialogue as of taking the lock.
    pub fn dialogue(&self) -> Option<&DialogueRecord> {
        self.loaded.as_deref()
    }

    /// Whether the assistant's definition version went unread when the lock
    /// was taken (SQLite, a cached dialogue, see
    /// [`Store::lock_user_with_definition_version`]): the caller's kept
    /// definition is checked only by the commit.
    pub fn definition_unchecked(&self) -> bool {
        self.check_definition.is_some()
    }

    /// Releases the lock without a commit and forgets this process's cached
    /// copy of the user's dialogue, so that the next lock reads both the
    /// dialogue and the definition version: for a caller that cannot go on
    /// with an unchecked kept definition (it found no model for it).
    pub fn release_and_read_next_time(self) {
        if let Held::Sqlite(_) = &self.held
            && let Ok(direct) = self.store.direct()
        {
            direct.forget_dialogue(&self.assistant_sid, &self.user);
        }
    }

    /// The engine state to continue (`None`: the engine starts a new dialogue).
    pub fn state(&self) -> Option<DialogueState> {
        self.loaded.as_ref().map(|dialogue| dialogue.state.clone())
    }

    pub fn assistant_sid(&self) -> &Sid {
        &self.assistant_sid
    }

    pub fn user_identifier(&self) -> &str {
        &self.user
    }

    /// Whether this inbound message SID was already processed (a Twilio retry).
    pub async fn message_processed(
        &mut self,
        message_sid: &str,
    ) -> Result<Option<ProcessedMessage>> {
        match &mut self.held {
            Held::Postgres(tx, _) => tx.processed_message(message_sid).await,
            Held::Sqlite(_) => self
                .store
                .direct()?
                .read(|conn| ready(conn.processed_message(message_sid))),
        }
    }

    /// Stores the turn in one transaction and releases the lock.
    pub async fn commit(self, commit: TurnCommit) -> Result<CommittedTurn> {
        let UserLock {
            store,
            assistant_sid,
            user,
            held,
            loaded,
            check_definition,
        } = self;
        // Serialised here, on the caller's thread: on SQLite one writer
        // thread commits for every turn and should do nothing else.
        let state_text = serde_json::to_string(&commit.state)
            .map_err(|error| StoreError::invalid("dialogue state", error.to_string()))?;
        let job = CommitJob {
            assistant: assistant_sid,
            user,
            loaded,
            check_definition,
            commit,
            state_text,
            now: store.now(),
        };
        match held {
            Held::Postgres(mut tx, guard) => {
                let done = commit_in(&mut *tx, job).await?;
                tx.commit().await?;
                drop(guard);
                Ok(done)
            }
            Held::Sqlite(guard) => {
                // Group commit: the SQLite writer thread puts this turn in
                // one transaction with the others waiting, and answers after
                // that transaction committed.
                let done = store.direct()?.commit(job).await?;
                drop(guard);
                Ok(done)
            }
        }
    }
}

/// A turn's commit, with what the lock loaded.
#[derive(Debug)]
pub(crate) struct CommitJob {
    pub(crate) assistant: Sid,
    pub(crate) user: String,
    /// The active dialogue when the lock was taken.
    pub(crate) loaded: Option<Arc<DialogueRecord>>,
    /// The assistant's definition version the turn ran with, when it was not
    /// read when the lock was taken: the commit checks it first.
    pub(crate) check_definition: Option<i64>,
    pub(crate) commit: TurnCommit,
    /// `commit.state` as stored (JSON).
    pub(crate) state_text: String,
    /// Epoch seconds, by the store's clock.
    pub(crate) now: i64,
}

const UPDATE_LOADED_DIALOGUE: &str = "UPDATE dialogues SET channel = $1, state = $2, active = $3, version = version + 1, \
     turn_count = turn_count + $4, last_input_at = $5, date_updated = $6 \
     WHERE sid = $7 AND version = $8 AND active = 1";
/// [`UPDATE_LOADED_DIALOGUE`] for a dialogue that stays active: without
/// `active` in its `SET`, SQLite leaves the partial index of active
/// dialogues alone (one page fewer to write a turn, measured).
const UPDATE_LOADED_ACTIVE_DIALOGUE: &str = "UPDATE dialogues SET channel = $1, state = $2, version = version + 1, \
     turn_count = turn_count + $3, last_input_at = $4, date_updated = $5 \
     WHERE sid = $6 AND version = $7 AND active = 1";
const DEACTIVATE_USER_DIALOGUES: &str = "UPDATE dialogues SET active = 0, version = version + 1, date_updated = $1 \
     WHERE assistant_sid = $2 AND user_identifier = $3 AND active = 1";
const UPDATE_DIALOGUE: &str = "UPDATE dialogues SET channel = $1, state = $2, active = $3, version = version + 1, \
     turn_count = turn_count + $4, last_input_at = $5, date_updated = $6 WHERE sid = $7";
const INSERT_DIALOGUE: &str = "INSERT INTO dialogues (sid, account_sid, assistant_sid, user_identifier, channel, state, active, version, turn_count, last_input_at, date_created, date_updated) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $10)";
const INSERT_TURN: &str = "INSERT INTO turns (dialogue_sid, seq, assistant_sid, input, output, task, message_sid, date_created) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const INSERT_MESSAGE: &str = "INSERT INTO inbound_messages (message_sid, assistant_sid, dialogue_sid, turn_seq, date_created) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_sid) DO NOTHING";

/// Writes one turn inside the caller's transaction (which commits it); the
/// same code on PostgreSQL (sqlx) and on SQLite (the direct writer).
pub(crate) async fn commit_in<C: SqlConn>(conn: &mut C, job: CommitJob) -> Result<CommittedTurn> {
    let CommitJob {
        assistant,
        user,
        loaded,
        check_definition,
        commit:
            TurnCommit {
                state,
                turn,
                events,
                message_sid,
            },
        state_text,
        now,
    } = job;
    let (assistant, user) = (&assistant, user.as_str());
    if state.user_identifier != user {
        return Err(StoreError::invalid(
            "turn commit",
            format!(
                "the state belongs to user {:?}, the lock to user {user:?}",
                state.user_identifier
            ),
        ));
    }
    if let Some(expected) = check_definition {
        let found = conn.definition_version(assistant).await?;
        if found != Some(expected) {
            return Err(StoreError::DefinitionChanged {
                assistant_sid: assistant.to_string(),
                expected,
                found,
            });
        }
    }
    let active = i64::from(!state.ended);
    let last_input_at = state.last_input_at.timestamp();
    let counted = i64::from(turn.is_some());
    let dialogue = match loaded {
        // The common case: the turn goes on with the dialogue it loaded. One
        // UPDATE writes it and checks that nobody changed it meanwhile (the
        // version), and the record is known without reading it back.
        Some(current) if current.sid == state.sid => {
            let changed = if state.ended {
                let mut args =
                    update_args(&state, state_text, (active, counted, last_input_at, now));
                args.push(current.version.into());
                conn.execute(UPDATE_LOADED_DIALOGUE, args).await?
            } else {
                let args = vec![
                    state.channel.as_str().into(),
                    state_text.into(),
                    counted.into(),
                    last_input_at.into(),
                    now.into(),
                    (&state.sid).into(),
                    current.version.into(),
                ];
                conn.execute(UPDATE_LOADED_ACTIVE_DIALOGUE, args).await?
            };
            if changed != 1 {
                let found = conn.active_dialogue(assistant, user).await?;
                return Err(StoreError::DialogueChanged {
                    assistant_sid: assistant.to_string(),
                    user_identifier: user.to_owned(),
                    expected: describe(Some((&current.sid, current.version))),
                    found: describe(found.as_ref().map(|d| (&d.sid, d.version))),
                });
            }
            DialogueRecord {
                sid: current.sid.clone(),
                account_sid: current.account_sid.clone(),
                assistant_sid: current.assistant_sid.clone(),
                user_identifier: current.user_identifier.clone(),
                channel: state.channel.clone(),
                active: active != 0,
                version: current.version + 1,
                turn_count: current.turn_count + counted,
                last_input_at,
                date_created: current.date_created,
                date_updated: now,
                state,
            }
        }
        loaded => {
            let expected = loaded.as_ref().map(|d| (d.sid.clone(), d.version));
            write_other_dialogue(
                conn,
                assistant,
                user,
                expected,
                state,
                state_text,
                (active, counted, last_input_at, now),
            )
            .await?
        }
    };

    let dialogue = Arc::new(dialogue);
    let turn_seq = match turn {
        Some(turn) => {
            let seq = dialogue.turn_count;
            conn.execute(
                INSERT_TURN,
                vec![
                    (&dialogue.sid).into(),
                    seq.into(),
                    assistant.into(),
                    turn.input.into(),
                    turn.output.into(),
                    turn.task.into(),
                    message_sid.clone().into(),
                    now.into(),
                ],
            )
            .await?;
            Some(seq)
        }
        None => None,
    };
    let events_enqueued = enqueue(conn, assistant, &events, now).await?;
    if let Some(message_sid) = message_sid {
        let inserted = conn
            .execute(
                INSERT_MESSAGE,
                vec![
                    message_sid.as_str().into(),
                    assistant.into(),
                    (&dialogue.sid).into(),
                    turn_seq.into(),
                    now.into(),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::DuplicateMessage { message_sid });
        }
    }
    Ok(CommittedTurn {
        dialogue,
        turn_seq,
        events_enqueued,
    })
}

/// `$1`…`$7` of [`UPDATE_DIALOGUE`] and [`UPDATE_LOADED_DIALOGUE`].
fn update_args(
    state: &DialogueState,
    state_text: String,
    (active, counted, last_input_at, now): (i64, i64, i64, i64),
) -> Vec<Arg> {
    vec![
        state.channel.as_str().into(),
        state_text.into(),
        active.into(),
        counted.into(),
        last_input_at.into(),
        now.into(),
        (&state.sid).into(),
    ]
}

/// A commit that starts a new dialogue (or writes one the lock did not load):
/// the slow path, checking what is active and reading the result back.
async fn write_other_dialogue<C: SqlConn>(
    conn: &mut C,
    assistant: &Sid,
    user: &str,
    expected: Option<(Sid, i64)>,
    state: DialogueState,
    state_text: String,
    (active, counted, last_input_at, now): (i64, i64, i64, i64),
) -> Result<DialogueRecord> {
    let found = conn.dialogue_head(assistant, user).await?;
    let found = found.as_ref().map(|(sid, version)| (sid, *version));
    if found != expected.as_ref().map(|(sid, version)| (sid, *version)) {
        return Err(StoreError::DialogueChanged {
            assistant_sid: assistant.to_string(),
            user_identifier: user.to_owned(),
            expected: describe(expected.as_ref().map(|(sid, version)| (sid, *version))),
            found: describe(found),
        });
    }
    let existing = conn.dialogue_by_sid(&state.sid).await?;
    match &existing {
        Some(existing) => {
            if existing.assistant_sid != *assistant || existing.user_identifier != user {
                return Err(StoreError::invalid(
                    "turn commit",
                    format!(
                        "dialogue {} belongs to user {:?} of assistant {}",
                        state.sid, existing.user_identifier, existing.assistant_sid
                    ),
                ));
            }
            let args = update_args(&state, state_text, (active, counted, last_input_at, now));
            conn.execute(UPDATE_DIALOGUE, args).await?;
        }
        None => {
            // A new dialogue replaces the user's active one.
            conn.execute(
                DEACTIVATE_USER_DIALOGUES,
                vec![now.into(), assistant.into(), user.into()],
            )
            .await?;
            let account = conn.assistant_account(assistant).await?.ok_or_else(|| {
                StoreError::not_found(ResourceKind::Assistant, assistant.as_str(), None)
            })?;
            conn.execute(
                INSERT_DIALOGUE,
                vec![
                    (&state.sid).into(),
                    account.as_str().into(),
                    assistant.into(),
                    user.into(),
                    state.channel.as_str().into(),
                    state_text.into(),
                    active.into(),
                    counted.into(),
                    last_input_at.into(),
                    now.into(),
                ],
            )
            .await?;
            // What was just written: no need to read it back.
            return Ok(DialogueRecord {
                sid: state.sid.clone(),
                account_sid: Sid::parse(&account)
                    .map_err(|error| StoreError::corrupt("column account_sid", error))?,
                assistant_sid: assistant.clone(),
                user_identifier: user.to_owned(),
                channel: state.channel.clone(),
                state,
                active: active != 0,
                version: 1,
                turn_count: counted,
                last_input_at,
                date_created: now,
                date_updated: now,
            });
        }
    }
    conn.dialogue_by_sid(&state.sid)
        .await?
        .ok_or_else(|| StoreError::corrupt("dialogue", "it vanished while being written"))
}

impl Store {
    /// Takes the user's lock (waiting while another turn of the same user
    /// holds it) and loads the user's active dialogue.
    pub async fn lock_user(&self, assistant: &Sid, user: &str) -> Result<UserLock> {
        Ok(self.lock_user_reading(assistant, user, None).await?.0)
    }

    /// [`Store::lock_user`] for a caller that keeps the assistant's
    /// definition in memory at version `kept`: also returns the stored
    /// definition version (`None` when the assistant is gone), which the
    /// caller compares with `kept` instead of a read of its own.
    ///
    /// On SQLite, when this process holds the user's active dialogue in its
    /// cache, nothing is read: the version returned is `kept`, and the
    /// turn's commit checks both (the dialogue's version, as every commit
    /// does, and the definition's, refusing with
    /// [`StoreError::DefinitionChanged`]). That read was about an eighth of
    /// a turn's CPU (docs/performance.md); a change made meanwhile by another connection or process
    /// costs the turn a second run instead. Otherwise the definition
    /// version is read in the same statement as the user's dialogue.
    pub async fn lock_user_with_definition_version(
        &self,
        assistant: &Sid,
        user: &str,
        kept: i64,
    ) -> Result<(UserLock, Option<i64>)> {
        self.lock_user_reading(assistant, user, Some(kept)).await
    }

    async fn lock_user_reading(
        &self,
        assistant: &Sid,
        user: &str,
        kept_version: Option<i64>,
    ) -> Result<(UserLock, Option<i64>)> {
        // In-process first, on both backends: waiters of this process hold no
        // database connection while they wait.
        let key = user_key(assistant, user);
        let mutex = {
            let mut locks = self
                .inner
                .user_locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            locks.entry(key.clone()).or_default().clone()
        };
        let mut guard = KeyGuard {
            store: self.clone(),
            key,
            guard: None,
        };
        // The Arc clone inside `mutex` keeps the map entry while waiting.
        guard.guard = Some(mutex.lock_owned().await);
        let mut check_definition = None;
        let (held, loaded, version) = match self.backend() {
            Backend::Postgres => {
                let mut tx = self.inner.pool.begin().await?;
                sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                    .bind(lock_key(assistant, user))
                    .fetch_all(&mut *tx)
                    .await?;
                let version = match kept_version {
                    Some(_) => tx.definition_version(assistant).await?,
                    None => None,
                };
                let loaded = tx.active_dialogue(assistant, user).await?.map(Arc::new);
                (Held::Postgres(tx, guard), loaded, version)
            }
            Backend::Sqlite => {
                let direct = self.direct()?;
                let (loaded, version) = match kept_version {
                    Some(kept) => match direct.cached_dialogue(&guard.key) {
                        Some(cached) => {
                            check_definition = Some(kept);
                            (Some(cached), Some(kept))
                        }
                        None => direct.active_dialogue_and_definition_version(assistant, user)?,
                    },
                    None => (direct.active_dialogue(assistant, user)?, None),
                };
                (Held::Sqlite(guard), loaded, version)
            }
        };
        let lock = UserLock {
            store: self.clone(),
            assistant_sid: assistant.clone(),
            user: user.to_owned(),
            held,
            loaded,
            check_definition,
        };
        Ok((lock, version))
    }

    /// The user's active dialogue, without locking (for reads).
    pub async fn load_active_dialogue(
        &self,
        assistant: &Sid,
        user: &str,
    ) -> Result<Option<DialogueRecord>> {
        let mut conn = self.conn().await?;
        conn.active_dialogue(assistant, user).await
    }

    /// Lock, commit, unlock: for a caller that did not load the dialogue under
    /// the lock (it then overwrites whatever is active). Prefer
    /// [`Store::lock_user`] + [`UserLock::commit`] around a turn.
    pub async fn commit_turn(&self, assistant: &Sid, commit: TurnCommit) -> Result<CommittedTurn> {
        let user = commit.state.user_identifier.clone();
        let lock = self.lock_user(assistant, &user).await?;
        lock.commit(commit).await
    }

    /// `GET …/Dialogues/{Sid}`: only active dialogues are found.
    pub async fn fetch_dialogue(
        &self,
        account: &Sid,
        assistant: &str,
        dialogue: &str,
    ) -> Result<DialogueRecord> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let not_found = || {
            StoreError::not_found(
                ResourceKind::Dialogue,
                dialogue,
                Some(format!(
                    "assistant {assistant} (ended dialogues are not kept visible)"
                )),
            )
        };
        let Ok(sid) = Sid::parse_kind(dialogue, otto_model::SidPrefix::Dialogue) else {
            return Err(not_found());
        };
        match conn.dialogue_by_sid(&sid).await? {
            Some(record) if record.active && record.assistant_sid == assistant => Ok(record),
            _ => Err(not_found()),
        }
    }

    /// A dialogue by SID, active or not (for tools and tests).
    pub async fn dialogue(&self, sid: &Sid) -> Result<DialogueRecord> {
        let mut conn = self.conn().await?;
        conn.dialogue_by_sid(sid)
            .await?
            .ok_or_else(|| StoreError::not_found(ResourceKind::Dialogue, sid.as_str(), None))
    }

    /// A dialogue's turns in order.
    pub async fn list_turns(&self, dialogue: &Sid, page: &PageRequest) -> Result<Page<StoredTurn>> {
        let mut conn = self.conn().await?;
        let list = ListQuery {
            table: "turns",
            columns: "dialogue_sid, seq, assistant_sid, input, output, task, message_sid, date_created",
            filter: "dialogue_sid = $1".to_owned(),
            args: vec![dialogue.into()],
        };
        fetch_page(&mut conn, list, page).await?.try_map(|row| {
            Ok(StoredTurn {
                dialogue_sid: sid(&row, "dialogue_sid")?,
                seq: int(&row, "seq")?,
                assistant_sid: sid(&row, "assistant_sid")?,
                input: text(&row, "input")?,
                output: crate::db::json(&row, "output")?,
                task: crate::db::opt_text(&row, "task")?,
                message_sid: crate::db::opt_text(&row, "message_sid")?,
                date_created: int(&row, "date_created")?,
            })
        })
    }

    /// Active dialogues whose last input is before `idle_since`, oldest first
    /// (for a sweeper that ends them with `onDialogueEnd`).
    pub async fn idle_dialogues(&self, idle_since: i64, limit: u32) -> Result<Vec<DialogueRecord>> {
        let sql = format!(
            "SELECT {DIALOGUE_COLUMNS} FROM dialogues WHERE active = 1 AND last_input_at < $1 ORDER BY last_input_at, seq LIMIT $2"
        );
        query_with(sql, vec![idle_since.into(), i64::from(limit).into()])
            .fetch_all(&self.inner.pool)
            .await?
            .iter()
            .map(dialogue_from_row)
            .collect()
    }

    /// Whether an inbound message SID was processed (outside a turn).
    pub async fn message_processed(&self, message_sid: &str) -> Result<Option<ProcessedMessage>> {
        let mut conn = self.conn().await?;
        conn.processed_message(message_sid).await
    }

    /// Records an inbound message SID that is handled outside a turn; `false`
    /// when it was already recorded (answer the retry, do not count it again).
    pub async fn record_message(&self, assistant: &Sid, message_sid: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO inbound_messages (message_sid, assistant_sid, dialogue_sid, turn_seq, date_created) \
             VALUES ($1, $2, NULL, NULL, $3) ON CONFLICT (message_sid) DO NOTHING",
        )
        .bind(message_sid)
        .bind(assistant.as_str())
        .bind(self.now())
        .execute(&self.inner.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts for `[from, to)` (epoch seconds), for one assistant or all.
    pub async fn usage(&self, assistant: Option<&Sid>, from: i64, to: i64) -> Result<Usage> {
        let mut conn = self.conn().await?;
        let mut count = async |table: &str, column: &str| -> Result<i64> {
            let mut args = vec![from.into(), to.into()];
            let mut sql =
                format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} >= $1 AND {column} < $2");
            if let Some(assistant) = assistant {
                args.push(assistant.into());
                sql.push_str(" AND assistant_sid = $3");
            }
            let row = query_with(sql, args).fetch_one(&mut *conn).await?;
            int(&row, "n")
        };
        Ok(Usage {
            dialogues_started: count("dialogues", "date_created").await?,
            turns: count("turns", "date_created").await?,
            inbound_messages: count("inbound_messages", "date_created").await?,
            queries: count("queries", "date_created").await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_model::SidPrefix;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        let a = Sid::from_number(SidPrefix::Assistant, 1);
        let b = Sid::from_number(SidPrefix::Assistant, 2);
        assert_eq!(lock_key(&a, "+15550100"), lock_key(&a, "+15550100"));
        assert_ne!(lock_key(&a, "+15550100"), lock_key(&b, "+15550100"));
        assert_ne!(lock_key(&a, "+15550100"), lock_key(&a, "+15550101"));
        // Pinned: a change would let old and new processes lock different keys.
        assert_eq!(lock_key(&a, "u"), PINNED_U);
    }

    const PINNED_U: i64 = 6_488_457_913_840_264_607;

    #[tokio::test]
    async fn the_sqlite_lock_table_forgets_idle_users() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("locks.db").display());
        let store = Store::connect(&url).await.unwrap();
        let assistant = Sid::from_number(SidPrefix::Assistant, 1);
        let first = store.lock_user(&assistant, "a").await.unwrap();
        let second = store.lock_user(&assistant, "b").await.unwrap();
        assert_eq!(store.inner.user_locks.lock().unwrap().len(), 2);
        drop(first);
        assert_eq!(store.inner.user_locks.lock().unwrap().len(), 1);
        // A waiter keeps the entry alive while the holder lets go.
        let waiter = tokio::spawn({
            let store = store.clone();
            let assistant = assistant.clone();
            async move { store.lock_user(&assistant, "b").await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(second);
        waiter.await.unwrap().unwrap();
        assert_eq!(store.inner.user_locks.lock().unwrap().len(), 0);
    }
}
