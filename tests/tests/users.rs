//! Users created by hand, licences and their seats, deactivation, through the gateway
//! (issue 4, DESIGN.md §3 "One email, one user", "Licences", "Sessions").

use portal_proto::identity::{
    AccountType, AssignLicenceRequest, CreateUserRequest, DeactivateUserRequest, DeleteUserRequest,
    GetLicenceProductRequest, GetUserRequest, ListLicenceAssignmentsRequest, ListUsersRequest, ReactivateUserRequest,
    ReleaseLicenceRequest, UpdateUserRequest, User, UserKind, WhoAmIRequest,
    licence_service_client::LicenceServiceClient, session_service_client::SessionServiceClient,
    user_service_client::UserServiceClient,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(
    one_email_is_one_user_whatever_its_case,
    seats_are_never_oversold_and_a_failed_create_leaves_nothing,
    a_retried_create_with_the_same_request_id_creates_once,
    deactivation_ends_sessions_and_reactivation_restores_login,
    releasing_the_licence_ends_sessions_on_the_next_call,
    only_administrators_manage_users_and_others_are_not_found,
    users_are_listed_changed_and_deleted_within_the_callers_rights,
);

const PRODUCT: &str = "customer-portal-on-site";
const PASSWORD: &str = "a long enough user password";

fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

fn external(email: &str, product: &str, password: &str) -> CreateUserRequest {
    CreateUserRequest {
        user: Some(User { email: email.into(), kind: UserKind::External.into(), ..Default::default() }),
        licence_product_id: product.into(),
        password: password.into(),
        ..Default::default()
    }
}

async fn create(suite: &Suite, token: &str, request: CreateUserRequest) -> Result<User, Status> {
    UserServiceClient::new(suite.channel()).create_user(authed(request, token)).await.map(|r| r.into_inner())
}

async fn used_seats(suite: &Suite, token: &str, product: &str) -> i32 {
    let mut licences = LicenceServiceClient::new(suite.channel());
    let request = GetLicenceProductRequest { id: product.into() };
    licences.get_licence_product(authed(request, token)).await.unwrap().into_inner().used_seats
}

async fn one_email_is_one_user_whatever_its_case(suite: Suite) {
    let admin = suite.admin_token().await;
    let alice = create(&suite, &admin, external("Alice@Example.com", PRODUCT, "")).await.unwrap();
    assert_eq!(alice.email, "Alice@Example.com");
    assert_eq!(alice.full_name, "Alice", "a new contact is named after the address's local part");
    assert_eq!(alice.licence_product_id, PRODUCT);
    for twin in ["alice@example.com", "  ALICE@EXAMPLE.COM "] {
        let status = create(&suite, &admin, external(twin, PRODUCT, "")).await.unwrap_err();
        assert_eq!((status.code(), reason(&status)), (Code::AlreadyExists, "EMAIL_ALREADY_USED".into()), "{twin}");
    }
    assert_eq!(used_seats(&suite, &admin, PRODUCT).await, 1, "the refused twins took no seat");
    let bad = create(&suite, &admin, external("Bad Address", PRODUCT, "")).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad.get_details_bad_request().unwrap().field_violations[0].field, "user.email");
}

async fn seats_are_never_oversold_and_a_failed_create_leaves_nothing(suite: Suite) {
    let admin = suite.admin_token().await;
    let product = "partner-portal-on-site"; // 50 seats in the default configuration
    let attempts: Vec<_> = (0..60)
        .map(|i| {
            let channel = suite.channel();
            let admin = admin.clone();
            tokio::spawn(async move {
                let request = authed(external(&format!("partner{i}@example.com"), product, ""), &admin);
                UserServiceClient::new(channel).create_user(request).await
            })
        })
        .collect();
    let mut created = 0;
    let mut refused = Vec::new();
    for (i, attempt) in attempts.into_iter().enumerate() {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(status) => {
                assert_eq!((status.code(), reason(&status)), (Code::ResourceExhausted, "NO_FREE_SEAT".into()));
                refused.push(i);
            }
        }
    }
    assert_eq!((created, refused.len()), (50, 10));
    assert_eq!(used_seats(&suite, &admin, product).await, 50);
    let mut licences = LicenceServiceClient::new(suite.channel());
    let mut assignments = 0;
    let mut page_token = String::new();
    loop {
        let request = ListLicenceAssignmentsRequest {
            licence_product_id: product.into(),
            page_size: 20,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = licences.list_licence_assignments(authed(request, &admin)).await.unwrap().into_inner();
        assignments += page.licence_assignments.len();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(assignments, 50);
    // A refused address left no user behind: once a seat is free it can be created.
    let other = create(&suite, &admin, external("spare@example.com", PRODUCT, "")).await.unwrap();
    let first_refused = format!("partner{}@example.com", refused[0]);
    let mut release = ReleaseLicenceRequest { user_id: String::new() };
    let holder = licences
        .list_licence_assignments(authed(
            ListLicenceAssignmentsRequest { licence_product_id: product.into(), page_size: 1, ..Default::default() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .licence_assignments
        .remove(0);
    release.user_id = holder.user_id;
    licences.release_licence(authed(release, &admin)).await.unwrap();
    create(&suite, &admin, external(&first_refused, product, "")).await.expect("the refused address was never created");
    assert_ne!(other.id, "");
}

async fn a_retried_create_with_the_same_request_id_creates_once(suite: Suite) {
    let admin = suite.admin_token().await;
    let request = CreateUserRequest { request_id: "create-bob-1".into(), ..external("bob@example.com", PRODUCT, "") };
    let first = create(&suite, &admin, request.clone()).await.unwrap();
    let again = create(&suite, &admin, request).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(used_seats(&suite, &admin, PRODUCT).await, 1);
}

async fn deactivation_ends_sessions_and_reactivation_restores_login(suite: Suite) {
    let admin = suite.admin_token().await;
    let carol = create(&suite, &admin, external("carol@example.com", PRODUCT, PASSWORD)).await.unwrap();
    let token = suite.login("carol@example.com", PASSWORD).await.unwrap();
    let mut sessions = SessionServiceClient::new(suite.channel());
    sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await.unwrap();
    let mut users = UserServiceClient::new(suite.channel());
    let stale = DeactivateUserRequest { id: carol.id.clone(), etag: "999".into(), release_licence: false };
    assert_eq!(users.deactivate_user(authed(stale, &admin)).await.unwrap_err().code(), Code::Aborted);
    let request = DeactivateUserRequest { id: carol.id.clone(), etag: carol.etag.clone(), release_licence: false };
    let deactivated = users.deactivate_user(authed(request, &admin)).await.unwrap().into_inner().user.unwrap();
    assert!(!deactivated.active);
    assert_eq!(deactivated.licence_product_id, PRODUCT, "the seat is kept unless asked");
    assert_eq!(sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await.unwrap_err().code(), Code::Unauthenticated);
    let refused = suite.login("carol@example.com", PASSWORD).await.unwrap_err();
    let wrong = suite.login("carol@example.com", "a wrong password entirely").await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (wrong.code(), wrong.message()));
    let request = ReactivateUserRequest { id: carol.id.clone(), ..Default::default() };
    assert!(users.reactivate_user(authed(request, &admin)).await.unwrap().into_inner().user.unwrap().active);
    suite.login("carol@example.com", PASSWORD).await.expect("logs in again");
}

async fn releasing_the_licence_ends_sessions_on_the_next_call(suite: Suite) {
    let admin = suite.admin_token().await;
    let dave = create(&suite, &admin, external("dave@example.com", PRODUCT, PASSWORD)).await.unwrap();
    let token = suite.login("dave@example.com", PASSWORD).await.unwrap();
    let mut licences = LicenceServiceClient::new(suite.channel());
    let released = licences
        .release_licence(authed(ReleaseLicenceRequest { user_id: dave.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(released.released.unwrap().licence_product_id, PRODUCT);
    let mut sessions = SessionServiceClient::new(suite.channel());
    assert_eq!(sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(suite.login("dave@example.com", PASSWORD).await.unwrap_err().code(), Code::Unauthenticated);
    let assign = AssignLicenceRequest { user_id: dave.id.clone(), licence_product_id: PRODUCT.into() };
    licences.assign_licence(authed(assign.clone(), &admin)).await.unwrap();
    let repeated = licences.assign_licence(authed(assign, &admin)).await.unwrap().into_inner();
    assert_eq!(repeated.licence_assignment.unwrap().user_id, dave.id, "assigning again returns the seat held");
    assert_eq!(used_seats(&suite, &admin, PRODUCT).await, 1);
    suite.login("dave@example.com", PASSWORD).await.expect("a licensed user logs in again");
}

async fn only_administrators_manage_users_and_others_are_not_found(suite: Suite) {
    let admin = suite.admin_token().await;
    let erin = create(&suite, &admin, external("erin@example.com", PRODUCT, PASSWORD)).await.unwrap();
    let frank = create(&suite, &admin, external("frank@example.com", PRODUCT, PASSWORD)).await.unwrap();
    let erin_token = suite.login("erin@example.com", PASSWORD).await.unwrap();
    let denied = create(&suite, &erin_token, external("mallory@example.com", PRODUCT, "")).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let mut users = UserServiceClient::new(suite.channel());
    let own = users.get_user(authed(GetUserRequest { id: erin.id.clone() }, &erin_token)).await.unwrap().into_inner();
    assert_eq!(own.email, "erin@example.com");
    let other = users.get_user(authed(GetUserRequest { id: frank.id.clone() }, &erin_token)).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let request = DeactivateUserRequest { id: frank.id.clone(), ..Default::default() };
    // Only administrators deactivate users (DeactivateUser's contract): erin is refused
    // before frank is looked up.
    assert_eq!(users.deactivate_user(authed(request, &erin_token)).await.unwrap_err().code(), Code::PermissionDenied);
    let mut licences = LicenceServiceClient::new(suite.channel());
    let request = ReleaseLicenceRequest { user_id: frank.id };
    assert_eq!(
        licences.release_licence(authed(request, &erin_token)).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}

async fn users_are_listed_changed_and_deleted_within_the_callers_rights(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let globex = fixtures::organization(&suite, &admin, "Globex", AccountType::Customer).await;
    let (_, acme_admin) = fixtures::member(&suite, &admin, &acme.id, "boss@acme.example", true).await;
    let (ann, ann_token) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    let (bob, _) = fixtures::member(&suite, &admin, &globex.id, "bob@globex.example", false).await;
    let mut users = UserServiceClient::new(suite.channel());
    let emails = |list: Vec<User>| list.into_iter().map(|u| u.email).collect::<Vec<_>>();

    // Listing: employees see everyone, an organization administrator their organization,
    // a plain user only themselves.
    let list = |organization: &str| ListUsersRequest { organization_id: organization.into(), ..Default::default() };
    let everyone = users.list_users(authed(list(""), &admin)).await.unwrap().into_inner().users;
    assert_eq!(everyone.len(), 4, "the administrator and three members: {:?}", emails(everyone.clone()));
    let acme_users = users.list_users(authed(list(""), &acme_admin)).await.unwrap().into_inner().users;
    assert_eq!(emails(acme_users), ["ann@acme.example", "boss@acme.example"]);
    let other = users.list_users(authed(list(&globex.id), &acme_admin)).await.unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    assert_eq!(
        emails(users.list_users(authed(list(""), &ann_token)).await.unwrap().into_inner().users),
        ["ann@acme.example"]
    );
    let by_text = ListUsersRequest { text: "BOB".into(), page_size: 1, ..Default::default() };
    let found = users.list_users(authed(by_text, &admin)).await.unwrap().into_inner();
    assert_eq!((emails(found.users), found.next_page_token.is_empty()), (vec!["bob@globex.example".to_owned()], true));

    // Changing: a user sets their own culture; the email is the username and changes
    // only by an administrator, ending the user's sessions.
    let change = |user: User, paths: &[&str]| UpdateUserRequest {
        user: Some(user),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
    };
    let german = User { id: ann.id.clone(), culture: "de-DE".into(), ..Default::default() };
    let updated = users.update_user(authed(change(german, &["culture"]), &ann_token)).await.unwrap().into_inner();
    assert_eq!(updated.culture, "de-DE");
    let renamed = User { id: ann.id.clone(), email: "Ann.Smith@acme.example".into(), ..Default::default() };
    let denied = users.update_user(authed(change(renamed.clone(), &["email"]), &ann_token)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let taken = User { email: "BOB@globex.example".into(), ..renamed.clone() };
    let taken = users.update_user(authed(change(taken, &["email"]), &admin)).await.unwrap_err();
    assert_eq!((taken.code(), reason(&taken)), (Code::AlreadyExists, "EMAIL_ALREADY_USED".into()));
    users.update_user(authed(change(renamed, &["email"]), &admin)).await.expect("the administrator changes the email");
    let whoami = SessionServiceClient::new(suite.channel()).who_am_i(authed(WhoAmIRequest {}, &ann_token)).await;
    assert_eq!(whoami.unwrap_err().code(), Code::Unauthenticated, "a new username ends the sessions");
    suite.login("ann.smith@acme.example", fixtures::MEMBER_PASSWORD).await.expect("the new username logs in");
    let flag = User { id: bob.id.clone(), system_administrator: true, ..Default::default() };
    let refused = users.update_user(authed(change(flag, &["system_administrator"]), &admin)).await.unwrap_err();
    assert_eq!(reason(&refused), "SYSTEM_ADMINISTRATOR_MUST_BE_EMPLOYEE");

    // Deleting: within the caller's organization only, never oneself; the seat comes back.
    let delete = |id: &str| DeleteUserRequest { id: id.into(), etag: String::new() };
    assert_eq!(users.delete_user(authed(delete(&bob.id), &acme_admin)).await.unwrap_err().code(), Code::NotFound);
    let me = SessionServiceClient::new(suite.channel()).who_am_i(authed(WhoAmIRequest {}, &admin)).await.unwrap();
    let myself = users.delete_user(authed(delete(&me.into_inner().user_id), &admin)).await.unwrap_err();
    assert_eq!(reason(&myself), "CANNOT_DELETE_SELF");
    users.delete_user(authed(delete(&ann.id), &acme_admin)).await.expect("the organization administrator deletes");
    let gone = users.get_user(authed(GetUserRequest { id: ann.id.clone() }, &admin)).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let login = suite.login("ann.smith@acme.example", fixtures::MEMBER_PASSWORD).await.unwrap_err();
    assert_eq!(login.code(), Code::Unauthenticated);
}
