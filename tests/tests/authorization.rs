//! Every administrative call is authorised (issue 13, "privilege escalation"), proved by a
//! test generated from the contracts: every public method must carry the option
//! `portal.common.v1.authorization` (who may call it), and every unary method is called
//! through the gateway as
//! - a plain employee, holding no system operation,
//! - an external user (a plain member of the victim organization),
//! - the administrator of another organization,
//!
//! each with an empty request and with a request aimed at the victim organization (its
//! id, its members, its contact and account wherever a field names one). A method the
//! option does not open to that caller must answer PERMISSION_DENIED or NOT_FOUND,
//! whatever the request: it decides who calls before it reads what is asked (so even
//! INVALID_ARGUMENT would tell too much). A method open to organization administrators
//! for their own organization must refuse the other organization's administrator every
//! request aimed at the victim. A new method without the option, or with an
//! audience the callers are not refused by, fails here.
//!
//! Runs in the four variants (about 640 calls each, 2 to 10 s).

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use futures::{StreamExt, stream};
use portal_proto::{
    access::{ListSystemOperationsRequest, system_operation_service_client::SystemOperationServiceClient},
    common::{Audience, Authorization},
    identity::AccountType,
};
use portal_tests::{
    Suite,
    fixtures::{employee, member, organization},
    suite_tests,
};
use prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, Value};
use tonic::{Code, Request, Status, codegen::http::uri::PathAndQuery, metadata::MetadataValue};

#[path = "support/raw.rs"]
mod raw;
use raw::{RawCodec, public_methods};

suite_tests!(every_method_refuses_the_callers_its_contract_does_not_open_it_to);

/// Calls in flight at once.
const CONCURRENCY: usize = 4;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    /// An employee without any system operation.
    PlainEmployee,
    /// An external user, a plain member of the victim organization.
    ExternalUser,
    /// The administrator of another organization than the victim.
    OtherOrganizationAdministrator,
}

const CALLERS: [Caller; 3] = [Caller::PlainEmployee, Caller::ExternalUser, Caller::OtherOrganizationAdministrator];

/// A method's `portal.common.v1.authorization` option, if it has one.
fn authorization(method: &MethodDescriptor) -> Option<Authorization> {
    let extension = portal_proto::DESCRIPTOR_POOL
        .get_extension_by_name("portal.common.v1.authorization")
        .expect("the authorization option is in the contracts");
    let options = method.options();
    if !options.has_extension(&extension) {
        return None;
    }
    let value = options.get_extension(&extension);
    let message = value.as_message().expect("the option is a message");
    Some(message.transcode_to().expect("the option decodes as Authorization"))
}

/// How far the option opens a method to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// Not at all: every request must be refused.
    Closed,
    /// For the caller's own organization only: a request aimed at the victim's must be
    /// refused (one that is not, such as an empty one, may be answered).
    OwnOrganization,
    /// Open.
    Open,
}

fn opening(authorization: &Authorization, caller: Caller) -> Opening {
    let mut opening = Opening::Closed;
    for audience in authorization.audiences() {
        match audience {
            Audience::Open | Audience::Authenticated => return Opening::Open,
            Audience::Employee if caller == Caller::PlainEmployee => return Opening::Open,
            Audience::OrganizationAdministrator if caller == Caller::OtherOrganizationAdministrator => {
                opening = Opening::OwnOrganization
            }
            _ => {}
        }
    }
    opening
}

/// The victim's ids that requests aim at.
struct Victim {
    organization_id: String,
    account_id: String,
    user_id: String,
    contact_id: String,
}

impl Victim {
    /// The victim's value for a text field named `field` of `message` (the request or a
    /// resource in it) of `service`; something well-formed otherwise.
    fn text(&self, service: &str, message: &str, field: &str) -> String {
        let id_of = |resource: &str| match resource {
            "Organization" | "Role" => Some(self.organization_id.clone()),
            "User" => Some(self.user_id.clone()),
            "Contact" => Some(self.contact_id.clone()),
            "Account" => Some(self.account_id.clone()),
            _ => None,
        };
        match field {
            "organization_id" | "organization_ids" | "role_id" | "role_ids" | "parent_role_id" => {
                self.organization_id.clone()
            }
            "user_id" | "user_ids" | "subject_user_id" | "author_user_id" => self.user_id.clone(),
            "contact_id" => self.contact_id.clone(),
            "account_id" => self.account_id.clone(),
            "id" => id_of(message)
                .or_else(|| id_of(service.trim_end_matches("Service")))
                .unwrap_or_else(|| "0193a1b2c3d4e5f60718293a4b5c6d7e".into()),
            "email" | "emails" | "recipient_email" => "authz.probe@example.com".into(),
            "culture" => "en-US".into(),
            "etag" | "request_id" | "page_token" => String::new(),
            name if name.contains("password") => "a long enough probe password".into(),
            _ => "Authz probe".into(),
        }
    }

    /// Whether an encoded request names one of the victim's ids.
    fn named_in(&self, encoded: &[u8]) -> bool {
        [&self.organization_id, &self.account_id, &self.user_id, &self.contact_id]
            .iter()
            .any(|id| encoded.windows(id.len()).any(|window| window == id.as_bytes()))
    }

    /// A request with every field set (the first of each oneof), aimed at the victim.
    fn request(&self, service: &str, descriptor: &MessageDescriptor, depth: usize) -> DynamicMessage {
        let mut message = DynamicMessage::new(descriptor.clone());
        for field in descriptor.fields() {
            if field.containing_oneof().is_some_and(|oneof| oneof.fields().next().is_some_and(|f| f != field)) {
                continue;
            }
            if field.is_map() {
                continue;
            }
            let value = match field.kind() {
                Kind::String => Value::String(self.text(service, descriptor.name(), field.name())),
                Kind::Bool => Value::Bool(true),
                Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(1),
                Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(1),
                Kind::Uint32 | Kind::Fixed32 => Value::U32(1),
                Kind::Uint64 | Kind::Fixed64 => Value::U64(1),
                Kind::Float => Value::F32(1.0),
                Kind::Double => Value::F64(1.0),
                Kind::Bytes => Value::Bytes(Default::default()),
                Kind::Enum(enumeration) => {
                    Value::EnumNumber(enumeration.values().map(|v| v.number()).find(|n| *n != 0).unwrap_or(0))
                }
                Kind::Message(inner) if inner.full_name() == "google.protobuf.FieldMask" => {
                    let mut mask = DynamicMessage::new(inner);
                    mask.set_field_by_name("paths", Value::List(vec![Value::String("display_name".into())]));
                    Value::Message(mask)
                }
                Kind::Message(inner) if inner.full_name() == "google.protobuf.Timestamp" => {
                    let mut at = DynamicMessage::new(inner);
                    at.set_field_by_name("seconds", Value::I64(4_102_444_800));
                    Value::Message(at)
                }
                Kind::Message(inner) if depth < 2 => Value::Message(self.request(service, &inner, depth + 1)),
                Kind::Message(_) => continue,
            };
            let value = if field.is_list() { Value::List(vec![value]) } else { value };
            message.set_field(&field, value);
        }
        message
    }
}

async fn call(suite: &Suite, method: &MethodDescriptor, body: Vec<u8>, token: &str) -> Result<(), Status> {
    let mut request = Request::new(body);
    request.set_timeout(Duration::from_secs(10));
    let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ASCII token");
    request.metadata_mut().insert("authorization", value);
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let mut grpc = tonic::client::Grpc::new(suite.channel());
    grpc.ready().await.map_err(|e| Status::unknown(format!("channel not ready: {e}")))?;
    grpc.unary(request, PathAndQuery::from_str(&path).expect("a path"), RawCodec).await.map(drop)
}

async fn every_method_refuses_the_callers_its_contract_does_not_open_it_to(suite: Suite) {
    let admin = suite.admin_token().await;
    let mut failures = Vec::new();

    // Every public method says who may call it; a named operation is in access's catalog.
    let catalog: Vec<String> = SystemOperationServiceClient::new(suite.channel())
        .list_system_operations(portal_tests::authed(
            ListSystemOperationsRequest { page_size: 500, page_token: String::new() },
            &admin,
        ))
        .await
        .expect("the catalog of system operations")
        .into_inner()
        .system_operations
        .into_iter()
        .map(|operation| operation.code)
        .collect();
    let methods = public_methods();
    assert!(methods.len() > 200, "only {} public methods found", methods.len());
    let mut rules = Vec::new();
    for method in &methods {
        match authorization(method) {
            None => failures.push(format!("{}: no portal.common.v1.authorization option", method.full_name())),
            Some(rule) if rule.audiences.is_empty() => {
                failures.push(format!("{}: the authorization option names no audience", method.full_name()))
            }
            Some(rule)
                if rule.audiences().any(|a| a == Audience::SystemOperation)
                    && !catalog.contains(&rule.system_operation) =>
            {
                failures.push(format!(
                    "{}: system_operation '{}' is not in access's catalog",
                    method.full_name(),
                    rule.system_operation
                ))
            }
            Some(rule) => rules.push((method.clone(), rule)),
        }
    }

    assert!(failures.is_empty(), "{} methods without a usable rule:\n{}", failures.len(), failures.join("\n"));

    // The victim organization with a member and an administrator; the other organization
    // with its administrator; a plain employee.
    let victim_organization = organization(&suite, &admin, "Victim Ltd", AccountType::Customer).await;
    let (victim, _) = member(&suite, &admin, &victim_organization.id, "victim.admin@victim.test", true).await;
    let (_, external) = member(&suite, &admin, &victim_organization.id, "plain.member@victim.test", false).await;
    let other = organization(&suite, &admin, "Other Ltd", AccountType::Customer).await;
    let (_, other_admin) = member(&suite, &admin, &other.id, "admin@other.test", true).await;
    let (_, plain_employee) = employee(&suite, &admin, "plain.employee@portal.test").await;
    let target = Victim {
        organization_id: victim_organization.id.clone(),
        account_id: victim_organization.account_id.clone(),
        user_id: victim.id.clone(),
        contact_id: victim.contact_id.clone(),
    };
    let token = |caller: Caller| match caller {
        Caller::PlainEmployee => plain_employee.clone(),
        Caller::ExternalUser => external.clone(),
        Caller::OtherOrganizationAdministrator => other_admin.clone(),
    };

    // Every unary method not opened to a caller, called as that caller.
    let mut calls = Vec::new();
    for (method, rule) in &rules {
        if method.is_client_streaming() || method.is_server_streaming() {
            continue;
        }
        let aimed = target.request(method.parent_service().name(), &method.input(), 0).encode_to_vec();
        for caller in CALLERS {
            match opening(rule, caller) {
                Opening::Open => {}
                Opening::OwnOrganization => {
                    if target.named_in(&aimed) {
                        calls.push((method.clone(), caller, "request aimed at the victim", aimed.clone()));
                    }
                }
                Opening::Closed => {
                    calls.push((method.clone(), caller, "empty request", Vec::new()));
                    calls.push((method.clone(), caller, "request aimed at the victim", aimed.clone()));
                }
            }
        }
    }
    assert!(calls.len() > 300, "only {} calls: the audiences open almost everything", calls.len());
    let answers: Vec<_> = stream::iter(calls)
        .map(|(method, caller, kind, body)| {
            let token = token(caller);
            let suite = &suite;
            async move {
                let answer = call(suite, &method, body, &token).await;
                (method, caller, kind, answer)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut counts: BTreeMap<(Caller, String), usize> = BTreeMap::new();
    for (method, caller, kind, answer) in &answers {
        let code = answer.as_ref().err().map_or(Code::Ok, Status::code);
        *counts.entry((*caller, format!("{code:?}"))).or_default() += 1;
        if !matches!(code, Code::PermissionDenied | Code::NotFound) {
            let said = answer.as_ref().err().map(|s| s.message().chars().take(200).collect::<String>());
            failures.push(format!(
                "{} as {caller:?} ({kind}): {code:?} {}",
                method.full_name(),
                said.unwrap_or_default()
            ));
        }
    }
    eprintln!(
        "authorization ({:?}, {:?}): {} methods, {} refusals checked",
        suite.mode,
        suite.backend,
        methods.len(),
        answers.len()
    );
    for ((caller, code), count) in &counts {
        eprintln!("  {caller:?} {code}: {count}");
    }
    failures.sort();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
