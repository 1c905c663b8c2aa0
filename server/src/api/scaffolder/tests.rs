//! The scaffolder's REST API through the real router: the dry-run of a recorded case answers
//! Backstage's files and output; bad values, unknown actions, escaping paths and secrets; a
//! registered template's parameter schema; the actions list.

use crate::both_databases;
use crate::test_support::Harness;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use serde_json::{json, Value};
use std::path::Path;
use tower::ServiceExt;

async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    let res = router
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes))),
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A recorded case (`scaffolder/testdata/<case>`) as a dry-run request.
fn recorded_request(case: &str) -> (Value, Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/scaffolder/testdata")
        .join(case);
    let template: Value = yaml_serde::from_str(
        &std::fs::read_to_string(dir.join("template.yaml")).expect("template"),
    )
    .expect("yaml");
    let values: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("values.json")).expect("values"))
            .expect("values");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected"),
    )
    .expect("expected");
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&dir)
                .expect("inside")
                .to_string_lossy()
                .into_owned();
            if rel != "expected.json" && rel != "values.json" {
                files.push(
                    json!({"path": rel, "base64Content": b64(&std::fs::read(&p).expect("file"))}),
                );
            }
        }
    }
    (
        json!({"template": template, "values": values, "directoryContents": files}),
        expected,
    )
}

fn template(steps: Value, parameters: Value) -> Value {
    json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "t"},
        "spec": {"type": "service", "parameters": parameters, "steps": steps},
    })
}

both_databases!(
    a_dry_run_answers_what_backstage_answers,
    setup = Harness::new,
    |h| {
        let router = crate::http::router(h.state());
        let (request, expected) = recorded_request("steps");
        let (status, body) =
            send(&router, "POST", "/api/scaffolder/v2/dry-run", Some(request)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let files: serde_json::Map<String, Value> = body["directoryContents"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(f["base64Content"].as_str().expect("base64"))
                    .expect("decodes");
                (
                    f["path"].as_str().expect("path").to_string(),
                    json!({"text": String::from_utf8(raw).expect("text")}),
                )
            })
            .collect();
        assert_eq!(Value::Object(files), expected["files"]);
        assert_eq!(body["output"], expected["output"]);
        let log: Vec<&Value> = body["log"]
            .as_array()
            .expect("log")
            .iter()
            .map(|l| &l["body"])
            .collect();
        assert_eq!(log[0]["message"], "Starting up task with 5 steps");
        assert!(log
            .iter()
            .any(|l| l["message"] == "Beginning step Fetch the skeleton"
                && l["stepId"] == "fetch"
                && l["status"] == "processing"));
        assert!(log.iter().any(|l| l["message"]
            == "Skipping step skipped because its if condition was false"
            && l["status"] == "skipped"));
        assert_eq!(body["steps"][3]["id"], "step-4");
        assert_eq!(body["steps"][3]["name"], "fs:rename");

        // Values the parameters refuse: one error per field, named.
        let (request, _) = recorded_request("steps");
        let mut request = request;
        request["values"] = json!({"extras": "not a list"});
        let (status, body) =
            send(&router, "POST", "/api/scaffolder/v2/dry-run", Some(request)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field"))
            .collect();
        assert!(
            fields.contains(&"name") && fields.contains(&"extras"),
            "{body}"
        );

        // An unknown action: 404 before any step, in the envelope.
        let t = template(json!([{"action": "publish:nowhere"}]), json!({}));
        let (status, body) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/dry-run",
            Some(json!({"template": t})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Template action with ID 'publish:nowhere' is not registered."
        );

        // Not a template.
        let (status, _) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/dry-run",
            Some(json!({"template": {"kind": "Component"}})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Paths out of the workspace, from an uploaded file or a step.
        let t = template(json!([]), json!({}));
        let (status, body) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/dry-run",
            Some(json!({"template": t, "directoryContents": [{"path": "../x", "base64Content": b64(b"x")}]})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("\"../x\""),
            "{body}"
        );
        let t = template(
            json!([{"id": "w", "action": "fetch:plain", "input": {"url": "./s", "targetPath": "../../etc"}}]),
            json!({}),
        );
        let (status, body) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/dry-run",
            Some(json!({"template": t, "directoryContents": [{"path": "s/a.txt", "base64Content": b64(b"a")}]})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .starts_with("step w failed: \"../../etc\""),
            "{body}"
        );

        // Secrets are used and never shown.
        let t = template(
            json!([{"id": "s", "action": "debug:log", "input": {"message": "token=${{ secrets.token }}"}}]),
            json!({}),
        );
        let (status, body) = send(
            &router,
            "POST",
            "/api/scaffolder/v2/dry-run",
            Some(json!({"template": t, "secrets": {"token": "hunter2-secret"}})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = body.to_string();
        assert!(
            !text.contains("hunter2-secret") && text.contains("token=***"),
            "{text}"
        );
    }
);

both_databases!(
    a_templates_parameters_and_the_actions_are_listed,
    setup = Harness::new,
    |h| {
        let t = "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: svc\n  title: A service\n  description: Makes a service\nspec:\n  type: service\n  parameters:\n    - title: Name\n      required: [name]\n      properties:\n        name: {type: string}\n    - title: Where\n      properties:\n        repoUrl: {type: string, ui:field: RepoUrlPicker}\n  steps: []\n";
        let path = h.write("template.yaml", t);
        h.register_file(&path).await;
        let router = crate::http::router(h.state());
        let (status, body) = send(
            &router,
            "GET",
            "/api/scaffolder/v2/templates/default/template/svc/parameter-schema",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["title"], "A service");
        assert_eq!(body["description"], "Makes a service");
        assert_eq!(body["steps"][0]["title"], "Name");
        assert_eq!(body["steps"][0]["schema"]["required"], json!(["name"]));
        assert_eq!(
            body["steps"][1]["schema"]["properties"]["repoUrl"]["ui:field"],
            "RepoUrlPicker"
        );
        for uri in [
            "/api/scaffolder/v2/templates/default/template/nope/parameter-schema",
            "/api/scaffolder/v2/templates/default/component/svc/parameter-schema",
        ] {
            let (status, body) = send(&router, "GET", uri, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        }

        let (status, body) = send(&router, "GET", "/api/scaffolder/v2/actions", None).await;
        assert_eq!(status, StatusCode::OK);
        let fetch = body
            .as_array()
            .expect("list")
            .iter()
            .find(|a| a["id"] == "fetch:template")
            .expect("fetch:template");
        assert_eq!(fetch["schema"]["input"]["required"], json!(["url"]));
    }
);

#[path = "task_tests.rs"]
mod task_tests;

#[path = "publish_tests.rs"]
mod publish_tests;

#[path = "approval_tests.rs"]
mod approval_tests;
