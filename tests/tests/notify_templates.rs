//! Email templates through the gateway, and the all-in-one default's `.eml` files
//! (issue 3, DESIGN.md §7).

use std::{collections::HashMap, time::Duration};

use portal_proto::notify::{
    CreateTemplateRequest, DeleteTemplateRequest, EnqueueRequest, ListTemplateCodesRequest, ListTemplatesRequest,
    RenderTemplateRequest, Template, TemplateDraft, TemplateSelector, UpdateTemplateRequest,
    notify_internal_service_client::NotifyInternalServiceClient, render_template_request::Source,
    template_service_client::TemplateServiceClient,
};
use portal_tests::{Mode, Suite, authed, suite_tests};
use service_kit::{Caller, assertion::AssertionKey, upstream::SignAs};
use tonic::Code;
use tonic_types::StatusExt;

suite_tests!(templates_follow_their_macro_rules_and_culture_fallback, anonymous_callers_cannot_manage_templates);

const RECOVERY: &str = "Link for password recovery";

fn template(code: &str, culture: &str, body: &str) -> Template {
    Template {
        code: code.into(),
        culture: culture.into(),
        subject: "Réinitialiser le mot de passe".into(),
        body_text: body.into(),
        ..Default::default()
    }
}

async fn templates_follow_their_macro_rules_and_culture_fallback(suite: Suite) {
    let token = suite.admin_token().await;
    let mut templates = TemplateServiceClient::new(suite.channel());

    // The shipped templates: every built-in code in en-US and de-DE.
    let codes = templates
        .list_template_codes(authed(ListTemplateCodesRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .template_codes;
    assert_eq!(codes.len(), 8);
    let recovery = codes.iter().find(|c| c.code == RECOVERY).unwrap();
    assert!(recovery.built_in);
    assert_eq!(recovery.required_macros[0].name, "#RecoveryLinkUrl#");
    assert_eq!(recovery.cultures, ["de-DE", "en-US"]);

    // A body without the required macro is refused, naming it.
    let status = templates
        .create_template(authed(
            CreateTemplateRequest {
                template: Some(template(RECOVERY, "fr", "Bonjour #ContactName#")),
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "TEMPLATE_MACRO_MISSING");
    assert_eq!(info.metadata["macro"], "#RecoveryLinkUrl#");
    assert!(status.message().contains("#RecoveryLinkUrl#"), "{}", status.message());

    // A French template, created once however often the request is retried.
    let create = || {
        authed(
            CreateTemplateRequest {
                template: Some(template(RECOVERY, "fr", "Bonjour #ContactName#, suivez #RecoveryLinkUrl#")),
                request_id: "create-fr-once".into(),
            },
            &token,
        )
    };
    let french = templates.create_template(create()).await.unwrap().into_inner();
    assert_eq!(templates.create_template(create()).await.unwrap().into_inner().id, french.id);
    assert_eq!(french.base_code, RECOVERY);

    // fr-CA falls back to fr; es to en-US.
    for (culture, expected) in [("fr-CA", "fr"), ("es", "en-US")] {
        let preview = templates
            .render_template(authed(
                RenderTemplateRequest {
                    source: Some(Source::Selector(TemplateSelector { code: RECOVERY.into(), culture: culture.into() })),
                    macro_values: HashMap::from([("RecoveryLinkUrl".into(), "https://x.test/r".into())]),
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(preview.culture, expected);
        assert!(preview.body_text.contains("https://x.test/r"));
        assert_eq!(preview.sample_macros, ["#ContactName#"]);
    }

    // A draft lacking its macro still renders, and says what saving would refuse.
    let draft = templates
        .render_template(authed(
            RenderTemplateRequest {
                source: Some(Source::Draft(TemplateDraft {
                    code: RECOVERY.into(),
                    subject: "Hi #Unknown#".into(),
                    body_text: "No link".into(),
                    body_html: String::new(),
                })),
                macro_values: HashMap::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(draft.missing_macros, ["#RecoveryLinkUrl#"]);
    assert_eq!(draft.unknown_macros, ["#Unknown#"]);

    // Updates check the etag; a stale one is ABORTED.
    let mut changed = french.clone();
    changed.subject = "Nouveau mot de passe".into();
    let mask = prost_types::FieldMask { paths: vec!["subject".into()] };
    let updated = templates
        .update_template(authed(
            UpdateTemplateRequest { template: Some(changed.clone()), update_mask: Some(mask.clone()) },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.subject, "Nouveau mot de passe");
    assert_ne!(updated.etag, french.etag);
    let stale = templates
        .update_template(authed(UpdateTemplateRequest { template: Some(changed), update_mask: Some(mask) }, &token))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    // The en-US template of a built-in code stays.
    let english = templates
        .list_templates(authed(
            ListTemplatesRequest { code: RECOVERY.into(), culture: "en-us".into(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .templates;
    assert_eq!(english.len(), 1);
    let status = templates
        .delete_template(authed(DeleteTemplateRequest { id: english[0].id.clone(), etag: String::new() }, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.get_details_error_info().unwrap().reason, "TEMPLATE_DEFAULT_CULTURE_REQUIRED");
    templates
        .delete_template(authed(DeleteTemplateRequest { id: french.id.clone(), etag: updated.etag }, &token))
        .await
        .expect("the French template can go");

    // The default delivery (`file`) writes email under data_dir/mail, links included;
    // checked where notify has an address of its own to enqueue at.
    if suite.mode == Mode::Distributed {
        let key = AssertionKey::new(suite.config.assertion.secret.as_bytes(), 60_000);
        let notify = Suite::channel_to(suite.service_addresses["notify"]);
        let mut internal =
            NotifyInternalServiceClient::with_interceptor(notify, SignAs::new(key, Caller::service("test")));
        internal
            .enqueue(EnqueueRequest {
                idempotency_key: "test:file".into(),
                recipient_email: "ann@example.com".into(),
                template_code: RECOVERY.into(),
                macro_values: HashMap::from([("RecoveryLinkUrl".into(), "https://portal.test/r?t=1".into())]),
                ..Default::default()
            })
            .await
            .expect("enqueue");
        let folder = suite.config.data_dir.join("mail");
        let mut found = None;
        for _ in 0..100 {
            found = std::fs::read_dir(&folder).ok().and_then(|mut d| d.find_map(|e| e.ok())).map(|e| e.path());
            if found.as_ref().is_some_and(|p| p.extension().is_some_and(|x| x == "eml")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let file = found.expect("an .eml file was written");
        let content = std::fs::read_to_string(file).unwrap();
        assert!(content.contains("Message-ID: <"), "{content}");
        // The body is quoted-printable, so `=` is written `=3D`.
        assert!(content.contains("https://portal.test/r?t=3D1"), "{content}");
    }
}

async fn anonymous_callers_cannot_manage_templates(suite: Suite) {
    let mut templates = TemplateServiceClient::new(suite.channel());
    let status = templates.list_templates(ListTemplatesRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
