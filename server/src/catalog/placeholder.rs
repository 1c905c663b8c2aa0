//! `$text`, `$json` and `$yaml` placeholders: `definition: { $text: ./openapi.yaml }` is replaced
//! by the content of the file, read relative to the descriptor that holds it.
//!
//! A placeholder that cannot be read is a problem on its entity only; the field is left empty.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Largest file a placeholder may pull in.
pub const MAX_PLACEHOLDER_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct PlaceholderProblem {
    /// Dotted path of the field that held the placeholder.
    pub field: String,
    pub message: String,
}

/// Where placeholders may read from.
pub trait PlaceholderReader {
    /// Reads `target` relative to the directory of the descriptor.
    fn read(&self, base_dir: &Path, target: &str) -> Result<String, String>;
}

/// Reads local files under a set of allowed roots.
pub struct FileReader<'a> {
    pub allowed: &'a dyn Fn(&Path) -> bool,
}

impl PlaceholderReader for FileReader<'_> {
    fn read(&self, base_dir: &Path, target: &str) -> Result<String, String> {
        if target.contains("://") {
            return Err(format!(
                "could not read {target}: Backlot does not fetch remote URLs for placeholders yet; \
                 keep the file next to the descriptor and use a relative path"
            ));
        }
        let path: PathBuf = base_dir.join(target);
        let path = path
            .canonicalize()
            .map_err(|e| format!("could not read {}: {}", path.display(), io_reason(&e)))?;
        if !(self.allowed)(&path) {
            return Err(format!(
                "could not read {}: the file is outside the directories Backlot may read (catalog.file_roots)",
                path.display()
            ));
        }
        let meta = std::fs::metadata(&path)
            .map_err(|e| format!("could not read {}: {}", path.display(), io_reason(&e)))?;
        if meta.len() > MAX_PLACEHOLDER_BYTES {
            return Err(format!(
                "could not read {}: it is {} bytes, more than the {} allowed",
                path.display(),
                meta.len(),
                MAX_PLACEHOLDER_BYTES
            ));
        }
        std::fs::read_to_string(&path)
            .map_err(|e| format!("could not read {}: {}", path.display(), io_reason(&e)))
    }
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Resolves every placeholder in `value` in place. Returns what could not be resolved.
pub fn resolve(
    value: &mut Value,
    base_dir: &Path,
    reader: &dyn PlaceholderReader,
) -> Vec<PlaceholderProblem> {
    let mut problems = Vec::new();
    walk(value, String::new(), base_dir, reader, &mut problems);
    problems
}

/// Whether a value contains any placeholder (cheap check before cloning or resolving).
pub fn has_placeholders(value: &Value) -> bool {
    match value {
        Value::Object(map) => placeholder_of(value).is_some() || map.values().any(has_placeholders),
        Value::Array(items) => items.iter().any(has_placeholders),
        _ => false,
    }
}

fn placeholder_of(value: &Value) -> Option<(&str, &str)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    let kind = k.strip_prefix('$')?;
    if matches!(kind, "text" | "json" | "yaml") {
        Some((kind, v.as_str().unwrap_or("")))
    } else {
        None
    }
}

fn walk(
    value: &mut Value,
    path: String,
    base: &Path,
    reader: &dyn PlaceholderReader,
    out: &mut Vec<PlaceholderProblem>,
) {
    if let Some((kind, target)) = placeholder_of(value) {
        let kind = kind.to_string();
        let target = target.to_string();
        *value = match resolve_one(&kind, &target, base, reader) {
            Ok(v) => v,
            Err(message) => {
                out.push(PlaceholderProblem {
                    field: path,
                    message,
                });
                Value::String(String::new())
            }
        };
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, p, base, reader, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, format!("{path}[{i}]"), base, reader, out);
            }
        }
        _ => {}
    }
}

fn resolve_one(
    kind: &str,
    target: &str,
    base: &Path,
    reader: &dyn PlaceholderReader,
) -> Result<Value, String> {
    if target.is_empty() {
        return Err(format!("${kind} needs a file path or URL as a string"));
    }
    let text = reader.read(base, target)?;
    match kind {
        "text" => Ok(Value::String(text)),
        "json" => {
            serde_json::from_str(&text).map_err(|e| format!("{target} is not valid JSON: {e}"))
        }
        _ => super::parse::parse_yaml_value(&text)
            .map_err(|(line, msg)| format!("{target} is not valid YAML (line {line}): {msg}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fake;
    impl PlaceholderReader for Fake {
        fn read(&self, _base: &Path, target: &str) -> Result<String, String> {
            match target {
                "./a.txt" => Ok("hello".into()),
                "./a.json" => Ok("{\"x\": 1}".into()),
                "./a.yaml" => Ok("y: [1, 2]".into()),
                _ => Err(format!("could not read {target}: no such file")),
            }
        }
    }

    #[test]
    fn resolves_all_three_kinds_and_reports_failures_by_field() {
        let mut v = json!({"spec": {"definition": {"$text": "./a.txt"}, "j": {"$json": "./a.json"},
            "list": [{"$yaml": "./a.yaml"}, {"$text": "./missing.txt"}], "plain": {"$other": "x"}}});
        assert!(has_placeholders(&v));
        let problems = resolve(&mut v, Path::new("/x"), &Fake);
        assert_eq!(v["spec"]["definition"], json!("hello"));
        assert_eq!(v["spec"]["j"], json!({"x": 1}));
        assert_eq!(v["spec"]["list"][0], json!({"y": [1, 2]}));
        assert_eq!(v["spec"]["list"][1], json!(""));
        assert_eq!(v["spec"]["plain"], json!({"$other": "x"}));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "spec.list[1]");
        assert!(problems[0].message.contains("missing.txt"));
    }

    #[test]
    fn file_reader_refuses_urls_and_files_outside_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.txt"), "content").unwrap();
        let root = dir.path().canonicalize().unwrap();
        let allowed = move |p: &Path| p.starts_with(&root);
        let reader = FileReader { allowed: &allowed };
        assert_eq!(reader.read(dir.path(), "./ok.txt").unwrap(), "content");
        assert!(reader
            .read(dir.path(), "https://example.com/x")
            .unwrap_err()
            .contains("remote URLs"));
        assert!(reader
            .read(dir.path(), "./nope.txt")
            .unwrap_err()
            .contains("no such file"));
        assert!(reader
            .read(dir.path(), "/etc/hostname")
            .unwrap_err()
            .contains("outside"));
    }
}
