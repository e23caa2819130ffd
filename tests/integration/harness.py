"""A small harness for integration tests that run the real beed and drive it with beectl.

Binary paths come from the environment (CMake sets them for ctest):
  BEED, BEECTL, PB_STATE_DUMP

Typical use:

    class MyTest(harness.BeeTestCase):
        def test_it(self):
            env = self.make_env()
            env.write_config(connections={"demo": env.connection()})
            env.write_feed({"A": 7})
            env.start()
            r = env.beectl("full-sync", "demo", "--wait", json_out=True)
            ...

BeeTestCase kills every beed it started at the end of each test (even on failure) and, when a
test fails, prints the stderr of each beed it started.
"""

import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BEED = os.environ.get("BEED", "")
BEECTL = os.environ.get("BEECTL", "")
PB_STATE_DUMP = os.environ.get("PB_STATE_DUMP", "")


def _die_with_parent():
    """preexec_fn: beed gets SIGKILL if the test process dies (ctest timeout, ^C), so no test
    ever leaves a daemon behind."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def require_binaries():
    missing = [n for n, p in (("BEED", BEED), ("BEECTL", BEECTL), ("PB_STATE_DUMP", PB_STATE_DUMP))
               if not p or not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError("set %s to the built binaries (ctest does this)" % ", ".join(missing))


def yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value, indent=0):
    """Minimal YAML emitter for nested dicts of scalars (all this harness needs). A list is
    written in flow style as JSON, which is valid YAML."""
    pad = "  " * indent
    lines = []
    for key, v in value.items():
        if isinstance(v, list):
            lines.append("%s%s: %s" % (pad, key, json.dumps(v)))
        elif isinstance(v, dict):
            lines.append("%s%s:" % (pad, key))
            lines.append(to_yaml(v, indent + 1))
        else:
            lines.append("%s%s: %s" % (pad, key, yaml_scalar(v)))
    return "\n".join(lines)


class Result:
    """One beectl invocation."""

    def __init__(self, args, code, stdout, stderr):
        self.args = args
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.json = None
        if "--json" in args and stdout.strip():
            try:
                self.json = json.loads(stdout)
            except ValueError:
                self.json = None

    def __repr__(self):
        return "beectl %s -> exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(self.args), self.code, self.stdout, self.stderr)


class BeeEnv:
    """A temp dir with a config, feeds, a store file and (at most) one running beed."""

    def __init__(self, root, name="demo"):
        self.root = root
        self.name = name
        self.config_path = os.path.join(root, "packagebee.yaml")
        self.socket = os.path.join(root, "beed.sock")
        self.state_dir = os.path.join(root, "state")
        self.feed_dir = os.path.join(root, "feeds")
        self.store_path = os.path.join(root, "out", "%s.csv" % name)
        self.proc = None
        self.starts = 0
        self.logs = []  # stderr files of every beed started, in order
        self._feed_seq = 0
        self._feed_mtime = time.time() - 100000
        os.makedirs(self.feed_dir, exist_ok=True)

    # ---- configuration and feeds -------------------------------------------------------

    def connection(self, schedule="60m", automatic="smart", missing_skus="keep", buffer=0,
                   warehouse=None, store=None):
        return {
            "warehouse": warehouse or {"type": "csv", "path": "feeds", "pattern": "inv_*.csv"},
            "store": store or {"type": "csv", "path": "out/%s.csv" % self.name},
            "inventory": {"schedule": schedule, "automatic": automatic,
                          "missing_skus": missing_skus, "buffer": buffer},
        }

    def write_config(self, connections=None, log_level="info", text=None, daemon_extra=None):
        """Writes the YAML config; `text` writes it verbatim."""
        if text is None:
            if connections is None:
                connections = {self.name: self.connection()}
            daemon = {"socket": "beed.sock", "state_dir": "state", "log_level": log_level}
            daemon.update(daemon_extra or {})
            text = to_yaml({"daemon": daemon, "connections": connections}) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)
        return self.config_path

    def write_feed(self, rows, raw=None, name=None):
        """Writes a new feed file that is strictly the newest in feed_dir (name and mtime both
        increase). `rows` is a dict SKU -> quantity (or a list of (sku, qty) pairs); `raw`
        writes the text verbatim. Returns the path."""
        self._feed_seq += 1
        name = name or "inv_%05d.csv" % self._feed_seq
        path = os.path.join(self.feed_dir, name)
        if raw is None:
            raw = feed_text(rows)
        tmp = path + ".part"
        with open(tmp, "w") as f:
            f.write(raw)
        # Feeds are chosen by mtime: make each one clearly newer than the last, whatever the
        # file system's timestamp granularity.
        self._feed_mtime = max(self._feed_mtime + 10, time.time() - 50000)
        os.utime(tmp, (self._feed_mtime, self._feed_mtime))
        os.rename(tmp, path)
        return path

    # ---- beed --------------------------------------------------------------------------

    def log_path(self, index=None):
        return self.logs[-1 if index is None else index]

    def log_text(self, index=None):
        try:
            with open(self.log_path(index), errors="replace") as f:
                return f.read()
        except (IndexError, OSError):
            return ""

    def start(self, wait=True, timeout=20.0, extra_args=(), extra_env=None):
        """`extra_env` (optional): variables added to beed's environment."""
        assert self.proc is None or self.proc.poll() is not None, "beed already running"
        self.starts += 1
        log = os.path.join(self.root, "beed.%d.stderr" % self.starts)
        self.logs.append(log)
        env = None
        if extra_env:
            env = dict(os.environ)
            env.update(extra_env)
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([BEED, "-c", self.config_path, *extra_args],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         cwd=self.root, preexec_fn=_die_with_parent, env=env)
        if wait:
            self.wait_ready(timeout)
        return self.proc

    def wait_ready(self, timeout=20.0):
        """Waits until `beectl status` answers."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("beed exited with %d during startup:\n%s" %
                                     (self.proc.returncode, self.log_text()))
            if os.path.exists(self.socket):
                last = self.beectl("status", timeout=5)
                if last.code == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("beed did not answer on %s within %.0f s (last: %r)\n%s" %
                             (self.socket, timeout, last, self.log_text()))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Sends `sig` (default SIGKILL) and reaps beed."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        code = self.proc.returncode
        self.proc = None
        return code

    def stop(self, timeout=15):
        """SIGTERM and wait for a clean exit; returns the exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("beed did not stop within %d s of SIGTERM" % timeout)
        self.proc = None
        return code

    def check_config(self):
        p = subprocess.run([BEED, "--check-config", "-c", self.config_path],
                           capture_output=True, text=True, timeout=30)
        return Result(["--check-config"], p.returncode, p.stdout, p.stderr)

    # ---- beectl ------------------------------------------------------------------------

    def beectl(self, *args, json_out=False, timeout=120, socket_path=None):
        argv = [BEECTL] + (["--json"] if json_out else []) + list(args)
        env = dict(os.environ)
        env["BEECTL_SOCKET"] = socket_path or self.socket
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        return Result(argv[1:], p.returncode, p.stdout, p.stderr)

    def beectl_async(self, *args, json_out=True):
        """Starts beectl without waiting; finish with finish_async()."""
        argv = [BEECTL] + (["--json"] if json_out else []) + list(args)
        env = dict(os.environ)
        env["BEECTL_SOCKET"] = self.socket
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        p.argv = argv[1:]
        return p

    @staticmethod
    def finish_async(p, timeout=120):
        out, err = p.communicate(timeout=timeout)
        return Result(p.argv, p.returncode, out, err)

    def status(self):
        r = self.beectl("status", json_out=True)
        if r.code != 0 or r.json is None:
            raise AssertionError("status failed: %r" % r)
        return r.json

    def conn_status(self, name=None):
        name = name or self.name
        for c in self.status()["connections"]:
            if c["name"] == name:
                return c
        raise AssertionError("no connection %s in status" % name)

    def watch_mapping(self, until, timeout=60.0, interval=0.05, what="phase mapping"):
        """Samples the connection's progress while its run is in phase mapping (a store's
        catalogue walk) until `until(samples)` is true; returns the (mapped, mapping_total)
        samples in the order seen."""
        seen = []

        def sampled():
            progress = self.conn_status().get("progress") or {}
            if progress.get("phase") == "mapping":
                seen.append((progress["mapped"], progress["mapping_total"]))
            return until(seen)
        wait_for(sampled, timeout=timeout, interval=interval, what=what)
        return seen

    def wait_idle(self, name=None, timeout=60.0, min_run_id=None):
        """Waits until the connection is idle and (if given) its last run has id >= min_run_id
        and has finished. Returns its status entry."""
        deadline = time.monotonic() + timeout
        c = None
        while time.monotonic() < deadline:
            c = self.conn_status(name)
            last = c.get("last_sync")
            done = c["state"] == "idle" and (last is None or last["result"] != "running")
            if done and min_run_id is not None:
                done = last is not None and last["id"] >= min_run_id
            if done:
                return c
            time.sleep(0.1)
        raise AssertionError("connection did not finish a run in %.0f s: %r" % (timeout, c))

    def wait_run(self, run_id, name=None, timeout=60.0):
        """Waits until run `run_id` (or a later one) has finished; returns the last_sync."""
        return self.wait_idle(name, timeout, min_run_id=run_id)["last_sync"]

    def history(self, name=None, limit=None):
        """`beectl --json history NAME [--limit N]`: the runs, newest first."""
        args = ["history", name or self.name] + ([] if limit is None else ["--limit", str(limit)])
        r = self.beectl(*args, json_out=True)
        if r.code != 0 or r.json is None:
            raise AssertionError("history failed: %r" % r)
        return r.json["runs"]

    def wait_log(self, pattern, timeout=20.0, index=None):
        """Waits until the beed log (a regex `pattern`) matches; returns the match."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log_text(index)), timeout=timeout,
                        what="log line /%s/" % pattern)

    def inventory(self, name=None, *args):
        r = self.beectl("inventory", name or self.name, "--limit", "0", *args, json_out=True)
        if r.code != 0 or r.json is None:
            raise AssertionError("inventory failed: %r" % r)
        return {item["sku"]: item for item in r.json["items"]}

    # ---- store file and state ----------------------------------------------------------

    def read_store_raw(self, path=None):
        path = path or self.store_path
        with open(path, "rb") as f:
            return f.read()

    def read_store(self, path=None):
        """The store CSV as a dict SKU -> int, checking that it is well formed: header
        `sku,quantity`, then complete rows strictly sorted by SKU, ending in a newline.
        Returns None when the file does not exist."""
        path = path or self.store_path
        if not os.path.exists(path):
            return None
        data = self.read_store_raw(path)
        text = data.decode("utf-8")
        if not text.startswith("sku,quantity\n"):
            raise AssertionError("store file %s: bad header: %r" % (path, text[:40]))
        if not text.endswith("\n"):
            raise AssertionError("store file %s: truncated (no final newline): ...%r" %
                                 (path, text[-40:]))
        rows = {}
        previous = None
        for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if n == 1:
                continue
            if len(row) != 2:
                raise AssertionError("store file %s line %d: %r" % (path, n, row))
            sku, qty = row
            if previous is not None and sku.encode() <= previous.encode():
                raise AssertionError("store file %s line %d: %r not after %r (unsorted)" %
                                     (path, n, sku, previous))
            if not qty.lstrip("-").isdigit():
                raise AssertionError("store file %s line %d: bad quantity %r" % (path, n, qty))
            rows[sku] = int(qty)
            previous = sku
        return rows

    def state_dump(self, name=None):
        """pb_state_dump as a dict SKU -> dict(quantity, wanted, listed, store_quantity,
        pending, error). Works while beed is dead (or alive: LMDB readers are fine)."""
        p = subprocess.run([PB_STATE_DUMP, self.state_dir, name or self.name],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("pb_state_dump failed (%d): %s" % (p.returncode, p.stderr))
        items = {}
        for line in p.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) < 6:
                raise AssertionError("pb_state_dump: bad line %r" % line)
            sku, qty, wanted, listed, store_qty, pending = parts[:6]
            items[sku] = {
                "quantity": int(qty),
                "wanted": int(wanted),
                "listed": listed == "1",
                "store_quantity": None if store_qty == "-" else int(store_qty),
                "pending": pending == "1",
                "error": "\t".join(parts[6:]),
            }
        return items


# ---- FIFO feeds: a warehouse read that blocks until the test lets it go --------------------

def sanitized_build():
    """True when beed is built with AddressSanitizer: its quarantine holds freed memory back, so
    figures about beed's RSS mean nothing there (the tests that measure memory skip those checks)."""
    try:
        out = subprocess.run(["ldd", BEED], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libasan" in out


def make_fifo(path):
    os.mkfifo(path, 0o600)
    return path


def feed_fifo(path, text, timeout=20.0):
    """Writes `text` to the FIFO once a reader (beed) has it open, then closes it (EOF). Returns
    False if no reader showed up within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            if e.errno != 6 or time.monotonic() > deadline:  # ENXIO: no reader yet
                if e.errno == 6:
                    return False
                raise
            time.sleep(0.02)
    try:
        os.set_blocking(fd, True)
        data = text.encode()
        while data:
            n = os.write(fd, data)
            data = data[n:]
    finally:
        os.close(fd)
    return True


def feed_text(rows):
    items = rows.items() if isinstance(rows, dict) else rows
    return "sku,quantity\n" + "".join("%s,%s\n" % (s, q) for s, q in items)


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls `predicate` until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- raw control-protocol clients (AF_UNIX) ----------------------------------------------

def frame(payload):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">I", len(payload)) + payload


def raw_connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(s):
    """The next frame's JSON, or None if the peer closed the connection."""
    head = read_exact(s, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    body = read_exact(s, length)
    if body is None:
        return None
    return json.loads(body)


def read_reply(s):
    """Skips events; returns the reply, or None on close."""
    while True:
        msg = read_frame(s)
        if msg is None or "event" not in msg:
            return msg


def closed_by_peer(s, timeout=5.0):
    """True when the peer has closed (EOF or reset) within `timeout`."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# ---- sd_notify: a NOTIFY_SOCKET that records what beed sends ------------------------------

class NotifyListener:
    """Binds an AF_UNIX datagram socket at `path` and records every sd_notify message beed
    sends, as (monotonic time, [lines]). Pass `env()` to BeeEnv.start(extra_env=...)."""

    def __init__(self, path):
        self.path = path
        self.messages = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(path)
        self._sock.settimeout(0.1)
        self._closed = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def env(self, **extra):
        env = {"NOTIFY_SOCKET": self.path}
        env.update(extra)
        return env

    def _loop(self):
        while not self._closed:
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((time.monotonic(), data.decode(errors="replace").split("\n")))

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def lines(self, since=0):
        """Every line received, in order, with its time: [(t, "KEY=value")], from message
        index `since` on."""
        return [(t, l) for t, ls in self.snapshot()[since:] for l in ls if l]

    def count(self):
        with self._lock:
            return len(self.messages)

    def wait_line(self, predicate, since=0, timeout=20.0, what="a notify message"):
        """Waits for a line matching `predicate` (a string: exact line) in the messages from
        index `since`; returns (message index, time, line)."""
        match = predicate if callable(predicate) else (lambda l: l == predicate)

        def find():
            for i, (t, ls) in enumerate(self.snapshot()[since:], start=since):
                for l in ls:
                    if match(l):
                        return (i, t, l)
            return None
        return wait_for(find, timeout=timeout, interval=0.01, what=what)

    def close(self):
        self._closed = True
        self._thread.join(timeout=2)
        self._sock.close()


# ---- unittest glue -----------------------------------------------------------------------

class BeeTestCase(unittest.TestCase):
    """Gives each test fresh BeeEnvs; kills their beed afterwards; dumps logs on failure."""

    keep_tmp = bool(os.environ.get("PB_KEEP_TMP"))

    @classmethod
    def setUpClass(cls):
        require_binaries()

    def setUp(self):
        self._envs = []
        self._tmp = tempfile.mkdtemp(prefix="pb-it-%s-" % self._testMethodName[:40])

    def make_env(self, name="demo", subdir=None):
        root = os.path.join(self._tmp, subdir or "env%d" % len(self._envs))
        os.makedirs(root)
        env = BeeEnv(root, name)
        self._envs.append(env)
        return env

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        if result is not None:  # Python 3.11+
            for test, _ in list(result.failures) + list(result.errors):
                if test is self:
                    return True
            return False
        errors = getattr(outcome, "errors", [])  # Python <= 3.10
        return any(exc is not None for _, exc in errors)

    def tearDown(self):
        for env in self._envs:
            try:
                env.kill()
            except Exception as e:  # never leave a beed behind
                print("teardown: %s" % e, file=sys.stderr)
        failed = self._failed()
        if failed:
            for env in self._envs:
                for i, log in enumerate(env.logs):
                    text = env.log_text(i)
                    tail = text[-8000:]
                    print("\n----- beed stderr %s (start %d)%s -----\n%s" %
                          (log, i + 1, " (tail)" if len(text) > len(tail) else "", tail),
                          file=sys.stderr)
        if self.keep_tmp or failed and os.environ.get("PB_KEEP_FAILED"):
            print("kept %s" % self._tmp, file=sys.stderr)
        else:
            shutil.rmtree(self._tmp, ignore_errors=True)


def main():
    unittest.main(verbosity=2)
