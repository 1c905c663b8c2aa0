//! The catalog page's URL: pure conversions between [`CatalogQuery`] and the query string.
//!
//! Every piece of catalog state lives in the URL so that a link reproduces the view. Keys are
//! `kind`, `type`, `owner`, `lifecycle`, `tag`, `namespace`, `system`, `level` (repeatable), `scorecard`, `owned`
//! (`1`: owned by the caller or their groups), `q`, `sort` and `page` (one-based in the URL, zero-based in [`CatalogQuery::page`]). Empty values, which
//! GET forms produce for blank inputs, are ignored.

use crate::model::CatalogQuery;

/// Rows per catalog page.
pub const PAGE_SIZE: usize = 25;

/// Columns the catalog table can be sorted by.
pub const SORT_COLUMNS: [&str; 5] = ["name", "kind", "type", "owner", "lifecycle"];

/// One repeatable filter of the catalog sidebar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facet {
    Type,
    Owner,
    Lifecycle,
    Tag,
    Namespace,
    System,
    /// A scorecard's level (not one of the catalog's own facets: the server reads it from the
    /// scorecards' results).
    Level,
}

impl Facet {
    pub const ALL: [Facet; 6] = [
        Facet::Type,
        Facet::Owner,
        Facet::Lifecycle,
        Facet::Tag,
        Facet::Namespace,
        Facet::System,
    ];

    /// Every facet the URL carries: the catalog's own, then the scorecard level.
    pub const URL: [Facet; 7] = [
        Facet::Type,
        Facet::Owner,
        Facet::Lifecycle,
        Facet::Tag,
        Facet::Namespace,
        Facet::System,
        Facet::Level,
    ];

    /// The query-string key.
    pub fn key(self) -> &'static str {
        match self {
            Facet::Type => "type",
            Facet::Owner => "owner",
            Facet::Lifecycle => "lifecycle",
            Facet::Tag => "tag",
            Facet::Namespace => "namespace",
            Facet::System => "system",
            Facet::Level => "level",
        }
    }

    /// Heading shown in the sidebar.
    pub fn label(self) -> &'static str {
        match self {
            Facet::Type => "Type",
            Facet::Owner => "Owner",
            Facet::Lifecycle => "Lifecycle",
            Facet::Tag => "Tags",
            Facet::Namespace => "Namespace",
            Facet::System => "System",
            Facet::Level => "Level",
        }
    }

    pub fn values(self, q: &CatalogQuery) -> &Vec<String> {
        match self {
            Facet::Type => &q.types,
            Facet::Owner => &q.owners,
            Facet::Lifecycle => &q.lifecycles,
            Facet::Tag => &q.tags,
            Facet::Namespace => &q.namespaces,
            Facet::System => &q.systems,
            Facet::Level => &q.levels,
        }
    }

    pub fn values_mut(self, q: &mut CatalogQuery) -> &mut Vec<String> {
        match self {
            Facet::Type => &mut q.types,
            Facet::Owner => &mut q.owners,
            Facet::Lifecycle => &mut q.lifecycles,
            Facet::Tag => &mut q.tags,
            Facet::Namespace => &mut q.namespaces,
            Facet::System => &mut q.systems,
            Facet::Level => &mut q.levels,
        }
    }

    fn from_key(key: &str) -> Option<Facet> {
        Facet::URL.into_iter().find(|f| f.key() == key)
    }
}

/// Builds the query from decoded `(key, value)` pairs, in order; unknown keys are ignored.
pub fn catalog_query_from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> CatalogQuery
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut q = CatalogQuery {
        page_size: PAGE_SIZE,
        ..CatalogQuery::default()
    };
    for (key, value) in pairs {
        let value = value.as_ref().trim();
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "kind" => q.kind = Some(value.to_ascii_lowercase()),
            "q" => q.text = Some(value.to_string()),
            "owned" => q.owned = matches!(value, "1" | "true" | "on"),
            "scorecard" => q.scorecard = Some(value.to_string()),
            "sort" => {
                let column = value.strip_prefix('-').unwrap_or(value);
                if SORT_COLUMNS.contains(&column) {
                    q.sort = Some(value.to_string());
                }
            }
            "page" => {
                if let Ok(n) = value.parse::<usize>() {
                    q.page = n.saturating_sub(1);
                }
            }
            other => {
                if let Some(facet) = Facet::from_key(other) {
                    let values = facet.values_mut(&mut q);
                    if !values.iter().any(|v| v == value) {
                        values.push(value.to_string());
                    }
                }
            }
        }
    }
    q
}

/// Parses a raw query string (with or without the leading `?`).
pub fn catalog_query_from_str(s: &str) -> CatalogQuery {
    catalog_query_from_pairs(parse_query_string(s))
}

/// The query string for `q`, without the leading `?`; empty for the default view.
pub fn catalog_query_to_string(q: &CatalogQuery) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(kind) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        pairs.push(("kind", kind.to_string()));
    }
    for facet in Facet::URL {
        for value in facet.values(q) {
            pairs.push((facet.key(), value.clone()));
        }
    }
    if let Some(scorecard) = q.scorecard.as_deref().filter(|s| !s.is_empty()) {
        pairs.push(("scorecard", scorecard.to_string()));
    }
    if q.owned {
        pairs.push(("owned", "1".to_string()));
    }
    if let Some(text) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
        pairs.push(("q", text.to_string()));
    }
    if let Some(sort) = q.sort.as_deref().filter(|s| !s.is_empty()) {
        pairs.push(("sort", sort.to_string()));
    }
    if q.page > 0 {
        pairs.push(("page", (q.page + 1).to_string()));
    }
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode_component(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `/catalog` followed by the query string when there is one.
pub fn catalog_href(q: &CatalogQuery) -> String {
    let qs = catalog_query_to_string(q);
    if qs.is_empty() {
        "/catalog".to_string()
    } else {
        format!("/catalog?{qs}")
    }
}

/// The query with `value` of `facet` switched on or off, back on the first page.
pub fn toggle_facet(q: &CatalogQuery, facet: Facet, value: &str) -> CatalogQuery {
    let mut next = q.clone();
    let values = facet.values_mut(&mut next);
    if let Some(pos) = values.iter().position(|v| v == value) {
        values.remove(pos);
    } else {
        values.push(value.to_string());
    }
    next.page = 0;
    next
}

/// The query for another kind tab: type filters belong to a kind, so they are dropped.
pub fn with_kind(q: &CatalogQuery, kind: Option<&str>) -> CatalogQuery {
    CatalogQuery {
        kind: kind.map(str::to_ascii_lowercase),
        types: Vec::new(),
        page: 0,
        ..q.clone()
    }
}

/// The query showing another scorecard's level: the chosen levels were the other's, so they
/// are dropped.
pub fn with_scorecard(q: &CatalogQuery, scorecard: &str) -> CatalogQuery {
    CatalogQuery {
        scorecard: Some(scorecard.to_string()),
        levels: Vec::new(),
        page: 0,
        ..q.clone()
    }
}

/// The query after clicking a column header: ascending first, then descending.
pub fn with_sort(q: &CatalogQuery, column: &str) -> CatalogQuery {
    let next_sort = match q.sort.as_deref() {
        Some(s) if s == column => format!("-{column}"),
        None if column == "name" => "-name".to_string(),
        _ => column.to_string(),
    };
    CatalogQuery {
        sort: if next_sort == "name" {
            None
        } else {
            Some(next_sort)
        },
        page: 0,
        ..q.clone()
    }
}

/// How the table is sorted by `column` now: `Some(true)` ascending, `Some(false)` descending.
pub fn sort_state(q: &CatalogQuery, column: &str) -> Option<bool> {
    match q.sort.as_deref() {
        None => (column == "name").then_some(true),
        Some(s) => match s.strip_prefix('-') {
            Some(c) if c == column => Some(false),
            Some(_) => None,
            None => (s == column).then_some(true),
        },
    }
}

pub fn with_page(q: &CatalogQuery, page: usize) -> CatalogQuery {
    CatalogQuery { page, ..q.clone() }
}

/// Splits and decodes `a=1&b=x%20y` (`+` is a space, as browsers send GET forms).
pub fn parse_query_string(s: &str) -> Vec<(String, String)> {
    s.strip_prefix('?')
        .unwrap_or(s)
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Percent-encodes a query value; `:` and `/` stay readable (`owner=group:default/team-a`).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes and `+`; malformed escapes are kept as written.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The search page's URL for `text`.
pub fn search_href(text: &str) -> String {
    format!("/search?q={}", encode_component(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_query() -> CatalogQuery {
        CatalogQuery {
            kind: Some("component".into()),
            types: vec!["service".into(), "website".into()],
            owners: vec!["group:default/team-a".into()],
            lifecycles: vec!["production".into()],
            tags: vec!["c++".into(), "java script".into()],
            namespaces: vec!["default".into()],
            systems: vec!["system:default/audio & video".into()],
            levels: vec!["gold".into(), "none".into()],
            scorecard: Some("service maturity".into()),
            text: Some("fast 100%".into()),
            owned: true,
            sort: Some("-owner".into()),
            page: 3,
            page_size: PAGE_SIZE,
        }
    }

    #[test]
    fn round_trips_every_field() {
        let q = full_query();
        let s = catalog_query_to_string(&q);
        assert_eq!(catalog_query_from_str(&s), q);
        assert_eq!(catalog_query_from_str(&format!("?{s}")), q);
    }

    #[test]
    fn default_query_is_empty_string() {
        let q = catalog_query_from_str("");
        assert_eq!(q.page_size, PAGE_SIZE);
        assert_eq!(catalog_query_to_string(&q), "");
        assert_eq!(catalog_href(&q), "/catalog");
    }

    #[test]
    fn readable_encoding() {
        let q = CatalogQuery {
            kind: Some("component".into()),
            owners: vec!["group:default/team-a".into()],
            text: Some("a b&c".into()),
            page: 1,
            ..Default::default()
        };
        assert_eq!(
            catalog_query_to_string(&q),
            "kind=component&owner=group:default/team-a&q=a%20b%26c&page=2"
        );
    }

    #[test]
    fn ignores_blank_unknown_and_invalid_values() {
        let q =
            catalog_query_from_str("q=&type=&kind=Component&sort=bogus&page=x&foo=bar&tag=a&tag=a");
        assert_eq!(q.kind.as_deref(), Some("component"));
        assert_eq!(q.text, None);
        assert!(q.types.is_empty());
        assert_eq!(q.sort, None);
        assert_eq!(q.page, 0);
        assert_eq!(q.tags, vec!["a".to_string()]);
    }

    #[test]
    fn form_encoding_and_malformed_escapes() {
        let q = catalog_query_from_str("q=hello+world%21&tag=50%&tag=%zz");
        assert_eq!(q.text.as_deref(), Some("hello world!"));
        assert_eq!(q.tags, vec!["50%".to_string(), "%zz".to_string()]);
        assert_eq!(decode_component("%E2%80%93"), "–");
    }

    #[test]
    fn toggling_and_kind_switch_reset_page() {
        let q = full_query();
        let off = toggle_facet(&q, Facet::Type, "service");
        assert_eq!(off.types, vec!["website".to_string()]);
        assert_eq!(off.page, 0);
        let on = toggle_facet(&off, Facet::Type, "library");
        assert_eq!(on.types, vec!["website".to_string(), "library".to_string()]);
        let k = with_kind(&q, Some("API"));
        assert_eq!(k.kind.as_deref(), Some("api"));
        assert!(k.types.is_empty());
        assert_eq!(k.owners, q.owners);
        assert_eq!(k.page, 0);
    }

    #[test]
    fn another_scorecard_drops_the_chosen_levels() {
        let q = catalog_query_from_str("kind=component&level=gold&level=none&page=3");
        assert_eq!(q.levels, vec!["gold".to_string(), "none".to_string()]);
        let other = with_scorecard(&q, "security");
        assert_eq!(other.scorecard.as_deref(), Some("security"));
        assert!(other.levels.is_empty());
        assert_eq!(other.page, 0);
        assert_eq!(
            catalog_query_to_string(&other),
            "kind=component&scorecard=security"
        );
        // A level chip removes one level and keeps the scorecard.
        let one = toggle_facet(
            &catalog_query_from_str("level=gold&level=none&scorecard=s"),
            Facet::Level,
            "gold",
        );
        assert_eq!(catalog_href(&one), "/catalog?level=none&scorecard=s");
    }

    #[test]
    fn sort_cycles() {
        let q = CatalogQuery::default();
        assert_eq!(sort_state(&q, "name"), Some(true));
        let desc = with_sort(&q, "name");
        assert_eq!(desc.sort.as_deref(), Some("-name"));
        assert_eq!(sort_state(&desc, "name"), Some(false));
        let asc = with_sort(&desc, "name");
        assert_eq!(asc.sort, None);
        let owner = with_sort(&q, "owner");
        assert_eq!(owner.sort.as_deref(), Some("owner"));
        assert_eq!(sort_state(&owner, "owner"), Some(true));
        assert_eq!(sort_state(&owner, "name"), None);
        assert_eq!(with_sort(&owner, "owner").sort.as_deref(), Some("-owner"));
    }
}
