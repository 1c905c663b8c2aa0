-- Approvals of scaffolder tasks (`backlot:approval`): a task that reaches an approval step
-- waits (status `waiting`, claimed by no worker) until one of the approvers decides, or the
-- request expires. One row per task and step; the decision, who made it, when and why.
CREATE TABLE scaffolder_approvals (
    task_id TEXT NOT NULL REFERENCES scaffolder_tasks (id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    approvers TEXT NOT NULL,           -- JSON array of entity references (users and groups)
    message TEXT NOT NULL,
    requested_by TEXT,                 -- the task's creator; NULL for the guest
    requested_at BIGINT NOT NULL,      -- ms since the epoch (UTC)
    expires_at BIGINT,                 -- ms; NULL: never
    status TEXT NOT NULL,              -- pending | approved | rejected | expired | cancelled
    decided_by TEXT,                   -- user:default/bob
    decided_at BIGINT,
    reason TEXT,
    PRIMARY KEY (task_id, step_id)
);
CREATE INDEX scaffolder_approvals_status ON scaffolder_approvals (status, expires_at);
