"""A small client of the JSON API over real TLS (http.client + ssl), shared
by the test_api*.py modules: one connection per request unless kept,
cookies held by hand so tests can present stale or foreign ones."""

import http.client
import json
import socket
import ssl

import pytest

import helpers
from helpers import HOST, HOSTNAME, PASSWORD

ADMIN = "root"
ADMIN_PW = "Admin-pass-123"


def api_server(tmp_path_factory, name, config=None, domains=None, accounts=None):
    """A started yubind with a server administrator and a second domain."""
    cfg = {"http.timeout": 20}
    cfg.update(config or {})
    s = helpers.Server(tmp_path_factory.mktemp(name), config=cfg,
                       domains=domains or (helpers.DOMAIN, "other.test"),
                       accounts=accounts if accounts is not None else
                       [("user@example.test", PASSWORD, None), ("second@example.test", PASSWORD, None),
                        ("alien@other.test", PASSWORD, None)]).setup()
    s.ctl("admin", "add", ADMIN, "--role", "server", "--password-stdin", input=ADMIN_PW + "\n")
    s.ctl("admin", "add", "dom", "--role", "domain", "--domain", "example.test", "--password-stdin",
          input=ADMIN_PW + "\n")
    s.ctl("admin", "add", "otherdom", "--role", "domain", "--domain", "other.test", "--password-stdin",
          input=ADMIN_PW + "\n")
    s.start(wait_port="https")
    return s


def served(s):
    """The body of a module's srv fixture around the started server s:
    yields it, then stops it and fails on a sanitizer report."""
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert not rep, rep


class Response:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.raw = body
        ctype = r.headers.get("Content-Type", "")
        self.json = json.loads(body) if body and ctype.startswith("application/json") else None

    @property
    def code(self):
        return (self.json or {}).get("error", {}).get("code")

    def __repr__(self):
        return "<%d %r>" % (self.status, self.raw[:300])


class Client:
    """One browser or script: keeps the session cookie and CSRF token."""

    def __init__(self, srv):
        self.srv = srv
        self.cookie = None
        self.csrf = None
        self.token = None
        self.conn = None
        self.source = None     # a local address to connect from (127.0.0.x)

    def connect(self, timeout=30):
        c = ssl.create_default_context(cafile=self.srv.crt)
        conn = http.client.HTTPSConnection(HOSTNAME, self.srv.port("https"), context=c, timeout=timeout)
        sock = socket.create_connection((HOST, self.srv.port("https")), timeout=timeout,
                                        source_address=(self.source, 0) if self.source else None)
        conn.sock = c.wrap_socket(sock, server_hostname=HOSTNAME)
        return conn

    def request(self, method, path, body=None, headers=None, csrf=True, raw=None,
                content_type="application/json"):
        h = {"Host": "%s:%d" % (HOSTNAME, self.srv.port("https"))}
        if self.cookie:
            h["Cookie"] = "yubin_session=" + self.cookie
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        conn = self.connect()
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r, r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def login(self, kind, name, password, expect=200):
        body = {"kind": kind, "password": password}
        body["name" if kind == "admin" else "address"] = name
        r = self.post("/api/v1/session", body)
        assert r.status == expect, r
        if r.status == 200:
            sc = r.headers.get("Set-Cookie")
            assert sc.startswith("yubin_session=")
            self.cookie = sc.split(";")[0].split("=", 1)[1]
            self.csrf = r.json["csrf"]
        return r


def admin(srv):
    c = Client(srv)
    c.login("admin", ADMIN, ADMIN_PW)
    return c


def domain_admin(srv, name="dom"):
    c = Client(srv)
    c.login("admin", name, ADMIN_PW)
    return c


def user(srv, address="user@example.test", password=PASSWORD):
    c = Client(srv)
    c.login("user", address, password)
    return c


# Module fixtures of one client per role, for the modules that import them
# beside their own srv fixture.

@pytest.fixture(scope="module")
def root(srv):
    return admin(srv)


@pytest.fixture(scope="module")
def dom(srv):
    return domain_admin(srv)


@pytest.fixture(scope="module")
def other(srv):
    return domain_admin(srv, "otherdom")


@pytest.fixture(scope="module")
def me(srv):
    return user(srv)


def ok(r, status=200):
    assert r.status == status, r
    return r.json


def refused(r, status=403, code="forbidden"):
    assert r.status == status and r.code == code, r
    return r


def recorder():
    """(out, call): call(c, method, path, body) makes the request with
    client c and appends (method, path, Response) to out."""
    out = []

    def call(c, method, path, body=None):
        out.append((method, path, c.request(method, path, body)))
        return out[-1][2]

    return out, call
