//! Reading descriptor files: multi-document YAML into JSON values, with the document index and
//! line of each document so that every error can say where it is.

use serde_json::{Map, Number, Value};

/// One YAML document of a descriptor file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Zero-based index among the non-empty documents of the file.
    pub index: usize,
    /// One-based line where the document's content starts.
    pub line: usize,
    pub value: Value,
}

/// A document that is not valid YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("document {index} (line {line}): invalid YAML: {message}")]
pub struct YamlError {
    pub index: usize,
    /// One-based line of the error in the file (not in the document).
    pub line: usize,
    pub message: String,
}

struct RawDoc<'a> {
    first_line: usize,
    text: std::borrow::Cow<'a, str>,
}

/// Splits a YAML stream at document markers (`---` at the start of a line, `...` ends one).
fn split_documents(src: &str) -> Vec<RawDoc<'_>> {
    let mut docs = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut offset = 0;
    let mut lead: Option<String> = None; // content after `--- ` on the marker line
    for (i, line) in src.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        let is_start =
            trimmed == "---" || trimmed.starts_with("--- ") || trimmed.starts_with("---\t");
        let is_end = trimmed == "..." || trimmed.starts_with("... ");
        if is_start || is_end {
            push_doc(&mut docs, src, start_byte, offset, start_line, lead.take());
            if is_start {
                let rest = trimmed[3..].trim_start();
                if !rest.is_empty() && !rest.starts_with('#') {
                    lead = Some(rest.to_string());
                }
            }
            start_byte = offset + line.len();
            start_line = i + 2;
            if lead.is_some() {
                start_line = i + 1;
            }
        }
        offset += line.len();
    }
    push_doc(
        &mut docs,
        src,
        start_byte,
        src.len(),
        start_line,
        lead.take(),
    );
    docs
}

fn push_doc<'a>(
    docs: &mut Vec<RawDoc<'a>>,
    src: &'a str,
    from: usize,
    to: usize,
    line: usize,
    lead: Option<String>,
) {
    let body = &src[from.min(to)..to];
    let text = match lead {
        Some(l) => std::borrow::Cow::Owned(format!("{l}\n{body}")),
        None => std::borrow::Cow::Borrowed(body),
    };
    let blank = |l: &str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t.starts_with('%')
    };
    if !text.lines().all(blank) {
        docs.push(RawDoc {
            first_line: line,
            text,
        });
    }
}

/// Number of blank or comment lines before a document's content.
fn leading_blank_lines(text: &str) -> usize {
    text.lines()
        .take_while(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#')
        })
        .count()
}

/// Parses every document of a YAML stream. Each document either parses or yields its own
/// error; one broken document does not hide the others.
pub fn parse_documents(src: &str) -> Vec<Result<Document, YamlError>> {
    split_documents(src)
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let content_line = raw.first_line + leading_blank_lines(&raw.text);
            parse_yaml_value(&raw.text)
                .map(|value| Document {
                    index,
                    line: content_line,
                    value,
                })
                .map_err(|(line, message)| YamlError {
                    index,
                    line: raw.first_line + line.saturating_sub(1),
                    message,
                })
        })
        .collect()
}

/// Parses one YAML document into JSON. Errors carry the one-based line within `src`.
pub fn parse_yaml_value(src: &str) -> Result<Value, (usize, String)> {
    let mut yaml: yaml_serde::Value = yaml_serde::from_str(src).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(1);
        (line, strip_location(&e.to_string()))
    })?;
    yaml.apply_merge().map_err(|e| (1, e.to_string()))?;
    keep_field_order(&mut yaml);
    Ok(yaml_to_json(yaml))
}

/// How deep a template's parameter schemas are searched for objects to order.
const MAX_SCHEMA_DEPTH: usize = 32;

/// Backstage's wizard shows a template's fields in the order they are written, but JSON objects
/// here keep their keys sorted. So each object schema in a Template's `spec.parameters` that
/// does not say `ui:order` gets the order as written: its own properties, then those its
/// conditions (`dependencies`, `allOf`/`anyOf`/`oneOf`, `if`/`then`/`else`) add, then `*` (the
/// rest). React-jsonschema-form reads the same key the same way (names it does not show are
/// skipped), so the template still renders the same in Backstage.
fn keep_field_order(doc: &mut yaml_serde::Value) {
    if doc.get("kind").and_then(yaml_serde::Value::as_str) != Some("Template") {
        return;
    }
    let Some(parameters) = doc
        .get_mut("spec")
        .and_then(|spec| spec.get_mut("parameters"))
    else {
        return;
    };
    match parameters {
        yaml_serde::Value::Sequence(pages) => pages.iter_mut().for_each(|p| order_schema(p, 0)),
        page => order_schema(page, 0),
    }
}

/// Adds `ui:order` to an object schema and to the object schemas inside it.
fn order_schema(schema: &mut yaml_serde::Value, depth: usize) {
    use yaml_serde::Value as Y;
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    let Y::Mapping(map) = schema else {
        return;
    };
    let mut names = Vec::new();
    written_names(map, &mut names, 0);
    if names.len() > 1 && !map.contains_key("ui:order") {
        let mut order: Vec<Y> = names.into_iter().map(Y::String).collect();
        order.push(Y::String("*".into()));
        map.insert(Y::String("ui:order".into()), Y::Sequence(order));
    }
    for (key, value) in map.iter_mut() {
        match (key.as_str(), value) {
            (Some("properties"), Y::Mapping(properties)) => {
                for (_, property) in properties.iter_mut() {
                    order_schema(property, depth + 1);
                    if let Some(items) = property.get_mut("items") {
                        order_schema(items, depth + 1);
                    }
                }
            }
            (Some("dependencies"), Y::Mapping(branches)) => {
                for (_, branch) in branches.iter_mut() {
                    in_branches(branch, depth + 1);
                }
            }
            (Some("allOf" | "anyOf" | "oneOf" | "then" | "else"), branch) => {
                in_branches(branch, depth + 1)
            }
            _ => {}
        }
    }
}

/// The object schemas of a condition's branches' properties (the branch itself is ordered by
/// the schema it belongs to).
fn in_branches(branch: &mut yaml_serde::Value, depth: usize) {
    use yaml_serde::Value as Y;
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    match branch {
        Y::Sequence(list) => list.iter_mut().for_each(|b| in_branches(b, depth + 1)),
        Y::Mapping(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    (Some("properties"), Y::Mapping(properties)) => {
                        for (_, property) in properties.iter_mut() {
                            order_schema(property, depth + 1);
                        }
                    }
                    (Some("oneOf" | "anyOf" | "allOf" | "then" | "else"), inner) => {
                        in_branches(inner, depth + 1)
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The property names a schema and its conditions' branches declare, in written order.
fn written_names(map: &yaml_serde::Mapping, names: &mut Vec<String>, depth: usize) {
    use yaml_serde::Value as Y;
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    if let Some(Y::Mapping(properties)) = map.get("properties") {
        for name in properties.keys().filter_map(Y::as_str) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    let mut branch = |value: &Y| match value {
        Y::Mapping(m) => written_names(m, names, depth + 1),
        Y::Sequence(list) => {
            for m in list.iter().filter_map(Y::as_mapping) {
                written_names(m, names, depth + 1);
            }
        }
        _ => {}
    };
    if let Some(Y::Mapping(dependencies)) = map.get("dependencies") {
        for (_, value) in dependencies {
            branch(value);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "then", "else"] {
        if let Some(value) = map.get(key) {
            branch(value);
        }
    }
}

/// yaml errors end with "at line X column Y"; we report lines ourselves.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn yaml_to_json(v: yaml_serde::Value) -> Value {
    use yaml_serde::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(scalar_key(k), yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

/// Mapping keys become strings, as they would in JSON (`200:` in an OpenAPI response map).
fn scalar_key(k: yaml_serde::Value) -> String {
    use yaml_serde::Value as Y;
    match k {
        Y::String(s) => s,
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        Y::Null => "null".to_string(),
        other => yaml_to_json(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_multi_document_files_with_lines() {
        let src = "# comment\napiVersion: v1\nkind: A\n---\n\nkind: B\n---\n# only a comment\n---\nkind: C\n";
        let docs: Vec<_> = parse_documents(src)
            .into_iter()
            .map(|d| d.unwrap())
            .collect();
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].index, docs[0].line), (0, 2));
        assert_eq!(docs[0].value, json!({"apiVersion": "v1", "kind": "A"}));
        assert_eq!((docs[1].index, docs[1].line), (1, 6));
        assert_eq!((docs[2].index, docs[2].line), (2, 10));
        assert_eq!(docs[2].value, json!({"kind": "C"}));
    }

    #[test]
    fn leading_marker_and_end_marker() {
        let src = "---\na: 1\n...\n---\nb: 2\n";
        let docs: Vec<_> = parse_documents(src)
            .into_iter()
            .map(|d| d.unwrap())
            .collect();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 2);
        assert_eq!(docs[1].line, 5);
    }

    #[test]
    fn a_broken_document_is_reported_with_its_file_line_and_others_survive() {
        let src = "a: 1\n---\nb: [1, 2\nc: 3\n---\nd: 4\n";
        let docs = parse_documents(src);
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok());
        let err = docs[1].as_ref().unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.line >= 3 && err.line <= 5, "line {}", err.line);
        assert!(docs[2].is_ok());
    }

    #[test]
    fn non_string_keys_and_merge_keys() {
        let v = parse_yaml_value(
            "responses:\n  200: ok\n  true: yes\nbase: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
        )
        .unwrap();
        assert_eq!(v["responses"]["200"], json!("ok"));
        assert_eq!(v["derived"], json!({"x": 1, "y": 2}));
    }

    #[test]
    fn a_templates_fields_keep_the_order_they_are_written_in() {
        let src = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: t}
spec:
  parameters:
    - properties:
        zone: {type: string}
        name: {type: string}
        db: {type: boolean}
        address:
          type: object
          properties:
            street: {type: string}
            city: {type: string}
      dependencies:
        db:
          oneOf:
            - properties:
                db: {const: true}
                engine: {type: string}
                backup: {type: boolean}
    - ui:order: [b, a]
      properties:
        b: {type: string}
        a: {type: string}
    - properties:
        only: {type: string}
"#;
        let t = parse_yaml_value(src).unwrap();
        let pages = &t["spec"]["parameters"];
        assert_eq!(
            pages[0]["ui:order"],
            json!(["zone", "name", "db", "address", "engine", "backup", "*"])
        );
        assert_eq!(
            pages[0]["properties"]["address"]["ui:order"],
            json!(["street", "city", "*"])
        );
        assert_eq!(
            pages[1]["ui:order"],
            json!(["b", "a"]),
            "written ones are kept"
        );
        assert!(
            pages[2].get("ui:order").is_none(),
            "one field needs no order"
        );
        // Other kinds are read as written.
        let c = parse_yaml_value("kind: Component\nspec: {parameters: {properties: {b: 1, a: 2}}}")
            .unwrap();
        assert!(c["spec"]["parameters"].get("ui:order").is_none());
    }
}
