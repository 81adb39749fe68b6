//! `portal.identity.v1.IdentityInternalService`: what the gateway and the other
//! services ask identity. Only the suite's own services may call it.

use portal_proto::identity::{self as pb, identity_internal_service_server::IdentityInternalService};
use service_kit::{ApiError, clock::to_timestamp, paging};
use tonic::{Request, Response, Status};

use super::roles::{role_kind_to_proto, source_to_proto, well_known_to_proto};
use crate::{
    auth::Auth,
    directory::{AccessProfile, Directory},
    domain::user::UserKind,
    storage::UserSummaryRow,
    system_settings::SystemSettings,
};

#[derive(Debug, Clone)]
pub struct InternalApi {
    pub auth: Auth,
    pub settings: SystemSettings,
    pub directory: Directory,
}

fn kind_to_proto(stored: &str) -> i32 {
    pb::UserKind::from(UserKind::from_stored(stored)).into()
}

fn user_summary_to_proto(user: UserSummaryRow) -> pb::UserSummary {
    pb::UserSummary {
        kind: kind_to_proto(&user.kind),
        active: user.active != 0,
        organization_administrator: user.organization_administrator != 0,
        system_administrator: user.system_administrator != 0,
        user_id: user.id,
        email: user.email,
        full_name: user.full_name,
        organization_id: user.organization_id.unwrap_or_default(),
        contact_id: user.contact_id,
        account_id: user.account_id.unwrap_or_default(),
        culture: user.culture,
    }
}

fn profile_to_proto(profile: AccessProfile) -> pb::GetUserAccessProfileResponse {
    let user = profile.user;
    let roles = profile
        .roles
        .into_iter()
        .map(|effective| {
            let (source, via_role_id, _, _) = source_to_proto(effective.source);
            pb::EffectiveRole {
                kind: role_kind_to_proto(&effective.role.kind).into(),
                well_known: well_known_to_proto(&effective.role.well_known).into(),
                role_id: effective.role.id,
                source: source.into(),
                distance: effective.distance,
                via_role_id,
            }
        })
        .collect();
    pb::GetUserAccessProfileResponse {
        kind: kind_to_proto(&user.kind),
        active: user.is_active(),
        system_administrator: user.is_system_administrator(),
        organization_administrator: user.is_organization_administrator(),
        user_id: user.id,
        organization_id: user.organization_id.unwrap_or_default(),
        licence_product_id: user.licence_product_id.unwrap_or_default(),
        roles,
        membership_epoch: profile.membership_epoch,
        role_tree_epoch: profile.role_tree_epoch,
    }
}

#[tonic::async_trait]
impl IdentityInternalService for InternalApi {
    async fn authenticate_session(
        &self,
        request: Request<pb::AuthenticateSessionRequest>,
    ) -> Result<Response<pb::AuthenticateSessionResponse>, Status> {
        let token = request.into_inner().token;
        if token.is_empty() || token.len() > 512 {
            return Err(
                ApiError::Unauthenticated { message: "the session token is missing or malformed".into() }.into()
            );
        }
        let session = self.auth.authenticate(&token).await?;
        Ok(Response::new(pb::AuthenticateSessionResponse {
            kind: pb::UserKind::from(session.kind()).into(),
            system_administrator: session.is_system_administrator(),
            user_id: session.user_id,
            organization_id: session.organization_id.unwrap_or_default(),
            session_id: session.id,
            expire_time: Some(to_timestamp(session.expires_at)),
        }))
    }

    async fn get_mail_settings(
        &self,
        _request: Request<pb::GetMailSettingsRequest>,
    ) -> Result<Response<pb::GetMailSettingsResponse>, Status> {
        let settings = self.settings.current().await?;
        Ok(Response::new(pb::GetMailSettingsResponse {
            ssp_registration_mailbox: settings.stored.ssp_registration_mailbox,
            public_base_url: settings.public_base_url,
        }))
    }

    async fn get_user_access_profile(
        &self,
        request: Request<pb::GetUserAccessProfileRequest>,
    ) -> Result<Response<pb::GetUserAccessProfileResponse>, Status> {
        let profile = self.directory.access_profile(&request.into_inner().user_id).await?;
        Ok(Response::new(profile_to_proto(profile)))
    }

    async fn get_membership_epochs(
        &self,
        request: Request<pb::GetMembershipEpochsRequest>,
    ) -> Result<Response<pb::GetMembershipEpochsResponse>, Status> {
        let user_ids = request.into_inner().user_ids;
        let (epochs, role_tree_epoch) = self.directory.epochs(&user_ids).await?;
        let users = user_ids
            .into_iter()
            .zip(epochs)
            .map(|(user_id, membership_epoch)| pb::UserMembershipEpoch { user_id, membership_epoch })
            .collect();
        Ok(Response::new(pb::GetMembershipEpochsResponse { users, role_tree_epoch }))
    }

    async fn batch_get_role_ancestry(
        &self,
        request: Request<pb::BatchGetRoleAncestryRequest>,
    ) -> Result<Response<pb::BatchGetRoleAncestryResponse>, Status> {
        let (found, role_tree_epoch) = self.directory.role_ancestries(&request.into_inner().role_ids).await?;
        let roles = found
            .rows
            .into_iter()
            .map(|ancestry| pb::RoleAncestry {
                kind: role_kind_to_proto(&ancestry.role.kind).into(),
                user_kind: kind_to_proto(&ancestry.role.user_kind),
                well_known: well_known_to_proto(&ancestry.role.well_known).into(),
                organization_id: ancestry.role.organization_id.unwrap_or_default(),
                role_id: ancestry.role.id,
                ancestor_role_ids: ancestry.ancestor_ids,
                member_role_ids: Vec::new(),
            })
            .collect();
        Ok(Response::new(pb::BatchGetRoleAncestryResponse { roles, missing_role_ids: found.missing, role_tree_epoch }))
    }

    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        let found = self.directory.users(&request.into_inner().user_ids).await?;
        let users = found.rows.into_iter().map(user_summary_to_proto).collect();
        Ok(Response::new(pb::BatchGetUsersResponse { users, missing_user_ids: found.missing }))
    }

    async fn list_role_users(
        &self,
        request: Request<pb::ListRoleUsersRequest>,
    ) -> Result<Response<pb::ListRoleUsersResponse>, Status> {
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?.map(|(user_id, _)| user_id).unwrap_or_default();
        let mut users = self.directory.role_users(&r.role_id, r.include_descendants, &after, page_size + 1).await?;
        let next_page_token = paging::next_text_page(&mut users, page_size, |user| (user.id.as_str(), ""));
        Ok(Response::new(pb::ListRoleUsersResponse {
            users: users.into_iter().map(user_summary_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn batch_get_contacts(
        &self,
        request: Request<pb::BatchGetContactsRequest>,
    ) -> Result<Response<pb::BatchGetContactsResponse>, Status> {
        let found = self.directory.contacts(&request.into_inner().contact_ids).await?;
        let contacts = found
            .rows
            .into_iter()
            .map(|contact| pb::ContactSummary {
                contact_id: contact.id,
                full_name: contact.full_name,
                email: contact.email,
                account_id: contact.account_id.unwrap_or_default(),
                department_id: contact.department_id.unwrap_or_default(),
                user_id: contact.user_id.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::BatchGetContactsResponse { contacts, missing_contact_ids: found.missing }))
    }

    async fn batch_get_accounts(
        &self,
        request: Request<pb::BatchGetAccountsRequest>,
    ) -> Result<Response<pb::BatchGetAccountsResponse>, Status> {
        let found = self.directory.accounts(&request.into_inner().account_ids).await?;
        let accounts = found
            .rows
            .into_iter()
            .map(|account| pb::AccountSummary {
                r#type: match account.r#type.as_str() {
                    "partner" => pb::AccountType::Partner,
                    _ => pb::AccountType::Customer,
                }
                .into(),
                account_id: account.id,
                name: account.name,
                organization_id: account.organization_id.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::BatchGetAccountsResponse { accounts, missing_account_ids: found.missing }))
    }

    async fn batch_get_organizations(
        &self,
        request: Request<pb::BatchGetOrganizationsRequest>,
    ) -> Result<Response<pb::BatchGetOrganizationsResponse>, Status> {
        let found = self.directory.organizations(&request.into_inner().organization_ids).await?;
        let organizations = found
            .rows
            .into_iter()
            .map(|organization| {
                let role = organization.role;
                let parent = role.parent_id.unwrap_or_default();
                pb::OrganizationSummary {
                    partner: parent == crate::domain::roles::PARTNERS,
                    organization_id: role.id,
                    display_name: role.display_name,
                    account_id: role.account_id.unwrap_or_default(),
                    parent_role_id: parent,
                    administrator_user_ids: organization.administrator_user_ids,
                }
            })
            .collect();
        Ok(Response::new(pb::BatchGetOrganizationsResponse { organizations, missing_organization_ids: found.missing }))
    }
}
