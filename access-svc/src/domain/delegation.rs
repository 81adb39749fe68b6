//! How far someone who is not an administrator may share a record through
//! RecordGrantService: only a holder of the DELETE right on the record manages its
//! grants, gives at most the rights they hold, and an external holder shares only
//! inside their own organization (its users, its roles, the organization itself).

use super::{AccessError, Rights};

/// What a caller holds on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The rights the permission check gives the caller on the record.
    pub rights: Rights,
    /// The organization an external holder is confined to; `None` for employees.
    pub confined_to: Option<String>,
}

impl Holder {
    /// PERMISSION_DENIED unless the holder may manage the record's grants at all.
    pub fn require_manager(&self) -> Result<(), AccessError> {
        if self.rights.delete {
            Ok(())
        } else {
            Err(AccessError::Denied(
                "RECORD_DELETE_RIGHT_REQUIRED",
                "managing a record's grants needs the DELETE right on the record, or an administrator".into(),
            ))
        }
    }

    /// PERMISSION_DENIED unless the holder may give `rights` to a grantee belonging to
    /// `grantee_organization` (empty when it belongs to none).
    pub fn may_grant(&self, rights: Rights, grantee_organization: &str) -> Result<(), AccessError> {
        if !self.rights.covers(rights) {
            return Err(AccessError::Denied(
                "RIGHTS_EXCEED_CALLER",
                "a record can be shared with at most the rights you hold on it".into(),
            ));
        }
        match &self.confined_to {
            Some(organization) if organization != grantee_organization => Err(AccessError::Denied(
                "GRANTEE_OUTSIDE_ORGANIZATION",
                "you can share a record only with your organization, its roles and its users".into(),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Right;

    fn reason(result: Result<(), AccessError>) -> &'static str {
        match result {
            Err(AccessError::Denied(reason, _)) => reason,
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn managing_needs_the_delete_right() {
        let reader = Holder { rights: Rights::of([Right::Read, Right::Edit]), confined_to: None };
        assert_eq!(reason(reader.require_manager()), "RECORD_DELETE_RIGHT_REQUIRED");
        let owner = Holder { rights: Rights::ALL, confined_to: None };
        assert!(owner.require_manager().is_ok());
    }

    #[test]
    fn a_holder_gives_at_most_the_rights_they_hold() {
        let holder = Holder { rights: Rights::of([Right::Delete]), confined_to: None };
        assert!(holder.may_grant(Rights::of([Right::Read]), "").is_ok());
        assert!(holder.may_grant(Rights::of([Right::Delete]), "").is_ok());
        assert_eq!(reason(holder.may_grant(Rights::of([Right::Edit]), "")), "RIGHTS_EXCEED_CALLER");
    }

    #[test]
    fn an_external_holder_shares_only_inside_their_organization() {
        let holder = Holder { rights: Rights::ALL, confined_to: Some("acme".into()) };
        assert!(holder.may_grant(Rights::ALL, "acme").is_ok());
        assert_eq!(reason(holder.may_grant(Rights::ALL, "globex")), "GRANTEE_OUTSIDE_ORGANIZATION");
        assert_eq!(reason(holder.may_grant(Rights::ALL, "")), "GRANTEE_OUTSIDE_ORGANIZATION");
        let employee = Holder { rights: Rights::ALL, confined_to: None };
        assert!(employee.may_grant(Rights::ALL, "globex").is_ok());
    }
}
