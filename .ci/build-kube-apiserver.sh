#!/usr/bin/env bash
# Builds a real kube-apiserver v1.20.2 from Debian bookworm's "kubernetes" SOURCE package, for the
# Kubernetes tests (.ci/kube.sh calls it when no prebuilt copy is at hand). Only Debian's apt is
# used (deb-src for bookworm): no GitHub, no Go module proxy (vendor/ is in the source tarball).
# About 7 minutes on 2 cores and ~2 GB of disk under $TMPDIR while building; nothing is left behind.
# Usage: .ci/build-kube-apiserver.sh OUT_DIR      -> OUT_DIR/kube-apiserver
#        WITH_KCM=1 .ci/build-kube-apiserver.sh OUT_DIR   also builds OUT_DIR/kube-controller-manager
# Logs go to stderr; the build log is shown (its end) only when the build fails.
set -euo pipefail
OUT=$(mkdir -p "${1:?usage: $0 OUT_DIR}" && cd "$1" && pwd)
log() { printf '\033[1m[build-kube-apiserver]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# apt-get's chatter (debconf notices, dpkg progress) is shown only when it fails.
apt_install() {
  local out
  out=$(as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

WHAT="cmd/kube-apiserver"; [ "${WITH_KCM:-0}" = 1 ] && WHAT="$WHAT cmd/kube-controller-manager"
need=0; for b in $WHAT; do [ -x "$OUT/$(basename "$b")" ] || need=1; done
[ $need = 0 ] && { log "already built in $OUT"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kube-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 1. deb-src for bookworm (these machines only have binary "deb" lines)
if ! grep -rqs "deb-src" /etc/apt/sources.list.d/ /etc/apt/sources.list; then
  log "adding bookworm deb-src to apt's sources"
  as_root tee /etc/apt/sources.list.d/bookworm-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
as_root apt-get update -qq
# 2. toolchain + etcd + the reflect2 fix (Debian ships reflect2 1.0.2, which works with Go >= 1.18).
#    rsync is a hidden dependency of Kubernetes' build scripts.
log "installing Go 1.19, rsync, etcd-server and Debian's reflect2"
apt_install golang-1.19-go rsync etcd-server golang-github-modern-go-reflect2-dev
# 3. source: kubernetes 1.20.5+really1.20.2 (full upstream tree incl. vendor/)
log "downloading Debian's kubernetes source package"
cd "$WORK"
apt-get source --download-only kubernetes >"$WORK/source.log" 2>&1 || { tail -20 "$WORK/source.log" >&2; exit 1; }
tar xzf kubernetes_*.orig.tar.gz
src=$(find . -maxdepth 1 -type d -name 'kubernetes-1.20.*' | head -n1)
[ -n "$src" ] || { log "no kubernetes-1.20.* tree in the source package: $(ls)"; exit 1; }
cd "$src"
# 4. the vendored reflect2 1.0.1 panics under Go 1.19 on every create (nil deref decoding maps)
#    while reads work, so the server looks healthy until the first write: swap in Debian's 1.0.2.
R=vendor/github.com/modern-go/reflect2
rm -rf $R && mkdir -p $R && cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.{go,s} $R/
# 5. build (runs Kubernetes' code generators first)
# Go uses vendor/ by itself (go.mod says go 1.15); -trimpath keeps build paths out of the binary.
# GOFLAGS must hold no space: Kubernetes' hack/lib/golang.sh folds it into the build tags.
log "building $WHAT (about 7 minutes on 2 cores)"
export PATH=/usr/lib/go-1.19/bin:$PATH GOFLAGS=-trimpath GOPROXY=off CGO_ENABLED=0 HOME=$WORK/home
make WHAT="$WHAT" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; exit 1; }
for b in $WHAT; do cp "_output/bin/$(basename "$b")" "$OUT/"; done
log "built: $("$OUT/kube-apiserver" --version)"
