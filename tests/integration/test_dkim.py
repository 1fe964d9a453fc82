"""DKIM (RFC 6376, RFC 8463): keys made by `yubinctl domain add`, outbound
mail signed with rsa-sha256 and ed25519-sha256 and checked by an
independent verifier (Debian's python3-dkim, with the records that
`yubinctl domain dns --json` prints), rotation while yubind runs, and
Yubin's own verifier (`yubinctl dkim verify`, the dkim_verify() the
daemon uses) against messages python3-dkim signed, with the keys served by
a real DNS server (dnsmasq).
"""
import base64
import json
import os
import re

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN

try:
    import dkim
    import nacl.signing  # noqa: F401  (python3-dkim needs it for ed25519)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    HAVE_DKIM = True
    DKIM_MISSING = None
except ImportError as e:
    HAVE_DKIM = False
    DKIM_MISSING = e.name

pytestmark = [
    pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)"),
    pytest.mark.skipif(not HAVE_DKIM, reason="Python module %s missing (python3-dkim, python3-nacl, "
                       "python3-cryptography: scripts/deps.sh test)" % DKIM_MISSING),
]

LOCAL = "user@" + DOMAIN


def records(srv, domain=DOMAIN):
    return json.loads(srv.ctl("domain", "dns", domain, "--json").out)["records"]


def dnsfunc_for(srv, domain=DOMAIN):
    txt = {r["name"].rstrip(".").encode(): r["value"].encode() for r in records(srv, domain) if r["type"] == "TXT"}

    def dnsfunc(name, timeout=5):
        return txt.get(name.rstrip(b"."))
    return dnsfunc


def message(token, sender=LOCAL, to="bob@remote.test"):
    return ("From: User <%s>\r\nTo: <%s>\r\nSubject: dkim test %s\r\n"
            "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            "Hello from Yubin.  Two  spaces, a tab\there, trailing blanks   \r\n"
            ".a line that starts with a dot\r\n"
            "日本語の本文\r\n\r\n\r\n"
            "token %s\r\n" % (sender, to, token, token, token)).encode()


def sink_message(dump):
    """The message smtp-sink received, with CRLF line ends (its dump has
    X- lines of its own, then a Received field of its own, then the
    message with LF)."""
    text = dump.replace(b"\r\n", b"\n")
    i = text.index(b"DKIM-Signature:")
    msg = text[i:]
    assert msg.endswith(b"\n\n")
    return msg[:-1].replace(b"\n", b"\r\n")   # the sink's own final empty line


def signatures(msg):
    head = msg.split(b"\r\n\r\n", 1)[0].decode()
    return [m for m in re.findall(r"^DKIM-Signature:.*?(?=\r\n\S)", head, re.S | re.M)]


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    d = ou.Dnsmasq(tmp_path_factory.mktemp("dns")).start()
    yield d
    d.stop()


@pytest.fixture
def sink(tmp_path):
    s = ou.Sink(tmp_path / "remote")
    yield s
    s.stop()


def send_and_receive(srv, sink, token, sender=LOCAL, env_from=LOCAL, n=1):
    ou.inject(srv, env_from, ["bob@remote.test"], message(token, sender=sender))
    got = [m for m in sink.wait(n, timeout=20) if token.encode() in m]
    assert len(got) == 1, srv.log_tail()
    return sink_message(got[0])


def test_domain_add_makes_keys_and_dns_records(new_server):
    srv = new_server(start=False)
    keydir = os.path.join(srv.data, "dkim", DOMAIN)
    names = sorted(os.listdir(keydir))
    assert len(names) == 3 and "selectors" in names, names
    for n in names:
        assert os.stat(os.path.join(keydir, n)).st_mode & 0o777 == 0o600
    rsa_sel = [n for n in names if n.endswith(".rsa.pem")][0].split(".")[0]
    ed_sel = [n for n in names if n.endswith(".ed25519.pem")][0].split(".")[0]
    assert re.fullmatch(r"y\d{8}r", rsa_sel) and re.fullmatch(r"y\d{8}e", ed_sel)
    out = srv.ctl("domain", "dns", DOMAIN).out
    # one line each, ready to paste, with a comment that explains it
    assert "%s.  " % DOMAIN in out and "IN MX  10 %s." % helpers.HOSTNAME in out
    assert '"v=spf1 mx a:%s ~all"' % helpers.HOSTNAME in out
    assert '_dmarc.%s. ' % DOMAIN in out and '"v=DMARC1; p=none; rua=mailto:postmaster@%s"' % DOMAIN in out
    rsa_line = [l for l in out.splitlines() if l.startswith(rsa_sel + "._domainkey.")][0]
    strings = re.findall(r'"([^"]*)"', rsa_line)
    assert len(strings) == 2 and len(strings[0]) == 255, rsa_line   # 255-byte character-strings
    assert "".join(strings).startswith("v=DKIM1; k=rsa; p=MIIB")
    assert re.search(r'%s\._domainkey\.%s\. +3600 IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="'
                     % (ed_sel, re.escape(DOMAIN)), out), out
    assert sum(1 for l in out.splitlines() if l.startswith(";")) >= 6
    # JSON: the same records, TXT also as character-strings
    recs = records(srv)
    types = [r["type"] for r in recs]
    # MX, SPF, DKIM (2), DMARC, the MTA-STS TXT, its policy host and TLS-RPT, then the SRV records
    assert sorted(types) == sorted(["MX", "TXT", "TXT", "TXT", "TXT", "TXT", "CNAME", "TXT"] + ["SRV"] * 6), types
    assert types[:5] == ["MX", "TXT", "TXT", "TXT", "TXT"], types
    rsa_rec = [r for r in recs if r["name"].startswith(rsa_sel)][0]
    assert "".join(rsa_rec["strings"]) == rsa_rec["value"] and len(rsa_rec["strings"]) == 2
    assert all(r["explanation"] for r in recs)
    show = srv.ctl("dkim", "show", DOMAIN).out
    assert rsa_sel in show and ed_sel in show and "active" in show
    # deleting the domain deletes its keys
    srv.ctl("domain", "del", DOMAIN, "--force")
    assert not os.path.exists(keydir)


def test_outbound_signed_rsa_and_ed25519(dns, sink, new_server):
    sink.start()
    srv = new_server(config=ou.outbound_config(dns, sink))
    tok = helpers.unique("dkim")
    msg = send_and_receive(srv, sink, tok)
    sigs = signatures(msg)
    assert len(sigs) == 2, msg[:2000]
    assert "a=rsa-sha256" in sigs[0] and "a=ed25519-sha256" in sigs[1]
    for s in sigs:
        assert "d=%s" % DOMAIN in s and "c=relaxed/relaxed" in s and re.search(r"t=\d{10}", s)
        h = re.search(r"h=([^;]*);", s).group(1).replace("\r\n", "").replace("\t", "").replace(" ", "")
        # From over-signed: listed once more than present
        assert h.split(":").count("from") == 2, h
        for f in ("to", "subject", "date", "message-id", "mime-version", "content-type"):
            assert f in h.split(":"), h
    dnsfunc = dnsfunc_for(srv)
    d = dkim.DKIM(msg)
    assert d.verify(idx=0, dnsfunc=dnsfunc), "rsa-sha256 signature rejected by python3-dkim"
    assert d.verify(idx=1, dnsfunc=dnsfunc), "ed25519-sha256 signature rejected by python3-dkim"
    # a tampered copy fails: the check above can fail
    bad = msg.replace(b"token " + tok.encode(), b"token changed")
    assert not dkim.verify(bad, dnsfunc=dnsfunc)


def test_daemon_signs_what_it_queues(dns, sink, new_server):
    """queue_submit in yubind signs too: a delay notice for a remote sender
    comes From: MAILER-DAEMON@<host name>, signed when the host name is a
    domain of this server."""
    sink.start(["-r", "RCPT"])   # 450 to every RCPT: the message waits
    srv = new_server(config=ou.outbound_config(dns, sink, queue__delay_warning=1),
                     domains=(DOMAIN, helpers.HOSTNAME))
    tok = helpers.unique("dsn")
    ou.inject(srv, "bob@remote.test", ["carol@remote.test"], message(tok, sender="bob@remote.test",
                                                                      to="carol@remote.test"))
    assert ou.wait_for(lambda: re.search(r"dkim: message from <> signed for d=%s \(2 signatures\)"
                                         % re.escape(helpers.HOSTNAME), srv.log()), timeout=20), srv.log_tail()
    sink.restart()
    got = sink.wait(2, timeout=20)
    notices = [m for m in got if b"X-Mail-Args: <>" in m]
    assert len(notices) == 1, srv.log_tail()
    dsn = sink_message(notices[0])
    assert b"MAILER-DAEMON@" + helpers.HOSTNAME.encode() in dsn
    dnsfunc = dnsfunc_for(srv, helpers.HOSTNAME)
    assert dkim.DKIM(dsn).verify(idx=0, dnsfunc=dnsfunc) and dkim.DKIM(dsn).verify(idx=1, dnsfunc=dnsfunc)


def test_from_domain_without_keys_uses_sender_domain(dns, sink, new_server):
    """From: a domain without keys: the envelope sender's domain signs."""
    sink.start()
    srv = new_server(config=ou.outbound_config(dns, sink))
    tok = helpers.unique("envfrom")
    msg = send_and_receive(srv, sink, tok, sender="someone@elsewhere.test")
    sigs = signatures(msg)
    assert len(sigs) == 2 and all("d=%s" % DOMAIN in s for s in sigs)
    assert dkim.DKIM(msg).verify(idx=0, dnsfunc=dnsfunc_for(srv))


def test_not_signed_for_foreign_domains(dns, sink, new_server):
    sink.start()
    srv = new_server(config=ou.outbound_config(dns, sink))
    tok = helpers.unique("foreign")
    ou.inject(srv, "someone@elsewhere.test", ["bob@remote.test"], message(tok, sender="someone@elsewhere.test"))
    got = [m for m in sink.wait(1, timeout=20) if tok.encode() in m]
    assert len(got) == 1 and b"DKIM-Signature" not in got[0], srv.log_tail()


def test_rotation_without_restart(dns, sink, new_server):
    sink.start()
    srv = new_server(config=ou.outbound_config(dns, sink))
    old = [r["name"].split(".")[0] for r in records(srv) if "_domainkey" in r["name"]]
    msg1 = send_and_receive(srv, sink, helpers.unique("before"))
    assert all("s=%s" % s in "".join(signatures(msg1)) for s in old)

    # two steps: new keys wait until activated, meanwhile the old ones sign
    out = srv.ctl("dkim", "rotate", DOMAIN).out
    assert "publish these records" in out and "dkim activate" in out, out
    new = [r["name"].split(".")[0] for r in records(srv) if "_domainkey" in r["name"] and
           r["name"].split(".")[0] not in old]
    assert len(new) == 2 and all(n != o for n in new for o in old)
    assert sorted(n[-1] for n in new) == ["e", "r"]
    p = srv.ctl("dkim", "rotate", DOMAIN, check=False)
    assert p.returncode == 1 and "already waiting" in p.err
    msg2 = send_and_receive(srv, sink, helpers.unique("waiting"), n=2)
    assert all("s=%s" % s in "".join(signatures(msg2)) for s in old)

    srv.ctl("dkim", "activate", DOMAIN)
    msg3 = send_and_receive(srv, sink, helpers.unique("after"), n=3)
    sigs = "".join(signatures(msg3))
    assert all("s=%s" % s in sigs for s in new) and not any("s=%s" % s in sigs for s in old), sigs
    # the old records are still printed (mail signed before is checked later)
    recs = records(srv)
    retired = [r for r in recs if r["name"].split(".")[0] in old]
    assert len(retired) == 2 and all("retired" in r["explanation"] for r in retired)
    d = dkim.DKIM(msg3)
    assert d.verify(idx=0, dnsfunc=dnsfunc_for(srv)) and d.verify(idx=1, dnsfunc=dnsfunc_for(srv))
    assert dkim.DKIM(msg1).verify(idx=0, dnsfunc=dnsfunc_for(srv))
    show = json.loads(srv.ctl("dkim", "show", DOMAIN, "--json").out)
    states = sorted(k["state"] for k in show["keys"])
    assert states == ["active", "active", "retired", "retired"], show
    assert all("publish_until" in k for k in show["keys"] if k["state"] == "retired")


def test_yubin_verifies_its_own_signatures(dns, sink, new_server, tmp_path):
    """Yubin signs, Yubin verifies, with the keys in a real DNS server."""
    sink.start()
    srv = new_server(config=ou.outbound_config(dns, sink))
    msg = send_and_receive(srv, sink, helpers.unique("self"))
    txt = {r["name"].rstrip("."): r["value"] for r in records(srv) if "_domainkey" in r["name"]}
    own = ou.Dnsmasq(tmp_path / "dns2", txt=txt).start()
    try:
        srv.ctl("config", "set", "dns.resolver", own.resolver)
        out = srv.ctl("dkim", "verify", input=msg).out
        assert out.count("dkim=pass") == 2, out
        assert "header.a=rsa-sha256" in out and "header.a=ed25519-sha256" in out
        # LF line ends as other tools store them: the same result
        out = srv.ctl("dkim", "verify", input=msg.replace(b"\r\n", b"\n")).out
        assert out.count("dkim=pass") == 2, out
    finally:
        own.stop()


# -- Yubin's verifier against python3-dkim's signatures ------------------

SIGNER = b"signer.test"


def rsa_key(bits=2048):
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    der = k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def ed_key():
    k = ed25519.Ed25519PrivateKey.generate()
    seed = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(seed), "v=DKIM1; k=ed25519; p=" + base64.b64encode(pub).decode()


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    """Keys for signer.test and a dnsmasq serving their records."""
    keys = {"rsa": rsa_key(), "ed": ed_key(), "small": rsa_key(512), "revoked": rsa_key()}
    txt = {
        "rsa._domainkey.signer.test": keys["rsa"][1],
        "ed._domainkey.signer.test": keys["ed"][1],
        "small._domainkey.signer.test": keys["small"][1],
        "revoked._domainkey.signer.test": "v=DKIM1; k=rsa; p=",
        "wrongtype._domainkey.signer.test": keys["ed"][1],
        "garbage._domainkey.signer.test": "v=spf1 -all",
    }
    d = ou.Dnsmasq(tmp_path_factory.mktemp("signer-dns"), txt=txt).start()
    yield keys, d
    d.stop()


def signed(keys, sel=b"rsa", body=b"Hello,\r\nthis is signed by python3-dkim.  \r\n\r\n",
           canon=(b"relaxed", b"relaxed"), algo=b"rsa-sha256", key=None, length=False):
    msg = (b"From: Sender <sender@signer.test>\r\nTo: user@example.test\r\n"
           b"Subject: signed elsewhere\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <py@signer.test>\r\n\r\n" + body)
    priv = key if key is not None else (keys["ed"][0] if algo == b"ed25519-sha256" else keys["rsa"][0])
    sig = dkim.sign(msg, sel, SIGNER, priv, canonicalize=canon, signature_algorithm=algo,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"], length=length)
    return sig + msg


def verify(srv, msg, expect_rc=None):
    p = srv.ctl("dkim", "verify", "--json", input=msg, check=False)
    if expect_rc is not None:
        assert p.returncode == expect_rc, p.out + p.err
    return json.loads(p.out)


@pytest.fixture
def verifier(signer, new_server):
    keys, d = signer
    srv = new_server(start=False, config={"dns.resolver": d.resolver})
    return keys, srv


def test_verify_pass_rsa_and_ed25519(verifier):
    keys, srv = verifier
    for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple"), (b"relaxed", b"simple")):
        (v,) = verify(srv, signed(keys, canon=canon), expect_rc=0)
        assert v["result"] == "pass" and v["reason"] == "", (canon, v)
        assert v["domain"] == "signer.test" and v["selector"] == "rsa" and v["algorithm"] == "rsa-sha256"
        assert len(v["header_b"]) >= 8
    (v,) = verify(srv, signed(keys, sel=b"ed", algo=b"ed25519-sha256"), expect_rc=0)
    assert v["result"] == "pass" and v["algorithm"] == "ed25519-sha256", v
    # two signatures, both checked
    both = signed(keys)
    both = dkim.sign(both, b"ed", SIGNER, keys["ed"][0], signature_algorithm=b"ed25519-sha256") + both
    vs = verify(srv, both, expect_rc=0)
    assert [v["result"] for v in vs] == ["pass", "pass"] and [v["selector"] for v in vs] == ["ed", "rsa"]
    # stored with LF line ends: still passes
    (v,) = verify(srv, signed(keys).replace(b"\r\n", b"\n"), expect_rc=0)
    assert v["result"] == "pass", v
    # the text output, as Authentication-Results would carry it
    out = srv.ctl("dkim", "verify", input=signed(keys)).out
    assert re.match(r"dkim=pass header\.d=signer\.test header\.s=rsa header\.a=rsa-sha256 header\.b=\S{8,}", out), out


def test_verify_tampering_fails(verifier):
    keys, srv = verifier
    msg = signed(keys)
    (v,) = verify(srv, msg.replace(b"this is signed", b"this is forged"), expect_rc=1)
    assert v["result"] == "fail" and v["reason"] == "body hash did not verify", v
    (v,) = verify(srv, msg.replace(b"Subject: signed elsewhere", b"Subject: forged"), expect_rc=1)
    assert v["result"] == "fail" and v["reason"] == "signature did not verify", v
    (v,) = verify(srv, signed(keys, sel=b"ed", algo=b"ed25519-sha256").replace(b"Subject: signed", b"Subject: Signed"),
                  expect_rc=1)
    assert v["result"] == "fail" and v["reason"] == "signature did not verify", v
    # an added From: field is caught (h= lists it once, the bottom one is used)
    (v,) = verify(srv, msg.replace(b"\r\n\r\n", b"\r\nFrom: evil@attacker.test\r\n\r\n", 1), expect_rc=1)
    assert v["result"] == "fail", v
    # relaxed canonicalization tolerates re-folding and white space changes
    refolded = msg.replace(b"Subject: signed elsewhere", b"Subject:  signed\r\n  elsewhere")
    (v,) = verify(srv, refolded, expect_rc=0)
    assert v["result"] == "pass", v


def test_verify_key_errors(verifier, tmp_path):
    keys, srv = verifier
    (v,) = verify(srv, signed(keys, sel=b"missing"), expect_rc=1)
    assert v["result"] == "permerror" and v["reason"] == "no key for signature", v
    (v,) = verify(srv, signed(keys, sel=b"revoked"), expect_rc=1)
    assert v["result"] == "permerror" and v["reason"] == "key revoked", v
    (v,) = verify(srv, signed(keys, sel=b"small", key=keys["small"][0]), expect_rc=1)
    assert v["result"] == "permerror" and "1024" in v["reason"], v
    (v,) = verify(srv, signed(keys, sel=b"wrongtype"), expect_rc=1)
    assert v["result"] == "permerror" and "key type" in v["reason"], v
    (v,) = verify(srv, signed(keys, sel=b"garbage"), expect_rc=1)
    assert v["result"] == "permerror" and v["reason"].startswith("key syntax error"), v
    # no answer from DNS: temperror (try again later)
    srv.ctl("config", "set", "dns.resolver", "127.0.0.1:%d" % ou.free_port())
    (v,) = verify(srv, signed(keys), expect_rc=1)
    assert v["result"] == "temperror", v


def test_verify_signature_errors(verifier):
    keys, srv = verifier
    msg = signed(keys)
    # expired (x= in the past)
    expired = re.sub(rb"t=\d+", b"t=900000000", msg.replace(b"DKIM-Signature: v=1;", b"DKIM-Signature: v=1; x=1000000000;", 1), 1)
    (v,) = verify(srv, expired, expect_rc=1)
    assert v["result"] == "permerror" and v["reason"] == "signature expired", v
    (v,) = verify(srv, msg.replace(b"a=rsa-sha256", b"a=rsa-sha1", 1), expect_rc=1)
    assert v["result"] == "permerror" and "rsa-sha1" in v["reason"], v
    (v,) = verify(srv, msg.replace(b"i=@signer.test", b"i=@other.test", 1), expect_rc=1)
    assert v["result"] == "permerror" and v["reason"] == "i= is not within d=", v
    # no signature at all
    p = srv.ctl("dkim", "verify", input=msg.split(b"\r\n", 1)[1].split(b"From:", 1)[0] + b"From:" +
                msg.split(b"From:", 1)[1], check=False)
    assert p.returncode == 1 and "dkim=none" in p.out
    # at most 8 signatures are looked at
    many = msg
    for _ in range(10):
        many = dkim.sign(many, b"rsa", SIGNER, keys["rsa"][0]) + many
    assert len(verify(srv, many, expect_rc=0)) == 8


def test_verify_body_length(verifier):
    """l=: only the signed part counts; text appended later still passes,
    with a note, as RFC 6376 §8.2 warns."""
    keys, srv = verifier
    msg = signed(keys, length=True)
    (v,) = verify(srv, msg, expect_rc=0)
    assert v["result"] == "pass" and v["reason"] == "", v
    (v,) = verify(srv, msg + b"appended by a mailing list\r\n", expect_rc=0)
    assert v["result"] == "pass" and "(l=)" in v["reason"], v
