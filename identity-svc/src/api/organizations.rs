//! `portal.identity.v1.OrganizationService` and `AccountService`: accounts, portal
//! organizations, their administrators and members.

use super::search_text;
use portal_proto::identity::{self as pb, organization_service_server::OrganizationService};
use service_kit::{ApiError, Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use crate::{
    api::users::to_proto as user_to_proto,
    domain::address::{Address, AddressType},
    organizations::{CreateOrganization, OrganizationChanges, OrganizationView, Organizations},
    storage::{OrganizationFilter, UserFilter},
};

#[derive(Debug, Clone)]
pub struct OrganizationApi {
    pub organizations: Organizations,
}

fn organization_to_proto(view: OrganizationView) -> pb::Organization {
    let role = view.role;
    pb::Organization {
        partner: role.parent_id.as_deref() == Some(crate::domain::roles::PARTNERS),
        member_count: view.member_count.try_into().unwrap_or(i32::MAX),
        etag: role.version.to_string(),
        create_time: Some(to_timestamp(role.created_at)),
        update_time: Some(to_timestamp(role.updated_at)),
        id: role.id,
        display_name: role.display_name,
        account_id: role.account_id.unwrap_or_default(),
        parent_role_id: role.parent_id.unwrap_or_default(),
        phone: view.phone,
        addresses: view.addresses.into_iter().map(address_to_proto).collect(),
        default_licence_product_id: role.default_licence_product_id.unwrap_or_default(),
    }
}

pub fn address_to_proto(address: Address) -> pb::Address {
    let kind = match address.r#type {
        Some(AddressType::Actual) => pb::AddressType::Actual,
        Some(AddressType::Legal) => pb::AddressType::Legal,
        Some(AddressType::Shipping) => pb::AddressType::Shipping,
        None => pb::AddressType::Unspecified,
    };
    pb::Address {
        id: address.id,
        r#type: kind.into(),
        primary: address.primary,
        country: address.country,
        region: address.region,
        city: address.city,
        address_line: address.address_line,
        postal_code: address.postal_code,
    }
}

pub fn address_from_proto(address: pb::Address) -> Address {
    let kind = match address.r#type() {
        pb::AddressType::Actual => Some(AddressType::Actual),
        pb::AddressType::Legal => Some(AddressType::Legal),
        pb::AddressType::Shipping => Some(AddressType::Shipping),
        pb::AddressType::Unspecified => None,
    };
    Address {
        id: address.id,
        r#type: kind,
        primary: address.primary,
        country: address.country,
        region: address.region,
        city: address.city,
        address_line: address.address_line,
        postal_code: address.postal_code,
    }
}

fn later(rpc: &str) -> Status {
    Status::unimplemented(format!("{rpc} is not implemented yet (identity issue)"))
}

impl OrganizationApi {
    async fn organization_response(&self, caller: &Caller, id: &str) -> Result<pb::Organization, Status> {
        Ok(organization_to_proto(self.organizations.view(caller, id).await?))
    }
}

#[tonic::async_trait]
impl OrganizationService for OrganizationApi {
    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let organization =
            request.into_inner().organization.ok_or_else(|| ApiError::invalid("organization", "is required"))?;
        let created = self
            .organizations
            .create_organization(
                &caller,
                CreateOrganization {
                    account_id: organization.account_id,
                    display_name: organization.display_name,
                    parent_role_id: organization.parent_role_id,
                    default_licence_product_id: organization.default_licence_product_id,
                },
            )
            .await?;
        Ok(Response::new(self.organization_response(&caller, &created.id).await?))
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(self.organization_response(&caller, &id).await?))
    }

    async fn list_organization_members(
        &self,
        request: Request<pb::ListOrganizationMembersRequest>,
    ) -> Result<Response<pb::ListOrganizationMembersResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("organization_id", &r.organization_id)?;
        search_text(&r.text)?;
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let filter = UserFilter {
            active: r.active,
            organization_administrator: r.organization_administrator,
            role_id: r.role_id,
            text: r.text,
            ..Default::default()
        };
        let mut members =
            self.organizations.members(&caller, &r.organization_id, &filter, after, page_size + 1).await?;
        let next_page_token =
            paging::next_text_page(&mut members, page_size, |m| (m.full_name.as_str(), m.id.as_str()));
        let members = members
            .into_iter()
            .map(|user| pb::OrganizationMember {
                user: Some(user_to_proto(user)),
                latest_invitation_state: 0,
                latest_invitation_time: None,
            })
            .collect();
        Ok(Response::new(pb::ListOrganizationMembersResponse { members, next_page_token }))
    }

    async fn promote_organization_administrator(
        &self,
        request: Request<pb::PromoteOrganizationAdministratorRequest>,
    ) -> Result<Response<pb::PromoteOrganizationAdministratorResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("organization_id", &r.organization_id)?;
        validate::id("user_id", &r.user_id)?;
        let user = self.organizations.set_administrator(&caller, &r.organization_id, &r.user_id, true).await?;
        Ok(Response::new(pb::PromoteOrganizationAdministratorResponse { user: Some(user_to_proto(user)) }))
    }

    async fn demote_organization_administrator(
        &self,
        request: Request<pb::DemoteOrganizationAdministratorRequest>,
    ) -> Result<Response<pb::DemoteOrganizationAdministratorResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("organization_id", &r.organization_id)?;
        validate::id("user_id", &r.user_id)?;
        let user = self.organizations.set_administrator(&caller, &r.organization_id, &r.user_id, false).await?;
        Ok(Response::new(pb::DemoteOrganizationAdministratorResponse { user: Some(user_to_proto(user)) }))
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> Result<Response<pb::ListOrganizationsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        search_text(&r.text)?;
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let filter = OrganizationFilter {
            parent_role_id: r.parent_role_id,
            account_id: r.account_id,
            partner: r.partner,
            text: r.text,
            only_id: None,
        };
        let mut organizations = self.organizations.list(&caller, filter, after, page_size + 1).await?;
        let next_page_token = paging::next_text_page(&mut organizations, page_size, |o| {
            (o.role.display_name.as_str(), o.role.id.as_str())
        });
        let organizations = organizations.into_iter().map(organization_to_proto).collect();
        Ok(Response::new(pb::ListOrganizationsResponse { organizations, next_page_token }))
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let organization = r.organization.ok_or_else(|| ApiError::invalid("organization", "is required"))?;
        validate::id("organization.id", &organization.id)?;
        let paths = paging::update_paths(r.update_mask)?;
        let mut changes = OrganizationChanges::default();
        for path in &paths {
            match path.as_str() {
                "display_name" => changes.display_name = Some(organization.display_name.clone()),
                "phone" => changes.phone = Some(organization.phone.clone()),
                "addresses" => {
                    changes.addresses = Some(organization.addresses.iter().cloned().map(address_from_proto).collect())
                }
                "parent_role_id" => changes.parent_role_id = Some(organization.parent_role_id.clone()),
                "default_licence_product_id" => {
                    changes.default_licence_product_id = Some(organization.default_licence_product_id.clone())
                }
                other => {
                    return Err(ApiError::invalid(
                        "update_mask",
                        format!(
                            "'{other}' cannot be changed; updatable: display_name, phone, addresses, parent_role_id, \
                             default_licence_product_id"
                        ),
                    )
                    .into());
                }
            }
        }
        let view = self.organizations.update(&caller, &organization.id, &organization.etag, changes).await?;
        Ok(Response::new(organization_to_proto(view)))
    }

    async fn delete_organization(
        &self,
        request: Request<pb::DeleteOrganizationRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.organizations.delete(&caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }

    async fn remove_organization_member(
        &self,
        request: Request<pb::RemoveOrganizationMemberRequest>,
    ) -> Result<Response<pb::RemoveOrganizationMemberResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("organization_id", &r.organization_id)?;
        validate::id("user_id", &r.user_id)?;
        let user = self.organizations.remove_member(&caller, &r.organization_id, &r.user_id).await?;
        Ok(Response::new(pb::RemoveOrganizationMemberResponse { user: Some(user_to_proto(user)) }))
    }

    async fn add_organization_members(
        &self,
        _request: Request<pb::AddOrganizationMembersRequest>,
    ) -> Result<Response<pb::AddOrganizationMembersResponse>, Status> {
        Err(later("AddOrganizationMembers"))
    }
}
