"""Yubin and a real Postfix (Debian's package, a private instance started
by the test on 127.0.0.5) exchanging mail both ways:

- an authenticated submission to Yubin for bob@remote.test is queued,
  looked up in the test DNS (dnsmasq: MX remote.test -> 127.0.0.5) and
  delivered to Postfix, which stores it in bob's Maildir, where its two
  DKIM signatures check out with python3-dkim;
- Postfix relays a message for a Yubin account to Yubin's port 25
  (opportunistic STARTTLS), and it lands in the account's Maildir.
"""
import json

import pytest

import helpers
import outbound_util as ou
import postfix_util as pu
from helpers import DOMAIN, PASSWORD

pytestmark = pytest.mark.skipif(not (ou.have_tools() and pu.have_postfix()),
                                reason="dnsmasq or postfix missing (scripts/deps.sh test)")

LOCAL = "user@" + DOMAIN


@pytest.fixture
def pair(dns, tmp_path, new_server):
    port = ou.free_port(ou.MX_ADDR)
    srv = new_server(config=ou.outbound_config(dns, type("S", (), {"port": port})()), start=False)
    pf = pu.Postfix(tmp_path / "postfix", ou.MX_ADDR, port, users=("bob", "carol"),
                    relayhost="[127.0.0.1]:%d" % srv.port("smtp"))
    pf.start()
    srv.start()
    yield srv, pf
    pf.stop()


def test_yubin_delivers_to_postfix(pair):
    srv, pf = pair
    tok = helpers.unique("topostfix")
    msg = helpers.make_message(tok, sender=LOCAL, rcpt="bob@remote.test")
    c = helpers.smtp_submission(srv)
    try:
        assert c.auth_plain(LOCAL, PASSWORD).code == 235
        replies = c.send_mail(LOCAL, ["bob@remote.test"], msg)
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    got = pf.wait_messages("bob", 1)
    assert len(got) == 1, srv.log_tail() + "\n" + pf.log()[-3000:]
    data = got[0]
    head, body = data.split(b"\n\n", 1)
    assert b"Return-Path: <%s>" % LOCAL.encode() in head
    assert b"(Yubin) with ESMTPSA" in head
    # Postfix received it over STARTTLS from Yubin
    assert b"(using TLS" in head, head
    assert tok.encode() in body
    assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
    # exactly once
    assert len(pf.maildir_messages("bob")) == 1
    # both DKIM signatures (rsa-sha256, ed25519-sha256) check out with an
    # independent verifier, as the message sits in Postfix's Maildir
    try:
        import dkim
        import nacl.signing  # noqa: F401  (python3-dkim needs it for ed25519)
    except ImportError:
        pytest.skip("python3-dkim or python3-nacl missing (scripts/deps.sh test)")
    recs = json.loads(srv.ctl("domain", "dns", DOMAIN, "--json").out)["records"]
    txt = {r["name"].rstrip(".").encode(): r["value"].encode() for r in recs if r["type"] == "TXT"}
    wire = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    d = dkim.DKIM(wire)
    sigs = [l for l in head.split(b"\n") if l.lower().startswith(b"dkim-signature:")]
    assert len(sigs) == 2, head
    for idx in range(2):
        assert d.verify(idx=idx, dnsfunc=lambda name, timeout=5: txt.get(name.rstrip(b"."))), idx


def test_postfix_delivers_to_yubin(pair):
    srv, pf = pair
    tok = helpers.unique("frompostfix")
    msg = helpers.make_message(tok, sender="carol@remote.test", rcpt=LOCAL)
    pf.sendmail("carol@remote.test", [LOCAL], msg)
    assert ou.wait_for(lambda: srv.find_token(LOCAL, tok), timeout=30), pf.log()[-3000:]
    (path, data), = srv.find_token(LOCAL, tok).items()
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"Return-Path: <carol@remote.test>" in head
    assert b"Received: from mx.remote.test ([127.0.0.5])" in head, head
    assert b"ESMTPS" in head   # Postfix used STARTTLS
