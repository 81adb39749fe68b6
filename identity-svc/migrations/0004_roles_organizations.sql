-- Accounts (customer and partner companies), the role tree with its built-in roots,
-- portal organizations (roles of kind 'organization' bound to one account each), and
-- direct role memberships of users.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('customer', 'partner')),
    phone       TEXT NOT NULL DEFAULT '',
    web         TEXT NOT NULL DEFAULT '',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE roles (
    id                          TEXT PRIMARY KEY,
    display_name                TEXT NOT NULL,
    -- lower(display_name): sibling names are unique case-insensitively.
    name_key                    TEXT NOT NULL,
    kind                        TEXT NOT NULL CHECK (kind IN ('organizational', 'organization', 'functional')),
    user_kind                   TEXT NOT NULL CHECK (user_kind IN ('employee', 'external')),
    parent_id                   TEXT REFERENCES roles (id),
    -- The organization the role belongs to (its own id for an organization's role).
    organization_id             TEXT,
    well_known                  TEXT NOT NULL DEFAULT '',
    description                 TEXT NOT NULL DEFAULT '',
    -- Organizations only: the bound account (one organization per account).
    account_id                  TEXT UNIQUE REFERENCES accounts (id),
    default_licence_product_id  TEXT,
    version                     BIGINT NOT NULL DEFAULT 1,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_sibling_name ON roles (COALESCE(parent_id, ''), name_key);
CREATE INDEX roles_parent ON roles (parent_id);
CREATE INDEX roles_organization ON roles (organization_id);

CREATE TABLE role_user_members (
    role_id     TEXT NOT NULL REFERENCES roles (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (role_id, user_id)
);
CREATE INDEX role_user_members_user ON role_user_members (user_id);

ALTER TABLE users ADD COLUMN organization_administrator SMALLINT NOT NULL DEFAULT 0
    CHECK (organization_administrator IN (0, 1));
CREATE INDEX users_organization ON users (organization_id);

INSERT INTO roles (id, display_name, name_key, kind, user_kind, parent_id, well_known, created_at, updated_at) VALUES
    ('all-external-users', 'All external users', 'all external users', 'organizational', 'external', NULL, 'all_external_users', 0, 0),
    ('all-employees', 'All employees', 'all employees', 'organizational', 'employee', NULL, 'all_employees', 0, 0),
    ('partners', 'Partners', 'partners', 'organizational', 'external', NULL, 'partners', 0, 0),
    ('partner-portal-users', 'Partner portal users', 'partner portal users', 'functional', 'external', NULL, 'partner_portal_users', 0, 0);
