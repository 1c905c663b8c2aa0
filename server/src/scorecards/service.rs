//! Results per catalog snapshot, and what a caller is shown.
//!
//! Scorecards are evaluated on read: the first read after the catalog publishes a snapshot
//! evaluates it, once, under a lock, and every later read of that snapshot uses the results.
//! Evaluating a new snapshot carries the previous one's results over for every entity whose
//! body (its hash) and relations (types, targets, whether each target exists) did not change,
//! so a change costs one comparison per entity plus the changed entities' checks. A change to a
//! `Scorecard` entity evaluates everything again.
//!
//! Facts are the whole catalog's (an owner "exists" when it is in the catalog, whether or not
//! the caller may read it); what a caller is shown is only for entities they may read
//! (`catalog.entity.read`, through the facade).

use super::definition::{Outcome, Scorecard, ScorecardConfig};
use super::rules::Facts;
use crate::catalog::facade::Facade;
use crate::catalog::reference::RefKey;
use crate::catalog::snapshot::{Record, Snapshot};
use app::model::Caller;
use app::scorecards::{EntityLevel, EntityScorecards, ScorecardSummary, TeamScorecards};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The scorecards in force and the results of the latest snapshot read.
#[derive(Default)]
pub struct ScorecardService {
    /// From the config (or the demo's).
    configured: Vec<Arc<Scorecard>>,
    latest: Mutex<Option<Arc<Evaluated>>>,
}

/// One snapshot's scorecards and results.
pub struct Evaluated {
    snapshot: Arc<Snapshot>,
    /// Configured first, then the catalog's `Scorecard` entities by name.
    pub scorecards: Vec<Arc<Scorecard>>,
    /// `Scorecard` entities that could not be used: (reference, why).
    pub problems: Vec<(String, String)>,
    /// The `(reference, hash)` of the catalog's scorecards, to tell when they changed.
    sources: Vec<(String, String)>,
    /// Per record index: (scorecard index, outcome) for each scorecard that applies.
    results: Vec<Arc<[(usize, Outcome)]>>,
    /// How many entities were evaluated (the rest were carried over).
    pub evaluated: usize,
}

impl ScorecardService {
    pub fn new(configured: Vec<Scorecard>) -> Self {
        ScorecardService {
            configured: configured.into_iter().map(Arc::new).collect(),
            latest: Mutex::new(None),
        }
    }

    /// The results for `snapshot`: the latest ones if they are its, else evaluated now.
    pub fn evaluated(&self, snapshot: &Arc<Snapshot>) -> Arc<Evaluated> {
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = latest.as_ref() {
            if Arc::ptr_eq(&e.snapshot, snapshot) {
                return e.clone();
            }
        }
        let started = Instant::now();
        let next = Arc::new(evaluate(&self.configured, snapshot, latest.as_deref()));
        tracing::debug!(
            entities = snapshot.records.len(),
            evaluated = next.evaluated,
            scorecards = next.scorecards.len(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "scorecards evaluated"
        );
        *latest = Some(next.clone());
        next
    }

    /// Every scorecard in force, with its checks.
    pub fn list(&self, facade: &Facade, caller: &Caller) -> Vec<ScorecardSummary> {
        let visible = facade.read(caller);
        let evaluated = self.evaluated(visible.snapshot());
        evaluated
            .scorecards
            .iter()
            .filter(|s| {
                // A catalog scorecard is listed to those who may read its entity.
                s.source == "config" || visible.index_of(&RefKey(s.source.to_lowercase())).is_some()
            })
            .map(|s| s.summary())
            .collect()
    }

    /// The scorecards that apply to one entity, evaluated; `None` when there is no such entity
    /// or the caller may not read it.
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
        let evaluated = self.evaluated(visible.snapshot());
        Some(evaluated.entity(i, visible.record(i)))
    }
}

impl ScorecardService {
    /// What a group owns that the caller may read, each entity's level per scorecard, worst
    /// first (the smallest share of levels reached, then by name).
    pub fn team(
        &self,
        facade: &Facade,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Option<TeamScorecards> {
        let visible = facade.read(caller);
        let group = visible.get("group", namespace, name)?;
        let evaluated = self.evaluated(visible.snapshot());
        let mut entities: Vec<EntityLevel> = Vec::new();
        for (i, owned) in group
            .related("ownerOf")
            .filter_map(|relation| visible.target(relation))
        {
            for (card, outcome) in evaluated.outcomes(i) {
                entities.push(EntityLevel {
                    entity: owned.entity_ref().clone(),
                    title: owned.title().map(str::to_string),
                    scorecard: card.title.clone(),
                    level: outcome
                        .reached
                        .checked_sub(1)
                        .and_then(|l| card.levels.get(l).cloned()),
                    reached: outcome.reached,
                    levels: card.levels.len(),
                    failing: card
                        .checks
                        .iter()
                        .zip(&outcome.checks)
                        .filter(|(_, (ok, _))| !ok)
                        .map(|(c, _)| c.title.clone())
                        .collect(),
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
        Some(TeamScorecards { entities })
    }
}

impl Evaluated {
    /// The results of the record at `i`.
    pub fn entity(&self, i: usize, record: &Record) -> EntityScorecards {
        let scorecards = self
            .results
            .get(i)
            .map(|r| {
                r.iter()
                    .map(|(s, outcome)| self.scorecards[*s].result(outcome))
                    .collect()
            })
            .unwrap_or_default();
        EntityScorecards {
            entity: record.entity_ref().clone(),
            scorecards,
        }
    }

    /// The outcomes of the record at `i`: (scorecard, outcome).
    pub fn outcomes(&self, i: usize) -> impl Iterator<Item = (&Scorecard, &Outcome)> {
        self.results
            .get(i)
            .into_iter()
            .flat_map(|r| r.iter())
            .map(|(s, o)| (&*self.scorecards[*s], o))
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

/// Evaluates `snapshot`, carrying over `previous`'s results where nothing they read changed.
pub fn evaluate(
    configured: &[Arc<Scorecard>],
    snapshot: &Arc<Snapshot>,
    previous: Option<&Evaluated>,
) -> Evaluated {
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
            Err(why) => {
                tracing::warn!(scorecard = %reference, error = %why, "scorecard not used");
                problems.push((reference, why));
            }
        }
    }
    let reuse = previous.filter(|p| p.sources == sources && p.scorecards.len() == scorecards.len());
    let mut evaluated = 0;
    let results = snapshot
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if let Some(prev) = reuse {
                // Records keep their order (by name) between snapshots: look at the same
                // position first, then look the key up.
                let same_place = prev
                    .snapshot
                    .records
                    .get(i)
                    .is_some_and(|p| p.stored.key == r.stored.key);
                let found = if same_place {
                    Some(i)
                } else {
                    prev.snapshot.index_of_key(r.stored.key.as_str())
                };
                if let Some(j) = found {
                    if unchanged(&prev.snapshot.records[j], r) {
                        return prev.results[j].clone();
                    }
                }
            }
            evaluated += 1;
            evaluate_record(&scorecards, r)
        })
        .collect();
    Evaluated {
        snapshot: snapshot.clone(),
        scorecards,
        problems,
        sources,
        results,
        evaluated,
    }
}

/// Every applicable scorecard's outcome for one record.
pub fn evaluate_record(scorecards: &[Arc<Scorecard>], r: &Record) -> Arc<[(usize, Outcome)]> {
    let facts = Facts::new(r);
    scorecards
        .iter()
        .enumerate()
        .filter(|(_, s)| s.applies_to(r))
        .map(|(i, s)| (i, s.evaluate(&facts)))
        .collect()
}

/// Whether everything a rule reads is the same: the body and the relations (with whether their
/// targets exist).
fn unchanged(a: &Record, b: &Record) -> bool {
    // An entity no refresh touched shares its body with the previous snapshot.
    (Arc::ptr_eq(&a.stored.body, &b.stored.body) || a.stored.body == b.stored.body)
        && a.relations.len() == b.relations.len()
        && a.relations.iter().zip(&b.relations).all(|(x, y)| {
            x.relation_type == y.relation_type
                && x.target_ref == y.target_ref
                && x.target_index.is_some() == y.target_index.is_some()
        })
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
