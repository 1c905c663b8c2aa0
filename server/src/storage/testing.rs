//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.
//!
//! PostgreSQL comes from `BACKLOT_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). If it cannot be reached the test fails: the
//! suite never skips a database silently.

use super::Store;

pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    admin: Option<(String, String)>,
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
            admin: None,
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
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        let url = format!("{base}/{name}");
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate postgres");
        Self {
            store,
            url,
            _dir: None,
            admin: Some((admin, name)),
        }
    }

    /// Closes the pool and drops the PostgreSQL database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin, name)) = &self.admin {
            if let Ok(pool) = sqlx::PgPool::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
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
