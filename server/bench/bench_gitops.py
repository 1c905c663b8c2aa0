#!/usr/bin/env python3
"""Backlot GitOps memory benchmark (figures in BENCHMARKS.md), measured as bench_kube.py measures
workloads: the RSS of a release `backlot` holding the objects minus the RSS of the same process
setup without them.

Starts a real kube-apiserver (etcd + kube-apiserver v1.20 via .ci/start-kube.sh), installs the
projects' real CRDs (server/src/k8s/testdata/crds/, `x-kubernetes-validations` and empty-string defaults removed as the
tests do), registers one catalog Component per object triple, and:
  1. baseline: starts `backlot` watching the cluster with the CRDs but no GitOps object, waits for
     the sync, reads its RSS, stops it;
  2. creates N objects: N/3 each of ArgoCD Applications (status as ArgoCD's controller writes it:
     sync, health, operationState, 5 managed resources), Flux Kustomizations and HelmReleases
     (status through the status subresource: Ready condition, revisions, 5 inventory entries);
  3. starts `backlot` again on a fresh database with the same catalog, waits until the cluster
     page holds all N, reads its RSS.
Reports MiB per 1,000 GitOps objects: (RSS with - RSS without) / (N / 1000).

With --set sources, the GitOps triple plus its Flux sources, N/5 each: every Kustomization reads
its own GitRepository and every HelmRelease its own HelmRepository (status through the status
subresource: Ready, the artifact); the cluster page's "delivery" (3 per five) is counted, each
Flux row with its source's state.

With --set platform, the objects are platform resources instead, N/4 each: Crossplane claims
(the PostgreSQL claim CRD Crossplane generates; Synced/Ready, composition, resourceRef, connection
secret published), ExternalSecrets (Ready, SecretSynced), KubeVela Applications (running, 2
components with messages) and SealedSecrets (Synced), all with status written through the status
subresource; the cluster page's "resources" is counted.

Usage: python3 server/bench/bench_gitops.py [--objects 3000] [--set gitops|sources|platform]
       [--binary target/release/backlot]
Needs: a release build and .ci/kube.sh (etcd, the API server).
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kube import ROOT, Cluster, free_port, get, rss_mib  # noqa: E402

CRDS = os.path.join(ROOT, "server/src/k8s/testdata/crds")
GIT = "abc1234567890abcdef1234567890abcdef12345"
APPLIED = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"


def for_1_20(v):
    """What Kubernetes 1.20 does not take (testdata/crds/README.md): CEL rules, `default: ""`."""
    if isinstance(v, dict):
        v.pop("x-kubernetes-validations", None)
        if v.get("default") == "":
            del v["default"]
        for x in v.values():
            for_1_20(x)
    elif isinstance(v, list):
        for x in v:
            for_1_20(x)


def install_crds(state):
    env = dict(os.environ, KUBECONFIG=os.path.join(state, "kubeconfig"))
    for f in sorted(os.listdir(CRDS)):
        if not f.endswith(".yaml"):
            continue
        crd = json.loads(subprocess.run(["kubectl", "create", "--dry-run=client", "--validate=false", "-o", "json",
                                         "-f", os.path.join(CRDS, f)], env=env, check=True,
                                        capture_output=True).stdout)
        for_1_20(crd)
        subprocess.run(["kubectl", "create", "--validate=false", "-f", "-"], input=json.dumps(crd).encode(), env=env, check=True,
                       stdout=subprocess.DEVNULL)
        # (kubectl wait fails while the CRD has no conditions yet: ask until it is established.)
        for _ in range(300):
            got = subprocess.run(["kubectl", "get", "crd", crd["metadata"]["name"], "-o",
                                  'jsonpath={.status.conditions[?(@.type=="Established")].status}'],
                                 env=env, capture_output=True, text=True)
            if got.stdout == "True":
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{crd['metadata']['name']} was not established within 60 s")


def resources(name):
    return [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "ns-0", "name": name,
             "status": "Synced", "health": {"status": "Healthy"}},
            {"version": "v1", "kind": "Service", "namespace": "ns-0", "name": name, "status": "Synced",
             "health": {"status": "Healthy"}},
            {"version": "v1", "kind": "ConfigMap", "namespace": "ns-0", "name": f"{name}-config",
             "status": "Synced"},
            {"group": "networking.k8s.io", "version": "v1", "kind": "Ingress", "namespace": "ns-0", "name": name,
             "status": "Synced", "health": {"status": "Healthy"}},
            {"group": "autoscaling", "version": "v2", "kind": "HorizontalPodAutoscaler", "namespace": "ns-0",
             "name": name, "status": "Synced", "health": {"status": "Healthy"}}]


def inventory(name):
    return {"entries": [{"id": f"ns-0_{name}_apps_Deployment", "v": "v1"}, {"id": f"ns-0_{name}__Service", "v": "v1"},
                        {"id": f"ns-0_{name}-config__ConfigMap", "v": "v1"},
                        {"id": f"ns-0_{name}_networking.k8s.io_Ingress", "v": "v1"},
                        {"id": f"ns-0_{name}_autoscaling_HorizontalPodAutoscaler", "v": "v2"}]}


def ready(reason, message):
    return [{"type": "Ready", "status": "True", "reason": reason, "message": message,
             "lastTransitionTime": "2026-12-07T14:02:00Z", "observedGeneration": 1}]


def seed_sources(cl, i):
    """A GitOps triple whose Flux objects read their own sources (GitRepository, HelmRepository)."""
    seed(cl, i, sources=True)
    name = f"svc-{i:04d}"
    artifact = {"digest": "sha256:0", "lastUpdateTime": "2026-12-07T14:00:00Z", "path": f"p/{name}.tar.gz",
                "url": f"http://source-controller/{name}.tar.gz"}
    cl.call("POST", "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories", {
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": name},
        "spec": {"url": f"ssh://git@github.com/shop/{name}", "interval": "1m", "ref": {"branch": "main"},
                 "secretRef": {"name": f"{name}-deploy-key"}}})
    cl.status(f"/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/{name}", {
        "observedGeneration": 1, "artifact": dict(artifact, revision=f"main@sha1:{APPLIED}"),
        "conditions": ready("Succeeded", f"stored artifact for revision 'main@sha1:{APPLIED}'")})
    cl.call("POST", "/apis/source.toolkit.fluxcd.io/v1/namespaces/ns-0/helmrepositories", {
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "metadata": {"name": name},
        "spec": {"url": f"https://charts.example.com/{name}", "interval": "1h"}})
    cl.status(f"/apis/source.toolkit.fluxcd.io/v1/namespaces/ns-0/helmrepositories/{name}", {
        "observedGeneration": 1, "artifact": dict(artifact, revision="sha256:" + "0" * 64),
        "conditions": ready("Succeeded", "stored artifact: revision 'sha256:0000'")})


def seed(cl, i, sources=False):
    name = f"svc-{i:04d}"
    git_source, helm_source = (name, name) if sources else ("shop", "charts")
    labels = {"backstage.io/kubernetes-id": name}
    cl.call("POST", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications", {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "labels": labels},
        "spec": {"project": "default",
                 "source": {"repoURL": f"https://git.example.com/shop/{name}.git", "path": "deploy", "targetRevision": "main"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns-0"}}})
    cl.call("PATCH", f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/{name}", {"status": {
        "sync": {"status": "Synced", "revision": GIT}, "health": {"status": "Healthy"},
        "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                           "startedAt": "2026-12-07T14:01:00Z", "finishedAt": "2026-12-07T14:02:00Z",
                           "operation": {"sync": {"revision": GIT}}, "syncResult": {"revision": GIT}},
        "resources": resources(name)}}, "application/merge-patch+json")
    cl.call("POST", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations", {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "labels": labels},
        "spec": {"interval": "5m", "prune": True, "path": f"./apps/{name}", "targetNamespace": "ns-0",
                 "sourceRef": {"kind": "GitRepository", "name": git_source}}})
    cl.status(f"/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/{name}", {
        "observedGeneration": 1, "lastAppliedRevision": f"main@sha1:{APPLIED}",
        "lastAttemptedRevision": f"main@sha1:{APPLIED}", "inventory": inventory(name),
        "conditions": ready("ReconciliationSucceeded", f"Applied revision: main@sha1:{APPLIED}")})
    cl.call("POST", "/apis/helm.toolkit.fluxcd.io/v2/namespaces/ns-0/helmreleases", {
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": name, "labels": labels},
        "spec": {"interval": "5m", "chart": {"spec": {"chart": name, "sourceRef": {"kind": "HelmRepository", "name": helm_source}}}}})
    cl.status(f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/ns-0/helmreleases/{name}", {
        "observedGeneration": 1, "lastAttemptedRevision": "1.4.2", "inventory": inventory(name),
        "history": [{"chartName": name, "chartVersion": "1.4.2", "appVersion": "1.4.2", "configDigest": "sha256:0",
                     "digest": "sha256:1", "firstDeployed": "2026-12-07T10:00:00Z", "lastDeployed": "2026-12-07T14:02:00Z",
                     "name": name, "namespace": "ns-0", "status": "deployed", "version": 3}],
        "conditions": ready("UpgradeSucceeded", "Helm upgrade succeeded")})


def cond(kind, reason, message=""):
    """A True condition as the controllers write it (an empty message left out: omitempty)."""
    c = {"type": kind, "status": "True", "reason": reason, "lastTransitionTime": "2026-12-07T14:02:00Z"}
    if message:
        c["message"] = message
    return c


def seed_platform(cl, i):
    name = f"svc-{i:04d}"
    labels = {"backstage.io/kubernetes-id": name}
    ns = "/namespaces/ns-0"
    claims = f"/apis/database.example.org/v1alpha1{ns}/postgresqlinstances"
    cl.call("POST", claims, {
        "apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance",
        "metadata": {"name": name, "labels": labels},
        "spec": {"parameters": {"storageGB": 20}, "compositionRef": {"name": "aws-postgres"},
                 "resourceRef": {"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance",
                                 "name": f"{name}-x7k2p"},
                 "writeConnectionSecretToRef": {"name": f"{name}-conn"}}})
    cl.status(f"{claims}/{name}", {"conditions": [cond("Synced", "ReconcileSuccess"), cond("Ready", "Available")],
                                   "connectionDetails": {"lastPublishedTime": "2026-12-07T14:05:00Z"}})
    es = f"/apis/external-secrets.io/v1{ns}/externalsecrets"
    cl.call("POST", es, {
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "metadata": {"name": name, "labels": labels},
        "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "aws"},
                 "target": {"name": f"{name}-creds"},
                 "data": [{"secretKey": "password", "remoteRef": {"key": f"{name}/db"}}]}})
    cl.status(f"{es}/{name}", {"refreshTime": "2026-12-07T14:00:00Z", "syncedResourceVersion": "1-abc",
                               "binding": {"name": f"{name}-creds"},
                               "conditions": [cond("Ready", "SecretSynced", "secret synced")]})
    apps = f"/apis/core.oam.dev/v1beta1{ns}/applications"
    cl.call("POST", apps, {
        "apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
        "metadata": {"name": name, "labels": labels},
        "spec": {"components": [{"name": "web", "type": "webservice", "properties": {"image": f"{name}:1.0"}},
                                {"name": "worker", "type": "worker", "properties": {"image": f"{name}-worker:1.0"}}]}})
    cl.status(f"{apps}/{name}", {"status": "running", "observedGeneration": 1,
                                 "services": [{"name": "web", "namespace": "ns-0", "healthy": True, "message": "Ready:1/1"},
                                              {"name": "worker", "namespace": "ns-0", "healthy": True, "message": "Ready:1/1"}]})
    sealed = f"/apis/bitnami.com/v1alpha1{ns}/sealedsecrets"
    cl.call("POST", sealed, {
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": name, "labels": labels},
        "spec": {"encryptedData": {"key": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" * 8}}})
    cl.status(f"{sealed}/{name}", {"observedGeneration": 1, "conditions": [
        {"type": "Synced", "status": "True", "lastTransitionTime": "2026-12-07T14:00:00Z",
         "lastUpdateTime": "2026-12-07T14:00:00Z"}]})


def run_backlot(binary, work, tag, cat, state, port, want, field="delivery", sourced=0):
    config = os.path.join(work, f"backlot-{tag}.yaml")
    open(config, "w").write(
        f"addr: 127.0.0.1:{port}\ndata_dir: {work}/data-{tag}\nlog: warn\ncatalog:\n  demo: never\n  locations:\n"
        f"    - target: {cat}\nkubernetes:\n  clusters:\n    - kubeconfig: {state}/kubeconfig\n      name: c0\n")
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, f"server-{tag}.log"), "w")
    server = subprocess.Popen([binary, "--config", config, "serve"], cwd=work, stderr=log, stdout=log)
    try:
        t0 = time.time()
        # Synced means every watcher's first list is complete: every object is held. Ask the
        # small overview while waiting (the cluster page with thousands of objects would itself
        # grow the heap), and count the objects once, after measuring.
        while True:
            try:
                o = get(base + "/api/kubernetes/clusters")
                if all(c["state"]["synced"] for c in o["clusters"]):
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.time() - t0 > 300:
                raise RuntimeError(f"{tag}: not synced within 300 s")
            time.sleep(0.1)
        synced = time.time() - t0
        time.sleep(2)
        rss = rss_mib(server.pid)
        rows = get(base + "/api/kubernetes/clusters/c0")[field]
        if len(rows) != want:
            raise RuntimeError(f"{tag}: {len(rows)} objects held in {field}, {want} expected")
        with_source = sum(1 for r in rows if r.get("source_state"))
        if with_source != sourced:
            raise RuntimeError(f"{tag}: {with_source} rows with their source's state, {sourced} expected")
        return rss, synced
    finally:
        server.terminate()
        server.wait(timeout=20)


def main():
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=3000)
    ap.add_argument("--set", choices=["gitops", "sources", "platform"], default="gitops")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/backlot"))
    args = ap.parse_args()
    per, seed_one, field, shown = {
        "gitops": (3, seed, "delivery", 3),
        "sources": (5, seed_sources, "delivery", 3),
        "platform": (4, seed_platform, "resources", 4),
    }[args.set]
    triples = args.objects // per
    work = tempfile.mkdtemp(prefix="backlot-bench-gitops-")
    state = os.path.join(work, "k0")
    os.makedirs(state)
    subprocess.run(["bash", os.path.join(ROOT, ".ci/start-kube.sh"), state], check=True, stdout=subprocess.DEVNULL)
    try:
        cl = Cluster(state)
        install_crds(state)
        for ns in ["argocd", "flux-system", "ns-0"]:
            cl.call("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        docs = [f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i:04d}\n  annotations:\n"
                f"    backstage.io/kubernetes-id: svc-{i:04d}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
                for i in range(triples)]
        docs.append("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n")
        cat = os.path.join(work, "catalog.yaml")
        open(cat, "w").write("---\n".join(docs))
        port = free_port()
        base_rss, _ = run_backlot(args.binary, work, "without", cat, state, port, 0, field)
        t = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for j in [pool.submit(seed_one, cl, i) for i in range(triples)]:
                j.result()
        print(f"seeded {triples * per} {args.set} objects in {time.time() - t:.0f} s", file=sys.stderr)
        rss, synced = run_backlot(args.binary, work, "with", cat, state, port, triples * shown, field,
                                  triples * 2 if args.set == "sources" else 0)
        print(json.dumps({
            "set": args.set,
            "objects": triples * per,
            "first_sync_s": round(synced, 2),
            "rss_mib": round(rss, 1),
            "baseline_rss_mib": round(base_rss, 1),
            "mib_per_1k_objects": round((rss - base_rss) / (triples * per / 1000), 2),
        }, indent=2))
    finally:
        subprocess.run(["bash", os.path.join(ROOT, ".ci/stop-kube.sh"), state])


if __name__ == "__main__":
    main()
