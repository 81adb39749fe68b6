-- Case settings (a singleton) and the case number sequence, advanced in the create
-- transaction so that numbers are unique and never reused.
CREATE TABLE case_settings (
    id                    SMALLINT PRIMARY KEY CHECK (id = 1),
    number_prefix         TEXT NOT NULL,
    number_width          INTEGER NOT NULL,
    max_attachment_bytes  BIGINT NOT NULL,
    sla_warning_percent   INTEGER NOT NULL,
    default_calendar_id   TEXT REFERENCES calendars (id),
    version               BIGINT NOT NULL DEFAULT 1,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE case_sequence (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    last_value  BIGINT NOT NULL
);
INSERT INTO case_sequence (id, last_value) VALUES (1, 0);

-- Cases with their two SLA clocks (response_*, resolution_*) as stored columns so due
-- events are found by index.
CREATE TABLE cases (
    id                        TEXT PRIMARY KEY,
    number                    TEXT NOT NULL UNIQUE,
    number_key                TEXT NOT NULL,
    sequence                  BIGINT NOT NULL,
    subject                   TEXT NOT NULL,
    description               TEXT NOT NULL,
    status                    TEXT NOT NULL,
    category                  TEXT NOT NULL,
    service_id                TEXT REFERENCES services (id),
    agreement_id              TEXT REFERENCES service_agreements (id),
    candidate_ids             TEXT NOT NULL DEFAULT '',
    author_user_id            TEXT NOT NULL,
    contact_id                TEXT NOT NULL DEFAULT '',
    account_id                TEXT NOT NULL DEFAULT '',
    organization_id           TEXT NOT NULL DEFAULT '',
    owner_group_id            TEXT NOT NULL DEFAULT '',
    assignee_user_id          TEXT NOT NULL DEFAULT '',
    priority                  INTEGER NOT NULL,
    tags                      TEXT NOT NULL DEFAULT '',
    calendar_id               TEXT NOT NULL DEFAULT '',
    response_target           BIGINT NOT NULL,
    response_state            TEXT NOT NULL,
    response_deadline         BIGINT,
    response_frozen_ms        BIGINT NOT NULL,
    response_carried_ms       BIGINT NOT NULL DEFAULT 0,
    response_breached         SMALLINT NOT NULL DEFAULT 0,
    response_warning_due      BIGINT,
    response_breach_due       BIGINT,
    resolution_target         BIGINT NOT NULL,
    resolution_state          TEXT NOT NULL,
    resolution_deadline       BIGINT,
    resolution_frozen_ms      BIGINT NOT NULL,
    resolution_carried_ms     BIGINT NOT NULL DEFAULT 0,
    resolution_breached       SMALLINT NOT NULL DEFAULT 0,
    resolution_warning_due    BIGINT,
    resolution_breach_due     BIGINT,
    first_response_at         BIGINT,
    first_resolution_at       BIGINT,
    actual_resolution_at      BIGINT,
    closed_at                 BIGINT,
    closure_reason            TEXT NOT NULL DEFAULT '',
    solution                  TEXT NOT NULL DEFAULT '',
    feedback_level            INTEGER NOT NULL DEFAULT 0,
    feedback_notes            TEXT NOT NULL DEFAULT '',
    feedback_user_id          TEXT NOT NULL DEFAULT '',
    feedback_at               BIGINT,
    version                   BIGINT NOT NULL DEFAULT 1,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE INDEX cases_by_author ON cases (author_user_id, created_at, id);
CREATE INDEX cases_by_created ON cases (created_at, id);
CREATE INDEX cases_by_organization ON cases (organization_id, created_at, id);
CREATE INDEX cases_response_warning ON cases (response_warning_due);
CREATE INDEX cases_response_breach ON cases (response_breach_due);
CREATE INDEX cases_resolution_warning ON cases (resolution_warning_due);
CREATE INDEX cases_resolution_breach ON cases (resolution_breach_due);

-- Everything that happened to a case, oldest first by (at, seq).
CREATE TABLE case_history (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    at              BIGINT NOT NULL,
    actor_user_id   TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL,
    from_status     TEXT NOT NULL DEFAULT '',
    to_status       TEXT NOT NULL DEFAULT '',
    closure_reason  TEXT NOT NULL DEFAULT '',
    changes         TEXT NOT NULL DEFAULT '[]',
    comment         TEXT NOT NULL DEFAULT '',
    related_id      TEXT NOT NULL DEFAULT '',
    sla_clock       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_history_by_case ON case_history (case_id, at, id);

CREATE TABLE case_messages (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    author_user_id  TEXT NOT NULL,
    author_kind     TEXT NOT NULL,
    body            TEXT NOT NULL,
    is_complaint    SMALLINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX case_messages_by_case ON case_messages (case_id, created_at, id);

-- Email asked for by case events, committed with the event and relayed to notify-svc
-- (idempotent by row id); the recipient's address and culture are looked up when relaying.
CREATE TABLE case_mail_outbox (
    id                 TEXT PRIMARY KEY,
    template_code      TEXT NOT NULL,
    recipient_user_id  TEXT NOT NULL,
    macro_values       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    sent_at          BIGINT,
    last_error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_mail_outbox_due ON case_mail_outbox (sent_at, next_attempt_at);
