#!/usr/bin/env python3
"""The Shopify catalogue walk (SKU -> inventory item) end to end: the real beed and beectl against
the Shopify emulator. A first sync reads the catalogue with a bulk operation; when one cannot
serve, it pages. Either walk survives SIGTERM and SIGKILL and resumes where it stood (the
emulator's request log shows no page read twice beyond the one in flight, and no second bulk
operation), and `beectl status` shows it as phase mapping with counts that move."""

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

TOKEN = "shpat_integration_secret_walks"
PAGES = 16
CATALOGUE = 250 * PAGES  # SKU-00001 .. at location 1: 16 pages of 250


def sku(i):
    return "SKU-%05d" % i


def full_feed(seed=5):
    return {sku(i): (i * seed) % 97 for i in range(1, CATALOGUE + 1)}


class ShopifyWalkTest(store_emulators.WithShopifyEmulator, BeeTestCase):

    TLS_PREFIX = "pb-it-shopify-walks-tls-"

    def emulator(self, *args):
        # A fast bucket refill: paged walks are paced by the server latency the tests set, not
        # by Standard rates (16 pages of 502 points would take 80 s at 100/s).
        em = StoreEmulator("shopify", self._tmp, self.tls,
                           ["--token", TOKEN, "--generate", str(CATALOGUE),
                            "--restore-rate", "50000", *args])
        self.addCleanup(em.stop)
        return em

    def shop_env(self, em):
        env = self.make_env()
        store = {
            "type": "shopify",
            "shop": "acme",
            "endpoint": "https://127.0.0.1:%d/admin/api/2026-10/graphql.json" % em.port,
            "access_token_file": write_secret(env.root, "shopify-token", TOKEN),
            "location_id": 1,
            "ca_file": self.tls["ca"],
        }
        env.write_config(connections={env.name: env.connection(store=store)})
        env.write_feed(full_feed())
        return env

    def finish_and_check(self, env, em, run_id):
        run = env.wait_run(run_id, timeout=180)
        self.assertEqual((run["result"], run["pushed"]), ("ok", CATALOGUE), run)
        self.assertEqual(em.shopify_available(), full_feed())

    @staticmethod
    def finished(env, run_id):
        # A paused connection is never "idle" (wait_run's test): read the run's own record.
        last = env.conn_status().get("last_sync") or {}
        return last.get("id") == run_id and last.get("finished_at") is not None

    def interrupted_paged_walk(self, sig):
        em = self.emulator("--latency-ms", "150")
        em.faults(bulk_access_denied_next=1)  # a bulk operation cannot serve: beed pages
        env = self.shop_env(em)
        env.start()
        harness.wait_for(lambda: len(em.catalogue_pages()) >= 4, timeout=60, what="4 pages")
        sent = time.monotonic()
        env.kill(sig)
        stopped_in = time.monotonic() - sent
        read_before = len(em.catalogue_pages())
        self.assertLess(read_before, PAGES, "the walk ended before the signal")
        env.start()
        self.finish_and_check(env, em, 2)
        pages = em.catalogue_pages()
        # The restart went on from its checkpoint: one page may be read again (the one in
        # flight when the signal came), never the walk from the start.
        self.assertLessEqual(len(pages), PAGES + 1, [p.get("seq") for p in pages])
        self.assertEqual(len(em.bulk_starts()), 1)
        return stopped_in

    # ---- tests --------------------------------------------------------------------------

    def test_first_sync_reads_the_catalogue_with_one_bulk_operation(self):
        em = self.emulator("--bulk-base-ms", "500")
        env = self.shop_env(em)
        env.start()
        self.finish_and_check(env, em, 1)
        self.assertEqual(len(em.bulk_starts()), 1)
        self.assertEqual(em.catalogue_pages(), [])
        downloads = em.result_downloads()
        self.assertEqual([d["status"] for d in downloads], [206])
        self.assertIn("mapped", env.conn_status().get("progress") or {"mapped": 0})

    def test_sigterm_stops_a_paged_walk_at_once_and_the_restart_resumes_it(self):
        stopped_in = self.interrupted_paged_walk(signal.SIGTERM)
        # Within a page or two of the signal (the run's stop flag, checked between pages), far
        # from the 20 s stop deadline it waited out before walks were stoppable.
        self.assertLess(stopped_in, 5.0)

    def test_pause_stops_a_paged_walk_and_the_next_run_resumes_it(self):
        em = self.emulator("--latency-ms", "150")
        em.faults(bulk_access_denied_next=1)  # a bulk operation cannot serve: beed pages
        env = self.shop_env(em)
        env.start()
        harness.wait_for(lambda: len(em.catalogue_pages()) >= 4, timeout=60, what="4 pages")
        sent = time.monotonic()
        r = env.beectl("pause", env.name)
        self.assertEqual(r.code, 0, r)
        harness.wait_for(lambda: self.finished(env, 1), timeout=30, what="run 1 to end")
        run = env.conn_status()["last_sync"]
        stopped_in = time.monotonic() - sent
        self.assertNotEqual(run["result"], "ok", run)
        self.assertLess(stopped_in, 5.0)
        read_before = len(em.catalogue_pages())
        self.assertLess(read_before, PAGES, "the walk ended before the pause")
        # Paused, a manual run still goes, and it walks on from the checkpoint.
        r = env.beectl("full-sync", env.name)
        self.assertEqual(r.code, 0, r)
        harness.wait_for(lambda: self.finished(env, 2), timeout=180, what="run 2 to end")
        run = env.conn_status()["last_sync"]
        self.assertEqual((run["result"], run["pushed"]), ("ok", CATALOGUE), run)
        self.assertEqual(em.shopify_available(), full_feed())
        self.assertLessEqual(len(em.catalogue_pages()), PAGES + 1)

    def test_sigkill_mid_paged_walk_resumes_from_the_checkpoint(self):
        self.interrupted_paged_walk(signal.SIGKILL)

    def test_sigkill_while_the_bulk_operation_runs_takes_it_over_after_restart(self):
        em = self.emulator("--bulk-base-ms", "4000")
        env = self.shop_env(em)
        env.start()
        harness.wait_for(lambda: len(em.bulk_starts()) >= 1, timeout=30, what="a bulk start")
        time.sleep(0.5)  # the operation's id is committed right after its start
        env.kill(signal.SIGKILL)
        env.start()
        self.finish_and_check(env, em, 2)
        self.assertEqual(len(em.bulk_starts()), 1)  # the running one was polled, not restarted
        self.assertEqual(em.catalogue_pages(), [])

    def test_failed_bulk_operation_falls_back_to_pages(self):
        em = self.emulator("--bulk-base-ms", "300")
        em.faults(bulk_fail_next=1)
        env = self.shop_env(em)
        env.start()
        self.finish_and_check(env, em, 1)
        self.assertEqual(len(em.catalogue_pages()), PAGES)
        self.assertIn("FAILED", env.log_text())

    def test_result_download_cut_midway_is_read_again_from_where_it_broke(self):
        em = self.emulator("--bulk-base-ms", "300")
        em.faults(bulk_cut_next=1)
        env = self.shop_env(em)
        env.start()
        self.finish_and_check(env, em, 1)
        downloads = em.result_downloads()
        self.assertEqual(len(downloads), 2, downloads)
        self.assertEqual(downloads[0].get("fault"), "cut")
        self.assertEqual(em.catalogue_pages(), [])

    def test_status_shows_phase_mapping_with_counts_that_move(self):
        em = self.emulator("--latency-ms", "200")
        em.faults(bulk_access_denied_next=1)
        env = self.shop_env(em)
        env.start()
        seen = env.watch_mapping(lambda seen: len(set(m for m, _ in seen)) >= 3,
                                 what="phase mapping with moving counts")
        mapped = [m for m, _ in seen]
        self.assertEqual(mapped, sorted(mapped))
        text = env.beectl("status").stdout
        self.assertIn("mapping", text)
        self.finish_and_check(env, em, 1)

    # ---- a bulk query of this app already running (OPERATION_IN_PROGRESS) -----------------

    # The bulk query of PLATFORMS.md / shopify.dev laid out otherwise (Shopify keeps the text as
    # sent; beed compares queries without whitespace), and another query of the same app.
    SAME_QUERY = "{\n  productVariants {\n    edges { node { id sku inventoryItem { id } } }\n  }\n}"
    OTHER_QUERY = "{ inventoryItems { edges { node { id } } } }"

    def foreign_bulk(self, em, query, duration_ms):
        """A bulk query started by another process of the same app: it holds one of the slots."""
        return em.control("POST", "/_emulator/bulk_operations",
                          {"token": TOKEN, "query": query, "duration_ms": duration_ms})

    def fill_bulk_slots(self, em, last_query, duration_ms):
        # API 2026-01 and later run five bulk queries per app and shop (one before): all taken.
        ops = [self.foreign_bulk(em, self.OTHER_QUERY, duration_ms) for _ in range(4)]
        return ops + [self.foreign_bulk(em, last_query, duration_ms)]

    def test_bulk_query_in_progress_with_the_same_query_is_taken_over(self):
        em = self.emulator("--bulk-base-ms", "300")
        ops = self.fill_bulk_slots(em, self.SAME_QUERY, 4000)
        env = self.shop_env(em)
        env.start()
        self.finish_and_check(env, em, 1)
        # One start, refused; the running operation of the same query was polled and its result
        # read: no second operation, no paged walk.
        self.assertEqual([s.get("bulk_outcome") for s in em.bulk_starts()],
                         ["OPERATION_IN_PROGRESS"])
        taken = ops[-1]["id"].rsplit("/", 1)[1]
        paths = {d["path"] for d in em.result_downloads()}
        self.assertEqual(paths, {"/_bulk_results/%s.jsonl" % taken})
        self.assertEqual(em.catalogue_pages(), [])

    def test_bulk_query_in_progress_with_another_query_is_waited_for(self):
        em = self.emulator("--bulk-base-ms", "300")
        ops = self.fill_bulk_slots(em, self.OTHER_QUERY, 2500)
        env = self.shop_env(em)
        env.start()
        self.finish_and_check(env, em, 1)
        starts = em.bulk_starts()
        self.assertEqual([s.get("bulk_outcome") for s in starts][0], "OPERATION_IN_PROGRESS")
        self.assertEqual([s.get("bulk_outcome") for s in starts][-1], "started")
        self.assertNotIn("started", [s.get("bulk_outcome") for s in starts][:-1])
        self.assertIn("waiting for it", env.log_text())
        # Its own operation (not one of the others) gave the map; none of theirs was read.
        own = starts[-1]["bulk_operation"].rsplit("/", 1)[1]
        self.assertNotIn(starts[-1]["bulk_operation"], [op["id"] for op in ops])
        self.assertEqual({d["path"] for d in em.result_downloads()},
                         {"/_bulk_results/%s.jsonl" % own})
        self.assertEqual(em.catalogue_pages(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
