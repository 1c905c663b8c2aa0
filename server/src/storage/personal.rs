//! What the home page keeps per user: starred entities (`starred_entities`) and recent visits
//! (`recent_visits`, pruned to the last few per user on every write). Users and entities are
//! entity references as strings; the catalog decides what they still point to.

use super::{Pool, Result, Store};
use sqlx::Row;

/// An entity a user starred or visited, and when (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalRow {
    pub entity_ref: String,
    pub at: i64,
}

/// The rows of a query selecting `entity_ref` and a time, from either database.
macro_rules! personal_rows {
    ($found:expr) => {
        $found
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(PersonalRow {
                    entity_ref: r.try_get(0)?,
                    at: r.try_get(1)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
    };
}

impl Store {
    /// Stars `entity` for `user`; starring twice keeps the first time. Returns whether the star
    /// is new.
    pub async fn star(&self, user: &str, entity: &str, now: i64) -> Result<bool> {
        const SQL: &str = "INSERT INTO starred_entities (user_ref, entity_ref, starred_at) VALUES ($1, $2, $3) ON CONFLICT (user_ref, entity_ref) DO NOTHING";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(user).bind(entity).bind(now)
            .execute(p).await?.rows_affected());
        Ok(n > 0)
    }

    /// Takes `user`'s star off `entity`; whether there was one.
    pub async fn unstar(&self, user: &str, entity: &str) -> Result<bool> {
        const SQL: &str = "DELETE FROM starred_entities WHERE user_ref = $1 AND entity_ref = $2";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(user).bind(entity)
            .execute(p).await?.rows_affected());
        Ok(n > 0)
    }

    /// Whether `user` starred `entity`.
    pub async fn is_starred(&self, user: &str, entity: &str) -> Result<bool> {
        const SQL: &str = "SELECT 1 FROM starred_entities WHERE user_ref = $1 AND entity_ref = $2";
        let found = on_pool!(self, p => sqlx::query(SQL).bind(user).bind(entity)
            .fetch_optional(p).await?.is_some());
        Ok(found)
    }

    /// `user`'s starred entities, newest star first.
    pub async fn stars_of(&self, user: &str) -> Result<Vec<PersonalRow>> {
        const SQL: &str = "SELECT entity_ref, starred_at FROM starred_entities WHERE user_ref = $1 ORDER BY starred_at DESC, entity_ref";
        let found =
            on_pool!(self, p => personal_rows!(sqlx::query(SQL).bind(user).fetch_all(p).await?));
        Ok(found)
    }

    /// Records that `user` visited `entity` at `now`, then keeps only their `keep` latest
    /// visits.
    pub async fn record_visit(&self, user: &str, entity: &str, now: i64, keep: i64) -> Result<()> {
        const UPSERT: &str = "INSERT INTO recent_visits (user_ref, entity_ref, visited_at) VALUES ($1, $2, $3) ON CONFLICT (user_ref, entity_ref) DO UPDATE SET visited_at = excluded.visited_at";
        const PRUNE: &str = "DELETE FROM recent_visits WHERE user_ref = $1 AND entity_ref NOT IN (SELECT entity_ref FROM recent_visits WHERE user_ref = $1 ORDER BY visited_at DESC, entity_ref LIMIT $2)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(UPSERT).bind(user).bind(entity).bind(now).execute(&mut *tx).await?;
            sqlx::query(PRUNE).bind(user).bind(keep).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// `user`'s recent visits, latest first.
    pub async fn recent_visits(&self, user: &str, limit: i64) -> Result<Vec<PersonalRow>> {
        const SQL: &str = "SELECT entity_ref, visited_at FROM recent_visits WHERE user_ref = $1 ORDER BY visited_at DESC, entity_ref LIMIT $2";
        let found = on_pool!(self, p => personal_rows!(sqlx::query(SQL).bind(user).bind(limit).fetch_all(p).await?));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_databases;

    fn refs(rows: Vec<PersonalRow>) -> Vec<String> {
        rows.into_iter().map(|r| r.entity_ref).collect()
    }

    both_databases!(stars_are_kept_per_user, |db| {
        let s = &db.store;
        let (alice, bob) = ("user:default/alice", "user:default/bob");
        assert!(s.star(alice, "component:default/web", 100).await.unwrap());
        assert!(s.star(alice, "api:default/orders", 200).await.unwrap());
        // Starring again keeps the first time.
        assert!(!s.star(alice, "component:default/web", 300).await.unwrap());
        assert!(s.star(bob, "component:default/web", 150).await.unwrap());

        let alices = s.stars_of(alice).await.unwrap();
        assert_eq!(
            alices,
            vec![
                PersonalRow {
                    entity_ref: "api:default/orders".into(),
                    at: 200
                },
                PersonalRow {
                    entity_ref: "component:default/web".into(),
                    at: 100
                },
            ]
        );
        assert!(s.is_starred(bob, "component:default/web").await.unwrap());
        assert!(!s.is_starred(bob, "api:default/orders").await.unwrap());

        // Unstarring is per user, and says whether there was a star.
        assert!(s.unstar(alice, "component:default/web").await.unwrap());
        assert!(!s.unstar(alice, "component:default/web").await.unwrap());
        assert_eq!(
            refs(s.stars_of(alice).await.unwrap()),
            ["api:default/orders"]
        );
        assert_eq!(
            refs(s.stars_of(bob).await.unwrap()),
            ["component:default/web"]
        );
    });

    both_databases!(recent_visits_keep_the_latest_few, |db| {
        let s = &db.store;
        let (alice, bob) = ("user:default/alice", "user:default/bob");
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            let entity = format!("component:default/{name}");
            s.record_visit(alice, &entity, 1000 + i as i64, 3)
                .await
                .unwrap();
        }
        s.record_visit(bob, "component:default/a", 5000, 3)
            .await
            .unwrap();
        // Only the three latest stay; the oldest was pruned.
        assert_eq!(
            refs(s.recent_visits(alice, 10).await.unwrap()),
            [
                "component:default/d",
                "component:default/c",
                "component:default/b"
            ]
        );
        // A visit again moves it to the front and prunes nothing else.
        s.record_visit(alice, "component:default/b", 2000, 3)
            .await
            .unwrap();
        let latest = s.recent_visits(alice, 2).await.unwrap();
        assert_eq!(
            latest[0],
            PersonalRow {
                entity_ref: "component:default/b".into(),
                at: 2000
            }
        );
        assert_eq!(latest.len(), 2);
        assert_eq!(
            refs(s.recent_visits(bob, 10).await.unwrap()),
            ["component:default/a"]
        );
    });
}
