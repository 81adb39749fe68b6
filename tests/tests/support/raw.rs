//! The public methods of the contracts, and calling any of them by its path with request
//! bytes encoded by hand (prost-reflect's dynamic messages): for the tests generated from
//! the contracts.

#![allow(dead_code)]

use prost::bytes::{Buf, BufMut};
use prost_reflect::MethodDescriptor;
use service_kit::server::is_internal;
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

/// Sends already-encoded request bytes and keeps the answer's bytes unread.
#[derive(Debug, Clone, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

/// Every method of the portal's public services (the internal ones, which the gateway does
/// not expose, left out).
pub fn public_methods() -> Vec<MethodDescriptor> {
    portal_proto::DESCRIPTOR_POOL
        .services()
        .filter(|service| service.full_name().starts_with("portal.") && !is_internal(service.full_name()))
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .collect()
}

/// Every public unary method, or those whose full name contains `filter`.
pub fn public_unary_methods(filter: Option<&str>) -> Vec<MethodDescriptor> {
    public_methods()
        .into_iter()
        .filter(|method| !method.is_client_streaming() && !method.is_server_streaming())
        .filter(|method| filter.is_none_or(|f| method.full_name().contains(f)))
        .collect()
}
