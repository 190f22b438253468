//! The `chernomorsk` program: one process that runs the web panel, the Telegram bot and the
//! report scheduler over one database, plus the administrative commands.

pub mod cli;
pub mod config;
pub mod scheduler;
pub mod serve;
pub mod telegram;
pub mod webhook;

pub use config::Config;
pub use serve::{App, RunningApp};
