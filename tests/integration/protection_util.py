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


# ---------------------------------------------------------------- foreign-access restriction, brute force

import os as _os
import shutil as _shutil
import socket as _socket

GEOIP_CACHE = _os.path.join(helpers.REPO, "build", "geoip", "country.mmdb")


def install_geoip(srv):
    """Copies the cached country database (scripts/deps.sh fetched it into
    build/geoip) into the server's DATA/geoip; False when there is none."""
    if not _os.path.exists(GEOIP_CACHE):
        return False
    _os.makedirs(_os.path.join(srv.data, "geoip"), exist_ok=True)
    _shutil.copyfile(GEOIP_CACHE, _os.path.join(srv.data, "geoip", "country.mmdb"))
    return True


def _bound_socket(port, source, timeout):
    return _socket.create_connection((helpers.HOST, port), timeout=timeout, source_address=(source, 0))


class SourceSMTPConn(helpers.SMTPConn):
    """A raw SMTP client whose socket is bound to a loopback source address
    (127.0.0.2, ...) before connecting to the daemon on 127.0.0.1."""

    def __init__(self, port, source, tls_ctx=None, timeout=helpers.TIMEOUT):
        self.sock = _bound_socket(port, source, timeout)
        self.buf = b""
        self.tls = False
        if tls_ctx is not None:
            self.sock = tls_ctx.wrap_socket(self.sock, server_hostname=helpers.HOSTNAME)
            self.tls = True
        self.greeting = self.read_reply()
        self.caps = {}


class SourcePOP3Conn(helpers.POP3Conn):
    """A raw POP3 client bound to a loopback source address."""

    def __init__(self, port, source, tls_ctx=None, timeout=helpers.TIMEOUT):
        self.sock = _bound_socket(port, source, timeout)
        self.buf = b""
        self.tls = False
        if tls_ctx is not None:
            self.sock = tls_ctx.wrap_socket(self.sock, server_hostname=helpers.HOSTNAME)
            self.tls = True
        self.greeting = self.readline().rstrip(b"\r\n")


def smtp_from(srv, source, implicit=False):
    """A submission session from source, after STARTTLS and EHLO (or on 465)."""
    ctx = helpers.tls_context(srv)
    if implicit:
        c = SourceSMTPConn(srv.port("smtps"), source, tls_ctx=ctx)
    else:
        c = SourceSMTPConn(srv.port("submission"), source)
        c.ehlo().expect(250)
        c.starttls(ctx).expect(220)
    c.ehlo().expect(250)
    return c


def auth_from(srv, source, user, password=helpers.PASSWORD, implicit=False):
    """One AUTH PLAIN from source; returns (Reply, seconds it took)."""
    import time as _t
    c = smtp_from(srv, source, implicit)
    try:
        t0 = _t.time()
        r = c.auth_plain(user, password)
        return r, _t.time() - t0
    finally:
        c.quit()


def pop3_login_from(srv, source, user, password=helpers.PASSWORD):
    """USER/PASS over STLS from source; returns the PASS reply line."""
    c = SourcePOP3Conn(srv.port("pop3"), source)
    try:
        r = c.stls(helpers.tls_context(srv))
        assert r.startswith(b"+OK"), r
        return c.login(user, password)
    finally:
        c.quit()


def events(srv, kind, address=None):
    """(address, ip, detail) of the events of one kind, oldest first."""
    if address is None:
        return db_query(srv, "SELECT address, ip, detail FROM events WHERE kind = ? ORDER BY id", (kind,))
    return db_query(srv, "SELECT address, ip, detail FROM events WHERE kind = ? AND address = ? ORDER BY id",
                    (kind, address))
