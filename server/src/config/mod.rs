//! Configuration: one YAML file (`--config`, or `backlot.yaml` when present) with environment
//! overrides (`BACKLOT_ADDR`, `BACKLOT_DATABASE_URL` or `DATABASE_URL`, `BACKLOT_DATA_DIR`,
//! `BACKLOT_LOG`, `BACKLOT_FILE_ROOTS`, `BACKLOT_WEBHOOK_SECRET`, `BACKLOT_AUTH_BASE_URL`, `BACKLOT_POLICY_FILE`, `BACKLOT_AUDIT_RETENTION_DAYS`, …). Every setting has a default, so no file is needed.

use crate::catalog::OrphanStrategy;
use crate::secret::{Secret, SecretUrl};
use crate::util::absolute;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{0}")]
    Env(String),
    #[error("{0}")]
    Auth(String),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub addr: String,
    pub database: DatabaseConfig,
    /// Where the SQLite database and the demo files live.
    pub data_dir: PathBuf,
    /// Log filter, e.g. `info` or `backlot=debug,sqlx=warn`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    pub catalog: CatalogConfig,
    /// Git locations: mirrors, schedule, limits, credentials, webhook secret.
    pub git: crate::git::GitSettings,
    /// Clusters whose workloads are matched to catalog entities.
    pub kubernetes: crate::k8s::KubeSettings,
    /// Sign-in (OpenID Connect); absent: every request is the guest.
    pub auth: Option<crate::auth::AuthSettings>,
    /// Permissions: the policy file (none: the built-in default).
    pub policy: crate::policy::PolicySettings,
    /// The audit log: how long events are kept.
    pub audit: crate::audit::AuditSettings,
    /// Software templates: how tasks run, the managed Git host.
    pub scaffolder: crate::scaffolder::config::ScaffolderSettings,
    /// Links to dashboards, logs, traces, on-call and CI, from templates.
    pub observability: crate::observability::ObservabilitySettings,
    /// Scorecards: checks over catalog facts in levels (absent: none, or the demo's with the
    /// demo organisation; `[]` turns those off). More can be catalog entities of kind
    /// `Scorecard`.
    pub scorecards: Option<Vec<crate::scorecards::ScorecardConfig>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`; default: SQLite in the data directory. It may hold a
    /// password, so it is shown only with the password replaced.
    pub url: Option<SecretUrl>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    pub locations: Vec<LocationConfig>,
    /// Directories that file locations registered through the API may read.
    pub file_roots: Vec<PathBuf>,
    /// What happens to entities no location emits any more: `delete` or `keep` (marked orphan).
    pub orphans: OrphanStrategy,
    pub refresh_interval_secs: u64,
    /// Load the demo organisation: `auto` (when no locations are configured), `always`, `never`.
    pub demo: DemoMode,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DemoMode {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    #[serde(rename = "type", default = "file_type")]
    pub location_type: String,
    pub target: String,
    /// Git: branch to read (default: the remote's default branch).
    #[serde(default)]
    pub branch: Option<String>,
    /// Git: path or glob inside the repository (default `**/catalog-info.yaml`).
    #[serde(default)]
    pub path: Option<String>,
}

fn file_type() -> String {
    "file".into()
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:3000".into(),
            database: DatabaseConfig::default(),
            data_dir: PathBuf::from("data"),
            log: "info".into(),
            log_format: "text".into(),
            catalog: CatalogConfig::default(),
            git: crate::git::GitSettings::default(),
            kubernetes: crate::k8s::KubeSettings::default(),
            auth: None,
            policy: crate::policy::PolicySettings::default(),
            audit: crate::audit::AuditSettings::default(),
            scaffolder: Default::default(),
            observability: Default::default(),
            scorecards: None,
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            locations: Vec::new(),
            file_roots: Vec::new(),
            orphans: OrphanStrategy::Delete,
            refresh_interval_secs: 60,
            demo: DemoMode::Auto,
        }
    }
}

impl Config {
    /// Reads the file (if any), applies the environment, and makes every path absolute.
    ///
    /// Relative paths in the config file are relative to the file's folder; relative paths from
    /// the environment (and the defaults, such as `data_dir: ./data`) are relative to the working
    /// directory. They are resolved here, once, so nothing later (child processes started in
    /// another folder, paths stored in the database or shown in responses) depends on where
    /// the process runs.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let cwd = std::env::current_dir()
            .map_err(|e| ConfigError::Env(format!("could not read the working directory: {e}")))?;
        let file = match path {
            Some(p) => Some(p),
            None if Path::new("backlot.yaml").exists() => Some(Path::new("backlot.yaml")),
            None => None,
        };
        let mut config = match file {
            Some(p) => {
                let mut config = Self::from_file(p)?;
                let base = cwd.join(p.parent().unwrap_or(Path::new("")));
                config.resolve_paths(&base);
                config
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.resolve_paths(&cwd);
        Ok(config)
    }

    /// Makes every relative path of the config absolute against `base` (lexically: `.` and `..`
    /// are folded, symbolic links left alone). Absolute paths stay as they are, so this is
    /// applied once for the file's paths and once more for the environment's.
    pub fn resolve_paths(&mut self, base: &Path) {
        let abs = |p: &mut PathBuf| *p = absolute(base, p);
        abs(&mut self.data_dir);
        self.catalog.file_roots.iter_mut().for_each(abs);
        for l in &mut self.catalog.locations {
            let target = l.target.strip_prefix("file:").unwrap_or(&l.target);
            if l.location_type == "file" && Path::new(target).is_relative() {
                l.target = absolute(base, Path::new(target))
                    .to_string_lossy()
                    .into_owned();
            }
        }
        if let Some(file) = &mut self.policy.file {
            abs(file);
        }
        if let Some(dir) = &mut self.git.mirror_dir {
            abs(dir);
        }
        if let Some(dir) = &mut self.scaffolder.managed_git.dir {
            abs(dir);
        }
        for c in &mut self.git.credentials {
            if let Some(key) = &mut c.ssh_key_file {
                abs(key);
            }
        }
        for d in &mut self.git.discovery {
            if let crate::git::discovery::DiscoverySource::BareDir { dir } = &mut d.source {
                abs(dir);
            }
        }
        for c in &mut self.kubernetes.clusters {
            [&mut c.kubeconfig, &mut c.token_file, &mut c.ca_file]
                .into_iter()
                .flatten()
                .for_each(abs);
        }
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_yaml(&text).map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_yaml(text: &str) -> Result<Config, String> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let config: Config = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        // Link templates are checked now, so a bad one stops the start with its name.
        config.observability.compile().map_err(|e| e.to_string())?;
        config
            .observability
            .prometheus
            .check()
            .map_err(|e| e.to_string())?;
        // So are scorecards: a bad rule names the scorecard, the check and the field.
        crate::scorecards::compile_config(config.scorecards.as_deref(), false)
            .map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Environment overrides; `get` is `std::env::var` outside tests.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("BACKLOT_ADDR") {
            self.addr = v;
        }
        if let Some(v) = get("BACKLOT_DATABASE_URL").or_else(|| get("DATABASE_URL")) {
            self.database.url = Some(SecretUrl::new(v));
        }
        if let Some(v) = get("BACKLOT_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("BACKLOT_LOG") {
            self.log = v;
        }
        if let Some(v) = get("BACKLOT_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("BACKLOT_FILE_ROOTS") {
            self.catalog.file_roots = v
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(v) = get("BACKLOT_REFRESH_INTERVAL_SECS") {
            self.catalog.refresh_interval_secs = v.parse().map_err(|_| {
                ConfigError::Env(format!(
                    "BACKLOT_REFRESH_INTERVAL_SECS must be a whole number of seconds, got \"{v}\""
                ))
            })?;
        }
        if let Some(v) = get("BACKLOT_WEBHOOK_SECRET").filter(|v| !v.is_empty()) {
            self.git.webhook_secret = Some(Secret::new(v));
        }
        if let Some(v) = get("BACKLOT_AUTH_BASE_URL").filter(|v| !v.is_empty()) {
            match &mut self.auth {
                Some(auth) => auth.base_url = v,
                None => {
                    return Err(ConfigError::Auth(
                        "BACKLOT_AUTH_BASE_URL is set but the config has no auth: section".into(),
                    ))
                }
            }
        }
        if let Some(v) = get("BACKLOT_POLICY_FILE").filter(|v| !v.is_empty()) {
            self.policy.file = Some(PathBuf::from(v));
        }
        if let Some(auth) = &mut self.auth {
            auth.validate(&get).map_err(ConfigError::Auth)?;
        }
        self.audit.apply_env(&get).map_err(ConfigError::Env)?;
        if let Some(v) = get("BACKLOT_PROMETHEUS_URL").filter(|v| !v.is_empty()) {
            let servers = &mut self.observability.prometheus.servers;
            if servers.is_empty() {
                servers.push(Default::default());
            }
            servers[0].url = v;
            self.observability
                .prometheus
                .check()
                .map_err(|e| ConfigError::Env(format!("BACKLOT_PROMETHEUS_URL: {e}")))?;
        }
        if let Some(v) = get("BACKLOT_ALERTMANAGER_URL").filter(|v| !v.is_empty()) {
            let prometheus = &mut self.observability.prometheus;
            prometheus
                .alertmanager
                .get_or_insert_with(Default::default)
                .url = v;
            prometheus
                .check()
                .map_err(|e| ConfigError::Env(format!("BACKLOT_ALERTMANAGER_URL: {e}")))?;
        }
        if let Some(v) = get("BACKLOT_DEMO") {
            self.catalog.demo = match v.as_str() {
                "auto" => DemoMode::Auto,
                "always" | "true" | "1" => DemoMode::Always,
                "never" | "false" | "0" => DemoMode::Never,
                _ => {
                    return Err(ConfigError::Env(format!(
                        "BACKLOT_DEMO must be auto, always or never, got \"{v}\""
                    )))
                }
            };
        }
        Ok(())
    }

    /// The database URL in use: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> SecretUrl {
        match &self.database.url {
            Some(u) => u.clone(),
            None => SecretUrl::new(format!(
                "sqlite://{}",
                self.data_dir.join("backlot.db").display()
            )),
        }
    }

    pub fn load_demo(&self) -> bool {
        match self.catalog.demo {
            DemoMode::Always => true,
            DemoMode::Never => false,
            DemoMode::Auto => self.catalog.locations.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let mut c = Config::from_yaml(
            "addr: 0.0.0.0:8080\ncatalog:\n  locations:\n    - target: ./catalog-info.yaml\n  orphans: keep\n",
        )
        .unwrap();
        assert_eq!(c.addr, "0.0.0.0:8080");
        assert_eq!(c.catalog.locations[0].location_type, "file");
        assert_eq!(c.catalog.orphans, OrphanStrategy::Keep);
        assert!(!c.load_demo());
        let env = |k: &str| match k {
            "DATABASE_URL" => Some("postgres://db/x".to_string()),
            "BACKLOT_FILE_ROOTS" => Some("/a:/b".to_string()),
            "BACKLOT_ADDR" => Some("127.0.0.1:9".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.database_url().expose(), "postgres://db/x");
        assert_eq!(
            c.catalog.file_roots,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(c.addr, "127.0.0.1:9");
    }

    /// Paths from the file are relative to the file; from the environment and the defaults,
    /// to the working directory; afterwards none is relative (issue 10: git was handed a
    /// relative mirror path while running in another folder).
    #[test]
    fn every_path_is_made_absolute_once() {
        let mut c = Config::from_yaml(
            "catalog:\n  locations:\n    - target: ./a/catalog-info.yaml\n    - target: file:b/*.yaml\n    - type: git\n      target: git://h/r.git\n  file_roots: [roots, /abs]\ngit:\n  mirror_dir: ../mirrors\nkubernetes:\n  clusters:\n    - kubeconfig: kube/config\n",
        )
        .unwrap();
        c.resolve_paths(Path::new("/etc/backlot"));
        let env = |k: &str| (k == "BACKLOT_DATA_DIR").then(|| "./var/../state".to_string());
        c.apply_env(env).unwrap();
        c.resolve_paths(Path::new("/home/me"));
        assert_eq!(c.data_dir, PathBuf::from("/home/me/state"));
        assert_eq!(
            c.catalog.locations[0].target,
            "/etc/backlot/a/catalog-info.yaml"
        );
        assert_eq!(c.catalog.locations[1].target, "/etc/backlot/b/*.yaml");
        assert_eq!(c.catalog.locations[2].target, "git://h/r.git");
        assert_eq!(
            c.catalog.file_roots,
            vec![PathBuf::from("/etc/backlot/roots"), PathBuf::from("/abs")]
        );
        assert_eq!(c.git.mirror_dir, Some(PathBuf::from("/etc/mirrors")));
        assert_eq!(
            c.kubernetes.clusters[0].kubeconfig,
            Some(PathBuf::from("/etc/backlot/kube/config"))
        );
        assert_eq!(
            c.database_url().expose(),
            "sqlite:///home/me/state/backlot.db"
        );

        let mut d = Config::default();
        d.resolve_paths(Path::new("/srv"));
        assert_eq!(d.data_dir, PathBuf::from("/srv/data"));
    }

    /// The policy file is relative to the config file; `BACKLOT_POLICY_FILE` to the working
    /// directory.
    #[test]
    fn the_policy_file_is_resolved_like_other_paths() {
        let mut c = Config::from_yaml(
            "policy:\n  file: ./policy.yaml\n  admins: [group:default/platform]\n",
        )
        .unwrap();
        c.resolve_paths(Path::new("/etc/backlot"));
        c.apply_env(|_| None).unwrap();
        c.resolve_paths(Path::new("/home/me"));
        assert_eq!(
            c.policy.file,
            Some(PathBuf::from("/etc/backlot/policy.yaml"))
        );
        assert_eq!(c.policy.admins, vec!["group:default/platform".to_string()]);
        let env = |k: &str| (k == "BACKLOT_POLICY_FILE").then(|| "p2.yaml".to_string());
        c.apply_env(env).unwrap();
        c.resolve_paths(Path::new("/home/me"));
        assert_eq!(c.policy.file, Some(PathBuf::from("/home/me/p2.yaml")));
        assert!(Config::from_yaml("policy:\n  fil: x\n").is_err());
    }

    /// The config shipped in deploy/kubernetes/backlot.yaml's ConfigMap is one the server takes.
    #[test]
    fn the_kubernetes_manifest_config_parses() {
        let manifests = include_str!("../../../deploy/kubernetes/backlot.yaml");
        let config_map = manifests
            .split("\n---")
            .find(|doc| doc.contains("kind: ConfigMap"))
            .expect("a ConfigMap");
        let value: serde_json::Value = yaml_serde::from_str(config_map).expect("yaml");
        let text = value["data"]["backlot.yaml"]
            .as_str()
            .expect("data.backlot.yaml");
        let config = Config::from_yaml(text).expect("the server accepts it");
        assert!(config.kubernetes.clusters[0].in_cluster);
        assert_eq!(
            config.data_dir,
            std::path::PathBuf::from("/var/lib/backlot")
        );
    }

    /// Every secret the config can hold is set (from the file, then from the environment), and
    /// the whole config printed with `{:?}` shows none of them.
    #[test]
    fn debug_output_shows_no_secret() {
        use crate::git::discovery::{DiscoverySource, Token};
        let mut c = Config::from_yaml(
            "database:\n  url: postgres://backlot:db-Pa55word@db.example.com/backlot\ngit:\n  webhook_secret: hook-s3cret\n  credentials:\n    - host: github.com\n      token: ghp_CredentialToken\n  discovery:\n    - name: acme\n      type: github\n      org: acme\n      token: ghp_DiscoveryToken\n",
        )
        .unwrap();
        // The secrets are there, to be used…
        assert_eq!(
            c.database_url().expose(),
            "postgres://backlot:db-Pa55word@db.example.com/backlot"
        );
        assert_eq!(
            c.git.webhook_secret.as_ref().map(Secret::expose),
            Some("hook-s3cret")
        );
        assert_eq!(
            c.git.credentials[0].token.as_ref().map(Secret::expose),
            Some("ghp_CredentialToken")
        );
        let DiscoverySource::Github {
            token: Token::Value(token),
            ..
        } = &c.git.discovery[0].source
        else {
            panic!("a GitHub discovery with a token");
        };
        assert_eq!(token.expose(), "ghp_DiscoveryToken");
        // …and never shown.
        let shown = format!("{c:?}");
        for secret in [
            "db-Pa55word",
            "hook-s3cret",
            "ghp_CredentialToken",
            "ghp_DiscoveryToken",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("postgres://backlot:***@db.example.com/backlot"),
            "{shown}"
        );

        let env = |k: &str| match k {
            "BACKLOT_DATABASE_URL" => Some("postgres://u:env-Pa55word@h/db".to_string()),
            "BACKLOT_WEBHOOK_SECRET" => Some("env-hook-s3cret".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.database_url().expose(), "postgres://u:env-Pa55word@h/db");
        let shown = format!("{c:?}");
        assert!(!shown.contains("env-Pa55word"), "{shown}");
        assert!(!shown.contains("env-hook-s3cret"), "{shown}");
    }

    #[test]
    fn defaults_and_errors_name_the_problem() {
        let c = Config::from_yaml("").unwrap();
        assert_eq!(c.database_url().expose(), "sqlite://data/backlot.db");
        assert!(c.load_demo());
        let err = Config::from_yaml("adress: x\n").unwrap_err();
        assert!(err.contains("adress"), "{err}");
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "BACKLOT_REFRESH_INTERVAL_SECS").then(|| "soon".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("BACKLOT_REFRESH_INTERVAL_SECS"));
    }

    #[test]
    fn the_auth_section_is_checked_at_load_and_its_url_overridden_by_the_environment() {
        let yaml = "auth:\n  base_url: http://127.0.0.1:3000\n  providers:\n    oidc:\n      issuer: https://id.example.com\n      client_id: backlot\n      client_secret_env: OIDC_SECRET\n";
        let env = |k: &str| match k {
            "OIDC_SECRET" => Some("oidc-s3cret".to_string()),
            "BACKLOT_AUTH_BASE_URL" => Some("https://portal.example.com".to_string()),
            _ => None,
        };
        let mut c = Config::from_yaml(yaml).unwrap();
        c.apply_env(env).unwrap();
        let auth = c.auth.as_ref().expect("auth");
        assert_eq!(auth.base_url, "https://portal.example.com");
        assert!(auth.secure_cookie());
        let shown = format!("{c:?}");
        assert!(!shown.contains("oidc-s3cret"), "{shown}");

        // The secret's variable unset: refused at load, naming it.
        let mut c = Config::from_yaml(yaml).unwrap();
        let err = c.apply_env(|_| None).unwrap_err().to_string();
        assert!(err.contains("OIDC_SECRET"), "{err}");
        // The URL override without a section is an error, not ignored.
        let err = Config::default()
            .apply_env(|k| (k == "BACKLOT_AUTH_BASE_URL").then(|| "https://p".to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no auth: section"), "{err}");
        // No section, no sign-in.
        let mut c = Config::default();
        c.apply_env(|_| None).unwrap();
        assert!(c.auth.is_none());
    }
}
