//! The portal's v1 gRPC contracts: prost messages, tonic clients and servers for
//! the five areas, the method options they share (`portal.common.v1`), and the
//! encoded descriptor set that reflection serves.

#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]

pub mod codec;

/// Generated code, one module per protobuf package.
pub mod portal {
    /// `portal.common.*`
    pub mod common {
        /// `portal.common.v1`: what every area's contracts share (who may call a method).
        pub mod v1 {
            tonic::include_proto!("portal.common.v1");
        }
    }
    /// `portal.identity.*`
    pub mod identity {
        /// `portal.identity.v1`
        pub mod v1 {
            tonic::include_proto!("portal.identity.v1");
        }
    }
    /// `portal.access.*`
    pub mod access {
        /// `portal.access.v1`
        pub mod v1 {
            tonic::include_proto!("portal.access.v1");
        }
    }
    /// `portal.case.*`
    pub mod case {
        /// `portal.case.v1`
        pub mod v1 {
            tonic::include_proto!("portal.case.v1");
        }
    }
    /// `portal.partner.*`
    pub mod partner {
        /// `portal.partner.v1`
        pub mod v1 {
            tonic::include_proto!("portal.partner.v1");
        }
    }
    /// `portal.notify.*`
    pub mod notify {
        /// `portal.notify.v1`
        pub mod v1 {
            tonic::include_proto!("portal.notify.v1");
        }
    }
}

pub use portal::{
    access::v1 as access, case::v1 as case, common::v1 as common, identity::v1 as identity, notify::v1 as notify,
    partner::v1 as partner,
};

/// The encoded `FileDescriptorSet` of every portal `.proto` file and its imports.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/portal_descriptor.bin"));

/// The descriptors of [`FILE_DESCRIPTOR_SET`]; every portal message's
/// `prost_reflect::ReflectMessage::descriptor` comes from here.
pub static DESCRIPTOR_POOL: std::sync::LazyLock<prost_reflect::DescriptorPool> = std::sync::LazyLock::new(|| {
    prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("the descriptor set compiled by build.rs")
});
