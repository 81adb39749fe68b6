//! Folders, the saved filters of the list sections, through the gateway (issue 6, seed 003
//! "Working with the portal list": folders): private to their owner, applied to the
//! knowledge-base list, arranged in a tree without cycles.

#[path = "support/knowledge.rs"]
mod support_knowledge;

use portal_proto::case::{
    ArticleFilter, ArticleOrderBy, ArticleType, CaseFilter, CreateFolderRequest, DeleteFolderRequest, Folder,
    GetFolderRequest, ListArticlesRequest, ListFoldersRequest, ListSection, UpdateFolderRequest, folder,
};
use portal_tests::{Suite, authed, suite_tests};
use prost_types::FieldMask;
use support_knowledge::*;
use tonic::Code;

suite_tests!(
    folders_are_private_and_filter_the_knowledge_base,
    folders_form_a_tree_of_unique_names_without_cycles,
    folders_need_the_can_use_folders_grant,
);

fn kb_folder(name: &str, parent: &str, filter: Option<ArticleFilter>) -> Folder {
    Folder {
        name: name.into(),
        section: ListSection::KnowledgeBase.into(),
        parent_folder_id: parent.into(),
        filter: filter.map(folder::Filter::ArticleFilter),
        ..Default::default()
    }
}

async fn create_folder(suite: &Suite, token: &str, folder: Folder) -> Result<Folder, tonic::Status> {
    let request = CreateFolderRequest { folder: Some(folder), request_id: String::new() };
    folders(suite).create_folder(authed(request, token)).await.map(|r| r.into_inner())
}

async fn titles_in(suite: &Suite, token: &str, folder_id: &str) -> Result<Vec<String>, tonic::Status> {
    let request = ListArticlesRequest {
        folder_id: folder_id.into(),
        order_by: ArticleOrderBy::TitleAsc.into(),
        ..Default::default()
    };
    let page = knowledge(suite).list_articles(authed(request, token)).await?.into_inner();
    Ok(page.articles.into_iter().map(|a| a.title).collect())
}

async fn folders_are_private_and_filter_the_knowledge_base(suite: Suite) {
    let admin = suite.admin_token().await;
    let (owner_id, owner) = external_user(&suite, &admin, "owner@example.com").await;
    let (_, stranger) = external_user(&suite, &admin, "stranger@example.com").await;
    for (title, article_type, tags) in [
        ("VPN rules", ArticleType::RulesAndRegulations, vec!["network"]),
        ("VPN FAQ", ArticleType::Faq, vec!["network"]),
        ("Invoices", ArticleType::Faq, vec!["billing"]),
    ] {
        create_article(&suite, &admin, draft(title, article_type, "", &tags)).await.unwrap();
    }
    let filter = ArticleFilter { tags: vec!["Network".into()], ..Default::default() };
    let request = CreateFolderRequest { folder: Some(kb_folder("Network", "", Some(filter))), request_id: "n1".into() };
    let network = folders(&suite).create_folder(authed(request.clone(), &owner)).await.unwrap().into_inner();
    assert_eq!((network.owner_user_id.as_str(), network.section()), (owner_id.as_str(), ListSection::KnowledgeBase));
    let again = folders(&suite).create_folder(authed(request, &owner)).await.unwrap().into_inner();
    assert_eq!(again.id, network.id, "a retried create with the same request_id creates once");

    assert_eq!(titles_in(&suite, &owner, &network.id).await.unwrap(), ["VPN FAQ", "VPN rules"]);
    let narrowed = ListArticlesRequest {
        folder_id: network.id.clone(),
        filter: Some(ArticleFilter { types: vec![ArticleType::Faq.into()], ..Default::default() }),
        ..Default::default()
    };
    let page = knowledge(&suite).list_articles(authed(narrowed, &owner)).await.unwrap().into_inner();
    assert_eq!(page.articles.len(), 1, "the request's filter applies on top of the folder's");

    // Another user neither sees nor uses nor changes it.
    let get = GetFolderRequest { id: network.id.clone() };
    assert_eq!(folders(&suite).get_folder(authed(get.clone(), &stranger)).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(titles_in(&suite, &stranger, &network.id).await.unwrap_err().code(), Code::NotFound);
    let list = ListFoldersRequest { section: ListSection::KnowledgeBase.into(), ..Default::default() };
    let theirs = folders(&suite).list_folders(authed(list.clone(), &stranger)).await.unwrap().into_inner();
    assert!(theirs.folders.is_empty());
    let rename = UpdateFolderRequest {
        folder: Some(Folder { name: "Mine now".into(), ..network.clone() }),
        update_mask: Some(FieldMask { paths: vec!["name".into()] }),
    };
    let refused = folders(&suite).update_folder(authed(rename.clone(), &stranger)).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let delete = DeleteFolderRequest { id: network.id.clone(), etag: String::new() };
    let refused = folders(&suite).delete_folder(authed(delete.clone(), &stranger)).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let own = folders(&suite).list_folders(authed(list, &owner)).await.unwrap().into_inner();
    assert_eq!(own.folders.len(), 1);

    // A cases folder stores a case filter, never an article filter, and is no knowledge-base folder.
    let mut cases = kb_folder("Open requests", "", None);
    cases.section = ListSection::Cases.into();
    cases.filter = Some(folder::Filter::ArticleFilter(ArticleFilter::default()));
    let bad = create_folder(&suite, &owner, cases.clone()).await.unwrap_err();
    assert_eq!((bad.code(), bad_fields(&bad)), (Code::InvalidArgument, vec!["folder.article_filter".to_owned()]));
    cases.filter = Some(folder::Filter::CaseFilter(CaseFilter { number: "SR00042".into(), ..Default::default() }));
    let cases = create_folder(&suite, &owner, cases).await.unwrap();
    assert!(matches!(&cases.filter, Some(folder::Filter::CaseFilter(f)) if f.number == "SR00042"));
    assert_eq!(titles_in(&suite, &owner, &cases.id).await.unwrap_err().code(), Code::NotFound);

    // The owner renames with a current etag and deletes; the records stay.
    let renamed = folders(&suite).update_folder(authed(rename.clone(), &owner)).await.unwrap().into_inner();
    assert_eq!(renamed.name, "Mine now");
    let stale = folders(&suite).update_folder(authed(rename, &owner)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    folders(&suite).delete_folder(authed(delete, &owner)).await.unwrap();
    assert_eq!(folders(&suite).get_folder(authed(get, &owner)).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(titles_in(&suite, &owner, "").await.unwrap().len(), 3);
}

async fn folders_form_a_tree_of_unique_names_without_cycles(suite: Suite) {
    let admin = suite.admin_token().await;
    let (_, user) = external_user(&suite, &admin, "tree@example.com").await;
    let root = create_folder(&suite, &user, kb_folder("Guides", "", None)).await.unwrap();
    let child = create_folder(&suite, &user, kb_folder("Network", &root.id, None)).await.unwrap();
    let grandchild = create_folder(&suite, &user, kb_folder("VPN", &child.id, None)).await.unwrap();

    let twin = create_folder(&suite, &user, kb_folder("NETWORK", &root.id, None)).await.unwrap_err();
    assert_eq!(twin.code(), Code::AlreadyExists, "names are unique per parent, case-insensitively");
    create_folder(&suite, &user, kb_folder("Network", "", None)).await.expect("the same name under another parent");
    let stranger_parent = create_folder(&suite, &user, kb_folder("X", "no-such-folder", None)).await.unwrap_err();
    assert_eq!(bad_fields(&stranger_parent), ["folder.parent_folder_id"]);

    let move_under_own_child = UpdateFolderRequest {
        folder: Some(Folder { parent_folder_id: grandchild.id.clone(), ..root.clone() }),
        update_mask: Some(FieldMask { paths: vec!["parent_folder_id".into()] }),
    };
    let cycle = folders(&suite).update_folder(authed(move_under_own_child, &user)).await.unwrap_err();
    assert_eq!((cycle.code(), bad_fields(&cycle)), (Code::InvalidArgument, vec!["folder.parent_folder_id".to_owned()]));

    let delete_root = DeleteFolderRequest { id: root.id.clone(), etag: String::new() };
    let refused = folders(&suite).delete_folder(authed(delete_root.clone(), &user)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::FailedPrecondition, "FOLDER_HAS_CHILDREN".into()));
    for id in [&grandchild.id, &child.id] {
        let request = DeleteFolderRequest { id: id.clone(), etag: String::new() };
        folders(&suite).delete_folder(authed(request, &user)).await.unwrap();
    }
    folders(&suite).delete_folder(authed(delete_root, &user)).await.unwrap();

    let mut names = Vec::new();
    let mut request =
        ListFoldersRequest { section: ListSection::KnowledgeBase.into(), page_size: 1, ..Default::default() };
    for name in ["b", "A", "c"] {
        create_folder(&suite, &user, kb_folder(name, "", None)).await.unwrap();
    }
    loop {
        let page = folders(&suite).list_folders(authed(request.clone(), &user)).await.unwrap().into_inner();
        names.extend(page.folders.into_iter().map(|f| f.name));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(names, ["A", "b", "c", "Network"]);
}

async fn folders_need_the_can_use_folders_grant(suite: Suite) {
    use portal_proto::access::{
        DeleteSystemOperationGrantRequest, system_operation_service_client::SystemOperationServiceClient,
    };
    let admin = suite.admin_token().await;
    let (_, user) = external_user(&suite, &admin, "folderless@example.com").await;
    let kept = create_folder(&suite, &user, kb_folder("Kept", "", None)).await.unwrap();
    // Withdraw the default grant of "CanUseFolders" to every external user.
    let request = DeleteSystemOperationGrantRequest { id: "default-so-folders".into(), etag: String::new() };
    SystemOperationServiceClient::new(suite.channel())
        .delete_system_operation_grant(authed(request, &admin))
        .await
        .unwrap();
    let refused = create_folder(&suite, &user, kb_folder("New", "", None)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::PermissionDenied, "FOLDERS_NOT_GRANTED".into()));
    let get = GetFolderRequest { id: kept.id.clone() };
    assert_eq!(folders(&suite).get_folder(authed(get, &user)).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(titles_in(&suite, &user, &kept.id).await.unwrap_err().code(), Code::PermissionDenied);
    // The system administrator keeps them.
    create_folder(&suite, &admin, kb_folder("Admin's", "", None)).await.unwrap();
}
