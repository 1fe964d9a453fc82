"""The webmail's reading side of the API (issue 12, sections 1 and 2)
against the real daemon, with Python's imaplib beside it on the same
mailbox: Japanese mail decoded, attachments with Japanese names, flags and
expunges seen across IMAP and the API, the quota after emptying the Trash,
other users' mailboxes out of reach, CSRF enforced, and the event stream
fed by the change counter IMAP IDLE watches."""

import re
import ssl
import socket
import time
import urllib.parse

import pytest

from api_util import Client, admin, api_server, served, user
from helpers import HOST, HOSTNAME, PASSWORD
from protection_util import events
from webmail_util import (append, attachment_message, eucjp_message, html_message, imap, iso2022jp_message, q,
                          qp_utf8_message, sjis_message)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from served(api_server(tmp_path_factory, "webmail_api"))


@pytest.fixture(scope="module")
def me(srv):
    return user(srv)


def ok(r, status=200):
    assert r.status == status, r
    return r.json


def inbox(me, **params):
    query = urllib.parse.urlencode(params)
    return ok(me.get("/api/v1/mail/folders/INBOX/messages" + ("?" + query if query else "")))


def find(listing, uid):
    return next(m for m in listing["messages"] if m["uid"] == uid)


def test_folders_with_roles_and_quota(srv, me):
    r = ok(me.get("/api/v1/mail/folders"))
    roles = [f["role"] for f in r["folders"]]
    assert roles[:5] == ["inbox", "drafts", "sent", "junk", "trash"], r
    assert r["address"] == "user@example.test"
    assert set(r["quota"]) == {"used", "limit"}


def test_iso2022jp_decoded(srv, me):
    uid = append(srv, iso2022jp_message("会議の件", "明日の会議は十時からです。\n①を確認してください。"))
    m = find(inbox(me), uid)
    assert m["subject"] == "会議の件"
    assert m["from"] == {"name": "山田太郎", "address": "taro@sender.test"}
    assert m["to"] == {"name": "", "address": "user@example.test"}
    assert m["flags"]["seen"] is False
    msg = ok(me.get("/api/v1/mail/messages/INBOX/%d" % uid))
    assert "明日の会議は十時からです。" in msg["text"]
    assert "①" in msg["text"]
    assert msg["headers"]["subject"] == "会議の件"
    assert msg["html"] is None and msg["attachments"] == []


def test_shift_jis_decoded(srv, me):
    uid = append(srv, sjis_message("見積もりのご案内", "お世話になっております。ソフトウェアの表示確認です。"))
    msg = ok(me.get("/api/v1/mail/messages/INBOX/%d" % uid))
    assert msg["subject"] == "見積もりのご案内"
    assert "ソフトウェアの表示確認です。" in msg["text"]


def test_euc_jp_and_quoted_printable_utf8_decoded(srv, me):
    uid = append(srv, eucjp_message("請求書の送付", "いつもお世話になっております。請求書を送付します。"))
    msg = ok(me.get("/api/v1/mail/messages/INBOX/%d" % uid))
    assert msg["subject"] == "請求書の送付"
    assert "請求書を送付します。" in msg["text"]
    uid = append(srv, qp_utf8_message("日本語の件名", "本文は UTF-8 です。"))
    msg = ok(me.get("/api/v1/mail/messages/INBOX/%d" % uid))
    assert msg["subject"] == "日本語の件名" and "本文は UTF-8 です。" in msg["text"]


def test_copy_counts_against_the_quota(srv, me):
    uid = append(srv, attachment_message("c.bin", b"c" * 30000, subject="copy me"))
    ok(me.post("/api/v1/mail/folders", {"name": "Copies"}), 201)
    used0 = ok(me.get("/api/v1/mail/folders"))["quota"]["used"]
    r = ok(me.post("/api/v1/mail/folders/INBOX/move", {"uids": [uid], "to": "Copies", "copy": True}))
    assert r["copied"] == 1 and r["quota"]["used"] > used0 + 30000
    copies = ok(me.get("/api/v1/mail/folders/Copies/messages"))
    assert [m["subject"] for m in copies["messages"]] == ["copy me"]
    assert find(inbox(me), uid)["subject"] == "copy me"      # still there
    r = ok(me.post("/api/v1/mail/folders/Copies/move", {"uids": [copies["messages"][0]["uid"]], "to": "INBOX"}))
    assert r["moved"] == 1
    assert ok(me.get("/api/v1/mail/folders/Copies/messages"))["total"] == 0
    ok(me.request("DELETE", "/api/v1/mail/folders/Copies"))


def test_attachment_with_japanese_name(srv, me):
    data = bytes(range(256)) * 20
    uid = append(srv, attachment_message("見積書 2026.pdf", data))
    assert find(inbox(me), uid)["attachment"] is True
    msg = ok(me.get("/api/v1/mail/messages/INBOX/%d" % uid))
    att = msg["attachments"]
    assert [(a["part"], a["name"], a["type"]) for a in att] == [("2", "見積書 2026.pdf", "application/pdf")]
    r = me.get("/api/v1/mail/messages/INBOX/%d/parts/2" % uid)
    assert r.status == 200 and r.raw == data
    disp = r.headers["Content-Disposition"]
    assert disp.startswith("attachment;")
    m = re.search(r"filename\*=UTF-8''([^;]+)", disp)
    assert urllib.parse.unquote(m.group(1)) == "見積書 2026.pdf"
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert me.get("/api/v1/mail/messages/INBOX/%d/parts/7" % uid).status == 404
    assert me.get("/api/v1/mail/messages/INBOX/%d/parts/1.1.1" % uid).status == 404


def test_html_body_and_raw_source(srv, me):
    raw = html_message("<p onclick=x()>hello <b>world</b></p>", "html mail")
    uid = append(srv, raw)
    msg = ok(me.get("/api/v1/mail/messages/INBOX/%d" % uid))
    assert msg["html"].strip() == "<p onclick=x()>hello <b>world</b></p>"
    assert msg["text"] is None
    r = me.get("/api/v1/mail/messages/INBOX/%d/raw" % uid)
    assert r.status == 200 and r.raw.replace(b"\r\n", b"\n") == raw
    assert r.headers["Content-Type"].startswith("text/plain")
    r = me.get("/api/v1/mail/messages/INBOX/%d/raw?download=1" % uid)
    assert r.headers["Content-Disposition"] == 'attachment; filename="message-%d.eml"' % uid


def test_flag_set_over_api_seen_by_imap_with_higher_modseq(srv, me):
    uid = append(srv, iso2022jp_message("フラグ", "本文"))
    m = imap(srv)
    try:
        m.enable("CONDSTORE") if "ENABLE" in m.capabilities else None
        m.select("INBOX")
        typ, data = m.uid("FETCH", str(uid), "(FLAGS MODSEQ)")
        before = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
        assert b"\\Seen" not in data[0]
        r = ok(me.request("PATCH", "/api/v1/mail/folders/INBOX/messages",
                          {"uids": [uid], "seen": True, "flagged": True}))
        assert r["changed"] == 1
        typ, data = m.uid("FETCH", str(uid), "(FLAGS MODSEQ)")
        text = b" ".join(d if isinstance(d, bytes) else b"" for d in data)
        assert b"\\Seen" in text and b"\\Flagged" in text, data
        after = int(re.search(rb"MODSEQ \((\d+)\)", text).group(1))
        assert after > before
        # and back: IMAP clears \Flagged, the API sees it
        m.uid("STORE", str(uid), "-FLAGS", "(\\Flagged)")
    finally:
        m.logout()
    flags = find(inbox(me), uid)["flags"]
    assert flags["seen"] is True and flags["flagged"] is False


def test_imap_expunge_gone_from_api(srv, me):
    uid = append(srv, iso2022jp_message("消える", "本文"))
    assert any(x["uid"] == uid for x in inbox(me, limit=200)["messages"])
    m = imap(srv)
    try:
        m.select("INBOX")
        m.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
        m.expunge()
    finally:
        m.logout()
    assert all(x["uid"] != uid for x in inbox(me, limit=200)["messages"])
    assert me.get("/api/v1/mail/messages/INBOX/%d" % uid).status == 404


def test_delete_to_trash_then_empty_drops_quota(srv, me):
    big = b"x" * 200000
    uid = append(srv, attachment_message("big.bin", big, subject="big"))
    used0 = ok(me.get("/api/v1/mail/folders"))["quota"]["used"]
    r = ok(me.post("/api/v1/mail/folders/INBOX/delete", {"uids": [uid]}))
    assert r["deleted"] == 1 and r["freed"] == 0
    assert r["quota"]["used"] == used0          # moved, not freed
    trash = ok(me.get("/api/v1/mail/folders/Trash/messages"))
    assert trash["total"] >= 1 and trash["messages"][0]["subject"] == "big"
    r = ok(me.post("/api/v1/mail/folders/Trash/empty"))
    assert r["deleted"] >= 1 and r["freed"] > 200000
    assert r["quota"]["used"] == used0 - r["freed"]
    assert ok(me.get("/api/v1/mail/folders"))["quota"]["used"] == used0 - r["freed"]
    assert ok(me.get("/api/v1/mail/folders/Trash/messages"))["total"] == 0
    # IMAP sees the same empty Trash
    m = imap(srv)
    try:
        typ, data = m.select("Trash")
        assert int(data[0]) == 0
    finally:
        m.logout()
    # only Trash and Junk are emptied
    r = me.post("/api/v1/mail/folders/INBOX/empty")
    assert r.status == 403 and r.code == "forbidden"


def test_delete_in_trash_removes(srv, me):
    uid = append(srv, html_message("<p>x</p>"), folder="Trash")
    r = ok(me.request("DELETE", "/api/v1/mail/messages/Trash/%d" % uid))
    assert r["deleted"] == 1 and r["freed"] > 0


def learned(srv, n_before):
    """Waits for one more spam-learned event of the user (the training job
    that IMAP MOVE into or out of Junk also starts)."""
    end = time.time() + 30
    while time.time() < end:
        got = events(srv, "spam-learned", "user@example.test")
        if len(got) > n_before:
            return got[-1][2]
        time.sleep(0.1)
    raise AssertionError("no spam-learned event:\n" + srv.log_tail())


def test_spam_and_not_spam_move(srv, me):
    uid = append(srv, iso2022jp_message("迷惑", "本文"))
    n = len(events(srv, "spam-learned", "user@example.test"))
    r = ok(me.post("/api/v1/mail/folders/INBOX/spam", {"uids": [uid]}))
    assert r["moved"] == 1
    assert "1 learned as spam" in learned(srv, n)
    n += 1
    junk = ok(me.get("/api/v1/mail/folders/Junk/messages"))
    assert [x["subject"] for x in junk["messages"]] == ["迷惑"]
    juid = junk["messages"][0]["uid"]
    r = ok(me.post("/api/v1/mail/folders/Junk/not-spam", {"uids": [juid]}))
    assert r["moved"] == 1
    assert "1 unlearned" in learned(srv, n)
    assert ok(me.get("/api/v1/mail/folders/Junk/messages"))["total"] == 0


def test_folders_create_rename_delete(srv, me):
    ok(me.post("/api/v1/mail/folders", {"name": "仕事/2026"}), 201)
    r = me.post("/api/v1/mail/folders", {"name": "仕事/2026"})
    assert r.status == 409 and r.code == "exists"
    ok(me.request("PATCH", "/api/v1/mail/folders/" + q("仕事/2026"), {"name": "仕事/2027"}))
    names = [f["name"] for f in ok(me.get("/api/v1/mail/folders"))["folders"]]
    assert "仕事/2027" in names and "仕事/2026" not in names
    m = imap(srv)
    try:
        typ, data = m.list()
        assert any(b"&TtVOiw-/2027" in d for d in data), data
    finally:
        m.logout()
    for special in ("INBOX", "Trash", "Sent"):
        r = me.request("DELETE", "/api/v1/mail/folders/" + special)
        assert r.status == 403, r
    for bad in ("", "a//b", "/x", "INBOX/sub", "x\x01y"):
        r = me.post("/api/v1/mail/folders", {"name": bad})
        assert r.status == 400 and r.json["error"]["field"] == "name", (bad, r)
    ok(me.request("DELETE", "/api/v1/mail/folders/" + q("仕事/2027")))


def test_paging_and_sort(srv, me):
    ok(me.post("/api/v1/mail/folders", {"name": "Paging"}), 201)
    for i, subj in enumerate(["b", "a", "d", "c", "e"]):
        append(srv, html_message("<p>%d</p>" % i + "x" * (i * 100), subj), folder="Paging")
    base = "/api/v1/mail/folders/Paging/messages"
    p1 = ok(me.get(base + "?limit=2"))
    assert p1["total"] == 5 and [m["subject"] for m in p1["messages"]] == ["e", "c"]
    p2 = ok(me.get(base + "?limit=2&offset=2"))
    assert [m["subject"] for m in p2["messages"]] == ["d", "a"]
    s = ok(me.get(base + "?sort=subject&order=asc"))
    assert [m["subject"] for m in s["messages"]] == ["a", "b", "c", "d", "e"]
    s = ok(me.get(base + "?sort=size&order=desc"))
    assert [m["subject"] for m in s["messages"]] == ["e", "c", "d", "a", "b"]
    assert ok(me.get(base + "?offset=99"))["messages"] == []
    assert me.get(base + "?limit=201").status == 400
    assert me.get(base + "?order=up").status == 400


def test_other_users_mailbox_unreachable(srv, me):
    second = user(srv, "second@example.test")
    uid = append(srv, iso2022jp_message("秘密", "他人には見えない"), user="second@example.test")
    # the same UID in the caller's own mailbox is another message or none
    r = me.get("/api/v1/mail/messages/INBOX/%d" % uid)
    assert r.status == 404 or "他人には見えない" not in (r.json or {}).get("text", "")
    # no path names another account: a folder name is never a path
    for folder in ("../second", "..%2Fsecond", "%2E%2E"):
        r = me.get("/api/v1/mail/folders/%s/messages" % folder)
        assert r.status in (400, 404), (folder, r)
    assert "他人には見えない" in ok(second.get("/api/v1/mail/messages/INBOX/%d" % uid))["text"]
    # administrators have no mailbox here
    s = admin(srv)
    r = s.get("/api/v1/mail/folders")
    assert r.status == 403 and r.code == "forbidden"
    assert s.get("/api/v1/mail/messages/INBOX/%d" % uid).status == 403
    # and nobody without a session
    assert Client(srv).get("/api/v1/mail/folders").status == 401


def test_csrf_enforced(srv, me):
    uid = append(srv, iso2022jp_message("CSRF", "本文"))
    r = me.request("PATCH", "/api/v1/mail/folders/INBOX/messages", {"uids": [uid], "seen": True}, csrf=False)
    assert r.status == 403 and r.code == "csrf"
    r = me.request("POST", "/api/v1/mail/folders/Trash/empty", None, headers={"X-CSRF-Token": "wrong"}, csrf=False)
    assert r.status == 403 and r.code == "csrf"
    r = me.request("POST", "/api/v1/mail/folders/INBOX/delete", {"uids": [uid]},
                   headers={"Origin": "https://evil.test"})
    assert r.status == 403 and r.code == "csrf"
    assert find(inbox(me), uid)["flags"]["seen"] is False


def test_bad_input(srv, me):
    assert me.get("/api/v1/mail/messages/INBOX/0").status == 400
    assert me.get("/api/v1/mail/messages/INBOX/abc").status == 400
    assert me.get("/api/v1/mail/messages/INBOX/99999999999").status == 400
    r = me.post("/api/v1/mail/folders/INBOX/delete", {"uids": [1] * 1001})
    assert r.status == 400
    r = me.post("/api/v1/mail/folders/INBOX/delete", {"uids": ["1"]})
    assert r.status == 400
    r = me.post("/api/v1/mail/folders/INBOX/move", {"uids": [1]})
    assert r.status == 400
    r = me.request("PATCH", "/api/v1/mail/folders/INBOX/messages", {"uids": [1], "deleted": True})
    assert r.status == 400 and r.code == "unknown_field"


def read_event(f):
    """The next event's (name, data) from a text/event-stream file."""
    name, data = None, None
    while True:
        line = f.readline()
        if not line:
            raise EOFError
        line = line.rstrip(b"\r\n")
        if line == b"":
            if name is not None or data is not None:
                return name, data
            continue
        if line.startswith(b"event:"):
            name = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data = line[5:].strip().decode()


def open_events(srv, c):
    ctx = ssl.create_default_context(cafile=srv.crt)
    sock = ctx.wrap_socket(socket.create_connection((HOST, srv.port("https")), timeout=20),
                           server_hostname=HOSTNAME)
    sock.sendall(("GET /api/v1/mail/events HTTP/1.1\r\nHost: %s\r\nCookie: yubin_session=%s\r\n"
                  "Accept: text/event-stream\r\n\r\n" % (HOSTNAME, c.cookie)).encode())
    f = sock.makefile("rb")
    status = f.readline()
    headers = {}
    while True:
        line = f.readline().rstrip(b"\r\n")
        if not line:
            break
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return sock, f, status, headers


def test_events_on_delivery_and_imap_change(srv, me):
    sock, f, status, headers = open_events(srv, me)
    try:
        assert b" 200 " in status, status
        assert headers["content-type"].startswith("text/event-stream")
        assert "content-security-policy" in headers
        assert read_event(f)[0] == "ready"
        uid = append(srv, iso2022jp_message("新着", "本文"))   # IMAP APPEND
        assert read_event(f)[0] == "change"
        m = imap(srv)
        try:
            m.select("INBOX")
            m.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        finally:
            m.logout()
        assert read_event(f)[0] == "change"
    finally:
        sock.close()


def test_events_bounded_per_user(srv):
    c = user(srv, "second@example.test")
    socks = []
    try:
        for _ in range(4):
            sock, f, status, _h = open_events(srv, c)
            socks.append(sock)
            assert b" 200 " in status
            assert read_event(f)[0] == "ready"
        sock, f, status, _h = open_events(srv, c)
        socks.append(sock)
        assert b" 429 " in status, status
    finally:
        for s in socks:
            s.close()
    # the slots come back once the clients are gone: the server notices at
    # its next writes, which new mail makes
    deadline = time.time() + 60
    while True:
        append(srv, html_message("<p>wake</p>"), user="second@example.test")
        sock, f, status, _h = open_events(srv, c)
        sock.close()
        if b" 200 " in status or time.time() > deadline:
            break
    assert b" 200 " in status


def test_events_outlive_the_idle_timeout(tmp_path_factory):
    """A stream is not an idle connection: evhttp's read timeout
    (http.timeout) would end it, so it gets its own lifetime."""
    s = api_server(tmp_path_factory, "webmail_events", config={"http.timeout": 1})
    try:
        c = user(s)
        sock, f, status, headers = open_events(s, c)
        try:
            assert b" 200 " in status and headers.get("connection") == "close"
            assert read_event(f)[0] == "ready"
            time.sleep(2.5)          # past http.timeout with nothing to read
            append(s, html_message("<p>late</p>"))
            assert read_event(f)[0] == "change"
        finally:
            sock.close()
    finally:
        s.stop()
    assert not s.sanitizer_report()


def test_events_end_at_shutdown(tmp_path_factory):
    """SIGTERM ends every stream at once (they are busy connections the
    shutdown would otherwise wait for until server.shutdown_grace)."""
    import signal

    s = api_server(tmp_path_factory, "webmail_events_stop", config={"server.shutdown_grace": 120})
    c = user(s)
    sock, f, status, _h = open_events(s, c)
    try:
        assert read_event(f)[0] == "ready"
        s.proc.send_signal(signal.SIGTERM)
        with pytest.raises(EOFError):
            while True:
                read_event(f)
    finally:
        sock.close()
    assert s.stop(wait=60) == 0
    assert not s.sanitizer_report()
