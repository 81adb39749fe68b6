//! Points and promotion: a partnership's program state as a pure function of its
//! standing (level and since when activity counts), its type's ladder of levels (from
//! the lookups) and the partner's recorded activity.
//!
//! Activity is replayed in (time, key) order. Each event after the counting cursor and
//! before the end of the due date adds to the tallies; then every obligation of the
//! next level whose actual value reaches its target awards its points. When the points
//! reach the next level's target, the partner is promoted at that event: the level
//! changes, the promotion is recorded with the obligations that earned it, points reset
//! and counting restarts right after that event. Certified experts are not counted
//! since the cursor: they are the distinct contacts holding a certification valid at
//! the moment. Nothing here demotes; inactive partnerships collect no points.

use std::collections::HashSet;

use service_kit::clock::Millis;

use super::{
    decimal::Decimal,
    lookup::{Source, Unit},
};

/// One obligation of a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    pub parameter_id: String,
    pub category_id: String,
    pub category_name: String,
    pub source: Source,
    pub unit: Unit,
    pub target: Decimal,
    pub points: i64,
}

/// One benefit of a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    pub parameter_id: String,
    pub category_id: String,
    pub category_name: String,
    pub unit: Unit,
    pub value: String,
    pub description: String,
}

/// A level of a partner type with its conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub id: String,
    pub name: String,
    pub order: i64,
    pub target_points: i64,
    pub obligations: Vec<Obligation>,
    pub benefits: Vec<Benefit>,
}

/// The levels of one partner type, lowest first.
#[derive(Debug, Clone, Default)]
pub struct Ladder {
    tiers: Vec<Tier>,
}

impl Ladder {
    pub fn new(mut tiers: Vec<Tier>) -> Self {
        tiers.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        Self { tiers }
    }

    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }

    /// The level after `current` (the first level when there is none); `None` at the top.
    pub fn next_after(&self, current: Option<&str>) -> Option<&Tier> {
        match current.and_then(|id| self.tier(id)) {
            Some(tier) => self.tiers.iter().find(|t| t.order > tier.order),
            None if current.is_some() => None,
            None => self.tiers.first(),
        }
    }
}

/// What a partner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// A lead registered (disqualified leads are left out before evaluation).
    LeadRegistered,
    /// An opportunity won; `amount` is `None` when in another currency than the
    /// partnership's (it counts as won, not toward amounts).
    OpportunityWon { amount: Option<Decimal> },
    /// A training completed by one of the partner's people.
    TrainingCompleted,
    /// A certification obtained; its holder is a certified expert until it expires.
    Certification { contact_id: String, expires_at: Option<Millis> },
}

/// One recorded event: when, a key unique among the partner's events (which orders
/// events of the same instant), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Millis,
    pub key: String,
    pub activity: Activity,
}

/// Where a partnership stands before (and after) an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The current level; `None` before the first.
    pub level_id: Option<String>,
    /// Activity counts from this instant...
    pub counting_since: Millis,
    /// ...and, when not empty, only after this event at that very instant (the event
    /// that triggered the last promotion).
    pub counting_after_event: String,
}

impl Standing {
    fn counts(&self, event: &Event) -> bool {
        if self.counting_after_event.is_empty() {
            event.at >= self.counting_since
        } else {
            (event.at, event.key.as_str()) > (self.counting_since, self.counting_after_event.as_str())
        }
    }
}

/// When activity may earn points: only while active, and before the end of the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub active: bool,
    /// The first instant after the due date.
    pub ends_at: Millis,
}

/// Progress on one obligation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub obligation: Obligation,
    pub actual: Decimal,
    pub fulfilled: bool,
    pub points_awarded: i64,
}

/// A promotion the evaluation made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub from_level: Option<(String, String)>,
    pub to_level: (String, String),
    pub points: i64,
    pub reason: String,
    pub obligations: Vec<Progress>,
    pub at: Millis,
    pub event_key: String,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub standing: Standing,
    /// Points toward the next level (0 at the top).
    pub points: i64,
    /// Progress on the next level's obligations as of the evaluation.
    pub next_progress: Vec<Progress>,
    /// Promotions made, oldest first.
    pub promotions: Vec<Promotion>,
}

/// Counted activity since the cursor.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    leads: i64,
    won: i64,
    won_amount: Decimal,
    trainings: i64,
}

impl Tally {
    fn add(&mut self, activity: &Activity) {
        match activity {
            Activity::LeadRegistered => self.leads += 1,
            Activity::OpportunityWon { amount } => {
                self.won += 1;
                if let Some(amount) = amount {
                    self.won_amount = self.won_amount.saturating_add(*amount);
                }
            }
            Activity::TrainingCompleted => self.trainings += 1,
            Activity::Certification { .. } => {}
        }
    }
}

/// Distinct contacts holding a certification valid at `at`.
pub fn certified_experts(events: &[Event], at: Millis) -> i64 {
    let holders: HashSet<&str> = events
        .iter()
        .filter_map(|e| match &e.activity {
            Activity::Certification { contact_id, expires_at }
                if e.at <= at && expires_at.is_none_or(|end| end > at) =>
            {
                Some(contact_id.as_str())
            }
            _ => None,
        })
        .collect();
    holders.len() as i64
}

fn measure(tier: &Tier, tally: Tally, experts: i64) -> Vec<Progress> {
    tier.obligations
        .iter()
        .map(|obligation| {
            let actual = match obligation.source {
                Source::None => Decimal::ZERO,
                Source::LeadsRegistered => Decimal::from_count(tally.leads),
                Source::OpportunitiesWon => Decimal::from_count(tally.won),
                Source::OpportunityWonAmount => tally.won_amount,
                Source::CertifiedExperts => Decimal::from_count(experts),
                Source::TrainingsCompleted => Decimal::from_count(tally.trainings),
            };
            let fulfilled = obligation.source != Source::None && actual >= obligation.target;
            Progress {
                obligation: obligation.clone(),
                actual,
                fulfilled,
                points_awarded: if fulfilled { obligation.points } else { 0 },
            }
        })
        .collect()
}

fn points(progress: &[Progress]) -> i64 {
    progress.iter().map(|p| p.points_awarded).fold(0i64, i64::saturating_add)
}

/// "80 of 80 points: Leads number 10/10 (+40), Opportunity amount 100000/100000 (+40)".
pub fn promotion_reason(points: i64, target: i64, progress: &[Progress]) -> String {
    let fulfilled: Vec<String> = progress
        .iter()
        .filter(|p| p.fulfilled)
        .map(|p| format!("{} {}/{} (+{})", p.obligation.category_name, p.actual, p.obligation.target, p.points_awarded))
        .collect();
    format!("{points} of {target} points: {}", fulfilled.join(", "))
}

/// Evaluates a partnership: replays `events` from `standing`'s cursor and returns the
/// new standing, the points, the progress on the next level as of `now`, and the
/// promotions made on the way. Deterministic: the same inputs, in any order, give the
/// same result.
pub fn evaluate(standing: &Standing, ladder: &Ladder, window: Window, events: &[Event], now: Millis) -> Evaluation {
    let mut events: Vec<&Event> = events.iter().collect();
    events.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
    let all: Vec<Event> = events.iter().map(|e| (*e).clone()).collect();
    let mut standing = standing.clone();
    let mut tally = Tally::default();
    let mut promotions = Vec::new();
    if window.active {
        for event in &events {
            if event.at >= window.ends_at || !standing.counts(event) {
                continue;
            }
            tally.add(&event.activity);
            let Some(next) = ladder.next_after(standing.level_id.as_deref()) else { continue };
            let progress = measure(next, tally, certified_experts(&all, event.at));
            let earned = points(&progress);
            if earned >= next.target_points {
                let from_level =
                    standing.level_id.as_deref().and_then(|id| ladder.tier(id)).map(|t| (t.id.clone(), t.name.clone()));
                promotions.push(Promotion {
                    from_level,
                    to_level: (next.id.clone(), next.name.clone()),
                    points: earned,
                    reason: promotion_reason(earned, next.target_points, &progress),
                    obligations: progress,
                    at: event.at,
                    event_key: event.key.clone(),
                });
                standing = Standing {
                    level_id: Some(next.id.clone()),
                    counting_since: event.at,
                    counting_after_event: event.key.clone(),
                };
                tally = Tally::default();
            }
        }
    }
    let as_of = now.min(window.ends_at.saturating_sub(1));
    let next_progress = match ladder.next_after(standing.level_id.as_deref()) {
        Some(next) => measure(next, tally, certified_experts(&all, as_of)),
        None => Vec::new(),
    };
    let points = if window.active { points(&next_progress) } else { 0 };
    Evaluation { standing, points, next_progress, promotions }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn obligation(id: &str, source: Source, target: i64, points: i64) -> Obligation {
        let (name, unit) = match source {
            Source::LeadsRegistered => ("Leads number", Unit::Count),
            Source::OpportunityWonAmount => ("Opportunity amount", Unit::Amount),
            Source::CertifiedExperts => ("Certified experts", Unit::Count),
            _ => ("Other", Unit::Count),
        };
        Obligation {
            parameter_id: id.into(),
            category_id: name.to_lowercase().replace(' ', "-"),
            category_name: name.into(),
            source,
            unit,
            target: Decimal::from_count(target),
            points,
        }
    }

    fn margin(value: &str) -> Benefit {
        Benefit {
            parameter_id: format!("margin-{value}"),
            category_id: "margin".into(),
            category_name: "Margin".into(),
            unit: Unit::Percent,
            value: value.into(),
            description: String::new(),
        }
    }

    /// The seeded Reseller ladder.
    fn reseller() -> Ladder {
        Ladder::new(vec![
            Tier {
                id: "silver".into(),
                name: "Silver".into(),
                order: 2,
                target_points: 100,
                obligations: vec![
                    obligation("s-leads", Source::LeadsRegistered, 25, 30),
                    obligation("s-amount", Source::OpportunityWonAmount, 250_000, 50),
                    obligation("s-experts", Source::CertifiedExperts, 2, 20),
                ],
                benefits: vec![margin("15")],
            },
            Tier {
                id: "bronze".into(),
                name: "Bronze".into(),
                order: 1,
                target_points: 80,
                obligations: vec![
                    obligation("b-leads", Source::LeadsRegistered, 10, 40),
                    obligation("b-amount", Source::OpportunityWonAmount, 100_000, 40),
                ],
                benefits: vec![margin("10")],
            },
            Tier {
                id: "platinum".into(),
                name: "Platinum".into(),
                order: 3,
                target_points: 150,
                obligations: vec![obligation("p-leads", Source::LeadsRegistered, 50, 150)],
                benefits: vec![margin("20")],
            },
        ])
    }

    fn leads(from: Millis, count: usize) -> Vec<Event> {
        (0..count)
            .map(|i| Event {
                at: from + i as i64,
                key: format!("lead:{from}:{i:03}"),
                activity: Activity::LeadRegistered,
            })
            .collect()
    }

    fn won(at: Millis, amount: i64) -> Event {
        Event {
            at,
            key: format!("opportunity:{at}"),
            activity: Activity::OpportunityWon { amount: Some(Decimal::from_count(amount)) },
        }
    }

    fn start() -> Standing {
        Standing { level_id: None, counting_since: 0, counting_after_event: String::new() }
    }

    const OPEN: Window = Window { active: true, ends_at: 1_000_000 };

    #[test]
    fn the_seed_example_reaches_bronze_with_80_points_and_resets() {
        let mut events = leads(10, 10);
        events.push(won(100, 100_000));
        let result = evaluate(&start(), &reseller(), OPEN, &events, 200);
        assert_eq!(result.promotions.len(), 1);
        let promotion = &result.promotions[0];
        assert_eq!(promotion.to_level.1, "Bronze");
        assert_eq!(promotion.points, 80);
        assert_eq!(promotion.at, 100);
        assert_eq!(
            promotion.reason,
            "80 of 80 points: Leads number 10/10 (+40), Opportunity amount 100000/100000 (+40)"
        );
        assert_eq!(result.standing.level_id.as_deref(), Some("bronze"));
        assert_eq!(result.standing.counting_since, 100);
        assert_eq!(result.points, 0, "points reset at the promotion");
        let toward_silver: Vec<_> = result.next_progress.iter().map(|p| p.obligation.parameter_id.as_str()).collect();
        assert_eq!(toward_silver, ["s-leads", "s-amount", "s-experts"]);
        assert!(result.next_progress.iter().all(|p| p.actual == Decimal::ZERO));
    }

    #[test]
    fn further_activity_counts_toward_silver_only() {
        let mut events = leads(10, 10);
        events.push(won(100, 100_000));
        events.extend(leads(300, 25));
        let result = evaluate(&start(), &reseller(), OPEN, &events, 400);
        assert_eq!(result.promotions.len(), 1);
        assert_eq!(result.points, 30, "25 leads after Bronze fulfil Silver's leads obligation only");
        assert_eq!(result.next_progress[0].actual, Decimal::from_count(25));
        assert_eq!(result.next_progress[1].actual, Decimal::ZERO, "the Bronze amount does not count again");
    }

    #[test]
    fn re_evaluating_from_the_new_standing_changes_nothing() {
        let mut events = leads(10, 10);
        events.push(won(100, 100_000));
        events.extend(leads(300, 5));
        let first = evaluate(&start(), &reseller(), OPEN, &events, 400);
        let second = evaluate(&first.standing, &reseller(), OPEN, &events, 400);
        assert!(second.promotions.is_empty());
        assert_eq!((second.standing, second.points), (first.standing, first.points));
    }

    #[test]
    fn events_of_the_promotion_instant_after_the_trigger_still_count() {
        let mut events = leads(10, 9);
        events.push(won(50, 100_000));
        // The 10th lead and two more at the same instant: the first triggers Bronze.
        events.extend((0..3).map(|i| Event { at: 60, key: format!("lead:z{i}"), activity: Activity::LeadRegistered }));
        let result = evaluate(&start(), &reseller(), OPEN, &events, 100);
        assert_eq!(result.promotions[0].event_key, "lead:z0");
        assert_eq!(result.next_progress[0].actual, Decimal::from_count(2));
        let again = evaluate(&result.standing, &reseller(), OPEN, &events, 100);
        assert_eq!(again.next_progress, result.next_progress);
    }

    #[test]
    fn unfulfilled_obligations_award_nothing() {
        let result = evaluate(&start(), &reseller(), OPEN, &leads(10, 10), 100);
        assert!(result.promotions.is_empty());
        assert_eq!(result.points, 40);
        assert_eq!(result.next_progress[1].points_awarded, 0);
    }

    #[test]
    fn no_points_when_inactive_after_the_due_date_or_in_another_currency() {
        let mut events = leads(10, 10);
        events.push(won(100, 100_000));
        let inactive = evaluate(&start(), &reseller(), Window { active: false, ends_at: 1_000_000 }, &events, 200);
        assert!(inactive.promotions.is_empty());
        assert_eq!(inactive.points, 0);
        let due = evaluate(&start(), &reseller(), Window { active: true, ends_at: 100 }, &events, 200);
        assert!(due.promotions.is_empty(), "the sale after the due date does not count");
        assert_eq!(due.points, 40);
        let mut foreign = leads(10, 10);
        foreign.push(Event { at: 100, key: "o".into(), activity: Activity::OpportunityWon { amount: None } });
        assert_eq!(evaluate(&start(), &reseller(), OPEN, &foreign, 200).points, 40);
    }

    #[test]
    fn certified_experts_count_while_valid_and_several_promotions_chain() {
        let mut events = leads(10, 10);
        events.push(won(100, 100_000));
        events.extend(leads(200, 25));
        events.push(won(300, 250_000));
        for (i, contact) in ["ann", "bob"].into_iter().enumerate() {
            events.push(Event {
                at: 5 + i as i64,
                key: format!("certification:{contact}"),
                activity: Activity::Certification { contact_id: contact.into(), expires_at: None },
            });
        }
        let result = evaluate(&start(), &reseller(), OPEN, &events, 400);
        let reached: Vec<_> = result.promotions.iter().map(|p| p.to_level.1.as_str()).collect();
        assert_eq!(reached, ["Bronze", "Silver"], "certifications obtained before Bronze still count for Silver");
        assert_eq!(result.promotions[1].points, 100);
        let expiring = vec![Event {
            at: 5,
            key: "certification:ann".into(),
            activity: Activity::Certification { contact_id: "ann".into(), expires_at: Some(50) },
        }];
        assert_eq!(certified_experts(&expiring, 49), 1);
        assert_eq!(certified_experts(&expiring, 50), 0);
    }

    #[test]
    fn the_top_level_collects_no_points() {
        let standing =
            Standing { level_id: Some("platinum".into()), counting_since: 0, counting_after_event: String::new() };
        let result = evaluate(&standing, &reseller(), OPEN, &leads(10, 60), 100);
        assert!(result.promotions.is_empty() && result.next_progress.is_empty());
        assert_eq!(result.points, 0);
    }

    fn activity() -> impl Strategy<Value = Event> {
        (0i64..500, 0u32..1000, 0u8..3, 1i64..200_000).prop_map(|(at, n, kind, amount)| Event {
            at,
            key: format!("e{n:04}"),
            activity: match kind {
                0 | 1 => Activity::LeadRegistered,
                _ => Activity::OpportunityWon { amount: Some(Decimal::from_count(amount)) },
            },
        })
    }

    proptest! {
        /// The order events are handed over in does not matter, and evaluating again
        /// from the resulting standing promotes nobody and keeps the points.
        #[test]
        fn evaluation_is_deterministic_and_idempotent(mut events in prop::collection::vec(activity(), 0..80)) {
            events.sort_by(|a, b| a.key.cmp(&b.key));
            events.dedup_by(|a, b| a.key == b.key);
            let forward = evaluate(&start(), &reseller(), OPEN, &events, 1000);
            let mut reversed = events.clone();
            reversed.reverse();
            prop_assert_eq!(&evaluate(&start(), &reseller(), OPEN, &reversed, 1000), &forward);
            let again = evaluate(&forward.standing, &reseller(), OPEN, &events, 1000);
            prop_assert!(again.promotions.is_empty());
            prop_assert_eq!(again.points, forward.points);
            prop_assert!(forward.points < reseller().next_after(forward.standing.level_id.as_deref()).map_or(1, |t| t.target_points));
        }
    }
}
