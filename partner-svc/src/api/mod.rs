//! The gRPC adapter of partner-svc.

pub mod pending;
