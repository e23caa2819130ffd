"""A real Medusa v2 server (the npm packages pinned in package-lock.json) on a throwaway
PostgreSQL, for tests/integration/test_store_medusa.py and bench/medusa_bench.py.

    server = MedusaServer.start(root)        # PostgreSQL, migrations, an admin user, `medusa start`
    key = server.create_secret_key()        # sk_..., through the Admin API
    loc = server.create_stock_location("A") # sloc_...
    server.seed(products)                   # [{"title", "skus": [...]}], variants with manage_inventory
    server.stocked(loc)                     # {sku: stocked_quantity} at that location
    server.stop()

Everything goes through Medusa's own CLI (`medusa db:migrate`, `medusa user`) and its Admin API,
so the tests see what a real deployment does, except add_bare_items (thousands of inventory items
in a second, written into the database). Needs `npm ci` in this folder (.ci/install-deps).
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import pg_server  # noqa: E402

ADMIN_EMAIL = "admin@packagebee.test"
ADMIN_PASSWORD = "packagebee-test-password"


class MedusaUnavailable(Exception):
    """Medusa's packages (npm ci) or PostgreSQL are missing: the caller skips."""


def require_packages():
    """Raises MedusaUnavailable (or pg_server.PgUnavailable) when Medusa cannot run here."""
    try:
        version = subprocess.run(["node", "--version"], stdout=subprocess.PIPE, text=True,
                                 check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise MedusaUnavailable("no node binary (Medusa 2.21 needs Node >= 20.19)")
    major, minor = (int(x) for x in version.lstrip("v").split(".")[:2])
    if (major, minor) < (20, 19):
        raise MedusaUnavailable("Node %s is older than 20.19, which Medusa 2.21 needs" % version)
    cli = os.path.join(HERE, "node_modules", "@medusajs", "cli", "cli.js")
    if not os.path.exists(cli):
        raise MedusaUnavailable("Medusa is not installed: run `npm ci` in %s (.ci/install-deps)"
                                % HERE)
    pg_server.find_bin_dir()


class MedusaServer:
    def __init__(self, root, pg):
        self.root = root
        self.pg = pg
        self.port = pg_server.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(root, "medusa.log")
        self.env = dict(os.environ,
                        DATABASE_URL="postgres://postgres@127.0.0.1:%d/medusa" % pg.port,
                        JWT_SECRET="packagebee-test-jwt", COOKIE_SECRET="packagebee-test-cookie",
                        PORT=str(self.port), NODE_ENV="production",
                        MEDUSA_DISABLE_TELEMETRY="true", MEDUSA_FF_ANALYTICS="false",
                        # In production mode Medusa logs each request as a JSON line (morgan):
                        # the tests count beed's requests from it.
                        LOG_LEVEL="http",
                        NODE_OPTIONS="--max-old-space-size=1024")
        self.proc = None
        self.token = None
        self.timings = {}

    # ---- life cycle ----------------------------------------------------------------------

    @classmethod
    def start(cls, root):
        require_packages()
        os.makedirs(root)
        pg = pg_server.PgServer.start(os.path.join(root, "pg"))
        server = cls(root, pg)
        try:
            pg.psql("postgres", "CREATE DATABASE medusa")
            server._timed("migrate", server._cli, "db:migrate")
            server._timed("user", server._cli, "user", "-e", ADMIN_EMAIL, "-p", ADMIN_PASSWORD)
            server._timed("boot", server._boot)
            server.token = server._login()
        except BaseException:
            server.stop()
            raise
        return server

    def _timed(self, name, f, *args):
        started = time.monotonic()
        f(*args)
        self.timings[name] = time.monotonic() - started

    def _cli(self, *args):
        args = [a for a in args if a is not None]
        with open(self.log_path, "a") as log:
            log.write("\n$ medusa %s\n" % " ".join(args))
            log.flush()
            p = subprocess.run(["node", os.path.join("node_modules", "@medusajs", "cli", "cli.js"),
                                *args], cwd=HERE, env=self.env, stdout=log,
                               stderr=subprocess.STDOUT, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("medusa %s failed (%d): %s" % (args[0], p.returncode, self.log_tail()))

    def _boot(self, timeout=240):
        log = open(self.log_path, "a")
        log.write("\n$ medusa start\n")
        log.flush()
        self.proc = subprocess.Popen(
            ["node", os.path.join("node_modules", "@medusajs", "cli", "cli.js"), "start"],
            cwd=HERE, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("medusa start exited (%d): %s" % (self.proc.returncode,
                                                                    self.log_tail()))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("medusa start not ready in %d s: %s" % (timeout, self.log_tail()))

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def log_size(self):
        return os.path.getsize(self.log_path)

    def requests(self, since=0):
        """The requests Medusa logged after byte `since` of its log: dicts with method, path
        (with the query), status, duration (ms)."""
        out = []
        with open(self.log_path, "rb") as f:
            f.seek(since)
            for line in f.read().decode(errors="replace").splitlines():
                if line.startswith("{") and '"level":"http"' in line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return out

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: node and its children
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.pg.stop(mode="immediate")

    # ---- the Admin API -------------------------------------------------------------------

    def request(self, method, path, body=None, auth=None, query=None):
        """(status, parsed JSON body); auth defaults to the admin's JWT."""
        url = self.url + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json",
                   "Authorization": auth or "Bearer %s" % self.token}
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text.decode(errors="replace")

    def ok(self, method, path, body=None, query=None):
        status, reply = self.request(method, path, body, query=query)
        if status // 100 != 2:
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, status, reply))
        return reply

    def _login(self):
        status, reply = self.request("POST", "/auth/user/emailpass",
                                     {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                                     auth="none")
        if status != 200:
            raise RuntimeError("login: HTTP %d %s" % (status, reply))
        return reply["token"]

    def create_secret_key(self, title="packagebee"):
        """(token, id) of a new secret API key."""
        key = self.ok("POST", "/admin/api-keys", {"title": title, "type": "secret"})["api_key"]
        return key["token"], key["id"]

    def revoke_key(self, key_id):
        self.ok("POST", "/admin/api-keys/%s/revoke" % key_id, {})

    def create_stock_location(self, name):
        return self.ok("POST", "/admin/stock-locations", {"name": name})["stock_location"]["id"]

    def seed(self, products, per_request=50):
        """Creates products, each {"title", "skus"}: one variant per SKU, inventory managed (so
        Medusa makes each an inventory item carrying the SKU)."""
        for start in range(0, len(products), per_request):
            create = []
            for p in products[start:start + per_request]:
                values = ["v%d" % i for i in range(len(p["skus"]))]
                create.append({
                    "title": p["title"], "status": "published",
                    "options": [{"title": "Variant", "values": values}],
                    "variants": [{"title": sku, "sku": sku, "manage_inventory": True,
                                  "options": {"Variant": v},
                                  "prices": [{"currency_code": "usd", "amount": 10}]}
                                 for sku, v in zip(p["skus"], values)],
                })
            self.ok("POST", "/admin/products/batch", {"create": create})

    def add_bare_items(self, prefix, n):
        """`n` inventory items with SKUs PREFIX000001..., written straight into Medusa's
        database (no variant, no level; ids iitem_PREFIX..., after Medusa's own in id order): a
        catalogue of thousands of items in a second, where the Admin API takes minutes. Medusa's
        list routes read them back like its own. Returns their SKUs."""
        self.pg.psql("medusa",
                     "INSERT INTO inventory_item (id, sku, title, description) SELECT "
                     "'iitem_%(p)s' || lpad(g::text, 6, '0'), '%(p)s' || lpad(g::text, 6, '0'), "
                     "'%(p)s', '%(p)s' FROM generate_series(1, %(n)d) g" % {"p": prefix, "n": n})
        return ["%s%06d" % (prefix, g) for g in range(1, n + 1)]

    def delete_bare_items(self, prefix):
        """Soft-deletes what add_bare_items(prefix) made, as Medusa deletes (lists skip them)."""
        self.pg.psql("medusa", "UPDATE inventory_item SET deleted_at = now() "
                               "WHERE id LIKE 'iitem_%s%%'" % prefix)

    def items(self):
        """{sku: inventory item id}."""
        out = {}
        offset = 0
        while True:
            page = self.ok("GET", "/admin/inventory-items",
                           query={"fields": "id,sku", "limit": 1000, "offset": offset, "order": "id"})
            for item in page["inventory_items"]:
                out[item["sku"]] = item["id"]
            offset += len(page["inventory_items"])
            if not page["inventory_items"] or offset >= page["count"]:
                return out

    def stocked(self, location_id):
        """{sku: stocked_quantity} of the items with a level at `location_id`."""
        out = {}
        offset = 0
        while True:
            page = self.ok("GET", "/admin/inventory-items", query={
                "fields": "sku,location_levels.location_id,location_levels.stocked_quantity",
                "limit": 1000, "offset": offset, "order": "id"})
            for item in page["inventory_items"]:
                for level in item.get("location_levels") or []:
                    if level["location_id"] == location_id:
                        out[item["sku"]] = level["stocked_quantity"]
            offset += len(page["inventory_items"])
            if not page["inventory_items"] or offset >= page["count"]:
                return out

    def set_stocked(self, item_id, location_id, quantity):
        """An edit made in the store (as in the admin dashboard)."""
        self.ok("POST", "/admin/inventory-items/%s/location-levels/%s" % (item_id, location_id),
                {"stocked_quantity": quantity})
