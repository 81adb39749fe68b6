//! The codec of every generated client and server: prost's encoding, with the rules
//! on what a server accepts in one place, so that they hold for every method of every
//! service, in the all-in-one wiring (in-process routes) as in the distributed one:
//!
//! - a body that is not a valid message of its type is the caller's fault:
//!   INVALID_ARGUMENT (prost's own codec calls it INTERNAL);
//! - in a request message (`…Request`, as buf lint requires every request to be named),
//!   an enum field holds a value its enum defines, and a text field holds no NUL
//!   character (PostgreSQL cannot store one, and no name, code or message needs it);
//!   otherwise INVALID_ARGUMENT naming the field. Answers are not checked, so a client
//!   still reads an enum value added by a newer server.

use std::marker::PhantomData;

use prost::{
    Message,
    bytes::{Buf, Bytes},
    encoding::{WireType, decode_key, decode_varint},
};
use prost_reflect::{EnumDescriptor, Kind, MessageDescriptor, ReflectMessage};
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
    let descriptor = message.descriptor();
    if descriptor.name().ends_with("Request")
        && let Some((field, description)) = first_violation(&bytes, &descriptor)
    {
        let details = ErrorDetails::with_bad_request_violation(&field, &description);
        return Err(Status::with_error_details(
            Code::InvalidArgument,
            format!("invalid request: {field}: {description}"),
            details,
        ));
    }
    Ok(message)
}

/// The path (`user.full_name`) and problem of the first field of `bytes`, a valid
/// encoding of a `message`, that holds an undefined enum value or text with a NUL
/// character. A walk over the wire format that skips every other value, so it costs one
/// pass and no allocation.
fn first_violation(mut bytes: &[u8], message: &MessageDescriptor) -> Option<(String, String)> {
    while bytes.has_remaining() {
        let (number, wire_type) = decode_key(&mut bytes).ok()?;
        let field = message.get_field(number);
        let kind = field.as_ref().map(|f| f.kind());
        let problem = match wire_type {
            WireType::Varint => {
                let value = decode_varint(&mut bytes).ok()?;
                match &kind {
                    Some(Kind::Enum(enumeration)) => undefined(enumeration, value),
                    _ => None,
                }
            }
            WireType::SixtyFourBit => {
                bytes = bytes.get(8..)?;
                None
            }
            WireType::ThirtyTwoBit => {
                bytes = bytes.get(4..)?;
                None
            }
            WireType::LengthDelimited => {
                let length = usize::try_from(decode_varint(&mut bytes).ok()?).ok()?;
                let mut value = bytes.get(..length)?;
                bytes = &bytes[length..];
                match &kind {
                    Some(Kind::String) if value.contains(&0) => Some("must not contain NUL characters".to_owned()),
                    // A packed repeated enum.
                    Some(Kind::Enum(enumeration)) => {
                        let mut found = None;
                        while found.is_none() && value.has_remaining() {
                            found = undefined(enumeration, decode_varint(&mut value).ok()?);
                        }
                        found
                    }
                    Some(Kind::Message(inner)) => {
                        if let Some((path, problem)) = first_violation(value, inner) {
                            return Some((format!("{}.{path}", field?.name()), problem));
                        }
                        None
                    }
                    _ => None,
                }
            }
            // Groups are not used by the portal's contracts.
            WireType::StartGroup | WireType::EndGroup => return None,
        };
        if let Some(problem) = problem {
            return Some((field?.name().to_owned(), problem));
        }
    }
    None
}

/// The problem with `value` in a field of `enumeration`, if it is not one of its values.
fn undefined(enumeration: &EnumDescriptor, value: u64) -> Option<String> {
    // Enum values travel as the varint of an int32 (negative ones sign-extended).
    let number = value as i64 as i32;
    enumeration
        .get_value(number)
        .is_none()
        .then(|| format!("{number} is not a value of {}; use one of the values the contract lists", enumeration.name()))
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

    #[test]
    fn enum_values_must_be_defined_in_requests_only() {
        use crate::partner;
        let request = partner::ListLeadsRequest { statuses: vec![1, 42], ..Default::default() };
        let status = decode::<partner::ListLeadsRequest>(&request.encode_to_vec()).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.get_details_bad_request().unwrap().field_violations[0].field, "statuses");
        assert!(status.message().contains("42 is not a value of LeadStatus"), "{}", status.message());
        let nested =
            pb::CreateUserRequest { user: Some(pb::User { kind: -1, ..Default::default() }), ..Default::default() };
        let status = decode::<pb::CreateUserRequest>(&nested.encode_to_vec()).unwrap_err();
        assert_eq!(status.get_details_bad_request().unwrap().field_violations[0].field, "user.kind");
        let defined = partner::ListLeadsRequest { statuses: vec![0, 1], ..Default::default() };
        assert!(decode::<partner::ListLeadsRequest>(&defined.encode_to_vec()).is_ok());
        // An answer from a newer server may carry a value this build does not know.
        let answer = pb::User { kind: 42, ..Default::default() };
        assert_eq!(decode::<pb::User>(&answer.encode_to_vec()).unwrap().kind, 42);
    }
}
