//! Platform resources on the Kubernetes views: an entity's "Resources" section per cluster
//! (Crossplane claims and composite resources, KubeVela Applications, ExternalSecrets and
//! SealedSecrets with their readiness, components and whether the Secret they write is there —
//! never its content), and the not-ready list of the clusters overview, a cluster page and a team
//! page. Rendered on the server inside the views' `LiveRegion`, like the Delivery section whose
//! styles they share.

use crate::kube::ResourceView;
use crate::pages::kubernetes::{HealthBadge, Reasons};
use leptos::prelude::*;

/// An entity's platform resources in one cluster (nothing when there are none).
#[component]
pub fn ResourcesSection(resources: Vec<ResourceView>) -> impl IntoView {
    (!resources.is_empty()).then(|| {
        view! {
            <div class="delivery resources">
                <h3>"Resources"</h3>
                {resources.into_iter().map(|r| view! { <ResourceCard r/> }).collect_view()}
            </div>
        }
    })
}

#[component]
fn ResourceCard(r: ResourceView) -> impl IntoView {
    let secret = r.secret.clone().map(|name| match &r.secret_state {
        Some(state) => format!("{name}: {state}"),
        None => name,
    });
    view! {
        <div class="delivery-object resource-object" data-resource=r.name.clone() data-state=r.state.clone()>
            <h4>
                <span class="muted">{r.tool.clone()} " " {r.kind.clone()} " " {r.namespace.clone()} "/"</span>
                {r.name.clone()}
                " "
                <HealthBadge health=r.health/>
                " "
                <span class="delivery-state">{r.state.clone()}</span>
            </h4>
            <Reasons reasons=r.reasons.clone()/>
            <dl class="facts">
                {r.source.clone().map(|s| view! { <dt>"From"</dt><dd><code>{s}</code></dd> })}
                {secret.map(|s| view! { <dt>"Secret"</dt><dd class="resource-secret">{s}</dd> })}
                {r.since.clone().map(|t| view! { <dt>"Since"</dt><dd>{t}</dd> })}
                {(!r.components.is_empty()).then(|| view! {
                    <dt>"Components"</dt><dd class="resource-components">{r.components.join(", ")}</dd>
                })}
                {(!r.refs.is_empty()).then(|| view! {
                    <dt>"Resources"</dt><dd>{r.refs.join(", ")}</dd>
                })}
            </dl>
        </div>
    }
}

/// Platform resources that are not ready (nothing when there are none).
#[component]
pub fn ResourcesAttention(
    resources: Vec<ResourceView>,
    /// The list's heading.
    #[prop(into)]
    title: String,
) -> impl IntoView {
    (!resources.is_empty()).then(|| {
        view! {
            <section class="card delivery-attention resources-attention">
                <h2 class="card-title">{title}</h2>
                <table class="catalog-table">
                    <thead>
                        <tr><th>"Resource"</th><th>"Cluster"</th><th>"State"</th><th>"Health"</th><th>"Entity"</th><th>"Why"</th></tr>
                    </thead>
                    <tbody>
                        {resources.into_iter().map(|r| {
                            let why = r.reasons.first().map(|r| r.message.clone()).unwrap_or_default();
                            view! {
                                <tr data-resource=r.name.clone() data-state=r.state.clone()>
                                    <td><span class="muted">{r.tool.clone()} " " {r.namespace.clone()} "/"</span>{r.name.clone()}</td>
                                    <td>{r.cluster.clone()}</td>
                                    <td>{r.state.clone()}</td>
                                    <td><HealthBadge health=r.health/></td>
                                    <td>{match r.entity {
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
