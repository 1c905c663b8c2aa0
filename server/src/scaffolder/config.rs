//! The `scaffolder:` section of the config: how tasks run, and the Git host Backlot manages
//! itself (bare repositories under a folder, where `publish:git` creates repositories, so the
//! demo needs no account anywhere).

use super::tasks::TaskSettings;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScaffolderSettings {
    /// Tasks one process runs at once.
    pub concurrency: usize,
    /// A task running longer than this is stopped and failed.
    pub task_timeout_secs: u64,
    /// The Git host whose repositories Backlot keeps itself.
    pub managed_git: ManagedGitSettings,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ManagedGitSettings {
    /// The host name templates use for it (`RepoUrlPicker`'s `allowedHosts`, the `host` of
    /// `repoUrl: backlot?owner=team&repo=service`).
    pub host: String,
    /// Where its bare repositories live (`<owner>/<repo>.git`); default `<data_dir>/repos`.
    pub dir: Option<PathBuf>,
    /// The address git clients reach this server at: clone URLs are
    /// `<base_url>/git/<owner>/<repo>.git` (served read-only). Default: `auth.base_url`, else
    /// `http://<addr>`.
    pub base_url: Option<String>,
}

impl Default for ScaffolderSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            task_timeout_secs: 600,
            managed_git: ManagedGitSettings::default(),
        }
    }
}

impl Default for ManagedGitSettings {
    fn default() -> Self {
        Self {
            host: "backlot".into(),
            dir: None,
            base_url: None,
        }
    }
}

impl ScaffolderSettings {
    /// The worker's settings; `exclusive` when no other process shares the database (SQLite).
    pub fn task_settings(&self, exclusive: bool) -> TaskSettings {
        TaskSettings {
            concurrency: self.concurrency.max(1),
            task_timeout: Duration::from_secs(self.task_timeout_secs.max(1)),
            exclusive,
            ..TaskSettings::default()
        }
    }

    /// The folder of the managed Git host's repositories.
    pub fn repos_dir(&self, data_dir: &Path) -> PathBuf {
        self.managed_git
            .dir
            .clone()
            .unwrap_or_else(|| data_dir.join("repos"))
    }
}
