-- The journal of registrations with access-svc of new cases and knowledge-base articles
-- (service_kit::registrations::JOURNAL_DDL, copied as is): an entry is written before a
-- record is registered and settled by the transaction that stores it; one never settled
-- is unregistered by the sweep.
CREATE TABLE access_registrations (
    object_code    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    registered_at  BIGINT NOT NULL,
    abandoned      SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (object_code, record_id)
);
CREATE INDEX access_registrations_by_time ON access_registrations (registered_at);
