"""Replies of the server's own API routes (api_server.h) for
test_api_openapi.py, which validates each against openapi.json:
successes and refusals of every route."""

from api_util import recorder


def server_replies(srv, s, d, u):
    """(method, path, Response) of calls by the server administrator s,
    the domain administrator d (example.test) and the mail user u."""
    out, call = recorder()

    call(s, "GET", "/api/v1/server/settings")
    call(d, "GET", "/api/v1/server/settings")
    old = srv.ctl("config", "get", "smtp.max_errors").out.strip()
    call(s, "PUT", "/api/v1/server/settings/smtp.max_errors", {"value": "7"})
    call(s, "PUT", "/api/v1/server/settings/smtp.max_errors", {"value": old})
    call(s, "PUT", "/api/v1/server/settings/server.workers", {"value": "4"})
    call(s, "PUT", "/api/v1/server/settings/smtp.max_errors", {"value": "x"})
    call(u, "PUT", "/api/v1/server/settings/smtp.max_errors", {"value": "7"})
    call(s, "POST", "/api/v1/geoip/overrides", {"cidr": "198.51.100.0/24", "country": "fr"})
    call(s, "POST", "/api/v1/geoip/overrides", {"cidr": "198.51.100.0/24", "country": "FRA"})
    call(d, "POST", "/api/v1/geoip/overrides", {"cidr": "198.51.100.0/24", "country": "FR"})
    call(s, "GET", "/api/v1/geoip/overrides")
    call(u, "GET", "/api/v1/geoip/overrides")
    call(s, "GET", "/api/v1/geoip/lookup?ip=198.51.100.7")
    call(s, "GET", "/api/v1/geoip/lookup?ip=127.0.0.1")
    call(s, "GET", "/api/v1/geoip/lookup?ip=8.8.8.8")
    call(s, "GET", "/api/v1/geoip/lookup?ip=nope")
    call(d, "GET", "/api/v1/geoip/lookup?ip=8.8.8.8")
    call(s, "DELETE", "/api/v1/geoip/overrides?cidr=198.51.100.0/24")
    call(s, "DELETE", "/api/v1/geoip/overrides", {"cidr": "198.51.100.0/24"})
    call(d, "DELETE", "/api/v1/geoip/overrides?cidr=198.51.100.0/24")
    call(s, "DELETE", "/api/v1/geoip/overrides?cidr=bad")
    call(d, "POST", "/api/v1/accounts/user@example.test/index/rebuild")
    call(s, "POST", "/api/v1/accounts/user@example.test/index/rebuild", {"force": True})
    call(d, "POST", "/api/v1/accounts/alien@other.test/index/rebuild")
    call(s, "POST", "/api/v1/accounts/nobody@example.test/index/rebuild")
    call(s, "POST", "/api/v1/accounts/user@example.test/index/rebuild", {"force": 1})
    return out
