//! The catalog actions, with Backstage's input and output, run as the task's creator through
//! the catalog's one door ([`crate::catalog::facade::Facade`]):
//!
//! - `catalog:register`: `catalogInfoUrl`, or `repoContentsUrl` with `catalogInfoPath` (default
//!   `/catalog-info.yaml`); `optional` turns a failure into a log line. A file of the managed Git
//!   host becomes a `git` location of its bare repository (branch and path set); any other URL a
//!   `url` location, as Backstage registers it. The registration is the facade's: the policy's
//!   `catalog.location.create` decides for the creator, the audit log records it, and the
//!   location is read at once, so its entities are in the catalog when the step ends. Output:
//!   `entityRef` (a Component first, then anything but a Location, else the first, skipping
//!   Backstage's `generated-` names) and `catalogInfoUrl`.
//! - `catalog:fetch`: `entityRef` or `entityRefs` (with `defaultKind`, `defaultNamespace`),
//!   `optional`; output `entity` / `entities`, as the creator may read them.
//!
//! Both need the task's [`super::actions::TaskContext`]; a dry-run has none and skips them.

use super::actions::{string, Action, ActionContext, ActionError, TaskContext};
use super::managed_git::ManagedGit;
use crate::catalog::added::AddedLocation;
use crate::catalog::reference::{parse_ref, RefKey};
use crate::catalog::{LocationType, NewLocation};
use app::model::EntityRef;
use async_trait::async_trait;
use serde_json::{json, Map, Value};

/// Backstage's default descriptor path in a repository.
const DEFAULT_CATALOG_INFO_PATH: &str = "/catalog-info.yaml";

fn boolean(input: &Value, key: &str) -> Result<bool, ActionError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ActionError::Input(format!("{key}: must be true or false"))),
    }
}

pub struct CatalogRegister {
    /// The managed Git host, whose URLs become `git` locations.
    managed: Option<ManagedGit>,
}

impl CatalogRegister {
    pub fn new(managed: Option<ManagedGit>) -> Self {
        Self { managed }
    }

    /// What to register, and the `catalogInfoUrl` it answers with.
    fn location(&self, input: &Value) -> Result<(NewLocation, String), ActionError> {
        let (url, path) = match (
            string(input, "catalogInfoUrl")?,
            string(input, "repoContentsUrl")?,
        ) {
            (Some(url), _) => (url.to_string(), None),
            (None, Some(base)) => {
                let path = string(input, "catalogInfoPath")?.unwrap_or(DEFAULT_CATALOG_INFO_PATH);
                (
                    format!(
                        "{}/{}",
                        base.trim_end_matches('/'),
                        path.trim_start_matches('/')
                    ),
                    Some((base, path)),
                )
            }
            (None, None) => {
                return Err(ActionError::Input(
                    "either catalogInfoUrl, or repoContentsUrl (with catalogInfoPath), is required"
                        .into(),
                ))
            }
        };
        let managed = self.managed.as_ref().and_then(|m| match path {
            Some((base, path)) => m.location(base, Some(path)),
            None => m.location(&url, None),
        });
        let new = match managed {
            Some(found) => {
                let l = found?;
                NewLocation {
                    location_type: LocationType::Git,
                    target: l.repo_url,
                    branch: Some(l.branch),
                    path: Some(l.path),
                }
            }
            None => NewLocation::new(LocationType::Url, &url),
        };
        Ok((new, url))
    }
}

/// The reference a registration answers with, as Backstage picks it.
fn main_ref(refs: &[&EntityRef]) -> Option<String> {
    let named = |r: &&&EntityRef| !r.name.starts_with("generated-");
    refs.iter()
        .filter(named)
        .find(|r| r.kind.eq_ignore_ascii_case("component"))
        .or_else(|| {
            refs.iter()
                .filter(named)
                .find(|r| !r.kind.eq_ignore_ascii_case("location"))
        })
        .or_else(|| refs.first())
        .map(|r| r.to_ref_string())
}

#[async_trait]
impl Action for CatalogRegister {
    fn id(&self) -> &'static str {
        "catalog:register"
    }
    fn description(&self) -> &'static str {
        "Registers entities from a catalog descriptor file in the workspace into the software catalog."
    }
    fn input_schema(&self) -> Value {
        let optional = json!({"type": "boolean", "title": "Optional", "description": "Permit the registered location to optionally exist. Default: false"});
        json!({"oneOf": [
            {"type": "object", "required": ["catalogInfoUrl"], "properties": {
                "catalogInfoUrl": {"type": "string", "title": "Catalog Info URL", "description": "An absolute URL pointing to the catalog info file location"},
                "optional": optional,
            }},
            {"type": "object", "required": ["repoContentsUrl"], "properties": {
                "repoContentsUrl": {"type": "string", "title": "Repository Contents URL", "description": "An absolute URL pointing to the root of a repository directory tree"},
                "catalogInfoPath": {"type": "string", "title": "Fetch URL", "description": "A relative path from the repo root pointing to the catalog info file, defaults to /catalog-info.yaml"},
                "optional": optional,
            }},
        ]})
    }
    fn output_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "entityRef": {"type": "string", "title": "The entity reference of the registered entity", "examples": ["component:default/example"]},
            "catalogInfoUrl": {"type": "string", "title": "The URL of the registered catalog descriptor", "examples": ["https://github.com/owner/repo/blob/main/catalog-info.yaml"]},
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
        let optional = boolean(input, "optional")?;
        let (new, url) = self.location(input)?;
        let task: TaskContext = ctx.task(self.id())?.clone();
        ctx.log.push(format!("Registering {url} in the catalog"));
        let registered = task
            .catalog
            .register(&task.caller, new.clone(), false)
            .await;
        let found: Option<AddedLocation> = match registered {
            Ok(added) => Some(added),
            Err(e) if optional => {
                ctx.log.push(format!(
                    "Registering {url} failed ({e}); it is optional, so the task goes on"
                ));
                // As Backstage: what the location provides, asked as a dry run (an existing
                // location answers with its entities).
                match task.catalog.register(&task.caller, new, true).await {
                    Ok(added) => Some(added),
                    Err(e) => {
                        ctx.log.push(format!("Reading {url} failed too ({e})"));
                        None
                    }
                }
            }
            Err(e) => return Err(ActionError::Failed(format!("registering {url}: {e}"))),
        };
        let mut out = Map::new();
        if let Some(added) = found {
            for p in &added.location.problems {
                ctx.log.push(format!("{url}: {}", p.message));
            }
            let refs = added.entities.refs();
            match main_ref(&refs) {
                Some(entity_ref) => {
                    ctx.log.push(format!(
                        "Registered {} entities; the first is {entity_ref}",
                        refs.len()
                    ));
                    out.insert("entityRef".into(), Value::String(entity_ref));
                }
                None => ctx.log.push(format!("{url} provided no entities")),
            }
        }
        out.insert("catalogInfoUrl".into(), Value::String(url));
        Ok(out)
    }
}

pub struct CatalogFetch;

#[async_trait]
impl Action for CatalogFetch {
    fn id(&self) -> &'static str {
        "catalog:fetch"
    }
    fn description(&self) -> &'static str {
        "Returns entity or entities from the catalog by entity reference(s)"
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "entityRef": {"type": "string", "description": "Entity reference of the entity to get"},
            "entityRefs": {"type": "array", "items": {"type": "string"}, "description": "Entity references of the entities to get"},
            "optional": {"type": "boolean", "description": "Allow the entity or entities to optionally exist. Default: false"},
            "defaultKind": {"type": "string", "description": "The default kind"},
            "defaultNamespace": {"type": "string", "description": "The default namespace"},
        }})
    }
    fn output_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "entity": {"type": "object", "description": "Object containing same values used in the Entity schema. Only when used with `entityRef` parameter."},
            "entities": {"type": "array", "items": {"type": "object"}, "description": "Array containing objects with same values used in the Entity schema. Only when used with `entityRefs` parameter."},
        }})
    }
    /// A dry-run has no catalog handle (see the module doc): skipped, as the writes are.
    fn supports_dry_run(&self) -> bool {
        false
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let optional = boolean(input, "optional")?;
        let one = string(input, "entityRef")?.filter(|s| !s.is_empty());
        let many: Option<Vec<String>> = match input.get("entityRefs") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        ActionError::Input("entityRefs: must be a list of strings".into())
                    })?,
            ),
            Some(_) => {
                return Err(ActionError::Input(
                    "entityRefs: must be a list of strings".into(),
                ))
            }
        };
        let mut out = Map::new();
        if one.is_none() && many.is_none() {
            if optional {
                return Ok(out);
            }
            return Err(ActionError::Input(
                "Missing entity reference or references".into(),
            ));
        }
        let task = ctx.task(self.id())?;
        let default_kind = string(input, "defaultKind")?;
        let default_namespace = string(input, "defaultNamespace")?.unwrap_or("default");
        let visible = task.catalog.read(&task.caller);
        let fetch = |reference: &str| -> Result<Value, ActionError> {
            let parsed = parse_ref(reference, default_kind, default_namespace)
                .map_err(|e| ActionError::Input(format!("{reference:?}: {e}")))?;
            match visible.get_key(&RefKey::from_ref(&parsed)) {
                Some(record) => Ok(visible.value(record)),
                None if optional => Ok(Value::Null),
                None => Err(ActionError::Failed(format!("Entity {reference} not found"))),
            }
        };
        if let Some(reference) = one {
            out.insert("entity".into(), fetch(reference)?);
        }
        if let Some(references) = many {
            let entities = references
                .iter()
                .map(|r| fetch(r))
                .collect::<Result<Vec<_>, _>>()?;
            out.insert("entities".into(), Value::Array(entities));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_entity_is_picked_as_backstage_picks_it() {
        let r = |kind: &str, name: &str| EntityRef::new(kind, "default", name);
        let (loc, gen, api, comp) = (
            r("Location", "l"),
            r("Component", "generated-x"),
            r("API", "a"),
            r("Component", "c"),
        );
        assert_eq!(
            main_ref(&[&loc, &gen, &api, &comp]).as_deref(),
            Some("component:default/c")
        );
        assert_eq!(
            main_ref(&[&loc, &gen, &api]).as_deref(),
            Some("api:default/a")
        );
        assert_eq!(
            main_ref(&[&loc, &gen]).as_deref(),
            Some("location:default/l")
        );
        assert_eq!(main_ref(&[]), None);
    }

    #[test]
    fn urls_become_locations() {
        let managed = ManagedGit {
            host: "backlot".into(),
            repos_dir: "/data/repos".into(),
            work_dir: "/data/tmp".into(),
            timeout: std::time::Duration::from_secs(1),
            http_base: None,
        };
        let action = CatalogRegister::new(Some(managed));
        let (new, url) = action
            .location(&json!({"repoContentsUrl": "file:///data/repos/team/svc.git/blob/main"}))
            .unwrap();
        assert_eq!(
            new,
            NewLocation {
                location_type: LocationType::Git,
                target: "file:///data/repos/team/svc.git".into(),
                branch: Some("main".into()),
                path: Some("catalog-info.yaml".into()),
            }
        );
        assert_eq!(
            url,
            "file:///data/repos/team/svc.git/blob/main/catalog-info.yaml"
        );
        let (new, _) = action.location(&json!({"catalogInfoUrl": url})).unwrap();
        assert_eq!(new.target, "file:///data/repos/team/svc.git");
        let (new, url) = action
            .location(&json!({"repoContentsUrl": "https://github.com/o/r/blob/main/", "catalogInfoPath": "/svc/catalog-info.yaml"}))
            .unwrap();
        assert_eq!(
            new,
            NewLocation::new(
                LocationType::Url,
                "https://github.com/o/r/blob/main/svc/catalog-info.yaml"
            )
        );
        assert_eq!(
            url,
            "https://github.com/o/r/blob/main/svc/catalog-info.yaml"
        );
        assert!(action.location(&json!({})).is_err());
        assert!(action
            .location(&json!({"catalogInfoUrl": "file:///data/repos/../x.git/blob/main/a"}))
            .is_err());
    }
}
