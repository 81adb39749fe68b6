-- Typed system settings (one row, the settings as JSON), the audit log, and
-- brute-force counters; sessions keep the idle lifetime they were issued with.
CREATE TABLE settings (
    id              SMALLINT PRIMARY KEY CHECK (id = 1),
    body            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL
);

CREATE TABLE audit_events (
    id                TEXT PRIMARY KEY,
    occurred_at       BIGINT NOT NULL,
    actor_kind        TEXT NOT NULL,
    actor_user_id     TEXT NOT NULL,
    actor_session_id  TEXT NOT NULL,
    actor_service     TEXT NOT NULL,
    source            TEXT NOT NULL,
    action            TEXT NOT NULL,
    resource_type     TEXT NOT NULL,
    resource_id       TEXT NOT NULL,
    organization_id   TEXT NOT NULL,
    before_json       TEXT NOT NULL,
    after_json        TEXT NOT NULL,
    request_id        TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (occurred_at, id);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id);

-- Failed logins per account (scope 'account', key = normalised email) and per client
-- address (scope 'address'). Counted with one atomic upsert per failure.
CREATE TABLE login_failures (
    scope            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    failures         BIGINT NOT NULL,
    last_failure_at  BIGINT NOT NULL,
    blocked_until    BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);

ALTER TABLE sessions ADD COLUMN idle_timeout_ms BIGINT NOT NULL DEFAULT 1800000;
