//! Bad input is INVALID_ARGUMENT naming the field, never INTERNAL, NOT_FOUND or an
//! oversized error (issue 13); settings never name what does not exist. The API fuzz
//! test (`api_fuzz.rs`) sweeps every method; these pin the cases the issue found.

use portal_proto::{
    access::{
        CreateSectionRequest, GetObjectOperationGrantRequest, Section, SectionKind, StandardSection,
        object_operation_grant_service_client::ObjectOperationGrantServiceClient,
        portal_section_service_client::PortalSectionServiceClient,
    },
    case::{
        GetArticleRequest, ListAttachmentsRequest, attachment_service_client::AttachmentServiceClient,
        knowledge_base_service_client::KnowledgeBaseServiceClient, list_attachments_request,
    },
    identity::{
        CreateUserRequest, GetAuditEventRequest, GetUserRequest, Settings, UpdateSettingsRequest, User, UserKind,
        audit_service_client::AuditServiceClient, settings_service_client::SettingsServiceClient,
        user_service_client::UserServiceClient,
    },
    notify::{CreateTemplateRequest, Template, template_service_client::TemplateServiceClient},
    partner::{
        GetLeadRequest, ListLeadsRequest, ListOpportunitiesRequest, lead_service_client::LeadServiceClient,
        opportunity_service_client::OpportunityServiceClient,
    },
};
use portal_tests::{Suite, authed, error_reason, suite_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(
    missing_and_oversized_ids_are_invalid_arguments_with_short_answers,
    unknown_enum_values_in_filters_are_refused,
    email_addresses_notify_cannot_send_to_are_refused_by_identity,
    settings_refuse_templates_and_start_pages_that_do_not_exist,
);

/// Asserts an INVALID_ARGUMENT whose field violation names `field`, in an answer that
/// repeats at most a short prefix of what was sent.
fn assert_invalid(result: Result<impl std::fmt::Debug, Status>, field: &str) {
    let status = result.expect_err("the request must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
    let violations = status.get_details_bad_request().expect("field violations").field_violations;
    assert!(violations.iter().any(|v| v.field == field), "{field} not named in {violations:?}");
    assert!(status.message().len() < 300, "a {}-byte message: {}", status.message().len(), status.message());
}

async fn missing_and_oversized_ids_are_invalid_arguments_with_short_answers(suite: Suite) {
    let admin = suite.admin_token().await;
    let long = "u".repeat(10_000);
    let mut users = UserServiceClient::new(suite.channel());
    // Before, GetUser repeated the id until the answer's headers passed gRPC's 16 KiB.
    assert_invalid(users.get_user(authed(GetUserRequest { id: long.clone() }, &admin)).await, "id");
    assert_invalid(users.get_user(authed(GetUserRequest { id: String::new() }, &admin)).await, "id");
    let mut audit = AuditServiceClient::new(suite.channel());
    assert_invalid(audit.get_audit_event(authed(GetAuditEventRequest { id: String::new() }, &admin)).await, "id");
    let mut grants = ObjectOperationGrantServiceClient::new(suite.channel());
    let empty = GetObjectOperationGrantRequest { id: String::new() };
    assert_invalid(grants.get_object_operation_grant(authed(empty, &admin)).await, "id");

    // These reached access with the long id and answered INTERNAL.
    let over = "a".repeat(129);
    let mut articles = KnowledgeBaseServiceClient::new(suite.channel());
    assert_invalid(articles.get_article(authed(GetArticleRequest { id: over.clone() }, &admin)).await, "id");
    let parent = Some(list_attachments_request::Parent::ArticleId(over.clone()));
    let list = ListAttachmentsRequest { parent, ..Default::default() };
    let mut attachments = AttachmentServiceClient::new(suite.channel());
    assert_invalid(attachments.list_attachments(authed(list, &admin)).await, "article_id");
    let mut leads = LeadServiceClient::new(suite.channel());
    assert_invalid(leads.get_lead(authed(GetLeadRequest { id: over }, &admin)).await, "id");

    // NUL characters cannot be stored (PostgreSQL): refused for any text field.
    let user = User { email: "nul@example.com".into(), full_name: "N\0L".into(), ..Default::default() };
    let request = CreateUserRequest { user: Some(user), ..Default::default() };
    assert_invalid(users.create_user(authed(request, &admin)).await, "user.full_name");
}

async fn unknown_enum_values_in_filters_are_refused(suite: Suite) {
    let admin = suite.admin_token().await;
    let mut leads = LeadServiceClient::new(suite.channel());
    let request = ListLeadsRequest { statuses: vec![42], ..Default::default() };
    assert_invalid(leads.list_leads(authed(request, &admin)).await, "statuses");
    let mut opportunities = OpportunityServiceClient::new(suite.channel());
    let request = ListOpportunitiesRequest { stages: vec![42], ..Default::default() };
    assert_invalid(opportunities.list_opportunities(authed(request, &admin)).await, "stages");
    let request = ListOpportunitiesRequest { close_states: vec![1, 42], ..Default::default() };
    assert_invalid(opportunities.list_opportunities(authed(request, &admin)).await, "close_states");
    let request = ListLeadsRequest { statuses: vec![1], ..Default::default() };
    leads.list_leads(authed(request, &admin)).await.expect("a defined status filters");
}

async fn email_addresses_notify_cannot_send_to_are_refused_by_identity(suite: Suite) {
    let admin = suite.admin_token().await;
    let mut users = UserServiceClient::new(suite.channel());
    for address in ["zoe@ex!ample.com", "zoe@[127.0.0.1]", "Zoe <zoe@example.com>"] {
        let user = User { email: address.into(), kind: UserKind::Employee.into(), ..Default::default() };
        let request =
            CreateUserRequest { user: Some(user), password: "a long enough password".into(), ..Default::default() };
        assert_invalid(users.create_user(authed(request, &admin)).await, "user.email");
    }
}

fn settings_change(settings: Settings, path: &str) -> UpdateSettingsRequest {
    UpdateSettingsRequest {
        settings: Some(settings),
        update_mask: Some(prost_types::FieldMask { paths: vec![path.into()] }),
    }
}

async fn settings_refuse_templates_and_start_pages_that_do_not_exist(suite: Suite) {
    let admin = suite.admin_token().await;
    let mut settings = SettingsServiceClient::new(suite.channel());
    let recovery = |code: &str| {
        let new = Settings { portal_recovery_password_email_template: code.into(), ..Default::default() };
        settings_change(new, "portal_recovery_password_email_template")
    };

    let refused = settings.update_settings(authed(recovery("No such template"), &admin)).await.unwrap_err();
    assert_eq!((refused.code(), error_reason(&refused).as_str()), (Code::FailedPrecondition, "TEMPLATE_NOT_FOUND"));
    assert!(refused.message().contains("portal_recovery_password_email_template"), "{}", refused.message());
    // A template that exists but is for something else: recovery emails would go out
    // without their link.
    let refused = settings.update_settings(authed(recovery("Case message"), &admin)).await.unwrap_err();
    assert_eq!((refused.code(), error_reason(&refused).as_str()), (Code::FailedPrecondition, "TEMPLATE_MISSING_MACRO"));
    assert!(refused.message().contains("#RecoveryLinkUrl#"), "{}", refused.message());

    // A custom code built on the recovery code is accepted.
    let template = Template {
        code: "Acme recovery".into(),
        culture: "en-US".into(),
        base_code: "Link for password recovery".into(),
        subject: "Your Acme password".into(),
        body_text: "Set a new password: #RecoveryLinkUrl#".into(),
        ..Default::default()
    };
    let request = CreateTemplateRequest { template: Some(template), request_id: String::new() };
    TemplateServiceClient::new(suite.channel()).create_template(authed(request, &admin)).await.expect("template");
    let saved = settings.update_settings(authed(recovery("Acme recovery"), &admin)).await.expect("accepted");
    assert_eq!(saved.into_inner().portal_recovery_password_email_template, "Acme recovery");

    let start_page = |page: &str| {
        settings_change(Settings { portal_start_page: page.into(), ..Default::default() }, "portal_start_page")
    };
    assert_invalid(
        settings.update_settings(authed(start_page("NoSuchSection"), &admin)).await,
        "settings.portal_start_page",
    );
    let section = Section {
        kind: SectionKind::Standard.into(),
        standard_section: StandardSection::KnowledgeBase.into(),
        configuration_id: "self-service".into(),
        title: "Knowledge base".into(),
        ..Default::default()
    };
    let request = CreateSectionRequest { section: Some(section), request_id: String::new() };
    let section = PortalSectionServiceClient::new(suite.channel())
        .create_section(authed(request, &admin))
        .await
        .expect("the knowledge-base section")
        .into_inner();
    let saved = settings.update_settings(authed(start_page(&section.code), &admin)).await.expect("a real section");
    assert_eq!(saved.into_inner().portal_start_page, section.code);
    settings.update_settings(authed(start_page("MainPage"), &admin)).await.expect("the main page");
}
