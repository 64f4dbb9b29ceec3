//! A SQLite VFS for the turn writer: each commit's WAL frames reach the file
//! in one `pwrite` instead of two a frame.
//!
//! Why: SQLite writes a WAL frame as two writes, its 24-byte header and then
//! the page. A lone turn's commit is 6-7 frames, so 13 `pwrite` calls, each a
//! system call with its fixed cost, on the writer thread that every turn
//! waits for (docs/performance.md).
//!
//! How: writes to a WAL file are gathered in memory while each continues the
//! last, and handed to the real file (the platform's default VFS):
//! - when the frame that commits a transaction is complete. SQLite makes a
//!   commit visible (the WAL index) only after that frame's write returned,
//!   and `COMMIT` returns after that: every reader, in this process or
//!   another, finds the same bytes in the file as without this layer, and a
//!   crash loses only frames of a transaction that had not committed;
//! - before anything else is done with the WAL file or its database file (a
//!   read, a sync, a lock, the shared-memory index, closing...). So no
//!   gathered bytes outlive the transaction that wrote them (its end takes a
//!   shared-memory lock of the database file): a rolled-back transaction's
//!   frames can never land over frames another connection wrote later.
//!
//! The database file and its WAL are both wrapped (the database's methods
//! only pass through, after that check); other files are the default VFS's.

use std::cell::Cell;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr::{addr_of_mut, null, null_mut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

use rusqlite::ffi;

/// The VFS's registered name.
const NAME: &CStr = c"otto-wal-writes";

/// Bytes gathered at most before they are written anyway (a transaction of
/// many pages): the unix VFS writes at most 128 KiB - 1 in one call (it
/// masks the length with 0x1ffff, as no page is larger than 64 KiB), and
/// reports a longer write as a full disk.
const MAX_GATHERED: usize = 0x1ffff;

/// A WAL frame's header; bytes 4..8 are the database's size after the
/// commit in a frame that commits, 0 in any other.
const FRAME_HEADER: usize = 24;

/// The default VFS this one passes everything to.
static REAL: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(null_mut());

/// The VFS's name for `Connection::open_with_flags_and_vfs`, once it is
/// registered; `None` if SQLite has no default VFS to wrap (the caller then
/// opens with the default VFS itself: only speed is lost).
pub(crate) fn vfs_name() -> Option<&'static str> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    // SAFETY: runs once; `register` only reads the default VFS and hands
    // SQLite a VFS that lives for the rest of the process.
    let registered = *REGISTERED.get_or_init(|| unsafe { register() });
    registered.then(|| NAME.to_str().expect("the name is ASCII"))
}

/// Registers a copy of the default VFS whose `xOpen` wraps database and
/// WAL files.
unsafe fn register() -> bool {
    // SAFETY (whole function): `sqlite3_vfs_find` initialises SQLite and
    // returns the default VFS, which SQLite keeps for the process's life; the
    // copy is leaked, as SQLite keeps a pointer to it once registered.
    unsafe {
        let real = ffi::sqlite3_vfs_find(null());
        if real.is_null() || (*real).xOpen.is_none() {
            tracing::warn!("SQLite has no default VFS; WAL writes are not gathered");
            return false;
        }
        REAL.store(real, Ordering::Release);
        let mut vfs: ffi::sqlite3_vfs = std::ptr::read(real);
        // Every function but xOpen is the real one, with the real one's
        // application data, so it behaves as it would for the real VFS.
        vfs.szOsFile = c_int::try_from(real_file_offset()).expect("small") + (*real).szOsFile;
        vfs.pNext = null_mut();
        vfs.zName = NAME.as_ptr();
        vfs.xOpen = Some(open);
        let vfs = Box::leak(Box::new(vfs));
        let rc = ffi::sqlite3_vfs_register(vfs, 0);
        if rc != ffi::SQLITE_OK {
            tracing::warn!(rc, "could not register SQLite's WAL-writes VFS");
        }
        rc == ffi::SQLITE_OK
    }
}

/// A database or WAL file opened through this VFS: SQLite's file object,
/// followed in the same allocation by the real VFS's file object (`real`).
/// `partner` is the other file of the pair once both are open (the WAL is
/// opened after its database, and closed before it).
#[repr(C)]
struct Wrapped {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    is_wal: bool,
    partner: *mut Wrapped,
    gathered: Gathered,
}

/// Writes not yet handed to the real file: `bytes` go at `offset`.
#[derive(Default)]
struct Gathered {
    bytes: Vec<u8>,
    offset: i64,
    /// The last write was the header of a frame that commits: the next one
    /// (its page) completes the commit.
    commit_frame_begun: bool,
}

/// Where the real file object starts in the allocation, aligned for it.
const fn real_file_offset() -> usize {
    std::mem::size_of::<Wrapped>().next_multiple_of(16)
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY (whole function): SQLite hands `file`, an allocation of this
    // VFS's `szOsFile` bytes: the `Wrapped`, then the real object at its
    // aligned offset, within that size. `name` of a WAL file is one SQLite
    // can map to its database file's object.
    unsafe {
        let real_vfs = REAL.load(Ordering::Acquire);
        let real_open = (*real_vfs).xOpen.expect("checked when registered");
        let is_wal = flags & ffi::SQLITE_OPEN_WAL != 0;
        if !is_wal && flags & ffi::SQLITE_OPEN_MAIN_DB == 0 {
            return real_open(real_vfs, name, file, flags, out_flags);
        }
        let wrapped = file.cast::<Wrapped>();
        (*wrapped).base.pMethods = null();
        let real = file
            .cast::<u8>()
            .add(real_file_offset())
            .cast::<ffi::sqlite3_file>();
        (*real).pMethods = null();
        let rc = real_open(real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // SQLite does not close a file whose methods are null: close the
            // real one here if it was left open.
            if let Some(close) = methods(real).and_then(|m| m.xClose) {
                close(real);
            }
            return rc;
        }
        let mut partner = null_mut();
        if is_wal {
            let database = ffi::sqlite3_database_file_object(name);
            if !database.is_null() && std::ptr::eq((*database).pMethods, &METHODS) {
                partner = database.cast::<Wrapped>();
                (*partner).partner = wrapped;
            }
        }
        wrapped.write(Wrapped {
            base: ffi::sqlite3_file { pMethods: &METHODS },
            real,
            is_wal,
            partner,
            gathered: Gathered::default(),
        });
        ffi::SQLITE_OK
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// The real file's methods, if it is open.
unsafe fn methods<'a>(real: *mut ffi::sqlite3_file) -> Option<&'a ffi::sqlite3_io_methods> {
    // SAFETY: `real` is a file object of the real VFS; its methods are
    // static tables or null.
    unsafe { (*real).pMethods.as_ref() }
}

/// The `Wrapped` behind a file SQLite hands to [`METHODS`].
unsafe fn wrapped<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Wrapped {
    // SAFETY: only files opened by `open` have these methods, and SQLite
    // uses a connection's files from one thread at a time.
    unsafe { &mut *file.cast::<Wrapped>() }
}

/// Hands over what the pair's WAL gathered, before any other operation on
/// `file` or its partner.
unsafe fn settle(file: &mut Wrapped) -> c_int {
    // SAFETY: a partner pointer is cleared when that file closes.
    unsafe {
        let wal = if file.is_wal {
            file
        } else {
            match file.partner.as_mut() {
                Some(wal) => wal,
                None => return ffi::SQLITE_OK,
            }
        };
        hand_over(wal)
    }
}

/// Writes what the WAL gathered to the real file (one call), if anything.
unsafe fn hand_over(wal: &mut Wrapped) -> c_int {
    let gathered = &mut wal.gathered;
    if gathered.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    count(&HANDED_OVER);
    // SAFETY: the real file is open while the wrapper is; the buffer's
    // length fits an int (at most MAX_GATHERED).
    let rc = unsafe {
        match methods(wal.real).and_then(|m| m.xWrite) {
            Some(write) => write(
                wal.real,
                gathered.bytes.as_ptr().cast(),
                c_int::try_from(gathered.bytes.len()).unwrap_or(c_int::MAX),
                gathered.offset,
            ),
            None => ffi::SQLITE_IOERR_WRITE,
        }
    };
    // On failure SQLite rolls the transaction back, as after any failed
    // write; what was gathered belonged to it and is not kept.
    gathered.bytes.clear();
    rc
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite passes `amount` readable bytes at `data`, on a file
    // opened by `open`.
    let (file, data) = unsafe {
        (
            wrapped(file),
            std::slice::from_raw_parts(data.cast::<u8>(), usize::try_from(amount).unwrap_or(0)),
        )
    };
    if !file.is_wal {
        // SAFETY: as above.
        return unsafe {
            match settle(file) {
                ffi::SQLITE_OK => match methods(file.real).and_then(|m| m.xWrite) {
                    Some(real) => real(file.real, data.as_ptr().cast(), amount, offset),
                    None => ffi::SQLITE_IOERR_WRITE,
                },
                rc => rc,
            }
        };
    }
    count(&RECEIVED);
    let gathered = &file.gathered;
    let continues = offset == gathered.offset + gathered.bytes.len() as i64;
    let fits = gathered.bytes.len() + data.len() <= MAX_GATHERED;
    let gather_on = continues && fits;
    if !gathered.bytes.is_empty() && !gather_on {
        // SAFETY: `file` is an open WAL file.
        let rc = unsafe { hand_over(file) };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    if data.len() > MAX_GATHERED {
        // Larger than one write may be (no WAL write of SQLite's is): as is.
        // SAFETY: as above.
        return unsafe {
            match methods(file.real).and_then(|m| m.xWrite) {
                Some(real) => real(file.real, data.as_ptr().cast(), amount, offset),
                None => ffi::SQLITE_IOERR_WRITE,
            }
        };
    }
    let gathered = &mut file.gathered;
    if gathered.bytes.is_empty() {
        gathered.offset = offset;
    }
    gathered.bytes.extend_from_slice(data);
    let completes_commit = gathered.commit_frame_begun;
    gathered.commit_frame_begun = data.len() == FRAME_HEADER && data[4..8] != [0; 4];
    if completes_commit {
        // SAFETY: as above.
        return unsafe { hand_over(file) };
    }
    ffi::SQLITE_OK
}

/// Defines a method that settles the pair's gathered writes, then calls the
/// real file's method of the same name with the same arguments.
macro_rules! after_settling {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls this on an open file from `open`.
            unsafe {
                let file = wrapped(file);
                let rc = settle(file);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                match methods(file.real).and_then(|m| m.$method) {
                    Some(real) => real(file.real $(, $arg)*),
                    None => ffi::SQLITE_IOERR,
                }
            }
        }
    };
}

after_settling!(read, xRead, (data: *mut c_void, amount: c_int, offset: i64));
after_settling!(truncate, xTruncate, (size: i64));
after_settling!(sync, xSync, (flags: c_int));
after_settling!(file_size, xFileSize, (size: *mut i64));
after_settling!(lock, xLock, (level: c_int));
after_settling!(unlock, xUnlock, (level: c_int));
after_settling!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int));
after_settling!(file_control, xFileControl, (op: c_int, arg: *mut c_void));
after_settling!(shm_map, xShmMap, (region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void));
after_settling!(shm_lock, xShmLock, (offset: c_int, n: c_int, flags: c_int));
after_settling!(shm_unmap, xShmUnmap, (delete: c_int));
after_settling!(unfetch, xUnfetch, (offset: i64, page: *mut c_void));

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: as in `after_settling`; without a real xFetch no mapping is
    // offered (null), which SQLite accepts.
    unsafe {
        let file = wrapped(file);
        let rc = settle(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        match methods(file.real).and_then(|m| m.xFetch) {
            Some(real) => real(file.real, offset, amount, out),
            None => {
                *out = null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: as in `after_settling`. A barrier cannot fail: SQLite calls it
    // on the database file before it publishes a commit, whose frame was
    // handed over when it was complete, so there is nothing left to write.
    unsafe {
        let file = wrapped(file);
        let _ = settle(file);
        if let Some(real) = methods(file.real).and_then(|m| m.xShmBarrier) {
            real(file.real);
        }
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as in `after_settling`; a query, nothing to settle.
    unsafe {
        let file = wrapped(file);
        methods(file.real)
            .and_then(|m| m.xSectorSize)
            .map_or(4096, |real| real(file.real))
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as in `sector_size`.
    unsafe {
        let file = wrapped(file);
        methods(file.real)
            .and_then(|m| m.xDeviceCharacteristics)
            .map_or(0, |real| real(file.real))
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file once and does not use it afterwards; the
    // partner's pointer to it is cleared first.
    unsafe {
        let file = wrapped(file);
        let settled = settle(file);
        if let Some(partner) = file.partner.as_mut() {
            partner.partner = null_mut();
        }
        let closed = match methods(file.real).and_then(|m| m.xClose) {
            Some(real) => real(file.real),
            None => ffi::SQLITE_OK,
        };
        std::ptr::drop_in_place(addr_of_mut!(file.gathered));
        file.base.pMethods = null();
        if settled != ffi::SQLITE_OK {
            settled
        } else {
            closed
        }
    }
}

thread_local! {
    /// Writes SQLite asked of WAL files on this thread, and writes handed to
    /// the real files: what the tests check (SQLite runs a connection's
    /// calls on the thread that uses it).
    static RECEIVED: Cell<u64> = const { Cell::new(0) };
    static HANDED_OVER: Cell<u64> = const { Cell::new(0) };
}

fn count(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    counter.with(|n| n.set(n.get() + 1));
}

/// (writes SQLite asked for, writes made) on WAL files, on this thread.
#[cfg(test)]
fn counts() -> (u64, u64) {
    (RECEIVED.with(Cell::get), HANDED_OVER.with(Cell::get))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, OpenFlags};
    use std::path::Path;
    use std::time::Duration;

    fn writer(path: &Path) -> Connection {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let conn = Connection::open_with_flags_and_vfs(path, flags, vfs_name().unwrap()).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        )
        .unwrap();
        conn
    }

    fn rows(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_commit_reaches_the_file_in_one_write_and_is_seen_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = writer(&path);
        // The default VFS, as every other connection of otto's and any other
        // process uses.
        let reader = Connection::open(&path).unwrap();
        for n in 1..=50 {
            let before = counts();
            conn.execute(
                "INSERT INTO t (n, body) VALUES (?1, ?2)",
                (n, "x".repeat(300)),
            )
            .unwrap();
            let (asked, made) = (counts().0 - before.0, counts().1 - before.1);
            // At least one frame (its header and its page), in one write.
            assert!(asked >= 2, "commit {n}: SQLite asked for {asked} writes");
            assert_eq!(made, 1, "commit {n}: {asked} writes asked, {made} made");
            assert_eq!(rows(&reader), n, "the reader sees commit {n} at once");
        }
    }

    #[test]
    fn large_spilled_and_rolled_back_transactions_leave_a_whole_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = writer(&path);
        // A small page cache: a large transaction writes pages to the WAL
        // before its commit, and reads some of them back.
        conn.execute_batch("PRAGMA cache_size = 8").unwrap();
        let reader = Connection::open(&path).unwrap();
        let insert = |conn: &Connection, from: i64, to: i64| {
            for n in from..to {
                conn.execute(
                    "INSERT INTO t (n, body) VALUES (?1, ?2)",
                    (n, format!("{n}-{}", "y".repeat(900))),
                )
                .unwrap();
            }
        };
        // 3 MB in one transaction: many times what is gathered at most.
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 0, 3000);
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(rows(&reader), 3000);
        // Spilled, then rolled back: the frames it wrote must not count.
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 3000, 4000);
        conn.execute("UPDATE t SET body = 'changed' WHERE n < 500", [])
            .unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(rows(&reader), 3000);
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 3000, 3500);
        conn.execute("UPDATE t SET body = 'changed' WHERE n < 10", [])
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(rows(&reader), 3500);

        // What a crash leaves: the files as they are now, the WAL not
        // copied into the database. A fresh process recovers from them.
        let copy = dir.path().join("copy");
        std::fs::create_dir(&copy).unwrap();
        for suffix in ["", "-wal"] {
            std::fs::copy(
                format!("{}{suffix}", path.display()),
                format!("{}/t.db{suffix}", copy.display()),
            )
            .unwrap();
        }
        let recovered = Connection::open(copy.join("t.db")).unwrap();
        let check: String = recovered
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        assert_eq!(rows(&recovered), 3500);
        let changed: i64 = recovered
            .query_row("SELECT COUNT(*) FROM t WHERE body = 'changed'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(changed, 10);
        let last: String = recovered
            .query_row("SELECT body FROM t WHERE n = 3499", [], |r| r.get(0))
            .unwrap();
        assert!(last.starts_with("3499-"), "{last}");
    }

    #[test]
    fn a_rolled_back_transactions_frames_never_land_over_another_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = writer(&path);
        conn.execute_batch("PRAGMA cache_size = 8").unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::from_secs(5)).unwrap();
        // Spill a few pages to the WAL (the last ones stay gathered), roll
        // back: those frames are beyond the WAL's end as readers see it.
        // (SQLite's rollback reads pages back, which hands them over; the
        // database file's check covers any path that would not.)
        conn.execute_batch("BEGIN").unwrap();
        for n in 0..40 {
            conn.execute(
                "INSERT INTO t (n, body) VALUES (?1, ?2)",
                (n, "s".repeat(1500)),
            )
            .unwrap();
        }
        conn.execute_batch("ROLLBACK").unwrap();
        // Another connection now writes the same WAL positions and commits.
        other
            .execute("INSERT INTO t (n, body) VALUES (1000, 'kept')", [])
            .unwrap();
        // The writer goes on: nothing it held back may be written now.
        assert_eq!(rows(&conn), 1);
        conn.execute("INSERT INTO t (n, body) VALUES (1001, 'also kept')", [])
            .unwrap();
        let copy = dir.path().join("copy");
        std::fs::create_dir(&copy).unwrap();
        for suffix in ["", "-wal"] {
            std::fs::copy(
                format!("{}{suffix}", path.display()),
                format!("{}/t.db{suffix}", copy.display()),
            )
            .unwrap();
        }
        let recovered = Connection::open(copy.join("t.db")).unwrap();
        let bodies: Vec<String> = recovered
            .prepare("SELECT body FROM t ORDER BY n")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(bodies, ["kept", "also kept"]);
    }

    #[test]
    fn the_wal_starts_over_after_a_restart_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = writer(&path);
        let checkpointer = Connection::open(&path).unwrap();
        let reader = Connection::open(&path).unwrap();
        for round in 0..5i64 {
            for n in 0..20 {
                conn.execute(
                    "INSERT INTO t (n, body) VALUES (?1, 'z')",
                    [round * 100 + n],
                )
                .unwrap();
            }
            let (busy, _, _): (i64, i64, i64) = checkpointer
                .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .unwrap();
            assert_eq!(busy, 0, "round {round}: the restart was not blocked");
            assert_eq!(rows(&reader), (round + 1) * 20);
        }
        drop(conn);
        let check: String = reader
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}
