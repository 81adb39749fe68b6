//! Who people are, asked of identity-svc (`IdentityInternalService`): a user's email,
//! name, culture, contact, account and organization, and a contact's account and
//! department. case-svc never reads identity's tables.

use std::sync::Arc;

use portal_proto::identity::{
    BatchGetContactsRequest, BatchGetUsersRequest, ListRoleUsersRequest, UserKind,
    identity_internal_service_client::IdentityInternalServiceClient,
};
use service_kit::{ApiError, Caller, Upstreams, assertion::AssertionKey, upstream::SignAs};

use crate::domain::CaseError;

/// A user as case handling needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub user_id: String,
    pub email: String,
    pub full_name: String,
    pub employee: bool,
    pub contact_id: String,
    pub account_id: String,
    pub organization_id: String,
    pub culture: String,
}

/// A contact's place: its account and department.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPlace {
    pub contact_id: String,
    pub account_id: String,
    pub department_id: String,
    pub user_id: String,
}

/// Looks people up in identity-svc, signed as the case service.
#[derive(Debug, Clone)]
pub struct Directory {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

type Client = IdentityInternalServiceClient<
    tonic::service::interceptor::InterceptedService<service_kit::upstream::Upstream, SignAs>,
>;

fn unavailable(status: tonic::Status) -> CaseError {
    CaseError::Api(ApiError::Unavailable { message: format!("identity could not answer: {}", status.message()) })
}

impl Directory {
    pub fn new(upstreams: Arc<Upstreams>, key: AssertionKey) -> Self {
        Self { upstreams, key }
    }

    fn client(&self) -> Result<Client, CaseError> {
        let upstream = self.upstreams.get("identity").ok_or_else(|| {
            CaseError::Api(ApiError::Unavailable { message: "identity is not configured (upstreams.identity)".into() })
        })?;
        Ok(IdentityInternalServiceClient::with_interceptor(
            upstream,
            SignAs::new(self.key.clone(), Caller::service("case")),
        ))
    }

    /// The user with this id, if identity knows them.
    pub async fn person(&self, user_id: &str) -> Result<Option<Person>, CaseError> {
        Ok(self.people(&[user_id.to_owned()]).await?.into_iter().next())
    }

    /// The users with these ids that identity knows, in one call.
    pub async fn people(&self, user_ids: &[String]) -> Result<Vec<Person>, CaseError> {
        let request = BatchGetUsersRequest { user_ids: user_ids.to_vec() };
        let users = self.client()?.batch_get_users(request).await.map_err(unavailable)?.into_inner().users;
        Ok(users
            .into_iter()
            .map(|u| Person {
                employee: u.kind() == UserKind::Employee,
                user_id: u.user_id,
                email: u.email,
                full_name: u.full_name,
                contact_id: u.contact_id,
                account_id: u.account_id,
                organization_id: u.organization_id,
                culture: u.culture,
            })
            .collect())
    }

    /// The active users of a support group and of every group below it, by user id
    /// (every page of identity's ListRoleUsers).
    pub async fn group_members(&self, role_id: &str) -> Result<Vec<String>, CaseError> {
        let mut members = Vec::new();
        let mut page_token = String::new();
        loop {
            let request = ListRoleUsersRequest {
                role_id: role_id.to_owned(),
                include_descendants: true,
                page_size: 500,
                page_token,
            };
            let page = match self.client()?.list_role_users(request).await {
                Ok(page) => page.into_inner(),
                // A group deleted since the case named it has nobody left to tell.
                Err(status) if status.code() == tonic::Code::NotFound => return Ok(members),
                Err(status) => return Err(unavailable(status)),
            };
            members.extend(page.users.into_iter().map(|user| user.user_id));
            if page.next_page_token.is_empty() {
                return Ok(members);
            }
            page_token = page.next_page_token;
        }
    }

    /// The contact with this id, if identity knows it.
    pub async fn contact(&self, contact_id: &str) -> Result<Option<ContactPlace>, CaseError> {
        let request = BatchGetContactsRequest { contact_ids: vec![contact_id.to_owned()] };
        let contacts = self.client()?.batch_get_contacts(request).await.map_err(unavailable)?.into_inner().contacts;
        Ok(contacts.into_iter().next().map(|c| ContactPlace {
            contact_id: c.contact_id,
            account_id: c.account_id,
            department_id: c.department_id,
            user_id: c.user_id,
        }))
    }
}
