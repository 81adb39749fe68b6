//! Opportunity rules: close states, what partner users may still change once an
//! opportunity is closed, and currency codes.

use super::PartnerError;

/// Whether an opportunity is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseState {
    Open,
    Won,
    Lost,
}

impl CloseState {
    pub fn stored(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Won => "won",
            Self::Lost => "lost",
        }
    }

    pub fn from_stored(name: &str) -> Result<Self, PartnerError> {
        Ok(match name {
            "open" => Self::Open,
            "won" => Self::Won,
            "lost" => Self::Lost,
            other => return Err(PartnerError::Corrupt(format!("unknown close state '{other}'"))),
        })
    }

    pub fn is_closed(self) -> bool {
        self != Self::Open
    }
}

/// The fields of a closed opportunity partner users may no longer change.
pub const CLOSED_FIELDS: &[&str] = &["amount", "close_state", "close_date"];

/// Whether a change of `paths` by a partner user (not staff) is allowed on an
/// opportunity in `state`, moving it to `new_state`.
pub fn check_partner_change(state: CloseState, new_state: CloseState, paths: &[String]) -> Result<(), PartnerError> {
    if state.is_closed() && paths.iter().any(|p| CLOSED_FIELDS.contains(&p.as_str())) {
        return Err(PartnerError::Refused(
            "OPPORTUNITY_CLOSED",
            "the opportunity is closed: its amount, close state and close date are changed by staff only".into(),
        ));
    }
    if state.is_closed() && new_state == CloseState::Open {
        return Err(PartnerError::Denied("NOT_ALLOWED", "only staff reopen a closed opportunity".into()));
    }
    Ok(())
}

/// A partner user may delete only open opportunities.
pub fn check_partner_delete(state: CloseState) -> Result<(), PartnerError> {
    if state.is_closed() {
        return Err(PartnerError::Refused(
            "OPPORTUNITY_CLOSED",
            "a won or lost opportunity is deleted by staff only".into(),
        ));
    }
    Ok(())
}

/// An ISO 4217 code: three upper-case letters.
pub fn check_currency(field: &str, code: &str) -> Result<(), PartnerError> {
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(PartnerError::invalid(field, format!("'{code}' is not an ISO 4217 code such as USD")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_opportunities_are_for_staff() {
        let paths = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_partner_change(CloseState::Open, CloseState::Won, &paths(&["close_state"])).is_ok());
        assert!(check_partner_change(CloseState::Won, CloseState::Won, &paths(&["name"])).is_ok());
        assert!(matches!(
            check_partner_change(CloseState::Won, CloseState::Won, &paths(&["amount"])),
            Err(PartnerError::Refused("OPPORTUNITY_CLOSED", _))
        ));
        assert!(check_partner_delete(CloseState::Lost).is_err() && check_partner_delete(CloseState::Open).is_ok());
        assert!(check_currency("c", "USD").is_ok() && check_currency("c", "usd").is_err());
    }
}
