//! The adapters of PortalObjectService and PortalSectionService.

use portal_proto::access::{
    self as pb, portal_object_service_server::PortalObjectService, portal_section_service_server::PortalSectionService,
};
use service_kit::{ApiError, Caller, validate};
use tonic::{Request, Response, Status};

use super::convert;
use crate::{
    admin::PageRequest,
    catalog::{Catalog, KIND_CUSTOM, KIND_STANDARD, NewSectionInput, SectionChanges},
    domain::{
        AccessError,
        sections::{Configuration, StandardSection},
        valid_code,
    },
    storage::{
        self,
        catalog::{ConfigurationRow, PortalObjectRow, SectionRow},
    },
};

/// The adapter of the catalog services.
#[derive(Clone, Debug)]
pub struct CatalogApi {
    pub catalog: Catalog,
}

fn user<T>(request: &Request<T>) -> Result<Caller, Status> {
    Ok(Caller::user_of(request)?.clone())
}

fn err(error: AccessError) -> Status {
    ApiError::from(error).into()
}

fn text(field: &str, value: &str, max: usize) -> Result<(), AccessError> {
    if value.trim().is_empty() || value.chars().count() > max {
        Err(AccessError::invalid(field, format!("is required: 1 to {max} characters")))
    } else {
        Ok(())
    }
}

fn object(row: &PortalObjectRow) -> pb::PortalObject {
    pb::PortalObject {
        id: row.id.clone(),
        code: row.code.clone(),
        display_name: row.display_name.clone(),
        record_permissions_enabled: row.record_permissions_enabled,
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

fn configuration(row: &ConfigurationRow) -> Option<pb::PortalConfiguration> {
    let kind = Configuration::from_id(&row.id)?;
    Some(pb::PortalConfiguration {
        id: row.id.clone(),
        r#type: kind as i32,
        enabled: row.enabled,
        standard_sections: kind.standard_sections().iter().map(|s| *s as i32).collect(),
        max_custom_sections: kind.max_custom_sections() as i32,
        custom_section_count: row.custom_section_count as i32,
        max_section_page_objects: kind.max_page_objects() as i32,
        etag: storage::etag(row.version),
        update_time: convert::time(row.updated_at),
    })
}

pub(super) fn section(row: &SectionRow) -> pb::Section {
    let limit = Configuration::from_id(&row.configuration_id).map_or(0, |c| c.max_page_objects());
    pb::Section {
        id: row.id.clone(),
        kind: row.kind.into(),
        standard_section: row.standard_section.into(),
        configuration_id: row.configuration_id.clone(),
        code: row.code.clone(),
        title: row.title.clone(),
        primary_object_code: row.primary_object_code.clone(),
        page_object_codes: row.page_object_codes.clone(),
        page_object_count: row.page_object_count as i32,
        page_object_limit: limit as i32,
        read_only: row.read_only,
        position: row.position as i32,
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

fn page_objects(field: &str, codes: &[String]) -> Result<(), AccessError> {
    if codes.len() > 500 {
        return Err(AccessError::invalid(field, "at most 500 page objects"));
    }
    for (index, code) in codes.iter().enumerate() {
        valid_code(code, 128).map_err(|problem| AccessError::invalid(format!("{field}[{index}]"), problem))?;
    }
    Ok(())
}

#[tonic::async_trait]
impl PortalObjectService for CatalogApi {
    async fn get_portal_object(
        &self,
        request: Request<pb::GetPortalObjectRequest>,
    ) -> Result<Response<pb::PortalObject>, Status> {
        let caller = user(&request)?;
        Ok(Response::new(object(
            &self.catalog.get_object(&caller, validate::id("id", &request.get_ref().id)?).await.map_err(err)?,
        )))
    }

    async fn list_portal_objects(
        &self,
        request: Request<pb::ListPortalObjectsRequest>,
    ) -> Result<Response<pb::ListPortalObjectsResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let (rows, next_page_token) = self.catalog.list_objects(&caller, &r.code, &page).await.map_err(err)?;
        Ok(Response::new(pb::ListPortalObjectsResponse {
            portal_objects: rows.iter().map(object).collect(),
            next_page_token,
        }))
    }

    async fn create_portal_object(
        &self,
        request: Request<pb::CreatePortalObjectRequest>,
    ) -> Result<Response<pb::PortalObject>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let o = r.portal_object.unwrap_or_default();
        valid_code(&o.code, 128).map_err(|problem| err(AccessError::invalid("portal_object.code", problem)))?;
        text("portal_object.display_name", &o.display_name, 200).map_err(err)?;
        let row = self
            .catalog
            .create_object(&caller, o.code, o.display_name, o.record_permissions_enabled, request_id)
            .await
            .map_err(err)?;
        Ok(Response::new(object(&row)))
    }

    async fn update_portal_object(
        &self,
        request: Request<pb::UpdatePortalObjectRequest>,
    ) -> Result<Response<pb::PortalObject>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let paths = convert::mask_paths(r.update_mask.as_ref(), &["display_name", "record_permissions_enabled"])
            .map_err(err)?;
        let o = r.portal_object.unwrap_or_default();
        let display_name = if paths.contains(&"display_name") {
            text("portal_object.display_name", &o.display_name, 200).map_err(err)?;
            Some(o.display_name)
        } else {
            None
        };
        let flag = paths.contains(&"record_permissions_enabled").then_some(o.record_permissions_enabled);
        let row = self
            .catalog
            .change_object(&caller, validate::id("portal_object.id", &o.id)?, &o.etag, Some((display_name, flag)))
            .await
            .map_err(err)?;
        let row = row.ok_or_else(|| err(AccessError::NotFound("portal object", o.id.clone())))?;
        Ok(Response::new(object(&row)))
    }

    async fn delete_portal_object(
        &self,
        request: Request<pb::DeletePortalObjectRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.catalog.change_object(&caller, validate::id("id", &r.id)?, &r.etag, None).await.map_err(err)?;
        Ok(Response::new(()))
    }
}

fn configuration_id(field: &str, id: &str) -> Result<Configuration, AccessError> {
    Configuration::from_id(id).ok_or_else(|| {
        AccessError::invalid(field, "must be \"self-service\", \"customer-portal\" or \"partner-portal\"")
    })
}

#[tonic::async_trait]
impl PortalSectionService for CatalogApi {
    async fn get_portal_configuration(
        &self,
        request: Request<pb::GetPortalConfigurationRequest>,
    ) -> Result<Response<pb::PortalConfiguration>, Status> {
        user(&request)?;
        let id = validate::id("id", &request.get_ref().id)?;
        let rows = self.catalog.configurations().await.map_err(err)?;
        rows.iter()
            .find(|row| row.id == *id)
            .and_then(configuration)
            .map(Response::new)
            .ok_or_else(|| err(AccessError::NotFound("portal configuration", id.to_owned())))
    }

    async fn list_portal_configurations(
        &self,
        request: Request<pb::ListPortalConfigurationsRequest>,
    ) -> Result<Response<pb::ListPortalConfigurationsResponse>, Status> {
        user(&request)?;
        let rows = self.catalog.configurations().await.map_err(err)?;
        let mut configurations: Vec<pb::PortalConfiguration> = rows.iter().filter_map(configuration).collect();
        configurations.sort_by_key(|c| c.r#type);
        Ok(Response::new(pb::ListPortalConfigurationsResponse {
            portal_configurations: configurations,
            next_page_token: String::new(),
        }))
    }

    async fn update_portal_configuration(
        &self,
        request: Request<pb::UpdatePortalConfigurationRequest>,
    ) -> Result<Response<pb::PortalConfiguration>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        convert::mask_paths(r.update_mask.as_ref(), &["enabled"]).map_err(err)?;
        let c = r.portal_configuration.unwrap_or_default();
        let kind = Configuration::from_id(validate::id("portal_configuration.id", &c.id)?)
            .ok_or_else(|| err(AccessError::NotFound("portal configuration", c.id.clone())))?;
        let row = self.catalog.set_configuration_enabled(&caller, kind, &c.etag, c.enabled).await.map_err(err)?;
        configuration(&row).map(Response::new).ok_or_else(|| err(AccessError::NotFound("portal configuration", c.id)))
    }

    async fn get_section(&self, request: Request<pb::GetSectionRequest>) -> Result<Response<pb::Section>, Status> {
        let caller = user(&request)?;
        Ok(Response::new(section(
            &self.catalog.get_section(&caller, validate::id("id", &request.get_ref().id)?).await.map_err(err)?,
        )))
    }

    async fn list_sections(
        &self,
        request: Request<pb::ListSectionsRequest>,
    ) -> Result<Response<pb::ListSectionsResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        validate::optional_id("configuration_id", &r.configuration_id)?;
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let (rows, next_page_token) =
            self.catalog.list_sections(&caller, &r.configuration_id, r.kind as i16, &page).await.map_err(err)?;
        Ok(Response::new(pb::ListSectionsResponse { sections: rows.iter().map(section).collect(), next_page_token }))
    }

    async fn create_section(
        &self,
        request: Request<pb::CreateSectionRequest>,
    ) -> Result<Response<pb::Section>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let s = r.section.unwrap_or_default();
        let configuration = configuration_id("section.configuration_id", &s.configuration_id).map_err(err)?;
        text("section.title", &s.title, 100).map_err(err)?;
        page_objects("section.page_object_codes", &s.page_object_codes).map_err(err)?;
        let standard = match (s.kind as i16, StandardSection::from_i32(s.standard_section)) {
            (KIND_STANDARD, Some(standard)) => Some(standard),
            (KIND_STANDARD, None) => {
                return Err(err(AccessError::invalid(
                    "section.standard_section",
                    "is required for a standard section",
                )));
            }
            (KIND_CUSTOM, None) => {
                valid_code(&s.code, 64).map_err(|problem| err(AccessError::invalid("section.code", problem)))?;
                valid_code(&s.primary_object_code, 128)
                    .map_err(|problem| err(AccessError::invalid("section.primary_object_code", problem)))?;
                None
            }
            (KIND_CUSTOM, Some(_)) => {
                return Err(err(AccessError::invalid(
                    "section.standard_section",
                    "must be unset for a custom section",
                )));
            }
            _ => return Err(err(AccessError::invalid("section.kind", "is required: STANDARD or CUSTOM"))),
        };
        let input = NewSectionInput {
            standard,
            configuration,
            code: s.code,
            title: s.title,
            primary_object_code: s.primary_object_code,
            page_object_codes: s.page_object_codes,
            position: i64::from(s.position),
        };
        let row = self.catalog.create_section(&caller, input, request_id).await.map_err(err)?;
        Ok(Response::new(section(&row)))
    }

    async fn update_section(
        &self,
        request: Request<pb::UpdateSectionRequest>,
    ) -> Result<Response<pb::Section>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let paths = convert::mask_paths(
            r.update_mask.as_ref(),
            &["title", "position", "page_object_codes", "primary_object_code"],
        )
        .map_err(err)?;
        let s = r.section.unwrap_or_default();
        let mut changes = SectionChanges::default();
        for path in paths {
            match path {
                "title" => {
                    text("section.title", &s.title, 100).map_err(err)?;
                    changes.title = Some(s.title.clone());
                }
                "position" => changes.position = Some(i64::from(s.position)),
                "page_object_codes" => {
                    page_objects("section.page_object_codes", &s.page_object_codes).map_err(err)?;
                    changes.page_object_codes = Some(s.page_object_codes.clone());
                }
                _ => {
                    valid_code(&s.primary_object_code, 128)
                        .map_err(|problem| err(AccessError::invalid("section.primary_object_code", problem)))?;
                    changes.primary_object_code = Some(s.primary_object_code.clone());
                }
            }
        }
        let row = self
            .catalog
            .change_section(&caller, validate::id("section.id", &s.id)?, &s.etag, Some(changes))
            .await
            .map_err(err)?;
        let row = row.ok_or_else(|| err(AccessError::NotFound("section", s.id.clone())))?;
        Ok(Response::new(section(&row)))
    }

    async fn delete_section(&self, request: Request<pb::DeleteSectionRequest>) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.catalog.change_section(&caller, validate::id("id", &r.id)?, &r.etag, None).await.map_err(err)?;
        Ok(Response::new(()))
    }
}
