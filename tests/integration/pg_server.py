"""A throwaway PostgreSQL server for the `type: postgres` warehouse tests and benchmark.

    server = PgServer.start(root)        # initdb + pg_ctl start on a free port, ~2 s
    server.psql("wms", "CREATE TABLE ...")
    server.conninfo("wms", "packagebee")  # "host=127.0.0.1 port=P dbname=wms user=packagebee"
    server.stop()                          # or .kill(); .restart()

Binaries come from the newest /usr/lib/postgresql/*/bin (Debian's layout; PATH holds only the
wrappers of postgresql-common). PostgreSQL refuses to run as root: under root (as in CI) initdb
and pg_ctl run as the `postgres` system user that Debian's package creates, and the server's
directory belongs to it. The server does not depend on the cluster Debian may have started.

Authentication: unix socket and TCP trust for everyone, except the members of role
`need_password` (create_password_role), who must give a password over TCP (scram-sha-256).
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time


class PgUnavailable(Exception):
    """No PostgreSQL server binaries here (or no user to run them as): the caller skips."""


def find_bin_dir():
    """The newest /usr/lib/postgresql/VERSION/bin that has initdb, pg_ctl and psql."""
    candidates = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        version = os.path.basename(os.path.dirname(path))
        if not all(os.access(os.path.join(path, b), os.X_OK) for b in ("initdb", "pg_ctl", "psql")):
            continue
        try:
            key = tuple(int(part) for part in version.split("."))
        except ValueError:
            continue
        candidates.append((key, path))
    if not candidates:
        raise PgUnavailable("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
                            "(install the postgresql package: .ci/install-deps)")
    return max(candidates)[1]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HBA = """# Written by tests/integration/pg_server.py
local all all                           trust
host  all +need_password 127.0.0.1/32  scram-sha-256
host  all all            127.0.0.1/32  trust
"""


class PgServer:
    def __init__(self, root, bin_dir, run_as):
        self.root = root                      # owned by the server's user
        self.data = os.path.join(root, "data")
        self.socket_dir = root
        self.log = os.path.join(root, "server.log")
        self.bin_dir = bin_dir
        self.run_as = run_as                  # ["runuser", "-u", "postgres", "--"] under root
        self.port = None

    # ---- life cycle ----------------------------------------------------------------------

    @classmethod
    def start(cls, root, extra_settings=()):
        """initdb in `root` (created; must not exist) and start the server. Raises PgUnavailable
        when the binaries or the postgres user are missing."""
        bin_dir = find_bin_dir()
        run_as = []
        os.makedirs(root)
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable("running as root and there is no `postgres` user to run "
                                    "the server as")
            os.chown(root, user.pw_uid, user.pw_gid)
            # The server's user must reach its directory through the parents too.
            parent = os.path.dirname(os.path.abspath(root))
            while parent != "/":
                mode = os.stat(parent).st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
                parent = os.path.dirname(parent)
            run_as = ["runuser", "-u", "postgres", "--"]
        server = cls(root, bin_dir, run_as)
        server._run("initdb", "-D", server.data, "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
        with open(os.path.join(server.data, "pg_hba.conf"), "w") as f:
            f.write(HBA)
        server.settings = ["-c", "fsync=off", "-c", "synchronous_commit=off",
                           "-c", "full_page_writes=off", *extra_settings]
        server.start_again()
        try:
            server.psql("postgres", "CREATE ROLE need_password NOLOGIN")
        except BaseException:
            server.stop(mode="immediate")  # the caller never gets the object to stop it
            raise
        return server

    def start_again(self, attempts=3):
        """Starts the (stopped) server, on a new free port the first time."""
        for attempt in range(attempts):
            port = self.port or free_port()
            options = " ".join(["-k", self.socket_dir, "-c", "listen_addresses=127.0.0.1",
                                "-p", str(port), *self.settings])
            p = self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w",
                          "-t", "60", "start", check=False)
            if p.returncode == 0:
                self.port = port
                return
            if self.port is not None or attempt == attempts - 1:
                raise RuntimeError("pg_ctl start failed (%d): %s\n%s" %
                                   (p.returncode, p.stdout + p.stderr, self.log_tail()))
            time.sleep(0.2)  # the free port was taken meanwhile: try another

    def stop(self, mode="fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop",
                      check=False)

    def restart(self):
        self.stop()
        self.start_again()

    def destroy(self):
        self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no server log)"

    # ---- use -----------------------------------------------------------------------------

    def conninfo(self, dbname, user):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.port, dbname, user)

    def psql(self, dbname, sql, timeout=600):
        """Runs `sql` (one or more statements) as the superuser; returns stdout (unaligned,
        tuples only). Raises on any SQL error."""
        p = subprocess.run([os.path.join(self.bin_dir, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p", str(self.port),
                            "-U", "postgres", "-d", dbname],
                           input=sql, capture_output=True, text=True, timeout=timeout,
                           cwd=self.root)
        if p.returncode != 0:
            raise RuntimeError("psql failed (%d): %s\nSQL: %s" % (p.returncode, p.stderr,
                                                                  sql[:2000]))
        return p.stdout

    def create_database(self, dbname):
        self.psql("postgres", "CREATE DATABASE %s" % dbname)

    def create_password_role(self, name, password):
        """A login role that must give `password` over TCP."""
        self.psql("postgres", "CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE need_password" %
                  (name, password.replace("'", "''")))

    # ---- internals -----------------------------------------------------------------------

    def _run(self, tool, *args, check=True):
        # cwd: the server's user may not be able to enter the caller's directory.
        p = subprocess.run([*self.run_as, os.path.join(self.bin_dir, tool), *args],
                           capture_output=True, text=True, timeout=120, cwd=self.root)
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (tool, p.returncode, p.stdout, p.stderr))
        return p
