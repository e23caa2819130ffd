#!/usr/bin/env python3
"""How fast the `type: postgres` warehouse reads a big table, and what it costs beed in memory
(a benchmark: it prints figures).

  python3 bench/postgres_read.py [--rows 1000000] [--runs 2] [--compare-csv]

A throwaway PostgreSQL server (tests/integration/pg_server.py: initdb + pg_ctl on a free port,
as the `postgres` user under root) gets a table of --rows SKUs. beed is started with one
connection, that table as its warehouse (`SELECT sku, quantity FROM stock`) and a CSV store;
its first automatic run is a Full Sync. Then --runs more Full Syncs are requested. For each
run, `status` is polled every 5 ms to time its phases (`progress.phase`: reading, detecting,
pushing, recording) and beed's RSS is sampled; beed's peak RSS (VmHWM) is read at the end.

--compare-csv does the same with the same rows as a CSV file warehouse, for scale.

Exit status: 0 when figures were printed, 1 on a broken setup (77 when PostgreSQL's server
binaries are not installed).
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import beedbench as bb  # noqa: E402
import pg_server  # noqa: E402

PHASES = ["reading", "detecting", "pushing", "recording"]


def write_config(root, warehouse_yaml):
    os.makedirs(os.path.join(root, "out"), exist_ok=True)
    config = os.path.join(root, "packagebee.yaml")
    with open(config, "w") as f:
        f.write("daemon: {socket: beed.sock, state_dir: state, log_level: warning}\n"
                "connections:\n"
                "  big:\n"
                "    warehouse: %s\n"
                "    store: {type: csv, path: out/big.csv}\n"
                "    inventory: {schedule: 1d, automatic: full}\n" % warehouse_yaml)
    return config


def quantity(i):
    return (i * 7919) % 500


def fill_table(server, rows):
    server.create_database("wms")
    t0 = time.monotonic()
    server.psql("wms",
                "CREATE TABLE stock (sku text PRIMARY KEY, quantity integer NOT NULL);"
                "INSERT INTO stock SELECT 'SKU-' || lpad(i::text, 7, '0'), (i::bigint * 7919) %% 500 "
                "FROM generate_series(1, %d) i;"
                "VACUUM ANALYZE stock;"
                "CREATE ROLE packagebee LOGIN; GRANT SELECT ON stock TO packagebee;" % rows)
    return time.monotonic() - t0


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("sku,quantity\n")
        step = 100_000
        for start in range(1, rows + 1, step):
            f.write("".join(f"SKU-{i:07d},{quantity(i)}\n"
                            for i in range(start, min(rows, start + step - 1) + 1)))


def status_of(sock):
    c = bb.request_once(sock, "status")["connections"][0]
    return c.get("progress"), c.get("last_sync")


def follow_run(beed, sock, run_id, timeout=1800):
    """Polls until run `run_id` ends: (seconds per phase, the largest RSS and anonymous RSS
    sampled during reading in kB, the run record). Anonymous memory is the feed and libpq's
    buffers; the rest of RSS is mostly LMDB's file pages, which grow with every run."""
    first_seen = {}
    read_rss = read_anon = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress, last = status_of(sock)
        now = time.monotonic()
        if progress and progress.get("run_id") == run_id:
            phase = progress["phase"]
            first_seen.setdefault(phase, now)
            if phase == "reading" and beed is not None:
                sample = bb.proc_sample(beed.pid)
                read_rss = max(read_rss, sample["rss_kb"])
                read_anon = max(read_anon, sample["anon_kb"])
        elif last and last["id"] >= run_id and last["result"] != "running":
            first_seen.setdefault("ended", now)
            break
        time.sleep(0.005)
    else:
        raise bb.SetupError(f"run {run_id} did not end within {timeout} s")
    order = [p for p in PHASES + ["ended"] if p in first_seen]
    phases = {p: first_seen[n] - first_seen[p] for p, n in zip(order, order[1:])}
    runs = bb.request_once(sock, "history", {"connection": "big", "limit": 5})["runs"]
    record = next(r for r in runs if r["id"] == run_id)
    return phases, (read_rss, read_anon), record


def bench_beed(label, beed_bin, root, warehouse_yaml, runs, expected_rows):
    config = write_config(root, warehouse_yaml)
    sock = os.path.join(root, "beed.sock")
    beed = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
    rows = []
    try:
        bb.wait_for_socket(beed, sock)
        base_rss = bb.proc_sample(beed.pid)["rss_kb"]
        run_ids = [1]
        for n in range(runs + 1):
            if n > 0:
                reply = bb.request_once(sock, "full-sync", {"connection": "big"})
                run_ids.append(reply["run_id"])
            phases, read_rss, record = follow_run(beed, sock, run_ids[-1])
            if record["result"] != "ok" or record["read"] != expected_rows:
                raise bb.SetupError(f"{label}: run {record['id']} ended {record['result']} "
                                    f"with read={record['read']}: {record['error']}")
            rows.append([label, record["id"], record["trigger"], record["read"],
                         "%.2f" % phases.get("reading", 0.0),
                         "%.2f" % phases.get("detecting", 0.0),
                         "%.2f" % phases.get("pushing", 0.0),
                         "%.2f" % (record["duration_ms"] / 1000.0),
                         "%.0f" % (read_rss[0] / 1024.0), "%.0f" % (read_rss[1] / 1024.0)])
        peak = bb.proc_sample(beed.pid)["hwm_kb"]
    finally:
        beed.stop()
    return rows, base_rss, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bb.add_common_args(parser)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2,
                        help="Full Syncs after the first automatic one (default 2)")
    parser.add_argument("--compare-csv", action="store_true",
                        help="also time the same rows as a CSV warehouse")
    args = parser.parse_args()

    try:
        beed_bin = bb.find_binary(args.build_dir, "beed")
    except bb.SetupError as e:
        print(f"setup error: {e}", file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-bench-pg-", keep=args.keep, path=args.dir)
    server = None
    try:
        try:
            server = pg_server.PgServer.start(os.path.join(ws.path, "pg"))
        except pg_server.PgUnavailable as e:
            print(f"skipped: {e}", file=sys.stderr)
            return 77
        fill_s = fill_table(server, args.rows)
        print(f"PostgreSQL {server.psql('wms', 'SHOW server_version').strip()} on port "
              f"{server.port}; {args.rows:,} rows loaded in {fill_s:.1f} s; beed {beed_bin}; "
              f"load {bb.loadavg()}")

        results = []
        pg_root = os.path.join(ws.path, "beed-pg")
        os.makedirs(pg_root)
        warehouse = ('{type: postgres, conninfo: "%s", query: "SELECT sku, quantity FROM stock"}'
                     % server.conninfo("wms", "packagebee"))
        rows, base, peak = bench_beed("postgres", beed_bin, pg_root, warehouse, args.runs,
                                      args.rows)
        results.append(("postgres", rows, base, peak))
        if args.compare_csv:
            csv_root = os.path.join(ws.path, "beed-csv")
            os.makedirs(os.path.join(csv_root, "feeds"))
            write_csv(os.path.join(csv_root, "feeds", "big.csv"), args.rows)
            rows, base, peak = bench_beed("csv", beed_bin, csv_root,
                                          "{type: csv, path: feeds/big.csv}", args.runs,
                                          args.rows)
            results.append(("csv", rows, base, peak))

        print()
        print(bb.table(["warehouse", "run", "trigger", "read", "reading s", "detecting s",
                        "pushing s", "run s", "reading: RSS MB", "anon MB"],
                       [r for _, rows, _, _ in results for r in rows]))
        print("(run 1 is the automatic Full Sync at startup: its phases are timed from the "
              "first status answer, so its reading may be cut short)")
        print()
        for label, _, base, peak in results:
            print(f"{label}: beed RSS at rest {base / 1024:.0f} MB, peak (VmHWM) "
                  f"{peak / 1024:.0f} MB")
        return 0
    except (bb.SetupError, RuntimeError) as e:
        print(f"setup error: {e}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.destroy()
        ws.cleanup()


if __name__ == "__main__":
    sys.exit(main())
