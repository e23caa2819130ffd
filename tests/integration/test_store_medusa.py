#!/usr/bin/env python3
"""The Medusa store connector end to end against the real thing: Medusa 2.x from npm
(tests/platforms/medusa, pinned by its package-lock.json) on a private PostgreSQL, set up through
Medusa's own CLI and Admin API, driven by the real beed and beectl with a CSV warehouse. Stock
is read back through Medusa's Admin API. Exits 77 (ctest: skipped) when Medusa's packages
(`npm ci`, .ci/install-deps) or PostgreSQL are missing.

One Medusa serves every test (its boot and migrations are most of the time); each test has a
stock location of its own, so their levels never meet. CI=true keeps the catalogue small."""

import os
import random
import re
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "platforms", "medusa"))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import medusa_server  # noqa: E402
from slow_proxy import SlowProxy  # noqa: E402
from store_emulators import write_secret  # noqa: E402

SKIP = 77
CI = os.environ.get("CI") == "true"
PRODUCTS = 30 if CI else 100  # 5 variants each
VARIANTS = 5


def catalogue():
    return [{"title": "Product %03d" % p,
             "skus": ["MED-%03d-%d" % (p, v) for v in range(1, VARIANTS + 1)]}
            for p in range(1, PRODUCTS + 1)]


def all_skus():
    return [sku for p in catalogue() for sku in p["skus"]]


def feed_of(seed):
    return {sku: (n * seed) % 53 for n, sku in enumerate(all_skus(), start=1)}


class MedusaStoreTest(BeeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.medusa_root = harness.tempfile.mkdtemp(prefix="pb-it-medusa-")
        cls.medusa = medusa_server.MedusaServer.start(os.path.join(cls.medusa_root, "server"))
        cls.medusa.seed(catalogue())
        cls.key, cls.key_id = cls.medusa.create_secret_key()
        cls.item_ids = cls.medusa.items()
        print("medusa: %s (%d SKUs)" % (", ".join("%s %.1f s" % t for t in
                                                  cls.medusa.timings.items()), len(cls.item_ids)),
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.medusa.stop()
        harness.shutil.rmtree(cls.medusa_root, ignore_errors=True)

    def medusa_env(self, key=None, url=None):
        """A beed environment pushing to a stock location of its own; returns (env, location)."""
        location = self.medusa.create_stock_location(self._testMethodName)
        env = self.make_env()
        store = {
            "type": "medusa",
            "url": url or self.medusa.url,  # http:// is allowed to loopback only
            "api_key_file": write_secret(env.root, "medusa-key", key or self.key),
            "location_id": location,
        }
        env.write_config(connections={env.name: env.connection(store=store)})
        return env, location

    def first_run(self, env, expect="ok"):
        env.start()
        env.wait_run(1, timeout=180)
        run = env.history()[0]
        self.assertEqual((run["id"], run["kind"], run["result"]), (1, "full", expect), run)
        return run

    def sync(self, env, kind="smart", expect_code=0):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=180)
        self.assertEqual(r.code, expect_code, r)
        return env.history()[0]

    def assert_no_secret_logged(self, env, key):
        for i in range(len(env.logs)):
            self.assertNotIn(key, env.log_text(i))

    # ---- tests --------------------------------------------------------------------------

    def test_full_smart_and_a_store_edit_repaired_by_full(self):
        env, location = self.medusa_env()
        feed = feed_of(7)
        env.write_feed(feed)
        run = self.first_run(env)
        self.assertEqual(run["pushed"], len(feed))
        self.assertEqual(self.medusa.stocked(location), feed)

        changed = random.Random(1).sample(sorted(feed), 5)
        for sku in changed:
            feed[sku] += 100
        env.write_feed(feed)
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", len(changed)), run)
        self.assertEqual(self.medusa.stocked(location), feed)

        # Someone edits the stock in Medusa's admin: a Smart Sync does not see it (nothing
        # changed in the warehouse), a Full Sync puts the warehouse's figure back.
        edited = sorted(feed)[3]
        self.medusa.set_stocked(self.item_ids[edited], location, 999)
        run = self.sync(env)
        self.assertEqual(run["pushed"], 0, run)
        self.assertEqual(self.medusa.stocked(location)[edited], 999)
        run = self.sync(env, kind="full")
        self.assertEqual((run["result"], run["pushed"]), ("ok", len(feed)), run)
        self.assertEqual(self.medusa.stocked(location), feed)
        self.assertIn("catalogue walk: %d SKUs" % len(feed), env.log_text())
        self.assert_no_secret_logged(env, self.key)

    def test_an_unknown_sku_is_rejected_and_the_rest_applied(self):
        env, location = self.medusa_env()
        feed = {sku: 3 for sku in all_skus()[:20]}
        feed["NOPE-1"] = 4
        env.write_feed(feed)
        self.first_run(env, expect="partial")
        del feed["NOPE-1"]
        self.assertEqual(self.medusa.stocked(location), feed)
        error = env.inventory()["NOPE-1"]["error"]
        self.assertIn("no inventory item in Medusa has this SKU", error)

    def test_a_revoked_key_fails_the_run_naming_api_key_file(self):
        token, key_id = self.medusa.create_secret_key("revoked")
        self.medusa.revoke_key(key_id)
        env, location = self.medusa_env(key=token)
        env.write_feed({sku: 1 for sku in all_skus()[:10]})
        run = self.first_run(env, expect="failed")
        self.assertIn("401", run["error"])
        self.assertIn("api_key_file", run["error"])
        self.assertNotIn(token, run["error"])
        self.assertEqual(self.medusa.stocked(location), {})
        self.assert_no_secret_logged(env, token)

    def test_beed_killed_mid_run_loses_nothing(self):
        env, location = self.medusa_env()
        feed = feed_of(3)
        env.write_feed(feed)
        self.first_run(env)
        # Every SKU changes; beed dies while the Smart Sync pushes them.
        feed = {sku: q + 1000 for sku, q in feed.items()}
        env.write_feed(feed)
        client = env.beectl_async("sync", env.name)
        harness.wait_for(lambda: env.history()[0]["id"] == 2, timeout=60, what="the second run")
        harness.time.sleep(random.Random().uniform(0.0, 0.6))
        env.kill(signal.SIGKILL)
        client.communicate(timeout=30)
        env.start()
        # The run left `running` is marked failed and a new one is due at once; if the kill
        # came after the commit, a Smart Sync finds nothing left.
        run = self.sync(env)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(self.medusa.stocked(location), feed)
        pending = [s for s, item in env.inventory().items() if item.get("pending")]
        self.assertEqual(pending, [])

    def pages_served(self, since):
        """The offsets of the catalogue pages Medusa served (the connector's walk query) since
        byte `since` of its log."""
        found = (re.search(r"[?&]order=id&limit=1000&offset=(\d+)$", r.get("path", ""))
                 for r in self.medusa.requests(since))
        return [int(m.group(1)) for m in found if m]

    def interrupted_first_walk(self, sig):
        """A first walk of 5,500 items (page 1, which gives the count, then pages 2-5 at once,
        then page 6; the items beyond the class's catalogue written into Medusa's database, as
        the Admin API takes minutes for thousands), each request held 1 s at a proxy, beed
        killed with `sig` once a page is committed, then restarted. Returns how long beed took
        to stop."""
        since = self.medusa.log_size()
        prefix = "WALK%s" % sig.name
        extra = self.medusa.add_bare_items(prefix, 5500 - len(self.item_ids))
        self.addCleanup(self.medusa.delete_bare_items, prefix)
        proxy = SlowProxy("127.0.0.1", self.medusa.port)
        self.addCleanup(proxy.close)
        proxy.delay = 1.0
        env, location = self.medusa_env(url="http://127.0.0.1:%d" % proxy.port)
        pushed = all_skus()[:10] + extra[1000:1010] + extra[-10:]  # pages 1, 2 and 6
        feed = {sku: 5 + n for n, sku in enumerate(pushed)}
        env.write_feed(feed)
        env.start()
        seen = env.watch_mapping(lambda seen: seen and seen[-1][0] >= 1000, timeout=120,
                                 what="a page of the walk committed")
        sent = harness.time.monotonic()
        env.kill(sig)
        stopped_in = harness.time.monotonic() - sent
        mapped_at_kill, total = seen[-1]
        before = self.pages_served(since)
        self.assertLess(mapped_at_kill, total, "the walk ended before the kill")
        self.assertEqual(total, 5500)
        self.assertEqual(seen, sorted(seen))  # progress that moves
        self.assertEqual(seen[0][0], 0)

        env.start()
        run = env.wait_run(2, timeout=180)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(self.medusa.stocked(location), feed)
        # Each page read once, but those in flight at a SIGKILL (at most a wave of 4): as
        # Medusa's own request log says (a request held at the proxy when beed died reaches
        # Medusa a moment later).
        offsets = self.pages_served(since)
        self.assertEqual(sorted(set(offsets)), list(range(0, total, 1000)), offsets)
        again = [s for s in set(offsets) if offsets.count(s) > 1]
        self.assertLessEqual(len(again), 4 if sig == signal.SIGKILL else 0, (before, offsets))
        self.assertTrue(all(s >= mapped_at_kill for s in again), (before, offsets))
        resumed_at = int(re.search(r"goes on from item (\d+)", env.log_text()).group(1))
        self.assertGreaterEqual(resumed_at, mapped_at_kill)
        self.assertIn("resumed at item %d" % resumed_at, env.log_text())
        return stopped_in

    def test_first_walk_killed_mid_way_goes_on_from_its_checkpoint(self):
        self.interrupted_first_walk(signal.SIGKILL)

    def test_sigterm_stops_a_first_walk_between_waves_and_the_restart_goes_on(self):
        # Within the wave in flight (~1.5 s with the proxy's hold), not beed's stop deadline.
        self.assertLess(self.interrupted_first_walk(signal.SIGTERM), 5.0)


if __name__ == "__main__":
    try:
        medusa_server.require_packages()
    except (medusa_server.MedusaUnavailable, medusa_server.pg_server.PgUnavailable) as e:
        print("skipped: %s" % e, file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
