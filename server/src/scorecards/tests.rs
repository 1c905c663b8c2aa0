//! Rules over hand-built entities, levels, config errors, carrying results over between
//! snapshots, and (ignored) the cost of a full evaluation at 10k entities.

use super::definition::ScorecardConfig;
use super::rules::{Facts, Rule};
use super::service::{evaluate, from_entity};
use super::*;
use crate::catalog::snapshot::tests_support::stored;
use crate::catalog::snapshot::{Snapshot, Stored};
use serde_json::{json, Value};
use std::sync::Arc;

fn snapshot(entities: Vec<(&str, &str, Value)>) -> Arc<Snapshot> {
    Arc::new(Snapshot::build(
        entities
            .into_iter()
            .map(|(kind, name, body)| stored(kind, name, body))
            .collect(),
        vec![],
    ))
}

pub(super) fn component(name: &str, spec: Value, metadata: Value) -> (&'static str, String, Value) {
    let mut meta = json!({"name": name});
    if let (Some(m), Value::Object(extra)) = (meta.as_object_mut(), metadata) {
        m.extend(extra);
    }
    (
        "Component",
        name.to_string(),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": meta, "spec": spec}),
    )
}

pub(super) fn group(name: &str) -> (&'static str, String, Value) {
    (
        "Group",
        name.to_string(),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": name}, "spec": {"type": "team", "children": []}}),
    )
}

pub(super) fn build(entities: Vec<(&'static str, String, Value)>) -> Arc<Snapshot> {
    snapshot(
        entities
            .iter()
            .map(|(k, n, b)| (*k, n.as_str(), b.clone()))
            .collect(),
    )
}

pub(super) fn rule(yaml: &str) -> Rule {
    let v: Value = yaml_serde::from_str(yaml).expect("yaml");
    Rule::parse(&v, "rule").unwrap_or_else(|e| panic!("{yaml}: {e:?}"))
}

fn check(snap: &Snapshot, name: &str, r: &str) -> (bool, String) {
    let record = snap.get("component", "default", name).expect(name);
    rule(r).evaluate(&Facts::new(record))
}

/// Every rule, passing and failing, with its reason.
#[test]
fn rules_over_catalog_facts() {
    let snap = build(vec![
        group("team-a"),
        component(
            "good",
            json!({"type": "service", "lifecycle": "production", "owner": "team-a", "system": "shop", "providesApis": ["orders"]}),
            json!({"description": "Takes orders.", "tags": ["rust", "orders"],
                   "links": [{"url": "https://runbook", "title": "Runbook"}],
                   "annotations": {"github.com/project-slug": "northwind/good", "pagerduty.com/service-id": "P1"}}),
        ),
        component(
            "bare",
            json!({"type": "service", "lifecycle": "experimental", "owner": "team-ghost"}),
            json!({"annotations": {"github.com/project-slug": "someone/bare"}}),
        ),
    ]);
    let pass = |name: &str, r: &str| check(&snap, name, r);
    assert_eq!(pass("good", "ownerSet"), (true, "owner is team-a".into()));
    assert_eq!(
        pass("good", "ownerExists"),
        (true, "owner group:default/team-a is in the catalog".into())
    );
    assert!(pass("bare", "ownerSet").0);
    assert_eq!(
        pass("bare", "ownerExists"),
        (
            false,
            "owner group:default/team-ghost is not in the catalog".into()
        )
    );
    assert!(pass("good", "description").0);
    assert_eq!(
        pass("bare", "description"),
        (false, "metadata.description is empty".into())
    );
    assert!(pass("bare", "lifecycle").0);
    assert!(pass("good", "{lifecycle: [Production, deprecated]}").0);
    assert_eq!(
        pass("bare", "{lifecycle: production}"),
        (
            false,
            "lifecycle is experimental, not one of production".into()
        )
    );
    assert!(pass("good", "system").0);
    assert_eq!(
        pass("bare", "system"),
        (false, "spec.system is not set".into())
    );
    assert_eq!(pass("good", "tags"), (true, "2 tag(s)".into()));
    assert!(pass("good", "{tag: Rust}").0);
    assert_eq!(
        pass("good", "{tag: java}"),
        (false, "not tagged java".into())
    );
    assert!(!pass("bare", "tags").0);
    assert_eq!(pass("good", "links"), (true, "1 link(s)".into()));
    assert_eq!(
        pass("bare", "links"),
        (false, "metadata.links is empty".into())
    );
    assert!(pass("good", "{annotation: pagerduty.com/service-id}").0);
    assert_eq!(
        pass("bare", "{annotation: pagerduty.com/service-id}"),
        (
            false,
            "annotation pagerduty.com/service-id is not set".into()
        )
    );
    let slug = "{annotation: {key: github.com/project-slug, matches: '^northwind/'}}";
    assert!(pass("good", slug).0);
    assert_eq!(
        pass("bare", slug),
        (
            false,
            "annotation github.com/project-slug is \"someone/bare\", which does not match ^northwind/"
                .into()
        )
    );
    assert_eq!(
        pass("good", "{relation: providesApi}"),
        (true, "1 providesApi relation(s)".into())
    );
    assert_eq!(
        pass("bare", "{relation: providesapi}"),
        (false, "no providesApi relation".into())
    );
    // Composition.
    assert_eq!(
        pass("good", "{all: [ownerExists, description, tags]}"),
        (true, "all hold".into())
    );
    assert_eq!(
        pass("bare", "{all: [ownerSet, description, tags]}"),
        (false, "metadata.description is empty".into())
    );
    assert_eq!(
        pass("bare", "{any: [description, system]}"),
        (
            false,
            "metadata.description is empty; spec.system is not set".into()
        )
    );
    assert!(pass("bare", "{any: [description, lifecycle]}").0);
    assert_eq!(
        pass("good", "{not: {lifecycle: production}}"),
        (false, "lifecycle is production (it must not)".into())
    );
    assert!(pass("bare", "{not: {lifecycle: deprecated}}").0);
    assert_eq!(
        rule("{all: [ownerExists, {not: {tag: legacy}}, {annotation: {key: a, matches: x}}]}")
            .to_string(),
        "all(ownerExists, not(tag legacy), annotation a matches x)"
    );
}

/// A bad rule names where it is and what is wrong.
#[test]
fn bad_rules_name_the_field() {
    let err = |yaml: &str| {
        let v: Value = yaml_serde::from_str(yaml).expect("yaml");
        let e = Rule::parse(&v, "rule").expect_err(yaml);
        format!("{}: {}", e.field, e.message)
    };
    assert!(err("ownerExist").starts_with("rule: unknown rule \"ownerExist\""));
    assert!(
        err("{all: [description, {annotation: {key: a, matches: '('}}]}")
            .starts_with("rule.all[1].annotation.matches: invalid pattern")
    );
    assert!(err("{relation: ownsApi}").starts_with("rule.relation: unknown relation \"ownsApi\""));
    assert_eq!(err("{any: []}"), "rule.any: expected at least one rule");
    assert_eq!(
        err("{tag: a, lifecycle: b}"),
        "rule: a rule is a map with exactly one key, found 2"
    );
    assert_eq!(
        err("{annotation: {key: a, match: b}}"),
        "rule.annotation.match: unknown field; expected key or matches"
    );
    assert_eq!(err("{not: 3}"), "rule.not: expected a rule name or a map; expected one of ownerSet, ownerExists, description, lifecycle, system, tags, links, techdocs, onCallLink, dashboardLink, probes, limits, noCrashLoops (or a map: lifecycle, tag, annotation, relation, file, lastCommit, docsPages, runsIn, replicas, probes, limits, noCrashLoops, all, any, not)");
    assert!(err("{file: ../etc/passwd}")
        .starts_with("rule.file: \"../etc/passwd\": expected a path relative"));
    assert_eq!(
        err("{file: {path: Dockerfile, match: x}}"),
        "rule.file.match: unknown field; expected path or matches"
    );
    assert!(err("{file: {path: Dockerfile, matches: '['}}")
        .starts_with("rule.file.matches: invalid pattern"));
    assert_eq!(
        err("{file: {matches: x}}"),
        "rule.file.path: expected a path in the repository"
    );
    assert_eq!(
        err("{file: {path: .github/workflows/, matches: x}}"),
        "rule.file.matches: a folder has no lines to match; name a file"
    );
}

/// File rules over a hand-built repository: present, missing, a matching line, unreadable.
#[test]
fn file_rules_over_a_repository() {
    use super::repo::{RepoFacts, SourceTreeForTests};
    let snap = build(vec![component(
        "web",
        json!({"type": "service"}),
        json!({}),
    )]);
    let record = snap.get("component", "default", "web").expect("web");
    let rules = [
        "{file: README.md}",
        "{file: CODEOWNERS}",
        "{file: .github/workflows/}",
        r"{file: {path: Dockerfile, matches: '^FROM \S+:\d'}}",
        "{file: {path: Dockerfile, matches: ':latest$'}}",
        "{any: [{file: .gitlab-ci.yml}, {file: .github/workflows/}]}",
    ];
    let mut queries = super::repo::RepoQueries::default();
    for r in rules {
        rule(r).repo_queries(&mut queries);
    }
    assert_eq!(queries.files.len(), 6, "each file query once");
    assert!(!queries.commit && !queries.docs);
    let queries = queries.files;
    let tree = SourceTreeForTests(vec![
        ("README.md", "# web\n"),
        (".github/workflows/ci.yml", "on: push\n"),
        ("Dockerfile", "FROM rust:1.95\n"),
    ]);
    let repo = RepoFacts::read(&tree, &queries);
    let facts = Facts::with_files(record, Some(&repo));
    let words = |r: &str| rule(r).evaluate(&facts);
    assert_eq!(
        words(rules[0]),
        (true, "file README.md is in the repository".into())
    );
    assert_eq!(
        words(rules[1]),
        (false, "CODEOWNERS is not in the repository".into())
    );
    assert_eq!(
        words(rules[2]),
        (
            true,
            "folder .github/workflows/ is in the repository".into()
        )
    );
    assert_eq!(
        words(rules[3]),
        (true, r"Dockerfile line 1 matches ^FROM \S+:\d".into())
    );
    assert_eq!(
        words(rules[4]),
        (false, "no line of Dockerfile matches :latest$".into())
    );
    assert!(words(rules[5]).0);
    for r in rules {
        assert_eq!(rule(r).holds(&facts), words(r).0, "{r}");
    }
    // No repository: every file rule fails, saying so.
    let none = Facts::new(record);
    assert_eq!(
        rule(rules[0]).evaluate(&none),
        (false, "the entity's repository files cannot be read".into())
    );
    assert_eq!(
        rule(rules[3]).to_string(),
        r"file Dockerfile matches ^FROM \S+:\d"
    );
}

const CARD: &str = r#"
- name: maturity
  title: Maturity
  filter: {kind: Component, type: [service]}
  levels: [bronze, silver, gold]
  checks:
    - {id: owner, title: Owner exists, level: bronze, rule: ownerExists, fix: Set spec.owner.}
    - {id: description, title: Described, level: bronze, rule: description}
    - {id: tags, title: Tagged, level: silver, rule: tags}
    - {id: oncall, title: On call, level: gold, rule: {annotation: pagerduty.com/service-id}}
"#;

/// Scorecards from config YAML, compiled as the server compiles them.
pub(super) fn compiled(yaml: &str) -> Vec<Scorecard> {
    let configs: Vec<ScorecardConfig> = yaml_serde::from_str(yaml).expect("yaml");
    compile_config(Some(&configs), false).expect("valid")
}

/// [`compiled`], each shared as evaluations take them.
pub(super) fn shared(yaml: &str) -> Vec<Arc<Scorecard>> {
    compiled(yaml).into_iter().map(Arc::new).collect()
}

fn cards() -> Vec<Arc<Scorecard>> {
    shared(CARD)
}

/// A level is reached when every check of it and of the levels below passes; a failing lower
/// check caps the level even when higher ones pass; the filter picks the entities.
#[test]
fn levels_are_reached_from_the_bottom() {
    let snap = build(vec![
        group("team-a"),
        component(
            "gold",
            json!({"type": "service", "owner": "team-a"}),
            json!({"description": "d", "tags": ["t"], "annotations": {"pagerduty.com/service-id": "P"}}),
        ),
        component(
            "silver",
            json!({"type": "service", "owner": "team-a"}),
            json!({"description": "d", "tags": ["t"]}),
        ),
        // Everything above bronze passes, but its owner does not exist.
        component(
            "none",
            json!({"type": "service", "owner": "team-x"}),
            json!({"description": "d", "tags": ["t"], "annotations": {"pagerduty.com/service-id": "P"}}),
        ),
        component(
            "lib",
            json!({"type": "library", "owner": "team-a"}),
            json!({}),
        ),
    ]);
    let e = evaluate(&cards(), &snap, None);
    assert_eq!(e.evaluated, snap.records.len());
    let result = |name: &str| {
        let i = snap
            .index_of_key(&format!("component:default/{name}"))
            .expect(name);
        e.entity(i, &snap.records[i])
    };
    let gold = &result("gold").scorecards[0];
    assert_eq!(
        (gold.level.as_deref(), gold.next_level.as_deref()),
        (Some("gold"), None)
    );
    assert_eq!((gold.passed, gold.total), (4, 4));
    let silver = &result("silver").scorecards[0];
    assert_eq!(
        (silver.level.as_deref(), silver.next_level.as_deref()),
        (Some("silver"), Some("gold"))
    );
    let failed: Vec<_> = silver.checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, "oncall");
    assert_eq!(
        failed[0].reason,
        "annotation pagerduty.com/service-id is not set"
    );
    let none = &result("none").scorecards[0];
    assert_eq!(
        (none.level.as_deref(), none.next_level.as_deref()),
        (None, Some("bronze"))
    );
    assert_eq!(none.passed, 3);
    assert_eq!(none.checks[0].fix, "Set spec.owner.");
    assert!(
        result("lib").scorecards.is_empty(),
        "the filter excludes libraries"
    );
}

/// Stored entities as the catalog keeps them: an entity no refresh touched is the same
/// `Stored` in the next snapshot.
fn stored_all(entities: &[(&'static str, String, Value)]) -> Vec<Stored> {
    entities
        .iter()
        .map(|(k, n, b)| stored(k, n, b.clone()))
        .collect()
}

/// A new snapshot re-evaluates only what changed, and ends with the same results as a full
/// evaluation: a changed entity, and one whose owner appeared.
#[test]
fn changes_reevaluate_only_what_changed() {
    let base = stored_all(&[
        component(
            "a",
            json!({"type": "service", "owner": "team-a"}),
            json!({"description": "d"}),
        ),
        component(
            "b",
            json!({"type": "service", "owner": "team-b"}),
            json!({"description": "d"}),
        ),
        component(
            "c",
            json!({"type": "service", "owner": "team-b"}),
            json!({}),
        ),
        group("team-a"),
    ]);
    let cards = cards();
    let first = evaluate(
        &cards,
        &Arc::new(Snapshot::build(base.clone(), vec![])),
        None,
    );
    assert_eq!(first.evaluated, 4);
    // c gets a description; team-b appears (b's and c's owner now exists); a is untouched.
    let mut next = base.clone();
    next[2] = stored_all(&[component(
        "c",
        json!({"type": "service", "owner": "team-b"}),
        json!({"description": "d"}),
    )])
    .remove(0);
    next.extend(stored_all(&[group("team-b")]));
    let snap = Arc::new(Snapshot::build(next, vec![]));
    let incremental = evaluate(&cards, &snap, Some(&first));
    // b (relation target appeared), c (body and target), team-b (new); a and team-a carried.
    assert_eq!(incremental.evaluated, 3);
    let full = evaluate(&cards, &snap, None);
    for i in 0..snap.records.len() {
        assert_eq!(incremental.outcomes(i), full.outcomes(i));
        assert_eq!(
            incremental.entity(i, &snap.records[i]),
            full.entity(i, &snap.records[i])
        );
    }
    let b = snap.index_of_key("component:default/b").expect("b");
    assert_eq!(
        incremental.entity(b, &snap.records[b]).scorecards[0]
            .level
            .as_deref(),
        Some("bronze")
    );
    // The same stored entities in a rebuilt snapshot: nothing is evaluated again.
    let rebuilt = Arc::new(Snapshot::build(snap.stored().cloned().collect(), vec![]));
    assert_eq!(evaluate(&cards, &rebuilt, Some(&incremental)).evaluated, 0);
}

/// A series of random changes evaluated incrementally ends with the results of a full
/// evaluation after every step; results keep no snapshot alive.
#[test]
fn incremental_evaluation_matches_full_evaluation() {
    let cards = cards();
    let mut seed = 7u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let entity = |i: u64, variant: u64| {
        let owner = format!("team-{}", variant % 4);
        let meta = match variant % 3 {
            0 => json!({}),
            1 => json!({"description": "d", "tags": ["t"]}),
            _ => {
                json!({"description": "d", "tags": ["t"], "annotations": {"pagerduty.com/service-id": "P"}})
            }
        };
        component(
            &format!("svc-{i}"),
            json!({"type": "service", "owner": owner}),
            meta,
        )
    };
    let mut entities: Vec<Stored> = stored_all(&(0..30).map(|i| entity(i, i)).collect::<Vec<_>>());
    entities.extend(stored_all(&[group("team-0"), group("team-1")]));
    let mut snap = Arc::new(Snapshot::build(entities.clone(), vec![]));
    let mut results = evaluate(&cards, &snap, None);
    for step in 0..40 {
        match next(4) {
            // Change an entity.
            0 | 1 => {
                let i = next(30);
                let at = entities
                    .iter()
                    .position(|s| s.key.as_str() == format!("component:default/svc-{i}"));
                let new = stored_all(&[entity(i, next(12))]).remove(0);
                match at {
                    Some(at) => entities[at] = new,
                    None => entities.push(new),
                }
            }
            // Remove one.
            2 => {
                let i = next(entities.len() as u64) as usize;
                entities.remove(i);
            }
            // A team appears or goes.
            _ => {
                let name = format!("team-{}", next(4));
                match entities
                    .iter()
                    .position(|s| s.key.as_str() == format!("group:default/{name}"))
                {
                    Some(at) => {
                        entities.remove(at);
                    }
                    None => entities.extend(stored_all(&[group(&name)])),
                }
            }
        }
        let weak = Arc::downgrade(&snap);
        snap = Arc::new(Snapshot::build(entities.clone(), vec![]));
        assert!(
            weak.upgrade().is_none(),
            "the results keep no snapshot alive"
        );
        results = evaluate(&cards, &snap, Some(&results));
        let full = evaluate(&cards, &snap, None);
        for i in 0..snap.records.len() {
            assert_eq!(
                results.outcomes(i),
                full.outcomes(i),
                "step {step}, record {i}"
            );
        }
        assert!(results.evaluated <= full.evaluated);
    }
}

/// What a full evaluation keeps (bits) and what a page shows (words) always agree.
#[test]
fn holds_agrees_with_the_words() {
    let snap = build(vec![
        group("team-a"),
        component(
            "good",
            json!({"type": "service", "lifecycle": "production", "owner": "team-a", "system": "shop", "providesApis": ["orders"]}),
            json!({"description": "Takes orders.", "tags": ["rust"], "links": [{"url": "https://x"}],
                   "annotations": {"github.com/project-slug": "northwind/good", "pagerduty.com/service-id": "P1"}}),
        ),
        component(
            "bare",
            json!({"type": "service", "lifecycle": "experimental", "owner": "team-ghost"}),
            json!({"description": "  ", "annotations": {"github.com/project-slug": "someone/bare", "x": ""}}),
        ),
        component("none", json!({}), json!({})),
    ]);
    let rules = [
        "ownerSet",
        "ownerExists",
        "description",
        "lifecycle",
        "system",
        "tags",
        "links",
        "{lifecycle: [production]}",
        "{tag: rust}",
        "{annotation: x}",
        "{annotation: pagerduty.com/service-id}",
        "{annotation: {key: github.com/project-slug, matches: '^northwind/'}}",
        "{relation: providesApi}",
        "{all: [ownerExists, tags]}",
        "{any: [system, links]}",
        "{not: {lifecycle: production}}",
    ];
    for name in ["good", "bare", "none"] {
        let record = snap.get("component", "default", name).expect(name);
        for r in rules {
            let facts = Facts::new(record);
            assert_eq!(
                rule(r).holds(&facts),
                rule(r).evaluate(&facts).0,
                "{name}: {r}"
            );
        }
    }
}

/// Config errors name the scorecard, the check and the field.
#[test]
fn the_config_checks_scorecards() {
    let err = crate::config::Config::from_yaml(
        "scorecards:\n  - name: m\n    levels: [bronze]\n    checks:\n      - {id: a, title: A, level: bronze, rule: description}\n      - {id: b, title: B, level: silver, rule: tags}\n",
    )
    .expect_err("unknown level");
    assert_eq!(
        err,
        "scorecard \"m\", check \"b\": checks[1].level: unknown level \"silver\"; expected one of bronze"
    );
    let err = crate::config::Config::from_yaml(
        "scorecards:\n  - name: m\n    levels: [bronze]\n    checks:\n      - {id: a, title: A, level: bronze, rule: {any: [description, {relation: nope}]}}\n",
    )
    .expect_err("bad relation");
    assert!(
        err.starts_with("scorecard \"m\", check \"a\": checks[0].rule.any[1].relation: unknown relation \"nope\""),
        "{err}"
    );
    let ok = crate::config::Config::from_yaml(&format!("scorecards:{CARD}")).expect("valid");
    assert_eq!(ok.scorecards.map(|s| s.len()), Some(1));
}

/// A `Scorecard` entity is a scorecard too; one that cannot be used is reported, not applied.
#[test]
fn scorecards_from_the_catalog() {
    let entity = json!({
        "apiVersion": "backlot.io/v1alpha1", "kind": "Scorecard",
        "metadata": {"name": "docs", "title": "Documentation", "description": "Docs."},
        "spec": {"filter": {"kind": "component"}, "levels": ["ok"],
                 "checks": [{"id": "d", "title": "Described", "level": "ok", "rule": "description"}]}
    });
    let c = from_entity(&entity).expect("valid");
    assert_eq!(
        (c.name.as_str(), c.title.as_deref()),
        ("docs", Some("Documentation"))
    );
    let mut bad = entity.clone();
    bad["spec"]["checks"][0]["rule"] = json!("descripton");
    let snap = build(vec![
        ("Scorecard", "docs".into(), entity),
        ("Scorecard", "bad".into(), {
            let mut b = bad;
            b["metadata"]["name"] = json!("bad");
            b
        }),
        component("a", json!({"type": "service"}), json!({"description": "d"})),
    ]);
    let e = evaluate(&[], &snap, None);
    assert_eq!(e.scorecards.len(), 1);
    assert_eq!(e.scorecards[0].source, "scorecard:default/docs");
    assert_eq!(e.problems.len(), 1);
    assert!(
        e.problems[0]
            .1
            .contains("checks[0].rule: unknown rule \"descripton\""),
        "{:?}",
        e.problems
    );
    let a = snap.index_of_key("component:default/a").expect("a");
    assert_eq!(
        e.entity(a, &snap.records[a]).scorecards[0].level.as_deref(),
        Some("ok")
    );
}

/// The demo's scorecard: some services reach gold, some fail with reasons.
#[test]
fn the_demo_scorecard_makes_sense() {
    let cards: Vec<Arc<Scorecard>> = compile_config(None, true)
        .expect("the demo's scorecards are valid")
        .into_iter()
        .map(Arc::new)
        .collect();
    assert_eq!(cards.len(), 1);
    let mut stored_entities = Vec::new();
    for (path, text) in crate::demo::FILES {
        if !path.ends_with(".yaml") || path.contains("templates/") || path.contains("definitions/")
        {
            continue;
        }
        for doc in text.split("\n---") {
            let Ok(v) = yaml_serde::from_str::<Value>(doc) else {
                continue;
            };
            let (Some(kind), Some(name)) = (v["kind"].as_str(), v["metadata"]["name"].as_str())
            else {
                continue;
            };
            stored_entities.push(stored(kind, name, v.clone()));
        }
    }
    let snap = Arc::new(Snapshot::build(stored_entities, vec![]));
    let e = evaluate(&cards, &snap, None);
    let level = |name: &str| {
        let i = snap
            .index_of_key(&format!("component:default/{name}"))
            .expect(name);
        e.entity(i, &snap.records[i]).scorecards[0].clone()
    };
    assert_eq!(level("checkout-service").level.as_deref(), Some("gold"));
    assert_eq!(level("order-service").level.as_deref(), Some("gold"));
    assert_eq!(level("search-service").level.as_deref(), Some("silver"));
    assert_eq!(level("fraud-detection").level.as_deref(), Some("silver"));
    let legacy = level("legacy-payments");
    assert_eq!(legacy.level.as_deref(), Some("bronze"));
    let links = legacy
        .checks
        .iter()
        .find(|c| c.id == "tags-and-links")
        .expect("the links check");
    assert!(links.passed, "{links:?}");
    assert_eq!(
        check(&snap, "legacy-payments", "dashboardLink"),
        (
            true,
            "dashboard link \"Grafana dashboard\" in metadata.links".into()
        )
    );
    let gift = level("gift-cards-service");
    assert_eq!(gift.level, None);
    assert_eq!(
        gift.checks[0].reason,
        "owner group:default/team-gifting is not in the catalog"
    );
}

/// The cost of a full evaluation at 10k entities, 3 scorecards of 10 checks, and of one
/// change. `cargo test -p server --release scorecards::tests::cost -- --ignored --nocapture`
#[test]
#[ignore]
fn cost_at_10k_entities() {
    let checks = |card: usize| {
        let rules = [
            "ownerExists",
            "description",
            "lifecycle",
            "system",
            "tags",
            "links",
            "{annotation: pagerduty.com/service-id}",
            "{annotation: {key: github.com/project-slug, matches: '^northwind/[a-z0-9-]+$'}}",
            "{relation: providesApi}",
            "{any: [{annotation: backstage.io/techdocs-ref}, {not: {lifecycle: deprecated}}]}",
        ];
        rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "      - {{id: c{i}, title: C{i}, level: l{}, rule: {r}}}\n",
                    i % 3
                )
            })
            .collect::<String>()
            + &format!("# {card}\n")
    };
    let yaml: String = (0..3)
        .map(|c| format!("- name: s{c}\n  filter: {{kind: component}}\n  levels: [l0, l1, l2]\n  checks:\n{}", checks(c)))
        .collect();
    let cards = shared(&yaml);
    let mut entities: Vec<_> = (0..100).map(|g| group(&format!("team-{g}"))).collect();
    for i in 0..9_900 {
        entities.push(component(
            &format!("svc-{i}"),
            json!({"type": "service", "lifecycle": "production", "owner": format!("team-{}", i % 120), "system": "s", "providesApis": ["x"]}),
            json!({"description": "d", "tags": ["a", "b"], "links": [{"url": "https://x"}],
                   "annotations": {"github.com/project-slug": format!("northwind/svc-{i}"), "pagerduty.com/service-id": "P"}}),
        ));
    }
    let mut stored_entities = stored_all(&entities);
    let snap = Arc::new(Snapshot::build(stored_entities.clone(), vec![]));
    let started = std::time::Instant::now();
    let full = evaluate(&cards, &snap, None);
    let full_ms = started.elapsed().as_secs_f64() * 1000.0;
    let bytes = full.heap_bytes();
    stored_entities[500] =
        stored_all(&[component("svc-400", json!({"type": "service"}), json!({}))]).remove(0);
    let changed = Arc::new(Snapshot::build(stored_entities, vec![]));
    let started = std::time::Instant::now();
    let one = evaluate(&cards, &changed, Some(&full));
    let one_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "full evaluation of {} entities x {} scorecards x 10 checks: {full_ms:.1} ms; after one change: {one_ms:.2} ms ({} evaluated); results: {} KiB",
        snap.records.len(),
        cards.len(),
        one.evaluated,
        bytes / 1024
    );
    // The changed component, and the group that no longer owns it (its relations changed).
    assert_eq!(one.evaluated, 2);
}

/// The README's examples are scorecards the server takes.
#[test]
fn the_readme_examples_are_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("### Scorecards")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("the README's scorecards section");
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 2, "{section}");
    let config = crate::config::Config::from_yaml(blocks[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.scorecards.map(|s| s[0].checks.len()), Some(6));
    let entity: Value = yaml_serde::from_str(blocks[1]).expect("yaml");
    from_entity(&entity)
        .expect("a scorecard")
        .compile("scorecard:default/docs")
        .expect("valid");
}
