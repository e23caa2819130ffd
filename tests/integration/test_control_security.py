#!/usr/bin/env python3
"""Who may talk to beed: the control socket's mode, owner and group, the split between read
commands (whoever can connect) and mutating ones (root, beed's user, daemon.admin_group), and
many clients at once with a slowloris client in the mix.

Malformed and oversized requests are in test_bad_input.py. The non-root client is uid/gid 65534
(nobody/nogroup) through setpriv, with no supplementary groups."""

import grp
import os
import re
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase, Result, frame, wait_for  # noqa: E402

NOBODY = 65534
MUTATING = (("full-sync", "demo"), ("sync", "demo"), ("pause", "demo"), ("resume", "demo"),
            ("reload",))
READ_ONLY = (("status",), ("connections",), ("inventory", "demo"), ("history", "demo"),
             ("diff", "demo"))


def as_nobody(argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + argv


class ControlSecurityTest(BeeTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root (setpriv to uid 65534)")
        # uid 65534 must reach the socket through the temp dirs: this tests the socket's mode,
        # not the directory's.
        os.chmod(self._tmp, 0o755)

    def beectl_nobody(self, env, *args, json_out=False):
        argv = [harness.BEECTL] + (["--json"] if json_out else []) + list(args)
        penv = dict(os.environ, BEECTL_SOCKET=env.socket)
        p = subprocess.run(as_nobody(argv), capture_output=True, text=True, timeout=60, env=penv)
        return Result(argv[1:], p.returncode, p.stdout, p.stderr)

    def started_env(self, daemon_extra=None):
        env = self.make_env()
        os.chmod(env.root, 0o755)
        env.write_feed({"A": 7, "B": 10})
        env.write_config(daemon_extra=daemon_extra)
        env.start()
        env.wait_run(1)
        return env

    # -------------------------------------------------------------------------------------

    def test_socket_mode_owner_and_directory(self):
        env = self.make_env()
        env.write_feed({"A": 1})
        env.write_config(daemon_extra={"socket": "run/ctl/beed.sock"})
        env.socket = os.path.join(env.root, "run", "ctl", "beed.sock")
        old = os.umask(0)  # beed inherits it: the socket's mode must not come from the umask
        try:
            env.start(wait=False)
        finally:
            os.umask(old)
        env.wait_ready()
        st = os.lstat(env.socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode), oct(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, oct(st.st_mode))
        self.assertEqual(st.st_mode & stat.S_IWOTH, 0)
        self.assertEqual((st.st_uid, st.st_gid), (os.geteuid(), os.getegid()))
        # Where the configuration put it (relative to the config file's directory), in a
        # directory beed created 0750.
        self.assertEqual(os.path.dirname(os.path.realpath(env.socket)),
                         os.path.realpath(os.path.join(env.root, "run", "ctl")))
        self.assertEqual([n for n in os.listdir(os.path.join(env.root, "run", "ctl"))],
                         ["beed.sock"])
        self.assertIn("listening on %s " % env.socket, env.log_text())
        d = os.stat(os.path.dirname(env.socket))
        self.assertEqual(stat.S_IMODE(d.st_mode), 0o750, oct(d.st_mode))
        self.assertFalse(os.path.exists(os.path.join(env.root, "beed.sock")))
        self.assertEqual(env.stop(), 0)
        self.assertFalse(os.path.exists(env.socket), "socket left behind after SIGTERM")

    def test_client_without_access_is_refused(self):
        env = self.started_env()
        st = os.stat(env.socket)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, os.getegid()))
        # The client can reach the socket file (the directories are open to it) ...
        probe = subprocess.run(as_nobody([sys.executable, "-c", "import os, sys; "
                                          "os.stat(sys.argv[1])", env.socket]),
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        # ... but the socket's mode keeps it out: beectl exit 6, a message that says why.
        for args in (("status",), ("full-sync", "demo")):
            r = self.beectl_nobody(env, *args)
            self.assertEqual(r.code, 6, r)
            self.assertEqual(r.stdout, "")
            self.assertEqual(r.stderr, "beectl: cannot connect to beed at %s: Permission denied "
                                       "\u2014 is your user in the control socket's group?\n"
                             % env.socket)
        # root still gets in; the refused full-sync did not run.
        self.assertEqual([r["id"] for r in env.history()], [1])

    def test_socket_group_reads_admin_group_mutates(self):
        env = self.started_env(daemon_extra={"socket_group": "nogroup"})
        st = os.stat(env.socket)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid),
                         (0o660, os.geteuid(), grp.getgrnam("nogroup").gr_gid))

        for args in READ_ONLY:
            r = self.beectl_nobody(env, *args, json_out=True)
            self.assertEqual(r.code, 0, r)
            self.assertIsNotNone(r.json, r)
        r = self.beectl_nobody(env, "status", json_out=True)
        self.assertEqual([c["name"] for c in r.json["connections"]], ["demo"])

        for args in MUTATING:
            r = self.beectl_nobody(env, *args)
            self.assertEqual(r.code, 6, r)
            self.assertIn("'%s' changes state and needs root, the user beed runs as, or "
                          "membership of daemon.admin_group" % args[0], r.stderr)
            env.wait_log(r"<4>refused '%s' from uid %d \(pid \d+\): mutating commands need root, "
                         r"uid %d or the admin group" % (re.escape(args[0]), NOBODY, os.geteuid()))
        rj = self.beectl_nobody(env, "full-sync", "demo", json_out=True)
        self.assertEqual((rj.code, rj.json["status"], rj.json["code"]),
                         (6, "permission_denied", 4), rj)
        # Nothing of it took effect.
        self.assertEqual([r["id"] for r in env.history()], [1])
        self.assertFalse(env.conn_status()["paused"])
        self.assertNotIn("requested on the control socket", env.log_text())
        self.assertNotIn("configuration reloaded", env.log_text())

        # admin_group: nogroup (applied by a reload): the same client may now sync.
        env.write_config(daemon_extra={"socket_group": "nogroup", "admin_group": "nogroup"})
        reload = env.beectl("reload", json_out=True)
        self.assertEqual(reload.code, 0, reload)
        self.assertEqual(reload.json["restart_required"], [])
        env.write_feed({"A": 5, "B": 10})
        r = self.beectl_nobody(env, "sync", "demo", "--wait", json_out=True)
        self.assertEqual(r.code, 0, r)
        self.assertEqual((r.json["id"], r.json["result"], r.json["pushed"]), (2, "ok", 1), r.json)
        self.assertEqual(env.read_store(), {"A": 5, "B": 10})
        r = self.beectl_nobody(env, "pause", "demo")
        self.assertEqual((r.code, r.stdout), (0, "demo: automatic syncs paused\n"), r)
        self.assertEqual(self.beectl_nobody(env, "resume", "demo").code, 0)
        # Taking admin_group away again: refused again.
        env.write_config(daemon_extra={"socket_group": "nogroup"})
        self.assertEqual(env.beectl("reload").code, 0)
        self.assertEqual(self.beectl_nobody(env, "sync", "demo").code, 6)

    def test_64_clients_and_a_slowloris(self):
        env = self.started_env()
        n_clients, per_client = 64, 5

        # Slowloris: one header byte a second, for a frame it never finishes.
        slow = harness.raw_connect(env.socket)
        slow_state = {"sent": 0, "closed_after": None}
        stop = threading.Event()

        def trickle():
            header = struct.pack(">I", 1000)
            try:
                for i in range(30):
                    slow.sendall(header[i:i + 1] if i < 4 else b"{")
                    slow_state["sent"] += 1
                    if stop.wait(1.0):
                        return
            except OSError:
                pass  # hung up on

        def watch_close():
            t0 = time.monotonic()
            if harness.closed_by_peer(slow, timeout=30):
                slow_state["closed_after"] = time.monotonic() - t0

        threading.Thread(target=trickle, daemon=True).start()
        watcher = threading.Thread(target=watch_close, daemon=True)
        watcher.start()
        wait_for(lambda: slow_state["sent"] >= 2, timeout=5, what="the slowloris to start")

        latencies, errors, refusals = [], [], [0]
        lock = threading.Lock()
        barrier = threading.Barrier(n_clients)
        round_end = threading.Barrier(n_clients)

        def exchange(s):
            try:
                try:
                    try:
                        s.sendall(frame({"v": 1, "command": "status"}))
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # beed may have answered (too many clients) and hung up: read it
                    return harness.read_reply(s)
                finally:
                    s.close()
            except OSError as e:
                return {"status": "oserror", "error": repr(e)}

        def connect():
            try:
                return harness.raw_connect(env.socket, timeout=30)
            except OSError as e:
                return e

        def too_many(reply):
            # The documented answer past max clients (64 connections; the slowloris holds one):
            # `busy`, "too many clients". Retried; any other failure is an error.
            return bool(reply) and reply.get("status") == "busy" and \
                reply.get("error") == "too many clients"

        def client(k):
            for _ in range(per_client):
                t0 = time.monotonic()
                s = connect()
                try:  # all 64 connections are open before any request is sent
                    barrier.wait(timeout=30)
                except threading.BrokenBarrierError:
                    pass
                reply = exchange(s) if isinstance(s, socket.socket) else \
                    {"status": "oserror", "error": repr(s)}
                for _attempt in range(200):
                    if not too_many(reply):
                        break
                    with lock:
                        refusals[0] += 1
                    time.sleep(0.02)
                    s = connect()
                    reply = exchange(s) if isinstance(s, socket.socket) else \
                        {"status": "oserror", "error": repr(s)}
                took = time.monotonic() - t0
                with lock:
                    if reply and reply.get("status") == "ok" and \
                            reply["data"]["connections"][0]["name"] == "demo":
                        latencies.append(took)
                    else:
                        errors.append((k, reply))
                try:  # the round ends when every client has its reply (or gave up)
                    round_end.wait(timeout=30)
                except threading.BrokenBarrierError:
                    pass

        t_start = time.monotonic()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(n_clients)]
        for t in threads:
            t.start()
        # beed answers someone else meanwhile (a refusal past the reserved slots is retried).
        t0 = time.monotonic()
        for _ in range(100):
            r = env.beectl("status", timeout=30)
            if r.code != 5 or "too many clients" not in r.stderr:
                break
            time.sleep(0.02)
        beectl_during = time.monotonic() - t0
        for t in threads:
            t.join(timeout=120)
        wall = time.monotonic() - t_start
        self.assertFalse(any(t.is_alive() for t in threads), "clients hung")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(errors[:5], [], "%d requests failed" % len(errors))
        self.assertEqual(len(latencies), n_clients * per_client)

        lat = sorted(latencies)
        p50 = lat[len(lat) // 2]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print("\n%d status replies from %d clients in %.2f s (slowloris connected): "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms; 'too many clients' refusals retried: %d; "
              "a beectl status meanwhile: %.0f ms"
              % (len(lat), n_clients, wall, p50 * 1e3, p99 * 1e3, lat[-1] * 1e3, refusals[0],
                 beectl_during * 1e3), file=sys.stderr)
        self.assertLess(p99, 5.0, "status p99 %.2f s" % p99)

        # The slowloris gets no extension from trickling: hung up within the 10 s frame deadline
        # (plus slack), not after the 30 bytes it would send.
        watcher.join(timeout=30)
        stop.set()
        slow.close()
        self.assertIsNotNone(slow_state["closed_after"], "beed never hung up on the slowloris")
        self.assertLess(slow_state["closed_after"], 14.0, slow_state)
        print("slowloris hung up after %.1f s (%d bytes trickled)"
              % (slow_state["closed_after"], slow_state["sent"]), file=sys.stderr)
        r = env.beectl("status", json_out=True)
        self.assertEqual(r.code, 0, r)
        self.assertTrue(env.running())


if __name__ == "__main__":
    harness.main()
