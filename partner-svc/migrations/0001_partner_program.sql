-- Partner programs: the lookups (partner types, levels, parameter categories and types,
-- level parameters), partnerships with their promotions, and the partners' leads,
-- opportunities and trainings. Portable SQL for PostgreSQL and SQLite: ids TEXT,
-- instants BIGINT milliseconds, flags SMALLINT 0/1, decimals as BIGINT hundredths.
--
-- Every lookup table shares the columns the generic lookup storage relies on:
-- id, description, base (shipped rows, never deleted), version (the etag),
-- sort_key (the list order), created_at, updated_at.

CREATE TABLE partner_types (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    base        SMALLINT NOT NULL DEFAULT 0 CHECK (base IN (0, 1)),
    version     BIGINT NOT NULL DEFAULT 1,
    sort_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE partner_levels (
    id              TEXT PRIMARY KEY,
    partner_type_id TEXT NOT NULL REFERENCES partner_types (id),
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    target_points   BIGINT NOT NULL CHECK (target_points >= 1),
    level_order     BIGINT NOT NULL CHECK (level_order >= 1),
    description     TEXT NOT NULL DEFAULT '',
    base            SMALLINT NOT NULL DEFAULT 0 CHECK (base IN (0, 1)),
    version         BIGINT NOT NULL DEFAULT 1,
    sort_key        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (partner_type_id, name_key),
    UNIQUE (partner_type_id, level_order)
);

CREATE TABLE parameter_categories (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    source      TEXT NOT NULL,
    unit        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    base        SMALLINT NOT NULL DEFAULT 0 CHECK (base IN (0, 1)),
    version     BIGINT NOT NULL DEFAULT 1,
    sort_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE parameter_types (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('obligation', 'benefit')),
    description TEXT NOT NULL DEFAULT '',
    base        SMALLINT NOT NULL DEFAULT 0 CHECK (base IN (0, 1)),
    version     BIGINT NOT NULL DEFAULT 1,
    sort_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE level_parameters (
    id                    TEXT PRIMARY KEY,
    partner_level_id      TEXT NOT NULL REFERENCES partner_levels (id),
    partner_type_id       TEXT NOT NULL REFERENCES partner_types (id),
    parameter_category_id TEXT NOT NULL REFERENCES parameter_categories (id),
    parameter_type_id     TEXT NOT NULL REFERENCES parameter_types (id),
    target_value          TEXT NOT NULL DEFAULT '',
    points                BIGINT NOT NULL DEFAULT 0,
    benefit_value         TEXT NOT NULL DEFAULT '',
    description           TEXT NOT NULL DEFAULT '',
    base                  SMALLINT NOT NULL DEFAULT 0 CHECK (base IN (0, 1)),
    version               BIGINT NOT NULL DEFAULT 1,
    sort_key              TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (partner_level_id, parameter_category_id, parameter_type_id)
);

-- Idempotent creates: a request_id seen again (same caller, same kind) returns the first result.
CREATE TABLE create_requests (
    caller_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (caller_id, kind, request_id)
);

CREATE TABLE partnerships (
    id                      TEXT PRIMARY KEY,
    partner_account_id      TEXT NOT NULL UNIQUE,
    partner_organization_id TEXT NOT NULL,
    partner_type_id         TEXT NOT NULL REFERENCES partner_types (id),
    partner_level_id        TEXT REFERENCES partner_levels (id),
    start_date              TEXT NOT NULL,
    due_date                TEXT NOT NULL,
    active                  SMALLINT NOT NULL CHECK (active IN (0, 1)),
    currency_code           TEXT NOT NULL,
    points                  BIGINT NOT NULL DEFAULT 0,
    -- Activity counts from this instant; after a promotion, only events ordered after
    -- counting_after_event (the event that triggered it) at that same instant count.
    counting_since          BIGINT NOT NULL,
    counting_after_event    TEXT NOT NULL DEFAULT '',
    version                 BIGINT NOT NULL DEFAULT 1,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX partnerships_by_creation ON partnerships (created_at, id);

CREATE TABLE promotions (
    id               TEXT PRIMARY KEY,
    partnership_id   TEXT NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    from_level_id    TEXT NOT NULL DEFAULT '',
    from_level_name  TEXT NOT NULL DEFAULT '',
    to_level_id      TEXT NOT NULL DEFAULT '',
    to_level_name    TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL CHECK (kind IN ('automatic', 'manual')),
    points           BIGINT NOT NULL DEFAULT 0,
    reason           TEXT NOT NULL,
    obligations_json TEXT NOT NULL DEFAULT '[]',
    actor_user_id    TEXT NOT NULL DEFAULT '',
    promote_time     BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX promotions_by_partnership ON promotions (partnership_id, promote_time, id);

CREATE TABLE leads (
    id                      TEXT PRIMARY KEY,
    partner_account_id      TEXT NOT NULL,
    partner_organization_id TEXT NOT NULL,
    registered_by_user_id   TEXT NOT NULL,
    company_name            TEXT NOT NULL,
    company_key             TEXT NOT NULL,
    contact_name            TEXT NOT NULL DEFAULT '',
    email                   TEXT NOT NULL DEFAULT '',
    email_domain            TEXT NOT NULL DEFAULT '',
    phone                   TEXT NOT NULL DEFAULT '',
    need_description        TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL,
    disqualification_reason TEXT NOT NULL DEFAULT '',
    duplicate_match         TEXT NOT NULL DEFAULT '',
    activity_seq            BIGINT NOT NULL DEFAULT 0,
    version                 BIGINT NOT NULL DEFAULT 1,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX leads_by_partner ON leads (partner_account_id, created_at, id);
CREATE INDEX leads_by_creation ON leads (created_at, id);
CREATE INDEX leads_by_company ON leads (company_key);
CREATE INDEX leads_by_domain ON leads (email_domain);

CREATE TABLE opportunities (
    id                      TEXT PRIMARY KEY,
    partner_account_id      TEXT NOT NULL,
    partner_organization_id TEXT NOT NULL,
    lead_id                 TEXT REFERENCES leads (id),
    registered_by_user_id   TEXT NOT NULL,
    name                    TEXT NOT NULL,
    customer_name           TEXT NOT NULL DEFAULT '',
    amount_hundredths       BIGINT NOT NULL,
    currency_code           TEXT NOT NULL,
    stage                   TEXT NOT NULL,
    close_state             TEXT NOT NULL,
    close_date              TEXT NOT NULL DEFAULT '',
    close_time              BIGINT,
    close_seq               BIGINT NOT NULL DEFAULT 0,
    version                 BIGINT NOT NULL DEFAULT 1,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX opportunities_by_partner ON opportunities (partner_account_id, created_at, id);
CREATE INDEX opportunities_by_creation ON opportunities (created_at, id);
CREATE INDEX opportunities_by_lead ON opportunities (lead_id);

-- Each partner's activity clock: every registered lead and every opportunity closed
-- takes the next sequence number and an instant never before the last one, in its own
-- transaction (the upsert serialises a partner's activity), so the (instant, sequence)
-- order of events is their commit order and every evaluation sees a prefix of it.
CREATE TABLE partner_activity_clocks (
    partner_account_id TEXT PRIMARY KEY,
    last_at            BIGINT NOT NULL,
    last_seq           BIGINT NOT NULL
);

-- The base lookup rows. The Reseller ladder is the seed's example: 10 leads (40 points)
-- and 100,000 won (40 points) reach Bronze (target 80) with a 10% margin.
INSERT INTO partner_types (id, name, name_key, description, base, sort_key, created_at, updated_at) VALUES
    ('reseller', 'Reseller', 'reseller', 'Resells the company''s products to its own customers.', 1, 'reseller', 0, 0),
    ('consultant', 'Consultant', 'consultant', 'Advises customers and brings opportunities.', 1, 'consultant', 0, 0),
    ('reference', 'Reference', 'reference', 'Recommends the company to prospects.', 1, 'reference', 0, 0),
    ('integrator', 'Integrator', 'integrator', 'Implements and integrates the company''s products.', 1, 'integrator', 0, 0);

INSERT INTO partner_levels (id, partner_type_id, name, name_key, target_points, level_order, base, sort_key, created_at, updated_at) VALUES
    ('reseller-bronze', 'reseller', 'Bronze', 'bronze', 80, 1, 1, 'reseller/0000000001', 0, 0),
    ('reseller-silver', 'reseller', 'Silver', 'silver', 100, 2, 1, 'reseller/0000000002', 0, 0),
    ('reseller-platinum', 'reseller', 'Platinum', 'platinum', 150, 3, 1, 'reseller/0000000003', 0, 0);

INSERT INTO parameter_categories (id, name, name_key, source, unit, base, sort_key, created_at, updated_at) VALUES
    ('leads-number', 'Leads number', 'leads number', 'leads_registered', 'count', 1, 'leads number', 0, 0),
    ('opportunity-amount', 'Opportunity amount', 'opportunity amount', 'opportunity_won_amount', 'amount', 1, 'opportunity amount', 0, 0),
    ('opportunities-won', 'Opportunities won', 'opportunities won', 'opportunities_won', 'count', 1, 'opportunities won', 0, 0),
    ('certified-experts', 'Certified experts', 'certified experts', 'certified_experts', 'count', 1, 'certified experts', 0, 0),
    ('trainings-completed', 'Trainings completed', 'trainings completed', 'trainings_completed', 'count', 1, 'trainings completed', 0, 0),
    ('margin', 'Margin', 'margin', 'none', 'percent', 1, 'margin', 0, 0),
    ('partner-discount', 'Partner discount', 'partner discount', 'none', 'percent', 1, 'partner discount', 0, 0),
    ('marketing-budget', 'Marketing budget', 'marketing budget', 'none', 'amount', 1, 'marketing budget', 0, 0);

INSERT INTO parameter_types (id, name, name_key, role, base, sort_key, created_at, updated_at) VALUES
    ('obligation', 'Obligation', 'obligation', 'obligation', 1, 'obligation', 0, 0),
    ('benefit', 'Benefit', 'benefit', 'benefit', 1, 'benefit', 0, 0);

INSERT INTO level_parameters (id, partner_level_id, partner_type_id, parameter_category_id, parameter_type_id, target_value, points, benefit_value, base, sort_key, created_at, updated_at) VALUES
    ('reseller-bronze-leads', 'reseller-bronze', 'reseller', 'leads-number', 'obligation', '10', 40, '', 1, 'reseller-bronze/1', 0, 0),
    ('reseller-bronze-amount', 'reseller-bronze', 'reseller', 'opportunity-amount', 'obligation', '100000', 40, '', 1, 'reseller-bronze/2', 0, 0),
    ('reseller-bronze-margin', 'reseller-bronze', 'reseller', 'margin', 'benefit', '', 0, '10', 1, 'reseller-bronze/3', 0, 0),
    ('reseller-silver-leads', 'reseller-silver', 'reseller', 'leads-number', 'obligation', '25', 30, '', 1, 'reseller-silver/1', 0, 0),
    ('reseller-silver-amount', 'reseller-silver', 'reseller', 'opportunity-amount', 'obligation', '250000', 50, '', 1, 'reseller-silver/2', 0, 0),
    ('reseller-silver-experts', 'reseller-silver', 'reseller', 'certified-experts', 'obligation', '2', 20, '', 1, 'reseller-silver/3', 0, 0),
    ('reseller-silver-margin', 'reseller-silver', 'reseller', 'margin', 'benefit', '', 0, '15', 1, 'reseller-silver/4', 0, 0),
    ('reseller-platinum-leads', 'reseller-platinum', 'reseller', 'leads-number', 'obligation', '50', 40, '', 1, 'reseller-platinum/1', 0, 0),
    ('reseller-platinum-amount', 'reseller-platinum', 'reseller', 'opportunity-amount', 'obligation', '500000', 70, '', 1, 'reseller-platinum/2', 0, 0),
    ('reseller-platinum-experts', 'reseller-platinum', 'reseller', 'certified-experts', 'obligation', '5', 40, '', 1, 'reseller-platinum/3', 0, 0),
    ('reseller-platinum-margin', 'reseller-platinum', 'reseller', 'margin', 'benefit', '', 0, '20', 1, 'reseller-platinum/4', 0, 0);
