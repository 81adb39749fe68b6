//! Permission checks as a use case: resolve the subject through identity, read the facts
//! from storage, apply the rules of `domain::evaluate`, and cache the answer under
//! versioned keys (`cache`). Check, BatchCheck, CheckSystemOperation, Explain and
//! RecordFilter all go through here, for users and for other services alike.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use service_kit::{Caller, CallerKind};

use crate::{
    cache::{Counter, VersionedCache, Versions},
    domain::{
        AccessError, CAN_ADMINISTRATE_PORTAL_USERS, Subject,
        evaluate::{self, ColumnMask, Decision, Denial, Filter, Level, Query, RecordFacts},
        object_key,
    },
    identity::Identity,
    storage::Store,
};

/// The part of a decision that is cached (everything but the explained steps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedDecision {
    allowed: bool,
    level: Level,
    denial: Option<Denial>,
    mask: Option<ColumnMask>,
    denied_columns: Vec<String>,
}

impl From<CachedDecision> for Decision {
    fn from(c: CachedDecision) -> Self {
        Decision {
            allowed: c.allowed,
            level: c.level,
            denial: c.denial,
            mask: c.mask,
            denied_columns: c.denied_columns,
            steps: Vec::new(),
        }
    }
}

impl From<&Decision> for CachedDecision {
    fn from(d: &Decision) -> Self {
        CachedDecision {
            allowed: d.allowed,
            level: d.level,
            denial: d.denial,
            mask: d.mask.clone(),
            denied_columns: d.denied_columns.clone(),
        }
    }
}

/// The record predicate of a list, with the revision the caller's grant copy must reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFilterAnswer {
    pub filter: Filter,
    pub mask: Option<ColumnMask>,
    pub min_grants_revision: i64,
}

/// Evaluates permissions.
#[derive(Clone, Debug)]
pub struct Permissions {
    store: Store,
    identity: Identity,
    cache: Arc<VersionedCache>,
}

impl Permissions {
    pub fn new(store: Store, identity: Identity, cache: Arc<VersionedCache>) -> Self {
        Self { store, identity, cache }
    }

    pub fn cache(&self) -> &VersionedCache {
        &self.cache
    }

    /// The subject, from the profile cache when the membership counters are known.
    /// `versions` holds the values of [MembershipGeneration, User(user_id)].
    async fn subject(&self, user_id: &str, versions: Option<Versions>) -> Result<Subject, AccessError> {
        let fields: [&[u8]; 1] = [user_id.as_bytes()];
        if let Some(versions) = &versions
            && let Some(hit) = self.cache.get("access-profile", versions, &fields).await
            && let Ok(subject) = serde_json::from_slice::<Subject>(&hit)
        {
            return Ok(subject);
        }
        let subject = self.identity.subject(user_id).await?;
        if let Some(versions) = &versions
            && let Ok(bytes) = serde_json::to_vec(&subject)
        {
            self.cache.put("access-profile", versions, &fields, bytes).await;
        }
        Ok(subject)
    }

    /// Reads the counters a decision depends on: policy, membership generation, the
    /// user's membership epoch, then `extra`. Returns them and the profile's share.
    async fn versions(&self, user_id: &str, extra: Option<Counter>) -> (Option<Versions>, Option<Versions>) {
        let mut counters = vec![Counter::Policy, Counter::MembershipGeneration, Counter::User(user_id.to_owned())];
        counters.extend(extra);
        let versions = self.cache.versions(&counters).await;
        let profile = versions.as_ref().map(|v| Versions { nonce: v.nonce.clone(), values: v.values[1..3].to_vec() });
        (versions, profile)
    }

    /// Checks one query (cached).
    pub async fn check(&self, user_id: &str, query: &Query) -> Result<Decision, AccessError> {
        let key = object_key(&query.object_code);
        let record_counter = query.record_id.as_ref().map(|record| Counter::Record(key.clone(), record.clone()));
        let (versions, profile_versions) = self.versions(user_id, record_counter).await;
        let operation = [query.operation as u8];
        let mut fields: Vec<&[u8]> =
            vec![user_id.as_bytes(), key.as_bytes(), &operation, query.record_id.as_deref().unwrap_or("").as_bytes()];
        fields.extend(query.column_codes.iter().map(|c| c.as_bytes()));
        if let Some(versions) = &versions
            && let Some(hit) = self.cache.get("access-check", versions, &fields).await
            && let Ok(cached) = serde_json::from_slice::<CachedDecision>(&hit)
        {
            return Ok(cached.into());
        }
        let subject = self.subject(user_id, profile_versions).await?;
        let mut decision = self.evaluate(&subject, query).await?;
        decision.steps.clear();
        if let Some(versions) = &versions
            && let Ok(bytes) = serde_json::to_vec(&CachedDecision::from(&decision))
        {
            self.cache.put("access-check", versions, &fields, bytes).await;
        }
        Ok(decision)
    }

    /// Evaluates one query from the database, with every step.
    async fn evaluate(&self, subject: &Subject, query: &Query) -> Result<Decision, AccessError> {
        if !subject.active || subject.system_administrator {
            return Ok(evaluate::check(subject, query, &Default::default(), &RecordFacts::NotNamed));
        }
        let key = object_key(&query.object_code);
        let keys = subject.grantee_keys();
        let facts = self.store.object_facts(&key, &keys).await?;
        let record = match &query.record_id {
            Some(record_id) => self.store.record_facts(&key, record_id, &keys).await?,
            None => RecordFacts::NotNamed,
        };
        Ok(evaluate::check(subject, query, &facts, &record))
    }

    /// Explains one query for a user, evaluated afresh; the subject as resolved too.
    pub async fn explain(&self, user_id: &str, query: &Query) -> Result<(Subject, Decision), AccessError> {
        let subject = self.identity.subject(user_id).await?;
        let decision = self.evaluate(&subject, query).await?;
        Ok((subject, decision))
    }

    /// Checks a system operation (cached); `None` when the code is not in the catalog.
    pub async fn check_system_operation(&self, user_id: &str, code: &str) -> Result<Option<Decision>, AccessError> {
        let (versions, profile_versions) = self.versions(user_id, None).await;
        let fields: [&[u8]; 2] = [user_id.as_bytes(), code.as_bytes()];
        if let Some(versions) = &versions
            && let Some(hit) = self.cache.get("access-system-operation", versions, &fields).await
            && let Ok(cached) = serde_json::from_slice::<CachedDecision>(&hit)
        {
            return Ok(Some(cached.into()));
        }
        let subject = self.subject(user_id, profile_versions).await?;
        let Some(mut decision) = self.evaluate_system_operation(&subject, code).await? else {
            return Ok(None);
        };
        decision.steps.clear();
        if let Some(versions) = &versions
            && let Ok(bytes) = serde_json::to_vec(&CachedDecision::from(&decision))
        {
            self.cache.put("access-system-operation", versions, &fields, bytes).await;
        }
        Ok(Some(decision))
    }

    async fn evaluate_system_operation(&self, subject: &Subject, code: &str) -> Result<Option<Decision>, AccessError> {
        let Some((grants, priorities)) = self.store.system_operation_facts(code, &subject.grantee_keys()).await? else {
            return Ok(None);
        };
        Ok(Some(evaluate::system_operation(subject, code, &grants, &priorities)))
    }

    /// Explains a system operation for a user, evaluated afresh.
    pub async fn explain_system_operation(
        &self,
        user_id: &str,
        code: &str,
    ) -> Result<Option<(Subject, Decision)>, AccessError> {
        let subject = self.identity.subject(user_id).await?;
        Ok(self.evaluate_system_operation(&subject, code).await?.map(|decision| (subject, decision)))
    }

    /// The record predicate for a list (not cached: it is one query per list, and its
    /// revision must be read after the facts).
    pub async fn record_filter(&self, user_id: &str, query: &Query) -> Result<RecordFilterAnswer, AccessError> {
        let (_, profile_versions) = self.versions(user_id, None).await;
        let subject = self.subject(user_id, profile_versions).await?;
        let key = object_key(&query.object_code);
        let min_grants_revision = self.store.grants_revision(&key).await?;
        let facts = if subject.active && !subject.system_administrator {
            self.store.object_facts(&key, &subject.grantee_keys()).await?
        } else {
            Default::default()
        };
        let (filter, mask) = evaluate::record_filter(&subject, query, &facts);
        Ok(RecordFilterAnswer { filter, mask, min_grants_revision })
    }

    /// True for a system administrator, or an employee allowed CanAdministratePortalUsers.
    pub async fn is_administrator(&self, caller: &Caller) -> Result<bool, AccessError> {
        if caller.system_administrator {
            return Ok(true);
        }
        if caller.kind != CallerKind::Employee {
            return Ok(false);
        }
        let decision = self.check_system_operation(&caller.user_id, CAN_ADMINISTRATE_PORTAL_USERS).await?;
        Ok(decision.is_some_and(|d| d.allowed))
    }

    /// PERMISSION_DENIED unless [`Permissions::is_administrator`].
    pub async fn require_administrator(&self, caller: &Caller) -> Result<(), AccessError> {
        if self.is_administrator(caller).await? {
            Ok(())
        } else {
            Err(AccessError::Denied(
                "ADMINISTRATOR_REQUIRED",
                "this call needs a system administrator or an employee allowed CanAdministratePortalUsers".into(),
            ))
        }
    }

    /// PERMISSION_DENIED unless the caller is the system administrator.
    pub fn require_system_administrator(caller: &Caller) -> Result<(), AccessError> {
        if caller.system_administrator {
            Ok(())
        } else {
            Err(AccessError::Denied("SYSTEM_ADMINISTRATOR_REQUIRED", "this call needs a system administrator".into()))
        }
    }
}
