//! Case settings use cases: the number template, the attachment limit, the SLA warning
//! share and the default calendar.

use service_kit::{Caller, access::AccessClient, clock::Clock};

use crate::{
    case_access::CAN_MANAGE_CASE_SETTINGS,
    catalog::expected_version,
    domain::{CaseError, numbering},
    storage::{SettingsRecord, Store},
};

/// The built-in defaults: "SR" and 5 digits, 25 MiB, a warning at 75%.
pub fn defaults(now: i64) -> SettingsRecord {
    SettingsRecord {
        number_prefix: "SR".into(),
        number_width: 5,
        max_attachment_bytes: 25 * 1024 * 1024,
        sla_warning_percent: 75,
        default_calendar_id: None,
        version: 1,
        updated_at: now,
    }
}

/// The settings' use cases.
#[derive(Debug, Clone)]
pub struct Settings {
    pub store: Store,
    pub clock: Clock,
    pub access: AccessClient,
}

impl Settings {
    pub async fn get(&self) -> Result<SettingsRecord, CaseError> {
        self.store.settings(&defaults(self.clock.now())).await
    }

    pub async fn update(
        &self,
        caller: &Caller,
        etag: &str,
        change: impl FnOnce(&mut SettingsRecord) -> Result<(), CaseError>,
    ) -> Result<SettingsRecord, CaseError> {
        self.access.require_staff_operation(caller, CAN_MANAGE_CASE_SETTINGS).await.map_err(CaseError::Api)?;
        let current = self.get().await?;
        let expected = expected_version(etag, "case settings")?.unwrap_or(current.version);
        if expected != current.version {
            return Err(CaseError::StaleEtag { resource: "case settings" });
        }
        let mut next = current.clone();
        change(&mut next)?;
        let mut violations = service_kit::error::Violations::new();
        if !numbering::valid_prefix(&next.number_prefix) {
            violations.add("settings.number_prefix", "0 to 10 characters of A-Z, 0-9 and '-'");
        }
        if !(1..=12).contains(&next.number_width) {
            violations.add("settings.number_width", "must be between 1 and 12");
        }
        if !(1..=1 << 30).contains(&next.max_attachment_bytes) {
            violations.add("settings.max_attachment_bytes", "must be between 1 and 1 GiB");
        }
        if !(1..=99).contains(&next.sla_warning_percent) {
            violations.add("settings.sla_warning_percent", "must be between 1 and 99");
        }
        violations.finish()?;
        if let Some(calendar_id) = next.default_calendar_id.as_deref().filter(|id| !id.is_empty()) {
            if self.store.calendar(calendar_id).await?.is_none() {
                return Err(CaseError::NotFound { resource: "calendar", id: calendar_id.to_owned() });
            }
        } else {
            next.default_calendar_id = None;
        }
        next.updated_at = self.clock.now();
        next.version = current.version + 1;
        if !self.store.update_settings(&next, expected).await? {
            return Err(CaseError::StaleEtag { resource: "case settings" });
        }
        Ok(next)
    }
}
