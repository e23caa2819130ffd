#!/usr/bin/env python3
"""The kill -9 proof: beed killed with SIGKILL at random points of its runs never marks as
confirmed a quantity the store does not hold, never loses a change it still owes the store, and
never leaves a half-written store file. A later run always converges."""

import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402

N_SKUS = 100_000
ITERATIONS = 14
SEED = 20261126
SKUS = ["SKU-%06d" % i for i in range(N_SKUS)]


def write_big_feed(env, quantities):
    return env.write_feed(None, raw="sku,quantity\n" + "".join(
        "%s,%d\n" % (s, q) for s, q in zip(SKUS, quantities)))


class CrashSafetyTest(BeeTestCase):

    def check_invariants(self, env, feeds, where):
        """Checks the state (pb_state_dump) against the store file with beed dead. `feeds` are
        the quantity lists written so far, oldest first. Returns counts for the report."""
        self.assertFalse(env.running())
        state = env.state_dump()
        store = env.read_store()  # also checks the file is complete and well formed
        stats = {"pending": 0, "in_flight": 0}

        if not state:
            # The first feed was never applied: nothing can be confirmed.
            self.assertTrue(store is None or set(store) == set(SKUS), where)
            return stats
        self.assertTrue(set(state) <= set(SKUS), where)
        # A feed is applied in transactions of at most 50,000 writes (lib/sync/change_detector.cpp),
        # so a kill between two of them leaves the state partly on the feed being applied and
        # partly on the one before (and a first feed partly inserted). Each transaction writes the
        # item and the change index together, so per SKU the stored quantity is always one a feed
        # gave it, and the next run re-reads the feed and applies the rest.
        for i, sku in enumerate(SKUS):
            if sku in state:
                self.assertIn(state[sku]["quantity"], {f[i] for f in feeds},
                              "%s: %s holds a quantity no feed gave it" % (where, sku))

        if store is None:
            confirmed = [s for s in state if state[s]["store_quantity"] is not None]
            self.assertEqual(confirmed[:5], [], "%s: confirmed without a store file" % where)
            self.assertTrue(all(state[s]["pending"] for s in state), where)
            return stats
        # A push happens only after a whole feed was applied once.
        self.assertEqual(len(state), N_SKUS, "%s: state holds a partial catalogue" % where)
        # Every push carried the whole catalogue at first, so the file is never partial.
        self.assertEqual(len(store), N_SKUS, "%s: store file has %d rows" % (where, len(store)))

        lying, lost = [], []
        for s in SKUS:
            item = state[s]
            self.assertTrue(item["listed"], (s, item))
            self.assertEqual(item["wanted"], item["quantity"], (s, item))  # buffer 0
            if item["pending"]:
                stats["pending"] += 1
                if store[s] == item["wanted"] and item["store_quantity"] != item["wanted"]:
                    stats["in_flight"] += 1  # pushed, killed before it was recorded
                continue
            # Not pending: the store must hold exactly what is wanted, as confirmed.
            if store[s] != item["wanted"] or item["store_quantity"] != item["wanted"]:
                lying.append((s, item, store[s]))
        for s in SKUS:
            if store[s] != state[s]["wanted"] and not state[s]["pending"]:
                lost.append(s)
        self.assertEqual(lying[:5], [], "%s: %d SKUs marked confirmed that the store does not "
                                        "hold" % (where, len(lying)))
        self.assertEqual(lost[:5], [], "%s: %d stale SKUs not pending" % (where, len(lost)))
        return stats

    def test_kill9_at_random_points(self):
        rng = random.Random(SEED)
        env = self.make_env()
        env.write_config(connections={"demo": env.connection(schedule="60m")})
        quantities = [rng.randint(1, 999) for _ in SKUS]
        feeds = []
        report = []
        phases = {}
        last_run_id = 0
        interrupted_seen = 0
        for it in range(1, ITERATIONS + 1):
            if it > 1:
                # ~20% change, each to a value this SKU never had before (iteration * 1000 + x):
                # a quantity going back to an earlier value is the separate test below.
                for i in rng.sample(range(N_SKUS), N_SKUS // 5):
                    quantities[i] = it * 1000 + rng.randint(0, 999)
            write_big_feed(env, quantities)
            feeds.append(list(quantities))

            if not env.running():
                env.start()
                status = env.conn_status()
                last = status["last_sync"]
                if last is not None:
                    # Run ids never go back after a kill (compared with the last run seen
                    # recorded: a run killed before its first write may legitimately vanish).
                    self.assertGreaterEqual(last["id"], last_run_id, status)
                    last_run_id = last["id"]
                if "the last run was interrupted" in env.log_text():
                    interrupted_seen += 1
            kind = "full-sync" if it % 2 else "sync"
            r = env.beectl(kind, "demo", json_out=True)
            self.assertEqual(r.code, 0, r)
            # 0-1.5 s, denser early: the runs (the resumed one, then ours) are over in ~1 s.
            delay = 1.5 * rng.random() ** 2
            time.sleep(delay)
            progress = env.conn_status().get("progress")  # where the kill lands, for the report
            env.kill()
            tail = [l for l in env.log_text().splitlines() if " run " in l][-1:]
            stats = self.check_invariants(env, feeds, "iteration %d (%s, killed after %.2f s)"
                                          % (it, kind, delay))
            phase = "run %d %s" % (progress["run_id"], progress["phase"]) if progress else "idle"
            phases[progress["phase"] if progress else "idle"] = \
                phases.get(progress["phase"] if progress else "idle", 0) + 1
            report.append("%2d %-9s kill at %.2f s (%-16s) pending %6d  pushed-unrecorded %6d"
                          "  | %s" % (it, kind, delay, phase, stats["pending"], stats["in_flight"],
                                      tail[0][6:80] if tail else "-"))

        print("\n" + "\n".join(report), file=sys.stderr)
        print("kills by phase: %s; restarts that logged an interrupted run: %d"
              % (phases, interrupted_seen), file=sys.stderr)

        # Converges: one Smart Sync to completion puts the latest feed in the store.
        env.start()
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["result"], "ok", r)
        env.stop()
        store = env.read_store()
        wrong = [(s, store.get(s), q) for s, q in zip(SKUS, quantities) if store.get(s) != q]
        self.assertEqual(wrong[:5], [], "%d SKUs differ from the latest feed" % len(wrong))
        self.assertEqual(len(store), N_SKUS)
        state = env.state_dump()
        self.assertEqual([s for s in SKUS if state[s]["pending"]][:5], [])
        self.assertTrue(all(state[s]["store_quantity"] == q for s, q in zip(SKUS, quantities)))

    def test_interrupted_run_is_logged_and_marked_failed(self):
        env = self.make_env()
        # The warehouse is a FIFO: run 1 blocks reading it, so the kill lands mid-run for sure.
        harness.make_fifo(os.path.join(env.root, "demo.fifo"))
        env.write_config(connections={"demo": env.connection(
            warehouse={"type": "csv", "path": "demo.fifo"})},
            daemon_extra={"max_concurrent_syncs": 1})
        env.start()
        c = harness.wait_for(lambda: (lambda c: c if c["last_sync"] and c.get("progress") and
                                      c["progress"]["phase"] == "reading" else None)(
            env.conn_status()), what="run 1 recorded and reading")
        self.assertEqual((c["state"], c["last_sync"]["id"], c["last_sync"]["result"]),
                         ("syncing", 1, "running"), c)
        self.assertEqual(c["progress"]["phase"], "reading", c)
        env.kill()

        # Restart with a "gate" connection first, whose run holds the only sync slot (its
        # warehouse is a FIFO too): demo's resumed run waits, so status still shows run 1.
        gate_fifo = harness.make_fifo(os.path.join(env.root, "gate.fifo"))
        env.write_feed({"A": 7, "B": 10, "C": 3})
        env.write_config(connections={
            "gate": env.connection(warehouse={"type": "csv", "path": "gate.fifo"},
                                   store={"type": "csv", "path": "out/gate.csv"}),
            "demo": env.connection()}, daemon_extra={"max_concurrent_syncs": 1})
        env.start()
        log = env.log_text()
        # stderr is a pipe here: lines carry sd-daemon <N> priority prefixes (4 = warning).
        self.assertIn("<4>demo: the last run was interrupted (beed stopped during it); it is "
                      "marked failed and a new run is due now", log)
        self.assertNotIn("gate: the last run was interrupted", log)
        gate = harness.wait_for(lambda: (lambda g: g if g["last_sync"] else None)(
            env.conn_status("gate")), what="the gate's run recorded")
        self.assertEqual((gate["state"], gate["last_sync"]["id"]), ("syncing", 1), gate)
        demo = harness.wait_for(lambda: (lambda d: d if d.get("progress") else None)(
            env.conn_status("demo")), what="demo's resumed run waiting for the slot")
        last = demo["last_sync"]
        self.assertEqual((last["id"], last["result"], last["kind"], last["trigger"]),
                         (1, "failed", "full", "schedule"), demo)
        self.assertRegex(last["finished_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(demo["progress"]["phase"], "queued", demo)

        # Let the gate through: demo's resumed run (id 2, still a Full Sync) completes.
        self.assertTrue(harness.feed_fifo(gate_fifo, "sku,quantity\nG,1\n"))
        last = env.wait_run(2, name="demo")
        self.assertEqual((last["id"], last["result"], last["kind"], last["trigger"], last["pushed"]),
                         (2, "ok", "full", "schedule", 3), last)
        self.assertEqual(env.read_store_raw(), b"sku,quantity\nA,7\nB,10\nC,3\n")
        self.assertEqual(env.read_store(os.path.join(env.root, "out", "gate.csv")), {"G": 1})

    # Regression: a push whose outcome is unknown (beed killed after the store file was replaced,
    # before record_verdicts committed) left store_quantity at the last *confirmed* value; if the
    # warehouse quantity then returned to that value the SKU left the change index while the store
    # kept the pushed value. The batch in flight is now recorded before the push and its SKUs are
    # marked in doubt after a kill (lib/sync/batch_planner.hpp).
    def test_kill_after_store_write_then_quantity_reverts(self):
        env = self.make_env()
        env.write_config(connections={"demo": env.connection(schedule="60m")})
        base = 1
        write_big_feed(env, [base] * N_SKUS)
        env.start()
        env.wait_run(1)
        hit = False
        for attempt in range(3):
            write_big_feed(env, [base + 1] * N_SKUS)
            inode = os.stat(env.store_path).st_ino
            r = env.beectl("sync", "demo")
            self.assertEqual(r.code, 0, r)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if os.stat(env.store_path).st_ino != inode:
                        break
                except FileNotFoundError:
                    pass
                time.sleep(0.0002)
            env.kill()  # right after the store file was replaced
            state = env.state_dump()
            store = env.read_store()
            self.assertEqual(set(store.values()), {base + 1})
            in_flight = sum(1 for s in SKUS if state[s]["pending"] and
                            state[s]["store_quantity"] == base)
            if in_flight == N_SKUS:
                hit = True
                break
            # Too late: the push was recorded. Start over from the new confirmed quantity.
            base += 1
            env.start()
            env.wait_idle()
        if not hit:
            self.skipTest("could not land the kill between the store write and its record")

        # The warehouse goes back to the last confirmed quantity; beed comes back.
        write_big_feed(env, [base] * N_SKUS)
        env.start()
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual((r.code, r.json["result"]), (0, "ok"), r)
        env.stop()
        self.check_invariants(env, [[base] * N_SKUS], "after the revert")
        store = env.read_store()
        self.assertEqual(sum(1 for q in store.values() if q != base), 0,
                         "the store still holds the unconfirmed push")


if __name__ == "__main__":
    harness.main()
