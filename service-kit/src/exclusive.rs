//! One replica at a time for background work that every replica starts (the SLA
//! worker): on PostgreSQL the active replica holds a session-level advisory lock on a
//! connection of its own, the others try again every few seconds, and a replica that
//! stops or dies loses the lock with its connection, so another takes over within
//! seconds. On SQLite (one process) there is no one to share with.

use std::time::Duration;

use sqlx::{AnyConnection, Connection};

use crate::{
    Shutdown,
    db::{Backend, Database},
};

/// How often a replica that does not hold the lock tries again.
pub const RETRY: Duration = Duration::from_secs(2);

/// Work that runs in one replica of a service at a time.
#[derive(Debug, Clone)]
pub struct Exclusive {
    database: Database,
    key: i32,
}

/// This replica's turn at the work; it lasts while its lock is held.
pub struct Turn {
    connection: Option<AnyConnection>,
}

impl Exclusive {
    /// `key` tells one kind of work from another within the service's schema.
    pub fn new(database: Database, key: i32) -> Self {
        Self { database, key }
    }

    /// Waits until this replica holds the work's lock; `None` once `shutdown` comes first.
    pub async fn wait_turn(&self, shutdown: &Shutdown) -> Option<Turn> {
        if self.database.backend == Backend::Sqlite {
            return Some(Turn { connection: None });
        }
        loop {
            match self.try_take().await {
                Ok(Some(turn)) => return Some(turn),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "cannot ask for the worker lock; trying again"),
            }
            tokio::select! {
                _ = shutdown.stopped() => return None,
                _ = tokio::time::sleep(RETRY) => {}
            }
        }
    }

    async fn try_take(&self) -> Result<Option<Turn>, sqlx::Error> {
        // A connection of its own, out of the pool: the lock lives as long as this session.
        let mut connection = self.database.pool.acquire().await?.detach();
        // Keyed by the schema too, as several deployments (or test runs) may share a database.
        let (taken,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock(hashtext(current_schema()), $1)")
            .bind(self.key)
            .fetch_one(&mut connection)
            .await?;
        if taken {
            Ok(Some(Turn { connection: Some(connection) }))
        } else {
            let _ = connection.close().await;
            Ok(None)
        }
    }
}

impl Turn {
    /// True while the lock is still held: its session answers.
    pub async fn is_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(connection) => connection.ping().await.is_ok(),
        }
    }

    /// Gives the turn up (closing the session releases the lock).
    pub async fn end(self) {
        if let Some(connection) = self.connection {
            let _ = connection.close().await;
        }
    }
}
