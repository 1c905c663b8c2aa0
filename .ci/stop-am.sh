#!/usr/bin/env bash
# Stops the Alertmanager .ci/start-am.sh started in STATE_DIR (its data stays, so
# `.ci/start-am.sh --again STATE_DIR` starts it again). Usage: .ci/stop-am.sh STATE_DIR
set -euo pipefail
[ $# = 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 1; }
pidfile=$1/am.pid
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
kill "$pid" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; exit 0; }; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
rm -f "$pidfile"
