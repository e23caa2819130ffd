#!/usr/bin/env python3
"""The Shopify store connector end to end: the real beed and beectl, a CSV warehouse, and the
Shopify GraphQL Admin API emulator of tests/emulators (HTTPS with a test CA), which checks every
request against the documented rules and logs what it applied."""

import csv
import io
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import store_emulators  # noqa: E402
from store_emulators import StoreEmulator, write_secret  # noqa: E402

TOKEN = "shpat_integration_secret_0123456789"
CATALOGUE = 600  # SKU-00001 .. SKU-00600 at location 1


def sku(i):
    return "SKU-%05d" % i


def full_feed(seed=7):
    return {sku(i): (i * seed) % 101 for i in range(1, CATALOGUE + 1)}


class ShopifyStoreTest(store_emulators.WithShopifyEmulator, BeeTestCase):

    TLS_PREFIX = "pb-it-shopify-tls-"

    # ---- helpers ------------------------------------------------------------------------

    def emulator(self, *args, cert="server"):
        em = StoreEmulator("shopify", self._tmp, self.tls,
                           ["--token", TOKEN, "--generate", str(CATALOGUE), *args], cert=cert)
        self.addCleanup(em.stop)
        return em

    def shop_env(self, em, token=TOKEN, ca=None, schedule="60m"):
        env = self.make_env()
        token_file = write_secret(env.root, "shopify-token", token)
        store = {
            "type": "shopify",
            "shop": "acme",
            "endpoint": "https://127.0.0.1:%d/admin/api/2026-10/graphql.json" % em.port,
            "access_token_file": token_file,
            "location_id": 1,
            "ca_file": ca or self.tls["ca"],
        }
        env.write_config(connections={env.name: env.connection(store=store, schedule=schedule)})
        return env

    def first_run(self, env, expect="ok"):
        """Starts beed and waits for its first (automatic, Full) run; returns the run as
        `beectl history` shows it (with its error)."""
        env.start()
        env.wait_run(1, timeout=120)
        run = env.history()[0]
        self.assertEqual((run["id"], run["kind"], run["result"]), (1, "full", expect), run)
        return run

    def sync(self, env, kind="smart", expect_code=0):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=180)
        self.assertEqual(r.code, expect_code, r)
        return r.json

    def assert_secret_hidden(self, env, *outputs):
        for text in (env.log_text(),) + outputs:
            self.assertNotIn(TOKEN, text)

    # ---- tests --------------------------------------------------------------------------

    def test_full_then_smart_pushes_only_changes(self):
        em = self.emulator()
        env = self.shop_env(em)
        feed = full_feed()
        env.write_feed(feed)
        run = self.first_run(env)
        self.assertEqual(run["pushed"], CATALOGUE)
        self.assertEqual(em.shopify_available(), feed)

        calls = em.set_calls()
        self.assertEqual(len(calls), 3)  # ceil(600 / 250)
        self.assertEqual([len(c["quantities"]) for c in calls], [250, 250, 100])
        keys = set()
        for c in calls:
            self.assertEqual(c["outcome"], "applied", c)
            self.assertEqual(c["input"]["name"], "available")
            self.assertEqual(c["input"]["reason"], "correction")
            self.assertIn(env.name, c["input"]["referenceDocumentUri"])
            self.assertTrue(c["idempotency_key"])
            keys.add(c["idempotency_key"])
            for q in c["quantities"]:
                self.assertIn("changeFromQuantity", q)
                self.assertIsNone(q["changeFromQuantity"])
                self.assertEqual(q["locationId"], "gid://shopify/Location/1")
        self.assertEqual(len(keys), 3)
        # The catalogue came from one bulk operation, its result read in one Range request.
        self.assertEqual(len(em.bulk_starts()), 1)
        self.assertEqual(len(em.result_downloads()), 1)
        pages = len(em.catalogue_pages())
        self.assertEqual(pages, 0)

        feed[sku(5)] = 1000
        feed[sku(321)] = 0
        feed[sku(599)] = 42
        env.write_feed(feed)
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 3, 3), run)
        calls = em.set_calls()
        self.assertEqual(len(calls), 4)
        pushed = sorted((q["inventoryItemId"], q["quantity"]) for q in calls[-1]["quantities"])
        self.assertEqual(pushed, [("gid://shopify/InventoryItem/700005", 1000),
                                  ("gid://shopify/InventoryItem/700321", 0),
                                  ("gid://shopify/InventoryItem/700599", 42)])
        self.assertEqual(len(em.catalogue_pages()), pages)  # the id map came from LMDB
        self.assertEqual(em.shopify_available(), feed)

        # Restarted, beed still knows the ids: a Full Sync pages nothing.
        env.stop()
        env.start()
        run = self.sync(env, "full")
        self.assertEqual((run["result"], run["pushed"]), ("ok", CATALOGUE), run)
        self.assertEqual(len(em.catalogue_pages()), pages)
        self.assertEqual(len(em.bulk_starts()), 1)
        self.assert_secret_hidden(env)

    def test_unknown_skus_make_the_run_partial_and_the_rest_is_applied(self):
        em = self.emulator()
        env = self.shop_env(em)
        feed = {sku(i): i for i in range(1, 11)}
        feed["NOT-IN-SHOP-1"] = 5
        feed["NOT-IN-SHOP-2"] = 6
        env.write_feed(feed)
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (10, 2), run)
        available = em.shopify_available()
        for i in range(1, 11):
            self.assertEqual(available[sku(i)], i)
        items = env.inventory()
        self.assertTrue(items["NOT-IN-SHOP-1"]["pending"])
        self.assertIn("not found", items["NOT-IN-SHOP-1"]["error"])
        self.assertFalse(items[sku(3)]["pending"])

    def test_new_skus_with_quotes_spaces_colons_and_backslashes_are_found_by_search(self):
        # The map is complete; then SKUs it lacks are created in the shop: beed finds them with
        # one inventoryItems search (each SKU a quoted, escaped value), not with a new walk.
        em = self.emulator()
        env = self.shop_env(em)
        feed = full_feed()
        env.write_feed(feed)
        self.first_run(env)
        odd = ['Q"UOTE-1', "BACK\\SLASH-1", "SPACE D-1", "CO:LON-1", "PAR(EN)'S-1", "OR"]
        for s in odd:
            em.control("POST", "/_emulator/variants", {"sku": s})
        feed.update({s: 10 + i for i, s in enumerate(odd)})
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([("sku", "quantity")] + list(feed.items()))
        env.write_feed(None, raw=out.getvalue())
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", len(odd)), run)
        searches = [e for e in em.requests() if e.get("search_query")]
        self.assertEqual(len(searches), 1, searches)
        self.assertEqual(em.catalogue_pages(), [])
        available = em.shopify_available()
        self.assertEqual({s: available.get(s) for s in odd}, {s: feed[s] for s in odd})

    def test_throttling_is_paced_and_every_quantity_lands(self):
        # A bucket of 600 points restoring 150/s, and pushes made to cost 250 points each: the
        # walk (3 inventoryItems pages of 252 points: the bulk operation is denied, so beed
        # pages) and the pushes (3) need about 1,510 points, so beed must wait about 6 s for
        # the bucket.
        em = self.emulator("--max-available", "600", "--restore-rate", "150",
                           "--mutation-cost", "inventorySetQuantities=250")
        em.faults(bulk_access_denied_next=1)
        env = self.shop_env(em)
        feed = full_feed(11)
        env.write_feed(feed)
        started = time.monotonic()
        self.first_run(env)
        elapsed = time.monotonic() - started
        self.assertEqual(em.shopify_available(), feed)
        entries = em.requests()
        throttled = [e for e in entries if e.get("throttled")]
        # Pacing from throttleStatus keeps THROTTLED answers rare (at most one per call type).
        self.assertLessEqual(len(throttled), 2, throttled)
        self.assertGreater(elapsed, 4.5)

    def test_every_fault_switch_is_survived(self):
        em = self.emulator()
        env = self.shop_env(em)
        feed = full_feed()
        env.write_feed(feed)
        self.first_run(env)
        switches = [
            {"fail_next": 2, "fail_status": 503},
            {"fail_next": 1, "fail_status": 502},
            {"drop_next": 2},
            {"rate_limit_next": 1, "retry_after": 1},
            {"drop_after_apply_next": 1},
            {"malformed_next": 1},
        ]
        for n, switch in enumerate(switches, start=1):
            with self.subTest(switch=switch):
                feed[sku(n)] = 500 + n
                feed[sku(300 + n)] = 600 + n
                env.write_feed(feed)
                em.faults(reset=True, **switch)
                run = self.sync(env)
                self.assertEqual((run["result"], run["pushed"]), ("ok", 2), run)
                self.assertEqual(em.shopify_available(), feed)
        # Each run starts with a 1-point token check, which takes the first fault; every
        # mutation carried an idempotency key, and none was applied twice.
        for c in em.set_calls():
            self.assertIn(c["outcome"], ("applied", "replayed"), c)

    def test_sigkill_mid_run_then_the_store_converges(self):
        em = self.emulator("--latency-ms", "300")
        env = self.shop_env(em)
        feed = full_feed(3)
        env.write_feed(feed)
        env.start()
        # Kill beed once the first push has been applied, before the run can finish.
        harness.wait_for(lambda: len(em.set_calls()) >= 1, timeout=60, what="a first push")
        env.kill(signal.SIGKILL)
        self.assertNotEqual(em.shopify_available(), feed)
        env.start()
        run = env.wait_run(2, timeout=120)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(em.shopify_available(), feed)
        for item in env.inventory().values():
            self.assertFalse(item["pending"], item)

    def test_wrong_token_fails_clearly_without_a_retry_storm(self):
        em = self.emulator()
        env = self.shop_env(em, token="shpat_wrong_token_value")
        env.write_feed({sku(1): 5})
        run = self.first_run(env, expect="failed")
        self.assertIn("401", run["error"])
        self.assertIn("access token", run["error"])
        admin = [e for e in em.requests() if e.get("status") == 401]
        self.assertLessEqual(len(admin), 1, admin)
        item = env.inventory()[sku(1)]
        self.assertTrue(item["pending"])
        # The SKU's error column says why, as WooCommerce's does (it once showed "-").
        self.assertIn("HTTP 401", item["error"] or "")
        self.assertIn("access_token_file", item["error"])
        self.assertNotIn("shpat_wrong_token_value", item["error"])
        status = env.beectl("status", env.name)
        history = env.beectl("history", env.name)
        self.assertNotIn("shpat_wrong_token_value", env.log_text() + status.stdout + history.stdout)

    def test_a_reload_whose_store_cannot_be_built_changes_nothing(self):
        em = self.emulator()
        env = self.shop_env(em)
        feed = {sku(1): 5, sku(2): 6}
        env.write_feed(feed)
        self.first_run(env)
        good = open(env.config_path).read()
        missing = os.path.join(env.root, "no-such-ca.pem")
        with open(env.config_path, "w") as f:
            f.write(good.replace(self.tls["ca"], missing))
        r = env.beectl("reload")
        self.assertNotEqual(r.code, 0, r)
        self.assertIn(missing, r.stderr + r.stdout)
        # Still served with the old settings.
        feed[sku(1)] = 77
        env.write_feed(feed)
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 1), run)
        self.assertEqual(em.shopify_available()[sku(1)], 77)

    def test_expired_certificate_and_wrong_ca_are_refused(self):
        for cert in ("expired", "wrong-ca"):
            with self.subTest(cert=cert):
                em = self.emulator(cert=cert)
                env = self.shop_env(em)
                env.write_feed({sku(1): 5})
                run = self.first_run(env, expect="failed")
                self.assertIn("certificate", run["error"])
                self.assertEqual([e for e in em.requests() if e.get("status")], [])
                env.kill()
                em.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
