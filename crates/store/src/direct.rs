//! The turn path on SQLite, talking to SQLite directly (rusqlite) instead of
//! through sqlx.
//!
//! sqlx's SQLite driver runs every connection on a thread of its own and
//! hands each statement to it over a channel; those thread hand-offs were
//! most of what a turn cost (docs/performance.md). Here:
//! - **reads** (the user's active dialogue, a processed message, the
//!   assistant's definition version) run on the caller's thread, on a pooled
//!   read-only connection: in WAL mode readers never wait for the writer, and
//!   an indexed point query takes microseconds;
//! - **commits** go to one writer thread that puts every turn waiting at that
//!   moment into one transaction (group commit), each turn in a savepoint so
//!   that one refused turn (its dialogue changed, a repeated message) does not
//!   take the others with it, and answers each only after `COMMIT` returned;
//! - a dialogue this process committed is reused from memory while its stored
//!   SID and version are unchanged ([`DialogueCache`]);
//! - a checkpoint thread copies the WAL into the database file, and now and
//!   then, between two of the writer's transactions, lets the WAL start over
//!   (see [`run_checkpointer`]): no commit pays for a checkpoint's `fsync`.
//!
//! Everything else on SQLite (the REST API, builds, events) stays on sqlx;
//! both meet at SQLite's own locks, waiting up to the busy timeout.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use otto_model::Sid;
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, OpenFlags, OptionalExtension, ToSql, params_from_iter};
use tokio::sync::oneshot;

use crate::db::Arg;
use crate::dialogues::commit_in;
use crate::dialogues::{CommitJob, CommittedTurn, DialogueRecord, ProcessedMessage, RawDialogue};
use crate::error::{Result, StoreError};
use crate::sql::{
    ASSISTANT_ACCOUNT, DEFINITION_VERSION, DEFINITION_VERSION_AND_DIALOGUE_HEAD, DIALOGUE_COLUMNS,
    DIALOGUE_HEAD, PROCESSED_MESSAGE, SqlConn, WEBHOOK_SUBSCRIPTIONS, assistant_version_sql,
};

/// Most turns put in one transaction: bounds how long the first of them
/// waits for the others' statements.
const MAX_BATCH: usize = 64;

/// Read connections kept for reuse; more are opened under bursts and closed
/// afterwards.
const KEPT_READERS: usize = 8;

/// How often the WAL is copied into the database file. Under load a turn
/// adds a few pages to the WAL; copying often keeps each checkpoint short
/// and the WAL small (it is reused from its start once all of it is copied).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// How a RESTART checkpoint waits for readers to leave the WAL (and so the
/// writer for it): in short naps, as a turn's read takes microseconds where
/// SQLite's own busy handler would sleep 1 ms, then 2, then 5; and not for
/// long (10 ms), as a long read through the REST API may hold on: the next
/// pass tries again. (Measured under load: readers were never in the way;
/// what the writer waits for is the restart's copy and its `fsync`s.)
const RESTART_NAP: Duration = Duration::from_micros(50);
const RESTART_NAPS: i32 = 200;

/// The writer's own checkpoint, only a safety net should the checkpoint
/// thread fall behind (128 MB of WAL).
const WRITER_CHECKPOINT_PAGES: i64 = 32_768;

/// Dialogues kept in memory per generation of [`DialogueCache`].
const CACHED_DIALOGUES: usize = 4096;

/// How the direct connections are set up (as sqlx's are, see `db.rs`).
#[derive(Debug, Clone)]
pub(crate) struct DirectSettings {
    pub(crate) path: PathBuf,
    pub(crate) busy_timeout: Duration,
    pub(crate) synchronous_full: bool,
    /// WAL size (frames, one page each) from which the checkpoint thread
    /// makes the WAL start over from its beginning: rarely enough that the
    /// writer's short wait for it (copying the last frames, two `fsync`s)
    /// touches few turns, often enough to bound the file.
    pub(crate) wal_restart_frames: u32,
}

/// Direct SQLite access for the turn path: a pool of read connections and
/// the group-commit writer thread.
pub(crate) struct Direct {
    settings: DirectSettings,
    readers: Mutex<Vec<Connection>>,
    /// `None` once closed; the writer thread ends when this sender is gone.
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    /// Dropped to stop the checkpoint thread.
    checkpointer: Mutex<Option<mpsc::Sender<()>>>,
    closed: AtomicBool,
    dialogues: Mutex<DialogueCache>,
}

/// Active dialogues as this process last committed or read them. Reading a
/// dialogue's state back means parsing its JSON (memory, a pending collect
/// with its questions…), which was the largest cost of a turn's reads. A
/// turn that holds its user's cached record reads nothing before it runs
/// ([`Direct::cached_dialogue`]): its commit's versioned `UPDATE` and its
/// definition check refuse it if another connection or process changed
/// either meanwhile, the record leaves the cache, and the turn runs again
/// from a fresh read. Other callers read the stored SID and version first
/// ([`Direct::active_dialogue`]).
///
/// Two generations approximate least-recently-used eviction: when the young
/// one is full it becomes the old one, and what is used again is promoted.
#[derive(Default)]
struct DialogueCache {
    young: HashMap<String, Arc<DialogueRecord>>,
    old: HashMap<String, Arc<DialogueRecord>>,
}

impl DialogueCache {
    fn key(assistant: &Sid, user: &str) -> String {
        crate::dialogues::user_key(assistant, user)
    }

    fn get(&mut self, key: &str) -> Option<Arc<DialogueRecord>> {
        if let Some(found) = self.young.get(key) {
            return Some(found.clone());
        }
        let found = self.old.remove(key)?;
        drop_elsewhere(self.insert(key.to_owned(), found.clone()));
        Some(found)
    }

    /// Returns the generation it evicted, if any, for the caller to drop
    /// outside the cache's lock ([`drop_elsewhere`]).
    #[must_use]
    fn insert(
        &mut self,
        key: String,
        record: Arc<DialogueRecord>,
    ) -> Option<HashMap<String, Arc<DialogueRecord>>> {
        let mut evicted = None;
        if self.young.len() >= CACHED_DIALOGUES && !self.young.contains_key(&key) {
            evicted = Some(std::mem::replace(
                &mut self.old,
                std::mem::take(&mut self.young),
            ));
        }
        self.young.insert(key, record);
        evicted
    }

    fn remove(&mut self, key: &str) {
        self.young.remove(key);
        self.old.remove(key);
    }
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("settings", &self.settings)
            .finish()
    }
}

/// A commit waiting for the writer thread.
struct Job {
    commit: CommitJob,
    reply: oneshot::Sender<Result<CommittedTurn>>,
}

impl Direct {
    /// Opens the writer connection and starts its thread. The database must
    /// exist and be migrated.
    pub(crate) fn open(settings: DirectSettings) -> Result<Direct> {
        let writer = open_writer(&settings)?;
        let checkpointer = open_writer(&settings)?;
        checkpointer.busy_handler(Some(nap_while_readers_leave))?;
        let (sender, jobs) = mpsc::channel();
        let (stop, stopped) = mpsc::channel::<()>();
        let between_transactions = Arc::new(Mutex::new(()));
        let restart_at = i64::from(settings.wal_restart_frames);
        let writer_gate = between_transactions.clone();
        spawn("otto-sqlite-writer", move || {
            run_writer(writer, jobs, &writer_gate)
        })?;
        spawn("otto-sqlite-checkpoint", move || {
            run_checkpointer(checkpointer, stopped, restart_at, &between_transactions)
        })?;
        Ok(Direct {
            settings,
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(Some(sender)),
            checkpointer: Mutex::new(Some(stop)),
            closed: AtomicBool::new(false),
            dialogues: Mutex::new(DialogueCache::default()),
        })
    }

    /// The user's active dialogue: the cached record if the stored one is
    /// still that version, else read (and cached).
    pub(crate) fn active_dialogue(
        &self,
        assistant: &Sid,
        user: &str,
    ) -> Result<Option<Arc<DialogueRecord>>> {
        let head = |conn: &mut Connection| Ok((ready(conn.dialogue_head(assistant, user))?, ()));
        Ok(self.load_active_dialogue(assistant, user, head)?.0)
    }

    /// The user's active dialogue as this process last committed or read it,
    /// without reading the database: a commit that goes on with it checks
    /// that it is still the stored version. `key` is the user's
    /// [`crate::dialogues::user_key`], which the caller's lock already holds.
    pub(crate) fn cached_dialogue(&self, key: &str) -> Option<Arc<DialogueRecord>> {
        self.cache().get(key)
    }

    /// Drops the cached copy of the user's dialogue: the next lock reads it.
    pub(crate) fn forget_dialogue(&self, assistant: &Sid, user: &str) {
        self.cache().remove(&DialogueCache::key(assistant, user));
    }

    /// [`Direct::active_dialogue`] and the assistant's definition version
    /// (`None` when it is gone), read with the dialogue's head in one
    /// statement.
    pub(crate) fn active_dialogue_and_definition_version(
        &self,
        assistant: &Sid,
        user: &str,
    ) -> Result<(Option<Arc<DialogueRecord>>, Option<i64>)> {
        let head = |conn: &mut Connection| {
            let mut statement = conn.prepare_cached(DEFINITION_VERSION_AND_DIALOGUE_HEAD)?;
            let row = statement
                .query_row([assistant.as_str(), user], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                })
                .optional()?;
            let Some((version, sid, dialogue_version)) = row else {
                return Ok((None, None));
            };
            let head = match (sid, dialogue_version) {
                (Some(sid), Some(dialogue_version)) => {
                    Some((parse_sid(sid, "sid")?, dialogue_version))
                }
                _ => None,
            };
            Ok((head, Some(version)))
        };
        self.load_active_dialogue(assistant, user, head)
    }

    /// Reads the head of the user's active dialogue with `head` (which may
    /// read something else in the same statement, returned alongside), then
    /// the dialogue: from the cache when the head is the cached version.
    fn load_active_dialogue<T>(
        &self,
        assistant: &Sid,
        user: &str,
        head: impl FnOnce(&mut Connection) -> Result<(Option<(Sid, i64)>, T)>,
    ) -> Result<(Option<Arc<DialogueRecord>>, T)> {
        let key = DialogueCache::key(assistant, user);
        let cached = self.cache().get(&key);
        let (found, fresh, extra) = self.read(|conn| {
            let (stored, extra) = head(conn)?;
            match (stored, cached) {
                (None, _) => Ok((None, false, extra)),
                (Some((sid, version)), Some(record))
                    if record.sid == sid && record.version == version =>
                {
                    Ok((Some(record), false, extra))
                }
                (Some(_), _) => {
                    let record = ready(conn.active_dialogue(assistant, user))?;
                    Ok((record.map(Arc::new), true, extra))
                }
            }
        })?;
        match &found {
            None => self.cache().remove(&key),
            Some(record) if fresh => {
                let evicted = self.cache().insert(key, record.clone());
                drop_elsewhere(evicted);
            }
            Some(_) => {}
        }
        Ok((found, extra))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, DialogueCache> {
        self.dialogues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `read` on a read connection, on the caller's thread.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let kept = self
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut conn = match kept {
            Some(conn) => conn,
            None => open_reader(&self.settings)?,
        };
        let result = read(&mut conn);
        let mut readers = self
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if readers.len() < KEPT_READERS && !self.closed.load(Ordering::Acquire) {
            readers.push(conn);
        }
        result
    }

    /// Commits one turn with whatever else is waiting; returns once it is
    /// durable (or refused).
    pub(crate) async fn commit(&self, commit: CommitJob) -> Result<CommittedTurn> {
        let sender = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or_else(closed)?;
        let key = DialogueCache::key(&commit.assistant, &commit.user);
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job { commit, reply })
            .map_err(|_| writer_stopped())?;
        let result = answer.await.map_err(|_| commit_failed())?;
        // The user's lock is still held: no other turn of this user can
        // write the cache between the commit and here.
        match &result {
            Ok(done) if done.dialogue.active => {
                let evicted = self.cache().insert(key, done.dialogue.clone());
                drop_elsewhere(evicted);
            }
            _ => self.cache().remove(&key),
        }
        result
    }

    /// Refuses further reads and commits; the writer thread finishes the
    /// commits already queued and ends.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        self.checkpointer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        self.readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        *self.cache() = DialogueCache::default();
    }
}

/// Drops an evicted cache generation on a thread of its own: freeing a few
/// thousand dialogue states takes milliseconds, which a turn should not wait
/// for (nor, holding the cache's lock, every other turn).
fn drop_elsewhere(evicted: Option<HashMap<String, Arc<DialogueRecord>>>) {
    if let Some(evicted) = evicted.filter(|evicted| !evicted.is_empty()) {
        let _ = std::thread::Builder::new()
            .name("otto-cache-drop".to_owned())
            .spawn(move || drop(evicted));
    }
}

fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(run)
        .map(|_| ())
        .map_err(|error| StoreError::Sqlite {
            message: format!("cannot start the thread {name}: {error}"),
        })
}

/// Copies the WAL into the database file every [`CHECKPOINT_EVERY`], so that
/// no commit pays for a checkpoint (and its fsyncs). PASSIVE never waits for
/// readers or writers; what it cannot copy yet is copied next time. Ends
/// when the store is closed or dropped.
///
/// SQLite starts the WAL over only when a write transaction begins with all
/// of it copied, which under steady commits a concurrent checkpoint never
/// sees. So once the WAL holds `restart_at` frames, the thread takes
/// `between_transactions` (the writer holds it for each batch) and runs a
/// RESTART checkpoint: it copies the few frames written since the last pass
/// and waits for readers to leave the WAL, and the writer's next transaction
/// then writes from the WAL's start. The writer waits for that about three
/// times a second at 6,000 turns/s (1 ms each), instead of checkpointing
/// itself every thousand pages (a checkpoint in its commit: the p99 of
/// turns, docs/performance.md).
fn run_checkpointer(
    conn: Connection,
    stop: mpsc::Receiver<()>,
    restart_at: i64,
    between_transactions: &Mutex<()>,
) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let wal_frames = match checkpoint(&conn, "PASSIVE") {
            Ok(frames) => frames,
            Err(error) => {
                tracing::debug!(%error, "SQLite checkpoint");
                continue;
            }
        };
        if wal_frames >= restart_at {
            // What the RESTART copies and syncs while the writer waits should
            // be only what was written a moment before. A pass that could not
            // copy everything (the writer went on) leaves the database file
            // unsynced, so the RESTART's own `fsync` would flush every page
            // copied since the last restart: sync both files first, then copy
            // what was written meanwhile. Measured at 6,000 turns/s: the
            // writer waits 1.0 ms on average (at most 1.6) instead of 3.2-4.7.
            let _ = checkpoint(&conn, "PASSIVE");
            let _ = sync_files(&conn);
            let _ = checkpoint(&conn, "PASSIVE");
            let _writer_waits = between_transactions
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Err(error) = checkpoint(&conn, "RESTART") {
                tracing::debug!(%error, "SQLite checkpoint to restart the WAL");
            }
        }
    }
}

/// `fsync`s the connection's database file and its WAL through SQLite's own
/// file handles (opening and closing another descriptor of the file would
/// drop this process's POSIX locks on it). Only durability changes: a sync
/// is always safe, so a failure is only logged. Returns how many files were
/// synced.
fn sync_files(conn: &Connection) -> usize {
    use rusqlite::ffi;
    let mut synced = 0;
    for op in [
        ffi::SQLITE_FCNTL_FILE_POINTER,
        ffi::SQLITE_FCNTL_JOURNAL_POINTER,
    ] {
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: the handle is this thread's open connection; SQLite writes
        // the file's pointer (or leaves null) into `file`, whose methods are
        // checked before use; the connection is used by no other thread.
        unsafe {
            let found = ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                op,
                (&raw mut file).cast(),
            );
            if found != ffi::SQLITE_OK || file.is_null() || (*file).pMethods.is_null() {
                continue;
            }
            match (*(*file).pMethods).xSync {
                Some(sync) if sync(file, ffi::SQLITE_SYNC_NORMAL) == ffi::SQLITE_OK => synced += 1,
                _ => tracing::debug!(op, "SQLite file sync failed"),
            }
        }
    }
    synced
}

/// The checkpoint thread's busy handler (see [`RESTART_NAP`]).
fn nap_while_readers_leave(naps_so_far: i32) -> bool {
    if naps_so_far >= RESTART_NAPS {
        return false;
    }
    std::thread::sleep(RESTART_NAP);
    true
}

/// Runs a checkpoint; returns the WAL's size in frames before it.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        row.get::<_, i64>(1)
    })
}

fn closed() -> StoreError {
    StoreError::Unavailable {
        message: "the store was closed".to_owned(),
        source: None,
    }
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable {
        message: "the SQLite writer thread stopped".to_owned(),
        source: None,
    }
}

/// The writer dropped a turn's reply without answering: its batch panicked
/// and was rolled back.
fn commit_failed() -> StoreError {
    StoreError::Sqlite {
        message: "the SQLite writer failed while committing this turn (nothing of it was kept; the server log says why)".to_owned(),
    }
}

fn open_reader(settings: &DirectSettings) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(&settings.path, flags)?;
    conn.busy_timeout(settings.busy_timeout)?;
    // No memory map: the file grows at every checkpoint under load, and each
    // connection then re-maps it at its next read (munmap, mmap and a TLB
    // shootdown on every core), which cost more than copying the few pages
    // a turn reads (measured: 5-8 % more turns a second without).
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

fn open_writer(settings: &DirectSettings) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    // Each commit's WAL frames in one write (see `wal_writes`).
    let conn = match crate::wal_writes::vfs_name() {
        Some(vfs) => Connection::open_with_flags_and_vfs(&settings.path, flags, vfs)?,
        None => Connection::open_with_flags(&settings.path, flags)?,
    };
    conn.busy_timeout(settings.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // As on sqlx's connections: NORMAL fsyncs at checkpoints (a commit is in
    // the WAL, with the OS, before it returns: a process crash loses
    // nothing), FULL at every commit.
    let synchronous = if settings.synchronous_full {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    // See `open_reader`.
    conn.pragma_update(None, "mmap_size", 0)?;
    // The checkpoint thread (`run_checkpointer`) copies the WAL and makes it
    // start over; the writer checkpoints only if that thread fell far behind.
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer thread: takes the first waiting commit, then every other one
/// already queued, and commits them together.
fn run_writer(mut conn: Connection, jobs: mpsc::Receiver<Job>, between_transactions: &Mutex<()>) {
    serve_batches(&mut conn, &jobs, between_transactions, commit_batch);
}

/// The writer's loop, apart from what a batch is: a batch that panics (a
/// bug) answers its callers with an error (their replies are dropped, none
/// was acknowledged), is rolled back, and the writer goes on with the next
/// one instead of leaving every later turn without a writer.
fn serve_batches<J>(
    conn: &mut Connection,
    jobs: &mpsc::Receiver<J>,
    between_transactions: &Mutex<()>,
    mut commit: impl FnMut(&mut Connection, Vec<J>),
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let _transaction = between_transactions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let done =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(&mut *conn, batch)));
        if done.is_err() {
            tracing::error!("the SQLite writer panicked in a commit; its batch was rolled back");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
}

/// One transaction for the batch; each turn in a savepoint unless it needs
/// none ([`needs_savepoint`]). Answers go out after `COMMIT`; if the
/// transaction fails, every turn of it fails.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    if let Err(error) = control(conn, "BEGIN IMMEDIATE") {
        for job in batch {
            let _ = job.reply.send(Err(from_sqlite_ref(&error)));
        }
        return;
    }
    let mut done = Vec::with_capacity(batch.len());
    let mut broken: Option<StoreError> = None;
    for job in batch {
        let result = match &broken {
            // The turn that breaks the batch keeps its own error; the
            // others get a copy of it.
            None => commit_one(conn, job.commit).unwrap_or_else(|error| {
                broken = Some(batch_failed(&error));
                Err(error)
            }),
            Some(error) => Err(batch_failed(error)),
        };
        done.push((job.reply, result));
    }
    let committed = match broken {
        Some(error) => Err(error),
        None => control(conn, "COMMIT").map_err(StoreError::from),
    };
    if let Err(error) = committed {
        let _ = control(conn, "ROLLBACK");
        for (reply, result) in done {
            let _ = reply.send(result.and_then(|_| Err(batch_failed(&error))));
        }
        return;
    }
    for (reply, result) in done {
        // The turn's request may have gone (client disconnected): the turn
        // is committed all the same.
        let _ = reply.send(result);
    }
}

/// One turn inside the batch's transaction. The inner result is the turn's
/// own (committed or refused, leaving nothing behind); the outer error means
/// the transaction may hold part of the turn and can no longer be trusted.
fn commit_one(conn: &mut Connection, job: CommitJob) -> Result<Result<CommittedTurn>> {
    if needs_savepoint(&job) {
        return commit_in_savepoint(conn, job).map_err(StoreError::from);
    }
    match ready(commit_in(conn, job)) {
        Ok(done) => Ok(Ok(done)),
        // Refused before it wrote anything: a state of another user (checked
        // first), a definition or a dialogue changed since the turn began
        // (the first statements).
        Err(
            refused @ (StoreError::Invalid { .. }
            | StoreError::DefinitionChanged { .. }
            | StoreError::DialogueChanged { .. }),
        ) => Ok(Err(refused)),
        Err(error) => Err(error),
    }
}

/// Whether a turn can be refused after it wrote something, and so needs a
/// savepoint to leave nothing behind. A turn that goes on with the dialogue
/// it loaded and has no message SID is refused only by its first statement,
/// the versioned `UPDATE` (another process changed the dialogue); after it,
/// nothing it writes can be refused: its turn `seq` follows the version just
/// checked, and the writer holds the database's write lock. Such turns are
/// most turns, and `SAVEPOINT`, its undo journal and `RELEASE` were about a
/// sixth of the writer's work. A repeated message SID is found only by the
/// last statement, and a new dialogue takes several checked steps.
fn needs_savepoint(job: &CommitJob) -> bool {
    let continues_loaded = job
        .loaded
        .as_ref()
        .is_some_and(|loaded| loaded.sid == job.commit.state.sid);
    !continues_loaded || job.commit.message_sid.is_some()
}

/// The error a turn gets when its batch failed because of another turn (or
/// the transaction itself): the same message, and the same 503 when it is
/// "not now".
fn batch_failed(error: &StoreError) -> StoreError {
    match error {
        StoreError::Unavailable { message, .. } => StoreError::Unavailable {
            message: message.clone(),
            source: None,
        },
        other => StoreError::Sqlite {
            message: other.to_string(),
        },
    }
}

/// One turn in a savepoint, so that a refused turn leaves nothing behind.
/// The outer error means the savepoint itself failed.
fn commit_in_savepoint(
    conn: &mut Connection,
    job: CommitJob,
) -> rusqlite::Result<Result<CommittedTurn>> {
    control(conn, "SAVEPOINT turn")?;
    let result = ready(commit_in(conn, job));
    if result.is_err() {
        control(conn, "ROLLBACK TO turn")?;
    }
    control(conn, "RELEASE turn")?;
    Ok(result)
}

/// A transaction-control statement, prepared once: `execute_batch` would
/// parse it again on every call, five times a turn.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs a future that never waits (a [`SqlConn`] call on a direct
/// connection) to its end on the current thread.
pub(crate) fn ready<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        // Only sqlx futures wait, and they never come here.
        Poll::Pending => Err(StoreError::Sqlite {
            message: "a direct SQLite call tried to wait (a bug in otto-store)".to_owned(),
        }),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        from_sqlite_ref(&error)
    }
}

/// BUSY, LOCKED, CANTOPEN and IOERR mean "not now" (503, retry); anything
/// else is a database error (500).
fn from_sqlite_ref(error: &rusqlite::Error) -> StoreError {
    let unavailable = matches!(
        error.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::DatabaseBusy
                | rusqlite::ErrorCode::DatabaseLocked
                | rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::SystemIoFailure
        )
    );
    if unavailable {
        StoreError::Unavailable {
            message: format!("SQLite: {error}"),
            source: None,
        }
    } else {
        StoreError::Sqlite {
            message: error.to_string(),
        }
    }
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Text(text) => ToSqlOutput::from(text.as_str()),
            Arg::Int(number) => ToSqlOutput::from(*number),
            Arg::OptText(Some(text)) => ToSqlOutput::from(text.as_str()),
            Arg::OptInt(Some(number)) => ToSqlOutput::from(*number),
            Arg::Blob(Some(bytes)) => ToSqlOutput::from(bytes.as_slice()),
            Arg::OptText(None) | Arg::OptInt(None) | Arg::Blob(None) => {
                ToSqlOutput::Owned(Value::Null)
            }
        })
    }
}

fn parse_sid(value: String, column: &str) -> Result<Sid> {
    Sid::parse(&value).map_err(|error| StoreError::corrupt(format!("column {column}"), error))
}

impl SqlConn for Connection {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        let mut statement = self.prepare_cached(sql)?;
        let changed = statement.execute(params_from_iter(args.iter()))?;
        Ok(changed as u64)
    }

    async fn dialogue_where(
        &mut self,
        filter: &str,
        args: Vec<Arg>,
    ) -> Result<Option<DialogueRecord>> {
        let sql = format!("SELECT {DIALOGUE_COLUMNS} FROM dialogues WHERE {filter}");
        let mut statement = self.prepare_cached(&sql)?;
        let raw = statement
            .query_row(params_from_iter(args.iter()), |row| {
                Ok(RawDialogue {
                    sid: row.get(1)?,
                    account_sid: row.get(2)?,
                    assistant_sid: row.get(3)?,
                    user_identifier: row.get(4)?,
                    channel: row.get(5)?,
                    state: row.get(6)?,
                    active: row.get(7)?,
                    version: row.get(8)?,
                    turn_count: row.get(9)?,
                    last_input_at: row.get(10)?,
                    date_created: row.get(11)?,
                    date_updated: row.get(12)?,
                })
            })
            .optional()?;
        raw.map(RawDialogue::into_record).transpose()
    }

    async fn dialogue_head(&mut self, assistant: &Sid, user: &str) -> Result<Option<(Sid, i64)>> {
        let mut statement = self.prepare_cached(DIALOGUE_HEAD)?;
        let raw = statement
            .query_row([assistant.as_str(), user], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .optional()?;
        raw.map(|(sid, version)| Ok((parse_sid(sid, "sid")?, version)))
            .transpose()
    }

    async fn webhook_subscriptions(&mut self, assistant: &Sid) -> Result<Vec<(String, String)>> {
        let mut statement = self.prepare_cached(WEBHOOK_SUBSCRIPTIONS)?;
        let rows = statement.query_map([assistant.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    async fn assistant_account(&mut self, assistant: &Sid) -> Result<Option<String>> {
        let mut statement = self.prepare_cached(ASSISTANT_ACCOUNT)?;
        Ok(statement
            .query_row([assistant.as_str()], |row| row.get(0))
            .optional()?)
    }

    async fn processed_message(&mut self, message_sid: &str) -> Result<Option<ProcessedMessage>> {
        let mut statement = self.prepare_cached(PROCESSED_MESSAGE)?;
        let raw = statement
            .query_row([message_sid], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        raw.map(
            |(message_sid, assistant, dialogue, turn_seq, date_created)| {
                Ok(ProcessedMessage {
                    message_sid,
                    assistant_sid: parse_sid(assistant, "assistant_sid")?,
                    dialogue_sid: dialogue
                        .map(|dialogue| parse_sid(dialogue, "dialogue_sid"))
                        .transpose()?,
                    turn_seq,
                    date_created,
                })
            },
        )
        .transpose()
    }

    async fn definition_version(&mut self, assistant: &Sid) -> Result<Option<i64>> {
        let mut statement = self.prepare_cached(DEFINITION_VERSION)?;
        Ok(statement
            .query_row([assistant.as_str()], |row| row.get::<_, i64>(0))
            .optional()?)
    }

    async fn assistant_version(
        &mut self,
        account: &Sid,
        by_sid: bool,
        key: &str,
    ) -> Result<Option<(Sid, i64)>> {
        let mut statement = self.prepare_cached(assistant_version_sql(by_sid))?;
        let raw = statement
            .query_row([account.as_str(), key], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .optional()?;
        raw.map(|(sid, version)| Ok((parse_sid(sid, "sid")?, version)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_engine::{DialogueState, Waiting};
    use otto_model::SidPrefix;

    fn record(n: u128) -> Arc<DialogueRecord> {
        let sid = Sid::from_number(SidPrefix::Dialogue, n);
        let assistant = Sid::from_number(SidPrefix::Assistant, 1);
        Arc::new(DialogueRecord {
            sid: sid.clone(),
            account_sid: Sid::from_number(SidPrefix::Account, 1),
            assistant_sid: assistant,
            user_identifier: format!("user {n}"),
            channel: "sms".to_owned(),
            state: DialogueState {
                sid,
                user_identifier: format!("user {n}"),
                channel: "sms".to_owned(),
                memory: serde_json::Map::new(),
                waiting: Waiting::Nothing,
                current_task: None,
                created_at: chrono::DateTime::UNIX_EPOCH,
                last_input_at: chrono::DateTime::UNIX_EPOCH,
                ended: false,
                end_reason: None,
            },
            active: true,
            version: 1,
            turn_count: 1,
            last_input_at: 0,
            date_created: 0,
            date_updated: 0,
        })
    }

    /// Two generations: a full young one becomes the old one and the old one
    /// is handed back to be dropped elsewhere; what is used again is kept.
    #[test]
    fn the_dialogue_cache_evicts_a_generation_and_keeps_what_is_used() {
        let mut cache = DialogueCache::default();
        let limit = CACHED_DIALOGUES as u128;
        for n in 0..limit {
            assert!(cache.insert(format!("k{n}"), record(n)).is_none());
        }
        // The first eviction has no old generation to hand back yet.
        assert_eq!(
            cache
                .insert("k-a".to_owned(), record(limit))
                .map(|old| old.len()),
            Some(0)
        );
        // k0 is in the old generation now: reading it promotes it.
        assert_eq!(cache.get("k0").unwrap().turn_count, 1);
        for n in 1..limit - 1 {
            assert!(cache.insert(format!("k-b{n}"), record(n)).is_none());
        }
        // The next eviction hands back the old generation minus k0.
        let evicted = cache
            .insert("k-c".to_owned(), record(0))
            .expect("an eviction");
        assert_eq!(evicted.len(), CACHED_DIALOGUES - 1);
        assert!(!evicted.contains_key("k0"));
        assert!(cache.get("k0").is_some(), "promoted, so kept");
        assert!(cache.get("k1").is_none(), "not used again, so dropped");
        drop_elsewhere(Some(evicted));
    }

    /// The checkpoint thread syncs the database file and its WAL through
    /// SQLite's own handles: both are found (and a connection that has not
    /// opened its WAL yet syncs only the database).
    #[test]
    fn the_database_file_and_its_wal_are_synced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let checkpointer = Connection::open(&path).unwrap();
        assert_eq!(sync_files(&checkpointer), 1, "no WAL opened yet");
        checkpoint(&checkpointer, "PASSIVE").unwrap();
        assert_eq!(sync_files(&checkpointer), 2);
    }

    /// A batch that panics is rolled back and answered with an error; the
    /// writer goes on with the next batch.
    #[test]
    fn a_panicking_batch_is_rolled_back_and_the_writer_goes_on() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE turns (n INTEGER)")
            .unwrap();
        let (sender, jobs) = mpsc::channel::<(bool, mpsc::Sender<i64>)>();
        let writer = std::thread::spawn(move || {
            serve_batches(&mut conn, &jobs, &Mutex::new(()), |conn, batch| {
                for (panics, reply) in batch {
                    conn.execute_batch("BEGIN; INSERT INTO turns VALUES (1);")
                        .unwrap();
                    assert!(!panics, "a bug in a commit");
                    let stored: i64 = conn
                        .query_row("SELECT COUNT(*) FROM turns", [], |row| row.get(0))
                        .unwrap();
                    conn.execute_batch("COMMIT").unwrap();
                    reply.send(stored).unwrap();
                }
            });
        });
        let commit = |panics: bool| {
            let (reply, answer) = mpsc::channel();
            sender.send((panics, reply)).unwrap();
            answer.recv()
        };
        assert_eq!(commit(false), Ok(1));
        assert!(commit(true).is_err(), "the panicking batch is not answered");
        // Its insert was rolled back; the writer still commits.
        assert_eq!(commit(false), Ok(2));
        drop(sender);
        writer.join().unwrap();
    }
}
