//! The catalog service: the one place that changes the catalog. Registering, refreshing and
//! removing locations go through it (the permission check of a later release sits here), it
//! writes to storage and publishes a new in-memory snapshot for readers.
//!
//! It knows no provider: each location is read by the [`EntitySource`] of its type
//! ([`super::source`]); what a read changes is planned in [`super::plan`]; refreshing, the
//! schedule and leases are in [`super::refresh`]; several processes on one database in
//! [`super::sync`].

use super::added::{AddedEntities, AddedLocation};
use super::plan::{stored_from_row, Pending};
use super::processing::FileOutcome;
use super::processing::FileStates;
use super::reference::RefKey;
use super::snapshot::{LocationInfo, Snapshot, Stored};
use super::source::{EntityFiles, EntitySource, LocationType, NewLocation, Origin, Sources};
use super::CatalogError;
use crate::metrics::Metrics;
use crate::storage::{LocationRow, Store};
use crate::util::now_rfc3339;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// What happens to entities that no location emits any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrphanStrategy {
    Delete,
    Keep,
}

#[derive(Debug, Clone)]
pub struct CatalogSettings {
    pub orphans: OrphanStrategy,
}

pub struct CatalogService {
    pub(super) store: Store,
    pub(super) settings: CatalogSettings,
    pub(super) sources: Sources,
    pub(super) metrics: Arc<Metrics>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// One writer at a time; it holds the changes not yet in the published snapshot.
    pub(super) write: tokio::sync::Mutex<Pending>,
    /// Wakes the snapshot builder.
    build_wanted: Arc<tokio::sync::Notify>,
    /// The last change (see [`Pending::requested`]) the published snapshot includes.
    built: tokio::sync::watch::Sender<u64>,
    /// Bumped by every snapshot published (what the scorecards evaluate after).
    published: tokio::sync::watch::Sender<u64>,
    /// Per location id: the state of its files after the last refresh (as in the `sources`
    /// table), kept so that a refresh that finds nothing changed reads nothing from storage.
    /// Dropped when a refresh changes something; loaded again on the next one.
    file_states: std::sync::Mutex<HashMap<String, Arc<FileStates>>>,
    /// This process, as lease owner.
    pub(super) owner: String,
    /// Each location's version as this process last wrote or loaded it; another process's
    /// write shows as a difference (see [`CatalogService::spawn_sync_loop`]).
    versions: std::sync::Mutex<HashMap<String, i64>>,
}

impl CatalogService {
    /// Loads what storage holds into a first snapshot.
    pub async fn open(
        store: Store,
        settings: CatalogSettings,
        sources: Sources,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, CatalogError> {
        let locations = store
            .locations()
            .await?
            .into_iter()
            .filter_map(location_info)
            .map(Arc::new)
            .collect();
        let mut stored = Vec::new();
        store
            .each_entity(None, |row| stored.extend(stored_from_row(row)))
            .await?;
        let snapshot = tokio::task::spawn_blocking(move || Snapshot::build(stored, locations))
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        metrics.set_entities(snapshot.records.len());
        let versions = store.location_versions().await?.into_iter().collect();
        let this = Arc::new(Self {
            build_wanted: Arc::new(tokio::sync::Notify::new()),
            built: tokio::sync::watch::channel(0).0,
            published: tokio::sync::watch::channel(0).0,
            sources,
            owner: uuid::Uuid::new_v4().to_string(),
            versions: std::sync::Mutex::new(versions),
            store,
            settings,
            metrics,
            snapshot: RwLock::new(Arc::new(snapshot)),
            write: tokio::sync::Mutex::new(Pending::default()),
            file_states: Default::default(),
        });
        tokio::spawn(Self::builder(
            Arc::downgrade(&this),
            this.build_wanted.clone(),
        ));
        Ok(this)
    }

    pub fn settings(&self) -> &CatalogSettings {
        &self.settings
    }

    /// The entity sources, one per kind of location.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The source that reads a location.
    pub(super) fn source_of(&self, l: &LocationInfo) -> Result<&dyn EntitySource, CatalogError> {
        self.sources.of(l.location_type)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current catalog; cheap, never blocks on writers for long.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(super) fn publish(&self, snapshot: Snapshot) {
        self.metrics.set_entities(snapshot.records.len());
        let new = Arc::new(snapshot);
        match self.snapshot.write() {
            Ok(mut s) => *s = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
        self.published.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever a snapshot is published (then read
    /// [`CatalogService::snapshot`]; a burst of publications may show as one change).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// Rebuilds the snapshot whenever changes are pending, with all of them at once.
    async fn builder(this: std::sync::Weak<Self>, wanted: Arc<tokio::sync::Notify>) {
        loop {
            wanted.notified().await;
            let Some(this) = this.upgrade() else { return };
            this.build_pending().await;
        }
    }

    async fn build_pending(&self) {
        // Writers wait while a build runs (fetches do not: they happen before the lock), so
        // the pending entities move into the build instead of being copied.
        let mut pending = self.write.lock().await;
        if pending.entries.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut pending.entries);
        let up_to = pending.requested;
        let published = self.snapshot();
        let mut stored: Vec<Stored> = published
            .stored()
            .filter(|s| !entries.contains_key(&s.location_id))
            .cloned()
            .collect();
        drop(published);
        let changed = entries.len();
        stored.extend(entries.into_values().flat_map(|(_, v)| v));
        let started = Instant::now();
        let built = tokio::task::spawn_blocking(move || Snapshot::build(stored, Vec::new())).await;
        tracing::debug!(
            locations = changed,
            duration_ms = started.elapsed().as_millis() as u64,
            "snapshot built"
        );
        match built {
            Ok(built) => {
                // Locations' status changes are published as they happen: keep the latest.
                let locations = self.snapshot().locations.clone();
                self.publish(built.with_locations(locations));
            }
            Err(e) => {
                // Storage has the changes; the next start-up loads them.
                tracing::error!(error = %e, "building the catalog snapshot failed; restart Backlot to serve the latest changes");
            }
        }
        self.built.send_replace(up_to);
        drop(pending);
    }

    /// Records a change of a location's entities (the write guard is held) and returns the
    /// number to wait for.
    pub(super) fn pending_change(
        &self,
        pending: &mut Pending,
        location_id: &str,
        entities: Vec<Stored>,
    ) -> u64 {
        let n = pending.change(location_id, entities);
        self.build_wanted.notify_one();
        n
    }

    /// Waits until the published snapshot includes change `n`.
    pub(super) async fn published(&self, n: u64) {
        let mut built = self.built.subscribe();
        let _ = built.wait_for(|b| *b >= n).await;
    }

    /// Makes the set of locations of one origin (config, demo, a discovery) exactly `wanted`;
    /// each is checked by its source, as trusted (no file-root confinement). Returns the ids
    /// of all of them.
    pub async fn sync_locations(
        &self,
        origin: &Origin,
        wanted: &[NewLocation],
    ) -> Result<Vec<String>, CatalogError> {
        let mut checked = Vec::with_capacity(wanted.len());
        for new in wanted {
            checked.push(
                self.sources
                    .of(new.location_type)?
                    .check(new.clone(), origin)?,
            );
        }
        let existing = self.store.locations().await?;
        let same = |l: &LocationRow, n: &NewLocation| {
            l.location_type == n.location_type.as_str() && l.target == n.target
        };
        let mut ids = Vec::new();
        for new in &checked {
            match existing.iter().find(|l| same(l, new)) {
                Some(l) => {
                    if l.branch != new.branch || l.path != new.path {
                        self.store
                            .update_location_spec(&l.id, new.branch.as_deref(), new.path.as_deref())
                            .await?;
                        self.cached_file_states().remove(&l.id);
                    }
                    ids.push(l.id.clone())
                }
                None => {
                    let row = new_location_row(new, origin);
                    self.store.insert_location(&row).await?;
                    self.versions().insert(row.id.clone(), 0);
                    ids.push(row.id);
                }
            }
        }
        let origin = origin.to_string();
        for l in existing.iter().filter(|l| l.origin == origin) {
            if !checked.iter().any(|n| same(l, n)) {
                tracing::info!(location.id = %l.id, location.target = %self.shown(&l.location_type, &l.target), "removing location no longer configured");
                self.delete_location(&l.id).await?;
            }
        }
        self.reload_locations().await?;
        Ok(ids)
    }

    /// A stored target as it may be shown and logged.
    pub(super) fn shown(&self, location_type: &str, target: &str) -> String {
        match LocationType::parse(location_type) {
            Ok(t) => self.sources.display_target(t, target),
            Err(_) => target.to_string(),
        }
    }

    /// The locations as storage has them.
    pub(super) async fn stored_locations(&self) -> Result<Vec<Arc<LocationInfo>>, CatalogError> {
        Ok(self
            .store
            .locations()
            .await?
            .into_iter()
            .filter_map(location_info)
            .map(Arc::new)
            .collect())
    }

    async fn reload_locations(&self) -> Result<(), CatalogError> {
        let _guard = self.write.lock().await;
        let locations = self.stored_locations().await?;
        self.publish(self.snapshot().with_locations(locations));
        Ok(())
    }

    /// Registers a location given by type and target (see [`CatalogService::register`]).
    pub async fn add_location(
        &self,
        location_type: &str,
        target: &str,
        dry_run: bool,
    ) -> Result<AddedLocation, CatalogError> {
        let new = NewLocation::parse(location_type, target, None, None)?;
        self.register(new, dry_run).await
    }

    /// Registers a location from the REST API or the UI. File targets must be inside the
    /// configured roots; Git ones must name a repository. With `dry_run`, reads it and reports
    /// what it would add, changing nothing.
    pub async fn register(
        &self,
        new: NewLocation,
        dry_run: bool,
    ) -> Result<AddedLocation, CatalogError> {
        let new = self
            .sources
            .of(new.location_type)?
            .check(new, &Origin::Api)?;
        let (location_type, target) = (new.location_type.as_str(), new.target.as_str());
        let existing = self.store.locations().await?;
        if let Some(l) = existing
            .iter()
            .find(|l| l.location_type == location_type && l.target == target)
        {
            let same = l.branch == new.branch && l.path == new.path;
            if !dry_run {
                let shown = self.sources.display_target(new.location_type, target);
                return Err(CatalogError::Conflict(if same {
                    format!("location {location_type}:{shown} is already registered")
                } else {
                    format!(
                        "{shown} is already registered (branch {}, path {}); a repository is registered once: unregister it first, or use a glob path that covers every file",
                        l.branch.as_deref().unwrap_or("default"),
                        l.path.as_deref().unwrap_or("default")
                    )
                }));
            }
            if same {
                if let Some(location) = location_info(l.clone()) {
                    let entities = AddedEntities::of_location(self.snapshot(), &l.id);
                    return Ok(AddedLocation {
                        location,
                        entities,
                        exists: true,
                    });
                }
            }
        }
        let row = new_location_row(&new, &Origin::Api);
        let info = location_info(row.clone())
            .ok_or_else(|| CatalogError::Internal("a new location is unreadable".into()))?;
        if dry_run {
            let prepared = self.prepare(&info, false).await?;
            let read = self.read(prepared, Default::default()).await?;
            // One pass over what was read: the entities move into the preview, not copied.
            let mut info = info;
            info.problems = read.problems;
            let mut preview = Vec::new();
            for f in read.files {
                match f {
                    FileOutcome::Read {
                        entities, problems, ..
                    } => {
                        info.problems.extend(problems);
                        preview.extend(entities.into_iter().map(|e| e.stored));
                    }
                    FileOutcome::Failed { problem, .. } => info.problems.push(problem),
                    FileOutcome::Unchanged { .. } => {}
                }
            }
            let entities = AddedEntities::Preview(preview);
            return Ok(AddedLocation {
                location: info,
                entities,
                exists: false,
            });
        }
        self.versions().insert(row.id.clone(), 0);
        match self.store.insert_location(&row).await {
            Err(crate::storage::StorageError::Conflict) => {
                return Err(CatalogError::Conflict(format!(
                    "location {target} is already registered"
                )))
            }
            other => other?,
        }
        tracing::info!(location.id = %row.id, location.target = %self.sources.display_target(new.location_type, target), "location registered");
        if let Err(e) = self.refresh_now(&row.id).await {
            // Registered all the same: the location shows the error and is retried.
            e.reported("first read of a new location");
        }
        let snap = self.snapshot();
        let location = snap
            .locations
            .iter()
            .find(|l| l.id == row.id)
            .map(|l| (**l).clone())
            .unwrap_or(info);
        Ok(AddedLocation {
            entities: AddedEntities::of_location(snap, &row.id),
            location,
            exists: false,
        })
    }

    /// Removes a location registered through the API, with every entity it provided.
    /// Locations from the config file (or the demo) are refused: they would come back.
    pub async fn unregister_location(&self, id: &str) -> Result<(), CatalogError> {
        let snap = self.snapshot();
        match snap.locations.iter().find(|l| l.id == id) {
            None => Err(CatalogError::NotFound(format!("no location with id {id}"))),
            Some(l) if l.origin != Origin::Api => Err(CatalogError::Forbidden(format!(
                "location {} comes from the {}; remove it there (catalog.locations in the config file, or catalog.demo: never)",
                self.sources.display_target(l.location_type, &l.target),
                match l.origin {
                    Origin::Demo => "demo organisation",
                    Origin::Discovery(_) => "discovery (git.discovery in the config file)",
                    _ => "config file",
                }
            ))),
            Some(_) => self.delete_location(id).await,
        }
    }

    /// Removes a location and every entity it provided.
    pub async fn delete_location(&self, id: &str) -> Result<(), CatalogError> {
        let mut pending = self.write.lock().await;
        if !self.store.delete_location(id).await? {
            return Err(CatalogError::NotFound(format!("no location with id {id}")));
        }
        self.cached_file_states().remove(id);
        self.versions().remove(id);
        let locations = self.stored_locations().await?;
        self.publish(self.snapshot().with_locations(locations));
        let n = self.pending_change(&mut pending, id, Vec::new());
        drop(pending);
        self.published(n).await;
        tracing::info!(location.id = %id, "location removed");
        Ok(())
    }

    /// Re-reads every location.
    /// Repositories are fetched in parallel (up to `git.max_concurrent_fetches`); changes are
    /// applied one location at a time.
    pub async fn refresh_all(self: &Arc<Self>) -> Result<(), CatalogError> {
        let ids: Vec<String> = self
            .store
            .locations()
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for id in ids {
            let this = self.clone();
            tasks.spawn(async move {
                if let Err(e) = this.refresh_now(&id).await {
                    e.reported("refresh of every location");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(())
    }

    /// Where an entity's files can be read now (for Git: its location's last commit), as its
    /// location's source says.
    pub fn entity_files(&self, key: &RefKey) -> Option<Arc<dyn EntityFiles>> {
        let snap = self.snapshot();
        let record = snap.get_key(key)?;
        let l = snap
            .locations
            .iter()
            .find(|l| l.id == record.stored.location_id)?;
        self.source_of(l).ok()?.files(l, &record.stored.source_file)
    }

    /// Re-reads the location that provides an entity (`POST /refresh`).
    pub async fn refresh_entity(&self, key: &RefKey) -> Result<(), CatalogError> {
        let location_id = self
            .snapshot()
            .get_key(key)
            .map(|r| r.stored.location_id.clone())
            .ok_or_else(|| CatalogError::NotFound(format!("no entity {key}")))?;
        self.refresh_location(&location_id).await
    }

    pub(super) async fn location_row(&self, id: &str) -> Result<LocationRow, CatalogError> {
        self.store
            .location(id)
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("no location with id {id}")))
    }

    pub(super) fn versions(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.versions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn cached_file_states(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<FileStates>>> {
        self.file_states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A stored location as the snapshot holds it; `None` (logged) for a type this build does not
/// know.
pub(super) fn location_info(row: LocationRow) -> Option<LocationInfo> {
    let location_type = match LocationType::parse(&row.location_type) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(location.id = %row.id, error = %e, "stored location skipped");
            return None;
        }
    };
    Some(LocationInfo {
        problems: serde_json::from_str(&row.problems).unwrap_or_default(),
        origin: Origin::parse(&row.origin),
        id: row.id,
        location_type,
        target: row.target,
        last_refresh_at: row.last_refresh_at,
        branch: row.branch,
        path: row.path,
        commit: row.commit_id,
        last_success_at: row.last_success_at,
        last_error: row.last_error,
        failures: row.failures.max(0) as u32,
    })
}

fn new_location_row(new: &NewLocation, origin: &Origin) -> LocationRow {
    LocationRow {
        id: uuid::Uuid::new_v4().to_string(),
        location_type: new.location_type.to_string(),
        target: new.target.clone(),
        origin: origin.to_string(),
        created_at: now_rfc3339(),
        last_refresh_at: None,
        problems: "[]".into(),
        branch: new.branch.clone(),
        path: new.path.clone(),
        commit_id: None,
        last_success_at: None,
        last_error: None,
        failures: 0,
        version: 0,
    }
}

#[cfg(test)]
mod tests {
    use crate::both_databases;
    use crate::test_support::{component, Harness};

    both_databases!(
        remembered_file_states_match_storage,
        setup = Harness::new,
        |h| {
            h.write("cat/a.yaml", &component("a", "t"));
            h.write("cat/b.yaml", &component("b", "t"));
            let glob = format!("{}/cat/*.yaml", h.root.display());
            h.catalog.add_location("file", &glob, false).await.unwrap();
            let id = h.catalog.snapshot().locations[0].id.clone();
            let check = |step: &'static str| {
                let catalog = h.catalog.clone();
                let id = id.clone();
                async move {
                    let remembered = catalog.file_states(&id).await.unwrap();
                    let stored = catalog.load_file_states(&id).await.unwrap();
                    assert_eq!(*remembered, stored, "{step}");
                    assert!(!stored.is_empty(), "{step}");
                }
            };
            check("after the first read").await;
            h.catalog.refresh_location(&id).await.unwrap();
            check("after a refresh that changed nothing").await;
            // Same size, new content and modification time; a new file; a removed file.
            std::thread::sleep(std::time::Duration::from_millis(20));
            h.write("cat/a.yaml", &component("x", "t"));
            h.write("cat/c.yaml", &component("c", "t"));
            std::fs::remove_file(h.root.join("cat/b.yaml")).unwrap();
            h.catalog.refresh_location(&id).await.unwrap();
            check("after changes").await;
            let snap = h.catalog.snapshot();
            let names: Vec<&str> = snap
                .records
                .iter()
                .map(|r| r.entity_ref().name.as_str())
                .collect();
            assert_eq!(names, ["c", "x"]);
            assert_eq!(h.catalog.file_states(&id).await.unwrap().len(), 2);
        }
    );
}
