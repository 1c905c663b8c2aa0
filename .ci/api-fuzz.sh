#!/usr/bin/env bash
# Checks that the OpenAPI document tells the truth: starts the release binary as README.md's first
# command starts it (a fresh working directory, no config file, the relative default ./data, a
# HOME of its own) and runs schemathesis with every check against its /api/openapi.json. Any
# finding fails the run; the checks widened for this API are in .ci/schemathesis.toml, each with
# its reason. Builds nothing: .ci/test.sh builds target/release/backlot before it runs this.
#   BACKLOT_BIN        the binary (default: target/release/backlot in this repository)
#   FUZZ_MAX_EXAMPLES  examples per operation (default 350: about 2 minutes in all, measured)
#   FUZZ_SEED          a seed, to repeat a run
#   FUZZ_TIMEOUT       seconds after which a run that has not finished fails (default 600)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${BACKLOT_BIN:-$repo/target/release/backlot}
case $bin in /*) ;; *) bin=$repo/$bin ;; esac
st=${SCHEMATHESIS:-$HOME/.cache/backlot/schemathesis/bin/schemathesis}
max_examples=${FUZZ_MAX_EXAMPLES:-350}
log() { printf '\033[1m[api-fuzz]\033[0m %s\n' "$*" >&2; }

[ -x "$bin" ] || { echo "no binary at $bin: build it with cargo build --release -p server --bin backlot" >&2; exit 1; }
[ -x "$st" ] || { echo "no schemathesis at $st: run .ci/setup.sh --with-fuzz" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
stop() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# A free port, asked of the kernel.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/run" "$work/home"
log "starting $bin in $work/run on 127.0.0.1:$port"
# Nothing of the caller's environment but PATH; the site's assets as the end-to-end tests give
# them (the API does not need them); warnings and errors only in the log.
(cd "$work/run" && exec env -i PATH="$PATH" HOME="$work/home" BACKLOT_ADDR="127.0.0.1:$port" \
  LEPTOS_SITE_ROOT="$repo/target/site" BACKLOT_LOG=warn "$bin" serve) >"$work/server.log" 2>&1 &
server_pid=$!

base=http://127.0.0.1:$port
ready() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$base/readyz" 2>/dev/null; }
for _ in $(seq 1 300); do
  if ready; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "the server exited before it was ready" >&2
    exit 1
  fi
  sleep 0.2
done
ready || { cat "$work/server.log" >&2; echo "not ready after 60 s" >&2; exit 1; }

log "schemathesis: every check, $max_examples examples per operation"
started=$(date +%s)
status=0
# A run that hangs (a stream that never ends, a request that never answers) fails, bounded.
(cd "$repo/.ci" && timeout "${FUZZ_TIMEOUT:-600}" "$st" --config-file schemathesis.toml run \
  "$base/api/openapi.json" --checks all --max-examples "$max_examples" \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"}) || status=$?
[ $status != 124 ] || log "schemathesis did not finish within ${FUZZ_TIMEOUT:-600} s"
log "schemathesis finished in $(( $(date +%s) - started )) s with status $status"
if [ $status != 0 ]; then
  log "server log (last 40 lines):"
  tail -n 40 "$work/server.log" >&2
fi
exit $status
