"""The API's description (issue 11, section 2): /api/v1/openapi.json is the
checked-in src/http/openapi.json, names every route of the route table and
no other, and the replies the daemon really sends (successes and errors)
validate against its schemas."""

import json
import os
import re

import jsonschema
import pytest

from api_admin_util import admin_replies
from api_server_util import server_replies
from api_mail_write_util import mail_write_replies
from api_util import Client, admin, api_server, domain_admin, user
from helpers import PASSWORD, REPO
from webmail_util import webmail_replies

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = api_server(tmp_path_factory, "api_openapi")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert not rep, rep


@pytest.fixture(scope="module")
def doc(srv):
    r = Client(srv).get("/api/v1/openapi.json")
    assert r.status == 200
    with open(os.path.join(REPO, "src", "http", "openapi.json"), "rb") as f:
        assert r.raw == f.read()
    return r.json


def table_routes():
    """(METHOD, path) of api_routes.c's table and http.c's own API route."""
    with open(os.path.join(REPO, "src", "http", "api_routes.c")) as f:
        routes = set(re.findall(r'\{ (GET|POST|PUT|PATCH|DELETE), "(/api/v1/[^"]*)"', f.read()))
    with open(os.path.join(REPO, "src", "http", "http.c")) as f:
        for path in re.findall(r'EVHTTP_REQ_GET[^"]*"(/api/v1/[^"]*)"', f.read()):
            routes.add(("GET", path))
    return routes


def doc_routes(doc):
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m.upper() in METHODS}


def test_document_and_table_agree(doc):
    assert doc["openapi"].startswith("3.1")
    table = table_routes()
    assert len(table) >= 20
    described = doc_routes(doc)
    assert table - described == set(), "routes missing from openapi.json"
    assert described - table == set(), "openapi.json describes routes the server does not have"


def test_schemas_are_valid(doc):
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def template_of(doc, path):
    for tmpl in doc["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(tmpl)) + "$"
        if re.match(pattern, path):
            return tmpl
    raise AssertionError("no path of the document matches " + path)


def check(doc, seen, method, path, r):
    """Validates a reply against the operation's response for its status."""
    tmpl = template_of(doc, path.split("?")[0])
    op = doc["paths"][tmpl][method.lower()]
    seen.add((method, tmpl))
    resp = op["responses"].get(str(r.status))
    assert resp is not None, "%s %s: status %d not described" % (method, path, r.status)
    if "$ref" in resp:
        resp = doc["components"]["responses"][resp["$ref"].split("/")[-1]]
    content = resp.get("content")
    if content is None:
        assert r.raw == b"", (method, path, r)
        return
    ctype = r.headers["Content-Type"].split(";")[0]
    assert ctype in content, (method, path, ctype)
    if ctype != "application/json":
        return
    schema = dict(content[ctype]["schema"])
    schema["components"] = doc["components"]
    jsonschema.validate(r.json, schema, cls=jsonschema.Draft202012Validator)


def test_real_replies_validate(srv, doc):
    seen = set()
    s, d, u = admin(srv), domain_admin(srv), user(srv)
    anon = Client(srv)
    calls = [
        (anon, "GET", "/api/v1/health", None),
        (anon, "GET", "/api/v1/openapi.json", None),
        (anon, "POST", "/api/v1/session", {"kind": "admin", "name": "root", "password": "wrong-password"}),
        (anon, "GET", "/api/v1/session", None),
        (s, "GET", "/api/v1/session", None),
        (u, "GET", "/api/v1/session", None),
        (s, "GET", "/api/v1/settings/schema", None),
        (s, "GET", "/api/v1/domains", None),
        (d, "GET", "/api/v1/domains", None),
        (u, "GET", "/api/v1/domains", None),
        (s, "POST", "/api/v1/domains", {"name": "oa.test"}),
        (s, "POST", "/api/v1/domains", {"name": "oa.test"}),
        (s, "POST", "/api/v1/domains/oa.test/accounts", {"address": "x@oa.test", "password": PASSWORD,
                                                         "quota_mb": 10, "memo": "<b>"}),
        (s, "POST", "/api/v1/domains/oa.test/accounts", {"address": "x@oa.test", "password": PASSWORD}),
        (s, "POST", "/api/v1/domains/oa.test/accounts/bulk", {"text": "y@oa.test,%s,,\nz@oa.test,bad,," % PASSWORD}),
        (s, "POST", "/api/v1/domains/oa.test/accounts/bulk", {"text": "y@oa.test,%s,,\n" % PASSWORD}),
        (s, "GET", "/api/v1/domains/oa.test/accounts?q=x&limit=10", None),
        (d, "GET", "/api/v1/domains/oa.test/accounts", None),
        (s, "GET", "/api/v1/domains/oa.test/accounts.csv", None),
        (u, "GET", "/api/v1/me/mobileconfig", None),
        (s, "GET", "/api/v1/me/mobileconfig", None),
        (u, "GET", "/api/v1/mail/search?q=%E8%AD%B0%E4%BA%8B%E9%8C%B2&limit=5", None),
        (u, "GET", "/api/v1/mail/search?limit=0", None),
        (s, "GET", "/api/v1/mail/search?q=x", None),
        (s, "GET", "/api/v1/accounts/x@oa.test", None),
        (s, "GET", "/api/v1/accounts/nobody@oa.test", None),
        (s, "PATCH", "/api/v1/accounts/x@oa.test", {"quota_mb": 20, "memo": "m", "enabled": True}),
        (s, "PATCH", "/api/v1/accounts/x@oa.test", {"quota_mb": 0}),
        (s, "POST", "/api/v1/accounts/x@oa.test/password", {"password": "Changed-pw-1"}),
        (s, "POST", "/api/v1/accounts/x@oa.test/unsuspend", None),
        (s, "GET", "/api/v1/accounts/x@oa.test/settings", None),
        (s, "PUT", "/api/v1/accounts/x@oa.test/settings/forward", {"value": "a@b.test"}),
        (s, "GET", "/api/v1/domains/oa.test/settings", None),
        (s, "PUT", "/api/v1/domains/oa.test/settings/foreign-auth", {"value": "off"}),
        (s, "PUT", "/api/v1/domains/oa.test/settings/foreign-auth", {"value": "bad"}),
        (s, "DELETE", "/api/v1/domains/oa.test/settings/foreign-auth", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/settings/forward", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/settings/memo", None),
        (s, "POST", "/api/v1/domains/oa.test/spam-lists", {"list": "allow", "pattern": "*@Friends.test"}),
        (s, "POST", "/api/v1/domains/oa.test/spam-lists", {"list": "allow", "pattern": "*@friends.test"}),
        (s, "POST", "/api/v1/domains/oa.test/spam-lists", {"list": "block", "pattern": "not a pattern"}),
        (s, "GET", "/api/v1/domains/oa.test/spam-lists", None),
        (s, "GET", "/api/v1/certs", None),
        (s, "GET", "/api/v1/certs?domain=oa.test", None),
        (s, "GET", "/api/v1/certs?domain=nowhere.test", None),
        (u, "GET", "/api/v1/certs", None),
        (s, "GET", "/api/v1/certs/mail.oa.test", None),
        (s, "GET", "/api/v1/certs/mail.nowhere.test", None),
        (s, "PUT", "/api/v1/certs/mail.oa.test", {"certificate": "not PEM", "key": "nor this"}),
        (s, "PUT", "/api/v1/certs/mail.oa.test", {"certificate": "x"}),
        (s, "POST", "/api/v1/certs/mail.oa.test/renew", {"force": False}),
        (s, "POST", "/api/v1/certs/mail.oa.test/renew", {"force": "yes"}),
        (d, "GET", "/api/v1/domains/oa.test/spam-lists?list=block", None),
        (s, "DELETE", "/api/v1/domains/oa.test/spam-lists?list=allow&pattern=*@friends.test", None),
        (s, "DELETE", "/api/v1/domains/oa.test/spam-lists?list=allow&pattern=*@friends.test", None),
        (s, "POST", "/api/v1/accounts/x@oa.test/spam-lists", {"list": "block", "pattern": "*.spam.test"}),
        (s, "GET", "/api/v1/accounts/x@oa.test/spam-lists", None),
        (u, "GET", "/api/v1/accounts/x@oa.test/spam-lists", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/spam-lists?list=block&pattern=*.spam.test", None),
        (s, "PUT", "/api/v1/accounts/x@oa.test/sieve/main", {"script": "keep;", "activate": True}),
        (s, "PUT", "/api/v1/accounts/x@oa.test/sieve/bad", {"script": "if true {"}),
        (s, "GET", "/api/v1/accounts/x@oa.test/sieve", None),
        (s, "GET", "/api/v1/accounts/x@oa.test/sieve/main", None),
        (s, "GET", "/api/v1/accounts/x@oa.test/sieve/none", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/sieve/main", None),
        (s, "POST", "/api/v1/accounts/x@oa.test/sieve/deactivate", None),
        (s, "POST", "/api/v1/accounts/x@oa.test/sieve/main/activate", None),
        (s, "POST", "/api/v1/accounts/x@oa.test/sieve/deactivate", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/sieve/main", None),
        (s, "POST", "/api/v1/sieve/check", {"script": "require \"fileinto\";\nfileinto \"x\";"}),
        (u, "POST", "/api/v1/sieve/check", {"script": "frobnicate;"}),
        (s, "GET", "/api/v1/accounts/x@oa.test/rules", None),
        (s, "POST", "/api/v1/accounts/x@oa.test/rules", {"name": "r1", "conditions": [
            {"field": "subject", "match": "contains", "value": "報告"}], "actions": [{"type": "move", "arg": "Work"}]}),
        (s, "POST", "/api/v1/accounts/x@oa.test/rules", {"name": "r2", "conditions": [
            {"field": "header", "header": "X-A", "match": "is", "value": "b"}], "actions": [{"type": "read"}]}),
        (s, "POST", "/api/v1/accounts/x@oa.test/rules", {"name": "", "conditions": [], "actions": []}),
        (s, "POST", "/api/v1/accounts/x@oa.test/rules/2/move", {"to": 1}),
        (s, "POST", "/api/v1/accounts/x@oa.test/rules/1/disable", None),
        (s, "POST", "/api/v1/accounts/x@oa.test/rules/1/enable", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/rules/9", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test/rules/1", None),
        (u, "GET", "/api/v1/accounts/x@oa.test/autoreply", None),
        (s, "PUT", "/api/v1/accounts/x@oa.test/autoreply", {"on": True, "body": "不在です\n戻りは月曜", "days": 2}),
        (s, "PUT", "/api/v1/accounts/x@oa.test/autoreply", {"start": "2026-13-01"}),
        (s, "GET", "/api/v1/accounts/x@oa.test/autoreply", None),
        (s, "DELETE", "/api/v1/accounts/x@oa.test", None),
        (s, "DELETE", "/api/v1/domains/oa.test", None),
        (s, "DELETE", "/api/v1/domains/oa.test?force=1", None),
        (s, "DELETE", "/api/v1/session", None),
    ]
    for c, method, path, body in calls:
        r = c.request(method, path, body)
        assert r.status < 500, (method, path, r)
        check(doc, seen, method, path, r)
    # a login that succeeds
    c = Client(srv)
    r = c.post("/api/v1/session", {"kind": "user", "address": "user@example.test", "password": PASSWORD})
    check(doc, seen, "POST", "/api/v1/session", r)
    # the framework's own errors
    r = s.request("POST", "/api/v1/domains", raw=b"{", content_type="application/json")
    check(doc, seen, "POST", "/api/v1/domains", r)
    r = s.request("POST", "/api/v1/domains", raw=b"x", content_type="text/plain")
    check(doc, seen, "POST", "/api/v1/domains", r)
    for method, path, r in admin_replies(srv, admin(srv), d, u):
        assert r.status < 500, (method, path, r)
        check(doc, seen, method, path, r)
    for method, path, r in server_replies(srv, admin(srv), d, u):
        assert r.status < 500, (method, path, r)
        check(doc, seen, method, path, r)
    for method, path, r in webmail_replies(srv, admin(srv), user(srv)):
        assert r.status < 500, (method, path, r)
        check(doc, seen, method, path, r)
    for method, path, r in mail_write_replies(srv, admin(srv), d, user(srv, "second@example.test")):
        assert r.status < 500, (method, path, r)
        check(doc, seen, method, path, r)
    assert seen == doc_routes(doc) | set(), doc_routes(doc) - seen
