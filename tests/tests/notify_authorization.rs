//! Administrative calls of notify and case settings are authorised by access on every
//! call (issue 13, "privilege escalation"): email templates need CanManageEmailTemplates,
//! deliveries CanAdministratePortalUsers, case settings CanManageCaseSettings; a template
//! may link only to the public base URL, and its changes are audited; a delivery shows no
//! live one-time token.

use std::time::Duration;

use portal_proto::{
    access::{
        CreateSystemOperationGrantRequest, DeleteSystemOperationGrantRequest, Effect, Grantee, SystemOperationGrant,
        grantee::Subject, system_operation_service_client::SystemOperationServiceClient,
    },
    case::{
        CaseSettings, GetCaseSettingsRequest, UpdateCaseSettingsRequest,
        case_settings_service_client::CaseSettingsServiceClient,
    },
    identity::{
        AccountType, RequestPasswordRecoveryRequest, WhoAmIRequest, password_service_client::PasswordServiceClient,
        session_service_client::SessionServiceClient,
    },
    notify::{
        CreateTemplateRequest, DeleteTemplateRequest, GetDeliveryRequest, ListDeliveriesRequest,
        ListEmailAuditEventsRequest, ListTemplatesRequest, RenderTemplateRequest, RetryDeliveryRequest, Template,
        TemplateSelector, UpdateTemplateRequest, delivery_service_client::DeliveryServiceClient,
        email_audit_service_client::EmailAuditServiceClient, render_template_request::Source,
        template_service_client::TemplateServiceClient,
    },
};
use portal_tests::{
    Suite, authed,
    fixtures::{employee, member, organization},
    suite_tests,
};
use prost_types::FieldMask;
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(
    templates_deliveries_and_case_settings_need_their_system_operation,
    a_template_links_only_to_the_public_base_url,
    deliveries_show_no_one_time_token,
);

const RECOVERY: &str = "Link for password recovery";
/// The public base URL of the test suites (the configuration's default).
const BASE: &str = "http://localhost:8080";

fn code<T: std::fmt::Debug>(result: Result<T, Status>) -> Code {
    result.map_or_else(|status| status.code(), |_| Code::Ok)
}

async fn grant_operation(suite: &Suite, admin: &str, user_id: &str, operation: &str) -> String {
    let grant = SystemOperationGrant {
        operation_code: operation.into(),
        grantee: Some(Grantee { subject: Some(Subject::UserId(user_id.into())) }),
        effect: Effect::Allow.into(),
        ..Default::default()
    };
    SystemOperationServiceClient::new(suite.channel())
        .create_system_operation_grant(authed(
            CreateSystemOperationGrantRequest { system_operation_grant: Some(grant), request_id: String::new() },
            admin,
        ))
        .await
        .expect("grant the system operation")
        .into_inner()
        .id
}

async fn revoke(suite: &Suite, admin: &str, grant_id: &str) {
    SystemOperationServiceClient::new(suite.channel())
        .delete_system_operation_grant(authed(
            DeleteSystemOperationGrantRequest { id: grant_id.into(), etag: String::new() },
            admin,
        ))
        .await
        .expect("revoke the grant");
}

/// Every template and delivery call as `token`: their codes, in call order.
async fn notify_calls(suite: &Suite, token: &str, template: &Template) -> Vec<(&'static str, Code)> {
    let mut templates = TemplateServiceClient::new(suite.channel());
    let mut deliveries = DeliveryServiceClient::new(suite.channel());
    let rewritten =
        Template { body_text: format!("{BASE}/recover-password?next=#RecoveryLinkUrl#"), ..template.clone() };
    let update = UpdateTemplateRequest {
        template: Some(rewritten),
        update_mask: Some(FieldMask { paths: vec!["body_text".into()] }),
    };
    let selector = TemplateSelector { code: RECOVERY.into(), culture: "en-US".into() };
    vec![
        ("ListTemplates", code(templates.list_templates(authed(ListTemplatesRequest::default(), token)).await)),
        ("UpdateTemplate", code(templates.update_template(authed(update, token)).await)),
        (
            "CreateTemplate",
            code(
                templates
                    .create_template(authed(
                        CreateTemplateRequest {
                            template: Some(Template {
                                code: RECOVERY.into(),
                                culture: "fr".into(),
                                subject: "Mot de passe".into(),
                                body_text: "#RecoveryLinkUrl#".into(),
                                ..Default::default()
                            }),
                            request_id: String::new(),
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "RenderTemplate",
            code(
                templates
                    .render_template(authed(
                        RenderTemplateRequest { source: Some(Source::Selector(selector)), ..Default::default() },
                        token,
                    ))
                    .await,
            ),
        ),
        ("ListDeliveries", code(deliveries.list_deliveries(authed(ListDeliveriesRequest::default(), token)).await)),
        (
            "GetDelivery",
            code(deliveries.get_delivery(authed(GetDeliveryRequest { id: "0193unknown".into() }, token)).await),
        ),
        (
            "RetryDelivery",
            code(deliveries.retry_delivery(authed(RetryDeliveryRequest { id: "0193unknown".into() }, token)).await),
        ),
    ]
}

async fn recovery_template(suite: &Suite, admin: &str) -> Template {
    let listed = TemplateServiceClient::new(suite.channel())
        .list_templates(authed(
            ListTemplatesRequest { code: RECOVERY.into(), culture: "en-US".into(), ..Default::default() },
            admin,
        ))
        .await
        .expect("the administrator lists templates")
        .into_inner();
    listed.templates.into_iter().next().expect("the shipped recovery template")
}

async fn update_case_settings(suite: &Suite, token: &str) -> Result<CaseSettings, Status> {
    let request = UpdateCaseSettingsRequest {
        settings: Some(CaseSettings { sla_warning_percent: 80, ..Default::default() }),
        update_mask: Some(FieldMask { paths: vec!["sla_warning_percent".into()] }),
    };
    CaseSettingsServiceClient::new(suite.channel())
        .update_case_settings(authed(request, token))
        .await
        .map(|r| r.into_inner())
}

async fn templates_deliveries_and_case_settings_need_their_system_operation(suite: Suite) {
    let admin = suite.admin_token().await;
    let template = recovery_template(&suite, &admin).await;
    let (plain, plain_token) = employee(&suite, &admin, "plain.employee@portal.test").await;
    let customer = organization(&suite, &admin, "Customer Ltd", AccountType::Customer).await;
    let (_, org_admin) = member(&suite, &admin, &customer.id, "admin@customer.test", true).await;

    // A plain employee, an external user and an organization administrator: refused
    // everything, before anything is read or changed.
    for (who, token) in [("plain employee", &plain_token), ("organization administrator", &org_admin)] {
        for (call, answer) in notify_calls(&suite, token, &template).await {
            assert_eq!(answer, Code::PermissionDenied, "{call} as {who}");
        }
        let refused = update_case_settings(&suite, token).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "UpdateCaseSettings as {who}");
        assert_eq!(refused.get_details_error_info().unwrap().reason, "SYSTEM_OPERATION_REQUIRED");
    }
    assert_eq!(recovery_template(&suite, &admin).await, template, "the refused update changed nothing");
    // Reading the case settings stays open to every logged-in user.
    CaseSettingsServiceClient::new(suite.channel())
        .get_case_settings(authed(GetCaseSettingsRequest {}, &org_admin))
        .await
        .expect("any user reads the case settings");

    // CanManageEmailTemplates opens the templates, and only them; from the very next call.
    let templates_grant = grant_operation(&suite, &admin, &plain.id, "CanManageEmailTemplates").await;
    let answers = notify_calls(&suite, &plain_token, &template).await;
    for (call, answer) in &answers {
        let expected = match *call {
            "ListTemplates" | "UpdateTemplate" | "CreateTemplate" | "RenderTemplate" => Code::Ok,
            _ => Code::PermissionDenied,
        };
        assert_eq!(*answer, expected, "{call} with CanManageEmailTemplates");
    }
    assert_eq!(code(update_case_settings(&suite, &plain_token).await), Code::PermissionDenied);
    revoke(&suite, &admin, &templates_grant).await;
    let created = TemplateServiceClient::new(suite.channel())
        .list_templates(authed(
            ListTemplatesRequest { code: RECOVERY.into(), culture: "fr".into(), ..Default::default() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .templates;
    TemplateServiceClient::new(suite.channel())
        .delete_template(authed(DeleteTemplateRequest { id: created[0].id.clone(), etag: String::new() }, &admin))
        .await
        .expect("the administrator removes the French template");
    for (call, answer) in notify_calls(&suite, &plain_token, &template).await {
        assert_eq!(answer, Code::PermissionDenied, "{call} after the grant was revoked");
    }

    // CanAdministratePortalUsers opens the deliveries; CanManageCaseSettings the settings.
    let deliveries_grant = grant_operation(&suite, &admin, &plain.id, "CanAdministratePortalUsers").await;
    for (call, answer) in notify_calls(&suite, &plain_token, &template).await {
        let expected = match call {
            "ListDeliveries" => Code::Ok,
            "GetDelivery" | "RetryDelivery" => Code::NotFound,
            _ => Code::PermissionDenied,
        };
        assert_eq!(answer, expected, "{call} with CanAdministratePortalUsers");
    }
    revoke(&suite, &admin, &deliveries_grant).await;
    let settings_grant = grant_operation(&suite, &admin, &plain.id, "CanManageCaseSettings").await;
    let updated = update_case_settings(&suite, &plain_token).await.expect("CanManageCaseSettings opens the settings");
    assert_eq!(updated.sla_warning_percent, 80);
    revoke(&suite, &admin, &settings_grant).await;
    assert_eq!(code(update_case_settings(&suite, &plain_token).await), Code::PermissionDenied);
}

async fn a_template_links_only_to_the_public_base_url(suite: Suite) {
    let admin = suite.admin_token().await;
    let template = recovery_template(&suite, &admin).await;
    let mut templates = TemplateServiceClient::new(suite.channel());
    let update = |path: &str, body: &str, etag: &str| UpdateTemplateRequest {
        template: Some(Template {
            id: template.id.clone(),
            etag: etag.into(),
            body_text: body.into(),
            body_html: body.into(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask { paths: vec![path.into()] }),
    };

    // The attack of the report: the recovery link wrapped in a link to another host.
    for (path, body) in [
        ("body_html", r##"<a href="https://attacker.test/?next=#RecoveryLinkUrl#">Reset</a>"##),
        ("body_html", r##"<a href="h&#116;tps://attacker.test/#RecoveryLinkUrl#">Reset</a>"##),
        ("body_text", "Reset: https://localhost:8080.attacker.test/r?t=#RecoveryLinkUrl#"),
    ] {
        let refused = templates.update_template(authed(update(path, body, ""), &admin)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{body}");
        assert_eq!(refused.get_details_error_info().unwrap().reason, "TEMPLATE_LINK_FOREIGN");
        let fields: Vec<String> =
            refused.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, [format!("template.{path}")]);
    }
    assert_eq!(recovery_template(&suite, &admin).await, template);

    // Links to the portal, and through the link macro, are kept.
    let body = format!(r##"<p><a href="#RecoveryLinkUrl#">Reset</a> or see <a href="{BASE}/help">help</a></p>"##);
    let saved = templates
        .update_template(authed(update("body_html", &body, &template.etag), &admin))
        .await
        .expect("links to the portal are accepted")
        .into_inner();
    assert_eq!(saved.body_html, body);

    // The change is audited: who, what, before and after; the refusals left nothing.
    let me = SessionServiceClient::new(suite.channel())
        .who_am_i(authed(WhoAmIRequest {}, &admin))
        .await
        .unwrap()
        .into_inner();
    let events = EmailAuditServiceClient::new(suite.channel())
        .list_email_audit_events(authed(
            ListEmailAuditEventsRequest { resource_id: template.id.clone(), ..Default::default() },
            &admin,
        ))
        .await
        .expect("the administrator reads notify's audit log")
        .into_inner()
        .email_audit_events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].action.as_str(), events[0].actor_user_id.as_str()), ("template.update", me.user_id.as_str()));
    assert!(events[0].after_json.contains("Reset</a> or see"), "{}", events[0].after_json);
    assert!(!events[0].before_json.contains("or see"), "{}", events[0].before_json);
}

async fn deliveries_show_no_one_time_token(suite: Suite) {
    let admin = suite.admin_token().await;
    let template = recovery_template(&suite, &admin).await;
    let customer = organization(&suite, &admin, "Customer Ltd", AccountType::Customer).await;
    let (user, _) = member(&suite, &admin, &customer.id, "forgetful@customer.test", false).await;
    // A subject that carries the link (the bodies are never shown), so that a delivery
    // would show the token if nothing redacted it.
    TemplateServiceClient::new(suite.channel())
        .update_template(authed(
            UpdateTemplateRequest {
                template: Some(Template {
                    id: template.id.clone(),
                    subject: "Your link: #RecoveryLinkUrl#".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask { paths: vec!["subject".into()] }),
            },
            &admin,
        ))
        .await
        .expect("a subject with the link");
    PasswordServiceClient::new(suite.channel())
        .request_password_recovery(RequestPasswordRecoveryRequest { email: user.email.clone() })
        .await
        .expect("recovery asked");

    let mut deliveries = DeliveryServiceClient::new(suite.channel());
    let listed = async {
        for _ in 0..200 {
            let page = deliveries
                .list_deliveries(authed(
                    ListDeliveriesRequest { recipient_email: user.email.clone(), ..Default::default() },
                    &admin,
                ))
                .await
                .expect("the administrator lists deliveries")
                .into_inner();
            if let Some(delivery) = page.deliveries.into_iter().next() {
                return delivery;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the recovery email was not queued within 10 s");
    }
    .await;
    assert!(listed.subject.starts_with("Your link: "), "{}", listed.subject);
    assert!(listed.subject.contains("?token=[redacted]"), "{}", listed.subject);
    let got = deliveries
        .get_delivery(authed(GetDeliveryRequest { id: listed.id.clone() }, &admin))
        .await
        .expect("the administrator reads the delivery")
        .into_inner();
    assert_eq!(got.subject, listed.subject, "GetDelivery redacts as ListDeliveries does");
}
