//! Durable storage of locations, processed entities and source-file hashes, on SQLite (the
//! default: one file in the data directory) or PostgreSQL, with the same SQL for both.
//!
//! The catalog is served from memory (see `catalog::snapshot`); this is what survives restarts
//! and what several replicas share. Writes of one location refresh go in one transaction.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, QueryBuilder, Row, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL \"{0}\": use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("already exists")]
    Conflict,
}

pub type Result<T> = std::result::Result<T, StorageError>;

#[derive(Debug, Clone, PartialEq)]
pub struct LocationRow {
    pub id: String,
    pub location_type: String,
    pub target: String,
    pub origin: String,
    pub created_at: String,
    pub last_refresh_at: Option<String>,
    /// JSON array of problems.
    pub problems: String,
    /// Git: branch (None: the remote's default) and path or glob.
    pub branch: Option<String>,
    pub path: Option<String>,
    /// Git: commit of the last successful read.
    pub commit_id: Option<String>,
    pub last_success_at: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Attempts failed in a row.
    pub failures: i64,
    /// Bumped by each write to the location's entities.
    pub version: i64,
}

/// How one refresh attempt went.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// Read: its problems (JSON array) and, for Git, the commit read.
    Succeeded {
        problems: &'a str,
        commit_id: Option<&'a str>,
    },
    /// Could not be read at all (unreachable repository…): everything stored stays.
    Failed { error: &'a str },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    pub entity_ref: String,
    pub uid: String,
    pub location_id: String,
    /// The processed entity as JSON (shared with the in-memory catalog, not copied).
    pub body: Arc<str>,
    pub hash: String,
    pub source_file: String,
    pub document: i64,
    pub line: i64,
    pub problems: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub location_id: String,
    pub path: String,
    pub hash: String,
    pub clean: bool,
    pub modified_ns: i64,
    pub size: i64,
    /// JSON array of `[type, target]`.
    pub targets: String,
}

/// An entity to write, as [`Store::apply`] reads it: borrowed from whatever holds the entity
/// (the catalog's in-memory entities), so that a large change is written without first being
/// copied into rows (at 10k changed entities those copies were 5 MB and 70k allocations).
pub trait EntityWrite: Send + Sync {
    fn entity_ref(&self) -> &str;
    fn uid(&self) -> &str;
    fn location_id(&self) -> &str;
    /// The processed entity as JSON.
    fn body(&self) -> &str;
    fn hash(&self) -> &str;
    fn source_file(&self) -> &str;
    fn document(&self) -> i64;
    fn line(&self) -> i64;
    /// The problems as a JSON array.
    fn problems_json(&self) -> String;
    fn updated_at(&self) -> &str;
}

impl EntityWrite for EntityRow {
    fn entity_ref(&self) -> &str {
        &self.entity_ref
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn location_id(&self) -> &str {
        &self.location_id
    }
    fn body(&self) -> &str {
        &self.body
    }
    fn hash(&self) -> &str {
        &self.hash
    }
    fn source_file(&self) -> &str {
        &self.source_file
    }
    fn document(&self) -> i64 {
        self.document
    }
    fn line(&self) -> i64 {
        self.line
    }
    fn problems_json(&self) -> String {
        self.problems.clone()
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

/// The writes of one location refresh.
#[derive(Debug, Clone)]
pub struct Changes<E = EntityRow> {
    pub upserts: Vec<E>,
    pub deletes: Vec<String>,
    pub sources: Vec<SourceRow>,
    pub deleted_sources: Vec<String>,
}

impl<E> Default for Changes<E> {
    fn default() -> Self {
        Changes {
            upserts: Vec::new(),
            deletes: Vec::new(),
            sources: Vec::new(),
            deleted_sources: Vec::new(),
        }
    }
}

impl<E> Changes<E> {
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty()
            && self.deletes.is_empty()
            && self.sources.is_empty()
            && self.deleted_sources.is_empty()
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection pool to one of the supported databases.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

/// Runs the same query-building code against whichever pool or transaction is in use.
macro_rules! on_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match &$self.pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

const UPSERT_CHUNK: usize = 500;

impl Store {
    /// Connects to `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(std::time::Duration::from_secs(10));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(opts)
                    .await?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await?,
            )
        } else {
            // The URL may hold a password: the error names it without.
            let shown = crate::secret::SecretUrl::new(url).redacted();
            return Err(StorageError::UnsupportedUrl(shown));
        };
        Ok(Self { pool })
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations in migrations/{sqlite,postgres}.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Cheap round trip for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => { sqlx::query("SELECT 1").execute(p).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    /// A session's JSON data and expiry by the hash of its id, unless it expired before `now` (seconds).
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<(String, i64)>> {
        const SQL: &str =
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2";
        let row = on_pool!(self, p => sqlx::query(SQL).bind(id_hash).bind(now).fetch_optional(p).await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?))).transpose()?);
        Ok(row)
    }

    /// Stores a new session; false when the id hash is taken (the caller picks another id).
    pub async fn create_session(&self, id_hash: &str, data: &str, expires_at: i64) -> Result<bool> {
        const SQL: &str = "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id_hash) DO NOTHING";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(id_hash).bind(data).bind(expires_at).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Writes a session (created when missing).
    pub async fn save_session(&self, id_hash: &str, data: &str, expires_at: i64) -> Result<()> {
        const SQL: &str = "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) \
            ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at";
        on_pool!(self, p => { sqlx::query(SQL).bind(id_hash).bind(data).bind(expires_at).execute(p).await?; });
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM sessions WHERE id_hash = $1";
        on_pool!(self, p => { sqlx::query(SQL).bind(id_hash).execute(p).await?; });
        Ok(())
    }

    pub async fn locations(&self) -> Result<Vec<LocationRow>> {
        self.locations_where(None).await
    }

    async fn locations_where(&self, id: Option<&str>) -> Result<Vec<LocationRow>> {
        const SQL: &str = "SELECT id, type, target, origin, created_at, last_refresh_at, problems, branch, path, commit_id, last_success_at, last_error, failures, version FROM locations \
            WHERE $1 IS NULL OR id = $1 ORDER BY created_at, id";
        let rows = on_pool!(self, p => {
            sqlx::query(SQL).bind(id).fetch_all(p).await?.into_iter().map(|r| Ok(LocationRow {
                id: r.try_get(0)?, location_type: r.try_get(1)?, target: r.try_get(2)?, origin: r.try_get(3)?,
                created_at: r.try_get(4)?, last_refresh_at: r.try_get(5)?, problems: r.try_get(6)?,
                branch: r.try_get(7)?, path: r.try_get(8)?, commit_id: r.try_get(9)?,
                last_success_at: r.try_get(10)?, last_error: r.try_get(11)?, failures: r.try_get(12)?,
                version: r.try_get(13)?,
            })).collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    /// One location.
    pub async fn location(&self, id: &str) -> Result<Option<LocationRow>> {
        Ok(self.locations_where(Some(id)).await?.pop())
    }

    /// Inserts a location; [`StorageError::Conflict`] if the same type and target exist.
    pub async fn insert_location(&self, l: &LocationRow) -> Result<()> {
        const SQL: &str = "INSERT INTO locations (id, type, target, origin, created_at, last_refresh_at, problems, branch, path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let res = on_pool!(self, p => sqlx::query(SQL)
            .bind(&l.id).bind(&l.location_type).bind(&l.target).bind(&l.origin)
            .bind(&l.created_at).bind(&l.last_refresh_at).bind(&l.problems)
            .bind(&l.branch).bind(&l.path)
            .execute(p).await.map(|_| ()));
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StorageError::Conflict),
            other => Ok(other?),
        }
    }

    /// Deletes a location with its entities and sources. Returns whether it existed.
    pub async fn delete_location(&self, id: &str) -> Result<bool> {
        let n = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM entities WHERE location_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sources WHERE location_id = $1").bind(id).execute(&mut *tx).await?;
            let n = sqlx::query("DELETE FROM locations WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }

    /// Records a refresh attempt made at `at`.
    pub async fn record_attempt(&self, id: &str, at: &str, attempt: Attempt<'_>) -> Result<()> {
        match attempt {
            Attempt::Succeeded {
                problems,
                commit_id,
            } => {
                const SQL: &str = "UPDATE locations SET last_refresh_at = $1, last_success_at = $1, problems = $2, \
                    commit_id = COALESCE($3, commit_id), last_error = NULL, failures = 0 WHERE id = $4";
                on_pool!(self, p => { sqlx::query(SQL).bind(at).bind(problems).bind(commit_id).bind(id).execute(p).await?; });
            }
            Attempt::Failed { error } => {
                const SQL: &str = "UPDATE locations SET last_refresh_at = $1, last_error = $2, failures = failures + 1 WHERE id = $3";
                on_pool!(self, p => { sqlx::query(SQL).bind(at).bind(error).bind(id).execute(p).await?; });
            }
        }
        Ok(())
    }

    /// Changes what a Git location reads; the next refresh reads it afresh.
    pub async fn update_location_spec(
        &self,
        id: &str,
        branch: Option<&str>,
        path: Option<&str>,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE locations SET branch = $1, path = $2, commit_id = NULL WHERE id = $3";
        on_pool!(self, p => { sqlx::query(SQL).bind(branch).bind(path).bind(id).execute(p).await?; });
        Ok(())
    }

    /// Takes (or extends) the lease on a location until `until_ms` unless another process
    /// holds an unexpired one. Returns whether this process holds it now.
    pub async fn try_lease(
        &self,
        id: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE locations SET lease_owner = $1, lease_until = $2 \
            WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(owner).bind(until_ms).bind(id).bind(now_ms)
            .execute(p).await?.rows_affected());
        Ok(n > 0)
    }

    /// Gives a lease back.
    pub async fn release_lease(&self, id: &str, owner: &str) -> Result<()> {
        const SQL: &str = "UPDATE locations SET lease_owner = NULL, lease_until = 0 WHERE id = $1 AND lease_owner = $2";
        on_pool!(self, p => { sqlx::query(SQL).bind(id).bind(owner).execute(p).await?; });
        Ok(())
    }

    /// Each location's version: what another process compares to notice changes.
    pub async fn location_versions(&self) -> Result<Vec<(String, i64)>> {
        const SQL: &str = "SELECT id, version FROM locations";
        let rows = on_pool!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.into_iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    pub async fn entities(&self) -> Result<Vec<EntityRow>> {
        let mut rows = Vec::new();
        self.each_entity(None, |r| rows.push(r)).await?;
        Ok(rows)
    }

    /// Every stored entity (or one location's), handed to `each` one row at a time as the
    /// database sends them: loading a large catalog never holds all of its rows, and a
    /// converted copy of them, at once (at 10k entities that was 20 MB more at start-up).
    pub async fn each_entity(
        &self,
        location_id: Option<&str>,
        mut each: impl FnMut(EntityRow) + Send,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        const ALL: &str = "SELECT entity_ref, uid, location_id, body, hash, source_file, document, line, problems, updated_at FROM entities";
        const ONE: &str = "SELECT entity_ref, uid, location_id, body, hash, source_file, document, line, problems, updated_at FROM entities WHERE location_id = $1";
        on_pool!(self, p => {
            let query = match location_id {
                Some(id) => sqlx::query(ONE).bind(id),
                None => sqlx::query(ALL),
            };
            let mut rows = query.fetch(p);
            while let Some(r) = rows.try_next().await? {
                each(EntityRow {
                    entity_ref: r.try_get(0)?, uid: r.try_get(1)?, location_id: r.try_get(2)?,
                    body: r.try_get::<&str, _>(3)?.into(), hash: r.try_get(4)?, source_file: r.try_get(5)?,
                    document: r.try_get(6)?, line: r.try_get(7)?, problems: r.try_get(8)?, updated_at: r.try_get(9)?,
                });
            }
        });
        Ok(())
    }

    pub async fn sources(&self, location_id: &str) -> Result<Vec<SourceRow>> {
        let mut rows = Vec::new();
        self.each_source(location_id, |r| rows.push(r)).await?;
        Ok(rows)
    }

    /// A location's file states, handed to `each` one row at a time (see [`Self::each_entity`]).
    pub async fn each_source(
        &self,
        location_id: &str,
        mut each: impl FnMut(SourceRow) + Send,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        const SQL: &str =
            "SELECT location_id, path, hash, clean, targets, modified_ns, size FROM sources WHERE location_id = $1";
        on_pool!(self, p => {
            let mut rows = sqlx::query(SQL).bind(location_id).fetch(p);
            while let Some(r) = rows.try_next().await? {
                each(SourceRow {
                    location_id: r.try_get(0)?, path: r.try_get(1)?, hash: r.try_get(2)?,
                    clean: r.try_get::<i64, _>(3)? != 0, targets: r.try_get(4)?,
                    modified_ns: r.try_get(5)?, size: r.try_get(6)?,
                });
            }
        });
        Ok(())
    }

    /// Writes the outcome of one location refresh in one transaction. Returns the location's
    /// new version when entities changed.
    pub async fn apply<E: EntityWrite>(
        &self,
        location_id: &str,
        changes: &Changes<E>,
    ) -> Result<Option<i64>> {
        if changes.is_empty() {
            return Ok(None);
        }
        let version = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in changes.upserts.chunks(UPSERT_CHUNK) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO entities (entity_ref, uid, location_id, body, hash, source_file, document, line, problems, updated_at) ",
                );
                qb.push_values(chunk, |mut b, e| {
                    b.push_bind(e.entity_ref()).push_bind(e.uid()).push_bind(e.location_id()).push_bind(e.body())
                        .push_bind(e.hash()).push_bind(e.source_file()).push_bind(e.document()).push_bind(e.line())
                        .push_bind(e.problems_json()).push_bind(e.updated_at());
                });
                qb.push(" ON CONFLICT (entity_ref) DO UPDATE SET location_id = excluded.location_id, body = excluded.body, \
                    hash = excluded.hash, source_file = excluded.source_file, document = excluded.document, line = excluded.line, \
                    problems = excluded.problems, updated_at = excluded.updated_at");
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in changes.deletes.chunks(UPSERT_CHUNK) {
                let mut qb = QueryBuilder::new("DELETE FROM entities WHERE location_id = ");
                qb.push_bind(location_id).push(" AND entity_ref IN (");
                let mut sep = qb.separated(", ");
                for r in chunk {
                    sep.push_bind(r);
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in changes.sources.chunks(UPSERT_CHUNK) {
                let mut qb = QueryBuilder::new("INSERT INTO sources (location_id, path, hash, clean, targets, modified_ns, size) ");
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.location_id).push_bind(&s.path).push_bind(&s.hash)
                        .push_bind(i64::from(s.clean)).push_bind(&s.targets)
                        .push_bind(s.modified_ns).push_bind(s.size);
                });
                qb.push(" ON CONFLICT (location_id, path) DO UPDATE SET hash = excluded.hash, clean = excluded.clean, targets = excluded.targets, modified_ns = excluded.modified_ns, size = excluded.size");
                qb.build().execute(&mut *tx).await?;
            }
            for path in &changes.deleted_sources {
                sqlx::query("DELETE FROM sources WHERE location_id = $1 AND path = $2")
                    .bind(location_id).bind(path).execute(&mut *tx).await?;
            }
            let mut version = None;
            if !changes.upserts.is_empty() || !changes.deletes.is_empty() {
                let row = sqlx::query("UPDATE locations SET version = version + 1 WHERE id = $1 RETURNING version")
                    .bind(location_id).fetch_optional(&mut *tx).await?;
                version = row.map(|r| r.try_get::<i64, _>(0)).transpose()?;
            }
            tx.commit().await?;
            version
        });
        Ok(version)
    }
}

mod tokens;
pub use tokens::ApiTokenRow;

mod personal;
pub use personal::PersonalRow;

mod scorecards;
pub use scorecards::ScorecardDay;

#[cfg(test)]
pub mod testing;

#[cfg(test)]
mod tests;

mod audit;
pub use audit::{AuditFilter, AuditRow};

mod scaffolder;
pub use scaffolder::{ApprovalRow, TaskEventRow, TaskFilter, TaskRow};
