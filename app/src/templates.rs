//! The software templates pages' data (`/create…`): the templates list, the wizard's state as
//! the server computed it, a task with its steps, log and output, and the actions. Plain data
//! shared by the server (which builds it with `app::scaffolder`) and the pages (which only
//! render it).
//!
//! The wizard is plain form posts: each step posts to the wizard's own URL; the server reads the
//! post ([`WIZARD_STEP`], [`WIZARD_VALUES`], [`WIZARD_ACTION`] and the page's fields, named by
//! their paths), validates it with `app::scaffolder`, and renders the next step, the same step
//! with its errors, or the review. The values of the other steps travel in the hidden
//! [`WIZARD_VALUES`] field (JSON), so nothing of a form, secrets included, is kept on the server
//! or put in a URL until "Create" starts the task.

use crate::model::EntityRef;
use crate::scaffolder::ReviewSection;
use serde::{Deserialize, Serialize};

/// The templates list.
pub const CREATE_PATH: &str = "/create";
/// The caller's tasks (and everyone's, for those who may cancel anyone's).
pub const TASKS_PATH: &str = "/create/tasks";
/// The actions the templates' steps may use.
pub const ACTIONS_PATH: &str = "/create/actions";
/// Where a task's "Cancel" posts (`id`).
pub const CANCEL_TASK_PATH: &str = "/create/tasks/cancel";
/// Where a task's "Retry" posts (`id`).
pub const RETRY_TASK_PATH: &str = "/create/tasks/retry";
/// Where the task page's Approve and Reject forms post (`id`, `reason`, `decision`).
pub const DECIDE_TASK_PATH: &str = "/create/tasks/decide";

/// The posted field holding the index of the step that was shown (the review is one past the
/// last page).
pub const WIZARD_STEP: &str = ":step";
/// The posted field holding every value so far, as JSON (secrets too: it never leaves the form).
pub const WIZARD_VALUES: &str = ":values";
/// The posted field saying which button was pressed: [`ACTION_NEXT`], [`ACTION_BACK`],
/// [`ACTION_UPDATE`] or [`ACTION_CREATE`].
pub const WIZARD_ACTION: &str = ":action";
pub const ACTION_NEXT: &str = "next";
/// Where an entity picker's island asks for the entities matching what is typed
/// (`?filter=…&owned=…&q=…`); the answer is the `<option>`s of its `<datalist>`.
pub const SUGGEST_PICKER_PATH: &str = "/create/suggest";
pub const ACTION_BACK: &str = "back";
/// Shows the fields a choice reveals (a step without JavaScript).
pub const ACTION_UPDATE: &str = "update";
pub const ACTION_CREATE: &str = "create";
/// On the review: runs the template as a dry-run and shows the files it would write.
pub const ACTION_PREVIEW: &str = "preview";
/// Where a template author pastes a template with files and dry-runs it.
pub const EDIT_PATH: &str = "/create/edit";

/// A template's wizard.
pub fn wizard_href(template: &EntityRef) -> String {
    format!("/create/templates/{}/{}", template.namespace, template.name)
}

/// A task's page.
pub fn task_href(id: &str) -> String {
    format!("/create/tasks/{id}")
}

/// A task's live updates (server-sent `update` events while it runs).
/// A task's stream of updates, for a page that shows its events up to `after` (the last one's
/// id): updates after it are sent even when the task ends before the page's island connects.
pub fn task_stream_href(id: &str, after: Option<i64>) -> String {
    match after {
        Some(after) => format!("/create/tasks/{id}/stream?after={after}"),
        None => format!("/create/tasks/{id}/stream"),
    }
}

/// The templates list's filters, as its GET form sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateQuery {
    /// Words that must all appear in the name, title, description or tags.
    pub q: Option<String>,
    pub tag: Option<String>,
    /// An owner's reference (`group:default/team-a`).
    pub owner: Option<String>,
    /// `spec.type`.
    pub spec_type: Option<String>,
}

/// One template on the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateCard {
    pub entity_ref: EntityRef,
    pub title: String,
    pub description: Option<String>,
    pub owner: Option<EntityRef>,
    pub spec_type: Option<String>,
    pub tags: Vec<String>,
}

/// The templates the caller can see that match the filters, and the values to filter by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateList {
    pub templates: Vec<TemplateCard>,
    /// How many templates the caller sees before filtering.
    pub total: usize,
    pub tags: Vec<String>,
    pub owners: Vec<EntityRef>,
    pub types: Vec<String>,
}

/// One step of the stepper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLabel {
    pub title: String,
    /// `false`: the step's `when` hides it for the values so far.
    pub shown: bool,
}

/// One choice of a select, radio group, checkbox group or datalist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The control a field is shown with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// `<input type=…>`; with `suggestions`, an `<input list>` and its `<datalist>`; with
    /// `suggest`, the suggestions are only the first of many and the browser asks that URL
    /// (plus `&q=<typed text>`) for those matching what is typed.
    Input {
        input_type: String,
        value: String,
        suggestions: Vec<ChoiceView>,
        #[serde(default)]
        suggest: Option<String>,
    },
    Textarea {
        value: String,
        rows: u32,
    },
    /// `<select>` (`multiple` for lists).
    Select {
        choices: Vec<ChoiceView>,
        multiple: bool,
    },
    Radio {
        choices: Vec<ChoiceView>,
    },
    /// A list of choices as checkboxes.
    Checkboxes {
        choices: Vec<ChoiceView>,
    },
    /// A boolean.
    Checkbox {
        checked: bool,
    },
    /// `ui:widget: hidden`: the values as hidden inputs.
    Hidden {
        values: Vec<String>,
    },
    /// RepoUrlPicker: host, owner and repository, posted as `{path}:host`, `{path}:owner` and
    /// `{path}:repo` and put together into `host?owner=…&repo=…`.
    RepoUrl {
        hosts: Vec<ChoiceView>,
        owner: String,
        owners: Vec<ChoiceView>,
        repo: String,
        repos: Vec<ChoiceView>,
    },
    /// An object with fields: a fieldset of [`FieldView::children`].
    Fieldset,
}

/// One field of a step, ready to render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldView {
    /// The input's name (the field's dotted path).
    pub path: String,
    pub label: String,
    pub description: Option<String>,
    pub help: Option<String>,
    pub placeholder: Option<String>,
    pub required: bool,
    pub autofocus: bool,
    pub readonly: bool,
    /// Other fields of the step depend on it: without JavaScript, an "Update" button shows them.
    pub controls_others: bool,
    pub control: Control,
    pub errors: Vec<String>,
    pub children: Vec<FieldView>,
}

/// The step shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub title: String,
    pub description: Option<String>,
    pub fields: Vec<FieldView>,
}

/// The wizard as the server computed it for the values so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardView {
    pub template: EntityRef,
    pub title: String,
    pub description: Option<String>,
    pub steps: Vec<StepLabel>,
    /// The step shown; `steps.len()` is the review.
    pub current: usize,
    /// Every value so far as JSON, for [`WIZARD_VALUES`].
    pub values: String,
    /// The step's fields (none on the review).
    pub step: Option<StepView>,
    /// What the review lists (secrets masked).
    pub review: Vec<ReviewSection>,
    /// Errors that belong to no field shown (`"The form": …`).
    pub errors: Vec<String>,
    /// Why "Create" did not start the task, when it did not.
    pub failure: Option<String>,
    /// Why the template cannot be shown (its parameters cannot be read), naming the field.
    pub problem: Option<String>,
    /// Whether a step before this one is shown (a Back button).
    pub can_go_back: bool,
    /// The dry-run "Preview the files" asked for on the review.
    #[serde(default)]
    pub preview: Option<PreviewView>,
}

/// What a dry-run of a template would do: its steps, the files it would write, its log and
/// output, or why it failed (naming the step). Shown on the wizard's review and on
/// [`EDIT_PATH`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    pub steps: Vec<PreviewStep>,
    /// The files' folders and names in order, for the tree.
    pub tree: Vec<TreeEntry>,
    pub files: Vec<PreviewFile>,
    /// The log's messages (secrets as `***`).
    pub log: Vec<String>,
    /// The rendered `output`, as indented JSON (none when empty).
    pub output: Option<String>,
    /// Why the dry-run failed, in words (naming the step).
    pub error: Option<String>,
    /// The values' problems, one per field (`name: is required`).
    pub invalid: Vec<String>,
    /// A step was skipped because its action reaches outside: later steps and the output saw
    /// its schema's example output in its place.
    #[serde(default)]
    pub stand_ins: bool,
}

/// One line of a file tree: a folder or a file, `depth` folders deep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    pub depth: usize,
    pub name: String,
    /// The file's index in [`PreviewView::files`]; `None` for a folder.
    pub file: Option<usize>,
}

/// One file a dry-run wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewFile {
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    pub executable: bool,
    /// Its text (`None`: a binary file); the start only when [`PreviewFile::truncated`].
    pub text: Option<String>,
    pub truncated: bool,
}

/// One step of a dry-run: what happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewStep {
    pub id: String,
    pub name: String,
    pub action: String,
    /// `completed`, `skipped`, `failed` or `open` (not reached).
    pub status: String,
    /// Why it was skipped, or why it failed.
    pub note: Option<String>,
}

/// The [`EDIT_PATH`] page: what was pasted, and the dry-run it led to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditView {
    /// The template's YAML as posted.
    pub template: String,
    /// The files as posted (`--- path` separators).
    pub files: String,
    /// The values as posted (YAML or JSON).
    pub values: String,
    /// The template's problems, as `backlot validate` gives them (`line N: field: message`).
    pub problems: Vec<String>,
    /// The dry-run, once the template had no problems.
    pub preview: Option<PreviewView>,
    /// Whether anything was posted yet.
    pub posted: bool,
}

impl WizardView {
    pub fn on_review(&self) -> bool {
        self.current >= self.steps.len() && self.problem.is_none()
    }
}

/// One step of a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStepView {
    pub id: String,
    pub name: String,
    /// `open`, `processing`, `completed`, `skipped`, `failed` or `cancelled`.
    pub status: String,
    /// How long it ran, e.g. `1.2 s`.
    pub duration: Option<String>,
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLineView {
    pub at: String,
    pub step: Option<String>,
    pub message: String,
}

/// One link of a task's `output.links`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputLink {
    pub title: String,
    /// Where it leads: the URL, or the entity's page.
    pub href: String,
    /// The link goes to a catalog entity.
    pub entity: bool,
}

/// One text of a task's `output.text`, its Markdown rendered and sanitised by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputText {
    pub title: String,
    pub html: String,
}

/// A task's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    pub template: Option<EntityRef>,
    pub template_title: String,
    /// Who started it (`None`: the guest).
    pub created_by: Option<EntityRef>,
    pub created_at: String,
    /// `open`, `processing`, `waiting` (for an approval), `completed`, `failed` or `cancelled`.
    pub status: String,
    pub steps: Vec<TaskStepView>,
    pub log: Vec<LogLineView>,
    /// The id of the last event the view shows.
    #[serde(default)]
    pub last_event: Option<i64>,
    pub links: Vec<OutputLink>,
    pub texts: Vec<OutputText>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub can_cancel: bool,
    pub can_retry: bool,
    /// The template asks for secrets, which are never kept: a retry could not bring them back,
    /// so the page offers to run the template again instead.
    pub needs_secrets: bool,
    /// The task's latest approval (`backlot:approval`), when it asked for one.
    pub approval: Option<ApprovalView>,
}

/// An approval a task asked for, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    /// Entity references of who may decide.
    pub approvers: Vec<String>,
    pub message: String,
    /// ISO-8601, when it expires.
    pub expires_at: Option<String>,
    /// `pending`, `approved`, `rejected`, `expired` or `cancelled`.
    pub status: String,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    /// The caller may approve or reject it now.
    pub may_decide: bool,
}

impl TaskView {
    /// Still open, running or waiting for an approval: the page follows it.
    pub fn is_live(&self) -> bool {
        matches!(self.status.as_str(), "open" | "processing" | "waiting")
    }
}

/// One task on the tasks list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: String,
    pub template: Option<EntityRef>,
    pub template_title: String,
    pub created_by: Option<EntityRef>,
    pub created_at: String,
    pub status: String,
}

/// The tasks list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskListView {
    pub tasks: Vec<TaskSummary>,
    pub total: i64,
    /// Showing everyone's tasks.
    pub all: bool,
    /// The caller may list everyone's (may cancel anyone's task).
    pub may_see_all: bool,
    /// The caller is the guest: "my tasks" are the guest's.
    pub guest: bool,
}

/// One property of an action's input or output schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyView {
    /// Dotted for nested objects (`repo.owner`), `[]` for list items.
    pub name: String,
    pub title: Option<String>,
    /// `string`, `string[]`, `object`, `"a" | "b"`…
    pub type_label: String,
    pub required: bool,
    pub description: Option<String>,
    /// The default as JSON.
    pub default: Option<String>,
}

/// One action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionView {
    pub id: String,
    pub description: Option<String>,
    pub input: Vec<PropertyView>,
    pub output: Vec<PropertyView>,
    /// The schemas as JSON, for what the tables do not say.
    pub input_json: Option<String>,
    pub output_json: Option<String>,
}
