"""The typed settings layer as a user of yubinctl sees it: one boolean
parser for every on/off setting, doctor and the daemon deciding alike,
every key listed with its help, secrets masked, very wide exemption
ranges warned about, doctor's exit status and its memory of refusals for a
full mailbox, and one answer from geoip lookup."""

import json
import os
import smtplib

import pytest

from helpers import DOMAIN, HOST, PASSWORD, Server
from protection_util import db_query, install_geoip

USER = "user@" + DOMAIN
SECRET = "relay-pa55-word"


@pytest.fixture
def ctl(tmp_path):
    """A fresh data directory with example.test and one account; no daemon."""
    return Server(tmp_path).setup()


def test_bool_values_normalised(ctl):
    for given, stored in (("NO", "off"), ("yes", "on"), ("False", "off"), ("1", "on"), ("oFF", "off")):
        out = ctl.ctl("domain", "set", DOMAIN, "foreign-auth-mail", given).out
        assert "foreign-auth-mail = %s" % stored in out, out
        rows = db_query(ctl, "SELECT value FROM settings WHERE key = 'foreign-auth-mail'")
        assert rows == [(stored,)], rows
    p = ctl.ctl("account", "set", USER, "forward-keep", "maybe", check=False)
    assert p.returncode == 1 and "on or off" in p.err, p.err
    # the account column takes the same words
    ctl.ctl("account", "set", USER, "enabled", "No")
    assert ctl.account_json(USER)["enabled"] is False
    ctl.ctl("account", "set", USER, "enabled", "TRUE")
    assert ctl.account_json(USER)["enabled"] is True


def test_doctor_reads_switch_like_the_daemon(ctl):
    # a value stored by an older yubinctl, or by hand, in another spelling:
    # the daemon has always read "no" as off; doctor now reads it the same way
    db_query(ctl, "INSERT OR REPLACE INTO settings (scope, name, key, value) VALUES"
                  " ('domain', ?, 'foreign-auth', 'no')", (DOMAIN,))
    out = ctl.ctl("doctor", USER).out
    assert "foreign-access restriction of %s: off" % DOMAIN in out, out
    db_query(ctl, "UPDATE settings SET value = 'TRUE' WHERE key = 'foreign-auth'")
    out = ctl.ctl("doctor", USER).out
    assert "foreign-access restriction of %s: on (SMTP AUTH only from JP)" % DOMAIN in out, out


def test_settings_list_every_key(ctl):
    js = json.loads(ctl.ctl("settings", "list", "--json").out)
    keys = {s["key"]: s for s in js}
    for k in ("hostname", "smtp.relayhost_password", "foreign_auth.allow", "foreign-auth",
              "foreign-auth-allow", "forward", "send-limit-hour", "memo", "enabled"):
        assert k in keys, k
    for s in js:
        assert s["help_en"] and s["help_ja"] and s["type"] and s["scopes"], s
    assert keys["foreign-auth"]["scopes"] == ["domain"] and keys["foreign-auth"]["default"] == "on"
    assert keys["send-limit-hour"]["scopes"] == ["domain", "account"]
    assert keys["smtp.relayhost_password"]["secret"] is True
    # every server key is one config list shows, and the other way round
    conf = json.loads(ctl.ctl("config", "list", "--json").out)
    assert set(conf) == {s["key"] for s in js if s["scopes"] == ["server"]}
    text = ctl.ctl("settings", "list", "domain").out
    assert "foreign-auth  (domain; on|off; default on)" in text, text
    assert "海外" in text and "hostname" not in text, text
    p = ctl.ctl("domain", "set", DOMAIN, "foreign-auth-typo", "on", check=False)
    assert p.returncode == 1 and "foreign-auth-mail" in p.err and "settings list domain" in p.err, p.err
    p = ctl.ctl("settings", "list", "galaxy", check=False)
    assert p.returncode == 1 and "server, domain or account" in p.err


def test_secret_masked(ctl):
    out = ctl.ctl("config", "set", "smtp.relayhost_password", SECRET).out
    assert SECRET not in out and "smtp.relayhost_password = ********" in out, out
    with open(os.path.join(ctl.data, "yubin.conf")) as f:
        assert "smtp.relayhost_password = %s" % SECRET in f.read()
    listing = ctl.ctl("config", "list").out
    assert SECRET not in listing and "smtp.relayhost_password = ********" in listing, listing
    js = ctl.ctl("config", "list", "--json").out
    assert SECRET not in js and json.loads(js)["smtp.relayhost_password"] == "********"
    assert ctl.ctl("config", "get", "smtp.relayhost_password").out.strip() == "********"
    assert ctl.ctl("config", "get", "smtp.relayhost_password", "--show-secrets").out.strip() == SECRET
    shown = json.loads(ctl.ctl("config", "list", "--json", "--show-secrets").out)
    assert shown["smtp.relayhost_password"] == SECRET
    # the user name is no secret; the event log never gets the password
    ctl.ctl("config", "set", "smtp.relayhost_user", "relayuser")
    assert ctl.ctl("config", "get", "smtp.relayhost_user").out.strip() == "relayuser"
    rows = db_query(ctl, "SELECT detail FROM events WHERE kind = 'config-changed'")
    assert rows and not any(SECRET in r[0] for r in rows), rows
    out = ctl.ctl("config", "set", "smtp.relayhost_password", "").out
    assert "smtp.relayhost_password =  (was ********)" in out, out
    # on the command line it is warned about; "-" reads it from standard input
    p = ctl.ctl("config", "set", "smtp.relayhost_password", SECRET)
    assert "process list" in p.err and "config set smtp.relayhost_password -" in p.err, p.err
    p = ctl.ctl("config", "set", "smtp.relayhost_password", "-", input=SECRET + "2\r\n")
    assert p.err == "" and SECRET not in p.out, (p.out, p.err)
    assert ctl.ctl("config", "get", "smtp.relayhost_password", "--show-secrets").out.strip() == SECRET + "2"
    p = ctl.ctl("config", "set", "smtp.relayhost_password", "-", check=False)
    assert p.returncode == 1 and "no value on standard input" in p.err, p.err
    p = ctl.ctl("config", "set", "smtp.relayhost_password", "-", input="x" * 5000, check=False)
    assert p.returncode == 1 and "longer than" in p.err, p.err
    assert ctl.ctl("config", "get", "smtp.relayhost_password", "--show-secrets").out.strip() == SECRET + "2"
    assert ctl.ctl("config", "set", "smtp.relayhost_user", "relayuser").err == ""


@pytest.mark.parametrize("value", ["0.0.0.0/0", "::/0", "192.0.2.0/24, 0.0.0.0/1"])
def test_wide_foreign_allow_warns(ctl, value):
    p = ctl.ctl("domain", "set", DOMAIN, "foreign-auth-allow", value)
    assert "warning:" in p.err and "foreign-access restriction" in p.err, p.err
    if value.endswith("/0"):
        assert "anywhere in the world" in p.err, p.err
    p = ctl.ctl("config", "set", "foreign_auth.allow", value)
    assert "warning:" in p.err and "foreign-access restriction" in p.err, p.err
    # a narrow range is taken without a word
    p = ctl.ctl("domain", "set", DOMAIN, "foreign-auth-allow", "203.0.113.0/24")
    assert p.err == "", p.err


def test_config_duration_suffix(ctl):
    ctl.ctl("config", "set", "smtp.timeout", "5m")
    assert ctl.ctl("config", "get", "smtp.timeout").out.strip() == "300"
    p = ctl.ctl("config", "set", "smtp.timeout", "2d", check=False)
    assert p.returncode == 1 and "out of range" in p.err, p.err


def test_doctor_exit_status(ctl):
    assert ctl.ctl("doctor", USER).returncode == 0
    ctl.ctl("account", "disable", USER)
    p = ctl.ctl("doctor", USER, check=False)
    assert p.returncode == 1 and "FAIL  the account is disabled" in p.out, p.out
    p = ctl.ctl("doctor", "nobody@" + DOMAIN, check=False)
    assert p.returncode == 1 and "there is no account" in p.out, p.out
    assert "exit status 1" in ctl.ctl("help").out


def test_doctor_mentions_recent_full_mailbox(tmp_path):
    srv = Server(tmp_path, accounts=[(USER, PASSWORD, 1)]).setup()
    srv.start()
    try:
        s = smtplib.SMTP(HOST, srv.port("smtp"), timeout=20)
        try:
            s.ehlo("client.test")
            with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
                s.sendmail("someone@client.test", [USER], b"Subject: big\r\n\r\n" + b"x" * 2000000 + b"\r\n")
            assert e.value.recipients[USER][0] == 552
        finally:
            s.quit()
    finally:
        srv.stop()
    p = srv.ctl("doctor", USER)
    assert "the mailbox uses" in p.out, p.out
    assert "WARN  the mailbox was full and refused mail 1 time in the last 7 days" in p.out, p.out


def test_geoip_lookup_one_answer(tmp_path):
    srv = Server(tmp_path).setup()
    install_geoip(srv)
    srv.ctl("geoip", "override", "add", "127.0.0.2/32", "US")
    lines = [l for l in srv.ctl("geoip", "lookup", "127.0.0.2").out.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("127.0.0.2: US (override 127.0.0.2/32)"), lines
    lines = [l for l in srv.ctl("geoip", "lookup", "127.0.0.3").out.splitlines() if l.strip()]
    assert lines == ["127.0.0.3: private or loopback address (always exempt)"], lines
    lines = [l for l in srv.ctl("geoip", "lookup", "192.0.2.1").out.splitlines() if l.strip()]
    assert len(lines) == 1, lines


def test_unset_returns_to_domain_then_default(ctl):
    ctl.ctl("domain", "set", DOMAIN, "trash-expire-days", "30")
    ctl.ctl("account", "set", USER, "forward-keep", "off")
    out = ctl.ctl("account", "unset", USER, "forward-keep").out
    assert "forward-keep reset to on" in out, out
    assert db_query(ctl, "SELECT key FROM settings WHERE name = ?", (USER,)) == []
    out = ctl.ctl("account", "unset", USER, "forward-keep").out
    assert "forward-keep was not set; it is on" in out, out
    out = ctl.ctl("domain", "unset", DOMAIN, "trash-expire-days").out
    assert "trash-expire-days reset to 7 (the default)" in out, out
    p = ctl.ctl("account", "unset", USER, "memo", check=False)
    assert p.returncode == 1 and "no default" in p.err, p.err
    p = ctl.ctl("domain", "unset", DOMAIN, "no-such", check=False)
    assert p.returncode == 1 and "unknown setting" in p.err, p.err
