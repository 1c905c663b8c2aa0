//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.
//!
//! PostgreSQL comes from `BACKLOT_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). If it cannot be reached the test fails: the
//! suite never skips a database silently. Each PostgreSQL test database is dropped by a guard,
//! so a test that panics leaves none behind.

use super::Store;

pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// Declared after `store`, so the pool goes first.
    _database: Option<DropDatabase>,
}

/// Drops a PostgreSQL test database when it goes out of scope, on success or panic. Drop cannot
/// await, so the drop runs on a thread of its own with its own runtime; `WITH (FORCE)` ends
/// connections still open (a pool being dropped, a stream a failed test left behind).
pub struct DropDatabase {
    admin: String,
    name: String,
}

impl DropDatabase {
    fn drop_now(admin: String, name: String) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let pool = sqlx::PgPool::connect(&admin)
                .await
                .map_err(|e| e.to_string())?;
            let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await
                .map_err(|e| e.to_string());
            pool.close().await;
            dropped.map(|_| ())
        })
    }
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), std::mem::take(&mut self.name));
        let shown = name.clone();
        let done = std::thread::spawn(move || Self::drop_now(admin, name)).join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {shown}: {e}"),
            Err(_) => eprintln!("could not drop test database {shown}: the drop panicked"),
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("BACKLOT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("backlot.db").display());
        let store = Store::connect(&url).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self {
            store,
            url,
            _dir: Some(dir),
            _database: None,
        }
    }

    pub async fn postgres() -> Self {
        let admin = postgres_admin_url();
        let name = format!("backlot_test_{}", uuid::Uuid::new_v4().simple());
        let admin_pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL tests need a server at {admin} (set BACKLOT_TEST_DATABASE_URL): {e}")
        });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin_pool)
            .await
            .expect("create test database");
        admin_pool.close().await;
        // From here on the database goes away whatever happens to the test.
        let guard = DropDatabase {
            admin: admin.clone(),
            name: name.clone(),
        };
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        let url = format!("{base}/{name}");
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate postgres");
        Self {
            store,
            url,
            _dir: None,
            _database: Some(guard),
        }
    }

    /// The PostgreSQL database's name, if this is one.
    pub fn postgres_name(&self) -> Option<&str> {
        self._database.as_ref().map(|d| d.name.as_str())
    }

    /// Closes the pool; the guard then drops the PostgreSQL database.
    pub async fn cleanup(self) {
        self.store.close().await;
    }
}

/// Passes a test database through unchanged (the default set-up of [`both_databases!`]).
pub async fn as_is(db: TestDb) -> TestDb {
    db
}

/// Runs the same async test body on SQLite and on PostgreSQL, each on a fresh database.
/// `setup = f` turns the `TestDb` into what the body uses (anything with `async fn cleanup`).
#[macro_export]
macro_rules! both_databases {
    ($name:ident, setup = $setup:expr, |$h:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let $h = ($setup)($crate::storage::testing::TestDb::sqlite().await).await;
                $body
                $h.cleanup().await;
            }
            #[tokio::test]
            async fn postgres() {
                let $h = ($setup)($crate::storage::testing::TestDb::postgres().await).await;
                $body
                $h.cleanup().await;
            }
        }
    };
    ($name:ident, |$db:ident| $body:block) => {
        $crate::both_databases!($name, setup = $crate::storage::testing::as_is, |$db| $body);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(name: &str) -> bool {
        let pool = sqlx::PgPool::connect(&postgres_admin_url())
            .await
            .expect("admin connection");
        let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&pool)
            .await
            .expect("pg_database");
        pool.close().await;
        found.is_some()
    }

    #[tokio::test]
    async fn a_panicking_postgres_test_leaves_no_database() {
        let (tx, rx) = std::sync::mpsc::channel();
        // A test body that panics with its database open, on a runtime of its own as
        // `#[tokio::test]` runs it.
        let failed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let db = TestDb::postgres().await;
                let name = db.postgres_name().expect("postgres").to_string();
                tx.send(name.clone()).expect("send");
                assert!(exists(&name).await);
                // A connection of the pool stays open.
                db.store.ping().await.expect("use it");
                panic!("the test fails with its database open");
            })
        })
        .join();
        assert!(failed.is_err(), "the body panicked");
        let name = rx.recv().expect("the database's name");
        assert!(!exists(&name).await, "{name} was left behind");
    }

    #[tokio::test]
    async fn cleanup_drops_the_database() {
        let db = TestDb::postgres().await;
        let name = db.postgres_name().expect("postgres").to_string();
        assert!(exists(&name).await);
        db.cleanup().await;
        assert!(!exists(&name).await);
    }
}
