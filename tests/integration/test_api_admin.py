"""The JSON API's server administration (issue 11): security events,
blocks and suspensions, the audit log, administrators and tokens, the
queue, DKIM keys and the DNS records with their live check, doctor and a
mail user's own logins; every endpoint with the right and the wrong role
(a domain administrator never reads or changes another domain)."""

import json
import time

import pytest

from api_util import (ADMIN_PW, Client, admin, api_server, dom, domain_admin, me, ok,  # noqa: F401 (fixtures)
                      other, refused, root, served)
from helpers import PASSWORD
from protection_util import auth_from

DOM = "example.test"
USER = "user@example.test"
ALIEN = "alien@other.test"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from served(api_server(tmp_path_factory, "api_admin",
                                 config={"bruteforce.ip_delay_after": 1, "bruteforce.delay_max": 1,
                                         "bruteforce.ip_block_after": 3, "bruteforce.block_time": 600,
                                         "bruteforce.account_delay_after": 3}))


def delete(c, path):
    return c.request("DELETE", path)


# ---------------------------------------------------------------- security

def test_events_scoped_and_filtered(srv, root, dom, me):
    auth_from(srv, "127.0.0.7", USER, "Wrong-pass-1")[0].expect(535)
    auth_from(srv, "127.0.0.7", ALIEN, "Wrong-pass-2")[0].expect(535)
    everything = ok(root.get("/api/v1/security/events?kind=auth-failed"))["events"]
    assert {e["address"] for e in everything} >= {USER, ALIEN}
    e = everything[0]
    assert set(e) == {"id", "time", "kind", "address", "ip", "detail", "text"}
    assert e["time"].endswith("Z") and e["text"].startswith("A login from 127.0.0.7 was refused")
    mine = ok(dom.get("/api/v1/security/events?kind=auth-failed"))["events"]
    assert {e["address"] for e in mine} == {USER}
    # another domain, asked by name or by address
    refused(dom.get("/api/v1/security/events?domain=other.test"))
    refused(dom.get("/api/v1/security/events?address=" + ALIEN))
    refused(me.get("/api/v1/security/events"))
    refused(Client(srv).get("/api/v1/security/events"), 401, "not_logged_in")
    # paging: one at a time, next_before leads to the older row
    page = ok(root.get("/api/v1/security/events?kind=auth-failed&limit=1"))
    assert len(page["events"]) == 1 and page["next_before"] == page["events"][0]["id"]
    older = ok(root.get("/api/v1/security/events?kind=auth-failed&limit=1&before=%d" % page["next_before"]))
    assert older["events"][0]["id"] < page["next_before"]
    assert ok(root.get("/api/v1/security/events?limit=10000"))["next_before"] is None
    for bad in ("limit=10001", "limit=x", "before=-1", "since=1e3"):
        r = root.get("/api/v1/security/events?" + bad)
        assert r.status == 400 and r.code == "invalid_field", (bad, r)
    assert root.get("/api/v1/security/events?kind=a%27b").code == "invalid_kind"


def test_blocks_and_unblock(srv, root, dom, other):
    for i in range(3):
        auth_from(srv, "127.0.0.9", ALIEN, "Wrong-pass-%d" % i)[0].expect(535)
    keys = {(b["kind"], b["key"]) for b in ok(root.get("/api/v1/security/blocks"))["blocks"]}
    assert ("ip", "127.0.0.9") in keys and ("account", ALIEN) in keys, keys
    # a domain administrator: only its own slowed accounts, never IP blocks
    assert {b["key"] for b in ok(other.get("/api/v1/security/blocks"))["blocks"]} == {ALIEN}
    assert ALIEN not in {b["key"] for b in ok(dom.get("/api/v1/security/blocks"))["blocks"]}
    refused(dom.post("/api/v1/security/unblock", {"target": ALIEN}))
    refused(other.post("/api/v1/security/unblock", {"target": "127.0.0.9"}))
    assert ok(other.post("/api/v1/security/unblock", {"target": ALIEN})) == {"key": ALIEN, "removed": True}
    assert ok(root.post("/api/v1/security/unblock", {"target": "127.0.0.9"}))["removed"] is True
    assert ok(root.post("/api/v1/security/unblock", {"target": "127.0.0.9"}))["removed"] is False
    # the daemon sees it at the next login
    auth_from(srv, "127.0.0.9", ALIEN)[0].expect(235)
    r = root.post("/api/v1/security/unblock", {"target": "not an address"})
    assert r.status == 400 and r.code == "invalid_target" and r.json["error"]["field"] == "target", r
    r = root.post("/api/v1/security/unblock", {"target": "bad@@address"})
    assert r.status == 400 and r.code == "invalid_address" and r.json["error"]["field"] == "target", r
    assert root.post("/api/v1/security/unblock", {}).code == "invalid_field"
    assert root.post("/api/v1/security/unblock", {"target": "1.2.3.4", "x": 1}).code == "unknown_field"
    # a cookie without the CSRF token changes nothing
    assert root.post("/api/v1/security/unblock", {"target": "127.0.0.9"}, csrf=False).code == "csrf"


def test_suspended(srv, root, dom, me):
    assert ok(root.get("/api/v1/security/suspended")) == {"suspended": []}
    assert ok(dom.get("/api/v1/security/suspended")) == {"suspended": []}
    refused(me.get("/api/v1/security/suspended"))


# ---------------------------------------------------------------- audit

def test_audit_scoped(srv, root, dom, other, me):
    ok(dom.request("PATCH", "/api/v1/accounts/" + USER, body={"memo": "audited"}))
    ok(other.request("PATCH", "/api/v1/accounts/" + ALIEN, body={"memo": "theirs"}))
    rows = ok(root.get("/api/v1/audit?limit=100"))["audit"]
    assert {r["target"] for r in rows} >= {USER, ALIEN}
    row = [r for r in rows if r["target"] == USER and r["actor"] == "domain-admin:dom"][0]
    assert row["ip"] == "127.0.0.1" and row["operation"].startswith("account.") and row["time"].endswith("Z")
    assert {r["target"] for r in ok(dom.get("/api/v1/audit?limit=100"))["audit"]} <= {USER, DOM, "second@" + DOM}
    assert ALIEN not in {r["target"] for r in ok(dom.get("/api/v1/audit?limit=100"))["audit"]}
    assert ok(dom.get("/api/v1/audit?address=" + ALIEN))["audit"] == []
    refused(dom.get("/api/v1/audit?domain=other.test"))
    refused(me.get("/api/v1/audit"))
    by_actor = ok(root.get("/api/v1/audit?actor=domain-admin:otherdom"))["audit"]
    assert by_actor and {r["actor"] for r in by_actor} == {"domain-admin:otherdom"}


# ---------------------------------------------------------------- admins and tokens

def test_admins(srv, root, dom, me):
    names = {a["name"]: a for a in ok(root.get("/api/v1/admins"))["admins"]}
    assert names["dom"]["role"] == "domain" and names["dom"]["domains"] == [DOM]
    refused(dom.get("/api/v1/admins"))
    refused(me.get("/api/v1/admins"))
    body = {"name": "helper", "role": "domain", "domains": [DOM], "password": ADMIN_PW}
    refused(dom.post("/api/v1/admins", body))
    assert ok(root.post("/api/v1/admins", body), 201) == {"admin": {"name": "helper", "role": "domain",
                                                                     "domains": [DOM]}}
    assert root.post("/api/v1/admins", body).code == "exists"
    assert root.post("/api/v1/admins", dict(body, name="x2", domains="example.test")).code == "invalid_field"
    assert root.post("/api/v1/admins", dict(body, name="x3", domains=["nowhere.test"])).code == "not_found"
    helper = domain_admin(srv, "helper")
    refused(helper.post("/api/v1/admins/dom/password", {"password": "New-admin-pass-9"}))
    assert ok(root.post("/api/v1/admins/helper/password", {"password": "New-admin-pass-9"}), 204) is None
    Client(srv).login("admin", "helper", ADMIN_PW, expect=401)
    Client(srv).login("admin", "helper", "New-admin-pass-9")
    refused(root.post("/api/v1/admins/nobody/password", {"password": "New-admin-pass-9"}), 404, "not_found")
    refused(delete(dom, "/api/v1/admins/helper"))
    ok(delete(root, "/api/v1/admins/helper"), 204)
    refused(delete(root, "/api/v1/admins/helper"), 404, "not_found")


def test_tokens(srv, root, dom, other, me):
    refused(dom.post("/api/v1/tokens", {"role": "domain", "domains": ["other.test"]}))
    refused(dom.post("/api/v1/tokens", {"role": "server"}))
    refused(me.post("/api/v1/tokens", {"role": "domain", "domains": [DOM]}))
    made = ok(dom.post("/api/v1/tokens", {"role": "domain", "domains": [DOM], "expires_in": 3600}), 201)
    assert made["token"].startswith("yubin_" + made["id"] + "_")
    mine = ok(dom.get("/api/v1/tokens"))["tokens"]
    assert [t["id"] for t in mine] == [made["id"]] and mine[0]["domains"] == [DOM]
    assert mine[0]["last_used"] is None and mine[0]["revoked"] is False
    assert made["id"] not in {t["id"] for t in ok(other.get("/api/v1/tokens"))["tokens"]}
    assert made["id"] in {t["id"] for t in ok(root.get("/api/v1/tokens"))["tokens"]}
    # the token acts as a domain administrator of example.test
    bot = Client(srv)
    bot.token = made["token"]
    assert {e["address"] for e in ok(bot.get("/api/v1/security/events?kind=auth-failed"))["events"]} <= {USER}
    refused(bot.get("/api/v1/domains/other.test/dkim"))
    refused(bot.post("/api/v1/tokens", {"role": "domain", "domains": [DOM]}))
    # revoked by its owner, not by another domain's administrator
    refused(delete(other, "/api/v1/tokens/" + made["id"]), 404, "not_found")
    ok(delete(dom, "/api/v1/tokens/" + made["id"]), 204)
    refused(bot.get("/api/v1/security/events"), 401, "bad_token")
    r = dom.post("/api/v1/tokens", {"role": "domain", "domains": [DOM], "expires_in": 0})
    assert r.code == "invalid_expiry" and r.json["error"]["field"] == "expires_in", r


# ---------------------------------------------------------------- queue

def queued(srv, sender):
    p = srv.ctl("queue", "inject", "--from", sender, "r@remote.test",
                input="From: <%s>\nSubject: held\n\nbody\n" % sender)
    return p.out.strip()


def wait_attempts(c, qid, n, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = c.get("/api/v1/queue/" + qid).json["message"]
        if m["attempts"] >= n:
            return m
        time.sleep(0.2)
    raise AssertionError("message %s: fewer than %d attempts" % (qid, n))


def test_queue(srv, root, dom, other, me):
    mine, theirs = queued(srv, USER), queued(srv, ALIEN)
    ids = {m["id"] for m in ok(root.get("/api/v1/queue"))["messages"]}
    assert {mine, theirs} <= ids
    assert [m["id"] for m in ok(dom.get("/api/v1/queue"))["messages"]] == [mine]
    refused(me.get("/api/v1/queue"))
    m = ok(dom.get("/api/v1/queue/" + mine))["message"]
    assert m["from"] == USER and m["recipients"][0]["address"] == "r@remote.test"
    assert "Subject: held\n" in m["header"] and "body" not in m["header"]
    refused(dom.get("/api/v1/queue/" + theirs), 404, "not_found")
    refused(dom.post("/api/v1/queue/%s/retry" % theirs), 404, "not_found")
    refused(delete(dom, "/api/v1/queue/" + theirs), 404, "not_found")
    assert root.get("/api/v1/queue/..%2Fyubin.db").status in (400, 404)
    assert root.get("/api/v1/queue/bad.id").code == "invalid_id"
    assert root.get("/api/v1/queue/nonesuch").code == "not_found"

    # the first attempt fails (no DNS); a retry makes the runner try again now
    first = wait_attempts(dom, mine, 1)
    assert ok(dom.post("/api/v1/queue/%s/retry" % mine)) == {"due": 1}
    again = wait_attempts(dom, mine, first["attempts"] + 1)
    assert again["attempts"] > first["attempts"]
    assert ok(dom.post("/api/v1/queue/retry"))["due"] == 1
    assert ok(root.post("/api/v1/queue/retry"))["due"] >= 2
    refused(me.post("/api/v1/queue/retry"))

    ok(delete(dom, "/api/v1/queue/" + mine), 204)
    refused(dom.get("/api/v1/queue/" + mine), 404, "not_found")
    ok(delete(root, "/api/v1/queue/" + theirs), 204)
    rows = ok(root.get("/api/v1/audit?address=" + mine))["audit"]
    assert [r["operation"] for r in rows][:1] == ["queue.delete"], rows


# ---------------------------------------------------------------- DKIM and DNS

def test_dkim(srv, root, dom, other, me):
    keys = ok(dom.get("/api/v1/domains/%s/dkim" % DOM))
    assert keys["domain"] == DOM and {k["state"] for k in keys["keys"]} == {"active"}
    assert {k["algorithm"] for k in keys["keys"]} == {"rsa-sha256", "ed25519-sha256"}
    assert all(k["record"].startswith("v=DKIM1;") for k in keys["keys"])
    refused(dom.get("/api/v1/domains/other.test/dkim"))
    refused(dom.post("/api/v1/domains/other.test/dkim/rotate"))
    refused(me.get("/api/v1/domains/%s/dkim" % DOM))
    refused(root.get("/api/v1/domains/nowhere.test/dkim"), 404, "not_found")

    assert dom.post("/api/v1/domains/%s/dkim/activate" % DOM).code == "no_waiting_keys"
    r = ok(dom.post("/api/v1/domains/%s/dkim/rotate" % DOM))
    assert r["signing_with_new_keys"] is False
    assert sorted(k["state"] for k in r["keys"]) == ["active", "active", "next", "next"]
    assert dom.post("/api/v1/domains/%s/dkim/rotate" % DOM).code == "rotation_waiting"
    r = ok(dom.post("/api/v1/domains/%s/dkim/activate" % DOM))
    assert r["signing_with_new_keys"] is True
    assert sorted(k["state"] for k in r["keys"]) == ["active", "active", "retired", "retired"]
    assert all("publish_until" in k for k in r["keys"] if k["state"] == "retired")
    r = ok(other.post("/api/v1/domains/other.test/dkim/rotate", {"now": True}))
    assert r["signing_with_new_keys"] is True
    assert other.post("/api/v1/domains/other.test/dkim/rotate", {"now": "yes"}).code == "invalid_field"
    ops = [a["operation"] for a in ok(dom.get("/api/v1/audit?address=" + DOM))["audit"]]
    assert ops[:2] == ["dkim.activate", "dkim.rotate"], ops


def test_domain_added_by_the_api_gets_keys(srv, root):
    import os
    ok(root.post("/api/v1/domains", {"name": "keys.test"}), 201)
    keys = ok(root.get("/api/v1/domains/keys.test/dkim"))["keys"]
    assert sorted(k["state"] for k in keys) == ["active", "active"]
    assert os.path.isdir(os.path.join(srv.data, "dkim", "keys.test"))
    ok(delete(root, "/api/v1/domains/keys.test"))
    assert not os.path.exists(os.path.join(srv.data, "dkim", "keys.test"))


def test_dns_records(srv, root, dom, me):
    r = ok(dom.get("/api/v1/domains/%s/dns" % DOM))
    assert r["domain"] == DOM and r["checked"] is False
    purposes = [x["purpose"] for x in r["records"]]
    assert purposes[0] == "mx" and purposes[1] == "spf" and "dmarc" in purposes and "dkim" in purposes
    assert r["records"][0]["value"] == "10 %s." % r["hostname"]
    assert "dns" not in r["records"][0]
    srv = [x for x in r["records"] if x["purpose"] == "srv"]
    assert purposes[-len(srv) - 3:] == ["srv"] * 6 + ["sts", "sts-host", "tlsrpt"] and srv[2]["type"] == "SRV"
    sts = {x["purpose"]: x for x in r["records"]}
    assert sts["sts"]["name"] == "_mta-sts.%s." % DOM and sts["sts"]["value"].startswith("v=STSv1; id=")
    assert sts["tlsrpt"]["value"] == "v=TLSRPTv1; rua=mailto:postmaster@%s" % DOM, sts["tlsrpt"]
    assert srv[2]["name"] == "_imaps._tcp.%s." % DOM and srv[2]["value"] == "0 1 993 %s." % r["hostname"]
    # the test server's resolver answers nothing: unknown, not missing
    r = ok(dom.get("/api/v1/domains/%s/dns?check=1" % DOM))
    assert r["checked"] is True and {x["dns"] for x in r["records"]} == {"unknown"}
    assert dom.get("/api/v1/domains/%s/dns?check=yes" % DOM).code == "invalid_field"
    refused(dom.get("/api/v1/domains/other.test/dns"))
    refused(me.get("/api/v1/domains/%s/dns" % DOM))


# ---------------------------------------------------------------- doctor

def test_doctor(srv, root, dom, me):
    d = ok(dom.get("/api/v1/doctor?address=" + USER))
    assert d["address"] == USER
    assert any(c["level"] == "ok" and c["text"] == "the account is enabled" and c["group"] == "receive"
               for c in d["checks"]), d["checks"]
    assert all(set(e) >= {"kind", "text", "time"} for e in d["events"])
    assert d["problems"] == 0
    # the same words yubinctl doctor prints
    out = srv.ctl("doctor", USER, check=False).out
    for c in d["checks"]:
        assert c["text"] in out
    # in Japanese on request, the same checks
    ja = ok(dom.get("/api/v1/doctor?address=%s&lang=ja" % USER))
    assert [c["level"] for c in ja["checks"]] == [c["level"] for c in d["checks"]]
    assert any(c["level"] == "ok" and c["text"] == "アカウントは有効です" for c in ja["checks"]), ja["checks"]
    # grouped by question, each finding with its fix as data, the same as yubinctl doctor --json
    assert [g["id"] for g in ja["groups"]][:2] == ["send", "receive"] and ja["groups"][1]["title"] == "メールを受信できない"
    cli = json.loads(srv.ctl("doctor", USER, "--json", check=False).out)
    assert [(c["group"], c["fix"]) for c in cli["checks"]] == [(c["group"], c["fix"]) for c in d["checks"]]
    assert any("アカウントが作成されました" in e["text"] for e in ja["events"])
    d = ok(root.get("/api/v1/doctor?address=nobody@" + DOM))
    assert d["problems"] == 1 and d["checks"][1]["level"] == "fail"
    refused(dom.get("/api/v1/doctor?address=" + ALIEN))
    refused(me.get("/api/v1/doctor?address=" + USER))
    assert root.get("/api/v1/doctor").code == "invalid_field"
    assert root.get("/api/v1/doctor?address=x").code == "invalid_address"
    # the window for recent refusals: 7 days unless ?since= says otherwise
    assert ok(dom.get("/api/v1/doctor?address=" + USER))["days"] == 7
    assert ok(dom.get("/api/v1/doctor?address=%s&since=36h" % USER))["days"] == 2
    for bad in ("bogus", "0d", "400d"):
        assert dom.get("/api/v1/doctor?address=%s&since=%s" % (USER, bad)).code == "invalid_field", bad


# ---------------------------------------------------------------- me/logins

def test_my_logins(srv, dom, other):
    c = Client(srv)
    c.login("user", "second@" + DOM, PASSWORD)
    auth_from(srv, "127.0.0.11", "second@" + DOM, "Wrong-pass-9")[0].expect(535)
    auth_from(srv, "127.0.0.12", "second@" + DOM)[0].expect(235)
    logins = ok(c.get("/api/v1/me/logins"))["logins"]
    assert [x["kind"] for x in logins[:2]] == ["auth-ok", "auth-failed"], logins
    assert logins[0]["ip"] == "127.0.0.12" and logins[1]["ip"] == "127.0.0.11"
    assert {x["address"] for x in logins} == {"second@" + DOM}
    refused(c.get("/api/v1/me/logins?address=" + USER))
    ja = ok(c.get("/api/v1/me/logins", headers={"Accept-Language": "ja"}))["logins"]
    assert ja[0]["text"].startswith("127.0.0.12 からログインしました"), ja[0]
    page = ok(c.get("/api/v1/me/logins?limit=1"))
    assert len(page["logins"]) == 1 and page["next_before"] == page["logins"][0]["id"]
    # an administrator names the account, within its scope
    assert ok(dom.get("/api/v1/me/logins?address=second@" + DOM))["logins"] == logins
    refused(other.get("/api/v1/me/logins?address=second@" + DOM))
    assert dom.get("/api/v1/me/logins").code == "invalid_field"


def test_json_bodies_are_json(srv, root):
    r = root.get("/api/v1/security/events")
    assert r.headers["Content-Type"].startswith("application/json")
    json.loads(r.raw)


def test_dns_checks_never_hold_every_worker(tmp_path_factory):
    """Two live checks against a resolver that never answers hold their
    workers until the deadline; a third is refused at once (429), and the
    rest of the API still answers meanwhile."""
    import socket
    import threading

    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    s = api_server(tmp_path_factory, "api_dns_hole",
                   config={"dns.resolver": "127.0.0.1:%d" % hole.getsockname()[1]})
    try:
        root = admin(s)
        results = []

        def check():
            results.append(root.get("/api/v1/domains/%s/dns?check=1" % DOM))

        threads = [threading.Thread(target=check) for _ in range(2)]
        for t in threads:
            t.start()
        # both checks are running once each has asked for the MX (a check's
        # first lookup, one socket per lookup)
        hole.settimeout(20)
        sources = set()
        while len(sources) < 2:
            q, src = hole.recvfrom(512)
            i = 12
            while q[i] != 0:
                i += q[i] + 1
            if q[i + 1:i + 3] == b"\x00\x0f":
                sources.add(src)
        r = root.get("/api/v1/domains/%s/dns?check=1" % DOM)
        assert r.status == 429 and r.code == "rate_limited", r
        assert ok(root.get("/api/v1/domains/%s/dns" % DOM))["checked"] is False
        for t in threads:
            t.join()
        assert [x.status for x in results] == [200, 200]
        assert {rec["dns"] for x in results for rec in x.json["records"]} == {"unknown"}
    finally:
        s.stop()
        hole.close()
