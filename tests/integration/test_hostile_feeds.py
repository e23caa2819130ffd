#!/usr/bin/env python3
"""Hostile feeds and files: SKUs that are not UTF-8 or too long for the state, binary bytes that
end up quoted in errors, a binary configuration given to reload, and feed paths that are not
files. Each is a bad row or a clear error; beectl keeps working (no 'bad message from beed')."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase  # noqa: E402

INITIAL = {"A": 7, "B": 10, "C": 3, "D": 4}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\xff\xe0"


def write_bytes_feed(env, data):
    """A feed holding `data` verbatim, the newest in feed_dir (write_feed writes text)."""
    path = env.write_feed(None, raw="")
    st = os.stat(path)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (st.st_atime, st.st_mtime))
    return path


class HostileFeedTest(BeeTestCase):

    def synced_env(self, **connection):
        env = self.make_env()
        env.write_config(connections={"demo": env.connection(**connection)})
        env.write_feed(INITIAL)
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")
        return env

    def test_latin1_sku_is_a_bad_row_and_inventory_still_answers(self):
        env = self.synced_env()
        feed = write_bytes_feed(env, b"sku,quantity\nA,5\nCAF\xc9-1,9\nB,11\nCAF\xc3\x89-2,2\n")
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 3, r)
        run = r.json
        self.assertEqual((run["result"], run["read"], run["bad_rows"]), ("partial", 3, 1), run)
        self.assertEqual(run["error"],
                         "%s line 3: SKU 'CAF\\xC9-1' is not valid UTF-8" % feed)
        store = env.read_store()
        self.assertEqual((store["A"], store["B"], store["CAF\u00c9-2"]), (5, 11, 2))
        self.assertEqual(env.inventory().keys(), {"A", "B", "C", "D", "CAF\u00c9-2"})
        for args in (["history", "demo"], ["inventory", "demo"], ["status"]):
            r = env.beectl(*args)
            self.assertEqual(r.code, 0, r)

    def test_binary_header_fails_the_run_and_everything_answers(self):
        env = self.synced_env()
        feed = write_bytes_feed(env, PNG + b",qty\nA,1\n")
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 4, r)  # failed, not 5 ('bad message from beed')
        self.assertEqual(r.json["result"], "failed")
        self.assertTrue(r.json["error"].startswith(
            "%s: no column 'sku' in the header (columns: '\\x89PNG" % feed), r.json)
        for args in (["history", "demo"], ["diff", "demo"], ["status"]):
            r = env.beectl(*args, json_out=True)
            self.assertNotEqual(r.code, 5, r)
            self.assertIsNotNone(r.json, r)
        self.assertEqual(env.history()[0]["result"], "failed")

    def test_sku_longer_than_255_bytes_is_a_bad_row(self):
        env = self.synced_env()
        long_sku = "L" * 300
        # 600 bytes: more than LMDB takes as a key, which used to fail every run.
        feed = env.write_feed(None, raw="sku,quantity\nA,5\n%s,1\nB,11\n%s,2\n%s,3\n"
                                        % (long_sku, "M" * 255, "X" * 600))
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 3, r)
        run = r.json
        self.assertEqual((run["result"], run["read"], run["bad_rows"]), ("partial", 3, 2), run)
        self.assertEqual(run["error"], "%s line 3: SKU '%s...' is longer than 255 bytes (300)"
                         % (feed, "L" * 64))
        store = env.read_store()
        self.assertEqual((store["A"], store["B"], store["M" * 255]), (5, 11, 2))
        self.assertNotIn(long_sku, store)
        self.assertNotIn("MDB_BAD_VALSIZE", env.log_text())

    def test_binary_config_reload_is_a_configuration_error(self):
        env = self.synced_env()
        # A key in Latin-1: the error quotes it (and names it in the key path).
        with open(env.config_path, "wb") as f:
            f.write(b"daemon: {socket: beed.sock, state_dir: state, caf\xe9: 1}\n")
        r = env.beectl("reload", json_out=True)
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.json["status"], "invalid_config", r)
        self.assertIn('daemon.caf\\xE9: unknown key "caf\\xE9"', r.json["error"])
        # A binary file: whatever the YAML parser makes of it, a configuration error.
        with open(env.config_path, "wb") as f:
            f.write(PNG * 4)
        for json_out in (True, False):
            r = env.beectl("reload", json_out=json_out)
            self.assertEqual(r.code, 1, r)
        self.assertIn(env.config_path + ":", r.stderr)
        self.assertEqual(env.beectl("status").code, 0)

    def test_dev_zero_is_refused_at_once_and_stop_is_prompt(self):
        env = self.make_env()
        env.write_config(connections={"demo": env.connection(
            warehouse={"type": "csv", "path": "/dev/zero"})})
        env.start()
        run = env.wait_run(1, timeout=10)
        self.assertEqual(run["result"], "failed", run)
        self.assertEqual(env.history()[0]["error"], "/dev/zero: is a character device; a feed must be a "
                                       "regular file (or a named pipe)")
        start = time.monotonic()
        self.assertEqual(env.stop(timeout=10), 0)
        self.assertLess(time.monotonic() - start, 5)

    def test_sigterm_stops_a_read_waiting_on_a_fifo(self):
        env = self.make_env()
        fifo = harness.make_fifo(os.path.join(env.root, "demo.fifo"))
        env.write_config(connections={"demo": env.connection(
            warehouse={"type": "csv", "path": "demo.fifo"})})
        env.start()
        # A writer that connects and never writes: the read waits on the pipe.
        fd = None
        deadline = time.monotonic() + 10
        while fd is None:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                self.assertLess(time.monotonic(), deadline, "beed never opened the FIFO")
                time.sleep(0.05)
        try:
            time.sleep(0.5)
            start = time.monotonic()
            self.assertEqual(env.stop(timeout=10), 0)
            self.assertLess(time.monotonic() - start, 3)
        finally:
            os.close(fd)


if __name__ == "__main__":
    harness.main()
