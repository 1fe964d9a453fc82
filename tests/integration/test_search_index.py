"""IMAP SEARCH with the full-text index (store/fts.c) gives exactly the
scan's answers: the same corpus (Japanese in ISO-2022-JP, Shift_JIS,
EUC-JP and UTF-8, RFC 2047 subjects, base64/QP bodies, HTML, a message
past the index's 256 KiB cap) searched with imap.search_index on and off
returns the same UID sets; the index follows APPEND, COPY, MOVE, EXPUNGE
and delivery; `yubinctl index rebuild` rebuilds it."""

import imaplib
import os
import re
import sqlite3
import ssl

import pytest

from helpers import DOMAIN, HOST, PASSWORD, SMTPConn, running_server
from search_corpus import QUERIES, b_word, corpus

USER = "search@" + DOMAIN


def login(server):
    ctx = ssl.create_default_context(cafile=server.crt)
    m = imaplib.IMAP4_SSL(HOST, server.port("imaps"), ssl_context=ctx)
    m.login(USER, PASSWORD)
    return m


def search(m, needle, *keys):
    """UID SEARCH CHARSET UTF-8 keys... {needle}: the UIDs as a set."""
    m.literal = needle.encode()
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", *keys)
    assert typ == "OK", data
    return set(int(x) for x in data[0].split())


# compound programs: the index answers some keys, the scan the others
COMPOUND = [
    (("NOT", "BODY"), "東京"), (("OR", "SUBJECT", "meeting", "BODY"), "請求書"),
    (("UNSEEN", "TEXT"), "example"), (("1:3", "TEXT"), "example.jp"), (("NOT", "NOT", "SUBJECT"), "会議"),
    (("SUBJECT", "quarterly", "TEXT"), "見積"), (("OR", "NOT", "FROM", "alice", "TO"), "佐藤"),
]


def run_all(m):
    results = {}
    for folder in ("INBOX", "Archive"):
        m.select(folder)
        for key, needle in QUERIES:
            results[(folder, key, needle)] = search(m, needle, key)
        for keys, needle in COMPOUND:
            results[(folder,) + keys + (needle,)] = search(m, needle, *keys)
    return results


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("searchidx"), accounts=[(USER,)]) as srv:
        m = login(srv)
        m.create("Archive")
        for name, data in corpus():
            typ, resp = m.append("INBOX", None, None, data)
            assert typ == "OK", (name, resp)
        m.select("INBOX")
        # Archive: copies, a move, an expunge
        m.uid("COPY", "1:*", "Archive")
        m.select("Archive")
        m.uid("STORE", "2", "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()
        m.logout()
        yield srv


def test_corpus_hits(server):
    """The index finds what it must (so the comparison is not between two
    empty answers)."""
    m = login(server)
    m.select("INBOX")
    assert search(m, "議事録", "TEXT") == {1}
    assert search(m, "請求書を送付", "BODY") == {2}
    assert search(m, "①㈱", "BODY") == {2}
    assert search(m, "オフィス移転", "SUBJECT") == {3}
    assert search(m, "東京オフィス", "BODY") == {3, 4}
    assert search(m, "Café", "BODY") == {5}
    assert search(m, "hiddenscript", "BODY") == set()       # HTML reduced to text
    assert search(m, "見積書", "TEXT") == set()             # an attachment's name is no text for IMAP
    assert search(m, "EndMarkerWord", "BODY") == {8}        # past the index's cap: read from the file
    assert search(m, "MEETING", "SUBJECT") == {7}
    assert search(m, "会議", "BODY") == set()               # 2 characters: the scan
    assert os.path.exists(os.path.join(server.maildir(USER), "search.db"))
    db = sqlite3.connect(os.path.join(server.maildir(USER), "search.db"))
    rows = db.execute("SELECT count(*), sum(complete) FROM msgs").fetchone()
    db.close()
    assert rows == (8, 7), rows      # INBOX only so far; the large message is incomplete
    m.logout()


def test_index_on_and_off_agree(server):
    m = login(server)
    with_index = run_all(m)
    m.logout()
    server.ctl("config", "set", "imap.search_index", "off")
    server.restart()
    try:
        m = login(server)
        without = run_all(m)
        m.logout()
    finally:
        server.ctl("config", "set", "imap.search_index", "on")
        server.restart()
    diff = {k: (with_index[k], without[k]) for k in with_index if with_index[k] != without[k]}
    assert not diff, diff
    assert sum(1 for v in with_index.values() if v) > 30


def test_follows_changes(server):
    m = login(server)
    m.select("INBOX")
    assert search(m, "新年会を開催", "BODY") == {4}
    # MOVE: gone here, found there under its new UID
    typ, data = m.uid("MOVE", "4", "Archive")
    assert typ == "OK", data
    assert search(m, "新年会を開催", "BODY") == set()
    m.select("Archive")
    found = search(m, "新年会を開催", "BODY")
    assert len(found) == 2, found                           # the copy and the moved one
    new_uid = max(found)
    m.uid("STORE", str(new_uid), "+FLAGS.SILENT", "(\\Deleted)")
    m.expunge()
    assert search(m, "新年会を開催", "BODY") == found - {new_uid}
    # delivery (new/) is indexed at the next search
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        body = ("From: x@client.test\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                "配達されたメールの本文です\r\n" % (USER, b_word("配達試験", "utf-8"))).encode()
        replies = c.send_mail("x@client.test", [USER], body)
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        c.quit()
    m.select("INBOX")
    hits = search(m, "配達されたメール", "BODY")
    assert len(hits) == 1, hits
    m.logout()


def test_rebuild(server):
    path = os.path.join(server.maildir(USER), "search.db")
    p = server.ctl("index", "rebuild", USER, "--search-only")
    assert "search index" in p.out, p.out
    db = sqlite3.connect(path)
    n = db.execute("SELECT count(*) FROM msgs").fetchone()[0]
    db.close()
    assert n >= 14, n
    m = login(server)
    m.select("INBOX")
    assert search(m, "議事録", "TEXT") == {1}
    m.logout()
    # a damaged search index is made anew
    with open(path, "r+b") as f:
        f.write(b"garbage" * 100)
    for side in ("-wal", "-shm"):
        if os.path.exists(path + side):
            os.unlink(path + side)
    m = login(server)
    m.select("INBOX")
    assert search(m, "議事録", "TEXT") == {1}
    m.logout()


def test_answers_come_from_the_index(server):
    """A message file changed behind Yubin's back (never done by Yubin:
    Maildir files are written once) shows which side answered: the index
    still has the old text until it is rebuilt."""
    m = login(server)
    m.create("Probe")
    body = "From: p@example.test\r\nSubject: probe\r\n\r\nalphaword here\r\n"
    typ, data = m.append("Probe", None, None, body.encode())
    assert typ == "OK", data
    m.select("Probe")
    assert search(m, "alphaword", "BODY") == {1}
    cur = os.path.join(server.maildir(USER), ".Probe", "cur")
    (name,) = os.listdir(cur)
    with open(os.path.join(cur, name), "wb") as f:
        f.write(body.replace("alphaword", "bravoword").encode())
    assert search(m, "alphaword", "BODY") == {1}        # the index's answer
    assert search(m, "bravoword", "BODY") == set()
    assert search(m, "bravoword", "HEADER", "Subject", "probe", "BODY") == set()
    server.ctl("index", "rebuild", USER, "--search-only")
    assert search(m, "bravoword", "BODY") == {1}
    assert search(m, "alphaword", "BODY") == set()
    m.logout()
