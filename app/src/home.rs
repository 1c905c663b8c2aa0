//! The home page (`/`) and the organisation view (`/teams`): plain data the server builds
//! (`server/src/home/`) from the catalog, the clusters' health, the scorecards, the
//! scaffolder's tasks and what it keeps per user (stars, recent visits).

use crate::kube::{ClusterSummary, Health};
use crate::model::{EntityRef, EntitySummary};
use crate::templates::TaskSummary;
use serde::{Deserialize, Serialize};

/// The home page: a signed-in user's own, or the organisation's overview for a guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HomeView {
    User(UserHome),
    Guest(GuestHome),
}

/// A signed-in user's home.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserHome {
    pub user: EntityRef,
    /// The user's display name (the entity's title or profile name, else its name).
    pub name: String,
    /// The groups the user is a member of, directly or through parents.
    pub teams: Vec<TeamRow>,
    /// What the user or their teams own, first of `owned_total` by name.
    pub owned: Vec<EntitySummary>,
    pub owned_total: usize,
    /// Starred, newest star first.
    pub starred: Vec<PersonalEntry>,
    /// Visited, latest first.
    pub recent: Vec<PersonalEntry>,
    /// The user's latest template tasks; `tasks_error` when they could not be read.
    pub tasks: Vec<TaskSummary>,
    pub tasks_total: i64,
    pub tasks_error: Option<String>,
}

/// A starred or visited entity: what the catalog shows of it now, or `None` when it left the
/// catalog (or the user may no longer read it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalEntry {
    pub entity: EntityRef,
    pub summary: Option<EntitySummary>,
    /// RFC 3339, UTC.
    pub at: String,
}

/// The guest's home: the organisation at a glance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestHome {
    /// Sign-in is configured (the page offers it).
    pub sign_in: bool,
    /// The worst teams first, at most [`GUEST_TEAMS`] of `teams_total`.
    pub teams: Vec<TeamRow>,
    pub teams_total: usize,
    pub clusters: Vec<ClusterSummary>,
    /// Entities whose catalog entry changed last, latest first.
    pub changes: Vec<ChangedEntity>,
    /// How many entities the catalog holds (that the guest may read).
    pub entities: usize,
}

/// How many teams the guest's home lists (the organisation view lists them all).
pub const GUEST_TEAMS: usize = 10;

/// An entity whose catalog entry changed, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangedEntity {
    pub summary: EntitySummary,
    /// RFC 3339, UTC.
    pub changed_at: String,
}

/// One team with its rollups: what it owns, its health across clusters, its scorecard level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamRow {
    pub team: EntitySummary,
    /// Entities it owns.
    pub owned: usize,
    /// The worst health of what it owns across clusters (`Unknown` when nothing runs).
    pub health: Health,
    /// Owned entities degraded or down.
    pub unhealthy: usize,
    /// Firing alerts summed over what it owns (the catalog table's counts); `None` when no
    /// Prometheus is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<u32>,
    /// Its scorecards' rollup; `None` when no scorecard applies to what it owns.
    pub level: Option<TeamLevel>,
}

/// A team's scorecards at a glance: its worst entity's level, and how many of its
/// (entity, scorecard) results reach their scorecard's top level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamLevel {
    /// The scorecard of the worst result.
    pub scorecard: String,
    /// The worst result's level; `None`: not even the first.
    pub lowest: Option<String>,
    pub at_top: usize,
    pub results: usize,
}

impl TeamLevel {
    /// Share of results at the top level, in thousandths (for sorting without floats).
    pub fn score(&self) -> usize {
        (self.at_top * 1000)
            .checked_div(self.results)
            .unwrap_or(1000)
    }
}

/// The organisation view: every team, and what has no valid owner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgView {
    pub teams: Vec<TeamRow>,
    /// The order shown: one of [`ORG_SORTS`], `-` prefixed for descending.
    pub sort: String,
    /// Entities (other than users and groups) with no owner.
    pub unowned: Vec<EntitySummary>,
    /// Entities whose owner is not in the catalog, with the owner as written.
    pub unknown_owner: Vec<(EntitySummary, String)>,
}

/// The organisation view's sort keys: `health` (worst first, the default), `name`, `owned`,
/// `alerts` (most firing first), `level` (lowest share at the top level first).
pub const ORG_SORTS: [&str; 5] = ["health", "name", "owned", "alerts", "level"];

/// Where the organisation view is.
pub const TEAMS_PATH: &str = "/teams";

/// Sorts teams by `sort` (one of [`ORG_SORTS`], `-` prefixed to reverse); unknown keys sort
/// by health. Ties go by name. Returns the key used.
pub fn sort_teams(teams: &mut [TeamRow], sort: &str) -> String {
    let (descending, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort),
    };
    let key = if ORG_SORTS.contains(&key) {
        key
    } else {
        "health"
    };
    let name = |t: &TeamRow| t.team.entity_ref.name.clone();
    teams.sort_by(|a, b| {
        let order = match key {
            "name" => std::cmp::Ordering::Equal,
            // Most owned first.
            "owned" => b.owned.cmp(&a.owned),
            // Most firing first.
            "alerts" => b.alerts.cmp(&a.alerts),
            "level" => score(a).cmp(&score(b)),
            // Worst first: health, then more unhealthy entities, more firing alerts, then the
            // lower level.
            _ => b
                .health
                .cmp(&a.health)
                .then(b.unhealthy.cmp(&a.unhealthy))
                .then(b.alerts.cmp(&a.alerts))
                .then(score(a).cmp(&score(b))),
        };
        let order = order.then_with(|| name(a).cmp(&name(b)));
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    if descending {
        format!("-{key}")
    } else {
        key.to_string()
    }
}

fn score(t: &TeamRow) -> usize {
    t.level.as_ref().map_or(1000, TeamLevel::score)
}

/// Whether the caller starred an entity (the entity page's star button).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StarState {
    /// A signed-in user (only they have stars).
    pub signed_in: bool,
    pub starred: bool,
}

/// Where the star button posts (`entity` = the reference, `star` = `1` or `0`, `back` = the
/// page to return to).
pub const STAR_PATH: &str = "/stars";

#[cfg(test)]
mod tests {
    use super::*;

    fn team(name: &str, owned: usize, health: Health, level: Option<(usize, usize)>) -> TeamRow {
        TeamRow {
            team: EntitySummary {
                entity_ref: EntityRef::new("Group", "default", name),
                title: None,
                description: None,
                spec_type: None,
                lifecycle: None,
                owner: None,
                system: None,
                tags: vec![],
                error_count: 0,
            },
            owned,
            health,
            unhealthy: usize::from(health >= Health::Degraded),
            alerts: None,
            level: level.map(|(at_top, results)| TeamLevel {
                scorecard: "Maturity".into(),
                lowest: None,
                at_top,
                results,
            }),
        }
    }

    fn names(teams: &[TeamRow]) -> Vec<&str> {
        teams
            .iter()
            .map(|t| t.team.entity_ref.name.as_str())
            .collect()
    }

    #[test]
    fn teams_sort_worst_first_by_default_and_by_each_key() {
        let mut teams = vec![
            team("a", 5, Health::Healthy, Some((5, 5))),
            team("b", 2, Health::Down, Some((2, 2))),
            team("c", 9, Health::Healthy, Some((1, 9))),
            team("d", 1, Health::Degraded, None),
        ];
        assert_eq!(sort_teams(&mut teams, ""), "health");
        assert_eq!(names(&teams), ["b", "d", "c", "a"]);
        assert_eq!(sort_teams(&mut teams, "name"), "name");
        assert_eq!(names(&teams), ["a", "b", "c", "d"]);
        assert_eq!(sort_teams(&mut teams, "-name"), "-name");
        assert_eq!(names(&teams), ["d", "c", "b", "a"]);
        assert_eq!(sort_teams(&mut teams, "owned"), "owned");
        assert_eq!(names(&teams), ["c", "a", "b", "d"]);
        // The lowest share at the top level first; no scorecard counts as all passing.
        assert_eq!(sort_teams(&mut teams, "level"), "level");
        assert_eq!(names(&teams), ["c", "a", "b", "d"]);
        assert_eq!(sort_teams(&mut teams, "bogus"), "health");
    }

    #[test]
    fn teams_sort_by_firing_alerts() {
        let mut teams = vec![
            team("a", 1, Health::Healthy, None),
            team("b", 1, Health::Healthy, None),
            team("c", 1, Health::Healthy, None),
        ];
        teams[0].alerts = Some(0);
        teams[1].alerts = Some(3);
        teams[2].alerts = Some(1);
        assert_eq!(sort_teams(&mut teams, "alerts"), "alerts");
        assert_eq!(names(&teams), ["b", "c", "a"]);
        assert_eq!(sort_teams(&mut teams, "-alerts"), "-alerts");
        assert_eq!(names(&teams), ["a", "c", "b"]);
        // Worst first: equally healthy, the team with more firing alerts comes first.
        assert_eq!(sort_teams(&mut teams, "health"), "health");
        assert_eq!(names(&teams), ["b", "c", "a"]);
    }
}
