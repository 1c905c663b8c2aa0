-- Scaffolder tasks (`server/src/scaffolder`): one row per run of a template, and its events.
-- A worker owns a task while its heartbeat is fresh (a lease), so replicas never run one twice;
-- a task whose owner stopped beating is failed as interrupted. Secrets are never stored.
CREATE TABLE scaffolder_tasks (
    id TEXT PRIMARY KEY,               -- a UUID
    spec TEXT NOT NULL,                -- JSON, Backstage's TaskSpec: steps, output, parameters, templateInfo, user
    status TEXT NOT NULL,              -- open | processing | completed | failed | cancelled
    created_by TEXT,                   -- user:default/alice; NULL for the guest
    created_at BIGINT NOT NULL,        -- milliseconds since the epoch (UTC)
    last_heartbeat_at BIGINT,          -- ms; the owner's lease, renewed while it runs
    claimed_by TEXT,                   -- the owning worker (process)
    state TEXT,                        -- JSON: each step's status, times and output (where retry resumes)
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX scaffolder_tasks_status ON scaffolder_tasks (status, created_at);
CREATE INDEX scaffolder_tasks_created_by ON scaffolder_tasks (created_by, created_at);

CREATE TABLE scaffolder_task_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES scaffolder_tasks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,          -- log | completion | cancelled | recovered (Backstage's)
    body TEXT NOT NULL,                -- JSON: message, stepId, status, output, error
    created_at BIGINT NOT NULL         -- ms
);
CREATE INDEX scaffolder_task_events_task ON scaffolder_task_events (task_id, id);
