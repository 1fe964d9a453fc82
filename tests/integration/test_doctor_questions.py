"""yubinctl doctor answers each question of the support page (issue 15 §4):
each test makes one situation happen against the real daemon (or, for the
events other parts record, writes the event as they do) and checks the
finding under its question, with its level and fix (command and setting),
in text and JSON, in English and Japanese."""
import json
import os
import time

import pytest

import outbound_util as ou
from helpers import DOMAIN, HOSTNAME, PASSWORD, SMTPConn, make_message, tls_context, unique
from protection_util import SourceSMTPConn, db_query, events, pop3_login_from, submit_session
from test_imap_auth import login_from as imap_login_from

USER = "user@" + DOMAIN


@pytest.fixture
def srv(new_server):
    return new_server()


def wait_event(srv, kind, address=None, n=1, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        found = events(srv, kind, address)
        if len(found) >= n:
            return found
        time.sleep(0.05)
    raise AssertionError("no %s event for %s" % (kind, address))


def doctor(srv, *args, addr=USER):
    p = srv.ctl("doctor", addr, "--json", *args, check=False)
    assert p.returncode in (0, 1), p.err
    d = json.loads(p.out)
    d["status"] = p.returncode
    return d


def findings(d, group, level=None):
    g = [x for x in d["groups"] if x["id"] == group]
    assert len(g) == 1, d["groups"]
    assert all(f["group"] == group for f in g[0]["findings"])
    return [f for f in g[0]["findings"] if level is None or f["level"] == level]


def one(d, group, text, level=None):
    got = [f for f in findings(d, group, level) if text in f["text"]]
    assert len(got) == 1, (text, findings(d, group))
    return got[0]


def add_event(srv, kind, address, ip, detail, ago=60):
    db_query(srv, "INSERT INTO events (ts, kind, address, ip, detail) VALUES (?, ?, ?, ?, ?)",
             (int(time.time()) - ago, kind, address, ip, detail))


# ---------------------------------------------------------------- the answer's shape

def test_every_question_answered_in_order(srv):
    d = doctor(srv)
    assert [g["id"] for g in d["groups"]] == ["send", "receive", "full", "spam", "password",
                                              "certificate", "bounces", "filters"]
    assert [g["title"] for g in d["groups"]][:2] == ["Can't send mail", "Can't receive mail"]
    assert all(g["findings"] for g in d["groups"]), d["groups"]
    flat = sorted(json.dumps(c, sort_keys=True) for c in d["checks"])
    grouped = sorted(json.dumps(f, sort_keys=True) for g in d["groups"] for f in g["findings"])
    assert flat == grouped
    for c in d["checks"]:
        assert set(c) == {"level", "group", "text", "fix"} and set(c["fix"]) == {"command", "setting"}, c
        assert "\n" not in c["text"], c
    ja = doctor(srv, "--lang", "ja")
    assert [g["title"] for g in ja["groups"]][0] == "メールを送信できない"
    assert [(c["level"], c["group"], c["fix"]) for c in ja["checks"]] == \
           [(c["level"], c["group"], c["fix"]) for c in d["checks"]]
    text = srv.ctl("doctor", USER).out
    assert "\nCan't send mail:\n" in text and "\nStrange bounces:\n" in text, text
    assert "\n証明書の警告が出る:\n" in srv.ctl("doctor", USER, "--lang", "ja").out


# ---------------------------------------------------------------- can't send

def test_submission_on_port_25_says_use_587(srv):
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    c.cmd("AUTH PLAIN AHVzZXIAeA==").expect(538)        # no TLS yet: refused, recorded by address
    c.starttls(tls_context(srv)).expect(220)
    c.ehlo().expect(250)
    c.auth_plain(USER, PASSWORD).expect(235)
    c.quit()
    wait_event(srv, "auth-port25", USER)
    assert "refused: no TLS" in wait_event(srv, "auth-port25", "")[0][2]

    d = doctor(srv)
    f = one(d, "send", "the mail client sends through port 25", "warn")
    assert "(2 times in the last 7 days, last from 127.0.0.1" in f["text"], f
    assert "smtp AUTH on port 25 accepted" in f["text"] and "port 587 with STARTTLS" in f["text"], f
    assert f["fix"] == {"command": "", "setting": "client:smtp-port=587"}, f
    assert d["status"] == 0 and d["problems"] == 0
    ja = doctor(srv, "--lang", "ja")
    assert any("ポート 25 で送信しています" in f["text"] and "ポート 587 の STARTTLS" in f["text"]
               for f in findings(ja, "send", "warn")), ja["groups"][0]
    # submission on 587 is no finding
    srv2_before = len(events(srv, "auth-port25"))
    submit_session(srv, USER).quit()
    assert len(events(srv, "auth-port25")) == srv2_before


def test_relaying_without_login_from_a_login_address(srv):
    assert imap_login_from(srv, "127.0.0.1", USER).startswith("OK")
    wait_event(srv, "auth-ok", USER)
    for source in ("127.0.0.1", "127.0.0.2"):
        c = SourceSMTPConn(srv.port("smtp"), source)
        c.ehlo().expect(250)
        c.cmd("MAIL FROM:<%s>" % USER).expect(250)
        c.cmd("RCPT TO:<friend@remote.test>").expect(554)
        c.quit()
    wait_event(srv, "relay-denied", n=2)
    d = doctor(srv)
    f = one(d, "send", "tried to send to other domains without logging in", "warn")
    # only the address the account logged in from counts
    assert f["text"].startswith("a mail client at 127.0.0.1, where %s logged in" % USER), f
    assert "refused 1 time (relay denied" in f["text"], f
    assert f["fix"]["setting"] == "client:smtp-auth=on", f


def test_sending_limit_hits_with_the_setting_to_raise(srv):
    srv.ctl("account", "set", USER, "send-limit-hour", "1")
    c = submit_session(srv, USER)
    c.cmd("MAIL FROM:<%s>" % USER).expect(250)
    c.cmd("RCPT TO:<a@remote.test>").expect(250)
    c.cmd("RCPT TO:<b@remote.test>").expect(451, "4.7.1")
    c.quit()
    wait_event(srv, "send-limited", USER)
    d = doctor(srv)
    f = one(d, "send", "the sending limit stopped mail 1 time", "warn")
    assert "Hourly sending limit reached" in f["text"], f
    assert f["fix"] == {"command": "yubinctl account set %s send-limit-hour 2" % USER,
                        "setting": "send-limit-hour"}, f
    text = srv.ctl("doctor", USER).out
    assert "          fix: yubinctl account set %s send-limit-hour 2\n" % USER in text, text


# ---------------------------------------------------------------- can't receive

def test_disabled_account_and_the_refusals(srv):
    srv.ctl("account", "disable", USER)
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    c.cmd("MAIL FROM:<someone@client.test>").expect(250)
    c.cmd("RCPT TO:<%s>" % USER).expect(550)
    c.quit()
    wait_event(srv, "rcpt-rejected", USER)
    d = doctor(srv)
    assert d["status"] == 1
    f = one(d, "receive", "the account is disabled", "fail")
    assert f["fix"] == {"command": "yubinctl account enable " + USER, "setting": "enabled"}, f
    f = one(d, "receive", "mail to %s was refused 1 time in the last 7 days (rcpt-rejected)" % USER, "warn")
    assert f["fix"]["setting"] == "enabled", f
    ja = doctor(srv, "--lang", "ja")
    assert any("宛てのメールを 1 回拒否しました (rcpt-rejected)" in f["text"] for f in findings(ja, "receive"))
    srv.ctl("account", "enable", USER)
    d = doctor(srv, "--since", "1d")
    assert not findings(d, "receive", "fail")


@pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")
def test_dns_mx_here_elsewhere_or_no_domain(new_server, tmp_path):
    srv = new_server(start=False)
    cases = [
        (dict(mx=[(DOMAIN, "mx.other.test", 10)], hosts={HOSTNAME: "127.0.0.9", "mx.other.test": "127.0.0.8"}),
         "do not lead to this server", "warn"),
        (dict(mx=[(DOMAIN, HOSTNAME, 10)], hosts={HOSTNAME: "127.0.0.9"}), "leads to this server", "ok"),
        # another name for this server's address leads here too; a backup MX first is a warning
        (dict(mx=[(DOMAIN, "alias.example.test", 20), (DOMAIN, "backup.other.test", 10)],
              hosts={HOSTNAME: "127.0.0.9", "alias.example.test": "127.0.0.9", "backup.other.test": "127.0.0.8"}),
         "list this server, but not first", "warn"),
        # the zone has a name under the domain but no MX: NODATA
        (dict(hosts={HOSTNAME: "127.0.0.9"}), "has no MX record", "warn"),
        (dict(), "does not exist in public DNS", "warn"),
    ]
    for i, (zone, text, level) in enumerate(cases):
        d = ou.Dnsmasq(tmp_path / ("dns%d" % i), **zone).start()
        try:
            srv.ctl("config", "set", "dns.resolver", d.resolver)
            got = doctor(srv)
        finally:
            d.stop()
        f = one(got, "receive", text, level)
        assert got["status"] == 0, got            # DNS is never a failure of the server
        if level == "warn" and "MX" in f["text"]:
            assert f["fix"]["command"] == "yubinctl domain dns %s --check" % DOMAIN, f
        if level == "ok":
            assert "(10 %s; seen so since " % HOSTNAME in f["text"], f
            first = f["text"].split("seen so since ")[1][:23]
    assert len(events(srv, "dns-mx-here", DOMAIN)) == 1
    # seen before: the first time is kept
    d = ou.Dnsmasq(tmp_path / "dns-again", mx=[(DOMAIN, HOSTNAME, 10)], hosts={HOSTNAME: "127.0.0.9"}).start()
    try:
        srv.ctl("config", "set", "dns.resolver", d.resolver)
        f = one(doctor(srv, "--lang", "ja"), "receive", "の MX はこのサーバーを指しています", "ok")
        assert first in f["text"], (first, f)
    finally:
        d.stop()
    assert len(events(srv, "dns-mx-here", DOMAIN)) == 1


# ---------------------------------------------------------------- mailbox full

def test_pop_client_leaving_old_mail(srv):
    tok = unique("old")
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    big = make_message(tok, size=300000).replace(b"Subject: test ", b"Subject: holiday photos ")
    c.send_mail("someone@client.test", [USER], big)[-1].expect(250)
    c.send_mail("someone@client.test", [USER], make_message(unique("new")))[-1].expect(250)
    c.quit()
    old = time.time() - 40 * 86400
    inbox = srv.maildir(USER)
    files = [os.path.join(inbox, sub, n) for sub in ("new", "cur") for n in os.listdir(os.path.join(inbox, sub))]
    assert len(files) == 2, files
    for path in files:
        if tok.encode() in open(path, "rb").read():
            os.utime(path, (old, old))
    assert pop3_login_from(srv, "127.0.0.1", USER).startswith(b"+OK")
    wait_event(srv, "auth-ok", USER)

    d = doctor(srv)
    f = one(d, "full", "a POP3 client logs in", "warn")
    assert "last from 127.0.0.1" in f["text"] and ": 1 message (0.2 MB) in the inbox are older than 30 days" \
        in f["text"], f
    assert f["fix"]["setting"] == "client:pop-leave-copy=off", f
    f = one(d, "full", "biggest messages: ", "ok")
    assert f["text"].startswith("biggest messages: 0.2 MB in INBOX (") and '"holiday photos %s"' % tok in f["text"], f
    ja = doctor(srv, "--lang", "ja")
    assert any("POP3 のメールソフトがログインし" in f["text"] and "受信箱の 1 通" in f["text"]
               for f in findings(ja, "full", "warn"))
    # an IMAP client too: the old mail may be kept on purpose, no longer a warning
    assert imap_login_from(srv, "127.0.0.2", USER).startswith("OK")     # (one auth-ok per address in 10 min)
    wait_event(srv, "auth-ok", USER, n=2)
    assert one(doctor(srv), "full", "a POP3 client logs in")["level"] == "ok"


# ---------------------------------------------------------------- [SPAM]

def test_spam_tagged_with_the_two_ways_out(srv):
    add_event(srv, "spam-tagged", USER, "192.0.2.5",
              "score 9.1 >= 5.0 (level 3), action junk, from <deals@bad.test>, id abc123, subject: cheap pills",
              ago=2 * 86400)
    d = doctor(srv)
    f = one(d, "spam", "A message from <deals@bad.test> was tagged [SPAM]", "warn")
    assert "subject \"cheap pills\"" in f["text"] and "and put in Junk" in f["text"], f
    assert f["fix"] == {"command": "yubinctl spam allow add %s deals@bad.test" % USER, "setting": "allow"}, f
    f = one(d, "spam", "wanted mail tagged [SPAM]", "ok")
    assert f["fix"] == {"command": "yubinctl account set %s spam off" % USER, "setting": "spam"}, f
    # an older tag is outside the window
    d = doctor(srv, "--since", "1d")
    assert not [f for f in findings(d, "spam") if "deals@bad.test" in f["text"]]
    srv.ctl("account", "set", USER, "spam", "off")
    f = one(doctor(srv, "--lang", "ja"), "spam", "迷惑メールフィルタ: オフ", "ok")
    assert "件名の [SPAM] は届く前に付けられたもの" in f["text"], f


# ---------------------------------------------------------------- password prompts

def test_failed_logins_by_client_address_login_and_protocol(srv):
    assert imap_login_from(srv, "127.0.0.1", USER, "Wrong-1").startswith("NO")
    assert imap_login_from(srv, "127.0.0.1", USER, "Wrong-2").startswith("NO")
    assert pop3_login_from(srv, "127.0.0.2", USER, "Wrong-3").startswith(b"-ERR")
    wait_event(srv, "auth-failed", USER, n=3)
    d = doctor(srv)
    f = one(d, "password", "127.0.0.1: 2 failed logins as %s over imap (wrong password)" % USER, "warn")
    assert f["fix"] == {"command": "yubinctl account passwd " + USER, "setting": "password"}, f
    one(d, "password", "127.0.0.2: 1 failed login as %s over pop3 (wrong password)" % USER, "warn")
    ja = doctor(srv, "--lang", "ja")
    one(ja, "password", "127.0.0.1: 2 回、%s として imap でログインに失敗 (wrong password)" % USER, "warn")
    text = srv.ctl("doctor", USER, "--lang", "ja").out
    assert "          対処: yubinctl account passwd %s\n" % USER in text, text


# ---------------------------------------------------------------- certificate warnings

def test_host_names_without_a_certificate(srv):
    # as the TLS listeners record an SNI no certificate covers: ip the client, detail "NAME SERVICE"
    # (oldest first, as they happen)
    add_event(srv, "tls-sni-unknown", "", "192.0.2.9", "old.%s pop3s" % DOMAIN, ago=10 * 86400)
    add_event(srv, "tls-sni-unknown", "", "192.0.2.7", "imap.%s imaps" % DOMAIN, ago=3600)
    add_event(srv, "tls-sni-unknown", "", "192.0.2.8", "imap.%s imaps" % DOMAIN, ago=60)
    add_event(srv, "tls-sni-unknown", "", "192.0.2.9", "mail.other.test smtps", ago=30)
    d = doctor(srv)
    f = one(d, "certificate", "mail clients asked for imap.%s (over imaps, 2 times, last from 192.0.2.8" % DOMAIN,
            "warn")
    assert "set the client's server name to %s" % HOSTNAME in f["text"], f
    assert f["fix"] == {"command": "yubinctl cert list", "setting": "client:server-name"}, f
    assert not any("other.test" in x["text"] or "old." in x["text"] for x in findings(d, "certificate"))
    assert len(findings(doctor(srv, "--since", "30d"), "certificate", "warn")) == 2
    ja = doctor(srv, "--lang", "ja")
    one(ja, "certificate", "メールソフトが imap.%s を求めました (imaps、2 回" % DOMAIN, "warn")


def test_certificate_orders_that_failed(srv):
    # as the ACME client records them (ops_acme.c): address the domain
    add_event(srv, "cert-failed", DOMAIN, "", "mail.%s: the CA refused the order; the current certificate"
              " stays; next try in 20 min" % DOMAIN, ago=7200)
    add_event(srv, "cert-failed", DOMAIN, "", "mail.%s: connection refused; next try in 10 min" % DOMAIN, ago=60)
    add_event(srv, "cert-dns-elsewhere", DOMAIN, "", "autoconfig.%s points to 192.0.2.50, not to this server;"
              " no certificate ordered" % DOMAIN, ago=120)
    add_event(srv, "cert-failed", "other.test", "", "mail.other.test: refused", ago=60)
    d = doctor(srv)
    f = one(d, "certificate", "Getting a certificate failed (mail.%s: connection refused" % DOMAIN, "warn")
    assert f["fix"]["command"] == "yubinctl cert show mail.%s" % DOMAIN, f
    f = one(d, "certificate", "No certificate was ordered because the name's DNS does not point at this server"
            " yet (autoconfig.%s points to 192.0.2.50" % DOMAIN, "warn")
    assert f["fix"]["command"] == "yubinctl cert show autoconfig.%s" % DOMAIN, f
    assert not any("other.test" in x["text"] or "CA refused" in x["text"] for x in findings(d, "certificate"))
    ja = doctor(srv, "--lang", "ja")
    one(ja, "certificate", "証明書の取得に失敗しました (mail.%s: connection refused" % DOMAIN, "warn")


# ---------------------------------------------------------------- strange bounces

def test_bounces_refused_by_batv_and_bounces_without_it(srv):
    srv.ctl("domain", "set", DOMAIN, "batv", "on")
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    c.cmd("MAIL FROM:<>").expect(250)
    c.cmd("RCPT TO:<%s>" % USER).expect(550, "5.7.1")
    c.quit()
    wait_event(srv, "batv-refused", USER)
    d = doctor(srv)
    f = one(d, "bounces", "1 bounce for mail %s did not send was refused by BATV" % USER, "ok")
    assert "someone forges the address" in f["text"], f

    srv.ctl("domain", "set", DOMAIN, "batv", "off")
    c = SMTPConn(srv.port("smtp"))
    c.ehlo().expect(250)
    c.send_mail("", [USER], make_message(unique("dsn")))[-1].expect(250)
    c.quit()
    wait_event(srv, "delivered", USER)
    d = doctor(srv)
    f = one(d, "bounces", "1 bounce (delivery reports) reached the mailbox", "warn")
    assert f["fix"] == {"command": "yubinctl domain set %s batv on" % DOMAIN, "setting": "batv"}, f
    ja = doctor(srv, "--lang", "ja")
    one(ja, "bounces", "BATV をオンにすると", "warn")


def test_compromise_signals_advise_a_new_password(srv):
    one(doctor(srv), "bounces", "no sign that someone else uses", "ok")
    add_event(srv, "auth-ok", USER, "192.0.2.1", "imap login from 192.0.2.1 country=JP", ago=7200)
    add_event(srv, "auth-ok", USER, "198.51.100.1", "smtp login from 198.51.100.1 country=US", ago=60)
    d = doctor(srv)
    f = one(d, "bounces", "signs that someone else uses %s: logins from 2 countries (US, JP)" % USER, "warn")
    assert f["fix"] == {"command": "yubinctl account passwd " + USER, "setting": "password"}, f
    ja = doctor(srv, "--lang", "ja")
    one(ja, "bounces", "2 か国からのログイン (US, JP)", "warn")
