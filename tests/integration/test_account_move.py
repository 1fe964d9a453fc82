"""Account moves between mail nodes (issue 16 §2): `yubinctl account move`
moves a mailbox online while a client IDLEs through a proxy (the client
gets a BYE, connects again through the proxy and lands on the new node,
with every message once, under the same UIDVALIDITY and UIDs, flags,
keywords, folders and Sieve scripts); mail delivered before and during
the move is there once; the old node keeps nothing; `yubinctl node drain`
moves every account off a node. The set-up is test_scaleout's: a private
PostgreSQL, three nodes and two proxies on loopback addresses."""

import imaplib
import json
import os
import poplib
import re
import sqlite3
import threading
import time

import pytest

import helpers
import test_scaleout as so
from helpers import DOMAIN, PASSWORD

pytestmark = so.pytestmark
cluster = so.cluster

ERIN, FRED, GINA, HANA = "erin@" + DOMAIN, "fred@" + DOMAIN, "gina@" + DOMAIN, "hana@" + DOMAIN
IVY, JO, KAI = "ivy@" + DOMAIN, "jo@" + DOMAIN, "kai@" + DOMAIN


def imap_via(proxy):
    """imaplib through proxy's port 143 (STARTTLS) from the client address."""
    m = so.IMAPFrom(proxy.addr, proxy.port("imap"), so.CLIENT)
    m.starttls(so.tls(proxy))
    return m


def login_via(proxy, user):
    """A logged-in imaplib session, trying again while the mailbox is
    frozen for its switch (NO [UNAVAILABLE])."""
    for _ in range(200):
        m = imap_via(proxy)
        try:
            m.login(user, PASSWORD)
            return m
        except m.error as e:
            m.shutdown()
            assert "UNAVAILABLE" in str(e), e
    raise AssertionError("login refused for too long")


def folder_state(m, folder):
    """(UIDVALIDITY, {uid: (flags, message-id)}) of a folder."""
    typ, _ = m.select('"%s"' % folder)
    assert typ == "OK", folder
    uidvalidity = int(m.response("UIDVALIDITY")[1][0])
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK"
    flags, uids = {}, {}
    for line in data:
        if line:
            uid = int(re.search(rb"UID (\d+)", line).group(1))
            fl = set(re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode().split()) - {"\\Recent"}
            flags[uid] = frozenset(fl)
            uids[int(line.split()[0])] = uid
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    assert typ == "OK"
    msgs = {}
    for item in data:
        if isinstance(item, tuple):
            uid = uids[int(item[0].split()[0])]
            msgs[uid] = (flags[uid], item[1].decode().strip())
    assert len(msgs) == len(flags)
    return uidvalidity, msgs


def message_ids(msgs):
    return sorted(mid for _, mid in msgs.values())


def deliver(proxy, rcpt, tok):
    """Port 25 of the proxy, again while the answer is temporary: the SMTP
    client's retry. Returns the number of temporary refusals."""
    msg = helpers.make_message(tok, rcpt=rcpt)
    temp = 0
    for _ in range(400):
        rcpt_replies, final = so.smtp_via_proxy(proxy, [rcpt], msg)
        if rcpt_replies[0].startswith("250") and final.startswith("250"):
            return temp
        reply = final if rcpt_replies[0].startswith("250") else rcpt_replies[0]
        assert reply.startswith("4"), reply
        temp += 1
    raise AssertionError("not delivered: " + reply)


def mailbox_path(node, addr):
    return node.maildir(addr)


def test_move_while_idling_through_a_proxy(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    proxy.ctl("account", "add", ERIN, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
    before = [helpers.unique("before") for _ in range(3)]
    for tok in before:
        deliver(proxy, ERIN, tok)
    m = login_via(proxy, ERIN)
    m.select("INBOX")
    m.uid("STORE", "1", "+FLAGS", "(\\Flagged $Project)")
    m.uid("STORE", "2", "+FLAGS", "(\\Seen)")
    assert m.create("Archive")[0] == "OK"
    m.append("Archive", "(\\Seen $Kept)", None, helpers.make_message(helpers.unique("arch"), rcpt=ERIN))
    m.subscribe("Archive")
    inbox_before = folder_state(m, "INBOX")
    archive_before = folder_state(m, "Archive")
    m.logout()
    sieve = os.path.join(mailbox_path(n1, ERIN), "sieve")
    os.makedirs(sieve, exist_ok=True)
    with open(os.path.join(sieve, "main.sieve"), "w") as f:
        f.write('require "fileinto";\nif header :contains "subject" "x" { fileinto "Archive"; }\n')
    with open(os.path.join(sieve, "active"), "w") as f:
        f.write("main")
    # the webmail's address book: binary, and bigger than one XMOVE line
    db = sqlite3.connect(os.path.join(mailbox_path(n1, ERIN), "contacts.db"))
    db.execute("CREATE TABLE t (b BLOB)")
    db.execute("INSERT INTO t VALUES (?)", (os.urandom(30000),))
    db.commit()
    db.close()
    contacts = open(os.path.join(mailbox_path(n1, ERIN), "contacts.db"), "rb").read()

    # a client IDLEs through the proxy
    idle = so.connect_from(proxy.addr, proxy.port("imaps"), so.CLIENT, so.tls(proxy))
    assert idle.line().startswith("* OK")
    idle.sendall(b'a LOGIN "%s" "%s"\r\na SELECT INBOX\r\n' % (ERIN.encode(), PASSWORD.encode()))
    while not idle.line().startswith("a OK [READ-WRITE]"):
        pass
    idle.sendall(b"i IDLE\r\n")
    assert idle.line().startswith("+ ")

    # and a POP3 client sits in its transaction state
    pop = so.POP3From(proxy.addr, proxy.port("pop3"), so.CLIENT)
    pop.stls(so.tls(proxy))
    pop.user(ERIN)
    assert pop.pass_(PASSWORD).startswith(b"+OK")
    assert pop.stat()[0] == 3

    # mail keeps coming while the move runs
    during, stop, errors, started = [], threading.Event(), [], threading.Event()
    temp = [0]

    def sender():
        try:
            while not stop.is_set():
                tok = helpers.unique("during")
                temp[0] += deliver(proxy, ERIN, tok)
                during.append(tok)
                started.set()
        except Exception as e:  # reported below
            errors.append(e)
            started.set()

    t = threading.Thread(target=sender)
    t.start()
    try:
        assert started.wait(60)
        r = proxy.ctl("account", "move", ERIN, "n2")
    finally:
        stop.set()
        t.join(60)
    assert not errors, errors
    assert "moved %s from n1 to n2" % ERIN in r.out, r.out

    # the IDLE session got a BYE that makes it connect again
    lines = []
    try:
        while True:
            lines.append(idle.line())
    except EOFError:
        pass
    idle.close()
    assert any(ln.startswith("* BYE [UNAVAILABLE]") for ln in lines), lines

    # the POP3 session is told to connect again at its next command
    with pytest.raises(poplib.error_proto, match="SYS/TEMP.*moved"):
        pop.stat()
    pop.close()

    assert proxy.account_json(ERIN)["node"] == "n2"
    m = login_via(proxy, ERIN)
    inbox_after = folder_state(m, "INBOX")
    archive_after = folder_state(m, "Archive")
    assert m.lsub()[1] and any(b"Archive" in x for x in m.lsub()[1])
    m.logout()
    # UIDVALIDITY, UIDs, flags and keywords kept
    assert inbox_after[0] == inbox_before[0] and archive_after[0] == archive_before[0]
    for uid, (flags, mid) in inbox_before[1].items():
        assert inbox_after[1][uid] == (flags, mid)
    assert archive_after[1] == archive_before[1]
    # every message delivered before and during the move, once
    tokens = [mid for _, mid in inbox_after[1].values()]
    assert len(tokens) == len(set(tokens)) == 3 + len(during)
    n_found = sum(1 for uid in inbox_after[1] if uid not in inbox_before[1])
    assert n_found == len(during)
    # the Sieve script and its mark moved; the old node keeps nothing
    new_sieve = os.path.join(mailbox_path(n2, ERIN), "sieve")
    assert open(os.path.join(new_sieve, "active")).read() == "main"
    assert "fileinto" in open(os.path.join(new_sieve, "main.sieve")).read()
    assert open(os.path.join(mailbox_path(n2, ERIN), "contacts.db"), "rb").read() == contacts
    old = mailbox_path(n1, ERIN)
    assert os.path.isfile(old) and not os.path.exists(old + ".moving")


def test_move_in_batches_keeps_uids_dates_and_big_messages(cluster):
    """The copy goes in MULTIAPPEND batches of consecutive UIDs: gaps left
    by expunges, a batch boundary, messages too big for a batch (sent
    alone) and the last partial batch all keep their UID, flags,
    keywords, INTERNALDATE and bytes."""
    proxy, n1, n2, n3, proxy2 = cluster
    proxy.ctl("account", "add", KAI, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
    m = login_via(proxy, KAI)
    assert m.create("Bulk")[0] == "OK"
    big = b"x" * 300000
    for i in range(130):
        body = helpers.make_message(helpers.unique("bulk%d" % i), rcpt=KAI)
        if i in (40, 41, 97):
            body += big	# from 256 KiB a message goes alone
        flags = "(\\Seen $K%d)" % (i % 3) if i % 2 else "()"
        date = imaplib.Time2Internaldate(1700000000 + i * 3600)
        assert m.append("Bulk", flags, date, body)[0] == "OK"
    m.select("Bulk")
    m.uid("STORE", "5:9,60,120", "+FLAGS.SILENT", "(\\Deleted)")	# gaps
    m.expunge()
    typ, before = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    m.logout()
    r = proxy.ctl("account", "move", KAI, "n2")
    assert "moved %s from n1 to n2" % KAI in r.out, r.out
    m = login_via(proxy, KAI)
    m.select("Bulk")
    typ, after = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    m.logout()

    def by_uid(data):
        out = {}
        for item in data:
            if isinstance(item, tuple):
                head = item[0]
                uid = int(re.search(rb"UID (\d+)", head).group(1))
                flags = frozenset(re.search(rb"FLAGS \(([^)]*)\)", head).group(1).split()) - {b"\\Recent"}
                date = re.search(rb'INTERNALDATE "([^"]+)"', head).group(1)
                out[uid] = (flags, date, item[1])
        return out

    b, a = by_uid(before), by_uid(after)
    assert len(b) == 130 - 7 and sorted(a) == sorted(b), (sorted(b), sorted(a))
    for uid in b:
        assert a[uid] == b[uid], uid


def test_mail_after_the_move_goes_to_the_new_node(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    tok = helpers.unique("after")
    assert deliver(proxy, ERIN, tok) == 0
    m = login_via(proxy, ERIN)
    m.select("INBOX")
    typ, data = m.search(None, "BODY", tok)
    assert typ == "OK" and len(data[0].split()) == 1
    m.logout()
    # the old node refuses it with a temporary error, as any other node's account
    s = so.connect_from(n1.addr, n1.lmtp_port, so.PROXY)
    assert s.line().startswith("220 ")
    s.sendall(b"LHLO proxy.test\r\n")
    while not s.line().startswith("250 "):
        pass
    s.sendall(b"MAIL FROM:<sender@client.test>\r\nRCPT TO:<%s>\r\n" % ERIN.encode())
    assert s.line().startswith("250")
    assert s.line().startswith("450 4.2.0")
    s.close()


def test_move_refusals(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    r = proxy.ctl("account", "move", ERIN, "n2", check=False)
    assert r.returncode == 1 and "already" in r.err
    r = proxy.ctl("account", "move", ERIN, "nowhere", check=False)
    assert r.returncode == 1 and "no such node" in r.err
    r = proxy.ctl("account", "move", "nobody@" + DOMAIN, "n1", check=False)
    assert r.returncode == 1 and "no such account" in r.err
    # XMOVE is nothing to a client, even one relayed by a proxy
    imaplib.Commands.setdefault("XMOVE", ("AUTH", "SELECTED"))
    m = login_via(proxy, ERIN)
    with pytest.raises(m.error, match="Unknown command"):
        m._simple_command("XMOVE", "FILES")
    m.logout()


def mover_session(node, user):
    """A move's session on node, as yubinctl opens it (from a proxy's
    address, with the proxy login): (Lines, the login's tagged reply)."""
    s = so.connect_from(node.addr, node.port("imap"), so.PROXY)
    assert s.line().startswith("* OK")
    s.sendall(b'a ID ("x-yubin-move" "1")\r\n')
    while not s.line().startswith("a OK"):
        pass
    s.sendall(b"b AUTHENTICATE PLAIN %s\r\n" % so.proxy_plain(user, "yubin-proxy", so.SECRET).encode())
    while not (ln := s.line()).startswith("b "):
        pass
    return s, ln


def test_one_move_of_an_account_at_a_time(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    proxy.ctl("account", "add", HANA, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
    tok = helpers.unique("one")
    deliver(proxy, HANA, tok)
    s, ln = mover_session(n1, HANA)
    try:
        assert ln.startswith("b OK"), ln
        # on the home node, the target's commands are refused
        s.sendall(b'c XMOVE FOLDER "INBOX" 5 1 0\r\n')
        assert s.line().startswith("c NO [CANNOT]")
        # a second move's session on the same node is not let in
        s2, ln2 = mover_session(n1, HANA)
        s2.close()
        assert ln2.startswith("b NO [UNAVAILABLE]"), ln2
        r = proxy.ctl("account", "move", HANA, "n3", check=False)
        assert r.returncode == 1 and "failed" in r.err, r.err
    finally:
        s.close()
    # given up before the switch: nothing changed, and the move runs later
    acct = proxy.account_json(HANA)
    assert acct["node"] == "n1" and acct["moving"] == ""
    assert so.imap_count_via(proxy, HANA, tok) == 1
    r = proxy.ctl("account", "move", HANA, "n3")
    assert "moved %s from n1 to n3" % HANA in r.out
    assert so.imap_count_via(proxy2, HANA, tok) == 1


def lmtp_rcpt(node, rcpt):
    """The node's LMTP reply to RCPT for rcpt (from a proxy's address)."""
    s = so.connect_from(node.addr, node.lmtp_port, so.PROXY)
    try:
        assert s.line().startswith("220 ")
        s.sendall(b"LHLO proxy.test\r\n")
        while not s.line().startswith("250 "):
            pass
        s.sendall(b"MAIL FROM:<sender@client.test>\r\nRCPT TO:<%s>\r\n" % rcpt.encode())
        assert s.line().startswith("250")
        return s.line()
    finally:
        s.close()


def freeze(node, user):
    """Freezes user's mailbox on node with a move's session; returns it."""
    s, ln = mover_session(node, user)
    assert ln.startswith("b OK"), ln
    s.sendall(b"c XMOVE FREEZE\r\n")
    assert s.line().startswith("c OK"), "freeze"
    return s


def test_frozen_mailbox_defers_and_thaws(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    proxy.ctl("account", "add", JO, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
    tok = helpers.unique("jo")
    deliver(proxy, JO, tok)
    s = freeze(n1, JO)
    try:
        # frozen: mail is deferred, logins get a temporary refusal
        assert lmtp_rcpt(n1, JO).startswith("450 4.2.0"), "rcpt"
        assert "UNAVAILABLE" in so.imap_login_via(proxy, JO)
        # given up before a switch: the mailbox comes back as it was
        s.sendall(b"d XMOVE THAW\r\n")
        assert s.line().startswith("d OK")
    finally:
        s.close()
    assert lmtp_rcpt(n1, JO).startswith("250")
    assert so.imap_count_via(proxy, JO, tok) == 1
    assert not os.path.exists(mailbox_path(n1, JO) + ".moving")


def test_a_move_stopped_while_frozen_is_finished_by_running_it_again(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    proxy.ctl("account", "add", IVY, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
    toks = [helpers.unique("ivy") for _ in range(2)]
    for tok in toks:
        deliver(proxy, IVY, tok)
    # a mover that froze the mailbox and went away: it stays frozen
    freeze(n1, IVY).close()
    assert lmtp_rcpt(n1, IVY).startswith("450 4.2.0")
    r = proxy.ctl("account", "move", IVY, "n2")
    assert "moved %s from n1 to n2" % IVY in r.out, r.out
    for tok in toks:
        assert so.imap_count_via(proxy2, IVY, tok) == 1
    assert os.path.isfile(mailbox_path(n1, IVY)) and not os.path.exists(mailbox_path(n1, IVY) + ".moving")


def test_account_deleted_during_its_move_leaves_no_mail_anywhere(cluster):
    """The account is deleted while its move waits before the switch (the
    mailbox frozen on the old node, copied onto the new one): the move
    fails, and no node keeps any of its mail: the old node's purge takes
    the frozen copy with the tombstone, the new node's the copy the move
    made; an account added again under the address on the new node starts
    empty."""
    proxy, n1, n2, n3, proxy2 = cluster
    addr = "kay@" + DOMAIN
    proxy.ctl("account", "add", addr, "--password-stdin", "--node", "n1", input=PASSWORD + "\n")
    tok = helpers.unique("kay")
    deliver(proxy, addr, tok)
    pause = os.path.join(str(proxy.base), "move.pause")
    got = {}
    os.environ["YUBIN_TEST_MOVE_PAUSE"] = pause
    try:
        t = threading.Thread(target=lambda: got.update(r=proxy.ctl("account", "move", addr, "n2", check=False)))
        t.start()
        for _ in range(600):
            if os.path.exists(pause) or not t.is_alive():
                break
            t.join(0.1)
    finally:
        del os.environ["YUBIN_TEST_MOVE_PAUSE"]
    try:
        assert os.path.exists(pause), got
        old, new = mailbox_path(n1, addr), mailbox_path(n2, addr)
        assert os.path.isfile(old) and os.path.isdir(old + ".moving") and os.path.isdir(new)
        proxy.ctl("account", "del", addr)
    finally:
        if os.path.exists(pause):
            os.unlink(pause)
        t.join(90)
    assert got["r"].returncode != 0 and "changed meanwhile" in got["r"].err, got["r"].err
    for _ in range(600):  # the nodes' purges run every 10 s
        if not any(os.path.exists(p) for p in (old, old + ".moving", new)):
            break
        time.sleep(0.1)
    assert [p for p in (old, old + ".moving", new) if os.path.exists(p)] == []
    proxy.ctl("account", "add", addr, "--password-stdin", "--node", "n2", input=PASSWORD + "\n")
    assert so.imap_count_via(proxy, addr, tok) == 0


def test_node_drain_moves_every_account(cluster):
    proxy, n1, n2, n3, proxy2 = cluster
    toks = {}
    for addr in (FRED, GINA):
        proxy.ctl("account", "add", addr, "--password-stdin", "--node", "n3", input=PASSWORD + "\n")
        toks[addr] = helpers.unique("drain")
        deliver(proxy, addr, toks[addr])
    r = proxy.ctl("node", "drain", "n3")
    try:
        assert "account(s) moved away" in r.out, r.out
        nodes = {n["name"]: n for n in json.loads(proxy.ctl("node", "list", "--json").out)}
        assert nodes["n3"]["accounts"] == 0 and nodes["n3"]["state"] == "draining"
        for addr, tok in toks.items():
            assert proxy.account_json(addr)["node"] in ("n1", "n2")
            assert so.imap_count_via(proxy2, addr, tok) == 1
            assert os.path.isfile(mailbox_path(n3, addr))
    finally:
        proxy.ctl("node", "activate", "n3")
