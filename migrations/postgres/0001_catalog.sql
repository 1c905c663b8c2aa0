-- Backlot catalog storage (PostgreSQL). Keep in step with ../sqlite/0001_catalog.sql.

-- Registered locations and how their last refresh went.
CREATE TABLE locations (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    target          TEXT NOT NULL,
    origin          TEXT NOT NULL,          -- config | api | demo
    created_at      TEXT NOT NULL,
    last_refresh_at TEXT,
    problems        TEXT NOT NULL DEFAULT '[]',
    UNIQUE (type, target)
);

-- Processed entities (before stitching: relations are derived in memory).
CREATE TABLE entities (
    entity_ref  TEXT PRIMARY KEY,           -- kind:namespace/name, lower case
    uid         TEXT NOT NULL UNIQUE,
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,              -- entity JSON
    hash        TEXT NOT NULL,
    source_file TEXT NOT NULL,
    document    BIGINT NOT NULL,
    line        BIGINT NOT NULL,
    problems    TEXT NOT NULL DEFAULT '[]', -- JSON array of problems found while processing
    updated_at  TEXT NOT NULL
);
CREATE INDEX entities_location ON entities (location_id);

-- Files read for a location: their content hash lets unchanged files be skipped.
CREATE TABLE sources (
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    clean       BIGINT NOT NULL,
    targets     TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (location_id, path)
);
