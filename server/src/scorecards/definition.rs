//! A scorecard as written (in the config's `scorecards:` list, or as the `spec` of a
//! `Scorecard` entity) and checked: its filter, ordered levels and checks with their rules.
//!
//! ```yaml
//! scorecards:
//!   - name: service-maturity
//!     title: Service maturity
//!     description: What a well-run service has.
//!     filter: {kind: component, type: [service, website]}   # also lifecycle, tags, system
//!     levels: [bronze, silver, gold]                         # lowest first
//!     checks:
//!       - id: owner
//!         title: Has an owner that exists
//!         level: bronze
//!         rule: ownerExists
//!         fix: Set spec.owner to a group in the catalog.
//! ```

use super::rules::{Facts, Rule};
use super::ScorecardError;
use crate::catalog::query::{Condition, Filter};
use crate::catalog::snapshot::Record;
use app::scorecards::{CheckResult, CheckSummary, ScorecardResult, ScorecardSummary};
use serde::Deserialize;
use serde_json::Value;

/// One scorecard as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScorecardConfig {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub filter: FilterConfig,
    pub levels: Vec<String>,
    pub checks: Vec<CheckConfig>,
}

/// Which entities a scorecard applies to: every key given must hold; a key's values are
/// alternatives (any case), as in the catalog's `filter` parameter.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    pub kind: OneOrMany,
    #[serde(rename = "type")]
    pub spec_type: OneOrMany,
    pub lifecycle: OneOrMany,
    pub tags: OneOrMany,
    pub system: OneOrMany,
}

pub use crate::observability::config::OneOrMany;

/// One check as written; the rule is read by [`Rule::parse`].
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    pub id: String,
    pub title: String,
    pub level: String,
    pub rule: Value,
    #[serde(default)]
    pub fix: String,
}

/// A checked scorecard.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub name: String,
    pub title: String,
    pub description: String,
    /// `config` or the `Scorecard` entity's reference.
    pub source: String,
    pub filter: Filter,
    /// The filter as conditions (`kind=component`), for display.
    pub filter_text: Vec<String>,
    pub levels: Vec<String>,
    pub checks: Vec<Check>,
    reads_body: bool,
    /// What its rules ask of an entity's repository (files, the commit's time, docs).
    pub repo_queries: super::repo::RepoQueries,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: String,
    /// Index into the scorecard's levels.
    pub level: usize,
    pub rule: Rule,
    pub fix: String,
}

/// The most checks a scorecard may have: an outcome keeps one bit per check.
pub const MAX_CHECKS: usize = 64;

/// One entity's outcome on one scorecard, kept compact (what 10k entities × every scorecard
/// cost in memory): a bit per check that passed, and the level reached (index + 1, 0: none).
/// The words (why a check passed or failed) are built when a page shows one entity
/// ([`Scorecard::result`]), never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub passed: u64,
    pub reached: u8,
}

impl Outcome {
    /// Whether check `i` passed.
    pub fn passed(&self, i: usize) -> bool {
        i < MAX_CHECKS && self.passed & (1 << i) != 0
    }

    /// How many checks passed.
    pub fn passed_count(&self) -> usize {
        self.passed.count_ones() as usize
    }
}

impl ScorecardConfig {
    /// Checks it; `source` is where it was declared. Errors name the scorecard, the check and
    /// the field.
    pub fn compile(&self, source: &str) -> Result<Scorecard, ScorecardError> {
        let bad = |check: Option<&str>, field: String, message: String| ScorecardError::Invalid {
            scorecard: self.name.clone(),
            check: check.map(str::to_string),
            field,
            message,
        };
        if self.name.trim().is_empty() {
            return Err(bad(None, "name".into(), "must not be empty".into()));
        }
        if self.levels.is_empty() {
            return Err(bad(
                None,
                "levels".into(),
                "expected at least one level".into(),
            ));
        }
        for (i, l) in self.levels.iter().enumerate() {
            if l.trim().is_empty() || self.levels[..i].contains(l) {
                return Err(bad(
                    None,
                    format!("levels[{i}]"),
                    format!("{l:?}: levels must be distinct and not empty"),
                ));
            }
            // The catalog's level facet and the API filter by `none` for "no level reached".
            if l.eq_ignore_ascii_case(app::model::NO_LEVEL) {
                return Err(bad(
                    None,
                    format!("levels[{i}]"),
                    format!(
                        "{l:?} is reserved: it means no level reached (in the catalog's level filter)"
                    ),
                ));
            }
        }
        if self.levels.len() > usize::from(u8::MAX) {
            return Err(bad(
                None,
                "levels".into(),
                format!("at most {} levels", u8::MAX),
            ));
        }
        if self.checks.len() > MAX_CHECKS {
            return Err(bad(
                None,
                "checks".into(),
                format!(
                    "at most {MAX_CHECKS} checks, found {}; split it into two scorecards",
                    self.checks.len()
                ),
            ));
        }
        let mut checks = Vec::with_capacity(self.checks.len());
        for (i, c) in self.checks.iter().enumerate() {
            let at = |f: &str| format!("checks[{i}].{f}");
            if c.id.trim().is_empty() {
                return Err(bad(None, at("id"), "must not be empty".into()));
            }
            if self.checks[..i].iter().any(|o| o.id == c.id) {
                return Err(bad(
                    Some(&c.id),
                    at("id"),
                    "another check has this id".into(),
                ));
            }
            let Some(level) = self.levels.iter().position(|l| l == &c.level) else {
                return Err(bad(
                    Some(&c.id),
                    at("level"),
                    format!(
                        "unknown level {:?}; expected one of {}",
                        c.level,
                        self.levels.join(", ")
                    ),
                ));
            };
            let rule = Rule::parse(&c.rule, &at("rule"))
                .map_err(|e| bad(Some(&c.id), e.field, e.message))?;
            checks.push(Check {
                id: c.id.clone(),
                title: c.title.clone(),
                level,
                rule,
                fix: c.fix.clone(),
            });
        }
        let mut conditions = Vec::new();
        for (key, values) in [
            ("kind", &self.filter.kind),
            ("spec.type", &self.filter.spec_type),
            ("spec.lifecycle", &self.filter.lifecycle),
            ("metadata.tags", &self.filter.tags),
            ("spec.system", &self.filter.system),
        ] {
            if !values.0.is_empty() {
                conditions.push(Condition {
                    key: key.into(),
                    values: Some(values.0.iter().map(|v| v.to_lowercase()).collect()),
                });
            }
        }
        let filter_text = conditions
            .iter()
            .map(|c| {
                format!(
                    "{}={}",
                    c.key,
                    c.values.as_deref().unwrap_or_default().join("|")
                )
            })
            .collect();
        let filter = Filter {
            any_of: if conditions.is_empty() {
                Vec::new()
            } else {
                vec![conditions]
            },
            nothing: false,
        };
        let reads_body = checks.iter().any(|c| c.rule.reads_body());
        let mut repo_queries = super::repo::RepoQueries::default();
        for c in &checks {
            c.rule.repo_queries(&mut repo_queries);
        }
        Ok(Scorecard {
            title: self.title.clone().unwrap_or_else(|| self.name.clone()),
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_default(),
            source: source.into(),
            filter,
            filter_text,
            levels: self.levels.clone(),
            checks,
            reads_body,
            repo_queries,
        })
    }
}

impl Scorecard {
    /// Whether it applies to the entity.
    pub fn applies_to(&self, r: &Record) -> bool {
        self.filter.any_of.is_empty() || self.filter.matches(r)
    }

    /// Evaluates every check; the level reached is the highest whose checks, and every lower
    /// level's, all pass.
    pub fn evaluate(&self, facts: &Facts<'_>) -> Outcome {
        let mut passed = 0u64;
        for (i, c) in self.checks.iter().enumerate() {
            if c.rule.holds(facts) {
                passed |= 1 << i;
            }
        }
        self.outcome(passed)
    }

    /// The outcome of these passes: the level reached is the lowest failing check's level.
    fn outcome(&self, passed: u64) -> Outcome {
        let lowest_failing = self
            .checks
            .iter()
            .enumerate()
            .filter(|(i, _)| passed & (1 << i) == 0)
            .map(|(_, c)| c.level)
            .min();
        let reached = lowest_failing.unwrap_or(self.levels.len());
        Outcome {
            passed,
            reached: reached.min(usize::from(u8::MAX)) as u8,
        }
    }

    /// Whether a check reads entities' workloads; the crash-loop windows go to `windows`.
    pub fn reads_clusters(&self, windows: &mut Vec<u32>) -> bool {
        // Every check is asked (each adds its windows), not only up to the first.
        let mut any = false;
        for c in &self.checks {
            any |= c.rule.reads_clusters(windows);
        }
        any
    }

    /// Whether evaluating reads entities' bodies (annotations, links).
    pub fn reads_body(&self) -> bool {
        self.reads_body
    }

    pub fn summary(&self) -> ScorecardSummary {
        ScorecardSummary {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            source: self.source.clone(),
            filter: self.filter_text.clone(),
            levels: self.levels.clone(),
            checks: self
                .checks
                .iter()
                .map(|c| CheckSummary {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    level: self.levels[c.level].clone(),
                    rule: c.rule.to_string(),
                    fix: c.fix.clone(),
                })
                .collect(),
        }
    }

    /// One entity's result as pages and the API show it: every check evaluated again with its
    /// words (one entity: microseconds), so nothing but bits is kept between pages.
    pub fn result(&self, facts: &Facts<'_>) -> ScorecardResult {
        let explained: Vec<(bool, String)> =
            self.checks.iter().map(|c| c.rule.evaluate(facts)).collect();
        let passed = explained
            .iter()
            .enumerate()
            .filter(|(_, (ok, _))| *ok)
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        let outcome = self.outcome(passed);
        let reached = usize::from(outcome.reached);
        let level_name = |i: usize| self.levels.get(i).cloned();
        ScorecardResult {
            name: self.name.clone(),
            title: self.title.clone(),
            levels: self.levels.clone(),
            level: reached.checked_sub(1).and_then(level_name),
            next_level: level_name(reached),
            passed: outcome.passed_count(),
            total: self.checks.len(),
            checks: self
                .checks
                .iter()
                .zip(explained)
                .map(|(c, (passed, reason))| CheckResult {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    level: self.levels[c.level].clone(),
                    passed,
                    reason,
                    fix: c.fix.clone(),
                })
                .collect(),
        }
    }

    /// The titles of the checks an outcome failed.
    pub fn failing(&self, outcome: &Outcome) -> Vec<String> {
        self.checks
            .iter()
            .enumerate()
            .filter(|(i, _)| !outcome.passed(*i))
            .map(|(_, c)| c.title.clone())
            .collect()
    }

    /// The level reached, by name (`None`: not even the first).
    pub fn level_name(&self, outcome: &Outcome) -> Option<String> {
        usize::from(outcome.reached)
            .checked_sub(1)
            .and_then(|l| self.levels.get(l).cloned())
    }
}
