"""Outbound MTA-STS (RFC 8461, server/outbound_sts.c and outbound.c): the
recipient domain's _mta-sts record through dns.resolver (dnsmasq), its
policy fetched over HTTPS from mta-sts.DOMAIN (a test peer on port 443
with a certificate from a test CA, trusted through mta_sts.ca_file), and
delivery to test SMTP peers with and without STARTTLS and with a good or
a wrong certificate: enforce defers with 4xx and never sends in the clear,
testing delivers and records the failure for the TLS report."""
import base64
import email
import gzip
import json
import os
import random
import time

import pytest

import helpers
import outbound_util as ou
import sts_util
from helpers import DOMAIN

LOCAL = "user@" + DOMAIN

pytestmark = pytest.mark.skipif(not os.access(ou.DNSMASQ, os.X_OK) or os.geteuid() != 0,
                                reason="needs dnsmasq and port 443 (root)")

# domain: (mode, mx patterns, the MX's TLS: "good", "wrong-name" or None)
CASES = {
    "good.test": ("enforce", ["mx.good.test"], "good"),
    "notls.test": ("enforce", ["mx.notls.test"], None),
    "badcert.test": ("enforce", ["mx.badcert.test"], "wrong-name"),
    "badmx.test": ("enforce", ["mx.allowed.test"], "good"),
    "testing.test": ("testing", ["mx.testing.test"], None),
    "wild.test": ("enforce", ["*.wild.test"], "good"),
}


def policy(mode, mx):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: 86400\r\n" % (mode, "".join("mx: %s\r\n" % m for m in mx))


@pytest.fixture
def env(tmp_path, new_server):
    base = "127.%d.%d" % (random.randint(100, 250), random.randint(1, 250))
    ca = sts_util.TestCA(tmp_path / "ca")
    port = ou.free_port(base + ".1")
    peers, hosts, mx, txt, policies = {}, {}, [], {}, {}
    for i, (dom, (mode, patterns, tls)) in enumerate(sorted(CASES.items())):
        host = ("mx1." if dom == "wild.test" else "mx.") + dom
        addr = "%s.%d" % (base, i + 1)
        ctx = None
        if tls is not None:
            crt, key = ca.issue(dom, [host if tls == "good" else "other.example"])
            ctx = sts_util.server_context(crt, key)
        peers[dom] = sts_util.SmtpPeer(addr, port, ctx, host).start()
        hosts[host] = addr
        hosts["mta-sts." + dom] = base + ".100"
        mx.append((dom, host, 10))
        txt["_mta-sts." + dom] = "v=STSv1; id=first1"
        txt["_smtp._tls." + dom] = ("v=TLSRPTv1; rua=https://mta-sts.wild.test/tlsrpt" if dom == "wild.test"
                                    else "v=TLSRPTv1; rua=mailto:reports@rua.test")
        policies["mta-sts." + dom] = (200, "text/plain; charset=utf-8", policy(mode, patterns))
    # the reports' receiver: rua.test, no MTA-STS, no STARTTLS
    peers["rua.test"] = sts_util.SmtpPeer(base + ".50", port, None, "mx.rua.test").start()
    hosts["mx.rua.test"] = base + ".50"
    mx.append(("rua.test", "mx.rua.test", 10))
    crt, key = ca.issue("policy-host", sorted("mta-sts." + d for d in CASES))
    web = sts_util.PolicyServer(base + ".100", crt, key, policies).start()
    dns = ou.Dnsmasq(tmp_path / "dns", txt=txt, hosts=hosts, mx=mx).start()
    srv = new_server(config={"dns.resolver": dns.resolver, "smtp.remote_port": str(port),
                             "queue.retry_min": "1", "queue.retry_max": "2",
                             "mta_sts.ca_file": ca.pem, "tlsrpt.from": "tls-reports@" + DOMAIN})
    yield srv, peers, web
    dns.stop()
    web.stop()
    for p in peers.values():
        p.stop()


def message(token, to):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: sts %s\r\nMessage-ID: <%s@client.test>\r\n\r\n"
            "token %s\r\n" % (LOCAL, to, token, token, token)).encode()


def queued_reply(srv, qid):
    return srv.ctl("queue", "show", qid, check=False).out


def journal(srv):
    day = time.strftime("%Y-%m-%d", time.gmtime())
    path = os.path.join(srv.data, "tlsrpt", day)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f]


def events(srv, kind):
    return json.loads(srv.ctl("security", "events", "--json", "--kind", kind, "--limit", "100").out)


def test_enforce_and_testing(env):
    srv, peers, web = env
    ids = {}
    for dom in CASES:
        tok = helpers.unique(dom.split(".")[0])
        ids[dom] = (tok, ou.inject(srv, LOCAL, ["bob@" + dom], message(tok, "bob@" + dom)))
    # a valid policy, the MX in it, a certificate for the MX name: over TLS
    for dom in ("good.test", "wild.test"):
        assert ou.wait_for(lambda: peers[dom].messages, timeout=30), srv.log_tail()
        (tls, data), = peers[dom].messages
        assert tls and ids[dom][0].encode() in data
    # testing: delivered as before (in the clear here), the failure recorded
    assert ou.wait_for(lambda: peers["testing.test"].messages, timeout=30), srv.log_tail()
    assert peers["testing.test"].messages[0][0] is False
    # enforce: no STARTTLS, a certificate for another name, an MX the
    # policy does not name: 451 4.7.5, kept in the queue, nothing sent
    want = {"notls.test": "offers no STARTTLS",
            "badcert.test": "certificate-host-mismatch",
            "badmx.test": "is not allowed by the MTA-STS policy of badmx.test"}
    for dom, text in want.items():
        qid = ids[dom][1]
        assert ou.wait_for(lambda: "451 4.7.5" in queued_reply(srv, qid), timeout=30), (dom, srv.log_tail())
        assert text in queued_reply(srv, qid), queued_reply(srv, qid)
    assert peers["notls.test"].sessions >= 1 and peers["badcert.test"].sessions >= 1
    assert peers["badmx.test"].sessions == 0
    for dom in want:
        assert not peers[dom].messages, dom
    # the journal the TLS report is made from: one line per session
    rows = journal(srv)
    got = {(r[0], r[5]) for r in rows}
    assert ("good.test", "success") in got and ("wild.test", "success") in got, rows
    assert ("testing.test", "starttls-not-supported") in got, rows
    assert ("notls.test", "starttls-not-supported") in got, rows
    assert ("badcert.test", "certificate-host-mismatch") in got, rows
    assert ("badmx.test", "validation-failure") in got, rows
    good = [r for r in rows if r[0] == "good.test"][0]
    assert good[1:5] == ["sts", "enforce", "86400", "mx.good.test"], good
    # events doctor and the panels explain
    assert ou.wait_for(lambda: events(srv, "mta-sts-deferred")), srv.log_tail()
    deferred = {e["address"] for e in events(srv, "mta-sts-deferred")}
    assert {"notls.test", "badcert.test", "badmx.test"} <= deferred, deferred
    assert ou.wait_for(lambda: events(srv, "mta-sts-testing"))
    # retried every second or two: still one event per domain and hour
    assert ou.wait_for(lambda: sum(1 for r in journal(srv) if r[0] == "notls.test") >= 3, timeout=30)
    assert [e["address"] for e in events(srv, "mta-sts-deferred")].count("notls.test") == 1
    # the policy was fetched once per domain (the cache), over HTTPS
    fetched = [h for h, _ in web.hits]
    assert fetched.count("mta-sts.notls.test") == 1, web.hits
    # mta_sts.outbound off: the deferred mail goes as before
    srv.ctl("config", "set", "mta_sts.outbound", "off")
    assert ou.wait_for(lambda: peers["notls.test"].messages, timeout=30), srv.log_tail()
    assert peers["notls.test"].messages[0][0] is False


def test_policy_fetch_errors_mean_no_policy(env):
    """A record whose policy cannot be had (404, wrong type): delivered as
    without MTA-STS, with sts-policy-fetch-error recorded."""
    srv, peers, web = env
    web.policies["mta-sts.notls.test"] = (404, "text/plain", "gone\n")
    web.policies["mta-sts.badcert.test"] = (200, "text/html", policy("enforce", ["mx.badcert.test"]))
    for dom in ("notls.test", "badcert.test"):
        ou.inject(srv, LOCAL, ["bob@" + dom], message(helpers.unique("f"), "bob@" + dom))
    for dom in ("notls.test", "badcert.test"):
        assert ou.wait_for(lambda: peers[dom].messages, timeout=30), srv.log_tail()
    rows = journal(srv)
    assert ("notls.test", "sts-policy-fetch-error") in {(r[0], r[5]) for r in rows}, rows
    assert ("badcert.test", "sts-policy-fetch-error") in {(r[0], r[5]) for r in rows}, rows
    details = " ".join(e["detail"] for e in events(srv, "mta-sts-fetch-failed"))
    assert "HTTP status 404" in details and "not text/plain" in details, details


def reports(peer):
    """The TLS reports the peer received: {policy domain: (message, report)}."""
    out = {}
    for _, data in list(peer.messages):
        msg = email.message_from_bytes(data)
        dom = msg["TLS-Report-Domain"]
        parts = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
        assert msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "tlsrpt"
        assert len(parts) == 1, data
        out[dom] = (msg, json.loads(gzip.decompress(base64.b64decode(parts[0].get_payload()))))
    return out


def test_daily_tls_report(env):
    srv, peers, web = env
    qids = {}
    for dom in ("good.test", "testing.test", "notls.test", "wild.test"):
        qids[dom] = ou.inject(srv, LOCAL, ["bob@" + dom], message(helpers.unique("r"), "bob@" + dom))
    assert ou.wait_for(lambda: peers["good.test"].messages and peers["testing.test"].messages and
                       peers["wild.test"].messages, timeout=30)
    assert ou.wait_for(lambda: "451 4.7.5" in queued_reply(srv, qids["notls.test"]), timeout=30)
    srv.ctl("queue", "delete", qids["notls.test"])      # its retries would keep counting
    srv.ctl("config", "set", "tlsrpt.enabled", "on")     # off by default
    srv.ctl("tlsrpt", "send", "today")
    assert ou.wait_for(lambda: len(peers["rua.test"].messages) >= 3, timeout=40), srv.log_tail()
    got = reports(peers["rua.test"])
    assert set(got) == {"good.test", "testing.test", "notls.test"}, set(got)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    msg, rep = got["good.test"]
    assert msg["From"] == "<tls-reports@%s>" % DOMAIN and msg["TLS-Report-Submitter"] == helpers.HOSTNAME
    assert msg["Subject"].startswith("Report Domain: good.test Submitter: %s Report-ID: <" % helpers.HOSTNAME)
    disp = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"][0]
    assert disp.get_filename().startswith(helpers.HOSTNAME + "!good.test!") and disp.get_filename().endswith(".json.gz")
    assert rep["organization-name"] == helpers.HOSTNAME and rep["contact-info"] == "tls-reports@" + DOMAIN
    assert rep["date-range"] == {"start-datetime": day + "T00:00:00Z", "end-datetime": day + "T23:59:59Z"}
    assert rep["report-id"]
    (pol,) = rep["policies"]
    assert pol["policy"] == {"policy-type": "sts", "policy-domain": "good.test", "mx-host": ["mx.good.test"],
                             "policy-string": ["version: STSv1", "mode: enforce", "mx: mx.good.test",
                                               "max_age: 86400"]}, pol
    assert pol["summary"] == {"total-successful-session-count": 1, "total-failure-session-count": 0}, pol
    assert "failure-details" not in pol
    (pol,) = got["testing.test"][1]["policies"]
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}, pol
    assert pol["failure-details"] == [{"result-type": "starttls-not-supported",
                                       "receiving-mx-hostname": "mx.testing.test",
                                       "receiving-ip": peers["testing.test"].addr, "failed-session-count": 1}]
    (pol,) = got["notls.test"][1]["policies"]
    assert pol["summary"]["total-successful-session-count"] == 0
    n = pol["summary"]["total-failure-session-count"]
    assert n >= 1 and pol["failure-details"][0]["failed-session-count"] == n, pol
    # the server's own mail: DKIM-signed for the hosted domain
    assert b"DKIM-Signature:" in peers["rua.test"].messages[0][1]
    # an https: rua gets the same report by POST
    assert ou.wait_for(lambda: web.posts, timeout=30), srv.log_tail()
    (host, path, ctype, body), = web.posts
    assert (host, path, ctype) == ("mta-sts.wild.test", "/tlsrpt", "application/tlsrpt+gzip")
    rep = json.loads(gzip.decompress(body))
    (pol,) = rep["policies"]
    assert pol["policy"]["mx-host"] == ["*.wild.test"] and pol["summary"]["total-successful-session-count"] == 1
    sent = events(srv, "tlsrpt-sent")
    assert {e["address"] for e in sent} >= {"good.test", "testing.test", "notls.test"}, sent
    # a finished day (yesterday's journal): the daily job sends it once,
    # then keeps it as DAY.sent
    yday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    tdir = os.path.join(srv.data, "tlsrpt")
    with open(os.path.join(tdir, yday), "w") as f:
        f.write("good.test\tsts\ttesting\t3600\tmx.good.test\tcertificate-expired\tmx.good.test\t192.0.2.1\n" * 3)
    before = len(peers["rua.test"].messages)
    srv.ctl("tlsrpt", "send")       # yesterday: the same as the hourly look
    assert ou.wait_for(lambda: os.path.exists(os.path.join(tdir, yday + ".sent")), timeout=30), srv.log_tail()
    assert not os.path.exists(os.path.join(tdir, yday))
    assert ou.wait_for(lambda: len(peers["rua.test"].messages) == before + 1, timeout=30)
    msg = email.message_from_bytes(peers["rua.test"].messages[-1][1])
    part = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"][0]
    rep = json.loads(gzip.decompress(base64.b64decode(part.get_payload())))
    assert rep["date-range"]["start-datetime"] == yday + "T00:00:00Z"
    (pol,) = rep["policies"]
    assert "mode: testing" in pol["policy"]["policy-string"]
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 3}
