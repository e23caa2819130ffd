#!/usr/bin/env python3
"""The warehouses read over HTTP(S) end to end: the real beed and beectl, a CSV store, and the
inventory source emulator of tests/emulators (HTTPS with a throwaway test CA, a frozen clock,
and a request log that shows every request beed made).

- `type: csv` with `url:`: a Smart Sync of an unchanged feed costs one conditional request
  (If-None-Match / If-Modified-Since, answered 304) and applies nothing; a changed feed is read
  again; a Full Sync always downloads it; the bearer token never shows in logs or beectl.
- `type: http-json` in each paging mode (page, offset, cursor, link): every item read once.
- `updated_since_param`: a Smart Sync asks for what changed since the newest updated_at of the
  last committed read, compares with >= (an item changed in the cursor's second is not lost), a
  Full Sync reads everything, the cursor survives a restart, and it does not advance past a read
  with a bad item.
- Faults: 503 and 429 (Retry-After) are retried; a page that is not JSON fails the run with
  nothing applied; a wrong token fails it with the 401 and no secret anywhere.
"""

import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import store_emulators  # noqa: E402  (puts tests/emulators on sys.path)
from store_emulators import write_secret  # noqa: E402
import emulator_testlib  # noqa: E402

SOURCE = os.path.join(store_emulators.EMULATORS, "inventory_source", "inventory_source.py")
TOKEN = "inv-token-7c1e5a93b2f04d68"
WRONG_TOKEN = "inv-wrong-token-0a9b8c7d6e"
USER = "packagebee"
PASSWORD = "basic-pw-5d2e9f01c3"
T0 = "2026-11-26T10:00:00Z"       # the emulator's clock at start (frozen)
T_OLD = "2026-11-26T09:00:00Z"    # updated_at of most seeded items
T_MAX = "2026-11-26T09:30:00Z"    # updated_at of the newest seeded item: the first cursor
N_ITEMS = 250
PAGE = 100


def sku(i):
    return "SKU-%04d" % i


def seed_items(n=N_ITEMS, quantity=lambda i: i * 3 % 101, newest=None):
    """n items; every one updated at T_OLD except `newest` (default: the last), at T_MAX."""
    newest = n if newest is None else newest
    return [{"sku": sku(i), "quantity": quantity(i), "location": "east",
             "updated_at": T_MAX if i == newest else T_OLD} for i in range(1, n + 1)]


def query_of(entry):
    """The request's query as a dict name -> value (each name once)."""
    q = urllib.parse.parse_qs(entry.get("query") or "", keep_blank_values=True)
    for name, values in q.items():
        assert len(values) == 1, "parameter %s sent twice: %r" % (name, entry)
    return {k: v[0] for k, v in q.items()}


class InventorySource:
    """One inventory source emulator over HTTPS with the test CA."""

    def __init__(self, workdir, tls, args=(), name="inventory-source"):
        cmd = [sys.executable, SOURCE, "--tls-cert", tls["server"], "--tls-key",
               tls["server.key"], "--clock", T0, *args]
        self.emulator = emulator_testlib.Emulator(cmd, workdir, name=name).start()
        self.port = self.emulator.port
        self.context = emulator_testlib.client_context(tls["ca"])
        self.mark = 0  # the request log's last sequence number already looked at

    def stop(self):
        self.emulator.stop()

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def control(self, method, path, body=None):
        r = emulator_testlib.request(self.port, method, path, body=body, context=self.context)
        if r.status != 200:
            raise AssertionError("emulator %s %s: %r" % (method, path, r))
        return r.json()

    def set_items(self, items, **extra):
        body = {"items": items}
        body.update(extra)
        return self.control("POST", "/_emulator/items", body)

    def set_feed(self, name, text):
        return self.control("POST", "/_emulator/csv/%s" % name, text.encode("utf-8"))

    def clock(self, **body):
        return self.control("POST", "/_emulator/clock", body)

    def fault(self, **rule):
        return self.control("POST", "/_emulator/faults", rule)

    def log(self, after=0):
        return self.control("GET", "/_emulator/log?after=%d" % after)

    def new_requests(self, at_least=1, timeout=5.0):
        """The requests logged since the last call, once there are `at_least` of them (an entry
        is logged just after its answer is sent, so beed may be done a moment earlier). Moves
        the mark past them."""
        def enough():
            entries = self.log(self.mark)
            return entries if len(entries) >= at_least else None
        entries = harness.wait_for(enough, timeout=timeout,
                                   what="%d requests in the emulator's log" % at_least)
        self.mark = entries[-1]["seq"]
        return entries


class WarehouseHttpTest(store_emulators.WithTestCA, BeeTestCase):

    TLS_PREFIX = "pb-it-whttp-tls-"

    # ---- helpers --------------------------------------------------------------------------

    def source(self, *args, name="inventory-source", seed=None, auth="bearer"):
        """An emulator requiring the bearer TOKEN (auth="bearer") or Basic USER:PASSWORD
        (auth="basic"), seeded with `seed`."""
        extra = list(args)
        if auth == "basic":
            path = os.path.join(self._tmp, "%s-password" % name)
            with open(path, "w") as f:
                f.write(PASSWORD + "\n")
            extra += ["--basic-user", USER, "--basic-password-file", path]
        elif auth == "bearer":
            path = os.path.join(self._tmp, "%s-token" % name)
            with open(path, "w") as f:
                f.write(TOKEN + "\n")
            extra += ["--bearer-token-file", path]
        if seed is not None:
            path = os.path.join(self._tmp, "%s-seed.json" % name)
            with open(path, "w") as f:
                json.dump({"items": seed}, f)
            extra += ["--seed", path]
        em = InventorySource(self._tmp, self.tls, extra, name=name)
        self.addCleanup(em.stop)
        return em

    def bee_env(self, warehouse, subdir=None, log_level="info"):
        env = self.make_env(subdir=subdir)
        warehouse = dict(warehouse)
        warehouse["ca_file"] = self.tls["ca"]
        if "username" not in warehouse:
            warehouse.setdefault("bearer_token_file",
                                 write_secret(env.root, "source-token", TOKEN))
        env.write_config(connections={env.name: env.connection(warehouse=warehouse)},
                         log_level=log_level)
        env.outputs = []  # every beectl output, to look for secrets in
        return env

    def json_warehouse(self, em, paging="page", incremental=False, **extra):
        w = {"type": "http-json", "url": em.url("/api/inventory"), "paging": paging,
             "page_size": PAGE, "items_field": "items", "sku_field": "sku",
             "quantity_field": "stock.available"}
        if paging in ("cursor", "link"):
            w["size_param"] = "limit"  # the emulator's name for it (beed's default: per_page)
        if incremental:
            w["updated_since_param"] = "updated_since"
            w["updated_at_field"] = "updated_at"
        w.update(extra)
        return w

    def first_run(self, env, expect="ok"):
        """Starts beed and waits for its first (automatic, Full) run; returns it as history
        shows it."""
        env.start()
        env.wait_run(1, timeout=60)
        run = env.history()[0]
        self.assertEqual((run["id"], run["kind"], run["result"]), (1, "full", expect), run)
        return run

    def sync(self, env, kind="smart"):
        """A Smart (or Full) Sync, waited for; returns the run with its error (history)."""
        r = env.beectl("full-sync" if kind == "full" else "sync", env.name, "--wait",
                       json_out=True, timeout=120)
        env.outputs.append(r.stdout + r.stderr)
        run = env.history(limit=1)[0]
        # beectl --wait: 0 ok, 3 partial, 4 failed.
        self.assertEqual(r.code, {"ok": 0, "partial": 3, "failed": 4}.get(run["result"]),
                         (r, run))
        return run

    def assertNoSecret(self, env, *secrets):
        texts = [env.log_text(i) for i in range(len(env.logs))] + env.outputs
        for args in (("status",), ("history", env.name), ("inventory", env.name, "--limit", "0")):
            r = env.beectl(*args)
            texts.append(r.stdout + r.stderr)
        for secret in secrets:
            for text in texts:
                self.assertNotIn(secret, text)

    # ---- 1. csv over HTTPS ------------------------------------------------------------------

    def test_csv_url_conditional_get_and_bearer(self):
        em = self.source("--auth-feeds")
        feed = {sku(i): i * 7 % 50 for i in range(1, 41)}
        em.set_feed("inv", harness.feed_text(feed))
        # trace: the most beed ever logs, none of it may show the token.
        env = self.bee_env({"type": "csv", "url": em.url("/feeds/inv.csv")}, log_level="trace")
        origin = em.url("/feeds/inv.csv")

        run = self.first_run(env)
        self.assertEqual((run["pushed"], run["read"], run["bad_rows"]), (len(feed), len(feed), 0))
        self.assertEqual(env.read_store(), feed)
        (req,) = em.new_requests()
        self.assertEqual((req["method"], req["path"], req["status"]),
                         ("GET", "/feeds/inv.csv", 200))
        self.assertEqual((req["authorization"], req.get("auth_ok")), (True, True), req)
        self.assertIsNone(req["if_none_match"], req)
        self.assertIsNone(req["if_modified_since"], req)
        etag = em.control("GET", "/_emulator/csv")["feeds"][0]["etag"]

        # Unchanged: one conditional request, 304, nothing parsed or pushed.
        em.clock(advance=60)
        run = self.sync(env)
        self.assertEqual((run["kind"], run["result"], run["pushed"], run["changed"]),
                         ("smart", "ok", 0, 0), run)
        (req,) = em.new_requests()
        self.assertEqual(req["status"], 304, req)
        self.assertTrue(req["if_none_match"] or req["if_modified_since"], req)
        if req["if_none_match"] is not None:
            self.assertEqual(req["if_none_match"], etag)
        env.wait_log(r"run %d: %s is unchanged since the last read" %
                     (run["id"], re.escape(origin)))
        self.assertEqual(env.read_store(), feed)

        # Three rows change: the next Smart Sync gets 200 and pushes exactly those three.
        feed[sku(3)] = 1000
        feed[sku(17)] = 0
        feed[sku(40)] = 77
        em.clock(advance=60)
        em.set_feed("inv", harness.feed_text(feed))
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 3, 3), run)
        (req,) = em.new_requests()
        self.assertEqual(req["status"], 200, req)
        self.assertTrue(req["if_none_match"] or req["if_modified_since"], req)
        self.assertEqual(env.read_store(), feed)

        # The new validator was kept: unchanged again.
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 0), run)
        (req,) = em.new_requests()
        self.assertEqual(req["status"], 304, req)

        # A change within the same second as the last one: Last-Modified stays, the ETag tells.
        feed[sku(1)] = 4321
        em.set_feed("inv", harness.feed_text(feed))
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 1, 1), run)
        (req,) = em.new_requests()
        self.assertEqual(req["status"], 200, req)
        self.assertEqual(env.read_store(), feed)

        # A Full Sync downloads it unconditionally and pushes every SKU.
        run = self.sync(env, "full")
        self.assertEqual((run["kind"], run["result"], run["pushed"]), ("full", "ok", len(feed)),
                         run)
        (req,) = em.new_requests()
        self.assertEqual(req["status"], 200, req)
        self.assertIsNone(req["if_none_match"], req)
        self.assertIsNone(req["if_modified_since"], req)
        self.assertEqual(env.read_store(), feed)
        self.assertNoSecret(env, TOKEN)

    def test_csv_url_bad_rows_and_a_cut_body(self):
        em = self.source("--auth-feeds")
        feed = {sku(i): i for i in range(1, 21)}
        em.set_feed("inv", harness.feed_text(feed))
        env = self.bee_env({"type": "csv", "url": em.url("/feeds/inv.csv")})
        self.first_run(env)
        self.assertEqual(env.read_store(), feed)
        em.new_requests()
        etag1 = em.control("GET", "/_emulator/csv")["feeds"][0]["etag"]

        # A bad row (line 6: SKU-0005) is a bad row as in a local file; the rest is applied.
        em.clock(advance=60)
        rows = dict(feed)
        rows[sku(5)] = "12x"
        rows[sku(6)] = 66
        em.set_feed("inv", harness.feed_text(rows))
        feed[sku(6)] = 66
        run = self.sync(env)
        self.assertEqual((run["result"], run["bad_rows"], run["pushed"]), ("partial", 1, 1), run)
        self.assertIn("line 6", run["error"])
        self.assertIn("not an integer", run["error"])
        self.assertEqual(env.read_store(), feed)

        # Its validator was not kept: the same feed is downloaded (and reported) again.
        run = self.sync(env)
        self.assertEqual((run["result"], run["bad_rows"], run["pushed"]), ("partial", 1, 0), run)
        reqs = em.new_requests(2)
        self.assertEqual([(r["status"], r["if_none_match"]) for r in reqs],
                         [(200, etag1), (200, etag1)], reqs)

        # Fixed: applied; then unchanged again.
        em.clock(advance=60)
        feed[sku(5)] = 55
        em.set_feed("inv", harness.feed_text(feed))
        run = self.sync(env)
        self.assertEqual((run["result"], run["bad_rows"], run["pushed"]), ("ok", 0, 1), run)
        self.assertEqual(env.read_store(), feed)
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 0), run)
        self.assertEqual([r["status"] for r in em.new_requests(2)], [200, 304])

        # A body cut short (the connection closes before Content-Length bytes) is never taken
        # for the feed: the request is made again and the whole feed applied.
        em.clock(advance=60)
        feed[sku(10)] = 1010
        em.set_feed("inv", harness.feed_text(feed))
        em.fault(drop_mid_body=True, path="/feeds")
        run = self.sync(env)
        self.assertEqual((run["result"], run["bad_rows"], run["pushed"]), ("ok", 0, 1), run)
        reqs = em.new_requests(2)
        self.assertEqual(len(reqs), 2, reqs)
        self.assertTrue(reqs[0].get("fault"), reqs)
        self.assertEqual(reqs[1]["status"], 200, reqs)
        self.assertEqual(env.read_store(), feed)
        self.assertNoSecret(env, TOKEN)

    # ---- 2. http-json paging ------------------------------------------------------------------

    def test_json_every_paging_mode_reads_each_item_once(self):
        expected = {sku(i): i * 3 % 101 for i in range(1, N_ITEMS + 1)}
        for mode in ("page", "offset", "cursor", "link"):
            with self.subTest(paging=mode):
                # Basic authentication in one mode, the bearer token in the others.
                auth = "basic" if mode == "offset" else "bearer"
                em = self.source("--paging", mode, "--strict-params", name="src-" + mode,
                                 seed=seed_items(), auth=auth)
                warehouse = self.json_warehouse(em, mode)
                if auth == "basic":
                    warehouse["username"] = USER
                    warehouse["password_file"] = write_secret(self._tmp, "basic-pw", PASSWORD)
                env = self.bee_env(warehouse, subdir="env-" + mode)
                run = self.first_run(env)
                self.assertEqual((run["read"], run["bad_rows"], run["pushed"]),
                                 (N_ITEMS, 0, N_ITEMS), run)
                self.assertEqual(env.read_store(), expected)
                reqs = em.new_requests(3)
                self.assertEqual(len(reqs), 3, reqs)
                self.assertEqual([r["status"] for r in reqs], [200] * 3, reqs)
                self.assertEqual([r["items"] for r in reqs], [100, 100, 50], reqs)
                self.assertEqual([(r["auth_scheme"].lower(), r["auth_ok"]) for r in reqs],
                                 [(auth, True)] * 3, reqs)
                queries = [query_of(r) for r in reqs]
                if mode == "page":
                    self.assertEqual(queries, [{"page": str(p), "per_page": "100"}
                                               for p in (1, 2, 3)])
                elif mode == "offset":
                    self.assertEqual(queries, [{"offset": str(o), "limit": "100"}
                                               for o in (0, 100, 200)])
                elif mode == "cursor":
                    self.assertEqual(queries[0], {"limit": "100"})
                    self.assertEqual([sorted(q) for q in queries[1:]], [["cursor", "limit"]] * 2)
                    self.assertNotEqual(queries[1]["cursor"], queries[2]["cursor"])
                else:
                    self.assertEqual(queries[0], {"limit": "100"})
                    self.assertEqual([sorted(q) for q in queries[1:]], [["page_token"]] * 2)
                self.assertNoSecret(env, TOKEN, PASSWORD)
                env.kill()
                em.stop()

    # ---- 3. http-json incremental -------------------------------------------------------------

    def test_json_updated_since_incremental_reads(self):
        em = self.source(seed=seed_items())
        env = self.bee_env(self.json_warehouse(em, incremental=True))
        expected = {sku(i): i * 3 % 101 for i in range(1, N_ITEMS + 1)}

        self.first_run(env)
        self.assertEqual(env.read_store(), expected)
        reqs = em.new_requests(3)
        self.assertEqual(len(reqs), 3, reqs)
        self.assertTrue(all("updated_since" not in query_of(r) for r in reqs), reqs)

        # Nothing changed: only the boundary item (updated_at == the cursor) is read again.
        run = self.sync(env)
        self.assertEqual((run["result"], run["read"], run["pushed"]), ("ok", 1, 0), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T_MAX, req)
        self.assertEqual(req["items"], 1, req)

        # Two items change at T0: a Smart Sync asks for updated_since=T_MAX and pushes those two.
        em.set_items([{"sku": sku(10), "quantity": 500}, {"sku": sku(120), "quantity": 0}])
        expected.update({sku(10): 500, sku(120): 0})
        run = self.sync(env)
        self.assertEqual((run["result"], run["read"], run["changed"], run["pushed"]),
                         ("ok", 3, 2, 2), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req), {"page": "1", "per_page": "100", "updated_since": T_MAX})
        self.assertEqual((req["status"], req["items"]), (200, 3), req)
        env.wait_log(r"run %d: .* sent 3 changed rows since %s" % (run["id"], T_MAX))
        self.assertEqual(env.read_store(), expected)

        # The boundary: the cursor is now T0. In that same second another item changes, and
        # one already read at T0 changes again; >= reads both again, and neither is lost.
        em.set_items([{"sku": sku(30), "quantity": 31}, {"sku": sku(10), "quantity": 501}])
        expected.update({sku(30): 31, sku(10): 501})
        run = self.sync(env)
        self.assertEqual((run["result"], run["changed"], run["pushed"]), ("ok", 2, 2), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T0, req)
        self.assertEqual(req["items"], 3, req)  # SKU-0010, SKU-0030, SKU-0120
        self.assertEqual(env.read_store(), expected)

        # A Full Sync reads everything, without updated_since.
        run = self.sync(env, "full")
        self.assertEqual((run["kind"], run["result"], run["read"], run["pushed"]),
                         ("full", "ok", N_ITEMS, N_ITEMS), run)
        reqs = em.new_requests(3)
        self.assertEqual(len(reqs), 3, reqs)
        self.assertTrue(all("updated_since" not in query_of(r) for r in reqs), reqs)
        self.assertEqual(env.read_store(), expected)

        # The cursor (T0, the newest updated_at of that Full read) survives a restart.
        self.assertEqual(env.stop(), 0)
        env.start()
        em.clock(advance=300)
        # A changed item and a new one (created after the cursor).
        em.set_items([{"sku": sku(200), "quantity": 202}, {"sku": sku(251), "quantity": 251}])
        expected.update({sku(200): 202, sku(251): 251})
        run = self.sync(env)
        self.assertEqual((run["kind"], run["result"], run["pushed"]), ("smart", "ok", 2), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T0, req)
        self.assertEqual(env.read_store(), expected)
        # ... and moved on to the newest updated_at now seen.
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 0), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), "2026-11-26T10:05:00Z", req)
        self.assertEqual(req["items"], 2, req)

    # ---- 4. faults ----------------------------------------------------------------------------

    def test_json_transient_faults_are_retried(self):
        em = self.source(seed=seed_items())
        env = self.bee_env(self.json_warehouse(em))
        expected = {sku(i): i * 3 % 101 for i in range(1, N_ITEMS + 1)}
        self.first_run(env)
        em.new_requests(3)

        # 503 on page 2, then success.
        em.fault(delay_ms=1, path="/api/inventory")
        em.fault(status=503, path="/api/inventory")
        em.set_items([{"sku": sku(150), "quantity": 999}])
        expected[sku(150)] = 999
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 1), run)
        reqs = em.new_requests(4)
        self.assertEqual([(query_of(r)["page"], r["status"]) for r in reqs],
                         [("1", 200), ("2", 503), ("2", 200), ("3", 200)], reqs)
        self.assertEqual(env.read_store(), expected)

        # 429 with Retry-After: 2 on page 1; the retry waits for it.
        em.fault(status=429, retry_after=2, path="/api/inventory")
        em.set_items([{"sku": sku(5), "quantity": 555}])
        expected[sku(5)] = 555
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 1), run)
        reqs = em.new_requests(4)
        self.assertEqual([(query_of(r)["page"], r["status"]) for r in reqs],
                         [("1", 429), ("1", 200), ("2", 200), ("3", 200)], reqs)
        self.assertGreaterEqual(reqs[1]["time"] - reqs[0]["time"], 1.9, reqs)
        self.assertEqual(env.read_store(), expected)

    def test_json_malformed_page_fails_and_applies_nothing(self):
        em = self.source(seed=seed_items())
        env = self.bee_env(self.json_warehouse(em, incremental=True))
        expected = {sku(i): i * 3 % 101 for i in range(1, N_ITEMS + 1)}
        self.first_run(env)
        em.new_requests(3)
        before_state = env.state_dump()

        # Items on pages 1 and 3 change; page 2 of the next read is cut short.
        em.set_items([{"sku": sku(7), "quantity": 700}, {"sku": sku(222), "quantity": 2220}])
        em.fault(delay_ms=1, path="/api/inventory")
        em.fault(malformed_json=True, path="/api/inventory")
        run = self.sync(env, "full")
        self.assertEqual(run["result"], "failed", run)
        self.assertIn("page 2", run["error"])
        self.assertIn("not JSON", run["error"])
        self.assertEqual(run["pushed"], 0, run)
        reqs = em.new_requests(2)
        self.assertEqual(len(reqs), 2, reqs)  # no page 3: the read stopped at the bad page
        self.assertEqual(env.read_store(), expected)
        self.assertEqual(env.state_dump(), before_state)

        # The next run converges; the cursor was not advanced by the failed read.
        expected.update({sku(7): 700, sku(222): 2220})
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 2), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T_MAX, req)
        self.assertEqual(env.read_store(), expected)

    def test_json_wrong_token_fails_with_401_and_no_secret(self):
        em = self.source(seed=seed_items())
        env = self.bee_env(self.json_warehouse(em), log_level="trace")
        token_file = os.path.join(env.root, "source-token")
        with open(token_file, "w") as f:
            f.write(WRONG_TOKEN + "\n")
        run = self.first_run(env, expect="failed")
        self.assertIn("401", run["error"])
        self.assertEqual(run["pushed"], 0, run)
        reqs = em.new_requests()
        self.assertEqual([(r["status"], r["auth_ok"]) for r in reqs], [(401, False)], reqs)
        self.assertIsNone(env.read_store())
        self.assertNoSecret(env, WRONG_TOKEN, TOKEN)

        # The file is read at each run: with the right token the next run works.
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        run = self.sync(env)
        self.assertEqual((run["kind"], run["result"], run["pushed"]), ("smart", "ok", N_ITEMS),
                         run)
        self.assertEqual(env.read_store(), {sku(i): i * 3 % 101 for i in range(1, N_ITEMS + 1)})
        self.assertNoSecret(env, WRONG_TOKEN, TOKEN)

    # ---- 5. a bad item in an incremental read ---------------------------------------------------

    def test_json_bad_item_holds_the_cursor(self):
        # The emulator's item data is strictly integer, so the quantity beed reads is the
        # emulator's (free-text) location field, placed at stock.available; the emulator's own
        # quantity goes to "qty", which beed ignores. Every change sets updated_at explicitly,
        # as a location-only change would keep it.
        seed = [{"sku": sku(i), "quantity": 0, "location": str(i * 10),
                 "updated_at": T_MAX if i == 6 else T_OLD} for i in range(1, 7)]
        em = self.source("--quantity-field", "qty", "--location-field", "stock.available",
                         seed=seed)
        env = self.bee_env(self.json_warehouse(em, incremental=True))
        expected = {sku(i): i * 10 for i in range(1, 7)}
        self.first_run(env)
        self.assertEqual(env.read_store(), expected)
        em.new_requests()

        # SKU-0002 gets a good quantity, SKU-0003 one that is not an integer.
        em.set_items([{"sku": sku(2), "quantity": 0, "location": "7", "updated_at": T0},
                      {"sku": sku(3), "quantity": 0, "location": "7.5", "updated_at": T0}])
        expected[sku(2)] = 7
        run = self.sync(env)
        self.assertEqual((run["result"], run["bad_rows"], run["pushed"]), ("partial", 1, 1), run)
        self.assertIn(sku(3), run["error"])
        self.assertIn("not an integer", run["error"])
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T_MAX, req)
        self.assertEqual(env.read_store(), expected)
        self.assertEqual(env.inventory()[sku(3)]["quantity"], 30)

        # The cursor did not move: the next Smart Sync asks for the same updated_since.
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("partial", 0), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T_MAX, req)

        # Fixed (a minute later): applied, and then the cursor moves on.
        em.clock(advance=60)
        em.set_items([{"sku": sku(3), "quantity": 0, "location": "8",
                       "updated_at": "2026-11-26T10:01:00Z"}])
        expected[sku(3)] = 8
        run = self.sync(env)
        self.assertEqual((run["result"], run["bad_rows"], run["pushed"]), ("ok", 0, 1), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), T_MAX, req)
        self.assertEqual(env.read_store(), expected)
        run = self.sync(env)
        self.assertEqual((run["result"], run["pushed"]), ("ok", 0), run)
        (req,) = em.new_requests()
        self.assertEqual(query_of(req).get("updated_since"), "2026-11-26T10:01:00Z", req)


if __name__ == "__main__":
    harness.main()
