//! The audit log: who did what, when, and how it went.
//!
//! Everything that changes state or is refused is recorded as an [`Event`] through an
//! [`Audit`] handle (cheap to clone, kept in `AppState`): sign-in and sign-out (`api/auth.rs`),
//! every catalog write through the facade (register, delete, refresh: allowed, refused with the
//! rule, failed with the error; `catalog/facade.rs`), policy reloads (`policy/mod.rs`) and
//! refused reads of the audit log itself. Reads are not recorded (too many).
//!
//! [`Audit::record`] never blocks or slows the caller: it puts the event on a bounded channel
//! read by one writer task ([`Writer`]) that writes in batches. When the channel is full the
//! event is dropped, counted in `/metrics` (`backlot_audit_events_dropped_total`) and a warning
//! is logged, so nothing is lost silently. The writer also prunes events older than
//! `audit.retention_days` ([`AuditSettings`]) at start-up and every hour.
//!
//! - [`query`]: `GET /api/audit`'s parameters, cursors and answer
//! - [`views`]: the admin pages' service (`app::services::AuditAdmin`): the log and one user's
//!   effective permissions
//!
//! Other parts record with, for example:
//!
//! ```ignore
//! state.audit.record(
//!     Event::new(Actor::of(&caller), Action::AuthTokenCreate, Outcome::Allowed)
//!         .target(format!("token:{id}"))
//!         .detail("scopes: read, refresh"),
//! );
//! ```

pub mod query;
pub mod views;

use crate::storage::{AuditRow, Store};
use app::model::Caller;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What happened. New actions are added here (and to [`Action::ALL`]), so the API and the page
/// know every name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Signed in (allowed), or the provider could not be used (failed).
    AuthSignin,
    /// A sign-in refused: unknown user, wrong state, the provider refused, a bad token.
    AuthSigninRefused,
    AuthSignout,
    /// An API token created / revoked (`auth::tokens`).
    AuthTokenCreate,
    AuthTokenRevoke,
    /// A location registered (not dry runs).
    CatalogLocationCreate,
    CatalogLocationDelete,
    /// A location read now ("refresh now", `POST /locations/{id}/refresh`).
    CatalogLocationRefresh,
    /// The location of an entity read now (`POST /api/catalog/refresh`).
    CatalogEntityRefresh,
    /// The policy file reloaded after a change / refused as invalid (the last good one stays).
    PolicyReload,
    PolicyReloadRefused,
    /// A template run started (the scaffolder).
    ScaffolderTaskCreate,
    /// A task asked to stop / run again.
    ScaffolderTaskCancel,
    ScaffolderTaskRetry,
    /// A task's approval approved or rejected (refused: not an approver, or one's own).
    ScaffolderApprovalDecide,
    /// Reading the audit log / the permissions page refused (allowed reads are not recorded).
    AuditRead,
    PolicyRead,
}

impl Action {
    pub const ALL: [Action; 17] = [
        Action::AuthSignin,
        Action::AuthSigninRefused,
        Action::AuthSignout,
        Action::AuthTokenCreate,
        Action::AuthTokenRevoke,
        Action::CatalogLocationCreate,
        Action::CatalogLocationDelete,
        Action::CatalogLocationRefresh,
        Action::CatalogEntityRefresh,
        Action::PolicyReload,
        Action::PolicyReloadRefused,
        Action::ScaffolderTaskCreate,
        Action::ScaffolderTaskCancel,
        Action::ScaffolderTaskRetry,
        Action::ScaffolderApprovalDecide,
        Action::AuditRead,
        Action::PolicyRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::AuthSignin => "auth.signin",
            Action::AuthSigninRefused => "auth.signin.refused",
            Action::AuthSignout => "auth.signout",
            Action::AuthTokenCreate => "auth.token.create",
            Action::AuthTokenRevoke => "auth.token.revoke",
            Action::CatalogLocationCreate => "catalog.location.create",
            Action::CatalogLocationDelete => "catalog.location.delete",
            Action::CatalogLocationRefresh => "catalog.location.refresh",
            Action::CatalogEntityRefresh => "catalog.entity.refresh",
            Action::PolicyReload => "policy.reload",
            Action::PolicyReloadRefused => "policy.reload.refused",
            Action::ScaffolderTaskCreate => "scaffolder.task.create",
            Action::ScaffolderTaskCancel => "scaffolder.task.cancel",
            Action::ScaffolderTaskRetry => "scaffolder.task.retry",
            Action::ScaffolderApprovalDecide => "scaffolder.approval.decide",
            Action::AuditRead => "audit.read",
            Action::PolicyRead => "policy.read",
        }
    }
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done (the policy allowed it, or nothing needed allowing).
    Allowed,
    /// Refused: by the policy (the detail names the rule) or by a check (sign-in).
    Refused,
    /// Allowed but it did not work (the detail is the error).
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Allowed, Outcome::Refused, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// Who did it, as the log names them.
pub struct Actor;

impl Actor {
    /// The signed-in user's reference (`user:default/alice`), or `guest`.
    pub fn of(caller: &Caller) -> String {
        match &caller.user {
            Some(u) => u.to_ref_string(),
            None => "guest".into(),
        }
    }

    /// Backlot itself (a policy reload).
    pub fn system() -> String {
        "system".into()
    }

    /// A static service token from the config (`service:<name>`).
    pub fn service(name: &str) -> String {
        format!("service:{name}")
    }

    /// A user's API token (`token:<id>`; never the token itself).
    pub fn token(id: &str) -> String {
        format!("token:{id}")
    }
}

/// Longest detail kept (longer ones are cut, with `…`).
const MAX_DETAIL: usize = 1000;

/// One thing that happened. Build it with [`Event::new`] and the optional parts, then
/// [`Audit::record`] it. The time is taken when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the epoch (UTC).
    pub at: i64,
    pub actor: String,
    pub action: Action,
    /// What it was done to: a location (`git:https://…`, `file:/…`), an entity reference, a file.
    pub target: Option<String>,
    pub outcome: Outcome,
    /// Short text: the rule that decided, the error.
    pub detail: Option<String>,
}

impl Event {
    pub fn new(actor: impl Into<String>, action: Action, outcome: Outcome) -> Event {
        Event {
            at: crate::util::now_ms(),
            actor: actor.into(),
            action,
            target: None,
            outcome,
            detail: None,
        }
    }

    pub fn target(mut self, target: impl Into<String>) -> Event {
        self.target = Some(target.into());
        self
    }

    /// Cut to [`MAX_DETAIL`] characters. Never put a token, secret, cookie or code here.
    pub fn detail(mut self, detail: impl Into<String>) -> Event {
        let mut detail: String = detail.into();
        if let Some((cut, _)) = detail.char_indices().nth(MAX_DETAIL) {
            detail.truncate(cut);
            detail.push('…');
        }
        self.detail = Some(detail);
        self
    }

    fn into_row(self) -> AuditRow {
        AuditRow {
            id: 0,
            at: self.at,
            actor: self.actor,
            action: self.action.as_str().into(),
            target: self.target,
            outcome: self.outcome.as_str().into(),
            detail: self.detail,
        }
    }
}

/// The `audit:` section of the config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// Events older than this many days are deleted (at start-up and hourly); 1 to 36500.
    #[serde(deserialize_with = "retention_days")]
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { retention_days: 90 }
    }
}

/// Longest retention accepted: a hundred years.
const MAX_RETENTION_DAYS: u32 = 36_500;

fn retention_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let days = u64::deserialize(d)?;
    check_retention(days).map_err(serde::de::Error::custom)
}

/// 1 to 36500 days; the error says so.
pub fn check_retention(days: u64) -> Result<u32, String> {
    match u32::try_from(days) {
        Ok(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => Ok(d),
        _ => Err(format!(
            "audit.retention_days must be between 1 and {MAX_RETENTION_DAYS} days, got {days}"
        )),
    }
}

impl AuditSettings {
    /// `BACKLOT_AUDIT_RETENTION_DAYS`, checked like the file's value.
    pub fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<(), String> {
        if let Some(v) = get("BACKLOT_AUDIT_RETENTION_DAYS") {
            let days = v.trim().parse::<u64>().map_err(|_| {
                format!("BACKLOT_AUDIT_RETENTION_DAYS must be a whole number of days, got \"{v}\"")
            })?;
            self.retention_days = check_retention(days)?;
        }
        Ok(())
    }

    fn retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.retention_days) * 86_400)
    }
}

/// Events waiting for the writer at most; beyond, they are dropped and counted.
pub const CHANNEL_CAPACITY: usize = 4096;
/// Events written in one transaction at most.
const BATCH: usize = 256;
/// How often old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

enum Msg {
    Event(Event),
    /// Answered once everything sent before it is written.
    Flush(oneshot::Sender<()>),
}

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    /// The channel was full (or the writer gone).
    dropped_full: AtomicU64,
    /// The database refused a batch.
    dropped_write: AtomicU64,
    /// Dropped since the writer last reported it in the log.
    unreported: AtomicU64,
}

/// The handle every part records through. Cloning it is an `Arc` clone.
#[derive(Clone)]
pub struct Audit {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    tx: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
}

/// The one task that writes events (in batches) and prunes old ones.
pub struct Writer {
    rx: mpsc::Receiver<Msg>,
    store: Store,
    settings: AuditSettings,
    counters: Arc<Counters>,
}

impl Audit {
    /// A handle and its writer, started on the current tokio runtime.
    pub fn start(store: Store, settings: AuditSettings) -> Audit {
        let (audit, writer) = Audit::channel(store, settings, CHANNEL_CAPACITY);
        tokio::spawn(writer.run());
        audit
    }

    /// A handle and its writer, not started (tests start it when they want).
    pub fn channel(store: Store, settings: AuditSettings, capacity: usize) -> (Audit, Writer) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        let audit = Audit {
            inner: Some(Arc::new(Inner {
                tx,
                counters: counters.clone(),
            })),
        };
        let writer = Writer {
            rx,
            store,
            settings,
            counters,
        };
        (audit, writer)
    }

    /// Records nothing: for commands that never write (`backlot policy check`).
    pub fn disabled() -> Audit {
        Audit { inner: None }
    }

    /// Hands `event` to the writer without waiting. When the writer is behind by
    /// [`CHANNEL_CAPACITY`] events the event is dropped: counted in `/metrics` and logged (the
    /// first of each run of drops at once, the count when the writer catches up).
    pub fn record(&self, event: Event) {
        let Some(inner) = &self.inner else {
            return;
        };
        tracing::debug!(
            audit.actor = %event.actor,
            audit.action = event.action.as_str(),
            audit.outcome = event.outcome.as_str(),
            "audit event"
        );
        if inner.tx.try_send(Msg::Event(event)).is_err() {
            inner.counters.dropped_full.fetch_add(1, Ordering::Relaxed);
            if inner.counters.unreported.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    capacity = CHANNEL_CAPACITY,
                    "audit log writer is behind: events are being dropped (counted in backlot_audit_events_dropped_total)"
                );
            }
        }
    }

    /// Waits until every event recorded before this call is written (tests, shutdown).
    pub async fn flush(&self) {
        let Some(inner) = &self.inner else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if inner.tx.send(Msg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Events dropped so far (channel full or writer gone, and batches the database refused).
    pub fn dropped(&self) -> u64 {
        self.inner.as_ref().map_or(0, |i| {
            i.counters.dropped_full.load(Ordering::Relaxed)
                + i.counters.dropped_write.load(Ordering::Relaxed)
        })
    }

    /// The audit log's lines for `/metrics` (Prometheus text format).
    pub fn render_metrics(&self) -> String {
        let (written, full, write) = self.inner.as_ref().map_or((0, 0, 0), |i| {
            let c = &i.counters;
            (
                c.written.load(Ordering::Relaxed),
                c.dropped_full.load(Ordering::Relaxed),
                c.dropped_write.load(Ordering::Relaxed),
            )
        });
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP backlot_audit_events_written_total Audit events written to the database.\n# TYPE backlot_audit_events_written_total counter\nbacklot_audit_events_written_total {written}"
        );
        let _ = writeln!(
            out,
            "# HELP backlot_audit_events_dropped_total Audit events lost: the writer was behind (full) or the database refused them (write).\n# TYPE backlot_audit_events_dropped_total counter\nbacklot_audit_events_dropped_total{{reason=\"full\"}} {full}\nbacklot_audit_events_dropped_total{{reason=\"write\"}} {write}"
        );
        out
    }
}

impl Writer {
    /// Writes what arrives, in batches of up to [`BATCH`], and prunes at start and every
    /// [`PRUNE_EVERY`]; ends when every handle is gone.
    pub async fn run(mut self) {
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = self.rx.recv() => {
                    let Some(first) = msg else { return };
                    self.write_batch(first).await;
                }
                _ = prune.tick() => self.prune().await,
            }
        }
    }

    /// Writes `first` and whatever else is waiting (up to [`BATCH`]), then answers flushes.
    async fn write_batch(&mut self, first: Msg) {
        let mut rows = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Event(e) => rows.push(e.into_row()),
                Msg::Flush(tx) => flushes.push(tx),
            }
            next = if rows.len() < BATCH {
                self.rx.try_recv().ok()
            } else {
                None
            };
        }
        let n = rows.len() as u64;
        match self.store.insert_audit_events(&rows).await {
            Ok(()) => {
                self.counters.written.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.dropped_write.fetch_add(n, Ordering::Relaxed);
                tracing::error!(error = %e, events = n, "audit events could not be written; they are lost");
            }
        }
        let unreported = self.counters.unreported.swap(0, Ordering::Relaxed);
        if unreported > 0 {
            tracing::warn!(
                dropped = unreported,
                "audit events were dropped while the writer was behind"
            );
        }
        for tx in flushes {
            let _ = tx.send(());
        }
    }

    async fn prune(&self) {
        let cutoff = crate::util::now_ms()
            .saturating_sub(i64::try_from(self.settings.retention().as_millis()).unwrap_or(0));
        match self.store.prune_audit_events(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deleted = n,
                retention_days = self.settings.retention_days,
                "old audit events pruned"
            ),
            Err(e) => tracing::warn!(error = %e, "audit events could not be pruned"),
        }
    }
}

#[cfg(test)]
mod tests;
