-- access-svc storage: portable SQL for PostgreSQL and SQLite (ids TEXT, instants BIGINT
-- milliseconds, flags SMALLINT 0/1). Object codes compare case-insensitively through
-- their lowercased `object_key`. Grantees are stored as kind + id and as the key grants
-- are matched on ("u:<user>" or "r:<role or organization>"). `version` backs the etag;
-- `sort_key` is the keyset position of each list's order.

-- Level 1: the objects available for portal users.
CREATE TABLE portal_objects (
    id                          TEXT PRIMARY KEY,
    code                        TEXT NOT NULL,
    object_key                  TEXT NOT NULL UNIQUE,
    display_name                TEXT NOT NULL,
    record_permissions_enabled  SMALLINT NOT NULL DEFAULT 0 CHECK (record_permissions_enabled IN (0, 1)),
    version                     BIGINT NOT NULL DEFAULT 1,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);

-- The three portal configurations (fixed rows).
CREATE TABLE portal_configurations (
    id          TEXT PRIMARY KEY,
    enabled     SMALLINT NOT NULL CHECK (enabled IN (0, 1)),
    version     BIGINT NOT NULL DEFAULT 1,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE sections (
    id                  TEXT PRIMARY KEY,
    kind                SMALLINT NOT NULL,
    standard_section    SMALLINT NOT NULL,
    configuration_id    TEXT NOT NULL REFERENCES portal_configurations (id),
    code                TEXT NOT NULL,
    code_key            TEXT NOT NULL UNIQUE,
    title               TEXT NOT NULL,
    primary_object_code TEXT NOT NULL,
    primary_object_key  TEXT NOT NULL UNIQUE,
    -- Distinct page object codes, one per line.
    page_object_codes   TEXT NOT NULL,
    page_object_count   BIGINT NOT NULL,
    read_only           SMALLINT NOT NULL CHECK (read_only IN (0, 1)),
    position            BIGINT NOT NULL,
    sort_key            TEXT NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- Level 2: object operation grants. operation 1 create, 2 read, 3 update, 4 delete;
-- effect 1 allow, 2 deny.
CREATE TABLE operation_grants (
    id            TEXT PRIMARY KEY,
    object_code   TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    grantee_kind  TEXT NOT NULL,
    grantee_id    TEXT NOT NULL,
    grantee_key   TEXT NOT NULL,
    operation     SMALLINT NOT NULL,
    effect        SMALLINT NOT NULL,
    priority      BIGINT,
    sort_key      TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (object_key, grantee_key, operation)
);
CREATE INDEX operation_grants_by_grantee ON operation_grants (grantee_key, object_key);

-- Level 4: column grants. level 1 edit, 2 read, 3 hidden.
CREATE TABLE column_grants (
    id            TEXT PRIMARY KEY,
    object_code   TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    column_code   TEXT NOT NULL,
    grantee_kind  TEXT NOT NULL,
    grantee_id    TEXT NOT NULL,
    grantee_key   TEXT NOT NULL,
    level         SMALLINT NOT NULL,
    priority      BIGINT,
    sort_key      TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (object_key, column_code, grantee_key)
);
CREATE INDEX column_grants_by_grantee ON column_grants (grantee_key, object_key);

-- The catalog of system operations and their grants.
CREATE TABLE system_operations (
    code          TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    description   TEXT NOT NULL
);

CREATE TABLE system_operation_grants (
    id              TEXT PRIMARY KEY,
    operation_code  TEXT NOT NULL REFERENCES system_operations (code),
    grantee_kind    TEXT NOT NULL,
    grantee_id      TEXT NOT NULL,
    grantee_key     TEXT NOT NULL,
    effect          SMALLINT NOT NULL,
    priority        BIGINT,
    sort_key        TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (operation_code, grantee_key)
);

CREATE TABLE role_priorities (
    id            TEXT PRIMARY KEY,
    grantee_kind  TEXT NOT NULL,
    grantee_id    TEXT NOT NULL,
    grantee_key   TEXT NOT NULL UNIQUE,
    priority      BIGINT NOT NULL,
    sort_key      TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Level 3: records registered by their owning services, and their grants.
CREATE TABLE records (
    object_key       TEXT NOT NULL,
    record_id        TEXT NOT NULL,
    object_code      TEXT NOT NULL,
    author_user_id   TEXT NOT NULL,
    organization_id  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (object_key, record_id)
);

-- source 1 manual, 2 default rule, 3 service.
CREATE TABLE record_grants (
    id            TEXT PRIMARY KEY,
    object_code   TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    grantee_kind  TEXT NOT NULL,
    grantee_id    TEXT NOT NULL,
    grantee_key   TEXT NOT NULL,
    can_read      SMALLINT NOT NULL CHECK (can_read IN (0, 1)),
    can_edit      SMALLINT NOT NULL CHECK (can_edit IN (0, 1)),
    can_delete    SMALLINT NOT NULL CHECK (can_delete IN (0, 1)),
    source        SMALLINT NOT NULL,
    rule_id       TEXT NOT NULL,
    sort_key      TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (object_key, record_id, grantee_key, source, rule_id)
);
CREATE INDEX record_grants_by_record ON record_grants (object_key, record_id, grantee_key);

-- The change feed of record grants per object (PullRecordGrantChanges).
CREATE TABLE record_grant_revisions (
    object_key  TEXT PRIMARY KEY,
    revision    BIGINT NOT NULL
);

CREATE TABLE record_grant_changes (
    object_key   TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    grant_id     TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    grantee_key  TEXT NOT NULL,
    can_read     SMALLINT NOT NULL,
    can_edit     SMALLINT NOT NULL,
    can_delete   SMALLINT NOT NULL,
    removed      SMALLINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (object_key, revision)
);

-- Default record rules. target_kind 'grantee' (target_grantee_*) or 'author_organization'.
CREATE TABLE default_record_rules (
    id                   TEXT PRIMARY KEY,
    object_code          TEXT NOT NULL,
    object_key           TEXT NOT NULL,
    author_kind          TEXT NOT NULL,
    author_id            TEXT NOT NULL,
    author_key           TEXT NOT NULL,
    target_kind          TEXT NOT NULL,
    target_grantee_kind  TEXT NOT NULL,
    target_grantee_id    TEXT NOT NULL,
    target_key           TEXT NOT NULL,
    can_read             SMALLINT NOT NULL,
    can_edit             SMALLINT NOT NULL,
    can_delete           SMALLINT NOT NULL,
    sort_key             TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (object_key, author_key, target_key)
);

-- Every grant change: who, what, when, before and after (JSON).
CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY,
    occurred_at    BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    before_json    TEXT NOT NULL,
    after_json     TEXT NOT NULL
);
CREATE INDEX audit_events_by_resource ON audit_events (resource_type, resource_id);

-- Creates already answered, so a retried create with the same request_id returns the first result.
CREATE TABLE create_requests (
    resource_type  TEXT NOT NULL,
    actor          TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (resource_type, actor, request_id)
);
