"""Shared helpers for the Yubin integration tests.

Everything here talks to a real `yubind` through sockets, like a user's
mail client would: a small raw SMTP and POP3 client (so tests can check the
exact status and enhanced status codes and send hostile bytes), and a
`Server` that initialises a temporary data directory with `yubinctl` and
runs the daemon in the foreground.
"""

import base64
import collections
import contextlib
import errno
import fcntl
import json
import os
import random
import re
import signal
import smtplib
import poplib
import socket
import ssl
import subprocess
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, os.environ.get("YUBIN_BUILD", "build"))
YUBIND = os.path.join(BUILD, "yubind")
YUBINCTL = os.path.join(BUILD, "yubinctl")
# The browser tests' screenshots: one directory a module (each clears only
# its own) under the build being tested, so modules on parallel workers and
# the normal and sanitizer runs never remove or overwrite each other's.
SCREENSHOTS = os.path.join(BUILD, "screenshots")

HOST = "127.0.0.1"
HOSTNAME = "mail.example.test"
DOMAIN = "example.test"
PASSWORD = "Secret-pass-123"
TIMEOUT = 20.0

STD_PORTS = {
    "smtp": 25, "submission": 587, "smtps": 465,
    "pop3": 110, "pop3s": 995, "imap": 143, "imaps": 993,
    "http": 80, "https": 443, "sieve": 4190,
}

# ports whose server speaks first (a greeting)
GREETING_PORTS = ("smtp", "submission", "pop3", "imap", "sieve")

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
)

# Ports handed out lately in this pytest process: the last 40 servers'
# (a module's servers, or ones still running, are never given again; older
# ones have stopped, and a whole suite's worth would leave too few offsets).
# They stay claimed (PortClaims) until they drop out of this list.
_recent_ports = collections.deque(maxlen=40)
# Every server created, so conftest can attach logs to failing tests.
ALL_SERVERS = []


# ---------------------------------------------------------------- ports

def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# Offsets come from 20000..29000 (the ports used reach offset + 4190): below
# Linux's ephemeral range (32768..60999 by default, read from the kernel),
# where outgoing connections take their local ports, and above the ports of
# most services a developer runs (databases, caches, web servers). Offsets
# whose ports hit a well-known service in that range are left out.
OFFSET_RANGE = (20000, 29000)
COMMON_PORTS = {
    20000, 21025, 22000, 22222, 23399, 24007, 24008, 24800, 25565, 25575, 25672,
    26257, 27015, 27016, 27017, 27018, 27019, 27036, 28015, 28017, 28080,
}


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class PortClaims:
    """Ports claimed machine-wide by this process: port N is claimed by a
    lock on byte N of one shared file (PORT_LOCK_FILE). The locks are the
    process's own (fcntl record locks): they go when it exits, even when
    it is killed, and no other process gets a claimed port, so pytest-xdist
    workers, the normal and the sanitizer run side by side, and another
    checkout's tests all use disjoint ports. A process that cannot open the
    file (another user's) still checks that ports are free, as before."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def _file(self):
        if self.fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                return None
            try:
                os.fchmod(fd, 0o666)    # whoever runs tests next may claim too
            except OSError:
                pass
            self.fd = fd    # never closed: closing any fd of it drops every lock
        return self.fd

    def claim(self, ports):
        """Claims all of ports for this process, or none (False)."""
        fd = self._file()
        if fd is None:
            return True
        got = []
        for p in sorted(ports):
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, p, os.SEEK_SET)
            except OSError:
                self.release(got)
                return False
            got.append(p)
        return True

    def release(self, ports):
        if self.fd is None:
            return
        for p in ports:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, p, os.SEEK_SET)


PORT_LOCK_FILE = os.path.join(tempfile.gettempdir(), "yubin-test-ports.lock")
PORT_CLAIMS = PortClaims(PORT_LOCK_FILE)


def claim_recent(recent, ports):
    """Claims ports and keeps them in recent (a bounded deque of port sets
    of this process); the oldest set falls out and is released. False when
    another process holds one of them."""
    if not PORT_CLAIMS.claim(ports):
        return False
    if recent.maxlen is not None and len(recent) == recent.maxlen:
        old = recent.popleft()
        PORT_CLAIMS.release(old - set().union(ports, *recent))
    recent.append(set(ports))
    return True


def pick_offset():
    """A random port offset whose ports are all free, not used before in
    this process, claimed by no other process, below the ephemeral range
    and off the common ports."""
    rng = random.Random(os.urandom(8))
    top = min(OFFSET_RANGE[1], _ephemeral_low() - 1 - max(STD_PORTS.values()))
    used = set().union(*_recent_ports)
    for _ in range(1000):
        off = rng.randrange(OFFSET_RANGE[0], top + 1)
        ports = {off + p for p in STD_PORTS.values()}
        if ports & used or ports & COMMON_PORTS:
            continue
        if all(_port_free(p) for p in ports) and claim_recent(_recent_ports, ports):
            return off
    raise RuntimeError("no free port offset found")


def _listening_inodes(ports):
    """{inode} of the TCP sockets listening on any of ports (any process)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            col = row.split()
            if len(col) > 9 and col[3] == "0A" and int(col[1].rsplit(":", 1)[1], 16) in ports:
                out.add(col[9])
    return out


def _socket_inodes(pid):
    out = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return out
    for n in names:
        try:
            link = os.readlink(os.path.join(fd_dir, n))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


class PortCollision(Exception):
    """Another program holds one of the server's ports."""


# ---------------------------------------------------------------- messages

def make_message(token, body_lines=5, extra_body=b"", sender="sender@client.test",
                 rcpt="user@example.test", size=None):
    """An RFC 5322 message in wire form (CRLF), unique by token. No line
    starts with '.', so it goes through SMTP unchanged except for
    dot-stuffing done by the sender helpers."""
    head = (
        "X-Test-Token: {t}\r\n"
        "From: <{s}>\r\n"
        "To: <{r}>\r\n"
        "Subject: test {t}\r\n"
        "Message-ID: <{t}@client.test>\r\n"
        "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
    ).format(t=token, s=sender, r=rcpt).encode()
    lines = []
    for i in range(body_lines):
        lines.append(("line %d of %s: the quick brown fox jumps over the lazy dog" % (i, token)).encode())
    body = b"\r\n".join(lines) + b"\r\n" + extra_body
    if size is not None and len(head) + len(body) < size:
        filler = []
        n = len(head) + len(body)
        i = 0
        while n < size:
            ln = ("%s filler %06d " % (token, i)).encode() + b"x" * 60 + b"\r\n"
            filler.append(ln)
            n += len(ln)
            i += 1
        body += b"".join(filler)
    return head + body


def dot_stuff(msg):
    """Dot-stuffs a CRLF message and appends the end-of-data marker."""
    if not msg.endswith(b"\r\n"):
        msg += b"\r\n"
    out = re.sub(rb"(?m)^\.", b"..", msg)
    return out + b".\r\n"


def split_header_block(data):
    """Returns (list of (name, value) unfolded, body bytes) of a message."""
    idx = data.find(b"\r\n\r\n")
    if idx < 0:
        head, body = data, b""
    else:
        head, body = data[:idx + 2], data[idx + 4:]
    headers = []
    for line in head.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and headers:
            n, v = headers[-1]
            headers[-1] = (n, v + b" " + line.strip())
            continue
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1").strip(), value.strip()))
    return headers, body


# ---------------------------------------------------------------- SMTP client

class Closed(Exception):
    """The server closed the connection."""


class Reply:
    def __init__(self, code, lines):
        self.code = code
        self.lines = lines          # text after "NNN-" / "NNN "
        first = lines[0] if lines else ""
        m = re.match(r"^([245]\.\d{1,3}\.\d{1,3})(?:\s|$)", first)
        self.enh = m.group(1) if m else None

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return "Reply(%d, %r)" % (self.code, self.lines)

    def expect(self, code, enh=None):
        assert self.code == code, "expected %s %s, got %r" % (code, enh or "", self)
        if enh is not None:
            assert self.enh == enh, "expected %s %s, got %r" % (code, enh, self)
        return self


def tls_context(server):
    ctx = ssl.create_default_context(cafile=server.crt)
    return ctx


class LineConn:
    """A socket with a byte buffer, optionally upgraded to TLS."""

    def __init__(self, port, tls_ctx=None, timeout=TIMEOUT):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""
        self.tls = False
        if tls_ctx is not None:
            self.sock = tls_ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
            self.tls = True

    def settimeout(self, t):
        self.sock.settimeout(t)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed("connection closed by server; unread %r" % self.buf)
        self.buf += data

    def readline(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            self._fill()

    def readexact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def upgrade(self, ctx):
        assert self.buf == b"", "data left in buffer before TLS: %r" % self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        self.tls = True

    def wait_closed(self, timeout=10.0):
        """True when the server closes the connection within timeout (any
        data received before is kept in buf)."""
        self.sock.settimeout(timeout)
        end = time.time() + timeout
        try:
            while time.time() < end:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Drops the connection without any protocol goodbye (RST)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close()


class SMTPConn(LineConn):
    """A raw SMTP client. Each method returns a Reply."""

    def __init__(self, port, tls_ctx=None, timeout=TIMEOUT, read_greeting=True):
        super().__init__(port, tls_ctx, timeout)
        self.greeting = self.read_reply() if read_greeting else None
        self.caps = {}

    def read_reply(self):
        code = None
        lines = []
        while True:
            raw = self.readline()
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            assert len(line) >= 3 and line[:3].isdigit(), "bad reply line %r" % raw
            if code is None:
                code = int(line[:3])
            assert int(line[:3]) == code, "mixed codes in one reply: %r" % raw
            lines.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return Reply(code, lines)
            assert line[3] == "-", "bad reply line %r" % raw

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.read_reply()

    def ehlo(self, name="client.test"):
        r = self.cmd("EHLO " + name)
        if r.code == 250:
            self.caps = {}
            for ln in r.lines[1:]:
                parts = ln.split()
                if parts:
                    self.caps[parts[0].upper()] = parts[1:]
        return r

    def starttls(self, ctx):
        r = self.cmd("STARTTLS")
        if r.code == 220:
            self.upgrade(ctx)
        return r

    def auth_plain(self, user, password):
        tok = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)

    def auth_login(self, user, password):
        r = self.cmd("AUTH LOGIN")
        if r.code != 334:
            return r
        r = self.cmd(base64.b64encode(user.encode()).decode())
        if r.code != 334:
            return r
        return self.cmd(base64.b64encode(password.encode()).decode())

    def data(self, msg):
        r = self.cmd("DATA")
        if r.code != 354:
            return r
        self.send(dot_stuff(msg))
        return self.read_reply()

    def send_mail(self, sender, rcpts, msg):
        """One transaction; returns the replies [MAIL, RCPT..., DATA-end]."""
        out = [self.cmd("MAIL FROM:<%s>" % sender)]
        for r in rcpts:
            out.append(self.cmd("RCPT TO:<%s>" % r))
        out.append(self.data(msg))
        return out

    def quit(self):
        try:
            r = self.cmd("QUIT")
        except (Closed, OSError):
            r = None
        self.close()
        return r


def smtp_submission(server, tls_mode="starttls"):
    """An authenticated submission session (587 + STARTTLS, or 465)."""
    ctx = tls_context(server)
    if tls_mode == "implicit":
        c = SMTPConn(server.port("smtps"), tls_ctx=ctx)
    else:
        c = SMTPConn(server.port("submission"))
        c.ehlo().expect(250)
        c.starttls(ctx).expect(220)
    c.ehlo().expect(250)
    return c


class NamedSMTP_SSL(smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL that connects to 127.0.0.1 but verifies the
    certificate for mail.example.test."""

    def _get_socket(self, host, port, timeout):
        sock = socket.create_connection((HOST, port), timeout)
        return self.context.wrap_socket(sock, server_hostname=HOSTNAME)


def smtplib_starttls(port, ctx):
    s = smtplib.SMTP(HOST, port, local_hostname="client.test", timeout=TIMEOUT)
    s.ehlo()
    s._host = HOSTNAME          # the name smtplib checks the certificate against
    s.starttls(context=ctx)
    s.ehlo()
    return s


# ---------------------------------------------------------------- POP3 client

class POP3Conn(LineConn):
    """A raw POP3 client."""

    def __init__(self, port, tls_ctx=None, timeout=TIMEOUT):
        super().__init__(port, tls_ctx, timeout)
        self.greeting = self.readline().rstrip(b"\r\n")

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.readline().rstrip(b"\r\n")

    def read_multi(self):
        """Reads a dot-terminated multi-line body, un-stuffed, as a list of
        lines without CRLF."""
        lines = []
        while True:
            ln = self.readline()
            assert ln.endswith(b"\r\n"), "POP3 line without CRLF: %r" % ln
            ln = ln[:-2]
            if ln == b".":
                return lines
            if ln.startswith(b"."):
                ln = ln[1:]
            lines.append(ln)

    def multi(self, line):
        first = self.cmd(line)
        if not first.startswith(b"+OK"):
            return first, None
        return first, self.read_multi()

    def stls(self, ctx):
        r = self.cmd("STLS")
        if r.startswith(b"+OK"):
            self.upgrade(ctx)
        return r

    def login(self, user, password):
        r = self.cmd("USER " + user)
        if not r.startswith(b"+OK"):
            return r
        return self.cmd("PASS " + password)

    def auth_plain(self, user, password):
        tok = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)

    def quit(self):
        try:
            r = self.cmd("QUIT")
        except (Closed, OSError):
            r = None
        self.close()
        return r


class NamedPOP3_SSL(poplib.POP3_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((HOST, self.port), timeout)
        return self.context.wrap_socket(sock, server_hostname=HOSTNAME)


def pop3_session(server, user, password=PASSWORD, mode="stls"):
    """A logged-in raw POP3 session (110 + STLS, or 995)."""
    ctx = tls_context(server)
    if mode == "implicit":
        c = POP3Conn(server.port("pop3s"), tls_ctx=ctx)
    else:
        c = POP3Conn(server.port("pop3"))
        r = c.stls(ctx)
        assert r.startswith(b"+OK"), r
    r = c.login(user, password)
    assert r.startswith(b"+OK"), "login %s: %r" % (user, r)
    return c


# ---------------------------------------------------------------- server

class Server:
    """A yubind with its own data directory, ports and log."""

    def __init__(self, base_dir, config=None, accounts=None, domains=(DOMAIN,), name="yubind"):
        self.base = str(base_dir)
        self.data = os.path.join(self.base, "data")
        self.log_path = os.path.join(self.base, name + ".log")
        self.offset = None
        self.proc = None
        self.logf = None
        self.starts = 0
        # DNS never leaves loopback: unless a test brings its own resolver
        # (a local dnsmasq), lookups go to a port where nothing answers, so
        # queued mail for other domains waits and retries
        self.config = {"dns.resolver": "127.0.0.1:1"}
        # no virus check unless a test starts its own clamd (test_virus.py):
        # the default socket of Debian's clamav-daemon is not there
        self.config["virus.clamd"] = ""
        self.config.update(config or {})
        self.accounts = accounts if accounts is not None else [("user@" + DOMAIN, PASSWORD, None)]
        self.domains = list(domains)
        ALL_SERVERS.append(self)

    # -- yubinctl
    def ctl(self, *args, input=None, check=True):
        cmd = [YUBINCTL, "-d", self.data] + [str(a) for a in args]
        if isinstance(input, str):
            input = input.encode()
        for attempt in range(50):
            try:
                p = subprocess.run(cmd, input=input if input is not None else b"",
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                break
            except OSError as e:
                # the binary is being relinked by a concurrent `make`
                if attempt == 49 or e.errno not in (errno.EACCES, errno.ETXTBSY, errno.ENOENT):
                    raise
                time.sleep(0.1)
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        # a crash or a sanitizer report is never a correct answer, not even
        # when the test expects yubinctl to refuse
        assert p.returncode >= 0, "yubinctl %s killed by signal %d:\n%s" % (" ".join(cmd[3:]), -p.returncode, p.err)
        for m in SANITIZER_MARKERS:
            assert m not in p.err, "yubinctl %s: sanitizer report:\n%s" % (" ".join(cmd[3:]), p.err)
        if check and p.returncode != 0:
            raise AssertionError("yubinctl %s failed (%d):\n%s%s" % (" ".join(cmd[3:]), p.returncode, p.out, p.err))
        return p

    def add_account(self, addr, password=PASSWORD, quota=None):
        args = ["account", "add", addr, "--password-stdin"]
        if quota is not None:
            args += ["--quota", str(quota)]
        self.ctl(*args, input=password + "\n")

    def account_json(self, addr):
        p = self.ctl("account", "show", addr, "--json")
        return json.loads(p.out)

    def setup(self):
        os.makedirs(self.base, exist_ok=True)
        self.offset = pick_offset()
        self.ctl("init", "--hostname", HOSTNAME, "--port-offset", self.offset, "--listen", HOST)
        for d in self.domains:
            self.ctl("domain", "add", d)
        for a in self.accounts:
            addr, pw, quota = (tuple(a) + (PASSWORD, None))[:3]
            self.add_account(addr, pw or PASSWORD, quota)
        for k, v in self.config.items():
            self.ctl("config", "set", k, v)
        return self

    @property
    def crt(self):
        return os.path.join(self.data, "tls", HOSTNAME + ".crt")

    def port(self, name):
        return self.offset + STD_PORTS[name]

    def maildir(self, addr):
        local, _, dom = addr.lower().partition("@")
        return os.path.join(self.data, "mail", dom, local)

    # -- the daemon
    def start(self, wait_port="smtp"):
        """Starts yubind and waits until it answers on wait_port. When
        another program holds one of its ports (the daemon cannot bind, or a
        listener that is not the daemon's shares the port through
        SO_REUSEPORT), starts again on a new port offset."""
        for attempt in range(5):
            try:
                return self._start_once(wait_port)
            except PortCollision as e:
                old = self.offset
                self._move_ports()
                self._note("port collision at offset %d (%s); moved to offset %d" % (old, e, self.offset))
        raise AssertionError("yubind: a port collision five times in a row:\n" + self.log_tail())

    def _move_ports(self):
        old, self.offset = self.offset, pick_offset()
        for name, std in STD_PORTS.items():
            key = name + ".port"
            if self.ctl("config", "get", key).out.strip() == str(old + std):
                self.ctl("config", "set", key, self.offset + std)

    def _start_once(self, wait_port):
        assert self.proc is None, "already running"
        self.logf = open(self.log_path, "ab")
        self.logf.write(("==== start %d ====\n" % self.starts).encode())
        self.logf.flush()
        log_start = self.logf.tell()
        self.starts += 1
        self.proc = subprocess.Popen([YUBIND, "-d", self.data], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                self.logf.close()
                with open(self.log_path, "rb") as f:
                    f.seek(log_start)
                    this_run = f.read()
                if b"cannot bind" in this_run and b"in use" in this_run:
                    raise PortCollision("cannot bind")
                raise AssertionError("yubind exited with %d at start-up:\n%s" % (rc, self.log_tail()))
            try:
                s = socket.create_connection((HOST, self.port(wait_port)), timeout=1)
                try:
                    # the port is bound (and the kernel answers) before the
                    # loops run, e.g. while the delivery journal is replayed:
                    # on a port that greets, ready means the greeting came
                    if wait_port in GREETING_PORTS:
                        s.settimeout(max(0.1, deadline - time.time()))
                        if not s.recv(1):
                            raise OSError("closed before the greeting")
                finally:
                    s.close()
                break
            except OSError:
                pass
            if time.time() > deadline:
                self.kill9()
                raise AssertionError("yubind did not listen on %d within 20 s:\n%s"
                                     % (self.port(wait_port), self.log_tail()))
            time.sleep(0.1)
        ports = {self.port(n) for n in STD_PORTS}
        foreign = _listening_inodes(ports) - _socket_inodes(self.proc.pid)
        if foreign:
            self.kill9()
            raise PortCollision("another program listens on a port too")
        return self

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, wait=10):
        """SIGTERM, SIGKILL after wait seconds. Returns the exit status."""
        if self.proc is None:
            return None
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
                self._note("yubind did not exit within %d s of SIGTERM; killed" % wait)
        else:
            rc = self.proc.returncode
        self.proc = None
        self.logf.close()
        return rc

    def kill9(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.logf.close()

    def restart(self):
        self.stop()
        return self.start()

    def _note(self, text):
        with open(self.log_path, "ab") as f:
            f.write(("[test harness] %s\n" % text).encode())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=150):
        lines = self.log().splitlines()
        return "\n".join(lines[-n:])

    def sanitizer_report(self):
        log = self.log()
        for m in SANITIZER_MARKERS:
            i = log.find(m)
            if i >= 0:
                return log[max(0, i - 500):i + 4000]
        return None

    # -- mailbox inspection
    def messages(self, addr, folders=("new", "cur")):
        """{path: bytes} of every message in the INBOX."""
        out = {}
        md = self.maildir(addr)
        for f in folders:
            d = os.path.join(md, f)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                p = os.path.join(d, name)
                if os.path.isfile(p):
                    with open(p, "rb") as fh:
                        out[p] = fh.read()
        return out

    def find_token(self, addr, token):
        tok = token.encode() if isinstance(token, str) else token
        return {p: d for p, d in self.messages(addr).items() if tok in d}

    def wait_messages(self, addr, n, timeout=10.0):
        end = time.time() + timeout
        while True:
            m = self.messages(addr)
            if len(m) >= n or time.time() > end:
                return m
            time.sleep(0.05)


@contextlib.contextmanager
def running_server(base_dir, **kw):
    """Sets up and starts a server; stops it afterwards and fails if the
    daemon printed a sanitizer report."""
    srv = Server(base_dir, **kw).setup()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        rep = srv.sanitizer_report()
        if rep:
            raise AssertionError("sanitizer report in yubind's log:\n" + rep)


def unique(prefix="t"):
    return "%s-%d-%s" % (prefix, int(time.time() * 1000), os.urandom(4).hex())


def make_traversable(path):
    """Adds search (x) permission to every parent of path, so that the
    unprivileged processes of a private Postfix or Dovecot reach files
    under the 0700 pytest temporary tree."""
    parent = os.path.dirname(str(path))
    while parent and parent != "/":
        st = os.stat(parent)
        os.chmod(parent, st.st_mode | 0o111)
        parent = os.path.dirname(parent)


def read_until_closed(sock, limit=30):
    """Everything the server sends until it closes (fails after limit s)."""
    sock.settimeout(limit)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return data
        if not chunk:
            return data
        data += chunk
