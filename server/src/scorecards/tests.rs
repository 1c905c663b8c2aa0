//! Rules over hand-built entities, levels, config errors, carrying results over between
//! snapshots, and (ignored) the cost of a full evaluation at 10k entities.

use super::definition::ScorecardConfig;
use super::rules::{Facts, Rule};
use super::service::{evaluate, from_entity};
use super::*;
use crate::catalog::snapshot::tests_support::stored;
use crate::catalog::snapshot::Snapshot;
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

fn component(name: &str, spec: Value, metadata: Value) -> (&'static str, String, Value) {
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

fn group(name: &str) -> (&'static str, String, Value) {
    (
        "Group",
        name.to_string(),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": name}, "spec": {"type": "team", "children": []}}),
    )
}

fn build(entities: Vec<(&'static str, String, Value)>) -> Arc<Snapshot> {
    snapshot(
        entities
            .iter()
            .map(|(k, n, b)| (*k, n.as_str(), b.clone()))
            .collect(),
    )
}

fn rule(yaml: &str) -> Rule {
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
    assert_eq!(err("{not: 3}"), "rule.not: expected a rule name or a map; expected one of ownerSet, ownerExists, description, lifecycle, system, tags, links (or a map: lifecycle, tag, annotation, relation, all, any, not)");
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

fn cards() -> Vec<Arc<Scorecard>> {
    let configs: Vec<ScorecardConfig> = yaml_serde::from_str(CARD).expect("yaml");
    compile_config(Some(&configs), false)
        .expect("valid")
        .into_iter()
        .map(Arc::new)
        .collect()
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

/// A new snapshot re-evaluates only what changed, and ends with the same results as a full
/// evaluation: a changed entity, and one whose owner appeared.
#[test]
fn changes_reevaluate_only_what_changed() {
    let base = vec![
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
    ];
    let cards = cards();
    let first = evaluate(&cards, &build(base.clone()), None);
    assert_eq!(first.evaluated, 4);
    // c gets a description; team-b appears (b's and c's owner now exists); a is untouched.
    let mut next = base.clone();
    next[2] = component(
        "c",
        json!({"type": "service", "owner": "team-b"}),
        json!({"description": "d"}),
    );
    next.push(group("team-b"));
    let snap = build(next);
    let incremental = evaluate(&cards, &snap, Some(&first));
    // b (relation target appeared), c (body and target), team-b (new); a and team-a carried.
    assert_eq!(incremental.evaluated, 3);
    let full = evaluate(&cards, &snap, None);
    for i in 0..snap.records.len() {
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
    let configs: Vec<ScorecardConfig> = yaml_serde::from_str(&yaml).expect("yaml");
    let cards: Vec<Arc<Scorecard>> = compile_config(Some(&configs), false)
        .expect("valid")
        .into_iter()
        .map(Arc::new)
        .collect();
    let mut entities: Vec<_> = (0..100).map(|g| group(&format!("team-{g}"))).collect();
    for i in 0..9_900 {
        entities.push(component(
            &format!("svc-{i}"),
            json!({"type": "service", "lifecycle": "production", "owner": format!("team-{}", i % 120), "system": "s", "providesApis": ["x"]}),
            json!({"description": "d", "tags": ["a", "b"], "links": [{"url": "https://x"}],
                   "annotations": {"github.com/project-slug": format!("northwind/svc-{i}"), "pagerduty.com/service-id": "P"}}),
        ));
    }
    let snap = build(entities.clone());
    let started = std::time::Instant::now();
    let full = evaluate(&cards, &snap, None);
    let full_ms = started.elapsed().as_secs_f64() * 1000.0;
    entities[500] = component("svc-400", json!({"type": "service"}), json!({}));
    let changed = build(entities);
    let started = std::time::Instant::now();
    let one = evaluate(&cards, &changed, Some(&full));
    let one_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "full evaluation of {} entities x {} scorecards x 10 checks: {full_ms:.1} ms; after one change: {one_ms:.1} ms ({} evaluated)",
        snap.records.len(),
        cards.len(),
        one.evaluated
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
    assert_eq!(config.scorecards.map(|s| s[0].checks.len()), Some(4));
    let entity: Value = yaml_serde::from_str(blocks[1]).expect("yaml");
    from_entity(&entity)
        .expect("a scorecard")
        .compile("scorecard:default/docs")
        .expect("valid");
}
