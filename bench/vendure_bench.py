#!/usr/bin/env python3
"""The Vendure store connector against the real Vendure 3 (tests/platforms/vendure: @vendure/core
from npm, SQLite, loopback): a benchmark that prints figures (not a test).

  python3 bench/vendure_bench.py [--skus 2000] [--build-dir build] [--changed-percent 1]

Boots Vendure with a fresh SQLite file, seeds --skus variants through its Admin API (40 to a
product), then runs one beed with a CSV warehouse and one `type: vendure` connection:
  1. first sync: beed's first automatic run, a Full Sync with a cold SKU -> id map (the
     productVariants walk, then every quantity);
  2. warm Full Sync: every quantity changed, `beectl full-sync --wait`;
  3. Smart Sync with --changed-percent of the SKUs changed.
For each: wall time (beed's run duration), updateProductVariants calls against the minimum
ceil(changed / 250) (from beed's packagebee_store_requests_total on its metrics listener, minus
the walk's pages), beed's CPU seconds and peak RSS, Vendure's CPU seconds. Every quantity is then
read back through Vendure's API and compared with the feed: a mismatch exits 3.
"""

import argparse
import math
import os
import re
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "platforms", "vendure"))
import harness  # noqa: E402
import vendure_platform as vp  # noqa: E402

PASSWORD = "bench-superadmin-Pw-0425"
PER_CALL = 250


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def store_requests(port):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
    return sum(float(m.group(1)) for m in
               re.finditer(r'^packagebee_store_requests_total\{[^}]*\} (\S+)$', text, re.M))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--changed-percent", type=float, default=1.0)
    args = parser.parse_args()
    harness.BEED = os.path.join(args.build_dir, "daemon", "beed")
    harness.BEECTL = os.path.join(args.build_dir, "ctl", "beectl")
    if not vp.installed():
        print("Vendure is not installed: npm ci --prefix tests/platforms/vendure")
        return 1

    root = tempfile.mkdtemp(prefix="pb-bench-vendure-")
    skus = ["B-%06d" % i for i in range(1, args.skus + 1)]
    with vp.VendureServer(os.path.join(root), PASSWORD, boot_timeout=300) as server:
        api = vp.AdminApi(server.url).login(vp.SUPERADMIN, PASSWORD)
        started = time.monotonic()
        api.seed(skus, per_product=40)
        print("Vendure 3.7.3 booted in %.1f s; %d variants seeded in %.0f s" %
              (server.boot_seconds, len(skus), time.monotonic() - started))

        env = harness.BeeEnv(os.path.join(root, "beed"))
        os.makedirs(env.root, exist_ok=True)
        pw = os.path.join(env.root, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        port = vp.free_port()
        store = {"type": "vendure", "url": server.url, "username": vp.SUPERADMIN,
                 "password_file": pw}
        env.write_config(connections={env.name: env.connection(store=store)},
                         daemon_extra={"http": {"listen": "127.0.0.1:%d" % port}})
        feed = {s: n % 50 for n, s in enumerate(skus)}
        env.write_feed(feed)
        rows = []
        pages = math.ceil(len(skus) / 1000)

        def measure(label, action, changed, overhead):
            cpu0 = cpu_seconds(env.proc.pid) if env.proc else 0.0
            vcpu0 = cpu_seconds(server.proc.pid)
            req0 = store_requests(port) if env.proc else 0
            t0 = time.monotonic()
            action()
            run = env.history()[0]  # with its duration
            wall = time.monotonic() - t0
            req = store_requests(port) - req0
            writes = req - overhead
            rows.append((label, changed, run["duration_ms"] / 1000.0, wall, int(writes),
                         math.ceil(changed / PER_CALL), cpu_seconds(env.proc.pid) - cpu0,
                         peak_rss_mib(env.proc.pid), cpu_seconds(server.proc.pid) - vcpu0))
            if run["result"] != "ok":
                raise SystemExit("run ended %s: %s" % (run["result"], run.get("error")))

        def first():
            env.start()
            return env.wait_run(1, timeout=3600)

        # The first run also logs in once and pages the catalogue.
        measure("first sync (cold map)", first, len(skus), pages + 1)
        feed = {s: q + 1 for s, q in feed.items()}
        env.write_feed(feed)

        def full():
            env.beectl("full-sync", env.name, "--wait", timeout=3600)
            return env.history()[0]
        # The map is warm and the session kept: every request is a write.
        measure("warm Full Sync", full, len(skus), 0)
        step = max(1, int(100 / args.changed_percent))
        changed = skus[::step]
        for s in changed:
            feed[s] += 7
        env.write_feed(feed)

        def smart():
            env.beectl("sync", env.name, "--wait", timeout=3600)
            return env.history()[0]
        measure("Smart Sync, %g%% changed" % args.changed_percent, smart, len(changed), 0)
        env.stop()

        walk = re.search(r"catalogue walk: .*", env.log_text())
        stock = api.stock()
        wrong = [s for s in skus if stock.get(s) != feed[s]]
        print()
        print("%-26s %8s %8s %8s %7s %7s %8s %8s %9s" % (
            "run", "SKUs", "run s", "wall s", "writes", "min", "beed CPU", "beed RSS",
            "Vendure CPU"))
        for r in rows:
            print("%-26s %8d %8.1f %8.1f %7d %7d %7.2fs %6.1f MiB %8.1fs" % r)
        print()
        print("SKU/s (warm Full Sync): %.0f; Vendure's CPU / wall: %.0f%%" % (
            rows[1][1] / rows[1][2], 100 * rows[1][8] / rows[1][3]))
        print("beed's log: %s" % (walk.group(0) if walk else "no catalogue walk logged"))
        print("read back through Vendure's API: %d of %d quantities wrong" % (len(wrong),
                                                                                len(skus)))
        harness.shutil.rmtree(root, ignore_errors=True)
        return 3 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
