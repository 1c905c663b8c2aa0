//! Sessions in Backlot's own database (SQLite or PostgreSQL, the `sessions` table), so they
//! survive a restart and are shared by replicas. The table holds only the SHA-256 of each
//! session id: what the browser's cookie carries cannot be read back from it.

use crate::storage::Store;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

/// The [`SessionStore`] over [`Store`].
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// The hex SHA-256 of a session id, as stored.
pub fn hash_id(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn backend(e: crate::storage::StorageError) -> Error {
    Error::Backend(e.to_string())
}

fn encode(record: &Record) -> Result<String> {
    serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = encode(record)?;
        let expires = record.expiry_date.unix_timestamp();
        // A collision of 128 random bits is not expected; if it happens, take another id.
        while !self
            .store
            .create_session(&hash_id(&record.id), &data, expires)
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = encode(record)?;
        self.store
            .save_session(
                &hash_id(&record.id),
                &data,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Some((data, expires)) = self
            .store
            .session(&hash_id(id), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(expires)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store
            .delete_session(&hash_id(id))
            .await
            .map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_databases;

    both_databases!(sessions_are_stored_by_the_hash_of_their_id, |db| {
        let sessions = DbSessionStore::new(db.store.clone());
        let mut record = Record {
            id: Id::default(),
            data: [(
                "user".to_string(),
                serde_json::json!({"ref": "user:default/alice"}),
            )]
            .into_iter()
            .collect(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        sessions.create(&mut record).await.expect("create");
        let loaded = sessions
            .load(&record.id)
            .await
            .expect("load")
            .expect("found");
        assert_eq!(loaded.data, record.data);
        assert_eq!(
            loaded.expiry_date.unix_timestamp(),
            record.expiry_date.unix_timestamp()
        );
        // The plain id is nowhere in the table; its hash is.
        let plain = record.id.to_string();
        assert!(db.store.session(&plain, 0).await.expect("query").is_none());
        assert!(db
            .store
            .session(&hash_id(&record.id), 0)
            .await
            .expect("query")
            .is_some());
        assert_eq!(hash_id(&record.id).len(), 64);

        record.data.insert("more".into(), serde_json::json!(1));
        sessions.save(&record).await.expect("save");
        let loaded = sessions
            .load(&record.id)
            .await
            .expect("load")
            .expect("found");
        assert_eq!(loaded.data.get("more"), Some(&serde_json::json!(1)));

        // Expired sessions are not loaded.
        let mut old = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() - time::Duration::seconds(5),
        };
        sessions.create(&mut old).await.expect("create expired");
        assert!(sessions.load(&old.id).await.expect("load").is_none());

        sessions.delete(&record.id).await.expect("delete");
        assert!(sessions.load(&record.id).await.expect("load").is_none());
        assert!(sessions.load(&Id::default()).await.expect("load").is_none());
    });
}
