//! Concurrent writes across services (issue 13 §6): the all-in-one default on SQLite
//! never answers "database is locked", and no record is left registered with access but
//! missing from the service that owns it. Also run on PostgreSQL, where the same calls must
//! hold as well.

#[path = "support/case.rs"]
mod support_case;
#[path = "support/knowledge.rs"]
#[allow(unused_imports)]
mod support_knowledge;
#[path = "support/partner.rs"]
mod support_partner;

use std::collections::BTreeSet;

use portal_proto::{
    case::{ArticleType, CreateArticleRequest, CreateCaseRequest, LikeArticleRequest, PostMessageRequest},
    partner::{CreateLeadRequest, Lead},
};
use portal_tests::{Backend, Suite, authed, suite_tests};
use sqlx::{AssertSqlSafe, Connection, Row};
use support_case::{agreement, cases, customer, messages, nine_to_six, open_case, service};
use support_knowledge::{draft, knowledge};
use support_partner::{leads, partner, reason, reseller_partnership};

suite_tests!(
    mixed_writes_from_many_clients_all_succeed_and_leave_no_dangling_registration,
    racing_creates_with_one_request_id_make_one_record,
);

/// Concurrent clients, and the writes each makes.
const CLIENTS: usize = 32;
const WRITES_PER_CLIENT: usize = 16;

/// The tokens and parents the writers use.
struct Writers {
    admin: String,
    customer: String,
    partner: String,
    service_id: String,
    article_id: String,
}

async fn writers(suite: &Suite) -> Writers {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(suite, &admin, "Office", "UTC", &[]).await;
    let service = service(suite, &admin, "Printing", 240, 600).await;
    agreement(suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, customer, _) = customer(suite, &admin, "Acme", "ann@acme.test").await;
    let reseller = partner(suite, &admin, "Reseller One").await;
    reseller_partnership(suite, &admin, &reseller).await.unwrap();
    let article = draft("Shared article", ArticleType::Faq, "body", &[]);
    let request = CreateArticleRequest { article: Some(article), request_id: String::new() };
    let article_id = knowledge(suite).create_article(authed(request, &admin)).await.unwrap().into_inner().id;
    Writers { admin, customer, partner: reseller.token, service_id: service.id, article_id }
}

/// One write of a mix: a case, a message on the client's own case (a case takes one
/// change at a time: parallel posts to one case are refused as stale by design), an
/// article, a like or a lead.
async fn write(suite: &Suite, w: &Writers, case_id: &str, client: usize, n: usize) -> Result<(), tonic::Status> {
    let name = format!("c{client}-w{n}");
    match (client + n) % 5 {
        0 => open_case(suite, &w.customer, &w.service_id, &name).await.map(drop),
        1 => {
            let request = PostMessageRequest { case_id: case_id.into(), body: name, ..Default::default() };
            messages(suite).post_message(authed(request, &w.customer)).await.map(drop)
        }
        2 => {
            let article = draft(&name, ArticleType::Faq, "body", &["load"]);
            let request = CreateArticleRequest { article: Some(article), request_id: String::new() };
            knowledge(suite).create_article(authed(request, &w.admin)).await.map(drop)
        }
        3 => {
            let request = LikeArticleRequest { article_id: w.article_id.clone() };
            knowledge(suite).like_article(authed(request, &w.customer)).await.map(drop)
        }
        _ => {
            let lead = Lead { company_name: name, ..Default::default() };
            let request = CreateLeadRequest { lead: Some(lead), request_id: String::new() };
            leads(suite).create_lead(authed(request, &w.partner)).await.map(drop)
        }
    }
}

async fn mixed_writes_from_many_clients_all_succeed_and_leave_no_dangling_registration(suite: Suite) {
    let w = writers(&suite).await;
    let failures: Vec<String> = {
        let runs = (0..CLIENTS).map(|client| {
            let (suite, w) = (&suite, &w);
            async move {
                let mut failed = Vec::new();
                let case_id = match open_case(suite, &w.customer, &w.service_id, &format!("client {client}")).await {
                    Ok(case) => case.id,
                    Err(status) => return vec![format!("client {client} case: {status:?}")],
                };
                for n in 1..WRITES_PER_CLIENT {
                    if let Err(status) = write(suite, w, &case_id, client, n).await {
                        failed.push(format!("client {client} write {n}: {status:?}"));
                    }
                }
                failed
            }
        });
        futures::future::join_all(runs).await.into_iter().flatten().collect()
    };
    assert!(failures.is_empty(), "{} of {} writes failed: {failures:#?}", failures.len(), CLIENTS * WRITES_PER_CLIENT);
    let dangling = dangling_registrations(&suite).await;
    assert!(dangling.is_empty(), "registered with access but not stored: {dangling:?}");
    let cases = stored_ids(&suite, "case", "SELECT id FROM cases").await;
    assert!(cases.len() > CLIENTS * WRITES_PER_CLIENT / 5, "the cases were stored ({})", cases.len());
}

async fn racing_creates_with_one_request_id_make_one_record(suite: Suite) {
    let w = writers(&suite).await;
    let w = &w;
    let tries = 8;
    let case_ids = futures::future::join_all((0..tries).map(|_| {
        let case = portal_proto::case::Case {
            subject: "Once".into(),
            service_item_id: w.service_id.clone(),
            ..Default::default()
        };
        let request = CreateCaseRequest { case: Some(case), request_id: "case-once".into() };
        let mut client = cases(&suite);
        async move { client.create_case(authed(request, &w.customer)).await.map(|r| r.into_inner().id) }
    }))
    .await;
    let lead_ids = futures::future::join_all((0..tries).map(|_| {
        let lead = Lead { company_name: "Once Inc".into(), ..Default::default() };
        let request = CreateLeadRequest { lead: Some(lead), request_id: "lead-once".into() };
        let mut client = leads(&suite);
        async move { client.create_lead(authed(request, &w.partner)).await.map(|r| r.into_inner().id) }
    }))
    .await;
    let article_ids = futures::future::join_all((0..tries).map(|_| {
        let article = draft("Once", ArticleType::Faq, "body", &[]);
        let request = CreateArticleRequest { article: Some(article), request_id: "article-once".into() };
        let mut client = knowledge(&suite);
        async move { client.create_article(authed(request, &w.admin)).await.map(|r| r.into_inner().id) }
    }))
    .await;
    for (what, ids) in [("case", case_ids), ("article", article_ids)] {
        let ids: BTreeSet<String> = ids.into_iter().map(|id| id.unwrap_or_else(|s| panic!("{what}: {s:?}"))).collect();
        assert_eq!(ids.len(), 1, "every retry of the {what} answers the one record: {ids:?}");
    }
    // partner-svc answers a create racing one with the same request id ALREADY_EXISTS
    // (REQUEST_IN_PROGRESS, retry to get it); the rest answer the one lead.
    let mut answered = BTreeSet::new();
    for result in lead_ids {
        match result {
            Ok(id) => drop(answered.insert(id)),
            Err(status) => assert_eq!(
                (status.code(), reason(&status).as_str()),
                (tonic::Code::AlreadyExists, "REQUEST_IN_PROGRESS"),
                "{status:?}"
            ),
        }
    }
    let stored = stored_ids(&suite, "partner", "SELECT id FROM leads WHERE company_name = 'Once Inc'").await;
    assert_eq!(stored.len(), 1, "one lead is stored");
    assert!(answered.is_subset(&stored), "every answer is that lead");
    let dangling = dangling_registrations(&suite).await;
    assert!(dangling.is_empty(), "registered with access but not stored: {dangling:?}");
}

/// Records access knows of (object code, id) that their owning service does not store.
async fn dangling_registrations(suite: &Suite) -> Vec<(String, String)> {
    let owners = [
        ("Case", "case", "SELECT id FROM cases"),
        ("KnowledgeBase", "case", "SELECT id FROM kb_articles"),
        ("Lead", "partner", "SELECT id FROM leads"),
        ("Opportunity", "partner", "SELECT id FROM opportunities"),
        ("Partnership", "partner", "SELECT id FROM partnerships"),
    ];
    let mut dangling = Vec::new();
    for (object_code, area, select) in owners {
        let stored = stored_ids(suite, area, select).await;
        let registered = stored_ids(
            suite,
            "access",
            &format!("SELECT record_id AS id FROM records WHERE object_code = '{object_code}'"),
        )
        .await;
        dangling.extend(registered.difference(&stored).map(|id| (object_code.to_owned(), id.clone())));
    }
    dangling
}

/// The `id` column of `select` in `area`'s own database, read directly: access has no
/// public list of the records registered with it.
async fn stored_ids(suite: &Suite, area: &str, select: &str) -> BTreeSet<String> {
    sqlx::any::install_default_drivers();
    let (url, search_path) = match suite.backend {
        Backend::Sqlite => (format!("sqlite://{}/{area}.db?mode=ro", suite.config.data_dir.display()), None),
        Backend::Postgres => (
            suite.config.database.url.clone(),
            Some(format!("SET search_path TO \"{}{area}\"", suite.config.database.schema_prefix)),
        ),
    };
    let mut connection = sqlx::AnyConnection::connect(&url).await.expect("the service's database");
    if let Some(set) = search_path {
        sqlx::query(AssertSqlSafe(set)).execute(&mut connection).await.unwrap();
    }
    let rows = sqlx::query(AssertSqlSafe(select.to_owned())).fetch_all(&mut connection).await.unwrap();
    rows.iter().map(|row| row.get::<String, _>("id")).collect()
}
