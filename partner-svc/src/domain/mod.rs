//! Partner rules as plain Rust: no gRPC, no SQL.

pub mod analytics;
pub mod dates;
pub mod decimal;
pub mod error;
pub mod leads;
pub mod lookup;
pub mod opportunities;
pub mod points;

pub use error::PartnerError;
