//! Reads off sqlx's SQLite thread, for the two reads where handing every query and row to it
//! costs more than SQLite's own work (issue 20):
//! - the debt statement, at every «Задолженность», on the thread that asks ([`Readers::each`]):
//!   SQLite's 15–30 µs of work cost three to four times that through the pool, most of it thread
//!   switches (BENCHMARKS.md, run 7); a few index seeks hold the async runtime's thread for less
//!   time than the hand-off they save;
//! - a long read that must see one state of the database, the monthly report's, in read
//!   transactions on blocking threads ([`Readers::begin`], through [`super::Db::read_snapshot`]
//!   and [`super::Db::read_snapshots`]): some 170 000 rows crossed threads one by one, and the cold
//!   report took 1.65 / 1.77 s where one reader took 0.65 / 0.70 s and two take 0.35 s
//!   (BENCHMARKS.md, runs 7, 9 and 11).
//!
//! A reader is a plain SQLite connection (rusqlite, over the same libsqlite3-sys as sqlx). Readers
//! never write: each is `query_only`, and a statement that could write is refused before it runs;
//! every write goes through [`super::Db::begin_write`]. PostgreSQL has none (its queries cross the
//! network anyway), so a rule reads its rows through [`super::Source`] and decodes them once
//! ([`super::FromRow`]), the same whichever connection answered.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Params};
use sea_orm::{DbErr, RuntimeErr, Value};

use super::row::{FromRow, ReaderRow, bind, error};
use super::{BUSY_TIMEOUT as POOL_BUSY_TIMEOUT, MMAP_SIZE};

/// How long a read on the calling thread waits for a lock. In WAL mode readers do not wait for
/// writers; only a checkpoint by the last connection closing or the recovery of the WAL's index
/// makes them wait, rarely and briefly, and a runtime thread must not wait long (SQLite may
/// still sleep a little past it while it retries). A snapshot, on a thread of its own, waits as
/// long as the pool.
const CALLING_THREAD_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// SQLite connections for the reads made off sqlx's thread, opened when first needed.
#[derive(Debug)]
pub(crate) struct Readers {
    /// The file the pool opened, as SQLite names it (absolute, decoded from the URL).
    path: PathBuf,
    /// Idle readers; `None` once the database is closed.
    idle: Mutex<Option<Vec<Connection>>>,
    /// A read on the calling thread never awaits, so a thread holds at most one reader at a
    /// time, and snapshots take turns, two readers each: the runtime's threads and two more
    /// bound how many are ever open, and this many are kept.
    keep_idle: usize,
}

impl Readers {
    pub(super) fn new(path: PathBuf) -> Readers {
        let threads = std::thread::available_parallelism().map_or(4, |n| n.get());
        Readers { path, idle: Mutex::new(Some(Vec::new())), keep_idle: 2 * threads }
    }

    /// Runs `sql` (`?` placeholders) with `params` and gives each row to `each`, in order.
    pub(crate) fn each(
        &self,
        sql: &str,
        params: impl Params,
        each: impl FnMut(&ReaderRow<'_, '_>) -> Result<(), DbErr>,
    ) -> Result<(), DbErr> {
        let conn = self.take()?;
        let read = read(&conn, sql, params, each);
        self.give_back(conn, read.is_ok());
        read
    }

    /// A reader in a read transaction. Its first read ([`Snapshot::pin`], or the first query)
    /// fixes the state it sees, whatever is committed later. Once `given_up` is raised its
    /// queries fail at their next row.
    pub(super) fn begin(&self, given_up: Arc<AtomicBool>) -> Result<Snapshot, DbErr> {
        if given_up.load(Ordering::Relaxed) {
            return Err(given_up_error());
        }
        let conn = self.take()?;
        // Off the runtime's threads a read may wait as long as the pool's would, for the rare
        // lock (a WAL being recovered, the last connection of another process folding it back).
        conn.busy_timeout(POOL_BUSY_TIMEOUT).and_then(|()| conn.execute_batch("BEGIN")).map_err(error)?;
        Ok(Snapshot { conn: Mutex::new(conn), given_up })
    }

    /// Ends `snapshot`'s transaction, keeping its reader if `result` is a success.
    pub(super) fn end<T>(&self, snapshot: Snapshot, result: Result<T, DbErr>) -> Result<T, DbErr> {
        let conn = snapshot.conn.into_inner().unwrap_or_else(PoisonError::into_inner);
        // It only read: ending it either way is the same, and frees the WAL it pinned.
        let ended =
            conn.execute_batch("COMMIT").and_then(|()| conn.busy_timeout(CALLING_THREAD_BUSY_TIMEOUT)).map_err(error);
        self.give_back(conn, result.is_ok() && ended.is_ok());
        let value = result?;
        ended.map(|()| value)
    }

    /// Closes the idle readers and opens no more, so that the pool's last connection is the
    /// database's last connection and folds the WAL back into the file.
    pub(super) fn close(&self) {
        *self.idle() = None;
    }

    /// An idle reader, or a new one. The lock is held only to take a connection and to give it
    /// back, never during a query.
    fn take(&self) -> Result<Connection, DbErr> {
        let taken = match self.idle().as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(DbErr::Conn(RuntimeErr::Internal("the database is closed".to_owned()))),
        };
        match taken {
            Some(conn) => Ok(conn),
            None => self.open().map_err(|e| {
                DbErr::Conn(RuntimeErr::Internal(format!("SQLite, opening {}: {e}", self.path.display())))
            }),
        }
    }

    /// Keeps `conn` for the next read if it read well. A connection that failed is not trusted
    /// again, nor one left in a transaction (`BEGIN` reads nothing and passes [`read`]'s check);
    /// a closed database keeps none.
    fn give_back(&self, conn: Connection, read_well: bool) {
        if read_well
            && conn.is_autocommit()
            && let Some(idle) = self.idle().as_mut()
            && idle.len() < self.keep_idle
        {
            idle.push(conn);
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Option<Vec<Connection>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // No CREATE: the pool has created and migrated the file before any read.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(CALLING_THREAD_BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        Ok(conn)
    }
}

fn given_up_error() -> DbErr {
    DbErr::Custom("the snapshot's reader was given up".to_owned())
}

/// Runs one read-only statement on `conn`, giving each row to `each`.
fn read(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut each: impl FnMut(&ReaderRow<'_, '_>) -> Result<(), DbErr>,
) -> Result<(), DbErr> {
    let mut statement = conn.prepare_cached(sql).map_err(error)?;
    if !statement.readonly() {
        return Err(DbErr::Query(RuntimeErr::Internal(format!("a reader only reads: {sql}"))));
    }
    let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = statement.query(params).map_err(error)?;
    while let Some(row) = rows.next().map_err(error)? {
        each(&ReaderRow { row, names: &names })?;
    }
    Ok(())
}

/// One reader in a read transaction, as [`super::Db::read_snapshot`] and
/// [`super::Db::read_snapshots`] hand it to a [`super::SnapshotRead`]. The lock makes it `Sync`,
/// so a read's futures are `Send` on either source; only the one thread running the read ever
/// takes it.
pub(crate) struct Snapshot {
    conn: Mutex<Connection>,
    given_up: Arc<AtomicBool>,
}

impl Snapshot {
    /// The transaction's first read: from here on it sees the database as it is now. `BEGIN`
    /// reads nothing, nor does `SELECT 1`; any table of the file would do.
    pub(super) fn pin(&self) -> Result<(), DbErr> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.query_row("SELECT COUNT(*) FROM sqlite_schema", (), |_| Ok(())).map_err(error)
    }
}

impl super::Source for Snapshot {
    async fn rows<T: FromRow + Send>(&self, sql: &str, values: Vec<Value>) -> Result<Vec<T>, DbErr> {
        let given_up = || self.given_up.load(Ordering::Relaxed);
        if given_up() {
            return Err(given_up_error());
        }
        let params = values.into_iter().map(bind).collect::<Result<Vec<_>, _>>()?;
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut found = Vec::new();
        read(&conn, sql, rusqlite::params_from_iter(params), |row| {
            if given_up() {
                return Err(given_up_error());
            }
            found.push(T::from_row(row)?);
            Ok(())
        })?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};
    use domain::Kopecks;
    use sea_orm::ConnectionTrait;

    use super::*;
    use crate::db::row::bind;
    use crate::db::{Db, Row, query};

    async fn open(dir: &tempfile::TempDir, file: &str) -> Db {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join(file).display());
        Db::open(&url).await.unwrap()
    }

    fn read_all(readers: &Readers, sql: &str) -> Result<Vec<String>, DbErr> {
        let mut found = Vec::new();
        readers.each(sql, (), |row| {
            found.push(row.cell("v")?);
            Ok(())
        })?;
        Ok(found)
    }

    async fn write(db: &Db, sql: &str) {
        let txn = db.begin_write().await.unwrap();
        txn.execute_unprepared(sql).await.unwrap();
        txn.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_reader_sees_each_commit_and_never_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, "r.db").await;
        let readers = db.readers().expect("an SQLite file has readers");
        let txn = db.begin_write().await.unwrap();
        txn.execute_unprepared("CREATE TABLE notes (v TEXT); INSERT INTO notes VALUES ('1')").await.unwrap();
        let early = read_all(readers, "SELECT v FROM notes").unwrap_err().to_string();
        assert!(early.contains("no such table"), "not committed yet: {early}");
        txn.commit().await.unwrap();
        assert_eq!(read_all(readers, "SELECT v FROM notes").unwrap(), ["1"]);
        let refused = read_all(readers, "INSERT INTO notes VALUES ('2') RETURNING v").unwrap_err().to_string();
        assert!(refused.contains("only reads"), "{refused}");
        // Beneath the check, the connection itself refuses to write.
        let conn = readers.open().unwrap();
        let refused = conn.execute("INSERT INTO notes VALUES ('3')", ()).unwrap_err().to_string();
        assert!(refused.contains("readonly"), "{refused}");
        assert_eq!(read_all(readers, "SELECT v FROM notes").unwrap(), ["1"]);
        // A transaction begun through a reader does not stay open to freeze later reads.
        readers.each("BEGIN", (), |_| Ok(())).unwrap();
        assert_eq!(read_all(readers, "SELECT v FROM notes").unwrap(), ["1"]);
        write(&db, "INSERT INTO notes VALUES ('2')").await;
        assert_eq!(read_all(readers, "SELECT v FROM notes").unwrap(), ["1", "2"]);
        db.close().await.unwrap();
    }

    /// The pool's last connection folds the WAL back into the file only if no reader is open
    /// beside it: a command that read through a reader would leave its WAL behind.
    #[tokio::test]
    async fn closing_after_a_read_leaves_one_whole_file_and_reads_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, "r.db").await;
        write(&db, "CREATE TABLE notes (v TEXT); INSERT INTO notes VALUES ('1')").await;
        assert_eq!(read_all(db.readers().unwrap(), "SELECT v FROM notes").unwrap(), ["1"]);
        db.close().await.unwrap();
        assert!(dir.path().join("r.db").exists());
        assert!(!dir.path().join("r.db-wal").exists(), "the WAL is folded back and removed");
        let after = read_all(db.readers().unwrap(), "SELECT v FROM notes").unwrap_err().to_string();
        assert!(after.contains("closed"), "{after}");
    }

    /// Readers open the file the pool opened, whatever the URL spells: sqlx decodes `%20`.
    #[tokio::test]
    async fn readers_open_the_pools_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, "my%20db.sqlite").await;
        write(&db, "CREATE TABLE notes (v TEXT); INSERT INTO notes VALUES ('1')").await;
        assert!(dir.path().join("my db.sqlite").exists());
        assert_eq!(read_all(db.readers().unwrap(), "SELECT v FROM notes").unwrap(), ["1"]);
        db.close().await.unwrap();
        let memory = Db::open("sqlite::memory:").await.unwrap();
        assert!(memory.readers().is_none(), "only the pool's connection sees a database in memory");
    }

    /// Both drivers give a rule the same values, and refuse the same amounts out of bounds.
    #[tokio::test]
    async fn both_drivers_read_a_row_alike() {
        type Cells = (
            i64,
            String,
            NaiveDate,
            Option<String>,
            Kopecks,
            Option<Kopecks>,
            Option<Kopecks>,
            DateTime<Utc>,
            DateTime<Utc>,
        );
        fn cells(row: &impl Row) -> Result<Cells, DbErr> {
            Ok((
                row.cell("n")?,
                row.cell("s")?,
                row.cell("d")?,
                row.cell("none")?,
                row.cell("k")?,
                row.cell("some_k")?,
                row.cell("no_k")?,
                row.cell("at")?,
                row.cell("naive")?,
            ))
        }
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, "r.db").await;
        // Values as the application stores them, bound by sea-orm, not literals.
        let columns = "n BIGINT, s TEXT, d DATE, none TEXT, k BIGINT, some_k BIGINT, no_k BIGINT, at TEXT, naive TEXT";
        write(&db, &format!("CREATE TABLE t ({columns})")).await;
        let date = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let at = date.and_hms_nano_opt(7, 30, 0, 123_456_789).unwrap().and_utc();
        let txn = db.begin_write().await.unwrap();
        let values = [
            7_i64.into(),
            "участок".into(),
            date.into(),
            Option::<String>::None.into(),
            Kopecks::new(-150_050).unwrap().into(),
            Kopecks::new(99).unwrap().into(),
            Option::<i64>::None.into(),
            at.into(),
            // Without an offset, as SQLite's own `datetime()` writes: both read it as UTC.
            "2026-03-10 07:30:00".into(),
        ];
        let insert = crate::db::sql(db.backend(), "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values);
        txn.execute_raw(insert).await.unwrap();
        txn.commit().await.unwrap();
        let sql = "SELECT * FROM t";
        let from_pool = cells(&query(db.conn(), sql, []).await.unwrap()[0]).unwrap();
        let mut from_reader = None;
        db.readers()
            .unwrap()
            .each(sql, (), |row| {
                from_reader = Some(cells(row)?);
                Ok(())
            })
            .unwrap();
        let expected = (
            7,
            "участок".to_owned(),
            date,
            None,
            Kopecks::new(-150_050).unwrap(),
            Some(Kopecks::new(99).unwrap()),
            None,
            at,
            date.and_hms_opt(7, 30, 0).unwrap().and_utc(),
        );
        assert_eq!(from_pool, expected);
        assert_eq!(from_reader, Some(expected));
        // A column is found by its exact name on both (rusqlite's own lookup ignores case).
        let pool = &query(db.conn(), "SELECT 1 AS n", []).await.unwrap()[0];
        assert!(pool.cell::<i64>("N").is_err());
        let wrong_case = db.readers().unwrap().each("SELECT 1 AS n", (), |row| row.cell::<i64>("N").map(drop));
        assert!(wrong_case.unwrap_err().to_string().contains("no column named N"));

        for beyond in [Kopecks::MAX.get() + 1, -Kopecks::MAX.get() - 1] {
            let sql = format!("SELECT {beyond} AS k");
            let pool = &query(db.conn(), &sql, []).await.unwrap()[0];
            let reader = |read: fn(&ReaderRow<'_, '_>) -> Result<(), DbErr>| {
                db.readers().unwrap().each(&sql, (), read).unwrap_err().to_string()
            };
            let refusals = [
                pool.cell::<Kopecks>("k").unwrap_err().to_string(),
                pool.cell::<Option<Kopecks>>("k").unwrap_err().to_string(),
                reader(|row| row.cell::<Kopecks>("k").map(drop)),
                reader(|row| row.cell::<Option<Kopecks>>("k").map(drop)),
            ];
            for refusal in refusals {
                assert!(refusal.contains(&format!("сумма {beyond} коп.")), "{refusal}");
            }
        }
        db.close().await.unwrap();
    }

    /// A value a reader binds finds the row sqlx stored it in: a moment, a date, a flag, a
    /// number, a text and a NULL, each compared as SQLite compares them (text byte for byte).
    #[tokio::test]
    async fn a_reader_binds_values_as_sqlx_stores_them() {
        use chrono::TimeZone;

        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir, "r.db").await;
        write(&db, "CREATE TABLE t (ts TEXT, ms TEXT, d DATE, b BOOLEAN, small INTEGER, s TEXT, none TEXT)").await;
        let values = || -> [Value; 7] {
            [
                Utc.with_ymd_and_hms(2026, 5, 31, 18, 0, 0).unwrap().into(),
                (Utc.with_ymd_and_hms(2026, 5, 31, 18, 0, 0).unwrap() + chrono::Duration::milliseconds(250)).into(),
                NaiveDate::from_ymd_opt(2026, 3, 10).unwrap().into(),
                true.into(),
                7_i32.into(),
                "участок".into(),
                Option::<String>::None.into(),
            ]
        };
        let txn = db.begin_write().await.unwrap();
        let insert = crate::db::sql(db.backend(), "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", values());
        txn.execute_raw(insert).await.unwrap();
        txn.commit().await.unwrap();
        let sql = "SELECT COUNT(*) AS n FROM t \
                   WHERE ts = ? AND ms = ? AND d = ? AND b = ? AND small = ? AND s = ? AND none IS ?";
        let params: Vec<_> = values().into_iter().map(|v| bind(v).unwrap()).collect();
        let mut found = 0;
        db.readers()
            .unwrap()
            .each(sql, rusqlite::params_from_iter(params), |row| {
                found = row.cell("n")?;
                Ok(())
            })
            .unwrap();
        assert_eq!(found, 1_i64);
        db.close().await.unwrap();
    }
}
