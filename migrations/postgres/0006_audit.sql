-- The audit log: who did what, when, and how it went (`server/src/audit`). Written in batches by
-- one writer task; rows older than `audit.retention_days` are pruned.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,                -- milliseconds since the epoch (UTC)
    actor TEXT NOT NULL,               -- user:default/alice, guest, system, later service:<name>, token:<id>
    action TEXT NOT NULL,              -- auth.signin, catalog.location.create, policy.reload, …
    target TEXT,                       -- a location or entity reference, a file, an id
    outcome TEXT NOT NULL,             -- allowed | refused | failed
    detail TEXT                        -- the deciding rule, the error
);
-- Newest first, by time alone or for one actor; pruning by time.
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_actor_at ON audit_events (actor, at, id);
