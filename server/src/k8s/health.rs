//! The health rules: a pod's and a workload's health with the reasons, in plain words and with
//! the likely next step. Pure functions over the compact objects of [`super::model`].

use super::model::{HpaObj, PodObj, Run, Workload};
use app::kube::{Health, Reason};

/// Restarts from which a running container is called out.
pub const RESTARTS_NOTED: u32 = 3;

fn reason(code: &str, health: Health, message: String, next_step: String) -> Reason {
    Reason {
        code: code.into(),
        message,
        next_step,
        health,
    }
}

/// A pod's health and why.
pub fn pod(p: &PodObj) -> (Health, Vec<Reason>) {
    let name = &p.meta.name;
    let ns = &p.meta.namespace;
    let mut reasons = Vec::new();
    match p.phase.as_str() {
        "Succeeded" => return (Health::Healthy, reasons),
        "Failed" => {
            let why = p.reason.clone().unwrap_or_else(|| "Failed".into());
            reasons.push(reason(
                if why == "Evicted" { "Evicted" } else { "Failed" },
                Health::Down,
                format!(
                    "Pod {name} failed{}",
                    p.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_else(|| format!(" ({why})"))
                ),
                if why == "Evicted" {
                    "The node ran short of resources: check the pod's requests and the node's pressure; its controller starts a new pod.".into()
                } else {
                    format!("kubectl -n {ns} describe pod {name}")
                },
            ));
            return (Health::Down, reasons);
        }
        _ => {}
    }
    for c in p.init_containers.iter().chain(&p.containers) {
        let cname = &c.name;
        match &c.state {
            Run::Waiting { reason: r, message } => match r.as_str() {
                "CrashLoopBackOff" => reasons.push(reason(
                    "CrashLoopBackOff",
                    Health::Down,
                    format!(
                        "Container {cname} in pod {name} keeps crashing (restarted {} times){}",
                        c.restarts,
                        c.last_termination
                            .as_deref()
                            .map(|t| format!("; its last run ended with {t}"))
                            .unwrap_or_default()
                    ),
                    if c.last_termination.as_deref() == Some("OOMKilled") {
                        format!("It runs out of memory: raise its memory limit or find the leak (kubectl -n {ns} logs {name} -c {cname} --previous).")
                    } else {
                        format!("Read the logs of the run that crashed: kubectl -n {ns} logs {name} -c {cname} --previous")
                    },
                )),
                "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => {
                    reasons.push(reason(
                        "ImagePullBackOff",
                        Health::Down,
                        format!(
                            "Image {} of container {cname} in pod {name} cannot be pulled{}",
                            c.image,
                            message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                        ),
                        "Check the image name and tag exist in the registry, and that the cluster may pull from it (imagePullSecrets).".into(),
                    ))
                }
                "CreateContainerConfigError" | "CreateContainerError" | "RunContainerError" => {
                    reasons.push(reason(
                        r,
                        Health::Down,
                        format!(
                            "Container {cname} in pod {name} cannot start{}",
                            message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                        ),
                        "A ConfigMap, Secret or key it refers to is probably missing: kubectl describe the pod.".into(),
                    ))
                }
                "ContainerCreating" | "PodInitializing" => {}
                other => reasons.push(reason(
                    other,
                    Health::Degraded,
                    format!(
                        "Container {cname} in pod {name} is waiting: {other}{}",
                        message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
                    ),
                    format!("kubectl -n {ns} describe pod {name}"),
                )),
            },
            Run::Terminated { reason: r, exit_code } if p.phase == "Running" => {
                if r == "OOMKilled" {
                    reasons.push(oom(ns, name, cname));
                } else if *exit_code != 0 {
                    reasons.push(reason(
                        "Terminated",
                        Health::Degraded,
                        format!("Container {cname} in pod {name} exited with code {exit_code} ({r})"),
                        format!("kubectl -n {ns} logs {name} -c {cname} --previous"),
                    ));
                }
            }
            _ => {}
        }
        let oom_named = reasons
            .iter()
            .any(|r| r.code == "OOMKilled" || r.code == "CrashLoopBackOff");
        if c.last_termination.as_deref() == Some("OOMKilled") && !oom_named {
            reasons.push(oom(ns, name, cname));
        } else if c.restarts >= RESTARTS_NOTED
            && !reasons.iter().any(|r| r.code == "CrashLoopBackOff")
            && matches!(c.state, Run::Running)
        {
            reasons.push(reason(
                "Restarts",
                Health::Degraded,
                format!(
                    "Container {cname} in pod {name} has restarted {} times",
                    c.restarts
                ),
                format!(
                    "It crashes now and then: kubectl -n {ns} logs {name} -c {cname} --previous"
                ),
            ));
        }
    }
    if p.phase == "Pending" {
        if let Some(c) = p
            .conditions
            .iter()
            .find(|c| c.kind == "PodScheduled" && c.status == "False")
        {
            reasons.push(reason(
                "Unschedulable",
                Health::Degraded,
                format!(
                    "Pod {name} cannot be placed on a node{}",
                    c.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                "Lower its resource requests, relax its node selector or affinity, or add nodes."
                    .into(),
            ));
        } else if reasons.is_empty() {
            reasons.push(reason(
                "Pending",
                Health::Progressing,
                format!("Pod {name} is starting"),
                "Wait a little; if it stays pending, kubectl describe the pod.".into(),
            ));
        }
    }
    if p.phase == "Running" && !p.ready() && reasons.iter().all(|r| r.health < Health::Degraded) {
        let not_ready: Vec<&str> = p
            .containers
            .iter()
            .filter(|c| !c.ready)
            .map(|c| c.name.as_str())
            .collect();
        reasons.push(reason(
            "NotReady",
            Health::Degraded,
            format!(
                "Pod {name} is running but not ready{}",
                if not_ready.is_empty() {
                    String::new()
                } else {
                    format!(" (container {} fails its readiness check)", not_ready.join(", "))
                }
            ),
            "Its readiness probe fails: check the probe's path and port, and what the app logs when it is asked.".into(),
        ));
    }
    let health = if reasons.is_empty() {
        Health::Healthy
    } else {
        Health::worst(reasons.iter().map(|r| r.health))
    };
    (health, reasons)
}

fn oom(ns: &str, name: &str, cname: &str) -> Reason {
    reason(
        "OOMKilled",
        Health::Degraded,
        format!("Container {cname} in pod {name} was killed for using more memory than its limit"),
        format!("Raise its memory limit or find what uses the memory (kubectl -n {ns} logs {name} -c {cname} --previous)."),
    )
}

/// A workload's health from its status, its pods' and its autoscaler's.
pub fn workload(w: &Workload, pods: &[&PodObj], hpa: Option<&HpaObj>) -> (Health, Vec<Reason>) {
    let name = &w.meta.name;
    let ns = &w.meta.namespace;
    let kind = w.kind;
    let mut reasons: Vec<Reason> = Vec::new();
    let mut pod_health = Health::Healthy;
    // The pods' reasons, one per code: "2 pods: …" rather than one line each.
    let mut by_code: Vec<(Reason, usize)> = Vec::new();
    for p in pods {
        let (h, rs) = pod(p);
        pod_health = pod_health.max(h);
        for r in rs {
            match by_code.iter_mut().find(|(x, _)| x.code == r.code) {
                Some((_, n)) => *n += 1,
                None => by_code.push((r, 1)),
            }
        }
    }
    for c in &w.conditions {
        match (c.kind.as_str(), c.status.as_str(), c.reason.as_deref()) {
            ("Progressing", "False", Some("ProgressDeadlineExceeded")) => reasons.push(reason(
                "ProgressDeadlineExceeded",
                Health::Degraded,
                format!("The rollout of {kind} {name} is stuck: it made no progress within its deadline"),
                format!("See why its new pods do not become ready (below), then fix or roll back: kubectl -n {ns} rollout undo deployment/{name}"),
            )),
            ("Available", "False", _) => reasons.push(reason(
                "Unavailable",
                if w.ready == 0 { Health::Down } else { Health::Degraded },
                format!(
                    "{kind} {name} does not have the minimum replicas available{}",
                    c.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                ),
                "Look at the pods' reasons below.".into(),
            )),
            ("ReplicaFailure", "True", _) => reasons.push(reason(
                "ReplicaFailure",
                Health::Degraded,
                format!(
                    "{kind} {name} cannot create pods{}",
                    c.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                ),
                "A quota or admission policy refuses them: kubectl describe the replica set.".into(),
            )),
            _ => {}
        }
    }
    let rolling = !w.observed || w.updated < w.desired || w.revisions_differ;
    let health = if w.desired == 0 {
        Health::Healthy
    } else if !w.has_status {
        reasons.push(reason(
            "NoStatus",
            Health::Progressing,
            format!("{kind} {name} has no status yet"),
            "Its controller has not reported on it: wait a little, or check the controller manager.".into(),
        ));
        Health::Progressing
    } else if w.ready == 0 {
        Health::Down
    } else if w.ready < w.desired {
        if rolling && pod_health < Health::Degraded && reasons.is_empty() {
            Health::Progressing
        } else {
            Health::Degraded
        }
    } else if rolling && w.observed {
        Health::Progressing
    } else {
        Health::Healthy
    };
    if w.desired > 0 && w.has_status && w.ready < w.desired {
        reasons.insert(
            0,
            reason(
                if rolling && health == Health::Progressing {
                    "RollingOut"
                } else {
                    "ReplicasShort"
                },
                health,
                format!(
                    "{} of {} replicas of {kind} {name} are ready",
                    w.ready, w.desired
                ),
                if rolling && health == Health::Progressing {
                    format!(
                        "A rollout is under way: kubectl -n {ns} rollout status {}/{name}",
                        kind.to_ascii_lowercase()
                    )
                } else {
                    "Look at the pods' reasons below.".into()
                },
            ),
        );
    }
    for (mut r, n) in by_code {
        if n > 1 {
            r.message = format!("{} (and {} more pods)", r.message, n - 1);
        }
        // A crashing pod beside enough ready ones degrades the workload; it is not down.
        if w.ready > 0 && r.health == Health::Down {
            r.health = Health::Degraded;
        }
        reasons.push(r);
    }
    if let Some(h) = hpa {
        if h.max > 0 && h.current >= h.max && h.desired >= h.max {
            reasons.push(reason(
                "HpaAtMax",
                Health::Degraded,
                format!(
                    "Autoscaler {} holds {kind} {name} at its maximum of {} replicas: it cannot add capacity if load grows",
                    h.meta.name, h.max
                ),
                "Raise maxReplicas, or find why the load (or the pods' usage) is so high.".into(),
            ));
        }
    }
    let health = Health::worst(reasons.iter().map(|r| r.health).chain([health]));
    (health, reasons)
}

#[cfg(test)]
mod tests {
    use super::super::model::{Cond, Container, Meta};
    use super::*;

    fn container(state: Run, ready: bool, restarts: u32, last: Option<&str>) -> Container {
        Container {
            name: "web".into(),
            image: "nginx:1.25".into(),
            ready,
            restarts,
            state,
            last_termination: last.map(str::to_string),
            last_finished: None,
        }
    }

    fn pod_with(phase: &str, ready: bool, c: Container) -> PodObj {
        PodObj {
            meta: Meta {
                name: "web-1".into(),
                namespace: "team-a".into(),
                ..Default::default()
            },
            phase: phase.into(),
            node: None,
            conditions: vec![Cond {
                kind: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }],
            containers: vec![c],
            init_containers: vec![],
            reason: None,
            message: None,
        }
    }

    fn waiting(r: &str) -> Run {
        Run::Waiting {
            reason: r.into(),
            message: Some("back-off".into()),
        }
    }

    fn deployment(desired: i32, ready: i32, updated: i32) -> Workload {
        Workload {
            meta: Meta {
                name: "web".into(),
                namespace: "team-a".into(),
                generation: Some(2),
                ..Default::default()
            },
            kind: "Deployment",
            desired,
            ready,
            available: ready,
            updated,
            observed: true,
            has_status: true,
            revisions_differ: false,
            conditions: vec![],
            template_labels: Default::default(),
            images: vec![],
        }
    }

    fn codes(rs: &[Reason]) -> Vec<&str> {
        rs.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn pods_explain_themselves() {
        let ok = pod_with("Running", true, container(Run::Running, true, 0, None));
        assert_eq!(pod(&ok), (Health::Healthy, vec![]));

        let (h, rs) = pod(&pod_with(
            "Running",
            false,
            container(waiting("CrashLoopBackOff"), false, 7, Some("Error")),
        ));
        assert_eq!((h, codes(&rs)), (Health::Down, vec!["CrashLoopBackOff"]));
        assert!(
            rs[0].message.contains("restarted 7 times"),
            "{}",
            rs[0].message
        );
        assert!(rs[0].next_step.contains("logs web-1 -c web --previous"));

        let (h, rs) = pod(&pod_with(
            "Pending",
            false,
            container(waiting("ImagePullBackOff"), false, 0, None),
        ));
        assert_eq!((h, codes(&rs)), (Health::Down, vec!["ImagePullBackOff"]));
        assert!(rs[0].message.contains("nginx:1.25"));

        let (h, rs) = pod(&pod_with(
            "Running",
            true,
            container(Run::Running, true, 4, Some("OOMKilled")),
        ));
        assert_eq!((h, codes(&rs)), (Health::Degraded, vec!["OOMKilled"]));

        let (h, rs) = pod(&pod_with(
            "Running",
            false,
            container(Run::Running, false, 0, None),
        ));
        assert_eq!((h, codes(&rs)), (Health::Degraded, vec!["NotReady"]));

        let (h, rs) = pod(&pod_with(
            "Running",
            true,
            container(Run::Running, true, 5, Some("Error")),
        ));
        assert_eq!((h, codes(&rs)), (Health::Degraded, vec!["Restarts"]));

        let mut pending = pod_with("Pending", false, container(Run::Unknown, false, 0, None));
        assert_eq!(codes(&pod(&pending).1), vec!["Pending"]);
        assert_eq!(pod(&pending).0, Health::Progressing);
        pending.conditions.push(Cond {
            kind: "PodScheduled".into(),
            status: "False".into(),
            reason: Some("Unschedulable".into()),
            message: Some("0/3 nodes are available: 3 Insufficient cpu.".into()),
        });
        let (h, rs) = pod(&pending);
        assert_eq!((h, codes(&rs)), (Health::Degraded, vec!["Unschedulable"]));
        assert!(rs[0].message.contains("Insufficient cpu"));

        let mut evicted = pod_with("Failed", false, container(Run::Unknown, false, 0, None));
        evicted.reason = Some("Evicted".into());
        assert_eq!(codes(&pod(&evicted).1), vec!["Evicted"]);
    }

    #[test]
    fn workloads_roll_up_their_pods_and_conditions() {
        let ok = pod_with("Running", true, container(Run::Running, true, 0, None));
        let crash = pod_with(
            "Running",
            false,
            container(waiting("CrashLoopBackOff"), false, 7, None),
        );
        assert_eq!(
            workload(&deployment(2, 2, 2), &[&ok, &ok], None),
            (Health::Healthy, vec![])
        );

        let mut d = deployment(2, 1, 2);
        d.conditions.push(Cond {
            kind: "Available".into(),
            status: "False".into(),
            reason: Some("MinimumReplicasUnavailable".into()),
            message: None,
        });
        let (h, rs) = workload(&d, &[&ok, &crash], None);
        assert_eq!(h, Health::Degraded);
        assert_eq!(
            codes(&rs),
            vec!["ReplicasShort", "Unavailable", "CrashLoopBackOff"]
        );
        assert!(rs[0].message.contains("1 of 2 replicas"));

        let (h, rs) = workload(&deployment(2, 0, 2), &[&crash, &crash], None);
        assert_eq!(h, Health::Down);
        assert!(
            rs.iter().any(|r| r.message.contains("and 1 more pods")),
            "{rs:?}"
        );

        // A rollout in progress with nothing failing is progressing, not degraded.
        let starting = pod_with("Pending", false, container(Run::Unknown, false, 0, None));
        let (h, rs) = workload(&deployment(3, 2, 1), &[&ok, &ok, &starting], None);
        assert_eq!((h, codes(&rs)[0]), (Health::Progressing, "RollingOut"));

        let mut stuck = deployment(3, 2, 1);
        stuck.conditions.push(Cond {
            kind: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            message: None,
        });
        let (h, rs) = workload(&stuck, &[&ok, &ok], None);
        assert_eq!(h, Health::Degraded);
        assert!(codes(&rs).contains(&"ProgressDeadlineExceeded"));

        let hpa = HpaObj {
            meta: Meta {
                name: "web".into(),
                ..Default::default()
            },
            target_kind: "Deployment".into(),
            target_name: "web".into(),
            min: 1,
            max: 2,
            current: 2,
            desired: 2,
        };
        let (h, rs) = workload(&deployment(2, 2, 2), &[&ok, &ok], Some(&hpa));
        assert_eq!((h, codes(&rs)), (Health::Degraded, vec!["HpaAtMax"]));

        let mut fresh = deployment(2, 0, 0);
        fresh.has_status = false;
        fresh.observed = false;
        assert_eq!(workload(&fresh, &[], None).0, Health::Progressing);
        assert_eq!(workload(&deployment(0, 0, 0), &[], None).0, Health::Healthy);
    }
}
