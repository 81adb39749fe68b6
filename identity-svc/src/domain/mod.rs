//! Identity rules as plain Rust: no gRPC, no SQL.

pub mod address;
pub mod authority;
pub mod brute_force;
pub mod email;
pub mod error;
pub mod password;
pub mod password_policy;
pub mod roles;
pub mod session;
pub mod settings;
pub mod tokens;
pub mod user;

pub use error::IdentityError;
