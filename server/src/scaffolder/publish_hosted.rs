//! `publish:github` and `publish:gitlab`: the task's workspace (or its `sourcePath` folder) as a
//! new repository on GitHub or GitLab, with Backstage's inputs and outputs.
//!
//! - The host comes from `repoUrl` (RepoUrlPicker's `github.com?owner=o&repo=r`; GitLab's owner
//!   may be `group/subgroup`). Its entry in `git.credentials` gives the token (`token` or
//!   `token_env`), the user name git sends it with (default `x-access-token` on GitHub, `oauth2`
//!   on GitLab) and the REST API's address (`api_base_url`, default `https://api.github.com` for
//!   github.com, `https://<host>/api/v3` for another GitHub host, `https://<host>/api/v4` for
//!   GitLab). A host without a token is refused before anything is asked.
//! - The repository is made through the REST API (GitHub: `GET /users/{owner}` tells an
//!   organisation from a user, then `POST /orgs/{owner}/repos` or `POST /user/repos`, then
//!   `PUT /repos/{owner}/{repo}/topics`; GitLab: `GET /namespaces/{owner}`, then
//!   `POST /projects`), with the discovery's HTTP client (`git/discovery/http.rs`: time limits,
//!   no redirects, the token scrubbed from every message).
//! - The files are pushed as one commit to the clone URL the API answered (http or https only),
//!   by git with the token in its environment (`http.extraHeader` through `GIT_CONFIG_*`), never
//!   on its command line, in the task's log, its events or its output.
//!
//! Errors name the host, `owner/repo` and the API's own words (GitHub's `errors[].message`,
//! GitLab's field messages). What Backstage also does and Backlot does not (yet): branch
//! protection, collaborators, repository variables and secrets, `setUserAsOwner`.

use super::actions::{required, string, Action, ActionContext, ActionError};
use super::managed_git::{Commit, ManagedGit, RepoName};
use super::publish::{source_files, DEFAULT_AUTHOR_EMAIL, DEFAULT_AUTHOR_NAME, DEFAULT_MESSAGE};
use crate::git::discovery::http::{encode_segment, Http, Page};
use crate::git::discovery::DiscoveryError;
use crate::git::mirror::Credential;
use crate::secret::Secret;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Backstage's default branch for both hosts.
const DEFAULT_BRANCH: &str = "master";
/// Backstage's default visibility.
const DEFAULT_VISIBILITY: &str = "private";

/// The host a publish action creates repositories on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Github,
    Gitlab,
}

impl Provider {
    fn action_id(self) -> &'static str {
        match self {
            Provider::Github => "publish:github",
            Provider::Gitlab => "publish:gitlab",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Provider::Github => "GitHub",
            Provider::Gitlab => "GitLab",
        }
    }

    /// The REST API of `host` when the credential names none.
    pub fn default_api(self, host: &str) -> String {
        match self {
            Provider::Github if host.eq_ignore_ascii_case("github.com") => {
                crate::git::discovery::GITHUB_API.to_string()
            }
            Provider::Github => format!("https://{host}/api/v3"),
            Provider::Gitlab => format!("https://{host}/api/v4"),
        }
    }

    /// The user name git sends the token with, when the credential names none.
    fn git_username(self) -> &'static str {
        match self {
            Provider::Github => "x-access-token",
            Provider::Gitlab => "oauth2",
        }
    }
}

/// `publish:github` or `publish:gitlab`.
pub struct PublishHosted {
    provider: Provider,
    /// `git.credentials`.
    credentials: Arc<Vec<Credential>>,
    /// Where the temporary folders of a push go, and how long one git command may take.
    git: ManagedGit,
}

impl PublishHosted {
    pub fn new(provider: Provider, credentials: Arc<Vec<Credential>>, git: ManagedGit) -> Self {
        Self {
            provider,
            credentials,
            git,
        }
    }
}

/// Who the repository is for, and how to reach its host.
struct Target {
    host: String,
    owner: String,
    repo: String,
    api: String,
    token: Secret,
    username: String,
}

impl Target {
    fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

/// What the API answered for the new repository.
#[derive(Debug, Clone, PartialEq)]
struct Created {
    /// Where git pushes.
    clone_url: String,
    remote_url: String,
    contents_url: String,
    project_id: Option<Value>,
}

/// What to create.
struct Wanted {
    visibility: String,
    description: Option<String>,
    topics: Vec<String>,
    branch: String,
    /// GitLab's `settings`, sent with the project as Backstage sends them.
    settings: Map<String, Value>,
}

/// RepoUrlPicker's `host?owner=o&repo=r`: the host, owner (`group/subgroup` allowed on GitLab)
/// and repository, each part a safe name.
fn parse_repo_url(
    provider: Provider,
    repo_url: &str,
) -> Result<(String, String, String), ActionError> {
    let bad = |why: String| ActionError::Input(format!("repoUrl: {repo_url:?} {why}"));
    let (host, query) = repo_url
        .split_once('?')
        .ok_or_else(|| bad("is not host?owner=…&repo=…".into()))?;
    let host = host.trim();
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(bad("does not start with a host name".into()));
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| bad(format!("has a bad query: {e}")))?;
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .ok_or_else(|| bad(format!("has no {key} (expected {host}?owner=…&repo=…)")))
    };
    let (owner, repo) = (get("owner")?, get("repo")?);
    let owner_parts: Vec<&str> = owner.split('/').collect();
    if provider == Provider::Github && owner_parts.len() > 1 {
        return Err(bad(format!(
            "names the owner {owner:?}; a GitHub owner is one name"
        )));
    }
    for part in owner_parts {
        RepoName::new(part, &repo).map_err(|e| ActionError::Input(e.to_string()))?;
    }
    Ok((host.to_ascii_lowercase(), owner, repo))
}

/// The API's explanation of a failure: GitHub's `message` with each `errors[].message` (or
/// `code` of `field`), GitLab's `message` as text or as its per-field messages, else `error`.
fn api_message(http: &Http, body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return http.message(body);
    };
    let mut parts = Vec::new();
    match json.get("message") {
        Some(Value::String(s)) => parts.push(s.clone()),
        Some(Value::Object(fields)) => {
            for (field, messages) in fields {
                let said = match messages {
                    Value::Array(list) => list
                        .iter()
                        .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_string),
                };
                parts.push(format!("{field} {said}"));
            }
        }
        _ => {}
    }
    for e in json
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let said = match (e.get("message"), e.get("field"), e.get("code")) {
            (Some(Value::String(m)), _, _) => m.clone(),
            (_, Some(Value::String(f)), Some(Value::String(c))) => format!("{f}: {c}"),
            _ => match e.as_str() {
                Some(s) => s.to_string(),
                None => continue,
            },
        };
        parts.push(said);
    }
    if parts.is_empty() {
        return http.message(body);
    }
    let text = parts.join("; ");
    // Through the client's trimming and scrubbing.
    http.message(json!({ "message": text }).to_string().as_bytes())
}

/// A transport failure (no answer, an answer too large) in words for the log.
fn unreachable(e: DiscoveryError) -> String {
    match e {
        DiscoveryError::Unreachable { url, reason, .. } => {
            format!("could not reach {url}: {reason}")
        }
        DiscoveryError::BadResponse { url, reason, .. } => format!("{url}: {reason}"),
        other => other.to_string(),
    }
}

impl PublishHosted {
    /// The credential of `host`, with its token: refused clearly when there is none.
    fn target(&self, host: String, owner: String, repo: String) -> Result<Target, ActionError> {
        let id = self.provider.action_id();
        let credential = self
            .credentials
            .iter()
            .find(|c| c.host.eq_ignore_ascii_case(&host))
            .ok_or_else(|| {
                ActionError::Input(format!(
                    "{id}: no credentials for {host}: add an entry with host: {host} and a token (token_env: …) to git.credentials"
                ))
            })?;
        let token = credential.resolve_token().ok_or_else(|| {
            ActionError::Input(format!(
                "{id}: git.credentials has no token for {host}{}",
                credential
                    .token_env
                    .as_ref()
                    .map(|v| format!(" (the variable {v} is not set)"))
                    .unwrap_or_default()
            ))
        })?;
        let api = credential
            .api_base_url
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| self.provider.default_api(&host))
            .trim_end_matches('/')
            .to_string();
        let username = credential
            .username
            .clone()
            .unwrap_or_else(|| self.provider.git_username().to_string());
        Ok(Target {
            host,
            owner,
            repo,
            api,
            token,
            username,
        })
    }

    /// Creates the repository through the API (blocking: run it on a blocking thread).
    /// Warnings (topics that could not be set) are pushed to `warnings`.
    fn create(
        provider: Provider,
        target: &Target,
        wanted: &Wanted,
        warnings: &mut Vec<String>,
    ) -> Result<Created, String> {
        let headers = match provider {
            Provider::Github => vec![
                ("Accept", "application/vnd.github+json".to_string()),
                ("X-GitHub-Api-Version", "2022-11-28".to_string()),
                ("Authorization", format!("Bearer {}", target.token.expose())),
            ],
            Provider::Gitlab => vec![
                ("Accept", "application/json".to_string()),
                ("PRIVATE-TOKEN", target.token.expose().to_string()),
            ],
        };
        let http = Http::new(
            provider.action_id(),
            &target.api,
            headers,
            Some(target.token.clone()),
        );
        let failed = |what: &str, url: &str, page: &Page| {
            format!(
                "{} {}: could not {what} {} ({url} answered HTTP {}: {})",
                provider.name(),
                target.host,
                target.full_name(),
                page.status,
                api_message(&http, &page.body)
            )
        };
        let ok = |page: &Page| (200..300).contains(&page.status);
        let field = |body: &Value, key: &str, url: &str| -> Result<String, String> {
            body.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    format!(
                        "{} {}: {url} answered without {key} for {}",
                        provider.name(),
                        target.host,
                        target.full_name()
                    )
                })
        };
        let parse = |page: &Page, url: &str| -> Result<Value, String> {
            serde_json::from_slice(&page.body).map_err(|e| {
                format!(
                    "{} {}: {url} answered something that is not JSON: {e}",
                    provider.name(),
                    target.host
                )
            })
        };
        match provider {
            Provider::Github => {
                let owner_url = format!("{}/users/{}", target.api, encode_segment(&target.owner));
                let page = http.get(&owner_url).map_err(unreachable)?;
                if page.status == 404 {
                    return Err(format!(
                        "GitHub {}: could not create {}: there is no user or organisation {:?} (GET {owner_url}: HTTP 404)",
                        target.host,
                        target.full_name(),
                        target.owner
                    ));
                }
                if !ok(&page) {
                    return Err(failed("look up the owner of", &owner_url, &page));
                }
                let org = parse(&page, &owner_url)?["type"] == "Organization";
                let private = wanted.visibility == "private";
                let mut body = json!({"name": target.repo, "private": private});
                if org {
                    body["visibility"] = json!(wanted.visibility);
                }
                if let Some(d) = &wanted.description {
                    body["description"] = json!(d);
                }
                let url = if org {
                    format!(
                        "{}/orgs/{}/repos",
                        target.api,
                        encode_segment(&target.owner)
                    )
                } else {
                    format!("{}/user/repos", target.api)
                };
                let page = http.send_json("POST", &url, &body).map_err(unreachable)?;
                if !ok(&page) {
                    return Err(failed("create", &url, &page));
                }
                let made = parse(&page, &url)?;
                let clone_url = field(&made, "clone_url", &url)?;
                let html_url = field(&made, "html_url", &url)?;
                if !wanted.topics.is_empty() {
                    let topics_url = format!(
                        "{}/repos/{}/{}/topics",
                        target.api,
                        encode_segment(&target.owner),
                        encode_segment(&target.repo)
                    );
                    let names: Vec<String> =
                        wanted.topics.iter().map(|t| t.to_lowercase()).collect();
                    match http.send_json("PUT", &topics_url, &json!({ "names": names })) {
                        Ok(p) if ok(&p) => {}
                        Ok(p) => warnings.push(format!(
                            "Skipping topics {}: HTTP {}: {}",
                            names.join(" "),
                            p.status,
                            api_message(&http, &p.body)
                        )),
                        Err(e) => warnings.push(format!(
                            "Skipping topics {}: {}",
                            names.join(" "),
                            unreachable(e)
                        )),
                    }
                }
                Ok(Created {
                    remote_url: clone_url.clone(),
                    contents_url: format!(
                        "{}/blob/{}",
                        html_url.trim_end_matches('/'),
                        wanted.branch
                    ),
                    clone_url,
                    project_id: None,
                })
            }
            Provider::Gitlab => {
                let ns_url = format!(
                    "{}/namespaces/{}",
                    target.api,
                    encode_segment(&target.owner)
                );
                let page = http.get(&ns_url).map_err(unreachable)?;
                if page.status == 404 {
                    return Err(format!(
                        "GitLab {}: could not create {}: the namespace {:?} is not found or the token cannot reach it (GET {ns_url}: HTTP 404)",
                        target.host,
                        target.full_name(),
                        target.owner
                    ));
                }
                if !ok(&page) {
                    return Err(failed("look up the namespace of", &ns_url, &page));
                }
                let namespace = parse(&page, &ns_url)?;
                let namespace_id = namespace.get("id").cloned().ok_or_else(|| {
                    format!(
                        "GitLab {}: {ns_url} answered without id for {:?}",
                        target.host, target.owner
                    )
                })?;
                let mut body = json!({
                    "namespace_id": namespace_id,
                    "name": target.repo,
                    "visibility": wanted.visibility,
                });
                if !wanted.topics.is_empty() {
                    body["topics"] = json!(wanted.topics);
                }
                if let Some(o) = body.as_object_mut() {
                    for (k, v) in &wanted.settings {
                        o.insert(k.clone(), v.clone());
                    }
                }
                let url = format!("{}/projects", target.api);
                let page = http.send_json("POST", &url, &body).map_err(unreachable)?;
                if !ok(&page) {
                    return Err(failed("create", &url, &page));
                }
                let made = parse(&page, &url)?;
                let clone_url = field(&made, "http_url_to_repo", &url)?;
                let remote_url = clone_url.trim_end_matches(".git").to_string();
                Ok(Created {
                    contents_url: format!("{remote_url}/-/blob/{}", wanted.branch),
                    remote_url,
                    clone_url,
                    project_id: made.get("id").cloned(),
                })
            }
        }
    }
}

/// A list of strings, or an error naming the input.
fn strings(input: &Value, key: &str) -> Result<Vec<String>, ActionError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ActionError::Input(format!("{key}: must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(ActionError::Input(format!(
            "{key}: must be a list of strings"
        ))),
    }
}

fn visibility<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, ActionError> {
    match string(input, key)? {
        None => Ok(None),
        Some(v @ ("private" | "internal" | "public")) => Ok(Some(v)),
        Some(v) => Err(ActionError::Input(format!(
            "{key}: {v:?} is not private, internal or public"
        ))),
    }
}

#[async_trait]
impl Action for PublishHosted {
    fn id(&self) -> &'static str {
        self.provider.action_id()
    }
    fn description(&self) -> &'static str {
        match self.provider {
            Provider::Github => {
                "Initializes a git repository of contents in workspace and publishes it to GitHub."
            }
            Provider::Gitlab => {
                "Initializes a git repository of the content in the workspace, and publishes it to GitLab."
            }
        }
    }
    fn input_schema(&self) -> Value {
        let common = json!({
            "repoVisibility": {"title": "Repository Visibility", "type": "string", "enum": ["private", "public", "internal"], "description": "Sets the visibility of the repository. The default value is 'private'."},
            "defaultBranch": {"title": "Default Branch", "type": "string", "description": "Sets the default branch on the repository. The default value is 'master'"},
            "gitCommitMessage": {"title": "Git Commit Message", "type": "string", "description": "Sets the commit message on the repository. The default value is 'initial commit'"},
            "gitAuthorName": {"title": "Default Author Name", "type": "string", "description": "Sets the default author name for the commit. The default value is 'Scaffolder'"},
            "gitAuthorEmail": {"title": "Default Author Email", "type": "string", "description": "Sets the default author email for the commit."},
            "sourcePath": {"title": "Source Path", "type": "string", "description": "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."},
            "topics": {"title": "Topics", "type": "array", "items": {"type": "string"}},
        });
        let mut properties = common.as_object().cloned().unwrap_or_default();
        match self.provider {
            Provider::Github => {
                properties.insert("repoUrl".into(), json!({"title": "Repository Location", "type": "string", "description": "Accepts the format 'github.com?repo=reponame&owner=owner' where 'reponame' is the new repository name and 'owner' is an organization or username"}));
                properties.insert(
                    "description".into(),
                    json!({"title": "Repository Description", "type": "string"}),
                );
            }
            Provider::Gitlab => {
                properties.insert("repoUrl".into(), json!({"title": "Repository Location", "type": "string", "description": "Accepts the format 'gitlab.com?repo=project_name&owner=group_name' where 'project_name' is the repository name and 'group_name' is a group or username"}));
                properties.insert("settings".into(), json!({"title": "Project settings", "type": "object", "description": "Additional project settings, based on https://docs.gitlab.com/ee/api/projects.html#create-project attributes", "properties": {
                    "path": {"type": "string"}, "description": {"type": "string"}, "topics": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"type": "string", "enum": ["private", "public", "internal"]},
                }}));
            }
        }
        json!({"type": "object", "required": ["repoUrl"], "properties": properties})
    }
    fn output_schema(&self) -> Value {
        let mut properties = json!({
            "remoteUrl": {"title": "A URL to the repository with the provider", "type": "string"},
            "repoContentsUrl": {"title": "A URL to the root of the repository", "type": "string"},
            "commitHash": {"title": "The git commit hash of the initial commit", "type": "string", "examples": ["0000000000000000000000000000000000000000"]},
        });
        match self.provider {
            Provider::Github => {
                properties["remoteUrl"]["examples"] = json!(["https://github.com/owner/repo.git"]);
                properties["repoContentsUrl"]["examples"] =
                    json!(["https://github.com/owner/repo/blob/master"]);
            }
            Provider::Gitlab => {
                properties["remoteUrl"]["examples"] = json!(["https://gitlab.com/group/repo"]);
                properties["repoContentsUrl"]["examples"] =
                    json!(["https://gitlab.com/group/repo/-/blob/master"]);
                properties["projectId"] =
                    json!({"title": "The ID of the project", "type": "number", "examples": [0]});
            }
        }
        json!({"type": "object", "properties": properties})
    }
    fn supports_dry_run(&self) -> bool {
        false
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let provider = self.provider;
        let (host, owner, repo) = parse_repo_url(provider, required(input, "repoUrl")?)?;
        let settings = match input.get("settings") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(s)) if provider == Provider::Gitlab => s.clone(),
            Some(_) if provider == Provider::Gitlab => {
                return Err(ActionError::Input("settings: must be an object".into()))
            }
            Some(_) => Map::new(),
        };
        let settings_value = Value::Object(settings.clone());
        let vis = match visibility(&settings_value, "visibility")? {
            Some(v) => v.to_string(),
            None => visibility(input, "repoVisibility")?
                .unwrap_or(DEFAULT_VISIBILITY)
                .to_string(),
        };
        let branch = string(input, "defaultBranch")?.unwrap_or(DEFAULT_BRANCH);
        if !crate::git::spec::valid_branch(branch) {
            return Err(ActionError::Input(format!(
                "defaultBranch: {branch:?} is not a valid branch name"
            )));
        }
        let files = source_files(ctx, input)?;
        let commit = Commit {
            branch,
            message: string(input, "gitCommitMessage")?.unwrap_or(DEFAULT_MESSAGE),
            author_name: string(input, "gitAuthorName")?.unwrap_or(DEFAULT_AUTHOR_NAME),
            author_email: string(input, "gitAuthorEmail")?.unwrap_or(DEFAULT_AUTHOR_EMAIL),
            description: None,
        };
        let wanted = Wanted {
            description: string(input, "description")?.map(str::to_string),
            topics: strings(input, "topics")?,
            branch: branch.to_string(),
            settings,
            visibility: vis,
        };
        let target = Arc::new(self.target(host, owner, repo)?);
        ctx.log.push(format!(
            "Creating the {} repository {} on {} ({})",
            wanted.visibility,
            target.full_name(),
            target.host,
            target.api
        ));
        // The blocking client runs on a blocking thread.
        let (created, warnings) = {
            let target = target.clone();
            tokio::task::spawn_blocking(move || {
                let mut warnings = Vec::new();
                let created = Self::create(provider, &target, &wanted, &mut warnings);
                (created, warnings)
            })
            .await
            .map_err(|e| ActionError::Failed(format!("the API call stopped: {e}")))?
        };
        ctx.log.extend(warnings);
        let created = created.map_err(ActionError::Failed)?;
        if !(created.clone_url.starts_with("https://") || created.clone_url.starts_with("http://"))
        {
            return Err(ActionError::Failed(format!(
                "{} {}: the API answered the clone URL {:?} for {}; only http(s) URLs are pushed to",
                provider.name(),
                target.host,
                crate::git::url::redact_url(&created.clone_url),
                target.full_name()
            )));
        }
        ctx.log.push(format!(
            "Pushing {} files to {} (branch {branch})",
            files.len(),
            crate::git::url::redact_url(&created.clone_url)
        ));
        let env = {
            use base64::Engine;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                target.username,
                target.token.expose()
            ));
            vec![
                ("GIT_CONFIG_COUNT".to_string(), Secret::new("1")),
                (
                    "GIT_CONFIG_KEY_0".to_string(),
                    Secret::new("http.extraHeader"),
                ),
                (
                    "GIT_CONFIG_VALUE_0".to_string(),
                    Secret::new(format!("Authorization: Basic {basic}")),
                ),
                ("GIT_ALLOW_PROTOCOL".to_string(), Secret::new("http:https")),
            ]
        };
        let hash = self
            .git
            .push_new(files, &commit, &created.clone_url, &env)
            .await
            .map_err(|e| {
                let text = e.to_string().replace(target.token.expose(), "<redacted>");
                ActionError::Failed(format!(
                    "{} {}: the repository {} was created ({}), but the push failed: {text}",
                    provider.name(),
                    target.host,
                    target.full_name(),
                    created.remote_url
                ))
            })?;
        tracing::info!(action = provider.action_id(), host = %target.host, repository = %target.full_name(), commit = %hash, "repository published");
        ctx.log
            .push(format!("Published {} at {hash}", created.remote_url));
        let mut out = Map::new();
        out.insert("remoteUrl".into(), Value::String(created.remote_url));
        out.insert(
            "repoContentsUrl".into(),
            Value::String(created.contents_url),
        );
        if let Some(id) = created.project_id {
            out.insert("projectId".into(), id);
        }
        out.insert("commitHash".into(), Value::String(hash));
        Ok(out)
    }
}

#[cfg(test)]
#[path = "publish_hosted_tests.rs"]
mod tests;
