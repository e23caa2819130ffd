#!/usr/bin/env python3
"""Emulator of the Magento 2 / Adobe Commerce REST API subset (Multi-Source Inventory) that
PackageBee's Magento connector uses, for tests.

Written from developer.adobe.com/commerce/webapi (REST reference, "Search using REST",
"Retrieve filtered responses", "API security: input limiting", "Manage source items") and the
behaviour of Magento's own classes (named next to each rule), independently of the connector.
Python standard library only: http.server (threaded) and ssl.

    python3 magento_emulator.py --cert server.pem --key server.key --port 0 --port-file port.txt \
        [--generate N] [--configurable N] [--token TOKEN] [--source CODE] [--request-log log.jsonl]

API (under /rest/{store_code}/V1, store_code one of default, all; Authorization: Bearer TOKEN):
    GET  /products                     searchCriteria[pageSize|currentPage|filter_groups|sortOrders],
                                       fields=items[...],total_count
    GET  /inventory/sources/{code}
    POST /inventory/source-items       {"sourceItems": [{"sku","source_code","quantity","status"}]}

Control (no token; never subject to faults):
    GET  /_emulator/health
    GET|POST /_emulator/faults        see FAULT_DEFAULTS; also input_limit (0: off), max_page_size
    GET  /_emulator/state             products, source items, orphans (source items of no product)
    POST /_emulator/products          {"products": [{"sku","type_id"}]}: products added "in the admin"
    POST /_emulator/reject            {"skus": [...]}: saving these fails (as an extension's plugin may)
    GET  /_emulator/requests          the request log kept in memory
"""

import argparse
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tls_server import TLSServer  # noqa: E402  (tests/emulators/tls_server.py)

STORE_CODES = ("default", "all")
# Magento\Framework\Webapi\Validator\IOLimit: documented defaults when input limits are on.
DEFAULT_INPUT_LIMIT = 20
DEFAULT_MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 20
SOURCE_ITEM_TYPE = "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface"
MAX_BODY = 64 * 1024 * 1024
# Product types whose stock is their children's (Magento\CatalogInventory isQty() false).
NO_QTY_TYPES = ("configurable", "bundle", "grouped")

FAULT_DEFAULTS = {
    "latency_ms": 0,
    "fail_next": 0,          # the next N API requests answer fail_status (with fail_retry_after)
    "fail_status": 503,
    "fail_retry_after": 0,
    "drop_next": 0,          # the next N API requests: connection closed before any answer
    "rate_limit_next": 0,    # the next N API requests: 429 with Retry-After: retry_after
    "retry_after": 1,
    "input_limit": 0,        # Web API input limits on with this Input List Limit (0: off)
    "max_page_size": 0,      # with input limits: the Maximum Page Size (0: the default 300)
}


class MagentoError(Exception):
    """An error as Magento\\Framework\\Webapi\\ErrorProcessor renders it."""

    def __init__(self, status, message, parameters=None, errors=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors
        self.headers = headers or {}

    def body(self):
        out = {"message": self.message}
        if self.errors:
            out["errors"] = self.errors
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def nested(query):
    """searchCriteria[a][0][b]=v pairs -> nested dicts (lists stay dicts keyed by index)."""
    root = {}
    for key, value in query:
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        node = root
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return root


def parse_fields(spec):
    """fields=items[sku,id],total_count -> {"items": {"sku","id"}, "total_count": None}."""
    out, name, depth, inner = {}, "", 0, ""
    for c in spec + ",":
        if c == "[":
            depth += 1
            if depth == 1:
                continue
        elif c == "]":
            depth -= 1
            if depth == 0:
                continue
        if depth == 0 and c == ",":
            if name:
                out[name.strip()] = set(x.strip() for x in inner.split(",")) if inner else None
            name, inner = "", ""
        elif depth == 0:
            name += c
        else:
            inner += c
    return out


class Store:
    def __init__(self, token, sources):
        self.lock = threading.Lock()
        self.token = token
        self.sources = set(sources)
        self.products = {}      # sku -> {"id", "sku", "type_id", "name"}
        self.next_id = 1
        self.source_items = {}  # (sku, source) -> {"quantity", "status"}
        self.rejected = set()
        self._sorted = None  # the products by id, until the next add (listing 100k is slow)

    def by_id(self):
        if self._sorted is None:
            self._sorted = sorted(self.products.values(), key=lambda p: p["id"])
        return self._sorted

    def add(self, sku, type_id="simple"):
        if sku in self.products:
            return
        self._sorted = None
        self.products[sku] = {"id": self.next_id, "sku": sku, "type_id": type_id, "name": sku}
        self.next_id += 1

    def orphans(self):
        return sorted(sku for (sku, _src) in self.source_items if sku not in self.products)


class Emulator:
    def __init__(self, store, faults, request_log_path):
        self.store = store
        self.faults = dict(FAULT_DEFAULTS)
        self.faults.update(faults)
        self.log = []
        self.log_lock = threading.Lock()
        self.log_path = request_log_path
        self.seq = 0

    def take_fault(self, name):
        with self.log_lock:
            if self.faults.get(name, 0) > 0:
                self.faults[name] -= 1
                return True
            return False

    def record(self, entry):
        line = json.dumps(entry)
        with self.log_lock:
            self.log.append(entry)
            if self.log_path:
                with open(self.log_path, "a") as f:
                    f.write(line + "\n")

    def next_seq(self):
        with self.log_lock:
            self.seq += 1
            return self.seq

    def authenticate(self, headers, resource):
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:].strip() != self.store.token:
            # An unknown token leaves the caller anonymous; the ACL check then fails
            # (Magento\Webapi\Controller\Rest\RequestValidator::checkPermissions -> 401).
            raise MagentoError(401, "The consumer isn't authorized to access %resources.",
                               {"resources": resource})

    def dispatch(self, method, store_code, route, query, body, entry, headers):
        if store_code not in STORE_CODES:
            raise MagentoError(400, "Requested store is not found")
        if method == "GET" and route == "/products":
            self.authenticate(headers, "Magento_Catalog::products")
            return self.list_products(query, entry)
        m = re.fullmatch(r"/inventory/sources/([^/]+)", route)
        if method == "GET" and m:
            self.authenticate(headers, "Magento_InventoryApi::source")
            code = urllib.parse.unquote(m.group(1))
            if code not in self.store.sources:
                raise MagentoError(404, "Source with code \"%value\" does not exist.", {"value": code})
            return {"source_code": code, "name": code, "enabled": True}
        if method == "POST" and route == "/inventory/source-items":
            self.authenticate(headers, "Magento_InventoryApi::source_item")
            return self.save_source_items(body, entry)
        raise MagentoError(404, "Request does not match any route.")

    def limits_on(self):
        return self.faults.get("input_limit", 0) > 0

    def list_products(self, query, entry):
        crit = nested(query).get("searchCriteria", {})
        try:
            page_size = int(crit.get("pageSize", 0)) or None
            page = int(crit.get("currentPage", 1))
        except ValueError:
            raise MagentoError(400, "Invalid search criteria")
        if self.limits_on():
            cap = self.faults.get("max_page_size") or DEFAULT_MAX_PAGE_SIZE
            if page_size is None:
                page_size = DEFAULT_PAGE_SIZE  # DefaultPageSizeSetter
            if page_size > cap:  # Magento\Framework\Webapi\Validator\SearchCriteriaValidator
                raise MagentoError(400, "Maximum SearchCriteria pageSize is %max", {"max": cap})
        with self.store.lock:
            items = self.store.by_id()
        for group in crit.get("filter_groups", {}).values():
            keep = []
            for f in group.get("filters", {}).values():
                field, value = f.get("field"), f.get("value", "")
                cond = f.get("condition_type", "eq")
                if cond == "in":
                    wanted = set(value.split(","))
                    keep.extend(p for p in items if str(p.get(field)) in wanted)
                elif cond == "eq":
                    keep.extend(p for p in items if str(p.get(field)) == value)
                else:
                    raise MagentoError(400, "Invalid condition type")
            items = sorted({p["id"]: p for p in keep}.values(), key=lambda p: p["id"])
        total = len(items)
        if page_size:
            pages = max(1, -(-total // page_size))
            # Magento's collection clamps the page to the last one: asking past the end repeats
            # the last page (Magento\Framework\Data\Collection::getCurPage).
            page = min(max(page, 1), pages)
            items = items[(page - 1) * page_size: page * page_size]
        entry["page"] = page
        entry["page_size"] = page_size
        entry["filtered"] = bool(crit.get("filter_groups"))
        entry["count"] = len(items)
        out = {"items": [dict(p) for p in items], "search_criteria": crit, "total_count": total}
        fields = query_value(query, "fields")
        if fields:
            spec = parse_fields(fields)
            filtered = {}
            for name, sub in spec.items():
                if name not in out:
                    continue
                if name == "items" and sub:
                    filtered[name] = [{k: v for k, v in p.items() if k in sub} for p in out[name]]
                else:
                    filtered[name] = out[name]
            out = filtered
        return out

    def save_source_items(self, body, entry):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise MagentoError(400, "Decoding error: \n%1", ["Syntax error"])
        items = data.get("sourceItems") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise MagentoError(400, "\"%fieldName\" is required. Enter and try again.",
                               {"fieldName": "sourceItems"})
        entry["items"] = len(items)
        entry["skus"] = [i.get("sku") for i in items if isinstance(i, dict)]
        limit = self.faults.get("input_limit", 0)
        if limit and len(items) > limit:  # Magento\Framework\Webapi\Validator\EntityArrayValidator
            raise MagentoError(400, "Maximum items of type \"%type\" is %max",
                               {"type": SOURCE_ITEM_TYPE, "max": limit})
        if not items:  # SourceItemsSave: empty input
            raise MagentoError(400, "Input data is empty")
        errors = []
        for item in items:
            errors.extend(self.validate(item))
        if errors:  # ValidationException, rendered with its errors
            raise MagentoError(400, "Validation Failed", errors=errors)
        with self.store.lock:
            if any(i["source_code"] not in self.store.sources for i in items):
                # The foreign key on inventory_source_item.source_code fails the whole save.
                raise MagentoError(400, "Could not save Source Item")
            bad = [i["sku"] for i in items if i["sku"] in self.store.rejected]
            if bad:
                raise MagentoError(400, "Validation Failed", errors=[
                    {"message": "Stock of product \"%1\" is managed by an external system",
                     "parameters": [bad[0]]}])
            # All or nothing: one transaction (SaveMultiple). A SKU of no product is saved too:
            # MSI does not check that the product exists.
            for i in items:
                self.store.source_items[(i["sku"], i["source_code"])] = {
                    "quantity": float(i["quantity"]), "status": int(i["status"])}
        entry["applied"] = True
        return []

    def validate(self, item):
        """Magento\\Inventory\\Model\\SourceItem\\Validator\\*: one error per broken rule."""
        errors = []
        if not isinstance(item, dict):
            return [{"message": "Invalid source item"}]
        if not str(item.get("sku", "")).strip():
            errors.append({"message": "\"%field\" can not be empty.", "parameters": {"field": "sku"}})
        if not str(item.get("source_code", "")).strip():
            errors.append({"message": "\"%field\" can not be empty.",
                           "parameters": {"field": "source_code"}})
        q = item.get("quantity")
        if isinstance(q, bool) or not isinstance(q, (int, float)):
            errors.append({"message": "\"%field\" should be numeric.",
                           "parameters": {"field": "quantity"}})
        elif q < 0:  # stricter than MSI (which takes backorders' negatives): a refusal for tests
            errors.append({"message": "\"%field\" can not be negative.",
                           "parameters": {"field": "quantity"}})
        s = item.get("status")
        if s not in (0, 1):
            errors.append({"message": "\"%field\" should be numeric.", "parameters": {"field": "status"}})
        elif isinstance(q, (int, float)) and q <= 0 and s == 1:  # StatusConsistencyValidator
            errors.append({"message": "Product cannot have \"%status\" \"%in_stock\" while product "
                                      "\"%quantity\" equals or below zero",
                           "parameters": {"status": "status", "in_stock": "In Stock",
                                          "quantity": "quantity"}})
        return errors

    def control(self, method, path, body):
        data = json.loads(body or b"{}") if method == "POST" else {}
        if path == "/_emulator/health":
            return 200, {"ok": True}
        if path == "/_emulator/faults":
            if method == "POST":
                with self.log_lock:
                    if data.pop("reset", False):
                        self.faults = dict(FAULT_DEFAULTS)
                    for k, v in data.items():
                        if k not in FAULT_DEFAULTS:
                            return 400, {"error": "unknown fault " + k}
                        self.faults[k] = v
            return 200, self.faults
        if path == "/_emulator/state":
            with self.store.lock:
                items = [{"sku": s, "source_code": c, **v} for (s, c), v in self.store.source_items.items()]
                return 200, {"products": list(self.store.products.values()), "source_items": items,
                             "orphans": self.store.orphans()}
        if path == "/_emulator/products" and method == "POST":
            with self.store.lock:
                for p in data.get("products", []):
                    self.store.add(p["sku"], p.get("type_id", "simple"))
            return 200, {"ok": True}
        if path == "/_emulator/reject" and method == "POST":
            with self.store.lock:
                self.store.rejected = set(data.get("skus", []))
            return 200, {"ok": True}
        if path == "/_emulator/requests":
            with self.log_lock:
                return 200, list(self.log)
        return 404, {"error": "no such control endpoint"}


def query_value(query, name):
    for k, v in query:
        if k == name:
            return v
    return None


def make_handler(emu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        timeout = 30

        def version_string(self):
            return "nginx"

        def log_message(self, fmt, *args):
            pass

        def setup(self):
            if isinstance(self.request, ssl.SSLSocket):
                self.request.settimeout(self.timeout)
                self.request.do_handshake()
            super().setup()

        def send(self, status, body, headers=None, raw=None, content_type="application/json"):
            data = raw if raw is not None else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise MagentoError(413, "Request body too large")
            return self.rfile.read(n) if n else b""

        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            body = self.read_body()
            if path.startswith("/_emulator/"):
                status, out = emu.control(self.command, path, body)
                return self.send(status, out)
            entry = {"seq": emu.next_seq(), "ts": now_iso(), "method": self.command, "path": path,
                     "authorization": "bearer" if self.headers.get("Authorization", "").startswith(
                         "Bearer ") else "none"}
            latency = emu.faults.get("latency_ms", 0)
            if latency > 0:
                time.sleep(latency / 1000.0)
            if emu.take_fault("drop_next"):
                entry["fault"] = "drop"
                emu.record(entry)
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.close_connection = True
                return
            if emu.take_fault("fail_next"):
                status = int(emu.faults.get("fail_status", 503))
                entry.update(fault=f"http_{status}", status=status)
                emu.record(entry)
                headers = {}
                if emu.faults.get("fail_retry_after"):
                    headers["Retry-After"] = str(int(emu.faults["fail_retry_after"]))
                html = f"<html><body><h1>{status}</h1></body></html>".encode()
                return self.send(status, None, headers=headers, raw=html, content_type="text/html")
            if emu.take_fault("rate_limit_next"):
                entry.update(fault="http_429", status=429)
                emu.record(entry)
                return self.send(429, {"message": "Too Many Requests"},
                                 headers={"Retry-After": str(int(emu.faults.get("retry_after", 1)))})
            m = re.fullmatch(r"/rest/([^/]+)/V1(/.*)", path)
            try:
                if not m:
                    raise MagentoError(404, "Request does not match any route.")
                status, out = 200, emu.dispatch(self.command, m.group(1), m.group(2), query, body,
                                                entry, self.headers)
            except MagentoError as e:
                status, out = e.status, e.body()
            entry["status"] = status
            if status >= 400:
                entry["error"] = out.get("message")
            emu.record(entry)
            return self.send(status, out)

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description="Magento 2 MSI REST emulator (tests only)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--token", default="emulator-integration-token-0123456789")
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--generate", type=int, default=0, metavar="N", help="N simple products SKU-000001...")
    ap.add_argument("--configurable", type=int, default=0, metavar="N", help="N configurable products CFG-1...")
    ap.add_argument("--request-log")
    for name in FAULT_DEFAULTS:
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=None)
    a = ap.parse_args(argv)
    store = Store(a.token, a.source or ["default"])
    for i in range(1, a.generate + 1):
        store.add("SKU-%06d" % i)
    for i in range(1, a.configurable + 1):
        store.add("CFG-%d" % i, "configurable")
    faults = {k: getattr(a, k) for k in FAULT_DEFAULTS if getattr(a, k) is not None}
    context = None
    if a.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.cert, a.key)
    emu = Emulator(store, faults, a.request_log)
    server = TLSServer((a.host, a.port), make_handler(emu), context)
    port = server.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(a.port_file + ".tmp", a.port_file)
    print(f"magento emulator listening on {'https' if context else 'http'}://{a.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
