//! Settings the service layer needs (the process-level configuration lives in `bot`).

use std::path::PathBuf;

use chrono::Duration;

use crate::meters::photos::intake::IntakeLimits;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The cooperative's time zone: dates, billing periods and the report schedule follow it.
    pub tz: chrono_tz::Tz,
    /// Where photos are stored (by content hash).
    pub photo_dir: PathBuf,
    /// Where the nightly backups go (SQLite); the panel lists them from here.
    pub backup_dir: PathBuf,
    /// A consumption above this multiple of the usual monthly consumption is held for review.
    pub jump_factor: u32,
    /// How long a Telegram link code stays valid.
    pub link_code_ttl: Duration,
    pub photo_limits: IntakeLimits,
}

impl Settings {
    /// Settings for a given photo directory, everything else at its default (backups in
    /// `backups` beside it).
    pub fn with_photo_dir(photo_dir: impl Into<PathBuf>) -> Settings {
        let photo_dir = photo_dir.into();
        Settings {
            tz: chrono_tz::Europe::Moscow,
            backup_dir: photo_dir.parent().unwrap_or(&photo_dir).join("backups"),
            photo_dir,
            jump_factor: domain::JumpPolicy::DEFAULT_FACTOR,
            link_code_ttl: Duration::days(14),
            photo_limits: IntakeLimits::default(),
        }
    }
}
