#!/usr/bin/env python3
"""Backlot Kubernetes benchmark (figures in BENCHMARKS.md).

Starts C real kube-apiservers (etcd + kube-apiserver v1.20 via .ci/start-kube.sh), creates
P pods in D Deployment -> ReplicaSet -> Pod chains across N namespaces split over the clusters
(status written through the status subresource, as kubelets and controllers would), registers
one catalog Component per deployment (backstage.io/kubernetes-id), starts a release `backlot`
watching every cluster on a fresh SQLite database, and measures:
  - time to first full sync (until every cluster is synced and all pods are held);
  - memory: RSS after the sync minus RSS before any cluster data (idle process with the catalog),
    per 1,000 pods;
  - CPU at rest over --rest seconds (no changes in the clusters);
  - latency from a pod status change (PATCH .../pods/NAME/status) to the updated view arriving on
    an open server-sent-events stream of its entity (K changes).

Usage: python3 server/bench/bench_kube.py [--pods 10000] [--deployments 1000] [--namespaces 10]
       [--clusters 2] [--rest 60] [--changes 20] [--binary target/release/backlot]
Needs: a release build and .ci/kube.sh (etcd, the API server).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:13]) / TICK


def rss_mib(pid, key="VmRSS:"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, state):
        self.state = state
        self.port = int(open(os.path.join(state, "api_port")).read().strip())
        self.ctx = ssl.create_default_context(cafile=os.path.join(state, "pki", "ca.crt"))
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
            self.local.conn = c
        return c

    def call(self, method, path, body=None, content_type="application/json"):
        for attempt in range(5):
            try:
                c = self.conn()
                c.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers={"Authorization": "Bearer admin-token", "Content-Type": content_type})
                r = c.getresponse()
                data = r.read()
                if r.status >= 300 and r.status != 409:
                    raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
                return json.loads(data) if data else None
            except (ConnectionError, http.client.HTTPException, OSError):
                self.local.conn = None
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"{method} {path}: no answer")

    def status(self, path, status):
        return self.call("PATCH", path + "/status", {"status": status}, "application/merge-patch+json")


def running(image):
    return {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "image": image,
                                   "imageID": "", "state": {"running": {"startedAt": "2026-11-29T00:00:00Z"}}}]}


def seed_deployment(cl, ns, name, pods):
    image = f"registry.example.com/{name}:1.0.{len(name) % 7}"
    d = cl.call("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", {
        "metadata": {"name": name, "labels": {"backstage.io/kubernetes-id": name}},
        "spec": {"replicas": pods, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name, "backstage.io/kubernetes-id": name}},
                              "spec": {"containers": [{"name": "app", "image": image}]}}}})
    rs_name = f"{name}-5d9c7b"
    rs = cl.call("POST", f"/apis/apps/v1/namespaces/{ns}/replicasets", {
        "metadata": {"name": rs_name, "labels": {"app": name, "pod-template-hash": "5d9c7b"},
                     "annotations": {"deployment.kubernetes.io/revision": "1"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                          "uid": d["metadata"]["uid"], "controller": True}]},
        "spec": {"replicas": pods, "selector": {"matchLabels": {"app": name, "pod-template-hash": "5d9c7b"}},
                 "template": {"metadata": {"labels": {"app": name, "pod-template-hash": "5d9c7b"}},
                              "spec": {"containers": [{"name": "app", "image": image}]}}}})
    for i in range(pods):
        p = f"{rs_name}-{i:05d}"
        cl.call("POST", f"/api/v1/namespaces/{ns}/pods", {
            "metadata": {"name": p, "labels": {"app": name, "pod-template-hash": "5d9c7b"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                                              "uid": rs["metadata"]["uid"], "controller": True}]},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}]}})
        cl.status(f"/api/v1/namespaces/{ns}/pods/{p}", running(image))
    cl.status(f"/apis/apps/v1/namespaces/{ns}/replicasets/{rs_name}", {"replicas": pods, "readyReplicas": pods, "availableReplicas": pods})
    cl.status(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}", {
        "observedGeneration": 1, "replicas": pods, "updatedReplicas": pods, "readyReplicas": pods, "availableReplicas": pods})


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def main():
    # Stop the API servers on SIGTERM too (the finally below runs on exceptions and ^C).
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--deployments", type=int, default=1000)
    ap.add_argument("--namespaces", type=int, default=10)
    ap.add_argument("--clusters", type=int, default=2)
    ap.add_argument("--rest", type=int, default=60)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/backlot"))
    args = ap.parse_args()
    per = args.pods // args.deployments
    work = tempfile.mkdtemp(prefix="backlot-bench-kube-")
    states = []
    try:
        for c in range(args.clusters):
            st = os.path.join(work, f"k{c}")
            os.makedirs(st)
            subprocess.run(["bash", os.path.join(ROOT, ".ci/start-kube.sh"), st], check=True,
                           stdout=subprocess.DEVNULL)
            states.append(st)
        clusters = [Cluster(s) for s in states]
        t = time.time()
        jobs = []
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for c, cl in enumerate(clusters):
                for n in range(args.namespaces):
                    cl.call("POST", "/api/v1/namespaces", {"metadata": {"name": f"ns-{n}"}})
            for d in range(args.deployments):
                cl = clusters[d % len(clusters)]
                ns = f"ns-{(d // len(clusters)) % args.namespaces}"
                jobs.append(pool.submit(seed_deployment, cl, ns, f"svc-{d:04d}", per))
            for j in jobs:
                j.result()
        print(f"seeded {args.pods} pods in {args.deployments} deployments over {args.clusters} clusters in {time.time() - t:.0f} s", file=sys.stderr)

        # The catalog: one component per deployment.
        docs = [f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{d:04d}\n  annotations:\n    backstage.io/kubernetes-id: svc-{d:04d}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n" for d in range(args.deployments)]
        docs.append("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n")
        cat = os.path.join(work, "catalog.yaml")
        open(cat, "w").write("---\n".join(docs))
        clusters_yaml = "".join(f"    - kubeconfig: {s}/kubeconfig\n      name: c{i}\n      environment: env{i}\n" for i, s in enumerate(states))
        config = os.path.join(work, "backlot.yaml")
        port = free_port()
        open(config, "w").write(f"addr: 127.0.0.1:{port}\ndata_dir: {work}/data\nlog: info\ncatalog:\n  demo: never\n  locations:\n    - target: {cat}\nkubernetes:\n  clusters:\n{clusters_yaml}")
        base = f"http://127.0.0.1:{port}"
        t0 = time.time()
        log = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen([args.binary, "--config", config, "serve"], cwd=work, stderr=log, stdout=log)
        try:
            synced_at = None
            while True:
                try:
                    o = get(base + "/api/kubernetes/clusters")
                    if all(c["state"]["synced"] for c in o["clusters"]) and sum(c["pods"] for c in o["clusters"]) >= args.pods:
                        synced_at = time.time() - t0
                        break
                except (OSError, ValueError):
                    pass
                time.sleep(0.05)
            # Idle baseline: the same process' memory before the first view was built would
            # miss the watchers; compare with a process that has no clusters instead.
            time.sleep(2)
            rss = rss_mib(server.pid)
            hwm = rss_mib(server.pid, "VmHWM:")
            c0 = cpu(server.pid)
            time.sleep(args.rest)
            rest_cpu = (cpu(server.pid) - c0) / args.rest * 100

            # Status change -> SSE update on the entity's stream.
            lat = []
            for k in range(args.changes):
                d = (k * 37) % args.deployments
                name = f"svc-{d:04d}"
                cl = clusters[d % len(clusters)]
                ns = f"ns-{(d // len(clusters)) % args.namespaces}"
                pod = f"{name}-5d9c7b-00000"
                s = socket.create_connection(("127.0.0.1", port))
                # HTTP/1.0: no chunked encoding, so event lines arrive whole.
                s.sendall(f"GET /api/kubernetes/entities/default/component/{name}/stream HTTP/1.0\r\nHost: x\r\n\r\n".encode())
                f = s.makefile("rb")
                def next_event():
                    while True:
                        line = f.readline()
                        if not line:
                            raise RuntimeError("stream closed")
                        if line.startswith(b"data: "):
                            return json.loads(line[6:])
                next_event()
                reason = "CrashLoopBackOff" if k % 2 == 0 else "ImagePullBackOff"
                t = time.time()
                cl.status(f"/api/v1/namespaces/{ns}/pods/{pod}", {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                          "containerStatuses": [{"name": "app", "ready": False, "restartCount": 3, "image": "x", "imageID": "",
                                                 "state": {"waiting": {"reason": reason}}}]})
                while True:
                    v = next_event()
                    if any(r["code"] == reason for r in v["reasons"]):
                        lat.append((time.time() - t) * 1000)
                        break
                s.close()
                cl.status(f"/api/v1/namespaces/{ns}/pods/{pod}", running("x"))
            lat.sort()
            # Memory without any cluster data, for the per-1k-pods figure.
            result = {
                "pods": args.pods, "deployments": args.deployments, "clusters": args.clusters,
                "first_sync_s": round(synced_at, 2),
                "rss_mib": round(rss, 1), "peak_rss_mib": round(hwm, 1),
                "cpu_at_rest_pct": round(rest_cpu, 3),
                "change_to_stream_ms_p50": round(statistics.median(lat), 1),
                "change_to_stream_ms_max": round(lat[-1], 1),
            }
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print("the server did not stop within 20 s of SIGTERM", file=sys.stderr)
                server.kill()
                server.wait()
        # Baseline: the same catalog with no clusters.
        open(config, "w").write(f"addr: 127.0.0.1:{port}\ndata_dir: {work}/data2\nlog: warn\ncatalog:\n  demo: never\n  locations:\n    - target: {cat}\nkubernetes:\n  auto_detect: false\n")
        server = subprocess.Popen([args.binary, "--config", config, "serve"], cwd=work)
        try:
            while True:
                try:
                    urllib.request.urlopen(base + "/readyz", timeout=5)
                    break
                except OSError:
                    time.sleep(0.1)
            time.sleep(2)
            base_rss = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait()
        result["baseline_rss_mib"] = round(base_rss, 1)
        result["mib_per_1k_pods"] = round((result["rss_mib"] - base_rss) / (args.pods / 1000), 2)
        print(json.dumps(result, indent=2))
    finally:
        for s in states:
            subprocess.run(["bash", os.path.join(ROOT, ".ci/stop-kube.sh"), s])


if __name__ == "__main__":
    main()
