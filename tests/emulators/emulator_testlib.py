"""Shared helpers for the emulators' self-tests (Python standard library only).

Starts an emulator on 127.0.0.1 with an ephemeral port (it writes the port to a file once it
listens), talks to it over HTTPS verified against a throwaway test CA made by make_test_ca.sh,
and stops it again.
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_TEST_CA = os.path.join(HERE, "make_test_ca.sh")
SKIP = 77  # ctest SKIP_RETURN_CODE for the emulator tests


def make_ca(directory):
    """Runs make_test_ca.sh into DIRECTORY; returns a dict of the files it wrote."""
    subprocess.run(["bash", MAKE_TEST_CA, directory], check=True, stdout=subprocess.DEVNULL)
    names = ["ca", "server", "expired", "other-ca", "wrong-ca"]
    files = {}
    for n in names:
        files[n] = os.path.join(directory, n + ".pem")
        files[n + ".key"] = os.path.join(directory, n + ".key")
    return files


def client_context(cafile):
    """A client context that verifies the server against the test CA only (and the host name)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class Emulator:
    """One emulator process. cmd is the argv without --port/--port-file (added here)."""

    def __init__(self, cmd, workdir, name="emulator"):
        self.cmd = list(cmd)
        self.workdir = workdir
        self.name = name
        self.proc = None
        self.port = None
        self.stdout_path = os.path.join(workdir, f"{name}.out")

    def start(self, timeout=15.0):
        port_file = os.path.join(self.workdir, f"{self.name}.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self._out = open(self.stdout_path, "w")
        self.proc = subprocess.Popen(
            self.cmd + ["--host", "127.0.0.1", "--port", "0", "--port-file", port_file],
            stdout=self._out, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout}s:\n{self.output()}")

    def output(self):
        try:
            with open(self.stdout_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_out", None):
            self._out.close()
            self._out = None


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


def request(port, method, path, body=None, headers=None, context=None, host="127.0.0.1", timeout=10.0):
    """One HTTPS request on a fresh connection; body may be bytes, str or a JSON-able object."""
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (bytes, bytearray)):
                data = bytes(body)
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = json.dumps(body).encode("utf-8")
                h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


class TempDir:
    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def require_tools(*tools):
    """Exit with SKIP (and say why) when a tool the test needs is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print(f"SKIP: missing tools: {', '.join(missing)}", file=sys.stderr)
        sys.exit(SKIP)
