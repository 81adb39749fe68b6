//! `portal.identity.v1.ProvisioningService` and `ContactService`: what CRM workflows call
//! when a contact changes.

use portal_proto::identity::{
    self as pb, contact_service_server::ContactService, provisioning_service_server::ProvisioningService,
};
use service_kit::{ApiError, Caller, clock::to_timestamp};
use tonic::{Request, Response, Status};

use crate::{
    api::users::to_proto as user_to_proto,
    provisioning::{PortalAccess, Provisioning},
    storage::ContactRecord,
};

#[derive(Debug, Clone)]
pub struct ProvisioningApi {
    pub provisioning: Provisioning,
}

fn contact_to_proto(contact: ContactRecord) -> pb::Contact {
    pb::Contact {
        id: contact.id,
        full_name: contact.full_name,
        email: contact.email,
        account_id: contact.account_id.unwrap_or_default(),
        create_time: Some(to_timestamp(contact.created_at)),
        update_time: Some(to_timestamp(contact.updated_at)),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl ProvisioningService for ProvisioningApi {
    async fn upsert_portal_access(
        &self,
        request: Request<pb::UpsertPortalAccessRequest>,
    ) -> Result<Response<pb::UpsertPortalAccessResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let provisioned = self
            .provisioning
            .upsert(
                &caller,
                PortalAccess {
                    contact_id: r.contact_id,
                    active: r.active,
                    role_ids: r.role_ids,
                    organization_administrator: r.organization_administrator,
                    licence_product_id: r.licence_product_id,
                    send_invitation: r.send_invitation,
                },
            )
            .await?;
        Ok(Response::new(pb::UpsertPortalAccessResponse {
            user: Some(user_to_proto(provisioned.user)),
            created: provisioned.created,
            changed: provisioned.changed,
            invitation_id: String::new(),
        }))
    }

    async fn remove_portal_access(
        &self,
        request: Request<pb::RemovePortalAccessRequest>,
    ) -> Result<Response<pb::RemovePortalAccessResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let removed = self.provisioning.remove(&caller, &request.into_inner().contact_id).await?;
        Ok(Response::new(pb::RemovePortalAccessResponse {
            removed: removed.is_some(),
            user_id: removed.unwrap_or_default(),
        }))
    }
}

#[tonic::async_trait]
impl ContactService for ProvisioningApi {
    async fn create_contact(
        &self,
        request: Request<pb::CreateContactRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let contact = request.into_inner().contact.ok_or_else(|| ApiError::invalid("contact", "is required"))?;
        let created =
            self.provisioning.create_contact(&caller, &contact.full_name, &contact.email, &contact.account_id).await?;
        Ok(Response::new(contact_to_proto(created)))
    }

    async fn get_contact(&self, request: Request<pb::GetContactRequest>) -> Result<Response<pb::Contact>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        if id.is_empty() {
            return Err(ApiError::invalid("id", "is required").into());
        }
        Ok(Response::new(contact_to_proto(self.provisioning.contact(&caller, &id).await?)))
    }
}
