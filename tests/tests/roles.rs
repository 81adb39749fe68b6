//! The role tree through the gateway: listing what the caller may see, renaming and moving
//! roles within their organization, deleting them, and listing a role's members (issue 4;
//! DESIGN.md §3 "Organizations"; seed 003 "Users and permissions on the portal").

use portal_proto::identity::{
    AccountType, DeleteRoleRequest, ListRoleMembershipsRequest, ListRolesRequest, Role, UpdateRoleRequest,
    WellKnownRole, role_service_client::RoleServiceClient,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(roles_are_listed_moved_and_deleted_within_their_organization);

fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

fn change(role: Role, paths: &[&str]) -> UpdateRoleRequest {
    UpdateRoleRequest {
        role: Some(role),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
    }
}

async fn roles_are_listed_moved_and_deleted_within_their_organization(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let globex = fixtures::organization(&suite, &admin, "Globex", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &acme.id, "Boston").await;
    let toronto = fixtures::role(&suite, &admin, &acme.id, "Toronto").await;
    fixtures::role(&suite, &admin, &globex.id, "Berlin").await;
    let (_, acme_admin) = fixtures::member(&suite, &admin, &acme.id, "boss@acme.example", true).await;
    let (ann, ann_token) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    let (bob, _) = fixtures::member(&suite, &admin, &acme.id, "bob@acme.example", false).await;
    fixtures::add_to_role(&suite, &admin, &toronto.id, &[&ann.id, &bob.id]).await;
    let mut roles = RoleServiceClient::new(suite.channel());
    let names = |roles: Vec<Role>| roles.into_iter().map(|r| r.display_name).collect::<Vec<_>>();

    // An external user sees the built-in roles and their organization's, never another's.
    let all = ListRolesRequest { page_size: 500, ..Default::default() };
    let seen = names(roles.list_roles(authed(all.clone(), &ann_token)).await.unwrap().into_inner().roles);
    assert!(seen.contains(&"Boston".to_owned()) && seen.contains(&"All external users".to_owned()), "{seen:?}");
    assert!(!seen.contains(&"Berlin".to_owned()), "another organization's role is hidden: {seen:?}");
    let alias = ListRolesRequest { name: "all portal users".into(), ..Default::default() };
    let found = roles.list_roles(authed(alias, &admin)).await.unwrap().into_inner().roles;
    assert_eq!(found[0].well_known(), WellKnownRole::AllExternalUsers, "the old name still finds the root");
    let below = ListRolesRequest { descendants_of_role_id: acme.id.clone(), ..Default::default() };
    assert_eq!(names(roles.list_roles(authed(below, &admin)).await.unwrap().into_inner().roles), ["Boston", "Toronto"]);

    // The organization's administrator renames and moves its roles; cycles, built-in roles
    // and moves out of the organization are refused.
    let moved = Role {
        id: toronto.id.clone(),
        display_name: "Toronto office".into(),
        parent_role_id: boston.id.clone(),
        ..Default::default()
    };
    let moved =
        roles.update_role(authed(change(moved, &["display_name", "parent_role_id"]), &acme_admin)).await.unwrap();
    assert_eq!(
        (moved.get_ref().display_name.as_str(), moved.get_ref().parent_role_id.as_str()),
        ("Toronto office", boston.id.as_str())
    );
    let cycle = Role { id: boston.id.clone(), parent_role_id: toronto.id.clone(), ..Default::default() };
    let cycle = roles.update_role(authed(change(cycle, &["parent_role_id"]), &acme_admin)).await.unwrap_err();
    assert_eq!((cycle.code(), reason(&cycle)), (Code::InvalidArgument, "ROLE_CYCLE".into()));
    let out = Role { id: boston.id.clone(), parent_role_id: globex.id.clone(), ..Default::default() };
    let out = roles.update_role(authed(change(out, &["parent_role_id"]), &admin)).await.unwrap_err();
    assert_eq!(reason(&out), "ROLE_ORGANIZATION_FIXED");
    let builtin = Role { id: "all-external-users".into(), display_name: "Everyone".into(), ..Default::default() };
    let builtin = roles.update_role(authed(change(builtin, &["display_name"]), &admin)).await.unwrap_err();
    assert_eq!(reason(&builtin), "ROLE_BUILTIN");

    // Members are listed page by page.
    let members = |token: &str| ListRoleMembershipsRequest {
        role_id: toronto.id.clone(),
        page_size: 1,
        page_token: token.into(),
        ..Default::default()
    };
    let first = roles.list_role_memberships(authed(members(""), &acme_admin)).await.unwrap().into_inner();
    let second =
        roles.list_role_memberships(authed(members(&first.next_page_token), &acme_admin)).await.unwrap().into_inner();
    assert_eq!(first.memberships.len() + second.memberships.len(), 2);
    assert!(
        second.next_page_token.is_empty()
            || roles
                .list_role_memberships(authed(members(&second.next_page_token), &acme_admin))
                .await
                .unwrap()
                .into_inner()
                .memberships
                .is_empty()
    );

    // Deleting: not while subordinate roles or (without force) members remain.
    let delete = |id: &str, force: bool| DeleteRoleRequest { id: id.into(), etag: String::new(), force };
    let parent = roles.delete_role(authed(delete(&boston.id, false), &acme_admin)).await.unwrap_err();
    assert_eq!(reason(&parent), "ROLE_HAS_CHILDREN");
    let busy = roles.delete_role(authed(delete(&toronto.id, false), &acme_admin)).await.unwrap_err();
    assert_eq!(reason(&busy), "ROLE_HAS_MEMBERS");
    roles
        .delete_role(authed(delete(&toronto.id, true), &acme_admin))
        .await
        .expect("forced deletion ends the memberships");
    let request = ListRoleMembershipsRequest { user_id: ann.id.clone(), ..Default::default() };
    assert!(roles.list_role_memberships(authed(request, &admin)).await.unwrap().into_inner().memberships.is_empty());
    let elsewhere = roles.delete_role(authed(delete(&boston.id, false), &ann_token)).await.unwrap_err();
    assert_eq!(elsewhere.code(), Code::PermissionDenied, "a plain member deletes nothing");
}
