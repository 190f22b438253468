//! Harnesses for the end-to-end tests in `tests/tests/`: a fake Telegram Bot API server and the
//! whole application started on a temporary SQLite file.

pub mod app;
pub mod bot_chat;
pub mod fake_telegram;
pub mod memory;
pub mod panel_client;
pub mod seed;

pub use app::TestApp;
pub use fake_telegram::FakeTelegram;
pub use panel_client::{Page, PanelClient};
