#!/usr/bin/env python3
"""The Magento (MSI) store connector against tests/emulators/magento (a benchmark: it prints
figures; not a test).

  python3 bench/magento_bench.py [--skus 100000] [--changed 0.01] [--latency-ms 0]
                                 [--input-limit 0] [--build-dir DIR]

One emulator with --skus simple products, a CSV warehouse folder (the newest inv_*.csv is the
feed) and one beed with one `type: magento` connection. Measured:
  1. the first sync: beed's first automatic run, a Full Sync with a cold SKU -> product map (the
     catalogue walk, 300 products a page, then every quantity);
  2. a warm Full Sync: every quantity changed, `beectl full-sync --wait` timed;
  3. a Smart Sync with --changed of the SKUs changed, `beectl sync --wait` timed.
For each: wall time, source-items calls against the minimum ceil(changed / per call), beed's CPU
seconds and peak RSS (/proc/PID/status VmHWM, reset before the run when the kernel allows). After
each run the emulator's source items are compared with the feed SKU by SKU, and orphan source
items (SKUs of no product) are counted: a mismatch or an orphan makes the exit status 3.
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

EMULATORS = os.path.join(bb.REPO, "tests", "emulators")
sys.path.insert(0, EMULATORS)
import emulator_testlib as et  # noqa: E402

EMULATOR = os.path.join(EMULATORS, "magento", "magento_emulator.py")
CONNECTION = "shop"
TOKEN = "bench-magento-token-0123456789abcdef"
PER_CALL = 200  # the connector's items a call without input limits


def sku_of(i):
    return "SKU-%06d" % i


def write_feed(folder, quantities, generation):
    name = f"inv_{generation:04d}.csv"
    tmp = os.path.join(folder, ".tmp-" + name)
    with open(tmp, "w") as f:
        f.write("sku,quantity\n")
        f.write("".join(f"{s},{q}\n" for s, q in quantities.items()))
    os.replace(tmp, os.path.join(folder, name))
    for old in os.listdir(folder):
        if old.startswith("inv_") and old != name:
            os.unlink(os.path.join(folder, old))


class Emulator:
    def __init__(self, workdir, tls, args):
        self.log_path = os.path.join(workdir, "magento-requests.jsonl")
        cmd = [sys.executable, EMULATOR, "--cert", tls["server"], "--key", tls["server.key"],
               "--token", TOKEN, "--request-log", self.log_path] + args
        self.proc = et.Emulator(cmd, workdir, name="magento").start(timeout=300)
        self.port = self.proc.port
        self.ctx = et.client_context(tls["ca"])

    def stop(self):
        self.proc.stop()

    def control(self, method, path, body=None):
        r = et.request(self.port, method, path, body, context=self.ctx, timeout=300)
        if r.status != 200:
            raise bb.SetupError(f"emulator {path}: {r}")
        return r.json()

    def log_lines(self):
        with open(self.log_path) as f:
            return sum(1 for _ in f)

    def entries(self, start):
        return et.read_jsonl(self.log_path)[start:]


def run_record(sock, run_id=None):
    runs = bb.request_once(sock, "history", {"connection": CONNECTION, "limit": 5})["runs"]
    for r in runs:
        if run_id is None or r["id"] == run_id:
            return r
    return None


def check(emu, expected):
    state = emu.control("GET", "/_emulator/state")
    stock = {i["sku"]: int(i["quantity"]) for i in state["source_items"]}
    bad = sum(1 for s, q in expected.items() if stock.get(s) != q)
    return bad, len(state["orphans"])


def figures(label, wall, run, entries, changed, cpu, hwm_mb, peak_reset, per_call):
    posts = [e for e in entries if e["method"] == "POST"]
    ok_posts = [e for e in posts if e.get("status") == 200]
    gets = [e for e in entries if e["method"] == "GET" and e["path"].endswith("/products")]
    minimum = math.ceil(changed / per_call) if changed else 0
    print(f"{label}:")
    print(f"  wall {wall:,.2f} s; run {run and run['result']}, pushed {run and run['pushed']:,}")
    print(f"  source-items calls {len(posts):,} ({len(ok_posts):,} taken; minimum {minimum:,} at "
          f"{per_call} a call); product pages {len(gets):,}")
    print(f"  beed CPU {cpu:,.2f} s; peak RSS {hwm_mb:,.1f} MB"
          f"{'' if peak_reset else ' (since start: VmHWM could not be reset)'}")
    if wall > 0 and changed:
        print(f"  {changed / wall * 60:,.0f} SKUs/min")


def measured(bench, emu, beed, command, expected, changed, label, per_call):
    pid = beed.pid
    peak_reset = bb.reset_peak_rss(pid)
    cpu0 = bb.proc_cpu_seconds(pid)
    log0 = emu.log_lines()
    t0 = time.monotonic()
    p = subprocess.run([bench.beectl, "--socket", bench.sock, command, CONNECTION, "--wait"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3600)
    wall = time.monotonic() - t0
    cpu = bb.proc_cpu_seconds(pid) - cpu0
    run = run_record(bench.sock)
    figures(label, wall, run, emu.entries(log0), changed, cpu,
            bb.proc_status_kb(pid, "VmHWM") / 1024.0, peak_reset, per_call)
    bad, orphans = check(emu, expected)
    print(f"  stock mismatches {bad:,}; orphan source items {orphans:,}")
    return p.returncode == 0 and bad == 0 and orphans == 0 and run and run["result"] == "ok"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    bb.add_common_args(ap)
    ap.add_argument("--skus", type=int, default=100_000)
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--input-limit", type=int, default=0)
    a = ap.parse_args()
    a.beed = bb.find_binary(a.build_dir, "beed")
    a.beectl = bb.find_binary(a.build_dir, "beectl")
    ws = bb.Workspace("pb-magento-bench-", keep=a.keep, path=a.dir)
    emu = beed = None
    try:
        root = ws.path
        feeds = os.path.join(root, "feeds")
        os.makedirs(feeds)
        tls = et.make_ca(os.path.join(root, "tls"))
        args = ["--generate", str(a.skus), "--latency-ms", str(a.latency_ms),
                "--input-limit", str(a.input_limit)]
        emu = Emulator(root, tls, args)
        per_call = min(PER_CALL, a.input_limit) if a.input_limit else PER_CALL
        token = os.path.join(root, "token")
        with open(token, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token, 0o600)
        a.sock = os.path.join(root, "beed.sock")
        config = os.path.join(root, "packagebee.yaml")
        with open(config, "w") as f:
            f.write("daemon: {socket: beed.sock, state_dir: state, log_level: info}\n"
                    "connections:\n"
                    f"  {CONNECTION}:\n"
                    "    warehouse: {type: csv, path: feeds, pattern: \"inv_*.csv\"}\n"
                    f"    store: {{type: magento, url: \"https://127.0.0.1:{emu.port}\", "
                    f"access_token_file: token, ca_file: {tls['ca']}}}\n"
                    "    inventory: {schedule: 60m}\n")
        expected = {sku_of(i): (i * 7919 + 1) % 500 for i in range(1, a.skus + 1)}
        write_feed(feeds, expected, 1)
        print(f"Magento bench: {a.skus:,} SKUs, latency {a.latency_ms} ms, "
              f"input limit {a.input_limit or 'off'}")
        t0 = time.monotonic()
        beed = bb.Beed(a.beed, config, os.path.join(root, "beed.log")).start()
        bb.wait_for_socket(beed, a.sock, timeout=60)
        while True:
            beed.check_alive()
            run = run_record(a.sock, 1)
            if run and run["result"] != "running":
                break
            time.sleep(0.1)
        wall = time.monotonic() - t0
        figures("1. first sync (cold map: walk + every SKU)", wall, run, emu.entries(0), a.skus,
                bb.proc_cpu_seconds(beed.pid), bb.proc_status_kb(beed.pid, "VmHWM") / 1024.0,
                False, per_call)
        bad, orphans = check(emu, expected)
        print(f"  stock mismatches {bad:,}; orphan source items {orphans:,}")
        clean = bad == 0 and orphans == 0 and run["result"] == "ok"

        expected = {s: (q + 1) % 500 for s, q in expected.items()}
        write_feed(feeds, expected, 2)
        clean &= bool(measured(a, emu, beed, "full-sync", expected, a.skus,
                               "2. warm Full Sync (every quantity changed)", per_call))
        step = max(1, int(1 / a.changed)) if a.changed > 0 else a.skus + 1
        changed = 0
        for i in range(1, a.skus + 1, step):
            expected[sku_of(i)] = (expected[sku_of(i)] + 3) % 500
            changed += 1
        write_feed(feeds, expected, 3)
        clean &= bool(measured(a, emu, beed, "sync", expected, changed,
                               f"3. Smart Sync ({changed:,} SKUs changed)", per_call))
        return 0 if clean else 3
    except bb.SetupError as e:
        print(f"setup failed: {e}", file=sys.stderr)
        return 1
    finally:
        if beed:
            beed.stop()
        if emu:
            emu.stop()
        ws.cleanup()


if __name__ == "__main__":
    sys.exit(main())
