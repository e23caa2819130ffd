#!/usr/bin/env python3
"""The do-it-yourself baseline for bench/whole_process.py: the job a cron script does the obvious
way, with Python's csv and sqlite3 (a benchmark helper: it prints one line of figures).

  python3 bench/diy_sync.py FEED.csv STATE.sqlite STORE.csv

Reads the warehouse feed (header `sku,quantity`), compares every row with the quantity it
applied last time (kept in SQLite), writes the changed ones back to SQLite in one transaction,
and, when anything changed, rewrites the store's CSV file (every SKU, sorted) through a temporary
file, fsync and rename, as beed's CSV store does. The first run applies everything.
"""

import csv
import os
import sqlite3
import sys
import time


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    feed, state, store = sys.argv[1:]
    t0 = time.monotonic()
    db = sqlite3.connect(state)
    db.execute("CREATE TABLE IF NOT EXISTS item (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL)")
    known = dict(db.execute("SELECT sku, qty FROM item"))
    changed = []
    read = 0
    with open(feed, newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            read += 1
            sku, qty = row["sku"].strip(), int(row["quantity"])
            if known.get(sku) != qty:
                changed.append((sku, qty))
                known[sku] = qty
    with db:
        db.executemany("INSERT INTO item (sku, qty) VALUES (?, ?) "
                       "ON CONFLICT(sku) DO UPDATE SET qty = excluded.qty", changed)
    if changed:
        tmp = store + ".tmp"
        with open(tmp, "w", newline="") as out:
            w = csv.writer(out)
            w.writerow(["sku", "quantity"])
            w.writerows(db.execute("SELECT sku, qty FROM item ORDER BY sku"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, store)
    db.close()
    print("read %d changed %d in %.3f s" % (read, len(changed), time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
