//! Prometheus metrics, hand-rolled: a few counters and histograms behind atomics, rendered in
//! the text exposition format at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// (method, route template, status)
type RouteKey = (String, String, u16);

#[derive(Default)]
pub struct Metrics {
    entities: AtomicU64,
    refreshes: AtomicU64,
    entities_processed: AtomicU64,
    entities_written: AtomicU64,
    entities_removed: AtomicU64,
    refresh_duration: Mutex<Histogram>,
    /// (method, route, status class) → latency histogram.
    requests: Mutex<Vec<(RouteKey, Histogram)>>,
}

impl Metrics {
    pub fn set_entities(&self, n: usize) {
        self.entities.store(n as u64, Ordering::Relaxed);
    }

    pub fn record_refresh(&self, took: Duration, processed: usize, written: usize, removed: usize) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        self.entities_processed
            .fetch_add(processed as u64, Ordering::Relaxed);
        self.entities_written
            .fetch_add(written as u64, Ordering::Relaxed);
        self.entities_removed
            .fetch_add(removed as u64, Ordering::Relaxed);
        if let Ok(mut h) = self.refresh_duration.lock() {
            h.observe(took.as_secs_f64());
        }
    }

    /// `route` is the matched route template, never the raw path (bounded label values).
    pub fn record_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let key = (method.to_string(), route.to_string(), status);
        if let Ok(mut all) = self.requests.lock() {
            match all.iter_mut().find(|(k, _)| *k == key) {
                Some((_, h)) => h.observe(took.as_secs_f64()),
                None => {
                    let mut h = Histogram::default();
                    h.observe(took.as_secs_f64());
                    all.push((key, h));
                }
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, kind: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "backlot_catalog_entities",
            "Entities in the catalog.",
            "gauge",
            self.entities.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "backlot_ingestion_refreshes_total",
            "Location refreshes run.",
            "counter",
            self.refreshes.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "backlot_ingestion_entities_processed_total",
            "Entities read from locations.",
            "counter",
            self.entities_processed.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "backlot_ingestion_entities_written_total",
            "Entities written because they changed.",
            "counter",
            self.entities_written.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "backlot_ingestion_entities_removed_total",
            "Entities removed because no location emits them.",
            "counter",
            self.entities_removed.load(Ordering::Relaxed),
        );
        let _ = writeln!(out, "# HELP backlot_ingestion_refresh_duration_seconds Time to refresh one location.\n# TYPE backlot_ingestion_refresh_duration_seconds histogram");
        if let Ok(h) = self.refresh_duration.lock() {
            h.render(&mut out, "backlot_ingestion_refresh_duration_seconds", "");
        }
        // The golden signals' request rate and error ratio read this counter (README: "Golden
        // signals"); `code` is the status, as in Prometheus's own `http_requests_total`.
        let _ = writeln!(out, "# HELP backlot_http_requests_total HTTP requests answered, by route and status code.\n# TYPE backlot_http_requests_total counter");
        if let Ok(all) = self.requests.lock() {
            for ((method, route, status), h) in all.iter() {
                let _ = writeln!(
                    out,
                    "backlot_http_requests_total{{method=\"{method}\",route=\"{}\",code=\"{status}\"}} {}",
                    route.replace('"', "'"),
                    h.count
                );
            }
        }
        let _ = writeln!(out, "# HELP backlot_http_request_duration_seconds HTTP request latency by route.\n# TYPE backlot_http_request_duration_seconds histogram");
        if let Ok(all) = self.requests.lock() {
            for ((method, route, status), h) in all.iter() {
                let labels = format!(
                    "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                    route.replace('"', "'")
                );
                h.render(&mut out, "backlot_http_request_duration_seconds", &labels);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.set_entities(7);
        m.record_refresh(Duration::from_millis(3), 10, 2, 1);
        m.record_request(
            "GET",
            "/api/catalog/entities",
            200,
            Duration::from_micros(700),
        );
        let text = m.render();
        assert!(text.contains("backlot_catalog_entities 7\n"));
        assert!(text.contains("backlot_ingestion_entities_processed_total 10\n"));
        assert!(
            text.contains("backlot_ingestion_refresh_duration_seconds_bucket{le=\"0.005\"} 1\n")
        );
        assert!(
            text.contains("backlot_ingestion_refresh_duration_seconds_bucket{le=\"0.0025\"} 0\n")
        );
        assert!(text.contains("backlot_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/catalog/entities\",status=\"200\",le=\"0.001\"} 1\n"));
        assert!(text.contains("backlot_http_request_duration_seconds_count{method=\"GET\",route=\"/api/catalog/entities\",status=\"200\"} 1\n"));
        assert!(text.contains("# TYPE backlot_http_requests_total counter\nbacklot_http_requests_total{method=\"GET\",route=\"/api/catalog/entities\",code=\"200\"} 1\n"));
    }
}
