#!/usr/bin/env python3
"""What beed costs at rest with many connections (a benchmark: it prints figures).

  python3 bench/idle_connections.py [--connections 1000] [--seconds 60]

Generates N connections (CSV warehouse feeds of a few SKUs each into CSV stores, automatic
runs every 60 minutes), starts beed, waits until every connection's first automatic Full Sync
has finished (polling the control socket's `status`), then measures beed over a quiet window:
CPU seconds (utime+stime from /proc/PID/stat), context switches (summed over
/proc/PID/task/*/status), VmRSS/VmHWM, threads and open fds. Nothing talks to beed during the
window. Afterwards, if strace is installed, `strace -c -f -p PID` for --strace seconds shows
any system calls beed still makes at rest.

Targets (docs/PERFORMANCE.md): CPU ~ 0 at rest (timers, no polling): at most 0.1 % of one
core; VmRSS <= 64 MB. Exit status: 0 when figures were printed (met or not), 1 on a broken
setup.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beedbench as bb  # noqa: E402

CPU_TARGET_PCT = 0.1
RSS_TARGET_MB = 64


def write_setup(root, n, skus, max_syncs, schedule, log_level, http_port=0):
    os.makedirs(os.path.join(root, "feeds"))
    os.makedirs(os.path.join(root, "out"))
    lines = [
        f"daemon: {{socket: beed.sock, state_dir: state, log_level: {log_level}, "
        f"max_concurrent_syncs: {max_syncs}"
        + (f", http: {{listen: \"127.0.0.1:{http_port}\"}}" if http_port else "") + "}",
        "connections:",
    ]
    for i in range(1, n + 1):
        name = f"c{i:04d}"
        with open(os.path.join(root, "feeds", name + ".csv"), "w") as f:
            f.write("sku,quantity\n")
            for k in range(skus):
                f.write(f"{name}-SKU-{k:03d},{(i * 7 + k * 13) % 100}\n")
        lines += [
            f"  {name}:",
            f"    warehouse: {{type: csv, path: feeds/{name}.csv}}",
            f"    store: {{type: csv, path: out/{name}.csv}}",
            f"    inventory: {{schedule: {schedule}}}",
        ]
    config = os.path.join(root, "packagebee.yaml")
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    return config


def first_syncs_done(status, n):
    """(finished, failed, syncing) over the connections of a status reply."""
    finished = failed = syncing = 0
    for c in status["connections"]:
        if c["state"] == "syncing":
            syncing += 1
        last = c.get("last_sync")
        if last and last["result"] != "running" and c["state"] != "syncing":
            finished += 1
            if last["result"] != "ok":
                failed += 1
    return finished, failed, syncing


def run_strace(pid, seconds):
    strace = shutil.which("strace")
    if not strace:
        print("strace: not installed; skipped")
        return None
    p = subprocess.Popen([strace, "-c", "-f", "-p", str(pid)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(seconds)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)  # strace detaches and prints its summary
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
    return err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the idle window")
    ap.add_argument("--skus", type=int, default=10, help="SKUs in each connection's feed")
    ap.add_argument("--max-concurrent-syncs", type=int, default=4)
    ap.add_argument("--schedule", default="60m", help="inventory.schedule of every connection")
    ap.add_argument("--log-level", default="warning")
    ap.add_argument("--http", type=int, default=0, metavar="PORT",
                    help="with beed's HTTP listener (daemon.http.listen) on 127.0.0.1:PORT; "
                         "nothing scrapes it during the window")
    ap.add_argument("--settle", type=float, default=3.0,
                    help="seconds between the last first sync and the window")
    ap.add_argument("--strace", type=float, default=10.0,
                    help="seconds of `strace -c -f` after the window (0: skip)")
    ap.add_argument("--first-sync-timeout", type=float, default=1800.0)
    bb.add_common_args(ap)
    a = ap.parse_args()

    try:
        beed_bin = bb.find_binary(a.build_dir, "beed")
    except bb.SetupError as e:
        print(f"idle_connections: {e}", file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-idle-", keep=a.keep, path=a.dir)
    beed = None
    try:
        config = write_setup(ws.path, a.connections, a.skus, a.max_concurrent_syncs,
                             a.schedule, a.log_level, a.http)
        sock = os.path.join(ws.path, "beed.sock")
        print(f"idle_connections: {a.connections} connections x {a.skus} SKUs, "
              f"max_concurrent_syncs {a.max_concurrent_syncs}, schedule {a.schedule}, "
              f"in {ws.path}")
        print(f"beed: {beed_bin}; load average at start: {bb.loadavg()}")

        beed = bb.Beed(beed_bin, config, os.path.join(ws.path, "beed.log")).start()
        bb.wait_for_socket(beed, sock, timeout=120)
        t_socket = time.monotonic() - beed.started_at
        deadline = time.monotonic() + a.first_sync_timeout
        last_print = 0.0
        while True:
            beed.check_alive()
            status = bb.request_once(sock, "status")
            finished, failed, syncing = first_syncs_done(status, a.connections)
            now = time.monotonic()
            if len(status["connections"]) != a.connections:
                raise bb.SetupError(f"beed reports {len(status['connections'])} connections, "
                                    f"expected {a.connections}")
            if finished == a.connections:
                break
            if now > deadline:
                raise bb.SetupError(f"only {finished}/{a.connections} first syncs finished "
                                    f"after {a.first_sync_timeout:.0f} s")
            if now - last_print > 10:
                print(f"  ... {finished}/{a.connections} first syncs done "
                      f"({now - beed.started_at:.0f} s)", flush=True)
                last_print = now
            time.sleep(0.25)
        t_first = time.monotonic() - beed.started_at
        load_first = bb.loadavg()
        if failed:
            raise bb.SetupError(f"{failed} first syncs did not end ok; see {beed.log_path}:\n"
                                f"{beed.log_tail()}")

        # Per-run durations, as beed recorded them (one reused control connection).
        durations = []
        with bb.Control(sock) as c:
            for conn in status["connections"]:
                runs = c.request("history", {"connection": conn["name"], "limit": 1})["runs"]
                durations.append(runs[0]["duration_ms"])
        durations.sort()
        t_last_request = time.monotonic()  # beed's last control request before the window
        last_ids = {c["name"]: c["last_sync"]["id"] for c in status["connections"]}
        after_first = bb.proc_sample(beed.pid)

        time.sleep(a.settle)
        print(f"first syncs done; measuring {a.seconds:.0f} s at rest "
              f"(load average {bb.loadavg()})", flush=True)
        s0 = bb.proc_sample(beed.pid)
        peak_rss = s0["rss_kb"]
        end = s0["t"] + a.seconds
        wakes = []  # (seconds after the last control request, switches in that second)
        prev = s0["vol"] + s0["nonvol"]
        while time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            beed.check_alive()
            s = bb.proc_sample(beed.pid)
            peak_rss = max(peak_rss, s["rss_kb"])
            if s["vol"] + s["nonvol"] != prev:
                wakes.append((s["t"] - t_last_request, s["vol"] + s["nonvol"] - prev))
                prev = s["vol"] + s["nonvol"]
        s1 = bb.proc_sample(beed.pid)
        load_window = bb.loadavg()

        # Nothing ran in the window (the schedule is far away)?
        status = bb.request_once(sock, "status")
        ran = sum(1 for c in status["connections"]
                  if c["last_sync"]["id"] != last_ids[c["name"]] or c["state"] == "syncing")

        wall = s1["t"] - s0["t"]
        cpu = s1["cpu_s"] - s0["cpu_s"]
        vol = s1["vol"] - s0["vol"]
        nonvol = s1["nonvol"] - s0["nonvol"]
        cpu_pct = 100.0 * cpu / wall
        rss_mb = s1["rss_kb"] / 1024
        rows = [
            ("connections", f"{a.connections:,}"),
            ("first syncs: wall from beed start (s)", f"{t_first:.1f}"),
            ("first syncs: control socket up after (s)", f"{t_socket:.2f}"),
            ("first syncs: per run duration_ms p50 / p99 / max",
             f"{bb.percentile(durations, 50)} / {bb.percentile(durations, 99)} / "
             f"{durations[-1]}"),
            ("first syncs: beed CPU (s)", f"{after_first['cpu_s']:.2f}"),
            ("window (s)", f"{wall:.1f}"),
            ("CPU in window (s, utime+stime)", f"{cpu:.2f}"),
            ("CPU in window (% of one core)", f"{cpu_pct:.3f}"),
            ("context switches voluntary / involuntary", f"{vol} / {nonvol}"),
            ("wake-ups per second", f"{(vol + nonvol) / wall:.2f}"),
            ("VmRSS at end (MB)", f"{rss_mb:.1f}"),
            ("  of which anon / file / shmem (MB)",
             f"{s1['anon_kb'] / 1024:.1f} / {s1['file_kb'] / 1024:.1f} / "
             f"{s1['shmem_kb'] / 1024:.1f}"),
            ("VmRSS max in window (MB)", f"{peak_rss / 1024:.1f}"),
            ("VmHWM (MB, includes the first syncs)", f"{s1['hwm_kb'] / 1024:.1f}"),
            ("threads", f"{s1['threads']}"),
            ("open fds", f"{s1['fds']}"),
            ("runs started in the window", f"{ran}"),
            ("load average: first syncs done / end of window", f"{load_first} / {load_window}"),
        ]
        print()
        print(bb.table(["figure", "value"], rows))

        busy = []
        for tid, t in sorted(s1["tasks"].items()):
            b = s0["tasks"].get(tid)
            if not b:
                busy.append(f"  thread {tid} ({t['comm']}): new in the window")
                continue
            d_cpu, d_v, d_n = t["cpu_s"] - b["cpu_s"], t["vol"] - b["vol"], t["nonvol"] - b["nonvol"]
            if d_cpu or d_v or d_n:
                busy.append(f"  thread {tid} ({t['comm']}): cpu {d_cpu:.2f} s, "
                            f"switches {d_v}+{d_n}")
        print("\nthreads that woke in the window:" if busy else
              "\nno thread woke in the window")
        for line in busy:
            print(line)
        if wakes:
            print("  when (s after beed's last control request, to 1 s): " +
                  ", ".join(f"+{t:.0f} s: {n}" for t, n in wakes))

        cpu_ok = cpu_pct <= CPU_TARGET_PCT
        rss_ok = rss_mb <= RSS_TARGET_MB
        print(f"\ntarget CPU at rest <= {CPU_TARGET_PCT} % of a core: "
              f"{'met' if cpu_ok else 'MISSED'} ({cpu_pct:.3f} %)")
        print(f"target VmRSS <= {RSS_TARGET_MB} MB: {'met' if rss_ok else 'MISSED'} "
              f"({rss_mb:.1f} MB)")

        if a.strace > 0:
            print(f"\nstrace -c -f -p {beed.pid} for {a.strace:.0f} s:")
            out = run_strace(beed.pid, a.strace)
            if out is not None:
                body = [l for l in out.splitlines() if l.strip()
                        and "strace: Process" not in l]
                print("\n".join(body) if body else "  (no system calls)")
        return 0
    except bb.SetupError as e:
        print(f"idle_connections: broken setup: {e}", file=sys.stderr)
        return 1
    finally:
        if beed:
            beed.stop()
        ws.cleanup()
        if ws.keep:
            print(f"kept {ws.path}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # beed was stopped and the directory removed on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
