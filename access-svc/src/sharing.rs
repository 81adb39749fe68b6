//! Records and their grants as a use case: registration (applying the default record
//! rules), unregistration, shares by owning services and administrators, and the change
//! feed with its compaction. Every change is audited in its transaction and bumps the record's sharing
//! epoch after commit, so the next check of that record sees it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use service_kit::clock::Clock;

use crate::{
    cache::{Counter, VersionedCache},
    domain::{AccessError, Grantee, GranteeKind, Rights, object_key, role_key},
    identity::Identity,
    storage::{
        self, Store,
        records::{self, GrantChange, RecordGrantRow, Source},
    },
};

/// How long the change feed keeps changes that no longer describe a current grant
/// (internal.proto, PullRecordGrantChanges: 7 days).
const CHANGE_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

/// How often one process compacts an object's change feed, at most.
const COMPACTION_INTERVAL_MS: i64 = 3600 * 1000;

/// The resource type of record grants in audit events.
pub const RECORD_GRANT: &str = "record_grant";

/// What registering a record did.
#[derive(Debug, Clone)]
pub struct Registration {
    pub newly_registered: bool,
    pub grants: Vec<RecordGrantRow>,
    pub revision: i64,
}

/// The records use case.
#[derive(Clone, Debug)]
pub struct Sharing {
    store: Store,
    identity: Identity,
    cache: Arc<VersionedCache>,
    clock: Clock,
    /// When this process last compacted each object's change feed (clock milliseconds).
    last_compaction: Arc<Mutex<HashMap<String, i64>>>,
}

impl Sharing {
    pub fn new(store: Store, identity: Identity, cache: Arc<VersionedCache>, clock: Clock) -> Self {
        Self { store, identity, cache, clock, last_compaction: Default::default() }
    }

    async fn changed(&self, object_code: &str, record_id: &str) {
        self.cache.bump(&[Counter::Record(object_key(object_code), record_id.to_owned())]).await;
    }

    /// Registers a record and applies the default rules whose author matches its author.
    pub async fn register(
        &self,
        actor: &str,
        object_code: &str,
        record_id: &str,
        author_user_id: &str,
        organization_id: &str,
    ) -> Result<Registration, AccessError> {
        let key = object_key(object_code);
        let author = self.identity.subject(author_user_id).await?;
        let organization =
            if organization_id.is_empty() { author.organization_id.clone() } else { organization_id.to_owned() };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !records::insert_record(&mut tx, object_code, record_id, author_user_id, &organization, now).await? {
            tx.rollback().await?;
            let existing = self
                .store
                .record(&key, record_id)
                .await?
                .ok_or_else(|| AccessError::Unavailable("the record vanished while registering; retry".into()))?;
            if existing.author_user_id != author_user_id
                || (!organization_id.is_empty() && existing.organization_id != organization_id)
            {
                return Err(AccessError::AlreadyExists(
                    "RECORD_ALREADY_REGISTERED",
                    format!("{object_code} record '{record_id}' is registered with another author or organization"),
                ));
            }
            let mut tx = self.store.begin().await?;
            let grants = records::record_grants_in(&mut tx, &key, record_id, None, Some(Source::DefaultRule)).await?;
            tx.commit().await?;
            let revision = self.store.grants_revision(&key).await?;
            return Ok(Registration { newly_registered: false, grants, revision });
        }
        let mut author_keys = author.grantee_keys();
        if !organization.is_empty() {
            author_keys.push(role_key(&organization));
        }
        let rules = records::applicable_rules(&mut tx, &key, &author_keys).await?;
        let mut grants = Vec::new();
        let mut revision = 0;
        for rule in rules {
            let grantee = match rule.target {
                Some(grantee) => grantee,
                None if organization.is_empty() => continue,
                None => Grantee { kind: GranteeKind::Organization, id: organization.clone() },
            };
            let grant = RecordGrantRow {
                id: service_kit::secrets::new_id(),
                object_code: object_code.to_owned(),
                record_id: record_id.to_owned(),
                grantee,
                rights: rule.rights,
                source: Source::DefaultRule,
                rule_id: rule.id,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            revision = records::insert_grant(&mut tx, &grant).await?;
            storage::audit(&mut tx, actor, "create", RECORD_GRANT, &grant.id, None::<&()>, Some(&grant), now).await?;
            grants.push(grant);
        }
        tx.commit().await?;
        self.changed(object_code, record_id).await;
        if revision == 0 {
            revision = self.store.grants_revision(&key).await?;
        }
        Ok(Registration { newly_registered: true, grants, revision })
    }

    /// Removes a record and all its grants; returns how many grants went and the revision.
    pub async fn unregister(&self, actor: &str, object_code: &str, record_id: &str) -> Result<(i32, i64), AccessError> {
        let key = object_key(object_code);
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let grants = records::record_grants_in(&mut tx, &key, record_id, None, None).await?;
        for grant in &grants {
            records::delete_grant(&mut tx, grant, now).await?;
            storage::audit(&mut tx, actor, "delete", RECORD_GRANT, &grant.id, Some(grant), None::<&()>, now).await?;
        }
        records::delete_record(&mut tx, &key, record_id).await?;
        tx.commit().await?;
        self.changed(object_code, record_id).await;
        Ok((grants.len() as i32, self.store.grants_revision(&key).await?))
    }

    /// Shares a record on behalf of its owning service, replacing that service's earlier
    /// grant to the same grantee.
    pub async fn share(
        &self,
        actor: &str,
        object_code: &str,
        record_id: &str,
        grantee: Grantee,
        rights: Rights,
    ) -> Result<(RecordGrantRow, i64), AccessError> {
        let key = object_key(object_code);
        if self.store.record(&key, record_id).await?.is_none() {
            return Err(AccessError::NotFound("record", format!("{object_code}/{record_id}")));
        }
        self.identity.require_grantee(&grantee).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let existing =
            records::record_grants_in(&mut tx, &key, record_id, Some(&grantee.key()), Some(Source::Service)).await?;
        let (grant, revision) = match existing.into_iter().next() {
            Some(before) => {
                let after = RecordGrantRow { rights, version: before.version + 1, updated_at: now, ..before.clone() };
                let revision = records::update_grant(&mut tx, &after).await?;
                storage::audit(&mut tx, actor, "update", RECORD_GRANT, &after.id, Some(&before), Some(&after), now)
                    .await?;
                (after, revision)
            }
            None => {
                let grant = RecordGrantRow {
                    id: service_kit::secrets::new_id(),
                    object_code: object_code.to_owned(),
                    record_id: record_id.to_owned(),
                    grantee,
                    rights,
                    source: Source::Service,
                    rule_id: String::new(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                let revision = records::insert_grant(&mut tx, &grant).await?;
                storage::audit(&mut tx, actor, "create", RECORD_GRANT, &grant.id, None::<&()>, Some(&grant), now)
                    .await?;
                (grant, revision)
            }
        };
        tx.commit().await?;
        self.changed(object_code, record_id).await;
        Ok((grant, revision))
    }

    /// Removes the grants of a record to one grantee (or all), of one source (or all).
    pub async fn unshare(
        &self,
        actor: &str,
        object_code: &str,
        record_id: &str,
        grantee: Option<&Grantee>,
        source: Option<Source>,
    ) -> Result<(Vec<RecordGrantRow>, i64), AccessError> {
        let key = object_key(object_code);
        let now = self.clock.now();
        let grantee_key = grantee.map(Grantee::key);
        let mut tx = self.store.begin().await?;
        let grants = records::record_grants_in(&mut tx, &key, record_id, grantee_key.as_deref(), source).await?;
        for grant in &grants {
            records::delete_grant(&mut tx, grant, now).await?;
            storage::audit(&mut tx, actor, "delete", RECORD_GRANT, &grant.id, Some(grant), None::<&()>, now).await?;
        }
        tx.commit().await?;
        self.changed(object_code, record_id).await;
        Ok((grants, self.store.grants_revision(&key).await?))
    }

    /// Changes after a revision, oldest first: (changes, revision reached, more waiting).
    /// REVISION_COMPACTED when changes after `after_revision` were dropped.
    pub async fn pull(
        &self,
        object_code: &str,
        after_revision: i64,
        page_size: i64,
    ) -> Result<(Vec<GrantChange>, i64, bool), AccessError> {
        let key = object_key(object_code);
        self.compact_if_due(&key).await?;
        let mut changes = self.store.grant_changes(&key, after_revision, page_size + 1).await?;
        // Read after the changes: a compaction that removed any of them is seen here.
        if after_revision > 0 && after_revision < self.store.compacted_through(&key).await? {
            return Err(AccessError::Refused(
                "REVISION_COMPACTED",
                format!(
                    "the changes after revision {after_revision} are no longer kept; empty your copy and pull from 0"
                ),
            ));
        }
        let more = changes.len() as i64 > page_size;
        changes.truncate(page_size as usize);
        let revision = changes.last().map_or(after_revision, |c| c.revision);
        Ok((changes, revision, more))
    }

    /// Compacts an object's change feed when this process has not done so for an hour.
    async fn compact_if_due(&self, object_key: &str) -> Result<(), AccessError> {
        let now = self.clock.now();
        {
            let mut last = self.last_compaction.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match last.get(object_key) {
                Some(&at) if now - at < COMPACTION_INTERVAL_MS => return Ok(()),
                _ => last.insert(object_key.to_owned(), now),
            };
        }
        self.store.compact_changes(object_key, now - CHANGE_RETENTION_MS).await
    }
}
