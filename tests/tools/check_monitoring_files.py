#!/usr/bin/env python3
"""Checks the shipped monitoring files against what beed exports: etc/grafana/packagebee.json has
what Grafana needs to load a dashboard (schemaVersion, title, uid, panels with ids, gridPos and
targets), and every metric name in its panels' expressions and in etc/prometheus's rules is one
that lib/metrics exports (kMetricNames in sync_metrics.hpp, process_* in process_collector.cpp).
Usage: check_monitoring_files.py [REPO_TOP]"""
import json
import os
import re
import sys

NAME = re.compile(r"\b((?:packagebee|process)_[a-zA-Z0-9_]+)\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exported_names(top):
    with open(os.path.join(top, "lib/metrics/sync_metrics.hpp"), encoding="utf-8") as f:
        header = f.read()
    block = header[header.index("kMetricNames[]"):]
    block = block[: block.index("};")]
    names = set(re.findall(r'"([a-z_]+)"', block))
    with open(os.path.join(top, "lib/metrics/process_collector.cpp"), encoding="utf-8") as f:
        names |= set(re.findall(r'"(process_[a-z_]+)"', f.read()))
    histograms = {n for n in names if n.endswith("_seconds") and "duration" in n}
    for h in histograms:
        names |= {h + s for s in HISTOGRAM_SUFFIXES}
    return names


def check_names(where, expr, known, problems):
    for name in NAME.findall(expr):
        if name not in known:
            problems.append(f"{where}: {name} is not a metric beed exports")


def check_dashboard(path, known, problems):
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    for key, kind in (("schemaVersion", int), ("title", str), ("uid", str), ("panels", list),
                      ("templating", dict)):
        if not isinstance(dashboard.get(key), kind):
            problems.append(f"{path}: {key} missing or not a {kind.__name__}")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 30:
        problems.append(f"{path}: schemaVersion should be a Grafana 8+ schema (>= 30)")
    ids = set()
    targets = 0
    for panel in dashboard.get("panels", []):
        where = f"{path}: panel {panel.get('id')} ({panel.get('title')!r})"
        for key in ("id", "type", "title", "gridPos"):
            if key not in panel:
                problems.append(f"{where}: no {key}")
        if panel.get("id") in ids:
            problems.append(f"{where}: id used twice")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")) or grid.get("x", 0) + grid.get("w", 0) > 24:
            problems.append(f"{where}: gridPos needs integers h, w, x, y within 24 columns")
        if panel.get("type") == "row":
            continue
        if not panel.get("targets"):
            problems.append(f"{where}: no targets")
        for target in panel.get("targets", []):
            if not target.get("expr") or not target.get("refId"):
                problems.append(f"{where}: a target without expr or refId")
                continue
            targets += 1
            check_names(where, target["expr"], known, problems)
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            check_names(f"{path}: variable {variable.get('name')}", query.get("query", ""), known, problems)
    return targets


def check_rules(path, known, problems):
    # The rules are YAML; their expressions are the only text that holds metric names.
    with open(path, encoding="utf-8") as f:
        text = f.read()
    exprs = re.findall(r"expr: \|\n((?:\s{10}.*\n)+)", text)
    if len(exprs) < 4:
        problems.append(f"{path}: expected at least 4 alert expressions, found {len(exprs)}")
    for expr in exprs:
        check_names(path, expr, known, problems)
    return len(exprs)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    known = exported_names(top)
    problems = []
    targets = check_dashboard(os.path.join(top, "etc/grafana/packagebee.json"), known, problems)
    rules = check_rules(os.path.join(top, "etc/prometheus/packagebee.rules.yml"), known, problems)
    for p in problems:
        print(p)
    print(f"check_monitoring_files: {len(known)} metric names, {targets} dashboard targets, "
          f"{rules} alert expressions, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
