#!/usr/bin/env python3
"""beed's memory and responsiveness under large read replies (a benchmark: it prints figures).

  python3 bench/read_memory.py [--skus 1000000] [--readers 8] [--diffs 48] [--build-dir DIR]

Starts beed with one connection (a CSV feed of --skus SKUs, a CSV store), fills the catalogue
with one Full Sync, then:
1. --readers concurrent `beectl --json inventory big --limit 0` (the whole catalogue each);
2. --diffs concurrent `beectl --json diff big --limit 0` after a feed that changes every tenth
   SKU;
and reports beed's VmRSS before, at its peak during, and 2 s after each burst, the largest
beectl's RSS, each beectl's exit status (a diff beyond the concurrent bound may be refused: exit 1), the wall time, and
the slowest `status` round trip meanwhile (how much the burst stalls other clients).
"""

import argparse
import os
import resource
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import beedbench as bb  # noqa: E402


def write_feed(path, skus, shift):
    with open(path + ".part", "w") as f:
        f.write("sku,quantity\n")
        for i in range(skus):
            f.write("SKU-%010d,%d\n" % (i, (i % 50) + (shift if i % 10 == 0 else 0)))
    os.rename(path + ".part", path)


def write_config(ws):
    path = os.path.join(ws, "beed.yaml")
    with open(path, "w") as f:
        f.write("daemon:\n  socket: %s/beed.sock\n  state_dir: %s/state\n  log_level: warning\n"
                "connections:\n  big:\n    warehouse:\n      type: csv\n      path: %s/feeds\n"
                "      pattern: 'inv_*.csv'\n    store:\n      type: csv\n      path: %s/out.csv\n"
                "    inventory:\n      schedule: 24h\n      automatic: smart\n"
                % (ws, ws, ws, ws))
    return path


class Sampler:
    """Peak VmRSS of beed and the slowest `status` round trip, while a burst runs."""

    def __init__(self, pid, sock):
        self.pid, self.sock = pid, sock
        self.peak_kb = bb.proc_status_kb(pid, "VmRSS")
        self.slowest_status = 0.0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._rss), threading.Thread(target=self._status)]

    def _rss(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, bb.proc_status_kb(self.pid, "VmRSS"))
            time.sleep(0.02)

    def _status(self):
        while not self._stop.is_set():
            t = time.monotonic()
            try:
                bb.request_once(self.sock, "status", timeout=120)
            except Exception:  # noqa: BLE001 - a refused status is a figure too
                pass
            self.slowest_status = max(self.slowest_status, time.monotonic() - t)
            time.sleep(0.1)

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join()


def burst(beectl, sock, pid, argv, n):
    env = dict(os.environ, BEECTL_SOCKET=sock)
    before = bb.proc_status_kb(pid, "VmRSS")
    t0 = time.monotonic()
    with Sampler(pid, sock) as s:
        procs = [subprocess.Popen([beectl, "--json"] + argv, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env) for _ in range(n)]
        codes = [p.wait(timeout=1800) for p in procs]
        errors = {p.stderr.read().decode(errors="replace").strip() for p in procs}
    wall = time.monotonic() - t0
    time.sleep(2)
    after = bb.proc_status_kb(pid, "VmRSS")
    # The largest RSS of any child waited for so far: the biggest beectl of this burst (or one
    # before it: they are all small, or all large).
    beectl_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return {"before": before // 1024, "peak": s.peak_kb // 1024, "after": after // 1024,
            "beectl": beectl_mb,
            "ok": codes.count(0), "failed": n - codes.count(0), "wall": wall,
            "status_s": s.slowest_status, "errors": sorted(e for e in errors if e)[:3]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skus", type=int, default=1_000_000)
    ap.add_argument("--readers", type=int, default=8)
    ap.add_argument("--diffs", type=int, default=48)
    bb.add_common_args(ap)
    a = ap.parse_args()
    beed_bin = bb.find_binary(a.build_dir, "beed")
    beectl = bb.find_binary(a.build_dir, "beectl")
    ws = bb.Workspace("pb-read-memory-", keep=a.keep, path=a.dir)
    try:
        os.makedirs(os.path.join(ws.path, "feeds"))
        write_feed(os.path.join(ws.path, "feeds", "inv_1.csv"), a.skus, 0)
        config = write_config(ws.path)
        sock = os.path.join(ws.path, "beed.sock")
        beed = bb.Beed(beed_bin, config, os.path.join(ws.path, "beed.log")).start()
        bb.wait_for_socket(beed, sock)
        env = dict(os.environ, BEECTL_SOCKET=sock)
        t0 = time.monotonic()
        subprocess.run([beectl, "full-sync", "big", "--wait"], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=1800)
        print("%s: %d SKUs, Full Sync %.1f s, beed VmRSS %d MB" %
              (beed_bin, a.skus, time.monotonic() - t0, bb.proc_status_kb(beed.pid, "VmRSS") // 1024))
        rows = []
        r = burst(beectl, sock, beed.pid, ["inventory", "big", "--limit", "0"], a.readers)
        rows.append(["%d x inventory --limit 0" % a.readers, r])
        feed2 = os.path.join(ws.path, "feeds", "inv_2.csv")
        write_feed(feed2, a.skus, 1)
        os.utime(feed2, (time.time() + 10, time.time() + 10))
        r = burst(beectl, sock, beed.pid, ["diff", "big", "--limit", "0"], a.diffs)
        rows.append(["%d x diff --limit 0" % a.diffs, r])
        print(bb.table(["burst", "RSS before MB", "peak MB", "2 s after MB", "ok", "failed",
                        "wall s", "slowest status s", "beectl max RSS MB"],
                       [[name, r["before"], r["peak"], r["after"], r["ok"], r["failed"],
                         "%.1f" % r["wall"], "%.2f" % r["status_s"], r["beectl"]]
                        for name, r in rows]))
        for name, r in rows:
            for e in r["errors"]:
                print("%s: %s" % (name, e[:200]))
        beed.stop()
        return 0
    finally:
        bb.stop_all()
        ws.cleanup()


if __name__ == "__main__":
    bb.run_main(main)
