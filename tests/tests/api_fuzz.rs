//! An API fuzz test (issue 13, "bad input is INVALID_ARGUMENT"): every public unary
//! method, read from the descriptor pool, gets through the gateway an empty request,
//! requests of random typed values (1 MB strings, NUL and odd unicode, negative and
//! huge numbers, unknown enum values, 10,000-character ids) and random bytes, as the
//! system administrator and anonymously. No answer may be INTERNAL or UNKNOWN, take
//! over 5 s, or carry a message longer than the error model allows; an empty request
//! is never NOT_FOUND (a missing id is INVALID_ARGUMENT naming the field); a request
//! that answers OK stops doing so when one of its enum fields holds an unknown value;
//! and the suite still serves afterwards.
//!
//! CI runs a fixed seed and a few random requests per method. A longer run:
//! `PORTAL_FUZZ_CASES=200 PORTAL_FUZZ_SEED=$RANDOM cargo nextest run -p portal-tests
//! --test api_fuzz --no-capture` (`PORTAL_FUZZ_METHODS=Lead` narrows it to methods whose
//! name contains a text). The counts by status code are printed at the end.

use std::{
    collections::{BTreeMap, HashMap},
    str::FromStr,
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use portal_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Suite, suite_tests};
use prost::Message;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, MethodDescriptor, ReflectMessage, Value,
};
use tonic::{Code, Request, Status, codegen::http::uri::PathAndQuery, metadata::MetadataValue, transport::Channel};

#[path = "support/raw.rs"]
mod raw;
use raw::{RawCodec, public_unary_methods};

suite_tests!(no_input_makes_a_public_method_fail_on_the_server);

/// The seed CI runs with; `PORTAL_FUZZ_SEED` picks another.
const DEFAULT_SEED: u64 = 20_261_207;
/// Random typed requests per method and caller in CI; `PORTAL_FUZZ_CASES` sets more.
const DEFAULT_CASES: usize = 3;
/// Calls in flight at once.
const CONCURRENCY: usize = 4;
/// The longest a call may take.
const CALL_LIMIT: Duration = Duration::from_secs(5);
/// The longest message an error may carry (the error model bounds it to 1024 characters).
const MESSAGE_LIMIT: usize = 1100;

struct Settings {
    seed: u64,
    cases: usize,
    filter: Option<String>,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Self {
            seed: number("PORTAL_FUZZ_SEED").unwrap_or(DEFAULT_SEED),
            cases: number("PORTAL_FUZZ_CASES").map(|n| n as usize).unwrap_or(DEFAULT_CASES),
            filter: std::env::var("PORTAL_FUZZ_METHODS").ok().filter(|f| !f.is_empty()),
        }
    }
}

/// Random values of every protobuf type, biased towards the ones that break servers.
struct Generator {
    rng: fastrand::Rng,
    /// A 1 MB string is put in at most one field of a request.
    megabyte_left: bool,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Self { rng: fastrand::Rng::with_seed(seed), megabyte_left: true }
    }

    fn message(&mut self, descriptor: &MessageDescriptor, depth: usize) -> DynamicMessage {
        let mut message = DynamicMessage::new(descriptor.clone());
        for field in descriptor.fields() {
            if self.rng.u8(0..10) < 4 {
                continue;
            }
            let value = if field.is_map() {
                self.map(&field, depth)
            } else if field.is_list() {
                let count = self.rng.usize(0..4);
                Value::List((0..count).map(|_| self.value(&field, depth)).collect())
            } else if field.name() == "update_mask" {
                self.update_mask(descriptor)
            } else {
                self.value(&field, depth)
            };
            message.set_field(&field, value);
        }
        message
    }

    fn map(&mut self, field: &FieldDescriptor, depth: usize) -> Value {
        let Kind::Message(entry) = field.kind() else { unreachable!("a map field's kind is its entry message") };
        let (key_field, value_field) = (entry.map_entry_key_field(), entry.map_entry_value_field());
        let mut map = HashMap::new();
        for _ in 0..self.rng.usize(0..3) {
            let key = match self.value(&key_field, depth) {
                Value::String(s) => MapKey::String(s),
                Value::I32(n) => MapKey::I32(n),
                Value::I64(n) => MapKey::I64(n),
                Value::U32(n) => MapKey::U32(n),
                Value::U64(n) => MapKey::U64(n),
                Value::Bool(b) => MapKey::Bool(b),
                other => panic!("a map key cannot be {other:?}"),
            };
            map.insert(key, self.value(&value_field, depth));
        }
        Value::Map(map)
    }

    /// Paths of an update mask: now the request's own fields (to get past the mask
    /// check into the values), now garbage.
    fn update_mask(&mut self, request: &MessageDescriptor) -> Value {
        let resource = request.fields().find_map(|f| match f.kind() {
            Kind::Message(m) if f.name() != "update_mask" => Some(m),
            _ => None,
        });
        let mut paths: Vec<Value> = Vec::new();
        if let Some(resource) = resource {
            for field in resource.fields() {
                if self.rng.bool() {
                    paths.push(Value::String(field.name().to_owned()));
                }
            }
        }
        if self.rng.u8(0..4) == 0 {
            paths.push(Value::String(self.string(false)));
        }
        let mut mask = DynamicMessage::new(
            request.parent_pool().get_message_by_name("google.protobuf.FieldMask").expect("FieldMask"),
        );
        mask.set_field_by_name("paths", Value::List(paths));
        Value::Message(mask)
    }

    fn value(&mut self, field: &FieldDescriptor, depth: usize) -> Value {
        let rng = &mut self.rng;
        let random = rng.i64(..);
        match field.kind() {
            Kind::String => {
                let name = field.name();
                Value::String(self.string(name == "id" || name.ends_with("_id") || name.ends_with("_ids")))
            }
            Kind::Bytes => Value::Bytes((0..rng.usize(0..64)).map(|_| rng.u8(..)).collect::<Vec<_>>().into()),
            Kind::Bool => Value::Bool(rng.bool()),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                Value::I32(pick(rng, &[0, 1, -1, 42, i32::MIN, i32::MAX, random as i32]))
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                Value::I64(pick(rng, &[0, 1, -1, i64::MIN, i64::MAX, 253_402_300_800, random]))
            }
            Kind::Uint32 | Kind::Fixed32 => Value::U32(pick(rng, &[0, 1, u32::MAX, random as u32])),
            Kind::Uint64 | Kind::Fixed64 => Value::U64(pick(rng, &[0, 1, u64::MAX, random as u64])),
            Kind::Float => Value::F32(pick(rng, &[0.0, -1.5, f32::NAN, f32::INFINITY, f32::MAX])),
            Kind::Double => Value::F64(pick(rng, &[0.0, -1.5, f64::NAN, f64::NEG_INFINITY, f64::MAX])),
            Kind::Enum(descriptor) => {
                let defined: Vec<i32> = descriptor.values().map(|v| v.number()).collect();
                let value = match rng.u8(0..4) {
                    0 => pick(rng, &[42, -1, i32::MAX]),
                    _ => pick(rng, &defined),
                };
                Value::EnumNumber(value)
            }
            Kind::Message(descriptor) if depth < 3 => Value::Message(self.message(&descriptor, depth + 1)),
            Kind::Message(descriptor) => Value::Message(DynamicMessage::new(descriptor)),
        }
    }

    fn string(&mut self, id_like: bool) -> String {
        let rng = &mut self.rng;
        if self.megabyte_left && rng.u8(0..40) == 0 {
            self.megabyte_left = false;
            return "m".repeat(1 << 20);
        }
        let id = format!("0193{:028x}", rng.u128(..) >> 16);
        let choices: [String; 12] = [
            String::new(),
            "a".into(),
            (0..rng.usize(1..16)).map(|_| rng.alphanumeric()).collect(),
            id,
            "i".repeat(10_000),
            "a\0b".into(),
            "\u{202e}évil\u{0}\u{feff}".into(),
            "𝕏\u{10ffff}😀\u{7f}\u{85}".into(),
            "zoe@ex!ample.com".into(),
            "ann@example.com".into(),
            "   ".into(),
            "-99999999999999999999".into(),
        ];
        // Id fields get id-shaped values more often.
        let index = if id_like && rng.bool() { pick(rng, &[0, 3, 4, 5]) } else { rng.usize(0..choices.len()) };
        choices[index].clone()
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, values: &[T]) -> T {
    values[rng.usize(0..values.len())]
}

/// The request's enum fields (top level, and inside its singular message fields), each
/// with a message equal to `base` but that field set to an unknown number.
fn with_unknown_enums(base: &DynamicMessage) -> Vec<(String, DynamicMessage)> {
    let mut variants = Vec::new();
    let descriptor = base.descriptor();
    for field in descriptor.fields() {
        match field.kind() {
            Kind::Enum(_) => {
                let mut message = base.clone();
                let value =
                    if field.is_list() { Value::List(vec![Value::EnumNumber(42)]) } else { Value::EnumNumber(42) };
                message.set_field(&field, value);
                variants.push((field.name().to_owned(), message));
            }
            Kind::Message(inner) if !field.is_list() && !field.is_map() => {
                let inner_base = DynamicMessage::new(inner);
                for (name, inner_message) in with_unknown_enums(&inner_base) {
                    let mut message = base.clone();
                    message.set_field(&field, Value::Message(inner_message));
                    variants.push((format!("{}.{name}", field.name()), message));
                }
            }
            _ => {}
        }
    }
    variants
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Administrator,
    Anonymous,
}

/// One request to send.
struct Case {
    method: MethodDescriptor,
    caller: Caller,
    /// What the request is, for the failure report.
    kind: String,
    body: Vec<u8>,
}

/// One answer.
struct Answer {
    code: Code,
    message: String,
    elapsed: Duration,
}

struct Fuzzer<'a> {
    suite: &'a Suite,
    channel: Channel,
    admin_token: tokio::sync::Mutex<String>,
}

impl Fuzzer<'_> {
    async fn call(&self, case: &Case) -> Answer {
        let token = self.admin_token.lock().await.clone();
        let answer = self.send(case, &token).await;
        if case.caller != Caller::Administrator || answer.code != Code::Unauthenticated {
            return answer;
        }
        // A call may have ended the administrator's own session (Logout): log in again
        // (once for every call that noticed) and repeat the call.
        let mut current = self.admin_token.lock().await;
        if *current == token {
            *current = self.suite.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the administrator logs in again");
        }
        let token = current.clone();
        drop(current);
        self.send(case, &token).await
    }

    async fn send(&self, case: &Case, token: &str) -> Answer {
        let mut request = Request::new(case.body.clone());
        request.set_timeout(CALL_LIMIT);
        if case.caller == Caller::Administrator {
            let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ASCII token");
            request.metadata_mut().insert("authorization", value);
        }
        let path = format!("/{}/{}", case.method.parent_service().full_name(), case.method.name());
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let started = Instant::now();
        let result = async {
            grpc.ready().await.map_err(|e| Status::unknown(format!("channel not ready: {e}")))?;
            grpc.unary(request, PathAndQuery::from_str(&path).expect("a path"), RawCodec).await
        }
        .await;
        let elapsed = started.elapsed();
        match result {
            Ok(_) => Answer { code: Code::Ok, message: String::new(), elapsed },
            Err(status) => Answer { code: status.code(), message: status.message().to_owned(), elapsed },
        }
    }
}

fn cases_for(method: &MethodDescriptor, caller: Caller, settings: &Settings) -> Vec<Case> {
    let mut seed = settings.seed;
    for byte in method.full_name().bytes() {
        seed = seed.wrapping_mul(31).wrapping_add(u64::from(byte));
    }
    let mut generator = Generator::new(seed);
    let input = method.input();
    let case = |kind: String, body: Vec<u8>| Case { method: method.clone(), caller, kind, body };
    let mut cases = vec![case("empty request".into(), Vec::new())];
    for index in 0..settings.cases {
        generator.megabyte_left = true;
        let message = generator.message(&input, 0);
        cases.push(case(format!("random request #{index} (seed {seed})"), message.encode_to_vec()));
    }
    let length = generator.rng.usize(1..64);
    let noise: Vec<u8> = (0..length).map(|_| generator.rng.u8(..)).collect();
    cases.push(case(format!("{length} random bytes (seed {seed})"), noise));
    cases
}

async fn no_input_makes_a_public_method_fail_on_the_server(suite: Suite) {
    let settings = Settings::from_env();
    let methods = public_unary_methods(settings.filter.as_deref());
    assert!(settings.filter.is_some() || methods.len() > 200, "only {} public unary methods found", methods.len());
    let fuzzer = Fuzzer { suite: &suite, channel: suite.channel(), admin_token: suite.admin_token().await.into() };
    let mut cases = Vec::new();
    for method in &methods {
        for caller in [Caller::Administrator, Caller::Anonymous] {
            cases.extend(cases_for(method, caller, &settings));
        }
    }
    let answers: Vec<(Case, Answer)> = stream::iter(cases)
        .map(|case| async {
            let answer = fuzzer.call(&case).await;
            (case, answer)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let mut failures = Vec::new();
    let mut counts: BTreeMap<(Caller, String), usize> = BTreeMap::new();
    let mut empty_ok = Vec::new();
    for (case, answer) in &answers {
        *counts.entry((case.caller, format!("{:?}", answer.code))).or_default() += 1;
        failures.extend(problems(case, answer));
        if case.kind == "empty request" && case.caller == Caller::Administrator && answer.code == Code::Ok {
            empty_ok.push(case.method.clone());
        }
    }

    // A request that answers OK must stop doing so when an enum field holds a number
    // the contract does not define.
    let mut enum_checks = 0;
    for method in &empty_ok {
        for (field, message) in with_unknown_enums(&DynamicMessage::new(method.input())) {
            let case = Case {
                method: method.clone(),
                caller: Caller::Administrator,
                kind: format!("empty request with {field} = 42"),
                body: message.encode_to_vec(),
            };
            let answer = fuzzer.call(&case).await;
            enum_checks += 1;
            *counts.entry((case.caller, format!("{:?}", answer.code))).or_default() += 1;
            failures.extend(problems(&case, &answer));
            if answer.code == Code::Ok {
                failures.push(format!("{}: {}: answered OK to an unknown enum value", method.full_name(), case.kind));
            }
        }
    }

    eprintln!(
        "api fuzz ({:?}, {:?}): {} methods, {} calls ({} unknown-enum checks), seed {}, {} random requests per method and caller",
        suite.mode,
        suite.backend,
        methods.len(),
        answers.len() + enum_checks,
        enum_checks,
        settings.seed,
        settings.cases
    );
    for ((caller, code), count) in &counts {
        eprintln!("  {caller:?} {code}: {count}");
    }

    // The suite still serves: the administrator logs in and is who they are.
    let token = suite.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the administrator still logs in");
    portal_proto::identity::session_service_client::SessionServiceClient::new(suite.channel())
        .who_am_i(portal_tests::authed(portal_proto::identity::WhoAmIRequest {}, &token))
        .await
        .expect("the suite still answers");

    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// What is wrong with one answer, if anything.
fn problems(case: &Case, answer: &Answer) -> Vec<String> {
    let method = case.method.full_name();
    let mut found = Vec::new();
    let said = || answer.message.chars().take(300).collect::<String>();
    if matches!(answer.code, Code::Internal | Code::Unknown | Code::DeadlineExceeded) {
        found.push(format!("{method} as {:?}: {}: {:?}: {}", case.caller, case.kind, answer.code, said()));
    }
    if answer.elapsed > CALL_LIMIT {
        found.push(format!("{method}: {}: took {:?}", case.kind, answer.elapsed));
    }
    if answer.message.chars().count() > MESSAGE_LIMIT {
        found.push(format!("{method}: {}: a {}-character message", case.kind, answer.message.chars().count()));
    }
    if case.kind == "empty request" && case.caller == Caller::Administrator && answer.code == Code::NotFound {
        found.push(format!("{method}: the empty request answered NOT_FOUND ({}), not INVALID_ARGUMENT", said()));
    }
    found
}
