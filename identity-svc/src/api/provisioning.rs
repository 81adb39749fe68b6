//! `portal.identity.v1.ProvisioningService`: what CRM workflows call when a contact
//! changes.

use portal_proto::identity::{self as pb, provisioning_service_server::ProvisioningService};
use service_kit::Caller;
use tonic::{Request, Response, Status};

use crate::{
    api::users::to_proto as user_to_proto,
    provisioning::{PortalAccess, Provisioning},
};

#[derive(Debug, Clone)]
pub struct ProvisioningApi {
    pub provisioning: Provisioning,
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
