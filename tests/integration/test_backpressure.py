"""Output back-pressure: clients that pipeline commands and never read the
replies, or fetch big messages, must not make yubind's memory grow without
bound, and other clients must be served meanwhile. The daemon's resident
memory is read from /proc (VmRSS while the attack runs, VmHWM after it);
the bound is generous (the baseline plus 64 MB), since without
back-pressure the same attacks take gigabytes."""

import hashlib
import imaplib
import os
import re
import socket
import ssl
import threading
import time

import pytest

from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, pop3_session, running_server

USER = "user@" + DOMAIN
BOUND_MB = 64


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no %s in /proc/%d/status" % (key, pid))


def reset_peak(pid):
    """Resets VmHWM to the current VmRSS (Linux 4.0+); False if not allowed."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class MemoryWatch:
    """Samples the daemon's VmRSS on a thread until stopped."""

    def __init__(self, server):
        self.pid = server.proc.pid
        self.hwm_ok = reset_peak(self.pid)
        self.base = vm(self.pid, "VmRSS")
        self.peak = self.base
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.is_set():
            try:
                self.peak = max(self.peak, vm(self.pid, "VmRSS"))
            except (OSError, AssertionError):
                return      # the daemon is gone; the test reports it
            self.stopped.wait(0.05)

    def stop(self):
        self.stopped.set()
        self.thread.join()
        if self.hwm_ok:
            self.peak = max(self.peak, vm(self.pid, "VmHWM"))
        return self.peak

    def assert_bounded(self, what):
        peak = self.stop()
        assert peak <= self.base + BOUND_MB, "%s: yubind grew from %d MB to %d MB" % (what, self.base, peak)


def tls_ctx(server):
    return ssl.create_default_context(cafile=server.crt)


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def imaps(server):
    m = IMAPS(HOST, server.port("imaps"), ssl_context=tls_ctx(server), timeout=60)
    m.login(USER, PASSWORD)
    return m


def raw_imap(server, tls, login):
    """A raw IMAP socket after the greeting (and LOGIN, SELECT INBOX)."""
    if tls:
        s = tls_ctx(server).wrap_socket(socket.create_connection((HOST, server.port("imaps")), 20),
                                        server_hostname=HOSTNAME)
    else:
        s = socket.create_connection((HOST, server.port("imap")), 20)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    if login:
        s.sendall(b"l LOGIN %s %s\r\nx SELECT INBOX\r\n" % (USER.encode(), PASSWORD.encode()))
        while not f.readline().startswith(b"x OK"):
            pass
    return s


def flood(sock, payload, seconds):
    """Sends payload again and again for seconds, never reading; returns
    the bytes the server took."""
    sock.settimeout(0.2)
    sent = 0
    end = time.time() + seconds
    while time.time() < end:
        try:
            sock.sendall(payload)
            sent += len(payload)
        except (socket.timeout, TimeoutError, ssl.SSLWantWriteError):
            pass
        except OSError:
            break
    return sent


def served_meanwhile(attack, check):
    """Runs attack() on a thread and check() in a loop until it ends;
    returns how many checks succeeded."""
    t = threading.Thread(target=attack)
    t.start()
    ok = 0
    try:
        while t.is_alive():
            if check():
                ok += 1
    finally:
        t.join()
    return ok


def imap_noop_check(server):
    s = socket.create_connection((HOST, server.port("imap")), 20)
    try:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"z NOOP\r\n")
        return f.readline().startswith(b"z OK")
    finally:
        s.close()


def wait_log(server, text, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if text in server.log():
            return True
        time.sleep(0.1)
    return False


def filler_message(token, size):
    line = b"%s ........................................................\r\n" % token.encode()
    return (b"From: sender@client.test\r\nTo: " + USER.encode() + b"\r\nSubject: " + token.encode() +
            b"\r\n\r\n" + line * (size // len(line)))


@pytest.fixture(autouse=True)
def small_asan_quarantine(monkeypatch):
    """Under the sanitizer build, ASan keeps up to 256 MB of freed memory
    in quarantine, which would count against the bound; keep it small.
    (Other builds ignore the variable.)"""
    opts = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (opts + ":" if opts else "") +
                       "quarantine_size_mb=4:thread_local_quarantine_size_kb=256")


@pytest.fixture
def server(tmp_path):
    """A daemon of its own for each test: memory freed after one flood
    would be reused by the next and hide its growth."""
    config = {"imap.append_limit": "100M", "smtp.max_message_size": "1M", "smtp.max_commands": "10000000"}
    with running_server(tmp_path, accounts=[(USER,)], config=config) as srv:
        yield srv


def fill_inbox(server):
    m = imaps(server)
    for i in range(4):
        typ, _ = m.append("INBOX", None, None, filler_message("flood%d" % i, 1 << 20))
        assert typ == "OK"
    m.logout()


@pytest.mark.parametrize("tls", [False, True], ids=["143", "993"])
def test_imap_pipelined_capability_without_reading(server, tls):
    watch = MemoryWatch(server)
    s = raw_imap(server, tls, login=False)
    try:
        ok = served_meanwhile(lambda: flood(s, b"a CAPABILITY\r\n" * 5000, 4),
                              lambda: imap_noop_check(server))
    finally:
        s.close()
    watch.assert_bounded("CAPABILITY flood")
    assert ok > 0, "no other client was served during the flood"
    assert wait_log(server, "not reading its commands until it reads the replies")


@pytest.mark.parametrize("tls", [False, True], ids=["starttls", "993"])
def test_imap_pipelined_fetch_without_reading(server, tls):
    fill_inbox(server)
    if tls:
        s = raw_imap(server, True, login=True)
    else:
        s = socket.create_connection((HOST, server.port("imap")), 20)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"s STARTTLS\r\n")
        assert f.readline().startswith(b"s OK")
        s = tls_ctx(server).wrap_socket(s, server_hostname=HOSTNAME)
        f = s.makefile("rb")
        s.sendall(b"l LOGIN %s %s\r\nx SELECT INBOX\r\n" % (USER.encode(), PASSWORD.encode()))
        while not f.readline().startswith(b"x OK"):
            pass
    watch = MemoryWatch(server)
    try:
        ok = served_meanwhile(lambda: flood(s, b"f FETCH 1:* BODY.PEEK[]\r\n" * 2000, 5),
                              lambda: imap_noop_check(server))
    finally:
        s.close()
    watch.assert_bounded("FETCH flood")
    assert ok > 0, "no other client was served during the flood"


def test_pop3_pipelined_without_reading(server):
    watch = MemoryWatch(server)
    s = socket.create_connection((HOST, server.port("pop3")), 20)
    s.makefile("rb").readline()

    def check():
        c = socket.create_connection((HOST, server.port("pop3")), 20)
        try:
            f = c.makefile("rb")
            f.readline()
            c.sendall(b"NOOP\r\n")
            return f.readline().startswith(b"-ERR")   # NOOP before login
        finally:
            c.close()
    try:
        ok = served_meanwhile(lambda: flood(s, b"CAPA\r\n" * 5000, 4), check)
    finally:
        s.close()
    watch.assert_bounded("POP3 CAPA flood")
    assert ok > 0


def test_smtp_pipelined_without_reading(server):
    watch = MemoryWatch(server)
    s = socket.create_connection((HOST, server.port("smtp")), 20)
    s.makefile("rb").readline()
    s.sendall(b"EHLO flood.test\r\n")

    def check():
        c = socket.create_connection((HOST, server.port("smtp")), 20)
        try:
            f = c.makefile("rb")
            f.readline()
            c.sendall(b"NOOP\r\n")
            return f.readline().startswith(b"250")
        finally:
            c.close()
    try:
        ok = served_meanwhile(lambda: flood(s, b"HELP\r\nNOOP\r\n" * 5000, 4), check)
    finally:
        s.close()
    watch.assert_bounded("SMTP flood")
    assert ok > 0


class IMAPStartTLS(imaplib.IMAP4):
    def __init__(self, server):
        super().__init__(HOST, server.port("imap"), timeout=60)
        self.host = HOSTNAME
        self.starttls(tls_ctx(server))
        self.login(USER, PASSWORD)


def test_big_message_fetched_by_many_clients(server):
    """A 20 MB message fetched whole by 8 clients at once (4 on 993, 4
    after STARTTLS) is sent from the file in pieces: the daemon does not
    hold 8 copies (160 MB and more)."""
    msg = filler_message("bigone", 20 << 20)
    m = imaps(server)
    typ, data = m.append("INBOX", None, None, msg)
    assert typ == "OK", data
    uid = data[0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]").decode()
    m.logout()
    want = hashlib.sha256(msg).hexdigest()
    results = []

    def reader(n):
        c = imaps(server) if n % 2 else IMAPStartTLS(server)
        try:
            c.select("INBOX", readonly=True)
            typ, data = c.uid("FETCH", uid, "(BODY.PEEK[])")
            results.append(hashlib.sha256(data[0][1]).hexdigest() if typ == "OK" else typ)
        finally:
            c.logout()
    watch = MemoryWatch(server)
    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    watch.assert_bounded("8 fetches of a 20 MB message")
    assert results == [want] * 8


@pytest.mark.parametrize("mode", ["stls", "implicit"])
def test_pop3_retr_of_a_big_message(server, mode):
    """RETR streams from the file as the output drains, also behind the
    TLS filter that STLS puts in place."""
    msg = filler_message("pop3big", 96 << 20)
    m = imaps(server)
    typ, data = m.append("INBOX", None, None, msg)
    assert typ == "OK", data
    m.logout()
    watch = MemoryWatch(server)
    p = pop3_session(server, USER, mode=mode)
    try:
        p.settimeout(60)
        resp, lines = p.multi("RETR 1")
        assert resp.startswith(b"+OK"), resp
    finally:
        p.quit()
    watch.assert_bounded("RETR of a 96 MB message")
    assert b"\r\n".join(lines) + b"\r\n" == msg


# ---------------------------------------------------------------- APPENDLIMIT and FETCH of big messages

def test_append_limit_is_its_own_setting(new_server):
    srv = new_server(accounts=[(USER,)], config={"imap.append_limit": "2M", "smtp.max_message_size": "64K"})
    m = imaps(srv)
    try:
        typ, caps = m.capability()
        assert b"APPENDLIMIT=2097152" in caps[0], caps
        # over smtp.max_message_size, within imap.append_limit
        msg = filler_message("withinlimit", 1 << 20)
        typ, data = m.append("INBOX", None, None, msg)
        assert typ == "OK", data
        typ, data = m.append("INBOX", None, None, filler_message("overlimit", 3 << 20))
        assert typ == "NO" and b"[TOOBIG]" in data[0], (typ, data)
        # the operator sees the refusal in the log, with the login
        assert re.search(r"imap: \S+ refused for %s: \[TOOBIG\]" % re.escape(USER), srv.log()), srv.log_tail(20)
        m.select("INBOX")
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK" and data[0][1] == msg
    finally:
        m.logout()


def test_fetch_serves_messages_over_every_limit(new_server):
    """A stored message bigger than both size settings (put there by a
    Maildir tool, or stored before the limits were lowered) is still
    served whole."""
    srv = new_server(accounts=[(USER,)], config={"imap.append_limit": "1M", "smtp.max_message_size": "1M"})
    msg = filler_message("overall", 5 << 20)
    new = os.path.join(srv.maildir(USER), "new")
    name = "%d.M1P1.test,S=%d" % (int(time.time()), len(msg))
    with open(os.path.join(new, name), "wb") as f:
        f.write(msg)
    m = imaps(srv)
    try:
        m.select("INBOX")
        typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
        assert typ == "OK" and data[0][1] == msg, data[0][0]
        assert b"RFC822.SIZE %d" % len(msg) in data[0][0]
    finally:
        m.logout()


def big_multipart():
    part1 = b"".join(b"line %07d of part one .....................................\r\n" % i for i in range(20000))
    part2 = b"".join(b"line %07d of part two ,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n" % i for i in range(15000))
    inner = (b"From: inner@client.test\r\nSubject: inner\r\n\r\n" + part2)
    msg = (b"From: sender@client.test\r\nTo: " + USER.encode() + b"\r\nSubject: big parts\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\npreamble\r\n"
           b"--XX\r\nContent-Type: text/plain\r\n\r\n" + part1 +
           b"\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--XX--\r\n")
    return msg, part1, inner, part2


def test_big_message_sections_by_offset(server):
    msg, part1, inner, part2 = big_multipart()
    m = imaps(server)
    try:
        typ, _ = m.append("INBOX", None, None, msg)
        assert typ == "OK"
        m.select("INBOX")
        hdr_end = msg.index(b"\r\n\r\n") + 4
        typ, data = m.fetch("1", "(BODY.PEEK[] BODYSTRUCTURE UID)")
        assert typ == "OK" and data[0][1] == msg
        assert b"BODYSTRUCTURE ((" in data[1] and b"UID 1" in data[1], data[1]
        typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
        assert data[0][1] == msg[hdr_end:]
        typ, data = m.fetch("1", "(BODY.PEEK[]<100000.300000>)")
        assert b"BODY[]<100000> {300000}" in data[0][0] and data[0][1] == msg[100000:400000]
        typ, data = m.fetch("1", "(BODY.PEEK[1])")
        assert data[0][1] == part1
        typ, data = m.fetch("1", "(BODY.PEEK[2] BODY.PEEK[2.TEXT] BODY.PEEK[2.MIME])")
        assert data[0][1] == inner and data[1][1] == part2
        assert data[2][1] == b"Content-Type: message/rfc822\r\n\r\n"
        typ, data = m.fetch("1", "(BODY.PEEK[2.HEADER.FIELDS (SUBJECT)] BINARY.SIZE[1])")
        assert data[0][1] == b"Subject: inner\r\n\r\n" and b"BINARY.SIZE[1] %d" % len(part1) in data[1]
        # not PEEK: \Seen is set and reported after the streamed literal
        typ, data = m.fetch("1", "(RFC822.TEXT)")
        assert data[0][1] == msg[hdr_end:] and b"\\Seen" in data[1], data[1]
    finally:
        m.logout()
