//! Entity validation, as Backstage does it.
//!
//! [`validate_entity`] checks one descriptor entity (already parsed from YAML into JSON) and
//! returns every problem it finds as a [`FieldError`]: the dotted path of the offending field
//! and a sentence saying what was expected and what was found. An empty list means valid.
//!
//! The checks are the ones the Backstage catalog applies before it accepts an entity:
//!
//! 1. **The entity envelope** (`EntityEnvelope.schema.json`): an object with a non-empty string
//!    `apiVersion`, `kind` and `metadata.name`.
//! 2. **The kind's schema**, chosen by `kind`, `apiVersion` and (for kinds with sub-types)
//!    `spec.type`. Every kind schema includes the generic `Entity` schema, which forbids unknown
//!    root fields and types `metadata` (`EntityMeta.schema.json`), `relations` and `status`
//!    (`common.schema.json`).
//!
//!    | kind | apiVersion | schema |
//!    |---|---|---|
//!    | Component, API, Resource, System, Domain, Group, User, Location | `backstage.io/v1alpha1`, `backstage.io/v1beta1` | `kinds/<Kind>.v1alpha1.schema.json` |
//!    | API with `spec.type: mcp-server` | same | `kinds/API.v1alpha1.mcp-server.schema.json` |
//!    | AiResource | `backstage.io/v1alpha1` | `kinds/AiResource.v1alpha1.schema.json`, or the `skill`, `rule`, `plugin` and `marketplace` schema for that `spec.type` |
//!    | Template | `scaffolder.backstage.io/v1beta3` | `Template.v1beta3.schema.json` |
//!
//!    A known kind with another `apiVersion` fails on `apiVersion`, listing the accepted values;
//!    its `spec` is still checked against the kind's schema. Any other kind is checked against
//!    the generic `Entity` schema only (Backstage would need a plugin that knows it), except a
//!    kind that differs from a known kind only in letter case (`component`), which is reported
//!    because kinds are case-sensitive and Backstage would recognise no such kind.
//! 3. **The field formats Backstage enforces in code** (`FieldFormatEntityPolicy` with the
//!    catalog backend's tag rule): `apiVersion`, `kind`, `metadata.name`, `metadata.namespace`,
//!    `metadata.tags[i]`, label keys and values, annotation keys, and `metadata.links[i]`
//!    (`url` an absolute URL, `title` not blank, `icon` a name).
//!
//! Placeholders (`$text`, `$json`, `$yaml`, `$openapi`, `$asyncapi`: an object with that single
//! key and a string value) are accepted wherever they appear: Backstage substitutes them before
//! it validates, and fetching their content (and reporting a failure) is the loader's job.
//!
//! Each field is reported at most once (the first problem found, in the order above), so the
//! same missing field required by several schemas produces one error.
//!
//! The JSON Schemas are Backstage's own (draft-07), embedded from `server/schemas/` and
//! compiled once on first use by a small interpreter for the keywords they use: `$ref` (to a
//! document `$id`, to a fragment `$id` such as `common#relation`, or `#fragment` relative to the
//! current document; siblings of `$ref` are ignored, as draft-07 says), `$id`, `definitions`,
//! `type` (one or a list), `enum`, `const`, `required`, `properties`, `patternProperties`,
//! `additionalProperties` (boolean or schema), `items` (one schema), `minItems`, `maxItems`,
//! `minLength`, `maxLength` (in code points, like ajv), `pattern`, `allOf`, `anyOf`, `oneOf`
//! and `if`/`then`/`else`. Annotations (`$schema`, `title`, `description`, `examples`,
//! `default`, `deprecated`, …) are ignored. There is no regex engine: the two patterns the
//! schemas use (`^\w+$` and `^.+$`) are written by hand. Compiling rejects any other keyword
//! or pattern, so a schema update that needs more support fails the tests instead of being
//! checked by half.
//!
//! Files: `kinds` (the embedded schemas and which kind uses which), `compile` (the schema
//! compiler), `interpret` (checking a value against compiled schemas, and the messages),
//! `formats` (the field formats checked in code), `report` (paths, de-duplication and order).

mod compile;
mod formats;
mod interpret;
mod kinds;
mod report;

use formats::check_field_formats;
use interpret::Subject;
use kinds::{schemas, KNOWN_KINDS};
use report::Collector;
use serde_json::Value;
use std::fmt;

/// One problem with an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, with indexes and bracketed keys where needed:
    /// `metadata.name`, `metadata.tags[1]`, `metadata.annotations["backstage.io/x"]`.
    /// Empty for the entity itself.
    pub field: String,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for FieldError {}

/// Validates one entity (already parsed from YAML into JSON). Empty = valid.
pub fn validate_entity(entity: &serde_json::Value) -> Vec<FieldError> {
    let schemas = schemas();
    let mut out = Collector::default();

    // 1. The envelope.
    let mut raw = Vec::new();
    schemas.validate(schemas.envelope, entity, &Subject::every_entity(), &mut raw);
    out.extend(raw);

    // 2. The kind's schema, or the generic Entity schema.
    let kind = entity.get("kind").and_then(Value::as_str);
    let spec_type = entity
        .get("spec")
        .and_then(|spec| spec.get("type"))
        .and_then(Value::as_str);
    let known = kind.and_then(|kind| KNOWN_KINDS.iter().find(|k| k.kind == kind));
    let mut raw = Vec::new();
    match known {
        Some(known) => {
            let (schema_id, subject) =
                match known.by_type.iter().find(|(ty, _)| Some(*ty) == spec_type) {
                    Some((ty, id)) => (*id, Subject::kind_of_type(known.kind, ty)),
                    None => (known.schema_id, Subject::kind(known.kind)),
                };
            match schemas.by_id.get(schema_id) {
                Some(&node) => schemas.validate(node, entity, &subject, &mut raw),
                None => schemas.validate(schemas.entity, entity, &subject, &mut raw),
            }
        }
        None => schemas.validate(schemas.entity, entity, &Subject::every_entity(), &mut raw),
    }
    out.extend(raw);

    // 3. Field formats.
    let mut raw = Vec::new();
    check_field_formats(entity, &mut raw);
    out.extend(raw);

    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The errors as `(field, message)` pairs.
    pub(super) fn errors(entity: &Value) -> Vec<(String, String)> {
        validate_entity(entity)
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    /// Asserts exactly one error, on `field`, and returns its message.
    pub(super) fn single_error(entity: &Value, field: &str) -> String {
        let errs = errors(entity);
        assert_eq!(
            errs.len(),
            1,
            "expected one error on {field}, got {errs:#?}"
        );
        assert_eq!(errs[0].0, field, "{errs:#?}");
        errs[0].1.clone()
    }

    /// Sorted, since the order of object keys depends on serde_json's features.
    pub(super) fn sorted_errors(entity: &Value) -> Vec<(String, String)> {
        let mut errs = errors(entity);
        errs.sort();
        errs
    }

    pub(super) fn component() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": { "name": "artist-web" },
            "spec": { "type": "website", "lifecycle": "production", "owner": "team-a" }
        })
    }

    /// `component()` with `value` put at the JSON pointer `pointer` (parents must exist).
    pub(super) fn component_with(pointer: &str, value: Value) -> Value {
        let mut entity = component();
        set(&mut entity, pointer, value);
        entity
    }

    fn set(entity: &mut Value, pointer: &str, value: Value) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = entity.pointer_mut(parent).unwrap();
        match parent {
            Value::Object(map) => {
                map.insert(key.to_string(), value);
            }
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            _ => panic!("{pointer}: parent is not a container"),
        }
    }

    fn remove(entity: &mut Value, pointer: &str) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        entity
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
    }

    // -- Real examples ----------------------------------------------------------------------

    /// `examples/components/artist-lookup-component.yaml` (Component).
    fn component_artist_lookup() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "artist-lookup",
                "description": "Artist Lookup",
                "tags": ["java", "data"],
                "links": [
                    {
                        "url": "https://example.com/user",
                        "title": "Examples Users",
                        "icon": "user"
                    },
                    {
                        "url": "https://example.com/group",
                        "title": "Example Group",
                        "icon": "group"
                    },
                    {
                        "url": "https://example.com/cloud",
                        "title": "Link with Cloud Icon",
                        "icon": "cloud"
                    },
                    {
                        "url": "https://example.com/dashboard",
                        "title": "Dashboard",
                        "icon": "dashboard"
                    },
                    {
                        "url": "https://example.com/help",
                        "title": "Support",
                        "icon": "help"
                    },
                    {
                        "url": "https://example.com/web",
                        "title": "Website",
                        "icon": "web"
                    },
                    {
                        "url": "https://example.com/alert",
                        "title": "Alerts",
                        "icon": "alert"
                    }
                ]
            },
            "spec": {
                "type": "service",
                "lifecycle": "experimental",
                "owner": "team-a",
                "system": "artist-engagement-portal"
            }
        })
    }

    /// `examples/apis/wayback-search-api.yaml` (API).
    fn api_wayback_search() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {
                "name": "wayback-search",
                "description": "Search API for the wayback machine"
            },
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "team-a",
                "definition": {
                    "$text": "https://github.com/APIs-guru/openapi-directory/blob/main/APIs/archive.org/search/1.0.0/openapi.yaml"
                }
            }
        })
    }

    /// `examples/apis/streetlights-api.yaml` (API; the inline definition shortened).
    fn api_streetlights() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {
                "name": "streetlights",
                "description": "The Smartylighting Streetlights API allows you to remotely manage the city lights.",
                "tags": ["mqtt"],
                "links": [
                    {
                        "url": "https://github.com/asyncapi/asyncapi/blob/master/examples/1.2.0/streetlights.yml",
                        "title": "Source Code",
                        "icon": "code"
                    }
                ]
            },
            "spec": {
                "type": "asyncapi",
                "lifecycle": "production",
                "owner": "team-c",
                "definition": "asyncapi: 2.0.0\ninfo:\n  title: Streetlights API\n  version: '1.0.0'\n  description: |\n"
            }
        })
    }

    /// `examples/apis/backstage-mcp-server-api.yaml` (API).
    fn api_backstage_mcp_server() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {
                "name": "backstage-mcp-server",
                "description": "An MCP server that exposes tools related to the Backstage ecosystem",
                "tags": ["mcp", "ai"]
            },
            "spec": {
                "type": "mcp-server",
                "lifecycle": "experimental",
                "owner": "team-a",
                "remotes": [
                    {
                        "type": "streamable-http",
                        "url": "http://localhost:7007/api/mcp/v1"
                    }
                ]
            }
        })
    }

    /// `examples/resources/artists-db-resource.yaml` (Resource).
    fn resource_artists_db() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {
                "name": "artists-db",
                "description": "Stores artist details"
            },
            "spec": {
                "type": "database",
                "owner": "team-a",
                "system": "artist-engagement-portal"
            }
        })
    }

    /// `examples/systems/audio-playback-system.yaml` (System).
    fn system_audio_playback() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "System",
            "metadata": {
                "name": "audio-playback",
                "description": "Audio playback system"
            },
            "spec": {
                "owner": "team-c",
                "domain": "playback",
                "type": "feature-set"
            }
        })
    }

    /// `examples/domains/artists-domain.yaml` (Domain).
    fn domain_artists() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Domain",
            "metadata": {
                "name": "artists",
                "description": "Everything related to artists",
                "title": "Artists",
                "links": [
                    {
                        "url": "http://example.com/domain/artists/",
                        "title": "Domain Readme"
                    },
                    {
                        "url": "http://example.com/domains/artists/dashboard",
                        "title": "Domain Metrics Dashboard",
                        "icon": "dashboard"
                    }
                ]
            },
            "spec": {
                "owner": "team-a",
                "subdomainOf": "audio"
            }
        })
    }

    /// `examples/acme/org.yaml` (Group).
    fn group_acme_corp() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {
                "name": "acme-corp",
                "description": "The acme-corp organization",
                "links": [
                    {
                        "url": "http://www.acme.com/",
                        "title": "Website"
                    },
                    {
                        "url": "https://meta.wikimedia.org/wiki/",
                        "title": "Intranet"
                    }
                ]
            },
            "spec": {
                "type": "organization",
                "profile": {
                    "displayName": "ACME Corp",
                    "email": "info@example.com",
                    "picture": "https://avatars.dicebear.com/api/identicon/info@example.com.svg?background=%23fff&margin=25"
                },
                "children": ["infrastructure"]
            }
        })
    }

    /// `examples/acme/team-a-group.yaml` (Group).
    fn group_team_a() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {
                "name": "team-a",
                "description": "Team A"
            },
            "spec": {
                "type": "team",
                "profile": {
                    "email": "team-a@example.com",
                    "picture": "https://api.dicebear.com/7.x/identicon/svg?seed=Fluffy&backgroundType=solid,gradientLinear&backgroundColor=ffd5dc,b6e3f4"
                },
                "parent": "backstage",
                "children": []
            }
        })
    }

    /// `examples/acme/team-a-group.yaml` (User).
    fn user_breanna_davison() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {
                "name": "breanna.davison"
            },
            "spec": {
                "profile": {
                    "email": "breanna-davison@example.com",
                    "picture": "https://api.dicebear.com/7.x/avataaars/svg?seed=Luna&backgroundColor=transparent"
                },
                "memberOf": ["team-a"]
            }
        })
    }

    /// `examples/all.yaml` (Location).
    fn location_all() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {
                "name": "example-all",
                "description": "A collection of all Backstage example entities, except users, groups, and templates"
            },
            "spec": {
                "targets": [
                    "./all-ai-resources.yaml",
                    "./all-apis.yaml",
                    "./all-components.yaml",
                    "./all-domains.yaml",
                    "./all-resources.yaml",
                    "./all-systems.yaml"
                ]
            }
        })
    }

    /// `examples/ai-resources/frontend-design-skill.yaml` (AiResource).
    fn ai_resource_frontend_design_skill() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "AiResource",
            "metadata": {
                "name": "frontend-design",
                "description": "Skill for creating production-grade frontend interfaces using the internal design system"
            },
            "spec": {
                "type": "skill",
                "lifecycle": "production",
                "owner": "team-a",
                "system": "artist-engagement-portal",
                "disciplines": ["web"],
                "categories": ["framework", "design-system"],
                "agents": ["claude-code", "copilot"]
            }
        })
    }

    /// `examples/ai-resources/use-internal-apis-rule.yaml` (AiResource).
    fn ai_resource_use_internal_apis_rule() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "AiResource",
            "metadata": {
                "name": "use-internal-apis",
                "description": "Agents must use internal API clients instead of raw HTTP calls"
            },
            "spec": {
                "type": "rule",
                "lifecycle": "production",
                "owner": "team-a",
                "system": "artist-engagement-portal",
                "disciplines": ["web", "backend"],
                "category": "architecture",
                "rationale": "Ensures consistent error handling, authentication, and observability across all service calls"
            }
        })
    }

    /// The example of `Template.v1beta3.schema.json` (from `@backstage/plugin-scaffolder-common`).
    fn template_react_ssr() -> Value {
        json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {
                "name": "react-ssr-template",
                "title": "React SSR Template",
                "description": "Next.js application skeleton for creating isomorphic web applications.",
                "tags": ["recommended", "react"]
            },
            "spec": {
                "owner": "artist-relations-team",
                "type": "website",
                "lifecycle": "production",
                "parameters": {
                    "required": ["name", "description", "repoUrl"],
                    "backstage:permissions": { "tags": ["one", "two"] },
                    "properties": {
                        "name": {
                            "title": "Name",
                            "type": "string",
                            "description": "Unique name of the component"
                        },
                        "description": {
                            "title": "Description",
                            "type": "string",
                            "description": "Description of the component"
                        },
                        "repoUrl": {
                            "title": "Pick a repository",
                            "type": "string",
                            "ui:field": "RepoUrlPicker"
                        }
                    }
                },
                "steps": [
                    {
                        "id": "fetch",
                        "name": "Fetch",
                        "action": "fetch:plain",
                        "parameters": { "url": "./template" },
                        "backstage:permissions": { "tags": ["one", "two"] }
                    },
                    {
                        "id": "publish",
                        "name": "Publish to GitHub",
                        "action": "publish:github",
                        "parameters": { "repoUrl": "${{ parameters.repoUrl }}" },
                        "if": "${{ parameters.repoUrl }}"
                    }
                ],
                "output": {
                    "catalogInfoUrl": "${{ steps.publish.output.catalogInfoUrl }}"
                }
            }
        })
    }

    #[test]
    fn real_examples_of_every_kind_are_valid() {
        let examples = [
            ("Component", component_artist_lookup()),
            ("API (openapi, $text definition)", api_wayback_search()),
            ("API (asyncapi, inline definition)", api_streetlights()),
            ("API (mcp-server)", api_backstage_mcp_server()),
            ("Resource", resource_artists_db()),
            ("System", system_audio_playback()),
            ("Domain", domain_artists()),
            ("Group (root)", group_acme_corp()),
            ("Group (team)", group_team_a()),
            ("User", user_breanna_davison()),
            ("Location", location_all()),
            ("AiResource (skill)", ai_resource_frontend_design_skill()),
            ("AiResource (rule)", ai_resource_use_internal_apis_rule()),
        ];
        for (what, entity) in examples {
            assert_eq!(errors(&entity), vec![], "{what} should be valid");
        }
    }

    #[test]
    fn template_example_is_valid() {
        assert_eq!(errors(&template_react_ssr()), vec![]);
        // Parameters may also be a list of forms, and step conditions booleans.
        let mut template = template_react_ssr();
        set(
            &mut template,
            "/spec/parameters",
            json!([{ "title": "Fill in", "properties": {} }, { "title": "Choose" }]),
        );
        set(&mut template, "/spec/steps/1/if", json!(false));
        set(
            &mut template,
            "/spec/output/links",
            json!([{ "title": "Repository", "url": "https://example.com/repo" }]),
        );
        assert_eq!(errors(&template), vec![]);
    }

    #[test]
    fn unknown_kind_that_fits_the_envelope_is_valid() {
        let entity = json!({
            "apiVersion": "example.com/v1",
            "kind": "Foo",
            "metadata": { "name": "my-foo", "namespace": "team-x" },
            "spec": { "anything": ["goes", 1, true] }
        });
        assert_eq!(errors(&entity), vec![]);
        // Even without a spec.
        let entity = json!({ "apiVersion": "v1", "kind": "Foo", "metadata": { "name": "x" } });
        assert_eq!(errors(&entity), vec![]);
    }

    #[test]
    fn v1beta1_is_accepted_for_builtin_kinds() {
        let entity = component_with("/apiVersion", json!("backstage.io/v1beta1"));
        assert_eq!(errors(&entity), vec![]);
    }

    #[test]
    fn placeholders_are_accepted_unresolved() {
        for placeholder in [
            json!({ "$text": "./petstore.oas.yaml" }),
            json!({ "$openapi": "https://example.com/openapi.yaml" }),
            json!({ "$yaml": "./def.yaml" }),
        ] {
            let mut api = api_streetlights();
            set(&mut api, "/spec/definition", placeholder);
            assert_eq!(errors(&api), vec![]);
        }
        // Not a placeholder: two keys.
        let mut api = api_streetlights();
        set(
            &mut api,
            "/spec/definition",
            json!({ "$text": "./a.yaml", "extra": 1 }),
        );
        assert_eq!(
            single_error(&api, "spec.definition"),
            "expected a string of at least 1 character, found an object"
        );
    }

    // -- The envelope -----------------------------------------------------------------------

    #[test]
    fn entity_must_be_an_object() {
        assert_eq!(
            single_error(&json!(["not", "an", "entity"]), ""),
            "expected an object, found an array"
        );
        assert_eq!(
            single_error(&Value::Null, ""),
            "expected an object, found null (an empty value)"
        );
    }

    #[test]
    fn envelope_fields_are_required_once_each() {
        let errs = errors(&json!({}));
        let reason = "is required (every entity needs apiVersion, kind and metadata)";
        assert_eq!(
            errs,
            vec![
                ("apiVersion".to_string(), reason.to_string()),
                ("kind".to_string(), reason.to_string()),
                ("metadata".to_string(), reason.to_string()),
            ]
        );
        let mut entity = component();
        remove(&mut entity, "/metadata/name");
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "is required (every entity needs metadata.name)"
        );
    }

    #[test]
    fn wrong_types_say_what_was_expected_and_found() {
        let entity = component_with("/metadata/name", json!(42));
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "expected a string of at least 1 character, found a number"
        );
        let entity = component_with("/metadata/name", json!(""));
        assert_eq!(
            single_error(&entity, "metadata.name"),
            "expected a string of at least 1 character, found an empty string"
        );
        let entity = component_with("/metadata", json!("artist-web"));
        assert_eq!(
            single_error(&entity, "metadata"),
            "expected an object, found a string"
        );
        let entity = component_with("/kind", json!(["Component"]));
        assert_eq!(
            single_error(&entity, "kind"),
            "expected a string of at least 1 character, found an array"
        );
    }

    #[test]
    fn unknown_root_field_is_named() {
        let entity = component_with("/owner", json!("team-a"));
        assert_eq!(
            single_error(&entity, "owner"),
            "unknown field \"owner\": the fields allowed at the top level of an entity are \
             apiVersion, kind, metadata, relations, spec and status"
        );
    }
    // -- Kinds --------------------------------------------------------------------------------

    #[test]
    fn known_kind_with_wrong_api_version() {
        let entity = component_with("/apiVersion", json!("backstage.io/v2"));
        assert_eq!(
            single_error(&entity, "apiVersion"),
            "must be one of \"backstage.io/v1alpha1\", \"backstage.io/v1beta1\" (found \
             \"backstage.io/v2\")"
        );
        let mut skill = ai_resource_frontend_design_skill();
        set(&mut skill, "/apiVersion", json!("backstage.io/v1beta1"));
        assert_eq!(
            single_error(&skill, "apiVersion"),
            "must be one of \"backstage.io/v1alpha1\" (found \"backstage.io/v1beta1\")"
        );
        let mut template = template_react_ssr();
        set(
            &mut template,
            "/apiVersion",
            json!("scaffolder.backstage.io/v1beta2"),
        );
        assert_eq!(
            single_error(&template, "apiVersion"),
            "must be one of \"scaffolder.backstage.io/v1beta3\" (found \
             \"scaffolder.backstage.io/v1beta2\")"
        );
        // The spec is still checked.
        let mut entity = component_with("/apiVersion", json!("backstage.io/v2"));
        remove(&mut entity, "/spec/owner");
        let fields: Vec<String> = errors(&entity).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["apiVersion", "spec.owner"]);
    }

    #[test]
    fn component_required_spec_fields() {
        let mut entity = component();
        remove(&mut entity, "/spec/owner");
        assert_eq!(
            single_error(&entity, "spec.owner"),
            "is required (Component entities need spec.type, spec.lifecycle and spec.owner)"
        );
        let entity = component_with("/spec", json!({}));
        let fields: Vec<String> = errors(&entity).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["spec.type", "spec.lifecycle", "spec.owner"]);
        let mut entity = component();
        remove(&mut entity, "/spec");
        assert_eq!(
            single_error(&entity, "spec"),
            "is required (Component entities need spec)"
        );
    }

    #[test]
    fn spec_field_types() {
        let entity = component_with("/spec/owner", json!(42));
        assert_eq!(
            single_error(&entity, "spec.owner"),
            "expected a string of at least 1 character, found a number"
        );
        let entity = component_with("/spec/owner", Value::Null);
        assert_eq!(
            single_error(&entity, "spec.owner"),
            "expected a string of at least 1 character, found null (an empty value)"
        );
        // Wrong in both the Entity schema and the Component schema: reported once.
        let entity = component_with("/spec", json!("service"));
        assert_eq!(
            single_error(&entity, "spec"),
            "expected an object, found a string"
        );
        let entity = component_with("/spec/dependsOn", json!(["resource:db", ""]));
        assert_eq!(
            single_error(&entity, "spec.dependsOn[1]"),
            "expected a string of at least 1 character, found an empty string"
        );
    }

    #[test]
    fn location_targets_and_presence() {
        let mut location = location_all();
        set(&mut location, "/spec/targets/0", json!(""));
        assert_eq!(
            single_error(&location, "spec.targets[0]"),
            "expected a string of at least 1 character, found an empty string"
        );
        let mut location = location_all();
        set(&mut location, "/spec/presence", json!("maybe"));
        assert_eq!(
            single_error(&location, "spec.presence"),
            "must be one of \"required\", \"optional\" (found \"maybe\")"
        );
    }

    #[test]
    fn group_and_user_required_lists() {
        let mut group = group_team_a();
        remove(&mut group, "/spec/children");
        assert_eq!(
            single_error(&group, "spec.children"),
            "is required (Group entities need spec.type and spec.children)"
        );
        let mut user = user_breanna_davison();
        set(&mut user, "/spec/memberOf", json!("team-a"));
        assert_eq!(
            single_error(&user, "spec.memberOf"),
            "expected an array, found a string"
        );
    }

    #[test]
    fn api_needs_a_definition_unless_it_is_an_mcp_server() {
        let mut api = api_streetlights();
        remove(&mut api, "/spec/definition");
        assert_eq!(
            single_error(&api, "spec.definition"),
            "is required (API entities need spec.type, spec.lifecycle, spec.owner and \
             spec.definition)"
        );
        let mut mcp = api_backstage_mcp_server();
        set(&mut mcp, "/spec/remotes", json!([]));
        assert_eq!(
            single_error(&mcp, "spec.remotes"),
            "expected an array of at least 1 item, found an empty array"
        );
        let mut mcp = api_backstage_mcp_server();
        set(&mut mcp, "/spec/remotes", json!([{ "type": "stdio" }]));
        assert_eq!(
            single_error(&mcp, "spec.remotes[0].url"),
            "is required (each item of spec.remotes needs type and url)"
        );
        let mut mcp = api_backstage_mcp_server();
        remove(&mut mcp, "/spec/remotes");
        assert_eq!(
            single_error(&mcp, "spec.remotes"),
            "is required (API entities of type \"mcp-server\" need spec.type, spec.lifecycle, \
             spec.owner and spec.remotes)"
        );
    }

    #[test]
    fn ai_resource_types() {
        let mut rule = ai_resource_use_internal_apis_rule();
        remove(&mut rule, "/spec/rationale");
        assert_eq!(
            single_error(&rule, "spec.rationale"),
            "is required (AiResource entities of type \"rule\" need spec.type, spec.lifecycle, \
             spec.owner, spec.category and spec.rationale)"
        );
        let mut skill = ai_resource_frontend_design_skill();
        set(&mut skill, "/spec/compatibility", json!("x".repeat(501)));
        assert_eq!(
            single_error(&skill, "spec.compatibility"),
            "expected a string of 1 to 500 characters, found 501 characters"
        );
        // An unlisted type only needs the generic AiResource fields.
        let mut other = ai_resource_frontend_design_skill();
        set(&mut other, "/spec/type", json!("prompt"));
        assert_eq!(errors(&other), vec![]);
        let mut plugin = ai_resource_frontend_design_skill();
        set(&mut plugin, "/spec/type", json!("plugin"));
        assert_eq!(
            single_error(&plugin, "spec.skills"),
            "is required (AiResource entities of type \"plugin\" need spec.type, \
             spec.lifecycle, spec.owner and spec.skills)"
        );
    }

    #[test]
    fn template_errors() {
        let mut template = template_react_ssr();
        set(&mut template, "/spec/parameters", json!("name"));
        assert_eq!(
            single_error(&template, "spec.parameters"),
            "expected an object or an array, found a string"
        );
        let mut template = template_react_ssr();
        set(
            &mut template,
            "/spec/parameters",
            json!([{ "backstage:permissions": [] }]),
        );
        assert_eq!(
            single_error(&template, "spec.parameters[0].backstage:permissions"),
            "expected an object, found an empty array"
        );
        let mut template = template_react_ssr();
        remove(&mut template, "/spec/steps/0/action");
        set(&mut template, "/spec/steps/1/if", json!(1));
        assert_eq!(
            errors(&template),
            vec![
                (
                    "spec.steps[0].action".to_string(),
                    "is required (each item of spec.steps needs action)".to_string()
                ),
                (
                    "spec.steps[1].if".to_string(),
                    "expected a string or a boolean, found a number".to_string()
                ),
            ]
        );
        let mut template = template_react_ssr();
        set(&mut template, "/spec/output/repoUrl", json!(7));
        assert_eq!(
            single_error(&template, "spec.output.repoUrl"),
            "expected a string, found a number"
        );
        let mut template = template_react_ssr();
        remove(&mut template, "/spec/steps");
        assert_eq!(
            single_error(&template, "spec.steps"),
            "is required (Template entities need spec.type and spec.steps)"
        );
    }

    #[test]
    fn relations_and_status() {
        let entity = component_with(
            "/relations",
            json!([
                { "type": "ownedBy", "targetRef": "group:default/team-a" },
                { "type": "owned-by", "targetRef": "group:default/team-a" },
                { "type": "partOf" },
                { "type": "partOf", "targetRef": "system:default/x", "note": "hi" },
                { "type": "partOf", "targetRef": "system:default/x", "target": { "kind": "System" } }
            ]),
        );
        assert_eq!(
            sorted_errors(&entity),
            vec![
                (
                    "relations[1].type".to_string(),
                    "expected a single word of letters, digits and '_', found \"owned-by\""
                        .to_string()
                ),
                (
                    "relations[2].targetRef".to_string(),
                    "is required (each item of relations needs type and targetRef)".to_string()
                ),
                (
                    "relations[3].note".to_string(),
                    "unknown field \"note\": the fields allowed in relations[3] are target, \
                     targetRef and type"
                        .to_string()
                ),
                (
                    "relations[4].target.name".to_string(),
                    "is required (relations[4].target needs kind, namespace and name)".to_string()
                ),
                (
                    "relations[4].target.namespace".to_string(),
                    "is required (relations[4].target needs kind, namespace and name)".to_string()
                ),
            ]
        );
        let entity = component_with(
            "/status",
            json!({ "items": [{ "type": "x", "level": "fatal", "message": "m" }] }),
        );
        assert_eq!(
            single_error(&entity, "status.items[0].level"),
            "must be one of \"info\", \"warning\", \"error\" (found \"fatal\")"
        );
    }

    #[test]
    fn one_error_per_field() {
        // Missing metadata entirely: required by the envelope and by the Entity schema.
        let mut entity = component();
        remove(&mut entity, "/metadata");
        assert_eq!(
            single_error(&entity, "metadata"),
            "is required (every entity needs apiVersion, kind and metadata)"
        );
        // Wrong apiVersion type: the envelope's type error, not also the kind's enum error.
        let entity = component_with("/apiVersion", json!(1));
        assert_eq!(
            single_error(&entity, "apiVersion"),
            "expected a string of at least 1 character, found a number"
        );
    }

    #[test]
    fn errors_are_ordered_by_top_level_field() {
        let mut entity = component_with("/metadata/name", json!("My Service"));
        remove(&mut entity, "/spec/owner");
        set(&mut entity, "/kind", json!("Component"));
        set(&mut entity, "/metadata/tags", json!(["Java"]));
        set(&mut entity, "/extra", json!(true));
        let fields: Vec<String> = errors(&entity).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec!["metadata.name", "metadata.tags[0]", "spec.owner", "extra"]
        );
    }
    #[test]
    fn display() {
        let error = FieldError {
            field: "spec.owner".to_string(),
            message: "is required".to_string(),
        };
        assert_eq!(error.to_string(), "spec.owner: is required");
        let root = FieldError {
            field: String::new(),
            message: "expected an object, found an array".to_string(),
        };
        assert_eq!(root.to_string(), "expected an object, found an array");
    }
}
