//! `portal.identity.v1.InvitationService`: sending, reading, revoking and redeeming
//! invitations.

use portal_proto::identity::{self as pb, invitation_service_server::InvitationService};
use service_kit::{
    ApiError, Caller,
    clock::{Clock, from_timestamp, to_timestamp},
    paging, validate,
};
use tonic::{Request, Response, Status};

use super::{required, session::login_response};
use crate::{
    domain::{password_policy, tokens::TokenState},
    invitations::{Invitations, ItemFailure},
    storage::{InvitationFilter, InvitationRecord},
};

/// The most users one SendInvitations names.
const MAX_USERS: usize = 100;

#[derive(Debug, Clone)]
pub struct InvitationApi {
    pub invitations: Invitations,
    pub clock: Clock,
}

fn state_to_proto(state: TokenState) -> pb::InvitationState {
    match state {
        TokenState::Live => pb::InvitationState::Pending,
        TokenState::Consumed => pb::InvitationState::Accepted,
        TokenState::Expired => pb::InvitationState::Expired,
        TokenState::Revoked => pb::InvitationState::Revoked,
    }
}

fn state_from_proto(state: pb::InvitationState) -> Option<TokenState> {
    match state {
        pb::InvitationState::Pending => Some(TokenState::Live),
        pb::InvitationState::Accepted => Some(TokenState::Consumed),
        pb::InvitationState::Expired => Some(TokenState::Expired),
        pb::InvitationState::Revoked => Some(TokenState::Revoked),
        pb::InvitationState::Unspecified => None,
    }
}

fn revoke_reason(reason: Option<&str>) -> pb::InvitationRevokeReason {
    match reason.unwrap_or_default() {
        "by_administrator" => pb::InvitationRevokeReason::ByAdministrator,
        "replaced" => pb::InvitationRevokeReason::Replaced,
        "user_deactivated" => pb::InvitationRevokeReason::UserDeactivated,
        "user_deleted" => pb::InvitationRevokeReason::UserDeleted,
        "email_changed" => pb::InvitationRevokeReason::EmailChanged,
        "licence_released" => pb::InvitationRevokeReason::LicenceReleased,
        _ => pb::InvitationRevokeReason::Unspecified,
    }
}

/// The API form of an invitation, its state judged at `now`.
pub fn to_proto(invitation: InvitationRecord, now: i64) -> pb::Invitation {
    let state = invitation.state(now);
    let revoked = state == TokenState::Revoked;
    pb::Invitation {
        state: state_to_proto(state).into(),
        create_time: Some(to_timestamp(invitation.created_at)),
        expire_time: Some(to_timestamp(invitation.expires_at)),
        accept_time: invitation.consumed_at.map(to_timestamp),
        password_generated: invitation.password_generated != 0,
        revoke_time: invitation.revoked_at.filter(|_| revoked).map(to_timestamp),
        revoke_reason: if revoked {
            revoke_reason(invitation.revoke_reason.as_deref()).into()
        } else {
            pb::InvitationRevokeReason::Unspecified.into()
        },
        replaced_by_invitation_id: invitation.replaced_by.filter(|_| revoked).unwrap_or_default(),
        notification_id: invitation.delivery_id.unwrap_or_default(),
        id: invitation.id,
        user_id: invitation.user_id,
        email: invitation.email,
        organization_id: invitation.organization_id,
        sent_by_user_id: invitation.sent_by_user_id,
    }
}

#[tonic::async_trait]
impl InvitationService for InvitationApi {
    async fn send_invitations(
        &self,
        request: Request<pb::SendInvitationsRequest>,
    ) -> Result<Response<pb::SendInvitationsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        if r.user_ids.is_empty() || r.user_ids.len() > MAX_USERS {
            return Err(ApiError::invalid("user_ids", "must name 1 to 100 users").into());
        }
        if let Some(i) = r.user_ids.iter().position(String::is_empty) {
            return Err(ApiError::invalid(format!("user_ids[{i}]"), "must not be empty").into());
        }
        if r.request_id.chars().count() > 100 {
            return Err(ApiError::invalid("request_id", "must be at most 100 characters").into());
        }
        let outcomes = self.invitations.send(&caller, &r.user_ids, &r.request_id).await?;
        let now = self.clock.now();
        let results = outcomes
            .into_iter()
            .map(|outcome| {
                let (invitation, error) = match outcome.result {
                    Ok(invitation) => (Some(to_proto(invitation, now)), None),
                    Err(ItemFailure { code, reason, message }) => {
                        (None, Some(pb::ItemError { code, reason, message, field: String::new() }))
                    }
                };
                pb::SendInvitationResult { user_id: outcome.user_id, invitation, error }
            })
            .collect();
        Ok(Response::new(pb::SendInvitationsResponse { results }))
    }

    async fn resend_invitation(
        &self,
        request: Request<pb::ResendInvitationRequest>,
    ) -> Result<Response<pb::ResendInvitationResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let invitation = self.invitations.resend(&caller, &id).await?;
        Ok(Response::new(pb::ResendInvitationResponse { invitation: Some(to_proto(invitation, self.clock.now())) }))
    }

    async fn get_invitation(
        &self,
        request: Request<pb::GetInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let invitation = self.invitations.get(&caller, &id).await?;
        Ok(Response::new(to_proto(invitation, self.clock.now())))
    }

    async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        let mut states = Vec::new();
        for (i, state) in r.states.iter().enumerate() {
            match pb::InvitationState::try_from(*state).ok().and_then(state_from_proto) {
                Some(state) => states.push(state),
                None => return Err(ApiError::invalid(format!("states[{i}]"), "is not an invitation state").into()),
            }
        }
        let filter = InvitationFilter {
            user_id: r.user_id,
            organization_id: r.organization_id,
            states,
            now: 0,
            from: r.start_time.as_ref().map(from_timestamp),
            until: r.end_time.as_ref().map(from_timestamp),
            before: paging::position(&r.page_token)?,
        };
        let mut rows = self.invitations.list(&caller, filter, page_size + 1).await?;
        let next_page_token = paging::next_page(&mut rows, page_size, |i| (i.created_at, &i.id));
        let now = self.clock.now();
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations: rows.into_iter().map(|i| to_proto(i, now)).collect(),
            next_page_token,
        }))
    }

    async fn revoke_invitation(
        &self,
        request: Request<pb::RevokeInvitationRequest>,
    ) -> Result<Response<pb::RevokeInvitationResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let invitation = self.invitations.revoke(&caller, &id).await?;
        Ok(Response::new(pb::RevokeInvitationResponse { invitation: Some(to_proto(invitation, self.clock.now())) }))
    }

    async fn redeem_invitation(
        &self,
        request: Request<pb::RedeemInvitationRequest>,
    ) -> Result<Response<pb::RedeemInvitationResponse>, Status> {
        let client_address = Caller::of(&request)?.client_address.clone();
        let pb::RedeemInvitationRequest { token, password } = request.into_inner();
        required("token", &token)?;
        if password.chars().count() > password_policy::MAX_CHARS {
            return Err(
                ApiError::invalid_because("password", "must be at most 128 characters", "PASSWORD_TOO_LONG").into()
            );
        }
        let redeemed = self.invitations.redeem(&token, &password, &client_address).await?;
        Ok(Response::new(pb::RedeemInvitationResponse {
            user_id: redeemed.user_id,
            email: redeemed.email,
            generated_password: redeemed.generated_password,
            session: Some(login_response(redeemed.session)),
        }))
    }
}
