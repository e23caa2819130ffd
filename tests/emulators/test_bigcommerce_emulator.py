#!/usr/bin/env python3
"""Self-tests of the BigCommerce Inventory API emulator (tests/emulators/bigcommerce).

Connector tests trust the emulator to enforce BigCommerce's documented behaviour (the 2,000-item
cap, all-or-nothing 422 problem+json answers, paging meta, X-Auth-Token, the request quota and
its headers), so these tests prove it does, over HTTPS verified against a throwaway test CA.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator_testlib as lib  # noqa: E402

EMULATOR = os.path.join(lib.HERE, "bigcommerce", "bc_emulator.py")
TOKEN = "bc_selftest_token_0123"
ROOT = "/stores/abc123/v3"
ADJUST = ROOT + "/inventory/adjustments/absolute"
AUTH = {"X-Auth-Token": TOKEN, "Accept": "application/json"}


class BigCommerceEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = lib.TempDir("pb-bc-emu-")
        cls.certs = lib.make_ca(os.path.join(cls.tmp.path, "tls"))
        cls.ctx = lib.client_context(cls.certs["ca"])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def serve(self, *args):
        self.log = os.path.join(self.tmp.path, "requests-%d.jsonl" % id(self))
        emu = lib.Emulator([sys.executable, EMULATOR, "--cert", self.certs["server"],
                            "--key", self.certs["server.key"], "--token", TOKEN,
                            "--request-log", self.log, *args], self.tmp.path, name="bc").start()
        self.addCleanup(emu.stop)
        self.port = emu.port
        return emu

    def call(self, method, path, body=None, headers=AUTH):
        return lib.request(self.port, method, path, body=body, headers=headers, context=self.ctx)

    def control(self, method, path, body=None):
        r = self.call(method, "/_emulator/" + path, body, headers={})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def levels(self):
        return {i["sku"]: i["levels"]["1"] for i in self.control("GET", "state")["items"]}

    def adjust(self, items, headers=AUTH):
        return self.call("PUT", ADJUST, {"reason": "self-test", "items": items}, headers)

    def test_absolute_adjustment_sets_quantities(self):
        self.serve("--generate", "5")
        r = self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 7},
                         {"location_id": 1, "sku": "SKU-000003", "quantity": 0}])
        self.assertEqual(r.status, 200, r)
        self.assertIn("transaction_id", r.json())
        self.assertEqual(self.levels(), {"SKU-000001": 7, "SKU-000002": 0, "SKU-000003": 0,
                                         "SKU-000004": 0, "SKU-000005": 0})
        # Absolute: the same request again leaves the same quantities.
        self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 7}])
        self.assertEqual(self.levels()["SKU-000001"], 7)
        entry = lib.read_jsonl(self.log)[-1]
        self.assertEqual(entry["items"], [["SKU-000001", 7]])
        with open(self.log) as f:
            self.assertNotIn(TOKEN, f.read())

    def test_a_bad_item_fails_the_whole_request_with_problem_json(self):
        self.serve("--generate", "3")
        for bad in ({"location_id": 1, "sku": "NOPE", "quantity": 1},
                    {"location_id": 1, "sku": "SKU-000003", "quantity": -1},
                    {"location_id": 1, "sku": "SKU-000003", "quantity": 1.5},
                    {"location_id": 9, "sku": "SKU-000003", "quantity": 1},
                    {"location_id": 1, "quantity": 1}):
            with self.subTest(bad=bad):
                r = self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 5}, bad])
                self.assertEqual(r.status, 422, r)
                self.assertEqual(r.header("Content-Type"), "application/problem+json")
                body = r.json()
                self.assertEqual(set(body), {"status", "title", "type", "errors"})
                self.assertEqual(body["status"], 422)
                self.assertNotIn("1", body["errors"])  # no per-item list
                self.assertEqual(self.levels()["SKU-000001"], 0)  # nothing applied
        self.control("POST", "faults", {"refuse_skus": ["SKU-000002"]})
        r = self.adjust([{"location_id": 1, "sku": "SKU-000002", "quantity": 5}])
        self.assertEqual(r.status, 422, r)
        self.assertIn("tracked by product", r.json()["title"])

    def test_at_most_2000_items_a_request(self):
        self.serve("--generate", "2001", "--quota", "1000")
        items = [{"location_id": 1, "sku": "SKU-%06d" % n, "quantity": n} for n in range(1, 2002)]
        r = self.adjust(items)
        self.assertEqual(r.status, 422, r)
        self.assertIn("2000", json.dumps(r.json()["errors"]))
        self.assertEqual(self.levels()["SKU-000001"], 0)
        self.assertEqual(self.adjust(items[:2000]).status, 200)
        self.assertEqual(self.levels()["SKU-002000"], 2000)

    def test_inventory_items_are_paged_with_meta(self):
        self.serve("--generate", "25")
        r = self.call("GET", ROOT + "/inventory/items?limit=10&page=3")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        p = body["meta"]["pagination"]
        self.assertEqual((p["total"], p["count"], p["per_page"], p["current_page"], p["total_pages"]),
                         (25, 5, 10, 3, 3))
        self.assertNotIn("next", p["links"])
        self.assertEqual([d["identity"]["sku"] for d in body["data"]],
                         ["SKU-%06d" % n for n in range(21, 26)])
        self.assertEqual(body["data"][0]["locations"][0]["location_id"], 1)
        r = self.call("GET", ROOT + "/inventory/items?sku:in=SKU-000002,SKU-000007,NOPE")
        self.assertEqual([d["identity"]["sku"] for d in r.json()["data"]], ["SKU-000002", "SKU-000007"])
        self.assertEqual(self.call("GET", ROOT + "/inventory/items?limit=1001").status, 422)
        self.assertEqual(self.call("GET", ROOT + "/inventory/items?limit=1000").status, 200)
        self.assertEqual(self.call("GET", ROOT + "/inventory/items").json()["meta"]["pagination"]["per_page"], 50)

    def test_token_is_checked(self):
        self.serve("--generate", "1")
        for headers in ({}, {"X-Auth-Token": "wrong"}):
            r = self.call("GET", ROOT + "/inventory/items", headers=headers)
            self.assertEqual(r.status, 401, r)
            r = self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 3}], headers=headers)
            self.assertEqual(r.status, 401, r)
        self.assertEqual(self.levels()["SKU-000001"], 0)
        self.control("POST", "token", {"token": "rotated_token"})
        self.assertEqual(self.call("GET", ROOT + "/inventory/items").status, 401)
        self.assertEqual(self.call("GET", ROOT + "/inventory/items",
                                   headers={"X-Auth-Token": "rotated_token"}).status, 200)
        self.assertEqual(self.call("GET", "/stores/other/v3/inventory/items").status, 404)

    def test_quota_headers_and_429_until_the_window_resets(self):
        self.serve("--generate", "1", "--quota", "3", "--window-ms", "1500")
        lefts = []
        for _ in range(3):
            r = self.call("GET", ROOT + "/inventory/items")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("X-Rate-Limit-Requests-Quota"), "3")
            self.assertEqual(r.header("X-Rate-Limit-Time-Window-Ms"), "1500")
            self.assertLessEqual(int(r.header("X-Rate-Limit-Time-Reset-Ms")), 1500)
            lefts.append(int(r.header("X-Rate-Limit-Requests-Left")))
        self.assertEqual(lefts, [2, 1, 0])
        r = self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 3}])
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("X-Rate-Limit-Requests-Left"), "0")
        self.assertEqual(self.levels()["SKU-000001"], 0)  # not processed
        time.sleep(int(r.header("X-Rate-Limit-Time-Reset-Ms")) / 1000.0 + 0.05)
        self.assertEqual(self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 3}]).status, 200)
        counters = self.control("GET", "state")["counters"]
        self.assertEqual(counters["rate_limited"], 1)

    def test_faults(self):
        self.serve("--generate", "1")
        self.control("POST", "faults", {"fail_next": 1, "retry_after": 2})
        r = self.call("GET", ROOT + "/inventory/items")
        self.assertEqual((r.status, r.header("Retry-After")), (503, "2"))
        self.control("POST", "faults", {"reset": True, "shed_next": 1})
        r = self.call("GET", ROOT + "/inventory/items")
        self.assertEqual(r.status, 429)
        self.assertIsNone(r.header("X-Rate-Limit-Time-Reset-Ms"))
        self.control("POST", "faults", {"drop_after_apply_next": 1})
        with self.assertRaises(Exception):
            self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 9}])
        self.assertEqual(self.levels()["SKU-000001"], 9)  # applied, answer lost
        self.control("POST", "faults", {"drop_next": 1})
        with self.assertRaises(Exception):
            self.adjust([{"location_id": 1, "sku": "SKU-000001", "quantity": 4}])
        self.assertEqual(self.levels()["SKU-000001"], 9)  # not applied
        self.control("POST", "items", {"add": [{"sku": "NEW-1"}], "remove": ["SKU-000001"]})
        self.assertEqual(set(self.levels()), {"NEW-1"})


def main():
    lib.require_tools("openssl", "bash")
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
