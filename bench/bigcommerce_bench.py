#!/usr/bin/env python3
"""BigCommerce store connector benchmark: 100,000 SKUs through beed into the BigCommerce
Inventory API emulator (tests/emulators/bigcommerce), at a real plan's request quota.

    python3 bench/bigcommerce_bench.py --build-dir build-bench [--skus 100000] [--quota 450]

Phase 1: beed's first automatic run, a Full Sync with a cold SKU map (the catalogue walk,
GET /v3/inventory/items 1,000 a page, then the adjustments). Phase 2: every quantity changed,
`beectl full-sync --wait` timed (warm map). Phase 3: 1 % of the SKUs changed, `beectl sync
--wait` timed. For each: wall time, adjustment requests against the minimum ceil(N / 2000), GETs,
requests refused for rate (429), beed CPU and peak RSS (VmHWM, reset before each phase), and the
emulator's quantities compared with the feed SKU by SKU. The default quota is BigCommerce's Pro
plan (450 requests per 30 s window); --quota 150 is Standard/Plus.
"""

import argparse
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beedbench as bb  # noqa: E402
import store_bench as sb  # noqa: E402

BC_SERVER = os.path.join(sb.EMULATORS, "bigcommerce", "bc_emulator.py")
TOKEN = "bc_bench_token_0123456789"
PER_REQUEST = 2000
PER_PAGE = 1000


def sku_of(i):
    return "SKU-%06d" % i


class BcEmulator(sb.Emulator):
    def __init__(self, workdir, tls, args):
        super().__init__("bigcommerce", workdir, tls, args)
        self.proc.cmd[:2] = [sys.executable, BC_SERVER]

    def levels(self):
        return {i["sku"]: i["levels"]["1"] for i in self.control("GET", "/_emulator/state")["items"]}


def measure(bench, emu, action):
    """Runs `action()` (returns the wall time and beectl's exit code); the figures around it."""
    pid = bench.beed.pid
    bb.reset_peak_rss(pid)
    log0 = emu.log_size()
    cpu0 = bb.proc_cpu_seconds(pid)
    wall, code = action()
    cpu1 = bb.proc_cpu_seconds(pid)
    entries = emu.read_log(log0, emu.log_size())
    return {"wall": wall, "exit": code, "cpu": cpu1 - cpu0,
            "hwm_mb": bb.proc_status_kb(pid, "VmHWM") / 1024.0,
            "puts": [e for e in entries if e["method"] == "PUT" and e.get("status") == 200],
            "gets": [e for e in entries if e["method"] == "GET" and e.get("status") == 200],
            "limited": [e for e in entries if e.get("status") == 429],
            "all": entries, "run": sb.run_record(bench.sock)}


def beectl(a, bench, *args):
    t0 = time.monotonic()
    p = subprocess.run([a.beectl, "--socket", bench.sock, *args, sb.CONNECTION, "--wait"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=a.run_timeout)
    return time.monotonic() - t0, p.returncode


def report(label, r, n_pushed, expected, emu, failures):
    minimum = math.ceil(n_pushed / PER_REQUEST)
    mismatches, first = sb.compare_stock(emu.levels(), expected)
    span = r["all"][-1]["t"] - r["all"][0]["t"] if r["all"] else 0.0
    print(f"\n{label}")
    print(f"  wall time                          {r['wall']:.2f} s (requests span {span:.2f} s)")
    print(f"  run                                {r['run']['result']}, pushed {r['run']['pushed']:,}")
    print(f"  adjustments / minimum ceil(N/2000) {len(r['puts'])} / {minimum}")
    print(f"  GET inventory/items (walk, lookups) {len(r['gets'])}")
    print(f"  requests refused for rate (429)    {len(r['limited'])}")
    print(f"  beed CPU / peak RSS (VmHWM)        {r['cpu']:.2f} s / {r['hwm_mb']:.0f} MB")
    print(f"  store = feed                       {mismatches} mismatches {first if mismatches else ''}")
    if r["run"]["result"] != "ok" or mismatches or len(r["puts"]) != minimum:
        failures.append(f"{label}: result {r['run']['result']}, {mismatches} mismatches, "
                        f"{len(r['puts'])} adjustments for a minimum of {minimum}")


def bench_bigcommerce(a, ws):
    failures = []
    bench = sb.Bench(a, ws, "bigcommerce")
    emu = BcEmulator(bench.root, bench.tls, ["--generate", str(a.skus), "--token", TOKEN,
                                             "--quota", str(a.quota), "--window-ms",
                                             str(a.window_ms)]).start()
    token = sb.write_secret(bench.root, "bc-token", TOKEN)
    store = ("{type: bigcommerce, store_hash: abc123, access_token_file: %s, endpoint: "
             "\"https://127.0.0.1:%d\", ca_file: %s}" % (token, emu.port, bench.tls["ca"]))
    config = sb.write_config(bench.root, store)
    print(f"emulator: {a.skus:,} items, quota {a.quota} requests per {a.window_ms} ms")

    expected = sb.write_feed(bench.feeds, a.skus, 1, sku_of)

    log0 = emu.log_size()
    t0 = time.monotonic()
    bench.start_beed(config)
    sb.wait_run_end(bench.beed, bench.sock, 1, a.run_timeout)
    wall = time.monotonic() - t0
    pid = bench.beed.pid
    entries = emu.read_log(log0, emu.log_size())
    r1 = {"wall": wall, "exit": 0, "cpu": bb.proc_cpu_seconds(pid),
          "hwm_mb": bb.proc_status_kb(pid, "VmHWM") / 1024.0,
          "puts": [e for e in entries if e["method"] == "PUT" and e.get("status") == 200],
          "gets": [e for e in entries if e["method"] == "GET" and e.get("status") == 200],
          "limited": [e for e in entries if e.get("status") == 429],
          "all": entries, "run": sb.run_record(bench.sock, 1)}
    report("phase 1: first run, Full Sync with a cold map (beed start to run end)", r1, a.skus,
           expected, emu, failures)

    expected = sb.write_feed(bench.feeds, a.skus, 2, sku_of)
    r2 = measure(bench, emu, lambda: beectl(a, bench, "full-sync"))
    report("phase 2: Full Sync, every quantity changed, warm map", r2, a.skus, expected, emu,
           failures)

    # Phase 3: 1 % changed (every 100th SKU).
    changed = max(1, a.skus // 100)
    name = "inv_%04d.csv" % 3
    rows = ["sku,quantity\n"]
    for i in range(1, a.skus + 1):
        q = expected[sku_of(i)] + (1 if i % 100 == 0 else 0)
        expected[sku_of(i)] = q
        rows.append(f"{sku_of(i)},{q}\n")
    tmp = os.path.join(bench.feeds, "." + name)
    with open(tmp, "w") as f:
        f.write("".join(rows))
    os.replace(tmp, os.path.join(bench.feeds, name))
    for old in os.listdir(bench.feeds):
        if old.startswith("inv_") and old != name:
            os.unlink(os.path.join(bench.feeds, old))
    r3 = measure(bench, emu, lambda: beectl(a, bench, "sync"))
    report(f"phase 3: Smart Sync, 1 % changed ({changed:,} SKUs)", r3, changed, expected, emu,
           failures)
    bench.stop()
    emu.stop()
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skus", type=int, default=100_000)
    ap.add_argument("--quota", type=int, default=450, help="requests per window (Pro: 450)")
    ap.add_argument("--window-ms", type=int, default=30_000)
    ap.add_argument("--run-timeout", type=float, default=3600.0)
    bb.add_common_args(ap)
    a = ap.parse_args()
    try:
        a.beed = bb.find_binary(a.build_dir, "beed")
        a.beectl = bb.find_binary(a.build_dir, "beectl")
    except bb.SetupError as e:
        print(f"bigcommerce_bench: {e}", file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-bc-bench-", keep=a.keep, path=a.dir)
    try:
        print(f"bigcommerce_bench: {a.skus:,} SKUs in {ws.path}; beed {a.beed}; "
              f"load average {bb.loadavg()}")
        failures = bench_bigcommerce(a, ws)
        print(f"\nload average at the end: {bb.loadavg()}")
        if failures:
            print("\nNOT CLEAN:", *failures, sep="\n  ", file=sys.stderr)
            return 3
        print("clean: every run ok, the minimum number of adjustments, store = feed")
        return 0
    except (bb.SetupError, bb.ProtocolError, OSError, subprocess.SubprocessError) as e:
        print(f"bigcommerce_bench: broken setup: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        bb.stop_all()
        ws.cleanup()


if __name__ == "__main__":
    bb.run_main(main)
