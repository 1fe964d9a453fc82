"""yubinctl doctor ADDRESS [--json] [--lang en|ja] (issue 15 section 4):
the checks and the address's recent events, as text or JSON, in English
or Japanese, with the exit status 1 when a check failed."""

import imaplib
import json
import socket
import sqlite3
import ssl
import time

import pytest

from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD
from protection_util import auth_from, events, pop3_login_from

USER = "user@" + DOMAIN


@pytest.fixture
def srv(new_server):
    return new_server()


def wait_event(srv, kind, address, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        found = events(srv, kind, address)
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no %s event for %s" % (kind, address))


def doctor(srv, *args):
    return srv.ctl("doctor", USER, *args, check=False)


def test_doctor_wrong_password_in_both_languages(srv):
    auth_from(srv, "127.0.0.1", USER, password="not-the-password")[0].expect(535)
    wait_event(srv, "auth-failed", USER)

    p = doctor(srv, "--json")
    assert p.returncode == 0, p.out
    en = json.loads(p.out)
    assert en["address"] == USER and en["problems"] == 0, en
    assert {c["level"] for c in en["checks"]} <= {"ok", "warn", "fail"}, en
    assert any(c["text"] == "the account is enabled" for c in en["checks"]), en
    fails = [e for e in en["events"] if e["kind"] == "auth-failed"]
    assert fails and fails[0]["ip"] == "127.0.0.1", en
    assert "A login from 127.0.0.1 was refused" in fails[0]["text"], fails
    assert fails[0]["time"].endswith("Z"), fails

    p = doctor(srv, "--json", "--lang", "ja")
    ja = json.loads(p.out)
    assert [c["level"] for c in ja["checks"]] == [c["level"] for c in en["checks"]], ja
    assert any(c["text"] == "アカウントは有効です" for c in ja["checks"]), ja
    jfails = [e for e in ja["events"] if e["kind"] == "auth-failed"]
    assert "127.0.0.1 からのログインが拒否されました" in jfails[0]["text"], jfails

    text = doctor(srv, "--lang", "ja").out
    assert "アカウントは有効です" in text and "からのログインが拒否されました" in text, text
    assert "まとめ: 問題 0 件、警告 " in text, text
    text = doctor(srv, "--lang", "en").out
    assert "the account is enabled" in text and "A login from 127.0.0.1 was refused" in text, text
    assert "summary: 0 problems, " in text, text


def test_doctor_disabled_account_fails_with_the_fix(srv):
    srv.ctl("account", "disable", USER)
    p = doctor(srv, "--json")
    assert p.returncode == 1, p.out
    d = json.loads(p.out)
    assert d["problems"] >= 1, d
    fail = [c for c in d["checks"] if c["level"] == "fail"]
    assert any("yubinctl account enable " + USER in c["text"] for c in fail), d
    p = doctor(srv, "--lang", "ja")
    assert p.returncode == 1, p.out
    assert "  FAIL  アカウントが無効です" in p.out and "yubinctl account enable " + USER in p.out, p.out
    assert "まとめ: 問題 1 件" in p.out, p.out


def test_doctor_bad_lang_is_refused(srv):
    p = doctor(srv, "--lang", "fr")
    assert p.returncode != 0
    assert "--lang takes en or ja" in p.err, p.err


def test_doctor_unknown_account_is_a_finding(srv):
    p = srv.ctl("doctor", "nobody@" + DOMAIN, "--json", "--lang", "en", check=False)
    assert p.returncode == 1, p.out
    d = json.loads(p.out)
    assert any(c["level"] == "fail" and "yubinctl account add nobody@" + DOMAIN in c["text"]
               for c in d["checks"]), d


def test_doctor_bare_login_name(srv):
    """A POP3 client that logs in as "user" instead of the full address: the
    refusal says why, and doctor tells the user which login name to set."""
    reply = pop3_login_from(srv, "127.0.0.1", "user")
    assert reply.startswith(b"-ERR"), reply
    found = wait_event(srv, "auth-failed", "user")
    assert "login name is not a full address" in found[0][2], found

    d = json.loads(doctor(srv, "--json").out)
    warn = [c["text"] for c in d["checks"] if c["level"] == "warn"]
    assert any('used the login name "user" instead of the full address' in t and "127.0.0.1" in t
               and "pop3" in t and t.endswith("set the mail client's login name (user name) to " + USER)
               for t in warn), d
    ja = json.loads(doctor(srv, "--json", "--lang", "ja").out)
    assert any("メールソフトのログイン名 (ユーザー名) を " + USER + " にしてください" in c["text"]
               for c in ja["checks"] if c["level"] == "warn"), ja
    # an unknown full address is still "unknown user", and is no bare-name warning
    auth_from(srv, "127.0.0.1", "nobody@" + DOMAIN)[0].expect(535)
    assert "unknown user" in wait_event(srv, "auth-failed", "nobody@" + DOMAIN)[0][2]


def test_doctor_on_a_year_of_events(new_server):
    """A year of events (500,000: the account's logins, deliveries,
    refusals, limits and spam tags, and the server's relay refusals and SNI
    misses): doctor reads only its windows, newest first through the
    (address, kind, id) and (kind, id) indexes, so its findings count only
    the recent ones. Prints the time it took; asserts only the answer and
    that the queries use the indexes."""
    srv = new_server(start=False)
    now = int(time.time())
    per_day, days = 1370, 365
    kinds = ("delivered", "auth-failed", "rcpt-full", "auth-ok", "send-limited", "spam-tagged")
    rows = []
    for day in range(days, 0, -1):
        for i in range(per_day):
            ts = now - day * 86400 + i * (86400 // per_day)
            ip = "192.0.2.%d" % (i % 250 + 1)
            if i % 10 == 8:
                rows.append((ts, "relay-denied", "", ip, "remote.test"))
            elif i % 10 == 9:
                rows.append((ts, "tls-sni-unknown", "", ip, "imap.%s imaps" % DOMAIN))
            else:
                rows.append((ts, kinds[i % len(kinds)], USER, ip, "from a year ago"))
            if i % 30 == 0:
                # 100 s after the day's start: no event sits on a window's edge
                rows.append((ts + 100, "auth-failed", "user", "192.0.2.9",
                             "imap login refused: login name is not a full address"))
    # the last 7 days: two bare-name refusals, nothing else of those kinds
    recent = [(now - 3600 * 5, "auth-failed", "user", "198.51.100.7",
               "imap login refused: login name is not a full address"),
              (now - 3600, "auth-failed", "user", "198.51.100.8",
               "pop3 login refused: login name is not a full address")]
    rows = [r for r in rows if r[0] < now - 8 * 86400] + recent
    db = sqlite3.connect(srv.data + "/yubin.db", timeout=10)
    try:
        db.executemany("INSERT INTO events (ts, kind, address, ip, detail) VALUES (?, ?, ?, ?, ?)", rows)
        db.commit()
    finally:
        db.close()

    t0 = time.time()
    p = doctor(srv, "--json")
    took = time.time() - t0
    print("\ndoctor on %d events (%d days): %.3f s" % (len(rows), days, took))
    d = json.loads(p.out)
    assert not any(c["group"] == "certificate" and c["level"] == "warn" for c in d["checks"]), d["checks"]
    # the shapes of doctor's event queries (directory_event_since) run from the indexes
    db = sqlite3.connect(srv.data + "/yubin.db", timeout=10)
    try:
        plan = db.execute("EXPLAIN QUERY PLAN SELECT id, ts, kind, address, ip, detail FROM events"
                          " WHERE address = lower(?) AND kind = ? ORDER BY id DESC", (USER, "auth-ok")).fetchall()
        assert any("USING INDEX events_address_kind" in r[-1] for r in plan), plan
        plan = db.execute("EXPLAIN QUERY PLAN SELECT id, ts, kind, address, ip, detail FROM events"
                          " WHERE kind = ? ORDER BY id DESC", ("relay-denied",)).fetchall()
        assert any("USING INDEX events_kind" in r[-1] for r in plan), plan
        assert not any("TEMP B-TREE" in r[-1] for r in plan), plan
    finally:
        db.close()
    texts = [c["text"] for c in d["checks"]]
    assert any(t.startswith('2 logins in the last 7 days used the login name "user"')
               and "last from 198.51.100.8 over pop3" in t for t in texts), "\n".join(texts)
    assert not any("was full and refused mail" in t for t in texts), texts
    assert len(d["events"]) == 20, d["events"]
    assert d["days"] == 7, d

    # --since widens or narrows the window
    t0 = time.time()
    whole = json.loads(doctor(srv, "--json", "--since", "366d").out)
    print("doctor --since 366d on %d events: %.3f s" % (len(rows), time.time() - t0))
    assert any(c["group"] == "certificate" and c["level"] == "warn" for c in whole["checks"]), whole["checks"]
    d = json.loads(doctor(srv, "--json", "--since", "30d").out)
    n = sum(1 for r in rows if r[2] == "user" and r[0] >= now - 30 * 86400)
    assert d["days"] == 30 and any(t["text"].startswith('%d logins in the last 30 days used the login name "user"' % n)
                                   for t in d["checks"]), (n, d["checks"])
    assert any("was full and refused mail" in t["text"] for t in d["checks"]), d["checks"]
    d = json.loads(doctor(srv, "--json", "--since", "2h").out)
    assert d["days"] == 1, d
    assert any(t["text"].startswith('2 logins in the last 1 day used') for t in d["checks"]), d["checks"]
    for bad in ("soon", "0s", "400d"):
        p = doctor(srv, "--since", bad)
        assert p.returncode != 0 and "--since takes a duration" in p.err, (bad, p.err)
    assert all(e["text"] for e in d["events"]), d["events"]


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def test_doctor_mailbox_full_names_the_biggest_folders_and_the_trash(srv):
    """Mail put in the Trash and the inbox through IMAP: doctor names the
    biggest folders and what the Trash holds, and warns once the Trash and
    Junk hold a tenth of the quota."""
    srv.ctl("account", "quota", USER, "1")
    big = b"Subject: big\r\nFrom: a@example.test\r\n\r\n" + (b"x" * 76 + b"\r\n") * 2000  # ~156 KB
    small = b"Subject: small\r\nFrom: a@example.test\r\n\r\nhello\r\n"
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    try:
        m.login(USER, PASSWORD)
        for folder, msg in (("Trash", big), ("Trash", small), ("INBOX", small)):
            typ, data = m.append(folder, None, None, msg)
            assert typ == "OK", data
    finally:
        m.logout()
    d = json.loads(doctor(srv, "--json").out)
    line = [c for c in d["checks"] if c["text"].startswith("biggest folders: ")]
    assert line and line[0]["level"] == "warn", d["checks"]
    text = line[0]["text"]
    assert text.startswith("biggest folders: Trash 0.1 MB (2), INBOX 0.0 MB (1)"), text
    assert "the Trash holds 2 messages (0.1 MB) and Junk 0 (0.0 MB)" in text, text
    ja = json.loads(doctor(srv, "--json", "--lang", "ja").out)
    assert any(c["text"].startswith("大きいフォルダ: Trash 0.1 MB (2)") and "ゴミ箱に 2 通" in c["text"]
               for c in ja["checks"]), ja["checks"]
    # a bigger quota: the same facts, no longer a warning
    srv.ctl("account", "quota", USER, "100")
    d = json.loads(doctor(srv, "--json").out)
    assert [c["level"] for c in d["checks"] if c["text"].startswith("biggest folders: ")] == ["ok"], d
