#!/usr/bin/env python3
"""Checks lib/'s layering (docs/ARCHITECTURE.md): each folder may include only the folders listed for it
below, so an include that points upwards (a connector reaching into LMDB, the engine into the control
socket) fails the test suite rather than slipping into the map unnoticed. Usage: check_layers.py [LIB_DIR]"""
import os
import re
import sys

# folder -> folders it may include (besides itself). Only what docs/ARCHITECTURE.md draws.
ALLOWED = {
    "core": set(),
    "async": set(),
    "sys": set(),
    "log": set(),
    "net": {"async", "core", "log"},
    "config": {"core", "net"},
    "state": {"core"},
    "connectors": {"async", "config", "core", "log", "net"},
    "control": {"core"},
    "sync": {"async", "config", "connectors", "core", "log", "net", "state", "sys"},
    "metrics": {"config", "core", "net", "state"},
    "web": {"core", "log"},
    "service": {"async", "config", "connectors", "control", "core", "log", "metrics", "net", "state",
                "sync", "sys", "web"},
    "cli": {"control", "core"},
}
# Single headers a folder may include from a folder it otherwise may not: the state layer implements
# the store layer's id-cache interface.
EXCEPTIONS = {("state", "connectors/store/store_id_cache.hpp")}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"', re.M)


def main():
    lib = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "lib")
    problems = []
    folders = sorted(d for d in os.listdir(lib) if os.path.isdir(os.path.join(lib, d)))
    for folder in folders:
        if folder not in ALLOWED:
            problems.append(f"lib/{folder}/: not in check_layers.py's map (add it, and to docs/ARCHITECTURE.md)")
            continue
        for root, _, files in os.walk(os.path.join(lib, folder)):
            for name in files:
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    target, rest = m.group(1), m.group(2)
                    if target == folder or target in ALLOWED[folder]:
                        continue
                    if (folder, f"{target}/{rest}") in EXCEPTIONS:
                        continue
                    line = text.count("\n", 0, m.start()) + 1
                    rel = os.path.relpath(path, os.path.dirname(lib))
                    problems.append(f"{rel}:{line}: lib/{folder} may not include {target}/{rest}")
    for p in problems:
        print(p)
    print(f"check_layers: {len(folders)} folders, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
