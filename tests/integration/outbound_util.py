"""A local DNS server (dnsmasq) and a remote MTA (Postfix's smtp-sink) for
the outbound queue tests. Both run on loopback addresses at high ports:

- dnsmasq answers MX/A records for the test domains on 127.0.0.1:<port>;
  yubind reaches it through `dns.resolver 127.0.0.1:<port>`.
- smtp-sink listens on 127.0.0.5:<port> (the A record of mx.remote.test);
  yubind reaches that port through `smtp.remote_port`. Each received
  message is dumped to its own file, so tests count what arrived.
"""
import collections
import os
import shutil
import signal
import socket
import subprocess
import time

import helpers

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
MX_ADDR = "127.0.0.5"      # mx.remote.test
DEAD_ADDR = "127.0.0.6"    # dead.remote.test: nothing listens there


def have_tools():
    return os.access(DNSMASQ, os.X_OK) and os.access(SMTP_SINK, os.X_OK)


def _bindable(addr, port, kind):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# The last 40 ports free_port gave in this process: never given again while
# listed, and claimed machine-wide (helpers.PortClaims) so no other test
# process (an xdist worker, the other build's run) takes them meanwhile.
_recent_free = collections.deque(maxlen=40)


def free_port(addr="127.0.0.1", kind=None):
    """A port free for TCP and UDP on addr (dnsmasq binds both), below the
    ephemeral range so outgoing connections do not take it meanwhile."""
    used = set().union(*_recent_free)
    for _ in range(500):
        port = 12000 + int.from_bytes(os.urandom(2), "big") % 8000
        if port in used:
            continue
        if (_bindable(addr, port, socket.SOCK_STREAM) and _bindable(addr, port, socket.SOCK_DGRAM)
                and helpers.claim_recent(_recent_free, {port})):
            return port
    raise RuntimeError("no free port")


class Dnsmasq:
    """dnsmasq on 127.0.0.1:<port> with the test zone:
    remote.test     MX 10 mx.remote.test
    mx.remote.test  A  127.0.0.5
    backup.test     MX 10 dead.remote.test, MX 20 mx.remote.test
    dead.remote.test A 127.0.0.6
    implicit.test   A  127.0.0.5 (no MX: the implicit MX)
    yubin.test      A  127.0.0.1 (a second Yubin as the remote MX)
    nx.test         NXDOMAIN
    """

    def __init__(self, base, txt=None, hosts=None, mx=None, srv=None):
        self.base = str(base)
        self.port = free_port("127.0.0.1")
        self.proc = None
        # more TXT records: {name: text}, texts longer than 255 bytes are
        # split into several character-strings as a zone file would
        self.txt = dict(txt or {})
        # more A records with their PTR: {name: address}
        self.hosts = dict(hosts or {})
        # more MX records: [(domain, host, preference)]
        self.mx = list(mx or [])
        # SRV records: [(name, target, port, priority, weight)]
        self.srv = list(srv or [])

    def start(self):
        for attempt in range(5):
            try:
                return self._start()
            except AssertionError:
                if attempt == 4:
                    raise
                self.stop()
                self.port = free_port("127.0.0.1")

    def _start(self):
        os.makedirs(self.base, exist_ok=True)
        args = [DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--pid-file=", "--bind-interfaces",
                "--listen-address=127.0.0.1", "--port=%d" % self.port,
                "--mx-host=remote.test,mx.remote.test,10",
                "--host-record=mx.remote.test,%s" % MX_ADDR,
                "--mx-host=backup.test,dead.remote.test,10",
                "--mx-host=backup.test,mx.remote.test,20",
                "--host-record=dead.remote.test,%s" % DEAD_ADDR,
                "--host-record=implicit.test,%s" % MX_ADDR,
                "--host-record=yubin.test,127.0.0.1",
                "--local=/test/"]   # answer .test only from here: NODATA, NXDOMAIN
        for name, addr in self.hosts.items():
            args.append("--host-record=%s,%s" % (name, addr))
        for domain, host, pref in self.mx:
            args.append("--mx-host=%s,%s,%d" % (domain, host, pref))
        for name, target, port, prio, weight in self.srv:
            args.append("--srv-host=%s,%s,%d,%d,%d" % (name, target, port, prio, weight))
        for name, text in self.txt.items():
            chunks = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
            # (dnsmasq keeps quotes on its command line: commas separate)
            assert "," not in text, "a TXT record for dnsmasq cannot hold a comma"
            args.append("--txt-record=%s,%s" % (name, ",".join(chunks)))
        if os.geteuid() == 0:
            args.append("--user=root")
        self.log = open(os.path.join(self.base, "dnsmasq.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dnsmasq exited: see %s/dnsmasq.log" % self.base)
            if self._answers():
                return self
            time.sleep(0.1)
        raise AssertionError("dnsmasq did not answer")

    def _answers(self):
        # a minimal query for remote.test MX
        q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x06remote\x04test\x00\x00\x0f\x00\x01")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            data, _ = s.recvfrom(512)
            return data[:2] == b"\x12\x34"
        except OSError:
            return False
        finally:
            s.close()

    @property
    def resolver(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Sink:
    """Postfix's smtp-sink as the remote MX on 127.0.0.5:<port>. extra:
    more smtp-sink options, e.g. ["-r", "RCPT"] (4xx to every RCPT) or
    ["-f", "RCPT", "-B", "550 5.1.1 no such user"]."""

    def __init__(self, base, port=None):
        self.base = str(base)
        self.dump = os.path.join(self.base, "sink")
        os.makedirs(self.dump, exist_ok=True)
        os.chmod(self.base, 0o755)
        os.chmod(self.dump, 0o777)
        self.port = port or free_port(MX_ADDR)
        self.proc = None

    def start(self, extra=()):
        args = [SMTP_SINK]
        if os.geteuid() == 0:
            args += ["-u", "root"]   # the dump directory is under a 0700 tree
        args += ["-h", "mx.remote.test", "-d", self.dump + "/%H%M%S."] + list(extra)
        args += ["%s:%d" % (MX_ADDR, self.port), "100"]
        self.log = open(os.path.join(self.base, "sink.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("smtp-sink exited")
            try:
                socket.create_connection((MX_ADDR, self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("smtp-sink did not listen")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, extra=()):
        self.stop()
        return self.start(extra)

    def messages(self):
        """Every completely dumped transaction, as bytes, oldest first
        (smtp-sink ends each dump with an empty line; a file still being
        written is left out)."""
        out = []
        for name in sorted(os.listdir(self.dump)):
            try:
                with open(os.path.join(self.dump, name), "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue    # smtp-sink drops the file of an aborted transaction
            if data.endswith(b"\n\n"):
                out.append(data)
        return out

    def wait(self, n, timeout=15.0):
        end = time.time() + timeout
        while True:
            m = self.messages()
            if len(m) >= n or time.time() > end:
                return m
            time.sleep(0.05)


def wait_for(pred, timeout=15.0, step=0.05):
    end = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > end:
            return v
        time.sleep(step)


def queue_files(srv):
    d = os.path.join(srv.data, "queue")
    if not os.path.isdir(d):
        return []
    return [n for n in os.listdir(d) if not n.startswith(".")]


def inject(srv, sender, rcpts, msg):
    p = srv.ctl("queue", "inject", "--from", sender, *rcpts, input=msg)
    return p.out.strip()


def outbound_config(dns, sink, **more):
    cfg = {
        "dns.resolver": dns.resolver,
        "smtp.remote_port": str(sink.port),
        "queue.retry_min": "1",
        "queue.retry_max": "2",
    }
    cfg.update({k.replace("__", "."): str(v) for k, v in more.items()})
    return cfg
