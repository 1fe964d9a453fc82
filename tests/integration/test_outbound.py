"""Outbound queue and delivery to remote MX hosts (issue 4, first half).

A real DNS server (dnsmasq) serves the MX and A records of the test domains
on 127.0.0.1 at a high port and a real remote MTA (Postfix's smtp-sink)
receives on 127.0.0.5. Messages enter the queue through SMTP submission
(AUTH on 587) or through `yubinctl queue inject`, which writes the same
durable queue file.
"""
import os
import re

import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, PASSWORD

pytestmark = pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")

LOCAL = "user@" + DOMAIN


def config(dns, sink, **extra):
    return ou.outbound_config(dns, sink, **extra)


def message(token, subject="outbound test", body=None, sender=LOCAL, to="bob@remote.test"):
    body = body if body is not None else (
        "Hello from Yubin.\r\n"
        ".a line that starts with a dot\r\n"
        "..two dots\r\n"
        "日本語の本文 (8-bit UTF-8)\r\n"
        + "x" * 900 + "\r\n"
        + "token " + token + "\r\n")
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s %s\r\nMessage-ID: <%s@client.test>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n%s" % (sender, to, subject, token, token, body)).encode()


def settle(srv, timeout=60):
    """Waits until the queue is empty, then stops yubind (SIGTERM: it
    finishes the transactions it has open). After that nothing more can
    arrive anywhere, so counts of what arrived are final; no sleeping and
    hoping that a late duplicate would have come by then."""
    assert ou.wait_for(lambda: not ou.queue_files(srv), timeout=timeout), srv.log_tail()
    assert srv.stop() == 0, srv.log_tail()


def dsn_messages(srv, addr=LOCAL):
    return {p: d for p, d in srv.messages(addr).items() if b"multipart/report" in d}


def sink_body(dump):
    """The message part of an smtp-sink dump (after its X- lines and its
    own Received header)."""
    text = dump.replace(b"\r\n", b"\n")
    i = text.index(b"Received: by yubinctl queue inject")
    return text[i:]


def test_delivery_arrives_intact(dns, sink, new_server):
    sink.start()
    srv = new_server(config=config(dns, sink))
    tok = helpers.unique("intact")
    msg = message(tok)
    qid = ou.inject(srv, LOCAL, ["bob@remote.test"], msg)
    assert re.fullmatch(r"[0-9a-z]{12}", qid), qid
    got = sink.wait(1)
    assert len(got) == 1, srv.log_tail()
    dump = got[0]
    assert b"X-Mail-Args: <%s>" % LOCAL.encode() in dump
    assert b"X-Rcpt-Args: <bob@remote.test>" in dump
    assert b"X-Helo-Args: " + helpers.HOSTNAME.encode() in dump
    # the message exactly as injected (dot-stuffing undone by the receiver)
    body = sink_body(dump)
    original = msg.replace(b"\r\n", b"\n")
    # (smtp-sink ends each dump with an empty line of its own)
    # after our two-line Received field, byte for byte (smtp-sink ends each
    # dump with an empty line of its own)
    assert body.split(b"\n", 2)[2] == original + b"\n", body[-400:]
    assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
    assert re.search(r"queue: id=%s to=<bob@remote.test> status=sent \(250 " % qid, srv.log())
    assert "Mail queue is empty" in srv.ctl("queue", "list").out


def test_submission_on_587_is_delivered(dns, sink, new_server):
    """The whole path: AUTH on 587, a remote and a local recipient in one
    transaction; the local copy is in the Maildir at once, the remote one
    reaches the remote MX with a Received header naming the authenticated
    submission, and the queue empties."""
    sink.start()
    srv = new_server(config=config(dns, sink))
    tok = helpers.unique("submit")
    msg = message(tok)
    c = helpers.smtp_submission(srv)
    try:
        assert c.auth_plain(LOCAL, PASSWORD).code == 235
        replies = c.send_mail(LOCAL, ["bob@remote.test", "carol@remote.test", LOCAL], msg)
        assert [r.code for r in replies] == [250] * 5, replies
        assert "queued" in replies[-1].text
    finally:
        c.quit()
    assert len(srv.find_token(LOCAL, tok)) == 1
    got = sink.wait(1)
    assert len(got) == 1, srv.log_tail()
    dump = got[0]
    assert b"X-Mail-Args: <%s>" % LOCAL.encode() in dump
    # one transaction for both recipients of the same domain
    assert b"X-Rcpt-Args: <bob@remote.test>" in dump and b"X-Rcpt-Args: <carol@remote.test>" in dump
    text = dump.replace(b"\r\n", b"\n")
    assert b"(Yubin) with ESMTPSA id" in text, text[:600]
    assert b"(authenticated sender)" in text
    assert b"token " + tok.encode() in text
    assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)


def test_mx_preference_fallback_and_implicit_mx(dns, sink, new_server):
    """backup.test: MX 10 has no listener, MX 20 takes the mail;
    implicit.test has only an A record (RFC 5321 5.1 implicit MX)."""
    sink.start()
    srv = new_server(config=config(dns, sink))
    t1, t2 = helpers.unique("pref"), helpers.unique("implicit")
    ou.inject(srv, LOCAL, ["carol@backup.test"], message(t1, to="carol@backup.test"))
    ou.inject(srv, LOCAL, ["dave@implicit.test"], message(t2, to="dave@implicit.test"))
    got = sink.wait(2, timeout=40)
    assert len(got) == 2, srv.log_tail()
    joined = b"".join(got)
    assert t1.encode() in joined and t2.encode() in joined
    assert b"X-Rcpt-Args: <carol@backup.test>" in joined
    assert b"X-Rcpt-Args: <dave@implicit.test>" in joined


def test_soft_failure_then_delivered_on_retry(dns, sink, new_server):
    sink.start(["-r", "RCPT"])   # 450 4.3.0 to every RCPT
    srv = new_server(config=config(dns, sink))
    tok = helpers.unique("retry")
    qid = ou.inject(srv, LOCAL, ["bob@remote.test"], message(tok))
    assert ou.wait_for(lambda: "status=deferred" in srv.log()), srv.log_tail()
    # the queue shows the message with the remote server's answer
    out = srv.ctl("queue", "list").out
    assert qid in out and "<bob@remote.test>" in out and "450 4.3.0" in out, out
    show = srv.ctl("queue", "show", qid).out
    assert "recipient: <bob@remote.test> pending: 450 4.3.0" in show, show
    assert "Subject: outbound test " + tok in show
    assert not sink.messages()
    sink.restart()
    got = sink.wait(1, timeout=20)
    assert len(got) == 1 and tok.encode() in got[0], srv.log_tail()
    settle(srv)
    assert len(sink.messages()) == 1      # exactly once
    assert not dsn_messages(srv)          # no bounce, no delay notice


def test_hard_failure_bounces_to_local_sender(dns, sink, new_server):
    sink.start(["-f", "RCPT", "-B", "550 5.1.1 <nobody@remote.test>: Recipient address rejected: User unknown"])
    srv = new_server(config=config(dns, sink))
    tok = helpers.unique("bounce")
    qid = ou.inject(srv, LOCAL, ["nobody@remote.test"], message(tok, to="nobody@remote.test"))
    assert ou.wait_for(lambda: dsn_messages(srv), timeout=15), srv.log_tail()
    (dsn,) = dsn_messages(srv).values()
    head, _, rest = dsn.partition(b"\r\n\r\n")
    assert b"Return-Path: <>" in head
    assert re.search(rb"From: Mail Delivery System <MAILER-DAEMON@[^>]+>", head)
    assert b"Subject: Undelivered Mail Returned to Sender" in head
    assert b"Auto-Submitted: auto-replied" in head
    assert b"report-type=delivery-status" in head
    assert b"Content-Type: message/delivery-status" in rest
    assert b"Final-Recipient: rfc822; nobody@remote.test" in rest
    assert b"Action: failed" in rest
    assert b"Status: 5.1.1" in rest
    assert b"Remote-MTA: dns; mx.remote.test" in rest
    assert b"Diagnostic-Code: smtp; 550 5.1.1" in rest
    assert b"X-Yubin-Queue-ID: " + qid.encode() in rest
    # the original headers come back, not the body
    assert b"Content-Type: text/rfc822-headers" in rest
    assert b"Subject: outbound test " + tok.encode() in rest
    assert b"token " + tok.encode() not in rest
    assert ou.wait_for(lambda: not ou.queue_files(srv))
    assert not sink.messages()


def test_expiry_sends_dsn(dns, sink, new_server):
    sink.start(["-r", "RCPT", "-b", "451 4.7.1 Greylisted, try again later"])
    srv = new_server(config=config(dns, sink, queue__lifetime=4))
    tok = helpers.unique("expire")
    ou.inject(srv, LOCAL, ["bob@remote.test"], message(tok))
    assert ou.wait_for(lambda: dsn_messages(srv), timeout=25), srv.log_tail()
    (dsn,) = dsn_messages(srv).values()
    assert b"Undelivered Mail Returned to Sender" in dsn
    assert b"Action: failed" in dsn
    assert b"Status: 4.7.1" in dsn                 # the last deferral's code, as Postfix
    assert b"Greylisted" in dsn and b"expired after" in dsn
    assert b"Subject: outbound test " + tok.encode() in dsn
    assert ou.wait_for(lambda: not ou.queue_files(srv))
    assert "status=expired" in srv.log()


def test_delay_warning(dns, sink, new_server):
    sink.start(["-r", "RCPT"])
    srv = new_server(config=config(dns, sink, queue__delay_warning=2))
    tok = helpers.unique("delay")
    qid = ou.inject(srv, LOCAL, ["bob@remote.test"], message(tok))
    assert ou.wait_for(lambda: dsn_messages(srv), timeout=20), srv.log_tail()
    (dsn,) = dsn_messages(srv).values()
    assert b"Subject: Delayed Mail (still being retried)" in dsn
    assert b"Action: delayed" in dsn and b"Will-Retry-Until: " in dsn
    assert b"Status: 4.3.0" in dsn
    # still queued, and warned only once
    assert qid in ou.queue_files(srv)
    assert "delay notice sent: yes" in srv.ctl("queue", "show", qid).out
    # two more attempts fail after the notice, then the remote takes it
    tries = srv.log().count("status=deferred")
    assert ou.wait_for(lambda: srv.log().count("status=deferred") >= tries + 2, timeout=30), srv.log_tail()
    sink.restart()
    assert len(sink.wait(1, timeout=20)) == 1
    settle(srv)
    assert len(dsn_messages(srv)) == 1    # warned once, however often it was retried
    assert len(sink.messages()) == 1


def test_no_bounce_for_null_sender(dns, sink, new_server):
    sink.start(["-f", "RCPT"])
    srv = new_server(config=config(dns, sink))
    tok = helpers.unique("null")
    qid = ou.inject(srv, "", ["nobody@remote.test"], message(tok, sender="MAILER-DAEMON@" + DOMAIN,
                                                             to="nobody@remote.test"))
    assert ou.wait_for(lambda: "id=%s removed" % qid in srv.log()), srv.log_tail()
    assert "status=bounced" in srv.log()
    settle(srv)
    assert not dsn_messages(srv)
    assert not ou.queue_files(srv)       # no bounce queued either
    assert "notice" not in srv.log()


def test_nxdomain_bounces_at_once(dns, sink, new_server):
    sink.start()
    srv = new_server(config=config(dns, sink))
    ou.inject(srv, LOCAL, ["someone@nx.test"], message(helpers.unique("nx"), to="someone@nx.test"))
    assert ou.wait_for(lambda: dsn_messages(srv), timeout=15), srv.log_tail()
    (dsn,) = dsn_messages(srv).values()
    assert b"Status: 5.1.2" in dsn and b"nx.test" in dsn


def test_queue_ctl_without_daemon(dns, sink, new_server):
    """The queue is plain files: list/show/delete work with yubind stopped,
    and what is left is delivered at the next start."""
    sink.start()
    srv = new_server(config=config(dns, sink), start=False)
    keep, drop = helpers.unique("keep"), helpers.unique("drop")
    qk = ou.inject(srv, LOCAL, ["bob@remote.test", "eve@remote.test"], message(keep))
    qd = ou.inject(srv, LOCAL, ["bob@remote.test"], message(drop))
    out = srv.ctl("queue", "list").out
    assert qk in out and qd in out and "2 messages" in out
    js = srv.ctl("queue", "list", "--json").out
    assert '"address":"eve@remote.test"' in js.replace(" ", "")
    assert "Deleted" in srv.ctl("queue", "delete", qd).out
    p = srv.ctl("queue", "show", qd, check=False)
    assert p.returncode == 1 and "no message" in p.err
    p = srv.ctl("queue", "show", "../../etc", check=False)
    assert p.returncode == 1
    assert "yubind is not running" in srv.ctl("queue", "retry").out
    srv.start()
    settle(srv)
    got = sink.messages()
    assert len(got) == 1 and keep.encode() in got[0]
    # both recipients in one transaction
    assert b"X-Rcpt-Args: <bob@remote.test>" in got[0] and b"X-Rcpt-Args: <eve@remote.test>" in got[0]


def test_kill9_during_burst_delivers_each_once(dns, sink, new_server):
    """40 messages wait in the queue; yubind starts, and is killed with
    SIGKILL in the middle of sending them; after a restart every message
    has arrived, and once, except where SMTP itself cannot tell (below)."""
    # the remote pauses often (a second before answering one MAIL command in
    # four), so the burst lasts long enough to be interrupted even when the
    # sanitizer build is slow to report that it is listening
    sink.start(["-p", "-W", "MAIL:1:25"])
    srv = new_server(config=config(dns, sink), start=False)
    n = 40
    toks = [helpers.unique("burst%d" % i) for i in range(n)]
    qid_of = {}
    for t in toks:
        qid_of[t] = ou.inject(srv, LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
    srv.start()
    # no time bound on a slow machine: the kill waits for the fifth arrival
    assert ou.wait_for(lambda: len(sink.messages()) >= 5, timeout=300, step=0.002), srv.log_tail()
    srv.kill9()
    first_run = srv.log()
    left = len(ou.queue_files(srv))
    assert left > 0, "the burst was over before the kill: the test proves nothing"
    m = re.search(r"queue: runner started, (\d+) delivery threads", first_run)
    assert m, first_run[-2000:]
    threads = int(m.group(1))
    srv.start()
    settle(srv, timeout=300)
    got = b"\n".join(sink.messages())
    counts = {t: got.count(("token " + t).encode()) for t in toks}
    missing = [t for t, c in counts.items() if c == 0]
    assert not missing, missing
    # A duplicate is unavoidable for a message whose transaction the remote
    # had completed (its 250 sent) when the kill came, before yubind read
    # that 250 and recorded it (RFC 1047): yubind had not logged it as sent,
    # it was on one of the delivery threads (one transaction each), and it
    # is sent once more, so it arrives exactly twice. Anything else is a bug.
    dup = {t: c for t, c in counts.items() if c > 1}
    logged_sent = {t for t in toks if "queue: id=%s to=<bob@remote.test> status=sent" % qid_of[t] in first_run}
    assert all(c == 2 for c in dup.values()), dup
    assert not set(dup) & logged_sent, "sent again after the 250 was recorded: %r" % (set(dup) & logged_sent)
    assert len(dup) <= threads, (threads, dup)


def test_relayhost_with_auth_over_starttls(dns, sink, tmp_path, new_server):
    """A second Yubin is the smart host: STARTTLS on its submission port,
    AUTH PLAIN, then it delivers to its own mailbox."""
    relay = new_server(domains=("relay.test",), accounts=[("smart@relay.test", PASSWORD, None),
                                                           ("carol@relay.test", PASSWORD, None)])
    srv = new_server(config={
        "dns.resolver": dns.resolver,
        "smtp.relayhost": "[127.0.0.1]:%d" % relay.port("submission"),
        "smtp.relayhost_user": "smart@relay.test",
        "smtp.relayhost_password": PASSWORD,
        "queue.retry_min": "1", "queue.retry_max": "2",
    })
    tok = helpers.unique("relay")
    ou.inject(srv, "smart@relay.test", ["carol@relay.test"],
              message(tok, sender="smart@relay.test", to="carol@relay.test"))
    got = relay.wait_messages("carol@relay.test", 1, timeout=20)
    assert len(got) == 1, srv.log_tail()
    (data,) = got.values()
    assert tok.encode() in data
    # the relay's Received line: TLS and authenticated
    assert re.search(rb"with ESMTPSA", data), data[:600]
    assert "with TLS" in srv.log()


def test_relayhost_refuses_password_without_tls(dns, sink, new_server):
    """smtp-sink offers no STARTTLS: the password is never sent and the
    message waits."""
    sink.start()
    srv = new_server(config={
        "dns.resolver": dns.resolver,
        "smtp.relayhost": "[%s]:%d" % (ou.MX_ADDR, sink.port),
        "smtp.relayhost_user": "u", "smtp.relayhost_password": "secret-pw",
        "queue.retry_min": "1", "queue.retry_max": "2",
    })
    qid = ou.inject(srv, LOCAL, ["bob@remote.test"], message(helpers.unique("notls")))
    assert ou.wait_for(lambda: "password not sent" in srv.log()), srv.log_tail()
    assert qid in ou.queue_files(srv)
    assert not sink.messages()


def test_direct_mx_with_starttls(dns, new_server):
    """The remote MX is another Yubin (port 25 with STARTTLS and a
    self-signed certificate): the message goes over TLS all the same."""
    remote = new_server(domains=("yubin.test",), accounts=[("erin@yubin.test", PASSWORD, None)])
    srv = new_server(config={
        "dns.resolver": dns.resolver,
        "smtp.remote_port": str(remote.port("smtp")),
        "queue.retry_min": "1", "queue.retry_max": "2",
    })
    tok = helpers.unique("tls")
    ou.inject(srv, LOCAL, ["erin@yubin.test"], message(tok, to="erin@yubin.test"))
    got = remote.wait_messages("erin@yubin.test", 1, timeout=20)
    assert len(got) == 1, srv.log_tail()
    (data,) = got.values()
    assert tok.encode() in data
    assert re.search(rb"with ESMTPS ", data), data[:600]     # TLS, not authenticated
    assert b"Return-Path: <%s>" % LOCAL.encode() in data
    assert "connected to yubin.test[127.0.0.1] with TLS" in srv.log()


def test_recipients_in_two_domains(dns, sink, new_server):
    """One message, two destinations: one transaction each, each recipient
    once, then the file is gone."""
    sink.start()
    srv = new_server(config=config(dns, sink))
    tok = helpers.unique("two")
    ou.inject(srv, LOCAL, ["bob@remote.test", "carol@backup.test"], message(tok))
    got = sink.wait(2, timeout=30)
    assert len(got) == 2, srv.log_tail()
    rcpts = sorted(re.search(rb"X-Rcpt-Args: <([^>]+)>", m).group(1) for m in got)
    assert rcpts == [b"bob@remote.test", b"carol@backup.test"]
    settle(srv)
    assert len(sink.messages()) == 2


def test_batv_signed_sender_and_its_bounce(dns, sink, new_server):
    """With `batv on`, mail leaving the server carries a prvs= envelope
    sender; a bounce to that address comes back into the mailbox, and a
    bounce to the plain address is refused."""
    sink.start()
    srv = new_server(config=config(dns, sink))
    srv.ctl("domain", "set", DOMAIN, "batv", "on")
    tok = helpers.unique("batvout")
    c = helpers.smtp_submission(srv)
    try:
        assert c.auth_plain(LOCAL, PASSWORD).code == 235
        replies = c.send_mail(LOCAL, ["bob@remote.test"], message(tok))
        assert [r.code for r in replies] == [250] * 3, replies
    finally:
        c.quit()
    got = sink.wait(1)
    assert len(got) == 1, srv.log_tail()
    m = re.search(rb"X-Mail-Args: <(prvs=\d{4}[0-9a-f]{6}=user@" + DOMAIN.encode() + rb")>", got[0])
    assert m, got[0][:300]
    signed = m.group(1).decode()
    bounce = ("From: MAILER-DAEMON@remote.test\r\nTo: <%s>\r\nSubject: Undelivered %s\r\n\r\n"
              "bounce of %s\r\n" % (signed, tok, tok)).encode()
    c = helpers.SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        replies = c.send_mail("", [signed], bounce)
        assert [r.code for r in replies] == [250] * 3, replies
        c.cmd("MAIL FROM:<>").expect(250)
        c.cmd("RCPT TO:<%s>" % LOCAL).expect(550, "5.7.1")
    finally:
        c.quit()
    assert len(srv.find_token(LOCAL, "bounce of " + tok)) == 1


class CountingSmtp:
    """A small SMTP server on 127.0.0.1 that counts connections and keeps
    every message. drop_mail: on a connection's Nth MAIL, close without a
    reply. close_after_data: after a message's 250, send a 421 and close
    (as a server with a short idle timeout does)."""

    def __init__(self, drop_mail=0, close_after_data=False, hold_first=None):
        import socket
        import threading
        self.drop_mail = drop_mail
        self.hold_first = hold_first  # an Event: the first message's 250 waits for it
        self.close_after_data = close_after_data
        self.connections = 0
        self.messages = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import threading
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        mails = 0
        try:
            conn.sendall(b"220 counting.test ESMTP\r\n")
            for line in f:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-counting.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"MAIL":
                    mails += 1
                    if mails == self.drop_mail:
                        return
                    conn.sendall(b"250 2.1.0 ok\r\n")
                elif verb == b"RCPT":
                    conn.sendall(b"250 2.1.5 ok\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go on\r\n")
                    body = []
                    for dl in f:
                        if dl == b".\r\n":
                            break
                        body.append(dl)
                    with self.lock:
                        self.messages.append(b"".join(body))
                        first = len(self.messages) == 1
                    if first and self.hold_first is not None:
                        self.hold_first.wait(30)
                    conn.sendall(b"250 2.0.0 taken\r\n")
                    if self.close_after_data:
                        conn.sendall(b"421 4.4.2 counting.test closing\r\n")
                        return
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")
        except OSError:
            pass
        finally:
            f.close()
            conn.close()

    def got(self, token):
        with self.lock:
            return sum(1 for m in self.messages if token.encode() in m)

    def close(self):
        self.sock.close()


def relay_config(dns, srv_port, **extra):
    cfg = {"dns.resolver": dns.resolver, "smtp.relayhost": "[127.0.0.1]:%d" % srv_port,
           "queue.retry_min": "1", "queue.retry_max": "2"}
    cfg.update({k.replace("__", "."): str(v) for k, v in extra.items()})
    return cfg


def test_connection_reused_across_jobs(dns, new_server):
    """Three messages submitted one after the other, each once the one
    before has arrived (so each is a job of its own): one connection to the
    relay host carries them all."""
    remote = CountingSmtp()
    try:
        srv = new_server(config=relay_config(dns, remote.port))
        toks = [helpers.unique("reuse%d" % i) for i in range(3)]
        for t in toks:
            ou.inject(srv, LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
            assert ou.wait_for(lambda: remote.got(t) == 1), srv.log_tail()
        assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
        assert remote.connections == 1, srv.log_tail()
        assert srv.log().count("outbound: connected to") == 1
    finally:
        remote.close()


def test_message_queued_during_a_delivery_joins_it(dns, new_server):
    """While a delivery to the relay host is under way (its first message's
    reply held back), messages submitted meanwhile join that delivery: the
    same connection sends them after it, no queue scan needed, each
    exactly once."""
    import threading
    hold = threading.Event()
    remote = CountingSmtp(hold_first=hold)
    try:
        srv = new_server(config=relay_config(dns, remote.port, queue__dest_concurrency=1))
        toks = [helpers.unique("join%d" % i) for i in range(4)]
        c = helpers.smtp_submission(srv)
        try:
            assert c.auth_plain(LOCAL, PASSWORD).code == 235
            for i, t in enumerate(toks):
                replies = c.send_mail(LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
                assert [r.code for r in replies] == [250] * 3, replies
                if i == 0:
                    assert ou.wait_for(lambda: remote.got(toks[0]) == 1), srv.log_tail()
        finally:
            c.quit()
        joined = srv.log().count("joins a delivery under way")
        hold.set()
        assert ou.wait_for(lambda: all(remote.got(t) == 1 for t in toks)), srv.log_tail()
        assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
        assert joined == 3, srv.log_tail()
        assert remote.connections == 1
        assert all(remote.got(t) == 1 for t in toks)
    finally:
        hold.set()
        remote.close()


def test_concurrent_submissions_reach_the_relay_once_each(dns, new_server):
    """Eight sessions submit at once while two connections to the relay
    host deliver: messages join running deliveries and scans hand out the
    rest, and no message is ever held by two deliveries (each arrives
    exactly once)."""
    import threading
    remote = CountingSmtp()
    try:
        srv = new_server(config=relay_config(dns, remote.port, queue__dest_concurrency=2,
                                             **{"send_limit.hour": 0, "send_limit.day": 0,
                                                "abuse.burst_min": 0, "abuse.new_rcpt_max": 0}))
        toks = [[helpers.unique("conc%d-%d" % (t, i)) for i in range(25)] for t in range(8)]
        errors = []

        def submit(mine):
            c = helpers.smtp_submission(srv)
            try:
                assert c.auth_plain(LOCAL, PASSWORD).code == 235
                for t in mine:
                    replies = c.send_mail(LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
                    assert [r.code for r in replies] == [250] * 3, replies
            except Exception as e:  # reported below
                errors.append(e)
            finally:
                c.quit()
        threads = [threading.Thread(target=submit, args=(m,)) for m in toks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        flat = [t for m in toks for t in m]
        assert ou.wait_for(lambda: all(remote.got(t) >= 1 for t in flat), timeout=60), srv.log_tail()
        assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
        assert [t for t in flat if remote.got(t) != 1] == []
    finally:
        remote.close()


def test_closed_cached_connection_is_replaced(dns, new_server):
    """The relay host says 421 and closes after every message: the next
    message, a job of its own, notices the cached connection is gone and
    goes over a new one at once, without a deferral."""
    remote = CountingSmtp(close_after_data=True)
    try:
        srv = new_server(config=relay_config(dns, remote.port))
        toks = [helpers.unique("gone%d" % i) for i in range(2)]
        for t in toks:
            ou.inject(srv, LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
            assert ou.wait_for(lambda: remote.got(t) == 1), srv.log_tail()
        assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
        assert remote.connections == 2
        assert "status=deferred" not in srv.log(), srv.log_tail()
    finally:
        remote.close()


def test_connection_lost_before_mail_reply_resends_at_once(dns, new_server):
    """Two messages in one job over one connection; the relay host drops
    the connection when the second MAIL arrives, before answering: the
    server took nothing, so that message goes at once over a new
    connection instead of waiting for a retry."""
    remote = CountingSmtp(drop_mail=2)
    try:
        srv = new_server(config=relay_config(dns, remote.port, queue__dest_concurrency=1), start=False)
        toks = [helpers.unique("drop%d" % i) for i in range(2)]
        for t in toks:
            ou.inject(srv, LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
        srv.start()
        assert ou.wait_for(lambda: all(remote.got(t) == 1 for t in toks)), srv.log_tail()
        assert ou.wait_for(lambda: not ou.queue_files(srv)), ou.queue_files(srv)
        assert remote.connections == 2
        assert "status=deferred" not in srv.log(), srv.log_tail()
        assert "sending over a new one" in srv.log()
    finally:
        remote.close()


def spares(srv):
    d = os.path.join(srv.data, "queue")
    return {n: os.stat(os.path.join(d, n)) for n in os.listdir(d) if n.startswith(".spare.")}


def test_delivered_queue_file_is_kept_empty_and_reused(dns, new_server):
    """A delivered message's queue file is not unlinked: it becomes an empty
    spare (".spare.N", never read as a message), and the next message
    queued is written into that same inode, which becomes a spare again
    once that one is delivered. Each message arrives exactly once."""
    remote = CountingSmtp()
    try:
        srv = new_server(config=relay_config(dns, remote.port))
        toks = [helpers.unique("spare%d" % i) for i in range(2)]
        inodes = []
        for t in toks:
            c = helpers.smtp_submission(srv)
            try:
                assert c.auth_plain(LOCAL, PASSWORD).code == 235
                replies = c.send_mail(LOCAL, ["bob@remote.test"], message(t, body="token " + t + "\r\n"))
                assert [r.code for r in replies] == [250] * 3, replies
            finally:
                c.quit()
            assert ou.wait_for(lambda: remote.got(t) == 1), srv.log_tail()
            assert ou.wait_for(lambda: not ou.queue_files(srv) and len(spares(srv)) == 1), \
                (ou.queue_files(srv), spares(srv), srv.log_tail())
            (st,) = spares(srv).values()
            assert st.st_size == 0  # no mail is kept in a spare
            inodes.append(st.st_ino)
        assert inodes[0] == inodes[1]
        settle(srv)
        assert [remote.got(t) for t in toks] == [1, 1]
    finally:
        remote.close()


def test_spares_left_by_a_crash_are_removed_at_start(dns, new_server):
    """A spare that still holds a message (the daemon died between the
    rename and the truncate) is removed when the queue starts."""
    srv = new_server(config=relay_config(dns, 9), start=False)
    d = os.path.join(srv.data, "queue")
    os.makedirs(d, exist_ok=True)
    left = os.path.join(d, ".spare.7")
    with open(left, "wb") as f:
        f.write(message(helpers.unique("left")))
    srv.start()
    assert ou.wait_for(lambda: not os.path.exists(left)), srv.log_tail()
