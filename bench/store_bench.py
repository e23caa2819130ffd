#!/usr/bin/env python3
"""Store connectors against the platform emulators: a Full Sync of --skus SKUs into Shopify and
WooCommerce (a benchmark: it prints figures; not a test).

  python3 bench/store_bench.py [--store shopify|woocommerce|both] [--skus 100000] [--build-dir DIR]

Each store gets a fresh emulator from tests/emulators (HTTPS with a throwaway test CA, a
JSON-lines request log), a catalogue of --skus generated items, a CSV warehouse folder
(`inv_*.csv`, the newest file is the feed) and one beed with one connection. beed's first
automatic run is a Full Sync that starts at once: phase 1, the one-time SKU -> id catalogue walk
plus a first push. Phase 2 is measured: a new feed with every quantity changed is dropped in and
`beectl full-sync NAME --wait` is timed, a Full Sync of every SKU with a warm id cache.

Shopify (GraphQL Admin API, the Standard plan: a bucket of 2,000 cost points refilled at 100/s).
Phase 1 reads the catalogue with a bulk operation (--walk bulk, the default) or, with --walk
pages, with the paged walk (inventoryItems { id sku }, 250 a page, 252 points a page; 502 when it
paged productVariants): ~N/250 x 252 / 100 s at Standard rates (~1,000 s for 100,000 SKUs), so
the paged phase 1 runs with the emulator's restore rate raised (--walk-restore-rate, default
100,000/s; 100 measures it at Standard rates) and the figures say what it would have taken.
Before phase 2 the bucket is set to Standard (maximumAvailable 2000, restoreRate 100) and
refilled. Figures from the emulator's request log: inventorySetQuantities calls (exactly
ceil(N/250) for a clean run), THROTTLED answers, total actual cost; the lower bound the rate
limit allows, (total cost - 2,000) / 100 s, and wall / bound (target <= 1.10); SKUs/min (target
>= 200,000/min, 5x a published 40,000/min).

WooCommerce (REST v3). Phase 1 (walk: products 100 a page) runs without server latency
(--walk-latency-ms, default 0), phase 2 with --latency-ms (default 50) on every request: batch
requests (exactly ceil(N/100)), and the latency bound ceil(N/100) x latency / concurrency, at
each of --woo-concurrency (default 4,1,8; changed with `beectl reload`): beed's and the
emulator's CPU show what bounds the run. The emulator logs when it answered each request ("t"),
from which a second table
says how many batches were at the server at once and how long nothing was; the TCP connections
open to the emulator are sampled from /proc/net/tcp.

After each measured run the emulator's stock is compared with the feed, SKU by SKU; mismatches
are counted and printed, so a wrong result cannot pass silently. Exit status: 0 when figures were
printed (targets met or not) and every stock matched, 3 on a mismatch or an unclean run, 1 on a
broken setup.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beedbench as bb  # noqa: E402

EMULATORS = os.path.join(bb.REPO, "tests", "emulators")
sys.path.insert(0, EMULATORS)
import emulator_testlib as et  # noqa: E402

SHOPIFY_SERVER = os.path.join(EMULATORS, "shopify", "server.js")
WOO_SERVER = os.path.join(EMULATORS, "woocommerce", "woo_emulator.py")

# Shopify: the Standard plan's bucket, the documented page and input caps.
STANDARD_BUCKET = 2000
STANDARD_RESTORE = 100
SHOPIFY_PER_CALL = 250
SHOPIFY_TOKEN = "shpat_store_bench_0123456789"
SHOPIFY_RATIO_TARGET = 1.10
SKUS_PER_MIN_TARGET = 200_000  # 5x a published 40,000 SKUs/min
# WooCommerce: 100 objects a batch request; the emulator's default key.
WOO_PER_BATCH = 100
WOO_KEY, WOO_SECRET = "ck_emulator", "cs_emulator"

CONNECTION = "bench"


# ----------------------------------------------------------------------------- emulators

class Emulator:
    """One emulator process (tests/emulators) with its request log; stopped at exit."""

    def __init__(self, kind, workdir, tls, args):
        self.kind = kind
        self.log_path = os.path.join(workdir, f"{kind}-requests.jsonl")
        if kind == "shopify":
            cmd = ["node", SHOPIFY_SERVER]
        else:
            cmd = [sys.executable, WOO_SERVER]
        cmd += ["--cert", tls["server"], "--key", tls["server.key"],
                "--request-log", self.log_path] + list(args)
        self.proc = et.Emulator(cmd, workdir, name=kind)
        self.context = et.client_context(tls["ca"])
        self.port = None
        self.start_s = None

    def start(self, timeout=300.0):
        bb.track(self)
        t0 = time.monotonic()
        try:
            self.proc.start(timeout=timeout)  # the port file appears once the catalogue is made
        except RuntimeError as e:
            raise bb.SetupError(str(e))
        self.start_s = time.monotonic() - t0
        self.port = self.proc.port
        return self

    @property
    def pid(self):
        return self.proc.proc.pid

    def stop(self):
        self.proc.stop()
        bb.untrack(self)

    def control(self, method, path, body=None, timeout=300.0):
        r = et.request(self.port, method, path, body=body, context=self.context, timeout=timeout)
        if r.status != 200:
            raise bb.SetupError(f"{self.kind} emulator {method} {path}: {r!r}")
        return r.json()

    def log_size(self):
        return os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0

    def read_log(self, start=0, end=None):
        """The request log's entries between two byte offsets (log_size() before and after)."""
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, "rb") as f:
            f.seek(start)
            data = f.read() if end is None else f.read(end - start)
        return [json.loads(line) for line in data.splitlines() if line.strip()]


def parse_ts(text):
    """The emulators' `ts` (ISO 8601, UTC; Shopify's with milliseconds) in seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class ConnectionSampler:
    """Samples, every `interval` s, how many TCP connections to 127.0.0.1:PORT are established
    (from /proc/net/tcp: the client side of each has the emulator's port as its remote port)."""

    def __init__(self, port, interval=0.02):
        self.port_hex = f"{port:04X}"
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self):
        n = 0
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(path) as f:
                    next(f)
                    for line in f:
                        parts = line.split()
                        # local_address rem_address st; st 01 = ESTABLISHED
                        if parts[3] == "01" and parts[2].endswith(":" + self.port_hex):
                            n += 1
            except OSError:
                pass
        return n

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.count())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------- beed side

def quantity(i, generation):
    """Quantity of item i in feed generation g: consecutive generations differ for every SKU."""
    return (i * 7919 + generation) % 500


def write_feed(folder, n, generation, sku_of):
    """Writes feeds/inv_GGGG.csv atomically (the warehouse reads the newest inv_*.csv) and
    removes the older ones; returns {sku: quantity}."""
    name = f"inv_{generation:04d}.csv"
    tmp = os.path.join(folder, f".tmp-{name}")
    expected = {}
    with open(tmp, "w") as f:
        f.write("sku,quantity\n")
        step = 50_000
        for start in range(1, n + 1, step):
            rows = []
            for i in range(start, min(n, start + step - 1) + 1):
                sku, q = sku_of(i), quantity(i, generation)
                expected[sku] = q
                rows.append(f"{sku},{q}\n")
            f.write("".join(rows))
    os.replace(tmp, os.path.join(folder, name))
    for old in os.listdir(folder):
        if old.startswith("inv_") and old != name:
            os.unlink(os.path.join(folder, old))
    return expected


def write_secret(directory, name, value):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def write_config(root, store_yaml):
    config = os.path.join(root, "packagebee.yaml")
    tmp = config + ".tmp"
    with open(tmp, "w") as f:
        f.write("daemon: {socket: beed.sock, state_dir: state, log_level: info, "
                "max_concurrent_syncs: 4}\n"
                "connections:\n"
                f"  {CONNECTION}:\n"
                "    warehouse: {type: csv, path: feeds, pattern: \"inv_*.csv\"}\n"
                f"    store: {store_yaml}\n"
                "    inventory: {schedule: 60m}\n")
    os.replace(tmp, config)
    return config


def run_record(sock, run_id=None):
    """The run `run_id` (default: the newest) from beed's history; None if not there yet."""
    runs = bb.request_once(sock, "history", {"connection": CONNECTION, "limit": 5})["runs"]
    if not runs:
        return None
    if run_id is None:
        return runs[0]
    for r in runs:
        if r["id"] == run_id:
            return r
    return None


def wait_run_end(beed, sock, run_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beed.check_alive()
        r = run_record(sock, run_id)
        if r and r["result"] != "running":
            return r
        time.sleep(0.1)
    raise bb.SetupError(f"run {run_id} did not end within {timeout:.0f} s")


class Bench:
    """A workspace with TLS material, a feeds folder, and (once started) one beed."""

    def __init__(self, args, ws, store_name):
        self.a = args
        self.root = os.path.join(ws.path, store_name)
        os.makedirs(os.path.join(self.root, "feeds"))
        self.feeds = os.path.join(self.root, "feeds")
        self.sock = os.path.join(self.root, "beed.sock")
        self.tls = et.make_ca(os.path.join(self.root, "tls"))
        self.beed = None
        self.generation = 0

    def start_beed(self, config):
        self.beed = bb.Beed(self.a.beed, config, os.path.join(self.root, "beed.log")).start()
        bb.wait_for_socket(self.beed, self.sock, timeout=60)
        return self.beed

    def stop(self):
        if self.beed:
            self.beed.stop()
            self.beed = None

    def beed_log(self):
        with open(os.path.join(self.root, "beed.log"), errors="replace") as f:
            return f.read()

    def full_sync(self, emu, sample_connections=False):
        """Times `beectl full-sync NAME --wait`; returns the figures of that run."""
        pid = self.beed.pid
        rss0 = bb.proc_status_kb(pid, "VmRSS") / 1024.0
        peak_reset = bb.reset_peak_rss(pid)
        log0 = emu.log_size()
        cpu0, ecpu0 = bb.proc_cpu_seconds(pid), bb.proc_cpu_seconds(emu.pid)
        sampler = ConnectionSampler(emu.port) if sample_connections else None
        if sampler:
            sampler.__enter__()
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.a.beectl, "--socket", self.sock, "full-sync", CONNECTION,
                                "--wait"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=self.a.run_timeout)
        finally:
            wall = time.monotonic() - t0
            if sampler:
                sampler.__exit__()
        cpu1, ecpu1 = bb.proc_cpu_seconds(pid), bb.proc_cpu_seconds(emu.pid)
        self.beed.check_alive()
        rec = run_record(self.sock)
        return {
            "wall": wall, "exit": p.returncode, "output": p.stdout.strip(), "run": rec,
            "cpu": cpu1 - cpu0, "emu_cpu": ecpu1 - ecpu0,
            "hwm_mb": bb.proc_status_kb(pid, "VmHWM") / 1024.0, "rss0_mb": rss0,
            "peak_reset": peak_reset,
            "log": emu.read_log(log0, emu.log_size()),
            "connections": sampler.peak if sampler else None,
        }


def compare_stock(actual, expected):
    """Mismatches between the store's stock and the feed: (count, first few)."""
    bad = []
    for sku, q in expected.items():
        got = actual.get(sku, "missing")
        if got != q:
            bad.append((sku, q, got))
    return len(bad), bad[:10]


def fmt_s(x):
    return f"{x:,.2f}"


def fmt_n(x):
    return f"{x:,}"


def check_run(label, r, n):
    """Problems that make a measured run unclean (printed, and the exit status says so)."""
    problems = []
    rec = r["run"]
    if r["exit"] != 0:
        problems.append(f"{label}: beectl exited {r['exit']}: {r['output'][-300:]}")
    if rec is None or rec["result"] != "ok":
        problems.append(f"{label}: run ended {rec and rec['result']}: {rec and rec['error']}")
    elif rec["pushed"] != n:
        problems.append(f"{label}: pushed {rec['pushed']:,} of {n:,}")
    return problems


# ----------------------------------------------------------------------------- Shopify

def shopify_sku(i):
    return "SKU-%05d" % i  # as the emulator's --generate names them


def set_calls(entries):
    return [e for e in entries if "inventorySetQuantities" in (e.get("root_fields") or [])]


def walk_pages(entries):
    """The paged walk's requests: inventoryItems pages (productVariants before them), not the
    SKU searches (those carry a search query)."""
    return [e for e in entries
            if {"inventoryItems", "productVariants"} & set(e.get("root_fields") or [])
            and not e.get("search_query")]


def shopify_push_figures(entries):
    calls = set_calls(entries)
    throttled = [e for e in calls if e.get("throttled")]
    ran = [e for e in calls if not e.get("throttled")]
    mutations = [m for e in ran for m in (e.get("mutations") or [])]
    outcomes = {}
    for m in mutations:
        outcomes[m.get("outcome")] = outcomes.get(m.get("outcome"), 0) + 1
    call_ids = {id(c) for c in calls}
    return {
        "calls": calls, "ran": ran, "throttled": len(throttled),
        "quantities": sum(len(m.get("quantities") or []) for m in mutations),
        "outcomes": outcomes,
        "cost": sum(e.get("actualQueryCost") or 0 for e in entries),
        "requested": sum(e.get("requestedQueryCost") or 0 for e in ran),
        "other": [e for e in entries if id(e) not in call_ids],
        "errors": [e for e in entries if e.get("status") != 200 or e.get("errors")],
    }


def pacing_figures(ran):
    """From the request log's timestamps (ms): the span of the calls, how long the full bucket
    carried them, and the gaps between consecutive calls after that. The bucket is replayed from
    the log (full at the first call, +100 points/s, minus each call's cost); it "runs dry" at the
    first call after which it holds less than one more call needs. From there on each call must
    wait for its cost to refill (a 10-point call: 100 ms), so the span after that point against
    the cost of the calls in it divided by 100/s shows any waiting beyond what the limit asks."""
    if len(ran) < 2:
        return None
    ts = [parse_ts(e["ts"]) for e in ran]
    available, dry = float(STANDARD_BUCKET), None
    for k, e in enumerate(ran):
        if k > 0:
            available = min(STANDARD_BUCKET, available + (ts[k] - ts[k - 1]) * STANDARD_RESTORE)
        available -= e.get("actualQueryCost") or 0
        if dry is None and available < (e.get("requestedQueryCost") or 0):
            dry = k
    after = range(dry + 1, len(ts)) if dry is not None else range(0)
    return {
        "span": ts[-1] - ts[0],
        "drained_at": dry,
        "burst_span": ts[dry] - ts[0] if dry is not None else None,
        "gaps": sorted((ts[k] - ts[k - 1]) * 1000 for k in after),
        "steady_span": ts[-1] - ts[dry] if dry is not None else 0.0,
        "steady_bound": sum(ran[k].get("actualQueryCost") or 0 for k in after) / STANDARD_RESTORE,
    }


def bench_shopify(a, ws):
    n = a.skus
    print(f"\n## Shopify: {n:,} SKUs, Standard plan ({STANDARD_BUCKET:,} points, "
          f"{STANDARD_RESTORE}/s)\n", flush=True)
    b = Bench(a, ws, "shopify")
    bulk = a.walk == "bulk"
    # The bulk walk costs a few points: phase 1 runs at Standard rates. The paged walk would take
    # half an hour there: it runs at the raised rate, the bulk operation denied.
    phase1_rate = STANDARD_RESTORE if bulk else a.walk_restore_rate
    emu = Emulator("shopify", b.root, b.tls,
                   ["--generate", str(n), "--token", SHOPIFY_TOKEN,
                    "--max-available", str(STANDARD_BUCKET),
                    "--restore-rate", str(phase1_rate),
                    "--bulk-base-ms", str(a.bulk_base_ms),
                    "--bulk-ms-per-object", str(a.bulk_ms_per_object)]).start()
    if not bulk:
        emu.control("POST", "/_emulator/faults", {"bulk_access_denied_next": 1})
    bulk_own_s = (a.bulk_base_ms + a.bulk_ms_per_object * n) / 1000
    failures = []
    try:
        print(f"emulator: {n:,} variants generated, listening after {emu.start_s:.1f} s "
              f"(restore rate {phase1_rate:,}/s for phase 1; {a.walk} walk"
              + (f", the bulk operation takes {bulk_own_s:.1f} s server-side" if bulk else "")
              + ")", flush=True)
        token = write_secret(b.root, "shopify-token", SHOPIFY_TOKEN)
        endpoint = f"https://127.0.0.1:{emu.port}/admin/api/2026-10/graphql.json"
        config = write_config(b.root, "{type: shopify, shop: acme, endpoint: " + endpoint +
                              f", access_token_file: {token}, location_id: 1, "
                              f"ca_file: {b.tls['ca']}}}")
        t0 = time.monotonic()
        write_feed(b.feeds, n, b.generation, shopify_sku)
        print(f"feed written in {time.monotonic() - t0:.1f} s", flush=True)

        # ---- phase 1: the first automatic Full Sync (catalogue walk + first push)
        log0 = emu.log_size()
        beed = b.start_beed(config)
        first = wait_run_end(beed, b.sock, 1, a.run_timeout)
        phase1_wall = time.monotonic() - beed.started_at
        entries = emu.read_log(log0, emu.log_size())
        pages = walk_pages(entries)
        walk_cost = sum(e.get("actualQueryCost") or 0 for e in pages)
        walk_requested = sum(e.get("requestedQueryCost") or 0 for e in pages)
        page_ids = {id(e) for e in pages}
        push1 = shopify_push_figures([e for e in entries if id(e) not in page_ids])
        m = re.search(r"Shopify catalogue walk done: ([\d,]+) (?:items|variants) in "
                      r"([\d,]+) pages, (\d+) cost points, ([\d.]+) s", b.beed_log())
        walk_s = float(m.group(4)) if m else None
        mb = re.search(r"Shopify catalogue read by bulk operation \S+: (\d+) objects, ([\d.]+) s",
                       b.beed_log())
        bulk_walk_s = float(mb.group(2)) if mb else None
        bulk_calls = [e for e in entries if {"bulkOperationRunQuery", "bulkOperation",
                                             "currentBulkOperation"} & set(e.get("root_fields") or [])]
        bulk_cost = sum(e.get("actualQueryCost") or 0 for e in bulk_calls)
        downloads = [e for e in entries if e.get("path", "").startswith("/_bulk_results/")]
        at_standard = walk_cost / STANDARD_RESTORE - STANDARD_BUCKET / STANDARD_RESTORE
        print(f"phase 1 (first automatic Full Sync, restore rate {phase1_rate:,}/s): "
              f"{first['result']}, {first['duration_ms'] / 1000:.2f} s", flush=True)
        if first["result"] != "ok":
            failures.append(f"phase 1: first run ended {first['result']}: {first['error']}")

        # ---- phase 2: Standard rates, every quantity changed, a timed Full Sync
        emu.control("POST", "/_emulator/config", {"maximumAvailable": STANDARD_BUCKET,
                                                   "restoreRate": STANDARD_RESTORE,
                                                   "refill": True})
        b.generation += 1
        expected = write_feed(b.feeds, n, b.generation, shopify_sku)
        time.sleep(0.1)
        r = b.full_sync(emu)
        failures += check_run("phase 2", r, n)
        f = shopify_push_figures(r["log"])
        pace = pacing_figures(f["ran"])
        state = emu.control("GET", "/_emulator/state")
        # levels are keyed by the location's id as the emulator holds it (a gid)
        actual = {v["sku"]: (v["levels"].get("gid://shopify/Location/1") or
                             v["levels"].get("1") or {}).get("available")
                  for v in state["variants"]}
        mismatches, examples = compare_stock(actual, expected)
    finally:
        b.stop()
        emu.stop()

    calls_expected = math.ceil(n / SHOPIFY_PER_CALL)
    # Nothing bounds a push that fits in the full bucket: then the figure is not given.
    bound = max(0.0, (f["cost"] - STANDARD_BUCKET) / STANDARD_RESTORE)
    ratio = r["wall"] / bound if bound > 0 else None
    rate = n / r["wall"]
    rec = r["run"]

    print(f"\nphase 1: the one-time catalogue walk ({a.walk}) and first push:\n")
    print(bb.table(["figure", "value"], [
        ["bulk: start/poll requests, their cost", f"{len(bulk_calls):,}, {bulk_cost:,} points"],
        ["bulk: result downloads (Range requests)", fmt_n(len(downloads))],
        ["bulk: server-side time configured in the emulator", f"{bulk_own_s:.1f} s"],
        ["bulk walk time, start to map complete (beed's log)",
         f"{bulk_walk_s:.1f} s" if bulk_walk_s is not None else "-"],
        ["walk pages", fmt_n(len(pages))],
        ["walk points a page, requested (the emulator's cost model)",
         f"{walk_requested / len(pages):,.0f}" if pages else "-"],
        ["walk cost, actual (requested) points", f"{walk_cost:,} ({walk_requested:,})"],
        [f"walk time at phase 1's restore rate, {phase1_rate:,}/s (beed's log)",
         f"{walk_s:.1f} s" if walk_s is not None else "-"],
        ["walk time at Standard rates: cost / 100 - 2,000 / 100",
         f"{at_standard:,.0f} s ({at_standard / 60:.1f} min)" if pages else "-"],
        ["first push: inventorySetQuantities calls / THROTTLED", f"{len(push1['ran']):,} / "
                                                                 f"{push1['throttled']:,}"],
        ["first run: read / pushed / duration",
         f"{first['read']:,} / {first['pushed']:,} / {first['duration_ms'] / 1000:.2f} s"],
        ["beed start to the end of run 1", f"{phase1_wall:.1f} s"],
    ], align=["l", "r"]))

    print(f"\nphase 2: Full Sync of {n:,} SKUs, every quantity changed, warm id cache, "
          f"Standard rates:\n")
    rows = [
        ["wall time (beectl full-sync --wait)", f"{r['wall']:.2f} s"],
        ["run duration (beed's record)", f"{rec['duration_ms'] / 1000:.2f} s" if rec else "-"],
        ["result / read / pushed / rejected",
         f"{rec['result']} / {rec['read']:,} / {rec['pushed']:,} / {rec['rejected']:,}"
         if rec else "-"],
        ["inventorySetQuantities requests (expected ceil(N/250))",
         f"{len(f['ran']):,} ({calls_expected:,}: "
         f"{'exact' if len(f['ran']) == calls_expected else 'NOT EXACT'})"],
        ["quantities sent / call outcomes", f"{f['quantities']:,} / " +
         ", ".join(f"{k} {v:,}" for k, v in sorted(f["outcomes"].items(), key=str))],
        ["THROTTLED responses", fmt_n(f["throttled"])],
        ["other API requests (lookups, pages)", fmt_n(len(f["other"]))],
        ["total actual cost", f"{f['cost']:,} points"],
        ["lower bound: (cost - 2,000) / 100", f"{bound:.2f} s"],
        ["wall / lower bound (target <= 1.10)",
         f"{ratio:.3f} ({'met' if ratio <= SHOPIFY_RATIO_TARGET else 'MISSED'})"
         if ratio is not None else "- (the push fits in the full bucket)"],
        ["SKUs/s", f"{rate:,.0f}"],
        ["SKUs/min (target >= 200,000)",
         f"{rate * 60:,.0f} ({'met' if rate * 60 >= SKUS_PER_MIN_TARGET else 'MISSED'}; "
         f"{rate * 60 / 40_000:.1f}x 40,000/min)"],
        ["beed CPU for the run", f"{r['cpu']:.2f} s"],
        ["beed peak RSS during the run (VmHWM; RSS before it)",
         f"{r['hwm_mb']:.1f} MB ({r['rss0_mb']:.1f} MB)" if r["peak_reset"]
         else f"{r['hwm_mb']:.1f} MB since beed started"],
        ["emulator CPU for the run", f"{r['emu_cpu']:.2f} s"],
        ["stock = feed after the run", f"{n - mismatches:,} of {n:,} "
                                        f"({mismatches:,} mismatches)"],
    ]
    if pace:
        g = pace["gaps"]
        rows += [
            ["request log: first to last call", f"{pace['span']:.2f} s"],
            ["  burst on the full bucket (calls, s)",
             f"{pace['drained_at'] + 1:,} calls in {pace['burst_span']:.2f} s"
             if pace["drained_at"] is not None else "all (the bucket never ran dry)"],
            ["  after it: span / what the refill allows",
             f"{pace['steady_span']:.2f} s / {pace['steady_bound']:.2f} s"
             if pace["drained_at"] is not None else "-"],
            ["  after it: gap between calls p50 / p90 / p99 / max",
             " / ".join(f"{bb.percentile(g, p):.0f}" for p in (50, 90, 99)) +
             f" / {g[-1]:.0f} ms" if g else "-"],
        ]
    print(bb.table(["figure", "value"], rows, align=["l", "r"]))
    if mismatches:
        failures.append(f"Shopify: {mismatches:,} SKUs differ from the feed, e.g. " +
                        ", ".join(f"{s} wanted {w} got {g}" for s, w, g in examples))
    if len(f["ran"]) != calls_expected or f["throttled"]:
        failures.append(f"Shopify: {len(f['ran']):,} calls (expected {calls_expected:,}), "
                        f"{f['throttled']:,} THROTTLED")
    if bulk:
        target = 1.5 * r["wall"] + bulk_own_s
        print("\ncold first sync (beed start, empty id map, to the end of run 1) next to the warm "
              "Full Sync:\n")
        print(bb.table(["figure", "value"], [
            ["cold: beed start to the end of run 1", f"{phase1_wall:.1f} s"],
            ["warm: Full Sync (phase 2)", f"{r['wall']:.1f} s"],
            ["the emulated bulk operation's own time", f"{bulk_own_s:.1f} s"],
            ["target: cold <= 1.5 x warm + bulk time",
             f"{target:.1f} s ({'met' if phase1_wall <= target else 'MISSED'})"],
        ], align=["l", "r"]))
    return {"wall": r["wall"], "bound": bound, "ratio": ratio, "rate": rate}, failures


# ----------------------------------------------------------------------------- WooCommerce

def woo_sku(i):
    return f"S-{i:05d}"  # as the emulator's --generate-simple names them


def woo_figures(entries):
    batches = [e for e in entries if e.get("method") == "POST"
               and e.get("path", "").endswith("/batch")]
    items = [it for e in batches for it in (e.get("items") or [])]
    outcomes = {}
    for it in items:
        outcomes[it.get("outcome")] = outcomes.get(it.get("outcome"), 0) + 1
    return {
        "batches": batches,
        "items": len(items),
        "outcomes": outcomes,
        "gets": [e for e in entries if e.get("method") == "GET"],
        "errors": [e for e in entries if e.get("status") != 200],
    }


def woo_timing(batches, latency_s):
    """From the launcher's answer times ("t"): each batch request spent at least [t - latency,
    t] at the server. Returns the span from the first such start to the last answer, the part
    of it with no batch at the server (beed between requests: its own work, the network, the
    emulator's parsing), and the mean and peak number of batches at the server at once."""
    ends = sorted(e["t"] for e in batches if "t" in e)
    if not ends:
        return None
    intervals = [(t - latency_s, t) for t in ends]
    span = ends[-1] - intervals[0][0]
    busy, cur_start, cur_end = 0.0, None, None
    for st, en in sorted(intervals):
        if cur_end is None or st > cur_end:
            if cur_end is not None:
                busy += cur_end - cur_start
            cur_start, cur_end = st, en
        else:
            cur_end = max(cur_end, en)
    busy += cur_end - cur_start
    events = sorted([(st, 1) for st, _ in intervals] + [(en, -1) for _, en in intervals],
                    key=lambda x: (x[0], x[1]))
    peak = level = 0
    for _, d in events:
        level += d
        peak = max(peak, level)
    return {"span": span, "idle": span - busy, "mean": len(ends) * latency_s / span if span else 0,
            "peak": peak}


def bench_woocommerce(a, ws):
    n = a.skus
    print(f"\n## WooCommerce: {n:,} SKUs, {a.latency_ms} ms server latency\n", flush=True)
    b = Bench(a, ws, "woocommerce")
    emu = Emulator("woocommerce", b.root, b.tls,
                   ["--generate-simple", str(n), "--latency-ms", str(a.walk_latency_ms)]).start()
    failures = []
    runs = []
    concurrencies = [int(c) for c in a.woo_concurrency.split(",") if c.strip()]
    try:
        print(f"emulator: {n:,} simple products generated, listening after {emu.start_s:.1f} s",
              flush=True)
        key = write_secret(b.root, "woo-key", WOO_KEY)
        secret = write_secret(b.root, "woo-secret", WOO_SECRET)
        url = f"https://127.0.0.1:{emu.port}"

        def configure(concurrency):
            return write_config(b.root, "{type: woocommerce, url: " + url +
                                f", consumer_key_file: {key}, consumer_secret_file: {secret}, "
                                f"ca_file: {b.tls['ca']}, concurrency: {concurrency}}}")

        config = configure(concurrencies[0])
        t0 = time.monotonic()
        write_feed(b.feeds, n, b.generation, woo_sku)
        print(f"feed written in {time.monotonic() - t0:.1f} s", flush=True)

        # ---- phase 1: the first automatic Full Sync (catalogue walk + first push)
        log0 = emu.log_size()
        ecpu0 = bb.proc_cpu_seconds(emu.pid)
        beed = b.start_beed(config)
        first = wait_run_end(beed, b.sock, 1, a.run_timeout)
        phase1_wall = time.monotonic() - beed.started_at
        phase1_emu_cpu = bb.proc_cpu_seconds(emu.pid) - ecpu0
        phase1_cpu = bb.proc_cpu_seconds(beed.pid)
        w1 = woo_figures(emu.read_log(log0, emu.log_size()))
        m = re.search(r"catalogue walk: (\d+) SKUs on (\d+) products and (\d+) variations, "
                      r"(\d+) requests in ([\d.]+) s", b.beed_log())
        print(f"phase 1 (first automatic Full Sync, latency {a.walk_latency_ms} ms, concurrency "
              f"{concurrencies[0]}): {first['result']}, {first['duration_ms'] / 1000:.2f} s",
              flush=True)
        if first["result"] != "ok":
            failures.append(f"phase 1: first run ended {first['result']}: {first['error']}")

        # ---- phase 2: latency on, a timed Full Sync per concurrency
        emu.control("POST", "/_emulator/faults", {"latency_ms": a.latency_ms})
        mismatch_total = 0
        for k, c in enumerate(concurrencies):
            if k > 0:
                configure(c)
                bb.request_once(b.sock, "reload")
            b.generation += 1
            expected = write_feed(b.feeds, n, b.generation, woo_sku)
            time.sleep(0.1)
            r = b.full_sync(emu, sample_connections=True)
            failures += check_run(f"concurrency {c}", r, n)
            f = woo_figures(r["log"])
            state = emu.control("GET", "/_emulator/state")
            actual = {p["sku"]: p["stock_quantity"] for p in state["products"]}
            mismatches, examples = compare_stock(actual, expected)
            mismatch_total += mismatches
            if mismatches:
                failures.append(f"WooCommerce concurrency {c}: {mismatches:,} SKUs differ from "
                                f"the feed, e.g. " +
                                ", ".join(f"{s} wanted {w} got {g}" for s, w, g in examples))
            runs.append((c, r, f, mismatches))
            print(f"  concurrency {c}: {r['wall']:.2f} s, {len(f['batches']):,} batch requests, "
                  f"{mismatches:,} mismatches", flush=True)
    finally:
        b.stop()
        emu.stop()

    batches_expected = math.ceil(n / WOO_PER_BATCH)
    print("\nphase 1: the one-time catalogue walk (products, 100 a page) and first push, "
          f"{a.walk_latency_ms} ms latency, concurrency {concurrencies[0]}:\n")
    print(bb.table(["figure", "value"], [
        ["walk requests (GET), beed's log",
         f"{len(w1['gets']):,} ({m.group(4) if m else '-'})"],
        ["walk time (beed's log)", f"{m.group(5)} s" if m else "-"],
        ["first push: batch requests / items",
         f"{len(w1['batches']):,} / {sum(len(e.get('items') or []) for e in w1['batches']):,}"],
        ["first run: read / pushed / duration",
         f"{first['read']:,} / {first['pushed']:,} / {first['duration_ms'] / 1000:.2f} s"],
        ["beed start to the end of run 1", f"{phase1_wall:.1f} s"],
        ["beed CPU / emulator CPU, phase 1", f"{phase1_cpu:.2f} s / {phase1_emu_cpu:.2f} s"],
    ], align=["l", "r"]))

    print(f"\nphase 2: Full Sync of {n:,} SKUs, every quantity changed, warm id cache, "
          f"{a.latency_ms} ms latency per request:\n")
    rows = []
    out = {}
    for c, r, f, mismatches in runs:
        rec = r["run"]
        bound = batches_expected * a.latency_ms / 1000.0 / c
        ratio = r["wall"] / bound
        out[c] = {"wall": r["wall"], "bound": bound, "ratio": ratio}
        nb = len(f["batches"])
        rows.append([
            str(c), fmt_s(r["wall"]), f"{rec['duration_ms'] / 1000:.2f}" if rec else "-",
            f"{nb:,}{'' if nb == batches_expected else ' (NOT EXACT)'}",
            f"{len(f['gets']):,}", f"{len(f['errors']):,}",
            f"{n / r['wall']:,.0f}", fmt_s(bound), f"{ratio:.3f}",
            f"{r['cpu']:.2f}", f"{r['emu_cpu']:.2f}",
            f"{r['hwm_mb']:.1f} ({r['rss0_mb']:.1f})", f"{mismatches:,}",
        ])
        if nb != batches_expected:
            failures.append(f"WooCommerce concurrency {c}: {nb:,} batch requests "
                            f"(expected {batches_expected:,})")
        bad_items = {k: v for k, v in f["outcomes"].items() if k != "updated"}
        if bad_items:
            failures.append(f"WooCommerce concurrency {c}: item outcomes {bad_items}")
    print(bb.table(["concurrency", "wall s", "run s", f"batches (expected {batches_expected:,})",
                    "GETs", "HTTP errors", "SKUs/s", "latency bound s", "wall / bound",
                    "beed CPU s", "emulator CPU s", "beed peak RSS MB (before)",
                    "stock mismatches"], rows))
    print(f"\nlatency bound = ceil(N/100) x {a.latency_ms} ms / concurrency; wall = beectl "
          f"full-sync --wait (feed read and change detection included)")
    print("\nwhere the time goes, from the emulator's answer times (each batch at the server for "
          f"at least its {a.latency_ms} ms):\n")
    rows = []
    for c, r, f, _ in runs:
        tm = woo_timing(f["batches"], a.latency_ms / 1000.0)
        if tm is None:
            continue
        round_ms = 1000 * tm["span"] / max(1, len(f["batches"])) * c
        rows.append([str(c), fmt_s(tm["span"]), fmt_s(tm["idle"]),
                     f"{100 * tm['idle'] / tm['span']:.0f} %" if tm["span"] else "-",
                     f"{tm['mean']:.2f}", str(tm["peak"]), str(r["connections"]),
                     f"{round_ms:.0f}", f"{round_ms - a.latency_ms:.0f}"])
    print(bb.table(["concurrency", "batch span s", "nothing at the server s", "share",
                    "batches at the server, mean", "peak", "TCP connections (peak)",
                    "ms per round of `concurrency` batches", "of which beyond the latency"],
                   rows))
    return out, failures


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", choices=["shopify", "woocommerce", "both"], default="both")
    ap.add_argument("--skus", type=int, default=100_000)
    ap.add_argument("--walk", choices=["bulk", "pages"], default="bulk",
                    help="Shopify phase 1: a bulk operation (Standard rates) or the paged walk "
                         "(the bulk operation denied; at --walk-restore-rate)")
    ap.add_argument("--bulk-base-ms", type=float, default=2000,
                    help="the emulated bulk operation's fixed server-side time")
    ap.add_argument("--bulk-ms-per-object", type=float, default=0.2,
                    help="and its time per object (0.2: 20 s more for 100,000 variants)")
    ap.add_argument("--walk-restore-rate", type=int, default=100_000,
                    help="Shopify: the bucket's restore rate (points/s) during phase 1")
    ap.add_argument("--latency-ms", type=int, default=50,
                    help="WooCommerce: server latency of every request in phase 2")
    ap.add_argument("--walk-latency-ms", type=int, default=0,
                    help="WooCommerce: server latency during phase 1 (the catalogue walk)")
    ap.add_argument("--woo-concurrency", default="4,1,8",
                    help="WooCommerce: `concurrency` of each measured run (the first also "
                         "serves phase 1)")
    ap.add_argument("--run-timeout", type=float, default=3600.0)
    bb.add_common_args(ap)
    a = ap.parse_args()
    if a.skus < 1:
        ap.error("--skus must be at least 1")

    try:
        a.beed = bb.find_binary(a.build_dir, "beed")
        a.beectl = bb.find_binary(a.build_dir, "beectl")
        if a.store in ("shopify", "both"):
            if shutil.which("node") is None or not os.path.isdir(
                    os.path.join(EMULATORS, "shopify", "node_modules", "graphql")):
                raise bb.SetupError("the Shopify emulator needs node and "
                                    "`npm ci --prefix tests/emulators/shopify`")
    except bb.SetupError as e:
        print(f"store_bench: {e}", file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-store-", keep=a.keep, path=a.dir)
    failures = []
    try:
        print(f"store_bench: {a.skus:,} SKUs, store {a.store}, in {ws.path}")
        print(f"beed: {a.beed}; load average at start: {bb.loadavg()}")
        if a.store in ("shopify", "both"):
            _, fl = bench_shopify(a, ws)
            failures += fl
        if a.store in ("woocommerce", "both"):
            _, fl = bench_woocommerce(a, ws)
            failures += fl
        print(f"\nload average at the end: {bb.loadavg()}")
        if failures:
            print("\nNOT CLEAN:", file=sys.stderr)
            for fl in failures:
                print(f"  {fl}", file=sys.stderr)
            return 3
        print("clean: every run ok, exact request counts, stock = feed")
        return 0
    except (bb.SetupError, bb.ProtocolError, OSError, subprocess.SubprocessError) as e:
        print(f"store_bench: broken setup: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        bb.stop_all()
        ws.cleanup()
        if ws.keep:
            print(f"kept {ws.path}")


if __name__ == "__main__":
    bb.run_main(main)
