//! Knowledge-base use cases: articles, their views, likes and comments, search,
//! popular articles and tags. Each checks the caller's rights on the "KnowledgeBase"
//! object through [`ArticleAccess`], applies the rules of `domain::knowledge`, and
//! changes `storage` in one transaction.

use std::collections::HashMap;

use portal_proto::access::ObjectOperation;
use service_kit::{
    ApiError, Caller,
    access::{AccessClient, hidden_columns},
    clock::Clock,
    db::Database,
    registrations::Registrations,
    secrets,
};

use crate::{
    directory::Directory,
    domain::knowledge::{
        self as rules, ArticleContent, ArticleFilter, ArticleOrder, ArticleType, DAY_MS, KnowledgeError, OBJECT_CODE,
    },
    storage::{
        knowledge::{
            ArticleRecord, Change, CommentRecord, Created, KnowledgeStore, Position, Reach, RequestKey, TagRecord,
        },
        knowledge_search::SearchHit,
    },
};

/// Decides whether a caller may do an operation on articles, by asking access-svc
/// (by default every external user may read; employees create, read, update and
/// delete). With record permissions enabled for the "KnowledgeBase" object, an external
/// user reaches only the articles they wrote or that a record grant (a default record
/// rule, say) gives them: lists carry access's record filter into SQL over the grant
/// replica, and an article out of reach is NOT_FOUND. Every use case asks here and only
/// here; an access failure is never an allow.
#[derive(Debug, Clone)]
pub struct ArticleAccess {
    client: AccessClient,
    database: Database,
    registrations: Registrations,
}

impl ArticleAccess {
    pub fn new(client: AccessClient, database: Database, registrations: Registrations) -> Self {
        Self { client, database, registrations }
    }

    /// Whether `caller` may do `operation` on articles.
    pub async fn allows(&self, caller: &Caller, operation: ObjectOperation) -> Result<bool, KnowledgeError> {
        let result = self.client.check(&caller.user_id, OBJECT_CODE, operation, None, &[]).await?;
        Ok(result.allowed)
    }

    /// The article columns hidden from `caller` by column grants (HIDDEN level).
    pub async fn hidden_columns(&self, caller: &Caller) -> Result<Vec<String>, KnowledgeError> {
        let result = self.client.check(&caller.user_id, OBJECT_CODE, ObjectOperation::Read, None, &[]).await?;
        Ok(hidden_columns(result.column_mask.as_ref()).to_vec())
    }

    /// As [`Self::allows`], refusing with PERMISSION_DENIED and access's reason.
    pub async fn require(&self, caller: &Caller, operation: ObjectOperation) -> Result<(), KnowledgeError> {
        self.client.require(&caller.user_id, OBJECT_CODE, operation, None, &[]).await?;
        Ok(())
    }

    /// Refuses a caller who may not do `operation` on article `id`, or edit its `columns`
    /// (a read-only or hidden one is PERMISSION_DENIED); an article out of the caller's
    /// reach is NOT_FOUND, as a missing one is.
    pub async fn require_article(
        &self,
        caller: &Caller,
        id: &str,
        operation: ObjectOperation,
        columns: &[&str],
    ) -> Result<(), KnowledgeError> {
        match self.client.require(&caller.user_id, OBJECT_CODE, operation, Some(id), columns).await {
            Ok(_) => Ok(()),
            Err(ApiError::NotFound { .. }) => Err(article_not_found(id)),
            Err(error) => Err(error.into()),
        }
    }

    /// Which articles `caller` reaches in a list, from access's record filter (the grant
    /// replica brought up to date with it first), and the columns hidden from them on every
    /// one (access answers the filter with the column mask).
    pub async fn reach(&self, caller: &Caller) -> Result<(Reach, Vec<String>), KnowledgeError> {
        let answer = self.client.record_filter(&caller.user_id, OBJECT_CODE, ObjectOperation::Read).await?;
        let hidden = hidden_columns(answer.column_mask.as_ref()).to_vec();
        let filter = answer.filter.unwrap_or_default();
        self.client.sync(&self.database, OBJECT_CODE, filter.min_grants_revision).await?;
        Ok((Reach(filter), hidden))
    }

    /// Registers a new article with access (its author; the author's organization), so
    /// the default record rules for articles apply, through the journal; the transaction
    /// storing it settles the registration.
    pub async fn register(&self, article_id: &str, author_user_id: &str) -> Result<(), KnowledgeError> {
        Ok(self.registrations.register(OBJECT_CODE, article_id, author_user_id, "").await?)
    }

    /// Removes an article that will not be stored from access (now, or by the sweep).
    pub async fn abandon(&self, article_id: &str) {
        self.registrations.abandon(OBJECT_CODE, article_id).await
    }

    /// Removes a deleted article from access, with its grants. A failure is logged, not
    /// returned: a leftover record names nothing and grants nothing.
    pub async fn unregister(&self, article_id: &str) {
        if let Err(error) = self.client.unregister_record(OBJECT_CODE, article_id).await {
            tracing::warn!(%error, article_id, "the access record of an article that is gone was not removed");
        }
    }
}

/// The changes an UpdateArticle asks for: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ArticlePatch {
    pub title: Option<String>,
    pub article_type: Option<ArticleType>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
}

impl ArticlePatch {
    /// The article columns this patch edits (access refuses read-only ones).
    fn edited_columns(&self) -> Vec<&'static str> {
        let columns = [
            ("Title", self.title.is_some()),
            ("Type", self.article_type.is_some()),
            ("Body", self.body.is_some()),
            ("Tags", self.tags.is_some()),
        ];
        columns.into_iter().filter(|(_, edited)| *edited).map(|(column, _)| column).collect()
    }
}

/// The knowledge base's use cases.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pub store: KnowledgeStore,
    pub clock: Clock,
    pub access: ArticleAccess,
    pub directory: Directory,
}

/// Reads the version an etag names; a malformed etag is as stale as an old one.
pub fn version_of(etag: &str) -> Result<i64, KnowledgeError> {
    etag.parse().map_err(|_| KnowledgeError::Stale("resource"))
}

fn article_not_found(id: &str) -> KnowledgeError {
    KnowledgeError::NotFound("article", id.to_owned())
}

fn comment_not_found(id: &str) -> KnowledgeError {
    KnowledgeError::NotFound("comment", id.to_owned())
}

impl KnowledgeBase {
    pub fn new(store: KnowledgeStore, clock: Clock, access: ArticleAccess, directory: Directory) -> Self {
        Self { store, clock, access, directory }
    }

    /// The display names of users (authors, "Modified by"), by id. A name identity cannot
    /// give is left out: it never fails a read.
    pub async fn names(&self, user_ids: impl IntoIterator<Item = String>) -> HashMap<String, String> {
        let mut ids: Vec<String> = user_ids.into_iter().filter(|id| !id.is_empty()).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return HashMap::new();
        }
        match self.directory.people(&ids).await {
            Ok(people) => people.into_iter().map(|p| (p.user_id, p.full_name)).collect(),
            Err(error) => {
                tracing::warn!(%error, "user names are not available; answering without them");
                HashMap::new()
            }
        }
    }

    /// Writes an article; a retried call with the same request id returns the first.
    pub async fn create_article(
        &self,
        caller: &Caller,
        content: &ArticleContent,
        request_id: &str,
    ) -> Result<ArticleRecord, KnowledgeError> {
        self.access.require(caller, ObjectOperation::Create).await?;
        let now = self.clock.now();
        let key = RequestKey { user_id: &caller.user_id, kind: "article", request_id };
        // Access hears of the article before it is stored, so no stored article is ever
        // unknown to access; what a failed or repeated insert leaves there names nothing.
        let new_id = secrets::new_id();
        self.access.register(&new_id, &caller.user_id).await?;
        let id = match self.store.insert_article(&new_id, content, &caller.user_id, key, now, now - DAY_MS).await {
            Ok(Created::New(id)) => id,
            Ok(Created::Earlier(id)) => {
                self.access.abandon(&new_id).await;
                id
            }
            Err(error) => {
                self.access.abandon(&new_id).await;
                return Err(error);
            }
        };
        self.store.article(&id, &caller.user_id).await?.ok_or_else(|| article_not_found(&id))
    }

    /// One article with its body; counts the caller's view (once a day per user).
    pub async fn get_article(&self, caller: &Caller, id: &str) -> Result<ArticleRecord, KnowledgeError> {
        self.access.require_article(caller, id, ObjectOperation::Read, &[]).await?;
        let now = self.clock.now();
        self.store.count_view(id, &caller.user_id, now, now - DAY_MS).await?;
        self.store.article(id, &caller.user_id).await?.ok_or_else(|| article_not_found(id))
    }

    /// Checks that the caller may do `operation` on article `id` and that it exists.
    pub async fn require_article(
        &self,
        caller: &Caller,
        id: &str,
        operation: ObjectOperation,
    ) -> Result<(), KnowledgeError> {
        self.access.require_article(caller, id, operation, &[]).await?;
        self.store.article(id, &caller.user_id).await?.map(drop).ok_or_else(|| article_not_found(id))
    }

    /// A page of articles matching every filter (a folder's stored filter included), with
    /// the columns hidden from the caller.
    pub async fn list_articles(
        &self,
        caller: &Caller,
        filters: &[ArticleFilter],
        order: ArticleOrder,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<(Vec<ArticleRecord>, Vec<String>), KnowledgeError> {
        self.access.require(caller, ObjectOperation::Read).await?;
        let (reach, hidden) = self.access.reach(caller).await?;
        Ok((self.store.list_articles(&caller.user_id, &reach, filters, order, after, limit).await?, hidden))
    }

    /// Applies `patch` to the article if `etag` (when given) is current.
    pub async fn update_article(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        patch: ArticlePatch,
    ) -> Result<ArticleRecord, KnowledgeError> {
        self.access.require_article(caller, id, ObjectOperation::Update, &patch.edited_columns()).await?;
        let current = self.store.article(id, &caller.user_id).await?.ok_or_else(|| article_not_found(id))?;
        if !etag.is_empty() && version_of(etag)? != current.version {
            return Err(KnowledgeError::Stale("article"));
        }
        let content = ArticleContent {
            title: patch.title.unwrap_or(current.title.clone()),
            article_type: match patch.article_type {
                Some(article_type) => article_type,
                None => ArticleType::from_code(&current.article_type)
                    .ok_or_else(|| KnowledgeError::Corrupt(format!("article type '{}'", current.article_type)))?,
            },
            body: patch.body.unwrap_or(current.body.clone()),
            tags: patch.tags.unwrap_or_else(|| current.tag_list()),
        };
        let now = self.clock.now();
        match self.store.update_article(id, current.version, &content, &caller.user_id, now).await? {
            Change::Done(()) => self.store.article(id, &caller.user_id).await?.ok_or_else(|| article_not_found(id)),
            Change::NotFound => Err(article_not_found(id)),
            Change::Stale => Err(KnowledgeError::Stale("article")),
        }
    }

    /// Deletes an article with its comments, likes and views.
    pub async fn delete_article(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), KnowledgeError> {
        self.access.require_article(caller, id, ObjectOperation::Delete, &[]).await?;
        let version = if etag.is_empty() { None } else { Some(version_of(etag)?) };
        match self.store.delete_article(id, version).await? {
            Change::Done(()) => {
                self.access.unregister(id).await;
                Ok(())
            }
            Change::NotFound => Err(article_not_found(id)),
            Change::Stale => Err(KnowledgeError::Stale("article")),
        }
    }

    /// A page of the articles holding every word, best first, with the columns hidden from
    /// the caller.
    pub async fn search(
        &self,
        caller: &Caller,
        words: &[String],
        filter: &ArticleFilter,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<(Vec<SearchHit>, Vec<String>), KnowledgeError> {
        self.access.require(caller, ObjectOperation::Read).await?;
        let (reach, hidden) = self.access.reach(caller).await?;
        Ok((self.store.search_articles(&caller.user_id, &reach, words, filter, after, limit).await?, hidden))
    }

    /// Likes (or unlikes) an article for the caller; returns its likes now.
    pub async fn set_article_like(&self, caller: &Caller, article_id: &str, like: bool) -> Result<i64, KnowledgeError> {
        self.access.require_article(caller, article_id, ObjectOperation::Read, &[]).await?;
        let now = self.clock.now();
        self.store
            .set_article_like(article_id, &caller.user_id, like, now)
            .await?
            .ok_or_else(|| article_not_found(article_id))
    }

    /// Likes (or unlikes) a comment for the caller; returns its likes now.
    pub async fn set_comment_like(&self, caller: &Caller, comment_id: &str, like: bool) -> Result<i64, KnowledgeError> {
        self.reachable_comment(caller, comment_id).await?;
        let now = self.clock.now();
        self.store
            .set_comment_like(comment_id, &caller.user_id, like, now)
            .await?
            .ok_or_else(|| comment_not_found(comment_id))
    }

    /// Posts the caller's comment; a retried call with the same request id returns the first.
    pub async fn create_comment(
        &self,
        caller: &Caller,
        article_id: &str,
        body: &str,
        request_id: &str,
    ) -> Result<CommentRecord, KnowledgeError> {
        self.access.require_article(caller, article_id, ObjectOperation::Read, &[]).await?;
        let now = self.clock.now();
        let key = RequestKey { user_id: &caller.user_id, kind: "comment", request_id };
        let created = self.store.insert_comment(article_id, &caller.user_id, body, key, now, now - DAY_MS).await?;
        let id = match created.ok_or_else(|| article_not_found(article_id))? {
            Created::New(id) | Created::Earlier(id) => id,
        };
        self.store.comment(&id, &caller.user_id).await?.ok_or_else(|| comment_not_found(&id))
    }

    /// A page of an article's comments, oldest first.
    pub async fn list_comments(
        &self,
        caller: &Caller,
        article_id: &str,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<CommentRecord>, KnowledgeError> {
        self.require_article(caller, article_id, ObjectOperation::Read).await?;
        self.store.list_comments(article_id, &caller.user_id, after, limit).await
    }

    /// Replaces the body of the caller's own comment.
    pub async fn update_comment(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        body: &str,
    ) -> Result<CommentRecord, KnowledgeError> {
        let current = self.reachable_comment(caller, id).await?;
        if !rules::may_edit_comment(&caller.user_id, &current.author_user_id) {
            return Err(KnowledgeError::Denied("NOT_COMMENT_AUTHOR", "only its author may edit a comment".into()));
        }
        let version = if etag.is_empty() { current.version } else { version_of(etag)? };
        match self.store.update_comment(id, version, body, self.clock.now()).await? {
            Change::Done(()) => self.store.comment(id, &caller.user_id).await?.ok_or_else(|| comment_not_found(id)),
            Change::NotFound => Err(comment_not_found(id)),
            Change::Stale => Err(KnowledgeError::Stale("comment")),
        }
    }

    /// Deletes the caller's own comment, or any comment for a moderator (whoever may
    /// delete articles).
    pub async fn delete_comment(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), KnowledgeError> {
        let current = self.reachable_comment(caller, id).await?;
        let moderator =
            caller.user_id != current.author_user_id && self.access.allows(caller, ObjectOperation::Delete).await?;
        if !rules::may_delete_comment(&caller.user_id, &current.author_user_id, moderator) {
            return Err(KnowledgeError::Denied(
                "NOT_COMMENT_AUTHOR",
                "only its author or a moderator may delete a comment".into(),
            ));
        }
        let version = if etag.is_empty() { current.version } else { version_of(etag)? };
        match self.store.delete_comment(id, version).await? {
            Change::Done(()) => Ok(()),
            Change::NotFound => Err(comment_not_found(id)),
            Change::Stale => Err(KnowledgeError::Stale("comment")),
        }
    }

    /// A page of the article tags in use, most used first.
    pub async fn list_tags(
        &self,
        caller: &Caller,
        prefix: &str,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<TagRecord>, KnowledgeError> {
        self.access.require(caller, ObjectOperation::Read).await?;
        let (reach, _) = self.access.reach(caller).await?;
        self.store.list_tags(&reach, &rules::tag_key(prefix), after, limit).await
    }

    /// Comment `id`, when the caller may read its article; NOT_FOUND otherwise.
    async fn reachable_comment(&self, caller: &Caller, id: &str) -> Result<CommentRecord, KnowledgeError> {
        self.access.require(caller, ObjectOperation::Read).await?;
        let comment = self.store.comment(id, &caller.user_id).await?.ok_or_else(|| comment_not_found(id))?;
        match self.access.require_article(caller, &comment.article_id, ObjectOperation::Read, &[]).await {
            Err(KnowledgeError::NotFound(..)) => Err(comment_not_found(id)),
            reached => reached.map(|()| comment),
        }
    }
}
