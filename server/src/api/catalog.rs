//! Handlers of `/api/catalog/*`. Each one reads what its caller sees ([`Visible`], from the
//! catalog's facade) or writes through the facade; answers are written straight from the
//! snapshot's JSON, never built as `serde_json::Value`s.

use super::ApiError;
use crate::catalog::facade::Visible;
use crate::catalog::query::{project, Filter, OrderField, Query};
use crate::catalog::reference::{canonical_kind, RefKey};
use crate::catalog::snapshot::LocationInfo;
use crate::catalog::validation::validate_entity as validate;
use crate::catalog::NewLocation;
use crate::http::caller::RequestCaller;
use crate::AppState;
use app::model::EntityRef;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, ApiError>;

const MAX_LIMIT: usize = 10_000;
/// Bound on a predicate filter once expanded into OR-of-ANDs.
const MAX_ALTERNATIVES: usize = 256;

/// Query parameters, with repeated keys kept (`filter=a&filter=b`).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Result<Self> {
        let raw = raw.unwrap_or_default();
        serde_urlencoded::from_str::<Vec<(String, String)>>(&raw)
            .map(Params)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A parameter that takes one value: given twice, it is refused (which one was meant?).
    fn one(&self, key: &str) -> Result<Option<&str>> {
        let mut values = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_request(format!(
                "{key} takes one value; it was given more than once"
            )));
        }
        Ok(first.map(String::as_str))
    }

    /// `true` or `false`; absent: false.
    fn flag(&self, key: &str) -> Result<bool> {
        match self.one(key)? {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "{key} must be true or false, got \"{v}\""
            ))),
        }
    }

    /// `fields=a,b&fields=c` → [a, b, c].
    fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn number(&self, key: &str) -> Result<Option<usize>> {
        self.one(key)?
            .map(|v| {
                count(v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{key} must be a non-negative integer, got \"{v}\""
                    ))
                })
            })
            .transpose()
    }
}

/// A non-negative integer written as JSON writes numbers: `20`, but also `2.0` or `1e+19`
/// (integers, as the schema's `integer` says). Past `usize::MAX` it saturates: a limit is
/// capped and an offset that large matches nothing anyway.
fn count(v: &str) -> Option<usize> {
    if let Ok(n) = v.parse::<usize>() {
        return Some(n);
    }
    let looks_numeric = v
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    let f = v.parse::<f64>().ok().filter(|_| looks_numeric)?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0).then_some(f as usize)
}

/// [`count`] for JSON bodies: any JSON number that is a non-negative integer.
fn de_count<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<usize>, D::Error> {
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    count(&n.to_string())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("expected a non-negative integer, got {n}")))
}

/// An optional property that, when present, holds a value: the document has no nullable
/// property (absent is how a body says "none"), so `null` is refused like any wrong type.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// An entity reference as the API takes it: `kind:[namespace/]name`, each part non-empty and
/// without `:` or `/`, nothing trimmed (exactly the document's `EntityRef` pattern). The
/// namespace defaults to `default`; the kind is required.
fn api_ref(r: &str, what: &str) -> Result<EntityRef> {
    let malformed = || {
        ApiError::bad_request(format!(
            "{what}: expected kind:[namespace/]name, got \"{r}\""
        ))
    };
    let (kind, rest) = r.split_once(':').ok_or_else(malformed)?;
    let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
    let part = |p: &str| !p.is_empty() && !p.contains([':', '/']);
    if !(part(kind) && part(namespace) && part(name)) {
        return Err(malformed());
    }
    Ok(EntityRef::new(canonical_kind(kind), namespace, name))
}

/// A JSON body that must be an object: serde would read a struct from an array too (`[]`
/// as "no filter, no limit"), which no client means.
pub struct JsonObject<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S>
    for JsonObject<T>
{
    type Rejection = ApiError;

    async fn from_request(
        req: axum::extract::Request,
        state: &S,
    ) -> std::result::Result<Self, ApiError> {
        let Json(value) = Json::<Value>::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        if !value.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        serde_json::from_value(value)
            .map(JsonObject)
            .map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
    }
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut res = Response::new(body.into());
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res
}

/// Writes entities as a JSON array, copying pre-rendered JSON where no projection is asked.
fn entities_json(v: &Visible, idx: impl Iterator<Item = usize>, fields: &[String]) -> String {
    let mut out = String::from("[");
    for (n, i) in idx.enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_entity(&mut out, v, i, fields);
    }
    out.push(']');
    out
}

fn push_entity(out: &mut String, v: &Visible, i: usize, fields: &[String]) {
    let r = v.record(i);
    if fields.is_empty() {
        v.write_json(r, out);
    } else {
        out.push_str(&project(&v.value(r), fields).to_string());
    }
}

/// `GET /entities`: Backstage's original list endpoint, a bare array.
pub async fn list_entities(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let p = Params::parse(raw)?;
    let filter = Filter::parse(&p.all("filter")).map_err(ApiError::bad_request)?;
    let order = p
        .all("order")
        .iter()
        .map(|o| parse_legacy_order(o))
        .collect::<Result<Vec<_>>>()?;
    let offset = p.number("offset")?.unwrap_or(0);
    let limit = p.number("limit")?.unwrap_or(usize::MAX);
    let fields = p.list("fields");
    let v = state.facade().read(&caller);
    let matched = v.query(&Query {
        filter,
        order,
        ..Default::default()
    });
    let body = entities_json(&v, matched.into_iter().skip(offset).take(limit), &fields);
    Ok(json_response(StatusCode::OK, body))
}

/// `order=asc:metadata.name` or `order=desc:metadata.name` (the legacy form; nothing else).
fn parse_legacy_order(s: &str) -> Result<OrderField> {
    let (descending, field) = match s.split_once(':') {
        Some(("asc", field)) => (false, field),
        Some(("desc", field)) => (true, field),
        _ => {
            return Err(ApiError::bad_request(format!(
                "invalid order \"{s}\": expected asc:<field> or desc:<field>"
            )))
        }
    };
    if field.is_empty() {
        return Err(ApiError::bad_request(format!(
            "invalid order \"{s}\": the field is missing"
        )));
    }
    Ok(OrderField {
        field: field.to_lowercase(),
        descending,
    })
}

/// What a cursor carries: the whole query and where the page starts.
#[derive(Serialize, Deserialize)]
struct Cursor {
    query: Query,
    /// Position of the first item of the page.
    offset: usize,
    /// Ref key of the first item of the page, to stay in place when entities come and go.
    #[serde(default)]
    first: Option<String>,
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode_cursor(s: &str) -> Result<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| {
            ApiError::bad_request("invalid cursor: pass back a nextCursor or prevCursor unchanged")
        })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::bad_request("invalid cursor: pass back a nextCursor or prevCursor unchanged")
    })
}

struct PageRequest {
    query: Query,
    offset: usize,
    first: Option<String>,
    limit: usize,
    fields: Vec<String>,
}

fn run_page(v: &Visible, req: PageRequest) -> Response {
    let matched = v.query(&req.query);
    // A cursor remembers the first item; if it is still there, start from it.
    let start = req
        .first
        .as_ref()
        .and_then(|k| matched.iter().position(|&i| v.record(i).stored.key.0 == *k))
        .unwrap_or(req.offset)
        .min(matched.len());
    let end = (start + req.limit).min(matched.len());
    let mut body = String::from("{\"items\":");
    body.push_str(&entities_json(
        v,
        matched[start..end].iter().copied(),
        &req.fields,
    ));
    let key_at = |i: usize| matched.get(i).map(|&r| v.record(r).stored.key.0.clone());
    let mut page_info = serde_json::Map::new();
    if end < matched.len() {
        let c = Cursor {
            query: req.query.clone(),
            offset: end,
            first: key_at(end),
        };
        page_info.insert("nextCursor".into(), Value::String(encode_cursor(&c)));
    }
    if start > 0 {
        let prev = start.saturating_sub(req.limit);
        let c = Cursor {
            query: req.query.clone(),
            offset: prev,
            first: key_at(prev),
        };
        page_info.insert("prevCursor".into(), Value::String(encode_cursor(&c)));
    }
    body.push_str(&format!(
        ",\"totalItems\":{},\"pageInfo\":{}}}",
        matched.len(),
        Value::Object(page_info)
    ));
    json_response(StatusCode::OK, body)
}

fn limit_of(limit: Option<usize>) -> Result<usize> {
    match limit {
        None => Ok(MAX_LIMIT),
        Some(0) => Err(ApiError::bad_request("limit must be at least 1")),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

/// `GET /entities/by-query`. Every parameter is checked, also those a cursor overrides.
pub async fn query_entities_get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let p = Params::parse(raw)?;
    let limit = limit_of(p.number("limit")?)?;
    let fields = p.list("fields");
    let filter = Filter::parse(&p.all("filter")).map_err(ApiError::bad_request)?;
    let order = p
        .all("orderField")
        .iter()
        .map(|o| order_field(o))
        .collect::<Result<Vec<_>>>()?;
    let text = p
        .one("fullTextFilterTerm")?
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let text_fields = p
        .list("fullTextFilterFields")
        .into_iter()
        .map(|f| f.to_lowercase())
        .collect();
    let offset = p.number("offset")?.unwrap_or(0);
    let req = match p.one("cursor")? {
        Some(c) => {
            let c = decode_cursor(c)?;
            PageRequest {
                query: c.query,
                offset: c.offset,
                first: c.first,
                limit,
                fields,
            }
        }
        None => PageRequest {
            query: Query {
                filter,
                order,
                text,
                text_fields,
            },
            offset,
            first: None,
            limit,
            fields,
        },
    };
    Ok(run_page(&state.facade().read(&caller), req))
}

/// `orderField=field[,asc|desc]`: split at the last comma when what follows is a direction;
/// a field is never empty. Nothing is trimmed (the document's pattern says the same).
fn order_field(s: &str) -> Result<OrderField> {
    let (field, descending) = match s.rsplit_once(',') {
        Some((field, "asc")) => (field, false),
        Some((field, "desc")) => (field, true),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "invalid orderField \"{s}\": expected field, field,asc or field,desc"
            )))
        }
        None => (s, false),
    };
    if field.is_empty() {
        return Err(ApiError::bad_request(format!(
            "invalid orderField \"{s}\": the field is missing"
        )));
    }
    Ok(OrderField {
        field: field.to_lowercase(),
        descending,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueryBody {
    #[serde(default, deserialize_with = "present")]
    filter: Option<Value>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default, deserialize_with = "de_count")]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "de_count")]
    offset: Option<usize>,
    #[serde(default)]
    order_by: Vec<OrderByBody>,
    #[serde(default, deserialize_with = "present")]
    full_text_filter: Option<FullTextBody>,
    #[serde(default, deserialize_with = "present")]
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderByBody {
    field: String,
    #[serde(default)]
    order: Direction,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullTextBody {
    term: String,
    #[serde(default)]
    fields: Vec<String>,
}

/// `POST /entities/by-query`: the same query with a JSON body and Backstage's predicate filter
/// (`{"kind": "component", "spec.type": ["service", "website"], "metadata.tags": {"$exists": true}}`,
/// combined with `$all` and `$any`).
pub async fn query_entities_post(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonObject(body): JsonObject<QueryBody>,
) -> Result<Response> {
    let limit = limit_of(body.limit)?;
    // Checked also when a cursor overrides them.
    let filter = match &body.filter {
        None => Filter::default(),
        Some(v) => predicate_filter(v)?,
    };
    let mut order = Vec::with_capacity(body.order_by.len());
    for (n, o) in body.order_by.iter().enumerate() {
        if o.field.is_empty() {
            return Err(ApiError::bad_request(format!(
                "orderBy[{n}].field must not be empty"
            )));
        }
        order.push(OrderField {
            field: o.field.to_lowercase(),
            descending: o.order == Direction::Desc,
        });
    }
    let (text, text_fields) = match body.full_text_filter {
        Some(f) => (
            Some(f.term.trim().to_lowercase()).filter(|t| !t.is_empty()),
            f.fields.iter().map(|x| x.to_lowercase()).collect(),
        ),
        None => (None, vec![]),
    };
    let req = match body.cursor {
        Some(c) => {
            let c = decode_cursor(&c)?;
            PageRequest {
                query: c.query,
                offset: c.offset,
                first: c.first,
                limit,
                fields: body.fields,
            }
        }
        None => PageRequest {
            query: Query {
                filter,
                order,
                text,
                text_fields,
            },
            offset: body.offset.unwrap_or(0),
            first: None,
            limit,
            fields: body.fields,
        },
    };
    Ok(run_page(&state.facade().read(&caller), req))
}

/// Turns a predicate object into the OR-of-ANDs filter.
fn predicate_filter(v: &Value) -> Result<Filter> {
    use crate::catalog::query::Condition;
    fn dnf(v: &Value) -> Result<Vec<Vec<Condition>>> {
        let obj = v
            .as_object()
            .ok_or_else(|| ApiError::bad_request("filter must be a JSON object"))?;
        let mut alternatives: Vec<Vec<Condition>> = vec![vec![]];
        for (key, value) in obj {
            let branch: Vec<Vec<Condition>> = match key.as_str() {
                "$all" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| ApiError::bad_request("$all takes an array of filters"))?;
                    let mut acc = vec![vec![]];
                    for item in items {
                        acc = product(&acc, &dnf(item)?)?;
                    }
                    acc
                }
                "$any" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| ApiError::bad_request("$any takes an array of filters"))?;
                    let mut acc = Vec::new();
                    for item in items {
                        acc.extend(dnf(item)?);
                        if acc.len() > MAX_ALTERNATIVES {
                            return Err(ApiError::bad_request(format!(
                                "filter is too complex: it expands to more than {MAX_ALTERNATIVES} alternatives"
                            )));
                        }
                    }
                    acc
                }
                k if k.starts_with('$') => {
                    return Err(ApiError::bad_request(format!(
                        "filter operator {k} is not supported; use $all, $any, $exists or $in"
                    )))
                }
                field => vec![vec![condition(field, value)?]],
            };
            alternatives = product(&alternatives, &branch)?;
        }
        Ok(alternatives)
    }
    fn product(a: &[Vec<Condition>], b: &[Vec<Condition>]) -> Result<Vec<Vec<Condition>>> {
        if a.len().saturating_mul(b.len()) > MAX_ALTERNATIVES {
            return Err(ApiError::bad_request(format!(
                "filter is too complex: it expands to more than {MAX_ALTERNATIVES} alternatives"
            )));
        }
        let mut out = Vec::new();
        for x in a {
            for y in b {
                let mut z = x.clone();
                z.extend(y.iter().cloned());
                out.push(z);
            }
        }
        Ok(out)
    }
    fn condition(field: &str, value: &Value) -> Result<Condition> {
        let key = field.to_lowercase();
        let scalar = |v: &Value| match v {
            Value::String(s) => Ok(s.to_lowercase()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(ApiError::bad_request(format!(
                "filter value of {field} must be a string, number or boolean"
            ))),
        };
        match value {
            Value::Array(items) => Ok(Condition { key, values: Some(items.iter().map(scalar).collect::<Result<_>>()?) }),
            // One operator and nothing else (`{"$exists": true, "x": 1}` is not a condition).
            Value::Object(op) if op.len() != 1 => Err(ApiError::bad_request(format!("filter of {field}: an operator object holds exactly one of $exists or $in"))),
            Value::Object(op) => match (op.get("$exists"), op.get("$in")) {
                (Some(Value::Bool(true)), None) => Ok(Condition { key, values: None }),
                (None, Some(Value::Array(items))) => Ok(Condition { key, values: Some(items.iter().map(scalar).collect::<Result<_>>()?) }),
                _ => Err(ApiError::bad_request(format!("filter of {field}: expected a value, an array, {{\"$exists\": true}} or {{\"$in\": [...]}}"))),
            },
            other => Ok(Condition { key, values: Some(vec![scalar(other)?]) }),
        }
    }
    let alternatives = dnf(v)?;
    if alternatives.is_empty() {
        // An empty `$any` somewhere in an AND: nothing can match.
        return Ok(Filter {
            any_of: vec![],
            nothing: true,
        });
    }
    if alternatives.iter().any(|c| c.is_empty()) {
        // One alternative without conditions matches everything.
        return Ok(Filter::default());
    }
    Ok(Filter {
        any_of: alternatives,
        nothing: false,
    })
}

pub async fn entity_by_name(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response> {
    let v = state.facade().read(&caller);
    let r = v.get(&kind, &namespace, &name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no entity named {}:{namespace}/{name}",
            kind.to_lowercase()
        ))
    })?;
    Ok(json_response(StatusCode::OK, v.json(r)))
}

pub async fn entity_by_uid(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(uid): Path<String>,
) -> Result<Response> {
    let v = state.facade().read(&caller);
    let r = v
        .get_uid(&uid)
        .ok_or_else(|| ApiError::not_found(format!("no entity with uid {uid}")))?;
    Ok(json_response(StatusCode::OK, v.json(r)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ByRefsBody {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
}

/// `POST /entities/by-refs`: one item per requested ref, `null` where there is none.
pub async fn entities_by_refs(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonObject(body): JsonObject<ByRefsBody>,
) -> Result<Response> {
    let v = state.facade().read(&caller);
    let mut out = String::from("{\"items\":[");
    for (n, r) in body.entity_refs.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let parsed = api_ref(r, &format!("entityRefs[{n}]"))?;
        match v.index_of(&RefKey::from_ref(&parsed)) {
            Some(i) => push_entity(&mut out, &v, i, &body.fields),
            None => out.push_str("null"),
        }
    }
    out.push_str("]}");
    Ok(json_response(StatusCode::OK, out))
}

/// `GET /entity-facets?facet=kind&facet=spec.type&filter=…`.
pub async fn entity_facets(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let p = Params::parse(raw)?;
    let facets = p.all("facet");
    if facets.is_empty() {
        return Err(ApiError::bad_request(
            "at least one facet parameter is required, e.g. facet=kind",
        ));
    }
    let filter = Filter::parse(&p.all("filter")).map_err(ApiError::bad_request)?;
    let v = state.facade().read(&caller);
    let mut out = serde_json::Map::new();
    for f in facets {
        let values: Vec<Value> = v
            .facet(&filter, &f)
            .into_iter()
            .map(|(value, count)| json!({"value": value, "count": count}))
            .collect();
        out.insert(f, Value::Array(values));
    }
    Ok(Json(json!({ "facets": out })))
}

/// Backstage's `{id, type, target}` plus Backlot's `branch`, `path` and `status`.
/// Targets are shown without credentials.
fn location_json(l: &LocationInfo, v: &Visible) -> Value {
    let mut out = json!({
        "id": l.id,
        "type": l.location_type.as_str(),
        "target": v.sources().display_target(l.location_type, &l.target),
        "status": {
            "lastRefreshAt": l.last_refresh_at,
            "lastSuccessAt": l.last_success_at,
            "error": l.last_error,
            "failures": l.failures,
            "stale": l.last_error.is_some(),
            "problems": l.problems.len(),
        },
    });
    if let Some(b) = &l.branch {
        out["branch"] = json!(b);
    }
    if let Some(p) = &l.path {
        out["path"] = json!(p);
    }
    if let Some(c) = &l.commit {
        out["status"]["commit"] = json!(c);
    }
    out
}

pub async fn list_locations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
) -> Json<Value> {
    let v = state.facade().read(&caller);
    Json(Value::Array(
        v.locations()
            .map(|l| json!({ "data": location_json(l, &v) }))
            .collect(),
    ))
}

pub async fn get_location(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    location_by_id(&state.facade().read(&caller), &id)
}

fn location_by_id(v: &Visible, id: &str) -> Result<Json<Value>> {
    let l = v
        .location(id)
        .ok_or_else(|| ApiError::not_found(format!("no location with id {id}")))?;
    Ok(Json(location_json(l, v)))
}

pub async fn location_by_entity(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    let v = state.facade().read(&caller);
    let r = v.get(&kind, &namespace, &name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no entity named {}:{namespace}/{name}",
            kind.to_lowercase()
        ))
    })?;
    let l = v
        .location(&r.stored.location_id)
        .ok_or_else(|| ApiError::not_found("the entity's location is gone"))?;
    Ok(Json(location_json(l, &v)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddLocationBody {
    #[serde(rename = "type", default = "file_type")]
    location_type: String,
    target: String,
    /// Git: branch (default: the remote's default branch).
    #[serde(default, deserialize_with = "present")]
    branch: Option<String>,
    /// Git: path or glob inside the repository (default `**/catalog-info.yaml`).
    #[serde(default, deserialize_with = "present")]
    path: Option<String>,
}

fn file_type() -> String {
    "file".into()
}

/// `POST /locations[?dryRun=true]`: 201 with the location and its entities.
pub async fn add_location(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    RawQuery(raw): RawQuery,
    JsonObject(body): JsonObject<AddLocationBody>,
) -> Result<Response> {
    let p = Params::parse(raw)?;
    let dry_run = p.flag("dryRun")?;
    // Exactly as the document's enum spells them (the UI's parser is lenient about spaces).
    if !crate::catalog::source::LocationType::ALL
        .iter()
        .any(|t| t.as_str() == body.location_type)
    {
        return Err(ApiError::bad_request(format!(
            "location type \"{}\" is not supported; use \"file\", \"git\" or \"url\"",
            body.location_type
        )));
    }
    let new = NewLocation::parse(&body.location_type, &body.target, body.branch, body.path)?;
    let added = state.facade().register(&caller, new, dry_run).await?;
    // Streamed straight from the catalog's JSON: a location can hold 10k entities, and the
    // whole array (tens of MiB) is never held at once.
    let mut head = String::from("{\"location\":");
    let shown = state.facade().read(&caller);
    let mut location = location_json(&added.location, &shown);
    if dry_run && !added.exists {
        // Nothing was registered: an id would name a location that does not exist.
        if let Some(l) = location.as_object_mut() {
            l.remove("id");
        }
    }
    head.push_str(&location.to_string());
    head.push_str(",\"entities\":");
    let mut tail = String::new();
    if dry_run {
        tail.push_str(if added.exists {
            ",\"exists\":true"
        } else {
            ",\"exists\":false"
        });
    }
    if !added.location.problems.is_empty() {
        tail.push_str(",\"problems\":");
        tail.push_str(
            &serde_json::to_string(&added.location.problems).unwrap_or_else(|_| "[]".into()),
        );
    }
    tail.push('}');
    let pieces = std::iter::once(head)
        .chain(added.entities.into_json_chunks(200))
        .chain(std::iter::once(tail))
        .map(|piece| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(piece)));
    let status = if dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(
        status,
        Body::from_stream(futures_util::stream::iter(pieces)),
    ))
}

pub async fn delete_location(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.facade().unregister_location(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /locations/{id}/refresh`: reads the location now (Backlot's "refresh now" button).
/// 200 with the location's status, 502 when its repository cannot be read.
pub async fn refresh_location(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let facade = state.facade();
    facade.refresh_location(&caller, &id).await?;
    location_by_id(&facade.read(&caller), &id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    entity_ref: String,
}

/// `POST /refresh {"entityRef": "component:default/foo"}`: re-reads its location now.
pub async fn refresh(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonObject(body): JsonObject<RefreshBody>,
) -> Result<StatusCode> {
    let r = api_ref(&body.entity_ref, "entityRef")?;
    state
        .facade()
        .refresh_entity(&caller, &RefKey::from_ref(&r))
        .await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ValidateBody {
    entity: Value,
    #[allow(dead_code)]
    #[serde(default, deserialize_with = "present")]
    location: Option<String>,
}

/// `POST /validate-entity`: 200 `{}` when valid, 400 with every problem otherwise.
pub async fn validate_entity(JsonObject(body): JsonObject<ValidateBody>) -> Response {
    let errors = validate(&body.entity);
    if errors.is_empty() {
        return (StatusCode::OK, Json(json!({}))).into_response();
    }
    let items: Vec<Value> = errors
        .iter()
        .map(|e| {
            let message = if e.field.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            };
            json!({"name": "InputError", "message": message, "field": e.field})
        })
        .collect();
    (StatusCode::BAD_REQUEST, Json(json!({ "errors": items }))).into_response()
}
