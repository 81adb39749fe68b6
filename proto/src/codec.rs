//! The codec of every generated client and server: prost's encoding, with two rules on
//! what a server accepts, so that they hold for every method of every service, in the
//! all-in-one wiring (in-process routes) as in the distributed one:
//!
//! - a body that is not a valid message of its type is the caller's fault:
//!   INVALID_ARGUMENT (prost's own codec calls it INTERNAL);
//! - text fields hold no NUL character (PostgreSQL cannot store one, and no name, code
//!   or message needs it): INVALID_ARGUMENT naming the field. Bytes fields may.

use std::marker::PhantomData;

use prost::{
    Message,
    bytes::{Buf, Bytes},
    encoding::{WireType, decode_key, decode_varint},
};
use prost_reflect::{Kind, MessageDescriptor, ReflectMessage};
use tonic::{
    Code, Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::{ProstCodec, ProstEncoder};
use tonic_types::{ErrorDetails, StatusExt};

/// Prost's codec with the decoding rules of this module.
#[derive(Debug, Clone)]
pub struct PortalCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for PortalCodec<T, U> {
    fn default() -> Self {
        Self { _types: PhantomData }
    }
}

impl<T, U> Codec for PortalCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + ReflectMessage + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = PortalDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        PortalDecoder { _type: PhantomData }
    }
}

/// Decodes a `U`, as the module says.
#[derive(Debug, Clone)]
pub struct PortalDecoder<U> {
    _type: PhantomData<U>,
}

impl<U: Message + ReflectMessage + Default> Decoder for PortalDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        decode_checked(buf.copy_to_bytes(buf.remaining())).map(Some)
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

fn decode_checked<U: Message + ReflectMessage + Default>(bytes: Bytes) -> Result<U, Status> {
    let message = U::decode(bytes.clone()).map_err(|error| {
        Status::invalid_argument(format!(
            "the message is not valid protobuf for its method ({error}); send the method's request message"
        ))
    })?;
    if let Some(field) = text_with_nul(&bytes, &message.descriptor()) {
        let details = ErrorDetails::with_bad_request_violation(&field, "must not contain NUL characters");
        return Err(Status::with_error_details(
            Code::InvalidArgument,
            format!("invalid request: {field}: must not contain NUL characters"),
            details,
        ));
    }
    Ok(message)
}

/// The path (`user.display_name`) of the first text field holding a NUL character in
/// `bytes`, a valid encoding of a `message`. A walk over the wire format that skips
/// every other value, so it costs one pass and no allocation.
fn text_with_nul(mut bytes: &[u8], message: &MessageDescriptor) -> Option<String> {
    while bytes.has_remaining() {
        let (number, wire_type) = decode_key(&mut bytes).ok()?;
        match wire_type {
            WireType::Varint => {
                decode_varint(&mut bytes).ok()?;
            }
            WireType::SixtyFourBit => bytes = bytes.get(8..)?,
            WireType::ThirtyTwoBit => bytes = bytes.get(4..)?,
            WireType::LengthDelimited => {
                let length = usize::try_from(decode_varint(&mut bytes).ok()?).ok()?;
                let value = bytes.get(..length)?;
                bytes = &bytes[length..];
                let Some(field) = message.get_field(number) else { continue };
                match field.kind() {
                    Kind::String if value.contains(&0) => return Some(field.name().to_owned()),
                    Kind::Message(inner) => {
                        if let Some(path) = text_with_nul(value, &inner) {
                            return Some(format!("{}.{path}", field.name()));
                        }
                    }
                    _ => {}
                }
            }
            // Groups are not used by the portal's contracts.
            WireType::StartGroup | WireType::EndGroup => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity as pb;

    fn decode<U: Message + ReflectMessage + Default>(bytes: &[u8]) -> Result<U, Status> {
        decode_checked(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn undecodable_bodies_are_invalid_arguments() {
        let status = decode::<pb::LoginRequest>(&[0x0f, 0xff, 0xff]).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }

    #[test]
    fn text_with_nul_is_refused_naming_the_field() {
        let request = pb::UpdateUserRequest {
            user: Some(pb::User { full_name: "Ann\0".into(), ..Default::default() }),
            ..Default::default()
        };
        let status = decode::<pb::UpdateUserRequest>(&request.encode_to_vec()).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "user.full_name");
        let fine = pb::UpdateUserRequest {
            user: Some(pb::User { full_name: "Ann 😀".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(decode::<pb::UpdateUserRequest>(&fine.encode_to_vec()).unwrap(), fine);
    }
}
