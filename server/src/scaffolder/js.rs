//! JavaScript value semantics for the template engine: how Backstage's (JavaScript) engine
//! prints a value (`String(value)`), `JSON.stringify` (the `dump` filter), and context values
//! whose arrays and objects are truthy even when empty, as they are in JavaScript.

use std::fmt::Write as _;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectExt, ObjectRepr, Value, ValueKind};

/// A JSON array in the context: truthy even when empty, printed as `a,b`.
#[derive(Debug)]
pub(crate) struct JsArray(pub Vec<Value>);

/// A JSON object in the context: truthy even when empty, keys in their order, printed as
/// `[object Object]`.
#[derive(Debug)]
pub(crate) struct JsObject(pub Vec<(Arc<str>, Value)>);

impl Object for JsArray {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = usize::try_from(key.clone()).ok()?;
        self.0.get(index).cloned()
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_js_string(&Value::from_dyn_object(self.clone())))
    }
}

impl Object for JsObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        self.0
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v.clone())
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_enumerator(|this| {
            Box::new(this.0.iter().map(|(k, _)| Value::from(k.clone())))
                as Box<dyn Iterator<Item = Value> + Send + Sync>
        })
    }
    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[object Object]")
    }
}

/// A JSON value as the engine sees it (arrays and objects with JavaScript's truthiness).
pub(crate) fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from_object(JsArray(items.iter().map(from_json).collect()))
        }
        serde_json::Value::Object(map) => Value::from_object(JsObject(
            map.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), from_json(v)))
                .collect(),
        )),
    }
}

/// An object made by a filter (its keys in the given order; `None` values left out, as
/// JavaScript leaves out `undefined` properties when serialising).
pub(crate) fn object(entries: Vec<(&str, Option<Value>)>) -> Value {
    Value::from_object(JsObject(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (Arc::from(k), v)))
            .collect(),
    ))
}

/// A number as JavaScript prints it (`1.5`, `8080`, `1e+21`).
pub(crate) fn js_number(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return "0".into();
    }
    let abs = f.abs();
    if (1e-7..1e21).contains(&abs) {
        // Rust's shortest round-trip digits; it never uses an exponent for `{}`.
        return format!("{f}");
    }
    // Exponent form: JavaScript writes `1e+21`, `1.5e-7`.
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

fn number_to_string(value: &Value) -> Option<String> {
    if value.kind() != ValueKind::Number {
        return None;
    }
    if value.is_integer() {
        return Some(value.to_string());
    }
    f64::try_from(value.clone()).ok().map(js_number)
}

/// `String(value)` as the engine prints it: undefined and null empty, arrays `a,b`, objects
/// `[object Object]`.
pub(crate) fn to_js_string(value: &Value) -> String {
    let mut out = String::new();
    write_js_string(&mut out, value);
    out
}

fn write_js_string(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => {}
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => out.push_str(&number_to_string(value).unwrap_or_default()),
        ValueKind::String => out.push_str(value.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            if let Ok(items) = value.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_js_string(out, &item);
                }
            }
        }
        ValueKind::Map => out.push_str("[object Object]"),
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

/// JavaScript's truthiness: `undefined`, `null`, `false`, `0`, `NaN` and `""` are false.
pub(crate) fn is_truthy(value: &Value) -> bool {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => false,
        ValueKind::Bool | ValueKind::Number | ValueKind::String => value.is_true(),
        _ => true,
    }
}

/// `JSON.stringify(value, null, indent)`; `None` where JavaScript gives `undefined`.
pub(crate) fn json_stringify(value: &Value, indent: &str) -> Option<String> {
    let mut out = String::new();
    write_json(&mut out, value, indent, 0).then_some(out)
}

fn write_json_string(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON.stringify does for valid Unicode strings.
    out.push_str(&serde_json::Value::from(s).to_string());
}

fn newline(out: &mut String, indent: &str, depth: usize) {
    if !indent.is_empty() {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    }
}

/// Writes one value; false when the value is `undefined` (nothing written).
fn write_json(out: &mut String, value: &Value, indent: &str, depth: usize) -> bool {
    match value.kind() {
        ValueKind::Undefined | ValueKind::Invalid => return false,
        ValueKind::Plain => {
            // Callables and other opaque objects are not data.
            return false;
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => match number_to_string(value) {
            Some(n) if n != "NaN" && !n.contains("Infinity") => out.push_str(&n),
            _ => out.push_str("null"),
        },
        ValueKind::String | ValueKind::Bytes => {
            write_json_string(out, &value.to_string());
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                if !write_json(out, item, indent, depth + 1) {
                    out.push_str("null");
                }
            }
            if !items.is_empty() {
                newline(out, indent, depth);
            }
            out.push(']');
        }
        ValueKind::Map => {
            let keys: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            out.push('{');
            let mut first = true;
            for key in keys {
                let item = value.get_item(&key).unwrap_or_default();
                let mut entry = String::new();
                if !write_json(&mut entry, &item, indent, depth + 1) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                newline(out, indent, depth + 1);
                write_json_string(out, &to_js_string(&key));
                out.push(':');
                if !indent.is_empty() {
                    out.push(' ');
                }
                out.push_str(&entry);
            }
            if !first {
                newline(out, indent, depth);
            }
            out.push('}');
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_number(1.22), "1.22");
        assert_eq!(js_number(8080.0), "8080");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(-0.5), "-0.5");
    }

    #[test]
    fn stringify_leaves_out_undefined_and_indents() {
        let v = object(vec![
            ("a", Some(Value::from(1))),
            ("b", None),
            (
                "c",
                Some(Value::from(vec![Value::UNDEFINED, Value::from("x")])),
            ),
        ]);
        assert_eq!(
            json_stringify(&v, "").as_deref(),
            Some(r#"{"a":1,"c":[null,"x"]}"#)
        );
        assert_eq!(
            json_stringify(&v, "  ").as_deref(),
            Some("{\n  \"a\": 1,\n  \"c\": [\n    null,\n    \"x\"\n  ]\n}")
        );
        assert_eq!(json_stringify(&Value::UNDEFINED, ""), None);
    }
}
