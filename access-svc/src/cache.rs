//! The decision cache and the version counters its keys carry (DESIGN.md §4 "Cache").
//!
//! Correctness first: a permission change must apply to the very next check, in every
//! access process. Entries are never deleted to invalidate them; instead every key
//! carries the current values of the counters the answer depends on:
//!
//! - the **policy epoch**, bumped after any change to grants, portal objects,
//!   sections, role priorities or default rules;
//! - the **membership generation**, bumped when identity reports a role whose members
//!   or place in the tree changed (`InvalidateMemberships.role_ids`: every member may be
//!   affected, so all profiles are re-read);
//! - the subject's **membership epoch**, bumped by `InvalidateMemberships.user_ids`
//!   (roles, organization, activation, administrator flag);
//! - for a query naming a record, that record's **sharing epoch**, bumped by every
//!   registration, share, unshare and record grant change of it;
//! - a **generation nonce** (below).
//!
//! A check reads the counters *first*, then the database, then writes its answer under
//! a key built from the counters it read. A writer commits its change *first*, then
//! bumps. So a slow reader that read the counters before a bump can only write under
//! the old key, which no later check asks for: a stale answer is never written under a
//! current key. Keys are SHA-256 digests of length-prefixed fields
//! (`service_kit::cache::CacheKey`), so no two field lists collide.
//!
//! **Where the counters live.** Without Redis (the all-in-one default, one process) they
//! live in this process. With Redis they live in Redis, shared by every access process:
//! one `MGET` per check reads the nonce and every counter the key needs. The nonce is a
//! random value stored in Redis (`SET NX`); it is part of every key. An emptied or
//! restarted Redis has no nonce, so a new one is drawn and no key written before can
//! ever match again (the counters restarting at 0 cannot revive old entries), and when
//! a bump fails, the writer deletes the nonce (retrying until Redis answers) instead of
//! trusting a counter that may have missed an increment. Nothing durable is needed in
//! the database: the counters only mean something relative to their nonce.
//!
//! **Redis down or slow.** Every Redis call has a short timeout
//! (`cache.redis_timeout_ms`). When the counters cannot be read, the check is evaluated
//! from the database and not cached; a failed cache read is a miss. An error is never an
//! answer, let alone "allow". Decisions are also kept in process (moka) under the same
//! versioned keys; reading the counters from Redis is still needed for each check, so
//! in-process entries never outlive a change made through another process.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use redis::{AsyncCommands, aio::ConnectionManager, aio::ConnectionManagerConfig};
use service_kit::{cache::CacheKey, config::PortalConfig};

/// One version counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Counter {
    Policy,
    MembershipGeneration,
    User(String),
    /// (object key, record id)
    Record(String, String),
}

impl Counter {
    fn name(&self) -> String {
        match self {
            Self::Policy => "p".into(),
            Self::MembershipGeneration => "m".into(),
            Self::User(user) => CacheKey::new("u", &[user.as_bytes()]).as_str().to_owned(),
            Self::Record(object, record) => {
                CacheKey::new("r", &[object.as_bytes(), record.as_bytes()]).as_str().to_owned()
            }
        }
    }
}

/// The counter values a key is built from: the nonce, then one value per counter asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    pub nonce: String,
    pub values: Vec<i64>,
}

impl Versions {
    /// The key fields: nonce and values, for a [`CacheKey`].
    pub fn fields(&self) -> Vec<Vec<u8>> {
        std::iter::once(self.nonce.as_bytes().to_vec())
            .chain(self.values.iter().map(|v| v.to_be_bytes().to_vec()))
            .collect()
    }
}

#[derive(Clone)]
struct RedisCounters {
    manager: ConnectionManager,
    timeout: Duration,
    prefix: String,
}

/// Counters in process or in Redis, and the decision entries keyed by them.
#[derive(Clone)]
pub struct VersionedCache {
    redis: Option<RedisCounters>,
    local_counters: Arc<Mutex<HashMap<Counter, i64>>>,
    local_nonce: String,
    entries: moka::sync::Cache<String, Arc<Vec<u8>>>,
    ttl: Duration,
    namespace: String,
}

impl std::fmt::Debug for VersionedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionedCache").field("redis", &self.redis.is_some()).finish()
    }
}

impl VersionedCache {
    /// A cache as configured: counters in Redis when `cache.redis_url` is set, else in
    /// process. The namespace separates suites that share a Redis but not a database.
    pub fn new(config: &PortalConfig) -> Result<Self, redis::RedisError> {
        let cache = &config.cache;
        let namespace =
            CacheKey::new("access", &[config.database.url.as_bytes(), config.database.schema_prefix.as_bytes()])
                .as_str()
                .trim_start_matches("portal:access:")
                .chars()
                .take(16)
                .collect::<String>();
        let timeout = Duration::from_millis(cache.redis_timeout_ms.max(1));
        let redis = if cache.redis_url.is_empty() {
            None
        } else {
            let client = redis::Client::open(cache.redis_url.as_str())?;
            let manager_config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(0)
                .set_max_delay(Duration::from_millis(500));
            let manager = ConnectionManager::new_lazy_with_config(client, manager_config)?;
            Some(RedisCounters { manager, timeout, prefix: format!("portal:access:{namespace}:") })
        };
        let ttl = Duration::from_secs(cache.ttl_seconds.max(1));
        Ok(Self {
            redis,
            local_counters: Arc::default(),
            local_nonce: service_kit::secrets::random_token(12),
            entries: moka::sync::Cache::builder().max_capacity(cache.local_capacity.max(1)).time_to_live(ttl).build(),
            ttl,
            namespace,
        })
    }

    /// The current values of `counters`; `None` when they cannot be known (Redis down or
    /// slow, or just emptied), and then the caller must not use the cache.
    pub async fn versions(&self, counters: &[Counter]) -> Option<Versions> {
        let Some(redis) = &self.redis else {
            let local = self.local_counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let values = counters.iter().map(|c| local.get(c).copied().unwrap_or(0)).collect();
            return Some(Versions { nonce: self.local_nonce.clone(), values });
        };
        let nonce_key = format!("{}nonce", redis.prefix);
        let keys: Vec<String> = std::iter::once(nonce_key.clone())
            .chain(counters.iter().map(|c| format!("{}{}", redis.prefix, c.name())))
            .collect();
        let mut connection = redis.manager.clone();
        let mut command = redis::cmd("MGET");
        command.arg(&keys);
        let read = command.query_async::<Vec<Option<String>>>(&mut connection);
        let values = match tokio::time::timeout(redis.timeout, read).await {
            Ok(Ok(values)) if values.len() == keys.len() => values,
            Ok(Err(error)) => {
                tracing::debug!(%error, "reading cache counters failed; evaluating uncached");
                return None;
            }
            _ => return None,
        };
        let Some(nonce) = values[0].clone() else {
            // A new (or emptied) Redis: draw a nonce for later checks, answer this one uncached.
            let draw = connection.set_nx::<_, _, bool>(&nonce_key, service_kit::secrets::random_token(12));
            let _ = tokio::time::timeout(redis.timeout, draw).await;
            return None;
        };
        let values = values[1..].iter().map(|v| v.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0)).collect();
        Some(Versions { nonce, values })
    }

    /// Moves `counters` on, after the change they cover was committed. When Redis cannot
    /// be told, the nonce is deleted (retried in the background until Redis answers), so
    /// no entry written before the change can be read after it.
    pub async fn bump(&self, counters: &[Counter]) {
        let Some(redis) = &self.redis else {
            let mut local = self.local_counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for counter in counters {
                *local.entry(counter.clone()).or_insert(0) += 1;
            }
            return;
        };
        let mut pipe = redis::pipe();
        for counter in counters {
            pipe.incr(format!("{}{}", redis.prefix, counter.name()), 1).ignore();
        }
        let mut connection = redis.manager.clone();
        let write = pipe.query_async::<()>(&mut connection);
        match tokio::time::timeout(redis.timeout, write).await {
            Ok(Ok(())) => {}
            outcome => {
                tracing::warn!(?outcome, "bumping cache counters failed; rotating the cache generation");
                tokio::spawn(rotate_nonce(redis.clone()));
            }
        }
    }

    /// A cached entry for `key_fields` under `versions`.
    pub async fn get(&self, kind: &str, versions: &Versions, key_fields: &[&[u8]]) -> Option<Arc<Vec<u8>>> {
        let key = self.key(kind, versions, key_fields);
        if let Some(value) = self.entries.get(&key) {
            return Some(value);
        }
        let redis = self.redis.as_ref()?;
        let mut connection = redis.manager.clone();
        let read = connection.get::<_, Option<Vec<u8>>>(&key);
        match tokio::time::timeout(redis.timeout, read).await {
            Ok(Ok(Some(value))) => {
                let value = Arc::new(value);
                self.entries.insert(key, value.clone());
                Some(value)
            }
            _ => None,
        }
    }

    /// Stores an entry for `key_fields` under `versions` (best effort in Redis).
    pub async fn put(&self, kind: &str, versions: &Versions, key_fields: &[&[u8]], value: Vec<u8>) {
        let key = self.key(kind, versions, key_fields);
        if let Some(redis) = &self.redis {
            let mut connection = redis.manager.clone();
            let write = connection.set_ex::<_, _, ()>(&key, value.clone(), self.ttl.as_secs());
            let _ = tokio::time::timeout(redis.timeout, write).await;
        }
        self.entries.insert(key, Arc::new(value));
    }

    fn key(&self, kind: &str, versions: &Versions, key_fields: &[&[u8]]) -> String {
        let version_fields = versions.fields();
        let mut parts: Vec<&[u8]> = Vec::with_capacity(2 + version_fields.len() + key_fields.len());
        parts.push(self.namespace.as_bytes());
        parts.extend(version_fields.iter().map(Vec::as_slice));
        parts.extend_from_slice(key_fields);
        CacheKey::new(kind, &parts).as_str().to_owned()
    }
}

async fn rotate_nonce(redis: RedisCounters) {
    let nonce_key = format!("{}nonce", redis.prefix);
    for attempt in 0u32.. {
        let mut connection = redis.manager.clone();
        let delete = connection.del::<_, ()>(&nonce_key);
        if let Ok(Ok(())) = tokio::time::timeout(redis.timeout, delete).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt.min(20)) + 20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> VersionedCache {
        VersionedCache::new(&PortalConfig::default()).unwrap()
    }

    #[tokio::test]
    async fn a_bump_moves_every_key_that_depends_on_the_counter() {
        let cache = local();
        let counters = [Counter::Policy, Counter::User("u1".into())];
        let before = cache.versions(&counters).await.unwrap();
        cache.put("t", &before, &[b"q"], b"allow".to_vec()).await;
        assert_eq!(cache.get("t", &before, &[b"q"]).await.as_deref(), Some(&b"allow".to_vec()));
        cache.bump(&[Counter::User("u2".into())]).await;
        assert_eq!(cache.versions(&counters).await.unwrap(), before, "another user's change");
        cache.bump(&[Counter::User("u1".into())]).await;
        let after = cache.versions(&counters).await.unwrap();
        assert_ne!(after, before);
        assert_eq!(cache.get("t", &after, &[b"q"]).await, None);
    }

    #[tokio::test]
    async fn unreachable_redis_gives_no_versions() {
        let mut config = PortalConfig::default();
        config.cache.redis_url = "redis://127.0.0.1:1/".into();
        config.cache.redis_timeout_ms = 100;
        let cache = VersionedCache::new(&config).unwrap();
        assert_eq!(cache.versions(&[Counter::Policy]).await, None);
        cache.bump(&[Counter::Policy]).await;
    }
}
