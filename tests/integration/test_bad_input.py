#!/usr/bin/env python3
"""Bad input of every kind: configuration errors, bad feed rows, refused feeds, beectl misuse
and hostile control-socket clients. beed must report precisely and keep serving."""

import os
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase, frame, raw_connect, read_reply  # noqa: E402

BASE = """\
daemon: {socket: beed.sock, state_dir: state}
connections:
  demo:
"""


class ConfigErrorTest(BeeTestCase):

    def check_error(self, body, line, column, key_path, message):
        env = self.make_env()
        env.write_config(text=BASE + body)
        r = env.check_config()
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.stdout, "", r)
        expected = "beed: configuration error: %s:%d:%d: %s: %s" % (
            env.config_path, line, column, key_path, message)
        self.assertTrue(r.stderr.startswith(expected), "expected %r in\n%s" % (expected, r.stderr))
        # Starting with it fails the same way, before touching the socket or the state.
        p = env.start(wait=False)
        self.assertEqual(p.wait(timeout=30), 1)
        env.proc = None
        self.assertIn(expected, env.log_text())
        self.assertFalse(os.path.exists(env.socket))
        self.assertFalse(os.path.exists(env.state_dir))

    def test_unknown_key(self):
        self.check_error("    warehouse: {type: csv, path: feeds}\n"
                         "    store: {type: csv, path: out/demo.csv}\n"
                         "    inventory:\n"
                         "      schedul: 5m\n",
                         7, 7, "connections.demo.inventory.schedul", 'unknown key "schedul"')

    def test_unknown_daemon_key(self):
        env = self.make_env()
        env.write_config(text="daemon: {socket: beed.sock, state_dir: state, colour: blue}\n"
                              "connections:\n"
                              "  demo:\n"
                              "    warehouse: {type: csv, path: feeds}\n"
                              "    store: {type: csv, path: out/demo.csv}\n")
        r = env.check_config()
        self.assertEqual(r.code, 1, r)
        self.assertIn("%s:1:47: daemon.colour: unknown key \"colour\"" % env.config_path, r.stderr)

    def test_bad_duration(self):
        self.check_error("    warehouse: {type: csv, path: feeds}\n"
                         "    store: {type: csv, path: out/demo.csv}\n"
                         "    inventory:\n"
                         "      schedule: 5 minutes\n",
                         7, 17, "connections.demo.inventory.schedule",
                         'expected a duration like 60m or 1h, got "5 minutes"')

    def test_unknown_type(self):
        self.check_error("    warehouse:\n"
                         "      type: ftp\n"
                         "      path: feeds\n"
                         "    store: {type: csv, path: out/demo.csv}\n",
                         5, 13, "connections.demo.warehouse.type",
                         'unknown warehouse type "ftp"')

    def test_valid_config(self):
        env = self.make_env()
        env.write_config(text=BASE + "    warehouse: {type: csv, path: feeds}\n"
                                     "    store: {type: csv, path: out/demo.csv}\n")
        r = env.check_config()
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.stdout, "beed: %s: configuration OK (1 connection)\n" % env.config_path)


class BadFeedTest(BeeTestCase):

    INITIAL = {"A": 7, "B": 10, "C": 3, "D": 4}

    def synced_env(self, **connection):
        env = self.make_env()
        env.write_config(connections={"demo": env.connection(**connection)})
        env.write_feed(self.INITIAL)
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")
        self.assertEqual(env.read_store(), self.INITIAL)
        return env

    def sync_wait(self, env, expect_code):
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, expect_code, r)
        return r.json

    def assert_nothing_changed(self, env, state_before, store_before, stat_before):
        self.assertEqual(env.state_dump(), state_before)
        self.assertEqual(env.read_store_raw(), store_before)
        st = os.stat(env.store_path)
        self.assertEqual((st.st_ino, st.st_mtime_ns), (stat_before.st_ino, stat_before.st_mtime_ns),
                         "the store file was rewritten")

    def test_bad_rows_partial(self):
        env = self.synced_env()
        feed = env.write_feed(None, raw="sku,quantity\n"   # line 1
                                        "A,5\n"            # line 2
                                        "B,ten\n"          # line 3: not an integer
                                        ",4\n"             # line 4: no SKU
                                        "C,4\n"            # line 5
                                        "D,4\n")           # line 6
        run = self.sync_wait(env, 3)
        self.assertEqual((run["result"], run["read"], run["bad_rows"], run["changed"],
                          run["pushed"], run["rejected"]), ("partial", 3, 2, 2, 2, 0), run)
        self.assertEqual(run["error"], "%s line 3: quantity 'ten' is not an integer" % feed)
        # B keeps its previous quantity everywhere; the good rows are applied.
        self.assertEqual(env.read_store(), {"A": 5, "B": 10, "C": 4, "D": 4})
        state = env.state_dump()
        self.assertEqual((state["B"]["quantity"], state["B"]["store_quantity"],
                          state["B"]["listed"], state["B"]["pending"]), (10, 10, True, False))
        self.assertEqual(set(state), {"A", "B", "C", "D"})
        log = env.log_text()
        self.assertIn("%s line 3: quantity 'ten' is not an integer" % feed, log)
        self.assertIn("%s line 4: no SKU" % feed, log)
        # Human output: exit 3 as well, with the line in the summary.
        r = env.beectl("sync", "demo", "--wait")
        self.assertEqual(r.code, 3, r)
        self.assertIn("finished partial", r.stdout)
        self.assertIn("line 3", r.stdout)
        status = env.conn_status()["last_sync"]
        self.assertEqual(status["result"], "partial")

    def test_duplicate_sku(self):
        env = self.synced_env()
        feed = env.write_feed(None, raw="sku,quantity\nA,5\nB,11\nA,6\nC,3\nD,4\n")
        run = self.sync_wait(env, 3)
        self.assertEqual((run["result"], run["bad_rows"], run["changed"], run["pushed"]),
                         ("partial", 2, 1, 1), run)
        self.assertEqual(run["error"], "%s line 2: duplicate SKU 'A' (also on line 4)" % feed)
        self.assertEqual(env.read_store(), {"A": 7, "B": 11, "C": 3, "D": 4})
        self.assertEqual(env.state_dump()["A"]["quantity"], 7)

    def test_duplicate_sku_summed(self):
        env = self.synced_env(warehouse={"type": "csv", "path": "feeds", "pattern": "inv_*.csv",
                                         "duplicates": "sum"})
        env.write_feed(None, raw="sku,quantity\nA,5\nB,11\nA,6\nC,3\nD,4\n")
        run = self.sync_wait(env, 0)
        self.assertEqual((run["result"], run["bad_rows"], run["changed"], run["pushed"]),
                         ("ok", 0, 2, 2), run)
        self.assertEqual(env.read_store(), {"A": 11, "B": 11, "C": 3, "D": 4})

    def test_empty_feeds_fail_and_change_nothing(self):
        env = self.synced_env()
        state, store, st = env.state_dump(), env.read_store_raw(), os.stat(env.store_path)
        feed = env.write_feed(None, raw="sku,quantity\n")
        run = self.sync_wait(env, 4)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("failed", 0, 0), run)
        self.assertEqual(run["error"], "feed %s has no usable rows; refusing it (nothing changed)"
                         % feed)
        self.assert_nothing_changed(env, state, store, st)

        feed = env.write_feed(None, raw="")
        run = self.sync_wait(env, 4)
        self.assertEqual(run["result"], "failed", run)
        self.assertEqual(run["error"], "%s: empty file (expected a header line)" % feed)
        self.assert_nothing_changed(env, state, store, st)
        # A Full Sync refuses it just the same.
        r = env.beectl("full-sync", "demo", "--wait", json_out=True)
        self.assertEqual((r.code, r.json["result"]), (4, "failed"), r)
        self.assert_nothing_changed(env, state, store, st)
        self.assertEqual(env.conn_status()["last_sync"]["result"], "failed")

    def test_zeroing_more_than_half_is_refused(self):
        env = self.synced_env()
        state, store, st = env.state_dump(), env.read_store_raw(), os.stat(env.store_path)
        feed = env.write_feed({"A": 0, "B": 0, "C": 0, "D": 4})
        run = self.sync_wait(env, 4)
        self.assertEqual((run["result"], run["pushed"]), ("failed", 0), run)
        self.assertEqual(run["error"], "feed %s would set 3 of 4 known SKUs to 0 (more than half); "
                                       "refusing it (nothing changed)" % feed)
        self.assert_nothing_changed(env, state, store, st)
        # Exactly half is allowed.
        env.write_feed({"A": 0, "B": 0, "C": 3, "D": 4})
        run = self.sync_wait(env, 0)
        self.assertEqual((run["result"], run["pushed"], run["changed"]), ("ok", 2, 2), run)
        self.assertEqual(env.read_store(), {"A": 0, "B": 0, "C": 3, "D": 4})

    def test_missing_skus_zero_guard(self):
        env = self.synced_env(missing_skus="zero")
        state, store, st = env.state_dump(), env.read_store_raw(), os.stat(env.store_path)
        env.write_feed({"A": 7})  # B, C and D vanished: would zero 3 of 4
        run = self.sync_wait(env, 4)
        self.assertEqual(run["result"], "failed", run)
        self.assertIn("would set 3 of 4 known SKUs to 0", run["error"])
        self.assert_nothing_changed(env, state, store, st)


class BeectlErrorTest(BeeTestCase):

    def test_unknown_connection(self):
        env = self.make_env()
        env.write_feed({"A": 1})
        env.write_config(connections={
            "demo": env.connection(),
            "other": env.connection(store={"type": "csv", "path": "out/other.csv"})})
        env.start()
        message = "no connection named 'nope' (known: demo, other)"
        for args in (("sync", "nope"), ("full-sync", "nope", "--wait"), ("inventory", "nope")):
            r = env.beectl(*args)
            self.assertEqual(r.code, 1, r)
            self.assertEqual(r.stderr, "beectl: %s\n" % message, r)
            self.assertEqual(r.stdout, "", r)
        r = env.beectl("sync", "nope", json_out=True)
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.json, {"status": "unknown_connection", "code": 3, "error": message})

    def test_no_daemon(self):
        env = self.make_env()
        r = env.beectl("status")
        self.assertEqual(r.code, 5, r)
        self.assertTrue(r.stderr.startswith("beectl: "), r)
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 5, r)
        # A stale socket file left by a killed beed: connection refused, also 5.
        env.write_feed({"A": 1})
        env.write_config()
        env.start()
        env.kill()
        self.assertTrue(os.path.exists(env.socket))
        r = env.beectl("status")
        self.assertEqual(r.code, 5, r)
        # ... and the next beed replaces the stale file.
        env.start()
        self.assertEqual(env.beectl("status").code, 0)

    def test_bad_usage(self):
        env = self.make_env()
        cases = [(), ("frobnicate",), ("sync",), ("sync", "demo", "extra"),
                 ("sync", "demo", "--bogus"), ("inventory", "demo", "--limit", "-1"),
                 ("inventory", "demo", "--limit", "many"), ("inventory", "demo", "--limit"),
                 ("status", "--wait"), ("sync", "bad/name"), ("--nope", "status"),
                 ("sync", "demo", "--wait=yes"), ("sync", "demo", "--wait", "--wait")]
        for args in cases:
            r = env.beectl(*args)  # no daemon needed: usage is checked first
            self.assertEqual(r.code, 2, r)
            self.assertEqual(r.stdout, "", r)
            self.assertIn("\nsee beectl ", r.stderr, r)
        r = env.beectl("--help")
        self.assertEqual(r.code, 0, r)
        self.assertIn("Exit status:", r.stdout)


class RawClientTest(BeeTestCase):

    def setUp(self):
        super().setUp()
        self.env = self.make_env()
        self.env.write_feed({"A": 1, "B": 2})
        self.env.write_config()
        self.env.start()
        self.env.wait_run(1)

    def assert_alive(self, after):
        r = self.env.beectl("status", json_out=True)
        self.assertEqual(r.code, 0, "beed stopped answering after %s: %r" % (after, r))
        self.assertEqual(r.json["connections"][0]["name"], "demo")
        self.assertTrue(self.env.running(), "beed died after %s" % after)

    def exchange(self, data):
        """Sends raw bytes; returns (first reply or None, whether beed then closed)."""
        s = raw_connect(self.env.socket)
        try:
            s.sendall(data)
            reply = read_reply(s)
            closed = reply is None or harness.closed_by_peer(s, timeout=5)
            return reply, closed
        finally:
            s.close()

    def assert_bad_request(self, data, what, error=None):
        reply, closed = self.exchange(data)
        self.assertIsNotNone(reply, "%s: no reply" % what)
        self.assertEqual((reply.get("v"), reply.get("status"), reply.get("code")),
                         (1, "bad_request", 1), "%s: %r" % (what, reply))
        self.assertTrue(reply.get("error"), reply)
        if error is not None:
            self.assertEqual(reply["error"], error)
        self.assertTrue(closed, "%s: connection left open" % what)
        self.assert_alive(what)

    def test_garbage_bytes(self):
        # "GET " as a length is ~1.1 GiB: refused from the header alone.
        self.assert_bad_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "garbage bytes")

    def test_invalid_json_in_valid_frame(self):
        self.assert_bad_request(frame(b'{"v": 1, "command": '), "invalid JSON")
        self.assert_bad_request(frame(b"[1, 2, 3]"), "a JSON array")
        self.assert_bad_request(frame(b'{"v": 1, "command": "st\xffatus"}'), "invalid UTF-8")
        self.assert_bad_request(b"\0\0\0\0", "a zero-length frame")

    def test_unsupported_version(self):
        self.assert_bad_request(frame({"v": 2, "command": "status"}), "protocol v2",
                                error="unsupported protocol version 2 (supported: 1)")
        self.assert_bad_request(frame({"command": "status"}), "no version")

    def test_unknown_command_keeps_connection(self):
        s = raw_connect(self.env.socket)
        try:
            s.sendall(frame({"v": 1, "command": "frobnicate"}))
            reply = read_reply(s)
            self.assertEqual((reply["status"], reply["code"]), ("unknown_command", 2), reply)
            self.assertIn("frobnicate", reply["error"])
            # Wrong-typed argument: bad_request from the handler.
            s.sendall(frame({"v": 1, "command": "sync",
                             "args": {"connection": "demo", "wait": "yes"}}))
            reply = read_reply(s)
            self.assertEqual((reply["status"], reply["code"]), ("bad_request", 1), reply)
            # The same connection still serves the next request.
            s.sendall(frame({"v": 1, "command": "status"}))
            reply = read_reply(s)
            self.assertEqual((reply["status"], reply["code"]), ("ok", 0), reply)
            self.assertEqual(reply["data"]["connections"][0]["name"], "demo")
        finally:
            s.close()
        self.assert_alive("unknown command")

    def test_huge_frame_declared(self):
        # Only the header: beed must answer without waiting for (or buffering) 100 MiB.
        self.assert_bad_request(struct.pack(">I", 100 << 20), "a 100 MiB frame header")
        self.assert_bad_request(struct.pack(">I", (16 << 20) + 1) + b"{" * 1000,
                                "a frame one byte over the limit")

    def test_half_frame_then_close(self):
        for _ in range(3):
            s = raw_connect(self.env.socket)
            s.sendall(struct.pack(">I", 50) + b'{"v": 1, "command": "st')
            s.close()
        self.assert_alive("half frames")
        # A client stalled mid-frame does not hold up anyone else.
        stalled = raw_connect(self.env.socket)
        try:
            stalled.sendall(struct.pack(">I", 50) + b'{"v": 1')
            self.assert_alive("a stalled client")
            r = self.env.beectl("sync", "demo", "--wait", json_out=True)
            self.assertEqual((r.code, r.json["result"]), (0, "ok"), r)
        finally:
            stalled.close()
        # A client that asks for --wait and hangs up mid-run: the run still completes.
        s = raw_connect(self.env.socket)
        s.sendall(frame({"v": 1, "command": "full-sync", "args": {"connection": "demo",
                                                                  "wait": True}}))
        s.close()
        self.env.wait_idle(min_run_id=3)
        self.assertEqual(self.env.conn_status()["last_sync"]["result"], "ok")
        self.assert_alive("a client gone during --wait")

    def test_twenty_concurrent_clients(self):
        socks = [raw_connect(self.env.socket) for _ in range(20)]
        try:
            for s in socks:
                s.sendall(frame({"v": 1, "command": "status"}))
            for s in socks:
                reply = read_reply(s)
                self.assertIsNotNone(reply)
                self.assertEqual(reply["status"], "ok", reply)
                self.assertEqual(reply["data"]["connections"][0]["name"], "demo")
        finally:
            for s in socks:
                s.close()

        results = [None] * 20

        def ask(i):
            results[i] = self.env.beectl("status", json_out=True, timeout=60)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.json["connections"][0]["name"], "demo", r)
        self.assert_alive("20 concurrent clients")


if __name__ == "__main__":
    harness.main()
