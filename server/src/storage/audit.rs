//! The audit log's table (`audit_events`, migration 0006): batched inserts, the newest-first
//! keyset-paginated query with filters, and pruning by age. Same SQL on SQLite and PostgreSQL.

use super::{Pool, Result, Store};
use sqlx::{QueryBuilder, Row};

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Assigned by the database; ignored on insert.
    pub id: i64,
    /// Milliseconds since the epoch (UTC).
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// `allowed`, `refused` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
}

/// Which events a query asks for; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An action, or with [`AuditFilter::action_prefix`] the start of one (`auth.`).
    pub action: Option<String>,
    pub action_prefix: bool,
    pub outcome: Option<String>,
    pub target: Option<String>,
    /// At or after (ms).
    pub since: Option<i64>,
    /// Before (ms).
    pub until: Option<i64>,
    /// Keyset: only events older than this `(at, id)` (the last one of the previous page).
    pub before: Option<(i64, i64)>,
    pub limit: u32,
}

/// Rows per INSERT statement (7 binds each, well under both databases' limits).
const INSERT_CHUNK: usize = 500;

impl Store {
    /// Writes events in one transaction.
    pub async fn insert_audit_events(&self, rows: &[AuditRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO audit_events (at, actor, action, target, outcome, detail) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.at).push_bind(&r.actor).push_bind(&r.action)
                        .push_bind(&r.target).push_bind(&r.outcome).push_bind(&r.detail);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Events matching `f`, newest first (by time, then id), at most `f.limit`.
    pub async fn audit_events(&self, f: &AuditFilter) -> Result<Vec<AuditRow>> {
        let rows = on_pool!(self, p => {
            let mut qb = QueryBuilder::new(
                "SELECT id, at, actor, action, target, outcome, detail FROM audit_events WHERE 1 = 1",
            );
            if let Some(actor) = &f.actor {
                qb.push(" AND actor = ").push_bind(actor);
            }
            match (&f.action, f.action_prefix) {
                (Some(prefix), true) => {
                    // substr, not LIKE: `_` in a name is no wildcard.
                    let len = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
                    qb.push(" AND substr(action, 1, ").push_bind(len).push(") = ").push_bind(prefix);
                }
                (Some(action), false) => {
                    qb.push(" AND action = ").push_bind(action);
                }
                (None, _) => {}
            }
            if let Some(outcome) = &f.outcome {
                qb.push(" AND outcome = ").push_bind(outcome);
            }
            if let Some(target) = &f.target {
                qb.push(" AND target = ").push_bind(target);
            }
            if let Some(since) = f.since {
                qb.push(" AND at >= ").push_bind(since);
            }
            if let Some(until) = f.until {
                qb.push(" AND at < ").push_bind(until);
            }
            if let Some((at, id)) = f.before {
                qb.push(" AND (at < ").push_bind(at).push(" OR (at = ").push_bind(at)
                    .push(" AND id < ").push_bind(id).push("))");
            }
            qb.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(f.limit));
            qb.build().fetch_all(p).await?.into_iter().map(|r| Ok(AuditRow {
                id: r.try_get(0)?, at: r.try_get(1)?, actor: r.try_get(2)?, action: r.try_get(3)?,
                target: r.try_get(4)?, outcome: r.try_get(5)?, detail: r.try_get(6)?,
            })).collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    /// Deletes events older than `before_ms`; returns how many.
    pub async fn prune_audit_events(&self, before_ms: i64) -> Result<u64> {
        const SQL: &str = "DELETE FROM audit_events WHERE at < $1";
        let n =
            on_pool!(self, p => sqlx::query(SQL).bind(before_ms).execute(p).await?.rows_affected());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_databases;

    fn row(at: i64, actor: &str, action: &str, outcome: &str) -> AuditRow {
        AuditRow {
            id: 0,
            at,
            actor: actor.into(),
            action: action.into(),
            target: Some(format!("t-{at}")),
            outcome: outcome.into(),
            detail: Some("by role admin rule 1 (everything)".into()),
        }
    }

    fn all(limit: u32) -> AuditFilter {
        AuditFilter {
            limit,
            ..AuditFilter::default()
        }
    }

    both_databases!(audit_events_insert_filter_page_and_prune, |db| {
        let s = &db.store;
        let mut rows = Vec::new();
        for i in 0..10 {
            let actor = if i % 2 == 0 {
                "user:default/alice"
            } else {
                "guest"
            };
            let action = ["catalog.location.create", "auth.signin", "auth_x.signin"][i % 3];
            let outcome = if i % 4 == 0 { "refused" } else { "allowed" };
            rows.push(row(1_000 + i as i64, actor, action, outcome));
        }
        // Two events in the same millisecond: the id orders them.
        rows.push(row(1_009, "system", "policy.reload", "allowed"));
        s.insert_audit_events(&rows).await.unwrap();
        s.insert_audit_events(&[]).await.unwrap();

        let got = s.audit_events(&all(100)).await.unwrap();
        assert_eq!(got.len(), 11);
        assert!(got
            .windows(2)
            .all(|w| (w[0].at, w[0].id) > (w[1].at, w[1].id)));
        assert_eq!(
            got[0].actor, "system",
            "the later of two in one millisecond first"
        );
        assert_eq!(got[1].at, 1_009);
        assert_eq!(got[10].target.as_deref(), Some("t-1000"));
        assert_eq!(
            got[10].detail.as_deref(),
            Some("by role admin rule 1 (everything)")
        );

        // Filters.
        let f = AuditFilter {
            actor: Some("user:default/alice".into()),
            ..all(100)
        };
        let alice = s.audit_events(&f).await.unwrap();
        assert_eq!(alice.len(), 5);
        assert!(alice.iter().all(|r| r.actor == "user:default/alice"));
        let f = AuditFilter {
            action: Some("auth.".into()),
            action_prefix: true,
            ..all(100)
        };
        let auth = s.audit_events(&f).await.unwrap();
        assert!(!auth.is_empty() && auth.iter().all(|r| r.action == "auth.signin"));
        let f = AuditFilter {
            action: Some("auth_x.signin".into()),
            ..all(100)
        };
        assert_eq!(s.audit_events(&f).await.unwrap().len(), 3);
        let f = AuditFilter {
            outcome: Some("refused".into()),
            actor: Some("user:default/alice".into()),
            ..all(100)
        };
        let refused: Vec<i64> = s
            .audit_events(&f)
            .await
            .unwrap()
            .iter()
            .map(|r| r.at)
            .collect();
        assert_eq!(refused, vec![1_008, 1_004, 1_000]);
        let f = AuditFilter {
            target: Some("t-1003".into()),
            ..all(100)
        };
        assert_eq!(s.audit_events(&f).await.unwrap().len(), 1);
        let f = AuditFilter {
            since: Some(1_003),
            until: Some(1_006),
            ..all(100)
        };
        let window: Vec<i64> = s
            .audit_events(&f)
            .await
            .unwrap()
            .iter()
            .map(|r| r.at)
            .collect();
        assert_eq!(window, vec![1_005, 1_004, 1_003]);

        // Pages of 4, by keyset: every event once, in order.
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = s
                .audit_events(&AuditFilter { before, ..all(4) })
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 4);
            before = page.last().map(|r| (r.at, r.id));
            seen.extend(page.into_iter().map(|r| r.id));
        }
        let ids: Vec<i64> = got.iter().map(|r| r.id).collect();
        assert_eq!(seen, ids);

        // Prune: everything before 1 005 goes.
        assert_eq!(s.prune_audit_events(1_005).await.unwrap(), 5);
        let left = s.audit_events(&all(100)).await.unwrap();
        assert_eq!(left.len(), 6);
        assert!(left.iter().all(|r| r.at >= 1_005));
    });
}
