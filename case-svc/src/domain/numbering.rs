//! Case numbers from the configured template: a prefix and a zero-padded sequence
//! number of a minimum width ("SR" and 5 make the 42nd case "SR00042").

/// The number of the `sequence`-th case.
pub fn case_number(prefix: &str, width: usize, sequence: i64) -> String {
    format!("{prefix}{sequence:0width$}")
}

/// Checks a prefix: 0 to 10 characters of A-Z, 0-9 and "-".
pub fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 10 && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_padded_and_grow_past_the_width() {
        assert_eq!(case_number("SR", 5, 42), "SR00042");
        assert_eq!(case_number("SR", 2, 1234), "SR1234");
        assert!(valid_prefix("CASE-1") && !valid_prefix("sr") && !valid_prefix("ABCDEFGHIJK"));
    }
}
