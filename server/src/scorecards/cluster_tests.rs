//! The cluster rules over hand-built workloads, their syntax errors, incremental evaluation
//! after workload changes against a full one, and one run against a real kube-apiserver.

use super::cluster::ClusterRule;
use super::definition::ScorecardConfig;
use super::rules::{Facts, Rule};
use super::service::{evaluate_with, Context};
use super::{compile_config, Scorecard, ScorecardError};
use crate::catalog::snapshot::tests_support::stored;
use crate::catalog::snapshot::Snapshot;
use crate::k8s::facts::{
    ClusterNote, ContainerFact, EntityWorkloads, PodFact, WorkloadFact, WorkloadFacts,
};
use crate::k8s::model::SpecSet;
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::sync::Arc;

const NOW: i64 = 1_800_000_000;
const ALL: u8 = SpecSet::READINESS | SpecSet::LIVENESS | SpecSet::CPU_LIMIT | SpecSet::MEMORY_LIMIT;

fn component(name: &str, annotated: bool) -> crate::catalog::snapshot::Stored {
    let annotations = if annotated {
        json!({"backstage.io/kubernetes-id": name})
    } else {
        json!({})
    };
    stored(
        "Component",
        name,
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
               "metadata": {"name": name, "annotations": annotations},
               "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}),
    )
}

fn key(name: &str) -> String {
    format!("component:default/{name}")
}

fn container(
    name: &str,
    restarts: u32,
    crash_looping: bool,
    ended_ago_h: Option<i64>,
) -> ContainerFact {
    ContainerFact {
        name: name.into(),
        restarts,
        crash_looping,
        last_finished: ended_ago_h
            .and_then(|h| NonZeroU32::new(u32::try_from(NOW - h * 3600).expect("fits"))),
    }
}

fn workload(
    cluster: u16,
    name: &str,
    desired: i32,
    containers: &[(&str, u8)],
    pods: Vec<PodFact>,
) -> WorkloadFact {
    WorkloadFact {
        cluster,
        kind: "Deployment",
        namespace: "shop".into(),
        name: name.into(),
        desired,
        autoscaler_min: None,
        containers: containers
            .iter()
            .map(|(n, bits)| (n.to_string(), SpecSet(*bits)))
            .collect(),
        pods,
    }
}

fn pod(name: &str, containers: Vec<ContainerFact>) -> PodFact {
    PodFact {
        name: name.into(),
        containers,
    }
}

/// Two clusters (production, and a stale dev one); `web` well run in production, `api` badly
/// in dev, `ghost` matched but with no workloads.
fn facts() -> WorkloadFacts {
    let mut entities = std::collections::HashMap::new();
    entities.insert(
        key("web"),
        EntityWorkloads {
            matched_by: "label backstage.io/kubernetes-id=web".into(),
            workloads: vec![workload(
                0,
                "web",
                3,
                &[("app", ALL), ("proxy", ALL)],
                vec![pod(
                    "web-7d9-a",
                    vec![
                        container("app", 2, false, Some(30)),
                        container("proxy", 0, false, None),
                    ],
                )],
            )],
        },
    );
    entities.insert(
        key("api"),
        EntityWorkloads {
            matched_by: "label backstage.io/kubernetes-id=api".into(),
            workloads: vec![workload(
                1,
                "api",
                1,
                &[
                    ("app", SpecSet::LIVENESS | SpecSet::CPU_LIMIT),
                    ("log", SpecSet::READINESS | SpecSet::LIVENESS),
                ],
                vec![
                    pod(
                        "api-5c4-x",
                        vec![
                            container("app", 7, true, Some(0)),
                            container("log", 0, false, None),
                        ],
                    ),
                    pod(
                        "api-5c4-y",
                        vec![
                            container("app", 1, false, Some(3)),
                            container("log", 0, false, None),
                        ],
                    ),
                ],
            )],
        },
    );
    entities.insert(
        key("ghost"),
        EntityWorkloads {
            matched_by: "label backstage.io/kubernetes-id=ghost".into(),
            workloads: vec![],
        },
    );
    WorkloadFacts {
        clusters: vec![
            ClusterNote {
                name: "prod-eu".into(),
                environment: "production".into(),
                stale: None,
            },
            ClusterNote {
                name: "kind-dev".into(),
                environment: "dev".into(),
                stale: Some("since 2026-12-08T00:00:00Z: connection refused".into()),
            },
        ],
        entities,
        now: NOW,
    }
}

fn rule(yaml: &str) -> Rule {
    let v: Value = yaml_serde::from_str(yaml).expect("yaml");
    Rule::parse(&v, "rule").unwrap_or_else(|e| panic!("{yaml}: {e:?}"))
}

/// Every cluster rule, passing and failing, with its words; `holds` agrees with `evaluate`.
#[test]
fn cluster_rules_over_hand_built_workloads() {
    let snap = Snapshot::build(
        vec![
            component("web", true),
            component("api", true),
            component("ghost", true),
            component("plain", false),
        ],
        vec![],
    );
    let facts = facts();
    let none = WorkloadFacts::default();
    let check = |name: &str, r: &str, facts: &WorkloadFacts| {
        let record = snap.get("component", "default", name).expect(name);
        let f = Facts::new(record).with_clusters(Some(facts));
        let rule = rule(r);
        let (ok, why) = rule.evaluate(&f);
        assert_eq!(
            ok,
            rule.holds(&f),
            "{name} {r}: holds and evaluate disagree ({why})"
        );
        (ok, why)
    };
    let stale = "; cluster kind-dev is stale (since 2026-12-08T00:00:00Z: connection refused): this may be out of date";

    assert_eq!(
        check("web", "{runsIn: production}", &facts),
        (
            true,
            "runs in production: Deployment web (cluster prod-eu, namespace shop)".into()
        )
    );
    assert!(
        check("web", "{runsIn: PROD-EU}", &facts).0,
        "a cluster's name counts too"
    );
    assert_eq!(
        check("api", "{runsIn: production}", &facts),
        (
            false,
            format!("no workload in production; its workloads run in dev{stale}")
        )
    );

    assert_eq!(
        check("web", "{replicas: {min: 2}}", &facts),
        (
            true,
            "each of its 1 workload(s) wants at least 2 replica(s)".into()
        )
    );
    assert_eq!(
        check("api", "{replicas: {min: 2}}", &facts),
        (false, format!("Deployment api (cluster kind-dev, namespace shop): it wants 1, fewer than 2{stale}"))
    );
    let mut scaled = facts.clone();
    scaled.entities.get_mut(&key("api")).expect("api").workloads[0].autoscaler_min = Some(2);
    assert!(
        check("api", "{replicas: {min: 2}}", &scaled).0,
        "an autoscaler's minimum is the floor"
    );

    assert_eq!(
        check("web", "probes", &facts),
        (
            true,
            "every container of its 1 workload(s) has a readiness probe and a liveness probe"
                .into()
        )
    );
    assert_eq!(
        check("api", "probes", &facts),
        (false, format!("Deployment api (cluster kind-dev, namespace shop): container app has no readiness probe{stale}"))
    );
    assert!(check("api", "{probes: liveness}", &facts).0);
    assert_eq!(
        check("api", "limits", &facts),
        (false, format!(
            "Deployment api (cluster kind-dev, namespace shop): container app has no memory limit; \
             Deployment api (cluster kind-dev, namespace shop): container log has no CPU limit and no memory limit{stale}"
        ))
    );
    assert!(!check("api", "{limits: [cpu]}", &facts).0);
    assert!(check("web", "limits", &facts).0);

    // web's app restarted 30 hours ago: outside 24 hours, inside 48.
    assert_eq!(
        check("web", "noCrashLoops", &facts),
        (
            true,
            "no container of its 1 pod(s) is crash-looping or restarted in the last 24 hour(s)"
                .into()
        )
    );
    assert_eq!(
        check("web", "{noCrashLoops: {hours: 48}}", &facts),
        (
            false,
            "pod web-7d9-a container app restarted 30 h ago (2 restart(s) in all; cluster prod-eu)"
                .into()
        )
    );
    assert_eq!(
        check("api", "{noCrashLoops: {hours: 1}}", &facts),
        (false, format!("pod api-5c4-x container app is in CrashLoopBackOff (7 restart(s) in all; cluster kind-dev){stale}"))
    );
    assert_eq!(
        check("api", "{noCrashLoops: {hours: 6}}", &facts).1,
        format!(
            "pod api-5c4-x container app is in CrashLoopBackOff (7 restart(s) in all; cluster kind-dev); \
             pod api-5c4-y container app restarted 3 h ago (1 restart(s) in all; cluster kind-dev){stale}"
        )
    );

    // No workloads: a failure, with why.
    assert_eq!(
        check("ghost", "probes", &facts),
        (false, format!("no workloads found in any cluster (matched by label backstage.io/kubernetes-id=ghost){stale}"))
    );
    assert_eq!(
        check("plain", "{runsIn: production}", &facts).1,
        format!("no workloads found in any cluster (it has no backstage.io/kubernetes-id or backstage.io/kubernetes-label-selector annotation){stale}")
    );
    assert_eq!(
        check("web", "limits", &none),
        (
            false,
            "no workloads found in any cluster (no cluster is configured)".into()
        )
    );
    // Composed with the others.
    assert!(
        check(
            "web",
            "{all: [probes, limits, {runsIn: production}]}",
            &facts
        )
        .0
    );
    assert!(check("api", "{not: probes}", &facts).0);
    assert_eq!(rule("{replicas: {min: 2}}").to_string(), "replicas ≥ 2");
    assert_eq!(rule("{limits: memory}").to_string(), "memory limit");
    assert_eq!(rule("noCrashLoops").to_string(), "noCrashLoops 24h");
}

/// Bad syntax is refused with the field that is wrong, as `backlot validate` shows it.
#[test]
fn bad_cluster_rules_name_their_field() {
    let field = |yaml: &str| {
        let v: Value = yaml_serde::from_str(yaml).expect("yaml");
        let e = Rule::parse(&v, "rule").expect_err(yaml);
        (e.field, e.message)
    };
    assert_eq!(field("{runsIn: ''}").0, "rule.runsIn");
    assert_eq!(field("{runsIn: [a]}").0, "rule.runsIn");
    assert_eq!(
        field("{replicas: {min: 0}}"),
        (
            "rule.replicas.min".into(),
            "expected the fewest replicas, a whole number of at least 1".into()
        )
    );
    assert_eq!(field("{replicas: {min: two}}").0, "rule.replicas.min");
    assert_eq!(
        field("{replicas: {max: 3}}"),
        (
            "rule.replicas.max".into(),
            "unknown field; expected min".into()
        )
    );
    assert_eq!(field("{replicas: 2}").0, "rule.replicas");
    assert_eq!(
        field("{probes: startup}"),
        (
            "rule.probes".into(),
            "expected readiness or liveness".into()
        )
    );
    assert_eq!(field("{limits: [cpu, gpu]}").0, "rule.limits[1]");
    assert_eq!(field("{limits: []}").0, "rule.limits");
    assert_eq!(
        field("{noCrashLoops: {hours: -1}}").0,
        "rule.noCrashLoops.hours"
    );
    assert_eq!(
        field("{all: [probes, {noCrashLoops: {days: 1}}]}").0,
        "rule.all[1].noCrashLoops.days"
    );
    assert!(
        field("crashLoops").1.contains("noCrashLoops"),
        "the names are listed"
    );

    let config: Vec<ScorecardConfig> = yaml_serde::from_str(
        "- {name: k8s, levels: [ok], checks: [{id: r, title: R, level: ok, rule: {replicas: {min: 0}}}]}",
    )
    .expect("yaml");
    match compile_config(Some(&config), false) {
        Err(ScorecardError::Invalid { check, field, .. }) => {
            assert_eq!(
                (check.as_deref(), field.as_str()),
                (Some("r"), "checks[0].rule.replicas.min")
            );
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(
        ClusterRule::named("limits"),
        Some(ClusterRule::Spec(
            SpecSet::CPU_LIMIT | SpecSet::MEMORY_LIMIT
        ))
    );
}

fn cards() -> Vec<Arc<Scorecard>> {
    let config: Vec<ScorecardConfig> = yaml_serde::from_str(
        r#"
- name: k8s
  filter: {kind: component}
  levels: [bronze, silver, gold]
  checks:
    - {id: prod, title: Runs in production, level: bronze, rule: {runsIn: production}, fix: Deploy it to production.}
    - {id: replicas, title: Two replicas, level: silver, rule: {replicas: {min: 2}}, fix: Set spec.replicas to 2 or more.}
    - {id: probes, title: Probes, level: silver, rule: probes, fix: Add readiness and liveness probes.}
    - {id: limits, title: Limits, level: gold, rule: limits, fix: Set resources.limits.}
    - {id: stable, title: Stable, level: gold, rule: {noCrashLoops: {hours: 24}}, fix: Find why it restarts.}
"#,
    )
    .expect("yaml");
    compile_config(Some(&config), false)
        .expect("valid")
        .into_iter()
        .map(Arc::new)
        .collect()
}

/// A series of workload changes, evaluated incrementally on the same snapshot: after each, the
/// results equal a full evaluation's, and only the entities whose workloads changed (or whose
/// restart left the crash-loop window) were evaluated.
#[test]
fn incremental_evaluation_after_workload_changes_matches_full() {
    const N: usize = 40;
    let names: Vec<String> = (0..N).map(|i| format!("svc-{i:02}")).collect();
    let snap = Arc::new(Snapshot::build(
        names.iter().map(|n| component(n, true)).collect(),
        vec![],
    ));
    let cards = cards();
    let mut facts = WorkloadFacts {
        clusters: facts().clusters,
        entities: names
            .iter()
            .map(|n| {
                (
                    key(n),
                    EntityWorkloads {
                        matched_by: format!("label backstage.io/kubernetes-id={n}"),
                        workloads: vec![workload(
                            0,
                            n,
                            1,
                            &[("app", 0)],
                            vec![pod(
                                &format!("{n}-a"),
                                vec![container("app", 0, false, None)],
                            )],
                        )],
                    },
                )
            })
            .collect(),
        now: NOW,
    };
    let mut results = evaluate_with(
        &cards,
        &snap,
        None,
        &Context {
            workloads: Some(&facts),
            ..Context::bare()
        },
    );
    assert_eq!(results.evaluated, N);
    let mut seed = 11u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut levels_seen = std::collections::BTreeSet::new();
    let mut evaluated_in_all = 0;
    for step in 0..60 {
        let previous = facts.clone();
        for _ in 0..=next(3) {
            let i = next(N as u64) as usize;
            let w = &mut facts
                .entities
                .get_mut(&key(&names[i]))
                .expect("entity")
                .workloads;
            match next(7) {
                0 => w.clear(),
                1 => w.push(workload(
                    next(2) as u16,
                    &names[i],
                    2,
                    &[("app", ALL)],
                    vec![],
                )),
                2 => w.iter_mut().for_each(|w| w.desired = next(4) as i32),
                3 => w.iter_mut().for_each(|w| {
                    w.containers
                        .iter_mut()
                        .for_each(|c| c.1 = SpecSet(next(16) as u8))
                }),
                4 => w
                    .iter_mut()
                    .flat_map(|w| &mut w.pods)
                    .flat_map(|p| &mut p.containers)
                    .for_each(|c| {
                        c.restarts += 1;
                        c.last_finished = NonZeroU32::new(
                            u32::try_from(facts_now(step) - 3600 * next(30) as i64).expect("fits"),
                        );
                    }),
                5 => w
                    .iter_mut()
                    .flat_map(|w| &mut w.pods)
                    .flat_map(|p| &mut p.containers)
                    .for_each(|c| c.crash_looping = !c.crash_looping),
                _ => w.iter_mut().for_each(|w| w.cluster = 1 - w.cluster.min(1)),
            }
        }
        // Time passes too: restarts leave the 24-hour window.
        facts.now = facts_now(step);
        let incremental = evaluate_with(
            &cards,
            &snap,
            Some(&results),
            &Context {
                workloads: Some(&facts),
                ..Context::bare()
            },
        );
        let full = evaluate_with(
            &cards,
            &snap,
            None,
            &Context {
                workloads: Some(&facts),
                ..Context::bare()
            },
        );
        for i in 0..snap.records.len() {
            assert_eq!(
                incremental.outcomes(i),
                full.outcomes(i),
                "step {step}, entity {i}"
            );
            levels_seen.extend(full.outcomes(i).iter().map(|(_, o)| o.reached));
        }
        // Exactly the entities whose workloads (or 24-hour window) moved.
        let moved = names
            .iter()
            .filter(|n| {
                let digest = |f: &WorkloadFacts| f.of(&key(n)).map(|e| e.digest(&[24], f.now));
                digest(&previous) != digest(&facts)
            })
            .count();
        assert_eq!(incremental.evaluated, moved, "step {step}");
        evaluated_in_all += moved;
        results = incremental;
    }
    assert!(
        levels_seen.len() >= 3,
        "the series reaches several levels: {levels_seen:?}"
    );
    assert!(
        evaluated_in_all > 0 && evaluated_in_all < 60 * N / 4,
        "{evaluated_in_all} entities evaluated in 60 steps of {N}"
    );
    // Nothing changed: nothing evaluated.
    assert_eq!(
        evaluate_with(
            &cards,
            &snap,
            Some(&results),
            &Context {
                workloads: Some(&facts),
                ..Context::bare()
            }
        )
        .evaluated,
        0
    );
    // A restart inside the window, then time passing it: that entity alone is evaluated again.
    let first = key(&names[0]);
    let w = &mut facts.entities.get_mut(&first).expect("first").workloads;
    *w = vec![workload(
        0,
        &names[0],
        3,
        &[("app", ALL)],
        vec![pod("p", vec![container("app", 1, false, None)])],
    )];
    w[0].pods[0].containers[0].last_finished =
        NonZeroU32::new(u32::try_from(facts.now - 23 * 3600).expect("fits"));
    let before = evaluate_with(
        &cards,
        &snap,
        Some(&results),
        &Context {
            workloads: Some(&facts),
            ..Context::bare()
        },
    );
    assert_eq!(before.evaluated, 1);
    assert!(!before.outcomes(0)[0].1.passed(4));
    facts.now += 2 * 3600;
    let after = evaluate_with(
        &cards,
        &snap,
        Some(&before),
        &Context {
            workloads: Some(&facts),
            ..Context::bare()
        },
    );
    assert_eq!(
        after.evaluated, 1,
        "only the entity whose restart left the window"
    );
    assert!(after.outcomes(0)[0].1.passed(4));
}

fn facts_now(step: i64) -> i64 {
    NOW + step * 3 * 3600
}

/// Against a real kube-apiserver: a Deployment without probes fails the check (with why and how
/// to fix); adding probes to its template makes it pass, and the loop evaluates that entity
/// alone again.
#[tokio::test]
async fn probes_from_a_real_api_server() {
    use crate::k8s::testing::{ApiServer, Objects};
    use std::time::{Duration, Instant};
    let server = ApiServer::start();
    let h =
        crate::test_support::Harness::new(crate::storage::testing::TestDb::sqlite().await).await;
    let web = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  annotations:\n    backstage.io/kubernetes-id: web\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n";
    let file = h.write(
        "catalog-info.yaml",
        &[crate::test_support::group("team-a"), web.to_string()].join("---\n"),
    );
    h.register_file(&file).await;
    let objects = Objects::new(server.client().await, "team-a").await;
    objects
        .deployment(
            "web",
            json!({"backstage.io/kubernetes-id": "web"}),
            "nginx:1.25",
            1,
        )
        .await;
    let settings: crate::k8s::KubeSettings = yaml_serde::from_str(&format!(
        "clusters:\n- kubeconfig: {}\n  name: test\n  environment: production\n",
        server.kubeconfig().display()
    ))
    .expect("settings");
    let clusters = crate::k8s::KubeService::start(&settings, h.catalog.clone())
        .await
        .expect("start");
    let config: Vec<ScorecardConfig> = yaml_serde::from_str(
        "- {name: k8s, levels: [ok], checks: [{id: probes, title: Probes, level: ok, rule: probes, fix: Add readinessProbe and livenessProbe to each container.}]}",
    )
    .expect("yaml");
    let service = Arc::new(
        super::ScorecardService::new(compile_config(Some(&config), false).expect("valid"))
            .with_kube(clusters.clone()),
    );
    let looping = service.spawn(h.catalog.clone(), h.db.store.clone());
    let i = h
        .catalog
        .snapshot()
        .index_of_key("component:default/web")
        .expect("web");
    let facade = h.state().facade();
    let wait = |what: &str, passes: bool| {
        let (service, facade, what) = (service.clone(), facade.clone(), what.to_string());
        async move {
            let start = Instant::now();
            loop {
                // The loop's results (evaluated when the cluster changed), and the page's words.
                let latest = service.latest();
                let outcome = latest
                    .as_ref()
                    .and_then(|l| l.outcomes(i).first().map(|o| o.1));
                let shown = service
                    .entity(
                        &facade,
                        &app::model::Caller::guest(),
                        "component",
                        "default",
                        "web",
                    )
                    .expect("web");
                let check = &shown.scorecards[0].checks[0];
                if let (Some(latest), Some(outcome)) = (latest, outcome) {
                    if outcome.passed(0) == passes
                        && check.passed == passes
                        && check.reason.contains(&what)
                    {
                        return (latest, check.clone());
                    }
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "{what:?} not seen: {check:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let (_, failing) = wait(
        "Deployment web (cluster test, namespace team-a): container app has no readiness probe and no liveness probe",
        false,
    )
    .await;
    assert_eq!(
        failing.fix,
        "Add readinessProbe and livenessProbe to each container."
    );
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(objects.client.clone(), "team-a");
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}});
    deployments
        .patch(
            "web",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "readinessProbe": probe, "livenessProbe": probe}
            ]}}}})),
        )
        .await
        .expect("add probes");
    let (latest, passing) = wait("has a readiness probe and a liveness probe", true).await;
    assert_eq!(
        passing.reason,
        "every container of its 1 workload(s) has a readiness probe and a liveness probe"
    );
    assert_eq!(
        latest.evaluated, 1,
        "only web is evaluated again (the group is carried over)"
    );
    looping.abort();
    clusters.close();
}
