//! What other services ask identity (IdentityInternalService): a user's access profile with
//! its version counters, and the batch lookups of users, contacts, accounts, organizations
//! and role ancestries, a role's users (issue 4; DESIGN.md §3 and §4 "Cache").
//!
//! Internal services are not exposed by the gateway, so these tests call identity's own
//! address and run in the distributed wiring only; the all-in-one wiring reaches the same
//! code through the other services' tests.

use portal_proto::identity::{
    AccountType, BatchGetAccountsRequest, BatchGetContactsRequest, BatchGetOrganizationsRequest,
    BatchGetRoleAncestryRequest, BatchGetUsersRequest, DeactivateUserRequest, GetMembershipEpochsRequest,
    GetUserAccessProfileRequest, ListRoleUsersRequest, MembershipSource, UserKind, WellKnownRole,
    identity_internal_service_client::IdentityInternalServiceClient, user_service_client::UserServiceClient,
};
use portal_tests::{Backend, Mode, Suite, authed, fixtures, suite_variants};
use service_kit::{Caller, SignedUpstream, assertion::AssertionKey, upstream};
use tonic::Code;
use tonic_types::StatusExt;

suite_variants!(
    start: |mode, backend| distributed(mode, backend);
    threads: 2;
    the_access_profile_lists_every_role_nearest_first_and_its_epoch_moves_with_each_change,
    batch_lookups_answer_in_request_order_and_report_unknown_ids,
    a_roles_active_users_are_listed_with_its_descendants_page_by_page,
);

async fn distributed(mode: Mode, backend: Backend) -> Option<Suite> {
    if mode == Mode::AllInOne {
        return None;
    }
    Suite::start(mode, backend).await
}

fn identity(suite: &Suite) -> IdentityInternalServiceClient<SignedUpstream> {
    let key = AssertionKey::new(suite.config.assertion.secret.as_bytes(), 60_000);
    let address = format!("http://{}", suite.service_addresses["identity"]);
    let upstream = upstream::remote(&address).expect("identity's address");
    IdentityInternalServiceClient::new(tonic::service::interceptor::InterceptedService::new(
        upstream,
        service_kit::upstream::SignAs::new(key, Caller::service("test")),
    ))
}

async fn the_access_profile_lists_every_role_nearest_first_and_its_epoch_moves_with_each_change(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &acme.id, "Boston").await;
    let north = fixtures::role(&suite, &admin, &boston.id, "Boston North").await;
    let managers = fixtures::functional_role(&suite, &admin, &acme.id, "Portal managers").await;
    let (ann, _) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    fixtures::add_to_role(&suite, &admin, &north.id, &[&ann.id]).await;
    let mut identity = identity(&suite);

    let profile = identity
        .get_user_access_profile(GetUserAccessProfileRequest { user_id: ann.id.clone() })
        .await
        .expect("the profile")
        .into_inner();
    assert_eq!((profile.kind(), profile.active, profile.system_administrator), (UserKind::External, true, false));
    assert_eq!(profile.organization_id, acme.id);
    assert_eq!(profile.licence_product_id, fixtures::PRODUCT);
    let roles: Vec<_> =
        profile.roles.iter().map(|r| (r.role_id.as_str(), r.distance, r.source(), r.via_role_id.as_str())).collect();
    let mut expected_nearest = vec![
        (north.id.as_str(), 0, MembershipSource::Direct, ""),
        (acme.id.as_str(), 0, MembershipSource::Implicit, ""),
        ("all-external-users", 0, MembershipSource::Implicit, ""),
    ];
    expected_nearest.sort_by_key(|(id, ..)| id.to_string());
    assert_eq!(&roles[..3], expected_nearest.as_slice(), "direct and implied roles come first");
    assert_eq!(roles[3], (boston.id.as_str(), 1, MembershipSource::Inherited, north.id.as_str()));
    assert_eq!(roles.len(), 4, "each role once, at its smallest distance: {roles:?}");

    let epoch = profile.membership_epoch;
    fixtures::add_to_role(&suite, &admin, &managers.id, &[&ann.id]).await;
    let profile = identity
        .get_user_access_profile(GetUserAccessProfileRequest { user_id: ann.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert!(profile.membership_epoch > epoch, "a new membership moves the epoch");
    assert_eq!(profile.roles[0].role_id, managers.id, "functional roles come first at equal distance");
    let root = profile.roles.iter().find(|r| r.role_id == "all-external-users").unwrap();
    assert_eq!(root.well_known(), WellKnownRole::AllExternalUsers);

    let before = profile.membership_epoch;
    UserServiceClient::new(suite.channel())
        .deactivate_user(authed(DeactivateUserRequest { id: ann.id.clone(), ..Default::default() }, &admin))
        .await
        .expect("deactivate");
    let epochs = identity
        .get_membership_epochs(GetMembershipEpochsRequest { user_ids: vec![ann.id.clone(), "nobody".into()] })
        .await
        .unwrap()
        .into_inner();
    assert!(epochs.users[0].membership_epoch > before, "deactivation moves the epoch");
    assert_eq!(epochs.users[1].membership_epoch, 0, "unknown users have epoch 0");
    assert_eq!(epochs.role_tree_epoch, profile.role_tree_epoch, "no role moved");
    let profile = identity.get_user_access_profile(GetUserAccessProfileRequest { user_id: ann.id }).await.unwrap();
    assert!(!profile.into_inner().active);

    let missing =
        identity.get_user_access_profile(GetUserAccessProfileRequest { user_id: "nobody".into() }).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

async fn batch_lookups_answer_in_request_order_and_report_unknown_ids(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let resellers = fixtures::organization(&suite, &admin, "Resellers Ltd", AccountType::Partner).await;
    let boston = fixtures::role(&suite, &admin, &acme.id, "Boston").await;
    let (ann, _) = fixtures::member(&suite, &admin, &acme.id, "Ann@Acme.example", true).await;
    let (bob, _) = fixtures::member(&suite, &admin, &resellers.id, "bob@resellers.example", false).await;
    let mut identity = identity(&suite);

    let users = identity
        .batch_get_users(BatchGetUsersRequest { user_ids: vec![bob.id.clone(), "ghost".into(), ann.id.clone()] })
        .await
        .unwrap()
        .into_inner();
    let found: Vec<_> =
        users.users.iter().map(|u| (u.user_id.as_str(), u.email.as_str(), u.full_name.as_str())).collect();
    assert_eq!(
        found,
        [(bob.id.as_str(), "bob@resellers.example", "bob"), (ann.id.as_str(), "Ann@Acme.example", "Ann")]
    );
    assert_eq!(users.missing_user_ids, ["ghost"]);
    assert!(users.users[1].organization_administrator);
    assert_eq!(users.users[1].organization_id, acme.id);
    assert_eq!(users.users[1].account_id, acme.account_id, "a member's contact works for the organization's account");

    let contacts = identity
        .batch_get_contacts(BatchGetContactsRequest { contact_ids: vec![ann.contact_id.clone(), "ghost".into()] })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contacts.contacts[0].user_id, ann.id);
    assert_eq!(contacts.missing_contact_ids, ["ghost"]);

    let accounts = identity
        .batch_get_accounts(BatchGetAccountsRequest {
            account_ids: vec![resellers.account_id.clone(), acme.account_id.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    let found: Vec<_> =
        accounts.accounts.iter().map(|a| (a.r#type(), a.organization_id.as_str(), a.name.as_str())).collect();
    assert_eq!(
        found,
        [
            (AccountType::Partner, resellers.id.as_str(), "Resellers Ltd"),
            (AccountType::Customer, acme.id.as_str(), "Acme")
        ]
    );

    let organizations = identity
        .batch_get_organizations(BatchGetOrganizationsRequest {
            organization_ids: vec![acme.id.clone(), resellers.id.clone(), boston.id.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(organizations.missing_organization_ids, [boston.id.clone()], "a role is not an organization");
    assert_eq!(organizations.organizations[0].administrator_user_ids, [ann.id.clone()]);
    assert!(!organizations.organizations[0].partner);
    assert!(organizations.organizations[1].partner, "partner organizations sit under Partners");

    let ancestry = identity
        .batch_get_role_ancestry(BatchGetRoleAncestryRequest { role_ids: vec![boston.id.clone()] })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ancestry.roles[0].ancestor_role_ids, [acme.id.clone(), "all-external-users".into()]);
    assert_eq!(ancestry.roles[0].organization_id, acme.id);

    let too_many = identity
        .batch_get_users(BatchGetUsersRequest { user_ids: (0..501).map(|n| n.to_string()).collect() })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
    assert_eq!(too_many.get_details_bad_request().unwrap().field_violations[0].field, "user_ids");
}

async fn a_roles_active_users_are_listed_with_its_descendants_page_by_page(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let desk = fixtures::role(&suite, &admin, &acme.id, "Service desk").await;
    let night = fixtures::role(&suite, &admin, &desk.id, "Night shift").await;
    let mut direct = Vec::new();
    for email in ["ann@acme.example", "bob@acme.example", "gone@acme.example"] {
        direct.push(fixtures::member(&suite, &admin, &acme.id, email, false).await.0);
    }
    let (nina, _) = fixtures::member(&suite, &admin, &acme.id, "nina@acme.example", false).await;
    fixtures::add_to_role(&suite, &admin, &desk.id, &direct.iter().map(|u| u.id.as_str()).collect::<Vec<_>>()).await;
    fixtures::add_to_role(&suite, &admin, &night.id, &[&nina.id, &direct[0].id]).await;
    let gone = DeactivateUserRequest { id: direct[2].id.clone(), ..Default::default() };
    UserServiceClient::new(suite.channel()).deactivate_user(authed(gone, &admin)).await.unwrap();
    let mut identity = identity(&suite);
    let list = |include_descendants, page_size, page_token: &str| ListRoleUsersRequest {
        role_id: desk.id.clone(),
        include_descendants,
        page_size,
        page_token: page_token.into(),
    };

    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let members = identity.list_role_users(list(false, 0, "")).await.unwrap().into_inner();
    let ids: Vec<String> = members.users.iter().map(|u| u.user_id.clone()).collect();
    assert_eq!(ids, sorted(vec![direct[0].id.clone(), direct[1].id.clone()]), "active direct members, by id");
    assert!(members.users.iter().all(|u| u.active && !u.email.is_empty()));

    // With the night shift below it: Nina too, Ann once; two per page.
    let first = identity.list_role_users(list(true, 2, "")).await.unwrap().into_inner();
    let second = identity.list_role_users(list(true, 2, &first.next_page_token)).await.unwrap().into_inner();
    assert!(second.next_page_token.is_empty());
    let ids: Vec<String> = first.users.iter().chain(&second.users).map(|u| u.user_id.clone()).collect();
    assert_eq!(ids, sorted(vec![direct[0].id.clone(), direct[1].id.clone(), nina.id.clone()]));

    let unknown = ListRoleUsersRequest { role_id: "no-such-role".into(), ..Default::default() };
    assert_eq!(identity.list_role_users(unknown).await.unwrap_err().code(), Code::NotFound);
    let status = identity.list_role_users(list(false, 501, "")).await.unwrap_err();
    assert_eq!(status.get_details_bad_request().unwrap().field_violations[0].field, "page_size");
}
