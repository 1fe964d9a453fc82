"""Total time limits: a client that sends one byte now and then never hits
the idle timeout, so a command line (IMAP: with its literals) must be
complete within a limit counted from its first byte, and an SMTP message's
DATA or BDAT within another. The limits are short here; each test trickles
bytes until the server closes and checks the goodbye it sent."""

import os
import socket
import ssl
import threading

import pytest

from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, make_message, running_server

USER = "user@" + DOMAIN


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = {"smtp.command_total_timeout": "2", "smtp.data_total_timeout": "3",
              "pop3.command_total_timeout": "2", "imap.command_total_timeout": "2"}
    with running_server(tmp_path_factory.mktemp("timeouts"), accounts=[(USER,)], config=config) as srv:
        yield srv


class Trickle:
    """Sends data one byte at a time, 0.3 s apart (well within every idle
    timeout), until it is all sent, the server closes, or stop()."""

    def __init__(self, sock, data):
        self.sock, self.data = sock, data
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for i in range(len(self.data)):
            if self.stopped.wait(0.3):
                return
            try:
                self.sock.sendall(self.data[i:i + 1])
            except OSError:
                return

    def stop(self):
        self.stopped.set()
        self.thread.join()


def read_until_closed(sock, timeout=30):
    """Everything the server sends until it closes (None if it does not
    close within timeout)."""
    sock.settimeout(timeout)
    got = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return got
            got += data
    except (socket.timeout, TimeoutError):
        return None
    except (ConnectionResetError, ssl.SSLError, OSError):
        return got


def trickled(sock, data):
    t = Trickle(sock, data)
    try:
        return read_until_closed(sock)
    finally:
        t.stop()
        sock.close()


def log_has(server, text):
    return text in server.log()


def test_smtp_command_line_trickled(server):
    s = socket.create_connection((HOST, server.port("smtp")), 20)
    s.makefile("rb").readline()
    got = trickled(s, b"EHLO " + b"x" * 200 + b"\r\n")
    assert got is not None, "still open"
    assert got.startswith(b"421 4.4.2 ") and b"imeout" in got, got
    assert log_has(server, "smtp: command from 127.0.0.1 not complete within 2 s; closing")


def test_smtp_data_trickled(server):
    token = "trickle-data-" + os.urandom(4).hex()
    c = SMTPConn(server.port("smtp"))
    c.ehlo().expect(250)
    c.cmd("MAIL FROM:<sender@client.test>").expect(250)
    c.cmd("RCPT TO:<%s>" % USER).expect(250)
    c.cmd("DATA").expect(354)
    got = trickled(c.sock, make_message(token) * 20)
    assert got is not None, "still open"
    assert got.startswith(b"421 4.4.2 ") and b"message data" in got, got
    assert not server.find_token(USER, token)
    assert log_has(server, "smtp: message data from 127.0.0.1 not complete within 3 s; closing")


def test_smtp_bdat_chunks_trickled(server):
    """Chunks that each arrive in time do not make the message last longer."""
    c = SMTPConn(server.port("smtp"))
    c.ehlo().expect(250)
    c.cmd("MAIL FROM:<sender@client.test>").expect(250)
    c.cmd("RCPT TO:<%s>" % USER).expect(250)
    c.send(b"BDAT 10\r\n0123456789")
    assert c.read_reply().code == 250
    got = trickled(c.sock, b"BDAT 2000\r\n" + b"y" * 2000)
    assert got is not None, "still open"
    assert got.startswith(b"421 4.4.2 "), got


def test_smtp_slow_but_complete_lines_are_fine(server):
    """The limit counts from a line's first byte to its end: whole lines
    sent slowly, one after another, are served."""
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        for _ in range(4):
            c.send(b"NO")
            threading.Event().wait(1.0)
            c.send(b"OP\r\n")
            c.read_reply().expect(250)
    finally:
        c.quit()


def test_pop3_command_trickled(server):
    s = socket.create_connection((HOST, server.port("pop3")), 20)
    s.makefile("rb").readline()
    got = trickled(s, b"USER " + b"x" * 200 + b"\r\n")
    assert got is not None, "still open"
    assert got.startswith(b"-ERR "), got
    assert log_has(server, "pop3: command from 127.0.0.1 not complete within 2 s; closing")


def test_imap_command_trickled(server):
    s = socket.create_connection((HOST, server.port("imap")), 20)
    s.makefile("rb").readline()
    got = trickled(s, b"a NOOP" + b" " * 200 + b"\r\n")
    assert got is not None, "still open"
    assert got.startswith(b"* BYE "), got
    assert log_has(server, "imap: command from 127.0.0.1 not complete within 2 s; closing")


def test_imap_literal_trickled(server):
    """A literal is part of its command: trickling its bytes does not
    extend the command's time."""
    ctx = ssl.create_default_context(cafile=server.crt)
    s = ctx.wrap_socket(socket.create_connection((HOST, server.port("imaps")), 20), server_hostname=HOSTNAME)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"l LOGIN %s %s\r\n" % (USER.encode(), PASSWORD.encode()))
    while not f.readline().startswith(b"l OK"):
        pass
    s.sendall(b"a APPEND INBOX {500}\r\n")
    assert f.readline().startswith(b"+")
    got = trickled(s, b"z" * 500)
    assert got is not None, "still open"
    assert got.startswith(b"* BYE "), got
