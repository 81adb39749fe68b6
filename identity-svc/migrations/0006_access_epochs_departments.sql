-- Version counters that access-svc puts in its cache keys, and departments of accounts
-- (case-svc selects service agreements by a contact's department).

-- Grows with every change to what permission evaluation reads about a user: memberships,
-- organization, administrator flags, activity, licence.
ALTER TABLE users ADD COLUMN access_epoch BIGINT NOT NULL DEFAULT 1;

-- Counters of the whole directory; 'role_tree' grows whenever a role moves or disappears.
CREATE TABLE directory_epochs (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO directory_epochs (name, value) VALUES ('role_tree', 1);

CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    -- lower(name): department names are unique per account case-insensitively.
    name_key    TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX departments_account_name ON departments (account_id, name_key);

ALTER TABLE contacts ADD COLUMN department_id TEXT REFERENCES departments (id);
ALTER TABLE contacts ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN job_title TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX contacts_account ON contacts (account_id);
