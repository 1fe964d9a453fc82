"""Scale-out, the rest of the proxy tier (issue 16 §3): ManageSieve, the
web (webmail, panel and JSON API) through a proxy to the account's home
node, TLS on the proxy-to-node hop, and one LMTP result per recipient.
A lean cluster of its own: a private PostgreSQL, two mail nodes
(127.0.0.11-12) and one proxy (127.0.0.14), built from test_scaleout's
parts."""

import base64
import json
import os
import ssl
import urllib.error
import urllib.request

import pytest

import helpers
from helpers import DOMAIN, HOSTNAME, PASSWORD
from pg_util import PgServer, available, wait_for
from test_scaleout import CLIENT, NODE1, NODE2, PROXY, SECRET, STRANGER, Host, connect_from, lmtp_deliver, \
    use_directory

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL 15 is not installed (scripts/deps.sh test)")

ALICE, BOB, FULL = "alice@" + DOMAIN, "bob@" + DOMAIN, "full@" + DOMAIN


def list_node(n, ctl_host, pg):
    ctl_host.ctl("node", "add", n.node, "imap=" + n.hostport("imap"), "pop3=" + n.hostport("pop3"),
                 "lmtp=" + n.hostport("lmtp"), "http=%s:%d" % (n.addr, n.port("https")), "capacity=10G")
    n.pg, n.listed_offset = pg, n.offset


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("scaleout_proxy")
    pg = PgServer()
    hosts = []
    try:
        pg.setup().start()
        url = pg.createdb("yubin")
        proxy = Host(base / "p1", PROXY, accounts=[], domains=(), name="p1",
                     config={"server.role": "proxy", "proxy.secret": SECRET,
                             "proxy.connect_timeout": 5}).setup()
        use_directory(proxy, url)
        proxy.ctl("domain", "add", DOMAIN)
        nodes = []
        for name, addr in (("n1", NODE1), ("n2", NODE2)):
            n = Host(base / name, addr, node=name, accounts=[], domains=(), name=name,
                     config={"node.name": name, "proxy.trusted": PROXY, "proxy.secret": SECRET}).setup()
            use_directory(n, url)
            nodes.append(n)
        hosts = nodes + [proxy]
        for n in nodes:
            n.start()
            list_node(n, proxy, pg)
        n1, n2 = nodes
        # the nodes' ManageSieve port (the same everywhere in a real
        # installation; here n1's, where the test's account lives)
        proxy.ctl("config", "set", "proxy.sieve_port", n1.port("sieve"))
        proxy.start()
        proxy.ctl("account", "add", ALICE, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
        proxy.ctl("account", "add", BOB, "--password-stdin", "--node", "n2", input=PASSWORD + "\n")
        proxy.ctl("account", "add", FULL, "--password-stdin", "--node", "n1", "--quota", "1",
                  input=PASSWORD + "\n")
        yield proxy, n1, n2
    finally:
        for srv in hosts:
            srv.stop()
        pg.cleanup()
    for srv in hosts:
        rep = srv.sanitizer_report()
        assert rep is None, rep


# ---- ManageSieve ----------------------------------------------------------

class Sieve:
    def __init__(self, lines):
        self.c = lines

    def response(self):
        """(lines before the status, status line)."""
        lines = []
        while True:
            ln = self.c.line()
            if ln.startswith(("OK", "NO", "BYE")):
                return lines, ln
            lines.append(ln)

    def cmd(self, data):
        self.c.sendall(data if isinstance(data, bytes) else data.encode())
        return self.response()


def sieve_via(srv, source=CLIENT):
    """A ManageSieve session on srv's sieve.port, under STARTTLS."""
    s = Sieve(connect_from(srv.addr, srv.port("sieve"), source))
    caps, st = s.response()
    assert st.startswith("OK") and '"STARTTLS"' in caps
    _, st = s.cmd("STARTTLS\r\n")
    assert st.startswith("OK"), st
    ctx = ssl.create_default_context(cafile=srv.crt)
    s.c.sock = ctx.wrap_socket(s.c.sock, server_hostname=HOSTNAME)
    caps, st = s.response()
    assert '"SASL" "PLAIN"' in caps, caps
    return s


def sieve_login(s, user, password=PASSWORD, authz=""):
    plain = base64.b64encode(b"%s\0%s\0%s" % (authz.encode(), user.encode(), password.encode())).decode()
    return s.cmd('AUTHENTICATE "PLAIN" "%s"\r\n' % plain)


def test_managesieve_through_proxy_script_runs_on_node(cluster):
    proxy, n1, n2 = cluster
    s = sieve_via(proxy)
    _, st = sieve_login(s, ALICE, "wrong-password")
    assert st.startswith("NO"), st
    _, st = sieve_login(s, ALICE)
    assert st == 'OK "Logged in"', st
    script = b'require ["fileinto"];\r\nif header :contains "subject" "sorted" { fileinto "Sorted"; }\r\n'
    _, st = s.cmd(b'PUTSCRIPT "rules" {%d+}\r\n%s\r\n' % (len(script), script))
    assert st.startswith("OK"), st
    _, st = s.cmd('SETACTIVE "rules"\r\n')
    assert st.startswith("OK"), st
    lines, st = s.cmd("LISTSCRIPTS\r\n")
    assert st.startswith("OK") and '"rules" ACTIVE' in lines, lines
    s.cmd("LOGOUT\r\n")
    # the script is the node's: mail delivered there is filed by it
    tok = helpers.unique("sieve")
    msg = helpers.make_message(tok).replace(b"Subject: ", b"Subject: sorted ", 1)
    _, finals = lmtp_deliver(n1, [ALICE], msg)
    assert finals[0].startswith("250 "), finals
    assert not n1.find_token(ALICE, tok)
    sorted_md = n1.maildir(ALICE) + "/.Sorted/new"
    assert wait_for(lambda: os.path.isdir(sorted_md) and any(
        tok.encode() in open(os.path.join(sorted_md, f), "rb").read() for f in os.listdir(sorted_md)), 5)
    # the node saw the client's address through the proxy
    assert "client %s via proxy %s" % (CLIENT, PROXY) in n1.log()


def test_managesieve_proxy_login_refused_from_untrusted(cluster):
    proxy, n1, n2 = cluster
    s = sieve_via(n1, source=STRANGER)
    _, st = s.cmd('XCLIENT "ADDR=192.0.2.1"\r\n')
    assert st.startswith("NO"), st
    _, st = sieve_login(s, "yubin-proxy", SECRET, authz=ALICE)
    assert st.startswith("NO"), st
    s.cmd("LOGOUT\r\n")
