//! The formats of the bank world, pure: no database, no network.
//!
//! - [`details`]: the cooperative's bank details, with the control digits of ИНН and accounts checked;
//! - [`qr`]: the ГОСТ Р 56042-2014 payment string and its QR picture, and the purpose text we print;
//! - [`statement`]: the bank's 1CClientBankExchange statement, read whatever encoding it comes in;
//! - [`purpose`]: which contract a payment's free-text purpose, payer and account point at, and why.
//!
//! Messages for people are in Russian and name the field or the line they are about.

pub mod details;
pub mod purpose;
pub mod qr;
pub mod statement;
#[cfg(feature = "testing")]
pub mod testing;

use domain::Kopecks;

/// The amount as a whole number of kopecks, for the formats that write it so (the QR code's
/// `Sum`, a bank document's identity).
pub(crate) fn kopecks_value(amount: Kopecks) -> i64 {
    amount.get()
}
