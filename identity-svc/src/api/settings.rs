//! `portal.identity.v1.SettingsService`: the typed system settings.

use portal_proto::identity::{self as pb, settings_service_server::SettingsService};
use service_kit::{ApiError, Caller, clock::to_timestamp};
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        IdentityError, password_policy,
        settings::{Effective, Settings},
    },
    storage::StoredSettings,
    system_settings::SystemSettings,
};

#[derive(Debug, Clone)]
pub struct SettingsApi {
    pub settings: SystemSettings,
}

fn duration(seconds: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos: 0 })
}

fn seconds(field: &'static str, value: Option<&prost_types::Duration>) -> Result<i64, IdentityError> {
    match value {
        Some(d) if d.nanos == 0 => Ok(d.seconds),
        Some(_) => Err(IdentityError::Invalid(vec![(field, "must be a whole number of seconds".into())])),
        None => Err(IdentityError::Invalid(vec![(field, "is required when named in update_mask".into())])),
    }
}

fn to_proto(stored: &StoredSettings, effective: &Effective) -> pb::Settings {
    let s = &stored.settings;
    pb::Settings {
        ssp_registration_mailbox: s.ssp_registration_mailbox.clone(),
        portal_invitation_email_template: s.portal_invitation_email_template.clone(),
        portal_registration_email_template: s.portal_registration_email_template.clone(),
        portal_recovery_password_email_template: s.portal_recovery_password_email_template.clone(),
        portal_existing_account_email_template: s.portal_existing_account_email_template.clone(),
        portal_start_page: s.portal_start_page.clone(),
        self_registration_enabled: s.self_registration_enabled,
        ssp_user_registration_lic_package: s.ssp_user_registration_lic_package.clone(),
        self_registration_default_role_ids: s.self_registration_default_role_ids.clone(),
        public_base_url: effective.public_base_url.clone(),
        invitation_token_lifetime: duration(s.invitation_token_lifetime),
        confirmation_token_lifetime: duration(s.confirmation_token_lifetime),
        recovery_token_lifetime: duration(s.recovery_token_lifetime),
        session_idle_lifetime: duration(effective.session_idle_lifetime),
        session_absolute_lifetime: duration(effective.session_absolute_lifetime),
        brute_force_threshold: s.brute_force_threshold as i32,
        brute_force_address_threshold: s.brute_force_address_threshold as i32,
        brute_force_max_delay: duration(s.brute_force_max_delay),
        etag: stored.version.to_string(),
        update_time: stored.updated_at.map(to_timestamp),
        update_user_id: stored.updated_by.clone(),
    }
}

/// Copies the fields named in `paths` from `new` onto `target`.
fn apply(target: &mut Settings, new: &pb::Settings, paths: &[String]) -> Result<(), IdentityError> {
    for path in paths {
        match path.as_str() {
            "ssp_registration_mailbox" => target.ssp_registration_mailbox = new.ssp_registration_mailbox.trim().into(),
            "portal_invitation_email_template" => {
                target.portal_invitation_email_template = new.portal_invitation_email_template.clone()
            }
            "portal_registration_email_template" => {
                target.portal_registration_email_template = new.portal_registration_email_template.clone()
            }
            "portal_recovery_password_email_template" => {
                target.portal_recovery_password_email_template = new.portal_recovery_password_email_template.clone()
            }
            "portal_existing_account_email_template" => {
                target.portal_existing_account_email_template = new.portal_existing_account_email_template.clone()
            }
            "portal_start_page" => target.portal_start_page = new.portal_start_page.clone(),
            "self_registration_enabled" => target.self_registration_enabled = new.self_registration_enabled,
            "ssp_user_registration_lic_package" => {
                target.ssp_user_registration_lic_package = new.ssp_user_registration_lic_package.clone()
            }
            "self_registration_default_role_ids" => {
                target.self_registration_default_role_ids = new.self_registration_default_role_ids.clone()
            }
            "public_base_url" => {
                let url = new.public_base_url.trim().trim_end_matches('/');
                target.public_base_url = (!url.is_empty()).then(|| url.to_owned());
            }
            "invitation_token_lifetime" => {
                target.invitation_token_lifetime =
                    seconds("settings.invitation_token_lifetime", new.invitation_token_lifetime.as_ref())?
            }
            "confirmation_token_lifetime" => {
                target.confirmation_token_lifetime =
                    seconds("settings.confirmation_token_lifetime", new.confirmation_token_lifetime.as_ref())?
            }
            "recovery_token_lifetime" => {
                target.recovery_token_lifetime =
                    seconds("settings.recovery_token_lifetime", new.recovery_token_lifetime.as_ref())?
            }
            "session_idle_lifetime" => {
                target.session_idle_lifetime =
                    Some(seconds("settings.session_idle_lifetime", new.session_idle_lifetime.as_ref())?)
            }
            "session_absolute_lifetime" => {
                target.session_absolute_lifetime =
                    Some(seconds("settings.session_absolute_lifetime", new.session_absolute_lifetime.as_ref())?)
            }
            "brute_force_threshold" => target.brute_force_threshold = new.brute_force_threshold.into(),
            "brute_force_address_threshold" => {
                target.brute_force_address_threshold = new.brute_force_address_threshold.into()
            }
            "brute_force_max_delay" => {
                target.brute_force_max_delay =
                    seconds("settings.brute_force_max_delay", new.brute_force_max_delay.as_ref())?
            }
            other => {
                return Err(IdentityError::Invalid(vec![(
                    "update_mask",
                    format!("'{other}' is not an updatable field; use the snake_case names of Settings' fields"),
                )]));
            }
        }
    }
    Ok(())
}

#[tonic::async_trait]
impl SettingsService for SettingsApi {
    async fn get_settings(&self, request: Request<pb::GetSettingsRequest>) -> Result<Response<pb::Settings>, Status> {
        // Portal user administrators (CanAdministratePortalUsers) may read them too once
        // access-svc evaluates system operations; until then only system administrators.
        if !Caller::user_of(&request)?.system_administrator {
            return Err(IdentityError::NotAllowed("only system administrators may read the settings").into());
        }
        let (stored, effective) = self.settings.stored().await?;
        Ok(Response::new(to_proto(&stored, &effective)))
    }

    async fn update_settings(
        &self,
        request: Request<pb::UpdateSettingsRequest>,
    ) -> Result<Response<pb::Settings>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let pb::UpdateSettingsRequest { settings, update_mask } = request.into_inner();
        let new = settings.ok_or_else(|| ApiError::invalid("settings", "is required"))?;
        let paths = update_mask.map(|mask| mask.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(ApiError::invalid("update_mask", "must name at least one field to change").into());
        }
        let etag = match new.etag.as_str() {
            "" => None,
            etag => {
                Some(etag.parse::<i64>().map_err(|_| ApiError::invalid("settings.etag", "is not an etag we issued"))?)
            }
        };
        let (stored, effective) = self.settings.update(&caller, etag, |target| apply(target, &new, &paths)).await?;
        Ok(Response::new(to_proto(&stored, &effective)))
    }

    async fn get_public_settings(
        &self,
        _request: Request<pb::GetPublicSettingsRequest>,
    ) -> Result<Response<pb::PublicSettings>, Status> {
        let effective = self.settings.current().await?;
        Ok(Response::new(pb::PublicSettings {
            self_registration_enabled: effective.stored.self_registration_enabled,
            password_min_length: password_policy::MIN_CHARS as i32,
            password_max_length: password_policy::MAX_CHARS as i32,
        }))
    }
}
