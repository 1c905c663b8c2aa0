//! Scaffolder tasks and their events (`scaffolder_tasks`, `scaffolder_task_events`, migration
//! 0007). A worker claims an open task with one conditional `UPDATE … RETURNING` (two replicas
//! racing for the same row: one wins, the other's update matches nothing), owns it while its
//! heartbeat is fresh, and writes the outcome only while it still owns it. Same SQL on SQLite
//! and PostgreSQL. Approvals (`scaffolder_approvals`, migration 0008) park a task as `waiting`,
//! claimed by no worker, until a decision reopens or fails it, in the same transaction.
//! `scaffolder` decides what the rows mean.

use super::{Pool, Result, Store};
use sqlx::Row;

/// One task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: String,
    /// JSON: Backstage's `TaskSpec`.
    pub spec: String,
    /// `open`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    pub created_by: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub last_heartbeat_at: Option<i64>,
    pub claimed_by: Option<String>,
    /// JSON: each step's state (where a retry resumes).
    pub state: Option<String>,
    pub cancel_requested: bool,
}

/// One event of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEventRow {
    pub id: i64,
    pub task_id: String,
    /// `log`, `completion`, `cancelled` or `recovered`.
    pub event_type: String,
    /// JSON.
    pub body: String,
    pub created_at: i64,
}

/// Which tasks a list asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub created_by: Option<String>,
    pub status: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

const COLUMNS: &str = "id, spec, status, created_by, created_at, last_heartbeat_at, claimed_by, state, cancel_requested";

trait RowLike {
    fn task_row(&self) -> std::result::Result<TaskRow, sqlx::Error>;
    fn event_row(&self) -> std::result::Result<TaskEventRow, sqlx::Error>;
}

macro_rules! row_like {
    ($row:ty) => {
        impl RowLike for $row {
            fn task_row(&self) -> std::result::Result<TaskRow, sqlx::Error> {
                Ok(TaskRow {
                    id: self.try_get(0)?,
                    spec: self.try_get(1)?,
                    status: self.try_get(2)?,
                    created_by: self.try_get(3)?,
                    created_at: self.try_get(4)?,
                    last_heartbeat_at: self.try_get(5)?,
                    claimed_by: self.try_get(6)?,
                    state: self.try_get(7)?,
                    cancel_requested: self.try_get(8)?,
                })
            }
            fn event_row(&self) -> std::result::Result<TaskEventRow, sqlx::Error> {
                Ok(TaskEventRow {
                    id: self.try_get(0)?,
                    task_id: self.try_get(1)?,
                    event_type: self.try_get(2)?,
                    body: self.try_get(3)?,
                    created_at: self.try_get(4)?,
                })
            }
        }
    };
}
row_like!(sqlx::sqlite::SqliteRow);
row_like!(sqlx::postgres::PgRow);

impl Store {
    /// Stores a new task (open, or already claimed when `claimed_by` is set: a task with secrets
    /// runs where they are, in memory).
    pub async fn insert_task(&self, t: &TaskRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO scaffolder_tasks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        on_pool!(self, p => { sqlx::query(&sql)
            .bind(&t.id).bind(&t.spec).bind(&t.status).bind(&t.created_by).bind(t.created_at)
            .bind(t.last_heartbeat_at).bind(&t.claimed_by).bind(&t.state).bind(t.cancel_requested)
            .execute(p).await?; });
        Ok(())
    }

    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>> {
        let sql = format!("SELECT {COLUMNS} FROM scaffolder_tasks WHERE id = $1");
        let found = on_pool!(self, p => sqlx::query(&sql).bind(id).fetch_optional(p).await?
            .map(|r| r.task_row()).transpose()?);
        Ok(found)
    }

    /// Tasks newest first, and how many match in all.
    pub async fn tasks(&self, f: &TaskFilter) -> Result<(Vec<TaskRow>, i64)> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(by) = &f.created_by {
            binds.push(by.clone());
            conditions.push(format!("created_by = ${}", binds.len()));
        }
        if let Some(status) = &f.status {
            binds.push(status.clone());
            conditions.push(format!("status = ${}", binds.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let list = format!(
            "SELECT {COLUMNS} FROM scaffolder_tasks{filter} ORDER BY created_at DESC, id LIMIT {} OFFSET {}",
            f.limit, f.offset
        );
        let count = format!("SELECT COUNT(*) FROM scaffolder_tasks{filter}");
        let (rows, total) = on_pool!(self, p => {
            let mut q = sqlx::query(&list);
            let mut c = sqlx::query_scalar::<_, i64>(&count);
            for b in &binds {
                q = q.bind(b);
                c = c.bind(b);
            }
            let rows = q.fetch_all(p).await?.iter().map(|r| r.task_row())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            (rows, c.fetch_one(p).await?)
        });
        Ok((rows, total))
    }

    /// Claims the oldest open task for `worker`; `None` when there is none (or another worker
    /// took it first).
    pub async fn claim_open_task(&self, worker: &str, now: i64) -> Result<Option<TaskRow>> {
        let sql = format!(
            "UPDATE scaffolder_tasks SET status = 'processing', claimed_by = $1, last_heartbeat_at = $2 \
             WHERE id = (SELECT id FROM scaffolder_tasks WHERE status = 'open' ORDER BY created_at, id LIMIT 1) \
             AND status = 'open' RETURNING {COLUMNS}"
        );
        let claimed = on_pool!(self, p => sqlx::query(&sql).bind(worker).bind(now)
            .fetch_optional(p).await?.map(|r| r.task_row()).transpose()?);
        Ok(claimed)
    }

    /// Renews `worker`'s lease on a task it runs and saves its step state; false when the task
    /// is no longer its own (failed as interrupted meanwhile). Says whether a cancel was asked.
    pub async fn task_heartbeat(
        &self,
        id: &str,
        worker: &str,
        now: i64,
        state: &str,
    ) -> Result<Option<bool>> {
        let sql = "UPDATE scaffolder_tasks SET last_heartbeat_at = $1, state = $2 \
                   WHERE id = $3 AND claimed_by = $4 AND status = 'processing' RETURNING cancel_requested";
        let cancel = on_pool!(self, p => sqlx::query_scalar::<_, bool>(sql)
            .bind(now).bind(state).bind(id).bind(worker).fetch_optional(p).await?);
        Ok(cancel)
    }

    /// Ends a task `worker` owns with `status` and its final state; false when it no longer
    /// owns it.
    pub async fn finish_task(
        &self,
        id: &str,
        worker: &str,
        status: &str,
        state: &str,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE scaffolder_tasks SET status = $1, state = $2, last_heartbeat_at = $3 \
                   WHERE id = $4 AND claimed_by = $5 AND status = 'processing'";
        let n = on_pool!(self, p => sqlx::query(sql).bind(status).bind(state).bind(now).bind(id)
            .bind(worker).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Asks a task to stop: an open or waiting one is cancelled at once (true; a pending
    /// approval with it), a processing one is told through its heartbeat. `None` when there is
    /// no such task or it has ended.
    pub async fn request_task_cancel(&self, id: &str) -> Result<Option<bool>> {
        let cancelled_now = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE scaffolder_tasks SET status = 'cancelled' WHERE id = $1 AND status IN ('open', 'waiting')")
                .bind(id).execute(&mut *tx).await?.rows_affected();
            sqlx::query(
                "UPDATE scaffolder_approvals SET status = 'cancelled' WHERE task_id = $1 AND status = 'pending'")
                .bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            n
        });
        if cancelled_now == 1 {
            return Ok(Some(true));
        }
        let asked = on_pool!(self, p => sqlx::query(
            "UPDATE scaffolder_tasks SET cancel_requested = TRUE WHERE id = $1 AND status = 'processing'")
            .bind(id).execute(p).await?.rows_affected());
        Ok((asked == 1).then_some(false))
    }

    /// Opens an ended task again (`failed` or `cancelled`) to run from its saved state, claimed by
    /// `worker` when given; false when the task is not in a state that can be retried.
    pub async fn reopen_task(&self, id: &str, worker: Option<&str>, now: i64) -> Result<bool> {
        let status = if worker.is_some() {
            "processing"
        } else {
            "open"
        };
        let n = on_pool!(self, p => sqlx::query(
            "UPDATE scaffolder_tasks SET status = $1, claimed_by = $2, last_heartbeat_at = $3, cancel_requested = FALSE \
             WHERE id = $4 AND status IN ('failed', 'cancelled')")
            .bind(status).bind(worker).bind(now).bind(id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Fails every processing task whose owner has not beaten since `stale_before` (the process
    /// stopped): the tasks so ended, with their saved state.
    pub async fn fail_stale_tasks(&self, stale_before: i64) -> Result<Vec<TaskRow>> {
        let sql = format!(
            "UPDATE scaffolder_tasks SET status = 'failed' \
             WHERE status = 'processing' AND (last_heartbeat_at IS NULL OR last_heartbeat_at < $1) \
             RETURNING {COLUMNS}"
        );
        let rows = on_pool!(self, p => sqlx::query(&sql).bind(stale_before).fetch_all(p).await?
            .iter().map(|r| r.task_row()).collect::<std::result::Result<Vec<_>, _>>()?);
        Ok(rows)
    }

    /// Appends an event; its id.
    pub async fn insert_task_event(
        &self,
        task_id: &str,
        event_type: &str,
        body: &str,
        now: i64,
    ) -> Result<i64> {
        let sql = "INSERT INTO scaffolder_task_events (task_id, event_type, body, created_at) \
                   VALUES ($1, $2, $3, $4) RETURNING id";
        let id = on_pool!(self, p => sqlx::query_scalar::<_, i64>(sql).bind(task_id)
            .bind(event_type).bind(body).bind(now).fetch_one(p).await?);
        Ok(id)
    }

    /// A task's events after the event `after` (all of them without it), oldest first.
    pub async fn task_events(
        &self,
        task_id: &str,
        after: Option<i64>,
    ) -> Result<Vec<TaskEventRow>> {
        let sql = "SELECT id, task_id, event_type, body, created_at FROM scaffolder_task_events \
                   WHERE task_id = $1 AND id > $2 ORDER BY id";
        let rows = on_pool!(self, p => sqlx::query(sql).bind(task_id).bind(after.unwrap_or(0))
            .fetch_all(p).await?.iter().map(|r| r.event_row())
            .collect::<std::result::Result<Vec<_>, _>>()?);
        Ok(rows)
    }
}

/// An approval asked by a task's `backlot:approval` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub task_id: String,
    pub step_id: String,
    /// JSON array of entity references (users and groups).
    pub approvers: String,
    pub message: String,
    pub requested_by: Option<String>,
    pub requested_at: i64,
    pub expires_at: Option<i64>,
    /// `pending`, `approved`, `rejected`, `expired` or `cancelled` (with its task).
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
}

const APPROVAL_COLUMNS: &str = "task_id, step_id, approvers, message, requested_by, requested_at, \
     expires_at, status, decided_by, decided_at, reason";

macro_rules! approval_row {
    ($r:expr) => {
        ApprovalRow {
            task_id: $r.try_get(0)?,
            step_id: $r.try_get(1)?,
            approvers: $r.try_get(2)?,
            message: $r.try_get(3)?,
            requested_by: $r.try_get(4)?,
            requested_at: $r.try_get(5)?,
            expires_at: $r.try_get(6)?,
            status: $r.try_get(7)?,
            decided_by: $r.try_get(8)?,
            decided_at: $r.try_get(9)?,
            reason: $r.try_get(10)?,
        }
    };
}

impl Store {
    /// The approval of a task's step, if one was asked.
    pub async fn approval(&self, task_id: &str, step_id: &str) -> Result<Option<ApprovalRow>> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM scaffolder_approvals WHERE task_id = $1 AND step_id = $2"
        );
        let found = on_pool!(self, p => match sqlx::query(&sql).bind(task_id).bind(step_id)
        .fetch_optional(p).await? {
            Some(r) => Some(approval_row!(r)),
            None => None,
        });
        Ok(found)
    }

    /// Every approval task `task_id` asked for.
    pub async fn approvals_of(&self, task_id: &str) -> Result<Vec<ApprovalRow>> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM scaffolder_approvals WHERE task_id = $1 ORDER BY requested_at"
        );
        let rows = on_pool!(self, p => {
            let mut out = Vec::new();
            for r in sqlx::query(&sql).bind(task_id).fetch_all(p).await? {
                out.push(approval_row!(r));
            }
            out
        });
        Ok(rows)
    }

    /// Approvals with this status (all without one), oldest first; at most `limit`.
    pub async fn approvals(&self, status: Option<&str>, limit: u32) -> Result<Vec<ApprovalRow>> {
        let (filter, status) = match status {
            Some(s) => ("status = $2", s),
            None => ("$2 = $2", ""),
        };
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM scaffolder_approvals \
             WHERE {filter} ORDER BY requested_at, task_id, step_id LIMIT $1"
        );
        let rows = on_pool!(self, p => {
            let mut out = Vec::new();
            for r in sqlx::query(&sql).bind(i64::from(limit)).bind(status).fetch_all(p).await? {
                out.push(approval_row!(r));
            }
            out
        });
        Ok(rows)
    }

    /// Asks for an approval and parks the task (`waiting`, claimed by no worker) in one
    /// transaction, while `worker` still owns it; false when it no longer does. An earlier
    /// request for the same step is replaced.
    pub async fn request_approval(
        &self,
        a: &ApprovalRow,
        worker: &str,
        state: &str,
    ) -> Result<bool> {
        let insert = format!(
            "INSERT INTO scaffolder_approvals ({APPROVAL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let parked = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE scaffolder_tasks SET status = 'waiting', claimed_by = NULL, state = $1 \
                 WHERE id = $2 AND claimed_by = $3 AND status = 'processing'")
                .bind(state).bind(&a.task_id).bind(worker).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM scaffolder_approvals WHERE task_id = $1 AND step_id = $2")
                    .bind(&a.task_id).bind(&a.step_id).execute(&mut *tx).await?;
                sqlx::query(&insert)
                    .bind(&a.task_id).bind(&a.step_id).bind(&a.approvers).bind(&a.message)
                    .bind(&a.requested_by).bind(a.requested_at).bind(a.expires_at).bind(&a.status)
                    .bind(&a.decided_by).bind(a.decided_at).bind(&a.reason)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n == 1
        });
        Ok(parked)
    }

    /// Decides a pending approval (`approved`, `rejected` or `expired`) and moves its waiting
    /// task on in one transaction: approved, the task is open again (any worker resumes it), or
    /// with `claim_for` already claimed by that worker (it holds the task's secrets); otherwise
    /// it is failed. False when the approval was not pending (decided already).
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_approval(
        &self,
        task_id: &str,
        step_id: &str,
        status: &str,
        decided_by: Option<&str>,
        reason: Option<&str>,
        now: i64,
        claim_for: Option<&str>,
    ) -> Result<bool> {
        let task_status = match (status, claim_for) {
            ("approved", Some(_)) => "processing",
            ("approved", None) => "open",
            _ => "failed",
        };
        let decided = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE scaffolder_approvals SET status = $1, decided_by = $2, decided_at = $3, reason = $4 \
                 WHERE task_id = $5 AND step_id = $6 AND status = 'pending'")
                .bind(status).bind(decided_by).bind(now).bind(reason).bind(task_id).bind(step_id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                sqlx::query(
                    "UPDATE scaffolder_tasks SET status = $1, last_heartbeat_at = $2, claimed_by = $3 \
                     WHERE id = $4 AND status = 'waiting'")
                    .bind(task_status).bind(now).bind(claim_for).bind(task_id)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n == 1
        });
        Ok(decided)
    }

    /// Pending approvals whose time ran out before `now`.
    pub async fn expired_approvals(&self, now: i64) -> Result<Vec<ApprovalRow>> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM scaffolder_approvals \
             WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at < $1"
        );
        let rows = on_pool!(self, p => {
            let mut out = Vec::new();
            for r in sqlx::query(&sql).bind(now).fetch_all(p).await? {
                out.push(approval_row!(r));
            }
            out
        });
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_databases;

    fn task(id: &str, by: Option<&str>, at: i64) -> TaskRow {
        TaskRow {
            id: id.into(),
            spec: r#"{"steps":[]}"#.into(),
            status: "open".into(),
            created_by: by.map(str::to_string),
            created_at: at,
            last_heartbeat_at: None,
            claimed_by: None,
            state: None,
            cancel_requested: false,
        }
    }

    fn approval(task: &str, expires_at: Option<i64>) -> ApprovalRow {
        ApprovalRow {
            task_id: task.into(),
            step_id: "approve".into(),
            approvers: r#"["group:default/leads"]"#.into(),
            message: "Ship it?".into(),
            requested_by: Some("user:default/alice".into()),
            requested_at: 100,
            expires_at,
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            reason: None,
        }
    }

    both_databases!(
        approvals_park_tasks_until_decided_expired_or_cancelled,
        |db| {
            let store = &db.store;
            for id in ["a", "b", "c"] {
                store
                    .insert_task(&task(id, Some("user:default/alice"), 1))
                    .await
                    .unwrap();
                let claimed = store
                    .claim_open_task("w1", 10)
                    .await
                    .unwrap()
                    .expect("claimed");
                assert_eq!(claimed.id, id);
            }
            // Only the owner parks its task.
            assert!(!store
                .request_approval(&approval("a", None), "w2", "{}")
                .await
                .unwrap());
            assert!(store
                .request_approval(&approval("a", None), "w1", r#"{"x":1}"#)
                .await
                .unwrap());
            assert!(store
                .request_approval(&approval("b", Some(500)), "w1", "{}")
                .await
                .unwrap());
            assert!(store
                .request_approval(&approval("c", None), "w1", "{}")
                .await
                .unwrap());
            let a = store.task("a").await.unwrap().unwrap();
            assert_eq!(
                (a.status.as_str(), a.claimed_by.as_deref()),
                ("waiting", None)
            );
            assert_eq!(a.state.as_deref(), Some(r#"{"x":1}"#));
            // A waiting task is not claimed, nor failed as stale.
            assert!(store.claim_open_task("w3", 20).await.unwrap().is_none());
            assert!(store.fail_stale_tasks(i64::MAX).await.unwrap().is_empty());
            assert_eq!(store.approvals(Some("pending"), 10).await.unwrap().len(), 3);

            // Approved once: the task is open for any worker; a second decision changes nothing.
            assert!(store
                .decide_approval(
                    "a",
                    "approve",
                    "approved",
                    Some("user:default/bob"),
                    Some("fine"),
                    200,
                    None
                )
                .await
                .unwrap());
            assert!(!store
                .decide_approval(
                    "a",
                    "approve",
                    "rejected",
                    Some("user:default/carol"),
                    None,
                    201,
                    None
                )
                .await
                .unwrap());
            let decided = store.approval("a", "approve").await.unwrap().unwrap();
            assert_eq!(decided.status, "approved");
            assert_eq!(decided.decided_by.as_deref(), Some("user:default/bob"));
            assert_eq!(decided.reason.as_deref(), Some("fine"));
            assert_eq!(store.task("a").await.unwrap().unwrap().status, "open");
            assert_eq!(
                store.claim_open_task("w3", 30).await.unwrap().unwrap().id,
                "a"
            );

            // Expired: found after its time, then failed with its task.
            assert!(store.expired_approvals(400).await.unwrap().is_empty());
            let expired = store.expired_approvals(600).await.unwrap();
            assert_eq!(
                expired
                    .iter()
                    .map(|a| a.task_id.as_str())
                    .collect::<Vec<_>>(),
                ["b"]
            );
            assert!(store
                .decide_approval("b", "approve", "expired", None, None, 600, None)
                .await
                .unwrap());
            assert_eq!(store.task("b").await.unwrap().unwrap().status, "failed");

            // Cancelled while waiting: at once, with its approval.
            assert_eq!(store.request_task_cancel("c").await.unwrap(), Some(true));
            assert_eq!(store.task("c").await.unwrap().unwrap().status, "cancelled");
            assert_eq!(
                store
                    .approval("c", "approve")
                    .await
                    .unwrap()
                    .unwrap()
                    .status,
                "cancelled"
            );
            assert!(store
                .approvals(Some("pending"), 10)
                .await
                .unwrap()
                .is_empty());
            assert_eq!(store.approvals(None, 10).await.unwrap().len(), 3);
        }
    );

    both_databases!(tasks_are_claimed_once_beaten_ended_and_recovered, |db| {
        let s = &db.store;
        s.insert_task(&task("t1", Some("user:default/alice"), 10))
            .await
            .expect("insert");
        s.insert_task(&task("t2", None, 20)).await.expect("insert");
        s.insert_task(&task("t3", Some("user:default/alice"), 30))
            .await
            .expect("insert");

        // The oldest open task, claimed once.
        let a = s
            .claim_open_task("w1", 100)
            .await
            .expect("claim")
            .expect("t1");
        assert_eq!((a.id.as_str(), a.status.as_str()), ("t1", "processing"));
        assert_eq!(a.claimed_by.as_deref(), Some("w1"));
        let b = s
            .claim_open_task("w2", 100)
            .await
            .expect("claim")
            .expect("t2");
        assert_eq!(b.id, "t2");

        // Lists: newest first, filtered, counted.
        let (mine, total) = s
            .tasks(&TaskFilter {
                created_by: Some("user:default/alice".into()),
                limit: 1,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!((mine[0].id.as_str(), total), ("t3", 2));
        let (processing, total) = s
            .tasks(&TaskFilter {
                status: Some("processing".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(total, 2);
        assert_eq!(processing.len(), 2);

        // Only the owner beats and ends it; a cancel reaches it through the heartbeat.
        assert_eq!(
            s.task_heartbeat("t1", "w2", 110, "{}").await.expect("beat"),
            None
        );
        assert_eq!(
            s.task_heartbeat("t1", "w1", 110, r#"{"n":1}"#)
                .await
                .expect("beat"),
            Some(false)
        );
        assert_eq!(
            s.request_task_cancel("t1").await.expect("cancel"),
            Some(false)
        );
        assert_eq!(
            s.task_heartbeat("t1", "w1", 120, "{}").await.expect("beat"),
            Some(true)
        );
        assert!(!s
            .finish_task("t1", "w2", "completed", "{}", 130)
            .await
            .expect("finish"));
        assert!(s
            .finish_task("t1", "w1", "cancelled", "{}", 130)
            .await
            .expect("finish"));
        // An open task is cancelled at once; an ended one cannot be.
        assert_eq!(
            s.request_task_cancel("t3").await.expect("cancel"),
            Some(true)
        );
        assert_eq!(s.request_task_cancel("t3").await.expect("cancel"), None);
        assert_eq!(s.request_task_cancel("nope").await.expect("cancel"), None);

        // w2 stopped beating: its task is failed as stale, then no longer its own.
        let stale = s.fail_stale_tasks(105).await.expect("stale");
        assert_eq!(
            stale.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["t2"]
        );
        assert!(!s
            .finish_task("t2", "w2", "completed", "{}", 140)
            .await
            .expect("finish"));
        // Retried: open again for any worker, or claimed at once by one.
        assert!(s.reopen_task("t2", None, 150).await.expect("reopen"));
        assert!(!s.reopen_task("t2", None, 150).await.expect("not ended"));
        assert_eq!(
            s.claim_open_task("w3", 160)
                .await
                .expect("claim")
                .map(|t| t.id),
            Some("t2".into())
        );
        assert!(s.reopen_task("t1", Some("w4"), 170).await.expect("reopen"));
        let t1 = s.task("t1").await.expect("get").expect("t1");
        assert_eq!(
            (
                t1.status.as_str(),
                t1.claimed_by.as_deref(),
                t1.cancel_requested
            ),
            ("processing", Some("w4"), false)
        );
        assert!(s.claim_open_task("w5", 180).await.expect("claim").is_none());

        // Events in order, after a cursor.
        let e1 = s
            .insert_task_event("t1", "log", r#"{"message":"a"}"#, 1)
            .await
            .expect("event");
        let e2 = s
            .insert_task_event("t1", "completion", r#"{"message":"b"}"#, 2)
            .await
            .expect("event");
        assert!(e2 > e1);
        let all = s.task_events("t1", None).await.expect("events");
        assert_eq!(
            all.iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
            ["log", "completion"]
        );
        let after = s.task_events("t1", Some(e1)).await.expect("events");
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].body, r#"{"message":"b"}"#);
        assert!(s.task_events("t2", None).await.expect("events").is_empty());
    });

    both_databases!(two_workers_racing_never_claim_the_same_task, |db| {
        let s = &db.store;
        for i in 0..20 {
            s.insert_task(&task(&format!("t{i:02}"), None, i))
                .await
                .expect("insert");
        }
        let claim_all = |worker: &'static str| {
            let s = s.clone();
            async move {
                let mut got = Vec::new();
                while let Some(t) = s.claim_open_task(worker, 1).await.expect("claim") {
                    got.push(t.id);
                }
                got
            }
        };
        let (a, b) = tokio::join!(claim_all("a"), claim_all("b"));
        let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 20, "{a:?} {b:?}");
        assert_eq!(a.len() + b.len(), 20, "none twice: {a:?} {b:?}");
    });
}
