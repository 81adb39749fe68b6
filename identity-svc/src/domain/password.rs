//! Password hashing: argon2id with OWASP parameters (m = 19 MiB, t = 2, p = 1) in
//! PHC format, on blocking threads behind a semaphore sized to the cores, so a
//! login storm queues for CPU instead of starving every other call.
//!
//! Argon2's 19 MiB of working memory comes from a pool with one area per permit, mapped
//! from the operating system while hashing goes on and unmapped when it stops: a login
//! flood reuses the same few areas, and an idle process gives them back. (Allocated per
//! hash, glibc kept each freed buffer: 1,000 logins left identity at 874 MiB.)

use std::sync::{
    Arc, Mutex, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{self, Output, ParamsString, Salt, SaltString},
};
use memmap2::MmapMut;
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
    memory: Arc<WorkingMemory>,
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
        Self {
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            memory: Arc::new(WorkingMemory::new(params.block_count())),
            params,
        }
    }

    /// Runs argon2 on a blocking thread once a permit is free, with an area of working memory.
    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, IdentityError> {
        let _demand = Demand::new(self.memory.clone());
        let _permit = self.permits.acquire().await.map_err(|e| IdentityError::Hashing(e.to_string()))?;
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let mut area = memory.take()?;
            let result = work(blocks(&mut area));
            memory.put_back(area);
            Ok(result)
        })
        .await
        .map_err(|e| IdentityError::Hashing(e.to_string()))?
    }

    /// A PHC string for `password` with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, IdentityError> {
        let params = self.params.clone();
        let password = password.to_owned();
        let salt = SaltString::encode_b64(service_kit::secrets::random_token(16).as_bytes())
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        self.bounded(move |memory| {
            let version = Version::V0x13;
            compute(memory, Algorithm::Argon2id, version, params, password.as_bytes(), salt.as_salt())
                .map(|hash| hash.to_string())
        })
        .await?
        .map_err(|e| IdentityError::Hashing(e.to_string()))
    }

    /// Checks `password` against `stored`. With nothing stored (unknown user, no password
    /// yet) a dummy hash is checked instead, so the answer costs the same work.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verification, IdentityError> {
        let known = stored.is_some();
        let stored = match stored {
            Some(stored) => stored.to_owned(),
            None => self.dummy_hash().await?,
        };
        let current = self.params.clone();
        let password = password.to_owned();
        self.bounded(move |memory| {
            let Ok(hash) = PasswordHash::new(&stored) else {
                return Verification { matched: false, needs_rehash: false };
            };
            let matched = matches(memory, password.as_bytes(), &hash) && known;
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

/// Argon2 of `password` and `salt` in `memory` (or, for parameters that need more than
/// the pool's areas hold, in memory of its own), as a PHC hash.
fn compute<'a>(
    memory: &mut [Block],
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
) -> password_hash::Result<PasswordHash<'a>> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut own = Vec::new();
    let memory = if memory.len() >= params.block_count() {
        memory
    } else {
        own.resize(params.block_count(), Block::new());
        &mut own[..]
    };
    let output = Output::init_with(output_len, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut *memory)?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// Whether `password` hashes to `stored` (compared in constant time).
fn matches(memory: &mut [Block], password: &[u8], stored: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, &stored.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(stored.algorithm), Params::try_from(stored)) else {
        return false;
    };
    let version = stored.version.map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    compute(memory, algorithm, version, params, password, salt)
        .is_ok_and(|computed| computed.hash.is_some_and(|output| output == *expected))
}

/// The pool of argon2 working memory: areas mapped on demand, reused while hashing goes
/// on, all unmapped once nothing is hashing or waiting to.
#[derive(Debug)]
struct WorkingMemory {
    bytes: usize,
    idle: Mutex<Vec<MmapMut>>,
    /// Hashings waiting for a permit or running.
    demand: AtomicUsize,
}

impl WorkingMemory {
    fn new(blocks: usize) -> Self {
        Self { bytes: blocks * Block::SIZE, idle: Mutex::new(Vec::new()), demand: AtomicUsize::new(0) }
    }

    fn take(&self) -> Result<MmapMut, IdentityError> {
        let reused = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        match reused {
            Some(area) => Ok(area),
            None => MmapMut::map_anon(self.bytes).map_err(|e| IdentityError::Hashing(e.to_string())),
        }
    }

    fn put_back(&self, area: MmapMut) {
        if self.demand.load(Ordering::Acquire) > 0 {
            self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(area);
        }
    }

    fn release_idle(&self) {
        let released = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        drop(released);
    }
}

/// One hashing's share of the demand for working memory; the last one out unmaps the pool.
struct Demand(Arc<WorkingMemory>);

impl Demand {
    fn new(memory: Arc<WorkingMemory>) -> Self {
        memory.demand.fetch_add(1, Ordering::AcqRel);
        Self(memory)
    }
}

impl Drop for Demand {
    fn drop(&mut self) {
        if self.0.demand.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.release_idle();
        }
    }
}

/// An area of working memory as argon2's blocks.
fn blocks(area: &mut MmapMut) -> &mut [Block] {
    // SAFETY: an anonymous mapping is page-aligned (a block needs 64 bytes) and as long as
    // the whole blocks it holds; a block is 128 `u64`s, for which any bytes are valid; the
    // slice borrows the mapping mutably, so nothing else touches it meanwhile.
    unsafe { std::slice::from_raw_parts_mut(area.as_mut_ptr().cast::<Block>(), area.len() / Block::SIZE) }
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
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("correct horse battery", Some(&phc)).await.unwrap().matched);
        assert!(!hasher.verify("correct horse batterY", Some(&phc)).await.unwrap().matched);
        assert!(!hasher.verify("correct horse battery", None).await.unwrap().matched);
    }

    #[tokio::test]
    async fn agrees_with_the_argon2_crate_both_ways() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, None).unwrap());
        let salt = SaltString::encode_b64(b"sixteen bytes!!!").unwrap();
        let theirs = reference.hash_password(b"a long enough password", &salt).unwrap().to_string();
        assert!(fast().verify("a long enough password", Some(&theirs)).await.unwrap().matched);
        let ours = fast().hash("a long enough password").await.unwrap();
        reference.verify_password(b"a long enough password", &PasswordHash::new(&ours).unwrap()).unwrap();
    }

    #[tokio::test]
    async fn asks_for_a_rehash_when_parameters_change() {
        let old = fast().hash("a long enough password").await.unwrap();
        let verification = PasswordHasher::default().verify("a long enough password", Some(&old)).await.unwrap();
        assert_eq!(verification, Verification { matched: true, needs_rehash: true });
        // Stored with more memory than the pool's areas hold: verified in memory of its own.
        let bigger = PasswordHasher::new(Params::new(2048, 1, 1, None).unwrap(), 1);
        let stored = bigger.hash("a long enough password").await.unwrap();
        let verification = fast().verify("a long enough password", Some(&stored)).await.unwrap();
        assert_eq!(verification, Verification { matched: true, needs_rehash: true });
    }

    #[tokio::test]
    async fn the_working_memory_is_unmapped_once_nothing_hashes() {
        let hasher = fast();
        let hashes: Vec<_> = (0..6)
            .map(|i| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(&format!("password number {i}")).await.unwrap() })
            })
            .collect();
        for hash in hashes {
            hash.await.unwrap();
        }
        assert_eq!(hasher.memory.demand.load(Ordering::Acquire), 0);
        assert!(hasher.memory.idle.lock().unwrap().is_empty(), "areas left mapped while idle");
    }
}
