//! Calendar dates of partnerships ("YYYY-MM-DD", UTC) and the instants they span.

use jiff::{ToSpan, civil::Date, tz::TimeZone};
use service_kit::clock::Millis;

/// Parses "YYYY-MM-DD".
pub fn parse(text: &str) -> Result<Date, String> {
    if text.len() != 10 {
        return Err(format!("'{text}' is not a date written YYYY-MM-DD"));
    }
    text.parse::<Date>().map_err(|_| format!("'{text}' is not a date written YYYY-MM-DD"))
}

/// The UTC date of an instant.
pub fn date_of(instant: Millis) -> Date {
    jiff::Timestamp::from_millisecond(instant)
        .map(|t| t.to_zoned_datetime(TimeZone::UTC).date())
        .unwrap_or_else(|_| Date::constant(1970, 1, 1))
}

/// The first instant of a date (UTC midnight).
pub fn start_of(date: Date) -> Millis {
    date.to_zoned_datetime(TimeZone::UTC).map(|z| z.timestamp().as_millisecond()).unwrap_or_default()
}

/// The first instant after a date (the next UTC midnight).
pub fn end_of(date: Date) -> Millis {
    date.checked_add(1.day()).map(start_of).unwrap_or(Millis::MAX)
}

/// The default due date: one year after the start (29 February goes to 28 February).
pub fn one_year_after(start: Date) -> Date {
    start.checked_add(1.year()).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_their_instants() {
        let date = parse("2026-03-01").unwrap();
        assert_eq!(one_year_after(date).to_string(), "2027-03-01");
        assert_eq!(one_year_after(parse("2028-02-29").unwrap()).to_string(), "2029-02-28");
        assert_eq!(end_of(date) - start_of(date), 86_400_000);
        assert_eq!(date_of(start_of(date)), date);
        assert_eq!(date_of(end_of(date) - 1), date);
        assert!(parse("2026-3-1").is_err() && parse("2026-02-30").is_err() && parse("").is_err());
    }
}
