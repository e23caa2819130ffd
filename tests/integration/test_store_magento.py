#!/usr/bin/env python3
"""The Magento (MSI) store connector end to end: the real beed and beectl, a CSV warehouse, and
the Magento REST emulator of tests/emulators/magento (HTTPS with a test CA), which enforces the
documented rules, records every source-items call, and creates an orphan source item for any
SKU it is sent that no product has (as MSI does), so the tests can prove none was."""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import store_emulators  # noqa: E402
from store_emulators import write_secret  # noqa: E402
import emulator_testlib  # noqa: E402

EMULATOR = os.path.join(store_emulators.EMULATORS, "magento", "magento_emulator.py")
TOKEN = "mgt_integration_token_0123456789abcdef"
# A small catalogue in CI (two walk pages); a bigger one by hand.
CATALOGUE = 450 if os.environ.get("CI") == "true" else 1500


def sku(i):
    return "SKU-%06d" % i


def full_feed(seed=7):
    return {sku(n): (n * seed) % 97 for n in range(1, CATALOGUE + 1)}


class MagentoEmulator:
    def __init__(self, workdir, tls, args, cert="server"):
        self.log_path = os.path.join(workdir, "magento-requests.jsonl")
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        cmd = [sys.executable, EMULATOR, "--cert", tls[cert], "--key", tls[cert + ".key"],
               "--token", TOKEN, "--generate", str(CATALOGUE), "--configurable", "2",
               "--request-log", self.log_path] + list(args)
        self.proc = emulator_testlib.Emulator(cmd, workdir, name="magento").start()
        self.port = self.proc.port
        self.context = emulator_testlib.client_context(tls["ca"])

    def stop(self):
        self.proc.stop()

    def control(self, method, path, body=None):
        r = emulator_testlib.request(self.port, method, path, body=body, context=self.context)
        if r.status != 200:
            raise AssertionError("emulator %s %s: %r" % (method, path, r))
        return r.json()

    def faults(self, **switches):
        return self.control("POST", "/_emulator/faults", switches)

    def state(self):
        return self.control("GET", "/_emulator/state")

    def stock(self):
        return {i["sku"]: int(i["quantity"]) for i in self.state()["source_items"]}

    def requests(self):
        if not os.path.exists(self.log_path):
            return []
        return emulator_testlib.read_jsonl(self.log_path)

    def saves(self):
        return [e for e in self.requests()
                if e["method"] == "POST" and e["path"].endswith("/inventory/source-items")]


class MagentoStoreTest(store_emulators.WithTestCA, BeeTestCase):

    TLS_PREFIX = "pb-it-magento-tls-"

    def emulator(self, *args, cert="server"):
        em = MagentoEmulator(self._tmp, self.tls, args, cert=cert)
        self.addCleanup(em.stop)
        return em

    def magento_env(self, em, token=TOKEN):
        env = self.make_env()
        store = {
            "type": "magento",
            "url": "https://127.0.0.1:%d" % em.port,
            "access_token_file": write_secret(env.root, "magento-token", token),
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

    def assert_no_orphans(self, em):
        self.assertEqual(em.state()["orphans"], [])

    # ---- tests --------------------------------------------------------------------------

    def test_full_then_smart_pushes_only_changes(self):
        em = self.emulator()
        env = self.magento_env(em)
        feed = full_feed()
        env.write_feed(feed)
        run = self.first_run(env)
        self.assertEqual(run["pushed"], len(feed))
        self.assertEqual(em.stock(), feed)
        items = {i["sku"]: i for i in em.state()["source_items"]}
        self.assertEqual(items[sku(97)]["status"], 0)   # quantity 0: out of stock
        self.assertEqual(items[sku(1)]["status"], 1)
        self.assertTrue(all(i["source_code"] == "default" for i in items.values()))
        for save in em.saves():
            self.assertEqual(save["status"], 200, save)
            self.assertLessEqual(save["items"], 200)
        pages = [e for e in em.requests() if e["path"].endswith("/V1/products")]
        self.assertEqual(len(pages), -(-(CATALOGUE + 2) // 300))  # stops at total_count
        self.assertTrue(all(e["authorization"] == "bearer" for e in em.requests()))

        feed[sku(7)] = 1000
        feed[sku(300)] = 0
        feed[sku(CATALOGUE)] = 33
        env.write_feed(feed)
        saves = len(em.saves())
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 3, 3), run)
        new = em.saves()[saves:]
        self.assertEqual(len(new), 1)
        self.assertEqual(sorted(new[0]["skus"]), sorted([sku(7), sku(300), sku(CATALOGUE)]))
        self.assertEqual(em.stock(), feed)
        self.assertNotIn(TOKEN, env.log_text())
        self.assert_no_orphans(em)

    def test_an_unknown_sku_is_rejected_remembered_and_never_sent(self):
        em = self.emulator()
        env = self.magento_env(em)
        feed = {sku(1): 1, sku(2): 2, "GHOST-1": 4, "CFG-1": 5}
        env.write_feed(feed)
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (2, 2), run)
        self.assertEqual(em.stock(), {sku(1): 1, sku(2): 2})
        self.assert_no_orphans(em)
        sent = [s for e in em.saves() for s in e["skus"]]
        self.assertNotIn("GHOST-1", sent)
        self.assertNotIn("CFG-1", sent)
        items = env.inventory()
        self.assertTrue(items["GHOST-1"]["pending"])
        self.assertIn("not in the Magento catalogue", items["GHOST-1"]["error"])
        self.assertIn("configurable", items["CFG-1"]["error"])
        gets = len([e for e in em.requests() if e["method"] == "GET"])
        run = self.sync(env, kind="full")
        self.assertEqual(run["result"], "partial", run)
        # Remembered: only the run's source check, no lookup of GHOST-1 again.
        self.assertEqual(len([e for e in em.requests() if e["method"] == "GET"]), gets + 1)
        self.assert_no_orphans(em)

    def test_a_refused_item_is_isolated_and_the_rest_is_pushed(self):
        em = self.emulator()
        env = self.magento_env(em)
        feed = full_feed()
        env.write_feed(feed)
        em.control("POST", "/_emulator/reject", {"skus": [sku(123)]})
        run = self.first_run(env, expect="partial")
        self.assertEqual((run["pushed"], run["rejected"]), (len(feed) - 1, 1), run)
        expected = dict(feed)
        del expected[sku(123)]
        self.assertEqual(em.stock(), expected)
        error = env.inventory()[sku(123)]["error"]
        self.assertIn('Stock of product "%s" is managed by an external system' % sku(123), error)
        self.assertNotIn("%1", error)

    def test_input_limits_shrink_the_calls_and_everything_lands(self):
        em = self.emulator("--input-limit", "20", "--max-page-size", "100")
        env = self.magento_env(em)
        feed = full_feed()
        env.write_feed(feed)
        self.first_run(env)
        self.assertEqual(em.stock(), feed)
        # The walk asked for 300 a page, was told the maximum is 100, and paged by 100.
        pages = [e for e in em.requests() if e["path"].endswith("/V1/products")]
        self.assertEqual([e["status"] for e in pages[:2]], [400, 200])
        self.assertEqual(len(pages), 1 + -(-(CATALOGUE + 2) // 100))
        saves = em.saves()
        refused = [s for s in saves if s["status"] == 400]
        self.assertGreaterEqual(len(refused), 1)
        self.assertLessEqual(len(refused), 2)  # one per call in flight when it was learnt
        ok = [s for s in saves if s["status"] == 200]
        self.assertTrue(all(s["items"] <= 20 for s in ok))
        self.assertEqual(len(ok), -(-len(feed) // 20))
        self.assertEqual(env.log_text().count("Web API input limits on"), 1)

    def test_faults_are_survived(self):
        em = self.emulator()
        env = self.magento_env(em)
        feed = full_feed()
        env.write_feed(feed)
        self.first_run(env)
        switches = [{"fail_next": 2, "fail_status": 503, "fail_retry_after": 1},
                    {"rate_limit_next": 1, "retry_after": 1},
                    {"drop_next": 1}]
        for n, switch in enumerate(switches, start=1):
            with self.subTest(switch=switch):
                feed[sku(n)] = 500 + n
                env.write_feed(feed)
                em.faults(reset=True, **switch)
                started = time.monotonic()
                run = self.sync(env)
                self.assertEqual((run["result"], run["pushed"]), ("ok", 1), run)
                self.assertEqual(em.stock(), feed)
                if "retry_after" in switch or "fail_retry_after" in switch:
                    self.assertGreaterEqual(time.monotonic() - started, 0.9)

    def test_wrong_token_fails_naming_the_file_without_the_token(self):
        em = self.emulator()
        wrong = "mgt_wrong_token_value_0000000000"
        env = self.magento_env(em, token=wrong)
        env.write_feed({sku(1): 5})
        run = self.first_run(env, expect="failed")
        self.assertIn("access_token_file", run["error"])
        self.assertIn("401", run["error"])
        self.assertLessEqual(len([e for e in em.requests() if e.get("status") == 401]), 1)
        out = env.beectl("history", env.name).stdout + env.log_text() + str(env.inventory())
        self.assertNotIn(wrong, out)
        self.assertNotIn(TOKEN, out)
        self.assertTrue(env.inventory()[sku(1)]["pending"])
        self.assertEqual(em.saves(), [])

    def test_sigkill_mid_run_keeps_stale_skus_pending_then_converges(self):
        em = self.emulator("--latency-ms", "300")
        env = self.magento_env(em)
        feed = full_feed(5)
        env.write_feed(feed)
        env.start()
        harness.wait_for(lambda: any(s.get("applied") for s in em.saves()), timeout=60,
                         what="a first source-items call")
        env.kill(signal.SIGKILL)
        self.assertNotEqual(em.stock(), feed)
        em.faults(latency_ms=0)
        env.start()
        run = env.wait_run(2, timeout=120)
        self.assertEqual(run["result"], "ok", run)
        self.assertEqual(em.stock(), feed)
        self.assertTrue(all(not i["pending"] for i in env.inventory().values()))
        self.assert_no_orphans(em)

    def test_expired_certificate_and_wrong_ca_are_refused(self):
        for cert in ("expired", "wrong-ca"):
            with self.subTest(cert=cert):
                em = self.emulator(cert=cert)
                env = self.magento_env(em)
                env.write_feed({sku(1): 5})
                run = self.first_run(env, expect="failed")
                self.assertIn("certificate", run["error"])
                self.assertEqual(em.requests(), [])
                env.kill()
                em.stop()


class MagentoWalkTest(store_emulators.WithTestCA, BeeTestCase):
    """The first catalogue walk is written as it goes (waves of 4 pages, 2 at once): a kill
    costs at most the wave in flight, a SIGTERM ends it between two waves, a page size the store
    lowered meanwhile is taken up where the walk stood, and `beectl status` shows it as phase
    mapping with counts that move."""

    ITEMS = 6000                        # simple products; the emulator adds 2 configurables
    PRODUCTS = ITEMS + 2
    PAGES = -(-PRODUCTS // 300)         # 21: page 1 alone, then waves of 4
    WAVE = 4
    # Two pages at once, 0.8 s each: the walk takes about 9 s, so that what is left of it when
    # the signal comes (after the first wave) is longer than the 5 s a stop may take.
    LATENCY_MS = 800

    TLS_PREFIX = "pb-it-magento-walk-tls-"

    def start_walk(self):
        em = MagentoEmulator(self._tmp, self.tls, ["--generate", str(self.ITEMS),
                                                   "--latency-ms", str(self.LATENCY_MS)])
        self.addCleanup(em.stop)
        env = MagentoStoreTest.magento_env(self, em)
        self.feed = {sku(n): (n * 3) % 97 for n in range(1, self.ITEMS + 1)}
        env.write_feed(self.feed)
        env.start()
        return em, env

    @staticmethod
    def walk_pages(em):
        """(page, page size) of the catalogue walk's GETs (not lookups by SKU), in log order."""
        return [(e["page"], e["page_size"]) for e in em.requests()
                if e["path"].endswith("/V1/products") and not e.get("filtered")
                and e.get("status") == 200]

    def interrupt(self, sig):
        em, env = self.start_walk()
        harness.wait_for(lambda: len(self.walk_pages(em)) >= 1 + self.WAVE, timeout=60,
                         what="the first wave of pages")
        sent = time.monotonic()
        env.kill(sig)
        stopped_in = time.monotonic() - sent
        time.sleep(self.LATENCY_MS / 1000.0 + 0.2)  # the pages in flight reach the log
        before = self.walk_pages(em)
        self.assertLess(len(before), self.PAGES, "the walk ended before the signal")
        return em, env, before, stopped_in

    def finish(self, em, env, before):
        env.start()
        run = env.wait_run(2, timeout=120)
        self.assertEqual((run["result"], run["pushed"]), ("ok", self.ITEMS), run)
        self.assertEqual(em.stock(), self.feed)
        self.assertEqual(em.state()["orphans"], [])
        again = self.walk_pages(em)[len(before):]
        # Went on from the checkpoint: at most the wave not yet committed when the signal came
        # is read again; never page 1.
        self.assertGreaterEqual(again[0][0], max(p for p, _ in before) - self.WAVE + 1, again)
        self.assertRegex(env.log_text(), r"catalogue walk: %d SKUs, .* \(resumed at page \d+ of "
                         r"\d+ products, after \d+ listed by an earlier run\)" % self.PRODUCTS)
        return before + again

    def test_sigkill_mid_walk_resumes_from_the_checkpoint(self):
        em, env, before, _ = self.interrupt(signal.SIGKILL)
        em.faults(latency_ms=0)  # the rest of the test at full speed
        pages = self.finish(em, env, before)
        self.assertLessEqual(len(pages), self.PAGES + self.WAVE, pages)
        self.assertEqual(sorted(set(p for p, _ in pages)), list(range(1, self.PAGES + 1)))

    def test_sigterm_stops_the_walk_between_two_waves(self):
        em, env, before, stopped_in = self.interrupt(signal.SIGTERM)
        # A wave or so after the signal (the run's stop flag, checked between waves), far from
        # the 20 s stop deadline.
        self.assertLess(stopped_in, 5.0)
        em.faults(latency_ms=0)
        pages = self.finish(em, env, before)
        self.assertLessEqual(len(pages), self.PAGES + self.WAVE, pages)

    def test_a_page_size_lowered_meanwhile_is_taken_up_where_the_walk_stood(self):
        em, env, before, _ = self.interrupt(signal.SIGKILL)
        # The admin turns Web API input limits on with a Maximum Page Size of 200 before the
        # restart: the walk goes on at the first product it had not read, 200 or fewer a page.
        em.faults(latency_ms=0, input_limit=200, max_page_size=200)
        pages = self.finish(em, env, before)
        read = [(p, size) for p, size in pages[len(before):]]
        self.assertTrue(all(size <= 200 for _, size in read), read)
        # It began where a committed wave of 300-product pages ended (page 1 alone, then pages
        # 2-5, 6-9...), not at the same page number of the new size.
        first, size = min(read)
        wave_ends = [0, 300] + [300 * (1 + self.WAVE * k) for k in range(1, 5)]
        self.assertIn((first - 1) * size, wave_ends)
        # Every product read, none skipped, and none read twice beyond the wave in flight: the
        # new page size divides what had been read, so the pages meet end to end.
        covered = set()
        reads = 0
        for p, size in pages:
            products = range((p - 1) * size, min(p * size, self.PRODUCTS))
            covered.update(products)
            reads += len(products)
        self.assertEqual(covered, set(range(self.PRODUCTS)))
        self.assertLessEqual(reads, self.PRODUCTS + self.WAVE * 300, pages)

    def test_status_shows_phase_mapping_with_counts_that_move(self):
        em, env = self.start_walk()
        seen = env.watch_mapping(lambda seen: len(set(m for m, _ in seen)) >= 3,
                                 what="phase mapping with moving counts")
        self.assertEqual(seen, sorted(seen))
        self.assertIn((300, self.PRODUCTS), seen)  # total_count, from the first page
        self.assertIn("mapping", env.beectl("status").stdout)
        em.faults(latency_ms=0)
        run = env.wait_run(1, timeout=120)
        self.assertEqual((run["result"], run["pushed"]), ("ok", self.ITEMS), run)
        self.assertEqual(sorted(p for p, _ in self.walk_pages(em)), list(range(1, self.PAGES + 1)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
