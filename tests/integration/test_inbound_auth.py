"""Inbound mail authentication: SPF, DKIM and DMARC results in the
Authentication-Results field of delivered mail, forged fields removed, and
the per-domain `inbound-dmarc` enforcement (reject / Junk).

Mail comes into yubind's port 25 from chosen loopback source addresses
(127.0.0.7 is "the right sender" for the test domains' SPF records,
127.0.0.8 is not); the test DNS is a local dnsmasq with the SPF, DKIM and
DMARC TXT records. The last test has a real Postfix (a private instance on
127.0.0.5) relay a message signed by python3-dkim into Yubin.
"""
import base64
import os
import re
import socket
import subprocess

import pytest

import helpers
import outbound_util as ou
import postfix_util as pu
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, TIMEOUT

try:
    import dkim
    HAVE_DKIM = True
except ImportError:
    HAVE_DKIM = False

pytestmark = pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq missing (scripts/deps.sh test)")

GOOD = "127.0.0.7"      # listed in the test domains' SPF records
BAD = "127.0.0.8"       # not listed
OTHER = "other.test"    # a second local domain
LOCAL = "user@" + DOMAIN
LOCAL2 = "user@" + OTHER
SELECTOR = "s1"


def _dkim_key(tmp):
    """An RSA key: (private PEM bytes, the base64 public key for p=)."""
    key = os.path.join(str(tmp), "dkim.pem")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    with open(key, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return _dkim_key(tmp_path_factory.mktemp("dkimkey"))


@pytest.fixture(scope="module")
def dns(tmp_path_factory, key):
    dkim_txt = "v=DKIM1; k=rsa; p=" + key[1]
    txt = {
        "spf-pass.test": "v=spf1 ip4:%s -all" % GOOD,
        "spf-fail.test": "v=spf1 ip4:%s -all" % BAD,
        "spf-soft.test": "v=spf1 ip4:%s ~all" % BAD,
        "spf-a.test": "v=spf1 a:host.spf-a.test/32 -all",
        "spf-broken.test": "v=spf1 ip4:%s foo:bar -all" % GOOD,
        "relay.helo.test": "v=spf1 ip4:%s -all" % GOOD,
        # DMARC domains: SPF only passes from GOOD
        "reject.test": "v=spf1 ip4:%s -all" % GOOD,
        "_dmarc.reject.test": "v=DMARC1; p=reject",
        "quar.test": "v=spf1 ip4:%s -all" % GOOD,
        "_dmarc.quar.test": "v=DMARC1; p=quarantine",
        "signed.test": "v=spf1 ip4:%s -all" % GOOD,
        "_dmarc.signed.test": "v=DMARC1; p=reject; adkim=s",
        SELECTOR + "._domainkey.signed.test": dkim_txt,
        # the Postfix test: Postfix sends from mx.remote.test (127.0.0.5)
        "remote.test": "v=spf1 mx -all",
        "_dmarc.remote.test": "v=DMARC1; p=reject",
        SELECTOR + "._domainkey.remote.test": dkim_txt,
    }
    d = ou.Dnsmasq(tmp_path_factory.mktemp("dns"), txt=txt,
                   hosts={"host.spf-a.test": GOOD}).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def srv(dns, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("inbound"),
                                config={"dns.resolver": dns.resolver},
                                domains=(DOMAIN, OTHER),
                                accounts=[(LOCAL, PASSWORD, None), (LOCAL2, PASSWORD, None)]) as s:
        yield s


class BoundSMTP(helpers.SMTPConn):
    """A raw SMTP client whose connection comes from a chosen source address."""

    def __init__(self, port, source):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT, source_address=(source, 0))
        self.buf = b""
        self.tls = False
        self.greeting = self.read_reply()
        self.caps = {}


def message(token, from_addr, rcpt=LOCAL, extra_headers=b"", size=None):
    msg = helpers.make_message(token, sender=from_addr, rcpt=rcpt, size=size)
    return extra_headers + msg


def send(srv, source, mail_from, rcpts, msg, helo="client.example.net"):
    c = BoundSMTP(srv.port("smtp"), source)
    try:
        assert c.ehlo(helo).code == 250
        return c.send_mail(mail_from, rcpts, msg)
    finally:
        c.quit()


def header_of(data):
    return data.split(b"\r\n\r\n", 1)[0]


def authres(data):
    """The unfolded Authentication-Results fields of a message's header."""
    head = header_of(data).decode("utf-8", "replace")
    fields = re.findall(r"^Authentication-Results:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*", head, re.M | re.I)
    return [re.sub(r"\r\n[ \t]+", " ", f) for f in fields]


def deliver(srv, source, mail_from, from_addr, helo="client.example.net", rcpt=LOCAL, extra=b"", size=None):
    tok = helpers.unique("ia")
    replies = send(srv, source, mail_from, [rcpt], message(tok, from_addr, rcpt, extra, size), helo=helo)
    assert [r.code for r in replies] == [250, 250, 250], replies
    got = srv.find_token(rcpt, tok)
    assert len(got) == 1, srv.log_tail()
    (path, data), = got.items()
    return path, data


@pytest.mark.parametrize("domain,source,result", [
    ("spf-pass.test", GOOD, "pass"),
    ("spf-pass.test", BAD, "fail"),
    ("spf-fail.test", GOOD, "fail"),
    ("spf-soft.test", GOOD, "softfail"),
    ("spf-a.test", GOOD, "pass"),
    ("spf-a.test", BAD, "fail"),
    ("spf-broken.test", GOOD, "permerror"),
    ("nospf.test", GOOD, "none"),
])
def test_spf_result_recorded(srv, domain, source, result):
    sender = "someone@" + domain
    _, data = deliver(srv, source, sender, sender)
    ar = authres(data)
    assert len(ar) == 1, ar
    assert ar[0].startswith("Authentication-Results: %s;" % HOSTNAME), ar
    assert re.search(r"\bspf=%s\b" % result, ar[0]), ar
    assert "smtp.mailfrom=%s" % sender in ar[0], ar
    # no signature, and DMARC looked for the From domain
    assert "dkim=none" in ar[0], ar
    assert "header.from=%s" % domain in ar[0], ar
    # the field sits above our Received
    head = header_of(data).decode()
    assert head.index("Authentication-Results:") < head.index("Received: from client.example.net")


def test_helo_identity_for_null_sender(srv):
    _, data = deliver(srv, GOOD, "", "mailer-daemon@relay.helo.test", helo="relay.helo.test")
    ar = authres(data)[0]
    assert re.search(r"\bspf=pass\b", ar) and "smtp.helo=relay.helo.test" in ar, ar
    _, data = deliver(srv, BAD, "", "mailer-daemon@relay.helo.test", helo="relay.helo.test")
    ar = authres(data)[0]
    assert re.search(r"\bspf=fail\b", ar) and "smtp.helo=relay.helo.test" in ar, ar


def test_forged_authres_removed(srv):
    forged = ("Authentication-Results: %s; spf=pass smtp.mailfrom=ceo@%s;\r\n"
              "\tdkim=pass header.d=%s\r\n"
              "authentication-results: (sneaky) %s.; dmarc=pass\r\n"
              "Authentication-Results: other.example; dkim=pass header.d=spf-pass.test\r\n"
              % (HOSTNAME, DOMAIN, DOMAIN, HOSTNAME.upper())).encode()
    _, data = deliver(srv, BAD, "x@spf-pass.test", "x@spf-pass.test", extra=forged)
    ar = authres(data)
    ours = [f for f in ar if f.lower().startswith("authentication-results: " + HOSTNAME)]
    assert len(ours) == 1 and "spf=fail" in ours[0], ar
    assert "ceo@" not in data.decode(), data[:800]
    assert "(sneaky)" not in data.decode()
    # someone else's field stays
    assert any(f.startswith("Authentication-Results: other.example;") for f in ar), ar
    # the rest of the message is intact
    assert b"X-Test-Token:" in data and data.endswith(b"lazy dog\r\n")


def test_forged_authres_removed_from_spooled_message(srv):
    """Over 1 MiB the message is spooled to a file: the copy without the
    forged field is a file too."""
    forged = ("Authentication-Results: %s; dmarc=pass header.from=%s\r\n" % (HOSTNAME, DOMAIN)).encode()
    path, data = deliver(srv, GOOD, "x@spf-pass.test", "x@spf-pass.test", extra=forged, size=1500 * 1024)
    ar = authres(data)
    assert len(ar) == 1 and "spf=pass" in ar[0], ar
    assert "header.from=%s" % DOMAIN not in data.decode("utf-8", "replace")
    assert len(data) > 1500 * 1024
    # the Maildir size field matches the stored bytes
    assert ",S=%d" % len(data) in os.path.basename(path)


def test_authenticated_mail_not_checked_but_forged_removed(srv):
    tok = helpers.unique("ia-auth")
    forged = ("Authentication-Results: %s; spf=pass\r\n" % HOSTNAME).encode()
    c = helpers.smtp_submission(srv)
    try:
        assert c.auth_plain(LOCAL, PASSWORD).code == 235
        replies = c.send_mail(LOCAL, [LOCAL2], forged + helpers.make_message(tok, sender=LOCAL, rcpt=LOCAL2))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    (path, data), = srv.find_token(LOCAL2, tok).items()
    assert authres(data) == [], header_of(data)


def set_dmarc(srv, domain, value):
    srv.ctl("domain", "set", domain, "inbound-dmarc", value)


def test_dmarc_off_records_fail(srv):
    set_dmarc(srv, DOMAIN, "off")
    _, data = deliver(srv, BAD, "bounce@reject.test", "ceo@reject.test")
    ar = authres(data)[0]
    assert re.search(r"\bdmarc=fail\b", ar) and "header.from=reject.test" in ar, ar
    assert "policy.dmarc=reject" in ar, ar


def test_dmarc_pass(srv):
    set_dmarc(srv, DOMAIN, "on")
    try:
        _, data = deliver(srv, GOOD, "bounce@reject.test", "ceo@reject.test")
    finally:
        set_dmarc(srv, DOMAIN, "off")
    ar = authres(data)[0]
    assert re.search(r"\bspf=pass\b", ar) and re.search(r"\bdmarc=pass\b", ar), ar


def test_dmarc_reject_on(srv):
    set_dmarc(srv, DOMAIN, "on")
    try:
        tok = helpers.unique("ia-rej")
        replies = send(srv, BAD, "bounce@reject.test", [LOCAL], message(tok, "ceo@reject.test"))
    finally:
        set_dmarc(srv, DOMAIN, "off")
    assert [r.code for r in replies[:2]] == [250, 250], replies
    end = replies[-1]
    assert end.code == 550 and end.text.startswith("5.7.1"), end
    assert "DMARC" in end.text and "reject.test" in end.text, end
    assert not srv.find_token(LOCAL, tok)
    assert not srv.find_token(LOCAL, tok) and not junk(srv, LOCAL, tok)
    doctor = srv.ctl("doctor", LOCAL, check=False).out
    assert "dmarc-reject" in doctor or "reject.test" in doctor, doctor


def junk(srv, addr, tok):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(srv.maildir(addr), ".Junk", sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                data = f.read()
            if tok.encode() in data:
                out.append(data)
    return out


def test_dmarc_quarantine_on_goes_to_junk(srv):
    set_dmarc(srv, DOMAIN, "on")
    try:
        tok = helpers.unique("ia-quar")
        replies = send(srv, BAD, "bounce@quar.test", [LOCAL], message(tok, "ceo@quar.test"))
    finally:
        set_dmarc(srv, DOMAIN, "off")
    assert [r.code for r in replies] == [250, 250, 250], replies
    assert not srv.find_token(LOCAL, tok)
    got = junk(srv, LOCAL, tok)
    assert len(got) == 1, srv.log_tail()
    ar = authres(got[0])[0]
    assert re.search(r"\bdmarc=fail\b", ar) and "policy.dmarc=quarantine" in ar, ar


def test_dmarc_reject_with_mixed_recipients(srv):
    """One recipient's domain enforces DMARC, the other's does not: the
    message is accepted; the enforcing one gets it in Junk."""
    set_dmarc(srv, DOMAIN, "on")
    set_dmarc(srv, OTHER, "off")
    try:
        tok = helpers.unique("ia-mixed")
        replies = send(srv, BAD, "bounce@reject.test", [LOCAL, LOCAL2], message(tok, "ceo@reject.test"))
    finally:
        set_dmarc(srv, DOMAIN, "off")
    assert [r.code for r in replies] == [250, 250, 250, 250], replies
    assert len(junk(srv, LOCAL, tok)) == 1 and not srv.find_token(LOCAL, tok)
    assert len(srv.find_token(LOCAL2, tok)) == 1 and not junk(srv, LOCAL2, tok)
    # both on: refused for everyone
    set_dmarc(srv, DOMAIN, "on")
    set_dmarc(srv, OTHER, "on")
    try:
        tok = helpers.unique("ia-both")
        replies = send(srv, BAD, "bounce@reject.test", [LOCAL, LOCAL2], message(tok, "ceo@reject.test"))
    finally:
        set_dmarc(srv, DOMAIN, "off")
        set_dmarc(srv, OTHER, "off")
    assert replies[-1].code == 550, replies


def test_several_from_domains_not_evaluated(srv):
    tok = helpers.unique("ia-multi")
    msg = message(tok, "ceo@reject.test").replace(b"From: <ceo@reject.test>",
                                                   b"From: ceo@reject.test, other@quar.test")
    set_dmarc(srv, DOMAIN, "on")
    try:
        replies = send(srv, BAD, "bounce@reject.test", [LOCAL], msg)
    finally:
        set_dmarc(srv, DOMAIN, "off")
    assert [r.code for r in replies] == [250, 250, 250], replies
    (_, data), = srv.find_token(LOCAL, tok).items()
    ar = authres(data)[0]
    assert "dmarc=permerror" in ar and "more than one domain" in ar, ar


def test_inbound_dmarc_setting_validated(srv):
    p = srv.ctl("domain", "set", DOMAIN, "inbound-dmarc", "maybe", check=False)
    assert p.returncode != 0 and "on or off" in (p.out + p.err)


def dkim_sign(msg, domain, key):
    sig = dkim.sign(msg, SELECTOR.encode(), domain.encode(), key[0],
                    include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID"])
    return sig + msg


@pytest.mark.skipif(not HAVE_DKIM, reason="python3-dkim missing (scripts/deps.sh test)")
def test_dkim_pass_aligns_dmarc(srv, key):
    """SPF fails (wrong address), but the From domain's DKIM signature
    verifies: DMARC passes, nothing is enforced."""
    set_dmarc(srv, DOMAIN, "on")
    try:
        tok = helpers.unique("ia-dkim")
        msg = dkim_sign(message(tok, "ceo@signed.test"), "signed.test", key)
        replies = send(srv, BAD, "bounce@signed.test", [LOCAL], msg)
        assert [r.code for r in replies] == [250, 250, 250], replies
        (_, data), = srv.find_token(LOCAL, tok).items()
        ar = authres(data)[0]
        assert re.search(r"\bspf=fail\b", ar), ar
        assert re.search(r"\bdkim=pass header\.d=signed\.test header\.s=%s header\.b=" % SELECTOR, ar), ar
        assert re.search(r"\bdmarc=pass\b", ar), ar
        # a modified body: the signature fails, so does DMARC: refused
        tok = helpers.unique("ia-dkim-bad")
        msg = dkim_sign(message(tok, "ceo@signed.test"), "signed.test", key) + b"tampered\r\n"
        replies = send(srv, BAD, "bounce@signed.test", [LOCAL], msg)
        assert replies[-1].code == 550, replies
    finally:
        set_dmarc(srv, DOMAIN, "off")


@pytest.mark.skipif(not (HAVE_DKIM and pu.have_postfix()), reason="python3-dkim or postfix missing (scripts/deps.sh test)")
def test_postfix_signed_mail_passes(srv, dns, key, tmp_path):
    """A real Postfix (from mx.remote.test, 127.0.0.5) relays a message
    signed by python3-dkim into Yubin: SPF (mx), DKIM and DMARC pass."""
    port = ou.free_port(ou.MX_ADDR)
    pf = pu.Postfix(tmp_path / "postfix", ou.MX_ADDR, port, users=("carol",),
                    relayhost="[127.0.0.1]:%d" % srv.port("smtp"))
    pf.start()
    set_dmarc(srv, DOMAIN, "on")
    try:
        tok = helpers.unique("ia-postfix")
        msg = dkim_sign(helpers.make_message(tok, sender="carol@remote.test", rcpt=LOCAL), "remote.test", key)
        pf.sendmail("carol@remote.test", [LOCAL], msg)
        assert ou.wait_for(lambda: srv.find_token(LOCAL, tok), timeout=30), pf.log()[-3000:]
    finally:
        set_dmarc(srv, DOMAIN, "off")
        pf.stop()
    (_, data), = srv.find_token(LOCAL, tok).items()
    ar = authres(data)
    assert len(ar) == 1, ar
    assert re.search(r"\bspf=pass\b", ar[0]) and "smtp.mailfrom=carol@remote.test" in ar[0], ar
    assert re.search(r"\bdkim=pass header\.d=remote\.test\b", ar[0]), ar
    assert re.search(r"\bdmarc=pass\b", ar[0]) and "header.from=remote.test" in ar[0], ar
