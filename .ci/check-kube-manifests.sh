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

# The GitOps CRDs Backlot reads where they are served (the projects' own, as the tests install
# them), so that kubectl can name their resources below. --validate=false: Kubernetes 1.20's
# schema lacks x-kubernetes-validations, which the server drops (testdata/crds/README.md).
kubectl create --validate=false -f server/src/k8s/testdata/crds/ >&2
for crd in applications.argoproj.io kustomizations.kustomize.toolkit.fluxcd.io helmreleases.helm.toolkit.fluxcd.io; do
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
can_i no patch applications.argoproj.io -A
can_i no list appprojects.argoproj.io -A
can_i no list gitrepositories.source.toolkit.fluxcd.io -A
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

if [ $failed = 1 ]; then
  log "$manifests does not grant what it should (see FAILED above)"
  exit 1
fi
log "$manifests applies and grants read-only access as intended"
