//! The shared query layer: each (server, query, range, step) — and each server's alerts — is
//! asked of Prometheus at most once per step, however many pages and streams read it. Readers
//! of one key wait on one lock, so the first asks and the others read its answer; the answer
//! holds until the next step boundary. A failed ask keeps the last good answer, marked with
//! when it was good and why the last ask failed, and is not retried before the next step. A
//! page waits at most the server's timeout (plus one second for the blocking thread).

use super::client::{Alert, Points, Server};
use super::PromError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Ask {
    Range { query: String, range: u64 },
    Alerts,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    server: usize,
    ask: Ask,
    step: u64,
}

#[derive(Debug, Clone)]
enum Payload {
    Points(Arc<Points>),
    Alerts(Arc<Vec<Alert>>),
}

#[derive(Default)]
struct Entry {
    /// The step boundary (unix seconds) last asked for.
    asked_end: i64,
    last_good: Option<Payload>,
    /// Unix seconds of the last good answer.
    good_at: Option<i64>,
    error: Option<PromError>,
    read_at: Option<Instant>,
}

/// What a reader gets: the last good answer (if any) and, when the last ask failed, since when
/// answers are missing and why.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    pub value: Option<Arc<T>>,
    pub failed: Option<(Option<i64>, PromError)>,
}

/// Entries not read for this long are dropped.
const IDLE: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct QueryCache {
    entries: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Entry>>>>,
    /// Requests sent to Prometheus (for /metrics and the benchmark).
    asked: AtomicU64,
    last_sweep: Mutex<Option<Instant>>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl QueryCache {
    /// Requests sent to Prometheus since start-up.
    pub fn asked(&self) -> u64 {
        self.asked.load(Ordering::Relaxed)
    }

    fn entry(&self, key: Key) -> Arc<tokio::sync::Mutex<Entry>> {
        let Ok(mut entries) = self.entries.lock() else {
            return Arc::default();
        };
        if let Ok(mut last) = self.last_sweep.lock() {
            if last.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                *last = Some(Instant::now());
                entries.retain(|_, e| {
                    e.try_lock()
                        .map(|e| e.read_at.is_none_or(|t| t.elapsed() < IDLE))
                        .unwrap_or(true)
                });
            }
        }
        entries.entry(key).or_default().clone()
    }

    /// `query` over the last `range` seconds every `step` seconds (ending at the last step
    /// boundary).
    pub async fn range(
        &self,
        server_index: usize,
        server: &Arc<Server>,
        query: &str,
        range: u64,
        step: u64,
    ) -> Answer<Points> {
        let key = Key {
            server: server_index,
            ask: Ask::Range {
                query: query.to_string(),
                range,
            },
            step,
        };
        let (server, query) = (server.clone(), query.to_string());
        let answer = self
            .ask(key, server.timeout, step, move |end| {
                let start = end - range as i64;
                server
                    .query_range(&query, start, end, step)
                    .map(|p| Payload::Points(Arc::new(p)))
            })
            .await;
        Answer {
            value: match answer.0 {
                Some(Payload::Points(p)) => Some(p),
                _ => None,
            },
            failed: answer.1,
        }
    }

    /// The server's alerts, asked at most once per `step`.
    pub async fn alerts(
        &self,
        server_index: usize,
        server: &Arc<Server>,
        step: u64,
    ) -> Answer<Vec<Alert>> {
        let key = Key {
            server: server_index,
            ask: Ask::Alerts,
            step,
        };
        let server = server.clone();
        let answer = self
            .ask(key, server.timeout, step, move |_| {
                server.alerts().map(|a| Payload::Alerts(Arc::new(a)))
            })
            .await;
        Answer {
            value: match answer.0 {
                Some(Payload::Alerts(a)) => Some(a),
                _ => None,
            },
            failed: answer.1,
        }
    }

    async fn ask(
        &self,
        key: Key,
        timeout: Duration,
        step: u64,
        fetch: impl FnOnce(i64) -> Result<Payload, PromError> + Send + 'static,
    ) -> (Option<Payload>, Option<(Option<i64>, PromError)>) {
        let step = step.max(1) as i64;
        let now = now();
        let end = now - now.rem_euclid(step);
        let cell = self.entry(key);
        // Waiting for another reader's ask is bounded by that ask's own timeout.
        let mut entry = cell.lock().await;
        entry.read_at = Some(Instant::now());
        if entry.asked_end != end {
            entry.asked_end = end;
            self.asked.fetch_add(1, Ordering::Relaxed);
            let limit = timeout + Duration::from_secs(1);
            let result =
                match tokio::time::timeout(limit, tokio::task::spawn_blocking(move || fetch(end)))
                    .await
                {
                    Ok(Ok(result)) => result,
                    Ok(Err(e)) => Err(PromError::Unreachable(format!("the query's thread: {e}"))),
                    Err(_) => Err(PromError::Timeout(timeout)),
                };
            match result {
                Ok(payload) => {
                    entry.last_good = Some(payload);
                    entry.good_at = Some(now);
                    entry.error = None;
                }
                Err(e) => entry.error = Some(e),
            }
        }
        (
            entry.last_good.clone(),
            entry.error.clone().map(|e| (entry.good_at, e)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: &str) -> Key {
        Key {
            server: 0,
            ask: Ask::Range {
                query: query.into(),
                range: 3600,
            },
            // A day: no step boundary falls inside the test (but at midnight UTC).
            step: 86_400,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_readers_in_one_step_ask_once() {
        let cache = Arc::new(QueryCache::default());
        let calls = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..50)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .ask(key("up"), Duration::from_secs(2), 86_400, move |_| {
                            calls.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(50));
                            Ok(Payload::Points(Arc::new(vec![(1.0, 2.0)])))
                        })
                        .await
                })
            })
            .collect();
        for r in readers {
            let (value, failed) = r.await.expect("reader");
            assert!(matches!(value, Some(Payload::Points(p)) if p[0] == (1.0, 2.0)));
            assert!(failed.is_none());
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert_eq!(cache.asked(), 1);
    }

    #[tokio::test]
    async fn a_failure_is_kept_for_the_step_and_a_slow_server_is_cut_at_its_timeout() {
        let cache = QueryCache::default();
        let (value, failed) = cache
            .ask(key("down"), Duration::from_secs(1), 86_400, |_| {
                Err(PromError::Unreachable("connection refused".into()))
            })
            .await;
        assert!(value.is_none());
        assert_eq!(
            failed,
            Some((None, PromError::Unreachable("connection refused".into())))
        );
        // Not asked again within the step.
        let (_, failed) = cache
            .ask(key("down"), Duration::from_secs(1), 86_400, |_| {
                panic!("asked twice in one step")
            })
            .await;
        assert!(failed.is_some());
        let started = Instant::now();
        let (_, failed) = cache
            .ask(key("slow"), Duration::from_millis(100), 86_400, |_| {
                std::thread::sleep(Duration::from_secs(3));
                Ok(Payload::Points(Arc::default()))
            })
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(failed, Some((None, PromError::Timeout(_)))));
    }
}
