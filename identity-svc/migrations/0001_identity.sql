-- Contacts, users and sessions: what the authentication path needs.
CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    full_name   TEXT NOT NULL,
    email       TEXT NOT NULL,
    account_id  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX contacts_email ON contacts (lower(email));

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    contact_id            TEXT NOT NULL REFERENCES contacts (id),
    email                 TEXT NOT NULL,
    -- The username: the email trimmed and lowercased. One email, one user.
    email_normalized      TEXT NOT NULL UNIQUE,
    kind                  TEXT NOT NULL CHECK (kind IN ('employee', 'external')),
    organization_id       TEXT,
    system_administrator  SMALLINT NOT NULL DEFAULT 0 CHECK (system_administrator IN (0, 1)),
    active                SMALLINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- argon2id in PHC format; NULL until the user sets a password.
    password_hash         TEXT,
    culture               TEXT NOT NULL DEFAULT 'en-US',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    -- SHA-256 of the token; the token itself is never stored.
    token_digest   TEXT NOT NULL UNIQUE,
    user_id        TEXT NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    end_reason     TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
