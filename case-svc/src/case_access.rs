//! Who may do what with cases and with the case service's reference data. Every use
//! case asks here and only here.
//!
//! These are DESIGN.md §4's defaults for the "Case" object (record permissions enabled)
//! until access-svc's client (`service_kit::access`) is wired in: employees and the
//! system administrator create, read, update and delete every case; an external user
//! creates cases and reads and updates the cases they registered. Lists push the same
//! rule into SQL as a record filter, so they are filtered and paginated in the database.

use service_kit::{Caller, CallerKind};

use crate::storage::{
    CaseRecord,
    cases::{Bind, CaseQuery},
};

/// The access-svc object that cases are.
pub const CASE_OBJECT: &str = "Case";

/// Whether the caller is staff: an employee or the system administrator.
pub fn is_staff(caller: &Caller) -> bool {
    caller.system_administrator || caller.kind == CallerKind::Employee
}

/// Whether the caller may manage the catalog, calendars, agreements and settings.
pub fn may_manage_reference_data(caller: &Caller) -> bool {
    is_staff(caller)
}

/// Whether the caller may reach (read, message, act on) this case.
pub fn may_reach(caller: &Caller, case: &CaseRecord) -> bool {
    is_staff(caller) || (caller.kind == CallerKind::External && case.author_user_id == caller.user_id)
}

/// Whether the caller may register cases.
pub fn may_create(caller: &Caller) -> bool {
    is_staff(caller) || caller.kind == CallerKind::External
}

/// Adds the caller's record filter to a case query.
pub fn restrict(caller: &Caller, query: &mut CaseQuery) {
    if is_staff(caller) {
        return;
    }
    let placeholder = query.bind(Bind::Text(caller.user_id.clone()));
    query.conditions.push(format!("author_user_id = {placeholder}"));
}
