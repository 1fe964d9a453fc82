"""Webmail, writing (issue 12 section 1 "Write"): the JSON API for a
logged-in mail user, against the real daemon, checked with imaplib and
smtplib side by side: sending through the submission path of port 587
(send-as, sending limits counted with SMTP, DKIM, the queue, a copy in
Sent), drafts, uploads, replies and forwards."""

import email
import email.policy
import glob
import imaplib
import json
import os
import re
import smtplib
import socket
import ssl

import pytest

from api_util import Client, api_server, ok, refused, served, user
from helpers import HOST, HOSTNAME, PASSWORD, smtplib_starttls, tls_context

A = "user@example.test"
B = "second@example.test"
LIMITED = "limited@example.test"
SUBJECT = "会議の議事録 (第3回) について、ご確認をお願いいたします"
FILENAME = "議事録_2026年12月.pdf"
MAX_SIZE = 200000


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = api_server(tmp_path_factory, "webmail_write", config={"smtp.max_message_size": MAX_SIZE,
                                                             "http.max_body_size": "64K"},
                   accounts=[(A, PASSWORD, None), (B, PASSWORD, None), (LIMITED, PASSWORD, None),
                             ("alien@other.test", PASSWORD, None)])
    s.ctl("account", "set", LIMITED, "send-limit-hour", "4")
    yield from served(s)


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def imap(srv, who):
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    m.login(who, PASSWORD)
    return m


def fetch_all(srv, who, folder):
    """Every message of folder as (uid, flags, email.message)."""
    m = imap(srv, who)
    try:
        typ, _ = m.select('"%s"' % folder)
        assert typ == "OK"
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
        out = []
        for line in data:
            if not line:
                continue
            head = line.decode() if isinstance(line, bytes) else line[0].decode()
            uid = int(re.search(r"UID (\d+)", head).group(1))
            flags = re.search(r"FLAGS \(([^)]*)\)", head).group(1).split()
            typ, body = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = [x[1] for x in body if isinstance(x, tuple)][0]
            out.append((uid, flags, email.message_from_bytes(raw, policy=email.policy.default)))
        return out
    finally:
        m.logout()


def upload(c, name, data, ctype="application/pdf"):
    from urllib.parse import quote
    return c.request("POST", "/api/v1/mail/uploads?filename=" + quote(name), raw=data, content_type=ctype)


def test_send_japanese_with_attachment(srv):
    a = user(srv, A)
    up = ok(upload(a, FILENAME, b"%PDF-1.4 minutes\x00\xff"), 201)
    assert up["filename"] == FILENAME and up["size"] == 18 and up["content_type"] == "application/pdf"
    r = ok(a.post("/api/v1/mail/send", {
        "from_name": "山田 花子", "to": [{"name": "二番目", "address": B}], "subject": SUBJECT,
        "text": "本文です。\nよろしくお願いします。\n", "attachments": [{"upload": up["id"]}]}))
    assert r["accepted"] == [B] and r["queue_id"] is None and r["sent"]["folder"] == "Sent"
    got = [m for _, _, m in fetch_all(srv, B, "INBOX") if m["Message-ID"] == r["message_id"]]
    assert len(got) == 1
    msg = got[0]
    assert msg["Subject"] == SUBJECT
    assert msg["From"].addresses[0].display_name == "山田 花子"
    assert "Bcc" not in msg
    atts = list(msg.iter_attachments())
    assert [p.get_filename() for p in atts] == [FILENAME]
    assert atts[0].get_content() == b"%PDF-1.4 minutes\x00\xff"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "本文です。\nよろしくお願いします。\n"
    assert "with HTTPS" in msg["Received"]
    refused(a.request("DELETE", "/api/v1/mail/uploads/" + up["id"]), 404, "not_found")   # used up by the send
    sent = [m for uid, flags, m in fetch_all(srv, A, "Sent") if m["Message-ID"] == r["message_id"]]
    assert len(sent) == 1 and sent[0]["Subject"] == SUBJECT


def test_remote_copy_is_dkim_signed_and_queued(srv):
    a = user(srv, A)
    r = ok(a.post("/api/v1/mail/send", {"to": ["Someone <someone@remote.test>"], "bcc": [B],
                                        "subject": "外部へ", "text": "hello"}))
    assert r["queue_id"] and sorted(r["accepted"]) == sorted(["someone@remote.test", B])
    with open(os.path.join(srv.data, "queue", r["queue_id"]), "rb") as f:
        data = f.read()
    assert b"\r\nrcpt someone@remote.test" in data or b"\nrcpt someone@remote.test" in data
    assert B.encode() not in data.split(b"\r\n\r\n", 1)[0]      # Bcc never in the header
    mine = [m for _, _, m in fetch_all(srv, B, "INBOX") if m["Message-ID"] == r["message_id"]]
    assert len(mine) == 1 and "Bcc" not in mine[0]
    assert b"DKIM-Signature:" in data and b"d=example.test" in data
    size = int(re.search(rb"\nsize (\d+)\n", data).group(1))
    msg = data[data.index(b"\n\n") + 2:][:size]
    try:
        import dkim
        import nacl.signing  # noqa: F401  (python3-dkim needs it for ed25519)
    except ImportError:
        pytest.skip("python3-dkim missing (scripts/deps.sh test)")
    recs = json.loads(srv.ctl("domain", "dns", "example.test", "--json").out)["records"]
    txt = {x["name"].rstrip(".").encode(): x["value"].encode() for x in recs if x["type"] == "TXT"}
    d = dkim.DKIM(msg)
    assert d.verify(idx=0, dnsfunc=lambda name, timeout=5: txt.get(name.rstrip(b".")))
    assert not dkim.verify(msg.replace(b"hello", b"HELLO"), dnsfunc=lambda name, timeout=5: txt.get(name.rstrip(b".")))


def test_draft_saved_then_updated(srv):
    a = user(srv, A)
    d1 = ok(a.post("/api/v1/mail/drafts", {"to": [B], "bcc": ["hidden@example.test"], "subject": "下書き 1"}), 201)
    assert d1["folder"] == "Drafts"
    d2 = ok(a.request("PUT", "/api/v1/mail/drafts/%d" % d1["uid"], {"to": [B], "subject": "下書き 2"}))
    assert d2["uid"] > d1["uid"]
    drafts = fetch_all(srv, A, "Drafts")
    assert [(uid, m["Subject"]) for uid, _, m in drafts] == [(d2["uid"], "下書き 2")]
    assert "\\Draft" in drafts[0][1]
    # the old uid is gone
    refused(a.request("PUT", "/api/v1/mail/drafts/%d" % d1["uid"], {"subject": "x"}), 404, "not_found")
    # sending it removes it
    r = ok(a.post("/api/v1/mail/send", {"to": [B], "subject": "下書き 2", "text": "x", "draft_uid": d2["uid"]}))
    assert r["draft_removed"] is True
    assert fetch_all(srv, A, "Drafts") == []
    d3 = ok(a.post("/api/v1/mail/drafts", {"subject": "no recipients yet"}), 201)
    assert a.request("DELETE", "/api/v1/mail/drafts/%d" % d3["uid"]).status == 204
    refused(a.request("DELETE", "/api/v1/mail/drafts/%d" % d3["uid"]), 404, "not_found")


def test_sending_limit_counts_with_smtp(srv):
    """limited@ may send to 4 recipients an hour: 2 over SMTP, 2 through
    the API, then the API is refused with rate_limited and so is SMTP."""
    ctx = tls_context(srv)
    s = smtplib_starttls(srv.port("submission"), ctx)
    s.login(LIMITED, PASSWORD)
    s.sendmail(LIMITED, [A], b"From: limited@example.test\r\nSubject: one\r\n\r\nx\r\n")
    s.sendmail(LIMITED, [B], b"From: limited@example.test\r\nSubject: two\r\n\r\nx\r\n")
    c = user(srv, LIMITED)
    ok(c.post("/api/v1/mail/send", {"to": [A], "subject": "three", "text": "x"}))
    ok(c.post("/api/v1/mail/send", {"to": [B], "subject": "four", "text": "x"}))
    r = refused(c.post("/api/v1/mail/send", {"to": [A], "subject": "five", "text": "x"}), 429, "rate_limited")
    assert "Hourly sending limit reached" in r.json["error"]["message"]
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        s.sendmail(LIMITED, [A], b"Subject: six\r\n\r\nx\r\n")
    assert e.value.recipients[A][0] == 451
    s.quit()
    assert sorted(m["Subject"] for _, _, m in fetch_all(srv, A, "INBOX") if m["From"] == LIMITED) == ["one", "three"]


def test_send_as_violation_refused(srv):
    a = user(srv, A)
    r = refused(a.post("/api/v1/mail/send", {"from": "alien@other.test", "to": [B], "subject": "x", "text": "x"}),
                403, "forbidden")
    assert r.json["error"]["field"] == "from"
    ok(a.post("/api/v1/mail/send", {"from": "user+tag@example.test", "to": [B], "subject": "tag", "text": "x"}))


def test_reply_sets_answered_and_headers(srv):
    a = user(srv, A)
    orig = ok(a.post("/api/v1/mail/send", {"to": [B], "subject": "original", "text": "first"}))
    inbox = fetch_all(srv, B, "INBOX")
    uid = [u for u, _, m in inbox if m["Message-ID"] == orig["message_id"]][0]
    b = user(srv, B)
    r = ok(b.post("/api/v1/mail/send", {"to": [A], "subject": "Re: original", "text": "> first\nreply",
                                        "in_reply_to": {"folder": "INBOX", "uid": uid}}))
    flags = [f for u, f, _ in fetch_all(srv, B, "INBOX") if u == uid][0]
    assert "\\Answered" in flags
    got = [m for _, _, m in fetch_all(srv, A, "INBOX") if m["Message-ID"] == r["message_id"]][0]
    assert got["In-Reply-To"] == orig["message_id"]
    assert got["References"] == orig["message_id"]


def test_forward_as_attachment(srv):
    a = user(srv, A)
    orig = ok(a.post("/api/v1/mail/send", {"to": [B], "subject": "転送元", "text": "original text"}))
    uid = [u for u, _, m in fetch_all(srv, B, "INBOX") if m["Message-ID"] == orig["message_id"]][0]
    b = user(srv, B)
    r = ok(b.post("/api/v1/mail/send", {"to": [A], "subject": "Fwd: 転送元", "text": "see attached",
                                        "forward": {"folder": "INBOX", "uid": uid, "mode": "attachment"}}))
    got = [m for _, _, m in fetch_all(srv, A, "INBOX") if m["Message-ID"] == r["message_id"]][0]
    parts = [p for p in got.walk() if p.get_content_type() == "message/rfc822"]
    assert len(parts) == 1
    inner = parts[0].get_content()
    assert inner["Subject"] == "転送元" and inner["Message-ID"] == orig["message_id"]
    assert "$Forwarded" in [f for u, f, _ in fetch_all(srv, B, "INBOX") if u == uid][0]


def test_iso2022jp_option(srv):
    a = user(srv, A)
    r = ok(a.post("/api/v1/mail/send", {"to": [B], "subject": "日本語の件名", "text": "こんにちは\n",
                                        "charset": "iso-2022-jp"}))
    got = [m for _, _, m in fetch_all(srv, B, "INBOX") if m["Message-ID"] == r["message_id"]][0]
    assert got["Subject"] == "日本語の件名"
    assert got.get_content_charset() == "iso-2022-jp"
    assert got.get_content().replace("\r\n", "\n") == "こんにちは\n"
    r = refused(a.post("/api/v1/mail/send", {"to": [B], "subject": "①", "text": "x", "charset": "iso-2022-jp"}),
                400, "not_representable")
    assert r.json["error"]["field"] == "subject"


def test_uploads_limits_and_ownership(srv):
    a = user(srv, A)
    # past the message size: 413 (from evhttp's limit, the body read to its end)
    assert upload(a, "big.bin", b"x" * (MAX_SIZE + 1)).status == 413
    # past http.max_body_size (64K) but within the message size: only uploads take it
    big = ok(upload(a, "big.bin", b"y" * 100000, "application/octet-stream"), 201)
    assert big["size"] == 100000
    assert a.post("/api/v1/mail/drafts", {"subject": "x", "text": "z" * 70000}).status == 413
    assert a.request("DELETE", "/api/v1/mail/uploads/" + big["id"]).status == 204
    up = ok(upload(a, "mine.txt", b"secret", "text/plain"), 201)
    b = user(srv, B)
    refused(b.post("/api/v1/mail/send", {"to": [A], "subject": "x", "text": "x",
                                         "attachments": [{"upload": up["id"]}]}), 404, "not_found")
    refused(b.request("DELETE", "/api/v1/mail/uploads/" + up["id"]), 404, "not_found")
    assert a.request("DELETE", "/api/v1/mail/uploads/" + up["id"]).status == 204
    refused(a.request("DELETE", "/api/v1/mail/uploads/" + up["id"]), 404, "not_found")


def test_csrf_and_roles(srv):
    a = user(srv, A)
    r = a.request("POST", "/api/v1/mail/send", {"to": [B], "subject": "x", "text": "x"}, csrf=False)
    refused(r, 403, "csrf")
    r = a.request("POST", "/api/v1/mail/send", {"to": [B], "subject": "x"},
                  headers={"Origin": "https://evil.test"})
    refused(r, 403, "csrf")
    anon = Client(srv)
    assert anon.post("/api/v1/mail/send", {"to": [B]}).status == 401
    from api_util import admin
    refused(admin(srv).post("/api/v1/mail/drafts", {"subject": "x"}), 403, "forbidden")


def test_bad_drafts(srv):
    a = user(srv, A)
    r = refused(a.post("/api/v1/mail/send", {"to": ["not an address"], "subject": "x", "text": "x"}),
                400, "invalid_address")
    assert r.json["error"]["field"] == "to"
    refused(a.post("/api/v1/mail/send", {"to": [B], "bogus": 1}), 400, "unknown_field")
    refused(a.post("/api/v1/mail/send", {"subject": "x", "text": "x"}), 400, "no_recipients")
    refused(a.post("/api/v1/mail/send", {"to": ["nobody@example.test"], "subject": "x", "text": "x"}),
            400, "recipient_refused")


VCARDS = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:山田;太郎;;;\r\nFN:山田 太郎\r\n"
          "EMAIL;TYPE=INTERNET,WORK:taro@work.example\r\nitem1.EMAIL;type=HOME:taro@home.example\r\n"
          "NOTE:営業部\\n東京\\, 本社\r\nEND:VCARD\r\n"
          "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No address\r\nEND:VCARD\r\n"
          "BEGIN:VCARD\nVERSION:4.0\nFN:Folded name that goes on\n  and on\nEMAIL:fold@example.test\nEND:VCARD\n")


def test_contacts_crud_and_complete(srv):
    c = user(srv, "alien@other.test")
    r = ok(c.post("/api/v1/mail/contacts", {"name": "鈴木 一郎", "emails": ["ichiro@example.test",
                                                                          {"address": "i@home.test", "label": "home"}],
                                           "note": "課長"}), 201)["contact"]
    assert r["name"] == "鈴木 一郎" and [e["address"] for e in r["emails"]] == ["ichiro@example.test", "i@home.test"]
    cid = r["id"]
    ok(c.request("PUT", "/api/v1/mail/contacts/%d" % cid, {"name": "鈴木 一郎", "emails": ["ichiro@example.test"]}))
    assert ok(c.get("/api/v1/mail/contacts/%d" % cid))["contact"]["emails"] == [
        {"address": "ichiro@example.test", "label": ""}]
    refused(c.post("/api/v1/mail/contacts", {"name": "x", "emails": ["not an address"]}), 400, "invalid_address")
    refused(c.post("/api/v1/mail/contacts", {"name": "x", "emails": []}), 400, "invalid_field")
    r = refused(c.post("/api/v1/mail/contacts", {"emails": ["a@example.test"]}), 400, "invalid_field")
    assert r.json["error"]["field"] == "name"
    refused(c.post("/api/v1/mail/contacts", {"name": "x", "emails": ["a@example.test"], "note": "a\u0000b"}),
            400, "invalid_field")
    refused(c.post("/api/v1/mail/contacts", {"name": "x" * 201, "emails": ["a@example.test"]}), 400, "invalid_field")
    from urllib.parse import quote
    m = ok(c.get("/api/v1/mail/contacts/complete?q=" + quote("一郎")))["matches"]
    assert m == [{"name": "鈴木 一郎", "address": "ichiro@example.test", "source": "contact"}]
    assert ok(c.get("/api/v1/mail/contacts/complete?q=ICHI"))["matches"][0]["address"] == "ichiro@example.test"
    # a recipient the user sent to is offered too
    ok(c.post("/api/v1/mail/send", {"to": [{"name": "受信者", "address": A}], "subject": "x", "text": "x"}))
    m = ok(c.get("/api/v1/mail/contacts/complete?q=user"))["matches"]
    assert {"name": "受信者", "address": A, "source": "recent"} in m
    # another user's book is its own
    assert ok(user(srv, A).get("/api/v1/mail/contacts"))["total"] == 0
    refused(user(srv, A).get("/api/v1/mail/contacts/%d" % cid), 404, "not_found")
    assert c.request("DELETE", "/api/v1/mail/contacts/%d" % cid).status == 204
    refused(c.get("/api/v1/mail/contacts/%d" % cid), 404, "not_found")


def test_vcard_round_trip(srv):
    c = user(srv, B)
    r = ok(c.request("POST", "/api/v1/mail/contacts.vcf", raw=VCARDS.encode(), content_type="text/vcard"))
    assert r["imported"] == 2
    assert r["refused"] == [{"card": 2, "message": "no e-mail address"}]
    lst = ok(c.get("/api/v1/mail/contacts"))
    assert lst["total"] == 2
    taro = [x for x in lst["contacts"] if x["name"] == "山田 太郎"][0]
    assert taro["emails"] == [{"address": "taro@work.example", "label": "work"},
                              {"address": "taro@home.example", "label": "home"}]
    assert taro["note"] == "営業部\n東京, 本社"
    assert "Folded name that goes on and on" in [x["name"] for x in lst["contacts"]]
    out = c.get("/api/v1/mail/contacts.vcf")
    assert out.status == 200 and out.headers["Content-Type"].startswith("text/vcard")
    text = out.raw.decode()
    assert text.count("BEGIN:VCARD") == 2 and "VERSION:4.0" in text
    assert "EMAIL;TYPE=work:taro@work.example" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    # imported again: the addresses are there already, nothing is doubled
    r = ok(c.request("POST", "/api/v1/mail/contacts.vcf", raw=out.raw, content_type="text/vcard"))
    assert r["imported"] == 0 and [x["message"] for x in r["refused"]] == ["already in the address book"] * 2
    # into an empty book: the same contacts come back
    d = user(srv, LIMITED)
    assert ok(d.request("POST", "/api/v1/mail/contacts.vcf", raw=out.raw, content_type="text/vcard"))["imported"] == 2
    again = ok(d.get("/api/v1/mail/contacts"))["contacts"]
    strip = lambda l: sorted((x["name"], str(x["emails"]), x["note"]) for x in l)
    assert strip(again) == strip(lst["contacts"])
    refused(c.request("POST", "/api/v1/mail/contacts.vcf", raw=b"not a vcard", content_type="text/vcard"),
            400, "invalid_vcard")


def test_draft_read_back_and_resaved_with_its_attachment(srv):
    a = user(srv, A)
    up = ok(upload(a, "図面.png", b"\x89PNG\r\n\x1a\nimage", "image/png"), 201)
    orig = ok(a.post("/api/v1/mail/send", {"to": [B], "subject": "元", "text": "x"}))
    sent_uid = orig["sent"]["uid"]
    d = ok(a.post("/api/v1/mail/drafts", {
        "from_name": "山田", "to": [{"name": "二番目", "address": B}], "cc": [LIMITED],
        "bcc": ["alien@other.test"], "subject": "下書きの件名", "text": "一行目\n二行目\n",
        "html": "<p>一行目</p>", "attachments": [{"upload": up["id"]}],
        "in_reply_to": {"folder": "Sent", "uid": sent_uid}}), 201)
    got = ok(a.get("/api/v1/mail/drafts/%d" % d["uid"]))
    dr = got["draft"]
    assert dr["from"] == A and dr["from_name"] == "山田"
    assert dr["to"] == [{"name": "二番目", "address": B}] and dr["cc"] == [{"address": LIMITED}]
    assert dr["bcc"] == [{"address": "alien@other.test"}]
    assert dr["subject"] == "下書きの件名" and dr["text"] == "一行目\n二行目\n" and dr["html"].rstrip() == "<p>一行目</p>"
    assert dr["in_reply_to"] == {"folder": "Sent", "uid": sent_uid}
    assert got["attachment_info"][0]["filename"] == "図面.png"
    assert dr["attachments"] == [{"folder": "Drafts", "uid": d["uid"], "part": got["attachment_info"][0]["part"]}]
    # saved again as it was read: the attachment comes from the old version
    dr["subject"] = "下書きの件名 2"
    d2 = ok(a.request("PUT", "/api/v1/mail/drafts/%d" % d["uid"], dr))
    got2 = ok(a.get("/api/v1/mail/drafts/%d" % d2["uid"]))
    assert got2["attachment_info"][0]["filename"] == "図面.png"
    r = ok(a.post("/api/v1/mail/send", dict(got2["draft"], draft_uid=d2["uid"])))
    assert r["draft_removed"]
    msg = [m for _, _, m in fetch_all(srv, B, "INBOX") if m["Message-ID"] == r["message_id"]][0]
    assert [p.get_filename() for p in msg.iter_attachments()] == ["図面.png"]
    assert list(msg.iter_attachments())[0].get_content() == b"\x89PNG\r\n\x1a\nimage"
    assert msg["In-Reply-To"] == orig["message_id"] and "Bcc" not in msg
    assert "\\Answered" in [f for u, f, _ in fetch_all(srv, A, "Sent") if u == sent_uid][0]


def test_compose_templates(srv):
    c = user(srv, "alien@other.test")
    orig = ok(c.post("/api/v1/mail/send", {"to": [A, B], "cc": ["Ext <ext@remote.test>"],
                                          "subject": "Re: 議題", "text": "本文\n> 引用\n"}))
    a = user(srv, A)
    uid = [u for u, _, m in fetch_all(srv, A, "INBOX") if m["Message-ID"] == orig["message_id"]][0]
    t = ok(a.get("/api/v1/mail/compose?mode=reply&folder=INBOX&uid=%d" % uid))
    assert t["to"] == [{"address": "alien@other.test"}] and t["cc"] == []
    assert t["subject"] == "Re: 議題"
    assert "wrote:\n> 本文\n>> 引用\n" in t["text"]
    assert t["in_reply_to"] == {"folder": "INBOX", "uid": uid}
    t = ok(a.get("/api/v1/mail/compose?mode=reply_all&folder=INBOX&uid=%d&lang=ja" % uid))
    assert t["to"] == [{"address": "alien@other.test"}]
    assert t["cc"] == [{"address": B}, {"name": "Ext", "address": "ext@remote.test"}]      # not A itself
    assert "さんは書きました:" in t["text"]
    t = ok(a.get("/api/v1/mail/compose?mode=forward_inline&folder=INBOX&uid=%d" % uid))
    assert t["subject"] == "Fwd: Re: 議題" and t["to"] == [] and "Forwarded message" in t["text"]
    assert t["forward"] == {"folder": "INBOX", "uid": uid, "mode": "inline"}
    t = ok(a.get("/api/v1/mail/compose?mode=forward_attachment&folder=INBOX&uid=%d" % uid))
    assert t["forward"]["mode"] == "attachment"
    refused(a.get("/api/v1/mail/compose?mode=reply&folder=INBOX&uid=999999"), 404, "not_found")
    refused(a.get("/api/v1/mail/compose?mode=nope&folder=INBOX&uid=1"), 400, "invalid_field")


def test_compromise_detection_suspends_webmail_sending(tmp_path_factory):
    """The burst-to-new-recipients signal counts webmail recipients too:
    the third new one suspends sending, through the API as over SMTP."""
    victim = "victim@example.test"
    rcpts = ["n%d@example.test" % i for i in range(1, 5)]
    s = api_server(tmp_path_factory, "webmail_abuse",
                   config={"abuse.new_rcpt_max": "3", "abuse.new_rcpt_window": "600"},
                   accounts=[(victim, PASSWORD, None), ("postmaster@example.test", PASSWORD, None)] +
                   [(r, PASSWORD, None) for r in rcpts])
    try:
        c = user(s, victim)
        ok(c.post("/api/v1/mail/send", {"to": [rcpts[0]], "subject": "1", "text": "x"}))
        ok(c.post("/api/v1/mail/send", {"to": [rcpts[1]], "subject": "2", "text": "x"}))
        r = refused(c.post("/api/v1/mail/send", {"to": [rcpts[2]], "subject": "3", "text": "x"}), 403, "suspended")
        assert "suspended because of suspicious activity (new-recipients)" in r.json["error"]["message"]
        refused(c.post("/api/v1/mail/send", {"to": [rcpts[0]], "subject": "4", "text": "x"}), 403, "suspended")
        # SMTP sees the same suspension
        smtp = smtplib_starttls(s.port("submission"), tls_context(s))
        smtp.login(victim, PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as e:
            smtp.sendmail(victim, [rcpts[0]], b"From: victim@example.test\r\nSubject: 5\r\n\r\nx\r\n")
        assert e.value.smtp_code == 550
        smtp.quit()
        assert s.account_json(victim)["sending_suspended"] is True
    finally:
        s.stop()
        rep = s.sanitizer_report()
        assert not rep, rep


@pytest.mark.skipif(not os.path.exists("/usr/sbin/clamd"), reason="clamd (clamav-daemon) is not installed")
def test_virus_check_on_webmail_sending(tmp_path_factory):
    """Submitted through the API like over 587: clamd scans the message
    before any copy is written; a virus is refused and nothing stored."""
    from test_virus import TESTFILE, Clamd
    cl = Clamd(tmp_path_factory.mktemp("webmail_clamd"))
    cl.start()
    s = api_server(tmp_path_factory, "webmail_virus", config={"virus.clamd": cl.sock, "virus.timeout": "5"})
    try:
        a = user(s, A)
        up = ok(upload(a, "report.bin", TESTFILE, "application/octet-stream"), 201)
        r = refused(a.post("/api/v1/mail/send", {"to": [B, "far@remote.test"], "subject": "infected", "text": "x",
                                                 "attachments": [{"upload": up["id"]}]}), 400, "virus_found")
        assert "Yubin.Test.File" in r.json["error"]["message"]
        assert [m for _, _, m in fetch_all(s, B, "INBOX")] == []
        assert [f for f in os.listdir(os.path.join(s.data, "queue")) if not f.startswith(".")] == []
        assert fetch_all(s, A, "Sent") == []
        ok(a.post("/api/v1/mail/send", {"to": [B], "subject": "clean", "text": "x"}))
        assert [m["Subject"] for _, _, m in fetch_all(s, B, "INBOX")] == ["clean"]
    finally:
        s.stop()
        cl.stop()
        rep = s.sanitizer_report()
        assert not rep, rep


HOSTILE = [
    [], "x", 1, None, {"to": "a@b.test"}, {"to": [1]}, {"to": [None]}, {"to": [{}]}, {"to": [{"name": "x"}]},
    {"to": [{"address": 1}]}, {"to": [{"address": "a@b.test", "name": 1}]}, {"to": ["<>"]}, {"to": ["x <"]},
    {"to": ["\"\" <a@b.test>"], "subject": 1}, {"to": [B], "subject": "a\r\nBcc: x@y.test"},
    {"to": [B], "attachments": "x"}, {"to": [B], "attachments": [1]}, {"to": [B], "attachments": [{}]},
    {"to": [B], "attachments": [{"upload": 1}]}, {"to": [B], "attachments": [{"upload": "../../x"}]},
    {"to": [B], "attachments": [{"folder": "INBOX", "uid": 1}]},
    {"to": [B], "attachments": [{"folder": "INBOX", "uid": 1, "part": "9.9.9"}]},
    {"to": [B], "attachments": [{"folder": "../..", "uid": 0, "part": "1"}]},
    {"to": [B], "in_reply_to": {}}, {"to": [B], "in_reply_to": {"folder": "INBOX", "uid": -1}},
    {"to": [B], "in_reply_to": {"folder": "Nope", "uid": 1}}, {"to": [B], "forward": {"folder": "INBOX", "uid": 1}},
    {"to": [B], "forward": {"folder": "INBOX", "uid": 1, "mode": "x"}}, {"to": [B], "charset": "latin1"},
    {"to": [B], "flowed": "yes"}, {"to": [B], "draft_uid": -5}, {"to": [B], "from": 5},
    {"to": [B], "from_name": "x" * 300}, {"to": [B], "text": "a\u0000b"}, {"to": ["a@b.test"] * 101},
    {"to": [B], "subject": "x" * 2001}, {"to": [B], "from": "not-an-address"},
]


def test_hostile_drafts_answered_not_crashed(srv):
    a = user(srv, A)
    for body in HOSTILE:
        for path in ("/api/v1/mail/send", "/api/v1/mail/drafts"):
            r = a.post(path, body)
            assert 400 <= r.status < 500 and r.code, (path, body, r)
    # the daemon is still there and the Bcc never got into a header
    ok(a.get("/api/v1/mail/contacts"))
    assert not [m for _, _, m in fetch_all(srv, "alien@other.test", "INBOX") if "x@y.test" in str(m)]
