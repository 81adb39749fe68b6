//! The columns of the "Case" object that access's column grants name (DESIGN.md §4 level 4;
//! seed 003 "Managing column permissions", e.g. the satisfaction level of a case). Each
//! column covers fields of a case, by their API names (the names the case history uses
//! too). A hidden column's fields are left out of everything the caller reads; a read-only
//! column refuses edits. The owner group and the assignee are hidden from portal users
//! whatever the grants say: they name the service team's people.

use std::collections::HashSet;

/// Each column code with the case fields it covers.
pub const CASE_COLUMNS: &[(&str, &[&str])] = &[
    ("Subject", &["subject"]),
    ("Description", &["description"]),
    ("Category", &["category"]),
    ("Service", &["service_item_id"]),
    ("ServiceAgreement", &["service_agreement_id", "service_agreement_candidate_ids"]),
    ("Contact", &["contact_id"]),
    ("Account", &["account_id"]),
    (OWNER_GROUP, &["owner_group_id"]),
    (ASSIGNEE, &["assignee_user_id"]),
    ("Priority", &["priority"]),
    ("Tags", &["tags"]),
    ("ResponseTime", &["response", "response.deadline", "first_response_time"]),
    ("ResolutionTime", &["resolution", "resolution.deadline", "first_resolution_time", "actual_resolution_time"]),
    ("ClosedOn", &["close_time"]),
    ("ClosureReason", &["closure_reason"]),
    ("Solution", &["solution"]),
    (SATISFACTION_LEVEL, &["feedback.satisfaction_level"]),
    (FEEDBACK_NOTES, &["feedback.notes"]),
    ("Calendar", &["calendar_id"]),
    ("CreatedOn", &["create_time"]),
    ("ModifiedOn", &["update_time"]),
];

pub const OWNER_GROUP: &str = "OwnerGroup";
pub const ASSIGNEE: &str = "Assignee";
pub const SATISFACTION_LEVEL: &str = "SatisfactionLevel";
pub const FEEDBACK_NOTES: &str = "FeedbackNotes";

/// The column covering case field `field`, if a column covers it.
pub fn column_of(field: &str) -> Option<&'static str> {
    CASE_COLUMNS.iter().find(|(_, fields)| fields.contains(&field)).map(|(code, _)| *code)
}

/// The case fields one caller may not see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HiddenFields(HashSet<&'static str>);

impl HiddenFields {
    /// The fields of the columns access hides from the caller (`hidden`, column codes),
    /// with the staff-only columns when the caller is not staff. Codes naming no case
    /// column hide nothing.
    pub fn new(hidden: &[String], staff: bool) -> Self {
        let staff_only: &[&str] = if staff { &[] } else { &[OWNER_GROUP, ASSIGNEE] };
        let fields = CASE_COLUMNS
            .iter()
            .filter(|(code, _)| staff_only.contains(code) || hidden.iter().any(|h| h == code))
            .flat_map(|(_, fields)| fields.iter().copied())
            .collect();
        Self(fields)
    }

    /// Whether the caller may not see `field`.
    pub fn hides(&self, field: &str) -> bool {
        self.0.contains(field)
    }

    /// The hidden fields.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_column_hides_every_field_it_covers() {
        let hidden = HiddenFields::new(&["ResolutionTime".into(), "NoSuchColumn".into()], true);
        for field in ["resolution", "resolution.deadline", "first_resolution_time", "actual_resolution_time"] {
            assert!(hidden.hides(field), "{field}");
        }
        assert!(!hidden.hides("response") && !hidden.hides("owner_group_id"));
    }

    #[test]
    fn portal_users_never_see_the_service_team() {
        let hidden = HiddenFields::new(&[], false);
        assert!(hidden.hides("owner_group_id") && hidden.hides("assignee_user_id"));
        assert_eq!(hidden.iter().count(), 2);
    }

    #[test]
    fn every_field_belongs_to_one_column() {
        let mut seen = HashSet::new();
        for (_, fields) in CASE_COLUMNS {
            for field in *fields {
                assert!(seen.insert(*field), "{field} is covered twice");
                assert!(column_of(field).is_some());
            }
        }
    }
}
