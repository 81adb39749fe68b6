//! Service catalog use cases: services with their category and SLA times.

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    case_access,
    domain::CaseError,
    storage::{ServiceRecord, Store, catalog::ServiceFilter},
};

/// The settable fields of a service.
#[derive(Debug, Clone, Default)]
pub struct ServiceFields {
    pub name: String,
    pub description: String,
    pub category: String,
    pub response_time_minutes: i64,
    pub resolution_time_minutes: i64,
    pub active: bool,
}

/// The catalog's use cases.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub store: Store,
    pub clock: Clock,
}

/// Refuses callers who may not change reference data.
pub fn require_manager(caller: &Caller, what: &str) -> Result<(), CaseError> {
    if case_access::may_manage_reference_data(caller) {
        Ok(())
    } else {
        Err(CaseError::PermissionDenied { message: format!("only staff may change {what}") })
    }
}

/// The stored version an etag names; `None` for an empty etag.
pub fn expected_version(etag: &str, resource: &'static str) -> Result<Option<i64>, CaseError> {
    if etag.is_empty() {
        return Ok(None);
    }
    etag.parse().map(Some).map_err(|_| CaseError::StaleEtag { resource })
}

impl Catalog {
    fn not_found(id: &str) -> CaseError {
        CaseError::NotFound { resource: "service item", id: id.to_owned() }
    }

    async fn check_name(&self, fields: &ServiceFields, id: &str) -> Result<(), CaseError> {
        if fields.active && self.store.active_service_named(&fields.name.to_lowercase(), id).await? {
            return Err(CaseError::Api(service_kit::ApiError::AlreadyExists {
                reason: "SERVICE_ITEM_EXISTS",
                message: format!("an active service named '{}' exists; choose another name", fields.name),
            }));
        }
        Ok(())
    }

    pub async fn create(
        &self,
        caller: &Caller,
        fields: ServiceFields,
        request_id: &str,
    ) -> Result<ServiceRecord, CaseError> {
        require_manager(caller, "the service catalog")?;
        if let Some(id) = self.store.created_before(&caller.user_id, "service", request_id).await? {
            return self.store.service(&id).await?.ok_or_else(|| Self::not_found(&id));
        }
        self.check_name(&fields, "").await?;
        let now = self.clock.now();
        let record = ServiceRecord {
            id: secrets::new_id(),
            name_key: fields.name.to_lowercase(),
            name: fields.name,
            description: fields.description,
            category: fields.category,
            response_time_minutes: fields.response_time_minutes,
            resolution_time_minutes: fields.resolution_time_minutes,
            active: i16::from(fields.active),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_service(&record, &caller.user_id, request_id).await?;
        Ok(record)
    }

    /// One service; inactive ones are hidden from portal users.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<ServiceRecord, CaseError> {
        match self.store.service(id).await? {
            Some(service) if service.active != 0 || case_access::is_staff(caller) => Ok(service),
            _ => Err(Self::not_found(id)),
        }
    }

    pub async fn list(&self, caller: &Caller, mut filter: ServiceFilter) -> Result<Vec<ServiceRecord>, CaseError> {
        filter.include_inactive &= case_access::is_staff(caller);
        self.store.list_services(&filter).await
    }

    /// Applies `change` to the current service and writes it if `etag` is current.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        change: impl FnOnce(&mut ServiceFields) -> Result<(), CaseError>,
    ) -> Result<ServiceRecord, CaseError> {
        require_manager(caller, "the service catalog")?;
        let current = self.store.service(id).await?.ok_or_else(|| Self::not_found(id))?;
        let expected = expected_version(etag, "service item")?.unwrap_or(current.version);
        if expected != current.version {
            return Err(CaseError::StaleEtag { resource: "service item" });
        }
        let mut fields = ServiceFields {
            name: current.name.clone(),
            description: current.description.clone(),
            category: current.category.clone(),
            response_time_minutes: current.response_time_minutes,
            resolution_time_minutes: current.resolution_time_minutes,
            active: current.active != 0,
        };
        change(&mut fields)?;
        if fields.resolution_time_minutes < fields.response_time_minutes {
            return Err(CaseError::Api(service_kit::ApiError::invalid(
                "service_item.resolution_time_minutes",
                "must not be less than response_time_minutes",
            )));
        }
        self.check_name(&fields, id).await?;
        let record = ServiceRecord {
            name_key: fields.name.to_lowercase(),
            name: fields.name,
            description: fields.description,
            category: fields.category,
            response_time_minutes: fields.response_time_minutes,
            resolution_time_minutes: fields.resolution_time_minutes,
            active: i16::from(fields.active),
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current
        };
        if !self.store.update_service(&record, expected).await? {
            return Err(CaseError::StaleEtag { resource: "service item" });
        }
        Ok(record)
    }

    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), CaseError> {
        require_manager(caller, "the service catalog")?;
        self.store.service(id).await?.ok_or_else(|| Self::not_found(id))?;
        if self.store.service_in_use(id).await? {
            return Err(CaseError::Precondition {
                reason: "SERVICE_ITEM_IN_USE",
                message: "an agreement or a case names this service; set active to false instead".into(),
            });
        }
        if !self.store.delete_service(id, expected_version(etag, "service item")?).await? {
            return Err(CaseError::StaleEtag { resource: "service item" });
        }
        Ok(())
    }
}
