"""The foreign-access restriction (issue 5): SMTP AUTH from a foreign
address is refused with 535 5.7.1 per domain, ON by default; the override
table makes loopback addresses foreign (127.0.0.2 -> US), the client binds
its socket to 127.0.0.2 and connects to the daemon on 127.0.0.1."""

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, PASSWORD
from protection_util import (auth_from, events, install_geoip, pop3_login_from, smtp_from, db_query)

USER = "user@" + DOMAIN
# make test fetches the real database (scripts/deps.sh test, with npm): these
# tests run against it, so a missing one fails instead of hiding them
NO_GEOIP = "no GeoIP database in build/geoip: scripts/deps.sh test fetches it with npm (see its output)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = helpers.Server(tmp_path_factory.mktemp("foreign")).setup()
    assert install_geoip(srv), NO_GEOIP
    srv.ctl("geoip", "override", "add", "127.0.0.2/32", "US")
    srv.ctl("geoip", "override", "add", "127.0.0.4", "jp")
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def test_foreign_refused_until_turned_off(server):
    r, _ = auth_from(server, "127.0.0.2", USER)
    r.expect(535, "5.7.1")
    assert "127.0.0.2 (US)" in r.text and "foreign-access restriction" in r.text, r
    ev = events(server, "auth-foreign", USER)
    assert ev and ev[-1][1] == "127.0.0.2" and "country=US" in ev[-1][2] and "rule=country" in ev[-1][2], ev
    doc = server.ctl("doctor", USER).out
    assert "AUTH from 127.0.0.2 (US) refused by the foreign-access restriction of example.test" in doc, doc
    assert "turn it off while abroad: yubinctl domain set example.test foreign-auth off" in doc, doc

    # takes effect at the next login, without a restart or a signal
    server.ctl("domain", "set", DOMAIN, "foreign-auth", "off")
    try:
        auth_from(server, "127.0.0.2", USER)[0].expect(235)
        auth_from(server, "127.0.0.2", USER, implicit=True)[0].expect(235)
        ok = events(server, "auth-ok", USER)
        assert any(ip == "127.0.0.2" and "country=US" in d for _, ip, d in ok), ok
    finally:
        server.ctl("domain", "set", DOMAIN, "foreign-auth", "on")
    auth_from(server, "127.0.0.2", USER)[0].expect(535, "5.7.1")
    auth_from(server, "127.0.0.2", USER, implicit=True)[0].expect(535, "5.7.1")


def test_loopback_always_accepted(server):
    auth_from(server, "127.0.0.1", USER)[0].expect(235)
    auth_from(server, "127.0.0.1", USER, implicit=True)[0].expect(235)
    auth_from(server, "127.0.0.5", USER)[0].expect(235)     # private, not in the override table


def test_wrong_password_from_abroad_tells_nothing(server):
    # the refusal does not depend on the password, so it is no password oracle
    r, _ = auth_from(server, "127.0.0.2", USER, "Wrong-pass-999")
    r.expect(535, "5.7.1")
    r, _ = auth_from(server, "127.0.0.2", "nobody@" + DOMAIN, PASSWORD)
    r.expect(535, "5.7.1")


def test_cidr_exemptions(server):
    server.ctl("domain", "set", DOMAIN, "foreign-auth-allow", "192.0.2.0/24, 127.0.0.2/32")
    try:
        auth_from(server, "127.0.0.2", USER)[0].expect(235)
    finally:
        server.ctl("domain", "set", DOMAIN, "foreign-auth-allow", "")
    auth_from(server, "127.0.0.2", USER)[0].expect(535, "5.7.1")
    bad = server.ctl("domain", "set", DOMAIN, "foreign-auth-allow", "127.0.0.1/8", check=False)
    assert bad.returncode != 0 and "host bits" in bad.err, bad.err

    # server-wide list (set while the daemon is stopped: a SIGHUP reload
    # keeps the old TLS contexts, which the leak checker would report)
    server.stop()
    server.ctl("config", "set", "foreign_auth.allow", "127.0.0.0/30")
    server.start()
    try:
        auth_from(server, "127.0.0.2", USER)[0].expect(235)
        auth_from(server, "127.0.0.6", USER)[0].expect(235)     # private, not overridden
    finally:
        server.stop()
        server.ctl("config", "set", "foreign_auth.allow", "")
        server.start()
    auth_from(server, "127.0.0.2", USER)[0].expect(535, "5.7.1")


def test_home_country(server):
    # 127.0.0.4 is mapped to JP, the default home country
    auth_from(server, "127.0.0.4", USER)[0].expect(235)
    server.ctl("domain", "set", DOMAIN, "foreign-auth-country", "US")
    try:
        auth_from(server, "127.0.0.2", USER)[0].expect(235)
        r, _ = auth_from(server, "127.0.0.4", USER)
        r.expect(535, "5.7.1")
        assert "(JP)" in r.text and "only from US" in r.text, r
    finally:
        server.ctl("domain", "set", DOMAIN, "foreign-auth-country", "JP")
    assert server.ctl("domain", "set", DOMAIN, "foreign-auth-country", "JPN", check=False).returncode != 0


def test_override_table_commands(server):
    out = server.ctl("geoip", "override", "list").out
    assert "127.0.0.2/32" in out and "US" in out and "127.0.0.4/32" in out and "JP" in out, out
    server.ctl("geoip", "override", "add", "127.0.0.6/31", "DE")
    auth_from(server, "127.0.0.7", USER)[0].expect(535, "5.7.1")
    server.ctl("geoip", "override", "del", "127.0.0.6/31")
    auth_from(server, "127.0.0.7", USER)[0].expect(235)
    assert server.ctl("geoip", "override", "del", "127.0.0.6/31", check=False).returncode == 1
    assert server.ctl("geoip", "override", "add", "127.0.0.1/24", "US", check=False).returncode == 1
    out = server.ctl("geoip", "lookup", "127.0.0.2").out
    assert "US (override 127.0.0.2/32)" in out, out


def test_pop3_switch(server):
    # off by default: POP3 from abroad works, SMTP AUTH does not
    assert pop3_login_from(server, "127.0.0.2", USER).startswith(b"+OK")
    server.ctl("domain", "set", DOMAIN, "foreign-auth-mail", "on")
    try:
        r = pop3_login_from(server, "127.0.0.2", USER)
        assert r.startswith(b"-ERR [AUTH] ") and b"foreign-access restriction" in r, r
        assert pop3_login_from(server, "127.0.0.1", USER).startswith(b"+OK")
        ev = events(server, "auth-foreign", USER)
        assert ev[-1][2].startswith("pop3 "), ev[-1]
    finally:
        server.ctl("domain", "set", DOMAIN, "foreign-auth-mail", "off")
    assert pop3_login_from(server, "127.0.0.2", USER).startswith(b"+OK")


def test_new_domain_is_on_by_default(server):
    server.ctl("domain", "add", "second.test")
    server.add_account("taro@second.test")
    auth_from(server, "127.0.0.2", "taro@second.test")[0].expect(535, "5.7.1")
    auth_from(server, "127.0.0.1", "taro@second.test")[0].expect(235)


def test_reverse_dns_exemption(new_server, tmp_path):
    """A local DNS server (dnsmasq, through dns.resolver) gives 127.0.0.2 and
    127.0.0.3 forward-confirmed names; both addresses are foreign by the
    override table. The default suffixes exempt the google.com name only;
    a suffix added to foreign_auth.rdns_allow exempts the other."""
    dns = ou.Dnsmasq(tmp_path / "dns", hosts={"smtp-relay.mail.google.com": "127.0.0.2",
                                              "ppp-3.example-isp.test": "127.0.0.3"}).start()
    try:
        srv = new_server(start=False, config={"dns.resolver": dns.resolver})
        srv.ctl("geoip", "override", "add", "127.0.0.2", "US")
        srv.ctl("geoip", "override", "add", "127.0.0.3", "US")
        srv.start()
        auth_from(srv, "127.0.0.2", USER)[0].expect(235)
        assert "allowed by rule rdns smtp-relay.mail.google.com" in srv.log(), srv.log_tail()
        auth_from(srv, "127.0.0.3", USER)[0].expect(535, "5.7.1")   # not a default suffix
        # config set signals the daemon, which reloads on its own time
        reloads = srv.log().count("reload: settings and certificates reloaded")
        srv.ctl("config", "set", "foreign_auth.rdns_allow", "google.com,example-isp.test")
        assert ou.wait_for(lambda: srv.log().count("reload: settings and certificates reloaded") > reloads,
                           timeout=30), srv.log_tail()
        auth_from(srv, "127.0.0.3", USER)[0].expect(235)
        assert "allowed by rule rdns ppp-3.example-isp.test" in srv.log(), srv.log_tail()
    finally:
        dns.stop()


def test_missing_database_is_loud(new_server):
    srv = new_server()      # no database installed
    log = srv.log()
    assert "COUNTRY DATABASE MISSING" in log, log
    ev = events(srv, "geoip-missing")
    assert ev and "geoip.missing = allow" in ev[0][2], ev
    # the override table still decides; loopback stays exempt
    srv.ctl("geoip", "override", "add", "127.0.0.2", "US")
    auth_from(srv, "127.0.0.2", USER)[0].expect(535, "5.7.1")
    auth_from(srv, "127.0.0.1", USER)[0].expect(235)


def test_geoip_update_from_file(new_server, tmp_path):
    srv = new_server(start=False)
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not a database")
    p = srv.ctl("geoip", "update", "--from", str(bad), check=False)
    assert p.returncode == 1 and "not a usable MaxMind DB" in p.err, p.err
    from protection_util import GEOIP_CACHE
    import os
    assert os.path.exists(GEOIP_CACHE), NO_GEOIP
    srv.ctl("geoip", "update", "--from", GEOIP_CACHE)
    assert os.path.getsize(os.path.join(srv.data, "geoip", "country.mmdb")) > 1000000
    srv.start()
    assert "country database loaded" in srv.log()
    assert not events(srv, "geoip-missing")
