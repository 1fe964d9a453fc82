"""Hostile and oversized SMTP input: every limit gives its documented reply,
the session (or at least the daemon) survives, and nothing half-received
is delivered."""

import os
import socket
import ssl
import time

import pytest

from helpers import (DOMAIN, HOST, PASSWORD, SMTPConn, Closed, make_message,
                     running_server, smtp_submission, tls_context, unique)

USER = "user@" + DOMAIN
R = ["a1@" + DOMAIN, "a2@" + DOMAIN, "a3@" + DOMAIN]
MAX_SIZE = 65536
MAX_RCPT = 3
MAX_LINE = 512


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("abuse"),
                        config={"smtp.max_message_size": str(MAX_SIZE),
                                "smtp.max_recipients": str(MAX_RCPT),
                                "smtp.max_line_length": str(MAX_LINE)},
                        accounts=[(USER,)] + [(a,) for a in R]) as srv:
        yield srv


def mx(server):
    c = SMTPConn(server.port("smtp"))
    assert c.greeting.code == 220, c.greeting
    c.ehlo().expect(250)
    return c


def assert_alive(server):
    """The daemon still runs and greets a new client."""
    assert server.running, "yubind died:\n" + server.log_tail()
    c = SMTPConn(server.port("smtp"))
    try:
        assert c.greeting.code == 220
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()


# ---------------------------------------------------------------- command errors

def test_unknown_command(server):
    c = mx(server)
    try:
        c.cmd("FOOBAR baz").expect(500, "5.5.2")
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()


def test_rcpt_before_mail(server):
    c = mx(server)
    try:
        c.cmd("RCPT TO:<%s>" % USER).expect(503, "5.5.1")
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()


def test_data_before_rcpt(server):
    c = mx(server)
    try:
        c.cmd("DATA").expect(503, "5.5.1")
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("DATA").expect(503, "5.5.1")
        # the transaction is still open and usable
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
    finally:
        c.quit()


def test_nested_mail(server):
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("MAIL FROM:<sender@client.test>").expect(503, "5.5.1")
    finally:
        c.quit()


@pytest.mark.parametrize("line", [b"NO\x00OP", b"NOOP\x00", b"MAIL FROM:<se\x00nder@client.test>",
                                  b"\x00"], ids=["mid", "end", "mail", "alone"])
def test_nul_in_command(server, line):
    c = mx(server)
    try:
        c.cmd(line).expect(500, "5.5.2")
        c.cmd("NOOP").expect(250)
        # a NUL in MAIL did not open a transaction
        c.cmd("RCPT TO:<%s>" % USER).expect(503, "5.5.1")
    finally:
        c.quit()


@pytest.mark.parametrize("length", [MAX_LINE + 1, 2000, 100000])
def test_line_too_long(server, length):
    c = mx(server)
    try:
        line = b"NOOP " + b"x" * (length - 5)
        c.cmd(line).expect(500, "5.5.2")
        c.cmd("NOOP").expect(250)
        long_mail = b"MAIL FROM:<" + b"a" * length + b"@client.test>"
        c.cmd(long_mail).expect(500, "5.5.2")
        # the overlong MAIL did not open a transaction
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
    finally:
        c.quit()


def test_line_within_limit_accepted(server):
    c = mx(server)
    try:
        c.cmd(b"NOOP " + b"x" * 400).expect(250)
    finally:
        c.quit()


def test_too_many_errors_closes(server):
    c = mx(server)
    try:
        c.send(b"FOOBAR\r\n" * 60)
        codes = []
        try:
            while True:
                codes.append(c.read_reply().code)
        except (Closed, ConnectionResetError):
            pass
        assert len(codes) < 60, "60 bad commands did not end the session"
        assert codes[-1] == 421, codes
        assert set(codes[:-1]) == {500}, codes
    finally:
        c.close()


# ---------------------------------------------------------------- recipients and size

def test_too_many_recipients(server):
    tok = unique("rcpt")
    msg = make_message(tok)
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        for a in R:
            c.cmd("RCPT TO:<%s>" % a).expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(452, "4.5.3")
        c.cmd("RCPT TO:<%s>" % USER).expect(452, "4.5.3")
        c.data(msg).expect(250)
    finally:
        c.quit()
    for a in R:
        assert len(server.find_token(a, tok)) == 1, a
    assert server.find_token(USER, tok) == {}


def test_size_param_over_limit(server):
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test> SIZE=%d" % (MAX_SIZE + 1)).expect(552, "5.3.4")
        c.cmd("MAIL FROM:<sender@client.test> SIZE=%d" % (MAX_SIZE // 2)).expect(250)
    finally:
        c.quit()


def test_message_over_limit_without_size(server):
    tok = unique("big")
    big = make_message(tok, size=MAX_SIZE * 2)
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.data(big).expect(552, "5.3.4")
        # the session goes on: a small message still goes through
        tok2 = unique("small")
        replies = c.send_mail("sender@client.test", [USER], make_message(tok2))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    assert server.find_token(USER, tok) == {}
    assert len(server.find_token(USER, tok2)) == 1


def test_message_just_under_limit(server):
    tok = unique("fits")
    msg = make_message(tok, size=MAX_SIZE - 4096)
    assert len(msg) < MAX_SIZE - 1024
    c = mx(server)
    try:
        replies = c.send_mail("sender@client.test", [USER], msg)
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    found = server.find_token(USER, tok)
    assert len(found) == 1
    assert list(found.values())[0].endswith(msg)


# ---------------------------------------------------------------- pipelining

def test_pipelining_three_transactions_in_one_write(server):
    toks = [unique("pipe%d" % i) for i in range(3)]
    msgs = [make_message(t) for t in toks]
    c = mx(server)
    try:
        blob = b""
        for m in msgs:
            blob += b"MAIL FROM:<sender@client.test>\r\n"
            blob += ("RCPT TO:<%s>\r\n" % USER).encode()
            blob += ("RCPT TO:<%s>\r\n" % R[0]).encode()
            blob += b"DATA\r\n"
            blob += m + b".\r\n"
        blob += b"QUIT\r\n"
        c.send(blob)
        codes = [c.read_reply().code for _ in range(16)]
        assert codes == [250, 250, 250, 354, 250] * 3 + [221], codes
    finally:
        c.close()
    for t, m in zip(toks, msgs):
        for a in (USER, R[0]):
            found = server.find_token(a, t)
            assert len(found) == 1, (a, t)
            assert list(found.values())[0].endswith(m)


def test_pipelining_with_refused_recipient(server):
    tok = unique("pipebad")
    msg = make_message(tok)
    c = mx(server)
    try:
        c.send(b"MAIL FROM:<sender@client.test>\r\n"
               b"RCPT TO:<nosuch@example.test>\r\n"
               b"RCPT TO:<someone@remote.test>\r\n"
               + ("RCPT TO:<%s>\r\n" % USER).encode()
               + b"DATA\r\n" + msg + b".\r\nNOOP\r\n")
        replies = [c.read_reply() for _ in range(6)]
        assert [r.code for r in replies] == [250, 550, 554, 250, 354, 250], replies
        assert replies[1].enh == "5.1.1" and replies[2].enh == "5.7.1", replies
        c.read_reply().expect(250)
    finally:
        c.quit()
    assert len(server.find_token(USER, tok)) == 1


def test_pipelined_data_without_recipient_does_not_deliver(server):
    """DATA refused with 503: the lines after it are commands, not a message."""
    c = mx(server)
    try:
        c.send(b"MAIL FROM:<sender@client.test>\r\nRCPT TO:<nosuch@example.test>\r\nDATA\r\n"
               b"NOOP\r\n")
        codes = [c.read_reply().code for _ in range(4)]
        assert codes == [250, 550, 503, 250], codes
    finally:
        c.quit()


# ---------------------------------------------------------------- DATA framing

def test_dot_stuffing(server):
    tok = unique("dots")
    head = ("X-Test-Token: %s\r\nSubject: dots\r\n\r\n" % tok).encode()
    wire = head + b"first\r\n..\r\n..leading\r\n...\r\n. space\r\nlast\r\n.\r\n"
    stored = head + b"first\r\n.\r\n.leading\r\n..\r\n space\r\nlast\r\n"
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.cmd("DATA").expect(354)
        c.send(wire)
        c.read_reply().expect(250)
    finally:
        c.quit()
    found = server.find_token(USER, tok)
    assert len(found) == 1
    data = list(found.values())[0]
    assert data.endswith(stored), data[-300:]


SMUGGLE = {
    "lf-dot-lf": b"part one\n.\npart two %s\r\n",
    "lf-dot-lf-commands": (b"part one\n.\nMAIL FROM:<evil@client.test>\nRCPT TO:<user@example.test>\n"
                           b"DATA\nsmuggled %s\r\n"),
    "crlf-dot-lf": (b"part one\r\n.\nMAIL FROM:<evil@client.test>\r\nRCPT TO:<user@example.test>\r\n"
                    b"DATA\r\nsmuggled %s\r\n"),
    "lf-dot-crlf": (b"part one\n.\r\nMAIL FROM:<evil@client.test>\r\nRCPT TO:<user@example.test>\r\n"
                    b"DATA\r\nsmuggled %s\r\n"),
}


@pytest.mark.parametrize("kind", sorted(SMUGGLE))
def test_bare_lf_dot_does_not_end_message(server, kind):
    tok = unique("smuggle")
    head = ("X-Test-Token: %s\r\nSubject: smuggle\r\n\r\n" % tok).encode()
    body = SMUGGLE[kind].replace(b"%s", tok.encode())
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.cmd("DATA").expect(354)
        c.send(head + body + b".\r\n")
        c.read_reply().expect(250)
        # exactly one reply for the whole DATA: the next one answers QUIT
        c.send(b"QUIT\r\n")
        c.read_reply().expect(221)
    finally:
        c.close()
    found = server.find_token(USER, tok)
    assert len(found) == 1, "%d messages for one DATA" % len(found)
    data = list(found.values())[0]
    assert b"part one" in data
    assert (b"part two " + tok.encode()) in data or (b"smuggled " + tok.encode()) in data, data


def deliver_marker(server):
    """A message to USER in a new session, accepted (250: it is in the
    mailbox) and found there: what the daemon did with an earlier session's
    end it has done by now, so "nothing arrived" can be checked."""
    tok = unique("marker")
    c = mx(server)
    try:
        replies = c.send_mail("sender@client.test", [USER], make_message(tok))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    deadline = time.time() + 30
    while not server.find_token(USER, tok):
        assert time.time() < deadline, "marker %s not delivered" % tok
        time.sleep(0.05)


def test_disconnect_during_data_delivers_nothing(server):
    tok = unique("cut")
    msg = make_message(tok, size=30000)
    c = mx(server)
    c.cmd("MAIL FROM:<sender@client.test>").expect(250)
    c.cmd("RCPT TO:<%s>" % USER).expect(250)
    c.cmd("DATA").expect(354)
    c.send(msg[:20000])
    c.abort()
    # the same with an orderly close (FIN) after text that is still message
    # data; the daemon closing its side shows it has handled the end
    c = mx(server)
    c.cmd("MAIL FROM:<sender@client.test>").expect(250)
    c.cmd("RCPT TO:<%s>" % USER).expect(250)
    c.cmd("DATA").expect(354)
    c.send(msg[:20000] + b"\r\nQUIT\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    assert c.wait_closed(20), "the daemon kept the half-closed session open"
    c.close()
    deliver_marker(server)
    assert server.find_token(USER, tok) == {}
    assert_alive(server)


# ---------------------------------------------------------------- TLS and AUTH abuse

def test_starttls_command_injection(server):
    """Commands pipelined after STARTTLS in plaintext must not be executed
    inside the TLS session (CVE-2011-0411 class)."""
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@client.test>\r\n")
        r = c.read_reply()
        if r.code == 220:
            c.buf = b""
            try:
                c.upgrade(tls_context(server))
            except (ssl.SSLError, OSError):
                c = None    # refusing the handshake is safe, if the daemon lives on
            if c is not None:
                c.ehlo().expect(250)
                # had MAIL been run from the plaintext buffer, this would be a 503
                c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        else:
            assert r.code >= 500, r
    finally:
        if c is not None:
            c.close()
    # a crash during the handshake would also have ended the session
    assert_alive(server)


def test_auth_cancel_and_bad_base64(server):
    c = smtp_submission(server)
    try:
        r = c.cmd("AUTH PLAIN")
        assert r.code == 334, r
        c.cmd("*").expect(501)
        c.cmd("AUTH PLAIN !!!not-base64!!!").expect(501)
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334, r
        c.cmd("*").expect(501)
        c.cmd("AUTH CRAM-MD5").expect(504)
        c.cmd("NOOP").expect(250)
        # the session still allows a normal login afterwards
        assert c.auth_plain(USER, PASSWORD).code == 235
    finally:
        c.quit()


def test_auth_plain_other_authzid_refused(server):
    import base64
    c = smtp_submission(server)
    try:
        tok = base64.b64encode(b"a1@example.test\0" + USER.encode() + b"\0" + PASSWORD.encode())
        r = c.cmd(b"AUTH PLAIN " + tok)
        assert r.code // 100 == 5, "acting as another user was allowed: %r" % r
    finally:
        c.quit()


def test_binary_junk_then_alive(server):
    c = SMTPConn(server.port("smtp"))
    try:
        c.send(os.urandom(4096) + b"\r\n" + bytes(range(256)) * 8 + b"\r\n")
        c.wait_closed(2)
    finally:
        c.close()
    assert_alive(server)


def test_tls_hello_on_plain_port_then_alive(server):
    s = socket.create_connection((HOST, server.port("smtp")), timeout=10)
    try:
        s.recv(1024)
        ctx = tls_context(server)
        with pytest.raises((ssl.SSLError, OSError)):
            t = ctx.wrap_socket(s, server_hostname="mail.example.test")
            t.close()
    finally:
        s.close()
    assert_alive(server)


def test_plaintext_on_465_then_alive(server):
    s = socket.create_connection((HOST, server.port("smtps")), timeout=10)
    try:
        s.sendall(b"EHLO client.test\r\nMAIL FROM:<x@client.test>\r\n")
        s.settimeout(10)
        data = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
        except (ConnectionResetError, socket.timeout, TimeoutError):
            pass
        assert b"250" not in data, data
    finally:
        s.close()
    assert_alive(server)


# ---------------------------------------------------------------- idle and per-IP limits

def test_idle_timeout(new_server):
    srv = new_server(config={"smtp.timeout": "2"})
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        t0 = time.time()
        c.settimeout(15)
        r = c.read_reply()
        elapsed = time.time() - t0
        r.expect(421, "4.4.2")
        assert 1.0 <= elapsed <= 8.0, elapsed
        assert c.wait_closed(5), "connection left open after 421"
    finally:
        c.close()
    # a connection that keeps talking is not cut off
    c = SMTPConn(srv.port("smtp"))
    try:
        for _ in range(4):
            time.sleep(1)
            c.cmd("NOOP").expect(250)
    finally:
        c.quit()


def test_connections_per_ip(new_server):
    srv = new_server(config={"smtp.max_connections_per_ip": "3"})
    time.sleep(0.5)  # let the daemon see the start-up probe connection go
    conns = []
    try:
        for _ in range(3):
            c = SMTPConn(srv.port("smtp"))
            assert c.greeting.code == 220, c.greeting
            conns.append(c)
        c4 = SMTPConn(srv.port("smtp"))
        try:
            c4.greeting.expect(421, "4.7.0")
            assert c4.wait_closed(5)
        finally:
            c4.close()
        # the three are still served
        for c in conns:
            c.cmd("NOOP").expect(250)
        # when one goes, a new client gets in
        conns.pop().quit()
        deadline = time.time() + 5
        while True:
            c = SMTPConn(srv.port("smtp"))
            if c.greeting.code == 220:
                conns.append(c)
                break
            c.close()
            assert time.time() < deadline, "slot not freed after QUIT: %r" % c.greeting
            time.sleep(0.2)
    finally:
        for c in conns:
            c.close()


# ---------------------------------------------------------------- CHUNKING (BDAT)

def chunking(server):
    c = mx(server)
    # always offered: losing it must fail the BDAT tests, not skip them
    assert "CHUNKING" in c.caps, c.caps
    return c


def test_bdat_chunks_stored_verbatim(server):
    tok = unique("bdat")
    msg = make_message(tok, extra_body=b".leading dot is not stuffing in BDAT\r\n..two\r\n")
    cut = len(msg) // 2 + 3
    c = chunking(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.send(b"BDAT %d\r\n" % cut + msg[:cut])
        c.read_reply().expect(250)
        c.send(b"BDAT %d\r\n" % (len(msg) - cut) + msg[cut:])
        c.read_reply().expect(250)
        c.send(b"BDAT 0 LAST\r\n")
        c.read_reply().expect(250)
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()
    found = server.find_token(USER, tok)
    assert len(found) == 1
    assert list(found.values())[0].endswith(msg)


def test_bdat_over_size_limit(server):
    tok = unique("bdatbig")
    big = make_message(tok, size=MAX_SIZE * 2)
    c = chunking(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.send(b"BDAT %d LAST\r\n" % len(big) + big)
        c.read_reply().expect(552, "5.3.4")
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()
    assert server.find_token(USER, tok) == {}


def test_bdat_without_transaction_discards_chunk(server):
    """A refused BDAT's octets are read and dropped, never run as commands."""
    c = chunking(server)
    try:
        c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
        c.read_reply().expect(503, "5.5.1")
        c.cmd("NOOP").expect(250)
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
        c.read_reply().expect(503, "5.5.1")
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()


def test_data_after_bdat_refused(server):
    c = chunking(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.send(b"BDAT 4\r\nab\r\n")
        c.read_reply().expect(250)
        c.cmd("DATA").expect(503, "5.5.1")
    finally:
        c.quit()


@pytest.mark.parametrize("arg", ["abc", "-5 LAST", "99999999999999999999999 LAST", "10 FIRST"])
def test_bdat_bad_size(server, arg):
    """A BDAT whose size cannot be read cannot be framed: 501, and the
    server may close the connection, but must not take the rest as data."""
    c = chunking(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        r = c.cmd("BDAT " + arg)
        assert r.code == 501, r
        try:
            r = c.cmd("NOOP")
        except (Closed, ConnectionResetError):
            return
        r.expect(250)
    finally:
        c.close()


# ---------------------------------------------------------------- issue 9: replies, EHLO, DATA ends, logs

@pytest.mark.parametrize("addr", ["user+tag@" + DOMAIN, "a=b@" + DOMAIN,
                                  "\u30e6\u30fc\u30b6\u30fc@" + DOMAIN])
def test_rcpt_rejection_names_the_address(server, addr):
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test> SMTPUTF8").expect(250)
        r = c.cmd("RCPT TO:<%s>" % addr)
        r.expect(550, "5.1.1")
        assert r.lines[0].startswith("5.1.1 <%s>: " % addr), r
    finally:
        c.quit()


@pytest.mark.parametrize("verb", ["EHLO", "HELO"])
def test_helo_with_control_characters_refused(server, verb):
    c = SMTPConn(server.port("smtp"))
    try:
        for bad in (b"evil\x01host", b"evil\x1b[31mhost", b"evil\x7f"):
            r = c.cmd(verb.encode() + b" " + bad)
            r.expect(501, "5.5.2")
            assert "Control characters" in r.text
        # nothing was taken as the client's name: a transaction needs a good one
        c.cmd("MAIL FROM:<sender@client.test>").expect(503)
        c.cmd(verb + " good.client.test").expect(250)
        tok = unique("helo")
        replies = c.send_mail("sender@client.test", [USER], make_message(tok))
        replies[-1].expect(250)
    finally:
        c.quit()
    (data,) = server.find_token(USER, tok).values()
    received = data.split(b"\r\n\r\n", 1)[0]
    assert b"from good.client.test " in received and b"evil" not in received


STORED_ENDS = {
    # each: the body sent (then CRLF.CRLF), and what is stored
    "crlf-dot-lf": (b"part one\r\n.\npart two\r\n", b"part one\r\n.\r\npart two\r\n"),
    "lf-dot-crlf": (b"part one\n.\r\npart two\r\n", b"part one\r\n.\r\npart two\r\n"),
    "crlf-dot-cr": (b"part one\r\n.\rpart two\r\n", b"part one\r\n.\r\npart two\r\n"),
    "bare-cr": (b"part\rone\r\n", b"part\r\none\r\n"),
}


@pytest.mark.parametrize("kind", sorted(STORED_ENDS))
def test_bare_line_ends_stored_as_crlf(server, kind):
    sent, stored = STORED_ENDS[kind]
    tok = unique("ends")
    head = ("X-Test-Token: %s\r\nSubject: ends\r\n\r\n" % tok).encode()
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.cmd("DATA").expect(354)
        c.send(head + sent + b".\r\n")
        c.read_reply().expect(250)
    finally:
        c.quit()
    (data,) = server.find_token(USER, tok).values()
    assert data.endswith(head + stored), data[-200:]


def test_oversize_rejections_are_logged(server):
    c = mx(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test> SIZE=%d" % (MAX_SIZE + 1)).expect(552, "5.3.4")
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.cmd("DATA").expect(354)
        c.send(b"Subject: big\r\n\r\n" + b"x" * 1000 * 80 + b"\r\n.\r\n")
        c.read_reply().expect(552, "5.3.4")
    finally:
        c.quit()
    log = server.log()
    assert "smtp: refused MAIL with SIZE=%d over the limit of %d bytes" % (MAX_SIZE + 1, MAX_SIZE) in log
    assert "smtp: refused a message over the limit of %d bytes" % MAX_SIZE in log
    # each with the session id
    for line in log.splitlines():
        if "over the limit of" in line:
            assert " sid=" in line, line
