//! Reading and changing the system settings, with optimistic concurrency and an
//! audit event per change.

use service_kit::{Caller, clock::Clock};

use crate::{
    domain::{
        IdentityError,
        settings::{self, Effective, Settings, SettingsDefaults},
    },
    setting_references::SettingReferences,
    storage::{AuditEntry, Store, StoredSettings},
};

/// The settings use cases.
#[derive(Debug, Clone)]
pub struct SystemSettings {
    store: Store,
    defaults: SettingsDefaults,
    references: SettingReferences,
    clock: Clock,
}

impl SystemSettings {
    pub fn new(store: Store, defaults: SettingsDefaults, references: SettingReferences, clock: Clock) -> Self {
        Self { store, defaults, references, clock }
    }

    /// The settings in force.
    pub async fn current(&self) -> Result<Effective, IdentityError> {
        Ok(self.store.settings().await?.settings.effective(&self.defaults))
    }

    /// The stored settings with their version, for the admin API.
    pub async fn stored(&self) -> Result<(StoredSettings, Effective), IdentityError> {
        let stored = self.store.settings().await?;
        let effective = stored.settings.effective(&self.defaults);
        Ok((stored, effective))
    }

    /// Applies `change` to the stored settings if `etag_version` (when given) is current,
    /// validates the result (what it names in notify and access included), and writes it with its audit event in one transaction.
    pub async fn update(
        &self,
        caller: &Caller,
        etag_version: Option<i64>,
        change: impl FnOnce(&mut Settings) -> Result<(), IdentityError>,
    ) -> Result<(StoredSettings, Effective), IdentityError> {
        if !caller.system_administrator {
            return Err(IdentityError::NotAllowed("only system administrators may change the settings"));
        }
        let before = self.store.settings().await?;
        if etag_version.is_some_and(|version| version != before.version) {
            return Err(IdentityError::Stale("settings"));
        }
        let mut after = before.settings.clone();
        change(&mut after)?;
        let problems = settings::validate(&after.effective(&self.defaults));
        if !problems.is_empty() {
            return Err(IdentityError::Invalid(problems));
        }
        self.references.check_changed(&before.settings, &after).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !Store::save_settings(&mut tx, &after, before.version, &caller.user_id, now).await? {
            return Err(IdentityError::Stale("settings"));
        }
        let json = |s: &Settings| serde_json::to_string(s).unwrap_or_default();
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "settings.update",
                resource_type: "settings",
                resource_id: "settings",
                organization_id: "",
                before_json: json(&before.settings),
                after_json: json(&after),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.stored().await
    }
}
