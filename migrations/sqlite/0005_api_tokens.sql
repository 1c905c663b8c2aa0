-- API tokens for CI and scripts (`Authorization: Bearer blt_…`). Only the SHA-256 (hex) of a
-- token is stored: it is shown once, when it is made, and cannot be read back from here.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,               -- the user's entity ref: user:default/alice
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,              -- space-separated: read locations refresh templates
    created_at BIGINT NOT NULL,        -- seconds since the epoch
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,               -- written at most once a minute
    revoked_at BIGINT
);
CREATE INDEX api_tokens_owner ON api_tokens (owner);
