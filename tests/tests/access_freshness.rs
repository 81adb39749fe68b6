//! A permission, membership, sharing or activation change applies to the very next
//! check, cached or not, in one access process or across two sharing one Redis
//! (issue 5 "Must show"; DESIGN.md §4 "Cache").

#[path = "support/access.rs"]
mod support_access;

use portal_proto::{
    access::{
        AccessQuery, CheckRequest, CreateObjectOperationGrantRequest, CreateRecordGrantRequest, DecisionLevel,
        DeleteObjectOperationGrantRequest, DeleteRecordGrantRequest, DenialReason, Effect, ObjectOperation,
        ObjectOperationGrant, RecordGrant, RecordRight,
        object_operation_grant_service_client::ObjectOperationGrantServiceClient,
        permission_service_client::PermissionServiceClient, record_grant_service_client::RecordGrantServiceClient,
    },
    identity::{
        AccountType, DeactivateUserRequest, RemoveRoleMembersRequest, UserKind, WhoAmIRequest,
        role_service_client::RoleServiceClient, session_service_client::SessionServiceClient,
        user_service_client::UserServiceClient,
    },
};
use portal_tests::{Backend, Mode, Suite, authed, fixtures, suite_tests};
use service_kit::{Caller, CallerKind, assertion::AssertionKey, runner, upstream::SignAs};
use support_access::{assert_denied, check, grant, internal, role, user};
use tokio::{net::TcpListener, sync::oneshot};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

suite_tests!(the_next_check_reflects_every_change, revoke_then_check_a_thousand_times_across_two_processes);

const KB: &str = "KnowledgeBase";

async fn the_next_check_reflects_every_change(suite: Suite) {
    let admin = suite.admin_token().await;
    let organization = fixtures::organization(&suite, &admin, "Contoso", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &organization.id, "Boston").await;
    let (alice, _) = fixtures::member(&suite, &admin, &organization.id, "alice@contoso.test", false).await;
    let (bob, _) = fixtures::member(&suite, &admin, &organization.id, "bob@contoso.test", false).await;
    grant(&suite, &admin, KB, role(&boston.id), ObjectOperation::Update, Effect::Allow).await;

    // Membership: added, removed, added again; each check right after the change.
    let update = |subject: String| {
        let (suite, admin) = (&suite, admin.clone());
        async move { check(suite, &admin, &subject, KB, ObjectOperation::Update, None, &[]).await }
    };
    assert!(!update(alice.id.clone()).await.allowed);
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&alice.id]).await;
    assert!(update(alice.id.clone()).await.allowed, "added to Boston");
    let remove =
        RemoveRoleMembersRequest { role_id: boston.id.clone(), user_ids: vec![alice.id.clone()], ..Default::default() };
    RoleServiceClient::new(suite.channel()).remove_role_members(authed(remove, &admin)).await.unwrap();
    assert!(!update(alice.id.clone()).await.allowed, "removed from Boston");
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&alice.id]).await;
    assert!(update(alice.id.clone()).await.allowed);

    // A grant revoked.
    let direct = grant(&suite, &admin, KB, user(&alice.id), ObjectOperation::Delete, Effect::Allow).await;
    assert!(check(&suite, &admin, &alice.id, KB, ObjectOperation::Delete, None, &[]).await.allowed);
    ObjectOperationGrantServiceClient::new(suite.channel())
        .delete_object_operation_grant(authed(
            DeleteObjectOperationGrantRequest { id: direct.id, etag: direct.etag },
            &admin,
        ))
        .await
        .unwrap();
    let revoked = check(&suite, &admin, &alice.id, KB, ObjectOperation::Delete, None, &[]).await;
    assert_denied(&revoked, DecisionLevel::Operation, DenialReason::OperationNotGranted);

    // A record shared and unshared (Case has record permissions by default).
    let (access, _context) = internal(&suite).await;
    access.register_record("Case", "case-of-bob", &bob.id, "").await.unwrap();
    let read_case = || check(&suite, &admin, &alice.id, "Case", ObjectOperation::Read, Some("case-of-bob"), &[]);
    assert_denied(&read_case().await, DecisionLevel::Record, DenialReason::RecordNotGranted);
    let mut record_grants = RecordGrantServiceClient::new(suite.channel());
    let shared = RecordGrant {
        object_code: "Case".into(),
        record_id: "case-of-bob".into(),
        grantee: Some(user(&alice.id)),
        rights: vec![RecordRight::Read.into()],
        ..Default::default()
    };
    let shared = record_grants
        .create_record_grant(authed(
            CreateRecordGrantRequest { record_grant: Some(shared), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(read_case().await.allowed, "shared with Alice");
    record_grants
        .delete_record_grant(authed(DeleteRecordGrantRequest { id: shared.id, etag: shared.etag }, &admin))
        .await
        .unwrap();
    assert_denied(&read_case().await, DecisionLevel::Record, DenialReason::RecordNotGranted);
    if !(suite.mode == Mode::AllInOne && suite.backend == Backend::Sqlite) {
        // The service's own share and unshare (the helper client reaches the suite's access
        // process, or shares its Redis counters).
        access.share_record("Case", "case-of-bob", user(&alice.id), &[RecordRight::Read]).await.unwrap();
        assert!(read_case().await.allowed, "shared by the service");
        let unshared = access.unshare_record("Case", "case-of-bob", Some(user(&alice.id))).await.unwrap();
        assert_eq!(unshared.removed_record_grants.len(), 1);
        assert_denied(&read_case().await, DecisionLevel::Record, DenialReason::RecordNotGranted);
    }

    // Deactivated: denied at once, whatever the grants.
    assert!(update(alice.id.clone()).await.allowed);
    let deactivate = DeactivateUserRequest { id: alice.id.clone(), ..Default::default() };
    UserServiceClient::new(suite.channel()).deactivate_user(authed(deactivate, &admin)).await.unwrap();
    assert_denied(&update(alice.id.clone()).await, DecisionLevel::Subject, DenialReason::SubjectInactive);
}

/// The administrator's credentials for either entry: the session token for the gateway,
/// the signed caller assertion for an access process reached directly.
#[derive(Clone)]
struct AdminAuth {
    token: String,
    sign: SignAs,
}

impl tonic::service::Interceptor for AdminAuth {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let bearer = format!("Bearer {}", self.token).parse().map_err(|_| tonic::Status::internal("token"))?;
        request.metadata_mut().insert("authorization", bearer);
        self.sign.call(request)
    }
}

type Checker = PermissionServiceClient<InterceptedService<Channel, AdminAuth>>;
type Granter = ObjectOperationGrantServiceClient<InterceptedService<Channel, AdminAuth>>;

/// Starts a second access process with the suite's configuration (same database and
/// Redis) and returns its address.
async fn second_access_process(suite: &Suite) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let spec = gateway::suite::services().into_iter().find(|s| s.area == "access").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut config = suite.config.clone();
    config.listen = address;
    let context = runner::context_from_config(config, suite.clock.clone()).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        runner::serve_service(&spec, context, listener, async {
            let _ = stopped.await;
        })
        .await
        .expect("the second access process serves");
    });
    (address, stop)
}

/// 1,000 rounds of: check (allowed, and cached) through one process, revoke through
/// the other, check through the first again: denied every time. In the distributed
/// mode on PostgreSQL the two are the suite's access process and a second one started
/// here, sharing the database and Redis; otherwise the rounds go through one process.
async fn revoke_then_check_a_thousand_times_across_two_processes(suite: Suite) {
    let admin = suite.admin_token().await;
    let organization = fixtures::organization(&suite, &admin, "Fabrikam", AccountType::Customer).await;
    let (alice, _) = fixtures::member(&suite, &admin, &organization.id, "alice@fabrikam.test", false).await;
    let me = SessionServiceClient::new(suite.channel())
        .who_am_i(authed(WhoAmIRequest {}, &admin))
        .await
        .unwrap()
        .into_inner();
    let administrator = Caller {
        kind: if me.kind() == UserKind::Employee { CallerKind::Employee } else { CallerKind::External },
        user_id: me.user_id.clone(),
        system_administrator: true,
        ..Caller::anonymous()
    };
    let key = AssertionKey::from_config(&suite.config.assertion);
    let sign = AdminAuth { token: admin.clone(), sign: SignAs::new(key, administrator) };
    let mut _stop = None;
    let channels: Vec<Channel> = match suite.mode {
        // Several access processes share their cache counters through Redis; without
        // Redis (SQLite variants) access runs as one process.
        Mode::Distributed if suite.backend == Backend::Postgres => {
            let (second, stop) = second_access_process(&suite).await;
            _stop = Some(stop);
            vec![Suite::channel_to(suite.service_addresses["access"]), Suite::channel_to(second)]
        }
        Mode::Distributed => vec![Suite::channel_to(suite.service_addresses["access"])],
        Mode::AllInOne => vec![suite.channel()],
    };
    let checkers: Vec<Checker> =
        channels.iter().map(|c| PermissionServiceClient::with_interceptor(c.clone(), sign.clone())).collect();
    let granters: Vec<Granter> =
        channels.iter().map(|c| ObjectOperationGrantServiceClient::with_interceptor(c.clone(), sign.clone())).collect();
    let query = AccessQuery { object_code: KB.into(), operation: ObjectOperation::Update.into(), ..Default::default() };
    let request = CheckRequest { query: Some(query), subject_user_id: alice.id.clone() };
    for round in 0..1_000usize {
        let (reader, writer) = (round % channels.len(), (round + 1) % channels.len());
        let grant = ObjectOperationGrant {
            object_code: KB.into(),
            grantee: Some(user(&alice.id)),
            operation: ObjectOperation::Update.into(),
            effect: Effect::Allow.into(),
            ..Default::default()
        };
        let created = granters[writer]
            .clone()
            .create_object_operation_grant(CreateObjectOperationGrantRequest {
                object_operation_grant: Some(grant),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        for _ in 0..2 {
            let result = checkers[reader].clone().check(request.clone()).await.unwrap().into_inner().result.unwrap();
            assert!(result.allowed, "round {round}: granted, then checked");
        }
        granters[writer]
            .clone()
            .delete_object_operation_grant(DeleteObjectOperationGrantRequest { id: created.id, etag: created.etag })
            .await
            .unwrap();
        let result = checkers[reader].clone().check(request.clone()).await.unwrap().into_inner().result.unwrap();
        assert!(!result.allowed, "round {round}: revoked through one process, yet allowed by the other");
    }
}
