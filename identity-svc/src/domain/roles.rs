//! Rules of the role tree: which roles a user can be made a direct member of.

use super::user::UserKind;

/// The built-in roots and the implied memberships.
pub const ALL_EXTERNAL_USERS: &str = "all-external-users";
pub const ALL_EMPLOYEES: &str = "all-employees";
pub const PARTNERS: &str = "partners";

/// The facts about a role that membership rules need.
#[derive(Debug, Clone, Copy)]
pub struct RoleFacts<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub user_kind: &'a str,
    pub organization_id: Option<&'a str>,
    pub parent_id: Option<&'a str>,
}

/// Why a user cannot be made a direct member of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipRefusal {
    /// Roots and organization roles are implied by kind and organization.
    Implicit,
    /// An employee in an external role or the reverse.
    KindMismatch,
    /// A role of an organization that is not the user's.
    OutsideOrganization,
}

impl MembershipRefusal {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Implicit => "IMPLICIT_MEMBERSHIP",
            Self::KindMismatch => "ROLE_KIND_MISMATCH",
            Self::OutsideOrganization => "ROLE_OUTSIDE_ORGANIZATION",
        }
    }

    pub fn explain(self, role_id: &str) -> String {
        match self {
            Self::Implicit => {
                format!("membership of role '{role_id}' is implied (a root or an organization's own role)")
            }
            Self::KindMismatch => format!("role '{role_id}' is for the other kind of user"),
            Self::OutsideOrganization => format!("role '{role_id}' belongs to another organization"),
        }
    }
}

/// Roots and organizations' own roles: users are in them by their kind and organization,
/// never directly.
pub fn membership_is_implicit(role: RoleFacts<'_>) -> bool {
    let is_root = role.parent_id.is_none() && role.kind == "organizational";
    is_root || role.kind == "organization"
}

/// Whether a user of `kind` in `organization_id` can be a direct member of `role`.
pub fn check_membership(
    role: RoleFacts<'_>,
    kind: UserKind,
    organization_id: Option<&str>,
) -> Result<(), MembershipRefusal> {
    if membership_is_implicit(role) {
        return Err(MembershipRefusal::Implicit);
    }
    if role.user_kind != kind.as_str() {
        return Err(MembershipRefusal::KindMismatch);
    }
    match role.organization_id {
        Some(owner) if Some(owner) != organization_id => Err(MembershipRefusal::OutsideOrganization),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role<'a>(
        kind: &'a str,
        user_kind: &'a str,
        organization: Option<&'a str>,
        parent: Option<&'a str>,
    ) -> RoleFacts<'a> {
        RoleFacts { id: "r", kind, user_kind, organization_id: organization, parent_id: parent }
    }

    #[test]
    fn only_explicit_roles_of_the_users_side_and_organization_are_assignable() {
        let boston = role("organizational", "external", Some("acme"), Some("acme"));
        assert_eq!(check_membership(boston, UserKind::External, Some("acme")), Ok(()));
        assert_eq!(
            check_membership(boston, UserKind::External, Some("globex")),
            Err(MembershipRefusal::OutsideOrganization)
        );
        assert_eq!(check_membership(boston, UserKind::Employee, None), Err(MembershipRefusal::KindMismatch));
        let root = role("organizational", "external", None, None);
        assert_eq!(check_membership(root, UserKind::External, None), Err(MembershipRefusal::Implicit));
        let organization = role("organization", "external", Some("acme"), Some("all-external-users"));
        assert_eq!(check_membership(organization, UserKind::External, Some("acme")), Err(MembershipRefusal::Implicit));
        let global_functional = role("functional", "external", None, None);
        assert_eq!(check_membership(global_functional, UserKind::External, Some("acme")), Ok(()));
    }
}
