//! Enforcing permissions from another service: the client of access-svc's
//! `AccessInternalService`, and the record grant replica that list queries filter on.
//!
//! # How a service enforces permissions
//!
//! Build one [`AccessClient`] when the service starts (`AccessClient::new(&context, "case")`)
//! and keep it with the use cases. Nothing is decided by trusting the caller: every
//! action on behalf of a user is checked, with the user's id from
//! [`Caller`](crate::Caller) as subject.
//!
//! - **One record or a create** — call [`AccessClient::require`] before acting:
//!   ```ignore
//!   let allowed = access.require(&caller.user_id, "Case", ObjectOperation::Update, Some(&case_id), &["Subject"]).await?;
//!   // allowed.column_mask: drop hidden columns from the answer
//!   ```
//!   It returns the [`CheckResult`] when allowed and turns a denial into the error to
//!   return: `NOT_FOUND` when the subject may not reach the record (so a record's
//!   existence does not leak), `PERMISSION_DENIED` for the object, the operation or a
//!   column. Use [`AccessClient::check`] when a denial is not an error (for example to
//!   decide which actions to offer). Remove the columns of
//!   `column_mask.hidden_column_codes` from what you return ([`hidden_columns`]).
//! - **Creating a record** — after inserting it (in the same request, or from your
//!   outbox), call [`AccessClient::register_record`] with its author and organization, so
//!   default record rules apply and record checks know its author. Call
//!   [`AccessClient::unregister_record`] when you delete it, and
//!   [`AccessClient::share_record`] / [`AccessClient::unshare_record`] to share it on the
//!   service's behalf (for example with an assignee group).
//! - **Listing records** — filter and paginate in your own database:
//!   1. copy [`REPLICA_DDL`] into a migration of your service (once);
//!   2. per list, call [`AccessClient::record_filter`] for the subject, object and
//!      operation (READ for lists);
//!   3. call [`AccessClient::sync`] with the answer's `min_grants_revision`, which pulls
//!      the grant changes your copy lacks (usually none: one indexed read);
//!   4. render the predicate with [`list_predicate`] and add it to your WHERE clause
//!      with its parameters bound in order, before your own filters, order and
//!      keyset pagination:
//!   ```ignore
//!   let answer = access.record_filter(&caller.user_id, "Case", ObjectOperation::Read).await?;
//!   let filter = answer.filter.unwrap_or_default();
//!   access.sync(&database, "Case", filter.min_grants_revision).await?;
//!   match list_predicate(&filter, "Case", "c", "id", "created_by", 1)? {
//!       ListPredicate::Nothing => return Ok(empty_page()),
//!       ListPredicate::Everything => { /* no condition */ }
//!       ListPredicate::Where(predicate) => { /* "WHERE " + predicate.sql, bind predicate.params, next $ is predicate.next_placeholder */ }
//!   }
//!   ```
//!
//! Errors reaching access come back as `UNAVAILABLE` (retry) or `INTERNAL`; never treat
//! them as allowed.

use std::sync::Arc;

use portal_proto::access::{
    AccessQuery, CheckRequest, CheckResult, CheckSystemOperationRequest, ColumnMask, DecisionLevel, DenialReason,
    Grantee, ObjectOperation, PullRecordGrantChangesRequest, RecordFilter, RecordFilterMode, RecordFilterRequest,
    RecordFilterResponse, RecordGrantSource, RecordRight, RegisterRecordRequest, RegisterRecordResponse,
    ShareRecordRequest, ShareRecordResponse, UnregisterRecordRequest, UnregisterRecordResponse, UnshareRecordRequest,
    UnshareRecordResponse, access_internal_service_client::AccessInternalServiceClient,
};
use sqlx::Row;
use tonic::{Code, Status, service::interceptor::InterceptedService};

use crate::{
    ApiError, Caller, CallerKind, ServiceContext, Upstreams,
    assertion::AssertionKey,
    db::Database,
    error::error_reason,
    upstream::{SignAs, Upstream},
};

/// The grant replica each owning service keeps in its own database (copy it into a
/// migration as is). `access_record_grants` holds the current record grants of the
/// service's objects as PullRecordGrantChanges reports them; `access_grant_revisions`
/// the revision applied per object. Portable SQL for PostgreSQL and SQLite.
pub const REPLICA_DDL: &str = "\
CREATE TABLE access_record_grants (
    grant_id     TEXT PRIMARY KEY,
    object_code  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    grantee_key  TEXT NOT NULL,
    can_read     SMALLINT NOT NULL,
    can_edit     SMALLINT NOT NULL,
    can_delete   SMALLINT NOT NULL
);
CREATE INDEX access_record_grants_by_grantee ON access_record_grants (object_code, grantee_key, record_id);
CREATE TABLE access_grant_revisions (
    object_code  TEXT PRIMARY KEY,
    revision     BIGINT NOT NULL
);
";

/// How long access may take before a call fails with UNAVAILABLE.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Changes pulled per page while syncing the replica.
const SYNC_PAGE: i32 = 1000;

type Client = AccessInternalServiceClient<InterceptedService<Upstream, SignAs>>;

/// The client of access-svc for one service.
#[derive(Clone, Debug)]
pub struct AccessClient {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
    service: &'static str,
}

/// An error of access turned into this service's answer: its own refusals of bad input
/// are a fault of the calling service (INTERNAL); NOT_FOUND stays NOT_FOUND (an unknown
/// record or grantee); anything else is UNAVAILABLE.
fn from_status(status: Status) -> ApiError {
    match status.code() {
        Code::NotFound => ApiError::NotFound { resource: "access record or grantee", id: status.message().to_owned() },
        Code::AlreadyExists => {
            ApiError::AlreadyExists { reason: "RECORD_ALREADY_REGISTERED", message: status.message().to_owned() }
        }
        Code::InvalidArgument | Code::FailedPrecondition | Code::PermissionDenied | Code::Unauthenticated => {
            ApiError::internal(format!("access refused the call: {:?} {}", status.code(), status.message()))
        }
        _ => ApiError::Unavailable { message: format!("access is unavailable ({}); retry shortly", status.message()) },
    }
}

impl AccessClient {
    /// The client for `service` (the name the calls are signed with, e.g. "case").
    pub fn new(context: &ServiceContext, service: &'static str) -> Self {
        Self { upstreams: context.upstreams.clone(), key: context.assertion_key.clone(), service }
    }

    fn client(&self) -> Result<Client, ApiError> {
        let upstream = self
            .upstreams
            .get("access")
            .ok_or_else(|| ApiError::Unavailable { message: "access is not configured (upstreams.access)".into() })?;
        Ok(AccessInternalServiceClient::with_interceptor(
            upstream,
            SignAs::new(self.key.clone(), Caller::service(self.service)),
        ))
    }

    async fn call<T, F>(&self, call: impl FnOnce(Client) -> F) -> Result<T, ApiError>
    where
        F: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        self.answer(call).await?.map_err(from_status)
    }

    /// Access's answer, its refusal left for the caller to read.
    async fn answer<T, F>(&self, call: impl FnOnce(Client) -> F) -> Result<Result<T, Status>, ApiError>
    where
        F: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let client = self.client()?;
        match tokio::time::timeout(CALL_TIMEOUT, call(client)).await {
            Ok(answer) => Ok(answer.map(tonic::Response::into_inner)),
            Err(_) => Err(ApiError::Unavailable { message: "access did not answer in time; retry shortly".into() }),
        }
    }

    /// May `subject_user_id` do `operation` on `object_code` (the record `record_id`, the
    /// `columns` read or written)? A denial is an answer (`allowed == false`), not an error.
    pub async fn check(
        &self,
        subject_user_id: &str,
        object_code: &str,
        operation: ObjectOperation,
        record_id: Option<&str>,
        columns: &[&str],
    ) -> Result<CheckResult, ApiError> {
        let request = CheckRequest {
            query: Some(AccessQuery {
                object_code: object_code.to_owned(),
                operation: operation.into(),
                record_id: record_id.unwrap_or_default().to_owned(),
                column_codes: columns.iter().map(|c| (*c).to_owned()).collect(),
            }),
            subject_user_id: subject_user_id.to_owned(),
        };
        let response = self.call(|mut c| async move { c.check(request).await }).await?;
        response.result.ok_or_else(|| ApiError::internal("access answered a check without a result"))
    }

    /// As [`AccessClient::check`], with a denial turned into the error to return (see
    /// [`denial_error`]).
    pub async fn require(
        &self,
        subject_user_id: &str,
        object_code: &str,
        operation: ObjectOperation,
        record_id: Option<&str>,
        columns: &[&str],
    ) -> Result<CheckResult, ApiError> {
        let result = self.check(subject_user_id, object_code, operation, record_id, columns).await?;
        if result.allowed { Ok(result) } else { Err(denial_error(&result, object_code, record_id)) }
    }

    /// May `subject_user_id` perform the system operation `operation_code` (e.g.
    /// "CanUseFolders")? A denial is an answer (`false`), not an error.
    pub async fn check_system_operation(&self, subject_user_id: &str, operation_code: &str) -> Result<bool, ApiError> {
        let request = CheckSystemOperationRequest {
            operation_code: operation_code.to_owned(),
            subject_user_id: subject_user_id.to_owned(),
        };
        Ok(self.call(|mut c| async move { c.check_system_operation(request).await }).await?.allowed)
    }

    /// Refuses, with PERMISSION_DENIED (reason SYSTEM_OPERATION_REQUIRED), a caller who is
    /// neither the system administrator nor an employee that access allows the system
    /// operation `operation_code`: the rule of every administrative call (templates,
    /// deliveries, case settings…). Asked on every call; an error of access is returned
    /// as such (UNAVAILABLE or INTERNAL), never taken for a yes.
    pub async fn require_staff_operation(&self, caller: &Caller, operation_code: &str) -> Result<(), ApiError> {
        if caller.system_administrator {
            return Ok(());
        }
        if caller.kind == CallerKind::Employee && self.check_system_operation(&caller.user_id, operation_code).await? {
            return Ok(());
        }
        Err(ApiError::PermissionDenied {
            reason: "SYSTEM_OPERATION_REQUIRED",
            message: format!(
                "this call needs the system administrator or an employee allowed the system operation {operation_code}; ask your administrator"
            ),
        })
    }

    /// Registers a new record (applies the default record rules).
    pub async fn register_record(
        &self,
        object_code: &str,
        record_id: &str,
        author_user_id: &str,
        organization_id: &str,
    ) -> Result<RegisterRecordResponse, ApiError> {
        let request = RegisterRecordRequest {
            object_code: object_code.to_owned(),
            record_id: record_id.to_owned(),
            author_user_id: author_user_id.to_owned(),
            organization_id: organization_id.to_owned(),
        };
        self.call(|mut c| async move { c.register_record(request).await }).await
    }

    /// Unregisters a deleted record and removes its grants.
    pub async fn unregister_record(
        &self,
        object_code: &str,
        record_id: &str,
    ) -> Result<UnregisterRecordResponse, ApiError> {
        let request = UnregisterRecordRequest { object_code: object_code.to_owned(), record_id: record_id.to_owned() };
        self.call(|mut c| async move { c.unregister_record(request).await }).await
    }

    /// Shares a record with a user, role or organization on the service's behalf.
    pub async fn share_record(
        &self,
        object_code: &str,
        record_id: &str,
        grantee: Grantee,
        rights: &[RecordRight],
    ) -> Result<ShareRecordResponse, ApiError> {
        let request = ShareRecordRequest {
            object_code: object_code.to_owned(),
            record_id: record_id.to_owned(),
            grantee: Some(grantee),
            rights: rights.iter().map(|r| *r as i32).collect(),
        };
        self.call(|mut c| async move { c.share_record(request).await }).await
    }

    /// Removes the service's grants of a record to `grantee` (or to everyone).
    pub async fn unshare_record(
        &self,
        object_code: &str,
        record_id: &str,
        grantee: Option<Grantee>,
    ) -> Result<UnshareRecordResponse, ApiError> {
        let request = UnshareRecordRequest {
            object_code: object_code.to_owned(),
            record_id: record_id.to_owned(),
            grantee,
            source: RecordGrantSource::Service.into(),
        };
        self.call(|mut c| async move { c.unshare_record(request).await }).await
    }

    /// The record predicate (and column mask) of a list for a subject.
    pub async fn record_filter(
        &self,
        subject_user_id: &str,
        object_code: &str,
        operation: ObjectOperation,
    ) -> Result<RecordFilterResponse, ApiError> {
        let request = RecordFilterRequest {
            subject_user_id: subject_user_id.to_owned(),
            object_code: object_code.to_owned(),
            operation: operation.into(),
        };
        self.call(|mut c| async move { c.record_filter(request).await }).await
    }

    /// Brings the replica of `object_code`'s grants (see [`REPLICA_DDL`]) up to at least
    /// `min_revision`, applying PullRecordGrantChanges pages, each in one transaction
    /// that also advances the stored revision with a compare-and-set, so concurrent syncs
    /// (several processes of one service) never apply a page twice or out of order.
    /// When access no longer keeps the changes the replica needs (REVISION_COMPACTED),
    /// the replica is emptied and filled again from revision 0.
    /// Returns the revision reached.
    pub async fn sync(&self, database: &Database, object_code: &str, min_revision: i64) -> Result<i64, ApiError> {
        sqlx::query("INSERT INTO access_grant_revisions (object_code, revision) VALUES ($1, 0) ON CONFLICT (object_code) DO NOTHING")
            .bind(object_code)
            .execute(&database.writer)
            .await?;
        loop {
            let current: i64 = sqlx::query("SELECT revision FROM access_grant_revisions WHERE object_code = $1")
                .bind(object_code)
                .fetch_one(&database.pool)
                .await?
                .try_get("revision")?;
            if current >= min_revision {
                return Ok(current);
            }
            let request = PullRecordGrantChangesRequest {
                object_code: object_code.to_owned(),
                after_revision: current,
                page_size: SYNC_PAGE,
            };
            let page = match self.answer(|mut c| async move { c.pull_record_grant_changes(request).await }).await? {
                Ok(page) => page,
                Err(status) if error_reason(&status) == "REVISION_COMPACTED" => {
                    restart_replica(database, object_code, current).await?;
                    continue;
                }
                Err(status) => return Err(from_status(status)),
            };
            if page.changes.is_empty() {
                return Ok(current);
            }
            let mut tx = database.begin().await?;
            let moved =
                sqlx::query("UPDATE access_grant_revisions SET revision = $2 WHERE object_code = $1 AND revision = $3")
                    .bind(object_code)
                    .bind(page.revision)
                    .bind(current)
                    .execute(&mut *tx)
                    .await?;
            if moved.rows_affected() != 1 {
                // Another sync got there first: start again from where it left the replica.
                tx.rollback().await?;
                continue;
            }
            for change in &page.changes {
                if change.removed {
                    sqlx::query("DELETE FROM access_record_grants WHERE grant_id = $1")
                        .bind(&change.grant_id)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    let has = |right: RecordRight| i16::from(change.rights.contains(&(right as i32)));
                    sqlx::query(
                        "INSERT INTO access_record_grants (grant_id, object_code, record_id, grantee_key, can_read, \
                         can_edit, can_delete) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (grant_id) DO UPDATE \
                         SET can_read = excluded.can_read, can_edit = excluded.can_edit, can_delete = excluded.can_delete",
                    )
                    .bind(&change.grant_id)
                    .bind(object_code)
                    .bind(&change.record_id)
                    .bind(&change.grantee_key)
                    .bind(has(RecordRight::Read))
                    .bind(has(RecordRight::Edit))
                    .bind(has(RecordRight::Delete))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            if !page.more && page.revision >= min_revision {
                return Ok(page.revision);
            }
        }
    }
}

/// Empties the replica of `object_code` and sets it back to revision 0, unless another
/// sync moved it from `current` meanwhile.
async fn restart_replica(database: &Database, object_code: &str, current: i64) -> Result<(), ApiError> {
    let mut tx = database.begin().await?;
    let moved = sqlx::query("UPDATE access_grant_revisions SET revision = 0 WHERE object_code = $1 AND revision = $2")
        .bind(object_code)
        .bind(current)
        .execute(&mut *tx)
        .await?;
    if moved.rows_affected() == 1 {
        sqlx::query("DELETE FROM access_record_grants WHERE object_code = $1")
            .bind(object_code)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The error a denied check becomes: NOT_FOUND when the record may not be reached (its
/// existence does not leak), PERMISSION_DENIED otherwise, with the denial reason.
pub fn denial_error(result: &CheckResult, object_code: &str, record_id: Option<&str>) -> ApiError {
    let reason = result.denial_reason();
    if result.decided_level() == DecisionLevel::Record
        && let Some(record_id) = record_id
    {
        return ApiError::NotFound { resource: "record", id: format!("{object_code}/{record_id}") };
    }
    let (code, message) = match reason {
        DenialReason::SubjectInactive => ("SUBJECT_INACTIVE", "the user is unknown or deactivated".to_owned()),
        DenialReason::ObjectNotOnPortal => {
            ("OBJECT_NOT_ON_PORTAL", format!("{object_code} is not available on the portal"))
        }
        DenialReason::SectionReadOnly => ("SECTION_READ_ONLY", format!("the {object_code} section is read-only")),
        DenialReason::ColumnReadOnly => {
            ("COLUMN_READ_ONLY", format!("these columns may not be written: {}", result.denied_column_codes.join(", ")))
        }
        DenialReason::ColumnHidden => {
            ("COLUMN_HIDDEN", format!("these columns are not available: {}", result.denied_column_codes.join(", ")))
        }
        _ => ("OPERATION_NOT_ALLOWED", format!("you may not do this with {object_code}; ask your administrator")),
    };
    ApiError::PermissionDenied { reason: code, message }
}

/// The columns to remove from a response.
pub fn hidden_columns(mask: Option<&ColumnMask>) -> &[String] {
    mask.map_or(&[], |m| m.hidden_column_codes.as_slice())
}

/// A SQL condition with its parameters, to add to a WHERE clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlPredicate {
    /// The condition, in parentheses, with `$n` placeholders starting at the number given.
    pub sql: String,
    /// The values to bind, in placeholder order.
    pub params: Vec<String>,
    /// The first placeholder number after this predicate's.
    pub next_placeholder: usize,
}

/// What a record filter means for a list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListPredicate {
    /// Add no condition.
    Everything,
    /// Return an empty page without querying.
    Nothing,
    /// Add this condition.
    Where(SqlPredicate),
}

fn identifier(name: &str) -> Result<&str, ApiError> {
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid { Ok(name) } else { Err(ApiError::internal(format!("'{name}' is not a plain SQL identifier"))) }
}

/// Renders a record filter for the `Any` driver (portable: `IN ($n, …)` lists, no
/// `= ANY`), for records in table alias `alias` with columns `id_column` and
/// `created_by_column`, joined to the replica of [`REPLICA_DDL`]. Placeholders start at
/// `first_placeholder`. The names must be plain identifiers of your own schema.
pub fn list_predicate(
    filter: &RecordFilter,
    object_code: &str,
    alias: &str,
    id_column: &str,
    created_by_column: &str,
    first_placeholder: usize,
) -> Result<ListPredicate, ApiError> {
    match filter.mode() {
        RecordFilterMode::AllowAll => return Ok(ListPredicate::Everything),
        RecordFilterMode::Match => {}
        RecordFilterMode::DenyAll | RecordFilterMode::Unspecified => return Ok(ListPredicate::Nothing),
    }
    let (alias, id_column, created_by_column) =
        (identifier(alias)?, identifier(id_column)?, identifier(created_by_column)?);
    let right = right_column(filter);
    let mut next = first_placeholder;
    let mut params = Vec::new();
    let mut list = |values: &[String]| {
        let placeholders: Vec<String> = values
            .iter()
            .map(|value| {
                params.push(value.clone());
                next += 1;
                format!("${}", next - 1)
            })
            .collect();
        placeholders.join(", ")
    };
    let mut conditions = Vec::new();
    if !filter.author_user_ids.is_empty() {
        conditions.push(format!("{alias}.{created_by_column} IN ({})", list(&filter.author_user_ids)));
    }
    if !filter.grantee_keys.is_empty() {
        let object = list(&[object_code.to_owned()]);
        let keys = list(&filter.grantee_keys);
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM access_record_grants access_g WHERE access_g.object_code = {object} \
             AND access_g.grantee_key IN ({keys}) AND access_g.record_id = {alias}.{id_column} AND access_g.{right} = 1)"
        ));
    }
    if conditions.is_empty() {
        return Ok(ListPredicate::Nothing);
    }
    Ok(ListPredicate::Where(SqlPredicate {
        sql: format!("({})", conditions.join(" OR ")),
        params,
        next_placeholder: next,
    }))
}

/// The replica column of the right a filter's grants must carry.
fn right_column(filter: &RecordFilter) -> &'static str {
    match filter.required_right() {
        RecordRight::Edit => "can_edit",
        RecordRight::Delete => "can_delete",
        RecordRight::Read | RecordRight::Unspecified => "can_read",
    }
}

/// The ids of the records a MATCH filter reaches by grant, as a sub-query selecting each
/// `record_id` once, with placeholders from `first_placeholder`; None when it names no
/// grantee. For lists ordered and paged in SQL: [`list_predicate`]'s OR of author and grant
/// cannot use an index, so PostgreSQL walks the table in list order until a page matches
/// (hundreds of milliseconds at a million records); joining this sub-query and, separately,
/// the author's records, each with the list's order and limit, and merging the two pages
/// keeps both index-driven.
pub fn granted_records(filter: &RecordFilter, object_code: &str, first_placeholder: usize) -> Option<SqlPredicate> {
    if filter.mode() != RecordFilterMode::Match || filter.grantee_keys.is_empty() {
        return None;
    }
    let keys: Vec<String> = (0..filter.grantee_keys.len()).map(|i| format!("${}", first_placeholder + 1 + i)).collect();
    let mut params = vec![object_code.to_owned()];
    params.extend(filter.grantee_keys.iter().cloned());
    Some(SqlPredicate {
        sql: format!(
            "SELECT DISTINCT access_g.record_id FROM access_record_grants access_g WHERE access_g.object_code = ${first_placeholder} \
             AND access_g.grantee_key IN ({}) AND access_g.{} = 1",
            keys.join(", "),
            right_column(filter)
        ),
        next_placeholder: first_placeholder + params.len(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_renders_numbered_in_lists() {
        let filter = RecordFilter {
            mode: RecordFilterMode::Match.into(),
            author_user_ids: vec!["u1".into()],
            grantee_keys: vec!["u:u1".into(), "r:org".into()],
            required_right: RecordRight::Edit.into(),
            ..Default::default()
        };
        let ListPredicate::Where(predicate) = list_predicate(&filter, "Case", "c", "id", "created_by", 3).unwrap()
        else {
            panic!("expected a condition");
        };
        assert_eq!(predicate.params, ["u1", "Case", "u:u1", "r:org"]);
        assert_eq!(predicate.next_placeholder, 7);
        assert!(predicate.sql.starts_with("(c.created_by IN ($3) OR EXISTS"), "{}", predicate.sql);
        assert!(predicate.sql.contains("access_g.grantee_key IN ($5, $6)") && predicate.sql.contains("can_edit = 1"));
        assert!(list_predicate(&filter, "Case", "c; DROP", "id", "created_by", 1).is_err());
        let deny = RecordFilter { mode: RecordFilterMode::DenyAll.into(), ..Default::default() };
        assert_eq!(list_predicate(&deny, "Case", "c", "id", "created_by", 1).unwrap(), ListPredicate::Nothing);
    }

    #[test]
    fn granted_records_select_ids_with_the_right() {
        let filter = RecordFilter {
            mode: RecordFilterMode::Match.into(),
            author_user_ids: vec!["u1".into()],
            grantee_keys: vec!["u:u1".into(), "r:org".into()],
            required_right: RecordRight::Read.into(),
            ..Default::default()
        };
        let granted = granted_records(&filter, "Case", 4).unwrap();
        assert_eq!(granted.params, ["Case", "u:u1", "r:org"]);
        assert_eq!(granted.next_placeholder, 7);
        assert!(
            granted.sql.contains("object_code = $4 AND access_g.grantee_key IN ($5, $6) AND access_g.can_read = 1")
        );
        let authors_only = RecordFilter { grantee_keys: vec![], ..filter };
        assert_eq!(granted_records(&authors_only, "Case", 1), None);
    }

    #[test]
    fn record_denials_hide_existence() {
        let record = CheckResult {
            decided_level: DecisionLevel::Record.into(),
            denial_reason: DenialReason::RecordNotGranted.into(),
            ..Default::default()
        };
        assert!(matches!(denial_error(&record, "Case", Some("c1")), ApiError::NotFound { .. }));
        let operation = CheckResult {
            decided_level: DecisionLevel::Operation.into(),
            denial_reason: DenialReason::OperationNotGranted.into(),
            ..Default::default()
        };
        assert!(matches!(denial_error(&operation, "Case", Some("c1")), ApiError::PermissionDenied { .. }));
    }
}
