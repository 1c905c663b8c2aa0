//! Results per catalog snapshot, evaluated when the catalog publishes it, and what a caller is
//! shown.
//!
//! [`ScorecardService::spawn`] runs one loop: each time the catalog publishes a snapshot it
//! evaluates it on a blocking thread (no request waits for it), then writes the teams' daily
//! history when their counts changed ([`super::history`]). Evaluating carries the previous
//! results over for every entity the refresh did not touch (the same stored entity, not a
//! copy) whose relations (types, targets, whether each target exists) did not change, so a
//! change costs one pointer comparison and one hash of the relations per entity plus the
//! changed entities' checks. A change to a `Scorecard` entity evaluates everything again.
//!
//! When a check reads entities' workloads (the cluster rules, [`super::cluster`]), the loop also
//! wakes when the Kubernetes service says a cluster changed (waiting a moment for the rest of
//! a rollout), and every 5 minutes when a check has a crash-loop window: it reads every entity's
//! workloads once ([`crate::k8s::KubeService::workload_facts`]) and evaluates again only the
//! entities whose workloads' digest ([`crate::k8s::facts::EntityWorkloads::digest`]) moved.
//!
//! Results keep no snapshot alive: they name the records they were evaluated for by a weak
//! pointer, and each entity by a weak pointer to its stored data (both only compared, never
//! read). Per entity and scorecard an outcome is a bit per check and the level reached
//! ([`Outcome`]); the words of a check (why it passed or failed) are built when a page shows
//! one entity, by evaluating its checks again.
//!
//! Rules that read the time (`lastCommit`) change with it and not with data: the loop also
//! wakes a second after each midnight (UTC, by the service's clock, which tests set) and
//! evaluates the same snapshot again; on that day's evaluation, when a scorecard has such a
//! rule, no entity is carried over (the day is part of what tells an entity did not change).
//!
//! A reader whose snapshot is newer than the latest results (the loop is still at work, or
//! not running, as in tests) evaluates what it shows on the spot: an entity, or a team's
//! owned entities.
//!
//! Facts are the whole catalog's (an owner "exists" when it is in the catalog, whether or not
//! the caller may read it); what a caller is shown is only for entities they may read
//! (`catalog.entity.read`, through the facade). A team's trend counts every entity the team
//! owns (numbers only, no names).

use super::cluster::{self, WorkloadSource};
use super::definition::{Outcome, Scorecard, ScorecardConfig};
use super::history::{self, History};
use super::repo::{EntityRepo, RepoQueries, RepoReader};
use super::rules::Facts;
use crate::catalog::facade::Facade;
use crate::catalog::reference::RefKey;
use crate::catalog::service::CatalogService;
use crate::catalog::snapshot::{Record, Snapshot, StoredData};
use crate::catalog::source::Sources;
use crate::k8s::facts::WorkloadFacts;
use crate::k8s::KubeService;
use crate::observability::LinkTemplates;
use crate::storage::Store;
use app::model::Caller;
use app::scorecards::{
    EntityLevel, EntityScorecards, ScorecardSummary, ScorecardTrend, TeamScorecards,
};
use serde_json::Value;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Instant;

/// The scorecards in force, the latest results and the teams' history.
#[derive(Default)]
pub struct ScorecardService {
    /// From the config (or the demo's).
    configured: Vec<Arc<Scorecard>>,
    latest: RwLock<Option<Arc<Evaluated>>>,
    history: Mutex<History>,
    /// Bumped after each evaluation and its history (tests wait on it).
    done: tokio::sync::watch::Sender<u64>,
    /// The loop is evaluating or writing the history.
    busy: std::sync::atomic::AtomicBool,
    /// Where the cluster rules read entities' workloads (none: no cluster is known).
    kube: Option<Arc<KubeService>>,
    /// The observability link templates in force (`onCallLink`, `dashboardLink`).
    links: Arc<LinkTemplates>,
    /// What time it is (`None`: the wall clock).
    clock: Option<Clock>,
}

/// Milliseconds since the epoch: the wall clock, or a test's.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// What rules read besides the catalog: where entities' files are (`None`: nowhere, a `file`
/// rule finds them unreadable), the observability links in force, and the time.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub sources: Option<&'a Sources>,
    pub links: Option<&'a LinkTemplates>,
    /// Milliseconds since the epoch.
    pub now_ms: i64,
    /// Where the cluster rules read entities' workloads (`None`: no cluster is known).
    pub workloads: Option<&'a dyn WorkloadSource>,
    /// The workloads as read for this evaluation.
    pub clusters: Option<&'a WorkloadFacts>,
}

impl<'a> Context<'a> {
    /// No files, no links, the wall clock's time.
    pub fn bare() -> Context<'static> {
        Context {
            sources: None,
            links: None,
            now_ms: crate::util::now_ms(),
            workloads: None,
            clusters: None,
        }
    }

    /// With the workloads as read for this evaluation.
    pub fn with_clusters<'b>(self, clusters: Option<&'b WorkloadFacts>) -> Context<'b>
    where
        'a: 'b,
    {
        Context { clusters, ..self }
    }

    /// The day of its time.
    pub fn day(&self) -> history::Day {
        self.now_ms.div_euclid(DAY_MS)
    }

    /// One entity's facts in this context.
    fn facts<'f>(&'f self, r: &'f Record, repo: &'f EntityRepo) -> Facts<'f> {
        let facts = Facts::with_repo(r, repo)
            .at(self.now_ms)
            .with_clusters(self.clusters);
        match self.links {
            Some(l) => facts.with_links(l),
            None => facts,
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// How long from `now_ms` until a second past the next midnight (UTC).
pub fn until_next_day(now_ms: i64) -> std::time::Duration {
    let left = DAY_MS - now_ms.rem_euclid(DAY_MS) + 1000;
    std::time::Duration::from_millis(u64::try_from(left).unwrap_or(1000))
}

/// After the clusters change, how long the loop waits for more changes before evaluating
/// (a rollout changes many pods within moments).
const WORKLOADS_SETTLE: std::time::Duration = std::time::Duration::from_millis(300);
/// How often the loop looks again when a check reads a crash-loop window (a restart leaves
/// the window with time, not with a change).
const WINDOWS_TICK: std::time::Duration = std::time::Duration::from_secs(300);

/// One entity as it was when evaluated: enough to tell that it did not change.
struct Seen {
    stored: Weak<StoredData>,
    relations: u64,
}

/// One snapshot's scorecards and results.
pub struct Evaluated {
    /// The records evaluated; only compared with a reader's snapshot.
    records: Weak<[Record]>,
    /// Configured first, then the catalog's `Scorecard` entities by name.
    pub scorecards: Vec<Arc<Scorecard>>,
    /// `Scorecard` entities that could not be used: (reference, why).
    pub problems: Vec<(String, String)>,
    /// The `(reference, hash)` of the catalog's scorecards, to tell when they changed.
    sources: Vec<(String, String)>,
    /// Per record index.
    seen: Vec<Seen>,
    /// (hash of the key, record index), sorted: where an entity was.
    by_key: Vec<(u64, u32)>,
    /// Record `i`'s outcomes are `outcomes[offsets[i]..offsets[i + 1]]`: (scorecard index,
    /// outcome) for each scorecard that applies.
    offsets: Vec<u32>,
    outcomes: Vec<(u16, Outcome)>,
    /// How many entities were evaluated (the rest were carried over).
    pub evaluated: usize,
    /// The day (UTC) they were evaluated on.
    pub day: history::Day,
}

impl ScorecardService {
    pub fn new(configured: Vec<Scorecard>) -> Self {
        ScorecardService {
            configured: configured.into_iter().map(Arc::new).collect(),
            ..Default::default()
        }
    }

    /// Reads entities' workloads from these clusters for the cluster rules.
    pub fn with_kube(mut self, kube: Arc<KubeService>) -> Self {
        self.kube = Some(kube);
        self
    }

    fn workloads(&self) -> Option<&dyn WorkloadSource> {
        self.kube.as_deref().map(|k| k as &dyn WorkloadSource)
    }

    /// With the observability link templates in force.
    pub fn with_links(self, links: Arc<LinkTemplates>) -> Self {
        ScorecardService { links, ..self }
    }

    /// With this clock instead of the wall clock.
    pub fn with_clock(self, clock: Clock) -> Self {
        ScorecardService {
            clock: Some(clock),
            ..self
        }
    }

    /// Milliseconds since the epoch, by the service's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock
            .as_ref()
            .map_or_else(crate::util::now_ms, |c| c())
    }

    /// Today (UTC), by the service's clock.
    fn today(&self) -> history::Day {
        self.now_ms().div_euclid(DAY_MS)
    }

    fn context<'a>(&'a self, sources: &'a Sources) -> Context<'a> {
        Context {
            sources: Some(sources),
            links: Some(&self.links),
            now_ms: self.now_ms(),
            workloads: self.workloads(),
            clusters: None,
        }
    }

    /// The latest results.
    pub fn latest(&self) -> Option<Arc<Evaluated>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The latest results if they are `snapshot`'s.
    fn current(&self, snapshot: &Snapshot) -> Option<Arc<Evaluated>> {
        self.latest().filter(|e| e.is_of(snapshot))
    }

    /// A receiver that changes after each evaluation and its history are done.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.done.subscribe()
    }

    /// Whether the results and the history are those of `snapshot` (the loop is done with it).
    pub fn settled(&self, snapshot: &Snapshot) -> bool {
        !self.busy.load(std::sync::atomic::Ordering::SeqCst) && self.current(snapshot).is_some()
    }

    /// Evaluates `snapshot` (carrying over the latest results), makes it the latest, and
    /// returns the teams' rollup; `None` when the latest results are already its, of today
    /// (a snapshot that only changed a location's status). Blocking work.
    pub fn evaluate_now(
        &self,
        snapshot: &Arc<Snapshot>,
        sources: &Sources,
    ) -> Option<history::Rollup> {
        self.evaluate_again(snapshot, sources, false)
    }

    /// [`ScorecardService::evaluate_now`] after the clusters changed: evaluates the entities
    /// whose workloads' digest moved, even when the latest results are `snapshot`'s; `None`
    /// when none moved. Blocking work.
    pub fn evaluate_workloads_now(
        &self,
        snapshot: &Arc<Snapshot>,
        sources: &Sources,
    ) -> Option<history::Rollup> {
        self.evaluate_again(snapshot, sources, true)
    }

    fn evaluate_again(
        &self,
        snapshot: &Arc<Snapshot>,
        sources: &Sources,
        workloads_moved: bool,
    ) -> Option<history::Rollup> {
        let previous = self.latest();
        let context = self.context(sources);
        let same = previous
            .as_ref()
            .is_some_and(|p| p.is_of(snapshot) && p.day == context.day());
        if same && !workloads_moved {
            return None;
        }
        let started = Instant::now();
        let next = Arc::new(evaluate_with(
            &self.configured,
            snapshot,
            previous.as_deref(),
            &context,
        ));
        drop(previous);
        if same && next.evaluated == 0 {
            // No entity's workloads moved: the latest results stand.
            return None;
        }
        tracing::debug!(
            entities = snapshot.records.len(),
            evaluated = next.evaluated,
            scorecards = next.scorecards.len(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "scorecards evaluated"
        );
        let rollup = history::rollup(&next, snapshot);
        *self.latest.write().unwrap_or_else(|e| e.into_inner()) = Some(next);
        Some(rollup)
    }

    /// Evaluates every snapshot the catalog publishes, on a blocking thread, and writes the
    /// teams' history when it changed. Loads the history first.
    pub fn spawn(
        self: &Arc<Self>,
        catalog: Arc<CatalogService>,
        store: Store,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let today = this.today();
            match store
                .scorecard_history(today - history::TREND_DAYS as i64)
                .await
            {
                Ok(rows) => {
                    *this.history.lock().unwrap_or_else(|e| e.into_inner()) =
                        History::from_rows(rows)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scorecards' history could not be read; the trend starts today")
                }
            }
            let mut published = catalog.subscribe();
            let mut workloads = this.kube.as_ref().map(|k| k.subscribe());
            let mut tick = tokio::time::interval(WINDOWS_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            let mut workloads_moved = false;
            loop {
                this.busy.store(true, std::sync::atomic::Ordering::SeqCst);
                let snapshot = catalog.snapshot();
                let service = this.clone();
                let sources = catalog.sources().clone();
                // The snapshot moves into the blocking task and is dropped there.
                let rollup = tokio::task::spawn_blocking(move || {
                    service.evaluate_again(&snapshot, &sources, workloads_moved)
                })
                .await;
                match rollup {
                    Ok(Some(rollup)) => this.record_history(&store, &rollup).await,
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "evaluating the scorecards failed"),
                }
                this.busy.store(false, std::sync::atomic::Ordering::SeqCst);
                this.done.send_modify(|n| *n = n.wrapping_add(1));
                // The next reason to evaluate: a published snapshot, the clusters' workloads
                // changing (when a check reads them), or time passing over a crash-loop window.
                workloads_moved = loop {
                    let cluster_checks = this
                        .latest()
                        .and_then(|e| cluster::needs(e.scorecards.iter()));
                    let windows = cluster_checks.as_ref().is_some_and(|w| !w.is_empty());
                    tokio::select! {
                        changed = published.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            break false;
                        }
                        changed = async {
                            match workloads.as_mut() {
                                Some(w) => w.changed().await,
                                None => std::future::pending().await,
                            }
                        } => {
                            if changed.is_err() {
                                workloads = None;
                                continue;
                            }
                            if cluster_checks.is_some() {
                                tokio::time::sleep(WORKLOADS_SETTLE).await;
                                if let Some(w) = workloads.as_mut() {
                                    w.borrow_and_update();
                                }
                                break true;
                            }
                        }
                        _ = tick.tick(), if windows => break true,
                        // A new day: time-dependent rules, the history's day.
                        _ = tokio::time::sleep(until_next_day(this.now_ms())) => break false,
                    }
                };
            }
        })
    }

    /// Writes the days whose counts changed, then keeps them in memory.
    async fn record_history(&self, store: &Store, rollup: &history::Rollup) {
        let today = self.today();
        let rows = self
            .history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .changes(rollup, today);
        if rows.is_empty() {
            return;
        }
        match store.write_scorecard_days(&rows).await {
            Ok(()) => {
                tracing::debug!(rows = rows.len(), "scorecards' history written");
                self.history
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .apply(&rows);
            }
            // Not applied: the next evaluation tries again.
            Err(e) => {
                tracing::warn!(error = %e, rows = rows.len(), "scorecards' history not written")
            }
        }
    }

    /// The scorecards in force for `snapshot`: the latest results' when they are its, else
    /// read from it now.
    fn scorecards_of(&self, snapshot: &Snapshot) -> Vec<Arc<Scorecard>> {
        match self.current(snapshot) {
            Some(e) => e.scorecards.clone(),
            None => scorecards_in(&self.configured, snapshot).0,
        }
    }

    /// Every scorecard in force, with its checks.
    pub fn list(&self, facade: &Facade, caller: &Caller) -> Vec<ScorecardSummary> {
        let visible = facade.read(caller);
        self.scorecards_of(visible.snapshot())
            .iter()
            .filter(|s| {
                // A catalog scorecard is listed to those who may read its entity.
                s.source == "config" || visible.index_of(&RefKey(s.source.to_lowercase())).is_some()
            })
            .map(|s| s.summary())
            .collect()
    }

    /// The scorecards that apply to one entity, with every check's words; `None` when there is
    /// no such entity or the caller may not read it.
    pub fn entity(
        &self,
        facade: &Facade,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityScorecards> {
        let visible = facade.read(caller);
        let i = visible.index_of(&RefKey::of(kind, namespace, name))?;
        let record = visible.record(i);
        let cards = self.scorecards_of(visible.snapshot());
        let applies: Vec<&Arc<Scorecard>> = cards.iter().filter(|s| s.applies_to(record)).collect();
        let queries = repo_queries(applies.iter().copied());
        let clusters = cluster::needs(applies.iter().copied())
            .and(self.workloads())
            .map(|k| k.workload_facts(visible.snapshot(), Some(record.stored.key.as_str())));
        let repo = RepoReader::new(visible.sources(), &queries, &visible.snapshot().locations)
            .entity(record);
        let context = self.context(visible.sources());
        let context = context.with_clusters(clusters.as_ref());
        let facts = context.facts(record, &repo);
        let scorecards = applies.iter().map(|s| s.result(&facts)).collect();
        Some(EntityScorecards {
            entity: record.entity_ref().clone(),
            scorecards,
        })
    }
}

impl ScorecardService {
    /// What a group owns that the caller may read, each entity's level per scorecard, worst
    /// first (the smallest share of levels reached, then by name); and the last 30 days of
    /// each scorecard's counts for the team.
    pub fn team(
        &self,
        facade: &Facade,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Option<TeamScorecards> {
        let visible = facade.read(caller);
        let group = visible.get("group", namespace, name)?;
        let current = self.current(visible.snapshot());
        let scorecards = match &current {
            Some(e) => e.scorecards.clone(),
            None => scorecards_in(&self.configured, visible.snapshot()).0,
        };
        let queries = repo_queries(scorecards.iter());
        let context = self.context(visible.sources());
        let mut reader =
            RepoReader::new(visible.sources(), &queries, &visible.snapshot().locations);
        // Evaluated here only when the loop has not caught up.
        let clusters = match current {
            Some(_) => None,
            None => cluster::needs(scorecards.iter())
                .and(self.workloads())
                .map(|k| k.workload_facts(visible.snapshot(), None)),
        };
        let mut entities: Vec<EntityLevel> = Vec::new();
        for (i, owned) in group
            .related("ownerOf")
            .filter_map(|relation| visible.target(relation))
        {
            let live;
            let outcomes: &[(u16, Outcome)] = match &current {
                Some(e) => e.outcomes(i),
                None => {
                    live = evaluate_record(
                        &scorecards,
                        owned,
                        &reader.entity(owned),
                        &context.with_clusters(clusters.as_ref()),
                    );
                    &live
                }
            };
            for (card, outcome) in outcomes {
                let Some(card) = scorecards.get(usize::from(*card)) else {
                    continue;
                };
                entities.push(EntityLevel {
                    entity: owned.entity_ref().clone(),
                    title: owned.title().map(str::to_string),
                    scorecard: card.title.clone(),
                    level: card.level_name(outcome),
                    reached: usize::from(outcome.reached),
                    levels: card.levels.len(),
                    failing: card.failing(outcome),
                });
            }
        }
        entities.sort_by(|a, b| {
            // a.reached / a.levels < b.reached / b.levels, without division.
            (a.reached * b.levels)
                .cmp(&(b.reached * a.levels))
                .then_with(|| b.failing.len().cmp(&a.failing.len()))
                .then_with(|| (&a.entity.name, &a.scorecard).cmp(&(&b.entity.name, &b.scorecard)))
        });
        entities.dedup_by(|a, b| a.entity == b.entity && a.scorecard == b.scorecard);
        let owner = group.entity_ref().to_ref_string();
        let today = self.today();
        let days: Vec<String> = (0..history::TREND_DAYS as i64)
            .rev()
            .map(|back| history::day_text(today - back))
            .collect();
        let known = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let trend = scorecards
            .iter()
            .filter_map(|card| {
                let counts = known.trend(
                    &card.name,
                    &owner,
                    card.levels.len(),
                    today,
                    history::TREND_DAYS,
                )?;
                Some(ScorecardTrend {
                    name: card.name.clone(),
                    title: card.title.clone(),
                    levels: card.levels.clone(),
                    days: days.clone(),
                    counts,
                })
            })
            .collect();
        Some(TeamScorecards { entities, trend })
    }
}

impl Evaluated {
    /// Whether these are the results of `snapshot`'s records.
    pub fn is_of(&self, snapshot: &Snapshot) -> bool {
        std::ptr::addr_eq(self.records.as_ptr(), Arc::as_ptr(&snapshot.records))
    }

    /// Where the entity with `key` was in the snapshot these results are of (a reader of a newer
    /// snapshot finds its entities' results as last evaluated).
    pub fn position_of_key(&self, key: &str) -> Option<usize> {
        let h = key_hash(key);
        let from = self.by_key.partition_point(|(k, _)| *k < h);
        self.by_key
            .get(from)
            .filter(|(k, _)| *k == h)
            .map(|(_, j)| *j as usize)
    }

    /// The outcomes of the record at `i`: (scorecard index, outcome).
    pub fn outcomes(&self, i: usize) -> &[(u16, Outcome)] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.outcomes[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The results of the record at `i`, as the entity page shows them (the words built now).
    pub fn entity(&self, i: usize, record: &Record) -> EntityScorecards {
        let facts = Facts::new(record);
        EntityScorecards {
            entity: record.entity_ref().clone(),
            scorecards: self
                .outcomes(i)
                .iter()
                .filter_map(|(s, _)| self.scorecards.get(usize::from(*s)))
                .map(|s| s.result(&facts))
                .collect(),
        }
    }

    /// What these results hold in memory beyond their scorecards, in bytes (approximately).
    pub fn heap_bytes(&self) -> usize {
        self.seen.capacity() * std::mem::size_of::<Seen>()
            + self.by_key.capacity() * std::mem::size_of::<(u64, u32)>()
            + self.offsets.capacity() * 4
            + self.outcomes.capacity() * std::mem::size_of::<(u16, Outcome)>()
    }
}

/// Whether a record is a scorecard declared in the catalog.
fn is_scorecard(r: &Record) -> bool {
    r.entity_ref().kind.eq_ignore_ascii_case("scorecard")
}

/// A `Scorecard` entity as a [`ScorecardConfig`]: its `spec`, named by `metadata.name`, with
/// `metadata.title` and `metadata.description` unless the spec has its own.
pub fn from_entity(entity: &Value) -> Result<ScorecardConfig, String> {
    match entity["apiVersion"].as_str() {
        Some("backlot.io/v1alpha1") => {}
        other => {
            return Err(format!(
                "apiVersion: expected backlot.io/v1alpha1, found {}",
                other.unwrap_or("nothing")
            ))
        }
    }
    let mut spec = match &entity["spec"] {
        Value::Object(m) => m.clone(),
        _ => return Err("spec: expected a map".into()),
    };
    for (key, from) in [("title", "title"), ("description", "description")] {
        if let Some(v) = entity["metadata"][from].as_str() {
            spec.entry(key).or_insert_with(|| Value::String(v.into()));
        }
    }
    if let Some(n) = entity["metadata"]["name"].as_str() {
        spec.insert("name".into(), Value::String(n.into()));
    }
    serde_json::from_value(Value::Object(spec)).map_err(|e| format!("spec: {e}"))
}

/// The configured scorecards plus the catalog's valid `Scorecard` entities; the ones that
/// cannot be used, and every catalog scorecard's (reference, hash).
#[allow(clippy::type_complexity)]
fn scorecards_in(
    configured: &[Arc<Scorecard>],
    snapshot: &Snapshot,
) -> (
    Vec<Arc<Scorecard>>,
    Vec<(String, String)>,
    Vec<(String, String)>,
) {
    let mut scorecards: Vec<Arc<Scorecard>> = configured.to_vec();
    let mut problems = Vec::new();
    let mut sources = Vec::new();
    for r in snapshot.records.iter().filter(|r| is_scorecard(r)) {
        let reference = r.entity_ref().to_ref_string();
        sources.push((reference.clone(), r.stored.hash.clone()));
        let compiled = from_entity(&r.value()).and_then(|c| {
            if scorecards.iter().any(|s| s.name == c.name) {
                return Err(format!("another scorecard is named {:?}", c.name));
            }
            c.compile(&reference).map_err(|e| e.to_string())
        });
        match compiled {
            Ok(s) => scorecards.push(Arc::new(s)),
            Err(why) => problems.push((reference, why)),
        }
    }
    (scorecards, problems, sources)
}

fn key_hash(key: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// A hash of what rules read of a record's relations: type, target, whether it exists.
fn relations_hash(r: &Record) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    r.relations.len().hash(&mut h);
    for x in &r.relations {
        x.relation_type.hash(&mut h);
        x.target_ref.hash(&mut h);
        x.target_index.is_some().hash(&mut h);
    }
    h.finish()
}

/// Everything the scorecards ask of repositories, each file once.
fn repo_queries<'a>(cards: impl Iterator<Item = &'a Arc<Scorecard>>) -> RepoQueries {
    let mut out = RepoQueries::default();
    cards.for_each(|c| out.merge(&c.repo_queries));
    out
}

/// [`evaluate_with`] without repositories (a `file` rule finds them unreadable), links or
/// clusters (a cluster rule finds no workloads), at the wall clock's time.
pub fn evaluate(
    configured: &[Arc<Scorecard>],
    snapshot: &Arc<Snapshot>,
    previous: Option<&Evaluated>,
) -> Evaluated {
    evaluate_with(configured, snapshot, previous, &Context::bare())
}

/// Evaluates `snapshot`, carrying over `previous`'s results where nothing they read changed;
/// `context`: where entities' files are, the links, the time, and where the cluster rules read
/// entities' workloads (read once for the whole evaluation when a check asks; an entity whose
/// workloads' digest moved is evaluated again).
pub fn evaluate_with(
    configured: &[Arc<Scorecard>],
    snapshot: &Arc<Snapshot>,
    previous: Option<&Evaluated>,
    context: &Context<'_>,
) -> Evaluated {
    let (scorecards, problems, sources) = scorecards_in(configured, snapshot);
    for (reference, why) in &problems {
        if previous.is_none_or(|p| !p.problems.iter().any(|(r, w)| r == reference && w == why)) {
            tracing::warn!(scorecard = %reference, error = %why, "scorecard not used");
        }
    }
    if scorecards.is_empty() {
        // Nothing to keep per entity (every record's outcomes are empty).
        return Evaluated {
            records: Arc::downgrade(&snapshot.records),
            scorecards,
            problems,
            sources,
            seen: Vec::new(),
            by_key: Vec::new(),
            offsets: Vec::new(),
            outcomes: Vec::new(),
            evaluated: 0,
            day: context.day(),
        };
    }
    let reuse = previous.filter(|p| p.sources == sources && p.scorecards.len() == scorecards.len());
    let n = snapshot.records.len();
    let mut seen = Vec::with_capacity(n);
    let mut by_key = Vec::with_capacity(n);
    let mut offsets = Vec::with_capacity(n + 1);
    let mut outcomes: Vec<(u16, Outcome)> = Vec::with_capacity(n);
    offsets.push(0u32);
    let mut evaluated = 0;
    let queries = repo_queries(scorecards.iter());
    let no_sources = Sources::default();
    let mut reader = RepoReader::new(
        context.sources.unwrap_or(&no_sources),
        &queries,
        &snapshot.locations,
    );
    // A commit's age changes with the day: every entity is evaluated again on a new one.
    let day = if queries.commit {
        key_hash(&context.day().to_string())
    } else {
        0
    };
    let windows = cluster::needs(scorecards.iter());
    let clusters: Option<WorkloadFacts> = windows
        .as_ref()
        .and(context.workloads)
        .map(|w| w.workload_facts(snapshot, None));
    let context = &context.with_clusters(clusters.as_ref());
    for (i, r) in snapshot.records.iter().enumerate() {
        let mut relations = relations_hash(r) ^ day;
        if !queries.is_empty() {
            // A repository's files change with its commit: its entities are evaluated again.
            relations ^= key_hash(reader.revision(r).unwrap_or(""));
        }
        if let (Some(windows), Some(c)) = (&windows, &clusters) {
            // Its workloads changed (or a restart left a crash-loop window): evaluated again.
            let digest = c
                .of(r.stored.key.as_str())
                .map_or(0, |e| e.digest(windows, c.now));
            relations ^= digest.rotate_left(17);
        }
        let key = key_hash(r.stored.key.as_str());
        by_key.push((key, i as u32));
        let carried = reuse.and_then(|prev| {
            // Records keep their order (by name) between snapshots: look at the same
            // position first, then look the key up.
            let j = if prev.seen.get(i).is_some_and(|s| r.stored.is(&s.stored)) {
                i
            } else {
                let from = prev.by_key.partition_point(|(h, _)| *h < key);
                prev.by_key[from..]
                    .iter()
                    .take_while(|(h, _)| *h == key)
                    .map(|(_, j)| *j as usize)
                    .find(|j| r.stored.is(&prev.seen[*j].stored))?
            };
            (prev.seen[j].relations == relations).then(|| prev.outcomes(j))
        });
        match carried {
            Some(o) => outcomes.extend_from_slice(o),
            None => {
                evaluated += 1;
                // No tree is opened for an entity no scorecard applies to.
                let repo =
                    if context.sources.is_none() || !scorecards.iter().any(|s| s.applies_to(r)) {
                        EntityRepo::default()
                    } else {
                        reader.entity(r)
                    };
                outcomes.extend(evaluate_record(&scorecards, r, &repo, context));
            }
        }
        offsets.push(outcomes.len() as u32);
        seen.push(Seen {
            stored: r.stored.downgrade(),
            relations,
        });
    }
    by_key.sort_unstable();
    outcomes.shrink_to_fit();
    Evaluated {
        records: Arc::downgrade(&snapshot.records),
        scorecards,
        problems,
        sources,
        seen,
        by_key,
        offsets,
        outcomes,
        evaluated,
        day: context.day(),
    }
}

/// Every applicable scorecard's outcome for one record.
pub fn evaluate_record(
    scorecards: &[Arc<Scorecard>],
    r: &Record,
    repo: &EntityRepo,
    context: &Context<'_>,
) -> Vec<(u16, Outcome)> {
    let facts = context.facts(r, repo);
    scorecards
        .iter()
        .enumerate()
        .filter(|(_, s)| s.applies_to(r))
        .map(|(i, s)| (i as u16, s.evaluate(&facts)))
        .collect()
}

/// What the UI's [`ScorecardReader`](app::services::ScorecardReader) reads.
pub struct Views {
    pub scorecards: Arc<ScorecardService>,
    pub facade: Facade,
}

impl app::services::ScorecardReader for Views {
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityScorecards> {
        self.scorecards
            .entity(&self.facade, caller, kind, namespace, name)
    }

    fn team(&self, caller: &Caller, namespace: &str, name: &str) -> Option<TeamScorecards> {
        self.scorecards.team(&self.facade, caller, namespace, name)
    }
}
