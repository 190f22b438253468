//! Who may do what: staff accounts and logging in, Telegram accounts linked to consumers and
//! staff, and the secrets (tokens, codes) that grant access.

pub mod login;
pub(crate) mod passwords;
pub mod secrets;
pub mod staff;
pub mod telegram;
pub mod throttle;
