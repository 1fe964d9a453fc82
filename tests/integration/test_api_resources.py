"""JSON API resources (issue 11, section 2): domains, accounts and settings
with every role, including the wrong one (a domain administrator of another
domain, a mail user on another user), all-or-nothing bulk adds and
changes, paging and search, CSV export, and free text (memo) with markup
returned as JSON data."""

import csv
import io
import json

import pytest

from api_util import Client, admin, api_server, domain_admin, served, user
from helpers import PASSWORD

A = "/api/v1/accounts/"
D = "/api/v1/domains/"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from served(api_server(tmp_path_factory, "api_res"))


@pytest.fixture(scope="module")
def who(srv):
    """One client per role: S server admin, D example.test's admin, D2
    other.test's admin, U user@example.test, U2 second@example.test."""
    return {"S": admin(srv), "D": domain_admin(srv), "D2": domain_admin(srv, "otherdom"),
            "U": user(srv), "U2": user(srv, "second@example.test")}


def expect(who, roles_ok, method, path, body=None, ok=(200,), setup=None):
    """Runs the request as each role: the roles in roles_ok get a status in
    ok, the others 403 forbidden (401 never: they are logged in)."""
    for role, c in who.items():
        if setup is not None:
            setup()
        r = c.request(method, path, body)
        if role in roles_ok:
            assert r.status in ok, (role, method, path, r)
        else:
            assert r.status == 403 and r.code == "forbidden", (role, method, path, r)


def test_schema(who):
    for c in who.values():
        r = c.get("/api/v1/settings/schema")
        assert r.status == 200
    keys = {s["key"]: s for s in r.json["settings"]}
    assert keys["foreign-auth"]["type"] == "bool" and keys["foreign-auth"]["scopes"] == ["domain"]
    assert keys["foreign-auth-web"]["default"] == "off"
    assert "ja" in keys["forward"]["help"] and "account" in keys["forward"]["scopes"]
    assert keys["sender-policy"]["choices"] == ["strict", "domain", "off"]
    assert keys["trash-expire-days"]["min"] == 0 and keys["trash-expire-days"]["max"] == 3650
    assert "hostname" not in keys      # server settings are not domain or account ones


def test_domains(srv, who):
    r = who["S"].get("/api/v1/domains")
    names = [d["name"] for d in r.json["domains"]]
    assert "example.test" in names and "other.test" in names
    ex = [d for d in r.json["domains"] if d["name"] == "example.test"][0]
    assert ex["accounts"] >= 2
    assert [d["name"] for d in who["D"].get("/api/v1/domains").json["domains"]] == ["example.test"]
    assert [d["name"] for d in who["D2"].get("/api/v1/domains").json["domains"]] == ["other.test"]
    for u in ("U", "U2"):
        assert who[u].get("/api/v1/domains").status == 403
    expect(who, "S", "POST", "/api/v1/domains", {"name": "New.Test"}, ok=(201, 409))
    r = who["S"].post("/api/v1/domains", {"name": "new.test"})
    assert r.status == 409 and r.code == "exists"
    r = who["S"].post("/api/v1/domains", {"name": "bad domain"})
    assert r.status == 400 and r.code.startswith("invalid") and r.json["error"]["field"] == "name", r
    who["S"].post(D + "new.test/accounts", {"address": "a@new.test", "password": PASSWORD})
    r = who["S"].request("DELETE", D + "new.test")
    assert r.status == 409 and r.code == "not_empty"
    for role in ("D", "D2", "U"):
        assert who[role].request("DELETE", D + "new.test?force=1").status == 403
    r = who["S"].request("DELETE", D + "new.test?force=1")
    assert r.status == 200 and r.json["deleted"] == {"name": "new.test", "accounts": 1, "mail_left": False}
    assert who["S"].request("DELETE", D + "new.test").status == 404


def test_account_add_get_and_roles(srv, who):
    body = {"address": "added@example.test", "password": PASSWORD, "quota_mb": 100, "memo": "m"}
    r = who["D"].post(D + "example.test/accounts", body)
    assert r.status == 201, r
    assert r.json["account"] == {"address": "added@example.test", "quota_mb": 100, "used_bytes": 0,
                                 "memo": "m", "enabled": True, "suspended": False}
    assert who["D"].post(D + "example.test/accounts", body).code == "exists"
    for role in ("D2", "U", "U2"):
        body["address"] = role.lower() + "@example.test"
        r = who[role].post(D + "example.test/accounts", body)
        assert r.status == 403, (role, r)
    r = who["S"].post(D + "example.test/accounts", {"address": "x@other.test", "password": PASSWORD})
    assert r.status == 400 and r.json["error"]["field"] == "address"
    r = who["S"].post(D + "example.test/accounts", {"address": "q@example.test", "password": PASSWORD,
                                                     "quota_mb": 999999})
    assert r.status == 400 and r.json["error"]["field"] == "quota_mb", r
    r = who["S"].post(D + "example.test/accounts", {"address": "q@example.test", "password": "short"})
    assert r.status == 400 and r.code == "invalid_password"
    expect(who, ("S", "D", "U"), "GET", A + "user@example.test")
    expect(who, ("S", "D2"), "GET", A + "alien@other.test")
    # a domain administrator cannot tell whether another domain's account exists
    r = who["D"].get(A + "nobody@other.test")
    assert r.status == 403
    assert who["S"].get(A + "nobody@example.test").status == 404
    assert who["S"].get(A + "not-an-address").status == 400
    assert who["S"].get(A + "user%40example.test").json["account"]["address"] == "user@example.test"


def test_list_paging_search_csv(srv, who):
    for i in range(5):
        srv.add_account("page%d@example.test" % i)
    who["S"].request("PATCH", A + "page3@example.test", {"memo": "Findme Tanaka"})
    r = who["D"].get(D + "example.test/accounts?q=page&offset=1&limit=2")
    assert r.status == 200 and r.json["total"] == 5
    assert [a["address"] for a in r.json["accounts"]] == ["page1@example.test", "page2@example.test"]
    r = who["D"].get(D + "example.test/accounts?q=TANAKA")
    assert [a["address"] for a in r.json["accounts"]] == ["page3@example.test"]
    r = who["D"].get(D + "example.test/accounts?limit=0")
    assert r.json["accounts"] == [] and r.json["total"] >= 7
    for bad in ("limit=-1", "limit=1001", "offset=x", "limit="):
        r = who["D"].get(D + "example.test/accounts?" + bad)
        assert r.status == 400 and r.code == "invalid_field", bad
    expect(who, ("S", "D"), "GET", D + "example.test/accounts")
    expect(who, ("S", "D2"), "GET", D + "other.test/accounts")
    assert who["S"].get(D + "nosuch.test/accounts").status == 404
    assert who["D"].get(D + "nosuch.test/accounts").status == 403
    # usage comes from the mailbox
    srv.ctl("account", "quota", "page0@example.test", "50", check=False)
    r = who["S"].get(D + "example.test/accounts.csv")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.raw.decode())))
    assert rows[0] == ["address", "quota_mb", "used_bytes", "memo", "enabled", "suspended"]
    assert ["page3@example.test", "2000", "0", "Findme Tanaka", "yes", "no"] in rows
    expect(who, ("S", "D"), "GET", D + "example.test/accounts.csv")


def test_bulk_all_or_nothing(srv, who):
    text = "b1@example.test,%s,100,first\nb2@example.test,short,100,bad password\nb3@example.test,%s,,\n" % (
        PASSWORD, PASSWORD)
    r = who["D"].post(D + "example.test/accounts/bulk", {"text": text})
    assert r.status == 400 and r.json["error"]["line"] == 2, r
    for a in ("b1", "b2", "b3"):
        assert who["S"].get(A + a + "@example.test").status == 404
    # an address of another domain is named too
    r = who["D"].post(D + "example.test/accounts/bulk",
                      {"text": "b1@example.test,%s,,\n\n#c\nb9@other.test,%s,," % (PASSWORD, PASSWORD)})
    assert r.status == 400 and r.json["error"]["line"] == 4 and r.json["error"]["field"] == "text", r
    assert who["S"].get(A + "b1@example.test").status == 404
    r = who["D2"].post(D + "example.test/accounts/bulk", {"text": "b1@example.test,%s,," % PASSWORD})
    assert r.status == 403
    r = who["D"].post(D + "example.test/accounts/bulk", {"text": text.replace(",short,", ",%s," % PASSWORD)})
    assert r.status == 200 and r.json == {"added": 3}, r
    assert who["S"].get(A + "b3@example.test").json["account"]["quota_mb"] == 2000
    r = who["D"].post(D + "example.test/accounts/bulk", {"text": 5})
    assert r.status == 400 and r.json["error"]["field"] == "text"


def test_patch_all_or_nothing_and_xss(srv, who):
    srv.add_account("patch@example.test")
    r = who["D"].request("PATCH", A + "patch@example.test", {"quota_mb": 300, "memo": "bad\nmemo"})
    assert r.status == 400, r
    acct = who["S"].get(A + "patch@example.test").json["account"]
    assert acct["quota_mb"] == 2000 and acct["memo"] == ""
    r = who["D"].request("PATCH", A + "patch@example.test", {"quota_mb": 0, "enabled": False})
    assert r.status == 400 and r.json["error"]["field"] == "quota_mb", r
    r = who["D"].request("PATCH", A + "patch@example.test", {"quota_mb": 999999})
    assert r.status == 400 and r.json["error"]["field"] == "quota_mb", r
    assert who["S"].get(A + "patch@example.test").json["account"]["enabled"] is True
    xss = "<script>alert(\"x\")</script><img src=x onerror=alert(1)>'&"
    r = who["D"].request("PATCH", A + "patch@example.test", {"quota_mb": 300, "memo": xss, "enabled": False})
    assert r.status == 200 and r.json["account"]["memo"] == xss and r.json["account"]["quota_mb"] == 300
    r = who["S"].get(A + "patch@example.test")
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert b'\\"x\\"' in r.raw and r.json["account"]["memo"] == xss
    r = who["S"].get(D + "example.test/accounts?q=patch")
    assert r.json["accounts"][0]["memo"] == xss
    # a spreadsheet does not take it for a formula
    who["S"].request("PATCH", A + "patch@example.test", {"memo": "=HYPERLINK(\"x\")"})
    rows = list(csv.reader(io.StringIO(who["S"].get(D + "example.test/accounts.csv").raw.decode())))
    assert [r for r in rows if r[0] == "patch@example.test"][0][3] == "'=HYPERLINK(\"x\")"
    expect(who, ("S", "D"), "PATCH", A + "patch@example.test", {"memo": "ok"})
    r = who["S"].request("PATCH", A + "patch@example.test", {"quota": 5})
    assert r.status == 400 and r.code == "unknown_field"
    r = who["S"].request("PATCH", A + "patch@example.test", {"enabled": "yes"})
    assert r.status == 400 and r.json["error"]["field"] == "enabled"


def test_password_roles(srv, who):
    srv.add_account("pwr@example.test")
    for role in ("D2", "U", "U2"):
        r = who[role].post(A + "pwr@example.test/password", {"current": PASSWORD, "password": "Another-pw-1"})
        assert r.status == 403, (role, r)
    assert who["D"].post(A + "pwr@example.test/password", {"password": "Another-pw-1"}).status == 204
    r = who["S"].post(A + "pwr@example.test/password", {"password": "x"})
    assert r.status == 400 and r.code == "invalid_password"


def test_unsuspend_and_delete(srv, who):
    srv.add_account("del@example.test")
    expect(who, ("S", "D"), "POST", A + "del@example.test/unsuspend")
    r = who["S"].post(A + "del@example.test/unsuspend")
    assert r.json == {"lifted": False}
    for role in ("D2", "U", "U2"):
        assert who[role].request("DELETE", A + "del@example.test").status == 403
    r = who["D"].request("DELETE", A + "del@example.test")
    assert r.status == 200 and r.json["deleted"]["address"] == "del@example.test"
    assert who["D"].request("DELETE", A + "del@example.test").status == 404
    u = user(srv, "second@example.test")
    assert u.request("DELETE", A + "second@example.test").status == 403


def test_settings(srv, who):
    expect(who, ("S", "D"), "GET", D + "example.test/settings")
    r = who["D"].get(D + "example.test/settings")
    fa = [s for s in r.json["settings"] if s["key"] == "foreign-auth"][0]
    assert fa == {"key": "foreign-auth", "value": "on", "default": "on", "set": False}
    r = who["D"].request("PUT", D + "example.test/settings/foreign-auth", {"value": "no"})
    assert r.status == 200 and r.json == {"key": "foreign-auth", "value": "off", "warning": None}
    fa = [s for s in who["D"].get(D + "example.test/settings").json["settings"] if s["key"] == "foreign-auth"][0]
    assert fa["value"] == "off" and fa["set"] is True
    r = who["D"].request("PUT", D + "example.test/settings/foreign-auth-allow", {"value": "0.0.0.0/4"})
    assert r.status == 200 and r.json["warning"], r
    r = who["D"].request("PUT", D + "example.test/settings/foreign-auth", {"value": "maybe"})
    assert r.status == 400 and r.json["error"]["field"] == "value" and "foreign-auth" in r.json["error"]["message"], r
    r = who["D"].request("PUT", D + "example.test/settings/no-such-key", {"value": "1"})
    assert r.status == 400 and r.code == "unknown_setting"
    expect(who, ("S", "D"), "PUT", D + "example.test/settings/foreign-auth-web", {"value": "on"})
    expect(who, ("S", "D2"), "PUT", D + "other.test/settings/batv", {"value": "off"})
    # account settings: the user reads its own, sets only its forwarding
    expect(who, ("S", "D", "U"), "GET", A + "user@example.test/settings")
    r = who["U"].get(A + "user@example.test/settings")
    keys = {s["key"]: s for s in r.json["settings"]}
    assert keys["enabled"]["value"] == "on" and "forward" in keys
    r = who["U"].request("PUT", A + "user@example.test/settings/forward", {"value": "away@elsewhere.test"})
    assert r.status == 200 and r.json["value"] == "away@elsewhere.test", r
    r = who["U"].request("PUT", A + "user@example.test/settings/forward-keep", {"value": "on"})
    assert r.status == 200, r
    r = who["U"].request("PUT", A + "user@example.test/settings/send-limit-hour", {"value": "9999"})
    assert r.status == 403
    expect(who, ("S", "D"), "PUT", A + "user@example.test/settings/send-limit-hour", {"value": "100"})
    for role in ("D2", "U2"):
        r = who[role].request("PUT", A + "user@example.test/settings/forward", {"value": ""})
        assert r.status == 403, role
    r = who["S"].request("PUT", A + "user@example.test/settings/forward", {"value": 5})
    assert r.status == 400 and r.json["error"]["field"] == "value"
    # a memo refused by its own check is named as the request's value too
    r = who["S"].request("PUT", A + "user@example.test/settings/memo", {"value": "bad\nmemo"})
    assert r.status == 400 and r.json["error"]["field"] == "value", r


def test_setting_delete_returns_to_inherited(srv, who):
    """DELETE of a setting removes the own value: an account follows its
    domain again, a domain the default; a user only its own spam setting."""
    S, Dc, U = who["S"], who["D"], who["U"]
    assert Dc.request("PUT", D + "example.test/settings/spam-level", {"value": "5"}).status == 200
    assert U.request("PUT", A + "user@example.test/settings/spam-level", {"value": "2"}).status == 200

    def level(c, path):
        return [s for s in c.get(path + "/settings").json["settings"] if s["key"] == "spam-level"][0]

    assert level(U, A + "user@example.test") == {"key": "spam-level", "value": "2", "default": "3", "set": True}
    r = U.request("DELETE", A + "user@example.test/settings/spam-level")
    assert r.status == 200 and r.json == {"key": "spam-level", "value": "5", "removed": True}, r
    assert level(U, A + "user@example.test")["set"] is False
    r = U.request("DELETE", A + "user@example.test/settings/spam-level")
    assert r.status == 200 and r.json["removed"] is False
    r = Dc.request("DELETE", D + "example.test/settings/spam-level")
    assert r.status == 200 and r.json == {"key": "spam-level", "value": "3", "removed": True}, r
    assert level(U, A + "user@example.test")["value"] == "3"
    # the same scope rules as PUT
    assert U.request("DELETE", A + "user@example.test/settings/send-limit-hour").status == 403
    for role in ("D2", "U2"):
        assert who[role].request("DELETE", A + "user@example.test/settings/spam").status == 403, role
    assert who["D2"].request("DELETE", D + "example.test/settings/spam").status == 403
    r = S.request("DELETE", A + "user@example.test/settings/memo")
    assert r.status == 400 and r.code == "invalid_value", r
    r = S.request("DELETE", D + "example.test/settings/no-such-key")
    assert r.status == 400 and r.code == "unknown_setting"
    r = S.request("DELETE", A + "nobody@example.test/settings/spam")
    assert r.status == 404, r
    rows = [e for e in S.get("/api/v1/audit?address=user@example.test").json["audit"]
            if e["operation"] == "setting.unset"]
    assert rows and "spam-level" in rows[0]["summary"], rows


def test_sieve_scripts(srv, who):
    """An account's Sieve scripts over the API: the same rules as
    ManageSieve and yubinctl (ops_sieve.c), each role in its scope."""
    from urllib.parse import quote
    U, path = who["U"], A + "user@example.test/sieve"
    ja = "/" + quote("振り分け")
    r = U.request("PUT", path + ja, {"script": 'require "fileinto";\nfileinto "Work";\n', "activate": True})
    assert r.status == 200 and r.json == {"name": "振り分け", "size": 37, "active": True}, r
    r = U.get(path)
    assert r.json == {"scripts": [{"name": "振り分け", "size": 37, "active": True}]}, r
    r = U.get(path + ja)
    assert r.json["script"].startswith("require") and r.json["active"] is True
    r = U.request("PUT", path + "/bad", {"script": "keep;\nif true {\n"})
    assert r.status == 400 and r.code == "invalid_script" and r.json["error"]["line"] == 3, r
    r = U.request("PUT", path + "/a%09b", {"script": "keep;"})
    assert r.status == 400 and r.code == "invalid_name", r
    r = U.request("DELETE", path + ja)
    assert r.status == 409 and r.code == "active", r
    r = U.request("POST", path + "/deactivate")
    assert r.status == 200 and r.json == {"active": None}, r
    r = U.request("DELETE", path + ja)
    assert r.status == 200 and r.json["deleted"] is True
    assert U.request("GET", path + ja).status == 404
    # scope: another user, another domain's administrator
    for role in ("U2", "D2"):
        assert who[role].get(path).status == 403, role
        assert who[role].request("PUT", path + "/x", {"script": "keep;"}).status == 403, role
    expect(who, ("S", "D", "U"), "GET", path)
    r = U.request("POST", "/api/v1/sieve/check", {"script": "discard;"})
    assert r.status == 200 and r.json == {"valid": True}
