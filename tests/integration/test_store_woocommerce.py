#!/usr/bin/env python3
"""The WooCommerce store connector end to end: the real beed and beectl, a CSV warehouse, and
the WooCommerce REST API v3 emulator of tests/emulators (HTTPS with a test CA), which enforces the
documented rules and logs every batch item it applied."""

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

KEY = "ck_integration_key_0123456789"
SECRET = "cs_integration_secret_0123456789"
SIMPLE = 300  # S-00001 .. S-00300
VARIABLE = 20  # V-00001 .. V-00020, each with variations V-0000N-1 .. -5
PER_VARIABLE = 5


def catalogue_skus():
    skus = ["S-%05d" % i for i in range(1, SIMPLE + 1)]
    for v in range(1, VARIABLE + 1):
        skus += ["V-%05d-%d" % (v, j) for j in range(1, PER_VARIABLE + 1)]
    return skus


def full_feed(seed=7):
    return {s: (n * seed) % 97 for n, s in enumerate(catalogue_skus(), start=1)}


class WooCommerceStoreTest(store_emulators.WithTestCA, BeeTestCase):

    TLS_PREFIX = "pb-it-woo-tls-"

    def emulator(self, *args, cert="server"):
        em = StoreEmulator("woocommerce", self._tmp, self.tls,
                           ["--api-key", "%s:%s" % (KEY, SECRET),
                            "--generate-simple", str(SIMPLE),
                            "--generate-variable", "%d:%d" % (VARIABLE, PER_VARIABLE), *args],
                           cert=cert)
        self.addCleanup(em.stop)
        return em

    def woo_env(self, em, secret=SECRET, auth="basic"):
        env = self.make_env()
        store = {
            "type": "woocommerce",
            "url": "https://127.0.0.1:%d" % em.port,
            "consumer_key_file": write_secret(env.root, "woo-key", KEY),
            "consumer_secret_file": write_secret(env.root, "woo-secret", secret),
            "auth": auth,
            "ca_file": self.tls["ca"],
        }
        env.write_config(connections={env.name: env.connection(store=store)})
        return env

    def first_run(self, env, expect="ok"):
        """Starts beed and waits for its first (automatic, Full) run; returns the run as
        `beectl history` shows it (with its error)."""
        env.start()
        env.wait_run(1, timeout=120)
        run = env.history()[0]
        self.assertEqual((run["id"], run["kind"], run["result"]), (1, "full", expect), run)
        return run

    def sync(self, env, kind="smart"):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=180)
        self.assertEqual(r.code, 0, r)
        return r.json

    def sync_ending(self, env, kind="smart"):
        """Like sync(), for a run that need not end ok (beectl's exit status says how it
        ended); returns the run as `beectl history` shows it."""
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=180)
        self.assertIn(r.code, (0, 3, 4), r)
        return env.history()[0]

    def updated_items(self, em):
        items = []
        for b in em.woo_batches():
            items += [i for i in b.get("items") or [] if i.get("op") == "update"]
        return items

    # ---- tests --------------------------------------------------------------------------

    def test_full_then_smart_pushes_only_changes(self):
        em = self.emulator()
        env = self.woo_env(em)
        feed = full_feed()
        env.write_feed(feed)
        run = self.first_run(env)
        self.assertEqual(run["pushed"], len(feed))
        self.assertEqual(em.woo_stock(), feed)
        batches = em.woo_batches()
        # 300 simple products in 3 batches of 100, and one batch per variable product.
        self.assertEqual(len(batches), 3 + VARIABLE)
        for b in batches:
            self.assertLessEqual(sum(b["batch"].values()), 100)
            self.assertEqual(b["status"], 200)
        for item in self.updated_items(em):
            self.assertEqual(item["outcome"], "updated", item)
            self.assertIs(item.get("manage_stock"), True, item)
        gets = len([e for e in em.requests() if e["method"] == "GET"])

        feed["S-00007"] = 1000
        feed["V-00003-2"] = 0
        feed["S-00250"] = 33
        env.write_feed(feed)
        before = len(self.updated_items(em))
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 3, 3), run)
        new = self.updated_items(em)[before:]
        self.assertEqual(sorted(i["stock_quantity"] for i in new), [0, 33, 1000])
        self.assertEqual(len([e for e in em.requests() if e["method"] == "GET"]), gets)
        self.assertEqual(em.woo_stock(), feed)
        log = env.log_text()
        self.assertNotIn(SECRET, log)
        self.assertNotIn(KEY, log)

    def test_query_string_auth(self):
        em = self.emulator()
        env = self.woo_env(em, auth="query_string")
        feed = {"S-00001": 9, "V-00001-1": 8}
        env.write_feed(feed)
        self.first_run(env)
        stock = em.woo_stock()
        self.assertEqual((stock["S-00001"], stock["V-00001-1"]), (9, 8))
        self.assertTrue(all(e.get("auth", "").startswith("query") for e in em.requests()
                            if e.get("path", "").startswith("/wp-json")))
        self.assertNotIn(SECRET, env.log_text())

    def test_unknown_skus_make_the_run_partial_and_the_rest_is_applied(self):
        em = self.emulator()
        env = self.woo_env(em)
        feed = {"S-00001": 1, "S-00002": 2, "V-00002-3": 3, "NOPE-1": 4}
        env.write_feed(feed)
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (3, 1), run)
        stock = em.woo_stock()
        self.assertEqual((stock["S-00001"], stock["S-00002"], stock["V-00002-3"]), (1, 2, 3))
        items = env.inventory()
        self.assertTrue(items["NOPE-1"]["pending"])
        self.assertIn("not found", items["NOPE-1"]["error"])

    def test_every_fault_switch_is_survived(self):
        em = self.emulator()
        env = self.woo_env(em)
        feed = full_feed()
        env.write_feed(feed)
        self.first_run(env)
        switches = [
            {"fail_next": 2, "fail_status": 503},
            {"fail_next": 1, "fail_status": 500},
            {"drop_next": 2},
            {"rate_limit_next": 1, "retry_after": 1},
            {"drop_after_apply_next": 1},
            {"malformed_next": 1},
        ]
        for n, switch in enumerate(switches, start=1):
            with self.subTest(switch=switch):
                feed["S-%05d" % n] = 500 + n
                feed["V-%05d-1" % n] = 600 + n
                env.write_feed(feed)
                em.faults(reset=True, **switch)
                started = time.monotonic()
                run = self.sync(env)
                self.assertEqual((run["result"], run["pushed"]), ("ok", 2), run)
                self.assertEqual(em.woo_stock(), feed)
                if "retry_after" in switch:
                    self.assertGreaterEqual(time.monotonic() - started, 0.9)

    def test_a_retry_after_beyond_the_retry_budget_ends_the_run_saying_when(self):
        em = self.emulator()
        env = self.woo_env(em)
        feed = full_feed()
        env.write_feed(feed)
        self.first_run(env)
        switches = [
            {"fail_next": 1, "fail_status": 503, "fail_retry_after": 600},
            {"rate_limit_next": 1, "retry_after": 600},
        ]
        for n, switch in enumerate(switches, start=1):
            with self.subTest(switch=switch):
                feed["S-%05d" % n] = 700 + n
                env.write_feed(feed)
                em.faults(reset=True, **switch)
                before = len(em.requests())
                started = time.monotonic()
                run = self.sync_ending(env)
                # Not waited for (600 s is past the 120 s budget), not retried half a second
                # later in the run: one request, and the run ends naming the time.
                self.assertLess(time.monotonic() - started, 30)
                self.assertEqual(run["result"], "failed", run)
                status = 503 if "fail_status" in switch else 429
                self.assertIn("WooCommerce asked to come back at ", run["error"])
                self.assertIn("(HTTP %d with Retry-After: 600)" % status, run["error"])
                batches = [e for e in em.requests()[before:] if e.get("method") == "POST"]
                self.assertEqual(len(batches), 1, batches)
                item = env.inventory()["S-%05d" % n]
                self.assertTrue(item["pending"], item)
                self.assertIn("asked to come back at", item["error"])
        em.faults(reset=True)
        run = self.sync(env)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(em.woo_stock(), feed)

    def test_an_unknown_sku_is_looked_up_once_until_the_next_walk(self):
        em = self.emulator()
        env = self.woo_env(em)
        feed = full_feed()
        feed["NOPE-1"] = 3
        env.write_feed(feed)
        self.first_run(env, expect="partial")
        lookups = [e for e in em.requests() if "NOPE-1" in (e.get("query") or {}).get("sku", "")]
        self.assertEqual(len(lookups), 1, lookups)
        run = self.sync_ending(env, kind="full")
        self.assertEqual(run["result"], "partial", run)
        lookups = [e for e in em.requests() if "NOPE-1" in (e.get("query") or {}).get("sku", "")]
        self.assertEqual(len(lookups), 1, lookups)  # remembered: no lookup this time
        error = env.inventory()["NOPE-1"]["error"]
        self.assertIn("SKU not in the WooCommerce catalogue (as of the walk at ", error)

    def test_sigkill_mid_run_then_the_store_converges(self):
        em = self.emulator("--latency-ms", "300")
        env = self.woo_env(em)
        feed = full_feed(5)
        env.write_feed(feed)
        env.start()
        harness.wait_for(lambda: len(self.updated_items(em)) >= 1, timeout=60,
                         what="a first batch")
        env.kill(signal.SIGKILL)
        self.assertNotEqual(em.woo_stock(), feed)
        env.start()
        run = env.wait_run(2, timeout=120)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(em.woo_stock(), feed)

    def test_wrong_secret_fails_clearly_without_a_retry_storm(self):
        em = self.emulator()
        env = self.woo_env(em, secret="cs_wrong_secret_value")
        env.write_feed({"S-00001": 5})
        run = self.first_run(env, expect="failed")
        self.assertIn("401", run["error"])
        refused = [e for e in em.requests() if e.get("status") == 401]
        self.assertLessEqual(len(refused), 1, refused)
        out = env.beectl("history", env.name).stdout + env.log_text()
        self.assertNotIn("cs_wrong_secret_value", out)
        item = env.inventory()["S-00001"]
        self.assertTrue(item["pending"])
        # The SKU's error column says why (as Shopify's does).
        self.assertIn("HTTP 401", item["error"] or "")
        self.assertNotIn("cs_wrong_secret_value", item["error"])

    def test_expired_certificate_and_wrong_ca_are_refused(self):
        for cert in ("expired", "wrong-ca"):
            with self.subTest(cert=cert):
                em = self.emulator(cert=cert)
                env = self.woo_env(em)
                env.write_feed({"S-00001": 5})
                run = self.first_run(env, expect="failed")
                self.assertIn("certificate", run["error"])
                self.assertEqual(em.requests(), [])
                env.kill()
                em.stop()


class WooCommerceWalkTest(store_emulators.WithTestCA, BeeTestCase):
    """The first catalogue walk is written as it goes: a kill mid-walk costs at most the wave of
    pages in flight, not the walk."""

    PRODUCTS = 4000  # 40 pages of 100

    TLS_PREFIX = "pb-it-woo-walk-tls-"

    def test_sigkill_mid_walk_resumes_from_the_checkpoint(self):
        em = StoreEmulator("woocommerce", self._tmp, self.tls,
                           ["--api-key", "%s:%s" % (KEY, SECRET),
                            "--generate-simple", str(self.PRODUCTS), "--latency-ms", "100"])
        self.addCleanup(em.stop)
        env = self.make_env()
        store = {
            "type": "woocommerce",
            "url": "https://127.0.0.1:%d" % em.port,
            "consumer_key_file": write_secret(env.root, "woo-key", KEY),
            "consumer_secret_file": write_secret(env.root, "woo-secret", SECRET),
            "ca_file": self.tls["ca"],
        }
        env.write_config(connections={env.name: env.connection(store=store)})
        feed = {"S-%05d" % i: i % 50 for i in range(1, self.PRODUCTS + 1)}
        env.write_feed(feed)

        def product_pages():
            return [e for e in em.requests()
                    if e.get("method") == "GET" and e.get("path", "").endswith("/products")]
        env.start()
        harness.wait_for(lambda: len(product_pages()) >= 20, timeout=60, what="20 product pages")
        env.kill(signal.SIGKILL)
        before = len(product_pages())
        self.assertLess(before, 40, "the walk ended before the kill")
        env.start()
        run = env.wait_run(2, timeout=180)
        self.assertEqual((run["result"], run["pushed"]), ("ok", self.PRODUCTS), run)
        # Resumed at the last committed wave (16 pages at concurrency 4): never from page 1.
        self.assertLessEqual(len(product_pages()), 40 + 16)
        self.assertEqual(em.woo_stock(), feed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
