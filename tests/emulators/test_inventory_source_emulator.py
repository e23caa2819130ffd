#!/usr/bin/env python3
"""Self-tests of the inventory source emulator (tests/emulators/inventory_source).

The HTTP warehouse connector is tested against this emulator, so these tests prove that it follows
the source specification: CSV feeds with ETag / Last-Modified and RFC 9110 conditional requests,
the JSON inventory API in each paging mode (every item exactly once, in SKU order), updated_since
with its inclusive boundary, authentication (401 and no secret in any log), faults and the
control endpoints. Mostly over HTTPS verified against a throwaway test CA; one instance serves
plain HTTP.
"""

import base64
import http.client
import json
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator_testlib as lib  # noqa: E402

EMULATOR = os.path.join(lib.HERE, "inventory_source", "inventory_source.py")
T0 = "2026-11-26T10:00:00Z"
CSV1 = b"sku,quantity,location,updated_at\r\nA-1,12,east,2026-11-26T10:00:00Z\r\nB-2,0,west,2026-11-26T09:00:00Z\r\n"
CSV2 = b"sku,quantity\nA-1,11\n"
TOKEN = "tok-3f9a1c77e2b54d0b9c1e"
PASSWORD = "pw with spaces & symbols: s3cr3t!"


def sample_items(n, prefix="IT-"):
    # Deliberately not inserted in order, so the emulator has to sort.
    return [{"sku": f"{prefix}{(i * 7919) % n:04d}", "quantity": i, "location": "east"} for i in range(n)]


def call(port, method, path, body=None, headers=None, ctx=None, timeout=10.0):
    """One request on a fresh connection: HTTPS (verified against the test CA) when ctx is given."""
    if ctx is not None:
        return lib.request(port, method, path, body, headers, ctx, timeout=timeout)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return lib.Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def qs(**params):
    return "?" + urllib.parse.urlencode(params) if params else ""


TMP = CERTS = CTX = None


def setUpModule():
    global TMP, CERTS, CTX
    TMP = lib.TempDir("pb-inv-emu-")
    CERTS = lib.make_ca(os.path.join(TMP.path, "tls"))
    CTX = lib.client_context(CERTS["ca"])


def tearDownModule():
    TMP.cleanup()


class Base(unittest.TestCase):
    """Starts emulators (each with its own argv) and talks to them."""

    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.certs, cls.ctx = TMP, CERTS, CTX
        cls.emus = []

    @classmethod
    def tearDownClass(cls):
        for e in cls.emus:
            e.stop()

    @classmethod
    def start(cls, **specs):
        """name=(args, tls) for each emulator; all start at once (a Python start-up can take a while
        on a busy machine). Returns {name: emulator}."""
        emus = {}
        for name, (args, tls) in specs.items():
            cmd = [sys.executable, EMULATOR, "--clock", T0, *args]
            if tls:
                cmd += ["--tls-cert", cls.certs["server"], "--tls-key", cls.certs["server.key"]]
            emus[name] = lib.Emulator(cmd, cls.tmp.path, name)
            emus[name].ctx = cls.ctx if tls else None
            cls.emus.append(emus[name])
        errors = []

        def run(e):
            try:
                e.start()
            except Exception as ex:  # reported below, in the test's thread
                errors.append(ex)

        threads = [threading.Thread(target=run, args=(e,)) for e in emus.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for e in cls.emus:
                e.stop()
            raise errors[0]
        return emus

    def req(self, emu, method, path, body=None, headers=None):
        return call(emu.port, method, path, body, headers, emu.ctx)

    def control(self, emu, method, path, body=None, status=200):
        r = self.req(emu, method, path, body)
        self.assertEqual(r.status, status, r)
        return r.json()

    def reset(self, emu, items=(), now=T0):
        self.control(emu, "POST", "/_emulator/clock", {"now": now})
        self.control(emu, "DELETE", "/_emulator/csv")
        self.control(emu, "POST", "/_emulator/items", {"items": list(items), "replace": True})
        self.control(emu, "POST", "/_emulator/faults/clear")
        self.control(emu, "POST", "/_emulator/log/clear")

    def assert_error(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header("Content-Type").startswith("application/json"), r.headers)
        body = r.json()
        self.assertIsInstance(body["message"], str)
        if code:
            self.assertEqual(body["error"], code, body)
        return body


# ---- CSV feeds, page paging, updated_since, control, faults, log ---------------------------------
class FeedAndPageTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.log_path = os.path.join(cls.tmp.path, "requests.jsonl")
        cls.emu = cls.start(page=(["--paging", "page", "--request-log", cls.log_path], True))["page"]

    def setUp(self):
        self.reset(self.emu)

    def get(self, path, headers=None, method="GET"):
        return self.req(self.emu, method, path, headers=headers)

    def set_feed(self, name, content):
        return self.control(self.emu, "POST", f"/_emulator/csv/{name}", content)

    # ---- CSV feed ----
    def test_feed_get_and_head(self):
        info = self.set_feed("stock", CSV1)
        self.assertTrue(info["changed"])
        r = self.get("/feeds/stock.csv")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, CSV1, "served byte for byte")
        self.assertEqual(r.header("Content-Type").split(";")[0], "text/csv")
        self.assertEqual(r.header("Content-Length"), str(len(CSV1)))
        etag = r.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{40}"$', "a strong entity tag")
        self.assertEqual(r.header("Last-Modified"), "Thu, 26 Nov 2026 10:00:00 GMT")
        self.assertEqual(r.header("Date"), "Thu, 26 Nov 2026 10:00:00 GMT", "Date follows the emulator's clock")
        h = self.get("/feeds/stock.csv", method="HEAD")
        self.assertEqual((h.status, h.body), (200, b""))
        self.assertEqual(h.header("Content-Length"), str(len(CSV1)))
        self.assertEqual(h.header("ETag"), etag)
        self.assertEqual(h.header("Last-Modified"), r.header("Last-Modified"))
        self.assert_error(self.get("/feeds/nope.csv"), 404, "not_found")
        self.assert_error(self.get("/feeds/stock.txt"), 404, "not_found")
        self.assert_error(self.req(self.emu, "POST", "/feeds/stock.csv", b"x"), 405, "method_not_allowed")

    def test_if_none_match(self):
        self.set_feed("stock", CSV1)
        etag = self.get("/feeds/stock.csv").header("ETag")
        for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            for method in ("GET", "HEAD"):
                r = self.get("/feeds/stock.csv", {"If-None-Match": value}, method)
                self.assertEqual((r.status, r.body), (304, b""), value)
                self.assertEqual(r.header("ETag"), etag, "ETag repeated on 304")
                self.assertIsNone(r.header("Content-Type"))
        r = self.get("/feeds/stock.csv", {"If-None-Match": '"stale"'})
        self.assertEqual((r.status, r.body), (200, CSV1))
        # Another content: another ETag; the old one no longer matches.
        self.set_feed("stock", CSV2)
        r = self.get("/feeds/stock.csv", {"If-None-Match": etag})
        self.assertEqual((r.status, r.body), (200, CSV2))
        self.assertNotEqual(r.header("ETag"), etag)

    def test_if_modified_since(self):
        self.set_feed("stock", CSV1)  # Last-Modified 10:00:00
        for ims in ("Thu, 26 Nov 2026 10:00:00 GMT", "Thu, 26 Nov 2026 10:00:01 GMT",
                    "Thursday, 26-Nov-26 10:00:00 GMT", "Thu Nov 26 10:00:00 2026"):  # all three HTTP-date forms
            r = self.get("/feeds/stock.csv", {"If-Modified-Since": ims})
            self.assertEqual((r.status, r.body), (304, b""), ims)
            self.assertTrue(r.header("ETag"))
        for ims in ("Thu, 26 Nov 2026 09:59:59 GMT", "yesterday", "2026-11-26T10:00:00Z"):  # older / not a date
            r = self.get("/feeds/stock.csv", {"If-Modified-Since": ims})
            self.assertEqual((r.status, r.body), (200, CSV1), ims)

    def test_if_none_match_takes_precedence(self):
        self.set_feed("stock", CSV1)
        etag = self.get("/feeds/stock.csv").header("ETag")
        fresh = "Thu, 26 Nov 2026 11:00:00 GMT"
        r = self.get("/feeds/stock.csv", {"If-None-Match": '"stale"', "If-Modified-Since": fresh})
        self.assertEqual(r.status, 200, "If-Modified-Since is ignored when If-None-Match is sent")
        r = self.get("/feeds/stock.csv", {"If-None-Match": etag, "If-Modified-Since": "Thu, 26 Nov 2026 09:00:00 GMT"})
        self.assertEqual(r.status, 304)

    def test_two_changes_in_one_second(self):
        self.set_feed("stock", CSV1)
        first = self.get("/feeds/stock.csv")
        self.set_feed("stock", CSV2)  # same clock second
        r = self.get("/feeds/stock.csv", {"If-None-Match": first.header("ETag")})
        self.assertEqual((r.status, r.body), (200, CSV2), "the ETag sees the change")
        self.assertEqual(r.header("Last-Modified"), first.header("Last-Modified"))
        r = self.get("/feeds/stock.csv", {"If-Modified-Since": first.header("Last-Modified")})
        self.assertEqual(r.status, 304, "If-Modified-Since alone cannot (HTTP dates have whole seconds)")

    def test_feed_rewrite_same_bytes_is_not_a_change(self):
        self.set_feed("stock", CSV1)
        self.control(self.emu, "POST", "/_emulator/clock", {"advance": 60})
        info = self.set_feed("stock", CSV1)
        self.assertFalse(info["changed"])
        self.assertEqual(info["last_modified"], "Thu, 26 Nov 2026 10:00:00 GMT")
        info = self.set_feed("stock", CSV2)
        self.assertEqual((info["changed"], info["last_modified"]), (True, "Thu, 26 Nov 2026 10:01:00 GMT"))
        self.assertEqual(self.get("/feeds/stock.csv").header("Last-Modified"), "Thu, 26 Nov 2026 10:01:00 GMT")

    def test_feed_control(self):
        self.reset(self.emu, [{"sku": "B,2", "quantity": -1}, {"sku": "A-1", "quantity": 5, "location": "east"}])
        info = self.control(self.emu, "POST", "/_emulator/csv/from-items?from_items=1")
        self.assertEqual(info["path"], "/feeds/from-items.csv")
        self.assertEqual(self.get("/feeds/from-items.csv").body,
                         b'sku,quantity,location,updated_at\r\nA-1,5,east,2026-11-26T10:00:00Z\r\n'
                         b'"B,2",-1,,2026-11-26T10:00:00Z\r\n')
        self.set_feed("broken", b"not,a\nvalid\"feed")  # served as given: connectors meet bad feeds too
        self.assertEqual(self.get("/feeds/broken.csv").body, b"not,a\nvalid\"feed")
        names = [f["name"] for f in self.control(self.emu, "GET", "/_emulator/csv")["feeds"]]
        self.assertIn("broken", names)
        self.control(self.emu, "DELETE", "/_emulator/csv/broken")
        self.assertEqual(self.get("/feeds/broken.csv").status, 404)
        self.control(self.emu, "POST", "/_emulator/csv/bad%2Fname", b"x", status=400)

    def test_keep_alive_framing(self):
        # One connection carries 200, 304, HEAD, JSON pages and errors: every answer is framed.
        self.reset(self.emu, sample_items(7))
        self.set_feed("stock", CSV1)
        conn = http.client.HTTPSConnection("127.0.0.1", self.emu.port, context=self.ctx, timeout=10)
        try:
            seen, socks = [], []
            for method, path, headers in [
                    ("GET", "/feeds/stock.csv", {}),
                    ("GET", "/feeds/stock.csv", {"If-Modified-Since": "Thu, 26 Nov 2026 10:00:00 GMT"}),
                    ("HEAD", "/feeds/stock.csv", {}),
                    ("GET", "/api/inventory?per_page=5", {}),
                    ("HEAD", "/api/inventory?per_page=5", {}),
                    ("GET", "/api/inventory?page=x", {}),
                    ("GET", "/nowhere", {}),
                    ("GET", "/api/inventory?per_page=5&page=2", {})]:
                conn.request(method, path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                self.assertFalse(r.will_close, path)
                seen.append((r.status, len(body)))
                socks.append(conn.sock)
            self.assertTrue(all(s is socks[0] for s in socks), "one connection throughout")
            self.assertEqual([s for s, _ in seen], [200, 304, 200, 200, 200, 400, 404, 200])
            self.assertEqual(seen[1][1], 0)
            self.assertEqual(seen[2][1], 0)
            self.assertEqual(seen[4][1], 0)
        finally:
            conn.close()

    # ---- page paging ----
    def walk_pages(self, per_page, **extra):
        seen, page, totals = [], 1, set()
        while True:
            r = self.get("/api/inventory" + qs(page=page, per_page=per_page, **extra))
            self.assertEqual(r.status, 200, r)
            totals.add((r.header("X-Total-Count"), r.header("X-Total-Pages")))
            items = r.json()["items"]
            seen += items
            if len(items) < per_page:  # the client stops on an empty or short page
                return seen, page, totals
            page += 1

    def test_page_walk_every_item_once_in_sku_order(self):
        self.reset(self.emu, sample_items(237))
        seen, pages, totals = self.walk_pages(50)
        self.assertEqual(pages, 5)
        self.assertEqual(totals, {("237", "5")})
        skus = [i["sku"] for i in seen]
        self.assertEqual(skus, sorted(f"IT-{i:04d}" for i in range(237)))
        first = seen[0]
        self.assertEqual(first, {"sku": "IT-0000", "stock": {"available": 0}, "location": "east",
                                 "updated_at": T0})
        r = self.get("/api/inventory?page=6&per_page=50")
        self.assertEqual((r.status, r.json()), (200, {"items": []}), "out of range: an empty list")
        self.assertEqual(r.header("X-Total-Count"), "237")
        self.assertEqual(len(self.get("/api/inventory").json()["items"]), 50, "default page size 50")
        # Exactly a multiple of the page size: the last page is full, the one after it empty.
        self.reset(self.emu, sample_items(100))
        seen, pages, totals = self.walk_pages(50)
        self.assertEqual((len(seen), pages, totals), (100, 3, {("100", "2")}))
        self.reset(self.emu, [])
        r = self.get("/api/inventory")
        self.assertEqual((r.json(), r.header("X-Total-Count"), r.header("X-Total-Pages")), ({"items": []}, "0", "0"))

    def test_page_size_is_cut_to_the_maximum(self):
        self.reset(self.emu, sample_items(237))
        r = self.get("/api/inventory?per_page=1000")
        self.assertEqual(len(r.json()["items"]), 100)
        self.assertEqual(r.header("X-Total-Pages"), "3")

    def test_bad_parameters_are_400(self):
        for q in ("page=abc", "page=0", "page=-1", "page=1.5", "page=", "per_page=0", "per_page=x",
                  "page=1&page=2", "updated_since=yesterday", "updated_since=2026-11-26T10:00:00",
                  "updated_since=2026-11-26T10:00:00%2B02:00", "updated_since=2026-11-26T10:00:00+00:00",
                  "updated_since=2026-02-30T10:00:00Z", "updated_since="):
            body = self.assert_error(self.get("/api/inventory?" + q), 400, "bad_request")
            self.assertTrue(body["message"], q)
        # Unknown parameters are ignored (as most APIs do; --strict-params makes them 400).
        self.assertEqual(self.get("/api/inventory?colour=red").status, 200)
        self.assertEqual(self.get("/api/inventory?updated_since=2026-11-26T10:00:00%2B00:00").status, 200)
        self.assert_error(self.get("/api/other"), 404, "not_found")
        self.assert_error(self.get("/"), 404, "not_found")
        r = self.req(self.emu, "POST", "/api/inventory", {"x": 1})
        self.assert_error(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "GET, HEAD")

    # ---- updated_since ----
    def since(self, ts, **extra):
        r = self.get("/api/inventory" + qs(updated_since=ts, per_page=100, **extra))
        self.assertEqual(r.status, 200, r)
        return [(i["sku"], i["updated_at"]) for i in r.json()["items"]]

    def test_updated_since_inclusive_boundary(self):
        self.reset(self.emu, [{"sku": s, "quantity": 1} for s in ("A", "B", "C", "D")])
        clock = self.control(self.emu, "POST", "/_emulator/clock", {"advance": 10})
        self.assertEqual(clock, {"now": "2026-11-26T10:00:10Z", "epoch": clock["epoch"], "frozen": True})
        # Two changes in the same second, in separate requests.
        self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "B", "quantity": 2}]})
        self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "D", "quantity": 2}]})
        self.control(self.emu, "POST", "/_emulator/clock", {"advance": 0.5})
        self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "C", "quantity": 2}]})
        self.control(self.emu, "POST", "/_emulator/clock", {"advance": 0.5})
        self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "E", "quantity": 0}]})
        at10, at11 = "2026-11-26T10:00:10Z", "2026-11-26T10:00:11Z"
        self.assertEqual(self.since(at10), [("B", at10), ("C", at10), ("D", at10), ("E", at11)], ">= is inclusive")
        self.assertEqual(self.since(at11), [("E", at11)])
        self.assertEqual(self.since("2026-11-26T10:00:10.5Z"), [("E", at11)], "fractions compare exactly")
        self.assertEqual(self.since("2026-11-26T10:00:09.999Z"), self.since(at10))
        self.assertEqual(self.since("2026-11-26T10:00:12Z"), [])
        self.assertEqual(len(self.since(T0)), 5)
        self.assertEqual(len(self.since("2001-01-01T00:00:00Z")), 5)
        self.assertEqual(self.since("2026-11-26t10:00:11z"), [("E", at11)], "RFC 3339 allows t and z")
        r = self.get("/api/inventory" + qs(updated_since=at10, per_page=2))
        self.assertEqual((r.header("X-Total-Count"), r.header("X-Total-Pages")), ("4", "2"))
        self.assertEqual([i["sku"] for i in r.json()["items"]], ["B", "C"])
        r = self.get("/api/inventory" + qs(updated_since=at10, per_page=2, page=2))
        self.assertEqual([i["sku"] for i in r.json()["items"]], ["D", "E"])

    def test_updated_at_moves_only_when_the_quantity_changes(self):
        self.reset(self.emu, [{"sku": "A", "quantity": 1, "location": "east"}])
        self.control(self.emu, "POST", "/_emulator/clock", {"now": "2026-11-26T12:00:00Z"})
        out = self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "A", "quantity": 1}]})
        self.assertEqual((out["unchanged"], out["changed"]), (1, 0))
        out = self.control(self.emu, "POST", "/_emulator/items",
                           {"items": [{"sku": "A", "quantity": 1, "location": "west"}]})
        self.assertEqual(out["location_only"], 1)
        a = self.control(self.emu, "GET", "/_emulator/items?sku=A")
        self.assertEqual(a, {"sku": "A", "quantity": 1, "location": "west", "updated_at": T0})
        self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "A", "quantity": 3}]})
        a = self.control(self.emu, "GET", "/_emulator/items?sku=A")
        self.assertEqual((a["quantity"], a["location"], a["updated_at"]), (3, "west", "2026-11-26T12:00:00Z"))
        self.assertEqual(self.since("2026-11-26T12:00:00Z"), [("A", "2026-11-26T12:00:00Z")])

    # ---- control endpoints ----
    def test_items_control(self):
        self.reset(self.emu, sample_items(5))
        out = self.control(self.emu, "POST", "/_emulator/items", {"items": [
            {"sku": "IT-0001", "quantity": 99}, {"sku": "NEW", "quantity": 4, "location": None,
                                                 "updated_at": "2026-01-01T00:00:00Z"}]})
        self.assertEqual((out["created"], out["changed"], out["unchanged"], out["items"]), (1, 1, 0, 6))
        items = self.control(self.emu, "GET", "/_emulator/items")["items"]
        self.assertEqual([i["sku"] for i in items], ["IT-0000", "IT-0001", "IT-0002", "IT-0003", "IT-0004", "NEW"])
        self.assertEqual(items[-1], {"sku": "NEW", "quantity": 4, "location": None,
                                     "updated_at": "2026-01-01T00:00:00Z"})
        out = self.control(self.emu, "POST", "/_emulator/items", {"delete": ["IT-0000", "NOPE"]})
        self.assertEqual((out["deleted"], out["items"]), (1, 5))
        out = self.control(self.emu, "POST", "/_emulator/items", {"items": [{"sku": "IT-0001", "quantity": 99}],
                                                                  "replace": True})
        self.assertEqual((out["deleted"], out["unchanged"], out["items"]), (4, 1, 1))
        self.control(self.emu, "GET", "/_emulator/items?sku=NEW", status=404)
        for bad in ({"items": [{"sku": "X", "quantity": "5"}]}, {"items": [{"sku": "X", "quantity": True}]},
                    {"items": [{"sku": "X", "quantity": 1.5}]}, {"items": [{"sku": "", "quantity": 1}]},
                    {"items": [{"sku": "X", "quantity": 1, "colour": "red"}]},
                    {"items": [{"sku": "X", "quantity": 1}, {"sku": "X", "quantity": 2}]},
                    {"items": [{"sku": "X", "quantity": 1, "updated_at": "2026-11-26T10:00:00.5Z"}]},
                    {"items": {}}, {"replace": "yes"}, [1]):
            self.control(self.emu, "POST", "/_emulator/items", bad, status=400)
        self.control(self.emu, "POST", "/_emulator/items", b"{not json", status=400)
        self.assertEqual(self.control(self.emu, "GET", "/_emulator/state")["items"], 1, "nothing half applied")

    def test_clock_control(self):
        c = self.control(self.emu, "POST", "/_emulator/clock", {"now": "2027-01-02T03:04:05Z"})
        self.assertEqual((c["now"], c["frozen"]), ("2027-01-02T03:04:05Z", True))
        c = self.control(self.emu, "POST", "/_emulator/clock", {"advance": 3600})
        self.assertEqual(c["now"], "2027-01-02T04:04:05Z")
        self.assertEqual(self.control(self.emu, "GET", "/_emulator/clock")["now"], "2027-01-02T04:04:05Z")
        c = self.control(self.emu, "POST", "/_emulator/clock", {"real": True})
        self.assertFalse(c["frozen"])
        self.assertLess(abs(c["epoch"] - time.time()), 60)
        for bad in ({"now": "soon"}, {"advance": -1}, {"advance": "1"}, {"when": 1}, {}):
            self.control(self.emu, "POST", "/_emulator/clock", bad, status=400)
        self.control(self.emu, "GET", "/_emulator/nothing", status=404)
        self.assertEqual(self.req(self.emu, "GET", "/_emulator/health").body, b"ok")
        state = self.control(self.emu, "GET", "/_emulator/state")
        self.assertEqual(state["config"]["paging"], "page")

    # ---- faults ----
    def test_fault_429_with_retry_after_then_recovers(self):
        self.reset(self.emu, sample_items(3))
        out = self.control(self.emu, "POST", "/_emulator/faults", {"status": 429, "count": 2, "retry_after": 7})
        self.assertEqual(out["faults"][0]["count"], 2)
        for _ in range(2):
            r = self.get("/api/inventory")
            self.assert_error(r, 429, "rate_limited")
            self.assertEqual(r.header("Retry-After"), "7")
        self.assertEqual(self.control(self.emu, "GET", "/_emulator/faults")["faults"], [])
        self.assertEqual(self.get("/api/inventory").status, 200)
        log = self.control(self.emu, "GET", "/_emulator/log")
        self.assertEqual([e["status"] for e in log], [429, 429, 200])
        self.assertEqual(log[0]["fault"], {"status": 429, "retry_after": 7})

    def test_fault_path_and_status(self):
        self.set_feed("stock", CSV1)
        self.control(self.emu, "POST", "/_emulator/faults", {"status": 503, "path": "/api/inventory"})
        self.control(self.emu, "POST", "/_emulator/faults", {"status": 500, "path": "/feeds"})
        self.assertEqual(self.req(self.emu, "GET", "/_emulator/health").status, 200, "control is never faulted")
        r = self.get("/feeds/stock.csv")
        self.assert_error(r, 500, "internal_error")
        self.assertIsNone(r.header("Retry-After"))
        self.assertEqual(self.get("/feeds/stock.csv").status, 200)
        self.assert_error(self.get("/api/inventory"), 503, "service_unavailable")
        self.assertEqual(self.get("/api/inventory").status, 200)
        for bad in ({"status": 200}, {"count": 0, "status": 500}, {"path": "api", "status": 500}, {"count": 2},
                    {"status": 500, "colour": 1}, {"drop_connection": "yes"}):
            self.control(self.emu, "POST", "/_emulator/faults", bad, status=400)

    def test_fault_malformed_json(self):
        self.reset(self.emu, sample_items(20))
        good = self.get("/api/inventory")
        self.control(self.emu, "POST", "/_emulator/faults", {"malformed_json": True})
        r = self.get("/api/inventory")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), str(len(r.body)), "the cut body is framed correctly")
        self.assertEqual(r.body, good.body[:len(good.body) // 2])
        with self.assertRaises(ValueError):
            r.json()
        self.assertEqual(self.get("/api/inventory").body, good.body)

    def test_fault_drop_connection(self):
        self.reset(self.emu, sample_items(3))
        self.control(self.emu, "POST", "/_emulator/faults", {"drop_connection": True, "path": "/api/inventory"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, OSError)):
            self.get("/api/inventory")
        self.assertEqual(self.get("/api/inventory").status, 200)
        log = self.control(self.emu, "GET", "/_emulator/log")
        self.assertEqual(log[0]["status"], None)
        self.assertEqual(log[0]["fault"], {"path": "/api/inventory", "drop_connection": True})

    def test_fault_drop_mid_body_and_delay(self):
        self.set_feed("stock", CSV1)
        self.control(self.emu, "POST", "/_emulator/faults", {"drop_mid_body": True})
        with self.assertRaises(http.client.IncompleteRead):
            self.get("/feeds/stock.csv")
        self.control(self.emu, "POST", "/_emulator/faults", {"delay_ms": 300})
        t = time.monotonic()
        r = self.get("/feeds/stock.csv")
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.assertEqual((r.status, r.body), (200, CSV1))

    # ---- request log ----
    def test_request_log(self):
        self.set_feed("stock", CSV1)
        self.control(self.emu, "POST", "/_emulator/log/clear")
        etag = self.get("/feeds/stock.csv").header("ETag")
        self.get("/feeds/stock.csv", {"If-None-Match": etag, "User-Agent": "packagebee-test"})
        self.get("/feeds/stock.csv", {"If-Modified-Since": "Thu, 26 Nov 2026 10:00:00 GMT"}, method="HEAD")
        self.get("/api/inventory?per_page=2&updated_since=2026-11-26T10:00:00Z")
        log = self.control(self.emu, "GET", "/_emulator/log")
        self.assertEqual([(e["method"], e["path"], e["status"]) for e in log],
                         [("GET", "/feeds/stock.csv", 200), ("GET", "/feeds/stock.csv", 304),
                          ("HEAD", "/feeds/stock.csv", 304), ("GET", "/api/inventory", 200)])
        self.assertEqual([e["bytes"] for e in log], [len(CSV1), 0, 0, len(b'{"items":[]}')])
        self.assertEqual(log[1]["if_none_match"], etag)
        self.assertEqual(log[1]["user_agent"], "packagebee-test")
        self.assertEqual(log[2]["if_modified_since"], "Thu, 26 Nov 2026 10:00:00 GMT")
        self.assertEqual(log[3]["query"], "per_page=2&updated_since=2026-11-26T10:00:00Z")
        self.assertEqual((log[3]["items"], log[3]["authorization"]), (0, False))
        seqs = [e["seq"] for e in log]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(self.control(self.emu, "GET", f"/_emulator/log?after={seqs[1]}"), log[2:])
        self.assertTrue(all(isinstance(e["duration_ms"], float) for e in log))
        self.assertEqual(lib.read_jsonl(self.log_path)[-4:], log, "the --request-log file has the same")
        self.control(self.emu, "POST", "/_emulator/log/clear")
        self.assertEqual(self.control(self.emu, "GET", "/_emulator/log"), [])


# ---- offset, cursor, link paging; item shapes; snapshots ------------------------------------------
class PagingModesTest(Base):
    N = 237

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        e = cls.start(
            offset=(["--paging", "offset", "--default-page-size", "25"], False),
            cursor=(["--paging", "cursor", "--sku-field", "product.code", "--quantity-field", "qty",
                     "--location-field", "", "--updated-at-field", "meta.changed", "--items-key", "data.records",
                     "--cursor-field", "paging.next", "--cursor-param", "after", "--size-param", "count"], True),
            link=(["--paging", "link", "--max-page-size", "40"], True),
            bare=(["--paging", "page", "--bare-array", "--page-param", "p", "--size-param", "n",
                   "--strict-params"], True),
            snapcursor=(["--paging", "cursor", "--snapshot-paging"], True),
            snaplink=(["--paging", "link", "--snapshot-paging", "--max-snapshots", "2"], True),
            plaincursor=(["--paging", "cursor"], False))
        cls.offset, cls.cursor, cls.link, cls.bare = e["offset"], e["cursor"], e["link"], e["bare"]
        cls.snap_cursor, cls.snap_link, cls.plain_cursor = e["snapcursor"], e["snaplink"], e["plaincursor"]

    def seed(self, emu, n=None):
        self.reset(emu, sample_items(self.N if n is None else n))

    def expected(self, n=None):
        return sorted(f"IT-{i:04d}" for i in range(self.N if n is None else n))

    def assert_once_in_order(self, skus, n=None):
        self.assertEqual(len(skus), len(set(skus)), "no item twice")
        self.assertEqual(skus, self.expected(n))

    # ---- offset ----
    def test_offset_walk(self):
        self.seed(self.offset)
        seen, offset = [], 0
        while True:
            items = self.req(self.offset, "GET", f"/api/inventory?offset={offset}&limit=40").json()["items"]
            seen += [i["sku"] for i in items]
            offset += len(items)
            if len(items) < 40:
                break
        self.assert_once_in_order(seen)
        self.assertEqual(len(self.req(self.offset, "GET", "/api/inventory").json()["items"]), 25)
        self.assertEqual(self.req(self.offset, "GET", "/api/inventory?offset=237").json(), {"items": []})
        self.assertEqual(self.req(self.offset, "GET", "/api/inventory?offset=5000").json(), {"items": []})
        r = self.req(self.offset, "GET", "/api/inventory?offset=230&limit=500")
        self.assertEqual(len(r.json()["items"]), 7)
        self.assertIsNone(r.header("X-Total-Count"), "totals belong to page paging")
        for q in ("offset=-1", "offset=x", "limit=0", "limit=-5"):
            self.assert_error(self.req(self.offset, "GET", "/api/inventory?" + q), 400, "bad_request")

    # ---- cursor ----
    def walk_cursor(self, emu, size, since=None, param="cursor", size_param="limit",
                    items_of=lambda b: b["items"], next_of=lambda b: b["next_cursor"]):
        pages, cursor = [], None
        while True:
            q = {size_param: size}
            if since:
                q["updated_since"] = since
            if cursor is not None:
                q[param] = cursor
            r = self.req(emu, "GET", "/api/inventory" + qs(**q))
            self.assertEqual(r.status, 200, r)
            body = r.json()
            pages.append(items_of(body))
            cursor = next_of(body)
            if cursor is None:
                return pages
            self.assertIsInstance(cursor, str)

    def test_cursor_walk_with_another_item_shape(self):
        self.seed(self.cursor)
        pages = self.walk_cursor(self.cursor, 50, param="after", size_param="count",
                                 items_of=lambda b: b["data"]["records"], next_of=lambda b: b["paging"]["next"])
        self.assertEqual([len(p) for p in pages], [50, 50, 50, 50, 37])
        self.assertEqual(pages[0][0], {"product": {"code": "IT-0000"}, "qty": 0, "meta": {"changed": T0}})
        self.assert_once_in_order([i["product"]["code"] for p in pages for i in p])
        # A full last page still says there is no next one.
        self.seed(self.cursor, 100)
        pages = self.walk_cursor(self.cursor, 50, param="after", size_param="count",
                                 items_of=lambda b: b["data"]["records"], next_of=lambda b: b["paging"]["next"])
        self.assertEqual([len(p) for p in pages], [50, 50])
        self.reset(self.cursor)
        self.assertEqual(self.req(self.cursor, "GET", "/api/inventory").json(),
                         {"data": {"records": []}, "paging": {"next": None}})

    def test_cursor_walk_plain_http_and_updated_since(self):
        emu = self.plain_cursor
        self.seed(emu)
        pages = self.walk_cursor(emu, 100)
        self.assert_once_in_order([i["sku"] for p in pages for i in p])
        self.control(emu, "POST", "/_emulator/clock", {"advance": 60})
        changed = [f"IT-{i:04d}" for i in (3, 50, 51, 200, 236)]
        self.control(emu, "POST", "/_emulator/items", {"items": [{"sku": s, "quantity": 1000} for s in changed]})
        pages = self.walk_cursor(emu, 2, since="2026-11-26T10:01:00Z")
        self.assertEqual([len(p) for p in pages], [2, 2, 1])
        self.assertEqual([i["sku"] for p in pages for i in p], changed)

    def test_cursor_errors(self):
        emu = self.plain_cursor
        self.seed(emu)
        first = self.req(emu, "GET", "/api/inventory?limit=10&updated_since=" + T0).json()
        cursor = first["next_cursor"]
        for q in (f"cursor={cursor}", f"cursor={cursor}&updated_since=2026-11-26T10:00:01Z"):
            self.assert_error(self.req(emu, "GET", "/api/inventory?" + q), 400, "invalid_cursor")
        for bad in ("", "garbage!", "bm90IGpzb24", base64.urlsafe_b64encode(b'{"a": 5}').decode()):
            self.assert_error(self.req(emu, "GET", "/api/inventory" + qs(cursor=bad)), 400, "invalid_cursor")
        r = self.req(emu, "GET", "/api/inventory" + qs(cursor=cursor, limit=10, updated_since=T0))
        self.assertEqual(r.json()["items"][0]["sku"], "IT-0010")

    # ---- link ----
    def walk_links(self, emu, first_path):
        pages, url, urls = [], first_path, []
        while True:
            r = self.req(emu, "GET", url)
            self.assertEqual(r.status, 200, r)
            pages.append(r.json()["items"])
            link = r.header("Link")
            if link is None:
                return pages, urls
            m = re.fullmatch(r'<([^>]+)>; rel="next"', link)
            self.assertTrue(m, link)
            parts = urllib.parse.urlsplit(m.group(1))
            self.assertEqual((parts.scheme, parts.netloc), ("https", f"127.0.0.1:{emu.port}"), "absolute URL")
            urls.append(m.group(1))
            url = parts.path + "?" + parts.query

    def test_link_walk(self):
        self.seed(self.link)
        pages, urls = self.walk_links(self.link, "/api/inventory?limit=60")
        self.assertEqual([len(p) for p in pages], [40] * 5 + [37], "limit cut to --max-page-size 40")
        self.assert_once_in_order([i["sku"] for p in pages for i in p])
        self.assertTrue(all(urllib.parse.urlsplit(u).query.startswith("page_token=") for u in urls))
        # updated_since and the size travel inside the next URL.
        self.control(self.link, "POST", "/_emulator/clock", {"advance": 1})
        self.control(self.link, "POST", "/_emulator/items",
                     {"items": [{"sku": f"IT-{i:04d}", "quantity": -1} for i in range(0, 237, 20)]})
        pages, _ = self.walk_links(self.link, "/api/inventory?limit=5&updated_since=2026-11-26T10:00:01Z")
        self.assertEqual([len(p) for p in pages], [5, 5, 2])
        self.assertEqual([i["sku"] for p in pages for i in p], [f"IT-{i:04d}" for i in range(0, 237, 20)])
        # The next URL is used as given.
        nxt = urllib.parse.urlsplit(urls[0])
        self.assert_error(self.req(self.link, "GET", f"{nxt.path}?{nxt.query}&limit=10"), 400, "bad_request")
        self.assert_error(self.req(self.link, "GET", "/api/inventory?page_token=xyz"), 400, "invalid_cursor")
        # A single page has no Link.
        self.seed(self.link, 3)
        r = self.req(self.link, "GET", "/api/inventory?limit=3")
        self.assertEqual((len(r.json()["items"]), r.header("Link")), (3, None))

    # ---- bare array, custom names, strict parameters ----
    def test_bare_array_and_strict_params(self):
        self.seed(self.bare)
        seen, p = [], 1
        while True:
            r = self.req(self.bare, "GET", f"/api/inventory?p={p}&n=100")
            body = r.json()
            self.assertIsInstance(body, list)
            self.assertEqual(r.header("X-Total-Pages"), "3")
            seen += [i["sku"] for i in body]
            if len(body) < 100:
                break
            p += 1
        self.assert_once_in_order(seen)
        self.assert_error(self.req(self.bare, "GET", "/api/inventory?page=2"), 400, "bad_request")
        self.assert_error(self.req(self.bare, "GET", "/api/inventory?p=1&per_page=5"), 400, "bad_request")

    # ---- data changing while a client pages ----
    def test_changes_between_pages_without_snapshot(self):
        # page/offset paging: positions are counted on the data as it is at each request.
        emu = self.offset
        self.seed(emu, 20)
        first = [i["sku"] for i in self.req(emu, "GET", "/api/inventory?offset=0&limit=10").json()["items"]]
        self.control(emu, "POST", "/_emulator/items", {"items": [{"sku": "IT-0000a", "quantity": 1}]})
        second = [i["sku"] for i in self.req(emu, "GET", "/api/inventory?offset=10&limit=10").json()["items"]]
        self.assertEqual(first[-1], second[0], "an insert before the position repeats an item")
        self.control(emu, "POST", "/_emulator/items", {"delete": ["IT-0000", "IT-0001"]})
        third = [i["sku"] for i in self.req(emu, "GET", "/api/inventory?offset=20&limit=10").json()["items"]]
        self.assertEqual(third, [], "a delete before the position skips items (IT-0019, IT-0020 here)")
        # cursor paging: keyset on the SKU: nothing twice, nothing that stayed is skipped.
        emu = self.plain_cursor
        self.seed(emu, 20)
        body = self.req(emu, "GET", "/api/inventory?limit=10").json()
        self.control(emu, "POST", "/_emulator/items", {"items": [{"sku": "IT-0000a", "quantity": 1},
                                                                 {"sku": "IT-0015a", "quantity": 1},
                                                                 {"sku": "IT-0012", "quantity": 77}],
                                                       "delete": ["IT-0001", "IT-0013"]})
        rest = self.req(emu, "GET", "/api/inventory" + qs(limit=100, cursor=body["next_cursor"])).json()
        skus = [i["sku"] for i in body["items"] + rest["items"]]
        self.assertEqual(len(skus), len(set(skus)))
        self.assertNotIn("IT-0000a", skus, "inserted behind the cursor: not seen")
        self.assertIn("IT-0015a", skus, "inserted ahead of the cursor: seen")
        self.assertNotIn("IT-0013", skus)
        self.assertEqual([i["stock"]["available"] for i in rest["items"] if i["sku"] == "IT-0012"], [77])

    def test_snapshot_paging(self):
        for emu in (self.snap_cursor, self.snap_link):
            self.seed(emu, 30)
            r = self.req(emu, "GET", "/api/inventory?limit=10")
            if emu is self.snap_cursor:
                nxt = "/api/inventory" + qs(limit=10, cursor=r.json()["next_cursor"])
            else:
                u = urllib.parse.urlsplit(r.header("Link")[1:].split(">")[0])
                nxt = f"{u.path}?{u.query}"
            self.control(emu, "POST", "/_emulator/items", {"items": [{"sku": "IT-0000a", "quantity": 1},
                                                                     {"sku": "IT-0015", "quantity": 555}],
                                                           "delete": ["IT-0020"]})
            rest = self.req(emu, "GET", nxt).json()["items"]
            self.assertEqual([i["sku"] for i in rest], [f"IT-{i:04d}" for i in range(10, 20)])
            self.assertEqual(rest[5]["stock"]["available"], 15, "the quantity as it was at the first page")
            self.assertEqual(len(self.req(emu, "GET", "/api/inventory?limit=100").json()["items"]), 30,
                             "a new listing sees the new data (+1 -1)")
        # The oldest snapshots are dropped (--max-snapshots 2): their cursors are refused.
        emu = self.snap_link
        links = [self.req(emu, "GET", "/api/inventory?limit=5").header("Link") for _ in range(3)]
        oldest = urllib.parse.urlsplit(links[0][1:].split(">")[0])
        self.assert_error(self.req(emu, "GET", f"{oldest.path}?{oldest.query}"), 400, "invalid_cursor")
        newest = urllib.parse.urlsplit(links[2][1:].split(">")[0])
        self.assertEqual(self.req(emu, "GET", f"{newest.path}?{newest.query}").status, 200)


# ---- authentication --------------------------------------------------------------------------------
class AuthTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        token_file = os.path.join(cls.tmp.path, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        pw_file = os.path.join(cls.tmp.path, "password")
        with open(pw_file, "w") as f:
            f.write(PASSWORD + "\n")
        cls.bearer_log = os.path.join(cls.tmp.path, "bearer.jsonl")
        cls.basic_log = os.path.join(cls.tmp.path, "basic.jsonl")
        e = cls.start(bearer=(["--bearer-token-file", token_file, "--request-log", cls.bearer_log], True),
                      basic=(["--basic-user", "warehouse", "--basic-password-file", pw_file, "--auth-feeds",
                              "--request-log", cls.basic_log], False))
        cls.bearer, cls.basic = e["bearer"], e["basic"]
        for emu in (cls.bearer, cls.basic):
            call(emu.port, "POST", "/_emulator/csv/stock", CSV1, ctx=emu.ctx)
            call(emu.port, "POST", "/_emulator/items", {"items": sample_items(3)}, ctx=emu.ctx)

    def assert_no_secret_anywhere(self, emu, log_path):
        basic = base64.b64encode(f"warehouse:{PASSWORD}".encode()).decode()
        texts = [self.req(emu, "GET", "/_emulator/log").body.decode(), emu.output()]
        with open(log_path) as f:
            texts.append(f.read())
        for text in texts:
            for secret in (TOKEN, PASSWORD, basic, urllib.parse.quote_plus(PASSWORD)):
                self.assertNotIn(secret, text)

    def test_bearer(self):
        emu = self.bearer
        r = self.req(emu, "GET", "/api/inventory")
        body = self.assert_error(r, 401, "unauthorized")
        self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="inventory"', "no error code without credentials")
        for h in ("Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer"):
            r = self.req(emu, "GET", "/api/inventory", headers={"Authorization": h})
            self.assert_error(r, 401, "unauthorized")
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="inventory", error="invalid_token"')
        self.assertNotIn(TOKEN, json.dumps(body))
        for h in (f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER  {TOKEN}"):
            r = self.req(emu, "GET", "/api/inventory", headers={"Authorization": h})
            self.assertEqual(r.status, 200, h)
        # Feeds are open unless --auth-feeds; control endpoints never need credentials.
        self.assertEqual(self.req(emu, "GET", "/feeds/stock.csv").status, 200)
        self.assertEqual(self.req(emu, "GET", "/_emulator/state").json()["config"]["auth"], "bearer")
        # A token put in the query string (wrongly) is not logged either.
        self.assertEqual(self.req(emu, "GET", f"/api/inventory?access_token={TOKEN}").status, 401)
        self.assertEqual(self.req(emu, "GET", "/nowhere", headers={"Authorization": f"Bearer {TOKEN}"}).status, 404)
        log = self.req(emu, "GET", "/_emulator/log").json()
        self.assertTrue(any(e["authorization"] and e.get("auth_ok") for e in log))
        self.assertTrue(any(e["authorization"] and e.get("auth_ok") is False for e in log))
        self.assertTrue(any(e["query"] == "access_token=[redacted]" for e in log))
        self.assert_no_secret_anywhere(emu, self.bearer_log)

    def test_basic(self):
        emu = self.basic

        def auth(user, pw):
            return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}

        for path in ("/api/inventory", "/feeds/stock.csv"):
            r = self.req(emu, "GET", path)
            self.assert_error(r, 401, "unauthorized")
            self.assertEqual(r.header("WWW-Authenticate"), 'Basic realm="inventory", charset="UTF-8"')
            for h in (auth("warehouse", "nope"), auth("other", PASSWORD), auth("warehouse", PASSWORD[:-1]),
                      {"Authorization": "Basic !!!"}, {"Authorization": f"Bearer {PASSWORD}"},
                      {"Authorization": "Basic " + base64.b64encode(b"warehouse").decode()}):
                self.assert_error(self.req(emu, "GET", path, headers=h), 401, "unauthorized")
            r = self.req(emu, "GET", path, headers=auth("warehouse", PASSWORD))
            self.assertEqual(r.status, 200, r)
        r = self.req(emu, "HEAD", "/feeds/stock.csv", headers=auth("warehouse", "nope"))
        self.assertEqual((r.status, r.body), (401, b""))
        self.assertEqual(self.req(emu, "GET", "/_emulator/log").status, 200)
        self.assert_no_secret_anywhere(emu, self.basic_log)


# ---- scale: generated items, the updated_since index ---------------------------------------------
class RedirectTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        token_file = os.path.join(cls.tmp.path, "redirect-token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        cls.emu = cls.start(redirect=(["--bearer-token-file", token_file, "--redirect",
                                       "/old/stock.csv=/feeds/stock.csv", "--redirect-status", "301"],
                                      False))["redirect"]
        call(cls.emu.port, "POST", "/_emulator/csv/stock", CSV1)

    def setUp(self):
        self.control(self.emu, "POST", "/_emulator/log/clear")

    def test_redirect_from_the_command_line(self):
        r = self.req(self.emu, "GET", "/old/stock.csv")
        self.assertEqual((r.status, r.header("Location")), (301, "/feeds/stock.csv"), r)
        self.assertEqual(r.body, b"")
        self.assertEqual(self.req(self.emu, "GET", r.header("Location")).body, CSV1)
        log = self.req(self.emu, "GET", "/_emulator/log").json()
        self.assertEqual([(e["path"], e["status"]) for e in log],
                         [("/old/stock.csv", 301), ("/feeds/stock.csv", 200)], log)
        self.assertEqual(log[0]["redirect"], "/feeds/stock.csv", log)

    def test_redirect_control_statuses_loops_and_auth(self):
        emu = self.emu
        try:
            for status in (302, 303, 307, 308):
                other = f"http://localhost:{emu.port}/api/inventory"
                got = self.control(emu, "POST", "/_emulator/redirects",
                                   {"path": "/v0/inventory", "location": other, "status": status})
                self.assertIn({"path": "/v0/inventory", "status": status, "location": other},
                              got["redirects"])
                # Answered before authentication, as a proxy in front of the API would.
                r = self.req(emu, "GET", "/v0/inventory")
                self.assertEqual((r.status, r.header("Location")), (status, other), r)
            self.assertEqual(self.req(emu, "GET", "/api/inventory").status, 401)
            # A loop is the client's problem to notice: the emulator just answers.
            self.control(emu, "POST", "/_emulator/redirects", {"path": "/a", "location": "/b"})
            self.control(emu, "POST", "/_emulator/redirects", {"path": "/b", "location": "/a"})
            self.assertEqual(self.req(emu, "GET", "/b").header("Location"), "/a")
            self.control(emu, "POST", "/_emulator/redirects", {"path": "/b", "location": None})
            self.assertEqual(self.req(emu, "GET", "/b").status, 404)
            log = self.req(emu, "GET", "/_emulator/log", headers={}).json()
            self.assertTrue(all(not e["authorization"] for e in log), log)
            r = self.req(emu, "GET", "/v0/inventory", headers={"Authorization": "Bearer " + TOKEN})
            self.assertTrue(self.req(emu, "GET", "/_emulator/log").json()[-1]["authorization"])
            for bad in ({"path": "/x", "location": "/y", "status": 304}, {"path": "x", "location": "/y"},
                        {"path": "/_emulator/state", "location": "/y"}, {"path": "/x", "location": "/a b"},
                        {"path": "/x", "to": "/y"}):
                self.assert_error(self.req(emu, "POST", "/_emulator/redirects", bad), 400)
        finally:
            got = self.control(emu, "POST", "/_emulator/redirects/clear")
        self.assertEqual(got, {"redirects": []})
        self.assertEqual(self.req(emu, "GET", "/old/stock.csv").status, 404)  # cleared too
        self.control(emu, "POST", "/_emulator/redirects",
                     {"path": "/old/stock.csv", "location": "/feeds/stock.csv", "status": 301})


class ScaleTest(Base):
    N = 30000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu = cls.start(scale=(["--generate", str(cls.N), "--paging", "cursor", "--max-page-size", "1000"],
                                   False))["scale"]

    def test_generated_items_and_a_full_walk(self):
        emu = self.emu
        self.assertEqual(self.control(emu, "GET", "/_emulator/state")["items"], self.N)
        self.assertEqual(self.control(emu, "GET", "/_emulator/items?sku=SKU-0000001"),
                         {"sku": "SKU-0000001", "quantity": 1, "location": "east", "updated_at": T0})
        self.assertEqual(self.control(emu, "GET", "/_emulator/items?sku=SKU-0001000")["quantity"], 0)
        self.assertEqual(self.control(emu, "GET", "/_emulator/items?sku=SKU-0030000")["location"], "west")
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        count, cursor, pages, last = 0, None, 0, ""
        while True:
            conn.request("GET", "/api/inventory?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            body = json.loads(conn.getresponse().read())
            skus = [i["sku"] for i in body["items"]]
            self.assertEqual(skus, sorted(skus))
            self.assertGreater(skus[0], last)
            last = skus[-1]
            count += len(skus)
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        conn.close()
        self.assertEqual((count, pages, last), (self.N, 30, "SKU-0030000"))

        # A few recent changes: the updated_since index finds them without a scan.
        self.control(emu, "POST", "/_emulator/clock", {"advance": 30})
        out = self.control(emu, "POST", "/_emulator/items", {"items": [
            {"sku": "SKU-0020000", "quantity": 5}, {"sku": "SKU-0000007", "quantity": 8},
            {"sku": "SKU-0000009", "quantity": 9}]})  # SKU-0000009 already had 9: unchanged
        self.assertEqual((out["changed"], out["unchanged"]), (2, 1))
        r = self.req(emu, "GET", "/api/inventory?limit=1000&updated_since=2026-11-26T10:00:30Z").json()
        self.assertEqual([(i["sku"], i["stock"]["available"]) for i in r["items"]],
                         [("SKU-0000007", 8), ("SKU-0020000", 5)])
        self.assertIsNone(r["next_cursor"])
        # A bulk replace of every item (the rebuild path) keeps the orderings right.
        self.control(emu, "POST", "/_emulator/clock", {"advance": 1})
        items = [{"sku": f"SKU-{i:07d}", "quantity": i % 1000 + (1 if i % 3 == 0 else 0)} for i in range(1, 12001)]
        out = self.control(emu, "POST", "/_emulator/items", {"items": items, "replace": True})
        self.assertEqual((out["deleted"], out["changed"], out["items"]), (self.N - 12000, 4000 + 1, 12000))
        r = self.req(emu, "GET", "/api/inventory?limit=1000&updated_since=2026-11-26T10:00:31Z").json()
        self.assertEqual([i["sku"] for i in r["items"]][:3], ["SKU-0000003", "SKU-0000006", "SKU-0000007"])
        self.assertEqual(len(r["items"]), 1000)


# ---- start-up checks ------------------------------------------------------------------------------
class StartupTest(unittest.TestCase):
    def test_contradictory_options_are_refused(self):
        # In this process (argument checks come before the server is made): exit status 2.
        import importlib.util
        import contextlib
        import io
        spec = importlib.util.spec_from_file_location("inventory_source", EMULATOR)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for args in (["--paging", "cursor", "--bare-array"], ["--paging", "page", "--snapshot-paging"],
                     ["--sku-field", "item", "--quantity-field", "item.qty"], ["--sku-field", "a..b"],
                     ["--tls-cert", "x.pem"], ["--basic-user", "u"], ["--auth-feeds"],
                     ["--paging", "offset", "--offset-param", "limit"], ["--clock", "now"],
                     ["--bearer-token-file", os.devnull]):
            err = io.StringIO()
            with self.assertRaises(SystemExit) as cm, contextlib.redirect_stderr(err):
                mod.main(["--port", "0", *args])
            self.assertNotEqual(cm.exception.code, 0, args)
            self.assertTrue(err.getvalue() or isinstance(cm.exception.code, str), args)


def main():
    lib.require_tools("openssl", "bash")
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
