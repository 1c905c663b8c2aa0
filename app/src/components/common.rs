//! Small building blocks: entity links, tags, badges, loading and error states, icons.

use crate::format::{kind_label, summary_name};
use crate::model::{EntityRef, EntitySummary};
use leptos::prelude::*;

/// Marks the HTTP response as 404 while rendering on the server; nothing in the browser.
pub fn set_not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(leptos::server_fn::http_export::StatusCode::NOT_FOUND);
    }
}

/// A link to an entity page, labelled with `label` or the short reference.
#[component]
pub fn EntityLink(
    entity: EntityRef,
    #[prop(optional, into)] label: Option<String>,
) -> impl IntoView {
    let text = label.unwrap_or_else(|| entity.display());
    let title = entity.to_ref_string();
    view! {
        <a href=entity.href() title=title>
            {text}
        </a>
    }
}

/// A link to an optional entity, or a muted dash.
pub fn maybe_entity_link(entity: Option<EntityRef>) -> AnyView {
    match entity {
        Some(entity) => view! { <EntityLink entity/> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// A list of tags as small chips.
#[component]
pub fn Tags(tags: Vec<String>) -> impl IntoView {
    (!tags.is_empty()).then(|| {
        view! {
            <ul class="tags" aria-label="Tags">
                {tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}
            </ul>
        }
    })
}

/// `Component`, `API`… as a small label.
#[component]
pub fn KindBadge(kind: String) -> impl IntoView {
    view! { <span class="kind-badge">{kind_label(&kind)}</span> }
}

/// Red count of processing errors, when there are any.
#[component]
pub fn ErrorBadge(count: usize) -> impl IntoView {
    (count > 0).then(|| {
        let label = if count == 1 {
            "1 error".to_string()
        } else {
            format!("{count} errors")
        };
        view! {
            <span class="badge badge-error" title="Processing errors on this entity">
                <IconAlert/>
                {label}
            </span>
        }
    })
}

#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            "Loading…"
        </div>
    }
}

/// A failed server call. A refusal by the permission policy (its message starts with "not
/// allowed:", naming the permission and the rule) is titled as one, not as a failure.
#[component]
pub fn ErrorNotice(#[prop(into)] message: String) -> impl IntoView {
    let title = if message.starts_with("not allowed:") {
        "Not allowed"
    } else {
        "Something went wrong"
    };
    view! {
        <div class="alert alert-error" role="alert">
            <IconAlert/>
            <div>
                <p class="alert-title">{title}</p>
                <p>{message}</p>
            </div>
        </div>
    }
}

/// A calm "nothing here" message.
#[component]
pub fn Empty(#[prop(into)] message: String) -> impl IntoView {
    view! { <p class="empty">{message}</p> }
}

/// A compact list of entities (group members, owned entities, search hits).
#[component]
pub fn EntityList(items: Vec<EntitySummary>, #[prop(optional)] show_kind: bool) -> impl IntoView {
    view! {
        <ul class="entity-list">
            {items
                .into_iter()
                .map(|s| {
                    let name = summary_name(&s);
                    let href = s.entity_ref.href();
                    let title = s.entity_ref.to_ref_string();
                    let kind = s.entity_ref.kind.clone();
                    let meta = [s.spec_type.clone(), s.lifecycle.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    view! {
                        <li>
                            <div class="entity-list-main">
                                <a href=href title=title class="entity-list-name">
                                    {name}
                                </a>
                                {show_kind.then(|| view! { <KindBadge kind=kind/> })}
                                {(!meta.is_empty()).then(|| view! { <span class="muted small">{meta}</span> })}
                                <ErrorBadge count=s.error_count/>
                            </div>
                            {s.description.map(|d| view! { <p class="entity-list-desc">{d}</p> })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// Triangle-with-exclamation icon (decorative).
#[component]
pub fn IconAlert() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
            <path
                fill="currentColor"
                d="M8.9 1.6a1 1 0 0 0-1.8 0L.6 13.4A1 1 0 0 0 1.5 15h13a1 1 0 0 0 .9-1.6zM8 5.5a.8.8 0 0 1 .8.8v3.4a.8.8 0 0 1-1.6 0V6.3A.8.8 0 0 1 8 5.5m0 6.1a.9.9 0 1 1 0 1.8.9.9 0 0 1 0-1.8"
            ></path>
        </svg>
    }
}

/// Magnifying-glass icon (decorative).
#[component]
pub fn IconSearch() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
            <circle cx="7" cy="7" r="4.75" fill="none" stroke="currentColor" stroke-width="1.5"></circle>
            <path d="m10.5 10.5 3.5 3.5" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"></path>
        </svg>
    }
}

/// Check-in-circle icon (decorative).
#[component]
pub fn IconCheck() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
            <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.5"></circle>
            <path
                d="m5.2 8.2 1.9 1.9 3.7-3.9"
                fill="none"
                stroke="currentColor"
                stroke-width="1.5"
                stroke-linecap="round"
                stroke-linejoin="round"
            ></path>
        </svg>
    }
}

/// Arrow pointing out of a box, for links that leave Backlot (decorative).
#[component]
pub fn IconExternal() -> impl IntoView {
    view! {
        <svg class="icon icon-sm" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
            <path
                d="M9 2.5h4.5V7M13.5 2.5 7 9M11.5 9.5v3a1 1 0 0 1-1 1h-7a1 1 0 0 1-1-1v-7a1 1 0 0 1 1-1h3"
                fill="none"
                stroke="currentColor"
                stroke-width="1.5"
                stroke-linecap="round"
                stroke-linejoin="round"
            ></path>
        </svg>
    }
}
