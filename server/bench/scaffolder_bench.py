#!/usr/bin/env python3
"""Scaffolder dry-run benchmark: Backlot against the real Backstage scaffolder (the oracle).

Generates a deterministic template whose skeleton has --files files (a service layout: source
files with expressions, `{% if %}` blocks and a loop, plus plain files), sends it --runs times to
`POST /api/scaffolder/v2/dry-run` of each server given, and reports per run the wall time and the
server process's CPU time (from /proc/<pid>/stat, so only the server's own work counts).

usage: scaffolder_bench.py --server NAME=URL=PID [--server ...] [--files 500] [--runs 20]
  e.g. --server backlot=http://127.0.0.1:3000=$(pgrep -f 'backlot serve')
       --server backstage=http://127.0.0.1:7017=$(cat /tmp/oracle/oracle.pid)
Backlot must be release-built; the oracle is ../shared/oracles/backstage-scaffolder (study only).
"""
import argparse
import base64
import json
import os
import statistics
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def skeleton(n):
    files = []
    for i in range(n):
        if i % 5 == 4:
            files.append((f"skeleton/static/asset-{i:04}.txt", f"plain file {i}\n" * 20))
            continue
        body = (
            "// ${{ values.name }}: module %d\n"
            "package ${{ values.name | replace('-', '_') }}.m%d\n"
            "{%%- if values.database %%}\n"
            "import db \"${{ values.database }}\"\n"
            "{%%- endif %%}\n"
            "{%% for tag in values.tags %%}// tag ${{ tag | upper }}\n{%% endfor %%}"
            "func Handler%d() string { return \"${{ values.owner | parseEntityRef | pick('name') }}\" }\n"
        ) % (i, i, i)
        files.append((f"skeleton/${{{{ values.name }}}}/src/m{i:04}.go", body * 3))
    return files


def request_body(n):
    template = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "bench"},
        "spec": {
            "type": "service",
            "parameters": [{"title": "Service", "required": ["name", "owner"],
                            "properties": {"name": {"type": "string"}, "owner": {"type": "string"},
                                           "database": {"type": "string"},
                                           "tags": {"type": "array", "items": {"type": "string"}}}}],
            "steps": [
                {"id": "fetch", "name": "Fetch", "action": "fetch:template",
                 "input": {"url": "./skeleton", "values": {
                     "name": "${{ parameters.name }}", "owner": "${{ parameters.owner }}",
                     "database": "${{ parameters.database }}", "tags": "${{ parameters.tags }}"},
                     "copyWithoutTemplating": ["static/**"]}},
                {"id": "write", "action": "catalog:write",
                 "input": {"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                                      "metadata": {"name": "${{ parameters.name }}"},
                                      "spec": {"type": "service", "owner": "${{ parameters.owner }}",
                                               "lifecycle": "experimental"}}}},
            ],
            "output": {"links": [{"title": "Repository", "url": "https://example.com/${{ parameters.name }}"}]},
        },
    }
    values = {"name": "orders-api", "owner": "group:default/team-a", "database": "postgres",
              "tags": ["a", "b", "c"]}
    contents = [{"path": p, "base64Content": base64.b64encode(c.encode()).decode()} for p, c in skeleton(n)]
    return json.dumps({"template": template, "values": values, "secrets": {},
                       "directoryContents": contents}).encode()


def run(url, pid, body, runs):
    walls, cpus, files = [], [], None
    for _ in range(runs):
        req = urllib.request.Request(url + "/api/scaffolder/v2/dry-run", data=body,
                                     headers={"content-type": "application/json"})
        c0, t0 = cpu_seconds(pid), time.perf_counter()
        with urllib.request.urlopen(req, timeout=120) as r:
            answer = json.load(r)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds(pid) - c0)
        files = len(answer["directoryContents"])
    return walls, cpus, files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="append", required=True)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    body = request_body(args.files)
    print(f"| server | skeleton files | files out | wall p50 | wall max | CPU per run (mean) |")
    print("|---|---|---|---|---|---|")
    for spec in args.server:
        name, url, pid = spec.rsplit("=", 2)
        run(url, int(pid), body, 2)  # warm up
        walls, cpus, files = run(url, int(pid), body, args.runs)
        print(f"| {name} | {args.files} | {files} | {statistics.median(walls) * 1000:.1f} ms | "
              f"{max(walls) * 1000:.1f} ms | {statistics.mean(cpus) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
