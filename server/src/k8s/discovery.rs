//! What a cluster's API server offers: Ingresses in `networking.k8s.io/v1` (Kubernetes 1.19+),
//! HorizontalPodAutoscalers in `autoscaling/v2` or, on older servers, `autoscaling/v2beta2`. An API
//! the server does not have is skipped and said once; the core and `apps/v1` APIs are required.
//!
//! GitOps APIs are custom resources that only some clusters have: ArgoCD `Application`s
//! (argoproj.io), Flux `Kustomization`s (kustomize.toolkit.fluxcd.io) and `HelmRelease`s
//! (helm.toolkit.fluxcd.io) and their sources, `GitRepository`s and `HelmRepository`s
//! (source.toolkit.fluxcd.io: v1, or v1beta2 on older Flux), each read in the version its group
//! prefers. So are the platform
//! resources: KubeVela `Application`s (core.oam.dev), `ExternalSecret`s (external-secrets.io),
//! `SealedSecret`s (bitnami.com), and Crossplane's claims and composite resources, found by the
//! categories Crossplane gives the CRDs it generates from an XRD (`claim`, `composite`), whatever
//! their group. A cluster without them is ordinary: nothing is said but a debug line.

use kube::discovery::ApiResource;

#[derive(Default)]
struct Custom {
    gitops: Vec<(super::gitops::Tool, ApiResource)>,
    sources: Vec<(super::sources::SourceKind, ApiResource)>,
    platform: Vec<(super::platform::Kind, &'static str, ApiResource)>,
}

pub struct Apis {
    pub ingresses: bool,
    pub hpa: Option<ApiResource>,
    /// The GitOps kinds served, with the resource to read each through.
    pub gitops: Vec<(super::gitops::Tool, ApiResource)>,
    /// Flux's sources served (GitRepositories, HelmRepositories).
    pub sources: Vec<(super::sources::SourceKind, ApiResource)>,
    /// The platform kinds served (Crossplane claims and composites, one entry per kind; KubeVela
    /// Applications; ExternalSecrets; SealedSecrets), with the watcher's name and the resource.
    pub platform: Vec<(super::platform::Kind, &'static str, ApiResource)>,
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
    let custom = custom(client, &mut skipped).await?;
    Ok(Apis {
        ingresses,
        hpa,
        gitops: custom.gitops,
        sources: custom.sources,
        platform: custom.platform,
        skipped,
    })
}

/// Crossplane kinds watched at most per cluster (each is one watch).
const MAX_CROSSPLANE_KINDS: usize = 100;

/// The custom resources this server serves that Backlot reads, in their groups' preferred
/// versions: the GitOps kinds and the fixed platform kinds by group and plural, Crossplane's
/// claims and composite resources by the categories its generated CRDs carry (`claim`,
/// `composite`). One request per custom API group; built-in groups (no dot, `*.k8s.io`) are not
/// asked.
async fn custom(client: &kube::Client, skipped: &mut Vec<String>) -> Result<Custom, String> {
    use super::gitops::Tool;
    use super::platform::{Kind, FIXED};
    const GITOPS: [(Tool, &str, &str); 3] = [
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
    ];
    use super::sources::SourceKind;
    const SOURCES: [SourceKind; 2] = [SourceKind::GitRepository, SourceKind::HelmRepository];
    let groups = client.list_api_groups().await.map_err(|e| e.to_string())?;
    let mut out = Custom::default();
    let mut crossplane = Vec::new();
    for g in &groups.groups {
        if !g.name.contains('.') || g.name.ends_with(".k8s.io") {
            continue;
        }
        let Some(version) = g
            .preferred_version
            .as_ref()
            .or(g.versions.first())
            .map(|v| v.version.clone())
        else {
            continue;
        };
        let gv = format!("{}/{version}", g.name);
        let list = match client.list_api_group_resources(&gv).await {
            Ok(list) => list,
            Err(kube::Error::Api(e)) if e.code == 404 => continue,
            Err(e) => return Err(e.to_string()),
        };
        let resource = |kind: &str, plural: &str| ApiResource {
            group: g.name.clone(),
            version: version.clone(),
            api_version: gv.clone(),
            kind: kind.into(),
            plural: plural.into(),
        };
        for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
            if let Some((tool, ..)) = GITOPS
                .iter()
                .find(|(_, group, plural)| *group == g.name && *plural == r.name)
            {
                out.gitops.push((*tool, resource(tool.kind(), &r.name)));
            } else if let Some(kind) = SOURCES
                .iter()
                .find(|k| g.name == "source.toolkit.fluxcd.io" && k.plural() == r.name)
            {
                out.sources.push((*kind, resource(kind.kind(), &r.name)));
            } else if let Some((kind, _, _, what)) = FIXED
                .iter()
                .find(|(_, group, plural, _)| *group == g.name && *plural == r.name)
            {
                out.platform
                    .push((*kind, *what, resource(&r.kind, &r.name)));
            } else {
                let categories = r.categories.as_deref().unwrap_or_default();
                let kind = if categories.iter().any(|c| c == "claim") {
                    Kind::Claim
                } else if categories.iter().any(|c| c == "composite") {
                    Kind::Composite
                } else {
                    continue;
                };
                crossplane.push((kind, resource(&r.kind, &r.name)));
            }
        }
    }
    if crossplane.len() > MAX_CROSSPLANE_KINDS {
        skipped.push(format!(
            "Crossplane: {} claim and composite kinds are served; only the first {MAX_CROSSPLANE_KINDS} are watched",
            crossplane.len()
        ));
        crossplane.truncate(MAX_CROSSPLANE_KINDS);
    }
    for (kind, resource) in crossplane {
        // The watcher's name lives as long as the process: discovery runs once per cluster, so
        // this keeps one short string per Crossplane kind served.
        let what: &'static str = Box::leak(
            format!(
                "Crossplane {} {}",
                resource.kind,
                if kind == Kind::Claim {
                    "claims"
                } else {
                    "composites"
                }
            )
            .into_boxed_str(),
        );
        out.platform.push((kind, what, resource));
    }
    if out.gitops.is_empty() && out.sources.is_empty() && out.platform.is_empty() {
        tracing::debug!("no GitOps or platform resources served: their sections are not shown");
    }
    Ok(out)
}
