-- The creation time of each granted case next to its grants (a case-svc extension of the
-- replica of access's record grants), so that a list in creation order reads its page of
-- granted cases from one index instead of fetching every granted case to sort them.
-- Filled when the case is stored or, for grants that arrive later, after each sync;
-- NULL until then (lists read those rows the slow way, so NULL is never wrong).
ALTER TABLE access_record_grants ADD COLUMN record_created_at BIGINT;
CREATE INDEX access_record_grants_by_created
    ON access_record_grants (object_code, grantee_key, can_read, record_created_at, record_id);
CREATE INDEX access_record_grants_unsorted
    ON access_record_grants (object_code, record_id) WHERE record_created_at IS NULL;
