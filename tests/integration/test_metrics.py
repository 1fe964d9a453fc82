"""/metrics on https.port (issue 11, section 7): the Prometheus text
exposition format 0.0.4, read by a strict parser written here, and the
counters a user's actions move: an SMTP delivery, a refused recipient, a
failed login, an IMAP command, an HTTP request. Only loopback clients may
read it; a client on a non-loopback address of this machine gets 403 (the
address check itself is unit-tested in tests/unit/test_http_metrics.c)."""

import http.client
import imaplib
import math
import os
import re
import socket
import ssl
import subprocess
import sys
import time

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, make_message, unique

USER = "user@" + DOMAIN


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = helpers.Server(tmp_path_factory.mktemp("metrics")).setup()
    s.start(wait_port="https")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert not rep, rep


def tls_ctx(srv):
    c = ssl.create_default_context(cafile=srv.crt)
    c.check_hostname = True
    return c


def https_conn(srv, host=HOST, source=None):
    conn = http.client.HTTPSConnection(HOSTNAME, srv.port("https"), context=tls_ctx(srv),
                                       timeout=20)
    sock = socket.create_connection((host, srv.port("https")), timeout=20,
                                    source_address=(source, 0) if source else None)
    conn.sock = tls_ctx(srv).wrap_socket(sock, server_hostname=HOSTNAME)
    return conn


def fetch(conn, path="/metrics", method="GET", headers=None):
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    return r, r.read()


# ---------------------------------------------------------------- the format

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class FormatError(AssertionError):
    pass


def parse_float(text, where):
    """A sample value as the format allows it (Go's ParseFloat)."""
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise FormatError("%s: bad value %r" % (where, text))
    return float(text)


def unescape(text, allowed, where):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                raise FormatError("%s: bad escape in %r" % (where, text))
            out.append({"\\": "\\", "n": "\n", '"': '"'}[text[i + 1]])
            i += 2
            continue
        if c == "\n":
            raise FormatError("%s: raw newline" % where)
        out.append(c)
        i += 1
    return "".join(out)


def parse_labels(text, where):
    """'{a="x",b="y"}' (text starts after the name) -> (dict, rest)."""
    labels = {}
    i = 1
    while True:
        if text[i] == "}":
            return labels, text[i + 1:]
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", text[i:])
        if not m:
            raise FormatError("%s: bad label at %r" % (where, text[i:]))
        name = m.group(1)
        j = i + m.end()
        k = j
        while k < len(text) and text[k] != '"':
            k += 2 if text[k] == "\\" else 1
        if k >= len(text):
            raise FormatError("%s: unterminated label value" % where)
        if name in labels:
            raise FormatError("%s: label %s twice" % (where, name))
        labels[name] = unescape(text[j:k], '\\"n', where)
        i = k + 1
        if text[i] == ",":
            i += 1
        elif text[i] != "}":
            raise FormatError("%s: expected , or } at %r" % (where, text[i:]))


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return None


def parse_exposition(body):
    """Parses the whole text strictly; returns (types, helps, samples) with
    samples {(name, frozenset(labels.items())): value}."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError("not UTF-8: %s" % e)
    if not text.endswith("\n"):
        raise FormatError("the last line does not end with a newline")
    types, helps, samples = {}, {}, {}
    seen_families = []
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d" % n
        if line == "":
            raise FormatError("%s: empty line" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.match(name):
                    raise FormatError("%s: bad name %r" % (where, name))
                if parts[1] == "HELP":
                    if name in helps:
                        raise FormatError("%s: second HELP for %s" % (where, name))
                    helps[name] = unescape(parts[3] if len(parts) > 3 else "", "\\n", where)
                else:
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise FormatError("%s: bad TYPE line" % where)
                    if name in types:
                        raise FormatError("%s: second TYPE for %s" % (where, name))
                    if name in seen_families:
                        raise FormatError("%s: TYPE after samples of %s" % (where, name))
                    types[name] = parts[3]
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if not m:
            raise FormatError("%s: bad sample line %r" % (where, line))
        name, rest = m.group(0), line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest, where)
        fields = rest.split(" ")
        if fields[0] != "" or len(fields) not in (2, 3):
            raise FormatError("%s: expected ' value [timestamp]' in %r" % (where, line))
        value = parse_float(fields[1], where)
        if len(fields) == 3 and not re.fullmatch(r"-?\d+", fields[2]):
            raise FormatError("%s: bad timestamp" % where)
        fam = family_of(name, types)
        if fam is None:
            raise FormatError("%s: sample %s before its TYPE" % (where, name))
        if seen_families and seen_families[-1] != fam and fam in seen_families:
            raise FormatError("%s: samples of %s not together" % (where, fam))
        if not seen_families or seen_families[-1] != fam:
            seen_families.append(fam)
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise FormatError("%s: series %s%r twice" % (where, name, labels))
        if types[fam] == "counter" and not value >= 0:
            raise FormatError("%s: negative counter" % where)
        if types[fam] == "histogram" and name.endswith("_bucket") and "le" not in labels:
            raise FormatError("%s: bucket without le" % where)
        samples[key] = value
    check_histograms(types, samples)
    return types, helps, samples


def check_histograms(types, samples):
    """Cumulative buckets ending with +Inf, equal to _count; _sum there."""
    for fam, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for (name, labels), value in samples.items():
            if name != fam + "_bucket":
                continue
            d = dict(labels)
            le = parse_float(d.pop("le"), fam)
            series.setdefault(frozenset(d.items()), []).append((le, value))
        if not series:
            raise FormatError("histogram %s without buckets" % fam)
        for rest, buckets in series.items():
            buckets.sort()
            if buckets[-1][0] != math.inf:
                raise FormatError("%s: no +Inf bucket" % fam)
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                raise FormatError("%s: buckets not cumulative: %r" % (fam, buckets))
            if samples.get((fam + "_count", rest)) != counts[-1]:
                raise FormatError("%s: _count differs from the +Inf bucket" % fam)
            if (fam + "_sum", rest) not in samples:
                raise FormatError("%s: no _sum" % fam)


def test_parser_refuses_bad_text():
    """The parser below is strict: each of these breaks a rule."""
    good = (b"# HELP a_total Help with \\\\ and \\n.\n# TYPE a_total counter\n"
            b"a_total{x=\"q\\\"\\n\"} 1\n")
    parse_exposition(good)
    for bad in (
        good[:-1],                                          # no final newline
        good + b"\n",                                       # empty line
        b"a 1\n",                                           # no TYPE first
        b"# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\"} 2\n",  # duplicate series
        b"# TYPE a counter\na -1\n",                        # negative counter
        b"# TYPE a gauge\na{x=\"\\q\"} 1\n",                # bad escape
        b"# TYPE a gauge\na{x=1} 1\n",                      # unquoted value
        b"# TYPE a gauge\na 1x\n",                          # bad value
        b"# TYPE a gauge\na  1\n",                          # two spaces
        b"# TYPE a blah\n",                                 # bad type
        b"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
        b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 0\nh_count 1\n",
        b"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 2\n",
        b"# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"y\"} 1\n",  # not together
    ):
        with pytest.raises(FormatError):
            parse_exposition(bad)


def scrape(srv, conn=None):
    own = conn is None
    conn = conn or https_conn(srv)
    r, body = fetch(conn)
    if own:
        conn.close()
    assert r.status == 200, body
    assert r.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    return parse_exposition(body)[2]


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, "no series %s%r" % (name, labels)
    return samples[key]


def wait_value(srv, name, want, **labels):
    """Scrapes until the series has the value (a connection's close is
    seen by the server a moment after the client's)."""
    end = time.time() + 10
    while True:
        got = value(scrape(srv), name, **labels)
        if got == want or time.time() > end:
            return got
        time.sleep(0.05)


# ---------------------------------------------------------------- the tests

def test_scrape_format_and_names(srv):
    conn = https_conn(srv)
    r, body = fetch(conn)
    assert r.status == 200
    assert r.getheader("Cache-Control") == "no-store"
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    types, helps, samples = parse_exposition(body)
    want = {
        "yubin_connections_accepted_total": "counter",
        "yubin_connections_open": "gauge",
        "yubin_smtp_local_deliveries_total": "counter",
        "yubin_smtp_relay_queued_total": "counter",
        "yubin_smtp_rejections_total": "counter",
        "yubin_outbound_results_total": "counter",
        "yubin_queue_messages": "gauge",
        "yubin_queue_oldest_message_age_seconds": "gauge",
        "yubin_auth_failures_total": "counter",
        "yubin_auth_blocks_total": "counter",
        "yubin_virus_scans_total": "counter",
        "yubin_spam_verdicts_total": "counter",
        "yubin_smtp_data_seconds": "histogram",
        "yubin_imap_command_seconds": "histogram",
        "yubin_outbound_attempt_seconds": "histogram",
        "yubin_http_request_seconds": "histogram",
    }
    for name, kind in want.items():
        assert types.get(name) == kind, name
        assert helps.get(name), name
    for svc in ("smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps", "http", "https"):
        value(samples, "yubin_connections_accepted_total", service=svc)
    for reason in ("rcpt_unknown", "quota", "relay_denied", "dmarc", "rate_limit", "size",
                   "auth_required", "connection_limit"):
        value(samples, "yubin_smtp_rejections_total", reason=reason)
    # this very connection is open, and was accepted
    assert value(samples, "yubin_connections_open", service="https") >= 1
    assert value(samples, "yubin_connections_accepted_total", service="https") >= 1
    # HEAD gives the headers only; other methods are refused
    r, body = fetch(conn, method="HEAD")
    assert r.status == 200 and body == b""
    r, body = fetch(conn, method="POST")
    assert r.status == 405
    conn.close()


def test_smtp_delivery_counted_once(srv):
    before = scrape(srv)
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    token = unique("metrics")
    replies = c.send_mail("sender@client.test", [USER], make_message(token))
    assert [r.code for r in replies] == [250, 250, 250]
    c.quit()
    after = scrape(srv)
    assert srv.find_token(USER, token)
    d = lambda name, **kw: value(after, name, **kw) - value(before, name, **kw)
    assert d("yubin_smtp_local_deliveries_total") == 1
    assert d("yubin_smtp_relay_queued_total") == 0
    assert d("yubin_smtp_data_seconds_count") == 1
    assert d("yubin_smtp_data_seconds_bucket", le="+Inf") == 1
    assert d("yubin_smtp_data_seconds_sum") > 0
    assert d("yubin_connections_accepted_total", service="smtp") == 1
    assert d("yubin_smtp_rejections_total", reason="rcpt_unknown") == 0
    # the SMTP connection is gone again
    assert wait_value(srv, "yubin_connections_open", value(before, "yubin_connections_open",
                                                             service="smtp"),
                      service="smtp") == value(before, "yubin_connections_open", service="smtp")


def test_rejections_counted_by_reason(srv):
    before = scrape(srv)
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    c.cmd("MAIL FROM:<sender@client.test>").expect(250)
    assert c.cmd("RCPT TO:<nobody-%s@%s>" % (unique("x"), DOMAIN)).code == 550
    assert c.cmd("RCPT TO:<someone@elsewhere.test>").code == 554
    assert c.cmd("RCPT TO:<nobody2@%s>" % DOMAIN).code == 550
    c.cmd("RSET").expect(250)
    assert c.cmd("MAIL FROM:<sender@client.test> SIZE=999999999999").code == 552
    c.quit()
    s = smtp_plain_submission(srv)
    assert s.cmd("MAIL FROM:<%s>" % USER).code == 530
    s.quit()
    after = scrape(srv)
    d = lambda reason: (value(after, "yubin_smtp_rejections_total", reason=reason)
                        - value(before, "yubin_smtp_rejections_total", reason=reason))
    assert d("rcpt_unknown") == 2
    assert d("relay_denied") == 1
    assert d("auth_required") == 1
    assert d("size") == 1
    assert d("quota") == 0
    assert (value(after, "yubin_smtp_data_seconds_count")
            == value(before, "yubin_smtp_data_seconds_count"))


def smtp_plain_submission(srv):
    c = SMTPConn(srv.port("submission"))
    c.ehlo().expect(250)
    c.starttls(helpers.tls_context(srv)).expect(220)
    c.ehlo().expect(250)
    return c


def test_auth_failures_counted_per_service(srv):
    before = scrape(srv)
    c = smtp_plain_submission(srv)
    assert c.auth_plain(USER, "wrong-password-1").code == 535
    c.quit()
    im = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=ssl_ctx_for_ip(srv))
    with pytest.raises(imaplib.IMAP4.error):
        im.login(USER, "wrong-password-2")
    im.logout()
    after = scrape(srv)
    d = lambda svc: (value(after, "yubin_auth_failures_total", service=svc)
                     - value(before, "yubin_auth_failures_total", service=svc))
    assert d("smtp") == 1
    assert d("imap") == 1
    assert d("pop3") == 0
    # a good login is no failure
    c = smtp_plain_submission(srv)
    assert c.auth_plain(USER, PASSWORD).code == 235
    c.quit()
    assert value(scrape(srv), "yubin_auth_failures_total", service="smtp") == value(
        after, "yubin_auth_failures_total", service="smtp")


def test_web_login_failures_counted(new_server):
    """Refused panel logins count under service="web": an administrator's
    wrong password, a mail user's wrong password and a malformed address;
    a good login of either counts nothing, and no other service moves."""
    import api_util
    s = new_server(start=False)
    s.ctl("admin", "add", "root", "--role", "server", "--password-stdin", input="Admin-pass-123\n")
    s.start(wait_port="https")
    before = scrape(s)
    api_util.Client(s).login("admin", "root", "wrong-admin-pw", expect=401)
    api_util.Client(s).login("admin", "nobody", "wrong-admin-pw", expect=401)
    api_util.Client(s).login("user", USER, "wrong-user-pw", expect=401)
    api_util.Client(s).login("user", "no-at-sign", "wrong-user-pw", expect=401)
    api_util.Client(s).login("admin", "root", "Admin-pass-123")
    api_util.Client(s).login("user", USER, PASSWORD)
    after = scrape(s)
    d = lambda svc: (value(after, "yubin_auth_failures_total", service=svc)
                     - value(before, "yubin_auth_failures_total", service=svc))
    assert d("web") == 4
    assert d("smtp") == d("imap") == d("pop3") == 0


def test_bruteforce_blocks_counted(new_server):
    """Failed logins from one address until it is blocked: one ip block,
    one account slowed, and every refused login (also the blocked one with
    the right password) an auth failure of its service."""
    from protection_util import auth_from, pop3_login_from
    srv = new_server(config={"bruteforce.ip_delay_after": "100", "bruteforce.ip_block_after": "3",
                             "bruteforce.delay_max": "0", "bruteforce.account_delay_after": "2"})
    for i in range(3):
        r, _ = auth_from(srv, "127.0.0.3", USER, "Wrong-pass-%d" % i)
        r.expect(535)
    r, _ = auth_from(srv, "127.0.0.3", USER)
    r.expect(454)
    assert pop3_login_from(srv, "127.0.0.3", USER).startswith(b"-ERR [SYS/TEMP]")
    s = scrape(srv)
    assert value(s, "yubin_auth_blocks_total", kind="ip") == 1
    assert value(s, "yubin_auth_blocks_total", kind="account") == 1
    assert value(s, "yubin_auth_blocks_total", kind="delayed") == 0   # delay_max 0
    assert value(s, "yubin_auth_failures_total", service="smtp") == 4
    assert value(s, "yubin_auth_failures_total", service="pop3") == 1
    assert value(s, "yubin_auth_failures_total", service="imap") == 0


def ssl_ctx_for_ip(srv):
    c = ssl.create_default_context(cafile=srv.crt)
    c.check_hostname = False        # imaplib connects by address
    return c


def test_imap_command_time_counted(srv):
    before = scrape(srv)
    sock = ssl_ctx_for_ip(srv).wrap_socket(
        socket.create_connection((HOST, srv.port("imaps")), timeout=20))
    f = sock.makefile("rb")
    assert f.readline().startswith(b"* OK")
    sock.sendall(b"a1 NOOP\r\n")
    assert f.readline().startswith(b"a1 OK")
    sock.sendall(b"a2 LOGIN %s %s\r\n" % (USER.encode(), PASSWORD.encode()))
    line = f.readline()
    while line.startswith(b"* "):
        line = f.readline()
    assert line.startswith(b"a2 OK"), line
    # IDLE lasts as long as the client wants: not a command time
    sock.sendall(b"a3 SELECT INBOX\r\n")
    line = f.readline()
    while line.startswith(b"* "):
        line = f.readline()
    assert line.startswith(b"a3 OK"), line
    sock.sendall(b"a4 IDLE\r\n")
    assert f.readline().startswith(b"+ ")
    sock.sendall(b"DONE\r\n")
    assert f.readline().startswith(b"a4 OK")
    after = scrape(srv)
    sock.sendall(b"a2 LOGOUT\r\n")
    f.read()
    sock.close()
    assert (value(after, "yubin_imap_command_seconds_count")
            - value(before, "yubin_imap_command_seconds_count")) == 3
    assert (value(after, "yubin_connections_accepted_total", service="imaps")
            - value(before, "yubin_connections_accepted_total", service="imaps")) == 1


def test_http_requests_and_port_80_counted(srv):
    conn = https_conn(srv)
    first = scrape(srv, conn)
    fetch(conn, "/api/v1/health")
    second = scrape(srv, conn)
    conn.close()
    # the first scrape and the health check were answered in between
    assert (value(second, "yubin_http_request_seconds_count")
            - value(first, "yubin_http_request_seconds_count")) == 2
    plain = http.client.HTTPConnection(HOST, srv.port("http"), timeout=20)
    plain.request("GET", "/", headers={"Host": HOSTNAME})
    assert plain.getresponse().status == 301
    plain.close()
    third = scrape(srv)
    assert (value(third, "yubin_connections_accepted_total", service="http")
            - value(second, "yubin_connections_accepted_total", service="http")) == 1
    assert (value(third, "yubin_connections_accepted_total", service="https")
            - value(second, "yubin_connections_accepted_total", service="https")) == 1


def test_forwarded_for_header_changes_nothing(srv):
    """Only the connection's own address counts: a header naming another
    client neither refuses a loopback client nor admits another."""
    conn = https_conn(srv)
    r, body = fetch(conn, headers={"X-Forwarded-For": "192.0.2.99", "X-Real-IP": "192.0.2.99",
                                   "Forwarded": "for=192.0.2.99"})
    conn.close()
    assert r.status == 200
    parse_exposition(body)


def wait_until(srv, pred, timeout=30):
    """Scrapes until pred(samples) holds; returns the last samples."""
    end = time.time() + timeout
    while True:
        samples = scrape(srv)
        if pred(samples) or time.time() > end:
            return samples
        time.sleep(0.1)


@pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")
def test_outbound_results_and_queue_gauges(dns, sink, new_server):
    """A message for another domain: queued (relay counter, queue gauges),
    deferred while the remote server says 450, sent once it takes it; one
    attempt-time observation per attempt."""
    sink.start(["-r", "RCPT"])      # 450 4.3.0 to every RCPT
    srv = new_server(config=ou.outbound_config(dns, sink))
    c = helpers.smtp_submission(srv)
    c.auth_plain(USER, PASSWORD).expect(235)
    tok = unique("out")
    replies = c.send_mail(USER, ["bob@remote.test"], make_message(tok, sender=USER))
    assert [r.code for r in replies] == [250, 250, 250]
    c.quit()
    out = lambda s, result: value(s, "yubin_outbound_results_total", result=result)
    s = wait_until(srv, lambda s: out(s, "deferred") >= 1
                   and value(s, "yubin_queue_messages") == 1)
    assert out(s, "deferred") >= 1, srv.log_tail()
    assert value(s, "yubin_queue_messages") == 1
    assert 0 <= value(s, "yubin_queue_oldest_message_age_seconds") < 600
    assert value(s, "yubin_smtp_relay_queued_total") == 1
    assert value(s, "yubin_smtp_local_deliveries_total") == 0
    assert out(s, "sent") == 0
    sink.restart()
    s = wait_until(srv, lambda s: out(s, "sent") == 1 and value(s, "yubin_queue_messages") == 0)
    assert out(s, "sent") == 1, srv.log_tail()
    assert value(s, "yubin_queue_messages") == 0
    assert value(s, "yubin_queue_oldest_message_age_seconds") == 0
    assert out(s, "bounced") == 0 and out(s, "expired") == 0
    assert len(sink.messages()) == 1
    assert value(s, "yubin_outbound_attempt_seconds_count") == out(s, "deferred") + out(s, "sent")


NS_CLIENT = r"""
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname=sys.argv[3]) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
sys.stdout.write(data.decode("latin-1"))
"""


class NetNamespace:
    """A network namespace of this test's own (unshare --net: held by a
    sleeping process, gone with it), joined to this one by a veth pair with
    addresses outside 127.0.0.0/8 (10.203.N.1 here, .2 there): a client in
    it reaches the daemon from a non-loopback address while no packet
    leaves the machine. By process id, not `ip netns` names, so it needs
    no /run/netns (a chroot has none)."""

    def __init__(self):
        n = os.getpid() % 250 + 1
        self.host_if, self.ns_if = "ymh%d" % os.getpid(), "ymn%d" % os.getpid()
        self.host_addr, self.ns_addr = "10.203.%d.1" % n, "10.203.%d.2" % n
        self.holder = None

    def ip(self, *args, inside=False):
        cmd = (self.prefix() if inside else []) + ["ip"] + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, (cmd, p.stdout)

    def prefix(self):
        return ["nsenter", "--net=/proc/%d/ns/net" % self.holder.pid]

    def __enter__(self):
        self.holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "600"])
        try:
            mine = os.readlink("/proc/self/ns/net")
            deadline = time.monotonic() + 10
            while os.readlink("/proc/%d/ns/net" % self.holder.pid) == mine:
                assert time.monotonic() < deadline and self.holder.poll() is None, \
                    "unshare --net did not start"
                time.sleep(0.01)
            self.ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if,
                    "netns", str(self.holder.pid))
            self.ip("addr", "add", self.host_addr + "/30", "dev", self.host_if)
            self.ip("link", "set", self.host_if, "up")
            self.ip("addr", "add", self.ns_addr + "/30", "dev", self.ns_if, inside=True)
            self.ip("link", "set", self.ns_if, "up", inside=True)
            self.ip("link", "set", "lo", "up", inside=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "link", "del", self.host_if], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.holder.kill()
        self.holder.wait()

    def run(self, *cmd):
        return subprocess.run(self.prefix() + list(cmd), timeout=60,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_non_loopback_client_refused(tmp_path):
    with NetNamespace() as ns:
        s = helpers.Server(tmp_path, config={"listen.address": "127.0.0.1, " + ns.host_addr})
        s.setup().start(wait_port="https")
        try:
            p = ns.run(sys.executable, "-c", NS_CLIENT, ns.host_addr, str(s.port("https")),
                       HOSTNAME)
            assert p.returncode == 0, p.stdout
            assert p.stdout.startswith("HTTP/1.1 403"), p.stdout[:300]
            assert "yubin_" not in p.stdout.partition("\r\n\r\n")[2]
            # the same server still answers a loopback client
            r, body = fetch(https_conn(s))
            assert r.status == 200
            parse_exposition(body)
        finally:
            s.stop()
    assert not s.sanitizer_report()


NS_API_CLIENT = r"""
import http.client, json, socket, ssl, sys
# argv: address port hostname; stdin: [{"method","path","headers","body","login"}]
# "login": the request is a login whose cookie the next requests carry
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out, cookie = [], None
for q in json.load(sys.stdin):
    conn = http.client.HTTPSConnection(sys.argv[3], int(sys.argv[2]), context=ctx, timeout=30)
    conn.sock = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30),
                                server_hostname=sys.argv[3])
    h = dict(q.get("headers") or {})
    if cookie and q.get("cookie", True):
        h["Cookie"] = "yubin_session=" + cookie
    body = json.dumps(q["body"]).encode() if "body" in q else None
    if body is not None:
        h["Content-Type"] = "application/json"
    conn.request(q["method"], q["path"], body=body, headers=h)
    r = conn.getresponse()
    data = r.read().decode("utf-8", "replace")
    if q.get("login"):
        sc = r.getheader("Set-Cookie") or ""
        cookie = sc.split(";")[0].partition("=")[2] or None
    out.append({"status": r.status, "type": r.getheader("Content-Type"),
                "length": r.getheader("Content-Length"), "body": data})
    conn.close()
json.dump(out, sys.stdout)
"""


def test_metrics_for_server_administrators_from_anywhere(tmp_path):
    """From a non-loopback address: a server administrator's session or
    token reads the metrics; a domain administrator, a mail user, a bad
    token and an anonymous client do not."""
    import json as _json
    import api_util
    with NetNamespace() as ns:
        s = helpers.Server(tmp_path, config={"listen.address": "127.0.0.1, " + ns.host_addr})
        s.setup()
        s.ctl("admin", "add", "root", "--role", "server", "--password-stdin", input="Admin-pass-123\n")
        s.ctl("admin", "add", "dom", "--role", "domain", "--domain", DOMAIN, "--password-stdin",
              input="Admin-pass-123\n")
        tok = lambda *a: [w for w in s.ctl("token", "create", *a).out.split()
                          if w.startswith("yubin_")][0]
        server_tok = tok("--role", "server", "--expires", "1d")
        domain_tok = tok("--role", "domain", "--domain", DOMAIN, "--expires", "1d")
        s.start(wait_port="https")
        try:
            bearer = lambda t: {"Authorization": "Bearer " + t}
            login = lambda kind, name, pw: {
                "method": "POST", "path": "/api/v1/session", "login": True,
                "body": {"kind": kind, "name" if kind == "admin" else "address": name, "password": pw}}
            get = lambda **kw: dict({"method": "GET", "path": "/metrics"}, **kw)
            reqs = [get(), get(headers=bearer(server_tok)), get(headers=bearer(domain_tok)),
                    get(headers=bearer("yubin_1_nonsense")),
                    dict(get(headers=bearer(server_tok)), method="HEAD"),
                    login("admin", "root", "Admin-pass-123"), get(),
                    login("admin", "dom", "Admin-pass-123"), get(),
                    login("user", USER, PASSWORD), get(),
                    get(cookie=False, headers={"Cookie": "yubin_session="})]
            p = subprocess.run(ns.prefix() + [sys.executable, "-c", NS_API_CLIENT,
                                ns.host_addr, str(s.port("https")), HOSTNAME],
                               input=_json.dumps(reqs), text=True, timeout=120,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            assert p.returncode == 0, p.stdout
            (anon, by_server_tok, by_domain_tok, by_bad_tok, head, login_root, by_root, login_dom,
             by_dom, login_user, by_user, empty_cookie) = _json.loads(p.stdout)
            page = lambda r: r["status"] == 200 and r["type"].startswith("text/plain; version=0.0.4") \
                and "yubin_auth_failures_total" in r["body"]
            assert anon["status"] == 403 and "yubin_" not in anon["body"]
            assert page(by_server_tok), by_server_tok
            parse_exposition(by_server_tok["body"].encode())
            assert by_domain_tok["status"] == 403 and "forbidden" in by_domain_tok["body"]
            assert by_bad_tok["status"] == 401 and "yubin_" not in by_bad_tok["body"]
            assert head["status"] == 200 and head["body"] == "" and int(head["length"]) > 1000
            assert login_root["status"] == login_dom["status"] == login_user["status"] == 200
            assert page(by_root), by_root
            assert by_dom["status"] == 403 and "yubin_" not in by_dom["body"]
            assert by_user["status"] == 403 and "yubin_" not in by_user["body"]
            assert empty_cookie["status"] == 403
            # loopback clients still need nothing
            r, body = fetch(https_conn(s))
            assert r.status == 200
        finally:
            s.stop()
    assert not s.sanitizer_report()
