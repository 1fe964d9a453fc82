"""Client autoconfiguration: the Apple configuration profile
(GET /api/v1/me/mobileconfig, http/api_mobileconfig.c). Each document is
parsed and checked against what the server really offers: every advertised
port answers TLS with a certificate valid for the advertised host name."""
import plistlib
import socket
import ssl

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
