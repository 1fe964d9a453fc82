"""The panels in a real browser (issue 11, section 8): Debian's chromium,
headless, driven by playwright-core (node scripts under tests/browser/),
against a real yubind serving build/web and the JSON API. What the browser
changes is then checked with real mail clients: SMTP AUTH from an address
the GeoIP override puts abroad, IMAP with the old and new password.
Screenshots of every page in Japanese and English (desktop and phone) are
kept in build/screenshots."""

import json
import os
import shutil
import sqlite3
import subprocess
import time

import pytest

import helpers
from helpers import DOMAIN, PASSWORD
from protection_util import auth_from, install_geoip
from test_imap_auth import login_from as imap_login_from

BROWSER_DIR = os.path.join(helpers.REPO, "tests", "browser")
WEB = os.path.join(helpers.REPO, "build", "web")
SHOTS = os.path.join(helpers.REPO, "build", "screenshots")
CHROMIUM = os.environ.get("YUBIN_CHROMIUM", "/usr/bin/chromium")
ADMIN, ADMIN_PW = "root", "Admin-pass-8080"
SHOP, SHOP_PW, SHOP_DOMAIN = "shop", "Shop-pass-5150", "shop.test"
USER = "user@" + DOMAIN
TRAVELLER = "traveller@" + DOMAIN
SUSPECT = "suspect@" + DOMAIN
MEMO = "<b>bold</b> & <script>alert(1)</script>"
NEEDS = "scripts/deps.sh test installs chromium and node; make builds build/web (npm ci)"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    modules = os.path.join(helpers.REPO, "node_modules")
    for what, ok in (("node", shutil.which("node")), (CHROMIUM, os.access(CHROMIUM, os.X_OK)),
                     ("playwright-core", os.path.isdir(os.path.join(modules, "playwright-core"))),
                     ("build/web", os.path.exists(os.path.join(WEB, "app.js")))):
        assert ok, "%s missing: %s" % (what, NEEDS)
    # the screenshots are this run's (a failing scenario leaves FAILED-NAME.png)
    shutil.rmtree(SHOTS, ignore_errors=True)
    s = helpers.Server(tmp_path_factory.mktemp("browser"), domains=(DOMAIN, SHOP_DOMAIN),
                       accounts=[(USER, PASSWORD, None), (TRAVELLER, PASSWORD, None),
                                 (SUSPECT, PASSWORD, None)]).setup()
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
    s.start(wait_port="https")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def browse(srv, scenario, **params):
    """Runs tests/browser/SCENARIO.js; fails with its output unless it passes."""
    params.setdefault("url", "https://127.0.0.1:%d" % srv.port("https"))
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, scenario + ".js"), json.dumps(params)],
                       cwd=helpers.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "browser scenario %s failed:\n%s" % (scenario, out)


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


def test_domain_admin_sees_only_its_domain(srv):
    browse(srv, "domain_admin", admin=SHOP, password=SHOP_PW, domain=SHOP_DOMAIN, other=DOMAIN)
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
    browse(srv, "user", address=USER, old=PASSWORD, new=new, forward="away@example.org")
    a = account(srv, USER)
    assert a["settings"].get("forward") == "away@example.org", a
    assert a["settings"].get("forward-keep") == "off", a
    assert imap_login_from(srv, "127.0.0.1", USER, PASSWORD).startswith("NO")
    assert imap_login_from(srv, "127.0.0.1", USER, new).startswith("OK")


def test_pages_in_japanese_and_english(srv):
    browse(srv, "i18n", admin=ADMIN, password=ADMIN_PW, domain=DOMAIN, account=TRAVELLER,
           user=TRAVELLER, userpw=PASSWORD)
    for name in ("ja-login", "ja-accounts", "ja-settings", "en-accounts", "en-settings-phone",
                 "ja-account-phone", "ja-mail-panel-phone", "en-mail-panel-desktop"):
        path = os.path.join(SHOTS, name + ".png")
        assert os.path.getsize(path) > 5000, path
