#!/usr/bin/env python3
"""A damaged state file, a catalogue zeroed a little at a time, a full disk: beed refuses to start
on a corrupt state (naming the file and `beed --repair-state`) instead of crashing into a restart
loop, the zeroing guard weighs a feed against the most SKUs in stock over its window, and a run
that fails on a full disk says so and records what it did commit."""

import os
import random
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402

EXIT_STATE_CORRUPT = 3
N_SKUS = 20_000
SKUS = ["SKU-%06d" % i for i in range(N_SKUS)]


def big_feed(env, quantity=lambda i: i % 50 + 1, skus=SKUS):
    return env.write_feed(None, raw="sku,quantity\n" + "".join(
        "%s,%d\n" % (s, quantity(i)) for i, s in enumerate(skus)))


class CorruptStateTest(BeeTestCase):

    def synced_env(self):
        env = self.make_env()
        env.write_config()
        big_feed(env)
        env.start()
        self.assertEqual(env.wait_run(1, timeout=60)["result"], "ok")
        self.assertEqual(env.stop(), 0)
        return env

    def data_file(self, env):
        return os.path.join(env.state_dir, "data.mdb")

    def start_refused(self, env):
        """Starts beed on a damaged state; it must exit 3 with the file and the way out."""
        proc = env.start(wait=False)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("beed started on a damaged state:\n" + env.log_text())
        env.proc = None
        self.assertEqual(code, EXIT_STATE_CORRUPT, env.log_text())
        log = env.log_text()
        self.assertIn(self.data_file(env), log)
        self.assertIn("--repair-state", log)
        return log

    def repair_and_rebuild(self, env):
        p = subprocess.run([harness.BEED, "-c", env.config_path, "--repair-state"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p)
        aside = [f for f in os.listdir(env.state_dir) if f.startswith("data.mdb.corrupt-")]
        self.assertEqual(len(aside), 1, os.listdir(env.state_dir))
        self.assertIn(aside[0], p.stdout)
        env.start()
        # A fresh state: the first run is a Full Sync that rebuilds it from the warehouse.
        run = env.wait_run(1, timeout=60)
        self.assertEqual((run["result"], run["kind"]), ("ok", "full"), run)
        self.assertEqual(len(env.state_dump()), N_SKUS)
        self.assertEqual(len(env.read_store()), N_SKUS)

    def test_truncated_state_refuses_to_start_and_repairs(self):
        env = self.synced_env()
        size = os.path.getsize(self.data_file(env))
        os.truncate(self.data_file(env), size // 2)
        log = self.start_refused(env)
        self.assertIn("truncated", log)
        p = subprocess.run([harness.BEED, "-c", env.config_path, "--verify-state"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, EXIT_STATE_CORRUPT, p)
        self.repair_and_rebuild(env)

    def test_random_writes_refuse_to_start(self):
        env = self.synced_env()
        path = self.data_file(env)
        size = os.path.getsize(path)
        page = 4096
        rng = random.Random(20261127)
        with open(path, "r+b") as f:
            # Past the two meta pages: the B-tree's pages, where LMDB follows what it reads.
            for _ in range(64):
                f.seek(rng.randrange(2 * page, size - 64))
                f.write(rng.randbytes(64))
        self.start_refused(env)
        self.repair_and_rebuild(env)

    def test_sound_state_verifies(self):
        env = self.synced_env()
        p = subprocess.run([harness.BEED, "-c", env.config_path, "--verify-state"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p)
        self.assertIn("is sound", p.stdout)


class ZeroingWindowTest(BeeTestCase):

    def sync(self, env, *extra, code=0):
        r = env.beectl("sync", "demo", "--wait", *extra, json_out=True)
        self.assertEqual(r.code, code, r)
        return r.json

    def test_creeping_zeroing_is_refused_and_allow_zeroing_lets_it_through(self):
        env = self.make_env()
        env.write_config()
        skus = ["S%04d" % i for i in range(1000)]
        env.write_feed({s: 5 for s in skus})
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")

        def zero_first(n):
            return env.write_feed({s: 0 if i < n else 5 for i, s in enumerate(skus)})

        zero_first(500)  # exactly half: allowed
        self.assertEqual(self.sync(env)["result"], "ok")
        feed = zero_first(501)  # one more: 501 of the 1000 in stock this week
        run = self.sync(env, code=4)
        self.assertEqual(run["result"], "failed", run)
        self.assertEqual(run["error"],
                         "feed %s would leave 499 SKUs in stock, fewer than half of the 1000 in "
                         "stock at the most over the last 7 days; refusing it (nothing changed; "
                         "`beectl sync demo --allow-zeroing` accepts it once)" % feed)
        zero_first(600)
        self.assertEqual(self.sync(env, code=4)["result"], "failed")
        self.assertEqual(sum(1 for q in env.read_store().values() if q == 0), 500)

        # The deliberate way through, for one run; the window then starts from it.
        run = self.sync(env, "--allow-zeroing")
        self.assertEqual((run["result"], run["changed"]), ("ok", 100), run)
        self.assertEqual(sum(1 for q in env.read_store().values() if q == 0), 600)
        env.wait_log(r"the zeroing guard is off for this run")
        zero_first(650)
        self.assertEqual(self.sync(env)["result"], "ok")
        # --allow-zeroing is accepted by full-sync too.
        run = env.beectl("full-sync", "demo", "--allow-zeroing", "--wait", json_out=True)
        self.assertEqual((run.code, run.json["result"]), (0, "ok"), run)


class DiskFullTest(BeeTestCase):
    """The state directory on an 8 MB tmpfs: the second feed's first transactions of 50,000
    writes commit, then the disk is full."""

    def mount_small_tmpfs(self, path, size):
        os.makedirs(path, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %s" % p.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", path], capture_output=True)

    def test_disk_full_is_named_and_the_run_records_what_it_committed(self):
        env = self.make_env()
        self.mount_small_tmpfs(env.state_dir, "8m")
        env.write_config()
        first = ["A%06d" % i for i in range(1000)]
        env.write_feed({s: 1 for s in first})
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")
        more = ["B%06d" % i for i in range(200_000)]
        big_feed(env, quantity=lambda i: 3, skus=first + more)
        r = env.beectl("sync", "demo", "--wait", json_out=True, timeout=120)
        run = r.json
        self.assertEqual(run["result"], "failed", r)
        self.assertIn("no space left on device", run["error"])
        self.assertIn(env.state_dir, run["error"])
        self.assertNotIn("Input/output error", run["error"])
        # What was committed stays, and the record says so: whole transactions of 50,000.
        self.assertGreater(run["changed"], 0, run)
        self.assertEqual(run["changed"] % 50_000, 0, run)
        self.assertEqual(env.history(limit=1)[0]["changed"], run["changed"])
        env.stop()
        # The 1,000 SKUs of the first feed changed too (1 -> 3), in the first transaction.
        self.assertEqual(len(env.state_dump()), run["changed"])


if __name__ == "__main__":
    harness.main()
