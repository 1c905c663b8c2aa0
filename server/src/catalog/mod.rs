//! The catalog: Backstage-compatible entities from descriptor files, processed, stored and
//! stitched with their relations.
//!
//! Stages: [`processing`] reads locations into validated entities; [`service`] decides what
//! changed, writes it through `storage` and publishes a [`snapshot`] that every reader uses;
//! [`query`] runs Backstage's filters over a snapshot; [`views`] shapes it for the UI.

pub mod admin;
pub mod facade;
pub mod parse;
pub mod placeholder;
pub mod processing;
pub mod query;
pub mod reference;
pub mod relations;
pub mod service;
pub mod snapshot;
pub mod validation;
pub mod views;

#[cfg(test)]
mod tests;

pub use service::{CatalogService, CatalogSettings, NewLocation, OrphanStrategy};

/// What can go wrong when using the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The location's source (a Git repository) could not be read.
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("internal error: {0}")]
    Internal(String),
}
