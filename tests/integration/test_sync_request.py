#!/usr/bin/env python3
"""What `beectl full-sync`/`sync` say about a run they start: "queued" only for a run that really
waits behind another (this connection's run in flight, or other connections' runs holding every
max_concurrent_syncs slot); a run that starts at once says "started", and `--wait` does not show
it as queued."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase, feed_fifo, feed_text, make_fifo, wait_for  # noqa: E402


def conn(env, name, warehouse=None):
    wh = {"type": "csv", "path": warehouse} if warehouse else None
    return env.connection(warehouse=wh, store={"type": "csv", "path": "out/%s.csv" % name})


class SyncRequestTest(BeeTestCase):
    def test_queued_only_when_the_run_waits(self):
        env = self.make_env()
        fifo = make_fifo(os.path.join(env.root, "a.fifo"))
        env.write_feed({"X": 1})
        env.write_config(connections={"a": conn(env, "a", warehouse="a.fifo"), "b": conn(env, "b")},
                         daemon_extra={"max_concurrent_syncs": 1})
        env.start()
        self.assertTrue(feed_fifo(fifo, feed_text({"A": 5})))
        env.wait_run(1, name="a")
        env.wait_run(1, name="b")

        # Nothing else in flight: b's run starts at once, and --wait never calls it queued.
        waited = env.beectl("full-sync", "b", "--wait")
        self.assertEqual(waited.code, 0, waited)
        self.assertNotIn("queued", waited.stdout + waited.stderr)
        started = env.beectl("full-sync", "b")
        self.assertEqual(started.stdout, "full sync of b started as run 3\n", started)
        env.wait_run(3, name="b")

        # a's run 2 holds the only slot (it blocks reading its FIFO): b's run 4 waits for it.
        self.assertEqual(env.beectl("full-sync", "a").code, 0)
        wait_for(lambda: (env.conn_status("a").get("progress") or {}).get("phase") == "reading",
                 what="a's run 2 reading")
        slot = env.beectl("full-sync", "b", json_out=True)
        self.assertEqual(slot.code, 0, slot)
        self.assertEqual(slot.json, {"connection": "b", "run_id": 4, "kind": "full",
                                     "queued": False, "waits_for_slot": True})
        wait_for(lambda: "full sync requested on the control socket: run 4 (queued for a sync "
                         "slot: 1 runs in flight, max_concurrent_syncs 1)" in env.log_text(),
                 what="the log line of run 4")
        self.assertTrue(feed_fifo(fifo, feed_text({"A": 6})))
        self.assertEqual(env.wait_run(2, name="a")["result"], "ok")
        self.assertEqual(env.wait_run(4, name="b")["result"], "ok")


if __name__ == "__main__":
    unittest.main()
