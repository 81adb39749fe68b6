-- Uploads in progress: their content is staged here a 256 KiB piece at a time as it
-- arrives (base64, as attachment_chunks), so no upload is ever held whole in memory. The
-- transaction that stores the finished file moves its pieces to attachment_chunks; the
-- pieces of an upload that never finished are deleted when it fails, or by the sweep.
CREATE TABLE attachment_upload_chunks (
    upload_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
CREATE INDEX attachment_upload_chunks_by_time ON attachment_upload_chunks (created_at);
