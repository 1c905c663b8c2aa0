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

/// A team's rollup: each scorecard result of what it owns, worst first, and each scorecard's
/// trend over the last 30 days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamScorecards {
    pub entities: Vec<EntityLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<ScorecardTrend>,
}

/// How many of a team's entities reached each level, day by day (from the stored history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorecardTrend {
    pub name: String,
    pub title: String,
    /// Lowest first.
    pub levels: Vec<String>,
    /// The days shown, oldest first (`YYYY-MM-DD`, UTC), today last.
    pub days: Vec<String>,
    /// Per day: entities by level reached, "no level" first, then one per level.
    pub counts: Vec<Vec<u32>>,
}

impl ScorecardTrend {
    /// Per level (lowest first), per day: how many entities reached it or a higher one.
    pub fn reaching(&self) -> Vec<Vec<u32>> {
        (1..=self.levels.len())
            .map(|level| {
                self.counts
                    .iter()
                    .map(|day| day.iter().skip(level).sum())
                    .collect()
            })
            .collect()
    }

    /// The chart's lines as SVG path data, one per level (lowest first), in a `width` ×
    /// `height` box: x is the day, y the count (0 at the bottom, the most entities on any day
    /// at the top). Drawn on the server; no script.
    pub fn paths(&self, width: f64, height: f64) -> Vec<String> {
        let reaching = self.reaching();
        let top = self
            .counts
            .iter()
            .map(|day| day.iter().sum::<u32>())
            .max()
            .unwrap_or(0)
            .max(1);
        let days = self.counts.len().max(2) - 1;
        reaching
            .iter()
            .map(|line| {
                let mut d = String::new();
                for (i, n) in line.iter().enumerate() {
                    let x = width * i as f64 / days as f64;
                    let y = height - height * f64::from(*n) / f64::from(top);
                    d.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }));
                }
                d
            })
            .collect()
    }

    /// The most entities on any day (the chart's top).
    pub fn top(&self) -> u32 {
        self.counts
            .iter()
            .map(|day| day.iter().sum::<u32>())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trend_counts_entities_at_or_above_each_level() {
        let t = ScorecardTrend {
            name: "m".into(),
            title: "M".into(),
            levels: vec!["bronze".into(), "silver".into()],
            days: vec!["2026-12-06".into(), "2026-12-07".into()],
            counts: vec![vec![2, 1, 1], vec![0, 2, 2]],
        };
        assert_eq!(t.reaching(), vec![vec![2, 4], vec![1, 2]]);
        assert_eq!(t.top(), 4);
        // Bronze: 2 of 4 (half way up), then 4 of 4 (the top); silver: 1, then 2.
        assert_eq!(
            t.paths(100.0, 40.0),
            vec!["M0.0,20.0 L100.0,0.0", "M0.0,30.0 L100.0,20.0"]
        );
    }
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

/// The entities one scorecard applies to, with their levels as last evaluated (`GET
/// /api/scorecards/{name}/entities`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorecardEntities {
    pub name: String,
    pub title: String,
    /// Lowest first.
    pub levels: Vec<String>,
    /// Per level, highest first, then `none`: how many entities the caller may read are at it
    /// (whatever `level` filter was asked).
    pub counts: Vec<LevelCount>,
    /// The entities at the levels asked (all when none was), by kind, namespace and name.
    pub items: Vec<EntityAtLevel>,
}

/// How many entities are at one level (`none`: no level reached).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCount {
    pub level: String,
    pub count: usize,
}

/// One entity's level on a scorecard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityAtLevel {
    /// `kind:namespace/name`.
    pub entity: String,
    /// The level reached; absent: not even the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}
