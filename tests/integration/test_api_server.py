"""The JSON API's administration of the server itself (issue 11, section 2):
the settings of yubin.conf (applied by the running daemon at once, or at a
restart), the GeoIP override table and lookups, and an account's index
rebuild; every route with every role, and a secret never in a reply."""

import imaplib
import socket
import ssl

import pytest

from api_util import Client, api_server, dom, me, ok, other, refused, root, served  # noqa: F401 (fixtures)
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, make_message
from protection_util import auth_from

USER = "user@example.test"
ALIEN = "alien@other.test"
SECRET = "Relay-Secret-0xC0FFEE"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from served(api_server(tmp_path_factory, "api_server"))


@pytest.fixture(scope="module")
def bot(srv, dom):
    """An API token of the domain role (example.test)."""
    made = dom.post("/api/v1/tokens", {"role": "domain", "domains": [DOMAIN], "expires_in": 3600})
    assert made.status == 201, made
    c = Client(srv)
    c.token = made.json["token"]
    return c


@pytest.fixture(scope="module")
def server_bot(srv, root):
    made = root.post("/api/v1/tokens", {"role": "server", "expires_in": 3600})
    assert made.status == 201, made
    c = Client(srv)
    c.token = made.json["token"]
    return c


def no_secret(r):
    assert SECRET.encode() not in r.raw, r
    return r


def put_setting(c, key, value):
    return c.request("PUT", "/api/v1/server/settings/" + key, {"value": value})


# ---------------------------------------------------------------- settings

def test_server_settings_only_for_server_administrators(srv, dom, me, bot):
    for c in (dom, me, bot):
        refused(c.get("/api/v1/server/settings"))
        refused(put_setting(c, "smtp.max_recipients", "5"))
    refused(Client(srv).get("/api/v1/server/settings"), 401, "not_logged_in")
    # nothing was changed by the refusals
    assert srv.ctl("config", "get", "smtp.max_recipients").out.strip() != "5"


def test_server_settings_list(srv, root, server_bot):
    srv.ctl("config", "set", "smtp.relayhost_password", SECRET)
    for c in (root, server_bot):
        r = no_secret(c.get("/api/v1/server/settings"))
        rows = {s["key"]: s for s in ok(r)["settings"]}
        assert rows["smtp.max_recipients"]["value"] == srv.ctl("config", "get", "smtp.max_recipients").out.strip()
        assert rows["smtp.max_recipients"]["restart"] is False
        assert rows["smtp.port"]["restart"] is True
        pw = rows["smtp.relayhost_password"]
        assert pw["secret"] is True and pw["value"] not in ("", SECRET)
        assert set(pw) == {"key", "value", "default", "type", "secret", "restart", "help"}
    # every server setting and only those
    assert set(rows) == {ln.split(" = ")[0] for ln in srv.ctl("config", "list").out.splitlines()}


def rcpt_replies(srv, n):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        rcpts = [USER, "second@example.test", ALIEN][:n]
        return [c.cmd("RCPT TO:<%s>" % a).code for a in rcpts]
    finally:
        c.quit()


def test_setting_applies_in_the_running_daemon(srv, root):
    assert rcpt_replies(srv, 3) == [250, 250, 250]
    r = ok(put_setting(root, "smtp.max_recipients", " 2 "))
    assert r == {"key": "smtp.max_recipients", "value": "2", "previous": r["previous"], "applies": "now",
                 "warning": None}
    # no signal from outside: the daemon reloaded yubin.conf itself
    assert rcpt_replies(srv, 3) == [250, 250, 452]
    assert srv.ctl("config", "get", "smtp.max_recipients").out.strip() == "2"
    row = next(a for a in audit_rows(root, "limit=5") if a["operation"] == "config.set")
    assert row["actor"] == "admin:root" and row["target"] == "smtp.max_recipients"
    assert "smtp.max_recipients = 2 (was " in row["summary"]
    ok(put_setting(root, "smtp.max_recipients", r["previous"]))
    assert rcpt_replies(srv, 3) == [250, 250, 250]


def test_restart_settings_say_so(srv, root):
    old = srv.ctl("config", "get", "server.workers").out.strip()
    r = ok(put_setting(root, "server.workers", "3"))
    assert r["applies"] == "restart" and r["value"] == "3"
    ok(put_setting(root, "server.workers", old))


def test_bad_settings_refused(srv, root):
    before = srv.ctl("config", "list").out
    r = refused(put_setting(root, "smtp.max_recipients", "0"), 400, "invalid_value")
    assert r.json["error"]["field"] == "value" and "allowed" in r.json["error"]["message"]
    refused(put_setting(root, "no.such", "1"), 400, "unknown_setting")
    refused(put_setting(root, "memo", "x"), 400, "unknown_setting")     # a domain setting
    refused(root.request("PUT", "/api/v1/server/settings/smtp.max_recipients", {"value": 5}), 400,
            "invalid_field")
    refused(root.request("PUT", "/api/v1/server/settings/smtp.max_recipients", {"value": "5", "x": 1}), 400,
            "unknown_field")
    refused(put_setting(root, "hostname", "a\nb = c"), 400, "invalid_value")
    assert srv.ctl("config", "list").out == before


def test_secret_never_in_a_reply(srv, root):
    r = no_secret(put_setting(root, "smtp.relayhost_password", SECRET + "2"))
    assert ok(r)["value"] not in ("", SECRET + "2") and SECRET not in r.json["previous"]
    # refused values of a secret are not repeated either
    r = no_secret(put_setting(root, "smtp.relayhost_password", SECRET + "\nx = y"))
    refused(r, 400, "invalid_value")
    assert srv.ctl("config", "get", "smtp.relayhost_password", "--show-secrets").out.strip() == SECRET + "2"
    for path in ("/api/v1/server/settings", "/api/v1/audit?limit=50", "/api/v1/security/events?limit=200",
                 "/api/v1/server/settings?show_secrets=1"):
        no_secret(root.get(path))
    ok(put_setting(root, "smtp.relayhost_password", ""))


# ---------------------------------------------------------------- GeoIP

def test_geoip_overrides_roles(srv, dom, me, bot):
    for c in (dom, me, bot):
        refused(c.get("/api/v1/geoip/overrides"))
        refused(c.post("/api/v1/geoip/overrides", {"cidr": "192.0.2.0/24", "country": "US"}))
        refused(c.request("DELETE", "/api/v1/geoip/overrides?cidr=192.0.2.0/24"))
        refused(c.get("/api/v1/geoip/lookup?ip=192.0.2.1"))
    assert "192.0.2.0/24" not in srv.ctl("geoip", "override", "list").out


def test_geoip_override_applies_to_the_next_login(srv, root):
    # 127.0.0.9 is private (exempt) until an override names its country
    auth_from(srv, "127.0.0.9", USER)[0].expect(235)
    made = ok(root.post("/api/v1/geoip/overrides", {"cidr": "127.0.0.9", "country": "us"}), 201)
    assert made == {"cidr": "127.0.0.9/32", "country": "US"}
    rows = ok(root.get("/api/v1/geoip/overrides"))["overrides"]
    assert [(o["cidr"], o["country"]) for o in rows] == [("127.0.0.9/32", "US")]
    assert rows[0]["created"].endswith("Z")
    assert "127.0.0.9/32" in srv.ctl("geoip", "override", "list").out
    r = auth_from(srv, "127.0.0.9", USER)[0]
    assert r.code == 535, r
    look = ok(root.get("/api/v1/geoip/lookup?ip=127.0.0.9"))
    assert look["country"] == "US" and look["source"] == "override" and look["override"] == "127.0.0.9/32"
    assert look["database"]["status"] in ("found", "not_found", "unavailable")
    # deleted by its CIDR in the query, then again: not found
    ok(root.request("DELETE", "/api/v1/geoip/overrides?cidr=127.0.0.9/32"), 204)
    refused(root.request("DELETE", "/api/v1/geoip/overrides?cidr=127.0.0.9/32"), 404, "not_found")
    auth_from(srv, "127.0.0.9", USER)[0].expect(235)
    look = ok(root.get("/api/v1/geoip/lookup?ip=127.0.0.9"))
    assert look["source"] == "private" and look["country"] is None and look["override"] is None
    audit = [a["operation"] for a in audit_rows(root, "limit=10")]
    assert "geoip.override.add" in audit and "geoip.override.del" in audit


def audit_rows(c, query):
    return ok(c.get("/api/v1/audit?" + query))["audit"]


def test_geoip_override_delete_by_body_and_bad_input(srv, root):
    ok(root.post("/api/v1/geoip/overrides", {"cidr": "2001:db8::/32", "country": "JP"}), 201)
    ok(root.request("DELETE", "/api/v1/geoip/overrides", {"cidr": "2001:db8::/32"}), 204)
    refused(root.request("DELETE", "/api/v1/geoip/overrides"), 400, "invalid_field")
    refused(root.request("DELETE", "/api/v1/geoip/overrides", {"cidr": 5}), 400, "invalid_field")
    refused(root.post("/api/v1/geoip/overrides", {"cidr": "300.1.1.1/8", "country": "JP"}), 400, "invalid_cidr")
    refused(root.post("/api/v1/geoip/overrides", {"cidr": "192.0.2.0/24", "country": "JPN"}), 400,
            "invalid_country")
    refused(root.post("/api/v1/geoip/overrides", {"cidr": "192.0.2.0/24"}), 400, "invalid_field")
    refused(root.post("/api/v1/geoip/overrides", {"cidr": "1" * 5000, "country": "JP"}), 400, "invalid_cidr")
    refused(root.get("/api/v1/geoip/lookup"), 400, "invalid_field")
    refused(root.get("/api/v1/geoip/lookup?ip=not-an-ip"), 400, "invalid_ip")
    assert ok(root.get("/api/v1/geoip/overrides"))["overrides"] == []


def test_geoip_lookup_matches_yubinctl(srv, root):
    for ip in ("8.8.8.8", "133.242.0.1", "192.0.2.55"):
        look = ok(root.get("/api/v1/geoip/lookup?ip=" + ip))
        out = srv.ctl("geoip", "lookup", ip).out
        if look["source"] == "database":
            assert out.strip() == "%s: %s (database)" % (ip, look["country"])
        else:
            assert look["country"] is None and look["source"] in ("unknown", "no_database"), look


# ---------------------------------------------------------------- index rebuild

class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def uidvalidity(srv):
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    try:
        m.login(USER, PASSWORD)
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        return int(m.response("UIDVALIDITY")[1][0]), int(data[0])
    finally:
        m.logout()


def deliver(srv, token):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail("sender@client.test", [USER], make_message(token))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()


def test_index_rebuild_roles(srv, root, dom, other, me, bot):
    path = "/api/v1/accounts/%s/index/rebuild" % USER
    refused(me.post(path))
    refused(other.post(path))
    refused(bot.post("/api/v1/accounts/%s/index/rebuild" % ALIEN))
    refused(dom.post("/api/v1/accounts/%s/index/rebuild" % ALIEN))
    refused(root.post("/api/v1/accounts/nobody@example.test/index/rebuild"), 404, "not_found")
    refused(root.post(path, {"force": "yes"}), 400, "invalid_field")
    refused(root.post(path, {"forse": True}), 400, "unknown_field")


def test_index_rebuild(srv, root, dom, bot):
    deliver(srv, "rebuild-1")
    deliver(srv, "rebuild-2")
    v1, n = uidvalidity(srv)
    path = "/api/v1/accounts/%s/index/rebuild" % USER
    for c in (dom, bot):
        r = ok(c.post(path))
        assert r["address"] == USER and r["new_index"] is False and r["damaged"] is False
        inbox = next(f for f in r["folder_list"] if f["name"] == "INBOX")
        assert inbox["messages"] == n and inbox["uidvalidity"] == v1 and not inbox["failed"]
        assert r["messages"] >= n and r["folders"] == len(r["folder_list"]) and r["failed"] == 0
    assert uidvalidity(srv) == (v1, n)        # UIDs kept
    r = ok(root.post(path, {"force": True}))
    assert r["new_index"] is True and r["folder_list"] == [] and "new UIDVALIDITY" in r["detail"]
    # the running daemon uses the new index: a new UIDVALIDITY, the same messages
    v2, n2 = uidvalidity(srv)
    assert v2 != v1 and n2 == n
    ops = [(a["operation"], a["actor"]) for a in audit_rows(root, "address=" + USER)
           if a["operation"] == "index.rebuild"]
    assert ops[0] == ("index.rebuild", "admin:root") and ("index.rebuild", "domain-admin:dom") in ops
