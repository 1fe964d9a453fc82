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
    """{'mx': rec, 'spf': rec, 'dmarc': rec, 'rsa': rec, 'ed25519': rec}"""
    out = {}
    for r in recs:
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
        assert out.count("; DNS now: missing") == 1, out
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
