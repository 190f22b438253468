//! Backups of the SQLite database: `VACUUM INTO` writes a consistent copy while the system keeps
//! running (readers and writers are not stopped). Every night the scheduler takes one into
//! [`Settings::backup_dir`](crate::Settings), verifies it and rotates the older ones
//! ([`take_nightly`], [`rotation`]); [`restore`] puts one back while the server is stopped
//! ([`ServerLock`] tells).
//!
//! On PostgreSQL nothing is copied here: its own `pg_dump --format=custom` is the tool.

mod lock;
mod restore;
pub mod rotation;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use entities::delivery;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

pub use lock::ServerLock;
pub use restore::{Restored, restore};

use crate::{Context, Db};

/// `deliveries.kind` of the nightly backup: one per night, whichever instance takes it.
pub const KIND: &str = "backup";
/// `deliveries.kind` of telling an admin that a night's backup failed: once per admin and day.
pub const FAILED_KIND: &str = "backup_failed";
/// What the operator runs on PostgreSQL instead (the panel and the log say so).
pub const PG_DUMP: &str = "pg_dump --format=custom --file=chernomorsk.dump \"$DATABASE_URL\"";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} уже существует; укажите новый файл")]
    Exists(String),
    #[error("резервная копия PostgreSQL делается его средствами: pg_dump --format=custom")]
    NotSqlite,
    #[error("база в памяти, а не в файле: восстанавливать некуда; укажите в DATABASE_URL файл SQLite")]
    InMemory,
    #[error("{0} — не база SQLite (файл пуст, обрезан или это другой файл)")]
    NotADatabase(String),
    #[error("{file} повреждена: PRAGMA integrity_check ответила «{report}»")]
    Damaged { file: String, report: String },
    #[error("{0} — база SQLite, но не «Черноморска»: в ней нет журнала миграций seaql_migrations")]
    Foreign(String),
    #[error("{file} записана более новой версией программы (миграция {migration} ей неизвестна); обновите программу")]
    Newer { file: String, migration: String },
    #[error("в копии {file} схема не последняя (нет миграции {migration}); копия не годится")]
    Stale { file: String, migration: String },
    #[error(
        "сервер работает с этой базой (занят {0}); остановите его (docker compose stop app) и повторите восстановление"
    )]
    ServerRunning(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// Writes a consistent copy of the database to `path` (which must not exist).
pub async fn write(db: &Db, path: &Path) -> Result<(), BackupError> {
    if db.backend() != DatabaseBackend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    if path.exists() {
        return Err(BackupError::Exists(path.display().to_string()));
    }
    let quoted = path.to_string_lossy().replace('\'', "''");
    db.conn().execute_unprepared(&format!("VACUUM INTO '{quoted}'")).await?;
    Ok(())
}

/// `PRAGMA integrity_check` on an SQLite database: "ok" when it is sound.
pub async fn integrity_check(db: &Db) -> Result<String, DbErr> {
    integrity_report(db.conn()).await
}

async fn integrity_report(conn: &impl ConnectionTrait) -> Result<String, DbErr> {
    let rows = crate::db::query(conn, "PRAGMA integrity_check", []).await?;
    let lines: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0)).collect::<Result<_, _>>()?;
    Ok(lines.join("\n"))
}

/// How current a copy's schema must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// Exactly this program's (a copy just taken).
    Current,
    /// This program's or older: migrations bring it up to date (a copy to restore).
    Migratable,
}

/// Opens the SQLite file at `path` read-only and checks it: a database, sound
/// (`PRAGMA integrity_check`), this application's (its migration journal), its schema as `schema`
/// requires. Returns how many migrations it lacks.
async fn check_copy(path: &Path, schema: Schema) -> Result<usize, BackupError> {
    let file = path.display().to_string();
    let mut header = [0u8; 16];
    let read =
        std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header)).map_err(|e| match e
            .kind()
        {
            std::io::ErrorKind::UnexpectedEof => BackupError::NotADatabase(file.clone()),
            _ => BackupError::Io { what: format!("чтение {file}"), source: e },
        });
    read?;
    if &header != b"SQLite format 3\0" {
        return Err(BackupError::NotADatabase(file));
    }
    let conn = open_file(path, "ro").await?;
    let checked = check_open_copy(&conn, &file, schema).await;
    conn.close().await?;
    checked
}

async fn check_open_copy(conn: &DatabaseConnection, file: &str, schema: Schema) -> Result<usize, BackupError> {
    let report = match integrity_report(conn).await {
        Ok(report) => report,
        // A damaged header or page map fails the check itself.
        Err(e) => e.to_string(),
    };
    if report != "ok" {
        return Err(BackupError::Damaged { file: file.to_owned(), report: report.chars().take(300).collect() });
    }
    let applied = crate::db::query(conn, "SELECT version FROM seaql_migrations", [])
        .await
        .map_err(|_| BackupError::Foreign(file.to_owned()))?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    if applied.is_empty() {
        return Err(BackupError::Foreign(file.to_owned()));
    }
    let known: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    if let Some(unknown) = applied.iter().find(|name| !known.contains(name)) {
        return Err(BackupError::Newer { file: file.to_owned(), migration: unknown.clone() });
    }
    let missing: Vec<&String> = known.iter().filter(|name| !applied.contains(name)).collect();
    match (schema, missing.first()) {
        (Schema::Current, Some(first)) => {
            Err(BackupError::Stale { file: file.to_owned(), migration: (*first).clone() })
        }
        _ => Ok(missing.len()),
    }
}

/// One connection to the SQLite file at `path` in `mode` (`ro`, `rw`), nothing else set: the
/// copy keeps the journal mode it was written with.
async fn open_file(path: &Path, mode: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(crate::db::sqlite_url(path, mode));
    options.sqlx_logging(false).max_connections(1).acquire_timeout(Duration::from_secs(15));
    Database::connect(options).await
}

/// Checks a copy as the nightly job does before it keeps it: sound, this application's, with the
/// schema this program writes.
pub async fn verify(path: &Path) -> Result<(), BackupError> {
    check_copy(path, Schema::Current).await.map(|_| ())
}

/// A nightly copy in the backups directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub path: PathBuf,
    /// The night it is for (from its name).
    pub date: NaiveDate,
    pub bytes: u64,
    /// When it was written (the file's modification time).
    pub written_at: DateTime<Utc>,
}

const PREFIX: &str = "chernomorsk-";
const SUFFIX: &str = ".db";

/// `chernomorsk-2026-11-30.db`.
pub fn file_name(date: NaiveDate) -> String {
    format!("{PREFIX}{}{SUFFIX}", date.format("%Y-%m-%d"))
}

fn date_of(name: &str) -> Option<NaiveDate> {
    let date = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().filter(|d| file_name(*d) == name)
}

/// The nightly copies in `dir`, newest first; other files there are not ours and are left alone.
pub fn list(dir: &Path) -> Result<Vec<BackupFile>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(format!("чтение каталога {}", dir.display()))(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(format!("чтение каталога {}", dir.display())))?;
        let Some(date) = entry.file_name().to_str().and_then(date_of) else { continue };
        let meta = entry.metadata().map_err(io(format!("чтение {}", entry.path().display())))?;
        if !meta.is_file() {
            continue;
        }
        let written_at = meta.modified().map(DateTime::<Utc>::from).unwrap_or_default();
        files.push(BackupFile { path: entry.path(), date, bytes: meta.len(), written_at });
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.date));
    Ok(files)
}

/// What a night's backup did.
#[derive(Debug)]
pub struct Taken {
    pub file: BackupFile,
    /// Older copies the rotation removed.
    pub removed: Vec<PathBuf>,
}

/// Takes the copy for the night of `date` into the backups directory, verifies it ([`verify`])
/// and only then removes the copies [`rotation::keep`] no longer keeps. The copy is written under
/// a temporary name and renamed when sound, so a crash or a failed check never leaves a
/// half-written file that looks like a backup. A copy already there for `date` (the previous
/// attempt died before recording it) is verified and kept.
pub async fn take_nightly(ctx: &Context, date: NaiveDate) -> Result<Taken, BackupError> {
    let dir = &ctx.settings.backup_dir;
    std::fs::create_dir_all(dir).map_err(io(format!("создание каталога {}", dir.display())))?;
    let path = dir.join(file_name(date));
    if !path.exists() {
        let partial = dir.join(format!("{}.partial", file_name(date)));
        remove_if_there(&partial)?;
        write(&ctx.db, &partial).await?;
        if let Err(e) = verify(&partial).await {
            remove_if_there(&partial)?;
            return Err(e);
        }
        std::fs::rename(&partial, &path).map_err(io(format!("переименование {}", partial.display())))?;
    } else {
        verify(&path).await?;
    }
    let files = list(dir)?;
    let kept = rotation::keep(&files.iter().map(|f| f.date).collect::<Vec<_>>(), rotation::RETENTION);
    let mut removed = Vec::new();
    for old in files.iter().filter(|f| !kept.contains(&f.date)) {
        std::fs::remove_file(&old.path).map_err(io(format!("удаление {}", old.path.display())))?;
        removed.push(old.path.clone());
    }
    let file = files.into_iter().find(|f| f.date == date).ok_or_else(|| BackupError::Io {
        what: format!("чтение {}", path.display()),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    Ok(Taken { file, removed })
}

fn remove_if_there(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io(format!("удаление {}", path.display()))(e))
        }
        _ => Ok(()),
    }
}

/// What the panel shows about backups.
#[derive(Debug)]
pub enum Status {
    /// PostgreSQL: the operator runs [`PG_DUMP`].
    Postgres,
    Sqlite {
        /// Newest first.
        files: Vec<BackupFile>,
        /// The latest night whose backup has not succeeded yet, and why.
        failing: Option<(NaiveDate, String)>,
    },
}

pub async fn status(ctx: &Context) -> Result<Status, BackupError> {
    if ctx.db.backend() != DatabaseBackend::Sqlite {
        return Ok(Status::Postgres);
    }
    // An unreadable directory is what the failing night's error explains; the page still opens.
    let files = list(&ctx.settings.backup_dir).unwrap_or_else(|e| {
        tracing::warn!("listing the backups: {e}");
        Vec::new()
    });
    let latest = delivery::Entity::find()
        .filter(delivery::Column::Kind.eq(KIND))
        .order_by_desc(delivery::Column::Target)
        .one(ctx.db.conn())
        .await?;
    let failing = latest.and_then(|row| {
        let date = row.target.parse().ok()?;
        row.sent_at.is_none().then(|| (date, row.last_error.unwrap_or_else(|| "идёт сейчас".to_owned())))
    });
    Ok(Status::Sqlite { files, failing })
}

/// Age of the newest copy in `dir` at `now`, none when there is none.
pub fn newest_age(dir: &Path, now: DateTime<Utc>) -> Option<chrono::Duration> {
    let newest = list(dir).ok()?.into_iter().map(|f| f.written_at).max()?;
    Some((now - newest).max(chrono::Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_named_by_a_real_date_are_backups() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(file_name(date), "chernomorsk-2026-11-30.db");
        assert_eq!(date_of("chernomorsk-2026-11-30.db"), Some(date));
        for other in [
            "chernomorsk-2026-11-31.db",
            "chernomorsk-2026-1-3.db",
            "chernomorsk-2026-11-30.db.partial",
            "chernomorsk.db",
            "copy.db",
        ] {
            assert_eq!(date_of(other), None, "{other}");
        }
    }
}
