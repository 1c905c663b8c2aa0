//! Scorecards: checks over catalog facts, grouped in levels, declared in the config's
//! `scorecards:` list or as catalog entities of kind `Scorecard` (`backlot.io/v1alpha1`, the
//! scorecard in `spec`, its name from `metadata.name`), evaluated against the catalog's
//! in-memory snapshot.
//!
//! - [`definition`]: a scorecard as written and checked (filter, levels, checks)
//! - [`rules`]: the rules (owner, description, lifecycle, system, tags, links, annotations,
//!   relations; files, the last commit's age; TechDocs and its pages; on-call and dashboard
//!   links; the cluster rules; `all`/`any`/`not`) and their evaluation over one entity
//! - [`service`]: the results per snapshot, evaluated when the catalog publishes it and carried
//!   over for entities that did not change, and what a caller is shown (`GET
//!   /api/scorecards…`, the entity page, the team page)
//! - [`cluster`]: the cluster rules (runs in an environment, replicas, probes, limits, no
//!   crash loops) over what the Kubernetes watchers know of an entity's workloads
//! - [`repo`]: facts from an entity's repository (files present, a line matching, the commit's
//!   time, its TechDocs' pages), read through the catalog's `EntityFiles` seam
//! - [`levels`]: the levels as the catalog table and `GET /api/scorecards/{name}/entities`
//!   read them, from the stored results only
//! - [`history`]: the teams' daily counts per level (stored when they change) and their 30-day
//!   trend

pub mod cluster;
pub mod definition;
pub mod history;
pub mod levels;
pub mod repo;
pub mod rules;
pub mod service;

pub use definition::{Scorecard, ScorecardConfig};
pub use service::ScorecardService;

/// A scorecard that cannot be used as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScorecardError {
    #[error("scorecard {scorecard:?}{}: {field}: {message}", check.as_ref().map(|c| format!(", check {c:?}")).unwrap_or_default())]
    Invalid {
        scorecard: String,
        /// The check's id, when the problem is in one.
        check: Option<String>,
        field: String,
        message: String,
    },
    /// Two scorecards with one name.
    #[error("scorecard {0:?} is declared twice")]
    Duplicate(String),
    /// The demo's own scorecard (a bug in this build).
    #[error("the demo's scorecards: {0}")]
    Demo(String),
}

/// The demo organisation's scorecards (no `scorecards:` configured and the demo loaded).
pub const DEMO: &str = include_str!("demo.yaml");

/// Checks the configured scorecards (or, with the demo and none configured, the demo's).
pub fn compile_config(
    configured: Option<&[ScorecardConfig]>,
    demo: bool,
) -> Result<Vec<Scorecard>, ScorecardError> {
    let demo_cards;
    let cards = match configured {
        Some(c) => c,
        None if demo => {
            demo_cards = yaml_serde::from_str::<Vec<ScorecardConfig>>(DEMO)
                .map_err(|e| ScorecardError::Demo(e.to_string()))?;
            &demo_cards
        }
        None => &[],
    };
    let mut out: Vec<Scorecard> = Vec::with_capacity(cards.len());
    for c in cards {
        let card = c.compile("config")?;
        if out.iter().any(|o| o.name == card.name) {
            return Err(ScorecardError::Duplicate(card.name));
        }
        out.push(card);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod api_tests;

#[cfg(test)]
mod levels_tests;

#[cfg(test)]
mod cluster_tests;

#[cfg(test)]
mod repo_tests;
