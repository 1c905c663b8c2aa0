//! `publish:git`: the task's workspace (or one folder of it) as a new repository of the Git host
//! Backlot manages ([`super::managed_git`]), with the input of Backstage's publish actions
//! (`repoUrl`, `description`, `defaultBranch`, `sourcePath`, `gitCommitMessage`,
//! `gitAuthorName`, `gitAuthorEmail`) and their output (`remoteUrl`, `repoContentsUrl`,
//! `commitHash`). It reaches outside the workspace, so a dry-run skips it.

use super::actions::{required, string, Action, ActionContext, ActionError};
use super::managed_git::{Commit, ManagedGit, ManagedGitError, RepoName};
use super::workspace::{safe_path, WorkspaceFile};
use async_trait::async_trait;
use serde_json::{json, Map, Value};

/// Backstage's defaults for the commit.
const DEFAULT_BRANCH: &str = "main";
pub(super) const DEFAULT_MESSAGE: &str = "initial commit";
pub(super) const DEFAULT_AUTHOR_NAME: &str = "Scaffolder";
pub(super) const DEFAULT_AUTHOR_EMAIL: &str = "scaffolder@backstage.io";

pub struct PublishGit {
    git: ManagedGit,
}

impl PublishGit {
    pub fn new(git: ManagedGit) -> Self {
        Self { git }
    }
}

impl From<ManagedGitError> for ActionError {
    fn from(e: ManagedGitError) -> Self {
        match e {
            ManagedGitError::Input(m) => ActionError::Input(m),
            ManagedGitError::Exists(m) | ManagedGitError::Failed(m) => ActionError::Failed(m),
        }
    }
}

/// The files a publish action pushes: the workspace, or the folder `sourcePath` names, with
/// paths relative to it.
pub(super) fn source_files(
    ctx: &ActionContext<'_>,
    input: &Value,
) -> Result<Vec<(String, WorkspaceFile)>, ActionError> {
    let source = match string(input, "sourcePath")? {
        None => String::new(),
        Some(p) => safe_path(p, true)?,
    };
    let files: Vec<_> = ctx
        .workspace
        .under(&source)
        .map(|(path, file)| {
            let rel = if source.is_empty() {
                path.clone()
            } else {
                path[source.len() + 1..].to_string()
            };
            (rel, file.clone())
        })
        .collect();
    if files.is_empty() && !source.is_empty() {
        return Err(ActionError::Input(format!(
            "sourcePath: the workspace has no files under {source:?}"
        )));
    }
    Ok(files)
}

#[async_trait]
impl Action for PublishGit {
    fn id(&self) -> &'static str {
        "publish:git"
    }
    fn description(&self) -> &'static str {
        "Initializes a git repository of the content in the workspace, and publishes it to the Git host Backlot manages."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["repoUrl"], "properties": {
            "repoUrl": {"type": "string", "title": "Repository Location", "description": format!("Accepts the format '{}?owner=<owner>&repo=<repo>' (the Git host Backlot manages)", self.git.host)},
            "description": {"type": "string", "title": "Repository Description"},
            "defaultBranch": {"type": "string", "title": "Default Branch", "description": "Sets the default branch on the repository. The default value is 'main'"},
            "sourcePath": {"type": "string", "title": "Source Path", "description": "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."},
            "gitCommitMessage": {"type": "string", "title": "Git Commit Message", "description": "Sets the commit message on the repository. The default value is 'initial commit'"},
            "gitAuthorName": {"type": "string", "title": "Default Author Name", "description": "Sets the default author name for the commit. The default value is 'Scaffolder'"},
            "gitAuthorEmail": {"type": "string", "title": "Default Author Email", "description": "Sets the default author email for the commit. The default value is 'scaffolder@backstage.io'"},
        }})
    }
    fn output_schema(&self) -> Value {
        let example = RepoName {
            owner: "owner".into(),
            repo: "repo".into(),
        };
        json!({"type": "object", "properties": {
            "remoteUrl": {"type": "string", "title": "A URL to the repository with the provider", "examples": [self.git.clone_url(&example)]},
            "repoContentsUrl": {"type": "string", "title": "A URL to the root of the repository", "examples": [self.git.contents_url(&example, DEFAULT_BRANCH)]},
            "commitHash": {"type": "string", "title": "The git commit hash of the initial commit", "examples": ["0000000000000000000000000000000000000000"]},
        }})
    }
    fn supports_dry_run(&self) -> bool {
        false
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let name = self.git.parse_repo_url(required(input, "repoUrl")?)?;
        let files = source_files(ctx, input)?;
        let branch = string(input, "defaultBranch")?.unwrap_or(DEFAULT_BRANCH);
        let commit = Commit {
            branch,
            message: string(input, "gitCommitMessage")?.unwrap_or(DEFAULT_MESSAGE),
            author_name: string(input, "gitAuthorName")?.unwrap_or(DEFAULT_AUTHOR_NAME),
            author_email: string(input, "gitAuthorEmail")?.unwrap_or(DEFAULT_AUTHOR_EMAIL),
            description: string(input, "description")?,
        };
        ctx.log.push(format!(
            "Publishing {} files to {name} on {} (branch {branch})",
            files.len(),
            self.git.host
        ));
        let published = self.git.publish(&name, files, &commit).await?;
        ctx.log.push(format!(
            "Published {} at {}",
            published.remote_url, published.commit
        ));
        let mut out = Map::new();
        out.insert("remoteUrl".into(), Value::String(published.remote_url));
        out.insert(
            "repoContentsUrl".into(),
            Value::String(published.repo_contents_url),
        );
        out.insert("commitHash".into(), Value::String(published.commit));
        Ok(out)
    }
}
