"""The web server core (issue 11, section 1): HTTPS on https.port with the
mail ports' certificates, http.port redirecting to it, limits, security
headers, static files (ETag, gzip, no way out of DATA/web) and the health
endpoint. Real clients: http.client, raw sockets and curl."""

import gzip
import http.client
import json
import os
import socket
import ssl
import subprocess
import time

import pytest

from helpers import HOST, HOSTNAME, read_until_closed
from test_backpressure import MemoryWatch

TIMEOUT = 2     # http.timeout of the module's server, seconds


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    import helpers
    s = helpers.Server(tmp_path_factory.mktemp("http"),
                       config={"http.timeout": TIMEOUT, "http.request_timeout": 2 * TIMEOUT,
                               "http.max_header_size": "4K",
                               "http.max_body_size": "2K"}).setup()
    web = os.path.join(s.data, "web")
    os.makedirs(os.path.join(web, "sub"))
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!DOCTYPE html><title>t</title><p>index page\n")
    with open(os.path.join(web, "app.js"), "w") as f:
        f.write("console.log('plain');\n")
    with open(os.path.join(web, "app.js.gz"), "wb") as f:
        f.write(gzip.compress(b"console.log('gzipped');\n"))
    with open(os.path.join(web, "sub", "index.html"), "w") as f:
        f.write("sub index\n")
    with open(os.path.join(web, "big.bin"), "wb") as f:
        f.write(os.urandom(1 << 20) * 64)      # 64 MiB
    with open(os.path.join(web, ".hidden"), "w") as f:
        f.write("secret\n")
    s.start(wait_port="https")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert not rep, rep


def ctx(srv):
    c = ssl.create_default_context(cafile=srv.crt)
    c.check_hostname = True
    return c


def https(srv, timeout=20):
    """An HTTPS connection verifying mail.example.test (sent as SNI) while
    connecting to 127.0.0.1."""
    conn = http.client.HTTPSConnection(HOSTNAME, srv.port("https"), context=ctx(srv),
                                       timeout=timeout)
    sock = socket.create_connection((HOST, srv.port("https")), timeout=timeout)
    conn.sock = ctx(srv).wrap_socket(sock, server_hostname=HOSTNAME)
    return conn


def get(srv, path, headers=None, method="GET"):
    c = https(srv)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def raw_tls(srv):
    sock = socket.create_connection((HOST, srv.port("https")), timeout=20)
    return ctx(srv).wrap_socket(sock, server_hostname=HOSTNAME)


def test_health_json_and_security_headers(srv):
    r, body = get(srv, "/api/v1/health")
    assert r.status == 200
    assert r.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"status": "ok"}
    csp = r.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    assert r.getheader("Referrer-Policy") == "no-referrer"
    assert r.getheader("Strict-Transport-Security").startswith("max-age=")
    r, body = get(srv, "/api/v1/nothing")
    assert r.status == 404 and "error" in json.loads(body)
    r, _ = get(srv, "/api/v1/health", method="DELETE")
    assert r.status == 405


def test_tls_verifies_host_name_with_sni(srv):
    s = raw_tls(srv)
    assert s.server_hostname == HOSTNAME
    s.close()
    wrong = ssl.create_default_context(cafile=srv.crt)
    sock = socket.create_connection((HOST, srv.port("https")), timeout=20)
    with pytest.raises(ssl.SSLCertVerificationError):
        wrong.wrap_socket(sock, server_hostname="other.example.test")
    sock.close()
    p = subprocess.run(["curl", "-sS", "--cacert", srv.crt, "--connect-to",
                        "%s:%d:%s:%d" % (HOSTNAME, srv.port("https"), HOST, srv.port("https")),
                        "https://%s:%d/api/v1/health" % (HOSTNAME, srv.port("https"))],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"status": "ok"}


def test_keep_alive_two_requests_one_connection(srv):
    c = https(srv)
    for path in ("/api/v1/health", "/"):
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        assert r.status == 200
    sock = c.sock
    c.request("GET", "/api/v1/health")
    c.getresponse().read()
    assert c.sock is sock       # the same TLS connection throughout
    c.close()


def test_header_too_large_refused_and_closed(srv):
    s = raw_tls(srv)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
    data = read_until_closed(s)
    assert data.split(b" ")[1] in (b"431", b"400"), data[:100]
    s.close()


def test_body_too_large_413(srv):
    c = https(srv)
    c.request("POST", "/api/v1/health", body=b"x" * 5000,
              headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse()
    assert r.status == 413
    c.close()


def test_idle_and_slow_clients_are_closed(srv):
    # idle after a keep-alive request
    s = raw_tls(srv)
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    data = read_until_closed(s)
    assert data.startswith(b"HTTP/1.1 200")
    s.close()
    # a request that never ends
    s = raw_tls(srv)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    read_until_closed(s)
    s.close()


def test_trickling_request_closed_by_the_request_deadline(srv):
    """Bytes sent faster than http.timeout keep resetting the idle timeout;
    http.request_timeout (2 * TIMEOUT here) ends the request all the same."""
    import select
    s = raw_tls(srv)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    s.settimeout(0.5)           # TLS 1.3 tickets may arrive: wait briefly
    closed = False
    for _ in range(120):        # 60 s of trickling if nothing stopped it
        try:
            s.sendall(b"a")
        except OSError:
            closed = True
            break
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            try:
                data = s.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                continue        # only a handshake message, no data
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                closed = True
                break
    s.close()
    assert closed, "a request trickling in was never cut off"


def test_port_80_redirects_except_well_known(srv):
    c = http.client.HTTPConnection(HOST, srv.port("http"), timeout=20)
    c.request("GET", "/some/path?a=1", headers={"Host": "%s:%d" % (HOSTNAME, srv.port("http"))})
    r = c.getresponse()
    r.read()
    assert r.status == 301
    assert r.getheader("Location") == "https://%s:%d/some/path?a=1" % (HOSTNAME, srv.port("https"))
    assert r.getheader("Strict-Transport-Security") is None
    c.request("GET", "/.well-known/acme-challenge/x", headers={"Host": HOSTNAME})
    r = c.getresponse()
    r.read()
    assert r.status == 404
    c.request("GET", "/", headers={"Host": "bad host<>"})
    r = c.getresponse()
    r.read()
    assert r.status == 400
    c.close()


def test_static_etag_304_and_types(srv):
    r, body = get(srv, "/")
    assert r.status == 200 and b"index page" in body
    assert r.getheader("Content-Type") == "text/html; charset=utf-8"
    etag = r.getheader("ETag")
    assert etag and etag.startswith('"')
    r, body = get(srv, "/", headers={"If-None-Match": etag})
    assert r.status == 304 and body == b""
    r, body = get(srv, "/", headers={"If-None-Match": '"other"'})
    assert r.status == 200
    r, body = get(srv, "/sub/")
    assert body == b"sub index\n"
    r, body = get(srv, "/missing.html")
    assert r.status == 404
    r, body = get(srv, "/", method="HEAD")
    assert r.status == 200 and body == b""


def test_static_gzip(srv):
    r, body = get(srv, "/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.getheader("Content-Encoding") == "gzip"
    assert r.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(body) == b"console.log('gzipped');\n"
    assert r.getheader("Content-Type") == "text/javascript; charset=utf-8"
    gz_etag = r.getheader("ETag")
    r, body = get(srv, "/app.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert r.getheader("Content-Encoding") is None and body == b"console.log('plain');\n"
    assert r.getheader("ETag") != gz_etag
    r, body = get(srv, "/app.js")
    assert body == b"console.log('plain');\n"


@pytest.mark.parametrize("path", [
    "/../yubin.conf", "/sub/../../yubin.conf", "/%2e%2e/yubin.conf", "/%2E%2E/yubin.conf",
    "/sub%2f..%2f..%2fyubin.conf", "/..%2fyubin.conf", "/index.html%00.js", "/.hidden",
    "/sub/%2e/index.html", "/..%5cyubin.conf", "//etc/passwd", "/%",
])
def test_traversal_refused(srv, path):
    s = raw_tls(srv)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = read_until_closed(s)
    s.close()
    status = int(data.split(b" ")[1])
    assert status in (400, 404), data[:200]
    assert b"port" not in data.split(b"\r\n\r\n", 1)[-1]     # no yubin.conf text


def test_unread_big_file_does_not_grow_memory(srv):
    """A client that asks for a 64 MiB file and never reads: the file is
    sent only as fast as the client takes it."""
    watch = MemoryWatch(srv)
    socks = []
    try:
        for _ in range(8):
            s = raw_tls(srv)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        # the server is busy with them but still answers others
        r, _ = get(srv, "/api/v1/health")
        assert r.status == 200
        time.sleep(1)
        watch.assert_bounded("8 clients not reading a 64 MiB file")
    finally:
        for s in socks:
            s.close()
    # one that does read gets the whole file
    r, body = get(srv, "/big.bin")
    assert r.status == 200 and len(body) == 64 << 20


def test_reload_new_certificate_for_new_https_connections(new_server):
    """A reload (SIGHUP, sent by `yubinctl config set`) puts a new
    certificate on new HTTPS connections too; an open one keeps working."""
    srv = new_server(start=False)
    srv.start(wait_port="https")
    old = https(srv)
    old.request("GET", "/api/v1/health")
    old.getresponse().read()
    key = srv.crt[:-len(".crt")] + ".key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=" + HOSTNAME,
                    "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % HOSTNAME,
                    "-keyout", key + ".new", "-out", srv.crt + ".new"],
                   check=True, capture_output=True)
    os.replace(key + ".new", key)
    os.replace(srv.crt + ".new", srv.crt)
    with open(srv.crt) as f:
        new_der = ssl.PEM_cert_to_DER_cert(f.read())
    srv.ctl("config", "set", "smtp.max_message_size", "234567")
    deadline = time.time() + 10
    while True:
        try:
            s = raw_tls(srv)     # verifies against the new certificate
            served = s.getpeercert(binary_form=True)
            s.close()
            if served == new_der:
                break
        except ssl.SSLError:
            pass
        assert time.time() < deadline, "the new certificate was not served on https"
        time.sleep(0.05)
    old.request("GET", "/api/v1/health")
    r = old.getresponse()
    assert r.status == 200 and json.loads(r.read()) == {"status": "ok"}
    old.close()


def test_connection_limits(new_server):
    """http.max_connections_per_ip: the connection past it gets 503 and the
    close at its first request; http.max_connections: past it the
    connection is closed at once (no TLS handshake). A closed connection
    frees its place."""
    srv = new_server(start=False, config={"http.max_connections_per_ip": 2,
                                          "http.max_connections": 3})
    srv.start(wait_port="https")
    first = [https(srv), https(srv)]
    for c in first:
        c.request("GET", "/api/v1/health")
        assert c.getresponse().read() == b'{"status":"ok"}'
    third = https(srv)
    third.request("GET", "/api/v1/health")
    r = third.getresponse()
    assert r.status == 503
    r.read()
    third.close()
    # the third is gone once the server has closed it: wait for a 4th
    # connection to be accepted (3 in all), and a 5th refused
    deadline = time.time() + 10
    while True:
        try:
            fourth = raw_tls(srv)
            break
        except (ssl.SSLError, OSError):
            assert time.time() < deadline
            time.sleep(0.05)
    with pytest.raises((ssl.SSLError, OSError)):
        raw_tls(srv)
    fourth.close()
    first[0].close()
    # places free again: a new connection gets served
    deadline = time.time() + 10
    while True:
        try:
            c = https(srv)
            c.request("GET", "/api/v1/health")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                break
        except (ssl.SSLError, OSError, http.client.HTTPException):
            pass
        assert time.time() < deadline, "a closed connection did not free its place"
        time.sleep(0.05)
    first[1].close()


def plaintext_answer(srv, request=b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"):
    """What a cleartext HTTP request on https.port gets back, until the
    server closes the connection."""
    s = socket.create_connection((HOST, srv.port("https")), timeout=20)
    try:
        s.sendall(request)
        return read_until_closed(s)
    finally:
        s.close()


def served_connection(srv, timeout=10):
    """An HTTPS connection that got a 200, once the server has a place for
    it (a connection just closed may still hold its place for a moment)."""
    deadline = time.time() + timeout
    while True:
        try:
            c = https(srv)
            c.request("GET", "/api/v1/health")
            r = c.getresponse()
            r.read()
            if r.status == 200:
                return c
            c.close()
        except (ssl.SSLError, OSError, http.client.HTTPException):
            pass
        assert time.time() < deadline, "no place for a new connection"
        time.sleep(0.05)


def test_https_port_never_answers_cleartext_http(new_server):
    """A cleartext request on https.port gets no HTTP answer, neither under
    http.max_connections (the TLS handshake fails) nor past it (closed
    unanswered, no plain 503)."""
    srv = new_server(start=False, config={"http.max_connections": 1})
    srv.start(wait_port="https")
    held = served_connection(srv)   # the only place
    for _ in range(3):
        answer = plaintext_answer(srv)
        assert b"HTTP/" not in answer, answer[:200]
    # a TLS client past the limit: no handshake, and no cleartext either
    s = socket.create_connection((HOST, srv.port("https")), timeout=20)
    with pytest.raises((ssl.SSLError, OSError)):
        ctx(srv).wrap_socket(s, server_hostname=HOSTNAME)
    s.close()
    held.close()
    # under the limit: the handshake fails on the cleartext, no answer
    served_connection(srv).close()
    answer = plaintext_answer(srv)
    assert b"HTTP/" not in answer, answer[:200]


@pytest.mark.parametrize("path", ["/api/v1/health", "/missing.html", "/index.html", "/api/v1/session",
                                  "/api/v1/nothing", "/metrics", "/%2e%2e/x"])
def test_head_has_get_headers_and_no_body(srv, path):
    """HEAD: GET's status and headers, Content-Length included, and no body
    (RFC 9110, 9.3.2); the connection then serves a GET (a body sent after
    the HEAD's headers would be read as the next status line)."""
    c = https(srv)
    c.request("GET", path)
    g = c.getresponse()
    gbody = g.read()
    for _ in range(2):
        c.request("HEAD", path)
        h = c.getresponse()
        assert h.read() == b""
        assert h.status == g.status
        if path == "/metrics":  # the counters move between the two
            assert int(h.getheader("Content-Length")) > 1000
        else:
            assert h.getheader("Content-Length") == str(len(gbody)), (path, h.getheaders())
        assert h.getheader("Content-Type") == g.getheader("Content-Type")
        c.request("GET", path)
        again = c.getresponse()
        assert again.status == g.status
        abody = again.read()
        assert abody == gbody or path == "/metrics"
    # nothing was left in the stream after the last reply
    c.sock.settimeout(0.5)
    with pytest.raises((socket.timeout, ssl.SSLError)):
        assert c.sock.recv(1) == b"", "the server closed the connection"
    c.close()


def test_port_80_head_has_no_body(srv):
    """The redirect and the error pages of port 80 answer HEAD the same way:
    GET's headers and length, no body, the connection still usable."""
    c = http.client.HTTPConnection(HOST, srv.port("http"), timeout=20)
    host = {"Host": "%s:%d" % (HOSTNAME, srv.port("http"))}
    for path in ("/some/path", "/.well-known/x"):
        c.request("GET", path, headers=host)
        g = c.getresponse()
        gbody = g.read()
        c.request("HEAD", path, headers=host)
        h = c.getresponse()
        assert h.read() == b""
        assert h.status == g.status and h.getheader("Location") == g.getheader("Location")
        assert h.getheader("Content-Length") == str(len(gbody))
    c.request("GET", "/", headers=host)
    r = c.getresponse()
    r.read()
    assert r.status == 301
    c.close()
