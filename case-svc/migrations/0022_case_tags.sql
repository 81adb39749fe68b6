-- Case tags one row per (case, tag), written with the case's row, so the tags in use over
-- the cases a caller may read are one grouped query (TagService.ListTags). The case row's
-- comma-separated `tags` stays the value cases are read with.
CREATE TABLE case_tags (
    case_id  TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (case_id, tag)
);
CREATE INDEX case_tags_tag ON case_tags (tag, case_id);

-- Existing tags, split one character at a time (portable: no split function is common to
-- PostgreSQL and SQLite); a tag is complete where the rest starts with its comma.
WITH RECURSIVE walk (case_id, rest, tag) AS (
    SELECT id, tags || ',', CAST('' AS TEXT) FROM cases WHERE tags <> ''
    UNION ALL
    SELECT case_id, SUBSTR(rest, 2),
           CASE WHEN SUBSTR(rest, 1, 1) = ',' THEN CAST('' AS TEXT) ELSE tag || SUBSTR(rest, 1, 1) END
    FROM walk WHERE rest <> ''
)
INSERT INTO case_tags (case_id, tag)
SELECT DISTINCT case_id, tag FROM walk WHERE SUBSTR(rest, 1, 1) = ',' AND tag <> '';
