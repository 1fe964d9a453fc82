"""A private PostgreSQL for the tests: its own cluster in a temporary
directory, listening only on a Unix socket there (no TCP port). PostgreSQL
refuses to run as root, so as root the cluster belongs to the postgres
user that Debian's package makes, and its directory is handed to it."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.parse

PG_BIN = "/usr/lib/postgresql/15/bin"


def available():
    return os.path.exists(os.path.join(PG_BIN, "postgres"))


class PgServer:
    def __init__(self, user="yubin"):
        # not under pytest's base directory: pytest makes that 0700 again
        # at every session's start, and the postgres user must get in; a
        # short path also keeps the socket's within the 107 bytes allowed
        self.base = tempfile.mkdtemp(prefix="yubin-pg-")
        self.data = os.path.join(self.base, "data")
        self.sock = self.base
        self.user = user
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = pwd.getpwnam("postgres")

    def _cmd(self, *args, check=True):
        cmd = [os.path.join(PG_BIN, args[0])] + list(args[1:])
        if self.run_as is not None:
            cmd = ["runuser", "-u", self.run_as.pw_name, "--"] + cmd
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s" % (args[0], p.returncode, p.stdout.decode()))
        return p

    def setup(self):
        if self.run_as is not None:
            os.chown(self.base, self.run_as.pw_uid, self.run_as.pw_gid)
        self._cmd("initdb", "-D", self.data, "-A", "trust", "-U", self.user, "--no-sync",
                  "-E", "UTF8", "--locale", "C")
        return self

    def start(self):
        self._cmd("pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", os.path.join(self.base, "log"),
                  "-o", "-k %s -c listen_addresses='' -c fsync=off -c max_connections=200" % self.sock,
                  "start")
        return self

    def stop(self):
        self._cmd("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop", check=False)

    def url(self, db="yubin"):
        return "postgresql:///%s?host=%s&user=%s" % (db, urllib.parse.quote(self.sock, safe="/"), self.user)

    def psql(self, sql, db="postgres"):
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(db), "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            raise AssertionError("psql %r: %s" % (sql, p.stderr.decode()))
        return p.stdout.decode().strip()

    def createdb(self, name):
        self.psql("CREATE DATABASE %s" % name)
        return self.url(name)

    def log(self):
        try:
            with open(os.path.join(self.base, "log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def wait_for(pred, timeout, step=0.02):
    """Polls pred until it returns a true value (returned) or timeout
    seconds pass (None)."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            return None
        time.sleep(step)
