#!/usr/bin/env bash
# Stops what .ci/start-kube.sh STATE_DIR started: the API server, then etcd (by their pid files).
# Usage: .ci/stop-kube.sh STATE_DIR                    both
#        .ci/stop-kube.sh --apiserver-only STATE_DIR   only the API server (etcd keeps the data;
#                                                      .ci/start-kube.sh --apiserver-only brings it back)
# Returns once they have exited (SIGTERM, then SIGKILL after STOP_GRACE seconds, default 10), so
# their ports are free again. Tests use STOP_GRACE=1: an API server with open watches drains slowly.
# A pid file whose process is gone, or is not this state dir's server, is only removed.
set -euo pipefail
log() { printf '\033[1m[stop-kube]\033[0m %s\n' "$*" >&2; }

only_apiserver=0
if [ "${1:-}" = --apiserver-only ]; then only_apiserver=1; shift; fi
[ $# = 1 ] || { log "usage: $0 [--apiserver-only] STATE_DIR"; exit 1; }
[ -d "$1" ] || { log "no state dir $1"; exit 1; }
ST=$(cd "$1" && pwd)
GRACE=${STOP_GRACE:-10}

# Whether PID runs (a zombie, exited but not yet reaped by whoever inherited it, does not count).
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
stop() {
  local file=$ST/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  # Both servers name the state dir in their arguments: never signal a reused pid.
  if [ -n "$pid" ] && alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$ST/"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq $((GRACE * 10))); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "$1 (pid $pid) did not stop within $GRACE s: killing it"
      kill -9 "$pid" 2>/dev/null || true
      for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$file"
}

stop apiserver
[ $only_apiserver = 1 ] || stop etcd
