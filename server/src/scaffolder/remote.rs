//! Remote `url`s of the fetch actions (`fetch:plain`, `fetch:template` and their `:file`
//! forms): a folder or a file of another repository, read through Backlot's Git support.
//!
//! A relative `url` is a path in the template's own folder ([`super::actions::TemplateFiles`]);
//! one with `://` names a repository, a branch and a path in one of the forms
//! [`RemoteRef::parse`] reads (`https://github.com/org/repo/tree/main/skeleton`,
//! `…/blob/main/file.txt`, GitLab's `/-/tree/`, a plain `….git` URL). The branch is fetched into
//! the repository's mirror (`git/mirror.rs`: shallow, one per repository, with the host's
//! `git.credentials`, the size limits of the `git` section), then the files are read from that
//! commit's tree in-process (`git/tree.rs`). Other schemes, `file://` among them, are refused
//! naming the input: a template does not read the server's disk.

use super::actions::ActionError;
use crate::git::spec::RemoteRef;
use crate::git::tree::RepoTree;
use crate::git::{GitSource, GitSpec};
use std::sync::Arc;

/// Where a fetch action's `url` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchUrl {
    /// A path in the template's folder (checked: it never leaves it).
    Local(String),
    Remote(RemoteRef),
}

impl FetchUrl {
    /// Reads a fetch action's `url`.
    pub fn parse(url: &str) -> Result<FetchUrl, ActionError> {
        if url.contains("://") {
            return RemoteRef::parse(url)
                .map(FetchUrl::Remote)
                .map_err(|e| ActionError::Input(format!("url: {e}")));
        }
        Ok(FetchUrl::Local(super::workspace::safe_path(url, true)?))
    }
}

/// What was read from a remote: the commit and the files (paths relative to the folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRead {
    pub commit: String,
    pub files: Vec<(String, Vec<u8>)>,
}

/// Reads remote folders and files through the server's Git support.
#[derive(Clone)]
pub struct RemoteFiles {
    git: Arc<GitSource>,
}

impl RemoteFiles {
    pub fn new(git: Arc<GitSource>) -> RemoteFiles {
        RemoteFiles { git }
    }

    /// The files under the folder `remote` names (or the one file, with `one_file`), at the
    /// head of its branch.
    pub async fn read(
        &self,
        remote: &RemoteRef,
        one_file: bool,
    ) -> Result<RemoteRead, ActionError> {
        let shown = remote.display_url();
        let failed = |e: &dyn std::fmt::Display| ActionError::Failed(format!("url: {shown}: {e}"));
        let spec =
            GitSpec::new(&remote.url, remote.branch.as_deref(), None).map_err(|e| failed(&e))?;
        let head = self
            .git
            .mirrors()
            .fetch(&spec, false)
            .await
            .map_err(|e| failed(&e))?;
        let max_blob = self.git.settings().max_file_kib.saturating_mul(1024);
        let (path, branch) = (remote.path.clone(), head.branch.clone());
        let (commit, at) = (head.commit.clone(), head.commit.clone());
        let files =
            tokio::task::spawn_blocking(move || -> Result<Vec<(String, Vec<u8>)>, String> {
                let tree = RepoTree::open(&head.mirror, &head.commit, max_blob)
                    .map_err(|e| e.to_string())?;
                if one_file {
                    if path.is_empty() {
                        return Err("names a folder (the repository's root), not a file".into());
                    }
                    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                    return Ok(vec![(name, tree.read(&path)?)]);
                }
                let prefix = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}/")
                };
                let mut out = Vec::new();
                for (file, id) in tree.files().map_err(|e| e.to_string())? {
                    if let Some(rel) = file.strip_prefix(&prefix) {
                        out.push((rel.to_string(), tree.blob(&file, id)?));
                    }
                }
                if out.is_empty() {
                    return Err(if path.is_empty() {
                        "the repository has no files".to_string()
                    } else {
                        format!("there is no folder {path:?}")
                    });
                }
                Ok(out)
            })
            .await
            .map_err(|e| failed(&e))?
            .map_err(|e| failed(&format!("{e} (branch {branch}, commit {at})")))?;
        Ok(RemoteRead { commit, files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::GitServer;
    use crate::git::GitSettings;
    use crate::scaffolder::actions::{ActionContext, Actions, TemplateFiles};
    use crate::scaffolder::workspace::Workspace;
    use crate::scaffolder::Renderer;
    use serde_json::{json, Value};

    /// A Git server with `templates` (and `acme/templates`, a GitHub-like path) holding a
    /// skeleton, a plain folder and single files.
    fn server() -> GitServer {
        let server = GitServer::start();
        for name in ["templates", "acme/templates"] {
            server.create(name).commit(
                &[
                    ("service/skeleton/README.md", Some("# ${{ values.name }}\n")),
                    (
                        "service/skeleton/src/lib.rs",
                        Some("pub fn ${{ values.name }}() {}\n"),
                    ),
                    ("other/x.txt", Some("${{ not rendered }}\n")),
                    ("LICENSE", Some("MIT ${{ values.name }}\n")),
                ],
                "templates",
            );
        }
        server
    }

    fn actions(data: &std::path::Path) -> Actions {
        let git = Arc::new(GitSource::new(data, GitSettings::default(), Vec::new()));
        let managed = crate::scaffolder::managed_git::ManagedGit {
            host: "backlot".into(),
            repos_dir: data.join("repos"),
            work_dir: data.join("tmp"),
            timeout: std::time::Duration::from_secs(20),
            http_base: None,
        };
        Actions::for_server(managed, Some(git))
    }

    /// Runs one action over `workspace`; its error, if any, and its log.
    async fn run(
        actions: &Actions,
        workspace: &mut Workspace,
        id: &str,
        input: Value,
    ) -> (Result<(), ActionError>, Vec<String>) {
        let (template, renderer) = (TemplateFiles::default(), Renderer::new());
        let mut log = Vec::new();
        let mut ctx = ActionContext {
            workspace,
            template: &template,
            renderer: &renderer,
            template_ref: "template:default/t",
            log: &mut log,
            task: None,
            step_id: "fetch",
        };
        let action = actions.get(id).expect("action").clone();
        let result = action.run(&mut ctx, &input).await.map(|_| ());
        (result, log)
    }

    fn text(w: &Workspace, path: &str) -> Option<String> {
        w.files()
            .get(path)
            .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
    }

    #[tokio::test]
    async fn fetch_actions_read_folders_and_files_of_other_repositories() {
        let mut server = server();
        let http = server.start_http();
        let data = tempfile::tempdir().unwrap();
        let actions = actions(data.path());
        let git_url = server.url("templates");
        let mut w = Workspace::default();

        // A skeleton from a plain repository URL with /tree/<branch>/<dir>, over git://.
        let (r, log) = run(
            &actions,
            &mut w,
            "fetch:template",
            json!({"url": format!("{git_url}/tree/main/service/skeleton"), "values": {"name": "shop"}}),
        )
        .await;
        r.unwrap();
        assert_eq!(text(&w, "README.md").as_deref(), Some("# shop\n"));
        assert_eq!(
            text(&w, "src/lib.rs").as_deref(),
            Some("pub fn shop() {}\n")
        );
        assert!(
            log.iter()
                .any(|l| l.contains("at commit") && l.contains("(2 files)")),
            "{log:?}"
        );

        // A GitHub-style web address (no .git) of the same layout, into a target folder.
        let github_like = format!(
            "git://127.0.0.1:{}/acme/templates/tree/main/service/skeleton",
            server.port
        );
        let (r, _) = run(
            &actions,
            &mut w,
            "fetch:template",
            json!({"url": github_like, "targetPath": "copy", "values": {"name": "web"}}),
        )
        .await;
        r.unwrap();
        assert_eq!(text(&w, "copy/README.md").as_deref(), Some("# web\n"));

        // A plain folder over smart HTTP, copied as it is.
        let (r, _) = run(
            &actions,
            &mut w,
            "fetch:plain",
            json!({"url": format!("{http}/templates.git/tree/main/other"), "targetPath": "vendor"}),
        )
        .await;
        r.unwrap();
        assert_eq!(
            text(&w, "vendor/x.txt").as_deref(),
            Some("${{ not rendered }}\n")
        );

        // Single files: /blob/<branch>/<path>, plain and rendered.
        let (r, _) = run(
            &actions,
            &mut w,
            "fetch:plain:file",
            json!({"url": format!("{http}/templates.git/blob/main/LICENSE"), "targetPath": "LICENSE"}),
        )
        .await;
        r.unwrap();
        assert_eq!(
            text(&w, "LICENSE").as_deref(),
            Some("MIT ${{ values.name }}\n")
        );
        let (r, _) = run(
            &actions,
            &mut w,
            "fetch:template:file",
            json!({"url": format!("{git_url}/blob/main/LICENSE"), "targetPath": "legal/LICENSE", "values": {"name": "shop"}}),
        )
        .await;
        r.unwrap();
        assert_eq!(text(&w, "legal/LICENSE").as_deref(), Some("MIT shop\n"));

        // The whole repository at its default branch.
        let mut whole = Workspace::default();
        let (r, _) = run(&actions, &mut whole, "fetch:plain", json!({"url": git_url})).await;
        r.unwrap();
        let mut paths: Vec<&String> = whole.paths().collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "LICENSE",
                "other/x.txt",
                "service/skeleton/README.md",
                "service/skeleton/src/lib.rs"
            ]
        );

        // A new commit on the branch is read by the next fetch.
        let repo = crate::git::testing::Repo {
            work: server.dir.path().join("work").join("templates"),
            bare: server.root.join("templates.git"),
        };
        repo.commit(&[("other/y.txt", Some("new\n"))], "more");
        let mut again = Workspace::default();
        let (r, _) = run(
            &actions,
            &mut again,
            "fetch:plain",
            json!({"url": format!("{git_url}/tree/main/other")}),
        )
        .await;
        r.unwrap();
        assert_eq!(text(&again, "y.txt").as_deref(), Some("new\n"));
    }

    #[tokio::test]
    async fn refused_and_missing_remote_urls_name_the_input() {
        let server = server();
        let data = tempfile::tempdir().unwrap();
        let actions = actions(data.path());
        let git_url = server.url("templates");
        let mut w = Workspace::default();
        let cases = [
            (
                "fetch:plain",
                json!({"url": format!("file://{}", server.root.join("templates.git").display())}),
                "file://",
            ),
            (
                "fetch:template",
                json!({"url": "ftp://example.com/a/b/tree/main/x"}),
                "ftp://",
            ),
            (
                "fetch:plain",
                json!({"url": format!("{git_url}/tree/main/nowhere")}),
                "no folder \"nowhere\"",
            ),
            (
                "fetch:plain",
                json!({"url": format!("{git_url}/tree/gone/other")}),
                "branch \"gone\" does not exist",
            ),
            (
                "fetch:plain",
                json!({"url": format!("{git_url}/blob/main/LICENSE")}),
                "names a file",
            ),
            (
                "fetch:plain:file",
                json!({"url": format!("{git_url}/blob/main/NOPE"), "targetPath": "x"}),
                "NOPE: no such file",
            ),
            (
                "fetch:plain:file",
                json!({"url": git_url.clone(), "targetPath": "x"}),
                "not a file",
            ),
        ];
        for (id, input, why) in cases {
            let (r, _) = run(&actions, &mut w, id, input.clone()).await;
            let msg = r.unwrap_err().to_string();
            assert!(msg.starts_with("url: "), "{input}: {msg}");
            assert!(msg.contains(why), "{input}: {msg}");
        }
        assert!(w.paths().next().is_none());

        // Without the server's Git support (a run that has none), remote URLs are refused.
        let (r, _) = run(
            &Actions::built_in(),
            &mut w,
            "fetch:plain",
            json!({"url": format!("{git_url}/tree/main/other")}),
        )
        .await;
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains("server's Git support"), "{msg}");
    }
}
