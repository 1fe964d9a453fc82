"""POP3 on 110 (STLS) and 995: capabilities, login rules, the maildrop
commands over mail delivered by SMTP, UIDL stability, deletion semantics,
mailbox locking, and password changes seen by a running daemon."""

import base64
import os
import poplib
import subprocess
import time

import pytest

from helpers import (DOMAIN, HOST, HOSTNAME, PASSWORD, NamedPOP3_SSL, POP3Conn,
                     SMTPConn, Server, make_message, pop3_session, smtp_submission,
                     tls_context, unique, Closed)

USER = "user@" + DOMAIN
BOXES = ["p%d@%s" % (i, DOMAIN) for i in range(1, 11)]
DISABLED = "off@" + DOMAIN
NEW_PASSWORD = "Changed-pw-456"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("pop3"),
                 accounts=[(USER,), (DISABLED,)] + [(b,) for b in BOXES]).setup()
    srv.ctl("account", "disable", DISABLED)
    srv.start()
    yield srv
    srv.stop()
    rep = srv.sanitizer_report()
    assert rep is None, rep


def deliver(server, rcpt, n=1, extra_body=b""):
    """Sends n messages to rcpt over port 25; returns [(token, message)]."""
    out = []
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        for _ in range(n):
            tok = unique("pop")
            msg = make_message(tok, rcpt=rcpt, extra_body=extra_body)
            replies = c.send_mail("sender@client.test", [rcpt], msg)
            assert [r.code for r in replies] == [250, 250, 250], replies
            out.append((tok, msg))
    finally:
        c.quit()
    return out


def ok(r):
    assert r.startswith(b"+OK"), r
    return r


def capa(c):
    first, lines = c.multi("CAPA")
    ok(first)
    caps = {}
    for ln in lines:
        parts = ln.decode().split()
        caps[parts[0].upper()] = [p.upper() for p in parts[1:]]
    return caps


def find_number(obj, word):
    """The numeric value of the first key containing word, searched
    recursively through a JSON object."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if word in k.lower() and isinstance(v, (int, float)) and not isinstance(v, bool):
                return v
        for v in obj.values():
            r = find_number(v, word)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_number(v, word)
            if r is not None:
                return r
    return None


def login_retry(server, user, password=PASSWORD, timeout=5.0):
    """Logs in, retrying while a just-dropped session still holds the lock."""
    deadline = time.time() + timeout
    while True:
        c = POP3Conn(server.port("pop3"))
        ok(c.stls(tls_context(server)))
        r = c.login(user, password)
        if r.startswith(b"+OK"):
            return c
        c.close()
        assert b"[IN-USE]" in r and time.time() < deadline, r
        time.sleep(0.2)


# ---------------------------------------------------------------- greeting and CAPA

def test_greeting(server):
    c = POP3Conn(server.port("pop3"))
    try:
        assert c.greeting.startswith(b"+OK"), c.greeting
    finally:
        c.quit()


def test_capa_before_tls(server):
    c = POP3Conn(server.port("pop3"))
    try:
        caps = capa(c)
        for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
            assert cap in caps, (cap, caps)
        assert "USER" not in caps, caps
        assert "PLAIN" not in caps.get("SASL", []), caps
    finally:
        c.quit()


def test_capa_after_stls(server):
    c = POP3Conn(server.port("pop3"))
    try:
        ok(c.stls(tls_context(server)))
        caps = capa(c)
        for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER"):
            assert cap in caps, (cap, caps)
        assert "PLAIN" in caps.get("SASL", []), caps
        assert "STLS" not in caps, caps
    finally:
        c.quit()


def test_capa_995(server):
    c = POP3Conn(server.port("pop3s"), tls_ctx=tls_context(server))
    try:
        assert c.greeting.startswith(b"+OK"), c.greeting
        caps = capa(c)
        assert "USER" in caps and "PLAIN" in caps.get("SASL", []), caps
        assert "STLS" not in caps, caps
    finally:
        c.quit()


def test_stls_twice_refused(server):
    c = POP3Conn(server.port("pop3"))
    try:
        ok(c.stls(tls_context(server)))
        assert c.cmd("STLS").startswith(b"-ERR")
        assert c.cmd("NOOP").startswith((b"-ERR", b"+OK"))
    finally:
        c.quit()


@pytest.mark.parametrize("port,starttls", [("pop3s", None), ("pop3", "pop3")])
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


# ---------------------------------------------------------------- login

def test_login_before_stls_refused(server):
    c = POP3Conn(server.port("pop3"))
    try:
        r = c.login(USER, PASSWORD)
        assert r.startswith(b"-ERR"), r
        r = c.auth_plain(USER, PASSWORD)
        assert r.startswith(b"-ERR"), r
        assert c.cmd("STAT").startswith(b"-ERR")
    finally:
        c.quit()


def test_poplib_stls_login(server):
    p = poplib.POP3(HOST, server.port("pop3"), timeout=20)
    try:
        p.host = HOSTNAME  # the name poplib checks the certificate against
        p.stls(tls_context(server))
        p.user(USER)
        assert p.pass_(PASSWORD).startswith(b"+OK")
        count, size = p.stat()
        assert count >= 0 and size >= 0
    finally:
        p.quit()


def test_poplib_pop3_ssl_login(server):
    p = NamedPOP3_SSL(HOST, server.port("pop3s"), context=tls_context(server), timeout=20)
    try:
        p.user(USER)
        assert p.pass_(PASSWORD).startswith(b"+OK")
        p.stat()
    finally:
        p.quit()


def test_auth_plain_initial_response(server):
    c = POP3Conn(server.port("pop3"))
    try:
        ok(c.stls(tls_context(server)))
        ok(c.auth_plain(USER, PASSWORD))
        ok(c.cmd("STAT"))
    finally:
        c.quit()


def test_auth_plain_continuation(server):
    c = POP3Conn(server.port("pop3s"), tls_ctx=tls_context(server))
    try:
        r = c.cmd("AUTH PLAIN")
        assert r.startswith(b"+"), r
        tok = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
        ok(c.cmd(tok))
        ok(c.cmd("STAT"))
    finally:
        c.quit()


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "disabled"])
def test_login_failures(server, who):
    user, pw = {"wrong-password": (USER, "Wrong-pass-999"),
                "unknown-user": ("ghost@" + DOMAIN, PASSWORD),
                "disabled": (DISABLED, PASSWORD)}[who]
    c = POP3Conn(server.port("pop3"))
    try:
        ok(c.stls(tls_context(server)))
        r = c.login(user, pw)
        assert r.startswith(b"-ERR [AUTH]"), r
        assert c.cmd("STAT").startswith(b"-ERR")
    finally:
        c.quit()


def test_auth_plain_wrong_password(server):
    c = POP3Conn(server.port("pop3"))
    try:
        ok(c.stls(tls_context(server)))
        r = c.auth_plain(USER, "Wrong-pass-999")
        assert r.startswith(b"-ERR [AUTH]"), r
    finally:
        c.quit()


def test_commands_before_login(server):
    c = POP3Conn(server.port("pop3"))
    try:
        for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 0"):
            assert c.cmd(cmd).startswith(b"-ERR"), cmd
    finally:
        c.quit()


# ---------------------------------------------------------------- maildrop commands

def test_stat_list_uidl_top_retr(server):
    box = BOXES[0]
    sent = deliver(server, box, n=3, extra_body=b".a line starting with a dot\r\n..two dots\r\n")
    files = server.messages(box)
    assert len(files) == 3
    by_token = {}
    for tok, msg in sent:
        (path, data), = [(p, d) for p, d in files.items() if tok.encode() in d]
        by_token[tok] = (msg, data)

    c = pop3_session(server, box)
    try:
        r = ok(c.cmd("STAT"))
        n, total = map(int, r.split()[1:3])
        assert n == 3, r
        assert total == sum(len(d) for d in files.values()), (r, [len(d) for d in files.values()])

        first, lines = c.multi("LIST")
        ok(first)
        sizes = {}
        for ln in lines:
            num, size = ln.split()
            sizes[int(num)] = int(size)
        assert sorted(sizes) == [1, 2, 3], lines

        first, lines = c.multi("UIDL")
        ok(first)
        uids = {}
        for ln in lines:
            num, uid = ln.split()
            uids[int(num)] = uid
            assert 1 <= len(uid) <= 70 and all(0x21 <= ch <= 0x7e for ch in uid), uid
        assert sorted(uids) == [1, 2, 3] and len(set(uids.values())) == 3, lines

        seen = set()
        for num in (1, 2, 3):
            r = ok(c.cmd("LIST %d" % num))
            assert r.split()[1:3] == [str(num).encode(), str(sizes[num]).encode()], r
            r = ok(c.cmd("UIDL %d" % num))
            assert r.split()[1:3] == [str(num).encode(), uids[num]], r

            first, lines = c.multi("RETR %d" % num)
            ok(first)
            got = b"\r\n".join(lines) + b"\r\n"
            tok = [t for t in by_token if t.encode() in got]
            assert len(tok) == 1, got[:500]
            msg, stored = by_token[tok[0]]
            seen.add(tok[0])
            assert got == stored, "RETR differs from the Maildir file"
            assert got.endswith(msg), "RETR does not end with the message as sent"
            assert len(got) == sizes[num], (len(got), sizes[num])

            first, top0 = c.multi("TOP %d 0" % num)
            ok(first)
            head_end = stored.index(b"\r\n\r\n") + 2
            assert b"\r\n".join(top0) + b"\r\n" == stored[:head_end] + b"\r\n", top0
            first, top2 = c.multi("TOP %d 2" % num)
            ok(first)
            body_lines = stored[head_end + 2:].split(b"\r\n")
            assert top2 == top0 + body_lines[:2], top2[-3:]
        assert seen == set(by_token)

        assert c.cmd("RETR 4").startswith(b"-ERR")
        assert c.cmd("LIST 0").startswith(b"-ERR")
        assert c.cmd("TOP 9 1").startswith(b"-ERR")
        ok(c.cmd("NOOP"))
    finally:
        ok(c.quit())
    # nothing was deleted
    assert len(server.messages(box)) == 3


def test_poplib_retr_matches(server):
    box = BOXES[7]
    (tok, msg), = deliver(server, box, n=1, extra_body=b".dot\r\n")
    p = NamedPOP3_SSL(HOST, server.port("pop3s"), context=tls_context(server), timeout=20)
    try:
        p.user(box)
        p.pass_(PASSWORD)
        assert p.stat()[0] == 1
        resp, lines, octets = p.retr(1)
        got = b"\r\n".join(lines) + b"\r\n"
        assert got.endswith(msg)
        assert tok.encode() in got
    finally:
        p.quit()


def test_pipelined_commands(server):
    box = BOXES[8]
    deliver(server, box, n=2)
    c = pop3_session(server, box)
    try:
        c.send(b"STAT\r\nLIST\r\nUIDL 2\r\nNOOP\r\n")
        r = ok(c.readline())
        assert r.split()[1] == b"2", r
        ok(c.readline())
        assert len(c.read_multi()) == 2
        assert ok(c.readline()).split()[1] == b"2"
        ok(c.readline())
    finally:
        c.quit()


def test_uidl_stable_across_sessions_and_restart(server):
    box = BOXES[1]
    deliver(server, box, n=3)

    def snapshot():
        c = pop3_session(server, box)
        try:
            stat = ok(c.cmd("STAT")).split()[1:3]
            first, lines = c.multi("UIDL")
            ok(first)
        finally:
            ok(c.quit())
        return stat, lines

    s1 = snapshot()
    assert s1[0][0] == b"3"
    s2 = snapshot()
    assert s2 == s1
    server.restart()
    s3 = snapshot()
    assert s3 == s1
    # a new message keeps the old ones' UIDs
    deliver(server, box, n=1)
    stat4, lines4 = snapshot()
    assert stat4[0] == b"4"
    old = {ln.split()[1] for ln in s1[1]}
    new = {ln.split()[1] for ln in lines4}
    assert old < new


def test_dele_quit_removes(server):
    box = BOXES[2]
    deliver(server, box, n=2)
    usage_before = find_number(server.account_json(box), "usage")
    assert usage_before is not None, server.account_json(box)
    assert usage_before > 0
    c = pop3_session(server, box)
    try:
        ok(c.cmd("DELE 1"))
        assert c.cmd("DELE 1").startswith(b"-ERR")
        assert c.cmd("RETR 1").startswith(b"-ERR")
        ok(c.cmd("DELE 2"))
        r = ok(c.cmd("STAT"))
        assert r.split()[1:3] == [b"0", b"0"], r
    finally:
        ok(c.quit())
    assert server.messages(box) == {}
    c = pop3_session(server, box)
    try:
        assert ok(c.cmd("STAT")).split()[1:3] == [b"0", b"0"]
    finally:
        c.quit()
    usage_after = find_number(server.account_json(box), "usage")
    assert usage_after < usage_before, (usage_before, usage_after)
    assert usage_after == 0


def test_dele_rset_quit_keeps(server):
    box = BOXES[3]
    deliver(server, box, n=2)
    c = pop3_session(server, box)
    try:
        ok(c.cmd("DELE 1"))
        ok(c.cmd("DELE 2"))
        ok(c.cmd("RSET"))
        assert ok(c.cmd("STAT")).split()[1] == b"2"
        ok(c.cmd("RETR 1"))
        assert c.read_multi()
    finally:
        ok(c.quit())
    assert len(server.messages(box)) == 2
    c = pop3_session(server, box)
    try:
        assert ok(c.cmd("STAT")).split()[1] == b"2"
    finally:
        c.quit()


def test_dele_then_drop_keeps(server):
    box = BOXES[4]
    deliver(server, box, n=2)
    c = pop3_session(server, box)
    ok(c.cmd("DELE 1"))
    ok(c.cmd("DELE 2"))
    c.abort()
    time.sleep(0.5)
    assert len(server.messages(box)) == 2
    c = login_retry(server, box)
    try:
        assert ok(c.cmd("STAT")).split()[1] == b"2"
    finally:
        c.quit()


def test_second_session_in_use(server):
    box = BOXES[5]
    a = pop3_session(server, box)
    try:
        b = POP3Conn(server.port("pop3"))
        try:
            ok(b.stls(tls_context(server)))
            r = b.login(box, PASSWORD)
            assert r.startswith(b"-ERR [IN-USE]"), r
        finally:
            b.quit()
        # the same over 995 and AUTH PLAIN
        b = POP3Conn(server.port("pop3s"), tls_ctx=tls_context(server))
        try:
            r = b.auth_plain(box, PASSWORD)
            assert r.startswith(b"-ERR [IN-USE]"), r
        finally:
            b.quit()
        ok(a.cmd("STAT"))
    finally:
        ok(a.quit())
    c = login_retry(server, box, timeout=2)
    c.quit()


def test_retr_after_an_imap_session_moved_the_files(server):
    """A POP3 session lists files an MDA put into new/; an IMAP SELECT then
    moves them to cur/ (70 of them, all in new/: new/ and cur/ change
    places at once). The POP3 session still reads and deletes every one.
    (Written into new/ here: a delivery over SMTP may have the files moved
    by the search indexer before the POP3 session lists them.)"""
    from test_imap_rfc import Raw
    box = BOXES[9]
    root = server.maildir(box)
    newdir = os.path.join(root, "new")
    toks = []
    for i in range(70):
        tok = unique("mda")
        name = "%d.M%dP%dQ%d.mda" % (1700000000 + i, i, os.getpid(), i)
        tmp = os.path.join(root, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(b"Subject: %s\r\n\r\n%s\r\n" % (tok.encode(), tok.encode()))
        os.rename(tmp, os.path.join(newdir, name))
        toks.append(tok)
    c = pop3_session(server, box)
    try:
        first, lines = c.multi("UIDL")
        ok(first)
        assert len(lines) == 70
        assert len(os.listdir(newdir)) == 70
        imap = Raw(server)
        imap.ok("LOGIN %s %s" % (box, PASSWORD))
        unt, _ = imap.ok("SELECT INBOX")
        assert b"* 70 EXISTS" in unt and b"* 70 RECENT" in unt, unt
        imap.close()
        assert os.listdir(newdir) == []
        cur = os.listdir(os.path.join(root, "cur"))
        assert len(cur) == 70 and not any(":" in n for n in cur), cur[:3]
        for num in range(1, 71):
            first, lines = c.multi("RETR %d" % num)
            ok(first)
            assert lines[0] == b"Subject: " + toks[num - 1].encode(), lines
        ok(c.cmd("DELE 1"))
        ok(c.cmd("DELE 70"))
    finally:
        ok(c.quit())
    assert len(os.listdir(os.path.join(root, "cur"))) == 68


def test_password_change_while_running(server):
    box = BOXES[6]
    c = pop3_session(server, box)
    c.quit()
    server.ctl("account", "passwd", box, "--password-stdin", input=NEW_PASSWORD + "\n")
    # POP3: new works, old fails
    c = POP3Conn(server.port("pop3"))
    try:
        ok(c.stls(tls_context(server)))
        r = c.login(box, PASSWORD)
        assert r.startswith(b"-ERR [AUTH]"), r
    finally:
        c.quit()
    c = pop3_session(server, box, password=NEW_PASSWORD)
    c.quit()
    # SMTP AUTH: new works, old fails
    s = smtp_submission(server)
    try:
        s.auth_plain(box, PASSWORD).expect(535, "5.7.8")
    finally:
        s.quit()
    s = smtp_submission(server, "implicit")
    try:
        assert s.auth_plain(box, NEW_PASSWORD).code == 235
    finally:
        s.quit()


# ---------------------------------------------------------------- hostile input

@pytest.mark.parametrize("line", [b"STAT\x00", b"US\x00ER x", b"X" * 100000, b"\xff\xfe\x00junk"],
                         ids=["nul-end", "nul-mid", "100k-line", "binary"])
def test_hostile_command_lines(server, line):
    c = POP3Conn(server.port("pop3"))
    try:
        try:
            r = c.cmd(line)
        except (Closed, ConnectionResetError):
            r = None
        if r is not None:
            assert r.startswith(b"-ERR"), r
    finally:
        c.close()
    c = POP3Conn(server.port("pop3"))
    try:
        assert c.greeting.startswith(b"+OK")
        first, lines = c.multi("CAPA")
        ok(first)
        assert b"UIDL" in lines
    finally:
        c.quit()
