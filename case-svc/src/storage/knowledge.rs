//! The knowledge base's tables: articles and their tags, views, likes and comments,
//! and the request ids of creates. Counters (views, likes, comments) change in the
//! same transaction as the rows they count; likes and views are unique per user, so
//! parallel calls count once. The backend-specific full-text search lives in
//! `knowledge_search`.

use portal_proto::access::RecordFilter;
use service_kit::{
    access::{ListPredicate, list_predicate},
    clock::Millis,
    db::Database,
    paging, registrations, secrets,
};
use sqlx::{AnyConnection, AssertSqlSafe};

use crate::domain::knowledge::{ArticleContent, ArticleFilter, ArticleOrder, KnowledgeError, OBJECT_CODE};

/// The articles a reader reaches: those access's record filter matches (every article,
/// or those authored by the reader or granted to them in the grant replica).
#[derive(Debug, Clone)]
pub struct Reach(pub RecordFilter);

/// A value bound to a numbered placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A statement assembled piece by piece, with its values bound to `$1`, `$2`, … in order
/// (the `Any` driver takes `$n` on both backends).
#[derive(Debug, Default)]
pub struct Statement {
    sql: String,
    binds: Vec<Bind>,
}

impl Statement {
    pub fn new(sql: &str) -> Self {
        Self { sql: sql.to_owned(), binds: Vec::new() }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds a value and returns its placeholder.
    pub fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    pub fn text(&mut self, value: &str) -> String {
        self.bind(Bind::Text(value.to_owned()))
    }

    pub fn int(&mut self, value: i64) -> String {
        self.bind(Bind::Int(value))
    }

    /// The rows the statement selects.
    pub async fn fetch_all<T>(self, connection: &mut AnyConnection) -> Result<Vec<T>, KnowledgeError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut query = sqlx::query_as::<sqlx::Any, T>(AssertSqlSafe(self.sql));
        for bind in self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Int(int) => query.bind(int),
            };
        }
        Ok(query.fetch_all(connection).await?)
    }

    /// Keeps the articles (`a`) the reader reaches.
    pub fn restrict(&mut self, reach: &Reach) -> Result<(), KnowledgeError> {
        match list_predicate(&reach.0, OBJECT_CODE, "a", "id", "created_by", self.binds.len() + 1)? {
            ListPredicate::Everything => {}
            ListPredicate::Nothing => {
                self.push(" AND 1 = 0");
            }
            ListPredicate::Where(predicate) => {
                self.binds.extend(predicate.params.into_iter().map(Bind::Text));
                self.push(&format!(" AND ({})", predicate.sql));
            }
        }
        Ok(())
    }

    /// Filters `a.*` (an article row) by `filter`.
    pub fn filter_articles(&mut self, filter: &ArticleFilter) {
        if !filter.types.is_empty() {
            let codes: Vec<String> = filter.types.iter().map(|t| self.text(t.code())).collect();
            self.push(&format!(" AND a.article_type IN ({})", codes.join(", ")));
        }
        for key in &filter.tag_keys {
            let key = self.text(key);
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM kb_article_tags t WHERE t.article_id = a.id AND t.tag_key = {key})"
            ));
        }
        if !filter.title_contains.is_empty() {
            let escaped = filter.title_contains.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = self.text(&format!("%{escaped}%"));
            self.push(&format!(" AND a.title_key LIKE {pattern} ESCAPE '\\'"));
        }
        for (column, span) in [("a.created_at", filter.created), ("a.updated_at", filter.updated)] {
            if let Some(start) = span.start {
                let start = self.int(start);
                self.push(&format!(" AND {column} >= {start}"));
            }
            if let Some(end) = span.end {
                let end = self.int(end);
                self.push(&format!(" AND {column} < {end}"));
            }
        }
    }

    /// Continues after `after` in the order of `keyset`, then orders and limits.
    pub fn page(&mut self, keyset: &Keyset, after: Option<&Position>, limit: i64) {
        if let Some(after) = after {
            let values: Vec<String> = after.0.iter().map(|v| self.bind(v.clone())).collect();
            let comparison = if keyset.descending { "<" } else { ">" };
            self.push(&format!(" AND ({}) {comparison} ({})", keyset.columns.join(", "), values.join(", ")));
        }
        let direction = if keyset.descending { " DESC" } else { " ASC" };
        let order: Vec<String> = keyset.columns.iter().map(|c| format!("{c}{direction}")).collect();
        let limit = self.int(limit);
        self.push(&format!(" ORDER BY {} LIMIT {limit}", order.join(", ")));
    }
}

/// The columns a list is ordered by (all in one direction, the id last), which its
/// page tokens carry.
#[derive(Debug, Clone)]
pub struct Keyset {
    pub columns: Vec<&'static str>,
    pub descending: bool,
}

impl Keyset {
    /// The keyset of an article list in `order`, over columns of `a` (an article row).
    pub fn of_articles(order: ArticleOrder) -> Self {
        let (columns, descending) = match order {
            ArticleOrder::UpdatedFirst => (vec!["a.updated_at", "a.id"], true),
            ArticleOrder::NewestFirst => (vec!["a.created_at", "a.id"], true),
            ArticleOrder::ByTitle => (vec!["a.title_key", "a.id"], false),
            ArticleOrder::MostViewed => (vec!["a.view_count", "a.id"], true),
            ArticleOrder::MostLiked => (vec!["a.like_count", "a.id"], true),
            ArticleOrder::Popular => (vec!["a.view_count", "a.like_count", "a.updated_at", "a.id"], true),
        };
        Self { columns, descending }
    }
}

/// Where a page ends: the keyset values of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position(pub Vec<Bind>);

impl Position {
    /// The page token for this position of a list whose parameters hash to `fingerprint`.
    pub fn to_token(&self, fingerprint: &str) -> String {
        let values: Vec<serde_json::Value> = self
            .0
            .iter()
            .map(|v| match v {
                Bind::Text(text) => serde_json::Value::from(text.as_str()),
                Bind::Int(int) => serde_json::Value::from(*int),
            })
            .collect();
        paging::text_token(fingerprint, &serde_json::Value::from(values).to_string())
    }

    /// The position a page token carries; refuses a token of another list or other
    /// parameters. `None` for the first page.
    pub fn from_token(token: &str, fingerprint: &str, keyset: &Keyset) -> Result<Option<Self>, KnowledgeError> {
        let wrong = || {
            KnowledgeError::invalid(
                "page_token",
                "is not a token of this list with these parameters; start again without one",
            )
        };
        let Some((token_fingerprint, values)) = paging::text_position(token).map_err(|_| wrong())? else {
            return Ok(None);
        };
        if token_fingerprint != fingerprint {
            return Err(wrong());
        }
        let values: Vec<serde_json::Value> = serde_json::from_str(&values).map_err(|_| wrong())?;
        let values: Option<Vec<Bind>> = values
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(text) => Some(Bind::Text(text)),
                serde_json::Value::Number(n) => n.as_i64().map(Bind::Int),
                _ => None,
            })
            .collect();
        match values {
            Some(values) if values.len() == keyset.columns.len() => Ok(Some(Self(values))),
            _ => Err(wrong()),
        }
    }
}

/// An article row. `body` is empty in lists; `liked_by_me` is 0 or 1 for the reader.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArticleRecord {
    pub id: String,
    pub title: String,
    pub title_key: String,
    pub article_type: String,
    pub body: String,
    pub tags: String,
    pub created_by: String,
    pub created_at: Millis,
    pub modified_by: String,
    pub updated_at: Millis,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub version: i64,
    pub liked_by_me: i64,
}

impl ArticleRecord {
    /// The tags in their stored order.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags.lines().map(str::to_owned).collect()
    }

    /// This row's position in a list ordered by `keyset`.
    pub fn position(&self, keyset: &Keyset, score: i64) -> Position {
        Position(
            keyset
                .columns
                .iter()
                .map(|column| match column.rsplit('.').next().unwrap_or(column) {
                    "updated_at" => Bind::Int(self.updated_at),
                    "created_at" => Bind::Int(self.created_at),
                    "title_key" => Bind::Text(self.title_key.clone()),
                    "view_count" => Bind::Int(self.view_count),
                    "like_count" => Bind::Int(self.like_count),
                    "score" => Bind::Int(score),
                    _ => Bind::Text(self.id.clone()),
                })
                .collect(),
        )
    }
}

/// The columns of [`ArticleRecord`] from `a` (an article row), for the reader bound at
/// `reader`; with `with_body` false the body is left empty.
pub fn article_columns(reader: &str, with_body: bool) -> String {
    let body = if with_body { "a.body" } else { "''" };
    format!(
        "a.id, a.title, a.title_key, a.article_type, {body} AS body, a.tags, a.created_by, a.created_at, \
         a.modified_by, a.updated_at, a.view_count, a.like_count, a.comment_count, a.version, \
         CASE WHEN EXISTS (SELECT 1 FROM kb_article_likes l WHERE l.article_id = a.id AND l.user_id = {reader}) \
         THEN 1 ELSE 0 END AS liked_by_me"
    )
}

/// A comment row; `liked_by_me` is 0 or 1 for the reader.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRecord {
    pub id: String,
    pub article_id: String,
    pub author_user_id: String,
    pub body: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub like_count: i64,
    pub version: i64,
    pub liked_by_me: i64,
}

const COMMENT_COLUMNS: &str = "c.id, c.article_id, c.author_user_id, c.body, c.created_at, c.updated_at, \
     c.like_count, c.version, CASE WHEN EXISTS (SELECT 1 FROM kb_comment_likes l WHERE l.comment_id = c.id \
     AND l.user_id = $1) THEN 1 ELSE 0 END AS liked_by_me";

/// The keyset of comment lists: oldest first.
pub fn comment_keyset() -> Keyset {
    Keyset { columns: vec!["c.created_at", "c.id"], descending: false }
}

/// A tag and how many articles carry it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagRecord {
    pub tag_key: String,
    pub tag: String,
    pub usage_count: i64,
}

/// A create's client request id, remembered for a day per caller and kind.
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a> {
    pub user_id: &'a str,
    pub kind: &'static str,
    pub request_id: &'a str,
}

/// What a conditional change found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<T> {
    Done(T),
    NotFound,
    Stale,
}

/// The outcome of an idempotent create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Created now, with this id.
    New(String),
    /// Created by an earlier call with the same request id.
    Earlier(String),
}

/// The knowledge base's storage.
#[derive(Debug, Clone)]
pub struct KnowledgeStore {
    pub db: Database,
}

impl KnowledgeStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, KnowledgeError> {
        Ok(self.db.pool.acquire().await?)
    }

    /// Claims `key` for a resource about to be created in `tx`; returns the id of the
    /// resource an earlier call created with it, if any. Claiming first makes a
    /// parallel retry wait for, then find, the first call's resource.
    pub async fn claim_request_id(
        connection: &mut AnyConnection,
        key: RequestKey<'_>,
        resource_id: &str,
        now: Millis,
        expired_before: Millis,
    ) -> Result<Option<String>, KnowledgeError> {
        if key.request_id.is_empty() {
            return Ok(None);
        }
        sqlx::query(
            "DELETE FROM kb_request_ids WHERE user_id = $1 AND kind = $2 AND request_id = $3 AND created_at < $4",
        )
        .bind(key.user_id)
        .bind(key.kind)
        .bind(key.request_id)
        .bind(expired_before)
        .execute(&mut *connection)
        .await?;
        let claimed = sqlx::query(
            "INSERT INTO kb_request_ids (user_id, kind, request_id, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(key.user_id)
        .bind(key.kind)
        .bind(key.request_id)
        .bind(resource_id)
        .bind(now)
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(None);
        }
        let earlier: (String,) = sqlx::query_as(
            "SELECT resource_id FROM kb_request_ids WHERE user_id = $1 AND kind = $2 AND request_id = $3",
        )
        .bind(key.user_id)
        .bind(key.kind)
        .bind(key.request_id)
        .fetch_one(&mut *connection)
        .await?;
        Ok(Some(earlier.0))
    }

    /// Writes a new article with its tags, unless `key` was used before.
    pub async fn insert_article(
        &self,
        id: &str,
        content: &ArticleContent,
        author: &str,
        key: RequestKey<'_>,
        now: Millis,
        expired_before: Millis,
    ) -> Result<Created, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        if let Some(earlier) = Self::claim_request_id(&mut tx, key, id, now, expired_before).await? {
            return Ok(Created::Earlier(earlier));
        }
        registrations::settle(&mut tx, OBJECT_CODE, id).await?;
        sqlx::query(
            "INSERT INTO kb_articles (id, title, title_key, article_type, body, tags, created_by, created_at, \
             modified_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8)",
        )
        .bind(id)
        .bind(&content.title)
        .bind(content.title_key())
        .bind(content.article_type.code())
        .bind(&content.body)
        .bind(content.tags.join("\n"))
        .bind(author)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Self::insert_tags(&mut tx, id, &content.tags).await?;
        tx.commit().await?;
        Ok(Created::New(id.to_owned()))
    }

    async fn insert_tags(
        connection: &mut AnyConnection,
        article_id: &str,
        tags: &[String],
    ) -> Result<(), KnowledgeError> {
        for tag in tags {
            sqlx::query("INSERT INTO kb_article_tags (article_id, tag_key, tag) VALUES ($1, $2, $3)")
                .bind(article_id)
                .bind(crate::domain::knowledge::tag_key(tag))
                .bind(tag)
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }

    /// One article with its body, as `reader` sees it.
    pub async fn article(&self, id: &str, reader: &str) -> Result<Option<ArticleRecord>, KnowledgeError> {
        let mut statement = Statement::new("");
        let reader = statement.text(reader);
        let id = statement.text(id);
        statement.push(&format!("SELECT {} FROM kb_articles a WHERE a.id = {id}", article_columns(&reader, true)));
        Ok(statement.fetch_all(&mut *self.connection().await?).await?.into_iter().next())
    }

    /// Counts a view of `reader` unless they had one counted since `window_start`.
    pub async fn count_view(
        &self,
        article_id: &str,
        reader: &str,
        now: Millis,
        window_start: Millis,
    ) -> Result<(), KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let counted = sqlx::query(
            "INSERT INTO kb_article_views (article_id, user_id, viewed_at) SELECT id, $2, $3 FROM kb_articles \
             WHERE id = $1 ON CONFLICT (article_id, user_id) DO UPDATE SET viewed_at = excluded.viewed_at \
             WHERE kb_article_views.viewed_at <= $4",
        )
        .bind(article_id)
        .bind(reader)
        .bind(now)
        .bind(window_start)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if counted == 1 {
            sqlx::query("UPDATE kb_articles SET view_count = view_count + 1 WHERE id = $1")
                .bind(article_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of articles matching every filter, in `order`, for `reader`.
    pub async fn list_articles(
        &self,
        reader: &str,
        reach: &Reach,
        filters: &[ArticleFilter],
        order: ArticleOrder,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<ArticleRecord>, KnowledgeError> {
        let mut statement = Statement::new("");
        let reader = statement.text(reader);
        statement.push(&format!("SELECT {} FROM kb_articles a WHERE 1 = 1", article_columns(&reader, false)));
        statement.restrict(reach)?;
        for filter in filters {
            statement.filter_articles(filter);
        }
        statement.page(&Keyset::of_articles(order), after, limit);
        statement.fetch_all(&mut *self.connection().await?).await
    }

    /// Replaces an article's content if its version is still `version`.
    pub async fn update_article(
        &self,
        id: &str,
        version: i64,
        content: &ArticleContent,
        modified_by: &str,
        now: Millis,
    ) -> Result<Change<()>, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let updated = sqlx::query(
            "UPDATE kb_articles SET title = $3, title_key = $4, article_type = $5, body = $6, tags = $7, \
             modified_by = $8, updated_at = $9, version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .bind(&content.title)
        .bind(content.title_key())
        .bind(content.article_type.code())
        .bind(&content.body)
        .bind(content.tags.join("\n"))
        .bind(modified_by)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Self::missing_or_stale(&mut tx, "kb_articles", id).await;
        }
        sqlx::query("DELETE FROM kb_article_tags WHERE article_id = $1").bind(id).execute(&mut *tx).await?;
        Self::insert_tags(&mut tx, id, &content.tags).await?;
        tx.commit().await?;
        Ok(Change::Done(()))
    }

    /// Tells a conditional change that touched nothing apart: no row, or another version.
    async fn missing_or_stale<T>(
        connection: &mut AnyConnection,
        table: &'static str,
        id: &str,
    ) -> Result<Change<T>, KnowledgeError> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE id = $1");
        let (count,): (i64,) = sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_one(&mut *connection).await?;
        Ok(if count == 0 { Change::NotFound } else { Change::Stale })
    }

    /// Deletes an article (its tags, likes, views, comments and files go with it) if its version
    /// is `version` (any version when `None`).
    pub async fn delete_article(&self, id: &str, version: Option<i64>) -> Result<Change<()>, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let deleted = sqlx::query("DELETE FROM kb_articles WHERE id = $1 AND ($2 < 0 OR version = $2)")
            .bind(id)
            .bind(version.unwrap_or(-1))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Self::missing_or_stale(&mut tx, "kb_articles", id).await;
        }
        sqlx::query("DELETE FROM attachments WHERE parent_kind = 'article' AND parent_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Change::Done(()))
    }

    /// Likes (or with `like` false, unlikes) an article for `user`; returns its likes
    /// after the call, `None` when there is no such article. The like's primary key
    /// makes a repeated or parallel like count once.
    pub async fn set_article_like(
        &self,
        article_id: &str,
        user: &str,
        like: bool,
        now: Millis,
    ) -> Result<Option<i64>, KnowledgeError> {
        self.set_like(LikeTarget::ARTICLE, article_id, user, like, now).await
    }

    /// As [`Self::set_article_like`], for a comment.
    pub async fn set_comment_like(
        &self,
        comment_id: &str,
        user: &str,
        like: bool,
        now: Millis,
    ) -> Result<Option<i64>, KnowledgeError> {
        self.set_like(LikeTarget::COMMENT, comment_id, user, like, now).await
    }

    async fn set_like(
        &self,
        target: LikeTarget,
        id: &str,
        user: &str,
        like: bool,
        now: Millis,
    ) -> Result<Option<i64>, KnowledgeError> {
        let LikeTarget { table, likes, key } = target;
        let mut tx = self.db.begin().await?;
        let (changed, delta) = if like {
            let sql = format!(
                "INSERT INTO {likes} ({key}, user_id, created_at) SELECT id, $2, $3 FROM {table} WHERE id = $1 \
                 ON CONFLICT DO NOTHING"
            );
            (sqlx::query(AssertSqlSafe(sql)).bind(id).bind(user).bind(now).execute(&mut *tx).await?, "+ 1")
        } else {
            let sql = format!("DELETE FROM {likes} WHERE {key} = $1 AND user_id = $2");
            (sqlx::query(AssertSqlSafe(sql)).bind(id).bind(user).execute(&mut *tx).await?, "- 1")
        };
        let changed = changed.rows_affected();
        if changed == 1 {
            sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET like_count = like_count {delta} WHERE id = $1")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let count: Option<(i64,)> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT like_count FROM {table} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(count.map(|(c,)| c))
    }

    /// Posts a comment on an existing article, unless `key` was used before; `None`
    /// when the article does not exist.
    pub async fn insert_comment(
        &self,
        article_id: &str,
        author: &str,
        body: &str,
        key: RequestKey<'_>,
        now: Millis,
        expired_before: Millis,
    ) -> Result<Option<Created>, KnowledgeError> {
        let id = secrets::new_id();
        let mut tx = self.db.begin().await?;
        if let Some(earlier) = Self::claim_request_id(&mut tx, key, &id, now, expired_before).await? {
            return Ok(Some(Created::Earlier(earlier)));
        }
        let inserted = sqlx::query(
            "INSERT INTO kb_comments (id, article_id, author_user_id, body, created_at, updated_at) \
             SELECT $1, id, $3, $4, $5, $5 FROM kb_articles WHERE id = $2",
        )
        .bind(&id)
        .bind(article_id)
        .bind(author)
        .bind(body)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        sqlx::query("UPDATE kb_articles SET comment_count = comment_count + 1 WHERE id = $1")
            .bind(article_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Created::New(id)))
    }

    /// One comment, as `reader` sees it.
    pub async fn comment(&self, id: &str, reader: &str) -> Result<Option<CommentRecord>, KnowledgeError> {
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM kb_comments c WHERE c.id = $2");
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(reader).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// A page of an article's comments, oldest first.
    pub async fn list_comments(
        &self,
        article_id: &str,
        reader: &str,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<CommentRecord>, KnowledgeError> {
        let mut statement = Statement::new("");
        statement.text(reader);
        let article = statement.text(article_id);
        statement.push(&format!("SELECT {COMMENT_COLUMNS} FROM kb_comments c WHERE c.article_id = {article}"));
        statement.page(&comment_keyset(), after, limit);
        statement.fetch_all(&mut *self.connection().await?).await
    }

    /// Replaces a comment's body if its version is still `version`.
    pub async fn update_comment(
        &self,
        id: &str,
        version: i64,
        body: &str,
        now: Millis,
    ) -> Result<Change<()>, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let updated = sqlx::query(
            "UPDATE kb_comments SET body = $3, updated_at = $4, version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .bind(body)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Self::missing_or_stale(&mut tx, "kb_comments", id).await;
        }
        tx.commit().await?;
        Ok(Change::Done(()))
    }

    /// Deletes a comment if its version is still `version`, and uncounts it.
    pub async fn delete_comment(&self, id: &str, version: i64) -> Result<Change<()>, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let deleted: Option<(String,)> =
            sqlx::query_as("DELETE FROM kb_comments WHERE id = $1 AND version = $2 RETURNING article_id")
                .bind(id)
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((article_id,)) = deleted else {
            return Self::missing_or_stale(&mut tx, "kb_comments", id).await;
        };
        sqlx::query("UPDATE kb_articles SET comment_count = comment_count - 1 WHERE id = $1")
            .bind(article_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Change::Done(()))
    }

    /// A page of the tags in use on the articles the reader reaches, starting with
    /// `prefix` (lowercase), most used first, then by key.
    pub async fn list_tags(
        &self,
        reach: &Reach,
        prefix: &str,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<TagRecord>, KnowledgeError> {
        let mut statement = Statement::new("");
        let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = statement.text(&format!("{escaped}%"));
        statement.push(&format!(
            "SELECT * FROM (SELECT t.tag_key, MIN(t.tag) AS tag, COUNT(*) AS usage_count FROM kb_article_tags t \
             JOIN kb_articles a ON a.id = t.article_id WHERE t.tag_key LIKE {pattern} ESCAPE '\\'"
        ));
        statement.restrict(reach)?;
        statement.push(" GROUP BY t.tag_key) s WHERE 1 = 1");
        if let Some(Position(values)) = after
            && let [Bind::Int(count), Bind::Text(key)] = values.as_slice()
        {
            let count = statement.int(*count);
            let key = statement.text(key);
            statement
                .push(&format!(" AND (s.usage_count < {count} OR (s.usage_count = {count} AND s.tag_key > {key}))"));
        }
        let limit = statement.int(limit);
        statement.push(&format!(" ORDER BY s.usage_count DESC, s.tag_key ASC LIMIT {limit}"));
        statement.fetch_all(&mut *self.connection().await?).await
    }
}

/// A likeable table, its likes table and the likes' key column.
#[derive(Debug, Clone, Copy)]
struct LikeTarget {
    table: &'static str,
    likes: &'static str,
    key: &'static str,
}

impl LikeTarget {
    const ARTICLE: Self = Self { table: "kb_articles", likes: "kb_article_likes", key: "article_id" };
    const COMMENT: Self = Self { table: "kb_comments", likes: "kb_comment_likes", key: "comment_id" };
}
