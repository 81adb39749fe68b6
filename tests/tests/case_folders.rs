//! Case lists by folder (issue 6, seed 003 "Working with the portal list": folders are
//! saved filters): ListCases with a Cases folder applies its stored filter on top of the
//! request's filter and the record filter, pages as usual, and another user's folder, or a
//! folder of another section, is NOT_FOUND.

#[path = "support/case.rs"]
mod support_case;

use portal_proto::case::{
    ArticleFilter, CancelCaseRequest, CaseFilter, CaseOrderBy, CaseStatus, CreateFolderRequest, Folder,
    ListCasesRequest, ListSection, folder, folder_service_client::FolderServiceClient,
};
use portal_tests::{Suite, authed, suite_tests};
use support_case::*;
use tonic::{Code, Status};

suite_tests!(a_cases_folder_filters_the_case_list);

async fn create_folder(suite: &Suite, token: &str, name: &str, section: ListSection, filter: folder::Filter) -> Folder {
    let folder = Folder { name: name.into(), section: section.into(), filter: Some(filter), ..Default::default() };
    let request = CreateFolderRequest { folder: Some(folder), request_id: String::new() };
    FolderServiceClient::new(suite.channel()).create_folder(authed(request, token)).await.unwrap().into_inner()
}

/// The subjects of every page of a folder's cases, oldest first.
async fn subjects_in(
    suite: &Suite,
    token: &str,
    folder_id: &str,
    filter: CaseFilter,
    page_size: i32,
) -> Result<(Vec<String>, usize), Status> {
    let (mut subjects, mut pages, mut page_token) = (Vec::new(), 0, String::new());
    loop {
        let request = ListCasesRequest {
            folder_id: folder_id.into(),
            filter: Some(filter.clone()),
            order_by: CaseOrderBy::CreateTimeAsc.into(),
            page_size,
            page_token,
        };
        let page = cases(suite).list_cases(authed(request, token)).await?.into_inner();
        pages += 1;
        subjects.extend(page.cases.into_iter().map(|c| c.subject));
        if page.next_page_token.is_empty() {
            return Ok((subjects, pages));
        }
        page_token = page.next_page_token;
    }
}

async fn a_cases_folder_filters_the_case_list(suite: Suite) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let printing = service(&suite, &admin, "Printing", 240, 600).await;
    let phones = service(&suite, &admin, "Phones", 240, 600).await;
    agreement(&suite, &admin, "Everyone", None, &[&printing.id, &phones.id], &calendar.id).await;
    let (_, ann, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;
    let (_, bob, _) = customer(&suite, &admin, "Globex", "bob@globex.test").await;
    for n in 0..5 {
        open_case(&suite, &ann, &printing.id, &format!("printer {n}")).await.unwrap();
    }
    let phone = open_case(&suite, &ann, &phones.id, "phone").await.unwrap();
    open_case(&suite, &bob, &printing.id, "Bob's printer").await.unwrap();

    // Ann's folder of printing cases: her own only (the record filter), in pages of 2.
    let printing_only = CaseFilter { service_item_ids: vec![printing.id.clone()], ..Default::default() };
    let folder =
        create_folder(&suite, &ann, "Printing", ListSection::Cases, folder::Filter::CaseFilter(printing_only)).await;
    let everything = CaseFilter::default();
    let (subjects, pages) = subjects_in(&suite, &ann, &folder.id, everything.clone(), 2).await.unwrap();
    let expected: Vec<String> = (0..5).map(|n| format!("printer {n}")).collect();
    assert_eq!((subjects, pages), (expected, 3));
    // The request's filter narrows the folder's further.
    let by_subject = CaseFilter { subject_contains: "3".into(), ..Default::default() };
    assert_eq!(subjects_in(&suite, &ann, &folder.id, by_subject, 10).await.unwrap().0, ["printer 3"]);
    let by_other_service = CaseFilter { service_item_ids: vec![phones.id.clone()], ..Default::default() };
    assert!(subjects_in(&suite, &ann, &folder.id, by_other_service, 10).await.unwrap().0.is_empty());

    // A folder of canceled cases follows the cases as they change.
    let canceled = CaseFilter { statuses: vec![CaseStatus::Canceled.into()], ..Default::default() };
    let canceled =
        create_folder(&suite, &ann, "Canceled", ListSection::Cases, folder::Filter::CaseFilter(canceled)).await;
    assert!(subjects_in(&suite, &ann, &canceled.id, everything.clone(), 10).await.unwrap().0.is_empty());
    let cancel = CancelCaseRequest { id: phone.id.clone(), ..Default::default() };
    cases(&suite).cancel_case(authed(cancel, &ann)).await.unwrap();
    assert_eq!(subjects_in(&suite, &ann, &canceled.id, everything.clone(), 10).await.unwrap().0, ["phone"]);

    // Another user's folder, an unknown one, and a knowledge-base folder are NOT_FOUND.
    let not_found =
        |result: Result<(Vec<String>, usize), Status>| assert_eq!(result.unwrap_err().code(), Code::NotFound);
    not_found(subjects_in(&suite, &bob, &folder.id, everything.clone(), 10).await);
    not_found(subjects_in(&suite, &ann, "no-such-folder", everything.clone(), 10).await);
    let articles = folder::Filter::ArticleFilter(ArticleFilter::default());
    let articles = create_folder(&suite, &ann, "Articles", ListSection::KnowledgeBase, articles).await;
    not_found(subjects_in(&suite, &ann, &articles.id, everything, 10).await);
}
