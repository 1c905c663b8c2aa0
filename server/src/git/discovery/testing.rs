//! Test support for the discovery sources: a tiny HTTP/1.1 server on loopback, recorded pages
//! and small helpers.

use super::{DiscoveredRepo, DiscoveryConfig};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub(super) const GITHUB_PAGE1: &[u8] =
    include_bytes!("../testdata/discovery/github-org-repos-page1.json");
pub(super) const GITHUB_PAGE2: &[u8] =
    include_bytes!("../testdata/discovery/github-org-repos-page2.json");
pub(super) const GITLAB_PAGE1: &[u8] =
    include_bytes!("../testdata/discovery/gitlab-group-projects-page1.json");
pub(super) const GITLAB_PAGE2: &[u8] =
    include_bytes!("../testdata/discovery/gitlab-group-projects-page2.json");

// ---- a tiny HTTP/1.1 server on loopback ----

#[derive(Debug, Clone)]
pub(super) struct Request {
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
}

impl Request {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

pub(super) fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

impl Reply {
    pub(super) fn with(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub(super) struct Server {
    pub(super) base: String,
    pub(super) requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub(super) fn targets(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.target.clone())
            .collect()
    }
}

/// Serves `handler(request, base URL)` on 127.0.0.1, one connection per request.
pub(super) fn serve(handler: impl Fn(&Request, &str) -> Reply + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (log, served_base) = (requests.clone(), base.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let target = line.split(' ').nth(1).unwrap_or("").to_string();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((n, v)) = h.trim_end().split_once(':') {
                    headers.push((n.trim().to_string(), v.trim().to_string()));
                }
            }
            let request = Request { target, headers };
            let r = handler(&request, &served_base);
            log.lock().unwrap().push(request);
            let mut out = format!("HTTP/1.1 {} X\r\n", r.status);
            out.push_str("Content-Type: application/json; charset=utf-8\r\n");
            out.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
            out.push_str("Connection: close\r\n");
            for (n, v) in &r.headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&r.body);
            let _ = stream.flush();
        }
    });
    Server { base, requests }
}

pub(super) fn config(yaml: &str) -> DiscoveryConfig {
    yaml_serde::from_str(yaml).unwrap()
}

pub(super) fn names(repos: &[DiscoveredRepo]) -> Vec<&str> {
    repos.iter().map(|r| r.name.as_str()).collect()
}
