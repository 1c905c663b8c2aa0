//! The global search box in the header.
//!
//! Without JavaScript it is a GET form to `/search`. As an island it suggests entities while
//! typing: after a short pause it asks `/search/suggest?q=…`, which answers the suggestions as
//! server-rendered HTML (see [`SuggestionItems`]), so no entity type or JSON decoder is compiled
//! to wasm. Arrow keys move through the suggestions, Enter opens one, Escape closes, and `/`
//! pressed anywhere outside a text field focuses the box.

use crate::components::common::{IconSearch, KindBadge};
use crate::components::fetch;
use crate::format::summary_name;
use crate::model::EntitySummary;
use crate::query::{encode_component, search_href};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use std::time::Duration;

/// Suggestions shown at most.
pub const SUGGESTIONS: usize = 8;
/// Where the island asks for suggestions.
pub const SUGGEST_PATH: &str = "/search/suggest";
const LISTBOX_ID: &str = "search-suggestions";
const DEBOUNCE: Duration = Duration::from_millis(150);

fn option_id(i: usize) -> String {
    format!("search-option-{i}")
}

/// The suggestions for one text, as the list items the search box shows (rendered on the
/// server for [`SUGGEST_PATH`]).
#[component]
pub fn SuggestionItems(hits: Vec<EntitySummary>) -> impl IntoView {
    hits.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let name = summary_name(&s);
            let reference = s.entity_ref.to_ref_string();
            let href = s.entity_ref.href();
            let kind = s.entity_ref.kind.clone();
            view! {
                <li role="option" id=option_id(i) class="search-option" aria-selected="false">
                    <a href=href tabindex="-1">
                        <span class="search-option-name">{name}</span>
                        <KindBadge kind=kind/>
                        <span class="search-option-ref">{reference}</span>
                    </a>
                </li>
            }
        })
        .collect_view()
}

/// The URL the island asks for the suggestions to `text`.
pub fn suggest_url(text: &str) -> String {
    format!("{SUGGEST_PATH}?q={}", encode_component(text))
}

/// Whether a key press happened in a place that takes text.
fn is_text_field(target: Option<web_sys::EventTarget>) -> bool {
    let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
        return false;
    };
    let tag = el.tag_name().to_ascii_uppercase();
    matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || el
            .closest("[contenteditable]:not([contenteditable='false'])")
            .ok()
            .flatten()
            .is_some()
}

#[island]
pub fn SearchBox() -> impl IntoView {
    let input_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let list_ref: NodeRef<leptos::html::Ul> = NodeRef::new();
    // How many suggestions the list holds, which one is active, whether they show.
    let (count, set_count) = signal(0usize);
    let (open, set_open) = signal(false);
    let (active, set_active) = signal(None::<usize>);
    // The text the current suggestions answer.
    let (answered, set_answered) = signal(String::new());
    // Answers to older keystrokes are dropped.
    let generation = StoredValue::new(0u64);
    let timer = StoredValue::new(None::<TimeoutHandle>);

    let close = move || {
        set_open.set(false);
        set_active.set(None);
    };
    let fill = move |items: &str| {
        if let Some(list) = list_ref.get_untracked() {
            list.set_inner_html(items);
            set_count.set(list.child_element_count() as usize);
        }
    };
    let clear = move || {
        generation.update_value(|g| *g += 1);
        fill("");
        set_answered.set(String::new());
        close();
    };
    let ask = move |text: String| {
        if let Some(Some(handle)) = timer.try_get_value() {
            handle.clear();
        }
        generation.update_value(|g| *g += 1);
        if text.is_empty() {
            clear();
            return;
        }
        let handle = set_timeout_with_handle(
            move || {
                let Some(mine) = generation.try_get_value() else {
                    return;
                };
                spawn_local(async move {
                    let items = fetch::text(&suggest_url(&text)).await.unwrap_or_default();
                    if generation.try_get_value() == Some(mine) {
                        fill(&items);
                        set_answered.set(text);
                        set_active.set(None);
                        set_open.set(true);
                    }
                });
            },
            DEBOUNCE,
        );
        timer.set_value(handle.ok());
    };
    let typed = move || {
        input_ref
            .get_untracked()
            .map(|i| i.value().trim().to_string())
            .unwrap_or_default()
    };

    // The active suggestion is marked in the list the server rendered.
    Effect::new(move |_| {
        let current = active.get().filter(|_| open.get());
        let Some(list) = list_ref.get() else {
            return;
        };
        let items = list.children();
        for i in 0..items.length() {
            if let Some(item) = items.item(i) {
                let on = current == Some(i as usize);
                let _ = item.class_list().toggle_with_force("active", on);
                let _ = item.set_attribute("aria-selected", if on { "true" } else { "false" });
            }
        }
    });

    // Text typed before the island woke gets its suggestions too.
    Effect::new(move |_| {
        if let Some(input) = input_ref.get() {
            let focused = document()
                .active_element()
                .is_some_and(|el| el.is_same_node(Some(input.as_ref())));
            if focused && !typed().is_empty() {
                ask(typed());
            }
        }
    });

    // `/` focuses the search box, unless typed into a field.
    Effect::new(move |_| {
        let handle = window_event_listener(ev::keydown, move |ev: web_sys::KeyboardEvent| {
            if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            if ev.default_prevented() || is_text_field(ev.target()) {
                return;
            }
            if let Some(input) = input_ref.get_untracked() {
                ev.prevent_default();
                let _ = input.focus();
                input.select();
            }
        });
        on_cleanup(move || handle.remove());
    });

    let active_href = move || -> Option<String> {
        let i = active.get_untracked().filter(|_| open.get_untracked())?;
        let item = list_ref.get_untracked()?.children().item(i as u32)?;
        item.query_selector("a").ok()??.get_attribute("href")
    };

    let on_keydown = move |ev: ev::KeyboardEvent| {
        let len = count.get_untracked();
        match ev.key().as_str() {
            "ArrowDown" | "ArrowUp" if len > 0 => {
                ev.prevent_default();
                let down = ev.key() == "ArrowDown";
                if !open.get_untracked() {
                    set_open.set(true);
                }
                set_active.update(|a| {
                    *a = Some(match (*a, down) {
                        (None, true) => 0,
                        (None, false) => len - 1,
                        (Some(i), true) => (i + 1) % len,
                        (Some(i), false) => (i + len - 1) % len,
                    })
                });
            }
            "Enter" => {
                if let Some(href) = active_href() {
                    ev.prevent_default();
                    clear();
                    if let Some(input) = input_ref.get_untracked() {
                        input.set_value("");
                    }
                    let _ = window().location().assign(&href);
                }
            }
            "Escape" => {
                if open.get_untracked() {
                    ev.prevent_default();
                    close();
                } else {
                    if let Some(input) = input_ref.get_untracked() {
                        input.set_value("");
                    }
                    clear();
                }
            }
            _ => {}
        }
    };

    let on_focus = move |_: ev::FocusEvent| {
        if !typed().is_empty() && !answered.get_untracked().is_empty() {
            set_open.set(true);
        }
    };

    let footer = move || {
        let text = answered.get();
        (!text.is_empty()).then(|| {
            let none = count.get() == 0;
            let href = search_href(&text);
            view! {
                {none
                    .then(|| {
                        view! {
                            <p class="search-none" role="status">
                                "No matches for “"
                                {text.clone()}
                                "”"
                            </p>
                        }
                    })}
                <a class="search-all" href=href tabindex="-1">
                    "See all results for “"
                    {text.clone()}
                    "”"
                </a>
            }
        })
    };

    view! {
        <div class="search" role="search">
            <form method="get" action="/search">
                <span class="search-icon">
                    <IconSearch/>
                </span>
                <input
                    node_ref=input_ref
                    type="search"
                    role="combobox"
                    name="q"
                    aria-label="Search the catalog"
                    placeholder="Search the catalog"
                    autocomplete="off"
                    spellcheck="false"
                    aria-autocomplete="list"
                    aria-controls=LISTBOX_ID
                    aria-expanded=move || open.get().to_string()
                    aria-activedescendant=move || active.get().filter(|_| open.get()).map(option_id)
                    on:input=move |_| ask(typed())
                    on:keydown=on_keydown
                    on:focus=on_focus
                    on:blur=move |_| close()
                />
                <kbd class="search-kbd" aria-hidden="true">
                    "/"
                </kbd>
                <div
                    class="search-popover"
                    hidden=move || !open.get()
                    on:mousedown=move |ev: ev::MouseEvent| ev.prevent_default()
                >
                    <ul id=LISTBOX_ID role="listbox" aria-label="Suggestions" node_ref=list_ref></ul>
                    {footer}
                </div>
            </form>
        </div>
    }
}
