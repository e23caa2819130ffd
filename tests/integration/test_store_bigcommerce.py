#!/usr/bin/env python3
"""The BigCommerce store connector end to end: the real beed and beectl, a CSV warehouse, and
the BigCommerce Inventory API emulator of tests/emulators (HTTPS with a test CA), which enforces
the documented rules (2,000 items an adjustment, all-or-nothing 422s, X-Auth-Token, the request
quota with 429s) and logs every request it saw.

In CI (CI=true) the catalogue is small so the file runs well under 2 minutes; bench/ has the
100,000-SKU figures."""

import math
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import store_emulators  # noqa: E402
from store_emulators import emulator_testlib, write_secret  # noqa: E402

EMULATOR = os.path.join(store_emulators.EMULATORS, "bigcommerce", "bc_emulator.py")
TOKEN = "bc_integration_token_0123456789"
HASH = "abc123"
N = 4500 if os.environ.get("CI") else 12000  # SKU-000001 .. SKU-00N


def sku(n):
    return "SKU-%06d" % n


def full_feed(seed=7, n=N):
    return {sku(i): (i * seed) % 97 for i in range(1, n + 1)}


class BigCommerce:
    """One running emulator, its control endpoints and its request log."""

    def __init__(self, workdir, tls, args, cert="server"):
        self.log_path = os.path.join(workdir, "bc-requests.jsonl")
        cmd = [sys.executable, EMULATOR, "--cert", tls[cert], "--key", tls[cert + ".key"],
               "--token", TOKEN, "--store-hash", HASH, "--request-log", self.log_path] + list(args)
        self.emulator = emulator_testlib.Emulator(cmd, workdir, name="bigcommerce").start()
        self.port = self.emulator.port
        self.context = emulator_testlib.client_context(tls["ca"])

    def stop(self):
        self.emulator.stop()

    def control(self, method, path, body=None):
        r = emulator_testlib.request(self.port, method, "/_emulator/" + path, body=body,
                                     context=self.context)
        if r.status != 200:
            raise AssertionError("emulator %s %s: %r" % (method, path, r))
        return r.json()

    def levels(self):
        return {i["sku"]: i["levels"]["1"] for i in self.control("GET", "state")["items"]}

    def counters(self):
        return self.control("GET", "state")["counters"]

    def requests(self):
        if not os.path.exists(self.log_path):
            return []
        return emulator_testlib.read_jsonl(self.log_path)

    def adjustments(self, since=0):
        return [e for e in self.requests()[since:] if e["method"] == "PUT"]

    def item_gets(self, since=0):
        return [e for e in self.requests()[since:] if e["method"] == "GET"]

    def api_call(self, token=TOKEN):
        """One API request as another app on the same store would make (it spends the quota)."""
        return emulator_testlib.request(self.port, "GET", "/stores/%s/v3/inventory/items" % HASH,
                                        headers={"X-Auth-Token": token}, context=self.context)


class BigCommerceStoreTest(store_emulators.WithTestCA, BeeTestCase):

    TLS_PREFIX = "pb-it-bc-tls-"

    def emulator(self, *args, cert="server", quota=1000):
        em = BigCommerce(self._tmp, self.tls, ["--generate", str(N), "--quota", str(quota), *args],
                         cert=cert)
        self.addCleanup(em.stop)
        return em

    def bc_env(self, em, token=TOKEN):
        env = self.make_env()
        store = {
            "type": "bigcommerce",
            "store_hash": HASH,
            "access_token_file": write_secret(env.root, "bc-token", token),
            "endpoint": "https://127.0.0.1:%d" % em.port,
            "ca_file": self.tls["ca"],
        }
        env.write_config(connections={env.name: env.connection(store=store)})
        return env

    def first_run(self, env, expect="ok"):
        env.start()
        env.wait_run(1, timeout=120)
        run = env.history()[0]
        self.assertEqual((run["id"], run["kind"], run["result"]), (1, "full", expect), run)
        return run

    def sync(self, env, kind="smart"):
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=180)
        self.assertIn(r.code, (0, 3, 4), r)
        return env.history()[0]

    def assert_no_token(self, env):
        out = (env.log_text() + env.beectl("history", env.name).stdout +
               env.beectl("inventory", env.name, "--limit", "0").stdout)
        self.assertNotIn(TOKEN, out)

    # ---- tests --------------------------------------------------------------------------

    def test_full_then_smart_sync(self):
        em = self.emulator()
        env = self.bc_env(em)
        feed = full_feed()
        env.write_feed(feed)
        run = self.first_run(env)
        self.assertEqual(run["pushed"], N)
        self.assertEqual(em.levels(), feed)
        puts = em.adjustments()
        self.assertEqual(len(puts), math.ceil(N / 2000))  # the minimum
        for p in puts:
            self.assertEqual(p["status"], 200, p)
            self.assertLessEqual(p["count"], 2000)
            self.assertTrue(p["reason"].startswith("PackageBee sync %s/" % env.name), p)
        self.assertEqual(len(em.item_gets()), math.ceil(N / 1000))
        for g in em.item_gets():
            self.assertEqual(g["query"]["limit"], "1000")

        before = len(em.requests())
        feed[sku(7)] = 1000
        feed[sku(N)] = 0
        feed[sku(2500)] = 33
        env.write_feed(feed)
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 3, 3), run)
        new = em.requests()[before:]
        self.assertEqual([e["method"] for e in new], ["PUT"])  # no walk: the map is fresh
        self.assertEqual(sorted(q for _, q in new[0]["items"]), [0, 33, 1000])
        self.assertEqual(em.levels(), feed)
        self.assert_no_token(env)

    def test_an_unknown_sku_is_rejected_and_remembered(self):
        em = self.emulator()
        env = self.bc_env(em)
        feed = {sku(1): 1, sku(2): 2, "NOPE-1": 4}
        env.write_feed(feed)
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (2, 1), run)
        item = env.inventory()["NOPE-1"]
        self.assertTrue(item["pending"])
        self.assertIn("not in the BigCommerce store", item["error"])
        lookups = [e for e in em.item_gets() if "NOPE-1" in e["query"].get("sku:in", "")]
        self.assertEqual(len(lookups), 1, lookups)
        for p in em.adjustments():
            self.assertNotIn("NOPE-1", [s for s, _ in p["items"]])  # never sent
        run = self.sync(env, kind="full")
        self.assertEqual(run["result"], "partial", run)
        lookups = [e for e in em.item_gets() if "NOPE-1" in e["query"].get("sku:in", "")]
        self.assertEqual(len(lookups), 1, lookups)  # remembered: not looked up again
        # A SKU the store gains after the walk is found by a lookup and pushed.
        em.control("POST", "items", {"add": [{"sku": "NEW-1"}]})
        feed["NEW-1"] = 6
        env.write_feed(feed)
        run = self.sync(env)
        self.assertEqual(em.levels()["NEW-1"], 6)

    def test_a_refused_adjustment_is_isolated_and_the_rest_pushed(self):
        em = self.emulator()
        em.control("POST", "faults", {"refuse_skus": [sku(7), sku(1500)]})
        env = self.bc_env(em)
        feed = full_feed(n=3000)
        env.write_feed(feed)
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (2998, 2), run)
        levels = em.levels()
        for s, q in feed.items():
            if s not in (sku(7), sku(1500)):
                self.assertEqual(levels[s], q, s)
        self.assertEqual(levels[sku(7)], 0)
        error = env.inventory()[sku(7)]["error"]
        self.assertIn("BigCommerce refused it (HTTP 422)", error)
        self.assertIn("tracked by product", error)
        refused = [p for p in em.adjustments() if p["status"] == 422]
        # Two bad SKUs in batches of 2,000 and 1,000: a few dozen requests, not thousands.
        self.assertLess(len(em.adjustments()), 60)
        self.assertGreaterEqual(len(refused), 2)

    def test_the_quota_is_paced_and_a_429_waited_out(self):
        window_ms = 2000
        em = self.emulator("--window-ms", str(window_ms), quota=3)
        env = self.bc_env(em)
        feed = full_feed(n=2500)  # N/1000 pages + 2 adjustments: more than one window
        env.write_feed(feed)
        started = time.monotonic()
        self.first_run(env)
        self.assertEqual(em.levels()[sku(2500)], feed[sku(2500)])
        ours = [e for e in em.requests() if e["method"] in ("GET", "PUT")]
        self.assertEqual([e for e in ours if e["status"] == 429], [])  # paced, never refused
        self.assertGreaterEqual(time.monotonic() - started, window_ms / 1000.0 * (len(ours) // 3 - 1))

        # Another app on the store spends the quota: the next request gets a 429, and beed's
        # next request waits until the window resets.
        time.sleep(window_ms / 1000.0 + 0.1)
        while em.api_call().status != 429:
            pass
        feed[sku(1)] = 500
        env.write_feed(feed)
        before = len(em.requests())
        run = self.sync(env)
        self.assertEqual(run["result"], "ok", run)
        new = em.requests()[before:]
        limited = [e for e in new if e["status"] == 429]
        self.assertGreaterEqual(len(limited), 1, new)
        after = [e for e in new if e["status"] == 200]
        self.assertTrue(after, new)
        self.assertGreaterEqual(em.counters()["rate_limited"], 2)
        # The window the 429 was in had reset before the next request came.
        self.assertGreaterEqual(after[0]["t"] - limited[-1]["t"], 0.05)
        self.assertEqual(after[0]["rate_left"], 2)  # the first request of a fresh window
        self.assertEqual(em.levels()[sku(1)], 500)

    def test_a_wrong_token_fails_the_run_naming_the_key(self):
        em = self.emulator()
        env = self.bc_env(em, token="bc_wrong_token_value_42")
        env.write_feed({sku(1): 5})
        run = self.first_run(env, expect="failed")
        self.assertIn("access_token_file", run["error"])
        self.assertIn("401", run["error"])
        item = env.inventory()[sku(1)]
        self.assertTrue(item["pending"])
        self.assertIn("access_token_file", item["error"])
        refused = [e for e in em.requests() if e.get("status") == 401]
        self.assertEqual(len(refused), 1, refused)  # no retry storm
        out = env.log_text() + env.beectl("history", env.name).stdout
        self.assertNotIn("bc_wrong_token_value_42", out)
        # The token is read at each run: fixing the file mends the next run without a reload.
        write_secret(env.root, "bc-token", TOKEN)
        run = self.sync(env, kind="full")
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(em.levels()[sku(1)], 5)
        self.assert_no_token(env)

    def test_sigkill_mid_run_leaves_the_rest_pending(self):
        em = self.emulator("--latency-ms", "300")
        env = self.bc_env(em)
        feed = full_feed(5)
        env.write_feed(feed)
        env.start()
        harness.wait_for(lambda: len(em.adjustments()) >= 1, timeout=90, what="a first adjustment")
        env.kill(signal.SIGKILL)
        self.assertNotEqual(em.levels(), feed)
        env.start()
        run = env.wait_run(2, timeout=120)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(em.levels(), feed)
        self.assertFalse(any(i["pending"] for i in env.inventory().values()))

    def test_faults_are_survived_as_retries(self):
        em = self.emulator()
        env = self.bc_env(em)
        feed = full_feed(n=10)
        env.write_feed(feed)
        self.first_run(env)
        switches = [{"fail_next": 2, "fail_status": 503}, {"drop_next": 1},
                    {"drop_after_apply_next": 1}, {"shed_next": 2},
                    {"fail_next": 1, "fail_status": 502, "retry_after": 1}]
        for n, switch in enumerate(switches, start=1):
            with self.subTest(switch=switch):
                feed[sku(n)] = 700 + n
                env.write_feed(feed)
                em.control("POST", "faults", dict(reset=True, **switch))
                run = self.sync(env)
                self.assertEqual((run["result"], run["pushed"]), ("ok", 1), run)
                levels = em.levels()
                self.assertEqual({s: levels[s] for s in feed}, feed)
        self.assertRegex(env.log_text(), r"attempt 1 of \d+ failed")

    def test_certificates_are_verified(self):
        for cert in ("expired", "wrong-ca"):
            with self.subTest(cert=cert):
                em = self.emulator(cert=cert)
                env = self.bc_env(em)
                env.write_feed({sku(1): 5})
                run = self.first_run(env, expect="failed")
                self.assertIn("certificate", run["error"])
                self.assertEqual(em.requests(), [])
                env.kill()
                em.stop()


class BigCommerceWalkTest(store_emulators.WithTestCA, BeeTestCase):
    """The first catalogue walk is written as it goes (a page a step, one request at a time): a
    kill costs at most the page in flight and the one not yet committed, a SIGTERM ends it
    between two pages, and `beectl status` shows it as phase mapping with counts that move."""

    PAGES = 12
    ITEMS = 1000 * PAGES  # 1,000 a page
    # A page every 0.7 s: the walk takes over 8 s, so that what is left of it when the signal
    # comes (after page 3) is longer than the 5 s a stop may take.
    LATENCY_MS = 700

    TLS_PREFIX = "pb-it-bc-walk-tls-"

    def start_walk(self):
        em = BigCommerce(self._tmp, self.tls, ["--generate", str(self.ITEMS), "--quota", "1000",
                                               "--latency-ms", str(self.LATENCY_MS)])
        self.addCleanup(em.stop)
        env = BigCommerceStoreTest.bc_env(self, em)
        self.feed = full_feed(seed=3, n=self.ITEMS)
        env.write_feed(self.feed)
        env.start()
        return em, env

    @staticmethod
    def walk_pages(em):
        """The page numbers of the catalogue walk's GETs (not lookups by SKU), in order."""
        return [int(e["query"]["page"]) for e in em.item_gets() if "sku:in" not in e["query"]]

    def interrupted_walk(self, sig):
        em, env = self.start_walk()
        harness.wait_for(lambda: len(self.walk_pages(em)) >= 3, timeout=60, what="3 pages")
        sent = time.monotonic()
        env.kill(sig)
        stopped_in = time.monotonic() - sent
        time.sleep(self.LATENCY_MS / 1000.0 + 0.2)  # the page in flight reaches the log
        before = self.walk_pages(em)
        self.assertLess(len(before), self.PAGES, "the walk ended before the signal")
        self.assertEqual(before, list(range(1, len(before) + 1)))
        em.control("POST", "faults", {"latency_ms": 0})  # the rest of the test at full speed
        env.start()
        run = env.wait_run(2, timeout=120)
        self.assertEqual((run["result"], run["pushed"]), ("ok", self.ITEMS), run)
        self.assertEqual(em.levels(), self.feed)
        pages = self.walk_pages(em)
        again = pages[len(before):]
        # Went on from the checkpoint: the page in flight when the signal came (or the one read
        # but not yet committed) may be read again, nothing before it.
        self.assertIn(again[0], (before[-1], before[-1] + 1), pages)
        self.assertEqual(again, list(range(again[0], self.PAGES + 1)), pages)
        self.assertLessEqual(len(pages), self.PAGES + 1, pages)
        self.assertEqual(sorted(set(pages)), list(range(1, self.PAGES + 1)))
        self.assertRegex(env.log_text(), r"catalogue walk: %d SKUs .* \(resumed at page \d+, "
                         r"after \d+ items listed by an earlier run\)" % self.ITEMS)
        return stopped_in

    def test_sigkill_mid_walk_resumes_from_the_checkpoint(self):
        self.interrupted_walk(signal.SIGKILL)

    def test_sigterm_stops_the_walk_between_two_pages(self):
        stopped_in = self.interrupted_walk(signal.SIGTERM)
        # A page or so after the signal (the run's stop flag, checked between pages), far from
        # the 20 s stop deadline.
        self.assertLess(stopped_in, 5.0)

    def test_status_shows_phase_mapping_with_counts_that_move(self):
        em, env = self.start_walk()
        seen = env.watch_mapping(lambda seen: len(set(m for m, _ in seen)) >= 3,
                                 what="phase mapping with moving counts")
        self.assertEqual(seen, sorted(seen))
        self.assertIn((1000, self.ITEMS), seen)  # meta.pagination.total, from the first page
        self.assertIn("mapping", env.beectl("status").stdout)
        em.control("POST", "faults", {"latency_ms": 0})
        run = env.wait_run(1, timeout=120)
        self.assertEqual((run["result"], run["pushed"]), ("ok", self.ITEMS), run)
        self.assertEqual(self.walk_pages(em), list(range(1, self.PAGES + 1)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
