#!/usr/bin/env python3
"""beed as a whole process: Smart Sync timings of a large CSV feed into the CSV store, beed's
memory over a long sequence, and a do-it-yourself baseline (a benchmark: it prints figures).

  python3 bench/whole_process.py [--build-dir build] [--skus 1000000] [--runs 5]
                                 [--rates 0.1,1,10,0] [--smart 20] [--full 5] [--reloads 100]

1. Memory. A probe beed whose feed is not there yet gives beed's size before any sync. Then one
   beed (`schedule: 1d`, `automatic: full`) runs the sequence: its first (automatic) Full Sync of
   --skus SKUs, --smart Smart Syncs (`beectl sync big --wait`, alternating two feeds that differ
   in 1% of their quantities), --full Full Syncs (`beectl full-sync big --wait`), --reloads
   configuration reloads (each changes the connection's schedule, so each swaps something), and
   a rest of --rest seconds. After each stage: VmHWM, VmRSS, RssAnon and RssFile from
   /proc/PID/status. RssFile is mostly LMDB's map (page cache the kernel can drop); RssAnon is
   beed's own heap, stacks and glibc arenas.
2. Time. For each change rate of --rates (percent of the SKUs whose quantity differs between
   the two alternated feeds), --runs timed `beectl sync big --wait` (beectl's start to its exit)
   after one untimed run, in the same beed; the median, min and max, the run's own duration,
   and the SKUs changed and pushed.
3. The baseline. bench/diy_sync.py (Python csv + sqlite3, the same job the obvious way: compare
   with what was applied last, store the changes, rewrite the store's CSV file) timed the same
   way on the same feeds, as a whole process; then the ratio of the medians.

A feed is renamed into place before each run, so beed never reads half a file.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import beedbench as bb  # noqa: E402

STATUS_KEYS = ("VmHWM", "VmRSS", "RssAnon", "RssFile")


def quantity(i, variant, every):
    """Variant 1 differs from variant 0 in the SKUs i with i % every == 0 (none when every is 0)."""
    q = (i * 7919) % 500
    if variant and every and i % every == 0:
        q = (q + 1) % 500
    return q


def write_feed(path, skus, variant, every):
    with open(path, "w") as f:
        f.write("sku,quantity\n")
        step = 100_000
        for start in range(0, skus, step):
            f.write("".join(f"SKU-{i:07d},{quantity(i, variant, every)}\n"
                            for i in range(start, min(skus, start + step))))


class Feeds:
    """Two variants of the feed per change rate, generated once and copied into place."""

    def __init__(self, root, skus):
        self.root, self.skus, self.made = root, skus, {}
        os.makedirs(root, exist_ok=True)

    def every(self, rate_pct):
        return 0 if rate_pct <= 0 else max(1, round(100.0 / rate_pct))

    def path(self, rate_pct, variant):
        every = self.every(rate_pct)
        if every == 0:
            variant = 0
        key = (every, variant)
        if key not in self.made:
            p = os.path.join(self.root, "feed-%d-%d.csv" % key)
            write_feed(p, self.skus, variant, every)
            self.made[key] = p
        return self.made[key]

    def expected_changes(self, rate_pct):
        every = self.every(rate_pct)
        return 0 if every == 0 else len(range(0, self.skus, every))


def put_feed(src, dest):
    tmp = dest + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def write_config(root, schedule="1d", feed_dir="feeds"):
    os.makedirs(os.path.join(root, feed_dir), exist_ok=True)
    os.makedirs(os.path.join(root, "out"), exist_ok=True)
    config = os.path.join(root, "packagebee.yaml")
    with open(config + ".tmp", "w") as f:
        f.write("daemon: {socket: beed.sock, state_dir: state, log_level: warning}\n"
                "connections:\n"
                "  big:\n"
                "    warehouse: {type: csv, path: %s/big.csv}\n"
                "    store: {type: csv, path: out/big.csv}\n"
                "    inventory: {schedule: %s, automatic: full}\n" % (feed_dir, schedule))
    os.replace(config + ".tmp", config)
    return config


def status_mb(pid):
    return {k: bb.proc_status_kb(pid, k) / 1024.0 for k in STATUS_KEYS}


def beectl(beectl_bin, sock, *args):
    env = dict(os.environ, BEECTL_SOCKET=sock)
    t0 = time.monotonic()
    p = subprocess.run([beectl_bin, "--json", *args, "big", "--wait"], capture_output=True,
                       text=True, env=env, timeout=1800)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise bb.SetupError("beectl %s failed: %s %s" % (" ".join(args), p.stdout, p.stderr))
    return wall, json.loads(p.stdout)


def wait_first_run(sock, timeout=1800):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = bb.request_once(sock, "status")["connections"][0].get("last_sync")
        if last and last["id"] >= 1 and last["result"] != "running":
            if last["result"] != "ok":
                raise bb.SetupError("the first Full Sync ended %r" % last)
            return last
        time.sleep(0.02)
    raise bb.SetupError("the first Full Sync did not end within %d s" % timeout)


def probe_baseline(beed_bin, root):
    """beed's size at rest before any sync: a beed whose feed is missing (its first run fails)."""
    config = write_config(root, feed_dir="nofeed")
    sock = os.path.join(root, "beed.sock")
    beed = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
    try:
        bb.wait_for_socket(beed, sock)
        time.sleep(1.0)
        return status_mb(beed.pid)
    finally:
        beed.stop()


def memory_sequence(args, beed, sock, beectl_bin, feeds, feed_path, config_root):
    stages = []

    def stage(label, t):
        stages.append([label, "%.1f" % t] + ["%.1f" % v for v in status_mb(beed.pid).values()])

    t0 = time.monotonic()
    wait_first_run(sock)
    stage("first Full Sync (automatic)", time.monotonic() - t0)
    t0 = time.monotonic()
    for n in range(args.smart):
        put_feed(feeds.path(1.0, (n + 1) % 2), feed_path)
        beectl(beectl_bin, sock, "sync")
    stage("+ %d Smart Syncs (1%% changed)" % args.smart, time.monotonic() - t0)
    t0 = time.monotonic()
    for n in range(args.full):
        put_feed(feeds.path(1.0, (args.smart + n + 1) % 2), feed_path)
        beectl(beectl_bin, sock, "full-sync")
    stage("+ %d Full Syncs" % args.full, time.monotonic() - t0)
    t0 = time.monotonic()
    for n in range(args.reloads):
        write_config(config_root, schedule="1d" if n % 2 else "23h")
        bb.request_once(sock, "reload")
    stage("+ %d reloads" % args.reloads, time.monotonic() - t0)
    time.sleep(args.rest)
    stage("at rest (%.0f s later)" % args.rest, args.rest)
    return stages


def timed_rates(args, beed, sock, beectl_bin, feeds, feed_path):
    rows, medians = [], {}
    variant = 0
    for rate in args.rates:
        expected = feeds.expected_changes(rate)
        walls = []
        for n in range(args.runs + 1):
            variant ^= 1
            put_feed(feeds.path(rate, variant), feed_path)
            wall, run = beectl(beectl_bin, sock, "sync")
            if run["result"] != "ok" or (n > 0 and run["changed"] != expected):
                raise bb.SetupError("rate %s%%: run %r (expected %d changed)" % (rate, run, expected))
            if n > 0:
                walls.append((wall, run))
        ws = sorted(w for w, _ in walls)
        med = statistics.median(ws)
        medians[rate] = med
        last = walls[-1][1]
        rows.append(["%g%%" % rate, f"{last['read']:,}", f"{last['changed']:,}",
                     f"{last['pushed']:,}", "%.3f" % med, "%.3f" % ws[0], "%.3f" % ws[-1],
                     "%.3f" % statistics.median(r["duration_ms"] / 1000.0 for _, r in walls)])
    return rows, medians


def timed_diy(args, root, feeds):
    """The baseline on the same feeds: its first run applies everything (untimed), then per rate
    the same alternation, one whole `python3 diy_sync.py` process per run."""
    script = os.path.join(HERE, "diy_sync.py")
    os.makedirs(os.path.join(root, "out"), exist_ok=True)
    feed_path = os.path.join(root, "big.csv")
    state, store = os.path.join(root, "diy.sqlite"), os.path.join(root, "out", "big.csv")

    def run():
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, script, feed_path, state, store],
                           capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise bb.SetupError("diy_sync.py failed: %s" % p.stderr)
        return time.monotonic() - t0, p.stdout.strip()

    put_feed(feeds.path(1.0, 0), feed_path)
    first, _ = run()
    rows, medians, variant = [], {}, 0
    for rate in args.rates:
        walls = []
        for n in range(args.diy_runs + 1):
            variant ^= 1
            put_feed(feeds.path(rate, variant), feed_path)
            wall, out = run()
            if n > 0:
                walls.append(wall)
        walls.sort()
        medians[rate] = statistics.median(walls)
        rows.append(["%g%%" % rate, out, "%.3f" % medians[rate], "%.3f" % walls[0],
                     "%.3f" % walls[-1]])
    return first, rows, medians


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bb.add_common_args(parser)
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per change rate")
    parser.add_argument("--diy-runs", type=int, default=3, help="timed baseline runs per rate")
    parser.add_argument("--rates", default="0.1,1,10,0",
                        help="comma-separated percentages of SKUs changed between runs")
    parser.add_argument("--smart", type=int, default=20)
    parser.add_argument("--full", type=int, default=5)
    parser.add_argument("--reloads", type=int, default=100)
    parser.add_argument("--rest", type=float, default=5.0, help="seconds of rest at the end")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-diy", action="store_true")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    return args


def main():
    args = parse_args()
    try:
        beed_bin = bb.find_binary(args.build_dir, "beed")
        beectl_bin = bb.find_binary(args.build_dir, "beectl")
    except bb.SetupError as e:
        print("setup error: %s" % e, file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-bench-whole-", keep=args.keep, path=args.dir)
    try:
        print("%s SKUs; beed %s; load %s" % (f"{args.skus:,}", beed_bin, bb.loadavg()))
        feeds = Feeds(os.path.join(ws.path, "variants"), args.skus)
        before = probe_baseline(beed_bin, os.path.join(ws.path, "probe"))
        root = os.path.join(ws.path, "beed")
        config = write_config(root)
        feed_path = os.path.join(root, "feeds", "big.csv")
        put_feed(feeds.path(1.0, 0), feed_path)
        sock = os.path.join(root, "beed.sock")
        beed = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
        bb.wait_for_socket(beed, sock)
        headers = ["stage", "stage s"] + ["%s MB" % k for k in STATUS_KEYS]
        if not args.skip_memory:
            stages = memory_sequence(args, beed, sock, beectl_bin, feeds, feed_path, root)
            stages.insert(0, ["before the first sync (probe beed)", "-"]
                          + ["%.1f" % v for v in before.values()])
            print("\n" + bb.table(headers, stages, ["l"] + ["r"] * 5))
            rest = bb.proc_status_kb(beed.pid, "VmRSS") / 1024.0
            print("\nVmHWM over the sequence: %.1f MB (target <= 150); VmRSS at rest %.1f MB, "
                  "%.1f MB above the probe's %.1f MB (target <= 60)"
                  % (bb.proc_status_kb(beed.pid, "VmHWM") / 1024.0, rest, rest - before["VmRSS"],
                     before["VmRSS"]))
        else:
            wait_first_run(sock)
        rows, medians = timed_rates(args, beed, sock, beectl_bin, feeds, feed_path)
        print("\n`beectl sync big --wait`, %d runs per rate after one untimed:" % args.runs)
        print(bb.table(["changed", "read", "changed", "pushed", "median s", "min s", "max s",
                        "run's duration_ms s"], rows))
        beed.stop()
        if not args.skip_diy:
            first, diy_rows, diy_medians = timed_diy(args, os.path.join(ws.path, "diy"), feeds)
            print("\nbench/diy_sync.py (first run, everything applied: %.2f s), %d runs per rate:"
                  % (first, args.diy_runs))
            print(bb.table(["changed", "output", "median s", "min s", "max s"], diy_rows,
                           ["l", "l", "r", "r", "r"]))
            print("\nratio (DIY median / beed median):")
            print(bb.table(["changed", "beed s", "DIY s", "ratio"],
                           [["%g%%" % r, "%.3f" % medians[r], "%.3f" % diy_medians[r],
                             "%.1fx" % (diy_medians[r] / medians[r])] for r in args.rates]))
        return 0
    except (bb.SetupError, bb.ProtocolError, OSError) as e:
        print("setup error: %s" % e, file=sys.stderr)
        return 1
    finally:
        ws.cleanup()


if __name__ == "__main__":
    bb.run_main(main)
