//! What the scorecards' cluster rules read of entities' workloads, copied out of the clusters'
//! compact data at one moment ([`super::KubeService::workload_facts`]): per entity, each
//! matched workload's place, desired replicas, its pod template's containers (probes and limits
//! set) and its pods' containers (restarts, crash loops, when the last run ended); per cluster,
//! its environment and whether it is stale. Owned and small; dropped after an evaluation.
//!
//! [`EntityWorkloads::digest`] is what tells that an entity's facts did not change between two
//! moments (the scorecards re-evaluate only entities whose digest moved). It hashes what the
//! rules read, plus, per crash-loop window, whether a restart is inside it at that moment, so
//! a restart leaving a window changes the digest too.

use super::model::SpecSet;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;

/// Every entity's workloads across the clusters, at one moment.
#[derive(Debug, Clone, Default)]
pub struct WorkloadFacts {
    /// The configured clusters, in order.
    pub clusters: Vec<ClusterNote>,
    /// By entity key (`kind:namespace/name`, lower case); entities that ask for workloads
    /// (a Kubernetes annotation), whether or not any were found.
    pub entities: HashMap<String, EntityWorkloads>,
    /// When the facts were read, in seconds since the Unix epoch.
    pub now: i64,
}

/// A cluster as the rules' words name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNote {
    pub name: String,
    pub environment: String,
    /// Stale (its watchers failing): since when, in words (`since 2026-…: connection refused`).
    pub stale: Option<String>,
}

/// One entity's workloads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EntityWorkloads {
    /// How its workloads are matched (`label backstage.io/kubernetes-id=web`).
    pub matched_by: String,
    pub workloads: Vec<WorkloadFact>,
}

/// One matched workload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkloadFact {
    /// Index into [`WorkloadFacts::clusters`].
    pub cluster: u16,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// `spec.replicas` (a DaemonSet: the nodes it is scheduled on).
    pub desired: i32,
    /// The `minReplicas` of a HorizontalPodAutoscaler that targets it.
    pub autoscaler_min: Option<i32>,
    /// The pod template's containers and what their specs set.
    pub containers: Vec<(String, SpecSet)>,
    pub pods: Vec<PodFact>,
}

/// One pod of a matched workload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodFact {
    pub name: String,
    pub containers: Vec<ContainerFact>,
}

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerFact {
    pub name: String,
    pub restarts: u32,
    /// Waiting in `CrashLoopBackOff` now.
    pub crash_looping: bool,
    /// When its previous run ended (seconds since the Unix epoch), when the kubelet said.
    pub last_finished: Option<NonZeroU32>,
}

impl ContainerFact {
    /// Whether it is crash-looping now, or restarted within `hours` of `now` (a restart whose
    /// time is unknown counts).
    pub fn restarted_within(&self, hours: u32, now: i64) -> bool {
        self.crash_looping
            || (self.restarts > 0
                && self
                    .last_finished
                    .is_none_or(|t| now - i64::from(t.get()) < i64::from(hours) * 3600))
    }
}

impl WorkloadFacts {
    /// An entity's workloads (none when it asks for none).
    pub fn of(&self, key: &str) -> Option<&EntityWorkloads> {
        self.entities.get(key)
    }

    /// The cluster a workload runs in.
    pub fn cluster(&self, w: &WorkloadFact) -> Option<&ClusterNote> {
        self.clusters.get(usize::from(w.cluster))
    }
}

impl EntityWorkloads {
    /// A hash of what the rules read of these workloads at `now`, with, for each crash-loop
    /// window (`hours`), whether a container restarted inside it.
    pub fn digest(&self, windows: &[u32], now: i64) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        self.workloads.hash(&mut h);
        for &hours in windows {
            let recent = self
                .workloads
                .iter()
                .flat_map(|w| &w.pods)
                .flat_map(|p| &p.containers)
                .any(|c| c.restarted_within(hours, now));
            (hours, recent).hash(&mut h);
        }
        h.finish()
    }
}
