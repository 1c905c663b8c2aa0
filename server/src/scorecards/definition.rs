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

/// One entity's outcome: per check, passed and why; the level reached (index + 1, 0: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub checks: Vec<(bool, String)>,
    pub reached: usize,
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
        let checks: Vec<(bool, String)> =
            self.checks.iter().map(|c| c.rule.evaluate(facts)).collect();
        let lowest_failing = self
            .checks
            .iter()
            .zip(&checks)
            .filter(|(_, (ok, _))| !ok)
            .map(|(c, _)| c.level)
            .min();
        let reached = lowest_failing.unwrap_or(self.levels.len());
        Outcome { checks, reached }
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

    /// An outcome as pages and the API show it.
    pub fn result(&self, outcome: &Outcome) -> ScorecardResult {
        let level_name = |i: usize| self.levels.get(i).cloned();
        ScorecardResult {
            name: self.name.clone(),
            title: self.title.clone(),
            levels: self.levels.clone(),
            level: outcome.reached.checked_sub(1).and_then(level_name),
            next_level: level_name(outcome.reached),
            passed: outcome.checks.iter().filter(|(ok, _)| *ok).count(),
            total: outcome.checks.len(),
            checks: self
                .checks
                .iter()
                .zip(&outcome.checks)
                .map(|(c, (passed, reason))| CheckResult {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    level: self.levels[c.level].clone(),
                    passed: *passed,
                    reason: reason.clone(),
                    fix: c.fix.clone(),
                })
                .collect(),
        }
    }
}
