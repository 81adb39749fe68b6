//! Which service agreement a new case falls under (seed 003, "Working with the portal
//! Cases"; seed 000's service agreements): the contact's agreements beat its
//! department's, which beat its account's; one agreement at the winning level is
//! selected, several tie and are left for the user to choose; none at any level gives
//! the default agreement.

/// The level an agreement serves, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceLevel {
    Contact,
    Department,
    Account,
}

/// The outcome of a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One agreement won at `level` (`None`: the default agreement).
    Selected { agreement_id: String, level: Option<ServiceLevel> },
    /// Several tie at `level`: the user chooses among the candidates.
    Tie { level: ServiceLevel, candidate_ids: Vec<String> },
    /// Nothing matched and there is no default agreement.
    None,
}

/// Selects among the active agreements that apply (`(level, id)` pairs) and the active
/// default agreement, if any.
pub fn select(applicable: &[(ServiceLevel, String)], default_agreement: Option<&str>) -> Selection {
    let Some(best) = applicable.iter().map(|(level, _)| *level).min() else {
        return match default_agreement {
            Some(id) => Selection::Selected { agreement_id: id.to_owned(), level: None },
            None => Selection::None,
        };
    };
    let mut winners: Vec<String> =
        applicable.iter().filter(|(level, _)| *level == best).map(|(_, id)| id.clone()).collect();
    winners.sort();
    winners.dedup();
    if winners.len() == 1 {
        Selection::Selected { agreement_id: winners.remove(0), level: Some(best) }
    } else {
        Selection::Tie { level: best, candidate_ids: winners }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceLevel::*;

    fn at(level: ServiceLevel, id: &str) -> (ServiceLevel, String) {
        (level, id.to_owned())
    }

    #[test]
    fn contact_beats_department_beats_account_beats_default() {
        let all = [at(Account, "a"), at(Department, "d"), at(Contact, "c")];
        assert_eq!(select(&all, Some("x")), Selection::Selected { agreement_id: "c".into(), level: Some(Contact) });
        assert_eq!(
            select(&all[..2], Some("x")),
            Selection::Selected { agreement_id: "d".into(), level: Some(Department) }
        );
        assert_eq!(
            select(&all[..1], Some("x")),
            Selection::Selected { agreement_id: "a".into(), level: Some(Account) }
        );
        assert_eq!(select(&[], Some("x")), Selection::Selected { agreement_id: "x".into(), level: None });
        assert_eq!(select(&[], None), Selection::None);
    }

    #[test]
    fn a_tie_at_the_top_selects_nothing_and_returns_the_candidates() {
        let all = [at(Contact, "c2"), at(Contact, "c1"), at(Account, "a")];
        assert_eq!(
            select(&all, Some("x")),
            Selection::Tie { level: Contact, candidate_ids: vec!["c1".into(), "c2".into()] }
        );
    }
}
