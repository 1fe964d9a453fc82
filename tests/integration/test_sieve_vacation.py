"""Sieve vacation in delivery (RFC 5230, RFC 6131, RFC 3834): a reply
goes once per sender and period, from the null sender, with
Auto-Submitted: auto-replied and In-Reply-To, into the sender's mailbox
when the sender is local; never to <>, a mailing list, bulk or
auto-submitted mail; each decision is a sieve-vacation event."""

import os
import time

import pytest

import helpers
from helpers import DOMAIN, PASSWORD, SMTPConn, unique
from protection_util import events
from test_sieve_delivery import folders_with, put_script

A = "alice@" + DOMAIN
B = "bob@" + DOMAIN
SENDER = "someone@remote.test"

SCRIPT = ('require ["vacation"];\n'
          'vacation :days 1 :subject "Away / 不在" "I am away until Monday.\\n月曜まで不在です。";\n')


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = helpers.Server(tmp_path_factory.mktemp("sieve_vacation"), accounts=[(A,), (B,)]).setup()
    s.start()
    put_script(s, A, SCRIPT)
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def wait_events(srv, before):
    """The sieve-vacation events once there are more than before (the
    event log is written after the reply)."""
    deadline = time.time() + 15
    while True:
        ev = events(srv, "sieve-vacation", A)
        if len(ev) > before or time.time() > deadline:
            return ev
        time.sleep(0.05)


def msg(token, sender, extra=b""):
    return (b"From: <" + sender.encode() + b">\r\nTo: <" + A.encode() + b">\r\nSubject: hello " +
            token.encode() + b"\r\nMessage-ID: <" + token.encode() + b"@x.test>\r\n" + extra +
            b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nbody " + token.encode() + b"\r\n")


def send_from_b(srv, token):
    c = helpers.smtp_submission(srv)
    try:
        c.auth_plain(B, PASSWORD).expect(235)
        c.send_mail(B, [A], msg(token, B))[-1].expect(250)
    finally:
        c.quit()


def send_remote(srv, token, sender=SENDER, extra=b""):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.send_mail(sender, [A], msg(token, sender or "x@remote.test", extra))[-1].expect(250)
    finally:
        c.quit()


def replies_in_b(srv, token):
    """The auto-replies in bob's mailbox answering token's message."""
    out = []
    md = srv.maildir(B)
    for sub in ("new", "cur"):
        d = os.path.join(md, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                data = f.read()
            if b"<" + token.encode() + b"@x.test>" in data and b"Auto-Submitted" in data:
                out.append(data)
    return out


def test_reply_once_per_period(srv):
    tok = unique("vac")
    n = len(events(srv, "sieve-vacation", A))
    send_from_b(srv, tok)
    got = replies_in_b(srv, tok)
    assert len(got) == 1, got
    r = got[0]
    head = r.split(b"\r\n\r\n", 1)[0]
    assert b"Return-Path: <>" in head
    assert b"\r\nAuto-Submitted: auto-replied\r\n" in head
    assert b"In-Reply-To: <" + tok.encode() + b"@x.test>" in head
    assert b"\r\nTo: " + B.encode() in head
    assert b"\r\nFrom: " + A.encode() in head
    assert b"=?UTF-8?B?" in head.upper() or b"=?utf-8?b?" in head.lower()
    assert list(folders_with(srv, A, tok)) == [""]         # the original is kept
    ev = wait_events(srv, n)
    assert ev and ev[-1][2].startswith("replied to <" + B + ">"), ev
    assert "line 2" in ev[-1][2]
    # the same sender again within the day: no second reply
    tok2 = unique("vac2")
    send_from_b(srv, tok2)
    assert replies_in_b(srv, tok2) == []
    ev = wait_events(srv, len(ev))
    assert "already replied within the period" in ev[-1][2], ev
    assert list(folders_with(srv, A, tok2)) == [""]


def test_no_reply_to_lists_bulk_or_null(srv):
    cases = [
        ("", b"", "null path"),
        (SENDER, b"List-Id: <news.remote.test>\r\n", "mailing list"),
        (SENDER, b"Precedence: bulk\r\n", "Precedence"),
        (SENDER, b"Auto-Submitted: auto-generated\r\n", "auto-submitted"),
        ("owner-news@remote.test", b"", "owner-"),
    ]
    for sender, extra, why in cases:
        tok = unique("nv")
        n = len(events(srv, "sieve-vacation", A))
        send_remote(srv, tok, sender, extra)
        ev = wait_events(srv, n)
        assert ev and ev[-1][2].startswith("not replied to <" + sender + ">") and why in ev[-1][2], (why, ev)
        assert list(folders_with(srv, A, tok)) == [""]
    qdir = os.path.join(srv.data, "queue")
    for root, _, files in os.walk(qdir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert b"auto-replied" not in f.read()


def test_remote_sender_gets_a_queued_reply(srv):
    tok = unique("rq")
    n = len(events(srv, "sieve-vacation", A))
    send_remote(srv, tok, "friend@remote.test")
    ev = wait_events(srv, n)
    assert ev[-1][2].startswith("replied to <friend@remote.test>"), ev


def test_duplicate_remembers_message_ids(srv):
    """The duplicate extension (RFC 7352) keeps its ids in the same record:
    the second copy of one Message-ID is filed as a duplicate."""
    put_script(srv, B, 'require ["duplicate", "fileinto"];\nif duplicate :seconds 3600 {\n'
                       '  fileinto "Dups";\n}\n')
    tok = unique("dup")
    for _ in range(2):
        c = SMTPConn(srv.port("smtp"))
        try:
            c.ehlo().expect(250)
            m = msg(tok, SENDER).replace(b"To: <" + A.encode() + b">", b"To: <" + B.encode() + b">")
            c.send_mail(SENDER, [B], m)[-1].expect(250)
        finally:
            c.quit()
    got = folders_with(srv, B, tok)
    assert sorted(got) == ["", ".Dups"], got
    other = unique("nodup")
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.send_mail(SENDER, [B], msg(other, SENDER))[-1].expect(250)
    finally:
        c.quit()
    assert list(folders_with(srv, B, other)) == [""]
