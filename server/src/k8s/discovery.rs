//! What a cluster's API server offers: Ingresses in `networking.k8s.io/v1` (Kubernetes 1.19+),
//! HorizontalPodAutoscalers in `autoscaling/v2` or, on older servers, `autoscaling/v2beta2`. An API
//! the server does not have is skipped and said once; the core and `apps/v1` APIs are required.
//!
//! GitOps APIs are custom resources that only some clusters have: ArgoCD `Application`s
//! (argoproj.io), Flux `Kustomization`s (kustomize.toolkit.fluxcd.io) and `HelmRelease`s
//! (helm.toolkit.fluxcd.io), each read in the version its group prefers. A cluster without them
//! is ordinary: nothing is said but a debug line.

use kube::discovery::ApiResource;

pub struct Apis {
    pub ingresses: bool,
    pub hpa: Option<ApiResource>,
    /// The GitOps kinds served, with the resource to read each through.
    pub gitops: Vec<(super::gitops::Tool, ApiResource)>,
    /// What was skipped, in words.
    pub skipped: Vec<String>,
}

/// Whether `group_version` serves `plural` (`Ok(false)` when the group version is not served).
async fn serves(client: &kube::Client, group_version: &str, plural: &str) -> Result<bool, String> {
    let list = if group_version == "v1" {
        client.list_core_api_resources(group_version).await
    } else {
        client.list_api_group_resources(group_version).await
    };
    match list {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == plural)),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn discover(client: &kube::Client) -> Result<Apis, String> {
    for (gv, plural) in [("v1", "pods"), ("apps/v1", "deployments")] {
        if !serves(client, gv, plural).await? {
            return Err(format!(
                "the API server does not serve {plural} in {gv}: is this a Kubernetes API server?"
            ));
        }
    }
    let mut skipped = Vec::new();
    let ingresses = serves(client, "networking.k8s.io/v1", "ingresses").await?;
    if !ingresses {
        skipped.push("Ingresses: networking.k8s.io/v1 is not served by this cluster (Kubernetes older than 1.19), so ingresses are not shown".into());
    }
    let mut hpa = None;
    for version in ["v2", "v2beta2"] {
        if serves(
            client,
            &format!("autoscaling/{version}"),
            "horizontalpodautoscalers",
        )
        .await?
        {
            hpa = Some(ApiResource {
                group: "autoscaling".into(),
                version: version.into(),
                api_version: format!("autoscaling/{version}"),
                kind: "HorizontalPodAutoscaler".into(),
                plural: "horizontalpodautoscalers".into(),
            });
            if version != "v2" {
                skipped.push(format!("HorizontalPodAutoscalers: autoscaling/v2 is not served; read through autoscaling/{version}"));
            }
            break;
        }
    }
    if hpa.is_none() {
        skipped.push("HorizontalPodAutoscalers: neither autoscaling/v2 nor v2beta2 is served, so autoscalers are not shown".into());
    }
    Ok(Apis {
        ingresses,
        hpa,
        gitops: gitops(client).await?,
        skipped,
    })
}

/// The GitOps kinds this server serves, in their groups' preferred versions.
async fn gitops(client: &kube::Client) -> Result<Vec<(super::gitops::Tool, ApiResource)>, String> {
    use super::gitops::Tool;
    let groups = client.list_api_groups().await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (tool, group, plural) in [
        (Tool::ArgoApplication, "argoproj.io", "applications"),
        (
            Tool::FluxKustomization,
            "kustomize.toolkit.fluxcd.io",
            "kustomizations",
        ),
        (
            Tool::FluxHelmRelease,
            "helm.toolkit.fluxcd.io",
            "helmreleases",
        ),
    ] {
        let Some(g) = groups.groups.iter().find(|g| g.name == group) else {
            tracing::debug!(group, "not served: {} not shown", tool.label());
            continue;
        };
        let Some(version) = g
            .preferred_version
            .as_ref()
            .or(g.versions.first())
            .map(|v| v.version.clone())
        else {
            continue;
        };
        let gv = format!("{group}/{version}");
        if serves(client, &gv, plural).await? {
            out.push((
                tool,
                ApiResource {
                    group: group.into(),
                    version,
                    api_version: gv,
                    kind: tool.kind().into(),
                    plural: plural.into(),
                },
            ));
        } else {
            tracing::debug!(group_version = %gv, plural, "not served: {} not shown", tool.label());
        }
    }
    Ok(out)
}
