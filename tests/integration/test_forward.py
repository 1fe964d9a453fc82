"""Mail forwarding (account settings `forward` and `forward-keep`).

Mail for an account with `forward` set is copied to up to 100 addresses:
local ones straight into their mailboxes, others through the outbound
queue to the remote MX (dnsmasq + Postfix's smtp-sink, as in
test_outbound.py). Forwarded copies count against the account's sending
limits (issue 5), a forwarding loop is cut, and a message that cannot be
forwarded stays in the account's own mailbox even with forward-keep off.
"""
import pytest

import helpers
import outbound_util as ou
from helpers import DOMAIN, SMTPConn, make_message, unique

pytestmark = pytest.mark.skipif(not ou.have_tools(), reason="dnsmasq or smtp-sink missing (scripts/deps.sh test)")

A = "alice@" + DOMAIN
B = "bob@" + DOMAIN
C = "carol@" + DOMAIN


@pytest.fixture
def srv(dns, sink, new_server):
    sink.start()
    return new_server(config=ou.outbound_config(dns, sink),
                      accounts=[(A,), (B,), (C,)])


def send(srv, rcpt, msg, sender="someone@client.test"):
    c = SMTPConn(srv.port("smtp"))
    try:
        c.ehlo().expect(250)
        return c.send_mail(sender, [rcpt], msg)
    finally:
        c.quit()


def events(srv, kind):
    out = srv.ctl("doctor", A).out
    return [l for l in out.splitlines() if kind in l]


def test_setting_is_checked(srv):
    p = srv.ctl("account", "set", A, "forward", A, check=False)
    assert p.returncode != 0 and "itself" in p.err
    p = srv.ctl("account", "set", A, "forward", "x@[192.0.2.1]", check=False)
    assert p.returncode != 0 and "plain name@domain" in p.err
    p = srv.ctl("account", "set", A, "forward", ",".join("u%d@remote.test" % i for i in range(101)),
                check=False)
    assert p.returncode != 0 and "at most 100" in p.err
    hundred = ",".join("user-number-%03d@remote-domain-%03d.test" % (i, i) for i in range(100))
    out = srv.ctl("account", "set", A, "forward", hundred).out
    assert "user-number-099@remote-domain-099.test" in out, out
    assert srv.ctl("account", "set", A, "forward", "off").returncode == 0
    out = srv.ctl("account", "set", A, "forward", "X@Remote.Test  " + B).out
    assert "X@remote.test, " + B in out
    assert srv.ctl("account", "set", A, "forward", "off").returncode == 0


def test_forward_remote_and_local_keeping_a_copy(srv, sink):
    srv.ctl("account", "set", A, "forward", "x@remote.test, " + B)
    tok = unique("fwd")
    replies = send(srv, A, make_message(tok, rcpt=A))
    assert [r.code for r in replies] == [250, 250, 250], replies
    assert len(srv.find_token(A, tok)) == 1          # kept (forward-keep defaults to on)
    got = srv.find_token(B, tok)
    assert len(got) == 1
    data = list(got.values())[0]
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"Delivered-To: %s" % B.encode() in head and b"Delivered-To: %s" % A.encode() in head
    remote = sink.wait(1)
    assert len(remote) == 1, srv.log_tail()
    assert b"X-Rcpt-Args: <x@remote.test>" in remote[0]
    # the original envelope sender is kept: bounces go to whoever sent it
    assert b"X-Mail-Args: <someone@client.test>" in remote[0]
    assert b"Delivered-To: " + A.encode() in remote[0]
    assert tok.encode() in remote[0]


def test_forward_without_keeping(srv, sink):
    srv.ctl("account", "set", A, "forward", "y@remote.test")
    srv.ctl("account", "set", A, "forward-keep", "off")
    tok = unique("nokeep")
    replies = send(srv, A, make_message(tok, rcpt=A))
    assert [r.code for r in replies] == [250, 250, 250], replies
    remote = sink.wait(1)
    assert len(remote) == 1 and tok.encode() in remote[0], srv.log_tail()
    assert len(srv.find_token(A, tok)) == 0


def test_one_hop_between_local_accounts(srv):
    """A forwards to B and B forwards to A: each message is copied once,
    never back and forth."""
    srv.ctl("account", "set", A, "forward", B)
    srv.ctl("account", "set", B, "forward", A)
    tok = unique("hop")
    send(srv, A, make_message(tok, rcpt=A))
    assert len(srv.find_token(A, tok)) == 1
    assert len(srv.find_token(B, tok)) == 1


def test_loop_is_cut_and_the_copy_kept(srv, sink):
    """A message that already went through A's forwarding (it carries
    Delivered-To: A) is not forwarded again, even with forward-keep off:
    it stays in A's mailbox."""
    srv.ctl("account", "set", A, "forward", "z@remote.test")
    srv.ctl("account", "set", A, "forward-keep", "off")
    tok = unique("loop")
    msg = b"Delivered-To: " + A.encode() + b"\r\n" + make_message(tok, rcpt=A)
    replies = send(srv, A, msg)
    assert [r.code for r in replies] == [250, 250, 250], replies
    assert len(srv.find_token(A, tok)) == 1
    assert sink.wait(1, timeout=2) == []
    assert "forwarding loop" in srv.log()


def test_forwarded_copies_count_against_the_sending_limit(srv, sink):
    srv.ctl("account", "set", A, "forward", "p@remote.test, q@remote.test")
    srv.ctl("account", "set", A, "forward-keep", "off")
    srv.ctl("account", "set", A, "send-limit-hour", "3")
    first, second = unique("lim1"), unique("lim2")
    send(srv, A, make_message(first, rcpt=A))        # 2 copies: within 3
    remote = sink.wait(1)
    assert len(remote) == 1 and first.encode() in remote[0], srv.log_tail()
    send(srv, A, make_message(second, rcpt=A))       # 2 more would make 4: not forwarded
    assert len(srv.find_token(A, second)) == 1       # kept although forward-keep is off
    assert len(srv.find_token(A, first)) == 0
    assert len(sink.wait(2, timeout=2)) == 1
    out = srv.ctl("doctor", A).out
    assert "forward-limited" in out or "hourly sending limit" in out, out


def test_hundred_targets_count_against_the_sending_limit(srv, sink):
    targets = ["t%03d@remote.test" % i for i in range(100)]
    srv.ctl("account", "set", A, "forward", ", ".join(targets))
    srv.ctl("account", "set", A, "forward-keep", "off")
    srv.ctl("account", "set", A, "send-limit-hour", "150")
    first, second = unique("h1"), unique("h2")
    send(srv, A, make_message(first, rcpt=A))        # 100 copies: within 150
    assert len(srv.find_token(A, first)) == 0
    fwd = events(srv, "forwarded")
    assert fwd and "t000@remote.test" in fwd[-1] and "and 95 more (100 addresses)" in fwd[-1], fwd
    remote = sink.wait(1)     # one queue file, its 100 recipients to the one MX
    assert len(remote) == 1 and first.encode() in remote[0], srv.log_tail()
    send(srv, A, make_message(second, rcpt=A))       # 100 more would make 200: not forwarded
    assert len(srv.find_token(A, second)) == 1       # kept although forward-keep is off
    assert events(srv, "forward-limited")
