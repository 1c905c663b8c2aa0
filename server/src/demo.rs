//! The demo organisation (Northwind Outfitters), shipped inside the binary and written to
//! `<data_dir>/demo` at start-up, then read like any file location. Loaded when no locations
//! are configured (`catalog.demo: auto`).

use std::path::{Path, PathBuf};

/// Every demo file as (path relative to the demo root, content), embedded from `server/demo`.
macro_rules! embedded {
    ($($path:literal,)*) => {
        &[$(($path, include_str!(concat!("../demo/", $path)))),*]
    };
}

pub const FILES: &[(&str, &str)] = embedded![
    "apis.yaml",
    "catalog-info.yaml",
    "components/catalog.yaml",
    "components/checkout.yaml",
    "components/customer.yaml",
    "components/data-platform.yaml",
    "components/docs/catalog-service/docs/architecture.md",
    "components/docs/catalog-service/docs/img/architecture.svg",
    "components/docs/catalog-service/docs/index.md",
    "components/docs/catalog-service/docs/runbook.md",
    "components/docs/catalog-service/mkdocs.yml",
    "components/docs/checkout-service/README.md",
    "components/fulfilment.yaml",
    "components/platform.yaml",
    "components/storefront.yaml",
    "definitions/cart-api.yaml",
    "definitions/catalog-api.yaml",
    "definitions/customers-api.yaml",
    "definitions/inventory-api.yaml",
    "definitions/order-events.yaml",
    "definitions/orders-api.yaml",
    "definitions/payments-api.yaml",
    "definitions/pricing.proto",
    "definitions/recommendations.proto",
    "definitions/shipping-api.yaml",
    "domains.yaml",
    "org.yaml",
    "resources.yaml",
    "systems.yaml",
    "templates/python-worker/skeleton/.github/workflows/ci.yaml",
    "templates/python-worker/skeleton/Dockerfile",
    "templates/python-worker/skeleton/README.md",
    "templates/python-worker/skeleton/app/__init__.py",
    "templates/python-worker/skeleton/app/worker.py",
    "templates/python-worker/skeleton/docs/index.md",
    "templates/python-worker/skeleton/k8s/deployment.yaml",
    "templates/python-worker/skeleton/mkdocs.yml",
    "templates/python-worker/skeleton/pyproject.toml",
    "templates/python-worker/skeleton/tests/test_worker.py",
    "templates/python-worker/template.yaml",
    "templates/rust-service/skeleton/.github/workflows/ci.yaml",
    "templates/rust-service/skeleton/Cargo.toml",
    "templates/rust-service/skeleton/Dockerfile",
    "templates/rust-service/skeleton/README.md",
    "templates/rust-service/skeleton/docs/index.md",
    "templates/rust-service/skeleton/docs/operations.md",
    "templates/rust-service/skeleton/k8s/deployment.yaml",
    "templates/rust-service/skeleton/mkdocs.yml",
    "templates/rust-service/skeleton/src/main.rs",
    "templates/rust-service/template.yaml",
];

/// Writes the demo files (replacing older copies) and returns the path of the root location file.
pub fn install(data_dir: &Path) -> std::io::Result<PathBuf> {
    let root = data_dir.join("demo");
    for (rel, content) in FILES {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(*content) {
            std::fs::write(&path, content)?;
        }
    }
    let root = root.canonicalize()?;
    Ok(root.join("catalog-info.yaml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
        let mut on_disk = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    on_disk.push(p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "add new demo files to demo::FILES");
    }

    /// Each demo template, run without effects with the values a user would give: valid by
    /// `backlot validate`'s rules, and the files it makes hold a catalog entry with no problem,
    /// manifests the Kubernetes views match, and a CI file left as written.
    #[tokio::test]
    async fn the_demo_templates_make_a_valid_service() {
        use crate::scaffolder::{actions::Actions, managed_git::ManagedGit};
        use serde_json::json;
        let actions = Actions::for_server(
            ManagedGit::new(
                &Default::default(),
                Path::new("data"),
                std::time::Duration::from_secs(1),
            ),
            None,
        );
        let cases = [
            (
                "rust-service",
                json!({"name": "orders", "description": "Takes orders", "owner": "group:default/team-checkout",
                       "system": "system:default/checkout", "repoUrl": "backlot?owner=checkout&repo=orders",
                       "port": 8080, "environments": ["staging"], "ingress": true, "host": "orders.example.com"}),
            ),
            (
                "python-worker",
                json!({"name": "orders", "owner": "group:default/team-data", "queue": "shipments",
                       "python": "3.12", "repoUrl": "backlot?owner=data&repo=orders"}),
            ),
        ];
        for (name, values) in cases {
            let dir = format!("templates/{name}/");
            let text = FILES
                .iter()
                .find(|(p, _)| *p == format!("{dir}template.yaml"))
                .map(|(_, c)| *c)
                .expect("template");
            let template: serde_json::Value = yaml_serde::from_str(text).expect("yaml");
            let problems = crate::scaffolder::check::template_problems(
                &template,
                &actions,
                &crate::scaffolder::Renderer::new(),
            );
            assert!(problems.is_empty(), "{name}: {problems:?}");
            let files: Vec<(String, Vec<u8>)> = FILES
                .iter()
                .filter_map(|(p, c)| {
                    Some((p.strip_prefix(&dir)?.to_string(), c.as_bytes().to_vec()))
                })
                .collect();
            let outcome = crate::scaffolder::dry_run::dry_run(
                &template,
                values.as_object().cloned().unwrap_or_default(),
                &Default::default(),
                files,
                json!({}),
                &actions,
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(outcome.failed.is_none(), "{name}: {:?}", outcome.failed);
            let file = |path: &str| {
                let f = outcome.workspace.get(path).unwrap_or_else(|| {
                    panic!(
                        "{name}: no {path} in {:?}",
                        outcome.workspace.paths().collect::<Vec<_>>()
                    )
                });
                String::from_utf8(f.contents.clone()).expect("text")
            };
            let parsed = crate::files::parse_file(
                &file("catalog-info.yaml"),
                "catalog-info.yaml",
                "url:file:catalog-info.yaml",
                &|_| true,
            );
            assert!(parsed.problems.is_empty(), "{name}: {:?}", parsed.problems);
            assert_eq!(parsed.entities.len(), 1, "{name}");
            let entity = parsed.entities[0].stored.value();
            assert_eq!(entity["kind"], "Component");
            assert_eq!(entity["metadata"]["name"], "orders");
            assert_eq!(
                entity["metadata"]["annotations"]["backstage.io/kubernetes-id"],
                "orders"
            );
            assert_eq!(entity["spec"]["owner"], values["owner"]);
            // Optional values not given leave their keys out.
            assert_eq!(
                entity["metadata"].get("description"),
                values.get("description")
            );
            assert_eq!(entity["spec"].get("system"), values.get("system"));
            // Where the entity came from: the template and the values it ran with (a file
            // template: no commit).
            let annotations = &entity["metadata"]["annotations"];
            assert_eq!(
                annotations["backlot.io/template-ref"],
                crate::scaffolder::dry_run::DRY_RUN_REF
            );
            let recorded: serde_json::Value = serde_json::from_str(
                annotations["backlot.io/template-values"]
                    .as_str()
                    .expect("values as text"),
            )
            .expect("values as JSON");
            assert_eq!(recorded, values, "{name}");
            assert_eq!(annotations.get("backlot.io/template-commit"), None);
            assert!(
                file("k8s/deployment.yaml").contains("backstage.io/kubernetes-id: orders"),
                "{name}"
            );
            assert!(
                file(".github/workflows/ci.yaml").contains("${{ github.sha }}"),
                "{name}"
            );
            assert!(!file("docs/index.md").contains("${{"), "{name}");
            assert!(file("mkdocs.yml").contains("site_name: orders"), "{name}");
        }
    }
}
