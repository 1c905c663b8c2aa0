//! One Prometheus server over its HTTP API (`/api/v1/query_range`, `/api/v1/alerts`): ureq on a
//! blocking thread, with the server's timeout, its credentials as a header (never logged), and
//! the answers parsed into series and alerts.

use super::config::Credentials;
use super::PromError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Largest answer read (a week of one series at a fine step is well below).
const MAX_BODY: u64 = 8 * 1024 * 1024;

/// One configured server.
pub struct Server {
    /// How pages name it.
    pub name: String,
    /// Its URL without a trailing `/`.
    pub url: String,
    pub environments: Vec<String>,
    pub clusters: Vec<String>,
    pub timeout: Duration,
    credentials: Credentials,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// A series: (unix seconds, value) with finite values only, in time order.
pub type Points = Vec<(f64, f64)>;

/// A firing or pending alert as `/api/v1/alerts` lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub active_at: Option<String>,
}

impl Server {
    pub fn new(
        name: String,
        url: &str,
        environments: Vec<String>,
        clusters: Vec<String>,
        timeout: Duration,
        credentials: Credentials,
    ) -> Server {
        let url = url.trim_end_matches('/').to_string();
        let host = url
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split(['/', ':'])
            .next()
            .unwrap_or("");
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("backlot");
        if host == "localhost" || host.starts_with("127.") || host == "[" {
            // The environment's proxy never serves loopback addresses.
            config = config.proxy(None);
        }
        Server {
            name,
            url,
            environments,
            clusters,
            timeout,
            credentials,
            agent: config.build().into(),
        }
    }

    /// `GET {url}{path}` → the `data` of a successful answer.
    fn get(&self, path: &str) -> Result<serde_json::Value, PromError> {
        let mut request = self.agent.get(format!("{}{path}", self.url));
        match &self.credentials {
            Credentials::None => {}
            Credentials::Bearer(token) => {
                request = request.header("Authorization", format!("Bearer {}", token.expose()));
            }
            Credentials::Basic { username, password } => {
                use base64::Engine;
                let pair = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                request = request.header("Authorization", format!("Basic {pair}"));
            }
        }
        let mut response = request.call().map_err(|e| match e {
            ureq::Error::Timeout(_) => PromError::Timeout(self.timeout),
            other => PromError::Unreachable(other.to_string()),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::Timeout(_) => PromError::Timeout(self.timeout),
                other => PromError::Unreachable(other.to_string()),
            })?;
        parse_answer(status, &body)
    }

    /// `query_range` from `start` to `end` (unix seconds) every `step` seconds: the first series
    /// of the answer (empty when the query matches nothing).
    pub fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: u64,
    ) -> Result<Points, PromError> {
        let path = format!(
            "/api/v1/query_range?query={}&start={start}&end={end}&step={step}",
            urlencoding(query)
        );
        parse_matrix(&self.get(&path)?)
    }

    /// Every alert the server's rules hold (firing and pending).
    pub fn alerts(&self) -> Result<Vec<Alert>, PromError> {
        let data = self.get("/api/v1/alerts")?;
        #[derive(Deserialize)]
        struct Data {
            alerts: Vec<Alert>,
        }
        serde_json::from_value::<Data>(data)
            .map(|d| d.alerts)
            .map_err(|e| PromError::Answer(format!("alerts: {e}")))
    }
}

/// Percent-encodes a query parameter.
fn urlencoding(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An answer's envelope: `{"status":"success","data":…}` or `{"status":"error","errorType":…,
/// "error":…}`; a 400/422 with `bad_data` or `execution` is a bad query.
pub fn parse_answer(status: u16, body: &[u8]) -> Result<serde_json::Value, PromError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope {
        status: String,
        #[serde(default)]
        data: serde_json::Value,
        #[serde(default)]
        error_type: Option<String>,
        #[serde(default)]
        error: Option<String>,
    }
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(200).collect();
            return Err(if status == 200 {
                PromError::Answer("not a Prometheus API answer".into())
            } else {
                PromError::Status(status, text)
            });
        }
    };
    if envelope.status == "success" && (200..300).contains(&status) {
        return Ok(envelope.data);
    }
    let message = envelope.error.unwrap_or_else(|| "no message".into());
    match (status, envelope.error_type.as_deref()) {
        (400 | 422, Some("bad_data" | "execution")) => Err(PromError::BadQuery(message)),
        _ => Err(PromError::Status(status, message)),
    }
}

/// A `matrix` (or `vector`) answer's first series.
pub fn parse_matrix(data: &serde_json::Value) -> Result<Points, PromError> {
    let kind = data["resultType"].as_str().unwrap_or("");
    let result = data["result"]
        .as_array()
        .ok_or_else(|| PromError::Answer("no result in the answer".into()))?;
    let Some(first) = result.first() else {
        return Ok(Vec::new());
    };
    let pairs: Vec<&serde_json::Value> = match kind {
        "matrix" => first["values"]
            .as_array()
            .map(|v| v.iter().collect())
            .unwrap_or_default(),
        "vector" => vec![&first["value"]],
        other => {
            return Err(PromError::Answer(format!(
                "a {other} answer where a matrix was expected"
            )))
        }
    };
    let mut points = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let (Some(t), Some(v)) = (pair[0].as_f64(), pair[1].as_str()) else {
            return Err(PromError::Answer(
                "a sample that is not [time, \"value\"]".into(),
            ));
        };
        // "NaN", "+Inf", "-Inf" are what Prometheus writes for no number: left out.
        if let Ok(v) = v.parse::<f64>() {
            if v.is_finite() {
                points.push((t, v));
            }
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_matrix_gives_its_first_series_without_non_numbers() {
        let body = json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1700000000, "1.5"], [1700000015.5, "NaN"], [1700000030, "+Inf"], [1700000045, "2"]]},
            {"metric": {"a": "b"}, "values": [[1700000000, "9"]]}
        ]}});
        let data = parse_answer(200, body.to_string().as_bytes()).expect("success");
        assert_eq!(
            parse_matrix(&data),
            Ok(vec![(1700000000.0, 1.5), (1700000045.0, 2.0)])
        );
        let empty = json!({"resultType": "matrix", "result": []});
        assert_eq!(parse_matrix(&empty), Ok(vec![]));
        let vector =
            json!({"resultType": "vector", "result": [{"metric": {}, "value": [1.0, "3"]}]});
        assert_eq!(parse_matrix(&vector), Ok(vec![(1.0, 3.0)]));
        let scalar = json!({"resultType": "scalar", "result": [1.0, "3"]});
        assert!(matches!(parse_matrix(&scalar), Err(PromError::Answer(_))));
    }

    #[test]
    fn errors_are_told_apart() {
        let bad = br#"{"status":"error","errorType":"bad_data","error":"1:6: parse error: unexpected end of input"}"#;
        assert_eq!(
            parse_answer(400, bad),
            Err(PromError::BadQuery(
                "1:6: parse error: unexpected end of input".into()
            ))
        );
        let unavailable = br#"{"status":"error","errorType":"unavailable","error":"starting"}"#;
        assert_eq!(
            parse_answer(503, unavailable),
            Err(PromError::Status(503, "starting".into()))
        );
        assert_eq!(
            parse_answer(502, b"<html>Bad Gateway</html>"),
            Err(PromError::Status(502, "<html>Bad Gateway</html>".into()))
        );
        assert!(matches!(
            parse_answer(200, b"hello"),
            Err(PromError::Answer(_))
        ));
    }

    #[test]
    fn alerts_are_parsed() {
        let body = json!({"status": "success", "data": {"alerts": [
            {"labels": {"alertname": "HighErrors", "job": "web", "severity": "page"},
             "annotations": {"summary": "5xx above 5 %"}, "state": "firing",
             "activeAt": "2026-12-07T18:00:00Z", "value": "1e+00"}
        ]}});
        let data = parse_answer(200, body.to_string().as_bytes()).expect("success");
        #[derive(Deserialize)]
        struct Data {
            alerts: Vec<Alert>,
        }
        let alerts = serde_json::from_value::<Data>(data).expect("alerts").alerts;
        assert_eq!(alerts[0].labels["alertname"], "HighErrors");
        assert_eq!(alerts[0].state, "firing");
        assert_eq!(alerts[0].active_at.as_deref(), Some("2026-12-07T18:00:00Z"));
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            urlencoding(r#"sum(rate(x{job="a b"}[5m]))"#),
            "sum%28rate%28x%7Bjob%3D%22a%20b%22%7D%5B5m%5D%29%29"
        );
    }
}
