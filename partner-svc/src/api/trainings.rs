//! `portal.partner.v1.PartnerTrainingService`.

use portal_proto::partner::{self as pb, partner_training_service_server::PartnerTrainingService};
use service_kit::{Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use super::{mask_paths, page_limit, request_id, required};
use crate::{
    domain::lookup,
    storage::{TrainingFilter, TrainingRecord},
    trainings::Trainings,
};

#[derive(Debug, Clone)]
pub struct TrainingApi {
    pub trainings: Trainings,
}

fn kind_to_stored(kind: pb::TrainingKind) -> String {
    match kind {
        pb::TrainingKind::Unspecified => "",
        pb::TrainingKind::Training => "training",
        pb::TrainingKind::Certification => "certification",
    }
    .to_owned()
}

fn training_from_proto(t: pb::PartnerTraining) -> (TrainingRecord, String) {
    let record = TrainingRecord {
        kind: kind_to_stored(t.kind()),
        id: t.id,
        partner_account_id: t.partner_account_id,
        contact_id: t.contact_id,
        title: t.title,
        completion_date: t.completion_date,
        expiry_date: t.expiry_date,
        ..Default::default()
    };
    (record, t.etag)
}

pub(crate) fn training_to_proto(t: TrainingRecord) -> pb::PartnerTraining {
    let kind = if t.kind == "certification" { pb::TrainingKind::Certification } else { pb::TrainingKind::Training };
    pb::PartnerTraining {
        kind: kind.into(),
        etag: lookup::etag(t.version),
        create_time: Some(to_timestamp(t.created_at)),
        update_time: Some(to_timestamp(t.updated_at)),
        id: t.id,
        partner_account_id: t.partner_account_id,
        contact_id: t.contact_id,
        contact_name: t.contact_name,
        title: t.title,
        completion_date: t.completion_date,
        expiry_date: t.expiry_date,
    }
}

#[tonic::async_trait]
impl PartnerTrainingService for TrainingApi {
    async fn create_partner_training(
        &self,
        request: Request<pb::CreatePartnerTrainingRequest>,
    ) -> Result<Response<pb::PartnerTraining>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let (training, _) = training_from_proto(required("partner_training", r.partner_training)?);
        let created = self.trainings.create(&caller, training, request_id(&r.request_id)?).await?;
        Ok(Response::new(training_to_proto(created)))
    }

    async fn get_partner_training(
        &self,
        request: Request<pb::GetPartnerTrainingRequest>,
    ) -> Result<Response<pb::PartnerTraining>, Status> {
        let caller = Caller::user_of(&request)?;
        validate::id("id", &request.get_ref().id)?;
        Ok(Response::new(training_to_proto(self.trainings.get(caller, &request.get_ref().id).await?)))
    }

    async fn list_partner_trainings(
        &self,
        request: Request<pb::ListPartnerTrainingsRequest>,
    ) -> Result<Response<pb::ListPartnerTrainingsResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        let (size, limit) = page_limit(r.page_size)?;
        let filter = TrainingFilter {
            partner_account_id: r.partner_account_id.clone(),
            contact_id: r.contact_id.clone(),
            kind: kind_to_stored(r.kind()),
            valid_on: String::new(),
        };
        let after = paging::text_position(&r.page_token)?;
        let mut rows = self.trainings.list(caller, filter, r.only_valid, after, limit).await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let next_page_token = match rows.last() {
            Some(last) if more => paging::text_token(&last.completion_date, &last.id),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListPartnerTrainingsResponse {
            partner_trainings: rows.into_iter().map(training_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_partner_training(
        &self,
        request: Request<pb::UpdatePartnerTrainingRequest>,
    ) -> Result<Response<pb::PartnerTraining>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let (patch, etag) = training_from_proto(required("partner_training", r.partner_training)?);
        validate::id("partner_training.id", &patch.id)?;
        let updated = self.trainings.update(&caller, patch, &etag, &mask_paths(r.update_mask)).await?;
        Ok(Response::new(training_to_proto(updated)))
    }

    async fn delete_partner_training(
        &self,
        request: Request<pb::DeletePartnerTrainingRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        validate::id("id", &r.id)?;
        self.trainings.delete(caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }
}
