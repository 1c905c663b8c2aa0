//! One Prometheus server over its HTTP API (`/api/v1/query_range`, `/api/v1/alerts`), or one
//! Alertmanager over its API v2 (`/api/v2/alerts`): ureq on a blocking thread, with the
//! server's timeout, its credentials as a header (never logged), and the answers parsed into
//! series and alerts (Alertmanager's with their silenced or inhibited state).

use super::config::Credentials;
use super::PromError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Largest answer read (a week of one series at a fine step is well below).
const MAX_BODY: u64 = 8 * 1024 * 1024;

/// Which API a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Prometheus,
    Alertmanager,
}

/// One configured server.
pub struct Server {
    pub api: Api,
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

/// A firing or pending alert as `/api/v1/alerts` lists it; Alertmanager's alerts are read into
/// the same shape, their `state` one of `firing`, `silenced`, `inhibited`.
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
            api: Api::Prometheus,
            name,
            url,
            environments,
            clusters,
            timeout,
            credentials,
            agent: config.build().into(),
        }
    }

    /// An Alertmanager (its alerts only).
    pub fn alertmanager(
        name: String,
        url: &str,
        timeout: Duration,
        credentials: Credentials,
    ) -> Server {
        Server {
            api: Api::Alertmanager,
            ..Server::new(name, url, Vec::new(), Vec::new(), timeout, credentials)
        }
    }

    /// `GET {url}{path}` → the `data` of a successful answer.
    fn get(&self, path: &str) -> Result<serde_json::Value, PromError> {
        let (status, body) = self.fetch(path)?;
        parse_answer(status, &body)
    }

    /// `GET {url}{path}` → its status and body.
    fn fetch(&self, path: &str) -> Result<(u16, Vec<u8>), PromError> {
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
        Ok((status, body))
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

    /// Every alert the server's rules hold (firing and pending), or an Alertmanager's active,
    /// silenced and inhibited alerts.
    pub fn alerts(&self) -> Result<Vec<Alert>, PromError> {
        if self.api == Api::Alertmanager {
            let (status, body) =
                self.fetch("/api/v2/alerts?active=true&silenced=true&inhibited=true")?;
            return parse_alertmanager(status, &body);
        }
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

/// Alertmanager's `GET /api/v2/alerts` answer: a JSON array of alerts, each with its
/// `status` (`active`, `suppressed` by a silence or an inhibition, `unprocessed`); errors are
/// a status with a JSON string or text.
pub fn parse_alertmanager(status: u16, body: &[u8]) -> Result<Vec<Alert>, PromError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Status {
        #[serde(default)]
        state: String,
        #[serde(default)]
        silenced_by: Vec<String>,
        #[serde(default)]
        inhibited_by: Vec<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Gettable {
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
        #[serde(default)]
        starts_at: Option<String>,
        status: Status,
    }
    if !(200..300).contains(&status) {
        let message = serde_json::from_slice::<String>(body)
            .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string());
        return Err(PromError::Status(
            status,
            message.chars().take(200).collect(),
        ));
    }
    let alerts: Vec<Gettable> = serde_json::from_slice(body)
        .map_err(|e| PromError::Answer(format!("not an Alertmanager alerts answer: {e}")))?;
    Ok(alerts
        .into_iter()
        .map(|a| Alert {
            state: if !a.status.silenced_by.is_empty() {
                "silenced"
            } else if !a.status.inhibited_by.is_empty() {
                "inhibited"
            } else if a.status.state == "suppressed" {
                // Suppressed by neither: muted some other way (a time interval).
                "silenced"
            } else {
                "firing"
            }
            .to_string(),
            labels: a.labels,
            annotations: a.annotations,
            active_at: a.starts_at,
        })
        .collect())
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
    fn alertmanager_alerts_are_parsed_with_their_state() {
        let body = json!([
            {"labels": {"alertname": "A", "job": "web"}, "annotations": {"summary": "s"},
             "startsAt": "2026-12-07T18:00:00Z", "endsAt": "2026-12-07T19:00:00Z",
             "fingerprint": "f1", "receivers": [{"name": "r"}], "updatedAt": "2026-12-07T18:00:01Z",
             "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
            {"labels": {"alertname": "B"}, "annotations": {}, "startsAt": "2026-12-07T18:00:00Z",
             "status": {"state": "suppressed", "silencedBy": ["id-1"], "inhibitedBy": []}},
            {"labels": {"alertname": "C"}, "annotations": {},
             "status": {"state": "suppressed", "silencedBy": [], "inhibitedBy": ["f1"]}},
            {"labels": {"alertname": "D"}, "status": {"state": "unprocessed"}}
        ]);
        let alerts = parse_alertmanager(200, body.to_string().as_bytes()).expect("alerts");
        let states: Vec<&str> = alerts.iter().map(|a| a.state.as_str()).collect();
        assert_eq!(states, ["firing", "silenced", "inhibited", "firing"]);
        assert_eq!(alerts[0].labels["job"], "web");
        assert_eq!(alerts[0].annotations["summary"], "s");
        assert_eq!(alerts[0].active_at.as_deref(), Some("2026-12-07T18:00:00Z"));
        assert_eq!(
            parse_alertmanager(400, br#""active: invalid boolean""#),
            Err(PromError::Status(400, "active: invalid boolean".into()))
        );
        assert!(matches!(
            parse_alertmanager(200, b"{\"status\":\"success\"}"),
            Err(PromError::Answer(_))
        ));
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            urlencoding(r#"sum(rate(x{job="a b"}[5m]))"#),
            "sum%28rate%28x%7Bjob%3D%22a%20b%22%7D%5B5m%5D%29%29"
        );
    }
}
