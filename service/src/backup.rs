//! Online backups of the SQLite database: `VACUUM INTO` writes a consistent copy while the system
//! keeps running (readers and writers are not stopped). Restoring is copying that file back in
//! place of the database file while the system is stopped (see the README).

use std::path::Path;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr};

use crate::Db;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} уже существует; укажите новый файл")]
    Exists(String),
    #[error("резервная копия PostgreSQL делается его средствами: pg_dump --format=custom")]
    NotSqlite,
    #[error(transparent)]
    Db(#[from] DbErr),
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
    let rows = crate::db::query(db.conn(), "PRAGMA integrity_check", []).await?;
    let lines: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0)).collect::<Result<_, _>>()?;
    Ok(lines.join("\n"))
}
