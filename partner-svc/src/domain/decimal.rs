//! Decimal values of the partner program (counts, amounts, percentages) as whole
//! hundredths, so sums and comparisons are exact and the same on every backend.

use std::fmt;

/// A non-negative decimal with at most two fractional digits, held in hundredths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(i64);

/// The largest number of integer digits accepted (keeps hundredths within `i64`).
pub const MAX_INTEGER_DIGITS: usize = 16;

impl Decimal {
    pub const ZERO: Decimal = Decimal(0);

    /// From stored hundredths.
    pub fn from_hundredths(hundredths: i64) -> Self {
        Self(hundredths)
    }

    /// A whole number (a count).
    pub fn from_count(count: i64) -> Self {
        Self(count.saturating_mul(100))
    }

    pub fn hundredths(self) -> i64 {
        self.0
    }

    pub fn saturating_add(self, other: Decimal) -> Decimal {
        Decimal(self.0.saturating_add(other.0))
    }

    /// Parses "100000", "2500.5" or "2500.50": plain digits, an optional point and at
    /// most two fractional digits; no sign, exponent or separators.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
            return Err(format!("'{text}' is not a plain non-negative decimal such as 100000 or 2500.50"));
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > MAX_INTEGER_DIGITS {
            return Err(format!("must have at most {MAX_INTEGER_DIGITS} integer digits"));
        }
        if fraction.len() > 2 {
            return Err("must have at most 2 fractional digits".into());
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| "is too large".to_owned())? };
        let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
        Ok(Self(whole * 100 + fraction))
    }
}

impl fmt::Display for Decimal {
    /// "100000" for whole values, "2500.5" / "2500.05" otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 100, self.0 % 100);
        match fraction {
            0 => write!(f, "{whole}"),
            n if n % 10 == 0 => write!(f, "{whole}.{}", n / 10),
            n => write!(f, "{whole}.{n:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_plain_decimals() {
        assert_eq!(Decimal::parse("100000").unwrap(), Decimal::from_count(100_000));
        assert_eq!(Decimal::parse("2500.50").unwrap().hundredths(), 250_050);
        assert_eq!(Decimal::parse("2500.5").unwrap().to_string(), "2500.5");
        assert_eq!(Decimal::parse("0.05").unwrap().to_string(), "0.05");
        assert_eq!(Decimal::parse("0010").unwrap().to_string(), "10");
        for bad in ["", "-1", "1e5", "1,000", "1.", ".5", "1.234", "12345678901234567"] {
            assert!(Decimal::parse(bad).is_err(), "{bad} must be refused");
        }
        assert!(Decimal::parse("9999999999999999.99").is_ok());
    }
}
