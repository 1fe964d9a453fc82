"""yubinctl's lists through the shared operations layer (ops/ops_log.c):
security events with filters after real failed logins, suspended accounts,
and the refusals for bad filters."""
import json

import pytest

from helpers import DOMAIN, PASSWORD
from protection_util import auth_from

USER = "user@" + DOMAIN


@pytest.fixture
def srv(new_server):
    s = new_server()
    s.ctl("domain", "add", "other.test")
    s.ctl("account", "add", "o@other.test", "--password-stdin", input=PASSWORD + "\n")
    return s


def events(srv, *args):
    p = srv.ctl("security", "events", "--json", *args)
    return json.loads(p.out)


def test_events_after_failed_logins(srv):
    r, _ = auth_from(srv, "127.0.0.1", USER, "Wrong-pass-1")
    assert r.code == 535, r
    r, _ = auth_from(srv, "127.0.0.1", "o@other.test", "Wrong-pass-2")
    assert r.code == 535, r
    failed = events(srv, "--kind", "auth-failed")
    assert [e["address"] for e in failed] == ["o@other.test", USER]     # newest first
    assert all(e["ip"] == "127.0.0.1" for e in failed)
    assert [e["address"] for e in events(srv, "--kind", "auth-failed", "--domain", DOMAIN)] == [USER]
    assert [e["kind"] for e in events(srv, "--target", "O@OTHER.test", "--limit", "1")] == ["auth-failed"]
    assert events(srv, "--kind", "auth-failed", "--domain", "nowhere.test") == []
    # the text form explains each event in a sentence
    out = srv.ctl("security", "events", "--kind", "auth-failed").out
    assert "auth-failed       %s  A login from 127.0.0.1 was refused" % USER in out, out


def test_bad_filters_refused(srv):
    for args, status in ((("--limit", "0"), 2), (("--limit", "10001"), 2), (("--kind", "x;y"), 1),
                         (("--domain", "a b"), 1), (("--target", "not-an-address"), 1),
                         (("--domain", "a.test", "--domain", "b.test"), 2)):
        p = srv.ctl("security", "events", *args, check=False)
        assert p.returncode == status, (args, p.returncode, p.err)
        assert p.err.startswith("yubinctl: "), p.err


def test_suspended_list(srv):
    assert srv.ctl("security", "suspended").out == "no account's sending is suspended\n"
    assert json.loads(srv.ctl("security", "suspended", "--json").out) == []
