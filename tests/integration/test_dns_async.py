"""DNS of the inbound checks (SPF, DKIM, DMARC) on the event loops: the
lookups start as soon as their input is known, a dead resolver never
stalls a session (the message is accepted with temperror results, as
policy says), and the shared cache honours TTLs.

The resolvers here are all on loopback: a "dead" one (a UDP socket that
reads queries and never answers), a recording forwarder in front of a
local dnsmasq, and a dnsmasq serving records with a TTL (--local-ttl).
"""
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, HOST, PASSWORD, TIMEOUT

pytestmark = pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq missing (scripts/deps.sh test)")

GOOD = "127.0.0.7"      # listed in the test domains' SPF records
LOCAL = "user@" + DOMAIN
TXT = 16
RECORDS = {
    "spf-pass.test": "v=spf1 ip4:%s -all" % GOOD,
    "quar.test": "v=spf1 ip4:%s -all" % GOOD,
    "_dmarc.quar.test": "v=DMARC1; p=quarantine",
    "reject.test": "v=spf1 ip4:%s -all" % GOOD,
    "_dmarc.reject.test": "v=DMARC1; p=reject",
}
TTL = 6


def qname_of(packet):
    """(name, type) of a DNS query packet's question."""
    labels, pos = [], 12
    while pos < len(packet) and packet[pos] != 0:
        n = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    qtype = int.from_bytes(packet[pos + 1:pos + 3], "big") if pos + 3 <= len(packet) else 0
    return ".".join(labels).lower(), qtype


class Resolver:
    """A UDP DNS server on 127.0.0.1 that records every question. With an
    upstream it forwards (and relays the answer), each answer delay
    seconds late; without one it is dead: it reads the queries and never
    answers. Setting upstream later brings a dead one back."""

    def __init__(self, upstream=None, delay=0, drop=()):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.upstream = upstream
        self.delay = delay
        self.drop = set(drop)     # names never answered
        self.seen = []
        self.cond = threading.Condition()
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cond:
                self.seen.append(qname_of(data))
                self.cond.notify_all()
            upstream = self.upstream
            if upstream is None or qname_of(data)[0] in self.drop:
                continue
            if self.delay:
                threading.Thread(target=self._forward, args=(data, peer, upstream), daemon=True).start()
            else:
                self._forward(data, peer, upstream)

    def _forward(self, data, peer, upstream):
        time.sleep(self.delay)
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(2)
        try:
            up.sendto(data, ("127.0.0.1", upstream))
            answer, _ = up.recvfrom(65535)
            self.sock.sendto(answer, peer)
        except OSError:
            pass
        finally:
            up.close()

    def wait_for(self, name, qtype=TXT, timeout=10):
        """Waits until the question (name, qtype) has come in."""
        with self.cond:
            ok = self.cond.wait_for(lambda: (name, qtype) in self.seen, timeout)
        assert ok, "no query for %s type %d; seen %r" % (name, qtype, self.seen)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


class TTLDnsmasq:
    """dnsmasq with TXT records served with a TTL, restartable on its port
    with other records (the record "changes" at the authoritative server)."""

    def __init__(self, base, ttl):
        self.base = str(base)
        self.ttl = ttl
        self.port = ou.free_port("127.0.0.1")
        self.proc = None

    def start(self, txt):
        args = [ou.DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--pid-file=", "--bind-interfaces",
                "--listen-address=127.0.0.1", "--port=%d" % self.port,
                "--local-ttl=%d" % self.ttl, "--local=/test/"]
        for name, text in txt.items():
            args.append("--txt-record=%s,%s" % (name, text))
        if os.geteuid() == 0:
            args.append("--user=root")
        log = open(os.path.join(self.base, "dnsmasq.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            assert self.proc.poll() is None, "dnsmasq exited: see %s/dnsmasq.log" % self.base
            if self.txt_of(next(iter(txt))) is not None:
                return
            time.sleep(0.1)
        raise AssertionError("dnsmasq did not answer")

    def txt_of(self, name):
        """The first TXT string of name as the server answers now, or None."""
        q = b"\x43\x21\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\x00\x00\x10\x00\x01"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
        finally:
            s.close()
        if int.from_bytes(data[6:8], "big") == 0:
            return None
        # one record of one string: its RDATA ends the packet
        m = re.search(rb"v=spf1[ -~]*$", data)
        return m.group(0).decode() if m else None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class BoundSMTP(helpers.SMTPConn):
    """A raw SMTP client whose connection comes from a chosen source address."""

    def __init__(self, port, source):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT, source_address=(source, 0))
        self.buf = b""
        self.tls = False
        self.greeting = self.read_reply()
        self.caps = {}


def authres(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    fields = re.findall(r"^Authentication-Results:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*", head, re.M | re.I)
    return [re.sub(r"\r\n[ \t]+", " ", f) for f in fields]


def deliver(srv, mail_from, from_addr):
    """Sends one message from GOOD; returns its Authentication-Results."""
    tok = helpers.unique("da")
    c = BoundSMTP(srv.port("smtp"), GOOD)
    try:
        assert c.ehlo("client.example.net").code == 250
        replies = c.send_mail(mail_from, [LOCAL], helpers.make_message(tok, sender=from_addr, rcpt=LOCAL))
    finally:
        c.quit()
    assert [r.code for r in replies] == [250, 250, 250], replies
    got = srv.find_token(LOCAL, tok)
    assert len(got) == 1, srv.log_tail()
    (_, data), = got.items()
    ar = authres(data)
    assert len(ar) == 1, ar
    return ar[0]


# ---- a dead resolver


@pytest.fixture(scope="module")
def dead():
    r = Resolver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def dead_srv(dead, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("deaddns"),
                                config={"dns.resolver": dead.address, "dns.message_budget": "1500"},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        s.ctl("domain", "set", DOMAIN, "inbound-dmarc", "on")
        yield s


def test_dead_resolver_message_accepted_with_temperror(dead_srv, dead):
    """Nothing answers: the resolver is taken as not answering, the
    message is accepted and delivered (to the inbox: DMARC temperror is
    no reason to reject or quarantine, even with inbound-dmarc on and
    p=reject published), with spf=temperror and dmarc=temperror recorded."""
    ar = deliver(dead_srv, "x@reject.test", "x@reject.test")
    assert re.search(r"\bspf=temperror\b", ar), ar
    assert re.search(r"\bdmarc=temperror\b", ar), ar
    dead.wait_for("reject.test")            # the lookups did go to the resolver
    dead.wait_for("_dmarc.reject.test")
    assert "answers nothing: lookups fail at once" in dead_srv.log(), dead_srv.log_tail()
    junk = os.path.join(dead_srv.maildir(LOCAL), ".Junk", "new")
    assert not os.path.isdir(junk) or os.listdir(junk) == []


def test_dead_resolver_many_sessions_all_answered(dead_srv):
    """Several sessions at once against the dead resolver: every one gets
    its 250 (the lookups hold no worker, so none waits for another)."""
    results = []

    def one():
        try:
            results.append(deliver(dead_srv, "y@spf-pass.test", "y@spf-pass.test"))
        except Exception as e:   # reported below
            results.append(e)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    assert len(results) == 8, results
    for ar in results:
        assert isinstance(ar, str) and "spf=temperror" in ar, ar


# ---- a resolver that answers, but not for one name


@pytest.fixture(scope="module")
def dropping(zone):
    r = Resolver(upstream=zone.port, drop={"_dmarc.reject.test"})
    yield r
    r.stop()


@pytest.fixture(scope="module")
def drop_srv(dropping, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("dropdns"),
                                config={"dns.resolver": dropping.address, "dns.message_budget": "1500"},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        s.ctl("domain", "set", DOMAIN, "inbound-dmarc", "on")
        yield s


def test_unanswered_name_ends_with_the_budget(drop_srv, dropping):
    """The resolver answers, except for the DMARC policy of reject.test:
    the server is not taken for dead; that lookup waits until the budget
    runs out, and the message is accepted with dmarc=temperror (policy:
    temperror is no reason to reject), the SPF answer being used."""
    ar = deliver(drop_srv, "x@spf-pass.test", "x@reject.test")
    assert re.search(r"\bspf=pass\b", ar), ar
    assert re.search(r"\bdmarc=temperror\b", ar), ar
    dropping.wait_for("_dmarc.reject.test")
    log = drop_srv.log()
    assert "DNS budget of 1500 ms used up" in log, drop_srv.log_tail()
    assert "answers nothing" not in log, drop_srv.log_tail()
    junk = os.path.join(drop_srv.maildir(LOCAL), ".Junk", "new")
    assert not os.path.isdir(junk) or os.listdir(junk) == []


# ---- a resolver that stops answering, and comes back

SILENT_LOG = "answers nothing: lookups fail at once"


@pytest.fixture(scope="module")
def flaky(zone):
    r = Resolver()          # dead until upstream is set
    yield r
    r.stop()


@pytest.fixture(scope="module")
def flaky_srv(flaky, tmp_path_factory):
    # a budget below c-ares's full timeout (3 s): without the server's
    # health the first message would wait until the budget ran out
    with helpers.running_server(tmp_path_factory.mktemp("flakydns"),
                                config={"dns.resolver": flaky.address, "dns.message_budget": "2500"},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        yield s


def test_silent_resolver_fails_fast_then_is_used_again(flaky_srv, flaky, zone):
    """A resolver that answers nothing is noticed (several queries silent
    past the first try's timeout): the message's lookups end in temperror
    without waiting for the budget, and so do lookups of names not asked
    before. Once the resolver answers again (a probe query still goes out
    for a wanted name), its answers are used: the real records pass."""
    ar = deliver(flaky_srv, "x@reject.test", "x@reject.test")
    assert re.search(r"\bspf=temperror\b", ar) and re.search(r"\bdmarc=temperror\b", ar), ar
    log = flaky_srv.log()
    assert SILENT_LOG in log, flaky_srv.log_tail()
    assert "DNS budget of 2500 ms used up" not in log, flaky_srv.log_tail()
    # a domain asked for the first time: no wait for the dead server
    ar = deliver(flaky_srv, "y@quar.test", "y@quar.test")
    assert re.search(r"\bspf=temperror\b", ar), ar
    assert "DNS budget of 2500 ms used up" not in flaky_srv.log(), flaky_srv.log_tail()
    # the server comes back: a probe's answer makes it usable again
    flaky.upstream = zone.port
    deadline = time.monotonic() + 30
    while True:
        ar = deliver(flaky_srv, "z@spf-pass.test", "z@spf-pass.test")
        if re.search(r"\bspf=pass\b", ar):
            break
        assert re.search(r"\bspf=temperror\b", ar), ar
        assert time.monotonic() < deadline, "the resolver that came back was not used again"
        time.sleep(0.2)
    assert "answers again" in flaky_srv.log(), flaky_srv.log_tail()


@pytest.fixture(scope="module")
def slow(zone):
    r = Resolver(upstream=zone.port, delay=0.7)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def slow_srv(slow, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("slowdns"),
                                config={"dns.resolver": slow.address},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        yield s


def test_slow_resolver_is_not_taken_for_dead(slow_srv):
    """Every answer comes 0.7 s late (within the first try's timeout),
    for several sessions at once: the checks use the real records, and
    the server is never taken as not answering."""
    results = []

    def one(i):
        try:
            results.append(deliver(slow_srv, "s%d@quar.test" % i, "s%d@quar.test" % i))
        except Exception as e:   # reported below
            results.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    assert len(results) == 4, results
    for ar in results:
        assert isinstance(ar, str) and re.search(r"\bspf=pass\b", ar), ar
        assert re.search(r"\bdmarc=pass \(p=quarantine\b", ar), ar     # the real policy was read
    assert SILENT_LOG not in slow_srv.log(), slow_srv.log_tail()


# ---- lookups while the message comes in


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    d = ou.Dnsmasq(tmp_path_factory.mktemp("dns"), txt=RECORDS).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def recorder(zone):
    r = Resolver(upstream=zone.port)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def rec_srv(recorder, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("recdns"),
                                config={"dns.resolver": recorder.address},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        yield s


def test_lookups_start_before_the_end_of_data(rec_srv, recorder):
    """SPF's lookup goes out at MAIL FROM, DMARC's once the header is in:
    both before the client has finished the message."""
    tok = helpers.unique("early")
    c = BoundSMTP(rec_srv.port("smtp"), GOOD)
    try:
        assert c.ehlo("client.example.net").code == 250
        assert c.cmd("MAIL FROM:<x@spf-pass.test>").code == 250
        recorder.wait_for("spf-pass.test")
        assert c.cmd("RCPT TO:<%s>" % LOCAL).code == 250
        assert c.cmd("DATA").code == 354
        c.send(("From: <x@quar.test>\r\nTo: <%s>\r\nSubject: early\r\nX-Test-Token: %s\r\n\r\n"
                "first body line\r\n" % (LOCAL, tok)).encode())
        recorder.wait_for("_dmarc.quar.test")
        c.send(b"last body line\r\n.\r\n")
        assert c.read_reply().code == 250
    finally:
        c.quit()
    got = rec_srv.find_token(LOCAL, tok)
    assert len(got) == 1, rec_srv.log_tail()
    (_, data), = got.items()
    ar = authres(data)[0]
    # the results are those of the real records
    assert re.search(r"\bspf=pass\b", ar) and "smtp.mailfrom=x@spf-pass.test" in ar, ar
    assert re.search(r"\bdmarc=fail\b", ar) and "header.from=quar.test" in ar, ar


# ---- the cache and TTLs


@pytest.fixture(scope="module")
def ttl_dns(tmp_path_factory):
    d = TTLDnsmasq(tmp_path_factory.mktemp("ttldns"), TTL)
    d.start({"ttl.test": "v=spf1 ip4:%s -all" % GOOD})
    yield d
    d.stop()


@pytest.fixture(scope="module")
def ttl_srv(ttl_dns, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("ttlsrv"),
                                config={"dns.resolver": "127.0.0.1:%d" % ttl_dns.port},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        yield s


def test_changed_record_seen_after_its_ttl_not_before(ttl_srv, ttl_dns):
    t0 = time.monotonic()
    ar = deliver(ttl_srv, "a@ttl.test", "a@ttl.test")
    assert re.search(r"\bspf=pass\b", ar), ar
    # the record changes: nothing passes any more
    ttl_dns.stop()
    ttl_dns.start({"ttl.test": "v=spf1 -all"})
    assert ttl_dns.txt_of("ttl.test") == "v=spf1 -all"
    ar = deliver(ttl_srv, "b@ttl.test", "b@ttl.test")
    if time.monotonic() - t0 >= TTL:
        pytest.skip("the machine took longer than the TTL (%d s) for two messages" % TTL)
    assert re.search(r"\bspf=pass\b", ar), ar   # the cached answer, within its TTL
    # once the TTL has passed, the new record is read
    deadline = time.monotonic() + TTL + 20
    while True:
        ar = deliver(ttl_srv, "c@ttl.test", "c@ttl.test")
        if re.search(r"\bspf=fail\b", ar):
            break
        assert re.search(r"\bspf=pass\b", ar), ar
        assert time.monotonic() < deadline, "the old record was still used long after its TTL"
        time.sleep(0.5)
    assert time.monotonic() - t0 >= TTL


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    d = TTLDnsmasq(tmp_path_factory.mktemp("countdns"), 300)
    d.start({"count.test": "v=spf1 ip4:%s -all" % GOOD, "_dmarc.count.test": "v=DMARC1; p=none"})
    r = Resolver(upstream=d.port)
    yield r
    r.stop()
    d.stop()


@pytest.fixture(scope="module")
def count_srv(counted, tmp_path_factory):
    with helpers.running_server(tmp_path_factory.mktemp("countsrv"),
                                config={"dns.resolver": counted.address},
                                accounts=[(LOCAL, PASSWORD, None)]) as s:
        yield s


def test_one_lookup_for_many_messages_of_a_domain(count_srv, counted):
    """Five messages from one domain, on whatever loop: the SPF record and
    the DMARC policy are asked for once; the others come from the shared
    cache (TTL 300 s)."""
    for i in range(5):
        ar = deliver(count_srv, "m%d@count.test" % i, "m%d@count.test" % i)
        assert re.search(r"\bspf=pass\b", ar) and re.search(r"\bdmarc=pass\b", ar), ar
    assert counted.seen.count(("count.test", TXT)) == 1, counted.seen
    assert counted.seen.count(("_dmarc.count.test", TXT)) == 1, counted.seen
