//! The built-in template codes, what each is for, and the macros each knows.

/// One macro a code knows, without the `#` signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacroSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub sample: &'static str,
}

/// A built-in template code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    pub code: &'static str,
    pub description: &'static str,
    /// Every non-empty body must contain these.
    pub required: &'static [MacroSpec],
    /// These may be used; `ContactName` and `Email` are added for every code.
    pub optional: &'static [MacroSpec],
}

const fn m(name: &'static str, description: &'static str, sample: &'static str) -> MacroSpec {
    MacroSpec { name, description, sample }
}

const CONTACT_NAME: MacroSpec =
    m("ContactName", "the recipient's name (defaults to the name the email is addressed to)", "Alex Example");
const EMAIL: MacroSpec = m("Email", "the recipient's email address", "alex@example.com");
const CASE_NUMBER: MacroSpec = m("CaseNumber", "the case number", "SR00042");
const CASE_SUBJECT: MacroSpec = m("CaseSubject", "the case subject", "Printer does not print");
const CASE_URL: MacroSpec =
    m("CaseUrl", "the link to the case on the portal", "https://portal.example.com/cases/SR00042");
const DEADLINE_KIND: MacroSpec = m("DeadlineKind", "which deadline: response or resolution", "resolution");
const DEADLINE: MacroSpec = m("Deadline", "the deadline, as a date and time", "2025-03-14 17:00 UTC");

/// The macros every code takes besides its own.
pub const COMMON_OPTIONAL: &[MacroSpec] = &[CONTACT_NAME, EMAIL];

pub const SSP_INVITE: &str = "SSP invite template";
pub const REGISTRATION: &str = "Template - Portal user registration";
pub const ALREADY_REGISTERED: &str = "Portal user already registered";
pub const PASSWORD_RECOVERY: &str = "Link for password recovery";
pub const CASE_MESSAGE: &str = "Case message";
pub const CASE_FEEDBACK: &str = "Case feedback request";
pub const CASE_SLA_WARNING: &str = "Case SLA warning";
pub const CASE_SLA_BREACH: &str = "Case SLA breach";

/// Every built-in code, in the order ListTemplateCodes gives them (by code).
pub const BUILT_IN: &[CodeSpec] = &[
    CodeSpec {
        code: CASE_SLA_BREACH,
        description: "sent when a case deadline has passed",
        required: &[CASE_NUMBER, DEADLINE_KIND, DEADLINE],
        optional: &[CASE_SUBJECT, CASE_URL],
    },
    CodeSpec {
        code: CASE_SLA_WARNING,
        description: "sent when a case deadline is near (by default at 75% of the time)",
        required: &[CASE_NUMBER, DEADLINE_KIND, DEADLINE],
        optional: &[CASE_SUBJECT, CASE_URL],
    },
    CodeSpec {
        code: CASE_FEEDBACK,
        description: "sent when a case is resolved, closed or canceled, asking for feedback",
        required: &[
            CASE_NUMBER,
            m("FeedbackLinkUrl", "the link to rate the case", "https://portal.example.com/cases/SR00042/feedback"),
        ],
        optional: &[CASE_SUBJECT, CASE_URL],
    },
    CodeSpec {
        code: CASE_MESSAGE,
        description: "sent when staff post a message on a user's case",
        required: &[
            CASE_NUMBER,
            m("MessageText", "the text of the message", "We have replaced the toner; please try again."),
        ],
        optional: &[CASE_SUBJECT, CASE_URL],
    },
    CodeSpec {
        code: PASSWORD_RECOVERY,
        description: "sent when a user asks to recover the password",
        required: &[m(
            "RecoveryLinkUrl",
            "the one-time link to set a new password",
            "https://portal.example.com/recover?token=sample",
        )],
        optional: &[],
    },
    CodeSpec {
        code: ALREADY_REGISTERED,
        description: "sent when someone registers with an email that already has an account",
        required: &[m("LoginUrl", "the link to the login page", "https://portal.example.com/login")],
        optional: &[],
    },
    CodeSpec {
        code: SSP_INVITE,
        description: "sent with a portal invitation",
        required: &[m(
            "InvitationLinkUrl",
            "the one-time link to accept the invitation and set a password",
            "https://portal.example.com/invitation?token=sample",
        )],
        optional: &[],
    },
    CodeSpec {
        code: REGISTRATION,
        description: "sent when a self-registration must be confirmed",
        required: &[m(
            "ConfirmationLinkUrl",
            "the one-time link to confirm the registration",
            "https://portal.example.com/confirm?token=sample",
        )],
        optional: &[],
    },
];

/// The built-in code named `code`, if it is one.
pub fn built_in(code: &str) -> Option<&'static CodeSpec> {
    BUILT_IN.iter().find(|spec| spec.code == code)
}

impl CodeSpec {
    /// Every macro the code knows: required, its own optional ones, then the common ones.
    pub fn known(&self) -> impl Iterator<Item = &'static MacroSpec> + '_ {
        self.required.iter().chain(self.optional.iter()).chain(COMMON_OPTIONAL.iter())
    }

    /// The macro `name` (without `#`), if the code knows it.
    pub fn macro_named(&self, name: &str) -> Option<&'static MacroSpec> {
        self.known().find(|m| m.name == name)
    }

    /// The optional macros, the common ones included.
    pub fn all_optional(&self) -> impl Iterator<Item = &'static MacroSpec> + '_ {
        self.optional.iter().chain(COMMON_OPTIONAL.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_codes_are_sorted_unique_and_match_the_contract() {
        let codes: Vec<_> = BUILT_IN.iter().map(|c| c.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert_eq!(built_in(PASSWORD_RECOVERY).unwrap().required[0].name, "RecoveryLinkUrl");
        assert!(built_in(SSP_INVITE).unwrap().macro_named("ContactName").is_some());
        assert!(built_in("Custom").is_none());
    }
}
