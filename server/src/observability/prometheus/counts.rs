//! Firing alerts per entity for the catalog table, in one shared in-memory map.
//!
//! A render of `/catalog` only reads the map ([`AlertCounts::counts`]: one hash lookup per
//! row), never Prometheus. The map is rebuilt by [`AlertCounts::refresh`], which the server
//! runs once per `min_step_seconds` ([`AlertCounts::run`]): it reads every alert source through
//! the shared cache (the same answers the entity pages read, so it adds no request within a
//! step when a page asked first) and, only when an answer or the catalog changed, matches the
//! firing alerts to the entities by their labels, as the entity page does (silenced and
//! inhibited alerts are not counted). The entities' matchers are computed once per catalog
//! snapshot; with nothing firing no entity is looked at.

use super::client::Alert;
use super::signals::matches;
use super::PromService;
use crate::catalog::facade::Facade;
use crate::catalog::snapshot::Snapshot;
use crate::k8s::KubeService;
use crate::observability::links::EntityValues;
use app::model::EntityRef;
use futures_util::future::join_all;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// One entity's alert matchers, computed once per snapshot.
struct Target {
    key: String,
    kind: String,
    namespace: String,
    name: String,
    matchers: Vec<(String, String)>,
}

/// What the map was built from.
#[derive(Default)]
struct Basis {
    snapshot: Weak<Snapshot>,
    alerts: Vec<Option<Arc<Vec<Alert>>>>,
    targets: Arc<Vec<Target>>,
    /// The snapshot the targets are of.
    targets_of: Weak<Snapshot>,
}

/// Firing alerts per entity key (`kind:namespace/name`, lower case); absent: none.
#[derive(Default)]
pub struct AlertCounts {
    map: RwLock<Arc<HashMap<String, u32>>>,
    basis: Mutex<Basis>,
}

impl AlertCounts {
    /// The number of firing alerts of each entity, as last refreshed.
    pub fn counts(&self, entities: &[EntityRef]) -> Vec<u32> {
        let map = self.map.read().map(|m| m.clone()).unwrap_or_default();
        entities
            .iter()
            .map(|r| {
                if map.is_empty() {
                    return 0;
                }
                let key = crate::catalog::reference::RefKey::from_ref(r);
                map.get(key.as_str()).copied().unwrap_or(0)
            })
            .collect()
    }

    /// Reads the alert sources (through the cache) and rebuilds the map when they or the
    /// catalog changed.
    pub async fn refresh(&self, prom: &PromService, facade: &Facade, kube: &KubeService) {
        if !prom.is_configured() {
            return;
        }
        let answers: Vec<Option<Arc<Vec<Alert>>>> = join_all(
            (0..prom.alert_sources.len()).map(|i| async move { prom.source_alerts(i).await.value }),
        )
        .await;
        let visible = facade.read_unfiltered();
        let snapshot = visible.snapshot().clone();
        let targets = {
            let Ok(mut basis) = self.basis.lock() else {
                return;
            };
            let same_alerts = basis.alerts.len() == answers.len()
                && basis
                    .alerts
                    .iter()
                    .zip(&answers)
                    .all(|(a, b)| match (a, b) {
                        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                        (None, None) => true,
                        _ => false,
                    });
            let same_snapshot = basis
                .snapshot
                .upgrade()
                .is_some_and(|s| Arc::ptr_eq(&s, &snapshot));
            if same_alerts && same_snapshot {
                return;
            }
            basis.alerts = answers.clone();
            basis.snapshot = Arc::downgrade(&snapshot);
            let any_firing = answers
                .iter()
                .flatten()
                .any(|a| a.iter().any(|a| a.state == "firing"));
            if !any_firing {
                drop(basis);
                if let Ok(mut map) = self.map.write() {
                    *map = Arc::default();
                }
                return;
            }
            let current = basis
                .targets_of
                .upgrade()
                .is_some_and(|s| Arc::ptr_eq(&s, &snapshot));
            if !current {
                let targets: Vec<Target> = visible
                    .records()
                    .filter_map(|(_, record)| {
                        let values = EntityValues::of(&record.stored.value());
                        let matchers = prom.alert_matchers(&values)?;
                        let r = record.entity_ref();
                        Some(Target {
                            key: record.stored.key.as_str().to_string(),
                            kind: r.kind.clone(),
                            namespace: r.namespace.clone(),
                            name: r.name.clone(),
                            matchers,
                        })
                    })
                    .collect();
                basis.targets = Arc::new(targets);
                basis.targets_of = Arc::downgrade(&snapshot);
            }
            basis.targets.clone()
        };
        drop(visible);
        let single = prom.alert_sources.len() == 1;
        let mut map = HashMap::new();
        for t in targets.iter() {
            let sources = if single {
                vec![0]
            } else {
                prom.alert_sources_for(&kube.placements(&t.kind, &t.namespace, &t.name))
            };
            let firing = sources
                .iter()
                .filter_map(|&s| answers.get(s).and_then(Option::as_ref))
                .flat_map(|alerts| alerts.iter())
                .filter(|a| a.state == "firing" && matches(a, &t.matchers))
                .count() as u32;
            if firing > 0 {
                map.insert(t.key.clone(), firing);
            }
        }
        if let Ok(mut shared) = self.map.write() {
            *shared = Arc::new(map);
        }
    }
}

/// Refreshes `prom`'s map once per `min_step_seconds`, for as long as the server runs (nothing
/// when no Prometheus is configured).
pub async fn run(prom: Arc<PromService>, facade: Facade, kube: Arc<KubeService>) {
    if !prom.is_configured() {
        return;
    }
    let step = Duration::from_secs(prom.min_step.max(1));
    loop {
        prom.alert_counts.refresh(&prom, &facade, &kube).await;
        tokio::time::sleep(step).await;
    }
}

impl app::services::AlertCountReader for PromService {
    fn enabled(&self) -> bool {
        self.is_configured()
    }

    fn counts(&self, entities: &[EntityRef]) -> Option<Vec<u32>> {
        self.is_configured()
            .then(|| self.alert_counts.counts(entities))
    }
}
