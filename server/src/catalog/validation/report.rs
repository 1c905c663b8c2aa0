//! How problems are reported: raw errors at a path of keys and indexes, the dotted field
//! names shown to people, and the [`Collector`] that keeps one error per field, in order.

use super::FieldError;
use serde_json::Value;
use std::collections::HashSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// An error before de-duplication.
#[derive(Clone, Debug)]
pub(super) struct RawError {
    pub(super) path: Vec<Seg>,
    pub(super) message: String,
    /// The value at `path` has the wrong JSON type (used to pick a branch of anyOf/oneOf).
    pub(super) type_mismatch: bool,
}

impl RawError {
    pub(super) fn new(path: &[Seg], message: String) -> RawError {
        RawError {
            path: path.to_vec(),
            message,
            type_mismatch: false,
        }
    }
}

/// A JSON-quoted string.
pub(super) fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `metadata.annotations["backstage.io/x"]`, `spec.targets[0]`, `""` for the root.
pub(super) fn format_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Seg::Key(key) if needs_brackets(key) => {
                out.push('[');
                out.push_str(&quote(key));
                out.push(']');
            }
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
        }
    }
    out
}

fn needs_brackets(key: &str) -> bool {
    key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | ':' | '@'))
}

/// Keeps the first error of each field, then orders the errors by top-level field (root,
/// `apiVersion`, `kind`, `metadata`, `spec`, `relations`, `status`, anything else), keeping the
/// order found within each.
#[derive(Default)]
pub(super) struct Collector {
    seen: HashSet<String>,
    errors: Vec<(usize, FieldError)>,
}

impl Collector {
    pub(super) fn extend(&mut self, raw: Vec<RawError>) {
        const ROOTS: &[&str] = &[
            "apiVersion",
            "kind",
            "metadata",
            "spec",
            "relations",
            "status",
        ];
        for error in raw {
            let field = format_path(&error.path);
            if self.seen.insert(field.clone()) {
                let rank = match error.path.first() {
                    None => 0,
                    Some(Seg::Key(key)) => ROOTS
                        .iter()
                        .position(|root| root == key)
                        .map_or(ROOTS.len() + 1, |i| i + 1),
                    Some(Seg::Index(_)) => ROOTS.len() + 1,
                };
                self.errors.push((
                    rank,
                    FieldError {
                        field,
                        message: error.message,
                    },
                ));
            }
        }
    }

    pub(super) fn finish(mut self) -> Vec<FieldError> {
        self.errors.sort_by_key(|(rank, _)| *rank);
        self.errors.into_iter().map(|(_, error)| error).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths() {
        let key = |k: &str| Seg::Key(k.to_string());
        assert_eq!(format_path(&[]), "");
        assert_eq!(
            format_path(&[key("metadata"), key("name")]),
            "metadata.name"
        );
        assert_eq!(
            format_path(&[key("metadata"), key("tags"), Seg::Index(1)]),
            "metadata.tags[1]"
        );
        assert_eq!(
            format_path(&[key("metadata"), key("annotations"), key("backstage.io/x")]),
            "metadata.annotations[\"backstage.io/x\"]"
        );
        assert_eq!(
            format_path(&[
                key("spec"),
                key("steps"),
                Seg::Index(0),
                key("backstage:permissions")
            ]),
            "spec.steps[0].backstage:permissions"
        );
        assert_eq!(format_path(&[key("a b"), key("c")]), "[\"a b\"].c");
    }
}
