//! Tests of the template forms against real-world parameter shapes (fixtures in `testdata/`).

use std::sync::Arc;

use serde_json::{json, Value};

use super::*;

fn yaml(text: &str) -> Value {
    yaml_serde::from_str(text).expect("fixture is YAML")
}

fn react_app() -> Pages {
    Pages::from_template(&yaml(include_str!("testdata/react-app.yaml"))).expect("pages")
}

fn dependencies() -> Pages {
    let schema: Value =
        serde_json::from_str(include_str!("testdata/dependencies.json")).expect("JSON");
    Pages::parse(&schema).expect("pages")
}

fn deploy() -> Pages {
    Pages::parse(&yaml(include_str!("testdata/deploy-if-then.yaml"))).expect("pages")
}

fn features() -> Pages {
    let doc = yaml(include_str!("testdata/features-secrets.yaml"));
    Pages::parse(&doc["parameters"]).expect("pages")
}

fn names(fields: &[Field]) -> Vec<&str> {
    fields.iter().map(|f| f.name.as_str()).collect()
}

fn sorted(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names
}

fn errors(list: &[FieldError]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn scaffolder_react_app_pages_fields_and_ui_keys() {
    let pages = react_app();
    assert_eq!(pages.len(), 2);
    let first = &pages.pages[0];
    assert_eq!(first.label(), "Provide some simple information");
    // `ui:order` puts these two first; `*` is the rest.
    assert_eq!(&names(&first.fields)[..2], ["component_id", "description"]);
    assert_eq!(
        sorted(names(&first.fields)[2..].to_vec()),
        ["owner", "system"]
    );
    let field = |name: &str| first.fields.iter().find(|f| f.name == name).expect("field");
    let id = field("component_id");
    assert_eq!(id.kind, FieldType::String);
    assert_eq!(id.label(), "Name");
    assert!(id.required);
    assert!(id.ui.autofocus);
    assert_eq!(id.ui.field, Some(FieldExtension::EntityNamePicker));
    assert!(!field("description").required);
    assert_eq!(field("description").ui.widget, Some(Widget::Textarea));
    assert_eq!(field("description").ui.options["rows"], json!(3));
    let owner = field("owner");
    assert!(owner.required);
    assert_eq!(owner.ui.field, Some(FieldExtension::OwnerPicker));
    assert_eq!(owner.ui.options["catalogFilter"], json!({"kind": "Group"}));
    assert_eq!(
        field("system").ui.options["allowedKinds"],
        json!(["System"])
    );
    let repo = &pages.pages[1].fields[0];
    assert_eq!(repo.path, "repoUrl");
    assert_eq!(repo.ui.field, Some(FieldExtension::RepoUrlPicker));
    assert_eq!(repo.ui.options["allowedHosts"], json!(["github.com"]));
}

#[test]
fn scaffolder_react_app_validation_and_extensions() {
    let pages = react_app();
    let context = Context::default();
    let first = &pages.pages[0];
    assert_eq!(
        errors(&first.validate(&json!({}), &context)),
        [
            ("component_id", "Name is required"),
            ("owner", "Owner is required")
        ]
    );
    let bad = first.validate(
        &json!({"component_id": "-bad name", "owner": "group:web"}),
        &context,
    );
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].field, "component_id");
    assert!(
        bad[0].message.starts_with("Name must be 1 to 63 letters"),
        "{bad:?}"
    );
    let long = "a".repeat(64);
    assert_eq!(
        first
            .validate(&json!({"component_id": long, "owner": "x"}), &context)
            .len(),
        1
    );
    assert!(first
        .validate(
            &json!({"component_id": "web_shop.v2", "owner": "group:web"}),
            &context
        )
        .is_empty());

    let second = &pages.pages[1];
    let check = |url: &str| -> Vec<String> {
        second
            .validate(&json!({ "repoUrl": url }), &context)
            .into_iter()
            .map(|e| e.message)
            .collect()
    };
    assert!(check("github.com?owner=northwind&repo=web").is_empty());
    assert_eq!(
        check("gitlab.com?owner=northwind&repo=web"),
        ["Repository Location: host must be one of: github.com"]
    );
    assert_eq!(
        check("github.com?repo=web"),
        ["Repository Location: the repository location has no owner"]
    );
    assert_eq!(
        check("github.com?owner=evil&repo=web"),
        ["Repository Location: owner must be one of: northwind, northwind-labs"]
    );
    assert_eq!(
        check("?owner=a&repo=b"),
        ["Repository Location: the repository location has no host"]
    );

    // The whole form: both pages.
    let all = pages.validate(&json!({"component_id": "web"}), &context);
    assert_eq!(
        errors(&all),
        [
            ("owner", "Owner is required"),
            ("repoUrl", "Repository Location is required")
        ]
    );
}

#[test]
fn scaffolder_repo_url_other_hosts() {
    let page = Pages::parse(&json!({
        "properties": {"repoUrl": {"type": "string", "ui:field": "RepoUrlPicker"}}
    }))
    .expect("pages");
    let mut context = Context::default();
    let check = |url: &str, context: &Context| -> Vec<String> {
        page.pages[0]
            .validate(&json!({ "repoUrl": url }), context)
            .into_iter()
            .map(|e| e.message)
            .collect()
    };
    assert_eq!(
        check("bitbucket.org?repo=r", &context),
        [
            "repoUrl: the repository location has no workspace",
            "repoUrl: the repository location has no project"
        ]
    );
    assert!(check("bitbucket.org?workspace=w&project=p&repo=r", &context).is_empty());
    assert_eq!(
        check("dev.azure.com?owner=o&repo=r", &context),
        [
            "repoUrl: the repository location has no organization",
            "repoUrl: the repository location has no project"
        ]
    );
    // A host the integrations config names as Gerrit needs no owner.
    assert!(!check("review.example.com?repo=r", &context).is_empty());
    context
        .hosts
        .insert("review.example.com".into(), ScmKind::Gerrit);
    assert!(check("review.example.com?repo=r", &context).is_empty());
    // Query values are decoded.
    let url = validate::RepoUrl::parse("github.com?owner=a%20b&repo=c+d").expect("url");
    assert_eq!(url.get("owner"), Some("a b"));
    assert_eq!(url.get("repo"), Some("c d"));
}

#[test]
fn scaffolder_dependencies_one_of_and_property_dependencies() {
    let pages = dependencies();
    let page = &pages.pages[0];
    let context = Context::default();
    assert_eq!(page.label(), "Service with a database");

    // No database chosen yet: the branches stay out.
    let shown = names(&page.fields).into_iter().collect::<Vec<_>>();
    assert_eq!(
        shown,
        ["name", "database", "slackChannel", "slackWorkspace"]
    );

    let postgres = page.visible_fields(&json!({"database": "postgres"}));
    let shown = names(&postgres);
    assert_eq!(&shown[..2], ["name", "database"]);
    assert_eq!(sorted(shown[2..4].to_vec()), ["extensions", "pgVersion"]);
    assert_eq!(&shown[4..], ["slackChannel", "slackWorkspace"]);
    let version = postgres
        .iter()
        .find(|f| f.name == "pgVersion")
        .expect("field");
    assert!(version.required);
    assert_eq!(version.kind, FieldType::Integer);
    assert_eq!(version.choices.len(), 3);
    let extensions = postgres
        .iter()
        .find(|f| f.name == "extensions")
        .expect("field");
    assert!(extensions.is_multiple_choice());
    assert_eq!(extensions.ui.widget, Some(Widget::Checkboxes));

    let mysql = page.visible_fields(&json!({"database": "mysql"}));
    assert!(names(&mysql).contains(&"mysqlMode"));
    assert!(!names(&mysql).contains(&"pgVersion"));
    let none = page.visible_fields(&json!({"database": "none"}));
    assert_eq!(none.len(), 4);

    // The database field shows its enumNames as choices.
    let database = page
        .fields
        .iter()
        .find(|f| f.name == "database")
        .expect("field");
    assert_eq!(
        database
            .choices
            .iter()
            .map(|c| c.label.as_str())
            .collect::<Vec<_>>(),
        ["No database", "PostgreSQL", "MySQL"]
    );

    assert_eq!(
        errors(&page.validate(
            &json!({"name": "Bad_Name", "database": "postgres"}),
            &context
        )),
        [
            ("pgVersion", "PostgreSQL version is required"),
            ("name", "Name must match ^[a-z][a-z0-9-]*$"),
        ]
    );
    assert_eq!(
        errors(&page.validate(&json!({"name": "svc", "database": "oracle"}), &context)),
        [(
            "database",
            "Database must be one of: No database, PostgreSQL, MySQL"
        )]
    );
    assert_eq!(
        errors(&page.validate(
            &json!({"name": "svc", "database": "postgres", "pgVersion": 13, "extensions": ["postgis", "postgis"]}),
            &context
        )),
        [
            ("extensions", "Extensions must not list postgis twice"),
            ("pgVersion", "PostgreSQL version must be one of: 14, 15, 16"),
        ]
    );
    // Property dependency: a Slack channel needs its workspace.
    assert_eq!(
        errors(&page.validate(
            &json!({"name": "svc", "database": "none", "slackChannel": "#team"}),
            &context
        )),
        [("slackWorkspace", "Slack workspace is required")]
    );

    // Values of hidden branches and unknown keys are dropped.
    let cleaned = pages.clean(
        &json!({"name": "svc", "database": "none", "pgVersion": 15, "mysqlMode": "strict", "extra": 1}),
        &context,
    );
    assert_eq!(cleaned, json!({"name": "svc", "database": "none"}));
    let cleaned = pages.clean(
        &json!({"name": "svc", "database": "mysql", "pgVersion": 15, "mysqlMode": "strict"}),
        &context,
    );
    assert_eq!(
        cleaned,
        json!({"name": "svc", "database": "mysql", "mysqlMode": "strict"})
    );

    // Defaults: the database default, and the branch's once PostgreSQL is chosen.
    assert_eq!(page.with_defaults(&json!({})), json!({"database": "none"}));
    assert_eq!(
        page.with_defaults(&json!({"database": "postgres"})),
        json!({"database": "postgres", "pgVersion": 16})
    );
}

#[test]
fn scaffolder_all_of_if_then_else_and_nested_objects() {
    let pages = deploy();
    let page = &pages.pages[0];
    let context = Context::default();
    // No target: both `if`s fail (they require it), so the second's `else` shows.
    assert_eq!(
        sorted(names(&page.fields)),
        ["destination", "healthPath", "target"]
    );
    let kube = page.visible_fields(&json!({"target": "kubernetes"}));
    assert_eq!(
        sorted(names(&kube)),
        [
            "destination",
            "healthPath",
            "namespace",
            "replicas",
            "target"
        ]
    );
    assert!(
        kube.iter()
            .find(|f| f.name == "namespace")
            .expect("ns")
            .required
    );
    assert!(
        !kube
            .iter()
            .find(|f| f.name == "replicas")
            .expect("r")
            .required
    );
    let lambda = page.visible_fields(&json!({"target": "lambda"}));
    assert_eq!(
        sorted(names(&lambda)),
        ["destination", "memory", "public", "target"]
    );

    let destination = page
        .fields
        .iter()
        .find(|f| f.name == "destination")
        .expect("destination");
    assert!(destination.has_fields());
    assert_eq!(
        sorted(destination.fields.iter().map(|f| f.path.as_str()).collect()),
        ["destination.owner", "destination.repo"]
    );
    assert!(destination.fields.iter().all(|f| f.required));
    assert_eq!(
        page.field(&json!({}), "destination.repo")
            .expect("nested field")
            .limits
            .min_length,
        Some(3)
    );

    assert_eq!(
        errors(&page.validate(
            &json!({"target": "kubernetes", "destination": {"owner": "a"}, "namespace": "Bad", "replicas": 11}),
            &context
        )),
        [
            ("destination.repo", "Repository is required"),
            ("namespace", "Namespace must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
            ("replicas", "Replicas must be at most 10"),
        ]
    );
    assert_eq!(
        errors(&page.validate(
            &json!({"target": "lambda", "destination": {"owner": "a", "repo": "ab"}, "memory": 100, "public": "yes"}),
            &context
        )),
        [
            ("destination.repo", "Repository must be at least 3 characters long"),
            ("memory", "Memory (MB) must be a multiple of 64"),
            ("public", "Public endpoint must be true or false"),
        ]
    );
    assert_eq!(
        errors(&page.validate(
            &json!({"target": "kubernetes", "destination": {"owner": "a", "repo": "abc"}, "namespace": "web", "replicas": 2.5}),
            &context
        )),
        [("replicas", "Replicas must be a whole number")]
    );
    assert!(page
        .validate(
            &json!({"target": "lambda", "destination": {"owner": "a", "repo": "abc"}, "memory": 192}),
            &context
        )
        .is_empty());
    assert_eq!(
        errors(&page.validate(&json!({"target": "docker", "destination": {}}), &context)),
        [
            ("destination.owner", "Owner is required"),
            ("destination.repo", "Repository is required"),
            ("target", "Deploy to must be one of: kubernetes, lambda"),
        ]
    );

    // Values of the branch no longer taken are dropped, nested objects cleaned too.
    assert_eq!(
        pages.clean(
            &json!({"target": "lambda", "memory": 128, "namespace": "web", "destination": {"owner": "a", "repo": "abc", "x": 1}}),
            &context
        ),
        json!({"target": "lambda", "memory": 128, "destination": {"owner": "a", "repo": "abc"}})
    );

    // Defaults of the fields the values reveal.
    assert_eq!(
        page.with_defaults(&json!({"target": "kubernetes"})),
        json!({"target": "kubernetes", "replicas": 2, "healthPath": "/healthz"})
    );
}

#[test]
fn scaffolder_formats() {
    let pages = deploy();
    let page = &pages.pages[1];
    let context = Context::default();
    let good = json!({
        "email": "team@northwind.example",
        "docs": "https://docs.example.com/web",
        "launch": "2024-02-29",
        "window": "2024-05-01T10:00:00+02:00",
        "host": "api.example.com",
    });
    assert!(page.validate(&good, &context).is_empty());
    let bad = json!({
        "email": "team at northwind",
        "docs": "docs.example.com/web",
        "launch": "2023-02-29",
        "window": "2024-05-01 10:00",
        "host": "-api.example.com",
    });
    assert_eq!(
        errors(&page.validate(&bad, &context)),
        [
            (
                "docs",
                "Documentation URL must be a URL with a scheme (https://example.com/…)"
            ),
            (
                "email",
                "Team email must be an email address (name@example.com)"
            ),
            (
                "host",
                "Public host must be a host name (letters, digits and '-' in labels joined by '.')"
            ),
            ("launch", "Launch date must be a date (YYYY-MM-DD)"),
            (
                "window",
                "Maintenance window start must be a date and time (YYYY-MM-DDTHH:MM:SSZ)"
            ),
        ]
    );
    assert_eq!(
        validate::format_error("date-time", "2024-05-01T10:00:00.5Z"),
        None
    );
    assert!(validate::format_error("date-time", "2024-05-01T25:00:00Z").is_some());
    assert!(validate::format_error("date", "2024-13-01").is_some());
    assert!(validate::format_error("email", "a@localhost").is_some());
    assert_eq!(validate::format_error("no-such-format", "anything"), None);
}

#[test]
fn scaffolder_form_post_is_typed_and_follows_conditionals() {
    let pages = deploy();
    let page = &pages.pages[0];
    // The post reveals `namespace` (target = kubernetes): read again until stable.
    let decoded = decode_page(
        page,
        &pairs(&[
            ("target", "kubernetes"),
            ("destination.owner", "team"),
            ("destination.repo", "svc"),
            ("namespace", "web"),
            ("replicas", "3"),
            ("healthPath", "/hz"),
            ("unknown", "ignored"),
        ]),
        &json!({}),
    );
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    assert_eq!(
        decoded.values,
        json!({"target": "kubernetes", "destination": {"owner": "team", "repo": "svc"}, "namespace": "web", "replicas": 3, "healthPath": "/hz"})
    );

    // What the earlier branch held is gone; other pages' values stay.
    let decoded = decode_page(
        page,
        &pairs(&[
            ("target", "lambda"),
            ("memory", "192"),
            ("destination.repo", ""),
        ]),
        &json!({"target": "kubernetes", "namespace": "web", "replicas": 3, "email": "a@b.co"}),
    );
    assert!(decoded.errors.is_empty());
    assert_eq!(
        decoded.values,
        json!({"target": "lambda", "memory": 192, "public": false, "destination": {}, "email": "a@b.co"})
    );

    let decoded = decode_page(
        page,
        &pairs(&[
            ("target", "kubernetes"),
            ("replicas", "2.5"),
            ("namespace", "x"),
        ]),
        &json!({}),
    );
    assert_eq!(
        errors(&decoded.errors),
        [("replicas", "Replicas must be a whole number, not \"2.5\"")]
    );
    let decoded = decode_page(
        page,
        &pairs(&[
            ("target", "lambda"),
            ("memory", "lots"),
            ("public", "maybe"),
        ]),
        &json!({}),
    );
    assert_eq!(
        errors(&decoded.errors),
        [
            ("memory", "Memory (MB) must be a number, not \"lots\""),
            (
                "public",
                "Public endpoint must be true or false, not \"maybe\""
            ),
        ]
    );
}

#[test]
fn scaffolder_form_post_choices_checkboxes_and_lists() {
    let pages = dependencies();
    let page = &pages.pages[0];
    let decoded = decode_page(
        page,
        &pairs(&[
            ("name", "svc"),
            ("database", "postgres"),
            ("pgVersion", "15"),
        ]),
        &json!({}),
    );
    assert!(decoded.errors.is_empty());
    // The select's text becomes the choice's integer; no extension checked is an empty list.
    assert_eq!(
        decoded.values,
        json!({"name": "svc", "database": "postgres", "pgVersion": 15, "extensions": []})
    );
    let decoded = decode_page(
        page,
        &pairs(&[
            ("name", "svc"),
            ("database", "postgres"),
            ("pgVersion", "15"),
            ("extensions", "postgis"),
            ("extensions", "pg_trgm"),
        ]),
        &json!({}),
    );
    assert_eq!(decoded.values["extensions"], json!(["postgis", "pg_trgm"]));

    let pages = features();
    let page = &pages.pages[0];
    let decoded = decode_page(
        page,
        &pairs(&[
            ("features", "ci"),
            ("features", "metrics"),
            ("tags", "web\r\nshop\n\n"),
            ("tags", "java"),
            ("port", ""),
            ("notify", "false"),
            ("notify", "true"),
            ("token", "s3cret"),
        ]),
        &json!({}),
    );
    assert!(decoded.errors.is_empty());
    assert_eq!(
        decoded.values,
        json!({"features": ["ci", "metrics"], "tags": ["web", "shop", "java"], "notify": true, "token": "s3cret"})
    );
    // Unchecked checkbox: false.
    let decoded = decode_page(page, &pairs(&[("features", "docs")]), &json!({}));
    assert_eq!(decoded.values["notify"], json!(false));
    // The texts put back into the inputs.
    let values = json!({"features": ["ci", "docs"], "port": 8080, "notify": true});
    let field = |name: &str| page.fields.iter().find(|f| f.name == name).expect("field");
    assert_eq!(form_values(field("features"), &values), ["ci", "docs"]);
    assert_eq!(form_values(field("port"), &values), ["8080"]);
    assert_eq!(form_values(field("notify"), &values), ["true"]);
    assert!(form_values(field("tags"), &values).is_empty());
    // Defaults for the first display.
    assert_eq!(
        page.with_defaults(&json!({})),
        json!({"port": 8080, "notify": true})
    );
}

#[test]
fn scaffolder_arrays_tags_and_hidden_pages() {
    let pages = features();
    let context = Context::default();
    assert_eq!(pages.visible(&json!({}), &context), [true, false]);
    let values = json!({"features": [], "token": "t", "tags": ["web", "Bad Tag"], "port": 80, "legacy": "x"});
    assert_eq!(
        errors(&pages.validate(&values, &context)),
        [
            ("features", "Features must have at least one item"),
            ("port", "Port must be at least 1024"),
            ("tags", "Tags: \"Bad Tag\" is not a valid tag: 1 to 63 lower-case letters, digits, '+' or '#', in words joined by '-'"),
        ]
    );
    assert_eq!(
        errors(&pages.validate(&json!({"features": ["ci", "ops"], "token": "t"}), &context)),
        [(
            "features",
            "Features item 2 must be one of: Continuous integration, TechDocs, Prometheus metrics"
        )]
    );
    // The hidden page's value is dropped.
    let cleaned = pages.clean(
        &json!({"features": ["ci"], "token": "t", "legacy": "x"}),
        &context,
    );
    assert_eq!(cleaned, json!({"features": ["ci"], "token": "t"}));

    // A `when:` expression is left to the caller's evaluator.
    let pages = Pages::parse(&json!([
        {"properties": {"advanced": {"type": "boolean"}}},
        {"when": "${{ parameters.advanced }}", "required": ["tuning"], "properties": {"tuning": {"type": "string"}}}
    ]))
    .expect("pages");
    assert_eq!(pages.visible(&json!({}), &Context::default()), [true, true]);
    let context = Context {
        when: Some(Arc::new(|expression: &str, values: &Value| {
            assert_eq!(expression, "${{ parameters.advanced }}");
            values["advanced"] == json!(true)
        })),
        ..Context::default()
    };
    assert_eq!(
        pages.visible(&json!({"advanced": false}), &context),
        [true, false]
    );
    assert!(pages
        .validate(&json!({"advanced": false}), &context)
        .is_empty());
    assert_eq!(
        errors(&pages.validate(&json!({"advanced": true}), &context)),
        [("tuning", "tuning is required")]
    );
}

#[test]
fn scaffolder_secrets_and_review() {
    let pages = features();
    let context = Context::default();
    let page = &pages.pages[0];
    let field = |name: &str| page.fields.iter().find(|f| f.name == name).expect("field");
    assert_eq!(field("token").secrecy(), Some(Secrecy::Secret));
    assert_eq!(field("password").secrecy(), Some(Secrecy::Masked));
    assert_eq!(field("apiKey").secrecy(), Some(Secrecy::Masked));
    assert_eq!(field("apiKey").mask(), Some("<hidden key>"));
    assert_eq!(field("port").secrecy(), None);
    assert!(!field("internalNote").ui.review.show);

    let values = json!({
        "features": ["ci", "metrics"],
        "port": 8080,
        "token": "s3cret",
        "password": "hunter2",
        "apiKey": "k-123",
        "internalNote": "do not show",
        "notify": true,
        "legacy": "hidden page",
    });
    let (params, secrets) = split_secrets(&pages, &values, &context);
    assert_eq!(
        secrets,
        json!({"token": "s3cret"})
            .as_object()
            .cloned()
            .expect("map")
    );
    assert!(params.get("token").is_none());
    assert_eq!(params["password"], json!("hunter2"));

    let sections = review(&pages, &values, &context);
    assert_eq!(
        sections.len(),
        1,
        "the page hidden by `when` is not reviewed"
    );
    assert_eq!(sections[0].title, "Features");
    let mut items: Vec<(&str, &str, bool)> = sections[0]
        .items
        .iter()
        .map(|i| (i.title.as_str(), i.value.as_str(), i.masked))
        .collect();
    items.sort_unstable();
    assert_eq!(
        items,
        [
            ("API key", "<hidden key>", true),
            ("Database password", "******", true),
            ("Deploy token", "******", true),
            (
                "Features",
                "Continuous integration, Prometheus metrics",
                false
            ),
            ("Notify the team", "Yes", false),
            ("Port", "8080", false),
        ]
    );
    assert!(!format!("{sections:?}").contains("s3cret"));
    assert!(!format!("{sections:?}").contains("hunter2"));
}

#[test]
fn scaffolder_parameters_shapes_follow_the_template_schema() {
    // The vendored Template schema allows `parameters` as one object or a list of objects.
    let schema: Value = serde_json::from_str(include_str!(
        "../../../server/schemas/Template.v1beta3.schema.json"
    ))
    .expect("schema");
    let shapes = schema
        .pointer("/allOf/1/properties/spec/properties/parameters/oneOf")
        .and_then(Value::as_array)
        .expect("parameters oneOf");
    let allowed: Vec<(&str, Option<&str>)> = shapes
        .iter()
        .map(|s| {
            (
                s["type"].as_str().expect("type"),
                s.pointer("/items/type").and_then(Value::as_str),
            )
        })
        .collect();
    assert_eq!(allowed, [("object", None), ("array", Some("object"))]);
    let schema_allows = |value: &Value| match value {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().all(Value::is_object),
        _ => false,
    };
    for value in [
        json!({"properties": {}}),
        json!([{"properties": {}}, {}]),
        json!([]),
        json!("text"),
        json!(3),
        json!(true),
        json!([{"properties": {}}, "x"]),
        json!([[]]),
    ] {
        assert_eq!(
            Pages::parse(&value).is_ok(),
            schema_allows(&value),
            "{value}"
        );
    }
    // Absent parameters: no page.
    assert!(Pages::parse(&Value::Null).expect("no pages").is_empty());
    assert_eq!(
        Pages::parse(&json!([{}, 1])),
        Err(ParametersError::PageNotObject {
            index: 1,
            found: "a number".into()
        })
    );
}

#[test]
fn scaffolder_unknown_keys_refs_and_const_choices() {
    let pages = Pages::parse(&json!({
        "definitions": {
            "env": {"title": "Environment", "type": "string", "oneOf": [
                {"const": "dev", "title": "Development"},
                {"const": "prod", "title": "Production"}
            ]}
        },
        "required": ["env"],
        "properties": {
            "env": {"$ref": "#/definitions/env"},
            "custom": {
                "type": "string",
                "ui:field": "MyCompanyPicker",
                "ui:foo": "bar",
                "x-vendor": {"a": 1},
                "ui:readonly": true,
                "ui:help": "Ask the platform team",
                "ui:placeholder": "pick one"
            },
            "broken": {"type": "string", "pattern": "(unclosed"}
        }
    }))
    .expect("pages");
    let page = &pages.pages[0];
    let field = |name: &str| page.fields.iter().find(|f| f.name == name).expect("field");
    let env = field("env");
    assert_eq!(env.kind, FieldType::String);
    assert_eq!(env.label(), "Environment");
    assert!(env.required);
    assert_eq!(
        env.choices
            .iter()
            .map(|c| c.label.as_str())
            .collect::<Vec<_>>(),
        ["Development", "Production"]
    );
    let custom = field("custom");
    assert_eq!(
        custom.ui.field,
        Some(FieldExtension::Other("MyCompanyPicker".into()))
    );
    assert_eq!(custom.ui.other["ui:foo"], json!("bar"));
    assert_eq!(custom.schema["x-vendor"], json!({"a": 1}));
    assert!(custom.ui.readonly);
    assert_eq!(custom.ui.help.as_deref(), Some("Ask the platform team"));
    assert_eq!(custom.ui.placeholder.as_deref(), Some("pick one"));

    let context = Context::default();
    assert_eq!(
        errors(&page.validate(&json!({"env": "staging", "broken": "x"}), &context)),
        [
            ("broken", "broken cannot be checked: the template's pattern (unclosed is not a valid regular expression"),
            ("env", "Environment must be one of: Development, Production"),
        ]
    );
    assert!(page.validate(&json!({"env": "prod"}), &context).is_empty());
    // The model crosses server functions.
    let json = serde_json::to_string(&pages).expect("serialize");
    let back: Pages = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, pages);
}

/// The same values sent to Backstage's scaffolder-backend 4.3.0 dry-run (its `jsonschema`
/// validation; 400 with errors on these properties, or 200).
#[test]
fn scaffolder_validity_agrees_with_backstage_backend() {
    let context = Context::default();
    let deploy = deploy();
    let flagged = |pages: &Pages, values: Value| -> Vec<String> {
        let mut fields: Vec<String> = pages
            .validate(&values, &context)
            .into_iter()
            .map(|e| e.field)
            .collect();
        fields.dedup();
        fields
    };
    // Backstage: 400, `requires property "namespace"` (allOf subschema 0).
    assert_eq!(
        flagged(
            &deploy,
            json!({"target": "kubernetes", "destination": {"owner": "a", "repo": "abc"}})
        ),
        ["namespace"]
    );
    // Backstage: 400 on destination.repo (minimum length), memory (multiple of 64), public (type).
    assert_eq!(
        flagged(
            &deploy,
            json!({"target": "lambda", "destination": {"owner": "a", "repo": "ab"}, "memory": 100, "public": "yes"})
        ),
        ["destination.repo", "memory", "public"]
    );
    // Backstage: 200.
    assert!(flagged(
        &deploy,
        json!({"target": "lambda", "destination": {"owner": "a", "repo": "abc"}, "memory": 192})
    )
    .is_empty());
    let deps = dependencies();
    // Backstage: 400 (dependency on database not met) / 400 (slackWorkspace required) / 200.
    assert!(!flagged(&deps, json!({"name": "svc", "database": "postgres"})).is_empty());
    assert_eq!(
        flagged(
            &deps,
            json!({"name": "svc", "database": "none", "slackChannel": "#t"})
        ),
        ["slackWorkspace"]
    );
    assert!(flagged(
        &deps,
        json!({"name": "svc", "database": "none", "pgVersion": 15, "extra": 1})
    )
    .is_empty());

    // Formats: accepted (200) and refused (400 "does not conform to the … format").
    for (format, text) in [
        ("email", "team@northwind.example"),
        ("uri", "https://x"),
        ("uri", "mailto:a@b.c"),
        ("date", "2024-02-29"),
        ("date-time", "2024-05-01T10:00:00Z"),
        ("date-time", "2024-05-01 10:00:00Z"),
        ("hostname", "api.example.com"),
    ] {
        assert_eq!(
            validate::format_error(format, text),
            None,
            "{format} {text}"
        );
    }
    for (format, text) in [
        ("email", "a@localhost"),
        ("email", "team at x"),
        ("email", "a@b@c.com"),
        ("uri", "docs.example.com/web"),
        ("date", "2024-2-1"),
        ("date-time", "2024-05-01 10:00"),
        ("date-time", "2024-05-01T10:00:00"),
        ("date-time", "2024-05-01T25:00:00Z"),
        ("hostname", "-api.example.com"),
        ("hostname", "a_b.example.com"),
    ] {
        assert!(
            validate::format_error(format, text).is_some(),
            "{format} {text}"
        );
    }
    // Stricter than Backstage's backend, which accepts both: a day that does not exist, and a
    // URL with nothing after `//`.
    assert!(validate::format_error("date", "2023-02-29").is_some());
    assert!(validate::format_error("uri", "http://").is_some());
}

#[test]
fn scaffolder_tasks_keep_undeclared_values_and_drop_hidden_pages_only() {
    let pages = Pages::parse(&json!([
        {"title": "One", "properties": {"name": {"type": "string"}, "shared": {"type": "string"}}},
        {"title": "Two", "when": false, "properties": {"secretPlan": {"type": "string"}, "shared": {"type": "string"}}},
    ]))
    .expect("pages");
    let values = json!({"name": "a", "shared": "s", "secretPlan": "x", "extra": {"from": "api"}});
    assert_eq!(
        pages.without_hidden_pages(&values, &Context::default()),
        json!({"name": "a", "shared": "s", "extra": {"from": "api"}})
    );
}
