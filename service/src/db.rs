//! Opening the database, and the one way to write to it: [`Db::begin_write`].
//!
//! ```ignore
//! let txn = ctx.db.begin_write().await?;
//! let row = thing.insert(&txn).await?;
//! audit::record(&txn, ctx, actor, "thing.add", "thing", Some(row.id), details).await?;
//! txn.commit().await?;
//! ```
//!
//! Every write goes through a [`WriteTxn`], however small (one `UPDATE` of a login counter, a
//! session row): on SQLite it waits its turn in this process's writer queue and then holds
//! SQLite's write lock from its first statement (`BEGIN IMMEDIATE`), so a read-then-write never
//! fails half-way with «database is locked» and writers are served in order instead of by the
//! busy handler's polling. A write on the pool outside a transaction would skip the queue and
//! race the writers in it. Every query of a write runs on the transaction (`&txn`), never on the
//! pool: a pool connection would wait for the lock the transaction holds. On PostgreSQL the
//! transaction takes one advisory lock first (`WRITER_LOCK`): instances behind a balancer write
//! one at a time too, so no check-then-write (a month still open, a document not yet resolved)
//! is overtaken by another instance's write.
//!
//! Whatever is not committed is rolled back: a `?` or `return` that leaves the function early
//! drops the guard. sea-orm's `DatabaseTransaction` rolls back in its `Drop` (sea-orm 2.0.4,
//! `database/transaction.rs`, `start_rollback`); on SQLite sqlx hands the `ROLLBACK` to the
//! connection's worker thread at once, on PostgreSQL it runs before the connection is used again.
//! The guard's turn in the queue passes on after the transaction is gone, so the next writer does
//! not find the lock still held.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, ExecResult, IsolationLevel, QueryFilter, QueryResult, Select,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::Chain;

mod reader;
mod row;

use reader::{Readers, Snapshot};
pub use row::{Cell, FromRow, Row};

/// The PostgreSQL advisory lock every write transaction takes first: one writer at a time across
/// the instances, so a read-then-write (a month's close, a document resolved, a share booked)
/// sees every write committed before it, as SQLite's single writer gives.
const WRITER_LOCK: i64 = 0x4348_4552_4e4f; // "CHERNO"

/// How long a writer waits for another process's write lock before SQLite gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// A PostgreSQL connection idle this long is pinged before use: the server or a proxy may have
/// dropped it meanwhile.
const PING_AFTER_IDLE: Duration = Duration::from_secs(60);

/// SQLite reads the file through its own page cache, never a memory map (`mmap_size`, set on
/// every connection, the readers' too). Each connection remaps its map whenever the file grows:
/// under the bot's writes the server made 87 000 `munmap` calls for 12 000 updates, and unmapped
/// it answered 20–35 % more of them (issue 20, BENCHMARKS.md run 8). No read measured faster
/// mapped (the debt statement, the cold report), and a map counted the file's pages in a
/// command's memory: the report of a 272 MB file peaked at 350 MB mapped, 95 MB unmapped.
const MMAP_SIZE: i64 = 0;

/// The database connection pool, plus a gate that queues this process's SQLite writers (see
/// [`Db::begin_write`]) and, on an SQLite file, readers for the two reads made off sqlx's thread
/// (`reader`'s module documentation says which and why).
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// SQLite has one writer at a time; queueing writers here instead of in SQLite's busy handler
    /// keeps waits short and fair and never surfaces "database is locked" to a user.
    write_gate: Option<Arc<Mutex<()>>>,
    /// SQLite file only: connections for the reads made off sqlx's thread ([`Readers`]).
    readers: Option<Arc<Readers>>,
    /// [`Db::read_snapshot`]'s turns: one at a time.
    snapshots: Arc<Semaphore>,
}

impl Db {
    /// Opens the database at `url` (`sqlite://path?mode=rwc` or `postgres://…`) and brings its
    /// schema up to date. For SQLite the file and its directory are created, WAL and the busy
    /// timeout are set, and foreign keys are enforced.
    ///
    /// Migrations run on a connection of their own that is closed before the pool opens: an
    /// SQLite connection caches the schema, and one that read it while another connection was
    /// still creating indexes can refuse statements that need them.
    pub async fn open(url: &str) -> anyhow::Result<Db> {
        let migrator = Self::connect(url, 1).await?;
        Migrator::up(&migrator.conn, None).await.context("running migrations")?;
        migrator.conn.close().await?;
        let is_sqlite = is_sqlite_url(url);
        let pool_size = if !is_sqlite {
            16
        } else if sqlite_file(url).is_none() {
            1
        } else {
            8
        };
        let mut db = Self::connect(url, pool_size).await?;
        if is_sqlite && opens_plainly(url) {
            // The file as SQLite opened it for the pool: absolute, decoded from the URL; none
            // for a database in memory, which only the pool's connection can see.
            let main = query(&db.conn, "SELECT file FROM pragma_database_list WHERE name = 'main'", []).await?;
            let file: Option<String> = main.first().map(|row| row.try_get("", "file")).transpose()?;
            db.readers = file.filter(|f| !f.is_empty()).map(|f| Arc::new(Readers::new(f.into())));
        }
        Ok(db)
    }

    async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false).max_connections(max_connections);
        let is_sqlite = is_sqlite_url(url);
        if is_sqlite {
            // sqlx pings a pooled connection at every checkout unless told not to. An SQLite
            // connection is a thread of this process that cannot hang up, and its ping is a round
            // trip to that thread as dear as a `SELECT 1`: each query outside a transaction paid
            // for two.
            options.test_before_acquire(false);
            if let Some(dir) = sqlite_file(url).and_then(|p| p.parent().map(Path::to_path_buf))
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            options.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .create_if_missing(true)
                    .pragma("mmap_size", MMAP_SIZE.to_string())
            });
        } else {
            options.test_before_acquire_if_idle_for(PING_AFTER_IDLE);
        }
        let conn = Database::connect(options).await.with_context(|| format!("connecting to {}", redact(url)))?;
        Ok(Db {
            conn,
            write_gate: is_sqlite.then(|| Arc::new(Mutex::new(()))),
            readers: None,
            snapshots: Arc::new(Semaphore::new(1)),
        })
    }

    /// The pool, for reads outside a transaction.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Readers, for the debt statement on the calling thread (an SQLite file only).
    pub(crate) fn readers(&self) -> Option<&Readers> {
        self.readers.as_deref()
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Closes every connection. On SQLite the last one to close folds the WAL back into the file
    /// and removes it, so a command that wrote leaves one whole file behind it.
    pub async fn close(&self) -> Result<(), DbErr> {
        if let Some(readers) = &self.readers {
            readers.close();
        }
        self.conn.close_by_ref().await
    }

    /// Starts a write: waits for this process's turn to write (SQLite), then opens a transaction
    /// that holds the write lock from its first statement (`BEGIN IMMEDIATE` on SQLite, the
    /// writers' advisory lock on PostgreSQL). Commit
    /// it with [`WriteTxn::commit`]; dropped uncommitted, it rolls back.
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let asked = std::time::Instant::now();
        let queued = match &self.write_gate {
            Some(gate) => Some(Arc::clone(gate).lock_owned().await),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: queued.is_some().then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self.conn.begin_with_options(options).await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            // Held until commit or rollback: every instance's writes take turns, as on SQLite.
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITER_LOCK})")).await?;
        }
        crate::metrics::write_waited(asked.elapsed());
        Ok(WriteTxn { txn, _queued: queued })
    }

    /// A read-only transaction on the pool that sees one state of the database throughout.
    /// SQLite in WAL mode gives every transaction a snapshot; PostgreSQL needs `REPEATABLE READ`
    /// for that (SQLite ignores the options with a logged warning, hence the split).
    pub async fn begin_read(&self) -> Result<DatabaseTransaction, DbErr> {
        let postgres = self.backend() == DatabaseBackend::Postgres;
        self.conn
            .begin_with_config(
                postgres.then_some(IsolationLevel::RepeatableRead),
                postgres.then_some(AccessMode::ReadOnly),
            )
            .await
    }

    /// Runs `read` on one snapshot of the database, one such read at a time per process (the
    /// month of 10 000 plots is a few hundred milliseconds of reading), so reports asked together
    /// queue here instead of filling the threads logins and photos need, and the WAL they pin
    /// gets a moment to be folded back between them.
    ///
    /// On an SQLite file the reads run on a reader, in one read transaction, on a blocking
    /// thread, which keeps the turn until it is done, even when its caller is gone: a burst of
    /// reports never holds more than one month's rows (see [`crate::heavy`] on bursts of blocking
    /// threads). Through sqlx's pool each of the month's 170 000 rows crossed to its SQLite
    /// thread and back, which cost the cold report more than SQLite's own reading (issue 20;
    /// BENCHMARKS.md, run 9); the read is polled once (`run_on`). Given up by its caller (a
    /// closed page), it stops before its next query or row. Elsewhere the reads run in
    /// [`Db::begin_read`]'s transaction, rolled back with the caller's future.
    pub async fn read_snapshot<R: SnapshotRead>(&self, read: R) -> Result<R::Output, DbErr> {
        let turn = self.snapshot_turn().await?;
        match &self.readers {
            Some(readers) => {
                let readers = Arc::clone(readers);
                let given_up = GivenUp::default();
                let flag = given_up.flag();
                off_runtime(&turn, move || run_on(&readers, readers.begin(flag)?, read)).await
            }
            None => {
                let txn = self.begin_read().await?;
                let output = read.run(&txn).await?;
                txn.commit().await?;
                drop(turn);
                Ok(output)
            }
        }
    }

    /// Runs `first` and `second` side by side on one snapshot of the database, in
    /// [`Db::read_snapshot`]'s turn; either failing gives the other up. On an SQLite file each
    /// runs on a reader and a blocking thread of its own, their snapshots fixed while this
    /// process held the write lock, so that nothing was committed between them (SQLite's
    /// `sqlite3_snapshot_open` would share one state without the lock, but it is neither built in
    /// nor wrapped by rusqlite). Elsewhere, or when another process keeps the lock past the busy
    /// timeout (after waiting for it that long, 15 s), they run one after the other in one
    /// snapshot, `first` first. On an SQLite file it waits for this process's writers queued
    /// before it, holding the turn. It takes the turn, then the write lock: called while holding
    /// a [`WriteTxn`], it would wait forever, and every snapshot read after it.
    pub async fn read_snapshots<A: SnapshotRead, B: SnapshotRead>(
        &self,
        first: A,
        second: B,
    ) -> Result<(A::Output, B::Output), DbErr> {
        let Some(readers) = &self.readers else { return self.read_snapshot((first, second)).await };
        let turn = self.snapshot_turn().await?;
        let given_up = GivenUp::default();
        // Begun before the lock, which is then held only while both take their first read.
        let begin = {
            let (readers, flag) = (Arc::clone(readers), given_up.flag());
            move || Ok((readers.begin(Arc::clone(&flag))?, readers.begin(flag)?))
        };
        let (one, other) = off_runtime(&turn, begin).await?;
        let readers = Arc::clone(readers);
        let lock = match self.begin_write().await {
            Ok(lock) => lock,
            Err(e) => {
                tracing::warn!("two readers could not take the write lock, reading one after the other: {}", Chain(&e));
                return off_runtime(&turn, move || {
                    readers.end(other, Ok(()))?;
                    run_on(&readers, one, (first, second))
                })
                .await;
            }
        };
        let pinned = off_runtime(&turn, move || {
            one.pin()?;
            other.pin()?;
            Ok((one, other))
        })
        .await;
        // Nothing was written: a rollback that fails costs the reads nothing.
        if let Err(e) = lock.rollback().await {
            tracing::warn!("ending the write lock two readers took: {}", Chain(&e));
        }
        let (one, other) = pinned?;
        let beside = Arc::clone(&readers);
        tokio::try_join!(
            off_runtime(&turn, move || run_on(&readers, one, first)),
            off_runtime(&turn, move || run_on(&beside, other, second))
        )
    }

    /// A turn to read a snapshot: one at a time (see [`Db::read_snapshot`]).
    async fn snapshot_turn(&self) -> Result<Arc<OwnedSemaphorePermit>, DbErr> {
        let turn = Arc::clone(&self.snapshots).acquire_owned().await.map_err(|e| DbErr::Custom(e.to_string()))?;
        Ok(Arc::new(turn))
    }
}

/// Runs `read` on `snapshot` on this (blocking) thread, then ends the snapshot. A reader answers
/// at once, so `read` is polled once, and one that waits for anything else fails instead of
/// holding the thread.
fn run_on<R: SnapshotRead>(readers: &Readers, snapshot: Snapshot, read: R) -> Result<R::Output, DbErr> {
    let output = {
        let mut reading = std::pin::pin!(read.run(&snapshot));
        match reading.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => {
                Err(DbErr::Custom("a snapshot read waited for something besides its reads".to_owned()))
            }
        }
    };
    readers.end(snapshot, output)
}

/// `work` on a blocking thread that keeps `turn` until it is done, even when its caller is gone.
async fn off_runtime<T: Send + 'static>(
    turn: &Arc<OwnedSemaphorePermit>,
    work: impl FnOnce() -> Result<T, DbErr> + Send + 'static,
) -> Result<T, DbErr> {
    let turn = Arc::clone(turn);
    let working = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    });
    working.await.map_err(|e| DbErr::Custom(format!("a snapshot read failed: {e}")))?
}

/// Raised when [`Db::read_snapshot`]'s caller is gone (or done), so a reader stops reading.
#[derive(Default)]
struct GivenUp(Arc<AtomicBool>);

impl GivenUp {
    fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

impl Drop for GivenUp {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Where a rule's rows come from: the pool, a transaction, or a reader's snapshot. A rule
/// that reads through it is written once for every driver; on the pool the rows cross sqlx's
/// threads, on a reader they are read on the thread that asks.
pub trait Source: Sync {
    /// Runs `sql` (`?` placeholders, see [`sql`]) with `values`, one record per row.
    fn rows<T: FromRow + Send>(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> impl Future<Output = Result<Vec<T>, DbErr>> + Send;
}

impl<C: ConnectionTrait> Source for C {
    async fn rows<T: FromRow + Send>(&self, sql_text: &str, values: Vec<Value>) -> Result<Vec<T>, DbErr> {
        query(self, sql_text, values).await?.iter().map(T::from_row).collect()
    }
}

/// Reads that must see one state of the database, run by [`Db::read_snapshot`] on whichever
/// [`Source`] gives it. They await nothing but the source's rows.
pub trait SnapshotRead: Send + 'static {
    type Output: Send + 'static;

    fn run(self, source: &impl Source) -> impl Future<Output = Result<Self::Output, DbErr>> + Send;
}

/// Two reads one after the other, as [`Db::read_snapshots`] runs them where it cannot run them
/// side by side.
impl<A: SnapshotRead, B: SnapshotRead> SnapshotRead for (A, B) {
    type Output = (A::Output, B::Output);

    async fn run(self, source: &impl Source) -> Result<Self::Output, DbErr> {
        Ok((self.0.run(source).await?, self.1.run(source).await?))
    }
}

/// A write transaction and this process's turn to write (see the module's documentation).
/// Queries take it as a connection (`&txn`); it derefs to sea-orm's transaction.
#[must_use = "a write is rolled back unless it is committed"]
pub struct WriteTxn {
    // Fields drop in order: the transaction rolls back before the turn passes to the next writer.
    txn: DatabaseTransaction,
    _queued: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// Commits the write; the next writer's turn comes once this returns.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls the write back; the next writer's turn comes once this returns.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// Every query of a write runs on its transaction, written `.one(&txn)` like on any connection.
#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// A raw statement written with `?` placeholders, rewritten to `$1, $2…` for PostgreSQL, so
/// hand-written aggregate queries stay portable. The SQL must not contain `?` in literals.
pub fn sql(backend: DatabaseBackend, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    let sql = match backend {
        DatabaseBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| match c {
                    '?' => {
                        n += 1;
                        format!("${n}")
                    }
                    c => c.to_string(),
                })
                .collect()
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Runs a hand-written query (see [`sql`]) on any connection or transaction.
pub async fn query(
    conn: &impl ConnectionTrait,
    sql_text: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    conn.query_all_raw(sql(conn.get_database_backend(), sql_text, values)).await
}

/// Values bound in one `IN (…)` list: far under the bound variables a statement may have
/// (32 766 on SQLite, 65 535 on PostgreSQL), whatever else the query binds.
pub const IN_BATCH: usize = 1_000;

/// The rows of `select` whose `column` is one of `values`, asked for [`IN_BATCH`] values at a
/// time, so that a list as long as an import file never meets the limit on bound variables.
/// Each value is asked for once; rows come batch after batch, each in the select's order.
pub async fn find_in<E, C, V>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    column: C,
    values: impl IntoIterator<Item = V>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ColumnTrait,
    V: Into<Value> + Eq + std::hash::Hash,
{
    let values: std::collections::HashSet<V> = values.into_iter().collect();
    let mut found = Vec::new();
    let mut values = values.into_iter().peekable();
    while values.peek().is_some() {
        let batch: Vec<V> = values.by_ref().take(IN_BATCH).collect();
        found.extend(select.clone().filter(column.is_in(batch)).all(conn).await?);
    }
    Ok(found)
}

/// An SQLite URL, a file's or a database in memory (`sqlite::memory:`).
pub fn is_sqlite_url(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The file behind an SQLite URL, if it names one (none in memory), decoded as sqlx decodes it
/// (`my%20db.sqlite` is `my db.sqlite`): a restore must replace the very file the server opens.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let (path, mut params) = sqlite_parts(url)?;
    let in_memory = path.contains(":memory:") || params.any(|(key, value)| key == "mode" && value == "memory");
    let file = SqliteConnectOptions::from_str(url).ok()?.get_filename().to_path_buf();
    (!path.is_empty() && !in_memory && file != Path::new(":memory:")).then_some(file)
}

/// The URL of the SQLite file at `path`, opened in `mode` (`ro`, `rw`, `rwc`): what
/// [`sqlite_file`] reads back as `path`, whatever `%`, `?` or `#` the name holds.
pub fn sqlite_url(path: &Path, mode: &str) -> String {
    let path = path.display().to_string().replace('%', "%25").replace('?', "%3F").replace('#', "%23");
    format!("sqlite://{path}?mode={mode}")
}

/// An SQLite URL's path and its parameters, read as sqlx reads them.
fn sqlite_parts(url: &str) -> Option<(&str, impl Iterator<Item = (String, String)>)> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let params =
        url::form_urlencoded::parse(params.as_bytes()).map(|(key, value)| (key.into_owned(), value.into_owned()));
    Some((path, params))
}

/// Whether the pool opens the file the plain way, as the readers open it: read-write, SQLite's
/// usual locking. Read-only, immutable or another VFS keep every read on the pool.
fn opens_plainly(url: &str) -> bool {
    sqlite_parts(url).is_some_and(|(_, mut params)| {
        params.all(|(key, value)| (key == "mode" && matches!(value.as_str(), "rw" | "rwc")) || key == "cache")
    })
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_not_committed_leaves_nothing_and_passes_the_turn_on() {
        use entities::plot;
        use sea_orm::{ActiveModelTrait, NotSet, PaginatorTrait, Set};

        use crate::testing::TestContext;
        let t = TestContext::new().await;
        let new_plot = |number: &str| plot::ActiveModel {
            id: NotSet,
            number: Set(domain::PlotNumber::parse(number).unwrap()),
            address: Set(None),
            notes: Set(None),
            area_m2: Set(None),
            created_at: Set(t.ctx.now()),
        };
        let abandoned = t.ctx.db.begin_write().await.unwrap();
        new_plot("1").insert(&abandoned).await.unwrap();
        drop(abandoned);
        // Not a timing: a turn never passed on would hang here for good.
        let next = tokio::time::timeout(Duration::from_secs(60), t.ctx.db.begin_write()).await;
        let next = next.expect("the abandoned write's turn passes on").unwrap();
        assert_eq!(plot::Entity::find().count(&next).await.unwrap(), 0, "rolled back");
        new_plot("2").insert(&next).await.unwrap();
        next.commit().await.unwrap();
        let stored: Vec<String> =
            plot::Entity::find().all(t.ctx.db.conn()).await.unwrap().iter().map(|p| p.number.to_string()).collect();
        assert_eq!(stored, ["2"]);
    }

    #[tokio::test]
    async fn long_lists_of_values_are_asked_for_in_batches() {
        use domain::{Service, TariffPlan};
        use entities::contract;

        use crate::testing::{TestContext, new_consumer};
        let t = TestContext::new().await;
        t.sign("1", new_consumer("Иванова А. П.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
        // More than either database binds in one statement (SQLite 32 766, PostgreSQL 65 535).
        let numbers: Vec<String> = (0..70_000).map(|i| format!("W-{i}")).collect();
        let numbers = || numbers.iter().map(String::as_str).chain(["W-7"]);
        let conn = t.ctx.db.conn();
        let at_once = contract::Entity::find().filter(contract::Column::Number.is_in(numbers())).all(conn).await;
        assert!(at_once.is_err(), "one statement with 70 000 values");
        let found = find_in(conn, contract::Entity::find(), contract::Column::Number, numbers()).await.unwrap();
        assert_eq!(found.iter().map(|c| c.number.as_str()).collect::<Vec<_>>(), ["W-7"], "asked for once");
    }

    #[tokio::test]
    async fn no_connection_maps_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir.path().join("m.db"), "rwc");
        let db = Db::open(&url).await.unwrap();
        let row = query(db.conn(), "PRAGMA mmap_size", []).await.unwrap().remove(0);
        assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 0, "the pool's");
        let mut mapped = None;
        db.readers()
            .unwrap()
            .each("PRAGMA mmap_size", (), |row| {
                mapped = Some(row.cell::<i64>("mmap_size")?);
                Ok(())
            })
            .unwrap();
        assert_eq!(mapped, Some(0), "a reader's");
        db.close().await.unwrap();
    }

    /// `.cargo/config.toml` builds SQLite without its memory statistics and memory management. A
    /// `LIBSQLITE3_FLAGS` set in the environment wins over that file, and an SQLite not built by
    /// libsqlite3-sys ignores it; either would bring back the global mutexes every allocation and
    /// every page fetched take.
    #[tokio::test]
    async fn sqlite_is_built_without_memory_statistics_or_management() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir.path().join("o.db"), "rwc");
        let db = Db::open(&url).await.unwrap();
        let options: Vec<String> = query(db.conn(), "PRAGMA compile_options", [])
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect();
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        db.close().await.unwrap();
    }

    #[test]
    fn finds_sqlite_files_and_hides_passwords() {
        assert_eq!(sqlite_file("sqlite://data/c.db?mode=rwc"), Some(PathBuf::from("data/c.db")));
        assert_eq!(sqlite_file("sqlite:/tmp/x.db"), Some(PathBuf::from("/tmp/x.db")));
        assert_eq!(sqlite_file("sqlite://data/my%20c.db?mode=rwc"), Some(PathBuf::from("data/my c.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://data/c.db?cache=shared&mode=memory"), None);
        assert_eq!(sqlite_file("sqlite://%3Amemory%3A"), None);
        let odd = Path::new("/data/a%20b?c#d.db");
        assert_eq!(sqlite_file(&sqlite_url(odd, "ro")), Some(odd.to_path_buf()));
        assert!(opens_plainly("sqlite://data/c.db?mode=rwc") && opens_plainly("sqlite:/tmp/x.db"));
        assert!(!opens_plainly("sqlite://data/c.db?mode=ro") && !opens_plainly("sqlite://c.db?immutable=1"));
        assert!(!opens_plainly("sqlite://data/c.db?mode=rwc&vfs=unix-dotfile"));
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
        assert!(is_sqlite_url("sqlite::memory:") && is_sqlite_url("sqlite://data/c.db"));
        assert!(!is_sqlite_url("postgres://u@h/db") && !is_sqlite_url("data/c.db"));
        assert_eq!(redact("postgres://user:secret@localhost/db"), "postgres://user:***@localhost/db");
        assert_eq!(redact("sqlite://data/c.db"), "sqlite://data/c.db");
    }

    #[test]
    fn rewrites_placeholders_for_postgres() {
        let pg = sql(DatabaseBackend::Postgres, "SELECT ? + ?", [1.into(), 2.into()]);
        assert_eq!(pg.sql, "SELECT $1 + $2");
        let lite = sql(DatabaseBackend::Sqlite, "SELECT ? + ?", [1.into(), 2.into()]);
        assert_eq!(lite.sql, "SELECT ? + ?");
    }

    /// Every query of a snapshot read sees the database as at its first, whatever commits
    /// meanwhile: on an SQLite file in a reader's transaction, on PostgreSQL in the pool's. A
    /// read that fails leaves nothing behind: the next one sees the latest commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_snapshot_sees_one_state_while_a_write_commits() {
        use std::sync::mpsc;

        /// Counts, lets the writer write and waits for it (blocking: a snapshot read on a reader
        /// may not await), and counts again.
        struct CountTwice {
            go: mpsc::Sender<()>,
            written: mpsc::Receiver<()>,
        }
        impl SnapshotRead for CountTwice {
            type Output = (i64, i64);

            async fn run(self, source: &impl Source) -> Result<(i64, i64), DbErr> {
                let before = count(source).await?;
                self.go.send(()).expect("the writer waits");
                self.written.recv_timeout(Duration::from_secs(30)).expect("the writer wrote");
                Ok((before, count(source).await?))
            }
        }
        /// Reads, then fails.
        struct Broken;
        impl SnapshotRead for Broken {
            type Output = ();

            async fn run(self, source: &impl Source) -> Result<(), DbErr> {
                count(source).await?;
                source.rows::<Count>("SELECT n FROM no_such_table", vec![]).await.map(drop)
            }
        }

        let t = crate::testing::TestContext::new().await;
        let db = &t.ctx.db;
        assert_eq!(db.readers().is_some(), db.backend() == DatabaseBackend::Sqlite, "a file has readers");
        let write = |db: Db, sql: &'static str| async move {
            let txn = db.begin_write().await.unwrap();
            txn.execute_unprepared(sql).await.unwrap();
            txn.commit().await.unwrap();
        };
        write(db.clone(), "CREATE TABLE notes (v TEXT); INSERT INTO notes VALUES ('1')").await;
        let (go, gone) = mpsc::channel();
        let (wrote, written) = mpsc::channel();
        let (writer_db, runtime) = (db.clone(), tokio::runtime::Handle::current());
        let writer = std::thread::spawn(move || {
            gone.recv_timeout(Duration::from_secs(30)).expect("the read counted once");
            runtime.block_on(write(writer_db, "INSERT INTO notes VALUES ('2')"));
            wrote.send(()).unwrap();
        });
        let counted = tokio::time::timeout(Duration::from_secs(60), db.read_snapshot(CountTwice { go, written }));
        assert_eq!(counted.await.expect("no hang").unwrap(), (1, 1));
        writer.join().unwrap();
        async fn within<T>(read: impl Future<Output = T>) -> T {
            tokio::time::timeout(Duration::from_secs(30), read).await.expect("no hang")
        }
        assert!(within(db.read_snapshot(Broken)).await.unwrap_err().to_string().contains("no_such_table"));
        write(db.clone(), "INSERT INTO notes VALUES ('3')").await;
        assert_eq!(within(db.read_snapshot(Counted)).await.unwrap(), 3, "the next snapshot sees the last write");
    }

    struct Count {
        n: i64,
    }
    crate::from_row!(Count { n });

    async fn count(source: &impl Source) -> Result<i64, DbErr> {
        let rows: Vec<Count> = source.rows("SELECT COUNT(*) AS n FROM notes", vec![]).await?;
        Ok(rows[0].n)
    }

    /// Counts the rows of `notes`: what a pair of reads on one state must agree on.
    struct Counted;

    impl SnapshotRead for Counted {
        type Output = i64;

        async fn run(self, source: &impl Source) -> Result<i64, DbErr> {
            count(source).await
        }
    }

    /// Two reads side by side see one state while writes commit all along, and either failing is
    /// the pair's error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_reads_side_by_side_see_one_state() {
        use std::collections::BTreeSet;

        struct Broken;
        impl SnapshotRead for Broken {
            type Output = ();

            async fn run(self, source: &impl Source) -> Result<(), DbErr> {
                source.rows::<Count>("SELECT n FROM no_such_table", vec![]).await.map(drop)
            }
        }

        let t = crate::testing::TestContext::new().await;
        let db = t.ctx.db.clone();
        let txn = db.begin_write().await.unwrap();
        txn.execute_unprepared("CREATE TABLE notes (v TEXT)").await.unwrap();
        txn.commit().await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = tokio::spawn({
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            async move {
                while !stop.load(Ordering::Relaxed) {
                    let txn = db.begin_write().await.unwrap();
                    txn.execute_unprepared("INSERT INTO notes VALUES ('n')").await.unwrap();
                    txn.commit().await.unwrap();
                }
            }
        });
        async fn within<T>(read: impl Future<Output = T>) -> T {
            tokio::time::timeout(Duration::from_secs(30), read).await.expect("no hang")
        }
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let (one, other) = within(db.read_snapshots(Counted, Counted)).await.unwrap();
            assert_eq!(one, other, "both sides read one state");
            seen.insert(one);
        }
        stop.store(true, Ordering::Relaxed);
        writer.await.unwrap();
        assert!(seen.len() >= 20, "commits landed between the pairs: {} states seen", seen.len());
        let refused = [
            within(db.read_snapshots(Counted, Broken)).await.map(drop),
            within(db.read_snapshots(Broken, Counted)).await.map(drop),
        ];
        for refused in refused {
            assert!(refused.unwrap_err().to_string().contains("no_such_table"));
        }
        let (after, _) = within(db.read_snapshots(Counted, Counted)).await.unwrap();
        assert_eq!(after, within(db.read_snapshot(Counted)).await.unwrap(), "nothing left pinned");
    }

    /// Another process holding the write lock past the busy timeout does not fail a pair of reads:
    /// they run one after the other on one snapshot. It waits out the busy timeout, 15 s.
    #[tokio::test]
    async fn two_reads_without_the_write_lock_run_one_after_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("locked.db");
        let db = Db::open(&sqlite_url(&file, "rwc")).await.unwrap();
        let txn = db.begin_write().await.unwrap();
        txn.execute_unprepared("CREATE TABLE notes (v TEXT); INSERT INTO notes VALUES ('1')").await.unwrap();
        txn.commit().await.unwrap();
        // Another process's writer, as far as this one can tell: outside its queue of writers.
        let other = rusqlite::Connection::open(&file).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO notes VALUES ('2')").unwrap();
        let asked = std::time::Instant::now();
        let read = tokio::time::timeout(BUSY_TIMEOUT * 2, db.read_snapshots(Counted, Counted));
        assert_eq!(read.await.expect("no hang").unwrap(), (1, 1));
        assert!(asked.elapsed() >= BUSY_TIMEOUT, "the lock was asked for, and waited for");
        other.execute_batch("COMMIT").unwrap();
        drop(other);
        db.close().await.unwrap();
    }

    /// A snapshot read whose caller is gone (a page closed mid-report) stops at its next query
    /// instead of reading the rest of the month for nobody, and keeps the turn until it has
    /// stopped: the next read starts after it.
    #[tokio::test]
    async fn a_snapshot_read_given_up_stops_reading() {
        use std::sync::mpsc;

        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        struct One {
            n: i64,
        }
        crate::from_row!(One { n });
        /// Reads, waits until its caller is gone, reads again, tells how that went and counts
        /// itself done.
        struct Abandoned {
            started: mpsc::Sender<()>,
            resume: mpsc::Receiver<()>,
            second: mpsc::Sender<Result<(), DbErr>>,
            done: Arc<AtomicUsize>,
        }
        /// How many reads were done when it began.
        struct Next(Arc<AtomicUsize>);
        impl SnapshotRead for Next {
            type Output = usize;

            async fn run(self, _: &impl Source) -> Result<usize, DbErr> {
                Ok(self.0.load(Ordering::SeqCst))
            }
        }
        impl SnapshotRead for Abandoned {
            type Output = ();

            async fn run(self, source: &impl Source) -> Result<(), DbErr> {
                let first: Vec<One> = source.rows("SELECT 1 AS n", vec![]).await?;
                assert_eq!(first[0].n, 1);
                self.started.send(()).expect("the test waits");
                self.resume.recv_timeout(Duration::from_secs(30)).expect("the test resumes it");
                let again = source.rows::<One>("SELECT 1 AS n", vec![]).await.map(drop);
                self.second.send(again).expect("the test waits");
                self.done.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
        let t = crate::testing::TestContext::new().await;
        if t.ctx.db.readers().is_none() {
            return; // PostgreSQL: the caller's transaction is dropped with it and rolls back.
        }
        let ((started, has_started), (resumed, resume), (second, after)) =
            (mpsc::channel(), mpsc::channel(), mpsc::channel());
        let (db, done) = (t.ctx.db.clone(), Arc::new(AtomicUsize::new(0)));
        let abandoned = Abandoned { started, resume, second, done: Arc::clone(&done) };
        let caller = tokio::spawn(async move { db.read_snapshot(abandoned).await });
        tokio::task::spawn_blocking(move || has_started.recv_timeout(Duration::from_secs(30))).await.unwrap().unwrap();
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        let db = t.ctx.db.clone();
        let next = tokio::spawn(async move { db.read_snapshot(Next(done)).await });
        // Time for the next read to start, were the turn passed on with the caller.
        tokio::time::sleep(Duration::from_millis(200)).await;
        resumed.send(()).unwrap();
        let again = tokio::task::spawn_blocking(move || after.recv_timeout(Duration::from_secs(30))).await.unwrap();
        let refused = again.unwrap().unwrap_err().to_string();
        assert!(refused.contains("given up"), "{refused}");
        let began_after = tokio::time::timeout(Duration::from_secs(30), next).await.expect("no hang");
        assert_eq!(began_after.unwrap().unwrap(), 1, "the next read began after the abandoned one ended");
    }

    /// A snapshot waits for a lock as long as the pool would; a read on the calling thread, before
    /// and after it on the same connection, no longer than a runtime thread may.
    #[tokio::test]
    async fn a_snapshot_waits_for_locks_as_long_as_the_pool_and_no_longer() {
        struct Timeout {
            timeout: i64,
        }
        crate::from_row!(Timeout { timeout });
        const ASK: &str = "SELECT timeout FROM pragma_busy_timeout";
        /// Reads the busy timeout, and fails afterwards if told to.
        struct Read {
            fail: bool,
        }
        impl SnapshotRead for Read {
            type Output = i64;

            async fn run(self, source: &impl Source) -> Result<i64, DbErr> {
                let rows: Vec<Timeout> = source.rows(ASK, vec![]).await?;
                match self.fail {
                    true => Err(DbErr::Custom("failed on purpose".to_owned())),
                    false => Ok(rows[0].timeout),
                }
            }
        }
        let t = crate::testing::TestContext::new().await;
        let Some(readers) = t.ctx.db.readers() else {
            return; // PostgreSQL: no readers.
        };
        let on_calling_thread = || {
            let mut ms = 0;
            readers
                .each(ASK, (), |row| {
                    ms = row.cell("timeout")?;
                    Ok(())
                })
                .unwrap();
            ms
        };
        assert_eq!(on_calling_thread(), 1_000);
        let pool = i64::try_from(BUSY_TIMEOUT.as_millis()).unwrap();
        assert_eq!(t.ctx.db.read_snapshot(Read { fail: false }).await.unwrap(), pool);
        assert_eq!(on_calling_thread(), 1_000, "restored on the reader the snapshot gave back");
        t.ctx.db.read_snapshot(Read { fail: true }).await.unwrap_err();
        assert_eq!(on_calling_thread(), 1_000);
    }

    /// A snapshot read on a reader that awaits anything but its rows fails at once, rather than
    /// holding its thread and the snapshot's turn while it waits.
    #[tokio::test]
    async fn a_snapshot_read_that_waits_fails_instead_of_holding_its_turn() {
        struct Waits;
        impl SnapshotRead for Waits {
            type Output = ();

            async fn run(self, _: &impl Source) -> Result<(), DbErr> {
                tokio::task::yield_now().await;
                Ok(())
            }
        }
        let t = crate::testing::TestContext::new().await;
        if t.ctx.db.readers().is_none() {
            return; // PostgreSQL: the pool's transaction is awaited like any other query.
        }
        let refused = t.ctx.db.read_snapshot(Waits).await.unwrap_err().to_string();
        assert!(refused.contains("waited for something besides its reads"), "{refused}");
        t.ctx.db.read_snapshot(Waits).await.unwrap_err();
    }

    /// The entities rules read through a `Source` come out as sea-orm reads them, field for
    /// field, through a snapshot (a reader on an SQLite file) as through the pool.
    #[tokio::test]
    async fn every_entity_read_through_a_source_is_the_one_sea_orm_reads() {
        use std::marker::PhantomData;

        use entities::{contract, line_plot, loss_decision, meter, network_line, plot};
        use sea_orm::QueryOrder;

        use crate::demo::{self, DemoSpec};
        use crate::network::{self, Decision};

        struct All<T>(String, PhantomData<fn() -> T>);
        impl<T: FromRow + Send + 'static> SnapshotRead for All<T> {
            type Output = Vec<T>;

            async fn run(self, source: &impl Source) -> Result<Vec<T>, DbErr> {
                source.rows(&self.0, vec![]).await
            }
        }
        async fn same<E>(db: &Db, table: &'static str, id: E::Column)
        where
            E: EntityTrait,
            E::Model: FromRow + PartialEq + std::fmt::Debug + Send + 'static,
        {
            let sql = format!("SELECT * FROM {table} ORDER BY id");
            let expected = E::find().order_by_asc(id).all(db.conn()).await.unwrap();
            assert!(!expected.is_empty(), "{table} has rows to compare");
            let read = db.read_snapshot(All::<E::Model>(sql.clone(), PhantomData));
            let through_snapshot = tokio::time::timeout(Duration::from_secs(30), read).await.expect("no hang");
            assert_eq!(through_snapshot.unwrap(), expected, "{table}");
            assert_eq!(All::<E::Model>(sql, PhantomData).run(db.conn()).await.unwrap(), expected, "{table}");
        }

        let t = crate::testing::TestContext::new().await;
        demo::generate(&t.ctx, DemoSpec { plots: 30, months: 3, seed: 3 }).await.unwrap();
        demo::network(&t.ctx).await.unwrap();
        let chairman = crate::testing::staff(&t.ctx, "chairman", domain::Role::Admin).await;
        let decision =
            Decision { method: domain::LossMethod::Area, cap_percent: Some(10), flag_percent: 12, decided_on: None };
        let actor = crate::audit::Actor::Staff(chairman.id);
        network::decide(&t.ctx, domain::Service::Electricity, decision, t.ctx.today(), actor).await.unwrap();
        let db = &t.ctx.db;
        // The demo leaves these empty: one row of each gets a value, so it is compared too.
        let day = || Value::from(t.ctx.today());
        let txn = db.begin_write().await.unwrap();
        for (update, values) in [
            ("UPDATE contracts SET closed_on = ? WHERE id = (SELECT MIN(id) FROM contracts)", vec![day()]),
            (
                "UPDATE meters SET removed_on = ?, seal_number = 'П-17', seal_checked_on = ?, verification_due = ? \
                 WHERE id = (SELECT MIN(id) FROM meters)",
                vec![day(), day(), day()],
            ),
            (
                "UPDATE plots SET area_m2 = 612, address = 'Садовая, 3', notes = 'угловой' WHERE id = (SELECT MIN(id) FROM plots)",
                vec![],
            ),
        ] {
            txn.execute_raw(sql(db.backend(), update, values)).await.unwrap();
        }
        txn.commit().await.unwrap();
        same::<contract::Entity>(db, "contracts", contract::Column::Id).await;
        same::<line_plot::Entity>(db, "line_plots", line_plot::Column::Id).await;
        same::<loss_decision::Entity>(db, "loss_decisions", loss_decision::Column::Id).await;
        same::<meter::Entity>(db, "meters", meter::Column::Id).await;
        same::<network_line::Entity>(db, "network_lines", network_line::Column::Id).await;
        same::<plot::Entity>(db, "plots", plot::Column::Id).await;
    }
}
