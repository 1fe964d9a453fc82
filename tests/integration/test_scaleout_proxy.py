"""Scale-out, the rest of the proxy tier (issue 16 §3): ManageSieve, the
web (webmail, panel and JSON API) through a proxy to the account's home
node, TLS on the proxy-to-node hop, and one LMTP result per recipient.
A lean cluster of its own: a private PostgreSQL, two mail nodes
(127.0.0.11-12) and one proxy (127.0.0.14), built from test_scaleout's
parts."""

import base64
import http.client
import json
import os
import socket
import ssl

import pytest

import api_util
import helpers
from api_util import ok
from helpers import DOMAIN, HOSTNAME, PASSWORD
from pg_util import PgServer, available, wait_for
from test_scaleout import CLIENT, NODE1, NODE2, PROXY, SECRET, STRANGER, Host, IMAPFrom, POP3From, connect_from, \
    imap_login_via, lmtp_deliver, smtp_via_proxy, tls, use_directory

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL 15 is not installed (scripts/deps.sh test)")

ALICE, BOB, FULL = "alice@" + DOMAIN, "bob@" + DOMAIN, "full@" + DOMAIN
PROXY_NAME = "proxy." + DOMAIN   # the name clients use; the nodes keep theirs


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
                             "proxy.connect_timeout": 5, "hostname": PROXY_NAME}).setup()
        use_directory(proxy, url)
        proxy.ctl("domain", "add", DOMAIN)
        nodes = []
        for name, addr in (("n1", NODE1), ("n2", NODE2)):
            # n2 takes one HTTPS connection per address: the proxy's many
            # clients must not count as one
            n = Host(base / name, addr, node=name, accounts=[], domains=(), name=name,
                     config={"node.name": name, "proxy.trusted": PROXY, "proxy.secret": SECRET,
                             "http.max_connections_per_ip": 1 if name == "n2" else 50}).setup()
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


# ---- the web through the proxy --------------------------------------------

class WebClient(api_util.Client):
    """The JSON API of srv (its own loopback address) from CLIENT."""

    def connect(self, timeout=30):
        ctx = ssl.create_default_context(cafile=self.srv.crt)
        conn = http.client.HTTPSConnection(HOSTNAME, self.srv.port("https"), context=ctx, timeout=timeout)
        sock = socket.create_connection((self.srv.addr, self.srv.port("https")), timeout=timeout,
                                        source_address=(self.source or CLIENT, 0))
        conn.sock = ctx.wrap_socket(sock, server_hostname=HOSTNAME)
        return conn


def web_user(srv, address):
    c = WebClient(srv)
    c.login("user", address, PASSWORD)
    return c


def open_events(c):
    """GET /api/v1/mail/events on a raw socket: (socket, its file, status)."""
    sock = c.connect().sock
    sock.sendall(("GET /api/v1/mail/events HTTP/1.1\r\nHost: %s\r\nCookie: yubin_session=%s\r\n"
                  "Accept: text/event-stream\r\n\r\n" % (HOSTNAME, c.cookie)).encode())
    f = sock.makefile("rb")
    status = f.readline()
    headers = {}
    while (line := f.readline().rstrip(b"\r\n")):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return sock, f, status, headers


def next_event(f):
    """The name of the next event (comments skipped)."""
    name = None
    while True:
        line = f.readline()
        if not line:
            raise EOFError("the stream ended")
        line = line.rstrip(b"\r\n")
        if line.startswith(b"event:"):
            name = line[6:].strip().decode()
        elif line == b"" and name is not None:
            return name


def test_webmail_api_through_proxy_reads_the_home_node(cluster):
    proxy, n1, n2 = cluster
    tok = helpers.unique("web")
    msg = helpers.make_message(tok).replace(b"Subject: ", b"Subject: %s " % tok.encode(), 1)
    lmtp_deliver(n1, [ALICE], msg)
    me = web_user(proxy, ALICE)
    r = ok(me.get("/api/v1/mail/folders/INBOX/messages"))
    uid = next(m["uid"] for m in r["messages"] if tok in m["subject"])
    r = me.get("/api/v1/mail/messages/INBOX/%d/raw" % uid)
    assert r.status == 200 and tok.encode() in r.raw
    # a change (a JSON body with the CSRF token) lands on the node
    ok(me.post("/api/v1/mail/folders", {"name": "Proj"}), 201)
    assert os.path.isdir(os.path.join(n1.maildir(ALICE), ".Proj"))
    # ... and an upload (a raw body)
    r = me.request("POST", "/api/v1/mail/uploads?filename=a.bin", raw=b"\x00\x01" * 5000,
                   content_type="application/octet-stream")
    assert r.status in (200, 201), r
    # the proxy holds no mailbox
    assert not os.path.exists(proxy.maildir(ALICE))
    # a mail client's profile names the proxy, not the node
    r = me.get("/api/v1/me/mobileconfig")
    assert r.status == 200 and PROXY_NAME.encode() in r.raw and HOSTNAME.encode() not in r.raw, r
    # bob's mail is on his own node
    bob = web_user(proxy, BOB)
    r = ok(bob.get("/api/v1/mail/folders/INBOX/messages"))
    assert not any(tok in m["subject"] for m in r["messages"])
    # logged out through the proxy: the session is gone everywhere
    assert me.request("DELETE", "/api/v1/session").status in (200, 204)
    assert me.get("/api/v1/mail/folders/INBOX/messages").status == 401


def test_events_stream_through_proxy(cluster):
    proxy, n1, n2 = cluster
    me = web_user(proxy, ALICE)
    sock, f, status, headers = open_events(me)
    try:
        assert b" 200 " in status, status
        assert headers["content-type"].startswith("text/event-stream")
        assert next_event(f) == "ready"
        lmtp_deliver(n1, [ALICE], helpers.make_message(helpers.unique("sse")))
        assert next_event(f) == "change"
    finally:
        sock.close()


def test_proxy_not_held_to_the_nodes_per_address_limit(cluster):
    """n2 allows one HTTPS connection per client address; bob's event
    stream and his other requests all come from the proxy's."""
    proxy, n1, n2 = cluster
    bob = web_user(proxy, BOB)
    sock, f, status, headers = open_events(bob)
    try:
        assert b" 200 " in status, status
        assert next_event(f) == "ready"
        for _ in range(3):
            ok(bob.get("/api/v1/mail/folders/INBOX/messages"))
    finally:
        sock.close()


def test_admin_account_routes_go_to_the_accounts_node(cluster):
    proxy, n1, n2 = cluster
    proxy.ctl("admin", "add", "root", "--role", "server", "--password-stdin", input=api_util.ADMIN_PW + "\n")
    a = WebClient(proxy)
    a.login("admin", "root", api_util.ADMIN_PW)
    script = 'require ["fileinto"];\nif header :contains "subject" "x" { fileinto "X"; }\n'
    ok(a.request("PUT", "/api/v1/accounts/%s/sieve/admin-rules" % BOB, body={"script": script}))
    r = ok(a.get("/api/v1/accounts/%s/sieve" % BOB))
    assert "admin-rules" in json.dumps(r)
    # the script is on bob's node, not on the proxy; the node recorded the
    # client's address, not the proxy's
    assert os.path.exists(n2.maildir(BOB)) and not os.path.exists(proxy.maildir(BOB))
    rows = json.loads(proxy.ctl("audit", "--json", "--target", BOB).out)
    assert any("sieve" in r["operation"] and r["ip"] == CLIENT for r in rows), rows
    # directory-only routes are the proxy's own
    assert DOMAIN in json.dumps(ok(a.get("/api/v1/domains")))


def test_proxy_headers_refused_from_untrusted(cluster):
    proxy, n1, n2 = cluster
    c = WebClient(n1)
    c.source = STRANGER
    r = c.get("/api/v1/session", headers={"X-Yubin-Client-Address": "192.0.2.7",
                                          "X-Yubin-Proxy-Secret": SECRET})
    assert r.status == 403 and r.code == "forbidden", r


# ---- one LMTP result per recipient ----------------------------------------

def test_lmtp_full_mailbox_refuses_only_its_recipient(cluster):
    """RFC 2033 4.2: after DATA one reply per accepted RCPT, in order; a
    mailbox found full refuses the message for its recipient alone."""
    proxy, n1, n2 = cluster
    tok = helpers.unique("full")
    msg = helpers.make_message(tok, size=1200 * 1024)   # past full@'s 1 MB
    rcpt, finals = lmtp_deliver(n1, [FULL, ALICE, FULL], msg)
    assert all(r.startswith("250") for r in rcpt), rcpt
    assert len(finals) == 3, finals
    assert finals[0].startswith("552 5.2.2") and finals[2].startswith("552 5.2.2"), finals
    assert finals[1].startswith("250 "), finals
    assert len(n1.find_token(ALICE, tok)) == 1 and not n1.find_token(FULL, tok)
    # the big message read back through the proxy: streamed whole
    me = web_user(proxy, ALICE)
    r = ok(me.get("/api/v1/mail/folders/INBOX/messages"))
    uid = next(m["uid"] for m in r["messages"] if tok in m["subject"])
    r = me.get("/api/v1/mail/messages/INBOX/%d/raw" % uid)
    assert r.status == 200 and r.raw == list(n1.find_token(ALICE, tok).values())[0]
    # nobody but the full one: refused, once per RCPT
    tok2 = helpers.unique("full")
    _, finals = lmtp_deliver(n1, [FULL], helpers.make_message(tok2, size=1200 * 1024))
    assert len(finals) == 1 and finals[0].startswith("552 5.2.2"), finals


def test_smtp_through_proxy_one_full_recipient(cluster):
    """Port 25 of the proxy, recipients on two nodes, one mailbox full:
    the sender gets one 250 (nobody gets the message twice), the others
    have it once, and the full one's copy goes to the proxy's queue, whose
    own try is refused by the node for that recipient alone."""
    proxy, n1, n2 = cluster
    tok = helpers.unique("mix")
    rcpt, final = smtp_via_proxy(proxy, [ALICE, FULL, BOB], helpers.make_message(tok, size=1200 * 1024))
    assert all(r.startswith("250") for r in rcpt), rcpt
    assert final.startswith("250 ") and "1 recipient queued" in final, final
    assert len(n1.find_token(ALICE, tok)) == 1 and len(n2.find_token(BOB, tok)) == 1
    # the queue's own try: refused for that recipient, a bounce to the sender
    assert wait_for(lambda: "to=<%s> status=bounced (552 5.2.2" % FULL in proxy.log() and
                    "bounce notice to <sender@client.test>" in proxy.log(), 20), proxy.log()[-3000:]
    assert not n1.find_token(FULL, tok)
    assert len(n1.find_token(ALICE, tok)) == 1 and len(n2.find_token(BOB, tok)) == 1


# ---- TLS between the proxy and the nodes ----------------------------------

def test_tls_to_the_nodes(cluster, tmp_path):
    """proxy.node_tls = on: IMAP, POP3, ManageSieve and LMTP go to the
    nodes by STARTTLS and HTTPS as ever, each node's certificate checked
    against proxy.node_ca_file and proxy.node_tls_name; a node whose
    certificate is not trusted (here n2's self-signed one is left out) or
    a name the certificates do not carry makes the hop fail (temporary
    errors), never fall back to plain text."""
    proxy, n1, n2 = cluster
    ca = tmp_path / "nodes.pem"
    ca.write_text(open(n1.crt).read())
    proxy.ctl("config", "set", "proxy.node_ca_file", str(ca))
    proxy.ctl("config", "set", "proxy.node_tls_name", HOSTNAME)
    proxy.ctl("config", "set", "proxy.node_tls", "on")
    proxy.stop()
    proxy.start()
    try:
        tok = helpers.unique("tls")
        _, final = smtp_via_proxy(proxy, [ALICE], helpers.make_message(tok))
        assert final.startswith("250 "), final
        data = list(n1.find_token(ALICE, tok).values())[0]
        assert b"with LMTP" in data and b"(using TLS" in data, data[:800]
        m = IMAPFrom(PROXY, proxy.port("imap"), CLIENT)
        m.starttls(tls(proxy))
        m.login(ALICE, PASSWORD)
        m.select("INBOX")
        typ, got = m.search(None, "BODY", tok)
        assert typ == "OK" and len(got[0].split()) == 1
        m.logout()
        p = POP3From(PROXY, proxy.port("pop3"), CLIENT)
        p.stls(tls(proxy))
        p.user(FULL)
        assert p.pass_(PASSWORD).startswith(b"+OK")
        p.quit()
        s = sieve_via(proxy)
        _, st = sieve_login(s, ALICE)
        assert st == 'OK "Logged in"', st
        lines, st = s.cmd("LISTSCRIPTS\r\n")
        assert st.startswith("OK"), st
        s.cmd("LOGOUT\r\n")
        me = web_user(proxy, ALICE)
        assert ok(me.get("/api/v1/mail/folders/INBOX/messages"))["total"] >= 1
        # n2's certificate is not trusted
        assert imap_login_via(proxy, BOB).startswith("NO [UNAVAILABLE]")
        _, final = smtp_via_proxy(proxy, [BOB], helpers.make_message(helpers.unique("tls")))
        assert final.startswith("451 "), final
        # a name the nodes' certificates do not carry: no way through
        proxy.ctl("config", "set", "proxy.node_tls_name", "other.example.test")
        assert wait_for(lambda: imap_login_via(proxy, ALICE).startswith("NO [UNAVAILABLE]"), 10)
        _, final = smtp_via_proxy(proxy, [ALICE], helpers.make_message(helpers.unique("tls")))
        assert final.startswith("451 "), final
        assert me.get("/api/v1/mail/folders/INBOX/messages").status == 503
        assert "TLS with the node failed" in proxy.log()
    finally:
        proxy.ctl("config", "set", "proxy.node_tls", "off")
