//! The `kubernetes` section of the config: which clusters to watch and how to reach them.
//!
//! Each cluster is one of: a context of a kubeconfig file, the in-cluster service account, or an
//! API URL with a bearer token (from a file or an environment variable) and a CA. With no cluster
//! configured, the current context of `$KUBECONFIG` (or `~/.kube/config`) is used when there is
//! one, as kubectl does. Every way ends in a [`kube::Config`]; tokens stay inside it.

use super::KubeError;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KubeSettings {
    pub clusters: Vec<ClusterConfig>,
    /// Use `$KUBECONFIG`/`~/.kube/config` when no cluster is configured (default true).
    pub auto_detect: bool,
    /// Events kept per object (newest first).
    pub events_per_object: usize,
}

impl Default for KubeSettings {
    fn default() -> Self {
        Self {
            clusters: Vec::new(),
            auto_detect: true,
            events_per_object: 10,
        }
    }
}

#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Shown on pages; unique. Default: the context's name.
    pub name: Option<String>,
    /// `dev`, `staging`, `production`…; default: the name.
    pub environment: Option<String>,
    /// A kubeconfig file …
    pub kubeconfig: Option<PathBuf>,
    /// … and one of its contexts (default: its current context).
    pub context: Option<String>,
    /// The service account of the pod Backlot runs in.
    pub in_cluster: bool,
    /// An API server URL …
    pub url: Option<String>,
    /// … with a bearer token from a file (re-read when it rotates) …
    pub token_file: Option<PathBuf>,
    /// … or from an environment variable …
    pub token_env: Option<String>,
    /// … and the CA that signed its certificate (PEM file).
    pub ca_file: Option<PathBuf>,
    /// Do not check the server's certificate (test clusters only).
    pub insecure_skip_tls_verify: bool,
    /// The ArgoCD UI that manages this cluster's Applications (`https://argocd.example.com`):
    /// the Delivery section links each Application to its page there. Optional.
    pub argocd_url: Option<String>,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Nothing secret is held here (tokens come from files or the environment), but keep
        // the habit: list what identifies the cluster only.
        f.debug_struct("ClusterConfig")
            .field("name", &self.name)
            .field("environment", &self.environment)
            .field("kubeconfig", &self.kubeconfig)
            .field("context", &self.context)
            .field("in_cluster", &self.in_cluster)
            .field("url", &self.url)
            .field("argocd_url", &self.argocd_url)
            .finish_non_exhaustive()
    }
}

/// A cluster ready to connect to.
pub struct Resolved {
    pub name: String,
    pub environment: String,
    pub config: kube::Config,
    pub argocd_url: Option<String>,
}

/// Connect timeout to an API server; watches themselves stay open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl KubeSettings {
    /// The clusters to watch. An unusable entry is an error naming it; no clusters at all
    /// (nothing configured, nothing detected) is an empty list.
    pub async fn resolve(&self) -> Result<Vec<Resolved>, KubeError> {
        let mut out: Vec<Resolved> = Vec::new();
        for (i, c) in self.clusters.iter().enumerate() {
            let resolved = c.resolve().await.map_err(|e| KubeError::Config {
                cluster: c.name.clone().unwrap_or_else(|| format!("#{}", i + 1)),
                message: e,
            })?;
            if out.iter().any(|o| o.name == resolved.name) {
                return Err(KubeError::Config {
                    cluster: resolved.name,
                    message: "two clusters have this name: give each a unique `name`".into(),
                });
            }
            out.push(resolved);
        }
        if self.clusters.is_empty() && self.auto_detect {
            if let Some(r) = detect().await {
                out.push(r);
            }
        }
        for r in &mut out {
            r.config.connect_timeout = Some(CONNECT_TIMEOUT);
        }
        Ok(out)
    }
}

impl ClusterConfig {
    async fn resolve(&self) -> Result<Resolved, String> {
        let ways = [
            self.kubeconfig.is_some(),
            self.in_cluster,
            self.url.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if ways != 1 {
            return Err(
                "set exactly one of `kubeconfig` (with an optional `context`), `in_cluster: true` or `url` (with `token_file` or `token_env`, and `ca_file`)"
                    .into(),
            );
        }
        let (default_name, config) = if let Some(path) = &self.kubeconfig {
            let file = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?;
            from_kubeconfig(file, self.context.clone())
                .await
                .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?
        } else if self.in_cluster {
            let config = kube::Config::incluster().map_err(|e| {
                format!("in_cluster: {e} (is Backlot running in a pod with a service account?)")
            })?;
            ("in-cluster".to_string(), config)
        } else {
            let url = self.url.clone().unwrap_or_default();
            let token = match (&self.token_file, &self.token_env) {
                (Some(_), Some(_)) => {
                    return Err("set `token_file` or `token_env`, not both".into())
                }
                (Some(file), None) => {
                    serde_json::json!({"tokenFile": file.to_string_lossy()})
                }
                (None, Some(var)) => {
                    let token = std::env::var(var).map_err(|_| {
                        format!("token_env: the environment variable {var} is not set")
                    })?;
                    serde_json::json!({"token": token.trim()})
                }
                (None, None) => serde_json::json!({}),
            };
            let mut cluster = serde_json::json!({"server": url});
            if let Some(ca) = &self.ca_file {
                cluster["certificate-authority"] = ca.to_string_lossy().into();
            }
            if self.insecure_skip_tls_verify {
                cluster["insecure-skip-tls-verify"] = true.into();
            }
            let file: kube::config::Kubeconfig = serde_json::from_value(serde_json::json!({
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": token}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }))
            .map_err(|e| format!("url: {e}"))?;
            let (_, config) = from_kubeconfig(file, None)
                .await
                .map_err(|e| format!("url {url}: {e}"))?;
            (host_of(&url), config)
        };
        let name = self.name.clone().unwrap_or(default_name);
        if let Some(u) = &self.argocd_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(format!(
                    "argocd_url {u}: give the ArgoCD UI's address starting with https:// or http://"
                ));
            }
        }
        Ok(Resolved {
            argocd_url: self.argocd_url.clone(),
            environment: self.environment.clone().unwrap_or_else(|| name.clone()),
            name,
            config,
        })
    }
}

/// `(context name, config)` of a kubeconfig's context (its current one by default).
async fn from_kubeconfig(
    file: kube::config::Kubeconfig,
    context: Option<String>,
) -> Result<(String, kube::Config), String> {
    let name = context
        .clone()
        .or_else(|| file.current_context.clone())
        .ok_or("it names no current context: set `context`")?;
    if !file.contexts.iter().any(|c| c.name == name) {
        let known: Vec<&str> = file.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(format!(
            "no context named \"{name}\" (it has: {})",
            known.join(", ")
        ));
    }
    let options = kube::config::KubeConfigOptions {
        context: Some(name.clone()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|e| e.to_string())?;
    Ok((name, config))
}

/// The current context of `$KUBECONFIG` or `~/.kube/config`, if there is one.
async fn detect() -> Option<Resolved> {
    let file = kube::config::Kubeconfig::read().ok()?;
    match from_kubeconfig(file, None).await {
        Ok((name, config)) => {
            tracing::info!(cluster = %name, "no cluster configured: using the current kubeconfig context");
            Some(Resolved {
                argocd_url: None,
                environment: name.clone(),
                name,
                config,
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, "no cluster configured and the kubeconfig found is not usable");
            None
        }
    }
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(dir: &std::path::Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'https://127.0.0.1:1'}\n- name: b\n  cluster: {server: 'https://127.0.0.1:2'}\nusers:\n- name: u\n  user: {token: secret-token}\ncontexts:\n- name: one\n  context: {cluster: a, user: u}\n- name: two\n  context: {cluster: b, user: u}\ncurrent-context: one\n",
        )
        .expect("write");
        path
    }

    #[tokio::test]
    async fn contexts_names_and_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = kubeconfig(dir.path());
        let settings: KubeSettings = yaml_serde::from_str(&format!(
            "clusters:\n- kubeconfig: {p}\n- kubeconfig: {p}\n  context: two\n  name: staging-eu\n  environment: staging\n",
            p = path.display()
        ))
        .expect("yaml");
        let clusters = settings.resolve().await.expect("resolves");
        let names: Vec<(&str, &str, String)> = clusters
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.environment.as_str(),
                    c.config.cluster_url.to_string(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("one", "one", "https://127.0.0.1:1/".to_string()),
                ("staging-eu", "staging", "https://127.0.0.1:2/".to_string())
            ]
        );

        let bad = |yaml: String| async move {
            let s: KubeSettings = yaml_serde::from_str(&yaml).expect("yaml");
            s.resolve().await.err().expect("an error").to_string()
        };
        let e = bad(format!(
            "clusters:\n- kubeconfig: {}\n  context: three\n",
            path.display()
        ))
        .await;
        assert!(
            e.contains("no context named \"three\" (it has: one, two)"),
            "{e}"
        );
        let e = bad(format!(
            "clusters:\n- kubeconfig: {p}\n- kubeconfig: {p}\n",
            p = path.display()
        ))
        .await;
        assert!(e.contains("two clusters have this name"), "{e}");
        let e = bad("clusters:\n- name: x\n".into()).await;
        assert!(e.contains("cluster x: set exactly one of"), "{e}");
        let e = bad(
            "clusters:\n- url: https://k.example.com\n  token_env: BACKLOT_TEST_NO_SUCH_VAR\n"
                .into(),
        )
        .await;
        assert!(e.contains("BACKLOT_TEST_NO_SUCH_VAR is not set"), "{e}");
        assert!(!e.contains("secret-token"));
    }

    #[tokio::test]
    async fn url_with_token_file_and_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = dir.path().join("token");
        std::fs::write(&token, "abc\n").expect("write");
        let settings: KubeSettings = yaml_serde::from_str(&format!(
            "clusters:\n- url: https://k.example.com:6443\n  token_file: {}\n  insecure_skip_tls_verify: true\n  environment: production\n",
            token.display()
        ))
        .expect("yaml");
        let clusters = settings.resolve().await.expect("resolves");
        assert_eq!(clusters[0].name, "k.example.com:6443");
        assert_eq!(clusters[0].environment, "production");
        assert!(clusters[0].config.accept_invalid_certs);
    }

    #[tokio::test]
    async fn nothing_configured_and_nothing_found_is_no_cluster() {
        let settings = KubeSettings {
            auto_detect: false,
            ..Default::default()
        };
        assert!(settings.resolve().await.expect("resolves").is_empty());
    }
}
