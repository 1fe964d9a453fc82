"""Compromised-account detection (issue 5): a burst to many new recipients,
a flood of bounces, logins from several countries. Crossing a threshold
suspends sending (550 5.7.1 at RCPT and MAIL) while reading mail works,
writes a Japanese and English notice into the owner's and the admin's
mailbox, and records why; unsuspend or a password change lifts it."""

import time

import pytest

from helpers import (DOMAIN, PASSWORD, SMTPConn, Server, make_message, pop3_session,
                     unique)
from protection_util import db_query, notices, submit_session, wait_notices

VICTIM = "victim@" + DOMAIN
ADMIN = "postmaster@" + DOMAIN
RCPTS = ["n%d@%s" % (i, DOMAIN) for i in range(1, 10)]
NEWPASS = "Another-pass-456"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("compromise"),
                 config={"abuse.new_rcpt_max": "3", "abuse.new_rcpt_window": "600"},
                 accounts=[(VICTIM,), (ADMIN,)] + [(r,) for r in RCPTS]).setup()
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


SUSPENDED = ("5.7.1 Sending from <%s> is suspended because of suspicious activity (%s);"
             " reading mail still works. A notice is in your mailbox: change the password to"
             " lift it, or ask the administrator (yubinctl account unsuspend)")


def test_burst_to_new_recipients_suspends(server):
    c = submit_session(server, VICTIM)
    c.cmd("MAIL FROM:<%s>" % VICTIM).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)       # the same one is not new twice
    c.cmd("RCPT TO:<%s>" % RCPTS[1]).expect(250)
    r = c.cmd("RCPT TO:<%s>" % RCPTS[2])                # the third new recipient
    r.expect(550, "5.7.1")
    assert r.lines[0] == SUSPENDED % (VICTIM, "new-recipients"), r
    c.cmd("RCPT TO:<%s>" % RCPTS[3]).expect(550, "5.7.1")
    c.cmd("RSET").expect(250)
    r = c.cmd("MAIL FROM:<%s>" % VICTIM)
    r.expect(550, "5.7.1")
    assert r.lines[0] == SUSPENDED % (VICTIM, "new-recipients")
    c.quit()
    # a fresh connection, any port: still suspended; AUTH itself works
    c = submit_session(server, VICTIM)
    c.cmd("MAIL FROM:<%s>" % VICTIM).expect(550, "5.7.1")
    c.quit()


def test_notice_in_owner_and_admin_mailbox(server):
    for addr in (VICTIM, ADMIN):
        got = wait_notices(server, addr)
        assert len(got) == 1, "no notice for %s" % addr
        msg = got[0]
        assert msg["Subject"] == "【重要】メール送信を停止しました / Sending suspended: %s" % VICTIM
        # RFC 2047 on the wire, UTF-8 base64 body, every line short
        raw_head = msg.raw.split(b"\r\n\r\n", 1)[0]
        assert b"Subject: =?UTF-8?B?" in raw_head
        assert all(len(line) <= 78 for line in msg.raw.split(b"\r\n")), "a line over 78 octets"
        assert msg.get_content_type() == "text/plain"
        assert msg.get_content_charset() == "utf-8"
        assert msg["Content-Transfer-Encoding"] == "base64"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["To"].addresses[0].addr_spec == addr
        assert msg["MIME-Version"] == "1.0"
        body = msg.get_content()
        assert "%s のメール送信を一時的に停止しました。" % VICTIM in body
        assert "短時間に多数の新しい宛先への送信" in body
        assert "パスワードを変更すると送信停止は自動的に解除されます" in body
        assert "Sending from %s has been suspended." % VICTIM in body
        assert "sent to 3 new recipients" in body
        assert "yubinctl account unsuspend %s" % VICTIM in body
        assert "127.0.0.1" in body


def test_reading_mail_still_works(server):
    c = pop3_session(server, VICTIM)
    assert c.cmd("STAT").startswith(b"+OK 1 ")     # the notice
    c.quit()


def test_suspension_is_shown(server):
    out = server.ctl("account", "show", VICTIM).out
    assert "sending   SUSPENDED since " in out and "(new-recipients: sent to 3 new recipients" in out, out
    info = server.account_json(VICTIM)
    assert info["sending_suspended"] is True and info["suspended_reason"] == "new-recipients"
    p = server.ctl("doctor", VICTIM, check=False)
    doc = p.out
    assert "FAIL  sending is suspended since" in doc and p.returncode == 1, doc
    assert "send-suspended" in doc and "send-refused" in doc and "notice-delivered" in doc, doc
    rows = db_query(server, "SELECT detail FROM events WHERE kind = 'send-suspended' AND address = ?",
                    (VICTIM,))
    assert rows and rows[0][0].startswith("new-recipients: sent to 3 new recipients"), rows


def test_unsuspend_restores_sending(server):
    out = server.ctl("account", "unsuspend", VICTIM).out
    assert "the sending suspension of %s is lifted" % VICTIM in out
    assert "is not suspended" in server.ctl("account", "unsuspend", VICTIM).out
    c = submit_session(server, VICTIM)
    tok = unique("after")
    # recipients already written to are not new; two new ones stay below 3
    replies = c.send_mail(VICTIM, [RCPTS[0], RCPTS[1], RCPTS[4], RCPTS[5]],
                          make_message(tok, sender=VICTIM, rcpt=RCPTS[0]))
    for r in replies[:-1]:
        r.expect(250)
    replies[-1].expect(250)
    assert len(server.find_token(RCPTS[4], tok)) == 1
    c.quit()
    assert server.account_json(VICTIM)["sending_suspended"] is False
    doc = server.ctl("doctor", VICTIM).out
    assert "send-unsuspended" in doc


def test_password_change_lifts(server):
    c = submit_session(server, VICTIM)
    c.cmd("MAIL FROM:<%s>" % VICTIM).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[6]).expect(550, "5.7.1")  # third new one since the lift
    c.quit()
    assert len(wait_notices(server, VICTIM, 2)) == 2
    out = server.ctl("account", "passwd", VICTIM, "--password-stdin", input=NEWPASS + "\n").out
    assert "the sending suspension of %s is lifted" % VICTIM in out, out
    c = submit_session(server, VICTIM, NEWPASS)
    c.cmd("MAIL FROM:<%s>" % VICTIM).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)
    c.cmd("RSET").expect(250)
    c.quit()
    rows = db_query(server, "SELECT lifted_by FROM send_holds WHERE address = ?", (VICTIM,))
    assert rows == [("password change",)]


def test_logins_from_several_countries(new_server):
    srv = new_server(accounts=[("traveller@" + DOMAIN,), ("to@" + DOMAIN,)])
    user = "traveller@" + DOMAIN
    now = int(time.time())
    # the auth-ok events the login code records (detail carries country=CC)
    for cc in ("JP", "US", "JP", "BR"):
        db_query(srv, "INSERT INTO events(ts, kind, address, ip, detail) VALUES (?, 'auth-ok', ?,"
                 " '127.0.0.2', ?)", (now - 60, user, "smtp login country=%s" % cc))
    c = submit_session(srv, user)
    r = c.cmd("MAIL FROM:<%s>" % user)
    r.expect(550, "5.7.1")
    assert "(countries)" in r.lines[0]
    c.quit()
    got = wait_notices(srv, user)
    assert got and "短時間に複数の国からのログイン" in got[0].get_content()
    assert "logged in successfully from 3 countries within 60 minutes" in got[0].get_content()
    # lifted: the old logins no longer count
    srv.ctl("account", "unsuspend", user)
    c = submit_session(srv, user)
    c.cmd("MAIL FROM:<%s>" % user).expect(250)
    c.quit()


def test_bounce_flood_suspends(new_server):
    srv = new_server(config={"abuse.bounce_min": "2", "abuse.bounce_percent": "50"},
                     accounts=[("sender@" + DOMAIN,), ("x1@" + DOMAIN,), ("x2@" + DOMAIN,)])
    user = "sender@" + DOMAIN
    c = submit_session(srv, user)
    c.send_mail(user, ["x1@" + DOMAIN, "x2@" + DOMAIN], make_message(unique("out"), sender=user))[-1].expect(250)
    c.quit()
    mx = SMTPConn(srv.port("smtp"))
    mx.ehlo().expect(250)
    for _ in range(2):
        mx.send_mail("", [user], make_message(unique("dsn"), sender="MAILER-DAEMON@far.test"))[-1].expect(250)
    mx.quit()
    got = wait_notices(srv, user)
    assert got and "received 2 bounces within 24 hours for 2 recipients sent" in got[0].get_content()
    c = submit_session(srv, user)
    r = c.cmd("MAIL FROM:<%s>" % user)
    r.expect(550, "5.7.1")
    assert "(bounces)" in r.lines[0]
    c.quit()


def test_admin_address_setting_and_detection_switch(new_server):
    srv = new_server(config={"abuse.new_rcpt_max": "2"},
                     accounts=[("bulk@" + DOMAIN,), ("boss@" + DOMAIN,), ("p@" + DOMAIN,),
                               ("q@" + DOMAIN,), ("s@" + DOMAIN,)])
    srv.ctl("domain", "set", DOMAIN, "admin-address", "boss@" + DOMAIN)
    # a mailing account may be exempted
    srv.ctl("account", "set", "bulk@" + DOMAIN, "abuse-detect", "off")
    c = submit_session(srv, "bulk@" + DOMAIN)
    c.cmd("MAIL FROM:<bulk@%s>" % DOMAIN).expect(250)
    for r in ("p", "q", "s"):
        c.cmd("RCPT TO:<%s@%s>" % (r, DOMAIN)).expect(250)
    c.cmd("RSET").expect(250)
    srv.ctl("account", "set", "bulk@" + DOMAIN, "abuse-detect", "on")
    c.cmd("MAIL FROM:<bulk@%s>" % DOMAIN).expect(250)
    c.cmd("RCPT TO:<boss@%s>" % DOMAIN).expect(250)
    c.cmd("RCPT TO:<bulk@%s>" % DOMAIN).expect(550, "5.7.1")
    c.quit()
    assert len(wait_notices(srv, "boss@" + DOMAIN)) == 1
    assert len(wait_notices(srv, "bulk@" + DOMAIN)) == 1
    p = srv.ctl("domain", "set", DOMAIN, "admin-address", "not an address", check=False)
    assert p.returncode == 1
    # a deleted and re-created account starts clean
    srv.ctl("account", "del", "bulk@" + DOMAIN)
    assert db_query(srv, "SELECT count(*) FROM send_holds WHERE address = ?", ("bulk@" + DOMAIN,)) == [(0,)]
    srv.add_account("bulk@" + DOMAIN)
    c = submit_session(srv, "bulk@" + DOMAIN)
    c.cmd("MAIL FROM:<bulk@%s>" % DOMAIN).expect(250)
    c.quit()
