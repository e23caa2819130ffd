#!/usr/bin/env python3
"""beed's life cycle: configuration reload (beectl reload and SIGHUP), graceful stop (SIGTERM,
a second signal, the stop deadline), sd_notify, pause/resume, history/diff, single instance and
the log lines. Every beed is started per test and killed in tearDown."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase, feed_fifo, feed_text, make_fifo, wait_for  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RUN_KEYS = {"id", "connection", "kind", "trigger", "started_at", "finished_at", "result", "read",
            "changed", "pushed", "rejected", "bad_rows", "duration_ms", "error"}
STOPPED = "stopped: beed is shutting down"


def store_text(rows):
    return ("sku,quantity\n" + "".join("%s,%d\n" % (s, q) for s, q in sorted(rows.items()))).encode()


def conn(env, name, schedule="60m", buffer=0, missing_skus="keep", warehouse=None):
    """A connection with its own store file out/NAME.csv; the warehouse is the shared feed
    folder unless `warehouse` (a path relative to env.root) is given."""
    wh = {"type": "csv", "path": warehouse} if warehouse else None
    c = env.connection(schedule=schedule, buffer=buffer, missing_skus=missing_skus, warehouse=wh,
                       store={"type": "csv", "path": "out/%s.csv" % name})
    return c


class SilentHttpServer:
    """Accepts HTTP connections on loopback and never answers: a warehouse read over HTTP then
    hangs in its download, a step a stop cannot cut short (unlike a file or FIFO read, which
    checks the stop flag between chunks)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def url(self):
        return "http://127.0.0.1:%d/feed.csv" % self.port

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def store_path(env, name):
    return os.path.join(env.root, "out", "%s.csv" % name)


def wait_exit(proc, timeout):
    """Waits for `proc` to exit; returns (exit status or None, seconds waited)."""
    t0 = time.monotonic()
    try:
        return proc.wait(timeout=timeout), time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0


class RawStatus:
    """One control connection reused for fast `status` polls (no beectl process per poll)."""

    def __init__(self, path):
        self.sock = harness.raw_connect(path)

    def conn(self, name):
        self.sock.sendall(harness.frame({"v": 1, "command": "status"}))
        reply = harness.read_reply(self.sock)
        if reply is None or reply.get("status") != "ok":
            return None
        for c in reply["data"]["connections"]:
            if c["name"] == name:
                return c
        return None

    def close(self):
        self.sock.close()


class LifecycleTest(BeeTestCase):

    def assert_ok(self, r):
        self.assertEqual(r.code, 0, r)
        return r.json

    def wait_syncing(self, env, name, run_id, phases=None, timeout=20.0):
        def check():
            p = env.conn_status(name).get("progress")
            return p and p["run_id"] == run_id and (phases is None or p["phase"] in phases)
        wait_for(check, timeout=timeout, what="%s run %d in flight" % (name, run_id))

    def hung_http_env(self):
        """demo reads a feed URL whose server never answers: its first run hangs in the read."""
        server = SilentHttpServer()
        self.addCleanup(server.close)
        env = self.make_env()
        c = conn(env, "demo")
        c["warehouse"] = {"type": "csv", "url": server.url(), "timeout": "120s"}
        env.write_config(connections={"demo": c})
        return env

    def fifo_env(self, daemon_extra=None):
        """demo reads a FIFO: its automatic first run (1, Full) blocks until fed."""
        env = self.make_env()
        fifo = make_fifo(os.path.join(env.root, "demo.fifo"))
        env.write_config(connections={"demo": conn(env, "demo", warehouse="demo.fifo")},
                         daemon_extra=daemon_extra)
        return env, fifo

    # ---- reload --------------------------------------------------------------------------

    def test_reload_good_added_removed_changed(self):
        env = self.make_env()
        fifo_a = make_fifo(os.path.join(env.root, "a.fifo"))
        feed = {"X": 1, "Y": 2, "Z": 10}
        env.write_feed(feed)
        env.write_config(connections={"a": conn(env, "a", warehouse="a.fifo"),
                                      "b": conn(env, "b"), "c": conn(env, "c")})
        env.start()
        self.assertTrue(feed_fifo(fifo_a, feed_text({"A1": 5, "A2": 6})))
        for name in ("a", "b", "c"):
            last = env.wait_run(1, name=name)
            self.assertEqual((last["id"], last["kind"], last["result"]), (1, "full", "ok"), last)
        self.assertEqual(env.read_store(store_path(env, "b")), feed)
        c_store = env.read_store_raw(store_path(env, "c"))

        # Run 2 of a is in flight (reading its FIFO) during the reload.
        started = self.assert_ok(env.beectl("full-sync", "a", json_out=True))
        self.assertEqual((started["run_id"], started["queued"]), (2, False), started)
        self.wait_syncing(env, "a", 2, phases={"reading"})

        env.write_config(connections={"a": conn(env, "a", warehouse="a.fifo"),
                                      "b": conn(env, "b", buffer=2), "d": conn(env, "d")})
        r = env.beectl("reload", json_out=True)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json, {"added": ["d"], "removed": ["c"], "changed": ["b"],
                                  "unchanged": 1, "restart_required": []})
        self.assertRegex(env.log_text(), r"<6>configuration reloaded from .*packagebee\.yaml: "
                                         r"1 added, 1 removed, 1 changed, 1 unchanged")

        # a's run was not interrupted by the reload: still in flight, then ends ok.
        a = env.conn_status("a")
        self.assertEqual((a["state"], a["progress"]["run_id"]), ("syncing", 2), a)
        self.assertTrue(feed_fifo(fifo_a, feed_text({"A1": 5, "A2": 7})))
        run = env.wait_run(2, name="a")
        self.assertEqual((run["id"], run["result"], run["pushed"]), (2, "ok", 2), run)
        self.assertEqual(env.history("a", 1)[0]["error"], "")
        self.assertEqual(env.read_store(store_path(env, "a")), {"A1": 5, "A2": 7})

        status = env.status()
        self.assertEqual([c["name"] for c in status["connections"]], ["a", "b", "d"], status)
        gone = env.beectl("sync", "c")
        self.assertEqual(gone.code, 1, gone)
        self.assertIn("no connection named 'c'", gone.stderr)

        # d (added) runs its first, Full, sync on its own.
        d = env.wait_run(1, name="d")
        self.assertEqual((d["id"], d["kind"], d["trigger"], d["result"], d["pushed"]),
                         (1, "full", "schedule", "ok", 3), d)
        self.assertEqual(env.read_store(store_path(env, "d")), feed)

        # b (changed: buffer 2): its next Smart Sync pushes max(0, q - 2) for every SKU.
        run = self.assert_ok(env.beectl("sync", "b", "--wait", json_out=True))
        self.assertEqual((run["id"], run["kind"], run["result"], run["changed"], run["pushed"]),
                         (2, "smart", "ok", 0, 3), run)
        self.assertEqual(env.read_store(store_path(env, "b")), {"X": 0, "Y": 0, "Z": 8})
        inv = env.inventory("b")
        self.assertEqual({s: (i["quantity"], i["wanted"], i["store_quantity"], i["pending"])
                          for s, i in inv.items()},
                         {"X": (1, 0, 0, False), "Y": (2, 0, 0, False), "Z": (10, 8, 8, False)})

        # a's run ids continue after the reload.
        nxt = env.beectl_async("sync", "a", "--wait")
        self.assertTrue(feed_fifo(fifo_a, feed_text({"A1": 4, "A2": 7})))
        run = env.finish_async(nxt, timeout=60)
        self.assertEqual((run.code, run.json["id"], run.json["pushed"]), (0, 3, 1), run)
        # The removed connection's store was left alone.
        self.assertEqual(env.read_store_raw(store_path(env, "c")), c_store)

    BAD_CONFIG = ('daemon:\n'                         # 1
                  '  socket: "beed.sock"\n'           # 2
                  '  state_dir: "state"\n'            # 3
                  'connections:\n'                    # 4
                  '  demo:\n'                         # 5
                  '    warehouse:\n'                  # 6
                  '      type: "csv"\n'               # 7
                  '      path: "feeds"\n'             # 8
                  '    store:\n'                      # 9
                  '      type: "csv"\n'               # 10
                  '      path: "out/demo.csv"\n'      # 11
                  '  extra:\n'                        # 12: valid, must not be applied
                  '    warehouse: {type: "csv", path: "feeds"}\n'
                  '    store: {type: "csv", path: "out/extra.csv"}\n'
                  '    inventory:\n'                  # 15
                  '      schedule: "soon"\n')         # 16: the error, column 17

    def test_reload_bad_config_keeps_running_one(self):
        env = self.make_env()
        env.write_feed({"A": 7, "B": 10})
        env.write_config()
        env.start()
        env.wait_run(1)
        before = self.assert_ok(env.beectl("connections", json_out=True))

        env.write_config(text=self.BAD_CONFIG)
        r = env.beectl("reload")
        self.assertEqual(r.code, 1, r)
        where = "%s:16:17: connections.extra.inventory.schedule: " % env.config_path
        self.assertIn(where, r.stderr)
        self.assertIn('expected a duration like 60m or 1h, got "soon"', r.stderr)
        self.assertEqual(r.stdout, "")
        rj = env.beectl("reload", json_out=True)
        self.assertEqual(rj.code, 1, rj)
        self.assertEqual((rj.json["status"], rj.json["code"]), ("invalid_config", 7), rj)
        self.assertIn(where, rj.json["error"])
        self.assertIn("<3>reload refused, the running configuration stays: " + where,
                      env.log_text())

        # The old configuration serves on: same connections, and a sync works.
        self.assertEqual(self.assert_ok(env.beectl("connections", json_out=True)), before)
        self.assertEqual([c["name"] for c in env.status()["connections"]], ["demo"])
        env.write_feed({"A": 5, "B": 10})
        run = self.assert_ok(env.beectl("sync", "demo", "--wait", json_out=True))
        self.assertEqual((run["id"], run["result"], run["pushed"]), (2, "ok", 1), run)
        self.assertEqual(env.read_store(), {"A": 5, "B": 10})

        # The same through SIGHUP: refused in the log, beed alive and unchanged.
        env.proc.send_signal(signal.SIGHUP)
        env.wait_log(r"<3>SIGHUP: reload refused, the running configuration stays: " +
                     re.escape(where))
        self.assertTrue(env.running())
        self.assertEqual(self.assert_ok(env.beectl("connections", json_out=True)), before)

        # And SIGHUP does apply a valid file (so the refusal above was not a no-op).
        env.write_config(connections={"demo": env.connection(),
                                      "extra": conn(env, "extra")})
        env.proc.send_signal(signal.SIGHUP)
        env.wait_log(r"<6>configuration reloaded from .*: 1 added, 0 removed, 0 changed, "
                     r"1 unchanged")
        self.assertEqual([c["name"] for c in env.status()["connections"]], ["demo", "extra"])
        self.assertEqual(env.wait_run(1, name="extra")["result"], "ok")

    def test_reload_stress(self):
        env = self.make_env()
        feed = {"A": 7, "B": 10, "C": 3, "D": 1}
        env.write_feed(feed)
        env.write_config(connections={"demo": env.connection()})
        env.start()
        env.wait_run(1)
        buffer = 0
        problems = []
        for i in range(30):
            run = env.beectl("full-sync", "demo", "--wait", json_out=True)
            if run.code != 0 or run.json["id"] != i + 2 or run.json["result"] != "ok":
                problems.append("round %d full-sync: %r" % (i, run))
                break
            expected = {s: max(0, q - buffer) for s, q in feed.items()}
            if env.read_store() != expected:
                problems.append("round %d: store %r, expected %r (buffer %d)"
                                % (i, env.read_store(), expected, buffer))
                break
            changed = i % 2 == 0
            if changed:
                buffer = 1 - buffer
            env.write_config(connections={"demo": env.connection(buffer=buffer)})
            r = env.beectl("reload", json_out=True)
            want = {"added": [], "removed": [], "changed": ["demo"] if changed else [],
                    "unchanged": 0 if changed else 1, "restart_required": []}
            if r.code != 0 or r.json != want:
                problems.append("round %d reload (%s): %r" % (i, "changed" if changed else
                                                              "unchanged", r))
                break
            if not env.running():
                problems.append("round %d: beed died (exit %s)" % (i, env.proc.returncode))
                break
        self.assertEqual(problems, [], "beed exit %s; log tail:\n%s" % (
            env.proc.poll(), env.log_text()[-3000:]))
        self.assertTrue(env.running())
        self.assertEqual(env.stop(), 0)

    # ---- graceful stop -------------------------------------------------------------------

    def test_sigterm_during_full_sync_of_100k(self):
        n = 100_000
        skus = ["SKU-%06d" % i for i in range(n)]
        env = self.make_env()
        env.write_config(connections={"demo": env.connection()})
        env.write_feed(None, raw="sku,quantity\n" + "".join("%s,%d\n" % (s, 5) for s in skus))
        env.start()
        self.assertEqual(env.wait_run(1, timeout=60)["result"], "ok")

        # Every quantity changes; run 2 (Full, manual) is stopped while pushing.
        latest = {s: 1000 + i % 977 for i, s in enumerate(skus)}
        env.write_feed(None, raw="sku,quantity\n" + "".join("%s,%d\n" % (s, latest[s]) for s in skus))
        poll = RawStatus(env.socket)
        phase = None
        try:
            self.assert_ok(env.beectl("full-sync", "demo", json_out=True))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                c = poll.conn("demo")
                p = c and c.get("progress")
                if p and p["run_id"] == 2 and p["phase"] == "pushing":
                    phase = p["phase"]
                    break
                if c and c["last_sync"]["id"] == 2 and c["last_sync"]["result"] != "running":
                    break  # missed it
        finally:
            poll.close()
        self.assertEqual(phase, "pushing", "run 2 was never seen pushing")
        env.proc.send_signal(signal.SIGTERM)
        code, took = wait_exit(env.proc, 25)
        self.assertEqual(code, 0, "beed did not exit 0 within 25 s of SIGTERM (%.1f s)" % took)
        env.proc = None
        print("\n100k Full Sync: SIGTERM while pushing, beed exited in %.2f s" % took,
              file=sys.stderr)
        self.assertRegex(env.log_text(), r"<6>Terminated: stopping")
        self.assertRegex(env.log_text(), r"<3>demo: run 2 failed: full sync \(manual\), read "
                                         r"100000, changed 100000, .*" + re.escape(STOPPED))

        # Consistent state with beed dead: not pending <=> the store holds it, as confirmed.
        state = env.state_dump()
        store = env.read_store()
        self.assertEqual(len(state), n)
        bad = [s for s in skus if state[s]["quantity"] != latest[s] or
               (not state[s]["pending"] and (store.get(s) != latest[s] or
                                             state[s]["store_quantity"] != latest[s]))]
        self.assertEqual(bad[:5], [], "%d SKUs confirmed but not in the store" % len(bad))
        unconfirmed = [s for s in skus if state[s]["store_quantity"] != latest[s]]
        self.assertEqual([s for s in unconfirmed if not state[s]["pending"]][:5], [])
        print("after the stop: %d of %d SKUs pending" %
              (sum(state[s]["pending"] for s in skus), n), file=sys.stderr)

        env.start()
        run = next(r for r in env.history() if r["id"] == 2)
        self.assertEqual((run["id"], run["kind"], run["result"]), (2, "full", "failed"), run)
        self.assertTrue(run["error"].startswith(STOPPED), run)
        self.assertIsNotNone(run["finished_at"])
        self.assertNotIn("interrupted", env.log_text())
        # Converges: the stop cleared the due time, so an automatic run starts at once and
        # pushes what is pending; the store is then the latest feed.
        r = env.wait_run(3, timeout=120)
        self.assertEqual((r["id"], r["trigger"], r["result"]), (3, "schedule", "ok"), r)
        self.assertEqual(env.read_store(), latest)
        self.assertEqual(self.assert_ok(env.beectl("inventory", "demo", "--changed",
                                                   json_out=True))["items"], [])

    # A read waiting on a FIFO is stopped by SIGTERM within a second (the reader checks the
    # stop flag between chunks): nothing of that read is applied, nothing is pushed, and the next
    # start reads again.
    def test_sigterm_stops_a_fifo_held_read_within_a_second(self):
        env, fifo = self.fifo_env()
        env.start()
        self.assertTrue(feed_fifo(fifo, feed_text({"A": 7, "B": 10, "C": 3})))
        self.assertEqual(env.wait_run(1)["result"], "ok")
        self.assertEqual(self.assert_ok(env.beectl("full-sync", "demo", json_out=True))["run_id"], 2)
        self.wait_syncing(env, "demo", 2, phases={"reading"})

        env.proc.send_signal(signal.SIGTERM)
        code, took = wait_exit(env.proc, 10)
        self.assertEqual(code, 0, "exit %s after %.1f s" % (code, took))
        env.proc = None
        self.assertLess(took, 2, "the read was not stopped")
        self.assertRegex(env.log_text(), r"<3>demo: run 2 failed: full sync \(manual\), read 0, "
                                         r"changed 0, pushed 0, .*" + re.escape(STOPPED))
        state = env.state_dump()
        self.assertEqual({s: (i["quantity"], i["store_quantity"], i["pending"])
                          for s, i in state.items()},
                         {"A": (7, 7, False), "B": (10, 10, False), "C": (3, 3, False)})
        self.assertEqual(env.read_store(), {"A": 7, "B": 10, "C": 3})

        env.start()
        run = next(r for r in env.history() if r["id"] == 2)
        self.assertEqual((run["id"], run["result"], run["pushed"]), (2, "failed", 0), run)
        # Run 3 is the automatic run due at once after the stop; it reads the FIFO.
        self.assertTrue(feed_fifo(fifo, feed_text({"A": 5, "B": 10, "C": 4})))
        r = env.wait_run(3)
        self.assertEqual((r["id"], r["result"]), (3, "ok"), r)
        self.assertEqual(env.read_store(), {"A": 5, "B": 10, "C": 4})

    # Regression: a run stopped by SIGTERM is recorded `failed` ("stopped: ..."), and the next
    # start must still run at once (the stop clears the due time), as after a kill.
    def test_restart_after_graceful_stop_runs_at_once(self):
        env, fifo = self.fifo_env()
        env.start()
        self.assertTrue(feed_fifo(fifo, feed_text({"A": 7, "B": 10})))
        self.assertEqual(env.wait_run(1)["result"], "ok")
        self.assert_ok(env.beectl("full-sync", "demo", json_out=True))
        self.wait_syncing(env, "demo", 2, phases={"reading"})
        env.proc.send_signal(signal.SIGTERM)
        code, _ = wait_exit(env.proc, 25)
        env.proc = None
        self.assertEqual(code, 0)
        self.assertIn(STOPPED, env.log_text())

        env.start()
        # A run (3) is due at once: it is seen in flight, reading the FIFO.
        self.wait_syncing(env, "demo", 3, timeout=5)

    # Issue 14: the last feed's digest is kept over a clean restart, and only then: the first
    # Smart Sync after it compares with it instead of merging the whole feed. After a kill
    # nothing is kept; a digest whose state was written since (here put back by hand after a
    # run and a kill) is passed over, or a quantity changed back meanwhile would go unseen.
    def test_feed_digest_kept_over_a_clean_restart_only(self):
        env = self.make_env()
        env.write_config(log_level="debug")
        rows = {"A%03d" % i: i for i in range(200)}
        env.write_feed(rows)
        env.start()
        self.assertEqual(env.wait_run(1)["result"], "ok")
        self.assertEqual(env.stop(), 0)
        digests = os.path.join(env.state_dir, "digests")
        kept = os.path.join(digests, "demo.digest")
        self.assertTrue(os.path.exists(kept))
        with open(kept, "rb") as f:
            stale = f.read()  # the digest of run 1's state: A007 = 7

        def sync(expected_changed):
            r = self.assert_ok(env.beectl("sync", "demo", "--wait", json_out=True))
            self.assertEqual((r["result"], r["changed"]), ("ok", expected_changed), r)

        rows["A005"] = 55
        rows["A007"] = 77
        env.write_feed(rows)
        env.start()
        env.wait_log(r"digest \(200 SKUs\) is kept over the restart")
        self.assertFalse(os.path.exists(digests))  # taken, and gone
        sync(2)
        self.assertEqual(env.read_store()["A007"], 77)
        self.assertIn("run 2: 2 SKUs differ from the last feed's digest", env.log_text())

        env.kill()  # no digest written
        self.assertFalse(os.path.exists(digests))
        # Put run 1's digest back, and A007 back to 7: taken, it would say A007 is unchanged.
        os.makedirs(digests)
        with open(kept, "wb") as f:
            f.write(stale)
        rows["A007"] = 7
        env.write_feed(rows)
        env.start()
        env.wait_log(r"digest from before the restart is not used \(the state changed")
        self.assertNotIn("is kept over the restart", env.log_text())
        sync(1)
        self.assertNotIn("differ from the last feed's digest", env.log_text())  # merged in full
        self.assertEqual(env.read_store()["A007"], 7)
        self.assertEqual(env.read_store()["A005"], 55)

    def test_second_sigterm_exits_at_once(self):
        env = self.hung_http_env()
        env.start()
        self.wait_syncing(env, "demo", 1, phases={"reading"})
        env.proc.send_signal(signal.SIGTERM)
        env.wait_log(r"<6>Terminated: stopping")
        time.sleep(0.3)
        self.assertIsNone(env.proc.poll(), "the first SIGTERM must wait for the run's step")
        t0 = time.monotonic()
        env.proc.send_signal(signal.SIGTERM)
        code, took = wait_exit(env.proc, 5)
        env.proc = None
        self.assertEqual(code, 0, "second SIGTERM: exit %s after %.1f s" % (code, took))
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertIn("<4>second signal (Terminated): exiting now", env.log_text())

        # Restart: the run cut short is marked failed (interrupted) and a new one runs at once.
        env.start()
        self.assertIn("<4>demo: the last run was interrupted", env.log_text())
        self.wait_syncing(env, "demo", 2, timeout=5)
        first = env.history(limit=2)[1]
        self.assertEqual((first["id"], first["result"], first["error"]),
                         (1, "failed", "interrupted: beed stopped during the run"), first)

    # Regression: when the stop deadline (20 s) passes with a run still blocked in its step, beed
    # must exit (it used to join the worker pool, whose thread was blocked in the warehouse read).
    # A download from a server that never answers is a step no stop flag cuts short.
    def test_stop_deadline_exits_with_a_hung_read(self):
        env = self.hung_http_env()
        env.start()
        self.wait_syncing(env, "demo", 1, phases={"reading"})
        t0 = time.monotonic()
        env.proc.send_signal(signal.SIGTERM)
        code, took = wait_exit(env.proc, 25)
        if code is not None:
            env.proc = None
        self.assertIn("<4>stop deadline reached with a run still in flight; it is abandoned",
                      env.log_text())
        self.assertEqual(code, 0, "beed still running %.1f s after SIGTERM (log: %s)" % (
            time.monotonic() - t0, env.log_text().splitlines()[-2:]))

    # ---- sd_notify -----------------------------------------------------------------------

    def test_sd_notify(self):
        env = self.make_env()
        env.write_feed({"A": 7})
        env.write_config()
        listener = harness.NotifyListener(os.path.join(env.root, "notify.sock"))
        try:
            env.start(wait=False, extra_env=listener.env(WATCHDOG_USEC="600000"))
            i, t_ready, _ = listener.wait_line("READY=1", what="READY=1")
            # READY means the control socket accepts: one attempt, no retry.
            r = env.beectl("status", json_out=True)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.json["connections"][0]["name"], "demo")
            listener.wait_line(lambda l: l.startswith("STATUS="), what="STATUS=")
            statuses = [l for _, l in listener.lines() if l.startswith("STATUS=")]
            for s in statuses:
                self.assertRegex(s, r"^STATUS=1 connection, [01] syncing(, next run \S+)?$")

            time.sleep(max(0.0, t_ready + 1.05 - time.monotonic()))
            dogs = [t for t, l in listener.lines() if l == "WATCHDOG=1"]
            first_second = [t for t in dogs if t_ready - 0.01 <= t <= t_ready + 1.0]
            self.assertGreaterEqual(len(first_second), 2, dogs)
            self.assertLessEqual(len(first_second), 6, "WATCHDOG=1 more often than every "
                                                       "WATCHDOG_USEC/2: %r" % dogs)

            # A run shows in STATUS=.
            env.wait_run(1)
            self.assert_ok(env.beectl("full-sync", "demo", "--wait", json_out=True))
            listener.wait_line(lambda l: l.startswith("STATUS=1 connection, 1 syncing"),
                               what="STATUS= with a run in flight")

            since = listener.count()
            self.assert_ok(env.beectl("reload", json_out=True))
            j, _, _ = listener.wait_line("RELOADING=1", since=since, what="RELOADING=1")
            msg = listener.snapshot()[j][1]
            mono = [l for l in msg if l.startswith("MONOTONIC_USEC=")]
            self.assertEqual(len(mono), 1, msg)
            now_usec = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
            self.assertLess(abs(now_usec - int(mono[0].split("=", 1)[1])), 5e6, msg)
            listener.wait_line("READY=1", since=j + 1, what="READY=1 after RELOADING=1")

            since = listener.count()
            env.proc.send_signal(signal.SIGTERM)
            listener.wait_line("STOPPING=1", since=since, what="STOPPING=1")
            code, _ = wait_exit(env.proc, 25)
            env.proc = None
            self.assertEqual(code, 0)
        finally:
            listener.close()

    # ---- pause / resume ------------------------------------------------------------------

    def test_pause_resume(self):
        env = self.make_env()
        env.write_feed({"A": 7, "B": 10})
        env.write_config(connections={"demo": env.connection(schedule="1s")})
        env.start()
        env.wait_run(1)
        # The schedule runs on its own before the pause (so its absence below means something).
        env.wait_run(2, timeout=10)

        r = env.beectl("pause", "demo", json_out=True)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json, {"connection": "demo", "paused": True, "next_sync_at": None})
        c = wait_for(lambda: (lambda c: c if c["state"] != "syncing" else None)(env.conn_status()),
                     what="no run in flight")
        last = c["last_sync"]["id"]
        time.sleep(3)  # the assertion itself: nothing runs during these 3 s
        self.assertEqual(env.history(limit=1)[0]["id"], last, "an automatic run while paused")
        c = env.conn_status()
        self.assertEqual((c["paused"], c["state"]), (True, "paused"), c)
        human = env.beectl("pause", "demo")
        self.assertEqual((human.code, human.stdout), (0, "demo: automatic syncs paused\n"), human)

        run = self.assert_ok(env.beectl("sync", "demo", "--wait", json_out=True))
        self.assertEqual((run["id"], run["trigger"], run["result"]), (last + 1, "manual", "ok"))
        c = env.conn_status()
        self.assertEqual((c["paused"], c["state"]), (True, "paused"), c)

        self.assertEqual(env.stop(), 0)
        env.start()
        self.assertIn("(paused)", env.log_text())
        c = env.conn_status()
        self.assertEqual((c["paused"], c["state"]), (True, "paused"), c)
        time.sleep(1.5)
        self.assertEqual(env.history(limit=1)[0]["id"], last + 1, "an automatic run after restart")

        r = env.beectl("resume", "demo", json_out=True)
        t0 = time.monotonic()
        self.assertEqual(r.code, 0, r)
        self.assertEqual((r.json["connection"], r.json["paused"]), ("demo", False), r)
        self.assertRegex(r.json["next_sync_at"], ISO)
        run = wait_for(lambda: [x for x in env.history(limit=3)
                                if x["id"] > last + 1 and x["trigger"] == "schedule"],
                       timeout=2.0, interval=0.05, what="an automatic run after resume")[0]
        self.assertLessEqual(time.monotonic() - t0, 2.0)
        self.assertEqual(run["kind"], "smart")
        self.assertFalse(env.conn_status()["paused"])

    # ---- history / diff ------------------------------------------------------------------

    def test_history_and_diff(self):
        env = self.make_env()
        env.write_feed({"A": 7, "B": 10, "C": 3})
        env.write_config(connections={"demo": env.connection(missing_skus="zero", buffer=1)})
        env.start()
        env.wait_run(1)
        self.assertEqual(env.read_store(), {"A": 6, "B": 9, "C": 2})
        self.assert_ok(env.beectl("full-sync", "demo", "--wait", json_out=True))

        feed2 = env.write_feed({"A": 5, "B": 10, "D": 4})  # A changed, C gone (zeroed), D new
        state_before = env.state_dump()
        store_before = env.read_store()
        r = env.beectl("diff", "demo", json_out=True)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json, {
            "connection": "demo", "feed": feed2, "read": 3, "bad_rows": 0, "total": 3,
            "truncated": False, "changes": [
                {"sku": "A", "quantity": 5, "previous_quantity": 7, "wanted": 4,
                 "store_quantity": 6, "reason": "changed"},
                {"sku": "C", "quantity": 0, "previous_quantity": 3, "wanted": 0,
                 "store_quantity": 2, "reason": "zeroed"},
                {"sku": "D", "quantity": 4, "previous_quantity": None, "wanted": 3,
                 "store_quantity": None, "reason": "new"}]})
        diff_skus = {c["sku"] for c in r.json["changes"]}
        r1 = self.assert_ok(env.beectl("diff", "demo", "--limit", "1", json_out=True))
        self.assertEqual((r1["total"], r1["truncated"], [c["sku"] for c in r1["changes"]]),
                         (3, True, ["A"]), r1)
        human = env.beectl("diff", "demo")
        self.assertEqual(human.code, 0, human)
        self.assertEqual(human.stdout.splitlines()[-1],
                         "3 SKUs would be pushed (feed %s, 3 rows)" % os.path.basename(feed2))
        # A dry run: nothing recorded, nothing pushed.
        self.assertEqual(env.state_dump(), state_before)
        self.assertEqual(env.read_store(), store_before)
        self.assertEqual(len(env.history()), 2)

        run = self.assert_ok(env.beectl("sync", "demo", "--wait", json_out=True))
        self.assertEqual((run["pushed"], run["changed"]), (3, 3), run)
        after = env.read_store()
        self.assertEqual(after, {"A": 4, "B": 9, "C": 0, "D": 3})
        pushed = {s for s in after if after.get(s) != store_before.get(s)}
        self.assertEqual(pushed, diff_skus)
        nothing = self.assert_ok(env.beectl("diff", "demo", json_out=True))
        self.assertEqual((nothing["total"], nothing["truncated"], nothing["changes"]),
                         (0, False, []), nothing)
        self.assertIn("nothing to push", env.beectl("diff", "demo").stdout)

        runs = env.history()
        self.assertEqual([set(x) for x in runs], [RUN_KEYS] * 3)
        got = [(x["id"], x["connection"], x["kind"], x["trigger"], x["result"], x["read"],
                x["changed"], x["pushed"], x["rejected"], x["bad_rows"], x["error"]) for x in runs]
        self.assertEqual(got, [(3, "demo", "smart", "manual", "ok", 3, 3, 3, 0, 0, ""),
                               (2, "demo", "full", "manual", "ok", 3, 0, 3, 0, 0, ""),
                               (1, "demo", "full", "schedule", "ok", 3, 3, 3, 0, 0, "")])
        for x in runs:
            self.assertRegex(x["started_at"], ISO)
            self.assertRegex(x["finished_at"], ISO)
            self.assertGreaterEqual(x["duration_ms"], 0)
        self.assertEqual([x["id"] for x in env.history(limit=2)], [3, 2])
        self.assertEqual([x["id"] for x in env.history(limit=1)], [3])
        human = env.beectl("history", "demo")
        self.assertEqual(human.code, 0, human)
        self.assertEqual(len(human.stdout.splitlines()), 4, human.stdout)  # header + 3 runs
        unknown = env.beectl("history", "nope")
        self.assertEqual(unknown.code, 1, unknown)

    # ---- single instance -----------------------------------------------------------------

    def test_single_instance(self):
        env = self.make_env()
        env.write_feed({"A": 1})
        env.write_config()
        first = env.start()
        env.wait_run(1)

        # Same state_dir, another socket.
        same_state = self.make_env(subdir="same-state")
        same_state.write_config(daemon_extra={"state_dir": env.state_dir,
                                              "socket": os.path.join(same_state.root, "b.sock")})
        p = same_state.start(wait=False)
        code, _ = wait_exit(p, 20)
        same_state.proc = None
        self.assertEqual(code, 1, same_state.log_text())
        self.assertIn("another beed (pid %d) is already using %s" % (first.pid, env.state_dir),
                      same_state.log_text())
        self.assertFalse(os.path.exists(os.path.join(same_state.root, "b.sock")))

        # Same socket, another state_dir.
        same_sock = self.make_env(subdir="same-socket")
        same_sock.write_config(daemon_extra={"socket": env.socket})
        p = same_sock.start(wait=False)
        code, _ = wait_exit(p, 20)
        same_sock.proc = None
        self.assertEqual(code, 1, same_sock.log_text())
        self.assertIn("another beed is already listening on %s" % env.socket,
                      same_sock.log_text())
        # The first one still serves on its socket.
        self.assertEqual(env.conn_status()["last_sync"]["id"], 1)

        # kill -9: the socket file stays behind, stale; the next beed replaces it.
        env.kill()
        self.assertTrue(os.path.exists(env.socket), "expected a stale socket after SIGKILL")
        st = os.stat(env.socket)
        stale = (st.st_ino, st.st_ctime_ns)
        r = env.beectl("status")
        self.assertEqual(r.code, 5, r)
        self.assertIn("Connection refused", r.stderr)
        time.sleep(0.02)  # a new socket file has a later ctime even if its inode is reused
        env.start()
        st = os.stat(env.socket)
        self.assertNotEqual((st.st_ino, st.st_ctime_ns), stale)
        self.assertEqual(env.conn_status()["last_sync"]["id"], 1)
        self.assertEqual(self.assert_ok(env.beectl("sync", "demo", "--wait", json_out=True))["id"], 2)

    # ---- log lines -----------------------------------------------------------------------

    def test_log_lines(self):
        env = self.make_env()
        env.write_feed({"A": 7, "B": 10, "C": 3})
        env.write_config()
        env.start()
        env.wait_run(1)
        self.assert_ok(env.beectl("full-sync", "demo", "--wait", json_out=True))
        feed = env.write_feed(None, raw="sku,quantity\nA,5\nB,ten\nC,3\n")
        r = env.beectl("sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 3, r)
        env.wait_log(r"demo: run 3 partial")
        log = env.log_text()
        lines = log.splitlines()
        self.assertEqual([l for l in lines if not re.match(r"^<[0-7]>", l)], [], log)
        for pattern in (
                r"^<6>demo: run 1 started: full sync \(schedule\)$",
                r"^<6>demo: run 1 ok: full sync \(schedule\), read 3, changed 3, pushed 3, "
                r"rejected 0, bad rows 0, \d+ ms$",
                r"^<6>demo: full sync requested on the control socket: run 2$",
                r"^<6>demo: run 2 started: full sync \(manual\)$",
                r"^<6>demo: run 2 ok: full sync \(manual\), read 3, changed 0, pushed 3, "
                r"rejected 0, bad rows 0, \d+ ms$",
                r"^<4>demo: run 3: " + re.escape(feed) + r" line 3: quantity 'ten' is not an "
                r"integer$",
                r"^<4>demo: run 3 partial: smart sync \(manual\), read 2, changed 1, pushed 1, "
                r"rejected 0, bad rows 1, \d+ ms: " + re.escape(feed) + " line 3: quantity "
                r"'ten' is not an integer$"):
            self.assertEqual(len([l for l in lines if re.match(pattern, l)]), 1,
                             "not exactly one line /%s/ in:\n%s" % (pattern, log))


if __name__ == "__main__":
    harness.main()
