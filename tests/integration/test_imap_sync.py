"""A selected mailbox's view stays exact while others change it (RFC 9051
5.2, 7.4.1, 7.5.1): flag changes, expunges and new messages made by
another IMAP session, by SMTP delivery, or by a program working on the
Maildir behind the index are reported to the session that has the mailbox
selected as EXPUNGE / EXISTS / FETCH (FLAGS) responses, in an order and
with sequence numbers that leave its view equal to the mailbox, on
mailboxes of thousands of messages, at their start, middle and end.

Each test keeps a model of the watching session's view built only from
the responses it received, and checks it against what a fresh session
sees and against the watcher's own FETCH."""

import os
import random
import re
import time

import pytest

from helpers import DOMAIN, PASSWORD, SMTPConn, make_message, running_server, unique
from test_imap_rfc import Raw

USER = "sync@" + DOMAIN

FETCH_RE = re.compile(rb"^\* (\d+) FETCH \((.*)\)$", re.S)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("imapsync"), accounts=[(USER,)]) as srv:
        yield srv


def session(server):
    r = Raw(server)
    r.ok("LOGIN %s %s" % (USER, PASSWORD))
    return r


@pytest.fixture
def conns(server):
    opened = []

    def make():
        r = session(server)
        opened.append(r)
        return r
    yield make
    for r in opened:
        r.close()


def flags_of(item):
    m = re.search(rb"FLAGS \(([^)]*)\)", item)
    if m is None:
        return None
    return frozenset(f for f in m.group(1).split() if f != b"\\Recent")


def uid_of(item):
    m = re.search(rb"UID (\d+)", item)
    return int(m.group(1)) if m else None


def listing(c, rng="1:*"):
    """[(uid, flags)] in sequence order from FETCH (UID FLAGS)."""
    u, _ = c.ok("FETCH %s (UID FLAGS)" % rng)
    out = {}
    for line in u:
        m = FETCH_RE.match(line)
        if m:
            out[int(m.group(1))] = (uid_of(m.group(2)), flags_of(m.group(2)))
    return [out[k] for k in sorted(out)]


def truth(server, box):
    c = session(server)
    try:
        u, _ = c.ok("EXAMINE %s" % box)
        if any(line == b"* 0 EXISTS" for line in u):
            return []
        return listing(c)
    finally:
        c.close()


class Model:
    """The watching session's view, changed only by its responses."""

    def __init__(self, c, box):
        self.c = c
        c.ok("SELECT %s" % box)
        self.msgs = [list(x) for x in listing(c)]

    def apply(self, untagged):
        exists = None
        for line in untagged:
            m = re.match(rb"^\* (\d+) EXPUNGE$", line)
            if m:
                n = int(m.group(1))
                assert 1 <= n <= len(self.msgs), (line, len(self.msgs))
                del self.msgs[n - 1]
                continue
            m = re.match(rb"^\* (\d+) EXISTS$", line)
            if m:
                exists = int(m.group(1))
                assert exists >= len(self.msgs), (line, len(self.msgs))
                continue
            m = FETCH_RE.match(line)
            if m:
                n = int(m.group(1))
                assert 1 <= n <= len(self.msgs), (line, len(self.msgs))
                uid = uid_of(m.group(2))
                assert uid is None or uid == self.msgs[n - 1][0], (line, self.msgs[n - 1])
                fl = flags_of(m.group(2))
                if fl is not None:
                    self.msgs[n - 1][1] = fl
        if exists is not None and exists > len(self.msgs):
            start = len(self.msgs) + 1
            new = listing(self.c, "%d:%d" % (start, exists))
            assert len(new) == exists - start + 1, new
            self.msgs.extend(list(x) for x in new)

    def noop(self):
        u, _ = self.c.ok("NOOP")
        self.apply(u)
        return u

    def check(self, server, box):
        want = truth(server, box)
        assert [tuple(x) for x in self.msgs] == want
        # and the session numbers its messages as the model does
        if want:
            assert listing(self.c) == want


def write_messages(maildir, n, sub="new", tag="m"):
    """n message files written straight into a Maildir folder, as a
    delivery agent or a migration tool would."""
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    now = int(time.time())
    for i in range(n):
        data = make_message("%s-%d" % (tag, i), body_lines=2, rcpt=USER)
        name = "%d.M%dP%dQ%d.bench,S=%d" % (now, i, os.getpid(), random.randrange(1 << 30), len(data))
        if sub == "cur":
            name += ":2,"
        with open(os.path.join(maildir, sub, name), "wb") as f:
            f.write(data)


def big_box(server, c, n):
    box = unique("big")
    c.ok("CREATE %s" % box)
    write_messages(os.path.join(server.maildir(USER), "." + box), n)
    return box


def test_other_session_start_middle_end(server, conns):
    a, b = conns(), conns()
    box = big_box(server, a, 3000)
    model = Model(a, box)
    assert len(model.msgs) == 3000
    other = unique("moved")
    b.ok("CREATE %s" % other)
    b.ok("SELECT %s" % box)
    rng = random.Random(7)
    for rnd in range(6):
        n = len(model.msgs)
        picks = sorted({1, 2, n // 2, n // 2 + 1, n - 1, n} | {rng.randint(1, n) for _ in range(5)})
        flagged = picks[::2]
        deleted = picks[1::2]
        b.ok("STORE %s +FLAGS.SILENT (\\Flagged $Round%d)" % (",".join(map(str, flagged)), rnd))
        b.ok("STORE %s +FLAGS.SILENT (\\Deleted)" % ",".join(map(str, deleted)))
        u, _ = b.ok("EXPUNGE")
        moved = len(model.msgs) - len(deleted) - rnd
        b.ok("MOVE %d:%d %s" % (moved, moved + rnd, other))
        for i in range(rnd % 3):
            b.ok("APPEND %s" % box, literal=make_message(unique("ap"), rcpt=USER))
        u = model.noop()
        assert sum(1 for line in u if line.endswith(b" EXPUNGE")) == len(deleted) + rnd + 1, u
        model.check(server, box)


def test_flag_changes_reported_once(server, conns):
    a, b = conns(), conns()
    box = big_box(server, a, 1200)
    model = Model(a, box)
    b.ok("SELECT %s" % box)
    b.ok("STORE 1,600,1200 +FLAGS.SILENT (\\Seen)")
    u = model.noop()
    fetches = [line for line in u if FETCH_RE.match(line)]
    assert sorted(int(FETCH_RE.match(x).group(1)) for x in fetches) == [1, 600, 1200], u
    model.check(server, box)
    # nothing changed since: nothing is reported again
    u, _ = a.ok("NOOP")
    assert u == [], u
    # its own change is not reported back as someone else's
    a.ok("STORE 5 +FLAGS.SILENT (\\Answered)")
    u, _ = a.ok("NOOP")
    assert u == [], u
    model.msgs[4][1] = model.msgs[4][1] | {b"\\Answered"}
    model.check(server, box)


def test_expunge_held_back_during_fetch_then_reported(server, conns):
    a, b = conns(), conns()
    box = big_box(server, a, 1500)
    model = Model(a, box)
    b.ok("SELECT %s" % box)
    b.ok("STORE 1,750,1500 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    b.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    # FETCH by sequence number may not expunge (RFC 9051 7.5.1)
    u, _ = a.ok("FETCH 1:3 (UID)")
    assert not any(line.endswith(b" EXPUNGE") for line in u), u
    model.apply(u)
    u, _ = a.ok("FETCH 1500 (UID)")
    assert not any(line.endswith(b" EXPUNGE") for line in u), u
    model.apply(u)
    u = model.noop()
    assert [line for line in u if line.endswith(b" EXPUNGE")] == [b"* 1500 EXPUNGE", b"* 750 EXPUNGE",
                                                                   b"* 1 EXPUNGE"], u
    model.check(server, box)


def test_changes_behind_the_index(server, conns):
    """A Maildir tool removes and renames files and drops new ones in."""
    a = conns()
    box = big_box(server, a, 2000)
    model = Model(a, box)
    cur = os.path.join(server.maildir(USER), "." + box, "cur")
    names = sorted(os.listdir(cur), key=lambda x: (int(x.split(".")[0]), x))
    by_base = {}
    for nm in names:
        by_base[nm.split(":")[0]] = nm
    files = sorted(by_base.values())
    assert len(files) == 2000
    # the files in UID order are the files in name order only by chance;
    # pick by the listing instead: remove the first, a middle and the last
    # message's file, and flag two others by renaming them
    u, _ = a.ok("FETCH 1,1000,2000 (UID BODY.PEEK[HEADER.FIELDS (X-TEST-TOKEN)])")
    tokens = [re.search(rb"X-Test-Token: (\S+)", line).group(1).decode() for line in u]
    for nm in files:
        with open(os.path.join(cur, nm), "rb") as f:
            head = f.read(200)
        tok = re.search(rb"X-Test-Token: (\S+)", head).group(1).decode()
        if tok in tokens:
            os.unlink(os.path.join(cur, nm))
        elif tok.endswith("-10") or tok.endswith("-20"):
            os.rename(os.path.join(cur, nm), os.path.join(cur, nm.split(":")[0] + ":2,FS"))
    # a file in new/ makes the next sync read the directories whatever
    # the timestamps say
    write_messages(os.path.join(server.maildir(USER), "." + box), 2, tag="late")
    u = model.noop()
    assert sorted(line for line in u if line.endswith(b" EXPUNGE")) == sorted(
        [b"* 2000 EXPUNGE", b"* 1000 EXPUNGE", b"* 1 EXPUNGE"]), u
    assert sum(1 for line in u if FETCH_RE.match(line)) == 2, u
    model.check(server, box)


def deliver(server, tok):
    sm = SMTPConn(server.port("smtp"))
    try:
        sm.ehlo().expect(250)
        replies = sm.send_mail("a@client.test", [USER], make_message(tok, rcpt=USER))
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        sm.quit()


def test_delivery_and_expunge_while_idle(server, conns):
    a, b = conns(), conns()
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    for i in range(3):
        deliver(server, unique("pre%d" % i))
    model = Model(a, "INBOX")
    n = len(model.msgs)
    a.send(b"idle1 IDLE\r\n")
    assert a.line().startswith(b"+")
    deliver(server, unique("idle"))
    seen = []
    deadline = time.time() + 20
    while time.time() < deadline:
        line = a.line()
        seen.append(line)
        if line == b"* %d EXISTS" % (n + 1):
            break
    assert seen[-1] == b"* %d EXISTS" % (n + 1), seen
    b.ok("NOOP")
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    while time.time() < deadline:
        line = a.line()
        seen.append(line)
        if line.endswith(b" EXPUNGE"):
            break
    assert seen[-1] == b"* 1 EXPUNGE", seen
    a.send(b"DONE\r\n")
    rest = []
    while True:
        line = a.line()
        if line.startswith(b"idle1 "):
            break
        rest.append(line)
    model.apply(seen + rest)
    model.check(server, "INBOX")


def test_many_changes_at_once(server, conns):
    """More changes than the index keeps a log of: the session still gets
    every one."""
    a, b = conns(), conns()
    box = big_box(server, a, 5000)
    model = Model(a, box)
    b.ok("SELECT %s" % box)
    b.ok("STORE 1:* +FLAGS.SILENT (\\Seen)")
    b.ok("STORE 2500:2600 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    u = model.noop()
    assert sum(1 for line in u if line.endswith(b" EXPUNGE")) == 101
    model.check(server, box)
    assert all(b"\\Seen" in f for _, f in model.msgs)


def test_fetch_body_marks_read_in_batches(server, conns):
    """FETCH BODY[] over more messages than one batch of \\Seen changes:
    each reply that made a message read says FLAGS (\\Seen) once, those
    already read and BODY.PEEK say nothing, and the watcher and a fresh
    session see every one read."""
    a, b = conns(), conns()
    box = big_box(server, a, 150)
    model = Model(a, box)
    b.ok("SELECT %s" % box)
    b.ok("STORE 10,70,140 +FLAGS.SILENT (\\Seen)")
    u, _ = b.ok("FETCH 101:150 (BODY.PEEK[HEADER])")
    assert not any(b"FLAGS" in line for line in u if isinstance(line, bytes))
    u, _ = b.ok("FETCH 1:* (BODY[])")
    flagged = sorted(int(m.group(1)) for m in (FETCH_RE.match(line) for line in u if isinstance(line, bytes))
                     if m and b"FLAGS (\\Seen)" in m.group(2))
    assert flagged == [n for n in range(1, 151) if n not in (10, 70, 140)], flagged
    u, _ = b.ok("FETCH 1:* (BODY[])")
    assert not any(b"FLAGS" in line for line in u if isinstance(line, bytes))
    model.noop()
    model.check(server, box)
    assert all(b"\\Seen" in f for _, f in model.msgs)


def age_dirs(folder, secs=10):
    """Moves the mtimes of a folder's new/ and cur/ back, as if it had been
    left alone that long (the index then trusts them without reading)."""
    for sub in ("new", "cur"):
        p = os.path.join(folder, sub)
        st = os.stat(p)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - secs * 10**9))


def test_other_programs_changes_at_the_next_command(server, conns):
    """Files another program puts into new/ or unlinks from cur/ (no SMTP,
    no store notice) are EXISTS and EXPUNGE at the next command: right
    after the index's own changes, and after the folder was left alone."""
    a, b = conns(), conns()
    box = big_box(server, a, 300)
    folder = os.path.join(server.maildir(USER), "." + box)
    cur = os.path.join(folder, "cur")
    model = Model(a, box)
    b.ok("SELECT %s" % box)
    for quiet in (False, True):
        b.ok("STORE 5 +FLAGS.SILENT (\\Flagged)")     # the index's own rename in cur/
        if quiet:
            model.noop()
            age_dirs(folder)
            model.noop()                               # cur/ is read once, then trusted
            model.noop()
        write_messages(folder, 2, tag="ext%d" % quiet)
        u = model.noop()
        assert b"* %d EXISTS" % len(model.msgs) in u, u
        victim = sorted(n for n in os.listdir(cur) if not n.startswith("."))[7]
        os.unlink(os.path.join(cur, victim))
        u = model.noop()
        assert sum(1 for line in u if line.endswith(b" EXPUNGE")) == 1, u
        model.check(server, box)
    assert len(model.msgs) == 300 + 2 * 2 - 2
