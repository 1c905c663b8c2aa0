//! Test helpers: bare repositories made by the tests, served on loopback by a real
//! `git daemon` (git://) and by `git http-backend` behind Python's CGI server (smart HTTP).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs git and returns its trimmed output; panics with git's error output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server on port {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A directory of bare repositories with a git daemon (and optionally smart HTTP) in front.
pub struct GitServer {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub port: u16,
    daemon: Option<Child>,
    http: Option<(Child, u16)>,
}

impl GitServer {
    pub fn start() -> GitServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("repos");
        std::fs::create_dir_all(&root).expect("mkdir");
        let mut server = GitServer {
            dir,
            root,
            port: free_port(),
            daemon: None,
            http: None,
        };
        server.start_daemon();
        server
    }

    /// (Re)starts the daemon on the same port.
    pub fn start_daemon(&mut self) {
        // `git-daemon` itself, not the `git daemon` wrapper: killing the wrapper would leave
        // the daemon serving.
        let exec_path = git(&self.root, &["--exec-path"]);
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={}", self.port))
            .arg(format!("--base-path={}", self.root.display()))
            .arg("--export-all")
            .arg("--reuseaddr")
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon");
        self.daemon = Some(child);
        wait_for_port(self.port);
    }

    /// Stops the daemon: the repositories become unreachable.
    pub fn stop_daemon(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Serves the same repositories over smart HTTP; returns the base URL (protocol v0; replace
    /// the last segment `git` by `git2` for v2).
    pub fn start_http(&mut self) -> String {
        let www = self.dir.path().join("www");
        let cgi = www.join("cgi-bin");
        std::fs::create_dir_all(&cgi).expect("mkdir");
        // Python's CGI handler does not pass the `Git-Protocol` header on, so `git` answers in
        // protocol v0 and `git2` is told to speak v2, as a server behind a real web server does.
        for (name, protocol) in [("git", ""), ("git2", "export GIT_PROTOCOL=version=2\n")] {
            let script = cgi.join(name);
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\nexport HOME=/tmp GIT_PROJECT_ROOT='{}' GIT_HTTP_EXPORT_ALL=1\nexport GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'\n{protocol}exec git http-backend\n",
                    self.root.display()
                ),
            )
            .expect("cgi script");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        // Python's CGI handler drops to `nobody` when run as root: let it read the repositories.
        let _ = Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(self.dir.path())
            .status();
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-W",
                "ignore",
                "-m",
                "http.server",
                "--cgi",
                "--bind",
                "127.0.0.1",
            ])
            .arg(port.to_string())
            .current_dir(&www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 http.server");
        self.http = Some((child, port));
        wait_for_port(port);
        format!("http://127.0.0.1:{port}/cgi-bin/git")
    }

    /// `git://127.0.0.1:PORT/NAME.git`
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }

    /// A new repository with a working clone to commit from.
    pub fn create(&self, name: &str) -> Repo {
        let bare = self.root.join(format!("{name}.git"));
        git(
            &self.root,
            &[
                "init",
                "--bare",
                "--quiet",
                "-b",
                "main",
                bare.to_str().unwrap_or_default(),
            ],
        );
        let work = self.dir.path().join("work").join(name);
        std::fs::create_dir_all(&work).expect("mkdir");
        git(&work, &["init", "--quiet", "-b", "main"]);
        git(
            &work,
            &["remote", "add", "origin", bare.to_str().unwrap_or_default()],
        );
        Repo { work, bare }
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop_daemon();
        if let Some((mut c, _)) = self.http.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A repository: files are written in its working clone, committed and pushed.
pub struct Repo {
    pub work: PathBuf,
    pub bare: PathBuf,
}

impl Repo {
    /// Writes (`Some`) or deletes (`None`) files, commits and pushes to `main`; returns the commit.
    pub fn commit(&self, files: &[(&str, Option<&str>)], message: &str) -> String {
        self.commit_to("main", files, message)
    }

    pub fn commit_to(&self, branch: &str, files: &[(&str, Option<&str>)], message: &str) -> String {
        for (path, content) in files {
            let p = self.work.join(path);
            match content {
                Some(c) => {
                    if let Some(d) = p.parent() {
                        std::fs::create_dir_all(d).expect("mkdir");
                    }
                    std::fs::write(&p, c).expect("write");
                }
                None => std::fs::remove_file(&p).expect("remove"),
            }
        }
        git(&self.work, &["add", "-A"]);
        git(
            &self.work,
            &["commit", "--quiet", "--allow-empty", "-m", message],
        );
        git(
            &self.work,
            &["push", "--quiet", "origin", &format!("HEAD:{branch}")],
        );
        git(&self.work, &["rev-parse", "HEAD"])
    }
}
