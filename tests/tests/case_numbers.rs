//! Case numbers (issue 6, DESIGN.md §5 "Numbers"): taken from the configured template
//! and unique even when cases are registered in parallel.

#[path = "support/case.rs"]
mod support_case;

use std::collections::HashSet;

use portal_proto::case::{
    Case, CaseSettings, CreateCaseRequest, UpdateCaseSettingsRequest,
    case_settings_service_client::CaseSettingsServiceClient,
};
use portal_tests::{Suite, authed, suite_tests};
use support_case::*;

suite_tests!(parallel_creates_get_distinct_numbers_from_the_template);

async fn parallel_creates_get_distinct_numbers_from_the_template(suite: Suite) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let service = service(&suite, &admin, "Printing", 240, 600).await;
    agreement(&suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, token, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;

    let first = open_case(&suite, &token, &service.id, "first").await.unwrap();
    assert_eq!(first.number, "SR00001");

    let mut settings = CaseSettingsServiceClient::new(suite.channel());
    let request = UpdateCaseSettingsRequest {
        settings: Some(CaseSettings { number_prefix: "INC-".into(), number_width: 3, ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["number_prefix".into(), "number_width".into()] }),
    };
    settings.update_case_settings(authed(request, &admin)).await.unwrap();

    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let mut client = cases(&suite);
            let case =
                Case { subject: format!("parallel {n}"), service_item_id: service.id.clone(), ..Default::default() };
            let request = authed(CreateCaseRequest { case: Some(case), request_id: String::new() }, &token);
            tokio::spawn(async move { client.create_case(request).await.map(|r| r.into_inner()) })
        })
        .collect();
    let mut cases = Vec::new();
    for task in tasks {
        cases.push(task.await.expect("the task ran"));
    }
    let numbers: HashSet<String> = cases.into_iter().map(|c| c.expect("every create succeeds").number).collect();
    assert_eq!(numbers.len(), 100, "100 distinct numbers");
    assert!(numbers.iter().all(|n| n.starts_with("INC-") && n.len() == 7), "{numbers:?}");
    let expected: HashSet<String> = (2..=101).map(|n| format!("INC-{n:03}")).collect();
    assert_eq!(numbers, expected, "the sequence is shared, never reused");
}
