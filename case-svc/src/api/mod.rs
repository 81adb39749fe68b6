//! The gRPC adapter of case-svc.

pub mod folders;
pub mod knowledge;
pub mod pending;
