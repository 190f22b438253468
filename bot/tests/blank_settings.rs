//! A `.env` copied from `.env.example` leaves optional settings blank (`ACCOUNTANTS_CHAT_ID=`):
//! the real binary starts with them as if unset, and still refuses a setting that is wrong.

use std::process::{Command, Output};

/// `chernomorsk migrate` on a fresh database in `dir`, with `settings` in its environment and a
/// `.env` file holding `dotenv`.
fn migrate(dir: &std::path::Path, settings: &[(&str, &str)], dotenv: &str) -> Output {
    std::fs::write(dir.join(".env"), dotenv).unwrap();
    let url = service::db::sqlite_url(&dir.join("c.db"), "rwc");
    Command::new(env!("CARGO_BIN_EXE_chernomorsk"))
        .env_clear()
        .env("DATABASE_URL", url)
        .envs(settings.iter().copied())
        .arg("migrate")
        .current_dir(dir)
        .output()
        .expect("run chernomorsk")
}

#[test]
fn blank_settings_count_as_unset_and_wrong_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let blank = "ACCOUNTANTS_CHAT_ID=\nTELOXIDE_TOKEN=\nWEBHOOK_URL=\nCLIENT_IP_HEADER=\nREMINDER_DEBT_THRESHOLD=\n";
    let output = migrate(dir.path(), &[("BOOTSTRAP_ADMIN_PASSWORD", "")], blank);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let output = migrate(dir.path(), &[], "ACCOUNTANTS_CHAT_ID=бухгалтерия\n");
    assert!(!output.status.success(), "a chat id that is not a number is still refused");
    assert!(String::from_utf8_lossy(&output.stderr).contains("ACCOUNTANTS_CHAT_ID"));
}
