//! GitOps delivery on the Kubernetes views: an entity's "Delivery" section per cluster (ArgoCD
//! Applications, Flux Kustomizations and HelmReleases with sync state, health, revisions, last
//! sync and message, a Flux object's source and its state, the links to the commit and to the
//! ArgoCD UI), "Which revision runs where" across an entity's clusters, and the out-of-sync /
//! not-ready list of the clusters overview, a cluster page and a team page. Rendered on the server inside the views'
//! `LiveRegion`, so they update with the rest of the view.

use crate::kube::{DeliveryView, RevisionRow};
use crate::pages::kubernetes::{HealthBadge, Reasons};
use leptos::prelude::*;

/// An entity's GitOps objects in one cluster (nothing when there are none).
#[component]
pub fn DeliverySection(delivery: Vec<DeliveryView>) -> impl IntoView {
    (!delivery.is_empty()).then(|| {
        view! {
            <div class="delivery">
                <h3>"Delivery"</h3>
                {delivery.into_iter().map(|d| view! { <DeliveryCard d/> }).collect_view()}
            </div>
        }
    })
}

#[component]
fn DeliveryCard(d: DeliveryView) -> impl IntoView {
    let revisions = match (&d.target_revision, &d.synced_revision) {
        (Some(t), Some(s)) if t == s => Some(format!("{t} (Git and cluster)")),
        (Some(t), Some(s)) => Some(format!("Git {t} · cluster {s}")),
        (Some(t), None) => Some(format!("Git {t} · cluster: nothing applied yet")),
        (None, Some(s)) => Some(format!("cluster {s}")),
        (None, None) => None,
    };
    view! {
        <div class="delivery-object" data-delivery=d.name.clone() data-state=d.state.clone()>
            <h4>
                <span class="muted">{d.tool.clone()} " " {d.namespace.clone()} "/"</span>
                {d.name.clone()}
                " "
                <HealthBadge health=d.health/>
                " "
                <span class="delivery-state">{d.state.clone()}</span>
                {d.tool_health.clone().map(|h| view! { <span class="muted">" · " {h}</span> })}
                {d.link.clone().map(|href| view! { " " <a class="delivery-link" href=href>"Open in ArgoCD ↗"</a> })}
            </h4>
            <Reasons reasons=d.reasons.clone()/>
            <dl class="facts">
                {d.source.clone().map(|s| view! { <dt>"Source"</dt><dd><code>{s}</code></dd> })}
                {d.source_state.clone().map(|s| view! { <dt>"Source state"</dt><dd class="delivery-source">{s}</dd> })}
                {revisions.map(|r| view! { <dt>"Revision"</dt><dd class="delivery-revisions"><code>{r}</code></dd> })}
                {d.commit_url.clone().map(|href| view! {
                    <dd class="delivery-commit"><a class="commit-link" href=href>"The cluster's commit ↗"</a></dd>
                })}
                {d.last_sync.clone().map(|t| view! { <dt>"Last sync"</dt><dd>{t}</dd> })}
                {d.message.clone().map(|m| view! { <dt>"Message"</dt><dd>{m}</dd> })}
                {(!d.resources.is_empty()).then(|| view! {
                    <dt>"Manages"</dt><dd>{d.resources.join(", ")}</dd>
                })}
            </dl>
        </div>
    }
}

/// Which GitOps revision runs where: one row per object and cluster, rows whose source runs
/// different revisions in different places marked (nothing when there are none).
#[component]
pub fn RevisionsWhere(rows: Vec<RevisionRow>) -> impl IntoView {
    (!rows.is_empty()).then(|| {
        view! {
            <section class="card revisions-where" aria-labelledby="revisions-heading">
                <h2 id="revisions-heading" class="card-title">"Which revision runs where"</h2>
                <table class="catalog-table">
                    <thead>
                        <tr><th>"Environment"</th><th>"Cluster"</th><th>"Object"</th><th>"Revision"</th><th>"State"</th><th>"Health"</th></tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let revision = r.revision.clone().unwrap_or_else(|| "—".into());
                            let (of, place) = (r.name.clone(), r.cluster.clone());
                            view! {
                                <tr class:differs=r.differs data-revision-of=of data-cluster=place>
                                    <td>{r.environment}</td>
                                    <td>{r.cluster}</td>
                                    <td><span class="muted">{r.tool} " " {r.namespace} "/"</span>{r.name}</td>
                                    <td>
                                        {match r.commit_url {
                                            Some(href) => view! { <a class="commit-link" href=href><code>{revision}</code></a> }.into_any(),
                                            None => view! { <code>{revision}</code> }.into_any(),
                                        }}
                                        {r.differs.then_some(" (differs)")}
                                    </td>
                                    <td>
                                        <span class="delivery-state">{r.state}</span>
                                        {r.link.map(|href| view! { " " <a class="delivery-link" href=href>"ArgoCD ↗"</a> })}
                                    </td>
                                    <td><HealthBadge health=r.health/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}

/// GitOps objects that are out of sync or not ready (nothing when there are none).
#[component]
pub fn DeliveryAttention(
    delivery: Vec<DeliveryView>,
    /// The list's heading.
    #[prop(into)]
    title: String,
) -> impl IntoView {
    (!delivery.is_empty()).then(|| {
        view! {
            <section class="card delivery-attention">
                <h2 class="card-title">{title}</h2>
                <table class="catalog-table">
                    <thead>
                        <tr><th>"Object"</th><th>"Cluster"</th><th>"State"</th><th>"Health"</th><th>"Entity"</th><th>"Why"</th></tr>
                    </thead>
                    <tbody>
                        {delivery.into_iter().map(|d| {
                            let why = d.reasons.first().map(|r| r.message.clone()).unwrap_or_default();
                            view! {
                                <tr data-delivery=d.name.clone() data-state=d.state.clone()>
                                    <td><span class="muted">{d.tool.clone()} " " {d.namespace.clone()} "/"</span>{d.name.clone()}</td>
                                    <td>{d.cluster.clone()}</td>
                                    <td>{d.state.clone()}</td>
                                    <td><HealthBadge health=d.health/></td>
                                    <td>{match d.entity {
                                        Some(e) => view! { <a href=format!("{}/kubernetes", e.href())>{e.display()}</a> }.into_any(),
                                        None => view! { <span class="muted">"not in the catalog"</span> }.into_any(),
                                    }}</td>
                                    <td>{why}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}
