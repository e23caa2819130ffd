#!/usr/bin/env python3
"""End-to-end sync flows: the product's Full/Smart Sync example, the inventory rules, queued
requests, `status`, the automatic schedule and what survives a restart."""

import os
import re
import sys
import time
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RUN_SUMMARY_KEYS = {"id", "kind", "trigger", "started_at", "finished_at", "result", "pushed",
                    "rejected"}
RUN_KEYS = RUN_SUMMARY_KEYS | {"connection", "read", "changed", "bad_rows", "duration_ms", "error"}
ITEM_KEYS = {"sku", "quantity", "updated_at", "wanted", "listed", "confirmed_at", "pending",
             "error", "store_quantity"}


def parse_iso(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def store_text(rows):
    return ("sku,quantity\n" + "".join("%s,%d\n" % (s, q) for s, q in sorted(rows.items()))).encode()


class SyncFlowTest(BeeTestCase):

    def assert_run(self, run, **expected):
        """`run` is a --wait reply; every key in `expected` must match exactly."""
        self.assertEqual(set(run), RUN_KEYS, run)
        for key, value in expected.items():
            self.assertEqual(run[key], value, "run.%s in %r" % (key, run))
        self.assertRegex(run["started_at"], ISO)
        self.assertRegex(run["finished_at"], ISO)
        self.assertGreaterEqual(run["duration_ms"], 0)

    def sync(self, env, kind, expect_code=0):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait", json_out=True)
        self.assertEqual(r.code, expect_code, r)
        self.assertIsNotNone(r.json, r)
        return r.json

    def start_synced(self, env, feed, **connection):
        """Writes config + feed, starts beed, waits for the first automatic (Full) run."""
        env.write_config(connections={env.name: env.connection(**connection)})
        env.write_feed(feed)
        env.start()
        last = env.wait_run(1)
        self.assertEqual((last["id"], last["kind"], last["trigger"], last["result"]),
                         (1, "full", "schedule", "ok"), last)
        return last

    # -------------------------------------------------------------------------------------

    def test_product_example_full_then_smart(self):
        env = self.make_env()
        self.start_synced(env, {"A": 7, "B": 10, "C": 3})
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,7\nB,10\nC,3\n")

        # Full Sync on demand: every SKU is pushed, nothing changed in the warehouse.
        run = self.sync(env, "full")
        self.assert_run(run, id=2, connection="demo", kind="full", trigger="manual", result="ok",
                        read=3, changed=0, pushed=3, rejected=0, bad_rows=0, error="")
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,7\nB,10\nC,3\n")
        self.assertEqual(env.read_store(), {"A": 7, "B": 10, "C": 3})

        before = env.inventory()
        self.assertEqual(set(before), {"A", "B", "C"})
        for sku, qty in (("A", 7), ("B", 10), ("C", 3)):
            item = before[sku]
            self.assertEqual(set(item), ITEM_KEYS, item)
            self.assertEqual((item["quantity"], item["wanted"], item["store_quantity"],
                              item["pending"], item["listed"], item["error"]),
                             (qty, qty, qty, False, True, ""), item)
            self.assertRegex(item["updated_at"], ISO)
            self.assertRegex(item["confirmed_at"], ISO)

        # Timestamps have one-second resolution: make any rewrite of B visible.
        time.sleep(1.2)
        env.write_feed({"A": 5, "B": 10, "C": 3})
        run = self.sync(env, "smart")
        self.assert_run(run, id=3, connection="demo", kind="smart", trigger="manual", result="ok",
                        read=3, changed=1, pushed=1, rejected=0, bad_rows=0, error="")
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,5\nB,10\nC,3\n")

        changed = env.beectl("inventory", "demo", "--changed", json_out=True)
        self.assertEqual(changed.code, 0, changed)
        self.assertEqual(changed.json, {"connection": "demo", "items": [], "truncated": False})

        after = env.inventory()
        a = after["A"]
        self.assertEqual((a["quantity"], a["wanted"], a["store_quantity"], a["pending"],
                          a["listed"], a["error"]), (5, 5, 5, False, True, ""), a)
        self.assertGreater(parse_iso(a["updated_at"]), parse_iso(before["A"]["updated_at"]))
        self.assertGreater(parse_iso(a["confirmed_at"]), parse_iso(before["A"]["confirmed_at"]))
        # B and C did not change in quantity: not synchronized, not touched at all.
        self.assertEqual(after["B"], before["B"])
        self.assertEqual(after["C"], before["C"])

        # Nothing changed since: a Smart Sync pushes nothing and leaves the store file alone.
        run = self.sync(env, "smart")
        self.assert_run(run, id=4, kind="smart", result="ok", read=3, changed=0, pushed=0,
                        rejected=0)
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,5\nB,10\nC,3\n")

        # Human output of --wait.
        r = env.beectl("sync", "demo", "--wait")
        self.assertEqual(r.code, 0, r)
        self.assertIn("run 5 (smart sync of demo) finished ok", r.stdout)
        self.assertIn("read 3, changed 0, pushed 0, rejected 0, bad rows 0", r.stdout)

    def test_missing_skus_zero_pushes_zero(self):
        env = self.make_env()
        self.start_synced(env, {"A": 7, "B": 10, "C": 3, "D": 4}, missing_skus="zero")
        env.write_feed({"A": 7, "B": 10, "D": 4})  # C left the feed
        run = self.sync(env, "smart")
        self.assert_run(run, kind="smart", result="ok", read=3, changed=1, pushed=1, rejected=0)
        self.assertEqual(env.read_store_raw(), store_text({"A": 7, "B": 10, "C": 0, "D": 4}))
        c = env.inventory()["C"]
        self.assertEqual((c["quantity"], c["wanted"], c["store_quantity"], c["listed"],
                          c["pending"]), (0, 0, 0, True, False), c)

    def test_missing_skus_keep_leaves_store_alone(self):
        env = self.make_env()
        self.start_synced(env, {"A": 7, "B": 10, "C": 3, "D": 4}, missing_skus="keep")
        env.write_feed({"A": 7, "B": 10, "D": 4})
        run = self.sync(env, "smart")
        self.assert_run(run, kind="smart", result="ok", read=3, changed=0, pushed=0, rejected=0)
        self.assertEqual(env.read_store_raw(), store_text({"A": 7, "B": 10, "C": 3, "D": 4}))
        run = self.sync(env, "full")  # a Full Sync pushes listed SKUs only
        self.assert_run(run, kind="full", result="ok", read=3, pushed=3)
        self.assertEqual(env.read_store_raw(), store_text({"A": 7, "B": 10, "C": 3, "D": 4}))
        c = env.inventory()["C"]
        self.assertEqual((c["quantity"], c["store_quantity"], c["listed"], c["pending"]),
                         (3, 3, False, False), c)

    def test_buffer_is_held_back(self):
        env = self.make_env()
        self.start_synced(env, {"A": 7, "B": 2, "C": 1, "D": 0, "E": 100, "F": -3}, buffer=2)
        expected = {"A": 5, "B": 0, "C": 0, "D": 0, "E": 98, "F": 0}
        self.assertEqual(env.read_store_raw(), store_text(expected))
        inv = env.inventory()
        for sku, qty in {"A": 7, "B": 2, "C": 1, "D": 0, "E": 100, "F": -3}.items():
            self.assertEqual((inv[sku]["quantity"], inv[sku]["wanted"],
                              inv[sku]["store_quantity"], inv[sku]["pending"]),
                             (qty, expected[sku], expected[sku], False), inv[sku])

        env.write_feed({"A": 3, "B": 2, "C": 3, "D": 0, "E": 100, "F": -3})
        run = self.sync(env, "smart")
        self.assert_run(run, kind="smart", result="ok", changed=2, pushed=2)
        expected.update({"A": 1, "C": 1})
        self.assertEqual(env.read_store_raw(), store_text(expected))

    def test_queued_wait_requests_both_finish(self):
        env = self.make_env()
        fifo = harness.make_fifo(os.path.join(env.root, "wh.fifo"))
        env.write_config(connections={"demo": env.connection(
            warehouse={"type": "csv", "path": "wh.fifo"})})
        env.start()  # run 1 (automatic Full) now blocks reading the FIFO
        harness.wait_for(lambda: env.conn_status()["state"] == "syncing", what="run 1")
        self.assertTrue(harness.feed_fifo(fifo, harness.feed_text({"A": 7, "B": 10})))
        env.wait_run(1)

        first = env.beectl_async("full-sync", "demo", "--wait")
        harness.wait_for(lambda: (env.conn_status().get("progress") or {}).get("run_id") == 2,
                         what="run 2 in progress")
        second = env.beectl_async("sync", "demo", "--wait")
        harness.wait_for(lambda: "smart sync requested on the control socket: run 3 (queued)"
                         in env.log_text(), what="run 3 queued")
        # A third request while run 3 is queued joins it.
        joined = env.beectl("sync", "demo", json_out=True)
        self.assertEqual(joined.code, 0, joined)
        self.assertEqual(joined.json, {"connection": "demo", "run_id": 3, "kind": "smart",
                                       "queued": True})
        time.sleep(0.3)
        self.assertIsNone(first.poll(), "run 2 cannot have finished: its feed is not written")
        self.assertIsNone(second.poll())

        self.assertTrue(harness.feed_fifo(fifo, harness.feed_text({"A": 7, "B": 10})))
        r1 = env.finish_async(first, timeout=60)
        self.assertEqual(r1.code, 0, r1)
        self.assert_run(r1.json, id=2, kind="full", trigger="manual", result="ok", pushed=2,
                        changed=0)
        self.assertIsNone(second.poll(), "run 3 waits for its own feed")

        self.assertTrue(harness.feed_fifo(fifo, harness.feed_text({"A": 5, "B": 10})))
        r2 = env.finish_async(second, timeout=60)
        self.assertEqual(r2.code, 0, r2)
        self.assert_run(r2.json, id=3, kind="smart", trigger="manual", result="ok", read=2,
                        changed=1, pushed=1)
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,5\nB,10\n")
        last = env.conn_status()["last_sync"]
        self.assertEqual((last["id"], last["result"]), (3, "ok"))

    def test_status_shape(self):
        env = self.make_env()
        env.write_feed({"A": 1})
        conns = {"demo": env.connection(schedule="60m"),
                 "zeta": env.connection(schedule="2h", automatic="full",
                                        store={"type": "csv", "path": "out/zeta.csv"}),
                 "alpha": env.connection(store={"type": "csv", "path": "out/alpha.csv"})}
        env.write_config(connections=conns)
        env.start()
        for name in conns:
            env.wait_run(1, name=name)
        time.sleep(1.1)
        status = env.status()
        self.assertEqual(set(status), {"version", "uptime_s", "connections"}, status)
        self.assertRegex(status["version"], r"^\d+\.\d+\.\d+")
        self.assertIsInstance(status["uptime_s"], int)
        self.assertGreaterEqual(status["uptime_s"], 1)
        self.assertLess(status["uptime_s"], 120)
        # In configuration order.
        self.assertEqual([c["name"] for c in status["connections"]], ["demo", "zeta", "alpha"])
        for c in status["connections"]:
            # "progress" appears only while a run is in flight.
            self.assertEqual(set(c) - {"progress"},
                             {"name", "state", "paused", "last_sync", "next_sync_at",
                              "next_full_sync_at"}, c)
            self.assertEqual(c["state"], "idle")
            last = c["last_sync"]
            self.assertEqual(set(last), RUN_SUMMARY_KEYS, last)
            self.assertEqual((last["id"], last["kind"], last["trigger"], last["result"],
                              last["pushed"], last["rejected"]), (1, "full", "schedule", "ok", 1, 0))
            for key in ("started_at", "finished_at"):
                self.assertRegex(last[key], ISO)
            self.assertRegex(c["next_sync_at"], ISO)
            schedule = {"demo": 3600, "zeta": 7200, "alpha": 3600}[c["name"]]
            due = parse_iso(c["next_sync_at"]) - parse_iso(last["started_at"])
            self.assertLessEqual(abs(due - timedelta(seconds=schedule)), timedelta(seconds=3), c)

        conn_list = env.beectl("connections", json_out=True)
        self.assertEqual(conn_list.code, 0, conn_list)
        by_name = {c["name"]: c for c in conn_list.json["connections"]}
        self.assertEqual((by_name["zeta"]["schedule_s"], by_name["zeta"]["automatic"]),
                         (7200, "full"))
        self.assertEqual(by_name["demo"]["state"], "idle")

        human = env.beectl("status")
        self.assertEqual(human.code, 0, human)
        self.assertTrue(human.stdout.startswith("beed %s, up " % status["version"]), human.stdout)
        self.assertIn("CONNECTION", human.stdout)

    def test_schedule_runs_smart_sync_automatically(self):
        env = self.make_env()
        self.start_synced(env, {"A": 7, "B": 10, "C": 3}, schedule="2s")
        env.write_feed({"A": 5, "B": 10, "C": 3})
        # No beectl at all: only the schedule can bring A to 5.
        harness.wait_for(lambda: os.path.exists(env.store_path) and
                         env.read_store_raw() == b"sku,quantity\nA,5\nB,10\nC,3\n",
                         timeout=15, what="the scheduled run to push A 5")
        # The result is logged once the run is recorded, just after the store file changed.
        done = re.compile(r"demo: run \d+ ok: smart sync \(schedule\), read 3, changed 1, "
                          r"pushed 1, rejected 0, bad rows 0")
        harness.wait_for(lambda: done.search(env.log_text()), timeout=5,
                         what="the scheduled run's result in the log")
        self.assertNotIn("requested on the control socket", env.log_text())
        # It keeps going: another scheduled run within a few seconds.
        first = env.conn_status()["last_sync"]["id"]
        last = harness.wait_for(
            lambda: (lambda l: l if l["id"] > first and l["result"] != "running" else None)(
                env.conn_status()["last_sync"]), timeout=10, what="another scheduled run")
        self.assertEqual((last["kind"], last["trigger"], last["result"], last["pushed"]),
                         ("smart", "schedule", "ok", 0))

    def test_schedule_and_run_ids_survive_restart(self):
        env = self.make_env()
        self.start_synced(env, {"A": 7, "B": 10, "C": 3}, schedule="60m")
        run = self.sync(env, "full")
        self.assertEqual(run["id"], 2)
        before = env.conn_status()
        self.assertEqual(env.stop(), 0)
        self.assertFalse(os.path.exists(env.socket), "socket left behind after SIGTERM")

        time.sleep(1.2)  # next_sync_at has one-second resolution
        env.start()
        after = env.conn_status()
        self.assertEqual(after["next_sync_at"], before["next_sync_at"])
        self.assertEqual(after["last_sync"], before["last_sync"])
        self.assertEqual(after["state"], "idle")
        time.sleep(1.0)
        self.assertEqual(env.conn_status()["last_sync"]["id"], 2, "a restart must not run a sync "
                         "that is not due")
        log = env.log_text()
        self.assertNotIn("interrupted", log)
        self.assertNotIn("run 1 started", log)

        env.write_feed({"A": 5, "B": 10, "C": 3})
        run = self.sync(env, "smart")
        self.assert_run(run, id=3, kind="smart", trigger="manual", result="ok", changed=1,
                        pushed=1)
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,5\nB,10\nC,3\n")
        # Manual runs do not move the schedule.
        self.assertEqual(env.conn_status()["next_sync_at"], before["next_sync_at"])

        # Once more with SIGKILL while idle: nothing is lost either.
        env.kill()
        env.start()
        again = env.conn_status()
        self.assertEqual(again["next_sync_at"], before["next_sync_at"])
        self.assertEqual(again["last_sync"]["id"], 3)
        self.assertNotIn("interrupted", env.log_text())
        self.assertEqual(self.sync(env, "full")["id"], 4)


if __name__ == "__main__":
    harness.main()
