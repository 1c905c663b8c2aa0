#!/usr/bin/env python3
"""Backlot Git ingestion benchmark (figures in BENCHMARKS.md).

Splits the N-entity catalog from gen_catalog.py (the team's shared generator) across R bare
repositories (one multi-document catalog-info.yaml each), serves them with a real `git daemon`
on loopback, starts a release `backlot` with the R repositories as Git locations and a fresh
SQLite database, and measures:
  - the first full import: wall time until /readyz, and CPU (server plus the git processes it
    runs: utime + stime + cutime + cstime);
  - refresh cycles in which nothing changed: CPU per cycle (every repository asked whether its
    branch moved), and the share of a core that makes at the default interval (use --rest 360
    with --rest-interval 300 to measure one whole cycle at the default);
  - push to visible through the webhook: a commit is pushed to one repository, a signed GitHub
    push event is posted, and the time until the change is served by the API is taken (K pushes);
  - peak RSS.

Usage: python3 server/bench/bench_git.py [--repos 1000] [--entities 10000] [--rest 120]
       [--pushes 20] [--binary target/release/backlot]
Needs: a release build (`cargo build --release -p server --bin backlot`) and git.
"""
import argparse
import hashlib
import hmac
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret"
DEFAULT_INTERVAL = 300  # git.refresh_interval_secs default


def cpu_with_children(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fast_import(git_dir, files, parent=None, when=1_700_000_000):
    """Writes one commit on refs/heads/main with `files` ({path: text})."""
    out = []
    for i, (path, text) in enumerate(files.items()):
        data = text.encode()
        out.append(b"blob\nmark :%d\ndata %d\n%s\n" % (i + 1, len(data), data))
    msg = b"bench"
    out.append(b"commit refs/heads/main\n")
    out.append(b"committer Bench <bench@example.com> %d +0000\n" % when)
    out.append(b"data %d\n%s\n" % (len(msg), msg))
    if parent:
        out.append(b"from refs/heads/main^0\n")
    for i, path in enumerate(files):
        out.append(b"M 100644 :%d %s\n" % (i + 1, path.encode()))
    subprocess.run(["git", "--git-dir", git_dir, "fast-import", "--quiet", "--force"],
                   input=b"".join(out), check=True)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read()


def post_webhook(base, clone_url):
    body = json.dumps({
        "ref": "refs/heads/main", "after": "1" * 40, "before": "0" * 40, "deleted": False,
        "repository": {"clone_url": clone_url, "full_name": "bench/x"},
    }).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"{base}/api/webhooks/git", data=body, method="POST", headers={
        "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": sig})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=1000)
    ap.add_argument("--entities", type=int, default=10000)
    ap.add_argument("--rest", type=int, default=120, help="seconds measured at rest")
    ap.add_argument("--rest-interval", type=int, default=60,
                    help="git.refresh_interval_secs while measuring at rest")
    ap.add_argument("--pushes", type=int, default=20)
    ap.add_argument("--binary", default="target/release/backlot")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="backlot-bench-git-")
    daemon = server = None
    try:
        n, r = args.entities, args.repos
        subprocess.run([sys.executable, os.path.join(HERE, "gen_catalog.py"), str(n),
                        "--out", os.path.join(work, "cat")], check=True, capture_output=True)
        many = os.path.join(work, "cat", f"many-{n}")
        names = sorted(f for f in os.listdir(many) if f != "location.yaml")
        root = os.path.join(work, "repos")
        os.makedirs(root)
        t0 = time.time()
        texts = {}
        for i in range(r):
            docs = []
            for f in names[i::r]:
                with open(os.path.join(many, f)) as fh:
                    docs.append(fh.read().strip())
            texts[i] = docs
            git_dir = os.path.join(root, f"repo-{i:04}.git")
            subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", git_dir], check=True)
            fast_import(git_dir, {"catalog-info.yaml": "\n---\n".join(docs) + "\n"})
        print(f"# {r} repositories with {n} entities created in {time.time() - t0:.1f} s",
              file=sys.stderr)
        port = free_port()
        exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                                   check=True).stdout.strip()
        daemon = subprocess.Popen([os.path.join(exec_path, "git-daemon"), "--listen=127.0.0.1",
                                   f"--port={port}", f"--base-path={root}", "--export-all",
                                   "--reuseaddr", "--max-connections=256", root],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        urls = [f"git://127.0.0.1:{port}/repo-{i:04}.git" for i in range(r)]
        config = os.path.join(work, "backlot.yaml")
        with open(config, "w") as f:
            f.write(f"data_dir: {os.path.join(work, 'data')}\nlog: warn\n")
            f.write(f"git:\n  webhook_secret: {SECRET}\n  refresh_interval_secs: {args.rest_interval}\n")
            f.write("catalog:\n  demo: never\n  locations:\n")
            for u in urls:
                f.write(f"    - type: git\n      target: {u}\n")
        http_port = free_port()
        base = f"http://127.0.0.1:{http_port}"
        env = dict(os.environ, BACKLOT_ADDR=f"127.0.0.1:{http_port}")
        started = time.time()
        server = subprocess.Popen([binary, "--config", config, "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                if get(f"{base}/readyz")[0] == 200:
                    break
            except Exception:
                pass
            if server.poll() is not None:
                raise SystemExit("backlot exited")
            time.sleep(0.05)
        import_wall = time.time() - started
        import_cpu = cpu_with_children(server.pid)
        _, body = get(f"{base}/api/catalog/entities/by-query?limit=1")
        total = json.loads(body)["totalItems"]
        _, body = get(f"{base}/api/catalog/locations")
        stale = sum(1 for l in json.loads(body) if l["data"]["status"]["error"])
        print(f"# first import: {total} entities, {stale} stale locations, {import_wall:.1f} s, "
              f"{import_cpu:.1f} s CPU", file=sys.stderr)

        # At rest: every location visited on its (jittered) interval; nothing changes.
        time.sleep(5)
        c0, t0 = cpu_with_children(server.pid), time.time()
        time.sleep(args.rest)
        rest_cpu, rest_wall = cpu_with_children(server.pid) - c0, time.time() - t0
        # Visits are jittered ±10% around the interval: a window of k intervals (+20%) holds
        # k whole cycles.
        cycles = max(1, round(rest_wall / args.rest_interval))
        cycle_cpu = rest_cpu / cycles

        # Push to visible through the webhook.
        latencies = []
        for k in range(args.pushes):
            i = (k * 37) % r
            git_dir = os.path.join(root, f"repo-{i:04}.git")
            docs = list(texts[i])
            marker = f"pushed {k} at {time.time()}"
            comps = [j for j, d in enumerate(docs) if "kind: Component" in d]
            if not comps:
                continue
            comp = comps[0]
            name = next(l.split(":", 1)[1].strip() for l in docs[comp].splitlines()
                        if l.strip().startswith("name:"))
            lines = [l for l in docs[comp].splitlines() if not l.startswith("  description:")]
            at = lines.index("metadata:") + 1
            docs[comp] = "\n".join(lines[:at] + [f"  description: {marker}"] + lines[at:])
            texts[i] = docs
            fast_import(git_dir, {"catalog-info.yaml": "\n---\n".join(docs) + "\n"}, parent=True,
                        when=1_700_000_000 + k + 1)
            t = time.time()
            post_webhook(base, urls[i])
            while True:
                _, body = get(f"{base}/api/catalog/entities/by-name/component/default/{name}")
                if json.loads(body)["metadata"].get("description") == marker:
                    break
                if time.time() - t > 30:
                    raise SystemExit(f"push {k} to repo {i} not visible after 30 s")
                time.sleep(0.01)
            latencies.append((time.time() - t) * 1000)
        result = {
            "repos": r, "entities": total,
            "first_import_s": round(import_wall, 2),
            "first_import_cpu_s": round(import_cpu, 2),
            "rest_interval_s": args.rest_interval,
            "rest_cpu_pct_at_that_interval": round(100 * rest_cpu / rest_wall, 2),
            "cpu_per_unchanged_cycle_s": round(cycle_cpu, 2),
            "rest_cpu_pct_at_default_300s": round(100 * cycle_cpu / DEFAULT_INTERVAL, 2),
            "push_to_visible_ms_p50": round(statistics.median(latencies), 1),
            "push_to_visible_ms_max": round(max(latencies), 1),
            "peak_rss_mib": round(peak_rss_mib(server.pid), 1),
        }
        print(json.dumps(result, indent=2))
    finally:
        for p in (server, daemon):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
