//! Observability links from configuration: `observability.links` templates filled from each
//! entity (and from each cluster and environment its workloads run in), shown on the entity
//! page, the Kubernetes tab and team pages, and served by
//! `GET /api/observability/entities/{namespace}/{kind}/{name}`.
//!
//! - [`config`]: the section as written, and the demo's templates
//! - [`template`]: the URL template language (`{{ entity.annotations["key"] | path }}`)
//! - [`links`]: templates checked at start-up, conditions, and the links of one entity
//! - [`views`]: what a caller is shown (the catalog's read permission; per-environment links
//!   also need the entity's Kubernetes resources to be readable)
//! - [`prometheus`]: golden signals and firing alerts from Prometheus
//!   (`observability.prometheus`), with the same templates in their PromQL dialect

pub mod config;
pub mod links;
pub mod prometheus;
pub mod template;
pub mod views;

pub use config::ObservabilitySettings;
pub use links::LinkTemplates;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservabilityError {
    /// A link template that cannot be used as written.
    #[error("observability.links[{index}] ({title:?}): {field}: {message}")]
    Link {
        index: usize,
        title: String,
        field: &'static str,
        message: String,
    },
    /// A setting of `observability.prometheus` that cannot be used as written.
    #[error("{at}: {message}")]
    Prometheus { at: String, message: String },
    /// The demo's own templates (a bug in this build).
    #[error("{0}")]
    Demo(String),
}

impl ObservabilitySettings {
    /// The configured templates, checked.
    pub fn compile(&self) -> Result<LinkTemplates, ObservabilityError> {
        LinkTemplates::compile(self.links.as_deref().unwrap_or_default())
    }

    /// The templates in force: the configured ones, or with the demo organisation and no
    /// `links` configured, the demo's.
    pub fn in_force(&self, demo: bool) -> Result<LinkTemplates, ObservabilityError> {
        match &self.links {
            None if demo => {
                let links = config::demo_links().map_err(ObservabilityError::Demo)?;
                LinkTemplates::compile(&links)
            }
            _ => self.compile(),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod settings_tests {
    use super::*;
    use crate::config::Config;

    /// A bad template stops the config from loading, naming the link and the variable.
    #[test]
    fn the_config_checks_the_templates_when_it_is_read() {
        let err = Config::from_yaml(
            "observability:\n  links:\n    - title: Grafana\n      url: https://g/d?tag={{ entity.annotations['grafana/tag'] }}\n    - title: Logs\n      type: logs\n      url: https://l/{{ entity.nmae }}\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("observability.links[1] (\"Logs\"): url: unknown variable entity.nmae"),
            "{err}"
        );
        let err = Config::from_yaml(
            "observability:\n  links:\n    - title: X\n      type: graphs\n      url: https://x\n",
        )
        .unwrap_err();
        assert!(err.contains("graphs") && err.contains("dashboard"), "{err}");
        let c = Config::from_yaml(
            "observability:\n  links:\n    - title: X\n      if: {kind: component, annotation: [a, b]}\n      scope: environment\n      url: https://x/{{ cluster.name }}\n",
        )
        .expect("valid");
        assert_eq!(c.observability.compile().map(|t| t.len()), Ok(1));
    }

    /// The demo's templates: in force with the demo when none are configured; `links: []`
    /// turns them off; configured ones replace them.
    #[test]
    fn the_demo_links_apply_only_when_none_are_configured() {
        let none = ObservabilitySettings::default();
        let demo = none.in_force(true).expect("the demo's templates are valid");
        assert!(demo.len() >= 5 && demo.has_environment_links());
        assert!(none.in_force(false).expect("none").is_empty());
        let off = ObservabilitySettings {
            links: Some(Vec::new()),
            ..Default::default()
        };
        assert!(off.in_force(true).expect("none").is_empty());
        // What the demo's checkout-service gets from them (its annotations are in server/demo).
        let (_, text) = crate::demo::FILES
            .iter()
            .find(|(p, _)| *p == "components/checkout.yaml")
            .expect("demo file");
        let doc = text
            .split("\n---\n")
            .find(|d| d.contains("name: checkout-service"))
            .expect("checkout-service");
        let entity: serde_json::Value = yaml_serde::from_str(doc).expect("yaml");
        let links = demo.entity_links(&links::EntityValues::of(&entity));
        let shown: Vec<(&str, &str)> = links
            .iter()
            .map(|l| (l.title.as_str(), l.url.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "Grafana dashboards",
                    "https://grafana.example.com/dashboards?tag=checkout-service"
                ),
                (
                    "Traces (Jaeger)",
                    "https://jaeger.example.com/search?service=checkout-service&lookback=1h"
                ),
                (
                    "On-call (PagerDuty)",
                    "https://northwind.pagerduty.com/service-directory/PNW1A71"
                ),
                (
                    "CI (GitHub Actions)",
                    "https://github.com/northwind/checkout-service/actions"
                ),
            ]
        );
    }
}

/// The README's examples are templates the server takes.
#[cfg(test)]
#[test]
fn the_readme_examples_are_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("### Observability links")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("the README's observability section");
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 2, "{section}");
    let mut titles = Vec::new();
    for block in blocks {
        let config =
            crate::config::Config::from_yaml(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let links = config.observability.links.expect("links");
        titles.extend(links.iter().map(|l| l.title.clone()));
    }
    for tool in [
        "Grafana",
        "Prometheus",
        "Loki",
        "Kibana",
        "Jaeger",
        "Tempo",
        "PagerDuty",
        "Opsgenie",
        "Jenkins",
        "GitHub Actions",
        "Argo CD",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(tool)),
            "{tool}: {titles:?}"
        );
    }
}
