//! One descriptor file → entities: parse and validate each document, resolve placeholders,
//! add Backstage's annotations, collect the targets of `Location` entities; and the shapes a
//! location's read is reported in ([`LocationRead`], [`FileOutcome`]) and remembered by
//! ([`PreviousFile`]).
//!
//! This stage is pure with respect to storage: a read returns what it found, file by file, and
//! the catalog's planning ([`super::plan`]) decides what changes.

use super::parse::parse_documents;
use super::placeholder;
use super::reference::{canonical_kind, RefKey};
use super::relations;
use super::snapshot::Stored;
use super::validation::validate_entity;
use crate::util::content_hash;
use app::model::{EntityRef, ProblemView, Severity};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub use super::annotations::{MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION};

/// An entity ready to be stored: validated, placeholders resolved, annotations added.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedEntity {
    pub key: RefKey,
    /// The entity in its stored form (uid and location are filled in by the catalog service).
    pub stored: Stored,
}

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    /// Parsed: the valid entities, and problems of documents that could not be used.
    Read {
        path: String,
        hash: String,
        entities: Vec<ProcessedEntity>,
        /// Documents that are not valid YAML or not valid entities.
        problems: Vec<ProblemView>,
        /// Invalid documents whose identity could be read: their last good version is kept.
        invalid: Vec<RefKey>,
        /// Some document is not valid YAML, so which entity it held is unknown: every entity
        /// the file had and no longer gives keeps its last good version.
        broken_documents: bool,
    },
    /// Same content as last time, which was read cleanly: keep what was stored.
    Unchanged { path: String },
    /// Could not be read or parsed at all: keep the entities it had.
    Failed { path: String, problem: ProblemView },
}

impl FileOutcome {
    pub fn path(&self) -> &str {
        match self {
            FileOutcome::Read { path, .. }
            | FileOutcome::Unchanged { path, .. }
            | FileOutcome::Failed { path, .. } => path,
        }
    }
}

/// What is remembered about a file from its last read.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousFile {
    pub hash: String,
    /// The last read had no problem of any kind and no placeholder (so its outcome depends
    /// only on its content).
    pub clean: bool,
    /// Modification time (ns since the epoch) and size when it was read: when both are the
    /// same, the file is not even opened.
    pub modified_ns: i64,
    pub size: u64,
    /// Targets of the `Location` entities it holds, already resolved: (type, target).
    pub targets: Vec<(String, String)>,
}

/// Path → what was remembered about that file after the last read.
pub type FileStates = std::collections::HashMap<String, PreviousFile>;

/// Everything read for one registered location.
#[derive(Debug, Default)]
pub struct LocationRead {
    pub files: Vec<FileOutcome>,
    /// For each file visited: its new state to store (`None`: exactly as before).
    pub file_state: Vec<(String, Option<PreviousFile>)>,
    /// Problems of the location itself: missing targets, globs that match nothing.
    pub problems: Vec<ProblemView>,
}

pub fn problem(message: impl Into<String>) -> ProblemView {
    ProblemView {
        severity: Severity::Error,
        message: message.into(),
        file: None,
        document: None,
        line: None,
        field: None,
    }
}

pub fn file_problem(file: &str, message: impl Into<String>) -> ProblemView {
    ProblemView {
        file: Some(file.to_string()),
        ..problem(message)
    }
}

impl ParsedFile {
    /// No problem of any kind and no placeholder: the outcome depends only on the content, so
    /// the same content need not be read again.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
            && !self.had_placeholders
            && self.entities.iter().all(|e| e.stored.problems.is_empty())
    }
}

/// The result of parsing one descriptor file's text.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub entities: Vec<ProcessedEntity>,
    pub problems: Vec<ProblemView>,
    pub invalid: Vec<RefKey>,
    /// Resolved (type, target) of the Location entities in the file.
    pub targets: Vec<(String, String)>,
    pub had_placeholders: bool,
    /// Every document failed as YAML (the file as a whole is broken).
    pub all_failed_yaml: bool,
    /// At least one document is not valid YAML.
    pub broken_documents: bool,
}

/// Where a descriptor file comes from, and how its entities are annotated.
pub struct FileOrigin<'a> {
    /// The file as problems name it (an absolute path, or a path inside a repository).
    pub file: &'a str,
    /// Directory its relative references (placeholders, Location targets) start from.
    pub base_dir: &'a Path,
    /// `backstage.io/managed-by-location`, e.g. `file:/abs/path` or `url:https://…`.
    pub managed_by: String,
    /// `backstage.io/managed-by-origin-location`: the registered location.
    pub origin: &'a str,
    /// Annotations set unless the descriptor sets them (source-location, view-url, edit-url).
    pub defaults: Vec<(&'static str, String)>,
    /// Annotations always set (the commit a file was read at).
    pub forced: Vec<(&'static str, String)>,
    pub placeholders: &'a dyn placeholder::PlaceholderReader,
}

/// Parses, validates and completes every document of one descriptor file.
pub fn parse_descriptor(text: &str, src: &FileOrigin<'_>) -> ParsedFile {
    let mut out = ParsedFile::default();
    let (file, base_dir) = (src.file, src.base_dir);
    let docs = parse_documents(text);
    let mut yaml_failures = 0;
    let total = docs.len();
    for doc in docs {
        let doc = match doc {
            Ok(d) => d,
            Err(e) => {
                yaml_failures += 1;
                out.problems.push(ProblemView {
                    document: Some(e.index),
                    line: Some(e.line),
                    ..file_problem(file, format!("invalid YAML: {}", e.message))
                });
                continue;
            }
        };
        let at = |field: Option<String>, message: String| ProblemView {
            document: Some(doc.index),
            line: Some(doc.line),
            field,
            ..file_problem(file, message)
        };
        let mut value = doc.value;
        let mut entity_problems = Vec::new();
        let mut placeholder_fields = Vec::new();
        if placeholder::has_placeholders(&value) {
            out.had_placeholders = true;
            for p in placeholder::resolve(&mut value, base_dir, src.placeholders) {
                placeholder_fields.push(p.field.clone());
                entity_problems.push(at(Some(p.field), p.message));
            }
        }
        let errors: Vec<_> = validate_entity(&value)
            .into_iter()
            .filter(|e| !placeholder_fields.contains(&e.field))
            .collect();
        if !errors.is_empty() {
            if let Some(key) = identity(&value) {
                out.invalid.push(key);
            }
            for e in errors {
                let field = if e.field.is_empty() {
                    None
                } else {
                    Some(e.field)
                };
                out.problems.push(at(field, e.message));
            }
            continue;
        }
        let Some(entity) = complete(value, src) else {
            out.problems.push(at(
                None,
                "expected a mapping with apiVersion, kind and metadata".into(),
            ));
            continue;
        };
        let entity_ref = EntityRef::new(
            canonical_kind(str_at(&entity, &["kind"]).unwrap_or_default()),
            str_at(&entity, &["metadata", "namespace"]).unwrap_or("default"),
            str_at(&entity, &["metadata", "name"]).unwrap_or_default(),
        );
        let (_, ref_problems) = relations::emit(&entity_ref, &entity);
        for p in ref_problems {
            entity_problems.push(at(Some(p.field), p.error.to_string()));
        }
        if entity_ref.kind == "Location" {
            out.targets.extend(location_targets(&entity, base_dir));
        }
        let key = RefKey::from_ref(&entity_ref);
        let mut stored = Stored::new(
            entity_ref,
            &entity,
            String::new(),
            String::new(),
            String::new(),
            (file.to_string(), doc.index, doc.line),
            entity_problems,
            String::new(),
        );
        // The hash covers the processed entity and its problems.
        let mut hashed = stored.body.as_bytes().to_vec();
        for p in &stored.problems {
            hashed.extend_from_slice(p.message.as_bytes());
        }
        stored.hash = content_hash(&hashed);
        out.entities.push(ProcessedEntity { key, stored });
    }
    out.all_failed_yaml = total > 0 && yaml_failures == total;
    out.broken_documents = yaml_failures > 0;
    // Whole locations are held in memory until they are applied: no slack.
    out.entities.shrink_to_fit();
    out
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// The identity of a document that failed validation, when it can be read.
fn identity(v: &Value) -> Option<RefKey> {
    let kind = str_at(v, &["kind"])?;
    let name = str_at(v, &["metadata", "name"])?;
    let ns = str_at(v, &["metadata", "namespace"]).unwrap_or("default");
    Some(RefKey::of(kind, ns, name))
}

/// Fills in the namespace and the managed-by annotations.
fn complete(mut v: Value, src: &FileOrigin<'_>) -> Option<Value> {
    let meta = v.get_mut("metadata")?.as_object_mut()?;
    meta.entry("namespace")
        .or_insert_with(|| Value::String("default".into()));
    let ann = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    ann.insert(
        MANAGED_BY_LOCATION.into(),
        Value::String(src.managed_by.clone()),
    );
    ann.insert(
        MANAGED_BY_ORIGIN_LOCATION.into(),
        Value::String(src.origin.to_string()),
    );
    for (k, v) in &src.defaults {
        ann.entry(*k).or_insert_with(|| Value::String(v.clone()));
    }
    for (k, v) in &src.forced {
        ann.insert((*k).to_string(), Value::String(v.clone()));
    }
    Some(v)
}

/// `spec.target` and `spec.targets` of a Location entity, resolved against its directory.
fn location_targets(entity: &Value, base_dir: &Path) -> Vec<(String, String)> {
    let spec = entity.get("spec");
    let ty = spec
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("file");
    let mut raw: Vec<&str> = Vec::new();
    if let Some(t) = spec.and_then(|s| s.get("target")).and_then(Value::as_str) {
        raw.push(t);
    }
    if let Some(ts) = spec
        .and_then(|s| s.get("targets"))
        .and_then(Value::as_array)
    {
        raw.extend(ts.iter().filter_map(Value::as_str));
    }
    raw.into_iter()
        .map(|t| {
            let relative = !Path::new(t).is_absolute() && !t.contains("://");
            let resolved = if relative && (ty == "file" || ty == "url") {
                normalize(&base_dir.join(t))
            } else {
                t.to_string()
            };
            (ty.to_string(), resolved)
        })
        .collect()
}

/// Removes `.` and `..` components without touching the file system (globs may not exist).
fn normalize(p: &Path) -> String {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::parse_file;

    fn allow_all(_: &Path) -> bool {
        true
    }

    #[test]
    fn parses_completes_and_reports_per_document() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  dependsOn: [db]\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Bad Name\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n";
        let out = parse_file(
            text,
            "/repo/catalog-info.yaml",
            "file:/repo/catalog-info.yaml",
            &allow_all,
        );
        assert_eq!(out.entities.len(), 1);
        let e = &out.entities[0].stored;
        assert_eq!(e.key.as_str(), "component:default/web");
        assert_eq!(e.value()["metadata"]["namespace"], "default");
        assert_eq!(
            e.value()["metadata"]["annotations"][MANAGED_BY_LOCATION],
            "file:/repo/catalog-info.yaml"
        );
        assert_eq!(
            e.problems.len(),
            1,
            "dependsOn without kind: {:?}",
            e.problems
        );
        assert_eq!(e.problems[0].field.as_deref(), Some("spec.dependsOn[0]"));
        assert_eq!(out.problems.len(), 1);
        let p = &out.problems[0];
        assert_eq!(
            (p.document, p.line, p.field.as_deref()),
            (Some(1), Some(11), Some("metadata.name"))
        );
        assert_eq!(p.file.as_deref(), Some("/repo/catalog-info.yaml"));
        assert_eq!(
            out.invalid,
            vec![RefKey::of("component", "default", "Bad Name")]
        );
    }

    #[test]
    fn location_targets_resolve_relative_to_the_file() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  targets:\n    - ./a.yaml\n    - ../b/*.yaml\n";
        let out = parse_file(
            text,
            "/repo/sub/all.yaml",
            "file:/repo/sub/all.yaml",
            &allow_all,
        );
        assert_eq!(
            out.targets,
            vec![
                ("file".to_string(), "/repo/sub/a.yaml".to_string()),
                ("file".to_string(), "/repo/b/*.yaml".to_string())
            ]
        );
    }

    #[test]
    fn a_file_that_is_all_broken_yaml_is_marked_as_such() {
        let out = parse_file("a: [1\n", "/x.yaml", "file:/x.yaml", &allow_all);
        assert!(out.all_failed_yaml);
        assert!(out.entities.is_empty());
    }
}
