//! The software templates pages' side of the server: implements `app::services::Scaffolder`
//! over what the caller sees (the catalog's [`Facade`]) and the [`TaskService`].
//!
//! - The templates list: the `scaffolder.backstage.io/v1beta3` Template entities the caller
//!   sees, filtered by text, tag, owner and type.
//! - The wizard: a step's post read with `app::scaffolder` ([`advance`]: decoded, validated, on
//!   to the next step shown or back), and the step as [`WizardView`]: each field's control,
//!   value and errors, the entity pickers' choices read from the catalog (`catalogFilter`,
//!   `allowedKinds`, ownership, the caller's groups), and the review with secrets masked.
//! - A task: its steps' states and durations followed from its events, the log, and the
//!   output (links; texts as Markdown rendered and sanitised by the docs renderer).
//! - The actions this server runs (the task service's) with their schemas as property tables.

use super::tasks::{TaskEvent, TaskService, TEMPLATE_API_VERSION};
use crate::catalog::facade::{Facade, Visible};
use crate::catalog::query::{Filter, OrderField, Query};
use crate::catalog::snapshot::Record;
use crate::policy::{Permission, Resource};
use app::error::{AppError, FieldError};
use app::model::{Caller, EntityRef};
use app::scaffolder::validate::RepoUrl;
use app::scaffolder::{
    check_post, form_values, read_post, review, Context, Field, FieldExtension, FieldType, Pages,
    Secrecy, Widget,
};
use app::services::{BoxFuture, Scaffolder};
use app::templates::*;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Most choices an entity picker's list (`<select>`) holds.
const MAX_CHOICES: usize = 1000;
/// Most suggestions a typed entity picker carries in the page, and answers per text typed;
/// beyond them the browser asks for those matching what is typed.
pub const MAX_SUGGESTIONS: usize = 100;
/// Most tasks the tasks page lists.
const TASKS_PAGE: u32 = 100;
/// The hosts a RepoUrlPicker offers when its `allowedHosts` does not say.
const DEFAULT_HOSTS: [&str; 1] = ["github.com"];

/// The pages' service.
pub struct ScaffolderViews {
    pub facade: Facade,
    pub tasks: TaskService,
}

/// Whether a record is a Template this server runs.
fn is_template(v: &Visible, r: &Record) -> bool {
    r.fields().lc_kind() == "template" && v.value(r)["apiVersion"] == TEMPLATE_API_VERSION
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

impl ScaffolderViews {
    fn allowed(&self, caller: &Caller, permission: Permission) -> bool {
        self.facade
            .policy()
            .decide(caller, permission, &Resource::None)
            .allowed
    }

    /// The Template entity `namespace/name` the caller may read and run.
    fn template(&self, caller: &Caller, namespace: &str, name: &str) -> Result<Value, AppError> {
        let visible = self.facade.read(caller);
        let not_found = || AppError::NotFound(format!("no template named {namespace}/{name}"));
        let record = visible
            .get("template", namespace, name)
            .filter(|r| is_template(&visible, r))
            .ok_or_else(not_found)?;
        self.facade
            .authorize(caller, Permission::ScaffolderTemplateRead, &Resource::None)?;
        Ok(visible.value(record))
    }

    /// The errors of a step's post of the template `namespace/name` ([`step_errors`]).
    pub fn check_step(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        post: &[(String, String)],
    ) -> Result<Vec<FieldError>, AppError> {
        let template = self.template(caller, namespace, name)?;
        let pages = Pages::from_template(&template)
            .map_err(|e| AppError::invalid(format!("its parameters cannot be read: {e}")))?;
        Ok(step_errors(&pages, post))
    }

    /// What an entity picker offers: the catalog's entities its options select (the first
    /// [`MAX_SUGGESTIONS`]), and whether there are more, which the browser then asks for as
    /// the user types.
    fn entity_choices(
        &self,
        caller: &Caller,
        field: &Field,
        current: &[String],
        limit: usize,
    ) -> (Vec<ChoiceView>, bool) {
        let (refs, more): (Vec<(String, String)>, bool) =
            if field.ui.field == Some(FieldExtension::MyGroupsPicker) {
                let visible = self.facade.read(caller);
                let groups = caller
                    .groups
                    .iter()
                    .map(|g| {
                        let title = visible
                            .get(&g.kind, &g.namespace, &g.name)
                            .and_then(|r| r.title().map(str::to_string));
                        (g.to_ref_string(), title.unwrap_or_else(|| g.display()))
                    })
                    .collect();
                (groups, false)
            } else {
                self.matching(caller, &Picker::of(field), None, limit)
            };
        let mut choices: Vec<ChoiceView> = refs
            .into_iter()
            .map(|(value, label)| ChoiceView {
                selected: current.iter().any(|c| c.eq_ignore_ascii_case(&value)),
                value,
                label,
            })
            .collect();
        // A value the catalog does not list (typed, or from a default) stays choosable.
        for c in current {
            if !choices.iter().any(|x| x.value.eq_ignore_ascii_case(c)) {
                choices.push(ChoiceView {
                    value: c.clone(),
                    label: c.clone(),
                    selected: true,
                });
            }
        }
        (choices, more)
    }

    /// The entities a picker offers whose name, title or description holds `text` (all of them
    /// without a text), at most `limit`, as (reference, label); and whether there are more.
    fn matching(
        &self,
        caller: &Caller,
        picker: &Picker,
        text: Option<&str>,
        limit: usize,
    ) -> (Vec<(String, String)>, bool) {
        let filter = match Filter::parse(&picker.filters) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(filters = ?picker.filters, error = %e, "a picker's catalogFilter cannot be read");
                Filter::default()
            }
        };
        let visible = self.facade.read(caller);
        let mine: Vec<String> = caller
            .user
            .iter()
            .chain(&caller.groups)
            .map(|r| r.to_ref_string().to_lowercase())
            .collect();
        let query = Query {
            filter,
            text: text
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty()),
            order: vec![OrderField {
                field: "metadata.name".into(),
                descending: false,
            }],
            text_fields: Vec::new(),
        };
        let mut found = visible
            .query(&query)
            .into_iter()
            .map(|i| visible.record(i))
            .filter(|r| {
                !picker.owned
                    || r.related("ownedBy")
                        .any(|x| mine.contains(&x.target().to_ref_string().to_lowercase()))
            })
            .map(|r| {
                let entity = r.entity_ref();
                let label = match r.title() {
                    Some(t) => format!("{t} ({})", entity.display()),
                    None => entity.to_ref_string(),
                };
                (entity.to_ref_string(), label)
            });
        let refs: Vec<(String, String)> = found.by_ref().take(limit).collect();
        let more = found.next().is_some();
        (refs, more)
    }

    /// The entities a picker offers that match what was typed (`/create/suggest`).
    pub fn suggestions(&self, caller: &Caller, picker: &Picker, text: &str) -> Vec<ChoiceView> {
        // The box holds references: `group:default/team-a` is looked for as `team-a`.
        let name = text.rsplit(['/', ':']).next().unwrap_or(text);
        self.matching(caller, picker, Some(name), MAX_SUGGESTIONS)
            .0
            .into_iter()
            .map(|(value, label)| ChoiceView {
                value,
                label,
                selected: false,
            })
            .collect()
    }

    /// A field's view for these values; `errors` are the errors of the step.
    fn field_view(
        &self,
        caller: &Caller,
        field: &Field,
        values: &Value,
        controls: &BTreeSet<String>,
        errors: &[FieldError],
    ) -> FieldView {
        let shown = form_values(field, values);
        let first = shown.first().cloned().unwrap_or_default();
        let options = &field.ui.options;
        let arbitrary = options
            .get("allowArbitraryValues")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let choices_of = |field: &Field, selected: &[String]| -> Vec<ChoiceView> {
            field
                .choices
                .iter()
                .map(|c| {
                    let value = c.form_value();
                    ChoiceView {
                        selected: selected.contains(&value),
                        value,
                        label: c.label.clone(),
                    }
                })
                .collect()
        };
        let widget = field.ui.widget.clone();
        let mut children = Vec::new();
        let control = match (&field.ui.field, &widget) {
            (_, Some(Widget::Hidden)) => Control::Hidden { values: shown },
            (Some(FieldExtension::RepoUrlPicker), _) => repo_url_control(field, &first),
            (
                Some(
                    FieldExtension::EntityPicker
                    | FieldExtension::OwnerPicker
                    | FieldExtension::OwnedEntityPicker
                    | FieldExtension::MyGroupsPicker,
                ),
                _,
            ) => {
                if arbitrary && field.ui.field != Some(FieldExtension::MyGroupsPicker) {
                    let (suggestions, more) =
                        self.entity_choices(caller, field, &shown, MAX_SUGGESTIONS);
                    Control::Input {
                        input_type: "text".into(),
                        value: first,
                        suggestions,
                        suggest: more.then(|| Picker::of(field).suggest_url()),
                    }
                } else {
                    Control::Select {
                        choices: self.entity_choices(caller, field, &shown, MAX_CHOICES).0,
                        multiple: false,
                    }
                }
            }
            (Some(FieldExtension::MultiEntityPicker), _) => Control::Select {
                choices: self.entity_choices(caller, field, &shown, MAX_CHOICES).0,
                multiple: true,
            },
            (Some(FieldExtension::EntityTagsPicker), _) => Control::Input {
                input_type: "text".into(),
                value: shown.join(", "),
                suggestions: Vec::new(),
                suggest: None,
            },
            (Some(FieldExtension::Secret), _) | (_, Some(Widget::Password)) => Control::Input {
                input_type: "password".into(),
                value: first,
                suggestions: Vec::new(),
                suggest: None,
            },
            _ if field.kind == FieldType::Boolean => match widget {
                Some(Widget::Radio | Widget::Select) => {
                    let choices = [("true", "Yes"), ("false", "No")]
                        .into_iter()
                        .map(|(v, l)| ChoiceView {
                            value: v.into(),
                            label: l.into(),
                            selected: first == v,
                        })
                        .collect();
                    if widget == Some(Widget::Radio) {
                        Control::Radio { choices }
                    } else {
                        Control::Select {
                            choices,
                            multiple: false,
                        }
                    }
                }
                _ => Control::Checkbox {
                    checked: first == "true",
                },
            },
            _ if field.is_multiple_choice() => {
                let item = field.items.as_deref().unwrap_or(field);
                let choices = choices_of(item, &shown);
                if widget == Some(Widget::Select) {
                    Control::Select {
                        choices,
                        multiple: true,
                    }
                } else {
                    Control::Checkboxes { choices }
                }
            }
            _ if !field.choices.is_empty() => {
                let choices = choices_of(field, &shown);
                if widget == Some(Widget::Radio) {
                    Control::Radio { choices }
                } else {
                    Control::Select {
                        choices,
                        multiple: false,
                    }
                }
            }
            _ if field.has_fields() => {
                let inner = controlling(&field.schema);
                children = field
                    .fields
                    .iter()
                    .map(|c| self.field_view(caller, c, values, &inner, errors))
                    .collect();
                Control::Fieldset
            }
            _ if matches!(field.kind, FieldType::Object | FieldType::Array)
                || widget == Some(Widget::Textarea) =>
            {
                let rows = options
                    .get("rows")
                    .and_then(Value::as_u64)
                    .map(|r| r.clamp(1, 40) as u32)
                    .unwrap_or(4);
                let list_of_text = field.kind == FieldType::Array
                    && field
                        .items
                        .as_deref()
                        .is_none_or(|i| !matches!(i.kind, FieldType::Object | FieldType::Array));
                Control::Textarea {
                    value: if list_of_text {
                        shown.join("\n")
                    } else {
                        first
                    },
                    rows,
                }
            }
            _ => {
                let input_type = match (field.kind, field.format.as_deref()) {
                    (FieldType::Number | FieldType::Integer, _) => "number",
                    (_, Some("email")) => "email",
                    (_, Some("uri" | "url")) => "url",
                    (_, Some("date")) => "date",
                    _ => "text",
                };
                Control::Input {
                    input_type: input_type.into(),
                    value: first,
                    suggestions: Vec::new(),
                    suggest: None,
                }
            }
        };
        let own_errors = errors
            .iter()
            .filter(|e| owns_error(field, &e.field))
            .map(|e| e.message.clone())
            .collect();
        FieldView {
            path: field.path.clone(),
            label: field.label().to_string(),
            description: field.description.clone(),
            help: field.ui.help.clone(),
            placeholder: field.ui.placeholder.clone(),
            required: field.required,
            autofocus: field.ui.autofocus,
            readonly: field.ui.readonly || field.ui.disabled,
            controls_others: controls.contains(&field.name),
            control,
            errors: own_errors,
            children,
        }
    }

    fn wizard_view(
        &self,
        caller: &Caller,
        template: &Value,
        entity: EntityRef,
        post: Option<&[(String, String)]>,
        failure: Option<String>,
    ) -> WizardView {
        let metadata = &template["metadata"];
        let mut view = WizardView {
            title: text(&metadata["title"]).unwrap_or_else(|| entity.name.clone()),
            description: text(&metadata["description"]),
            template: entity,
            steps: Vec::new(),
            current: 0,
            values: "{}".into(),
            step: None,
            review: Vec::new(),
            errors: Vec::new(),
            failure,
            problem: None,
            can_go_back: false,
            preview: None,
        };
        let pages = match Pages::from_template(template) {
            Ok(pages) => pages,
            Err(e) => {
                view.problem = Some(format!("Its parameters cannot be read: {e}."));
                return view;
            }
        };
        let problems = super::check::template_problems(
            template,
            self.tasks.actions(),
            &super::Renderer::new(),
        );
        if !problems.is_empty() {
            let listed: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect();
            view.problem = Some(format!("It cannot run as written: {}.", listed.join("; ")));
            return view;
        }
        let context = Context::default();
        let step = advance(&pages, post);
        let visible = pages.visible(&step.values, &context);
        view.steps = pages
            .pages
            .iter()
            .zip(&visible)
            .map(|(p, shown)| StepLabel {
                title: p.label(),
                shown: *shown,
            })
            .collect();
        view.current = step.at;
        view.can_go_back = visible.iter().take(step.at).any(|v| *v);
        view.values = step.values.to_string();
        match pages.get(step.at) {
            Some(page) => {
                let controls = controlling(&page.schema);
                let fields: Vec<FieldView> = page
                    .visible_fields(&step.values)
                    .iter()
                    .map(|f| self.field_view(caller, f, &step.values, &controls, &step.errors))
                    .collect();
                let placed = page.all_visible_fields(&step.values);
                view.errors = step
                    .errors
                    .iter()
                    .filter(|e| !placed.iter().any(|f| owns_error(f, &e.field)))
                    .map(|e| e.message.clone())
                    .collect();
                view.step = Some(StepView {
                    title: page.label(),
                    description: page.description.clone(),
                    fields,
                });
            }
            None => view.review = review(&pages, &step.values, &context),
        }
        view
    }

    fn task_view(
        &self,
        caller: &Caller,
        task: super::tasks::Task,
        events: &[TaskEvent],
    ) -> TaskView {
        let spec = &task.spec;
        let template = spec["templateInfo"]["entityRef"]
            .as_str()
            .and_then(EntityRef::from_ref_string);
        let meta = &spec["templateInfo"]["entity"]["metadata"];
        let template_title = text(&meta["title"])
            .or_else(|| text(&meta["name"]))
            .or_else(|| template.as_ref().map(|t| t.name.clone()))
            .unwrap_or_else(|| "a template".into());
        struct Step {
            id: String,
            name: String,
            status: String,
            started: Option<i64>,
            ended: Option<i64>,
        }
        let mut steps: Vec<Step> = spec["steps"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let id = text(&s["id"]).unwrap_or_else(|| format!("step-{}", i + 1));
                Step {
                    name: text(&s["name"]).unwrap_or_else(|| id.clone()),
                    id,
                    status: "open".into(),
                    started: None,
                    ended: None,
                }
            })
            .collect();
        let mut log = Vec::new();
        let mut links = Vec::new();
        let mut texts = Vec::new();
        let mut error = None;
        for event in events {
            let body = &event.body;
            let at = crate::util::parse_rfc3339_ms(&event.created_at);
            let step_id = body["stepId"].as_str();
            let step = step_id.and_then(|id| steps.iter_mut().find(|s| s.id == id));
            let status = body["status"].as_str();
            let mut step_name = None;
            if let Some(step) = step {
                step_name = Some(step.name.clone());
                match status {
                    Some("processing") => {
                        step.status = "processing".into();
                        step.started = at;
                    }
                    Some(s) => {
                        step.status = s.to_string();
                        step.ended = at;
                    }
                    None if event.event_type == "completion" && body.get("error").is_some() => {
                        step.status = "failed".into();
                        step.ended = step.ended.or(at);
                    }
                    None => {}
                }
            }
            if let Some(message) = body["message"].as_str() {
                log.push(LogLineView {
                    at: event.created_at.get(11..19).unwrap_or_default().to_string(),
                    step: step_name,
                    message: message.to_string(),
                });
            }
            if event.event_type == "completion" {
                if let Some(e) = body["error"]["message"].as_str() {
                    error = Some(e.to_string());
                }
                let output = &body["output"];
                links = output_links(output);
                texts = output_texts(output);
            }
        }
        let ended = !matches!(task.status.as_str(), "open" | "processing" | "waiting");
        let steps = steps
            .into_iter()
            .map(|s| {
                let status = match s.status.as_str() {
                    "processing" if ended => task.status.clone(),
                    "open" if ended => "notrun".to_string(),
                    other => other.to_string(),
                };
                let duration = match (s.started, s.ended) {
                    (Some(a), Some(b)) => Some(format_duration(b - a)),
                    _ => None,
                };
                TaskStepView {
                    id: s.id,
                    name: s.name,
                    status,
                    duration,
                }
            })
            .collect();
        let created_by = task
            .created_by
            .as_deref()
            .and_then(EntityRef::from_ref_string);
        let own = matches!((&caller.user, &task.created_by), (Some(u), Some(by)) if u.to_ref_string() == *by);
        let may_create = self.allowed(caller, Permission::ScaffolderTaskCreate);
        let may_cancel_any = self.allowed(caller, Permission::ScaffolderTaskCancel);
        let may_manage = |retry: bool| {
            if own {
                may_create
            } else {
                may_cancel_any && (!retry || may_create)
            }
        };
        let needs_secrets = template
            .as_ref()
            .and_then(|t| {
                let visible = self.facade.read(caller);
                visible
                    .get("template", &t.namespace, &t.name)
                    .map(|r| visible.value(r))
            })
            .and_then(|entity| Pages::from_template(&entity).ok())
            .is_some_and(|pages| {
                pages.pages.iter().any(|page| {
                    page.all_visible_fields(&Value::Null)
                        .iter()
                        .any(|f| f.secrecy() == Some(Secrecy::Secret))
                })
            });
        let retryable = matches!(task.status.as_str(), "failed" | "cancelled");
        TaskView {
            last_event: events.last().map(|e| e.id),
            can_cancel: !ended && may_manage(false),
            can_retry: retryable && !needs_secrets && may_manage(true),
            needs_secrets: retryable && needs_secrets,
            id: task.id,
            template,
            template_title,
            created_by,
            created_at: task.created_at,
            status: task.status,
            steps,
            log,
            links,
            texts,
            error,
            approval: None,
        }
    }
}

/// `1.2 s`, `340 ms`, `2 min 5 s`.
fn format_duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// `output.links`: a URL (http, https or mailto) or an entity's page.
fn output_links(output: &Value) -> Vec<OutputLink> {
    output["links"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|l| {
            let title = text(&l["title"]);
            if let Some(url) = l["url"].as_str().filter(|u| app::format::is_safe_url(u)) {
                return Some(OutputLink {
                    title: title.unwrap_or_else(|| url.to_string()),
                    href: url.to_string(),
                    entity: false,
                });
            }
            let reference = l["entityRef"].as_str()?;
            let parsed = crate::catalog::reference::parse_ref(reference, None, "default").ok()?;
            Some(OutputLink {
                title: title.unwrap_or_else(|| parsed.to_ref_string()),
                href: parsed.href(),
                entity: true,
            })
        })
        .collect()
}

/// `output.text`: each Markdown content rendered and sanitised as docs pages are.
fn output_texts(output: &Value) -> Vec<OutputText> {
    output["text"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|t| {
            let content = t["content"].as_str()?;
            Some(OutputText {
                title: text(&t["title"]).unwrap_or_else(|| "Output".into()),
                html: crate::docs::render_snippet(content),
            })
        })
        .collect()
}

/// Whether an error at `path` belongs to `field`: its own path, or below it (a list's item).
fn owns_error(field: &Field, path: &str) -> bool {
    app::components::wizard_checks::shows_error(&field.path, field.has_fields(), path)
}

/// The properties of an object schema whose value decides which other fields it shows:
/// `dependencies` keys, and those `allOf`/`anyOf`/`oneOf` branches' `if` look at.
fn controlling(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(deps) = schema["dependencies"].as_object() {
        out.extend(deps.keys().cloned());
    }
    let mut ifs = vec![&schema["if"]];
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = schema[key].as_array() {
            ifs.extend(branches.iter().map(|b| &b["if"]));
        }
    }
    for condition in ifs {
        if let Some(props) = condition["properties"].as_object() {
            out.extend(props.keys().cloned());
        }
        if let Some(required) = condition["required"].as_array() {
            out.extend(
                required
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string),
            );
        }
    }
    out
}

/// Which entities an entity picker offers: its catalog filters (`catalogFilter`, else
/// `allowedKinds`, else groups and users for an OwnerPicker), and whether only those the
/// caller (or one of their groups) owns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picker {
    pub filters: Vec<String>,
    pub owned: bool,
}

impl Picker {
    pub fn of(field: &Field) -> Picker {
        let options = &field.ui.options;
        let mut filters = catalog_filter(options.get("catalogFilter"));
        if filters.is_empty() {
            if let Some(kinds) = options.get("allowedKinds").and_then(Value::as_array) {
                let kinds: Vec<String> = kinds
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|k| format!("kind={k}"))
                    .collect();
                filters.push(kinds.join(","));
            } else if field.ui.field == Some(FieldExtension::OwnerPicker) {
                filters.push("kind=group,kind=user".into());
            }
        }
        Picker {
            filters,
            owned: field.ui.field == Some(FieldExtension::OwnedEntityPicker),
        }
    }

    /// The picker a [`Picker::suggest_url`] names, and the text typed (`q`), from its query.
    pub fn from_query(query: &str) -> (Picker, String) {
        let mut picker = Picker::default();
        let mut text = String::new();
        for (key, value) in app::query::parse_query_string(query) {
            match key.as_str() {
                "filter" => picker.filters.push(value),
                "owned" => picker.owned = value == "true",
                "q" => text = value,
                _ => {}
            }
        }
        (picker, text)
    }

    /// Where the browser asks for this picker's entities matching a text (`&q=` follows).
    pub fn suggest_url(&self) -> String {
        let mut url = format!("{SUGGEST_PICKER_PATH}?owned={}", self.owned);
        for f in &self.filters {
            url.push_str("&filter=");
            url.push_str(&app::query::encode_component(f));
        }
        url
    }
}

/// `ui:options.catalogFilter` (one object or a list: alternatives) as filter strings, the
/// catalog's syntax (`kind=group,kind=user,spec.type=team`); `{$exists: true}` is the bare key.
fn catalog_filter(value: Option<&Value>) -> Vec<String> {
    let objects: Vec<&Value> = match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    objects
        .into_iter()
        .filter_map(Value::as_object)
        .map(|o| {
            let mut parts = Vec::new();
            for (key, v) in o {
                match v {
                    Value::String(s) => parts.push(format!("{key}={s}")),
                    Value::Array(list) => parts.extend(
                        list.iter()
                            .filter_map(|x| x.as_str().map(|s| format!("{key}={s}"))),
                    ),
                    Value::Object(m) if m.get("$exists") == Some(&Value::Bool(true)) => {
                        parts.push(key.clone())
                    }
                    Value::Number(_) | Value::Bool(_) => parts.push(format!("{key}={v}")),
                    _ => {}
                }
            }
            parts.join(",")
        })
        .filter(|f| !f.is_empty())
        .collect()
}

fn repo_url_control(field: &Field, value: &str) -> Control {
    let parsed = RepoUrl::parse(value).unwrap_or_default();
    let list = |key: &str| -> Vec<String> {
        field
            .ui
            .options
            .get(key)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let choices = |list: Vec<String>, chosen: &str| -> Vec<ChoiceView> {
        list.into_iter()
            .map(|v| ChoiceView {
                selected: v == chosen,
                label: v.clone(),
                value: v,
            })
            .collect()
    };
    let mut hosts = list("allowedHosts");
    if hosts.is_empty() {
        hosts = DEFAULT_HOSTS.iter().map(|h| h.to_string()).collect();
    }
    let owner = parsed.get("owner").unwrap_or_default().to_string();
    let repo = parsed.get("repo").unwrap_or_default().to_string();
    Control::RepoUrl {
        hosts: choices(hosts, &parsed.host),
        owners: choices(list("allowedOwners"), &owner),
        repos: choices(list("allowedRepos"), &repo),
        owner,
        repo,
    }
}

/// The last value posted under `key`.
fn last_field<'a>(post: &'a [(String, String)], key: &str) -> Option<&'a str> {
    post.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// What a step's post carries besides its fields: the values so far and the step it shows
/// (`pages.len()`: the review).
fn carried(pages: &Pages, post: &[(String, String)]) -> (Value, usize) {
    let values = last_field(post, WIZARD_VALUES)
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let at = last_field(post, WIZARD_STEP)
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(pages.len());
    (values, at)
}

/// The errors "Next" would find in a step's post, without moving on (what the wizard's island
/// asks as the user types).
pub fn step_errors(pages: &Pages, post: &[(String, String)]) -> Vec<FieldError> {
    let (values, at) = carried(pages, post);
    match pages.get(at) {
        Some(page) => check_post(page, post, &values, &Context::default()).errors,
        None => Vec::new(),
    }
}

/// Where a step's post leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Advance {
    /// The step to show; `pages.len()` is the review.
    pub at: usize,
    /// Every value so far.
    pub values: Value,
    /// The errors of the step shown.
    pub errors: Vec<FieldError>,
    /// "Create" was pressed and every value is valid: start the task.
    pub create: bool,
}

/// Reads a step's post (`None`: the first display): decodes the step's fields with the values
/// carried from the other steps, then moves as its button asks: on to the next step shown once
/// this one is valid (the review after the last), back, the same step again (a choice that
/// reveals fields), or, from the review, to creating when every step shown is valid (else to the
/// first step with an error).
pub fn advance(pages: &Pages, post: Option<&[(String, String)]>) -> Advance {
    let context = Context::default();
    let n = pages.len();
    let empty = Value::Object(Map::new());
    let next_shown = |values: &Value, from: usize| -> usize {
        let visible = pages.visible(values, &context);
        (from..n).find(|&i| visible[i]).unwrap_or(n)
    };
    let with_defaults = |at: usize, values: Value| match pages.get(at) {
        Some(page) => page.with_defaults(&values),
        None => values,
    };
    let Some(post) = post else {
        let at = next_shown(&empty, 0);
        return Advance {
            at,
            values: with_defaults(at, empty),
            errors: Vec::new(),
            create: false,
        };
    };
    let (mut values, at) = carried(pages, post);
    let action = last_field(post, WIZARD_ACTION).unwrap_or(ACTION_NEXT);
    let mut errors = Vec::new();
    if let Some(page) = pages.get(at) {
        // "Next" (and Enter) checks the step; the other buttons only read it.
        let decoded = if matches!(action, ACTION_UPDATE | ACTION_BACK) {
            read_post(page, post, &values)
        } else {
            check_post(page, post, &values, &context)
        };
        values = decoded.values;
        errors = decoded.errors;
    }
    let stay = |values: Value, errors: Vec<FieldError>| Advance {
        at,
        values,
        errors,
        create: false,
    };
    match action {
        ACTION_UPDATE if at < n => stay(with_defaults(at, values), errors),
        ACTION_BACK => {
            let visible = pages.visible(&values, &context);
            let back = (0..at).rev().find(|&i| visible[i]).unwrap_or(at);
            Advance {
                at: back,
                values: with_defaults(back, values),
                errors: Vec::new(),
                create: false,
            }
        }
        _ if at >= n => {
            let visible = pages.visible(&values, &context);
            for (page, shown) in pages.pages.iter().zip(visible) {
                let errors = page.validate(&values, &context);
                if shown && !errors.is_empty() {
                    return Advance {
                        at: page.index,
                        values,
                        errors,
                        create: false,
                    };
                }
            }
            Advance {
                at: n,
                values,
                errors: Vec::new(),
                create: action == ACTION_CREATE,
            }
        }
        _ => {
            if !errors.is_empty() {
                return stay(values, errors);
            }
            let next = next_shown(&values, at + 1);
            Advance {
                at: next,
                values: with_defaults(next, values),
                errors: Vec::new(),
                create: false,
            }
        }
    }
}

/// One action's schema (input or output) as table rows: each property, nested objects'
/// properties under `parent.name`, list items under `name[]`.
fn properties(schema: &Value) -> Vec<PropertyView> {
    fn walk(schema: &Value, prefix: &str, out: &mut Vec<PropertyView>, depth: usize) {
        let Some(props) = schema["properties"].as_object() else {
            return;
        };
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, p) in props {
            let full = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            out.push(PropertyView {
                name: full.clone(),
                title: text(&p["title"]),
                type_label: type_label(p),
                required: required.contains(&name.as_str()),
                description: text(&p["description"]),
                default: p.get("default").map(Value::to_string),
            });
            if depth < 4 {
                walk(p, &full, out, depth + 1);
                if p["items"]["properties"].is_object() {
                    walk(&p["items"], &format!("{full}[]"), out, depth + 1);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out, 0);
    out
}

/// `string`, `string | number`, `string[]`, `"a" | "b"`.
fn type_label(schema: &Value) -> String {
    if let Some(values) = schema["enum"].as_array() {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    let label = match &schema["type"] {
        Value::String(t) if t == "array" => format!("{}[]", type_label(&schema["items"])),
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema["oneOf"].is_array() || schema["anyOf"].is_array() => "one of several".into(),
        _ => "any".into(),
    };
    label
}

impl Scaffolder for ScaffolderViews {
    fn templates(&self, caller: &Caller, query: &TemplateQuery) -> TemplateList {
        let visible = self.facade.read(caller);
        let filter = Filter::parse(&["kind=template".to_string()]).unwrap_or_default();
        let all: Vec<&Record> = visible
            .query(&Query {
                filter,
                ..Default::default()
            })
            .into_iter()
            .map(|i| visible.record(i))
            .filter(|r| is_template(&visible, r))
            .collect();
        let mut list = TemplateList {
            total: all.len(),
            ..Default::default()
        };
        let words: Vec<String> = query
            .q
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut tags = BTreeSet::new();
        let mut owners = BTreeSet::new();
        let mut types = BTreeSet::new();
        for r in all {
            let f = r.fields();
            tags.extend(f.tags().map(str::to_string));
            let owner = r.related("ownedBy").next().map(|x| x.target());
            owners.extend(owner.clone());
            types.extend(f.spec_type().map(str::to_string));
            let matches = words.iter().all(|w| f.text().contains(w.as_str()))
                && query
                    .tag
                    .as_deref()
                    .is_none_or(|t| f.tags().any(|x| x.eq_ignore_ascii_case(t)))
                && query.owner.as_deref().is_none_or(|o| {
                    owner
                        .as_ref()
                        .is_some_and(|x| x.to_ref_string().eq_ignore_ascii_case(o))
                })
                && query
                    .spec_type
                    .as_deref()
                    .is_none_or(|t| f.spec_type().is_some_and(|x| x.eq_ignore_ascii_case(t)));
            if !matches {
                continue;
            }
            let entity = r.entity_ref().clone();
            list.templates.push(TemplateCard {
                title: f
                    .title()
                    .map(str::to_string)
                    .unwrap_or_else(|| entity.name.clone()),
                entity_ref: entity,
                description: f.description().map(str::to_string),
                owner,
                spec_type: f.spec_type().map(str::to_string),
                tags: f.tags().map(str::to_string).collect(),
            });
        }
        list.templates
            .sort_by_key(|t| (t.title.to_lowercase(), t.entity_ref.clone()));
        list.tags = tags.into_iter().collect();
        list.owners = owners.into_iter().collect();
        list.types = types.into_iter().collect();
        list
    }

    fn wizard(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        post: Option<&[(String, String)]>,
        failure: Option<String>,
    ) -> Result<WizardView, AppError> {
        let template = self.template(caller, namespace, name)?;
        let entity = EntityRef::new(
            "Template",
            template["metadata"]["namespace"]
                .as_str()
                .unwrap_or(namespace),
            template["metadata"]["name"].as_str().unwrap_or(name),
        );
        Ok(self.wizard_view(caller, &template, entity, post, failure))
    }

    fn task(self: Arc<Self>, caller: Caller, id: String) -> BoxFuture<Result<TaskView, AppError>> {
        Box::pin(async move {
            let task = self.tasks.get(&caller, &id).await?;
            let events = self.tasks.events(&caller, &id, None).await?;
            let approval = self.tasks.approvals(&caller, &id).await?.pop().map(|a| {
                app::templates::ApprovalView {
                    approvers: a.approvers,
                    message: a.message,
                    expires_at: a.expires_at,
                    status: a.status,
                    decided_by: a.decided_by,
                    reason: a.reason,
                    may_decide: a.may_decide,
                }
            });
            let mut view = self.task_view(&caller, task, &events);
            view.approval = approval;
            Ok(view)
        })
    }

    fn tasks(
        self: Arc<Self>,
        caller: Caller,
        all: bool,
    ) -> BoxFuture<Result<TaskListView, AppError>> {
        Box::pin(async move {
            let may_see_all = self.allowed(&caller, Permission::ScaffolderTaskCancel);
            let all = all && may_see_all;
            let mine = caller.user.as_ref().map(|u| u.to_ref_string());
            let by = if all { None } else { mine.as_deref() };
            let list = self.tasks.list(&caller, by, None, TASKS_PAGE, 0).await?;
            let mut tasks = list.tasks;
            let mut total = list.total_tasks;
            if !all && mine.is_none() {
                // The guest's own: those nobody signed in started.
                tasks.retain(|t| t.created_by.is_none());
                total = tasks.len() as i64;
            }
            let tasks = tasks
                .into_iter()
                .map(|t| {
                    let template = t.spec["templateInfo"]["entityRef"]
                        .as_str()
                        .and_then(EntityRef::from_ref_string);
                    let meta = &t.spec["templateInfo"]["entity"]["metadata"];
                    TaskSummary {
                        template_title: text(&meta["title"])
                            .or_else(|| text(&meta["name"]))
                            .unwrap_or_else(|| "a template".into()),
                        template,
                        created_by: t.created_by.as_deref().and_then(EntityRef::from_ref_string),
                        created_at: t.created_at,
                        status: t.status,
                        id: t.id,
                    }
                })
                .collect();
            Ok(TaskListView {
                tasks,
                total,
                all,
                may_see_all,
                guest: mine.is_none(),
            })
        })
    }

    fn editor(&self, caller: &Caller, posted: Option<EditView>) -> Result<EditView, AppError> {
        self.may_run_templates(caller)?;
        Ok(posted.unwrap_or_else(|| EditView {
            template: super::edit::EXAMPLE_TEMPLATE.into(),
            files: super::edit::EXAMPLE_FILES.into(),
            values: super::edit::EXAMPLE_VALUES.into(),
            ..Default::default()
        }))
    }

    fn actions(&self, _caller: &Caller) -> Vec<ActionView> {
        let described = self.tasks.actions().describe();
        let mut out: Vec<ActionView> = described
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|a| {
                let schema = |key: &str| {
                    let s = &a["schema"][key];
                    (!s.is_null() && s.as_object().is_none_or(|o| !o.is_empty())).then_some(s)
                };
                let pretty = |s: &Value| serde_json::to_string_pretty(s).unwrap_or_default();
                ActionView {
                    id: a["id"].as_str().unwrap_or_default().to_string(),
                    description: text(&a["description"]),
                    input: schema("input").map(properties).unwrap_or_default(),
                    output: schema("output").map(properties).unwrap_or_default(),
                    input_json: schema("input").map(pretty),
                    output_json: schema("output").map(pretty),
                }
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

impl ScaffolderViews {
    /// Starts the task a wizard's "Create" asks for: the values the post carries, when they
    /// lead to creating. `Ok(None)`: they do not (an error to show on its step).
    pub async fn create_from_post(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        post: &[(String, String)],
    ) -> Result<Option<String>, AppError> {
        let template = self.template(caller, namespace, name)?;
        let Ok(pages) = Pages::from_template(&template) else {
            return Ok(None);
        };
        let step = advance(&pages, Some(post));
        if !step.create {
            return Ok(None);
        }
        let reference = format!("template:{namespace}/{name}");
        let id = self
            .tasks
            .create(caller, &reference, step.values, Map::new())
            .await?;
        Ok(Some(id))
    }
}

impl ScaffolderViews {
    /// `{ref, entity}` of the caller, as a task's `user` (`{}` for the guest).
    fn user_of(&self, caller: &Caller) -> Value {
        let mut user = Map::new();
        if let Some(who) = &caller.user {
            let visible = self.facade.read(caller);
            if let Some(r) = visible.get(&who.kind, &who.namespace, &who.name) {
                user.insert("entity".into(), visible.value(r));
            }
            user.insert("ref".into(), Value::String(who.to_ref_string()));
        }
        Value::Object(user)
    }

    /// The dry-run a wizard's "Preview the files" asks for: the template's own files run with
    /// the values the post carries (secrets as secrets, in memory only). `Ok(None)`: the values
    /// do not reach the review (the page shows their errors instead).
    pub async fn preview_from_post(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        post: &[(String, String)],
    ) -> Result<Option<PreviewView>, AppError> {
        let template = self.template(caller, namespace, name)?;
        let Ok(pages) = Pages::from_template(&template) else {
            return Ok(None);
        };
        let step = advance(&pages, Some(post));
        if step.at < pages.len() {
            return Ok(None);
        }
        let reference = format!("template:{namespace}/{name}").to_ascii_lowercase();
        let files = match self.tasks.template_files(&reference).await {
            Ok(files) => files,
            Err(e) => {
                return Ok(Some(PreviewView {
                    error: Some(format!("The template's files cannot be read: {e}")),
                    ..Default::default()
                }))
            }
        };
        let Value::Object(values) = step.values else {
            return Ok(None);
        };
        let result = super::dry_run::run_dry(
            super::dry_run::DryRun {
                template: &template,
                values,
                secrets: Map::new(),
                files: &files,
                user: self.user_of(caller),
                template_ref: &reference,
                secret_fields: true,
            },
            self.tasks.actions(),
        )
        .await;
        Ok(Some(super::preview::preview(result)))
    }

    /// Whether the caller may run templates (and so dry-run one on `/create/edit`): reading
    /// templates, creating tasks and running actions.
    pub fn may_run_templates(&self, caller: &Caller) -> Result<(), AppError> {
        for permission in [
            Permission::ScaffolderTemplateRead,
            Permission::ScaffolderTaskCreate,
            Permission::ScaffolderActionExecute,
        ] {
            self.facade.authorize(caller, permission, &Resource::None)?;
        }
        Ok(())
    }

    /// `/create/edit`'s post: the template's problems as `backlot validate` finds them, and
    /// when it has none (warnings aside), its dry-run over the pasted files with the values.
    pub async fn edit(
        &self,
        caller: &Caller,
        template_yaml: &str,
        files_text: &str,
        values_text: &str,
    ) -> Result<EditView, AppError> {
        self.may_run_templates(caller)?;
        let mut view = EditView {
            template: template_yaml.to_string(),
            files: files_text.to_string(),
            values: values_text.to_string(),
            posted: true,
            ..Default::default()
        };
        let checked = super::edit::check(template_yaml, self.tasks.actions());
        view.problems = checked.problems;
        let Some(template) = checked.template else {
            return Ok(view);
        };
        if checked.errors {
            return Ok(view);
        }
        let files = match super::edit::parse_files(files_text) {
            Ok(files) => files,
            Err(e) => {
                view.problems.push(format!("Files: {e}"));
                return Ok(view);
            }
        };
        let files = match super::actions::TemplateFiles::new(files) {
            Ok(files) => files,
            Err(e) => {
                view.problems.push(format!("Files: {e}"));
                return Ok(view);
            }
        };
        let values = match super::edit::parse_values(values_text) {
            Ok(values) => values,
            Err(e) => {
                view.problems.push(format!("Values: {e}"));
                return Ok(view);
            }
        };
        let result = super::dry_run::run_dry(
            super::dry_run::DryRun {
                template: &template,
                values,
                secrets: Map::new(),
                files: &files,
                user: self.user_of(caller),
                template_ref: super::dry_run::DRY_RUN_REF,
                secret_fields: true,
            },
            self.tasks.actions(),
        )
        .await;
        view.preview = Some(super::preview::preview(result));
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pages(parameters: Value) -> Pages {
        Pages::parse(&parameters).expect("pages")
    }

    fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_step_moves_on_only_when_valid_and_back_keeps_values() {
        let p = pages(json!([
            {"title": "One", "required": ["name"], "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}}},
            {"title": "Two", "properties": {"size": {"type": "integer", "default": 3}}},
        ]));
        let first = advance(&p, None);
        assert_eq!(first.at, 0);
        let bad = advance(
            &p,
            Some(&post(&[
                (":step", "0"),
                (":values", "{}"),
                ("name", "Not Ok"),
                (":action", "next"),
            ])),
        );
        assert_eq!(bad.at, 0);
        assert_eq!(bad.errors.len(), 1, "{:?}", bad.errors);
        assert_eq!(bad.values["name"], "Not Ok", "what was typed is kept");
        let good = advance(
            &p,
            Some(&post(&[
                (":step", "0"),
                (":values", "{}"),
                ("name", "ok"),
                (":action", "next"),
            ])),
        );
        assert_eq!(
            (good.at, good.values.clone()),
            (1, json!({"name": "ok", "size": 3}))
        );
        let values = good.values.to_string();
        let back = advance(
            &p,
            Some(&post(&[
                (":step", "1"),
                (":values", &values),
                ("size", "5"),
                (":action", "back"),
            ])),
        );
        assert_eq!(
            (back.at, back.values),
            (0, json!({"name": "ok", "size": 5}))
        );
        let review = advance(
            &p,
            Some(&post(&[
                (":step", "1"),
                (":values", &values),
                ("size", "5"),
                (":action", "next"),
            ])),
        );
        assert_eq!(review.at, 2);
        assert!(!review.create);
        let values = review.values.to_string();
        let create = advance(
            &p,
            Some(&post(&[
                (":step", "2"),
                (":values", &values),
                (":action", "create"),
            ])),
        );
        assert!(create.create);
        // A forged review with a bad value goes back to the step that holds it.
        let forged = advance(
            &p,
            Some(&post(&[
                (":step", "2"),
                (":values", r#"{"name":"X X"}"#),
                (":action", "create"),
            ])),
        );
        assert_eq!((forged.at, forged.create), (0, false));
        assert!(!forged.errors.is_empty());
    }

    #[test]
    fn repo_url_parts_and_tags_are_put_together() {
        let p = pages(json!({"properties": {
            "repoUrl": {"type": "string", "ui:field": "RepoUrlPicker"},
            "tags": {"type": "array", "items": {"type": "string"}, "ui:field": "EntityTagsPicker"},
        }}));
        let step = advance(
            &p,
            Some(&post(&[
                (":step", "0"),
                (":values", "{}"),
                (":action", "next"),
                ("repoUrl:host", "github.com"),
                ("repoUrl:owner", "acme"),
                ("repoUrl:repo", "my svc"),
                ("tags", "java, web ,,"),
            ])),
        );
        assert_eq!(
            step.values["repoUrl"],
            "github.com?owner=acme&repo=my%20svc"
        );
        assert_eq!(step.values["tags"], json!(["java", "web"]));
    }

    #[test]
    fn controlling_fields_are_found() {
        let schema = json!({
            "properties": {"kind": {"type": "string"}, "db": {"type": "boolean"}},
            "dependencies": {"kind": {"oneOf": []}},
            "allOf": [{"if": {"properties": {"db": {"const": true}}}, "then": {}}],
        });
        assert_eq!(
            controlling(&schema).into_iter().collect::<Vec<_>>(),
            vec!["db".to_string(), "kind".to_string()]
        );
        assert_eq!(
            catalog_filter(Some(
                &json!([{"kind": ["Group", "User"], "spec.type": "team"}, {"metadata.name": {"$exists": true}}])
            )),
            vec![
                "kind=Group,kind=User,spec.type=team".to_string(),
                "metadata.name".to_string()
            ]
        );
    }
}
