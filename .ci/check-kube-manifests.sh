#!/usr/bin/env bash
# Checks deploy/kubernetes/ against a real (throwaway) kube-apiserver: the manifests pass the
# server's validation and apply, and Backlot's service account can read exactly what it should.
# Usage: .ci/check-kube-manifests.sh [DIR]   (default deploy/kubernetes; installs what is missing
#        through .ci/kube.sh). Not part of .ci/test.sh.
set -euo pipefail
manifests=$(cd "${1:-$(dirname "$0")/../deploy/kubernetes}" && pwd)
cd "$(dirname "$0")/.."
log() { printf '\033[1m[check-kube-manifests]\033[0m %s\n' "$*" >&2; }

APISERVER=$(.ci/kube.sh | tail -n 1)
export APISERVER
state=$(mktemp -d "${TMPDIR:-/tmp}/backlot-kube.XXXXXX")
trap '.ci/stop-kube.sh "$state" || true; rm -rf "$state"' EXIT
.ci/start-kube.sh "$state"
export KUBECONFIG=$state/kubeconfig

# (A server-side dry run cannot check objects in a namespace that the same apply creates, so
# apply for real: the API server validates every object; kubectl checks field names against the
# server's OpenAPI schema, since a 1.20 server does not check them itself.)
log "applying $manifests"
kubectl apply --validate=strict -f "$manifests" >&2

# The GitOps and platform CRDs Backlot reads where they are served (the projects' own, and the
# claim and composite CRDs Crossplane generates, as the tests install them), so that kubectl can
# name their resources below; less what Kubernetes 1.20 does not take (x-kubernetes-validations,
# empty-string defaults: testdata/crds/README.md).
for f in server/src/k8s/testdata/crds/*.yaml; do
  kubectl create --dry-run=client --validate=false -o json -f "$f" | python3 -c 'import json, sys
def fix(v):
    if isinstance(v, dict):
        v.pop("x-kubernetes-validations", None)
        if v.get("default") == "":
            del v["default"]
        for x in v.values(): fix(x)
    elif isinstance(v, list):
        for x in v: fix(x)
crd = json.load(sys.stdin); fix(crd); json.dump(crd, sys.stdout)' | kubectl create --validate=false -f - >&2
done
for crd in applications.argoproj.io kustomizations.kustomize.toolkit.fluxcd.io helmreleases.helm.toolkit.fluxcd.io \
  gitrepositories.source.toolkit.fluxcd.io helmrepositories.source.toolkit.fluxcd.io \
  applications.core.oam.dev externalsecrets.external-secrets.io sealedsecrets.bitnami.com \
  postgresqlinstances.database.example.org xpostgresqlinstances.database.example.org; do
  for _ in $(seq 100); do
    [ "$(kubectl get crd "$crd" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}')" = True ] && break
    sleep 0.2
  done
done

sa=system:serviceaccount:backlot:backlot
failed=0
# can_i ANSWER VERB RESOURCE [more kubectl auth can-i arguments]
can_i() {
  local want=$1 got; shift
  got=$(kubectl auth can-i "$@" --as="$sa" 2>/dev/null || true)
  if [ "$got" = "$want" ]; then
    log "ok: can-i $* -> $got"
  else
    log "FAILED: can-i $* as $sa: expected $want, got ${got:-an error}"
    failed=1
  fi
}
can_i yes list pods -A
can_i yes watch pods -A
can_i yes get pods -n team-a
can_i yes list services -A
can_i yes list events -A
can_i yes list namespaces
can_i yes list deployments.apps -A
can_i yes watch replicasets.apps -A
can_i yes list statefulsets.apps -A
can_i yes list daemonsets.apps -A
can_i yes list ingresses.networking.k8s.io -A
can_i yes watch horizontalpodautoscalers.autoscaling -A
can_i yes list applications.argoproj.io -A
can_i yes watch applications.argoproj.io -A
can_i yes list kustomizations.kustomize.toolkit.fluxcd.io -A
can_i yes watch helmreleases.helm.toolkit.fluxcd.io -A
can_i yes list applications.core.oam.dev -A
can_i yes watch externalsecrets.external-secrets.io -A
can_i yes list sealedsecrets.bitnami.com -A
can_i no patch applications.argoproj.io -A
can_i no patch externalsecrets.external-secrets.io -A
can_i no list appprojects.argoproj.io -A
can_i yes list gitrepositories.source.toolkit.fluxcd.io -A
can_i yes watch helmrepositories.source.toolkit.fluxcd.io -A
can_i no patch gitrepositories.source.toolkit.fluxcd.io -A
can_i no list buckets.source.toolkit.fluxcd.io -A
can_i no list ocirepositories.source.toolkit.fluxcd.io -A
can_i no delete pods -A
can_i no create pods -n backlot
can_i no patch deployments.apps -A
can_i no update deployments.apps -A --subresource=scale
can_i no get secrets -A
can_i no get secrets -n backlot
can_i no list configmaps -A
can_i no get pods -A --subresource=log
can_i no create pods -A --subresource=exec
can_i no list nodes
can_i no list clusterroles.rbac.authorization.k8s.io

# Crossplane's claims and composites reach Backlot through the aggregated role, from the view
# role Crossplane's RBAC manager makes for each XRD (as its roles.go writes it). Aggregation is
# kube-controller-manager's work, which this API server runs without: check the selector, that
# nothing is granted before, then copy the selected roles' rules as its aggregation controller
# would and ask again.
kubectl apply -f - >&2 <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: crossplane:composite:xpostgresqlinstances.database.example.org:aggregate-to-view
  labels:
    rbac.crossplane.io/aggregate-to-view: "true"
    rbac.crossplane.io/aggregate-to-ns-view: "true"
rules:
  - apiGroups: [database.example.org]
    resources: [xpostgresqlinstances, xpostgresqlinstances/status, postgresqlinstances, postgresqlinstances/status]
    verbs: [get, list, watch]
YAML
can_i no list postgresqlinstances.database.example.org -A
selector=$(kubectl get clusterrole backlot-crossplane-reader -o 'jsonpath={.aggregationRule.clusterRoleSelectors[0].matchLabels}')
rules=$(kubectl get clusterrole -l "$(printf '%s' "$selector" | python3 -c 'import json,sys
print(",".join(f"{k}={v}" for k, v in json.load(sys.stdin).items()))')" -o json |
  python3 -c 'import json,sys
print(json.dumps([r for i in json.load(sys.stdin)["items"] for r in i["rules"]]))')
kubectl patch clusterrole backlot-crossplane-reader --type=merge -p "{\"rules\": $rules}" >&2
can_i yes list postgresqlinstances.database.example.org -A
can_i yes watch xpostgresqlinstances.database.example.org
can_i no patch postgresqlinstances.database.example.org -A
can_i no get secrets -A

if [ $failed = 1 ]; then
  log "$manifests does not grant what it should (see FAILED above)"
  exit 1
fi
log "$manifests applies and grants read-only access as intended"
