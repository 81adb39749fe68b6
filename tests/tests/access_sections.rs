//! Portal configurations and their section limits (issue 5; seed 003 "Set up portal
//! sections"): no custom sections on the self-service portal, at most 3 on the customer
//! portal, standard sections only where offered, and a section page beyond its object
//! limit turns read-only, which the permission check enforces.

#[path = "support/access.rs"]
mod support_access;

use portal_proto::{
    access::{
        CreatePortalObjectRequest, CreateSectionRequest, DecisionLevel, DeleteSectionRequest, DenialReason,
        ObjectOperation, PortalObject, Section, SectionKind, StandardSection, UpdateSectionRequest,
        portal_object_service_client::PortalObjectServiceClient,
        portal_section_service_client::PortalSectionServiceClient,
    },
    identity::AccountType,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use support_access::{assert_denied, check};
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(section_limits_are_refused_with_a_reason_and_overfull_pages_turn_read_only);

fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

fn custom(configuration: &str, code: &str, object: &str) -> CreateSectionRequest {
    let section = Section {
        kind: SectionKind::Custom.into(),
        configuration_id: configuration.into(),
        code: code.into(),
        title: code.into(),
        primary_object_code: object.into(),
        ..Default::default()
    };
    CreateSectionRequest { section: Some(section), request_id: String::new() }
}

fn standard(configuration: &str, which: StandardSection, page_objects: &[String]) -> CreateSectionRequest {
    let section = Section {
        kind: SectionKind::Standard.into(),
        standard_section: which.into(),
        configuration_id: configuration.into(),
        title: format!("{which:?}"),
        page_object_codes: page_objects.to_vec(),
        ..Default::default()
    };
    CreateSectionRequest { section: Some(section), request_id: String::new() }
}

async fn section_limits_are_refused_with_a_reason_and_overfull_pages_turn_read_only(suite: Suite) {
    let admin = suite.admin_token().await;
    let mut objects = PortalObjectServiceClient::new(suite.channel());
    for index in 0..30 {
        let object = PortalObject {
            code: format!("Detail{index}"),
            display_name: format!("Detail {index}"),
            ..Default::default()
        };
        let request = CreatePortalObjectRequest { portal_object: Some(object), request_id: String::new() };
        objects.create_portal_object(authed(request, &admin)).await.unwrap();
    }
    let mut sections = PortalSectionServiceClient::new(suite.channel());

    let refused =
        sections.create_section(authed(custom("self-service", "Orders", "Detail0"), &admin)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "CUSTOM_SECTIONS_NOT_ALLOWED"));
    let refused = sections
        .create_section(authed(standard("self-service", StandardSection::Leads, &[]), &admin))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused).as_str()),
        (Code::FailedPrecondition, "STANDARD_SECTION_NOT_IN_CONFIGURATION")
    );
    let refused =
        sections.create_section(authed(custom("customer-portal", "Ghosts", "Ghost"), &admin)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "OBJECT_NOT_ON_PORTAL"));
    for index in 1..=3 {
        let request = custom("customer-portal", &format!("Custom{index}"), &format!("Detail{index}"));
        let created = sections.create_section(authed(request, &admin)).await.unwrap().into_inner();
        assert_eq!(created.page_object_limit, 125);
    }
    let refused =
        sections.create_section(authed(custom("customer-portal", "Custom4", "Detail4"), &admin)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "SECTION_LIMIT_REACHED"));

    // The self-service Cases page may use 25 objects; one more turns it read-only.
    let pages: Vec<String> = (5..29).map(|i| format!("Detail{i}")).collect();
    let cases = sections
        .create_section(authed(standard("self-service", StandardSection::Cases, &pages), &admin))
        .await
        .unwrap();
    let cases = cases.into_inner();
    assert_eq!((cases.page_object_count, cases.page_object_limit, cases.read_only), (25, 25, false));
    let organization = fixtures::organization(&suite, &admin, "Sections Inc", AccountType::Customer).await;
    let (alice, alice_token) = fixtures::member(&suite, &admin, &organization.id, "alice@sections.test", false).await;
    assert!(check(&suite, &admin, &alice.id, "Case", ObjectOperation::Create, None, &[]).await.allowed);
    let mut more = pages.clone();
    more.push("Detail29".into());
    let update = UpdateSectionRequest {
        section: Some(Section {
            id: cases.id.clone(),
            etag: cases.etag.clone(),
            page_object_codes: more,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["page_object_codes".into()] }),
    };
    let cases = sections.update_section(authed(update, &admin)).await.unwrap().into_inner();
    assert_eq!((cases.page_object_count, cases.read_only), (26, true), "over the limit: read-only, not refused");
    let create = check(&suite, &admin, &alice.id, "Case", ObjectOperation::Create, None, &[]).await;
    assert_denied(&create, DecisionLevel::Availability, DenialReason::SectionReadOnly);
    assert!(
        check(&suite, &admin, &alice.id, "Case", ObjectOperation::Read, None, &[]).await.allowed,
        "reading stays allowed"
    );

    // Only the system administrator changes sections; every user lists what they may see.
    let denied =
        sections.create_section(authed(custom("customer-portal", "Mine", "Detail4"), &alice_token)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let listed = sections
        .list_sections(authed(portal_proto::access::ListSectionsRequest::default(), &alice_token))
        .await
        .unwrap()
        .into_inner();
    let codes: Vec<_> = listed.sections.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["Cases"], "Alice may read cases, but not the custom sections' objects");

    sections.delete_section(authed(DeleteSectionRequest { id: cases.id, etag: cases.etag }, &admin)).await.unwrap();
    assert!(check(&suite, &admin, &alice.id, "Case", ObjectOperation::Create, None, &[]).await.allowed);
}
