-- Partner types (Reseller, Consultant, Reference, Integrator); base rows cannot be deleted.
CREATE TABLE partner_types (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    base        SMALLINT NOT NULL DEFAULT 0 CHECK (base IN (0, 1)),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
