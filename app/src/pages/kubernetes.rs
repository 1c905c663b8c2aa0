//! Deployment health views: an entity's Kubernetes tab and its overview card, the clusters
//! overview (`/kubernetes`), a cluster page (`/kubernetes/clusters/:name`) and a team's health.
//!
//! Each renders on the server from a server function; in the browser a [`LiveRegion`] island
//! follows the view's server-sent events (`/api/kubernetes/…/stream`) and swaps in the server's
//! new HTML, so a change in a cluster shows without a reload. The cluster's own staleness (since
//! when, and why) is part of the view.

use crate::api::{get_cluster, get_clusters, get_entity_kube, get_entity_links, get_team_kube};
use crate::components::common::{ErrorNotice, Loading};
use crate::components::delivery::{DeliveryAttention, DeliverySection, RevisionsWhere};
use crate::components::observability::ClusterLinks;
use crate::components::resources::{ResourcesAttention, ResourcesSection};
use crate::kube::*;
use crate::model::EntityRef;
use crate::observability::EnvironmentLinks;
use crate::pages::not_found::NotFound;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The server's view, as a signal the view functions read (on the server it never changes).
fn snapshot<T: Send + Sync + 'static>(initial: T) -> ReadSignal<T> {
    signal(initial).0
}

/// A view that follows its stream in the browser. The view inside is server-rendered HTML with
/// `data-stream` naming its stream; on each `update` event the island fetches the page again
/// and swaps in the server's new HTML for that element, so the views are never compiled to wasm.
/// The `.live-marker` inside says whether the stream is open.
#[island]
pub fn LiveRegion(children: Children) -> impl IntoView {
    let root: NodeRef<leptos::html::Div> = NodeRef::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(root) = root.get() {
            live::follow(root.into());
        }
    });
    view! {
        <div class="live-region" node_ref=root>
            {children()}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{closure::Closure, JsCast};
    use leptos::web_sys::{self, Element};
    use std::cell::Cell;
    use std::rc::Rc;

    /// Marks every live marker in `root`.
    fn mark(root: &Element, live: bool) {
        let Ok(markers) = root.query_selector_all(".live-marker") else {
            return;
        };
        for i in 0..markers.length() {
            if let Some(m) = markers.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = m.set_attribute("data-live", if live { "true" } else { "false" });
                m.set_text_content(Some(if live {
                    "● live"
                } else {
                    "○ not live (reload to update)"
                }));
            }
        }
    }

    /// The element that follows `stream`: its `data-stream` is the stream's path, with or
    /// without a query (a task page's `?after=<event>` changes as the task goes on).
    fn stream_selector(stream: &str) -> String {
        let path = stream.split('?').next().unwrap_or(stream);
        format!("[data-stream=\"{path}\"], [data-stream^=\"{path}?\"]")
    }

    /// The server's current HTML for the element that follows `stream`.
    async fn fresh(stream: &str) -> Option<String> {
        let html = crate::components::fetch::text(&window().location().href().ok()?).await?;
        let doc = web_sys::DomParser::new()
            .ok()?
            .parse_from_string(&html, web_sys::SupportedType::TextHtml)
            .ok()?;
        Some(
            doc.query_selector(&stream_selector(stream))
                .ok()??
                .outer_html(),
        )
    }

    /// Opens the stream named in `root` and swaps in fresh HTML after each update; updates that
    /// arrive while a fetch is under way are folded into one more fetch.
    pub fn follow(root: Element) {
        let Some(stream) = root
            .query_selector("[data-stream]")
            .ok()
            .flatten()
            .and_then(|el| el.get_attribute("data-stream"))
        else {
            return;
        };
        let Ok(source) = web_sys::EventSource::new(&stream) else {
            return;
        };
        let busy = Rc::new(Cell::new(false));
        let again = Rc::new(Cell::new(false));
        let refresh: Rc<dyn Fn()> = {
            let (root, stream) = (root.clone(), stream.clone());
            Rc::new(move || {
                if busy.replace(true) {
                    again.set(true);
                    return;
                }
                let (root, stream, busy, again) =
                    (root.clone(), stream.clone(), busy.clone(), again.clone());
                leptos::task::spawn_local(async move {
                    loop {
                        again.set(false);
                        if let Some(html) = fresh(&stream).await {
                            if let Ok(Some(old)) = root.query_selector(&stream_selector(&stream)) {
                                old.set_outer_html(&html);
                            }
                            mark(&root, true);
                        }
                        if !again.get() {
                            break;
                        }
                    }
                    busy.set(false);
                });
            })
        };
        let on_open = {
            let root = root.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| mark(&root, true))
        };
        let on_update = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| refresh());
        let on_error = {
            let root = root.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| mark(&root, false))
        };
        let _ = source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback("update", on_update.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        // The listeners live as long as the page.
        on_open.forget();
        on_update.forget();
        on_error.forget();
    }
}

fn enc(s: &str) -> String {
    s.replace(['/', '?', '#', '%'], "")
}

/// `healthy` / `degraded`… as a coloured badge.
#[component]
pub fn HealthBadge(health: Health) -> impl IntoView {
    view! { <span class=format!("health health-{}", health.label())>{health.label()}</span> }
}

/// Whether the view around it follows its stream (the island keeps it true).
#[component]
pub fn LiveMarker() -> impl IntoView {
    view! {
        <span class="live-marker" data-live="false">
            "○ not live (reload to update)"
        </span>
    }
}

#[component]
pub(crate) fn Reasons(reasons: Vec<Reason>) -> impl IntoView {
    (!reasons.is_empty()).then(|| {
        view! {
            <ul class="reasons">
                {reasons
                    .into_iter()
                    .map(|r| {
                        view! {
                            <li class=format!("reason health-{}", r.health.label()) data-code=r.code.clone()>
                                <strong>{r.code.clone()}</strong>
                                " "
                                <span class="reason-message">{r.message}</span>
                                <div class="next-step">"Next: " {r.next_step}</div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

#[component]
fn StaleNote(state: ClusterState) -> impl IntoView {
    state.stale.then(|| {
        view! {
            <p class="stale-note" role="status">
                "Stale: cluster " <strong>{state.name.clone()}</strong> " has not answered since "
                {state.since.clone().unwrap_or_else(|| "start-up".into())}
                {state.error.clone().map(|e| format!(" — {e}"))}
                ". Backlot reconnects by itself."
            </p>
        }
    })
}

/// How to connect a cluster, for views with none.
#[component]
fn NoClusters() -> impl IntoView {
    view! {
        <section class="card notice">
            <h2 class="card-title">"No cluster is connected"</h2>
            <p>
                "Start Backlot with " <code>"KUBECONFIG=/path/to/kubeconfig"</code>
                " to use that file's current context, or list clusters in the config:"
            </p>
            <pre class="code">
                <code>
                    "kubernetes:\n  clusters:\n    - kubeconfig: /etc/backlot/kubeconfig\n      context: prod-eu\n      environment: production\n    - in_cluster: true\n      name: here\n    - url: https://k8s.example.com:6443\n      token_file: /var/run/secrets/token\n      ca_file: /etc/backlot/ca.crt\n"
                </code>
            </pre>
            <p>"Backlot needs get, list and watch only: see deploy/kubernetes/rbac.yaml."</p>
        </section>
    }
}

/// The entity's Kubernetes tab.
#[component]
pub fn KubernetesPanel(entity: EntityRef) -> impl IntoView {
    let e = entity.clone();
    let key = move || (e.kind.clone(), e.namespace.clone(), e.name.clone());
    let data = Resource::new(key.clone(), |(k, ns, n)| get_entity_kube(k, ns, n));
    // The observability links of each place it runs, shown in that cluster's section.
    let links = Resource::new(key, |(k, ns, n)| get_entity_links(k, ns, n));
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let environments = links.await.map(|l| l.environments).unwrap_or_default();
                match data.await {
                    Err(e) if e.is_not_found() => view! { <NotFound what="entity"/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(v) => view! { <EntityKubeView initial=v environments/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EntityKubeView(
    initial: EntityKube,
    /// Observability links per place the entity runs.
    environments: Vec<EnvironmentLinks>,
) -> impl IntoView {
    let e = &initial.entity;
    let url = format!(
        "/api/kubernetes/entities/{}/{}/{}/stream",
        enc(&e.namespace),
        enc(&e.kind.to_ascii_lowercase()),
        enc(&e.name)
    );
    if initial.no_clusters {
        return view! { <NoClusters/> }.into_any();
    }
    if !initial.expected {
        let name = initial.entity.name.clone();
        return view! {
            <section class="card notice">
                <h2 class="card-title">"Not linked to any workload"</h2>
                <p>"Add an annotation to this entity's catalog-info.yaml so Backlot can find its workloads:"</p>
                <pre class="code"><code>{format!("metadata:\n  annotations:\n    backstage.io/kubernetes-id: {name}\n")}</code></pre>
                <p>
                    "and the label " <code>{format!("backstage.io/kubernetes-id: {name}")}</code>
                    " on its Deployments (or use backstage.io/kubernetes-label-selector)."
                </p>
            </section>
        }
        .into_any();
    }
    let view = snapshot(initial);
    view! {
        <LiveRegion>
        <div class="kube" data-stream=url data-health=move || view.with(|v| v.health.label())>
            <section class="card">
                <div class="card-header">
                    <h2 class="card-title">
                        "Deployment health " {move || view! { <HealthBadge health=view.with(|v| v.health)/> }}
                    </h2>
                    <LiveMarker/>
                </div>
                <p class="muted">"Workloads matched by " {move || view.with(|v| v.matched_by.clone())}</p>
                {move || view! { <Reasons reasons=view.with(|v| v.reasons.clone())/> }}
            </section>
            {move || {
                let v = view.get();
                (!v.versions.is_empty() && v.clusters.len() > 1).then(|| view! { <Versions view=v/> })
            }}
            {move || view! { <RevisionsWhere rows=view.with(|v| v.revisions.clone())/> }}
            {move || {
                view.with(|v| v.clusters.clone())
                    .into_iter()
                    .map(|c| {
                        let links: Vec<EnvironmentLinks> = environments
                            .iter()
                            .filter(|e| e.cluster == c.cluster.name)
                            .cloned()
                            .collect();
                        view! { <ClusterSection c links/> }
                    })
                    .collect_view()
            }}
        </div>
        </LiveRegion>
    }
    .into_any()
}

#[component]
fn Versions(view: EntityKube) -> impl IntoView {
    let heads: Vec<String> = view
        .clusters
        .iter()
        .map(|c| format!("{} ({})", c.cluster.name, c.cluster.environment))
        .collect();
    view! {
        <section class="card" aria-labelledby="versions-heading">
            <h2 id="versions-heading" class="card-title">"What runs where"</h2>
            <table class="catalog-table">
                <thead>
                    <tr>
                        <th>"Container"</th>
                        {heads.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {view
                        .versions
                        .into_iter()
                        .map(|row| {
                            view! {
                                <tr class:differs=row.differs>
                                    <td>{row.container}{row.differs.then_some(" (differs)")}</td>
                                    {row
                                        .cells
                                        .into_iter()
                                        .map(|c| view! { <td><code>{if c.is_empty() { "—".to_string() } else { c.join(", ") }}</code></td> })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn ClusterSection(c: ClusterWorkloads, links: Vec<EnvironmentLinks>) -> impl IntoView {
    let href = format!("/kubernetes/clusters/{}", enc(&c.cluster.name));
    view! {
        <section class="card cluster-section" data-cluster=c.cluster.name.clone()>
            <div class="card-header">
                <h2 class="card-title">
                    <a href=href>{c.cluster.name.clone()}</a>
                    <span class="muted">" · " {c.cluster.environment.clone()}</span>
                    " "
                    <HealthBadge health=c.health/>
                </h2>
            </div>
            <StaleNote state=c.cluster.clone()/>
            <ClusterLinks links/>
            <DeliverySection delivery=c.delivery/>
            <ResourcesSection resources=c.resources/>
            {c.workloads.into_iter().map(|w| view! { <WorkloadCard w/> }).collect_view()}
        </section>
    }
}

#[component]
fn WorkloadCard(w: WorkloadView) -> impl IntoView {
    view! {
        <div class="workload" data-workload=w.name.clone()>
            <h3>
                <span class="muted">{w.kind.clone()} " " {w.namespace.clone()} "/"</span>
                {w.name.clone()}
                " "
                <HealthBadge health=w.health/>
                <span class="muted">" " {format!("{}/{} ready", w.ready, w.desired)}</span>
            </h3>
            <Reasons reasons=w.reasons.clone()/>
            <dl class="facts">
                <dt>"Images"</dt>
                <dd><code>{w.images.join(", ")}</code></dd>
                {(!w.conditions.is_empty()).then(|| view! { <dt>"Conditions"</dt><dd>{w.conditions.join(" · ")}</dd> })}
                {w.hpa.clone().map(|h| view! {
                    <dt>"Autoscaler"</dt>
                    <dd>{format!("{}: {} replicas (min {}, max {}, wants {})", h.name, h.current, h.min, h.max, h.desired)}</dd>
                })}
                {(!w.services.is_empty()).then(|| view! { <dt>"Services"</dt><dd>{w.services.join(", ")}</dd> })}
                {(!w.ingresses.is_empty()).then(|| view! { <dt>"Ingresses"</dt><dd>{w.ingresses.join(", ")}</dd> })}
            </dl>
            {w.replica_sets.into_iter().map(|rs| view! { <ReplicaSetTable rs/> }).collect_view()}
            {(!w.events.is_empty()).then(|| view! {
                <details class="events">
                    <summary>{format!("Recent events ({})", w.events.len())}</summary>
                    <ul>
                        {w.events.into_iter().map(|e| view! {
                            <li class=format!("event event-{}", e.event_type.to_ascii_lowercase())>
                                <span class="muted">{e.last_seen.unwrap_or_default()} " "</span>
                                <strong>{e.reason}</strong> " " {e.object} ": " {e.message}
                                {(e.count > 1).then(|| format!(" (×{})", e.count))}
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </div>
    }
}

#[component]
fn ReplicaSetTable(rs: ReplicaSetView) -> impl IntoView {
    view! {
        <div class="replica-set">
            <h4>
                {rs.name.clone()}
                {rs.revision.clone().map(|r| format!(" · revision {r}"))}
                <span class="muted">{format!(" · {}/{} ready · {}", rs.ready, rs.desired, rs.images.join(", "))}</span>
            </h4>
            <table class="catalog-table pods">
                <thead>
                    <tr>
                        <th>"Pod"</th>
                        <th>"Health"</th>
                        <th>"Phase"</th>
                        <th>"Restarts"</th>
                        <th>"Containers"</th>
                        <th>"Node"</th>
                        <th>"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {rs.pods.into_iter().map(|p| view! {
                        <tr data-pod=p.name.clone()>
                            <td>{p.name.clone()}</td>
                            <td><HealthBadge health=p.health/></td>
                            <td>{p.phase.clone()}{(!p.conditions.is_empty()).then(|| format!(" ({})", p.conditions.join(", ")))}</td>
                            <td>{p.restarts}</td>
                            <td>
                                {p.containers.iter().map(|c| view! {
                                    <div>
                                        <code>{c.name.clone()}</code> " " {c.state.clone()}
                                        {c.last_termination.clone().map(|t| format!(" (last: {t})"))}
                                        <div class="muted"><code>{c.image.clone()}</code></div>
                                    </div>
                                }).collect_view()}
                            </td>
                            <td>{p.node.clone().unwrap_or_default()}</td>
                            <td>{p.created.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The health summary on an entity's overview (nothing for entities without workloads).
#[component]
pub fn KubeSummaryCard(entity: EntityRef) -> impl IntoView {
    let e = entity.clone();
    let data = Resource::new(
        move || (e.kind.clone(), e.namespace.clone(), e.name.clone()),
        |(k, ns, n)| get_entity_kube(k, ns, n),
    );
    let tab = format!("{}/kubernetes", entity.href());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let tab = tab.clone();
                Suspend::new(async move {
                    let v = data.await.ok().filter(|v| v.expected && !v.no_clusters)?;
                    let clusters: Vec<(String, Health)> =
                        v.clusters.iter().map(|c| (c.cluster.name.clone(), c.health)).collect();
                    let mut reasons = v.reasons.clone();
                    reasons.truncate(3);
                    Some(view! {
                        <section class="card kube-summary" aria-labelledby="kube-summary-heading">
                            <h2 id="kube-summary-heading" class="card-title">
                                "Deployment health " <HealthBadge health=v.health/>
                            </h2>
                            <ul class="inline-list">
                                {clusters.into_iter().map(|(n, h)| view! { <li>{n} " " <HealthBadge health=h/></li> }).collect_view()}
                            </ul>
                            <Reasons reasons/>
                            <a href=tab>"Workloads, pods and events →"</a>
                        </section>
                    })
                })
            }}
        </Suspense>
    }
}

/// A team's health on its group page.
#[component]
pub fn TeamHealthCard(namespace: String, name: String) -> impl IntoView {
    let data = Resource::new(
        move || (namespace.clone(), name.clone()),
        |(ns, n)| get_team_kube(ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let v = data.await.ok()?;
                if v.no_clusters || v.entities.is_empty() {
                    return None;
                }
                Some(view! { <TeamHealthView initial=v/> })
            })}
        </Suspense>
    }
}

#[component]
fn TeamHealthView(initial: TeamKube) -> impl IntoView {
    // The group comes from the route (the view names only what it owns).
    let params = use_params_map();
    let url = params.with_untracked(|p| {
        format!(
            "/api/kubernetes/groups/{}/{}/stream",
            enc(&p.get("namespace").unwrap_or_default()),
            enc(&p.get("name").unwrap_or_default())
        )
    });
    let view = snapshot(initial);
    view! {
        <LiveRegion>
        <section class="card team-health" data-stream=url aria-labelledby="team-health-heading">
            <div class="card-header">
                <h2 id="team-health-heading" class="card-title">
                    "Team health " {move || view! { <HealthBadge health=view.with(|v| v.health)/> }}
                </h2>
                <LiveMarker/>
            </div>
            <table class="catalog-table">
                <thead>
                    <tr><th>"Entity"</th><th>"Health"</th><th>"Clusters"</th><th>"Why"</th></tr>
                </thead>
                <tbody>
                    {move || view.get().entities.into_iter().map(|e| {
                        let tab = format!("{}/kubernetes", e.entity.href());
                        let why = e.reasons.first().map(|r| r.message.clone()).unwrap_or_default();
                        view! {
                            <tr data-entity=e.entity.name.clone()>
                                <td><a href=tab>{e.entity.display()}</a></td>
                                <td><HealthBadge health=e.health/></td>
                                <td>{e.clusters.into_iter().map(|(c, h)| view! { <span class="cluster-chip">{c} " " <HealthBadge health=h/></span> }).collect_view()}</td>
                                <td>{why}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || view! { <DeliveryAttention delivery=view.with(|v| v.delivery.clone()) title="Out of sync or not ready"/> }}
            {move || view! { <ResourcesAttention resources=view.with(|v| v.resources.clone()) title="Resources not ready"/> }}
        </section>
        </LiveRegion>
    }
}

/// `/kubernetes`: every cluster with its state and health counts.
#[component]
pub fn ClustersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_clusters());
    view! {
        <Title text="Backlot — Clusters"/>
        <h1>"Clusters"</h1>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(v) if v.clusters.is_empty() => view! { <NoClusters/> }.into_any(),
                    Ok(v) => view! { <ClustersView initial=v/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ClustersView(initial: ClustersOverview) -> impl IntoView {
    let view = snapshot(initial);
    view! {
        <LiveRegion>
        <div data-stream="/api/kubernetes/clusters/stream">
        <LiveMarker/>
        <table class="catalog-table clusters">
            <thead>
                <tr>
                    <th>"Cluster"</th><th>"Environment"</th><th>"Health"</th><th>"State"</th>
                    <th>"Workloads"</th><th>"Pods"</th><th>"Not in the catalog"</th>
                </tr>
            </thead>
            <tbody>
                {move || view.get().clusters.into_iter().map(|c| {
                    let href = format!("/kubernetes/clusters/{}", enc(&c.state.name));
                    let unmatched = format!("{href}?unmatched=1");
                    let n = &c.counts;
                    let counts = format!("{} healthy · {} progressing · {} degraded · {} down · {} unknown", n.healthy, n.progressing, n.degraded, n.down, n.unknown);
                    let state = if c.state.stale {
                        format!("stale since {}", c.state.since.clone().unwrap_or_default())
                    } else if c.state.synced {
                        "live".to_string()
                    } else {
                        "connecting…".to_string()
                    };
                    view! {
                        <tr data-cluster=c.state.name.clone()>
                            <td><a href=href>{c.state.name.clone()}</a></td>
                            <td>{c.state.environment.clone()}</td>
                            <td><HealthBadge health=c.health/></td>
                            <td title=c.state.error.clone().unwrap_or_default()>{state}</td>
                            <td>{counts}</td>
                            <td>{c.pods}</td>
                            <td><a href=unmatched>{c.unmatched}</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || view! { <DeliveryAttention delivery=view.with(|v| v.delivery.clone()) title="Delivery: out of sync or not ready"/> }}
        {move || view! { <ResourcesAttention resources=view.with(|v| v.resources.clone()) title="Resources: not ready"/> }}
        {move || {
            let missing = view.get().missing;
            (!missing.is_empty()).then(|| view! {
                <section class="card">
                    <h2 class="card-title">"Expected but not running anywhere"</h2>
                    <ul class="missing-list">
                        {missing.into_iter().map(|e| view! { <li><a href=format!("{}/kubernetes", e.href())>{e.display()}</a></li> }).collect_view()}
                    </ul>
                </section>
            })
        }}
        </div>
        </LiveRegion>
    }
}

/// `/kubernetes/clusters/:name`: every workload of a cluster, worst first.
#[component]
pub fn ClusterPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let unmatched = Memo::new(move |_| query.with(|q| q.get("unmatched").is_some()));
    let data = Resource::new(move || name.get(), get_cluster);
    view! {
        <Title text=move || format!("Backlot — cluster {}", name.get())/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) if e.is_not_found() => view! { <NotFound what=format!("cluster {}", name.get_untracked())/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(v) => view! { <ClusterView initial=v unmatched=unmatched.get_untracked()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ClusterView(initial: ClusterDetail, unmatched: bool) -> impl IntoView {
    let url = format!(
        "/api/kubernetes/clusters/{}/stream",
        enc(&initial.summary.state.name)
    );
    let view = snapshot(initial);
    let base =
        view.with_untracked(|v| format!("/kubernetes/clusters/{}", enc(&v.summary.state.name)));
    view! {
        <LiveRegion>
        <div data-stream=url>
        <h1>
            "Cluster " {move || view.with(|v| v.summary.state.name.clone())}
            <span class="muted">" · " {move || view.with(|v| v.summary.state.environment.clone())}</span>
            " " {move || view! { <HealthBadge health=view.with(|v| v.summary.health)/> }}
        </h1>
        <LiveMarker/>
        {move || view! { <StaleNote state=view.with(|v| v.summary.state.clone())/> }}
        {move || {
            let skipped = view.with(|v| v.summary.state.skipped.clone());
            (!skipped.is_empty()).then(|| view! {
                <ul class="skipped muted">{skipped.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
            })
        }}
        {move || view! { <DeliveryAttention delivery=view.with(|v| v.delivery.clone()) title="Delivery (ArgoCD and Flux)"/> }}
        {move || view! { <ResourcesAttention resources=view.with(|v| v.resources.clone()) title="Resources (Crossplane, KubeVela, secrets)"/> }}
        <nav class="segmented" aria-label="Workloads shown">
            <a href=base.clone() aria-current=(!unmatched).then_some("page")>"All workloads"</a>
            <a href=format!("{base}?unmatched=1") aria-current=unmatched.then_some("page")>"Not in the catalog"</a>
        </nav>
        <table class="catalog-table workloads">
            <thead>
                <tr><th>"Workload"</th><th>"Health"</th><th>"Ready"</th><th>"Images"</th><th>"Entity"</th><th>"Why"</th></tr>
            </thead>
            <tbody>
                {move || view.get().workloads.into_iter().filter(|w| !unmatched || w.entity.is_none()).map(|w| {
                    let why = w.reasons.first().map(|r| r.message.clone()).unwrap_or_default();
                    view! {
                        <tr data-workload=w.name.clone()>
                            <td><span class="muted">{w.kind.clone()} " " {w.namespace.clone()} "/"</span>{w.name.clone()}</td>
                            <td><HealthBadge health=w.health/></td>
                            <td>{format!("{}/{}", w.ready, w.desired)}</td>
                            <td><code>{w.images.join(", ")}</code></td>
                            <td>{match w.entity {
                                Some(e) => view! { <a href=format!("{}/kubernetes", e.href())>{e.display()}</a> }.into_any(),
                                None => view! { <span class="muted">"not in the catalog"</span> }.into_any(),
                            }}</td>
                            <td>{why}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
        </LiveRegion>
    }
}
