//! The knowledge base through the gateway (issue 6, DESIGN.md §5 "Knowledge base"; seed 003
//! "Working with the portal knowledge base"): staff write articles, every external user
//! reads them; search by title, text and tags on both backends; lists, paging and popular
//! articles; comments edited only by their authors; likes counted once per user; columns
//! hidden by access (seed 003: "Modified on" hidden from Toronto) are not shown; with record
//! permissions on, a reader reaches only their own articles and those a record rule gives
//! them (seed 003: Toronto reads the articles Boston users create).

#[path = "support/access.rs"]
mod support_access;
#[path = "support/knowledge.rs"]
mod support_knowledge;

use std::time::Duration;

use portal_proto::case::{
    Article, ArticleComment, ArticleFilter, ArticleOrderBy, ArticleType, CreateArticleCommentRequest,
    CreateArticleRequest, DeleteArticleCommentRequest, DeleteArticleRequest, GetArticleRequest,
    LikeArticleCommentRequest, LikeArticleRequest, ListArticleCommentsRequest, ListArticlesRequest,
    ListPopularArticlesRequest, ListSection, ListTagsRequest, SearchArticlesRequest, UnlikeArticleRequest,
    UpdateArticleCommentRequest, UpdateArticleRequest,
};
use portal_proto::{
    access::{ColumnAccessLevel, Effect, ObjectOperation, RecordRight, default_record_rule_target::Target},
    identity::AccountType,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use prost_types::FieldMask;
use support_knowledge::*;
use tonic::Code;

suite_tests!(
    staff_write_articles_and_every_external_user_reads_them,
    search_finds_words_in_titles_tags_and_bodies_ranked_alike_on_both_backends,
    comments_are_edited_only_by_their_authors_and_deleted_by_them_or_staff,
    parallel_likes_count_once_per_user,
    parallel_retries_of_a_create_make_one_article,
    tags_in_use_are_listed_most_used_first,
    a_column_hidden_by_access_is_not_shown,
    with_record_permissions_a_reader_reaches_own_and_granted_articles_only,
);

suite_tests!(
    manual_clock: a_reader_counts_one_view_a_day,
    lists_filter_order_and_page_and_popular_articles_lead_by_views_then_likes,
);

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

async fn get(suite: &Suite, token: &str, id: &str) -> Result<Article, tonic::Status> {
    knowledge(suite).get_article(authed(GetArticleRequest { id: id.into() }, token)).await.map(|r| r.into_inner())
}

async fn staff_write_articles_and_every_external_user_reads_them(suite: Suite) {
    let admin = suite.admin_token().await;
    let (reader_id, reader) = external_user(&suite, &admin, "reader@example.com").await;
    let mut kb = knowledge(&suite);

    let body = "Open the portal, choose *Forgot password* and follow the emailed link.";
    let request = CreateArticleRequest {
        article: Some(draft("How do I reset my password?", ArticleType::Faq, body, &["Login", "password", "LOGIN"])),
        request_id: "faq-reset-1".into(),
    };
    let created = kb.create_article(authed(request.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!(created.tags, ["Login", "password"], "tags are deduplicated case-insensitively and sorted");
    assert_eq!(created.r#type(), ArticleType::Faq);
    assert!(!created.created_by_user_id.is_empty());
    assert_eq!(created.modified_by_user_id, created.created_by_user_id);
    assert!(!created.modified_by_name.is_empty(), "\"Modified by\" comes as a name too");
    let retried = kb.create_article(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(retried.id, created.id, "a retried create with the same request_id creates once");

    // Every external user reads by default, and nothing more.
    let read = get(&suite, &reader, &created.id).await.unwrap();
    assert_eq!((read.title.as_str(), read.body.as_str()), ("How do I reset my password?", body));
    let denied = create_article(&suite, &reader, draft("Mine", ArticleType::General, "", &[])).await.unwrap_err();
    assert_eq!((denied.code(), reason(&denied)), (Code::PermissionDenied, "OPERATION_NOT_ALLOWED".into()));
    let mut change = read.clone();
    change.title = "Hijacked".into();
    let request = UpdateArticleRequest { article: Some(change.clone()), update_mask: mask(&["title"]) };
    assert_eq!(kb.update_article(authed(request, &reader)).await.unwrap_err().code(), Code::PermissionDenied);
    let request = DeleteArticleRequest { id: created.id.clone(), etag: String::new() };
    assert_eq!(kb.delete_article(authed(request, &reader)).await.unwrap_err().code(), Code::PermissionDenied);

    // Staff update: modified on/by change, the etag guards against lost updates.
    change.title = "Resetting your password".into();
    change.r#type = ArticleType::RulesAndRegulations.into();
    let request = UpdateArticleRequest { article: Some(change.clone()), update_mask: mask(&["title", "type"]) };
    let updated = kb.update_article(authed(request.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!(updated.title, "Resetting your password");
    assert_eq!(updated.r#type(), ArticleType::RulesAndRegulations);
    assert_eq!(updated.body, body, "fields outside the mask keep their values");
    assert_ne!(updated.etag, read.etag);
    let stale = kb.update_article(authed(request, &admin)).await.unwrap_err();
    assert_eq!((stale.code(), reason(&stale)), (Code::Aborted, "ETAG_MISMATCH".into()));
    assert_ne!(reader_id, updated.modified_by_user_id);

    // Bad input names its fields and leaves nothing behind.
    let bad = create_article(&suite, &admin, draft(" ", ArticleType::Unspecified, "", &[""])).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&bad), ["article.title", "article.type", "article.tags"]);
    let request = UpdateArticleRequest { article: Some(updated.clone()), update_mask: mask(&["view_count"]) };
    let bad = kb.update_article(authed(request, &admin)).await.unwrap_err();
    assert_eq!((bad.code(), bad_fields(&bad)), (Code::InvalidArgument, vec!["update_mask".to_owned()]));
    let listed = kb.list_articles(authed(ListArticlesRequest::default(), &reader)).await.unwrap().into_inner();
    assert_eq!(listed.articles.len(), 1);
    assert!(listed.articles[0].body.is_empty(), "lists leave the body out");

    let request = DeleteArticleRequest { id: created.id.clone(), etag: updated.etag.clone() };
    kb.delete_article(authed(request, &admin)).await.unwrap();
    assert_eq!(get(&suite, &reader, &created.id).await.unwrap_err().code(), Code::NotFound);
}

async fn search(
    suite: &Suite,
    token: &str,
    request: SearchArticlesRequest,
) -> Result<Vec<(String, f64)>, tonic::Status> {
    let response = knowledge(suite).search_articles(authed(request, token)).await?.into_inner();
    Ok(response.results.into_iter().map(|r| (r.article.unwrap().title, r.score)).collect())
}

fn query(text: &str) -> SearchArticlesRequest {
    SearchArticlesRequest { query: text.into(), ..Default::default() }
}

async fn search_finds_words_in_titles_tags_and_bodies_ranked_alike_on_both_backends(suite: Suite) {
    let admin = suite.admin_token().await;
    let (_, reader) = external_user(&suite, &admin, "searcher@example.com").await;
    let articles = [
        draft("VPN setup", ArticleType::Faq, "Install the client first.", &[]),
        draft("Remote work rules", ArticleType::RulesAndRegulations, "Working from home is allowed.", &["VPN"]),
        draft("Password policy", ArticleType::RulesAndRegulations, "Use the VPN before changing passwords.", &[]),
        draft("Invoices", ArticleType::General, "Billing questions.", &["billing"]),
    ];
    for article in articles {
        create_article(&suite, &admin, article).await.unwrap();
    }

    // Title scores 3, a tag 2, the body 1; every word must occur, as a word or word prefix.
    let hits = search(&suite, &reader, query("vpn")).await.unwrap();
    assert_eq!(hits, [("VPN setup".into(), 3.0), ("Remote work rules".into(), 2.0), ("Password policy".into(), 1.0)]);
    let hits = search(&suite, &reader, query("PASSW")).await.unwrap();
    assert_eq!(hits, [("Password policy".into(), 4.0)], "a prefix matches title and body words");
    let hits = search(&suite, &reader, query("vpn, work!")).await.unwrap();
    assert_eq!(hits, [("Remote work rules".into(), 6.0)], "every word must occur; 'work' also prefixes 'Working'");
    assert!(search(&suite, &reader, query("install billing")).await.unwrap().is_empty());
    assert!(search(&suite, &reader, query("stall")).await.unwrap().is_empty(), "only word starts match");

    // Tag and type filters narrow the hits.
    let request = SearchArticlesRequest { tags: vec!["vpn".into()], ..query("vpn") };
    assert_eq!(search(&suite, &reader, request).await.unwrap(), [("Remote work rules".into(), 2.0)]);
    let request = SearchArticlesRequest { types: vec![ArticleType::Faq.into()], ..query("vpn") };
    assert_eq!(search(&suite, &reader, request).await.unwrap(), [("VPN setup".into(), 3.0)]);

    // Pages continue where they stopped; a token is bound to its query.
    let mut titles = Vec::new();
    let mut request = SearchArticlesRequest { page_size: 1, ..query("vpn") };
    loop {
        let page = knowledge(&suite).search_articles(authed(request.clone(), &reader)).await.unwrap().into_inner();
        titles.extend(page.results.iter().map(|r| r.article.as_ref().unwrap().title.clone()));
        if let Some(hit) = page.results.first() {
            assert!(hit.article.as_ref().unwrap().body.is_empty());
            assert!(!hit.snippet.is_empty());
        }
        if page.next_page_token.is_empty() {
            break;
        }
        let other = SearchArticlesRequest { page_token: page.next_page_token.clone(), ..query("billing") };
        let refused = knowledge(&suite).search_articles(authed(other, &reader)).await.unwrap_err();
        assert_eq!((refused.code(), bad_fields(&refused)), (Code::InvalidArgument, vec!["page_token".to_owned()]));
        request.page_token = page.next_page_token;
    }
    assert_eq!(titles, ["VPN setup", "Remote work rules", "Password policy"]);

    let hits = knowledge(&suite).search_articles(authed(query("password"), &reader)).await.unwrap().into_inner();
    assert!(hits.results[0].snippet.contains("VPN before changing passwords"), "{}", hits.results[0].snippet);

    for bad in ["", " - ", &"x".repeat(201)] {
        let refused = search(&suite, &reader, query(bad)).await.unwrap_err();
        assert_eq!((refused.code(), bad_fields(&refused)), (Code::InvalidArgument, vec!["query".to_owned()]));
    }
}

async fn list_titles(suite: &Suite, token: &str, mut request: ListArticlesRequest) -> Vec<String> {
    let mut titles = Vec::new();
    loop {
        let page = knowledge(suite).list_articles(authed(request.clone(), token)).await.unwrap().into_inner();
        assert!(request.page_size == 0 || page.articles.len() <= request.page_size as usize);
        titles.extend(page.articles.into_iter().map(|a| a.title));
        if page.next_page_token.is_empty() {
            return titles;
        }
        request.page_token = page.next_page_token;
    }
}

async fn lists_filter_order_and_page_and_popular_articles_lead_by_views_then_likes(suite: Suite) {
    let admin = suite.admin_token().await;
    let (_, first) = external_user(&suite, &admin, "first@example.com").await;
    let (_, second) = external_user(&suite, &admin, "second@example.com").await;
    let mut ids = Vec::new();
    for (title, tags) in [
        ("Delta", vec!["network"]),
        ("alpha", vec!["Network", "billing"]),
        ("Echo", vec![]),
        ("Charlie", vec!["billing"]),
        ("bravo", vec!["network"]),
    ] {
        let created = create_article(&suite, &admin, draft(title, ArticleType::General, "text", &tags)).await.unwrap();
        ids.push(created.id);
        suite.clock.advance(Duration::from_secs(1));
    }
    let by_title =
        ListArticlesRequest { page_size: 2, order_by: ArticleOrderBy::TitleAsc.into(), ..Default::default() };
    assert_eq!(list_titles(&suite, &first, by_title.clone()).await, ["alpha", "bravo", "Charlie", "Delta", "Echo"]);
    let newest = ListArticlesRequest { page_size: 3, ..Default::default() };
    assert_eq!(list_titles(&suite, &first, newest).await, ["bravo", "Charlie", "Echo", "alpha", "Delta"]);
    let tagged = ListArticlesRequest {
        filter: Some(ArticleFilter { tags: vec!["NETWORK".into()], ..Default::default() }),
        ..by_title.clone()
    };
    assert_eq!(list_titles(&suite, &first, tagged).await, ["alpha", "bravo", "Delta"]);
    let both = ListArticlesRequest {
        filter: Some(ArticleFilter { tags: vec!["network".into(), "billing".into()], ..Default::default() }),
        ..by_title.clone()
    };
    assert_eq!(list_titles(&suite, &first, both).await, ["alpha"]);
    let titled = ListArticlesRequest {
        filter: Some(ArticleFilter { title_contains: "HARL".into(), ..Default::default() }),
        ..by_title.clone()
    };
    assert_eq!(list_titles(&suite, &first, titled).await, ["Charlie"]);

    // Popular: most views first, then most likes. Echo: 3 views; Charlie and alpha: 2 views,
    // Charlie with a like; the rest unseen, bravo liked.
    let (echo, charlie, alpha, bravo) = (&ids[2], &ids[3], &ids[1], &ids[4]);
    for token in [&admin, &first, &second] {
        get(&suite, token, echo).await.unwrap();
    }
    for token in [&first, &second] {
        get(&suite, token, charlie).await.unwrap();
        get(&suite, token, alpha).await.unwrap();
    }
    let mut kb = knowledge(&suite);
    kb.like_article(authed(LikeArticleRequest { article_id: charlie.clone() }, &first)).await.unwrap();
    kb.like_article(authed(LikeArticleRequest { article_id: bravo.clone() }, &first)).await.unwrap();
    let mut popular = Vec::new();
    let mut request = ListPopularArticlesRequest { page_size: 2, ..Default::default() };
    loop {
        let page = kb.list_popular_articles(authed(request.clone(), &second)).await.unwrap().into_inner();
        popular.extend(page.articles.into_iter().map(|a| (a.title, a.view_count, a.like_count)));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(
        popular[..4],
        [("Echo".into(), 3, 0), ("Charlie".into(), 2, 1), ("alpha".into(), 2, 0), ("bravo".into(), 0, 1)]
    );
    assert_eq!(popular.len(), 5);
    let by_views = ListArticlesRequest { order_by: ArticleOrderBy::ViewCountDesc.into(), ..Default::default() };
    assert_eq!(list_titles(&suite, &first, by_views).await[0], "Echo");
}

async fn a_reader_counts_one_view_a_day(suite: Suite) {
    let admin = suite.admin_token().await;
    let (_, reader) = external_user(&suite, &admin, "viewer@example.com").await;
    let article = create_article(&suite, &admin, draft("Daily", ArticleType::General, "", &[])).await.unwrap();
    assert_eq!(get(&suite, &reader, &article.id).await.unwrap().view_count, 1);
    assert_eq!(get(&suite, &reader, &article.id).await.unwrap().view_count, 1, "a re-read the same day is no view");
    suite.clock.advance(Duration::from_secs(23 * 3600));
    // Sessions expire meanwhile; the reader logs in again.
    let reader = suite.login("viewer@example.com", PASSWORD).await.unwrap();
    assert_eq!(get(&suite, &reader, &article.id).await.unwrap().view_count, 1);
    suite.clock.advance(Duration::from_secs(3600));
    let reader = suite.login("viewer@example.com", PASSWORD).await.unwrap();
    assert_eq!(get(&suite, &reader, &article.id).await.unwrap().view_count, 2, "a day later it counts again");
    let admin = suite.admin_token().await;
    assert_eq!(get(&suite, &admin, &article.id).await.unwrap().view_count, 3, "each reader counts");
}

async fn comment(suite: &Suite, token: &str, article_id: &str, body: &str) -> Result<ArticleComment, tonic::Status> {
    let request =
        CreateArticleCommentRequest { article_id: article_id.into(), body: body.into(), request_id: String::new() };
    knowledge(suite).create_article_comment(authed(request, token)).await.map(|r| r.into_inner())
}

async fn comments_are_edited_only_by_their_authors_and_deleted_by_them_or_staff(suite: Suite) {
    let admin = suite.admin_token().await;
    let (author_id, author) = external_user(&suite, &admin, "author@example.com").await;
    let (_, other) = external_user(&suite, &admin, "other@example.com").await;
    let article = create_article(&suite, &admin, draft("Discuss", ArticleType::General, "", &[])).await.unwrap();
    let mut kb = knowledge(&suite);

    let mine = comment(&suite, &author, &article.id, "  Very helpful, thanks.  ").await.unwrap();
    assert_eq!((mine.author_user_id.as_str(), mine.body.as_str()), (author_id.as_str(), "Very helpful, thanks."));
    assert_eq!(mine.author_name, "author", "a new user is named after their address's local part");
    let request = CreateArticleCommentRequest {
        article_id: article.id.clone(),
        body: "Same here".into(),
        request_id: "same-here".into(),
    };
    let theirs = kb.create_article_comment(authed(request.clone(), &other)).await.unwrap().into_inner();
    let again = kb.create_article_comment(authed(request, &other)).await.unwrap().into_inner();
    assert_eq!(again.id, theirs.id, "a retried post with the same request_id posts once");
    let bad = comment(&suite, &author, &article.id, " ").await.unwrap_err();
    assert_eq!((bad.code(), bad_fields(&bad)), (Code::InvalidArgument, vec!["body".to_owned()]));
    assert_eq!(comment(&suite, &author, "no-such-article", "Hi").await.unwrap_err().code(), Code::NotFound);

    // Only the author edits; the edit is marked; a stale etag is refused.
    let edit = |comment: &ArticleComment, body: &str| UpdateArticleCommentRequest {
        comment: Some(ArticleComment { body: body.into(), ..comment.clone() }),
        update_mask: mask(&["body"]),
    };
    let refused = kb.update_article_comment(authed(edit(&mine, "Hacked"), &other)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::PermissionDenied, "NOT_COMMENT_AUTHOR".into()));
    let refused = kb.update_article_comment(authed(edit(&mine, "Edited by staff"), &admin)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "staff moderate by deleting, not by rewriting");
    let edited = kb.update_article_comment(authed(edit(&mine, "Helpful indeed."), &author)).await.unwrap().into_inner();
    assert!(edited.edited && edited.body == "Helpful indeed.");
    let stale = kb.update_article_comment(authed(edit(&mine, "Again"), &author)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    // Another user cannot delete it; its author or staff can.
    let delete = |id: &str| DeleteArticleCommentRequest { id: id.into(), etag: String::new() };
    let refused = kb.delete_article_comment(authed(delete(&mine.id), &other)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    kb.delete_article_comment(authed(delete(&theirs.id), &admin)).await.unwrap();
    let like = LikeArticleCommentRequest { comment_id: mine.id.clone() };
    assert_eq!(kb.like_article_comment(authed(like.clone(), &other)).await.unwrap().into_inner().like_count, 1);
    assert_eq!(kb.like_article_comment(authed(like, &other)).await.unwrap().into_inner().like_count, 1);

    let request = ListArticleCommentsRequest { article_id: article.id.clone(), ..Default::default() };
    let listed = kb.list_article_comments(authed(request.clone(), &other)).await.unwrap().into_inner();
    let bodies: Vec<_> = listed.comments.iter().map(|c| (c.body.as_str(), c.like_count, c.liked_by_me)).collect();
    assert_eq!(bodies, [("Helpful indeed.", 1, true)]);
    assert_eq!(get(&suite, &other, &article.id).await.unwrap().comment_count, 1);
    kb.delete_article_comment(authed(delete(&mine.id), &author)).await.unwrap();
    let listed = kb.list_article_comments(authed(request, &other)).await.unwrap().into_inner();
    assert!(listed.comments.is_empty());
    assert_eq!(get(&suite, &other, &article.id).await.unwrap().comment_count, 0);

    // Comments page oldest first.
    for i in 0..5 {
        comment(&suite, &author, &article.id, &format!("Comment {i}")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut request = ListArticleCommentsRequest { article_id: article.id.clone(), page_size: 2, ..Default::default() };
    loop {
        let page = kb.list_article_comments(authed(request.clone(), &other)).await.unwrap().into_inner();
        seen.extend(page.comments.into_iter().map(|c| c.body));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(seen, (0..5).map(|i| format!("Comment {i}")).collect::<Vec<_>>());
}

async fn parallel_likes_count_once_per_user(suite: Suite) {
    let admin = suite.admin_token().await;
    let article = create_article(&suite, &admin, draft("Liked", ArticleType::Faq, "", &[])).await.unwrap();
    let mut readers = Vec::new();
    for i in 0..5 {
        readers.push(external_user(&suite, &admin, &format!("fan{i}@example.com")).await.1);
    }
    readers.push(admin.clone());
    let likes: Vec<_> = readers
        .iter()
        .flat_map(|token| std::iter::repeat_n(token.clone(), 4))
        .map(|token| {
            let mut kb = knowledge(&suite);
            let request = LikeArticleRequest { article_id: article.id.clone() };
            tokio::spawn(async move { kb.like_article(authed(request, &token)).await })
        })
        .collect();
    for like in likes {
        like.await.unwrap().unwrap();
    }
    let read = get(&suite, &readers[0], &article.id).await.unwrap();
    assert_eq!((read.like_count, read.liked_by_me), (6, true), "24 parallel likes by 6 users count 6");
    let mut kb = knowledge(&suite);
    let unlike = UnlikeArticleRequest { article_id: article.id.clone() };
    assert_eq!(kb.unlike_article(authed(unlike.clone(), &readers[0])).await.unwrap().into_inner().like_count, 5);
    assert_eq!(kb.unlike_article(authed(unlike, &readers[0])).await.unwrap().into_inner().like_count, 5);
    let read = get(&suite, &readers[0], &article.id).await.unwrap();
    assert_eq!((read.like_count, read.liked_by_me), (5, false));
    let missing = LikeArticleRequest { article_id: "no-such-article".into() };
    assert_eq!(kb.like_article(authed(missing, &admin)).await.unwrap_err().code(), Code::NotFound);
}

async fn tags_in_use_are_listed_most_used_first(suite: Suite) {
    let admin = suite.admin_token().await;
    let (_, reader) = external_user(&suite, &admin, "tagger@example.com").await;
    for tags in [vec!["VPN", "network"], vec!["vpn"], vec!["billing", "Network"], vec!["vpn"]] {
        create_article(&suite, &admin, draft("Tagged", ArticleType::General, "", &tags)).await.unwrap();
    }
    let mut listed = Vec::new();
    let mut request =
        ListTagsRequest { section: ListSection::KnowledgeBase.into(), page_size: 2, ..Default::default() };
    loop {
        let page = tags(&suite).list_tags(authed(request.clone(), &reader)).await.unwrap().into_inner();
        listed.extend(page.tags.into_iter().map(|t| (t.name.to_lowercase(), t.usage_count)));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(listed, [("vpn".into(), 3), ("network".into(), 2), ("billing".into(), 1)]);
    let request =
        ListTagsRequest { section: ListSection::KnowledgeBase.into(), prefix: "NE".into(), ..Default::default() };
    let page = tags(&suite).list_tags(authed(request, &reader)).await.unwrap().into_inner();
    assert_eq!(page.tags.len(), 1);
    let unspecified = tags(&suite).list_tags(authed(ListTagsRequest::default(), &reader)).await.unwrap_err();
    assert_eq!((unspecified.code(), bad_fields(&unspecified)), (Code::InvalidArgument, vec!["section".to_owned()]));
}

async fn parallel_retries_of_a_create_make_one_article(suite: Suite) {
    let admin = suite.admin_token().await;
    let request = CreateArticleRequest {
        article: Some(draft("Demo: getting started", ArticleType::General, "Welcome.", &["demo"])),
        request_id: "demo-getting-started".into(),
    };
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let mut kb = knowledge(&suite);
            let request = authed(request.clone(), &admin);
            tokio::spawn(async move { kb.create_article(request).await.map(|r| r.into_inner().id) })
        })
        .collect();
    let mut ids = Vec::new();
    for attempt in attempts {
        ids.push(attempt.await.unwrap().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry answers with the one article");
    let listed = knowledge(&suite).list_articles(authed(ListArticlesRequest::default(), &admin)).await.unwrap();
    assert_eq!(listed.into_inner().articles.len(), 1);
}

async fn a_column_hidden_by_access_is_not_shown(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme Columns", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &acme.id, "Boston").await;
    let toronto = fixtures::role(&suite, &admin, &acme.id, "Toronto").await;
    let (bea, bea_token) = fixtures::member(&suite, &admin, &acme.id, "bea@columns.test", false).await;
    let (tom, tom_token) = fixtures::member(&suite, &admin, &acme.id, "tom@columns.test", false).await;
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&bea.id]).await;
    fixtures::add_to_role(&suite, &admin, &toronto.id, &[&tom.id]).await;
    let hidden = ColumnAccessLevel::Hidden;
    support_access::column(&suite, &admin, "KnowledgeBase", "ModifiedOn", support_access::role(&toronto.id), hidden)
        .await;
    let article =
        create_article(&suite, &admin, draft("Printer setup", ArticleType::General, "Plug it in.", &[])).await.unwrap();

    let get = |token: String| {
        let mut client = knowledge(&suite);
        let request = GetArticleRequest { id: article.id.clone() };
        async move { client.get_article(authed(request, &token)).await.unwrap().into_inner() }
    };
    let seen_by_bea = get(bea_token.clone()).await;
    assert!(seen_by_bea.update_time.is_some(), "Boston sees when it was modified");
    let seen_by_tom = get(tom_token.clone()).await;
    assert_eq!(seen_by_tom.update_time, None, "Toronto does not: {seen_by_tom:?}");
    assert_eq!((seen_by_tom.title.as_str(), seen_by_tom.body.as_str()), ("Printer setup", "Plug it in."));
    let listed = knowledge(&suite)
        .list_articles(authed(ListArticlesRequest::default(), &tom_token))
        .await
        .unwrap()
        .into_inner()
        .articles;
    assert!(!listed.is_empty() && listed.iter().all(|a| a.update_time.is_none()), "{listed:?}");
}

/// Seed 003's Boston and Toronto with record permissions on for articles: Boston users
/// create, read and update; Toronto reads, and a default record rule gives Toronto the
/// articles Boston users write. Chicago writes articles nobody else is given. Each reader's
/// lists, search, popular articles and tags hold only what they reach, paged in SQL; an
/// article out of reach is NOT_FOUND for reading, commenting, liking and changing, while
/// staff (record permissions do not limit employees) reach every article.
async fn with_record_permissions_a_reader_reaches_own_and_granted_articles_only(suite: Suite) {
    const KB: &str = "KnowledgeBase";
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme Records", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &acme.id, "Boston").await;
    let toronto = fixtures::role(&suite, &admin, &acme.id, "Toronto").await;
    let chicago = fixtures::role(&suite, &admin, &acme.id, "Chicago").await;
    let (bea, bea_token) = fixtures::member(&suite, &admin, &acme.id, "bea@records.test", false).await;
    let (tom, tom_token) = fixtures::member(&suite, &admin, &acme.id, "tom@records.test", false).await;
    let (carl, carl_token) = fixtures::member(&suite, &admin, &acme.id, "carl@records.test", false).await;
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&bea.id]).await;
    fixtures::add_to_role(&suite, &admin, &toronto.id, &[&tom.id]).await;
    fixtures::add_to_role(&suite, &admin, &chicago.id, &[&carl.id]).await;
    for role in [&boston, &chicago] {
        for operation in [ObjectOperation::Create, ObjectOperation::Update] {
            support_access::grant(&suite, &admin, KB, support_access::role(&role.id), operation, Effect::Allow).await;
        }
    }
    let boston_to_toronto = Target::Grantee(support_access::role(&toronto.id));
    let boston_role = support_access::role(&boston.id);
    support_access::default_record_rule(&suite, &admin, KB, boston_role, boston_to_toronto, &[RecordRight::Read]).await;
    support_access::enable_record_permissions(&suite, &admin, KB).await;

    let mut boston_articles = Vec::new();
    for n in 1..=3 {
        let body = "Connect to the office network first.";
        let draft = draft(&format!("Boston guide {n}"), ArticleType::General, body, &["network"]);
        boston_articles.push(create_article(&suite, &bea_token, draft).await.unwrap());
    }
    let boston_titles: Vec<String> = boston_articles.iter().map(|a| a.title.clone()).collect();
    let chicago_article = create_article(
        &suite,
        &carl_token,
        draft("Chicago notes", ArticleType::General, "Network printer.", &["printer"]),
    )
    .await
    .unwrap();
    create_article(&suite, &admin, draft("Staff notes", ArticleType::Faq, "Network status page.", &["status"]))
        .await
        .unwrap();

    let by_title =
        ListArticlesRequest { page_size: 2, order_by: ArticleOrderBy::TitleAsc.into(), ..Default::default() };
    assert_eq!(list_titles(&suite, &tom_token, by_title.clone()).await, boston_titles, "Toronto: Boston's only");
    assert_eq!(list_titles(&suite, &carl_token, by_title.clone()).await, ["Chicago notes"], "Chicago: its own");
    let everything = list_titles(&suite, &admin, by_title).await;
    assert_eq!(everything.len(), 5, "staff reach every article: {everything:?}");

    let found = search(&suite, &tom_token, query("network")).await.unwrap();
    let mut found: Vec<String> = found.into_iter().map(|(title, _)| title).collect();
    found.sort();
    assert_eq!(found, boston_titles, "search keeps to what Toronto reaches");
    let popular = knowledge(&suite)
        .list_popular_articles(authed(ListPopularArticlesRequest { page_size: 10, ..Default::default() }, &tom_token))
        .await
        .unwrap()
        .into_inner()
        .articles;
    assert_eq!(popular.len(), 3, "{popular:?}");
    let request = ListTagsRequest { section: ListSection::KnowledgeBase.into(), ..Default::default() };
    let tags_seen = tags(&suite).list_tags(authed(request, &tom_token)).await.unwrap().into_inner().tags;
    let tags_seen: Vec<&str> = tags_seen.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags_seen, ["network"], "tags of articles out of reach stay unseen");

    let out_of_reach = chicago_article.id.clone();
    assert_eq!(get(&suite, &tom_token, &out_of_reach).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(get(&suite, &bea_token, &out_of_reach).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(get(&suite, &carl_token, &out_of_reach).await.unwrap().title, "Chicago notes");
    let mut kb = knowledge(&suite);
    let like = LikeArticleRequest { article_id: out_of_reach.clone() };
    assert_eq!(kb.like_article(authed(like, &tom_token)).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(comment(&suite, &tom_token, &out_of_reach, "Hi").await.unwrap_err().code(), Code::NotFound);
    let carls_comment = comment(&suite, &carl_token, &out_of_reach, "Mind the toner.").await.unwrap();
    let like = LikeArticleCommentRequest { comment_id: carls_comment.id.clone() };
    assert_eq!(kb.like_article_comment(authed(like, &bea_token)).await.unwrap_err().code(), Code::NotFound);
    let change = Article { id: out_of_reach.clone(), title: "Taken over".into(), ..Default::default() };
    let request = UpdateArticleRequest { article: Some(change), update_mask: mask(&["title"]) };
    assert_eq!(kb.update_article(authed(request, &bea_token)).await.unwrap_err().code(), Code::NotFound);

    // A read-only column refuses edits, even of one's own article.
    let read_only = ColumnAccessLevel::Read;
    support_access::column(&suite, &admin, KB, "Title", support_access::role(&boston.id), read_only).await;
    let own = Article {
        id: boston_articles[0].id.clone(),
        title: "Renamed".into(),
        body: "New".into(),
        ..Default::default()
    };
    let request = UpdateArticleRequest { article: Some(own.clone()), update_mask: mask(&["title"]) };
    let refused = kb.update_article(authed(request, &bea_token)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "COLUMN_READ_ONLY"));
    let request = UpdateArticleRequest { article: Some(own), update_mask: mask(&["body"]) };
    assert_eq!(kb.update_article(authed(request, &bea_token)).await.unwrap().into_inner().body, "New");

    // Deleting an article also removes its record from access.
    kb.delete_article(authed(DeleteArticleRequest { id: out_of_reach.clone(), etag: String::new() }, &admin))
        .await
        .unwrap();
    assert_eq!(get(&suite, &carl_token, &out_of_reach).await.unwrap_err().code(), Code::NotFound);
}
