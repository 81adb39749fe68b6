//! Random secrets (session tokens, one-time links, generated passwords) and their digests.
//! Only digests are stored, so a database leak reveals no usable token.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// A URL-safe random token carrying `bytes * 8` bits of entropy from the OS generator.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random generator is unavailable");
    URL_SAFE_NO_PAD.encode(buf)
}

/// The hex SHA-256 digest under which a token is stored and looked up.
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new time-ordered unique id (UUID v7), as stored in every table.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
