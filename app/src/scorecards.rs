//! Scorecards: what "good" means for a kind of entity, written down as checks over catalog facts
//! and grouped in levels (bronze, silver, gold…). Plain data built by the server
//! (`server/src/scorecards/`), shown on the entity page and served as JSON by
//! `GET /api/scorecards` and `GET /api/scorecards/entities/{namespace}/{kind}/{name}`.

use crate::model::EntityRef;
use serde::{Deserialize, Serialize};

/// A scorecard as declared (the list endpoint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorecardSummary {
    pub name: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Where it is declared: `config`, or the `Scorecard` entity's reference.
    pub source: String,
    /// Which entities it applies to, as catalog filter conditions (`kind=component`, …);
    /// empty: every entity.
    pub filter: Vec<String>,
    /// Its levels, lowest first.
    pub levels: Vec<String>,
    pub checks: Vec<CheckSummary>,
}

/// One check as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSummary {
    pub id: String,
    pub title: String,
    pub level: String,
    /// The rule, written out (`all(ownerExists, description)`).
    pub rule: String,
    /// How to make it pass.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

/// Every scorecard that applies to one entity, evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityScorecards {
    pub entity: EntityRef,
    pub scorecards: Vec<ScorecardResult>,
}

/// One scorecard's result for one entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorecardResult {
    pub name: String,
    pub title: String,
    pub levels: Vec<String>,
    /// The highest level reached (every check of it and of the levels below passes); absent:
    /// not even the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The next level to reach; absent when the highest is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_level: Option<String>,
    pub passed: usize,
    pub total: usize,
    pub checks: Vec<CheckResult>,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub level: String,
    pub passed: bool,
    /// Why it failed (or, for a pass, what was found).
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

/// A team's rollup: each scorecard result of what it owns, worst first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamScorecards {
    pub entities: Vec<EntityLevel>,
}

/// One owned entity's level on one scorecard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityLevel {
    pub entity: EntityRef,
    pub title: Option<String>,
    pub scorecard: String,
    /// The level reached; `None`: not even the first.
    pub level: Option<String>,
    /// How many levels are reached, of how many.
    pub reached: usize,
    pub levels: usize,
    /// The titles of the checks that fail.
    pub failing: Vec<String>,
}
