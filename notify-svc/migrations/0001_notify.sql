-- Email templates by code and culture; "en-US" is the last fallback.
CREATE TABLE templates (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    -- Canonical language tag ("en-US", "fr-CA", "fr").
    culture     TEXT NOT NULL,
    -- The built-in code whose macros apply (equal to code for built-in codes).
    base_code   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    body_html   TEXT NOT NULL,
    -- Bumped by every change; the etag.
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (code, culture)
);

-- Client request ids of CreateTemplate, so a retried create does not create twice.
CREATE TABLE template_requests (
    request_id  TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The shipped templates added to this database once; deleting one later sticks.
CREATE TABLE seeded_templates (
    code        TEXT NOT NULL,
    culture     TEXT NOT NULL,
    seeded_at   BIGINT NOT NULL,
    PRIMARY KEY (code, culture)
);

-- The outbox: one row per email, rendered when queued.
CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    idempotency_key   TEXT NOT NULL UNIQUE,
    template_code     TEXT NOT NULL,
    culture           TEXT NOT NULL,
    template_culture  TEXT NOT NULL,
    recipient_email   TEXT NOT NULL,
    -- Lowercased recipient, for filters.
    recipient_key     TEXT NOT NULL,
    recipient_name    TEXT NOT NULL,
    from_address      TEXT NOT NULL,
    subject           TEXT NOT NULL,
    body_text         TEXT NOT NULL,
    body_html         TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    -- 1 queued, 2 sending, 3 delivered, 4 retrying, 5 dead-lettered (the proto's numbers).
    state             SMALLINT NOT NULL,
    attempts          BIGINT NOT NULL,
    -- When a worker should next look at it: the next attempt (queued, retrying) or the end
    -- of the current claim (sending). NULL once delivered or dead-lettered.
    due_at            BIGINT,
    -- The claim a worker holds while sending; a stale claim cannot record a result.
    claim_token       TEXT,
    last_error        TEXT NOT NULL,
    last_smtp_code    BIGINT NOT NULL,
    -- Retries are given up this long after this instant (queued, or retried by hand).
    window_start      BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    delivered_at      BIGINT,
    dead_lettered_at  BIGINT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX deliveries_newest ON deliveries (created_at, id);
CREATE INDEX deliveries_recipient ON deliveries (recipient_key, created_at);

-- Who changed what and when, before and after.
CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY,
    occurred_at   BIGINT NOT NULL,
    actor_user_id TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    before_json   TEXT NOT NULL,
    after_json    TEXT NOT NULL
);
