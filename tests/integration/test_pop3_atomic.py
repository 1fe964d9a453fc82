"""POP3 QUIT deletes all the messages marked with DELE or none, even when
the daemon is killed (kill -9) part way.

The window between two unlinks is too short to hit from outside, so the
daemon is started with the test hook YUBIN_TEST_DELETE_PAUSE=N:FILE
(store/maildir.c): after the deletion record is durable and N files are
gone it creates FILE and waits to be killed. Nothing else reads that
variable."""

import imaplib
import os
import socket
import ssl
import time

import pytest

from helpers import (DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, Server, make_message, pop3_session)

USER = "user@" + DOMAIN
INTENT = "pop3-delete.intent"


def deliver(server, token):
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail("sender@client.test", [USER], make_message(token))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()


def wait_file(path, timeout=20.0):
    end = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < end, "%s did not appear" % path
        time.sleep(0.05)


def count_files(server):
    return len(server.messages(USER))


def retr_tokens(server):
    c = pop3_session(server, USER)
    try:
        first = c.cmd("STAT")
        assert first.startswith(b"+OK"), first
        n = int(first.split()[1])
        out = []
        for i in range(1, n + 1):
            r, lines = c.multi("RETR %d" % i)
            assert r.startswith(b"+OK"), r
            out.append(b"\n".join(lines))
    finally:
        c.quit()
    return out


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path / "srv", accounts=[(USER,)]).setup()
    s.start()
    s.tokens = ["atomic-%d-%s" % (i, os.urandom(3).hex()) for i in range(4)]
    for t in s.tokens:
        deliver(s, t)
    assert len(s.wait_messages(USER, 4)) == 4
    s.stop()
    yield s
    s.kill9()
    rep = s.sanitizer_report()
    assert rep is None, rep


def start_paused(srv, n, marker):
    os.environ["YUBIN_TEST_DELETE_PAUSE"] = "%d:%s" % (n, marker)
    try:
        srv.start()
    finally:
        del os.environ["YUBIN_TEST_DELETE_PAUSE"]


def quit_and_kill(srv, n, tmp_path):
    """DELE 1-3, QUIT, kill -9 once n files are gone; returns how many
    message files were left at the kill."""
    marker = str(tmp_path / ("paused-%d" % n))
    start_paused(srv, n, marker)
    c = pop3_session(srv, USER)
    for i in (1, 2, 3):
        r = c.cmd("DELE %d" % i)
        assert r.startswith(b"+OK"), r
    c.send(b"QUIT\r\n")
    wait_file(marker)
    left = count_files(srv)
    assert os.path.exists(os.path.join(srv.maildir(USER), INTENT))
    srv.kill9()
    c.close()
    return left


@pytest.mark.parametrize("n", [0, 1, 2])
def test_quit_killed_part_way_completes_at_next_login(srv, tmp_path, n):
    assert quit_and_kill(srv, n, tmp_path) == 4 - n     # half applied at the kill
    srv.start()
    tokens = retr_tokens(srv)                            # POP3 login completes it
    assert len(tokens) == 1 and srv.tokens[3].encode() in tokens[0]
    assert count_files(srv) == 1
    assert not os.path.exists(os.path.join(srv.maildir(USER), INTENT))


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def test_quit_killed_part_way_imap_sees_all_deleted(srv, tmp_path):
    assert quit_and_kill(srv, 1, tmp_path) == 3
    srv.start()
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    m.login(USER, PASSWORD)
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) == 1, data
    m.logout()
    assert not os.path.exists(os.path.join(srv.maildir(USER), INTENT))


def test_killed_before_quit_deletes_nothing(srv):
    srv.start()
    c = pop3_session(srv, USER)
    for i in (1, 2, 3):
        assert c.cmd("DELE %d" % i).startswith(b"+OK")
    r = c.cmd("NOOP")
    assert r.startswith(b"+OK"), r
    srv.kill9()
    c.close()
    srv.start()
    assert len(retr_tokens(srv)) == 4


def test_quit_deletes_and_leaves_no_record(srv):
    srv.start()
    c = pop3_session(srv, USER)
    for i in (1, 2):
        assert c.cmd("DELE %d" % i).startswith(b"+OK")
    assert c.quit().startswith(b"+OK")
    assert count_files(srv) == 2
    assert not os.path.exists(os.path.join(srv.maildir(USER), INTENT))
