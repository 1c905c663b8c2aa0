//! The Locations page's operations for the UI (`LocationAdmin`): list with status, refresh now,
//! register with a dry-run preview. Everything goes through the catalog's [`Facade`].

use super::facade::Facade;
use super::source::NewLocation;
use super::views::location_status;
use super::CatalogError;
use app::error::AppError;
use app::model::{Caller, EntityRef, EntitySummary, ImportRequest, ImportResult, LocationStatus};
use app::services::{BoxFuture, LocationAdmin};
use serde_json::Value;

pub struct Admin(pub Facade);

/// A location's status as `caller` sees it now.
fn status_of(facade: &Facade, caller: &Caller, id: &str) -> Result<LocationStatus, AppError> {
    let v = facade.read(caller);
    v.location(id)
        .map(|l| location_status(l, &v))
        .ok_or_else(|| AppError::NotFound(format!("no location with id {id}")))
}

impl LocationAdmin for Admin {
    fn locations(&self, caller: &Caller) -> Vec<LocationStatus> {
        let v = self.0.read(caller);
        v.locations().map(|l| location_status(l, &v)).collect()
    }

    fn refresh(&self, caller: Caller, id: String) -> BoxFuture<Result<LocationStatus, AppError>> {
        let facade = self.0.clone();
        Box::pin(async move {
            match facade.refresh_location(&caller, &id).await {
                // A repository that cannot be read is shown on the location itself.
                Ok(()) | Err(CatalogError::Source(_)) => status_of(&facade, &caller, &id),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn import(
        &self,
        caller: Caller,
        request: ImportRequest,
        dry_run: bool,
    ) -> BoxFuture<Result<ImportResult, AppError>> {
        let facade = self.0.clone();
        Box::pin(async move {
            let new = NewLocation::parse(
                &request.location_type,
                &request.target,
                request.branch,
                request.path,
            )?;
            let added = facade.register(&caller, new, dry_run).await?;
            let v = facade.read(&caller);
            let entities = added.entities.summaries();
            Ok(ImportResult {
                location: location_status(&added.location, &v),
                entities,
                exists: added.exists,
                dry_run,
            })
        })
    }
}

/// A summary of an entity as read (for previews, which are not in the snapshot).
pub(super) fn summary_of(v: &Value) -> Option<EntitySummary> {
    let text = |p: &[&str]| {
        let mut cur = v;
        for k in p {
            cur = cur.get(k)?;
        }
        cur.as_str().map(str::to_string)
    };
    let kind = text(&["kind"])?;
    let entity_ref = EntityRef::new(
        super::reference::canonical_kind(&kind),
        text(&["metadata", "namespace"]).unwrap_or_else(|| "default".into()),
        text(&["metadata", "name"])?,
    );
    let owner = text(&["spec", "owner"])
        .and_then(|o| super::reference::parse_ref(&o, Some("group"), &entity_ref.namespace).ok());
    let errors = v["status"]["items"].as_array().map_or(0, Vec::len);
    Some(EntitySummary {
        entity_ref,
        title: text(&["metadata", "title"]),
        description: text(&["metadata", "description"]),
        spec_type: text(&["spec", "type"]),
        lifecycle: text(&["spec", "lifecycle"]),
        owner,
        system: None,
        tags: v["metadata"]["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        error_count: errors,
    })
}
