//! SLA clocks: a target in working minutes counted in a calendar from a start instant,
//! paused and resumed as the case moves, with a warning moment (a share of the target
//! used) and a breach moment (the deadline). Deadlines are UTC instants recomputed on
//! resume; a paused or stopped clock keeps its remaining or overdue time frozen.

use super::calendar::{HorizonExceeded, WorkingCalendar};

const MINUTE_MS: i64 = 60_000;

/// Whether a clock counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    NotStarted,
    Running,
    Paused,
    Stopped,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "running" => Self::Running,
            "paused" => Self::Paused,
            "stopped" => Self::Stopped,
            _ => Self::NotStarted,
        }
    }
}

/// One SLA clock as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    pub target_minutes: i64,
    pub state: ClockState,
    /// The deadline; `None` while not started.
    pub deadline: Option<i64>,
    /// Working time left (negative: overdue) when the clock last paused or stopped.
    pub frozen_ms: i64,
    /// Overdue working time carried over a pause: a clock resumed after its deadline
    /// counts on from `deadline` = resume time with this much overdue already.
    pub carried_overdue_ms: i64,
    pub breached: bool,
    /// When the warning event is due; `None` once fired or while not running.
    pub warning_due: Option<i64>,
    /// When the breach event is due; `None` once fired or while not running.
    pub breach_due: Option<i64>,
}

/// Remaining or overdue working time of a clock, as of a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLeft {
    Remaining(i64),
    Overdue(i64),
}

impl SlaClock {
    /// A clock that has no deadline yet (no service, or the agreement still to choose).
    pub fn not_started(target_minutes: i64) -> Self {
        Self {
            target_minutes,
            state: ClockState::NotStarted,
            deadline: None,
            frozen_ms: target_minutes * MINUTE_MS,
            carried_overdue_ms: 0,
            breached: false,
            warning_due: None,
            breach_due: None,
        }
    }

    /// Starts counting the whole target at `start`.
    pub fn start(
        calendar: &WorkingCalendar,
        target_minutes: i64,
        start: i64,
        warning_percent: i64,
    ) -> Result<Self, HorizonExceeded> {
        let mut clock = Self::not_started(target_minutes);
        clock.run_from(calendar, start, target_minutes * MINUTE_MS, 0, warning_percent)?;
        Ok(clock)
    }

    fn run_from(
        &mut self,
        calendar: &WorkingCalendar,
        from: i64,
        remaining_ms: i64,
        carried_overdue_ms: i64,
        warning_percent: i64,
    ) -> Result<(), HorizonExceeded> {
        let target_ms = self.target_minutes * MINUTE_MS;
        let deadline = calendar.add_working_time(from, remaining_ms.max(0))?;
        // The warning falls where `warning_percent` of the target is used, i.e. when
        // `target * (100 - percent) / 100` is left.
        let left_at_warning = target_ms * (100 - warning_percent) / 100;
        let warning = if remaining_ms > left_at_warning {
            Some(calendar.add_working_time(from, remaining_ms - left_at_warning)?)
        } else {
            None
        };
        self.state = ClockState::Running;
        self.deadline = Some(deadline);
        self.carried_overdue_ms = carried_overdue_ms;
        self.warning_due = warning;
        self.breach_due = (carried_overdue_ms == 0).then_some(deadline);
        Ok(())
    }

    /// Remaining or overdue working time as of `now`.
    pub fn time_left(&self, calendar: &WorkingCalendar, now: i64) -> Option<TimeLeft> {
        let signed = match (self.state, self.deadline) {
            (ClockState::NotStarted, _) | (_, None) => return None,
            (ClockState::Running, Some(deadline)) if now < deadline && self.carried_overdue_ms == 0 => {
                calendar.working_time_between(now, deadline)
            }
            (ClockState::Running, Some(deadline)) => {
                -(self.carried_overdue_ms + calendar.working_time_between(deadline, now))
            }
            _ => self.frozen_ms,
        };
        Some(if signed >= 0 { TimeLeft::Remaining(signed) } else { TimeLeft::Overdue(-signed) })
    }

    fn freeze(&mut self, calendar: &WorkingCalendar, now: i64, state: ClockState) {
        if self.state != ClockState::Running {
            if self.state == ClockState::NotStarted && state == ClockState::Stopped {
                self.state = state;
            }
            return;
        }
        self.frozen_ms = match self.time_left(calendar, now) {
            Some(TimeLeft::Remaining(ms)) => ms,
            Some(TimeLeft::Overdue(ms)) => -ms,
            None => self.frozen_ms,
        };
        if self.frozen_ms < 0 {
            self.breached = true;
        }
        self.state = state;
        self.warning_due = None;
        self.breach_due = None;
    }

    /// Pauses a running clock at `now`, freezing what is left.
    pub fn pause(&mut self, calendar: &WorkingCalendar, now: i64) {
        self.freeze(calendar, now, ClockState::Paused);
    }

    /// Stops a clock for good at `now`.
    pub fn stop(&mut self, calendar: &WorkingCalendar, now: i64) {
        self.freeze(calendar, now, ClockState::Stopped);
    }

    /// Resumes a paused clock at `now`: the new deadline is `now` plus the working time
    /// that was left, and its warning and breach are scheduled anew (a warning whose share
    /// was already used before the pause is not repeated). Returns the previous deadline.
    pub fn resume(
        &mut self,
        calendar: &WorkingCalendar,
        now: i64,
        warning_percent: i64,
    ) -> Result<Option<i64>, HorizonExceeded> {
        if self.state != ClockState::Paused {
            return Ok(None);
        }
        let previous = self.deadline;
        let (remaining, carried) = if self.frozen_ms >= 0 { (self.frozen_ms, 0) } else { (0, -self.frozen_ms) };
        self.run_from(calendar, now, remaining, carried, warning_percent)?;
        Ok(previous)
    }

    /// Changes the target (a new service's time) at `now`, keeping the working time
    /// already used: a running clock's deadline moves by the difference, a paused one keeps
    /// the difference for when it resumes. A stopped clock keeps its result.
    pub fn retarget(
        &mut self,
        calendar: &WorkingCalendar,
        now: i64,
        target_minutes: i64,
        warning_percent: i64,
    ) -> Result<(), HorizonExceeded> {
        let delta_ms = (target_minutes - self.target_minutes) * MINUTE_MS;
        match self.state {
            ClockState::Stopped => return Ok(()),
            ClockState::NotStarted => self.frozen_ms = target_minutes * MINUTE_MS,
            ClockState::Paused => self.frozen_ms += delta_ms,
            ClockState::Running => {
                self.pause(calendar, now);
                self.frozen_ms += delta_ms;
                self.target_minutes = target_minutes;
                self.resume(calendar, now, warning_percent)?;
                if self.breached {
                    // The breach was already reported; a new deadline does not repeat it.
                    self.breach_due = None;
                }
            }
        }
        self.target_minutes = target_minutes;
        Ok(())
    }

    /// Marks the warning event fired.
    pub fn warning_fired(&mut self) {
        self.warning_due = None;
    }

    /// Marks the breach event fired.
    pub fn breach_fired(&mut self) {
        self.breach_due = None;
        self.breached = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{Period, WorkingCalendar, parse_zone};

    const HOUR: i64 = 3_600_000;

    fn nine_to_six() -> WorkingCalendar {
        let day = || vec![Period { start_minute: 540, end_minute: 1080 }];
        let weekly = [day(), day(), day(), day(), day(), vec![], vec![]];
        WorkingCalendar::new(parse_zone("UTC").unwrap(), weekly, Default::default()).unwrap()
    }

    fn at(text: &str) -> i64 {
        let zoned: jiff::ZonedDateTime = text.parse().unwrap();
        zoned.timestamp().as_millisecond()
    }

    #[test]
    fn warning_at_three_quarters_and_breach_at_the_deadline() {
        let calendar = nine_to_six();
        let clock = SlaClock::start(&calendar, 240, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        assert_eq!(clock.deadline, Some(at("2026-11-23T13:00[UTC]")));
        assert_eq!(clock.warning_due, Some(at("2026-11-23T12:00[UTC]")));
        assert_eq!(clock.breach_due, clock.deadline);
    }

    #[test]
    fn a_pause_extends_the_deadline_by_exactly_the_paused_working_time() {
        let calendar = nine_to_six();
        let mut clock = SlaClock::start(&calendar, 8 * 60, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        assert_eq!(clock.deadline, Some(at("2026-11-23T17:00[UTC]")));
        clock.pause(&calendar, at("2026-11-23T11:00[UTC]"));
        assert_eq!(clock.time_left(&calendar, at("2026-11-30T11:00[UTC]")), Some(TimeLeft::Remaining(6 * HOUR)));
        // Paused from Monday 11:00 to Tuesday 10:00: 8 working hours.
        let previous = clock.resume(&calendar, at("2026-11-24T10:00[UTC]"), 75).unwrap();
        assert_eq!(previous, Some(at("2026-11-23T17:00[UTC]")));
        assert_eq!(clock.deadline, Some(at("2026-11-24T16:00[UTC]")));
        let paused = calendar.working_time_between(at("2026-11-23T11:00[UTC]"), at("2026-11-24T10:00[UTC]"));
        assert_eq!(calendar.working_time_between(previous.unwrap(), clock.deadline.unwrap()), paused);
    }

    #[test]
    fn overdue_is_carried_over_a_pause() {
        let calendar = nine_to_six();
        let mut clock = SlaClock::start(&calendar, 60, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        clock.pause(&calendar, at("2026-11-23T12:00[UTC]"));
        assert!(clock.breached);
        assert_eq!(clock.time_left(&calendar, at("2026-11-24T12:00[UTC]")), Some(TimeLeft::Overdue(2 * HOUR)));
        clock.resume(&calendar, at("2026-11-24T09:00[UTC]"), 75).unwrap();
        assert_eq!(clock.time_left(&calendar, at("2026-11-24T10:00[UTC]")), Some(TimeLeft::Overdue(3 * HOUR)));
        assert_eq!(clock.breach_due, None, "a breach fires once");
        assert_eq!(clock.warning_due, None);
    }

    #[test]
    fn a_new_target_keeps_the_time_used() {
        let calendar = nine_to_six();
        let mut clock = SlaClock::start(&calendar, 240, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        // One hour used; the target grows from 4 to 8 hours: 7 left, due at 17:00.
        clock.retarget(&calendar, at("2026-11-23T10:00[UTC]"), 480, 75).unwrap();
        assert_eq!((clock.target_minutes, clock.deadline), (480, Some(at("2026-11-23T17:00[UTC]"))));
        assert_eq!(clock.warning_due, Some(at("2026-11-23T15:00[UTC]")));
        // Shrunk below the time used, it is overdue at once.
        clock.retarget(&calendar, at("2026-11-23T12:00[UTC]"), 60, 75).unwrap();
        assert_eq!(clock.time_left(&calendar, at("2026-11-23T12:00[UTC]")), Some(TimeLeft::Overdue(2 * HOUR)));
        // Paused clocks keep the difference for when they resume.
        let mut paused = SlaClock::start(&calendar, 240, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        paused.pause(&calendar, at("2026-11-23T10:00[UTC]"));
        paused.retarget(&calendar, at("2026-11-23T11:00[UTC]"), 120, 75).unwrap();
        assert_eq!(paused.time_left(&calendar, at("2026-11-24T11:00[UTC]")), Some(TimeLeft::Remaining(HOUR)));
        let mut stopped = SlaClock::start(&calendar, 240, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        stopped.stop(&calendar, at("2026-11-23T10:00[UTC]"));
        stopped.retarget(&calendar, at("2026-11-23T11:00[UTC]"), 30, 75).unwrap();
        assert_eq!((stopped.target_minutes, stopped.frozen_ms), (240, 3 * HOUR), "a stopped clock keeps its result");
    }

    #[test]
    fn stopped_clocks_freeze() {
        let calendar = nine_to_six();
        let mut clock = SlaClock::start(&calendar, 60, at("2026-11-23T09:00[UTC]"), 75).unwrap();
        clock.stop(&calendar, at("2026-11-23T09:30[UTC]"));
        assert_eq!(clock.state, ClockState::Stopped);
        assert_eq!(clock.time_left(&calendar, at("2026-12-23T09:30[UTC]")), Some(TimeLeft::Remaining(HOUR / 2)));
        assert_eq!((clock.warning_due, clock.breach_due), (None, None));
    }
}
