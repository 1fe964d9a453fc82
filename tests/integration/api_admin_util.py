"""Replies of the server administration's API routes (api_admin.h) for
test_api_openapi.py, which validates each against openapi.json: every
route once or more, successes and refusals."""

from api_util import ADMIN_PW, recorder


def admin_replies(srv, s, d, u):
    """(method, path, Response) of calls by the server administrator s,
    the domain administrator d (example.test) and the mail user u."""
    out, call = recorder()

    qid = srv.ctl("queue", "inject", "--from", "user@example.test", "r@remote.test",
                  input="Subject: openapi\n\nbody\n").out.strip()
    call(s, "GET", "/api/v1/security/events?limit=2")
    call(d, "GET", "/api/v1/security/events?domain=other.test")
    call(s, "GET", "/api/v1/security/events?limit=x")
    call(s, "GET", "/api/v1/security/blocks")
    call(u, "GET", "/api/v1/security/blocks")
    call(s, "POST", "/api/v1/security/unblock", {"target": "192.0.2.99"})
    call(s, "POST", "/api/v1/security/unblock", {"target": "nonsense"})
    call(d, "POST", "/api/v1/security/unblock", {"target": "192.0.2.99"})
    call(s, "GET", "/api/v1/security/suspended")
    call(s, "GET", "/api/v1/audit?limit=3")
    call(d, "GET", "/api/v1/audit?domain=other.test")
    call(s, "GET", "/api/v1/admins")
    call(d, "GET", "/api/v1/admins")
    call(s, "POST", "/api/v1/admins", {"name": "oa-admin", "role": "domain", "domains": ["example.test"],
                                       "password": ADMIN_PW})
    call(s, "POST", "/api/v1/admins", {"name": "oa-admin", "role": "server", "password": ADMIN_PW})
    call(s, "POST", "/api/v1/admins/oa-admin/password", {"password": "Another-pass-1"})
    call(s, "POST", "/api/v1/admins/nobody/password", {"password": "Another-pass-1"})
    call(s, "DELETE", "/api/v1/admins/oa-admin")
    call(s, "DELETE", "/api/v1/admins/oa-admin")
    tok = call(d, "POST", "/api/v1/tokens", {"role": "domain", "domains": ["example.test"], "expires_in": 600})
    call(d, "POST", "/api/v1/tokens", {"role": "server"})
    call(d, "GET", "/api/v1/tokens")
    call(d, "DELETE", "/api/v1/tokens/" + tok.json["id"])
    call(d, "DELETE", "/api/v1/tokens/" + tok.json["id"] + "0")
    call(s, "GET", "/api/v1/queue")
    call(s, "GET", "/api/v1/queue/" + qid)
    call(s, "GET", "/api/v1/queue/bad.id")
    call(s, "POST", "/api/v1/queue/%s/retry" % qid)
    call(s, "POST", "/api/v1/queue/retry")
    call(s, "DELETE", "/api/v1/queue/" + qid)
    call(s, "DELETE", "/api/v1/queue/" + qid)
    call(d, "GET", "/api/v1/domains/example.test/dkim")
    call(d, "GET", "/api/v1/domains/other.test/dkim")
    call(d, "POST", "/api/v1/domains/example.test/dkim/activate")
    call(d, "POST", "/api/v1/domains/example.test/dkim/rotate")
    call(d, "POST", "/api/v1/domains/example.test/dkim/activate")
    call(d, "POST", "/api/v1/domains/example.test/dkim/rotate", {"now": True})
    call(d, "GET", "/api/v1/domains/example.test/dns")
    call(d, "GET", "/api/v1/domains/example.test/dns?check=1")
    call(s, "GET", "/api/v1/domains/nowhere.test/dns")
    call(d, "GET", "/api/v1/doctor?address=user@example.test")
    call(d, "GET", "/api/v1/doctor?address=alien@other.test")
    call(s, "GET", "/api/v1/doctor")
    call(u, "GET", "/api/v1/me/logins")
    call(u, "GET", "/api/v1/me/logins?address=alien@other.test")
    call(d, "GET", "/api/v1/me/logins")
    good = [(m, p) for m, p, r in out if r.status < 300]
    assert len(good) >= 25, [(m, p, r.status) for m, p, r in out]
    return out
