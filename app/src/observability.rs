//! Observability links: the links the configuration's templates (`observability.links`) make
//! for an entity and for each cluster and environment its workloads run in. Plain data built by
//! the server (`server/src/observability/`), shown on the entity page beside `metadata.links`, on
//! the Kubernetes tab per cluster and on team pages, and served as JSON by
//! `GET /api/observability/entities/{namespace}/{kind}/{name}`.

use crate::model::EntityRef;
use serde::{Deserialize, Serialize};

/// What a link leads to. It groups the links on pages; `oncall` links of a team's services are
/// listed on the team's page.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LinkType {
    Dashboard,
    Metrics,
    Logs,
    Traces,
    #[serde(alias = "on-call")]
    Oncall,
    Ci,
    Deploy,
    #[default]
    Other,
}

impl LinkType {
    /// How pages name it.
    pub fn label(self) -> &'static str {
        match self {
            LinkType::Dashboard => "dashboard",
            LinkType::Metrics => "metrics",
            LinkType::Logs => "logs",
            LinkType::Traces => "traces",
            LinkType::Oncall => "on-call",
            LinkType::Ci => "CI",
            LinkType::Deploy => "deploy",
            LinkType::Other => "link",
        }
    }
}

/// One link made from a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservabilityLink {
    pub title: String,
    /// Always `http://` or `https://`.
    pub url: String,
    #[serde(rename = "type")]
    pub link_type: LinkType,
    /// The template's `icon`, else the type's name.
    pub icon: String,
}

/// The links of one place the entity's workloads run: a cluster (its environment) and a
/// namespace there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentLinks {
    pub cluster: String,
    pub environment: String,
    pub namespace: String,
    /// How the workloads were matched, as a label selector (`backstage.io/kubernetes-id=web`).
    pub selector: String,
    pub links: Vec<ObservabilityLink>,
}

/// An entity's links: its own (`scope: entity`) and per environment (`scope: environment`;
/// only places with at least one link are listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityLinks {
    pub entity: EntityRef,
    pub links: Vec<ObservabilityLink>,
    pub environments: Vec<EnvironmentLinks>,
}

impl EntityLinks {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty() && self.environments.is_empty()
    }
}

/// One entity a team owns, with its on-call links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCallLinks {
    pub entity: EntityRef,
    pub title: Option<String>,
    pub links: Vec<ObservabilityLink>,
}

/// A team page's links: the group's own, and the on-call links of what it owns (by name; only
/// entities with at least one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLinks {
    pub links: Vec<ObservabilityLink>,
    pub on_call: Vec<OnCallLinks>,
}

impl TeamLinks {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty() && self.on_call.is_empty()
    }
}
