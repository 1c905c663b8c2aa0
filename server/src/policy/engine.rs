//! The decision engine: which roles a caller has, and whether one of their rules allows a
//! permission on a resource.
//!
//! **Deny beats allow.** Of the caller's roles' rules that name the permission and whose
//! conditions hold, a deny decides; otherwise an allow does; otherwise nothing allows it and it
//! is denied. Rule order does not matter, so a policy reads the same however it is arranged.
//! Each [`Decision`] names the rule that made it (role, index, name). A token caller is first
//! held to its scopes (`auth::tokens`): a permission no scope of it covers is denied, naming
//! the missing scope, whatever the rules say.

use super::file::normalise_ref;
use super::Permission;
use crate::catalog::snapshot::Stored;
use crate::catalog::source::LocationType;
use app::model::Caller;
use serde::Deserialize;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;

/// A loaded policy: roles with their rules, and who has each role.
#[derive(Debug)]
pub struct Policy {
    /// The file it was read from, or which built-in default it is.
    pub source: String,
    pub(super) roles: Vec<Role>,
    pub(super) bindings: Vec<Binding>,
}

#[derive(Debug)]
pub(super) struct Role {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug)]
pub(super) struct Rule {
    pub name: Option<String>,
    /// Position in its role's `rules`, from 0.
    pub index: usize,
    pub effect: Effect,
    pub patterns: Vec<Pattern>,
    pub when: Option<Conditions>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    Allow,
    Deny,
}

/// Which permissions a rule names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    All,
    /// A prefix ending in a dot: `catalog.`.
    Prefix(String),
    One(Permission),
}

impl Pattern {
    fn covers(&self, p: Permission) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Prefix(prefix) => p.as_str().starts_with(prefix.as_str()),
            Pattern::One(one) => *one == p,
        }
    }
}

#[derive(Debug)]
pub(super) struct Binding {
    pub role: usize,
    /// Normalised references (`user:default/alice`).
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub signed_in: bool,
    pub guest: bool,
}

/// Conditions on a resource, compiled: lists in lower case, empty lists hold.
#[derive(Debug, Default)]
pub(super) struct Conditions {
    pub is_owner: Option<bool>,
    pub kind: Vec<String>,
    pub namespace: Vec<String>,
    pub spec_type: Vec<String>,
    pub lifecycle: Vec<String>,
    pub tags: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub location_type: Vec<LocationType>,
}

impl Conditions {
    /// Whether any condition is on the entity (not only on the location's type).
    fn on_entity(&self) -> bool {
        self.is_owner.is_some()
            || !self.kind.is_empty()
            || !self.namespace.is_empty()
            || !self.spec_type.is_empty()
            || !self.lifecycle.is_empty()
            || !self.tags.is_empty()
            || !self.labels.is_empty()
            || !self.annotations.is_empty()
    }

    fn holds_for_entity(&self, e: &Entity<'_>, who: &Subject) -> bool {
        let f = &e.stored.fields;
        let any = |wanted: &[String], have: Option<&str>| {
            wanted.is_empty() || have.is_some_and(|h| wanted.iter().any(|w| w == h))
        };
        if !any(&self.kind, Some(f.lc_kind()))
            || !any(&self.namespace, Some(f.lc_namespace()))
            || !any(&self.spec_type, f.lc_spec_type())
            || !any(&self.lifecycle, f.lc_lifecycle())
        {
            return false;
        }
        if !self.tags.is_empty() && !f.lc_tags().any(|t| self.tags.iter().any(|w| w == t)) {
            return false;
        }
        if !self.location_type.is_empty()
            && !e
                .location_type
                .is_some_and(|t| self.location_type.contains(&t))
        {
            return false;
        }
        if let Some(wanted) = self.is_owner {
            if e.owned_by(who) != wanted {
                return false;
            }
        }
        let meta_matches = |have: &HashMap<String, String>, wanted: &[(String, String)]| {
            wanted
                .iter()
                .all(|(k, v)| have.get(k).is_some_and(|have| v == "*" || have == v))
        };
        if self.labels.is_empty() && self.annotations.is_empty() {
            return true;
        }
        let meta = e.metadata();
        meta_matches(&meta.labels, &self.labels)
            && meta_matches(&meta.annotations, &self.annotations)
    }

    fn holds(&self, resource: &Resource<'_>, who: &Subject) -> bool {
        match resource {
            Resource::None => false,
            Resource::Entity(e) => self.holds_for_entity(e, who),
            Resource::Location {
                location_type,
                entities,
            } => {
                if !self.location_type.is_empty() && !self.location_type.contains(location_type) {
                    return false;
                }
                !self.on_entity()
                    || (!entities.is_empty()
                        && entities.iter().all(|e| self.holds_for_entity(e, who)))
            }
        }
    }
}

/// What a permission is asked about.
pub enum Resource<'a> {
    /// Nothing in particular (rules with conditions do not apply).
    None,
    Entity(Entity<'a>),
    /// A location: conditions on its type hold for the location, conditions on entities must
    /// hold for every entity it provides (and it must provide at least one).
    Location {
        location_type: LocationType,
        entities: Vec<Entity<'a>>,
    },
}

/// An entity as conditions see it.
pub struct Entity<'a> {
    pub stored: &'a Stored,
    /// The type of the location that provides it.
    pub location_type: Option<LocationType>,
    /// Labels and annotations, read only when a rule asks for them.
    meta: OnceCell<Meta>,
}

/// The labels and annotations of an entity (values are strings: validation saw to it).
#[derive(Default, Deserialize)]
struct Meta {
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

impl<'a> Entity<'a> {
    pub fn new(stored: &'a Stored, location_type: Option<LocationType>) -> Entity<'a> {
        Entity {
            stored,
            location_type,
            meta: OnceCell::new(),
        }
    }

    /// Reads only `metadata.labels` and `metadata.annotations` from the body; the rest is
    /// skipped without being built.
    fn metadata(&self) -> &Meta {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            metadata: Meta,
        }
        self.meta.get_or_init(|| {
            serde_json::from_str::<Body>(&self.stored.body)
                .map(|b| b.metadata)
                .unwrap_or_default()
        })
    }

    /// Backstage's `is_entity_owner`: an `ownedBy` relation to the user or one of their groups.
    fn owned_by(&self, who: &Subject) -> bool {
        self.stored.declared.iter().any(|d| {
            d.relation_type == "ownedBy"
                && who
                    .refs
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&d.target_ref))
        })
    }
}

/// The caller as rules see them: guest or not, and their user and group references.
pub struct Subject {
    pub guest: bool,
    /// Lower-case `user:ns/name` and `group:ns/name`.
    pub refs: Vec<String>,
}

impl Subject {
    pub fn of(caller: &Caller) -> Subject {
        Subject {
            guest: caller.is_guest(),
            refs: caller
                .user
                .iter()
                .chain(&caller.groups)
                .map(|r| normalise_ref(&r.to_ref_string(), "user"))
                .collect(),
        }
    }
}

/// The rule behind a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub role: String,
    /// From 0, as in the file's `rules` list (shown from 1).
    pub index: usize,
    pub name: Option<String>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "role {} rule {}", self.role, self.index + 1)?;
        if let Some(n) = &self.name {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

/// A decision and what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub permission: Permission,
    pub allowed: bool,
    /// The deciding rule; `None`: no rule of the caller's roles allows it.
    pub by: Option<RuleRef>,
    /// The caller's roles.
    pub roles: Vec<String>,
    /// The policy's source (file or built-in default).
    pub policy: String,
    /// Set when the caller is a token whose scopes do not cover the permission: why (naming
    /// the missing scope). The policy's rules were not asked.
    pub scope: Option<String>,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.allowed { "ALLOW" } else { "DENY" };
        if let Some(scope) = &self.scope {
            return write!(f, "{verdict} {}: {scope}", self.permission);
        }
        match &self.by {
            Some(rule) => write!(f, "{verdict} {} by {rule}", self.permission)?,
            None => write!(
                f,
                "{verdict} {}: no rule allows it (roles: {})",
                self.permission,
                if self.roles.is_empty() {
                    "none".to_string()
                } else {
                    self.roles.join(", ")
                }
            )?,
        }
        Ok(())
    }
}

/// How a permission on entities goes for one caller, worked out once for many entities.
pub enum EntityCheck<'p> {
    /// The same for every entity.
    Always(Decision),
    /// Depends on the entity: these rules (role, rule) decide.
    Each(EntityRules<'p>),
}

pub struct EntityRules<'p> {
    policy: &'p Policy,
    permission: Permission,
    subject: Subject,
    roles: Vec<usize>,
    rules: Vec<(usize, &'p Rule)>,
}

impl EntityRules<'_> {
    /// Whether a rule asks for the type of the entity's location.
    pub fn needs_location_type(&self) -> bool {
        self.rules
            .iter()
            .any(|(_, r)| r.when.as_ref().is_some_and(|c| !c.location_type.is_empty()))
    }

    pub fn decide(&self, e: &Entity<'_>) -> Decision {
        self.policy.decide_among(
            self.permission,
            &self.roles,
            &self.rules,
            &Resource::Entity(Entity::new(e.stored, e.location_type)),
            &self.subject,
        )
    }

    /// Just the verdict, without building a [`Decision`] (the hot path of a filter).
    pub fn allows(&self, e: &Entity<'_>) -> bool {
        let holds = |r: &Rule| {
            r.when
                .as_ref()
                .is_none_or(|c| c.holds_for_entity(e, &self.subject))
        };
        let mut allowed = false;
        for (_, r) in &self.rules {
            if holds(r) {
                match r.effect {
                    Effect::Deny => return false,
                    Effect::Allow => allowed = true,
                }
            }
        }
        allowed
    }
}

impl Policy {
    /// `3 roles, 2 bindings`, for messages.
    pub fn summary(&self) -> String {
        format!(
            "{} roles, {} bindings",
            self.roles.len(),
            self.bindings.len()
        )
    }

    /// The roles bound to `caller`, by index.
    fn roles_of(&self, who: &Subject) -> Vec<usize> {
        let mut roles: Vec<usize> = self
            .bindings
            .iter()
            .filter(|b| {
                (b.guest && who.guest)
                    || (b.signed_in && !who.guest)
                    || b.users
                        .iter()
                        .chain(&b.groups)
                        .any(|r| who.refs.contains(r))
            })
            .map(|b| b.role)
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }

    /// The names of the roles bound to `caller`.
    pub fn role_names(&self, caller: &Caller) -> Vec<String> {
        self.roles_of(&Subject::of(caller))
            .into_iter()
            .map(|i| self.roles[i].name.clone())
            .collect()
    }

    fn rules_for(&self, roles: &[usize], permission: Permission) -> Vec<(usize, &Rule)> {
        roles
            .iter()
            .flat_map(|&ri| self.roles[ri].rules.iter().map(move |r| (ri, r)))
            .filter(|(_, r)| r.patterns.iter().any(|p| p.covers(permission)))
            .collect()
    }

    fn decide_among(
        &self,
        permission: Permission,
        roles: &[usize],
        rules: &[(usize, &Rule)],
        resource: &Resource<'_>,
        who: &Subject,
    ) -> Decision {
        let rule_ref = |ri: usize, r: &Rule| RuleRef {
            role: self.roles[ri].name.clone(),
            index: r.index,
            name: r.name.clone(),
        };
        let mut allow = None;
        for &(ri, r) in rules {
            if !r.when.as_ref().is_none_or(|c| c.holds(resource, who)) {
                continue;
            }
            match r.effect {
                Effect::Deny => {
                    return self.decision(permission, false, Some(rule_ref(ri, r)), roles)
                }
                Effect::Allow if allow.is_none() => allow = Some(rule_ref(ri, r)),
                Effect::Allow => {}
            }
        }
        let allowed = allow.is_some();
        self.decision(permission, allowed, allow, roles)
    }

    fn decision(
        &self,
        permission: Permission,
        allowed: bool,
        by: Option<RuleRef>,
        roles: &[usize],
    ) -> Decision {
        Decision {
            permission,
            allowed,
            by,
            roles: roles.iter().map(|&i| self.roles[i].name.clone()).collect(),
            policy: self.source.clone(),
            scope: None,
        }
    }

    /// A token caller's scopes refuse `permission` whatever the rules say
    /// (`auth::tokens::scope_refusal`): the decision says which scope is missing.
    fn scope_refusal(&self, caller: &Caller, permission: Permission) -> Option<Decision> {
        let why = crate::auth::tokens::scope_refusal(caller, permission)?;
        let roles = self.roles_of(&Subject::of(caller));
        let mut d = self.decision(permission, false, None, &roles);
        d.scope = Some(why);
        Some(d)
    }

    /// Whether `caller` may do `permission` on `resource`, and which rule says so.
    pub fn decide(
        &self,
        caller: &Caller,
        permission: Permission,
        resource: &Resource<'_>,
    ) -> Decision {
        if let Some(refused) = self.scope_refusal(caller, permission) {
            return refused;
        }
        let who = Subject::of(caller);
        let roles = self.roles_of(&who);
        let rules = self.rules_for(&roles, permission);
        self.decide_among(permission, &roles, &rules, resource, &who)
    }

    /// Whether the decision on `permission` for `caller` depends on the resource at all.
    pub fn is_conditional(&self, caller: &Caller, permission: Permission) -> bool {
        matches!(self.entity_check(caller, permission), EntityCheck::Each(_))
    }

    /// Prepares deciding `permission` on many entities for `caller`: when no condition can
    /// change the answer it is decided once.
    pub fn entity_check(&self, caller: &Caller, permission: Permission) -> EntityCheck<'_> {
        if let Some(refused) = self.scope_refusal(caller, permission) {
            return EntityCheck::Always(refused);
        }
        let who = Subject::of(caller);
        let roles = self.roles_of(&who);
        let rules = self.rules_for(&roles, permission);
        let unconditional = |effect: Effect| {
            rules
                .iter()
                .find(|(_, r)| r.effect == effect && r.when.is_none())
        };
        let conditional_deny = rules
            .iter()
            .any(|(_, r)| r.effect == Effect::Deny && r.when.is_some());
        let constant = if unconditional(Effect::Deny).is_some() {
            true
        } else if unconditional(Effect::Allow).is_some() {
            !conditional_deny
        } else {
            rules.iter().all(|(_, r)| r.when.is_none())
        };
        if constant {
            let d = self.decide_among(permission, &roles, &rules, &Resource::None, &who);
            return EntityCheck::Always(d);
        }
        EntityCheck::Each(EntityRules {
            policy: self,
            permission,
            subject: who,
            roles,
            rules,
        })
    }
}
