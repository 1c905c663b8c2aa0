//! Permissions: who may read and do what, decided by one policy.
//!
//! - [`file`]: the policy file (YAML): roles with rules, bindings of roles to users, groups,
//!   any signed-in user and the guest; loading with `file:line` errors.
//! - [`engine`]: a caller's roles, and decisions that name the rule that made them
//!   (deny beats allow; nothing allows: denied).
//! - [`PolicyStore`]: the policy in force, reloaded when its file changes (an invalid new file
//!   is logged and the last good policy stays).
//!
//! The catalog asks it in one place, `catalog/facade.rs`: `catalog.entity.read` filters every
//! read, the other catalog permissions guard the writes.
//!
//! Without a policy file the built-in default applies: with no `auth:` section every caller is
//! the guest and may do everything (Backstage's allow-all policy, so the demo works as before);
//! with `auth:` it is `default.yaml` (signed-in users read and refresh, owners register and
//! remove their own locations, `policy.admins` do everything, guests read).

pub mod engine;
pub mod explain;
pub mod file;

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod tests;

pub use engine::{Decision, Entity, EntityCheck, Policy, Resource, RuleRef};

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The permissions, named as Backstage names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    CatalogEntityRead,
    CatalogEntityRefresh,
    CatalogEntityDelete,
    CatalogLocationRead,
    CatalogLocationCreate,
    CatalogLocationDelete,
    KubernetesResourcesRead,
    ScaffolderTemplateRead,
    ScaffolderActionExecute,
    ScaffolderTaskRead,
    ScaffolderTaskCreate,
    ScaffolderTaskCancel,
    /// Decide any task's approval (`backlot:approval`), one's own request included; the named
    /// approvers decide without it. Backlot's own.
    ScaffolderApprovalDecide,
    /// The audit log (`GET /api/audit`, `/admin/audit`).
    AuditRead,
    /// Any user's effective permissions (`/admin/permissions`).
    PolicyRead,
}

impl Permission {
    pub const ALL: [Permission; 15] = [
        Permission::CatalogEntityRead,
        Permission::CatalogEntityRefresh,
        Permission::CatalogEntityDelete,
        Permission::CatalogLocationRead,
        Permission::CatalogLocationCreate,
        Permission::CatalogLocationDelete,
        Permission::KubernetesResourcesRead,
        Permission::ScaffolderTemplateRead,
        Permission::ScaffolderActionExecute,
        Permission::ScaffolderTaskRead,
        Permission::ScaffolderTaskCreate,
        Permission::ScaffolderTaskCancel,
        Permission::ScaffolderApprovalDecide,
        Permission::AuditRead,
        Permission::PolicyRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CatalogEntityRead => "catalog.entity.read",
            Permission::CatalogEntityRefresh => "catalog.entity.refresh",
            Permission::CatalogEntityDelete => "catalog.entity.delete",
            Permission::CatalogLocationRead => "catalog.location.read",
            Permission::CatalogLocationCreate => "catalog.location.create",
            Permission::CatalogLocationDelete => "catalog.location.delete",
            Permission::KubernetesResourcesRead => "kubernetes.resources.read",
            Permission::ScaffolderTemplateRead => "scaffolder.template.read",
            Permission::ScaffolderActionExecute => "scaffolder.action.execute",
            Permission::ScaffolderTaskRead => "scaffolder.task.read",
            Permission::ScaffolderTaskCreate => "scaffolder.task.create",
            Permission::ScaffolderTaskCancel => "scaffolder.task.cancel",
            Permission::ScaffolderApprovalDecide => "scaffolder.approval.decide",
            Permission::AuditRead => "audit.read",
            Permission::PolicyRead => "policy.read",
        }
    }

    /// `catalog.location.*`: decided on a location (its type and the entities it provides).
    pub fn is_location(self) -> bool {
        matches!(
            self,
            Permission::CatalogLocationRead
                | Permission::CatalogLocationCreate
                | Permission::CatalogLocationDelete
        )
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("could not read policy file {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{}: {message}", line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()))]
    Invalid {
        file: String,
        /// 1-based, when known.
        line: Option<usize>,
        message: String,
    },
}

/// The `policy:` section of the config.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySettings {
    /// The policy file (`BACKLOT_POLICY_FILE`); none: the built-in default.
    pub file: Option<PathBuf>,
    /// Users and groups bound to the default policy's `admin` role (`group:default/admins`
    /// always is).
    pub admins: Vec<String>,
}

/// The built-in default with sign-in configured, as text (README shows it).
pub const DEFAULT_POLICY: &str = include_str!("default.yaml");

/// The policy when no file is given: allow-all without `auth:`, [`DEFAULT_POLICY`] with it.
pub fn built_in(auth_configured: bool, admins: &[String]) -> Policy {
    if !auth_configured {
        return allow_all();
    }
    let mut policy = match file::parse(DEFAULT_POLICY, "built-in default") {
        Ok(p) => p,
        // The default is checked by a test; should it ever fail, nobody may do anything.
        Err(e) => {
            tracing::error!(error = %e, "the built-in default policy is invalid");
            return deny_all();
        }
    };
    policy.add_admins(admins);
    policy
}

/// Every caller may do everything (no `auth:`, no policy file).
pub fn allow_all() -> Policy {
    let text = "roles:\n  everyone:\n    rules:\n      - name: allow-all\n        allow: [\"*\"]\nbindings:\n  - role: everyone\n    guest: true\n    signed_in: true\n";
    file::parse(text, "built-in allow-all (no auth: configured)").unwrap_or_else(|_| deny_all())
}

fn deny_all() -> Policy {
    Policy {
        source: "deny-all".into(),
        roles: vec![],
        bindings: vec![],
    }
}

impl Policy {
    /// Binds more users and groups to the role named `admin`, if there is one.
    fn add_admins(&mut self, admins: &[String]) {
        let Some(role) = self.roles.iter().position(|r| r.name == "admin") else {
            return;
        };
        let (groups, users): (Vec<String>, Vec<String>) = admins
            .iter()
            .map(|a| file::normalise_ref(a, "group"))
            .partition(|r| !r.starts_with("user:"));
        if !groups.is_empty() || !users.is_empty() {
            self.bindings.push(engine::Binding {
                role,
                users,
                groups,
                signed_in: false,
                guest: false,
            });
        }
    }
}

/// Reads and checks a policy file.
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
        file: name.clone(),
        reason: e.to_string(),
    })?;
    file::parse(&text, &name)
}

/// The policy in force; with a file, reloaded when it changes.
pub struct PolicyStore {
    current: RwLock<Arc<Policy>>,
    file: Option<PathBuf>,
    /// The file's fingerprint when it was last looked at (taken before reading it, so a change
    /// made while it was read is seen on the next look).
    loaded: Mutex<Option<Fingerprint>>,
    /// The catalog's read filters of recent callers (`catalog/facade.rs`).
    pub(crate) views: crate::catalog::facade::ViewCache,
    /// Where reloads are recorded (set once at start-up: [`PolicyStore::audit_to`]).
    audit: std::sync::OnceLock<crate::audit::Audit>,
}

impl PolicyStore {
    /// A fixed policy (the built-in defaults, tests).
    pub fn fixed(policy: Policy) -> PolicyStore {
        PolicyStore::fixed_arc(Arc::new(policy))
    }

    pub fn fixed_arc(policy: Arc<Policy>) -> PolicyStore {
        PolicyStore {
            current: RwLock::new(policy),
            file: None,
            loaded: Mutex::new(None),
            views: Default::default(),
            audit: Default::default(),
        }
    }

    /// The policy of the config: its file when one is set (which must be valid at start-up),
    /// else the built-in default.
    pub fn from_settings(
        settings: &PolicySettings,
        auth_configured: bool,
    ) -> Result<PolicyStore, PolicyError> {
        match &settings.file {
            Some(path) => {
                let loaded = fingerprint(path);
                Ok(PolicyStore {
                    current: RwLock::new(Arc::new(load(path)?)),
                    file: Some(path.clone()),
                    loaded: Mutex::new(loaded),
                    views: Default::default(),
                    audit: Default::default(),
                })
            }
            None => Ok(PolicyStore::fixed(built_in(
                auth_configured,
                &settings.admins,
            ))),
        }
    }

    pub fn current(&self) -> Arc<Policy> {
        match self.current.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, policy: Policy) {
        let mut slot = match self.current.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::new(policy);
    }

    /// Records reloads (`policy.reload`, `policy.reload.refused`) in the audit log.
    pub fn audit_to(&self, audit: crate::audit::Audit) {
        let _ = self.audit.set(audit);
    }

    /// Reads the file again; an invalid file is logged and the last good policy stays.
    /// Returns whether a new policy is in force. Either is recorded in the audit log.
    pub fn reload(&self) -> bool {
        use crate::audit::{Action, Actor, Event, Outcome};
        let Some(path) = &self.file else {
            return false;
        };
        let record = |action, outcome, detail: String| {
            if let Some(audit) = self.audit.get() {
                audit.record(
                    Event::new(Actor::system(), action, outcome)
                        .target(path.display().to_string())
                        .detail(detail),
                );
            }
        };
        match load(path) {
            Ok(policy) => {
                tracing::info!(policy.file = %path.display(), "policy reloaded");
                record(Action::PolicyReload, Outcome::Allowed, policy.summary());
                self.replace(policy);
                true
            }
            Err(e) => {
                tracing::error!(policy.file = %path.display(), error = %e, "policy file is invalid; the last good policy stays in force");
                record(Action::PolicyReloadRefused, Outcome::Refused, e.to_string());
                false
            }
        }
    }

    /// Watches the file (modification time and content hash, every `every`) and reloads it
    /// when it changes. Nothing to watch without a file.
    pub fn spawn_reload_loop(self: &Arc<Self>, every: Duration) {
        let Some(path) = self.file.clone() else {
            return;
        };
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(store) = store.upgrade() else {
                    return;
                };
                let path = path.clone();
                let now = tokio::task::spawn_blocking(move || fingerprint(&path))
                    .await
                    .ok()
                    .flatten();
                let changed = {
                    let mut last = match store.loaded.lock() {
                        Ok(l) => l,
                        Err(poisoned) => poisoned.into_inner(),
                    };
                    let changed = *last != now;
                    *last = now;
                    changed
                };
                if changed {
                    store.reload();
                }
            }
        });
    }
}

/// What tells a file changed: its modification time and the SHA-256 of its content.
type Fingerprint = (std::time::SystemTime, [u8; 32]);

/// The file's fingerprint; `None` when unreadable.
fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use sha2::Digest;
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let bytes = std::fs::read(path).ok()?;
    Some((modified, sha2::Sha256::digest(&bytes).into()))
}
