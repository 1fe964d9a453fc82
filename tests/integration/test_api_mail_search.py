"""GET /api/v1/mail/search: a mail user searches its own mailbox through
the full-text index (Japanese in several charsets, HTML, attachment
names, several words, dates, folders, paging), newest first; nobody else
may, and messages expunged over IMAP are gone from the answers."""

import calendar
import imaplib
import ssl
import time
import urllib.parse

import pytest

from api_util import Client, ok, refused, served, api_server, admin
from helpers import HOST, PASSWORD
from search_corpus import corpus

USER = "user@example.test"
SECOND = "second@example.test"
BASE = time.mktime((2026, 11, 1, 12, 0, 0, 0, 0, -1))    # message i arrives on Nov 1 + i days (local)


def imap(srv, who=USER):
    ctx = ssl.create_default_context(cafile=srv.crt)
    m = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=ctx)
    m.login(who, PASSWORD)
    return m


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = api_server(tmp_path_factory, "mailsearch")
    m = imap(s)
    m.create("Archive")
    for i, (name, data) in enumerate(corpus()):
        typ, resp = m.append("INBOX", None, BASE + i * 86400, data)
        assert typ == "OK", (name, resp)
    m.append("Archive", None, BASE + 20 * 86400, corpus()[0][1])
    m.logout()
    m = imap(s, SECOND)
    m.append("INBOX", None, None, corpus()[1][1])
    m.logout()
    yield from served(s)


@pytest.fixture
def me(srv):
    c = Client(srv)
    c.login("user", USER, PASSWORD)
    return c


def find(c, **params):
    return ok(c.get("/api/v1/mail/search?" + urllib.parse.urlencode(params)))


def subjects(r):
    return [h["subject"] for h in r["hits"]]


def test_japanese_in_every_charset(me):
    r = find(me, q="議事録")
    assert r["total"] == 2 and r["partial"] is False, r
    hit = r["hits"][0]                                     # the Archive copy is newer
    assert hit["folder"] == "Archive" and r["hits"][1]["folder"] == "INBOX", r
    assert hit["subject"] == "会議の議事録について", hit
    assert hit["from"] == "山田 太郎 <taro@example.jp>", hit
    assert hit["snippet"].startswith("来週の打ち合わせについて連絡します。 議事録"), hit
    assert hit["flags"] == [] and hit["size"] > 100 and hit["uid"] == 1, hit
    assert set(hit) == {"folder", "uid", "date", "from", "subject", "size", "flags", "snippet"}
    assert subjects(find(me, q="請求書")) == ["Weekly Newsletter", "請求書送付のご案内"]    # newest first
    assert subjects(find(me, body="①㈱")) == ["請求書送付のご案内"]
    assert subjects(find(me, subject="オフィス移転")) == ["東京オフィス移転"]
    assert subjects(find(me, q="新年会", folder="INBOX")) == ["新年会のお知らせ"]
    assert subjects(find(me, q="東京")) == ["Weekly Newsletter", "新年会のお知らせ", "東京オフィス移転"]


def test_fields_words_and_short_words(me):
    assert subjects(find(me, **{"from": "keiri"})) == ["請求書送付のご案内"]
    assert subjects(find(me, to="佐藤")) == ["請求書送付のご案内"]
    assert subjects(find(me, to="boss")) == ["請求書送付のご案内"]            # Cc counts as to
    assert find(me, body="hiddenscript")["total"] == 0                    # HTML reduced to text
    assert subjects(find(me, q="見積書")) == ["Quarterly report"]         # an attachment's name
    assert find(me, body="見積書")["total"] == 0
    assert subjects(find(me, q="meeting ROOM")) == ["新年会のお知らせ"]    # every word, any case
    assert subjects(find(me, q="東京\u3000移転")) == ["東京オフィス移転"]  # U+3000 separates words
    assert find(me, q="会議", folder="INBOX")["total"] == 1               # 2 characters: read from the index
    assert find(me, q="議", subject="の")["total"] == 2
    assert subjects(find(me, q="EndMarkerWord")) == []                    # past the 256 KiB indexed


def test_dates_folders_paging(me):
    day = lambda i: time.strftime("%Y-%m-%d", time.gmtime(BASE + i * 86400))
    r = find(me, q="example", since=day(2), before=day(5))
    arrived = [calendar.timegm(time.strptime(h["date"], "%Y-%m-%dT%H:%M:%SZ")) for h in r["hits"]]  # ISO 8601
    assert arrived == sorted(arrived, reverse=True)
    assert all(BASE + 86400 <= t < BASE + 5 * 86400 for t in arrived), r
    assert r["total"] >= 2
    # date-times with an offset: exactly the arrival of message 2, to the second
    t2 = BASE + 2 * 86400
    iso = lambda t, fmt="%Y-%m-%dT%H:%M:%S+09:00": time.strftime(fmt, time.gmtime(t + 9 * 3600))
    one = find(me, since=iso(t2), before=iso(t2 + 1), folder="INBOX")
    assert one["total"] == 1 and one["hits"][0]["date"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t2)), one
    assert find(me, since=iso(t2 + 1, "%Y-%m-%dT%H:%M:%S.250+09:00"), before=iso(t2 + 2), folder="INBOX")["total"] == 0
    assert find(me, since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t2)), before=str(int(t2) + 1),
                folder="INBOX")["total"] == 1
    everything = find(me, since=str(int(BASE)), limit=500)
    assert everything["total"] == 9, everything
    page = find(me, since=str(int(BASE)), offset=3, limit=2)
    assert page["hits"] == everything["hits"][3:5] and page["total"] == 9
    assert find(me, q="議事録", folder="Archive")["total"] == 1
    assert me.get("/api/v1/mail/search?q=x&folder=Nope").code == "not_found"
    for bad in ("limit=0", "limit=501", "since=yesterday", "since=2026-12-01T09:00", "before=2026-13-01",
                "since=2026-12-01T09:00:00%2B9", "offset=-1", "q=" + "x" * 300, "q=a%01b",
                "q=%ff%fe", "q=" + "+".join("w%d" % i for i in range(17))):
        assert me.get("/api/v1/mail/search?" + bad).code == "invalid_field", bad


def test_only_its_own_mailbox(srv, me):
    refused(admin(srv).get("/api/v1/mail/search?q=x"))
    c = Client(srv)
    c.login("user", SECOND, PASSWORD)
    r = find(c, q="請求書")
    assert r["total"] == 1 and r["hits"][0]["folder"] == "INBOX", r
    assert find(c, q="議事録")["total"] == 0
    assert Client(srv).get("/api/v1/mail/search?q=x").status == 401


def test_expunged_messages_are_gone(srv, me):
    assert find(me, q="CamelCaseWord")["total"] == 1
    m = imap(srv)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", "TEXT", "CamelCaseWord")
    uid = data[0].split()[0]
    m.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
    m.expunge()
    m.logout()
    assert find(me, q="CamelCaseWord")["total"] == 0


def test_renamed_folder(srv, me):
    m = imap(srv)
    typ, data = m.rename("Archive", "Old2026")
    assert typ == "OK", data
    m.logout()
    r = find(me, q="議事録")
    assert sorted(h["folder"] for h in r["hits"]) == ["INBOX", "Old2026"], r
    assert me.get("/api/v1/mail/search?q=x&folder=Archive").code == "not_found"
