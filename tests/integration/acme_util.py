"""Debian's pebble (the ACME test server) for the certificate tests: its
own CA and server certificate made here, listening on loopback ports,
validating against the daemon's http.port / https.port and resolving
names through the tests' dnsmasq."""
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request

from outbound_util import free_port

PEBBLE = shutil.which("pebble") or "/usr/bin/pebble"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def have_pebble():
    return os.access(PEBBLE, os.X_OK) and os.access(OPENSSL, os.X_OK)


def make_ca(base):
    """A CA and a certificate for 127.0.0.1/localhost signed by it (pebble's
    own HTTPS); returns (ca.pem, cert.pem, key.pem)."""
    os.makedirs(base, exist_ok=True)
    ca_key, ca = os.path.join(base, "ca.key"), os.path.join(base, "ca.pem")
    key, csr, crt = (os.path.join(base, n) for n in ("wfe.key", "wfe.csr", "wfe.pem"))
    ext = os.path.join(base, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = lambda *a: subprocess.run([OPENSSL] + list(a), check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "30", "-subj", "/CN=yubin test ACME server CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "30", "-extfile", ext)
    return ca, crt, key


class Pebble:
    def __init__(self, base, dns_resolver, http_port, tls_port):
        self.base = str(base)
        self.dns = dns_resolver
        self.http_port, self.tls_port = http_port, tls_port
        self.port = free_port("127.0.0.1")
        self.mgmt_port = free_port("127.0.0.1")
        self.proc = None
        self.ca, self.crt, self.key = make_ca(os.path.join(self.base, "ca"))

    @property
    def directory(self):
        return "https://127.0.0.1:%d/dir" % self.port

    def start(self):
        cfg = os.path.join(self.base, "pebble.json")
        with open(cfg, "w") as f:
            json.dump({"pebble": {
                "listenAddress": "127.0.0.1:%d" % self.port,
                "managementListenAddress": "127.0.0.1:%d" % self.mgmt_port,
                "certificate": self.crt, "privateKey": self.key,
                "httpPort": self.http_port, "tlsPort": self.tls_port,
                "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        self.log = open(os.path.join(self.base, "pebble.log"), "ab")
        self.proc = subprocess.Popen([PEBBLE, "-config", cfg, "-dnsserver", self.dns],
                                     stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("pebble exited: see %s/pebble.log" % self.base)
            try:
                self.fetch("https://127.0.0.1:%d/dir" % self.port)
                self.fetch("https://127.0.0.1:%d/roots/0" % self.mgmt_port)
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("pebble did not answer")

    def fetch(self, url):
        ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
            return r.read().decode()

    def issuing_root(self, path):
        """pebble's issuing CA (management interface /roots/0) into path."""
        with open(path, "w") as f:
            f.write(self.fetch("https://127.0.0.1:%d/roots/0" % self.mgmt_port))
        return path

    def log_text(self):
        with open(os.path.join(self.base, "pebble.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
