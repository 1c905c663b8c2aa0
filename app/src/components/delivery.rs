//! GitOps delivery on the Kubernetes views: an entity's "Delivery" section per cluster (ArgoCD
//! Applications, Flux Kustomizations and HelmReleases with sync state, health, revisions, last
//! sync and message, and the ArgoCD UI link), and the out-of-sync / not-ready list of the
//! clusters overview, a cluster page and a team page. Rendered on the server inside the views'
//! `LiveRegion`, so they update with the rest of the view.

use crate::kube::DeliveryView;
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
                {revisions.map(|r| view! { <dt>"Revision"</dt><dd class="delivery-revisions"><code>{r}</code></dd> })}
                {d.last_sync.clone().map(|t| view! { <dt>"Last sync"</dt><dd>{t}</dd> })}
                {d.message.clone().map(|m| view! { <dt>"Message"</dt><dd>{m}</dd> })}
                {(!d.resources.is_empty()).then(|| view! {
                    <dt>"Manages"</dt><dd>{d.resources.join(", ")}</dd>
                })}
            </dl>
        </div>
    }
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
