#!/usr/bin/env bash
# Starts a real etcd + kube-apiserver v1.20.2 (no kubelet, no scheduler, no controllers) on
# 127.0.0.1 for tests, leaves them running in the background and returns once /readyz answers.
# Usage: .ci/start-kube.sh STATE_DIR                    etcd + API server
#        .ci/start-kube.sh --apiserver-only STATE_DIR   the API server again on the same port and
#                                                       data (after .ci/stop-kube.sh --apiserver-only)
# Environment: APISERVER (default: where .ci/kube.sh caches it; run that first), ETCD_PORT and
# API_PORT (default: the state dir's from an earlier start, else free ports), KUBE_START_TIMEOUT
# (seconds to wait for readiness, default 60).
# Writes in STATE_DIR: kubeconfig (context "test": token admin-token, group system:masters; context
# "viewer": token viewer-token, in no group, so only RBAC grants it anything; the CA is pinned),
# api_port, etcd_port, etcd.pid, apiserver.pid, etcd.log, apiserver.log, tokens.csv, pki/, etcd/.
# Both servers run in their own session with stdin/stdout/stderr on files, so they outlive this
# script and whoever runs it (e.g. std::process::Command::output) does not wait for them.
# Stop them with .ci/stop-kube.sh STATE_DIR. Logs go to stderr; nothing is printed on stdout.
set -euo pipefail
log() { printf '\033[1m[start-kube]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

only_apiserver=0
if [ "${1:-}" = --apiserver-only ]; then only_apiserver=1; shift; fi
[ $# = 1 ] || die "usage: $0 [--apiserver-only] STATE_DIR"
mkdir -p "$1"
ST=$(cd "$1" && pwd)
APISERVER=${APISERVER:-${BACKLOT_CACHE:-$HOME/.cache/backlot}/kube-apiserver-v1.20.2}
[ -x "$APISERVER" ] || die "no kube-apiserver at $APISERVER: run .ci/kube.sh first (or set APISERVER)"
command -v etcd >/dev/null || die "etcd is not installed: run .ci/kube.sh first"
timeout=${KUBE_START_TIMEOUT:-60}

# Runs a command, showing its output only when it fails.
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }; }
# N distinct free ports on 127.0.0.1 (all held open at once, so they differ from each other).
free_ports() {
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
# Whether PID runs (a zombie, exited but not yet reaped by whoever inherited it, does not count).
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
# Whether process PID listens on TCP port PORT (by /proc, so another server that took the port in
# the meantime is never mistaken for ours).
owns_port() {
  local hex inode
  hex=$(printf '%04X' "$2")
  while read -r inode; do
    [ -n "$(find "/proc/$1/fd" -maxdepth 1 -lname "socket:\\[$inode\\]" -print -quit 2>/dev/null)" ] && return 0
  done < <(awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6)
  return 1
}
pid_of() { cat "$ST/$1.pid" 2>/dev/null || true; }
# Waits until PID listens on PORT and URL answers (curl ARGS...); sets $why and fails at once
# if PID exits.
wait_ready() {
  local pid=$1 port=$2 limit=$3; shift 3
  local end=$((SECONDS + limit))
  while [ $SECONDS -lt $end ]; do
    alive "$pid" || { why="exited"; return 1; }
    if owns_port "$pid" "$port" && curl -sf -o /dev/null --max-time 2 "$@"; then return 0; fi
    sleep 0.1
  done
  why="was not ready within ${limit}s"
  return 1
}
stop_pid() { alive "$1" && kill "$1" 2>/dev/null; for _ in $(seq 50); do alive "$1" || return 0; sleep 0.1; done; kill -9 "$1" 2>/dev/null || true; }
# Whether the server logging to FILE failed because its port was taken (by something else, between
# choosing the port and binding it).
port_clash() { tail -n 20 "$1" | grep "address already in use" >/dev/null; }

cd "$ST"
t0=$(date +%s%N)

if [ ! -f tokens.csv ]; then
  mkdir -p pki
  quiet openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=backlot-test-ca \
    -keyout pki/ca.key -out pki/ca.crt
  quiet openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
    -keyout pki/apiserver.key -out pki/apiserver.csr
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >pki/ext.cnf
  quiet openssl x509 -req -in pki/apiserver.csr -CA pki/ca.crt -CAkey pki/ca.key -CAcreateserial \
    -days 3650 -extfile pki/ext.cnf -out pki/apiserver.crt
  quiet openssl genrsa -out pki/sa.key 2048
  quiet openssl rsa -in pki/sa.key -pubout -out pki/sa.pub
  # token,user,uid,"groups": the viewer is in no group, so only RBAC bindings grant it anything.
  printf '%s\n' 'admin-token,admin,admin,system:masters' 'viewer-token,viewer,viewer' >tokens.csv.part
  mv tokens.csv.part tokens.csv
fi

# ---- etcd ----
if [ $only_apiserver = 1 ]; then
  ETCD_PORT=$(cat etcd_port 2>/dev/null) || die "$ST has no etcd_port: start it without --apiserver-only first"
  alive "$(pid_of etcd)" || die "etcd of $ST is not running: start it without --apiserver-only"
else
  alive "$(pid_of etcd)" && die "etcd of $ST is already running (pid $(pid_of etcd)): stop it with .ci/stop-kube.sh $ST"
  pick_etcd=0
  if [ -z "${ETCD_PORT:-}" ]; then
    if [ -f etcd_port ]; then ETCD_PORT=$(cat etcd_port); else pick_etcd=1; fi
  fi
  for attempt in 1 2 3; do
    if [ $pick_etcd = 1 ]; then
      read -r ETCD_PORT PEER_PORT <<<"$(free_ports 2)"
    else
      # The member's peer URL is recorded in its data dir at the first start: keep it.
      PEER_PORT=$(cat etcd_peer_port 2>/dev/null || free_ports 1)
      while [ "$PEER_PORT" = "$ETCD_PORT" ]; do PEER_PORT=$(free_ports 1); done
    fi
    setsid etcd --name backlot-test --data-dir "$ST/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
      --initial-cluster "backlot-test=http://127.0.0.1:$PEER_PORT" \
      </dev/null >>etcd.log 2>&1 &
    echo $! >etcd.pid
    if wait_ready "$(pid_of etcd)" "$ETCD_PORT" 20 "http://127.0.0.1:$ETCD_PORT/health"; then break; fi
    stop_pid "$(pid_of etcd)"
    if [ $pick_etcd = 1 ] && [ $attempt -lt 3 ] && port_clash etcd.log; then
      log "etcd's port was taken meanwhile; trying other ports"
      continue
    fi
    tail -n 20 etcd.log >&2
    die "etcd $why; see $ST/etcd.log"
  done
  echo "$ETCD_PORT" >etcd_port
  echo "$PEER_PORT" >etcd_peer_port
fi

# ---- kube-apiserver ----
alive "$(pid_of apiserver)" && die "the API server of $ST is already running (pid $(pid_of apiserver)): stop it with .ci/stop-kube.sh --apiserver-only $ST"
pick_api=0
if [ -z "${API_PORT:-}" ]; then
  if [ -f api_port ]; then API_PORT=$(cat api_port); else pick_api=1; fi
fi
write_kubeconfig() {
  local ca
  ca=$(base64 -w0 pki/ca.crt)
  cat >kubeconfig.part <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: admin-token
- name: viewer
  user:
    token: viewer-token
contexts:
- name: test
  context: {cluster: test, user: admin}
- name: viewer
  context: {cluster: test, user: viewer}
current-context: test
EOF
  mv kubeconfig.part kubeconfig
}
for attempt in 1 2 3; do
  [ $pick_api = 1 ] && API_PORT=$(free_ports 1)
  setsid "$APISERVER" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" --insecure-port=0 \
    --tls-cert-file="$ST/pki/apiserver.crt" --tls-private-key-file="$ST/pki/apiserver.key" \
    --client-ca-file="$ST/pki/ca.crt" --token-auth-file="$ST/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$ST/pki/sa.pub" \
    --service-account-signing-key-file="$ST/pki/sa.key" --api-audiences=https://kubernetes.default.svc \
    --service-cluster-ip-range=10.96.0.0/24 --endpoint-reconciler-type=none \
    --disable-admission-plugins=ServiceAccount \
    </dev/null >>apiserver.log 2>&1 &
  echo $! >apiserver.pid
  write_kubeconfig
  if wait_ready "$(pid_of apiserver)" "$API_PORT" "$timeout" --cacert pki/ca.crt \
    -H 'Authorization: Bearer admin-token' "https://127.0.0.1:$API_PORT/readyz"; then
    break
  fi
  stop_pid "$(pid_of apiserver)"
  if [ $pick_api = 1 ] && [ $attempt -lt 3 ] && port_clash apiserver.log; then
    log "the API server's port was taken meanwhile; trying another"
    continue
  fi
  tail -n 20 apiserver.log >&2
  # Leave nothing running when this start failed as a whole.
  [ $only_apiserver = 1 ] || stop_pid "$(pid_of etcd)"
  die "the API server $why; see $ST/apiserver.log"
done
echo "$API_PORT" >api_port

ms=$((($(date +%s%N) - t0) / 1000000))
log "kube-apiserver ready on https://127.0.0.1:$API_PORT after $((ms / 1000)).$((ms % 1000 / 100))s: KUBECONFIG=$ST/kubeconfig"
