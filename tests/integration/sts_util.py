"""Peers for the outbound MTA-STS and TLS-RPT tests: a test CA and
certificates made with openssl, an SMTP server with or without STARTTLS
(a good or a wrong certificate) that records each message and whether it
came over TLS, and an HTTPS server on port 443 of its own loopback address
that serves MTA-STS policies by Host header."""
import http.server
import os
import socket
import ssl
import subprocess
import threading

OPENSSL = "openssl"


def run(*a):
    subprocess.run([OPENSSL] + list(a), check=True, capture_output=True)


class TestCA:
    def __init__(self, base):
        self.base = str(base)
        os.makedirs(self.base, exist_ok=True)
        self.key = os.path.join(self.base, "ca.key")
        self.pem = os.path.join(self.base, "ca.pem")
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.key, "-out", self.pem, "-days", "30", "-subj", "/CN=yubin test MTA-STS CA")

    def issue(self, label, names):
        """A certificate for names signed by this CA: (cert.pem, key.pem)."""
        key, csr, crt, ext = (os.path.join(self.base, label + s) for s in (".key", ".csr", ".pem", ".ext"))
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + names[0])
        run("x509", "-req", "-in", csr, "-CA", self.pem, "-CAkey", self.key, "-CAcreateserial",
            "-out", crt, "-days", "30", "-extfile", ext)
        return crt, key


def server_context(crt, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx


class SmtpPeer:
    """A receiving MTA on addr:port. tls: None (no STARTTLS offered) or an
    SSLContext. messages: [(tls_used, data)]."""

    def __init__(self, addr, port, tls=None, name="mx.peer.test"):
        self.addr, self.port, self.tls, self.name = addr, port, tls, name
        self.messages = []
        self.sessions = 0
        self.lock = threading.Lock()
        self.sock = None

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.addr, self.port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        with self.lock:
            self.sessions += 1
        conn.settimeout(30)
        tls = False
        try:
            f = conn.makefile("rb")
            conn.sendall(("220 %s ESMTP test peer\r\n" % self.name).encode())
            while True:
                line = f.readline(4096)
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    ext = ["250-%s" % self.name]
                    if self.tls is not None and not tls:
                        ext.append("250-STARTTLS")
                    ext.append("250 8BITMIME")
                    conn.sendall(("\r\n".join(ext) + "\r\n").encode())
                elif verb == b"STAR" and self.tls is not None and not tls:
                    conn.sendall(b"220 2.0.0 go ahead\r\n")
                    conn = self.tls.wrap_socket(conn, server_side=True)
                    f = conn.makefile("rb")
                    tls = True
                elif verb == b"DATA":
                    conn.sendall(b"354 go\r\n")
                    data = b""
                    while True:
                        part = f.readline(65536)
                        if not part or part == b".\r\n":
                            break
                        data += part
                    with self.lock:
                        self.messages.append((tls, data))
                    conn.sendall(b"250 2.0.0 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


class PolicyServer:
    """HTTPS on addr:443: GET /.well-known/mta-sts.txt answers
    policies[Host] (status, content type, body); other names 404."""

    def __init__(self, addr, crt, key, policies):
        self.addr, self.policies, self.hits = addr, policies, []
        self.posts = []         # (host, path, content type, body) of each POST
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                peer.hits.append((host, self.path))
                got = peer.policies.get(host) if self.path == "/.well-known/mta-sts.txt" else None
                status, ctype, body = got if got is not None else (404, "text/plain", "no\n")
                body = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                peer.posts.append(((self.headers.get("Host") or "").split(":")[0], self.path,
                                   self.headers.get("Content-Type"), self.rfile.read(n)))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer((addr, 443), Handler)
        self.httpd.socket = server_context(crt, key).wrap_socket(self.httpd.socket, server_side=True)

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
