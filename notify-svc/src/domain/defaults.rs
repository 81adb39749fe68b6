//! The templates that ship with the product: every built-in code in English
//! ("en-US") and German ("de-DE"). They are added once per database; an
//! administrator's later edits and deletions stand.

use super::{
    catalog::{
        ALREADY_REGISTERED, CASE_FEEDBACK, CASE_MESSAGE, CASE_SLA_BREACH, CASE_SLA_WARNING, PASSWORD_RECOVERY,
        REGISTRATION, SSP_INVITE,
    },
    template::{TemplateText, escape_html, macros_in},
};

/// One shipped template.
#[derive(Debug, Clone)]
pub struct DefaultTemplate {
    pub code: &'static str,
    pub culture: &'static str,
    pub text: TemplateText,
}

/// `(code, culture, subject, plain-text body)`; the HTML body is made from the text.
const SHIPPED: &[(&str, &str, &str, &str)] = &[
    (
        SSP_INVITE,
        "en-US",
        "You are invited to the portal",
        "Hello #ContactName#,\n\nyou have been invited to the portal. Follow this link to accept the invitation and choose your password:\n\n#InvitationLinkUrl#\n\nThe link can be used once and expires after a while. If you did not expect this invitation, ignore this email.",
    ),
    (
        SSP_INVITE,
        "de-DE",
        "Einladung zum Portal",
        "Hallo #ContactName#,\n\nSie wurden zum Portal eingeladen. Folgen Sie diesem Link, um die Einladung anzunehmen und Ihr Passwort festzulegen:\n\n#InvitationLinkUrl#\n\nDer Link ist nur einmal und nur für begrenzte Zeit gültig. Wenn Sie diese Einladung nicht erwartet haben, ignorieren Sie diese E-Mail.",
    ),
    (
        REGISTRATION,
        "en-US",
        "Confirm your portal registration",
        "Hello #ContactName#,\n\nthank you for registering on the portal. Confirm your email address with this link to finish:\n\n#ConfirmationLinkUrl#\n\nIf you did not register, ignore this email.",
    ),
    (
        REGISTRATION,
        "de-DE",
        "Bestätigen Sie Ihre Registrierung",
        "Hallo #ContactName#,\n\nvielen Dank für Ihre Registrierung im Portal. Bestätigen Sie Ihre E-Mail-Adresse mit diesem Link:\n\n#ConfirmationLinkUrl#\n\nWenn Sie sich nicht registriert haben, ignorieren Sie diese E-Mail.",
    ),
    (
        ALREADY_REGISTERED,
        "en-US",
        "You already have a portal account",
        "Hello #ContactName#,\n\nsomeone tried to register on the portal with #Email#, which already has an account. Log in here:\n\n#LoginUrl#\n\nIf you forgot your password, use \"Forgot password\" on the login page. If it was not you, ignore this email.",
    ),
    (
        ALREADY_REGISTERED,
        "de-DE",
        "Sie haben bereits ein Portalkonto",
        "Hallo #ContactName#,\n\njemand hat versucht, sich mit #Email# im Portal zu registrieren; für diese Adresse besteht bereits ein Konto. Melden Sie sich hier an:\n\n#LoginUrl#\n\nWenn Sie Ihr Passwort vergessen haben, wählen Sie auf der Anmeldeseite \"Passwort vergessen\". Wenn Sie es nicht waren, ignorieren Sie diese E-Mail.",
    ),
    (
        PASSWORD_RECOVERY,
        "en-US",
        "Reset your portal password",
        "Hello #ContactName#,\n\nwe received a request to reset your portal password. Follow this link to choose a new one:\n\n#RecoveryLinkUrl#\n\nThe link can be used once and expires soon; using it signs you out everywhere else. If you did not ask for this, ignore this email: your password stays as it is.",
    ),
    (
        PASSWORD_RECOVERY,
        "de-DE",
        "Portal-Passwort zurücksetzen",
        "Hallo #ContactName#,\n\nwir haben eine Anfrage zum Zurücksetzen Ihres Portal-Passworts erhalten. Folgen Sie diesem Link, um ein neues festzulegen:\n\n#RecoveryLinkUrl#\n\nDer Link ist nur einmal und nur kurz gültig; er meldet Sie überall sonst ab. Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.",
    ),
    (
        CASE_MESSAGE,
        "en-US",
        "New message on case #CaseNumber#",
        "Hello #ContactName#,\n\nthere is a new message on your case #CaseNumber#:\n\n#MessageText#\n\nReply on the portal to keep the conversation in one place.",
    ),
    (
        CASE_MESSAGE,
        "de-DE",
        "Neue Nachricht zu Fall #CaseNumber#",
        "Hallo #ContactName#,\n\nzu Ihrem Fall #CaseNumber# gibt es eine neue Nachricht:\n\n#MessageText#\n\nAntworten Sie bitte im Portal, damit der Verlauf an einer Stelle bleibt.",
    ),
    (
        CASE_FEEDBACK,
        "en-US",
        "How did we do on case #CaseNumber#?",
        "Hello #ContactName#,\n\nyour case #CaseNumber# has been completed. Tell us how satisfied you are:\n\n#FeedbackLinkUrl#\n\nThank you for your feedback.",
    ),
    (
        CASE_FEEDBACK,
        "de-DE",
        "Wie zufrieden waren Sie mit Fall #CaseNumber#?",
        "Hallo #ContactName#,\n\nIhr Fall #CaseNumber# wurde abgeschlossen. Sagen Sie uns, wie zufrieden Sie sind:\n\n#FeedbackLinkUrl#\n\nVielen Dank für Ihre Rückmeldung.",
    ),
    (
        CASE_SLA_WARNING,
        "en-US",
        "Case #CaseNumber#: #DeadlineKind# deadline approaching",
        "The #DeadlineKind# deadline of case #CaseNumber# is near: #Deadline#.",
    ),
    (
        CASE_SLA_WARNING,
        "de-DE",
        "Fall #CaseNumber#: Frist bald erreicht (#DeadlineKind#)",
        "Die Frist (#DeadlineKind#) für Fall #CaseNumber# läuft bald ab: #Deadline#.",
    ),
    (
        CASE_SLA_BREACH,
        "en-US",
        "Case #CaseNumber#: #DeadlineKind# deadline passed",
        "The #DeadlineKind# deadline of case #CaseNumber# has passed: #Deadline#.",
    ),
    (
        CASE_SLA_BREACH,
        "de-DE",
        "Fall #CaseNumber#: Frist überschritten (#DeadlineKind#)",
        "Die Frist (#DeadlineKind#) für Fall #CaseNumber# ist überschritten: #Deadline#.",
    ),
];

/// Every shipped template.
pub fn all() -> Vec<DefaultTemplate> {
    SHIPPED
        .iter()
        .map(|(code, culture, subject, body)| DefaultTemplate {
            code,
            culture,
            text: TemplateText {
                subject: (*subject).to_owned(),
                body_text: (*body).to_owned(),
                body_html: to_html(body),
            },
        })
        .collect()
}

/// Paragraphs become `<p>`; a paragraph that is one link macro becomes a link.
fn to_html(text: &str) -> String {
    let mut html = String::from("<html><body>");
    for paragraph in text.split("\n\n") {
        let trimmed = paragraph.trim();
        let is_link = macros_in(trimmed).len() == 1 && trimmed.starts_with('#') && trimmed.ends_with("Url#");
        if is_link {
            html.push_str(&format!("<p><a href=\"{trimmed}\">{trimmed}</a></p>"));
        } else {
            html.push_str(&format!("<p>{}</p>", escape_html(trimmed).replace('\n', "<br>")));
        }
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use crate::domain::catalog::{BUILT_IN, built_in};

    #[test]
    fn every_code_ships_in_english_and_german_and_passes_its_own_rules() {
        let all = super::all();
        for spec in BUILT_IN {
            for culture in ["en-US", "de-DE"] {
                assert!(all.iter().any(|t| t.code == spec.code && t.culture == culture), "{} {culture}", spec.code);
            }
        }
        for template in all {
            template
                .text
                .validate(built_in(template.code).unwrap())
                .unwrap_or_else(|e| panic!("{} {}: {e}", template.code, template.culture));
        }
    }
}
