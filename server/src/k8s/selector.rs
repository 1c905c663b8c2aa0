//! Label selectors as `backstage.io/kubernetes-label-selector` writes them, in kubectl's syntax:
//! `app=web,tier!=cache,env in (prod,staging),!canary,release`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed selector; matches when every requirement holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// `Err` says what is wrong and where.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut out = Vec::new();
        for part in split_top(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let bad = || {
                format!("\"{part}\" is not a label requirement (key=value, key!=value, key in (a,b), key notin (a,b), key or !key)")
            };
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(key.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, rest)) = split_word(part, " notin ") {
                Requirement::NotIn(k, values(rest).ok_or_else(bad)?)
            } else if let Some((k, rest)) = split_word(part, " in ") {
                Requirement::In(k, values(rest).ok_or_else(bad)?)
            } else if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                Requirement::Exists(part.to_string())
            } else {
                return Err(bad());
            };
            out.push(req);
        }
        if out.is_empty() {
            return Err("the selector is empty".into());
        }
        Ok(Selector(out))
    }

    /// An equality selector (a Service's `spec.selector`).
    pub fn from_map(map: &BTreeMap<String, String>) -> Selector {
        Selector(
            map.iter()
                .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
                .collect(),
        )
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => !labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits at commas outside parentheses.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

fn split_word<'a>(part: &'a str, word: &str) -> Option<(String, &'a str)> {
    let (k, rest) = part.split_once(word)?;
    Some((k.trim().to_string(), rest.trim()))
}

fn values(rest: &str) -> Option<Vec<String>> {
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kubectl_syntax() {
        let s = Selector::parse("app=web, tier!=cache,env in (prod, staging),!canary,release")
            .expect("parses");
        assert!(s.matches(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("release", "3")
        ])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev"), ("release", "3")])));
        assert!(!s.matches(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("release", "3"),
            ("canary", "1")
        ])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[
            ("app", "web"),
            ("tier", "cache"),
            ("env", "prod"),
            ("release", "")
        ])));
        let n = Selector::parse("app==api,env notin (dev)").expect("parses");
        assert!(n.matches(&labels(&[("app", "api")])));
        assert!(!n.matches(&labels(&[("app", "api"), ("env", "dev")])));
        assert!(Selector::parse("").is_err());
        let e = Selector::parse("app in prod").expect_err("no parentheses");
        assert!(e.contains("\"app in prod\""), "{e}");
    }
}
