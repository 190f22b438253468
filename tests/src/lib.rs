//! Harnesses for the end-to-end tests in `tests/tests/`: a fake Telegram Bot API server, the
//! whole application started on a temporary SQLite file, and a headless browser.

pub mod app;
pub mod bot_chat;
pub mod browser;
pub mod fake_telegram;
pub mod memory;
pub mod panel_client;
pub mod seed;

pub use app::TestApp;
pub use fake_telegram::FakeTelegram;
pub use panel_client::{Page, PanelClient};
