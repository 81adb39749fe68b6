//! Administration of everything a check reads: the prioritised grants (object operation,
//! column, system operation), role priorities, default record rules, record grants made
//! by people, and identity's RemoveGrantee. Each change is authorised, validated, written
//! in one transaction with its audit event (who, what, when, before/after, in access's
//! own `audit_events` table), and then moves the cache counters it affects.

use std::sync::Arc;

use service_kit::{Caller, CallerKind, clock::Clock, paging};

use crate::{
    cache::{Counter, VersionedCache},
    domain::{
        AccessError, Grantee, Operation, Right, Rights, delegation::Holder, evaluate::Query, object_key,
        priority::RolePriorities,
    },
    identity::Identity,
    permissions::Permissions,
    sharing::RECORD_GRANT,
    storage::{
        self, Store,
        grants::{self, GrantFilter, GrantKind, GrantRow, RolePriorityRow, RuleRow},
        is_unique_violation,
        records::{self, RecordGrantRow, Source},
    },
};

/// A page request: how many, and the sort key after which to start.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub size: i64,
    pub after: String,
}

impl PageRequest {
    /// Parses `page_size` and `page_token` (an opaque wrapper of the last sort key).
    pub fn parse(page_size: i32, page_token: &str) -> Result<Self, AccessError> {
        let size = paging::page_size(page_size).map_err(|_| AccessError::invalid("page_size", "must be 0 to 500"))?;
        let after = paging::text_position(page_token)
            .map_err(|_| {
                AccessError::invalid("page_token", "is not a token this list returned; start again without one")
            })?
            .map(|(key, _)| key)
            .unwrap_or_default();
        Ok(Self { size, after })
    }

    /// The page's rows and the token of the next page (empty at the end). `rows` holds up
    /// to `size + 1` (sort key, row) pairs.
    pub fn finish<T>(&self, mut rows: Vec<(String, T)>) -> (Vec<T>, String) {
        let more = rows.len() as i64 > self.size;
        rows.truncate(self.size as usize);
        let token = match rows.last() {
            Some((key, _)) if more => paging::text_token(key, ""),
            _ => String::new(),
        };
        (rows.into_iter().map(|(_, row)| row).collect(), token)
    }
}

/// Who the audit log names for a caller.
pub fn actor(caller: &Caller) -> String {
    match caller.kind {
        CallerKind::Service => format!("service:{}", caller.service),
        _ => caller.user_id.clone(),
    }
}

/// A new prioritised grant.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub kind: GrantKind,
    pub code: String,
    pub operation: i16,
    pub column_code: String,
    pub grantee: Grantee,
    pub value: i16,
    pub priority: Option<i64>,
}

/// The changes an update asks for; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct GrantChanges {
    pub value: Option<i16>,
    pub priority: Option<Option<i64>>,
}

/// The administration use case.
#[derive(Clone, Debug)]
pub struct Admin {
    pub store: Store,
    pub identity: Identity,
    pub permissions: Permissions,
    pub cache: Arc<VersionedCache>,
    pub clock: Clock,
}

fn already_exists(what: &str) -> AccessError {
    AccessError::AlreadyExists("ALREADY_EXISTS", format!("{what} already exists; update it instead"))
}

impl Admin {
    /// Policy changed: every cached decision is re-evaluated.
    async fn policy_changed(&self) {
        self.cache.bump(&[Counter::Policy]).await;
    }

    /// Granting system operations is not delegated: only the system administrator.
    async fn authorize(&self, caller: &Caller, kind: GrantKind) -> Result<(), AccessError> {
        match kind {
            GrantKind::SystemOperation => Permissions::require_system_administrator(caller),
            GrantKind::Operation | GrantKind::Column => self.permissions.require_administrator(caller).await,
        }
    }

    pub async fn role_priorities_of(&self, grantees: &[&Grantee]) -> Result<RolePriorities, AccessError> {
        let keys: Vec<String> = grantees.iter().filter(|g| !g.is_user()).map(|g| g.key()).collect();
        if keys.is_empty() { Ok(RolePriorities::new()) } else { self.store.role_priorities(&keys).await }
    }

    pub async fn create_grant(
        &self,
        caller: &Caller,
        new: NewGrant,
        request_id: &str,
    ) -> Result<GrantRow, AccessError> {
        self.authorize(caller, new.kind).await?;
        let actor = actor(caller);
        let resource = new.kind.resource();
        if let Some(id) = self.store.created_by_request(resource, &actor, request_id).await?
            && let Some(grant) = self.store.grant(new.kind, &id).await?
        {
            return Ok(grant);
        }
        if new.kind == GrantKind::SystemOperation && !self.store.system_operation_exists(&new.code).await? {
            return Err(AccessError::invalid(
                "system_operation_grant.operation_code",
                format!("'{}' is not in the catalog (ListSystemOperations)", new.code),
            ));
        }
        self.identity.require_grantee(&new.grantee).await?;
        let now = self.clock.now();
        let grant = GrantRow {
            id: service_kit::secrets::new_id(),
            kind: new.kind,
            code: new.code,
            operation: new.operation,
            column_code: new.column_code,
            grantee: new.grantee,
            value: new.value,
            priority: new.priority,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if let Err(error) = grants::insert_grant(&mut tx, &grant).await {
            return Err(if is_unique_violation(&error) {
                already_exists(&format!("a {resource} for this grantee"))
            } else {
                error
            });
        }
        storage::remember_request(&mut tx, resource, &actor, request_id, &grant.id, now).await?;
        storage::audit(&mut tx, &actor, "create", resource, &grant.id, None::<&()>, Some(&grant), now).await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(grant)
    }

    pub async fn update_grant(
        &self,
        caller: &Caller,
        kind: GrantKind,
        id: &str,
        etag: &str,
        changes: GrantChanges,
    ) -> Result<GrantRow, AccessError> {
        self.authorize(caller, kind).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = grants::grant_in(&mut tx, kind, id)
            .await?
            .ok_or_else(|| AccessError::NotFound(kind.resource(), id.into()))?;
        storage::check_etag(etag, before.version, kind.resource())?;
        let after = GrantRow {
            value: changes.value.unwrap_or(before.value),
            priority: changes.priority.unwrap_or(before.priority),
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        grants::update_grant(&mut tx, &after).await?;
        storage::audit(&mut tx, &actor(caller), "update", kind.resource(), id, Some(&before), Some(&after), now)
            .await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(after)
    }

    pub async fn delete_grant(
        &self,
        caller: &Caller,
        kind: GrantKind,
        id: &str,
        etag: &str,
    ) -> Result<(), AccessError> {
        self.authorize(caller, kind).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = grants::grant_in(&mut tx, kind, id)
            .await?
            .ok_or_else(|| AccessError::NotFound(kind.resource(), id.into()))?;
        storage::check_etag(etag, before.version, kind.resource())?;
        grants::delete_grant(&mut tx, kind, id).await?;
        storage::audit(&mut tx, &actor(caller), "delete", kind.resource(), id, Some(&before), None::<&()>, now).await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(())
    }

    pub async fn get_grant(&self, caller: &Caller, kind: GrantKind, id: &str) -> Result<GrantRow, AccessError> {
        self.permissions.require_administrator(caller).await?;
        self.store.grant(kind, id).await?.ok_or_else(|| AccessError::NotFound(kind.resource(), id.into()))
    }

    pub async fn list_grants(
        &self,
        caller: &Caller,
        kind: GrantKind,
        filter: &GrantFilter,
        page: &PageRequest,
    ) -> Result<(Vec<GrantRow>, String), AccessError> {
        self.permissions.require_administrator(caller).await?;
        Ok(page.finish(self.store.list_grants(kind, filter, &page.after, page.size + 1).await?))
    }

    pub async fn create_role_priority(
        &self,
        caller: &Caller,
        role: Grantee,
        priority: i64,
        request_id: &str,
    ) -> Result<RolePriorityRow, AccessError> {
        self.permissions.require_administrator(caller).await?;
        let actor = actor(caller);
        if let Some(id) = self.store.created_by_request("role_priority", &actor, request_id).await?
            && let Some(row) = self.store.role_priority(&id).await?
        {
            return Ok(row);
        }
        self.identity.require_grantee(&role).await?;
        let now = self.clock.now();
        let row = RolePriorityRow {
            id: service_kit::secrets::new_id(),
            role,
            priority,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if let Err(error) = grants::upsert_role_priority(&mut tx, &row, true).await {
            return Err(if is_unique_violation(&error) { already_exists("a priority for this role") } else { error });
        }
        storage::remember_request(&mut tx, "role_priority", &actor, request_id, &row.id, now).await?;
        storage::audit(&mut tx, &actor, "create", "role_priority", &row.id, None::<&()>, Some(&row), now).await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(row)
    }

    /// Changes (`Some`) or removes (`None`) a role priority.
    pub async fn change_role_priority(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        priority: Option<i64>,
    ) -> Result<Option<RolePriorityRow>, AccessError> {
        self.permissions.require_administrator(caller).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = grants::role_priority_in(&mut tx, id, false)
            .await?
            .ok_or_else(|| AccessError::NotFound("role priority", id.into()))?;
        storage::check_etag(etag, before.version, "role priority")?;
        let after = priority.map(|priority| RolePriorityRow {
            priority,
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        });
        match &after {
            Some(after) => grants::upsert_role_priority(&mut tx, after, false).await?,
            None => grants::delete_role_priority(&mut tx, id).await?,
        }
        let action = if after.is_some() { "update" } else { "delete" };
        storage::audit(&mut tx, &actor(caller), action, "role_priority", id, Some(&before), after.as_ref(), now)
            .await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(after)
    }

    pub async fn get_role_priority(&self, caller: &Caller, id: &str) -> Result<RolePriorityRow, AccessError> {
        self.permissions.require_administrator(caller).await?;
        self.store.role_priority(id).await?.ok_or_else(|| AccessError::NotFound("role priority", id.into()))
    }

    pub async fn list_role_priorities(
        &self,
        caller: &Caller,
        grantee_key: &str,
        page: &PageRequest,
    ) -> Result<(Vec<RolePriorityRow>, String), AccessError> {
        self.permissions.require_administrator(caller).await?;
        Ok(page.finish(self.store.list_role_priorities(grantee_key, &page.after, page.size + 1).await?))
    }

    pub async fn create_rule(
        &self,
        caller: &Caller,
        object_code: String,
        author: Grantee,
        target: Option<Grantee>,
        rights: Rights,
        request_id: &str,
    ) -> Result<RuleRow, AccessError> {
        self.permissions.require_administrator(caller).await?;
        let actor = actor(caller);
        if let Some(id) = self.store.created_by_request("default_record_rule", &actor, request_id).await?
            && let Some(row) = self.store.rule(&id).await?
        {
            return Ok(row);
        }
        self.identity.require_grantee(&author).await?;
        if let Some(target) = &target {
            self.identity.require_grantee(target).await?;
        }
        let now = self.clock.now();
        let rule = RuleRow {
            id: service_kit::secrets::new_id(),
            object_code,
            author,
            target,
            rights,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if let Err(error) = grants::insert_rule(&mut tx, &rule).await {
            return Err(if is_unique_violation(&error) {
                already_exists("a rule with this object, author and target")
            } else {
                error
            });
        }
        storage::remember_request(&mut tx, "default_record_rule", &actor, request_id, &rule.id, now).await?;
        storage::audit(&mut tx, &actor, "create", "default_record_rule", &rule.id, None::<&()>, Some(&rule), now)
            .await?;
        tx.commit().await?;
        Ok(rule)
    }

    /// Changes (`Some` rights) or removes (`None`) a default record rule. Grants it made stay.
    pub async fn change_rule(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        rights: Option<Rights>,
    ) -> Result<Option<RuleRow>, AccessError> {
        self.permissions.require_administrator(caller).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = grants::rule_in(&mut tx, id)
            .await?
            .ok_or_else(|| AccessError::NotFound("default record rule", id.into()))?;
        storage::check_etag(etag, before.version, "default record rule")?;
        let after =
            rights.map(|rights| RuleRow { rights, version: before.version + 1, updated_at: now, ..before.clone() });
        match &after {
            Some(after) => grants::update_rule(&mut tx, after).await?,
            None => grants::delete_rule(&mut tx, id).await?,
        }
        let action = if after.is_some() { "update" } else { "delete" };
        storage::audit(&mut tx, &actor(caller), action, "default_record_rule", id, Some(&before), after.as_ref(), now)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn get_rule(&self, caller: &Caller, id: &str) -> Result<RuleRow, AccessError> {
        self.permissions.require_administrator(caller).await?;
        self.store.rule(id).await?.ok_or_else(|| AccessError::NotFound("default record rule", id.into()))
    }

    pub async fn list_rules(
        &self,
        caller: &Caller,
        object_code: &str,
        author_key: &str,
        page: &PageRequest,
    ) -> Result<(Vec<RuleRow>, String), AccessError> {
        self.permissions.require_administrator(caller).await?;
        Ok(page.finish(self.store.list_rules(object_code, author_key, &page.after, page.size + 1).await?))
    }

    /// What the caller holds on a record, checked like any other access to it.
    async fn holder(&self, caller: &Caller, object_code: &str, record_id: &str) -> Result<Holder, AccessError> {
        let mut held = Vec::new();
        for (operation, right) in
            [(Operation::Read, Right::Read), (Operation::Update, Right::Edit), (Operation::Delete, Right::Delete)]
        {
            let query = Query {
                object_code: object_code.to_owned(),
                operation,
                record_id: Some(record_id.to_owned()),
                column_codes: Vec::new(),
            };
            if self.permissions.check(&caller.user_id, &query).await?.allowed {
                held.push(right);
            }
        }
        let confined_to = (caller.kind == CallerKind::External).then(|| caller.organization_id.clone());
        Ok(Holder { rights: Rights::of(held), confined_to })
    }

    /// Who may manage the grants of one record: an administrator every grant, anyone
    /// else only as a holder of the record's DELETE right (`None` for administrators).
    async fn record_manager(
        &self,
        caller: &Caller,
        object_code: &str,
        record_id: &str,
    ) -> Result<Option<Holder>, AccessError> {
        if self.permissions.is_administrator(caller).await? {
            return Ok(None);
        }
        let holder = self.holder(caller, object_code, record_id).await?;
        holder.require_manager()?;
        Ok(Some(holder))
    }

    /// Record grants made by people (RecordGrantService): administrators, and holders of
    /// the record's DELETE right within what [`Holder::may_grant`] allows.
    pub async fn create_record_grant(
        &self,
        caller: &Caller,
        object_code: String,
        record_id: String,
        grantee: Grantee,
        rights: Rights,
        request_id: &str,
    ) -> Result<RecordGrantRow, AccessError> {
        let actor = actor(caller);
        if let Some(id) = self.store.created_by_request(RECORD_GRANT, &actor, request_id).await?
            && let Some(row) = self.store.record_grant(&id).await?
        {
            return Ok(row);
        }
        let key = object_key(&object_code);
        if self.store.record(&key, &record_id).await?.is_none() {
            return Err(AccessError::NotFound("record", format!("{object_code}/{record_id}")));
        }
        let manager = self.record_manager(caller, &object_code, &record_id).await?;
        let grantee_organization = self.identity.grantee_organization(&grantee).await?;
        if let Some(holder) = &manager {
            holder.may_grant(rights, &grantee_organization)?;
        }
        let now = self.clock.now();
        let grant = RecordGrantRow {
            id: service_kit::secrets::new_id(),
            object_code,
            record_id,
            grantee,
            rights,
            source: Source::Manual,
            rule_id: String::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if let Err(error) = records::insert_grant(&mut tx, &grant).await {
            return Err(if is_unique_violation(&error) {
                already_exists("a record grant to this grantee")
            } else {
                error
            });
        }
        storage::remember_request(&mut tx, RECORD_GRANT, &actor, request_id, &grant.id, now).await?;
        storage::audit(&mut tx, &actor, "create", RECORD_GRANT, &grant.id, None::<&()>, Some(&grant), now).await?;
        tx.commit().await?;
        self.cache.bump(&[Counter::Record(key, grant.record_id.clone())]).await;
        Ok(grant)
    }

    /// Changes (`Some` rights) or removes (`None`) a record grant of any source.
    pub async fn change_record_grant(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        rights: Option<Rights>,
    ) -> Result<Option<RecordGrantRow>, AccessError> {
        let before = self.managed_record_grant(caller, id, rights).await?;
        storage::check_etag(etag, before.version, "record grant")?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let after = rights.map(|rights| RecordGrantRow {
            rights,
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        });
        match &after {
            Some(after) => records::update_grant(&mut tx, after).await?,
            None => records::delete_grant(&mut tx, &before, now).await?,
        };
        let action = if after.is_some() { "update" } else { "delete" };
        storage::audit(&mut tx, &actor(caller), action, RECORD_GRANT, id, Some(&before), after.as_ref(), now).await?;
        tx.commit().await?;
        self.cache.bump(&[Counter::Record(object_key(&before.object_code), before.record_id.clone())]).await;
        Ok(after)
    }

    pub async fn get_record_grant(&self, caller: &Caller, id: &str) -> Result<RecordGrantRow, AccessError> {
        self.managed_record_grant(caller, id, None).await
    }

    /// A record grant the caller may manage, and give `new_rights` to when set.
    async fn managed_record_grant(
        &self,
        caller: &Caller,
        id: &str,
        new_rights: Option<Rights>,
    ) -> Result<RecordGrantRow, AccessError> {
        let grant =
            self.store.record_grant(id).await?.ok_or_else(|| AccessError::NotFound("record grant", id.into()))?;
        if let Some(holder) = self.record_manager(caller, &grant.object_code, &grant.record_id).await?
            && let Some(rights) = new_rights
        {
            let grantee_organization = self.identity.grantee_organization(&grant.grantee).await?;
            holder.may_grant(rights, &grantee_organization)?;
        }
        Ok(grant)
    }

    pub async fn list_record_grants(
        &self,
        caller: &Caller,
        object_code: &str,
        record_id: &str,
        grantee_key: &str,
        source: Option<Source>,
        page: &PageRequest,
    ) -> Result<(Vec<RecordGrantRow>, String), AccessError> {
        if record_id.is_empty() {
            self.permissions.require_administrator(caller).await?;
        } else {
            self.record_manager(caller, object_code, record_id).await?;
        }
        let rows = self
            .store
            .list_record_grants(&object_key(object_code), record_id, grantee_key, source, &page.after, page.size + 1)
            .await?;
        Ok(page.finish(rows))
    }

    /// Removes every grant, rule and priority naming a deleted user, role or organization.
    pub async fn remove_grantee(&self, caller: &Caller, grantee: &Grantee) -> Result<i32, AccessError> {
        let actor = actor(caller);
        let key = grantee.key();
        let now = self.clock.now();
        let mut removed = 0;
        let mut records_touched = Vec::new();
        let mut tx = self.store.begin().await?;
        for kind in [GrantKind::Operation, GrantKind::Column, GrantKind::SystemOperation] {
            for grant in grants::grants_to(&mut tx, kind, &key).await? {
                grants::delete_grant(&mut tx, kind, &grant.id).await?;
                storage::audit(&mut tx, &actor, "delete", kind.resource(), &grant.id, Some(&grant), None::<&()>, now)
                    .await?;
                removed += 1;
            }
        }
        for grant in records::record_grants_to(&mut tx, &key).await? {
            records::delete_grant(&mut tx, &grant, now).await?;
            storage::audit(&mut tx, &actor, "delete", RECORD_GRANT, &grant.id, Some(&grant), None::<&()>, now).await?;
            records_touched.push(Counter::Record(object_key(&grant.object_code), grant.record_id.clone()));
            removed += 1;
        }
        for rule in grants::rules_naming(&mut tx, &key).await? {
            grants::delete_rule(&mut tx, &rule.id).await?;
            storage::audit(&mut tx, &actor, "delete", "default_record_rule", &rule.id, Some(&rule), None::<&()>, now)
                .await?;
            removed += 1;
        }
        if let Some(priority) = grants::role_priority_in(&mut tx, &key, true).await? {
            grants::delete_role_priority(&mut tx, &priority.id).await?;
            storage::audit(&mut tx, &actor, "delete", "role_priority", &priority.id, Some(&priority), None::<&()>, now)
                .await?;
            removed += 1;
        }
        tx.commit().await?;
        records_touched.push(Counter::Policy);
        self.cache.bump(&records_touched).await;
        Ok(removed)
    }
}
