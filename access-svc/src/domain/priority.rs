//! How conflicting grants are decided (common.proto): the grant with the highest
//! effective priority wins; at equal priority a grant to the user beats a grant to a
//! role, and then the more restrictive grant wins. One rule for object operation,
//! column and system operation grants.

use std::collections::HashMap;

use super::{Grantee, USER_GRANT_PRIORITY};

/// The explicit priorities of roles and organizations, by grantee key.
pub type RolePriorities = HashMap<String, i64>;

/// A grant's rank in conflicts: its own priority when set; otherwise
/// [`USER_GRANT_PRIORITY`] for a user grant and the role's priority (0 when none) for a
/// role or organization grant.
pub fn effective_priority(explicit: Option<i64>, grantee: &Grantee, role_priorities: &RolePriorities) -> i64 {
    explicit.unwrap_or_else(|| {
        if grantee.is_user() { USER_GRANT_PRIORITY } else { role_priorities.get(&grantee.key()).copied().unwrap_or(0) }
    })
}

/// One grant competing for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank {
    pub effective_priority: i64,
    pub to_user: bool,
    /// Higher is more restrictive (deny over allow; hidden over read over edit).
    pub restrictiveness: u8,
}

impl Rank {
    fn order(self) -> (i64, bool, u8) {
        (self.effective_priority, self.to_user, self.restrictiveness)
    }
}

/// The index of the winning grant among `ranks`; `None` when there is none.
pub fn winner(ranks: impl IntoIterator<Item = Rank>) -> Option<usize> {
    ranks.into_iter().enumerate().max_by_key(|(_, rank)| rank.order()).map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rank(effective_priority: i64, to_user: bool, restrictiveness: u8) -> Rank {
        Rank { effective_priority, to_user, restrictiveness }
    }

    #[test]
    fn priority_then_user_then_restrictive() {
        assert_eq!(winner([rank(100, false, 0), rank(200, false, 0)]), Some(1));
        assert_eq!(winner([rank(100, true, 0), rank(100, false, 1)]), Some(0));
        assert_eq!(winner([rank(100, false, 0), rank(100, false, 1)]), Some(1));
        assert_eq!(winner(Vec::<Rank>::new()), None);
    }

    #[test]
    fn unset_priorities_follow_the_grantee() {
        let mut priorities = RolePriorities::new();
        priorities.insert("r:toronto".into(), 200);
        assert_eq!(effective_priority(None, &Grantee::user("u"), &priorities), USER_GRANT_PRIORITY);
        assert_eq!(effective_priority(None, &Grantee::role("toronto"), &priorities), 200);
        assert_eq!(effective_priority(None, &Grantee::role("boston"), &priorities), 0);
        assert_eq!(effective_priority(Some(7), &Grantee::user("u"), &priorities), 7);
    }

    proptest! {
        /// The winner is never outranked by any other grant, whatever the order given.
        #[test]
        fn the_winner_is_maximal(ranks in proptest::collection::vec((0i64..5, any::<bool>(), 0u8..3), 1..12)) {
            let ranks: Vec<Rank> = ranks.into_iter().map(|(p, u, r)| rank(p, u, r)).collect();
            let best = ranks[winner(ranks.clone()).unwrap()];
            for other in &ranks {
                prop_assert!(other.order() <= best.order());
            }
            let mut reversed = ranks.clone();
            reversed.reverse();
            prop_assert_eq!(reversed[winner(reversed.clone()).unwrap()].order(), best.order());
        }
    }
}
