//! The gRPC adapter of access-svc.

pub mod pending;
