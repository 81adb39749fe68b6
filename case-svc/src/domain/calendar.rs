//! Working-time arithmetic on a business calendar: weekly hours with several periods a
//! day, holidays that replace a date's hours, and an IANA time zone whose daylight-saving
//! rules decide which instants a local period covers.
//!
//! A local period of a date covers exactly the instants whose local time (by the zone's
//! offset at that instant) lies inside it: a local time that does not exist (spring
//! forward) covers nothing, one that exists twice covers both occurrences. Instants are
//! milliseconds since the Unix epoch.

use std::collections::HashMap;

use jiff::{Timestamp, tz::TimeZone};

/// Milliseconds in a day and in a minute.
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
/// How far ahead a calculation looks: three years of days (and a leap day).
pub const HORIZON_DAYS: i64 = 3 * 365 + 1;
/// The widest UTC offset any zone has had, with room to spare, in milliseconds.
const MAX_OFFSET_MS: i64 = 26 * 3_600_000;

/// One span of working time in a local day, in minutes since local midnight: [start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start_minute: u16,
    pub end_minute: u16,
}

/// Why a calendar definition is refused; `field` names the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct CalendarDefinitionError {
    pub field: String,
    pub problem: String,
}

/// A deadline that lies beyond the horizon of [`HORIZON_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the deadline lies more than three years after the start")]
pub struct HorizonExceeded;

/// A validated calendar, ready for arithmetic.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    zone: TimeZone,
    /// Periods per weekday, Monday first.
    weekly: [Vec<Period>; 7],
    /// Periods of holidays by local day number (days since 1970-01-01).
    holidays: HashMap<i64, Vec<Period>>,
}

/// Checks one day's periods: each in range, ordered, not overlapping, at most 10.
pub fn check_periods(field: &str, periods: &[(i32, i32)]) -> Result<Vec<Period>, CalendarDefinitionError> {
    let error = |problem: String| CalendarDefinitionError { field: field.to_owned(), problem };
    if periods.len() > 10 {
        return Err(error("at most 10 periods a day".into()));
    }
    let mut previous_end = 0;
    let mut checked = Vec::with_capacity(periods.len());
    for (index, &(start, end)) in periods.iter().enumerate() {
        if !(0..=1439).contains(&start) || !(1..=1440).contains(&end) || end <= start {
            return Err(error(format!(
                "period {index} must have 0 <= start_minute < end_minute <= 1440, got {start}-{end}"
            )));
        }
        if index > 0 && start < previous_end {
            return Err(error(format!("period {index} overlaps or precedes the one before; list periods in order")));
        }
        previous_end = end;
        checked.push(Period { start_minute: start as u16, end_minute: end as u16 });
    }
    Ok(checked)
}

/// The local day number (days since 1970-01-01) of a "YYYY-MM-DD" date.
pub fn parse_date(text: &str) -> Option<i64> {
    let date: jiff::civil::Date = text.parse().ok()?;
    if text.len() != 10 {
        return None;
    }
    let epoch = jiff::civil::Date::new(1970, 1, 1).ok()?;
    Some(date.duration_since(epoch).as_secs() / 86_400)
}

/// The time zone of an IANA name.
pub fn parse_zone(name: &str) -> Option<TimeZone> {
    if name.is_empty() {
        return None;
    }
    TimeZone::get(name).ok()
}

impl WorkingCalendar {
    /// A calendar from checked parts. `weekly` is Monday first; at least one period in the
    /// week is required so that every deadline is reachable.
    pub fn new(
        zone: TimeZone,
        weekly: [Vec<Period>; 7],
        holidays: HashMap<i64, Vec<Period>>,
    ) -> Result<Self, CalendarDefinitionError> {
        if weekly.iter().all(Vec::is_empty) {
            return Err(CalendarDefinitionError {
                field: "weekly_hours".into(),
                problem: "the week needs at least one working period".into(),
            });
        }
        Ok(Self { zone, weekly, holidays })
    }

    /// Around the clock in UTC: for cases without a calendar.
    pub fn around_the_clock() -> Self {
        let all_day = || vec![Period { start_minute: 0, end_minute: 1440 }];
        Self { zone: TimeZone::UTC, weekly: std::array::from_fn(|_| all_day()), holidays: HashMap::new() }
    }

    /// The calendar's zone.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    fn offset_ms(&self, instant: i64) -> i64 {
        let timestamp = Timestamp::from_millisecond(instant).unwrap_or(Timestamp::UNIX_EPOCH);
        i64::from(self.zone.to_offset(timestamp).seconds()) * 1000
    }

    /// The local day number of an instant.
    pub fn local_day(&self, instant: i64) -> i64 {
        (instant + self.offset_ms(instant)).div_euclid(DAY_MS)
    }

    fn periods_of(&self, day: i64) -> &[Period] {
        if let Some(periods) = self.holidays.get(&day) {
            return periods;
        }
        // 1970-01-01 was a Thursday: index 3 with Monday first.
        &self.weekly[(day + 3).rem_euclid(7) as usize]
    }

    /// The instant intervals [from, to) covered by the working periods of local `day`,
    /// in ascending order. Handles offset changes inside the day exactly.
    fn intervals_of(&self, day: i64, out: &mut Vec<(i64, i64)>) {
        out.clear();
        let periods = self.periods_of(day);
        if periods.is_empty() {
            return;
        }
        let day_start_local = day * DAY_MS;
        // Segments of constant offset over every instant that can have local date `day`.
        let window_start = day_start_local - MAX_OFFSET_MS;
        let window_end = day_start_local + DAY_MS + MAX_OFFSET_MS;
        let mut segment_start = window_start;
        let mut offset = self.offset_ms(window_start);
        let start_timestamp = Timestamp::from_millisecond(window_start).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut transitions = self.zone.following(start_timestamp);
        loop {
            let (segment_end, next_offset) = match transitions.next() {
                Some(t) if t.timestamp().as_millisecond() < window_end => {
                    (t.timestamp().as_millisecond(), i64::from(t.offset().seconds()) * 1000)
                }
                _ => (window_end, offset),
            };
            for period in periods {
                let local_from = day_start_local + i64::from(period.start_minute) * MINUTE_MS;
                let local_to = day_start_local + i64::from(period.end_minute) * MINUTE_MS;
                let from = (local_from - offset).max(segment_start);
                let to = (local_to - offset).min(segment_end);
                if from < to {
                    out.push((from, to));
                }
            }
            if segment_end >= window_end {
                break;
            }
            segment_start = segment_end;
            offset = next_offset;
        }
        out.sort_unstable();
    }

    /// The instant `working_ms` of working time after `start`. Counting starts at `start`,
    /// or at the next working period when `start` is outside working time; a deadline on the
    /// end of a period stays there; zero gives `start`.
    pub fn add_working_time(&self, start: i64, working_ms: i64) -> Result<i64, HorizonExceeded> {
        if working_ms <= 0 {
            return Ok(start);
        }
        let mut remaining = working_ms;
        let first_day = self.local_day(start) - 1;
        let mut intervals = Vec::with_capacity(8);
        for day in first_day..=first_day + HORIZON_DAYS {
            self.intervals_of(day, &mut intervals);
            for &(from, to) in &intervals {
                if to <= start {
                    continue;
                }
                let from = from.max(start);
                let available = to - from;
                if remaining <= available {
                    return Ok(from + remaining);
                }
                remaining -= available;
            }
        }
        Err(HorizonExceeded)
    }

    /// The working time within [start, end), in milliseconds (0 when end <= start).
    pub fn working_time_between(&self, start: i64, end: i64) -> i64 {
        if end <= start {
            return 0;
        }
        let mut total = 0;
        let mut intervals = Vec::with_capacity(8);
        for day in self.local_day(start) - 1..=self.local_day(end) + 1 {
            self.intervals_of(day, &mut intervals);
            for &(from, to) in &intervals {
                let overlap = to.min(end) - from.max(start);
                if overlap > 0 {
                    total += overlap;
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;

    fn nine_to_six(zone: &str, holidays: &[&str]) -> WorkingCalendar {
        let day = || vec![Period { start_minute: 540, end_minute: 1080 }];
        let weekly = [day(), day(), day(), day(), day(), vec![], vec![]];
        let holidays = holidays.iter().map(|d| (parse_date(d).unwrap(), vec![])).collect();
        WorkingCalendar::new(parse_zone(zone).unwrap(), weekly, holidays).unwrap()
    }

    fn at(text: &str) -> i64 {
        let zoned: jiff::ZonedDateTime = text.parse().unwrap();
        zoned.timestamp().as_millisecond()
    }

    #[test]
    fn friday_afternoon_plus_four_hours_is_monday_eleven() {
        let calendar = nine_to_six("UTC", &[]);
        let deadline = calendar.add_working_time(at("2026-11-20T16:00[UTC]"), 4 * HOUR).unwrap();
        assert_eq!(deadline, at("2026-11-23T11:00[UTC]"));
    }

    #[test]
    fn holidays_are_skipped() {
        let calendar = nine_to_six("Europe/Berlin", &["2026-11-23"]);
        let deadline = calendar.add_working_time(at("2026-11-20T16:00[Europe/Berlin]"), 4 * HOUR).unwrap();
        assert_eq!(deadline, at("2026-11-24T11:00[Europe/Berlin]"));
    }

    #[test]
    fn a_deadline_on_the_end_of_a_period_stays_there_and_outside_hours_starts_next_period() {
        let calendar = nine_to_six("UTC", &[]);
        assert_eq!(calendar.add_working_time(at("2026-11-23T09:00[UTC]"), 9 * HOUR), Ok(at("2026-11-23T18:00[UTC]")));
        assert_eq!(calendar.add_working_time(at("2026-11-23T07:00[UTC]"), HOUR), Ok(at("2026-11-23T10:00[UTC]")));
        assert_eq!(calendar.add_working_time(at("2026-11-23T07:00[UTC]"), 0), Ok(at("2026-11-23T07:00[UTC]")));
    }

    #[test]
    fn several_periods_a_day() {
        let day =
            || vec![Period { start_minute: 540, end_minute: 780 }, Period { start_minute: 840, end_minute: 1080 }];
        let weekly = [day(), day(), day(), day(), day(), vec![], vec![]];
        let calendar = WorkingCalendar::new(TimeZone::UTC, weekly, HashMap::new()).unwrap();
        // 09:00 + 5 h: 4 h until 13:00, lunch, then 1 h from 14:00.
        assert_eq!(calendar.add_working_time(at("2026-11-23T09:00[UTC]"), 5 * HOUR), Ok(at("2026-11-23T15:00[UTC]")));
        assert_eq!(calendar.working_time_between(at("2026-11-23T12:00[UTC]"), at("2026-11-23T15:00[UTC]")), 2 * HOUR);
    }

    #[test]
    fn daylight_saving_changes_shift_local_hours_not_working_time() {
        // New York springs forward on Sunday 2026-03-08; a Friday 16:00 start with 4 h
        // still lands on Monday 11:00 local, which is one hour earlier in UTC than a week before.
        let calendar = nine_to_six("America/New_York", &[]);
        let deadline = calendar.add_working_time(at("2026-03-06T16:00[America/New_York]"), 4 * HOUR).unwrap();
        assert_eq!(deadline, at("2026-03-09T11:00[America/New_York]"));
        assert_eq!(deadline - at("2026-03-06T16:00[America/New_York]"), 3 * 24 * HOUR - 5 * HOUR - HOUR);
        // An around-the-clock calendar: the spring-forward night has 23 hours.
        let day = || vec![Period { start_minute: 0, end_minute: 1440 }];
        let calendar = WorkingCalendar::new(
            parse_zone("America/New_York").unwrap(),
            std::array::from_fn(|_| day()),
            HashMap::new(),
        )
        .unwrap();
        let sunday = calendar
            .working_time_between(at("2026-03-08T00:00[America/New_York]"), at("2026-03-09T00:00[America/New_York]"));
        assert_eq!(sunday, 23 * HOUR);
        let fall_back = calendar
            .working_time_between(at("2026-11-01T00:00[America/New_York]"), at("2026-11-02T00:00[America/New_York]"));
        assert_eq!(fall_back, 25 * HOUR);
    }

    #[test]
    fn definitions_are_checked() {
        assert!(check_periods("p", &[(540, 600), (590, 700)]).is_err());
        assert!(check_periods("p", &[(600, 540)]).is_err());
        assert!(check_periods("p", &[(0, 1441)]).is_err());
        assert!(check_periods("p", &[(0, 1440)]).is_ok());
        assert!(WorkingCalendar::new(TimeZone::UTC, std::array::from_fn(|_| vec![]), HashMap::new()).is_err());
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2026-13-01"), None);
        assert!(parse_zone("Mars/Olympus").is_none());
    }

    #[test]
    fn a_calendar_without_working_days_in_reach_exceeds_the_horizon() {
        let day = || vec![Period { start_minute: 540, end_minute: 600 }];
        let weekly = [day(), vec![], vec![], vec![], vec![], vec![], vec![]];
        let calendar = WorkingCalendar::new(TimeZone::UTC, weekly, HashMap::new()).unwrap();
        assert_eq!(calendar.add_working_time(0, 1000 * HOUR), Err(HorizonExceeded));
    }

    fn zones() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("UTC"), Just("America/New_York"), Just("Europe/Berlin"), Just("Australia/Lord_Howe")]
    }

    proptest! {
        #[test]
        fn adding_then_measuring_round_trips(
            zone in zones(),
            start in 1_700_000_000_000i64..1_900_000_000_000i64,
            minutes in 0i64..20_000,
            split in 0u16..1440,
            holiday_offset in 0i64..30,
        ) {
            let split = split.clamp(1, 1439);
            let weekly = [
                vec![Period { start_minute: 0, end_minute: split }, Period { start_minute: split.max(60), end_minute: 1440 }.clamp_start(split)],
                vec![Period { start_minute: 90, end_minute: 150 }, Period { start_minute: 480, end_minute: 1020 }],
                vec![Period { start_minute: 480, end_minute: 1020 }],
                vec![],
                vec![Period { start_minute: 0, end_minute: 1440 }],
                vec![Period { start_minute: 60, end_minute: 180 }],
                vec![],
            ];
            let holiday = start.div_euclid(DAY_MS) + holiday_offset;
            let holidays = HashMap::from([(holiday, vec![]), (holiday + 1, vec![Period { start_minute: 120, end_minute: 200 }])]);
            let calendar = WorkingCalendar::new(parse_zone(zone).unwrap(), weekly, holidays).unwrap();
            let working = minutes * MINUTE_MS + 1234;
            let deadline = calendar.add_working_time(start, working).unwrap();
            prop_assert!(deadline >= start);
            prop_assert_eq!(calendar.working_time_between(start, deadline), working);
        }
    }

    impl Period {
        fn clamp_start(self, after: u16) -> Period {
            Period { start_minute: self.start_minute.max(after), end_minute: self.end_minute }
        }
    }
}
