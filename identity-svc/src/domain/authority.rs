//! Who may manage and read users and seats.
//!
//! Today: system administrators manage everything; every user reads themselves;
//! employees read every user. Portal user administrators (the `CanAdministratePortalUsers`
//! system operation) and organization administrators gain their rights when access-svc
//! evaluates system operations and organizations exist (the identity and access issues).

use service_kit::{Caller, CallerKind};

/// May `caller` create, deactivate, reactivate users and assign or release seats?
pub fn may_manage_users(caller: &Caller) -> bool {
    caller.system_administrator
}

/// May `caller` read the user `user_id`?
pub fn may_read_user(caller: &Caller, user_id: &str) -> bool {
    caller.system_administrator || caller.kind == CallerKind::Employee || caller.user_id == user_id
}

/// May `caller` read the licence products?
pub fn may_read_licence_products(caller: &Caller) -> bool {
    caller.system_administrator || caller.kind == CallerKind::Employee
}
