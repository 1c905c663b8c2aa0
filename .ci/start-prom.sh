#!/usr/bin/env bash
# Starts Debian's Prometheus on 127.0.0.1 for tests, scraping the given targets every second and
# evaluating the rule file (if any) every second; leaves it running in the background and returns
# once /-/ready answers.
# Usage: .ci/start-prom.sh STATE_DIR [JOB=HOST:PORT[/PATH]]...   a new server (targets scraped
#                                                                 at PATH, default /metrics)
#        .ci/start-prom.sh --again STATE_DIR                     the same server again, same port
#                                                                 and data (after .ci/stop-prom.sh)
# Environment: PROM_PORT (default: the state dir's from an earlier start, else a free port),
# PROM_RULES (a rule file to evaluate, copied to STATE_DIR/rules.yml), PROM_ALERTMANAGER
# (HOST:PORT of an Alertmanager to send the rules' alerts to, as .ci/start-am.sh starts one),
# PROM_START_TIMEOUT (seconds to wait for readiness, default 30).
# Writes in STATE_DIR: port, prometheus.yml, rules.yml, prom.pid, prom.log, data/. Prometheus runs
# in its own session with its output on a file, so it outlives this script and whoever runs it
# does not wait for it. Stop it with .ci/stop-prom.sh STATE_DIR. Prints nothing on stdout.
# The package: `apt-get install --no-install-recommends prometheus` (.ci/setup.sh --with-prometheus).
set -euo pipefail
log() { printf '\033[1m[start-prom]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

again=0
if [ "${1:-}" = --again ]; then again=1; shift; fi
[ $# -ge 1 ] || die "usage: $0 [--again] STATE_DIR [JOB=HOST:PORT[/PATH]]..."
mkdir -p "$1"
ST=$(cd "$1" && pwd)
shift
command -v prometheus >/dev/null || die "prometheus is not installed: run .ci/setup.sh --with-prometheus"
timeout=${PROM_START_TIMEOUT:-30}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ $again = 0 ]; then
  port=${PROM_PORT:-$(cat "$ST/port" 2>/dev/null || free_port)}
  echo "$port" > "$ST/port"
  if [ -n "${PROM_RULES:-}" ]; then cp "$PROM_RULES" "$ST/rules.yml"; else : > "$ST/rules.yml"; fi
  {
    printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
    if [ -s "$ST/rules.yml" ]; then printf 'rule_files: ["%s"]\n' "$ST/rules.yml"; fi
    if [ -n "${PROM_ALERTMANAGER:-}" ]; then
      printf 'alerting:\n  alertmanagers: [{static_configs: [{targets: ["%s"]}]}]\n' "$PROM_ALERTMANAGER"
    fi
    printf 'scrape_configs:\n'
    for target in "$@"; do
      job=${target%%=*} rest=${target#*=}
      address=${rest%%/*} path=/metrics
      [ "$rest" != "$address" ] && path=/${rest#*/}
      printf -- '- job_name: "%s"\n  metrics_path: "%s"\n  static_configs: [{targets: ["%s"]}]\n' "$job" "$path" "$address"
    done
  } > "$ST/prometheus.yml"
else
  [ -f "$ST/port" ] || die "no earlier start in $ST"
  port=$(cat "$ST/port")
fi

# Alerts are sent again every second (not every minute): the first send, before the
# Alertmanager is discovered, is dropped, and a stopped Prometheus's alerts resolve within 4 s.
setsid prometheus --config.file="$ST/prometheus.yml" --storage.tsdb.path="$ST/data" \
  --web.listen-address="127.0.0.1:$port" --rules.alert.resend-delay=1s \
  </dev/null >>"$ST/prom.log" 2>&1 &
echo $! > "$ST/prom.pid"

for _ in $(seq $((timeout * 5))); do
  if curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null; then exit 0; fi
  kill -0 "$(cat "$ST/prom.pid")" 2>/dev/null || { tail -20 "$ST/prom.log" >&2; die "prometheus exited"; }
  sleep 0.2
done
tail -20 "$ST/prom.log" >&2
die "prometheus did not become ready within ${timeout}s"
