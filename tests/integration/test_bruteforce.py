"""The brute-force defence (issue 5): failed logins from one address are
slowed, then blocked; the real user on another address still logs in
(and is not slowed, having logged in from there before); yubinctl
security list|unblock, seen by the daemon without a restart."""

import json
import time

import pytest

from helpers import DOMAIN, PASSWORD
from protection_util import auth_from, events, pop3_login_from
from test_metrics import scrape, value

USER = "user@" + DOMAIN
LIMITS = {
    "bruteforce.ip_delay_after": "2",
    "bruteforce.ip_block_after": "5",
    "bruteforce.delay_max": "2",
    "bruteforce.block_time": "120",
    "bruteforce.account_delay_after": "3",
}


@pytest.fixture
def srv(new_server):
    return new_server(config=LIMITS)


def baseline(srv, n=3):
    """The slowest of n undelayed logins from the user's known address: a
    reply counts as slowed only when it takes the brute-force delay longer
    than this, so a busy machine or the sanitizer build (both slow every
    login, the password hash most) does not look like a delay. Delays are
    whole seconds; "not slowed" allows half of the delay it would get."""
    took = []
    for _ in range(n):
        r, t = auth_from(srv, "127.0.0.1", USER)
        r.expect(235)
        took.append(t)
    return max(took)


def delayed(srv):
    """Login replies the brute-force delay held back so far (the metric):
    exact where a reply's time is not (a busy machine slows every reply)."""
    return value(scrape(srv), "yubin_auth_blocks_total", kind="delayed")


def attack(srv, source, n, user=USER):
    replies = []
    for i in range(n):
        r, took = auth_from(srv, source, user, "Wrong-pass-%03d" % i)
        replies.append((r, took))
    return replies


def test_block_one_address_not_the_user(srv):
    # the real user has logged in from 127.0.0.1 before
    base = baseline(srv)

    replies, held = [], []
    for i in range(5):
        r, t = auth_from(srv, "127.0.0.3", USER, "Wrong-pass-%03d" % i)
        r.expect(535, "5.7.8")
        replies.append((r, t))
        held.append(delayed(srv))
    # failure replies slow down after ip_delay_after failures: 1 s, then 2 s
    took = [round(t, 2) for _, t in replies]
    assert held == [0, 0, 1, 2, 3] and took[2] >= 0.9 and took[3] >= 1.8, (held, took)

    # now blocked, even with the right password
    r, took = auth_from(srv, "127.0.0.3", USER)
    r.expect(454, "4.7.0")
    assert "Too many failed logins from 127.0.0.3" in r.text and "blocked until" in r.text, r
    assert pop3_login_from(srv, "127.0.0.3", USER).startswith(b"-ERR [SYS/TEMP] Too many failed logins")
    blocks = events(srv, "auth-block")
    assert len(blocks) == 1 and blocks[0][1] == "127.0.0.3" and "5 failed logins" in blocks[0][2], blocks
    assert events(srv, "auth-refused", USER)

    # the real user, on their own network, is neither blocked nor slowed
    # (5 failures: the account's delay for a new address would be 2 s)
    before = delayed(srv)
    r, took = auth_from(srv, "127.0.0.1", USER)
    r.expect(235)
    assert delayed(srv) == before, (base, took)
    assert pop3_login_from(srv, "127.0.0.1", USER).startswith(b"+OK")

    listing = srv.ctl("security", "list").out
    assert "blocked" in listing and "127.0.0.3" in listing, listing
    js = json.loads(srv.ctl("security", "list", "--json").out)
    assert {"127.0.0.3", USER} <= {b["key"] for b in js}, js
    p = srv.ctl("doctor", USER, check=False)
    doc = p.out
    assert p.returncode == 1, doc  # the block is a FAIL
    assert "logins from 127.0.0.3 are blocked until" in doc and "security unblock 127.0.0.3" in doc, doc

    # unblock: seen at the next login, no restart
    out = srv.ctl("security", "unblock", "127.0.0.3").out
    assert "127.0.0.3 unblocked" in out, out
    auth_from(srv, "127.0.0.3", USER)[0].expect(235)
    assert events(srv, "auth-unblock")
    assert "not blocked" in srv.ctl("security", "unblock", "127.0.0.3").out


def test_account_under_attack_is_slowed_not_locked(srv):
    base = baseline(srv)
    # failures spread over addresses: no address is blocked, the account is
    # slowed (5 failures, account_delay_after 3: 2 s)
    attack(srv, "127.0.0.3", 2)
    attack(srv, "127.0.0.5", 2)
    attack(srv, "127.0.0.8", 1)
    assert events(srv, "auth-throttle", USER)
    assert not events(srv, "auth-block")

    # a new address still gets in, only later
    r, took = auth_from(srv, "127.0.0.6", USER)
    r.expect(235)
    assert took >= 1.9, took
    # a known address is not slowed by attacks from elsewhere
    before = delayed(srv)
    r, took = auth_from(srv, "127.0.0.1", USER)
    r.expect(235)
    assert delayed(srv) == before, (base, took)

    listing = srv.ctl("security", "list").out
    assert "slowed" in listing and USER in listing, listing
    srv.ctl("security", "unblock", USER)
    before = delayed(srv)
    r, took = auth_from(srv, "127.0.0.7", USER)
    r.expect(235)
    assert delayed(srv) == before, (base, took)


def test_bad_unblock_argument(srv):
    p = srv.ctl("security", "unblock", "not-an-address", check=False)
    assert p.returncode == 1 and "neither an IP address nor a mail address" in p.err, p.err
