"""The real Vendure 3 server of server.js, driven from Python (standard library only): start it
on a free loopback port with a fresh SQLite file, talk to its Admin API, seed a catalogue and
read stock back. Used by tests/integration/test_store_vendure.py and bench/vendure_bench.py.
Everything here goes through Vendure's own API, never through its database, except
clone_variants (a catalogue of thousands of variants in a second) and soft_delete_variants."""

import json
import os
import signal
import sqlite3
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SUPERADMIN = "superadmin"


def _die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def installed():
    """True when `npm ci` ran here (.ci/install-deps does it)."""
    return os.path.isdir(os.path.join(HERE, "node_modules", "@vendure", "core"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VendureError(RuntimeError):
    pass


class VendureServer:
    """`with VendureServer(dir, password) as server:` boots Vendure and stops it at the end."""

    def __init__(self, workdir, password, boot_timeout=180.0):
        self.dir = workdir
        self.password = password
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/admin-api" % self.port
        self.boot_timeout = boot_timeout
        self.proc = None
        self.boot_seconds = None
        self._err = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        started = time.monotonic()
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "server.js"), "--dir", self.dir, "--port", str(self.port),
             "--password", self.password],
            cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_die_with_parent)
        self._ready = threading.Event()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        # Vendure's logger writes to stdout too: READY is the line that starts with it.
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        if not self._ready.wait(self.boot_timeout):
            self.stop()
            raise VendureError("Vendure did not start within %.0f s: %s" %
                               (self.boot_timeout, "".join(self._err[-20:])))
        self.boot_seconds = time.monotonic() - started

    def _drain(self, stream):
        for line in stream:
            if line.startswith("READY "):
                self._ready.set()
                continue
            self._err.append(line)
            del self._err[:-200]

    def stderr(self):
        return "".join(self._err)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def clone_variants(self, template_id, skus):
        """Copies of variant `template_id` (its product, channel, price, translation and stock
        level), one per SKU, written straight into Vendure's SQLite file: a test catalogue of
        a few thousand variants in a second, where createProductVariants takes ~0.1 s each.
        Returns {sku: variant id}. Vendure reads them back like its own (no cache in between)."""
        db = sqlite3.connect(os.path.join(self.dir, "vendure.sqlite"), timeout=30)
        ids = {}
        try:
            with db:
                for sku in skus:
                    ids[sku] = str(self._clone_variant(db, template_id, sku))
        finally:
            db.close()
        return ids

    @staticmethod
    def _clone_variant(db, template, sku):
        v = db.execute(
            "INSERT INTO product_variant (enabled, sku, outOfStockThreshold, "
            "useGlobalOutOfStockThreshold, trackInventory, featuredAssetId, taxCategoryId, "
            "productId) SELECT enabled, ?, outOfStockThreshold, useGlobalOutOfStockThreshold, "
            "trackInventory, featuredAssetId, taxCategoryId, productId FROM product_variant "
            "WHERE id = ?", (sku, template)).lastrowid
        db.execute("INSERT INTO product_variant_translation (languageCode, name, baseId) "
                   "SELECT languageCode, ?, ? FROM product_variant_translation WHERE baseId = ?",
                   (sku, v, template))
        db.execute("INSERT INTO product_variant_channels_channel (productVariantId, channelId) "
                   "SELECT ?, channelId FROM product_variant_channels_channel "
                   "WHERE productVariantId = ?", (v, template))
        db.execute("INSERT INTO product_variant_price (currencyCode, channelId, price, variantId) "
                   "SELECT currencyCode, channelId, price, ? FROM product_variant_price "
                   "WHERE variantId = ?", (v, template))
        db.execute("INSERT INTO stock_level (stockOnHand, stockAllocated, productVariantId, "
                   "stockLocationId) SELECT stockOnHand, stockAllocated, ?, stockLocationId "
                   "FROM stock_level WHERE productVariantId = ?", (v, template))
        return v

    def soft_delete_variants(self, variant_ids):
        """Marks variants deleted, as deleteProductVariant does (they leave every list)."""
        db = sqlite3.connect(os.path.join(self.dir, "vendure.sqlite"), timeout=30)
        try:
            with db:
                db.executemany("UPDATE product_variant SET deletedAt = datetime('now') "
                               "WHERE id = ?", [(int(i),) for i in variant_ids])
        finally:
            db.close()

    def rss_kib(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0


class AdminApi:
    """Vendure's Admin API with a bearer session (or an API key)."""

    def __init__(self, url, token=None, api_key=None):
        self.url = url
        self.token = token
        self.api_key = api_key

    def request(self, query, variables=None, headers=None):
        """Returns (http status, answer, response headers)."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        if self.api_key:
            req.add_header("vendure-api-key", self.api_key)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, json.loads(r.read() or b"null"), dict(r.headers)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw), dict(e.headers)
            except ValueError:
                return e.code, raw.decode(errors="replace"), dict(e.headers)

    def gql(self, query, variables=None):
        status, answer, _ = self.request(query, variables)
        if status != 200 or not isinstance(answer, dict) or answer.get("errors"):
            raise VendureError("HTTP %d: %s" % (status, json.dumps(answer)[:500]))
        return answer["data"]

    def login(self, username, password):
        status, answer, headers = self.request(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
            "{ __typename ... on ErrorResult { errorCode message } } }",
            {"u": username, "p": password})
        result = (answer.get("data") or {}).get("login") or {}
        if result.get("__typename") != "CurrentUser":
            raise VendureError("login refused: %s" % json.dumps(answer))
        self.token = {k.lower(): v for k, v in headers.items()}["vendure-auth-token"]
        return self

    def create_api_key(self, name="packagebee"):
        """A key with the SuperAdmin role (Vendure 3.6+)."""
        roles = self.gql("{ roles(options: {take: 100}) { items { id code } } }")["roles"]["items"]
        role = [r["id"] for r in roles if r["code"] == "__super_admin_role__"]
        data = self.gql(
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) "
            "{ apiKey entityId } }",
            {"input": {"roleIds": role, "translations": [{"languageCode": "en", "name": name}]}})
        return data["createApiKey"]["apiKey"]

    def seed(self, skus, per_product=100, stock=0):
        """Creates the variants `skus` (per_product to a product, each variant its own option)
        with `stock` on hand; returns {sku: variant id}."""
        if not self.gql("{ taxCategories(options: {take: 1}) { totalItems } }")[
                "taxCategories"]["totalItems"]:
            self.gql('mutation { createTaxCategory(input: {name: "Standard", isDefault: true}) '
                     '{ id } }')
            # A variant's price needs the channel's tax zone, which a fresh install lacks.
            zone = self.gql('mutation { createZone(input: {name: "Default", memberIds: []}) '
                            '{ id } }')["createZone"]["id"]
            channel = self.gql("{ activeChannel { id } }")["activeChannel"]["id"]
            self.gql("mutation($input: UpdateChannelInput!) { updateChannel(input: $input) "
                     "{ __typename } }",
                     {"input": {"id": channel, "defaultTaxZoneId": zone,
                                "defaultShippingZoneId": zone}})
        ids = {}
        for start in range(0, len(skus), per_product):
            part = skus[start:start + per_product]
            n = len(ids) // per_product + 1 + start
            tag = "pb%d" % n
            group = self.gql(
                "mutation($input: CreateProductOptionGroupInput!) { createProductOptionGroup("
                "input: $input) { id options { id code } } }",
                {"input": {"code": tag, "translations": [{"languageCode": "en", "name": tag}],
                           "options": [{"code": "o%d" % i, "translations": [
                               {"languageCode": "en", "name": "o%d" % i}]}
                               for i in range(len(part))]}})["createProductOptionGroup"]
            options = {o["code"]: o["id"] for o in group["options"]}
            product = self.gql(
                "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
                {"input": {"translations": [{"languageCode": "en", "name": tag, "slug": tag,
                                             "description": ""}]}})["createProduct"]["id"]
            self.gql("mutation($p: ID!, $g: ID!) { addOptionGroupToProduct(productId: $p, "
                     "optionGroupId: $g) { id } }", {"p": product, "g": group["id"]})
            created = self.gql(
                "mutation($input: [CreateProductVariantInput!]!) { createProductVariants("
                "input: $input) { id sku } }",
                {"input": [{"productId": product, "sku": sku, "price": 1000, "stockOnHand": stock,
                            "optionIds": [options["o%d" % i]],
                            "translations": [{"languageCode": "en", "name": sku}]}
                           for i, sku in enumerate(part)]})["createProductVariants"]
            for v in created:
                ids[v["sku"]] = v["id"]
        return ids

    def stock(self, location_id=None):
        """{sku: stock on hand} over every variant: at `location_id`, or summed over locations."""
        out = {}
        skip = 0
        while True:
            page = self.gql(
                "query($skip: Int!) { productVariants(options: {skip: $skip, take: 1000, "
                "sort: {id: ASC}}) { items { sku stockLevels { stockLocationId stockOnHand } } "
                "totalItems } }", {"skip": skip})["productVariants"]
            for v in page["items"]:
                levels = v["stockLevels"]
                if location_id is not None:
                    levels = [lv for lv in levels if lv["stockLocationId"] == str(location_id)]
                out[v["sku"]] = sum(lv["stockOnHand"] for lv in levels)
            skip += 1000
            if skip >= page["totalItems"] or not page["items"]:
                return out

    def set_stock(self, variant_ids_and_quantities):
        """A store-side edit, as an administrator would make it."""
        self.gql("mutation($input: [UpdateProductVariantInput!]!) { updateProductVariants("
                 "input: $input) { id } }",
                 {"input": [{"id": i, "stockOnHand": q} for i, q in variant_ids_and_quantities]})

    def delete_variant(self, variant_id):
        self.gql("mutation($id: ID!) { deleteProductVariant(id: $id) { result } }",
                 {"id": variant_id})
