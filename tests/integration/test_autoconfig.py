"""Client autoconfiguration: Thunderbird's autoconfig document and
Microsoft Autodiscover (http/http_autoconfig.c), and the Apple configuration profile
(GET /api/v1/me/mobileconfig, http/api_mobileconfig.c). Each document is
parsed and checked against what the server really offers: every advertised
port answers TLS with a certificate valid for the advertised host name."""
import http.client
import plistlib
import smtplib
import socket
import ssl
import xml.etree.ElementTree as ET

import pytest

from api_util import ADMIN, ADMIN_PW, Client, api_server, refused, served, user
from helpers import HOST, HOSTNAME, PASSWORD, STD_PORTS


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from served(api_server(tmp_path_factory, "autoconfig"))


def tls_names_ok(srv, port, host):
    """A TLS handshake on the test's offset of the standard port, the
    certificate verified for host."""
    std = {p: n for n, p in STD_PORTS.items()}[port]
    ctx = ssl.create_default_context(cafile=srv.crt)
    with socket.create_connection((HOST, srv.port(std)), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            return s.getpeercert() is not None


def starttls_names_ok(srv, host):
    """587: STARTTLS, the certificate verified for host."""
    ctx = ssl.create_default_context(cafile=srv.crt)
    s = smtplib.SMTP(HOST, srv.port("submission"), timeout=30)
    try:
        s._host = host           # the name smtplib checks the certificate against
        s.starttls(context=ctx)
        return s.sock.getpeercert() is not None
    finally:
        s.close()


def autoconfig(srv, path, host, tls=True):
    if tls:
        ctx = ssl.create_default_context(cafile=srv.crt)
        ctx.check_hostname = False      # Host below names the domain, not the certificate
        conn = http.client.HTTPSConnection(HOST, srv.port("https"), context=ctx, timeout=30)
    else:
        conn = http.client.HTTPConnection(HOST, srv.port("http"), timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()
    finally:
        conn.close()


def check_clientconfig(srv, body):
    root = ET.fromstring(body)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    prov = root.find("emailProvider")
    assert prov.get("id") == "example.test" and prov.findtext("domain") == "example.test"
    got = set()
    for kind in ("incomingServer", "outgoingServer"):
        for s in prov.findall(kind):
            assert s.findtext("username") == "%EMAILADDRESS%"
            assert s.findtext("authentication") == "password-cleartext"
            host, port, sock = s.findtext("hostname"), int(s.findtext("port")), s.findtext("socketType")
            assert host == HOSTNAME
            got.add((s.get("type"), port, sock))
            if sock == "SSL":
                assert tls_names_ok(srv, port, host), (port, host)
            else:
                assert sock == "STARTTLS" and port == 587
                assert starttls_names_ok(srv, host)
    assert got == {("imap", 993, "SSL"), ("pop3", 995, "SSL"), ("smtp", 465, "SSL"), ("smtp", 587, "STARTTLS")}


def test_thunderbird_autoconfig(srv):
    code, ctype, body = autoconfig(srv, "/mail/config-v1.1.xml?emailaddress=user%40example.test",
                                   "autoconfig.example.test")
    assert code == 200 and ctype.startswith("application/xml"), (code, body)
    check_clientconfig(srv, body)
    # the same for an address that does not exist (no account leak), from
    # the well-known path, and over plain HTTP (no redirect)
    for path, tls in (("/mail/config-v1.1.xml?emailaddress=nobody%40example.test", True),
                      ("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=x%40example.test", True),
                      ("/.well-known/autoconfig/mail/config-v1.1.xml", True),
                      ("/mail/config-v1.1.xml?emailaddress=user%40example.test", False),
                      ("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40Example.TEST", False)):
        assert autoconfig(srv, path, "autoconfig.example.test", tls)[2] == body, path
    # the Host alone names the domain
    assert autoconfig(srv, "/.well-known/autoconfig/mail/config-v1.1.xml", "example.test", False)[2] == body


def test_autoconfig_wrong_domain(srv):
    for path, host in (("/mail/config-v1.1.xml?emailaddress=a%40nowhere.test", "autoconfig.nowhere.test"),
                       ("/.well-known/autoconfig/mail/config-v1.1.xml", "autoconfig.nowhere.test"),
                       ("/mail/config-v1.1.xml?emailaddress=a%40ex%3Cample.test", "autoconfig.example.test")):
        for tls in (True, False):
            code = autoconfig(srv, path, host, tls)[0]
            assert code in (400, 404), (path, tls, code)
    assert autoconfig(srv, "/mail/config-v1.1.xml?emailaddress=a%40nowhere.test", "x", True)[0] == 404
    assert autoconfig(srv, "/mail/config-v1.1.xml?emailaddress=noat", "x", True)[0] == 400
    # other /.well-known/ paths on port 80 stay 404, the rest still moves
    assert autoconfig(srv, "/.well-known/other", "example.test", False)[0] == 404
    assert autoconfig(srv, "/mail/other", "example.test", False)[0] == 301


AD_REQUEST = ('<?xml version="1.0" encoding="utf-8"?>\n'
              '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
              '<Request><EMailAddress>%s</EMailAddress>'
              '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/'
              'responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>')
AD_NS = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def autodiscover(srv, body, path="/autodiscover/autodiscover.xml", method="POST"):
    ctx = ssl.create_default_context(cafile=srv.crt)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(HOST, srv.port("https"), context=ctx, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "text/xml", "Host": HOSTNAME})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_autodiscover(srv):
    for path in ("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"):
        code, body = autodiscover(srv, (AD_REQUEST % " user@Example.test ").encode(), path)
        assert code == 200, body
        acct = ET.fromstring(body).find(AD_NS.join(["", "Response/", "Account"]))
        assert acct.findtext(AD_NS + "Action") == "settings"
        got = set()
        for p in acct.findall(AD_NS + "Protocol"):
            kind, host, port = p.findtext(AD_NS + "Type"), p.findtext(AD_NS + "Server"), int(p.findtext(AD_NS + "Port"))
            assert p.findtext(AD_NS + "LoginName") == "user@Example.test"
            assert p.findtext(AD_NS + "SSL") == "on" and host == HOSTNAME
            assert tls_names_ok(srv, port, host)
            got.add((kind, port))
        assert got == {("IMAP", 993), ("POP3", 995), ("SMTP", 465)}
    # an address that does not exist gets the same settings (no account leak)
    code, other = autodiscover(srv, (AD_REQUEST % "nobody@example.test").encode())
    assert code == 200 and other.replace(b"nobody@example.test", b"user@Example.test") == body
    assert autodiscover(srv, (AD_REQUEST % "a@nowhere.test").encode())[0] == 404
    assert autodiscover(srv, b"", method="GET")[0] == 405


@pytest.mark.parametrize("body", [
    b"",
    b"not xml at all",
    (AD_REQUEST % "").encode(),
    (AD_REQUEST % "no-at-sign").encode(),
    (AD_REQUEST % "a@b@example.test").encode(),
    (AD_REQUEST % "<x>a@example.test</x>").encode(),
    (AD_REQUEST % "a&amp;b@example.test").encode(),
    (AD_REQUEST % ("a" * 300 + "@example.test")).encode(),
    b"<EMailAddress>user@example.test",
    b"\xff\xfe<EMailAddress>us\xffer@example.test</EMailAddress>",
    (AD_REQUEST % "user@example.test").encode() + b" " * 9000,
])
def test_autodiscover_bad_bodies(srv, body):
    code, reply = autodiscover(srv, body)
    assert code in (400, 413), (code, reply)


def test_autodiscover_huge_body(srv):
    # past http's body limit evhttp answers 413 and closes: the client may
    # see the close before it has written everything
    try:
        code = autodiscover(srv, b"<EMailAddress>" + b"a" * (8 << 20) + b"</EMailAddress>")[0]
        assert code in (400, 413)
    except (ssl.SSLError, ConnectionError):
        pass
    assert autodiscover(srv, (AD_REQUEST % "user@example.test").encode())[0] == 200   # still serving


def profile(c):
    r = c.get("/api/v1/me/mobileconfig")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == "application/x-apple-aspen-config"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    return plistlib.loads(r.raw)


def test_mobileconfig_matches_the_server(srv):
    p = profile(user(srv))
    assert p["PayloadType"] == "Configuration" and p["PayloadVersion"] == 1
    [mail] = p["PayloadContent"]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["EmailAddress"] == "user@example.test"
    assert mail["IncomingMailServerUsername"] == mail["OutgoingMailServerUsername"] == "user@example.test"
    assert mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["IncomingMailServerUseSSL"] is True and mail["OutgoingMailServerUseSSL"] is True
    assert (mail["IncomingMailServerPortNumber"], mail["OutgoingMailServerPortNumber"]) == (993, 465)
    assert not any("Password" in k and k != "OutgoingPasswordSameAsIncomingPassword" for k in mail), mail
    assert PASSWORD.encode() not in plistlib.dumps(p)
    for host, port in ((mail["IncomingMailServerHostName"], mail["IncomingMailServerPortNumber"]),
                       (mail["OutgoingMailServerHostName"], mail["OutgoingMailServerPortNumber"])):
        assert host == HOSTNAME
        assert tls_names_ok(srv, port, host)
    # a wrong name would not verify: the check above can fail
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_names_ok(srv, 993, "mail.other.test")


def test_mobileconfig_uuids_per_account(srv):
    a, b = profile(user(srv)), profile(user(srv, "second@example.test"))
    assert a == profile(user(srv))          # the same on a second download
    uuids = {a["PayloadUUID"], a["PayloadContent"][0]["PayloadUUID"],
             b["PayloadUUID"], b["PayloadContent"][0]["PayloadUUID"]}
    assert len(uuids) == 4
    assert b["PayloadContent"][0]["EmailAddress"] == "second@example.test"


def test_mobileconfig_only_for_its_own_user(srv):
    refused(Client(srv).get("/api/v1/me/mobileconfig"), 401, "not_logged_in")
    c = Client(srv)
    c.login("admin", ADMIN, ADMIN_PW)
    refused(c.get("/api/v1/me/mobileconfig"))
    # there is no way to name another account: a query is ignored, the
    # profile is always the caller's own
    p = plistlib.loads(user(srv).get("/api/v1/me/mobileconfig?address=second@example.test").raw)
    assert p["PayloadContent"][0]["EmailAddress"] == "user@example.test"
