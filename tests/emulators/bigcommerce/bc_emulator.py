#!/usr/bin/env python3
"""Emulator of the BigCommerce REST v3 Inventory API subset PackageBee's BigCommerce connector
uses, for tests and benchmarks.

Written from BigCommerce's public documentation (github.com/bigcommerce/docs:
reference/inventory.v3.yml and docs/api-docs/getting-started/api-rate-limits.mdx), independently
of the connector. Python standard library only: http.server (threaded) and ssl.

    python3 bc_emulator.py --cert server.pem --key server.key --port 0 --port-file port.txt \
        [--store-hash abc123] [--token TOKEN] [--generate N] [--sku-format SKU-%06d] \
        [--quota 150] [--window-ms 30000] [--locations 1,2] [--request-log log.jsonl]

API (under /stores/{store_hash}/v3, header X-Auth-Token; a wrong or missing token: 401):
    PUT /inventory/adjustments/absolute   {"reason", "items": [{"location_id", "sku" | "variant_id"
                                          | "product_id", "quantity"}]}; 1..2000 items; all or
                                          nothing: any bad item (unknown SKU or id, unknown
                                          location, quantity not an integer in 0..2147483647)
                                          gives 422 application/problem+json {status, title,
                                          type, errors} naming no item index, nothing applied;
                                          else 200 {"transaction_id"}
    GET /inventory/items                  sku:in, variant_id:in, product_id:in, location_id:in;
                                          page (from 1), limit (1..1000, default 50; more: 422);
                                          {"data": [{identity, locations}], "meta": {"pagination":
                                          {total, count, per_page, current_page, total_pages,
                                          links}}}
Every API answer carries X-Rate-Limit-Requests-Quota/-Requests-Left/-Time-Reset-Ms/-Time-Window-Ms:
a fixed window of --window-ms starting at the first request after the last window ended, with
--quota requests in it; a request beyond the quota gets 429 with the same headers (Requests-Left
0) and is not processed.

Control (no credentials, no quota, never subject to faults):
    GET  /_emulator/health
    GET  /_emulator/state                 {"items": [{sku, product_id, variant_id, levels: {loc: q}}],
                                          "counters": {...}, "rate": {quota, window_ms}}
    GET|POST /_emulator/faults            see FAULT_DEFAULTS; {"reset": true} clears them first
    POST /_emulator/rate                  {"quota": N, "window_ms": M}: a new window starts
    POST /_emulator/items                 {"add": [{sku, product_id?, variant_id?}], "remove": [sku]}
    POST /_emulator/token                 {"token": "..."}: the token accepted from now on

Request log (--request-log FILE, JSON lines): one object per API request: seq, t (monotonic
seconds), method, path, query, status, fault, rate_left, and for adjustments the items received
as [sku, quantity] pairs (count only when over 2000). Never the token.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tls_server import TLSServer  # noqa: E402  (tests/emulators/tls_server.py)

MAX_ADJUST_ITEMS = 2000      # inventory.v3.yml: "Limit of 2000 items for payload length"
MAX_LIMIT = 1000             # inventory.v3.yml: GET /inventory/items "Limit of 1000 items"
DEFAULT_LIMIT = 50
MAX_QUANTITY = 2147483647    # an int32 column; the docs link "maximum inventory levels" only
MAX_BODY = 16 * 1024 * 1024
PROBLEM_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"

FAULT_DEFAULTS = {
    "latency_ms": 0,          # delay every API request
    "fail_next": 0,           # answer fail_status without processing
    "fail_status": 503,
    "retry_after": 0,         # seconds, sent with fail_next answers when not 0
    "shed_next": 0,           # 429 without rate-limit headers (the platform shedding load)
    "drop_next": 0,           # close the connection without answering (nothing applied)
    "drop_after_apply_next": 0,  # apply an adjustment, then close without answering
    "refuse_skus": [],        # these SKUs make an adjustment fail (422) as an invalid item
}


class Problem(Exception):
    def __init__(self, status, title, errors=None, headers=None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors or {}
        self.headers = headers or {}

    def body(self):
        return {"status": self.status, "title": self.title, "type": PROBLEM_TYPE, "errors": self.errors}


class Store:
    def __init__(self, store_hash, token, locations, quota, window_ms):
        self.lock = threading.RLock()
        self.store_hash = store_hash
        self.token = token
        self.locations = locations
        self.items = {}          # sku -> {sku, product_id, variant_id, levels: {loc: q}}
        self.by_variant = {}
        self.by_product = {}
        self.next_id = 1
        self.quota = quota
        self.window_ms = window_ms
        self.window_start = None
        self.used = 0
        self.counters = {"requests": 0, "rate_limited": 0, "shed": 0, "adjustments": 0,
                         "adjustments_refused": 0, "items_applied": 0, "unauthorized": 0,
                         "item_pages": 0}
        self.faults = dict(FAULT_DEFAULTS)
        self.seq = 0

    # ---- catalogue ----
    def add_item(self, sku, product_id=None, variant_id=None):
        if sku in self.items:
            raise ValueError("duplicate sku %s" % sku)
        pid = int(product_id) if product_id is not None else self.next_id
        vid = int(variant_id) if variant_id is not None else 1_000_000 + pid
        self.next_id = max(self.next_id, pid) + 1
        item = {"sku": sku, "product_id": pid, "variant_id": vid,
                "levels": {loc: 0 for loc in self.locations}}
        self.items[sku] = item
        self.by_variant[vid] = item
        self.by_product[pid] = item

    def remove_item(self, sku):
        item = self.items.pop(sku, None)
        if item:
            self.by_variant.pop(item["variant_id"], None)
            self.by_product.pop(item["product_id"], None)

    def sorted_items(self):
        return sorted(self.items.values(), key=lambda i: i["variant_id"])

    # ---- rate limit (per store, fixed window) ----
    def rate_take(self, now):
        """Counts one request; returns (allowed, headers)."""
        if self.window_start is None or now - self.window_start >= self.window_ms / 1000.0:
            self.window_start = now
            self.used = 0
        allowed = self.used < self.quota
        if allowed:
            self.used += 1
        reset_ms = max(0, int((self.window_start + self.window_ms / 1000.0 - now) * 1000))
        headers = {"X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
                   "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
                   "X-Rate-Limit-Requests-Quota": str(self.quota),
                   "X-Rate-Limit-Requests-Left": str(max(0, self.quota - self.used))}
        return allowed, headers

    # ---- API ----
    def identify(self, entry):
        if "sku" in entry:
            if not isinstance(entry["sku"], str):
                return None, "sku must be a string"
            return self.items.get(entry["sku"]), "sku %s" % entry["sku"]
        if "variant_id" in entry:
            return self.by_variant.get(entry["variant_id"]), "variant_id %s" % entry["variant_id"]
        if "product_id" in entry:
            return self.by_product.get(entry["product_id"]), "product_id %s" % entry["product_id"]
        return None, None

    def adjust_absolute(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise Problem(422, "Payload contains invalid fields", {"items": "items is required"})
        items = body["items"]
        if not items:
            raise Problem(422, "Payload contains invalid fields", {"items": "items must not be empty"})
        if len(items) > MAX_ADJUST_ITEMS:
            raise Problem(422, "Payload contains invalid fields",
                          {"items": "The number of items must not exceed %d" % MAX_ADJUST_ITEMS})
        changes, unknown, invalid = [], [], []
        refuse = set(self.faults.get("refuse_skus") or [])
        for e in items:
            if not isinstance(e, dict):
                invalid.append("an item is not an object")
                continue
            loc = e.get("location_id")
            q = e.get("quantity")
            item, name = self.identify(e)
            if name is None:
                invalid.append("one of sku, variant_id or product_id is required")
            elif not isinstance(loc, int) or isinstance(loc, bool) or loc not in self.locations:
                invalid.append("location_id %r does not exist" % (loc,))
            elif not isinstance(q, int) or isinstance(q, bool) or q < 0 or q > MAX_QUANTITY:
                invalid.append("%s: quantity %r is not valid" % (name, q))
            elif item is None:
                unknown.append(name)
            elif item["sku"] in refuse:
                invalid.append("%s: item is tracked by product, please update stock by product id" % name)
            else:
                changes.append((item, loc, q))
        if unknown:
            raise Problem(422, "Items with identity: [%s] not found" % ", ".join(unknown[:10]))
        if invalid:
            raise Problem(422, "[%s]" % "; ".join(invalid[:10]))
        for item, loc, q in changes:
            item["levels"][loc] = q
        self.counters["items_applied"] += len(changes)
        return {"transaction_id": str(uuid.uuid4())}

    def list_items(self, query):
        try:
            page = int(query.get("page", "1"))
            limit = int(query.get("limit", str(DEFAULT_LIMIT)))
        except ValueError:
            raise Problem(422, "page and limit must be integers")
        if page < 1 or limit < 1 or limit > MAX_LIMIT:
            raise Problem(422, "Invalid pagination", {"limit": "limit must be between 1 and %d" % MAX_LIMIT})
        items = self.sorted_items()

        def ids(name, conv):
            raw = query.get(name)
            return None if raw is None else set(conv(v) for v in raw.split(",") if v != "")
        skus = ids("sku:in", str)
        try:
            variants = ids("variant_id:in", int)
            products = ids("product_id:in", int)
            locations = ids("location_id:in", int)
        except ValueError:
            raise Problem(422, "Invalid filter")
        if skus is not None:
            items = [i for i in items if i["sku"] in skus]
        if variants is not None:
            items = [i for i in items if i["variant_id"] in variants]
        if products is not None:
            items = [i for i in items if i["product_id"] in products]
        total = len(items)
        pages = (total + limit - 1) // limit
        chunk = items[(page - 1) * limit: page * limit]
        data = []
        for i in chunk:
            locs = []
            for loc, q in sorted(i["levels"].items()):
                if locations is not None and loc not in locations:
                    continue
                locs.append({"location_id": loc, "location_code": "LOC-%d" % loc,
                             "location_name": "Location %d" % loc, "available_to_sell": q,
                             "total_inventory_onhand": q, "location_enabled": True,
                             "settings": {"safety_stock": 0, "is_in_stock": True,
                                          "warning_level": 0, "bin_picking_number": ""}})
            data.append({"identity": {"sku": i["sku"], "variant_id": i["variant_id"],
                                      "product_id": i["product_id"], "sku_id": None},
                         "locations": locs})

        def link(p):
            return "?limit=%d&page=%d" % (limit, p)
        links = {"current": link(page)}
        if page > 1:
            links["previous"] = link(page - 1)
        if page < pages:
            links["next"] = link(page + 1)
        self.counters["item_pages"] += 1
        return {"data": data, "meta": {"pagination": {"total": total, "count": len(data),
                                                      "per_page": limit, "current_page": page,
                                                      "total_pages": pages, "links": links}}}

    def take_fault(self, name):
        n = self.faults.get(name, 0)
        if n and n > 0:
            self.faults[name] = n - 1
            return True
        return False


class Emulator:
    def __init__(self, store, log_path):
        self.store = store
        self.log_path = log_path
        self.log_lock = threading.Lock()
        if log_path:
            open(log_path, "w").close()

    def record(self, entry):
        if not self.log_path:
            return
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def control(self, method, path, body):
        s = self.store
        with s.lock:
            if path == "/_emulator/health":
                return 200, {"ok": True}
            if path == "/_emulator/state":
                return 200, {"items": [{"sku": i["sku"], "product_id": i["product_id"],
                                        "variant_id": i["variant_id"],
                                        "levels": {str(k): v for k, v in i["levels"].items()}}
                                       for i in s.sorted_items()],
                             "counters": dict(s.counters),
                             "rate": {"quota": s.quota, "window_ms": s.window_ms}}
            req = json.loads(body or b"{}")
            if path == "/_emulator/faults":
                if method == "POST":
                    if req.pop("reset", False):
                        s.faults = dict(FAULT_DEFAULTS)
                    for k, v in req.items():
                        if k not in FAULT_DEFAULTS:
                            return 400, {"error": "unknown fault %s" % k}
                        s.faults[k] = v
                return 200, s.faults
            if path == "/_emulator/rate" and method == "POST":
                s.quota = int(req.get("quota", s.quota))
                s.window_ms = int(req.get("window_ms", s.window_ms))
                s.window_start, s.used = None, 0
                return 200, {"quota": s.quota, "window_ms": s.window_ms}
            if path == "/_emulator/items" and method == "POST":
                for a in req.get("add", []):
                    s.add_item(a["sku"], a.get("product_id"), a.get("variant_id"))
                for sku in req.get("remove", []):
                    s.remove_item(sku)
                return 200, {"items": len(s.items)}
            if path == "/_emulator/token" and method == "POST":
                s.token = req["token"]
                return 200, {"ok": True}
        return 404, {"error": "no such emulator endpoint"}

    def api(self, method, path, query, raw, headers, entry):
        """Returns (status, body, extra headers, content type); raises Problem."""
        s = self.store
        prefix = "/stores/%s/v3" % s.store_hash
        if not path.startswith(prefix + "/"):
            raise Problem(404, "Not found: no store at this address")
        route = path[len(prefix):]
        with s.lock:
            s.counters["requests"] += 1
            allowed, rate = s.rate_take(time.monotonic())
            entry["rate_left"] = int(rate["X-Rate-Limit-Requests-Left"])
            if not allowed:
                s.counters["rate_limited"] += 1
                raise Problem(429, "Too many requests", headers=rate)
            if headers.get("X-Auth-Token") != s.token:
                s.counters["unauthorized"] += 1
                raise Problem(401, "You must be authenticated to access this resource",
                              headers=rate)
            if route == "/inventory/adjustments/absolute" and method == "PUT":
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise Problem(400, "The request body is not valid JSON", headers=rate)
                items = body.get("items") if isinstance(body, dict) else None
                if isinstance(items, list):
                    if len(items) <= MAX_ADJUST_ITEMS:
                        entry["items"] = [[i.get("sku"), i.get("quantity")] for i in items
                                          if isinstance(i, dict)]
                    entry["count"] = len(items)
                    entry["reason"] = body.get("reason")
                s.counters["adjustments"] += 1
                try:
                    out = s.adjust_absolute(body)
                except Problem as p:
                    s.counters["adjustments_refused"] += 1
                    p.headers = rate
                    raise
                return 200, out, rate
            if route == "/inventory/items" and method == "GET":
                try:
                    return 200, s.list_items(query), rate
                except Problem as p:
                    p.headers = rate
                    raise
        raise Problem(404, "Route not found", headers=rate)


def make_handler(emu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        timeout = 30

        def version_string(self):
            return "bigcommerce-emulator"

        def log_message(self, fmt, *args):
            pass

        def setup(self):
            if isinstance(self.request, ssl.SSLSocket):
                self.request.settimeout(self.timeout)
                self.request.do_handshake()
            super().setup()

        def send(self, status, body, headers=None, content_type="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def drop(self):
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise Problem(413, "Request entity too large")
            return self.rfile.read(n) if n else b""

        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            s = emu.store
            if path.startswith("/_emulator/"):
                return self.send(*emu.control(self.command, path, self.read_body()))
            entry = {"seq": 0, "t": time.monotonic(), "method": self.command, "path": path,
                     "query": query}
            with s.lock:
                s.seq += 1
                entry["seq"] = s.seq
                latency = s.faults.get("latency_ms", 0)
                drop = s.take_fault("drop_next")
                fail = s.take_fault("fail_next")
                shed = not fail and s.take_fault("shed_next")
            try:
                raw = self.read_body()
            except Problem as p:
                entry["status"] = p.status
                emu.record(entry)
                self.close_connection = True
                return self.send(p.status, p.body(), content_type="application/problem+json")
            if latency:
                time.sleep(latency / 1000.0)
            if drop:
                entry["fault"] = "drop"
                emu.record(entry)
                return self.drop()
            if fail:
                status = int(s.faults.get("fail_status", 503))
                entry.update(fault="http_%d" % status, status=status)
                emu.record(entry)
                extra = {"Retry-After": str(s.faults["retry_after"])} if s.faults.get("retry_after") else {}
                return self.send(status, b"<html><body>Service unavailable</body></html>", extra,
                                 content_type="text/html")
            if shed:
                with s.lock:
                    s.counters["shed"] += 1
                entry.update(fault="shed_429", status=429)
                emu.record(entry)
                return self.send(429, {"status": 429, "title": "Too many requests"})
            try:
                status, out, headers = emu.api(self.command, path, query, raw, self.headers, entry)
                ctype = "application/json"
            except Problem as p:
                status, out, headers = p.status, p.body(), p.headers
                ctype = "application/problem+json"
                entry["title"] = p.title
            entry["status"] = status
            with s.lock:
                dropped = status == 200 and self.command == "PUT" and s.take_fault("drop_after_apply_next")
            if dropped:
                entry["fault"] = "drop_after_apply"
                emu.record(entry)
                return self.drop()
            emu.record(entry)
            return self.send(status, out, headers, content_type=ctype)

        def do_GET(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description="BigCommerce Inventory API emulator (tests only)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--store-hash", default="abc123")
    ap.add_argument("--token", default="bc_emulator_token")
    ap.add_argument("--generate", type=int, default=0, metavar="N")
    ap.add_argument("--sku-format", default="SKU-%06d")
    ap.add_argument("--locations", default="1")
    ap.add_argument("--quota", type=int, default=150, help="requests per window (Standard plan: 150)")
    ap.add_argument("--window-ms", type=int, default=30000)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--request-log")
    a = ap.parse_args(argv)
    locations = [int(x) for x in a.locations.split(",")]
    store = Store(a.store_hash, a.token, locations, a.quota, a.window_ms)
    store.faults["latency_ms"] = a.latency_ms
    for n in range(1, a.generate + 1):
        store.add_item(a.sku_format % n, product_id=n)
    context = None
    if a.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.cert, a.key)
    server = TLSServer((a.host, a.port), make_handler(Emulator(store, a.request_log)), context)
    port = server.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    print("bigcommerce emulator listening on %s://%s:%d" % ("https" if context else "http", a.host, port),
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
