//! Case tags in use (issue 6, seed 003 "Working with the portal list": tags): ListTags for
//! the Cases section counts only the cases the caller may read, most used first, follows
//! tag changes, filters by prefix and pages.

#[path = "support/case.rs"]
mod support_case;

use portal_proto::case::{
    Case, CreateCaseRequest, ListSection, ListTagsRequest, UpdateCaseRequest, tag_service_client::TagServiceClient,
};
use portal_tests::{Suite, authed, suite_tests};
use prost_types::FieldMask;
use support_case::*;

suite_tests!(case_tags_count_the_readable_cases);

async fn tagged_case(suite: &Suite, token: &str, service_id: &str, tags: &[&str]) -> Case {
    let case = Case {
        subject: "Tagged".into(),
        service_item_id: service_id.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let request = CreateCaseRequest { case: Some(case), request_id: String::new() };
    cases(suite).create_case(authed(request, token)).await.unwrap().into_inner()
}

/// Every page of the case tags as (name, count).
async fn tags_of(suite: &Suite, token: &str, prefix: &str, page_size: i32) -> (Vec<(String, i64)>, usize) {
    let mut client = TagServiceClient::new(suite.channel());
    let (mut tags, mut pages, mut page_token) = (Vec::new(), 0, String::new());
    loop {
        let request =
            ListTagsRequest { section: ListSection::Cases.into(), prefix: prefix.into(), page_size, page_token };
        let page = client.list_tags(authed(request, token)).await.unwrap().into_inner();
        pages += 1;
        tags.extend(page.tags.into_iter().map(|t| (t.name, t.usage_count)));
        if page.next_page_token.is_empty() {
            return (tags, pages);
        }
        page_token = page.next_page_token;
    }
}

fn counted(tags: &[(&str, i64)]) -> Vec<(String, i64)> {
    tags.iter().map(|(name, count)| (name.to_string(), *count)).collect()
}

async fn case_tags_count_the_readable_cases(suite: Suite) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let service = service(&suite, &admin, "Printing", 240, 600).await;
    agreement(&suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, ann, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;
    let (_, bob, _) = customer(&suite, &admin, "Globex", "bob@globex.test").await;
    let first = tagged_case(&suite, &ann, &service.id, &["Printer", "urgent"]).await;
    tagged_case(&suite, &ann, &service.id, &["printer "]).await;
    tagged_case(&suite, &ann, &service.id, &["network"]).await;
    tagged_case(&suite, &ann, &service.id, &[]).await;
    tagged_case(&suite, &bob, &service.id, &["printer", "globex"]).await;

    // Each user counts their own cases; staff count every case.
    let (tags, pages) = tags_of(&suite, &ann, "", 2).await;
    assert_eq!((tags, pages), (counted(&[("printer", 2), ("network", 1), ("urgent", 1)]), 2));
    assert_eq!(tags_of(&suite, &bob, "", 10).await.0, counted(&[("globex", 1), ("printer", 1)]));
    let everyone = counted(&[("printer", 3), ("globex", 1), ("network", 1), ("urgent", 1)]);
    assert_eq!(tags_of(&suite, &admin, "", 1).await, (everyone, 4));
    assert_eq!(tags_of(&suite, &ann, "PR", 10).await.0, counted(&[("printer", 2)]), "prefixes ignore case");
    assert!(tags_of(&suite, &ann, "glob", 10).await.0.is_empty(), "another organization's tags stay hidden");

    // Changing a case's tags changes the counts.
    let request = UpdateCaseRequest {
        case: Some(Case { id: first.id.clone(), tags: vec!["network".into()], ..Default::default() }),
        update_mask: Some(FieldMask { paths: vec!["tags".into()] }),
    };
    cases(&suite).update_case(authed(request, &ann)).await.unwrap();
    assert_eq!(tags_of(&suite, &ann, "", 10).await.0, counted(&[("network", 2), ("printer", 1)]));
}
