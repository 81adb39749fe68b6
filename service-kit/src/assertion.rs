//! The signed caller assertion.
//!
//! The gateway authenticates a call once and forwards it with a short-lived
//! statement of who the caller is, signed with a key shared by the suite
//! (HMAC-SHA256). Every service checks it before any handler runs, so a call
//! that reaches a service directly with no assertion, an expired one or a forged
//! one is refused with UNAUTHENTICATED. Services calling each other sign as
//! themselves ([`Caller::service`]); internal-only services accept only those.
//!
//! The key rotates without failed calls: an assertion names the key that signed it (a
//! key id derived from the key), and a process accepts its current key and a second
//! one (`assertion.previous_secret`) while signing with the current one only. The
//! README's deployment section gives the order of the rollouts.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tonic::{Request, Status, metadata::MetadataValue, service::Interceptor};

/// The metadata header that carries the assertion.
pub const HEADER: &str = "x-portal-assertion";

/// Who is calling, as the gateway established it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub kind: CallerKind,
    /// The user's id; empty for anonymous and service callers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_id: String,
    /// The user's portal organization; empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organization_id: String,
    /// The session the call belongs to; empty for anonymous and service callers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session_id: String,
    /// The system administrator may do everything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system_administrator: bool,
    /// The calling service's name, for service callers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// The network address the call reached the gateway from (brute-force counting per
    /// client); empty for service callers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_address: String,
}

/// The kinds of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    /// A call without a session, to one of the methods that need no login.
    Anonymous,
    /// A logged-in member of the company's staff.
    Employee,
    /// A logged-in customer or partner user.
    External,
    /// Another service of the suite.
    Service,
}

impl Caller {
    /// A call without a session.
    pub fn anonymous() -> Self {
        Self {
            kind: CallerKind::Anonymous,
            user_id: String::new(),
            organization_id: String::new(),
            session_id: String::new(),
            system_administrator: false,
            service: String::new(),
            client_address: String::new(),
        }
    }

    /// A service of the suite calling another.
    pub fn service(name: &str) -> Self {
        Self { kind: CallerKind::Service, service: name.to_owned(), ..Self::anonymous() }
    }

    /// True for a logged-in user (employee or external).
    pub fn is_user(&self) -> bool {
        matches!(self.kind, CallerKind::Employee | CallerKind::External)
    }

    /// The caller a service's interceptor attached to the request.
    pub fn of<T>(request: &Request<T>) -> Result<&Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .ok_or_else(|| Status::unauthenticated("the call carries no verified caller assertion"))
    }

    /// The logged-in user behind the request, or UNAUTHENTICATED.
    pub fn user_of<T>(request: &Request<T>) -> Result<&Caller, Status> {
        let caller = Self::of(request)?;
        if caller.is_user() {
            Ok(caller)
        } else {
            Err(Status::unauthenticated("this call needs a login: send `authorization: Bearer <token>` from Login"))
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(flatten)]
    caller: Caller,
    /// Expiry, milliseconds since the Unix epoch.
    exp: i64,
}

/// Why an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the call carries no caller assertion; call through the gateway")]
    Missing,
    #[error("the caller assertion is malformed")]
    Malformed,
    #[error("the caller assertion's signature is not valid")]
    BadSignature,
    #[error("the caller assertion is signed with a key this service does not know")]
    UnknownKey,
    #[error("the caller assertion has expired")]
    Expired,
}

/// The suite's signing key (and the one before it, still accepted) and the lifetime of
/// the assertions it makes.
#[derive(Clone)]
pub struct AssertionKey {
    current: Secret,
    previous: Option<Secret>,
    ttl_ms: i64,
}

/// One secret and the id assertions name it by.
#[derive(Clone)]
struct Secret {
    id: String,
    key: Arc<[u8]>,
}

impl Secret {
    fn new(key: &[u8]) -> Self {
        // The id is a MAC of a fixed text, so it names the key without revealing anything of it.
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
        mac.update(b"portal assertion key id");
        let id = URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..6]);
        Self { id, key: key.into() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionKey").field("ttl_ms", &self.ttl_ms).finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    crate::clock::Clock::system().now()
}

impl AssertionKey {
    /// A key from the configured secret, or a random one when the secret is empty
    /// (the all-in-one default, where every signer and verifier is in this process).
    pub fn from_config(config: &crate::config::AssertionConfig) -> Self {
        let secret = if config.secret.is_empty() { crate::secrets::random_token(32) } else { config.secret.clone() };
        let key = Self::new(secret.as_bytes(), config.ttl_seconds as i64 * 1000);
        if config.previous_secret.is_empty() { key } else { key.with_previous(config.previous_secret.as_bytes()) }
    }

    pub fn new(secret: &[u8], ttl_ms: i64) -> Self {
        Self { current: Secret::new(secret), previous: None, ttl_ms }
    }

    /// Also accepts assertions signed with `secret`, the key being rotated out.
    pub fn with_previous(self, secret: &[u8]) -> Self {
        Self { previous: Some(Secret::new(secret)), ..self }
    }

    /// Signs `caller` for the assertion's lifetime from now.
    pub fn sign(&self, caller: &Caller) -> String {
        self.sign_until(caller, now_ms() + self.ttl_ms)
    }

    /// Signs `caller` with an explicit expiry (milliseconds since the epoch).
    pub fn sign_until(&self, caller: &Caller, exp: i64) -> String {
        let claims = Claims { caller: caller.clone(), exp };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let mut mac = self.current.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{}.{payload}.{signature}", self.current.id)
    }

    /// Checks the signature (by the key the assertion names: the current or the previous
    /// one) and expiry and returns the caller.
    pub fn verify(&self, assertion: &str) -> Result<Caller, AssertionError> {
        let mut parts = assertion.splitn(3, '.');
        let (secret, payload, signature) = match (parts.next(), parts.next(), parts.next()) {
            (Some(key_id), Some(payload), Some(signature)) => {
                let secret = std::iter::once(&self.current)
                    .chain(&self.previous)
                    .find(|secret| secret.id == key_id)
                    .ok_or(AssertionError::UnknownKey)?;
                (secret, payload, signature)
            }
            // Made by a process of the release before key ids, during the rollout that brings them.
            (Some(payload), Some(signature), None) => (&self.current, payload, signature),
            _ => return Err(AssertionError::Malformed),
        };
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| AssertionError::Malformed)?;
        let mut mac = secret.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| AssertionError::BadSignature)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| AssertionError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| AssertionError::Malformed)?;
        if claims.exp <= now_ms() {
            return Err(AssertionError::Expired);
        }
        Ok(claims.caller)
    }

    /// Puts a signed assertion for `caller` on an outgoing request.
    pub fn attach<T>(&self, caller: &Caller, request: &mut Request<T>) {
        let value = MetadataValue::try_from(self.sign(caller)).expect("assertions are ASCII");
        request.metadata_mut().insert(HEADER, value);
    }
}

/// Which callers a service accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Public services: any verified caller (anonymous ones included; handlers decide).
    Public,
    /// Internal services: only other services of the suite.
    Internal,
}

/// The interceptor every portal service runs before its handlers: verifies the
/// assertion and attaches the [`Caller`] to the request's extensions.
#[derive(Debug, Clone)]
pub struct AssertionGuard {
    key: AssertionKey,
    audience: Audience,
}

impl AssertionGuard {
    pub fn new(key: AssertionKey, audience: Audience) -> Self {
        Self { key, audience }
    }
}

impl Interceptor for AssertionGuard {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = request
            .metadata()
            .get(HEADER)
            .ok_or(AssertionError::Missing)
            .and_then(|value| value.to_str().map_err(|_| AssertionError::Malformed))
            .and_then(|value| self.key.verify(value))
            .map_err(|error| Status::unauthenticated(error.to_string()))?;
        if self.audience == Audience::Internal && caller.kind != CallerKind::Service {
            return Err(Status::permission_denied(
                "this service is internal: only the suite's own services may call it",
            ));
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AssertionKey {
        AssertionKey::new(b"0123456789abcdef0123456789abcdef", 60_000)
    }

    #[test]
    fn round_trips_a_caller() {
        let caller = Caller { kind: CallerKind::External, user_id: "u1".into(), ..Caller::anonymous() };
        assert_eq!(key().verify(&key().sign(&caller)), Ok(caller));
    }

    #[test]
    fn refuses_forged_expired_and_garbled_assertions() {
        let caller = Caller { kind: CallerKind::Employee, user_id: "u1".into(), ..Caller::anonymous() };
        let other = AssertionKey::new(b"another key that is long enough!!", 60_000);
        assert_eq!(key().verify(&other.sign(&caller)), Err(AssertionError::UnknownKey));
        assert_eq!(key().verify(&key().sign_until(&caller, now_ms() - 1)), Err(AssertionError::Expired));
        assert_eq!(key().verify("no-dot"), Err(AssertionError::Malformed));
        // A payload edited after signing (promoting oneself to administrator) fails the signature.
        let signed = key().sign(&caller);
        let (key_id, signed) = signed.split_once('.').unwrap();
        let (_, signature) = signed.split_once('.').unwrap();
        let forged = Claims { caller: Caller { system_administrator: true, ..caller }, exp: now_ms() + 60_000 };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(key().verify(&format!("{key_id}.{payload}.{signature}")), Err(AssertionError::BadSignature));
    }

    #[test]
    fn accepts_the_previous_key_while_signing_with_the_current_one() {
        let caller = Caller { kind: CallerKind::Employee, user_id: "u1".into(), ..Caller::anonymous() };
        let previous = AssertionKey::new(b"the key being rotated out, long enough", 60_000);
        let rotated = key().with_previous(b"the key being rotated out, long enough");
        assert_eq!(rotated.verify(&previous.sign(&caller)), Ok(caller.clone()));
        assert_eq!(key().verify(&rotated.sign(&caller)), Ok(caller.clone()));
        assert_eq!(previous.verify(&rotated.sign(&caller)), Err(AssertionError::UnknownKey));
    }
}
