//! `chernomorsk restore FILE`: puts a copy back in place of the SQLite database after checking it,
//! and keeps the replaced database beside it.

use std::path::{Path, PathBuf};

use migration::{Migrator, MigratorTrait};

use super::{BackupError, Schema, ServerLock, check_copy, check_open_copy, io, open_file, remove_if_there};
use crate::db::{is_sqlite_url, sqlite_file};

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub database: PathBuf,
    /// Where the database it replaced was put (none when there was none).
    pub kept_aside: Option<PathBuf>,
    /// Migrations run on the copy to bring it up to date.
    pub migrated: usize,
}

/// Restores `copy` as the SQLite database behind `database_url`, `now` naming the file kept
/// aside (`chernomorsk.db.replaced-20261130T231500`). Refused while a server runs on it
/// ([`ServerLock`]), and for a copy that is not a sound database of this application or was
/// written by a newer version. The copy is checked, copied next to the database, brought up to
/// date by the migrations and checked again there before anything is replaced; the original file
/// given is never changed.
pub async fn restore(
    database_url: &str,
    copy: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Restored, BackupError> {
    let database = match sqlite_file(database_url) {
        Some(file) => file,
        None if is_sqlite_url(database_url) => return Err(BackupError::InMemory),
        None => return Err(BackupError::NotSqlite),
    };
    let _lock = ServerLock::acquire(database_url)?;
    check_copy(copy, Schema::Migratable).await?;

    let staged = with_suffix(&database, ".restoring");
    for leftover in [staged.clone(), with_suffix(&staged, "-journal")] {
        remove_if_there(&leftover)?;
    }
    std::fs::copy(copy, &staged).map_err(io(format!("копирование {} в {}", copy.display(), staged.display())))?;
    let migrated = match migrate_staged(&staged).await {
        Ok(migrated) => migrated,
        Err(e) => {
            remove_if_there(&staged)?;
            return Err(e);
        }
    };

    let stamp = now.format("%Y%m%dT%H%M%S");
    // Two restores in one second must not put the second aside over the first.
    let aside = (1..)
        .map(|n| match n {
            1 => with_suffix(&database, &format!(".replaced-{stamp}")),
            n => with_suffix(&database, &format!(".replaced-{stamp}-{n}")),
        })
        .find(|aside| !aside.exists())
        .expect("some numbered name is free");
    let kept_aside = match database.exists() {
        true => {
            // The write-ahead log belongs to the file it was written for: both move together.
            for suffix in ["", "-wal", "-shm"] {
                let from = with_suffix(&database, suffix);
                if from.exists() {
                    let to = with_suffix(&aside, suffix);
                    std::fs::rename(&from, &to).map_err(io(format!("переименование {}", from.display())))?;
                }
            }
            Some(aside)
        }
        false => None,
    };
    std::fs::rename(&staged, &database).map_err(io(format!("переименование {}", staged.display())))?;
    Ok(Restored { database, kept_aside, migrated })
}

/// Runs the migrations on the staged copy and checks it again.
async fn migrate_staged(staged: &Path) -> Result<usize, BackupError> {
    let conn = open_file(staged, "rw").await?;
    let file = staged.display().to_string();
    let checked = async {
        let pending = check_open_copy(&conn, &file, Schema::Migratable).await?;
        Migrator::up(&conn, None).await?;
        check_open_copy(&conn, &file, Schema::Current).await?;
        Ok(pending)
    }
    .await;
    conn.close().await?;
    checked
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
