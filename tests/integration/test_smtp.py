"""SMTP on 25 (MX), 587 (submission, STARTTLS) and 465 (implicit TLS):
greeting, extensions, AUTH rules, delivery into the Maildir, relay refusal,
quota and size limits, and real clients (smtplib, swaks, openssl)."""

import imaplib
import os
import socket
import ssl
import subprocess
import time

import pytest

from helpers import (DOMAIN, HOST, HOSTNAME, PASSWORD, NamedSMTP_SSL, SMTPConn,
                     Server, make_message, smtp_submission, smtplib_starttls,
                     split_header_block, tls_context, unique, YUBIND)

USER = "user@" + DOMAIN
OTHER = "other@" + DOMAIN
DISABLED = "disabled@" + DOMAIN
FULL = "full@" + DOMAIN
TINY = "tiny@" + DOMAIN
MAX_SIZE = 10485760
FILLER_SIZE = 1100000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("smtp"),
                 config={"smtp.max_message_size": str(MAX_SIZE)},
                 accounts=[(USER,), (OTHER,), (DISABLED,), (FULL, PASSWORD, 1),
                           (TINY, PASSWORD, 1)]).setup()
    srv.ctl("account", "disable", DISABLED)
    # Fill full@'s 1 MB mailbox before the daemon first looks at it.
    md = srv.maildir(FULL)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    head = b"From: <filler@client.test>\r\nSubject: filler\r\n\r\n"
    body = (b"x" * 98 + b"\r\n") * ((FILLER_SIZE - len(head)) // 100 + 1)
    data = (head + body)[:FILLER_SIZE - 2] + b"\r\n"
    assert len(data) == FILLER_SIZE
    with open(os.path.join(md, "new", "1700000000.M1P1Q1.host,S=%d" % FILLER_SIZE), "wb") as f:
        f.write(data)
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def new_files(srv, addr, before):
    now = srv.messages(addr, folders=("new",))
    return {p: d for p, d in now.items() if p not in before}


def check_trace(data, msg, sender, rcpt, authenticated):
    """The stored file is trace headers + the message exactly."""
    assert data.endswith(msg), "stored message does not end with the sent message:\n%r" % data[:2000]
    prefix = data[:len(data) - len(msg)]
    headers, _ = split_header_block(prefix + b"\r\n")
    names = [n.lower() for n, _ in headers]
    for want in ("return-path", "received", "delivered-to"):
        assert want in names, "no %s in trace headers: %r" % (want, prefix)
    vals = {n.lower(): v.decode("latin-1") for n, v in headers}
    assert sender.lower() in vals["return-path"].lower(), vals["return-path"]
    assert rcpt.lower() in vals["delivered-to"].lower(), vals["delivered-to"]
    received = vals["received"]
    if authenticated:
        assert "ESMTPSA" in received, received
        assert "TLS" in received.upper().replace("ESMTPSA", ""), received
    else:
        assert "ESMTPSA" not in received, received
    return headers


# ---------------------------------------------------------------- greeting and EHLO

@pytest.mark.parametrize("port", ["smtp", "submission"])
def test_greeting_names_host(server, port):
    c = SMTPConn(server.port(port))
    try:
        assert c.greeting.code == 220, c.greeting
        assert c.greeting.lines[0].split()[0] == HOSTNAME, c.greeting
    finally:
        c.quit()


def test_greeting_names_host_465(server):
    c = SMTPConn(server.port("smtps"), tls_ctx=tls_context(server))
    try:
        assert c.greeting.code == 220, c.greeting
        assert c.greeting.lines[0].split()[0] == HOSTNAME, c.greeting
    finally:
        c.quit()


def _check_common_caps(c):
    for cap in ("PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE"):
        assert cap in c.caps, "EHLO lacks %s: %r" % (cap, c.caps)
    assert c.caps["SIZE"] == [str(MAX_SIZE)], c.caps["SIZE"]


@pytest.mark.parametrize("port", ["smtp", "submission"])
def test_ehlo_before_tls(server, port):
    c = SMTPConn(server.port(port))
    try:
        r = c.ehlo()
        r.expect(250)
        assert r.lines[0].split()[0] == HOSTNAME, r
        _check_common_caps(c)
        assert "STARTTLS" in c.caps, c.caps
        assert "AUTH" not in c.caps, "AUTH offered before TLS: %r" % c.caps
    finally:
        c.quit()


@pytest.mark.parametrize("port", ["smtp", "submission"])
def test_ehlo_after_starttls(server, port):
    c = SMTPConn(server.port(port))
    try:
        c.ehlo().expect(250)
        c.starttls(tls_context(server)).expect(220)
        c.ehlo().expect(250)
        _check_common_caps(c)
        assert "STARTTLS" not in c.caps, "STARTTLS offered again under TLS: %r" % c.caps
        assert "AUTH" in c.caps, c.caps
        mechs = [m.upper() for m in c.caps["AUTH"]]
        assert "PLAIN" in mechs and "LOGIN" in mechs, mechs
    finally:
        c.quit()


def test_ehlo_on_465(server):
    c = SMTPConn(server.port("smtps"), tls_ctx=tls_context(server))
    try:
        c.ehlo().expect(250)
        _check_common_caps(c)
        assert "STARTTLS" not in c.caps, c.caps
        mechs = [m.upper() for m in c.caps.get("AUTH", [])]
        assert "PLAIN" in mechs and "LOGIN" in mechs, c.caps
    finally:
        c.quit()


def test_starttls_twice_refused(server):
    c = smtp_submission(server)
    try:
        r = c.cmd("STARTTLS")
        assert r.code in (454, 500, 502, 503, 554), r
        assert c.cmd("NOOP").code == 250
    finally:
        c.quit()


# ---------------------------------------------------------------- AUTH

@pytest.mark.parametrize("port", ["smtp", "submission"])
@pytest.mark.parametrize("mech", ["plain", "login"])
def test_auth_before_starttls_refused(server, port, mech):
    c = SMTPConn(server.port(port))
    try:
        c.ehlo().expect(250)
        if mech == "plain":
            r = c.auth_plain(USER, PASSWORD)
        else:
            r = c.cmd("AUTH LOGIN")
        r.expect(538, "5.7.11")
        r = c.cmd("MAIL FROM:<%s>" % USER)
        if port == "submission":
            r.expect(530, "5.7.0")
        else:
            r.expect(250)
    finally:
        c.quit()


@pytest.mark.parametrize("tls_mode", ["starttls", "implicit"])
def test_auth_failures_identical(server, tls_mode):
    replies = []
    for user, pw in ((USER, "Wrong-pass-999"), ("nobody@" + DOMAIN, PASSWORD), (DISABLED, PASSWORD)):
        c = smtp_submission(server, tls_mode)
        try:
            r = c.auth_plain(user, pw)
            r.expect(535, "5.7.8")
            replies.append(r.text)
            # the session goes on and still refuses mail
            c.cmd("MAIL FROM:<%s>" % USER).expect(530, "5.7.0")
        finally:
            c.quit()
    assert replies[0] == replies[1] == replies[2], replies


def test_auth_login_wrong_password(server):
    c = smtp_submission(server)
    try:
        c.auth_login(USER, "Wrong-pass-999").expect(535, "5.7.8")
    finally:
        c.quit()


@pytest.mark.parametrize("tls_mode", ["starttls", "implicit"])
@pytest.mark.parametrize("mech", ["plain", "login"])
def test_auth_success(server, tls_mode, mech):
    c = smtp_submission(server, tls_mode)
    try:
        r = c.auth_plain(USER, PASSWORD) if mech == "plain" else c.auth_login(USER, PASSWORD)
        assert r.code == 235, r
        assert r.enh is not None and r.enh.startswith("2."), r
        # a second AUTH in the same session is a sequence error
        assert c.auth_plain(USER, PASSWORD).code == 503
    finally:
        c.quit()


def test_auth_login_name_is_full_address(server):
    c = smtp_submission(server)
    try:
        c.auth_plain("user", PASSWORD).expect(535, "5.7.8")
    finally:
        c.quit()


@pytest.mark.parametrize("where", ["587-plain", "587-tls", "465"])
def test_mail_before_auth_on_submission(server, where):
    if where == "587-plain":
        c = SMTPConn(server.port("submission"))
        c.ehlo().expect(250)
    elif where == "587-tls":
        c = smtp_submission(server, "starttls")
    else:
        c = smtp_submission(server, "implicit")
    try:
        c.cmd("MAIL FROM:<%s>" % USER).expect(530, "5.7.0")
    finally:
        c.quit()


# ---------------------------------------------------------------- submission delivery

@pytest.mark.parametrize("tls_mode", ["starttls", "implicit"])
def test_submission_local_delivery(server, tls_mode):
    before = server.messages(USER, folders=("new",))
    tok = unique("sub")
    msg = make_message(tok, sender=USER, rcpt=USER)
    c = smtp_submission(server, tls_mode)
    try:
        assert c.auth_plain(USER, PASSWORD).code == 235
        mail, rcpt, end = c.send_mail(USER, [USER], msg)
        mail.expect(250)
        rcpt.expect(250)
        end.expect(250)
    finally:
        c.quit()
    added = new_files(server, USER, before)
    assert len(added) == 1, "expected one new file in new/, got %r" % list(added)
    (path, data), = added.items()
    assert tok.encode() in data
    check_trace(data, msg, USER, USER, authenticated=True)
    assert "/mail/example.test/user/new/" in path


def queue_files(server):
    d = os.path.join(server.data, "queue")
    return sorted(n for n in os.listdir(d) if not n.startswith(".")) if os.path.isdir(d) else []


def queued_with(server, tok):
    d = os.path.join(server.data, "queue")
    out = []
    for n in queue_files(server):
        with open(os.path.join(d, n), "rb") as f:
            if tok.encode() in f.read():
                out.append(n)
    return out


@pytest.mark.parametrize("tls_mode", ["starttls", "implicit"])
def test_submission_remote_queued(server, tls_mode):
    """An authenticated sender's mail for another domain is queued (the
    file is on disk before the 250); a local recipient in the same
    transaction gets its copy at once."""
    tok = unique("remote" + tls_mode)
    before = server.messages(USER, folders=("new",))
    c = smtp_submission(server, tls_mode)
    try:
        assert c.auth_plain(USER, PASSWORD).code == 235
        c.cmd("MAIL FROM:<%s>" % USER).expect(250)
        c.cmd("RCPT TO:<someone@remote.test>").expect(250, "2.1.5")
        c.cmd("RCPT TO:<%s>" % USER).expect(250, "2.1.5")
        r = c.data(make_message(tok, sender=USER, rcpt="someone@remote.test"))
        r.expect(250, "2.0.0")
        assert "queued" in r.text, r
        # a domain literal or a relay trick is refused even when authenticated
        c.cmd("MAIL FROM:<%s>" % USER).expect(250)
        c.cmd("RCPT TO:<someone@[192.0.2.1]>").expect(550, "5.1.2")
        c.cmd("RCPT TO:<@relay.test:someone@remote.test>").expect(550, "5.1.2")
    finally:
        c.quit()
    assert len(queued_with(server, tok)) == 1
    assert len(new_files(server, USER, before)) == 1


def test_smtplib_submission_587(server):
    tok = unique("smtplib587")
    msg = make_message(tok, sender=USER, rcpt=OTHER)
    s = smtplib_starttls(server.port("submission"), tls_context(server))
    try:
        s.login(USER, PASSWORD)
        refused = s.sendmail(USER, [OTHER], msg)
        assert refused == {}
    finally:
        s.quit()
    found = server.find_token(OTHER, tok)
    assert len(found) == 1
    check_trace(list(found.values())[0], msg, USER, OTHER, authenticated=True)


def test_smtplib_submission_465(server):
    tok = unique("smtplib465")
    msg = make_message(tok, sender=USER, rcpt=OTHER)
    s = NamedSMTP_SSL(HOST, server.port("smtps"), context=tls_context(server),
                      local_hostname="client.test", timeout=20)
    try:
        s.ehlo()
        s.login(USER, PASSWORD)
        assert s.sendmail(USER, [OTHER], msg) == {}
    finally:
        s.quit()
    found = server.find_token(OTHER, tok)
    assert len(found) == 1
    check_trace(list(found.values())[0], msg, USER, OTHER, authenticated=True)


# ---------------------------------------------------------------- port 25 (MX)

def mx_session(server):
    c = SMTPConn(server.port("smtp"))
    c.ehlo().expect(250)
    return c


def test_mx_local_delivery(server):
    before = server.messages(USER, folders=("new",))
    tok = unique("mx")
    msg = make_message(tok)
    c = mx_session(server)
    try:
        mail, rcpt, end = c.send_mail("sender@client.test", [USER], msg)
        mail.expect(250)
        rcpt.expect(250)
        end.expect(250)
    finally:
        c.quit()
    added = new_files(server, USER, before)
    assert len(added) == 1, list(added)
    check_trace(list(added.values())[0], msg, "sender@client.test", USER, authenticated=False)


def test_mx_null_sender_accepted(server):
    tok = unique("bounce")
    msg = make_message(tok, sender="MAILER-DAEMON@client.test")
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.data(msg).expect(250)
    finally:
        c.quit()
    assert len(server.find_token(USER, tok)) == 1


def test_mx_two_local_recipients(server):
    tok = unique("two")
    msg = make_message(tok)
    c = mx_session(server)
    try:
        replies = c.send_mail("sender@client.test", [USER, OTHER], msg)
        assert [r.code for r in replies] == [250, 250, 250, 250], replies
    finally:
        c.quit()
    for addr in (USER, OTHER):
        found = server.find_token(addr, tok)
        assert len(found) == 1, (addr, list(found))
        check_trace(list(found.values())[0], msg, "sender@client.test", addr, authenticated=False)


def test_mx_unknown_user(server):
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<nosuchuser@%s>" % DOMAIN).expect(550, "5.1.1")
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
    finally:
        c.quit()


def test_mx_relay_refused(server):
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<%s>" % USER).expect(250)
        r = c.cmd("RCPT TO:<someone@remote.test>")
        r.expect(554, "5.7.1")
        assert "587" in r.text, r
        c.cmd("DATA").expect(503, "5.5.1")
    finally:
        c.quit()


RELAY_TRICKS = [
    "<user%remote.test@example.test>",
    "<remote.test!user@example.test>",
    '<"user@remote.test"@example.test>',
    "<@example.test:user@remote.test>",
    "<user@[127.0.0.1]>",
    "<user@example.test.>",
    "<user@remote.test@example.test>",
]


@pytest.mark.parametrize("arg", RELAY_TRICKS)
def test_mx_relay_tricks_refused(server, arg):
    before = server.messages(USER)
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        r = c.cmd("RCPT TO:" + arg)
        if arg == "<user@remote.test@example.test>" and r.code == 501:
            pass
        else:
            assert r.code in (550, 554) and r.enh == "5.7.1", "RCPT TO:%s -> %r" % (arg, r)
        # nothing was accepted, so there is nothing to send
        c.cmd("DATA").expect(503, "5.5.1")
    finally:
        c.quit()
    assert server.messages(USER) == before


@pytest.mark.parametrize("rcpt", ["USER@EXAMPLE.TEST", "User@Example.Test"])
def test_mx_address_case_insensitive(server, rcpt):
    before = server.messages(USER, folders=("new",))
    tok = unique("case")
    msg = make_message(tok, rcpt=rcpt)
    c = mx_session(server)
    try:
        replies = c.send_mail("sender@client.test", [rcpt], msg)
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    added = new_files(server, USER, before)
    assert len(added) == 1
    assert tok.encode() in list(added.values())[0]


def test_mx_8bit_body_kept_exactly(server):
    tok = unique("8bit")
    msg = make_message(tok, extra_body="日本語のメール — ünïcödé\r\n".encode("utf-8")).replace(
        b"charset=us-ascii", b"charset=utf-8").replace(
        b"Subject: test", "Subject: テスト test".encode("utf-8"))
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test> BODY=8BITMIME SMTPUTF8").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.data(msg).expect(250)
    finally:
        c.quit()
    found = server.find_token(USER, tok)
    assert len(found) == 1
    assert list(found.values())[0].endswith(msg)


def test_mx_rset_clears_transaction(server):
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
        c.cmd("RSET").expect(250)
        c.cmd("DATA").expect(503, "5.5.1")
        c.cmd("RCPT TO:<%s>" % USER).expect(503, "5.5.1")
    finally:
        c.quit()


# ---------------------------------------------------------------- quota and size

def test_over_quota_refused_at_rcpt(server):
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        r = c.cmd("RCPT TO:<%s>" % FULL)
        r.expect(552, "5.2.2")
        assert "full" in r.text.lower(), r
        # another recipient in the same transaction is still fine
        c.cmd("RCPT TO:<%s>" % USER).expect(250)
    finally:
        c.quit()
    assert len(server.messages(FULL)) == 1


def test_size_param_over_limit(server):
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test> SIZE=%d" % (MAX_SIZE + 1)).expect(552, "5.3.4")
        c.cmd("MAIL FROM:<sender@client.test> SIZE=%d" % (MAX_SIZE * 100)).expect(552, "5.3.4")
        # within the limit is fine
        c.cmd("MAIL FROM:<sender@client.test> SIZE=%d" % 1000).expect(250)
    finally:
        c.quit()


def test_size_param_over_quota_mailbox_still_refused(server):
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test> SIZE=500").expect(250)
        c.cmd("RCPT TO:<%s>" % FULL).expect(552, "5.2.2")
    finally:
        c.quit()


# ---------------------------------------------------------------- real command-line clients

def _swaks(server, port, tls_flag, tok, to=USER):
    cmd = ["swaks", "--server", "%s:%d" % (HOST, port), tls_flag,
           "--auth", "PLAIN", "--auth-user", USER, "--auth-password", PASSWORD,
           "--to", to, "--from", USER, "--header", "Subject: swaks " + tok,
           "--body", "swaks body " + tok, "--timeout", "20"]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)


def test_swaks_587_starttls(server):
    tok = unique("swaks587")
    p = _swaks(server, server.port("submission"), "--tls", tok)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert len(server.find_token(USER, tok)) == 1, out


def test_swaks_465_implicit_tls(server):
    tok = unique("swaks465")
    p = _swaks(server, server.port("smtps"), "--tlsc", tok)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert len(server.find_token(USER, tok)) == 1, out


def test_swaks_remote_queued(server):
    tok = unique("swaksremote")
    p = _swaks(server, server.port("submission"), "--tls", tok, to="someone@remote.test")
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert "queued" in out, out
    assert len(queued_with(server, tok)) == 1


@pytest.mark.parametrize("port,starttls", [("smtps", None), ("submission", "smtp"), ("smtp", "smtp")])
def test_openssl_s_client_verifies(server, port, starttls):
    cmd = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, server.port(port)),
           "-servername", HOSTNAME, "-verify_hostname", HOSTNAME,
           "-CAfile", server.crt, "-verify_return_error"]
    if starttls:
        cmd += ["-starttls", starttls]
    p = subprocess.run(cmd, input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert "Verify return code: 0 (ok)" in out, out
    assert "TLSv1.2" in out or "TLSv1.3" in out, out



def test_message_larger_than_free_quota_refused(server):
    """An empty 1 MB mailbox takes RCPT, but a 1.5 MB message for it is
    refused at the end of DATA rather than stored over quota."""
    tok = unique("tiny")
    msg = make_message(tok, size=1500000)
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % TINY).expect(250)
        c.data(msg).expect(552, "5.2.2")
        c.cmd("NOOP").expect(250)
    finally:
        c.quit()
    assert server.find_token(TINY, tok) == {}


def test_helo_instead_of_ehlo(server):
    tok = unique("helo")
    msg = make_message(tok)
    c = SMTPConn(server.port("smtp"))
    try:
        r = c.cmd("HELO client.test")
        assert r.code == 250, r
        replies = c.send_mail("sender@client.test", [USER], msg)
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    assert len(server.find_token(USER, tok)) == 1


def test_port25_starttls_auth(server):
    """OP25B clients may authenticate on 25 after STARTTLS."""
    before = server.messages(USER, folders=("new",))
    tok = unique("op25b")
    msg = make_message(tok, sender=USER)
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.starttls(tls_context(server)).expect(220)
        c.ehlo().expect(250)
        assert c.auth_plain(USER, PASSWORD).code == 235
        mail, rcpt, end = c.send_mail(USER, [USER], msg)
        assert (mail.code, rcpt.code, end.code) == (250, 250, 250), (mail, rcpt, end)
        c.cmd("MAIL FROM:<%s>" % USER).expect(250)
        # authenticated on 25: other domains are accepted (queued)
        c.cmd("RCPT TO:<someone@remote.test>").expect(250)
        c.cmd("RSET").expect(250)
    finally:
        c.quit()
    added = new_files(server, USER, before)
    assert len(added) == 1
    check_trace(list(added.values())[0], msg, USER, USER, authenticated=True)


def test_pop3_dele_frees_quota(server):
    """Last: emptying full@'s mailbox by POP3 makes it take mail again."""
    from helpers import pop3_session
    c = pop3_session(server, FULL)
    try:
        r = c.cmd("DELE 1")
        assert r.startswith(b"+OK"), r
    finally:
        c.quit()
    c = mx_session(server)
    try:
        c.cmd("MAIL FROM:<sender@client.test>").expect(250)
        c.cmd("RCPT TO:<%s>" % FULL).expect(250)
        c.data(make_message(unique("room"))).expect(250)
    finally:
        c.quit()


def test_reload_settings_and_certificate(new_server):
    """`yubinctl config set` while the daemon runs reloads (SIGHUP): the new
    limit is in the next EHLO, and a new certificate for the same host name
    is served to new TLS connections while old ones keep working (the
    replaced TLS context is freed at shutdown: the sanitizer build checks
    for leaks)."""
    srv = new_server()
    old = SMTPConn(srv.port("smtps"), tls_ctx=tls_context(srv))
    old.ehlo().expect(250)
    with open(srv.crt, "rb") as f:
        first = f.read()
    srv.ctl("config", "set", "smtp.max_message_size", "123456")
    # a fresh self-signed certificate for the same name, then reload again
    key = srv.crt[:-len(".crt")] + ".key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=" + HOSTNAME,
                    "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % HOSTNAME,
                    "-keyout", key + ".new", "-out", srv.crt + ".new"],
                   check=True, capture_output=True)
    os.replace(key + ".new", key)
    os.replace(srv.crt + ".new", srv.crt)
    with open(srv.crt, "rb") as f:
        assert f.read() != first
    srv.ctl("config", "set", "smtp.max_message_size", "234567")
    # the reload runs when yubind takes the signal: new connections get the
    # new certificate and limit within moments
    deadline = time.time() + 10
    while True:
        try:
            c = SMTPConn(srv.port("smtps"), tls_ctx=tls_context(srv))
            r = c.ehlo()
            c.quit()
            if "SIZE 234567" in r.lines:
                break
        except ssl.SSLError:
            pass
        assert time.time() < deadline, "the new certificate and limit were not served"
        time.sleep(0.05)
    r = old.ehlo()
    r.expect(250)
    old.quit()


def test_rcpt_postmaster_without_domain(new_server):
    """RFC 5321 section 4.5.1: RCPT TO:<Postmaster> with no domain reaches the
    postmaster of the host name's domain (mail.example.test -> example.test)."""
    pm = "postmaster@" + DOMAIN
    srv = new_server(accounts=[(USER, PASSWORD, None), (pm, PASSWORD, None)])
    tok = unique("postmaster")
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail("someone@client.test", ["Postmaster"], make_message(tok))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    assert len(srv.find_token(pm, tok)) == 1
    # without a postmaster account the reply says so
    srv.ctl("account", "del", pm)
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        c.cmd("MAIL FROM:<someone@client.test>").expect(250)
        c.cmd("RCPT TO:<postmaster>").expect(550, "5.1.1")
    finally:
        c.quit()


# ---------------------------------------------------------------- issue 9: TLS suites

@pytest.mark.parametrize("suites,accepted", [
    ("ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:AES128-SHA256", False),
    ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256", True),
    ("ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305", True),
])
def test_tls12_offers_aead_suites_only(server, suites, accepted):
    """TLS 1.2 on 465 with one kind of suite offered: CBC ones are refused,
    AES-GCM and ChaCha20-Poly1305 accepted (openssl s_client)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (HOST, server.port("smtps")),
                        "-servername", HOSTNAME, "-tls1_2", "-cipher", suites, "-ign_eof"],
                       input=b"QUIT\r\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    if accepted:
        # (the return code is not looked at: the server closes after 221
        # without a TLS close_notify, which s_client reports as an error)
        assert "220 mail.example.test ESMTP" in out and "221 2.0.0" in out, out
        cipher = [l for l in out.splitlines() if "Cipher is" in l]
        assert cipher and any(n in cipher[0] for n in ("GCM", "CHACHA20")), out
    else:
        assert p.returncode != 0 and "220 " not in out, out


# ---------------------------------------------------------------- issue 9: one daemon per data directory

def test_second_daemon_on_same_data_refused(new_server):
    srv = new_server()
    pidfile = os.path.join(srv.data, "yubind.pid")
    with open(pidfile) as f:
        first = f.read().strip()
    assert first == str(srv.proc.pid)
    p = subprocess.run([YUBIND, "-d", srv.data], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode != 0, out
    assert "another yubind (pid %s) is already running on %s" % (first, os.path.realpath(srv.data)) in out, out
    assert "listen:" not in out, out   # refused before binding anything
    # the first one is untouched: same pid file, still serving
    with open(pidfile) as f:
        assert f.read().strip() == first
    c = SMTPConn(srv.port("smtp"))
    c.cmd("NOOP").expect(250)
    c.quit()
    # once it stops, a new one starts on the same data directory
    assert srv.stop() == 0
    assert not os.path.exists(pidfile)
    srv.start()
    c = SMTPConn(srv.port("smtp"))
    c.cmd("NOOP").expect(250)
    c.quit()


# ---------------------------------------------------------------- issue 9: long passwords

def _long_password(seed):
    base = "Kq7-x!pW2zR9_%s" % seed
    return (base * 20)[:128]


class _IMAPS(imaplib.IMAP4_SSL):
    """IMAP4_SSL to 127.0.0.1 that checks the certificate for mail.example.test."""

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def _logins_work(srv, user, password):
    """SMTP AUTH PLAIN and LOGIN, IMAP LOGIN and AUTHENTICATE PLAIN, POP3
    USER/PASS and AUTH PLAIN, each with password."""
    from helpers import POP3Conn
    ctx = tls_context(srv)
    for mech in ("plain", "login"):
        c = smtp_submission(srv)
        r = c.auth_plain(user, password) if mech == "plain" else c.auth_login(user, password)
        r.expect(235)
        c.quit()
    for mech in ("login", "authenticate"):
        m = _IMAPS(HOST, srv.port("imaps"), ssl_context=ctx, timeout=20)
        if mech == "login":
            typ, _ = m.login(user, password)
        else:
            typ, _ = m.authenticate("PLAIN", lambda _: b"\0" + user.encode() + b"\0" + password.encode())
        assert typ == "OK"
        m.logout()
    for mech in ("pass", "plain"):
        c = POP3Conn(srv.port("pop3s"), tls_ctx=ctx)
        r = c.login(user, password) if mech == "pass" else c.auth_plain(user, password)
        assert r.startswith(b"+OK"), (mech, r)
        c.quit()


def test_128_character_password_everywhere(new_server):
    pw = _long_password("a")
    assert len(pw) == 128
    srv = new_server(accounts=[(USER, pw, None)])
    _logins_work(srv, USER, pw)
    # yubinctl account passwd takes one as long, and the old one stops working
    pw2 = _long_password("b")
    srv.ctl("account", "passwd", USER, "--password-stdin", input=pw2 + "\n")
    _logins_work(srv, USER, pw2)
    c = smtp_submission(srv)
    c.auth_plain(USER, pw).expect(535)
    c.quit()
    # 129 is one too many
    p = srv.ctl("account", "passwd", USER, "--password-stdin", input=pw2 + "x\n", check=False)
    assert p.returncode != 0 and "8 to 128 characters" in p.err + p.out


# ---------------------------------------------------------------- issue 9: a bounce that cannot be written

def test_failed_expiry_bounce_keeps_the_message(new_server):
    """The queue lifetime runs out while the sender's mailbox cannot take
    the bounce (its tmp/ is not a directory): the message stays queued and
    the bounce is tried again until it is written."""
    import outbound_util as ou
    srv = new_server(config={"queue.lifetime": "2", "queue.retry_min": "1", "queue.retry_max": "1"})
    tmp = os.path.join(srv.maildir(USER), "tmp")
    os.rename(tmp, tmp + ".saved")
    with open(tmp, "w") as f:
        f.write("not a directory\n")
    tok = unique("lost")
    qid = ou.inject(srv, USER, ["bob@remote.test"],
                    ("From: <%s>\r\nTo: <bob@remote.test>\r\nSubject: lost %s\r\n\r\nbody\r\n"
                     % (USER, tok)).encode())
    def failed_bounces():
        return [l for l in srv.log().splitlines() if "id=%s expiry bounce" % qid in l and "failed" in l]
    # two failed bounces: the first one left the message queued for a retry
    assert ou.wait_for(lambda: len(failed_bounces()) >= 2, timeout=30), srv.log_tail()
    assert "stays queued" in failed_bounces()[0]
    assert qid in ou.queue_files(srv)
    assert "id=%s removed" % qid not in srv.log()
    os.unlink(tmp)
    os.rename(tmp + ".saved", tmp)
    assert ou.wait_for(lambda: not ou.queue_files(srv), timeout=30), srv.log_tail()
    (dsn,) = [d for d in srv.messages(USER).values() if b"multipart/report" in d]
    assert b"Subject: lost " + tok.encode() in dsn and b"expired after" in dsn
