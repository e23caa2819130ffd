#!/usr/bin/env python3
"""The inventory rules end to end, with exact quantities: several warehouses summed with SKU
filters, listings (inline and from a file, include/exclude globs), bundles, a percentage buffer
with a minimum distributable, stale re-push, the in-daemon Full Sync schedule and the
on_failure hook."""

import json
import os
import stat
import sys
import time
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".part"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def csv_text(rows):
    return "sku,quantity\n" + "".join("%s,%d\n" % (s, q) for s, q in sorted(rows.items()))


class InventoryRulesTest(BeeTestCase):

    def sync(self, env, kind):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True)
        self.assertIsNotNone(r.json, r)
        return r.json

    def rules_connection(self, env, **inventory):
        east = os.path.join(env.root, "east.csv")
        west = os.path.join(env.root, "west.csv")
        listings = os.path.join(env.root, "listings.csv")
        write(listings, "warehouse_sku,store_sku\nW-MUG,MUG\nW-CUP,CUP\n")
        conn = {
            "warehouses": [
                {"name": "east", "type": "csv", "path": east},
                # West also stocks samples, which are never sold from it.
                {"name": "west", "type": "csv", "path": west, "exclude_skus": ["SAMPLE-*"]},
            ],
            "store": {"type": "csv", "path": "out/%s.csv" % env.name},
            "listings": {"file": listings, "map": {"W-TEA": "TEA-50G"},
                         "exclude": ["INTERNAL-*"]},
            "bundles": {"GIFT-BOX": {"W-MUG": 1, "W-TEA": 3}},
            "inventory": dict({"schedule": "60m", "buffer": "10%",
                               "minimum_distributable": 2}, **inventory),
        }
        return conn, east, west

    def test_rules_give_exact_quantities_and_smart_sync_pushes_only_affected_skus(self):
        env = self.make_env()
        conn, east, west = self.rules_connection(env)
        write(east, csv_text({"W-MUG": 20, "W-TEA": 30, "W-CUP": 1, "INTERNAL-X": 9,
                              "SAMPLE-1": 4}))
        write(west, csv_text({"W-MUG": 5, "W-TEA": 1, "SAMPLE-1": 100, "PLATE": 40}))
        env.write_config(connections={env.name: conn})
        env.start()
        run = env.wait_run(1)
        self.assertEqual(run["result"], "ok", run)
        # Sums: W-MUG 25, W-TEA 31, W-CUP 1, SAMPLE-1 4 (west's excluded), PLATE 40.
        # 10% rounded up held back; below 2 after that, 0.
        #   MUG 25 - 3 = 22; TEA-50G 31 - 4 = 27; CUP 1 - 1 = 0; SAMPLE-1 4 - 1 = 3;
        #   PLATE 40 - 4 = 36; GIFT-BOX min(25/1, 31/3) = 10 -> 10 - 1 = 9.
        #   INTERNAL-X is excluded from the listings.
        expected = {"MUG": 22, "TEA-50G": 27, "CUP": 0, "SAMPLE-1": 3, "PLATE": 36,
                    "GIFT-BOX": 9}
        self.assertEqual(env.read_store(), expected)
        inv = env.inventory()
        self.assertEqual(set(inv), set(expected))
        self.assertEqual((inv["GIFT-BOX"]["quantity"], inv["GIFT-BOX"]["wanted"]), (10, 9))
        self.assertEqual((inv["MUG"]["quantity"], inv["MUG"]["wanted"]), (25, 22))

        # West sells 2 teas: TEA-50G 29 -> 27 - ... and the bundle 29/3 = 9 -> 9 - 1 = 8.
        write(west, csv_text({"W-MUG": 5, "W-TEA": -1, "SAMPLE-1": 100, "PLATE": 40}))
        run = self.sync(env, "smart")
        self.assertEqual((run["result"], run["pushed"]), ("ok", 2), run)
        expected.update({"TEA-50G": 29 - 3, "GIFT-BOX": 8})
        self.assertEqual(env.read_store(), expected)

        # A component change that leaves the bundle's figure alone pushes only the component:
        # W-MUG 25 -> 24 still allows 9 boxes (29 teas / 3).
        write(east, csv_text({"W-MUG": 19, "W-TEA": 30, "W-CUP": 1, "INTERNAL-X": 9,
                              "SAMPLE-1": 4}))
        run = self.sync(env, "smart")
        self.assertEqual((run["result"], run["pushed"]), ("ok", 1), run)
        expected["MUG"] = 24 - 3
        self.assertEqual(env.read_store(), expected)
        self.assertEqual(env.inventory()["GIFT-BOX"]["quantity"], 9)

        # A warehouse that cannot be read fails the run and changes nothing.
        os.unlink(west)
        run = self.sync(env, "smart")
        self.assertEqual(run["result"], "failed", run)
        self.assertIn("warehouse west", run["error"])
        self.assertEqual(env.read_store(), expected)

    def test_a_bad_row_in_one_warehouse_holds_the_store_skus_it_feeds(self):
        env = self.make_env()
        conn, east, west = self.rules_connection(env, buffer=0, minimum_distributable=0)
        write(east, csv_text({"W-MUG": 4, "W-TEA": 9}))
        write(west, csv_text({"W-MUG": 1}))
        env.write_config(connections={env.name: conn})
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")
        self.assertEqual(env.read_store(), {"MUG": 5, "TEA-50G": 9, "GIFT-BOX": 3})
        write(west, "sku,quantity\nW-MUG,lots\nW-TEA,3\n")
        run = self.sync(env, "smart")
        self.assertEqual(run["result"], "partial", run)
        self.assertIn("west", run["error"])
        # MUG and GIFT-BOX keep their state; TEA-50G takes the new sum.
        self.assertEqual(env.read_store(), {"MUG": 5, "TEA-50G": 12, "GIFT-BOX": 3})

    def test_stale_skus_are_pushed_again_after_repush_after(self):
        env = self.make_env()
        env.write_config(connections={env.name: dict(env.connection(), inventory={
            "schedule": "60m", "repush_after": "4s"})})
        env.write_feed({"A": 1, "B": 2})
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")
        run = self.sync(env, "smart")
        self.assertEqual(run["pushed"], 0, run)
        time.sleep(4.2)
        diff = env.beectl("diff", env.name, json_out=True)
        self.assertEqual(diff.code, 0, diff)
        self.assertEqual(sorted(c["reason"] for c in diff.json["changes"]), ["stale", "stale"])
        run = self.sync(env, "smart")
        self.assertEqual((run["result"], run["pushed"]), ("ok", 2), run)
        env.wait_log("2 SKUs were last confirmed longer ago than repush_after")

    def test_full_schedule_runs_a_full_sync_at_its_time(self):
        env = self.make_env()
        # Every hour at the minute and second a few seconds from now (local time).
        at = datetime.now() + timedelta(seconds=8)
        conn = env.connection()
        conn["inventory"]["full_schedule"] = at.strftime("*:%M:%S")
        env.write_config(connections={env.name: conn})
        env.write_feed({"A": 1})
        env.start()
        self.assertEqual(env.wait_run(1)["kind"], "full")
        status = env.conn_status()
        self.assertIsNotNone(status["next_full_sync_at"], status)
        run = env.wait_run(2, timeout=30)
        self.assertEqual((run["kind"], run["trigger"], run["result"]), ("full", "schedule", "ok"))
        # The next one is an hour on.
        status = env.conn_status()
        nxt = datetime.strptime(status["next_full_sync_at"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertAlmostEqual((nxt - datetime.utcnow()).total_seconds(), 3600, delta=60)
        listing = env.beectl("connections", json_out=True)
        self.assertEqual(listing.json["connections"][0]["full_schedule"], at.strftime("*:%M:%S"))

    def write_hook(self, env, body):
        path = os.path.join(env.root, "hook.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, stat.S_IRWXU)
        return path

    def test_on_failure_hook_gets_the_summary_and_its_failures_are_only_logged(self):
        env = self.make_env()
        out = os.path.join(env.root, "hook-out")
        # `.done` last: a file the shell has opened for `>` exists before anything is in it.
        hook = self.write_hook(env, 'cat > "%s.json"\nenv | grep ^PACKAGEBEE_ | sort > "%s.env"\n'
                               'env | grep -c CREDENTIALS_DIRECTORY > "%s.leak"\n'
                               'touch "%s.done"\nexit 0\n' % (out, out, out, out))
        conn = env.connection()
        conn["on_failure"] = {"command": [hook], "timeout": "5s"}
        env.write_config(connections={env.name: conn})
        env.write_feed({"A": 1})
        env.start(extra_env={"CREDENTIALS_DIRECTORY": env.root})
        self.assertEqual(env.wait_run(1)["result"], "ok")
        self.assertFalse(os.path.exists(out + ".json"), "the hook ran for an ok run")

        env.write_feed(None, raw="")  # an empty feed is refused: the run fails
        run = self.sync(env, "smart")
        self.assertEqual(run["result"], "failed", run)
        harness.wait_for(lambda: os.path.exists(out + ".done"), what="the hook to finish")
        with open(out + ".json") as f:
            summary = json.load(f)
        self.assertEqual((summary["connection"], summary["run"], summary["result"],
                          summary["kind"]), (env.name, run["id"], "failed", "smart"))
        self.assertEqual(summary["error"], run["error"])
        self.assertIn("csv", summary["warehouse"])
        with open(out + ".env") as f:
            variables = dict(line.rstrip("\n").split("=", 1) for line in f)
        self.assertEqual(variables["PACKAGEBEE_CONNECTION"], env.name)
        self.assertEqual(variables["PACKAGEBEE_RESULT"], "failed")
        self.assertEqual(variables["PACKAGEBEE_RUN"], str(run["id"]))
        with open(out + ".leak") as f:
            self.assertEqual(f.read().strip(), "0", "beed's environment reached the hook")
        env.wait_log("on_failure hook %s ran" % hook)

        # A hook that fails, or hangs past its timeout, is logged; beed carries on.
        self.write_hook(env, 'echo "mail server down" >&2\nexit 3\n')
        run = self.sync(env, "smart")
        self.assertEqual(run["result"], "failed")
        env.wait_log("on_failure hook %s exited with 3: mail server down" % hook)
        conn["on_failure"]["timeout"] = "1s"
        env.write_config(connections={env.name: conn})
        self.assertEqual(env.beectl("reload").code, 0)
        self.write_hook(env, "sleep 30\n")
        started = time.monotonic()
        run = self.sync(env, "smart")
        self.assertEqual(run["result"], "failed")
        env.wait_log("on_failure hook %s timed out after 1 s" % hook)
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(env.beectl("status").code, 0)


if __name__ == "__main__":
    harness.main()
