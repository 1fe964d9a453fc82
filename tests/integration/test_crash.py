"""Crash safety: a message acknowledged with 250 survives kill -9 at any
instant, intact, and no half-written message ever shows up in the INBOX."""

import os
import random
import re
import sqlite3
import threading
import time

from helpers import DOMAIN, Closed, SMTPConn, make_message, running_server

USER = "user@" + DOMAIN
THREADS = 8
TOKEN_RE = re.compile(rb"(?m)^X-Test-Token: (\S+)\r$")
ROUNDS = 3


def sender(server, tid, rnd, stop, acked, attempted, lock):
    rng = random.Random(tid * 1000 + rnd)
    seq = 0
    while not stop.is_set():
        try:
            c = SMTPConn(server.port("smtp"), timeout=10)
        except (OSError, Closed):
            time.sleep(0.05)
            continue
        try:
            if c.greeting.code != 220:
                time.sleep(0.05)
                continue
            if c.ehlo().code != 250:
                continue
            # a few transactions per connection, then a new connection
            for _ in range(rng.randint(1, 5)):
                if stop.is_set():
                    break
                seq += 1
                tok = "crash-r%d-t%d-m%d-%s" % (rnd, tid, seq, os.urandom(3).hex())
                size = rng.choice([600, 3000, 20000, 120000])
                msg = make_message(tok, size=size)
                with lock:
                    attempted[tok] = msg
                if c.cmd("MAIL FROM:<sender@client.test>").code != 250:
                    break
                if c.cmd("RCPT TO:<%s>" % USER).code != 250:
                    break
                r = c.data(msg)
                if r.code == 250:
                    with lock:
                        acked[tok] = msg
                else:
                    break
            c.quit()
        except (OSError, Closed, AssertionError):
            pass
        finally:
            c.close()


def inbox(server):
    return server.messages(USER, folders=("new", "cur"))


def check_inbox(server, acked, attempted, in_flight_max):
    """Every file is a whole message; every acknowledged message is there
    exactly once. A message whose DATA was sent but whose 250 never reached
    the client (the kill came in between) may be there, also once: the
    client cannot tell, as with any lost reply (RFC 1047), but it never
    retries it, so no token is ever there twice. There are at most
    in_flight_max of those (one open transaction per sender thread and
    kill). Returns the number of them."""
    files = inbox(server)
    by_token = {}
    for path, data in files.items():
        # every file in new/ or cur/ is a whole message
        m = TOKEN_RE.search(data[:8192])
        assert m is not None and m.group(1).decode() in attempted, \
            "unexpected file %s: %r" % (path, data[:300])
        tok = m.group(1).decode()
        assert data.endswith(attempted[tok]), "truncated or corrupt message in %s (%s): %d bytes" % (
            path, tok, len(data))
        by_token.setdefault(tok, []).append(path)
    lost = [t for t in acked if t not in by_token]
    assert not lost, "%d acknowledged messages lost after kill -9, e.g. %s" % (len(lost), lost[:5])
    dup = {t: p for t, p in by_token.items() if len(p) > 1}
    assert not dup, "delivered more than once: %r" % dup
    unacked = [t for t in by_token if t not in acked]
    assert len(unacked) <= in_flight_max, (in_flight_max, unacked)
    return len(unacked)


def test_kill9_loses_no_acknowledged_message(tmp_path):
    with running_server(tmp_path / "crash", accounts=[(USER,)]) as server:
        acked, attempted = {}, {}
        lock = threading.Lock()
        for rnd in range(ROUNDS):
            stop = threading.Event()
            threads = [threading.Thread(target=sender,
                                        args=(server, t, rnd, stop, acked, attempted, lock), daemon=True)
                       for t in range(THREADS)]
            n_before = len(acked)
            for t in threads:
                t.start()
            # kill at a random instant once mail flows (however slowly)
            deadline = time.time() + 120
            while len(acked) - n_before < THREADS and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(random.random())
            server.kill9()
            stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), "sender thread hung"
            got = len(acked) - n_before
            assert got > 0, "round %d: no message was acknowledged in 120 s" % rnd
            server.start()
            unacked = check_inbox(server, acked, attempted, THREADS * (rnd + 1))

        # the restarted daemon still takes mail normally
        c = SMTPConn(server.port("smtp"))
        try:
            c.ehlo().expect(250)
            msg = make_message("after-crash-" + os.urandom(4).hex())
            replies = c.send_mail("sender@client.test", [USER], msg)
            assert [r.code for r in replies] == [250, 250, 250], replies
        finally:
            c.quit()
        assert len(inbox(server)) == len(acked) + unacked + 1
        print("acknowledged %d of %d attempted messages over %d kills" % (len(acked), len(attempted), ROUNDS))


BURST_USERS = ["burst%d@%s" % (i, DOMAIN) for i in range(3)]
BURST_THREADS = 20
TXID_RE = re.compile(r"delivered as (\S+)")


def burst_sender(server, tid, stop, acked, attempted, lock):
    """One message per connection, as a bulk of port-25 clients sends:
    many transactions wait in the same group-commit batches."""
    seq = 0
    while not stop.is_set():
        seq += 1
        tok = "burst-t%d-m%d-%s" % (tid, seq, os.urandom(3).hex())
        rcpt = BURST_USERS[(tid + seq) % len(BURST_USERS)]
        msg = make_message(tok, size=2000)
        with lock:
            attempted[tok] = (msg, rcpt)
        try:
            c = SMTPConn(server.port("smtp"), timeout=10)
        except (OSError, Closed):
            time.sleep(0.05)
            continue
        try:
            if c.ehlo().code != 250:
                continue
            replies = c.send_mail("sender@client.test", [rcpt], msg)
            if [r.code for r in replies] == [250, 250, 250]:
                with lock:
                    acked[tok] = TXID_RE.search(replies[-1].text).group(1)
            c.quit()
        except (OSError, Closed, AssertionError):
            pass
        finally:
            c.close()


def test_kill9_mid_batch_keeps_every_acknowledged_message_and_event(tmp_path):
    """Twenty sessions at once, one message per connection (their copies
    share group-commit batches, their `delivered` events one transaction
    per batch), kill -9 while batches are in flight: after the restart
    every acknowledged message is in its mailbox once, whole, and has its
    `delivered` event once (the batch's events are committed before any
    of its 250s is sent)."""
    with running_server(tmp_path / "burst", accounts=[(u,) for u in BURST_USERS]) as server:
        acked, attempted = {}, {}
        lock = threading.Lock()
        for rnd in range(2):
            stop = threading.Event()
            threads = [threading.Thread(target=burst_sender, args=(server, t + 100 * rnd, stop, acked,
                                                                   attempted, lock), daemon=True)
                       for t in range(BURST_THREADS)]
            n_before = len(acked)
            for t in threads:
                t.start()
            deadline = time.time() + 120
            while len(acked) - n_before < 3 * BURST_THREADS and time.time() < deadline:
                time.sleep(0.01)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), "sender thread hung"
            assert len(acked) > n_before, "round %d: nothing acknowledged in 120 s" % rnd
            server.start()
            found = {}
            for user in BURST_USERS:
                for path, data in server.messages(user, folders=("new", "cur")).items():
                    tok = TOKEN_RE.search(data[:8192]).group(1).decode()
                    msg, rcpt = attempted[tok]
                    assert rcpt == user and data.endswith(msg), path
                    found.setdefault(tok, []).append(path)
            lost = [t for t in acked if t not in found]
            assert not lost, "%d acknowledged messages lost, e.g. %s" % (len(lost), lost[:5])
            dup = {t: p for t, p in found.items() if len(p) > 1}
            assert not dup, "delivered more than once: %r" % dup
            db = sqlite3.connect(os.path.join(server.data, "yubin.db"))
            try:
                details = [r[0] for r in db.execute("SELECT detail FROM events WHERE kind = 'delivered'")]
            finally:
                db.close()
            ids = {}
            for d in details:
                m = re.search(r"\bid (\S+)", d)
                ids[m.group(1)] = ids.get(m.group(1), 0) + 1
            missing = [t for t, txid in acked.items() if ids.get(txid) != 1]
            assert not missing, "%d acknowledged messages without one delivered event, e.g. %s" % (
                len(missing), missing[:5])
        print("acknowledged %d of %d attempted messages over 2 kills" % (len(acked), len(attempted)))


def test_sigterm_exits_promptly_and_cleanly(tmp_path):
    """SIGTERM with idle clients connected: the daemon says goodbye (421
    or a plain close) and exits 0 without waiting for them: about as soon
    as with no client at all, far from the 30 s it grants open
    transactions."""
    with running_server(tmp_path / "term", accounts=[(USER,)]) as server:
        t0 = time.time()
        assert server.stop(wait=120) == 0
        baseline = time.time() - t0
        server.start()
        idle = SMTPConn(server.port("smtp"))
        idle.ehlo().expect(250)
        t0 = time.time()
        rc = server.stop(wait=120)
        elapsed = time.time() - t0
        assert "did not exit within" not in server.log(), server.log_tail()
        assert rc == 0, "exit status %r after SIGTERM" % rc
        assert elapsed < baseline + 15, (baseline, elapsed)
        assert idle.wait_closed(5)
        if idle.buf:
            assert idle.buf.startswith(b"421 4."), idle.buf
        idle.close()
        # a restart finds everything in place
        server.start()
        c = SMTPConn(server.port("smtp"))
        try:
            c.ehlo().expect(250)
            replies = c.send_mail("sender@client.test", [USER], make_message("after-term"))
            assert [r.code for r in replies] == [250, 250, 250], replies
        finally:
            c.quit()
