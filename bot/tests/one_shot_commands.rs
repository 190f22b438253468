//! Every command that runs once and exits leaves one whole SQLite file behind: what it wrote is
//! in the file, not in a WAL beside it, so the file can be copied or moved as it stands.

use std::path::Path;
use std::process::Command;

/// `chernomorsk <args>` on the database `c.db` in `dir`; panics unless it succeeds.
fn chernomorsk(dir: &Path, args: &[&str]) -> String {
    let url = format!("sqlite://{}?mode=rwc", dir.join("c.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_chernomorsk"))
        .env_clear()
        .env("DATABASE_URL", url)
        .env("STAFF_PASSWORD", "пароль-бухгалтера")
        .env("RUST_LOG", "warn")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run chernomorsk");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn one_shot_commands_leave_no_wal_behind() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("c.db-wal");
    let report = dir.path().join("r.xlsx").display().to_string();
    let commands: [&[&str]; 5] = [
        &["migrate"],
        &["demo", "--plots", "3", "--months", "2"],
        &["staff", "add", "--login", "buh", "--role", "accountant"],
        &["link-code", "--plot", "1"],
        &["report", "-o", &report],
    ];
    for args in commands {
        let said = chernomorsk(dir.path(), args);
        assert!(!wal.exists(), "{args:?} left a WAL behind; it said: {said}");
    }
}
