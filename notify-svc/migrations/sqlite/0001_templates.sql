-- Email templates by code and culture; English is the fallback culture.
CREATE TABLE templates (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    culture     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    body_html   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (code, culture)
);
