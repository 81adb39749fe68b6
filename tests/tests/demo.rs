//! `--demo` (DESIGN.md §1; issues 4, 6 and 7): the loader the binary runs, run twice
//! against a fresh suite, leaves one copy of everything, and what it loaded is there
//! through the public API: Boston and Toronto, the demo logins, the catalog with its
//! agreements, the cases, the knowledge base and the Reseller program.

use gateway::demo::{self, DEMO_PASSWORD, DemoSummary};
use portal_proto::{
    case::{
        AgreementMatch, ArticleFilter, CaseStatus, ListArticlesRequest, ListCasesRequest, ListServiceItemsRequest,
        SelectServiceAgreementRequest, case_service_client::CaseServiceClient,
        knowledge_base_service_client::KnowledgeBaseServiceClient,
        service_agreement_service_client::ServiceAgreementServiceClient,
        service_catalog_service_client::ServiceCatalogServiceClient,
    },
    identity::{
        ListRolesRequest, ListUsersRequest, RoleKind, WhoAmIRequest, session_service_client::SessionServiceClient,
        user_service_client::UserServiceClient,
    },
    partner::{
        GetPartnerProgramRequest, ListLeadsRequest, lead_service_client::LeadServiceClient,
        partner_program_service_client::PartnerProgramServiceClient,
    },
};
use portal_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Suite, authed, suite_tests};

suite_tests!(loading_twice_leaves_one_demo_that_the_public_api_shows);

async fn loading_twice_leaves_one_demo_that_the_public_api_shows(suite: Suite) {
    let first = demo::load(suite.address, ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the demo loads");
    let second = demo::load(suite.address, ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the demo loads again");
    assert!(first.notes.is_empty(), "nothing skipped: {:?}", first.notes);
    assert_same_demo(&first, &second);
    let admin = suite.admin_token().await;

    // Boston and Toronto, once each, under Acme Inc.
    let roles = role_names(&suite, &admin, &first.customer_organization_id).await;
    assert_eq!(roles, ["Boston", "Toronto"], "one Boston and one Toronto role under Acme Inc");

    // Every demo login works with the demo password, and nobody was created twice.
    assert_eq!(first.logins.len(), 7);
    for login in &first.logins {
        let token = suite.login(&login.email, DEMO_PASSWORD).await.unwrap_or_else(|e| panic!("{}: {e}", login.email));
        let me = SessionServiceClient::new(suite.channel())
            .who_am_i(authed(WhoAmIRequest::default(), &token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(me.email, login.email);
        let listed = users_with_email(&suite, &admin, &login.email).await;
        assert_eq!(listed.len(), 1, "one user {}", login.email);
    }

    // The catalog, once, and agreements at each level.
    let items = ServiceCatalogServiceClient::new(suite.channel())
        .list_service_items(authed(ListServiceItemsRequest { page_size: 100, ..Default::default() }, &admin))
        .await
        .unwrap()
        .into_inner()
        .service_items;
    let mut names: Vec<_> = items.iter().map(|i| i.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Billing question", "Email and calendar", "Laptop replacement", "VPN access"]);
    assert!(items.iter().all(|i| i.response_time_minutes > 0 && i.resolution_time_minutes > i.response_time_minutes));
    let olivia = contact_of(&suite, &admin, "olivia.bennett@acme.example").await;
    let tom = contact_of(&suite, &admin, "tom.leroux@acme.example").await;
    let bella = contact_of(&suite, &admin, "bella.cruz@acme.example").await;
    let mut agreements = ServiceAgreementServiceClient::new(suite.channel());
    for (contact_id, expected) in
        [(&olivia, AgreementMatch::Contact), (&tom, AgreementMatch::Department), (&bella, AgreementMatch::Account)]
    {
        let request =
            SelectServiceAgreementRequest { contact_id: contact_id.clone(), service_item_id: items[0].id.clone() };
        let selected = agreements.select_service_agreement(authed(request, &admin)).await.unwrap().into_inner();
        assert_eq!(selected.selection.unwrap().r#match(), expected);
    }

    // Six cases, once each, in their several states.
    let cases = CaseServiceClient::new(suite.channel())
        .list_cases(authed(ListCasesRequest { page_size: 100, ..Default::default() }, &admin))
        .await
        .unwrap()
        .into_inner()
        .cases;
    let mut statuses: Vec<_> = cases.iter().map(|c| c.status()).collect();
    statuses.sort_by_key(|s| *s as i32);
    assert_eq!(
        statuses,
        [
            CaseStatus::New,
            CaseStatus::InProgress,
            CaseStatus::WaitingForResponse,
            CaseStatus::Resolved,
            CaseStatus::Closed,
            CaseStatus::Canceled
        ]
    );

    // Toronto reads the staff's articles (record permissions are on for articles).
    let tom_token = suite.login("tom.leroux@acme.example", DEMO_PASSWORD).await.unwrap();
    let request = ListArticlesRequest {
        page_size: 100,
        filter: Some(ArticleFilter { title_contains: "service desk".into(), ..Default::default() }),
        ..Default::default()
    };
    let articles = KnowledgeBaseServiceClient::new(suite.channel())
        .list_articles(authed(request, &tom_token))
        .await
        .unwrap()
        .into_inner()
        .articles;
    assert_eq!(articles.len(), 1, "Toronto reads the FAQ the administrator wrote");

    // The Reseller program, seen by the partner user, with the leads once.
    assert_eq!(first.partner_levels.len(), 3);
    let paul = suite.login("paul.reyes@globex.example", DEMO_PASSWORD).await.unwrap();
    let program = PartnerProgramServiceClient::new(suite.channel())
        .get_partner_program(authed(GetPartnerProgramRequest::default(), &paul))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(program.partner_type_name, "Reseller");
    assert_eq!(program.partnership_id, first.partnership_id);
    assert_eq!(program.next_level.unwrap().name, "Bronze");
    let leads = LeadServiceClient::new(suite.channel())
        .list_leads(authed(ListLeadsRequest { page_size: 100, ..Default::default() }, &paul))
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert_eq!(leads.len(), 3);
}

/// The second load found what the first made.
fn assert_same_demo(first: &DemoSummary, second: &DemoSummary) {
    assert_eq!(first.customer_organization_id, second.customer_organization_id);
    assert_eq!(first.partner_organization_id, second.partner_organization_id);
    assert_eq!((&first.boston_role_id, &first.toronto_role_id), (&second.boston_role_id, &second.toronto_role_id));
    assert_eq!(first.partnership_id, second.partnership_id);
    assert_eq!(first.cases, second.cases, "the same cases, numbers and states");
    assert_eq!(first.articles, second.articles);
    assert_eq!(first.logins, second.logins);
    assert_eq!(second.notes, first.notes);
}

async fn role_names(suite: &Suite, admin: &str, organization_id: &str) -> Vec<String> {
    let request = ListRolesRequest {
        kind: RoleKind::Organizational.into(),
        parent_role_id: organization_id.into(),
        page_size: 100,
        ..Default::default()
    };
    let roles = portal_proto::identity::role_service_client::RoleServiceClient::new(suite.channel())
        .list_roles(authed(request, admin))
        .await
        .unwrap()
        .into_inner()
        .roles;
    let mut names: Vec<_> = roles.into_iter().map(|r| r.display_name).collect();
    names.sort();
    names
}

/// The contact id of the demo user `email`.
async fn contact_of(suite: &Suite, admin: &str, email: &str) -> String {
    users_with_email(suite, admin, email).await.into_iter().next().expect("the demo user").contact_id
}

/// The users with `email`.
async fn users_with_email(suite: &Suite, admin: &str, email: &str) -> Vec<portal_proto::identity::User> {
    let request = authed(ListUsersRequest { email: email.into(), ..Default::default() }, admin);
    UserServiceClient::new(suite.channel()).list_users(request).await.unwrap().into_inner().users
}
