//! Rules over catalog facts, parsed from YAML and evaluated over one stitched entity.
//!
//! ```yaml
//! rule: ownerExists                 # a name alone: ownerSet, ownerExists, description,
//!                                   # lifecycle, system, tags, links
//! rule: {lifecycle: [production, experimental]}   # one of these (any case)
//! rule: {tag: java}                 # this tag
//! rule: {annotation: backstage.io/techdocs-ref}   # present with a value
//! rule: {annotation: {key: github.com/project-slug, matches: "^northwind/"}}
//! rule: {relation: providesApi}     # at least one relation of this type
//! rule: {all: [ownerExists, description]}         # also any: [...], not: rule
//! rule: {file: README.md}           # in the entity's repository (`dir/`: a folder, not empty)
//! rule: {file: {path: Dockerfile, matches: '^FROM \S+:\d'}}  # a line matches
//! rule: {runsIn: production}        # a workload in a cluster of this environment (or name)
//! rule: {replicas: {min: 2}}        # every workload's desired replicas (or HPA minimum) ≥ 2
//! rule: probes                      # readiness and liveness probes on every container
//! rule: limits                      # CPU and memory limits on every container
//! rule: {noCrashLoops: {hours: 24}} # no container crash-looping or restarted in 24 hours
//! rule: {lastCommit: {withinDays: 90}}  # the repository's newest commit (its location's
//!                                       # current one) is at most 90 days old
//! rule: techdocs                    # backstage.io/techdocs-ref names docs with a page
//! rule: {docsPages: {min: 3}}       # ... with at least 3 pages
//! rule: onCallLink                  # an on-call link: in metadata.links (type or icon
//! rule: dashboardLink               # oncall/on-call, dashboard) or from observability.links
//! ```
//!
//! The cluster rules (`runsIn` to `noCrashLoops`, also `{probes: readiness}`, `{limits: [memory]}`) are in
//! [`super::cluster`], which says what each one measures; they fail for an entity with no
//! workloads in any cluster.
//!
//! `lastCommit` fails for an entity read from files on disk (there is no commit to date); its
//! results change with time, so the scorecards are evaluated again each day. `techdocs` and
//! `docsPages` read the docs as the docs pages build them (`mkdocs.yml`, else `docs/*.md`,
//! else `README.md`). The link rules read the observability templates with `scope: entity`
//! (links per environment depend on where the workloads run, not on the entity).

use super::cluster::ClusterRule;
use super::repo::{DocsState, EntityRepo, FileQuery, FileState, RepoFacts, RepoQueries};
use crate::catalog::snapshot::Record;
use crate::k8s::facts::WorkloadFacts;
use crate::observability::links::{catalog_link_type, EntityValues};
use crate::observability::LinkTemplates;
use app::observability::LinkType;
use regex_lite::Regex;
use serde_json::Value;
use std::fmt;

/// A checked rule.
#[derive(Debug, Clone)]
pub enum Rule {
    OwnerSet,
    /// `spec.owner` set and the entity it names is in the catalog.
    OwnerExists,
    Description,
    /// `spec.lifecycle` set; with values, one of them (lower case).
    Lifecycle(Vec<String>),
    System,
    /// Any tag; with one, that tag (lower case).
    Tags(Option<String>),
    Links,
    Annotation {
        key: String,
        matches: Option<Regex>,
    },
    /// At least one relation of this type (as Backstage spells it, e.g. `providesApi`).
    Relation(String),
    /// A file in the entity's repository, read through the catalog's seam
    /// ([`super::repo`]); with a pattern, one of its lines matches it.
    File(FileQuery),
    /// Over the entity's workloads in the clusters ([`super::cluster`]).
    Cluster(ClusterRule),
    /// The repository's newest commit (its location's current one) is at most this many days
    /// old.
    LastCommit {
        within_days: u32,
    },
    /// TechDocs with at least this many pages (`techdocs`: 1).
    Docs {
        min_pages: u32,
    },
    /// A link of this type: in `metadata.links`, or from the observability link templates.
    Link(LinkType),
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Not(Box<Rule>),
}

/// A rule that cannot be used: where in it (`rule.all[1].annotation.matches`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub field: String,
    pub message: String,
}

/// The relation types the catalog makes (`catalog/relations.rs`).
const RELATIONS: &[&str] = &[
    "ownedBy",
    "ownerOf",
    "providesApi",
    "apiProvidedBy",
    "consumesApi",
    "apiConsumedBy",
    "dependsOn",
    "dependencyOf",
    "partOf",
    "hasPart",
    "memberOf",
    "hasMember",
    "parentOf",
    "childOf",
];

const NAMES: &str =
    "ownerSet, ownerExists, description, lifecycle, system, tags, links, techdocs, onCallLink, dashboardLink, probes, limits, noCrashLoops (or a map: lifecycle, tag, annotation, relation, file, lastCommit, docsPages, runsIn, replicas, probes, limits, noCrashLoops, all, any, not)";

/// Checks a repository path as a `file` rule names it.
fn file_path(p: &str) -> Result<String, String> {
    let p = p.trim();
    if p.is_empty() {
        return Err("expected a path in the repository".into());
    }
    if p.starts_with('/') || p.split('/').any(|part| part == "..") {
        return Err(format!(
            "{p:?}: expected a path relative to the repository's root, without \"..\""
        ));
    }
    Ok(p.trim_start_matches("./").to_string())
}

impl Rule {
    /// Parses a rule as written; `field` is where it is (`rule`).
    pub fn parse(v: &Value, field: &str) -> Result<Rule, RuleError> {
        let err = |field: String, message: String| RuleError { field, message };
        match v {
            Value::String(name) => match name.as_str() {
                "ownerSet" => Ok(Rule::OwnerSet),
                "ownerExists" => Ok(Rule::OwnerExists),
                "description" => Ok(Rule::Description),
                "lifecycle" => Ok(Rule::Lifecycle(Vec::new())),
                "system" => Ok(Rule::System),
                "tags" => Ok(Rule::Tags(None)),
                "links" => Ok(Rule::Links),
                "techdocs" => Ok(Rule::Docs { min_pages: 1 }),
                "onCallLink" => Ok(Rule::Link(LinkType::Oncall)),
                "dashboardLink" => Ok(Rule::Link(LinkType::Dashboard)),
                other => ClusterRule::named(other).map(Rule::Cluster).ok_or_else(|| {
                    err(
                        field.into(),
                        format!("unknown rule {other:?}; expected one of {NAMES}"),
                    )
                }),
            },
            Value::Object(map) => {
                let mut entries = map.iter();
                let (Some((key, arg)), None) = (entries.next(), entries.next()) else {
                    return Err(err(
                        field.into(),
                        format!("a rule is a map with exactly one key, found {}", map.len()),
                    ));
                };
                let at = format!("{field}.{key}");
                if let Some(cluster) = ClusterRule::parse(key, arg, &at) {
                    return cluster.map(Rule::Cluster);
                }
                match key.as_str() {
                    "all" | "any" => {
                        let Value::Array(items) = arg else {
                            return Err(err(at, "expected a list of rules".into()));
                        };
                        if items.is_empty() {
                            return Err(err(at, "expected at least one rule".into()));
                        }
                        let rules = items
                            .iter()
                            .enumerate()
                            .map(|(i, r)| Rule::parse(r, &format!("{at}[{i}]")))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(if key == "all" {
                            Rule::All(rules)
                        } else {
                            Rule::Any(rules)
                        })
                    }
                    "not" => Ok(Rule::Not(Box::new(Rule::parse(arg, &at)?))),
                    "lifecycle" => match arg {
                        Value::String(s) => Ok(Rule::Lifecycle(vec![s.to_lowercase()])),
                        Value::Array(items) => items
                            .iter()
                            .enumerate()
                            .map(|(i, s)| {
                                s.as_str().map(str::to_lowercase).ok_or_else(|| {
                                    err(format!("{at}[{i}]"), "expected a string".into())
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                            .map(Rule::Lifecycle),
                        _ => Err(err(at, "expected a lifecycle or a list of them".into())),
                    },
                    "tag" => match arg.as_str() {
                        Some(t) if !t.is_empty() => Ok(Rule::Tags(Some(t.to_lowercase()))),
                        _ => Err(err(at, "expected a tag".into())),
                    },
                    "relation" => match arg.as_str() {
                        Some(t) => match RELATIONS.iter().find(|r| r.eq_ignore_ascii_case(t)) {
                            Some(r) => Ok(Rule::Relation((*r).to_string())),
                            None => Err(err(
                                at,
                                format!(
                                    "unknown relation {t:?}; expected one of {}",
                                    RELATIONS.join(", ")
                                ),
                            )),
                        },
                        None => Err(err(at, "expected a relation type".into())),
                    },
                    "annotation" => match arg {
                        Value::String(k) if !k.is_empty() => Ok(Rule::Annotation {
                            key: k.clone(),
                            matches: None,
                        }),
                        Value::Object(m) => {
                            if let Some(other) = m.keys().find(|k| *k != "key" && *k != "matches") {
                                return Err(err(
                                    format!("{at}.{other}"),
                                    "unknown field; expected key or matches".into(),
                                ));
                            }
                            let key = match m.get("key").and_then(Value::as_str) {
                                Some(k) if !k.is_empty() => k.to_string(),
                                _ => {
                                    return Err(err(
                                        format!("{at}.key"),
                                        "expected an annotation key".into(),
                                    ))
                                }
                            };
                            let matches = match m.get("matches") {
                                None => None,
                                Some(Value::String(p)) => Some(Regex::new(p).map_err(|e| {
                                    err(format!("{at}.matches"), format!("invalid pattern: {e}"))
                                })?),
                                Some(_) => {
                                    return Err(err(
                                        format!("{at}.matches"),
                                        "expected a regular expression".into(),
                                    ))
                                }
                            };
                            Ok(Rule::Annotation { key, matches })
                        }
                        _ => Err(err(
                            at,
                            "expected an annotation key, or {key, matches}".into(),
                        )),
                    },
                    "file" => match arg {
                        Value::String(p) => file_path(p)
                            .map(|path| {
                                Rule::File(FileQuery {
                                    path,
                                    matches: None,
                                })
                            })
                            .map_err(|m| err(at, m)),
                        Value::Object(m) => {
                            if let Some(other) = m.keys().find(|k| *k != "path" && *k != "matches")
                            {
                                return Err(err(
                                    format!("{at}.{other}"),
                                    "unknown field; expected path or matches".into(),
                                ));
                            }
                            let path = m
                                .get("path")
                                .and_then(Value::as_str)
                                .ok_or_else(|| "expected a path in the repository".to_string())
                                .and_then(file_path)
                                .map_err(|m| err(format!("{at}.path"), m))?;
                            let matches = match m.get("matches") {
                                None => None,
                                Some(Value::String(p)) => Some(Regex::new(p).map_err(|e| {
                                    err(format!("{at}.matches"), format!("invalid pattern: {e}"))
                                })?),
                                Some(_) => {
                                    return Err(err(
                                        format!("{at}.matches"),
                                        "expected a regular expression".into(),
                                    ))
                                }
                            };
                            if matches.is_some() && path.ends_with('/') {
                                return Err(err(
                                    format!("{at}.matches"),
                                    "a folder has no lines to match; name a file".into(),
                                ));
                            }
                            Ok(Rule::File(FileQuery { path, matches }))
                        }
                        _ => Err(err(at, "expected a path, or {path, matches}".into())),
                    },
                    "lastCommit" => count_arg(arg, &at, "withinDays")
                        .map(|within_days| Rule::LastCommit { within_days }),
                    "docsPages" => {
                        count_arg(arg, &at, "min").map(|min_pages| Rule::Docs { min_pages })
                    }
                    other => Err(err(
                        at,
                        format!("unknown rule {other:?}; expected one of {NAMES}"),
                    )),
                }
            }
            _ => Err(err(
                field.into(),
                format!("expected a rule name or a map; expected one of {NAMES}"),
            )),
        }
    }

    /// Whether the entity passes, and why (or why not), in a few plain words: what a page shows
    /// for one entity (evaluating every entity asks [`Rule::holds`]).
    pub fn evaluate(&self, facts: &Facts<'_>) -> (bool, String) {
        let r = facts.record;
        let f = r.fields();
        match self {
            Rule::OwnerSet => match f.owner() {
                Some(o) => (true, format!("owner is {o}")),
                None => (false, "spec.owner is not set".into()),
            },
            Rule::OwnerExists => match f.owner() {
                None => (false, "spec.owner is not set".into()),
                Some(o) => match r.related("ownedBy").next() {
                    Some(rel) if rel.target_index.is_some() => {
                        (true, format!("owner {} is in the catalog", rel.target_ref))
                    }
                    Some(rel) => (
                        false,
                        format!("owner {} is not in the catalog", rel.target_ref),
                    ),
                    None => (false, format!("owner {o} is not in the catalog")),
                },
            },
            Rule::Description => match f.description().filter(|d| !d.trim().is_empty()) {
                Some(_) => (true, "has a description".into()),
                None => (false, "metadata.description is empty".into()),
            },
            Rule::Lifecycle(allowed) => match f.lifecycle() {
                None => (false, "spec.lifecycle is not set".into()),
                Some(l)
                    if allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(l)) =>
                {
                    (true, format!("lifecycle is {l}"))
                }
                Some(l) => (
                    false,
                    format!("lifecycle is {l}, not one of {}", allowed.join(", ")),
                ),
            },
            Rule::System => match f.system() {
                Some(s) => (true, format!("part of system {s}")),
                None => (false, "spec.system is not set".into()),
            },
            Rule::Tags(None) => match f.tags().count() {
                0 => (false, "metadata.tags is empty".into()),
                n => (true, format!("{n} tag(s)")),
            },
            Rule::Tags(Some(tag)) => {
                if f.tags().any(|t| t.eq_ignore_ascii_case(tag)) {
                    (true, format!("tagged {tag}"))
                } else {
                    (false, format!("not tagged {tag}"))
                }
            }
            Rule::Links => {
                let n = facts.body()["metadata"]["links"]
                    .as_array()
                    .map_or(0, Vec::len);
                if n == 0 {
                    (false, "metadata.links is empty".into())
                } else {
                    (true, format!("{n} link(s)"))
                }
            }
            Rule::Annotation { key, matches } => {
                let value = facts.body()["metadata"]["annotations"][key.as_str()]
                    .as_str()
                    .filter(|v| !v.is_empty());
                match (value, matches) {
                    (None, _) => (false, format!("annotation {key} is not set")),
                    (Some(_), None) => (true, format!("annotation {key} is set")),
                    (Some(v), Some(re)) if re.is_match(v) => {
                        (true, format!("annotation {key} is {v:?}"))
                    }
                    (Some(v), Some(re)) => (
                        false,
                        format!(
                            "annotation {key} is {v:?}, which does not match {}",
                            re.as_str()
                        ),
                    ),
                }
            }
            Rule::Relation(t) => match r.related(t).count() {
                0 => (false, format!("no {t} relation")),
                n => (true, format!("{n} {t} relation(s)")),
            },
            Rule::File(q) => {
                let what = if q.path.ends_with('/') {
                    "folder"
                } else {
                    "file"
                };
                let p = &q.path;
                match facts.file(q) {
                    FileState::Unreadable => {
                        (false, "the entity's repository files cannot be read".into())
                    }
                    FileState::Missing => (false, format!("{p} is not in the repository")),
                    FileState::Present => (true, format!("{what} {p} is in the repository")),
                    FileState::Matched(line) => (
                        true,
                        format!(
                            "{p} line {line} matches {}",
                            q.matches.as_ref().map_or("", Regex::as_str)
                        ),
                    ),
                    FileState::NotMatched => (
                        false,
                        format!(
                            "no line of {p} matches {}",
                            q.matches.as_ref().map_or("", Regex::as_str)
                        ),
                    ),
                }
            }
            Rule::Cluster(c) => c.evaluate(facts.clusters(), facts.record.stored.key.as_str()),
            Rule::LastCommit { within_days } => last_commit_words(facts, *within_days),
            Rule::Docs { min_pages } => docs_words(facts, *min_pages),
            Rule::Link(t) => link_words(facts, *t),
            Rule::All(rules) => {
                for rule in rules {
                    let (ok, why) = rule.evaluate(facts);
                    if !ok {
                        return (false, why);
                    }
                }
                (true, "all hold".into())
            }
            Rule::Any(rules) => {
                let mut why = Vec::new();
                for rule in rules {
                    let (ok, reason) = rule.evaluate(facts);
                    if ok {
                        return (true, reason);
                    }
                    why.push(reason);
                }
                (false, why.join("; "))
            }
            Rule::Not(rule) => {
                let (ok, why) = rule.evaluate(facts);
                if ok {
                    (false, format!("{why} (it must not)"))
                } else {
                    (true, why)
                }
            }
        }
    }

    /// Whether the entity passes: what a full evaluation asks, with no words built (the words
    /// come from [`Rule::evaluate`], when a page shows the check). The two always agree (a test
    /// holds them to it).
    pub fn holds(&self, facts: &Facts<'_>) -> bool {
        let r = facts.record;
        let f = r.fields();
        match self {
            Rule::OwnerSet => f.owner().is_some(),
            Rule::OwnerExists => {
                f.owner().is_some()
                    && r.related("ownedBy")
                        .next()
                        .is_some_and(|rel| rel.target_index.is_some())
            }
            Rule::Description => f.description().is_some_and(|d| !d.trim().is_empty()),
            Rule::Lifecycle(allowed) => f.lifecycle().is_some_and(|l| {
                allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(l))
            }),
            Rule::System => f.system().is_some(),
            Rule::Tags(None) => f.tags().next().is_some(),
            Rule::Tags(Some(tag)) => f.tags().any(|t| t.eq_ignore_ascii_case(tag)),
            Rule::Links => facts.body()["metadata"]["links"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            Rule::Annotation { key, matches } => {
                match facts.body()["metadata"]["annotations"][key.as_str()]
                    .as_str()
                    .filter(|v| !v.is_empty())
                {
                    None => false,
                    Some(v) => matches.as_ref().is_none_or(|re| re.is_match(v)),
                }
            }
            Rule::Relation(t) => r.related(t).next().is_some(),
            Rule::File(q) => matches!(facts.file(q), FileState::Present | FileState::Matched(_)),
            Rule::Cluster(c) => c.holds(facts.clusters(), facts.record.stored.key.as_str()),
            Rule::LastCommit { within_days } => {
                matches!(facts.commit_age(), Some(Ok(age)) if age <= i64::from(*within_days) * DAY_SECS)
            }
            Rule::Docs { min_pages } => {
                matches!(facts.docs(), DocsState::Pages(n) if n >= *min_pages as usize && n > 0)
            }
            Rule::Link(t) => facts.link(*t).is_some(),
            Rule::All(rules) => rules.iter().all(|rule| rule.holds(facts)),
            Rule::Any(rules) => rules.iter().any(|rule| rule.holds(facts)),
            Rule::Not(rule) => !rule.holds(facts),
        }
    }

    /// What it asks of the entity's repository: files, the commit's time, the docs.
    pub fn repo_queries(&self, out: &mut RepoQueries) {
        match self {
            Rule::File(q) => out.add_file(q),
            Rule::LastCommit { .. } => out.commit = true,
            Rule::Docs { .. } => out.docs = true,
            Rule::All(r) | Rule::Any(r) => r.iter().for_each(|r| r.repo_queries(out)),
            Rule::Not(r) => r.repo_queries(out),
            _ => {}
        }
    }

    /// Whether it reads the entity's workloads; the crash-loop windows it reads go to `windows`.
    pub fn reads_clusters(&self, windows: &mut Vec<u32>) -> bool {
        match self {
            Rule::Cluster(c) => {
                if let Some(h) = c.window().filter(|h| !windows.contains(h)) {
                    windows.push(h);
                }
                true
            }
            Rule::All(r) | Rule::Any(r) => {
                // Every rule is asked (each adds its windows).
                let mut any = false;
                for r in r {
                    any |= r.reads_clusters(windows);
                }
                any
            }
            Rule::Not(r) => r.reads_clusters(windows),
            _ => false,
        }
    }

    /// Whether it reads the entity's body (annotations, links).
    pub fn reads_body(&self) -> bool {
        match self {
            Rule::Links | Rule::Annotation { .. } | Rule::Link(_) | Rule::Docs { .. } => true,
            Rule::All(r) | Rule::Any(r) => r.iter().any(Rule::reads_body),
            Rule::Not(r) => r.reads_body(),
            _ => false,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, rules: &[Rule]| {
            write!(f, "{name}(")?;
            for (i, r) in rules.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{r}")?;
            }
            write!(f, ")")
        };
        match self {
            Rule::OwnerSet => write!(f, "ownerSet"),
            Rule::OwnerExists => write!(f, "ownerExists"),
            Rule::Description => write!(f, "description"),
            Rule::Lifecycle(v) if v.is_empty() => write!(f, "lifecycle"),
            Rule::Lifecycle(v) => write!(f, "lifecycle in [{}]", v.join(", ")),
            Rule::System => write!(f, "system"),
            Rule::Tags(None) => write!(f, "tags"),
            Rule::Tags(Some(t)) => write!(f, "tag {t}"),
            Rule::Links => write!(f, "links"),
            Rule::Annotation { key, matches: None } => write!(f, "annotation {key}"),
            Rule::Annotation {
                key,
                matches: Some(re),
            } => write!(f, "annotation {key} matches {}", re.as_str()),
            Rule::Relation(t) => write!(f, "relation {t}"),
            Rule::File(FileQuery {
                path,
                matches: None,
            }) => write!(f, "file {path}"),
            Rule::File(FileQuery {
                path,
                matches: Some(re),
            }) => write!(f, "file {path} matches {}", re.as_str()),
            Rule::Cluster(c) => write!(f, "{c}"),
            Rule::LastCommit { within_days } => {
                write!(f, "last commit within {within_days} days")
            }
            Rule::Docs { min_pages: 1 } => write!(f, "techdocs"),
            Rule::Docs { min_pages } => write!(f, "docs pages >= {min_pages}"),
            Rule::Link(LinkType::Oncall) => write!(f, "onCallLink"),
            Rule::Link(LinkType::Dashboard) => write!(f, "dashboardLink"),
            Rule::Link(t) => write!(f, "{} link", t.label()),
            Rule::All(r) => list(f, "all", r),
            Rule::Any(r) => list(f, "any", r),
            Rule::Not(r) => write!(f, "not({r})"),
        }
    }
}

/// One entity's facts: the stitched record, its body parsed when a rule first asks, its
/// repository's files and docs when a scorecard asks about them, the observability links in
/// force, the time of the evaluation, and the clusters' workloads when a scorecard has cluster
/// rules.
pub struct Facts<'a> {
    pub record: &'a Record,
    body: std::cell::OnceCell<Value>,
    files: Option<&'a RepoFacts>,
    clusters: Option<&'a WorkloadFacts>,
    docs: Option<&'a DocsState>,
    links: Option<&'a LinkTemplates>,
    /// Seconds since the epoch (`None`: the wall clock's, read when a rule asks).
    now: Option<i64>,
}

impl<'a> Facts<'a> {
    /// At the wall clock's time.
    pub fn new(record: &'a Record) -> Self {
        Facts {
            record,
            body: std::cell::OnceCell::new(),
            files: None,
            clusters: None,
            docs: None,
            links: None,
            now: None,
        }
    }

    /// With the clusters' workloads (`None`: no cluster is known).
    pub fn with_clusters(mut self, clusters: Option<&'a WorkloadFacts>) -> Self {
        self.clusters = clusters;
        self
    }

    fn clusters(&self) -> &WorkloadFacts {
        static NONE: std::sync::OnceLock<WorkloadFacts> = std::sync::OnceLock::new();
        self.clusters
            .unwrap_or_else(|| NONE.get_or_init(WorkloadFacts::default))
    }

    /// With what the entity's repository holds (`None`: it cannot be read).
    pub fn with_files(record: &'a Record, files: Option<&'a RepoFacts>) -> Self {
        Facts {
            files,
            ..Facts::new(record)
        }
    }

    /// With what the entity's repository says (files, commit, docs).
    pub fn with_repo(record: &'a Record, repo: &'a EntityRepo) -> Self {
        Facts {
            files: repo.files.as_deref(),
            docs: repo.docs.as_ref(),
            ..Facts::new(record)
        }
    }

    /// At this time (milliseconds since the epoch) rather than the wall clock's.
    pub fn at(self, now_ms: i64) -> Self {
        Facts {
            now: Some(now_ms.div_euclid(1000)),
            ..self
        }
    }

    /// With the observability link templates in force.
    pub fn with_links(self, links: &'a LinkTemplates) -> Self {
        Facts {
            links: Some(links),
            ..self
        }
    }

    fn body(&self) -> &Value {
        self.body
            .get_or_init(|| serde_json::from_str(&self.record.stored.body).unwrap_or(Value::Null))
    }

    fn file(&self, q: &FileQuery) -> FileState {
        self.files.map_or(FileState::Unreadable, |f| {
            f.get(&q.path, q.matches.as_ref())
        })
    }
}

// Git, docs and observability rules: what they read of the facts, and their words.

const DAY_SECS: i64 = 86_400;

/// A rule's count argument: `{key: N}`, N a whole number from 1 on.
fn count_arg(arg: &Value, at: &str, key: &str) -> Result<u32, RuleError> {
    let err = |field: String, message: String| RuleError { field, message };
    let Value::Object(m) = arg else {
        return Err(err(at.into(), format!("expected {{{key}: N}}")));
    };
    if let Some(other) = m.keys().find(|k| *k != key) {
        return Err(err(
            format!("{at}.{other}"),
            format!("unknown field; expected {key}"),
        ));
    }
    match m.get(key).map(|v| (v, v.as_u64())) {
        Some((_, Some(n))) if n >= 1 => {
            u32::try_from(n).map_err(|_| err(format!("{at}.{key}"), "too large".into()))
        }
        Some((v, _)) => Err(err(
            format!("{at}.{key}"),
            format!("expected a whole number from 1 on, found {v}"),
        )),
        None => Err(err(
            format!("{at}.{key}"),
            "missing; expected a number".into(),
        )),
    }
}

/// `n day(s)`.
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

impl Facts<'_> {
    /// Seconds since the epoch.
    fn now(&self) -> i64 {
        self.now
            .unwrap_or_else(|| crate::util::now_ms().div_euclid(1000))
    }

    /// The age of the repository's commit in seconds (never negative); `Err`: the entity is
    /// read from files on disk (no commit); `None`: its repository cannot be read.
    fn commit_age(&self) -> Option<Result<i64, ()>> {
        let files = self.files?;
        Some(files.commit_time.map(|t| (self.now() - t).max(0)).ok_or(()))
    }

    /// The entity's docs; not asked of the repository: what the annotation alone tells.
    fn docs(&self) -> DocsState {
        match self.docs {
            Some(d) => d.clone(),
            None if self.body()["metadata"]["annotations"][crate::docs::TECHDOCS_REF]
                .as_str()
                .is_some() =>
            {
                DocsState::Unreadable
            }
            None => DocsState::NoRef,
        }
    }

    /// The entity's first link of this type: (title or URL, where it is from).
    fn link(&self, t: LinkType) -> Option<(String, &'static str)> {
        let body = self.body();
        let own = body["metadata"]["links"].as_array().and_then(|links| {
            links
                .iter()
                .find(|l| catalog_link_type(l) == Some(t))
                .map(|l| {
                    let shown = l["title"].as_str().or(l["url"].as_str()).unwrap_or("");
                    (shown.to_string(), "metadata.links")
                })
        });
        own.or_else(|| {
            let links = self.links.filter(|l| !l.is_empty())?;
            links
                .entity_link_of_type(&EntityValues::of(body), t)
                .map(|l| (l.title, "the observability links"))
        })
    }
}

fn last_commit_words(facts: &Facts<'_>, within_days: u32) -> (bool, String) {
    match facts.commit_age() {
        None => (false, "the entity's repository cannot be read".into()),
        Some(Err(())) => (
            false,
            "read from files on disk, not from Git: there is no commit to date".into(),
        ),
        Some(Ok(age)) => {
            let date = crate::util::format_rfc3339(facts.now() - age, 0);
            let when = format!(
                "the last commit is {} old ({})",
                days(age / DAY_SECS),
                &date[..10]
            );
            if age <= i64::from(within_days) * DAY_SECS {
                (true, when)
            } else {
                (
                    false,
                    format!("{when}, more than {}", days(i64::from(within_days))),
                )
            }
        }
    }
}

fn docs_words(facts: &Facts<'_>, min_pages: u32) -> (bool, String) {
    match facts.docs() {
        DocsState::NoRef => (
            false,
            format!("annotation {} is not set", crate::docs::TECHDOCS_REF),
        ),
        DocsState::Unreadable => (false, "the entity's docs files cannot be read".into()),
        DocsState::Broken(why) => (false, why),
        DocsState::Pages(n) => {
            let pages = if n == 1 {
                "1 page".to_string()
            } else {
                format!("{n} pages")
            };
            if n >= min_pages as usize && n > 0 {
                (true, format!("TechDocs with {pages}"))
            } else {
                (
                    false,
                    format!("TechDocs with {pages}, fewer than {min_pages}"),
                )
            }
        }
    }
}

fn link_words(facts: &Facts<'_>, t: LinkType) -> (bool, String) {
    let label = t.label();
    match facts.link(t) {
        Some((title, from)) => (true, format!("{label} link {title:?} in {from}")),
        None => (
            false,
            format!(
                "no {label} link: no metadata.links entry has type or icon {}, and no observability link of type {} applies",
                link_type_name(t),
                link_type_name(t)
            ),
        ),
    }
}

/// A link type as `type:` and `icon:` spell it.
fn link_type_name(t: LinkType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
