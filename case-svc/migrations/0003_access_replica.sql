-- The replica of access-svc's record grants that case lists filter on
-- (service_kit::access::REPLICA_DDL, copied as is).
CREATE TABLE access_record_grants (
    grant_id     TEXT PRIMARY KEY,
    object_code  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    grantee_key  TEXT NOT NULL,
    can_read     SMALLINT NOT NULL,
    can_edit     SMALLINT NOT NULL,
    can_delete   SMALLINT NOT NULL
);
CREATE INDEX access_record_grants_by_grantee ON access_record_grants (object_code, grantee_key, record_id);
CREATE TABLE access_grant_revisions (
    object_code  TEXT PRIMARY KEY,
    revision     BIGINT NOT NULL
);
