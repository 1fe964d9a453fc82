"""BATV (issue 5): with `domain set D batv on`, bounces (null reverse-path)
to unsigned addresses of D are refused at RCPT with 550 5.7.1; a valid
prvs= address is accepted and delivered to the plain mailbox; expired and
forged tags are refused. Signing of outbound senders is tested end to end
in test_outbound.py; the signature format is unit-tested against an HMAC
vector."""

import pytest

from helpers import DOMAIN, SMTPConn, Server, make_message, split_header_block, unique
from protection_util import batv_key, batv_tag, today

USER = "user@" + DOMAIN
OTHER_DOMAIN = "plain.test"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("batv"), domains=(DOMAIN, OTHER_DOMAIN),
                 accounts=[(USER,), ("user@" + OTHER_DOMAIN,)]).setup()
    out = srv.ctl("domain", "set", DOMAIN, "batv", "on").out
    assert "batv = on" in out
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def mx(srv):
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    return c


def test_bounce_to_unsigned_address_refused(server):
    c = mx(server)
    c.cmd("MAIL FROM:<>").expect(250)
    r = c.cmd("RCPT TO:<%s>" % USER)
    r.expect(550, "5.7.1")
    assert r.lines[0] == ("5.7.1 <%s>: This domain signs the sender address of its outgoing mail"
                          " (BATV); a bounce to an unsigned address answers mail that was not sent"
                          " from here, so it is refused" % USER), r
    c.cmd("RSET").expect(250)
    # ordinary mail to the same address is unaffected
    tok = unique("plain")
    c.send_mail("someone@client.test", [USER], make_message(tok))[-1].expect(250)
    assert len(server.find_token(USER, tok)) == 1
    # a domain without BATV takes bounces as before
    tok = unique("nobatv")
    c.send_mail("", ["user@" + OTHER_DOMAIN], make_message(tok))[-1].expect(250)
    c.quit()
    assert "batv-refused" in server.ctl("doctor", USER).out


def test_valid_tag_delivered_to_plain_mailbox(server):
    key = batv_key(server, DOMAIN)
    assert key is not None and len(key) == 32
    tagged = batv_tag(key, "user", DOMAIN, today() + 7) + "@" + DOMAIN
    tok = unique("dsn")
    c = mx(server)
    replies = c.send_mail("", [tagged], make_message(tok, sender="MAILER-DAEMON@far.test", rcpt=tagged))
    for r in replies:
        assert r.code in (250, 354), replies
    replies[-1].expect(250)
    # upper-case tags verify too (some MTAs change case)
    c.send_mail("", [tagged.upper().replace("@" + DOMAIN.upper(), "@" + DOMAIN)],
                make_message(unique("upper")))[-1].expect(250)
    c.quit()
    got = server.find_token(USER, tok)
    assert len(got) == 1
    headers, _ = split_header_block(list(got.values())[0])
    assert dict((n.lower(), v) for n, v in headers)["delivered-to"] == USER.encode()


def test_expired_and_forged_tags_refused(server):
    key = batv_key(server, DOMAIN)
    c = mx(server)
    c.cmd("MAIL FROM:<>").expect(250)
    expired = batv_tag(key, "user", DOMAIN, today() - 1) + "@" + DOMAIN
    r = c.cmd("RCPT TO:<%s>" % expired)
    r.expect(550, "5.7.1")
    assert "Invalid BATV address (expired)" in r.lines[0], r
    good = batv_tag(key, "user", DOMAIN, today() + 7)
    forged = good[:-7] + ("0" if good[-7] != "0" else "1") + good[-6:]
    assert forged != good
    r = c.cmd("RCPT TO:<%s@%s>" % (forged, DOMAIN))
    r.expect(550, "5.7.1")
    assert "Invalid BATV address (invalid signature)" in r.lines[0], r
    other_key = batv_tag(b"x" * 32, "user", DOMAIN, today() + 7)
    c.cmd("RCPT TO:<%s@%s>" % (other_key, DOMAIN)).expect(550, "5.7.1")
    r = c.cmd("RCPT TO:<prvs=12=user@%s>" % DOMAIN)
    r.expect(550, "5.7.1")
    assert "malformed tag" in r.lines[0]
    # a tag for another user of the domain does not open this one
    stolen = batv_tag(key, "other", DOMAIN, today() + 7).replace("=other", "=user")
    c.cmd("RCPT TO:<%s@%s>" % (stolen, DOMAIN)).expect(550, "5.7.1")
    c.quit()


def test_batv_off_accepts_bounces(server):
    server.ctl("domain", "set", DOMAIN, "batv", "off")
    try:
        c = mx(server)
        tok = unique("off")
        c.send_mail("", [USER], make_message(tok))[-1].expect(250)
        # signed addresses still reach the mailbox (bounces in flight)
        key = batv_key(server, DOMAIN)
        tagged = batv_tag(key, "user", DOMAIN, today() + 7) + "@" + DOMAIN
        c.send_mail("", [tagged], make_message(unique("inflight")))[-1].expect(250)
        c.quit()
        assert len(server.find_token(USER, tok)) == 1
    finally:
        server.ctl("domain", "set", DOMAIN, "batv", "on")
    p = server.ctl("domain", "set", DOMAIN, "batv", "maybe", check=False)
    assert p.returncode == 1 and "on or off" in p.err
