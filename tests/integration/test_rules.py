"""The panel's sorting rules and auto-reply on Sieve (issue 14 section 3):
rules set with yubinctl are generated into the hidden panel script, which
delivery runs before the account's own active script; a rule moves mail
into a folder IMAP then shows; when no rule decides, the own script runs;
the auto-reply answers once; a forward rule counts against the sending
limit."""

import json
import os
import time

import pytest

import helpers
from helpers import DOMAIN, PASSWORD, SMTPConn, unique
from protection_util import events
from test_sieve_delivery import folders_with, imap, put_script

A = "carol@" + DOMAIN
B = "dave@" + DOMAIN
SENDER = "someone@remote.test"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = helpers.Server(tmp_path_factory.mktemp("rules"), accounts=[(A,), (B,)]).setup()
    s.start()
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def msg(token, subject, sender=SENDER):
    return (b"From: <" + sender.encode() + b">\r\nTo: <" + A.encode() + b">\r\nSubject: " + subject.encode() +
            b"\r\nMessage-ID: <" + token.encode() + b"@x.test>\r\n"
            b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nbody " + token.encode() + b"\r\n")


def send(srv, token, subject):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.send_mail(SENDER, [A], msg(token, subject))[-1].expect(250)
    finally:
        c.quit()


def rules(srv):
    return json.loads(srv.ctl("rules", "list", A, "--json").out)


def test_rule_moves_into_a_folder_imap_shows(srv):
    srv.ctl("rules", "add", A, "reports", "subject", "contains", "報告", "move", "Work/報告")
    srv.ctl("rules", "add", A, "read news", "header:X-Kind", "is", "news", "read")
    got = rules(srv)
    assert [r["name"] for r in got] == ["reports", "read news"], got
    panel = os.path.join(srv.maildir(A), "sieve", "panel")
    assert os.path.exists(panel)
    assert "panel" not in srv.ctl("sieve", "list", A).out       # hidden from ManageSieve
    tok = unique("mv")
    send(srv, tok, "週次報告 " + tok)
    got = folders_with(srv, A, tok)
    assert list(got) == [".Work.報告"], got
    m = imap(srv, A)
    try:
        typ, lst = m.list()
        assert any(b"Work/&WDFUSg-" in l for l in lst), lst
        typ, data = m.select('"Work/&WDFUSg-"')
        assert typ == "OK" and int(data[0]) == 1, data
    finally:
        m.logout()
    ev = wait_events(srv, "sieve-filed", 0)
    assert ev and 'fileinto "Work/報告"' in ev[-1][2], ev


def test_order_enable_disable_and_delete(srv):
    srv.ctl("rules", "add", A, "trash spam", "subject", "starts", "[ad]", "trash")
    srv.ctl("rules", "move", A, "3", "1")
    assert [r["name"] for r in rules(srv)] == ["trash spam", "reports", "read news"]
    tok = unique("ad")
    send(srv, tok, "[ad] buy *now* " + tok)
    assert list(folders_with(srv, A, tok)) == [".Trash"]
    srv.ctl("rules", "disable", A, "1")
    assert rules(srv)[0]["enabled"] is False
    tok = unique("ad2")
    send(srv, tok, "[ad] again " + tok)
    assert list(folders_with(srv, A, tok)) == [""]
    srv.ctl("rules", "del", A, "1")
    assert [r["name"] for r in rules(srv)] == ["reports", "read news"]
    bad = srv.ctl("rules", "add", A, "x", "subject", "contains", "y", "move", "../etc", check=False)
    assert bad.returncode != 0
    bad = srv.ctl("rules", "del", A, "9", check=False)
    assert bad.returncode != 0


def test_own_script_runs_when_no_rule_decides(srv):
    put_script(srv, A, 'require ["fileinto"];\nfileinto "Own";\n')
    tok = unique("own")
    send(srv, tok, "plain " + tok)
    assert list(folders_with(srv, A, tok)) == [".Own"]            # no rule matched: the own script
    tok = unique("both")
    send(srv, tok, "報告 " + tok)
    assert list(folders_with(srv, A, tok)) == [".Work.報告"]   # a rule decided: the own script did not run
    os.unlink(os.path.join(srv.maildir(A), "sieve", "active"))


def wait_events(srv, kind, before):
    deadline = time.time() + 15
    while True:
        ev = events(srv, kind, A)
        if len(ev) > before or time.time() > deadline:
            return ev
        time.sleep(0.05)


def test_autoreply_once(srv):
    r = srv.ctl("autoreply", "set", A, "on=on", "subject=不在のお知らせ", "body=不在です。\\n月曜に戻ります。",
                "days=2", check=False)
    assert r.returncode == 0, r.err
    shown = json.loads(srv.ctl("autoreply", "show", A, "--json").out)
    assert shown["on"] and shown["days"] == 2 and shown["body"] == "不在です。\n月曜に戻ります。", shown
    assert srv.ctl("autoreply", "set", A, "start=2026-02-30", check=False).returncode != 0
    for i in range(2):
        tok = unique("ar")
        n = len(events(srv, "sieve-vacation", A))
        c = helpers.smtp_submission(srv)
        try:
            c.auth_plain(B, PASSWORD).expect(235)
            c.send_mail(B, [A], msg(tok, "hello " + tok, sender=B))[-1].expect(250)
        finally:
            c.quit()
        ev = wait_events(srv, "sieve-vacation", n)
        assert ev[-1][2].startswith("replied to" if i == 0 else "not replied to"), ev
    srv.ctl("autoreply", "set", A, "on=off")


def test_forward_rule_counts_against_the_sending_limit(srv):
    srv.ctl("rules", "add", A, "to dave", "subject", "contains", "fwd-me", "forward", B)
    # the auto-reply above was one copy within this hour: one more fits
    srv.ctl("account", "set", A, "send-limit-hour", "2")
    first, second = unique("f1"), unique("f2")
    send(srv, first, "fwd-me " + first)
    assert len(srv.find_token(B, first)) == 1
    n = len(events(srv, "forward-limited", A))
    send(srv, second, "fwd-me " + second)
    assert len(srv.find_token(B, second)) == 0
    assert len(srv.find_token(A, second)) == 1                   # kept here
    assert len(wait_events(srv, "forward-limited", n)) > n


def test_doctor_names_the_rule_that_decided(srv):
    d = json.loads(srv.ctl("doctor", A, "--json", check=False).out)
    g = [g for g in d["groups"] if g["id"] == "filters"]
    assert g and g[0]["findings"], d["groups"]
    texts = [f["text"] for f in g[0]["findings"]]
    assert any("sieve-filed" in t and "(panel: rule " in t and "reports" in t for t in texts), texts
    assert any("sieve-vacation" in t and "replied to" in t for t in texts), texts


def test_autoreply_quotes_the_original(srv):
    """quote=on: the reply carries the original's text, decoded from
    ISO-2022-JP, each line after "> ", in a UTF-8 body that decodes back."""
    import email
    import email.policy
    srv.ctl("account", "set", A, "send-limit-hour", "unlimited")
    srv.ctl("autoreply", "set", A, "on=on", "quote=on", "body=不在です。")
    shown = json.loads(srv.ctl("autoreply", "show", A, "--json").out)
    assert shown["quote"] is True, shown
    tok = unique("arq")
    body = ("会議の件です。\r\nよろしく " + tok + "\r\n").encode("iso-2022-jp")
    m = (b"From: <" + B.encode() + b">\r\nTo: <" + A.encode() + b">\r\nSubject: =?ISO-2022-JP?B?"
         b"GyRCMnE1RBsoQg==?=\r\nMessage-ID: <" + tok.encode() + b"@x.test>\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=ISO-2022-JP\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\n" + body)
    n = len(events(srv, "sieve-vacation", A))
    c = helpers.smtp_submission(srv)
    try:
        c.auth_plain(B, PASSWORD).expect(235)
        c.send_mail(B, [A], m)[-1].expect(250)
    finally:
        c.quit()
    ev = wait_events(srv, "sieve-vacation", n)
    assert ev[-1][2].startswith("replied to"), ev
    replies = [d for d in srv.messages(B).values() if b"In-Reply-To: <" + tok.encode() + b"@x.test>" in d]
    assert len(replies) == 1
    text = email.message_from_bytes(replies[0], policy=email.policy.default).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("不在です。"), text
    assert "> 会議の件です。\n> よろしく " + tok in text, text
    srv.ctl("autoreply", "set", A, "on=off", "quote=off")
