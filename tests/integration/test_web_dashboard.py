#!/usr/bin/env python3
"""beed's web dashboard and JSON API on daemon.http's listener: the API's answers match the
control protocol's (beectl), pages are bounded and a cursor walks the whole catalogue, syncs need
the admin token (401 without or with a wrong one, 403 when none is configured), every reply
carries the security headers, no path reaches the file system; then the page itself in Debian's
Chromium (tests/browser/dashboard.js), which also makes docs/screenshots/*.png when asked
(PB_SCREENSHOTS=DIR)."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase, wait_for  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BROWSER_DIR = os.path.join(TOP, "tests", "browser")
CHROMIUM = "/usr/bin/chromium"
TOKEN = "0f3c9e6a1b2d4c8e9a7b6c5d4e3f2a1b"
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def catalogue(n):
    return {"SKU-%05d" % i: i % 17 for i in range(n)}


class Web:
    """HTTP to one beed's listener."""

    def __init__(self, port):
        self.port = port

    def request(self, method, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()

    def json(self, method, path, headers=None):
        status, headers_, body = self.request(method, path, headers)
        self_check = headers_.get("content-type", "")
        assert self_check.startswith("application/json"), (path, self_check, body)
        return status, json.loads(body)


class WebCase(BeeTestCase):
    def start_beed(self, skus=300, token=True, env=None):
        env = env or self.make_env()
        env.write_feed(catalogue(skus))
        port = free_port()
        http_config = {"listen": "127.0.0.1:%d" % port}
        if token:
            path = os.path.join(env.root, "admin.token")
            with open(path, "w") as f:
                f.write(TOKEN + "\n")
            os.chmod(path, 0o600)
            http_config["admin_token_file"] = path
        env.write_config(daemon_extra={"http": http_config})
        # No PACKAGEBEE_WEB_DIR: the build tree's beed finds the build tree's copy by itself.
        env.start()
        env.wait_idle()
        return env, Web(port)


class ApiTest(WebCase):
    def test_api_answers_as_the_control_protocol(self):
        env, web = self.start_beed(skus=300)
        status, data = web.json("GET", "/api/v1/connections")
        self.assertEqual(status, 200)
        beectl = env.status()
        self.assertEqual([c["name"] for c in data["connections"]], ["demo"])
        mine, theirs = data["connections"][0], beectl["connections"][0]
        for key in ("state", "paused", "next_sync_at", "last_sync"):
            self.assertEqual(mine[key], theirs[key], key)
        self.assertIn("csv", mine["store"])
        status, one = web.json("GET", "/api/v1/connections/demo")
        self.assertEqual((status, one["name"], one["last_sync"]), (200, "demo", theirs["last_sync"]))
        status, history = web.json("GET", "/api/v1/connections/demo/history")
        self.assertEqual(history["runs"], env.history())
        status, page = web.json("GET", "/api/v1/connections/demo/inventory?limit=5&after=SKU-00010")
        self.assertEqual([i["sku"] for i in page["items"]], ["SKU-%05d" % i for i in range(11, 16)])
        self.assertEqual(page["next_after"], "SKU-00015")
        item = page["items"][0]
        for key in ("quantity", "updated_at", "store_quantity", "pending", "error"):
            self.assertIn(key, item)
        self.assertEqual((item["quantity"], item["store_quantity"], item["pending"]), (11, 11, False))
        # Search: a prefix, or a glob as beectl inventory --sku takes.
        _, hits = web.json("GET", "/api/v1/connections/demo/inventory?sku=SKU-0012")
        self.assertEqual([i["sku"] for i in hits["items"]], ["SKU-%05d" % i for i in range(120, 130)])
        _, hits = web.json("GET", "/api/v1/connections/demo/inventory?sku=SKU-00%3F%3F7")
        self.assertEqual(len(hits["items"]), 30)  # SKU-00007, SKU-00017 ... SKU-00297
        self.assertNotIn("next_after", hits)

    def test_pages_are_bounded_and_the_cursor_walks_everything(self):
        env, web = self.start_beed(skus=2400)
        status, page = web.json("GET", "/api/v1/connections/demo/inventory?limit=1000000")
        self.assertEqual(status, 200)
        self.assertEqual(len(page["items"]), 500)  # the cap, however much is asked
        seen, after, pages = [], None, 0
        while True:
            path = "/api/v1/connections/demo/inventory?limit=500"
            if after:
                path += "&after=" + after
            _, page = web.json("GET", path)
            pages += 1
            seen += [i["sku"] for i in page["items"]]
            after = page.get("next_after")
            if not after:
                break
        self.assertEqual(seen, sorted(catalogue(2400)))
        self.assertEqual(pages, 5)
        for bad in ("limit=0", "limit=-1", "limit=x", "bogus=1", "changed=maybe", "limit=1&limit=2",
                    "sku=%zz"):
            status, err = web.json("GET", "/api/v1/connections/demo/inventory?" + bad)
            self.assertEqual(status, 400, bad)
            self.assertTrue(err["error"], bad)
        status, err = web.json("GET", "/api/v1/connections/nope/inventory")
        self.assertEqual((status, err["status"]), (404, "unknown_connection"))
        self.assertIn("nope", err["error"])
        status, err = web.json("GET", "/api/v1/connections/nope")
        self.assertEqual(status, 404)
        status, err = web.json("GET", "/api/v1/nothing")
        self.assertEqual(status, 404)

    def test_syncs_need_the_admin_token(self):
        env, web = self.start_beed(skus=50)
        last = env.history()[0]["id"]
        url = "/api/v1/connections/demo/sync"
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"},
                        {"Authorization": "Basic " + TOKEN}, {"Authorization": TOKEN},
                        {"Authorization": "Bearer " + TOKEN[:-1]}):
            status, hdrs, body = web.request("POST", url, headers)
            self.assertEqual(status, 401, headers)
            self.assertIn("Bearer", hdrs["www-authenticate"])
            self.assertIn("token", json.loads(body)["error"])
        self.assertNotIn(TOKEN, env.log_text())
        self.assertEqual(env.history()[0]["id"], last, "a refused call started a run")
        status, hdrs, _ = web.request("GET", url)
        self.assertEqual((status, hdrs["allow"]), (405, "POST"))
        status, hdrs, _ = web.request("POST", "/api/v1/connections/demo/inventory")
        self.assertEqual((status, hdrs["allow"]), (405, "GET, HEAD"))

        env.write_feed({**catalogue(50), "SKU-00003": 999})
        status, run = web.json("POST", url, {"Authorization": "bearer  " + TOKEN})
        self.assertEqual((status, run["kind"], run["connection"]), (202, "smart", "demo"))
        done = env.wait_run(run["run_id"])
        self.assertEqual((done["result"], done["pushed"]), ("ok", 1))
        status, run = web.json("POST", "/api/v1/connections/demo/full-sync",
                               {"Authorization": "Bearer " + TOKEN})
        self.assertEqual((status, run["kind"]), (202, "full"))
        self.assertEqual(env.wait_run(run["run_id"])["pushed"], 50)
        status, err = web.json("POST", "/api/v1/connections/nope/sync",
                               {"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 404)

    def test_read_only_without_a_token_file(self):
        env, web = self.start_beed(skus=10, token=False)
        status, err = web.json("POST", "/api/v1/connections/demo/full-sync",
                               {"Authorization": "Bearer " + TOKEN})
        self.assertEqual((status, err["status"]), (403, "permission_denied"))
        self.assertIn("read-only", err["error"])
        self.assertEqual(web.json("GET", "/api/v1/connections")[0], 200)

    def test_a_short_or_missing_token_file_stops_beed(self):
        env = self.make_env()
        env.write_feed(catalogue(3))
        path = os.path.join(env.root, "admin.token")
        with open(path, "w") as f:
            f.write("short\n")
        env.write_config(daemon_extra={"http": {"listen": "127.0.0.1:%d" % free_port(),
                                                "admin_token_file": path}})
        proc = env.start(wait=False)
        self.assertNotEqual(proc.wait(20), 0)
        self.assertIn("shorter than 16", env.log_text())
        self.assertNotIn("short\n", env.log_text().replace("shorter", ""))

    def test_headers_and_no_path_reaches_the_file_system(self):
        env, web = self.start_beed(skus=5)
        for path in ("/", "/app.js", "/style.css", "/api/v1/connections", "/metrics", "/nothing"):
            status, headers, _ = web.request("GET", path)
            for name, value in SECURITY_HEADERS.items():
                self.assertIn(value, headers.get(name, ""), (path, name))
            self.assertIn("cache-control", headers, path)
        status, headers, body = web.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(b'<script src="/app.js"', body)
        self.assertNotIn(b"<script>", body)  # no inline script: the CSP would block it
        self.assertEqual(web.request("GET", "/app.js")[1]["content-type"],
                         "text/javascript; charset=utf-8")
        self.assertEqual(web.request("GET", "/api/v1/connections")[1]["cache-control"], "no-store")
        secret = os.path.join(env.root, "packagebee.yaml")
        for path in ("/../packagebee.yaml", "/%2e%2e/packagebee.yaml", "/index.html",
                     "/app.js/../../../etc/passwd", "//etc/passwd", "/.%2e/.%2e/etc/passwd",
                     "/api/v1/connections/..%2f..%2fetc%2fpasswd", "/" + secret, "/web/app.js",
                     "/app.js%00", "/api/v1/connections/demo/../../../etc/passwd"):
            status, _, body = web.request("GET", path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"root:", body, path)
            self.assertNotIn(b"connections:", body, path)
        # DNS rebinding: a page whose own name now points at 127.0.0.1 sends that name in Host.
        for path in ("/", "/api/v1/connections", "/metrics"):
            status, _, _ = web.request("GET", path, {"Host": "rebind.example:%d" % web.port})
            self.assertEqual(status, 421, path)
        for host in ("localhost:%d" % web.port, "127.0.0.1:8080", "LOCALHOST"):
            self.assertEqual(web.request("GET", "/api/v1/connections", {"Host": host})[0], 200, host)
        status, headers, body = web.request("HEAD", "/")
        self.assertEqual((status, body), (200, b""))
        self.assertGreater(int(headers["content-length"]), 500)

    def test_missing_dashboard_files_leave_the_api(self):
        env = self.make_env()
        env.write_feed(catalogue(3))
        port = free_port()
        env.write_config(daemon_extra={"http": {"listen": "127.0.0.1:%d" % port}})
        env.start(extra_env={"PACKAGEBEE_WEB_DIR": os.path.join(env.root, "nowhere")})
        web = Web(port)
        status, _, body = web.request("GET", "/")
        self.assertEqual(status, 503)
        self.assertIn(b"not installed", body)
        self.assertEqual(web.json("GET", "/api/v1/connections")[0], 200)
        self.assertIn("web dashboard", env.log_text())


def browser_missing():
    missing = [p for p in (CHROMIUM, os.path.join(BROWSER_DIR, "node_modules", "playwright-core"))
               if not os.path.exists(p)]
    if shutil.which("node") is None:
        missing.append("node")
    return missing


class BrowserTest(WebCase):
    def test_dashboard_in_chromium(self):
        missing = browser_missing()
        if missing:
            # CI installs them (.ci/install-deps): there a missing one is a failure, not a skip.
            if os.environ.get("CI"):
                self.fail("missing for the browser test: %s" % ", ".join(missing))
            self.skipTest("not installed: %s (run .ci/install-deps)" % ", ".join(missing))
        env, web = self.start_beed(skus=240)
        env.write_feed({**catalogue(240), "SKU-00007": 500})  # a change for the Smart Sync
        expect = {"skus": 240, "page": 50, "search": "SKU-0012", "search_hits": 10}
        args = ["node", os.path.join(BROWSER_DIR, "dashboard.js"), "http://127.0.0.1:%d" % web.port,
                "demo", TOKEN, json.dumps(expect)]
        shots = os.environ.get("PB_SCREENSHOTS")
        if shots:
            os.makedirs(shots, exist_ok=True)
            args.append(shots)
        result = subprocess.run(args, capture_output=True, text=True, timeout=180)
        print(result.stdout, file=sys.stderr)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        run = json.loads(result.stdout.strip().splitlines()[-1])["smart_run"]
        env.wait_run(run + 1)  # the Full Sync the page started after it
        done = next(r for r in env.history() if r["id"] == run)
        self.assertEqual((done["kind"], done["trigger"], done["result"], done["pushed"]),
                         ("smart", "manual", "ok", 1))
        self.assertEqual(env.read_store()["SKU-00007"], 500)


if __name__ == "__main__":
    harness.main()
