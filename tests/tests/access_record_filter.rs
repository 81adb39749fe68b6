//! RecordFilter end to end, as an owning service uses it: records registered with
//! access, grants copied into the service's own replica (`service_kit::access`), and the
//! predicate pushed into the service's SQL so lists are filtered and paginated in its
//! database (issue 5; internal.proto "RecordFilter").

#[path = "support/access.rs"]
mod support_access;

use portal_proto::{
    access::{Grantee, ObjectOperation, RecordFilterMode, RecordRight, grantee::Subject},
    identity::AccountType,
};
use portal_tests::{Suite, fixtures, suite_tests};
use service_kit::{
    access::{AccessClient, ListPredicate, REPLICA_DDL, list_predicate},
    db::{Backend, Database},
};
use sqlx::{AssertSqlSafe, Row};
use support_access::internal;

suite_tests!(lists_are_filtered_and_paginated_in_the_owning_database);

/// A stand-in for an owning service's database: its records table and the replica.
async fn service_database() -> Database {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
    for statement in REPLICA_DDL.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(AssertSqlSafe(statement.to_owned())).execute(&pool).await.unwrap();
    }
    sqlx::query("CREATE TABLE cases (id TEXT PRIMARY KEY, created_by TEXT NOT NULL)").execute(&pool).await.unwrap();
    Database::single(pool, Backend::Sqlite)
}

/// One page of the case ids `subject` may read, after `after`, as the owning service
/// would list them.
async fn page(access: &AccessClient, database: &Database, subject: &str, after: &str, size: i64) -> Vec<String> {
    let answer = access.record_filter(subject, "Case", ObjectOperation::Read).await.unwrap();
    let filter = answer.filter.unwrap();
    access.sync(database, "Case", filter.min_grants_revision).await.unwrap();
    let predicate = match list_predicate(&filter, "Case", "c", "id", "created_by", 1).unwrap() {
        ListPredicate::Nothing => return Vec::new(),
        ListPredicate::Everything => None,
        ListPredicate::Where(predicate) => Some(predicate),
    };
    let (condition, params, next) = match &predicate {
        Some(p) => (p.sql.clone(), p.params.clone(), p.next_placeholder),
        None => ("1 = 1".to_owned(), Vec::new(), 1),
    };
    let sql =
        format!("SELECT c.id FROM cases c WHERE {condition} AND c.id > ${next} ORDER BY c.id LIMIT ${}", next + 1);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for param in params {
        query = query.bind(param);
    }
    let rows = query.bind(after.to_owned()).bind(size).fetch_all(&database.pool).await.unwrap();
    rows.iter().map(|row| row.try_get::<String, _>("id").unwrap()).collect()
}

async fn lists_are_filtered_and_paginated_in_the_owning_database(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme Filters", AccountType::Customer).await;
    let other = fixtures::organization(&suite, &admin, "Other Filters", AccountType::Customer).await;
    let (alice, _) = fixtures::member(&suite, &admin, &acme.id, "alice@filters.test", false).await;
    let (bob, _) = fixtures::member(&suite, &admin, &acme.id, "bob@filters.test", false).await;
    let (dave, _) = fixtures::member(&suite, &admin, &other.id, "dave@filters.test", false).await;
    let (access, _context) = internal(&suite).await;
    let database = service_database().await;
    for (id, author) in [("case-1", &alice.id), ("case-2", &bob.id), ("case-3", &bob.id), ("case-4", &dave.id)] {
        sqlx::query("INSERT INTO cases (id, created_by) VALUES ($1, $2)")
            .bind(id)
            .bind(author)
            .execute(&database.pool)
            .await
            .unwrap();
        access.register_record("Case", id, author, "").await.unwrap();
    }

    // Self-service users see their own cases only.
    assert_eq!(page(&access, &database, &alice.id, "", 10).await, ["case-1"]);
    assert_eq!(page(&access, &database, &bob.id, "", 10).await, ["case-2", "case-3"]);

    // Organization-wide visibility arrives as a grant to the organization.
    let organization = Grantee { subject: Some(Subject::OrganizationId(acme.id.clone())) };
    access.share_record("Case", "case-3", organization.clone(), &[RecordRight::Read]).await.unwrap();
    assert_eq!(page(&access, &database, &alice.id, "", 10).await, ["case-1", "case-3"]);
    assert_eq!(page(&access, &database, &alice.id, "", 1).await, ["case-1"], "paginated in SQL");
    assert_eq!(page(&access, &database, &alice.id, "case-1", 1).await, ["case-3"]);
    assert_eq!(
        page(&access, &database, &dave.id, "", 10).await,
        ["case-4"],
        "another organization sees nothing of Acme"
    );

    // Unsharing reaches the replica before the next list.
    access.unshare_record("Case", "case-3", Some(organization)).await.unwrap();
    assert_eq!(page(&access, &database, &alice.id, "", 10).await, ["case-1"]);

    // The administrator is not limited; an object not granted yields nothing.
    let me = portal_proto::identity::session_service_client::SessionServiceClient::new(suite.channel())
        .who_am_i(portal_tests::authed(portal_proto::identity::WhoAmIRequest {}, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page(&access, &database, &me.user_id, "", 10).await, ["case-1", "case-2", "case-3", "case-4"]);
    let leads = access.record_filter(&alice.id, "Lead", ObjectOperation::Read).await.unwrap().filter.unwrap();
    assert_eq!(leads.mode(), RecordFilterMode::DenyAll, "Alice is not a partner portal user");
    assert_eq!(list_predicate(&leads, "Lead", "l", "id", "created_by", 1).unwrap(), ListPredicate::Nothing);
}
