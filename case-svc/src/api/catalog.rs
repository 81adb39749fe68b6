//! `portal.case.v1.ServiceCatalogService`.

use portal_proto::case::{self as pb, service_catalog_service_server::ServiceCatalogService};
use service_kit::{ApiError, error::Violations, paging, validate};
use tonic::{Request, Response, Status};

use super::convert::{caller, category_to_store, check_length, check_request_id, mask_paths, service_to_proto, status};
use crate::{
    api::convert::invalid,
    catalog::{Catalog, ServiceFields},
    storage::catalog::ServiceFilter,
};

#[derive(Debug, Clone)]
pub struct CatalogApi {
    pub catalog: Catalog,
}

const MAX_MINUTES: i64 = 525_600;

/// Checks every field of a service.
fn check(service: &pb::ServiceItem) -> Result<&'static str, Status> {
    let mut violations = Violations::new();
    check_length(&mut violations, "service_item.name", &service.name, 1, 250);
    check_length(&mut violations, "service_item.description", &service.description, 0, 4000);
    let category = category_to_store(service.category);
    if category.is_none() {
        violations.add("service_item.category", "is required: incident, service request or consultation");
    }
    for (field, value) in [
        ("service_item.response_time_minutes", service.response_time_minutes),
        ("service_item.resolution_time_minutes", service.resolution_time_minutes),
    ] {
        if !(1..=MAX_MINUTES).contains(&value) {
            violations.add(field, "must be between 1 and 525,600 minutes");
        }
    }
    if service.resolution_time_minutes < service.response_time_minutes {
        violations.add("service_item.resolution_time_minutes", "must not be less than response_time_minutes");
    }
    violations.finish()?;
    Ok(category.unwrap_or_default())
}

#[tonic::async_trait]
impl ServiceCatalogService for CatalogApi {
    async fn create_service_item(
        &self,
        request: Request<pb::CreateServiceItemRequest>,
    ) -> Result<Response<pb::ServiceItem>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        check_request_id(&request.request_id)?;
        let service = request.service_item.ok_or_else(|| ApiError::invalid("service_item", "is required"))?;
        let category = check(&service)?;
        let fields = ServiceFields {
            name: service.name.trim().to_owned(),
            description: service.description,
            category: category.into(),
            response_time_minutes: service.response_time_minutes,
            resolution_time_minutes: service.resolution_time_minutes,
            active: true,
        };
        let created = self.catalog.create(&caller, fields, &request.request_id).await.map_err(status)?;
        Ok(Response::new(service_to_proto(created)))
    }

    async fn get_service_item(
        &self,
        request: Request<pb::GetServiceItemRequest>,
    ) -> Result<Response<pb::ServiceItem>, Status> {
        let caller = caller(&request)?;
        validate::id("id", &request.get_ref().id)?;
        let service = self.catalog.get(&caller, &request.get_ref().id).await.map_err(status)?;
        Ok(Response::new(service_to_proto(service)))
    }

    async fn list_service_items(
        &self,
        request: Request<pb::ListServiceItemsRequest>,
    ) -> Result<Response<pb::ListServiceItemsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let limit = paging::page_size(request.page_size)?;
        let mut categories = Vec::new();
        for value in &request.categories {
            categories.push(
                category_to_store(*value)
                    .ok_or_else(|| ApiError::invalid("categories", "unspecified category"))?
                    .into(),
            );
        }
        let filter = ServiceFilter {
            categories,
            include_inactive: request.include_inactive,
            name_contains: request.name_contains,
            after: paging::text_position(&request.page_token)?,
            limit: limit + 1,
        };
        let mut services = self.catalog.list(&caller, filter).await.map_err(status)?;
        let next_page_token = if services.len() as i64 > limit {
            services.truncate(limit as usize);
            services.last().map(|s| paging::text_token(&s.name_key, &s.id)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListServiceItemsResponse {
            service_items: services.into_iter().map(service_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_service_item(
        &self,
        request: Request<pb::UpdateServiceItemRequest>,
    ) -> Result<Response<pb::ServiceItem>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let service = request.service_item.ok_or_else(|| ApiError::invalid("service_item", "is required"))?;
        validate::id("service_item.id", &service.id)?;
        let paths = mask_paths(
            request.update_mask,
            &["name", "description", "category", "response_time_minutes", "resolution_time_minutes", "active"],
        )?;
        let updated = self
            .catalog
            .update(&caller, &service.id, &service.etag, |fields| {
                for path in &paths {
                    match path.as_str() {
                        "name" => fields.name = service.name.trim().to_owned(),
                        "description" => fields.description = service.description.clone(),
                        "category" => fields.category = category_to_store(service.category).unwrap_or("").into(),
                        "response_time_minutes" => fields.response_time_minutes = service.response_time_minutes,
                        "resolution_time_minutes" => fields.resolution_time_minutes = service.resolution_time_minutes,
                        _ => fields.active = service.active,
                    }
                }
                let as_proto = pb::ServiceItem {
                    name: fields.name.clone(),
                    description: fields.description.clone(),
                    category: super::convert::category_to_proto(&fields.category).into(),
                    response_time_minutes: fields.response_time_minutes,
                    resolution_time_minutes: fields.resolution_time_minutes,
                    ..Default::default()
                };
                check(&as_proto).map(drop).map_err(invalid)
            })
            .await
            .map_err(status)?;
        Ok(Response::new(service_to_proto(updated)))
    }

    async fn delete_service_item(
        &self,
        request: Request<pb::DeleteServiceItemRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        validate::id("id", &request.id)?;
        self.catalog.delete(&caller, &request.id, &request.etag).await.map_err(status)?;
        Ok(Response::new(()))
    }
}
