"""The directory in PostgreSQL (issue 16 §1): a real PostgreSQL on a private
Unix socket; node A's SQLite directory moved there with `yubinctl directory
copy`, node B set up empty and pointed at the same database. Accounts,
logins, RCPT, settings and events are shared; a sending limit holds across
both nodes together; a password changed through one node applies on the
other within a second (LISTEN/NOTIFY); PostgreSQL stopped -> new logins
get NO [UNAVAILABLE] and RCPT 4xx while an open IMAP session keeps
reading its mail; PostgreSQL back -> both nodes recover."""

import os
import subprocess
import time

import pytest

import helpers
from helpers import DOMAIN, PASSWORD, SMTPConn, make_message, unique
from pg_util import PgServer, available, wait_for
from protection_util import submit_session
from test_imap_auth import RawIMAPS, login_from

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL 15 is not installed (scripts/deps.sh test)")

USER = "user@" + DOMAIN
PWUSER = "pw@" + DOMAIN
SENDER = "sender@" + DOMAIN
RCPTS = ["r%d@%s" % (i, DOMAIN) for i in range(1, 6)]
# an address is blocked at its 6th failure (no delays before): the other
# tests fail fewer logins than that from 127.0.0.1
BF = {"bruteforce.ip_delay_after": "100", "bruteforce.ip_block_after": "6",
      # a sender is suspended at its 6th new recipient within the hour (the
      # other tests write to fewer)
      "abuse.new_rcpt_max": "6"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("dirpg")
    pg = PgServer()
    nodes = []
    try:
        pg.setup().start()
        url = pg.createdb("yubin")
        a = helpers.Server(base / "a", accounts=[(USER,), (PWUSER,), (SENDER,)] + [(r,) for r in RCPTS],
                           config=BF, name="yubind-a").setup()
        a.ctl("domain", "set", DOMAIN, "send-limit-hour", "40")
        copy = a.ctl("directory", "copy", "--to", url)
        a.ctl("config", "set", "directory.url", "-", input=url + "\n")
        b = helpers.Server(base / "b", accounts=[], domains=(), config=BF, name="yubind-b").setup()
        b.ctl("config", "set", "directory.url", "-", input=url + "\n")
        nodes = [a, b]
        a.start()
        b.start()
        yield pg, url, a, b, copy.out
    finally:
        for n in nodes:
            n.stop()
        pg.cleanup()
    for n in nodes:
        rep = n.sanitizer_report()
        assert rep is None, rep


def imap_login(srv, user, password=PASSWORD):
    c = RawIMAPS(srv)
    try:
        return c.login(user, password)
    finally:
        c.close()


def rcpt_reply(srv, rcpt):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo()
        c.cmd("MAIL FROM:<someone@client.test>").expect(250)
        return c.cmd("RCPT TO:<%s>" % rcpt)
    finally:
        c.close()


def test_copy_moved_every_table(cluster):
    pg, url, a, b, copy_out = cluster
    assert "accounts         %d rows" % (3 + len(RCPTS)) in copy_out, copy_out
    assert "done: every table copied" in copy_out, copy_out
    assert pg.psql("SELECT count(*) FROM accounts", "yubin") == str(3 + len(RCPTS))
    assert pg.psql("SELECT value FROM settings WHERE key = 'send-limit-hour'", "yubin") == "40"
    assert pg.psql("SELECT max(version) FROM yubin_schema", "yubin") == "15"
    # no home nodes in SQLite: NULL (this machine) stays NULL, not ''
    assert pg.psql("SELECT count(*) FROM accounts WHERE node IS NULL", "yubin") == str(3 + len(RCPTS))
    # both nodes read it; a second copy into a database in use is refused
    for n in (a, b):
        assert USER in n.ctl("account", "list").out
        assert "up to date" in n.ctl("directory", "migrate").out
    assert "already uses" in a.ctl("directory", "copy", "--to", url, check=False).err
    # the copy works from any directory (here PostgreSQL to PostgreSQL), and
    # only into an empty one
    second = pg.createdb("second")
    assert "done: every table copied" in a.ctl("directory", "copy", "--to", second).out
    assert pg.psql("SELECT count(*) FROM accounts", "second") == str(3 + len(RCPTS))
    again = a.ctl("directory", "copy", "--to", second, check=False)
    assert again.returncode == 1 and "not empty" in again.err, again.err


@pytest.mark.parametrize("unit", ["test_directory", "test_directory_node", "test_dkim_share", "test_ops", "test_ops_server",
                                  "test_settings"])
def test_directory_unit_tests_on_postgresql(cluster, unit):
    """Every query the directory's and the operations' unit tests make,
    on PostgreSQL (pg_fixture.h: YUBIN_TEST_PG, a database of their own)."""
    pg = cluster[0]
    url = pg.url("unit")
    if pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'unit'") == "0":
        pg.createdb("unit")
    binary = os.path.join(helpers.BUILD, "tests", unit)
    if not os.path.exists(binary):
        pytest.fail("%s is not built (make unit-bins)" % binary)
    p = subprocess.run([binary], env=dict(os.environ, YUBIN_TEST_PG=url), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out[-3000:]
    assert "PASSED" in out and pg.psql("SELECT count(*) FROM yubin_schema", "unit") == "1", out[-3000:]


def test_login_and_rcpt_on_both_nodes(cluster):
    _, _, a, b, _ = cluster
    for n in (a, b):
        assert imap_login(n, USER).startswith("OK"), n.base
        assert imap_login(n, USER, "wrong-password-1").startswith("NO [AUTHENTICATIONFAILED]")
        rcpt_reply(n, USER).expect(250)
        rcpt_reply(n, "nobody@" + DOMAIN).expect(550, "5.1.1")


def test_account_added_on_one_node_is_known_on_the_other(cluster):
    _, _, a, b, _ = cluster
    new = "fresh-%s@%s" % (unique("a")[-8:], DOMAIN)
    rcpt_reply(b, new).expect(550, "5.1.1")		# cached as unknown on b
    a.add_account(new)
    # the trigger's notification drops b's cache: known at once
    assert wait_for(lambda: rcpt_reply(b, new).code == 250, 1.0), "b still refuses the new account"
    assert imap_login(b, new).startswith("OK")


def test_switches_apply_on_the_other_node_within_a_second(cluster):
    _, _, a, b, _ = cluster
    # an account switched off, and a per-domain setting (the sending limit
    # b reads at MAIL), both read by b before and cached
    rcpt_reply(b, RCPTS[4]).expect(250)
    a.ctl("account", "disable", RCPTS[4])
    assert wait_for(lambda: rcpt_reply(b, RCPTS[4]).code == 550, 1.0), "b still accepts a disabled account"
    a.ctl("account", "enable", RCPTS[4])
    assert wait_for(lambda: rcpt_reply(b, RCPTS[4]).code == 250, 1.0)
    c = submit_session(b, USER)
    c.cmd("MAIL FROM:<%s>" % USER).expect(250)
    c.cmd("RSET").expect(250)
    a.ctl("domain", "set", DOMAIN, "send-limit-hour", "0")	# unlimited: never trips below

    def limit_seen():
        c.cmd("MAIL FROM:<%s>" % USER).expect(250)
        r = c.cmd("RCPT TO:<%s>" % RCPTS[0])
        c.cmd("RSET").expect(250)
        return r.code == 250
    assert limit_seen()
    a.ctl("domain", "set", DOMAIN, "send-limit-hour", "1")
    assert wait_for(lambda: not limit_seen(), 1.0), "b did not take the new domain limit"
    a.ctl("domain", "set", DOMAIN, "send-limit-hour", "40")
    c.quit()


def test_events_of_one_node_seen_by_the_other(cluster):
    _, _, a, b, _ = cluster
    assert imap_login(b, PWUSER, "not-the-password-9").startswith("NO")
    found = wait_for(lambda: "auth-failed" in a.ctl("security", "events", "--target", PWUSER).out, 10)
    assert found, a.ctl("security", "events").out


def test_password_change_applies_on_the_other_node_within_a_second(cluster):
    _, _, a, b, _ = cluster
    new = "Changed-pass-456"
    assert imap_login(b, PWUSER).startswith("OK")	# b has the account cached
    a.ctl("account", "passwd", PWUSER, "--password-stdin", input=new + "\n")
    t0 = time.time()
    assert wait_for(lambda: imap_login(b, PWUSER, new).startswith("OK"), 1.0), \
        "b did not take the new password within a second"
    assert time.time() - t0 < 1.5
    assert imap_login(b, PWUSER).startswith("NO [AUTHENTICATIONFAILED]")


def test_sending_limit_holds_across_both_nodes(cluster):
    _, _, a, b, _ = cluster
    a.ctl("account", "set", SENDER, "send-limit-hour", "3")
    ca = submit_session(a, SENDER)
    ca.cmd("MAIL FROM:<%s>" % SENDER).expect(250)
    ca.cmd("RCPT TO:<%s>" % RCPTS[0]).expect(250)
    ca.cmd("RCPT TO:<%s>" % RCPTS[1]).expect(250)
    cb = submit_session(b, SENDER)
    cb.cmd("MAIL FROM:<%s>" % SENDER).expect(250)
    cb.cmd("RCPT TO:<%s>" % RCPTS[2]).expect(250)
    r = cb.cmd("RCPT TO:<%s>" % RCPTS[3])
    r.expect(451, "4.7.1")
    assert "may send to 3 recipients per hour" in r.text, r.text
    ca.cmd("RCPT TO:<%s>" % RCPTS[4]).expect(451, "4.7.1")
    ca.quit()
    cb.quit()


def test_failed_logins_counted_across_both_nodes(cluster):
    _, _, a, b, _ = cluster
    src = "127.0.0.2"
    for i in range(3):
        for n in (a, b):
            assert login_from(n, src, "nobody@" + DOMAIN, "wrong-%d" % i).startswith("NO [AUTHENTICATIONFAILED]")
    # six failures, three on each node: blocked on both
    for n in (a, b):
        assert login_from(n, src, USER).startswith("NO [UNAVAILABLE]")
    b.ctl("security", "unblock", src)
    for n in (a, b):
        assert login_from(n, src, USER).startswith("OK")


def test_postgresql_down_temporary_errors_then_recovery(cluster):
    pg, _, a, b, _ = cluster
    token = unique("pgdown")
    c = SMTPConn(a.port("smtp"))
    c.ehlo()
    c.send_mail("someone@client.test", [USER], make_message(token))[-1].expect(250)
    c.quit()
    session = RawIMAPS(a)
    assert session.login(USER, PASSWORD).startswith("OK")
    assert session.cmd("SELECT INBOX").startswith("OK")
    pg.stop()
    try:
        # new logins and recipients: temporary errors, on both nodes
        for n in (a, b):
            assert wait_for(lambda: imap_login(n, USER).startswith("NO [UNAVAILABLE]"), 5), \
                imap_login(n, USER)
            r = rcpt_reply(n, USER)
            assert 400 <= r.code < 500, r
        sub = helpers.smtp_submission(a)
        sub.auth_plain(USER, PASSWORD).expect(454, "4.7.0")
        sub.close()
        # the open session keeps working, and the mail accepted before is there
        assert session.cmd("NOOP").startswith("OK")
        assert session.cmd("SEARCH SUBJECT %s" % token).startswith("OK")
        fetched = session.cmd("FETCH 1:* (FLAGS)")
        assert fetched.startswith("OK"), fetched
    finally:
        pg.start()
    session.close()
    for n in (a, b):
        assert wait_for(lambda: imap_login(n, USER).startswith("OK"), 10), imap_login(n, USER)
        assert wait_for(lambda: rcpt_reply(n, USER).code == 250, 10)


def pop3_login(srv, user, password=PASSWORD):
    c = helpers.POP3Conn(srv.port("pop3"))
    try:
        assert c.stls(helpers.tls_context(srv)).startswith(b"+OK")
        return c.login(user, password)
    finally:
        c.close()


def test_node_starts_while_postgresql_is_down(cluster, tmp_path):
    """A node whose PostgreSQL is down at start starts anyway, answers
    temporary errors, and works as soon as PostgreSQL is back: no restart."""
    pg, url, a, _, _ = cluster
    # a login cache sized for a proxy (auth.cache_entries, rounded up)
    c = helpers.Server(tmp_path / "c", accounts=[], domains=(), config=dict(BF, **{"auth.cache_entries": "100000"}),
                       name="yubind-c").setup()
    c.ctl("config", "set", "directory.url", "-", input=url + "\n")
    pg.stop()
    try:
        c.start()
        assert imap_login(c, USER).startswith("NO [UNAVAILABLE]")
        assert pop3_login(c, USER).startswith(b"-ERR [SYS/TEMP]")
        rcpt_reply(c, USER).expect(451, "4.3.0")
        sub = helpers.smtp_submission(c)
        sub.auth_plain(USER, PASSWORD).expect(454, "4.7.0")
        sub.close()
        assert "PostgreSQL does not answer at start" in c.log()
        assert "login cache of 131072 entries (6144 KB)" in c.log()
    finally:
        pg.start()
    try:
        assert wait_for(lambda: "directory: available again" in c.log(), 10), c.log_tail()
        assert imap_login(c, USER).startswith("OK")
        assert pop3_login(c, USER).startswith(b"+OK")
        rcpt_reply(c, USER).expect(250)
        found = wait_for(lambda: "directory-unavailable" in a.ctl("security", "events").out, 10)
        assert found, a.ctl("security", "events").out
        assert "could not reach its directory" in a.ctl("security", "events", "--kind", "directory-unavailable").out
    finally:
        c.stop()
    assert c.sanitizer_report() is None


def test_old_rows_pruned_in_batches(cluster):
    """events older than events.retention_days (90), audit rows older than
    audit.retention_days (365) and stale login state go, in batches (more
    rows than one batch here), on a node's first upkeep pass after start;
    recent rows stay."""
    pg, _, a, b, _ = cluster
    now = int(time.time())
    old_event, old_audit = now - 91 * 86400, now - 366 * 86400
    # ids below every real row, as rows added in time order have; doctor's
    # marker of since when a domain's MX points here is kept for good
    pg.psql("INSERT INTO events(id, ts, kind, address, ip, detail) SELECT -g, %d, 'auth-ok', 'old@%s', '', 'x'"
            " FROM generate_series(1, 2500) g" % (old_event, DOMAIN), "yubin")
    pg.psql("INSERT INTO events(id, ts, kind, address, ip, detail) VALUES (-3000, %d, 'dns-mx-here', '%s', '',"
            " 'the MX points at this server')" % (old_event, DOMAIN), "yubin")
    pg.psql("INSERT INTO audit(id, ts, actor, op, target, summary) SELECT -g, %d, 'cli:root', 'account.add',"
            " 'old@%s', '' FROM generate_series(1, 3) g" % (old_audit, DOMAIN), "yubin")
    pg.psql("INSERT INTO auth_counters(key, bucket, cur, prev, last) VALUES ('192.0.2.99', 1, 1, 0, %d)"
            % (now - 3 * 86400), "yubin")
    recent = int(pg.psql("SELECT count(*) FROM events WHERE ts > %d" % (now - 86400), "yubin"))
    assert recent > 0
    b.restart()

    def pruned():
        return pg.psql("SELECT (SELECT count(*) FROM events WHERE ts < %d AND kind <> 'dns-mx-here')"
                       " + (SELECT count(*) FROM audit"
                       " WHERE ts < %d) + (SELECT count(*) FROM auth_counters WHERE key = '192.0.2.99')"
                       % (now - 90 * 86400, now - 365 * 86400), "yubin") == "0"
    assert wait_for(pruned, 30), b.log_tail(30)
    assert int(pg.psql("SELECT count(*) FROM events WHERE ts > %d" % (now - 86400), "yubin")) >= recent
    assert pg.psql("SELECT count(*) FROM events WHERE kind = 'dns-mx-here'", "yubin") == "1"
    # in batches of 1,000, by whichever node's pass came first
    assert "pruned 2500 old rows of events" in a.log() + b.log()
    assert "account-added" in a.ctl("security", "events", "--target", PWUSER).out


def test_compromise_signals_summed_across_nodes(cluster):
    """A stolen account spreading its mail over two nodes: new recipients
    counted on each node alone stay under abuse.new_rcpt_max, their sum
    does not."""
    pg, _, a, b, _ = cluster
    thief = "thief@" + DOMAIN
    a.add_account(thief)
    ca = submit_session(a, thief)
    ca.cmd("MAIL FROM:<%s>" % thief).expect(250)
    for i in range(3):
        ca.cmd("RCPT TO:<victim%d@remote.test>" % i).expect(250)
    cb = submit_session(b, thief)
    cb.cmd("MAIL FROM:<%s>" % thief).expect(250)
    for i in range(3, 5):
        cb.cmd("RCPT TO:<victim%d@remote.test>" % i).expect(250)
    # the 6th new recipient of the account, the 2nd... on this node
    r = cb.cmd("RCPT TO:<victim5@remote.test>")
    r.expect(550, "5.7.1")
    assert "new-recipients" in r.text, r.text
    assert pg.psql("SELECT sum(count) FROM abuse_counts WHERE address = '%s' AND kind = 'new-rcpt'"
                   % thief, "yubin") == "5"
    # the suspension holds on the other node too
    ca.cmd("RSET").expect(250)
    ca.cmd("MAIL FROM:<%s>" % thief).expect(550, "5.7.1")
    ca.quit()
    cb.quit()


def test_proxy_starts_while_postgresql_is_down(cluster, tmp_path):
    """The same for a proxy: it starts, refuses with temporary errors, and
    reaches the directory once PostgreSQL is back (its accounts here have no
    home node, so the logins are then refused for that, not the outage)."""
    pg, url, _, _, _ = cluster
    p = helpers.Server(tmp_path / "p", accounts=[], domains=(), name="yubind-p",
                       config=dict(BF, **{"server.role": "proxy", "proxy.secret": "s-" + unique("x")})).setup()
    p.ctl("config", "set", "directory.url", "-", input=url + "\n")
    pg.stop()
    try:
        p.start()
        assert imap_login(p, USER).startswith("NO [UNAVAILABLE]")
        assert pop3_login(p, USER).startswith(b"-ERR [SYS/TEMP]")
        assert 400 <= rcpt_reply(p, USER).code < 500
    finally:
        pg.start()
    try:
        assert wait_for(lambda: "directory: available again" in p.log(), 10), p.log_tail()
        rcpt_reply(p, "nobody@" + DOMAIN).expect(550, "5.1.1")
    finally:
        p.stop()
    assert p.sanitizer_report() is None
