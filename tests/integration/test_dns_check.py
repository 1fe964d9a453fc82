"""The live DNS check of a domain's records (`yubinctl domain dns --check`,
ops/ops_dns.c): what a real DNS server (dnsmasq) answers for each record
Yubin asks to publish: published, missing or different."""
import json

import pytest

import outbound_util as ou
from helpers import DOMAIN, HOSTNAME

pytestmark = pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")


def records(srv, *more):
    return json.loads(srv.ctl("domain", "dns", DOMAIN, "--json", *more).out)["records"]


def by_purpose(recs):
    """{'mx': rec, 'spf': rec, 'dmarc': rec, 'rsa': rec, 'ed25519': rec}
    (the SRV, MTA-STS and TLS-RPT records are left out: see srv_records)"""
    out = {}
    for r in recs:
        if r["type"] in ("SRV", "CNAME") or r["name"].startswith(("_mta-sts.", "_smtp._tls.")):
            continue      # (the MTA-STS and TLS-RPT records: test_mtasts.py)
        if "_domainkey" in r["name"]:
            out["ed25519" if "k=ed25519" in r["value"] else "rsa"] = r
        elif r["name"].startswith("_dmarc."):
            out["dmarc"] = r
        else:
            out[r["type"].lower() if r["type"] == "MX" else "spf"] = r
    return out


def test_published_missing_different(new_server, tmp_path):
    srv = new_server(start=False)
    want = by_purpose(records(srv))
    assert set(want) == {"mx", "spf", "rsa", "ed25519", "dmarc"}
    assert "dns" not in want["mx"]          # no check unless asked
    # publish MX, SPF and the RSA key as asked; DMARC with another policy;
    # the Ed25519 key not at all
    txt = {DOMAIN: want["spf"]["value"],
           want["rsa"]["name"].rstrip("."): want["rsa"]["value"],
           "_dmarc." + DOMAIN: "v=DMARC1; p=reject"}
    d = ou.Dnsmasq(tmp_path / "dns", txt=txt, mx=[(DOMAIN, HOSTNAME, 10)]).start()
    try:
        srv.ctl("config", "set", "dns.resolver", d.resolver)
        got = by_purpose(records(srv, "--check"))
        assert got["mx"]["dns"] == "published", got["mx"]
        assert got["spf"]["dns"] == "published", got["spf"]
        assert got["rsa"]["dns"] == "published", got["rsa"]
        assert got["ed25519"]["dns"] == "missing", got["ed25519"]
        assert got["dmarc"]["dns"] == "different", got["dmarc"]
        assert got["dmarc"]["found"] == "v=DMARC1; p=reject"
        # the same in the zone-file output, as a comment over each record
        out = srv.ctl("domain", "dns", DOMAIN, "--check").out
        assert "; DNS now: different: v=DMARC1; p=reject\n_dmarc.%s." % DOMAIN in out, out
        assert out.count("; DNS now: published") == 3, out
        # the Ed25519 key, the SRV records, _mta-sts, mta-sts and _smtp._tls
        assert out.count("; DNS now: missing") == 1 + 6 + 3, out
    finally:
        d.stop()


def test_mx_elsewhere_is_different(new_server, tmp_path):
    srv = new_server(start=False)
    d = ou.Dnsmasq(tmp_path / "dns", mx=[(DOMAIN, "mx.other.test", 10)]).start()
    try:
        srv.ctl("config", "set", "dns.resolver", d.resolver)
        got = by_purpose(records(srv, "--check"))
        assert got["mx"]["dns"] == "different"
        assert got["mx"]["found"] == "10 mx.other.test."
        assert got["spf"]["dns"] == "missing" and got["dmarc"]["dns"] == "missing"
    finally:
        d.stop()


def test_dead_resolver_is_unknown_not_missing(new_server):
    srv = new_server(start=False)
    srv.ctl("config", "set", "dns.resolver", "127.0.0.1:%d" % ou.free_port())
    got = by_purpose(records(srv, "--check"))
    assert {r["dns"] for r in got.values()} == {"unknown"}, got
    assert all(r["found"].startswith("lookup failed") for r in got.values())


def test_check_needs_the_domain(new_server):
    srv = new_server(start=False)
    p = srv.ctl("domain", "dns", "nowhere.test", "--check", check=False)
    assert p.returncode == 1 and "no such domain: nowhere.test" in p.err


def srv_records(recs):
    """{'_imaps': rec, ...}: the RFC 6186 service records by service."""
    return {r["name"].split(".")[0]: r for r in recs if r["type"] == "SRV"}


def test_srv_records_asked_for(new_server):
    """RFC 6186/8314: implicit TLS first (lower priority number), the
    STARTTLS ports listed after them, the server's host name as target."""
    srv = new_server(start=False)
    got = srv_records(records(srv))
    want = {"_submissions": (0, 465), "_submission": (10, 587), "_imaps": (0, 993), "_imap": (10, 143),
            "_pop3s": (20, 995), "_pop3": (30, 110)}
    assert set(got) == set(want)
    for service, (prio, port) in want.items():
        r = got[service]
        assert r["name"] == "%s._tcp.%s." % (service, DOMAIN)
        assert r["value"] == "%d 1 %d %s." % (prio, port, HOSTNAME), r
    out = srv.ctl("domain", "dns", DOMAIN).out
    assert "_imaps._tcp.%s." % DOMAIN in out and "IN SRV 0 1 993 %s.\n" % HOSTNAME in out, out


def test_srv_published_missing_different(new_server, tmp_path):
    srv = new_server(start=False)
    d = ou.Dnsmasq(tmp_path / "dns", srv=[("_imaps._tcp." + DOMAIN, HOSTNAME, 993, 0, 1),
                                          ("_submissions._tcp." + DOMAIN, HOSTNAME, 587, 0, 1),
                                          ("_pop3s._tcp." + DOMAIN, "mail.other.test", 995, 5, 1),
                                          ("_pop3s._tcp." + DOMAIN, HOSTNAME, 995, 20, 1)]).start()
    try:
        srv.ctl("config", "set", "dns.resolver", d.resolver)
        got = srv_records(records(srv, "--check"))
        assert got["_imaps"]["dns"] == "published", got["_imaps"]
        assert got["_pop3s"]["dns"] == "published", got["_pop3s"]   # one of two matches
        assert got["_submissions"]["dns"] == "different", got["_submissions"]
        assert got["_submissions"]["found"] == "0 1 587 %s." % HOSTNAME
        assert got["_imap"]["dns"] == "missing" and got["_submission"]["dns"] == "missing"
    finally:
        d.stop()
