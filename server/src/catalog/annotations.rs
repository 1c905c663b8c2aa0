//! The annotations the catalog sets or reads: Backstage's well-known ones and Backlot's own.
//! Sources set them while reading; pages and the docs read them.

/// The location a descriptor was read from (`file:/abs/path`, `url:https://…`).
pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
/// The registered location that led to it.
pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
/// The folder of the entity's sources (`url:https://…/tree/<branch>/<dir>`).
pub const SOURCE_LOCATION: &str = "backstage.io/source-location";
/// The descriptor's web page.
pub const VIEW_URL: &str = "backstage.io/view-url";
/// Where the descriptor is edited on the web.
pub const EDIT_URL: &str = "backstage.io/edit-url";
/// Where the entity's docs are (`dir:<folder>` relative to the descriptor).
pub const TECHDOCS_REF: &str = "backstage.io/techdocs-ref";
/// The commit a descriptor was read at.
pub const SOURCE_COMMIT: &str = "backlot.dev/source-commit";
/// When that commit was made (RFC 3339): when the descriptor last changed, as far as Backlot saw.
pub const SOURCE_CHANGED_AT: &str = "backlot.dev/source-changed-at";
