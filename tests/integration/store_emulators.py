"""Starting the store emulators of tests/emulators for integration tests of beed's store
connectors, and reading what they saw. Standard library only.

Each test gets a fresh emulator (its own catalogue, faults and request log) over HTTPS with a
throwaway CA made once per test class.
"""

import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATORS = os.path.join(os.path.dirname(HERE), "emulators")
sys.path.insert(0, EMULATORS)
import emulator_testlib  # noqa: E402

SHOPIFY_SERVER = os.path.join(EMULATORS, "shopify", "server.js")
WOO_SERVER = os.path.join(EMULATORS, "woocommerce", "woo_emulator.py")
SKIP = 77


def shopify_available():
    return (shutil.which("node") is not None and
            os.path.isdir(os.path.join(EMULATORS, "shopify", "node_modules", "graphql")))


class StoreEmulator:
    """One running emulator; `control(...)` talks to its /_emulator endpoints."""

    def __init__(self, kind, workdir, tls, extra_args=(), cert="server"):
        self.kind = kind
        self.workdir = workdir
        self.tls = tls
        self.log_path = os.path.join(workdir, "%s-requests.jsonl" % kind)
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        tls_args = ["--cert", tls[cert], "--key", tls[cert + ".key"]]
        if kind == "shopify":
            cmd = ["node", SHOPIFY_SERVER]
        else:
            cmd = [sys.executable, WOO_SERVER]
        cmd += tls_args + ["--request-log", self.log_path] + list(extra_args)
        self.emulator = emulator_testlib.Emulator(cmd, workdir, name=kind).start()
        self.port = self.emulator.port
        self.context = emulator_testlib.client_context(tls["ca"])

    def stop(self):
        self.emulator.stop()

    def control(self, method, path, body=None):
        r = emulator_testlib.request(self.port, method, path, body=body, context=self.context)
        if r.status != 200:
            raise AssertionError("emulator %s %s: %r" % (method, path, r))
        return r.json()

    def faults(self, **switches):
        return self.control("POST", "/_emulator/faults", switches)

    def state(self):
        return self.control("GET", "/_emulator/state")

    def requests(self):
        """The request log (JSON lines), oldest first."""
        if not os.path.exists(self.log_path):
            return []
        return emulator_testlib.read_jsonl(self.log_path)

    # ---- Shopify -------------------------------------------------------------------------

    def shopify_available(self, location="1"):
        """SKU -> available quantity at `location`, from the emulator's catalogue."""
        out = {}
        for v in self.state()["variants"]:
            level = v["levels"].get("gid://shopify/Location/%s" % location)
            out[v["sku"]] = None if level is None else level["available"]
        return out

    def set_calls(self):
        """Every inventorySetQuantities mutation the emulator executed, in order."""
        calls = []
        for entry in self.requests():
            for m in entry.get("mutations") or []:
                calls.append(m)
        return calls

    def catalogue_pages(self):
        """The paged catalogue walk's requests (inventoryItems pages; productVariants before them):
        catalogue connections read without a search query, which a SKU look-up has."""
        return [e for e in self.requests()
                if {"inventoryItems", "productVariants"} & set(e.get("root_fields") or [])
                and not e.get("search_query")]

    def bulk_starts(self):
        """The bulkOperationRunQuery calls, in order."""
        return [e for e in self.requests()
                if "bulkOperationRunQuery" in (e.get("root_fields") or [])]

    def result_downloads(self):
        """The GETs of bulk results (with the Range asked and the fault applied, if any)."""
        return [e for e in self.requests() if e.get("path", "").startswith("/_bulk_results/")]

    # ---- WooCommerce ---------------------------------------------------------------------

    def woo_stock(self):
        """SKU -> stock_quantity of every product and variation."""
        s = self.state()
        out = {}
        for p in s["products"]:
            if p["type"] != "variable":
                out[p["sku"]] = p["stock_quantity"]
        for v in s["variations"]:
            out[v["sku"]] = v["stock_quantity"]
        return out

    def woo_batches(self):
        return [e for e in self.requests()
                if e.get("method") == "POST" and e.get("path", "").endswith("/batch")]


def make_tls(directory):
    return emulator_testlib.make_ca(directory)


class WithTestCA:
    """A test case mixin: setUpClass makes a test CA and server certificates in a temporary
    directory (cls.tls, as make_tls returns; cls.tls_dir), tearDownClass removes them. Name the
    directory with TLS_PREFIX."""

    TLS_PREFIX = "pb-it-tls-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls_dir = tempfile.mkdtemp(prefix=cls.TLS_PREFIX)
        cls.tls = make_tls(cls.tls_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tls_dir, ignore_errors=True)
        super().tearDownClass()


class WithShopifyEmulator(WithTestCA):
    """WithTestCA for tests of the Shopify emulator (Node): skipped where its packages are not
    installed, an error in CI (a skip there would hide a missing install step)."""

    @classmethod
    def setUpClass(cls):
        if not shopify_available():
            if os.environ.get("CI"):
                raise RuntimeError("node or tests/emulators/shopify/node_modules missing in CI")
            raise unittest.SkipTest("node or tests/emulators/shopify/node_modules missing")
        super().setUpClass()


def write_secret(directory, name, value):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path
