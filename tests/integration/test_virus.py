"""The virus check (issue 13 section 4): every message on 25 and from an
authenticated login on 587 goes to clamd (INSTREAM) at the end of DATA
before the 250. A virus is refused with 554 5.7.1 naming it (nothing
stored, nothing queued); a clean message is delivered; when clamd cannot
scan (killed, or stalled past virus.timeout) the message is accepted with
X-Virus-Scan: unavailable, an event and a doctor line, or deferred with
451 4.7.1 (virus.unavailable defer). Per-domain switch `virus`.

The test runs its own clamd (Debian's clamav-daemon) in the module's temp
dir with a signature database it writes: MD5 hash signatures of the EICAR
string and of a test file; clamd's network updater is never used."""

import base64
import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

from helpers import DOMAIN, PASSWORD, SMTPConn, Server, smtp_submission, unique

CLAMD = "/usr/sbin/clamd"
OFF = "novirus.test"
USER = "user@" + DOMAIN
OFFUSER = "user@" + OFF
REMOTE = "sender@remote.test"
# the EICAR test string, assembled so no scanner flags this file
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
TESTFILE = b"Yubin virus-check test file: this exact content is a signature\n" * 8

pytestmark = pytest.mark.skipif(not os.path.exists(CLAMD), reason="clamd (clamav-daemon) is not installed")


class Clamd:
    """A private clamd: its own socket, database and log."""

    def __init__(self, base, extra=""):
        self.base = str(base)
        self.sock = os.path.join(self.base, "clamd.sock")
        self.proc = None
        db = os.path.join(self.base, "db")
        os.makedirs(db, exist_ok=True)
        with open(os.path.join(db, "yubin-test.hdb"), "w") as f:
            f.write("%s:%d:Yubin.Test.EICAR\n" % (hashlib.md5(EICAR).hexdigest(), len(EICAR)))
            f.write("%s:%d:Yubin.Test.File\n" % (hashlib.md5(TESTFILE).hexdigest(), len(TESTFILE)))
        self.conf = os.path.join(self.base, "clamd.conf")
        with open(self.conf, "w") as f:
            f.write("LocalSocket %s\nDatabaseDirectory %s\nForeground yes\nLogFile %s\n"
                    "TemporaryDirectory %s\nPidFile %s\n%s"
                    % (self.sock, db, os.path.join(self.base, "clamd.log"), self.base,
                       os.path.join(self.base, "clamd.pid"), extra))

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.out = open(os.path.join(self.base, "clamd.out"), "ab")
        self.proc = subprocess.Popen([CLAMD, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out)
        # a tiny database loads at once; the bound only keeps a broken
        # clamd from hanging the test
        deadline = time.time() + 60
        while not self.answers():
            assert self.proc.poll() is None, "clamd exited: %s" % self.log()
            assert time.time() < deadline, "clamd did not answer within 60 s: %s" % self.log()
            time.sleep(0.05)

    def answers(self):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(2)
            s.connect(self.sock)
            s.sendall(b"zPING\0")
            ok = s.recv(16) == b"PONG\0"
            s.close()
            return ok
        except OSError:
            return False

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.base, "clamd.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""


class StalledClamd:
    """A socket that accepts and reads, and never answers."""

    def __init__(self, path):
        self.path = path
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(16)
        self.conns = []
        self.accepted = threading.Event()
        self.stop_flag = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.srv.settimeout(0.2)
        while not self.stop_flag:
            try:
                c, _ = self.srv.accept()
            except OSError:
                continue
            c.settimeout(0.2)
            self.conns.append(c)
            self.accepted.set()

    def close(self):
        self.stop_flag = True
        self.thread.join()
        for c in self.conns:
            c.close()
        self.srv.close()


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    c = Clamd(tmp_path_factory.mktemp("clamd"))
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, clamd):
    s = Server(tmp_path_factory.mktemp("virus"), domains=(DOMAIN, OFF), accounts=[(USER,), (OFFUSER,)],
               config={"virus.clamd": clamd.sock, "virus.timeout": "3"}).setup()
    s.ctl("domain", "set", OFF, "virus", "off")
    s.start()
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def message(token, attachment, extra_header=b"", to=USER, frm=REMOTE):
    att = base64.encodebytes(attachment).replace(b"\n", b"\r\n")
    return (b"From: <" + frm.encode() + b">\r\nTo: <" + to.encode() + b">\r\n" + extra_header +
            b"Subject: virus check " + token.encode() + b"\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
            b"Message-ID: <" + token.encode() + b"@remote.test>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            b"Content-Type: text/plain\r\n\r\nSee the attachment, " + token.encode() + b".\r\n--b1\r\n"
            b"Content-Type: application/octet-stream; name=\"file.bin\"\r\n"
            b"Content-Disposition: attachment; filename=\"file.bin\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + att + b"--b1--\r\n")


def send25(srv, rcpts, msg):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail(REMOTE, rcpts, msg)
        for r in replies[:-1]:
            r.expect(250)
        return replies[-1]
    finally:
        c.quit()


def events(srv, kind):
    db = sqlite3.connect(os.path.join(srv.data, "yubin.db"), timeout=10)
    try:
        return db.execute("SELECT address, detail FROM events WHERE kind = ?", (kind,)).fetchall()
    finally:
        db.close()


def wait_event(srv, kind, text):
    """Events are written by a worker after the reply: wait for the row."""
    deadline = time.time() + 10
    while True:
        rows = [r for r in events(srv, kind) if text in r[1]]
        if rows or time.time() > deadline:
            return rows
        time.sleep(0.05)


def reload(srv):
    mark = len(srv.log())
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "reload: settings" not in srv.log()[mark:]:
        assert time.time() < deadline, srv.log_tail()
        time.sleep(0.05)


def header_block(data):
    return data.split(b"\r\n\r\n", 1)[0]


def test_clamd_small_and_quick(clamd):
    # started by the fixture within its bound; with a two-signature
    # database clamd needs little memory
    rss = clamd.rss_kib()
    assert rss is not None and rss < 200 * 1024, rss
    assert "Loaded 2 signatures" in clamd.log(), clamd.log()


def test_eicar_refused_on_25(srv):
    tok = unique("eicar25")
    r = send25(srv, [USER], message(tok, EICAR))
    r.expect(554, "5.7.1")
    assert "Yubin.Test.EICAR" in r.text, r.text
    assert srv.find_token(USER, tok) == {}
    assert wait_event(srv, "virus-refused", "Yubin.Test.EICAR"), events(srv, "virus-refused")
    # the doctor's history tells the user what happened
    out = srv.ctl("doctor", USER, check=False).out
    assert "contains a virus" in out, out


def test_eicar_refused_on_587(srv):
    tok = unique("eicar587")
    qdir = os.path.join(srv.data, "queue")
    before = set(os.listdir(qdir))
    c = smtp_submission(srv)
    try:
        c.auth_plain(USER, PASSWORD).expect(235)
        replies = c.send_mail(USER, ["bob@remote.test"], message(tok, EICAR, to="bob@remote.test", frm=USER))
        replies[0].expect(250)
        replies[1].expect(250)
        replies[-1].expect(554, "5.7.1")
        assert "Yubin.Test.EICAR" in replies[-1].text
        # the session goes on: the next message is taken
        c.send_mail(USER, [USER], message(unique("after"), b"harmless", frm=USER))[-1].expect(250)
    finally:
        c.quit()
    assert set(os.listdir(qdir)) == before, "a refused message was queued"


def test_bdat_and_spooled_message(srv):
    # BDAT ends the same way; a message past 1 MiB is spooled to a file
    # and streamed to clamd in chunks from there
    tok = unique("bdat")
    filler = b"".join(b"filler line %06d of a large message\r\n" % i for i in range(40000))
    msg = message(tok, EICAR, extra_header=b"X-Filler: yes\r\n").replace(b"See the attachment", filler + b"See")
    assert len(msg) > 1024 * 1024
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.cmd("MAIL FROM:<%s>" % REMOTE).expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        half = len(msg) // 2
        c.send(b"BDAT %d\r\n" % half + msg[:half])
        c.read_reply().expect(250)
        c.send(b"BDAT %d LAST\r\n" % (len(msg) - half) + msg[half:])
        r = c.read_reply()
        r.expect(554, "5.7.1")
        assert "Yubin.Test.EICAR" in r.text
    finally:
        c.quit()
    assert srv.find_token(USER, tok) == {}


def test_test_file_signature_refused(srv):
    tok = unique("testfile")
    r = send25(srv, [USER], message(tok, TESTFILE))
    r.expect(554, "5.7.1")
    assert "Yubin.Test.File" in r.text


def test_clean_attachment_delivered(srv):
    tok = unique("clean")
    send25(srv, [USER], message(tok, b"a harmless attachment\r\n" * 50)).expect(250)
    got = srv.find_token(USER, tok)
    assert len(got) == 1
    assert b"X-Virus-Scan" not in header_block(list(got.values())[0])


def test_forged_header_removed(srv):
    tok = unique("forged")
    send25(srv, [USER], message(tok, b"harmless", extra_header=b"X-Virus-Scan: clean\r\n"
                                b"x-virus-scan: unavailable,\r\n\tfolded\r\n")).expect(250)
    data = list(srv.find_token(USER, tok).values())[0]
    assert b"virus-scan" not in header_block(data).lower(), data


def test_domain_switch_off(srv):
    tok = unique("off")
    send25(srv, [OFFUSER], message(tok, EICAR, to=OFFUSER)).expect(250)
    data = list(srv.find_token(OFFUSER, tok).values())[0]
    assert b"X-Virus-Scan" not in header_block(data)
    # recipients in both domains: one that wants the check is enough
    tok = unique("mixed")
    r = send25(srv, [OFFUSER, USER], message(tok, EICAR, to=OFFUSER))
    r.expect(554, "5.7.1")
    assert srv.find_token(OFFUSER, tok) == {} and srv.find_token(USER, tok) == {}


def test_setting_checked(srv):
    p = srv.ctl("config", "set", "virus.clamd", "192.0.2.1:3310", check=False)
    assert p.returncode != 0 and "loopback" in p.err, p.err
    p = srv.ctl("config", "set", "virus.clamd", "clamd.sock", check=False)
    assert p.returncode != 0
    p = srv.ctl("config", "set", "virus.unavailable", "drop", check=False)
    assert p.returncode != 0
    p = srv.ctl("domain", "set", DOMAIN, "virus", "maybe", check=False)
    assert p.returncode != 0


def test_clamd_killed(srv, clamd):
    clamd.stop()
    try:
        tok = unique("down")
        send25(srv, [USER], message(tok, EICAR, extra_header=b"X-Virus-Scan: clean\r\n")).expect(250)
        data = list(srv.find_token(USER, tok).values())[0]
        head = header_block(data)
        assert head.count(b"X-Virus-Scan") == 1 and b"X-Virus-Scan: unavailable\r\n" in head, head
        assert b"X-Virus-Scan: clean" not in head
        rows = wait_event(srv, "virus-unavailable", "Connection refused")
        assert len(rows) == 1 and rows[0][0] == "", events(srv, "virus-unavailable")
        assert "accepted with X-Virus-Scan: unavailable" in rows[0][1]
        out = srv.ctl("doctor", USER, check=False).out
        assert "could not scan mail" in out, out
        # the next one in the same minutes adds no event row of its own
        # a spooled message (past 1 MiB) gets the field in its rewritten copy
        tok2 = unique("down2")
        big = b"harmless\r\n" * 120000
        send25(srv, [USER], message(tok2, big, extra_header=b"X-Virus-Scan: clean\r\n")).expect(250)
        data = list(srv.find_token(USER, tok2).values())[0]
        head = header_block(data)
        assert head.count(b"X-Virus-Scan") == 1 and b"X-Virus-Scan: unavailable\r\n" in head, head
        assert data.endswith(b"--b1--\r\n") and len(data) > 1024 * 1024
        assert len(events(srv, "virus-unavailable")) == 1, events(srv, "virus-unavailable")
        # defer instead of accept
        srv.ctl("config", "set", "virus.unavailable", "defer")
        reload(srv)
        tok3 = unique("defer")
        send25(srv, [USER], message(tok3, b"harmless")).expect(451, "4.7.1")
        assert srv.find_token(USER, tok3) == {}
    finally:
        srv.ctl("config", "set", "virus.unavailable", "accept")
        reload(srv)
        clamd.start()
    tok = unique("back")
    send25(srv, [USER], message(tok, EICAR)).expect(554, "5.7.1")


def test_stalled_clamd(srv, tmp_path):
    path = os.path.join(str(tmp_path), "stall.sock")
    stalled = StalledClamd(path)
    old = srv.ctl("config", "get", "virus.clamd").out.strip()
    try:
        srv.ctl("config", "set", "virus.clamd", path)
        srv.ctl("config", "set", "virus.timeout", "2")
        reload(srv)
        tok = unique("stall")
        mark = len(srv.log())
        send25(srv, [USER], message(tok, EICAR)).expect(250)
        assert stalled.accepted.is_set()
        data = list(srv.find_token(USER, tok).values())[0]
        assert b"X-Virus-Scan: unavailable\r\n" in header_block(data)
        assert "timed out waiting for the reply from clamd" in srv.log()[mark:], srv.log_tail()
    finally:
        srv.ctl("config", "set", "virus.clamd", old)
        srv.ctl("config", "set", "virus.timeout", "3")
        reload(srv)
        stalled.close()


def test_too_large_for_clamd_skipped(srv, tmp_path):
    """A message above virus.max_size is not sent to clamd, and one that
    clamd refuses as longer than its own StreamMaxLength is not "clamd
    unavailable": both are delivered marked as skipped, even with
    virus.unavailable = defer (deferring would refuse them forever)."""
    big = b"harmless filler line\r\n" * 20000           # about 440 KB
    small_clamd = Clamd(tmp_path, extra="StreamMaxLength 200K\n")
    old = srv.ctl("config", "get", "virus.clamd").out.strip()
    small_clamd.start()
    try:
        srv.ctl("config", "set", "virus.unavailable", "defer")
        srv.ctl("config", "set", "virus.max_size", "300K")
        reload(srv)
        tok = unique("above-max")
        mark = len(srv.log())
        send25(srv, [USER], message(tok, EICAR + big)).expect(250)
        head = header_block(list(srv.find_token(USER, tok).values())[0])
        assert head.count(b"X-Virus-Scan") == 1 and b"X-Virus-Scan: skipped (too large to scan)\r\n" in head, head
        assert "above virus.max_size" in srv.log()[mark:], srv.log_tail()
        # below the limit: still scanned
        send25(srv, [USER], message(unique("below-max"), EICAR)).expect(554, "5.7.1")
        # clamd's own limit below ours
        srv.ctl("config", "set", "virus.clamd", small_clamd.sock)
        srv.ctl("config", "set", "virus.max_size", "0")
        reload(srv)
        tok = unique("clamd-limit")
        mark = len(srv.log())
        n_unavailable = len(events(srv, "virus-unavailable"))
        send25(srv, [USER], message(tok, big)).expect(250)
        head = header_block(list(srv.find_token(USER, tok).values())[0])
        assert b"X-Virus-Scan: skipped (too large to scan)\r\n" in head, head
        assert "StreamMaxLength" in srv.log()[mark:], srv.log_tail()
        assert len(events(srv, "virus-unavailable")) == n_unavailable
        # and that clamd still answers for small messages
        send25(srv, [USER], message(unique("small"), EICAR)).expect(554, "5.7.1")
    finally:
        srv.ctl("config", "set", "virus.clamd", old)
        srv.ctl("config", "set", "virus.unavailable", "accept")
        srv.ctl("config", "set", "virus.max_size", "25M")
        reload(srv)
        small_clamd.stop()
