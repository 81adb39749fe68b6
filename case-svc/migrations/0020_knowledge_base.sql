-- The knowledge base: articles, their tags, views, likes and comments, and users' folders
-- (saved filters of the list sections). The full-text index differs per backend
-- (PostgreSQL tsvector + GIN, SQLite FTS5) and is created by
-- storage::knowledge_search::prepare, which picks by backend.

-- Articles. `title_key` is the title lowercased (filters and ordering by title); `tags`
-- holds the display spellings, one per line, sorted case-insensitively, and feeds the
-- full-text index; the counters are kept in the transactions that change them.
CREATE TABLE kb_articles (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    title_key      TEXT NOT NULL,
    article_type   TEXT NOT NULL,
    body           TEXT NOT NULL,
    tags           TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    modified_by    TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    view_count     BIGINT NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    like_count     BIGINT NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count  BIGINT NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX kb_articles_updated ON kb_articles (updated_at, id);
CREATE INDEX kb_articles_created ON kb_articles (created_at, id);
CREATE INDEX kb_articles_title ON kb_articles (title_key, id);
CREATE INDEX kb_articles_popular ON kb_articles (view_count, like_count, updated_at, id);

-- One row per tag of an article, by its lowercased key (tag filters and tag counts).
CREATE TABLE kb_article_tags (
    article_id  TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    tag_key     TEXT NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (article_id, tag_key)
);
CREATE INDEX kb_article_tags_key ON kb_article_tags (tag_key, article_id);

-- One like per user and article: the primary key makes liking idempotent under concurrency.
CREATE TABLE kb_article_likes (
    article_id  TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

-- The last counted view of each user and article (a view counts at most once a day).
CREATE TABLE kb_article_views (
    article_id  TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    viewed_at   BIGINT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

CREATE TABLE kb_comments (
    id              TEXT PRIMARY KEY,
    article_id      TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    author_user_id  TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    like_count      BIGINT NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX kb_comments_article ON kb_comments (article_id, created_at, id);

CREATE TABLE kb_comment_likes (
    comment_id  TEXT NOT NULL REFERENCES kb_comments (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (comment_id, user_id)
);

-- Client request ids of knowledge-base creates (articles, comments, folders), per caller,
-- so that a retried create returns the first result.
CREATE TABLE kb_request_ids (
    user_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind, request_id)
);

-- Personal folders (saved filters) of the list sections. `parent_id` is '' for a root
-- folder so that the unique name rule holds for roots too; `filter` is the stored
-- CaseFilter or ArticleFilter, protobuf-encoded in base64 ('' for none).
CREATE TABLE folders (
    id             TEXT PRIMARY KEY,
    owner_user_id  TEXT NOT NULL,
    section        TEXT NOT NULL CHECK (section IN ('cases', 'knowledge_base')),
    parent_id      TEXT NOT NULL,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    filter         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    UNIQUE (owner_user_id, section, parent_id, name_key)
);
