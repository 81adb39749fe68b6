//! Organizations, their administrators, roles and the bulk "add users by email", and
//! who may do what to which organization, through the gateway (issue 4, DESIGN.md §3
//! "Organizations"; seed 000 "Manage Portal via the portal organization profile").

use portal_proto::access::{
    CreateSystemOperationGrantRequest, DeleteSystemOperationGrantRequest, Effect, Grantee, SystemOperationGrant,
    grantee, system_operation_service_client::SystemOperationServiceClient,
};
use portal_proto::identity::{
    AccountType, AddRoleMembersRequest, AddUserByEmailOutcome, AddUsersByEmailRequest, Address, AddressType,
    DeactivateUserRequest, DeleteOrganizationRequest, GetOrganizationRequest, GetRoleRequest, GetUserRequest,
    ListOrganizationMembersRequest, ListOrganizationsRequest, ListRoleMembershipsRequest, ListUsersRequest,
    MembershipSource, Organization, PromoteOrganizationAdministratorRequest, RemoveOrganizationMemberRequest,
    RemoveRoleMembersRequest, Role, UpdateOrganizationRequest, organization_service_client::OrganizationServiceClient,
    role_membership::Member, role_service_client::RoleServiceClient, user_service_client::UserServiceClient,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(
    bulk_add_reports_each_address_and_assigns_the_chosen_roles,
    addresses_typed_together_are_split_and_answered_one_by_one,
    organization_rights_follow_the_isolation_matrix,
    the_organization_profile_keeps_addresses_and_only_system_administrators_restructure,
);

fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

/// An account and its organization, with the seed's Boston role below it.
async fn organization(suite: &Suite, admin: &str, name: &str) -> (Organization, Role) {
    let organization = fixtures::organization(suite, admin, name, AccountType::Customer).await;
    assert_eq!(organization.parent_role_id, "all-external-users");
    let boston = fixtures::role(suite, admin, &organization.id, "Boston").await;
    assert_eq!(boston.organization_id, organization.id);
    (organization, boston)
}

use fixtures::{PRODUCT, employee, member};

async fn bulk_add_reports_each_address_and_assigns_the_chosen_roles(suite: Suite) {
    let admin = suite.admin_token().await;
    let (acme, boston) = organization(&suite, &admin, "Acme").await;
    let (_, acme_admin) = member(&suite, &admin, &acme.id, "boss@acme.example", true).await;
    let mut users = UserServiceClient::new(suite.channel());
    let request = AddUsersByEmailRequest {
        organization_id: String::new(), // an organization administrator's own by default
        emails: vec!["a@x.com".into(), "Bad-Address".into(), "b@x.com".into(), "A@X.com".into()],
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
    let role_ids: Vec<_> =
        first.members.iter().chain(&second.members).map(|m| m.user.as_ref().unwrap().role_ids.clone()).collect();
    assert_eq!(
        role_ids,
        [vec![boston.id.clone()], vec![boston.id.clone()], vec![]],
        "direct memberships only: the implied organization and root roles are not listed"
    );

    let a = &results[0].user_id;
    let managers = fixtures::functional_role(&suite, &admin, &acme.id, "Portal managers").await;
    fixtures::add_to_role(&suite, &admin, &managers.id, &[a]).await;
    let mut expected = vec![boston.id.clone(), managers.id.clone()];
    expected.sort();
    let shown = users.get_user(authed(GetUserRequest { id: a.clone() }, &acme_admin)).await.unwrap().into_inner();
    assert_eq!(shown.role_ids, expected);
    let request = ListUsersRequest { organization_id: acme.id.clone(), ..Default::default() };
    let listed = users.list_users(authed(request, &acme_admin)).await.unwrap().into_inner().users;
    let role_ids: Vec<_> = listed.iter().map(|u| (u.full_name.as_str(), u.role_ids.clone())).collect();
    assert_eq!(role_ids, [("a", expected), ("b", vec![boston.id.clone()]), ("boss", vec![])]);

    let mut roles = RoleServiceClient::new(suite.channel());
    let request = ListRoleMembershipsRequest { user_id: a.clone(), include_inherited: true, ..Default::default() };
    let memberships = roles.list_role_memberships(authed(request, &admin)).await.unwrap().into_inner().memberships;
    let source_of = |role: &str| memberships.iter().find(|m| m.role_id == role).map(|m| m.source());
    assert_eq!(source_of(&boston.id), Some(MembershipSource::Direct));
    assert_eq!(source_of(&acme.id), Some(MembershipSource::Implicit));
    assert!(source_of("all-external-users").is_some(), "{memberships:?}");
    assert!(memberships.iter().all(|m| m.member == Some(Member::UserId(a.clone()))));
}

/// Seed 003: "use spaces or commas to delimit the addresses"; semicolons and new lines
/// separate too, and a bad piece fails alone.
async fn addresses_typed_together_are_split_and_answered_one_by_one(suite: Suite) {
    let admin = suite.admin_token().await;
    let (acme, _) = organization(&suite, &admin, "Acme").await;
    let mut users = UserServiceClient::new(suite.channel());
    let request = AddUsersByEmailRequest {
        organization_id: acme.id.clone(),
        emails: vec!["a@x.com, b@x.com".into(), "c@x.com d@x.com;e@x.com\nf@x.com".into(), " ,; \n".into()],
        licence_product_id: PRODUCT.into(),
        ..Default::default()
    };
    let results = users.add_users_by_email(authed(request, &admin)).await.unwrap().into_inner().results;
    let emails: Vec<_> = results.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(emails, ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com", "f@x.com"]);
    assert!(results.iter().all(|r| r.outcome() == AddUserByEmailOutcome::CreatedWithNewContact), "{results:?}");

    let request = AddUsersByEmailRequest {
        organization_id: acme.id.clone(),
        emails: vec!["g@x.com;not-an-address, h@x.com".into()],
        licence_product_id: PRODUCT.into(),
        ..Default::default()
    };
    let results = users.add_users_by_email(authed(request, &admin)).await.unwrap().into_inner().results;
    let outcomes: Vec<_> = results.iter().map(|r| (r.email.as_str(), r.outcome())).collect();
    assert_eq!(
        outcomes,
        [
            ("g@x.com", AddUserByEmailOutcome::CreatedWithNewContact),
            ("not-an-address", AddUserByEmailOutcome::Failed),
            ("h@x.com", AddUserByEmailOutcome::CreatedWithNewContact),
        ]
    );
    assert_eq!(results[1].error.as_ref().unwrap().reason, "INVALID_EMAIL");

    let request = AddUsersByEmailRequest {
        organization_id: acme.id.clone(),
        emails: vec![", ;\n".into()],
        licence_product_id: PRODUCT.into(),
        ..Default::default()
    };
    let empty = users.add_users_by_email(authed(request, &admin)).await.unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument, "only separators are no addresses: {empty:?}");
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
            code(
                roles
                    .remove_role_members(authed(
                        RemoveRoleMembersRequest {
                            role_id: boston.into(),
                            user_ids: vec![target.into()],
                            ..Default::default()
                        },
                        token,
                    ))
                    .await
                    .map(drop),
            ),
            code(
                organizations
                    .update_organization(authed(
                        UpdateOrganizationRequest {
                            organization: Some(Organization {
                                id: acme.into(),
                                display_name: format!("Acme {n}"),
                                phone: format!("+1 555 010{n}"),
                                ..Default::default()
                            }),
                            update_mask: Some(prost_types::FieldMask {
                                paths: vec!["display_name".into(), "phone".into()],
                            }),
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

    let allowed = vec![Ok(()); 7];
    assert_eq!(calls(&suite, &admin, &acme.id, &boston.id, &target.id, 1).await, allowed, "system administrator");
    assert_eq!(calls(&suite, &acme_admin, &acme.id, &boston.id, &target.id, 2).await, allowed, "Acme's administrator");
    assert_eq!(
        calls(&suite, &globex_admin, &acme.id, &boston.id, &target.id, 3).await,
        vec![Err(Code::NotFound); 7],
        "another organization's administrator sees nothing of Acme"
    );
    // An employee manages every organization once access grants them CanAdministratePortalUsers,
    // and stops on the very next call when the grant goes.
    let (portal_admin, employee) = employee(&suite, &admin, "portal.admin@company.example").await;
    let grant = SystemOperationGrant {
        operation_code: "CanAdministratePortalUsers".into(),
        grantee: Some(Grantee { subject: Some(grantee::Subject::UserId(portal_admin.id.clone())) }),
        effect: Effect::Allow.into(),
        ..Default::default()
    };
    let mut system_operations = SystemOperationServiceClient::new(suite.channel());
    let request = CreateSystemOperationGrantRequest { system_operation_grant: Some(grant), request_id: String::new() };
    let grant = system_operations.create_system_operation_grant(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(
        calls(&suite, &employee, &acme.id, &boston.id, &target.id, 5).await,
        allowed,
        "a portal user administrator"
    );
    let request = DeleteSystemOperationGrantRequest { id: grant.id, etag: String::new() };
    system_operations.delete_system_operation_grant(authed(request, &admin)).await.unwrap();
    let after = calls(&suite, &employee, &acme.id, &boston.id, &target.id, 6).await;
    assert_eq!(after[0], Ok(()), "employees still read every organization");
    assert!(after[1..].iter().all(|r| *r == Err(Code::PermissionDenied)), "{after:?}");

    let denied = Err(Code::PermissionDenied);
    assert_eq!(
        calls(&suite, &acme_user, &acme.id, &boston.id, &target.id, 4).await,
        vec![Ok(()), denied, denied, denied, denied, denied, denied],
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

async fn the_organization_profile_keeps_addresses_and_only_system_administrators_restructure(suite: Suite) {
    let admin = suite.admin_token().await;
    let (acme, boston) = organization(&suite, &admin, "Acme").await;
    let (globex, _) = organization(&suite, &admin, "Globex").await;
    let (acme_admin_user, acme_admin) = member(&suite, &admin, &acme.id, "admin@acme.example", true).await;
    let (member_user, member_token) = member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    let mut organizations = OrganizationServiceClient::new(suite.channel());
    let address = |kind: AddressType, primary: bool, city: &str| Address {
        r#type: kind.into(),
        primary,
        city: city.into(),
        country: "US".into(),
        ..Default::default()
    };
    let update = |organization: Organization, paths: &[&str]| UpdateOrganizationRequest {
        organization: Some(organization),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
    };

    // The organization's administrator edits the profile: name, phone, addresses.
    let addresses = vec![address(AddressType::Legal, true, "Boston"), address(AddressType::Shipping, false, "Toronto")];
    let changed = Organization {
        id: acme.id.clone(),
        display_name: "Acme Corporation".into(),
        phone: "+1 555 0100".into(),
        addresses,
        etag: acme.etag.clone(),
        ..Default::default()
    };
    let updated = organizations
        .update_organization(authed(update(changed.clone(), &["display_name", "phone", "addresses"]), &acme_admin))
        .await
        .expect("the organization's administrator edits its profile")
        .into_inner();
    assert_eq!((updated.display_name.as_str(), updated.phone.as_str()), ("Acme Corporation", "+1 555 0100"));
    let cities: Vec<_> = updated.addresses.iter().map(|a| (a.r#type(), a.primary, a.city.as_str())).collect();
    assert_eq!(cities, [(AddressType::Legal, true, "Boston"), (AddressType::Shipping, false, "Toronto")]);
    assert_ne!(updated.etag, acme.etag);

    // A stale etag, a second primary legal address and an unknown path are refused.
    let stale =
        organizations.update_organization(authed(update(changed.clone(), &["phone"]), &acme_admin)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let mut twice_primary = updated.clone();
    twice_primary.addresses.push(address(AddressType::Legal, true, "Chicago"));
    let refused = organizations
        .update_organization(authed(update(twice_primary, &["addresses"]), &acme_admin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.get_details_bad_request().unwrap().field_violations[0].field,
        "organization.addresses[2].primary"
    );
    let unknown =
        organizations.update_organization(authed(update(updated.clone(), &["account_id"]), &admin)).await.unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);

    // Keeping an address by its id keeps it; leaving one out deletes it.
    let mut kept = updated.clone();
    kept.addresses.truncate(1);
    let after = organizations
        .update_organization(authed(update(kept, &["addresses"]), &acme_admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.addresses.len(), 1);
    assert_eq!(after.addresses[0].id, updated.addresses[0].id);

    // Moving it or changing its default licence is for system administrators only.
    let moved = Organization { id: acme.id.clone(), parent_role_id: "partners".into(), ..Default::default() };
    let denied =
        organizations.update_organization(authed(update(moved.clone(), &["parent_role_id"]), &acme_admin)).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let not_partner =
        organizations.update_organization(authed(update(moved, &["parent_role_id"]), &admin)).await.unwrap_err();
    assert_eq!((not_partner.code(), reason(&not_partner)), (Code::FailedPrecondition, "ACCOUNT_NOT_PARTNER".into()));

    // Lists: an external user sees their own organization only; employees all of them.
    let list = |text: &str| ListOrganizationsRequest { text: text.into(), page_size: 1, ..Default::default() };
    let own = organizations.list_organizations(authed(list(""), &member_token)).await.unwrap().into_inner();
    assert_eq!(own.organizations.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [acme.id.as_str()]);
    assert!(own.next_page_token.is_empty());
    let first = organizations.list_organizations(authed(list(""), &admin)).await.unwrap().into_inner();
    let second = organizations
        .list_organizations(authed(ListOrganizationsRequest { page_token: first.next_page_token, ..list("") }, &admin))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> =
        first.organizations.iter().chain(&second.organizations).map(|o| o.display_name.as_str()).collect();
    assert_eq!(names, ["Acme Corporation", "Globex"]);
    let found = organizations.list_organizations(authed(list("GLOB"), &admin)).await.unwrap().into_inner();
    assert_eq!(found.organizations[0].id, globex.id);

    // Taking a member out ends their organization roles and administrator flag; a system
    // administrator's call only. An organization with members cannot be deleted.
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&member_user.id]).await;
    let remove =
        |user: &str| RemoveOrganizationMemberRequest { organization_id: acme.id.clone(), user_id: user.into() };
    let denied = organizations.remove_organization_member(authed(remove(&member_user.id), &acme_admin)).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let out = organizations
        .remove_organization_member(authed(remove(&acme_admin_user.id), &admin))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(out.organization_id.is_empty() && !out.organization_administrator);
    let again = organizations.remove_organization_member(authed(remove(&acme_admin_user.id), &admin)).await;
    assert_eq!(reason(&again.unwrap_err()), "USER_NOT_MEMBER");
    let busy = organizations
        .delete_organization(authed(DeleteOrganizationRequest { id: acme.id.clone(), etag: String::new() }, &admin))
        .await
        .unwrap_err();
    assert_eq!(reason(&busy), "ORGANIZATION_HAS_MEMBERS");
    organizations.remove_organization_member(authed(remove(&member_user.id), &admin)).await.unwrap();
    let mut roles = RoleServiceClient::new(suite.channel());
    let request = ListRoleMembershipsRequest { user_id: member_user.id.clone(), ..Default::default() };
    let memberships = roles.list_role_memberships(authed(request, &admin)).await.unwrap().into_inner().memberships;
    assert!(memberships.is_empty(), "the organization's roles went with it: {memberships:?}");
    organizations
        .delete_organization(authed(DeleteOrganizationRequest { id: acme.id.clone(), etag: String::new() }, &admin))
        .await
        .expect("an empty organization can be deleted");
    let gone = organizations.get_organization(authed(GetOrganizationRequest { id: acme.id }, &admin)).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);
    let role_gone = roles.get_role(authed(GetRoleRequest { id: boston.id }, &admin)).await;
    assert_eq!(role_gone.unwrap_err().code(), Code::NotFound, "its roles went with it");
}
