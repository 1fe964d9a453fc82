"""The panels in a real browser (issue 11, section 8): Debian's chromium,
headless, driven by playwright-core (node scripts under tests/browser/),
against a real yubind serving build/web and the JSON API. What the browser
changes is then checked with real mail clients: SMTP AUTH from an address
the GeoIP override puts abroad, IMAP with the old and new password, SMTP
AUTH from an address unblocked in the panel, a new API token as Bearer,
mail over SMTP (port 25) read over IMAP after a mail user's spam filter
changes.
A dnsmasq of the module's own answers the DNS check; mail to remote.test
waits in the queue (its MX port is closed).
Screenshots of every page in Japanese and English (desktop and phone) are
kept in build/screenshots/panels."""

import base64
import imaplib
import json
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import time
import urllib.request

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, unique
from protection_util import auth_from, install_geoip
from test_imap_auth import login_from as imap_login_from

BROWSER_DIR = os.path.join(helpers.REPO, "tests", "browser")
WEB = os.path.join(helpers.REPO, "build", "web")
SHOTS = os.path.join(helpers.SCREENSHOTS, "panels")
CHROMIUM = os.environ.get("YUBIN_CHROMIUM", "/usr/bin/chromium")
ADMIN, ADMIN_PW = "root", "Admin-pass-8080"
SHOP, SHOP_PW, SHOP_DOMAIN = "shop", "Shop-pass-5150", "shop.test"
USER = "user@" + DOMAIN
TRAVELLER = "traveller@" + DOMAIN
SUSPECT = "suspect@" + DOMAIN
WATCHER = "watcher@" + DOMAIN           # has a failed login of its own
READER = "reader@" + DOMAIN             # changes its spam filter in the mail panel
BLOCKED_IP = "127.0.0.9"                # blocked by failed logins
MEMO = "<b>bold</b> & <script>alert(1)</script>"
NEEDS = "scripts/deps.sh test installs chromium, node and dnsmasq; make builds build/web; make node-modules installs playwright-core (npm ci)"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    modules = os.path.join(helpers.REPO, "node_modules")
    for what, ok in (("node", shutil.which("node")), (CHROMIUM, os.access(CHROMIUM, os.X_OK)),
                     ("playwright-core", os.path.isdir(os.path.join(modules, "playwright-core"))),
                     ("build/web", os.path.exists(os.path.join(WEB, "app.js")))):
        assert ok, "%s missing: %s" % (what, NEEDS)
    # the screenshots are this run's (a failing scenario leaves FAILED-NAME.png)
    assert os.access(ou.DNSMASQ, os.X_OK), "dnsmasq missing: " + NEEDS
    shutil.rmtree(SHOTS, ignore_errors=True)
    base = tmp_path_factory.mktemp("browser")
    # blocks after a few failures (127.0.0.1, the browser's, fails fewer
    # times in this module); mail to remote.test waits in the queue (its MX
    # answers on a port where nobody listens); the DNS check asks dnsmasq
    config = {"bruteforce.ip_delay_after": 3, "bruteforce.delay_max": 1,
              "bruteforce.ip_block_after": 6, "smtp.remote_port": str(ou.free_port())}
    s = helpers.Server(base, domains=(DOMAIN, SHOP_DOMAIN), config=config,
                       accounts=[(USER, PASSWORD, None), (TRAVELLER, PASSWORD, None),
                                 (SUSPECT, PASSWORD, None), (WATCHER, PASSWORD, None),
                                 (READER, PASSWORD, None)]).setup()
    # MX and SPF published as asked, DMARC with another policy; the DKIM
    # keys the browser makes are not published
    want = json.loads(s.ctl("domain", "dns", DOMAIN, "--json").out)["records"]
    spf = [r["value"] for r in want if r["type"] == "TXT" and r["name"].rstrip(".") == DOMAIN][0]
    dns = ou.Dnsmasq(base / "dns", txt={DOMAIN: spf, "_dmarc." + DOMAIN: "v=DMARC1; p=reject"},
                     mx=[(DOMAIN, HOSTNAME, 10)]).start()
    s.ctl("config", "set", "dns.resolver", dns.resolver)
    assert install_geoip(s), "no GeoIP database in build/geoip (scripts/deps.sh test fetches it)"
    s.ctl("geoip", "override", "add", "127.0.0.2/32", "US")
    s.ctl("admin", "add", ADMIN, "--role", "server", "--password-stdin", input=ADMIN_PW + "\n")
    s.ctl("admin", "add", SHOP, "--role", "domain", "--domain", SHOP_DOMAIN, "--password-stdin",
          input=SHOP_PW + "\n")
    shutil.copytree(WEB, os.path.join(s.data, "web"), dirs_exist_ok=True)
    # sending suspended as compromise detection would (test_compromise.py
    # gets there by a burst of mail; here only the panel's part matters)
    with sqlite3.connect(os.path.join(s.data, "yubin.db")) as db:
        db.execute("INSERT INTO send_holds(address, since, reason, detail) VALUES (?, ?, ?, ?)",
                   (SUSPECT, int(time.time()), "new-recipients", "test"))
    assert account(s, SUSPECT)["sending_suspended"] is True
    try:
        s.start(wait_port="https")
        yield s
        s.stop()
    finally:
        dns.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def browse(srv, scenario, **params):
    """Runs tests/browser/SCENARIO.js; fails with its output unless it passes."""
    params.setdefault("url", "https://127.0.0.1:%d" % srv.port("https"))
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, scenario + ".js"), json.dumps(params)],
                       cwd=helpers.REPO, env=dict(os.environ, YUBIN_SCREENSHOTS=SHOTS),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "browser scenario %s failed:\n%s" % (scenario, out)


def browse_out(srv, scenario, **params):
    """browse() that returns the JSON the scenario printed last."""
    params.setdefault("url", "https://127.0.0.1:%d" % srv.port("https"))
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, scenario + ".js"), json.dumps(params)],
                       cwd=helpers.REPO, env=dict(os.environ, YUBIN_SCREENSHOTS=SHOTS),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "browser scenario %s failed:\n%s" % (scenario, out)
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def api_get(srv, path, token):
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (srv.port("https"), path),
                                 headers={"Authorization": "Bearer " + token})
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def account(srv, addr):
    p = srv.ctl("account", "show", addr, "--json", check=False)
    return json.loads(p.out) if p.returncode == 0 else None


def test_admin_adds_account_quota_and_bulk(srv):
    """Adds the domain added.test (a bad name refused first) and new1 (its
    memo with markup shown as text), refuses quota 0 next to the field,
    sets quota 300, disables it; a bulk add with a bad line 2 adds nothing
    and names the line, then all three; sets bulk1's password, lifts a
    sending suspension, deletes bulk3."""
    browse(srv, "admin", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, memo=MEMO,
           bulk1pw="Set-by-admin-135", suspect=SUSPECT, newDomain="added.test")
    assert "added.test" in srv.ctl("domain", "list").out
    a = account(srv, "new1@" + DOMAIN)
    assert a and a["quota_mb"] == 300 and a["memo"] == MEMO + " (2)" and a["enabled"] is False, a
    for n in (1, 2):
        b = account(srv, "bulk%d@%s" % (n, DOMAIN))
        assert b and b["quota_mb"] == 100, b
    assert account(srv, "bulk3@" + DOMAIN) is None      # deleted, after two questions
    # the accounts work for mail at once, with the passwords set in the panel
    assert imap_login_from(srv, "127.0.0.1", "bulk2@" + DOMAIN, "Bulk-pass-0002").startswith("OK")
    assert imap_login_from(srv, "127.0.0.1", "bulk1@" + DOMAIN, "Set-by-admin-135").startswith("OK")
    assert account(srv, SUSPECT)["sending_suspended"] is False


def test_admin_security_queue_dkim_doctor_tokens(srv):
    """An address blocked by failed logins is unblocked in the panel and
    can log in again; WATCHER's failed login is among the events filtered
    by account; a message for an unreachable domain is retried and then
    deleted (asked twice); new DKIM keys are made and activated and the
    DNS check shows MX and SPF published, DKIM missing and DMARC
    different; doctor examines an address; a token is created, shown once,
    and works as a Bearer token."""
    for i in range(6):
        auth_from(srv, BLOCKED_IP, "nobody@" + DOMAIN, "Wrong-pass-%d" % i)[0].expect(535)
    auth_from(srv, BLOCKED_IP, WATCHER)[0].expect(454)          # blocked now
    assert imap_login_from(srv, "127.0.0.3", WATCHER, "Wrong-pass-w").startswith("NO")
    qid = ou.inject(srv, WATCHER, ["r@remote.test"], "From: <%s>\nSubject: held\n\nbody\n" % WATCHER)
    assert qid in srv.ctl("queue", "list").out
    dkim_before = {r["name"] for r in json.loads(srv.ctl("domain", "dns", DOMAIN, "--json").out)["records"]
                   if "_domainkey" in r["name"]}
    got = browse_out(srv, "ops", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, blocked=BLOCKED_IP,
                     watcher=WATCHER, qid=qid)
    auth_from(srv, BLOCKED_IP, WATCHER)[0].expect(235)
    assert qid not in srv.ctl("queue", "list").out
    dkim_after = {r["name"] for r in json.loads(srv.ctl("domain", "dns", DOMAIN, "--json").out)["records"]
                  if "_domainkey" in r["name"]}
    assert dkim_after - dkim_before, (dkim_before, dkim_after)
    audit = srv.ctl("audit").out.splitlines()

    def did(op, target):
        return any(op in line and target in line and "admin:" + ADMIN in line for line in audit)
    for op, target in (("security.unblock", BLOCKED_IP), ("queue.retry", qid), ("queue.delete", qid),
                       ("dkim.rotate", DOMAIN), ("dkim.activate", DOMAIN), ("admin.add", "helper"),
                       ("admin.del", "helper"), ("token.create", got["token"].split("_")[1])):
        assert did(op, target), (op, target, audit)
    assert got["token"].startswith("yubin_"), got
    assert api_get(srv, "/api/v1/domains", got["token"]) == 200
    assert api_get(srv, "/api/v1/domains", got["token"] + "x") == 401
    for name in ("en-security-blocked", "en-audit-filtered", "en-queue-message", "en-dns-checked",
                 "en-doctor-result", "en-token-once"):
        assert os.path.getsize(os.path.join(SHOTS, name + ".png")) > 5000, name


def test_domain_admin_sees_only_its_domain(srv):
    browse(srv, "domain_admin", admin=SHOP, password=SHOP_PW, domain=SHOP_DOMAIN, other=DOMAIN,
           otherAccount=SUSPECT)
    out = srv.ctl("account", "list", SHOP_DOMAIN).out
    assert out.count("@" + SHOP_DOMAIN) == 55, out
    assert account(srv, "m55@" + SHOP_DOMAIN)["quota_mb"] == 50


def test_foreign_access_switch(srv):
    auth_from(srv, "127.0.0.2", TRAVELLER)[0].expect(535, "5.7.1")
    browse(srv, "foreign", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, want="off",
           allow="192.0.2.0/24, 198.51.100.0/24")
    settings = json.loads(srv.ctl("domain", "show", DOMAIN, "--json").out)["settings"]
    assert settings["foreign-auth-allow"] == "192.0.2.0/24, 198.51.100.0/24", settings
    auth_from(srv, "127.0.0.2", TRAVELLER)[0].expect(235)
    browse(srv, "foreign", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, want="on")
    auth_from(srv, "127.0.0.2", TRAVELLER)[0].expect(535, "5.7.1")


def test_user_changes_password(srv):
    new = "Changed-pass-2468!"
    assert imap_login_from(srv, "127.0.0.1", USER, PASSWORD).startswith("OK")
    # a failed login of its own, which the user finds in its history
    assert imap_login_from(srv, "127.0.0.3", USER, "Not-my-pass-1").startswith("NO")
    browse(srv, "user", address=USER, old=PASSWORD, new=new, forward="away@example.org",
           failedFrom="127.0.0.3")
    a = account(srv, USER)
    assert a["settings"].get("forward") == "away@example.org", a
    assert a["settings"].get("forward-keep") == "off", a
    assert imap_login_from(srv, "127.0.0.1", USER, PASSWORD).startswith("NO")
    assert imap_login_from(srv, "127.0.0.1", USER, new).startswith("OK")


def test_pages_in_japanese_and_english(srv):
    browse(srv, "i18n", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, account=TRAVELLER,
           user=TRAVELLER, userpw=PASSWORD)
    for name in ("ja-login", "ja-accounts", "ja-settings", "en-accounts", "en-settings-phone",
                 "ja-account-phone", "ja-mail-panel-phone", "en-mail-panel-desktop",
                 "ja-security", "en-security-phone", "ja-audit", "ja-queue", "en-queue-phone",
                 "ja-dns", "en-dns-phone", "ja-doctor", "ja-admins", "en-admins-phone"):
        path = os.path.join(SHOTS, name + ".png")
        assert os.path.getsize(path) > 5000, path


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def send25(srv, sender, rcpt, token):
    """A message from outside, over SMTP on the MX port."""
    msg = "From: <%s>\r\nTo: <%s>\r\nSubject: news %s\r\n\r\nhello %s\r\n" % (sender, rcpt, token, token)
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail(sender, [rcpt], msg.encode())
        assert replies[-1].code == 250, replies
    finally:
        c.quit()


def inbox_subject(srv, user, token, timeout=20):
    """The Subject of the INBOX message holding token, read over IMAP
    once it is there."""
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    try:
        m.login(user, PASSWORD)
        end = time.time() + timeout
        while True:
            typ, _ = m.select("INBOX")
            assert typ == "OK"
            typ, data = m.uid("SEARCH", None, "BODY", token)
            assert typ == "OK", data
            if data[0]:
                break
            assert time.time() < end, "no message with %s in %s's INBOX" % (token, user)
            time.sleep(0.2)
        uid = data[0].split()[-1]
        typ, data = m.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK", data
        return data[0][1].decode().strip()
    finally:
        m.logout()


def test_spam_filter_in_the_panels(srv):
    """An administrator sets the domain's level and action and adds an
    allow-list pattern (a bad one refused next to the field first); a
    mail user blocks a sender in its mail panel, and mail from it over
    port 25 arrives tagged "[SPAM] " in its INBOX (its own action); it
    removes the sender and turns its filter off, and the next message
    arrives untagged."""
    sender = "news@bulk.example"
    browse(srv, "spam", step="admin", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, level=5,
           action="junk", allow="*@partner.example", user=READER)
    settings = json.loads(srv.ctl("domain", "show", DOMAIN, "--json").out)["settings"]
    assert settings["spam-level"] == "5" and settings["spam-action"] == "junk", settings
    assert "*@partner.example" in srv.ctl("spam", "allow", "list", DOMAIN).out
    browse(srv, "spam", step="block", user=READER, userpw=PASSWORD, sender=sender, level=5)
    assert sender in srv.ctl("spam", "block", "list", READER).out
    tok = unique("blocked")
    send25(srv, sender, READER, tok)
    assert inbox_subject(srv, READER, tok) == "Subject: [SPAM] news " + tok
    browse(srv, "spam", step="unblock", user=READER, userpw=PASSWORD, sender=sender)
    assert sender not in srv.ctl("spam", "block", "list", READER).out
    assert account(srv, READER)["settings"].get("spam") == "off"
    tok = unique("unblocked")
    send25(srv, sender, READER, tok)
    assert inbox_subject(srv, READER, tok) == "Subject: news " + tok
    for name in ("en-spam-domain", "ja-spam-domain", "ja-account-spam", "ja-mail-panel-spam",
                 "en-mail-panel-spam"):
        assert os.path.getsize(os.path.join(SHOTS, name + ".png")) > 5000, name


def test_sorting_rules_and_auto_reply_in_the_mail_panel(srv):
    """A mail user adds sorting rules and turns the auto-reply on in its
    panel; mail over port 25 whose subject has the word lands in the folder
    the rule names (IMAP shows it), and the auto-reply is set as typed."""
    folder = "Reports"
    browse(srv, "rules", user=READER, password=PASSWORD, word="週報", folder=folder, subject="不在のお知らせ",
           bossWord="至急", bossFrom="boss@", bossFolder="Boss")
    rules = json.loads(srv.ctl("rules", "list", READER, "--json").out)
    assert [(r["name"], r["enabled"]) for r in rules] == [("news", False), ("reports", True), ("boss", True)], rules
    assert [(c["field"], c["match"], c["value"]) for c in rules[2]["conditions"]] == \
        [("subject", "contains", "至急"), ("sender", "contains", "boss@")], rules[2]
    assert [(a["type"], a.get("arg", "")) for a in rules[2]["actions"]] == [("copy", "Boss"), ("read", "")], rules[2]
    ar = json.loads(srv.ctl("autoreply", "show", READER, "--json").out)
    assert ar["on"] and ar["subject"] == "不在のお知らせ" and ar["days"] == 3 and ar["quote"] is True, ar
    assert ar["body"] == "ただいま不在です。\n月曜に戻ります。", ar
    tok = unique("rule")
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.send_mail("friend@partner.example", [READER],
                    ("From: <friend@partner.example>\r\nTo: <%s>\r\nSubject: =?UTF-8?B?%s?= %s\r\n"
                     "Message-ID: <%s@partner.example>\r\n\r\nbody\r\n" %
                     (READER, base64.b64encode("今週の週報".encode()).decode(), tok, tok)).encode())[-1].expect(250)
    finally:
        c.quit()
    md = os.path.join(srv.maildir(READER), "." + folder, "new")
    assert any(tok.encode() in open(os.path.join(md, n), "rb").read() for n in os.listdir(md)), os.listdir(md)
    for name in ("en-rules", "ja-autoreply", "ja-rules"):
        assert os.path.getsize(os.path.join(SHOTS, name + ".png")) > 5000, name
