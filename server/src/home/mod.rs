//! The home page, the organisation view and what is kept per user.
//!
//! [`HomeViews`] implements the UI's `HomeReader` over the services the pages already use (the
//! catalog's facade, the clusters' health, the scorecards and the scaffolder's tasks, each
//! deciding what the caller may see) and the store's stars and recent visits. The star button's
//! form post is [`stars::router`].

pub mod stars;

use crate::catalog::facade::{Facade, Visible};
use crate::catalog::snapshot::Record;
use crate::catalog::views::summary;
use crate::storage::{PersonalRow, Store};
use crate::util::{format_rfc3339, now_ms};
use app::error::AppError;
use app::home::{
    sort_teams, ChangedEntity, GuestHome, HomeView, OrgView, PersonalEntry, StarState, TeamLevel,
    TeamRow, UserHome, GUEST_TEAMS,
};
use app::kube::Health;
use app::model::{Caller, CatalogQuery, EntityRef};
use app::services::{
    AlertCountReader, BoxFuture, CatalogReader, HomeReader, KubeReader, Scaffolder, ScorecardReader,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Recent visits kept per user.
pub const KEEP_VISITS: i64 = 20;
/// Shown on the home page.
const SHOWN_VISITS: i64 = 8;
const SHOWN_OWNED: usize = 12;
const SHOWN_TASKS: usize = 5;
const SHOWN_CHANGES: usize = 10;
/// A visit to the same entity by the same user is written at most this often.
const VISIT_GAP_MS: i64 = 60_000;
/// Visits remembered in memory to skip repeated writes; cleared when full.
const VISIT_MEMORY: usize = 10_000;

pub struct HomeViews {
    pub facade: Facade,
    pub store: Store,
    pub kube: Arc<dyn KubeReader>,
    pub scorecards: Arc<dyn ScorecardReader>,
    pub scaffolder: Arc<dyn Scaffolder>,
    /// Firing alerts per entity (the catalog table's map; no Prometheus: no counts).
    pub alerts: Arc<dyn AlertCountReader>,
    /// Sign-in is configured.
    pub sign_in: bool,
    /// (user, entity) → when its visit was last written.
    pub visits: Mutex<HashMap<(String, String), i64>>,
}

impl HomeViews {
    /// One team's row, with what the caller may see of it.
    fn team_row(&self, caller: &Caller, v: &Visible, group: &Record) -> TeamRow {
        let r = group.entity_ref();
        let owned = || group.related("ownerOf").filter_map(|rel| v.target(rel));
        // Firing alerts of what it owns that the caller sees, from the shared map (no query).
        let alerts = if self.alerts.enabled() {
            let refs: Vec<EntityRef> = owned().map(|(_, t)| t.entity_ref().clone()).collect();
            self.alerts.counts(&refs).map(|c| c.iter().sum())
        } else {
            None
        };
        let (health, unhealthy) = match self.kube.team(caller, &r.namespace, &r.name) {
            Some(k) => (
                k.health,
                k.entities
                    .iter()
                    .filter(|e| e.health >= Health::Degraded)
                    .count(),
            ),
            None => (Health::Unknown, 0),
        };
        let level = self
            .scorecards
            .team(caller, &r.namespace, &r.name)
            .and_then(|s| {
                // Worst first: the first result is the team's lowest.
                let worst = s.entities.first()?;
                Some(TeamLevel {
                    scorecard: worst.scorecard.clone(),
                    lowest: worst.level.clone(),
                    at_top: s.entities.iter().filter(|e| e.reached == e.levels).count(),
                    results: s.entities.len(),
                })
            });
        TeamRow {
            team: summary(group),
            owned: owned().count(),
            health,
            unhealthy,
            alerts,
            level,
        }
    }

    /// Every group the caller sees, as rows (unsorted).
    fn all_teams(&self, caller: &Caller, v: &Visible) -> Vec<TeamRow> {
        v.records()
            .filter(|(_, r)| r.entity_ref().kind.eq_ignore_ascii_case("group"))
            .map(|(_, g)| self.team_row(caller, v, g))
            .collect()
    }

    fn guest(&self, caller: &Caller) -> GuestHome {
        let v = self.facade.read(caller);
        let mut teams = self.all_teams(caller, &v);
        let teams_total = teams.len();
        sort_teams(&mut teams, "health");
        teams.truncate(GUEST_TEAMS);
        let mut changes: Vec<(&str, &Record)> = v
            .records()
            .map(|(_, r)| (r.stored.updated_at.as_str(), r))
            .collect();
        let entities = changes.len();
        let n = SHOWN_CHANGES.min(changes.len());
        // Latest first; ties by name, so the same catalog always shows the same list.
        let latest = |a: &(&str, &Record), b: &(&str, &Record)| {
            b.0.cmp(a.0)
                .then_with(|| a.1.entity_ref().name.cmp(&b.1.entity_ref().name))
        };
        if n > 0 {
            changes.select_nth_unstable_by(n - 1, latest);
            changes.truncate(n);
            changes.sort_by(latest);
        }
        GuestHome {
            sign_in: self.sign_in,
            teams,
            teams_total,
            clusters: self.kube.overview(caller).clusters,
            changes: changes
                .into_iter()
                .map(|(at, r)| ChangedEntity {
                    summary: summary(r),
                    changed_at: at.to_string(),
                })
                .collect(),
            entities,
        }
    }

    /// What the catalog shows now of each stored reference.
    fn entries(v: &Visible, rows: Vec<PersonalRow>) -> Vec<PersonalEntry> {
        rows.into_iter()
            .filter_map(|row| {
                let entity = EntityRef::from_ref_string(&row.entity_ref)?;
                let summary = v
                    .get(&entity.kind, &entity.namespace, &entity.name)
                    .map(summary);
                Some(PersonalEntry {
                    entity: summary.as_ref().map_or(entity, |s| s.entity_ref.clone()),
                    summary,
                    at: millis_rfc3339(row.at),
                })
            })
            .collect()
    }

    async fn user_home(
        self: Arc<Self>,
        caller: Caller,
        user: EntityRef,
    ) -> Result<UserHome, AppError> {
        let key = user.to_ref_string();
        let (starred, recent) = tokio::try_join!(
            self.store.stars_of(&key),
            self.store.recent_visits(&key, SHOWN_VISITS)
        )
        .map_err(|e| AppError::Internal(format!("reading your stars and visits: {e}")))?;
        let tasks = self.scaffolder.clone().tasks(caller.clone(), false).await;
        let v = self.facade.read(&caller);
        let record = v.get(&user.kind, &user.namespace, &user.name);
        let name = record
            .and_then(|r| display_name(&v.value(r)).or_else(|| r.title().map(str::to_string)))
            .unwrap_or_else(|| user.name.clone());
        let mut teams: Vec<TeamRow> = caller
            .groups
            .iter()
            .filter_map(|g| v.get(&g.kind, &g.namespace, &g.name))
            .map(|g| self.team_row(&caller, &v, g))
            .collect();
        sort_teams(&mut teams, "health");
        let owned = crate::catalog::views::Reader::new(self.facade.clone()).list(
            &caller,
            &CatalogQuery {
                owned: true,
                page_size: SHOWN_OWNED,
                ..Default::default()
            },
        );
        let (tasks, tasks_total, tasks_error) = match tasks {
            Ok(mut list) => {
                list.tasks.truncate(SHOWN_TASKS);
                (list.tasks, list.total, None)
            }
            Err(e) => (Vec::new(), 0, Some(e.to_string())),
        };
        Ok(UserHome {
            user,
            name,
            teams,
            owned: owned.items,
            owned_total: owned.total,
            starred: Self::entries(&v, starred),
            recent: Self::entries(&v, recent),
            tasks,
            tasks_total,
            tasks_error,
        })
    }

    /// Whether this visit should be written (not written in the last minute).
    fn visit_due(&self, user: &str, entity: &str, now: i64) -> bool {
        let Ok(mut seen) = self.visits.lock() else {
            return true;
        };
        let key = (user.to_string(), entity.to_string());
        if seen.get(&key).is_some_and(|&at| now - at < VISIT_GAP_MS) {
            return false;
        }
        if seen.len() >= VISIT_MEMORY {
            seen.clear();
        }
        seen.insert(key, now);
        true
    }
}

/// `spec.profile.displayName`.
fn display_name(body: &serde_json::Value) -> Option<String> {
    body.pointer("/spec/profile/displayName")
        .and_then(|n| n.as_str())
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string)
}

fn millis_rfc3339(ms: i64) -> String {
    format_rfc3339(ms.div_euclid(1000), ms.rem_euclid(1000) as u32)
}

impl HomeReader for HomeViews {
    fn home(self: Arc<Self>, caller: Caller) -> BoxFuture<Result<HomeView, AppError>> {
        Box::pin(async move {
            match caller.user.clone() {
                Some(user) if caller.is_session() => {
                    Ok(HomeView::User(self.user_home(caller, user).await?))
                }
                _ => Ok(HomeView::Guest(self.guest(&caller))),
            }
        })
    }

    fn organisation(&self, caller: &Caller, sort: &str) -> OrgView {
        let v = self.facade.read(caller);
        let mut teams = self.all_teams(caller, &v);
        let sort = sort_teams(&mut teams, sort);
        let mut unowned = Vec::new();
        let mut unknown_owner = Vec::new();
        for (_, r) in v.records() {
            let kind = r.entity_ref().kind.to_ascii_lowercase();
            if matches!(kind.as_str(), "user" | "group" | "location") {
                continue;
            }
            let mut owners = r.related("ownedBy").peekable();
            if owners.peek().is_none() {
                unowned.push(summary(r));
                continue;
            }
            // A target the caller may not see exists: only a missing one is reported.
            if let Some(missing) = owners.find(|rel| rel.target_index.is_none()) {
                unknown_owner.push((summary(r), missing.target_ref.to_string()));
            }
        }
        OrgView {
            teams,
            sort,
            unowned,
            unknown_owner,
        }
    }

    fn subteams(&self, caller: &Caller, namespace: &str, name: &str) -> Option<Vec<TeamRow>> {
        let v = self.facade.read(caller);
        let group = v.get("group", namespace, name)?;
        let mut rows: Vec<TeamRow> = group
            .related("parentOf")
            .filter_map(|rel| v.target(rel))
            .map(|(_, child)| self.team_row(caller, &v, child))
            .collect();
        sort_teams(&mut rows, "health");
        Some(rows)
    }

    fn visit(self: Arc<Self>, caller: Caller, entity: EntityRef) -> BoxFuture<StarState> {
        Box::pin(async move {
            let Some(user) = caller.user.as_ref().filter(|_| caller.is_session()) else {
                return StarState::default();
            };
            let entity = {
                let v = self.facade.read(&caller);
                match v.get(&entity.kind, &entity.namespace, &entity.name) {
                    Some(r) => r.entity_ref().to_ref_string(),
                    None => return StarState::default(),
                }
            };
            let user = user.to_ref_string();
            let now = now_ms();
            if self.visit_due(&user, &entity, now) {
                // The page does not wait for the write.
                let store = self.store.clone();
                let (u, e) = (user.clone(), entity.clone());
                tokio::spawn(async move {
                    if let Err(error) = store.record_visit(&u, &e, now, KEEP_VISITS).await {
                        tracing::warn!(%error, entity = %e, "a visit could not be recorded");
                    }
                });
            }
            let starred = match self.store.is_starred(&user, &entity).await {
                Ok(s) => s,
                Err(error) => {
                    tracing::warn!(%error, entity = %entity, "stars could not be read");
                    false
                }
            };
            StarState {
                signed_in: true,
                starred,
            }
        })
    }
}

#[cfg(test)]
mod tests;
