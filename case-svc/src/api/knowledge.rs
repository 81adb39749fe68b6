//! `portal.case.v1.KnowledgeBaseService` and `TagService`: proto in, validation,
//! use case, proto out. Also builds the knowledge base's services for `lib.rs`.

use portal_proto::case::{
    self as pb, attachment_service_server::AttachmentServiceServer, folder_service_server::FolderServiceServer,
    knowledge_base_service_server::KnowledgeBaseService, knowledge_base_service_server::KnowledgeBaseServiceServer,
    tag_service_server::TagService, tag_service_server::TagServiceServer,
};
use service_kit::{
    ApiError, Caller, ServiceContext, StartError,
    access::AccessClient,
    clock::{from_timestamp, to_timestamp},
    db::Database,
    error::Violations,
    paging, service_routes, validate,
};
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status, service::Routes};

use super::{
    attachments::{AttachmentApi, attachment_to_proto},
    folders::{FolderApi, stored_article_filter},
};
use crate::{
    attachments::Attachments,
    cases::Cases,
    directory::Directory,
    domain::attachments::Parent,
    domain::folders::Section,
    domain::knowledge::{self as rules, ArticleContent, ArticleFilter, ArticleOrder, ArticleType, TimeSpan},
    folders::Folders,
    knowledge::{ArticleAccess, ArticlePatch, KnowledgeBase},
    storage::{
        attachments::AttachmentStore,
        knowledge::{ArticleRecord, Bind, CommentRecord, Keyset, KnowledgeStore, Position, comment_keyset},
        knowledge_search::{self, search_keyset},
    },
};

/// Builds the knowledge base (prepares its search index) and adds its services, folders,
/// tags and attachments included, to `routes`; returns the routes and the names added.
/// The cases (who reaches the files of cases and messages) and the folders come from
/// `case_services`.
pub async fn routes(
    context: &ServiceContext,
    database: &Database,
    case_services: &super::CaseServices,
    routes: Routes,
) -> Result<(Routes, Vec<String>), StartError> {
    knowledge_search::prepare(database).await.map_err(|e| StartError::Other(e.to_string()))?;
    let access = AccessClient::new(context, crate::AREA);
    let directory = Directory::new(context.upstreams.clone(), context.assertion_key.clone());
    let knowledge = KnowledgeBase::new(
        KnowledgeStore::new(database.clone()),
        context.clock.clone(),
        ArticleAccess::new(access.clone(), database.clone(), case_services.cases.access.registrations.clone()),
        directory,
    );
    let folders = case_services.folders.clone();
    let attachments = Attachments {
        store: AttachmentStore::new(database.clone()),
        knowledge: knowledge.clone(),
        cases: case_services.cases.clone(),
        clock: context.clock.clone(),
    };
    context.shutdown.spawn(attachments.clone().sweep_staged(context.shutdown.clone()));
    let api = KnowledgeApi {
        knowledge,
        cases: case_services.cases.clone(),
        folders: folders.clone(),
        attachments: attachments.clone(),
    };
    Ok(service_routes!(context, routes;
        KnowledgeBaseServiceServer<KnowledgeApi>(api.clone()) as Public,
        TagServiceServer<KnowledgeApi>(api) as Public,
        FolderServiceServer<FolderApi>(FolderApi { folders }) as Public,
        AttachmentServiceServer<AttachmentApi>(AttachmentApi { attachments }) as Public,
    ))
}

#[derive(Debug, Clone)]
pub struct KnowledgeApi {
    pub knowledge: KnowledgeBase,
    /// For the tags of cases.
    pub cases: Cases,
    pub folders: Folders,
    pub attachments: Attachments,
}

impl KnowledgeApi {
    /// The articles as `caller` may see them: with their author's and last editor's
    /// display names, and without the columns access hides from the caller.
    async fn shown(&self, caller: &Caller, articles: Vec<pb::Article>) -> Result<Vec<pb::Article>, Status> {
        let hidden = self.knowledge.access.hidden_columns(caller).await.map_err(status)?;
        Ok(self.shown_without(&hidden, articles).await)
    }

    /// As [`Self::shown`], the hidden columns known (a list's record filter brings them).
    async fn shown_without(&self, hidden: &[String], mut articles: Vec<pb::Article>) -> Vec<pb::Article> {
        let ids = articles.iter().flat_map(|a| [a.created_by_user_id.clone(), a.modified_by_user_id.clone()]);
        let names = self.knowledge.names(ids.collect::<Vec<_>>()).await;
        for article in &mut articles {
            article.created_by_name = names.get(&article.created_by_user_id).cloned().unwrap_or_default();
            article.modified_by_name = names.get(&article.modified_by_user_id).cloned().unwrap_or_default();
            hide_columns(article, hidden);
        }
        articles
    }

    /// The comments with their author's display name.
    async fn named_comments(&self, mut comments: Vec<pb::ArticleComment>) -> Vec<pb::ArticleComment> {
        let names = self.knowledge.names(comments.iter().map(|c| c.author_user_id.clone()).collect::<Vec<_>>()).await;
        for comment in &mut comments {
            comment.author_name = names.get(&comment.author_user_id).cloned().unwrap_or_default();
        }
        comments
    }
}

fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Ok(Caller::user_of(request)?.clone())
}

fn status(error: rules::KnowledgeError) -> Status {
    ApiError::from(error).into()
}

/// A short hash of the list parameters a page token belongs to (everything but the
/// token and the page size), so a token used with other parameters is refused.
pub fn fingerprint(parameters: &impl std::fmt::Debug) -> String {
    Sha256::digest(format!("{parameters:?}").as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The position a page token carries, for a list ordered by `keyset`.
fn position(token: &str, fingerprint: &str, keyset: &Keyset) -> Result<Option<Position>, Status> {
    Position::from_token(token, fingerprint, keyset).map_err(status)
}

/// Cuts the extra row fetched beyond `page_size` and returns the next page's token.
fn next_page<T>(rows: &mut Vec<T>, page_size: i64, fingerprint: &str, position: impl Fn(&T) -> Position) -> String {
    if rows.len() as i64 <= page_size {
        return String::new();
    }
    rows.truncate(page_size as usize);
    rows.last().map(|last| position(last).to_token(fingerprint)).unwrap_or_default()
}

/// A page size within `default` and `max`.
fn page_size(requested: i32, default: i64, max: i64) -> Result<i64, Status> {
    match i64::from(requested) {
        0 => Ok(default),
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(
            "page_size",
            format!("must be between 1 and {max}, or 0 for the default of {default}"),
        )
        .into()),
    }
}

pub fn article_type_from_proto(value: i32) -> Option<ArticleType> {
    match pb::ArticleType::try_from(value).ok()? {
        pb::ArticleType::Unspecified => None,
        pb::ArticleType::Faq => Some(ArticleType::Faq),
        pb::ArticleType::RulesAndRegulations => Some(ArticleType::RulesAndRegulations),
        pb::ArticleType::DocumentTemplate => Some(ArticleType::DocumentTemplate),
        pb::ArticleType::AdvertisingMaterial => Some(ArticleType::AdvertisingMaterial),
        pb::ArticleType::General => Some(ArticleType::General),
    }
}

fn article_type_to_proto(code: &str) -> pb::ArticleType {
    match ArticleType::from_code(code) {
        Some(ArticleType::Faq) => pb::ArticleType::Faq,
        Some(ArticleType::RulesAndRegulations) => pb::ArticleType::RulesAndRegulations,
        Some(ArticleType::DocumentTemplate) => pb::ArticleType::DocumentTemplate,
        Some(ArticleType::AdvertisingMaterial) => pb::ArticleType::AdvertisingMaterial,
        Some(ArticleType::General) => pb::ArticleType::General,
        None => pb::ArticleType::Unspecified,
    }
}

fn article_to_proto(article: ArticleRecord) -> pb::Article {
    pb::Article {
        r#type: article_type_to_proto(&article.article_type).into(),
        tags: article.tag_list(),
        id: article.id,
        title: article.title,
        body: article.body,
        attachments: Vec::new(),
        created_by_user_id: article.created_by,
        create_time: Some(to_timestamp(article.created_at)),
        modified_by_user_id: article.modified_by,
        update_time: Some(to_timestamp(article.updated_at)),
        view_count: article.view_count,
        like_count: article.like_count,
        comment_count: article.comment_count,
        liked_by_me: article.liked_by_me != 0,
        etag: article.version.to_string(),
        created_by_name: String::new(),
        modified_by_name: String::new(),
    }
}

/// Clears the fields of the article columns in `hidden` (access's column codes of the
/// KnowledgeBase object: Title, Type, Body, Tags, CreatedBy, CreatedOn, ModifiedBy,
/// ModifiedOn); other codes name no field of an article.
fn hide_columns(article: &mut pb::Article, hidden: &[String]) {
    for column in hidden {
        match column.as_str() {
            "Title" => article.title.clear(),
            "Type" => article.r#type = pb::ArticleType::Unspecified.into(),
            "Body" => article.body.clear(),
            "Tags" => article.tags.clear(),
            "CreatedBy" => {
                article.created_by_user_id.clear();
                article.created_by_name.clear();
            }
            "CreatedOn" => article.create_time = None,
            "ModifiedBy" => {
                article.modified_by_user_id.clear();
                article.modified_by_name.clear();
            }
            "ModifiedOn" => article.update_time = None,
            _ => {}
        }
    }
}

/// An article without its body, as lists and searches show it.
fn summary_to_proto(mut article: ArticleRecord) -> pb::Article {
    article.body.clear();
    article_to_proto(article)
}

fn comment_to_proto(comment: CommentRecord) -> pb::ArticleComment {
    pb::ArticleComment {
        id: comment.id,
        article_id: comment.article_id,
        author_user_id: comment.author_user_id,
        body: comment.body,
        create_time: Some(to_timestamp(comment.created_at)),
        update_time: Some(to_timestamp(comment.updated_at)),
        edited: comment.version > 1,
        like_count: comment.like_count,
        liked_by_me: comment.liked_by_me != 0,
        etag: comment.version.to_string(),
        author_name: String::new(),
    }
}

/// Checks the article types of a filter, naming `field` for an unspecified or unknown one.
fn article_types(values: &[i32], field: &str, violations: &mut Violations) -> Vec<ArticleType> {
    let types: Vec<ArticleType> = values.iter().filter_map(|v| article_type_from_proto(*v)).collect();
    if types.len() != values.len() {
        violations.add(field, "must name known article types, not ARTICLE_TYPE_UNSPECIFIED");
    }
    types
}

fn time_span(range: Option<&pb::TimeRange>, field: &str, violations: &mut Violations) -> TimeSpan {
    let Some(range) = range else {
        return TimeSpan::default();
    };
    let span = TimeSpan {
        start: range.start_time.as_ref().map(from_timestamp),
        end: range.end_time.as_ref().map(from_timestamp),
    };
    if let (Some(start), Some(end)) = (span.start, span.end)
        && end <= start
    {
        violations.add(format!("{field}.end_time"), "must be after start_time");
    }
    span
}

/// Converts a proto article filter, recording bad fields under `prefix` (none when empty).
pub fn article_filter(filter: Option<&pb::ArticleFilter>, prefix: &str, violations: &mut Violations) -> ArticleFilter {
    let Some(filter) = filter else {
        return ArticleFilter::default();
    };
    let field = |name: &str| if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
    let tag_keys = match rules::normalize_tags(&filter.tags) {
        Ok(tags) => tags.iter().map(|t| rules::tag_key(t)).collect(),
        Err(problem) => {
            violations.add(field("tags"), problem);
            Vec::new()
        }
    };
    ArticleFilter {
        types: article_types(&filter.types, &field("types"), violations),
        tag_keys,
        title_contains: filter.title_contains.trim().to_lowercase(),
        created: time_span(filter.create_time.as_ref(), &field("create_time"), violations),
        updated: time_span(filter.update_time.as_ref(), &field("update_time"), violations),
    }
}

fn order_from_proto(value: i32) -> Result<ArticleOrder, Status> {
    match pb::ArticleOrderBy::try_from(value) {
        Ok(pb::ArticleOrderBy::Unspecified | pb::ArticleOrderBy::UpdateTimeDesc) => Ok(ArticleOrder::UpdatedFirst),
        Ok(pb::ArticleOrderBy::CreateTimeDesc) => Ok(ArticleOrder::NewestFirst),
        Ok(pb::ArticleOrderBy::TitleAsc) => Ok(ArticleOrder::ByTitle),
        Ok(pb::ArticleOrderBy::ViewCountDesc) => Ok(ArticleOrder::MostViewed),
        Ok(pb::ArticleOrderBy::LikeCountDesc) => Ok(ArticleOrder::MostLiked),
        Err(_) => Err(ApiError::invalid("order_by", "is not a known ArticleOrderBy").into()),
    }
}

/// Validates the settable fields of a new article.
fn new_article(article: Option<pb::Article>) -> Result<ArticleContent, Status> {
    let Some(article) = article else {
        return Err(ApiError::invalid("article", "is required").into());
    };
    let mut violations = Violations::new();
    let title = violations.check("article.title", rules::check_title(&article.title));
    let article_type = article_type_from_proto(article.r#type);
    if article_type.is_none() {
        violations.add("article.type", "must be a known article type, e.g. ARTICLE_TYPE_FAQ");
    }
    let body = violations.check("article.body", rules::check_body(&article.body));
    let tags = violations.check("article.tags", rules::normalize_tags(&article.tags));
    violations.finish()?;
    match (title, article_type, body, tags) {
        (Some(title), Some(article_type), Some(body), Some(tags)) => {
            Ok(ArticleContent { title, article_type, body, tags })
        }
        _ => Err(ApiError::internal("validated article lacks a field").into()),
    }
}

/// Validates the fields an update_mask names.
fn article_patch(article: &pb::Article, paths: &[String]) -> Result<ArticlePatch, Status> {
    let mut violations = Violations::new();
    let mut patch = ArticlePatch::default();
    if paths.is_empty() {
        violations.add("update_mask", "must name at least one of title, type, body, tags");
    }
    for path in paths {
        match path.as_str() {
            "title" => patch.title = violations.check("article.title", rules::check_title(&article.title)),
            "type" => {
                patch.article_type = article_type_from_proto(article.r#type);
                if patch.article_type.is_none() {
                    violations.add("article.type", "must be a known article type, e.g. ARTICLE_TYPE_FAQ");
                }
            }
            "body" => patch.body = violations.check("article.body", rules::check_body(&article.body)),
            "tags" => patch.tags = violations.check("article.tags", rules::normalize_tags(&article.tags)),
            other => violations.add("update_mask", format!("'{other}' cannot be updated; use title, type, body, tags")),
        }
    }
    violations.finish()?;
    Ok(patch)
}

fn check_request_id(request_id: &str) -> Result<(), Status> {
    rules::check_request_id(request_id).map_err(|problem| ApiError::invalid("request_id", problem).into())
}

fn check_comment(field: &str, body: &str) -> Result<String, Status> {
    rules::check_comment(body).map_err(|problem| ApiError::invalid(field, problem).into())
}

#[tonic::async_trait]
impl KnowledgeBaseService for KnowledgeApi {
    async fn create_article(
        &self,
        request: Request<pb::CreateArticleRequest>,
    ) -> Result<Response<pb::Article>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        check_request_id(&r.request_id)?;
        let content = new_article(r.article)?;
        let article = self.knowledge.create_article(&caller, &content, &r.request_id).await.map_err(status)?;
        Ok(Response::new(self.shown(&caller, vec![article_to_proto(article)]).await?.remove(0)))
    }

    async fn get_article(&self, request: Request<pb::GetArticleRequest>) -> Result<Response<pb::Article>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let article = self.knowledge.get_article(&caller, &id).await.map_err(status)?;
        // The caller may read the article, so they may read its files.
        let files = self
            .attachments
            .store
            .list(&Parent::Article(id), false, None, paging::MAX_PAGE_SIZE)
            .await
            .map_err(|e| Status::from(ApiError::from(e)))?;
        let mut article = self.shown(&caller, vec![article_to_proto(article)]).await?.remove(0);
        article.attachments = files.into_iter().map(attachment_to_proto).collect();
        Ok(Response::new(article))
    }

    async fn list_articles(
        &self,
        request: Request<pb::ListArticlesRequest>,
    ) -> Result<Response<pb::ListArticlesResponse>, Status> {
        let caller = caller(&request)?;
        let mut r = request.into_inner();
        let size = paging::page_size(r.page_size)?;
        let token = std::mem::take(&mut r.page_token);
        r.page_size = 0;
        let fingerprint = fingerprint(&r);
        let order = order_from_proto(r.order_by)?;
        let mut violations = Violations::new();
        let mut filters = vec![article_filter(r.filter.as_ref(), "filter", &mut violations)];
        if !r.folder_id.is_empty() {
            let folder =
                self.folders.folder_of_section(&caller, &r.folder_id, Section::KnowledgeBase).await.map_err(status)?;
            let stored = stored_article_filter(&folder)?;
            filters.push(article_filter(stored.as_ref(), "folder_id", &mut violations));
        }
        violations.finish()?;
        let keyset = Keyset::of_articles(order);
        let after = position(&token, &fingerprint, &keyset)?;
        let (mut rows, hidden) =
            self.knowledge.list_articles(&caller, &filters, order, after.as_ref(), size + 1).await.map_err(status)?;
        let next_page_token = next_page(&mut rows, size, &fingerprint, |a| a.position(&keyset, 0));
        Ok(Response::new(pb::ListArticlesResponse {
            articles: self.shown_without(&hidden, rows.into_iter().map(summary_to_proto).collect()).await,
            next_page_token,
        }))
    }

    async fn update_article(
        &self,
        request: Request<pb::UpdateArticleRequest>,
    ) -> Result<Response<pb::Article>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let Some(article) = r.article else {
            return Err(ApiError::invalid("article", "is required").into());
        };
        validate::id("article.id", &article.id)?;
        let paths = r.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let patch = article_patch(&article, &paths)?;
        let updated =
            self.knowledge.update_article(&caller, &article.id, &article.etag, patch).await.map_err(status)?;
        Ok(Response::new(self.shown(&caller, vec![article_to_proto(updated)]).await?.remove(0)))
    }

    async fn delete_article(&self, request: Request<pb::DeleteArticleRequest>) -> Result<Response<()>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.knowledge.delete_article(&caller, &r.id, &r.etag).await.map_err(status)?;
        Ok(Response::new(()))
    }

    async fn search_articles(
        &self,
        request: Request<pb::SearchArticlesRequest>,
    ) -> Result<Response<pb::SearchArticlesResponse>, Status> {
        let caller = caller(&request)?;
        let mut r = request.into_inner();
        let size = page_size(r.page_size, 20, 100)?;
        let token = std::mem::take(&mut r.page_token);
        r.page_size = 0;
        let fingerprint = fingerprint(&r);
        let mut violations = Violations::new();
        let words = violations.check("query", rules::search_words(&r.query));
        let filter = article_filter(
            Some(&pb::ArticleFilter { types: r.types, tags: r.tags, ..Default::default() }),
            "",
            &mut violations,
        );
        violations.finish()?;
        let words = words.unwrap_or_default();
        let keyset = search_keyset();
        let after = position(&token, &fingerprint, &keyset)?;
        let (mut hits, hidden) =
            self.knowledge.search(&caller, &words, &filter, after.as_ref(), size + 1).await.map_err(status)?;
        let next_page_token = next_page(&mut hits, size, &fingerprint, |h| h.article.position(&keyset, h.score));
        let snippets: Vec<(String, f64)> = hits
            .iter()
            .map(|hit| (rules::snippet(&hit.article.title, &hit.article.body, &words), hit.score as f64))
            .collect();
        let articles =
            self.shown_without(&hidden, hits.into_iter().map(|hit| summary_to_proto(hit.article)).collect()).await;
        let results = articles
            .into_iter()
            .zip(snippets)
            .map(|(article, (snippet, score))| pb::ArticleSearchResult { article: Some(article), snippet, score })
            .collect();
        Ok(Response::new(pb::SearchArticlesResponse { results, next_page_token }))
    }

    async fn list_popular_articles(
        &self,
        request: Request<pb::ListPopularArticlesRequest>,
    ) -> Result<Response<pb::ListPopularArticlesResponse>, Status> {
        let caller = caller(&request)?;
        let mut r = request.into_inner();
        let size = page_size(r.page_size, 10, 50)?;
        let token = std::mem::take(&mut r.page_token);
        r.page_size = 0;
        let fingerprint = fingerprint(&r);
        let mut violations = Violations::new();
        let filter = ArticleFilter { types: article_types(&r.types, "types", &mut violations), ..Default::default() };
        violations.finish()?;
        let keyset = Keyset::of_articles(ArticleOrder::Popular);
        let after = position(&token, &fingerprint, &keyset)?;
        let (mut rows, hidden) = self
            .knowledge
            .list_articles(&caller, &[filter], ArticleOrder::Popular, after.as_ref(), size + 1)
            .await
            .map_err(status)?;
        let next_page_token = next_page(&mut rows, size, &fingerprint, |a| a.position(&keyset, 0));
        Ok(Response::new(pb::ListPopularArticlesResponse {
            articles: self.shown_without(&hidden, rows.into_iter().map(summary_to_proto).collect()).await,
            next_page_token,
        }))
    }

    async fn create_article_comment(
        &self,
        request: Request<pb::CreateArticleCommentRequest>,
    ) -> Result<Response<pb::ArticleComment>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("article_id", &r.article_id)?;
        check_request_id(&r.request_id)?;
        let body = check_comment("body", &r.body)?;
        let comment =
            self.knowledge.create_comment(&caller, &r.article_id, &body, &r.request_id).await.map_err(status)?;
        Ok(Response::new(self.named_comments(vec![comment_to_proto(comment)]).await.remove(0)))
    }

    async fn list_article_comments(
        &self,
        request: Request<pb::ListArticleCommentsRequest>,
    ) -> Result<Response<pb::ListArticleCommentsResponse>, Status> {
        let caller = caller(&request)?;
        let mut r = request.into_inner();
        validate::id("article_id", &r.article_id)?;
        let size = paging::page_size(r.page_size)?;
        let token = std::mem::take(&mut r.page_token);
        r.page_size = 0;
        let fingerprint = fingerprint(&r);
        let keyset = comment_keyset();
        let after = position(&token, &fingerprint, &keyset)?;
        let mut rows =
            self.knowledge.list_comments(&caller, &r.article_id, after.as_ref(), size + 1).await.map_err(status)?;
        let next_page_token = next_page(&mut rows, size, &fingerprint, |c| {
            Position(vec![
                crate::storage::knowledge::Bind::Int(c.created_at),
                crate::storage::knowledge::Bind::Text(c.id.clone()),
            ])
        });
        Ok(Response::new(pb::ListArticleCommentsResponse {
            comments: self.named_comments(rows.into_iter().map(comment_to_proto).collect()).await,
            next_page_token,
        }))
    }

    async fn update_article_comment(
        &self,
        request: Request<pb::UpdateArticleCommentRequest>,
    ) -> Result<Response<pb::ArticleComment>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let Some(comment) = r.comment else {
            return Err(ApiError::invalid("comment", "is required").into());
        };
        validate::id("comment.id", &comment.id)?;
        let paths = r.update_mask.map(|mask| mask.paths).unwrap_or_default();
        if paths != ["body"] {
            return Err(ApiError::invalid("update_mask", "must name exactly the path body").into());
        }
        let body = check_comment("comment.body", &comment.body)?;
        let updated =
            self.knowledge.update_comment(&caller, &comment.id, &comment.etag, &body).await.map_err(status)?;
        Ok(Response::new(self.named_comments(vec![comment_to_proto(updated)]).await.remove(0)))
    }

    async fn delete_article_comment(
        &self,
        request: Request<pb::DeleteArticleCommentRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.knowledge.delete_comment(&caller, &r.id, &r.etag).await.map_err(status)?;
        Ok(Response::new(()))
    }

    async fn like_article(
        &self,
        request: Request<pb::LikeArticleRequest>,
    ) -> Result<Response<pb::LikeArticleResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().article_id;
        validate::id("article_id", &id)?;
        let like_count = self.knowledge.set_article_like(&caller, &id, true).await.map_err(status)?;
        Ok(Response::new(pb::LikeArticleResponse { like_count }))
    }

    async fn unlike_article(
        &self,
        request: Request<pb::UnlikeArticleRequest>,
    ) -> Result<Response<pb::UnlikeArticleResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().article_id;
        validate::id("article_id", &id)?;
        let like_count = self.knowledge.set_article_like(&caller, &id, false).await.map_err(status)?;
        Ok(Response::new(pb::UnlikeArticleResponse { like_count }))
    }

    async fn like_article_comment(
        &self,
        request: Request<pb::LikeArticleCommentRequest>,
    ) -> Result<Response<pb::LikeArticleCommentResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().comment_id;
        validate::id("comment_id", &id)?;
        let like_count = self.knowledge.set_comment_like(&caller, &id, true).await.map_err(status)?;
        Ok(Response::new(pb::LikeArticleCommentResponse { like_count }))
    }

    async fn unlike_article_comment(
        &self,
        request: Request<pb::UnlikeArticleCommentRequest>,
    ) -> Result<Response<pb::UnlikeArticleCommentResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().comment_id;
        validate::id("comment_id", &id)?;
        let like_count = self.knowledge.set_comment_like(&caller, &id, false).await.map_err(status)?;
        Ok(Response::new(pb::UnlikeArticleCommentResponse { like_count }))
    }
}

#[tonic::async_trait]
impl TagService for KnowledgeApi {
    async fn list_tags(&self, request: Request<pb::ListTagsRequest>) -> Result<Response<pb::ListTagsResponse>, Status> {
        let caller = caller(&request)?;
        let mut r = request.into_inner();
        let section = match pb::ListSection::try_from(r.section) {
            Ok(section @ (pb::ListSection::KnowledgeBase | pb::ListSection::Cases)) => section,
            _ => {
                return Err(
                    ApiError::invalid("section", "must be LIST_SECTION_CASES or LIST_SECTION_KNOWLEDGE_BASE").into()
                );
            }
        };
        let size = paging::page_size(r.page_size)?;
        let token = std::mem::take(&mut r.page_token);
        r.page_size = 0;
        let fingerprint = fingerprint(&r);
        let keyset = Keyset { columns: vec!["usage_count", "tag_key"], descending: true };
        let after = position(&token, &fingerprint, &keyset)?;
        // The token's fingerprint holds the section, so a token serves only its own section.
        let mut rows = if section == pb::ListSection::Cases {
            let after = after.as_ref().and_then(|Position(values)| match values.as_slice() {
                [Bind::Int(count), Bind::Text(tag)] => Some((*count, tag.clone())),
                _ => None,
            });
            self.cases.list_tags(&caller, &r.prefix, after, size + 1).await.map_err(Status::from)?
        } else {
            self.knowledge.list_tags(&caller, &r.prefix, after.as_ref(), size + 1).await.map_err(status)?
        };
        let next_page_token = next_page(&mut rows, size, &fingerprint, |t| {
            Position(vec![Bind::Int(t.usage_count), Bind::Text(t.tag_key.clone())])
        });
        Ok(Response::new(pb::ListTagsResponse {
            tags: rows.into_iter().map(|t| pb::Tag { name: t.tag, usage_count: t.usage_count }).collect(),
            next_page_token,
        }))
    }
}
