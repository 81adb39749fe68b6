//! `portal.identity.v1.UserService`: users created by hand or in bulk, read, listed,
//! changed, deactivated, reactivated and deleted.

use portal_proto::identity::{self as pb, user_service_server::UserService};
use service_kit::{ApiError, Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use crate::{
    domain::user::UserKind,
    organizations::{AddOutcome, AddUsersByEmail, Organizations},
    storage::{UserFilter, UserRecord},
    users::{CreateUser, UserChanges, Users},
};

#[derive(Debug, Clone)]
pub struct UserApi {
    pub users: Users,
    pub organizations: Organizations,
}

/// The API form of a stored user.
pub fn to_proto(user: UserRecord) -> pb::User {
    let origin = match user.origin.as_str() {
        "bootstrap" => pb::UserOrigin::Bootstrap,
        "manual" => pb::UserOrigin::Manual,
        "bulk" => pb::UserOrigin::Bulk,
        "self_registration" => pb::UserOrigin::SelfRegistration,
        "provisioning" => pb::UserOrigin::Provisioning,
        _ => pb::UserOrigin::Unspecified,
    };
    pb::User {
        kind: pb::UserKind::from(user.kind()).into(),
        active: user.is_active(),
        system_administrator: user.is_system_administrator(),
        password_set: user.password_hash.is_some(),
        origin: origin.into(),
        deactivate_time: user.deactivated_at.map(to_timestamp),
        create_time: Some(to_timestamp(user.created_at)),
        update_time: Some(to_timestamp(user.updated_at)),
        etag: user.version.to_string(),
        id: user.id,
        email: user.email,
        contact_id: user.contact_id,
        full_name: user.full_name,
        organization_id: user.organization_id.unwrap_or_default(),
        organization_administrator: user.organization_administrator != 0,
        licence_product_id: user.licence_product_id.unwrap_or_default(),
        role_ids: user.role_ids,
        culture: user.culture,
        home_page: user.home_page,
        last_login_time: None,
    }
}

#[tonic::async_trait]
impl UserService for UserApi {
    async fn create_user(&self, request: Request<pb::CreateUserRequest>) -> Result<Response<pb::User>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let user = r.user.ok_or_else(|| ApiError::invalid("user", "is required"))?;
        let kind = match user.kind() {
            pb::UserKind::Employee => Some(UserKind::Employee),
            pb::UserKind::External => Some(UserKind::External),
            pb::UserKind::Unspecified => None,
        };
        let created = self
            .users
            .create(
                &caller,
                CreateUser {
                    email: user.email,
                    kind,
                    contact_id: user.contact_id,
                    new_contact_full_name: r.new_contact_full_name,
                    password: r.password,
                    licence_product_id: r.licence_product_id,
                    culture: user.culture,
                    home_page: user.home_page,
                    organization_id: user.organization_id,
                    role_ids: r.role_ids,
                    organization_administrator: r.organization_administrator,
                    system_administrator: user.system_administrator,
                    send_invitation: r.send_invitation,
                    request_id: r.request_id,
                },
            )
            .await?;
        Ok(Response::new(to_proto(created)))
    }

    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Result<Response<pb::User>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(to_proto(self.users.get(&caller, &id).await?)))
    }

    async fn deactivate_user(
        &self,
        request: Request<pb::DeactivateUserRequest>,
    ) -> Result<Response<pb::DeactivateUserResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        let user = self.users.deactivate(&caller, &r.id, &r.etag, r.release_licence).await?;
        Ok(Response::new(pb::DeactivateUserResponse { user: Some(to_proto(user)) }))
    }

    async fn reactivate_user(
        &self,
        request: Request<pb::ReactivateUserRequest>,
    ) -> Result<Response<pb::ReactivateUserResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        let user = self.users.reactivate(&caller, &r.id, &r.etag, &r.licence_product_id).await?;
        Ok(Response::new(pb::ReactivateUserResponse { user: Some(to_proto(user)) }))
    }

    async fn add_users_by_email(
        &self,
        request: Request<pb::AddUsersByEmailRequest>,
    ) -> Result<Response<pb::AddUsersByEmailResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let results = self
            .organizations
            .add_users_by_email(
                &caller,
                AddUsersByEmail {
                    organization_id: r.organization_id,
                    emails: r.emails,
                    role_ids: r.role_ids,
                    organization_administrator: r.organization_administrator,
                    licence_product_id: r.licence_product_id,
                    send_invitations: r.send_invitations,
                },
            )
            .await?;
        let results = results
            .into_iter()
            .map(|result| {
                let mut item = pb::AddUserByEmailResult {
                    email: result.email,
                    normalized_email: result.normalized_email,
                    ..Default::default()
                };
                let (outcome, user_id, contact_id) = match result.outcome {
                    AddOutcome::CreatedWithNewContact { user_id, contact_id } => {
                        (pb::AddUserByEmailOutcome::CreatedWithNewContact, user_id, contact_id)
                    }
                    AddOutcome::CreatedForExistingContact { user_id, contact_id } => {
                        (pb::AddUserByEmailOutcome::CreatedForExistingContact, user_id, contact_id)
                    }
                    AddOutcome::AlreadyMember { user_id, contact_id } => {
                        (pb::AddUserByEmailOutcome::AlreadyMember, user_id, contact_id)
                    }
                    AddOutcome::Failed(reason, message) => {
                        let code = match reason {
                            "INVALID_EMAIL" | "DUPLICATE_EMAIL_IN_REQUEST" => tonic::Code::InvalidArgument,
                            "EMAIL_ALREADY_USED" | "CONTACT_ALREADY_HAS_USER" => tonic::Code::AlreadyExists,
                            _ => tonic::Code::FailedPrecondition,
                        };
                        item.error = Some(pb::ItemError {
                            code: code as i32,
                            reason: reason.into(),
                            message,
                            field: "emails".into(),
                        });
                        (pb::AddUserByEmailOutcome::Failed, String::new(), String::new())
                    }
                };
                match result.invitation {
                    Some(Ok(invitation_id)) => item.invitation_id = invitation_id,
                    Some(Err(message)) => {
                        item.error = Some(pb::ItemError {
                            code: tonic::Code::FailedPrecondition as i32,
                            reason: "INVITATION_NOT_SENT".into(),
                            message: format!("the user was created but the invitation was not sent: {message}"),
                            field: "send_invitations".into(),
                        })
                    }
                    None => {}
                }
                item.outcome = outcome.into();
                item.user_id = user_id;
                item.contact_id = contact_id;
                item
            })
            .collect();
        Ok(Response::new(pb::AddUsersByEmailResponse { results }))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        super::search_text(&r.text)?;
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let kind = match r.kind() {
            pb::UserKind::Unspecified => None,
            pb::UserKind::Employee => Some(UserKind::Employee),
            pb::UserKind::External => Some(UserKind::External),
        };
        let filter = UserFilter {
            organization_id: r.organization_id,
            kind,
            active: r.active,
            organization_administrator: r.organization_administrator,
            role_id: r.role_id,
            licence_product_id: r.licence_product_id,
            email: r.email,
            text: r.text,
            only_id: String::new(),
        };
        let mut users = self.users.list(&caller, filter, after, page_size + 1).await?;
        let next_page_token = paging::next_text_page(&mut users, page_size, |u| (u.full_name.as_str(), u.id.as_str()));
        let users = users.into_iter().map(to_proto).collect();
        Ok(Response::new(pb::ListUsersResponse { users, next_page_token }))
    }

    async fn update_user(&self, request: Request<pb::UpdateUserRequest>) -> Result<Response<pb::User>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let user = r.user.ok_or_else(|| ApiError::invalid("user", "is required"))?;
        validate::id("user.id", &user.id)?;
        let paths = paging::update_paths(r.update_mask)?;
        let mut changes = UserChanges::default();
        for path in &paths {
            match path.as_str() {
                "culture" => changes.culture = Some(user.culture.clone()),
                "home_page" => changes.home_page = Some(user.home_page.clone()),
                "email" => changes.email = Some(user.email.clone()),
                "organization_id" => changes.organization_id = Some(user.organization_id.clone()),
                "system_administrator" => changes.system_administrator = Some(user.system_administrator),
                other => {
                    return Err(ApiError::invalid(
                        "update_mask",
                        format!(
                            "'{other}' cannot be changed; updatable: culture, home_page, email, organization_id, \
                             system_administrator"
                        ),
                    )
                    .into());
                }
            }
        }
        let updated = self.users.update(&caller, &user.id, &user.etag, changes).await?;
        Ok(Response::new(to_proto(updated)))
    }

    async fn delete_user(&self, request: Request<pb::DeleteUserRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.users.delete(&caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }
}
