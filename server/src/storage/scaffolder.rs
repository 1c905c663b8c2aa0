//! Scaffolder tasks and their events (`scaffolder_tasks`, `scaffolder_task_events`, migration
//! 0007). A worker claims an open task with one conditional `UPDATE … RETURNING` (two replicas
//! racing for the same row: one wins, the other's update matches nothing), owns it while its
//! heartbeat is fresh, and writes the outcome only while it still owns it. Same SQL on SQLite
//! and PostgreSQL. `scaffolder` decides what the rows mean.

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

    /// Asks a task to stop: an open one is cancelled at once (true), a processing one is told
    /// through its heartbeat. `None` when there is no such task or it has ended.
    pub async fn request_task_cancel(&self, id: &str) -> Result<Option<bool>> {
        let cancelled_now = on_pool!(self, p => sqlx::query(
            "UPDATE scaffolder_tasks SET status = 'cancelled' WHERE id = $1 AND status = 'open'")
            .bind(id).execute(p).await?.rows_affected());
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
