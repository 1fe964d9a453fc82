"""IMAP login refusals (RFC 5530 response codes): a plain failure says
nothing about which part was wrong; the foreign-access restriction
(per-domain `foreign-auth-mail`) answers NO [AUTHENTICATIONFAILED] with its
reason; a brute-force block answers NO [UNAVAILABLE]. The client binds to
127.0.0.2/127.0.0.3 and connects to the daemon on 127.0.0.1."""

import socket

import pytest

import helpers
from helpers import DOMAIN, PASSWORD
from protection_util import events, install_geoip

USER = "user@" + DOMAIN


class RawIMAPS:
    """A minimal IMAP client over implicit TLS from a chosen source address."""

    def __init__(self, srv, source="127.0.0.1"):
        sock = socket.create_connection((helpers.HOST, srv.port("imaps")), timeout=helpers.TIMEOUT,
                                        source_address=(source, 0))
        self.sock = helpers.tls_context(srv).wrap_socket(sock, server_hostname=helpers.HOSTNAME)
        self.f = self.sock.makefile("rb")
        self.n = 0
        greeting = self.f.readline()
        assert greeting.startswith(b"* OK"), greeting

    def cmd(self, text):
        """Sends one command; returns its tagged status line (after the tag)."""
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        while True:
            line = self.f.readline()
            assert line, "connection closed"
            if line.startswith(tag + b" "):
                return line[len(tag) + 1:].rstrip(b"\r\n").decode()

    def login(self, user, password):
        return self.cmd('LOGIN "%s" "%s"' % (user, password))

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, AssertionError):
            pass
        self.sock.close()


def login_from(srv, source, user, password=PASSWORD):
    c = RawIMAPS(srv, source)
    try:
        return c.login(user, password)
    finally:
        c.close()


GENERIC = ("NO [AUTHENTICATIONFAILED] Authentication failed: check the login name"
           " (your full mail address) and the password")


@pytest.fixture(scope="module")
def foreign_server(tmp_path_factory):
    srv = helpers.Server(tmp_path_factory.mktemp("imapauth")).setup()
    install_geoip(srv)
    srv.ctl("geoip", "override", "add", "127.0.0.2/32", "US")
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def test_plain_failure_reveals_nothing(foreign_server):
    wrong_pass = login_from(foreign_server, "127.0.0.1", USER, "Wrong-pass-1")
    unknown = login_from(foreign_server, "127.0.0.1", "nobody@" + DOMAIN, PASSWORD)
    assert wrong_pass == GENERIC, wrong_pass
    assert unknown == GENERIC, unknown
    assert login_from(foreign_server, "127.0.0.1", USER).startswith("OK"), "right password"


def test_foreign_refusal_says_why(foreign_server):
    # off by default for IMAP: a login from abroad works
    assert login_from(foreign_server, "127.0.0.2", USER).startswith("OK")
    foreign_server.ctl("domain", "set", DOMAIN, "foreign-auth-mail", "on")
    try:
        r = login_from(foreign_server, "127.0.0.2", USER)
        assert r.startswith("NO [AUTHENTICATIONFAILED] "), r
        assert "127.0.0.2 (US)" in r and "foreign-access restriction" in r, r
        assert r != GENERIC
        # a wrong password from abroad still says nothing more than usual
        # or the restriction; never which part was wrong
        r = login_from(foreign_server, "127.0.0.2", USER, "Wrong-pass-2")
        assert r.startswith("NO [AUTHENTICATIONFAILED] "), r
        assert "password is wrong" not in r.lower()
        # home addresses are unaffected
        assert login_from(foreign_server, "127.0.0.1", USER).startswith("OK")
        ev = events(foreign_server, "auth-foreign", USER)
        assert ev and ev[-1][2].startswith("imap "), ev
    finally:
        foreign_server.ctl("domain", "set", DOMAIN, "foreign-auth-mail", "off")
    assert login_from(foreign_server, "127.0.0.2", USER).startswith("OK")


LIMITS = {
    "bruteforce.ip_delay_after": "2",
    "bruteforce.ip_block_after": "5",
    "bruteforce.delay_max": "1",
    "bruteforce.block_time": "120",
    "bruteforce.account_delay_after": "3",
}


def test_bruteforce_block_is_unavailable(new_server):
    srv = new_server(config=LIMITS)
    assert login_from(srv, "127.0.0.1", USER).startswith("OK")
    for i in range(5):
        r = login_from(srv, "127.0.0.3", USER, "Wrong-pass-%03d" % i)
        assert r == GENERIC, (i, r)
    # blocked now, even with the right password
    r = login_from(srv, "127.0.0.3", USER)
    assert r.startswith("NO [UNAVAILABLE] "), r
    assert "Too many failed logins from 127.0.0.3" in r, r
    # the real user elsewhere still logs in
    assert login_from(srv, "127.0.0.1", USER).startswith("OK")
    srv.ctl("security", "unblock", "127.0.0.3")
    assert login_from(srv, "127.0.0.3", USER).startswith("OK")
