//! A real etcd + kube-apiserver for tests, started by `.ci/start-kube.sh` (which `.ci/kube.sh`
//! provides with the binaries), and helpers that create objects and move their status through
//! the status subresource, as a kubelet and the controllers would.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.ci")
        .join(name)
}

/// etcd and an API server in a temporary directory; stopped on drop.
pub struct ApiServer {
    pub dir: tempfile::TempDir,
}

impl ApiServer {
    pub fn start() -> ApiServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new("bash")
            .arg(script("start-kube.sh"))
            .arg(dir.path())
            .output()
            .expect("run .ci/start-kube.sh");
        assert!(
            out.status.success(),
            "the API server did not start (run .ci/kube.sh first):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ApiServer { dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Stops the API server only (etcd keeps the data).
    pub fn stop_apiserver(&self) {
        let status = Command::new("bash")
            .arg(script("stop-kube.sh"))
            .arg("--apiserver-only")
            .arg(self.dir.path())
            .env("STOP_GRACE", "1")
            .status()
            .expect("run .ci/stop-kube.sh");
        assert!(status.success(), "the API server did not stop");
    }

    pub fn start_apiserver(&self) {
        let out = Command::new("bash")
            .arg(script("start-kube.sh"))
            .arg("--apiserver-only")
            .arg(self.dir.path())
            .output()
            .expect("run .ci/start-kube.sh");
        assert!(
            out.status.success(),
            "the API server did not restart:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub async fn client(&self) -> kube::Client {
        let file = kube::config::Kubeconfig::read_from(self.kubeconfig()).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(file, &Default::default())
            .await
            .expect("config");
        kube::Client::try_from(config).expect("client")
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("stop-kube.sh"))
            .arg(self.dir.path())
            .env("STOP_GRACE", "1")
            .status();
    }
}

/// Creates objects in one namespace.
pub struct Objects {
    pub client: kube::Client,
    pub namespace: String,
}

impl Objects {
    pub async fn new(client: kube::Client, namespace: &str) -> Objects {
        let ns: Api<Namespace> = Api::all(client.clone());
        ns.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("ns"),
        )
        .await
        .expect("create namespace");
        Objects {
            client,
            namespace: namespace.into(),
        }
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// A Deployment → ReplicaSet → `pods` Pods chain with owner references, labels on the
    /// Deployment and its template; returns the pod names.
    pub async fn deployment(
        &self,
        name: &str,
        labels: Value,
        image: &str,
        pods: usize,
    ) -> Vec<String> {
        let mut template_labels = labels.clone();
        template_labels["app"] = json!(name);
        let d: Deployment = self
            .api::<Deployment>()
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "metadata": {"name": name, "labels": labels},
                    "spec": {
                        "replicas": pods,
                        "selector": {"matchLabels": {"app": name}},
                        "template": {
                            "metadata": {"labels": template_labels},
                            "spec": {"containers": [{"name": "app", "image": image}]}
                        }
                    }
                }))
                .expect("deployment"),
            )
            .await
            .expect("create deployment");
        let rs_name = format!("{name}-5d9c7b");
        let rs: ReplicaSet = self
            .api::<ReplicaSet>()
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "metadata": {
                        "name": rs_name,
                        "labels": {"app": name, "pod-template-hash": "5d9c7b"},
                        "annotations": {"deployment.kubernetes.io/revision": "1"},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": d.metadata.uid, "controller": true}]
                    },
                    "spec": {
                        "replicas": pods,
                        "selector": {"matchLabels": {"app": name, "pod-template-hash": "5d9c7b"}},
                        "template": {
                            "metadata": {"labels": {"app": name, "pod-template-hash": "5d9c7b"}},
                            "spec": {"containers": [{"name": "app", "image": image}]}
                        }
                    }
                }))
                .expect("replicaset"),
            )
            .await
            .expect("create replicaset");
        let mut names = Vec::new();
        for i in 0..pods {
            let pod_name = format!("{rs_name}-{i:05}");
            self.api::<Pod>()
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(json!({
                        "metadata": {
                            "name": pod_name,
                            "labels": {"app": name, "pod-template-hash": "5d9c7b"},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": rs.metadata.uid, "controller": true}]
                        },
                        "spec": {"nodeName": "fake-node-1", "containers": [{"name": "app", "image": image}]}
                    }))
                    .expect("pod"),
                )
                .await
                .expect("create pod");
            self.pod_running(&pod_name, image).await;
            names.push(pod_name);
        }
        self.deployment_status(name, pods as i32, pods as i32).await;
        names
    }

    async fn patch_status<K>(&self, name: &str, status: Value)
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        self.api::<K>()
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": status })),
            )
            .await
            .expect("patch status");
    }

    /// An autoscaler for a Deployment in `autoscaling/v2beta2` (what Kubernetes 1.20 serves),
    /// with its status as the HPA controller would write it.
    pub async fn hpa(&self, deployment: &str, min: i32, max: i32, current: i32) {
        use kube::api::DynamicObject;
        use kube::discovery::ApiResource;
        let resource = ApiResource {
            group: "autoscaling".into(),
            version: "v2beta2".into(),
            api_version: "autoscaling/v2beta2".into(),
            kind: "HorizontalPodAutoscaler".into(),
            plural: "horizontalpodautoscalers".into(),
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let hpa: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "autoscaling/v2beta2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": deployment},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
                "minReplicas": min, "maxReplicas": max,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
            }
        }))
        .expect("hpa");
        api.create(&PostParams::default(), &hpa)
            .await
            .expect("create hpa");
        api.patch_status(
            deployment,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"currentReplicas": current, "desiredReplicas": current, "conditions": []}})),
        )
        .await
        .expect("hpa status");
    }

    pub async fn pod_running(&self, pod: &str, image: &str) {
        self.patch_status::<Pod>(
            pod,
            json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": image, "imageID": "",
                    "state": {"running": {"startedAt": "2026-11-29T00:00:00Z"}}}]
            }),
        )
        .await;
    }

    /// The container waits with `reason` (CrashLoopBackOff, ImagePullBackOff…); `last` is how
    /// its previous run ended (OOMKilled…).
    pub async fn pod_waiting(
        &self,
        pod: &str,
        image: &str,
        reason: &str,
        restarts: i32,
        last: Option<&str>,
    ) {
        let mut status = json!({"name": "app", "ready": false, "restartCount": restarts, "image": image, "imageID": "",
            "state": {"waiting": {"reason": reason, "message": "back-off 5m0s restarting failed container"}}});
        if let Some(l) = last {
            status["lastState"] = json!({"terminated": {"reason": l, "exitCode": 137, "startedAt": "2026-11-29T00:00:00Z", "finishedAt": "2026-11-29T00:01:00Z"}});
        }
        self.patch_status::<Pod>(
            pod,
            json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [status]
            }),
        )
        .await;
    }

    pub async fn deployment_status(&self, name: &str, desired: i32, ready: i32) {
        let available = if ready > 0 { "True" } else { "False" };
        self.patch_status::<Deployment>(
            name,
            json!({
                "observedGeneration": 1,
                "replicas": desired, "updatedReplicas": desired, "readyReplicas": ready,
                "availableReplicas": ready, "unavailableReplicas": desired - ready,
                "conditions": [{"type": "Available", "status": if ready < desired { "False" } else { available },
                    "reason": "MinimumReplicasUnavailable", "lastUpdateTime": "2026-11-29T00:00:00Z", "lastTransitionTime": "2026-11-29T00:00:00Z"}]
            }),
        )
        .await;
        self.patch_status::<ReplicaSet>(
            &format!("{name}-5d9c7b"),
            json!({"replicas": desired, "readyReplicas": ready, "availableReplicas": ready}),
        )
        .await;
    }
}

/// The projects' CRDs committed as fixtures (testdata/crds/README.md says where each is from).
pub const GITOPS_CRDS: [&str; 5] = [
    "argoproj.io_applications.yaml",
    "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
    "helm.toolkit.fluxcd.io_helmreleases.yaml",
    "source.toolkit.fluxcd.io_gitrepositories.yaml",
    "source.toolkit.fluxcd.io_helmrepositories.yaml",
];

/// What Kubernetes 1.20 does not take from the fixtures, removed wherever it appears:
/// `x-kubernetes-validations` (CEL rules, Kubernetes 1.25+; 1.20 would drop them silently, so
/// removing them first keeps what is installed equal to what is checked) and empty-string
/// schema defaults (`default: ""`, in External Secrets' CRD), which 1.20 rejects as null.
pub fn for_1_20(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("x-kubernetes-validations");
            if map.get("default") == Some(&json!("")) {
                map.remove("default");
            }
            map.values_mut().for_each(for_1_20);
        }
        Value::Array(items) => items.iter_mut().for_each(for_1_20),
        _ => {}
    }
}

/// The platform CRDs: KubeVela's Application, External Secrets' ExternalSecret, Sealed Secrets'
/// SealedSecret (the projects' own), and the claim and composite CRDs Crossplane generates for
/// its documented PostgreSQL XRD.
pub const PLATFORM_CRDS: [&str; 5] = [
    "core.oam.dev_applications.yaml",
    "external-secrets.io_externalsecrets.yaml",
    "bitnami.com_sealedsecrets.yaml",
    "database.example.org_postgresqlinstances.yaml",
    "database.example.org_xpostgresqlinstances.yaml",
];

/// Installs the ArgoCD and Flux CRDs and waits until the server serves them.
pub async fn install_gitops_crds(client: &kube::Client) {
    install_crds(client, &GITOPS_CRDS).await
}

/// Installs CRDs of testdata/crds/ and waits until the server serves them.
pub async fn install_crds(client: &kube::Client, files: &[&str]) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/k8s/testdata/crds");
    for file in files {
        let text = std::fs::read_to_string(dir.join(file)).expect("CRD fixture");
        let mut crd: Value = yaml_serde::from_str(&text).expect("CRD yaml");
        for_1_20(&mut crd);
        let crd: CustomResourceDefinition = serde_json::from_value(crd).expect("CRD");
        let name = crd.metadata.name.clone().expect("name");
        api.create(&PostParams::default(), &crd)
            .await
            .expect("create CRD");
        let established = kube::runtime::wait::await_condition(
            api.clone(),
            &name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        tokio::time::timeout(std::time::Duration::from_secs(30), established)
            .await
            .expect("CRD established in time")
            .expect("CRD established");
    }
}

/// A custom kind's resource, as the tests create it (`OamApplication` is KubeVela's
/// `Application`).
pub fn gitops_resource(kind: &str) -> kube::discovery::ApiResource {
    let (group, version, plural, kind) = match kind {
        "Application" => ("argoproj.io", "v1alpha1", "applications", kind),
        "Kustomization" => ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", kind),
        "HelmRelease" => ("helm.toolkit.fluxcd.io", "v2", "helmreleases", kind),
        "GitRepository" => ("source.toolkit.fluxcd.io", "v1", "gitrepositories", kind),
        "HelmRepository" => ("source.toolkit.fluxcd.io", "v1", "helmrepositories", kind),
        "OamApplication" => ("core.oam.dev", "v1beta1", "applications", "Application"),
        "ExternalSecret" => ("external-secrets.io", "v1", "externalsecrets", kind),
        "SealedSecret" => ("bitnami.com", "v1alpha1", "sealedsecrets", kind),
        "PostgreSQLInstance" => (
            "database.example.org",
            "v1alpha1",
            "postgresqlinstances",
            kind,
        ),
        "XPostgreSQLInstance" => (
            "database.example.org",
            "v1alpha1",
            "xpostgresqlinstances",
            kind,
        ),
        other => panic!("not a kind the tests know: {other}"),
    };
    kube::discovery::ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn custom_api(
    client: &kube::Client,
    namespace: &str,
    resource: &kube::discovery::ApiResource,
) -> Api<kube::api::DynamicObject> {
    if namespace.is_empty() {
        Api::all_with(client.clone(), resource)
    } else {
        Api::namespaced_with(client.clone(), namespace, resource)
    }
}

/// Creates a custom object (`kind` as in [`gitops_resource`]) in `namespace` (`""`: a
/// cluster-scoped one).
pub async fn create_gitops(client: &kube::Client, namespace: &str, kind: &str, body: Value) {
    let resource = gitops_resource(kind);
    let api = custom_api(client, namespace, &resource);
    let mut body = body;
    body["apiVersion"] = json!(resource.api_version);
    body["kind"] = json!(resource.kind);
    api.create(
        &PostParams::default(),
        &serde_json::from_value(body).expect("object"),
    )
    .await
    .expect("create custom object");
}

/// Writes a custom object's status as its controller would: through the status subresource,
/// except ArgoCD's, whose CRD has none (its controller patches the Application itself).
pub async fn gitops_status(
    client: &kube::Client,
    namespace: &str,
    kind: &str,
    name: &str,
    status: Value,
) {
    let resource = gitops_resource(kind);
    let api = custom_api(client, namespace, &resource);
    let patch = Patch::Merge(json!({ "status": status }));
    if kind == "Application" {
        api.patch(name, &PatchParams::default(), &patch).await
    } else {
        api.patch_status(name, &PatchParams::default(), &patch)
            .await
    }
    .expect("write status");
}
