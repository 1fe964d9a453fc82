"""Sieve in delivery (issue 14 section 1, placement): the recipient's
active script runs on every local copy after DMARC, the virus check and
the spam action, before forwarding. fileinto files into a folder (made
when missing) that IMAP then shows; :copy and keep give several copies;
imap4flags marks the copy read; discard and reject keep nothing; redirect
goes through forwarding (its sending limits and loop protection); a
tagged spam message is not redirected unless the script tests spamtest;
a script that does not compile, or fails while running, still delivers to
the inbox and records why; Japanese subjects in ISO-2022-JP match."""

import base64
import imaplib
import os
import socket
import ssl
import time

import pytest

import helpers
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, unique
from protection_util import events

A = "alice@" + DOMAIN
B = "bob@" + DOMAIN
SENDER = "someone@remote.test"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = helpers.Server(tmp_path_factory.mktemp("sieve_delivery"), accounts=[(A,), (B,)]).setup()
    s.start()
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def put_script(srv, addr, text, name="rules", active=True):
    """Writes a script as ManageSieve stores it (sieve/NAME.sieve and the
    active mark), without checking it: a broken one gets through here."""
    d = os.path.join(srv.maildir(addr), "sieve")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".sieve"), "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    mark = os.path.join(d, "active")
    if active:
        with open(mark, "w") as f:
            f.write(name)
    elif os.path.exists(mark):
        os.unlink(mark)


def message(token, subject=None, extra=b""):
    subj = (subject if subject is not None else b"hello " + token.encode())
    return (b"From: <" + SENDER.encode() + b">\r\nTo: <" + A.encode() + b">\r\nSubject: " + subj +
            b"\r\nMessage-ID: <" + token.encode() + b"@remote.test>\r\n" + extra +
            b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nbody " + token.encode() + b"\r\n")


def send(srv, rcpts, msg, sender=SENDER):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail(sender, rcpts, msg)
        replies[-1].expect(250)
    finally:
        c.quit()


def folders_with(srv, addr, token):
    """{folder dir: [file names]} of the copies holding token ("" = INBOX)."""
    out = {}
    md = srv.maildir(addr)
    for entry in [""] + sorted(e for e in os.listdir(md) if e.startswith(".")):
        for sub in ("new", "cur"):
            d = os.path.join(md, entry, sub)
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    if token.encode() in f.read():
                        out.setdefault(entry, []).append(sub + "/" + name)
    return out


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def imap(srv, user):
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    m.login(user, PASSWORD)
    return m



def events_when(srv, kind, address, pred, timeout=15.0):
    """The events of one kind once pred holds for them (the event log is
    written behind the reply to DATA), or what there is at the timeout."""
    end = time.time() + timeout
    while True:
        ev = events(srv, kind, address)
        if pred(ev) or time.time() > end:
            return ev
        time.sleep(0.05)

def test_fileinto_a_new_folder_seen_by_imap(srv):
    put_script(srv, A, 'require ["fileinto"];\nif header :contains "subject" "report" {\n'
                       '  fileinto "Work/Reports";\n}\n')
    tok = unique("fi")
    send(srv, [A], message(tok, b"weekly report " + tok.encode()))
    assert list(folders_with(srv, A, tok)) == [".Work.Reports"], folders_with(srv, A, tok)
    other = unique("plain")
    send(srv, [A], message(other))
    assert list(folders_with(srv, A, other)) == [""]
    m = imap(srv, A)
    try:
        typ, lst = m.list()
        assert any(b'"Work/Reports"' in l or b" Work/Reports" in l for l in lst), lst
        typ, data = m.select('"Work/Reports"')
        assert typ == "OK" and int(data[0]) == 1, data
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert tok.encode() in data[0][1]
    finally:
        m.logout()
    ev = events_when(srv, "sieve-filed", A, lambda ev: ev and 'fileinto "Work/Reports" (line 3)' in ev[-1][2])
    assert ev and 'fileinto "Work/Reports" (line 3)' in ev[-1][2], ev
    ev = events_when(srv, "delivered", A, lambda ev: any("into .Work.Reports (mail filter)" in e[2] for e in ev))
    assert any("into .Work.Reports (mail filter)" in e[2] for e in ev), ev


def test_copy_keep_and_flags(srv):
    put_script(srv, A, 'require ["fileinto", "copy", "imap4flags"];\n'
                       'if header :contains "subject" "both" {\n'
                       '  fileinto :copy :flags "\\\\Flagged" "Archive";\n'
                       '  addflag "\\\\Seen";\n'
                       '}\n')
    tok = unique("both")
    send(srv, [A], message(tok, b"both " + tok.encode()))
    got = folders_with(srv, A, tok)
    assert sorted(got) == ["", ".Archive"], got
    assert got[""][0].startswith("cur/") and got[""][0].endswith(":2,S"), got
    assert got[".Archive"][0].startswith("cur/") and got[".Archive"][0].endswith(":2,F"), got
    m = imap(srv, A)
    try:
        m.select("INBOX")
        typ, data = m.search(None, "HEADER", "Message-ID", tok)
        uid = data[0].split()[-1]
        typ, data = m.fetch(uid, "(FLAGS)")
        assert b"\\Seen" in data[0], data
    finally:
        m.logout()


def test_discard_and_reject_keep_nothing(srv):
    put_script(srv, A, 'require ["reject"];\n'
                       'if header :contains "subject" "junkmail" { discard; stop; }\n'
                       'if header :contains "subject" "go away" { reject "not wanted"; }\n')
    tok = unique("disc")
    send(srv, [A], message(tok, b"junkmail " + tok.encode()))
    tok2 = unique("rej")
    send(srv, [A, B], message(tok2, b"go away " + tok2.encode()))   # one alone: 550 (test_sieve_reject)
    assert folders_with(srv, A, tok) == {} and folders_with(srv, A, tok2) == {}
    assert list(folders_with(srv, B, tok2)) == [""]
    assert any("discard (line 2)" in e[2] for e in
               events_when(srv, "sieve-filed", A, lambda ev: any("discard (line 2)" in e[2] for e in ev)))
    assert any("reject: not wanted" in e[2] for e in
               events_when(srv, "sieve-rejected", A, lambda ev: any("reject: not wanted" in e[2] for e in ev)))


def test_redirect_through_forwarding(srv):
    put_script(srv, A, 'if address :is "from" "%s" { redirect "%s"; }\n' % (SENDER, B))
    tok = unique("redir")
    send(srv, [A], message(tok))
    assert folders_with(srv, A, tok) == {}
    assert list(folders_with(srv, B, tok)) == [""]
    ev = events_when(srv, "forwarded", A, lambda ev: ev and B in ev[-1][2])
    assert ev and B in ev[-1][2], ev
    # redirect :copy keeps one here too
    put_script(srv, A, 'require "copy";\nredirect :copy "%s";\n' % B)
    tok = unique("redircopy")
    send(srv, [A], message(tok))
    assert list(folders_with(srv, A, tok)) == [""] and list(folders_with(srv, B, tok)) == [""]


def test_broken_script_still_delivers(srv):
    put_script(srv, A, 'if header :contains "subject" {\n  discard;\n')   # does not compile
    tok = unique("broken")
    send(srv, [A], message(tok))
    assert list(folders_with(srv, A, tok)) == [""]
    ev = events_when(srv, "sieve-error", A, lambda ev: ev and "does not compile" in ev[-1][2])
    assert ev and "does not compile" in ev[-1][2] and "kept in the inbox" in ev[-1][2], ev
    # the cache notices a changed file: a fixed script applies at once
    put_script(srv, A, 'discard;\n')
    tok = unique("fixed")
    send(srv, [A], message(tok))
    assert folders_with(srv, A, tok) == {}
    put_script(srv, A, "keep;\n", active=False)     # no active script: as before
    tok = unique("none")
    send(srv, [A], message(tok))
    assert list(folders_with(srv, A, tok)) == [""]


def test_japanese_subject_matches(srv):
    put_script(srv, A, 'require ["fileinto"];\nif header :contains "subject" "セール" {\n'
                       '  fileinto "宣伝";\n}\n')
    tok = unique("ja")
    subj = b"=?ISO-2022-JP?B?" + base64.b64encode("本日限りのセール".encode("iso-2022-jp")) + b"?= " + tok.encode()
    send(srv, [A], message(tok, subj))
    got = folders_with(srv, A, tok)
    assert len(got) == 1 and list(got)[0] != "", got
    m = imap(srv, A)
    try:
        typ, lst = m.list()
        assert any(b"&W6NPHQ-" in l for l in lst), lst     # 宣伝 in modified UTF-7
    finally:
        m.logout()


def test_each_recipient_its_own_script(srv):
    put_script(srv, A, "discard;\n")
    put_script(srv, B, 'require "fileinto";\nfileinto "FromA";\n')
    tok = unique("two")
    send(srv, [A, B], message(tok))
    assert folders_with(srv, A, tok) == {}
    assert list(folders_with(srv, B, tok)) == [".FromA"]
    put_script(srv, A, "keep;\n", active=False)
    put_script(srv, B, "keep;\n", active=False)


def test_yubinctl_sieve(srv, tmp_path):
    script = tmp_path / "s.sieve"
    script.write_text('require "fileinto";\nif header :contains "subject" "ctl" { fileinto "ByCtl"; }\n')
    out = srv.ctl("sieve", "put", A, "ctl", str(script)).out
    assert "script ctl stored" in out, out
    p = srv.ctl("sieve", "put", A, "bad", "-", input='if true {\n', check=False)
    assert p.returncode == 1 and p.err.startswith("yubinctl: line 2:"), p.err
    p = srv.ctl("sieve", "put", A, "a/b", str(script), check=False)
    assert p.returncode == 1 and "not a valid script name" in p.err, p.err
    srv.ctl("sieve", "activate", A, "ctl")
    import json
    rows = json.loads(srv.ctl("sieve", "list", A, "--json").out)
    assert {"name": "ctl", "size": script.stat().st_size, "active": True} in rows, rows
    assert srv.ctl("sieve", "get", A, "ctl").out == script.read_text()
    tok = unique("ctl")
    send(srv, [A], message(tok, b"ctl " + tok.encode()))
    assert list(folders_with(srv, A, tok)) == [".ByCtl"]
    p = srv.ctl("sieve", "del", A, "ctl", check=False)
    assert p.returncode == 1 and "active script" in p.err, p.err
    srv.ctl("sieve", "deactivate", A)
    srv.ctl("sieve", "rename", A, "ctl", "old")
    srv.ctl("sieve", "del", A, "old")
    assert "has no Sieve scripts" in srv.ctl("sieve", "list", A).out or "[active]" not in srv.ctl("sieve", "list", A).out
    audit = srv.ctl("audit", "--limit", "20").out
    for op in ("sieve.put", "sieve.activate", "sieve.deactivate", "sieve.rename", "sieve.delete"):
        assert op in audit, (op, audit)
    assert srv.ctl("sieve", "check", str(script)).out.endswith("the script is valid\n")
    p = srv.ctl("sieve", "get", "nobody@" + DOMAIN, "x", check=False)
    assert p.returncode == 1 and "no such account" in p.err, p.err


def test_include_global(srv):
    """include :global (RFC 6609): the server's scripts, DATA/sieve/NAME.sieve,
    managed by `yubinctl sieve global` (compiled before they are stored)."""
    p = srv.ctl("sieve", "global", "put", "common", "-", input="if header :contains \"subject\" {", check=False)
    assert p.returncode != 0 and "line 1" in p.err, p.err
    text = ('require ["fileinto"];\n'
            'if header :contains "subject" "global-tag" { fileinto "Global"; stop; }\n')
    srv.ctl("sieve", "global", "put", "common", "-", input=text)
    assert os.path.isfile(os.path.join(srv.data, "sieve", "common.sieve"))
    assert "common (" in srv.ctl("sieve", "global", "list").out
    assert srv.ctl("sieve", "global", "get", "common").out == text
    put_script(srv, A, 'require ["include"];\ninclude :global "common";\n')
    tok = unique("glob")
    send(srv, [A], message(tok, b"global-tag " + tok.encode()))
    assert list(folders_with(srv, A, tok)) == [".Global"]
    # a personal script of the same name is not the global one
    put_script(srv, A, 'require ["fileinto"];\nfileinto "Personal";\n', name="common", active=False)
    put_script(srv, A, 'require ["include"];\ninclude :global "common";\n')
    tok2 = unique("glob")
    send(srv, [A], message(tok2, b"global-tag " + tok2.encode()))
    assert list(folders_with(srv, A, tok2)) == [".Global"]
    srv.ctl("sieve", "global", "del", "common")
    assert "no global Sieve scripts" in srv.ctl("sieve", "global", "list").out
    p = srv.ctl("sieve", "global", "get", "common", check=False)
    assert p.returncode != 0 and "no global script" in p.err
    tok3 = unique("glob")
    send(srv, [A], message(tok3, b"global-tag " + tok3.encode()))   # missing now: delivered all the same
    assert list(folders_with(srv, A, tok3)) == [""]
    end = time.time() + 15     # the event log is written behind the reply
    while not any("common" in e[2] for e in events(srv, "sieve-error", A)) and time.time() < end:
        time.sleep(0.05)
    assert any("common" in e[2] for e in events(srv, "sieve-error", A))
    put_script(srv, A, "keep;\n")
