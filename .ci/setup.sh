#!/usr/bin/env bash
# Installs what building and testing Backlot needs, reusing whatever is already there:
# the wasm target, wasm-bindgen (exactly the version in Cargo.toml), the npm packages of
# end2end/ (Playwright, wasm-opt from binaryen), Debian's Chromium, through .ci/kube.sh what
# the Kubernetes tests need (etcd, kubectl, a kube-apiserver v1.20.2), Debian's Prometheus and
# Alertmanager for the golden signals' and alerts' tests (.ci/start-prom.sh, .ci/start-am.sh)
# and, for .ci/api-fuzz.sh, schemathesis 4 in a virtualenv at ~/.cache/backlot/schemathesis.
# Usage: .ci/setup.sh [--with-browser] [--with-kube] [--with-prometheus] [--with-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0 with_kube=0 with_prom=0 with_fuzz=0
for arg in "$@"; do
  case $arg in
    --with-browser) with_browser=1 ;;
    --with-kube) with_kube=1 ;;
    --with-prometheus) with_prom=1 ;;
    --with-fuzz) with_fuzz=1 ;;
    *) echo "unknown option $arg (usage: .ci/setup.sh [--with-browser] [--with-kube] [--with-prometheus] [--with-fuzz])" >&2; exit 1 ;;
  esac
done

WASM_BINDGEN_VERSION=0.2.130
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

command -v cargo >/dev/null || { echo "Rust is needed: install it with rustup (https://rustup.rs)" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen must match the wasm-bindgen crate exactly.
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  shared=../shared/bin/wasm-bindgen   # prebuilt copy on the team's machines, if present
  if [ -x "$shared" ] && [ "$("$shared" --version | awk '{print $2}')" = "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen $WASM_BINDGEN_VERSION from $shared"
    install -m 755 "$shared" "$HOME/.cargo/bin/wasm-bindgen"
  else
    log "building wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 CPU-minutes, once)"
    # Its lockfile pins webpki-roots 1.0.11, which not every registry mirror has: build it
    # from its source with that one pin moved back.
    src=$(mktemp -d)
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --root "$src/unused" >/dev/null 2>&1 || true
    crate=$(ls -d "$HOME"/.cargo/registry/src/*/wasm-bindgen-cli-"$WASM_BINDGEN_VERSION" 2>/dev/null | head -n1)
    if [ -z "$crate" ]; then
      cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
    else
      cp -r "$crate" "$src/cli" && (cd "$src/cli" && cargo update -p webpki-roots --precise 1.0.10 && cargo install --path . --locked)
    fi
    rm -rf "$src"
  fi
fi

# Installed again when the lock file changed since (npm writes node_modules/.package-lock.json).
if [ ! -x end2end/node_modules/.bin/playwright ] || [ ! -x end2end/node_modules/.bin/wasm-opt ] ||
  [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  command -v npm >/dev/null || { log "installing Node.js"; as_root apt-get update -qq; as_root apt-get install -y -qq nodejs npm; }
  log "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

if [ $with_browser = 1 ] && ! [ -x /usr/bin/chromium ]; then
  log "installing Debian's Chromium"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends chromium
fi

if [ $with_prom = 1 ]; then
  missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian's ${missing[*]}"
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if [ $with_kube = 1 ]; then
  .ci/kube.sh >/dev/null
fi

# schemathesis for .ci/api-fuzz.sh, in a virtualenv of its own (pinned, so a new release cannot change what CI checks; reused while it is that one).
SCHEMATHESIS_VENV=$HOME/.cache/backlot/schemathesis
if [ $with_fuzz = 1 ] && ! "$SCHEMATHESIS_VENV/bin/schemathesis" --version 2>/dev/null | grep -q 'version 4\.32\.5'; then
  command -v python3 >/dev/null || { log "installing Python"; as_root apt-get update -qq; as_root apt-get install -y -qq python3; }
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    log "installing python3-venv"
    as_root apt-get update -qq
    as_root apt-get install -y -qq python3-venv
  fi
  log "installing schemathesis 4.32.5 into $SCHEMATHESIS_VENV"
  rm -rf "$SCHEMATHESIS_VENV"
  mkdir -p "$(dirname "$SCHEMATHESIS_VENV")"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install --quiet 'schemathesis==4.32.5'
fi
