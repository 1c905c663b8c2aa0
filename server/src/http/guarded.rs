//! The docs and Kubernetes readers behind the catalog's policy: the UI's services and the
//! REST handlers ask these, so an entity the caller may not read (`catalog.entity.read`) has no
//! docs, no docs search hits, no index entry and no Kubernetes view, and an entity's
//! Kubernetes view needs `kubernetes.resources.read` on it too. What is refused is not found,
//! as if the entity did not exist. The cluster pages and the overview leave out the workloads
//! of such entities (from their lists and every count) and such entities from the list of
//! expected-but-missing ones; workloads of no entity are shown to everyone.

use crate::catalog::facade::Facade;
use crate::docs::service::DocsService;
use crate::k8s::service::Shows;
use crate::k8s::KubeService;
use crate::policy::{Entity, EntityCheck, Permission};
use app::kube::{ClusterDetail, ClustersOverview, EntityKube, Health, TeamKube};
use app::model::{Caller, DocsEntry, DocsHit, DocsPage, EntityRef};
use app::services::{BoxFuture, DocsReader, KubeReader};
use std::sync::Arc;

/// Runs `f` with the caller's answer to "may I see this entity's workloads?": the entity must
/// be readable (`catalog.entity.read`) and its resources too (`kubernetes.resources.read`),
/// decided against one catalog version with the caller's rules worked out once.
pub fn with_kube_shows<R>(facade: &Facade, caller: &Caller, f: impl FnOnce(Shows<'_>) -> R) -> R {
    let v = facade.read(caller);
    let policy = facade.policy();
    let check = policy.entity_check(caller, Permission::KubernetesResourcesRead);
    let shows = |e: &EntityRef| {
        let Some(r) = v.get(&e.kind, &e.namespace, &e.name) else {
            return false;
        };
        match &check {
            EntityCheck::Always(d) => d.allowed,
            EntityCheck::Each(rules) => {
                let location_type = rules
                    .needs_location_type()
                    .then(|| v.location(&r.stored.location_id).map(|l| l.location_type))
                    .flatten();
                rules.allows(&Entity::new(&r.stored, location_type))
            }
        }
    };
    f(&shows)
}

/// Whether `caller` may read the entity and its Kubernetes resources.
pub fn may_read_kubernetes(
    facade: &Facade,
    caller: &Caller,
    kind: &str,
    ns: &str,
    name: &str,
) -> bool {
    with_kube_shows(facade, caller, |shows| {
        shows(&EntityRef::new(kind, ns, name))
    })
}

/// A team's view with only the entities the caller may read (and whose resources they may
/// read); its health is then the worst of those.
pub fn team_view(
    facade: &Facade,
    caller: &Caller,
    kube: &KubeService,
    ns: &str,
    name: &str,
) -> Option<TeamKube> {
    // A group the caller may not read has no team view.
    facade.read(caller).get("group", ns, name)?;
    let mut team = kube.team_view(ns, name)?;
    let before = team.entities.len();
    with_kube_shows(facade, caller, |shows| {
        team.entities.retain(|e| shows(&e.entity));
        team.delivery
            .retain(|d| d.entity.as_ref().is_none_or(shows));
        team.resources
            .retain(|r| r.entity.as_ref().is_none_or(shows));
    });
    if team.entities.len() != before {
        team.health = team
            .entities
            .iter()
            .map(|e| e.health)
            .max()
            .unwrap_or(Health::Unknown);
    }
    Some(team)
}

/// The clusters' overview as the caller sees it: workloads of entities whose resources they
/// may not read are not counted, and such entities are not in the missing list.
pub fn overview(facade: &Facade, caller: &Caller, kube: &KubeService) -> ClustersOverview {
    with_kube_shows(facade, caller, |shows| kube.overview_for(shows))
}

/// A cluster page as the caller sees it: without the workloads (and their pods in the counts)
/// of entities whose resources they may not read. Workloads of no entity stay.
pub fn cluster(
    facade: &Facade,
    caller: &Caller,
    kube: &KubeService,
    name: &str,
) -> Option<ClusterDetail> {
    with_kube_shows(facade, caller, |shows| kube.cluster_view_for(name, shows))
}

pub struct GuardedKube {
    pub kube: Arc<KubeService>,
    pub facade: Facade,
}

impl KubeReader for GuardedKube {
    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityKube> {
        if !may_read_kubernetes(&self.facade, caller, kind, namespace, name) {
            return None;
        }
        self.kube.entity_view(kind, namespace, name)
    }
    fn overview(&self, caller: &Caller) -> ClustersOverview {
        overview(&self.facade, caller, &self.kube)
    }
    fn cluster(&self, caller: &Caller, name: &str) -> Option<ClusterDetail> {
        cluster(&self.facade, caller, &self.kube, name)
    }
    fn team(&self, caller: &Caller, namespace: &str, name: &str) -> Option<TeamKube> {
        team_view(&self.facade, caller, &self.kube, namespace, name)
    }
}

pub struct GuardedDocs {
    pub docs: Arc<DocsService>,
    pub facade: Facade,
}

impl GuardedDocs {
    fn sees(&self, caller: &Caller, e: &EntityRef) -> bool {
        self.facade
            .read(caller)
            .get(&e.kind, &e.namespace, &e.name)
            .is_some()
    }
}

impl DocsReader for GuardedDocs {
    fn page(
        self: Arc<Self>,
        caller: Caller,
        entity: EntityRef,
        page: String,
    ) -> BoxFuture<Option<DocsPage>> {
        if !self.sees(&caller, &entity) {
            return Box::pin(async { None });
        }
        self.docs.clone().page(caller, entity, page)
    }

    fn index(self: Arc<Self>, caller: Caller) -> BoxFuture<Vec<DocsEntry>> {
        Box::pin(async move {
            let all = self.docs.clone().index(caller.clone()).await;
            let v = self.facade.read(&caller);
            all.into_iter()
                .filter(|d| {
                    let e = &d.entity.entity_ref;
                    v.get(&e.kind, &e.namespace, &e.name).is_some()
                })
                .collect()
        })
    }

    fn search(
        self: Arc<Self>,
        caller: Caller,
        text: String,
        limit: usize,
    ) -> BoxFuture<Vec<DocsHit>> {
        Box::pin(async move {
            // Ask for more than `limit`: some hits may be hidden from this caller.
            let hits = self
                .docs
                .clone()
                .search(caller.clone(), text, limit.saturating_mul(4).max(limit))
                .await;
            let v = self.facade.read(&caller);
            hits.into_iter()
                .filter(|h| {
                    let e = &h.entity.entity_ref;
                    v.get(&e.kind, &e.namespace, &e.name).is_some()
                })
                .take(limit)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::caller::TestCaller;
    use crate::policy::{file, PolicyStore};
    use crate::storage::testing::TestDb;
    use crate::test_support::Harness;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    const READ_OWN: &str = "roles:\n  r:\n    rules:\n      - allow: [catalog.entity.read]\n        when: {is_owner: true}\nbindings:\n  - {role: r, signed_in: true}\n";

    fn documented(name: &str, owner: &str) -> String {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
        )
    }

    #[tokio::test]
    async fn docs_of_entities_the_caller_may_not_read_are_not_found() {
        let h = Harness::new(TestDb::sqlite().await).await;
        for (name, owner) in [("web", "team-a"), ("vault", "team-b")] {
            let path = h.write(
                &format!("{name}/catalog-info.yaml"),
                &documented(name, owner),
            );
            h.write(
                &format!("{name}/docs/index.md"),
                &format!("# {name}\n\nDeploy with zeppelin rockets.\n\n![logo](a.png)\n"),
            );
            std::fs::write(h.root.join(format!("{name}/docs/a.png")), b"png").unwrap();
            h.catalog.add_location("file", &path, false).await.unwrap();
        }
        let mut state = h.state();
        state.policy = Arc::new(PolicyStore::fixed(file::parse(READ_OWN, "p").unwrap()));
        let alice = Caller {
            user: Some(EntityRef::new("User", "default", "alice")),
            groups: vec![EntityRef::new("Group", "default", "team-a")],
            ..Default::default()
        };
        let guarded = Arc::new(GuardedDocs {
            docs: state.docs.clone(),
            facade: state.facade(),
        });
        let names = |refs: Vec<EntityRef>| refs.into_iter().map(|r| r.name).collect::<Vec<_>>();
        let index = guarded.clone().index(alice.clone()).await;
        assert_eq!(
            names(index.into_iter().map(|d| d.entity.entity_ref).collect()),
            ["web"]
        );
        let hits = guarded
            .clone()
            .search(alice.clone(), "zeppelin".into(), 10)
            .await;
        assert_eq!(
            names(hits.into_iter().map(|d| d.entity.entity_ref).collect()),
            ["web"]
        );
        let page = |name: &str| {
            guarded.clone().page(
                alice.clone(),
                EntityRef::new("Component", "default", name),
                String::new(),
            )
        };
        assert!(page("web").await.is_some());
        assert!(page("vault").await.is_none());
        // Unguarded, both are there: the filter is the policy's.
        assert_eq!(state.docs.clone().index(alice.clone()).await.len(), 2);

        // The assets route.
        let router = crate::http::router(state).layer(axum::Extension(TestCaller(alice)));
        let status = |uri: &'static str| {
            let router = router.clone();
            async move {
                router
                    .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(
            status("/docs-assets/default/component/web/docs/a.png").await,
            StatusCode::OK
        );
        assert_eq!(
            status("/docs-assets/default/component/vault/docs/a.png").await,
            StatusCode::NOT_FOUND
        );
        h.cleanup().await;
    }
}
