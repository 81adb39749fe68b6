-- EmailAuditService lists audit events newest first, optionally of one resource.
CREATE INDEX audit_events_newest ON audit_events (occurred_at, id);
CREATE INDEX audit_events_by_resource ON audit_events (resource_type, resource_id, occurred_at);
