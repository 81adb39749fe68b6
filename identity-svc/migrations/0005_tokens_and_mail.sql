-- One-time tokens of emailed links (invitation, registration confirmation, password
-- recovery), the invitations and pending registrations they belong to, and identity's
-- own mail outbox, relayed to notify-svc.

-- Only the SHA-256 of a token is stored. A token is consumed with one conditional
-- UPDATE (consumed_at IS NULL AND revoked_at IS NULL), so of two concurrent uses one wins.
CREATE TABLE tokens (
    id                TEXT PRIMARY KEY,
    digest            TEXT NOT NULL UNIQUE,
    purpose           TEXT NOT NULL CHECK (purpose IN ('invitation', 'confirmation', 'recovery')),
    -- The user the token acts for; NULL for a registration confirmation (no user yet).
    user_id           TEXT REFERENCES users (id),
    -- The address the link was sent to, normalised: a changed email voids the link.
    email_normalized  TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    consumed_at       BIGINT,
    revoked_at        BIGINT,
    revoke_reason     TEXT
);
CREATE INDEX tokens_user ON tokens (user_id, purpose);
CREATE INDEX tokens_email ON tokens (email_normalized, purpose);

-- An invitation is its token (same id) plus what the API shows about it. Its state is
-- derived: consumed = accepted, revoked = revoked, past expires_at = expired.
CREATE TABLE invitations (
    id                  TEXT PRIMARY KEY REFERENCES tokens (id),
    user_id             TEXT NOT NULL REFERENCES users (id),
    email               TEXT NOT NULL,
    organization_id     TEXT NOT NULL,
    sent_by_user_id     TEXT NOT NULL,
    password_generated  SMALLINT NOT NULL DEFAULT 0 CHECK (password_generated IN (0, 1)),
    replaced_by         TEXT,
    outbox_id           TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX invitations_time ON invitations (created_at, id);
CREATE INDEX invitations_user ON invitations (user_id);

-- A registration waiting for its confirmation (same id as its token). Only the
-- password's argon2id hash is kept.
CREATE TABLE registrations (
    id                TEXT PRIMARY KEY REFERENCES tokens (id),
    email             TEXT NOT NULL,
    email_normalized  TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    culture           TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);

-- Emails to hand to notify-svc, written in the transaction of the change that causes
-- them. The relay calls NotifyInternalService.Enqueue with the row id in the
-- idempotency key until it succeeds, then forgets the macro values (they hold links).
CREATE TABLE mail_outbox (
    id               TEXT PRIMARY KEY,
    recipient_email  TEXT NOT NULL,
    recipient_name   TEXT NOT NULL,
    culture          TEXT NOT NULL,
    template_code    TEXT NOT NULL,
    macro_values     TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    -- Relay bookkeeping, in wall-clock milliseconds.
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    relayed_at       BIGINT,
    delivery_id      TEXT NOT NULL DEFAULT '',
    failed_at        BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE relayed_at IS NULL AND failed_at IS NULL;
