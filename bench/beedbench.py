"""Shared helpers for the beed benchmark drivers in bench/ (Python 3 stdlib only).

Not a benchmark itself: idle_connections.py and status_latency.py import it. It finds the
binaries, starts and always stops one beed, speaks the control protocol
(docs/CONTROL-PROTOCOL.md: 4-byte big-endian length + one JSON object), and reads /proc.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGESIZE")


class SetupError(Exception):
    """The benchmark cannot run (missing binary, beed died, socket never came up)."""


# ----------------------------------------------------------------------------- binaries

def add_common_args(parser):
    parser.add_argument("--build-dir", default=None,
                        help="directory holding daemon/beed and ctl/beectl "
                             "(default: build-bench, then build, under the repository)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (config, feeds, state, beed.log)")
    parser.add_argument("--dir", default=None,
                        help="work in this directory instead of a new temporary one "
                             "(emptied first; kept afterwards)")


def find_binary(build_dir, name):
    sub = {"beed": "daemon", "beectl": "ctl"}[name]
    candidates = []
    if build_dir:
        candidates += [os.path.join(build_dir, sub, name), os.path.join(build_dir, name)]
    else:
        for b in ("build-bench", "build"):
            candidates += [os.path.join(REPO, b, sub, name)]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    found = shutil.which(name)
    if found and not build_dir:
        return found
    raise SetupError(f"cannot find {name}; looked in {', '.join(candidates)} "
                     f"(build it: ninja -C build-bench beed beectl)")


# ----------------------------------------------------------------------------- workspace

class Workspace:
    """A temporary directory, removed at exit unless kept."""

    def __init__(self, prefix, keep=False, path=None):
        if path:
            self.path = os.path.abspath(path)
            if os.path.exists(self.path):
                shutil.rmtree(self.path)
            os.makedirs(self.path)
            self.keep = True
        else:
            self.path = tempfile.mkdtemp(prefix=prefix)
            self.keep = keep

    def cleanup(self):
        if not self.keep and os.path.isdir(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


# ----------------------------------------------------------------------------- beed

_live = []  # every Beed started and not yet stopped: stopped at exit, whatever happens


def _stop_all():
    for b in list(_live):
        b.stop()


def stop_all():
    """Stops every Beed and track()ed object still running (what happens at exit anyway)."""
    _stop_all()


def track(obj):
    """Stops `obj` (anything with a stop() method: an emulator, a helper process) at exit or
    on SIGTERM/SIGHUP, as every Beed is; untrack(obj) once it is stopped. Returns obj."""
    _live.append(obj)
    return obj


def untrack(obj):
    if obj in _live:
        _live.remove(obj)


def _on_signal(signo, _frame):
    _stop_all()
    sys.exit(128 + signo)


atexit.register(_stop_all)
for _s in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_s, _on_signal)


class Beed:
    def __init__(self, beed, config, log_path):
        self.beed, self.config, self.log_path = beed, config, log_path
        self.proc = None
        self.started_at = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([self.beed, "--config", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, close_fds=True)
        _live.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise SetupError(f"beed exited with status {self.proc.returncode}; "
                             f"last lines of {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return "(no log)"

    def stop(self, timeout=25.0):
        """SIGTERM, wait (beed lets runs in flight end their step), then SIGKILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                pass
        if self in _live:
            _live.remove(self)
        self._log.close()


def wait_for_socket(beed, path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beed.check_alive()
        try:
            with Control(path, timeout=2.0) as c:
                c.request("status")
            return
        except (OSError, ProtocolError):
            time.sleep(0.02)
    raise SetupError(f"beed's control socket {path} did not answer within {timeout:.0f} s")


# ----------------------------------------------------------------------------- protocol

class ProtocolError(Exception):
    pass


def encode_request(command, args=None):
    msg = {"v": 1, "command": command}
    if args:
        msg["args"] = args
    payload = json.dumps(msg, separators=(",", ":")).encode()
    return struct.pack(">I", len(payload)) + payload


class Control:
    """One connection to beed's control socket; requests are sent one at a time."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ProtocolError("beed closed the connection")
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_frame(self):
        (length,) = struct.unpack(">I", self._read_exact(4))
        if length == 0 or length > 16 * 1024 * 1024:
            raise ProtocolError(f"bad frame length {length}")
        return json.loads(self._read_exact(length))

    def send(self, command, args=None):
        self.sock.sendall(encode_request(command, args))

    def reply(self):
        """Reads frames until the final reply (events are skipped); returns the reply."""
        while True:
            msg = self.read_frame()
            if "event" not in msg:
                return msg

    def request(self, command, args=None):
        self.send(command, args)
        r = self.reply()
        if r.get("status") != "ok":
            raise ProtocolError(f"{command}: {r.get('status')}: {r.get('error')}")
        return r.get("data")


def request_once(path, command, args=None, timeout=30.0):
    with Control(path, timeout) as c:
        return c.request(command, args)


# ----------------------------------------------------------------------------- /proc

def proc_cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the comm: state is field 3, utime field 14, stime field 15 (1-based)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _status_fields(path):
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def _kb(v):
    return int(v.split()[0]) if v else 0


def proc_sample(pid):
    """One snapshot of the figures the idle benchmark compares."""
    st = _status_fields(f"/proc/{pid}/status")
    tasks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            ts = _status_fields(f"/proc/{pid}/task/{tid}/status")
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                tf = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue  # the thread ended meanwhile
        tasks[int(tid)] = {
            "comm": comm,
            "cpu_s": (int(tf[11]) + int(tf[12])) / CLK_TCK,
            "vol": int(ts.get("voluntary_ctxt_switches", 0)),
            "nonvol": int(ts.get("nonvoluntary_ctxt_switches", 0)),
        }
    return {
        "t": time.monotonic(),
        "cpu_s": proc_cpu_seconds(pid),
        # /proc/PID/status counts the main thread only: sum the threads
        "vol": sum(t["vol"] for t in tasks.values()),
        "nonvol": sum(t["nonvol"] for t in tasks.values()),
        "rss_kb": _kb(st.get("VmRSS")),
        "hwm_kb": _kb(st.get("VmHWM")),
        "anon_kb": _kb(st.get("RssAnon")),
        "file_kb": _kb(st.get("RssFile")),
        "shmem_kb": _kb(st.get("RssShmem")),
        "threads": int(st.get("Threads", 0)),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "tasks": tasks,
    }


def proc_status_kb(pid, key):
    """One "NNN kB" field of /proc/PID/status (VmHWM, VmRSS, RssAnon...), in kB."""
    return _kb(_status_fields(f"/proc/{pid}/status").get(key))


def reset_peak_rss(pid):
    """Resets VmHWM of a process of ours to its current RSS (writes 5 to clear_refs), so that a
    later VmHWM is the peak of what ran since. False when the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class StatusSampler:
    """Reads /proc/PID/status every `interval` seconds in a thread and keeps, since the last
    mark(), the sample with the largest VmRSS (with its RssAnon/RssFile split) and the largest
    RssAnon and RssFile on their own (which may come from different moments). VmHWM is the
    kernel's exact peak of RssAnon + RssFile + RssShmem; the samples say which part made it."""

    def __init__(self, pid, interval=0.02):
        import threading
        self.pid, self.interval = pid, interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.samples = 0
        self._reset()

    def _reset(self):
        self.peak = {"rss": 0, "anon": 0, "file": 0}   # the sample with the largest VmRSS (kB)
        self.peak_anon = self.peak_file = 0             # kB

    def _loop(self):
        while not self._stop.is_set():
            try:
                st = _status_fields(f"/proc/{self.pid}/status")
            except OSError:
                return  # beed is gone
            rss, anon, fil = _kb(st.get("VmRSS")), _kb(st.get("RssAnon")), _kb(st.get("RssFile"))
            with self._lock:
                self.samples += 1
                if rss > self.peak["rss"]:
                    self.peak = {"rss": rss, "anon": anon, "file": fil}
                self.peak_anon = max(self.peak_anon, anon)
                self.peak_file = max(self.peak_file, fil)
            self._stop.wait(self.interval)

    def start(self):
        self._thread.start()
        return self

    def mark(self):
        """The peaks since the previous mark (MB), and a new stage begins."""
        with self._lock:
            out = {"rss": self.peak["rss"] / 1024.0, "rss_anon": self.peak["anon"] / 1024.0,
                   "rss_file": self.peak["file"] / 1024.0, "anon": self.peak_anon / 1024.0,
                   "file": self.peak_file / 1024.0}
            self._reset()
        return out

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ----------------------------------------------------------------------------- figures

def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def table(headers, rows, align=None):
    """A Markdown table (so the output can be pasted into docs/PERFORMANCE.md)."""
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    cells = [[str(c) for c in r] for r in rows]
    width = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
             for i, h in enumerate(headers)]
    def fmt(r):
        return "| " + " | ".join(c.rjust(w) if a == "r" else c.ljust(w)
                                 for c, w, a in zip(r, width, align)) + " |"
    sep = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2))
                         for w, a in zip(width, align)) + "|"
    return "\n".join([fmt(headers), sep] + [fmt(r) for r in cells])


# ----------------------------------------------------------------------------- entry point

def run_main(main):
    """The `if __name__ == "__main__"` block of a bench driver: exits with main()'s status; on
    Ctrl-C, 130 (beed and whatever was track()ed are stopped on the way out)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
