//! Provisioning for CRM workflows through the gateway: UpsertPortalAccess is idempotent
//! and RemovePortalAccess ends access and sessions (issue 4, DESIGN.md §3, seed 004).

use portal_proto::identity::{
    Account, AccountType, Contact, CreateAccountRequest, CreateContactRequest, CreateOrganizationRequest,
    CreateRoleRequest, CreateUserRequest, GetContactRequest, GetLicenceProductRequest, ListAuditEventsRequest,
    Organization, RemovePortalAccessRequest, Role, RoleKind, UpsertPortalAccessRequest, User, UserKind, WhoAmIRequest,
    account_service_client::AccountServiceClient, audit_service_client::AuditServiceClient,
    contact_service_client::ContactServiceClient, licence_service_client::LicenceServiceClient,
    organization_service_client::OrganizationServiceClient, provisioning_service_client::ProvisioningServiceClient,
    role_service_client::RoleServiceClient, session_service_client::SessionServiceClient,
    user_service_client::UserServiceClient,
};
use portal_tests::{Suite, authed, suite_tests};
use tonic::Code;

suite_tests!(upsert_is_idempotent_and_remove_ends_access);

const PRODUCT: &str = "customer-portal-on-site";
const PASSWORD: &str = "a provisioned user's password";

async fn upsert_is_idempotent_and_remove_ends_access(suite: Suite) {
    let admin = suite.admin_token().await;
    let account = AccountServiceClient::new(suite.channel())
        .create_account(authed(
            CreateAccountRequest {
                account: Some(Account {
                    name: "Initech".into(),
                    r#type: AccountType::Customer.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let organization = OrganizationServiceClient::new(suite.channel())
        .create_organization(authed(
            CreateOrganizationRequest {
                organization: Some(Organization { account_id: account.id.clone(), ..Default::default() }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let managers = RoleServiceClient::new(suite.channel())
        .create_role(authed(
            CreateRoleRequest {
                role: Some(Role {
                    display_name: "Portal managers".into(),
                    kind: RoleKind::Functional.into(),
                    organization_id: organization.id.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut contacts = ContactServiceClient::new(suite.channel());
    let contact = contacts
        .create_contact(authed(
            CreateContactRequest {
                contact: Some(Contact {
                    full_name: "Peter Gibbons".into(),
                    email: "peter@initech.example".into(),
                    account_id: account.id.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    // The user exists already (created by hand with a password), so it has a session to lose.
    let created = UserServiceClient::new(suite.channel())
        .create_user(authed(
            CreateUserRequest {
                user: Some(User {
                    email: "peter@initech.example".into(),
                    kind: UserKind::External.into(),
                    contact_id: contact.id.clone(),
                    ..Default::default()
                }),
                licence_product_id: PRODUCT.into(),
                password: PASSWORD.into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.full_name, "Peter Gibbons", "the existing contact is used");
    let token = suite.login("peter@initech.example", PASSWORD).await.unwrap();

    let mut provisioning = ProvisioningServiceClient::new(suite.channel());
    let request = UpsertPortalAccessRequest {
        contact_id: contact.id.clone(),
        active: true,
        role_ids: vec![managers.id.clone()],
        organization_administrator: true,
        ..Default::default()
    };
    let mut changes = Vec::new();
    for _ in 0..3 {
        let response = provisioning.upsert_portal_access(authed(request.clone(), &admin)).await.unwrap().into_inner();
        let user = response.user.unwrap();
        assert_eq!(user.id, created.id, "one user for the contact");
        assert_eq!((user.organization_id.as_str(), user.organization_administrator), (organization.id.as_str(), true));
        assert_eq!(user.licence_product_id, PRODUCT);
        changes.push((response.created, response.changed));
    }
    assert_eq!(changes, [(false, true), (false, false), (false, false)]);
    let mut licences = LicenceServiceClient::new(suite.channel());
    let product = licences
        .get_licence_product(authed(GetLicenceProductRequest { id: PRODUCT.into() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(product.used_seats, 1, "one user, one licence");
    let mut audit = AuditServiceClient::new(suite.channel());
    let events = audit
        .list_audit_events(authed(
            ListAuditEventsRequest {
                resource_id: created.id.clone(),
                action: "user.provision".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .audit_events;
    assert_eq!(events.len(), 1, "repeated calls write no audit event");
    let mut sessions = SessionServiceClient::new(suite.channel());
    sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await.expect("provisioning the same access keeps the session");

    let removed = provisioning
        .remove_portal_access(authed(RemovePortalAccessRequest { contact_id: contact.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((removed.removed, removed.user_id.as_str()), (true, created.id.as_str()));
    assert_eq!(sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(suite.login("peter@initech.example", PASSWORD).await.unwrap_err().code(), Code::Unauthenticated);
    let again = provisioning
        .remove_portal_access(authed(RemovePortalAccessRequest { contact_id: contact.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.removed);
    let kept =
        contacts.get_contact(authed(GetContactRequest { id: contact.id.clone() }, &admin)).await.unwrap().into_inner();
    assert_eq!(kept.full_name, "Peter Gibbons", "the contact stays");
    let product = licences
        .get_licence_product(authed(GetLicenceProductRequest { id: PRODUCT.into() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(product.used_seats, 0, "the seat was released");
    // Provisioning again recreates the access from scratch; with no seat held, no
    // organization default and no SspUserRegistrationLicPackage, the product must be named.
    let refused = provisioning.upsert_portal_access(authed(request.clone(), &admin)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let request = UpsertPortalAccessRequest { licence_product_id: PRODUCT.into(), ..request };
    let recreated = provisioning.upsert_portal_access(authed(request, &admin)).await.unwrap().into_inner();
    assert!(recreated.created);
}
