//! The `backlot` binary's commands, run as a user runs them.

use std::process::Command;

fn backlot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backlot"))
}

fn fixture(rel: &str) -> String {
    format!(
        "{}/tests/fixtures/backstage/packages/catalog-model/examples/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn validate_accepts_the_backstage_examples() {
    let out = backlot()
        .args([
            "validate",
            &fixture("components/artist-lookup-component.yaml"),
            &fixture("acme/org.yaml"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("valid"), "{stdout}");
}

#[test]
fn validate_names_file_document_line_and_field_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(
        &file,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ok\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n---\n# second\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Not Valid\nspec:\n  type: service\n  lifecycle: production\n",
    )
    .unwrap();
    let out = backlot()
        .args(["validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = file.canonicalize().unwrap();
    assert!(
        stdout.contains(&format!(
            "{}:11: document 1: metadata.name:",
            path.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("spec.owner") || stdout.contains("spec:"),
        "{stdout}"
    );

    let out = backlot()
        .args(["validate", "--format", "json", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["entities"], 1);
    assert!(v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["field"] == "metadata.name" && p["document"] == 1 && p["line"] == 11));
}

#[test]
fn validate_checks_templates_steps_and_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("template.yaml");
    std::fs::write(
        &file,
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team\nspec:\n  type: team\n  children: []\n---\napiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: svc\nspec:\n  type: service\n  steps:\n    - id: fetch\n      action: fetch:template\n      input:\n        url: ./skeleton\n        values:\n          name: ${{ parameters.name | }}\n    - id: register\n      action: catalog:nowhere\n      input:\n        repo: ${{ steps.publish.output.remoteUrl }}\n",
    )
    .unwrap();
    let out = backlot()
        .args(["validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let at = format!("{}:9: document 1: ", file.canonicalize().unwrap().display());
    for expected in [
        "spec.steps[0].input.values.name: the expression does not parse",
        "spec.steps[1].action: unknown action \"catalog:nowhere\"",
        "spec.steps[1].input.repo: steps['publish'] names no step of this template",
    ] {
        assert!(
            stdout.contains(&format!("{at}{expected}")),
            "{expected}\n{stdout}"
        );
    }
    assert!(stdout.contains("3 problem(s)"), "{stdout}");
}

#[test]
fn validate_reports_unreadable_files() {
    let out = backlot()
        .args(["validate", "/nonexistent/catalog-info.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("could not read /nonexistent/catalog-info.yaml"));
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = backlot()
        .arg("migrate")
        .env("BACKLOT_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("BACKLOT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date (sqlite)"));
    assert!(dir.path().join("backlot.db").exists());
}

#[test]
fn a_bad_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("backlot.yaml");
    std::fs::write(&cfg, "adress: 1\n").unwrap();
    let out = backlot()
        .args(["--config", cfg.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("backlot.yaml") && err.contains("adress"),
        "{err}"
    );
}

#[test]
fn policy_validate_names_file_and_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(
        &file,
        "roles:\n  member:\n    rules:\n      - allow: [catalog.entity.read]\n      - allow: [catalog.entiti.read]\n",
    )
    .unwrap();
    let out = backlot()
        .args(["policy", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with(&format!("{}:5: ", file.display())),
        "{stdout}"
    );
    assert!(stdout.contains("catalog.entiti.read"), "{stdout}");
    std::fs::write(
        &file,
        "roles:\n  member:\n    rules:\n      - allow: [catalog.entity.read]\n",
    )
    .unwrap();
    let out = backlot()
        .args(["policy", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn policy_check_prints_the_decision_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "roles:\n  locations:\n    rules:\n      - name: register\n        allow: [catalog.location.create]\n      - name: own\n        allow: [catalog.entity.refresh]\n        when: {is_owner: true}\nbindings:\n  - role: locations\n    users: [user:default/alice]\n",
    )
    .unwrap();
    let config = dir.path().join("backlot.yaml");
    std::fs::write(
        &config,
        "data_dir: ./data\ncatalog:\n  demo: never\npolicy:\n  file: ./policy.yaml\n",
    )
    .unwrap();
    let check = |user: &str, permission: &str| {
        backlot()
            .env_remove("BACKLOT_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("BACKLOT_POLICY_FILE")
            .args(["--config", config.to_str().unwrap(), "policy", "check"])
            .args(["--user", user, "--permission", permission])
            .output()
            .unwrap()
    };
    let out = check("user:default/alice", "catalog.location.create");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{out:?}");
    assert!(
        stdout.starts_with("ALLOW catalog.location.create by role locations rule 1 (register)"),
        "{stdout}"
    );
    let out = check("user:default/bob", "catalog.location.create");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("DENY catalog.location.create: no rule allows it (roles: none)"),
        "{stdout}"
    );
    assert!(!stdout.contains("note:"), "{stdout}");
    // A conditional rule without --entity: denied, and the output says why.
    let out = check("user:default/alice", "catalog.entity.refresh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("note: some of these rules have conditions"),
        "{stdout}"
    );
    let out = check("user:default/alice", "catalog.everything");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown permission"));
}
