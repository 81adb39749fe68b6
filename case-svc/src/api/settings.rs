//! `portal.case.v1.CaseSettingsService`.

use portal_proto::case::{self as pb, case_settings_service_server::CaseSettingsService};
use service_kit::ApiError;
use tonic::{Request, Response, Status};

use super::convert::{caller, mask_paths, settings_to_proto, status};
use crate::settings::Settings;

#[derive(Debug, Clone)]
pub struct SettingsApi {
    pub settings: Settings,
}

#[tonic::async_trait]
impl CaseSettingsService for SettingsApi {
    async fn get_case_settings(
        &self,
        request: Request<pb::GetCaseSettingsRequest>,
    ) -> Result<Response<pb::CaseSettings>, Status> {
        caller(&request)?;
        Ok(Response::new(settings_to_proto(self.settings.get().await.map_err(status)?)))
    }

    async fn update_case_settings(
        &self,
        request: Request<pb::UpdateCaseSettingsRequest>,
    ) -> Result<Response<pb::CaseSettings>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let wanted = request.settings.ok_or_else(|| ApiError::invalid("settings", "is required"))?;
        let paths = mask_paths(
            request.update_mask,
            &["number_prefix", "number_width", "max_attachment_bytes", "sla_warning_percent", "default_calendar_id"],
        )?;
        let updated = self
            .settings
            .update(&caller, &wanted.etag, |settings| {
                for path in &paths {
                    match path.as_str() {
                        "number_prefix" => settings.number_prefix = wanted.number_prefix.clone(),
                        "number_width" => settings.number_width = wanted.number_width,
                        "max_attachment_bytes" => settings.max_attachment_bytes = wanted.max_attachment_bytes,
                        "sla_warning_percent" => settings.sla_warning_percent = wanted.sla_warning_percent,
                        _ => settings.default_calendar_id = Some(wanted.default_calendar_id.clone()),
                    }
                }
                Ok(())
            })
            .await
            .map_err(status)?;
        Ok(Response::new(settings_to_proto(updated)))
    }
}
