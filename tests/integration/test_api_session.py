"""JSON API sessions (issue 11, sections 2 and 5): logins of administrators
and mail users, the cookie's attributes, CSRF, session fixation, idle
expiry, revocation on password change, Bearer tokens with scopes and
expiry, and the error replies (language, bad JSON, content type)."""

import json
import socket
import ssl
import time

import pytest

from api_util import ADMIN, ADMIN_PW, Client, admin, api_server, domain_admin, served, user
from helpers import HOST, HOSTNAME, PASSWORD
from protection_util import events

IDLE = 3    # http.session_idle while test_idle_expiry runs, seconds (else the default)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from served(api_server(tmp_path_factory, "api_session",
                                 config={"bruteforce.ip_delay_after": 1,
                                         "bruteforce.delay_max": 2, "bruteforce.ip_block_after": 0,
                                         "bruteforce.account_delay_after": 0}))


def test_admin_login_cookie_and_session(srv):
    c = Client(srv)
    r = c.login("admin", ADMIN, ADMIN_PW)
    assert r.json["actor"] == {"role": "admin", "name": ADMIN, "domains": []}
    sc = r.headers["Set-Cookie"]
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in sc, sc
    assert len(c.cookie) == 64 and len(c.csrf) == 64
    assert r.headers["Cache-Control"] == "no-store"
    g = c.get("/api/v1/session")
    assert g.status == 200 and g.json["actor"]["role"] == "admin" and g.json["csrf"] == c.csrf
    # the directory keeps a hash of the id, never the id itself
    db = open(srv.data + "/yubin.db", "rb").read()
    assert c.cookie.encode() not in db


def test_domain_admin_and_user_login(srv):
    d = domain_admin(srv)
    assert d.get("/api/v1/session").json["actor"] == {"role": "domain_admin", "name": "dom",
                                                     "domains": ["example.test"]}
    u = user(srv, "User@Example.test")
    assert u.get("/api/v1/session").json["actor"] == {"role": "user", "name": "user@example.test",
                                                     "domains": ["example.test"]}


def test_bad_logins(srv):
    c = Client(srv)
    r = c.login("admin", ADMIN, "wrong-password", expect=401)
    assert r.code == "bad_login" and "Set-Cookie" not in r.headers
    assert c.login("admin", "nobody", ADMIN_PW, expect=401).code == "bad_login"
    assert c.login("user", "user@example.test", "wrong-password", expect=401).code == "bad_login"
    assert c.login("user", "nobody@example.test", PASSWORD, expect=401).code == "bad_login"
    assert c.login("user", "no-at-sign", PASSWORD, expect=401).code == "bad_login"
    r = c.post("/api/v1/session", {"kind": "root", "password": "x"})
    assert r.status == 400 and r.code == "invalid_field"
    r = c.post("/api/v1/session", {"kind": "admin", "name": ADMIN, "password": ADMIN_PW, "x": 1})
    assert r.status == 400 and r.code == "unknown_field"
    r = c.post("/api/v1/session", {"kind": "admin", "name": ADMIN, "password": 5})
    assert r.status == 400 and r.json["error"]["field"] == "password"


def test_not_logged_in(srv):
    c = Client(srv)
    for method, path in (("GET", "/api/v1/session"), ("GET", "/api/v1/domains"),
                         ("GET", "/api/v1/accounts/user@example.test"),
                         ("DELETE", "/api/v1/session")):
        r = c.request(method, path)
        assert r.status == 401 and r.code == "not_logged_in", (method, path, r)
    c.cookie = "0" * 64
    assert c.get("/api/v1/session").code == "not_logged_in"
    c.cookie = "garbage;"
    assert c.get("/api/v1/session").code == "not_logged_in"


def test_csrf(srv):
    c = admin(srv)
    body = {"name": "csrf.test"}
    r = c.post("/api/v1/domains", body, csrf=False)
    assert r.status == 403 and r.code == "csrf"
    r = c.post("/api/v1/domains", body, headers={"X-CSRF-Token": "0" * 64})
    assert r.status == 403 and r.code == "csrf"
    r = c.post("/api/v1/domains", body, headers={"X-CSRF-Token": c.csrf[:-1]})
    assert r.status == 403 and r.code == "csrf"
    # the token of another session does not do
    other = admin(srv)
    r = c.post("/api/v1/domains", body, headers={"X-CSRF-Token": other.csrf})
    assert r.status == 403 and r.code == "csrf"
    # a cross-origin page, even with the right token
    r = c.post("/api/v1/domains", body, headers={"Origin": "https://evil.test"})
    assert r.status == 403 and r.code == "csrf"
    r = c.post("/api/v1/session", {"kind": "admin", "name": ADMIN, "password": ADMIN_PW},
               headers={"Origin": "https://evil.test"})
    assert r.status == 403 and r.code == "csrf"
    assert "csrf.test" not in [d["name"] for d in c.get("/api/v1/domains").json["domains"]]
    # the same origin, with the token: done
    origin = "https://%s:%d" % (HOSTNAME, srv.port("https"))
    r = c.post("/api/v1/domains", body, headers={"Origin": origin})
    assert r.status == 201, r
    # GET needs no token
    assert c.get("/api/v1/domains", csrf=False).status == 200


def test_session_fixation(srv):
    """A session id presented at login is never kept: the login makes a new
    one and ends the old."""
    planted = admin(srv)
    old = planted.cookie
    victim = Client(srv)
    victim.cookie = old
    victim.login("admin", ADMIN, ADMIN_PW)
    assert victim.cookie != old
    stale = Client(srv)
    stale.cookie = old
    r = stale.get("/api/v1/session")
    assert r.status == 401 and r.code == "not_logged_in"
    # an id made up by an attacker is not taken either
    made_up = Client(srv)
    made_up.cookie = "a" * 64
    made_up.login("user", "user@example.test", PASSWORD)
    assert made_up.cookie != "a" * 64


def test_logout(srv):
    c = admin(srv)
    r = c.request("DELETE", "/api/v1/session", csrf=False)
    assert r.status == 403 and r.code == "csrf"
    r = c.request("DELETE", "/api/v1/session")
    assert r.status == 204
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert c.get("/api/v1/session").status == 401


def test_password_change_ends_other_sessions(srv):
    srv.add_account("pw@example.test")
    a = user(srv, "pw@example.test")
    b = user(srv, "pw@example.test")
    other = user(srv)
    r = a.post("/api/v1/accounts/pw@example.test/password", {"current": "wrong-one-1", "password": "New-pass-456"})
    assert r.status == 400 and r.json["error"]["field"] == "current", r
    r = a.post("/api/v1/accounts/pw@example.test/password", {"password": "New-pass-456"})
    assert r.status >= 400
    r = a.post("/api/v1/accounts/pw@example.test/password", {"current": PASSWORD, "password": "New-pass-456"})
    assert r.status == 204, r
    assert a.get("/api/v1/session").status == 200          # its own stays
    assert b.get("/api/v1/session").code == "not_logged_in"
    assert other.get("/api/v1/session").status == 200      # another user's stays
    Client(srv).login("user", "pw@example.test", PASSWORD, expect=401)
    Client(srv).login("user", "pw@example.test", "New-pass-456")
    # an administrator's change ends every session of the account
    c = user(srv, "pw@example.test", "New-pass-456")
    r = admin(srv).post("/api/v1/accounts/pw@example.test/password", {"password": "Third-pass-789"})
    assert r.status == 204, r
    assert c.get("/api/v1/session").status == 401
    assert a.get("/api/v1/session").status == 401


def test_admin_password_change_and_delete_end_sessions(srv):
    srv.ctl("admin", "add", "temp", "--role", "server", "--password-stdin", input=ADMIN_PW + "\n")
    t = Client(srv)
    t.login("admin", "temp", ADMIN_PW)
    srv.ctl("admin", "passwd", "temp", "--password-stdin", input="Other-pass-123\n")
    assert t.get("/api/v1/session").status == 401
    t.login("admin", "temp", "Other-pass-123")
    srv.ctl("admin", "del", "temp")
    assert t.get("/api/v1/session").status == 401


def test_account_delete_and_disable_end_sessions(srv):
    srv.add_account("gone@example.test")
    srv.add_account("off@example.test")
    g = user(srv, "gone@example.test")
    o = user(srv, "off@example.test")
    a = admin(srv)
    assert a.request("DELETE", "/api/v1/accounts/gone@example.test").status == 200
    assert g.get("/api/v1/session").status == 401
    r = a.request("PATCH", "/api/v1/accounts/off@example.test", {"enabled": False})
    assert r.status == 200 and r.json["account"]["enabled"] is False
    assert o.get("/api/v1/session").status == 401
    Client(srv).login("user", "off@example.test", PASSWORD, expect=401)


def test_idle_expiry(srv):
    # a short idle time for this test only (a live setting): the others'
    # sessions must not end while a loaded machine runs them slowly
    srv.ctl("config", "set", "http.session_idle", str(IDLE))
    try:
        c = admin(srv)
        keep = admin(srv)
        assert c.get("/api/v1/session").status == 200
        deadline = time.time() + IDLE + 1.5
        # one session stays in use, the other idles past http.session_idle
        while time.time() < deadline:
            assert keep.get("/api/v1/session").status == 200
            time.sleep(0.5)
        r = c.get("/api/v1/session")
        assert r.status == 401 and r.code == "not_logged_in"
        assert keep.get("/api/v1/session").status == 200
    finally:
        srv.ctl("config", "set", "http.session_idle", "1800")


def test_tokens(srv):
    out = srv.ctl("token", "create", "--role", "domain", "--domain", "example.test", "--expires", "1d").out
    tok = [w for w in out.split() if w.startswith("yubin_")][0]
    t = Client(srv)
    t.token = tok
    r = t.get("/api/v1/session")
    assert r.status == 200 and r.json["actor"]["role"] == "domain_admin" and r.json["csrf"] == ""
    assert t.get("/api/v1/domains/example.test/accounts").status == 200
    r = t.get("/api/v1/domains/other.test/accounts")
    assert r.status == 403 and r.code == "forbidden"
    # no CSRF header needed for a token
    r = t.request("PATCH", "/api/v1/accounts/user@example.test", {"memo": "by token"})
    assert r.status == 200, r
    r = t.request("PATCH", "/api/v1/accounts/alien@other.test", {"memo": "by token"})
    assert r.status == 403
    # wrong, revoked, malformed
    bad = Client(srv)
    bad.token = tok[:-1] + ("0" if tok[-1] != "0" else "1")
    assert bad.get("/api/v1/session").code == "bad_token"
    r = Client(srv).get("/api/v1/session", headers={"Authorization": "Basic abc"})
    assert r.status == 401 and r.code == "bad_token"
    tid = tok.split("_")[1]
    srv.ctl("token", "revoke", tid)
    assert t.get("/api/v1/session").code == "bad_token"


def test_token_expiry(srv):
    out = srv.ctl("token", "create", "--role", "server", "--expires", "2s").out
    tok = [w for w in out.split() if w.startswith("yubin_")][0]
    t = Client(srv)
    t.token = tok
    assert t.get("/api/v1/domains").status == 200
    time.sleep(3)
    r = t.get("/api/v1/domains")
    assert r.status == 401 and r.code == "bad_token"


def test_errors_language_json_content_type(srv):
    c = admin(srv)
    r = c.post("/api/v1/domains", raw=b'{"name": "x.test",}')
    assert r.status == 400 and r.code == "bad_json"
    r = c.post("/api/v1/domains", raw=b'{"name": "\xff"}')
    assert r.status == 400 and r.code == "bad_json"
    r = c.post("/api/v1/domains", raw=b'{"name": "a", "name": "b"}')
    assert r.status == 400 and r.code == "bad_json"
    r = c.post("/api/v1/domains", raw=b'["x.test"]')
    assert r.status == 400 and r.code == "bad_json"
    r = c.post("/api/v1/domains", raw=b'name=x.test', content_type="application/x-www-form-urlencoded")
    assert r.status == 415 and r.code == "unsupported_media_type"
    r = c.post("/api/v1/domains", raw=b'{"name": "x.test"}', content_type="text/plain")
    assert r.status == 415
    r = c.post("/api/v1/domains", raw=b'{"name": "x.test"}', content_type=None)
    assert r.status == 415
    r = c.post("/api/v1/domains", raw=b'{"name": "ct.test"}', content_type="application/json; charset=utf-8")
    assert r.status == 201, r
    # language: ?lang= wins, then Accept-Language by q-value, else English
    r = c.get("/api/v1/accounts/nobody@example.test?lang=ja")
    assert r.status == 404 and r.json["error"]["field"] == "address"
    ja = r.json["error"]["message"]
    assert any(ord(ch) > 0x3000 for ch in ja), ja
    r = c.get("/api/v1/accounts/nobody@example.test", headers={"Accept-Language": "en;q=0.5, ja;q=0.9"})
    assert r.json["error"]["message"] == ja
    r = c.get("/api/v1/accounts/nobody@example.test", headers={"Accept-Language": "ja;q=0.4, en-US"})
    assert r.json["error"]["message"] != ja and "nobody@example.test" in r.json["error"]["message"]
    r = c.get("/api/v1/accounts/nobody@example.test", headers={"Accept-Language": "fr-FR,fr;q=0.9,  ja-JP;q=0.8, en;q=0.7"})
    assert r.json["error"]["message"] == ja
    r = c.get("/api/v1/accounts/nobody@example.test?lang=en", headers={"Accept-Language": "ja"})
    assert r.json["error"]["message"] != ja
    # empty pairs in the query are skipped, not a malformed query
    r = c.get("/api/v1/accounts/nobody@example.test?&lang=ja&")
    assert r.status == 404 and r.json["error"]["message"] == ja
    # unknown routes and methods under /api/ are JSON too
    r = c.get("/api/v1/nothing")
    assert r.status == 404 and r.code == "not_found"
    r = c.request("PUT", "/api/v1/domains", {"name": "x"})
    assert r.status == 405 and r.code == "method_not_allowed"
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]


def test_client_gone_while_job_runs(srv):
    """The client closes its connection while its request is on a worker
    or waiting out the brute-force delay: the reply goes nowhere, the
    request is freed once (the sanitizer run checks) and the daemon goes on
    serving."""
    for _ in range(2):
        Client(srv).login("user", "user@example.test", "wrong-password", expect=401)
    before = len(events(srv, "auth-failed", "user@example.test"))
    c = ssl.create_default_context(cafile=srv.crt)
    body = json.dumps({"kind": "user", "address": "user@example.test", "password": "wrong-again"}).encode()
    for _ in range(3):
        s = c.wrap_socket(socket.create_connection((HOST, srv.port("https")), timeout=10),
                          server_hostname=HOSTNAME)
        s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        s.close()
    # a fourth waits at least as long as they do (the delay only grows), so
    # when its answer is here theirs have been sent into closed connections
    r = Client(srv).login("user", "user@example.test", "wrong-again", expect=401)
    assert r.code == "bad_login"
    # the three went through the login check: their jobs ran
    assert len(events(srv, "auth-failed", "user@example.test")) == before + 4
    assert Client(srv).get("/api/v1/openapi.json").status == 200
    user(srv)


def test_foreign_auth_web(srv):
    """A mail user's panel login from abroad is refused when the domain
    restricts logins (foreign-auth) and includes the web (foreign-auth-web);
    administrators are not mail users and are not restricted."""
    srv.ctl("geoip", "override", "add", "127.0.0.2/32", "US")
    abroad = Client(srv)
    abroad.source = "127.0.0.2"
    a = admin(srv)
    abroad.login("user", "second@example.test", PASSWORD)             # foreign-auth-web off
    r = a.request("PUT", "/api/v1/domains/example.test/settings/foreign-auth-web", {"value": "on"})
    assert r.status == 200, r
    r = abroad.login("user", "second@example.test", PASSWORD, expect=403)
    assert r.code == "foreign_blocked" and "Set-Cookie" not in r.headers
    r = abroad.post("/api/v1/session?lang=ja", {"kind": "user", "address": "second@example.test",
                                                "password": PASSWORD})
    assert r.code == "foreign_blocked" and "海外" in r.json["error"]["message"]
    user(srv, "second@example.test")                                   # from home: fine
    abroad.login("admin", ADMIN, ADMIN_PW)
    a.request("PUT", "/api/v1/domains/example.test/settings/foreign-auth", {"value": "off"})
    abroad.login("user", "second@example.test", PASSWORD)
    a.request("PUT", "/api/v1/domains/example.test/settings/foreign-auth", {"value": "on"})
    a.request("PUT", "/api/v1/domains/example.test/settings/foreign-auth-web", {"value": "off"})


def test_admin_logins_under_bruteforce_defence(tmp_path_factory):
    """Administrators' failed logins count against the client address like
    mail logins: recorded, and past bruteforce.ip_block_after the address
    is blocked (429 rate_limited, also for a right password) until the
    operator lifts it."""
    s = api_server(tmp_path_factory, "api_bf", config={"bruteforce.ip_delay_after": 100,
                                                      "bruteforce.ip_block_after": 3})
    try:
        c = Client(s)
        for _ in range(3):
            c.login("admin", ADMIN, "wrong-password", expect=401)
        fails = events(s, "auth-failed", ADMIN)
        assert len(fails) == 3 and "web login refused" in fails[0][2], fails
        r = c.login("admin", ADMIN, ADMIN_PW, expect=429)
        assert r.code == "rate_limited"
        r = c.login("user", "user@example.test", PASSWORD, expect=429)
        s.ctl("security", "unblock", HOST)
        c.login("admin", ADMIN, ADMIN_PW)
    finally:
        s.stop()
    rep = s.sanitizer_report()
    assert not rep, rep
