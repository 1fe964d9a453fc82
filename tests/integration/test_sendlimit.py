"""Sending limits per account (issue 5): counted per accepted recipient of
an authenticated sender, 451 4.7.1 with the time sending resumes, per-domain
and per-account settings read without a restart, counts kept across a
restart. The window roll-over itself is unit-tested (test_sendlimit.c)."""

import json
import re
import time
import calendar

import pytest

from helpers import DOMAIN, SMTPConn, Server, make_message, unique
from protection_util import submit_session

USER = "user@" + DOMAIN
DAILY = "daily@" + DOMAIN
RCPTS = ["r%d@%s" % (i, DOMAIN) for i in range(1, 7)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("sendlimit"),
                 accounts=[(USER,), (DAILY,)] + [(r,) for r in RCPTS]).setup()
    srv.ctl("account", "set", USER, "send-limit-hour", "3")
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def reset_texts(first_rcpt_times, window=3600, bucket=60):
    """The reset times a reply may name: the bucket of the first counted
    recipient plus the window, as 'YYYY-MM-DD HH:MM UTC'."""
    out = set()
    for t in first_rcpt_times:
        reset = (int(t) // bucket) * bucket + window
        out.add(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(reset)))
    return out


def parse_resume(text):
    m = re.search(r"sending resumes at (\d{4}-\d\d-\d\d \d\d:\d\d UTC) \(in (\d+) minutes?\)$", text)
    assert m, "no reset time in %r" % text
    return m.group(1), int(m.group(2))


def test_fourth_recipient_gets_451_with_reset(server):
    c = submit_session(server, USER)
    t0 = time.time()
    c.cmd("MAIL FROM:<%s>" % USER).expect(250)
    for r in RCPTS[:3]:
        c.cmd("RCPT TO:<%s>" % r).expect(250, "2.1.5")
    t1 = time.time()
    r = c.cmd("RCPT TO:<%s>" % RCPTS[3])
    r.expect(451, "4.7.1")
    text = r.lines[0]
    assert text.startswith("4.7.1 Hourly sending limit reached: %s may send to 3 recipients per hour;"
                           " sending resumes at " % USER), text
    when, minutes = parse_resume(text)
    assert when in reset_texts([t0, t1]), (when, text)
    # the window is 60 minutes long and started within this test
    assert 59 <= minutes <= 60, text
    reset = calendar.timegm(time.strptime(when, "%Y-%m-%d %H:%M UTC"))
    assert 3540 <= reset - t0 <= 3660
    # the refused recipient does not spoil the transaction: the three go
    tok = unique("lim")
    c.data(make_message(tok, sender=USER, rcpt=RCPTS[0])).expect(250)
    for r in RCPTS[:3]:
        assert len(server.find_token(r, tok)) == 1
    assert server.find_token(RCPTS[3], tok) == {}
    # every further recipient, in a new transaction too, gets the same reply
    c.cmd("MAIL FROM:<%s>" % USER).expect(250)
    r2 = c.cmd("RCPT TO:<%s>" % RCPTS[4]).expect(451, "4.7.1")
    assert parse_resume(r2.lines[0])[0] == when
    c.quit()
    # the user can find out why
    doc = server.ctl("doctor", USER).out
    assert "send-limited" in doc and "Hourly sending limit reached" in doc


def test_duplicates_and_refused_recipients_do_not_count(server):
    # daily@ has the default limits; a limit of 2 recipients for this test
    server.ctl("account", "set", DAILY, "send-limit-hour", "2")
    c = submit_session(server, DAILY)
    c.cmd("MAIL FROM:<%s>" % DAILY).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)           # the same mailbox: one copy
    c.cmd("RCPT TO:<nobody@%s>" % DOMAIN).expect(550, "5.1.1")  # refused: not counted
    c.cmd("RCPT TO:<someone@[192.0.2.1]>").expect(550, "5.1.2")  # refused: not counted
    c.cmd("RCPT TO:<someone@elsewhere.test>").expect(250)    # remote: counted like local
    c.cmd("RCPT TO:<%s>" % RCPTS[2]).expect(451, "4.7.1")
    c.cmd("RSET").expect(250)
    c.quit()


def test_changed_limits_apply_without_restart(server):
    acct = "r6@" + DOMAIN
    server.ctl("account", "set", acct, "send-limit-hour", "1")
    c = submit_session(server, acct)
    c.cmd("MAIL FROM:<%s>" % acct).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[1]).expect(451, "4.7.1")
    c.cmd("RSET").expect(250)
    # raised: read at the next MAIL
    server.ctl("account", "set", acct, "send-limit-hour", "2")
    c.cmd("MAIL FROM:<%s>" % acct).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[1]).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[2]).expect(451, "4.7.1")
    c.cmd("RSET").expect(250)
    # unlimited
    server.ctl("account", "set", acct, "send-limit-hour", "unlimited")
    c.cmd("MAIL FROM:<%s>" % acct).expect(250)
    c.cmd("RCPT TO:<%s>" % RCPTS[2]).expect(250)
    c.cmd("RSET").expect(250)
    c.quit()


def test_daily_limit_per_domain_and_account_override(server, new_server):
    srv = new_server(accounts=[("a@" + DOMAIN,), ("b@" + DOMAIN,), ("to@" + DOMAIN,),
                               ("to2@" + DOMAIN,), ("to3@" + DOMAIN,)])
    srv.ctl("domain", "set", DOMAIN, "send-limit-day", "2")
    srv.ctl("account", "set", "b@" + DOMAIN, "send-limit-day", "3")
    for user, allowed in (("a@" + DOMAIN, 2), ("b@" + DOMAIN, 3)):
        c = submit_session(srv, user)
        c.cmd("MAIL FROM:<%s>" % user).expect(250)
        rcpts = ["to@" + DOMAIN, "to2@" + DOMAIN, "to3@" + DOMAIN, "r9@" + DOMAIN]
        for i in range(allowed):
            c.cmd("RCPT TO:<%s>" % rcpts[i]).expect(250)
        r = c.cmd("RCPT TO:<%s>" % rcpts[allowed])
        if allowed < 3:
            r.expect(451, "4.7.1")
            assert r.lines[0].startswith("4.7.1 Daily sending limit reached: %s may send to %d"
                                         " recipients per day; sending resumes at " % (user, allowed)), r
            when, minutes = parse_resume(r.lines[0])
            assert 1430 <= minutes <= 1441, r
        c.cmd("RSET").expect(250)
        c.quit()
    # unauthenticated mail from outside never counts against the recipient
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    for _ in range(3):
        c.send_mail("x@client.test", ["a@" + DOMAIN], make_message(unique("in"))) [-1].expect(250)
    c.quit()
    # the server-wide default applies when nothing is set, and the setting is checked
    p = srv.ctl("domain", "set", DOMAIN, "send-limit-day", "lots", check=False)
    assert p.returncode == 1 and "send-limit-day" in p.err


def test_counts_survive_restart(server):
    info = server.account_json(USER)
    # written by the flush worker within 10 s (or at shutdown)
    assert info["send_limit_hour"] == 3
    server.restart()
    c = submit_session(server, USER)
    c.cmd("MAIL FROM:<%s>" % USER).expect(250)
    r = c.cmd("RCPT TO:<%s>" % RCPTS[5])
    r.expect(451, "4.7.1")
    assert "Hourly sending limit reached" in r.lines[0]
    c.quit()
    info = server.account_json(USER)
    assert info["sent_last_hour"] == 3 and info["sent_last_day"] == 3, info
    assert info["sending_suspended"] is False
    out = server.ctl("account", "show", USER).out
    assert "sent      3 recipients in the last hour (limit 3)" in out, out
