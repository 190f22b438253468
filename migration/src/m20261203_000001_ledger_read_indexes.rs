//! Indexes that `EXPLAIN QUERY PLAN` asked for (issue 20):
//! - a consumer's debt statement, which the bot reads on every «Задолженность»: the latest month
//!   of each kind of charge and its total are an index seek, not a walk over the contract's every
//!   charge reading each row for its kind; so is the latest payment;
//! - the monthly report's payments of a month: without `payments(period)` SQLite scanned all
//!   356 000 payments of the 10 000-plot demo (273 ms; 156 ms with the index).

use sea_orm_migration::prelude::*;

const ADDED: &[(&str, &[&str])] = &[
    ("charges", &["contract_id", "kind", "period", "amount_kopecks"]),
    ("payments", &["contract_id", "paid_on"]),
    ("payments", &["period"]),
];

adds_indexes!(ADDED);
