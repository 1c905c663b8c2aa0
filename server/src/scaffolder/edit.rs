//! What `/create/edit` reads from its form: a template's YAML checked as `backlot validate`
//! checks it (the catalog's schema and rules, then [`super::check`]), each problem with the
//! line of its field; the files, one text with a `==> path <==` line before each file (what
//! `tail -n +1 file…` prints, so a skeleton can be pasted from a terminal); and the values, a
//! YAML or JSON object.

use super::actions::Actions;
use super::Renderer;
use crate::catalog::parse::parse_documents;
use serde_json::{Map, Value};

/// The name the pasted template is checked under (the messages do not show it).
const PASTED: &str = "/create/edit/template.yaml";
/// The most files the form may hold.
const MAX_FILES: usize = 500;

/// What the editor shows first: a template with a skeleton, and values for it.
pub const EXAMPLE_TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: my-template
  title: My template
spec:
  owner: team-a
  type: service
  parameters:
    - title: About
      required: [name]
      properties:
        name:
          title: Name
          type: string
          pattern: '^[a-z0-9-]+$'
  steps:
    - id: fetch
      name: Render the skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: log
      name: Say what was made
      action: debug:log
      input:
        message: Made ${{ parameters.name }}
  output:
    text:
      - title: Next steps
        content: ${{ parameters.name }} is ready.
"#;
/// The example's files.
pub const EXAMPLE_FILES: &str = "==> skeleton/README.md <==
# ${{ values.name }}

Made from my-template.

==> skeleton/catalog-info.yaml <==
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name }}
spec:
  type: service
  lifecycle: experimental
  owner: team-a
";
/// The example's values.
pub const EXAMPLE_VALUES: &str = "name: hello-world\n";

/// The pasted template, checked.
#[derive(Debug, Default)]
pub struct Checked {
    /// The first Template document, as written.
    pub template: Option<Value>,
    /// `line N: field: message`, errors and warnings.
    pub problems: Vec<String>,
    /// Whether a problem is an error (the template cannot be dry-run).
    pub errors: bool,
}

/// Checks a pasted template: YAML, the catalog's rules for its kind, and a Template's steps,
/// actions and expressions.
pub fn check(yaml: &str, actions: &Actions) -> Checked {
    let mut out = Checked::default();
    if yaml.trim().is_empty() {
        out.problems
            .push("The template is empty: paste a Template's YAML.".into());
        out.errors = true;
        return out;
    }
    let docs = parse_documents(yaml);
    let mut doc_line = 1;
    for doc in docs.iter().flatten() {
        if doc.value["kind"] == "Template" {
            out.template = Some(doc.value.clone());
            doc_line = doc.line;
            break;
        }
    }
    let parsed = crate::files::parse_file(yaml, PASTED, &format!("file:{PASTED}"), &|_| false);
    let mut problems = parsed.problems;
    for e in parsed.entities {
        problems.extend(e.stored.into_data().problems);
    }
    for p in problems {
        if p.severity == app::model::Severity::Error {
            out.errors = true;
        }
        let line = match (&p.field, p.line) {
            (Some(field), Some(line)) => field_line(yaml, line, field).or(Some(line)),
            (_, line) => line,
        };
        out.problems
            .push(describe(line, p.field.as_deref(), &p.message));
    }
    match &out.template {
        None if !out.errors => {
            out.problems
                .push("No document of kind Template: paste a Template's YAML.".into());
            out.errors = true;
        }
        None => {}
        Some(template) => {
            if template["apiVersion"] != super::tasks::TEMPLATE_API_VERSION {
                out.problems.push(describe(
                    field_line(yaml, doc_line, "apiVersion").or(Some(doc_line)),
                    Some("apiVersion"),
                    &format!(
                        "must be {}: Backlot runs these templates",
                        super::tasks::TEMPLATE_API_VERSION
                    ),
                ));
                out.errors = true;
            }
            for p in super::check::template_problems(template, actions, &Renderer::new()) {
                let line = field_line(yaml, doc_line, &p.field).or(Some(doc_line));
                out.problems
                    .push(describe(line, Some(&p.field), &p.message));
                out.errors = true;
            }
        }
    }
    out
}

fn describe(line: Option<usize>, field: Option<&str>, message: &str) -> String {
    let mut s = String::new();
    if let Some(l) = line {
        s.push_str(&format!("line {l}: "));
    }
    if let Some(f) = field {
        s.push_str(&format!("{f}: "));
    }
    s.push_str(message);
    s
}

/// One part of a field path: a key or a list index.
enum Part<'a> {
    Key(&'a str),
    Index(usize),
}

fn parts(field: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    for piece in field.split('.') {
        let (key, rest) = match piece.find('[') {
            Some(i) => (&piece[..i], &piece[i..]),
            None => (piece, ""),
        };
        if !key.is_empty() {
            out.push(Part::Key(key));
        }
        for index in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Part::Index(i));
            }
        }
    }
    out
}

/// The one-based line of `field` (`spec.steps[1].input.url`) in the YAML document starting at
/// `doc_line`: found by indentation, for block-style YAML (as templates are written); the
/// deepest part found is not given: `None` when the whole path cannot be followed (flow style,
/// anchors, a field that is missing).
pub fn field_line(yaml: &str, doc_line: usize, field: &str) -> Option<usize> {
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let blank = |l: &str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    };
    let dash = |l: &str| l.trim_start() == "-" || l.trim_start().starts_with("- ");
    let mut from = doc_line.saturating_sub(1).min(lines.len());
    let mut to = (from + 1..lines.len())
        .find(|&i| lines[i].starts_with("---"))
        .unwrap_or(lines.len());
    // The block searched: lines from..to indented at least `min`.
    let mut min = 0;
    // Inside a list item: its dash's line and where its keys start.
    let mut item: Option<(usize, usize)> = None;
    let mut found = None;
    for part in parts(field) {
        let block: Vec<usize> = (from..to)
            .filter(|&i| !blank(lines[i]))
            .take_while(|&i| indent(lines[i]) >= min)
            .collect();
        let is_key = |t: &str, key: &str| {
            let t = t.trim_start_matches(['\'', '"']);
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start_matches(['\'', '"']).starts_with(':'))
        };
        let at = match part {
            Part::Key(key) => match item {
                Some((line, keys)) => {
                    let first = lines[line].trim_start()[1..].trim_start();
                    if is_key(first, key) {
                        line
                    } else {
                        block.iter().copied().find(|&i| {
                            indent(lines[i]) == keys && is_key(lines[i].trim_start(), key)
                        })?
                    }
                }
                None => {
                    let level = indent(lines[*block.first()?]);
                    block.iter().copied().find(|&i| {
                        indent(lines[i]) == level && is_key(lines[i].trim_start(), key)
                    })?
                }
            },
            Part::Index(n) => {
                let level = indent(lines[*block.first()?]);
                block
                    .iter()
                    .copied()
                    .filter(|&i| indent(lines[i]) == level && dash(lines[i]))
                    .nth(n)?
            }
        };
        found = Some(at + 1);
        let own = indent(lines[at]);
        let next = (at + 1..to).find(|&i| !blank(lines[i]));
        // A key's list may sit at the key's own indentation (`steps:` then `- id: …`).
        let compact = matches!(part, Part::Key(_))
            && item.is_none_or(|(line, _)| line != at)
            && next.is_some_and(|i| indent(lines[i]) == own && dash(lines[i]));
        let (keys_at, inner) = match (&part, item) {
            // The first key of an item, on the dash's line: what it holds is deeper than the
            // item's keys.
            (Part::Key(_), Some((line, keys))) if line == at => (keys, keys + 1),
            (Part::Index(_), _) => {
                let after = lines[at].trim_start()[1..].to_string();
                let keys = own + 1 + (after.len() - after.trim_start().len());
                item = Some((at, keys));
                (own, own + 1)
            }
            _ if compact => (own, own),
            _ => (own, own + 1),
        };
        if !matches!(part, Part::Index(_)) {
            item = None;
        }
        min = inner;
        from = at + 1;
        to = (at + 1..to)
            .find(|&i| {
                let l = lines[i];
                !blank(l) && (indent(l) < inner || (indent(l) <= keys_at && !(compact && dash(l))))
            })
            .unwrap_or(to);
    }
    found
}

/// The files of the form's text: a line `==> path <==` starts each file (what `tail -n +1`
/// prints; the empty line `tail` puts before the next header is not part of the file).
/// Paths are relative to the template's folder (`skeleton/README.md`).
pub fn parse_files(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut before = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if let Some(path) = bare
            .strip_prefix("==> ")
            .and_then(|r| r.strip_suffix(" <=="))
        {
            if let Some((_, contents)) = files.last_mut() {
                if contents.ends_with("\n\n") {
                    contents.pop();
                } else if contents == "\n" {
                    contents.clear();
                }
            }
            let path = path.trim().trim_start_matches("./").to_string();
            if path.is_empty() {
                return Err("a `==> <==` line names no file".into());
            }
            if files.iter().any(|(p, _)| *p == path) {
                return Err(format!("{path} is given twice"));
            }
            files.push((path, String::new()));
            if files.len() > MAX_FILES {
                return Err(format!("more than {MAX_FILES} files"));
            }
            continue;
        }
        match files.last_mut() {
            Some((_, contents)) => contents.push_str(line),
            None if bare.trim().is_empty() => {}
            None => before = true,
        }
    }
    if before {
        return Err("the text must start with a line `==> path <==` naming the first file".into());
    }
    Ok(files
        .into_iter()
        .map(|(p, c)| (p, c.replace("\r\n", "\n").into_bytes()))
        .collect())
}

/// The values: a YAML (or JSON) object; nothing at all is `{}`.
pub fn parse_values(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match crate::catalog::parse::parse_yaml_value(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err("must be an object: `name: value` lines, or JSON `{…}`".into()),
        Err((line, message)) => Err(format!("line {line}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "# a comment
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: x
spec:
  parameters:
    - title: One
      properties:
        name:
          type: string
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
    - id: log
      name: Log
      action: debug:log
      input:
        message: hi
";

    #[test]
    fn fields_are_found_by_their_lines() {
        assert_eq!(field_line(YAML, 2, "apiVersion"), Some(2));
        assert_eq!(field_line(YAML, 2, "metadata.name"), Some(5));
        assert_eq!(field_line(YAML, 2, "spec.steps"), Some(12));
        assert_eq!(field_line(YAML, 2, "spec.steps[0]"), Some(13));
        assert_eq!(field_line(YAML, 2, "spec.steps[0].action"), Some(14));
        assert_eq!(field_line(YAML, 2, "spec.steps[0].input.url"), Some(16));
        assert_eq!(field_line(YAML, 2, "spec.steps[1].id"), Some(17));
        assert_eq!(field_line(YAML, 2, "spec.steps[1].action"), Some(19));
        assert_eq!(field_line(YAML, 2, "spec.steps[1].input.message"), Some(21));
        assert_eq!(
            field_line(YAML, 2, "spec.parameters[0].properties.name.type"),
            Some(11)
        );
        assert_eq!(field_line(YAML, 2, "spec.output"), None);
        let compact = "kind: Template\nspec:\n  steps:\n  - id: a\n    action: x\n  - id: b\n    input:\n      url: y\n  owner: me\n";
        assert_eq!(field_line(compact, 1, "spec.steps[1].input.url"), Some(8));
        assert_eq!(field_line(compact, 1, "spec.steps[0].action"), Some(5));
        assert_eq!(field_line(compact, 1, "spec.owner"), Some(9));
        assert_eq!(field_line(compact, 1, "spec.steps[2]"), None);
    }

    #[test]
    fn files_are_read_as_tail_prints_them() {
        let text = "==> skeleton/README.md <==\n# ${{ values.name }}\n\n==> skeleton/empty <==\n\n==> skeleton/src/main.rs <==\nfn main() {}\n";
        let files = parse_files(text).unwrap();
        let got: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("skeleton/README.md", "# ${{ values.name }}\n"),
                ("skeleton/empty", ""),
                ("skeleton/src/main.rs", "fn main() {}\n"),
            ]
        );
        assert!(parse_files("oops\n==> a <==\n").is_err());
        assert!(parse_files("==> a <==\n==> a <==\n").is_err());
        assert!(parse_files("").unwrap().is_empty());
    }

    #[test]
    fn values_are_yaml_or_json_objects() {
        assert_eq!(parse_values("name: a\nport: 80").unwrap()["port"], 80);
        assert_eq!(parse_values("{\"name\": \"a\"}").unwrap()["name"], "a");
        assert!(parse_values("").unwrap().is_empty());
        assert!(parse_values("- a").is_err());
        assert!(parse_values("a: [").is_err());
    }
}
