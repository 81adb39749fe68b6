//! Listing a user's cases with record filtering at 1,000,000 cases in PostgreSQL
//! (DESIGN.md §10: p99 ≤ 20 ms). Run: `cargo bench -p case-svc --bench listing` with
//! `PORTAL_TEST_DATABASE_URL` set; without it the benchmark says so and does nothing.
//!
//! The service runs in process on its own schema (`bench_listing_case`, dropped before and
//! after), seeded with set-based SQL: 1,000 organizations × 10 portal users × 100 cases, the
//! cases of one user spread over the whole year; the first 500 organizations see all their
//! cases (organization-wide visibility, a read grant to the organization in the grant
//! replica, 500,000 rows), as access's default record rule would have granted them.
//! Every call is the whole ListCases rpc through the generated client: the assertion guard,
//! the typed filter, the record filter from access (answered in process by a stand-in that
//! returns what access-svc computes for a portal user: the user as author, the user's,
//! organization's and all-external-users' grantee keys), the replica sync check, the SQL,
//! the SLA views, the column mask (from the record filter's answer; the stand-in hides
//! nothing) and the answer's encoding.

use std::time::{Duration, Instant};

use case_svc::storage::calendars::CalendarDefinition;
use criterion::Criterion;
use portal_proto::{
    access::{
        PullRecordGrantChangesRequest, PullRecordGrantChangesResponse, RecordFilter, RecordFilterMode,
        RecordFilterRequest, RecordFilterResponse, RecordRight,
        access_internal_service_server::{AccessInternalService, AccessInternalServiceServer},
    },
    case::{CaseFilter, CaseStatus, ListCasesRequest, case_service_client::CaseServiceClient},
};
use service_kit::{
    Caller, CallerKind,
    clock::Clock,
    config::PortalConfig,
    runner::context_from_config,
    upstream::{SignAs, Upstream, local},
};
use sqlx::{Connection, Executor};
use tonic::{Request, Response, Status, service::Routes, service::interceptor::InterceptedService};

const SCHEMA_PREFIX: &str = "bench_listing_";
const SCHEMA: &str = "bench_listing_case";
/// The grant replica's revision after seeding, which the stand-in reports as current.
const REVISION: i64 = 500_000;

/// 1,000,000 cases: case n is written by user n mod 10,000 of organization (n mod 10,000) / 10,
/// 30 s after case n - 1, so each user's 100 cases spread over the year; the k-th case of a
/// user has status k mod 8 of the list (3 in 8 open).
const SEED_CASES: &str = "
INSERT INTO cases (id, number, number_key, sequence, subject, description, status, category, author_user_id,
    contact_id, account_id, organization_id, priority, tags, calendar_id,
    response_target, response_state, response_deadline, response_frozen_ms,
    resolution_target, resolution_state, resolution_deadline, resolution_frozen_ms,
    first_response_at, version, created_at, updated_at)
SELECT md5('case' || n), 'CS-' || lpad(n::text, 7, '0'), 'cs-' || lpad(n::text, 7, '0'), n,
       'Printer on floor ' || (n % 40) || ' does not print', repeat('What happened, step by step. ', 8),
       (ARRAY['new','in_progress','waiting_for_response','resolved','closed','closed','closed','closed'])[1 + n / 10000 % 8],
       (ARRAY['incident','service_request','consultation'])[1 + n / 10000 % 3],
       'user-' || lpad((n % 10000)::text, 5, '0'), 'contact-' || lpad((n % 10000)::text, 5, '0'),
       'account-' || lpad((n % 10000 / 10)::text, 4, '0'), 'org-' || lpad((n % 10000 / 10)::text, 4, '0'),
       1 + n / 10000 % 4, CASE WHEN n / 10000 % 5 = 0 THEN 'printer,hardware' ELSE '' END, 'calendar-office',
       240, 'stopped', 1767225600000 + n * 30000 + 14400000, 0,
       2880, 'running', 1767225600000 + n * 30000 + 172800000, 0,
       1767225600000 + n * 30000 + 3600000, 1, 1767225600000 + n * 30000, 1767225600000 + n * 30000 + 3600000
FROM generate_series(1::bigint, 1000000) AS n";

/// Organization-wide visibility for the first 500 organizations, with each case's creation
/// time next to its grant as case-svc keeps it (`storage::grant_order`).
const SEED_GRANTS: &str = "
INSERT INTO access_record_grants (grant_id, object_code, record_id, grantee_key, can_read, can_edit, can_delete,
    record_created_at)
SELECT md5('grant' || n), 'Case', md5('case' || n), 'r:org-' || lpad((n % 10000 / 10)::text, 4, '0'), 1, 0, 0,
       1767225600000 + n * 30000
FROM generate_series(1::bigint, 1000000) AS n WHERE n % 10000 / 10 < 500";

/// Access's answers for portal users: the record filter access-svc computes for a portal
/// user of an organization (record permissions on), and a replica that is up to date.
#[derive(Clone)]
struct AccessStandIn;

#[tonic::async_trait]
impl AccessInternalService for AccessStandIn {
    async fn record_filter(
        &self,
        request: Request<RecordFilterRequest>,
    ) -> Result<Response<RecordFilterResponse>, Status> {
        let user = request.into_inner().subject_user_id;
        let organization = organization_of(&user);
        Ok(Response::new(RecordFilterResponse {
            filter: Some(RecordFilter {
                mode: RecordFilterMode::Match.into(),
                grantee_keys: vec![format!("u:{user}"), format!("r:{organization}"), "r:all-external-users".into()],
                author_user_ids: vec![user],
                required_right: RecordRight::Read.into(),
                min_grants_revision: REVISION,
                ..Default::default()
            }),
            column_mask: None,
        }))
    }

    async fn pull_record_grant_changes(
        &self,
        _request: Request<PullRecordGrantChangesRequest>,
    ) -> Result<Response<PullRecordGrantChangesResponse>, Status> {
        Ok(Response::new(PullRecordGrantChangesResponse { revision: REVISION, ..Default::default() }))
    }
}

/// `user-01234` belongs to `org-0123`, as seeded.
fn organization_of(user: &str) -> String {
    let number: u32 = user.trim_start_matches("user-").parse().expect("a seeded user");
    format!("org-{:04}", number / 10)
}

type Client = CaseServiceClient<InterceptedService<Upstream, SignAs>>;

/// One measured listing.
struct Scenario {
    name: &'static str,
    client: Client,
    request: ListCasesRequest,
}

async fn admin_connection(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.expect("PostgreSQL at PORTAL_TEST_DATABASE_URL")
}

async fn drop_schema(url: &str) {
    let mut admin = admin_connection(url).await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))).await.expect("drop schema");
    admin.close().await.expect("close");
}

/// Starts the case service on a fresh schema, seeds it, and returns it with the clients.
async fn start(url: &str) -> (service_kit::ServiceModule, service_kit::assertion::AssertionKey) {
    drop_schema(url).await;
    let mut config = PortalConfig::default();
    config.database.url = url.to_owned();
    config.database.schema_prefix = SCHEMA_PREFIX.into();
    config.assertion.secret = "bench-listing-assertion-secret-0123456789".into();
    let context = context_from_config(config, Clock::system()).expect("context");
    context.upstreams.set("access", local(Routes::new(AccessInternalServiceServer::new(AccessStandIn))));
    let key = context.assertion_key.clone();
    let module = case_svc::start(context).await.expect("case service");
    let pool = &module.database.writer;
    let office = CalendarDefinition {
        weekly: std::array::from_fn(|day| if day < 5 { vec![(540, 1080)] } else { vec![] }),
        holidays: vec![],
    };
    sqlx::query(
        "INSERT INTO calendars (id, name, name_key, time_zone, definition, created_at, updated_at) \
         VALUES ('calendar-office', 'Office', 'office', 'Europe/Berlin', $1, 0, 0)",
    )
    .bind(serde_json::to_string(&office).expect("definition"))
    .execute(pool)
    .await
    .expect("calendar");
    let started = Instant::now();
    for (what, sql) in [
        ("1,000,000 cases", SEED_CASES),
        ("500,000 grants", SEED_GRANTS),
        (
            "the replica's revision",
            "INSERT INTO access_grant_revisions (object_code, revision) VALUES ('Case', 500000)",
        ),
        ("statistics", "ANALYZE cases; ANALYZE access_record_grants"),
    ] {
        let step = Instant::now();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await.expect("seed");
        eprintln!("seeded {what} in {:.1} s", step.elapsed().as_secs_f64());
    }
    eprintln!("seeding took {:.1} s", started.elapsed().as_secs_f64());
    (module, key)
}

fn client(module: &service_kit::ServiceModule, key: &service_kit::assertion::AssertionKey, user: &str) -> Client {
    let caller = Caller {
        kind: CallerKind::External,
        user_id: user.to_owned(),
        organization_id: organization_of(user),
        session_id: "bench".into(),
        ..Caller::anonymous()
    };
    CaseServiceClient::with_interceptor(local(module.routes.clone()), SignAs::new(key.clone(), caller))
}

fn page(size: i32, token: &str, filter: Option<CaseFilter>) -> ListCasesRequest {
    ListCasesRequest { page_size: size, page_token: token.to_owned(), filter, ..Default::default() }
}

/// The page token that starts page `number` (1-based) of `request`.
async fn token_of_page(client: &mut Client, request: &ListCasesRequest, number: usize) -> String {
    let mut token = String::new();
    for _ in 1..number {
        let request = ListCasesRequest { page_token: token, ..request.clone() };
        token = client.list_cases(request).await.expect("list").into_inner().next_page_token;
        assert!(!token.is_empty(), "the list has page {number}");
    }
    token
}

/// Calls the scenario until `budget` is spent (at least 30, at most 1,000 calls) and
/// prints its latency percentiles and throughput.
async fn measure(scenario: &mut Scenario, budget: Duration) {
    for _ in 0..5 {
        scenario.client.list_cases(scenario.request.clone()).await.expect("warm-up");
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    while latencies.len() < 30 || (started.elapsed() < budget && latencies.len() < 1_000) {
        let call = Instant::now();
        let answer = scenario.client.list_cases(scenario.request.clone()).await.expect("list");
        latencies.push(call.elapsed());
        assert!(!answer.into_inner().cases.is_empty(), "{} lists cases", scenario.name);
    }
    let total = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "| {} | {} | {:.2} | {:.2} | {:.2} | {:.1} |",
        scenario.name,
        latencies.len(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(latencies[latencies.len() - 1]),
        latencies.len() as f64 / total.as_secs_f64()
    );
}

fn main() {
    let Ok(url) = std::env::var("PORTAL_TEST_DATABASE_URL") else {
        eprintln!("listing: PORTAL_TEST_DATABASE_URL is not set; nothing measured");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (module, key) = runtime.block_on(start(&url));
    // user-07001 (org-0700) sees only their own 100 cases; user-00123 (org-0012) also sees
    // the 1,000 cases of their organization through its grant.
    let own = client(&module, &key, "user-07001");
    let organization = client(&module, &key, "user-00123");
    let open = Some(CaseFilter {
        statuses: vec![CaseStatus::New.into(), CaseStatus::InProgress.into(), CaseStatus::WaitingForResponse.into()],
        ..Default::default()
    });
    let mut scenarios = runtime.block_on(async {
        let later = |client: &Client, size: i32, number: usize| {
            let mut client = client.clone();
            async move { token_of_page(&mut client, &page(size, "", None), number).await }
        };
        vec![
            Scenario { name: "own cases, first page of 20", client: own.clone(), request: page(20, "", None) },
            Scenario { name: "own cases, first page of 50", client: own.clone(), request: page(50, "", None) },
            Scenario {
                name: "own cases, page 4 of 20 (page token)",
                client: own.clone(),
                request: page(20, &later(&own, 20, 4).await, None),
            },
            Scenario {
                name: "own open cases (3 statuses), first page of 20",
                client: own.clone(),
                request: page(20, "", open.clone()),
            },
            Scenario {
                name: "organization-wide, first page of 20",
                client: organization.clone(),
                request: page(20, "", None),
            },
            Scenario {
                name: "organization-wide, first page of 50",
                client: organization.clone(),
                request: page(50, "", None),
            },
            Scenario {
                name: "organization-wide, page 26 of 20 (page token)",
                client: organization.clone(),
                request: page(20, &later(&organization, 20, 26).await, None),
            },
            Scenario {
                name: "organization-wide open cases, first page of 20",
                client: organization.clone(),
                request: page(20, "", open),
            },
        ]
    });
    println!("| listing | calls | p50 ms | p99 ms | max ms | calls/s |");
    println!("|---|---|---|---|---|---|");
    for scenario in &mut scenarios {
        runtime.block_on(measure(scenario, Duration::from_secs(20)));
    }
    let mut criterion =
        Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10)).configure_from_args();
    for scenario in &scenarios {
        criterion.bench_function(&format!("ListCases: {}", scenario.name), |b| {
            b.to_async(&runtime).iter(|| {
                let mut client = scenario.client.clone();
                let request = scenario.request.clone();
                async move { client.list_cases(request).await.expect("list") }
            })
        });
    }
    criterion.final_summary();
    runtime.block_on(module.database.pool.close());
    runtime.block_on(drop_schema(&url));
}
