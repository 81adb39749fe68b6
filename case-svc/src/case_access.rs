//! Who may do what with cases, decided by access-svc (the "Case" object, record
//! permissions enabled), and with the case service's reference data. Every use case asks
//! here and only here.
//!
//! Cases: creating needs the object's Create operation; reading, messaging and acting on
//! one needs the operation on that record, and a record the caller may not reach is
//! NOT_FOUND (never PERMISSION_DENIED). New cases are registered with access so its
//! default record rules apply (a portal user reaches the cases they registered;
//! organization-wide visibility is a grant). Lists push access's record filter into SQL
//! over the grant replica, so they are filtered and paginated in the database.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use portal_proto::access::{ObjectOperation, RecordRight};
use service_kit::{
    ApiError, Caller, CallerKind,
    access::{AccessClient, ListPredicate, granted_records, hidden_columns, list_predicate},
    db::Database,
    registrations::Registrations,
};

use crate::{
    domain::{CASE_OBJECT, CaseError, case_columns::HiddenFields},
    storage::{
        CaseRecord,
        cases::{Bind, CaseQuery},
        grant_order,
    },
};

/// The operations a use case asks for.
pub use portal_proto::access::ObjectOperation as Operation;

/// Whether the caller is staff: an employee or the system administrator. Staff move
/// cases with TransitionCase and set the staff-only fields; portal users use the portal
/// actions.
pub fn is_staff(caller: &Caller) -> bool {
    caller.system_administrator || caller.kind == CallerKind::Employee
}

/// The system operation that changing the case settings needs (asked of access on every
/// change; the system administrator holds every operation).
pub const CAN_MANAGE_CASE_SETTINGS: &str = "CanManageCaseSettings";

/// Whether the caller may manage the catalog, calendars and agreements.
pub fn may_manage_reference_data(caller: &Caller) -> bool {
    is_staff(caller)
}

/// The decisions on cases, through access-svc.
#[derive(Debug, Clone)]
pub struct CaseAccess {
    client: AccessClient,
    database: Database,
    /// Registers new records (cases here, articles in the knowledge base) through the
    /// service's journal.
    pub registrations: Registrations,
    /// The replica revision whose grants last had their cases' creation times filled.
    ordered_revision: Arc<AtomicI64>,
}

fn api(error: ApiError) -> CaseError {
    CaseError::Api(error)
}

impl CaseAccess {
    pub fn new(client: AccessClient, database: Database, registrations: Registrations) -> Self {
        Self { client, database, registrations, ordered_revision: Arc::new(AtomicI64::new(-1)) }
    }

    /// Refuses a caller who may not register cases.
    pub async fn require_create(&self, caller: &Caller) -> Result<(), CaseError> {
        self.client.require(&caller.user_id, CASE_OBJECT, ObjectOperation::Create, None, &[]).await.map_err(api)?;
        Ok(())
    }

    /// Refuses a caller who may not do `operation` on `case`, or edit its `columns`
    /// (column codes; a read-only or hidden one is PERMISSION_DENIED); a case they may not
    /// reach is NOT_FOUND.
    pub async fn require_record(
        &self,
        caller: &Caller,
        case: &CaseRecord,
        operation: ObjectOperation,
        columns: &[&str],
    ) -> Result<(), CaseError> {
        match self.client.require(&caller.user_id, CASE_OBJECT, operation, Some(&case.id), columns).await {
            Ok(_) => Ok(()),
            Err(ApiError::NotFound { .. }) => Err(CaseError::NotFound { resource: "case", id: case.id.clone() }),
            Err(error) => Err(api(error)),
        }
    }

    /// The case fields the caller may not see: the columns access hides from them, and
    /// the staff-only ones for portal users.
    pub async fn hidden_fields(&self, caller: &Caller) -> Result<HiddenFields, CaseError> {
        let result =
            self.client.check(&caller.user_id, CASE_OBJECT, ObjectOperation::Read, None, &[]).await.map_err(api)?;
        Ok(HiddenFields::new(hidden_columns(result.column_mask.as_ref()), is_staff(caller)))
    }

    /// Registers a new case with access (its author and organization) through the
    /// journal; the transaction storing it settles the registration.
    pub async fn register(&self, case: &CaseRecord) -> Result<(), CaseError> {
        let (author, organization) = (&case.author_user_id, &case.organization_id);
        self.registrations.register(CASE_OBJECT, &case.id, author, organization).await.map_err(api)
    }

    /// Removes a case that will not be stored from access (now, or by the sweep).
    pub async fn unregister(&self, case_id: &str) {
        self.registrations.abandon(CASE_OBJECT, case_id).await
    }

    /// Adds the caller's record filter to a case query, with the ways into it a list
    /// reads by index, and returns the fields hidden from the caller on every case it
    /// selects (access answers the record filter with the column mask); `None` when the
    /// caller may read no case at all.
    pub async fn restrict(&self, caller: &Caller, query: &mut CaseQuery) -> Result<Option<HiddenFields>, CaseError> {
        let answer =
            self.client.record_filter(&caller.user_id, CASE_OBJECT, ObjectOperation::Read).await.map_err(api)?;
        let hidden = HiddenFields::new(hidden_columns(answer.column_mask.as_ref()), is_staff(caller));
        let filter = answer.filter.unwrap_or_default();
        let revision = self.client.sync(&self.database, CASE_OBJECT, filter.min_grants_revision).await.map_err(api)?;
        // A list in creation order reads granted cases in that order from the replica's
        // index; a list in another order fetches the granted cases and sorts them.
        let in_creation_order = query.order_key == "created_at"
            && matches!(filter.required_right(), RecordRight::Read | RecordRight::Unspecified);
        let filtered = !query.conditions.is_empty();
        let first = query.binds.len() + 1;
        match list_predicate(&filter, CASE_OBJECT, "cases", "id", "author_user_id", first).map_err(api)? {
            ListPredicate::Everything => Ok(Some(hidden)),
            ListPredicate::Nothing => Ok(None),
            ListPredicate::Where(predicate) => {
                query.binds.extend(predicate.params.into_iter().map(Bind::Text));
                query.conditions.push(predicate.sql);
                if !filter.author_user_ids.is_empty() {
                    let authors: Vec<String> =
                        filter.author_user_ids.iter().map(|a| query.bind(Bind::Text(a.clone()))).collect();
                    query.ways.push(format!("cases WHERE author_user_id IN ({})", authors.join(", ")));
                }
                if in_creation_order && !filter.grantee_keys.is_empty() {
                    self.fill_creation_times(revision).await?;
                    let ways = grant_order::granted_ways(query, CASE_OBJECT, &filter.grantee_keys, filtered);
                    query.ways.extend(ways);
                } else if let Some(granted) = granted_records(&filter, CASE_OBJECT, query.binds.len() + 1) {
                    query.binds.extend(granted.params.into_iter().map(Bind::Text));
                    query.ways.push(format!(
                        "cases JOIN ({}) AS granted ON granted.record_id = cases.id WHERE 1 = 1",
                        granted.sql
                    ));
                }
                Ok(Some(hidden))
            }
        }
    }

    /// Fills the creation times of the grants the replica received since the last fill
    /// (once per revision and process; a time still missing only slows a list down).
    async fn fill_creation_times(&self, revision: i64) -> Result<(), CaseError> {
        if self.ordered_revision.load(Ordering::Acquire) == revision {
            return Ok(());
        }
        grant_order::fill(&self.database, CASE_OBJECT).await?;
        self.ordered_revision.store(revision, Ordering::Release);
        Ok(())
    }
}
