-- The objects available for portal users: the first level of every access check.
CREATE TABLE portal_objects (
    code                        TEXT PRIMARY KEY,
    display_name                TEXT NOT NULL,
    record_permissions_enabled  SMALLINT NOT NULL DEFAULT 0 CHECK (record_permissions_enabled IN (0, 1)),
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
