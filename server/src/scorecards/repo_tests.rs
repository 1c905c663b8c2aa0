//! The Git, docs and observability rules: over hand-built facts (words and bits agree), through
//! the catalog's seam (repositories in memory, each tree opened once), incremental evaluation
//! against full evaluation as commits move, days pass and entities change, and a new day's
//! evaluation of an unchanged catalog, by an injected clock.

use super::repo::{DocsState, EntityRepo, RepoFacts, RepoQueries, RepoReader, SourceTreeForTests};
use super::rules::Facts;
use super::service::{evaluate_with, until_next_day, Context, Evaluated};
use super::tests::{build, compiled, component, rule, shared};
use super::*;
use crate::catalog::snapshot::{LocationInfo, Snapshot, Stored};
use crate::catalog::source::{
    EntityFiles, EntitySource, LocationType, NewLocation, Origin, PreparedRead, SourceTree, Sources,
};
use crate::catalog::CatalogError;
use crate::observability::LinkTemplates;
use app::model::EntityRef;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;
/// 2026-12-01T00:00:00Z.
const NOW: i64 = 20_788 * DAY_MS;

/// Link templates: an on-call link for entities with a PagerDuty id, and a dashboard made only
/// per environment (which the link rules do not count).
fn templates() -> LinkTemplates {
    let settings: crate::observability::ObservabilitySettings = yaml_serde::from_str(
        r#"
links:
  - title: On-call (PagerDuty)
    type: oncall
    url: https://pd.example.com/services/{{ entity.annotations["pagerduty.com/service-id"] }}
  - title: Grafana per cluster
    type: dashboard
    scope: environment
    url: https://grafana.example.com/d/k8s?cluster={{ cluster.name }}
"#,
    )
    .expect("yaml");
    LinkTemplates::compile(&settings.links.unwrap_or_default()).expect("valid templates")
}

fn at_secs(ms: i64) -> Option<i64> {
    Some(ms.div_euclid(1000))
}

/// Every new rule, passing and failing, with its reason; `holds` agrees with the words.
#[test]
fn git_docs_and_link_rules_over_hand_built_facts() {
    let snap = build(vec![
        component(
            "linked",
            json!({"type": "service"}),
            json!({"links": [
                      {"url": "https://grafana.example.com/d/1", "title": "Grafana", "type": "admin-dashboard", "icon": "dashboard"},
                      {"url": "https://pd.example.com/x", "title": "Pager", "type": "On-Call"}],
                   "annotations": {"backstage.io/techdocs-ref": "dir:."}}),
        ),
        component(
            "paged",
            json!({"type": "service"}),
            json!({"annotations": {"pagerduty.com/service-id": "P1"},
                   "links": [{"url": "https://wiki.example.com", "title": "Runbook", "type": "runbook"}]}),
        ),
        component("bare", json!({"type": "service"}), json!({})),
    ]);
    let links = templates();
    let tree = SourceTreeForTests(vec![("README.md", "# x\n")]);
    let commit = |ms: i64| {
        let mut f = RepoFacts::read(&tree, &[]);
        f.commit_time = at_secs(ms);
        Arc::new(f)
    };
    let fresh = commit(NOW - 5 * DAY_MS - 3 * 3_600_000);
    let old = commit(NOW - 120 * DAY_MS);
    let folder = Arc::new(RepoFacts::read(&tree, &[]));
    let repo = |files: Option<&Arc<RepoFacts>>, docs: Option<DocsState>| EntityRepo {
        files: files.cloned(),
        docs,
    };
    let words = |name: &str, repo: &EntityRepo, r: &str| {
        let record = snap.get("component", "default", name).expect(name);
        let facts = Facts::with_repo(record, repo).at(NOW).with_links(&links);
        let rule = rule(r);
        let out = rule.evaluate(&facts);
        assert_eq!(rule.holds(&facts), out.0, "{name}: {r}");
        out
    };

    // Git.
    assert_eq!(
        words(
            "bare",
            &repo(Some(&fresh), None),
            "{lastCommit: {withinDays: 7}}"
        ),
        (true, "the last commit is 5 days old (2026-11-25)".into())
    );
    assert_eq!(
        words(
            "bare",
            &repo(Some(&fresh), None),
            "{lastCommit: {withinDays: 5}}"
        ),
        (
            false,
            "the last commit is 5 days old (2026-11-25), more than 5 days".into()
        )
    );
    assert_eq!(
        words(
            "bare",
            &repo(Some(&old), None),
            "{lastCommit: {withinDays: 90}}"
        ),
        (
            false,
            "the last commit is 120 days old (2026-08-03), more than 90 days".into()
        )
    );
    assert_eq!(
        words(
            "bare",
            &repo(Some(&folder), None),
            "{lastCommit: {withinDays: 90}}"
        ),
        (
            false,
            "read from files on disk, not from Git: there is no commit to date".into()
        )
    );
    assert_eq!(
        words("bare", &repo(None, None), "{lastCommit: {withinDays: 90}}"),
        (false, "the entity's repository cannot be read".into())
    );

    // Docs.
    let pages = |n| repo(None, Some(DocsState::Pages(n)));
    assert_eq!(
        words("linked", &pages(3), "techdocs"),
        (true, "TechDocs with 3 pages".into())
    );
    assert_eq!(
        words("linked", &pages(3), "{docsPages: {min: 3}}"),
        (true, "TechDocs with 3 pages".into())
    );
    assert_eq!(
        words("linked", &pages(1), "{docsPages: {min: 5}}"),
        (false, "TechDocs with 1 page, fewer than 5".into())
    );
    let broken = repo(
        None,
        Some(DocsState::Broken(
            "no documentation found: looked for mkdocs.yml in sub".into(),
        )),
    );
    assert_eq!(
        words("linked", &broken, "techdocs"),
        (
            false,
            "no documentation found: looked for mkdocs.yml in sub".into()
        )
    );
    assert_eq!(
        words("bare", &repo(None, Some(DocsState::NoRef)), "techdocs"),
        (
            false,
            "annotation backstage.io/techdocs-ref is not set".into()
        )
    );
    // Docs not read: what the annotation alone tells.
    assert_eq!(
        words("linked", &repo(None, None), "techdocs"),
        (false, "the entity's docs files cannot be read".into())
    );
    assert_eq!(
        words("bare", &repo(None, None), "{docsPages: {min: 2}}"),
        (
            false,
            "annotation backstage.io/techdocs-ref is not set".into()
        )
    );

    // Observability links: metadata.links by type or icon, else the templates (entity scope).
    let none = repo(None, None);
    assert_eq!(
        words("linked", &none, "dashboardLink"),
        (true, "dashboard link \"Grafana\" in metadata.links".into())
    );
    assert_eq!(
        words("linked", &none, "onCallLink"),
        (true, "on-call link \"Pager\" in metadata.links".into())
    );
    assert_eq!(
        words("paged", &none, "onCallLink"),
        (
            true,
            "on-call link \"On-call (PagerDuty)\" in the observability links".into()
        )
    );
    assert_eq!(
        words("paged", &none, "dashboardLink"),
        (
            false,
            "no dashboard link: no metadata.links entry has type or icon dashboard, and no observability link of type dashboard applies".into()
        )
    );
    assert!(!words("bare", &none, "onCallLink").0);
    // Without the templates, only metadata.links count.
    let paged = snap.get("component", "default", "paged").expect("paged");
    assert!(!rule("onCallLink").holds(&Facts::with_repo(paged, &none)));

    // Composition and display.
    assert_eq!(
        words(
            "linked",
            &pages(2),
            "{all: [techdocs, {docsPages: {min: 2}}, dashboardLink, {not: onCallLink}]}"
        ),
        (
            false,
            "on-call link \"Pager\" in metadata.links (it must not)".into()
        )
    );
    assert_eq!(
        rule("{any: [{lastCommit: {withinDays: 30}}, techdocs, {docsPages: {min: 3}}, onCallLink, dashboardLink]}")
            .to_string(),
        "any(last commit within 30 days, techdocs, docs pages >= 3, onCallLink, dashboardLink)"
    );
    let mut asked = RepoQueries::default();
    rule("{all: [techdocs, {not: {lastCommit: {withinDays: 3}}}, onCallLink]}")
        .repo_queries(&mut asked);
    assert!(asked.commit && asked.docs && asked.files.is_empty());
}

/// A bad rule of the new families names where it is and what is wrong, in the config too.
#[test]
fn bad_new_rules_name_the_field() {
    let err = |yaml: &str| {
        let v: Value = yaml_serde::from_str(yaml).expect("yaml");
        let e = super::rules::Rule::parse(&v, "rule").expect_err(yaml);
        format!("{}: {}", e.field, e.message)
    };
    assert_eq!(
        err("{lastCommit: 30}"),
        "rule.lastCommit: expected {withinDays: N}"
    );
    assert_eq!(
        err("{lastCommit: {within: 30}}"),
        "rule.lastCommit.within: unknown field; expected withinDays"
    );
    assert_eq!(
        err("{lastCommit: {withinDays: 0}}"),
        "rule.lastCommit.withinDays: expected a whole number from 1 on, found 0"
    );
    assert_eq!(
        err("{docsPages: {min: two}}"),
        "rule.docsPages.min: expected a whole number from 1 on, found \"two\""
    );
    assert_eq!(
        err("{docsPages: {}}"),
        "rule.docsPages.min: missing; expected a number"
    );
    assert!(err("{any: [techdocs, onCallLinks]}")
        .starts_with("rule.any[1]: unknown rule \"onCallLinks\"; expected one of"));
    let config = crate::config::Config::from_yaml(
        "scorecards:\n  - name: m\n    levels: [bronze]\n    checks:\n      - {id: fresh, title: Fresh, level: bronze, rule: {lastCommit: {withinDays: -3}}}\n",
    )
    .expect_err("negative days");
    assert_eq!(
        config,
        "scorecard \"m\", check \"fresh\": checks[0].rule.lastCommit.withinDays: expected a whole number from 1 on, found -3"
    );
}

/// Repositories in memory, as the source of `git` locations (a tree per commit) and `file`
/// locations (a folder: no commit); counts the trees opened.
#[derive(Default)]
struct Repos {
    /// (location id, commit; "" for a folder) → (commit time in seconds, files).
    trees: Mutex<HashMap<(String, String), Tree>>,
    opened: AtomicUsize,
}

type Tree = (Option<i64>, Vec<(&'static str, &'static str)>);

impl Repos {
    fn put(
        &self,
        location: &str,
        commit: &str,
        time_ms: Option<i64>,
        files: &[(&'static str, &'static str)],
    ) {
        self.trees.lock().expect("lock").insert(
            (location.into(), commit.into()),
            (time_ms.and_then(at_secs), files.to_vec()),
        );
    }
}

struct RepoFiles {
    revision: Option<String>,
    tree: Option<Tree>,
    opened: Arc<Repos>,
}

struct Timed(SourceTreeForTests, Option<i64>);

impl SourceTree for Timed {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.read(path)
    }
    fn list(&self, dir: &str) -> Vec<String> {
        self.0.list(dir)
    }
    fn commit_time(&self) -> Option<i64> {
        self.1
    }
}

impl EntityFiles for RepoFiles {
    fn revision(&self) -> Option<&str> {
        self.revision.as_deref()
    }
    fn descriptor(&self) -> &str {
        "catalog-info.yaml"
    }
    fn open(&self) -> Result<Box<dyn SourceTree>, String> {
        self.opened.opened.fetch_add(1, Ordering::SeqCst);
        let (time, files) = self.tree.clone().ok_or("no such commit in the mirror")?;
        Ok(Box::new(Timed(SourceTreeForTests(files), time)))
    }
}

fn sources_of(repos: &Arc<Repos>) -> Sources {
    let source: Arc<dyn EntitySource> = Arc::new(RepoSource(repos.clone()));
    Sources::new(vec![source])
}

/// The source handed to `Sources` (it holds the repositories behind an `Arc`).
struct RepoSource(Arc<Repos>);

impl EntitySource for RepoSource {
    fn types(&self) -> &'static [LocationType] {
        &[LocationType::Git, LocationType::File]
    }
    fn check(&self, new: NewLocation, _: &Origin) -> Result<NewLocation, CatalogError> {
        Ok(new)
    }
    fn prepare<'a>(
        &'a self,
        _: &'a LocationInfo,
        _: bool,
    ) -> BoxFuture<'a, Result<Box<dyn PreparedRead>, CatalogError>> {
        Box::pin(async { Err(CatalogError::Source("not read in these tests".into())) })
    }
    fn interval(&self) -> Duration {
        Duration::from_secs(3600)
    }
    fn timeout(&self) -> Duration {
        Duration::from_secs(60)
    }
    fn files(&self, location: &LocationInfo, _: &str) -> Option<Arc<dyn EntityFiles>> {
        let key = (
            location.id.clone(),
            location.commit.clone().unwrap_or_default(),
        );
        let tree = self.0.trees.lock().expect("lock").get(&key).cloned();
        Some(Arc::new(RepoFiles {
            revision: location.commit.clone(),
            tree,
            opened: self.0.clone(),
        }))
    }
}

fn location(id: &str, commit: Option<&str>) -> Arc<LocationInfo> {
    Arc::new(LocationInfo {
        id: id.into(),
        location_type: if commit.is_some() {
            LocationType::Git
        } else {
            LocationType::File
        },
        target: id.into(),
        origin: Origin::Config,
        last_refresh_at: None,
        problems: Vec::new(),
        branch: None,
        path: None,
        commit: commit.map(str::to_string),
        last_success_at: None,
        last_error: None,
        failures: 0,
    })
}

/// An entity read from `location`.
fn from(location: &str, (kind, name, body): (&'static str, String, Value)) -> Stored {
    Stored::new(
        EntityRef::new(kind, "default", name.as_str()),
        &body,
        format!("uid-{name}"),
        location.into(),
        body.to_string(),
        ("catalog-info.yaml".into(), 0, 1),
        Vec::new(),
        "t".into(),
    )
}

const OPS: &str = r#"
- name: ops
  filter: {kind: component}
  levels: [bronze, silver]
  checks:
    - {id: fresh, title: Committed to in the last 30 days, level: bronze, rule: {lastCommit: {withinDays: 30}}, fix: Merge the pending changes or archive it.}
    - {id: docs, title: Has TechDocs, level: bronze, rule: techdocs}
    - {id: pages, title: Three docs pages, level: silver, rule: {docsPages: {min: 3}}}
    - {id: on-call, title: On-call link, level: silver, rule: onCallLink}
    - {id: readme, title: README, level: bronze, rule: {file: README.md}}
"#;

fn ops() -> Vec<Arc<Scorecard>> {
    shared(OPS)
}

fn documented(name: &str, dir: &str, pager: bool) -> (&'static str, String, Value) {
    let mut annotations = json!({"backstage.io/techdocs-ref": format!("dir:{dir}")});
    if pager {
        annotations["pagerduty.com/service-id"] = json!("P1");
    }
    component(
        name,
        json!({"type": "service"}),
        json!({"annotations": annotations}),
    )
}

const DOCS_3: &[(&str, &str)] = &[
    ("catalog-info.yaml", "kind: Component\n"),
    ("README.md", "# a\n"),
    ("docs/index.md", "# Home\n"),
    ("docs/guide.md", "# Guide\n"),
    ("docs/faq.md", "# FAQ\n"),
];

/// Words for one record of `snap`, read through the seam as a page reads them.
fn words_of(
    snap: &Snapshot,
    sources: &Sources,
    context: &Context<'_>,
    name: &str,
) -> Vec<(String, bool, String)> {
    let record = snap.get("component", "default", name).expect(name);
    let cards = ops();
    let mut queries = RepoQueries::default();
    queries.merge(&cards[0].repo_queries);
    let repo = RepoReader::new(sources, &queries, &snap.locations).entity(record);
    let facts = Facts::with_repo(record, &repo)
        .at(context.now_ms)
        .with_links(context.links.expect("links"));
    cards[0]
        .result(&facts)
        .checks
        .into_iter()
        .map(|c| (c.id, c.passed, c.reason))
        .collect()
}

/// Through the seam: the commit's time from the tree, docs built as the docs pages build
/// them, a folder's entity has no commit, a commit missing from the mirror is unreadable;
/// each tree opened once per evaluation, and nothing again when nothing changed.
#[test]
fn repositories_commits_and_docs_through_the_seam() {
    let repos = Arc::new(Repos::default());
    repos.put("loc-a", "c1", Some(NOW - 10 * DAY_MS), DOCS_3);
    repos.put("loc-f", "", None, &[("docs/index.md", "# Folder docs\n")]);
    let sources = sources_of(&repos);
    let snap = Arc::new(Snapshot::build(
        vec![
            from("loc-a", documented("a1", ".", true)),
            from("loc-a", documented("a2", "sub", false)),
            from("loc-f", documented("f", ".", false)),
            from("loc-gone", documented("gone", ".", false)),
        ],
        vec![
            location("loc-a", Some("c1")),
            location("loc-f", None),
            location("loc-gone", Some("c-missing")),
        ],
    ));
    let links = templates();
    let context = Context {
        sources: Some(&sources),
        links: Some(&links),
        now_ms: NOW,
        ..Context::bare()
    };
    let cards = ops();
    let full = evaluate_with(&cards, &snap, None, &context);
    assert_eq!(full.evaluated, 4);
    // loc-a: once for its files and a1's docs, once more for a2's docs folder; loc-f once;
    // the missing commit once.
    assert_eq!(repos.opened.load(Ordering::SeqCst), 4);

    let a1 = words_of(&snap, &sources, &context, "a1");
    assert_eq!(
        a1,
        vec![
            (
                "fresh".into(),
                true,
                "the last commit is 10 days old (2026-11-21)".into()
            ),
            ("docs".into(), true, "TechDocs with 3 pages".into()),
            ("pages".into(), true, "TechDocs with 3 pages".into()),
            (
                "on-call".into(),
                true,
                "on-call link \"On-call (PagerDuty)\" in the observability links".into()
            ),
            (
                "readme".into(),
                true,
                "file README.md is in the repository".into()
            ),
        ]
    );
    let a2 = words_of(&snap, &sources, &context, "a2");
    assert!(!a2[1].1);
    assert!(
        a2[1].2.starts_with("no documentation found: looked for mkdocs.yml, mkdocs.yaml, Markdown files in docs/ and README.md in sub"),
        "{a2:?}"
    );
    let f = words_of(&snap, &sources, &context, "f");
    assert_eq!(
        f[0],
        (
            "fresh".into(),
            false,
            "read from files on disk, not from Git: there is no commit to date".into()
        )
    );
    assert_eq!(f[1], ("docs".into(), true, "TechDocs with 1 page".into()));
    assert_eq!(
        f[2],
        (
            "pages".into(),
            false,
            "TechDocs with 1 page, fewer than 3".into()
        )
    );
    let gone = words_of(&snap, &sources, &context, "gone");
    assert_eq!(
        (gone[0].2.as_str(), gone[1].2.as_str()),
        (
            "the entity's repository cannot be read",
            "the entity's docs files cannot be read"
        )
    );
    // The bits kept agree with the words shown.
    for (name, words) in [("a1", &a1), ("a2", &a2), ("f", &f), ("gone", &gone)] {
        let i = snap
            .index_of_key(&format!("component:default/{name}"))
            .expect(name);
        let (_, outcome) = full.outcomes(i)[0];
        for (bit, (id, passed, _)) in words.iter().enumerate() {
            assert_eq!(outcome.passed(bit), *passed, "{name}: {id}");
        }
    }

    // Nothing changed, the same day: nothing evaluated, no tree opened.
    let opened = repos.opened.load(Ordering::SeqCst);
    let rebuilt = Arc::new(Snapshot::build(
        snap.stored().cloned().collect(),
        snap.locations.clone(),
    ));
    let again = evaluate_with(&cards, &rebuilt, Some(&full), &context);
    assert_eq!(again.evaluated, 0);
    assert_eq!(repos.opened.load(Ordering::SeqCst), opened);
}

/// A series of changes — commits that move (new time, docs pages added or removed), days that
/// pass, entities that change — evaluated incrementally ends with the results of a full
/// evaluation after every step; a commit that moves evaluates only its location's entities.
#[test]
fn incremental_equals_full_as_commits_move_and_days_pass() {
    const TREES: [&[(&str, &str)]; 3] = [
        DOCS_3,
        &[("docs/index.md", "# Home\n")],
        &[("README.md", "# Only a readme\n")],
    ];
    let repos = Arc::new(Repos::default());
    let sources = sources_of(&repos);
    let links = templates();
    let cards = ops();
    let mut seed = 11u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut now = NOW;
    let mut commits: Vec<String> = Vec::new();
    let mut locations: Vec<Arc<LocationInfo>> = Vec::new();
    for l in 0..4 {
        let id = format!("loc-{l}");
        let commit = format!("{id}-0");
        repos.put(
            &id,
            &commit,
            Some(now - (l as i64) * 20 * DAY_MS),
            TREES[l % 3],
        );
        locations.push(location(&id, Some(commit.as_str())));
        commits.push(commit);
    }
    locations.push(location("loc-folder", None));
    repos.put("loc-folder", "", None, TREES[1]);
    let entity = |i: u64, variant: u64| {
        let dir = if variant % 3 == 2 { "sub" } else { "." };
        let loc = if i % 5 == 4 {
            "loc-folder".to_string()
        } else {
            format!("loc-{}", i % 4)
        };
        let mut e = documented(&format!("svc-{i}"), dir, variant.is_multiple_of(2));
        if variant % 4 == 3 {
            e.2["metadata"]["annotations"] = json!({});
        }
        from(&loc, e)
    };
    let mut entities: Vec<Stored> = (0..20).map(|i| entity(i, i)).collect();
    let context = |now: i64| Context {
        sources: Some(&sources),
        links: Some(&links),
        now_ms: now,
        ..Context::bare()
    };
    let mut snap = Arc::new(Snapshot::build(entities.clone(), locations.clone()));
    let mut results: Evaluated = evaluate_with(&cards, &snap, None, &context(now));
    let mut moved_one_commit = false;
    for step in 0..30 {
        let kind = next(3);
        match kind {
            // A location's commit moves: a new time, maybe other docs.
            0 => {
                let l = next(4) as usize;
                let id = format!("loc-{l}");
                let commit = format!("{id}-{step}");
                let age = next(60) as i64 * DAY_MS;
                repos.put(&id, &commit, Some(now - age), TREES[next(3) as usize]);
                locations[l] = location(&id, Some(commit.as_str()));
                commits[l] = commit;
            }
            // Days pass.
            1 => now += (1 + next(20) as i64) * DAY_MS,
            // An entity changes.
            _ => {
                let i = next(20);
                let key = format!("component:default/svc-{i}");
                let new = entity(i, next(12));
                match entities.iter().position(|s| s.key.as_str() == key) {
                    Some(at) => entities[at] = new,
                    None => entities.push(new),
                }
            }
        }
        snap = Arc::new(Snapshot::build(entities.clone(), locations.clone()));
        results = evaluate_with(&cards, &snap, Some(&results), &context(now));
        let full = evaluate_with(&cards, &snap, None, &context(now));
        for i in 0..snap.records.len() {
            assert_eq!(
                results.outcomes(i),
                full.outcomes(i),
                "step {step} ({kind}), record {i}"
            );
        }
        match kind {
            0 => {
                // Only the entities of the moved location (a fifth to a quarter of them).
                assert!(
                    results.evaluated < full.evaluated,
                    "step {step}: {} of {}",
                    results.evaluated,
                    full.evaluated
                );
                moved_one_commit = true;
            }
            1 => assert_eq!(results.evaluated, full.evaluated, "a new day: every entity"),
            _ => assert!(results.evaluated <= 1, "step {step}: {}", results.evaluated),
        }
    }
    assert!(moved_one_commit);
}

/// The service evaluates an unchanged catalog again on a new day (by its clock), and a
/// commit's age then fails the check it passed the day before; the loop sleeps until a second
/// past midnight.
#[test]
fn a_new_day_evaluates_the_same_catalog_again() {
    let repos = Arc::new(Repos::default());
    repos.put("loc-a", "c1", Some(NOW - 29 * DAY_MS - 3_600_000), DOCS_3);
    let sources = sources_of(&repos);
    let snap = Arc::new(Snapshot::build(
        vec![from("loc-a", documented("a1", ".", true))],
        vec![location("loc-a", Some("c1"))],
    ));
    let clock = Arc::new(AtomicI64::new(NOW + 3_600_000));
    let read = clock.clone();
    let service = ScorecardService::new(compiled(OPS))
        .with_links(Arc::new(templates()))
        .with_clock(Arc::new(move || read.load(Ordering::SeqCst)));
    let fresh = |service: &ScorecardService| {
        let latest = service.latest().expect("evaluated");
        latest.outcomes(0)[0].1.passed(0)
    };
    assert!(service.evaluate_now(&snap, &sources).is_some());
    assert!(fresh(&service), "29 days and 2 hours old");
    clock.fetch_add(12 * 3_600_000, Ordering::SeqCst);
    assert!(
        service.evaluate_now(&snap, &sources).is_none(),
        "the same catalog, the same day"
    );
    clock.fetch_add(DAY_MS, Ordering::SeqCst);
    let rollup = service.evaluate_now(&snap, &sources);
    assert!(rollup.is_some(), "a new day");
    assert!(!fresh(&service), "30 days and 14 hours old");
    assert_eq!(service.latest().expect("evaluated").day, NOW / DAY_MS + 1);
    assert_eq!(
        until_next_day(NOW + 3_600_000),
        Duration::from_secs(23 * 3600 + 1)
    );
    assert_eq!(until_next_day(NOW), Duration::from_secs(24 * 3600 + 1));
}

/// The cost of the new rules at 10k entities in 100 repositories (trees in memory): 3
/// scorecards of 10 checks mixing them with catalog rules, a full evaluation and one change.
/// `cargo test -p server --release scorecards::repo_tests::cost -- --ignored --nocapture`
#[test]
#[ignore]
fn cost_of_the_new_rules_at_10k() {
    let rules = [
        "ownerExists",
        "description",
        "{lastCommit: {withinDays: 30}}",
        "techdocs",
        "{docsPages: {min: 3}}",
        "onCallLink",
        "dashboardLink",
        "{file: README.md}",
        "{any: [onCallLink, {annotation: pagerduty.com/service-id}]}",
        "{all: [techdocs, {not: {lastCommit: {withinDays: 1}}}]}",
    ];
    let yaml: String = (0..3)
        .map(|c| {
            let checks: String = rules
                .iter()
                .enumerate()
                .map(|(i, r)| format!("      - {{id: c{i}, title: C{i}, level: l{}, rule: {r}}}\n", i % 3))
                .collect();
            format!("- name: s{c}\n  filter: {{kind: component}}\n  levels: [l0, l1, l2]\n  checks:\n{checks}")
        })
        .collect();
    let cards = shared(&yaml);
    let repos = Arc::new(Repos::default());
    let mut locations = Vec::new();
    for l in 0..100 {
        let id = format!("loc-{l}");
        repos.put(&id, "c1", Some(NOW - l * DAY_MS), DOCS_3);
        locations.push(location(&id, Some("c1")));
    }
    let sources = sources_of(&repos);
    let links = templates();
    let mut entities: Vec<Stored> = (0..100)
        .map(|g| from("loc-0", super::tests::group(&format!("team-{g}"))))
        .collect();
    for i in 0..9_900 {
        let (k, n, mut body) = documented(&format!("svc-{i}"), ".", i % 2 == 0);
        body["spec"]["owner"] = json!(format!("team-{}", i % 120));
        body["metadata"]["description"] = json!("d");
        body["metadata"]["links"] = json!([{"url": "https://grafana.example.com/d/x", "title": "Grafana", "icon": "dashboard"}]);
        entities.push(from(&format!("loc-{}", i % 100), (k, n, body)));
    }
    let context = Context {
        sources: Some(&sources),
        links: Some(&links),
        now_ms: NOW,
        ..Context::bare()
    };
    let snap = Arc::new(Snapshot::build(entities.clone(), locations.clone()));
    let started = std::time::Instant::now();
    let full = evaluate_with(&cards, &snap, None, &context);
    let full_ms = started.elapsed().as_secs_f64() * 1000.0;
    let opened = repos.opened.load(Ordering::SeqCst);
    let (k, n, body) = documented("svc-400", ".", false);
    entities[500] = from("loc-0", (k, n, body));
    let changed = Arc::new(Snapshot::build(entities, locations));
    let started = std::time::Instant::now();
    let one = evaluate_with(&cards, &changed, Some(&full), &context);
    let one_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "new rules: full evaluation of {} entities in 100 repositories x {} scorecards x 10 checks: {full_ms:.1} ms ({opened} trees opened); after one change: {one_ms:.2} ms ({} evaluated)",
        snap.records.len(),
        cards.len(),
        one.evaluated
    );
    assert_eq!(opened, 100, "each repository's tree once");
    assert_eq!(one.evaluated, 2);
}
