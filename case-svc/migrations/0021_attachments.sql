-- Files attached to cases, case messages and knowledge-base articles. The content is
-- kept in 256 KiB pieces, base64 text so that one portable schema serves PostgreSQL and
-- SQLite; a file and its pieces are written in one transaction, so nothing is stored
-- unless the whole upload succeeded.
CREATE TABLE attachments (
    id                TEXT PRIMARY KEY,
    parent_kind       TEXT NOT NULL CHECK (parent_kind IN ('case', 'message', 'article')),
    parent_id         TEXT NOT NULL,
    message_case_id   TEXT NOT NULL DEFAULT '',
    file_name         TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    size_bytes        BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256            TEXT NOT NULL,
    uploader_user_id  TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX attachments_parent ON attachments (parent_kind, parent_id, created_at, id);

CREATE TABLE attachment_chunks (
    attachment_id  TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL,
    data           TEXT NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
