//! The gRPC adapter of case-svc.

pub mod pending;
