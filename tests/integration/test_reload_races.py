#!/usr/bin/env python3
"""Races around a reload and around the on_failure hook: a connection removed by a reload while
its run is in flight and added back before that run ends keeps one runner (its next run waits),
and failures in quick succession never run two hooks of a connection at once."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BeeTestCase, feed_fifo, feed_text, make_fifo, wait_for  # noqa: E402


def conn(env, name, warehouse=None, on_failure=None):
    wh = {"type": "csv", "path": warehouse} if warehouse else None
    c = env.connection(warehouse=wh, store={"type": "csv", "path": "out/%s.csv" % name})
    if on_failure:
        c["on_failure"] = on_failure
    return c


class ReloadRacesTest(BeeTestCase):

    def assert_ok(self, r):
        self.assertEqual(r.code, 0, r)
        return r.json

    def test_connection_added_back_during_its_run_waits_for_it(self):
        env = self.make_env()
        fifo = make_fifo(os.path.join(env.root, "a.fifo"))
        env.write_feed({"X": 1})
        with_a = {"a": conn(env, "a", warehouse="a.fifo"), "b": conn(env, "b")}
        env.write_config(connections=with_a)
        env.start()

        # a's first run (1, Full) blocks reading its FIFO.
        def reading():
            p = env.conn_status("a").get("progress")
            return p and p["run_id"] == 1 and p["phase"] == "reading"
        wait_for(reading, what="run 1 of a reading its FIFO")

        env.write_config(connections={"b": conn(env, "b")})
        r = self.assert_ok(env.beectl("reload", json_out=True))
        self.assertEqual(r["removed"], ["a"], r)
        env.write_config(connections=with_a)
        r = self.assert_ok(env.beectl("reload", json_out=True))
        self.assertEqual(r["added"], ["a"], r)

        # The runner is the one still running run 1: a new run queues behind it, with the
        # next id, instead of starting beside it.
        a = env.conn_status("a")
        self.assertEqual((a["state"], a["progress"]["run_id"]), ("syncing", 1), a)
        ticket = self.assert_ok(env.beectl("sync", "a", json_out=True))
        self.assertEqual((ticket["run_id"], ticket["queued"]), (2, True), ticket)

        self.assertTrue(feed_fifo(fifo, feed_text({"A1": 5})))

        # Fed only once run 2 reads: a writer opening the FIFO sooner would reach run 1.
        def run_2_reading():
            p = env.conn_status("a").get("progress")
            return p and p["run_id"] == 2 and p["phase"] == "reading"
        wait_for(run_2_reading, what="run 2 of a reading its FIFO")
        self.assertTrue(feed_fifo(fifo, feed_text({"A1": 6})))
        env.wait_run(2, name="a")
        runs = {run["id"]: run for run in env.history("a")}
        self.assertEqual(sorted(runs), [1, 2], runs)
        self.assertEqual((runs[1]["result"], runs[2]["result"]), ("ok", "ok"), runs)
        self.assertGreaterEqual(runs[2]["started_at"], runs[1]["finished_at"], runs)
        self.assertEqual(env.read_store(os.path.join(env.root, "out", "a.csv")), {"A1": 6})
        self.assertIn("added back while its last run is still in flight", env.log_text())

    def test_failures_in_quick_succession_run_one_hook_at_a_time(self):
        env = self.make_env()
        log = os.path.join(env.root, "hooks.log")
        script = ('echo start $(date +%%s%%N) $PACKAGEBEE_RUN >> %s; sleep 1; '
                  'echo end $(date +%%s%%N) $PACKAGEBEE_RUN >> %s' % (log, log))
        hook = {"command": ["/bin/sh", "-c", script]}
        # A feed folder with no feed in it: every run fails at once.
        os.makedirs(os.path.join(env.root, "empty"))
        env.write_config(connections={"a": conn(env, "a", warehouse="empty", on_failure=hook)})
        env.start()
        env.wait_run(1, name="a")  # the first automatic run, failed: its hook sleeps
        for run_id in (2, 3):
            ticket = self.assert_ok(env.beectl("sync", "a", json_out=True))
            env.wait_run(ticket["run_id"], name="a")

        def lines():
            try:
                with open(log) as f:
                    return [line.split() for line in f]
            except FileNotFoundError:
                return []
        wait_for(lambda: sum(1 for w in lines() if w[0] == "end") >= 2, timeout=15,
                 what="two hooks ended")
        time.sleep(1.5)  # a third hook, if one were started, would show by now
        got = lines()
        starts = [(int(t), run) for what, t, run in got if what == "start"]
        ends = [(int(t), run) for what, t, run in got if what == "end"]
        # Run 1's hook, then one for the latest failure (3); run 2's waiting one was replaced.
        self.assertEqual([run for _, run in starts], ["1", "3"], got)
        self.assertEqual(len(ends), 2, got)
        self.assertGreaterEqual(starts[1][0], ends[0][0], got)
        self.assertIn("on_failure hook for run 2 skipped, run 3 replaces it", env.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
