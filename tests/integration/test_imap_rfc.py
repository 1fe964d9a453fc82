"""IMAP conformance probes on the wire (RFC 3501 / RFC 9051): exact
untagged and tagged responses for the situations compliance suites
check — SELECT/EXAMINE data, response codes (TRYCREATE, READ-ONLY,
READ-WRITE), partial fetches, expunge numbering, CLOSE vs UNSELECT,
commands in the wrong state, literals, and other sessions' changes
showing up at NOOP."""

import datetime
import os
import re
import socket
import ssl

import pytest

from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, SMTPConn, make_message, running_server, unique

USER = "rfc@" + DOMAIN
QUSER = "small@" + DOMAIN	# 1 MB quota


class Raw:
    """A line-level IMAP client: cmd() returns (untagged lines, tagged line)
    with literals inlined as bytes."""

    def __init__(self, server):
        ctx = ssl.create_default_context(cafile=server.crt)
        sock = socket.create_connection((HOST, server.port("imaps")), timeout=20)
        self.s = ctx.wrap_socket(sock, server_hostname=HOSTNAME)
        self.buf = b""
        self.n = 0
        greeting = self.line()
        assert greeting.startswith(b"* OK"), greeting

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("connection closed; buffer %r" % self.buf)
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        # a literal: append it and the rest of the line
        m = re.search(rb"\{(\d+)\}$", line)
        while m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self.buf += self.s.recv(65536)
            line += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            rest = self.line_raw()
            line += rest
            m = re.search(rb"\{(\d+)\}$", rest)
        return line

    def line_raw(self):
        while b"\r\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"p%d" % self.n
        if literal is not None:
            self.send(tag + b" " + text.encode() + b" {%d}\r\n" % len(literal))
            cont = self.line()
            assert cont.startswith(b"+"), cont
            self.send(literal + b"\r\n")
        else:
            self.send(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)

    def ok(self, text, literal=None):
        u, t = self.cmd(text, literal)
        assert t.startswith(b"OK"), (text, u, t)
        return u, t

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("imaprfc"), accounts=[(USER,), (QUSER, PASSWORD, 1)]) as srv:
        yield srv


@pytest.fixture
def c(server):
    r = Raw(server)
    r.ok("LOGIN %s %s" % (USER, PASSWORD))
    yield r
    r.close()


def msg(tok):
    return make_message(tok, rcpt=USER)


def fresh_box(c, name=None):
    name = name or unique("box")
    c.ok("CREATE %s" % name)
    return name


def test_select_and_examine_data(c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("a")))
    u, t = c.ok("SELECT %s" % box)
    text = b"\n".join(u)
    assert re.search(rb"^\* FLAGS \([^)]*\\Seen[^)]*\)", text, re.M), text
    assert re.search(rb"^\* OK \[PERMANENTFLAGS \([^)]*\\\*\)\]", text, re.M), text
    assert re.search(rb"^\* 1 EXISTS$", text, re.M), text
    assert re.search(rb"^\* \d+ RECENT$", text, re.M), text
    assert re.search(rb"^\* OK \[UIDVALIDITY \d+\]", text, re.M), text
    assert re.search(rb"^\* OK \[UIDNEXT 2\]", text, re.M), text
    assert t.startswith(b"OK [READ-WRITE]"), t
    u, t = c.ok("EXAMINE %s" % box)
    assert t.startswith(b"OK [READ-ONLY]"), t
    # a read-only mailbox refuses changes
    u, t = c.cmd("STORE 1 +FLAGS (\\Deleted)")
    assert t.startswith(b"NO"), t


def test_trycreate(c):
    missing = unique("nobox")
    u, t = c.cmd("APPEND %s" % missing, literal=None) if False else (None, None)
    c.n += 1
    tag = b"p%d" % c.n
    c.send(tag + b" APPEND " + missing.encode() + b" {5}\r\n")
    line = c.line()
    if line.startswith(b"+"):
        c.send(b"hello\r\n")
        line = c.line()
    assert line.startswith(tag + b" NO [TRYCREATE]"), line
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("t")))
    c.ok("SELECT %s" % box)
    u, t = c.cmd("COPY 1 %s" % missing)
    assert t.startswith(b"NO [TRYCREATE]"), t
    u, t = c.cmd("MOVE 1 %s" % missing)
    assert t.startswith(b"NO [TRYCREATE]"), t


def test_partial_fetch_origin(c):
    box = fresh_box(c)
    body = msg(unique("p"))
    c.ok("APPEND %s" % box, literal=body)
    c.ok("SELECT %s" % box)
    u, _ = c.ok("FETCH 1 BODY.PEEK[]<0.10>")
    assert len(u) == 1 and b"BODY[]<0> {10}\r\n" + body[:10] in u[0], u
    u, _ = c.ok("FETCH 1 BODY.PEEK[]<5.100000>")
    assert b"BODY[]<5> {%d}" % (len(body) - 5) in u[0], u[0][:80]
    # an origin past the end gives an empty string
    u, _ = c.ok("FETCH 1 BODY.PEEK[]<100000.10>")
    assert re.search(rb'BODY\[\]<100000> (""|\{0\})', u[0]), u
    # PEEK never sets \Seen; a plain BODY[] does, and says so
    u, _ = c.ok("FETCH 1 FLAGS")
    assert b"\\Seen" not in u[0], u
    u, _ = c.ok("FETCH 1 BODY[HEADER]")
    assert b"\\Seen" in b"".join(u), u


def test_uid_fetch_includes_uid_and_empty_ranges(c):
    box = fresh_box(c)
    c.ok("SELECT %s" % box)
    # an empty mailbox: ranges with * match nothing, SEARCH answers empty
    u, t = c.ok("UID FETCH 1:* FLAGS")
    assert u == [], u
    u, _ = c.ok("SEARCH ALL")
    assert u == [b"* SEARCH"], u
    c.ok("APPEND %s" % box, literal=msg(unique("u")))
    c.ok("NOOP")
    u, _ = c.ok("UID FETCH 1:* (FLAGS)")
    fetches = [l for l in u if b" FETCH " in l]
    assert len(fetches) == 1 and re.search(rb"UID 1\b", fetches[0]), u
    # "*:1" is the same set as "1:*"
    u, _ = c.ok("UID FETCH *:1 (FLAGS)")
    assert len([l for l in u if b" FETCH " in l]) == 1, u


def test_store_responses_and_silent(c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("s")))
    c.ok("SELECT %s" % box)
    u, _ = c.ok("STORE 1 +FLAGS (\\Flagged)")
    assert len(u) == 1 and re.match(rb"\* 1 FETCH \(.*FLAGS \([^)]*\\Flagged", u[0]), u
    u, _ = c.ok("STORE 1 -FLAGS.SILENT (\\Flagged)")
    assert u == [], u
    u, _ = c.ok("UID STORE 1 FLAGS (\\Answered $Label1)")
    fetch = [l for l in u if b" FETCH " in l]
    assert len(fetch) == 1 and re.search(rb"UID 1\b", fetch[0]) and b"$Label1" in fetch[0], u


def test_expunge_numbering(c):
    box = fresh_box(c)
    for i in range(4):
        c.ok("APPEND %s" % box, literal=msg(unique("e%d" % i)))
    c.ok("SELECT %s" % box)
    c.ok("STORE 2:3 +FLAGS.SILENT (\\Deleted)")
    u, _ = c.ok("EXPUNGE")
    # each response numbers by the state after the previous one
    ex = [l for l in u if l.endswith(b" EXPUNGE")]
    assert ex == [b"* 2 EXPUNGE", b"* 2 EXPUNGE"] or ex == [b"* 3 EXPUNGE", b"* 2 EXPUNGE"], u
    # anything else may only restate the new count
    assert all(l == b"* 2 EXISTS" or re.match(rb"\* [0-2] RECENT$", l) for l in u if l not in ex), u
    u, _ = c.ok("FETCH 1:* UID")
    assert [re.search(rb"UID (\d+)", l).group(1) for l in u] == [b"1", b"4"], u


def test_close_expunges_silently_unselect_does_not(c):
    box = fresh_box(c)
    for i in range(3):
        c.ok("APPEND %s" % box, literal=msg(unique("c%d" % i)))
    c.ok("SELECT %s" % box)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    u, _ = c.ok("UNSELECT")
    assert u == [], u
    u, _ = c.ok("STATUS %s (MESSAGES)" % box)
    assert b"MESSAGES 3" in u[0], u
    c.ok("SELECT %s" % box)
    u, _ = c.ok("CLOSE")
    assert u == [], u
    u, _ = c.ok("STATUS %s (MESSAGES)" % box)
    assert b"MESSAGES 2" in u[0], u
    # after CLOSE nothing is selected
    u, t = c.cmd("FETCH 1 FLAGS")
    assert t.startswith(b"BAD") or t.startswith(b"NO"), t


def test_wrong_state_and_syntax(server):
    r = Raw(server)
    try:
        u, t = r.cmd("SELECT INBOX")             # not authenticated
        assert t.startswith(b"NO") or t.startswith(b"BAD"), t
        u, t = r.cmd("NOSUCHCOMMAND")
        assert t.startswith(b"BAD"), t
        r.ok("LOGIN %s %s" % (USER, PASSWORD))
        u, t = r.cmd("LOGIN %s %s" % (USER, PASSWORD))   # already authenticated
        assert t.startswith(b"BAD") or t.startswith(b"NO"), t
        for bad in ("FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "EXPUNGE", "SEARCH ALL", "CLOSE"):
            u, t = r.cmd(bad)                    # nothing selected
            assert t.startswith(b"BAD") or t.startswith(b"NO"), (bad, t)
        r.ok("SELECT INBOX")
        for bad in ("FETCH", "FETCH 1", "FETCH 0 FLAGS", "FETCH 1 (FLAGS", "SEARCH NOSUCHKEY",
                    "STORE 1 +FLAGS", "SELECT", "UID NOSUCH 1", "FETCH 1 BODY[1.]"):
            u, t = r.cmd(bad)
            assert t.startswith(b"BAD"), (bad, t)
        u, t = r.cmd("LOGOUT")
        assert any(l.startswith(b"* BYE") for l in u), u
        assert t.startswith(b"OK"), t
    finally:
        r.close()


def test_other_sessions_changes_at_noop(server, c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("n1")))
    c.ok("SELECT %s" % box)
    other = session(server)
    try:
        other.ok("APPEND %s" % box, literal=msg(unique("n2")))
        other.ok("SELECT %s" % box)
        other.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        other.ok("EXPUNGE")
    finally:
        other.close()
    u, _ = c.ok("NOOP")
    text = b"\n".join(u)
    # the expunge of 1 and the new message: 1 EXPUNGE then 1 EXISTS
    assert b"* 1 EXPUNGE" in text and re.search(rb"^\* 1 EXISTS$", text, re.M), text


def test_literal_plus_and_utf8_mailbox(c):
    box = unique("lit")
    c.n += 1
    tag = b"p%d" % c.n
    data = msg(unique("lp"))
    c.send(tag + b" APPEND " + box.encode() + b" {%d+}\r\n" % len(data) + data + b"\r\n")
    line = c.line()
    assert line.startswith(tag + b" NO [TRYCREATE]"), line    # no continuation was needed
    c.ok("CREATE &ZeVnLIqe-")           # 日本語 in modified UTF-7
    u, _ = c.ok('LIST "" "&ZeVnLIqe-"')
    assert u and u[0].endswith(b"&ZeVnLIqe-") or b'"&ZeVnLIqe-"' in u[0], u
    u, t = c.cmd("CREATE &Jjo-!")       # not valid modified UTF-7? (a valid one: accepted)
    assert t.startswith(b"OK") or t.startswith(b"NO") or t.startswith(b"BAD"), t
    u, t = c.cmd("CREATE &ZeVnLIqe")    # unterminated base64 run: invalid
    assert t.startswith(b"NO") or t.startswith(b"BAD"), t


def test_list_delimiter_and_rename_inbox(c):
    u, _ = c.ok('LIST "" ""')
    assert u == [b'* LIST (\\Noselect) "/" ""'], u
    tok = unique("ri")
    c.ok("APPEND INBOX", literal=msg(tok))
    u, _ = c.ok("STATUS INBOX (MESSAGES)")
    before = int(re.search(rb"MESSAGES (\d+)", u[0]).group(1))
    assert before >= 1
    dest = unique("oldinbox")
    c.ok("RENAME INBOX %s" % dest)
    u, _ = c.ok("STATUS INBOX (MESSAGES)")
    assert b"MESSAGES 0" in u[0], u
    u, _ = c.ok("STATUS %s (MESSAGES)" % dest)
    assert b"MESSAGES %d" % before in u[0], u
    # a trailing delimiter creates the name without it
    name = unique("trail")
    c.ok("CREATE %s/" % name)
    u, _ = c.ok('LIST "" %s' % name)
    assert len(u) == 1 and u[0].endswith(name.encode()), u


def test_uidplus_codes(c):
    box = fresh_box(c)
    u, t = c.ok("APPEND %s (\\Seen) \"01-Jan-2026 10:00:00 +0900\"" % box, literal=msg(unique("up")))
    m = re.match(rb"OK \[APPENDUID (\d+) (\d+)\]", t)
    assert m and m.group(2) == b"1", t
    validity = m.group(1)
    dest = fresh_box(c)
    c.ok("SELECT %s" % box)
    u, _ = c.ok("FETCH 1 (FLAGS INTERNALDATE)")
    # the same instant (a server may answer in another zone)
    m = re.search(rb'INTERNALDATE "([^"]+)"', u[0])
    assert b"\\Seen" in u[0] and m, u
    got = datetime.datetime.strptime(m.group(1).decode(), "%d-%b-%Y %H:%M:%S %z")
    assert got == datetime.datetime(2026, 1, 1, 1, 0, tzinfo=datetime.timezone.utc), got
    u, t = c.ok("UID COPY 1 %s" % dest)
    assert re.match(rb"OK \[COPYUID \d+ 1 1\]", t), t
    u, t = c.ok("UID MOVE 1 %s" % dest)
    text = b"\n".join(u)
    assert re.search(rb"^\* OK \[COPYUID \d+ 1 2\]", text, re.M) or re.match(rb"OK \[COPYUID", t), (u, t)
    assert b"* 1 EXPUNGE" in text, u
    c.ok("SELECT %s" % dest)
    c.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    u, _ = c.ok("UID EXPUNGE 2")
    assert [l for l in u if l.endswith(b"EXPUNGE")] == [b"* 2 EXPUNGE"], u
    u, _ = c.ok("STATUS %s (UIDVALIDITY)" % box)
    assert validity in u[0], u


def test_condstore_and_esearch(c):
    box = fresh_box(c)
    for i in range(3):
        c.ok("APPEND %s" % box, literal=msg(unique("cs%d" % i)))
    u, t = c.ok("SELECT %s (CONDSTORE)" % box)
    text = b"\n".join(u)
    m = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", text)
    assert m, text
    hms = int(m.group(1))
    u, _ = c.ok("STORE 2 +FLAGS (\\Flagged)")
    m2 = re.search(rb"MODSEQ \((\d+)\)", u[0])
    assert m2 and int(m2.group(1)) > hms, u
    u, _ = c.ok("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hms)
    assert len(u) == 1 and u[0].startswith(b"* 2 FETCH"), u
    u, _ = c.ok("SEARCH MODSEQ %d" % (hms + 1))
    assert u and re.match(rb"\* SEARCH 2 \(MODSEQ \d+\)$", u[0]), u
    u, t = c.ok("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS (\\Answered)" % hms)
    assert b"[MODIFIED 2]" in t, t
    u, _ = c.ok("SEARCH RETURN (MIN MAX COUNT ALL) ALL")
    assert re.match(rb'\* ESEARCH \(TAG "p\d+"\) MIN 1 MAX 3 COUNT 3 ALL 1:3$', u[0]), u
    u, _ = c.ok("UID SEARCH RETURN (COUNT) FLAGGED")
    assert re.match(rb'\* ESEARCH \(TAG "p\d+"\) UID COUNT 1$', u[0]), u
    u, _ = c.ok("STATUS %s (HIGHESTMODSEQ MESSAGES SIZE)" % box)
    assert b"HIGHESTMODSEQ" in u[0] and b"MESSAGES 3" in u[0] and b"SIZE" in u[0], u


def test_search_programs(c):
    box = fresh_box(c)
    toks = [unique("sp%d" % i) for i in range(4)]
    for t in toks:
        c.ok("APPEND %s" % box, literal=msg(t))
    c.ok("SELECT %s" % box)
    c.ok("STORE 1,3 +FLAGS.SILENT (\\Seen)")
    c.ok("STORE 4 +FLAGS.SILENT (\\Flagged)")
    def search(q):
        u, _ = c.ok("SEARCH " + q)
        return u[0]
    assert search("SEEN") == b"* SEARCH 1 3"
    assert search("NOT SEEN") == b"* SEARCH 2 4"
    assert search("OR FLAGGED 1") == b"* SEARCH 1 4"
    assert search("(OR SEEN FLAGGED) NOT 3") == b"* SEARCH 1 4"
    assert search("UNSEEN UNFLAGGED") == b"* SEARCH 2"
    assert search("2:* SEEN") == b"* SEARCH 3"
    assert search('BODY "%s"' % toks[2]) == b"* SEARCH 3"
    assert search('TEXT "%s"' % toks[1].upper()) == b"* SEARCH 2"     # case-insensitive
    assert search("LARGER 1 SMALLER 100000000") == b"* SEARCH 1 2 3 4"
    assert search("SENTSINCE 1-Jan-2000 BEFORE 1-Jan-2100") == b"* SEARCH 1 2 3 4"
    assert search("UID 2:3") == b"* SEARCH 2 3"
    assert search("CHARSET UTF-8 SUBJECT test") in (b"* SEARCH 1 2 3 4", b"* SEARCH")
    u, t = c.cmd("SEARCH CHARSET NO-SUCH-CHARSET ALL")
    assert t.startswith(b"NO [BADCHARSET"), t


def test_sort_and_thread(c):
    box = fresh_box(c)

    def add(subject, date, frm, mid, refs=""):
        head = "From: %s\r\nTo: x@example.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n" % (
            frm, subject, date, mid)
        if refs:
            head += "References: %s\r\n" % refs
        c.ok("APPEND %s" % box, literal=(head + "\r\nbody " + unique("st") + "\r\n").encode())
    add("Plan", "Mon, 2 Nov 2026 10:00:00 +0900", "Zed <zed@example.test>", "<a@x>")
    add("Re: Plan", "Mon, 2 Nov 2026 12:00:00 +0900", "amy@example.test", "<b@x>", "<a@x>")
    add("=?UTF-8?B?5Lya6K2w?=", "Sun, 1 Nov 2026 09:00:00 +0000", "Bob <bob@example.test>", "<c@x>")
    add("Re: Plan", "Mon, 2 Nov 2026 11:00:00 +0900", "carl@example.test", "<d@x>", "<a@x> <b@x>")
    c.ok("SELECT %s" % box)
    caps = b" ".join(c.ok("CAPABILITY")[0])
    assert b"SORT" in caps and b"THREAD=REFERENCES" in caps and b"THREAD=ORDEREDSUBJECT" in caps
    u, _ = c.ok("SORT (DATE) UTF-8 ALL")
    assert u == [b"* SORT 3 1 4 2"], u
    u, _ = c.ok("SORT (REVERSE DATE) UTF-8 ALL")
    assert u == [b"* SORT 2 4 1 3"], u
    u, _ = c.ok("SORT (SUBJECT ARRIVAL) UTF-8 ALL")      # "plan" x3 < "会議"
    assert u == [b"* SORT 1 2 4 3"], u
    u, _ = c.ok("SORT (FROM) UTF-8 ALL")                 # amy bob carl zed
    assert u == [b"* SORT 2 3 4 1"], u
    u, _ = c.ok("SORT (DISPLAYFROM) UTF-8 ALL")          # amy@.., Bob, carl@.., Zed
    assert u == [b"* SORT 2 3 4 1"], u
    u, _ = c.ok("UID SORT (SIZE) UTF-8 2:4")
    assert u[0].startswith(b"* SORT") and len(u[0].split()) == 5, u
    u, _ = c.ok("THREAD REFERENCES UTF-8 ALL")
    assert u == [b"* THREAD (3)(1 2 4)"], u            # 4 answers 2, which answers 1
    u, _ = c.ok("THREAD ORDEREDSUBJECT UTF-8 ALL")
    assert u == [b"* THREAD (3)(1 (4)(2))"], u         # threads by the date of their first
    for bad in ("SORT DATE UTF-8 ALL", "SORT (NOPE) UTF-8 ALL", "SORT (DATE)", "THREAD NOPE UTF-8 ALL"):
        u, t = c.cmd(bad)
        assert t.startswith(b"BAD"), (bad, t)
    u, t = c.cmd("SORT (DATE) KOI8-R ALL")
    assert t.startswith(b"NO [BADCHARSET"), t


def recent_of(u):
    r = [l for l in u if l.endswith(b" RECENT")]
    return int(r[-1].split()[1]) if r else None


def test_recent_append_copy_examine(server, c):
    box, dst = fresh_box(c), fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("r1")))
    c.ok("APPEND %s" % box, literal=msg(unique("r2")))
    # APPEND makes recent messages (RFC 3501 6.3.11); STATUS and EXAMINE
    # only look (6.3.2: EXAMINE MUST NOT clear \Recent)
    u, _ = c.ok("STATUS %s (RECENT)" % box)
    assert re.search(rb"RECENT 2\)", u[0]), u
    u, _ = c.ok("EXAMINE %s" % box)
    assert recent_of(u) == 2, u
    u, _ = c.ok("FETCH 1:2 FLAGS")
    assert all(b"\\Recent" in l for l in u), u
    c.ok("CLOSE")
    u, _ = c.ok("SELECT %s" % box)
    assert recent_of(u) == 2, u
    u, _ = c.ok("SEARCH RECENT")
    assert u == [b"* SEARCH 1 2"], u
    # this session took \Recent: another one does not see it any more
    other = Raw(server)
    other.ok("LOGIN %s %s" % (USER, PASSWORD))
    u, _ = other.ok("SELECT %s" % box)
    assert recent_of(u) == 0, u
    # COPY makes recent messages too (6.4.7)
    c.ok("COPY 1:2 %s" % dst)
    u, _ = other.ok("STATUS %s (RECENT MESSAGES)" % dst)
    assert re.search(rb"RECENT 2\b", u[0]), u
    other.close()


def test_new_keyword_announced_in_flags(server, c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("k")))
    c.ok("APPEND %s (kwold)" % box, literal=msg(unique("k2")))
    u, _ = c.ok("SELECT %s" % box)
    # SELECT lists the keywords in use (RFC 3501 7.2.6)
    flags = [l for l in u if l.startswith(b"* FLAGS")]
    assert flags and b"kwold" in flags[0], u
    perm = [l for l in u if b"PERMANENTFLAGS" in l]
    assert perm and b"kwold" in perm[0] and b"\\*" in perm[0], u
    # another session sets a keyword never used before: FLAGS comes
    # before the FETCH that shows it
    other = Raw(server)
    other.ok("LOGIN %s %s" % (USER, PASSWORD))
    other.ok("SELECT %s" % box)
    u, _ = other.ok("STORE 1 +FLAGS (kwnew)")
    assert [l for l in u if l.startswith(b"* FLAGS")], u
    other.close()
    u, _ = c.ok("NOOP")
    fi = [i for i, l in enumerate(u) if l.startswith(b"* FLAGS") and b"kwnew" in l]
    fe = [i for i, l in enumerate(u) if b"FETCH" in l and b"kwnew" in l]
    assert fi and fe and fi[0] < fe[0], u


def test_fetch_modseq_enables_condstore(c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("m")))
    c.ok("SELECT %s" % box)
    u, _ = c.ok("STORE 1 +FLAGS (\\Seen)")
    assert b"MODSEQ" not in u[0], u
    u, _ = c.ok("FETCH 1 (MODSEQ)")
    assert any(re.match(rb"\* OK \[HIGHESTMODSEQ \d+\]", l) for l in u), u
    u, _ = c.ok("STORE 1 -FLAGS (\\Seen)")
    assert re.search(rb"MODSEQ \(\d+\)", u[-1]), u


def test_store_nil_keyword(c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("n")))
    c.ok("SELECT %s" % box)
    # NIL is an atom, so a valid flag-keyword (RFC 3501 9)
    c.ok("STORE 1 +FLAGS NIL")
    u, _ = c.ok("FETCH 1 FLAGS")
    assert re.search(rb"FLAGS \([^)]*\bNIL\b", u[-1]), u


def test_list_extended_errors_and_childinfo(c):
    root = unique("lx")
    for n in ("a", "a/b", "c/d"):
        c.ok("CREATE %s/%s" % (root, n))
    c.ok("SUBSCRIBE %s/a/b" % root)
    # RECURSIVEMATCH alone (or with REMOTE only) and unknown RETURN options
    # are BAD (RFC 5258 3.1, 3.2)
    for bad in ('LIST (RECURSIVEMATCH) "" "*"', 'LIST (RECURSIVEMATCH REMOTE) "" "*"',
                'LIST "" "*" RETURN (NOSUCHOPTION)', 'LIST (NOSUCH) "" "*"'):
        _, t = c.cmd(bad)
        assert t.startswith(b"BAD"), (bad, t)
    # a parent that is not subscribed but has a subscribed child the
    # pattern does not match gets CHILDINFO (RFC 5258 3.5)
    u, _ = c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" %s/%%' % root)
    assert len(u) == 1 and u[0].endswith(b'%s/a (CHILDINFO ("SUBSCRIBED"))' % root.encode()), u
    assert b"\\Subscribed" not in u[0], u
    # a parent that exists only through its children is listed \Noselect
    u, _ = c.ok('LIST "" %s/%%' % root)
    cl = [l for l in u if l.endswith(b"%s/c" % root.encode())]
    assert cl and b"\\Noselect" in cl[0] and b"\\HasChildren" in cl[0], u


def test_subscriptions_are_names(c):
    root = unique("sb")
    c.ok("CREATE %s/x/y" % root)
    c.ok("CREATE %s/x" % root)
    c.ok("CREATE %s/gone" % root)
    # CREATE does not subscribe by itself
    u, _ = c.ok('LSUB "" %s/*' % root)
    assert u == [], u
    c.ok("SUBSCRIBE %s/x/y" % root)
    c.ok("SUBSCRIBE %s/gone" % root)
    # LSUB with %: the unsubscribed parent of a subscribed child shows as
    # \Noselect (RFC 3501 6.3.9)
    u, _ = c.ok('LSUB "" %s/%%' % root)
    x = [l for l in u if l.endswith(b"%s/x" % root.encode())]
    assert x and b"\\Noselect" in x[0], u
    # DELETE keeps the subscription (6.3.6: MUST NOT unilaterally remove)
    c.ok("DELETE %s/gone" % root)
    u, _ = c.ok('LSUB "" %s/gone' % root)
    assert len(u) == 1 and b"\\Noselect" in u[0], u
    u, _ = c.ok('LIST (SUBSCRIBED) "" %s/gone' % root)
    assert len(u) == 1 and b"\\NonExistent" in u[0] and b"\\Subscribed" in u[0], u
    c.ok("UNSUBSCRIBE %s/gone" % root)
    u, _ = c.ok('LSUB "" %s/gone' % root)
    assert u == [], u
    # the account's own folders stay subscribed
    u, _ = c.ok('LSUB "" *')
    assert any(l.endswith(b" INBOX") for l in u) and any(b"Sent" in l for l in u), u


def test_mailbox_name_not_mutf7_is_no_not_bad(c):
    # any astring is a mailbox name; one that is no valid modified UTF-7
    # is refused with NO, and a LIST pattern like it matches nothing
    _, t = c.cmd("SELECT a&b")
    assert t.startswith(b"NO"), t
    _, t = c.cmd("SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}")
    assert t.startswith(b"NO"), t
    u, t = c.cmd("LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*")
    assert t.startswith(b"OK") and u == [], (u, t)
    c.ok("NOOP")


def test_sort_casemap_groups_search_addresses_thread_loop(c):
    box = fresh_box(c)

    def add(subject, frm, cc, mid, refs=""):
        head = "From: %s\r\nTo: x@example.test\r\nCc: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n" % (
            frm, cc, subject, mid)
        if refs:
            head += "References: %s\r\n" % refs
        c.ok("APPEND %s" % box, literal=(head + "\r\nbody " + unique("sc") + "\r\n").encode())
    add("_under", "<user-from (comment)@ (comment) domain.org>", "mmm@example.test", "<a@x>")
    add("[bracket", "plain@domain.org", "team: zzz@example.test;", "<b@x>", "<a@x> <c@x>")
    add("Zulu", "other@domain.org", "aaa@example.test", "<c@x>", "<b@x>")
    c.ok("SELECT %s" % box)
    # i;ascii-casemap folds to upper case: letters < "[" < "_" (RFC 4790 9.2)
    u, _ = c.ok("SORT (SUBJECT) US-ASCII ALL")
    assert u == [b"* SORT 3 2 1"], u
    # a group's first ENVELOPE address is the group itself: key "team"
    u, _ = c.ok("SORT (CC) US-ASCII ALL")
    assert u == [b"* SORT 3 1 2"], u
    # SEARCH FROM matches the address as ENVELOPE shows it
    u, _ = c.ok("SEARCH FROM user-from@domain.org")
    assert u == [b"* SEARCH 1"], u
    u, _ = c.ok("FETCH 1 ENVELOPE")
    assert b'"user-from" "domain.org"' in u[0], u
    # 2 put the dummy <c@x> under 1 and itself under <c@x>; 3 is <c@x> and
    # names 2 as its parent: it must not stay under 1 nor go under 2
    u, _ = c.ok("THREAD REFERENCES US-ASCII ALL")
    assert u[0] in (b"* THREAD (1)(3 2)", b"* THREAD (3 2)(1)"), u


def test_nul_never_in_a_plain_literal(server, c):
    box = fresh_box(c)
    tok = unique("nul")
    # by SMTP: the NUL is stored as it came
    sm = SMTPConn(server.port("smtp"))
    try:
        sm.ehlo().expect(250)
        body = ("From: a@client.test\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain\r\n\r\n" % (USER, tok)).encode()
        replies = sm.send_mail("a@client.test", [USER], body + b"ab\x00cd\r\n")
        assert [r.code for r in replies] == [250, 250, 250], replies
    finally:
        sm.quit()
    # by APPEND of a literal8 (RFC 3516)
    lit = (b"From: a@client.test\r\nSubject: bin\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\r\n")
    c.n += 1
    c.send(b"p%d APPEND %s ~{%d}\r\n" % (c.n, box.encode(), len(lit)))
    assert c.line().startswith(b"+")
    c.send(lit + b"\r\n")
    assert c.line().startswith(b"p%d OK" % c.n)
    c.ok("SELECT INBOX")
    u, _ = c.ok("SEARCH SUBJECT %s" % tok)
    seq = u[0].split()[-1].decode()
    for item in ("BODY.PEEK[]", "BODY.PEEK[1]", "BODY.PEEK[TEXT]", "RFC822.TEXT"):
        u, _ = c.ok("FETCH %s (%s)" % (seq, item))
        assert b"\x00" not in b"".join(u) and b"ab\x80cd" in u[0], (item, u)
    u, _ = c.ok("FETCH %s (BINARY.PEEK[1])" % seq)
    assert b"~{" in u[0] and b"ab\x00cd" in u[0], u
    c.ok("SELECT %s" % box)
    u, _ = c.ok("FETCH 1 (BODY.PEEK[1])")
    assert b"\x00" not in u[0], u
    u, _ = c.ok("FETCH 1 (BINARY.PEEK[1])")
    assert b"~{" in u[0] and b"\x00-\xe4" in u[0], u


def test_append_over_quota_one_tagged_reply(server):
    q = Raw(server)
    q.ok("LOGIN %s %s" % (QUSER, PASSWORD))
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1200
    # synchronising: refused before the data
    q.n += 1
    q.send(b"p%d APPEND INBOX {%d}\r\n" % (q.n, len(big)))
    line = q.line()
    assert line.startswith(b"p%d NO [OVERQUOTA]" % q.n), line
    # non-synchronising (LITERAL+): the data comes anyway, one tagged reply
    q.n += 1
    q.send(b"p%d APPEND INBOX {%d+}\r\n" % (q.n, len(big)) + big + b"\r\n")
    line = q.line()
    assert line.startswith(b"p%d NO [OVERQUOTA]" % q.n), line
    u, t = q.cmd("NOOP")
    assert t.startswith(b"OK") and not any(l.startswith(b"p") for l in u), (u, t)
    q.close()


def test_mailbox_name_too_long_or_deep_is_not_serverbug(c):
    for name in ("x" * 300, "/".join(["a"] * 200), "y" * 600):
        _, t = c.cmd("CREATE %s" % name)
        assert t.startswith(b"NO") and b"SERVERBUG" not in t and b"[LIMIT]" in t, (name[:20], t)
    box = fresh_box(c)
    _, t = c.cmd("RENAME %s %s" % (box, "z" * 300))
    assert t.startswith(b"NO [LIMIT]"), t


def test_rfc822_size_is_the_file_not_its_name(server, c):
    import os
    tok = unique("sz")
    data = ("From: a@client.test\r\nSubject: %s\r\n\r\nshort\r\n" % tok).encode()
    # a file whose name claims more bytes than it holds (S= is only a hint)
    path = os.path.join(server.maildir(USER), "new", "1700000000.M1P1.%s,S=99999" % tok)
    with open(path, "wb") as f:
        f.write(data)
    c.ok("SELECT INBOX")
    u, _ = c.ok("SEARCH SUBJECT %s" % tok)
    seq = u[0].split()[-1].decode()
    u, _ = c.ok("FETCH %s (RFC822.SIZE BODY.PEEK[])" % seq)
    assert b"RFC822.SIZE %d " % len(data) in u[0] and b"{%d}" % len(data) in u[0], u


def test_bad_arguments_keep_the_connection(c):
    box = fresh_box(c)
    c.ok("APPEND %s" % box, literal=msg(unique("b")))
    c.ok("SELECT %s" % box)
    # a bad argument is a BAD, and the session goes on
    for bad in ('SEARCH RETURN (ALL) 1 MODSEQ "/flags/\\\\seen" all', "SEARCH MODSEQ x",
                "FETCH 1 (MODSEQ", 'LIST "" "" RETURN (BOGUS)'):
        _, t = c.cmd(bad)
        assert t.startswith(b"BAD"), (bad, t)
        c.ok("NOOP")


# ---- QRESYNC (RFC 7162 3.2)

def qresync_box(c, n):
    """A fresh folder with n messages, selected by c with QRESYNC on:
    (name, UIDVALIDITY, HIGHESTMODSEQ)."""
    box = fresh_box(c)
    for i in range(n):
        c.ok("APPEND %s" % box, literal=msg(unique("qr%d" % i)))
    u, _ = c.ok("ENABLE QRESYNC")
    assert u == [b"* ENABLED QRESYNC"], u
    u, _ = c.ok("SELECT %s" % box)
    text = b"\n".join(u)
    validity = int(re.search(rb"\[UIDVALIDITY (\d+)\]", text).group(1))
    hms = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]", text).group(1))
    return box, validity, hms


def session(server, qresync=False):
    """Another session of USER, logged in (QRESYNC enabled if asked)."""
    r = Raw(server)
    r.ok("LOGIN %s %s" % (USER, PASSWORD))
    if qresync:
        r.ok("ENABLE QRESYNC")
    return r


def gone_lines(untagged):
    return [l for l in untagged if l.endswith(b" EXPUNGE") or l.startswith(b"* VANISHED")]


def modseq_of(c, box):
    u, _ = c.ok("STATUS %s (HIGHESTMODSEQ)" % box)
    return int(re.search(rb"HIGHESTMODSEQ (\d+)", u[0]).group(1))


def test_qresync_select_reports_what_changed(c, server):
    u, _ = c.ok("CAPABILITY")
    assert b" QRESYNC" in u[0] and b" CONDSTORE" in u[0], u
    # the SELECT parameter needs ENABLE QRESYNC first
    plain = fresh_box(c)
    _, t = c.cmd("SELECT %s (QRESYNC (1 1))" % plain)
    assert t.startswith(b"BAD"), t
    box, validity, hms = qresync_box(c, 5)
    u, _ = c.ok("UID STORE 2 +FLAGS (\\Flagged)")
    assert re.match(rb"\* 2 FETCH \(.*MODSEQ \(\d+\)", u[0]), u	# CONDSTORE came with it
    # with QRESYNC every FETCH response names its UID, asked for or not
    u, _ = c.ok("STORE 1 +FLAGS (\\Seen)")
    assert re.match(rb"\* 1 FETCH \(FLAGS \(\\Seen[^)]*\) MODSEQ \(\d+\) UID 1\)$", u[0]), u
    u, _ = c.ok("FETCH 4 (FLAGS)")
    assert re.match(rb"\* 4 FETCH \(FLAGS \([^)]*\) UID 4\)$", u[0]), u
    c.ok("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
    before = modseq_of(c, box)
    u, t = c.ok("EXPUNGE")
    assert gone_lines(u) == [b"* VANISHED 3"], u	# not "* 3 EXPUNGE"
    after = modseq_of(c, box)
    assert after > before	# an expunge moves HIGHESTMODSEQ
    assert t == b"OK [HIGHESTMODSEQ %d] EXPUNGE completed" % after, t

    d = session(server, qresync=True)
    try:
        u, _ = d.ok("SELECT %s (QRESYNC (%d %d 1:5))" % (box, validity, hms))
        assert b"* VANISHED (EARLIER) 3" in u, u
        fetches = [l for l in u if re.match(rb"\* \d+ FETCH", l)]
        assert len(fetches) == 2, u	# 1 and 2 changed; 4 and 5 did not
        assert re.match(rb"\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$", fetches[0]), u
        assert re.match(rb"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$", fetches[1]), u
        # known UIDs limit what is reported gone; seq-match (2 is still
        # message 2) only proves nothing below UID 2 went
        u, _ = d.ok("SELECT %s (QRESYNC (%d %d 4:5))" % (box, validity, hms))
        assert not [l for l in u if b"VANISHED" in l], u
        assert b"* OK [CLOSED] Previous mailbox closed" in u, u
        u, _ = d.ok("EXAMINE %s (QRESYNC (%d %d 1:5 (1:2 1:2)))" % (box, validity, hms))
        assert b"* VANISHED (EARLIER) 3" in u, u
        # pairs far beyond the folder are not walked one by one
        u, _ = d.ok("EXAMINE %s (QRESYNC (%d %d 1:5 (1:4000000000 1:4000000000)))" % (box, validity, hms))
        assert b"* VANISHED (EARLIER) 3" in u, u
        # message 3 is UID 4 as the client says: it knew of 3's going
        u, _ = d.ok("EXAMINE %s (QRESYNC (%d %d 1:5 (3 4)))" % (box, validity, hms))
        assert not [l for l in u if b"VANISHED" in l], u
        # a message that moved down proves nothing: 4 is message 3 now
        u, _ = d.ok("EXAMINE %s (QRESYNC (%d %d 1:5 (4 4)))" % (box, validity, hms))
        assert b"* VANISHED (EARLIER) 3" in u, u
        # another UIDVALIDITY, or the current mod-sequence: nothing to tell
        for params in ("(%d %d)" % (validity + 1, hms), "(%d %d)" % (validity, modseq_of(d, box))):
            u, _ = d.ok("SELECT %s (QRESYNC %s)" % (box, params))
            assert not [l for l in u if b"VANISHED" in l or b"FETCH" in l], (params, u)
        # UID FETCH's VANISHED modifier: the gone UIDs of the set, then the changes
        u, _ = d.ok("UID FETCH 1:5 (FLAGS) (CHANGEDSINCE %d VANISHED)" % hms)
        assert u[0] == b"* VANISHED (EARLIER) 3", u
        assert len(u) == 3 and re.match(rb"\* 1 FETCH \(.*UID 1", u[1]) and \
            re.match(rb"\* 2 FETCH \(.*UID 2", u[2]), u
        u, _ = d.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq_of(d, box))
        assert u == [], u
        _, t = d.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
        assert t.startswith(b"BAD"), t	# VANISHED only with UID FETCH
    finally:
        d.close()
    # without ENABLE QRESYNC the modifier is refused
    e = session(server)
    try:
        e.ok("SELECT %s" % box)
        _, t = e.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
        assert t.startswith(b"BAD"), t
    finally:
        e.close()


def test_qresync_sessions_hear_vanished(c, server):
    box, validity, hms = qresync_box(c, 5)
    other = session(server)
    try:
        other.ok("SELECT %s" % box)
        other.ok("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        u, _ = other.ok("EXPUNGE")
        assert gone_lines(u) == [b"* 1 EXPUNGE"], u	# a session without QRESYNC
    finally:
        other.close()
    u, _ = c.ok("NOOP")
    assert gone_lines(u) == [b"* VANISHED 1"], u
    # and while it idles
    c.send(b"idle1 IDLE\r\n")
    assert c.line().startswith(b"+"), c.buf
    other = session(server)
    try:
        other.ok("SELECT %s" % box)
        other.ok("UID STORE 5 +FLAGS.SILENT (\\Deleted)")
        other.ok("UID EXPUNGE 5")
    finally:
        other.close()
    line = c.line()
    while line.startswith(b"* ") and not line.startswith(b"* VANISHED") and not line.endswith(b"EXPUNGE"):
        line = c.line()	# EXISTS and the like may come first
    assert line == b"* VANISHED 5", line
    c.send(b"DONE\r\n")
    while not line.startswith(b"idle1 "):
        line = c.line()
    assert line.startswith(b"idle1 OK"), line
    c.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    u, t = c.ok("UID EXPUNGE 2")
    assert gone_lines(u) == [b"* VANISHED 2"], u
    assert t == b"OK [HIGHESTMODSEQ %d] UID EXPUNGE completed" % modseq_of(c, box), t
    dest = fresh_box(c)
    u, _ = c.ok("UID MOVE 3 %s" % dest)
    assert gone_lines(u) == [b"* VANISHED 3"], u
    # a file another program removes from cur/ is an expunge as well
    cur = os.path.join(server.maildir(USER), "." + box, "cur")
    names = sorted(os.listdir(cur))
    assert len(names) == 1, names
    before = modseq_of(c, box)
    os.unlink(os.path.join(cur, names[0]))
    u, _ = c.ok("NOOP")
    assert gone_lines(u) == [b"* VANISHED 4"], u
    assert modseq_of(c, box) > before
    d = session(server, qresync=True)
    try:
        u, _ = d.ok("SELECT %s (QRESYNC (%d %d))" % (box, validity, hms))
        assert b"* VANISHED (EARLIER) 1:5" in u, u
        assert b"* 0 EXISTS" in u, u
    finally:
        d.close()
