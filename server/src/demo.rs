//! The demo organisation (Northwind Outfitters), shipped inside the binary and written to
//! `<data_dir>/demo` at start-up, then read like any file location. Loaded when no locations
//! are configured (`catalog.demo: auto`).

use std::path::{Path, PathBuf};

/// (path relative to the demo root, content)
pub const FILES: &[(&str, &str)] = &[
    (
        "components/docs/catalog-service/mkdocs.yml",
        include_str!("../demo/components/docs/catalog-service/mkdocs.yml"),
    ),
    (
        "components/docs/catalog-service/docs/index.md",
        include_str!("../demo/components/docs/catalog-service/docs/index.md"),
    ),
    (
        "components/docs/catalog-service/docs/architecture.md",
        include_str!("../demo/components/docs/catalog-service/docs/architecture.md"),
    ),
    (
        "components/docs/catalog-service/docs/runbook.md",
        include_str!("../demo/components/docs/catalog-service/docs/runbook.md"),
    ),
    (
        "components/docs/catalog-service/docs/img/architecture.svg",
        include_str!("../demo/components/docs/catalog-service/docs/img/architecture.svg"),
    ),
    (
        "components/docs/checkout-service/README.md",
        include_str!("../demo/components/docs/checkout-service/README.md"),
    ),
    ("apis.yaml", include_str!("../demo/apis.yaml")),
    (
        "catalog-info.yaml",
        include_str!("../demo/catalog-info.yaml"),
    ),
    (
        "components/catalog.yaml",
        include_str!("../demo/components/catalog.yaml"),
    ),
    (
        "components/checkout.yaml",
        include_str!("../demo/components/checkout.yaml"),
    ),
    (
        "components/customer.yaml",
        include_str!("../demo/components/customer.yaml"),
    ),
    (
        "components/data-platform.yaml",
        include_str!("../demo/components/data-platform.yaml"),
    ),
    (
        "components/fulfilment.yaml",
        include_str!("../demo/components/fulfilment.yaml"),
    ),
    (
        "components/platform.yaml",
        include_str!("../demo/components/platform.yaml"),
    ),
    (
        "components/storefront.yaml",
        include_str!("../demo/components/storefront.yaml"),
    ),
    (
        "definitions/cart-api.yaml",
        include_str!("../demo/definitions/cart-api.yaml"),
    ),
    (
        "definitions/catalog-api.yaml",
        include_str!("../demo/definitions/catalog-api.yaml"),
    ),
    (
        "definitions/customers-api.yaml",
        include_str!("../demo/definitions/customers-api.yaml"),
    ),
    (
        "definitions/inventory-api.yaml",
        include_str!("../demo/definitions/inventory-api.yaml"),
    ),
    (
        "definitions/order-events.yaml",
        include_str!("../demo/definitions/order-events.yaml"),
    ),
    (
        "definitions/orders-api.yaml",
        include_str!("../demo/definitions/orders-api.yaml"),
    ),
    (
        "definitions/payments-api.yaml",
        include_str!("../demo/definitions/payments-api.yaml"),
    ),
    (
        "definitions/pricing.proto",
        include_str!("../demo/definitions/pricing.proto"),
    ),
    (
        "definitions/recommendations.proto",
        include_str!("../demo/definitions/recommendations.proto"),
    ),
    (
        "definitions/shipping-api.yaml",
        include_str!("../demo/definitions/shipping-api.yaml"),
    ),
    ("domains.yaml", include_str!("../demo/domains.yaml")),
    ("org.yaml", include_str!("../demo/org.yaml")),
    ("resources.yaml", include_str!("../demo/resources.yaml")),
    ("systems.yaml", include_str!("../demo/systems.yaml")),
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
}
