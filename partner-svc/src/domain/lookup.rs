//! The rules shared by every partner program lookup (partner types, levels, parameter
//! categories, parameter types, level parameters): names, etags, which rows may be
//! deleted, and what a level parameter must look like.

use super::{PartnerError, decimal::Decimal};

/// Where an obligation's actual value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Not measured: benefits only.
    None,
    LeadsRegistered,
    OpportunitiesWon,
    OpportunityWonAmount,
    CertifiedExperts,
    TrainingsCompleted,
}

/// How a parameter's values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Amount,
    Percent,
    Text,
}

/// What a parameter type means to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Obligation,
    Benefit,
}

macro_rules! stored_names {
    ($type:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $type {
            /// The name stored in the database.
            pub fn stored(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }

            /// Reads a stored name.
            pub fn from_stored(name: &str) -> Result<Self, PartnerError> {
                match name {
                    $($name => Ok(Self::$variant),)*
                    other => Err(PartnerError::Corrupt(format!("unknown {} '{other}'", stringify!($type)))),
                }
            }
        }
    };
}

stored_names!(Source {
    None = "none",
    LeadsRegistered = "leads_registered",
    OpportunitiesWon = "opportunities_won",
    OpportunityWonAmount = "opportunity_won_amount",
    CertifiedExperts = "certified_experts",
    TrainingsCompleted = "trainings_completed",
});
stored_names!(Unit { Count = "count", Amount = "amount", Percent = "percent", Text = "text" });
stored_names!(Role { Obligation = "obligation", Benefit = "benefit" });

impl Source {
    /// The unit a measured source yields; `None` for the unmeasured source.
    pub fn natural_unit(self) -> Option<Unit> {
        match self {
            Source::None => None,
            Source::OpportunityWonAmount => Some(Unit::Amount),
            _ => Some(Unit::Count),
        }
    }
}

/// The longest name of a lookup row.
pub const MAX_NAME: usize = 250;
/// The longest description of a lookup row.
pub const MAX_DESCRIPTION: usize = 4000;

/// Checks a required name and returns it trimmed with its case-insensitive key.
pub fn name_and_key(field: &str, name: &str) -> Result<(String, String), PartnerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(PartnerError::invalid(field, format!("is required, 1 to {MAX_NAME} characters")));
    }
    Ok((name.to_owned(), name_key(name)))
}

/// The key names are unique by: lower case, inner runs of white space collapsed.
pub fn name_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Checks an optional description.
pub fn description(field: &str, text: &str) -> Result<String, PartnerError> {
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(PartnerError::invalid(field, format!("must be at most {MAX_DESCRIPTION} characters")));
    }
    Ok(text.to_owned())
}

/// The etag of a row at `version`.
pub fn etag(version: i64) -> String {
    version.to_string()
}

/// Whether a caller's etag allows a change of a row now at `version`: an empty etag
/// always does, any other must be the current one (a stale one gives ABORTED).
pub fn check_etag(resource: &'static str, given: &str, version: i64) -> Result<(), PartnerError> {
    if given.is_empty() || given == etag(version) { Ok(()) } else { Err(PartnerError::Stale(resource)) }
}

/// The one deletion rule of every lookup: base rows never go; rows others refer to
/// neither.
pub fn check_deletable(resource: &'static str, id: &str, base: bool, in_use: bool) -> Result<(), PartnerError> {
    if base {
        return Err(PartnerError::Refused(
            "BASE_LOOKUP_PROTECTED",
            format!(
                "{resource} '{id}' is shipped with the product and cannot be deleted; rename it or leave it unused"
            ),
        ));
    }
    if in_use {
        return Err(PartnerError::Refused(
            "LOOKUP_IN_USE",
            format!("{resource} '{id}' is still used by other rows or partnerships; remove those first"),
        ));
    }
    Ok(())
}

/// Refuses a change of a base row's rule-driving field.
pub fn check_base_unchanged(
    resource: &'static str,
    base: bool,
    field: &str,
    changed: bool,
) -> Result<(), PartnerError> {
    if base && changed {
        return Err(PartnerError::Refused(
            "BASE_LOOKUP_PROTECTED",
            format!("{field} of a base {resource} cannot change; create a custom {resource} instead"),
        ));
    }
    Ok(())
}

/// A category's source and unit must agree: measured sources have their natural unit.
pub fn check_category(source: Source, unit: Unit) -> Result<(), PartnerError> {
    match source.natural_unit() {
        Some(natural) if natural != unit => Err(PartnerError::invalid(
            "unit",
            format!("must be {} for source {}", natural.stored().to_uppercase(), source.stored().to_uppercase()),
        )),
        _ => Ok(()),
    }
}

/// The values of a level parameter as a caller states them.
#[derive(Debug, Clone)]
pub struct ParameterValues<'a> {
    pub role: Role,
    pub source: Source,
    pub unit: Unit,
    pub target_value: &'a str,
    pub points: i64,
    pub benefit_value: &'a str,
}

/// What an obligation or a benefit must carry; `prefix` names the message fields.
pub fn check_parameter(prefix: &str, v: &ParameterValues<'_>) -> Result<(), PartnerError> {
    let field = |name: &str| format!("{prefix}{name}");
    let mut problems = Vec::new();
    match v.role {
        Role::Obligation => {
            if v.source == Source::None {
                problems.push((
                    field("parameter_category_id"),
                    "an obligation needs a category with a measured source".into(),
                ));
            }
            match Decimal::parse(v.target_value) {
                Ok(target) if target > Decimal::ZERO => {}
                Ok(_) => problems.push((field("target_value"), "must be positive".into())),
                Err(e) => problems.push((field("target_value"), e)),
            }
            if v.points < 0 {
                problems.push((field("points"), "must be 0 or more".into()));
            }
            if !v.benefit_value.is_empty() {
                problems.push((field("benefit_value"), "must be empty for an obligation".into()));
            }
        }
        Role::Benefit => {
            if !v.target_value.is_empty() {
                problems.push((field("target_value"), "must be empty for a benefit".into()));
            }
            if v.points != 0 {
                problems.push((field("points"), "must be 0 for a benefit".into()));
            }
            if v.benefit_value.trim().is_empty() || v.benefit_value.chars().count() > MAX_NAME {
                problems
                    .push((field("benefit_value"), format!("is required for a benefit, 1 to {MAX_NAME} characters")));
            } else if v.unit != Unit::Text
                && let Err(e) = Decimal::parse(v.benefit_value)
            {
                problems.push((field("benefit_value"), e));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(PartnerError::Invalid(problems)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_rows_and_rows_in_use_stay() {
        assert!(check_deletable("partner type", "x", false, false).is_ok());
        let reason = |r: Result<(), PartnerError>| match r {
            Err(PartnerError::Refused(reason, _)) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(check_deletable("partner type", "x", true, false)), "BASE_LOOKUP_PROTECTED");
        assert_eq!(reason(check_deletable("partner type", "x", false, true)), "LOOKUP_IN_USE");
    }

    #[test]
    fn etags_and_names() {
        assert!(check_etag("row", "", 3).is_ok() && check_etag("row", "3", 3).is_ok());
        assert!(matches!(check_etag("row", "2", 3), Err(PartnerError::Stale(_))));
        assert_eq!(name_key("  Leads   Number "), "leads number");
        assert!(name_and_key("name", "  ").is_err());
    }

    #[test]
    fn obligations_and_benefits_carry_their_own_values() {
        let obligation = ParameterValues {
            role: Role::Obligation,
            source: Source::LeadsRegistered,
            unit: Unit::Count,
            target_value: "10",
            points: 40,
            benefit_value: "",
        };
        assert!(check_parameter("", &obligation).is_ok());
        assert!(check_parameter("", &ParameterValues { target_value: "0", ..obligation.clone() }).is_err());
        assert!(check_parameter("", &ParameterValues { source: Source::None, ..obligation.clone() }).is_err());
        let benefit = ParameterValues {
            role: Role::Benefit,
            source: Source::None,
            unit: Unit::Percent,
            target_value: "",
            points: 0,
            benefit_value: "10",
        };
        assert!(check_parameter("", &benefit).is_ok());
        assert!(check_parameter("", &ParameterValues { benefit_value: "ten", ..benefit.clone() }).is_err());
        assert!(check_parameter("", &ParameterValues { unit: Unit::Text, benefit_value: "ten", ..benefit }).is_ok());
        assert!(check_category(Source::OpportunityWonAmount, Unit::Count).is_err());
        assert!(check_category(Source::None, Unit::Text).is_ok());
    }
}
