//! Portal configurations and their section limits (seed 003, "Set up portal
//! sections"): no custom sections on the self-service or partner portal, at most 3 on
//! the customer portal; a section page may use 25 objects on self-service and 125
//! elsewhere, beyond which the section is read-only rather than refused.

use super::{AccessError, object_key};

/// The three portal configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Configuration {
    SelfService = 1,
    CustomerPortal = 2,
    PartnerPortal = 3,
}

/// The built-in sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardSection {
    Cases = 1,
    KnowledgeBase = 2,
    PartnerProgram = 3,
    Leads = 4,
    Opportunities = 5,
}

impl StandardSection {
    pub fn from_i32(value: i32) -> Option<Self> {
        [Self::Cases, Self::KnowledgeBase, Self::PartnerProgram, Self::Leads, Self::Opportunities]
            .into_iter()
            .find(|s| *s as i32 == value)
    }

    /// (code, primary object code)
    pub fn code_and_object(self) -> (&'static str, &'static str) {
        match self {
            Self::Cases => ("Cases", "Case"),
            Self::KnowledgeBase => ("KnowledgeBase", "KnowledgeBase"),
            Self::PartnerProgram => ("PartnerProgram", "Partnership"),
            Self::Leads => ("Leads", "Lead"),
            Self::Opportunities => ("Opportunities", "Opportunity"),
        }
    }
}

impl Configuration {
    pub const ALL: [Configuration; 3] = [Self::SelfService, Self::CustomerPortal, Self::PartnerPortal];

    pub fn id(self) -> &'static str {
        match self {
            Self::SelfService => "self-service",
            Self::CustomerPortal => "customer-portal",
            Self::PartnerPortal => "partner-portal",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn standard_sections(self) -> &'static [StandardSection] {
        match self {
            Self::SelfService => &[StandardSection::Cases, StandardSection::KnowledgeBase],
            Self::CustomerPortal => &[StandardSection::KnowledgeBase],
            Self::PartnerPortal => {
                &[StandardSection::PartnerProgram, StandardSection::Leads, StandardSection::Opportunities]
            }
        }
    }

    pub fn max_custom_sections(self) -> i64 {
        match self {
            Self::CustomerPortal => 3,
            Self::SelfService | Self::PartnerPortal => 0,
        }
    }

    pub fn max_page_objects(self) -> i64 {
        match self {
            Self::SelfService => 25,
            Self::CustomerPortal | Self::PartnerPortal => 125,
        }
    }
}

/// A section about to be added, as the limits see it.
#[derive(Debug, Clone, Copy)]
pub enum NewSection {
    Standard(StandardSection),
    Custom,
}

/// Refuses a section its configuration does not allow: a disabled configuration, a
/// standard section it does not offer, a custom section where none are allowed, or a
/// custom section beyond the limit. `custom_count` is how many it has now.
pub fn admit_section(
    configuration: Configuration,
    enabled: bool,
    section: NewSection,
    custom_count: i64,
) -> Result<(), AccessError> {
    if !enabled {
        return Err(AccessError::Refused(
            "CONFIGURATION_NOT_ENABLED",
            format!("the {} configuration is turned off; enable it before adding sections", configuration.id()),
        ));
    }
    match section {
        NewSection::Standard(standard) if !configuration.standard_sections().contains(&standard) => {
            Err(AccessError::Refused(
                "STANDARD_SECTION_NOT_IN_CONFIGURATION",
                format!("the {} configuration does not offer the {:?} section", configuration.id(), standard),
            ))
        }
        NewSection::Standard(_) => Ok(()),
        NewSection::Custom if configuration.max_custom_sections() == 0 => Err(AccessError::Refused(
            "CUSTOM_SECTIONS_NOT_ALLOWED",
            format!("the {} configuration allows no custom sections; use the customer portal", configuration.id()),
        )),
        NewSection::Custom if custom_count >= configuration.max_custom_sections() => Err(AccessError::Refused(
            "SECTION_LIMIT_REACHED",
            format!(
                "the {} configuration already has {} custom sections, the most it allows; delete one first",
                configuration.id(),
                configuration.max_custom_sections()
            ),
        )),
        NewSection::Custom => Ok(()),
    }
}

/// The page objects without duplicates (case-insensitively, primary object removed), and
/// how many distinct objects the page uses, the primary object included.
pub fn page_objects(primary: &str, page_objects: &[String]) -> (Vec<String>, i64) {
    let primary_key = object_key(primary);
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<String> = page_objects
        .iter()
        .filter(|code| object_key(code) != primary_key && seen.insert(object_key(code)))
        .cloned()
        .collect();
    let count = distinct.len() as i64 + 1;
    (distinct, count)
}

/// A section is read-only when its page uses more objects than its configuration allows.
pub fn is_read_only(configuration: Configuration, page_object_count: i64) -> bool {
    page_object_count > configuration.max_page_objects()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(result: Result<(), AccessError>) -> &'static str {
        match result {
            Err(AccessError::Refused(reason, _)) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_per_configuration() {
        assert_eq!(
            reason(admit_section(Configuration::SelfService, true, NewSection::Custom, 0)),
            "CUSTOM_SECTIONS_NOT_ALLOWED"
        );
        assert!(admit_section(Configuration::CustomerPortal, true, NewSection::Custom, 2).is_ok());
        assert_eq!(
            reason(admit_section(Configuration::CustomerPortal, true, NewSection::Custom, 3)),
            "SECTION_LIMIT_REACHED"
        );
        assert_eq!(
            reason(admit_section(Configuration::SelfService, true, NewSection::Standard(StandardSection::Leads), 0)),
            "STANDARD_SECTION_NOT_IN_CONFIGURATION"
        );
        assert_eq!(
            reason(admit_section(Configuration::PartnerPortal, false, NewSection::Custom, 0)),
            "CONFIGURATION_NOT_ENABLED"
        );
    }

    #[test]
    fn read_only_beyond_the_page_object_limit() {
        let codes: Vec<String> = (0..24).map(|i| format!("O{i}")).chain(["o0".into(), "Case".into()]).collect();
        let (distinct, count) = page_objects("Case", &codes);
        assert_eq!((distinct.len(), count), (24, 25));
        assert!(!is_read_only(Configuration::SelfService, 25));
        assert!(is_read_only(Configuration::SelfService, 26));
        assert!(!is_read_only(Configuration::CustomerPortal, 125));
    }
}
