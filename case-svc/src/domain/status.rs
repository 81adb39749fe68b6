//! The case status machine: every move a case can make, who may make it, and what each
//! move sets. This is the one place that decides whether a case can be canceled, closed,
//! reopened or moved by staff.

use super::CaseError;

/// Where a case is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    New,
    InProgress,
    WaitingForResponse,
    Resolved,
    Closed,
    Canceled,
    Reopened,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 7] = [
        Self::New,
        Self::InProgress,
        Self::WaitingForResponse,
        Self::Resolved,
        Self::Closed,
        Self::Canceled,
        Self::Reopened,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in_progress",
            Self::WaitingForResponse => "waiting_for_response",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Canceled => "canceled",
            Self::Reopened => "reopened",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Closed and Canceled are final.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Canceled)
    }

    /// Refuses a regular message (or a file of the case or of such a message) on a
    /// Closed or Canceled case; complaints are accepted on any case (seed 003).
    pub fn check_postable(self, is_complaint: bool) -> Result<(), CaseError> {
        if self.is_final() && !is_complaint { Err(CaseError::Closed(self)) } else { Ok(()) }
    }

    /// Whether the resolution clock counts in this status.
    pub fn resolution_clock(self) -> ClockEffect {
        match self {
            Self::New | Self::InProgress | Self::Reopened => ClockEffect::Run,
            Self::WaitingForResponse | Self::Resolved => ClockEffect::Pause,
            Self::Closed | Self::Canceled => ClockEffect::Stop,
        }
    }

    /// Feedback may be given once a solution was provided or the case ended.
    pub fn accepts_feedback(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed | Self::Canceled)
    }
}

/// What a status does to the resolution clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEffect {
    Run,
    Pause,
    Stop,
}

/// "Reason for closing".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureReason {
    CanceledByUser,
    ClosedByUser,
    ClosedByStaff,
    CanceledByStaff,
    Duplicate,
    NoCustomerResponse,
}

impl ClosureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CanceledByUser => "canceled_by_user",
            Self::ClosedByUser => "closed_by_user",
            Self::ClosedByStaff => "closed_by_staff",
            Self::CanceledByStaff => "canceled_by_staff",
            Self::Duplicate => "duplicate",
            Self::NoCustomerResponse => "no_customer_response",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::CanceledByUser,
            Self::ClosedByUser,
            Self::ClosedByStaff,
            Self::CanceledByStaff,
            Self::Duplicate,
            Self::NoCustomerResponse,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }

    /// Staff may give these when closing or canceling.
    fn is_staff_reason(self) -> bool {
        !matches!(self, Self::CanceledByUser | Self::ClosedByUser)
    }
}

/// The portal actions of seed 003 ("Working with the portal Cases").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalAction {
    Cancel,
    Close,
    Reopen,
}

/// Who moves the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// A portal user's action.
    Portal(PortalAction),
    /// A staff move to a target status, with a closure reason for Closed and Canceled.
    Staff { target: CaseStatus, reason: Option<ClosureReason> },
    /// The system: a portal user's message on a case that waited for them.
    CustomerReplied,
}

/// A validated move and everything it sets on the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub closure_reason: Option<ClosureReason>,
    /// First resolution time: set to now when not yet set.
    pub set_first_resolution: bool,
    /// Actual resolution time: `Some(true)` sets it to now, `Some(false)` clears it.
    pub actual_resolution: Option<bool>,
    /// Closed-on is set to now.
    pub set_closed_on: bool,
    /// A staff move out of New is the first response.
    pub is_first_response: bool,
    /// The contact is asked for feedback.
    pub requests_feedback: bool,
}

fn staff_may_move(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (New, InProgress | WaitingForResponse | Resolved | Canceled)
            | (InProgress, WaitingForResponse | Resolved | Canceled)
            | (WaitingForResponse, InProgress | Resolved | Canceled)
            | (Reopened, InProgress | WaitingForResponse | Resolved | Canceled)
            | (Resolved, Closed | Reopened)
    )
}

/// Validates a move from `from` by `mover` and returns its effects.
pub fn transition(from: CaseStatus, mover: Mover) -> Result<Transition, CaseError> {
    use CaseStatus::*;
    let (to, closure_reason) = match mover {
        Mover::Portal(PortalAction::Cancel) => {
            if !matches!(from, New | InProgress | WaitingForResponse | Reopened) {
                return Err(CaseError::NotCancelable(from));
            }
            (Canceled, Some(ClosureReason::CanceledByUser))
        }
        Mover::Portal(PortalAction::Close) => {
            if from != Resolved {
                return Err(CaseError::NotClosable(from));
            }
            (Closed, Some(ClosureReason::ClosedByUser))
        }
        Mover::Portal(PortalAction::Reopen) => {
            if !matches!(from, Resolved | WaitingForResponse) {
                return Err(CaseError::NotReopenable(from));
            }
            (Reopened, None)
        }
        Mover::Staff { target, reason } => {
            if !staff_may_move(from, target) {
                return Err(CaseError::TransitionNotAllowed { from, to: target });
            }
            match (target.is_final(), reason) {
                (true, Some(reason)) if reason.is_staff_reason() => {}
                (false, None) => {}
                _ => return Err(CaseError::BadClosureReason(target)),
            }
            (target, reason)
        }
        Mover::CustomerReplied => {
            if from != WaitingForResponse {
                return Err(CaseError::TransitionNotAllowed { from, to: InProgress });
            }
            (InProgress, None)
        }
    };
    let ends_work = matches!(to, Resolved | Canceled);
    Ok(Transition {
        from,
        to,
        closure_reason,
        set_first_resolution: ends_work,
        actual_resolution: if ends_work {
            Some(true)
        } else if to == Reopened {
            Some(false)
        } else {
            None
        },
        set_closed_on: to.is_final(),
        is_first_response: from == New && matches!(mover, Mover::Staff { .. }),
        // Seed 003: the author is asked once the case reaches Resolved, Closed or Canceled,
        // by whoever moved it; Resolved -> Closed asks no second time.
        requests_feedback: to.accepts_feedback() && !from.accepts_feedback(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn cancel_sets_the_reason_and_the_three_times() {
        for from in [New, InProgress, WaitingForResponse, Reopened] {
            let t = transition(from, Mover::Portal(PortalAction::Cancel)).unwrap();
            assert_eq!(t.to, Canceled);
            assert_eq!(t.closure_reason, Some(ClosureReason::CanceledByUser));
            assert!(t.set_first_resolution && t.actual_resolution == Some(true) && t.set_closed_on);
        }
        for from in [Resolved, Closed, Canceled] {
            assert_eq!(transition(from, Mover::Portal(PortalAction::Cancel)), Err(CaseError::NotCancelable(from)));
        }
    }

    #[test]
    fn close_only_a_resolved_case() {
        let t = transition(Resolved, Mover::Portal(PortalAction::Close)).unwrap();
        assert_eq!((t.to, t.closure_reason, t.set_closed_on), (Closed, Some(ClosureReason::ClosedByUser), true));
        assert!(!t.set_first_resolution && t.actual_resolution.is_none());
        for from in [New, InProgress, WaitingForResponse, Closed, Canceled, Reopened] {
            assert_eq!(transition(from, Mover::Portal(PortalAction::Close)), Err(CaseError::NotClosable(from)));
        }
    }

    #[test]
    fn reopen_only_from_resolved_or_waiting() {
        for from in [Resolved, WaitingForResponse] {
            let t = transition(from, Mover::Portal(PortalAction::Reopen)).unwrap();
            assert_eq!((t.to, t.actual_resolution), (Reopened, Some(false)));
        }
        for from in [New, InProgress, Closed, Canceled, Reopened] {
            assert_eq!(transition(from, Mover::Portal(PortalAction::Reopen)), Err(CaseError::NotReopenable(from)));
        }
    }

    #[test]
    fn feedback_is_requested_once_the_case_is_done() {
        let staff = |target: CaseStatus| Mover::Staff {
            target,
            reason: target.is_final().then_some(ClosureReason::ClosedByStaff),
        };
        assert!(transition(InProgress, staff(Resolved)).unwrap().requests_feedback);
        assert!(transition(New, staff(Canceled)).unwrap().requests_feedback);
        assert!(transition(New, Mover::Portal(PortalAction::Cancel)).unwrap().requests_feedback);
        assert!(!transition(Resolved, staff(Closed)).unwrap().requests_feedback);
        assert!(!transition(Resolved, Mover::Portal(PortalAction::Close)).unwrap().requests_feedback);
        assert!(!transition(New, staff(InProgress)).unwrap().requests_feedback);
    }

    #[test]
    fn staff_moves_follow_the_table_and_final_statuses_need_a_staff_reason() {
        let allowed = [
            (New, InProgress),
            (New, WaitingForResponse),
            (New, Resolved),
            (New, Canceled),
            (InProgress, WaitingForResponse),
            (InProgress, Resolved),
            (InProgress, Canceled),
            (WaitingForResponse, InProgress),
            (WaitingForResponse, Resolved),
            (WaitingForResponse, Canceled),
            (Reopened, InProgress),
            (Reopened, WaitingForResponse),
            (Reopened, Resolved),
            (Reopened, Canceled),
            (Resolved, Closed),
            (Resolved, Reopened),
        ];
        for from in CaseStatus::ALL {
            for to in CaseStatus::ALL {
                let reason = to.is_final().then_some(ClosureReason::ClosedByStaff);
                let result = transition(from, Mover::Staff { target: to, reason });
                assert_eq!(result.is_ok(), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
        assert_eq!(
            transition(Resolved, Mover::Staff { target: Closed, reason: None }),
            Err(CaseError::BadClosureReason(Closed))
        );
        assert_eq!(
            transition(Resolved, Mover::Staff { target: Closed, reason: Some(ClosureReason::ClosedByUser) }),
            Err(CaseError::BadClosureReason(Closed))
        );
        let first = transition(New, Mover::Staff { target: InProgress, reason: None }).unwrap();
        assert!(first.is_first_response);
    }

    #[test]
    fn feedback_only_after_a_solution_or_an_end() {
        let accepting: Vec<_> = CaseStatus::ALL.into_iter().filter(|s| s.accepts_feedback()).collect();
        assert_eq!(accepting, [Resolved, Closed, Canceled]);
    }
}
