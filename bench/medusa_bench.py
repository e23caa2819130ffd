#!/usr/bin/env python3
"""The Medusa store connector against the real Medusa v2 (tests/platforms/medusa, `npm ci`) on a
private PostgreSQL: a benchmark that prints figures (not a test).

  python3 bench/medusa_bench.py [--skus 5000] [--variants 10] [--changed 0.01] [--build-dir DIR]

Medusa is set up as in tests/integration/test_store_medusa.py (its CLI for migrations and the
admin user, its Admin API for a secret key, a stock location and --skus variants with
manage_inventory, --variants per product). One beed with one connection (a CSV warehouse), then:

  1. first sync: beed's first automatic run, a Full Sync with a cold SKU -> item map (the walk of
     every inventory item, then every level created at the location);
  2. warm Full Sync: every quantity changed, `beectl full-sync --wait` timed (levels updated);
  3. Smart Sync: --changed of the SKUs changed, `beectl sync --wait` timed.

Medusa logs each request (LOG_LEVEL=http, production mode); the figures count beed's requests by
route from that log and compare the writes with the minimum ceil(N/500). CPU is read from /proc
for beed, Medusa's node process and PostgreSQL's backends, to say where the time goes. After each
run Medusa's stocked quantities are read back and compared with the feed: a mismatch exits 3.
"""

import argparse
import math
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beedbench as bb  # noqa: E402

sys.path.insert(0, os.path.join(bb.REPO, "tests", "platforms", "medusa"))
import medusa_server  # noqa: E402

CONNECTION = "medusa"
BATCH = 500  # kBatchLimit in lib/connectors/store/medusa/medusa_levels.hpp


def pg_cpu_seconds(pg):
    """CPU of every process of the PostgreSQL server (postmaster and backends)."""
    total = 0.0
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        master = int(f.readline())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) == master or int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / bb.CLK_TCK
    return total


def feed(n_skus, sku_of, generation, changed=None):
    return {sku_of(i): (i * 7 + generation * 13) % 500 if changed is None or i in changed
            else (i * 7 + (generation - 1) * 13) % 500 for i in range(n_skus)}


def write_feed(folder, rows, seq):
    path = os.path.join(folder, "inv_%05d.csv" % seq)
    with open(path + ".part", "w") as f:
        f.write("sku,quantity\n")
        for sku, q in rows.items():
            f.write("%s,%d\n" % (sku, q))
    os.replace(path + ".part", path)


def wait_run_end(beed, sock, run_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beed.check_alive()
        runs = bb.request_once(sock, "history", {"connection": CONNECTION, "limit": 5})["runs"]
        for r in runs:
            if r["id"] == run_id and r["result"] != "running":
                return r
        time.sleep(0.2)
    raise bb.SetupError("run %d did not end within %d s" % (run_id, timeout))


class Measure:
    """CPU of beed, Medusa and PostgreSQL, beed's peak RSS and Medusa's request log over a run."""

    def __init__(self, beed, medusa):
        self.beed, self.medusa = beed, medusa

    def __enter__(self):
        bb.reset_peak_rss(self.beed.pid)
        self.t0 = time.monotonic()
        self.cpu0 = (bb.proc_cpu_seconds(self.beed.pid), bb.proc_cpu_seconds(self.medusa.proc.pid),
                     pg_cpu_seconds(self.medusa.pg))
        self.log0 = self.medusa.log_size()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        cpu1 = (bb.proc_cpu_seconds(self.beed.pid), bb.proc_cpu_seconds(self.medusa.proc.pid),
                pg_cpu_seconds(self.medusa.pg))
        self.cpu = [b - a for a, b in zip(self.cpu0, cpu1)]
        self.hwm_mb = bb.proc_status_kb(self.beed.pid, "VmHWM") / 1024.0
        self.requests = self.medusa.requests(self.log0)

    def row(self, label, n_pushed, run):
        by_route = {}
        for r in self.requests:
            path = r["path"].split("?")[0]
            key = "%s %s" % (r["method"], "batch" if path.endswith("/batch") else
                             "inventory-items" if path.endswith("/inventory-items") else path)
            by_route[key] = by_route.get(key, 0) + 1
        writes = by_route.get("POST batch", 0)
        busy = sum(r["duration"] for r in self.requests) / 1000.0
        return [label, "%d" % n_pushed, "%.1f s" % self.wall,
                "%d" % (n_pushed / self.wall * 60) if self.wall > 0 else "-",
                "%d / %d" % (writes, math.ceil(n_pushed / BATCH)),
                "%d" % by_route.get("GET inventory-items", 0),
                "%.2f s" % self.cpu[0], "%.1f MB" % self.hwm_mb,
                "%.1f s" % self.cpu[1], "%.1f s" % self.cpu[2], "%.1f s" % busy,
                run["result"]]


def check_stock(medusa, location, expected):
    actual = medusa.stocked(location)
    bad = [s for s, q in expected.items() if actual.get(s) != q]
    if bad:
        print("MISMATCH: %d SKUs differ in Medusa (e.g. %s: %r, expected %r)"
              % (len(bad), bad[0], actual.get(bad[0]), expected[bad[0]]), file=sys.stderr)
    return not bad


def seed(medusa, n, variants, sku_of):
    products = [{"title": "Bench %06d" % p,
                 "skus": [sku_of(i) for i in range(p * variants, min(n, (p + 1) * variants))]}
                for p in range(math.ceil(n / variants))]
    t0 = time.monotonic()
    medusa.seed(products, per_request=max(1, 200 // variants))
    return time.monotonic() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    bb.add_common_args(parser)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--variants", type=int, default=10, help="variants per product")
    parser.add_argument("--changed", type=float, default=0.01, help="share changed for Smart Sync")
    parser.add_argument("--run-timeout", type=float, default=3600)
    a = parser.parse_args()
    beed_bin = bb.find_binary(a.build_dir, "beed")
    beectl = bb.find_binary(a.build_dir, "beectl")
    ws = bb.Workspace("pb-bench-medusa-", keep=a.keep, path=a.dir)
    medusa = bb.track(medusa_server.MedusaServer.start(os.path.join(ws.path, "medusa")))
    sku_of = lambda i: "BENCH-%07d" % i  # noqa: E731
    seeding = seed(medusa, a.skus, a.variants, sku_of)
    key, _ = medusa.create_secret_key()
    location = medusa.create_stock_location("bench")
    print("medusa: %s; seeding %d variants %.1f s (%.0f/s)" % (
        ", ".join("%s %.1f s" % t for t in medusa.timings.items()), a.skus, seeding,
        a.skus / seeding), flush=True)

    root = os.path.join(ws.path, "beed")
    feeds = os.path.join(root, "feeds")
    os.makedirs(feeds)
    with open(os.path.join(root, "key"), "w") as f:
        f.write(key + "\n")
    config = os.path.join(root, "packagebee.yaml")
    with open(config, "w") as f:
        f.write("daemon: {socket: beed.sock, state_dir: state, log_level: info}\n"
                "connections:\n  %s:\n"
                "    warehouse: {type: csv, path: feeds, pattern: \"inv_*.csv\"}\n"
                "    store: {type: medusa, url: \"%s\", api_key_file: key, location_id: %s}\n"
                "    inventory: {schedule: 24h}\n" % (CONNECTION, medusa.url, location))
    sock = os.path.join(root, "beed.sock")
    rows, ok = [], True
    expected = feed(a.skus, sku_of, 1)
    write_feed(feeds, expected, 1)
    beed = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
    with Measure(beed, medusa) as m:
        bb.wait_for_socket(beed, sock, timeout=60)
        run = wait_run_end(beed, sock, 1, a.run_timeout)
    rows.append(m.row("first sync (cold map)", run["pushed"], run))
    ok &= check_stock(medusa, location, expected)

    def timed(label, verb, rows_now, seq):
        write_feed(feeds, rows_now, seq)
        with Measure(beed, medusa) as mm:
            subprocess.run([beectl, "--socket", sock, verb, CONNECTION, "--wait"],
                           stdout=subprocess.DEVNULL, timeout=a.run_timeout)
        r = bb.request_once(sock, "history", {"connection": CONNECTION, "limit": 1})["runs"][0]
        rows.append(mm.row(label, r["pushed"], r))
        return check_stock(medusa, location, rows_now)

    expected = feed(a.skus, sku_of, 2)
    ok &= timed("warm Full Sync", "full-sync", expected, 2)
    changed = set(range(0, a.skus, max(1, round(1 / a.changed))))
    expected = {s: (q + 1 if i in changed else q)
                for i, (s, q) in enumerate(expected.items())}
    ok &= timed("Smart Sync, %g%% changed" % (a.changed * 100), "sync", expected, 3)
    beed.stop()
    print(bb.table(["run", "SKUs pushed", "wall", "SKUs/min", "batch writes / min", "GETs",
                    "beed CPU", "beed peak RSS", "Medusa CPU", "PostgreSQL CPU",
                    "Medusa busy (sum of request times)", "result"], rows))
    print("load average at the end: %s" % (bb.loadavg(),))
    medusa.stop()
    bb.untrack(medusa)
    ws.cleanup()
    return 0 if ok else 3


if __name__ == "__main__":
    bb.run_main(main)
