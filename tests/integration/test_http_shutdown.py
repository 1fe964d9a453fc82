"""The web side at SIGTERM (issue 11): no new connections, idle keep-alive
connections closed, API requests already handed to the workers answered
(within server.shutdown_grace), then the daemon exits; and a connection
that goes away while its API job runs (the close callback's branch).
Real daemon, real TLS clients."""

import json
import signal
import socket
import ssl
import struct
import threading
import time

import pytest

import api_util
import helpers
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD
from test_metrics import scrape, value

USER = "user@" + DOMAIN


def tls(srv):
    c = ssl.create_default_context(cafile=srv.crt)
    s = socket.create_connection((HOST, srv.port("https")), timeout=30)
    return c.wrap_socket(s, server_hostname=HOSTNAME)


def read_until_closed(sock, limit=30):
    sock.settimeout(limit)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return data
        if not chunk:
            return data
        data += chunk


def web_failures(srv):
    return value(scrape(srv), "yubin_auth_failures_total", service="web")


def wait_web_failures(srv, want, timeout=30):
    deadline = time.time() + timeout
    while web_failures(srv) < want:
        assert time.time() < deadline, "the logins did not reach the workers"
        time.sleep(0.05)


def test_sigterm_answers_api_requests_in_flight(new_server):
    """Failed mail-user logins whose replies wait for the brute-force delay
    (a job not yet answered) when SIGTERM comes: each still gets its 401;
    an idle keep-alive connection is closed; the daemon exits cleanly
    within the grace."""
    grace = 20
    srv = new_server(start=False, config={"server.shutdown_grace": grace,
                                          "bruteforce.ip_delay_after": 0,
                                          "bruteforce.delay_max": 3,
                                          "bruteforce.account_delay_after": 0,
                                          "http.timeout": 60})
    srv.start(wait_port="https")
    idle = tls(srv)
    idle.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while not first.endswith(b'{"status":"ok"}'):
        chunk = idle.recv(65536)
        assert chunk, first
        first += chunk
    assert first.startswith(b"HTTP/1.1 200"), first
    results = []

    def login(i):
        try:
            r = api_util.Client(srv).post("/api/v1/session", {"kind": "user", "address": USER,
                                                              "password": "wrong-%d" % i})
            results.append(r.status)
        except Exception as e:      # noqa: BLE001 -- reported by the assertion below
            results.append(repr(e))

    n = 3
    threads = [threading.Thread(target=login, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    wait_web_failures(srv, n)       # all refused on the workers, replies delayed
    assert len(results) == 0, results
    srv.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(grace + 10)
    assert sorted(map(str, results)) == ["401"] * n, results
    assert read_until_closed(idle) == b""
    rc = srv.proc.wait(grace + 10)
    assert rc == 0, srv.log_tail()
    assert "still running at the end of the grace" not in srv.log()
