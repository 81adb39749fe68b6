//! SLA events: fires the warnings and breaches that are due (by the service's clock,
//! which tests move by hand), each once, with its history entry and its emails in the
//! case's transaction. A background worker calls it twice a second, in one replica
//! at a time ([`service_kit::exclusive`]); a pass in another would find nothing to fire
//! (each save checks the case's version), but repeat the work.

use std::collections::HashSet;

use service_kit::{Shutdown, clock::Clock, exclusive::Exclusive};

use crate::{
    cases::{BREACH_TEMPLATE, Cases, WARNING_TEMPLATE, history, rfc3339},
    domain::CaseError,
    storage::{
        CaseRecord,
        cases::{CaseChange, ClockKind},
    },
};

/// What one pass fired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fired {
    pub warnings: i32,
    pub breaches: i32,
    pub more_due: bool,
    pub next_due: Option<i64>,
}

/// One warning or breach of one clock.
struct Event {
    kind: ClockKind,
    deadline: Option<i64>,
    name: &'static str,
    template: &'static str,
}

/// Fires due SLA events.
#[derive(Debug, Clone)]
pub struct SlaEvents {
    pub cases: Cases,
}

/// The worker's lock key within case's schema.
pub const WORKER_LOCK_KEY: i32 = 1;

/// How often the worker looks (wall-clock time).
const TICK: std::time::Duration = std::time::Duration::from_millis(500);

impl SlaEvents {
    /// Fires every event due at or before `now`, up to `max_events`.
    pub async fn process(&self, now: i64, max_events: i64) -> Result<Fired, CaseError> {
        let mut fired = Fired::default();
        let due = self.cases.store.cases_with_due_events(now, max_events + 1).await?;
        for mut case in due {
            if i64::from(fired.warnings + fired.breaches) >= max_events {
                fired.more_due = true;
                break;
            }
            let recipients = self.recipients(&case).await?;
            let mut change = CaseChange::default();
            for kind in [ClockKind::Response, ClockKind::Resolution] {
                let mut clock = case.clock(kind);
                if clock.warning_due.is_some_and(|at| at <= now) {
                    let event =
                        Event { kind, deadline: clock.deadline, name: "sla_warning", template: WARNING_TEMPLATE };
                    self.record(&case, &event, &recipients, now, &mut change);
                    clock.warning_fired();
                    fired.warnings += 1;
                }
                if clock.breach_due.is_some_and(|at| at <= now) {
                    let event =
                        Event { kind, deadline: clock.deadline, name: "sla_breached", template: BREACH_TEMPLATE };
                    self.record(&case, &event, &recipients, now, &mut change);
                    clock.breach_fired();
                    fired.breaches += 1;
                }
                case.set_clock(kind, &clock);
            }
            case.version += 1;
            // A concurrent pass (or a change of the case) got there first: nothing fires twice.
            if !self.cases.store.save_case(&case, change).await? {
                continue;
            }
        }
        fired.next_due = self.cases.store.next_due_event(now).await?;
        Ok(fired)
    }

    /// Who hears of a case's SLA events: its author, its assignee and the members of its
    /// owner group (and of the groups below it), each once.
    async fn recipients(&self, case: &CaseRecord) -> Result<Vec<String>, CaseError> {
        let mut recipients = vec![case.author_user_id.clone(), case.assignee_user_id.clone()];
        if !case.owner_group_id.is_empty() {
            recipients.extend(self.cases.directory.group_members(&case.owner_group_id).await?);
        }
        let mut seen = HashSet::new();
        recipients.retain(|user_id| !user_id.is_empty() && seen.insert(user_id.clone()));
        Ok(recipients)
    }

    /// Records one event in the history and emails its recipients.
    fn record(&self, case: &CaseRecord, event: &Event, recipients: &[String], now: i64, change: &mut CaseChange) {
        let mut entry = history(case, now, "", event.name);
        entry.sla_clock = event.kind.as_str().into();
        change.history.push(entry);
        let values = vec![
            ("DeadlineKind".to_owned(), event.kind.as_str().to_owned()),
            ("Deadline".to_owned(), rfc3339(event.deadline)),
        ];
        for recipient in recipients {
            change.mails.push(self.cases.mail(case, event.template, recipient, values.clone()));
        }
    }

    /// Runs passes until `shutdown`, while this replica holds `exclusive`'s turn.
    pub async fn run(self, clock: Clock, shutdown: Shutdown, exclusive: Exclusive) {
        while let Some(mut turn) = exclusive.wait_turn(&shutdown).await {
            tracing::info!("SLA worker active in this replica");
            while turn.is_held().await {
                if let Err(error) = self.process(clock.now(), 1000).await {
                    tracing::warn!(%error, "SLA events could not be processed; trying again");
                }
                tokio::select! {
                    _ = shutdown.stopped() => {
                        turn.end().await;
                        return;
                    }
                    _ = tokio::time::sleep(TICK) => {}
                }
            }
            tracing::warn!("the SLA worker's lock was lost with its connection; waiting for a turn again");
        }
    }
}
