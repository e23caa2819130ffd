#!/usr/bin/env python3
"""Emulator of the WooCommerce REST API v3 subset PackageBee's WooCommerce connector uses, for tests.

Written from developer.woocommerce.com / woocommerce.github.io/woocommerce-rest-api-docs and the
behaviour of WooCommerce's REST controllers (sources cited next to each rule), independently of the
connector. Python standard library only: http.server (threaded) and ssl.

    python3 woo_emulator.py --cert server.pem --key server.key --port 0 --port-file port.txt \
        --seed catalogue.json [--generate-simple N] [--generate-variable N:V] [--request-log log.jsonl]

API (all under /wp-json/wc/v3, HTTPS, consumer key/secret):
    GET  /products                     per_page (1..100, default 10), page, sku=A,B,C, type, include,
                                       orderby=id|date, order=asc|desc; X-WP-Total, X-WP-TotalPages, Link
    GET  /products/{id}
    PUT|POST /products/{id}            single update
    POST /products/batch               {"create": [...], "update": [...], "delete": [...]}
    GET  /products/{id}/variations     paged like /products
    GET  /products/{id}/variations/{vid}
    PUT|POST /products/{id}/variations/{vid}
    POST /products/{id}/variations/batch

Control (no credentials; never subject to faults):
    GET  /_emulator/health
    GET|POST /_emulator/faults        see FAULTS
    GET  /_emulator/state             products and variations with their stock
    POST /_emulator/stock             {"id": N, "stock_quantity": Q}: an edit made "in the store"
    GET  /_emulator/requests          the request log kept in memory

Request log (--request-log FILE, JSON lines; also GET /_emulator/requests): one object per API
request: method, path, query (credentials removed), auth method, status, fault, and for batch and
single updates every item as received with its outcome.

Seed (JSON):
    {"api_keys": [{"consumer_key": "ck_...", "consumer_secret": "cs_...", "permissions": "read_write"}],
     "products": [
       {"id": 10, "name": "Mug", "type": "simple", "sku": "MUG", "manage_stock": true, "stock_quantity": 4},
       {"id": 20, "name": "Shirt", "type": "variable", "sku": "SHIRT",
        "variations": [{"id": 21, "sku": "SHIRT-S", "manage_stock": true, "stock_quantity": 2}]}]}
Seed (CSV, header required): id,parent_id,type,sku,name,manage_stock,stock_quantity
    (rows with a parent_id are variations of that product)
"""

import argparse
import base64
import csv
import hmac
import json
import math
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

PREFIX = "/wp-json/wc/v3"
# WooCommerce's batch limit (WC_REST_Controller::check_batch_limit, filter
# woocommerce_rest_batch_items_limit, default 100: create + update + delete together).
BATCH_LIMIT = 100
# WordPress core caps per_page at 100 for collections (developer.wordpress.org REST API
# "Pagination"; WooCommerce's collection params inherit it).
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
MAX_BODY = 16 * 1024 * 1024

DEFAULT_KEY = {"consumer_key": "ck_emulator", "consumer_secret": "cs_emulator", "permissions": "read_write"}

FAULT_DEFAULTS = {
    "latency_ms": 0,
    "fail_next": 0,
    "fail_status": 503,
    "fail_retry_after": 0,
    "drop_next": 0,
    "drop_after_apply_next": 0,
    "malformed_next": 0,
    "rate_limit_next": 0,
    "retry_after": 2,
}
# Switches for API requests; counters count down per request. Order of checks:
#   drop_next              close the connection without answering (nothing applied)
#   fail_next              answer fail_status (default 503) without processing, with
#                          Retry-After: fail_retry_after (seconds) when that is not 0
#   rate_limit_next        answer 429 with Retry-After: retry_after (seconds, default 2)
#   drop_after_apply_next  process the request (updates apply), then close without answering
#   malformed_next         process the request, then answer with a truncated JSON body
#   latency_ms             delay every API request by this many milliseconds
FAULTS = tuple(FAULT_DEFAULTS)


class WooError(Exception):
    """A WP_Error: serialised as {"code", "message", "data": {"status", ...}}."""

    def __init__(self, code, message, status, extra=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self):
        data = {"status": self.status}
        data.update(self.extra)
        return {"code": self.code, "message": self.message, "data": data}


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


# ---- catalogue ------------------------------------------------------------------------------------
class Catalogue:
    def __init__(self):
        self.lock = threading.RLock()
        self.keys = {}  # consumer_key -> {consumer_secret, permissions}
        self.products = {}  # id -> product dict (type simple|variable|grouped|external)
        self.variations = {}  # id -> variation dict (parent_id)

    def add_key(self, k):
        perms = k.get("permissions", "read_write")
        if perms not in ("read", "write", "read_write"):
            raise ValueError(f"api key permissions must be read, write or read_write, not {perms}")
        self.keys[str(k["consumer_key"])] = {"consumer_secret": str(k["consumer_secret"]), "permissions": perms}

    @staticmethod
    def _stock(obj):
        manage = bool(obj.get("manage_stock", False))
        qty = obj.get("stock_quantity")
        obj["manage_stock"] = manage
        obj["stock_quantity"] = int(qty) if manage and qty is not None else None
        obj["stock_status"] = Catalogue.stock_status(obj)

    @staticmethod
    def stock_status(obj):
        if obj.get("manage_stock"):
            return "instock" if (obj.get("stock_quantity") or 0) > 0 else "outofstock"
        return obj.get("stock_status") or "instock"

    def add_product(self, p):
        pid = int(p["id"])
        if pid in self.products or pid in self.variations:
            raise ValueError(f"duplicate id {pid}")
        ptype = p.get("type", "simple")
        prod = {
            "id": pid,
            "name": p.get("name") or f"Product {pid}",
            "type": ptype,
            "status": p.get("status", "publish"),
            "sku": str(p.get("sku") or ""),
            "manage_stock": p.get("manage_stock", False),
            "stock_quantity": p.get("stock_quantity"),
            "stock_status": p.get("stock_status"),
            "date_created": p.get("date_created") or now_iso(),
            "date_modified": now_iso(),
            "parent_id": 0,
            "variations": [],
        }
        self._stock(prod)
        self.products[pid] = prod
        for v in p.get("variations", []):
            self.add_variation(pid, v)
        return prod

    def add_variation(self, parent_id, v):
        vid = int(v["id"])
        if vid in self.products or vid in self.variations:
            raise ValueError(f"duplicate id {vid}")
        parent = self.products.get(int(parent_id))
        if parent is None:
            raise ValueError(f"variation {vid}: no parent product {parent_id}")
        var = {
            "id": vid,
            "parent_id": parent["id"],
            "sku": str(v.get("sku") or ""),
            "status": v.get("status", "publish"),
            "manage_stock": v.get("manage_stock", False),
            "stock_quantity": v.get("stock_quantity"),
            "stock_status": v.get("stock_status"),
            "date_created": v.get("date_created") or now_iso(),
            "date_modified": now_iso(),
            "attributes": v.get("attributes", []),
        }
        self._stock(var)
        self.variations[vid] = var
        parent["variations"].append(vid)
        return var

    def load(self, path):
        if path.lower().endswith(".csv"):
            with open(path, newline="", encoding="utf-8") as f:
                rows = [r for r in csv.DictReader(f)]
            truthy = lambda s: str(s).strip().lower() in ("1", "true", "yes", "y")  # noqa: E731
            later = []
            for r in rows:
                entry = {
                    "id": int(r["id"]),
                    "sku": r.get("sku", ""),
                    "name": r.get("name") or None,
                    "type": r.get("type") or "simple",
                    "manage_stock": truthy(r.get("manage_stock", "")),
                    "stock_quantity": int(r["stock_quantity"]) if (r.get("stock_quantity") or "").strip() else None,
                }
                if (r.get("parent_id") or "").strip() not in ("", "0"):
                    later.append((int(r["parent_id"]), entry))
                else:
                    self.add_product(entry)
            for parent, entry in later:
                self.add_variation(parent, entry)
        else:
            with open(path, encoding="utf-8") as f:
                seed = json.load(f)
            for k in seed.get("api_keys", []):
                self.add_key(k)
            for p in seed.get("products", []):
                self.add_product(p)

    def generate(self, simple=0, variable=0, per_variable=0):
        base = 1000 + max([0, *self.products, *self.variations])
        for i in range(1, simple + 1):
            self.add_product({"id": base + i, "name": f"Simple {i}", "type": "simple",
                              "sku": f"S-{i:05d}", "manage_stock": True, "stock_quantity": i % 20})
        base += simple + 1
        for i in range(variable):
            pid = base + i * (per_variable + 1)
            self.add_product({"id": pid, "name": f"Variable {i + 1}", "type": "variable", "sku": f"V-{i + 1:05d}",
                              "variations": [{"id": pid + j, "sku": f"V-{i + 1:05d}-{j}", "manage_stock": True,
                                              "stock_quantity": j} for j in range(1, per_variable + 1)]})

    # Response shapes: the fields of WooCommerce's product / variation schema a stock sync reads.
    def product_view(self, p):
        return {
            "id": p["id"], "name": p["name"], "slug": re.sub(r"[^a-z0-9]+", "-", p["name"].lower()).strip("-"),
            "type": p["type"], "status": p["status"], "sku": p["sku"], "parent_id": 0,
            "manage_stock": p["manage_stock"], "stock_quantity": p["stock_quantity"],
            "stock_status": p["stock_status"], "backorders": "no",
            "date_created": p["date_created"], "date_modified": p["date_modified"],
            "variations": list(p["variations"]),
        }

    def variation_view(self, v):
        return {
            "id": v["id"], "parent_id": v["parent_id"], "sku": v["sku"], "status": v["status"],
            "manage_stock": v["manage_stock"], "stock_quantity": v["stock_quantity"],
            "stock_status": v["stock_status"], "backorders": "no",
            "date_created": v["date_created"], "date_modified": v["date_modified"],
            "attributes": v["attributes"],
        }

    def snapshot(self):
        with self.lock:
            return {"products": [self.product_view(p) for p in sorted(self.products.values(), key=lambda x: x["id"])],
                    "variations": [self.variation_view(v) for v in sorted(self.variations.values(), key=lambda x: x["id"])]}


# ---- request handling ---------------------------------------------------------------------------
def parse_int_param(params, name, default, minimum=None, maximum=None):
    """WordPress REST argument validation for integer params (rest_validate_value_from_schema)."""
    if name not in params:
        return default
    raw = params[name]
    if not re.fullmatch(r"-?\d+", raw.strip() if raw else ""):
        raise invalid_param(name, f"{name} is not of type integer.")
    v = int(raw)
    if minimum is not None and maximum is not None and not (minimum <= v <= maximum):
        raise invalid_param(name, f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)")
    if minimum is not None and maximum is None and v < minimum:
        raise invalid_param(name, f"{name} must be greater than or equal to {minimum}")
    return v


def invalid_param(name, message):
    # WP_REST_Request::has_valid_params(): {"code": "rest_invalid_param", "message": "Invalid
    # parameter(s): per_page", "data": {"status": 400, "params": {"per_page": "..."}}}
    return WooError("rest_invalid_param", f"Invalid parameter(s): {name}", 400, {"params": {name: message}})


def to_stock_amount(value):
    """wc_stock_amount(): integers and numeric strings are accepted; anything else is rejected."""
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.0+)?\s*", value):
        return int(float(value))
    raise ValueError(repr(value))


def to_bool(value):
    """rest_sanitize_boolean()."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class Emulator:
    def __init__(self, catalogue, faults, request_log_path, tls):
        self.cat = catalogue
        self.faults = dict(FAULT_DEFAULTS)
        self.faults.update(faults)
        self.fault_lock = threading.Lock()
        self.requests = []
        self.log_lock = threading.Lock()
        self.log_file = open(request_log_path, "a", encoding="utf-8") if request_log_path else None
        self.tls = tls
        self.seq = 0

    def take_fault(self, name):
        with self.fault_lock:
            if self.faults.get(name, 0) > 0:
                self.faults[name] -= 1
                return True
            return False

    def record(self, entry):
        entry["t"] = time.time()  # when answered, to the microsecond ("ts" has whole seconds)
        with self.log_lock:
            self.requests.append(entry)
            if self.log_file:
                self.log_file.write(json.dumps(entry) + "\n")
                self.log_file.flush()

    def next_seq(self):
        with self.log_lock:
            self.seq += 1
            return self.seq

    # ---- authentication (WC_REST_Authentication) ----
    def authenticate(self, handler, query, entry):
        """Returns the key record, None (no user: the permission check then fails), or raises.

        Over HTTPS WooCommerce takes consumer_key/consumer_secret from the query string first, then
        from HTTP Basic auth. An unknown key authenticates nobody (no error of its own); a known key
        with the wrong secret is woocommerce_rest_authentication_error "Consumer secret is invalid."
        (401, with a WWW-Authenticate header). Over plain HTTP only OAuth 1.0a is accepted, which
        the emulator does not implement, so plain-HTTP requests are never authenticated."""
        if not self.tls:
            entry["auth"] = "none (plain HTTP: basic auth not accepted)"
            return None
        ck = query.get("consumer_key", "")
        cs = query.get("consumer_secret", "")
        method = "query" if ck and cs else None
        if not method:
            header = handler.headers.get("Authorization", "")
            if header.lower().startswith("basic "):
                try:
                    raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
                    ck, _, cs = raw.partition(":")
                    method = "basic" if ck and cs else None
                except (ValueError, UnicodeDecodeError):
                    method = None
        entry["auth"] = method or "none"
        if not method:
            return None
        key = self.cat.keys.get(ck)
        if key is None:
            entry["auth"] += " (unknown key)"
            return None
        if not hmac.compare_digest(key["consumer_secret"], cs):
            realm = "WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field."
            raise WooError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401,
                           headers={"WWW-Authenticate": f'Basic realm="{realm}"'})
        entry["key"] = ck
        return key

    @staticmethod
    def check_key_permissions(key, method):
        # WC_REST_Authentication::check_permissions()
        perms = key["permissions"]
        if method in ("GET", "HEAD") and perms not in ("read", "read_write"):
            raise WooError("woocommerce_rest_authentication_error",
                           "The API key provided does not have read permissions.", 401)
        if method in ("POST", "PUT", "PATCH", "DELETE") and perms not in ("write", "read_write"):
            raise WooError("woocommerce_rest_authentication_error",
                           "The API key provided does not have write permissions.", 401)

    # ---- routing ----
    ROUTES = [
        (re.compile(r"^/products/?$"), "products"),
        (re.compile(r"^/products/batch/?$"), "products_batch"),
        (re.compile(r"^/products/(?P<id>\d+)/?$"), "product"),
        (re.compile(r"^/products/(?P<pid>\d+)/variations/?$"), "variations"),
        (re.compile(r"^/products/(?P<pid>\d+)/variations/batch/?$"), "variations_batch"),
        (re.compile(r"^/products/(?P<pid>\d+)/variations/(?P<id>\d+)/?$"), "variation"),
    ]
    METHODS = {
        "products": {"GET"},
        "products_batch": {"POST", "PUT", "PATCH"},
        "product": {"GET", "POST", "PUT", "PATCH"},
        "variations": {"GET"},
        "variations_batch": {"POST", "PUT", "PATCH"},
        "variation": {"GET", "POST", "PUT", "PATCH"},
    }
    # Permission-check failures when no key authenticated (rest_authorization_required_code() is
    # 401 for a request with no user): the controllers' *_permissions_check messages.
    DENIED = {
        ("products", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        ("variations", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        ("product", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
        ("variation", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
        ("product", "WRITE"): ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
        ("variation", "WRITE"): ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
        ("products_batch", "WRITE"): ("woocommerce_rest_cannot_batch",
                                      "Sorry, you are not allowed to batch manipulate this resource."),
        ("variations_batch", "WRITE"): ("woocommerce_rest_cannot_batch",
                                        "Sorry, you are not allowed to batch manipulate this resource."),
    }

    def dispatch(self, handler, method, path, query, body_bytes, entry):
        """Returns (status, body, headers). Raises WooError."""
        if not path.startswith(PREFIX + "/") and path != PREFIX:
            raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)
        route = path[len(PREFIX):] or "/"
        for rx, name in self.ROUTES:
            m = rx.match(route)
            if m:
                break
        else:
            raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)
        if method not in self.METHODS[name]:
            raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)
        entry["route"] = name
        args = {k: int(v) for k, v in m.groupdict().items()}

        key = self.authenticate(handler, query, entry)
        if key is None:
            code, message = self.DENIED[(name, "GET" if method == "GET" else "WRITE")]
            raise WooError(code, message, 401)
        self.check_key_permissions(key, method)

        body = None
        if method != "GET":
            body = self.parse_json(body_bytes)

        if name == "products":
            return self.list_products(query)
        if name == "variations":
            return self.list_variations(args["pid"], query)
        if name == "product":
            if method == "GET":
                return 200, self.get_product(args["id"]), {}
            return self.update_single(body, args["id"], None, entry)
        if name == "variation":
            if method == "GET":
                return 200, self.get_variation(args["pid"], args["id"]), {}
            return self.update_single(body, args["id"], args["pid"], entry)
        if name == "products_batch":
            return 200, self.batch(body, None, entry), {}
        if name == "variations_batch":
            return 200, self.batch(body, args["pid"], entry), {}
        raise AssertionError(name)

    @staticmethod
    def parse_json(body_bytes):
        if not body_bytes:
            return {}
        try:
            body = json.loads(body_bytes.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            # WP_REST_Server: rest_invalid_json "Invalid JSON body passed." (400)
            raise WooError("rest_invalid_json", "Invalid JSON body passed.", 400,
                           {"json_error_code": 4, "json_error_message": str(e)})
        if not isinstance(body, dict):
            raise WooError("rest_invalid_json", "Invalid JSON body passed.", 400,
                           {"json_error_code": 4, "json_error_message": "The body is not a JSON object."})
        return body

    # ---- collections ----
    def paginate(self, items, query, route_path):
        per_page = parse_int_param(query, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        page = parse_int_param(query, "page", 1, 1)
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid_param("order", "order is not one of asc and desc.")
        orderby = query.get("orderby", "date")
        if orderby not in ("date", "id", "modified", "title", "slug", "include", "menu_order", "price", "popularity", "rating"):
            raise invalid_param("orderby", "orderby is not one of date, id, include, title, slug, modified, menu_order, price, popularity and rating.")
        # Items are created in id order, so date order is id order here; ties cannot happen.
        items = sorted(items, key=lambda x: x["id"], reverse=(order == "desc"))
        total = len(items)
        pages = math.ceil(total / per_page) if total else 0
        chunk = items[(page - 1) * per_page: page * per_page]
        # WC_REST_CRUD_Controller::get_items(): X-WP-Total, X-WP-TotalPages and Link rel=prev/next.
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        base_q = {k: v for k, v in query.items() if k not in ("consumer_key", "consumer_secret")}
        links = []

        def link(p, rel):
            q = dict(base_q)
            q["page"] = str(p)
            return f'<{route_path}?{urllib.parse.urlencode(q)}>; rel="{rel}"'

        if page > 1:
            links.append(link(min(page - 1, pages) if pages else 1, "prev"))
        if pages > page:
            links.append(link(page + 1, "next"))
        if links:
            headers["Link"] = ", ".join(links)
        return chunk, headers

    @staticmethod
    def csv_list(query, name):
        raw = query.get(name)
        if raw is None:
            return None
        return [s.strip() for s in raw.split(",") if s.strip()]

    def list_products(self, query):
        with self.cat.lock:
            items = list(self.cat.products.values())
            # products?sku=A,B,C: "Limit result set to products with specific SKU(s). Use commas to
            # separate." Only products are searched: variations have their own endpoint.
            skus = self.csv_list(query, "sku")
            if skus is not None:
                wanted = set(skus)
                items = [p for p in items if p["sku"] in wanted]
            ptype = query.get("type")
            if ptype is not None:
                if ptype not in ("simple", "grouped", "external", "variable"):
                    raise invalid_param("type", "type is not one of simple, grouped, external and variable.")
                items = [p for p in items if p["type"] == ptype]
            include = self.csv_list(query, "include")
            if include is not None:
                ids = {int(i) for i in include if i.isdigit()}
                items = [p for p in items if p["id"] in ids]
            status = query.get("status")
            if status is not None and status != "any":
                items = [p for p in items if p["status"] == status]
            chunk, headers = self.paginate(items, query, f"{PREFIX}/products")
            return 200, [self.cat.product_view(p) for p in chunk], headers

    def list_variations(self, pid, query):
        with self.cat.lock:
            # Emulator choice: WooCommerce queries variations by post_parent, so an unknown parent
            # gives an empty collection rather than an error.
            items = [v for v in self.cat.variations.values() if v["parent_id"] == pid]
            skus = self.csv_list(query, "sku")
            if skus is not None:
                wanted = set(skus)
                items = [v for v in items if v["sku"] in wanted]
            chunk, headers = self.paginate(items, query, f"{PREFIX}/products/{pid}/variations")
            return 200, [self.cat.variation_view(v) for v in chunk], headers

    def get_product(self, pid):
        with self.cat.lock:
            p = self.cat.products.get(pid)
            if p is None:
                raise WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            return self.cat.product_view(p)

    def get_variation(self, pid, vid):
        with self.cat.lock:
            v = self.cat.variations.get(vid)
            if v is None or v["parent_id"] != pid:
                raise WooError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
            return self.cat.variation_view(v)

    # ---- updates ----
    def apply_update(self, item, parent_id):
        """One update: WC_REST_CRUD_Controller::update_item(). Returns the view or raises WooError.

        Rules from the products/variations controllers' prepare_object_for_database():
        manage_stock is applied first; stock_quantity is set only when the object manages stock
        (already, or from this same request); an object that does not manage stock has its
        stock_quantity cleared. stock_status follows the quantity when stock is managed."""
        post_type = "product_variation" if parent_id is not None else "product"
        invalid = WooError(f"woocommerce_rest_{post_type}_invalid_id", "Invalid ID.", 400)
        raw_id = item.get("id")
        try:
            oid = int(raw_id)
        except (TypeError, ValueError):
            raise invalid
        if parent_id is None:
            # Emulator choice (stricter than WooCommerce, which resolves any product post id):
            # variations must be updated through their own endpoint.
            obj = self.cat.products.get(oid)
        else:
            obj = self.cat.variations.get(oid)
            if obj is not None and obj["parent_id"] != parent_id:
                obj = None
        if obj is None:
            raise invalid
        new = dict(obj)
        if "manage_stock" in item:
            new["manage_stock"] = to_bool(item["manage_stock"])
        if new["manage_stock"]:
            if "stock_quantity" in item and item["stock_quantity"] is not None:
                try:
                    new["stock_quantity"] = to_stock_amount(item["stock_quantity"])
                except ValueError:
                    raise WooError("rest_invalid_param", "Invalid parameter(s): stock_quantity", 400,
                                   {"params": {"stock_quantity": "stock_quantity is not of type integer."}})
            elif "inventory_delta" in item:
                try:
                    new["stock_quantity"] = (new["stock_quantity"] or 0) + to_stock_amount(item["inventory_delta"])
                except ValueError:
                    raise WooError("rest_invalid_param", "Invalid parameter(s): inventory_delta", 400,
                                   {"params": {"inventory_delta": "inventory_delta is not of type integer."}})
            if new["stock_quantity"] is None:
                new["stock_quantity"] = 0
        else:
            new["stock_quantity"] = None
        if "stock_status" in item and not new["manage_stock"]:
            if item["stock_status"] not in ("instock", "outofstock", "onbackorder"):
                raise WooError("rest_invalid_param", "Invalid parameter(s): stock_status", 400,
                               {"params": {"stock_status": "stock_status is not one of instock, outofstock and onbackorder."}})
            new["stock_status"] = item["stock_status"]
        if "sku" in item:
            new["sku"] = str(item["sku"])
        new["stock_status"] = Catalogue.stock_status(new)
        new["date_modified"] = now_iso()
        obj.update(new)
        return self.cat.variation_view(obj) if parent_id is not None else self.cat.product_view(obj)

    def update_single(self, body, oid, parent_id, entry):
        item = dict(body)
        item["id"] = oid
        entry["items"] = [{"op": "update", **item}]
        with self.cat.lock:
            try:
                view = self.apply_update(item, parent_id)
            except WooError as e:
                entry["items"][0]["outcome"] = e.code
                if e.code.endswith("_invalid_id"):
                    e.status = 404  # a single update of an unknown id is 404 (get_object fails first)
                raise
        entry["items"][0]["outcome"] = "updated"
        return 200, view, {}

    def batch(self, body, parent_id, entry):
        for op in ("create", "update", "delete"):
            if op in body and not isinstance(body[op], list):
                raise WooError("rest_invalid_param", f"Invalid parameter(s): {op}", 400,
                               {"params": {op: f"{op} is not of type array."}})
        total = sum(len(body.get(op) or []) for op in ("create", "update", "delete"))
        entry["batch"] = {op: len(body.get(op) or []) for op in ("create", "update", "delete")}
        entry["parent_id"] = parent_id
        if total > BATCH_LIMIT:
            # WC_REST_Controller::check_batch_limit()
            raise WooError("woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)
        post_type = "product_variation" if parent_id is not None else "product"
        response = {}
        items_log = []
        with self.cat.lock:
            for item in body.get("create") or []:
                # Creating products is outside what a stock sync does; each create is a per-item
                # error so a connector that tries it finds out.
                response.setdefault("create", []).append({"id": 0, "error": {
                    "code": f"woocommerce_rest_{post_type}_not_created",
                    "message": "The emulator does not create products.", "data": {"status": 501}}})
                items_log.append({"op": "create", "item": item, "outcome": "not_supported"})
            for item in body.get("update") or []:
                if not isinstance(item, dict):
                    item = {"id": item}
                try:
                    view = self.apply_update(item, parent_id)
                    response.setdefault("update", []).append(view)
                    items_log.append({"op": "update", **item, "outcome": "updated"})
                except WooError as e:
                    # WC_REST_Controller::batch_items(): a failed item is {"id", "error": {"code",
                    # "message", "data"}} inside the 200 response.
                    response.setdefault("update", []).append({"id": item.get("id"), "error": e.body()})
                    items_log.append({"op": "update", **item, "outcome": e.code})
            for oid in body.get("delete") or []:
                response.setdefault("delete", []).append({"id": oid, "error": {
                    "code": f"woocommerce_rest_{post_type}_not_deleted",
                    "message": "The emulator does not delete products.", "data": {"status": 501}}})
                items_log.append({"op": "delete", "id": oid, "outcome": "not_supported"})
        entry["items"] = items_log
        return response

    # ---- control endpoints ----
    def control(self, method, path, body_bytes):
        if path == "/_emulator/health":
            return 200, "ok"
        if path == "/_emulator/requests" and method == "GET":
            with self.log_lock:
                return 200, list(self.requests)
        if path == "/_emulator/state" and method == "GET":
            snap = self.cat.snapshot()
            with self.fault_lock:
                snap["faults"] = dict(self.faults)
            return 200, snap
        body = {}
        if method == "POST":
            try:
                body = json.loads(body_bytes.decode("utf-8")) if body_bytes else {}
            except ValueError as e:
                return 400, {"error": f"invalid JSON: {e}"}
        if path == "/_emulator/faults":
            if method == "POST":
                with self.fault_lock:
                    if body.get("reset"):
                        self.faults.update(FAULT_DEFAULTS)
                    for k, v in body.items():
                        if k == "reset":
                            continue
                        if k not in FAULTS:
                            return 400, {"error": f"unknown fault {k}", "known": list(FAULTS)}
                        self.faults[k] = float(v) if k == "retry_after" else int(v)
            with self.fault_lock:
                return 200, dict(self.faults)
        if path == "/_emulator/stock" and method == "POST":
            with self.cat.lock:
                oid = int(body["id"])
                obj = self.cat.products.get(oid) or self.cat.variations.get(oid)
                if obj is None:
                    return 404, {"error": "no such product or variation"}
                obj["manage_stock"] = True
                obj["stock_quantity"] = int(body["stock_quantity"])
                obj["stock_status"] = Catalogue.stock_status(obj)
                return 200, obj
        return 404, {"error": "no such emulator endpoint"}


def make_handler(emu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits
        # for the client's delayed ACK (~40 ms a response). Web servers in front of WordPress
        # (nginx, Apache) set TCP_NODELAY; so does this.
        disable_nagle_algorithm = True
        timeout = 30  # idle keep-alive connections are closed after this many seconds
        def version_string(self):
            return "nginx"  # what a WordPress host typically shows; nothing depends on it

        def log_message(self, fmt, *args):  # quiet: the request log is the record
            pass

        def setup(self):
            # TLS handshake here, in the handler's thread (see TLSServer.get_request).
            if isinstance(self.request, ssl.SSLSocket):
                self.request.settimeout(self.timeout)
                self.request.do_handshake()
            super().setup()

        def send(self, status, body, headers=None, raw=None, content_type=None):
            if raw is not None:
                data = raw
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            ctype = content_type or "application/json; charset=UTF-8"
            if isinstance(body, str) and raw is None:
                ctype = "text/plain; charset=UTF-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def read_body(self):
            length = self.headers.get("Content-Length")
            if length is None:
                return b""
            n = int(length)
            if n > MAX_BODY:
                raise WooError("rest_request_too_large", "Request body too large.", 413)
            return self.rfile.read(n)

        def drop(self):
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if path.startswith("/_emulator/"):
                body = self.read_body()
                status, out = emu.control(self.command, path, body)
                return self.send(status, out)

            entry = {"seq": emu.next_seq(), "ts": now_iso(), "method": self.command, "path": path,
                     "query": {k: v for k, v in query.items() if k not in ("consumer_key", "consumer_secret")}}
            try:
                body = self.read_body()
            except WooError as e:
                entry["status"] = e.status
                emu.record(entry)
                self.close_connection = True
                return self.send(e.status, e.body())
            latency = emu.faults.get("latency_ms", 0)
            if latency > 0:
                time.sleep(latency / 1000.0)
            if emu.take_fault("drop_next"):
                entry["fault"] = "drop"
                emu.record(entry)
                return self.drop()
            if emu.take_fault("fail_next"):
                status = int(emu.faults.get("fail_status", 503))
                entry["fault"] = f"http_{status}"
                entry["status"] = status
                emu.record(entry)
                # A host in maintenance (or a proxy shedding load) says when to come back.
                ra = emu.faults.get("fail_retry_after", 0)
                if ra:
                    ra_text = str(int(ra)) if float(ra).is_integer() else str(ra)
                    html = f"<html><body><h1>{status}</h1></body></html>"
                    return self.send(status, None, raw=html.encode(), content_type="text/html; charset=UTF-8",
                                     headers={"Retry-After": ra_text})
                if status == 500:
                    # WordPress's fatal-error handler answers REST requests with this WP_Error.
                    return self.send(500, {"code": "internal_server_error",
                                           "message": "<p>There has been a critical error on this website.</p>",
                                           "data": {"status": 500}, "additional_errors": []})
                # 502/503/504 typically come from the host's proxy, as HTML.
                html = f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"
                return self.send(status, None, raw=html.encode(), content_type="text/html; charset=UTF-8")
            if emu.take_fault("rate_limit_next"):
                entry["fault"] = "http_429"
                entry["status"] = 429
                emu.record(entry)
                ra = emu.faults.get("retry_after", 2)
                ra_text = str(int(ra)) if float(ra).is_integer() else str(ra)
                return self.send(429, {"code": "too_many_requests", "message": "Too Many Requests",
                                       "data": {"status": 429}}, headers={"Retry-After": ra_text})
            headers = {}
            try:
                status, out, headers = emu.dispatch(self, self.command, path, query, body, entry)
            except WooError as e:
                status, out, headers = e.status, e.body(), e.headers
            except Exception as e:  # an emulator bug: say so loudly
                import traceback
                traceback.print_exc()
                status, out = 500, {"code": "emulator_error", "message": str(e), "data": {"status": 500}}
            entry["status"] = status
            if isinstance(out, dict) and "code" in out and status >= 400:
                entry["error"] = out["code"]
            if emu.take_fault("drop_after_apply_next"):
                entry["fault"] = "drop_after_apply"
                emu.record(entry)
                return self.drop()
            data = json.dumps(out).encode("utf-8")
            if emu.take_fault("malformed_next"):
                entry["fault"] = "malformed"
                data = data[: max(1, len(data) // 2)]
            emu.record(entry)
            return self.send(status, None, headers=headers, raw=data)

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

        def do_PATCH(self):
            self.handle_any()

        def do_DELETE(self):
            self.handle_any()

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description="WooCommerce REST API v3 emulator (tests only)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--seed", action="append", default=[])
    ap.add_argument("--generate-simple", type=int, default=0, metavar="N")
    ap.add_argument("--generate-variable", default=None, metavar="N:V",
                    help="N variable products with V variations each")
    ap.add_argument("--api-key", action="append", default=[], metavar="CK:CS[:PERMS]")
    ap.add_argument("--request-log")
    for name in FAULTS:
        ap.add_argument("--" + name.replace("_", "-"), type=float, default=None)
    a = ap.parse_args(argv)
    if bool(a.cert) != bool(a.key):
        ap.error("--cert and --key go together")

    cat = Catalogue()
    for s in a.seed:
        cat.load(s)
    gv, pv = 0, 0
    if a.generate_variable:
        gv, _, pv = a.generate_variable.partition(":")
        gv, pv = int(gv), int(pv or 3)
    cat.generate(simple=a.generate_simple, variable=gv, per_variable=pv)
    for spec in a.api_key:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            ap.error("--api-key wants CK:CS or CK:CS:PERMS")
        cat.add_key({"consumer_key": parts[0], "consumer_secret": parts[1],
                     "permissions": parts[2] if len(parts) == 3 else "read_write"})
    if not cat.keys:
        cat.add_key(DEFAULT_KEY)

    faults = {}
    for name in FAULTS:
        v = getattr(a, name)
        if v is not None:
            faults[name] = v if name == "retry_after" else int(v)

    context = None
    if a.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.cert, a.key)
    emu = Emulator(cat, faults, a.request_log, tls=context is not None)
    server = TLSServer((a.host, a.port), make_handler(emu), context)
    port = server.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, a.port_file)
    print(f"woocommerce emulator listening on {'https' if context else 'http'}://{a.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
