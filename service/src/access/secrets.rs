//! Secrets handed out once — API tokens, Telegram link codes, form and draft tokens, temporary
//! file names — made from the system's random source, and kept only as a hash where they grant
//! access.

use sha2::{Digest, Sha256};

/// How secrets handed out once (API tokens, link codes) are kept: a hash only.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random string of letters and digits without look-alikes (0/O, 1/l/I).
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
