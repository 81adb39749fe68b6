//! Shared plumbing of the portal services.
//!
//! Every service and the gateway build on the same pieces: layered
//! [`config`], [`telemetry`], the canonical [`error`] model, the signed
//! [`assertion`] of who is calling, the [`contract`]'s rule of who may call each method, [`db`] pools and migrations for PostgreSQL
//! and SQLite, the two-level [`cache`], random [`secrets`], an injectable
//! [`clock`], the [`server`] bootstrap (health, reflection, limits,
//! graceful drain) with its [`admission`] of calls and [`first_message`] deadline,
//! one replica at a time for background work ([`exclusive`]),
//! and the input checks every adapter shares ([`validate`]).

pub mod access;
pub mod admission;
pub mod assertion;
pub mod cache;
pub mod clock;
pub mod config;
pub mod context;
pub mod contract;
pub mod db;
pub mod error;
pub mod exclusive;
pub mod first_message;
pub mod paging;
pub mod registrations;
pub mod runner;
pub mod secrets;
pub mod server;
pub mod telemetry;
pub mod upstream;
pub mod validate;

pub use assertion::{Caller, CallerKind};
pub use context::{ServiceContext, ServiceModule, Shutdown, SignedUpstream, Upstreams};
pub use error::ApiError;
pub use runner::{ServiceSpec, StartError};
