//! The embedded Backstage schemas and the kinds they describe: which schema (by `$id`) checks
//! which `kind`, and its `spec.type` variants. The schemas are compiled once, on first use.

use super::compile::Schemas;
use std::sync::OnceLock;

/// The embedded schema documents, by file name under `server/schemas/`.
pub(super) const SCHEMA_SOURCES: &[(&str, &str)] = &[
    (
        "EntityEnvelope.schema.json",
        include_str!("../../../schemas/EntityEnvelope.schema.json"),
    ),
    (
        "Entity.schema.json",
        include_str!("../../../schemas/Entity.schema.json"),
    ),
    (
        "EntityMeta.schema.json",
        include_str!("../../../schemas/EntityMeta.schema.json"),
    ),
    (
        "common.schema.json",
        include_str!("../../../schemas/common.schema.json"),
    ),
    (
        "kinds/API.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/API.v1alpha1.schema.json"),
    ),
    (
        "kinds/API.v1alpha1.mcp-server.schema.json",
        include_str!("../../../schemas/kinds/API.v1alpha1.mcp-server.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/AiResource.v1alpha1.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.skill.schema.json",
        include_str!("../../../schemas/kinds/AiResource.v1alpha1.skill.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.rule.schema.json",
        include_str!("../../../schemas/kinds/AiResource.v1alpha1.rule.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.plugin.schema.json",
        include_str!("../../../schemas/kinds/AiResource.v1alpha1.plugin.schema.json"),
    ),
    (
        "kinds/AiResource.v1alpha1.marketplace.schema.json",
        include_str!("../../../schemas/kinds/AiResource.v1alpha1.marketplace.schema.json"),
    ),
    (
        "kinds/Component.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/Component.v1alpha1.schema.json"),
    ),
    (
        "kinds/Domain.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/Domain.v1alpha1.schema.json"),
    ),
    (
        "kinds/Group.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/Group.v1alpha1.schema.json"),
    ),
    (
        "kinds/Location.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/Location.v1alpha1.schema.json"),
    ),
    (
        "kinds/Resource.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/Resource.v1alpha1.schema.json"),
    ),
    (
        "kinds/System.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/System.v1alpha1.schema.json"),
    ),
    (
        "kinds/User.v1alpha1.schema.json",
        include_str!("../../../schemas/kinds/User.v1alpha1.schema.json"),
    ),
    (
        "Template.v1beta3.schema.json",
        include_str!("../../../schemas/Template.v1beta3.schema.json"),
    ),
];

/// A kind Backstage knows, with the `$id` of its schema and of its `spec.type` variants.
pub(super) struct KnownKind {
    pub(super) kind: &'static str,
    pub(super) schema_id: &'static str,
    pub(super) by_type: &'static [(&'static str, &'static str)],
}

pub(super) const KNOWN_KINDS: &[KnownKind] = &[
    KnownKind {
        kind: "Component",
        schema_id: "ComponentV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "API",
        schema_id: "ApiV1alpha1",
        by_type: &[("mcp-server", "ApiV1alpha1McpServer")],
    },
    KnownKind {
        kind: "Resource",
        schema_id: "ResourceV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "System",
        schema_id: "SystemV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "Domain",
        schema_id: "DomainV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "Group",
        schema_id: "GroupV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "User",
        schema_id: "UserV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "Location",
        schema_id: "LocationV1alpha1",
        by_type: &[],
    },
    KnownKind {
        kind: "AiResource",
        schema_id: "AiResourceV1alpha1",
        by_type: &[
            ("skill", "AiResourceV1alpha1Skill"),
            ("rule", "AiResourceV1alpha1Rule"),
            ("plugin", "AiResourceV1alpha1Plugin"),
            ("marketplace", "AiResourceV1alpha1Marketplace"),
        ],
    },
    KnownKind {
        kind: "Template",
        schema_id: "TemplateV1beta3",
        by_type: &[],
    },
];

pub(super) fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        Schemas::compile(SCHEMA_SOURCES).expect("the embedded Backstage schemas compile")
    })
}
