//! The cluster rules: what the Kubernetes watchers know of an entity's workloads (matched as
//! the Kubernetes tab matches them, [`crate::k8s::facts`]).
//!
//! ```yaml
//! rule: {runsIn: production}       # a workload in a cluster of this environment (or name)
//! rule: {replicas: {min: 2}}       # every workload wants at least 2 replicas
//! rule: probes                     # every container has readiness and liveness probes
//! rule: {probes: readiness}        # … only this one (readiness or liveness, or a list)
//! rule: limits                     # every container has CPU and memory limits
//! rule: {limits: memory}           # … only this one (cpu or memory, or a list)
//! rule: {noCrashLoops: {hours: 24}}   # no container crash-looping or restarted in 24 h
//! rule: noCrashLoops               # the same, 24 hours
//! ```
//!
//! What each one measures:
//! - `replicas` reads the desired count, not the available one (which dips in every rollout):
//!   `spec.replicas`, or the `minReplicas` of a HorizontalPodAutoscaler that targets the
//!   workload; a DaemonSet's is the nodes it is scheduled on.
//! - `probes` and `limits` read each workload's pod template (what its pods are made from and
//!   what one edits to fix it), its containers, not its init containers.
//! - `noCrashLoops` reads the pods there are now: a container waiting in `CrashLoopBackOff`, or
//!   with restarts whose last run ended within the window (`lastState.terminated.finishedAt`;
//!   a restart whose time the kubelet did not say counts). Only the last restart's time is
//!   kept, and a pod that was replaced takes its restarts with it.
//!
//! Every rule fails for an entity with no workloads in any cluster ("no workloads found in any
//! cluster", with why: no annotation, no cluster configured, or how they were matched). When a
//! cluster the words rely on is stale, the words say so.

use super::rules::RuleError;
use crate::catalog::snapshot::Snapshot;
use crate::k8s::facts::{EntityWorkloads, WorkloadFact, WorkloadFacts};
use crate::k8s::model::SpecSet;
use crate::k8s::KubeService;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Where an evaluation reads entities' workloads: the Kubernetes service, or facts built by
/// hand (tests).
pub trait WorkloadSource: Send + Sync {
    /// Every entity's of `snapshot`, or (`only`: an entity's key) that one's.
    fn workload_facts(&self, snapshot: &Arc<Snapshot>, only: Option<&str>) -> WorkloadFacts;
}

impl WorkloadSource for KubeService {
    fn workload_facts(&self, snapshot: &Arc<Snapshot>, only: Option<&str>) -> WorkloadFacts {
        KubeService::workload_facts(self, snapshot, only)
    }
}

impl WorkloadSource for WorkloadFacts {
    fn workload_facts(&self, _: &Arc<Snapshot>, only: Option<&str>) -> WorkloadFacts {
        let mut facts = self.clone();
        if let Some(key) = only {
            facts.entities.retain(|k, _| k == key);
        }
        facts
    }
}

/// The crash-loop windows `scorecards` read, or `None` when no check reads workloads.
pub fn needs<'a>(
    scorecards: impl IntoIterator<Item = &'a Arc<super::Scorecard>>,
) -> Option<Vec<u32>> {
    let mut windows = Vec::new();
    let mut any = false;
    for s in scorecards {
        any |= s.reads_clusters(&mut windows);
    }
    any.then_some(windows)
}

/// A cluster rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRule {
    /// A workload in a cluster whose environment or name is this (any case).
    RunsIn(String),
    /// Every workload's desired replicas at least this.
    Replicas { min: u32 },
    /// Every container of every workload's pod template sets these ([`SpecSet`] bits).
    Spec(u8),
    /// No container crash-looping or restarted within these hours.
    NoCrashLoops { hours: u32 },
}

/// How many failures the words name (then "and N more").
const NAMED: usize = 3;

const PROBES: [(&str, u8, &str); 2] = [
    ("readiness", SpecSet::READINESS, "readiness probe"),
    ("liveness", SpecSet::LIVENESS, "liveness probe"),
];
const LIMITS: [(&str, u8, &str); 2] = [
    ("cpu", SpecSet::CPU_LIMIT, "CPU limit"),
    ("memory", SpecSet::MEMORY_LIMIT, "memory limit"),
];

fn err(field: &str, message: impl Into<String>) -> RuleError {
    RuleError {
        field: field.into(),
        message: message.into(),
    }
}

/// A whole number ≥ 1 (`{min: 2}`'s 2).
fn count(v: Option<&Value>, field: &str, what: &str) -> Result<u32, RuleError> {
    v.and_then(Value::as_u64)
        .filter(|n| *n >= 1)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            err(
                field,
                format!("expected {what}, a whole number of at least 1"),
            )
        })
}

/// `{key: N}` with no other field.
fn only_field(arg: &Value, at: &str, key: &str, what: &str) -> Result<u32, RuleError> {
    let Value::Object(m) = arg else {
        return Err(err(at, format!("expected {{{key}: N}}")));
    };
    if let Some(other) = m.keys().find(|k| *k != key) {
        return Err(err(
            &format!("{at}.{other}"),
            format!("unknown field; expected {key}"),
        ));
    }
    count(m.get(key), &format!("{at}.{key}"), what)
}

/// Which bits of `choices` a `probes`/`limits` argument names: one name or a list.
fn which(arg: &Value, at: &str, choices: &[(&str, u8, &str)]) -> Result<u8, RuleError> {
    let names = || choices.iter().map(|c| c.0).collect::<Vec<_>>().join(" or ");
    let one = |v: &Value, field: &str| {
        v.as_str()
            .and_then(|s| choices.iter().find(|c| c.0.eq_ignore_ascii_case(s)))
            .map(|c| c.1)
            .ok_or_else(|| err(field, format!("expected {}", names())))
    };
    match arg {
        Value::Array(items) if !items.is_empty() => {
            let mut bits = 0u8;
            for (i, v) in items.iter().enumerate() {
                bits |= one(v, &format!("{at}[{i}]"))?;
            }
            Ok(bits)
        }
        Value::Array(_) => Err(err(at, format!("expected {}, or a list of them", names()))),
        v => one(v, at),
    }
}

impl ClusterRule {
    /// A rule written as a name alone, if it is one of these.
    pub fn named(name: &str) -> Option<ClusterRule> {
        match name {
            "probes" => Some(ClusterRule::Spec(SpecSet::READINESS | SpecSet::LIVENESS)),
            "limits" => Some(ClusterRule::Spec(
                SpecSet::CPU_LIMIT | SpecSet::MEMORY_LIMIT,
            )),
            "noCrashLoops" => Some(ClusterRule::NoCrashLoops { hours: 24 }),
            _ => None,
        }
    }

    /// A rule written as `{key: arg}` (`at`: where, `rule.runsIn`); `None`: not a cluster rule.
    pub fn parse(key: &str, arg: &Value, at: &str) -> Option<Result<ClusterRule, RuleError>> {
        Some(match key {
            "runsIn" => match arg.as_str().map(str::trim) {
                Some(env) if !env.is_empty() => Ok(ClusterRule::RunsIn(env.to_string())),
                _ => Err(err(at, "expected an environment or cluster name")),
            },
            "replicas" => only_field(arg, at, "min", "the fewest replicas")
                .map(|min| ClusterRule::Replicas { min }),
            "probes" => which(arg, at, &PROBES).map(ClusterRule::Spec),
            "limits" => which(arg, at, &LIMITS).map(ClusterRule::Spec),
            "noCrashLoops" => only_field(arg, at, "hours", "a number of hours")
                .map(|hours| ClusterRule::NoCrashLoops { hours }),
            _ => return None,
        })
    }

    /// The crash-loop window it reads, if any (what an entity's digest must follow in time).
    pub fn window(&self) -> Option<u32> {
        match self {
            ClusterRule::NoCrashLoops { hours } => Some(*hours),
            _ => None,
        }
    }

    /// Whether the entity (`key`) passes, and why, in plain words.
    pub fn evaluate(&self, facts: &WorkloadFacts, key: &str) -> (bool, String) {
        let Some(ew) = facts.of(key).filter(|e| !e.workloads.is_empty()) else {
            return (false, no_workloads(facts, key));
        };
        let (ok, mut why) = match self {
            ClusterRule::RunsIn(env) => match ew.workloads.iter().find(|w| in_env(facts, w, env)) {
                Some(w) => (true, format!("runs in {env}: {}", place(facts, w))),
                None => {
                    let mut envs: Vec<&str> = ew
                        .workloads
                        .iter()
                        .filter_map(|w| facts.cluster(w))
                        .map(|c| c.environment.as_str())
                        .collect();
                    envs.sort_unstable();
                    envs.dedup();
                    (
                        false,
                        format!(
                            "no workload in {env}; its workloads run in {}",
                            envs.join(", ")
                        ),
                    )
                }
            },
            _ => {
                let (n, named) = self.failures(facts, ew, NAMED);
                if n == 0 {
                    (true, self.passed(ew))
                } else {
                    let mut why = named.join("; ");
                    if n > named.len() {
                        why.push_str(&format!("; and {} more", n - named.len()));
                    }
                    (false, why)
                }
            }
        };
        why.push_str(&stale_note(facts, Some(ew)));
        (ok, why)
    }

    /// Whether the entity passes (the words are [`ClusterRule::evaluate`]'s).
    pub fn holds(&self, facts: &WorkloadFacts, key: &str) -> bool {
        let Some(ew) = facts.of(key).filter(|e| !e.workloads.is_empty()) else {
            return false;
        };
        match self {
            ClusterRule::RunsIn(env) => ew.workloads.iter().any(|w| in_env(facts, w, env)),
            _ => self.failures(facts, ew, 0).0 == 0,
        }
    }

    /// How many things fail, the first `named` of them in words.
    fn failures(
        &self,
        facts: &WorkloadFacts,
        ew: &EntityWorkloads,
        named: usize,
    ) -> (usize, Vec<String>) {
        let mut n = 0;
        let mut words = Vec::new();
        let mut fail = |say: &dyn Fn() -> String| {
            n += 1;
            if words.len() < named {
                words.push(say());
            }
        };
        for w in &ew.workloads {
            match self {
                ClusterRule::RunsIn(_) => {}
                ClusterRule::Replicas { min } => {
                    let floor = w.autoscaler_min.unwrap_or(w.desired);
                    if i64::from(floor) < i64::from(*min) {
                        fail(&|| {
                            let by = if w.autoscaler_min.is_some() {
                                "its autoscaler's minReplicas is"
                            } else {
                                "it wants"
                            };
                            format!("{}: {by} {floor}, fewer than {min}", place(facts, w))
                        });
                    }
                }
                ClusterRule::Spec(bits) => {
                    for (container, set) in &w.containers {
                        let missing: Vec<&str> = PROBES
                            .iter()
                            .chain(&LIMITS)
                            .filter(|(_, bit, _)| bits & bit != 0 && !set.has(*bit))
                            .map(|(_, _, what)| *what)
                            .collect();
                        if !missing.is_empty() {
                            fail(&|| {
                                format!(
                                    "{}: container {container} has no {}",
                                    place(facts, w),
                                    missing.join(" and no ")
                                )
                            });
                        }
                    }
                }
                ClusterRule::NoCrashLoops { hours } => {
                    for p in &w.pods {
                        for c in p
                            .containers
                            .iter()
                            .filter(|c| c.restarted_within(*hours, facts.now))
                        {
                            fail(&|| {
                                let when = match (c.crash_looping, c.last_finished) {
                                    (true, _) => "is in CrashLoopBackOff".to_string(),
                                    (false, Some(t)) => format!(
                                        "restarted {} ago",
                                        ago(facts.now - i64::from(t.get()))
                                    ),
                                    (false, None) => "restarted (when is not known)".to_string(),
                                };
                                format!(
                                    "pod {} container {} {when} ({} restart(s) in all; cluster {})",
                                    p.name,
                                    c.name,
                                    c.restarts,
                                    facts.cluster(w).map_or("?", |c| c.name.as_str())
                                )
                            });
                        }
                    }
                }
            }
        }
        (n, words)
    }

    /// The words of a pass.
    fn passed(&self, ew: &EntityWorkloads) -> String {
        let n = ew.workloads.len();
        match self {
            ClusterRule::RunsIn(_) => String::new(),
            ClusterRule::Replicas { min } => {
                format!("each of its {n} workload(s) wants at least {min} replica(s)")
            }
            ClusterRule::Spec(bits) => format!(
                "every container of its {n} workload(s) has a {}",
                spec_names(*bits).join(" and a ")
            ),
            ClusterRule::NoCrashLoops { hours } => {
                let pods: usize = ew.workloads.iter().map(|w| w.pods.len()).sum();
                format!(
                    "no container of its {pods} pod(s) is crash-looping or restarted in the last {hours} hour(s)"
                )
            }
        }
    }
}

fn spec_names(bits: u8) -> Vec<&'static str> {
    PROBES
        .iter()
        .chain(&LIMITS)
        .filter(|(_, bit, _)| bits & bit != 0)
        .map(|(_, _, what)| *what)
        .collect()
}

fn in_env(facts: &WorkloadFacts, w: &WorkloadFact, env: &str) -> bool {
    facts.cluster(w).is_some_and(|c| {
        c.environment.eq_ignore_ascii_case(env) || c.name.eq_ignore_ascii_case(env)
    })
}

/// `Deployment web (cluster prod-eu, namespace shop)`.
fn place(facts: &WorkloadFacts, w: &WorkloadFact) -> String {
    format!(
        "{} {} (cluster {}, namespace {})",
        w.kind,
        w.name,
        facts.cluster(w).map_or("?", |c| c.name.as_str()),
        w.namespace
    )
}

/// `3 h`, `2 d`, `5 min`.
fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 48 * 3600 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// Why an entity has no workloads to judge.
fn no_workloads(facts: &WorkloadFacts, key: &str) -> String {
    let why = match facts.of(key) {
        _ if facts.clusters.is_empty() => "no cluster is configured".to_string(),
        None => format!(
            "it has no {} or {} annotation",
            crate::k8s::service::ID_ANNOTATION,
            crate::k8s::service::SELECTOR_ANNOTATION
        ),
        Some(e) => format!("matched by {}", e.matched_by),
    };
    format!(
        "no workloads found in any cluster ({why}){}",
        stale_note(facts, None)
    )
}

/// `; cluster x is stale (since …): this may be out of date`, for each stale cluster the
/// entity's workloads run in (or, with none, any).
fn stale_note(facts: &WorkloadFacts, ew: Option<&EntityWorkloads>) -> String {
    facts
        .clusters
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            c.stale.is_some()
                && ew.is_none_or(|e| e.workloads.iter().any(|w| usize::from(w.cluster) == *i))
        })
        .map(|(_, c)| {
            format!(
                "; cluster {} is stale ({}): this may be out of date",
                c.name,
                c.stale.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

impl fmt::Display for ClusterRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterRule::RunsIn(env) => write!(f, "runsIn {env}"),
            ClusterRule::Replicas { min } => write!(f, "replicas ≥ {min}"),
            ClusterRule::Spec(bits) => write!(f, "{}", spec_names(*bits).join(", ")),
            ClusterRule::NoCrashLoops { hours } => write!(f, "noCrashLoops {hours}h"),
        }
    }
}
