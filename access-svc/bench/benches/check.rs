//! Benchmarks of the permission check (DESIGN.md §10: a cached check in process p50 ≤ 5 µs;
//! a check through the gateway on loopback p99 ≤ 1 ms), on the product guide's
//! Boston/Toronto scenario: Toronto reads a knowledge-base article a Boston user wrote
//! (granted by a default record rule), with "ModifiedOn" hidden from Toronto.
//!
//! - `domain`: the four-level rules alone on facts in memory (`domain::evaluate::check`);
//! - `cedar`: the same scenario as Cedar policies and entities, evaluated by the
//!   `cedar-policy` crate, as a peer reference for the rules alone;
//! - `in_process_cached` / `in_process_uncached`: `Permissions::check` of access-svc
//!   (counters, key, cache; uncached = after a policy bump: subject from identity in
//!   process, facts from SQLite);
//! - `in_process_cached_redis` (when `PORTAL_TEST_REDIS_URL` is set): the same with the
//!   version counters in Redis, as in the distributed mode (one MGET per check);
//! - `gateway_cached`: PermissionService.Check through the all-in-one gateway on loopback.
//!
//! Besides criterion's estimates, it prints p50/p99 and checks/s of sequential calls for
//! each path, and the throughput of 16 concurrent callers through the gateway.
//!
//! `cargo bench -p access-bench`

use std::{
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use access_svc::{
    cache::{Counter, VersionedCache},
    domain::{
        ColumnLevel, Effect, Grantee, Operation, Rights, Subject,
        evaluate::{
            self, ColumnGrantFact, EffectGrant, ObjectFacts, OperationGrantFact, PortalObjectFact, Query, RecordFacts,
            RecordGrantFact,
        },
    },
    identity::Identity,
    permissions::Permissions,
    storage::Store,
};
use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicySet, Request};
use criterion::{Criterion, criterion_group, criterion_main};
use portal_proto::{
    access::{
        AccessQuery, CheckRequest, ColumnAccessLevel, ColumnGrant, CreateColumnGrantRequest,
        CreateDefaultRecordRuleRequest, CreateObjectOperationGrantRequest, DefaultRecordRule, DefaultRecordRuleTarget,
        ObjectOperation, ObjectOperationGrant, PortalObject, RecordRight, UpdatePortalObjectRequest,
        column_grant_service_client::ColumnGrantServiceClient,
        default_record_rule_service_client::DefaultRecordRuleServiceClient, default_record_rule_target::Target,
        grantee::Subject as GranteeSubject, object_operation_grant_service_client::ObjectOperationGrantServiceClient,
        permission_service_client::PermissionServiceClient, portal_object_service_client::PortalObjectServiceClient,
    },
    identity::AccountType,
};
use portal_tests::{Backend, Mode, Suite, authed, fixtures};
use service_kit::{access::AccessClient, db::Database, runner, upstream};

const KB: &str = "KnowledgeBase";

fn role(id: &str) -> portal_proto::access::Grantee {
    portal_proto::access::Grantee { subject: Some(GranteeSubject::RoleId(id.into())) }
}

/// The running suite, the scenario's users, and an access engine in this process.
struct Scenario {
    suite: Suite,
    toronto_user: String,
    toronto_token: String,
    permissions: Permissions,
    cache: Arc<VersionedCache>,
    /// The same engine with its counters in Redis (the distributed mode), when
    /// `PORTAL_TEST_REDIS_URL` is set.
    with_redis: Option<Permissions>,
}

async fn scenario() -> Scenario {
    let suite = Suite::start(Mode::AllInOne, Backend::Sqlite).await.expect("the all-in-one suite starts");
    let admin = suite.admin_token().await;
    let organization = fixtures::organization(&suite, &admin, "Northwind", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &organization.id, "Boston").await;
    let toronto = fixtures::role(&suite, &admin, &organization.id, "Toronto").await;
    let (bea, _) = fixtures::member(&suite, &admin, &organization.id, "bea@northwind.test", false).await;
    let (tom, tom_token) = fixtures::member(&suite, &admin, &organization.id, "tom@northwind.test", false).await;
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&bea.id]).await;
    fixtures::add_to_role(&suite, &admin, &toronto.id, &[&tom.id]).await;
    let mut grants = ObjectOperationGrantServiceClient::new(suite.channel());
    let operations = [
        (&boston.id, ObjectOperation::Create, 1),
        (&boston.id, ObjectOperation::Read, 1),
        (&boston.id, ObjectOperation::Update, 1),
        (&boston.id, ObjectOperation::Delete, 2),
        (&toronto.id, ObjectOperation::Read, 1),
    ];
    for (role_id, operation, effect) in operations {
        let grant = ObjectOperationGrant {
            object_code: KB.into(),
            grantee: Some(role(role_id)),
            operation: operation.into(),
            effect,
            ..Default::default()
        };
        let request =
            CreateObjectOperationGrantRequest { object_operation_grant: Some(grant), request_id: String::new() };
        grants.create_object_operation_grant(authed(request, &admin)).await.unwrap();
    }
    let update = UpdatePortalObjectRequest {
        portal_object: Some(PortalObject {
            id: "object-knowledge-base".into(),
            record_permissions_enabled: true,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["record_permissions_enabled".into()] }),
    };
    PortalObjectServiceClient::new(suite.channel()).update_portal_object(authed(update, &admin)).await.unwrap();
    let rule = DefaultRecordRule {
        object_code: KB.into(),
        author: Some(role(&boston.id)),
        target: Some(DefaultRecordRuleTarget { target: Some(Target::Grantee(role(&toronto.id))) }),
        rights: vec![RecordRight::Read.into()],
        ..Default::default()
    };
    let request = CreateDefaultRecordRuleRequest { default_record_rule: Some(rule), request_id: String::new() };
    DefaultRecordRuleServiceClient::new(suite.channel())
        .create_default_record_rule(authed(request, &admin))
        .await
        .unwrap();
    let column = ColumnGrant {
        object_code: KB.into(),
        column_code: "ModifiedOn".into(),
        grantee: Some(role(&toronto.id)),
        level: ColumnAccessLevel::Hidden.into(),
        ..Default::default()
    };
    let request = CreateColumnGrantRequest { column_grant: Some(column), request_id: String::new() };
    ColumnGrantServiceClient::new(suite.channel()).create_column_grant(authed(request, &admin)).await.unwrap();

    // A second identity and access in this process, on the suite's databases.
    let context = runner::context_from_config(suite.config.clone(), suite.clock.clone()).unwrap();
    for spec in gateway::suite::services().into_iter().filter(|s| matches!(s.area, "identity" | "access")) {
        let module = (spec.start)(context.clone()).await.unwrap();
        context.upstreams.set(spec.area, upstream::local(module.routes));
    }
    AccessClient::new(&context, "bench").register_record(KB, "article-boston", &bea.id, "").await.unwrap();
    let database = Database::connect(&suite.config, access_svc::AREA, access_svc::MIGRATIONS).await.unwrap();
    let cache = Arc::new(VersionedCache::new(&suite.config).unwrap());
    let identity = Identity::new(context.upstreams.clone(), context.assertion_key.clone());
    let permissions = Permissions::new(Store::new(database.clone()), identity.clone(), cache.clone());
    let with_redis = std::env::var("PORTAL_TEST_REDIS_URL").ok().map(|url| {
        let mut config = suite.config.clone();
        config.cache.redis_url = url;
        let cache = Arc::new(VersionedCache::new(&config).expect("the Redis URL parses"));
        Permissions::new(Store::new(database), identity, cache)
    });
    Scenario { suite, toronto_user: tom.id, toronto_token: tom_token, permissions, cache, with_redis }
}

fn query() -> Query {
    Query {
        object_code: KB.into(),
        operation: Operation::Read,
        record_id: Some("article-boston".into()),
        column_codes: vec!["Title".into()],
    }
}

/// The scenario's facts in memory, as storage would load them for Toronto's user.
fn domain_inputs() -> (Subject, ObjectFacts, RecordFacts) {
    let subject = Subject {
        user_id: "tom".into(),
        external: true,
        active: true,
        system_administrator: false,
        organization_id: "northwind".into(),
        role_ids: vec!["toronto".into(), "northwind".into(), "all-external-users".into()],
    };
    let allow = |id: &str, role: &str, operation| OperationGrantFact {
        operation,
        grant: EffectGrant { id: id.into(), grantee: Grantee::role(role), effect: Effect::Allow, priority: None },
    };
    let facts = ObjectFacts {
        object: Some(PortalObjectFact { id: "kb".into(), record_permissions_enabled: true }),
        read_only_section_id: None,
        operation_grants: vec![
            allow("t-read", "toronto", Operation::Read),
            allow("all-read", "all-external-users", Operation::Read),
        ],
        column_grants: vec![ColumnGrantFact {
            id: "t-modified".into(),
            grantee: Grantee::role("toronto"),
            column_code: "ModifiedOn".into(),
            level: ColumnLevel::Hidden,
            priority: None,
        }],
        role_priorities: Default::default(),
    };
    let record = RecordFacts::Registered {
        author_user_id: "bea".into(),
        grants: vec![RecordGrantFact {
            id: "rule-grant".into(),
            grantee: Grantee::role("toronto"),
            rights: Rights::of([access_svc::domain::Right::Read]),
        }],
    };
    (subject, facts, record)
}

/// The same scenario in Cedar: role membership as entity parents, the record rule as
/// a condition on the article's author.
fn cedar_inputs() -> (PolicySet, Entities, Request) {
    let policies = PolicySet::from_str(
        r#"
        permit(principal in Role::"boston", action in [Action::"create", Action::"read", Action::"update"], resource is Article);
        forbid(principal in Role::"boston", action == Action::"delete", resource is Article);
        permit(principal in Role::"toronto", action == Action::"read", resource is Article)
            when { resource.author == principal || resource.author in Role::"boston" };
        permit(principal in Role::"all-external-users", action == Action::"read", resource is Article)
            when { resource.author == principal };
        "#,
    )
    .expect("policies parse");
    let entities = Entities::from_json_str(
        r#"[
            {"uid": {"type": "Role", "id": "all-external-users"}, "attrs": {}, "parents": []},
            {"uid": {"type": "Role", "id": "northwind"}, "attrs": {}, "parents": [{"type": "Role", "id": "all-external-users"}]},
            {"uid": {"type": "Role", "id": "boston"}, "attrs": {}, "parents": [{"type": "Role", "id": "northwind"}]},
            {"uid": {"type": "Role", "id": "toronto"}, "attrs": {}, "parents": [{"type": "Role", "id": "northwind"}]},
            {"uid": {"type": "User", "id": "bea"}, "attrs": {}, "parents": [{"type": "Role", "id": "boston"}]},
            {"uid": {"type": "User", "id": "tom"}, "attrs": {}, "parents": [{"type": "Role", "id": "toronto"}]},
            {"uid": {"type": "Article", "id": "article-boston"}, "attrs": {"author": {"__entity": {"type": "User", "id": "bea"}}}, "parents": []}
        ]"#,
        None,
    )
    .expect("entities parse");
    let request = Request::new(
        EntityUid::from_str(r#"User::"tom""#).unwrap(),
        EntityUid::from_str(r#"Action::"read""#).unwrap(),
        EntityUid::from_str(r#"Article::"article-boston""#).unwrap(),
        Context::empty(),
        None,
    )
    .unwrap();
    (policies, entities, request)
}

/// Sequential latency percentiles and rate of `calls` runs of `call`.
async fn percentiles<F, Fut>(name: &str, calls: usize, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut times = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let start = Instant::now();
        call().await;
        times.push(start.elapsed());
    }
    let total = started.elapsed();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{name:<24} p50 {:>9.2?}  p99 {:>9.2?}  {:>10.0} checks/s (sequential, {calls} calls)",
        at(0.50),
        at(0.99),
        calls as f64 / total.as_secs_f64()
    );
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let scenario = runtime.block_on(scenario());
    let (subject, facts, record) = domain_inputs();
    let (policies, entities, request) = cedar_inputs();
    let authorizer = Authorizer::new();
    let query = query();
    assert!(evaluate::check(&subject, &query, &facts, &record).allowed);
    assert_eq!(authorizer.is_authorized(&request, &policies, &entities).decision(), cedar_policy::Decision::Allow);
    let user = scenario.toronto_user.clone();
    let permissions = scenario.permissions.clone();
    let decision = runtime.block_on(permissions.check(&user, &query)).unwrap();
    assert!(decision.allowed && decision.mask.as_ref().unwrap().hidden == ["ModifiedOn"], "{decision:?}");
    let gateway_request = CheckRequest {
        query: Some(AccessQuery {
            object_code: KB.into(),
            operation: ObjectOperation::Read.into(),
            record_id: "article-boston".into(),
            column_codes: vec!["Title".into()],
        }),
        subject_user_id: String::new(),
    };
    // A lazy channel spawns its connection task: it must be made inside the runtime.
    let client = {
        let _inside = runtime.enter();
        PermissionServiceClient::new(scenario.suite.channel())
    };
    let gateway_request = Arc::new(gateway_request);
    let token: Arc<str> = scenario.toronto_token.clone().into();
    let through_gateway = move |mut client: PermissionServiceClient<tonic::transport::Channel>| {
        let (request, token) = ((*gateway_request).clone(), token.clone());
        async move {
            let answer = client.check(authed(request, &token)).await.unwrap().into_inner();
            assert!(answer.result.unwrap().allowed);
        }
    };

    runtime.block_on(async {
        println!("\n# Sequential latency (Boston/Toronto: Toronto reads Boston's article)");
        percentiles("domain (rules only)", 200_000, || async {
            assert!(evaluate::check(&subject, &query, &facts, &record).allowed)
        })
        .await;
        percentiles("cedar (rules only)", 200_000, || async {
            assert_eq!(
                authorizer.is_authorized(&request, &policies, &entities).decision(),
                cedar_policy::Decision::Allow
            )
        })
        .await;
        percentiles("in_process_cached", 200_000, || async {
            assert!(permissions.check(&user, &query).await.unwrap().allowed)
        })
        .await;
        if let Some(with_redis) = &scenario.with_redis {
            percentiles("in_process_cached_redis", 20_000, || async {
                assert!(with_redis.check(&user, &query).await.unwrap().allowed)
            })
            .await;
        }
        percentiles("in_process_uncached", 2_000, || async {
            scenario.cache.bump(&[Counter::Policy]).await;
            assert!(permissions.check(&user, &query).await.unwrap().allowed);
        })
        .await;
        percentiles("gateway_cached", 10_000, || through_gateway.clone()(client.clone())).await;
        let callers = 16;
        let window = Duration::from_secs(3);
        let started = Instant::now();
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let (client, call) = (client.clone(), through_gateway.clone());
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while started.elapsed() < window {
                        call(client.clone()).await;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        println!(
            "gateway_cached, {callers} concurrent callers: {:.0} checks/s\n",
            total as f64 / started.elapsed().as_secs_f64()
        );
    });

    let mut group = c.benchmark_group("check");
    group.bench_function("domain", |b| b.iter(|| evaluate::check(&subject, &query, &facts, &record)));
    group.bench_function("cedar", |b| b.iter(|| authorizer.is_authorized(&request, &policies, &entities)));
    group.bench_function("in_process_cached", |b| b.to_async(&runtime).iter(|| permissions.check(&user, &query)));
    if let Some(with_redis) = &scenario.with_redis {
        group.bench_function("in_process_cached_redis", |b| {
            b.to_async(&runtime).iter(|| with_redis.check(&user, &query))
        });
    }
    group.sample_size(20);
    group.bench_function("in_process_uncached", |b| {
        b.to_async(&runtime).iter(|| async {
            scenario.cache.bump(&[Counter::Policy]).await;
            permissions.check(&user, &query).await
        })
    });
    group.sample_size(50);
    group.bench_function("gateway_cached", |b| b.to_async(&runtime).iter(|| through_gateway.clone()(client.clone())));
    group.finish();
    runtime.block_on(async move { drop(scenario) });
}

criterion_group!(benches, bench);
criterion_main!(benches);
