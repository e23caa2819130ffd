#!/usr/bin/env python3
"""Self-tests of the Shopify GraphQL Admin API emulator (tests/emulators/shopify).

Connector tests trust the emulator to enforce Shopify's documented rules, so these tests prove it
does: each rule is exercised on the accepting and the rejecting side, over HTTPS verified against
a throwaway test CA. Needs node and `npm ci --prefix tests/emulators/shopify`; without them the
test exits 77, which ctest reports as skipped.
"""

import http.client
import json
import os
import ssl
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator_testlib as lib  # noqa: E402

SHOPIFY_DIR = os.path.join(lib.HERE, "shopify")
SERVER_JS = os.path.join(SHOPIFY_DIR, "server.js")
TOKEN = "shpat_test_token"
LOC1 = "gid://shopify/Location/1"
LOC2 = "gid://shopify/Location/2"


def item(n):
    return f"gid://shopify/InventoryItem/{n}"


def gen_item(i):
    """Inventory item of generated variant SKU-%05d (see store.js generate())."""
    return item(700000 + i)


SEED = {
    "shop": "acme",
    "access_tokens": [TOKEN],
    "locations": [{"id": 1, "name": "Main warehouse"}, {"id": 2, "name": "Overflow"}],
    "variants": [
        {"sku": "A-RED", "variant_id": 11, "inventory_item_id": 21, "levels": {"1": 5, "2": 1}},
        {"sku": "A-BLUE", "variant_id": 12, "inventory_item_id": 22, "levels": {"1": 3}},
        {"sku": "B-CAS", "variant_id": 13, "inventory_item_id": 23, "levels": {"1": 10}},
        {"sku": "C-IDEM", "variant_id": 14, "inventory_item_id": 24, "levels": {"1": 0}},
        {"sku": "D-OLD", "variant_id": 15, "inventory_item_id": 25, "levels": {"1": 8}},
        {"sku": "E-MID", "variant_id": 16, "inventory_item_id": 26, "levels": {"1": 6}},
        {"sku": "F-FAULT", "variant_id": 17, "inventory_item_id": 27, "levels": {"1": 0}},
        {"sku": "H-LOST", "variant_id": 19, "inventory_item_id": 29, "levels": {"1": 0}},
        {"sku": "I-REQ", "variant_id": 30, "inventory_item_id": 31, "levels": {"1": 2}},
    ],
}
CSV_SEED = "sku,variant_id,inventory_item_id,location_id,available\nG-CSV,18,28,1,4\nG-CSV,18,28,2,6\n"

SET_2026 = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""
SET_NO_KEY = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""
LEVEL_QUERY = """
query Level($item: ID!, $loc: ID!) {
  inventoryItem(id: $item) { inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { quantity } } }
}"""


def set_input(quantities, name="available", reason="correction"):
    return {"name": name, "reason": reason, "referenceDocumentUri": "gid://packagebee/SyncRun/1",
            "quantities": quantities}


def q(item_id, quantity, location=LOC1, **extra):
    d = {"inventoryItemId": item_id, "locationId": location, "quantity": quantity}
    d.update(extra)
    return d


class ShopifyEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = lib.TempDir("pb-shopify-emu-")
        cls.certs = lib.make_ca(os.path.join(cls.tmp.path, "tls"))
        cls.ctx = lib.client_context(cls.certs["ca"])
        seed = os.path.join(cls.tmp.path, "seed.json")
        with open(seed, "w") as f:
            json.dump(SEED, f)
        csv_seed = os.path.join(cls.tmp.path, "seed.csv")
        with open(csv_seed, "w") as f:
            f.write(CSV_SEED)
        cls.log_path = os.path.join(cls.tmp.path, "requests.jsonl")
        cls.emu = lib.Emulator(
            ["node", SERVER_JS, "--cert", cls.certs["server"], "--key", cls.certs["server.key"],
             "--seed", seed, "--seed", csv_seed, "--generate", "300", "--request-log", cls.log_path],
            cls.tmp.path, "shopify").start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.tmp.cleanup()

    def tearDown(self):
        self.control("POST", "/_emulator/faults", {"reset": True})

    # ---- helpers ----
    def post(self, version, payload, token=TOKEN, raw=None, headers=None):
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["X-Shopify-Access-Token"] = token
        h.update(headers or {})
        body = raw if raw is not None else json.dumps(payload)
        return lib.request(self.emu.port, "POST", f"/admin/api/{version}/graphql.json", body, h, self.ctx)

    def gql(self, query, variables=None, version="2026-10", token=TOKEN):
        r = self.post(version, {"query": query, "variables": variables or {}}, token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def set_quantities(self, quantities, version="2026-10", key=None, query=SET_2026, **input_extra):
        variables = {"input": dict(set_input(quantities), **input_extra)}
        if "$key" in query:
            variables["key"] = key or str(uuid.uuid4())
        return self.gql(query, variables, version)

    def control(self, method, path, body=None):
        r = lib.request(self.emu.port, method, path, body, context=self.ctx)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def available(self, item_id, location=LOC1):
        d = self.gql(LEVEL_QUERY, {"item": item_id, "loc": location})
        level = d["data"]["inventoryItem"]["inventoryLevel"]
        return None if level is None else level["quantities"][0]["quantity"]

    def store_edit(self, item_id, available, location=LOC1):
        self.control("POST", "/_emulator/inventory",
                     {"inventory_item_id": item_id, "location_id": location, "available": available})

    def mutations_logged(self, key=None):
        entries = self.control("GET", "/_emulator/requests")
        out = [m for e in entries for m in e.get("mutations", [])]
        return [m for m in out if key is None or m["idempotency_key"] == key]

    def assert_cost_block(self, d):
        cost = d["extensions"]["cost"]
        self.assertIsInstance(cost["requestedQueryCost"], int)
        self.assertIn("actualQueryCost", cost)
        ts = cost["throttleStatus"]
        self.assertEqual(set(ts), {"maximumAvailable", "currentlyAvailable", "restoreRate"})
        self.assertEqual(ts["maximumAvailable"], 2000)
        self.assertEqual(ts["restoreRate"], 100)
        self.assertLessEqual(ts["currentlyAvailable"], 2000)
        return cost

    # ---- authentication and routing ----
    def test_missing_or_wrong_token_is_401(self):
        for token in (None, "shpat_wrong"):
            r = self.post("2026-10", {"query": "{ shop { name } }"}, token=token)
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json(), {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        self.assertEqual(self.gql("{ shop { name myshopifyDomain } }")["data"]["shop"],
                         {"name": "acme", "myshopifyDomain": "acme.myshopify.com"})

    def test_bad_version_or_path_is_404(self):
        for version in ("2026-13", "latest-ish", "2026-02"):
            self.assertEqual(self.post(version, {"query": "{ shop { name } }"}).status, 404)

    def test_body_without_query_is_400(self):
        self.assertEqual(self.post("2026-10", None, raw="not json").status, 400)
        self.assertEqual(self.post("2026-10", {"variables": {}}).status, 400)

    def test_tls_is_verified_against_the_test_ca(self):
        other = lib.client_context(self.certs["other-ca"])
        with self.assertRaises(ssl.SSLCertVerificationError):
            lib.request(self.emu.port, "GET", "/_emulator/health", context=other)
        self.assertEqual(lib.request(self.emu.port, "GET", "/_emulator/health", context=self.ctx,
                                     host="localhost").status, 200)

    # ---- a valid mutation ----
    def test_valid_mutation_applies_and_is_logged(self):
        key = str(uuid.uuid4())
        d = self.set_quantities([q(item(21), 12, changeFromQuantity=None)], key=key)
        self.assertNotIn("errors", d)
        payload = d["data"]["inventorySetQuantities"]
        self.assertEqual(payload["userErrors"], [])
        group = payload["inventoryAdjustmentGroup"]
        self.assertTrue(group["id"].startswith("gid://shopify/InventoryAdjustmentGroup/"))
        self.assertEqual(group["reason"], "correction")
        self.assertEqual(group["referenceDocumentUri"], "gid://packagebee/SyncRun/1")
        self.assertEqual(group["changes"], [{"name": "available", "delta": 7, "quantityAfterChange": 12}])
        cost = self.assert_cost_block(d)
        self.assertEqual(cost["actualQueryCost"], cost["requestedQueryCost"])
        self.assertEqual(self.available(item(21)), 12)
        self.assertEqual(self.available(item(21), LOC2), 1, "the other location is untouched")
        # The request log file records exactly what was pushed, with the idempotency key.
        logged = [m for e in lib.read_jsonl(self.log_path) for m in e.get("mutations", [])
                  if m["idempotency_key"] == key]
        self.assertEqual(len(logged), 1)
        self.assertEqual(logged[0]["outcome"], "applied")
        self.assertEqual(logged[0]["quantities"],
                         [{"inventoryItemId": item(21), "locationId": LOC1, "quantity": 12, "changeFromQuantity": None}])
        self.assertEqual(logged[0]["input"]["referenceDocumentUri"], "gid://packagebee/SyncRun/1")

    def test_productvariants_sku_filter_finds_ids(self):
        d = self.gql('{ productVariants(first: 10, query: "sku:A-RED") { nodes { id sku inventoryItem { id } } '
                     'pageInfo { hasNextPage endCursor } } }')
        conn = d["data"]["productVariants"]
        self.assertEqual(conn["nodes"], [{"id": "gid://shopify/ProductVariant/11", "sku": "A-RED",
                                          "inventoryItem": {"id": item(21)}}])
        self.assertFalse(conn["pageInfo"]["hasNextPage"])
        d = self.gql('{ productVariants(first: 10, query: "sku:A-RED OR sku:a-blue") { nodes { sku } } }')
        self.assertEqual([n["sku"] for n in d["data"]["productVariants"]["nodes"]], ["A-RED", "A-BLUE"])
        d = self.gql('{ productVariants(first: 10, query: "vendor:acme") { nodes { sku } } }')
        self.assertEqual(d["extensions"]["search"][0]["warnings"][0]["field"], "vendor")

    def test_csv_seed_is_loaded(self):
        self.assertEqual(self.available(item(28), LOC1), 4)
        self.assertEqual(self.available(item(28), LOC2), 6)

    # ---- input array cap ----
    def test_251_quantities_rejected_250_accepted(self):
        before = self.available(gen_item(1))
        many = [q(gen_item(i), 1000 + i, changeFromQuantity=None) for i in range(1, 252)]
        d = self.set_quantities(many)
        self.assertNotIn("data", d)
        err = d["errors"][0]
        self.assertEqual(err["extensions"]["code"], "MAX_INPUT_SIZE_EXCEEDED")
        self.assertIn("251", err["message"])
        self.assertIn("250", err["message"])
        self.assertEqual(err["path"], ["inventorySetQuantities", "input", "quantities"])
        self.assertEqual(self.available(gen_item(1)), before, "nothing applied")
        d = self.set_quantities(many[:250])
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(len(d["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]), 250)
        self.assertEqual(self.available(gen_item(250)), 1250)

    # ---- GraphQL validation ----
    def test_invalid_graphql_is_rejected(self):
        d = self.gql("mutation { inventorySetQuantities(input: {")
        self.assertIn("Syntax Error", d["errors"][0]["message"])
        self.assertNotIn("data", d)
        d = self.gql("{ productVariants(first: 1) { nodes { bogus } } }")
        self.assertIn('Cannot query field "bogus" on type "ProductVariant"', d["errors"][0]["message"])
        self.assertNotIn("data", d)
        # Wrong variable type: quantity must be an Int.
        before = self.available(item(22))
        d = self.gql(SET_2026, {"key": "k-invalid", "input": set_input([q(item(22), "many", changeFromQuantity=None)])})
        self.assertIn("$input", d["errors"][0]["message"])
        self.assertNotIn("data", d)
        # A required input field missing in a literal.
        d = self.gql('mutation { inventorySetQuantities(input: {name: "available", quantities: []}) '
                     '@idempotent(key: "x") { userErrors { code } } }')
        self.assertIn("reason", d["errors"][0]["message"])
        self.assertEqual(self.available(item(22)), before)
        self.assertEqual(self.mutations_logged("k-invalid"), [], "an invalid request executes nothing")

    # ---- per-version rules ----
    def test_change_from_quantity_required_from_2026_04(self):
        for version in ("2026-04", "2026-10"):
            before = self.available(item(23))
            d = self.set_quantities([q(item(23), 99)], version=version)
            self.assertEqual(d["data"]["inventorySetQuantities"], None)
            self.assertEqual(d["errors"][0]["path"], ["inventorySetQuantities"])
            self.assertIn("changeFromQuantity", d["errors"][0]["message"])
            self.assertEqual(self.available(item(23)), before)
        # The old compare-and-swap fields are gone from the schema.
        d = self.set_quantities([q(item(23), 99, compareQuantity=10)])
        self.assertIn('Field "compareQuantity" is not defined by type "InventoryQuantityInput"', d["errors"][0]["message"])
        d = self.set_quantities([q(item(23), 99, changeFromQuantity=None)], ignoreCompareQuantity=True)
        self.assertIn("ignoreCompareQuantity", d["errors"][0]["message"])

    def test_idempotent_directive_required_from_2026_04(self):
        d = self.set_quantities([q(item(31), 7, changeFromQuantity=None)], version="2026-04", query=SET_NO_KEY)
        self.assertIsNone(d["data"]["inventorySetQuantities"])
        self.assertIn("@idempotent", d["errors"][0]["message"])
        self.assertEqual(self.available(item(31)), 2)
        # Optional in 2026-01.
        d = self.set_quantities([q(item(31), 7, changeFromQuantity=None)], version="2026-01", query=SET_NO_KEY)
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(self.available(item(31)), 7)

    def test_versions_before_2026_01_use_compare_quantity(self):
        d = self.set_quantities([q(item(25), 1, changeFromQuantity=None)], version="2025-10", query=SET_NO_KEY)
        self.assertIn('Field "changeFromQuantity" is not defined', d["errors"][0]["message"])
        d = self.set_quantities([q(item(25), 1, compareQuantity=8)], version="2025-10")
        self.assertIn('Unknown directive "@idempotent"', d["errors"][0]["message"])
        d = self.set_quantities([q(item(25), 1)], version="2025-10", query=SET_NO_KEY)
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "COMPARE_QUANTITY_REQUIRED")
        d = self.set_quantities([q(item(25), 1, compareQuantity=7)], version="2025-10", query=SET_NO_KEY)
        errs = d["data"]["inventorySetQuantities"]["userErrors"]
        self.assertEqual(errs, [{"code": "COMPARE_QUANTITY_STALE", "field": ["input", "quantities", "0", "compareQuantity"],
                                 "message": "The compareQuantity value does not match persisted value."}])
        self.assertEqual(self.available(item(25)), 8)
        d = self.set_quantities([q(item(25), 1, compareQuantity=8)], version="2025-10", query=SET_NO_KEY)
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"], [])
        d = self.set_quantities([q(item(25), 2)], version="2025-01", query=SET_NO_KEY, ignoreCompareQuantity=True)
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(self.available(item(25)), 2)

    def test_2026_01_change_from_quantity_overrides_compare_quantity(self):
        d = self.set_quantities([q(item(26), 1)], version="2026-01")
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "COMPARE_QUANTITY_REQUIRED")
        # An explicit changeFromQuantity (null here) wins over a stale compareQuantity.
        d = self.set_quantities([q(item(26), 1, compareQuantity=999, changeFromQuantity=None)], version="2026-01")
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(self.available(item(26)), 1)

    def test_change_from_quantity_stale(self):
        self.assertEqual(self.available(item(23)), 10)
        d = self.set_quantities([q(item(23), 4, changeFromQuantity=9)])
        payload = d["data"]["inventorySetQuantities"]
        self.assertIsNone(payload["inventoryAdjustmentGroup"])
        self.assertEqual(payload["userErrors"], [{
            "code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0", "changeFromQuantity"],
            "message": "The changeFromQuantity value does not match persisted value."}])
        self.assertEqual(self.available(item(23)), 10)
        d = self.set_quantities([q(item(23), 4, changeFromQuantity=10)])
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(self.available(item(23)), 4)
        # Someone edits the quantity in the store: the next compare-and-swap is stale.
        self.store_edit(item(23), 6)
        d = self.set_quantities([q(item(23), 3, changeFromQuantity=4)])
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "CHANGE_FROM_QUANTITY_STALE")
        self.assertEqual(self.available(item(23)), 6)

    def test_unknown_item_or_location_gives_user_errors_and_applies_nothing(self):
        before = self.available(item(22))
        d = self.set_quantities([
            q(item(22), 50, changeFromQuantity=None),
            q(item(999999), 1, changeFromQuantity=None),
            q(item(22), 1, location="gid://shopify/Location/77", changeFromQuantity=None),
            q(item(22), 1, location=LOC2, changeFromQuantity=None),
        ])
        payload = d["data"]["inventorySetQuantities"]
        self.assertIsNone(payload["inventoryAdjustmentGroup"])
        got = [(e["code"], e["field"]) for e in payload["userErrors"]]
        self.assertEqual(got, [
            ("INVALID_INVENTORY_ITEM", ["input", "quantities", "1", "inventoryItemId"]),
            ("INVALID_LOCATION", ["input", "quantities", "2", "locationId"]),
            ("ITEM_NOT_STOCKED_AT_LOCATION", ["input", "quantities", "3", "locationId"]),
        ])
        self.assertTrue(all(e["message"] for e in payload["userErrors"]))
        self.assertEqual(self.available(item(22)), before, "all or nothing")
        d = self.set_quantities([q(item(22), 1, changeFromQuantity=None)], reason="because")
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "INVALID_REASON")
        d = self.set_quantities([q(item(22), 1, changeFromQuantity=None)], name="committed")
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "INVALID_NAME")
        d = self.set_quantities([q(item(22), 1, changeFromQuantity=None), q(item(22), 2, changeFromQuantity=None)])
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
                         "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR")

    # ---- idempotency ----
    def test_idempotent_replay_returns_the_same_result_and_applies_once(self):
        key = str(uuid.uuid4())
        first = self.set_quantities([q(item(24), 5, changeFromQuantity=None)], key=key)
        self.assertEqual(first["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(self.available(item(24)), 5)
        self.store_edit(item(24), 9)  # the store moves on
        again = self.set_quantities([q(item(24), 5, changeFromQuantity=None)], key=key)
        self.assertEqual(again["data"], first["data"], "the original result is returned")
        self.assertEqual(self.available(item(24)), 9, "and nothing is applied again")
        outcomes = [m["outcome"] for m in self.mutations_logged(key)]
        self.assertEqual(outcomes, ["applied", "replayed"])
        # Same key, different parameters.
        other = self.set_quantities([q(item(24), 6, changeFromQuantity=None)], key=key)
        payload = other["data"]["inventorySetQuantities"]
        self.assertIsNone(payload["inventoryAdjustmentGroup"])
        self.assertEqual(payload["userErrors"][0]["code"], "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
        self.assertEqual(self.available(item(24)), 9)

    def test_retry_after_a_lost_response_is_applied_once(self):
        key = str(uuid.uuid4())
        self.control("POST", "/_emulator/faults", {"drop_after_apply_next": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.set_quantities([q(item(29), 3, changeFromQuantity=None)], key=key)
        self.assertEqual(self.available(item(29)), 3, "the lost request was applied")
        retry = self.set_quantities([q(item(29), 3, changeFromQuantity=None)], key=key)
        self.assertEqual(retry["data"]["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual([m["outcome"] for m in self.mutations_logged(key)], ["applied", "replayed"])

    def test_previous_failed_attempt_cannot_be_replayed_on_2026_10(self):
        key = str(uuid.uuid4())
        d = self.set_quantities([q(item(999998), 1, changeFromQuantity=None)], key=key)
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "INVALID_INVENTORY_ITEM")
        d = self.set_quantities([q(item(999998), 1, changeFromQuantity=None)], key=key)
        self.assertEqual(d["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
                         "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")

    # ---- cost ----
    def test_query_cost_model(self):
        d = self.gql("{ productVariants(first: 5) { nodes { id sku inventoryItem { id } } pageInfo { hasNextPage } } }")
        cost = self.assert_cost_block(d)
        self.assertEqual(cost["requestedQueryCost"], 2 + 5 * 2)
        self.assertEqual(cost["actualQueryCost"], 2 + 5 * 2)
        d = self.gql('{ productVariants(first: 5, query: "sku:A-RED") { nodes { id inventoryItem { id } } } }')
        self.assertEqual(d["extensions"]["cost"]["requestedQueryCost"], 12)
        self.assertEqual(d["extensions"]["cost"]["actualQueryCost"], 2 + 1 * 2, "charged for what was returned")
        # A mutation: base 10 + inventoryAdjustmentGroup 1 + changes 1; rejected => group null => 10.
        d = self.set_quantities([q(item(999997), 1, changeFromQuantity=None)])
        self.assertEqual(d["extensions"]["cost"]["requestedQueryCost"], 12)
        self.assertEqual(d["extensions"]["cost"]["actualQueryCost"], 10)

    def test_mutation_cost_is_configurable(self):
        self.control("POST", "/_emulator/config", {"mutationCosts": {"inventorySetQuantities": 50}})
        try:
            d = self.set_quantities([q(item(999997), 1, changeFromQuantity=None)])
            self.assertEqual(d["extensions"]["cost"]["requestedQueryCost"], 52)
        finally:
            self.control("POST", "/_emulator/config", {"mutationCosts": {"inventorySetQuantities": 10}})

    def test_max_cost_exceeded(self):
        before = self.gql("{ shop { name } }")["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        d = self.gql("{ productVariants(first: 250) { nodes { inventoryItem { inventoryLevels(first: 5) { nodes { id } } } } } }")
        self.assertNotIn("data", d)
        err = d["errors"][0]
        self.assertEqual(err["extensions"]["code"], "MAX_COST_EXCEEDED")
        self.assertEqual(err["extensions"]["maxCost"], 1000)
        self.assertEqual(err["extensions"]["cost"], 2 + 250 * (1 + 1 + 2 + 5))
        self.assertIsNone(d["extensions"]["cost"]["actualQueryCost"])
        self.assertGreaterEqual(d["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"], before,
                                "a rejected query is not charged")

    # ---- paging ----
    def test_paging_with_cursors(self):
        query = """query Page($after: String) {
          productVariants(first: 4, after: $after, query: "sku:SKU-0001*") {
            edges { cursor node { sku } } nodes { sku } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
        skus, after, pages = [], None, 0
        while True:
            conn = self.gql(query, {"after": after})["data"]["productVariants"]
            pages += 1
            self.assertEqual([e["node"] for e in conn["edges"]], conn["nodes"])
            self.assertEqual(conn["pageInfo"]["endCursor"], conn["edges"][-1]["cursor"])
            self.assertEqual(conn["pageInfo"]["startCursor"], conn["edges"][0]["cursor"])
            self.assertEqual(conn["pageInfo"]["hasPreviousPage"], after is not None)
            skus += [n["sku"] for n in conn["nodes"]]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
            self.assertLess(pages, 10)
        self.assertEqual(pages, 3)
        self.assertEqual(skus, [f"SKU-{i:05d}" for i in range(10, 20)])
        # Arguments the connection refuses.
        for args in ("", "first: 251", "first: 2, after: \"bm90IGEgY3Vyc29y\""):
            d = self.gql("{ productVariants(%s) { nodes { id } } }" % args if args else "{ productVariants { nodes { id } } }")
            self.assertIn("errors", d, args)
            self.assertIsNone(d["data"], args)

    # ---- bulk operations (bulk.js) ----
    BULK_QUERY = "{ productVariants { edges { node { id sku inventoryItem { id } } } } }"
    RUN_BULK = """mutation Run($q: String!) { bulkOperationRunQuery(query: $q) {
      bulkOperation { id status } userErrors { code field message } } }"""
    POLL_BULK = """query Poll($id: ID!) { bulkOperation(id: $id) {
      id status errorCode objectCount url query } }"""

    def run_bulk(self, version="2025-10", query=None):
        d = self.gql(self.RUN_BULK, {"q": query or self.BULK_QUERY}, version)
        return d["data"]["bulkOperationRunQuery"]

    def wait_bulk(self, op_id, version="2025-10"):
        for _ in range(200):
            op = self.gql(self.POLL_BULK, {"id": op_id}, version)["data"]["bulkOperation"]
            if op["status"] in ("COMPLETED", "FAILED", "CANCELED", "EXPIRED"):
                return op
            time.sleep(0.05)
        self.fail("bulk operation did not finish")

    def fetch_result(self, url, headers=None):
        path = url.split("://", 1)[1]
        path = path[path.index("/"):]
        return lib.request(self.emu.port, "GET", path, None, headers, self.ctx)

    def setUp(self):
        self.control("POST", "/_emulator/config", {"bulkBaseMs": 300, "bulkMsPerObject": 0})

    def test_bulk_query_runs_one_at_a_time_and_serves_jsonl_with_range(self):
        started = self.run_bulk()
        self.assertEqual(started["userErrors"], [])
        op = started["bulkOperation"]
        self.assertEqual(op["status"], "CREATED")
        busy = self.run_bulk()  # before 2026-01: one bulk query at a time per app and shop
        self.assertIsNone(busy["bulkOperation"])
        self.assertEqual(busy["userErrors"][0]["code"], "OPERATION_IN_PROGRESS")
        done = self.wait_bulk(op["id"])
        self.assertEqual(done["status"], "COMPLETED")
        variants = len(self.control("GET", "/_emulator/state")["variants"])
        self.assertEqual(done["objectCount"], str(variants))  # UnsignedInt64: a string
        self.assertTrue(done["url"].startswith("https://localhost:"), done["url"])  # not the shop
        whole = self.fetch_result(done["url"])
        self.assertEqual(whole.status, 200)
        lines = whole.body.decode().splitlines()
        self.assertEqual(len(lines), variants)
        first = json.loads(lines[0])
        self.assertEqual(set(first), {"id", "sku", "inventoryItem"})
        part = self.fetch_result(done["url"], {"Range": "bytes=10-109"})
        self.assertEqual(part.status, 206)
        self.assertEqual(part.body, whole.body[10:110])
        self.assertEqual(part.header("Content-Range"), f"bytes 10-109/{len(whole.body)}")
        beyond = self.fetch_result(done["url"], {"Range": f"bytes={len(whole.body)}-"})
        self.assertEqual(beyond.status, 416)

    def test_bulk_queries_run_five_at_once_from_2026_01(self):
        ops = [self.run_bulk("2026-01") for _ in range(5)]
        self.assertTrue(all(o["bulkOperation"] for o in ops), ops)
        sixth = self.run_bulk("2026-01")
        self.assertEqual(sixth["userErrors"][0]["code"], "OPERATION_IN_PROGRESS")
        for o in ops:
            self.wait_bulk(o["bulkOperation"]["id"], "2026-01")

    def test_bulk_empty_result_has_no_url(self):
        q = '{ productVariants(query: "sku:NO-SUCH-SKU") { edges { node { id sku } } } }'
        done = self.wait_bulk(self.run_bulk(query=q)["bulkOperation"]["id"])
        self.assertEqual((done["status"], done["objectCount"], done["url"]), ("COMPLETED", "0", None))

    def test_bulk_query_without_a_connection_is_invalid(self):
        bad = self.run_bulk(query="{ shop { id } }")
        self.assertIsNone(bad["bulkOperation"])
        self.assertEqual(bad["userErrors"][0]["code"], "INVALID")

    def test_bulk_faults_failed_access_denied_and_cut_download(self):
        self.control("POST", "/_emulator/faults", {"bulk_access_denied_next": 1, "bulk_fail_next": 1})
        denied = self.wait_bulk(self.run_bulk()["bulkOperation"]["id"])
        self.assertEqual((denied["status"], denied["errorCode"], denied["url"]),
                         ("FAILED", "ACCESS_DENIED", None))
        failed = self.wait_bulk(self.run_bulk()["bulkOperation"]["id"])
        self.assertEqual((failed["status"], failed["errorCode"]), ("FAILED", "INTERNAL_SERVER_ERROR"))
        done = self.wait_bulk(self.run_bulk()["bulkOperation"]["id"])
        self.control("POST", "/_emulator/faults", {"bulk_cut_next": 1})
        with self.assertRaises(Exception):  # the body stops short of its Content-Length
            self.fetch_result(done["url"])
        self.assertEqual(self.fetch_result(done["url"]).status, 200)

    # ---- fault switches ----
    def test_fault_latency(self):
        self.control("POST", "/_emulator/faults", {"latency_ms": 400})
        t0 = time.monotonic()
        self.gql("{ shop { name } }")
        self.assertGreaterEqual(time.monotonic() - t0, 0.39)

    def test_fault_next_requests_fail_with_5xx_and_apply_nothing(self):
        self.control("POST", "/_emulator/faults", {"fail_next": 2, "fail_status": 502})
        for _ in range(2):
            r = self.post("2026-10", {"query": SET_2026, "variables": {
                "key": "k-5xx", "input": set_input([q(item(27), 8, changeFromQuantity=None)])}})
            self.assertEqual(r.status, 502)
        self.assertEqual(self.available(item(27)), 0)
        self.assertEqual(self.mutations_logged("k-5xx"), [])

    def test_fault_drop_connection(self):
        self.control("POST", "/_emulator/faults", {"drop_next": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.post("2026-10", {"query": "{ shop { name } }"})
        self.assertEqual(self.post("2026-10", {"query": "{ shop { name } }"}).status, 200)

    def test_fault_malformed_json(self):
        self.control("POST", "/_emulator/faults", {"malformed_next": 1})
        r = self.post("2026-10", {"query": "{ shop { name } }"})
        self.assertEqual(r.status, 200)
        with self.assertRaises(ValueError):
            r.json()
        self.assertEqual(self.post("2026-10", {"query": "{ shop { name } }"}).json()["data"]["shop"]["name"], "acme")

    def test_fault_429_with_retry_after(self):
        self.control("POST", "/_emulator/faults", {"rate_limit_next": 1, "retry_after": 3})
        r = self.post("2026-10", {"query": "{ shop { name } }"})
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "3")
        self.assertEqual(self.post("2026-10", {"query": "{ shop { name } }"}).status, 200)

    def test_fault_flags_on_the_command_line(self):
        emu = lib.Emulator(["node", SERVER_JS, "--cert", self.certs["server"], "--key", self.certs["server.key"],
                            "--token", TOKEN, "--fail-next", "1", "--fail-status", "500"],
                           self.tmp.path, "shopify-flags").start()
        try:
            body = json.dumps({"query": "{ shop { name } }"})
            h = {"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"}
            path = "/admin/api/2026-10/graphql.json"
            self.assertEqual(lib.request(emu.port, "POST", path, body, h, self.ctx).status, 500)
            self.assertEqual(lib.request(emu.port, "POST", path, body, h, self.ctx).status, 200)
        finally:
            emu.stop()


class ShopifyThrottleTest(unittest.TestCase):
    """A small bucket (30 points, 10 points/s) so draining and recovery take a second or two."""

    QUERY = "{ productVariants(first: 20) { nodes { id } } }"  # requested = actual = 2 + 20 = 22

    @classmethod
    def setUpClass(cls):
        cls.tmp = lib.TempDir("pb-shopify-throttle-")
        certs = lib.make_ca(os.path.join(cls.tmp.path, "tls"))
        cls.ctx = lib.client_context(certs["ca"])
        cls.emu = lib.Emulator(
            ["node", SERVER_JS, "--cert", certs["server"], "--key", certs["server.key"], "--generate", "30",
             "--token", TOKEN, "--token", "shpat_other_app", "--max-available", "30", "--restore-rate", "10"],
            cls.tmp.path, "shopify-throttle").start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.tmp.cleanup()

    def run_query(self, token=TOKEN):
        r = lib.request(self.emu.port, "POST", "/admin/api/2026-10/graphql.json", {"query": self.QUERY},
                        {"X-Shopify-Access-Token": token}, self.ctx)
        self.assertEqual(r.status, 200, "throttling is HTTP 200 with an error, not 429")
        return r.json()

    def test_throttled_then_recovers_at_restore_rate(self):
        d = self.run_query()
        self.assertEqual(len(d["data"]["productVariants"]["nodes"]), 20)
        ts = d["extensions"]["cost"]["throttleStatus"]
        self.assertEqual((ts["maximumAvailable"], ts["restoreRate"]), (30, 10))
        self.assertLess(ts["currentlyAvailable"], 22)
        # Normally the very next query is throttled; on a loaded machine a slow round trip can let
        # the bucket refill first, so keep going until it drains (each success costs 22 again).
        for _ in range(10):
            d = self.run_query()
            if "errors" in d:
                break
        self.assertNotIn("data", d)
        self.assertEqual(d["errors"], [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}])
        cost = d["extensions"]["cost"]
        self.assertEqual(cost["requestedQueryCost"], 22)
        self.assertIsNone(cost["actualQueryCost"])
        available = cost["throttleStatus"]["currentlyAvailable"]
        self.assertLess(available, 22)
        # Another app on the same shop has its own bucket.
        self.assertIn("data", self.run_query(token="shpat_other_app"))
        # Wait for the bucket to refill what is missing, at 10 points per second.
        time.sleep((22 - available) / 10 + 0.3)
        d = self.run_query()
        self.assertIn("data", d)
        self.assertEqual(len(d["data"]["productVariants"]["nodes"]), 20)


def main():
    lib.require_tools("node", "openssl", "bash")
    if not os.path.isdir(os.path.join(SHOPIFY_DIR, "node_modules", "graphql")):
        print("SKIP: tests/emulators/shopify/node_modules is missing; install the emulator's pinned "
              "dependencies first:  npm ci --prefix tests/emulators/shopify", file=sys.stderr)
        sys.exit(lib.SKIP)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
