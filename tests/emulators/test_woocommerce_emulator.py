#!/usr/bin/env python3
"""Self-tests of the WooCommerce REST API v3 emulator (tests/emulators/woocommerce).

Connector tests trust the emulator to enforce WooCommerce's documented behaviour, so these tests
prove it does, over HTTPS verified against a throwaway test CA (and that the expired and wrong-CA
certificates from make_test_ca.sh are refused by a verifying client).
"""

import base64
import http.client
import json
import os
import ssl
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator_testlib as lib  # noqa: E402

EMULATOR = os.path.join(lib.HERE, "woocommerce", "woo_emulator.py")
API = "/wp-json/wc/v3"
CK, CS = "ck_test", "cs_test"
SEED = {
    "api_keys": [
        {"consumer_key": CK, "consumer_secret": CS, "permissions": "read_write"},
        {"consumer_key": "ck_readonly", "consumer_secret": "cs_readonly", "permissions": "read"},
    ],
    "products": [
        {"id": 10, "name": "Mug", "type": "simple", "sku": "MUG", "manage_stock": True, "stock_quantity": 4},
        {"id": 11, "name": "Poster", "type": "simple", "sku": "POSTER", "manage_stock": True, "stock_quantity": 0},
        {"id": 12, "name": "Sticker", "type": "simple", "sku": "STICKER", "manage_stock": False},
        {"id": 13, "name": "Badge", "type": "simple", "sku": "BADGE", "manage_stock": True, "stock_quantity": 1},
        {"id": 20, "name": "Shirt", "type": "variable", "sku": "SHIRT", "variations": [
            {"id": 21, "sku": "SHIRT-S", "manage_stock": True, "stock_quantity": 2},
            {"id": 22, "sku": "SHIRT-M", "manage_stock": True, "stock_quantity": 0},
            {"id": 23, "sku": "SHIRT-L", "manage_stock": True, "stock_quantity": 5}]},
        {"id": 30, "name": "Cap", "type": "variable", "sku": "CAP", "variations": [
            {"id": 31, "sku": "CAP-ONE", "manage_stock": True, "stock_quantity": 1}]},
        {"id": 60, "name": "Scarf", "type": "variable", "sku": "SCARF", "variations": [
            {"id": 61, "sku": "SCARF-RED", "manage_stock": True, "stock_quantity": 1},
            {"id": 62, "sku": "SCARF-BLUE", "manage_stock": True, "stock_quantity": 1}]},
    ],
}
CSV_SEED = "id,parent_id,type,sku,name,manage_stock,stock_quantity\n40,,simple,CSV-1,From CSV,yes,7\n" \
           "50,,variable,CSV-V,Variable from CSV,,\n51,50,,CSV-V-1,,1,3\n"


def basic(ck=CK, cs=CS):
    return {"Authorization": "Basic " + base64.b64encode(f"{ck}:{cs}".encode()).decode()}


class WooEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = lib.TempDir("pb-woo-emu-")
        cls.certs = lib.make_ca(os.path.join(cls.tmp.path, "tls"))
        cls.ctx = lib.client_context(cls.certs["ca"])
        seed = os.path.join(cls.tmp.path, "seed.json")
        with open(seed, "w") as f:
            json.dump(SEED, f)
        csv_seed = os.path.join(cls.tmp.path, "seed.csv")
        with open(csv_seed, "w") as f:
            f.write(CSV_SEED)
        cls.log_path = os.path.join(cls.tmp.path, "requests.jsonl")
        # 230 generated simple products (S-00001..) and 3 variable ones with 4 variations each.
        cls.emu = lib.Emulator(
            [sys.executable, EMULATOR, "--cert", cls.certs["server"], "--key", cls.certs["server.key"],
             "--seed", seed, "--seed", csv_seed, "--generate-simple", "230", "--generate-variable", "3:4",
             "--request-log", cls.log_path],
            cls.tmp.path, "woo").start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.tmp.cleanup()

    def tearDown(self):
        self.control("POST", "/_emulator/faults", {"reset": True})

    # ---- helpers ----
    def call(self, method, path, body=None, headers=None, auth=True, query=None):
        h = dict(basic() if auth is True else (auth or {}))
        h.update(headers or {})
        url = API + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return lib.request(self.emu.port, method, url, body, h, self.ctx)

    def get(self, path, **query):
        return self.call("GET", path, query=query)

    def control(self, method, path, body=None):
        r = lib.request(self.emu.port, method, path, body, context=self.ctx)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def stock(self, oid):
        snap = self.control("GET", "/_emulator/state")
        for obj in snap["products"] + snap["variations"]:
            if obj["id"] == oid:
                return obj["stock_quantity"]
        raise KeyError(oid)

    def assert_wp_error(self, r, status, code):
        self.assertEqual(r.status, status, r)
        body = r.json()
        self.assertEqual(body["code"], code, body)
        self.assertEqual(body["data"]["status"], status)
        self.assertIsInstance(body["message"], str)
        return body

    # ---- authentication ----
    def test_basic_auth_and_query_string_auth(self):
        self.assertEqual(self.get("/products/10").json()["sku"], "MUG")
        r = self.call("GET", "/products/10", auth=None, query={"consumer_key": CK, "consumer_secret": CS})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["sku"], "MUG")

    def test_missing_or_unknown_credentials_are_401(self):
        before = self.stock(10)
        for auth in (None, basic("ck_nobody", "cs_nobody")):
            r = self.call("GET", "/products", auth=auth)
            body = self.assert_wp_error(r, 401, "woocommerce_rest_cannot_view")
            self.assertEqual(body["message"], "Sorry, you cannot list resources.")
            r = self.call("POST", "/products/batch", {"update": [{"id": 10, "stock_quantity": 1}]}, auth=auth)
            self.assert_wp_error(r, 401, "woocommerce_rest_cannot_batch")
        self.assertEqual(self.stock(10), before)

    def test_wrong_secret_is_401_with_authenticate_header(self):
        for kwargs in ({"auth": basic(CK, "cs_wrong")},
                       {"auth": None, "query": {"consumer_key": CK, "consumer_secret": "cs_wrong"}}):
            r = self.call("GET", "/products", **kwargs)
            body = self.assert_wp_error(r, 401, "woocommerce_rest_authentication_error")
            self.assertEqual(body["message"], "Consumer secret is invalid.")
            self.assertTrue(r.header("WWW-Authenticate").startswith("Basic realm="))

    def test_read_only_key_cannot_write(self):
        ro = basic("ck_readonly", "cs_readonly")
        before = self.stock(10)
        self.assertEqual(self.call("GET", "/products", auth=ro).status, 200)
        r = self.call("POST", "/products/batch", {"update": [{"id": 10, "stock_quantity": 1}]}, auth=ro)
        body = self.assert_wp_error(r, 401, "woocommerce_rest_authentication_error")
        self.assertIn("write permissions", body["message"])
        self.assertEqual(self.stock(10), before)

    # ---- lookups and paging ----
    def test_products_by_sku_list(self):
        r = self.get("/products", sku="MUG,SHIRT,NOPE,SHIRT-S")
        self.assertEqual(r.status, 200)
        got = sorted((p["sku"], p["type"]) for p in r.json())
        # Variations are not products: SHIRT-S is found through /products/20/variations only.
        self.assertEqual(got, [("MUG", "simple"), ("SHIRT", "variable")])
        shirt = [p for p in r.json() if p["sku"] == "SHIRT"][0]
        self.assertEqual(shirt["variations"], [21, 22, 23])
        self.assertEqual(r.header("X-WP-Total"), "2")
        self.assertEqual(r.header("X-WP-TotalPages"), "1")

    def test_type_filter(self):
        r = self.get("/products", type="variable", per_page=100)
        self.assertEqual(r.header("X-WP-Total"), "7")  # 3 seeded, 1 from CSV, 3 generated
        self.assertTrue(all(p["type"] == "variable" for p in r.json()))
        self.assert_wp_error(self.get("/products", type="bundle"), 400, "rest_invalid_param")

    def test_paging_headers_and_links(self):
        total = 7 + 2 + 230 + 3  # seeded products, CSV products, generated simple, generated variable
        seen = []
        page = 1
        while True:
            r = self.get("/products", per_page=100, page=page)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("X-WP-Total"), str(total))
            self.assertEqual(r.header("X-WP-TotalPages"), "3")
            link = r.header("Link") or ""
            self.assertEqual('rel="next"' in link, page < 3, link)
            self.assertEqual('rel="prev"' in link, page > 1, link)
            if page < 3:
                self.assertIn(f"page={page + 1}", link)
            seen += [p["id"] for p in r.json()]
            if page == 3:
                break
            page += 1
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total, "no product on two pages")
        self.assertEqual(len(self.get("/products", per_page=100, page=1).json()), 100)
        self.assertEqual(len(self.get("/products", per_page=100, page=3).json()), total - 200)
        beyond = self.get("/products", per_page=100, page=4)
        self.assertEqual((beyond.status, beyond.json()), (200, []))
        self.assertEqual(len(self.get("/products").json()), 10, "default per_page is 10")

    def test_per_page_over_100_is_400(self):
        r = self.get("/products", per_page=101)
        body = self.assert_wp_error(r, 400, "rest_invalid_param")
        self.assertEqual(body["message"], "Invalid parameter(s): per_page")
        self.assertEqual(body["data"]["params"]["per_page"], "per_page must be between 1 (inclusive) and 100 (inclusive)")
        self.assert_wp_error(self.get("/products", per_page=0), 400, "rest_invalid_param")
        self.assert_wp_error(self.get("/products", page=0), 400, "rest_invalid_param")
        self.assert_wp_error(self.get("/products/20/variations", per_page=500), 400, "rest_invalid_param")

    def test_variations_paged(self):
        r = self.get("/products/20/variations", per_page=2)
        self.assertEqual((r.header("X-WP-Total"), r.header("X-WP-TotalPages")), ("3", "2"))
        first = r.json()
        second = self.get("/products/20/variations", per_page=2, page=2).json()
        skus = sorted(v["sku"] for v in first + second)
        self.assertEqual(skus, ["SHIRT-L", "SHIRT-M", "SHIRT-S"])
        self.assertTrue(all(v["parent_id"] == 20 for v in first + second))
        self.assertEqual([v["sku"] for v in self.get("/products/20/variations", sku="SHIRT-M").json()], ["SHIRT-M"])
        self.assertEqual(self.get("/products/20/variations/22").json()["sku"], "SHIRT-M")
        self.assert_wp_error(self.get("/products/30/variations/22"), 404, "woocommerce_rest_product_variation_invalid_id")

    def test_csv_seed_is_loaded(self):
        self.assertEqual(self.get("/products/40").json()["stock_quantity"], 7)
        self.assertEqual([v["sku"] for v in self.get("/products/50/variations").json()], ["CSV-V-1"])

    def test_unknown_route_and_product(self):
        self.assert_wp_error(self.get("/orders"), 404, "rest_no_route")
        self.assert_wp_error(self.call("DELETE", "/products/batch"), 404, "rest_no_route")
        self.assert_wp_error(self.get("/products/999999"), 404, "woocommerce_rest_product_invalid_id")

    # ---- updates ----
    def test_batch_update_applies_and_is_logged(self):
        r = self.call("POST", "/products/batch", {"update": [
            {"id": 11, "stock_quantity": 6, "manage_stock": True},
            {"id": 13, "stock_quantity": "0", "manage_stock": True}]})
        self.assertEqual(r.status, 200, r)
        out = r.json()["update"]
        self.assertEqual([(p["id"], p["stock_quantity"], p["stock_status"]) for p in out],
                         [(11, 6, "instock"), (13, 0, "outofstock")])
        self.assertEqual((self.stock(11), self.stock(13)), (6, 0))
        entry = [e for e in lib.read_jsonl(self.log_path) if e.get("route") == "products_batch" and
                 any(i.get("id") == 11 for i in e.get("items", []))][-1]
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["items"][0], {"op": "update", "id": 11, "stock_quantity": 6, "manage_stock": True,
                                             "outcome": "updated"})
        self.assertNotIn("consumer_secret", json.dumps(entry))

    def test_variations_batch_update(self):
        r = self.call("POST", "/products/20/variations/batch", {"update": [
            {"id": 23, "stock_quantity": 11, "manage_stock": True},
            {"id": 31, "stock_quantity": 9, "manage_stock": True}]})  # 31 belongs to product 30
        self.assertEqual(r.status, 200)
        upd = r.json()["update"]
        self.assertEqual((upd[0]["id"], upd[0]["stock_quantity"]), (23, 11))
        self.assertEqual(upd[1], {"id": 31, "error": {"code": "woocommerce_rest_product_variation_invalid_id",
                                                      "message": "Invalid ID.", "data": {"status": 400}}})
        self.assertEqual((self.stock(23), self.stock(31)), (11, 1))

    def test_per_item_error_inside_a_200(self):
        r = self.call("POST", "/products/batch", {"update": [
            {"id": 424242, "stock_quantity": 3, "manage_stock": True},
            {"id": 10, "stock_quantity": 5, "manage_stock": True},
            {"id": 21, "stock_quantity": 5, "manage_stock": True}]})  # a variation id on /products
        self.assertEqual(r.status, 200)
        upd = r.json()["update"]
        self.assertEqual(upd[0], {"id": 424242, "error": {"code": "woocommerce_rest_product_invalid_id",
                                                          "message": "Invalid ID.", "data": {"status": 400}}})
        self.assertEqual(upd[1]["stock_quantity"], 5)
        self.assertEqual(upd[2]["error"]["code"], "woocommerce_rest_product_invalid_id")
        self.assertEqual((self.stock(10), self.stock(21)), (5, 2))

    def test_101_objects_is_413_and_applies_nothing(self):
        before = self.stock(10)
        items = [{"id": 10, "stock_quantity": 99, "manage_stock": True}] * 60
        r = self.call("POST", "/products/batch", {"update": items, "delete": list(range(1, 42))})
        body = self.assert_wp_error(r, 413, "woocommerce_rest_request_entity_too_large")
        self.assertEqual(body["message"], "Unable to accept more than 100 items for this request.")
        r = self.call("POST", "/products/20/variations/batch",
                      {"update": [{"id": 21, "stock_quantity": 99, "manage_stock": True}] * 101})
        self.assert_wp_error(r, 413, "woocommerce_rest_request_entity_too_large")
        self.assertEqual((self.stock(10), self.stock(21)), (before, 2))
        # Exactly 100 is accepted.
        ids = [p["id"] for p in self.get("/products", sku=",".join(f"S-{i:05d}" for i in range(1, 101)),
                                         per_page=100).json()]
        self.assertEqual(len(ids), 100)
        r = self.call("POST", "/products/batch", {"update": [
            {"id": i, "stock_quantity": 77, "manage_stock": True} for i in ids]})
        self.assertEqual(r.status, 200)
        self.assertTrue(all(p["stock_quantity"] == 77 for p in r.json()["update"]))

    def test_stock_quantity_needs_managed_stock(self):
        r = self.call("POST", "/products/batch", {"update": [{"id": 12, "stock_quantity": 8}]})
        self.assertIsNone(r.json()["update"][0]["stock_quantity"], "not managed: the quantity is ignored")
        r = self.call("POST", "/products/batch", {"update": [{"id": 12, "stock_quantity": 8, "manage_stock": True}]})
        self.assertEqual(r.json()["update"][0]["stock_quantity"], 8)
        r = self.call("PUT", "/products/12", {"manage_stock": False})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.json()["stock_quantity"])

    def test_single_update_and_invalid_json(self):
        r = self.call("PUT", "/products/20/variations/22", {"stock_quantity": 4, "manage_stock": True})
        self.assertEqual((r.status, r.json()["stock_quantity"]), (200, 4))
        self.assert_wp_error(self.call("PUT", "/products/999999", {"stock_quantity": 1}), 404,
                             "woocommerce_rest_product_invalid_id")
        self.assert_wp_error(self.call("POST", "/products/batch", b"{not json",
                                       headers={"Content-Type": "application/json"}), 400, "rest_invalid_json")
        self.assert_wp_error(self.call("POST", "/products/batch", {"update": {"id": 10}}), 400, "rest_invalid_param")

    # ---- fault switches ----
    def test_fault_latency(self):
        self.control("POST", "/_emulator/faults", {"latency_ms": 400})
        t0 = time.monotonic()
        self.assertEqual(self.get("/products/10").status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.39)

    def test_fault_next_requests_fail_with_5xx_and_apply_nothing(self):
        self.control("POST", "/_emulator/faults", {"fail_next": 2, "fail_status": 503})
        for _ in range(2):
            r = self.call("POST", "/products/60/variations/batch",
                          {"update": [{"id": 61, "stock_quantity": 50, "manage_stock": True}]})
            self.assertEqual(r.status, 503)
        self.assertEqual(self.stock(61), 1)
        self.control("POST", "/_emulator/faults", {"fail_next": 1, "fail_status": 500})
        self.assert_wp_error(self.get("/products/10"), 500, "internal_server_error")
        self.assertEqual(self.get("/products/10").status, 200)

    def test_fault_drop_connection(self):
        self.control("POST", "/_emulator/faults", {"drop_next": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.get("/products/10")
        self.assertEqual(self.get("/products/10").status, 200)

    def test_fault_drop_after_apply(self):
        self.control("POST", "/_emulator/faults", {"drop_after_apply_next": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.call("PUT", "/products/60/variations/62", {"stock_quantity": 12, "manage_stock": True})
        self.assertEqual(self.stock(62), 12, "applied although the answer was lost")

    def test_fault_malformed_json(self):
        self.control("POST", "/_emulator/faults", {"malformed_next": 1})
        r = self.get("/products", per_page=5)
        self.assertEqual(r.status, 200)
        with self.assertRaises(ValueError):
            r.json()
        self.assertEqual(len(self.get("/products", per_page=5).json()), 5)

    def test_fault_5xx_with_retry_after(self):
        self.control("POST", "/_emulator/faults",
                     {"fail_next": 1, "fail_status": 503, "fail_retry_after": 600})
        r = self.get("/products/10")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("Retry-After"), "600")
        self.assertEqual(self.get("/products/10").status, 200)
        self.control("POST", "/_emulator/faults",
                     {"fail_next": 1, "fail_status": 503, "fail_retry_after": 0})
        r = self.get("/products/10")
        self.assertEqual(r.status, 503)
        self.assertIsNone(r.header("Retry-After"))  # none unless asked for

    def test_fault_429_with_retry_after(self):
        self.control("POST", "/_emulator/faults", {"rate_limit_next": 1, "retry_after": 7})
        r = self.get("/products/10")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "7")
        self.assertEqual(self.get("/products/10").status, 200)


class WooTlsTest(unittest.TestCase):
    """The TLS material: a verifying client refuses the expired and the wrong-CA certificates."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = lib.TempDir("pb-woo-tls-")
        cls.certs = lib.make_ca(os.path.join(cls.tmp.path, "tls"))
        cls.ctx = lib.client_context(cls.certs["ca"])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def serve(self, cert):
        emu = lib.Emulator([sys.executable, EMULATOR, "--cert", self.certs[cert], "--key", self.certs[cert + ".key"],
                            "--fail-next", "1", "--fail-status", "502"],
                           self.tmp.path, f"woo-{cert}").start()
        self.addCleanup(emu.stop)
        return emu

    def test_valid_certificate_and_fault_flags(self):
        emu = self.serve("server")
        h = basic("ck_emulator", "cs_emulator")
        self.assertEqual(lib.request(emu.port, "GET", API + "/products", headers=h, context=self.ctx).status, 502)
        r = lib.request(emu.port, "GET", API + "/products", headers=h, context=self.ctx, host="localhost")
        self.assertEqual((r.status, r.json()), (200, []))

    def test_expired_certificate_is_refused(self):
        emu = self.serve("expired")
        with self.assertRaises(ssl.SSLCertVerificationError) as cm:
            lib.request(emu.port, "GET", "/_emulator/health", context=self.ctx)
        self.assertEqual(cm.exception.verify_code, 10)  # X509_V_ERR_CERT_HAS_EXPIRED

    def test_certificate_from_another_ca_is_refused(self):
        emu = self.serve("wrong-ca")
        with self.assertRaises(ssl.SSLCertVerificationError) as cm:
            lib.request(emu.port, "GET", "/_emulator/health", context=self.ctx)
        self.assertEqual(cm.exception.verify_code, 20)  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        trusting = lib.client_context(self.certs["other-ca"])
        self.assertEqual(lib.request(emu.port, "GET", "/_emulator/health", context=trusting).status, 200)


def main():
    lib.require_tools("openssl", "bash")
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
