#!/usr/bin/env python3
"""The `type: postgres` warehouse end to end: a real PostgreSQL server started for these tests
(pg_server.py), the real beed and beectl, and a CSV store. Full Sync from a view, a Smart Sync
after three UPDATEs, bad and duplicate rows, a wrong password, a server that is down, query
errors, and a 100,000-row read. Exits 77 (ctest: skipped) when PostgreSQL is not installed."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402
import pg_server  # noqa: E402

SKIP = 77  # ctest's SKIP_RETURN_CODE for this test

# A WMS-like schema: stock per SKU and bin, and the view a connector would be pointed at.
SCHEMA = """
CREATE TABLE item (sku text PRIMARY KEY, name text);
CREATE TABLE bin_stock (sku text REFERENCES item, bin text, qty integer NOT NULL,
                        PRIMARY KEY (sku, bin));
CREATE VIEW stock_view AS
  SELECT i.sku, COALESCE(sum(b.qty), 0)::bigint AS quantity
  FROM item i LEFT JOIN bin_stock b USING (sku) GROUP BY i.sku;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO packagebee;
"""


def sku(i):
    return "SKU-%04d" % i


class PostgresWarehouseTest(BeeTestCase):
    server = None
    databases = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server_root = harness.tempfile.mkdtemp(prefix="pb-it-pg-")
        try:
            cls.server = pg_server.PgServer.start(os.path.join(cls.server_root, "pg"))
            # Roles belong to the cluster; each test has a database of its own.
            cls.server.psql("postgres", "CREATE ROLE packagebee LOGIN")
        except BaseException:
            # tearDownClass does not run when setUpClass fails.
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.destroy()
            cls.server = None
        harness.shutil.rmtree(cls.server_root, ignore_errors=True)

    # ---- helpers ------------------------------------------------------------------------

    def database(self, schema=SCHEMA):
        """A fresh database for this test, with `schema` applied; returns its name."""
        PostgresWarehouseTest.databases += 1
        name = "wms%d" % PostgresWarehouseTest.databases
        self.server.create_database(name)
        if schema:
            self.server.psql(name, schema)
        return name

    def sql(self, db, text):
        return self.server.psql(db, text)

    def seed(self, db, count=50):
        """SKU-0001..count, each in two bins: quantity i + (i % 7)."""
        self.sql(db, "INSERT INTO item SELECT 'SKU-' || lpad(i::text, 4, '0'), 'item ' || i "
                     "FROM generate_series(1, %d) i;"
                     "INSERT INTO bin_stock SELECT 'SKU-' || lpad(i::text, 4, '0'), 'A1', i "
                     "FROM generate_series(1, %d) i;"
                     "INSERT INTO bin_stock SELECT 'SKU-' || lpad(i::text, 4, '0'), 'B2', i %% 7 "
                     "FROM generate_series(1, %d) i;" % (count, count, count))
        return {sku(i): i + i % 7 for i in range(1, count + 1)}

    def warehouse(self, db, user="packagebee", query="SELECT sku, quantity FROM stock_view",
                  **extra):
        w = {"type": "postgres", "conninfo": self.server.conninfo(db, user), "query": query}
        w.update(extra)
        return w

    def start_env(self, warehouse, first_result="ok", **connection):
        """Config with one connection `demo`, beed started, its first (automatic, Full) run
        awaited; returns (env, that run)."""
        env = self.make_env()
        env.write_config(connections={env.name: env.connection(warehouse=warehouse,
                                                               **connection)})
        env.start()
        last = env.wait_run(1, timeout=120)
        self.assertEqual((last["kind"], last["result"]), ("full", first_result), last)
        # status has a summary; history has the whole record (read, bad_rows, error...).
        return env, {r["id"]: r for r in env.history()}[last["id"]]

    def sync(self, env, kind, expect_code, name=None):
        r = env.beectl("full-sync" if kind == "full" else "sync", name or env.name, "--wait",
                       json_out=True)
        self.assertEqual(r.code, expect_code, r)
        self.assertIsNotNone(r.json, r)
        return r.json

    # ---- tests --------------------------------------------------------------------------

    def test_full_sync_from_view_then_smart_sync_of_three_updates(self):
        db = self.database()
        expected = self.seed(db, 50)
        env, first = self.start_env(self.warehouse(db))
        self.assertEqual((first["read"], first["pushed"], first["bad_rows"]), (50, 50, 0), first)
        self.assertEqual(env.read_store(), expected)

        # describe(): the conninfo, in `beectl connections`.
        conns = env.beectl("connections", json_out=True)
        self.assertEqual(conns.code, 0, conns)
        self.assertIn("postgres host=127.0.0.1 port=%d dbname=%s user=packagebee" %
                      (self.server.port, db), conns.stdout)

        run = self.sync(env, "full", 0)
        self.assertEqual((run["result"], run["read"], run["changed"], run["pushed"]),
                         ("ok", 50, 0, 50), run)

        self.sql(db, "UPDATE bin_stock SET qty = qty + 100 WHERE bin = 'A1' AND sku IN "
                     "('SKU-0003', 'SKU-0017', 'SKU-0042')")
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["result"], run["kind"], run["read"], run["changed"], run["pushed"],
                          run["rejected"], run["bad_rows"]), ("ok", "smart", 50, 3, 3, 0, 0), run)
        for s in ("SKU-0003", "SKU-0017", "SKU-0042"):
            expected[s] += 100
        self.assertEqual(env.read_store(), expected)
        # Nothing changed since: nothing pushed.
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["changed"], run["pushed"]), (0, 0), run)

    def test_incremental_reads_pass_the_last_cursor_as_dollar_one(self):
        # An ERP-like table with a modification time per row (as ERPNext's tabBin.modified).
        db = self.database(
            "CREATE TABLE bin (sku text PRIMARY KEY, qty bigint NOT NULL, "
            "modified timestamptz NOT NULL);"
            "GRANT SELECT ON bin TO packagebee;"
            "INSERT INTO bin SELECT 'SKU-' || lpad(i::text, 4, '0'), i, "
            "'2026-11-26 08:00:00+00'::timestamptz + i * interval '1 second' "
            "FROM generate_series(1, 20) i;")
        query = ("SELECT sku, qty AS quantity, modified FROM bin "
                 "WHERE $1::timestamptz IS NULL OR modified >= $1::timestamptz")
        env, first = self.start_env(self.warehouse(db, query=query, cursor_column="modified"))
        self.assertEqual((first["read"], first["pushed"]), (20, 20), first)
        expected = {sku(i): i for i in range(1, 21)}
        self.assertEqual(env.read_store(), expected)

        # Nothing changed: the Smart Sync reads only the boundary row (>=) and pushes nothing.
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["result"], run["read"], run["pushed"]), ("ok", 1, 0), run)
        env.wait_log(harness.re.escape("sent 1 changed rows since 2026-11-26 08:00:20+00"))

        # Two rows change, one of them in the cursor's own instant: both are read and pushed.
        self.sql(db, "UPDATE bin SET qty = 500, modified = '2026-11-26 09:00:00+00' "
                     "WHERE sku = 'SKU-0003';"
                     "UPDATE bin SET qty = 600 WHERE sku = 'SKU-0020';")
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["result"], run["read"], run["changed"], run["pushed"]),
                         ("ok", 2, 2, 2), run)
        expected.update({"SKU-0003": 500, "SKU-0020": 600})
        self.assertEqual(env.read_store(), expected)

        # The cursor survives a restart; a Full Sync still reads every row.
        env.stop()
        env.start()
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["read"], run["pushed"]), (1, 0), run)
        self.assertIn("since 2026-11-26 09:00:00+00", env.log_text())
        run = self.sync(env, "full", 0)
        self.assertEqual((run["result"], run["read"], run["pushed"]), ("ok", 20, 20), run)

    def test_bad_rows_are_named_and_keep_their_state(self):
        db = self.database("CREATE TABLE feed (sku text, quantity text);"
                           "GRANT SELECT ON feed TO packagebee;")
        self.sql(db, "INSERT INTO feed VALUES ('A', '7'), ('B', '10'), ('C', '3'), ('D', '4'), "
                     "('E', ' +5 ')")
        env, _ = self.start_env(self.warehouse(db, query="SELECT sku, quantity FROM feed "
                                                         "ORDER BY sku"))
        self.assertEqual(env.read_store(), {"A": 7, "B": 10, "C": 3, "D": 4, "E": 5})

        self.sql(db, "UPDATE feed SET quantity = NULL WHERE sku = 'B';"
                     "UPDATE feed SET quantity = 'ten' WHERE sku = 'C';"
                     "UPDATE feed SET quantity = '6' WHERE sku = 'A';"
                     "INSERT INTO feed VALUES (NULL, '9');")
        run = self.sync(env, "smart", 3)
        self.assertEqual((run["result"], run["read"], run["bad_rows"], run["changed"],
                          run["pushed"]), ("partial", 3, 3, 1, 1), run)
        origin = "postgres " + self.server.conninfo(db, "packagebee")
        # ORDER BY sku puts NULL last: rows 1 A, 2 B, 3 C, 4 D, 5 E, 6 NULL.
        self.assertEqual(run["error"],
                         "%s line 2: SKU 'B': quantity is NULL (NULL is not zero)" % origin)
        log = env.log_text()
        self.assertIn("%s line 3: SKU 'C': quantity 'ten' is not an integer" % origin, log)
        self.assertIn("%s line 6: SKU is NULL" % origin, log)
        # B and C keep their previous quantities; A's change is applied.
        self.assertEqual(env.read_store(), {"A": 6, "B": 10, "C": 3, "D": 4, "E": 5})
        state = env.state_dump()
        self.assertEqual((state["B"]["quantity"], state["C"]["quantity"]), (10, 3))

        # NUMERIC whole numbers are integers; a fraction is a bad row.
        env.kill()
        env.write_config(connections={env.name: env.connection(warehouse=self.warehouse(
            db, query="SELECT sku, (CASE WHEN sku = 'D' THEN 4.5 ELSE 8 END)::numeric(12,3) "
                      "AS quantity FROM feed WHERE sku IS NOT NULL"))})
        env.start()
        run = self.sync(env, "smart", 3)
        self.assertEqual((run["result"], run["read"], run["bad_rows"]), ("partial", 4, 1), run)
        self.assertIn("SKU 'D': quantity '4.500' is not an integer", run["error"])
        self.assertEqual(env.read_store(), {"A": 8, "B": 8, "C": 8, "D": 4, "E": 8})

    def test_duplicate_skus(self):
        db = self.database("CREATE TABLE feed (sku text, quantity int);"
                           "GRANT SELECT ON feed TO packagebee;")
        self.sql(db, "INSERT INTO feed VALUES ('A', 5), ('B', 11), ('C', 3)")
        query = "SELECT sku, quantity FROM feed ORDER BY sku, quantity"
        env, _ = self.start_env(self.warehouse(db, query=query))
        self.sql(db, "INSERT INTO feed VALUES ('A', 6); UPDATE feed SET quantity = 12 "
                     "WHERE sku = 'B'")
        run = self.sync(env, "smart", 3)
        self.assertEqual((run["result"], run["read"], run["bad_rows"], run["changed"],
                          run["pushed"]), ("partial", 2, 2, 1, 1), run)
        origin = "postgres " + self.server.conninfo(db, "packagebee")
        self.assertEqual(run["error"], "%s line 1: duplicate SKU 'A' (also on line 2)" % origin)
        self.assertEqual(env.read_store(), {"A": 5, "B": 12, "C": 3})

        # duplicates: sum adds them up.
        env.kill()
        env.write_config(connections={env.name: env.connection(
            warehouse=self.warehouse(db, query=query, duplicates="sum"))})
        env.start()
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["result"], run["bad_rows"], run["changed"]), ("ok", 0, 1), run)
        self.assertEqual(env.read_store(), {"A": 11, "B": 12, "C": 3})

    def test_the_connection_is_kept_between_runs_and_made_again_when_it_died(self):
        db = self.database()
        expected = self.seed(db, 10)
        env, _ = self.start_env(self.warehouse(db))

        def sessions():
            return self.sql("postgres", "SELECT pid FROM pg_stat_activity WHERE datname = '%s' "
                                        "AND usename = 'packagebee'" % db).split()

        # The first run left its connection idle (no transaction open); the next runs use it.
        kept = sessions()
        self.assertEqual(len(kept), 1, kept)
        self.assertEqual(self.sql("postgres", "SELECT state FROM pg_stat_activity WHERE pid = %s"
                                  % kept[0]).strip(), "idle")
        for _ in range(2):
            self.assertEqual(self.sync(env, "smart", 0)["result"], "ok")
        self.assertEqual(sessions(), kept)

        # The server ends the session while beed is idle: the next run connects again, and
        # reads what changed meanwhile.
        self.sql("postgres", "SELECT pg_terminate_backend(%s)" % kept[0])
        self.sql(db, "UPDATE bin_stock SET qty = qty + 5 WHERE bin = 'A1' AND sku = 'SKU-0004'")
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["result"], run["read"], run["changed"], run["pushed"]),
                         ("ok", 10, 1, 1), run)
        expected["SKU-0004"] += 5
        self.assertEqual(env.read_store(), expected)
        again = sessions()
        self.assertEqual(len(again), 1, again)
        self.assertNotEqual(again, kept)

        # Stopping beed closes it.
        env.stop()
        deadline = time.monotonic() + 10
        while sessions() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(sessions(), [])

    def test_wrong_password_fails_clearly_and_never_shows_it(self):
        db = self.database()
        expected = self.seed(db, 10)
        right, wrong = "Right-Secret-7f3a9c", "Wrong-Secret-b81d2e"
        self.server.create_password_role("pw_reader", right)
        self.sql(db, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO pw_reader")
        env = self.make_env()
        password_file = os.path.join(env.root, "db-password")
        with open(password_file, "w") as f:
            f.write(wrong + "\n")
        os.chmod(password_file, 0o600)
        env.write_config(connections={env.name: env.connection(warehouse=self.warehouse(
            db, user="pw_reader", password_file=password_file))})
        env.start()
        first = env.wait_run(1, timeout=120)
        self.assertEqual(first["result"], "failed", first)
        run = self.sync(env, "full", 4)
        self.assertEqual(run["result"], "failed", run)
        self.assertIn("postgres host=127.0.0.1 port=%d dbname=%s user=pw_reader: connection to "
                      "server at \"127.0.0.1\", port %d failed: FATAL:  password authentication "
                      "failed for user \"pw_reader\"" % (self.server.port, db, self.server.port),
                      run["error"])
        self.assertIsNone(env.read_store())
        human = env.beectl("full-sync", env.name, "--wait")
        self.assertEqual(human.code, 4, human)
        self.assertIn("password authentication failed", human.stdout + human.stderr)
        outputs = [env.log_text(), human.stdout, human.stderr, repr(run),
                   env.beectl("history", env.name).stdout,
                   env.beectl("--json", "status").stdout]
        for text in outputs:
            self.assertNotIn(wrong, text)
            self.assertNotIn(right, text)

        # The file is read at each run: fixing it needs no reload.
        with open(password_file, "w") as f:
            f.write(right + "\n")
        run = self.sync(env, "full", 0)
        self.assertEqual((run["result"], run["read"]), ("ok", 10), run)
        self.assertEqual(env.read_store(), expected)
        self.assertNotIn(right, env.log_text())

    def test_server_down_fails_the_run_and_changes_nothing(self):
        db = self.database()
        expected = self.seed(db, 20)
        env, _ = self.start_env(self.warehouse(db, connect_timeout="3s"))
        self.assertEqual(env.read_store(), expected)
        state, store = env.state_dump(), env.read_store_raw()
        self.sql(db, "UPDATE bin_stock SET qty = qty + 1 WHERE bin = 'B2' AND sku IN "
                     "('SKU-0002', 'SKU-0011')")
        self.server.stop()
        try:
            started = time.monotonic()
            run = self.sync(env, "full", 4)
            self.assertLess(time.monotonic() - started, 30)
            self.assertEqual((run["result"], run["read"], run["pushed"]), ("failed", 0, 0), run)
            self.assertIn("postgres host=127.0.0.1 port=%d dbname=%s user=packagebee: connection "
                          "to server at \"127.0.0.1\", port %d failed:" %
                          (self.server.port, db, self.server.port), run["error"])
            self.assertIn("Connection refused", run["error"])
            self.assertEqual(env.read_store_raw(), store)
            self.assertEqual(env.state_dump(), state)
        finally:
            self.server.start_again()
        # Back up: the next Smart Sync pushes the two changes made meanwhile.
        run = self.sync(env, "smart", 0)
        self.assertEqual((run["result"], run["read"], run["changed"], run["pushed"]),
                         ("ok", 20, 2, 2), run)
        expected["SKU-0002"] += 1
        expected["SKU-0011"] += 1
        self.assertEqual(env.read_store(), expected)

    def test_query_errors_fail_the_run_with_the_reason(self):
        db = self.database()
        self.seed(db, 5)
        env = self.make_env()
        cases = {
            # name: (warehouse, expected text in the error)
            "wrongcol": (self.warehouse(db, query="SELECT sku, quantity AS qty FROM stock_view"),
                         "the query returns no column 'quantity' (columns: 'sku', 'qty')"),
            "notable": (self.warehouse(db, query="SELECT sku, quantity FROM nowhere"),
                        "query failed: ERROR:  relation \"nowhere\" does not exist"),
            "writer": (self.warehouse(db, user="postgres",
                                      query="DELETE FROM bin_stock RETURNING sku, qty AS quantity"),
                       "query failed: ERROR:  cannot execute DELETE in a read-only transaction"),
            "slow": (self.warehouse(db, statement_timeout="1s",
                                    query="SELECT sku, quantity FROM stock_view, pg_sleep(3)"),
                     "query failed: ERROR:  canceling statement due to statement timeout"),
            "twostatements": (self.warehouse(db, query="SELECT sku, quantity FROM stock_view; "
                                                       "SELECT 1"),
                              "cannot insert multiple commands into a prepared statement"),
            "booltype": (self.warehouse(db, query="SELECT sku, true AS quantity FROM stock_view"),
                         "column 'quantity' has a type (OID 16) that is not an integer, numeric "
                         "or text type; cast it in the query, e.g. quantity::bigint"),
        }
        env.write_config(connections={
            name: env.connection(warehouse=w, store={"type": "csv", "path": "out/%s.csv" % name})
            for name, (w, _) in cases.items()})
        env.start()
        for name, (_, message) in cases.items():
            with self.subTest(name):
                env.wait_run(1, name=name, timeout=120)
                first = {r["id"]: r for r in env.history(name)}[1]
                self.assertEqual(first["result"], "failed", first)
                self.assertIn(message, first["error"])
                self.assertFalse(os.path.exists(os.path.join(env.root, "out", name + ".csv")))
        # The DELETE was refused: every row is still there.
        self.assertEqual(self.sql(db, "SELECT count(*) FROM bin_stock").strip(), "10")

    def test_100k_rows(self):
        db = self.database()
        count = 100_000
        self.sql(db, "INSERT INTO item SELECT 'SKU-' || lpad(i::text, 7, '0') "
                     "FROM generate_series(1, %d) i;"
                     "INSERT INTO bin_stock SELECT 'SKU-' || lpad(i::text, 7, '0'), 'A1', "
                     "(i * 7919) %% 500 FROM generate_series(1, %d) i;" % (count, count))
        started = time.monotonic()
        env, first = self.start_env(self.warehouse(db), automatic="full")
        self.assertEqual((first["read"], first["pushed"], first["bad_rows"]),
                         (count, count, 0), first)
        store = env.read_store()
        self.assertEqual(len(store), count)
        for i in (1, 4242, 77777, count):
            self.assertEqual(store["SKU-%07d" % i], (i * 7919) % 500)
        print("100k-row Full Sync: %.1f s from start (run %d ms)" %
              (time.monotonic() - started, first["duration_ms"]), file=sys.stderr)


if __name__ == "__main__":
    try:
        pg_server.find_bin_dir()
    except pg_server.PgUnavailable as e:
        print("skipped: %s" % e, file=sys.stderr)
        sys.exit(SKIP)
    if os.geteuid() == 0:
        try:
            pg_server.pwd.getpwnam("postgres")
        except KeyError:
            print("skipped: running as root and there is no `postgres` user to run the server as",
                  file=sys.stderr)
            sys.exit(SKIP)
    harness.main()
