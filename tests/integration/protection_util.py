"""Helpers shared by the account-protection tests (issue 5). Add functions
only; helpers.py and conftest.py stay as they are."""

import email
import email.policy
import hashlib
import hmac
import sqlite3
import time

import helpers


# ---------------------------------------------------------------- sending limits, abuse, BATV

def submit_session(srv, user, password=helpers.PASSWORD):
    """An authenticated submission session (587 + STARTTLS + AUTH PLAIN)."""
    c = helpers.smtp_submission(srv)
    c.auth_plain(user, password).expect(235)
    return c


def db_query(srv, sql, args=()):
    """Runs one statement on the server's yubin.db and returns the rows."""
    db = sqlite3.connect(srv.data + "/yubin.db", timeout=10)
    try:
        rows = db.execute(sql, args).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def notices(srv, addr):
    """The parsed notices (X-Yubin-Notice) in addr's INBOX, as
    email.message.EmailMessage objects with .raw set to the file's bytes."""
    out = []
    for _, data in srv.messages(addr).items():
        if b"X-Yubin-Notice:" not in data:
            continue
        msg = email.message_from_bytes(data, policy=email.policy.default)
        msg.raw = data
        out.append(msg)
    return out


def wait_notices(srv, addr, n=1, timeout=10.0):
    end = time.time() + timeout
    while True:
        got = notices(srv, addr)
        if len(got) >= n or time.time() > end:
            return got
        time.sleep(0.05)


def batv_key(srv, domain, keynum=0):
    rows = db_query(srv, "SELECT secret FROM batv_keys WHERE domain = ? AND keynum = ?", (domain, keynum))
    return bytes.fromhex(rows[0][0]) if rows else None


def batv_tag(key, local, domain, expiry_day, keynum=0):
    """prvs=KDDDSSSSSS=local for an expiry day number (days since 1970)."""
    ddd = "%03d" % (expiry_day % 1000)
    mac = hmac.new(key, ("%d%s%s@%s" % (keynum, ddd, local.lower(), domain.lower())).encode(),
                   hashlib.sha1).hexdigest()[:6]
    return "prvs=%d%s%s=%s" % (keynum, ddd, mac, local)


def today():
    return int(time.time()) // 86400
