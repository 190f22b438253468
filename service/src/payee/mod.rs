//! The cooperative as the payee: its bank details (set by an admin) and the payment QR codes
//! built from them for a contract's or a consumer's debt.

pub mod details;
pub mod qr;
