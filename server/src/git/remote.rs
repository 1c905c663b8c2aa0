//! Asks a remote where one branch points, in-process: the question a scheduled visit to an
//! unchanged repository asks, so that it costs one round trip and no `git` process.
//!
//! Speaks Git's wire protocol for `git://` (one TCP connection) and smart HTTP(S) (over the
//! pooled keep-alive connections of one [`ureq::Agent`], so GitHub is not asked for a TLS
//! handshake per repository). Protocol v2's `ls-refs` with a `ref-prefix` is used when the server
//! offers it; a v0 server's reference advertisement is read otherwise.
//!
//! This is only a fast path. Anything else — ssh, `file://`, a dumb HTTP server, an error, an
//! answer it cannot read — returns [`Lookup::Unsupported`] and the caller asks `git ls-remote`,
//! whose error messages are the ones the location's owner sees.

use crate::secret::Secret;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the remote said about a branch.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The branch points at this commit (hex), or does not exist (`None`).
    Head(Option<String>),
    /// The remote did not answer in time.
    TimedOut,
    /// Not asked, or the answer could not be read: ask `git`.
    Unsupported,
}

/// Largest answer read (a v0 advertisement lists every ref of the repository).
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// Where `refname` (`refs/heads/…`) points on the remote at `url`. `authorization` is an HTTP
/// `Authorization` header value for smart HTTP(S).
pub async fn lookup(
    agent: &ureq::Agent,
    url: &str,
    refname: &str,
    authorization: Option<Secret>,
    timeout: Duration,
) -> Lookup {
    let answer = if url.starts_with("git://") {
        tokio::time::timeout(timeout, git_protocol(url, refname)).await
    } else if (url.starts_with("https://") || url.starts_with("http://")) && !proxied() {
        let (agent, url, refname) = (agent.clone(), url.to_string(), refname.to_string());
        let ask = tokio::task::spawn_blocking(move || {
            smart_http(
                &agent,
                &url,
                &refname,
                authorization.as_ref().map(Secret::expose),
            )
        });
        match tokio::time::timeout(timeout, ask).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Ok(None),
            Err(elapsed) => Err(elapsed),
        }
    } else {
        return Lookup::Unsupported;
    };
    match answer {
        Ok(Some(head)) => Lookup::Head(head),
        Ok(None) => Lookup::Unsupported,
        Err(_) => Lookup::TimedOut,
    }
}

/// Whether the environment names an HTTP proxy: git applies it (with `no_proxy`) exactly as the
/// user expects, so smart HTTP is then left to git.
fn proxied() -> bool {
    ["http_proxy", "https_proxy", "all_proxy"]
        .iter()
        .any(|name| {
            std::env::var_os(name).is_some_and(|v| !v.is_empty())
                || std::env::var_os(name.to_ascii_uppercase()).is_some_and(|v| !v.is_empty())
        })
}

/// An agent for [`lookup`]: keep-alive pool, bounded waits, no redirects (a redirect could carry
/// credentials elsewhere; git's own handling then decides).
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .proxy(None)
        .user_agent(concat!("git/2.0 (backlot/", env!("CARGO_PKG_VERSION"), ")"))
        .build()
        .into()
}

/// `git://host[:port]/path`: one connection, protocol v2 asked for in the request's extra
/// parameters.
async fn git_protocol(url: &str, refname: &str) -> Option<Option<String>> {
    let rest = url.strip_prefix("git://")?;
    let (authority, path) = rest.split_at(rest.find('/')?);
    let address = if authority.rsplit_once(':').is_some_and(|(_, p)| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !p.contains(']')
    }) {
        authority.to_string()
    } else {
        format!("{authority}:9418")
    };
    let mut stream = tokio::net::TcpStream::connect(&address).await.ok()?;
    let mut request = Vec::new();
    pkt(
        &mut request,
        format!("git-upload-pack {path}\0host={authority}\0\0version=2\0").as_bytes(),
    );
    stream.write_all(&request).await.ok()?;
    let mut reader = tokio::io::BufReader::new(stream);
    let advertised = read_section(&mut reader).await?;
    let head = if is_v2(&advertised) {
        reader.get_mut().write_all(&ls_refs(refname)).await.ok()?;
        parse_refs(&read_section(&mut reader).await?, refname, false)?
    } else {
        let head = parse_refs(&advertised, refname, true)?;
        // Nothing wanted: a flush ends the conversation.
        let _ = reader.get_mut().write_all(b"0000").await;
        head
    };
    Some(head)
}

/// Smart HTTP: `GET info/refs` asking for v2, then `POST git-upload-pack` with `ls-refs` when
/// the server speaks v2; a v0 server's advertisement already holds the answer.
fn smart_http(
    agent: &ureq::Agent,
    url: &str,
    refname: &str,
    authorization: Option<&str>,
) -> Option<Option<String>> {
    let base = url.trim_end_matches('/');
    let mut get = agent
        .get(format!("{base}/info/refs?service=git-upload-pack"))
        .header("Git-Protocol", "version=2");
    if let Some(value) = authorization {
        get = get.header("Authorization", value);
    }
    let mut response = get.call().ok()?;
    let content_type = response.headers().get("content-type")?.to_str().ok()?;
    if content_type != "application/x-git-upload-pack-advertisement" {
        return None; // a dumb server: git knows what to do
    }
    let body = read_body(&mut response)?;
    let mut packets = Packets(&body);
    // v0 opens with a service line and a flush; v2 goes straight to its capabilities.
    let mut advertised = packets.section()?;
    if advertised.first().map(Vec::as_slice) == Some(b"# service=git-upload-pack\n".as_slice()) {
        advertised = packets.section()?;
    }
    if !is_v2(&advertised) {
        return parse_refs(&advertised, refname, true);
    }
    let mut post = agent
        .post(format!("{base}/git-upload-pack"))
        .header("Git-Protocol", "version=2")
        .header("Content-Type", "application/x-git-upload-pack-request")
        .header("Accept", "application/x-git-upload-pack-result");
    if let Some(value) = authorization {
        post = post.header("Authorization", value);
    }
    let mut response = post.send(&ls_refs(refname)[..]).ok()?;
    let body = read_body(&mut response)?;
    parse_refs(&Packets(&body).section()?, refname, false)
}

/// A response body, bounded.
fn read_body(response: &mut ureq::http::Response<ureq::Body>) -> Option<Vec<u8>> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
        .ok()
}

/// Appends one pkt-line.
fn pkt(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:04x}", data.len() + 4).as_bytes());
    out.extend_from_slice(data);
}

/// The v2 `ls-refs` command for exactly one ref (a prefix, filtered again on reading).
fn ls_refs(refname: &str) -> Vec<u8> {
    let mut out = Vec::new();
    pkt(&mut out, b"command=ls-refs\n");
    out.extend_from_slice(b"0001");
    pkt(&mut out, format!("ref-prefix {refname}\n").as_bytes());
    out.extend_from_slice(b"0000");
    out
}

fn is_v2(section: &[Vec<u8>]) -> bool {
    section.first().map(Vec::as_slice) == Some(b"version 2\n".as_slice())
}

/// Finds `refname` in a list of refs: `<oid> <name>[\0capabilities | attributes]`. `None` when
/// the server sent an error or something else.
fn parse_refs(section: &[Vec<u8>], refname: &str, v0: bool) -> Option<Option<String>> {
    for (i, line) in section.iter().enumerate() {
        let line = std::str::from_utf8(line).ok()?.trim_end_matches('\n');
        if line.starts_with("ERR ") {
            return None;
        }
        let line = if v0 && i == 0 {
            line.split('\0').next().unwrap_or(line)
        } else {
            line
        };
        let (oid, rest) = line.split_once(' ')?;
        if !(oid.len() == 40 || oid.len() == 64) || !oid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let name = rest.split(' ').next().unwrap_or(rest);
        if name == refname {
            return Some(Some(oid.to_string()));
        }
    }
    Some(None)
}

/// Pkt-lines from a buffer.
struct Packets<'a>(&'a [u8]);

impl Packets<'_> {
    /// Packets up to the next flush (or delimiter); `None` if malformed or cut short.
    fn section(&mut self) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        loop {
            let len = std::str::from_utf8(self.0.get(..4)?).ok()?;
            let len = usize::from_str_radix(len, 16).ok()?;
            if len < 4 {
                self.0 = &self.0[4..];
                return Some(out);
            }
            out.push(self.0.get(4..len)?.to_vec());
            self.0 = &self.0[len..];
        }
    }
}

/// Pkt-lines from a stream, up to the next flush.
async fn read_section<R: tokio::io::AsyncRead + Unpin>(reader: &mut R) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut total = 0u64;
    loop {
        let mut len = [0u8; 4];
        reader.read_exact(&mut len).await.ok()?;
        let len = usize::from_str_radix(std::str::from_utf8(&len).ok()?, 16).ok()?;
        if len < 4 {
            return Some(out);
        }
        total += len as u64;
        if total > MAX_ANSWER_BYTES {
            return None;
        }
        let mut data = vec![0u8; len - 4];
        reader.read_exact(&mut data).await.ok()?;
        out.push(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(lines: &[&str]) -> Vec<Vec<u8>> {
        lines.iter().map(|l| l.as_bytes().to_vec()).collect()
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn v0_advertisement_finds_the_exact_branch() {
        let refs = section(&[
            &format!("{A} HEAD\0multi_ack symref=HEAD:refs/heads/main agent=git/2.47\n"),
            &format!("{B} refs/heads/main-old\n"),
            &format!("{A} refs/heads/main\n"),
        ]);
        assert_eq!(
            parse_refs(&refs, "refs/heads/main", true),
            Some(Some(A.into()))
        );
        assert_eq!(parse_refs(&refs, "refs/heads/gone", true), Some(None));
    }

    #[test]
    fn v2_ls_refs_answer_and_errors() {
        let refs = section(&[&format!("{B} refs/heads/main symref-target:x\n")]);
        assert_eq!(
            parse_refs(&refs, "refs/heads/main", false),
            Some(Some(B.into()))
        );
        assert_eq!(parse_refs(&[], "refs/heads/main", false), Some(None));
        let err = section(&["ERR access denied\n"]);
        assert_eq!(parse_refs(&err, "refs/heads/main", false), None);
        let garbage = section(&["<html>\n"]);
        assert_eq!(parse_refs(&garbage, "refs/heads/main", false), None);
    }

    #[test]
    fn pkt_lines_round_trip_and_reject_truncation() {
        let mut body = Vec::new();
        pkt(&mut body, b"# service=git-upload-pack\n");
        body.extend_from_slice(b"0000");
        pkt(&mut body, b"version 2\n");
        pkt(&mut body, b"ls-refs=unborn\n");
        body.extend_from_slice(b"0000");
        let mut packets = Packets(&body);
        assert_eq!(
            packets.section(),
            Some(section(&["# service=git-upload-pack\n"]))
        );
        let caps = packets.section().expect("capabilities");
        assert!(is_v2(&caps));
        assert_eq!(packets.section(), None, "nothing left");
        assert_eq!(Packets(b"00ffshort").section(), None);
        assert_eq!(
            ls_refs("refs/heads/main"),
            b"0014command=ls-refs\n0001001fref-prefix refs/heads/main\n0000".to_vec()
        );
    }

    #[tokio::test]
    async fn other_transports_are_left_to_git() {
        let agent = agent(Duration::from_secs(1));
        for url in [
            "ssh://git@example.com/a.git",
            "git@example.com:a.git",
            "file:///tmp/a.git",
        ] {
            assert_eq!(
                lookup(&agent, url, "refs/heads/main", None, Duration::from_secs(1)).await,
                Lookup::Unsupported
            );
        }
    }
}
