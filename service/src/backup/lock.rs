//! How `restore` knows the server is running: the server holds an exclusive lock on
//! `<database file>.lock` (`flock`, released by the kernel when the process ends, however it ends)
//! for as long as it runs, and `restore` holds the same lock while it works.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::{BackupError, io};
use crate::db::sqlite_file;

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
    pub path: PathBuf,
}

impl ServerLock {
    /// The lock file beside the SQLite file behind `database_url`.
    pub fn path(database_file: &Path) -> PathBuf {
        let mut name = database_file.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock for the SQLite database at `database_url`; none for PostgreSQL or an
    /// in-memory database, which have no file to replace. Refused while another process (or
    /// another part of this one) holds it.
    pub fn acquire(database_url: &str) -> Result<Option<ServerLock>, BackupError> {
        let Some(database) = sqlite_file(database_url) else { return Ok(None) };
        if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(format!("создание каталога {}", dir.display())))?;
        }
        let path = Self::path(&database);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(format!("открытие {}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ServerLock { _file: file, path })),
            Err(TryLockError::WouldBlock) => Err(BackupError::ServerRunning(path.display().to_string())),
            Err(TryLockError::Error(e)) => Err(io(format!("блокировка {}", path.display()))(e)),
        }
    }
}
