//! Who may do what to users, organizations, roles and seats.
//!
//! System administrators may do everything. Portal user administrators (employees whom
//! access-svc grants the system operation `CanAdministratePortalUsers`) manage every
//! organization and every external user, but not employees, licences or settings.
//! Organization administrators manage their own organization: its users, its
//! administrators and its roles. External users see themselves and their own
//! organization; employees read everything.

use service_kit::{Caller, CallerKind};

/// The caller with the facts about them that decide (read fresh on every call, so a
/// demotion applies to the very next request).
#[derive(Debug, Clone)]
pub struct Actor {
    pub caller: Caller,
    pub organization_id: Option<String>,
    pub organization_administrator: bool,
    /// An employee granted `CanAdministratePortalUsers` by access-svc.
    pub portal_user_administrator: bool,
}

/// What the rules need to know about a user being acted on.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub user_id: &'a str,
    pub organization_id: Option<&'a str>,
    pub external: bool,
}

impl Actor {
    fn is_employee(&self) -> bool {
        self.caller.kind == CallerKind::Employee
    }

    /// Administrator of exactly this organization.
    pub fn administers(&self, organization_id: &str) -> bool {
        self.organization_administrator && self.organization_id.as_deref() == Some(organization_id)
    }

    /// May manage the organization: its users, administrators and roles.
    pub fn may_manage_organization(&self, organization_id: &str) -> bool {
        self.may_manage_everything() || self.administers(organization_id)
    }

    /// May see that the organization exists.
    pub fn may_see_organization(&self, organization_id: &str) -> bool {
        self.caller.system_administrator
            || self.is_employee()
            || self.organization_id.as_deref() == Some(organization_id)
    }

    /// May create organizations, accounts and external roles, and manage every external
    /// user and organization.
    pub fn may_manage_everything(&self) -> bool {
        self.caller.system_administrator || self.portal_user_administrator
    }

    /// May deactivate, reactivate or otherwise manage this user.
    pub fn may_manage_user(&self, target: Target<'_>) -> bool {
        self.caller.system_administrator
            || (target.external
                && (self.portal_user_administrator || target.organization_id.is_some_and(|o| self.administers(o))))
    }

    /// May read this user.
    pub fn may_read_user(&self, target: Target<'_>) -> bool {
        self.caller.system_administrator
            || self.is_employee()
            || self.caller.user_id == target.user_id
            || self.may_manage_user(target)
    }

    /// May assign and release seats.
    pub fn may_manage_licences(&self) -> bool {
        self.caller.system_administrator
    }

    /// May read the licence products.
    pub fn may_read_licence_products(&self) -> bool {
        self.caller.system_administrator || self.is_employee() || self.organization_administrator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(kind: CallerKind, organization: Option<&str>, admin: bool) -> Actor {
        Actor {
            caller: Caller { kind, user_id: "me".into(), ..Caller::anonymous() },
            organization_id: organization.map(Into::into),
            organization_administrator: admin,
            portal_user_administrator: false,
        }
    }

    #[test]
    fn organization_administrators_manage_only_their_own_organization() {
        let admin = actor(CallerKind::External, Some("acme"), true);
        let own = Target { user_id: "u", organization_id: Some("acme"), external: true };
        let other = Target { user_id: "v", organization_id: Some("globex"), external: true };
        assert!(admin.may_manage_user(own) && admin.may_manage_organization("acme"));
        assert!(!admin.may_manage_user(other) && !admin.may_manage_organization("globex"));
        assert!(!admin.may_read_user(other));
        let member = actor(CallerKind::External, Some("acme"), false);
        assert!(!member.may_manage_user(own) && member.may_see_organization("acme"));
        assert!(!member.may_see_organization("globex"));
    }
}
