-- The service catalog: what cases are raised against, with SLA times in working minutes.
CREATE TABLE services (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    name_key                  TEXT NOT NULL,
    description               TEXT NOT NULL DEFAULT '',
    category                  TEXT NOT NULL CHECK (category IN ('incident', 'service_request', 'consultation')),
    response_time_minutes     BIGINT NOT NULL CHECK (response_time_minutes > 0),
    resolution_time_minutes   BIGINT NOT NULL CHECK (resolution_time_minutes > 0),
    active                    SMALLINT NOT NULL DEFAULT 1,
    version                   BIGINT NOT NULL DEFAULT 1,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE INDEX services_by_name ON services (name_key, id);

-- Working-time calendars; weekly hours and holidays are kept as one JSON definition,
-- read whole for every calculation.
CREATE TABLE calendars (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    time_zone   TEXT NOT NULL,
    definition  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Service agreements: services covered for a contact, a department or an account.
CREATE TABLE service_agreements (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    object_kind   TEXT CHECK (object_kind IN ('contact', 'department', 'account')),
    object_id     TEXT,
    calendar_id   TEXT NOT NULL REFERENCES calendars (id),
    status        TEXT NOT NULL CHECK (status IN ('draft', 'active', 'inactive')),
    is_default    SMALLINT NOT NULL DEFAULT 0,
    description   TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX one_default_agreement ON service_agreements (is_default) WHERE is_default = 1;
CREATE INDEX agreements_by_object ON service_agreements (object_kind, object_id);

CREATE TABLE agreement_services (
    agreement_id  TEXT NOT NULL REFERENCES service_agreements (id) ON DELETE CASCADE,
    service_id    TEXT NOT NULL REFERENCES services (id),
    PRIMARY KEY (agreement_id, service_id)
);

-- Retried creates: the resource a (caller, request id) pair created.
CREATE TABLE create_requests (
    caller_id    TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (caller_id, kind, request_id)
);
