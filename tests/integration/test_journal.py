"""The delivery journal (store/journal.c, journal_recover.c): a 250 on port
25 means the copies are in the journal's fdatasync'd segment; the Maildir
files are renamed into new/ without a sync of their own and become durable
at the next checkpoint. What a crash can lose of them is what the kernel
had not written yet; kill -9 cannot lose it (the page cache survives), so
these tests take it away by hand after kill -9 — a file emptied, a file
gone — and check that the restart writes every acknowledged copy back,
whole and once, wherever the message now is.

- the checkpoint is made a minute long (server.journal_ms) so that the
  segment still holds the copies when the daemon is killed;
- a copy moved to another folder after delivery is mended where it is,
  not put back into the inbox a second time;
- a copy deleted (POP3 DELE, IMAP EXPUNGE) before its checkpoint waits for
  the checkpoint, so the replay does not bring it back;
- a clean stop leaves no segment; server.journal_ms = 0 writes none;
- a copy given up because another copy of its message failed (451) does
  not come back either."""

import os
import shutil
import ssl

from helpers import DOMAIN, PASSWORD, POP3Conn, SMTPConn, make_message, running_server, unique
from test_imap_rfc import Raw

A, B = "ja@" + DOMAIN, "jb@" + DOMAIN
LONG = {"server.journal_ms": "60000"}


def segments(server):
    d = os.path.join(server.data, "journal")
    return sorted(f for f in os.listdir(d) if f.endswith(".log")) if os.path.isdir(d) else []


def deliver(server, rcpts, token, size=3000):
    msg = make_message(token, size=size)
    c = SMTPConn(server.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail("sender@client.test", rcpts, msg)
        assert all(r.code == 250 for r in replies), replies
    finally:
        c.quit()
    return msg


def copies(server, addr, token):
    """{path: bytes} of every file holding token in any folder of addr."""
    found = {}
    root = server.maildir(addr)
    for folder in [root] + [os.path.join(root, d) for d in os.listdir(root) if d.startswith(".")]:
        for sub in ("new", "cur"):
            d = os.path.join(folder, sub)
            if not os.path.isdir(d):
                continue
            for f in os.listdir(d):
                p = os.path.join(d, f)
                with open(p, "rb") as fh:
                    data = fh.read()
                if token.encode() in data:
                    found[p] = data
    return found


def only_copy(server, addr, token):
    found = copies(server, addr, token)
    assert len(found) == 1, "%s: %d copies of %s: %s" % (addr, len(found), token, sorted(found))
    return next(iter(found.items()))


def test_replay_writes_back_what_the_disk_lost(tmp_path):
    with running_server(tmp_path / "j", accounts=[(A,), (B,)], config=LONG) as server:
        toks = [unique("jr") for _ in range(6)]
        msgs = {t: deliver(server, [A, B] if i % 2 == 0 else [A], t) for i, t in enumerate(toks)}
        assert segments(server), "no journal segment after deliveries"
        # a message moved to another folder after delivery (an IMAP MOVE
        # keeps the base name)
        moved_path, _ = only_copy(server, A, toks[2])
        archive = os.path.join(server.maildir(A), ".Archive")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(archive, sub), exist_ok=True)
        moved_to = os.path.join(archive, "cur", os.path.basename(moved_path).split(":")[0] + ":2,S")
        os.rename(moved_path, moved_to)
        server.kill9()
        # what a power cut could have left: one file empty, one gone, the
        # moved one empty in its new folder
        emptied, _ = only_copy(server, A, toks[0])
        open(emptied, "wb").close()
        gone, _ = only_copy(server, B, toks[4])
        os.unlink(gone)
        open(moved_to, "wb").close()
        server.start()
        assert "journal: replayed" in server.log(), server.log_tail()
        for i, t in enumerate(toks):
            for addr in ([A, B] if i % 2 == 0 else [A]):
                path, data = only_copy(server, addr, t)
                assert data.endswith(msgs[t]), "%s in %s not whole after the replay" % (t, path)
        # the moved message is mended where it is, not put back in the inbox
        path, _ = only_copy(server, A, toks[2])
        assert path == moved_to
        # the emptied file was mended in place, the removed one put back in new/
        assert only_copy(server, A, toks[0])[0] == emptied
        assert os.path.dirname(only_copy(server, B, toks[4])[0]).endswith("/new")
        assert segments(server) == ["0000000000000001.log"], segments(server)


def test_deletion_before_the_checkpoint_stays_deleted(tmp_path):
    with running_server(tmp_path / "jd", accounts=[(A,)], config=LONG) as server:
        keep, pop_gone, imap_gone = unique("jk"), unique("jp"), unique("ji")
        deliver(server, [A], keep)
        deliver(server, [A], pop_gone)
        # POP3: DELE the second message; QUIT removes it
        ctx = ssl.create_default_context(cafile=server.crt)
        p = POP3Conn(server.port("pop3"))
        assert p.stls(ctx).startswith(b"+OK")
        assert p.login(A, PASSWORD).startswith(b"+OK")
        first, lines = p.multi("UIDL")
        assert first.startswith(b"+OK") and len(lines) == 2, lines
        for n in (1, 2):
            r, body = p.multi("RETR %d" % n)
            if pop_gone.encode() in b"\n".join(body):
                assert p.cmd("DELE %d" % n).startswith(b"+OK")
        assert p.quit().startswith(b"+OK")
        assert not copies(server, A, pop_gone)
        # IMAP: a third message, expunged
        deliver(server, [A], imap_gone)
        r = Raw(server)
        r.ok("LOGIN %s %s" % (A, PASSWORD))
        r.ok("SELECT INBOX")
        untagged, _ = r.ok("UID SEARCH HEADER X-Test-Token %s" % imap_gone)
        uid = [ln for ln in untagged if ln.startswith(b"* SEARCH")][0].split()[2].decode()
        r.ok("UID STORE %s +FLAGS.SILENT (\\Deleted)" % uid)
        r.ok("EXPUNGE")
        r.close()
        assert not copies(server, A, imap_gone)
        server.kill9()
        server.start()
        assert not copies(server, A, pop_gone), "a message deleted over POP3 came back after the crash"
        assert not copies(server, A, imap_gone), "a message expunged over IMAP came back after the crash"
        only_copy(server, A, keep)


def test_clean_stop_leaves_no_segment_and_zero_turns_it_off(tmp_path):
    with running_server(tmp_path / "jc", accounts=[(A,)], config=LONG) as server:
        t = unique("jc")
        deliver(server, [A], t)
        assert segments(server)
        server.stop()
        assert segments(server) == []
        server.ctl("config", "set", "server.journal_ms", "0")
        server.start()
        t2 = unique("jz")
        msg = deliver(server, [A], t2)
        assert only_copy(server, A, t2)[1].endswith(msg)
        assert segments(server) == []
        only_copy(server, A, t)


def test_a_message_refused_with_451_does_not_come_back(tmp_path):
    """One copy of a two-recipient message fails (a file where B's new/
    should be): the client gets 451 and A's copy, already in the journal,
    is given up; a crash right after must not bring it back."""
    with running_server(tmp_path / "jf", accounts=[(A,), (B,)], config=LONG) as server:
        newdir = os.path.join(server.maildir(B), "new")
        shutil.rmtree(newdir)
        with open(newdir, "w") as f:
            f.write("not a directory\n")
        tok = unique("jf")
        c = SMTPConn(server.port("smtp"))
        try:
            c.ehlo().expect(250)
            replies = c.send_mail("sender@client.test", [A, B], make_message(tok))
            assert replies[-1].code == 451, replies
        finally:
            c.quit()
        assert not copies(server, A, tok)
        os.unlink(newdir)
        os.mkdir(newdir, 0o700)
        server.kill9()
        server.start()
        assert not copies(server, A, tok), "a copy of a message refused with 451 came back after the crash"
        assert not copies(server, B, tok)
