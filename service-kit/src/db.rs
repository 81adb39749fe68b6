//! Database pools and migrations, one code path for PostgreSQL and SQLite.
//!
//! Services talk SQL through sqlx's `Any` driver with portable statements (ids
//! as TEXT, instants as BIGINT milliseconds, `$1` placeholders, `ON CONFLICT`,
//! `RETURNING`). Each service owns its storage (a SQLite file, or a PostgreSQL schema
//! named after it) and one folder of migrations in that portable SQL, applied on either
//! backend; a backend that ever needs different SQL would get a folder of its own.
//!
//! SQLite allows one writer at a time. Several pooled connections that each start a deferred
//! transaction, read, then write, fail with "database is locked" (SQLITE_BUSY, which the busy
//! timeout cannot wait out when a reader must be upgraded). So on SQLite every write goes
//! through one writer connection, each transaction begun with `BEGIN IMMEDIATE`, and reads
//! use a separate pool of `query_only` connections, which WAL lets run beside the writer.
//! PostgreSQL has row locks and MVCC: reads and writes share one pool there.

use std::str::FromStr;

use sqlx::{
    AnyPool, AssertSqlSafe, Connection, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

use crate::{ApiError, config::PortalConfig};

/// The two supported database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A service's migrations (`Migrations(&sqlx::migrate!("./migrations"))`): portable SQL that
/// runs unchanged on PostgreSQL and SQLite, so one folder serves both backends.
#[derive(Debug, Clone, Copy)]
pub struct Migrations(pub &'static Migrator);

/// A storage fault.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database configuration: {0}")]
    Config(String),
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match &error {
            DbError::Sql(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed) => {
                ApiError::Unavailable { message: "the database is unavailable; retry shortly".into() }
            }
            _ => ApiError::internal(error),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        DbError::from(error).into()
    }
}

/// A migrated, pooled database of one service.
#[derive(Debug, Clone)]
pub struct Database {
    /// For reads. On SQLite its connections are `query_only`: a write here is an error.
    pub pool: AnyPool,
    /// For writes outside a transaction; transactions come from [`Database::begin`]. On
    /// SQLite a single connection, so writers queue here instead of failing on the lock.
    pub writer: AnyPool,
    pub backend: Backend,
}

/// A transaction of several writes that land together or not at all.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Settings of every SQLite connection: WAL lets readers run beside the writer; the busy
/// timeout covers the short checkpoints; `synchronous = NORMAL` is durable in WAL mode
/// against process crashes.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL";

/// How long a write waits for SQLite's one writer connection before the call is answered
/// UNAVAILABLE. Writes are short transactions; a queue this long means the disk is stuck.
const WRITER_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Resolves the configured URL template for `service`.
fn service_url(config: &PortalConfig, service: &str) -> String {
    config.database.url.replace("{data_dir}", &config.data_dir.to_string_lossy()).replace("{service}", service)
}

fn valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit())
}

impl Database {
    /// Connects `service`'s database as configured and applies its migrations.
    pub async fn connect(config: &PortalConfig, service: &str, migrations: Migrations) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let url = service_url(config, service);
        let backend = if url.starts_with("postgres") { Backend::Postgres } else { Backend::Sqlite };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool_options = AnyPoolOptions::new()
            .max_connections(config.database.max_connections)
            .acquire_timeout(std::time::Duration::from_secs(10));
        Ok(match backend {
            Backend::Postgres => {
                let schema = format!("{}{}", config.database.schema_prefix, service);
                if !valid_schema(&schema) {
                    return Err(DbError::Config(format!(
                        "schema name '{schema}' must be lowercase letters, digits and underscores"
                    )));
                }
                let mut admin = sqlx::AnyConnection::connect_with(&options).await?;
                // Two processes starting together may race to create it; either outcome is fine.
                // The name was checked by `valid_schema`, so quoting it is safe.
                let _ = admin.execute(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))).await;
                admin.close().await?;
                let set_path = format!("SET search_path TO \"{schema}\"");
                let pool = pool_options
                    .after_connect(move |conn, _| {
                        let set_path = set_path.clone();
                        Box::pin(async move {
                            conn.execute(AssertSqlSafe(set_path)).await?;
                            // Calls run short indexed queries: starting parallel workers costs
                            // them more (10 ms and up on a busy host) than it ever saves.
                            conn.execute("SET max_parallel_workers_per_gather = 0").await.map(drop)
                        })
                    })
                    .connect_with(options)
                    .await?;
                migrations.0.run(&pool).await?;
                Self { writer: pool.clone(), pool, backend }
            }
            Backend::Sqlite => {
                if let Some(path) = url.strip_prefix("sqlite://").and_then(|rest| rest.split('?').next())
                    && let Some(parent) = std::path::Path::new(path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| DbError::Config(format!("cannot create {}: {e}", parent.display())))?;
                }
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(WRITER_QUEUE_TIMEOUT)
                    .after_connect(|conn, _| Box::pin(async move { conn.execute(SQLITE_PRAGMAS).await.map(drop) }))
                    .connect_with(options.clone())
                    .await?;
                migrations.0.run(&writer).await?;
                let pool = pool_options
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(SQLITE_PRAGMAS).await?;
                            conn.execute("PRAGMA query_only = ON").await.map(drop)
                        })
                    })
                    .connect_with(options)
                    .await?;
                Self { pool, writer, backend }
            }
        })
    }

    /// A database whose reads and writes share `pool` (an in-memory SQLite of one connection
    /// in tests, for instance).
    pub fn single(pool: AnyPool, backend: Backend) -> Self {
        Self { writer: pool.clone(), pool, backend }
    }

    /// Starts a write transaction on the writer. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes never has to be
    /// upgraded to a writer, which is where SQLite answers "database is locked".
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// True while the database answers a trivial query.
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}
