//! The admin pages' data: the audit log (`/admin/audit`, `GET /api/audit`) and one user's
//! effective permissions (`/admin/permissions`). Plain data shared by the server and the pages.

use serde::{Deserialize, Serialize};

/// Every action the audit log records (the server's `audit::Action::ALL`, checked by a test).
pub const ACTIONS: &[&str] = &[
    "auth.signin",
    "auth.signin.refused",
    "auth.signout",
    "auth.token.create",
    "auth.token.revoke",
    "catalog.location.create",
    "catalog.location.delete",
    "catalog.location.refresh",
    "catalog.entity.refresh",
    "policy.reload",
    "policy.reload.refused",
    "scaffolder.task.create",
    "scaffolder.task.cancel",
    "scaffolder.task.retry",
    "scaffolder.approval.decide",
    "audit.read",
    "policy.read",
];

/// What the audit log is asked for; every field optional. As `GET /api/audit` and the page's
/// form take them: `action` may end in `*` (a prefix: `auth.*`), `since`/`until` are RFC 3339
/// date-times (the page also takes dates), `cursor` is a `nextCursor` passed back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub target: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl AuditQuery {
    /// The filters as a query string (`actor=…&outcome=…`), without cursor and limit.
    pub fn filters_query(&self) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("target", &self.target),
            ("since", &self.since),
            ("until", &self.until),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| format!("{k}={}", crate::query::encode_component(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    /// `user:default/alice`, `guest`, `system`, `service:<name>`, `token:<id>`.
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `allowed`, `refused` or `failed`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One page of the log, newest first; `nextCursor` when there are older events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    #[serde(
        rename = "nextCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_cursor: Option<String>,
}

/// The policy's decision on one permission for a user, with nothing in particular as the
/// resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionDecision {
    /// `catalog.location.create`…
    pub permission: String,
    pub allowed: bool,
    /// `ALLOW catalog.entity.read by role member rule 1 (read-everything)`, or why nothing
    /// allows it.
    pub explanation: String,
    /// The deciding rule (`role member rule 1 (read-everything)`), when one decided.
    pub rule: Option<String>,
    /// Some of the user's rules for it have conditions: on a particular entity or location
    /// the answer may differ.
    pub conditional: bool,
}

/// One user's effective permissions, as `backlot policy check` decides them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePermissions {
    /// `user:default/alice`, or `guest`.
    pub user: String,
    /// Whether a User entity of that name is in the catalog (its groups come from it).
    pub known: bool,
    /// The groups the user is a member of (`memberOf`), as at sign-in.
    pub groups: Vec<String>,
    /// Ownership references: the user and their groups (what `is_owner` matches).
    pub ownership: Vec<String>,
    /// The roles the policy binds to the user.
    pub roles: Vec<String>,
    /// The policy in force (file or built-in default).
    pub policy: String,
    pub decisions: Vec<PermissionDecision>,
}

/// Which admin pages the caller may open (for links).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAccess {
    /// `audit.read`: `/admin/audit`.
    pub audit: bool,
    /// `policy.read`: `/admin/permissions`.
    pub permissions: bool,
}

impl AdminAccess {
    /// The request's access (during server rendering, from the `AuditAdmin` service; none
    /// elsewhere).
    pub fn current() -> AdminAccess {
        #[cfg(feature = "ssr")]
        {
            use leptos::prelude::use_context;
            use leptos::server_fn::http_export::request::Parts;
            let caller = use_context::<Parts>()
                .and_then(|p| p.extensions.get::<crate::model::Caller>().cloned())
                .unwrap_or_else(crate::model::Caller::guest);
            use_context::<std::sync::Arc<dyn crate::services::AuditAdmin>>()
                .map(|s| s.access(&caller))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            AdminAccess::default()
        }
    }
}
