//! The identity system settings: their defaults and the ranges they must stay in.

use serde::{Deserialize, Serialize};

use super::email;

/// The start page that is not a portal section: the main page.
pub const MAIN_PAGE: &str = "MainPage";

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// The settings as stored. Lifetimes are in seconds; `None` means "the deployment's
/// configuration decides" for the fields whose default comes from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub ssp_registration_mailbox: String,
    pub portal_invitation_email_template: String,
    pub portal_registration_email_template: String,
    pub portal_recovery_password_email_template: String,
    pub portal_existing_account_email_template: String,
    pub portal_start_page: String,
    pub self_registration_enabled: bool,
    pub ssp_user_registration_lic_package: String,
    pub self_registration_default_role_ids: Vec<String>,
    pub public_base_url: Option<String>,
    pub invitation_token_lifetime: i64,
    pub confirmation_token_lifetime: i64,
    pub recovery_token_lifetime: i64,
    pub session_idle_lifetime: Option<i64>,
    pub session_absolute_lifetime: Option<i64>,
    pub brute_force_threshold: i64,
    pub brute_force_address_threshold: i64,
    pub brute_force_max_delay: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ssp_registration_mailbox: String::new(),
            portal_invitation_email_template: "SSP invite template".into(),
            portal_registration_email_template: "Template - Portal user registration".into(),
            portal_recovery_password_email_template: "Link for password recovery".into(),
            portal_existing_account_email_template: "Portal user already registered".into(),
            portal_start_page: MAIN_PAGE.into(),
            self_registration_enabled: false,
            ssp_user_registration_lic_package: String::new(),
            self_registration_default_role_ids: Vec::new(),
            public_base_url: None,
            invitation_token_lifetime: 72 * HOUR,
            confirmation_token_lifetime: 24 * HOUR,
            recovery_token_lifetime: HOUR,
            session_idle_lifetime: None,
            session_absolute_lifetime: None,
            brute_force_threshold: 5,
            brute_force_address_threshold: 50,
            brute_force_max_delay: 15 * 60,
        }
    }
}

/// What the deployment's configuration supplies for the settings never changed.
#[derive(Debug, Clone)]
pub struct SettingsDefaults {
    pub public_base_url: String,
    pub session_idle_lifetime: i64,
    pub session_absolute_lifetime: i64,
}

/// The settings in force: stored values, with the configuration's where none is stored.
#[derive(Debug, Clone)]
pub struct Effective {
    pub stored: Settings,
    pub public_base_url: String,
    pub session_idle_lifetime: i64,
    pub session_absolute_lifetime: i64,
}

impl Settings {
    pub fn effective(&self, defaults: &SettingsDefaults) -> Effective {
        Effective {
            stored: self.clone(),
            public_base_url: self.public_base_url.clone().unwrap_or_else(|| defaults.public_base_url.clone()),
            session_idle_lifetime: self.session_idle_lifetime.unwrap_or(defaults.session_idle_lifetime),
            session_absolute_lifetime: self.session_absolute_lifetime.unwrap_or(defaults.session_absolute_lifetime),
        }
    }
}

/// A setting that names an email template, and the link macro identity fills in the
/// emails sent with it: the template must require that macro (notify then refuses to
/// save one without it), or the email would arrive without its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateReference<'a> {
    pub field: &'static str,
    pub code: &'a str,
    pub link_macro: &'static str,
}

/// The macros identity fills in its emails, one per template setting.
pub const INVITATION_LINK_MACRO: &str = "InvitationLinkUrl";
pub const CONFIRMATION_LINK_MACRO: &str = "ConfirmationLinkUrl";
pub const RECOVERY_LINK_MACRO: &str = "RecoveryLinkUrl";
pub const LOGIN_URL_MACRO: &str = "LoginUrl";

impl Settings {
    /// The template settings, each with the macro its emails fill.
    pub fn template_references(&self) -> [TemplateReference<'_>; 4] {
        [
            TemplateReference {
                field: "settings.portal_invitation_email_template",
                code: &self.portal_invitation_email_template,
                link_macro: INVITATION_LINK_MACRO,
            },
            TemplateReference {
                field: "settings.portal_registration_email_template",
                code: &self.portal_registration_email_template,
                link_macro: CONFIRMATION_LINK_MACRO,
            },
            TemplateReference {
                field: "settings.portal_recovery_password_email_template",
                code: &self.portal_recovery_password_email_template,
                link_macro: RECOVERY_LINK_MACRO,
            },
            TemplateReference {
                field: "settings.portal_existing_account_email_template",
                code: &self.portal_existing_account_email_template,
                link_macro: LOGIN_URL_MACRO,
            },
        ]
    }
}

fn in_range(value: i64, min: i64, max: i64, unit_text: &str) -> Result<(), String> {
    if (min..=max).contains(&value) { Ok(()) } else { Err(format!("must be between {unit_text}")) }
}

fn valid_base_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or("must be an absolute URL such as https://portal.example.com")?;
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    if host.is_empty() || rest.contains(char::is_whitespace) {
        return Err("must be an absolute URL such as https://portal.example.com".into());
    }
    match scheme {
        "https" => Ok(()),
        "http" if host == "localhost" || host == "127.0.0.1" || host == "[::1]" => Ok(()),
        _ => Err("must use https (http only for localhost)".into()),
    }
}

/// Checks the settings in force; each problem names its field as the API spells it.
pub fn validate(effective: &Effective) -> Vec<(&'static str, String)> {
    let s = &effective.stored;
    let mut problems = Vec::new();
    let mut check = |field: &'static str, result: Result<(), String>| {
        if let Err(problem) = result {
            problems.push((field, problem));
        }
    };
    if !s.ssp_registration_mailbox.is_empty() {
        check("settings.ssp_registration_mailbox", email::normalize(&s.ssp_registration_mailbox).map(drop));
    }
    for (field, code) in [
        ("settings.portal_invitation_email_template", &s.portal_invitation_email_template),
        ("settings.portal_registration_email_template", &s.portal_registration_email_template),
        ("settings.portal_recovery_password_email_template", &s.portal_recovery_password_email_template),
        ("settings.portal_existing_account_email_template", &s.portal_existing_account_email_template),
        ("settings.portal_start_page", &s.portal_start_page),
    ] {
        check(
            field,
            if code.trim().is_empty() || code.len() > 200 {
                Err("is required, at most 200 characters".into())
            } else {
                Ok(())
            },
        );
    }
    check(
        "settings.self_registration_default_role_ids",
        if s.self_registration_default_role_ids.len() > 50 { Err("must name at most 50 roles".into()) } else { Ok(()) },
    );
    check("settings.public_base_url", valid_base_url(&effective.public_base_url));
    check(
        "settings.invitation_token_lifetime",
        in_range(s.invitation_token_lifetime, HOUR, 30 * DAY, "1 hour and 30 days"),
    );
    check(
        "settings.confirmation_token_lifetime",
        in_range(s.confirmation_token_lifetime, 10 * 60, 7 * DAY, "10 minutes and 7 days"),
    );
    check(
        "settings.recovery_token_lifetime",
        in_range(s.recovery_token_lifetime, 5 * 60, DAY, "5 minutes and 24 hours"),
    );
    check(
        "settings.session_idle_lifetime",
        in_range(effective.session_idle_lifetime, 60, DAY, "1 minute and 24 hours"),
    );
    check(
        "settings.session_absolute_lifetime",
        in_range(
            effective.session_absolute_lifetime,
            effective.session_idle_lifetime,
            30 * DAY,
            "the idle lifetime and 30 days",
        ),
    );
    check("settings.brute_force_threshold", in_range(s.brute_force_threshold, 1, 100, "1 and 100"));
    check(
        "settings.brute_force_address_threshold",
        in_range(s.brute_force_address_threshold, 1, 10_000, "1 and 10000"),
    );
    check("settings.brute_force_max_delay", in_range(s.brute_force_max_delay, 1, HOUR, "1 second and 1 hour"));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> SettingsDefaults {
        SettingsDefaults {
            public_base_url: "http://localhost:8080".into(),
            session_idle_lifetime: 1800,
            session_absolute_lifetime: 43200,
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert!(validate(&Settings::default().effective(&defaults())).is_empty());
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let settings = Settings {
            brute_force_threshold: 0,
            session_absolute_lifetime: Some(60),
            public_base_url: Some("http://portal.example.com".into()),
            ..Settings::default()
        };
        let fields: Vec<_> = validate(&settings.effective(&defaults())).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["settings.public_base_url", "settings.session_absolute_lifetime", "settings.brute_force_threshold"]
        );
    }
}
