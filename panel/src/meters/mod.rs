//! Meters: the lists ([`lists`]), a meter's page with its photos, seal reports, readings and the
//! meters of its contract ([`page`]), the forms posted from it ([`actions`]: a photo, a
//! replacement or rollover ([`swap`]), a seal report closed), and editing a meter ([`edit`]).

pub mod actions;
pub mod edit;
pub mod lists;
pub mod page;
mod swap;
