//! The schema compiler: turns the embedded JSON Schema documents (draft-07) into [`Node`]s that
//! refer to each other by index, resolving every `$ref` to a `$id`. It accepts only the
//! keywords and patterns the interpreter understands and rejects anything else, so a schema
//! update that needs more support fails the tests instead of being checked by half.

use super::kinds::KNOWN_KINDS;
use serde_json::Value;
use std::collections::HashMap;

/// The JSON Schema keywords the interpreter understands. Any other keyword in an embedded
/// schema that is not an annotation is a compile error (caught by the tests).
const SUPPORTED_KEYWORDS: &[&str] = &[
    "$ref",
    "$id",
    "definitions",
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "allOf",
    "anyOf",
    "oneOf",
    "if",
    "then",
    "else",
];

/// Keywords that only annotate and are ignored.
const ANNOTATION_KEYWORDS: &[&str] = &[
    "$schema",
    "$comment",
    "title",
    "description",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
];

#[derive(Debug, thiserror::Error)]
pub(super) enum SchemaError {
    #[error("{file}: not valid JSON: {source}")]
    Json {
        file: String,
        source: serde_json::Error,
    },
    #[error("{file}: the document has no \"$id\"")]
    NoId { file: String },
    #[error("{file}: unsupported keyword {keyword:?}")]
    UnsupportedKeyword { file: String, keyword: String },
    #[error("{file}: unsupported pattern {pattern:?}")]
    UnsupportedPattern { file: String, pattern: String },
    #[error("{file}: keyword {keyword:?} has a malformed value")]
    Malformed { file: String, keyword: String },
    #[error("{file}: \"$ref\" {reference:?} does not resolve to any \"$id\"")]
    UnresolvedRef { file: String, reference: String },
    #[error("\"$id\" {id:?} is defined twice")]
    DuplicateId { id: String },
    #[error("missing schema {id:?}")]
    Missing { id: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JsonType {
    Null,
    Boolean,
    Object,
    Array,
    Number,
    Integer,
    String,
}

impl JsonType {
    fn parse(name: &str) -> Option<JsonType> {
        Some(match name {
            "null" => JsonType::Null,
            "boolean" => JsonType::Boolean,
            "object" => JsonType::Object,
            "array" => JsonType::Array,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "string" => JsonType::String,
            _ => return None,
        })
    }

    pub(super) fn matches(self, value: &Value) -> bool {
        match self {
            JsonType::Null => value.is_null(),
            JsonType::Boolean => value.is_boolean(),
            JsonType::Object => value.is_object(),
            JsonType::Array => value.is_array(),
            JsonType::Number => value.is_number(),
            JsonType::Integer => match value {
                Value::Number(n) => {
                    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
                }
                _ => false,
            },
            JsonType::String => value.is_string(),
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "a boolean",
            JsonType::Object => "an object",
            JsonType::Array => "an array",
            JsonType::Number => "a number",
            JsonType::Integer => "an integer",
            JsonType::String => "a string",
        }
    }
}

/// The few regular expressions the schemas use, implemented by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pattern {
    /// `^\w+$`: one or more of `[A-Za-z0-9_]`.
    Word,
    /// `^.+$`: one or more characters, none a line terminator.
    Line,
}

impl Pattern {
    fn parse(source: &str) -> Option<Pattern> {
        match source {
            r"^\w+$" => Some(Pattern::Word),
            "^.+$" => Some(Pattern::Line),
            _ => None,
        }
    }

    pub(super) fn matches(self, s: &str) -> bool {
        match self {
            Pattern::Word => {
                !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
            Pattern::Line => {
                !s.is_empty()
                    && !s
                        .chars()
                        .any(|c| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
            }
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            Pattern::Word => "a single word of letters, digits and '_'",
            Pattern::Line => "a non-empty single line",
        }
    }
}

#[derive(Debug, Default)]
pub(super) enum Additional {
    #[default]
    Allowed,
    Forbidden,
    Schema(usize),
}

/// One compiled schema node. Nodes live in [`Schemas::nodes`] and refer to each other by index.
#[derive(Debug, Default)]
pub(super) struct Node {
    /// A resolved `$ref`; in draft-07 it replaces every sibling keyword.
    pub(super) reference: Option<usize>,
    pub(super) types: Option<Vec<JsonType>>,
    pub(super) enumeration: Option<Vec<Value>>,
    pub(super) constant: Option<Value>,
    pub(super) required: Vec<String>,
    pub(super) properties: Vec<(String, usize)>,
    pub(super) pattern_properties: Vec<(Pattern, usize)>,
    pub(super) additional: Additional,
    pub(super) items: Option<usize>,
    pub(super) min_items: Option<u64>,
    pub(super) max_items: Option<u64>,
    pub(super) min_length: Option<u64>,
    pub(super) max_length: Option<u64>,
    pub(super) pattern: Option<Pattern>,
    pub(super) all_of: Vec<usize>,
    pub(super) any_of: Vec<usize>,
    pub(super) one_of: Vec<usize>,
    pub(super) if_then_else: Option<(usize, Option<usize>, Option<usize>)>,
}

#[derive(Debug)]
pub(super) struct Schemas {
    pub(super) nodes: Vec<Node>,
    pub(super) by_id: HashMap<String, usize>,
    pub(super) envelope: usize,
    pub(super) entity: usize,
}

/// A `$ref` waiting for every `$id` to be known.
struct PendingRef {
    node: usize,
    file: String,
    target: String,
}

struct Compiler {
    nodes: Vec<Node>,
    by_id: HashMap<String, usize>,
    pending: Vec<PendingRef>,
}

impl Schemas {
    pub(super) fn compile(sources: &[(&str, &str)]) -> Result<Schemas, SchemaError> {
        let mut compiler = Compiler {
            nodes: Vec::new(),
            by_id: HashMap::new(),
            pending: Vec::new(),
        };
        for (file, text) in sources {
            let doc: Value = serde_json::from_str(text).map_err(|source| SchemaError::Json {
                file: (*file).to_string(),
                source,
            })?;
            let base = doc
                .get("$id")
                .and_then(Value::as_str)
                .ok_or_else(|| SchemaError::NoId {
                    file: (*file).to_string(),
                })?
                .to_string();
            compiler.compile(&doc, file, &base)?;
        }
        let Compiler {
            mut nodes,
            by_id,
            pending,
        } = compiler;
        for PendingRef { node, file, target } in pending {
            let resolved = by_id
                .get(&target)
                .copied()
                .ok_or(SchemaError::UnresolvedRef {
                    file,
                    reference: target,
                })?;
            nodes[node].reference = Some(resolved);
        }
        let lookup = |id: &str| {
            by_id
                .get(id)
                .copied()
                .ok_or_else(|| SchemaError::Missing { id: id.to_string() })
        };
        let envelope = lookup("EntityEnvelope")?;
        let entity = lookup("Entity")?;
        for known in KNOWN_KINDS {
            lookup(known.schema_id)?;
            for (_, id) in known.by_type {
                lookup(id)?;
            }
        }
        Ok(Schemas {
            nodes,
            by_id,
            envelope,
            entity,
        })
    }
}

impl Compiler {
    fn compile(&mut self, schema: &Value, file: &str, base: &str) -> Result<usize, SchemaError> {
        let malformed = |keyword: &str| SchemaError::Malformed {
            file: file.to_string(),
            keyword: keyword.to_string(),
        };
        let index = self.nodes.len();
        self.nodes.push(Node::default());
        let obj = match schema {
            Value::Object(obj) => obj,
            // Boolean schemas: `true` accepts anything; `false` is not used by these files.
            Value::Bool(true) => return Ok(index),
            _ => return Err(malformed("(schema)")),
        };

        if let Some(id) = obj.get("$id") {
            let id = id.as_str().ok_or_else(|| malformed("$id"))?;
            let full = if id.starts_with('#') {
                format!("{base}{id}")
            } else {
                id.to_string()
            };
            if self.by_id.insert(full.clone(), index).is_some() {
                return Err(SchemaError::DuplicateId { id: full });
            }
        }
        if let Some(defs) = obj.get("definitions") {
            let defs = defs.as_object().ok_or_else(|| malformed("definitions"))?;
            for def in defs.values() {
                self.compile(def, file, base)?;
            }
        }
        if let Some(reference) = obj.get("$ref") {
            let reference = reference.as_str().ok_or_else(|| malformed("$ref"))?;
            let target = if reference.starts_with('#') {
                format!("{base}{reference}")
            } else {
                reference.to_string()
            };
            self.pending.push(PendingRef {
                node: index,
                file: file.to_string(),
                target,
            });
            // Draft-07: every keyword next to "$ref" is ignored.
            return Ok(index);
        }

        let mut node = Node::default();
        for (keyword, value) in obj {
            let supported = SUPPORTED_KEYWORDS.contains(&keyword.as_str());
            if !supported && !ANNOTATION_KEYWORDS.contains(&keyword.as_str()) {
                return Err(SchemaError::UnsupportedKeyword {
                    file: file.to_string(),
                    keyword: keyword.clone(),
                });
            }
            match keyword.as_str() {
                // Handled above, or annotations.
                "$id" | "definitions" => {}
                "type" => {
                    let names: Vec<&Value> = match value {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    let mut types = Vec::new();
                    for name in names {
                        let ty = name
                            .as_str()
                            .and_then(JsonType::parse)
                            .ok_or_else(|| malformed("type"))?;
                        types.push(ty);
                    }
                    node.types = Some(types);
                }
                "enum" => {
                    let values = value.as_array().ok_or_else(|| malformed("enum"))?;
                    node.enumeration = Some(values.clone());
                }
                "const" => node.constant = Some(value.clone()),
                "required" => {
                    let names = value.as_array().ok_or_else(|| malformed("required"))?;
                    for name in names {
                        let name = name.as_str().ok_or_else(|| malformed("required"))?;
                        node.required.push(name.to_string());
                    }
                }
                "properties" => {
                    let props = value.as_object().ok_or_else(|| malformed("properties"))?;
                    for (name, sub) in props {
                        let sub = self.compile(sub, file, base)?;
                        node.properties.push((name.clone(), sub));
                    }
                }
                "patternProperties" => {
                    let props = value
                        .as_object()
                        .ok_or_else(|| malformed("patternProperties"))?;
                    for (source, sub) in props {
                        let pattern = Pattern::parse(source).ok_or_else(|| {
                            SchemaError::UnsupportedPattern {
                                file: file.to_string(),
                                pattern: source.clone(),
                            }
                        })?;
                        let sub = self.compile(sub, file, base)?;
                        node.pattern_properties.push((pattern, sub));
                    }
                }
                "additionalProperties" => {
                    node.additional = match value {
                        Value::Bool(true) => Additional::Allowed,
                        Value::Bool(false) => Additional::Forbidden,
                        Value::Object(_) => Additional::Schema(self.compile(value, file, base)?),
                        _ => return Err(malformed("additionalProperties")),
                    };
                }
                "items" => {
                    if !value.is_object() {
                        // Tuple-form "items" is not used by these schemas.
                        return Err(malformed("items"));
                    }
                    node.items = Some(self.compile(value, file, base)?);
                }
                "minItems" => {
                    node.min_items = Some(value.as_u64().ok_or_else(|| malformed("minItems"))?)
                }
                "maxItems" => {
                    node.max_items = Some(value.as_u64().ok_or_else(|| malformed("maxItems"))?)
                }
                "minLength" => {
                    node.min_length = Some(value.as_u64().ok_or_else(|| malformed("minLength"))?)
                }
                "maxLength" => {
                    node.max_length = Some(value.as_u64().ok_or_else(|| malformed("maxLength"))?)
                }
                "pattern" => {
                    let source = value.as_str().ok_or_else(|| malformed("pattern"))?;
                    node.pattern = Some(Pattern::parse(source).ok_or_else(|| {
                        SchemaError::UnsupportedPattern {
                            file: file.to_string(),
                            pattern: source.to_string(),
                        }
                    })?);
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let subs = value.as_array().ok_or_else(|| malformed(keyword))?;
                    let mut compiled = Vec::new();
                    for sub in subs {
                        compiled.push(self.compile(sub, file, base)?);
                    }
                    match keyword.as_str() {
                        "allOf" => node.all_of = compiled,
                        "anyOf" => node.any_of = compiled,
                        _ => node.one_of = compiled,
                    }
                }
                "if" => {
                    let cond = self.compile(value, file, base)?;
                    let then = match obj.get("then") {
                        Some(then) => Some(self.compile(then, file, base)?),
                        None => None,
                    };
                    let otherwise = match obj.get("else") {
                        Some(otherwise) => Some(self.compile(otherwise, file, base)?),
                        None => None,
                    };
                    node.if_then_else = Some((cond, then, otherwise));
                }
                // Without "if", "then" and "else" are ignored (draft-07).
                "then" | "else" => {}
                // Annotations ("$ref" returned early above).
                _ => {}
            }
        }
        self.nodes[index] = node;
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::super::kinds::{schemas, SCHEMA_SOURCES};
    use super::*;

    #[test]
    fn every_embedded_schema_parses_and_compiles() {
        for (file, text) in SCHEMA_SOURCES {
            let doc: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{file} is not valid JSON: {e}"));
            assert!(doc.get("$id").is_some(), "{file} has no $id");
        }
        let compiled = Schemas::compile(SCHEMA_SOURCES).unwrap();
        for id in [
            "EntityEnvelope",
            "Entity",
            "EntityMeta",
            "common",
            "common#reference",
            "common#relation",
            "common#status",
            "common#statusItem",
            "common#statusLevel",
            "common#error",
            "TemplateV1beta3",
        ] {
            assert!(compiled.by_id.contains_key(id), "missing $id {id}");
        }
        for known in KNOWN_KINDS {
            assert!(compiled.by_id.contains_key(known.schema_id));
            for (_, id) in known.by_type {
                assert!(compiled.by_id.contains_key(*id));
            }
        }
        assert_eq!(SCHEMA_SOURCES.len(), 19);
        // The lazily compiled copy is the same.
        assert_eq!(schemas().nodes.len(), compiled.nodes.len());
    }

    #[test]
    fn compiling_rejects_what_the_interpreter_does_not_understand() {
        let unknown_keyword = [("x.json", r#"{"$id": "X", "minimum": 3}"#)];
        assert!(matches!(
            Schemas::compile(&unknown_keyword),
            Err(SchemaError::UnsupportedKeyword { .. })
        ));
        let unknown_pattern = [("x.json", r#"{"$id": "X", "pattern": "^[a-z]+$"}"#)];
        assert!(matches!(
            Schemas::compile(&unknown_pattern),
            Err(SchemaError::UnsupportedPattern { .. })
        ));
        let dangling_ref = [("x.json", r##"{"$id": "X", "$ref": "#nowhere"}"##)];
        assert!(matches!(
            Schemas::compile(&dangling_ref),
            Err(SchemaError::UnresolvedRef { .. })
        ));
    }

    #[test]
    fn hand_written_patterns() {
        assert!(Pattern::Word.matches("ownedBy_2"));
        assert!(!Pattern::Word.matches("owned-by"));
        assert!(!Pattern::Word.matches(""));
        assert!(!Pattern::Word.matches("é"));
        assert!(Pattern::Line.matches("any key: at all"));
        assert!(!Pattern::Line.matches(""));
        assert!(!Pattern::Line.matches("two\nlines"));
    }
}
