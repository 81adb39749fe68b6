//! Lead rules: statuses and what may change, the keys duplicates are found by, and
//! what a match is called.

use super::PartnerError;

/// Where a lead is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadStatus {
    New,
    InProgress,
    Qualified,
    Converted,
    Disqualified,
}

impl LeadStatus {
    pub fn stored(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in_progress",
            Self::Qualified => "qualified",
            Self::Converted => "converted",
            Self::Disqualified => "disqualified",
        }
    }

    pub fn from_stored(name: &str) -> Result<Self, PartnerError> {
        Ok(match name {
            "new" => Self::New,
            "in_progress" => Self::InProgress,
            "qualified" => Self::Qualified,
            "converted" => Self::Converted,
            "disqualified" => Self::Disqualified,
            other => return Err(PartnerError::Corrupt(format!("unknown lead status '{other}'"))),
        })
    }
}

/// A new lead starts New or In progress.
pub fn check_initial_status(status: LeadStatus) -> Result<(), PartnerError> {
    match status {
        LeadStatus::New | LeadStatus::InProgress => Ok(()),
        _ => Err(PartnerError::invalid("lead.status", "a new lead is New or In progress")),
    }
}

/// A status change by UpdateLead: Converted comes only from creating an opportunity,
/// and a converted lead keeps its status.
pub fn check_status_change(from: LeadStatus, to: LeadStatus) -> Result<(), PartnerError> {
    if from == to {
        return Ok(());
    }
    if from == LeadStatus::Converted {
        return Err(PartnerError::Refused("LEAD_CONVERTED", "a converted lead keeps its status".into()));
    }
    if to == LeadStatus::Converted {
        return Err(PartnerError::invalid(
            "lead.status",
            "becomes Converted only by creating an opportunity from the lead",
        ));
    }
    Ok(())
}

/// Mail domains shared by unrelated people, never evidence of the same company.
const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
];

/// The key company names are compared by: lower case, inner white space collapsed.
pub fn company_key(company_name: &str) -> String {
    company_name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The email's domain in lower case, or empty for no email or a public mail domain.
pub fn company_domain(email: &str) -> String {
    let domain = email.rsplit_once('@').map(|(_, d)| d.trim().trim_end_matches('.').to_lowercase()).unwrap_or_default();
    if PUBLIC_MAIL_DOMAINS.contains(&domain.as_str()) { String::new() } else { domain }
}

/// Checks an email address's shape (one @, something on each side, a dot in the domain).
pub fn check_email(field: &str, email: &str) -> Result<(), PartnerError> {
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.starts_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if ok { Ok(()) } else { Err(PartnerError::invalid(field, format!("'{email}' is not a well-formed email address"))) }
}

/// What made a lead a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateMatch {
    CompanyName,
    EmailDomain,
    CompanyNameAndEmailDomain,
}

impl DuplicateMatch {
    /// From whether any other partner's lead matched by name and by domain.
    pub fn of(by_name: bool, by_domain: bool) -> Option<Self> {
        match (by_name, by_domain) {
            (true, true) => Some(Self::CompanyNameAndEmailDomain),
            (true, false) => Some(Self::CompanyName),
            (false, true) => Some(Self::EmailDomain),
            (false, false) => None,
        }
    }

    pub fn stored(self) -> &'static str {
        match self {
            Self::CompanyName => "company_name",
            Self::EmailDomain => "email_domain",
            Self::CompanyNameAndEmailDomain => "company_name_and_email_domain",
        }
    }

    pub fn from_stored(name: &str) -> Option<Self> {
        match name {
            "company_name" => Some(Self::CompanyName),
            "email_domain" => Some(Self::EmailDomain),
            "company_name_and_email_domain" => Some(Self::CompanyNameAndEmailDomain),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_normalised() {
        assert_eq!(company_key("  Acme   Corp "), "acme corp");
        assert_eq!(company_key("ACME corp"), company_key("acme  CORP"));
        assert_eq!(company_domain("Ann@Acme.Example"), "acme.example");
        assert_eq!(company_domain("someone@gmail.com"), "");
        assert_eq!(company_domain(""), "");
        assert_eq!(DuplicateMatch::of(true, true), Some(DuplicateMatch::CompanyNameAndEmailDomain));
        assert_eq!(DuplicateMatch::of(false, false), None);
    }

    #[test]
    fn statuses_move_as_the_contract_says() {
        assert!(check_initial_status(LeadStatus::New).is_ok());
        assert!(check_initial_status(LeadStatus::Qualified).is_err());
        assert!(check_status_change(LeadStatus::New, LeadStatus::Disqualified).is_ok());
        assert!(matches!(check_status_change(LeadStatus::Converted, LeadStatus::New), Err(PartnerError::Refused(..))));
        assert!(matches!(check_status_change(LeadStatus::New, LeadStatus::Converted), Err(PartnerError::Invalid(_))));
        assert!(check_email("email", "ann@acme.example").is_ok());
        assert!(check_email("email", "ann@acme").is_err() && check_email("email", "a b@x.y").is_err());
    }
}
