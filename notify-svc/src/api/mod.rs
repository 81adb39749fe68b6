//! The gRPC adapter of notify-svc.

pub mod pending;
