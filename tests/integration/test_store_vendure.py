#!/usr/bin/env python3
"""The Vendure store connector end to end against the real Vendure 3 (@vendure/core from npm,
pinned in tests/platforms/vendure/package-lock.json, SQLite in a temp dir, loopback only): the
real beed and beectl, a CSV warehouse, a catalogue seeded and stock read back through
Vendure's own Admin API. One Vendure serves the whole class (its boot takes ~20 s); each test
writes every quantity it checks. Exits 77 (skipped) when `npm ci` did not run there."""

import os
import re
import signal
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "platforms", "vendure"))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import vendure_platform as vp  # noqa: E402
from slow_proxy import SlowProxy  # noqa: E402

PASSWORD = "vendure-superadmin-Pw-0425"
# CI runs the suite twice; Vendure takes ~0.1 s to create a variant and ~20 ms to update one.
COUNT = 120 if os.environ.get("CI") == "true" else 300
SKUS = ["VS-%05d" % i for i in range(1, COUNT + 1)]


def feed_of(seed):
    return {s: (n * seed) % 89 for n, s in enumerate(SKUS, start=1)}


def write_secret(root, name, text):
    path = os.path.join(root, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


class VendureStoreTest(BeeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendure_dir = tempfile.mkdtemp(prefix="pb-it-vendure-")
        cls.server = vp.VendureServer(cls.vendure_dir, PASSWORD)
        cls.server.start()
        try:
            cls.api = vp.AdminApi(cls.server.url).login(vp.SUPERADMIN, PASSWORD)
            started = time.monotonic()
            cls.ids = cls.api.seed(SKUS, per_product=40)
            cls.api_key = cls.api.create_api_key()
            print("vendure: booted in %.1f s, %d variants seeded in %.1f s" %
                  (cls.server.boot_seconds, len(cls.ids), time.monotonic() - started),
                  file=sys.stderr)
        except Exception:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        harness.shutil.rmtree(cls.vendure_dir, ignore_errors=True)

    def vendure_env(self, password=PASSWORD, api_key=None, location=None, url=None):
        env = self.make_env()
        store = {"type": "vendure", "url": url or self.server.url}
        if api_key is None:
            store["username"] = vp.SUPERADMIN
            store["password_file"] = write_secret(env.root, "vendure-password", password)
        else:
            store["api_key_file"] = write_secret(env.root, "vendure-key", api_key)
        if location is not None:
            store["stock_location_id"] = location
        env.write_config(connections={env.name: env.connection(store=store)})
        self.assertEqual(env.check_config().code, 0)
        return env

    def first_run(self, env, expect="ok"):
        env.start()
        env.wait_run(1, timeout=240)
        run = env.history()[0]
        self.assertEqual((run["id"], run["kind"], run["result"]), (1, "full", expect), run)
        return run

    def sync(self, env, kind="smart", expect="ok"):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=240)
        run = env.history()[0]
        self.assertEqual(run["result"], expect, (r, run))
        return run

    def stock(self, skus=None, location=None):
        s = self.api.stock(location)
        return {k: s[k] for k in (skus or SKUS)}

    def assert_no_secret(self, env, *secrets):
        text = env.log_text() + env.beectl("history", env.name).stdout
        for secret in secrets:
            self.assertNotIn(secret, text)

    # ---- tests --------------------------------------------------------------------------

    def test_full_smart_and_a_store_side_edit_repaired_by_full_sync(self):
        env = self.vendure_env()
        feed = feed_of(7)
        env.write_feed(feed)
        run = self.first_run(env)
        self.assertEqual(run["pushed"], COUNT)
        self.assertEqual(self.stock(), feed)

        changed = {SKUS[6]: 1000, SKUS[40]: 0, SKUS[-1]: 33}
        feed.update(changed)
        env.write_feed(feed)
        run = self.sync(env)
        self.assertEqual((run["pushed"], run["changed"]), (3, 3), run)
        self.assertEqual(self.stock(), feed)

        # An administrator edits stock in Vendure; a Smart Sync does not see it, a Full Sync
        # puts the warehouse's figures back.
        self.api.set_stock([(self.ids[SKUS[2]], 555), (self.ids[SKUS[3]], 0)])
        self.sync(env)
        self.assertEqual(self.stock([SKUS[2]]), {SKUS[2]: 555})
        run = self.sync(env, "full")
        self.assertEqual(run["pushed"], COUNT)
        self.assertEqual(self.stock(), feed)
        self.assert_no_secret(env, PASSWORD)
        self.assertRegex(env.log_text(), r"catalogue walk: %d SKUs" % COUNT)

    def test_api_key_at_a_stock_location(self):
        env = self.vendure_env(api_key=self.api_key, location="1")
        feed = {s: q + 1 for s, q in feed_of(3).items()}
        env.write_feed(feed)
        self.first_run(env)
        self.assertEqual(self.stock(location=1), feed)
        self.assert_no_secret(env, self.api_key)

    def test_wrong_password_and_wrong_key_fail_the_run_naming_the_file(self):
        for kind, secret in (("password", "not-the-password-123"), ("key", "not-a-key-4567890")):
            with self.subTest(kind=kind):
                env = (self.vendure_env(password=secret) if kind == "password"
                       else self.vendure_env(api_key=secret))
                env.write_feed({SKUS[0]: 5})
                run = self.first_run(env, expect="failed")
                self.assertIn("password_file" if kind == "password" else "api_key_file",
                              run["error"])
                self.assert_no_secret(env, secret, PASSWORD)
                self.assertTrue(env.inventory()[SKUS[0]]["pending"])
                env.kill()

    def test_unknown_sku_and_deleted_variant_are_rejected_the_rest_applied(self):
        extra = "VS-DEL-%d" % time.monotonic_ns()
        doomed = self.api.seed([extra], per_product=1)[extra]
        env = self.vendure_env()
        feed = {SKUS[10]: 11, SKUS[11]: 12, extra: 3, "NOPE-1": 4}
        env.write_feed(feed)
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (3, 1), run)
        self.assertEqual(self.stock([SKUS[10], SKUS[11], extra]),
                         {SKUS[10]: 11, SKUS[11]: 12, extra: 3})
        item = env.inventory()["NOPE-1"]
        self.assertTrue(item["pending"])
        self.assertIn("not in the Vendure catalogue", item["error"])
        # The next run rejects it from the map, without asking Vendure again.
        self.sync(env, expect="partial")
        self.assertIn("as of the walk at", env.inventory()["NOPE-1"]["error"])

        # A variant deleted after the walk: Vendure refuses the whole call; the variant is
        # isolated and rejected, and its neighbours in the call are applied.
        self.api.delete_variant(doomed)
        feed.update({extra: 8, SKUS[10]: 31, SKUS[11]: 32})
        env.write_feed(feed)
        run = self.sync(env, expect="partial")
        self.assertEqual(self.stock([SKUS[10], SKUS[11]]), {SKUS[10]: 31, SKUS[11]: 32})
        self.assertIn("ENTITY_NOT_FOUND", env.inventory()[extra]["error"])
        # Its SKU left the map: the next run looks it up, finds nothing, and says so.
        self.sync(env, expect="partial")
        self.assertIn("looked up by SKU", env.inventory()[extra]["error"])

    def test_sigkill_mid_run_loses_nothing_stale(self):
        # On an idle machine Vendure takes a whole push in a quarter of a second: a proxy that
        # holds beed's requests keeps the push in flight long enough to be killed inside it.
        proxy = SlowProxy("127.0.0.1", self.server.port)
        self.addCleanup(proxy.close)
        env = self.vendure_env(url="http://127.0.0.1:%d/admin-api" % proxy.port)
        feed = feed_of(5)
        env.write_feed(feed)
        self.first_run(env)
        newer = {s: q + 100 for s, q in feed.items()}
        env.write_feed(newer)
        proxy.delay = 2.0
        request = env.beectl_async("sync", env.name)
        harness.wait_for(lambda: (env.conn_status().get("progress") or {}).get("phase") ==
                         "pushing", timeout=30, interval=0.02, what="the push phase")
        time.sleep(0.5)
        env.kill(signal.SIGKILL)
        proxy.delay = 0.0
        harness.BeeEnv.finish_async(request)
        pending = [s for s, i in env.state_dump().items() if i["pending"]]
        self.assertGreater(len(pending), 0, "beed was killed after the run, not inside it")
        # Whatever Vendure applied after beed died, SKUs not confirmed are still pending:
        # undo them store-side so that only beed's bookkeeping can bring them back.
        time.sleep(5)  # Vendure finishes the call it was given
        self.api.set_stock([(self.ids[s], feed[s]) for s in pending])
        env.start()
        run = env.wait_run(2, timeout=240)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(self.stock(), newer)

    def finished(self, env, run_id):
        # A paused connection is never "idle" (wait_run's test): read the run's own record.
        last = env.conn_status().get("last_sync") or {}
        return last.get("id") == run_id and last.get("finished_at") is not None

    def interrupted_first_walk(self, how):
        """A first walk of three pages of 1,000 variants (the class's, then copies written into
        Vendure's database: creating them through the API would take minutes), with each of
        beed's requests held 1 s at a proxy, interrupted (`how`: SIGKILL, SIGTERM or pause) once
        a page is committed, then run to its end. Returns how long the interruption took."""
        extra = ["VS-%s-%05d" % (how, i) for i in range(3 * 1000 - COUNT - 200)]
        clones = self.server.clone_variants(self.ids[SKUS[0]], extra)
        self.addCleanup(self.server.soft_delete_variants, clones.values())
        proxy = SlowProxy("127.0.0.1", self.server.port)
        self.addCleanup(proxy.close)
        proxy.delay = 1.0
        env = self.vendure_env(url="http://127.0.0.1:%d/admin-api" % proxy.port)
        pushed = SKUS[:20] + extra[900:920] + extra[-20:]  # on the first, second, last pages
        feed = {s: 7 + n for n, s in enumerate(pushed)}
        env.write_feed(feed)
        env.start()
        seen = env.watch_mapping(lambda seen: seen and seen[-1][0] >= 1000, timeout=120,
                                 what="a page of the walk committed")
        sent = time.monotonic()
        if how == "pause":
            self.assertEqual(env.beectl("pause", env.name).code, 0)
            harness.wait_for(lambda: self.finished(env, 1), timeout=30, what="run 1 to end")
            self.assertNotEqual(env.conn_status()["last_sync"]["result"], "ok")
        else:
            env.kill(getattr(signal, how))
        stopped_in = time.monotonic() - sent
        mapped_at_kill, total = seen[-1]
        before = [int(s) for s in proxy.matches(r'"skip":\s*(\d+)')]
        self.assertLess(mapped_at_kill, total, "the walk ended before the %s" % how)
        self.assertEqual(seen, sorted(seen))  # progress that moves
        self.assertEqual(seen[0][0], 0)
        self.assertGreaterEqual(total, len(extra) + COUNT)  # Vendure's totalItems

        if how == "pause":  # paused, a manual run still goes
            self.assertEqual(env.beectl("full-sync", env.name).code, 0)
            harness.wait_for(lambda: self.finished(env, 2), timeout=240, what="run 2 to end")
            run = env.conn_status()["last_sync"]
        else:
            env.start()
            run = env.wait_run(2, timeout=240)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(self.stock(pushed), feed)
        # Each page read once, but the one in flight at a kill (read again after it).
        skips = [int(s) for s in proxy.matches(r'"skip":\s*(\d+)')]
        self.assertEqual(sorted(set(skips)), list(range(0, total, 1000)), skips)
        again = [s for s in set(skips) if skips.count(s) > 1]
        self.assertLessEqual(len(again), 1 if how == "SIGKILL" else 0, (before, skips))
        self.assertTrue(all(s >= mapped_at_kill for s in again), (before, skips))
        resumed_at = int(re.search(r"goes on from variant (\d+)", env.log_text()).group(1))
        self.assertIn(resumed_at, range(mapped_at_kill, total, 1000))
        self.assertIn("resumed from its checkpoint at variant %d" % resumed_at, env.log_text())
        return stopped_in

    def test_first_walk_killed_mid_way_goes_on_from_its_checkpoint(self):
        self.interrupted_first_walk("SIGKILL")

    def test_pause_stops_a_first_walk_between_pages_and_the_next_run_goes_on(self):
        # Within the page in flight (~2 s with the proxy's hold), not the run's stop deadline.
        self.assertLess(self.interrupted_first_walk("pause"), 5.0)

if __name__ == "__main__":
    if not vp.installed():
        print("skipped: Vendure is not installed (npm ci in tests/platforms/vendure)")
        sys.exit(77)
    harness.require_binaries()
    unittest.main(verbosity=2)
