//! The links as a caller sees them: for entities the caller may read (`catalog.entity.read`,
//! through the catalog's facade, as every catalog read); the per-environment links only when
//! they may read the entity's Kubernetes resources too (they name clusters and namespaces). The
//! UI's [`ObservabilityReader`] and the REST handler both ask [`ObservabilityViews`].

use super::links::{EntityValues, LinkTemplates};
use crate::catalog::facade::Facade;
use crate::http::guarded::may_read_kubernetes;
use crate::k8s::KubeService;
use app::model::Caller;
use app::observability::{EntityLinks, LinkType, OnCallLinks, TeamLinks};
use app::services::ObservabilityReader;
use std::sync::Arc;

pub struct ObservabilityViews {
    pub links: Arc<LinkTemplates>,
    pub kube: Arc<KubeService>,
    pub facade: Facade,
}

impl ObservabilityViews {
    /// An entity's links; `None` when there is no such entity or the caller may not read it.
    pub fn entity_links(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityLinks> {
        let visible = self.facade.read(caller);
        let record = visible.get(kind, namespace, name)?;
        let entity = record.entity_ref().clone();
        if self.links.is_empty() {
            return Some(EntityLinks {
                entity,
                links: Vec::new(),
                environments: Vec::new(),
            });
        }
        let values = EntityValues::of(&record.stored.value());
        let environments = if self.links.has_environment_links()
            && may_read_kubernetes(&self.facade, caller, kind, namespace, name)
        {
            let placements = self.kube.placements(kind, namespace, name);
            self.links.environment_links(&values, &placements)
        } else {
            Vec::new()
        };
        Some(EntityLinks {
            entity,
            links: self.links.entity_links(&values),
            environments,
        })
    }

    /// A group's own links and the on-call links of what it owns (that the caller may read).
    pub fn team_links(&self, caller: &Caller, namespace: &str, name: &str) -> Option<TeamLinks> {
        let visible = self.facade.read(caller);
        let group = visible.get("group", namespace, name)?;
        if self.links.is_empty() {
            return Some(TeamLinks {
                links: Vec::new(),
                on_call: Vec::new(),
            });
        }
        let links = self
            .links
            .entity_links(&EntityValues::of(&group.stored.value()));
        let mut on_call: Vec<OnCallLinks> = group
            .related("ownerOf")
            .filter_map(|relation| visible.target(relation))
            .filter_map(|(_, owned)| {
                let links: Vec<_> = self
                    .links
                    .entity_links(&EntityValues::of(&owned.stored.value()))
                    .into_iter()
                    .filter(|l| l.link_type == LinkType::Oncall)
                    .collect();
                (!links.is_empty()).then(|| OnCallLinks {
                    entity: owned.entity_ref().clone(),
                    title: owned.title().map(str::to_string),
                    links,
                })
            })
            .collect();
        on_call.sort_by(|a, b| (&a.entity.name, &a.entity).cmp(&(&b.entity.name, &b.entity)));
        on_call.dedup_by(|a, b| a.entity == b.entity);
        Some(TeamLinks { links, on_call })
    }
}

impl ObservabilityReader for ObservabilityViews {
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityLinks> {
        self.entity_links(caller, kind, namespace, name)
    }

    fn team(&self, caller: &Caller, namespace: &str, name: &str) -> Option<TeamLinks> {
        self.team_links(caller, namespace, name)
    }
}
