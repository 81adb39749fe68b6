//! SLA events: fires the warnings and breaches that are due (by the service's clock,
//! which tests move by hand), each once, with its history entry and its emails in the
//! case's transaction. A background worker calls it about once a second.

use service_kit::{Shutdown, clock::Clock};

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

/// Fires due SLA events.
#[derive(Debug, Clone)]
pub struct SlaEvents {
    pub cases: Cases,
}

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
            let mut change = CaseChange::default();
            for kind in [ClockKind::Response, ClockKind::Resolution] {
                let mut clock = case.clock(kind);
                if clock.warning_due.is_some_and(|at| at <= now) {
                    self.event(&case, kind, clock.deadline, "sla_warning", WARNING_TEMPLATE, now, &mut change);
                    clock.warning_fired();
                    fired.warnings += 1;
                }
                if clock.breach_due.is_some_and(|at| at <= now) {
                    self.event(&case, kind, clock.deadline, "sla_breached", BREACH_TEMPLATE, now, &mut change);
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

    /// Records one event in the history and emails the author and the assignee.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        case: &CaseRecord,
        kind: ClockKind,
        deadline: Option<i64>,
        name: &str,
        template: &str,
        now: i64,
        change: &mut CaseChange,
    ) {
        let mut entry = history(case, now, "", name);
        entry.sla_clock = kind.as_str().into();
        change.history.push(entry);
        let values =
            vec![("DeadlineKind".to_owned(), kind.as_str().to_owned()), ("Deadline".to_owned(), rfc3339(deadline))];
        let mut recipients = vec![case.author_user_id.clone()];
        if !case.assignee_user_id.is_empty() && case.assignee_user_id != case.author_user_id {
            recipients.push(case.assignee_user_id.clone());
        }
        for recipient in recipients {
            change.mails.push(self.cases.mail(case, template, &recipient, values.clone()));
        }
    }

    /// Runs passes until `shutdown`.
    pub async fn run(self, clock: Clock, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            if let Err(error) = self.process(clock.now(), 1000).await {
                tracing::warn!(%error, "SLA events could not be processed; trying again");
            }
            tokio::select! {
                _ = shutdown.stopped() => break,
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    }
}
