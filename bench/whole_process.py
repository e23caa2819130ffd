#!/usr/bin/env python3
"""beed as a whole process: Smart Sync timings of a large CSV feed into the CSV store, beed's
memory over a long sequence, and a do-it-yourself baseline (a benchmark: it prints figures).

  python3 bench/whole_process.py [--build-dir build] [--skus 1000000] [--runs 5]
                                 [--rates 0.1,1,10,0] [--smart 20] [--full 5] [--reloads 100]
                                 [--restarts 3]
                                 [--warehouse csv|postgres|http] [--sample-ms 20]

1. Memory. A probe beed whose feed is not there yet gives beed's size before any sync. Then one
   beed (`schedule: 1d`, `automatic: full`) runs the sequence: its first (automatic) Full Sync of
   --skus SKUs, --smart Smart Syncs (`beectl sync big --wait`, alternating two feeds that differ
   in 1% of their quantities), --full Full Syncs (`beectl full-sync big --wait`), --reloads
   configuration reloads (each changes the connection's schedule, so each swaps something), and
   a rest of --rest seconds. After each stage: VmHWM, VmRSS, RssAnon and RssFile from
   /proc/PID/status. RssFile is mostly LMDB's map (page cache the kernel can drop); RssAnon is
   beed's own heap, stacks and glibc arenas. During each stage /proc/PID/status is also sampled
   every --sample-ms: the stage's largest sampled VmRSS with its anon/file split, and the
   largest RssAnon and RssFile on their own (VmHWM is the kernel's exact peak of their sum).
   --warehouse picks the source of the sequence: a CSV file (default), a PostgreSQL table of
   --skus rows (a throwaway server, tests/integration/pg_server.py; `SELECT sku, quantity`,
   every run reads every row) or the paged http-json source emulator
   (tests/emulators/inventory_source, 1,000 items a page, every run reads every page); the
   1% changes are UPDATEs of the table or POSTs to the emulator. Parts 2 and 3 are CSV only.
2. Time. For each change rate of --rates (percent of the SKUs whose quantity differs between
   the two alternated feeds), --runs timed `beectl sync big --wait` (beectl's start to its exit)
   after one untimed run, in the same beed; the median, min and max, the run's own duration,
   and the SKUs changed and pushed. Then where the time went: the median of each phase of the
   timed runs as beed logs it at debug level ("run N took: read ..., detect ..., push ...,
   record ..."; the sequence's beed runs at debug level for this).
   Then --restarts times the first 1% Smart Sync after a clean restart (SIGTERM, a new beed
   on the same state; beed keeps each feed's digest over it, sync/digest_file.hpp), with the
   stop and the start (to its socket) timed too.
3. The baseline. bench/diy_sync.py (Python csv + sqlite3, the same job the obvious way: compare
   with what was applied last, store the changes, rewrite the store's CSV file) timed the same
   way on the same feeds, as a whole process; then the ratio of the medians.

A feed is renamed into place before each run, so beed never reads half a file.
"""

import argparse
import json
import os
import re
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


def write_config(root, schedule="1d", feed_dir="feeds", warehouse=None, log_level="debug"):
    os.makedirs(os.path.join(root, feed_dir), exist_ok=True)
    os.makedirs(os.path.join(root, "out"), exist_ok=True)
    warehouse = warehouse or "{type: csv, path: %s/big.csv}" % feed_dir
    config = os.path.join(root, "packagebee.yaml")
    with open(config + ".tmp", "w") as f:
        f.write("daemon: {socket: beed.sock, state_dir: state, log_level: %s}\n"
                "connections:\n"
                "  big:\n"
                "    warehouse: %s\n"
                "    store: {type: csv, path: out/big.csv}\n"
                "    inventory: {schedule: %s, automatic: full}\n" % (log_level, warehouse, schedule))
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


class CsvSource:
    """The sequence's feed as a CSV file, renamed into place."""
    label = "CSV file"

    def __init__(self, feeds, root):
        self.feeds, self.feed_path = feeds, os.path.join(root, "feeds", "big.csv")
        self.probe_yaml = "{type: csv, path: nofeed/big.csv}"
        self.yaml = "{type: csv, path: feeds/big.csv}"

    def set_variant(self, variant):
        put_feed(self.feeds.path(1.0, variant), self.feed_path)

    def stop(self):
        pass


class PostgresSource:
    """A throwaway PostgreSQL server with a table of `skus` rows; variant 1 differs in 1%."""
    label = "PostgreSQL table"

    def __init__(self, root, skus):
        sys.path.insert(0, os.path.join(bb.REPO, "tests", "integration"))
        import pg_server  # noqa: E402
        try:
            self.server = pg_server.PgServer.start(os.path.join(root, "pg"))
        except pg_server.PgUnavailable as e:
            raise bb.SetupError("PostgreSQL: %s" % e)
        bb.track(self)
        self.server.create_database("wms")
        self.server.psql("wms",
                         "CREATE TABLE stock (id integer NOT NULL, sku text PRIMARY KEY, "
                         "quantity integer NOT NULL);"
                         "INSERT INTO stock SELECT i, 'SKU-' || lpad(i::text, 7, '0'), "
                         "(i::bigint * 7919) %% 500 FROM generate_series(0, %d) i;"
                         "CREATE INDEX stock_id ON stock (id);"
                         "VACUUM ANALYZE stock;"
                         "CREATE ROLE packagebee LOGIN; GRANT SELECT ON stock TO packagebee;"
                         % (skus - 1))
        conninfo = self.server.conninfo("wms", "packagebee")
        self.yaml = ('{type: postgres, conninfo: "%s", query: "SELECT sku, quantity FROM stock"}'
                     % conninfo)
        self.probe_yaml = ('{type: postgres, conninfo: "%s", query: "SELECT sku, quantity FROM '
                           'no_such_table"}' % conninfo)

    def set_variant(self, variant):
        # the SKUs whose id is a multiple of 100 (as in the CSV feeds' variants)
        self.server.psql("wms", "UPDATE stock SET quantity = ((id::bigint * 7919) %% 500 + %d) %% 500 "
                                "WHERE id %% 100 = 0" % variant)

    def stop(self):
        if self.server is not None:
            self.server.destroy()
            self.server = None
        bb.untrack(self)


class HttpSource:
    """The paged http-json source emulator serving `skus` generated items; variant 1 differs in
    1% of their quantities."""
    label = "http-json (emulator, 1,000 items a page)"

    def __init__(self, root, skus):
        import urllib.request
        self.urllib, self.skus = urllib.request, skus
        emulator = os.path.join(bb.REPO, "tests", "emulators", "inventory_source",
                                "inventory_source.py")
        port_file = os.path.join(root, "emulator.port")
        self.proc = subprocess.Popen([sys.executable, emulator, "--port", "0", "--port-file",
                                      port_file, "--generate", str(skus), "--max-page-size",
                                      "1000", "--clock", "2026-11-26T10:00:00Z"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bb.track(self)
        deadline = time.monotonic() + 300
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise bb.SetupError("the inventory source emulator did not start")
            time.sleep(0.2)
        self.base = "http://127.0.0.1:%d" % int(open(port_file).read().strip())
        self.yaml = ('{type: http-json, url: "%s/api/inventory", paging: page, page_size: 1000, '
                     'quantity_field: stock.available}' % self.base)
        self.probe_yaml = self.yaml.replace("/api/inventory", "/api/no-such-path")

    def set_variant(self, variant):
        # the emulator generates SKU-0000001.. with quantity i % 1000
        items = [{"sku": "SKU-%07d" % i, "quantity": (i % 1000 + variant) % 1000}
                 for i in range(100, self.skus + 1, 100)]
        req = self.urllib.Request(self.base + "/_emulator/items",
                                  data=json.dumps({"items": items}).encode(),
                                  headers={"Content-Type": "application/json"})
        self.urllib.urlopen(req, timeout=120).read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        bb.untrack(self)


def make_source(args, ws_path, feeds):
    root = os.path.join(ws_path, "beed")
    if args.warehouse == "postgres":
        return PostgresSource(ws_path, args.skus)
    if args.warehouse == "http":
        return HttpSource(ws_path, args.skus)
    return CsvSource(feeds, root)


def probe_baseline(beed_bin, root, source):
    """beed's size at rest before any sync: a beed whose source is not there (its first run
    fails: a missing feed, table or path)."""
    config = write_config(root, feed_dir="nofeed", warehouse=source.probe_yaml)
    sock = os.path.join(root, "beed.sock")
    beed = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
    try:
        bb.wait_for_socket(beed, sock)
        time.sleep(1.0)
        return status_mb(beed.pid)
    finally:
        beed.stop()


MEMORY_HEADERS = (["stage", "stage s"] + ["%s MB" % k for k in STATUS_KEYS]
                  + ["sampled peak RSS MB", "its anon MB", "its file MB", "peak anon MB",
                     "peak file MB"])


def memory_sequence(args, beed, sock, beectl_bin, source, config_root):
    stages = []
    sampler = bb.StatusSampler(beed.pid, args.sample_ms / 1000.0).start()

    def stage(label, t):
        p = sampler.mark()
        stages.append([label, "%.1f" % t] + ["%.1f" % v for v in status_mb(beed.pid).values()]
                      + ["%.1f" % p[k] for k in ("rss", "rss_anon", "rss_file", "anon", "file")])

    try:
        t0 = time.monotonic()
        wait_first_run(sock)
        stage("first Full Sync (automatic)", time.monotonic() - t0)
        t0 = time.monotonic()
        for n in range(args.smart):
            source.set_variant((n + 1) % 2)
            beectl(beectl_bin, sock, "sync")
        stage("+ %d Smart Syncs (1%% changed)" % args.smart, time.monotonic() - t0)
        t0 = time.monotonic()
        for n in range(args.full):
            source.set_variant((args.smart + n + 1) % 2)
            beectl(beectl_bin, sock, "full-sync")
        stage("+ %d Full Syncs" % args.full, time.monotonic() - t0)
        t0 = time.monotonic()
        for n in range(args.reloads):
            write_config(config_root, schedule="1d" if n % 2 else "23h", warehouse=source.yaml)
            bb.request_once(sock, "reload")
        stage("+ %d reloads" % args.reloads, time.monotonic() - t0)
        time.sleep(args.rest)
        stage("at rest (%.0f s later)" % args.rest, args.rest)
    finally:
        sampler.stop()
    return stages


PHASE_LINE = re.compile(r"run (\d+) took: read ([\d.]+) ms, detect ([\d.]+) ms, push ([\d.]+) ms "
                        r"\(waiting for the store ([\d.]+) ms\), record ([\d.]+) ms")
PHASES = ("read", "detect", "push", "store", "record")


def logged_phases(log_path):
    """{run id: {phase: ms}} from beed's debug lines."""
    out = {}
    with open(log_path, errors="replace") as f:
        for line in f:
            m = PHASE_LINE.search(line)
            if m:
                out[int(m.group(1))] = dict(zip(PHASES, map(float, m.groups()[1:])))
    return out


def phase_rows(rate_runs, log_path):
    """One row per rate: the median ms of each phase over its timed runs."""
    logged = logged_phases(log_path)
    rows = []
    for rate, ids in rate_runs:
        got = [logged[i] for i in ids if i in logged]
        if not got:
            continue
        rows.append(["%g%%" % rate, str(len(got))]
                    + ["%.1f" % statistics.median(g[p] for g in got) for p in PHASES])
    return rows


def timed_rates(args, beed, sock, beectl_bin, feeds, feed_path):
    rows, medians, rate_runs = [], {}, []
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
        rate_runs.append((rate, [r["id"] for _, r in walls]))
        ws = sorted(w for w, _ in walls)
        med = statistics.median(ws)
        medians[rate] = med
        last = walls[-1][1]
        rows.append(["%g%%" % rate, f"{last['read']:,}", f"{last['changed']:,}",
                     f"{last['pushed']:,}", "%.3f" % med, "%.3f" % ws[0], "%.3f" % ws[-1],
                     "%.3f" % statistics.median(r["duration_ms"] / 1000.0 for _, r in walls)])
    return rows, medians, rate_runs


def timed_restarts(args, beed, sock, beectl_bin, feeds, feed_path, start_beed):
    """--restarts rounds: settle on one 1% variant, stop beed, start a new one, time the first
    Smart Sync of the other variant. Returns the last beed, the table's rows and the median."""
    rows, walls = [], []
    expected = feeds.expected_changes(1.0)
    for _ in range(args.restarts):
        put_feed(feeds.path(1.0, 0), feed_path)
        beectl(beectl_bin, sock, "sync")
        t0 = time.monotonic()
        beed.stop()
        stopped = time.monotonic() - t0
        t0 = time.monotonic()
        beed = start_beed()
        started = time.monotonic() - t0
        put_feed(feeds.path(1.0, 1), feed_path)
        wall, run = beectl(beectl_bin, sock, "sync")
        if run["result"] != "ok" or run["changed"] != expected:
            raise bb.SetupError("after a restart: run %r (expected %d changed)" % (run, expected))
        walls.append(wall)
        rows.append(["%.3f" % stopped, "%.3f" % started, "%.3f" % wall])
    return beed, rows, statistics.median(walls) if walls else None


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
    parser.add_argument("--restarts", type=int, default=3,
                        help="timed first Smart Syncs after a clean restart (0: none)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-diy", action="store_true")
    parser.add_argument("--warehouse", choices=("csv", "postgres", "http"), default="csv",
                        help="the memory sequence's source (the timings and the baseline: csv)")
    parser.add_argument("--sample-ms", type=float, default=20.0,
                        help="how often /proc/PID/status is sampled during the sequence")
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
    source = None
    try:
        print("%s SKUs; warehouse %s; beed %s; load %s"
              % (f"{args.skus:,}", args.warehouse, beed_bin, bb.loadavg()))
        feeds = Feeds(os.path.join(ws.path, "variants"), args.skus)
        root = os.path.join(ws.path, "beed")
        source = make_source(args, ws.path, feeds)
        before = probe_baseline(beed_bin, os.path.join(ws.path, "probe"), source)
        config = write_config(root, warehouse=source.yaml)
        source.set_variant(0)
        sock = os.path.join(root, "beed.sock")

        def start_beed():
            b = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
            bb.wait_for_socket(b, sock)
            return b

        beed = start_beed()
        if not args.skip_memory:
            stages = memory_sequence(args, beed, sock, beectl_bin, source, root)
            stages.insert(0, ["before the first sync (probe beed)", "-"]
                          + ["%.1f" % v for v in before.values()] + ["-"] * 5)
            print("\nmemory sequence, source: %s (sampled every %g ms; load %s)"
                  % (source.label, args.sample_ms, bb.loadavg()))
            print(bb.table(MEMORY_HEADERS, stages, ["l"] + ["r"] * (len(MEMORY_HEADERS) - 1)))
            st = status_mb(beed.pid)
            peak_anon = max(float(r[-2]) for r in stages[1:])
            peak_file = max(float(r[-1]) for r in stages[1:])
            print("\npeaks sampled over the sequence: RssAnon %.1f MB (beed's heap: the feed's "
                  "rows, the digest, LMDB's dirty pages), RssFile %.1f MB (the binary's %.1f MB "
                  "and LMDB's map, released past a 16 MB budget)"
                  % (peak_anon, peak_file, before["RssFile"]))
            print("\nVmHWM over the sequence: %.1f MB (target <= 150); VmRSS at rest %.1f MB, "
                  "%.1f MB above the probe's %.1f MB (target <= 60): RssAnon %.1f MB (+%.1f), "
                  "RssFile %.1f MB (+%.1f)"
                  % (st["VmHWM"], st["VmRSS"], st["VmRSS"] - before["VmRSS"], before["VmRSS"],
                     st["RssAnon"], st["RssAnon"] - before["RssAnon"], st["RssFile"],
                     st["RssFile"] - before["RssFile"]))
        else:
            wait_first_run(sock)
        if args.warehouse != "csv":
            beed.stop()
            return 0
        rows, medians, rate_runs = timed_rates(args, beed, sock, beectl_bin, feeds,
                                               source.feed_path)
        print("\n`beectl sync big --wait`, %d runs per rate after one untimed:" % args.runs)
        print(bb.table(["changed", "read", "changed", "pushed", "median s", "min s", "max s",
                        "run's duration_ms s"], rows))
        log_path = beed.log_path
        phases = phase_rows(rate_runs, log_path)
        if args.restarts > 0:
            beed, restart_rows, restart_median = timed_restarts(
                args, beed, sock, beectl_bin, feeds, source.feed_path, start_beed)
            print("\nthe first 1%% Smart Sync after a clean restart (%d rounds; median %.3f s):"
                  % (args.restarts, restart_median))
            print(bb.table(["stop s", "start s", "first Smart Sync s"], restart_rows))
        beed.stop()
        print("\nwhere a run's time went (beed's debug log; medians, ms; `store` is the wait for "
              "the store's answers, part of `push`):")
        print(bb.table(["changed", "runs"] + list(PHASES), phases))
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
    except (bb.SetupError, bb.ProtocolError, OSError, RuntimeError) as e:
        print("setup error: %s" % e, file=sys.stderr)
        return 1
    finally:
        if source is not None:
            source.stop()
        ws.cleanup()

if __name__ == "__main__":
    bb.run_main(main)
