//! Whether the settings that name something another service keeps name something real,
//! asked before a change is saved: an email template notify can send for the setting's
//! purpose (it exists, and requires the link macro identity fills, such as
//! `#RecoveryLinkUrl#`), and a start page that is the main page or a portal section
//! in access. A setting left dangling would fail later and silently: recovery answering
//! OK and sending nothing, new users getting a home page that does not exist.

use std::{sync::Arc, time::Duration};

use portal_proto::{
    access::{GetSectionByCodeRequest, access_internal_service_client::AccessInternalServiceClient},
    notify::{GetTemplateCodeRequest, notify_internal_service_client::NotifyInternalServiceClient},
};
use service_kit::{Upstreams, assertion::AssertionKey};
use tonic::Code;

use crate::domain::{
    IdentityError,
    settings::{MAIN_PAGE, Settings, TemplateReference},
};

/// How long notify or access may take to answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks notify and access about what the settings name.
#[derive(Debug, Clone)]
pub struct SettingReferences {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

impl SettingReferences {
    pub fn new(upstreams: Arc<Upstreams>, key: AssertionKey) -> Self {
        Self { upstreams, key }
    }

    /// Checks the references that `after` changes from `before` (unchanged ones were
    /// checked when they were set). Errors name the field.
    pub async fn check_changed(&self, before: &Settings, after: &Settings) -> Result<(), IdentityError> {
        for (old, new) in before.template_references().iter().zip(after.template_references()) {
            if old.code != new.code {
                self.check_template(&new).await?;
            }
        }
        if before.portal_start_page != after.portal_start_page && after.portal_start_page != MAIN_PAGE {
            self.check_section(&after.portal_start_page).await?;
        }
        Ok(())
    }

    async fn check_template(&self, reference: &TemplateReference<'_>) -> Result<(), IdentityError> {
        let TemplateReference { field, code, link_macro } = *reference;
        let unreachable = |problem: String| IdentityError::Unreachable("notify", problem);
        let channel = self
            .upstreams
            .signed("notify", &self.key, "identity")
            .ok_or_else(|| unreachable("notify is not configured (upstreams.notify)".into()))?;
        let request = GetTemplateCodeRequest { code: code.to_owned() };
        let mut client = NotifyInternalServiceClient::new(channel);
        let template = match tokio::time::timeout(CALL_TIMEOUT, client.get_template_code(request)).await {
            Ok(Ok(answer)) => answer.into_inner(),
            Ok(Err(status)) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                return Err(IdentityError::Refused(
                    "TEMPLATE_NOT_FOUND",
                    format!(
                        "{field}: notify has no email template with this code in en-US; create it \
                         (TemplateService) or name one ListTemplateCodes lists"
                    ),
                ));
            }
            Ok(Err(status)) => return Err(unreachable(format!("{:?}: {}", status.code(), status.message()))),
            Err(_) => return Err(unreachable("notify did not answer in time".into())),
        };
        let required = format!("#{link_macro}#");
        if !template.required_macros.iter().any(|m| m.name == required) {
            return Err(IdentityError::Refused(
                "TEMPLATE_MISSING_MACRO",
                format!(
                    "{field}: the template does not require {required}, the link these emails carry; name a \
                     template whose base code is the one for this purpose"
                ),
            ));
        }
        Ok(())
    }

    async fn check_section(&self, code: &str) -> Result<(), IdentityError> {
        let channel = self
            .upstreams
            .signed("access", &self.key, "identity")
            .ok_or_else(|| IdentityError::AccessUnavailable("access is not configured (upstreams.access)".into()))?;
        let request = GetSectionByCodeRequest { code: code.to_owned() };
        let mut client = AccessInternalServiceClient::new(channel);
        match tokio::time::timeout(CALL_TIMEOUT, client.get_section_by_code(request)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(status)) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Err(IdentityError::Invalid(vec![(
                    "settings.portal_start_page",
                    format!("names no portal section; use {MAIN_PAGE} or a section code (PortalSectionService)"),
                )]))
            }
            Ok(Err(status)) => {
                Err(IdentityError::AccessUnavailable(format!("{:?}: {}", status.code(), status.message())))
            }
            Err(_) => Err(IdentityError::AccessUnavailable("access did not answer in time".into())),
        }
    }
}
