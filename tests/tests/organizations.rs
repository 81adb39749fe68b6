//! Organizations, their administrators, roles and the bulk "add users by email", and
//! who may do what to which organization, through the gateway (issue 4, DESIGN.md §3
//! "Organizations"; seed 000 "Manage Portal via the portal organization profile").

use portal_proto::identity::{
    AccountType, AddRoleMembersRequest, AddUserByEmailOutcome, AddUsersByEmailRequest, DeactivateUserRequest,
    GetOrganizationRequest, ListOrganizationMembersRequest, ListRoleMembershipsRequest, MembershipSource, Organization,
    PromoteOrganizationAdministratorRequest, Role, RoleKind, organization_service_client::OrganizationServiceClient,
    role_membership::Member, role_service_client::RoleServiceClient, user_service_client::UserServiceClient,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(
    bulk_add_reports_each_address_and_assigns_the_chosen_roles,
    organization_rights_follow_the_isolation_matrix,
);

fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

/// An account and its organization, with the seed's Boston role below it.
async fn organization(suite: &Suite, admin: &str, name: &str) -> (Organization, Role) {
    let organization = fixtures::organization(suite, admin, name, AccountType::Customer).await;
    assert_eq!(organization.parent_role_id, "all-external-users");
    let boston = fixtures::role(suite, admin, &organization.id, "Boston", RoleKind::Organizational).await;
    assert_eq!(boston.organization_id, organization.id);
    (organization, boston)
}

use fixtures::{PRODUCT, member};

async fn bulk_add_reports_each_address_and_assigns_the_chosen_roles(suite: Suite) {
    let admin = suite.admin_token().await;
    let (acme, boston) = organization(&suite, &admin, "Acme").await;
    let (_, acme_admin) = member(&suite, &admin, &acme.id, "boss@acme.example", true).await;
    let mut users = UserServiceClient::new(suite.channel());
    let request = AddUsersByEmailRequest {
        organization_id: String::new(), // an organization administrator's own by default
        emails: vec!["a@x.com".into(), "Bad Address".into(), "b@x.com".into(), "A@X.com".into()],
        role_ids: vec![boston.id.clone()],
        licence_product_id: String::new(),
        ..Default::default()
    };
    let refused = users.add_users_by_email(authed(request.clone(), &acme_admin)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::FailedPrecondition, "NO_LICENCE_PRODUCT".into()));

    let request =
        AddUsersByEmailRequest { organization_id: acme.id.clone(), licence_product_id: PRODUCT.into(), ..request };
    let results = users.add_users_by_email(authed(request, &admin)).await.unwrap().into_inner().results;
    let outcomes: Vec<_> = results.iter().map(|r| r.outcome()).collect();
    assert_eq!(
        outcomes,
        [
            AddUserByEmailOutcome::CreatedWithNewContact,
            AddUserByEmailOutcome::Failed,
            AddUserByEmailOutcome::CreatedWithNewContact,
            AddUserByEmailOutcome::Failed,
        ]
    );
    assert_eq!(results[1].error.as_ref().unwrap().reason, "INVALID_EMAIL");
    assert_eq!(results[3].error.as_ref().unwrap().reason, "DUPLICATE_EMAIL_IN_REQUEST");
    assert_eq!(results[3].normalized_email, "a@x.com");

    let mut organizations = OrganizationServiceClient::new(suite.channel());
    let request =
        ListOrganizationMembersRequest { organization_id: acme.id.clone(), page_size: 2, ..Default::default() };
    let first =
        organizations.list_organization_members(authed(request.clone(), &acme_admin)).await.unwrap().into_inner();
    let request = ListOrganizationMembersRequest { page_token: first.next_page_token.clone(), ..request };
    let second = organizations.list_organization_members(authed(request, &acme_admin)).await.unwrap().into_inner();
    assert!(second.next_page_token.is_empty());
    let names: Vec<_> =
        first.members.iter().chain(&second.members).map(|m| m.user.as_ref().unwrap().full_name.clone()).collect();
    assert_eq!(names, ["a", "b", "boss"], "new contacts are named after the address's local part");

    let a = &results[0].user_id;
    let mut roles = RoleServiceClient::new(suite.channel());
    let request = ListRoleMembershipsRequest { user_id: a.clone(), include_inherited: true, ..Default::default() };
    let memberships = roles.list_role_memberships(authed(request, &admin)).await.unwrap().into_inner().memberships;
    let source_of = |role: &str| memberships.iter().find(|m| m.role_id == role).map(|m| m.source());
    assert_eq!(source_of(&boston.id), Some(MembershipSource::Direct));
    assert_eq!(source_of(&acme.id), Some(MembershipSource::Implicit));
    assert!(source_of("all-external-users").is_some(), "{memberships:?}");
    assert!(memberships.iter().all(|m| m.member == Some(Member::UserId(a.clone()))));
}

async fn organization_rights_follow_the_isolation_matrix(suite: Suite) {
    let admin = suite.admin_token().await;
    let (acme, boston) = organization(&suite, &admin, "Acme").await;
    let (globex, globex_boston) = organization(&suite, &admin, "Globex").await;
    let (_, acme_admin) = member(&suite, &admin, &acme.id, "admin@acme.example", true).await;
    let (_, globex_admin) = member(&suite, &admin, &globex.id, "admin@globex.example", true).await;
    let (_, acme_user) = member(&suite, &admin, &acme.id, "user@acme.example", false).await;
    let (target, _) = member(&suite, &admin, &acme.id, "target@acme.example", false).await;

    // Each call is made fresh per caller; Ok(()) means allowed.
    async fn calls(
        suite: &Suite,
        token: &str,
        acme: &str,
        boston: &str,
        target: &str,
        n: usize,
    ) -> Vec<Result<(), Code>> {
        let mut organizations = OrganizationServiceClient::new(suite.channel());
        let mut users = UserServiceClient::new(suite.channel());
        let mut roles = RoleServiceClient::new(suite.channel());
        let code = |r: Result<(), Status>| r.map_err(|s| s.code());
        vec![
            code(
                organizations
                    .get_organization(authed(GetOrganizationRequest { id: acme.into() }, token))
                    .await
                    .map(drop),
            ),
            code(
                organizations
                    .list_organization_members(authed(
                        ListOrganizationMembersRequest { organization_id: acme.into(), ..Default::default() },
                        token,
                    ))
                    .await
                    .map(drop),
            ),
            code(
                users
                    .add_users_by_email(authed(
                        AddUsersByEmailRequest {
                            organization_id: acme.into(),
                            emails: vec![format!("new{n}@acme.example")],
                            ..Default::default()
                        },
                        token,
                    ))
                    .await
                    .map(drop),
            ),
            code(
                organizations
                    .promote_organization_administrator(authed(
                        PromoteOrganizationAdministratorRequest {
                            organization_id: acme.into(),
                            user_id: target.into(),
                        },
                        token,
                    ))
                    .await
                    .map(drop),
            ),
            code(
                roles
                    .add_role_members(authed(
                        AddRoleMembersRequest {
                            role_id: boston.into(),
                            user_ids: vec![target.into()],
                            ..Default::default()
                        },
                        token,
                    ))
                    .await
                    .map(drop),
            ),
        ]
    }
    // The organization default licence product is not set, so a bulk add by an
    // organization administrator needs SspUserRegistrationLicPackage: give Acme one.
    let mut settings = portal_proto::identity::settings_service_client::SettingsServiceClient::new(suite.channel());
    let current = settings
        .get_settings(authed(portal_proto::identity::GetSettingsRequest {}, &admin))
        .await
        .unwrap()
        .into_inner();
    let request = portal_proto::identity::UpdateSettingsRequest {
        settings: Some(portal_proto::identity::Settings {
            ssp_user_registration_lic_package: PRODUCT.into(),
            ..current
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["ssp_user_registration_lic_package".into()] }),
    };
    settings.update_settings(authed(request, &admin)).await.unwrap();

    let allowed = vec![Ok(()); 5];
    assert_eq!(calls(&suite, &admin, &acme.id, &boston.id, &target.id, 1).await, allowed, "system administrator");
    assert_eq!(calls(&suite, &acme_admin, &acme.id, &boston.id, &target.id, 2).await, allowed, "Acme's administrator");
    assert_eq!(
        calls(&suite, &globex_admin, &acme.id, &boston.id, &target.id, 3).await,
        vec![Err(Code::NotFound); 5],
        "another organization's administrator sees nothing of Acme"
    );
    let denied = Err(Code::PermissionDenied);
    assert_eq!(
        calls(&suite, &acme_user, &acme.id, &boston.id, &target.id, 4).await,
        vec![Ok(()), denied, denied, denied, denied],
        "a plain member reads the organization and nothing more"
    );

    // An organization administrator assigns only roles of their own organization.
    let mut users = UserServiceClient::new(suite.channel());
    let request = AddUsersByEmailRequest {
        organization_id: acme.id.clone(),
        emails: vec!["other@acme.example".into()],
        role_ids: vec![globex_boston.id.clone()],
        ..Default::default()
    };
    let status = users.add_users_by_email(authed(request, &acme_admin)).await.unwrap_err();
    assert_eq!((status.code(), reason(&status)), (Code::InvalidArgument, "ROLE_OUTSIDE_ORGANIZATION".into()));
    let mut roles = RoleServiceClient::new(suite.channel());
    let request =
        AddRoleMembersRequest { role_id: globex_boston.id, user_ids: vec![target.id.clone()], ..Default::default() };
    assert_eq!(roles.add_role_members(authed(request, &acme_admin)).await.unwrap_err().code(), Code::NotFound);
    // ...and manages only their own organization's users.
    let request = DeactivateUserRequest { id: target.id.clone(), ..Default::default() };
    assert_eq!(users.deactivate_user(authed(request.clone(), &globex_admin)).await.unwrap_err().code(), Code::NotFound);
    let deactivated = users.deactivate_user(authed(request, &acme_admin)).await.unwrap().into_inner().user.unwrap();
    assert!(!deactivated.active);
}
