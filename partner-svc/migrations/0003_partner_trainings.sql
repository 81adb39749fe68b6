-- Trainings completed and certifications held by partners' people (identity contacts).
CREATE TABLE partner_trainings (
    id                 TEXT PRIMARY KEY,
    partner_account_id TEXT NOT NULL,
    contact_id         TEXT NOT NULL,
    contact_name       TEXT NOT NULL DEFAULT '',
    title              TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('training', 'certification')),
    completion_date    TEXT NOT NULL,
    expiry_date        TEXT NOT NULL DEFAULT '',
    version            BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX partner_trainings_by_partner ON partner_trainings (partner_account_id, completion_date, id);
