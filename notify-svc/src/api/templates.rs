//! `portal.notify.v1.TemplateService`: email templates by code and culture.

use portal_proto::notify::{self as pb, render_template_request::Source, template_service_server::TemplateService};
use service_kit::access::AccessClient;
use service_kit::{ApiError, clock::to_timestamp, error::Violations, validate};
use tonic::{Request, Response, Status};

use super::{authorized, check_macro_values, decode_token, encode_token, page_size};
use crate::{
    domain::{catalog::MacroSpec, culture, template::TemplateText},
    storage::{TemplateFilter, TemplateRow},
    templates::{CodeInfo, RenderSource, TemplateDraftInput, Templates, UpdateFields},
};

/// The system operation every template call needs.
const OPERATION: &str = "CanManageEmailTemplates";

#[derive(Debug, Clone)]
pub struct TemplateApi {
    pub access: AccessClient,
    pub templates: Templates,
}

impl From<TemplateRow> for pb::Template {
    fn from(row: TemplateRow) -> Self {
        Self {
            etag: row.version.to_string(),
            id: row.id,
            code: row.code,
            culture: row.culture,
            base_code: row.base_code,
            subject: row.subject,
            body_text: row.body_text,
            body_html: row.body_html,
            create_time: Some(to_timestamp(row.created_at)),
            update_time: Some(to_timestamp(row.updated_at)),
        }
    }
}

/// A template code as the API shows it.
pub(super) fn code_to_proto(info: CodeInfo) -> pb::TemplateCode {
    pb::TemplateCode {
        code: info.code,
        built_in: info.built_in,
        base_code: info.spec.code.to_owned(),
        description: info.spec.description.to_owned(),
        required_macros: info.spec.required.iter().map(macro_message).collect(),
        optional_macros: info.spec.all_optional().map(macro_message).collect(),
        cultures: info.cultures,
    }
}

fn macro_message(spec: &MacroSpec) -> pb::Macro {
    pb::Macro {
        name: format!("#{}#", spec.name),
        description: spec.description.to_owned(),
        sample_value: spec.sample.to_owned(),
    }
}

#[tonic::async_trait]
impl TemplateService for TemplateApi {
    async fn get_template(&self, request: Request<pb::GetTemplateRequest>) -> Result<Response<pb::Template>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(self.templates.get(&id).await?.into()))
    }

    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let culture = if request.culture.trim().is_empty() {
            None
        } else {
            Some(culture::canonical(&request.culture).map_err(|problem| ApiError::invalid("culture", problem))?)
        };
        let after: Option<(String, String)> = decode_token(&request.page_token)?;
        let filter = TemplateFilter {
            code: (!request.code.is_empty()).then_some(request.code),
            culture,
            after,
            limit: limit + 1,
        };
        let mut rows = self.templates.list(&filter).await?;
        let next_page_token = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|last| encode_token(&(last.code.clone(), last.culture.clone()))).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListTemplatesResponse {
            templates: rows.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn create_template(
        &self,
        request: Request<pb::CreateTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        let actor = authorized(&self.access, &request, OPERATION).await?.user_id.clone();
        let pb::CreateTemplateRequest { template, request_id } = request.into_inner();
        let Some(template) = template else {
            return Err(ApiError::invalid("template", "is required").into());
        };
        if request_id.chars().count() > 100 {
            return Err(ApiError::invalid("request_id", "must be at most 100 characters").into());
        }
        let created = self
            .templates
            .create(
                TemplateDraftInput {
                    code: template.code,
                    culture: template.culture,
                    base_code: template.base_code,
                    text: TemplateText {
                        subject: template.subject,
                        body_text: template.body_text,
                        body_html: template.body_html,
                    },
                },
                (!request_id.is_empty()).then_some(request_id.as_str()),
                &actor,
            )
            .await?;
        Ok(Response::new(created.into()))
    }

    async fn update_template(
        &self,
        request: Request<pb::UpdateTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        let actor = authorized(&self.access, &request, OPERATION).await?.user_id.clone();
        let pb::UpdateTemplateRequest { template, update_mask } = request.into_inner();
        let mut violations = Violations::new();
        let template = template.unwrap_or_else(|| {
            violations.add("template", "is required");
            pb::Template::default()
        });
        if template.id.trim().is_empty() {
            violations.add("template.id", "is required");
        }
        let mut fields = UpdateFields::default();
        match update_mask {
            None => {
                violations.add("update_mask", "is required: list the paths to change (subject, body_text, body_html)")
            }
            Some(mask) if mask.paths.is_empty() => {
                violations.add("update_mask", "is required: list the paths to change (subject, body_text, body_html)")
            }
            Some(mask) => {
                for path in &mask.paths {
                    match path.as_str() {
                        "subject" => fields.subject = true,
                        "body_text" => fields.body_text = true,
                        "body_html" => fields.body_html = true,
                        other => violations.add(
                            "update_mask",
                            format!("'{other}' cannot be updated; updatable paths: subject, body_text, body_html"),
                        ),
                    }
                }
            }
        }
        violations.finish()?;
        let updated = self
            .templates
            .update(
                &template.id,
                &template.etag,
                fields,
                TemplateText {
                    subject: template.subject,
                    body_text: template.body_text,
                    body_html: template.body_html,
                },
                &actor,
            )
            .await?;
        Ok(Response::new(updated.into()))
    }

    async fn delete_template(&self, request: Request<pb::DeleteTemplateRequest>) -> Result<Response<()>, Status> {
        let actor = authorized(&self.access, &request, OPERATION).await?.user_id.clone();
        let request = request.into_inner();
        validate::id("id", &request.id)?;
        self.templates.delete(&request.id, &request.etag, &actor).await?;
        Ok(Response::new(()))
    }

    async fn list_template_codes(
        &self,
        request: Request<pb::ListTemplateCodesRequest>,
    ) -> Result<Response<pb::ListTemplateCodesResponse>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)? as usize;
        let offset: usize = decode_token(&request.page_token)?.unwrap_or(0);
        let codes = self.templates.codes().await?;
        let total = codes.len();
        let template_codes = codes.into_iter().skip(offset).take(limit).map(code_to_proto).collect();
        let next_page_token = if offset + limit < total { encode_token(&(offset + limit)) } else { String::new() };
        Ok(Response::new(pb::ListTemplateCodesResponse { template_codes, next_page_token }))
    }

    async fn render_template(
        &self,
        request: Request<pb::RenderTemplateRequest>,
    ) -> Result<Response<pb::RenderTemplateResponse>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let pb::RenderTemplateRequest { source, macro_values } = request.into_inner();
        let mut violations = Violations::new();
        check_macro_values(&macro_values, &mut violations);
        let source = match source {
            None => {
                violations.add("source", "one of template_id, selector or draft is required");
                None
            }
            Some(Source::TemplateId(id)) => {
                if id.trim().is_empty() {
                    violations.add("template_id", "must not be empty");
                }
                Some(RenderSource::Saved(id))
            }
            Some(Source::Selector(selector)) => {
                if selector.code.trim().is_empty() {
                    violations.add("selector.code", "is required");
                }
                Some(RenderSource::Selector { code: selector.code, culture: selector.culture })
            }
            Some(Source::Draft(draft)) => {
                if draft.code.trim().is_empty() {
                    violations.add("draft.code", "is required");
                }
                Some(RenderSource::Draft {
                    code: draft.code,
                    text: TemplateText {
                        subject: draft.subject,
                        body_text: draft.body_text,
                        body_html: draft.body_html,
                    },
                })
            }
        };
        violations.finish()?;
        let Some(source) = source else {
            return Err(ApiError::invalid("source", "is required").into());
        };
        let preview = self.templates.render(source, &macro_values).await?;
        Ok(Response::new(pb::RenderTemplateResponse {
            subject: preview.rendered.subject,
            body_text: preview.rendered.body_text,
            body_html: preview.rendered.body_html,
            template_id: preview.template_id,
            culture: preview.culture,
            sample_macros: preview.sample_macros,
            missing_macros: preview.missing_macros,
            unknown_macros: preview.unknown_macros,
        }))
    }
}
