//! Link templates checked and ready ([`LinkTemplates`]), and what they make for one entity: its
//! values ([`EntityValues`]), its conditions, and one set of links per place it runs.

use super::config::{LinkConfig, Scope};
use super::template::{NotShown, Template, Values, Var};
use super::ObservabilityError;
use crate::k8s::service::Placement;
use app::observability::{EnvironmentLinks, LinkType, ObservabilityLink};
use serde_json::Value;
use std::collections::BTreeMap;

/// One template, checked.
#[derive(Debug, Clone)]
struct LinkTemplate {
    /// Its place in `observability.links` (for logs).
    index: usize,
    title: String,
    link_type: LinkType,
    icon: String,
    scope: Scope,
    kinds: Vec<String>,
    types: Vec<String>,
    annotations: Vec<String>,
    url: Template,
}

/// Every configured link template, checked.
#[derive(Debug, Clone, Default)]
pub struct LinkTemplates {
    links: Vec<LinkTemplate>,
}

fn link_error(
    index: usize,
    c: &LinkConfig,
    field: &'static str,
    message: impl Into<String>,
) -> ObservabilityError {
    ObservabilityError::Link {
        index,
        title: c.title.clone(),
        field,
        message: message.into(),
    }
}

impl LinkTemplates {
    /// Checks every template: a title, a URL that parses with known variables and starts with
    /// `http://` or `https://` (when it starts with text), `cluster.*` only in links with
    /// `scope: environment`, no empty condition values. The first problem is the error, naming
    /// the link by index and title.
    pub fn compile(configs: &[LinkConfig]) -> Result<LinkTemplates, ObservabilityError> {
        let mut links = Vec::with_capacity(configs.len());
        for (index, c) in configs.iter().enumerate() {
            if c.title.trim().is_empty() {
                return Err(link_error(index, c, "title", "must not be empty"));
            }
            let url =
                Template::parse(&c.url).map_err(|e| link_error(index, c, "url", e.to_string()))?;
            let prefix = url.literal_prefix();
            if !prefix.is_empty() && !super::template::is_http(prefix) {
                return Err(link_error(
                    index,
                    c,
                    "url",
                    "must start with http:// or https://",
                ));
            }
            if c.scope == Scope::Entity {
                if let Some(v) = url.variables().find(|v| matches!(v, Var::Cluster(_))) {
                    return Err(link_error(
                        index,
                        c,
                        "url",
                        format!(
                            "{} is known only in links with scope: environment",
                            v.display()
                        ),
                    ));
                }
            }
            let cond = &c.condition;
            for (field, values) in [
                ("if.kind", &cond.kind),
                ("if.type", &cond.spec_type),
                ("if.annotation", &cond.annotation),
            ] {
                if values.0.iter().any(|v| v.trim().is_empty()) {
                    return Err(link_error(index, c, field, "must not be empty"));
                }
            }
            let lower = |v: &[String]| v.iter().map(|s| s.to_ascii_lowercase()).collect();
            links.push(LinkTemplate {
                index,
                title: c.title.clone(),
                link_type: c.link_type,
                icon: c
                    .icon
                    .clone()
                    .filter(|i| !i.trim().is_empty())
                    .unwrap_or_else(|| icon_of(c.link_type).to_string()),
                scope: c.scope,
                kinds: lower(&cond.kind.0),
                types: lower(&cond.spec_type.0),
                annotations: cond.annotation.0.clone(),
                url,
            });
        }
        Ok(LinkTemplates { links })
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Whether any template is made per environment (else clusters need not be looked at).
    pub fn has_environment_links(&self) -> bool {
        self.links.iter().any(|l| l.scope == Scope::Environment)
    }

    /// The entity's own links (`scope: entity`), in the configuration's order.
    pub fn entity_links(&self, entity: &EntityValues) -> Vec<ObservabilityLink> {
        self.make(entity, Scope::Entity, entity)
    }

    /// The links of each place the entity runs; places without any are left out.
    pub fn environment_links(
        &self,
        entity: &EntityValues,
        placements: &[Placement],
    ) -> Vec<EnvironmentLinks> {
        if !self.has_environment_links() {
            return Vec::new();
        }
        placements
            .iter()
            .filter_map(|place| {
                let links = self.make(entity, Scope::Environment, &InPlace { entity, place });
                (!links.is_empty()).then(|| EnvironmentLinks {
                    cluster: place.cluster.clone(),
                    environment: place.environment.clone(),
                    namespace: place.namespace.clone(),
                    selector: place.selector.clone(),
                    links,
                })
            })
            .collect()
    }

    fn make(
        &self,
        entity: &EntityValues,
        scope: Scope,
        values: &dyn Values,
    ) -> Vec<ObservabilityLink> {
        self.links
            .iter()
            .filter(|l| l.scope == scope && l.applies_to(entity))
            .filter_map(|l| l.make(entity, values))
            .collect()
    }

    /// The entity's first own link (`scope: entity`) of this type, if a template makes one:
    /// what a scorecard's `onCallLink` and `dashboardLink` ask. Links per environment are not
    /// looked at (they depend on where the workloads run, not on the entity).
    pub fn entity_link_of_type(
        &self,
        entity: &EntityValues,
        link_type: LinkType,
    ) -> Option<ObservabilityLink> {
        self.links
            .iter()
            .filter(|l| {
                l.link_type == link_type && l.scope == Scope::Entity && l.applies_to(entity)
            })
            .find_map(|l| l.make(entity, entity))
    }
}

/// The type a catalog link (one of `metadata.links`) stands for: its `type`, else its `icon`,
/// read as a template's `type` is (`dashboard`, `oncall` or `on-call`, any case, …); `None`
/// when neither names one (`other` included).
pub fn catalog_link_type(link: &Value) -> Option<LinkType> {
    ["type", "icon"].iter().find_map(|field| {
        let text = link[*field].as_str()?.trim().to_ascii_lowercase();
        serde_json::from_value::<LinkType>(Value::String(text))
            .ok()
            .filter(|t| *t != LinkType::Other)
    })
}

impl LinkTemplate {
    /// The link for these values, or `None` (logged at trace level) when it cannot be made.
    fn make(&self, entity: &EntityValues, values: &dyn Values) -> Option<ObservabilityLink> {
        match self.url.render(values) {
            Ok(url) => Some(ObservabilityLink {
                title: self.title.clone(),
                url,
                link_type: self.link_type,
                icon: self.icon.clone(),
            }),
            Err(why) => {
                let reason = match why {
                    NotShown::Missing(var) => format!("{var} has no value"),
                    NotShown::NotHttp => "not an http(s) URL".to_string(),
                };
                tracing::trace!(link.index = self.index, link.title = %self.title, entity = %entity.reference, %reason, "observability link not shown");
                None
            }
        }
    }

    fn applies_to(&self, e: &EntityValues) -> bool {
        let any_of = |wanted: &[String], value: Option<&str>| {
            wanted.is_empty()
                || value.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
        };
        any_of(&self.kinds, Some(&e.kind))
            && any_of(&self.types, e.spec_type.as_deref())
            && self
                .annotations
                .iter()
                .all(|a| e.annotations.get(a).is_some_and(|v| !v.is_empty()))
    }
}

/// The icon of a type when the template names none.
fn icon_of(t: LinkType) -> &'static str {
    match t {
        LinkType::Dashboard => "dashboard",
        LinkType::Metrics => "metrics",
        LinkType::Logs => "logs",
        LinkType::Traces => "traces",
        LinkType::Oncall => "oncall",
        LinkType::Ci => "ci",
        LinkType::Deploy => "deploy",
        LinkType::Other => "link",
    }
}

/// What templates read of an entity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityValues {
    pub name: String,
    pub namespace: String,
    /// As written (`Component`).
    pub kind: String,
    pub spec_type: Option<String>,
    /// The name `spec.system` refers to.
    pub system: Option<String>,
    /// The name `spec.owner` refers to.
    pub owner: Option<String>,
    pub lifecycle: Option<String>,
    pub title: Option<String>,
    /// `component:default/web`.
    pub reference: String,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// The name part of a reference as written: `group:default/team-a`, `default/team-a` and
/// `team-a` all name `team-a`.
fn ref_name(r: &str) -> &str {
    let r = r.split_once(':').map_or(r, |(_, rest)| rest);
    r.rsplit_once('/').map_or(r, |(_, name)| name)
}

impl EntityValues {
    /// From an entity as the catalog holds it.
    pub fn of(entity: &Value) -> EntityValues {
        let meta = &entity["metadata"];
        let spec = &entity["spec"];
        let text = |v: &Value| v.as_str().map(str::to_string);
        let map = |v: &Value| -> BTreeMap<String, String> {
            v.as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let name = text(&meta["name"]).unwrap_or_default();
        let namespace = text(&meta["namespace"]).unwrap_or_else(|| "default".to_string());
        let kind = text(&entity["kind"]).unwrap_or_default();
        EntityValues {
            reference: format!("{}:{namespace}/{name}", kind.to_ascii_lowercase()),
            spec_type: text(&spec["type"]),
            system: spec["system"].as_str().map(|s| ref_name(s).to_string()),
            owner: spec["owner"].as_str().map(|s| ref_name(s).to_string()),
            lifecycle: text(&spec["lifecycle"]),
            title: text(&meta["title"]),
            annotations: map(&meta["annotations"]),
            labels: map(&meta["labels"]),
            name,
            namespace,
            kind,
        }
    }
}

impl Values for EntityValues {
    fn get(&self, var: &Var) -> Option<&str> {
        use super::template::EntityField as F;
        match var {
            Var::Entity(f) => match f {
                F::Name => Some(&self.name),
                F::Namespace => Some(&self.namespace),
                F::Kind => Some(&self.kind),
                F::Type => self.spec_type.as_deref(),
                F::System => self.system.as_deref(),
                F::Owner => self.owner.as_deref(),
                F::Lifecycle => self.lifecycle.as_deref(),
                F::Title => self.title.as_deref(),
                F::Ref => Some(&self.reference),
            },
            Var::Annotation(k) => self.annotations.get(k).map(String::as_str),
            Var::Label(k) => self.labels.get(k).map(String::as_str),
            Var::Cluster(_) => None,
        }
    }
}

/// An entity in one of the places it runs.
pub(crate) struct InPlace<'a> {
    pub(crate) entity: &'a EntityValues,
    pub(crate) place: &'a Placement,
}

impl Values for InPlace<'_> {
    fn get(&self, var: &Var) -> Option<&str> {
        use super::template::ClusterField as F;
        match var {
            Var::Cluster(f) => Some(match f {
                F::Name => &self.place.cluster,
                F::Environment => &self.place.environment,
                F::Namespace => &self.place.namespace,
                F::Selector => &self.place.selector,
            }),
            _ => self.entity.get(var),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn templates(yaml: &str) -> Result<LinkTemplates, ObservabilityError> {
        let settings: super::super::config::ObservabilitySettings =
            yaml_serde::from_str(yaml).expect("yaml");
        LinkTemplates::compile(&settings.links.unwrap_or_default())
    }

    fn cart() -> EntityValues {
        EntityValues::of(&json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "cart-service",
                "namespace": "shop",
                "title": "Cart Service",
                "labels": {"tier": "1"},
                "annotations": {
                    "pagerduty.com/service-id": "PX 1/2",
                    "github.com/project-slug": "northwind/cart-service",
                    "empty": ""
                }
            },
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:shop/team-checkout", "system": "checkout"}
        }))
    }

    fn urls(links: &[ObservabilityLink]) -> Vec<&str> {
        links.iter().map(|l| l.url.as_str()).collect()
    }

    #[test]
    fn an_entity_s_values_fill_the_templates() {
        let t = templates(
            r#"links:
  - title: Everything
    url: "https://x/{{entity.name}}/{{entity.namespace}}/{{entity.kind}}/{{entity.type}}/{{entity.system}}/{{entity.owner}}/{{entity.lifecycle}}/{{entity.title}}/{{entity.ref}}/{{entity.labels['tier']}}"
"#,
        )
        .unwrap();
        let links = t.entity_links(&cart());
        assert_eq!(
            urls(&links),
            ["https://x/cart-service/shop/Component/service/checkout/team-checkout/production/Cart%20Service/component%3Ashop%2Fcart-service/1"]
        );
        assert_eq!(links[0].title, "Everything");
        assert_eq!(links[0].link_type, LinkType::Other);
        assert_eq!(links[0].icon, "link");
    }

    #[test]
    fn conditions_and_missing_values_decide_which_links_an_entity_gets() {
        let t = templates(
            r#"links:
  - title: PagerDuty
    type: oncall
    url: https://acme.pagerduty.com/service-directory/{{ entity.annotations["pagerduty.com/service-id"] }}
  - title: Services only
    if: {kind: [COMPONENT, resource], type: service}
    url: https://x/service/{{ entity.name }}
  - title: Websites only
    if: {type: [website]}
    url: https://x/site/{{ entity.name }}
  - title: Groups only
    if: {kind: group}
    url: https://x/group/{{ entity.name }}
  - title: With a slug
    if: {annotation: github.com/project-slug}
    icon: github
    type: ci
    url: https://github.com/{{ entity.annotations["github.com/project-slug"] | path }}/actions
  - title: With both
    if: {annotation: [github.com/project-slug, jenkins.io/job-full-name]}
    url: https://x/both/{{ entity.name }}
  - title: Empty annotation
    if: {annotation: empty}
    url: https://x/empty/{{ entity.name }}
  - title: No system
    url: https://x/system/{{ entity.system }}
"#,
        )
        .unwrap();
        let links = t.entity_links(&cart());
        assert_eq!(
            urls(&links),
            [
                "https://acme.pagerduty.com/service-directory/PX%201%2F2",
                "https://x/service/cart-service",
                "https://github.com/northwind/cart-service/actions",
                "https://x/system/checkout",
            ]
        );
        assert_eq!(links[0].link_type, LinkType::Oncall);
        assert_eq!(links[0].icon, "oncall");
        assert_eq!(links[2].icon, "github");

        // Without the annotation (and with no system) the links that need them are absent.
        let mut bare = cart();
        bare.annotations.clear();
        bare.system = None;
        assert_eq!(
            urls(&t.entity_links(&bare)),
            ["https://x/service/cart-service"]
        );
        // A website without a type condition match, a group.
        let site = EntityValues {
            spec_type: Some("Website".into()),
            ..bare.clone()
        };
        assert_eq!(
            urls(&t.entity_links(&site)),
            ["https://x/site/cart-service"]
        );
        let group = EntityValues {
            kind: "Group".into(),
            spec_type: Some("team".into()),
            ..bare
        };
        assert_eq!(
            urls(&t.entity_links(&group)),
            ["https://x/group/cart-service"]
        );
    }

    #[test]
    fn environment_links_are_made_per_place_the_entity_runs() {
        let t = templates(
            r#"links:
  - title: Logs
    type: logs
    scope: environment
    url: https://logs-{{ cluster.environment }}.example.com/?q={{ cluster.selector }}&ns={{ cluster.namespace }}&c={{ cluster.name }}&e={{ entity.name }}
  - title: Entity only
    url: https://x/{{ entity.name }}
  - title: Tagged places
    scope: environment
    url: https://x/{{ entity.annotations["nope"] }}/{{ cluster.name }}
"#,
        )
        .unwrap();
        assert!(t.has_environment_links());
        let places = [
            Placement {
                cluster: "prod-eu".into(),
                environment: "production".into(),
                namespace: "shop".into(),
                selector: "backstage.io/kubernetes-id=cart-service".into(),
            },
            Placement {
                cluster: "stage".into(),
                environment: "staging".into(),
                namespace: "shop-stage".into(),
                selector: "app in (cart)".into(),
            },
        ];
        let envs = t.environment_links(&cart(), &places);
        assert_eq!(envs.len(), 2);
        assert_eq!(
            (envs[0].cluster.as_str(), envs[0].environment.as_str()),
            ("prod-eu", "production")
        );
        assert_eq!(
            urls(&envs[0].links),
            ["https://logs-production.example.com/?q=backstage.io%2Fkubernetes-id%3Dcart-service&ns=shop&c=prod-eu&e=cart-service"]
        );
        assert_eq!(
            urls(&envs[1].links),
            ["https://logs-staging.example.com/?q=app%20in%20%28cart%29&ns=shop-stage&c=stage&e=cart-service"]
        );
        // Entity links do not repeat per place, environment links are not among the entity's.
        assert_eq!(urls(&t.entity_links(&cart())), ["https://x/cart-service"]);
        // Nowhere running: no environment links.
        assert!(t.environment_links(&cart(), &[]).is_empty());
    }

    #[test]
    fn config_errors_name_the_link_and_the_variable() {
        let err = templates(
            "links:\n  - title: Fine\n    url: https://x/{{ entity.name }}\n  - title: Grafana\n    url: https://g/{{ entity.annotation['grafana/dashboard-selector'] }}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("observability.links[1] (\"Grafana\"): url: unknown variable entity.annotation[\"grafana/dashboard-selector\"] at column 14"),
            "{err}"
        );
        let err = templates("links:\n  - title: Logs\n    url: https://l/{{ cluster.name }}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "observability.links[0] (\"Logs\"): url: cluster.name is known only in links with scope: environment"
        );
        let err =
            templates("links:\n  - title: Bad\n    url: https://l/{{ entity.name | upper }}\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("[0] (\"Bad\"): url: unknown filter upper"),
            "{err}"
        );
        let err = templates("links:\n  - title: Open\n    url: https://l/{{ entity.name\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not closed"), "{err}");
        let err =
            templates("links:\n  - title: Js\n    url: javascript:alert({{ entity.name }})\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("must start with http:// or https://"), "{err}");
        let err = templates("links:\n  - title: ' '\n    url: https://x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("title: must not be empty"), "{err}");
        let err = templates("links:\n  - title: C\n    if: {annotation: ''}\n    url: https://x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("if.annotation: must not be empty"), "{err}");
    }
}
