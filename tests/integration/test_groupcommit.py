"""Group commit (store/maildir_commit.c, lib/groupcommit.c): the copies of
many concurrent transactions are made durable together, and still a 250
means every copy is on disk, whole, in every recipient's mailbox.

- kill -9 in the middle of a burst of concurrent multi-recipient sessions:
  every acknowledged message is in every one of its recipients' INBOX,
  intact, exactly once; a message whose copies became durable but whose
  250 never reached the client may be there too (counted, never required);
  nothing partial is ever visible.
- one copy failing in the commit (its new/ is gone) fails the whole
  message: 451, no copy in the other recipient's mailbox, its quota
  reservation given back.
- the relay path: an authenticated submission's queue file is made
  durable in the same group commit; after kill -9 every acknowledged
  message is in the queue, whole, exactly once."""

import os
import random
import re
import shutil
import socket
import threading
import time

from helpers import DOMAIN, PASSWORD, Closed, SMTPConn, make_message, running_server, smtp_submission

USERS = ["gc%d@%s" % (i, DOMAIN) for i in range(4)]
THREADS = 24
ACKS_BEFORE_KILL = 60
ROUNDS = 4
TOKEN_RE = re.compile(rb"(?m)^X-Test-Token: (\S+)\r$")


class Burst:
    def __init__(self):
        self.lock = threading.Condition()
        self.acked = {}  # token -> (msg, rcpts)
        self.attempted = {}
        self.stop = threading.Event()


def sender(server, burst, tid, rnd):
    rng = random.Random(tid * 7919 + rnd)
    seq = 0
    while not burst.stop.is_set():
        try:
            c = SMTPConn(server.port("smtp"), timeout=10)
        except (OSError, Closed):
            time.sleep(0.05)
            continue
        try:
            if c.greeting.code != 220 or c.ehlo().code != 250:
                continue
            for _ in range(rng.randint(1, 4)):
                if burst.stop.is_set():
                    break
                seq += 1
                tok = "gc-r%d-t%d-m%d-%s" % (rnd, tid, seq, os.urandom(3).hex())
                rcpts = rng.sample(USERS, rng.randint(1, 3))
                msg = make_message(tok, size=rng.choice([500, 4000, 30000]))
                with burst.lock:
                    burst.attempted[tok] = (msg, rcpts)
                replies = c.send_mail("sender@client.test", rcpts, msg)
                if any(r.code != 250 for r in replies):
                    break
                with burst.lock:
                    burst.acked[tok] = (msg, rcpts)
                    burst.lock.notify_all()
            c.quit()
        except (OSError, Closed, AssertionError):
            pass
        finally:
            c.close()


def mailbox_tokens(server, attempted):
    """{token: {user: count}} over every INBOX; asserts every file is whole."""
    found = {}
    for user in USERS:
        for path, data in server.messages(user, folders=("new", "cur")).items():
            m = TOKEN_RE.search(data[:8192])
            assert m is not None, "unexpected file %s: %r" % (path, data[:300])
            tok = m.group(1).decode()
            assert tok in attempted, "unknown message %s in %s" % (tok, path)
            msg, rcpts = attempted[tok]
            assert user in rcpts, "%s delivered to %s, not a recipient" % (tok, user)
            assert data.endswith(msg), "partial message %s in %s: %d bytes" % (tok, path, len(data))
            found.setdefault(tok, {}).setdefault(user, 0)
            found[tok][user] += 1
    return found


def test_kill9_mid_burst_keeps_exactly_the_acknowledged(tmp_path):
    with running_server(tmp_path / "gc", accounts=[(u,) for u in USERS]) as server:
        burst = Burst()
        for rnd in range(ROUNDS):
            burst.stop.clear()
            n_before = len(burst.acked)
            threads = [threading.Thread(target=sender, args=(server, burst, t, rnd), daemon=True)
                       for t in range(THREADS)]
            for t in threads:
                t.start()
            # kill while the sessions are still sending: after a definite
            # number of acknowledgements in this round
            with burst.lock:
                reached = burst.lock.wait_for(
                    lambda: len(burst.acked) - n_before >= ACKS_BEFORE_KILL, timeout=120)
            server.kill9()
            burst.stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), "sender thread hung"
            assert reached, "round %d: only %d acknowledged" % (rnd, len(burst.acked) - n_before)
            server.start()
            found = mailbox_tokens(server, burst.attempted)
            missing = [(tok, u) for tok, (_, rcpts) in burst.acked.items() for u in rcpts
                       if found.get(tok, {}).get(u, 0) != 1]
            assert not missing, "%d acknowledged copies missing or doubled after kill -9, e.g. %s" % (
                len(missing), missing[:5])
            unacked = [tok for tok in found if tok not in burst.acked]
            print("round %d: %d acknowledged, %d of %d unacknowledged also stored" % (
                rnd, len(burst.acked), len(unacked), len(burst.attempted) - len(burst.acked)))

        # the restarted daemon takes mail normally
        c = SMTPConn(server.port("smtp"))
        try:
            c.ehlo().expect(250)
            tok = "gc-after-" + os.urandom(4).hex()
            replies = c.send_mail("sender@client.test", USERS[:2], make_message(tok))
            assert [r.code for r in replies] == [250, 250, 250, 250], replies
        finally:
            c.quit()
        for u in USERS[:2]:
            assert len(server.find_token(u, tok)) == 1


def test_one_failed_copy_fails_the_whole_message(tmp_path):
    a, b = "gca@" + DOMAIN, "gcb@" + DOMAIN
    # a's quota (1 MB) takes one 600 KB message: a reservation left behind
    # by the failure would refuse the second one
    with running_server(tmp_path / "gcf", accounts=[(a, None, 1), (b,)]) as server:
        newdir = os.path.join(server.maildir(b), "new")
        shutil.rmtree(newdir)
        # a file where b's new/ should be: its copy fails (a missing new/
        # would be made again at RCPT, as for a mailbox made on first use)
        with open(newdir, "w") as f:
            f.write("not a directory\n")
        c = SMTPConn(server.port("smtp"))
        try:
            c.ehlo().expect(250)
            tok = "gc-fail-" + os.urandom(4).hex()
            replies = c.send_mail("sender@client.test", [a, b], make_message(tok, size=600000))
            assert [r.code for r in replies[:3]] == [250, 250, 250], replies
            assert replies[3].code == 451, replies
            assert not server.find_token(a, tok)
            assert not os.listdir(os.path.join(server.maildir(a), "tmp"))
            os.unlink(newdir)
            os.mkdir(newdir, 0o700)
            tok2 = "gc-retry-" + os.urandom(4).hex()
            replies = c.send_mail("sender@client.test", [a, b], make_message(tok2, size=600000))
            assert [r.code for r in replies] == [250, 250, 250, 250], replies
        finally:
            c.quit()
        assert len(server.find_token(a, tok2)) == 1
        assert len(server.find_token(b, tok2)) == 1
        assert not server.find_token(a, tok)


# ---- the relay path: queue files in the group commit

SUBMITTER = "gcs@" + DOMAIN
QUEUE_RCPTS = ["r%d@remote.test" % i for i in range(3)]


def submitter(server, burst, tid):
    seq = 0
    while not burst.stop.is_set():
        try:
            c = smtp_submission(server)
            if c.auth_plain(SUBMITTER, PASSWORD).code != 235:
                c.close()
                continue
        except (OSError, Closed, AssertionError):
            time.sleep(0.05)
            continue
        try:
            for _ in range(3):
                if burst.stop.is_set():
                    break
                seq += 1
                tok = "gcq-t%d-m%d-%s" % (tid, seq, os.urandom(3).hex())
                rcpts = QUEUE_RCPTS[:1 + seq % len(QUEUE_RCPTS)]
                msg = make_message(tok, sender=SUBMITTER, size=[500, 4000, 30000][seq % 3])
                with burst.lock:
                    burst.attempted[tok] = (msg, rcpts)
                replies = c.send_mail(SUBMITTER, rcpts, msg)
                if any(r.code != 250 for r in replies):
                    break
                with burst.lock:
                    burst.acked[tok] = (msg, rcpts)
                    burst.lock.notify_all()
            c.quit()
        except (OSError, Closed, AssertionError):
            pass
        finally:
            c.close()


def queue_tokens(server, attempted):
    """{token: count} over the queue files; asserts every file is whole."""
    found = {}
    qdir = os.path.join(server.data, "queue")
    for name in os.listdir(qdir) if os.path.isdir(qdir) else []:
        if name.startswith("."):
            continue        # a temporary file: never acknowledged
        with open(os.path.join(qdir, name), "rb") as f:
            data = f.read()
        head, sep, rest = data.partition(b"\n\n")
        assert sep, "queue file %s without its header: %r" % (name, data[:300])
        size = int(re.search(rb"(?m)^size (\d+)$", head).group(1))
        assert len(rest) >= size, "partial queue file %s" % name
        body = rest[:size]
        m = TOKEN_RE.search(body[:16384])
        assert m is not None, "unexpected queue file %s: %r" % (name, body[:300])
        tok = m.group(1).decode()
        assert tok in attempted, "unknown message %s in %s" % (tok, name)
        msg, rcpts = attempted[tok]
        assert body.endswith(msg), "message %s cut short in queue file %s" % (tok, name)
        assert [l.decode() for l in re.findall(rb"(?m)^rcpt (\S+)$", head)] == rcpts, name
        found[tok] = found.get(tok, 0) + 1
    return found


def test_kill9_mid_relay_burst_keeps_every_acknowledged_queue_file(tmp_path):
    """Authenticated submissions to remote recipients (their queue files go
    through the group commit): after kill -9 in the middle of a burst,
    every acknowledged message is in the queue exactly once and whole. The
    relay host does not answer, so nothing leaves the queue."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))     # bound, never listening: refused
    cfg = {"smtp.relayhost": "[127.0.0.1]:%d" % dead.getsockname()[1],
           "send_limit.hour": "0", "send_limit.day": "0",
           "abuse.burst_min": "0", "abuse.new_rcpt_max": "0"}
    try:
        with running_server(tmp_path / "gcq", config=cfg,
                            accounts=[(SUBMITTER, PASSWORD, None)]) as server:
            burst = Burst()
            threads = [threading.Thread(target=submitter, args=(server, burst, t), daemon=True)
                       for t in range(12)]
            for t in threads:
                t.start()
            with burst.lock:
                reached = burst.lock.wait_for(lambda: len(burst.acked) >= 100, timeout=120)
            server.kill9()
            burst.stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), "submitter thread hung"
            assert reached, "only %d acknowledged" % len(burst.acked)
            found = queue_tokens(server, burst.attempted)
            missing = [tok for tok in burst.acked if found.get(tok, 0) != 1]
            assert not missing, "%d acknowledged messages missing or doubled in the queue after kill -9, e.g. %s" % (
                len(missing), missing[:5])
            print("%d acknowledged, %d of %d unacknowledged also queued" % (
                len(burst.acked), len([t for t in found if t not in burst.acked]),
                len(burst.attempted) - len(burst.acked)))
            server.start()
            c = smtp_submission(server)
            try:
                assert c.auth_plain(SUBMITTER, PASSWORD).code == 235
                tok = "gcq-after-" + os.urandom(4).hex()
                msg = make_message(tok, sender=SUBMITTER)
                replies = c.send_mail(SUBMITTER, QUEUE_RCPTS[:1], msg)
                assert [r.code for r in replies] == [250, 250, 250], replies
                burst.attempted[tok] = (msg, QUEUE_RCPTS[:1])
            finally:
                c.quit()
            assert queue_tokens(server, burst.attempted).get(tok) == 1
    finally:
        dead.close()
