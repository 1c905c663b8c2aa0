//! `/create`: the software templates the caller can see, as cards, filtered by a GET form (text,
//! tag, owner, type); `/create/templates/:namespace/:name`: a template's wizard; and
//! `/create/edit`: the template editor (paste a template, its files and values; dry-run it).
//!
//! The wizard is a plain form, one step at a time, the same with and without JavaScript: every
//! button posts the step to the wizard's own URL (see `crate::templates` for the fields), and the
//! server answers with the page for where the post leads: the next step, the same step with
//! each error next to its field, the review (secrets masked), or, after "Create", a redirect to
//! the task's page. A field that reveals others when it changes has an "Update" button that
//! posts the step to show them. On the review, "Preview the files" posts the values again and
//! the page shows the template's dry-run ([`PreviewPanel`]) below the form.

use crate::api::{get_template_edit, get_wizard, list_templates};
use crate::components::common::{EntityLink, ErrorNotice, IconSearch, Loading, Tags};
use crate::components::get_form::GetForm;
use crate::components::wizard_checks::{dom_id, WizardChecks};
use crate::format::plural;
use crate::pages::not_found::NotFound;
use crate::templates::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|m| {
            let get = |k: &str| m.get(k).filter(|v| !v.trim().is_empty());
            TemplateQuery {
                q: get("q"),
                tag: get("tag"),
                owner: get("owner"),
                spec_type: get("type"),
            }
        })
    });
    let data = Resource::new(move || query.get(), list_templates);
    view! {
        <Title text="Backlot — Create"/>
        <div class="page-header">
            <h1>"Create something new"</h1>
            <p class="muted">
                "Software templates make new components, websites and more, set up the way your organisation does it. "
                <a href=TASKS_PATH>"Tasks"</a>
                " · "
                <a href=ACTIONS_PATH>"Installed actions"</a>
                " · "
                <a href=EDIT_PATH>"Template editor"</a>
            </p>
        </div>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                let q = query.get();
                Suspend::new(async move {
                    match data.await {
                        Ok(list) => view! { <TemplateListView q list/> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn TemplateListView(q: TemplateQuery, list: TemplateList) -> impl IntoView {
    let option = |value: String, label: String, chosen: &Option<String>| {
        let selected = chosen.as_deref() == Some(value.as_str());
        view! { <option value=value selected=selected>{label}</option> }
    };
    let tags = list
        .tags
        .iter()
        .map(|t| option(t.clone(), t.clone(), &q.tag))
        .collect_view();
    let owners = list
        .owners
        .iter()
        .map(|o| option(o.to_ref_string(), o.display(), &q.owner))
        .collect_view();
    let types = list
        .types
        .iter()
        .map(|t| option(t.clone(), t.clone(), &q.spec_type))
        .collect_view();
    let shown = list.templates.len();
    let filtered = q != TemplateQuery::default();
    view! {
        <GetForm action=CREATE_PATH>
            <div class="toolbar template-filters">
                <div class="text-filter">
                    <label class="visually-hidden" for="template-text">"Filter by text"</label>
                    <span class="text-filter-icon">
                        <IconSearch/>
                    </span>
                    <input
                        id="template-text"
                        type="search"
                        name="q"
                        placeholder="Filter by name, title, description or tag"
                        value=q.q.clone()
                    />
                </div>
                <label>
                    <span class="visually-hidden">"Type"</span>
                    <select name="type" aria-label="Type">
                        <option value="">"Any type"</option>
                        {types}
                    </select>
                </label>
                <label>
                    <span class="visually-hidden">"Owner"</span>
                    <select name="owner" aria-label="Owner">
                        <option value="">"Any owner"</option>
                        {owners}
                    </select>
                </label>
                <label>
                    <span class="visually-hidden">"Tag"</span>
                    <select name="tag" aria-label="Tag">
                        <option value="">"Any tag"</option>
                        {tags}
                    </select>
                </label>
                <button type="submit" class="button">"Filter"</button>
            </div>
        </GetForm>
        <p class="muted small" data-testid="template-count">
            {if filtered {
                format!("{} of {}", shown, plural(list.total, "template", "templates"))
            } else {
                plural(list.total, "template", "templates")
            }}
        </p>
        {if list.templates.is_empty() {
            view! {
                <div class="empty-state">
                    {if filtered {
                        view! {
                            <p>"No templates match these filters."</p>
                            <a class="button" href=CREATE_PATH>"Clear filters"</a>
                        }
                            .into_any()
                    } else {
                        view! {
                            <p>
                                "No templates yet: register a repository holding "
                                <code>"kind: Template"</code>
                                " entities on the "
                                <a href="/locations">"Locations"</a>
                                " page."
                            </p>
                        }
                            .into_any()
                    }}
                </div>
            }
                .into_any()
        } else {
            view! {
                <ul class="template-cards">
                    {list.templates.into_iter().map(|t| view! { <TemplateCardView t/> }).collect_view()}
                </ul>
            }
                .into_any()
        }}
    }
}

#[component]
fn TemplateCardView(t: TemplateCard) -> impl IntoView {
    let href = wizard_href(&t.entity_ref);
    let entity = t.entity_ref.clone();
    let label = format!("Choose {}", t.title);
    view! {
        <li class="card template-card" data-template=t.entity_ref.to_ref_string()>
            <div class="template-card-head">
                <h2 class="card-title">
                    <a href=href.clone()>{t.title.clone()}</a>
                </h2>
                {t.spec_type.clone().map(|ty| view! { <span class="chip">{ty}</span> })}
            </div>
            {t.description.clone().map(|d| view! { <p class="template-description">{d}</p> })}
            <dl class="kv template-meta">
                {t
                    .owner
                    .clone()
                    .map(|owner| {
                        view! {
                            <dt>"Owner"</dt>
                            <dd>
                                <EntityLink entity=owner/>
                            </dd>
                        }
                    })}
            </dl>
            {(!t.tags.is_empty()).then(|| view! { <Tags tags=t.tags.clone()/> })}
            <div class="template-card-actions">
                <a class="small" href=entity.href()>"Template details"</a>
                <a class="button button-primary" href=href aria-label=label>"Choose"</a>
            </div>
        </li>
    }
}

#[component]
pub fn WizardPage() -> impl IntoView {
    let params = use_params_map();
    let namespace = params.with_untracked(|p| p.get("namespace").unwrap_or_default());
    let name = params.with_untracked(|p| p.get("name").unwrap_or_default());
    let data = Resource::new(
        move || (namespace.clone(), name.clone()),
        |(ns, n)| get_wizard(ns, n),
    );
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(w) => view! { <Wizard w/> }.into_any(),
                    Err(crate::error::AppError::NotFound(_)) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Wizard(w: WizardView) -> impl IntoView {
    let title = format!("Backlot — {}", w.title);
    let action = wizard_href(&w.template);
    let header = view! {
        <Title text=title/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href=CREATE_PATH>"Create"</a>
            " / "
            <span>{w.title.clone()}</span>
        </nav>
        <div class="page-header">
            <h1>{w.title.clone()}</h1>
            {w.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
        </div>
    };
    if let Some(problem) = w.problem.clone() {
        return view! {
            {header}
            <div class="alert alert-error" role="alert" data-testid="template-problem">
                <div>
                    <p class="alert-title">"This template cannot be used"</p>
                    <p>{problem}</p>
                    <p>
                        "Fix the template's descriptor, then refresh its location. "
                        <a href=w.template.href()>"Template details"</a>
                    </p>
                </div>
            </div>
        }
        .into_any();
    }
    let review = w.on_review();
    let current = w.current;
    let preview = w.preview.clone();
    let steps = w.steps.clone();
    view! {
        {header}
        <ol class="stepper" aria-label="Steps">
            {steps
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let state = if i == current {
                        "current"
                    } else if i < current {
                        "done"
                    } else {
                        "todo"
                    };
                    view! {
                        <li
                            class=format!("step step-{state}")
                            class:step-skipped=!s.shown
                            aria-current=(i == current).then_some("step")
                        >
                            <span class="step-number">{i + 1}</span>
                            <span class="step-title">{s.title}</span>
                        </li>
                    }
                })
                .collect_view()}
            <li
                class=if review { "step step-current" } else { "step step-todo" }
                aria-current=review.then_some("step")
            >
                <span class="step-number">{w.steps.len() + 1}</span>
                <span class="step-title">"Review"</span>
            </li>
        </ol>
        {w.failure.clone().map(|f| view! { <ErrorNotice message=f/> })}
        {(!w.errors.is_empty())
            .then(|| {
                view! {
                    <div class="alert alert-error" role="alert">
                        <ul>{w.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                    </div>
                }
            })}
        {
            let checked = w.step.is_some();
            let form = view! {
                <form method="post" action=action.clone() class="card wizard-form" novalidate>
                    // Enter in a text box presses the first submit button: "Next" (or "Create").
                    <button
                        type="submit"
                        name=WIZARD_ACTION
                        value=if review { ACTION_CREATE } else { ACTION_NEXT }
                        class="visually-hidden"
                        tabindex="-1"
                        aria-hidden="true"
                    >
                        "Next"
                    </button>
                    <input type="hidden" name=WIZARD_STEP value=w.current.to_string()/>
                    <input type="hidden" name=WIZARD_VALUES value=w.values.clone()/>
                    {match w.step.clone() {
                        Some(step) => view! { <StepFields step/> }.into_any(),
                        None => view! { <Review sections=w.review.clone()/> }.into_any(),
                    }}
                    <div class="wizard-buttons">
                        {w
                            .can_go_back
                            .then(|| {
                                view! {
                                    <button type="submit" name=WIZARD_ACTION value=ACTION_BACK class="button">
                                        "Back"
                                    </button>
                                }
                            })}
                        {if review {
                            view! {
                                <button
                                    type="submit"
                                    name=WIZARD_ACTION
                                    value=ACTION_PREVIEW
                                    formaction=format!("{action}#preview")
                                    class="button"
                                >
                                    "Preview the files"
                                </button>
                                <button
                                    type="submit"
                                    name=WIZARD_ACTION
                                    value=ACTION_CREATE
                                    class="button button-primary"
                                >
                                    "Create"
                                </button>
                            }
                                .into_any()
                        } else {
                            view! {
                                <button type="submit" name=WIZARD_ACTION value=ACTION_NEXT class="button button-primary">
                                    "Next"
                                </button>
                            }
                                .into_any()
                        }}
                    </div>
                </form>
            };
            if checked {
                view! { <WizardChecks>{form}</WizardChecks> }.into_any()
            } else {
                form.into_any()
            }
        }
        {preview.map(|p| view! { <PreviewPanel preview=p/> })}
    }
    .into_any()
}

#[component]
fn StepFields(step: StepView) -> impl IntoView {
    view! {
        <h2 class="card-title">{step.title}</h2>
        {step.description.map(|d| view! { <p class="muted">{d}</p> })}
        {step.fields.into_iter().map(|f| view! { <FieldControl f/> }).collect_view()}
    }
}

#[component]
fn FieldControl(f: FieldView) -> impl IntoView {
    let id = dom_id(&f.path, "");
    let help_id = dom_id(&f.path, "help");
    let error_id = dom_id(&f.path, "error");
    let has_error = !f.errors.is_empty();
    let described = [
        (f.help.is_some() || f.description.is_some()).then(|| help_id.clone()),
        has_error.then(|| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let described = (!described.is_empty()).then_some(described);
    let invalid = has_error.then_some("true");
    let name = f.path.clone();
    let label_text = f.label.clone();
    let required = f.required;
    let label = move || {
        view! {
            {label_text.clone()}
            {required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}
        }
    };
    let notes = {
        let (description, help, errors) = (f.description.clone(), f.help.clone(), f.errors.clone());
        let help_id = help_id.clone();
        let error_id = error_id.clone();
        move || {
            view! {
                {(description.is_some() || help.is_some())
                    .then(|| {
                        view! {
                            <div class="field-help muted small" id=help_id.clone()>
                                {description.clone().map(|d| view! { <p>{d}</p> })}
                                {help.clone().map(|h| view! { <p>{h}</p> })}
                            </div>
                        }
                    })}
                {(!errors.is_empty())
                    .then(|| {
                        view! {
                            <div class="field-error" id=error_id.clone() role="alert">
                                {errors.iter().map(|e| view! { <p>{e.clone()}</p> }).collect_view()}
                            </div>
                        }
                    })}
            }
        }
    };
    // The page comes back scrolled to the field.
    let field_id = id.clone();
    let update = f.controls_others.then(|| {
        view! {
            <button
                type="submit"
                name=WIZARD_ACTION
                value=ACTION_UPDATE
                formaction=format!("#{field_id}")
                class="button button-small field-update"
            >
                "Update the form"
            </button>
        }
    });
    let class = if has_error {
        "field field-invalid"
    } else {
        "field"
    };
    let (placeholder, autofocus, readonly) = (f.placeholder.clone(), f.autofocus, f.readonly);
    // One choice (radio buttons) or several (check boxes).
    let choice_type = if matches!(f.control, Control::Radio { .. }) {
        "radio"
    } else {
        "checkbox"
    };
    match f.control {
        Control::Hidden { values } => values
            .into_iter()
            .map(|v| view! { <input type="hidden" name=name.clone() value=v/> })
            .collect_view()
            .into_any(),
        Control::Fieldset => view! {
            <fieldset class="field-group" data-field=name.clone()>
                <legend>{label()}</legend>
                {notes()}
                {f.children.into_iter().map(|c| view! { <FieldControl f=c/> }).collect_view()}
            </fieldset>
        }
        .into_any(),
        Control::Checkbox { checked } => view! {
            <div class=class data-field=name.clone()>
                // Unticked boxes post nothing: this says "false" (and a read-only box, which
                // posts nothing either, keeps its value).
                <input
                    type="hidden"
                    name=name.clone()
                    value=if readonly && checked { "true" } else { "false" }
                />
                <label class="check" for=id.clone()>
                    <input
                        type="checkbox"
                        id=id.clone()
                        name=name.clone()
                        value="true"
                        checked=checked
                        autofocus=autofocus
                        disabled=readonly
                        aria-invalid=invalid
                        aria-describedby=described.clone()
                    />
                    <span class="check-label">{label()}</span>
                </label>
                {update}
                {notes()}
            </div>
        }
        .into_any(),
        Control::Radio { choices } | Control::Checkboxes { choices } => view! {
            <fieldset
                class=format!("{class} choices")
                id=id.clone()
                data-field=name.clone()
                aria-describedby=described.clone()
            >
                <legend>{label()}</legend>
                {choices
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        view! {
                            <label class="check">
                                <input
                                    type=choice_type
                                    name=name.clone()
                                    value=c.value
                                    checked=c.selected
                                    autofocus=autofocus && i == 0
                                    aria-invalid=invalid
                                />
                                <span class="check-label">{c.label}</span>
                            </label>
                        }
                    })
                    .collect_view()}
                {update}
                {notes()}
            </fieldset>
        }
        .into_any(),
        Control::Select { choices, multiple } => view! {
            <div class=class data-field=name.clone()>
                // A disabled select posts nothing: its values go along hidden.
                {readonly
                    .then(|| {
                        choices
                            .iter()
                            .filter(|c| c.selected)
                            .map(|c| view! { <input type="hidden" name=name.clone() value=c.value.clone()/> })
                            .collect_view()
                    })}
                <label for=id.clone()>{label()}</label>
                <select
                    id=id.clone()
                    name=name.clone()
                    multiple=multiple
                    required=required
                    autofocus=autofocus
                    disabled=readonly
                    aria-invalid=invalid
                    aria-describedby=described.clone()
                >
                    {(!multiple).then(|| view! { <option value="">"Choose…"</option> })}
                    {choices
                        .into_iter()
                        .map(|c| view! { <option value=c.value selected=c.selected>{c.label}</option> })
                        .collect_view()}
                </select>
                {update}
                {notes()}
            </div>
        }
        .into_any(),
        Control::Textarea { value, rows } => view! {
            <div class=class data-field=name.clone()>
                <label for=id.clone()>{label()}</label>
                <textarea
                    id=id.clone()
                    name=name.clone()
                    rows=rows.to_string()
                    placeholder=placeholder
                    required=required
                    autofocus=autofocus
                    readonly=readonly
                    aria-invalid=invalid
                    aria-describedby=described.clone()
                >
                    {textarea_text(&value)}
                </textarea>
                {update}
                {notes()}
            </div>
        }
        .into_any(),
        Control::Input { input_type, value, suggestions, suggest } => {
            let list_id = (!suggestions.is_empty() || suggest.is_some())
                .then(|| dom_id(&f.path, "options"));
            view! {
                <div class=class data-field=name.clone()>
                    <label for=id.clone()>{label()}</label>
                    <input
                        step=(input_type == "number").then_some("any")
                        type=input_type
                        id=id.clone()
                        name=name.clone()
                        value=value
                        list=list_id.clone()
                        data-suggest=suggest
                        placeholder=placeholder
                        required=required
                        autofocus=autofocus
                        readonly=readonly
                        autocomplete="off"
                        aria-invalid=invalid
                        aria-describedby=described.clone()
                    />
                    {list_id
                        .map(|list_id| {
                            view! {
                                <datalist id=list_id>
                                    <PickerOptions choices=suggestions.clone()/>
                                </datalist>
                            }
                        })}
                    {update}
                    {notes()}
                </div>
            }
            .into_any()
        }
        Control::RepoUrl { hosts, owner, owners, repo, repos } => {
            let part = |p: &str| format!("{name}:{p}");
            let part_id = |p: &str| dom_id(&f.path, p);
            let free_or_select = |key: &'static str, title: &'static str, value: String, choices: Vec<ChoiceView>| {
                if choices.is_empty() {
                    view! {
                        <label for=part_id(key)>
                            <span>{title}</span>
                            <input
                                type="text"
                                id=part_id(key)
                                name=part(key)
                                value=value
                                required=required
                                autocomplete="off"
                                aria-invalid=invalid
                            />
                        </label>
                    }
                        .into_any()
                } else {
                    view! {
                        <label for=part_id(key)>
                            <span>{title}</span>
                            <select id=part_id(key) name=part(key) aria-invalid=invalid>
                                <option value="">"Choose…"</option>
                                {choices
                                    .into_iter()
                                    .map(|c| view! { <option value=c.value selected=c.selected>{c.label}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                        .into_any()
                }
            };
            view! {
                <fieldset class=format!("{class} repo-url") data-field=name.clone() aria-describedby=described.clone()>
                    <legend>{label()}</legend>
                    <label for=part_id("host")>
                        <span>"Host"</span>
                        <select id=part_id("host") name=part("host") aria-invalid=invalid autofocus=autofocus>
                            {hosts
                                .into_iter()
                                .map(|c| view! { <option value=c.value selected=c.selected>{c.label}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    {free_or_select("owner", "Owner", owner, owners)}
                    {free_or_select("repo", "Repository", repo, repos)}
                    {notes()}
                </fieldset>
            }
            .into_any()
        }
    }
}

/// An entity picker's suggestions (also what [`SUGGEST_PICKER_PATH`] answers).
#[component]
pub fn PickerOptions(choices: Vec<ChoiceView>) -> impl IntoView {
    choices
        .into_iter()
        .map(|c| view! { <option value=c.value>{c.label}</option> })
        .collect_view()
}

#[component]
fn Review(sections: Vec<ReviewSectionView>) -> impl IntoView {
    view! {
        <h2 class="card-title">"Review"</h2>
        <p class="muted">"Check what you entered, then create. Secret values are not shown."</p>
        {sections
            .into_iter()
            .map(|s| {
                view! {
                    <section class="review-section">
                        <h3>{s.title}</h3>
                        {if s.items.is_empty() {
                            view! { <p class="muted small">"Nothing entered on this step."</p> }.into_any()
                        } else {
                            view! {
                                <dl class="kv review">
                                    {s
                                        .items
                                        .into_iter()
                                        .map(|i| {
                                            view! {
                                                <dt>{i.title}</dt>
                                                <dd data-field=i.path class:masked=i.masked>{i.value}</dd>
                                            }
                                        })
                                        .collect_view()}
                                </dl>
                            }
                                .into_any()
                        }}
                    </section>
                }
            })
            .collect_view()}
    }
}

type ReviewSectionView = crate::scaffolder::ReviewSection;

/// A `<textarea>`'s text, escaped: Leptos writes a textarea's children as they are (it does
/// not escape them), so a value holding `</textarea>` would end the element.
fn textarea_text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A byte count in words (`812 bytes`, `4.2 KiB`).
fn size_label(bytes: u64) -> String {
    if bytes < 1024 {
        plural(bytes as usize, "byte", "bytes")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// A template's dry-run: its steps, the files as a tree and each file's contents, the log and
/// the output, or why it failed. Plain HTML: the files are `<details>`, opened by a click.
#[component]
pub fn PreviewPanel(preview: PreviewView) -> impl IntoView {
    let PreviewView {
        steps,
        tree,
        files,
        log,
        output,
        error,
        invalid,
        stand_ins,
    } = preview;
    let file_count = files.len();
    view! {
        <section class="card preview" id="preview" aria-labelledby="preview-heading" data-testid="preview">
            <h2 id="preview-heading" class="card-title">"Preview"</h2>
            <p class="muted small">
                "A dry-run of the template with these values: nothing was created, published, registered or stored. Steps that reach outside are skipped here and run when you create."
            </p>
            {error
                .map(|e| {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="preview-error">
                            <div>
                                <p class="alert-title">"The dry-run failed"</p>
                                <p>{e}</p>
                                {(!invalid.is_empty())
                                    .then(|| view! { <ul>{invalid.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> })}
                            </div>
                        </div>
                    }
                })}
            {(!steps.is_empty())
                .then(|| {
                    view! {
                        <h3>"Steps"</h3>
                        <ol class="preview-steps">
                            {steps
                                .into_iter()
                                .map(|s| {
                                    let label = match s.status.as_str() {
                                        "completed" => "ran",
                                        "skipped" => "skipped",
                                        "failed" => "failed",
                                        _ => "not reached",
                                    };
                                    let title = if s.name.is_empty() || s.name == s.id {
                                        s.id.clone()
                                    } else {
                                        format!("{} ({})", s.name, s.id)
                                    };
                                    view! {
                                        <li class=format!("task-step task-step-{}", s.status) data-step=s.id>
                                            <span class="task-step-name">{title}</span>
                                            <code class="small">{s.action}</code>
                                            <span class=format!("task-status task-status-{}", s.status)>{label}</span>
                                            {s.note.map(|n| view! { <span class="preview-note muted small">{n}</span> })}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                })}
            <h3>{plural(file_count, "file", "files")}</h3>
            {if files.is_empty() {
                view! { <p class="muted small">"The template writes no files."</p> }.into_any()
            } else {
                view! {
                    <ul class="file-tree" data-testid="file-tree">
                        {tree
                            .into_iter()
                            .map(|e| {
                                let style = format!("--depth: {}", e.depth);
                                match e.file {
                                    Some(i) => view! {
                                        <li style=style>
                                            <a href=format!("#preview-file-{i}")>{e.name}</a>
                                        </li>
                                    }
                                        .into_any(),
                                    None => view! { <li style=style class="file-tree-folder">{e.name}</li> }.into_any(),
                                }
                            })
                            .collect_view()}
                    </ul>
                    <div class="preview-files">
                        {files
                            .into_iter()
                            .enumerate()
                            .map(|(i, f)| {
                                let size = size_label(f.size);
                                view! {
                                    <details class="preview-file" id=format!("preview-file-{i}") data-path=f.path.clone()>
                                        <summary>
                                            <code>{f.path.clone()}</code>
                                            " "
                                            <span class="muted small">
                                                {size.clone()}
                                                {f.executable.then_some(", executable")}
                                            </span>
                                        </summary>
                                        {match f.text {
                                            Some(text) => view! {
                                                <pre class="preview-text">{text}</pre>
                                                {f.truncated
                                                    .then(|| view! {
                                                        <p class="muted small">
                                                            {format!("Only the start of the file is shown: it has {size}.")}
                                                        </p>
                                                    })}
                                            }
                                                .into_any(),
                                            None if f.truncated => view! {
                                                <p class="muted small">"Not shown: the preview shows the contents of the first files only."</p>
                                            }
                                                .into_any(),
                                            None => view! {
                                                <p class="muted small">{format!("A binary file of {size}: its contents are not shown.")}</p>
                                            }
                                                .into_any(),
                                        }}
                                    </details>
                                }
                            })
                            .collect_view()}
                    </div>
                }
                    .into_any()
            }}
            {output
                .map(|o| {
                    view! {
                        <h3>"Output"</h3>
                        {stand_ins
                            .then(|| {
                                view! {
                                    <p class="muted small">
                                        "What the skipped steps would give is an example here: the real values come when you create."
                                    </p>
                                }
                            })}
                        <pre class="preview-output" data-testid="preview-output">{o}</pre>
                    }
                })}
            <details class="preview-log-box">
                <summary>{format!("Log ({})", plural(log.len(), "line", "lines"))}</summary>
                <pre class="task-log" data-testid="preview-log">
                    {log.into_iter().map(|l| format!("{l}\n")).collect::<String>()}
                </pre>
            </details>
        </section>
    }
}

/// `/create/edit`: paste a template, its files and values, and dry-run it.
#[component]
pub fn TemplateEditPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_template_edit());
    view! {
        <Title text="Backlot — Template editor"/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href=CREATE_PATH>"Create"</a>
            " / "
            <span>"Template editor"</span>
        </nav>
        <div class="page-header">
            <h1>"Template editor"</h1>
            <p class="muted">
                "Paste a template, the files it uses and values for its parameters, then dry-run it: see its problems, the files it would write, its log and output. Nothing is saved, published or registered."
            </p>
        </div>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(e) => view! { <TemplateEditor e/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TemplateEditor(e: EditView) -> impl IntoView {
    let ok = e.posted && e.problems.is_empty();
    view! {
        <form method="post" action=format!("{EDIT_PATH}#results") class="card wizard-form template-editor">
            <div class="field">
                <label for="edit-template">"Template (YAML)"</label>
                <textarea id="edit-template" name="template" rows="18" spellcheck="false" class="code-input">
                    {textarea_text(&e.template)}
                </textarea>
                <p class="field-help muted small">
                    "A " <code>"kind: Template"</code> " of " <code>"apiVersion: scaffolder.backstage.io/v1beta3"</code>
                    ", as you would put it in the catalog. Problems are reported with their line."
                </p>
            </div>
            <div class="field">
                <label for="edit-files">"Files"</label>
                <textarea id="edit-files" name="files" rows="14" spellcheck="false" class="code-input">
                    {textarea_text(&e.files)}
                </textarea>
                <div class="field-help muted small" id="edit-files-help">
                    <p>
                        "Every file the template reads, each after a line " <code>"==> path <=="</code>
                        ", with paths relative to the template's folder (a " <code>"url: ./skeleton"</code>
                        " reads the files under " <code>"skeleton/"</code> "). This is what "
                        <code>"tail -n +1 skeleton/*"</code>
                        " prints, so a skeleton can be pasted from a terminal (for nested folders: "
                        <code>"find skeleton -type f -exec tail -n +1 {} +"</code> ")."
                    </p>
                </div>
            </div>
            <div class="field">
                <label for="edit-values">"Values (YAML or JSON)"</label>
                <textarea id="edit-values" name="values" rows="6" spellcheck="false" class="code-input">
                    {textarea_text(&e.values)}
                </textarea>
                <p class="field-help muted small">
                    "The parameters' values, as the wizard would send them: " <code>"name: orders"</code>
                    " lines or a JSON object. They are checked against the template's parameters."
                </p>
            </div>
            <div class="wizard-buttons">
                <button type="submit" class="button button-primary">"Dry-run"</button>
            </div>
        </form>
        <div id="results">
            {(!e.problems.is_empty())
                .then(|| {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="template-problems">
                            <div>
                                <p class="alert-title">
                                    {format!("The template has {}", plural(e.problems.len(), "problem", "problems"))}
                                </p>
                                <ul>{e.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
                            </div>
                        </div>
                    }
                })}
            {ok.then(|| view! { <p class="muted small" data-testid="template-valid">"The template has no problems."</p> })}
            {e.preview.map(|p| view! { <PreviewPanel preview=p/> })}
        </div>
    }
}
