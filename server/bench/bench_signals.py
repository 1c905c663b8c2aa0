#!/usr/bin/env python3
"""Golden signals under open pages: CPU of Backlot and queries asked of Prometheus per minute.

Starts Debian's Prometheus (.ci/start-prom.sh) scraping a release Backlot (no config file, the
demo, BACKLOT_PROMETHEUS_URL) and holds PAGES entity pages open the way a browser does: each page
is fetched once, its signals stream (/observability/…/stream) is held open, and on every `update`
event the page is fetched again (what the LiveRegion island does). Two runs: every page on the
same entity (component:default/backlot), and each page on a different demo component. Over
MINUTES, it reports Backlot's CPU (utime + stime from /proc), the query_range and alerts requests
Prometheus served (its own prometheus_http_requests_total), and the page fetches.

Usage: python3 server/bench/bench_signals.py [--pages 50] [--minutes 2]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "target", "release", "backlot")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prom_requests(prom):
    text = get(f"{prom}/metrics").decode()
    out = {"query_range": 0.0, "alerts": 0.0}
    for line in text.splitlines():
        m = re.match(r'prometheus_http_requests_total\{[^}]*handler="/api/v1/(query_range|alerts)"[^}]*\} (\S+)', line)
        if m:
            out[m.group(1)] += float(m.group(2))
    return out


def hold_page(origin, path, stop, fetches):
    """One open page: fetched, its stream followed, fetched again on each update (until the
    server it asks is stopped)."""
    try:
        get(origin + path)
        fetches.append(1)
        ns, kind, name = path.split("/")[2:5]
        stream = urllib.request.urlopen(f"{origin}/observability/{ns}/{kind}/{name}/stream", timeout=600)
        while not stop.is_set():
            line = stream.readline()
            if not line:
                break
            if line.startswith(b"event: update"):
                get(origin + path)
                fetches.append(1)
    except OSError:
        pass


def run(origin, prom, pid, paths, minutes):
    stop = threading.Event()
    fetches = []
    threads = [threading.Thread(target=hold_page, args=(origin, p, stop, fetches), daemon=True) for p in paths]
    for t in threads:
        t.start()
    time.sleep(5)  # every page open and its first answers cached
    cpu0, q0, f0, t0 = cpu_seconds(pid), prom_requests(prom), len(fetches), time.time()
    time.sleep(minutes * 60)
    cpu1, q1, f1, t1 = cpu_seconds(pid), prom_requests(prom), len(fetches), time.time()
    stop.set()
    per_min = 60 / (t1 - t0)
    return {
        "cpu_percent": 100 * (cpu1 - cpu0) / (t1 - t0),
        "query_range_per_min": (q1["query_range"] - q0["query_range"]) * per_min,
        "alerts_per_min": (q1["alerts"] - q0["alerts"]) * per_min,
        "page_fetches_per_min": (f1 - f0) * per_min,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=2)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="backlot-bench-signals-")
    state = os.path.join(tmp, "prom")
    port = free_port()
    subprocess.run(["bash", os.path.join(ROOT, ".ci", "start-prom.sh"), state, f"backlot=127.0.0.1:{port}"], check=True)
    prom = "http://127.0.0.1:" + open(os.path.join(state, "port")).read().strip()
    work = os.path.join(tmp, "cwd")
    os.makedirs(work)
    env = dict(os.environ, BACKLOT_ADDR=f"127.0.0.1:{port}", BACKLOT_PROMETHEUS_URL=prom, BACKLOT_LOG="warn",
               LEPTOS_SITE_ROOT=os.path.join(ROOT, "target", "site"))
    origin = f"http://127.0.0.1:{port}"

    def start():
        server = subprocess.Popen([BINARY, "serve"], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if get(origin + "/readyz", timeout=2):
                    return server
            except Exception:
                time.sleep(0.2)
        raise SystemExit("backlot did not become ready")

    server = start()
    try:
        answer = json.loads(get(origin + "/api/catalog/entities/by-query?filter=kind=component&limit=%d&fields=metadata.name" % args.pages))
        names = [e["metadata"]["name"] for e in answer["items"]]
        same = ["/catalog/default/component/backlot"] * args.pages
        distinct = [f"/catalog/default/component/{n}" for n in names][: args.pages]
        time.sleep(20)  # a few scrapes of Backlot
        for i, (label, paths) in enumerate([("same entity", same), (f"{len(distinct)} different entities", distinct)]):
            if i:  # a fresh process per run: the last run's pages are closed with it
                server.terminate()
                server.wait()
                server = start()
            r = run(origin, prom, server.pid, paths, args.minutes)
            print(f"{args.pages} open pages, {label}: Backlot CPU {r['cpu_percent']:.2f}% of a core, "
                  f"Prometheus query_range {r['query_range_per_min']:.0f}/min, alerts {r['alerts_per_min']:.0f}/min, "
                  f"page fetches {r['page_fetches_per_min']:.0f}/min", flush=True)
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["bash", os.path.join(ROOT, ".ci", "stop-prom.sh"), state])


if __name__ == "__main__":
    main()
