"""Sieve reject and ereject (RFC 5429) in delivery. The script runs before
the reply to the data, so with one recipient the refusal is that reply:
550 5.7.1 and the reason, nothing stored, nothing sent. With more
recipients the others still get the message; the refusing one's sender
gets an MDN ("deleted", RFC 8098) for reject or a DSN (RFC 3464) for
ereject from the null sender through the queue (here to Postfix's
smtp-sink as the remote MX), never for <> or auto-submitted mail."""

import os

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, SMTPConn, unique
from protection_util import events

pytestmark = pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")

A = "alice@" + DOMAIN
B = "bob@" + DOMAIN
SENDER = "someone@remote.test"
SCRIPT = ('require ["reject", "ereject"];\n'
          'if header :contains "subject" "go away" { reject text:\nNot wanted here.\nPlease stop.\n.\n; }\n'
          'if header :contains "subject" "bounce me" { ereject "no such thing"; }\n')


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    s = ou.Sink(tmp_path_factory.mktemp("sink_remote")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, dns, sink):
    s = helpers.Server(tmp_path_factory.mktemp("sieve_reject"), config=ou.outbound_config(dns, sink),
                       accounts=[(A,), (B,)]).setup()
    s.start()
    d = os.path.join(s.maildir(A), "sieve")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.sieve"), "w") as f:
        f.write(SCRIPT)
    with open(os.path.join(d, "active"), "w") as f:
        f.write("rules")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def message(token, subject, extra=b""):
    return (b"From: <" + SENDER.encode() + b">\r\nTo: <" + A.encode() + b">\r\nSubject: " + subject +
            b" " + token.encode() + b"\r\nMessage-ID: <" + token.encode() + b"@remote.test>\r\n" + extra +
            b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nbody " + token.encode() + b"\r\n")


def send(srv, rcpts, msg, sender=SENDER):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        return c.send_mail(sender, rcpts, msg)[-1]
    finally:
        c.quit()


def notices(sink, token, n=1):
    return [m for m in sink.wait(n, timeout=20) if b"<" + token.encode() + b"@remote.test>" in m]


def test_one_recipient_refused_in_the_reply(srv, sink):
    tok = unique("rj")
    r = send(srv, [A], message(tok, b"go away"))
    assert r.code == 550 and r.lines[0].startswith("5.7.1 Not wanted here. Please stop."), r
    tok2 = unique("erj")
    r = send(srv, [A], message(tok2, b"bounce me"))
    assert r.code == 550 and "5.7.1 no such thing" in r.text, r
    assert srv.find_token(A, tok) == {} and srv.find_token(A, tok2) == {}
    def both():   # the event log is written behind the reply
        ev = [e[2] for e in events(srv, "sieve-rejected", A)]
        return any("reject: Not wanted" in e for e in ev) and any("ereject: no such thing" in e for e in ev)
    assert ou.wait_for(both), events(srv, "sieve-rejected", A)
    # an unrelated message still gets through
    tok3 = unique("ok")
    send(srv, [A], message(tok3, b"hello")).expect(250)
    assert len(srv.find_token(A, tok3)) == 1
    assert notices(sink, tok, 0) == [] and notices(sink, tok2, 0) == []


def test_several_recipients_mdn_and_dsn(srv, sink):
    before = len(sink.messages())
    tok = unique("mdn")
    send(srv, [A, B], message(tok, b"go away")).expect(250)
    assert srv.find_token(A, tok) == {} and len(srv.find_token(B, tok)) == 1
    got = notices(sink, tok, before + 1)
    assert len(got) == 1, srv.log_tail()
    m = got[0]
    assert b"X-Mail-Args: <>" in m or b"MAIL FROM:<>" in m or b"X-Mail-From: <>" in m or b"Return-Path: <>" in m, m
    assert b"report-type=disposition-notification" in m
    assert b"Disposition: automatic-action/MDN-sent-automatically; deleted" in m
    assert b"Final-Recipient: rfc822; " + A.encode() in m
    assert b"Auto-Submitted: auto-replied" in m and b"Please stop." in m
    assert b"To: <" + SENDER.encode() + b">" in m
    tok2 = unique("dsn")
    send(srv, [A, B], message(tok2, b"bounce me")).expect(250)
    got = notices(sink, tok2, before + 2)
    assert len(got) == 1, srv.log_tail()
    assert b"report-type=delivery-status" in got[0] and b"Status: 5.7.1" in got[0]
    assert b"Action: failed" in got[0] and b"Diagnostic-Code: smtp; 550 5.7.1 no such thing" in got[0]
    assert ou.wait_for(lambda: any(e[2].startswith("DSN (failed) sent to <%s>" % SENDER)
                                   for e in events(srv, "sieve-rejected", A)))


def test_no_notice_to_null_or_auto_submitted(srv, sink):
    n = len(events(srv, "sieve-rejected", A))
    tok = unique("nn")
    send(srv, [A, B], message(tok, b"go away"), sender="").expect(250)
    tok2 = unique("as")
    send(srv, [A, B], message(tok2, b"go away", b"Auto-Submitted: auto-generated\r\n")).expect(250)
    ou.wait_for(lambda: len(events(srv, "sieve-rejected", A)) >= n + 4)
    ev = [e[2] for e in events(srv, "sieve-rejected", A)][n:]
    assert any(e.startswith("no MDN to <>: the sender is the null path") for e in ev), ev
    assert any(e.startswith("no MDN to <%s>: the message is auto-submitted" % SENDER) for e in ev), ev
    assert len(srv.find_token(B, tok)) == 1 and len(srv.find_token(B, tok2)) == 1
