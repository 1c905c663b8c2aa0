#!/usr/bin/env python3
"""Full scaffolder task benchmark: from `POST /api/scaffolder/v2/tasks` to the new entity in the
catalog, on a running Backlot with the demo organisation.

Each run creates a service with the demo's `rust-service` template (fetch:template of its
skeleton, publish:git to the Git host Backlot manages itself, catalog:register), follows the task's
event stream to its completion, then asks `GET /api/catalog/entities/by-name/component/default/
<name>` until it answers 200. Reports per run the wall time to "completed" and to "visible", and
the server process's CPU time (from /proc/<pid>/stat, so only the server's own work counts; the
git processes it starts are its children and counted when they end).

usage: task_bench.py --url http://127.0.0.1:3000 --pid PID [--runs 20] [--prefix bench]
Backlot must be release-built and started as README.md starts it.
"""
import argparse
import json
import os
import statistics
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime: the server and the children it waited for (git).
    return sum(int(p) for p in parts[11:15]) / TICK


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def follow(url):
    """Reads the event stream to its end; the last event."""
    last = None
    with urllib.request.urlopen(url, timeout=60) as r:
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("data:"):
                last = json.loads(line[5:])
    return last


def visible(url):
    while True:
        try:
            with urllib.request.urlopen(url) as r:
                if r.status == 200:
                    return
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise
        time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:3000")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--prefix", default=f"bench{int(time.time()) % 100000}")
    a = ap.parse_args()
    done, seen, cpu = [], [], []
    for i in range(a.runs):
        name = f"{a.prefix}-svc-{i}"
        values = {"name": name, "description": "A benchmark service", "owner": "group:default/team-platform",
                  "system": "system:default/storefront", "repoUrl": f"backlot?owner=bench&repo={name}",
                  "port": 8080, "environments": ["staging", "production"], "ingress": True,
                  "host": f"{name}.example.com"}
        c0, t0 = cpu_seconds(a.pid), time.perf_counter()
        task = post(f"{a.url}/api/scaffolder/v2/tasks",
                    {"templateRef": "template:default/rust-service", "values": values})
        last = follow(f"{a.url}/api/scaffolder/v2/tasks/{task['id']}/eventstream")
        t1 = time.perf_counter()
        if not last or last["type"] != "completion" or "error" in last["body"]:
            raise SystemExit(f"task {task['id']} did not complete: {last}")
        visible(f"{a.url}/api/catalog/entities/by-name/component/default/{name}")
        t2 = time.perf_counter()
        c1 = cpu_seconds(a.pid)
        done.append((t1 - t0) * 1000)
        seen.append((t2 - t0) * 1000)
        cpu.append((c1 - c0) * 1000)
    def show(label, xs):
        xs = sorted(xs)
        p95 = xs[min(len(xs) - 1, int(len(xs) * 0.95))]
        print(f"{label:<28} median {statistics.median(xs):8.1f} ms   p95 {p95:8.1f} ms   max {xs[-1]:8.1f} ms")
    print(f"{a.runs} tasks of template:default/rust-service ({a.url})")
    show("POST -> completed (wall)", done)
    show("POST -> entity visible", seen)
    show("server CPU per task", cpu)


if __name__ == "__main__":
    main()
