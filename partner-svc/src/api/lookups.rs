//! `portal.partner.v1.PartnerLookupService`: the 25 lookup rpcs, each a conversion
//! around the generic lookup use cases. [`Wire`] is all that differs per kind.

use portal_proto::partner::{self as pb, partner_lookup_service_server::PartnerLookupService};
use service_kit::{Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use super::{mask_paths, page_limit, request_id, required};
use crate::{
    domain::lookup::{Role, Source, Unit},
    lookups::{LookupKind, Lookups},
    storage::{
        LevelParameterRecord, LookupRow, ParameterCategoryRecord, ParameterTypeRecord, PartnerLevelRecord,
        PartnerTypeRecord, Value,
    },
};

#[derive(Debug, Clone)]
pub struct LookupApi {
    pub lookups: Lookups,
}

/// A lookup kind's message.
trait Wire: LookupKind {
    type Message: Send;

    /// The row the message describes, and the etag it carries.
    fn from_message(message: Self::Message) -> (Self, String);
    fn to_message(self) -> Self::Message;
}

fn row(id: String, description: String) -> LookupRow {
    LookupRow { id, description, ..Default::default() }
}

macro_rules! common_out {
    ($r:expr) => {{
        let r = &$r.row;
        (r.is_base(), r.etag(), Some(to_timestamp(r.created_at)), Some(to_timestamp(r.updated_at)))
    }};
}

fn source_to_stored(source: pb::ParameterSource) -> String {
    let source = match source {
        pb::ParameterSource::Unspecified => return String::new(),
        pb::ParameterSource::None => Source::None,
        pb::ParameterSource::LeadsRegistered => Source::LeadsRegistered,
        pb::ParameterSource::OpportunitiesWon => Source::OpportunitiesWon,
        pb::ParameterSource::OpportunityWonAmount => Source::OpportunityWonAmount,
        pb::ParameterSource::CertifiedExperts => Source::CertifiedExperts,
        pb::ParameterSource::TrainingsCompleted => Source::TrainingsCompleted,
    };
    source.stored().to_owned()
}

fn source_from_stored(stored: &str) -> pb::ParameterSource {
    match Source::from_stored(stored) {
        Ok(Source::None) => pb::ParameterSource::None,
        Ok(Source::LeadsRegistered) => pb::ParameterSource::LeadsRegistered,
        Ok(Source::OpportunitiesWon) => pb::ParameterSource::OpportunitiesWon,
        Ok(Source::OpportunityWonAmount) => pb::ParameterSource::OpportunityWonAmount,
        Ok(Source::CertifiedExperts) => pb::ParameterSource::CertifiedExperts,
        Ok(Source::TrainingsCompleted) => pb::ParameterSource::TrainingsCompleted,
        Err(_) => pb::ParameterSource::Unspecified,
    }
}

pub(crate) fn unit_to_proto(unit: Unit) -> pb::ParameterUnit {
    match unit {
        Unit::Count => pb::ParameterUnit::Count,
        Unit::Amount => pb::ParameterUnit::Amount,
        Unit::Percent => pb::ParameterUnit::Percent,
        Unit::Text => pb::ParameterUnit::Text,
    }
}

fn unit_to_stored(unit: pb::ParameterUnit) -> String {
    match unit {
        pb::ParameterUnit::Unspecified => String::new(),
        pb::ParameterUnit::Count => Unit::Count.stored().into(),
        pb::ParameterUnit::Amount => Unit::Amount.stored().into(),
        pb::ParameterUnit::Percent => Unit::Percent.stored().into(),
        pb::ParameterUnit::Text => Unit::Text.stored().into(),
    }
}

fn role_to_stored(role: pb::ParameterRole) -> String {
    match role {
        pb::ParameterRole::Unspecified => String::new(),
        pb::ParameterRole::Obligation => Role::Obligation.stored().into(),
        pb::ParameterRole::Benefit => Role::Benefit.stored().into(),
    }
}

fn role_from_stored(stored: &str) -> pb::ParameterRole {
    match Role::from_stored(stored) {
        Ok(Role::Obligation) => pb::ParameterRole::Obligation,
        Ok(Role::Benefit) => pb::ParameterRole::Benefit,
        Err(_) => pb::ParameterRole::Unspecified,
    }
}

impl Wire for PartnerTypeRecord {
    type Message = pb::PartnerType;

    fn from_message(m: pb::PartnerType) -> (Self, String) {
        (Self { row: row(m.id, m.description), name: m.name }, m.etag)
    }

    fn to_message(self) -> pb::PartnerType {
        let (base, etag, create_time, update_time) = common_out!(self);
        pb::PartnerType {
            id: self.row.id,
            name: self.name,
            description: self.row.description,
            base,
            etag,
            create_time,
            update_time,
        }
    }
}

impl Wire for PartnerLevelRecord {
    type Message = pb::PartnerLevel;

    fn from_message(m: pb::PartnerLevel) -> (Self, String) {
        let record = Self {
            row: row(m.id, m.description),
            partner_type_id: m.partner_type_id,
            name: m.name,
            target_points: m.target_points,
            level_order: i64::from(m.order),
        };
        (record, m.etag)
    }

    fn to_message(self) -> pb::PartnerLevel {
        let (base, etag, create_time, update_time) = common_out!(self);
        pb::PartnerLevel {
            id: self.row.id,
            partner_type_id: self.partner_type_id,
            name: self.name,
            target_points: self.target_points,
            order: i32::try_from(self.level_order).unwrap_or(i32::MAX),
            description: self.row.description,
            base,
            etag,
            create_time,
            update_time,
        }
    }
}

impl Wire for ParameterCategoryRecord {
    type Message = pb::ParameterCategory;

    fn from_message(m: pb::ParameterCategory) -> (Self, String) {
        let record = Self {
            source: source_to_stored(m.source()),
            unit: unit_to_stored(m.unit()),
            row: row(m.id, m.description),
            name: m.name,
        };
        (record, m.etag)
    }

    fn to_message(self) -> pb::ParameterCategory {
        let (base, etag, create_time, update_time) = common_out!(self);
        pb::ParameterCategory {
            source: source_from_stored(&self.source).into(),
            unit: Unit::from_stored(&self.unit).map(unit_to_proto).unwrap_or_default().into(),
            id: self.row.id,
            name: self.name,
            description: self.row.description,
            base,
            etag,
            create_time,
            update_time,
        }
    }
}

impl Wire for ParameterTypeRecord {
    type Message = pb::ParameterType;

    fn from_message(m: pb::ParameterType) -> (Self, String) {
        (Self { role: role_to_stored(m.role()), row: row(m.id, String::new()), name: m.name }, m.etag)
    }

    fn to_message(self) -> pb::ParameterType {
        let (base, etag, create_time, update_time) = common_out!(self);
        pb::ParameterType {
            role: role_from_stored(&self.role).into(),
            id: self.row.id,
            name: self.name,
            base,
            etag,
            create_time,
            update_time,
        }
    }
}

impl Wire for LevelParameterRecord {
    type Message = pb::LevelParameter;

    fn from_message(m: pb::LevelParameter) -> (Self, String) {
        let record = Self {
            row: row(m.id, m.description),
            partner_level_id: m.partner_level_id,
            partner_type_id: String::new(),
            parameter_category_id: m.parameter_category_id,
            parameter_type_id: m.parameter_type_id,
            target_value: m.target_value,
            points: m.points,
            benefit_value: m.benefit_value,
        };
        (record, m.etag)
    }

    fn to_message(self) -> pb::LevelParameter {
        let (base, etag, create_time, update_time) = common_out!(self);
        pb::LevelParameter {
            id: self.row.id,
            partner_level_id: self.partner_level_id,
            partner_type_id: self.partner_type_id,
            parameter_category_id: self.parameter_category_id,
            parameter_type_id: self.parameter_type_id,
            target_value: self.target_value,
            points: self.points,
            benefit_value: self.benefit_value,
            description: self.row.description,
            base,
            etag,
            create_time,
            update_time,
        }
    }
}

impl LookupApi {
    async fn create<T: Wire>(
        &self,
        request: &Request<impl Send>,
        message: Option<T::Message>,
        request_id_: &str,
    ) -> Result<Response<T::Message>, Status> {
        let caller = Caller::user_of(request)?;
        let (draft, _) = T::from_message(required(T::FIELD, message)?);
        let created = self.lookups.create::<T>(caller, draft, request_id(request_id_)?).await?;
        Ok(Response::new(created.to_message()))
    }

    async fn get<T: Wire>(&self, request: &Request<impl Send>, id: &str) -> Result<Response<T::Message>, Status> {
        let caller = Caller::user_of(request)?;
        validate::id("id", id)?;
        Ok(Response::new(self.lookups.get::<T>(caller, id).await?.to_message()))
    }

    /// A page of rows meeting `conditions`, and the next page token.
    async fn list<T: Wire>(
        &self,
        request: &Request<impl Send>,
        conditions: &[(&str, Value)],
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<T::Message>, String), Status> {
        let caller = Caller::user_of(request)?;
        let (size, limit) = page_limit(page_size)?;
        let after = paging::text_position(page_token)?;
        let mut rows = self.lookups.list::<T>(caller, conditions, after, limit).await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let next = match rows.last() {
            Some(last) if more => paging::text_token(&last.sort_key(), &last.row().id),
            _ => String::new(),
        };
        Ok((rows.into_iter().map(T::to_message).collect(), next))
    }

    async fn update<T: Wire>(
        &self,
        request: &Request<impl Send>,
        message: Option<T::Message>,
        mask: Option<prost_types::FieldMask>,
    ) -> Result<Response<T::Message>, Status> {
        let caller = Caller::user_of(request)?;
        let (patch, etag) = T::from_message(required(T::FIELD, message)?);
        validate::id(&format!("{}.id", T::FIELD), &patch.row().id)?;
        let updated = self.lookups.update::<T>(caller, patch, &etag, &mask_paths(mask)).await?;
        Ok(Response::new(updated.to_message()))
    }

    async fn delete<T: Wire>(
        &self,
        request: &Request<impl Send>,
        id: &str,
        etag: &str,
    ) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(request)?;
        validate::id("id", id)?;
        self.lookups.delete::<T>(caller, id, etag).await?;
        Ok(Response::new(()))
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// Equality conditions for the non-empty filters.
fn equal<'a>(filters: &[(&'a str, &str)]) -> Vec<(&'a str, Value)> {
    filters.iter().filter(|(_, v)| !v.is_empty()).map(|(c, v)| (*c, text(v))).collect()
}

#[tonic::async_trait]
impl PartnerLookupService for LookupApi {
    async fn create_partner_type(
        &self,
        request: Request<pb::CreatePartnerTypeRequest>,
    ) -> Result<Response<pb::PartnerType>, Status> {
        let message = request.get_ref().partner_type.clone();
        self.create::<PartnerTypeRecord>(&request, message, &request.get_ref().request_id).await
    }

    async fn get_partner_type(
        &self,
        request: Request<pb::GetPartnerTypeRequest>,
    ) -> Result<Response<pb::PartnerType>, Status> {
        self.get::<PartnerTypeRecord>(&request, &request.get_ref().id).await
    }

    async fn list_partner_types(
        &self,
        request: Request<pb::ListPartnerTypesRequest>,
    ) -> Result<Response<pb::ListPartnerTypesResponse>, Status> {
        let r = request.get_ref();
        let (partner_types, next_page_token) =
            self.list::<PartnerTypeRecord>(&request, &[], r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListPartnerTypesResponse { partner_types, next_page_token }))
    }

    async fn update_partner_type(
        &self,
        request: Request<pb::UpdatePartnerTypeRequest>,
    ) -> Result<Response<pb::PartnerType>, Status> {
        let r = request.get_ref().clone();
        self.update::<PartnerTypeRecord>(&request, r.partner_type, r.update_mask).await
    }

    async fn delete_partner_type(
        &self,
        request: Request<pb::DeletePartnerTypeRequest>,
    ) -> Result<Response<()>, Status> {
        let r = request.get_ref();
        self.delete::<PartnerTypeRecord>(&request, &r.id, &r.etag).await
    }

    async fn create_partner_level(
        &self,
        request: Request<pb::CreatePartnerLevelRequest>,
    ) -> Result<Response<pb::PartnerLevel>, Status> {
        let message = request.get_ref().partner_level.clone();
        self.create::<PartnerLevelRecord>(&request, message, &request.get_ref().request_id).await
    }

    async fn get_partner_level(
        &self,
        request: Request<pb::GetPartnerLevelRequest>,
    ) -> Result<Response<pb::PartnerLevel>, Status> {
        self.get::<PartnerLevelRecord>(&request, &request.get_ref().id).await
    }

    async fn list_partner_levels(
        &self,
        request: Request<pb::ListPartnerLevelsRequest>,
    ) -> Result<Response<pb::ListPartnerLevelsResponse>, Status> {
        let r = request.get_ref();
        let conditions = equal(&[("partner_type_id = {}", &r.partner_type_id)]);
        let (partner_levels, next_page_token) =
            self.list::<PartnerLevelRecord>(&request, &conditions, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListPartnerLevelsResponse { partner_levels, next_page_token }))
    }

    async fn update_partner_level(
        &self,
        request: Request<pb::UpdatePartnerLevelRequest>,
    ) -> Result<Response<pb::PartnerLevel>, Status> {
        let r = request.get_ref().clone();
        self.update::<PartnerLevelRecord>(&request, r.partner_level, r.update_mask).await
    }

    async fn delete_partner_level(
        &self,
        request: Request<pb::DeletePartnerLevelRequest>,
    ) -> Result<Response<()>, Status> {
        let r = request.get_ref();
        self.delete::<PartnerLevelRecord>(&request, &r.id, &r.etag).await
    }

    async fn create_parameter_category(
        &self,
        request: Request<pb::CreateParameterCategoryRequest>,
    ) -> Result<Response<pb::ParameterCategory>, Status> {
        let message = request.get_ref().parameter_category.clone();
        self.create::<ParameterCategoryRecord>(&request, message, &request.get_ref().request_id).await
    }

    async fn get_parameter_category(
        &self,
        request: Request<pb::GetParameterCategoryRequest>,
    ) -> Result<Response<pb::ParameterCategory>, Status> {
        self.get::<ParameterCategoryRecord>(&request, &request.get_ref().id).await
    }

    async fn list_parameter_categories(
        &self,
        request: Request<pb::ListParameterCategoriesRequest>,
    ) -> Result<Response<pb::ListParameterCategoriesResponse>, Status> {
        let r = request.get_ref();
        let (parameter_categories, next_page_token) =
            self.list::<ParameterCategoryRecord>(&request, &[], r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListParameterCategoriesResponse { parameter_categories, next_page_token }))
    }

    async fn update_parameter_category(
        &self,
        request: Request<pb::UpdateParameterCategoryRequest>,
    ) -> Result<Response<pb::ParameterCategory>, Status> {
        let r = request.get_ref().clone();
        self.update::<ParameterCategoryRecord>(&request, r.parameter_category, r.update_mask).await
    }

    async fn delete_parameter_category(
        &self,
        request: Request<pb::DeleteParameterCategoryRequest>,
    ) -> Result<Response<()>, Status> {
        let r = request.get_ref();
        self.delete::<ParameterCategoryRecord>(&request, &r.id, &r.etag).await
    }

    async fn create_parameter_type(
        &self,
        request: Request<pb::CreateParameterTypeRequest>,
    ) -> Result<Response<pb::ParameterType>, Status> {
        let message = request.get_ref().parameter_type.clone();
        self.create::<ParameterTypeRecord>(&request, message, &request.get_ref().request_id).await
    }

    async fn get_parameter_type(
        &self,
        request: Request<pb::GetParameterTypeRequest>,
    ) -> Result<Response<pb::ParameterType>, Status> {
        self.get::<ParameterTypeRecord>(&request, &request.get_ref().id).await
    }

    async fn list_parameter_types(
        &self,
        request: Request<pb::ListParameterTypesRequest>,
    ) -> Result<Response<pb::ListParameterTypesResponse>, Status> {
        let r = request.get_ref();
        let (parameter_types, next_page_token) =
            self.list::<ParameterTypeRecord>(&request, &[], r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListParameterTypesResponse { parameter_types, next_page_token }))
    }

    async fn update_parameter_type(
        &self,
        request: Request<pb::UpdateParameterTypeRequest>,
    ) -> Result<Response<pb::ParameterType>, Status> {
        let r = request.get_ref().clone();
        self.update::<ParameterTypeRecord>(&request, r.parameter_type, r.update_mask).await
    }

    async fn delete_parameter_type(
        &self,
        request: Request<pb::DeleteParameterTypeRequest>,
    ) -> Result<Response<()>, Status> {
        let r = request.get_ref();
        self.delete::<ParameterTypeRecord>(&request, &r.id, &r.etag).await
    }

    async fn create_level_parameter(
        &self,
        request: Request<pb::CreateLevelParameterRequest>,
    ) -> Result<Response<pb::LevelParameter>, Status> {
        let message = request.get_ref().level_parameter.clone();
        self.create::<LevelParameterRecord>(&request, message, &request.get_ref().request_id).await
    }

    async fn get_level_parameter(
        &self,
        request: Request<pb::GetLevelParameterRequest>,
    ) -> Result<Response<pb::LevelParameter>, Status> {
        self.get::<LevelParameterRecord>(&request, &request.get_ref().id).await
    }

    async fn list_level_parameters(
        &self,
        request: Request<pb::ListLevelParametersRequest>,
    ) -> Result<Response<pb::ListLevelParametersResponse>, Status> {
        let r = request.get_ref();
        let mut conditions =
            equal(&[("partner_type_id = {}", &r.partner_type_id), ("partner_level_id = {}", &r.partner_level_id)]);
        let role = role_to_stored(r.role());
        if !role.is_empty() {
            conditions.push(("parameter_type_id IN (SELECT id FROM parameter_types WHERE role = {})", text(&role)));
        }
        let (level_parameters, next_page_token) =
            self.list::<LevelParameterRecord>(&request, &conditions, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListLevelParametersResponse { level_parameters, next_page_token }))
    }

    async fn update_level_parameter(
        &self,
        request: Request<pb::UpdateLevelParameterRequest>,
    ) -> Result<Response<pb::LevelParameter>, Status> {
        let r = request.get_ref().clone();
        self.update::<LevelParameterRecord>(&request, r.level_parameter, r.update_mask).await
    }

    async fn delete_level_parameter(
        &self,
        request: Request<pb::DeleteLevelParameterRequest>,
    ) -> Result<Response<()>, Status> {
        let r = request.get_ref();
        self.delete::<LevelParameterRecord>(&request, &r.id, &r.etag).await
    }
}
