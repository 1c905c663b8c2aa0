//! Scorecards' daily history (`scorecard_history`): per scorecard and owner, the entities at
//! each level on the days they changed. The scorecards' service decides what to write
//! (`scorecards::history`); this only stores and reads rows.

use super::{Pool, Result, Store};
use sqlx::Row;

/// One scorecard's counts for one owner on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardDay {
    pub scorecard: String,
    /// The owner's reference, lower case.
    pub owner_ref: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Entities by level reached: "no level" first, then each level lowest first.
    pub counts: Vec<u32>,
}

fn counts_text(counts: &[u32]) -> String {
    counts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_counts(text: &str) -> std::result::Result<Vec<u32>, sqlx::Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|n| n.trim().parse::<u32>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Decode(format!("scorecard_history.counts {text:?}: {e}").into()))
}

/// The rows of a query selecting scorecard, owner_ref, day, counts, from either database.
macro_rules! day_rows {
    ($found:expr) => {
        $found
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(ScorecardDay {
                    scorecard: r.try_get(0)?,
                    owner_ref: r.try_get(1)?,
                    day: r.try_get(2)?,
                    counts: parse_counts(&r.try_get::<String, _>(3)?)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
    };
}

impl Store {
    /// Writes days (a day written again is replaced), in one transaction.
    pub async fn write_scorecard_days(&self, rows: &[ScorecardDay]) -> Result<()> {
        const SQL: &str = "INSERT INTO scorecard_history (scorecard, owner_ref, day, counts) VALUES ($1, $2, $3, $4) ON CONFLICT (scorecard, owner_ref, day) DO UPDATE SET counts = excluded.counts";
        if rows.is_empty() {
            return Ok(());
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for r in rows {
                sqlx::query(SQL)
                    .bind(&r.scorecard)
                    .bind(&r.owner_ref)
                    .bind(r.day)
                    .bind(counts_text(&r.counts))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every day from `since` on, and for each scorecard and owner the latest day before it
    /// (what the first days of a trend carry), oldest first.
    pub async fn scorecard_history(&self, since: i64) -> Result<Vec<ScorecardDay>> {
        const SQL: &str = "SELECT h.scorecard, h.owner_ref, h.day, h.counts FROM scorecard_history h \
            WHERE h.day >= $1 \
            OR h.day = (SELECT MAX(e.day) FROM scorecard_history e \
                        WHERE e.scorecard = h.scorecard AND e.owner_ref = h.owner_ref AND e.day < $1) \
            ORDER BY h.day, h.scorecard, h.owner_ref";
        let found: Vec<ScorecardDay> =
            on_pool!(self, p => day_rows!(sqlx::query(SQL).bind(since).fetch_all(p).await?));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_databases;

    fn day(owner: &str, day: i64, counts: &[u32]) -> ScorecardDay {
        ScorecardDay {
            scorecard: "service-maturity".into(),
            owner_ref: owner.into(),
            day,
            counts: counts.to_vec(),
        }
    }

    both_databases!(scorecard_days_are_stored_and_read_back_from_a_day, |db| {
        let s = &db.store;
        s.write_scorecard_days(&[
            day("group:default/a", 10, &[3, 1, 0]),
            day("group:default/a", 15, &[2, 2, 0]),
            day("group:default/b", 12, &[0, 0, 4]),
            day("group:default/a", 40, &[0, 3, 1]),
        ])
        .await
        .unwrap();
        // A day written again is replaced.
        s.write_scorecard_days(&[day("group:default/a", 40, &[0, 2, 2])])
            .await
            .unwrap();
        // From day 20: a's day 40, and the latest day before 20 of each (a: 15, b: 12).
        let rows = s.scorecard_history(20).await.unwrap();
        assert_eq!(
            rows,
            vec![
                day("group:default/b", 12, &[0, 0, 4]),
                day("group:default/a", 15, &[2, 2, 0]),
                day("group:default/a", 40, &[0, 2, 2]),
            ]
        );
        assert_eq!(s.scorecard_history(50).await.unwrap().len(), 2);
        assert!(s.write_scorecard_days(&[]).await.is_ok());
    });
}
