#!/usr/bin/env python3
"""Backlot catalog benchmark (see BENCHMARKS.md for figures and how to read them).

For each N: generates the catalog with gen_catalog.py (a verbatim copy of the team's shared
generator, so figures compare), starts a release `backlot` on it with a fresh SQLite database,
and measures:
  - wall and CPU time of the server until all N+1 entities are visible through the API;
  - by-name and by-query under load (wrk, 32 connections): p50/p99, requests/s, server CPU per
    request; the catalog page (SSR, first page of components) rendered for one client at a time;
  - peak RSS, and the server's CPU while nothing changes (includes its periodic refreshes).

How the entities arrive (--path; every path users take, so memory is measured on each):
  config    listed in catalog.locations, read at start-up;
  api       registered with POST /api/catalog/locations while the server runs (file roots allow
            the folder); the response carries every entity, as Backstage's does;
  api-git   the same files committed to one repository served by a real `git daemon`, registered
            through the API as a git:// location;
  churn     the config path, then every entity's description changed --rounds times (each round
            waits until the change is visible), to measure the steady state of a long-running
            server;
  restart   the config path, then the server stopped and started again on the database and
            files it left (what every upgrade or restart of a running portal does): ingest
            figures and memory are the second start's.
Each row reports peak RSS (VmHWM) and RSS at the end (after the measurements and the rest).

Who asks (--caller): `guest` (no sign-in configured, the default); `session`: sign-in configured
with a real OpenID provider (end2end/oidc/op.mjs, needs `npm ci` in end2end/), the load carries
the session cookie of user-0000 (member of team-0000) and the default policy lets her read
everything; `owned`: the same session under a policy that lets members read only what their
team owns (plus groups and users), so every read is filtered by ownership; by-name then asks
for team-0000's components.

The load generator sends `Accept-Encoding` as --encoding says (none, gzip, or br: "br, gzip"),
to measure what compression costs the server per request.

Usage: python3 server/bench/bench.py [N ...] [--binary target/release/backlot] [--duration 10]
       [--idle 65] [--variant many|single] [--path config|api|api-git|churn|restart ...] [--rounds 3]
       [--encoding none|gzip|br] [--caller guest|session|owned]
Needs: a release build (`cargo build --release -p server`), wrk (`apt-get install wrk`), git.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import http.cookiejar
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def status_mib(pid, field):
    """A memory figure of /proc/PID/status in MiB: VmHWM (peak RSS) or VmRSS."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def get_json(url):
    headers = dict(h.split(": ", 1) for h in extra_headers)
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return json.loads(r.read())


def post_json(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def total_items(base):
    return get_json(f"{base}/api/catalog/entities/by-query?limit=1")["totalItems"]


def git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def change_descriptions(folder, round_no):
    """Rewrites every entity's description (one line each) in every YAML file of the folder."""
    pattern = re.compile(r"^(  description: .*?)( r\d+)?$", re.M)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not name.endswith(".yaml") or name == "location.yaml":
            continue
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(pattern.sub(lambda m: f"{m.group(1)} r{round_no}", text))


def wait_for(pred, what, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"backlot exited with {proc.returncode}")
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


ACCEPT_ENCODING = {"none": None, "gzip": "gzip", "br": "br, gzip"}
accept_encoding = None  # set from --encoding
extra_headers = []  # set when a session is signed in (--caller)


def wrk(url, duration, script=None, conns=32):
    threads = min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if accept_encoding:
        cmd += ["-H", f"Accept-Encoding: {accept_encoding}"]
    for h in extra_headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses under load\n{out}")
    return {"p50_ms": ms("50"), "p99_ms": ms("99"), "rps": rps, "requests": reqs}


def loaded(pid, url, duration, script=None, conns=32):
    before = cpu_seconds(pid)
    r = wrk(url, duration, script, conns)
    r["cpu_ms_per_req"] = (cpu_seconds(pid) - before) * 1000 / max(r["requests"], 1)
    return r


OWNED_POLICY = """roles:
  member:
    rules:
      - name: own-team
        allow: [catalog.entity.read, catalog.location.read]
        when: { is_owner: true }
      - name: people
        allow: [catalog.entity.read]
        when: { kind: [Group, User] }
bindings:
  - role: member
    signed_in: true
"""


# --scorecards: 3 scorecards of 10 checks over every component (issue 15's benchmark shape), so
# the memory and CPU figures include evaluating them as the catalog changes.
SCORECARD_RULES = [
    "ownerExists", "description", "lifecycle", "system", "tags", "links",
    "{annotation: pagerduty.com/service-id}",
    "{annotation: {key: github.com/project-slug, matches: '^[a-z0-9-]+/[a-z0-9-]+$'}}",
    "{relation: providesApi}",
    "{any: [{annotation: backstage.io/techdocs-ref}, {not: {lifecycle: deprecated}}]}",
]
SCORECARDS = "scorecards:\n" + "".join(
    f"  - name: s{c}\n    filter: {{kind: component}}\n    levels: [l0, l1, l2]\n    checks:\n"
    + "".join(f"      - {{id: c{i}, title: C{i}, level: l{i % 3}, rule: {r}}}\n" for i, r in enumerate(SCORECARD_RULES))
    for c in range(3)
)


def start_provider(redirect_uri):
    """The real OpenID provider of the sign-in tests on a free port; returns (process, issuer)."""
    end2end = os.path.join(HERE, "..", "..", "end2end")
    if not os.path.isdir(os.path.join(end2end, "node_modules", "oidc-provider")):
        raise SystemExit("--caller session|owned needs oidc-provider: run `npm ci` in end2end/")
    port = free_port()
    op = subprocess.Popen(["node", "oidc/op.mjs"], cwd=end2end, stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, OP_PORT=str(port), OP_REDIRECT_URI=redirect_uri,
                                   OP_CLIENT_SECRET="bench-secret"))
    line = op.stdout.readline()
    if not line.startswith("ready "):
        raise SystemExit(f"the OpenID provider did not start: {line!r}")
    return op, line.split(" ", 1)[1].strip()


def sign_in(base, login):
    """Signs `login` in through the provider's login and consent pages; the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/api/auth/oidc/start", timeout=30)
    page = opener.open(page.geturl(), urllib.parse.urlencode({"prompt": "login", "login": login, "password": "x"}).encode(), timeout=30)
    page = opener.open(page.geturl(), urllib.parse.urlencode({"prompt": "consent"}).encode(), timeout=30)
    if not page.geturl().startswith(base):
        raise SystemExit(f"sign-in did not come back to Backlot: {page.geturl()}")
    for c in jar:
        if c.name == "backlot_session":
            return c.value
    raise SystemExit("no session cookie after sign-in")


def run(n, path, args):
    global extra_headers
    extra_headers = []
    work = tempfile.mkdtemp(prefix=f"backlot-bench-{n}-")
    daemon = None
    provider = None
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_catalog.py"), str(n), "--out", work], check=True, capture_output=True)
        many = os.path.join(work, f"many-{n}")
        target = os.path.join(many, "location.yaml") if args.variant == "many" else os.path.join(work, f"single-{n}.yaml")
        expected = n + 1 if args.variant == "many" else n
        with open(os.path.join(work, "backlot.yaml"), "w") as f:
            f.write("catalog:\n  demo: never\n")
            if path == "churn":
                f.write("  refresh_interval_secs: 3\n")
            if path in ("config", "churn", "restart"):
                f.write(f"  locations:\n    - type: file\n      target: {target}\n")
            else:
                f.write(f"  file_roots: [{work}]\n")
            if args.scorecards:
                f.write(SCORECARDS)
            if args.caller != "guest":
                provider, issuer = start_provider(f"http://127.0.0.1:{args.port}/api/auth/oidc/handler/frame")
                f.write(f"auth:\n  base_url: http://127.0.0.1:{args.port}\n  providers:\n    - id: oidc\n      type: oidc\n"
                        f"      issuer: {issuer}\n      client_id: backlot\n      client_secret_env: BENCH_OIDC_SECRET\n")
            if args.caller == "owned":
                with open(os.path.join(work, "policy.yaml"), "w") as p:
                    p.write(OWNED_POLICY)
                f.write("policy:\n  file: policy.yaml\n")
        git_url = None
        if path == "api-git":
            repos = os.path.join(work, "repos")
            os.makedirs(repos)
            repo = os.path.join(work, "catalog")
            if args.variant == "many":
                shutil.copytree(many, repo)
            else:
                os.makedirs(repo)
                shutil.copy(target, os.path.join(repo, "catalog-info.yaml"))
            git(repo, "init", "-q", "-b", "main")
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", "catalog")
            git(work, "clone", "-q", "--bare", repo, os.path.join(repos, "catalog.git"))
            port = free_port()
            daemon = subprocess.Popen(["git", "daemon", "--listen=127.0.0.1", f"--port={port}", f"--base-path={repos}",
                                       "--export-all", "--reuseaddr", repos], stderr=subprocess.DEVNULL,
                                      start_new_session=True)
            git_url = f"git://127.0.0.1:{port}/catalog.git"
            time.sleep(0.5)
        names = os.path.join(work, f"names-{n}.txt")
        lua = os.path.join(work, "by-name.lua")
        with open(lua, "w") as f:
            f.write(
                "local names = {}\n"
                f"for line in io.lines('{names}') do names[#names + 1] = line end\n"
                "math.randomseed(42)\n"
                "request = function()\n"
                "  local n = names[math.random(#names)]\n"
                "  return wrk.format('GET', '/api/catalog/entities/by-name/component/default/' .. n)\n"
                "end\n"
            )
        env = dict(os.environ, BACKLOT_DATA_DIR=os.path.join(work, "data"), BACKLOT_ADDR=f"127.0.0.1:{args.port}",
                   BACKLOT_LOG="warn", LEPTOS_SITE_ROOT=args.site_root, BENCH_OIDC_SECRET="bench-secret")
        env.pop("DATABASE_URL", None)
        env.pop("BACKLOT_DATABASE_URL", None)
        t0 = time.monotonic()
        proc = subprocess.Popen([args.binary, "--config", os.path.join(work, "backlot.yaml"), "serve"], env=env)
        base = f"http://127.0.0.1:{args.port}"
        try:
            if path in ("api", "api-git"):
                wait_for(lambda: urllib.request.urlopen(f"{base}/readyz", timeout=10).status == 200, "readiness", proc)
                if path == "api":
                    body = {"type": "file", "target": target}
                else:
                    body = {"type": "git", "target": git_url,
                            "path": "location.yaml" if args.variant == "many" else "catalog-info.yaml"}
                status, answer = post_json(f"{base}/api/catalog/locations", body)
                got = len(json.loads(answer)["entities"])
                if status != 201 or got != expected:
                    raise SystemExit(f"registration answered {status} with {got} entities, expected {expected}")
            if args.caller == "guest":
                wait_for(lambda: total_items(base) >= expected, f"{expected} entities", proc)
            else:
                # Sign-in needs the users in the catalog; the cookie then rides on every request.
                wait_for(lambda: urllib.request.urlopen(f"{base}/readyz", timeout=10).status == 200, "readiness", proc)
                extra_headers = [f"Cookie: backlot_session={sign_in(base, 'user-0000')}"]
                if args.caller == "session":
                    wait_for(lambda: total_items(base) >= expected, f"{expected} entities", proc)
                else:
                    owned = get_json(f"{base}/api/catalog/entities/by-query?filter=kind=component&fields=metadata.name&limit=10000")
                    with open(names, "w") as nf:
                        nf.write("\n".join(e["metadata"]["name"] for e in owned["items"]) + "\n")
            if path == "restart":
                # The first start imported everything; the second loads it from the database.
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
                t0 = time.monotonic()
                proc = subprocess.Popen([args.binary, "--config", os.path.join(work, "backlot.yaml"), "serve"], env=env)
                wait_for(lambda: urllib.request.urlopen(f"{base}/readyz", timeout=10).status == 200, "readiness", proc)
                wait_for(lambda: total_items(base) >= expected, f"{expected} entities", proc)
            ingest_wall = time.monotonic() - t0
            ingest_cpu = cpu_seconds(proc.pid)
            r = {"n": n, "path": path, "caller": args.caller, "entities": expected, "ingest_wall_s": ingest_wall, "ingest_cpu_s": ingest_cpu,
                 "ingest_cpu_ms_per_entity": ingest_cpu * 1000 / expected, "rss_after_ingest_mib": status_mib(proc.pid, "VmRSS")}
            if path == "churn":
                folder = many if args.variant == "many" else work
                probe = "component/default/" + open(names).readline().strip()
                for round_no in range(1, args.rounds + 1):
                    change_descriptions(folder, round_no)
                    wait_for(lambda: get_json(f"{base}/api/catalog/entities/by-name/{probe}")["metadata"]["description"].endswith(f" r{round_no}"),
                             f"round {round_no} of changes", proc)
                    # Every location's refresh of this round is done when the next one starts.
                    time.sleep(4)
            r["by_name"] = loaded(proc.pid, f"{base}/api/catalog/entities/by-name/component/default/x", args.duration, lua)
            r["by_query"] = loaded(proc.pid, f"{base}/api/catalog/entities/by-query?filter=kind=component,spec.type=service&limit=100", args.duration)
            # Render time of the catalog page: one client at a time.
            r["catalog_page"] = loaded(proc.pid, f"{base}/catalog?kind=component", args.duration, conns=1)
            # The home page (the caller's own when signed in, the organisation's for the guest) and
            # every team with its rollups: one client at a time too.
            r["home_page"] = loaded(proc.pid, f"{base}/", args.duration, conns=1)
            r["teams_page"] = loaded(proc.pid, f"{base}/teams", args.duration, conns=1)
            before = cpu_seconds(proc.pid)
            time.sleep(args.idle)
            r["idle_cpu_pct"] = (cpu_seconds(proc.pid) - before) * 100 / args.idle
            r["peak_rss_mib"] = status_mib(proc.pid, "VmHWM")
            r["end_rss_mib"] = status_mib(proc.pid, "VmRSS")
            return r
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    finally:
        if provider:
            provider.terminate()
            provider.wait()
        if daemon:
            os.killpg(daemon.pid, signal.SIGTERM)  # git daemon forks: end its whole group
            daemon.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    ap.add_argument("--binary", default="target/release/backlot")
    ap.add_argument("--site-root", default="target/site")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--idle", type=int, default=65, help="seconds of rest measured (the refresh runs every 60 s)")
    ap.add_argument("--variant", choices=["many", "single"], default="many")
    ap.add_argument("--path", nargs="+", choices=["config", "api", "api-git", "churn", "restart"], default=["config"],
                    help="how the entities arrive (several: one row each)")
    ap.add_argument("--rounds", type=int, default=3, help="churn: how many times every entity changes")
    ap.add_argument("--port", type=int, default=3990)
    ap.add_argument("--caller", choices=["guest", "session", "owned"], default="guest",
                    help="who asks: the guest, a signed-in session, or a session under an ownership policy")
    ap.add_argument("--json", help="also write raw results here")
    ap.add_argument("--scorecards", action="store_true", help="configure 3 scorecards of 10 checks over every component")
    ap.add_argument("--encoding", choices=list(ACCEPT_ENCODING), default="none",
                    help="Accept-Encoding the load generator sends")
    args = ap.parse_args()
    global accept_encoding
    accept_encoding = ACCEPT_ENCODING[args.encoding]
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    results = [run(n, path, args) for n in args.sizes for path in args.path]
    print("| N | path | caller | ingest wall | ingest CPU | CPU/entity | by-name p50/p99 | by-name req/s | by-name CPU/req | by-query p50/p99 | by-query req/s | by-query CPU/req | catalog page p50/p99 | peak RSS | RSS at end | idle CPU | catalog page CPU/req |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        bn, bq, cp = r["by_name"], r["by_query"], r["catalog_page"]
        print(f"| {r['n']:,} | {r['path']} | {r['caller']} | {r['ingest_wall_s']:.2f} s | {r['ingest_cpu_s']:.2f} s | {r['ingest_cpu_ms_per_entity']:.3f} ms "
              f"| {bn['p50_ms']:.2f}/{bn['p99_ms']:.2f} ms | {bn['rps']:,.0f} | {bn['cpu_ms_per_req']:.3f} ms "
              f"| {bq['p50_ms']:.2f}/{bq['p99_ms']:.2f} ms | {bq['rps']:,.0f} | {bq['cpu_ms_per_req']:.3f} ms "
              f"| {cp['p50_ms']:.2f}/{cp['p99_ms']:.2f} ms | {r['peak_rss_mib']:.0f} MiB | {r['end_rss_mib']:.0f} MiB | {r['idle_cpu_pct']:.2f}% | {cp['cpu_ms_per_req']:.2f} ms |")
    print()
    print("| N | path | caller | home page p50/p99 | home page CPU/req | teams page p50/p99 | teams page CPU/req |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        hp, tp = r["home_page"], r["teams_page"]
        print(f"| {r['n']:,} | {r['path']} | {r['caller']} | {hp['p50_ms']:.2f}/{hp['p99_ms']:.2f} ms | {hp['cpu_ms_per_req']:.2f} ms "
              f"| {tp['p50_ms']:.2f}/{tp['p99_ms']:.2f} ms | {tp['cpu_ms_per_req']:.2f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
