//! Identity rules as plain Rust: no gRPC, no SQL.

pub mod email;
pub mod error;
pub mod password;
pub mod session;
pub mod user;

pub use error::IdentityError;
