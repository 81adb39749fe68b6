//! Password hashing: argon2id with OWASP parameters (m = 19 MiB, t = 2, p = 1) in
//! PHC format, on blocking threads behind a semaphore sized to the cores, so a
//! login storm queues for CPU instead of starving every other call.

use std::sync::{Arc, OnceLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version, password_hash::SaltString,
};
use tokio::sync::Semaphore;

use super::IdentityError;

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matched: bool,
    /// The stored hash used other parameters than today's; store a new one.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords with bounded parallelism.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self::new(Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid"), cores)
    }
}

impl PasswordHasher {
    pub fn new(params: Params, parallelism: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(parallelism.max(1))), params }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Runs CPU-heavy work on a blocking thread once a permit is free.
    async fn bounded<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, IdentityError> {
        let _permit = self.permits.acquire().await.map_err(|e| IdentityError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| IdentityError::Hashing(e.to_string()))
    }

    /// A PHC string for `password` with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, IdentityError> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        let salt = SaltString::encode_b64(service_kit::secrets::random_token(16).as_bytes())
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        self.bounded(move || argon2.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()))
            .await?
            .map_err(|e| IdentityError::Hashing(e.to_string()))
    }

    /// Checks `password` against `stored`. With nothing stored (unknown user, no password
    /// yet) a dummy hash is checked instead, so the answer takes the same time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verification, IdentityError> {
        let known = stored.is_some();
        let stored = match stored {
            Some(stored) => stored.to_owned(),
            None => self.dummy_hash().await?,
        };
        let argon2 = self.argon2();
        let current = self.params.clone();
        let password = password.to_owned();
        self.bounded(move || {
            let Ok(hash) = PasswordHash::new(&stored) else {
                return Verification { matched: false, needs_rehash: false };
            };
            let matched = argon2.verify_password(password.as_bytes(), &hash).is_ok() && known;
            let same_params = hash.algorithm == Algorithm::Argon2id.ident()
                && Params::try_from(&hash).is_ok_and(|p| {
                    p.m_cost() == current.m_cost() && p.t_cost() == current.t_cost() && p.p_cost() == current.p_cost()
                });
            Verification { matched, needs_rehash: matched && !same_params }
        })
        .await
    }

    async fn dummy_hash(&self) -> Result<String, IdentityError> {
        static DUMMY: OnceLock<String> = OnceLock::new();
        if let Some(dummy) = DUMMY.get() {
            return Ok(dummy.clone());
        }
        let dummy = self.hash(&service_kit::secrets::random_token(24)).await?;
        Ok(DUMMY.get_or_init(|| dummy).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::new(Params::new(1024, 1, 1, None).unwrap(), 2)
    }

    #[tokio::test]
    async fn verifies_what_it_hashed_and_nothing_else() {
        let hasher = fast();
        let phc = hasher.hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse battery", Some(&phc)).await.unwrap().matched);
        assert!(!hasher.verify("correct horse batterY", Some(&phc)).await.unwrap().matched);
        assert!(!hasher.verify("correct horse battery", None).await.unwrap().matched);
    }

    #[tokio::test]
    async fn asks_for_a_rehash_when_parameters_change() {
        let old = fast().hash("a long enough password").await.unwrap();
        let verification = PasswordHasher::default().verify("a long enough password", Some(&old)).await.unwrap();
        assert_eq!(verification, Verification { matched: true, needs_rehash: true });
    }
}
