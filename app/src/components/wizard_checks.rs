//! The wizard's step form, checked as the user types.
//!
//! Without JavaScript each step is a plain form post and the server answers with the step's
//! errors. Once the island wakes, it sends the form as it stands to the server's check
//! (`…/check`: the same code "Next" runs, answering one `field<TAB>message` line per error;
//! nothing is kept) and shows each field's errors in place:
//!
//! - a field is checked once the user has left it (or changed a choice), then as they type
//!   (after a short pause); fields the server already marked are checked at once, so fixing
//!   one clears it;
//! - "Next" is checked first: with errors the page stays, shows every field's error and moves
//!   the focus to the first; "Back" and "Update the form" are never held back, and when the
//!   check cannot be asked the post goes ahead (the server checks it anyway);
//! - a field that decides which others are shown posts the form as soon as it changes, so the
//!   fields it reveals appear without pressing "Update the form";
//! - an entity picker whose choices did not all fit in the page (`data-suggest`) asks the server
//!   for the entities matching what is typed and refreshes its suggestions.
//!
//! The rules stay on the server: the browser downloads no schema code (the page-weight budget),
//! and what it shows is exactly what "Next" would say.

use crate::scaffolder::FieldError;
use leptos::ev;
use leptos::prelude::*;

/// The id of a field's element (`field-destination-owner`, `…-help`, `…-error`): the page and
/// the island both name elements with it.
pub fn dom_id(path: &str, suffix: &str) -> String {
    let base: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if suffix.is_empty() {
        format!("field-{base}")
    } else {
        format!("field-{base}-{suffix}")
    }
}

/// The field a posted name belongs to: a RepoUrlPicker posts `path:host`, `path:owner`,
/// `path:repo`.
pub fn field_of(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

/// Whether the field shown at `path` shows an error found at `error_path`: its own, and for a
/// field without fields of its own (a list, a picker) those of its items too. A fieldset of
/// fields (`group`) leaves its fields' errors to them.
pub fn shows_error(path: &str, group: bool, error_path: &str) -> bool {
    error_path == path
        || (!group
            && error_path
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('[')))
}

/// The errors in a check's answer: one `field<TAB>message` line each.
pub fn parse_check(answer: &str) -> Vec<FieldError> {
    answer
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(field, message)| FieldError {
            field: field.to_string(),
            message: message.to_string(),
        })
        .collect()
}

/// Where a step's errors are asked for: its form's action and `/check`.
pub fn check_url(action: &str) -> String {
    format!("{}/check", action.trim_end_matches('/'))
}

/// The step's form inside. The island has no properties (they would cost the page a JSON
/// decoder in wasm): what it needs is in the form.
#[island]
pub fn WizardChecks(children: Children) -> impl IntoView {
    let root: NodeRef<leptos::html::Div> = NodeRef::new();
    #[cfg(feature = "hydrate")]
    let checks = browser::Checks::new(root);
    view! {
        <div
            class="wizard-checks"
            node_ref=root
            on:input=move |_ev: ev::Event| {
                #[cfg(feature = "hydrate")]
                checks.input(&_ev);
            }
            on:focusout=move |_ev: ev::FocusEvent| {
                #[cfg(feature = "hydrate")]
                checks.left(&_ev);
            }
            on:change=move |_ev: ev::Event| {
                #[cfg(feature = "hydrate")]
                checks.changed(&_ev);
            }
            on:submit=move |_ev: ev::SubmitEvent| {
                #[cfg(feature = "hydrate")]
                checks.submitted(&_ev);
            }
        >
            {children()}
        </div>
    }
}

/// What the island does in the browser.
#[cfg(feature = "hydrate")]
mod browser {
    use super::{check_url, dom_id, field_of, parse_check, shows_error};
    use crate::components::fetch;
    use crate::scaffolder::FieldError;
    use crate::templates::{ACTION_BACK, ACTION_UPDATE};
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys;
    use std::collections::BTreeSet;
    use std::time::Duration;

    /// The pause after a keystroke before the form is checked.
    const TYPING_PAUSE: Duration = Duration::from_millis(150);

    /// The island's state.
    #[derive(Clone, Copy)]
    pub struct Checks {
        root: NodeRef<leptos::html::Div>,
        /// Fields whose errors are shown (left once, changed, or marked by the server).
        shown: StoredValue<BTreeSet<String>>,
        /// Checks asked so far: answers to older ones are dropped.
        asked: StoredValue<u64>,
        /// Picker requests asked so far, likewise.
        suggested: StoredValue<u64>,
        /// The next "Next" was checked and goes ahead.
        cleared: StoredValue<bool>,
    }

    impl Checks {
        pub fn new(root: NodeRef<leptos::html::Div>) -> Checks {
            let checks = Checks {
                root,
                shown: StoredValue::new(BTreeSet::new()),
                asked: StoredValue::new(0),
                suggested: StoredValue::new(0),
                cleared: StoredValue::new(false),
            };
            Effect::new(move |_| {
                if let Some(root) = root.get() {
                    let marked = fields_marked_invalid(&root);
                    checks.shown.update_value(|s| s.extend(marked));
                }
            });
            checks
        }

        fn show(&self, field: String) {
            self.shown.update_value(|s| {
                s.insert(field);
            });
        }

        /// Asks for the form's errors and shows those of the fields shown. With `next` (the
        /// button "Next" pressed), every field is shown, and the form is posted when it has
        /// no errors (or when the check cannot be asked).
        fn check(&self, pause: bool, next: Option<web_sys::HtmlElement>) {
            let Some(root) = self.root.get_untracked() else {
                return;
            };
            let Some(form) = form_in(&root) else {
                return;
            };
            let body = form_body(&form);
            self.asked.update_value(|n| *n += 1);
            let mine = self.asked.get_value();
            let this = *self;
            let run = move || {
                spawn_local(async move {
                    if this.asked.try_get_value() != Some(mine) {
                        return;
                    }
                    let answer = match &body {
                        Some(body) => fetch::post_form(&check_url(&form.action()), body).await,
                        None => None,
                    };
                    if this.asked.try_get_value() != Some(mine) {
                        return;
                    }
                    let Some(answer) = answer else {
                        // The server will check the post itself.
                        if let Some(button) = next {
                            this.cleared.set_value(true);
                            let _ = form.request_submit_with_submitter(Some(&button));
                        }
                        return;
                    };
                    let errors = parse_check(&answer);
                    if next.is_some() {
                        this.shown.update_value(|s| s.extend(field_paths(&root)));
                    }
                    this.shown.with_value(|s| show_errors(&root, &errors, s));
                    match next {
                        Some(button) if errors.is_empty() => {
                            this.cleared.set_value(true);
                            let _ = form.request_submit_with_submitter(Some(&button));
                        }
                        Some(_) => focus_first_invalid(&root),
                        None => {}
                    }
                });
            };
            if pause {
                set_timeout(run, TYPING_PAUSE);
            } else {
                run();
            }
        }

        pub fn input(&self, ev: &web_sys::Event) {
            let Some(field) = event_field(ev) else {
                return;
            };
            if let Some(url) = event_element(ev).and_then(|el| el.get_attribute("data-suggest")) {
                suggest(ev, url, self.suggested);
            }
            if self.shown.with_value(|s| s.contains(&field)) {
                self.check(true, None);
            }
        }

        pub fn left(&self, ev: &web_sys::FocusEvent) {
            let Some(field) = event_field(ev) else {
                return;
            };
            // Moving between the parts of one field (a repository's host, owner and name) is
            // not leaving it.
            let container =
                event_element(ev).and_then(|el| el.closest("[data-field]").ok().flatten());
            let next = ev
                .related_target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            if let (Some(container), Some(next)) = (&container, &next) {
                if container.contains(Some(next)) {
                    return;
                }
            }
            self.show(field);
            self.check(false, None);
        }

        pub fn changed(&self, ev: &web_sys::Event) {
            let Some(field) = event_field(ev) else {
                return;
            };
            let container =
                event_element(ev).and_then(|el| el.closest("[data-field]").ok().flatten());
            // A field that decides which others are shown posts the form at once.
            let update = container
                .as_ref()
                .and_then(|c| c.query_selector(".field-update").ok().flatten())
                .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok());
            let form = self.root.get_untracked().and_then(|r| form_in(&r));
            if let (Some(button), Some(form)) = (update, form) {
                let _ = form.request_submit_with_submitter(Some(&button));
                return;
            }
            // A choice made is checked at once; a field of several parts once it is left.
            if container
                .as_ref()
                .is_some_and(|c| c.class_list().contains("repo-url"))
            {
                return;
            }
            self.show(field);
            self.check(false, None);
        }

        pub fn submitted(&self, ev: &web_sys::SubmitEvent) {
            let button = ev.submitter();
            let action = button
                .as_ref()
                .and_then(|b| b.get_attribute("value"))
                .unwrap_or_default();
            if action == ACTION_BACK || action == ACTION_UPDATE {
                return;
            }
            if self.cleared.get_value() {
                self.cleared.set_value(false);
                return;
            }
            let Some(button) = button.and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                return;
            };
            ev.prevent_default();
            self.check(false, Some(button));
        }
    }

    fn event_element(ev: &web_sys::Event) -> Option<web_sys::Element> {
        ev.target()?.dyn_into::<web_sys::Element>().ok()
    }

    /// The field an event happened in (by its input's name).
    fn event_field(ev: &web_sys::Event) -> Option<String> {
        let name = event_element(ev)?.get_attribute("name")?;
        (!name.starts_with(':')).then(|| field_of(&name).to_string())
    }

    fn form_in(root: &web_sys::Element) -> Option<web_sys::HtmlFormElement> {
        root.query_selector("form")
            .ok()??
            .dyn_into::<web_sys::HtmlFormElement>()
            .ok()
    }

    /// The form's fields as a post would send them.
    fn form_body(form: &web_sys::HtmlFormElement) -> Option<web_sys::UrlSearchParams> {
        web_sys::FormData::new_with_form(form)
            .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data))
            .ok()
    }

    /// Every field container in the form (`[data-field]`).
    fn containers(root: &web_sys::Element) -> Vec<web_sys::Element> {
        let Ok(list) = root.query_selector_all("[data-field]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
            .collect()
    }

    fn field_paths(root: &web_sys::Element) -> Vec<String> {
        containers(root)
            .iter()
            .filter_map(|c| c.get_attribute("data-field"))
            .collect()
    }

    fn fields_marked_invalid(root: &web_sys::Element) -> Vec<String> {
        containers(root)
            .iter()
            .filter(|c| c.class_list().contains("field-invalid"))
            .filter_map(|c| c.get_attribute("data-field"))
            .collect()
    }

    /// Shows each shown field's errors in place, and clears those that are fixed.
    fn show_errors(root: &web_sys::Element, errors: &[FieldError], shown: &BTreeSet<String>) {
        let Some(document) = root.owner_document() else {
            return;
        };
        for container in containers(root) {
            let Some(path) = container.get_attribute("data-field") else {
                continue;
            };
            if !shown.contains(&path) {
                continue;
            }
            let group = container.class_list().contains("field-group");
            let messages: Vec<&str> = errors
                .iter()
                .filter(|e| shows_error(&path, group, &e.field))
                .map(|e| e.message.as_str())
                .collect();
            let error_id = dom_id(&path, "error");
            let existing = container
                .query_selector(&format!("#{error_id}"))
                .ok()
                .flatten();
            let _ = container
                .class_list()
                .toggle_with_force("field-invalid", !messages.is_empty());
            for control in controls(&container) {
                if messages.is_empty() {
                    let _ = control.remove_attribute("aria-invalid");
                } else {
                    let _ = control.set_attribute("aria-invalid", "true");
                    let described = control
                        .get_attribute("aria-describedby")
                        .unwrap_or_default();
                    if !described.split_whitespace().any(|d| d == error_id) {
                        let joined = format!("{described} {error_id}");
                        let _ = control.set_attribute("aria-describedby", joined.trim());
                    }
                }
            }
            if messages.is_empty() {
                if let Some(el) = existing {
                    el.remove();
                }
                continue;
            }
            let el = match existing {
                Some(el) => el,
                None => {
                    let Ok(el) = document.create_element("div") else {
                        continue;
                    };
                    el.set_class_name("field-error");
                    el.set_id(&error_id);
                    let _ = el.set_attribute("aria-live", "polite");
                    let _ = container.append_child(&el);
                    el
                }
            };
            // Rewritten only when the messages change, so a screen reader hears each once.
            let current: Vec<String> = (0..el.child_element_count())
                .filter_map(|i| el.children().item(i)?.text_content())
                .collect();
            if current != messages {
                el.set_inner_html("");
                for message in messages {
                    if let Ok(p) = document.create_element("p") {
                        p.set_text_content(Some(message));
                        let _ = el.append_child(&p);
                    }
                }
            }
        }
    }

    /// A field's own inputs (not those of a nested field's container).
    fn controls(container: &web_sys::Element) -> Vec<web_sys::Element> {
        let Ok(list) = container.query_selector_all("input:not([type=hidden]), select, textarea")
        else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
            .filter(|el| {
                el.parent_element()
                    .and_then(|p| p.closest("[data-field]").ok().flatten())
                    .is_some_and(|c| c.is_same_node(Some(container)))
            })
            .collect()
    }

    fn focus_first_invalid(root: &web_sys::Element) {
        let first = root
            .query_selector(".field-invalid input:not([type=hidden]), .field-invalid select, .field-invalid textarea")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = first {
            let _ = el.focus();
        }
    }

    /// Asks the server for the entities matching what is typed into a picker and puts them in its
    /// suggestions (`<datalist>`), after a short pause.
    fn suggest(ev: &web_sys::Event, url: String, generation: StoredValue<u64>) {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let text = input.value().trim().to_string();
        let Some(list) = input.list() else {
            return;
        };
        generation.update_value(|g| *g += 1);
        let Some(mine) = generation.try_get_value() else {
            return;
        };
        set_timeout(
            move || {
                if generation.try_get_value() != Some(mine) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let url = format!("{url}&q={}", crate::query::encode_component(&text));
                    if let Some(options) = crate::components::fetch::text(&url).await {
                        if generation.try_get_value() == Some(mine) {
                            list.set_inner_html(&options);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(150),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checks_answer_is_read_line_by_line() {
        let errors =
            parse_check("name\tName must match ^[a-z]+$\nrepoUrl\tRepository needs an owner\n\n");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "name");
        assert_eq!(errors[0].message, "Name must match ^[a-z]+$");
        assert_eq!(errors[1].field, "repoUrl");
        assert!(parse_check("").is_empty());
    }

    #[test]
    fn errors_go_to_the_field_that_shows_them() {
        assert!(shows_error("tags", false, "tags"));
        assert!(shows_error("tags", false, "tags[1]"));
        assert!(shows_error("owner", false, "owner.kind"));
        assert!(!shows_error("owner", true, "owner.kind"));
        assert!(!shows_error("tag", false, "tags"));
        assert_eq!(field_of("repoUrl:host"), "repoUrl");
        assert_eq!(
            dom_id("destination.owner", "error"),
            "field-destination-owner-error"
        );
    }
}
