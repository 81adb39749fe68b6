//! Receiving the start of a request before a handler (or an upstream) sees it: the first
//! gRPC message, or for a one-message (unary) method the whole request, within a short
//! deadline and a size limit. A client that opens a stream and then sends nothing, only a
//! frame header or part of a message is answered DEADLINE_EXCEEDED after
//! `server.first_message_timeout_ms` instead of holding a slot for the whole call timeout,
//! and what is passed on is always complete, so no server behind this one waits on it.

use std::{collections::HashSet, sync::Arc, time::Duration};

use http_body_util::{BodyExt, BodyStream, StreamBody};
use tokio::time::Instant;
use tokio_stream::StreamExt;
use tonic::{Status, body::Body, codegen::Bytes};

use crate::config::ServerConfig;

/// A gRPC message's prefix: one flag byte, then the length as four big-endian bytes.
const PREFIX_BYTES: usize = 5;

/// How the start of each request is received.
#[derive(Debug, Clone)]
pub struct FirstMessage {
    limit: usize,
    timeout: Duration,
    /// Paths of the methods whose request is exactly one message.
    unary: Arc<HashSet<String>>,
}

impl FirstMessage {
    pub fn new(config: &ServerConfig) -> Self {
        let unary = [portal_proto::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET]
            .into_iter()
            .flat_map(unary_methods)
            .collect();
        Self {
            limit: config.max_message_bytes,
            timeout: Duration::from_millis(config.first_message_timeout_ms),
            unary: Arc::new(unary),
        }
    }

    /// The instant by which a request that arrives now must have delivered its start.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// `request` with its first message (for a unary method: its whole body) received by
    /// `deadline`; what was read is put back in front of the rest of the body.
    pub async fn receive(
        &self,
        request: http::Request<Body>,
        deadline: Instant,
    ) -> Result<http::Request<Body>, Status> {
        let whole = self.unary.contains(request.uri().path());
        let (parts, body) = request.into_parts();
        let body = tokio::time::timeout_at(deadline, receive(body, self.limit, whole)).await.map_err(|_| {
            Status::deadline_exceeded(format!(
                "the request's first message did not arrive within {} ms (server.first_message_timeout_ms)",
                self.timeout.as_millis()
            ))
        })??;
        Ok(http::Request::from_parts(parts, body))
    }
}

/// Reads `body` until it holds one complete message (or, with `whole`, until it ends) and
/// returns a body that replays what was read, then the rest.
async fn receive(mut body: Body, limit: usize, whole: bool) -> Result<Body, Status> {
    let mut received: Vec<u8> = Vec::new();
    let mut trailers = None;
    let mut ended = false;
    loop {
        if let Some(length) = declared_length(&received) {
            if length > limit {
                return Err(too_large(format!("the request message is {length} bytes"), limit));
            }
            let complete = received.len() >= PREFIX_BYTES + length;
            if complete && !whole {
                break;
            }
            if received.len() > PREFIX_BYTES + limit {
                return Err(too_large(format!("the request is over {} bytes", PREFIX_BYTES + limit), limit));
            }
        }
        match body.frame().await {
            None => {
                ended = true;
                break;
            }
            Some(Err(status)) => return Err(status),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => received.extend_from_slice(&data),
                Err(frame) => {
                    trailers = Some(frame);
                    ended = true;
                    break;
                }
            },
        }
    }
    let head = (!received.is_empty()).then(|| http_body::Frame::data(Bytes::from(received)));
    let replayed = tokio_stream::iter([head, trailers].into_iter().flatten().map(Ok));
    if ended {
        return Ok(Body::new(StreamBody::new(replayed)));
    }
    // Empty DATA frames are dropped: forwarded, they add up across the streams multiplexed
    // on one upstream connection until the service's HTTP/2 server hangs up on it
    // (GOAWAY "too_many_data_frames").
    let rest = BodyStream::new(body)
        .filter(|frame| !matches!(frame, Ok(frame) if frame.data_ref().is_some_and(|data| data.is_empty())));
    Ok(Body::new(StreamBody::new(replayed.chain(rest))))
}

/// The length the first message's prefix declares, once the prefix has arrived.
fn declared_length(received: &[u8]) -> Option<usize> {
    let prefix: [u8; 4] = received.get(1..PREFIX_BYTES)?.try_into().ok()?;
    Some(u32::from_be_bytes(prefix) as usize)
}

fn too_large(what: String, limit: usize) -> Status {
    Status::resource_exhausted(format!("{what}; the limit is {limit} bytes (server.max_message_bytes)"))
}

/// `/package.Service/Method` of every method in `descriptor_set` that takes a single message.
fn unary_methods(descriptor_set: &[u8]) -> Vec<String> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(descriptor_set).unwrap_or_default();
    set.file
        .iter()
        .flat_map(|file| {
            file.service.iter().flat_map(move |service| {
                service
                    .method
                    .iter()
                    .filter(|method| !method.client_streaming())
                    .map(move |method| format!("/{}.{}/{}", file.package(), service.name(), method.name()))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: &[u8]) -> Vec<u8> {
        let mut framed = vec![0];
        framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        framed.extend_from_slice(payload);
        framed
    }

    /// A body that yields `chunks`, then ends or (with `stall`) stays open sending nothing more.
    fn body_of(chunks: Vec<Vec<u8>>, stall: bool) -> Body {
        let frames = chunks.into_iter().map(|chunk| Ok::<_, Status>(http_body::Frame::data(Bytes::from(chunk))));
        let frames = tokio_stream::iter(frames);
        if stall {
            Body::new(StreamBody::new(frames.chain(tokio_stream::pending())))
        } else {
            Body::new(StreamBody::new(frames))
        }
    }

    async fn collected(body: Body) -> Vec<u8> {
        body.collect().await.expect("a body").to_bytes().to_vec()
    }

    #[tokio::test]
    async fn a_message_split_across_frames_is_replayed_whole() {
        let framed = message(b"hello");
        let chunks = vec![framed[..2].to_vec(), framed[2..7].to_vec(), framed[7..].to_vec()];
        let body = receive(body_of(chunks, false), 100, true).await.expect("received");
        assert_eq!(collected(body).await, framed);
    }

    #[tokio::test]
    async fn a_streaming_request_is_passed_on_after_its_first_message() {
        let mut body = receive(body_of(vec![message(b"first")], true), 100, false).await.expect("received");
        let frame = body.frame().await.expect("a frame").expect("data");
        assert_eq!(frame.into_data().expect("data"), message(b"first"));
    }

    #[tokio::test]
    async fn a_unary_request_must_end_within_the_deadline() {
        for stalled in [
            vec![],
            vec![message(b"x")[..5].to_vec()],
            vec![message(b"xyz")[..6].to_vec()],
            vec![message(b"complete but never ended")],
        ] {
            let (parts, ()) =
                http::Request::post("/portal.identity.v1.SessionService/Login").body(()).unwrap().into_parts();
            let config = ServerConfig { first_message_timeout_ms: 50, ..crate::config::PortalConfig::default().server };
            let first = FirstMessage::new(&config);
            let request = http::Request::from_parts(parts, body_of(stalled, true));
            let status = first.receive(request, first.deadline()).await.unwrap_err();
            assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
            assert!(status.message().contains("first_message_timeout_ms"), "{}", status.message());
        }
    }

    #[tokio::test]
    async fn oversized_messages_are_refused_from_their_prefix() {
        let status = receive(body_of(vec![message(&[7; 101])[..5].to_vec()], true), 100, false).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        let two = [message(&[1; 60]), message(&[2; 60])].concat();
        let status = receive(body_of(vec![two], true), 100, true).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    }

    #[test]
    fn knows_which_methods_take_one_message() {
        let unary: HashSet<String> = unary_methods(portal_proto::FILE_DESCRIPTOR_SET).into_iter().collect();
        assert!(unary.contains("/portal.identity.v1.SessionService/Login"));
        assert!(!unary.contains("/portal.case.v1.AttachmentService/UploadAttachment"));
    }
}
