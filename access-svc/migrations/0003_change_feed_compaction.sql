-- Change-feed compaction: changes older than the retention that no longer describe a
-- current grant are dropped; a puller behind the highest dropped revision must start
-- again from 0 (PullRecordGrantChanges answers REVISION_COMPACTED).
ALTER TABLE record_grant_revisions ADD COLUMN compacted_through BIGINT NOT NULL DEFAULT 0;

CREATE INDEX record_grant_changes_by_grant ON record_grant_changes (object_key, grant_id, revision);
CREATE INDEX record_grant_changes_by_age ON record_grant_changes (object_key, created_at);
