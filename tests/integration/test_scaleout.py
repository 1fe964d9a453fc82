"""Scale-out (issue 16 §4): a real PostgreSQL on a private Unix socket
holds the directory; three mail nodes (127.0.0.11-13) and two proxies
(127.0.0.14-15), each a yubind on its own loopback address, share it.
Accounts live on different nodes; mail through either proxy lands on the
right node by LMTP and is read through the other proxy over IMAP and POP3;
proxy logins are refused from anyone but the proxies; a sending limit
holds across both proxies; both proxies sign with the DKIM keys made on
one; a password change applies everywhere within a second; a node killed
gives its users temporary errors, the others none, and after its restart
nothing acknowledged is missing; PostgreSQL down gives temporary errors
on the proxies while relayed sessions go on."""

import base64
import imaplib
import json
import os
import poplib
import smtplib
import socket
import ssl
import time

import pytest

import helpers
from helpers import DOMAIN, HOSTNAME, PASSWORD
from pg_util import PgServer, available, wait_for

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL 15 is not installed (scripts/deps.sh test)")

NODE1, NODE2, NODE3 = "127.0.0.11", "127.0.0.12", "127.0.0.13"
PROXY, PROXY2, STRANGER, CLIENT = "127.0.0.14", "127.0.0.15", "127.0.0.16", "127.0.0.17"
SECRET = "proxy-secret-" + os.urandom(6).hex()
ALICE, BOB, CAROL, DORA = "alice@" + DOMAIN, "bob@" + DOMAIN, "carol@" + DOMAIN, "dora@" + DOMAIN


class Host(helpers.Server):
    """A Server on its own loopback address; a mail node (node: its name)
    also listens on LMTP at offset + 24, and keeps its entry in the
    directory's node list right when a port collision moves its ports."""

    def __init__(self, base, addr, node=None, **kw):
        self.addr, self.node = addr, node
        self.pg, self.listed_offset = None, None
        super().__init__(base, **kw)

    def _on_host(self, fn, *args):
        old = helpers.HOST
        helpers.HOST = self.addr
        try:
            return fn(*args)
        finally:
            helpers.HOST = old

    @property
    def lmtp_port(self):
        return self.offset + 24

    def _own_ports(self):
        if self.node:
            self.ctl("config", "set", "lmtp.port", self.lmtp_port)
        elif self.config.get("server.role") == "proxy":
            # submission on a proxy queues; its queue hands mail to the MX:
            # here the proxy's own port 25
            self.ctl("config", "set", "smtp.relayhost", "[%s]:%d" % (self.addr, self.port("smtp")))

    def setup(self):
        self._on_host(super().setup)
        self._own_ports()
        return self

    def _move_ports(self):
        super()._move_ports()
        self._own_ports()

    def start(self, wait_port="imap"):
        self._on_host(super().start, wait_port)
        if self.listed_offset not in (None, self.offset):
            self.pg.psql("UPDATE nodes SET imap = '%s', pop3 = '%s', lmtp = '%s' WHERE name = '%s'"
                         % (self.hostport("imap"), self.hostport("pop3"), self.hostport("lmtp"), self.node),
                         "yubin")
            self.listed_offset = self.offset
        return self

    def list_node(self, ctl_host, pg, capacity):
        """Adds this node to the directory's node list (yubinctl node add)."""
        ctl_host.ctl("node", "add", self.node, "imap=" + self.hostport("imap"), "pop3=" + self.hostport("pop3"),
                     "lmtp=" + self.hostport("lmtp"), "capacity=" + capacity)
        self.pg, self.listed_offset = pg, self.offset

    def hostport(self, name):
        return "%s:%d" % (self.addr, self.lmtp_port if name == "lmtp" else self.port(name))


def raw_connect(addr, port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind((source, 0))
    s.connect((addr, port))
    return s


class Lines:
    """A socket read line by line."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("utf-8", "replace")

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def connect_from(addr, port, source, ctx=None):
    s = raw_connect(addr, port, source)
    if ctx is not None:
        s = ctx.wrap_socket(s, server_hostname=HOSTNAME)
    return Lines(s)


class IMAPFrom(imaplib.IMAP4):
    """imaplib from a chosen source address."""

    def __init__(self, host, port, source):
        self._source = source
        super().__init__(host, port, timeout=20)

    def _create_socket(self, timeout):
        return raw_connect(self.host, self.port, self._source)


class POP3From(poplib.POP3):
    def __init__(self, host, port, source):
        self._source = source
        super().__init__(host, port, timeout=20)

    def _create_socket(self, timeout):
        return raw_connect(self.host, self.port, self._source)


def tls(srv):
    """The server's certificate, checked; imaplib and poplib give the
    address as the name, so the name is not."""
    ctx = ssl.create_default_context(cafile=srv.crt)
    ctx.check_hostname = False
    return ctx


def use_directory(srv, url):
    srv.ctl("config", "set", "directory.url", "-", input=url + "\n")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("scaleout")
    pg = PgServer()
    hosts = []
    try:
        pg.setup().start()
        url = pg.createdb("yubin")
        proxies = []
        for name, addr in (("p1", PROXY), ("p2", PROXY2)):
            p = Host(base / name, addr, accounts=[], domains=(), name=name,
                     config={"server.role": "proxy", "proxy.secret": SECRET,
                             "proxy.connect_timeout": 5}).setup()
            use_directory(p, url)
            proxies.append(p)
        proxy = proxies[0]
        proxy.ctl("domain", "add", DOMAIN)
        nodes = []
        for name, addr in (("n1", NODE1), ("n2", NODE2), ("n3", NODE3)):
            n = Host(base / name, addr, node=name, accounts=[], domains=(), name=name,
                     config={"node.name": name, "proxy.trusted": "%s,%s" % (PROXY, PROXY2),
                             "proxy.secret": SECRET}).setup()
            use_directory(n, url)
            nodes.append(n)
        hosts = nodes + proxies
        for srv in hosts:
            srv.start()
        # listed once started: the ports they really listen on
        for n, cap in zip(nodes, ("10G", "20G", "15G")):
            n.list_node(proxy, pg, cap)
        proxy.ctl("account", "add", ALICE, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
        proxy.ctl("account", "add", BOB, "--password-stdin", "--node", "n2", input=PASSWORD + "\n")
        # no --node: the node with the most free space (n2)
        proxy.ctl("account", "add", CAROL, "--password-stdin", input=PASSWORD + "\n")
        proxy.ctl("account", "add", DORA, "--password-stdin", "--node", "n3", input=PASSWORD + "\n")
        n1, n2, n3 = nodes
        yield proxy, n1, n2, n3, proxies[1]
    finally:
        for srv in hosts:
            srv.stop()
        pg.cleanup()
    for srv in hosts:
        rep = srv.sanitizer_report()
        assert rep is None, rep


def lmtp_deliver(node, rcpts, msg, source=PROXY):
    """One LMTP transaction; returns (RCPT replies, replies after DATA)."""
    s = connect_from(node.addr, node.lmtp_port, source)
    assert s.line().startswith("220 ")
    s.sendall(b"LHLO proxy.test\r\n")
    ehlo = []
    while not ehlo or not ehlo[-1].startswith("250 "):
        ehlo.append(s.line())
    s.sendall(b"MAIL FROM:<sender@client.test>\r\n")
    assert s.line().startswith("250")
    rcpt_replies = []
    for r in rcpts:
        s.sendall(b"RCPT TO:<%s>\r\n" % r.encode())
        rcpt_replies.append(s.line())
    s.sendall(b"DATA\r\n")
    assert s.line().startswith("354")
    s.sendall(helpers.dot_stuff(msg))
    accepted = sum(1 for r in rcpt_replies if r.startswith("250"))
    finals = [s.line() for _ in range(accepted)]
    s.sendall(b"QUIT\r\n")
    s.close()
    return rcpt_replies, finals


def test_nodes_and_placement(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    nodes = {n["name"]: n for n in json.loads(proxy.ctl("node", "list", "--json").out)}
    assert nodes["n1"]["accounts"] == 1 and nodes["n2"]["accounts"] == 2 and nodes["n3"]["accounts"] == 1
    assert nodes["n1"]["state"] == "active"
    assert nodes["n2"]["free_mb"] == 20 * 1024 - 2 * 2000
    assert proxy.account_json(CAROL)["node"] == "n2"
    assert "node      n1" in proxy.ctl("account", "show", ALICE).out
    # accounts live there: the node cannot go
    r = proxy.ctl("node", "remove", "n1", check=False)
    assert r.returncode == 1 and "move them first" in r.err
    # a draining node takes no new accounts, even when it has most space
    proxy.ctl("node", "drain", "n2", "--no-move")
    try:
        r = proxy.ctl("account", "add", "dave@" + DOMAIN, "--password-stdin", input=PASSWORD + "\n")
        assert "on node n3" in r.out
        r = proxy.ctl("account", "add", "erin@" + DOMAIN, "--node", "n2", "--password-stdin",
                      input=PASSWORD + "\n", check=False)
        assert r.returncode == 1 and "draining" in r.err
    finally:
        proxy.ctl("node", "activate", "n2")
    r = proxy.ctl("node", "add", "bad", "imap=nowhere", check=False)
    assert r.returncode == 1 and "HOST:PORT" in r.err


def test_lmtp_delivers_on_the_node(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    tok = helpers.unique("lmtp")
    rcpt, finals = lmtp_deliver(n1, [ALICE, "nobody@" + DOMAIN, ALICE], helpers.make_message(tok))
    assert rcpt[0].startswith("250") and rcpt[1].startswith("550") and rcpt[2].startswith("250")
    # one reply per accepted recipient, after DATA
    assert len(finals) == 2 and all(f.startswith("250 ") for f in finals), finals
    assert len(n1.find_token(ALICE, tok)) == 1
    assert not n2.find_token(ALICE, tok)
    tok2 = helpers.unique("lmtp")
    _, finals = lmtp_deliver(n2, [BOB, CAROL], helpers.make_message(tok2))
    assert len(finals) == 2 and all(f.startswith("250 ") for f in finals), finals
    assert n2.find_token(BOB, tok2) and n2.find_token(CAROL, tok2)
    data = list(n2.find_token(BOB, tok2).values())[0]
    assert b"with LMTP" in data


def test_lmtp_refused_from_untrusted(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    s = connect_from(n1.addr, n1.lmtp_port, STRANGER)
    assert s.line().startswith("554 5.7.1")
    s.close()


def test_imap_through_proxy(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    tok = helpers.unique("imap")
    lmtp_deliver(n1, [ALICE], helpers.make_message(tok))
    m = IMAPFrom(PROXY, proxy.port("imap"), CLIENT)
    m.starttls(tls(proxy))
    m.login(ALICE, PASSWORD)
    typ, data = m.select("INBOX")
    assert typ == "OK"
    typ, data = m.search(None, "BODY", tok)
    assert typ == "OK" and len(data[0].split()) == 1
    num = data[0].split()[0]
    typ, data = m.fetch(num, "(BODY.PEEK[])")
    assert tok.encode() in data[0][1]
    # a big response through the relay, back-pressure included
    m.append("INBOX", None, None, helpers.make_message(tok + "-big", body_lines=6000))
    typ, data = m.search(None, "BODY", tok + "-big")
    typ, data = m.fetch(data[0].split()[0], "(BODY.PEEK[])")
    assert tok.encode() + b"-big" in data[0][1] and len(data[0][1]) > 400000
    m.logout()
    # the node saw the real client, not the proxy
    log = n1.log()
    assert "client %s via proxy %s" % (CLIENT, PROXY) in log
    # bob's mailbox is on the other node
    m = IMAPFrom(PROXY, proxy.port("imap"), CLIENT)
    m.starttls(tls(proxy))
    m.login(BOB, PASSWORD)
    m.select("INBOX")
    typ, data = m.search(None, "BODY", tok)
    assert data[0] == b""
    m.logout()


def test_imap_idle_through_proxy(cluster):
    """IDLE on 993 of the proxy sees a delivery on the node."""
    proxy, n1, n2, n3, proxy2 = cluster
    s = connect_from(PROXY, proxy.port("imaps"), CLIENT, tls(proxy))
    assert s.line().startswith("* OK")
    s.sendall(b"a LOGIN %s %s\r\n" % (ALICE.encode(), PASSWORD.encode()))
    assert s.line().startswith("a OK [CAPABILITY ")
    s.sendall(b"b SELECT INBOX\r\n")
    while not (ln := s.line()).startswith("b "):
        pass
    assert ln.startswith("b OK")
    s.sendall(b"c IDLE\r\n")
    assert s.line().startswith("+ ")
    lmtp_deliver(n1, [ALICE], helpers.make_message(helpers.unique("idle")))
    while not s.line().endswith(" EXISTS"):
        pass  # (a RECENT may come first; the socket's timeout bounds the wait)
    s.sendall(b"DONE\r\n")
    while not (ln := s.line()).startswith("c "):
        pass
    assert ln.startswith("c OK")
    s.sendall(b"d LOGOUT\r\n")
    assert s.line().startswith("* BYE")
    assert s.line().startswith("d OK")
    s.close()


def test_imap_wrong_password_decided_in_proxy(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    m = IMAPFrom(PROXY, proxy.port("imap"), CLIENT)
    m.starttls(tls(proxy))
    with pytest.raises(imaplib.IMAP4.error) as e:
        m.login(ALICE, "wrong-password")
    assert "AUTHENTICATIONFAILED" in str(e.value)
    m.logout()


def test_pop3_through_proxy(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    tok = helpers.unique("pop")
    lmtp_deliver(n2, [CAROL], helpers.make_message(tok))
    p = POP3From(PROXY, proxy.port("pop3"), CLIENT)
    p.stls(tls(proxy))
    p.user(CAROL)
    assert p.pass_(PASSWORD).startswith(b"+OK")
    count, _ = p.stat()
    found = [i for i in range(1, count + 1) if tok.encode() in b"\r\n".join(p.retr(i)[1])]
    assert len(found) == 1
    p.quit()


def smtp_via_proxy(proxy, rcpts, msg):
    """Port 25 of the proxy from CLIENT: (RCPT replies, the final reply)."""
    s = connect_from(proxy.addr, proxy.port("smtp"), CLIENT)
    assert s.line().startswith("220 ")
    s.sendall(b"EHLO client.test\r\n")
    while not s.line().startswith("250 "):
        pass
    s.sendall(b"MAIL FROM:<sender@client.test>\r\n")
    assert s.line().startswith("250")
    replies = []
    for r in rcpts:
        s.sendall(b"RCPT TO:<%s>\r\n" % r.encode())
        replies.append(s.line())
    s.sendall(b"DATA\r\n")
    assert s.line().startswith("354")
    s.sendall(helpers.dot_stuff(msg))
    final = s.line()
    s.sendall(b"QUIT\r\n")
    s.close()
    return replies, final


def test_smtp_through_proxy_by_lmtp(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    tok = helpers.unique("mx")
    body = helpers.make_message(tok, extra_body=b".a line that starts with a dot\r\n")
    rcpt, final = smtp_via_proxy(proxy, [ALICE, "nobody@" + DOMAIN, BOB], body)
    assert rcpt[0].startswith("250") and rcpt[1].startswith("550 5.1.1") and rcpt[2].startswith("250")
    assert final.startswith("250 "), final
    got = n1.find_token(ALICE, tok)
    assert len(got) == 1 and not n2.find_token(ALICE, tok)
    assert len(n2.find_token(BOB, tok)) == 1
    data = list(got.values())[0]
    # the proxy's trace, then the node's with the real client (XCLIENT)
    assert b"(Yubin proxy) with ESMTP" in data
    assert b"[%s])" % CLIENT.encode() in data and b"with LMTP" in data
    assert b"\r\n.a line that starts with a dot\r\n" in data
    # a big message (spooled to a file on the proxy)
    tok2 = helpers.unique("mx")
    _, final = smtp_via_proxy(proxy, [BOB], helpers.make_message(tok2, size=3 * 1024 * 1024))
    assert final.startswith("250 "), final
    data = list(n2.find_token(BOB, tok2).values())[0]
    assert len(data) > 3 * 1024 * 1024


def test_submission_through_proxy_queue(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    tok = helpers.unique("sub")
    c = smtplib.SMTP(PROXY, proxy.port("submission"), timeout=20, source_address=(CLIENT, 0))
    c.starttls(context=tls(proxy))
    c.login(ALICE, PASSWORD)
    c.sendmail(ALICE, [BOB], helpers.make_message(tok, sender=ALICE, rcpt=BOB))
    # a forged sender is refused on the proxy, as anywhere
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail(ALICE, [BOB], helpers.make_message(tok + "-forged", sender=CAROL, rcpt=BOB))
    assert e.value.smtp_code == 553
    c.quit()
    deadline = time.time() + 30
    while not n2.find_token(BOB, tok) and time.time() < deadline:
        time.sleep(0.1)
    got = n2.find_token(BOB, tok)
    assert len(got) == 1
    assert b"(Yubin proxy)" in list(got.values())[0]
    assert not n2.find_token(BOB, tok + "-forged")


def proxy_plain(user, authcid, secret):
    return base64.b64encode(("%s\0%s\0%s" % (user, authcid, secret)).encode()).decode()


def test_proxy_auth_refused_from_untrusted(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    # from an address not in proxy.trusted, even with the right secret
    s = connect_from(n1.addr, n1.port("imaps"), STRANGER, tls(n1))
    assert s.line().startswith("* OK")
    s.sendall(b'a ID ("x-originating-ip" "192.0.2.9")\r\n')
    assert (s.line(), s.line())[1].startswith("a OK")
    s.sendall(b"b AUTHENTICATE PLAIN %s\r\n" % proxy_plain(ALICE, "yubin-proxy", SECRET).encode())
    reply = s.line()
    assert reply.startswith("b NO [AUTHENTICATIONFAILED]"), reply
    s.close()
    s = connect_from(n1.addr, n1.port("pop3"), STRANGER)
    assert s.line().startswith("+OK")
    s.sendall(b"XCLIENT ADDR=192.0.2.9\r\n")
    assert s.line().startswith("-ERR")
    s.close()
    assert "via proxy %s" % STRANGER not in n1.log()
    # from the proxy's address with a wrong secret
    s = connect_from(n1.addr, n1.port("imap"), PROXY)
    assert s.line().startswith("* OK")
    s.sendall(b"c AUTHENTICATE PLAIN %s\r\n" % proxy_plain(ALICE, "yubin-proxy", "guess").encode())
    assert s.line().startswith("c NO [AUTHENTICATIONFAILED]")
    # ... and with the right one: logged in as alice
    s.sendall(b"d AUTHENTICATE PLAIN %s\r\n" % proxy_plain(ALICE, "yubin-proxy", SECRET).encode())
    assert s.line().startswith("d OK")
    s.close()
    # a node never opens a mailbox that lives on another node
    s = connect_from(n2.addr, n2.port("imap"), PROXY)
    assert s.line().startswith("* OK")
    s.sendall(b"e AUTHENTICATE PLAIN %s\r\n" % proxy_plain(ALICE, "yubin-proxy", SECRET).encode())
    assert s.line().startswith("e NO [UNAVAILABLE]")
    s.close()


def test_direct_login_on_another_node_refused(cluster):
    """A client logging in straight on a node (no proxy) for an account
    that lives on another node gets a temporary error, never an empty
    mailbox; on the account's own node it logs in; a wrong password is
    still a wrong password; SMTP submission (it only queues) may."""
    proxy, n1, n2, n3, proxy2 = cluster
    reply = imap_login_via(n2, ALICE)
    assert reply.startswith("NO [UNAVAILABLE]") and "another server" in reply, reply
    assert imap_login_via(n2, ALICE, "Wrong-pass-1").startswith("NO [AUTHENTICATIONFAILED]")
    assert imap_login_via(n1, ALICE).startswith("OK")
    p = POP3From(n3.addr, n3.port("pop3"), CLIENT)
    try:
        p.stls(context=tls(n3))
        p.user(ALICE)
        with pytest.raises(poplib.error_proto) as e:
            p.pass_(PASSWORD)
        assert b"[SYS/TEMP]" in e.value.args[0], e.value.args
    finally:
        p.close()
    assert smtp_auth_ok(n2, ALICE, PASSWORD)
    assert "lives on node 'n1'" in n2.log()
    assert not os.path.exists(n2.maildir(ALICE))


def imap_login_via(srv, user, password=PASSWORD):
    """LOGIN on srv's IMAPS port from CLIENT: the tagged reply's text."""
    s = connect_from(srv.addr, srv.port("imaps"), CLIENT, tls(srv))
    try:
        assert s.line().startswith("* OK")
        s.sendall(b'a LOGIN "%s" "%s"\r\n' % (user.encode(), password.encode()))
        while not (ln := s.line()).startswith("a "):
            pass
        return ln[2:]
    finally:
        s.close()


def submission_via(srv, user, password=PASSWORD):
    c = smtplib.SMTP(srv.addr, srv.port("submission"), timeout=20, source_address=(CLIENT, 0))
    c.starttls(context=tls(srv))
    c.login(user, password)
    return c


def smtp_auth_ok(srv, user, password):
    try:
        submission_via(srv, user, password).quit()
        return True
    except smtplib.SMTPAuthenticationError:
        return False


def imap_count_via(proxy, user, tok):
    """Messages of user's INBOX with tok, through proxy's IMAP."""
    m = IMAPFrom(proxy.addr, proxy.port("imap"), CLIENT)
    try:
        m.starttls(tls(proxy))
        m.login(user, PASSWORD)
        assert m.select("INBOX")[0] == "OK"
        typ, data = m.search(None, "BODY", tok)
        assert typ == "OK"
        return len(data[0].split())
    finally:
        m.logout()


def pop3_count_via(proxy, user, tok):
    """Messages of user's maildrop with tok, through proxy's POP3."""
    p = POP3From(proxy.addr, proxy.port("pop3"), CLIENT)
    try:
        p.stls(tls(proxy))
        p.user(user)
        assert p.pass_(PASSWORD).startswith(b"+OK")
        count, _ = p.stat()
        return sum(1 for i in range(1, count + 1) if tok.encode() in b"\r\n".join(p.retr(i)[1]))
    finally:
        p.quit()


def test_mail_through_either_proxy_read_through_the_other(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    home = {ALICE: n1, BOB: n2, DORA: n3}
    toks = {}
    for p in (proxy, proxy2):
        toks[p.addr] = helpers.unique("either")
        rcpt, final = smtp_via_proxy(p, list(home), helpers.make_message(toks[p.addr]))
        assert all(r.startswith("250") for r in rcpt) and final.startswith("250 "), (rcpt, final)
    # each copy on its recipient's node only, once
    for user, node in home.items():
        for n in (n1, n2, n3):
            for tok in toks.values():
                assert len(n.find_token(user, tok)) == (1 if n is node else 0), (user, n.addr)
    # read through the other proxy
    for user in home:
        assert imap_count_via(proxy2, user, toks[PROXY]) == 1, user
        assert pop3_count_via(proxy, user, toks[PROXY2]) == 1, user


def test_sending_limit_counted_across_both_proxies(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    proxy.ctl("account", "set", BOB, "send-limit-hour", "3")
    try:
        c1, c2 = submission_via(proxy, BOB), submission_via(proxy2, BOB)
        assert c1.mail(BOB)[0] == 250 and c2.mail(BOB)[0] == 250
        assert c1.rcpt(ALICE)[0] == 250 and c1.rcpt(CAROL)[0] == 250
        assert c2.rcpt(DORA)[0] == 250
        # the fourth recipient of the hour, on either proxy
        code, text = c2.rcpt("someone@elsewhere.test")
        assert code == 451 and b"may send to 3 recipients per hour" in text, text
        assert c1.rcpt("someone@elsewhere.test")[0] == 451
        c1.quit()
        c2.quit()
    finally:
        proxy.ctl("account", "unset", BOB, "send-limit-hour")


def selectors_signed(data):
    """The s= of each DKIM-Signature of d=DOMAIN in a stored message."""
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n\t", b" ").replace(b"\r\n ", b" ")
    out = set()
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"dkim-signature:") and b"d=%s;" % DOMAIN.encode() in line.replace(b" ", b""):
            tags = dict(t.strip().split(b"=", 1) for t in line.split(b":", 1)[1].split(b";") if b"=" in t)
            out.add(tags[b"s"].decode())
    return out


def test_dkim_keys_shared_by_both_proxies(cluster):
    """The domain's keys were made on p1; p2 signs with them too (from the
    directory), and a rotation on p1 is what yubinctl on p2 shows."""
    proxy, n1, n2, n3, proxy2 = cluster
    active = {k["selector"] for k in json.loads(proxy.ctl("dkim", "show", DOMAIN, "--json").out)["keys"]
              if k["state"] == "active"}
    assert len(active) == 2
    for p in (proxy, proxy2):
        tok = helpers.unique("dkim")
        c = submission_via(p, ALICE)
        c.sendmail(ALICE, [BOB], helpers.make_message(tok, sender=ALICE, rcpt=BOB))
        c.quit()
        assert wait_for(lambda: n2.find_token(BOB, tok), 30), p.addr
        assert selectors_signed(list(n2.find_token(BOB, tok).values())[0]) == active, p.addr
    proxy.ctl("dkim", "rotate", DOMAIN)
    mine = json.loads(proxy.ctl("dkim", "show", DOMAIN, "--json").out)["keys"]
    theirs = json.loads(proxy2.ctl("dkim", "show", DOMAIN, "--json").out)["keys"]
    assert len(mine) == 4 and [(k["selector"], k["state"]) for k in theirs] == \
        [(k["selector"], k["state"]) for k in mine]


def test_password_change_seen_everywhere_within_a_second(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    new = "Changed-pass-" + os.urandom(3).hex()
    # every proxy (IMAP) and every node (submission) has read the account
    for p in (proxy, proxy2):
        assert imap_login_via(p, CAROL).startswith("OK"), p.addr
    for n in (n1, n2, n3):
        assert smtp_auth_ok(n, CAROL, PASSWORD), n.addr
    proxy2.ctl("account", "passwd", CAROL, "--password-stdin", input=new + "\n")
    try:
        for p in (proxy, proxy2):
            assert wait_for(lambda: imap_login_via(p, CAROL, new).startswith("OK"), 1.0), p.addr
        for n in (n1, n2, n3):
            assert wait_for(lambda: smtp_auth_ok(n, CAROL, new), 1.0), n.addr
        assert imap_login_via(proxy, CAROL).startswith("NO [AUTHENTICATIONFAILED]")
    finally:
        proxy.ctl("account", "passwd", CAROL, "--password-stdin", input=PASSWORD + "\n")


def test_foreign_access_switch_seen_everywhere_within_a_second(cluster):
    """The foreign-access restriction is decided on the proxies: an SMTP
    AUTH from a foreign address (an override in the shared directory makes
    127.0.0.18 the US) is refused through both; the domain's switch turned
    off on one applies on both within a second, and on again likewise."""
    proxy, n1, n2, n3, proxy2 = cluster
    abroad = "127.0.0.18"

    def login_from(srv):
        """SMTP AUTH on srv's submission port from abroad: the reply."""
        c = smtplib.SMTP(srv.addr, srv.port("submission"), timeout=20, source_address=(abroad, 0))
        try:
            c.starttls(context=tls(srv))
            c.ehlo()
            code, text = c.docmd("AUTH", "PLAIN " + base64.b64encode(
                ("\0%s\0%s" % (ALICE, PASSWORD)).encode()).decode())
            return "%d %s" % (code, text.decode())
        finally:
            c.close()

    proxy.ctl("geoip", "override", "add", abroad + "/32", "US")
    try:
        for p in (proxy, proxy2):
            assert wait_for(lambda: "foreign-access" in login_from(p), 1.0), login_from(p)
        proxy2.ctl("domain", "set", DOMAIN, "foreign-auth", "off")
        try:
            for p in (proxy, proxy2):
                assert wait_for(lambda: login_from(p).startswith("235"), 1.0), (p.addr, login_from(p))
        finally:
            proxy.ctl("domain", "set", DOMAIN, "foreign-auth", "on")
        for p in (proxy, proxy2):
            assert wait_for(lambda: "foreign-access" in login_from(p), 1.0), (p.addr, login_from(p))
    finally:
        proxy.ctl("geoip", "override", "del", abroad + "/32")


def test_node_killed_temporary_errors_nothing_acknowledged_lost(cluster):
    """n3 killed (SIGKILL) right after acknowledging mail: its user gets
    temporary errors through both proxies, the others none; mail for it
    waits (451, or in a proxy's queue); after the restart everything
    acknowledged is there, once."""
    proxy, n1, n2, n3, proxy2 = cluster
    before, appended, queued, other = (helpers.unique("kill") for _ in range(4))
    _, final = smtp_via_proxy(proxy, [DORA], helpers.make_message(before))
    assert final.startswith("250 "), final
    m = IMAPFrom(proxy2.addr, proxy2.port("imap"), CLIENT)
    m.starttls(tls(proxy2))
    m.login(DORA, PASSWORD)
    assert m.append("INBOX", None, None, helpers.make_message(appended))[0] == "OK"
    n3.kill9()
    try:
        # the open session ends; new ones get temporary errors
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            m.noop()
            m.noop()
        for p in (proxy, proxy2):
            assert imap_login_via(p, DORA).startswith("NO [UNAVAILABLE]"), p.addr
            pp = POP3From(p.addr, p.port("pop3"), CLIENT)
            pp.stls(tls(p))
            pp.user(DORA)
            with pytest.raises(poplib.error_proto) as e:
                pp.pass_(PASSWORD)
            assert b"-ERR [SYS/TEMP]" in e.value.args[0]
            pp.quit()
            # the others are unaffected
            assert imap_login_via(p, ALICE).startswith("OK")
            _, final = smtp_via_proxy(p, [BOB], helpers.make_message(other))
            assert final.startswith("250 "), final
        assert len(n2.find_token(BOB, other)) == 2
        # port 25: the message waits at the sender (451); with a recipient
        # whose node is up, the rest waits in the proxy's queue (no retry
        # by the sender, so nobody gets it twice)
        _, final = smtp_via_proxy(proxy2, [DORA], helpers.make_message(other))
        assert final.startswith("451 4.4.0"), final
        _, final = smtp_via_proxy(proxy2, [ALICE, DORA], helpers.make_message(other))
        assert final.startswith("250 ") and "1 recipient queued" in final, final
        # submission: accepted into the proxy's queue, delivered later
        c = submission_via(proxy2, ALICE)
        c.sendmail(ALICE, [DORA], helpers.make_message(queued, sender=ALICE, rcpt=DORA))
        c.quit()
    finally:
        n3.start()
    proxy2.ctl("queue", "retry")
    assert wait_for(lambda: n3.find_token(DORA, queued), 30), proxy2.ctl("queue", "list").out
    assert wait_for(lambda: n3.find_token(DORA, other), 30), proxy2.ctl("queue", "list").out
    for tok in (before, appended, queued, other):
        assert len(n3.find_token(DORA, tok)) == 1, tok
    assert len(n1.find_token(ALICE, other)) == 1
    assert imap_count_via(proxy, DORA, before) == 1


def test_postgresql_down_proxies_give_temporary_errors(cluster):
    """PostgreSQL stopped: new logins and recipients through the proxies
    get temporary errors, a session already relayed to its node keeps
    working; PostgreSQL back: both proxies recover."""
    proxy, n1, n2, n3, proxy2 = cluster
    pg = n1.pg
    tok = helpers.unique("pgdown")
    _, final = smtp_via_proxy(proxy2, [ALICE], helpers.make_message(tok))
    assert final.startswith("250 "), final
    m = IMAPFrom(proxy.addr, proxy.port("imap"), CLIENT)
    m.starttls(tls(proxy))
    m.login(ALICE, PASSWORD)
    assert m.select("INBOX")[0] == "OK"
    pg.stop()
    try:
        for p in (proxy, proxy2):
            assert wait_for(lambda: imap_login_via(p, BOB).startswith("NO [UNAVAILABLE]"), 5), \
                imap_login_via(p, BOB)
            s = connect_from(p.addr, p.port("smtp"), CLIENT)
            assert s.line().startswith("220 ")
            s.sendall(b"EHLO client.test\r\nMAIL FROM:<sender@client.test>\r\nRCPT TO:<%s>\r\n" % BOB.encode())
            while (ln := s.line()).startswith("250"):
                pass
            assert ln.startswith("4"), ln
            s.close()
        # the relayed session reads its mail on the node
        typ, data = m.search(None, "BODY", tok)
        assert typ == "OK" and len(data[0].split()) == 1
        assert m.noop()[0] == "OK"
    finally:
        pg.start()
    m.logout()
    for p in (proxy, proxy2):
        assert wait_for(lambda: imap_login_via(p, BOB).startswith("OK"), 10), imap_login_via(p, BOB)
