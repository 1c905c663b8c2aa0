//! The catalog service: the one place that changes the catalog. Registering, refreshing and
//! removing locations go through it (the permission check of a later release sits here), it
//! writes to storage and publishes a new in-memory snapshot for readers.

use super::processing::{
    self, FileOutcome, LocationRead, PreviousFile, ProcessedEntity, ReadContext,
};
use super::reference::RefKey;
use super::snapshot::{LocationInfo, Snapshot, Stored};
use super::CatalogError;
use crate::git::mirror::Head;
use crate::git::url::redact_url;
use crate::git::{GitSettings, GitSpec, Mirrors};
use crate::metrics::Metrics;
use crate::storage::{Attempt, Changes, EntityRow, LocationRow, SourceRow, Store};
use crate::util::now_rfc3339;
use app::model::{EntityRef, ProblemView, Severity};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// What happens to entities that no location emits any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrphanStrategy {
    Delete,
    Keep,
}

#[derive(Debug, Clone)]
pub struct CatalogSettings {
    /// Directories file locations may read from (canonical paths).
    pub file_roots: Vec<PathBuf>,
    pub orphans: OrphanStrategy,
    /// How often file locations are read.
    pub refresh_interval: Duration,
    /// Where Git mirrors live (under `git/`) unless `git.mirror_dir` says otherwise.
    pub data_dir: PathBuf,
    pub git: GitSettings,
}

/// A location to register: a file or glob, or a Git repository (`git`, or Backstage's `url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLocation {
    pub location_type: String,
    pub target: String,
    /// Git: branch (default: the remote's default branch).
    pub branch: Option<String>,
    /// Git: path or glob in the repository (default `**/catalog-info.yaml`).
    pub path: Option<String>,
}

impl NewLocation {
    pub fn new(location_type: &str, target: &str) -> NewLocation {
        NewLocation {
            location_type: location_type.to_string(),
            target: target.to_string(),
            branch: None,
            path: None,
        }
    }
}

/// Locations read from Git rather than the file system.
pub fn is_git(location_type: &str) -> bool {
    matches!(location_type, "git" | "url")
}

impl CatalogSettings {
    /// Whether a location registered through the API or the UI may read `path`.
    pub fn allows(&self, path: &Path) -> bool {
        self.file_roots.iter().any(|root| path.starts_with(root))
    }

    /// Whether a location of this origin may read `path`: the config file, the demo and
    /// discovery are trusted (an operator wrote them); the roots confine only what arrives
    /// through the API and the UI.
    pub fn may_read(&self, origin: &str, path: &Path) -> bool {
        origin != "api" || self.allows(path)
    }
}

/// Prefix of the problem added to an entity whose source broke and which keeps its last good version.
pub const STALE_PREFIX: &str = "Showing the last good version:";
/// Prefix of the problem on an entity kept after its source stopped emitting it.
pub const ORPHAN_PREFIX: &str = "Orphaned:";

pub struct CatalogService {
    store: Store,
    settings: CatalogSettings,
    metrics: Arc<Metrics>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// One writer at a time; it holds the changes not yet in the published snapshot.
    write: tokio::sync::Mutex<Pending>,
    /// Wakes the snapshot builder.
    build_wanted: Arc<tokio::sync::Notify>,
    /// The last change (see [`Pending::requested`]) the published snapshot includes.
    built: tokio::sync::watch::Sender<u64>,
    /// Per location id: the state of its files after the last refresh (as in the `sources`
    /// table), kept so that a refresh that finds nothing changed reads nothing from storage.
    /// Dropped when a refresh changes something; loaded again on the next one.
    file_states: std::sync::Mutex<HashMap<String, Arc<FileStates>>>,
    git: Mirrors,
    /// This process, as lease owner.
    owner: String,
    /// Each location's version as this process last wrote or loaded it; another process's
    /// write shows as a difference (see [`CatalogService::spawn_sync_loop`]).
    versions: std::sync::Mutex<HashMap<String, i64>>,
}

/// Path → what was remembered about that file.
type FileStates = HashMap<String, PreviousFile>;

/// Changes written to storage but not yet in the published snapshot.
///
/// Building a snapshot stitches the whole catalog (tens of milliseconds at 10k entities), so
/// it is not done once per location: a builder task rebuilds as often as it can, each time with
/// every change made since the last build. Writers see the published snapshot overridden by
/// these entries (see [`WriterView`]); a refresh returns once a snapshot with its change is
/// published. The builder holds the write lock while it builds, so writers queue up (their
/// fetches do not) and the next build takes all of their changes at once.
#[derive(Default)]
struct Pending {
    /// Location id → (change number, its entities now; empty when the location was removed).
    entries: HashMap<String, (u64, Vec<Stored>)>,
    /// Number of the last change.
    requested: u64,
}

impl Pending {
    fn change(&mut self, location_id: &str, entities: Vec<Stored>) -> u64 {
        self.requested += 1;
        self.entries
            .insert(location_id.to_string(), (self.requested, entities));
        self.requested
    }
}

/// The catalog as a writer must see it: the published snapshot with the pending changes over it.
struct WriterView<'a> {
    published: &'a Snapshot,
    pending: &'a Pending,
    /// Entities of the pending changes by key.
    pending_keys: HashMap<&'a RefKey, &'a Stored>,
}

impl<'a> WriterView<'a> {
    fn new(published: &'a Snapshot, pending: &'a Pending) -> Self {
        let pending_keys = pending
            .entries
            .values()
            .flat_map(|(_, v)| v.iter().map(|s| (&s.key, s)))
            .collect();
        WriterView {
            published,
            pending,
            pending_keys,
        }
    }

    /// The entities a location provides now.
    fn of_location(&self, id: &str) -> Vec<&'a Stored> {
        match self.pending.entries.get(id) {
            Some((_, v)) => v.iter().collect(),
            None => self
                .published
                .stored()
                .filter(|s| s.location_id == id)
                .collect(),
        }
    }

    /// The entity with this key, whichever location provides it.
    fn get(&self, key: &RefKey) -> Option<&'a Stored> {
        if let Some(s) = self.pending_keys.get(key) {
            return Some(s);
        }
        self.published
            .get_key(key)
            .map(|r| &r.stored)
            .filter(|s| !self.pending.entries.contains_key(&s.location_id))
    }
}

/// Where an entity's files live (see [`CatalogService::entity_source`]).
#[derive(Debug, Clone)]
pub enum EntitySource {
    /// A commit of a repository's mirror; `file` is the descriptor's path in the repository.
    Git {
        mirror: PathBuf,
        commit: String,
        branch: String,
        file: String,
        spec: GitSpec,
    },
    /// A folder on disk (inside the allowed roots) holding the descriptor `file` (absolute).
    Files { dir: PathBuf, file: String },
}

/// Outcome of registering a location (or of a dry run).
#[derive(Debug, Clone)]
pub struct AddedLocation {
    pub location: LocationInfo,
    /// The entities it provides (for a dry run: would provide).
    pub entities: AddedEntities,
    /// The location was already registered.
    pub exists: bool,
}

/// The entities of a registration, kept as the catalog holds them and written out on demand.
///
/// They are never turned into `serde_json::Value`s: at 10k entities those cost hundreds of MiB
/// for one response, which glibc's allocator keeps long after the response is gone (issue 10).
#[derive(Clone)]
pub enum AddedEntities {
    /// Registered: the records of the published snapshot at these positions.
    Catalog {
        snapshot: Arc<Snapshot>,
        records: Vec<usize>,
    },
    /// A dry run: the entities as read, not stitched (nothing is stored).
    Preview(Vec<Stored>),
}

impl std::fmt::Debug for AddedEntities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedEntities")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl AddedEntities {
    fn of_location(snapshot: Arc<Snapshot>, location_id: &str) -> AddedEntities {
        let records = snapshot
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.stored.location_id == location_id)
            .map(|(i, _)| i)
            .collect();
        AddedEntities::Catalog { snapshot, records }
    }

    pub fn len(&self) -> usize {
        match self {
            AddedEntities::Catalog { records, .. } => records.len(),
            AddedEntities::Preview(entities) => entities.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends entity `i` as the REST API serves it (stitched when registered).
    fn write_one(&self, i: usize, out: &mut String) {
        match self {
            AddedEntities::Catalog { snapshot, records } => {
                snapshot.records[records[i]].write_json(out)
            }
            AddedEntities::Preview(entities) => out.push_str(&entities[i].body),
        }
    }

    /// The entities as one JSON array, in pieces of `per_chunk` entities, written as the
    /// pieces are asked for: a response streams them without ever holding the whole array.
    pub fn into_json_chunks(self, per_chunk: usize) -> impl Iterator<Item = String> + Send {
        let n = self.len();
        let per_chunk = per_chunk.max(1);
        let mut next = 0;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut out = String::new();
            if next == 0 {
                out.push('[');
            }
            let end = (next + per_chunk).min(n);
            for i in next..end {
                if i > 0 {
                    out.push(',');
                }
                self.write_one(i, &mut out);
            }
            next = end;
            if next == n {
                out.push(']');
                done = true;
            }
            Some(out)
        })
    }

    /// The entities as the UI lists them, sorted by reference.
    pub fn summaries(&self) -> Vec<app::model::EntitySummary> {
        let mut out: Vec<app::model::EntitySummary> = match self {
            AddedEntities::Catalog { snapshot, records } => records
                .iter()
                .map(|&i| super::views::summary(&snapshot.records[i]))
                .collect(),
            AddedEntities::Preview(entities) => entities
                .iter()
                .filter_map(|e| super::admin::summary_of(&e.value()))
                .collect(),
        };
        out.sort_by_cached_key(|e| e.entity_ref.to_ref_string());
        out
    }
}

impl CatalogService {
    /// Loads what storage holds into a first snapshot.
    pub async fn open(
        store: Store,
        settings: CatalogSettings,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, CatalogError> {
        let locations = store
            .locations()
            .await?
            .into_iter()
            .map(|row| Arc::new(location_info(row)))
            .collect();
        let rows = store.entities().await?;
        let stored = tokio::task::spawn_blocking(move || {
            rows.into_iter()
                .filter_map(stored_from_row)
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| CatalogError::Internal(e.to_string()))?;
        let snapshot = tokio::task::spawn_blocking(move || Snapshot::build(stored, locations))
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        metrics.set_entities(snapshot.records.len());
        let git = Mirrors::new(&settings.data_dir, settings.git.clone());
        let versions = store.location_versions().await?.into_iter().collect();
        let this = Arc::new(Self {
            build_wanted: Arc::new(tokio::sync::Notify::new()),
            built: tokio::sync::watch::channel(0).0,
            git,
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

    fn publish(&self, snapshot: Snapshot) {
        self.metrics.set_entities(snapshot.records.len());
        let new = Arc::new(snapshot);
        match self.snapshot.write() {
            Ok(mut s) => *s = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
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
    fn pending_change(
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
    async fn published(&self, n: u64) {
        let mut built = self.built.subscribe();
        let _ = built.wait_for(|b| *b >= n).await;
    }

    /// Makes the set of locations of one origin (`config` or `demo`) exactly `wanted`, without
    /// any file-root check (these come from the operator). Returns ids of all of them.
    pub async fn sync_locations(
        &self,
        origin: &str,
        wanted: &[NewLocation],
    ) -> Result<Vec<String>, CatalogError> {
        let existing = self.store.locations().await?;
        let mut ids = Vec::new();
        for new in wanted {
            if is_git(&new.location_type) {
                GitSpec::from_location(
                    &new.location_type,
                    &new.target,
                    new.branch.as_deref(),
                    new.path.as_deref(),
                )
                .map_err(|e| CatalogError::InvalidInput(e.to_string()))?;
            }
            match existing
                .iter()
                .find(|l| l.location_type == new.location_type && l.target == new.target)
            {
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
        for l in existing.iter().filter(|l| l.origin == origin) {
            if !wanted
                .iter()
                .any(|n| n.location_type == l.location_type && n.target == l.target)
            {
                tracing::info!(location.id = %l.id, location.target = %redact_url(&l.target), "removing location no longer configured");
                self.delete_location(&l.id).await?;
            }
        }
        self.reload_locations().await?;
        Ok(ids)
    }

    /// The locations as storage has them.
    async fn stored_locations(&self) -> Result<Vec<Arc<LocationInfo>>, CatalogError> {
        Ok(self
            .store
            .locations()
            .await?
            .into_iter()
            .map(|row| Arc::new(location_info(row)))
            .collect())
    }

    async fn reload_locations(&self) -> Result<(), CatalogError> {
        let _guard = self.write.lock().await;
        let locations = self.stored_locations().await?;
        self.publish(self.snapshot().with_locations(locations));
        Ok(())
    }

    /// Registers a file location (see [`CatalogService::register`]).
    pub async fn add_location(
        &self,
        location_type: &str,
        target: &str,
        dry_run: bool,
    ) -> Result<AddedLocation, CatalogError> {
        self.register(NewLocation::new(location_type, target), dry_run)
            .await
    }

    /// Registers a location from the REST API or the UI. File targets must be inside the
    /// configured roots; Git ones must name a repository. With `dry_run`, reads it and reports
    /// what it would add, changing nothing.
    pub async fn register(
        &self,
        new: NewLocation,
        dry_run: bool,
    ) -> Result<AddedLocation, CatalogError> {
        let new = if is_git(&new.location_type) {
            let spec = GitSpec::from_location(
                &new.location_type,
                &new.target,
                new.branch.as_deref(),
                new.path.as_deref(),
            )
            .map_err(|e| CatalogError::InvalidInput(e.to_string()))?;
            // A repository on this machine is a file like any other: only inside the roots.
            if let Some(path) = spec.url.strip_prefix("file://") {
                let p = Path::new(path);
                let canonical = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
                if !self.settings.allows(&canonical) {
                    return Err(CatalogError::Forbidden(format!(
                        "{path} is outside the directories Backlot may read; allow it with catalog.file_roots in the config or BACKLOT_FILE_ROOTS"
                    )));
                }
            }
            NewLocation {
                target: new.target.trim().to_string(),
                branch: spec.branch.filter(|_| new.location_type == "git"),
                path: new
                    .path
                    .map(|_| spec.path)
                    .filter(|_| new.location_type == "git"),
                ..new
            }
        } else if new.location_type == "file" {
            let target = absolute_target(&new.target)?;
            let check = glob_base(&target);
            let canonical = check.canonicalize().unwrap_or(check.clone());
            if !self.settings.allows(&canonical) {
                return Err(CatalogError::Forbidden(format!(
                    "{target} is outside the directories file locations may read; allow it with catalog.file_roots in the config or BACKLOT_FILE_ROOTS (a ':'-separated list)"
                )));
            }
            NewLocation::new("file", &target)
        } else {
            return Err(CatalogError::InvalidInput(format!(
                "location type \"{}\" is not supported; use \"file\", \"git\" or \"url\"",
                new.location_type
            )));
        };
        let (location_type, target) = (new.location_type.as_str(), new.target.as_str());
        let existing = self.store.locations().await?;
        if let Some(l) = existing
            .iter()
            .find(|l| l.location_type == location_type && l.target == target)
        {
            let same = l.branch == new.branch && l.path == new.path;
            if !dry_run {
                let shown = redact_url(target);
                return Err(CatalogError::Conflict(if same {
                    format!("location {location_type}:{shown} is already registered")
                } else {
                    format!(
                        "{shown} is already registered (branch {}, path {}); a repository is registered once: unregister it first, or use a glob path that covers every file",
                        l.branch.as_deref().unwrap_or("default"),
                        l.path.as_deref().unwrap_or(crate::git::spec::DEFAULT_PATH)
                    )
                }));
            }
            if same {
                let entities = AddedEntities::of_location(self.snapshot(), &l.id);
                return Ok(AddedLocation {
                    location: location_info(l.clone()),
                    entities,
                    exists: true,
                });
            }
        }
        let row = new_location_row(&new, "api");
        if dry_run {
            let head = self.fetch(&row, false).await?;
            let read = self.read(&row, head.as_ref(), Default::default()).await?;
            // One pass over what was read: the entities move into the preview, not copied.
            let mut info = location_info(row);
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
        tracing::info!(location.id = %row.id, location.target = %redact_url(target), "location registered");
        if let Err(e) = self.refresh_location(&row.id).await {
            // Registered all the same: the location shows the error and is retried.
            tracing::warn!(location.id = %row.id, error = %e, "first read of a new location failed");
        }
        let snap = self.snapshot();
        let location = snap
            .locations
            .iter()
            .find(|l| l.id == row.id)
            .map(|l| (**l).clone())
            .unwrap_or_else(|| location_info(row.clone()));
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
            Some(l) if l.origin != "api" => Err(CatalogError::Forbidden(format!(
                "location {} comes from the {}; remove it there (catalog.locations in the config file, or catalog.demo: never)",
                l.target,
                if l.origin == "demo" { "demo organisation" } else { "config file" }
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
                if let Err(e) = this.refresh_location(&id).await {
                    tracing::warn!(location.id = %id, error = %e, "location refresh failed");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(())
    }

    /// A push reported by a webhook: refreshes, in the background, every Git location of the
    /// pushed repository that reads the pushed branch (or the default branch, which the push
    /// may have been to). Returns their ids.
    pub fn on_push(self: &Arc<Self>, push: &crate::git::webhook::PushEvent) -> Vec<String> {
        let snap = self.snapshot();
        let ids: Vec<String> = snap
            .locations
            .iter()
            .filter_map(|l| {
                let spec = l.git_spec()?;
                let wanted = self.git.branch_of(&spec);
                let branch_matches = match (wanted, &push.branch) {
                    (Some(wanted), Some(pushed)) => &wanted == pushed,
                    // Default branch not known yet: the push may have been to it.
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                (branch_matches && push.matches_repo(&spec.url)).then(|| l.id.clone())
            })
            .collect();
        for id in &ids {
            let (this, id) = (self.clone(), id.clone());
            tokio::spawn(async move {
                let pushed = async {
                    this.take_lease(&id, true).await?;
                    let result = this.refresh_leased(&id, true, None).await;
                    this.release_lease(&id).await;
                    result
                };
                if let Err(e) = pushed.await {
                    tracing::warn!(location.id = %id, error = %e, "refresh after a push failed");
                }
            });
        }
        ids
    }

    /// Runs every configured discovery once: the repositories each finds become its Git
    /// locations (origin `discovery:<name>`); ones it no longer finds are removed. A discovery
    /// that fails changes nothing and is logged.
    pub async fn discover(&self) {
        for cfg in &self.settings.git.discovery {
            let run = cfg.clone();
            let found =
                tokio::task::spawn_blocking(move || crate::git::discovery::discover(&run)).await;
            let repos = match found {
                Ok(Ok(repos)) => repos,
                Ok(Err(e)) => {
                    tracing::warn!(discovery = %cfg.name, error = %e, "discovery failed; its locations stay as they were");
                    continue;
                }
                Err(e) => {
                    tracing::error!(discovery = %cfg.name, error = %e, "discovery panicked");
                    continue;
                }
            };
            let mut wanted = Vec::new();
            for repo in &repos {
                match cfg.spec_for(repo) {
                    Ok(spec) => wanted.push(NewLocation {
                        location_type: "git".into(),
                        target: spec.url,
                        branch: spec.branch,
                        path: cfg.path.clone(),
                    }),
                    Err(e) => {
                        tracing::warn!(discovery = %cfg.name, repository = %repo.name, error = %e, "repository skipped")
                    }
                }
            }
            match self.sync_locations(&cfg.origin(), &wanted).await {
                Ok(ids) => {
                    tracing::info!(discovery = %cfg.name, repositories = ids.len(), "discovery done")
                }
                Err(e) => {
                    tracing::warn!(discovery = %cfg.name, error = %e, "could not register discovered repositories")
                }
            }
        }
    }

    /// Discovery again every `git.discovery_interval_secs` (nothing when none is configured).
    pub fn spawn_discovery_loop(self: &Arc<Self>) {
        if self.settings.git.discovery.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(this.settings.git.discovery_interval_secs.max(10));
            loop {
                tokio::time::sleep(every).await;
                this.discover().await;
            }
        });
    }

    /// Where an entity's files can be read now: its repository's mirror at the location's
    /// last commit, or the folder of its descriptor file.
    pub fn entity_source(&self, key: &RefKey) -> Option<EntitySource> {
        let snap = self.snapshot();
        let record = snap.get_key(key)?;
        let l = snap
            .locations
            .iter()
            .find(|l| l.id == record.stored.location_id)?;
        let file = record.stored.source_file.clone();
        if let Some(spec) = l.git_spec() {
            let branch = self.git.branch_of(&spec)?;
            Some(EntitySource::Git {
                mirror: self.git.mirror_path(&spec.url),
                commit: l.commit.clone()?,
                branch,
                file,
                spec,
            })
        } else {
            let path = PathBuf::from(&file);
            let dir = path.parent()?.to_path_buf();
            self.settings
                .may_read(&l.origin, &dir)
                .then_some(EntitySource::Files { dir, file })
        }
    }

    /// Visits to Git remotes this process has made (clone, ls-remote or fetch).
    pub fn fetch_count(&self) -> u64 {
        self.git.fetch_count()
    }

    /// Largest file read from a repository, in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        self.settings.git.max_file_kib.saturating_mul(1024)
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

    /// Git locations: fetches the branch into the mirror (network time, no lock held).
    /// `None` for other locations.
    async fn fetch(&self, row: &LocationRow, moved: bool) -> Result<Option<Head>, CatalogError> {
        if !is_git(&row.location_type) {
            return Ok(None);
        }
        let spec = git_spec(row)?;
        let head = self
            .git
            .fetch(&spec, moved)
            .await
            .map_err(|e| CatalogError::Source(e.to_string()))?;
        Ok(Some(head))
    }

    /// Reads a location's files: from the file system, or from a fetched commit.
    async fn read(
        &self,
        row: &LocationRow,
        head: Option<&Head>,
        previous: Arc<FileStates>,
    ) -> Result<LocationRead, CatalogError> {
        let settings = self.settings.clone();
        let row = row.clone();
        let head = head.cloned();
        tokio::task::spawn_blocking(move || {
            let prev = |p: &str| previous.get(p);
            match head {
                Some(head) => {
                    let spec = git_spec(&row)?;
                    let max_blob = settings.git.max_file_kib.saturating_mul(1024);
                    let tree =
                        crate::git::tree::RepoTree::open(&head.mirror, &head.commit, max_blob)
                            .map_err(|e| CatalogError::Source(e.to_string()))?;
                    let origin = spec.location_ref(&head.branch, &spec.path);
                    let ctx = crate::git::read::GitRead {
                        spec: &spec,
                        branch: &head.branch,
                        origin: &origin,
                        previous: &prev,
                    };
                    Ok(crate::git::read::read_commit(&tree, &ctx))
                }
                None => {
                    let allowed = |p: &Path| settings.may_read(&row.origin, p);
                    let ctx = ReadContext {
                        origin: format!("{}:{}", row.location_type, row.target),
                        allowed: &allowed,
                        previous: &prev,
                    };
                    Ok(processing::read_location(
                        &row.location_type,
                        &row.target,
                        &ctx,
                    ))
                }
            }
        })
        .await
        .map_err(|e| CatalogError::Internal(e.to_string()))?
    }

    async fn location_row(&self, id: &str) -> Result<LocationRow, CatalogError> {
        self.store
            .location(id)
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("no location with id {id}")))
    }

    /// Records a successful visit that changed no entity, in storage and in the snapshot.
    async fn record_success(
        &self,
        id: &str,
        problems_json: &str,
        commit: Option<&str>,
        problems: Option<Vec<ProblemView>>,
    ) -> Result<(), CatalogError> {
        let now = now_rfc3339();
        let attempt = Attempt::Succeeded {
            problems: problems_json,
            commit_id: commit,
        };
        self.store.record_attempt(id, &now, attempt).await?;
        self.update_location(id, |l| {
            let problems = problems.unwrap_or_else(|| l.problems.clone());
            l.succeeded(&now, problems, commit)
        });
        Ok(())
    }

    /// Records an attempt that could not read the location: what it had stays, marked stale.
    async fn record_failure(&self, id: &str, error: &str) -> Result<(), CatalogError> {
        let _guard = self.write.lock().await;
        let now = now_rfc3339();
        self.store
            .record_attempt(id, &now, Attempt::Failed { error })
            .await?;
        self.update_location(id, |l| {
            l.last_refresh_at = Some(now.clone());
            l.last_error = Some(error.to_string());
            l.failures += 1;
        });
        tracing::warn!(location.id = %id, error = %error, "location could not be read");
        Ok(())
    }

    /// Publishes the snapshot with one location's status changed.
    fn update_location(&self, id: &str, change: impl FnOnce(&mut LocationInfo)) {
        let current = self.snapshot();
        let mut locations = current.locations.clone();
        if let Some(l) = locations.iter_mut().find(|l| l.id == id) {
            change(Arc::make_mut(l));
            self.publish(current.with_locations(locations));
        }
    }

    /// The remembered state of a location's files: from memory, else from storage.
    async fn file_states(&self, id: &str) -> Result<Arc<FileStates>, CatalogError> {
        if let Some(states) = self.cached_file_states().get(id) {
            return Ok(states.clone());
        }
        let states = Arc::new(self.load_file_states(id).await?);
        self.cached_file_states()
            .insert(id.to_string(), states.clone());
        Ok(states)
    }

    async fn load_file_states(&self, id: &str) -> Result<FileStates, CatalogError> {
        Ok(self
            .store
            .sources(id)
            .await?
            .into_iter()
            .map(|s| {
                let targets: Vec<(String, String)> =
                    serde_json::from_str(&s.targets).unwrap_or_default();
                let state = PreviousFile {
                    hash: s.hash,
                    clean: s.clean,
                    modified_ns: s.modified_ns,
                    size: s.size.max(0) as u64,
                    targets,
                };
                (s.path, state)
            })
            .collect())
    }

    fn versions(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.versions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

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
                let rows = self.store.entities_of(id).await?;
                rows.into_iter().filter_map(stored_from_row).collect()
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

    fn cached_file_states(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<FileStates>>> {
        self.file_states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads one location and applies what changed: new and updated entities, removals,
    /// problems. Broken files keep their entities' last good version; a repository that cannot
    /// be fetched keeps everything and the location records the error.
    pub async fn refresh_location(&self, id: &str) -> Result<(), CatalogError> {
        self.take_lease(id, true).await?;
        let result = self.refresh_leased(id, false, None).await;
        self.release_lease(id).await;
        result
    }

    /// A scheduled visit: skipped when another process holds the location's lease or read it
    /// recently (several processes on one database share the work). Returns whether it ran.
    pub async fn refresh_scheduled(&self, id: &str) -> Result<bool, CatalogError> {
        let row = self.location_row(id).await?;
        let recent = row
            .last_refresh_at
            .as_deref()
            .and_then(crate::util::parse_rfc3339_ms)
            .is_some_and(|at| {
                let interval = self.interval(&row.location_type).as_millis() as i64;
                crate::util::now_ms() - at < interval * 8 / 10
            });
        if recent && row.failures == 0 {
            return Ok(false);
        }
        if !self.take_lease(id, false).await? {
            return Ok(false);
        }
        let result = self.refresh_leased(id, false, Some(row)).await;
        self.release_lease(id).await;
        result.map(|()| true)
    }

    /// Takes the location's lease; with `wait`, waits for another process to finish first.
    /// Only PostgreSQL is shared by several processes: on SQLite there is nothing to take.
    async fn take_lease(&self, id: &str, wait: bool) -> Result<bool, CatalogError> {
        if !self.shared_database() {
            return Ok(true);
        }
        let hold = (self.settings.git.fetch_timeout_secs as i64 + 60) * 1000;
        let deadline =
            Instant::now() + Duration::from_secs(self.settings.git.fetch_timeout_secs + 10);
        loop {
            let now = crate::util::now_ms();
            if self
                .store
                .try_lease(id, &self.owner, now, now + hold)
                .await?
            {
                return Ok(true);
            }
            if !wait {
                return Ok(false);
            }
            if Instant::now() > deadline {
                return Err(CatalogError::Conflict(format!(
                    "location {id} is being refreshed by another Backlot process; try again shortly"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether other processes may use the database (PostgreSQL).
    fn shared_database(&self) -> bool {
        self.store.backend() == "postgres"
    }

    async fn release_lease(&self, id: &str) {
        if !self.shared_database() {
            return;
        }
        if let Err(e) = self.store.release_lease(id, &self.owner).await {
            tracing::warn!(location.id = %id, error = %e, "could not release a location lease; it expires by itself");
        }
    }

    /// `pushed`: a webhook said the branch moved, so it is fetched without asking first.
    /// `row`: the location as just read, when the caller has it.
    async fn refresh_leased(
        &self,
        id: &str,
        pushed: bool,
        row: Option<LocationRow>,
    ) -> Result<(), CatalogError> {
        let started = Instant::now();
        let row = match row {
            Some(r) => r,
            None => self.location_row(id).await?,
        };
        let head = match self.fetch(&row, pushed).await {
            Ok(h) => h,
            Err(e) => {
                self.record_failure(id, &e.to_string()).await?;
                return Err(e);
            }
        };
        let mut pending = self.write.lock().await;
        // Under the lock: another refresh may have finished meanwhile.
        let current = self.snapshot();
        // A location registered a moment ago is not in the snapshot yet: never read before.
        let before = current.locations.iter().find(|l| l.id == id);
        let clean_before = before.is_some_and(|l| {
            l.problems.is_empty() && l.last_error.is_none() && l.last_refresh_at.is_some()
        });
        let before_commit = before.and_then(|l| l.commit.clone());
        if let Some(h) = &head {
            if clean_before && before_commit.as_deref() == Some(h.commit.as_str()) {
                // The head did not move and the last read was clean: nothing to read.
                self.record_success(id, "[]", Some(&h.commit), None).await?;
                self.metrics.record_refresh(started.elapsed(), 0, 0, 0);
                tracing::debug!(location.id = %id, commit = %h.commit, "repository unchanged");
                return Ok(());
            }
        }
        let previous = self.file_states(id).await?;
        let read = match self.read(&row, head.as_ref(), previous.clone()).await {
            Ok(r) => r,
            Err(e) => {
                drop(pending);
                self.record_failure(id, &e.to_string()).await?;
                return Err(e);
            }
        };
        let commit = head.as_ref().map(|h| h.commit.as_str());
        if nothing_changed(&read, previous.len(), &current, id) {
            // The common case at rest: every file as before. Record the visit and stop.
            self.record_success(id, "[]", commit, None).await?;
            self.metrics.record_refresh(started.elapsed(), 0, 0, 0);
            tracing::debug!(location.id = %id, files = read.files.len(), duration_ms = started.elapsed().as_millis() as u64, "location unchanged");
            return Ok(());
        }
        let files = read.files.len();
        let plan = plan_changes(
            &WriterView::new(&current, &pending),
            &row,
            read,
            &previous,
            self.settings.orphans,
        );
        drop(previous);
        // Until the changes are stored, the next refresh must read the state from storage.
        self.cached_file_states().remove(id);
        let Plan {
            changes,
            keep,
            location_problems,
            processed,
            file_states,
        } = plan;

        let problems_json =
            serde_json::to_string(&location_problems).unwrap_or_else(|_| "[]".into());
        if let Some(version) = self.store.apply(id, &changes).await? {
            self.versions().insert(id.to_string(), version);
        }
        let now = now_rfc3339();
        let attempt = Attempt::Succeeded {
            problems: &problems_json,
            commit_id: commit,
        };
        self.store.record_attempt(id, &now, attempt).await?;
        let (written, removed) = (changes.upserts.len(), changes.deletes.len());
        drop(changes);
        self.cached_file_states()
            .insert(id.to_string(), Arc::new(file_states));

        let changed = written > 0 || removed > 0;
        let mut locations = current.locations.clone();
        let info = match locations.iter_mut().find(|l| l.id == id) {
            Some(l) => Arc::make_mut(l),
            None => {
                locations.push(Arc::new(location_info(row.clone())));
                let last = locations.len() - 1;
                Arc::make_mut(&mut locations[last])
            }
        };
        info.succeeded(&now, location_problems.clone(), commit);
        self.publish(current.with_locations(locations));
        if changed {
            let n = self.pending_change(&mut pending, id, keep);
            drop(pending);
            self.published(n).await;
        }
        let elapsed = started.elapsed();
        self.metrics
            .record_refresh(elapsed, processed, written, removed);
        tracing::info!(
            location.id = %id,
            location.target = %redact_url(&row.target),
            commit = commit.unwrap_or_default(),
            files,
            entities.processed = processed,
            entities.written = written,
            entities.removed = removed,
            problems = location_problems.len(),
            duration_ms = elapsed.as_millis() as u64,
            "location refreshed"
        );
        Ok(())
    }

    /// Background loop: refresh every location now, mark the catalog `ready`, then each
    /// location on its own schedule: its interval (file or Git) with ±10% jitter so that
    /// locations registered together spread out, and a growing backoff after failures.
    pub fn spawn_refresh_loop(
        self: &Arc<Self>,
        ready: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.refresh_all().await {
                tracing::warn!(error = %e, "first refresh failed");
            }
            ready.store(true, Ordering::Relaxed);
            tracing::info!(entities = this.snapshot().records.len(), "catalog ready");
            let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let mut due: HashMap<String, Instant> = HashMap::new();
            let mut running: HashSet<String> = HashSet::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let snap = this.snapshot();
                let now = Instant::now();
                while let Ok(id) = done_rx.try_recv() {
                    running.remove(&id);
                    if let Some(l) = snap.locations.iter().find(|l| l.id == id) {
                        due.insert(id, now + this.next_delay(l));
                    }
                }
                let current: HashSet<&str> = snap.locations.iter().map(|l| l.id.as_str()).collect();
                due.retain(|id, _| current.contains(id.as_str()));
                for l in snap.locations.iter() {
                    let next = *due
                        .entry(l.id.clone())
                        .or_insert_with(|| now + this.next_delay(l));
                    if next > now || !running.insert(l.id.clone()) {
                        continue;
                    }
                    let (this, done, id) = (this.clone(), done_tx.clone(), l.id.clone());
                    tokio::spawn(async move {
                        if let Err(e) = this.refresh_scheduled(&id).await {
                            tracing::debug!(location.id = %id, error = %e, "scheduled refresh failed");
                        }
                        let _ = done.send(id);
                    });
                }
            }
        })
    }

    fn interval(&self, location_type: &str) -> Duration {
        if is_git(location_type) {
            Duration::from_secs(self.settings.git.refresh_interval_secs.max(1))
        } else {
            self.settings.refresh_interval
        }
    }

    /// When to visit a location next: its interval, or a backoff from 5 s doubling with each
    /// failure in a row (never longer than the interval); ±10% jitter.
    fn next_delay(&self, l: &LocationInfo) -> Duration {
        let interval = self.interval(&l.location_type);
        let base = if l.failures > 0 {
            let backoff = Duration::from_secs(5).saturating_mul(1 << (l.failures - 1).min(12));
            interval.min(backoff)
        } else {
            interval
        };
        let r = (uuid::Uuid::new_v4().as_u128() % 2001) as f64 / 1000.0 - 1.0;
        base.mul_f64(1.0 + 0.1 * r)
    }
}

/// Every file was read before, cleanly, with the same content; none went away; no problem
/// anywhere: the refresh changes nothing.
fn nothing_changed(read: &LocationRead, known_files: usize, current: &Snapshot, id: &str) -> bool {
    read.problems.is_empty()
        && read.files.len() == known_files
        && read
            .files
            .iter()
            .all(|f| matches!(f, FileOutcome::Unchanged { .. }))
        && current
            .locations
            .iter()
            .any(|l| l.id == id && l.problems.is_empty() && l.last_refresh_at.is_some())
}

struct Plan {
    changes: Changes,
    /// The location's entities after this refresh.
    keep: Vec<Stored>,
    location_problems: Vec<ProblemView>,
    processed: usize,
    /// The state of the location's files once the changes are stored.
    file_states: FileStates,
}

/// Decides what one location read changes.
fn plan_changes(
    current: &WriterView<'_>,
    row: &LocationRow,
    read: LocationRead,
    known_files: &FileStates,
    orphans: OrphanStrategy,
) -> Plan {
    // Consumed: entities move from what was read into the plan, never copied.
    let LocationRead {
        files,
        file_state,
        problems: read_problems,
    } = read;
    let id = &row.id;
    let now = now_rfc3339();
    let prev: HashMap<&RefKey, &Stored> = current
        .of_location(id)
        .into_iter()
        .map(|s| (&s.key, s))
        .collect();
    let mut by_file: HashMap<&str, Vec<&Stored>> = HashMap::new();
    for s in prev.values() {
        by_file.entry(s.source_file.as_str()).or_default().push(s);
    }
    let mut keep: HashMap<RefKey, Stored> = HashMap::new();
    // Keys (into `keep`) of the entities to write.
    let mut upserts: Vec<RefKey> = Vec::new();
    let mut problems = read_problems;
    let mut processed = 0;

    let keep_stale =
        |s: &Stored, why: &str, keep: &mut HashMap<RefKey, Stored>, upserts: &mut Vec<RefKey>| {
            let mut kept = s.clone();
            kept.problems
                .retain(|p| !p.message.starts_with(STALE_PREFIX));
            kept.problems.push(ProblemView {
                severity: Severity::Error,
                message: format!("{STALE_PREFIX} {why}"),
                file: Some(s.source_file.clone()),
                document: None,
                line: None,
                field: None,
            });
            if kept.problems != s.problems {
                kept.updated_at = now.clone();
                upserts.push(kept.key.clone());
            }
            keep.insert(kept.key.clone(), kept);
        };

    for file in files {
        match file {
            FileOutcome::Unchanged { path, .. } => {
                for s in by_file.get(path.as_str()).into_iter().flatten() {
                    keep.insert(s.key.clone(), (*s).clone());
                }
            }
            FileOutcome::Failed { path, problem } => {
                problems.push(problem.clone());
                for s in by_file.get(path.as_str()).into_iter().flatten() {
                    keep_stale(s, &problem.message, &mut keep, &mut upserts);
                }
            }
            FileOutcome::Read {
                path,
                entities,
                problems: file_problems,
                invalid,
                broken_documents,
                ..
            } => {
                problems.extend(file_problems.iter().cloned());
                for key in &invalid {
                    if let Some(s) = prev.get(key) {
                        let why = format!("the latest version in {path} is not valid (see the location's problems)");
                        keep_stale(s, &why, &mut keep, &mut upserts);
                    }
                }
                for e in entities {
                    processed += 1;
                    if let Some(other) = current.get(&e.key).filter(|s| &s.location_id != id) {
                        problems.push(conflict(&e, other));
                        continue;
                    }
                    if let Some(first) = keep.get(&e.key) {
                        let here = &e.stored;
                        if first.source_file != here.source_file || first.document != here.document
                        {
                            problems.push(ProblemView {
                                severity: Severity::Error,
                                message: format!(
                                    "{} is defined twice in this location: in {} (document {}) and here; this one is ignored",
                                    e.key, first.source_file, first.document
                                ),
                                file: Some(here.source_file.clone()),
                                document: Some(here.document),
                                line: Some(here.line),
                                field: Some("metadata.name".into()),
                            });
                            continue;
                        }
                    }
                    let old = prev.get(&e.key);
                    let stored = to_stored(e, id, old.map(|o| o.uid.clone()), &now);
                    let same = old.is_some_and(|o| {
                        o.hash == stored.hash
                            && o.problems == stored.problems
                            && o.source_file == stored.source_file
                            && o.document == stored.document
                            && o.line == stored.line
                    });
                    if same {
                        if let Some(o) = old {
                            keep.insert(o.key.clone(), (*o).clone());
                        }
                    } else {
                        upserts.push(stored.key.clone());
                        keep.insert(stored.key.clone(), stored);
                    }
                }
                if broken_documents {
                    let why = format!(
                        "a document of {path} is not valid YAML (see the location's problems)"
                    );
                    for s in by_file.get(path.as_str()).into_iter().flatten() {
                        if !keep.contains_key(&s.key) {
                            keep_stale(s, &why, &mut keep, &mut upserts);
                        }
                    }
                }
            }
        }
    }

    let mut deletes = Vec::new();
    for (key, s) in &prev {
        if keep.contains_key(*key) {
            continue;
        }
        match orphans {
            OrphanStrategy::Delete => deletes.push(key.0.clone()),
            OrphanStrategy::Keep => {
                let mut kept = (*s).clone();
                if !kept
                    .problems
                    .iter()
                    .any(|p| p.message.starts_with(ORPHAN_PREFIX))
                {
                    kept.problems.push(ProblemView {
                        severity: Severity::Warning,
                        message: format!(
                            "{ORPHAN_PREFIX} no file of its location defines this entity any more"
                        ),
                        file: Some(s.source_file.clone()),
                        document: None,
                        line: None,
                        field: None,
                    });
                    upserts.push(kept.key.clone());
                }
                keep.insert((*key).clone(), kept);
            }
        }
    }

    let visited: HashSet<&str> = file_state.iter().map(|(p, _)| p.as_str()).collect();
    let changes = Changes {
        upserts: upserts
            .iter()
            .filter_map(|k| keep.get(k))
            .map(row_from_stored)
            .collect(),
        deletes,
        // Only files whose state differs from what is stored are written.
        sources: file_state
            .iter()
            .filter_map(|(p, f)| f.as_ref().map(|f| (p, f)))
            .filter(|(p, f)| known_files.get(p.as_str()) != Some(*f))
            .map(|(p, f)| SourceRow {
                location_id: id.clone(),
                path: p.clone(),
                hash: f.hash.clone(),
                clean: f.clean,
                modified_ns: f.modified_ns,
                size: f.size as i64,
                targets: serde_json::to_string(&f.targets).unwrap_or_else(|_| "[]".into()),
            })
            .collect(),
        deleted_sources: known_files
            .keys()
            .filter(|p| !visited.contains(p.as_str()))
            .cloned()
            .collect(),
    };
    let file_states = file_state
        .into_iter()
        .filter_map(|(p, f)| {
            let f = f.or_else(|| known_files.get(&p).cloned())?;
            Some((p, f))
        })
        .collect();
    Plan {
        changes,
        keep: keep.into_values().collect(),
        location_problems: problems,
        processed,
        file_states,
    }
}

fn conflict(e: &ProcessedEntity, owner: &Stored) -> ProblemView {
    ProblemView {
        severity: Severity::Error,
        message: format!(
            "{} is already provided by another location ({}, {}); this definition is ignored until that one goes away",
            e.key, owner.location_id, owner.source_file
        ),
        file: Some(e.stored.source_file.clone()),
        document: Some(e.stored.document),
        line: Some(e.stored.line),
        field: Some("metadata.name".into()),
    }
}

fn to_stored(e: ProcessedEntity, location_id: &str, uid: Option<String>, now: &str) -> Stored {
    Stored {
        uid: uid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        location_id: location_id.to_string(),
        updated_at: now.to_string(),
        ..e.stored
    }
}

fn row_from_stored(s: &Stored) -> EntityRow {
    EntityRow {
        entity_ref: s.key.0.clone(),
        uid: s.uid.clone(),
        location_id: s.location_id.clone(),
        body: s.body.clone(),
        hash: s.hash.clone(),
        source_file: s.source_file.clone(),
        document: s.document as i64,
        line: s.line as i64,
        problems: serde_json::to_string(&s.problems).unwrap_or_else(|_| "[]".into()),
        updated_at: s.updated_at.clone(),
    }
}

fn stored_from_row(row: EntityRow) -> Option<Stored> {
    let body: Value = match serde_json::from_str(&row.body) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(entity = %row.entity_ref, error = %e, "stored entity is not valid JSON; skipping it");
            return None;
        }
    };
    let kind = body["kind"].as_str().unwrap_or_default();
    let entity_ref = EntityRef::new(
        super::reference::canonical_kind(kind),
        body["metadata"]["namespace"].as_str().unwrap_or("default"),
        body["metadata"]["name"].as_str().unwrap_or_default(),
    );
    let mut stored = Stored::new(
        entity_ref,
        &body,
        row.uid,
        row.location_id,
        row.hash,
        (
            row.source_file,
            row.document.max(0) as usize,
            row.line.max(0) as usize,
        ),
        serde_json::from_str(&row.problems).unwrap_or_default(),
        row.updated_at,
    );
    stored.key = RefKey(row.entity_ref);
    // Keep the stored text itself rather than a re-serialised copy.
    stored.body = row.body;
    Some(stored)
}

fn location_info(row: LocationRow) -> LocationInfo {
    LocationInfo {
        problems: serde_json::from_str(&row.problems).unwrap_or_default(),
        id: row.id,
        location_type: row.location_type,
        target: row.target,
        origin: row.origin,
        last_refresh_at: row.last_refresh_at,
        branch: row.branch,
        path: row.path,
        commit: row.commit_id,
        last_success_at: row.last_success_at,
        last_error: row.last_error,
        failures: row.failures.max(0) as u32,
    }
}

fn new_location_row(new: &NewLocation, origin: &str) -> LocationRow {
    LocationRow {
        id: uuid::Uuid::new_v4().to_string(),
        location_type: new.location_type.clone(),
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

fn git_spec(row: &LocationRow) -> Result<GitSpec, CatalogError> {
    GitSpec::from_location(
        &row.location_type,
        &row.target,
        row.branch.as_deref(),
        row.path.as_deref(),
    )
    .map_err(|e| CatalogError::InvalidInput(e.to_string()))
}

/// Makes a file target absolute (relative to the working directory), without resolving globs.
pub fn absolute_target(target: &str) -> Result<String, CatalogError> {
    let t = target.strip_prefix("file:").unwrap_or(target).trim();
    if t.is_empty() {
        return Err(CatalogError::InvalidInput(
            "target is empty; expected a file path or glob".into(),
        ));
    }
    let cwd = std::env::current_dir().map_err(|e| CatalogError::Internal(e.to_string()))?;
    Ok(crate::util::absolute(&cwd, Path::new(t))
        .to_string_lossy()
        .into_owned())
}

/// The longest leading part of a path without glob characters (what must be inside a root).
fn glob_base(target: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in Path::new(target).components() {
        let s = part.as_os_str().to_string_lossy();
        if s.contains(['*', '?', '[']) {
            break;
        }
        out.push(part.as_os_str());
    }
    out
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
