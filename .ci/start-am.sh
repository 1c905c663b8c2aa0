#!/usr/bin/env bash
# Starts Debian's Alertmanager (package prometheus-alertmanager, binary prometheus-alertmanager)
# on 127.0.0.1 for tests, without clustering, routing every alert to a receiver that sends
# nothing; leaves it running in the background and returns once /-/ready answers. A Prometheus
# sends it its alerts when started with PROM_ALERTMANAGER=127.0.0.1:$(cat STATE_DIR/port)
# (.ci/start-prom.sh).
# Usage: .ci/start-am.sh STATE_DIR            a new Alertmanager
#        .ci/start-am.sh --again STATE_DIR    the same one again, same port and data (after
#                                             .ci/stop-am.sh): its silences are kept
# Environment: AM_PORT (default: the state dir's from an earlier start, else a free port),
# AM_START_TIMEOUT (seconds to wait for readiness, default 30).
# Writes in STATE_DIR: port, alertmanager.yml, am.pid, am.log, data/. Stop it with
# .ci/stop-am.sh STATE_DIR. Prints nothing on stdout.
# The package: `apt-get install --no-install-recommends prometheus-alertmanager`
# (.ci/setup.sh --with-prometheus).
set -euo pipefail
log() { printf '\033[1m[start-am]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

again=0
if [ "${1:-}" = --again ]; then again=1; shift; fi
[ $# = 1 ] || die "usage: $0 [--again] STATE_DIR"
mkdir -p "$1"
ST=$(cd "$1" && pwd)
command -v prometheus-alertmanager >/dev/null \
  || die "prometheus-alertmanager is not installed: run .ci/setup.sh --with-prometheus"
timeout=${AM_START_TIMEOUT:-30}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ $again = 0 ]; then
  port=${AM_PORT:-$(cat "$ST/port" 2>/dev/null || free_port)}
  echo "$port" > "$ST/port"
  printf 'route:\n  receiver: nowhere\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: nowhere\n' \
    > "$ST/alertmanager.yml"
else
  [ -f "$ST/port" ] || die "no earlier start in $ST"
  port=$(cat "$ST/port")
fi

# --cluster.listen-address= turns gossip off (it would take port 9094 for every instance).
setsid prometheus-alertmanager --config.file="$ST/alertmanager.yml" --storage.path="$ST/data" \
  --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
  </dev/null >>"$ST/am.log" 2>&1 &
echo $! > "$ST/am.pid"

for _ in $(seq $((timeout * 5))); do
  if curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null; then exit 0; fi
  kill -0 "$(cat "$ST/am.pid")" 2>/dev/null || { tail -20 "$ST/am.log" >&2; die "alertmanager exited"; }
  sleep 0.2
done
tail -20 "$ST/am.log" >&2
die "alertmanager did not become ready within ${timeout}s"
