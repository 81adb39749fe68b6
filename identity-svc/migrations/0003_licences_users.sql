-- Licence products (their seat pools come from configuration) and the seats users hold.
-- A seat is taken with one conditional UPDATE (used_seats < total_seats), so parallel
-- assignments can never oversell a pool.
CREATE TABLE licence_products (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    edition       TEXT NOT NULL CHECK (edition IN ('self_service', 'customer', 'partner')),
    deployment    TEXT NOT NULL CHECK (deployment IN ('cloud', 'on_site')),
    total_seats   BIGINT NOT NULL CHECK (total_seats >= 0),
    used_seats    BIGINT NOT NULL DEFAULT 0 CHECK (used_seats >= 0)
);

CREATE TABLE licence_assignments (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL UNIQUE REFERENCES users (id),
    licence_product_id  TEXT NOT NULL REFERENCES licence_products (id),
    assigned_at         BIGINT NOT NULL,
    assigned_by         TEXT NOT NULL
);
CREATE INDEX licence_assignments_product ON licence_assignments (licence_product_id, assigned_at);

ALTER TABLE users ADD COLUMN origin TEXT NOT NULL DEFAULT 'bootstrap';
ALTER TABLE users ADD COLUMN home_page TEXT NOT NULL DEFAULT 'MainPage';
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Client request ids of creates, so that a retried create returns the first result.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    request_key  TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, request_key)
);
