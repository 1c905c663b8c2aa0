//! Git's work that is not reading: routing a webhook's push to the locations it concerns, and
//! running discovery on its schedule. Both go through the catalog's doors (refresh a location,
//! make an origin's set of locations exactly this).

use super::source::{is_git, spec_of, GitSource};
use super::webhook::PushEvent;
use crate::catalog::source::{LocationType, NewLocation, Origin};
use crate::catalog::CatalogService;
use std::sync::Arc;
use std::time::Duration;

impl GitSource {
    /// A push reported by a webhook: refreshes, in the background, every Git location of the
    /// pushed repository that reads the pushed branch (or the default branch, which the push
    /// may have been to). Returns their ids.
    pub fn on_push(&self, catalog: &Arc<CatalogService>, push: &PushEvent) -> Vec<String> {
        let snap = catalog.snapshot();
        let ids: Vec<String> = snap
            .locations
            .iter()
            .filter(|l| is_git(l))
            .filter_map(|l| {
                let spec = spec_of(l).ok()?;
                let wanted = self.mirrors().branch_of(&spec);
                let branch_matches = match (wanted, &push.branch) {
                    (Some(wanted), Some(pushed)) => &wanted == pushed,
                    // Default branch not known yet: the push may have been to it.
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                (branch_matches && push.matches_repo(&spec.url)).then(|| l.id.clone())
            })
            .collect();
        for id in &ids {
            let (catalog, id) = (catalog.clone(), id.clone());
            tokio::spawn(async move {
                // Failures are recorded on the location (and logged) by the catalog.
                let _ = catalog.refresh_pushed(&id).await;
            });
        }
        ids
    }

    /// Runs every configured discovery once: the repositories each finds become its Git
    /// locations (origin `discovery:<name>`); ones it no longer finds are removed. A discovery
    /// that fails changes nothing and is logged.
    pub async fn discover(&self, catalog: &CatalogService) {
        for cfg in &self.settings().discovery {
            let run = cfg.clone();
            let found = tokio::task::spawn_blocking(move || super::discovery::discover(&run)).await;
            let repos = match found {
                Ok(Ok(repos)) => repos,
                Ok(Err(e)) => {
                    tracing::warn!(discovery = %cfg.name, error = %e, "discovery failed; its locations stay as they were");
                    continue;
                }
                Err(e) => {
                    tracing::error!(discovery = %cfg.name, error = %e, "discovery panicked");
                    continue;
                }
            };
            let mut wanted = Vec::new();
            for repo in &repos {
                match cfg.spec_for(repo) {
                    Ok(spec) => wanted.push(NewLocation {
                        location_type: LocationType::Git,
                        target: spec.url,
                        branch: spec.branch,
                        path: cfg.path.clone(),
                    }),
                    Err(e) => {
                        tracing::warn!(discovery = %cfg.name, repository = %repo.name, error = %e, "repository skipped")
                    }
                }
            }
            let origin = Origin::Discovery(cfg.name.clone());
            match catalog.sync_locations(&origin, &wanted).await {
                Ok(ids) => {
                    tracing::info!(discovery = %cfg.name, repositories = ids.len(), "discovery done")
                }
                Err(e) => {
                    tracing::warn!(discovery = %cfg.name, error = %e, "could not register discovered repositories")
                }
            }
        }
    }

    /// Discovery again every `git.discovery_interval_secs` (nothing when none is configured).
    pub fn spawn_discovery_loop(self: &Arc<Self>, catalog: Arc<CatalogService>) {
        if self.settings().discovery.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(this.settings().discovery_interval_secs.max(10));
            loop {
                tokio::time::sleep(every).await;
                this.discover(&catalog).await;
            }
        });
    }
}
