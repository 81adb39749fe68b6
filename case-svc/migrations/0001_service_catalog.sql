-- The service catalog: what cases are raised against, with SLA times in working minutes.
CREATE TABLE services (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    category                  TEXT NOT NULL CHECK (category IN ('incident', 'service_request', 'consultation')),
    response_time_minutes     BIGINT NOT NULL CHECK (response_time_minutes >= 0),
    resolution_time_minutes   BIGINT NOT NULL CHECK (resolution_time_minutes >= 0),
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
