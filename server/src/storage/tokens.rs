//! API tokens (`api_tokens`): each stored as the SHA-256 of its value, never the value, with
//! its owner, scopes, expiry, last use and revocation. `auth::tokens` decides what they mean.

use super::{Pool, Result, Store};
use sqlx::Row;

/// One API token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub id: String,
    /// The user's entity ref (`user:default/alice`).
    pub owner: String,
    pub name: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    /// Seconds since the epoch.
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str =
    "id, owner, name, token_hash, scopes, created_at, expires_at, last_used_at, revoked_at";

/// Reads an [`ApiTokenRow`] from a row of either database.
trait RowLike {
    fn token_row(&self) -> std::result::Result<ApiTokenRow, sqlx::Error>;
}

macro_rules! row_like {
    ($row:ty) => {
        impl RowLike for $row {
            fn token_row(&self) -> std::result::Result<ApiTokenRow, sqlx::Error> {
                Ok(ApiTokenRow {
                    id: self.try_get(0)?,
                    owner: self.try_get(1)?,
                    name: self.try_get(2)?,
                    token_hash: self.try_get(3)?,
                    scopes: self.try_get(4)?,
                    created_at: self.try_get(5)?,
                    expires_at: self.try_get(6)?,
                    last_used_at: self.try_get(7)?,
                    revoked_at: self.try_get(8)?,
                })
            }
        }
    };
}
row_like!(sqlx::sqlite::SqliteRow);
row_like!(sqlx::postgres::PgRow);

impl Store {
    /// Stores a new token.
    pub async fn insert_api_token(&self, t: &ApiTokenRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO api_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        on_pool!(self, p => { sqlx::query(&sql)
            .bind(&t.id).bind(&t.owner).bind(&t.name).bind(&t.token_hash).bind(&t.scopes)
            .bind(t.created_at).bind(t.expires_at).bind(t.last_used_at).bind(t.revoked_at)
            .execute(p).await?; });
        Ok(())
    }

    /// The token whose value hashes to `token_hash`, revoked and expired ones included (the
    /// caller says why it is refused).
    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let found = on_pool!(self, p => sqlx::query(&sql).bind(token_hash).fetch_optional(p).await?
            .map(|r| r.token_row()).transpose()?);
        Ok(found)
    }

    /// The tokens of `owner` that are not revoked, newest first.
    pub async fn api_tokens_of(&self, owner: &str) -> Result<Vec<ApiTokenRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE owner = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id"
        );
        let rows = on_pool!(self, p => sqlx::query(&sql).bind(owner).fetch_all(p).await?
            .iter().map(RowLike::token_row).collect::<std::result::Result<Vec<_>, sqlx::Error>>()?);
        Ok(rows)
    }

    /// Revokes `owner`'s token `id` at `now`; its hash, for the caller's cache. `None` when
    /// there is no such token of that owner or it was already revoked.
    pub async fn revoke_api_token(
        &self,
        owner: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<String>> {
        const SQL: &str = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND owner = $3 AND revoked_at IS NULL RETURNING token_hash";
        let hash = on_pool!(self, p => sqlx::query(SQL).bind(now).bind(id).bind(owner)
            .fetch_optional(p).await?.map(|r| r.try_get::<String, _>(0)).transpose()?);
        Ok(hash)
    }

    /// Records that token `id` was used at `now`, unless its last use recorded is less than
    /// `min_gap` seconds before (another process may have written it). Returns whether it wrote.
    pub async fn touch_api_token(&self, id: &str, now: i64, min_gap: i64) -> Result<bool> {
        const SQL: &str = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(now).bind(id).bind(now - min_gap)
            .execute(p).await?.rows_affected());
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_databases;

    fn token(id: &str, owner: &str, created_at: i64) -> ApiTokenRow {
        ApiTokenRow {
            id: id.into(),
            owner: owner.into(),
            name: format!("token {id}"),
            token_hash: format!("hash-{id}"),
            scopes: "read refresh".into(),
            created_at,
            expires_at: created_at + 86_400,
            last_used_at: None,
            revoked_at: None,
        }
    }

    both_databases!(api_tokens_round_trip_revoke_and_touch, |db| {
        let s = &db.store;
        let alice = "user:default/alice";
        s.insert_api_token(&token("t1", alice, 100)).await.unwrap();
        s.insert_api_token(&token("t2", alice, 200)).await.unwrap();
        s.insert_api_token(&token("t3", "user:default/bob", 300))
            .await
            .unwrap();
        // A hash is unique.
        let mut dup = token("t4", alice, 400);
        dup.token_hash = "hash-t1".into();
        assert!(s.insert_api_token(&dup).await.is_err());

        let found = s.api_token_by_hash("hash-t1").await.unwrap();
        assert_eq!(found, Some(token("t1", alice, 100)));
        assert_eq!(s.api_token_by_hash("nope").await.unwrap(), None);
        let ids = |rows: Vec<ApiTokenRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(s.api_tokens_of(alice).await.unwrap()), ["t2", "t1"]);

        // Only its owner revokes a token, once.
        assert_eq!(
            s.revoke_api_token("user:default/bob", "t1", 500)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            s.revoke_api_token(alice, "t1", 500)
                .await
                .unwrap()
                .as_deref(),
            Some("hash-t1")
        );
        assert_eq!(s.revoke_api_token(alice, "t1", 501).await.unwrap(), None);
        assert_eq!(ids(s.api_tokens_of(alice).await.unwrap()), ["t2"]);
        let revoked = s.api_token_by_hash("hash-t1").await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(500));

        // The last use is written at most once per gap.
        assert!(s.touch_api_token("t2", 1000, 60).await.unwrap());
        assert!(!s.touch_api_token("t2", 1030, 60).await.unwrap());
        assert!(s.touch_api_token("t2", 1060, 60).await.unwrap());
        let t2 = s.api_token_by_hash("hash-t2").await.unwrap().unwrap();
        assert_eq!(t2.last_used_at, Some(1060));
    });
}
