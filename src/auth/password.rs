//! argon2id password and client-secret hashing (OWASP-recommended parameters, the crate's
//! defaults: 19 MiB, 2 passes, 1 lane).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::{AppError, AppResult};

pub fn hash(secret: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("password hashing: {e}")))
}

pub fn verify(secret: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same time as a real check, so an unknown account cannot be told from a wrong
/// password by how long the answer takes.
pub fn verify_against_nothing(secret: &str) {
    let _ = verify(secret, dummy_hash());
}

/// Made once by `hash` itself, so its parameters are always a real hash's: a hand-written
/// constant that failed to parse would answer at once and tell unknown accounts apart.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("no account has this secret").unwrap_or_default())
}

/// A random secret of `bytes` bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn the_check_against_nothing_does_a_real_hashs_work() {
        let real = hash("correct horse battery").unwrap();
        let parsed = |h: &str| {
            PasswordHash::new(h)
                .map(|p| {
                    (
                        p.algorithm.to_string(),
                        p.params.to_string(),
                        p.hash.map(|o| o.len()),
                    )
                })
                .unwrap()
        };
        assert_eq!(parsed(dummy_hash()), parsed(&real));
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
    }
}
