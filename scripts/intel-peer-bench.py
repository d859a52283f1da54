#!/usr/bin/env python3
"""Peer numbers for docs/BENCHMARKS.md (intel import): the same inputs as
`cargo run --release -p ward-intel --example import_bench`, handled by Python.

1. KEV catalogue JSON: json.load and a dict by CVE id (what a KEV import needs at least).
2. The 1,000 CSAF advisories (25 ICSMA files x 40 tracking-id prefixes): json.loads and
   validation against the official CSAF 2.0 JSON schema with the `jsonschema` package
   (python3-jsonschema; offline, the FIRST CVSS schemas registered from the corpus).

Usage: python3 scripts/intel-peer-bench.py [path/to/shared/data]
"""
import json
import pathlib
import sys
import time

import jsonschema
from referencing import Registry, Resource

data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                    pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "data")
if not data.is_dir():
    sys.exit(f"corpus not found at {data}")

kev = data / "cisa-kev/dev/known_exploited_vulnerabilities_2025-01-24.json"
t = time.perf_counter()
catalogue = json.loads(kev.read_bytes())
by_cve = {v["cveID"]: v for v in catalogue["vulnerabilities"]}
kev_ms = (time.perf_counter() - t) * 1e3
print(f"| KEV JSON (python json + dict) | {len(by_cve)} | {kev_ms:.1f} ms |")

schema_dir = data / "oasis-csaf/schema"
resources = []
for f in sorted(schema_dir.glob("*.json")):
    s = json.loads(f.read_text())
    sid = s.get("$id") or s.get("id")  # the draft-04 CVSS schemas use "id"
    if not sid:
        continue
    res = Resource.from_contents(s)
    resources.append((sid, res))
    if "?" in sid:
        resources.append((sid.split("?")[0], res))
registry = Registry().with_resources(resources)
csaf_schema = json.loads((schema_dir / "csaf_json_schema.json").read_text())
validator = jsonschema.Draft202012Validator(csaf_schema, registry=registry,
                                            format_checker=None)

docs = [json.loads(p.read_bytes()) for p in sorted((data / "cisa-csaf-icsma/dev").glob("*.json"))]
inputs = []
for copy in range(40):
    for d in docs:
        d = json.loads(json.dumps(d))
        d["document"]["tracking"]["id"] = f"BENCH-{copy:02}-{d['document']['tracking']['id']}"
        inputs.append(json.dumps(d).encode())
t = time.perf_counter()
bad = 0
for b in inputs:
    doc = json.loads(b)
    if next(validator.iter_errors(doc), None) is not None:
        bad += 1
ms = (time.perf_counter() - t) * 1e3
print(f"| {len(inputs)} CSAF advisories (python json + jsonschema CSAF 2.0) | {len(inputs) - bad} valid | {ms:.1f} ms |")
