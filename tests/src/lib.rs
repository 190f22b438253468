//! Harnesses for the end-to-end tests in `tests/tests/`: a fake Telegram Bot API server and the
//! whole application started on a temporary SQLite file.

pub mod fake_telegram;
