//! The global search box in the header.
//!
//! Without JavaScript it is a GET form to `/search`. Once hydrated it suggests entities while
//! typing (debounced server calls), moves through them with the arrow keys, opens one with Enter,
//! closes with Escape, and `/` pressed anywhere outside a text field focuses it.

use crate::api::search;
use crate::components::common::{IconSearch, KindBadge};
use crate::components::get_form::GetForm;
use crate::format::summary_name;
use crate::model::EntitySummary;
use crate::query::search_href;
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use leptos_router::hooks::{use_location, use_navigate};
use std::time::Duration;

/// Suggestions shown at most.
const SUGGESTIONS: usize = 8;
const DEBOUNCE: Duration = Duration::from_millis(150);
const LISTBOX_ID: &str = "search-suggestions";

fn option_id(i: usize) -> String {
    format!("search-option-{i}")
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

#[component]
pub fn SearchBox() -> impl IntoView {
    let input_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let (results, set_results) = signal(Vec::<EntitySummary>::new());
    let (open, set_open) = signal(false);
    let (active, set_active) = signal(None::<usize>);
    // The text the current suggestions answer.
    let (answered, set_answered) = signal(String::new());
    // Responses to older keystrokes are dropped.
    let generation = StoredValue::new(0u64);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let navigate = use_navigate();
    let pathname = use_location().pathname;

    let close = move || {
        set_open.set(false);
        set_active.set(None);
    };
    // A suggestion was clicked: hide the list and empty the box, but leave the clicked link in
    // the document so the router can follow it.
    let picked = move || {
        if let Some(input) = input_ref.get_untracked() {
            input.set_value("");
        }
        close();
    };
    // After a suggestion was picked: empty box, no stale suggestions.
    let reset = move || {
        generation.update_value(|g| *g += 1);
        if let Some(input) = input_ref.get_untracked() {
            input.set_value("");
        }
        set_results.set(Vec::new());
        set_answered.set(String::new());
        close();
    };

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

    // Close the suggestions after any navigation.
    Effect::new(move |_| {
        pathname.track();
        set_open.set(false);
        set_active.set(None);
    });

    let on_input = move |ev: ev::Event| {
        let text = event_target_value(&ev).trim().to_string();
        if let Some(Some(handle)) = timer.try_get_value() {
            handle.clear();
        }
        generation.update_value(|g| *g += 1);
        if text.is_empty() {
            set_results.set(Vec::new());
            set_answered.set(String::new());
            close();
            return;
        }
        let handle = set_timeout_with_handle(
            move || {
                let Some(mine) = generation.try_get_value() else {
                    return;
                };
                spawn_local(async move {
                    let hits = search(text.clone(), SUGGESTIONS).await.unwrap_or_default();
                    if generation.try_get_value() == Some(mine) {
                        set_results.set(hits);
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

    let on_keydown = move |ev: ev::KeyboardEvent| {
        let len = results.with_untracked(Vec::len);
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
                let target = active
                    .get_untracked()
                    .filter(|_| open.get_untracked())
                    .and_then(|i| {
                        results.with_untracked(|r| r.get(i).map(|s| s.entity_ref.href()))
                    });
                if let Some(href) = target {
                    ev.prevent_default();
                    reset();
                    navigate(&href, Default::default());
                }
            }
            "Escape" => {
                if open.get_untracked() {
                    ev.prevent_default();
                    close();
                } else {
                    reset();
                }
            }
            _ => {}
        }
    };

    let on_focus = move |_: ev::FocusEvent| {
        let typed = input_ref
            .get_untracked()
            .map(|i| i.value())
            .unwrap_or_default();
        if !typed.trim().is_empty() && !answered.get_untracked().is_empty() {
            set_open.set(true);
        }
    };

    let options = move || {
        results
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let name = summary_name(&s);
                let reference = s.entity_ref.to_ref_string();
                let href = s.entity_ref.href();
                let kind = s.entity_ref.kind.clone();
                let selected = move || active.get() == Some(i);
                view! {
                    <li
                        role="option"
                        id=option_id(i)
                        class="search-option"
                        class:active=selected
                        aria-selected=move || selected().to_string()
                    >
                        <a href=href tabindex="-1" on:click=move |_| picked()>
                            <span class="search-option-name">{name}</span>
                            <KindBadge kind=kind/>
                            <span class="search-option-ref">{reference}</span>
                        </a>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <div class="search" role="search">
            <GetForm action="/search">
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
                    on:input=on_input
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
                    <ul id=LISTBOX_ID role="listbox" aria-label="Suggestions">
                        {options}
                    </ul>
                    {move || {
                        let text = answered.get();
                        (!text.is_empty())
                            .then(|| {
                                let none = results.with(Vec::is_empty);
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
                                    <a class="search-all" href=href tabindex="-1" on:click=move |_| close()>
                                        "See all results for “"
                                        {text.clone()}
                                        "”"
                                    </a>
                                }
                            })
                    }}
                </div>
            </GetForm>
        </div>
    }
}
