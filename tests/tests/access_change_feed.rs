//! The record-grant change feed that owning services copy (internal.proto,
//! PullRecordGrantChanges; issue 5): changes that no longer describe a current grant are
//! dropped after 7 days, a puller behind them is told REVISION_COMPACTED, and
//! `service_kit::access::sync` then rebuilds its replica from revision 0 without the
//! removed grants.

#[path = "support/access.rs"]
mod support_access;

use std::time::Duration;

use portal_proto::{
    access::{
        Grantee, PullRecordGrantChangesRequest, RecordRight,
        access_internal_service_client::AccessInternalServiceClient, grantee::Subject,
    },
    identity::AccountType,
};
use portal_tests::{Suite, error_reason, fixtures, suite_tests};
use service_kit::{
    Caller,
    access::REPLICA_DDL,
    db::{Backend, Database},
    upstream::SignAs,
};
use sqlx::{AssertSqlSafe, Row};
use support_access::{internal, user};
use tonic::Code;

suite_tests!(manual_clock: a_replica_behind_a_compacted_feed_is_rebuilt);

const CASE: &str = "Case";

/// An owning service's database holding only the replica.
async fn replica_database() -> Database {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
    for statement in REPLICA_DDL.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(AssertSqlSafe(statement.to_owned())).execute(&pool).await.unwrap();
    }
    Database::single(pool, Backend::Sqlite)
}

/// The replica's (record, grantee key) pairs, sorted.
async fn replica(database: &Database) -> Vec<(String, String)> {
    let rows = sqlx::query("SELECT record_id, grantee_key FROM access_record_grants ORDER BY record_id, grantee_key")
        .fetch_all(&database.pool)
        .await
        .unwrap();
    rows.iter().map(|row| (row.get("record_id"), row.get("grantee_key"))).collect()
}

async fn a_replica_behind_a_compacted_feed_is_rebuilt(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme Feed", AccountType::Customer).await;
    let (alice, _) = fixtures::member(&suite, &admin, &acme.id, "alice@feed.test", false).await;
    let (bob, _) = fixtures::member(&suite, &admin, &acme.id, "bob@feed.test", false).await;
    let (access, context) = internal(&suite).await;
    let database = replica_database().await;
    access.register_record(CASE, "case-1", &alice.id, "").await.unwrap();
    let shared = access.share_record(CASE, "case-1", user(&bob.id), &[RecordRight::Read]).await.unwrap();
    let behind = access.sync(&database, CASE, shared.grants_revision).await.unwrap();
    assert_eq!(replica(&database).await, [("case-1".to_owned(), format!("u:{}", bob.id))]);

    // Bob's grant goes, the organization gets one; then more than 7 days pass.
    access.unshare_record(CASE, "case-1", Some(user(&bob.id))).await.unwrap();
    let organization = Grantee { subject: Some(Subject::OrganizationId(acme.id.clone())) };
    let latest = access.share_record(CASE, "case-1", organization, &[RecordRight::Read]).await.unwrap();
    suite.clock.advance(Duration::from_secs(8 * 24 * 3600));

    // Bob's share and its removal are dropped: a puller behind them must start again.
    let upstream = context.upstreams.get("access").expect("access is reachable");
    let mut feed = AccessInternalServiceClient::with_interceptor(
        upstream,
        SignAs::new(context.assertion_key.clone(), Caller::service("case")),
    );
    let pull =
        |after_revision| PullRecordGrantChangesRequest { object_code: CASE.into(), after_revision, page_size: 0 };
    let status = feed.pull_record_grant_changes(pull(behind)).await.unwrap_err();
    assert_eq!((status.code(), error_reason(&status).as_str()), (Code::FailedPrecondition, "REVISION_COMPACTED"));
    let full = feed.pull_record_grant_changes(pull(0)).await.unwrap().into_inner();
    assert!(full.changes.iter().all(|change| change.grantee_key != format!("u:{}", bob.id)), "{full:?}");
    assert_eq!(full.revision, latest.grants_revision, "a full pull reaches the latest revision");
    let current = feed.pull_record_grant_changes(pull(latest.grants_revision)).await.unwrap().into_inner();
    assert!(current.changes.is_empty(), "a puller that is up to date is not refused");

    // The replica behind the compaction is rebuilt: Bob's grant is gone, the new one is there.
    let reached = access.sync(&database, CASE, latest.grants_revision).await.unwrap();
    assert_eq!(reached, latest.grants_revision);
    assert_eq!(replica(&database).await, [("case-1".to_owned(), format!("r:{}", acme.id))]);
}
