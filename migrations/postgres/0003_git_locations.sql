-- Git locations and how every location's refreshes go.
ALTER TABLE locations ADD COLUMN branch TEXT;            -- git: branch read (NULL: the remote's default)
ALTER TABLE locations ADD COLUMN path TEXT;              -- git: path or glob inside the repository
ALTER TABLE locations ADD COLUMN commit_id TEXT;         -- git: commit of the last successful read
ALTER TABLE locations ADD COLUMN last_success_at TEXT;
ALTER TABLE locations ADD COLUMN last_error TEXT;        -- why the last attempt failed (NULL: it did not)
ALTER TABLE locations ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;  -- attempts failed in a row
-- Several processes on one PostgreSQL database: the one holding a location's lease refreshes it.
ALTER TABLE locations ADD COLUMN lease_owner TEXT;
ALTER TABLE locations ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;  -- ms since the epoch
-- Bumped by every write to a location's entities, so other processes notice and reload them.
ALTER TABLE locations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
