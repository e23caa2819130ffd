#!/usr/bin/env python3
"""Incremental warehouse reads at catalogue scale (a benchmark: it prints figures).

  python3 bench/incremental_sync.py [--rows 1000000] [--changes 100] [--rounds 5] [--skip-http]

1. PostgreSQL: a throwaway server (tests/integration/pg_server.py) holds --rows SKUs with a
   `modified` time (indexed). beed reads them with
   `WHERE $1::timestamptz IS NULL OR modified >= $1::timestamptz` and `cursor_column: modified`
   into a CSV store. The first (automatic) Full Sync reads everything. Then, --rounds times,
   --changes rows are UPDATEd and `beectl sync big --wait` is timed end to end (beectl start to
   exit), with the run's own duration and its phases.
2. Paged HTTP: the inventory-source emulator (tests/emulators/inventory_source) serves --rows
   generated items, 1,000 a page; beed's `type: http-json` warehouse with `updated_since` reads
   them: the Full read's time and beed's peak RSS, then the same incremental rounds (items
   changed through the emulator's control endpoint).

The CSV store rewrites its whole file on every push, so an incremental run that pushes
anything pays for the catalogue there; the table shows that part (pushing) apart.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import beedbench as bb  # noqa: E402
import pg_server  # noqa: E402
from postgres_read import follow_run, write_config  # noqa: E402


def beectl_sync(beectl, sock):
    env = dict(os.environ, BEECTL_SOCKET=sock)
    t0 = time.monotonic()
    p = subprocess.run([beectl, "--json", "sync", "big", "--wait"], capture_output=True,
                       text=True, env=env, timeout=600)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise bb.SetupError("beectl sync failed: %s %s" % (p.stdout, p.stderr))
    return wall, json.loads(p.stdout)


def run_rounds(label, beectl, sock, rounds, change, expected_changes, warm_up=False):
    """`warm_up`: one untimed round first (it moves the cursor past rows that all share the
    first read's timestamp, which the >= comparison would otherwise read again)."""
    rows = []
    for n in range(0 if warm_up else 1, rounds + 1):
        change(n)
        wall, run = beectl_sync(beectl, sock)
        if run["result"] != "ok" or run["pushed"] != expected_changes:
            raise bb.SetupError("%s: round %d: %r" % (label, n, run))
        if n == 0:
            continue
        rows.append([label, n, run["read"], run["changed"], run["pushed"],
                     "%.1f" % (run["duration_ms"]), "%.1f" % (wall * 1000.0), "", ""])
    # One more round, requested without waiting and followed through `status` every 5 ms, to
    # see where the time goes: reading + detecting (the warehouse and LMDB) against pushing +
    # recording (the store, here the CSV file's rewrite, and LMDB).
    change(rounds + 1)
    run_id = bb.request_once(sock, "sync", {"connection": "big"})["run_id"]
    phases, _, record = follow_run(None, sock, run_id)
    engine = phases.get("reading", 0.0) + phases.get("detecting", 0.0)
    store = phases.get("pushing", 0.0) + phases.get("recording", 0.0)
    rows.append([label, "%d (phases)" % (rounds + 1), record["read"], record["changed"],
                 record["pushed"], "%.1f" % record["duration_ms"], "-",
                 "%.0f" % (engine * 1000.0), "%.0f" % (store * 1000.0)])
    return rows


def start_beed(beed_bin, root, warehouse_yaml):
    config = write_config(root, warehouse_yaml)
    sock = os.path.join(root, "beed.sock")
    beed = bb.Beed(beed_bin, config, os.path.join(root, "beed.log")).start()
    bb.wait_for_socket(beed, sock)
    return beed, sock


def full_figures(label, beed, sock, rows):
    phases, read_rss, record = follow_run(beed, sock, 1)
    if record["result"] != "ok" or record["read"] != rows:
        raise bb.SetupError("%s: first run %r" % (label, record))
    return [label, record["read"], "%.2f" % phases.get("reading", 0.0),
            "%.2f" % (record["duration_ms"] / 1000.0), "%.0f" % (read_rss[0] / 1024.0),
            "%.0f" % (bb.proc_sample(beed.pid)["hwm_kb"] / 1024.0)]


def bench_postgres(ws, beed_bin, beectl, args, full_rows, round_rows):
    try:
        server = pg_server.PgServer.start(os.path.join(ws.path, "pg"))
    except pg_server.PgUnavailable as e:
        print("postgres skipped: %s" % e, file=sys.stderr)
        return
    try:
        server.create_database("wms")
        server.psql("wms",
                    "CREATE TABLE bin (sku text PRIMARY KEY, qty integer NOT NULL, "
                    "modified timestamptz NOT NULL);"
                    "INSERT INTO bin SELECT 'SKU-' || lpad(i::text, 7, '0'), "
                    "(i::bigint * 7919) %% 500, "
                    "'2026-01-01'::timestamptz + i * interval '1 millisecond' "
                    "FROM generate_series(1, %d) i;"
                    "CREATE INDEX bin_modified ON bin (modified);"
                    "VACUUM ANALYZE bin;"
                    "CREATE ROLE packagebee LOGIN; GRANT SELECT ON bin TO packagebee;"
                    % args.rows)
        root = os.path.join(ws.path, "beed-pg")
        os.makedirs(root)
        warehouse = ('{type: postgres, conninfo: "%s", cursor_column: modified, query: '
                     '"SELECT sku, qty AS quantity, modified FROM bin WHERE $1::timestamptz '
                     'IS NULL OR modified >= $1::timestamptz"}'
                     % server.conninfo("wms", "packagebee"))
        beed, sock = start_beed(beed_bin, root, warehouse)
        try:
            full_rows.append(full_figures("postgres", beed, sock, args.rows))
            step = max(1, args.rows // args.changes)

            def change(n):
                server.psql("wms", "UPDATE bin SET qty = qty + 1, modified = now() "
                                   "WHERE sku IN (SELECT 'SKU-' || lpad((i * %d + %d)::text, 7, "
                                   "'0') FROM generate_series(0, %d) i)"
                            % (step, n, args.changes - 1))
            round_rows += run_rounds("postgres", beectl, sock, args.rounds, change, args.changes)
        finally:
            beed.stop()
    finally:
        server.destroy()


def bench_http(ws, beed_bin, beectl, args, full_rows, round_rows):
    emulator = os.path.join(ROOT, "tests", "emulators", "inventory_source", "inventory_source.py")
    port_file = os.path.join(ws.path, "emulator.port")
    proc = subprocess.Popen([sys.executable, emulator, "--port", "0", "--port-file", port_file,
                             "--generate", str(args.rows), "--max-page-size", "1000",
                             "--clock", "2026-11-26T10:00:00Z"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not os.path.exists(port_file):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise bb.SetupError("the inventory source emulator did not start")
            time.sleep(0.2)
        port = int(open(port_file).read().strip())
        base = "http://127.0.0.1:%d" % port

        def control(path, body):
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=60).read()

        root = os.path.join(ws.path, "beed-http")
        os.makedirs(root)
        warehouse = ('{type: http-json, url: "%s/api/inventory", paging: page, page_size: 1000, '
                     'quantity_field: stock.available, updated_since_param: updated_since}' % base)
        beed, sock = start_beed(beed_bin, root, warehouse)
        try:
            full_rows.append(full_figures("http-json", beed, sock, args.rows))
            step = max(1, args.rows // args.changes)

            def change(n):
                control("/_emulator/clock", {"advance": 60})
                items = [{"sku": "SKU-%07d" % (i * step + n + 1), "quantity": 10_000 + n}
                         for i in range(args.changes)]
                control("/_emulator/items", {"items": items})
            round_rows += run_rounds("http-json", beectl, sock, args.rounds, change,
                                     args.changes, warm_up=True)
        finally:
            beed.stop()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bb.add_common_args(parser)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    try:
        beed_bin = bb.find_binary(args.build_dir, "beed")
        beectl = bb.find_binary(args.build_dir, "beectl")
    except bb.SetupError as e:
        print("setup error: %s" % e, file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-bench-incr-", keep=args.keep, path=args.dir)
    full_rows, round_rows = [], []
    try:
        print("%s rows, %d changed per round; beed %s; load %s"
              % (f"{args.rows:,}", args.changes, beed_bin, bb.loadavg()))
        if not args.skip_postgres:
            bench_postgres(ws, beed_bin, beectl, args, full_rows, round_rows)
        if not args.skip_http:
            bench_http(ws, beed_bin, beectl, args, full_rows, round_rows)
        print()
        print(bb.table(["source", "rows read", "reading s", "Full Sync s", "RSS reading MB",
                        "beed peak RSS MB"], full_rows))
        print()
        print(bb.table(["source", "round", "read", "changed", "pushed", "run ms",
                        "beectl sync --wait ms", "read+detect ms", "push+record ms"],
                       round_rows))
        return 0
    except (bb.SetupError, RuntimeError) as e:
        print("setup error: %s" % e, file=sys.stderr)
        return 1
    finally:
        ws.cleanup()


if __name__ == "__main__":
    sys.exit(main())
