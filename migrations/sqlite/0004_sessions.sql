-- Sign-in sessions (tower-sessions). A session id is stored only as its SHA-256 (hex), so the
-- table cannot be used to take over a session.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    data TEXT NOT NULL,                -- the session's values as JSON
    expires_at BIGINT NOT NULL         -- seconds since the epoch
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
