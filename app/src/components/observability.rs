//! Observability links (from the configuration's templates, `observability.links`): the card on
//! an entity's overview (its own links, then per environment), the links of one cluster on the
//! Kubernetes tab, and a team's card (its own links and its services' on-call). Also the golden
//! signals from Prometheus (`observability.prometheus`): the entity's card, per place it runs,
//! with sparklines the server draws as SVG and firing alerts, inside the Kubernetes views'
//! `LiveRegion` island (no new island); and a team's compact table, worst first. Everything else
//! is server-rendered HTML only.

use crate::api::{get_entity_links, get_entity_signals, get_team_links, get_team_signals};
use crate::components::common::IconExternal;
use crate::model::EntityRef;
use crate::observability::{
    firing_count, EnvironmentLinks, FiringAlert, ObservabilityLink, SignalView, Stale,
    SIGNAL_RANGES,
};
use crate::pages::kubernetes::{LiveMarker, LiveRegion};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// A list of links, each opening elsewhere, with its type.
#[component]
pub fn ObservabilityLinkList(links: Vec<ObservabilityLink>) -> impl IntoView {
    view! {
        <ul class="link-list">
            {links
                .into_iter()
                .map(|l| {
                    view! {
                        <li data-link-type=l.link_type.label() data-icon=l.icon.clone()>
                            <a href=l.url target="_blank" rel="noopener noreferrer">
                                {l.title}
                                <IconExternal/>
                            </a>
                            <span class="muted">" · " {l.link_type.label()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// `production · prod-eu, namespace shop`.
fn place(e: &EnvironmentLinks) -> String {
    if e.environment == e.cluster {
        format!("{}, namespace {}", e.cluster, e.namespace)
    } else {
        format!(
            "{} · {}, namespace {}",
            e.environment, e.cluster, e.namespace
        )
    }
}

/// The entity's observability links on its overview, beside `metadata.links`; nothing when no
/// template makes one.
#[component]
pub fn ObservabilityCard(entity: EntityRef) -> impl IntoView {
    let data = Resource::new(
        move || {
            (
                entity.kind.clone(),
                entity.namespace.clone(),
                entity.name.clone(),
            )
        },
        |(k, ns, n)| get_entity_links(k, ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let links = data.await.ok().filter(|l| !l.is_empty())?;
                Some(view! {
                    <section class="card" aria-labelledby="observability-heading">
                        <h2 id="observability-heading" class="card-title">
                            "Observability"
                        </h2>
                        {(!links.links.is_empty()).then(|| view! { <ObservabilityLinkList links=links.links/> })}
                        {links
                            .environments
                            .into_iter()
                            .map(|e| {
                                let heading = place(&e);
                                view! {
                                    <h3 class="subheading" data-cluster=e.cluster.clone()>{heading}</h3>
                                    <ObservabilityLinkList links=e.links/>
                                }
                            })
                            .collect_view()}
                    </section>
                })
            })}
        </Suspense>
    }
}

/// One cluster's links on the Kubernetes tab (every namespace the entity runs in there).
#[component]
pub fn ClusterLinks(links: Vec<EnvironmentLinks>) -> impl IntoView {
    let several = links.len() > 1;
    (!links.is_empty()).then(|| {
        view! {
            <div class="cluster-links">
                <h3>"Observability"</h3>
                {links
                    .into_iter()
                    .map(|e| {
                        let namespace = several.then(|| view! { <h4>{format!("namespace {}", e.namespace)}</h4> });
                        view! {
                            {namespace}
                            <ObservabilityLinkList links=e.links/>
                        }
                    })
                    .collect_view()}
            </div>
        }
    })
}

/// A team's links on its group page: its own, then its services' on-call; nothing when there
/// are none.
#[component]
pub fn TeamLinksCard(namespace: String, name: String) -> impl IntoView {
    let data = Resource::new(
        move || (namespace.clone(), name.clone()),
        |(ns, n)| get_team_links(ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let team = data.await.ok().filter(|t| !t.is_empty())?;
                Some(view! {
                    <section class="card" aria-labelledby="team-observability-heading">
                        <h2 id="team-observability-heading" class="card-title">
                            "Observability"
                        </h2>
                        {(!team.links.is_empty()).then(|| view! { <ObservabilityLinkList links=team.links/> })}
                        {(!team.on_call.is_empty()).then(|| view! {
                            <h3 class="subheading">"On-call for its services"</h3>
                            <ul class="link-list on-call">
                                {team
                                    .on_call
                                    .into_iter()
                                    .map(|s| {
                                        let href = s.entity.href();
                                        let name = s.title.clone().unwrap_or_else(|| s.entity.name.clone());
                                        view! {
                                            <li>
                                                <a href=href>{name}</a>
                                                ": "
                                                {s
                                                    .links
                                                    .into_iter()
                                                    .map(|l| view! {
                                                        <a href=l.url target="_blank" rel="noopener noreferrer">
                                                            {l.title}
                                                            <IconExternal/>
                                                        </a>
                                                        " "
                                                    })
                                                    .collect_view()}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        })}
                    </section>
                })
            })}
        </Suspense>
    }
}

/// `1h` → `/catalog/default/component/web?range=1h`.
fn range_href(page: &str, range: &str) -> String {
    format!("{page}?range={range}")
}

/// `no data since 18:40:12 — unreachable: …`.
fn stale_text(s: &Stale) -> String {
    format!(
        "no data since {} — {}",
        s.since.as_deref().unwrap_or("start-up"),
        s.reason
    )
}

/// One signal's sparkline, drawn by the server as an SVG path.
#[component]
fn Sparkline(signal: SignalView) -> impl IntoView {
    let label = match (signal.low, signal.high) {
        (Some(l), Some(h)) => format!(
            "{}: from {} to {}",
            signal.title,
            signal.unit.format(l),
            signal.unit.format(h)
        ),
        _ => format!("{}: no data", signal.title),
    };
    signal.spark.map(|d| {
        view! {
            <svg class="sparkline" viewBox="0 0 120 28" width="120" height="28" role="img" aria-label=label.clone()>
                <title>{label.clone()}</title>
                <path d=d fill="none" stroke="currentColor" stroke-width="1.5"/>
            </svg>
        }
    })
}

/// Firing alerts, each with its severity and summary.
#[component]
fn AlertList(alerts: Vec<FiringAlert>) -> impl IntoView {
    (!alerts.is_empty()).then(|| {
        view! {
            <ul class="alert-list">
                {alerts
                    .into_iter()
                    .map(|a| {
                        let severity = a.severity.clone().unwrap_or_else(|| "none".into());
                        let name = a.name.clone();
                        let state = a.state.label();
                        let muted = !a.is_firing();
                        let class = if muted { "alert alert-muted" } else { "alert" };
                        view! {
                            <li class=class data-alert=name data-severity=severity.clone() data-state=state>
                                <strong>{a.name}</strong>
                                " "
                                <span class=format!("severity severity-{severity}")>{severity.clone()}</span>
                                {muted.then(|| view! { " " <span class="chip alert-state">{state}</span> })}
                                {a.summary.map(|s| view! { " — " <span class="alert-summary">{s}</span> })}
                                <span class="muted">
                                    {a.active_at.map(|t| format!(" · since {t}"))} {format!(" · {}", a.server)}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// The entity's golden signals (from `observability.prometheus`) per place it runs, with
/// sparklines over the range in `?range=` and its firing alerts; it follows its stream, so new
/// samples show without a reload. Nothing when no Prometheus is configured.
#[component]
pub fn SignalsCard(entity: EntityRef) -> impl IntoView {
    let query = use_query_map();
    let range = query.with_untracked(|q| q.get("range")).unwrap_or_default();
    let page = entity.href();
    let stream = format!(
        "/observability/{}/{}/{}/stream",
        entity.namespace,
        entity.kind.to_ascii_lowercase(),
        entity.name
    );
    let data = Resource::new(
        move || {
            (
                entity.kind.clone(),
                entity.namespace.clone(),
                entity.name.clone(),
                range.clone(),
            )
        },
        |(k, ns, n, r)| get_entity_signals(k, ns, n, r),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (page, stream) = (page.clone(), stream.clone());
                Suspend::new(async move {
                    let s = data.await.ok().filter(|s| s.configured)?;
                    let stream = format!("{stream}?range={}", s.range);
                    let current = s.range.clone();
                    Some(view! {
                        <section class="card signals" aria-labelledby="signals-heading">
                            <LiveRegion>
                            <div class="signals-view" data-stream=stream data-range=s.range.clone()>
                                <div class="card-header">
                                    <h2 id="signals-heading" class="card-title">"Golden signals"</h2>
                                    <nav class="segmented" aria-label="Signals range">
                                        {SIGNAL_RANGES
                                            .iter()
                                            .map(|(r, _)| {
                                                let href = range_href(&page, r);
                                                view! {
                                                    <a href=href aria-current=(*r == current).then_some("page")>{*r}</a>
                                                }
                                            })
                                            .collect_view()}
                                    </nav>
                                    <LiveMarker/>
                                </div>
                                {(!s.alerts.is_empty()).then(|| {
                                    let firing = firing_count(&s.alerts);
                                    let muted = s.alerts.len() - firing;
                                    if muted == 0 {
                                        view! { <h3 id="alerts" class="subheading">"Firing alerts"</h3> }.into_any()
                                    } else {
                                        let note = format!("{firing} firing, {muted} silenced or inhibited");
                                        view! {
                                            <h3 id="alerts" class="subheading">"Alerts " <span class="muted small">{note}</span></h3>
                                        }
                                        .into_any()
                                    }
                                })}
                                <AlertList alerts=s.alerts/>
                                {s.alerts_stale.map(|st| view! { <p class="stale-note" role="status">"Alerts: " {stale_text(&st)}</p> })}
                                {if s.places.is_empty() {
                                    view! { <p class="muted">"No signal applies to this entity."</p> }.into_any()
                                } else {
                                    s.places
                                        .into_iter()
                                        .map(|p| {
                                            let heading = if p.place.is_empty() {
                                                format!("Prometheus {}", p.server)
                                            } else {
                                                format!("{} · Prometheus {}", p.place, p.server)
                                            };
                                            view! {
                                                <h3 class="subheading" data-cluster=p.cluster.clone()>{heading}</h3>
                                                <ul class="signal-list">
                                                    {p.signals
                                                        .into_iter()
                                                        .map(|sig| {
                                                            let shown = sig.shown();
                                                            let stale = sig.stale.clone();
                                                            let key = sig.key.clone();
                                                            let marked = stale.is_some().then_some("true");
                                                            view! {
                                                                <li class="signal" data-signal=key data-stale=marked>
                                                                    <span class="signal-title">{sig.title.clone()}</span>
                                                                    <span class="signal-value">{shown}</span>
                                                                    <Sparkline signal=sig/>
                                                                    {stale.map(|st| view! { <span class="signal-stale" role="status">{stale_text(&st)}</span> })}
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                        })
                                        .collect_view()
                                        .into_any()
                                }}
                            </div>
                            </LiveRegion>
                        </section>
                    })
                })
            }}
        </Suspense>
    }
}

/// A team's services' signals, worst first, with their firing alerts: a compact table on the
/// group page; nothing when no Prometheus is configured or no service has a signal.
#[component]
pub fn TeamSignalsCard(namespace: String, name: String) -> impl IntoView {
    let data = Resource::new(
        move || (namespace.clone(), name.clone()),
        |(ns, n)| get_team_signals(ns, n),
    );
    const COLUMNS: [(&str, &str); 4] = [
        ("request-rate", "Rate"),
        ("error-ratio", "Errors"),
        ("latency-p99", "p99"),
        ("cpu", "CPU"),
    ];
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let team = data.await.ok().filter(|t| t.configured && !t.rows.is_empty())?;
                Some(view! {
                    <section class="card team-signals" aria-labelledby="team-signals-heading">
                        <h2 id="team-signals-heading" class="card-title">"Golden signals"</h2>
                        <table class="compact signals-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Service"</th>
                                    {COLUMNS.iter().map(|(_, h)| view! { <th scope="col">{*h}</th> }).collect_view()}
                                    <th scope="col">"Alerts"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {team
                                    .rows
                                    .into_iter()
                                    .map(|r| {
                                        let href = r.entity.href();
                                        let name = r.title.clone().unwrap_or_else(|| r.entity.name.clone());
                                        let cells = COLUMNS
                                            .iter()
                                            .map(|(key, _)| {
                                                let sig = r.signals.iter().find(|s| s.key == *key);
                                                let text = sig.map(SignalView::shown).unwrap_or_else(|| "—".into());
                                                let stale = sig.and_then(|s| s.stale.as_ref()).map(stale_text);
                                                view! { <td data-signal=*key title=stale.clone() data-stale=stale.is_some().then_some("true")>{text}</td> }
                                            })
                                            .collect_view();
                                        // Silenced and inhibited alerts are named, not counted.
                                        let alerts = firing_count(&r.alerts);
                                        let names = r
                                            .alerts
                                            .iter()
                                            .map(|a| if a.is_firing() { a.name.clone() } else { format!("{} ({})", a.name, a.state.label()) })
                                            .collect::<Vec<_>>()
                                            .join(", ");
                                        view! {
                                            <tr data-entity=r.entity.name.clone()>
                                                <th scope="row"><a href=href>{name}</a></th>
                                                {cells}
                                                <td class="alerts" title=names data-alerts=alerts.to_string()>{alerts}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </section>
                })
            })}
        </Suspense>
    }
}
