#!/usr/bin/env python3
"""Re-record the scaffolder's compatibility fixtures from the real Backstage scaffolder.

Each folder next to this script is one case: `template.yaml`, `values.json` and the files the
template uses (usually `skeleton/...`). This script sends the case to a running Backstage
backend's `POST /api/scaffolder/v2/dry-run` (the oracle: see `shared/oracles/backstage-scaffolder`;
it is never needed by the tests) and writes Backstage's answer as `expected.json`:

    {"status": <http status>,
     "files": {"<path>": {"text": "..."} | {"base64": "..."}},   # the workspace after the steps
     "inputs": {"<step id>": <the step's rendered input>},        # from the dry-run log line
     "output": {...},
     "error": "..."}                                              # when the status is not 200

usage: record.py [--oracle http://127.0.0.1:7017] [--yaml2json /tmp/oracle/yaml2json.cjs] [case ...]
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NOT_UPLOADED = {"values.json", "expected.json"}
INPUTS_PREFIX = "dry-run mode with inputs (secrets redacted): "


def case_files(case_dir):
    for root, _dirs, files in os.walk(case_dir):
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, case_dir)
            if rel in NOT_UPLOADED:
                continue
            with open(full, "rb") as f:
                yield rel, f.read()


def file_entry(raw):
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode()}


def record(case_dir, oracle, yaml2json):
    template = json.loads(
        subprocess.check_output(["node", yaml2json, os.path.join(case_dir, "template.yaml")])
    )
    with open(os.path.join(case_dir, "values.json")) as f:
        values = json.load(f)
    body = {
        "template": template,
        "values": values,
        "secrets": {},
        "directoryContents": [
            {"path": rel, "base64Content": base64.b64encode(raw).decode()}
            for rel, raw in case_files(case_dir)
        ],
    }
    request = urllib.request.Request(
        oracle + "/api/scaffolder/v2/dry-run",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            status, answer = response.status, json.load(response)
    except urllib.error.HTTPError as e:
        status, answer = e.code, json.load(e)
    expected = {"status": status}
    if status != 200:
        expected["error"] = answer.get("error", {}).get("message", json.dumps(answer))
    else:
        expected["files"] = {
            entry["path"]: file_entry(base64.b64decode(entry["base64Content"]))
            for entry in sorted(answer["directoryContents"], key=lambda e: e["path"])
        }
        inputs = {}
        for line in answer["log"]:
            b = line["body"]
            step = b.get("stepId")
            message = b.get("message", "")
            if step is None or "status" in b:
                continue
            if INPUTS_PREFIX in message:
                inputs[step] = json.loads(message.split(INPUTS_PREFIX, 1)[1])
        expected["inputs"] = inputs
        expected["output"] = answer.get("output", {})
    with open(os.path.join(case_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--oracle", default="http://127.0.0.1:7017")
    p.add_argument("--yaml2json", default="/tmp/oracle/yaml2json.cjs")
    p.add_argument("cases", nargs="*")
    args = p.parse_args()
    cases = args.cases or sorted(
        d for d in os.listdir(HERE) if os.path.isfile(os.path.join(HERE, d, "template.yaml"))
    )
    for case in cases:
        status = record(os.path.join(HERE, case), args.oracle, args.yaml2json)
        print(f"{case}: {status}")


if __name__ == "__main__":
    sys.exit(main())
