//! The `observability:` section of the config: link templates (and `prometheus:`, see
//! [`super::prometheus::config`]).
//!
//! ```yaml
//! observability:
//!   links:
//!     - title: On-call (PagerDuty)
//!       type: oncall                  # dashboard | metrics | logs | traces | oncall | ci | deploy | other
//!       icon: alarm                   # optional; default: the type
//!       url: https://acme.pagerduty.com/service-directory/{{ entity.annotations["pagerduty.com/service-id"] }}
//!       if:                           # optional; every key given must hold
//!         kind: [component]           # any of (any case)
//!         type: [service, website]    # any of spec.type (any case)
//!         annotation: pagerduty.com/service-id   # every one present
//!       scope: entity                 # or environment: once per cluster and namespace it runs in
//! ```
//!
//! The section absent: no links, or the demo's when the demo organisation is loaded;
//! `links: []` turns them off with the demo too. Every template is checked when the config is
//! read ([`super::links::LinkTemplates::compile`]).

use app::observability::LinkType;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ObservabilitySettings {
    /// Link templates, in the order pages list them.
    pub links: Option<Vec<LinkConfig>>,
    /// Golden signals and alerts from Prometheus (absent: none).
    pub prometheus: super::prometheus::config::PrometheusSettings,
}

/// One link template.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    pub title: String,
    /// The URL template (see [`super::template`]).
    pub url: String,
    #[serde(default, rename = "type")]
    pub link_type: LinkType,
    #[serde(default)]
    pub icon: Option<String>,
    /// Which entities get the link (absent: every entity whose values the URL finds).
    #[serde(default, rename = "if")]
    pub condition: Condition,
    #[serde(default)]
    pub scope: Scope,
}

/// Whether a link is made once for the entity or once per place its workloads run.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Entity,
    /// Once per cluster (and namespace) where the entity's workloads run; the template may read
    /// `cluster.*`.
    Environment,
}

/// A link's condition: every key given must hold.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Condition {
    /// The entity's kind is one of these (any case).
    pub kind: OneOrMany,
    /// Its `spec.type` is one of these (any case).
    #[serde(rename = "type")]
    pub spec_type: OneOrMany,
    /// Every one of these annotations is present with a value.
    pub annotation: OneOrMany,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a string or a list of strings")]
        enum Either {
            One(String),
            Many(Vec<String>),
        }
        Ok(OneOrMany(match Either::deserialize(d)? {
            Either::One(s) => vec![s],
            Either::Many(v) => v,
        }))
    }
}

/// The demo organisation's link templates (`observability.links` absent and the demo loaded).
pub const DEMO: &str = include_str!("demo.yaml");

/// [`DEMO`] read.
pub fn demo_links() -> Result<Vec<LinkConfig>, String> {
    yaml_serde::from_str::<ObservabilitySettings>(DEMO)
        .map(|s| s.links.unwrap_or_default())
        .map_err(|e| format!("the demo's observability links: {e}"))
}
