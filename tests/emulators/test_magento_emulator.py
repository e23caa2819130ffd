#!/usr/bin/env python3
"""Self-tests of the Magento 2 MSI REST emulator (tests/emulators/magento).

Connector tests trust the emulator to behave as Magento documents (and as its classes do), so
these tests prove it: searchCriteria paging with the last page repeated past the end, `fields`
filtering, the all-or-nothing source-items save with its validation errors, the orphan source
item an unknown SKU becomes, Web API input limits, the Bearer check, and the fault switches.
"""

import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator_testlib as lib  # noqa: E402

EMULATOR = os.path.join(lib.HERE, "magento", "magento_emulator.py")
TOKEN = "test-token-abcdefghijklmnopqrstuv"
API = "/rest/all/V1"


class MagentoEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = lib.TempDir("pb-magento-emu-")
        cls.certs = lib.make_ca(os.path.join(cls.tmp.path, "tls"))
        cls.ctx = lib.client_context(cls.certs["ca"])
        cls.emu = lib.Emulator(
            [sys.executable, EMULATOR, "--cert", cls.certs["server"], "--key", cls.certs["server.key"],
             "--token", TOKEN, "--generate", "45", "--configurable", "2",
             "--request-log", os.path.join(cls.tmp.path, "requests.jsonl")],
            cls.tmp.path, "magento").start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.tmp.cleanup()

    def tearDown(self):
        self.control("POST", "/_emulator/faults", {"reset": True})
        self.control("POST", "/_emulator/reject", {"skus": []})

    def call(self, method, path, body=None, token=TOKEN, query=None):
        headers = {"Authorization": "Bearer " + token} if token else {}
        url = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
        return lib.request(self.emu.port, method, url, body, headers, self.ctx)

    def control(self, method, path, body=None):
        r = lib.request(self.emu.port, method, path, body, context=self.ctx)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def page(self, n, size, fields=None):
        q = {"searchCriteria[pageSize]": size, "searchCriteria[currentPage]": n}
        if fields:
            q["fields"] = fields
        r = self.call("GET", "/products", query=q)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def save(self, items):
        return self.call("POST", "/inventory/source-items", {"sourceItems": items})

    def test_paging_repeats_the_last_page_past_the_end(self):
        p1 = self.page(1, 20)
        self.assertEqual(p1["total_count"], 47)
        self.assertEqual(len(p1["items"]), 20)
        p3 = self.page(3, 20)
        self.assertEqual(len(p3["items"]), 7)
        p9 = self.page(9, 20)
        self.assertEqual(p9["items"], p3["items"])

    def test_fields_filter(self):
        body = self.page(1, 5, fields="items[sku,id,type_id],total_count")
        self.assertEqual(set(body), {"items", "total_count"})
        self.assertEqual(set(body["items"][0]), {"sku", "id", "type_id"})

    def test_sku_in_filter(self):
        base = "searchCriteria[filter_groups][0][filters][0]"
        r = self.call("GET", "/products", query={base + "[field]": "sku", base + "[value]": "SKU-000003,CFG-1,NOPE",
                                                 base + "[condition_type]": "in"})
        self.assertEqual(r.status, 200, r)
        found = {p["sku"]: p["type_id"] for p in r.json()["items"]}
        self.assertEqual(found, {"SKU-000003": "simple", "CFG-1": "configurable"})

    def test_bearer_token_required(self):
        for token in (None, "wrong-token-0000000000000000"):
            r = self.call("GET", "/products", token=token, query={"searchCriteria[pageSize]": 1})
            self.assertEqual(r.status, 401, r)
            body = r.json()
            self.assertEqual(body["message"], "The consumer isn't authorized to access %resources.")
            self.assertEqual(body["parameters"], {"resources": "Magento_Catalog::products"})

    def test_save_and_orphan(self):
        r = self.save([{"sku": "SKU-000001", "source_code": "default", "quantity": 5, "status": 1},
                       {"sku": "GHOST", "source_code": "default", "quantity": 2, "status": 1}])
        self.assertEqual(r.status, 200, r)
        state = self.control("GET", "/_emulator/state")
        self.assertIn("GHOST", state["orphans"])
        items = {i["sku"]: i for i in state["source_items"]}
        self.assertEqual(items["SKU-000001"]["quantity"], 5)

    def test_all_or_nothing_validation(self):
        r = self.save([{"sku": "SKU-000010", "source_code": "default", "quantity": 3, "status": 1},
                       {"sku": "SKU-000011", "source_code": "default", "quantity": -1, "status": 0},
                       {"sku": "SKU-000012", "source_code": "default", "quantity": 0, "status": 1}])
        self.assertEqual(r.status, 400, r)
        body = r.json()
        self.assertEqual(body["message"], "Validation Failed")
        self.assertEqual(len(body["errors"]), 2)
        self.assertEqual(body["errors"][0]["parameters"], {"field": "quantity"})
        skus = {i["sku"] for i in self.control("GET", "/_emulator/state")["source_items"]}
        self.assertNotIn("SKU-000010", skus)

    def test_unknown_source_and_rejected_sku(self):
        r = self.save([{"sku": "SKU-000020", "source_code": "nowhere", "quantity": 3, "status": 1}])
        self.assertEqual((r.status, r.json()["message"]), (400, "Could not save Source Item"))
        r = self.call("GET", "/inventory/sources/nowhere")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json()["parameters"], {"value": "nowhere"})
        self.control("POST", "/_emulator/reject", {"skus": ["SKU-000021"]})
        r = self.save([{"sku": "SKU-000021", "source_code": "default", "quantity": 3, "status": 1}])
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["errors"][0]["parameters"], ["SKU-000021"])

    def test_input_limits(self):
        self.control("POST", "/_emulator/faults", {"input_limit": 3, "max_page_size": 10})
        items = [{"sku": "SKU-%06d" % i, "source_code": "default", "quantity": 1, "status": 1}
                 for i in range(30, 34)]
        r = self.save(items)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["message"], 'Maximum items of type "%type" is %max')
        self.assertEqual(r.json()["parameters"]["max"], 3)
        self.assertEqual(self.save(items[:3]).status, 200)
        r = self.call("GET", "/products", query={"searchCriteria[pageSize]": 11})
        self.assertEqual((r.status, r.json()["parameters"]), (400, {"max": 10}))
        self.assertEqual(len(self.page(1, 10)["items"]), 10)

    def test_faults(self):
        self.control("POST", "/_emulator/faults", {"rate_limit_next": 1, "retry_after": 3})
        r = self.call("GET", "/products", query={"searchCriteria[pageSize]": 1})
        self.assertEqual((r.status, r.header("Retry-After")), (429, "3"))
        self.control("POST", "/_emulator/faults", {"fail_next": 1, "fail_retry_after": 2})
        r = self.call("GET", "/products", query={"searchCriteria[pageSize]": 1})
        self.assertEqual((r.status, r.header("Retry-After")), (503, "2"))
        self.assertEqual(self.call("GET", "/products", query={"searchCriteria[pageSize]": 1}).status, 200)
        log = self.control("GET", "/_emulator/requests")
        self.assertTrue(any(e.get("fault") == "http_429" for e in log))


if __name__ == "__main__":
    unittest.main(verbosity=2)
