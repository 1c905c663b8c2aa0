//! Entity validation, as Backstage does it.
//!
//! [`validate_entity`] checks one descriptor entity (already parsed from YAML into JSON) and
//! returns every problem it finds as a [`FieldError`]: the dotted path of the offending field
//! and a sentence saying what was expected and what was found. An empty list means valid.
//!
//! The checks are the ones the Backstage catalog applies before it accepts an entity:
//!
//! 1. **The entity envelope** (`EntityEnvelope.schema.json`): an object with a non-empty string
//!    `apiVersion`, `kind` and `metadata.name`.
//! 2. **The kind's schema**, chosen by `kind`, `apiVersion` and (for kinds with sub-types)
//!    `spec.type`. Every kind schema includes the generic `Entity` schema, which forbids unknown
//!    root fields and types `metadata` (`EntityMeta.schema.json`), `relations` and `status`
//!    (`common.schema.json`).
//!
//!    | kind | apiVersion | schema |
//!    |---|---|---|
//!    | Component, API, Resource, System, Domain, Group, User, Location | `backstage.io/v1alpha1`, `backstage.io/v1beta1` | `kinds/<Kind>.v1alpha1.schema.json` |
//!    | API with `spec.type: mcp-server` | same | `kinds/API.v1alpha1.mcp-server.schema.json` |
//!    | AiResource | `backstage.io/v1alpha1` | `kinds/AiResource.v1alpha1.schema.json`, or the `skill`, `rule`, `plugin` and `marketplace` schema for that `spec.type` |
//!    | Template | `scaffolder.backstage.io/v1beta3` | `Template.v1beta3.schema.json` |
//!
//!    A known kind with another `apiVersion` fails on `apiVersion`, listing the accepted values;
//!    its `spec` is still checked against the kind's schema. Any other kind is checked against
//!    the generic `Entity` schema only (Backstage would need a plugin that knows it), except a
//!    kind that differs from a known kind only in letter case (`component`), which is reported
//!    because kinds are case-sensitive and Backstage would recognise no such kind.
//! 3. **The field formats Backstage enforces in code** (`FieldFormatEntityPolicy` with the
//!    catalog backend's tag rule): `apiVersion`, `kind`, `metadata.name`, `metadata.namespace`,
//!    `metadata.tags[i]`, label keys and values, annotation keys, and `metadata.links[i]`
//!    (`url` an absolute URL, `title` not blank, `icon` a name).
//!
//! Placeholders (`$text`, `$json`, `$yaml`, `$openapi`, `$asyncapi`: an object with that single
//! key and a string value) are accepted wherever they appear: Backstage substitutes them before
//! it validates, and fetching their content (and reporting a failure) is the loader's job.
//!
//! Each field is reported at most once (the first problem found, in the order above), so the
//! same missing field required by several schemas produces one error.
//!
//! The JSON Schemas are Backstage's own (draft-07), embedded from `server/schemas/` and
//! compiled once on first use by a small interpreter for the keywords they use: `$ref` (to a
//! document `$id`, to a fragment `$id` such as `common#relation`, or `#fragment` relative to the
//! current document; siblings of `$ref` are ignored, as draft-07 says), `$id`, `definitions`,
//! `type` (one or a list), `enum`, `const`, `required`, `properties`, `patternProperties`,
//! `additionalProperties` (boolean or schema), `items` (one schema), `minItems`, `maxItems`,
//! `minLength`, `maxLength` (in code points, like ajv), `pattern`, `allOf`, `anyOf`, `oneOf`
//! and `if`/`then`/`else`. Annotations (`$schema`, `title`, `description`, `examples`,
//! `default`, `deprecated`, …) are ignored. There is no regex engine: the two patterns the
//! schemas use (`^\w+$` and `^.+$`) are written by hand. Compiling rejects any other keyword
//! or pattern, so a schema update that needs more support fails the tests instead of being
//! checked by half.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

/// One problem with an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, with indexes and bracketed keys where needed:
    /// `metadata.name`, `metadata.tags[1]`, `metadata.annotations["backstage.io/x"]`.
    /// Empty for the entity itself.
    pub field: String,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for FieldError {}

/// Validates one entity (already parsed from YAML into JSON). Empty = valid.
pub fn validate_entity(entity: &serde_json::Value) -> Vec<FieldError> {
    let schemas = schemas();
    let mut out = Collector::default();

    // 1. The envelope.
    let mut raw = Vec::new();
    schemas.validate(schemas.envelope, entity, &Subject::every_entity(), &mut raw);
    out.extend(raw);

    // 2. The kind's schema, or the generic Entity schema.
    let kind = entity.get("kind").and_then(Value::as_str);
    let spec_type = entity
        .get("spec")
        .and_then(|spec| spec.get("type"))
        .and_then(Value::as_str);
    let known = kind.and_then(|kind| KNOWN_KINDS.iter().find(|k| k.kind == kind));
    let mut raw = Vec::new();
    match known {
        Some(known) => {
            let (schema_id, subject) =
                match known.by_type.iter().find(|(ty, _)| Some(*ty) == spec_type) {
                    Some((ty, id)) => (*id, Subject::kind_of_type(known.kind, ty)),
                    None => (known.schema_id, Subject::kind(known.kind)),
                };
            match schemas.by_id.get(schema_id) {
                Some(&node) => schemas.validate(node, entity, &subject, &mut raw),
                None => schemas.validate(schemas.entity, entity, &subject, &mut raw),
            }
        }
        None => schemas.validate(schemas.entity, entity, &Subject::every_entity(), &mut raw),
    }
    out.extend(raw);

    // 3. Field formats.
    let mut raw = Vec::new();
    check_field_formats(entity, &mut raw);
    out.extend(raw);

    out.finish()
}

// ---------------------------------------------------------------------------------------------
// Embedded schemas and kind selection
// ---------------------------------------------------------------------------------------------

/// The embedded schema documents, by file name under `server/schemas/`.
const SCHEMA_SOURCES: &[(&str, &str)] = &[
    (
        "EntityEnvelope.schema.json",
        include_str!("../../schemas/EntityEnvelope.schema.json"),
    ),
    (
        "Entity.schema.json",
        include_str!("../../schemas/Entity.schema.json"),
    ),
    (
        "EntityMeta.schema.json",
        include_str!("../../schemas/EntityMeta.schema.json"),
    ),
    (
        "common.schema.json",
        include_str!("../../schemas/common.schema.json"),
    ),
    (
        "kinds/API.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/API.v1alpha1.schema.json"),
    ),
    (
        "kinds/API.v1alpha1.mcp-server.schema.json",
        include_str!("../../schemas/kinds/API.v1alpha1.mcp-server.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/AiResource.v1alpha1.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.skill.schema.json",
        include_str!("../../schemas/kinds/AiResource.v1alpha1.skill.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.rule.schema.json",
        include_str!("../../schemas/kinds/AiResource.v1alpha1.rule.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.plugin.schema.json",
        include_str!("../../schemas/kinds/AiResource.v1alpha1.plugin.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.marketplace.schema.json",
        include_str!("../../schemas/kinds/AiResource.v1alpha1.marketplace.schema.json"),
    ),
    (
        "kinds/Component.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/Component.v1alpha1.schema.json"),
    ),
    (
        "kinds/Domain.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/Domain.v1alpha1.schema.json"),
    ),
    (
        "kinds/Group.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/Group.v1alpha1.schema.json"),
    ),
    (
        "kinds/Location.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/Location.v1alpha1.schema.json"),
    ),
    (
        "kinds/Resource.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/Resource.v1alpha1.schema.json"),
    ),
    (
        "kinds/System.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/System.v1alpha1.schema.json"),
    ),
    (
        "kinds/User.v1alpha1.schema.json",
        include_str!("../../schemas/kinds/User.v1alpha1.schema.json"),
    ),
    (
        "Template.v1beta3.schema.json",
        include_str!("../../schemas/Template.v1beta3.schema.json"),
    ),
];

/// A kind Backstage knows, with the `$id` of its schema and of its `spec.type` variants.
struct KnownKind {
    kind: &'static str,
    schema_id: &'static str,
    by_type: &'static [(&'static str, &'static str)],
}

const KNOWN_KINDS: &[KnownKind] = &[
    KnownKind {
        kind: "Component",
        schema_id: "ComponentV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "API",
        schema_id: "ApiV1alpha1",
        by_type: &[("mcp-server", "ApiV1alpha1McpServer")],
    },
    KnownKind {
        kind: "Resource",
        schema_id: "ResourceV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "System",
        schema_id: "SystemV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "Domain",
        schema_id: "DomainV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "Group",
        schema_id: "GroupV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "User",
        schema_id: "UserV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "Location",
        schema_id: "LocationV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "AiResource",
        schema_id: "AiResourceV1alpha1",
        by_type: &[
            ("skill", "AiResourceV1alpha1Skill"),
            ("rule", "AiResourceV1alpha1Rule"),
            ("plugin", "AiResourceV1alpha1Plugin"),
            ("marketplace", "AiResourceV1alpha1Marketplace"),
        ],
    },
    KnownKind {
        kind: "Template",
        schema_id: "TemplateV1beta3",
        by_type: &[],
    },
];

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

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        Schemas::compile(SCHEMA_SOURCES).expect("the embedded Backstage schemas compile")
    })
}

// ---------------------------------------------------------------------------------------------
// Schema compilation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
enum SchemaError {
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
enum JsonType {
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

    fn matches(self, value: &Value) -> bool {
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

    fn noun(self) -> &'static str {
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
enum Pattern {
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

    fn matches(self, s: &str) -> bool {
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

    fn describe(self) -> &'static str {
        match self {
            Pattern::Word => "a single word of letters, digits and '_'",
            Pattern::Line => "a non-empty single line",
        }
    }
}

#[derive(Debug, Default)]
enum Additional {
    #[default]
    Allowed,
    Forbidden,
    Schema(usize),
}

/// One compiled schema node. Nodes live in [`Schemas::nodes`] and refer to each other by index.
#[derive(Debug, Default)]
struct Node {
    /// A resolved `$ref`; in draft-07 it replaces every sibling keyword.
    reference: Option<usize>,
    types: Option<Vec<JsonType>>,
    enumeration: Option<Vec<Value>>,
    constant: Option<Value>,
    required: Vec<String>,
    properties: Vec<(String, usize)>,
    pattern_properties: Vec<(Pattern, usize)>,
    additional: Additional,
    items: Option<usize>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<Pattern>,
    all_of: Vec<usize>,
    any_of: Vec<usize>,
    one_of: Vec<usize>,
    if_then_else: Option<(usize, Option<usize>, Option<usize>)>,
}

#[derive(Debug)]
struct Schemas {
    nodes: Vec<Node>,
    by_id: HashMap<String, usize>,
    envelope: usize,
    entity: usize,
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
    fn compile(sources: &[(&str, &str)]) -> Result<Schemas, SchemaError> {
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

// ---------------------------------------------------------------------------------------------
// Schema validation
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// An error before de-duplication.
#[derive(Clone, Debug)]
struct RawError {
    path: Vec<Seg>,
    message: String,
    /// The value at `path` has the wrong JSON type (used to pick a branch of anyOf/oneOf).
    type_mismatch: bool,
}

impl RawError {
    fn new(path: &[Seg], message: String) -> RawError {
        RawError {
            path: path.to_vec(),
            message,
            type_mismatch: false,
        }
    }
}

/// Who is being validated, for "is required (… need …)" messages.
struct Subject {
    /// "every entity needs" or "Component entities need".
    needs: String,
}

impl Subject {
    fn every_entity() -> Subject {
        Subject {
            needs: "every entity needs".to_string(),
        }
    }

    fn kind(kind: &str) -> Subject {
        Subject {
            needs: format!("{kind} entities need"),
        }
    }

    fn kind_of_type(kind: &str, ty: &str) -> Subject {
        Subject {
            needs: format!("{kind} entities of type \"{ty}\" need"),
        }
    }
}

impl Schemas {
    fn validate(&self, node: usize, value: &Value, subject: &Subject, errors: &mut Vec<RawError>) {
        let mut path = Vec::new();
        self.check(node, value, &mut path, subject, errors);
    }

    fn resolve(&self, mut node: usize) -> &Node {
        // References form no cycles in these schemas, but stay safe against one.
        for _ in 0..32 {
            match self.nodes[node].reference {
                Some(target) => node = target,
                None => break,
            }
        }
        &self.nodes[node]
    }

    fn check(
        &self,
        node: usize,
        value: &Value,
        path: &mut Vec<Seg>,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        if is_placeholder(value) {
            return;
        }
        let schema = self.resolve(node);

        if let Some(types) = &schema.types {
            if !types.iter().any(|ty| ty.matches(value)) {
                errors.push(RawError {
                    path: path.clone(),
                    message: format!(
                        "expected {}, found {}",
                        self.describe_expected(schema),
                        describe_found(value)
                    ),
                    type_mismatch: true,
                });
                return;
            }
        }
        if let Some(allowed) = &schema.enumeration {
            if !allowed.contains(value) {
                let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
                errors.push(RawError::new(
                    path,
                    format!(
                        "must be one of {} (found {})",
                        list.join(", "),
                        describe_found_value(value)
                    ),
                ));
            }
        }
        if let Some(constant) = &schema.constant {
            if constant != value {
                errors.push(RawError::new(
                    path,
                    format!("must be {constant} (found {})", describe_found_value(value)),
                ));
            }
        }

        match value {
            Value::String(s) => self.check_string(schema, s, path, errors),
            Value::Array(items) => self.check_array(schema, items, path, subject, errors),
            Value::Object(map) => self.check_object(schema, map, path, subject, errors),
            _ => {}
        }

        for &sub in &schema.all_of {
            self.check(sub, value, path, subject, errors);
        }
        if !schema.any_of.is_empty() {
            let results = self.try_branches(&schema.any_of, value, path, subject);
            if !results.iter().any(Vec::is_empty) {
                errors.extend(self.explain_no_branch(&schema.any_of, value, path, results));
            }
        }
        if !schema.one_of.is_empty() {
            let results = self.try_branches(&schema.one_of, value, path, subject);
            let passing = results.iter().filter(|r| r.is_empty()).count();
            if passing == 0 {
                errors.extend(self.explain_no_branch(&schema.one_of, value, path, results));
            } else if passing > 1 {
                errors.push(RawError::new(
                    path,
                    format!(
                        "is ambiguous: it matches more than one of the allowed forms ({})",
                        self.describe_branches(&schema.one_of)
                    ),
                ));
            }
        }
        if let Some((cond, then, otherwise)) = schema.if_then_else {
            let mut probe = Vec::new();
            self.check(cond, value, path, subject, &mut probe);
            let branch = if probe.is_empty() { then } else { otherwise };
            if let Some(branch) = branch {
                self.check(branch, value, path, subject, errors);
            }
        }
    }

    fn check_string(&self, schema: &Node, s: &str, path: &[Seg], errors: &mut Vec<RawError>) {
        // Like ajv, lengths count Unicode code points.
        let len = s.chars().count() as u64;
        let too_short = schema.min_length.is_some_and(|min| len < min);
        let too_long = schema.max_length.is_some_and(|max| len > max);
        if too_short || too_long {
            let found = if len == 0 {
                "an empty string".to_string()
            } else {
                format!("{len} {}", plural(len, "character", "characters"))
            };
            errors.push(RawError::new(
                path,
                format!(
                    "expected {}, found {found}",
                    string_description(schema.min_length, schema.max_length)
                ),
            ));
        }
        if let Some(pattern) = schema.pattern {
            if !pattern.matches(s) {
                errors.push(RawError::new(
                    path,
                    format!("expected {}, found {}", pattern.describe(), quote(s)),
                ));
            }
        }
    }

    fn check_array(
        &self,
        schema: &Node,
        items: &[Value],
        path: &mut Vec<Seg>,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        let len = items.len() as u64;
        let too_few = schema.min_items.is_some_and(|min| len < min);
        let too_many = schema.max_items.is_some_and(|max| len > max);
        if too_few || too_many {
            let found = if len == 0 {
                "an empty array".to_string()
            } else {
                format!("{len} {}", plural(len, "item", "items"))
            };
            errors.push(RawError::new(
                path,
                format!(
                    "expected {}, found {found}",
                    array_description(schema.min_items, schema.max_items)
                ),
            ));
        }
        if let Some(item_schema) = schema.items {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                self.check(item_schema, item, path, subject, errors);
                path.pop();
            }
        }
    }

    fn check_object(
        &self,
        schema: &Node,
        map: &Map<String, Value>,
        path: &mut Vec<Seg>,
        subject: &Subject,
        errors: &mut Vec<RawError>,
    ) {
        let missing: Vec<&String> = schema
            .required
            .iter()
            .filter(|name| !map.contains_key(name.as_str()))
            .collect();
        if !missing.is_empty() {
            let reason = required_reason(path, &schema.required, subject);
            for name in missing {
                path.push(Seg::Key(name.clone()));
                errors.push(RawError::new(path, format!("is required ({reason})")));
                path.pop();
            }
        }

        for (key, value) in map {
            let mut known = false;
            for (name, sub) in &schema.properties {
                if name == key {
                    known = true;
                    path.push(Seg::Key(key.clone()));
                    self.check(*sub, value, path, subject, errors);
                    path.pop();
                }
            }
            for (pattern, sub) in &schema.pattern_properties {
                if pattern.matches(key) {
                    known = true;
                    path.push(Seg::Key(key.clone()));
                    self.check(*sub, value, path, subject, errors);
                    path.pop();
                }
            }
            if known {
                continue;
            }
            match schema.additional {
                Additional::Allowed => {}
                Additional::Forbidden => {
                    let mut allowed: Vec<&str> =
                        schema.properties.iter().map(|(n, _)| n.as_str()).collect();
                    allowed.sort_unstable();
                    path.push(Seg::Key(key.clone()));
                    let where_ = if path.len() == 1 {
                        "at the top level of an entity".to_string()
                    } else {
                        format!("in {}", format_path(&path[..path.len() - 1]))
                    };
                    errors.push(RawError::new(
                        path,
                        format!(
                            "unknown field {}: the fields allowed {where_} are {}",
                            quote(key),
                            join_words(&allowed, "and")
                        ),
                    ));
                    path.pop();
                }
                Additional::Schema(sub) => {
                    path.push(Seg::Key(key.clone()));
                    self.check(sub, value, path, subject, errors);
                    path.pop();
                }
            }
        }
    }

    fn try_branches(
        &self,
        branches: &[usize],
        value: &Value,
        path: &mut Vec<Seg>,
        subject: &Subject,
    ) -> Vec<Vec<RawError>> {
        branches
            .iter()
            .map(|&branch| {
                let mut errs = Vec::new();
                self.check(branch, value, path, subject, &mut errs);
                errs
            })
            .collect()
    }

    /// Explains why no branch of an anyOf/oneOf matched: a merged type error if every branch
    /// wants another type, else the errors of the one branch of the right type.
    fn explain_no_branch(
        &self,
        branches: &[usize],
        value: &Value,
        path: &[Seg],
        results: Vec<Vec<RawError>>,
    ) -> Vec<RawError> {
        let wrong_type = |errs: &Vec<RawError>| {
            errs.iter()
                .any(|e| e.type_mismatch && e.path.as_slice() == path)
        };
        let right_type: Vec<Vec<RawError>> = results
            .iter()
            .filter(|errs| !wrong_type(errs))
            .cloned()
            .collect();
        if right_type.len() == 1 {
            return right_type.into_iter().flatten().collect();
        }
        let message = if right_type.is_empty() {
            format!(
                "expected {}, found {}",
                self.describe_branches(branches),
                describe_found(value)
            )
        } else {
            format!(
                "does not match any of the allowed forms ({})",
                self.describe_branches(branches)
            )
        };
        vec![RawError {
            path: path.to_vec(),
            message,
            type_mismatch: right_type.is_empty(),
        }]
    }

    fn describe_branches(&self, branches: &[usize]) -> String {
        let parts: Vec<String> = branches
            .iter()
            .map(|&b| self.describe_expected(self.resolve(b)))
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        join_words(&parts, "or")
    }

    /// "a string of at least 1 character", "an object or an array", "one of "a", "b"".
    fn describe_expected(&self, schema: &Node) -> String {
        if let Some(constant) = &schema.constant {
            return constant.to_string();
        }
        if let Some(allowed) = &schema.enumeration {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return format!("one of {}", list.join(", "));
        }
        match &schema.types {
            Some(types) if types.len() == 1 => match types[0] {
                JsonType::String if schema.min_length.is_some() || schema.max_length.is_some() => {
                    string_description(schema.min_length, schema.max_length)
                }
                JsonType::Array if schema.min_items.is_some() || schema.max_items.is_some() => {
                    array_description(schema.min_items, schema.max_items)
                }
                ty => ty.noun().to_string(),
            },
            Some(types) => {
                let nouns: Vec<&str> = types.iter().map(|t| t.noun()).collect();
                join_words(&nouns, "or")
            }
            None if !schema.one_of.is_empty() => self.describe_branches(&schema.one_of),
            None if !schema.any_of.is_empty() => self.describe_branches(&schema.any_of),
            None => "a value".to_string(),
        }
    }
}

/// The reason given for a missing required field.
fn required_reason(path: &[Seg], required: &[String], subject: &Subject) -> String {
    let names: Vec<&str> = required.iter().map(String::as_str).collect();
    match path.last() {
        Some(Seg::Index(_)) => format!(
            "each item of {} needs {}",
            format_path(&path[..path.len() - 1]),
            join_words(&names, "and")
        ),
        _ if path.iter().any(|s| matches!(s, Seg::Index(_))) => {
            format!("{} needs {}", format_path(path), join_words(&names, "and"))
        }
        _ => {
            let full: Vec<String> = required
                .iter()
                .map(|name| {
                    let mut p = path.to_vec();
                    p.push(Seg::Key(name.clone()));
                    format_path(&p)
                })
                .collect();
            let full: Vec<&str> = full.iter().map(String::as_str).collect();
            format!("{} {}", subject.needs, join_words(&full, "and"))
        }
    }
}

fn string_description(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("a string of {min} to {max} characters"),
        (Some(min), None) => format!(
            "a string of at least {min} {}",
            plural(min, "character", "characters")
        ),
        (None, Some(max)) => format!(
            "a string of at most {max} {}",
            plural(max, "character", "characters")
        ),
        (None, None) => "a string".to_string(),
    }
}

fn array_description(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("an array of {min} to {max} items"),
        (Some(min), None) => format!(
            "an array of at least {min} {}",
            plural(min, "item", "items")
        ),
        (None, Some(max)) => format!("an array of at most {max} {}", plural(max, "item", "items")),
        (None, None) => "an array".to_string(),
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The kind of value found, in words: "a number", "an empty string", "null (an empty value)".
fn describe_found(value: &Value) -> String {
    match value {
        Value::Null => "null (an empty value)".to_string(),
        Value::Bool(_) => "a boolean".to_string(),
        Value::Number(_) => "a number".to_string(),
        Value::String(s) if s.is_empty() => "an empty string".to_string(),
        Value::String(_) => "a string".to_string(),
        Value::Array(a) if a.is_empty() => "an empty array".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The value found, shown when it is short: `"backstage.io/v2"`, `3`, else its kind.
fn describe_found_value(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        other => describe_found(other),
    }
}

/// `"a", "b" and "c"` style lists.
fn join_words(words: &[&str], conjunction: &str) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// A JSON-quoted string.
fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Backstage placeholders (`$text: ./file`, …), substituted before validation.
fn is_placeholder(value: &Value) -> bool {
    const RESOLVERS: &[&str] = &["$text", "$json", "$yaml", "$openapi", "$asyncapi"];
    match value.as_object() {
        Some(map) if map.len() == 1 => map
            .iter()
            .all(|(key, v)| RESOLVERS.contains(&key.as_str()) && v.is_string()),
        _ => false,
    }
}

/// `metadata.annotations["backstage.io/x"]`, `spec.targets[0]`, `""` for the root.
fn format_path(path: &[Seg]) -> String {
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
struct Collector {
    seen: HashSet<String>,
    errors: Vec<(usize, FieldError)>,
}

impl Collector {
    fn extend(&mut self, raw: Vec<RawError>) {
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

    fn finish(mut self) -> Vec<FieldError> {
        self.errors.sort_by_key(|(rank, _)| *rank);
        self.errors.into_iter().map(|(_, error)| error).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Field formats enforced in code
// ---------------------------------------------------------------------------------------------

const NAME_RULE: &str = "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters";
const NAMESPACE_RULE: &str = "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";
const TAG_RULE: &str = "use lowercase letters, digits, '+' and '#', in words joined by single '-', at most 63 characters";
const KIND_RULE: &str = "use letters and digits, starting with a letter, at most 63 characters";
const API_VERSION_RULE: &str = "use an optional DNS-subdomain prefix and '/' followed by letters and digits, e.g. \"backstage.io/v1alpha1\"";

fn check_field_formats(entity: &Value, errors: &mut Vec<RawError>) {
    let key = |name: &str| Seg::Key(name.to_string());

    if let Some(api_version) = entity.get("apiVersion").and_then(Value::as_str) {
        if !is_valid_api_version(api_version) {
            errors.push(RawError::new(
                &[key("apiVersion")],
                format!(
                    "{} is not a valid apiVersion: {API_VERSION_RULE}",
                    quote(api_version)
                ),
            ));
        }
    }

    if let Some(kind) = entity.get("kind").and_then(Value::as_str) {
        if !is_valid_kind(kind) {
            errors.push(RawError::new(
                &[key("kind")],
                format!("{} is not a valid kind: {KIND_RULE}", quote(kind)),
            ));
        } else if let Some(known) = KNOWN_KINDS
            .iter()
            .find(|k| k.kind != kind && k.kind.eq_ignore_ascii_case(kind))
        {
            errors.push(RawError::new(
                &[key("kind")],
                format!(
                    "{} is not a known kind; kinds are case-sensitive, did you mean {}?",
                    quote(kind),
                    quote(known.kind)
                ),
            ));
        }
    }

    let Some(metadata) = entity.get("metadata").and_then(Value::as_object) else {
        return;
    };
    let meta = |rest: &[Seg]| {
        let mut p = vec![key("metadata")];
        p.extend_from_slice(rest);
        p
    };

    if let Some(name) = metadata.get("name").and_then(Value::as_str) {
        if !name.is_empty() && !is_valid_object_name(name) {
            errors.push(RawError::new(
                &meta(&[key("name")]),
                format!("{} is not a valid name: {NAME_RULE}", quote(name)),
            ));
        }
    }

    if let Some(namespace) = metadata.get("namespace").and_then(Value::as_str) {
        if !namespace.is_empty() && !is_valid_dns_label(namespace) {
            errors.push(RawError::new(
                &meta(&[key("namespace")]),
                format!(
                    "{} is not a valid namespace: {NAMESPACE_RULE}",
                    quote(namespace)
                ),
            ));
        }
    }

    if let Some(labels) = metadata.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            let path = meta(&[key("labels"), key(k)]);
            if let Err(why) = check_qualified_key(k) {
                errors.push(RawError::new(
                    &path,
                    format!("{} is not a valid label key: {why}", quote(k)),
                ));
            } else if let Some(v) = v.as_str() {
                if !v.is_empty() && !is_valid_object_name(v) {
                    errors.push(RawError::new(
                        &path,
                        format!(
                            "{} is not a valid label value: {NAME_RULE} (or empty)",
                            quote(v)
                        ),
                    ));
                }
            }
        }
    }

    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        for k in annotations.keys() {
            if let Err(why) = check_qualified_key(k) {
                errors.push(RawError::new(
                    &meta(&[key("annotations"), key(k)]),
                    format!("{} is not a valid annotation key: {why}", quote(k)),
                ));
            }
        }
    }

    if let Some(tags) = metadata.get("tags").and_then(Value::as_array) {
        for (i, tag) in tags.iter().enumerate() {
            if let Some(tag) = tag.as_str() {
                if !tag.is_empty() && !is_valid_tag(tag) {
                    errors.push(RawError::new(
                        &meta(&[key("tags"), Seg::Index(i)]),
                        format!("{} is not a valid tag: {TAG_RULE}", quote(tag)),
                    ));
                }
            }
        }
    }

    if let Some(links) = metadata.get("links").and_then(Value::as_array) {
        for (i, link) in links.iter().enumerate() {
            let Some(link) = link.as_object() else {
                continue;
            };
            let field = |name: &str| meta(&[key("links"), Seg::Index(i), key(name)]);
            if let Some(url) = link.get("url").and_then(Value::as_str) {
                if !url.is_empty() && !is_valid_url(url) {
                    errors.push(RawError::new(
                        &field("url"),
                        format!(
                            "{} is not a valid URL: expected an absolute URL such as \"https://example.com/docs\"",
                            quote(url)
                        ),
                    ));
                }
            }
            if let Some(title) = link.get("title").and_then(Value::as_str) {
                if !title.is_empty() && title.trim().is_empty() {
                    errors.push(RawError::new(
                        &field("title"),
                        "expected a title with some visible text, found only whitespace"
                            .to_string(),
                    ));
                }
            }
            if let Some(icon) = link.get("icon").and_then(Value::as_str) {
                if !icon.is_empty() && !is_valid_object_name(icon) {
                    errors.push(RawError::new(
                        &field("icon"),
                        format!("{} is not a valid icon name: {NAME_RULE}", quote(icon)),
                    ));
                }
            }
        }
    }
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, at most 63 characters.
fn is_valid_object_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= 63
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `^[a-z0-9]+(?:-+[a-z0-9]+)*$`, at most 63 characters.
fn is_valid_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= 63
                && alnum(first)
                && alnum(last)
                && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// One or more DNS labels joined by `.`, at most 253 characters.
fn is_valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_valid_dns_label)
}

/// `^[a-z0-9+#]+(-[a-z0-9+#]+)*$`, at most 63 characters.
fn is_valid_tag(s: &str) -> bool {
    s.len() <= 63
        && !s.is_empty()
        && s.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'+' || b == b'#')
        })
}

/// `^[a-zA-Z][a-z0-9A-Z]*$`, at most 63 characters.
fn is_valid_kind(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.iter().all(u8::is_ascii_alphanumeric)
}

/// `[dns-subdomain/]version` where the version is 1 to 63 letters and digits.
fn is_valid_api_version(s: &str) -> bool {
    let version_ok =
        |v: &str| !v.is_empty() && v.len() <= 63 && v.bytes().all(|b| b.is_ascii_alphanumeric());
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [version] => version_ok(version),
        [prefix, version] => is_valid_dns_subdomain(prefix) && version_ok(version),
        _ => false,
    }
}

/// Label and annotation keys: `[dns-subdomain/]name`. Says what is wrong when invalid.
fn check_qualified_key(key: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if !is_valid_dns_subdomain(prefix) {
                return Err(format!(
                    "the prefix {} before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)",
                    quote(prefix)
                ));
            }
            name
        }
        _ => {
            return Err("use at most one '/', between an optional prefix and the name".to_string())
        }
    };
    if is_valid_object_name(name) {
        Ok(())
    } else if parts.len() == 2 {
        Err(format!(
            "the name {} after '/' is not valid: {NAME_RULE}",
            quote(name)
        ))
    } else {
        Err(NAME_RULE.to_string())
    }
}

/// Whether the WHATWG URL parser (JavaScript's `new URL(s)`, which Backstage uses) accepts `s`
/// as an absolute URL. An approximation: a scheme, and for the schemes that need one
/// (http, https, ws, wss, ftp) a host without forbidden characters and a numeric port.
fn is_valid_url(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
        return true;
    }
    let rest = s[colon + 1..].trim_start_matches(['/', '\\']);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (host, port) = if host_port.starts_with('[') {
        match host_port.find(']') {
            Some(end) => (&host_port[..=end], host_port[end + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match host_port.rfind(':') {
            Some(c) => (&host_port[..c], Some(&host_port[c + 1..])),
            None => (host_port, None),
        }
    };
    let port_ok = match port {
        None | Some("") => true,
        Some(p) => {
            p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= 65535)
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || !host.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '<' | '>' | '^' | '|' | '[' | ']' | '"' | '`' | '{' | '}')
            }));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The errors as `(field, message)` pairs.
    fn errors(entity: &Value) -> Vec<(String, String)> {
        validate_entity(entity)
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    /// Asserts exactly one error, on `field`, and returns its message.
    fn single_error(entity: &Value, field: &str) -> String {
        let errs = errors(entity);
        assert_eq!(
            errs.len(),
            1,
            "expected one error on {field}, got {errs:#?}"
        );
        assert_eq!(errs[0].0, field, "{errs:#?}");
        errs[0].1.clone()
    }

    fn component() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": { "name": "artist-web" },
            "spec": { "type": "website", "lifecycle": "production", "owner": "team-a" }
        })
    }

    /// `component()` with `value` put at the JSON pointer `pointer` (parents must exist).
    fn component_with(pointer: &str, value: Value) -> Value {
        let mut entity = component();
        set(&mut entity, pointer, value);
        entity
    }

    fn set(entity: &mut Value, pointer: &str, value: Value) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = entity.pointer_mut(parent).unwrap();
        match parent {
            Value::Object(map) => {
                map.insert(key.to_string(), value);
            }
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            _ => panic!("{pointer}: parent is not a container"),
        }
    }

    fn remove(entity: &mut Value, pointer: &str) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        entity
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
    }

    // -- Schemas ----------------------------------------------------------------------------

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

    // -- Real examples ----------------------------------------------------------------------

    /// `examples/components/artist-lookup-component.yaml` (Component).
    fn component_artist_lookup() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "artist-lookup",
                "description": "Artist Lookup",
                "tags": ["java", "data"],
                "links": [
                    {
                        "url": "https://example.com/user",
                        "title": "Examples Users",
                        "icon": "user"
                    },
                    {
                        "url": "https://example.com/group",
                        "title": "Example Group",
                        "icon": "group"
                    },
                    {
                        "url": "https://example.com/cloud",
                        "title": "Link with Cloud Icon",
                        "icon": "cloud"
                    },
                    {
                        "url": "https://example.com/dashboard",
                        "title": "Dashboard",
                        "icon": "dashboard"
                    },
                    {
                        "url": "https://example.com/help",
                        "title": "Support",
                        "icon": "help"
                    },
                    {
                        "url": "https://example.com/web",
                        "title": "Website",
                        "icon": "web"
                    },
                    {
                        "url": "https://example.com/alert",
                        "title": "Alerts",
                        "icon": "alert"
                    }
                ]
            },
            "spec": {
                "type": "service",
                "lifecycle": "experimental",
                "owner": "team-a",
                "system": "artist-engagement-portal"
            }
        })
    }

    /// `examples/apis/wayback-search-api.yaml` (API).
    fn api_wayback_search() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {
                "name": "wayback-search",
                "description": "Search API for the wayback machine"
            },
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "team-a",
                "definition": {
                    "$text": "https://github.com/APIs-guru/openapi-directory/blob/main/APIs/archive.org/search/1.0.0/openapi.yaml"
                }
            }
        })
    }

    /// `examples/apis/streetlights-api.yaml` (API; the inline definition shortened).
    fn api_streetlights() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {
                "name": "streetlights",
                "description": "The Smartylighting Streetlights API allows you to remotely manage the city lights.",
                "tags": ["mqtt"],
                "links": [
                    {
                        "url": "https://github.com/asyncapi/asyncapi/blob/master/examples/1.2.0/streetlights.yml",
                        "title": "Source Code",
                        "icon": "code"
                    }
                ]
            },
            "spec": {
                "type": "asyncapi",
                "lifecycle": "production",
                "owner": "team-c",
                "definition": "asyncapi: 2.0.0\ninfo:\n  title: Streetlights API\n  version: '1.0.0'\n  description: |\n"
            }
        })
    }

    /// `examples/apis/backstage-mcp-server-api.yaml` (API).
    fn api_backstage_mcp_server() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {
                "name": "backstage-mcp-server",
                "description": "An MCP server that exposes tools related to the Backstage ecosystem",
                "tags": ["mcp", "ai"]
            },
            "spec": {
                "type": "mcp-server",
                "lifecycle": "experimental",
                "owner": "team-a",
                "remotes": [
                    {
                        "type": "streamable-http",
                        "url": "http://localhost:7007/api/mcp/v1"
                    }
                ]
            }
        })
    }

    /// `examples/resources/artists-db-resource.yaml` (Resource).
    fn resource_artists_db() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {
                "name": "artists-db",
                "description": "Stores artist details"
            },
            "spec": {
                "type": "database",
                "owner": "team-a",
                "system": "artist-engagement-portal"
            }
        })
    }

    /// `examples/systems/audio-playback-system.yaml` (System).
    fn system_audio_playback() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "System",
            "metadata": {
                "name": "audio-playback",
                "description": "Audio playback system"
            },
            "spec": {
                "owner": "team-c",
                "domain": "playback",
                "type": "feature-set"
            }
        })
    }

    /// `examples/domains/artists-domain.yaml` (Domain).
    fn domain_artists() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Domain",
            "metadata": {
                "name": "artists",
                "description": "Everything related to artists",
                "title": "Artists",
                "links": [
                    {
                        "url": "http://example.com/domain/artists/",
                        "title": "Domain Readme"
                    },
                    {
                        "url": "http://example.com/domains/artists/dashboard",
                        "title": "Domain Metrics Dashboard",
                        "icon": "dashboard"
                    }
                ]
            },
            "spec": {
                "owner": "team-a",
                "subdomainOf": "audio"
            }
        })
    }

    /// `examples/acme/org.yaml` (Group).
    fn group_acme_corp() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {
                "name": "acme-corp",
                "description": "The acme-corp organization",
                "links": [
                    {
                        "url": "http://www.acme.com/",
                        "title": "Website"
                    },
                    {
                        "url": "https://meta.wikimedia.org/wiki/",
                        "title": "Intranet"
                    }
                ]
            },
            "spec": {
                "type": "organization",
                "profile": {
                    "displayName": "ACME Corp",
                    "email": "info@example.com",
                    "picture": "https://avatars.dicebear.com/api/identicon/info@example.com.svg?background=%23fff&margin=25"
                },
                "children": ["infrastructure"]
            }
        })
    }

    /// `examples/acme/team-a-group.yaml` (Group).
    fn group_team_a() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {
                "name": "team-a",
                "description": "Team A"
            },
            "spec": {
                "type": "team",
                "profile": {
                    "email": "team-a@example.com",
                    "picture": "https://api.dicebear.com/7.x/identicon/svg?seed=Fluffy&backgroundType=solid,gradientLinear&backgroundColor=ffd5dc,b6e3f4"
                },
                "parent": "backstage",
                "children": []
            }
        })
    }

    /// `examples/acme/team-a-group.yaml` (User).
    fn user_breanna_davison() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {
                "name": "breanna.davison"
            },
            "spec": {
                "profile": {
                    "email": "breanna-davison@example.com",
                    "picture": "https://api.dicebear.com/7.x/avataaars/svg?seed=Luna&backgroundColor=transparent"
                },
                "memberOf": ["team-a"]
            }
        })
    }

    /// `examples/all.yaml` (Location).
    fn location_all() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {
                "name": "example-all",
                "description": "A collection of all Backstage example entities, except users, groups, and templates"
            },
            "spec": {
                "targets": [
                    "./all-ai-resources.yaml",
                    "./all-apis.yaml",
                    "./all-components.yaml",
                    "./all-domains.yaml",
                    "./all-resources.yaml",
                    "./all-systems.yaml"
                ]
            }
        })
    }

    /// `examples/ai-resources/frontend-design-skill.yaml` (AiResource).
    fn ai_resource_frontend_design_skill() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "AiResource",
            "metadata": {
                "name": "frontend-design",
                "description": "Skill for creating production-grade frontend interfaces using the internal design system"
            },
            "spec": {
                "type": "skill",
                "lifecycle": "production",
                "owner": "team-a",
                "system": "artist-engagement-portal",
                "disciplines": ["web"],
                "categories": ["framework", "design-system"],
                "agents": ["claude-code", "copilot"]
            }
        })
    }

    /// `examples/ai-resources/use-internal-apis-rule.yaml` (AiResource).
    fn ai_resource_use_internal_apis_rule() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "AiResource",
            "metadata": {
                "name": "use-internal-apis",
                "description": "Agents must use internal API clients instead of raw HTTP calls"
            },
            "spec": {
                "type": "rule",
                "lifecycle": "production",
                "owner": "team-a",
                "system": "artist-engagement-portal",
                "disciplines": ["web", "backend"],
                "category": "architecture",
                "rationale": "Ensures consistent error handling, authentication, and observability across all service calls"
            }
        })
    }

    /// The example of `Template.v1beta3.schema.json` (from `@backstage/plugin-scaffolder-common`).
    fn template_react_ssr() -> Value {
        json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {
                "name": "react-ssr-template",
                "title": "React SSR Template",
                "description": "Next.js application skeleton for creating isomorphic web applications.",
                "tags": ["recommended", "react"]
            },
            "spec": {
                "owner": "artist-relations-team",
                "type": "website",
                "lifecycle": "production",
                "parameters": {
                    "required": ["name", "description", "repoUrl"],
                    "backstage:permissions": { "tags": ["one", "two"] },
                    "properties": {
                        "name": {
                            "title": "Name",
                            "type": "string",
                            "description": "Unique name of the component"
                        },
                        "description": {
                            "title": "Description",
                            "type": "string",
                            "description": "Description of the component"
                        },
                        "repoUrl": {
                            "title": "Pick a repository",
                            "type": "string",
                            "ui:field": "RepoUrlPicker"
                        }
                    }
                },
                "steps": [
                    {
                        "id": "fetch",
                        "name": "Fetch",
                        "action": "fetch:plain",
                        "parameters": { "url": "./template" },
                        "backstage:permissions": { "tags": ["one", "two"] }
                    },
                    {
                        "id": "publish",
                        "name": "Publish to GitHub",
                        "action": "publish:github",
                        "parameters": { "repoUrl": "${{ parameters.repoUrl }}" },
                        "if": "${{ parameters.repoUrl }}"
                    }
                ],
                "output": {
                    "catalogInfoUrl": "${{ steps.publish.output.catalogInfoUrl }}"
                }
            }
        })
    }

    #[test]
    fn real_examples_of_every_kind_are_valid() {
        let examples = [
            ("Component", component_artist_lookup()),
            ("API (openapi, $text definition)", api_wayback_search()),
            ("API (asyncapi, inline definition)", api_streetlights()),
            ("API (mcp-server)", api_backstage_mcp_server()),
            ("Resource", resource_artists_db()),
            ("System", system_audio_playback()),
            ("Domain", domain_artists()),
            ("Group (root)", group_acme_corp()),
            ("Group (team)", group_team_a()),
            ("User", user_breanna_davison()),
            ("Location", location_all()),
            ("AiResource (skill)", ai_resource_frontend_design_skill()),
            ("AiResource (rule)", ai_resource_use_internal_apis_rule()),
        ];
        for (what, entity) in examples {
            assert_eq!(errors(&entity), vec![], "{what} should be valid");
        }
    }

    #[test]
    fn template_example_is_valid() {
        assert_eq!(errors(&template_react_ssr()), vec![]);
        // Parameters may also be a list of forms, and step conditions booleans.
        let mut template = template_react_ssr();
        set(
            &mut template,
            "/spec/parameters",
            json!([{ "title": "Fill in", "properties": {} }, { "title": "Choose" }]),
        );
        set(&mut template, "/spec/steps/1/if", json!(false));
        set(
            &mut template,
            "/spec/output/links",
            json!([{ "title": "Repository", "url": "https://example.com/repo" }]),
        );
        assert_eq!(errors(&template), vec![]);
    }

    #[test]
    fn unknown_kind_that_fits_the_envelope_is_valid() {
        let entity = json!({
            "apiVersion": "example.com/v1",
            "kind": "Foo",
            "metadata": { "name": "my-foo", "namespace": "team-x" },
            "spec": { "anything": ["goes", 1, true] }
        });
        assert_eq!(errors(&entity), vec![]);
        // Even without a spec.
        let entity = json!({ "apiVersion": "v1", "kind": "Foo", "metadata": { "name": "x" } });
        assert_eq!(errors(&entity), vec![]);
    }

    #[test]
    fn v1beta1_is_accepted_for_builtin_kinds() {
        let entity = component_with("/apiVersion", json!("backstage.io/v1beta1"));
        assert_eq!(errors(&entity), vec![]);
    }

    #[test]
    fn placeholders_are_accepted_unresolved() {
        for placeholder in [
            json!({ "$text": "./petstore.oas.yaml" }),
            json!({ "$openapi": "https://example.com/openapi.yaml" }),
            json!({ "$yaml": "./def.yaml" }),
        ] {
            let mut api = api_streetlights();
            set(&mut api, "/spec/definition", placeholder);
            assert_eq!(errors(&api), vec![]);
        }
        // Not a placeholder: two keys.
        let mut api = api_streetlights();
        set(
            &mut api,
            "/spec/definition",
            json!({ "$text": "./a.yaml", "extra": 1 }),
        );
        assert_eq!(
            single_error(&api, "spec.definition"),
            "expected a string of at least 1 character, found an object"
        );
    }

    // -- The envelope -----------------------------------------------------------------------

    #[test]
    fn entity_must_be_an_object() {
        assert_eq!(
            single_error(&json!(["not", "an", "entity"]), ""),
            "expected an object, found an array"
        );
        assert_eq!(
            single_error(&Value::Null, ""),
            "expected an object, found null (an empty value)"
        );
    }

    #[test]
    fn envelope_fields_are_required_once_each() {
        let errs = errors(&json!({}));
        let reason = "is required (every entity needs apiVersion, kind and metadata)";
        assert_eq!(
            errs,
            vec![
                ("apiVersion".to_string(), reason.to_string()),
                ("kind".to_string(), reason.to_string()),
                ("metadata".to_string(), reason.to_string()),
            ]
        );
        let mut entity = component();
        remove(&mut entity, "/metadata/name");
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "is required (every entity needs metadata.name)"
        );
    }

    #[test]
    fn wrong_types_say_what_was_expected_and_found() {
        let entity = component_with("/metadata/name", json!(42));
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "expected a string of at least 1 character, found a number"
        );
        let entity = component_with("/metadata/name", json!(""));
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "expected a string of at least 1 character, found an empty string"
        );
        let entity = component_with("/metadata", json!("artist-web"));
        assert_eq!(
            single_error(&entity, "metadata"),
            "expected an object, found a string"
        );
        let entity = component_with("/kind", json!(["Component"]));
        assert_eq!(
            single_error(&entity, "kind"),
            "expected a string of at least 1 character, found an array"
        );
    }

    #[test]
    fn unknown_root_field_is_named() {
        let entity = component_with("/owner", json!("team-a"));
        assert_eq!(
            single_error(&entity, "owner"),
            "unknown field \"owner\": the fields allowed at the top level of an entity are \
             apiVersion, kind, metadata, relations, spec and status"
        );
    }

    // -- Field formats ----------------------------------------------------------------------

    #[test]
    fn metadata_name_format() {
        let entity = component_with("/metadata/name", json!("My Service"));
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "\"My Service\" is not a valid name: use letters, digits, '-', '_' and '.', \
             starting and ending with a letter or digit, at most 63 characters"
        );
        for bad in ["-leading", "trailing.", "a/b", &"x".repeat(64)] {
            let entity = component_with("/metadata/name", json!(bad));
            single_error(&entity, "metadata.name");
        }
        for good in ["a", "Artist_Web.v2", &"x".repeat(63)] {
            assert_eq!(
                errors(&component_with("/metadata/name", json!(good))),
                vec![]
            );
        }
    }

    #[test]
    fn metadata_namespace_format() {
        let entity = component_with("/metadata/namespace", json!("Team_A"));
        assert_eq!(
            single_error(&entity, "metadata.namespace"),
            "\"Team_A\" is not a valid namespace: use lowercase letters, digits and '-', \
             starting and ending with a letter or digit, at most 63 characters"
        );
        let entity = component_with("/metadata/namespace", json!(""));
        assert_eq!(
            single_error(&entity, "metadata.namespace"),
            "expected a string of at least 1 character, found an empty string"
        );
        for good in ["default", "team-a", "a--b", "x1"] {
            let entity = component_with("/metadata/namespace", json!(good));
            assert_eq!(errors(&entity), vec![], "{good}");
        }
    }

    #[test]
    fn tag_format() {
        let entity = component_with("/metadata/tags", json!(["java", "Data Lake", "c++"]));
        assert_eq!(
            single_error(&entity, "metadata.tags[1]"),
            "\"Data Lake\" is not a valid tag: use lowercase letters, digits, '+' and '#', \
             in words joined by single '-', at most 63 characters"
        );
        let entity = component_with("/metadata/tags", json!(["ok", 3]));
        assert_eq!(
            single_error(&entity, "metadata.tags[1]"),
            "expected a string of at least 1 character, found a number"
        );
        let entity = component_with("/metadata/tags", json!("java"));
        assert_eq!(
            single_error(&entity, "metadata.tags"),
            "expected an array, found a string"
        );
        for bad in ["a--b", "-a", "a_b", "über"] {
            let entity = component_with("/metadata/tags", json!([bad]));
            single_error(&entity, "metadata.tags[0]");
        }
        let entity = component_with("/metadata/tags", json!(["c#", "c++", "web-3", "k8s"]));
        assert_eq!(errors(&entity), vec![]);
    }

    #[test]
    fn kind_format() {
        let entity = json!({ "apiVersion": "v1", "kind": "my-kind", "metadata": { "name": "a" } });
        assert_eq!(
            single_error(&entity, "kind"),
            "\"my-kind\" is not a valid kind: use letters and digits, starting with a letter, \
             at most 63 characters"
        );
        let entity = component_with("/kind", json!("component"));
        assert_eq!(
            single_error(&entity, "kind"),
            "\"component\" is not a known kind; kinds are case-sensitive, did you mean \
             \"Component\"?"
        );
    }

    #[test]
    fn api_version_format() {
        let entity = json!({ "apiVersion": "1.0", "kind": "Foo", "metadata": { "name": "a" } });
        assert_eq!(
            single_error(&entity, "apiVersion"),
            "\"1.0\" is not a valid apiVersion: use an optional DNS-subdomain prefix and '/' \
             followed by letters and digits, e.g. \"backstage.io/v1alpha1\""
        );
        let entity = json!({ "apiVersion": "a/b/c", "kind": "Foo", "metadata": { "name": "a" } });
        single_error(&entity, "apiVersion");
    }

    /// Sorted, since the order of object keys depends on serde_json's features.
    fn sorted_errors(entity: &Value) -> Vec<(String, String)> {
        let mut errs = errors(entity);
        errs.sort();
        errs
    }

    #[test]
    fn label_keys_and_values() {
        let entity = component_with(
            "/metadata/labels",
            json!({
                "backstage.io/custom": "ValueStuff",
                "tier": "",
                "Example.com/team": "a",
                "product_name": "Random value Generator",
                "count": 3
            }),
        );
        let expected = vec![
            (
                "metadata.labels.count".to_string(),
                "expected a string, found a number".to_string(),
            ),
            (
                "metadata.labels.product_name".to_string(),
                "\"Random value Generator\" is not a valid label value: use letters, digits, \
                 '-', '_' and '.', starting and ending with a letter or digit, at most 63 \
                 characters (or empty)"
                    .to_string(),
            ),
            (
                "metadata.labels[\"Example.com/team\"]".to_string(),
                "\"Example.com/team\" is not a valid label key: the prefix \"Example.com\" \
                 before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.', \
                 each part starting and ending with a letter or digit, at most 253 characters)"
                    .to_string(),
            ),
        ];
        assert_eq!(sorted_errors(&entity), expected);
    }

    #[test]
    fn annotation_keys_and_values() {
        let entity = component_with(
            "/metadata/annotations",
            json!({
                "backstage.io/techdocs-ref": "dir:.",
                "github.com/project-slug": "backstage/backstage",
                "backstage.io/source location": "url:https://example.com",
            }),
        );
        assert_eq!(
            single_error(
                &entity,
                "metadata.annotations[\"backstage.io/source location\"]"
            ),
            "\"backstage.io/source location\" is not a valid annotation key: the name \
             \"source location\" after '/' is not valid: use letters, digits, '-', '_' and '.', \
             starting and ending with a letter or digit, at most 63 characters"
        );
        let entity = component_with("/metadata/annotations", json!({ "a/b/c": "x" }));
        assert_eq!(
            single_error(&entity, "metadata.annotations[\"a/b/c\"]"),
            "\"a/b/c\" is not a valid annotation key: use at most one '/', between an optional \
             prefix and the name"
        );
        let entity = component_with(
            "/metadata/annotations",
            json!({ "backstage.io/orphan": true }),
        );
        assert_eq!(
            single_error(&entity, "metadata.annotations[\"backstage.io/orphan\"]"),
            "expected a string, found a boolean"
        );
        let long_prefix = format!("{}.com/x", "a".repeat(250));
        let entity = component_with("/metadata/annotations", json!({ long_prefix.clone(): "" }));
        single_error(
            &entity,
            &format!("metadata.annotations[{}]", quote(&long_prefix)),
        );
    }

    #[test]
    fn links() {
        let entity = component_with(
            "/metadata/links",
            json!([
                { "url": "https://example.com/dashboard", "title": "Dashboard", "icon": "dashboard" },
                { "url": "example.com/docs" },
                { "title": "No URL" },
                { "url": "https://example.com", "title": "   " },
                { "url": "https://example.com", "icon": "my icon" }
            ]),
        );
        assert_eq!(
            errors(&entity),
            vec![
                (
                    "metadata.links[2].url".to_string(),
                    "is required (each item of metadata.links needs url)".to_string()
                ),
                (
                    "metadata.links[1].url".to_string(),
                    "\"example.com/docs\" is not a valid URL: expected an absolute URL such as \
                     \"https://example.com/docs\""
                        .to_string()
                ),
                (
                    "metadata.links[3].title".to_string(),
                    "expected a title with some visible text, found only whitespace".to_string()
                ),
                (
                    "metadata.links[4].icon".to_string(),
                    "\"my icon\" is not a valid icon name: use letters, digits, '-', '_' and '.', \
                     starting and ending with a letter or digit, at most 63 characters"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn url_check_approximates_the_whatwg_parser() {
        for good in [
            "https://example.com",
            "http://www.acme.com/",
            "https://user:pw@example.com:8443/a b?q#f",
            "http://[::1]:7007/api",
            "mailto:team@example.com",
            "file:///tmp/x",
            "slack://channel?id=1",
        ] {
            assert!(is_valid_url(good), "{good}");
        }
        for bad in [
            "",
            "example.com",
            "/relative/path",
            "https://",
            "https://exa mple.com",
            "http://example.com:port",
            "1http://x",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }

    // -- Kinds --------------------------------------------------------------------------------

    #[test]
    fn known_kind_with_wrong_api_version() {
        let entity = component_with("/apiVersion", json!("backstage.io/v2"));
        assert_eq!(
            single_error(&entity, "apiVersion"),
            "must be one of \"backstage.io/v1alpha1\", \"backstage.io/v1beta1\" (found \
             \"backstage.io/v2\")"
        );
        let mut skill = ai_resource_frontend_design_skill();
        set(&mut skill, "/apiVersion", json!("backstage.io/v1beta1"));
        assert_eq!(
            single_error(&skill, "apiVersion"),
            "must be one of \"backstage.io/v1alpha1\" (found \"backstage.io/v1beta1\")"
        );
        let mut template = template_react_ssr();
        set(
            &mut template,
            "/apiVersion",
            json!("scaffolder.backstage.io/v1beta2"),
        );
        assert_eq!(
            single_error(&template, "apiVersion"),
            "must be one of \"scaffolder.backstage.io/v1beta3\" (found \
             \"scaffolder.backstage.io/v1beta2\")"
        );
        // The spec is still checked.
        let mut entity = component_with("/apiVersion", json!("backstage.io/v2"));
        remove(&mut entity, "/spec/owner");
        let fields: Vec<String> = errors(&entity).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["apiVersion", "spec.owner"]);
    }

    #[test]
    fn component_required_spec_fields() {
        let mut entity = component();
        remove(&mut entity, "/spec/owner");
        assert_eq!(
            single_error(&entity, "spec.owner"),
            "is required (Component entities need spec.type, spec.lifecycle and spec.owner)"
        );
        let entity = component_with("/spec", json!({}));
        let fields: Vec<String> = errors(&entity).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["spec.type", "spec.lifecycle", "spec.owner"]);
        let mut entity = component();
        remove(&mut entity, "/spec");
        assert_eq!(
            single_error(&entity, "spec"),
            "is required (Component entities need spec)"
        );
    }

    #[test]
    fn spec_field_types() {
        let entity = component_with("/spec/owner", json!(42));
        assert_eq!(
            single_error(&entity, "spec.owner"),
            "expected a string of at least 1 character, found a number"
        );
        let entity = component_with("/spec/owner", Value::Null);
        assert_eq!(
            single_error(&entity, "spec.owner"),
            "expected a string of at least 1 character, found null (an empty value)"
        );
        // Wrong in both the Entity schema and the Component schema: reported once.
        let entity = component_with("/spec", json!("service"));
        assert_eq!(
            single_error(&entity, "spec"),
            "expected an object, found a string"
        );
        let entity = component_with("/spec/dependsOn", json!(["resource:db", ""]));
        assert_eq!(
            single_error(&entity, "spec.dependsOn[1]"),
            "expected a string of at least 1 character, found an empty string"
        );
    }

    #[test]
    fn location_targets_and_presence() {
        let mut location = location_all();
        set(&mut location, "/spec/targets/0", json!(""));
        assert_eq!(
            single_error(&location, "spec.targets[0]"),
            "expected a string of at least 1 character, found an empty string"
        );
        let mut location = location_all();
        set(&mut location, "/spec/presence", json!("maybe"));
        assert_eq!(
            single_error(&location, "spec.presence"),
            "must be one of \"required\", \"optional\" (found \"maybe\")"
        );
    }

    #[test]
    fn group_and_user_required_lists() {
        let mut group = group_team_a();
        remove(&mut group, "/spec/children");
        assert_eq!(
            single_error(&group, "spec.children"),
            "is required (Group entities need spec.type and spec.children)"
        );
        let mut user = user_breanna_davison();
        set(&mut user, "/spec/memberOf", json!("team-a"));
        assert_eq!(
            single_error(&user, "spec.memberOf"),
            "expected an array, found a string"
        );
    }

    #[test]
    fn api_needs_a_definition_unless_it_is_an_mcp_server() {
        let mut api = api_streetlights();
        remove(&mut api, "/spec/definition");
        assert_eq!(
            single_error(&api, "spec.definition"),
            "is required (API entities need spec.type, spec.lifecycle, spec.owner and \
             spec.definition)"
        );
        let mut mcp = api_backstage_mcp_server();
        set(&mut mcp, "/spec/remotes", json!([]));
        assert_eq!(
            single_error(&mcp, "spec.remotes"),
            "expected an array of at least 1 item, found an empty array"
        );
        let mut mcp = api_backstage_mcp_server();
        set(&mut mcp, "/spec/remotes", json!([{ "type": "stdio" }]));
        assert_eq!(
            single_error(&mcp, "spec.remotes[0].url"),
            "is required (each item of spec.remotes needs type and url)"
        );
        let mut mcp = api_backstage_mcp_server();
        remove(&mut mcp, "/spec/remotes");
        assert_eq!(
            single_error(&mcp, "spec.remotes"),
            "is required (API entities of type \"mcp-server\" need spec.type, spec.lifecycle, \
             spec.owner and spec.remotes)"
        );
    }

    #[test]
    fn ai_resource_types() {
        let mut rule = ai_resource_use_internal_apis_rule();
        remove(&mut rule, "/spec/rationale");
        assert_eq!(
            single_error(&rule, "spec.rationale"),
            "is required (AiResource entities of type \"rule\" need spec.type, spec.lifecycle, \
             spec.owner, spec.category and spec.rationale)"
        );
        let mut skill = ai_resource_frontend_design_skill();
        set(&mut skill, "/spec/compatibility", json!("x".repeat(501)));
        assert_eq!(
            single_error(&skill, "spec.compatibility"),
            "expected a string of 1 to 500 characters, found 501 characters"
        );
        // An unlisted type only needs the generic AiResource fields.
        let mut other = ai_resource_frontend_design_skill();
        set(&mut other, "/spec/type", json!("prompt"));
        assert_eq!(errors(&other), vec![]);
        let mut plugin = ai_resource_frontend_design_skill();
        set(&mut plugin, "/spec/type", json!("plugin"));
        assert_eq!(
            single_error(&plugin, "spec.skills"),
            "is required (AiResource entities of type \"plugin\" need spec.type, \
             spec.lifecycle, spec.owner and spec.skills)"
        );
    }

    #[test]
    fn template_errors() {
        let mut template = template_react_ssr();
        set(&mut template, "/spec/parameters", json!("name"));
        assert_eq!(
            single_error(&template, "spec.parameters"),
            "expected an object or an array, found a string"
        );
        let mut template = template_react_ssr();
        set(
            &mut template,
            "/spec/parameters",
            json!([{ "backstage:permissions": [] }]),
        );
        assert_eq!(
            single_error(&template, "spec.parameters[0].backstage:permissions"),
            "expected an object, found an empty array"
        );
        let mut template = template_react_ssr();
        remove(&mut template, "/spec/steps/0/action");
        set(&mut template, "/spec/steps/1/if", json!(1));
        assert_eq!(
            errors(&template),
            vec![
                (
                    "spec.steps[0].action".to_string(),
                    "is required (each item of spec.steps needs action)".to_string()
                ),
                (
                    "spec.steps[1].if".to_string(),
                    "expected a string or a boolean, found a number".to_string()
                ),
            ]
        );
        let mut template = template_react_ssr();
        set(&mut template, "/spec/output/repoUrl", json!(7));
        assert_eq!(
            single_error(&template, "spec.output.repoUrl"),
            "expected a string, found a number"
        );
        let mut template = template_react_ssr();
        remove(&mut template, "/spec/steps");
        assert_eq!(
            single_error(&template, "spec.steps"),
            "is required (Template entities need spec.type and spec.steps)"
        );
    }

    #[test]
    fn relations_and_status() {
        let entity = component_with(
            "/relations",
            json!([
                { "type": "ownedBy", "targetRef": "group:default/team-a" },
                { "type": "owned-by", "targetRef": "group:default/team-a" },
                { "type": "partOf" },
                { "type": "partOf", "targetRef": "system:default/x", "note": "hi" },
                { "type": "partOf", "targetRef": "system:default/x", "target": { "kind": "System" } }
            ]),
        );
        assert_eq!(
            sorted_errors(&entity),
            vec![
                (
                    "relations[1].type".to_string(),
                    "expected a single word of letters, digits and '_', found \"owned-by\""
                        .to_string()
                ),
                (
                    "relations[2].targetRef".to_string(),
                    "is required (each item of relations needs type and targetRef)".to_string()
                ),
                (
                    "relations[3].note".to_string(),
                    "unknown field \"note\": the fields allowed in relations[3] are target, \
                     targetRef and type"
                        .to_string()
                ),
                (
                    "relations[4].target.name".to_string(),
                    "is required (relations[4].target needs kind, namespace and name)".to_string()
                ),
                (
                    "relations[4].target.namespace".to_string(),
                    "is required (relations[4].target needs kind, namespace and name)".to_string()
                ),
            ]
        );
        let entity = component_with(
            "/status",
            json!({ "items": [{ "type": "x", "level": "fatal", "message": "m" }] }),
        );
        assert_eq!(
            single_error(&entity, "status.items[0].level"),
            "must be one of \"info\", \"warning\", \"error\" (found \"fatal\")"
        );
    }

    #[test]
    fn one_error_per_field() {
        // Missing metadata entirely: required by the envelope and by the Entity schema.
        let mut entity = component();
        remove(&mut entity, "/metadata");
        assert_eq!(
            single_error(&entity, "metadata"),
            "is required (every entity needs apiVersion, kind and metadata)"
        );
        // Wrong apiVersion type: the envelope's type error, not also the kind's enum error.
        let entity = component_with("/apiVersion", json!(1));
        assert_eq!(
            single_error(&entity, "apiVersion"),
            "expected a string of at least 1 character, found a number"
        );
    }

    #[test]
    fn errors_are_ordered_by_top_level_field() {
        let mut entity = component_with("/metadata/name", json!("My Service"));
        remove(&mut entity, "/spec/owner");
        set(&mut entity, "/kind", json!("Component"));
        set(&mut entity, "/metadata/tags", json!(["Java"]));
        set(&mut entity, "/extra", json!(true));
        let fields: Vec<String> = errors(&entity).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec!["metadata.name", "metadata.tags[0]", "spec.owner", "extra"]
        );
    }

    // -- Helpers ------------------------------------------------------------------------------

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

    #[test]
    fn hand_written_patterns() {
        assert!(Pattern::Word.matches("ownedBy_2"));
        assert!(!Pattern::Word.matches("owned-by"));
        assert!(!Pattern::Word.matches(""));
        assert!(!Pattern::Word.matches("é"));
        assert!(Pattern::Line.matches("any key: at all"));
        assert!(!Pattern::Line.matches(""));
        assert!(!Pattern::Line.matches("two\nlines"));
        assert!(is_valid_api_version("backstage.io/v1alpha1"));
        assert!(is_valid_api_version("v1"));
        assert!(!is_valid_api_version("backstage.io/"));
        assert!(!is_valid_api_version("Backstage.io/v1"));
        assert!(is_valid_kind("AiResource"));
        assert!(!is_valid_kind("1Kind"));
        assert!(!is_valid_kind(&"K".repeat(64)));
    }

    #[test]
    fn display() {
        let error = FieldError {
            field: "spec.owner".to_string(),
            message: "is required".to_string(),
        };
        assert_eq!(error.to_string(), "spec.owner: is required");
        let root = FieldError {
            field: String::new(),
            message: "expected an object, found an array".to_string(),
        };
        assert_eq!(root.to_string(), "expected an object, found an array");
    }
}
