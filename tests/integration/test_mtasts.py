"""Inbound MTA-STS (RFC 8461) and TLS reporting (RFC 8460): the policy
served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt (http/http_mtasts.c,
the Host header picks the domain), the domain settings mta-sts and
mta-sts-max-age, and the _mta-sts / _smtp._tls records (and the policy
host) in yubinctl domain dns and the API, with the live check."""
import http.client
import json
import ssl

import pytest

import outbound_util as ou
from helpers import DOMAIN, HOST, HOSTNAME


@pytest.fixture
def srv(new_server):
    return new_server()


def fetch(srv, host, path="/.well-known/mta-sts.txt", tls=True, method="GET"):
    if tls:
        ctx = ssl.create_default_context(cafile=srv.crt)
        ctx.check_hostname = False      # the Host header names the domain, not the certificate
        conn = http.client.HTTPSConnection(HOST, srv.port("https"), context=ctx, timeout=30)
    else:
        conn = http.client.HTTPConnection(HOST, srv.port("http"), timeout=30)
    try:
        conn.request(method, path, headers={"Host": host})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()
    finally:
        conn.close()


def policy(mode="testing", max_age=604800):
    return ("version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %d\r\n" % (mode, HOSTNAME, max_age)).encode()


def records(srv, *more):
    return json.loads(srv.ctl("domain", "dns", DOMAIN, "--json", *more).out)["records"]


def by_name(recs):
    return {r["name"]: r for r in recs}


def sts_id(srv):
    rec = by_name(records(srv))["_mta-sts.%s." % DOMAIN]
    assert rec["type"] == "TXT" and rec["value"].startswith("v=STSv1; id="), rec
    return rec["value"][len("v=STSv1; id="):]


def test_policy_served_for_the_host_header(srv):
    status, ctype, body = fetch(srv, "mta-sts." + DOMAIN)
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype, body)
    assert body == policy(), body
    # a port in the Host header, upper case, a final dot: the same domain
    assert fetch(srv, "MTA-STS.%s:443" % DOMAIN.upper())[2] == policy()
    assert fetch(srv, "mta-sts.%s." % DOMAIN)[2] == policy()
    # HEAD: the headers only
    status, ctype, body = fetch(srv, "mta-sts." + DOMAIN, method="HEAD")
    assert status == 200 and body == b""


def test_policy_lists_every_mail_host_name(srv):
    """mx: the server's name, mail.DOMAIN and each added host name, once."""
    first = sts_id(srv)
    srv.ctl("cert", "add", DOMAIN, "smtp." + DOMAIN)
    srv.ctl("cert", "add", DOMAIN, "MX2." + DOMAIN)
    body = fetch(srv, "mta-sts." + DOMAIN)[2].decode()
    mx = [line[4:] for line in body.split("\r\n") if line.startswith("mx: ")]
    assert mx == [HOSTNAME, "mx2." + DOMAIN, "smtp." + DOMAIN], body
    assert body.startswith("version: STSv1\r\nmode: testing\r\n") and body.endswith("max_age: 604800\r\n")
    assert sts_id(srv) != first                 # a new policy, a new id
    srv.ctl("cert", "remove", "smtp." + DOMAIN)
    body = fetch(srv, "mta-sts." + DOMAIN)[2].decode()
    assert "smtp." + DOMAIN not in body and "mx: mx2." + DOMAIN + "\r\n" in body, body


def test_policy_refused_for_other_names(srv):
    for host in ("mta-sts.unknown.test", DOMAIN, HOSTNAME, "autoconfig." + DOMAIN, "mta-sts.",
                 "mta-sts.%s:x" % DOMAIN, "mta-sts.a b", "mta-sts." + "a" * 300):
        status, _, body = fetch(srv, host)
        assert status == 404, (host, status, body)
    assert fetch(srv, "mta-sts." + DOMAIN, method="POST")[0] == 405
    # never over plain HTTP (RFC 8461 §3.3: HTTPS only, no redirect)
    status, _, body = fetch(srv, "mta-sts." + DOMAIN, tls=False)
    assert status == 404, (status, body)


def test_mode_and_max_age_settings_change_policy_and_id(srv):
    first = sts_id(srv)
    assert first.isalnum() and 1 <= len(first) <= 32, first
    srv.ctl("domain", "set", DOMAIN, "mta-sts", "enforce")
    assert fetch(srv, "mta-sts." + DOMAIN)[2] == policy("enforce")
    second = sts_id(srv)
    assert second != first
    srv.ctl("domain", "set", DOMAIN, "mta-sts-max-age", "30d")
    assert fetch(srv, "mta-sts." + DOMAIN)[2] == policy("enforce", 30 * 86400)
    third = sts_id(srv)
    assert third not in (first, second)
    assert sts_id(srv) == third                 # the same policy, the same id
    srv.ctl("domain", "set", DOMAIN, "mta-sts", "none")
    assert fetch(srv, "mta-sts." + DOMAIN)[2] == policy("none", 30 * 86400)
    for key, bad in (("mta-sts", "strict"), ("mta-sts-max-age", "1h"), ("mta-sts-max-age", "400d")):
        p = srv.ctl("domain", "set", DOMAIN, key, bad, check=False)
        assert p.returncode != 0 and key in p.err, (key, bad, p.err)
    listed = {s["key"]: s for s in json.loads(srv.ctl("settings", "list", "--json").out)}
    assert listed["mta-sts"]["default"] == "testing", listed["mta-sts"]
    assert listed["mta-sts-max-age"]["default"] == "604800", listed["mta-sts-max-age"]


def test_dns_records_printed(srv):
    recs = by_name(records(srv))
    tls = recs["_smtp._tls.%s." % DOMAIN]
    assert tls["type"] == "TXT" and tls["value"] == "v=TLSRPTv1; rua=mailto:postmaster@%s" % DOMAIN, tls
    host = recs["mta-sts.%s." % DOMAIN]
    assert host["type"] == "CNAME" and host["value"] == HOSTNAME + ".", host
    out = srv.ctl("domain", "dns", DOMAIN).out
    assert '_mta-sts.%s.' % DOMAIN in out and '"v=STSv1; id=' in out, out
    assert '_smtp._tls.%s.' % DOMAIN in out and "v=TLSRPTv1; rua=mailto:postmaster@" in out, out
    # the admin-address of the domain receives the reports
    srv.ctl("domain", "set", DOMAIN, "admin-address", "it@" + DOMAIN)
    tls = by_name(records(srv))["_smtp._tls.%s." % DOMAIN]
    assert tls["value"] == "v=TLSRPTv1; rua=mailto:it@%s" % DOMAIN, tls


@pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")
def test_live_check(new_server, tmp_path):
    srv = new_server(start=False)
    sid = sts_id(srv)
    d = ou.Dnsmasq(tmp_path / "dns", txt={"_mta-sts." + DOMAIN: "v=STSv1; id=" + sid,
                                          "_smtp._tls." + DOMAIN: "v=TLSRPTv1; rua=mailto:x@other.test"},
                   hosts={HOSTNAME: "127.0.0.9", "mta-sts." + DOMAIN: "127.0.0.9"}).start()
    try:
        srv.ctl("config", "set", "dns.resolver", d.resolver)
        recs = by_name(records(srv, "--check"))
        assert recs["_mta-sts.%s." % DOMAIN]["dns"] == "published", recs["_mta-sts.%s." % DOMAIN]
        assert recs["mta-sts.%s." % DOMAIN]["dns"] == "published", recs["mta-sts.%s." % DOMAIN]
        tls = recs["_smtp._tls.%s." % DOMAIN]
        assert tls["dns"] == "different" and tls["found"] == "v=TLSRPTv1; rua=mailto:x@other.test", tls
        # a new policy: the published id is now the old one
        srv.ctl("domain", "set", DOMAIN, "mta-sts", "enforce")
        recs = by_name(records(srv, "--check"))
        assert recs["_mta-sts.%s." % DOMAIN]["dns"] == "different", recs["_mta-sts.%s." % DOMAIN]
    finally:
        d.stop()
    d = ou.Dnsmasq(tmp_path / "dns2", hosts={HOSTNAME: "127.0.0.9", "mta-sts." + DOMAIN: "127.0.0.10"}).start()
    try:
        srv.ctl("config", "set", "dns.resolver", d.resolver)
        recs = by_name(records(srv, "--check"))
        host = recs["mta-sts.%s." % DOMAIN]
        assert host["dns"] == "different" and host["found"] == "127.0.0.10", host
        assert recs["_mta-sts.%s." % DOMAIN]["dns"] == "missing"
    finally:
        d.stop()
