//! The journal of registrations with access (issue 13 §6, `service_kit::registrations`):
//! a record registered but never stored (the process stopped between the two) is removed
//! from access by the sweep once the grace period is over, a settled one stays, and a store
//! that comes after the sweep gave its registration up fails instead of leaving a stored
//! record unknown to access. Driven through the client services use against the real
//! access-svc; the owning service's database is an in-memory SQLite holding the journal.

#[path = "support/access.rs"]
mod support_access;

use portal_proto::{access::ObjectOperation, identity::AccountType};
use portal_tests::{Suite, fixtures, suite_tests};
use service_kit::{
    ApiError,
    access::AccessClient,
    clock::Clock,
    db::{Backend, Database},
    registrations::{self, GRACE_MS, JOURNAL_DDL, Registrations},
};
use sqlx::AssertSqlSafe;
use support_access::internal;

suite_tests!(unsettled_registrations_are_swept_and_settled_ones_stay);

const CASE: &str = "Case";

async fn journal_database() -> Database {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
    for statement in JOURNAL_DDL.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(AssertSqlSafe(statement.to_owned())).execute(&pool).await.unwrap();
    }
    Database::single(pool, Backend::Sqlite)
}

/// Whether access still knows `record_id`: its author may read a record access knows
/// (the default record rule), and nobody one it does not.
async fn known_to_access(access: &AccessClient, record_id: &str, author: &str) -> bool {
    match access.check(author, CASE, ObjectOperation::Read, Some(record_id), &[]).await {
        Ok(result) => result.allowed,
        Err(ApiError::NotFound { .. }) => false,
        Err(error) => panic!("access failed: {error}"),
    }
}

async fn settle(database: &Database, record_id: &str) -> Result<(), ApiError> {
    let mut tx = database.begin().await.unwrap();
    registrations::settle(&mut tx, CASE, record_id).await?;
    tx.commit().await.unwrap();
    Ok(())
}

async fn unsettled_registrations_are_swept_and_settled_ones_stay(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme Journal", AccountType::Customer).await;
    let (alice, _) = fixtures::member(&suite, &admin, &acme.id, "alice@journal.test", false).await;
    let (access, _context) = internal(&suite).await;
    let database = journal_database().await;
    let clock = Clock::manual(Clock::system().now());
    let journal = Registrations::new(access.clone(), database.clone(), clock.clone());

    journal.register(CASE, "stored", &alice.id, "").await.unwrap();
    settle(&database, "stored").await.unwrap();
    // Registered, then the process stopped before storing it.
    journal.register(CASE, "lost", &alice.id, "").await.unwrap();
    // Registered, its store still running when the sweep comes.
    journal.register(CASE, "late", &alice.id, "").await.unwrap();
    // Given up at once by a create that failed.
    journal.register(CASE, "failed", &alice.id, "").await.unwrap();
    journal.abandon(CASE, "failed").await;
    assert!(!known_to_access(&access, "failed", &alice.id).await, "a failed create's record is removed at once");

    assert_eq!(journal.sweep().await.unwrap(), 0, "nothing is swept within the grace period");
    assert!(known_to_access(&access, "lost", &alice.id).await);

    clock.advance(std::time::Duration::from_millis(GRACE_MS as u64 + 1));
    assert_eq!(journal.sweep().await.unwrap(), 2, "the unsettled registrations are swept");
    assert!(!known_to_access(&access, "lost", &alice.id).await, "a record never stored is removed from access");
    assert!(!known_to_access(&access, "late", &alice.id).await);
    assert!(known_to_access(&access, "stored", &alice.id).await, "a stored record stays registered");
    assert!(
        matches!(settle(&database, "late").await, Err(ApiError::Unavailable { .. })),
        "a store after the sweep fails (and rolls back) instead of storing a record access forgot"
    );
    assert_eq!(journal.sweep().await.unwrap(), 0, "the journal is empty");
}
