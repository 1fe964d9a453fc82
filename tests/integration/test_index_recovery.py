"""A damaged mail index (index.db) while the daemon runs: the daemon sets it
aside, rebuilds it from the Maildir and records an index-rebuilt event that
yubinctl doctor explains; an IMAP client keeps working with its messages
and flags. And yubinctl index rebuild, with and without --force, while the
daemon runs and an IMAP session is open."""

import glob
import imaplib
import os
import re
import socket
import sqlite3
import ssl
import time

import pytest

from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, make_message, running_server

USER = "user@" + DOMAIN


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def login(server):
    m = IMAPS(HOST, server.port("imaps"), ssl_context=ssl.create_default_context(cafile=server.crt),
              timeout=20)
    m.login(USER, PASSWORD)
    return m


def deliver(server, token):
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail("sender@client.test", [USER], make_message(token))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()


def select(m):
    typ, data = m.select("INBOX")
    assert typ == "OK", data
    typ, data = m.response("UIDVALIDITY")
    return int(data[0])


def fetch_all(m):
    """{token: (uid, flags)} of every message in the selected folder."""
    typ, data = m.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta = item[0].decode()
        subject = item[1].decode()
        uid = int(re.search(r"UID (\d+)", meta).group(1))
        flags = set(re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split())
        token = subject.split()[-1]
        out[token] = (uid, flags)
    return out


def wait_doctor(server, text, timeout=10.0):
    end = time.time() + timeout
    while True:
        out = server.ctl("doctor", USER).out
        if text in out or time.time() > end:
            return out
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("idx"), accounts=[(USER,)]) as srv:
        yield srv


@pytest.fixture(scope="module")
def mailbox(server):
    """Three messages, the second flagged and seen through IMAP."""
    tokens = ["idx-%d-%s" % (i, os.urandom(3).hex()) for i in range(3)]
    for t in tokens:
        deliver(server, t)
    server.wait_messages(USER, 3)
    m = login(server)
    select(m)
    before = fetch_all(m)
    assert set(before) == set(tokens)
    uid = before[tokens[1]][0]
    typ, data = m.uid("STORE", str(uid), "+FLAGS", r"(\Flagged \Seen)")
    assert typ == "OK", data
    m.logout()
    return tokens


def check_mailbox(m, tokens):
    got = fetch_all(m)
    assert set(got) == set(tokens)
    assert {r"\Flagged", r"\Seen"} <= got[tokens[1]][1]
    assert r"\Flagged" not in got[tokens[0]][1] and r"\Flagged" not in got[tokens[2]][1]
    return got


def test_garbage_index_is_rebuilt_while_running(server, mailbox):
    md = server.maildir(USER)
    db = os.path.join(md, "index.db")
    m = login(server)
    v1 = select(m)
    before = fetch_all(m)
    m.logout()                    # the daemon keeps the index open in its pool
    # Every page into index.db (SQLite locking makes that safe while the
    # daemon runs), so that the damage is not hidden by pages in the WAL.
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    con.close()
    size = os.path.getsize(db)
    with open(db, "r+b") as f:    # the same file (inode), garbage from byte 0
        f.write(os.urandom(max(size, 8192)))
        f.flush()
        os.fsync(f.fileno())

    m = login(server)
    # The file told nothing, but the daemon's message cache held what the
    # clients last saw: the UIDs and the UIDVALIDITY stay.
    assert select(m) == v1
    assert check_mailbox(m, mailbox) == before
    m.logout()

    aside = glob.glob(os.path.join(md, "index.db.corrupt-*"))
    assert [p for p in aside if not p.endswith("-wal")], os.listdir(md)
    out = wait_doctor(server, "The mail index was rebuilt")
    assert "The mail index was rebuilt from the mailbox files" in out, out
    assert "damaged index set aside" in out and "INBOX (3 messages, UIDs kept)" in out, out
    assert "Sent (0 messages, new UIDVALIDITY)" in out, out
    log = server.log()
    assert "damaged; set aside and rebuilt" in log
    assert "initialised too early" not in log


def test_index_damaged_at_rest_is_rebuilt_at_start(server, mailbox):
    md = server.maildir(USER)
    db = os.path.join(md, "index.db")
    server.stop()
    with open(db, "r+b") as f:    # a bad header: SQLITE_NOTADB at open
        f.write(b"this is no database" * 8)
    server.start()
    m = login(server)
    select(m)
    check_mailbox(m, mailbox)
    m.logout()
    # nothing left to keep the UIDs from: a new UIDVALIDITY, said so
    assert "INBOX (3 messages, new UIDVALIDITY)" in wait_doctor(server, "INBOX (3 messages, new")
    assert len([p for p in glob.glob(os.path.join(md, "index.db.corrupt-*"))
                if not p.endswith("-wal")]) >= 2


def test_ctl_index_rebuild_with_daemon_and_session(server, mailbox):
    a = login(server)
    v1 = select(a)
    before = check_mailbox(a, mailbox)

    p = server.ctl("index", "rebuild", USER)
    assert "3 messages" in p.out, p.out
    typ, data = a.noop()
    assert typ == "OK", data
    b = login(server)
    assert select(b) == v1        # an ordinary rebuild keeps the UIDs
    assert check_mailbox(b, mailbox) == before
    b.logout()

    p = server.ctl("index", "rebuild", USER, "--force")
    assert "made anew" in p.out and "INBOX (3 messages, new UIDVALIDITY)" in p.out, p.out
    typ, data = a.noop()
    assert typ == "OK", data
    b = login(server)
    v2 = select(b)
    assert v2 != v1
    check_mailbox(b, mailbox)
    b.logout()
    typ, data = a.fetch("1:*", "(FLAGS)")
    assert typ == "OK", data
    a.logout()
    out = wait_doctor(server, "new UIDVALIDITY")
    assert "The mail index was rebuilt from the mailbox files" in out


def test_ctl_index_rebuild_of_damaged_index(server, mailbox):
    md = server.maildir(USER)
    db = os.path.join(md, "index.db")
    server.stop()
    try:
        with open(db, "r+b") as f:
            f.write(os.urandom(4096))
        p = server.ctl("index", "rebuild", USER)
        assert "was damaged" in p.out and "3 messages" in p.out, p.out
    finally:
        server.start()
    m = login(server)
    select(m)
    check_mailbox(m, mailbox)
    m.logout()
