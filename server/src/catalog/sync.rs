//! Several processes on one PostgreSQL database: each polls the locations' versions and loads
//! what the others wrote (see ARCHITECTURE.md, "Several processes").

use super::plan::stored_from_row;
use super::service::CatalogService;
use super::CatalogError;
use std::sync::Arc;
use std::time::Duration;

impl CatalogService {
    /// Several processes on one database: every second, loads what other processes wrote
    /// (locations whose version changed, new and removed locations); every ten seconds, the
    /// locations' status. Only started on PostgreSQL.
    pub fn spawn_sync_loop(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut n: u64 = 0;
            loop {
                tick.tick().await;
                n += 1;
                if let Err(e) = this.sync_from_storage(n.is_multiple_of(10)).await {
                    tracing::warn!(error = %e, "could not load changes made by other processes");
                }
            }
        })
    }

    /// Loads other processes' writes; with `statuses`, the locations' status as well.
    pub async fn sync_from_storage(&self, statuses: bool) -> Result<usize, CatalogError> {
        let stored = self.store.location_versions().await?;
        let changed: Vec<(String, i64)> = {
            let known = self.versions();
            let mut changed: Vec<(String, i64)> = stored
                .iter()
                .filter(|(id, v)| known.get(id) != Some(v))
                .cloned()
                .collect();
            // Locations removed elsewhere.
            changed.extend(
                known
                    .keys()
                    .filter(|id| !stored.iter().any(|(s, _)| s == *id))
                    .map(|id| (id.clone(), -1)),
            );
            changed
        };
        if changed.is_empty() {
            if statuses {
                let _guard = self.write.lock().await;
                let locations = self.stored_locations().await?;
                if locations != self.snapshot().locations {
                    self.publish(self.snapshot().with_locations(locations));
                }
            }
            return Ok(0);
        }
        let mut pending = self.write.lock().await;
        let locations = self.stored_locations().await?;
        let mut last = 0;
        for (id, version) in &changed {
            let entities = if *version >= 0 {
                let mut entities = Vec::new();
                self.store
                    .each_entity(Some(id), |row| entities.extend(stored_from_row(row)))
                    .await?;
                entities
            } else {
                Vec::new()
            };
            last = self.pending_change(&mut pending, id, entities);
        }
        {
            let mut known = self.versions();
            let mut states = self.cached_file_states();
            for (id, version) in &changed {
                states.remove(id);
                if *version >= 0 {
                    known.insert(id.clone(), *version);
                } else {
                    known.remove(id);
                }
            }
        }
        self.publish(self.snapshot().with_locations(locations));
        drop(pending);
        self.published(last).await;
        tracing::info!(
            locations = changed.len(),
            "loaded changes made by another process"
        );
        Ok(changed.len())
    }
}
