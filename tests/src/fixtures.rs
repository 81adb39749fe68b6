//! Directory fixtures every area's tests need: an account with its portal organization,
//! roles under it, members and employees who can log in, all made through identity's public API
//! as the system administrator.

use portal_proto::identity::{
    Account, AccountType, AddRoleMembersRequest, CreateAccountRequest, CreateOrganizationRequest, CreateRoleRequest,
    CreateUserRequest, Organization, Role, RoleKind, User, UserKind, account_service_client::AccountServiceClient,
    organization_service_client::OrganizationServiceClient, role_service_client::RoleServiceClient,
    user_service_client::UserServiceClient,
};

use crate::{Suite, authed};

/// The licence product fixtures' members hold (one of the default configuration's).
pub const PRODUCT: &str = "customer-portal-on-site";
/// The password of every fixture member.
pub const MEMBER_PASSWORD: &str = "an organization member password";

/// A customer (or partner) account named `name` and the portal organization bound to it.
pub async fn organization(suite: &Suite, admin: &str, name: &str, account_type: AccountType) -> Organization {
    let account = Account { name: name.into(), r#type: account_type.into(), ..Default::default() };
    let account = AccountServiceClient::new(suite.channel())
        .create_account(authed(CreateAccountRequest { account: Some(account), request_id: String::new() }, admin))
        .await
        .expect("create the account")
        .into_inner();
    let request = CreateOrganizationRequest {
        organization: Some(Organization { account_id: account.id, ..Default::default() }),
        request_id: String::new(),
    };
    let organization = OrganizationServiceClient::new(suite.channel())
        .create_organization(authed(request, admin))
        .await
        .expect("create the organization")
        .into_inner();
    assert_eq!(organization.display_name, name, "the organization takes the account's name");
    organization
}

/// An employee with the password [`MEMBER_PASSWORD`], logged in; returns the user and a
/// session token.
pub async fn employee(suite: &Suite, admin: &str, email: &str) -> (User, String) {
    let request = CreateUserRequest {
        user: Some(User { email: email.into(), kind: UserKind::Employee.into(), ..Default::default() }),
        password: MEMBER_PASSWORD.into(),
        ..Default::default()
    };
    let user = UserServiceClient::new(suite.channel())
        .create_user(authed(request, admin))
        .await
        .expect("create the employee")
        .into_inner();
    (user, suite.login(email, MEMBER_PASSWORD).await.expect("the employee logs in"))
}

/// An organizational role named `name` under `parent_role_id`.
pub async fn role(suite: &Suite, admin: &str, parent_role_id: &str, name: &str) -> Role {
    let role = Role {
        display_name: name.into(),
        kind: RoleKind::Organizational.into(),
        parent_role_id: parent_role_id.into(),
        ..Default::default()
    };
    create_role(suite, admin, role).await
}

/// A functional role named `name` of the organization `organization_id` (such as
/// "Portal managers").
pub async fn functional_role(suite: &Suite, admin: &str, organization_id: &str, name: &str) -> Role {
    let role = Role {
        display_name: name.into(),
        kind: RoleKind::Functional.into(),
        organization_id: organization_id.into(),
        ..Default::default()
    };
    create_role(suite, admin, role).await
}

async fn create_role(suite: &Suite, admin: &str, role: Role) -> Role {
    RoleServiceClient::new(suite.channel())
        .create_role(authed(CreateRoleRequest { role: Some(role), request_id: String::new() }, admin))
        .await
        .expect("create the role")
        .into_inner()
}

/// An external member of `organization_id` with a seat of [`PRODUCT`] and the password
/// [`MEMBER_PASSWORD`], logged in; returns the user and a session token.
pub async fn member(
    suite: &Suite,
    admin: &str,
    organization_id: &str,
    email: &str,
    administrator: bool,
) -> (User, String) {
    let request = CreateUserRequest {
        user: Some(User {
            email: email.into(),
            kind: UserKind::External.into(),
            organization_id: organization_id.into(),
            ..Default::default()
        }),
        licence_product_id: PRODUCT.into(),
        password: MEMBER_PASSWORD.into(),
        organization_administrator: administrator,
        ..Default::default()
    };
    let user =
        UserServiceClient::new(suite.channel()).create_user(authed(request, admin)).await.expect("create the user");
    let user = user.into_inner();
    assert_eq!(user.organization_administrator, administrator);
    let token = suite.login(email, MEMBER_PASSWORD).await.expect("the new member logs in");
    (user, token)
}

/// Makes users direct members of a role.
pub async fn add_to_role(suite: &Suite, admin: &str, role_id: &str, user_ids: &[&str]) {
    let request = AddRoleMembersRequest {
        role_id: role_id.into(),
        user_ids: user_ids.iter().map(|id| id.to_string()).collect(),
        ..Default::default()
    };
    RoleServiceClient::new(suite.channel())
        .add_role_members(authed(request, admin))
        .await
        .expect("add the role members");
}
