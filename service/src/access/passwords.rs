//! Password hashes: argon2id with its default parameters (19 MiB, two passes), run through
//! [`heavy::run`], with the 19 MiB of working memory kept for the next hash instead of allocated
//! for each one.
//!
//! Allocated per hash, that memory ended up in whichever allocator arena the blocking thread of
//! the moment used, and arenas keep what they once held: 200 logins at once left the process
//! 580 MB larger for good, although no more than one hash per core ever ran. Kept in a pool, the
//! working memory is at most one block of 19 MiB per hash running at once — one per core.

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::password_hash::{self, CustomizedPasswordHasher, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::{Internal, heavy};

/// Hashes with argon2id and a fresh salt, as a PHC string.
pub async fn hash(password: String) -> Result<String, Internal> {
    heavy::run(move || Pooled.hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await?
        .map_err(|e| Internal(anyhow::anyhow!("argon2: {e}")))
}

/// Whether `password` is the one `stored` (a PHC string) was made from.
pub async fn verify(password: String, stored: String) -> Result<bool, Internal> {
    heavy::run(move || {
        let stored = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok(Pooled.verify_password(password.as_bytes(), &stored).is_ok())
    })
    .await?
    .map_err(Internal)
}

/// Working memory left by finished hashes; there are never more than hashes running at once.
static SPARE: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `f` on `blocks` blocks of working memory from the pool, and puts them back after.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut memory = SPARE.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
    // Argon2 writes every block before reading it, so memory from an earlier hash is as good as new.
    memory.resize(blocks, Block::default());
    let result = f(&mut memory[..blocks]);
    SPARE.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
    result
}

/// Argon2 drawing its working memory from the pool; otherwise as `Argon2`'s own hasher, whose
/// verification (parameters from the stored hash, constant-time comparison) it inherits.
struct Pooled;

impl CustomizedPasswordHasher<PasswordHash> for Pooled {
    type Params = Params;

    fn hash_password_customized(
        &self,
        password: &[u8],
        salt: &[u8],
        algorithm: Option<&str>,
        version: Option<u32>,
        params: Params,
    ) -> password_hash::Result<PasswordHash> {
        let algorithm = algorithm.map(Algorithm::try_from).transpose()?.unwrap_or_default();
        let version = version.map(Version::try_from).transpose()?.unwrap_or_default();
        let salt = Salt::new(salt)?;
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer
            .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
            .ok_or(password_hash::Error::OutputSize)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        with_memory(params.block_count(), |memory| {
            argon2.hash_password_into_with_memory(password, &salt, out, memory)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(Output::new(out)?),
        })
    }
}

impl PasswordHasher<PasswordHash> for Pooled {
    fn hash_password_with_salt(&self, password: &[u8], salt: &[u8]) -> password_hash::Result<PasswordHash> {
        self.hash_password_customized(password, salt, None, None, Params::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_as_argon2_does_and_verifies_its_hashes() {
        let salt = b"somesaltsomesalt";
        let ours = Pooled.hash_password_with_salt(b"correct horse", salt).unwrap();
        let theirs = Argon2::default().hash_password_with_salt(b"correct horse", salt).unwrap();
        assert_eq!(ours.to_string(), theirs.to_string());
        assert!(ours.to_string().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(Pooled.verify_password(b"correct horse", &theirs).is_ok());
        assert!(Pooled.verify_password(b"wrong horse", &theirs).is_err());
        assert!(Argon2::default().verify_password(b"correct horse", &ours).is_ok());
    }
}
