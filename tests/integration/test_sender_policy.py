"""Sender addresses bound to logins (issue 9): an authenticated login may
use its own address, its +tag forms and the addresses its domain
administrator gave it (account setting send-as), for MAIL FROM and for the
From: and Sender: fields; anything else is refused with 553 5.7.1 naming
the login, on 587, 465 and with AUTH on 25. Domain setting sender-policy
(strict | domain | off). DKIM signs only for a domain the login may send
as: checked in the queue file of the remote copy (DNS goes nowhere in
these tests, so queued mail stays in DATA/queue)."""

import os
import re

import pytest

from helpers import DOMAIN, PASSWORD, SMTPConn, Server, smtp_submission, tls_context, unique

OTHER = "other.test"
SHARED = "shared.test"
USER = "user@" + DOMAIN
COLLEAGUE = "colleague@" + DOMAIN
BOSS = "boss@" + OTHER
REMOTE = "bob@remote.test"
LOGIN_TEXT = "not allowed for login %s" % USER


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("senderpolicy"), domains=(DOMAIN, OTHER, SHARED),
                 accounts=[(USER,), (COLLEAGUE,), (BOSS,)]).setup()
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def message(token, from_hdr, extra=""):
    return ("From: %s\r\nTo: <%s>\r\n%sSubject: sender policy %s\r\n"
            "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\n\r\n"
            "token %s\r\n" % (from_hdr, REMOTE, extra, token, token, token)).encode()


def session(server, mode="starttls", login=USER):
    c = smtp_submission(server, mode)
    c.auth_plain(login, PASSWORD).expect(235)
    return c


def queued(server, token):
    """The queue files (bytes) that hold token."""
    qdir = os.path.join(server.data, "queue")
    out = []
    for name in os.listdir(qdir):
        if name.startswith("."):
            continue
        with open(os.path.join(qdir, name), "rb") as f:
            data = f.read()
        if token.encode() in data:
            out.append(data)
    return out


def dkim_domains(data):
    return re.findall(rb"DKIM-Signature:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*?\bd=([a-z0-9.-]+);", data)


def send(server, env_from, from_hdr, extra="", mode="starttls"):
    """One transaction to a remote recipient; the replies and the token."""
    tok = unique("sp")
    c = session(server, mode)
    r_mail = c.cmd("MAIL FROM:<%s>" % env_from)
    if r_mail.code != 250:
        c.quit()
        return r_mail, None, tok
    c.cmd("RCPT TO:<%s>" % REMOTE).expect(250)
    r_data = c.data(message(tok, from_hdr, extra))
    c.quit()
    return r_mail, r_data, tok


def expect_refused(reply, address):
    reply.expect(553, "5.7.1")
    assert "<%s>" % address in reply.text and LOGIN_TEXT in reply.text, reply


def test_own_address_accepted_and_signed(server):
    r_mail, r_data, tok = send(server, USER, "User <%s>" % USER)
    r_mail.expect(250)
    r_data.expect(250)
    q = queued(server, tok)
    assert len(q) == 1
    assert set(dkim_domains(q[0])) == {DOMAIN.encode()}, q[0][:1500]


def test_plus_tag_accepted(server):
    tagged = "user+news@" + DOMAIN
    r_mail, r_data, tok = send(server, tagged, "User <%s>" % tagged)
    r_mail.expect(250)
    r_data.expect(250)
    assert len(queued(server, tok)) == 1


@pytest.mark.parametrize("sender", [COLLEAGUE, BOSS, "alerts@bank.test", "USER@" + OTHER])
def test_foreign_envelope_refused(server, sender):
    r_mail, r_data, tok = send(server, sender, "X <%s>" % sender)
    expect_refused(r_mail, sender)
    assert r_data is None


def test_null_sender_refused(server):
    c = session(server)
    r = c.cmd("MAIL FROM:<>")
    r.expect(553, "5.7.1")
    assert "<>" in r.text and LOGIN_TEXT in r.text, r
    # the session goes on: an allowed sender still works
    c.cmd("MAIL FROM:<%s>" % USER).expect(250)
    c.quit()


def test_implicit_tls_refused_too(server):
    r_mail, _, _ = send(server, COLLEAGUE, COLLEAGUE, mode="implicit")
    expect_refused(r_mail, COLLEAGUE)


def test_auth_on_port_25_refused_too(server):
    c = SMTPConn(server.port("smtp"))
    c.ehlo().expect(250)
    c.starttls(tls_context(server)).expect(220)
    c.ehlo().expect(250)
    c.auth_plain(USER, PASSWORD).expect(235)
    expect_refused(c.cmd("MAIL FROM:<%s>" % BOSS), BOSS)
    c.quit()


def test_from_header_mismatch_refused(server):
    r_mail, r_data, tok = send(server, USER, "The Bank <alerts@bank.test>")
    r_mail.expect(250)
    r_data.expect(553, "5.7.1")
    assert "From: <alerts@bank.test>" in r_data.text and LOGIN_TEXT in r_data.text, r_data
    assert queued(server, tok) == []


def test_multi_address_from_needs_every_address(server):
    r_mail, r_data, tok = send(server, USER, "User <%s>, Colleague <%s>" % (USER, COLLEAGUE),
                               extra="Sender: <%s>\r\n" % USER)
    r_mail.expect(250)
    r_data.expect(553, "5.7.1")
    assert "<%s>" % COLLEAGUE in r_data.text, r_data
    assert queued(server, tok) == []


def test_sender_field_checked(server):
    r_mail, r_data, tok = send(server, USER, "User <%s>" % USER, extra="Sender: %s\r\n" % COLLEAGUE)
    r_mail.expect(250)
    r_data.expect(553, "5.7.1")
    assert "Sender: <%s>" % COLLEAGUE in r_data.text, r_data
    assert queued(server, tok) == []


def test_from_group_and_comments_parsed(server):
    # a comment with an '@' and a quoted display name with a comma are no addresses
    r_mail, r_data, tok = send(server, USER, '"Doe, (J)" <%s> (at home@bank.test)' % USER)
    r_mail.expect(250)
    r_data.expect(250)
    r_mail, r_data, tok = send(server, USER, "team: %s, alerts@bank.test;" % USER)
    r_data.expect(553, "5.7.1")
    assert "<alerts@bank.test>" in r_data.text


def test_send_as_grant(server):
    p = server.ctl("account", "set", USER, "send-as", "nobody@nowhere.test", check=False)
    assert p.returncode != 0 and "nowhere.test" in p.err + p.out
    p = server.ctl("account", "set", USER, "send-as", "not an address", check=False)
    assert p.returncode != 0
    server.ctl("account", "set", USER, "send-as", "Sales@Other.test, *@" + SHARED)
    try:
        assert "sales@other.test, *@shared.test" in server.ctl("account", "show", USER).out
        # granted address and its +tag form; the whole shared domain
        for addr in ("sales@" + OTHER, "sales+q4@" + OTHER, "anyone@" + SHARED):
            r_mail, r_data, tok = send(server, addr, "Sales <%s>" % addr)
            r_mail.expect(250)
            r_data.expect(250)
            q = queued(server, tok)
            assert len(q) == 1
            assert set(dkim_domains(q[0])) == {addr.split("@")[1].encode()}, q[0][:1500]
        # a grant of one address is not a grant of its domain
        r_mail, _, _ = send(server, BOSS, BOSS)
        expect_refused(r_mail, BOSS)
        # several From: addresses, every one allowed
        r_mail, r_data, tok = send(server, USER, "<%s>, <sales@%s>" % (USER, OTHER),
                                   extra="Sender: <%s>\r\n" % USER)
        r_data.expect(250)
    finally:
        server.ctl("account", "set", USER, "send-as", "off")
    r_mail, _, _ = send(server, "sales@" + OTHER, "sales@" + OTHER)
    expect_refused(r_mail, "sales@" + OTHER)


def test_policy_domain_and_off(server):
    p = server.ctl("domain", "set", DOMAIN, "sender-policy", "loose", check=False)
    assert p.returncode != 0 and "strict, domain or off" in p.err + p.out
    server.ctl("domain", "set", DOMAIN, "sender-policy", "domain")
    try:
        r_mail, r_data, tok = send(server, COLLEAGUE, "C <%s>" % COLLEAGUE)
        r_mail.expect(250)
        r_data.expect(250)
        r_mail, _, _ = send(server, BOSS, BOSS)
        expect_refused(r_mail, BOSS)
        server.ctl("domain", "set", DOMAIN, "sender-policy", "off")
        # anything goes, but never a signature for a domain the login may not use
        r_mail, r_data, tok = send(server, BOSS, "Boss <%s>" % BOSS)
        r_mail.expect(250)
        r_data.expect(250)
        q = queued(server, tok)
        assert len(q) == 1 and dkim_domains(q[0]) == [], q[0][:1500]
        # From: another hosted domain, envelope the login's own: signed for the login's domain only
        r_mail, r_data, tok = send(server, USER, "Boss <%s>" % BOSS)
        r_data.expect(250)
        q = queued(server, tok)
        assert len(q) == 1 and set(dkim_domains(q[0])) == {DOMAIN.encode()}, q[0][:1500]
        c = session(server)
        c.cmd("MAIL FROM:<>").expect(250)
        c.quit()
    finally:
        server.ctl("domain", "set", DOMAIN, "sender-policy", "strict")
    r_mail, _, _ = send(server, COLLEAGUE, COLLEAGUE)
    expect_refused(r_mail, COLLEAGUE)


def test_refusal_text_is_sanitised(server):
    r_mail, r_data, tok = send(server, USER, "<bad\x01guy@bank.test>")
    r_mail.expect(250)
    r_data.expect(553, "5.7.1")
    assert "<bad?guy@bank.test>" in r_data.text and "\x01" not in r_data.text, r_data
    long_local = "x" * 400
    r_mail, r_data, tok = send(server, USER, "<%s@bank.test>" % long_local)
    r_data.expect(553, "5.7.1")
    assert r_data.text.startswith("5.7.1 From: an address is too long:"), r_data
    r_mail, r_data, tok = send(server, USER, "Just a name")
    r_data.expect(553, "5.7.1")
    assert r_data.text.startswith("5.7.1 From: an address without a domain:") and LOGIN_TEXT.split()[-1] in r_data.text
