//! Reading the audit log: the parameters of `GET /api/audit` and the admin page (actor, action,
//! outcome, target, since, until, limit, cursor), checked with errors that name the parameter;
//! keyset cursors; one page, newest first.

use crate::storage::{AuditFilter, AuditRow, StorageError, Store};
use app::audit::{AuditEvent, AuditPage, AuditQuery};
use base64::Engine;

/// Events per page unless `limit` says otherwise; at most [`MAX_LIMIT`].
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A parameter is wrong; the message names it.
    #[error("{parameter}: {message}")]
    Invalid {
        parameter: &'static str,
        message: String,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(parameter: &'static str, message: impl Into<String>) -> AuditError {
    AuditError::Invalid {
        parameter,
        message: message.into(),
    }
}

/// How strictly parameters are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// The REST API: exactly what openapi.json says (`since`/`until` RFC 3339 date-times, an
    /// empty `outcome`, `limit` or `cursor` refused).
    Api,
    /// The admin page's GET form: empty fields are no filter, and `since`/`until` may be dates
    /// (`until` a date: up to the end of that day, UTC).
    Page,
}

/// The storage filter for `q` (one more than the limit is asked for, to know whether a next
/// page exists).
pub fn filter(q: &AuditQuery, strictness: Strictness) -> Result<AuditFilter, AuditError> {
    let given = |v: &Option<String>| -> Option<String> {
        match (v, strictness) {
            (Some(s), Strictness::Page) if s.trim().is_empty() => None,
            (Some(s), Strictness::Page) => Some(s.trim().to_string()),
            (Some(s), Strictness::Api) => Some(s.clone()),
            (None, _) => None,
        }
    };
    // An empty text filter is no filter in both modes (the document says so).
    let text = |v: &Option<String>| given(v).filter(|s| !s.is_empty());
    let mut f = AuditFilter {
        actor: text(&q.actor),
        target: text(&q.target),
        ..AuditFilter::default()
    };
    if let Some(action) = text(&q.action) {
        match action.strip_suffix('*') {
            Some(prefix) => {
                f.action = Some(prefix.to_string()).filter(|p| !p.is_empty());
                f.action_prefix = f.action.is_some();
            }
            None => f.action = Some(action),
        }
    }
    if let Some(outcome) = given(&q.outcome) {
        if !["allowed", "refused", "failed"].contains(&outcome.as_str()) {
            return Err(invalid(
                "outcome",
                format!("must be allowed, refused or failed, got \"{outcome}\""),
            ));
        }
        f.outcome = Some(outcome);
    }
    let dates = strictness == Strictness::Page;
    f.since = given(&q.since)
        .map(|s| parse_time(&s, dates, false).ok_or_else(|| bad_time("since", &s, dates)))
        .transpose()?;
    f.until = given(&q.until)
        .map(|s| parse_time(&s, dates, true).ok_or_else(|| bad_time("until", &s, dates)))
        .transpose()?;
    let limit = match given(&q.limit) {
        None => DEFAULT_LIMIT,
        Some(v) => whole_number(&v)
            .filter(|n| (1..=u64::from(MAX_LIMIT)).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| {
                invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}, got \"{v}\""),
                )
            })?,
    };
    f.limit = limit + 1;
    f.before = given(&q.cursor)
        .map(|c| {
            decode_cursor(&c).ok_or_else(|| {
                invalid("cursor", "invalid cursor: pass back a nextCursor unchanged")
            })
        })
        .transpose()?;
    Ok(f)
}

/// A whole number as JSON may write it: `20`, also `20.0` or `2e1` (what the document's
/// `integer` admits).
fn whole_number(v: &str) -> Option<u64> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    let numeric = v
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    let f = v.parse::<f64>().ok().filter(|_| numeric)?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64).then_some(f as u64)
}

fn bad_time(parameter: &'static str, value: &str, dates: bool) -> AuditError {
    let what = if dates {
        "a date (2026-12-31) or an RFC 3339 date-time (2026-12-31T23:59:00Z)"
    } else {
        "an RFC 3339 date-time such as 2026-12-31T23:59:00Z"
    };
    invalid(parameter, format!("must be {what}, got \"{value}\""))
}

/// One page of events matching `f` (made by [`filter`]), newest first, with the cursor of the
/// next page when there is one.
pub async fn page(store: &Store, f: &AuditFilter) -> Result<AuditPage, AuditError> {
    let mut rows = store.audit_events(f).await?;
    let limit = f.limit.saturating_sub(1) as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last().map(|r| encode_cursor(r.at, r.id)))
        .flatten();
    Ok(AuditPage {
        items: rows.into_iter().map(event_view).collect(),
        next_cursor,
    })
}

fn event_view(r: AuditRow) -> AuditEvent {
    AuditEvent {
        id: r.id,
        at: crate::util::format_rfc3339(r.at.div_euclid(1000), r.at.rem_euclid(1000) as u32),
        actor: r.actor,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
        detail: r.detail,
    }
}

/// Opaque to callers: `at:id` of the last event of a page, base64url.
pub fn encode_cursor(at: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at}:{id}"))
}

pub fn decode_cursor(s: &str) -> Option<(i64, i64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, id) = text.split_once(':')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

/// Milliseconds since the epoch of an RFC 3339 date-time (`2026-12-31T23:59:00Z`,
/// `…00.5+02:00`), or with `dates` also of a date (`2026-12-31`: its start, or with `end` the
/// start of the next day).
pub fn parse_time(s: &str, dates: bool, end: bool) -> Option<i64> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let day_start = |y: i64, m: i64, d: i64| {
        crate::util::parse_rfc3339_ms(&format!("{y:04}-{m:02}-{d:02}T00:00:00Z"))
    };
    if b.len() == 10 {
        let start = day_start(y, m, d)?;
        return dates.then_some(if end { start + 86_400_000 } else { start });
    }
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hh, mm, ss) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let first3: String = frac[..n].chars().chain("000".chars()).take(3).collect();
        millis = first3.parse::<i64>().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest.as_bytes() {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let num = |a: u8, b: u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (oh, om) = (num(*h1, *h2)?, num(*m1, *m2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    // A leap second counts as the last millisecond of its minute.
    let (ss, millis) = if ss == 60 { (59, 999) } else { (ss, millis) };
    let start = day_start(y, m, d)?;
    Some(start + ((hh * 60 + mm - offset_min) * 60 + ss) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_rfc_3339() {
        let t = |s: &str| parse_time(s, false, false);
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(t("1970-01-01T00:00:01.5Z"), Some(1_500));
        assert_eq!(t("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(t("1969-12-31T23:00:00-01:00"), Some(0));
        assert_eq!(t("2026-12-06T21:33:09.123456Z"), Some(1_796_592_789_123));
        assert!(t("2024-02-29T00:00:00Z").is_some());
        for bad in [
            "",
            "2026-12-06",
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-12-06T24:00:00Z",
            "2026-12-06T00:00:00",
            "2026-12-06 00:00:00Z",
            "2026-12-06T00:00:00.Z",
            "2026-12-06T00:00:00+1:00",
            "2026-12-06T00:00:00z",
            "２026-12-06T00:00:00Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        // The page also takes dates; an `until` date includes its day.
        assert_eq!(parse_time("1970-01-02", true, false), Some(86_400_000));
        assert_eq!(parse_time("1970-01-02", true, true), Some(2 * 86_400_000));
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        let f = filter(&AuditQuery::default(), Strictness::Api).unwrap();
        assert_eq!(f.limit, DEFAULT_LIMIT + 1);
        let f = filter(&q(|q| q.action = Some("auth.*".into())), Strictness::Api).unwrap();
        assert_eq!(
            (f.action.as_deref(), f.action_prefix),
            (Some("auth."), true)
        );
        let f = filter(&q(|q| q.limit = Some("2e1".into())), Strictness::Api).unwrap();
        assert_eq!(f.limit, 21);
        let f = filter(&q(|q| q.actor = Some(String::new())), Strictness::Api).unwrap();
        assert_eq!(f.actor, None);
        for (query, parameter) in [
            (q(|q| q.outcome = Some("maybe".into())), "outcome"),
            (q(|q| q.outcome = Some(String::new())), "outcome"),
            (q(|q| q.limit = Some("0".into())), "limit"),
            (q(|q| q.limit = Some("501".into())), "limit"),
            (q(|q| q.limit = Some("ten".into())), "limit"),
            (q(|q| q.limit = Some("1.5".into())), "limit"),
            (q(|q| q.since = Some("2026-12-06".into())), "since"),
            (q(|q| q.until = Some("yesterday".into())), "until"),
            (q(|q| q.cursor = Some("nope".into())), "cursor"),
        ] {
            match filter(&query, Strictness::Api) {
                Err(AuditError::Invalid { parameter: p, .. }) => assert_eq!(p, parameter),
                other => panic!("{parameter}: {other:?}"),
            }
        }
        // The page's form: empty fields are no filter, dates are days.
        let page = q(|q| {
            q.outcome = Some(String::new());
            q.limit = Some(String::new());
            q.since = Some("1970-01-02".into());
            q.until = Some("1970-01-02".into());
        });
        let f = filter(&page, Strictness::Page).unwrap();
        assert_eq!(f.outcome, None);
        assert_eq!((f.since, f.until), (Some(86_400_000), Some(172_800_000)));
        let c = encode_cursor(1_000, 7);
        assert_eq!(decode_cursor(&c), Some((1_000, 7)));
        let with_cursor = AuditQuery {
            cursor: Some(c),
            ..AuditQuery::default()
        };
        let f = filter(&with_cursor, Strictness::Api).unwrap();
        assert_eq!(f.before, Some((1_000, 7)));
    }
}
