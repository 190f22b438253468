//! Every command that runs once and exits leaves one whole SQLite file behind: what it wrote is
//! in the file, not in a WAL beside it, so the file can be copied or moved as it stands.

use std::path::Path;
use std::process::Command;

/// `chernomorsk <args>` on the database `c.db` in `dir`: whether it succeeded, and what it said.
fn chernomorsk(dir: &Path, args: &[&str]) -> (bool, String) {
    let url = service::db::sqlite_url(&dir.join("c.db"), "rwc");
    let output = Command::new(env!("CARGO_BIN_EXE_chernomorsk"))
        .env_clear()
        .env("DATABASE_URL", url)
        .env("STAFF_PASSWORD", "пароль-бухгалтера")
        .env("RUST_LOG", "warn")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run chernomorsk");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

#[test]
fn one_shot_commands_leave_no_wal_behind_whether_they_succeed_or_fail() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("c.db-wal");
    let file = |name: &str| dir.path().join(name).display().to_string();
    let (report, export, backup) = (file("r.xlsx"), file("e.xlsx"), file("b.db"));
    let succeeding: [&[&str]; 7] = [
        &["migrate"],
        &["demo", "--plots", "3", "--months", "2"],
        &["staff", "add", "--login", "buh", "--role", "accountant"],
        &["link-code", "--plot", "1"],
        &["report", "-o", &report],
        &["export", "-o", &export],
        &["backup", "-o", &backup],
    ];
    for args in succeeding {
        let (ok, said) = chernomorsk(dir.path(), args);
        assert!(ok, "{args:?}: {said}");
        assert!(!wal.exists(), "{args:?} left a WAL behind; it said: {said}");
    }
    // Refused after it opened the database: no such plot, a login taken, a backup already there.
    let failing: [&[&str]; 3] = [
        &["link-code", "--plot", "999"],
        &["staff", "add", "--login", "buh", "--role", "accountant"],
        &["backup", "-o", &backup],
    ];
    for args in failing {
        let (ok, said) = chernomorsk(dir.path(), args);
        assert!(!ok, "{args:?} should be refused: {said}");
        assert!(!wal.exists(), "{args:?} left a WAL behind; it said: {said}");
    }
}
