//! Registering new records with access so that none is ever left registered but not
//! stored.
//!
//! A service registers a record with access before storing it, so no stored record is
//! unknown to access. Between the two, the process may fail or stop. So the intent is
//! written first, in a journal of the owning service's database ([`JOURNAL_DDL`]); the
//! transaction storing the record settles its entry ([`settle`]); an entry never settled
//! is abandoned: its record is unregistered from access, then the entry forgotten. A
//! failed create abandons its entry at once; the sweep ([`Registrations::run`]) abandons
//! what a stopped process left after [`GRACE_MS`].
//!
//! The sweep and a late store cannot both win: the sweep first marks an entry abandoned
//! (committed) before unregistering it, and [`settle`] only deletes an entry that is not
//! marked, failing the store otherwise.
//!
//! To use it: copy [`JOURNAL_DDL`] into a migration of your service (once), call
//! [`Registrations::register`] before the store, [`settle`] inside the storing
//! transaction, [`Registrations::abandon`] when the store fails or finds an earlier
//! record, and spawn [`Registrations::run`].

use std::time::Duration;

use sqlx::{AnyConnection, Row};

use crate::{
    ApiError, Shutdown,
    access::AccessClient,
    clock::{Clock, Millis},
    db::Database,
};

/// The journal's table, copied as is into a migration of each service that registers
/// records.
pub const JOURNAL_DDL: &str = "\
CREATE TABLE access_registrations (
    object_code    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    registered_at  BIGINT NOT NULL,
    abandoned      SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (object_code, record_id)
);
CREATE INDEX access_registrations_by_time ON access_registrations (registered_at);
";

/// How old an unsettled entry must be before the sweep abandons it: far longer than any
/// call may take between registering and storing (calls time out in seconds).
pub const GRACE_MS: Millis = 10 * 60 * 1000;

/// How often the sweep looks.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Entries abandoned per sweep round.
const SWEEP_BATCH: i64 = 100;

/// Registers records with access through the journal of one service's database.
#[derive(Debug, Clone)]
pub struct Registrations {
    client: AccessClient,
    database: Database,
    clock: Clock,
}

impl Registrations {
    pub fn new(client: AccessClient, database: Database, clock: Clock) -> Self {
        Self { client, database, clock }
    }

    /// Journals, then registers a new record with access (its author and organization).
    /// When access refuses or cannot be reached, the entry is abandoned before returning.
    pub async fn register(
        &self,
        object_code: &str,
        record_id: &str,
        author_user_id: &str,
        organization_id: &str,
    ) -> Result<(), ApiError> {
        sqlx::query("INSERT INTO access_registrations (object_code, record_id, registered_at) VALUES ($1, $2, $3)")
            .bind(object_code)
            .bind(record_id)
            .bind(self.clock.now())
            .execute(&self.database.writer)
            .await?;
        match self.client.register_record(object_code, record_id, author_user_id, organization_id).await {
            Ok(_) | Err(ApiError::AlreadyExists { .. }) => Ok(()),
            Err(error) => {
                self.abandon(object_code, record_id).await;
                Err(error)
            }
        }
    }

    /// Gives up a registration whose record will not be stored: marks the entry, removes
    /// the record from access, then forgets the entry. A failure is logged; the sweep
    /// finishes the job later.
    pub async fn abandon(&self, object_code: &str, record_id: &str) {
        if let Err(error) = self.try_abandon(object_code, record_id).await {
            tracing::warn!(%error, object_code, record_id, "an unstored record stays registered until the sweep");
        }
    }

    async fn try_abandon(&self, object_code: &str, record_id: &str) -> Result<(), ApiError> {
        sqlx::query("UPDATE access_registrations SET abandoned = 1 WHERE object_code = $1 AND record_id = $2")
            .bind(object_code)
            .bind(record_id)
            .execute(&self.database.writer)
            .await?;
        self.unregister(object_code, record_id).await
    }

    /// Removes an abandoned entry's record from access, then the entry.
    async fn unregister(&self, object_code: &str, record_id: &str) -> Result<(), ApiError> {
        match self.client.unregister_record(object_code, record_id).await {
            Ok(_) | Err(ApiError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        sqlx::query("DELETE FROM access_registrations WHERE object_code = $1 AND record_id = $2 AND abandoned = 1")
            .bind(object_code)
            .bind(record_id)
            .execute(&self.database.writer)
            .await?;
        Ok(())
    }

    /// Abandons the entries older than [`GRACE_MS`] and finishes abandoned ones; returns
    /// how many records it removed from access.
    pub async fn sweep(&self) -> Result<usize, ApiError> {
        sqlx::query("UPDATE access_registrations SET abandoned = 1 WHERE registered_at < $1 AND abandoned = 0")
            .bind(self.clock.now() - GRACE_MS)
            .execute(&self.database.writer)
            .await?;
        let rows = sqlx::query(
            "SELECT object_code, record_id FROM access_registrations WHERE abandoned = 1 \
             ORDER BY registered_at LIMIT $1",
        )
        .bind(SWEEP_BATCH)
        .fetch_all(&self.database.pool)
        .await?;
        let mut removed = 0;
        for row in rows {
            let (object_code, record_id): (String, String) = (row.try_get("object_code")?, row.try_get("record_id")?);
            self.unregister(&object_code, &record_id).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Sweeps every minute until shutdown.
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            match self.sweep().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "unstored records removed from access"),
                Err(error) => tracing::warn!(%error, "the registration sweep failed; trying again"),
            }
            tokio::select! {
                _ = shutdown.stopped() => break,
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    }
}

/// Settles a record's registration in the transaction that stores it. Fails, so that the
/// transaction rolls back, when the entry was abandoned meanwhile (the record is no
/// longer registered) or never journaled.
pub async fn settle(conn: &mut AnyConnection, object_code: &str, record_id: &str) -> Result<(), ApiError> {
    let settled =
        sqlx::query("DELETE FROM access_registrations WHERE object_code = $1 AND record_id = $2 AND abandoned = 0")
            .bind(object_code)
            .bind(record_id)
            .execute(conn)
            .await?;
    if settled.rows_affected() == 1 {
        Ok(())
    } else {
        Err(ApiError::Unavailable { message: "the record's registration with access lapsed; retry".into() })
    }
}
