//! The Locations page's operations for the UI (`LocationAdmin`): list with status, refresh now,
//! register with a dry-run preview. Everything goes through the catalog service.

use super::service::CatalogService;
use super::source::NewLocation;
use super::views::location_status;
use super::CatalogError;
use app::model::{EntityRef, EntitySummary, ImportRequest, ImportResult, LocationStatus};
use app::services::{BoxFuture, LocationAdmin};
use serde_json::Value;
use std::sync::Arc;

pub struct Admin(pub Arc<CatalogService>);

impl Admin {
    fn status_of(&self, id: &str) -> Result<LocationStatus, String> {
        let snap = self.0.snapshot();
        snap.locations
            .iter()
            .find(|l| l.id == id)
            .map(|l| location_status(l, &snap, self.0.sources()))
            .ok_or_else(|| format!("no location with id {id}"))
    }
}

impl LocationAdmin for Admin {
    fn locations(&self) -> Vec<LocationStatus> {
        let snap = self.0.snapshot();
        snap.locations
            .iter()
            .map(|l| location_status(l, &snap, self.0.sources()))
            .collect()
    }

    fn refresh(&self, id: String) -> BoxFuture<Result<LocationStatus, String>> {
        let catalog = self.0.clone();
        Box::pin(async move {
            let admin = Admin(catalog.clone());
            match catalog.refresh_location(&id).await {
                // A repository that cannot be read is shown on the location itself.
                Ok(()) | Err(CatalogError::Source(_)) => admin.status_of(&id),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn import(
        &self,
        request: ImportRequest,
        dry_run: bool,
    ) -> BoxFuture<Result<ImportResult, String>> {
        let catalog = self.0.clone();
        Box::pin(async move {
            let new = NewLocation::parse(
                &request.location_type,
                &request.target,
                request.branch,
                request.path,
            )
            .map_err(|e| e.to_string())?;
            let added = catalog
                .register(new, dry_run)
                .await
                .map_err(|e| e.to_string())?;
            let snap = catalog.snapshot();
            let entities = added.entities.summaries();
            Ok(ImportResult {
                location: location_status(&added.location, &snap, catalog.sources()),
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
