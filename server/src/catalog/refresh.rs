//! Refreshing locations: one read (prepared by the location's source with no lock held, then
//! planned and applied under the write lock), the schedule that visits every location on its
//! own interval with jitter and a backoff after failures, and the leases that keep two
//! processes on one database from reading one location at once.

use super::plan::{nothing_changed, plan_changes, Plan, WriterView};
use super::processing::{FileStates, LocationRead, PreviousFile};
use super::service::{location_info, CatalogService};
use super::snapshot::LocationInfo;
use super::source::{LocationType, PreparedRead};
use super::CatalogError;
use crate::storage::{Attempt, LocationRow};
use crate::util::now_rfc3339;
use app::model::ProblemView;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a refresh did not finish: a read that failed, which is recorded on the location and
/// logged there (once), or anything else, which whoever drops the error reports.
#[derive(Debug)]
pub(crate) enum RefreshError {
    Read(CatalogError),
    Other(CatalogError),
}

impl From<CatalogError> for RefreshError {
    fn from(e: CatalogError) -> Self {
        RefreshError::Other(e)
    }
}

impl From<crate::storage::StorageError> for RefreshError {
    fn from(e: crate::storage::StorageError) -> Self {
        RefreshError::Other(e.into())
    }
}

impl RefreshError {
    pub(crate) fn into_inner(self) -> CatalogError {
        match self {
            RefreshError::Read(e) | RefreshError::Other(e) => e,
        }
    }

    /// For callers that drop the error: logs it unless it was a read failure (logged when
    /// recorded), and returns it.
    pub(crate) fn reported(self, what: &str) -> CatalogError {
        if let RefreshError::Other(e) = &self {
            tracing::warn!(during = what, error = %e, "refresh failed");
        }
        self.into_inner()
    }
}

impl CatalogService {
    /// Gets a location's read ready with its source (network work, no lock held).
    pub(super) async fn prepare(
        &self,
        info: &LocationInfo,
        pushed: bool,
    ) -> Result<Box<dyn PreparedRead>, CatalogError> {
        self.source_of(info)?.prepare(info, pushed).await
    }

    /// Reads a prepared location on a blocking thread.
    pub(super) async fn read(
        &self,
        prepared: Box<dyn PreparedRead>,
        previous: Arc<FileStates>,
    ) -> Result<LocationRead, CatalogError> {
        tokio::task::spawn_blocking(move || prepared.read(&previous))
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))?
    }

    /// A push said the location's branch moved: refreshes it without asking the remote first.
    /// A failure is recorded on the location.
    /// Every failure is logged once (nobody waits for the answer).
    pub async fn refresh_pushed(&self, id: &str) -> Result<(), CatalogError> {
        let result = match self.take_lease(id, true).await {
            Ok(_) => {
                let result = self.refresh_leased(id, true, None).await;
                self.release_lease(id).await;
                result
            }
            Err(e) => Err(RefreshError::Other(e)),
        };
        result.map_err(|e| e.reported("refresh after a push"))
    }

    /// Reads one location and applies what changed: new and updated entities, removals,
    /// problems. Broken files keep their entities' last good version; a repository that cannot
    /// be fetched keeps everything and the location records the error.
    pub async fn refresh_location(&self, id: &str) -> Result<(), CatalogError> {
        self.refresh_now(id).await.map_err(RefreshError::into_inner)
    }

    /// [`Self::refresh_location`], telling a failed read (already recorded and logged) from
    /// other errors.
    pub(super) async fn refresh_now(&self, id: &str) -> Result<(), RefreshError> {
        self.take_lease(id, true).await?;
        let result = self.refresh_leased(id, false, None).await;
        self.release_lease(id).await;
        result
    }

    /// A scheduled visit: skipped when another process holds the location's lease or read it
    /// recently (several processes on one database share the work). Returns whether it ran.
    pub async fn refresh_scheduled(&self, id: &str) -> Result<bool, CatalogError> {
        self.scheduled_visit(id)
            .await
            .map_err(RefreshError::into_inner)
    }

    async fn scheduled_visit(&self, id: &str) -> Result<bool, RefreshError> {
        let row = self.location_row(id).await?;
        let recent = row
            .last_refresh_at
            .as_deref()
            .and_then(crate::util::parse_rfc3339_ms)
            .is_some_and(|at| {
                let interval = LocationType::parse(&row.location_type)
                    .and_then(|t| self.sources.of(t).map(|s| s.interval()))
                    .unwrap_or(Duration::from_secs(300))
                    .as_millis() as i64;
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
    pub(super) async fn take_lease(&self, id: &str, wait: bool) -> Result<bool, CatalogError> {
        if !self.shared_database() {
            return Ok(true);
        }
        // Held longer than any source may take to prepare a read.
        let longest = self.sources.longest_timeout();
        let hold = (longest + Duration::from_secs(60)).as_millis() as i64;
        let deadline = Instant::now() + longest + Duration::from_secs(10);
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

    pub(super) async fn release_lease(&self, id: &str) {
        if !self.shared_database() {
            return;
        }
        if let Err(e) = self.store.release_lease(id, &self.owner).await {
            tracing::warn!(location.id = %id, error = %e, "could not release a location lease; it expires by itself");
        }
    }

    /// `pushed`: a webhook said the branch moved, so it is fetched without asking first.
    /// `row`: the location as just read, when the caller has it.
    pub(super) async fn refresh_leased(
        &self,
        id: &str,
        pushed: bool,
        row: Option<LocationRow>,
    ) -> Result<(), RefreshError> {
        let started = Instant::now();
        let row = match row {
            Some(r) => r,
            None => self.location_row(id).await?,
        };
        let info = location_info(row).ok_or_else(|| {
            CatalogError::InvalidInput(format!(
                "location {id} has a type this Backlot does not read"
            ))
        })?;
        let prepared = match self.prepare(&info, pushed).await {
            Ok(p) => p,
            Err(e) => return Err(self.record_failure(&info, pushed, e).await),
        };
        let revision = prepared.revision().map(str::to_string);
        let mut pending = self.write.lock().await;
        // Under the lock: another refresh may have finished meanwhile.
        let current = self.snapshot();
        // A location registered a moment ago is not in the snapshot yet: never read before.
        let before = current.locations.iter().find(|l| l.id == id);
        let clean_before = before.is_some_and(|l| {
            l.problems.is_empty() && l.last_error.is_none() && l.last_refresh_at.is_some()
        });
        let before_commit = before.and_then(|l| l.commit.clone());
        if let Some(rev) = &revision {
            if clean_before && before_commit.as_deref() == Some(rev.as_str()) {
                // The revision did not move and the last read was clean: nothing to read.
                self.record_success(id, "[]", Some(rev), None).await?;
                self.metrics.record_refresh(started.elapsed(), 0, 0, 0);
                tracing::debug!(location.id = %id, revision = %rev, "location unchanged");
                return Ok(());
            }
        }
        let previous = self.file_states(id).await?;
        let read = match self.read(prepared, previous.clone()).await {
            Ok(r) => r,
            Err(e) => {
                drop(pending);
                return Err(self.record_failure(&info, pushed, e).await);
            }
        };
        let commit = revision.as_deref();
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
            id,
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
        let shown = self
            .sources
            .display_target(info.location_type, &info.target);
        let info = match locations.iter_mut().find(|l| l.id == id) {
            Some(l) => Arc::make_mut(l),
            None => {
                locations.push(Arc::new(info));
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
            location.target = %shown,
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
    /// The one place a failed read is logged (callers report only [`RefreshError::Other`]).
    async fn record_failure(
        &self,
        info: &LocationInfo,
        pushed: bool,
        error: CatalogError,
    ) -> RefreshError {
        let id = info.id.as_str();
        let message = error.to_string();
        let _guard = self.write.lock().await;
        let now = now_rfc3339();
        let failures = info.failures + 1;
        if let Err(e) = self
            .store
            .record_attempt(id, &now, Attempt::Failed { error: &message })
            .await
        {
            // The read failed and so did recording it: the storage error is the caller's.
            return RefreshError::Other(e.into());
        }
        self.update_location(id, |l| {
            l.last_refresh_at = Some(now.clone());
            l.last_error = Some(message.clone());
            l.failures += 1;
        });
        tracing::warn!(
            location.id = %id,
            location.type = info.location_type.as_str(),
            location.target = %self.sources.display_target(info.location_type, &info.target),
            pushed,
            failures,
            error = %message,
            "location could not be read"
        );
        RefreshError::Read(error)
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
    pub(super) async fn file_states(&self, id: &str) -> Result<Arc<FileStates>, CatalogError> {
        if let Some(states) = self.cached_file_states().get(id) {
            return Ok(states.clone());
        }
        let states = Arc::new(self.load_file_states(id).await?);
        self.cached_file_states()
            .insert(id.to_string(), states.clone());
        Ok(states)
    }

    pub(super) async fn load_file_states(&self, id: &str) -> Result<FileStates, CatalogError> {
        let mut states = FileStates::new();
        self.store
            .each_source(id, |s| {
                let targets: Vec<(String, String)> =
                    serde_json::from_str(&s.targets).unwrap_or_default();
                let state = PreviousFile {
                    hash: s.hash,
                    clean: s.clean,
                    modified_ns: s.modified_ns,
                    size: s.size.max(0) as u64,
                    targets,
                };
                states.insert(s.path, state);
            })
            .await?;
        Ok(states)
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
                        if let Err(e) = this.scheduled_visit(&id).await {
                            e.reported("scheduled refresh");
                        }
                        let _ = done.send(id);
                    });
                }
            }
        })
    }

    /// How often its source visits a location.
    fn interval(&self, l: &LocationInfo) -> Duration {
        self.source_of(l)
            .map(|s| s.interval())
            .unwrap_or(Duration::from_secs(300))
    }

    /// When to visit a location next: its interval, or a backoff from 5 s doubling with each
    /// failure in a row (never longer than the interval); ±10% jitter.
    fn next_delay(&self, l: &LocationInfo) -> Duration {
        let interval = self.interval(l);
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
