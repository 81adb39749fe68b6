//! The two-level cache: in process (moka) in front of Redis (when configured).
//!
//! Keys are built from length-prefixed parts and hashed, so no two different
//! part lists can collide and no user input can forge another key. Redis is an
//! accelerator only: when it is down or slower than its timeout, reads miss and
//! writes are dropped, and callers compute the answer from the database.

use std::time::Duration;

use redis::{AsyncCommands, aio::ConnectionManager, aio::ConnectionManagerConfig};
use sha2::{Digest, Sha256};

use crate::config::CacheConfig;

/// A cache key: the SHA-256 of its length-prefixed parts, in hex, under a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// Builds a key from `parts`; `["ab", "c"]` and `["a", "bc"]` give different keys.
    pub fn new(namespace: &str, parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("portal:{namespace}:{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cache that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache.redis_url: {0}")]
    RedisUrl(redis::RedisError),
}

/// In-process entries in front of optional Redis entries.
#[derive(Clone)]
pub struct Cache {
    local: moka::future::Cache<CacheKey, Vec<u8>>,
    redis: Option<ConnectionManager>,
    ttl: Duration,
    redis_timeout: Duration,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("redis", &self.redis.is_some()).field("ttl", &self.ttl).finish()
    }
}

impl Cache {
    /// A cache as configured. Redis is connected lazily and reconnected in the
    /// background, so a Redis that is down at start only costs cache misses.
    pub fn new(config: &CacheConfig) -> Result<Self, CacheError> {
        let ttl = Duration::from_secs(config.ttl_seconds.max(1));
        let redis_timeout = Duration::from_millis(config.redis_timeout_ms.max(1));
        let redis = if config.redis_url.is_empty() {
            None
        } else {
            let client = redis::Client::open(config.redis_url.as_str()).map_err(CacheError::RedisUrl)?;
            let manager_config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(redis_timeout))
                .set_response_timeout(Some(redis_timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1));
            Some(ConnectionManager::new_lazy_with_config(client, manager_config).map_err(CacheError::RedisUrl)?)
        };
        let local = moka::future::Cache::builder().max_capacity(config.local_capacity).time_to_live(ttl).build();
        Ok(Self { local, redis, ttl, redis_timeout })
    }

    /// True when a Redis server is configured.
    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// The cached value, from process memory first, then Redis; `None` on a miss or a Redis fault.
    pub async fn get(&self, key: &CacheKey) -> Option<Vec<u8>> {
        if let Some(value) = self.local.get(key).await {
            return Some(value);
        }
        let mut redis = self.redis.clone()?;
        let answer = tokio::time::timeout(self.redis_timeout, redis.get::<_, Option<Vec<u8>>>(key.as_str())).await;
        match answer {
            Ok(Ok(Some(value))) => {
                self.local.insert(key.clone(), value.clone()).await;
                Some(value)
            }
            Ok(Ok(None)) => None,
            Ok(Err(error)) => {
                tracing::debug!(%error, "redis read failed; treating as a miss");
                None
            }
            Err(_) => {
                tracing::debug!("redis read timed out; treating as a miss");
                None
            }
        }
    }

    /// Stores a value in process and, best effort, in Redis.
    pub async fn put(&self, key: &CacheKey, value: Vec<u8>) {
        self.local.insert(key.clone(), value.clone()).await;
        if let Some(mut redis) = self.redis.clone() {
            let ttl = self.ttl.as_secs();
            let write = redis.set_ex::<_, _, ()>(key.as_str(), value, ttl);
            if let Err(error) = tokio::time::timeout(self.redis_timeout, write)
                .await
                .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out"))))
            {
                tracing::debug!(%error, "redis write failed; the entry stays in process only");
            }
        }
    }

    /// Drops an entry from process memory (Redis entries are never relied on for
    /// freshness: callers version their keys instead of deleting them).
    pub async fn forget_local(&self, key: &CacheKey) {
        self.local.invalidate(key).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_length_prefixed() {
        assert_ne!(CacheKey::new("t", &[b"ab", b"c"]), CacheKey::new("t", &[b"a", b"bc"]));
        assert_ne!(CacheKey::new("t", &[b"a"]), CacheKey::new("u", &[b"a"]));
        assert_eq!(CacheKey::new("t", &[b"a", b""]), CacheKey::new("t", &[b"a", b""]));
    }

    fn config(redis_url: &str) -> CacheConfig {
        CacheConfig { redis_url: redis_url.into(), local_capacity: 100, ttl_seconds: 60, redis_timeout_ms: 200 }
    }

    #[tokio::test]
    async fn unreachable_redis_only_costs_misses() {
        // Port 1 on loopback refuses connections.
        let cache = Cache::new(&config("redis://127.0.0.1:1/")).unwrap();
        let key = CacheKey::new("test", &[b"k"]);
        assert_eq!(cache.get(&key).await, None);
        cache.put(&key, b"v".to_vec()).await;
        assert_eq!(cache.get(&key).await, Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn entries_are_shared_through_redis() {
        let Ok(url) = std::env::var("PORTAL_TEST_REDIS_URL") else {
            return;
        };
        let writer = Cache::new(&config(&url)).unwrap();
        let reader = Cache::new(&config(&url)).unwrap();
        let key = CacheKey::new("test", &[crate::secrets::new_id().as_bytes()]);
        assert_eq!(reader.get(&key).await, None);
        writer.put(&key, b"shared".to_vec()).await;
        assert_eq!(reader.get(&key).await, Some(b"shared".to_vec()));
    }
}
