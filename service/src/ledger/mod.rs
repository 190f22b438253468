//! The cooperative's books: the tariff history, the charges computed from readings at those
//! tariffs (and opening balances), payments entered or imported, and the debt they add up to.

pub mod act;
pub mod charges;
pub mod debt;
pub mod lines;
pub mod months;
pub mod payments;
pub mod tariffs;
