"""Shared by the webmail's tests (test_webmail*.py): an IMAP client beside
the API, messages in Japanese charsets put in over IMAP APPEND, and the
calls the OpenAPI check makes on the /api/v1/mail routes."""

import base64
import re
import imaplib
import socket
import ssl
import urllib.parse

from helpers import HOST, HOSTNAME, PASSWORD


class IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=HOSTNAME)


def imap(srv, user="user@example.test", password=PASSWORD):
    m = IMAPS(HOST, srv.port("imaps"), ssl_context=ssl.create_default_context(cafile=srv.crt), timeout=20)
    m.login(user, password)
    return m


def crlf(text):
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def append(srv, raw, folder="INBOX", user="user@example.test", flags=""):
    """Stores raw (bytes) in folder over IMAP; returns its UID."""
    m = imap(srv, user)
    try:
        typ, data = m.append(folder, flags, None, crlf(raw))
        assert typ == "OK", data
        text = data[0].decode()
        # [APPENDUID uidvalidity uid]
        return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))
    finally:
        m.logout()


def b64(text, charset):
    return base64.b64encode(text.encode(charset)).decode()


def iso2022jp_message(subject, body):
    """A message as Japanese mailers send it: ISO-2022-JP, 7bit."""
    return (b"From: =?ISO-2022-JP?B?" + b64("山田太郎", "iso-2022-jp").encode() + b"?= <taro@sender.test>\n"
            b"To: user@example.test\n"
            b"Subject: =?ISO-2022-JP?B?" + b64(subject, "iso-2022-jp").encode() + b"?=\n"
            b"Date: Mon, 30 Nov 2026 09:00:00 +0900\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: text/plain; charset=ISO-2022-JP\n"
            b"Content-Transfer-Encoding: 7bit\n\n" + jis(body) + b"\n")


def jis(text):
    """text in ISO-2022-JP; the NEC special characters (①...⑳, row 13)
    that Japanese mailers send as CP932 extensions are written by hand."""
    out = b""
    for part in re.split("([\u2460-\u2473])", text):
        if len(part) == 1 and "\u2460" <= part <= "\u2473":
            out += b"\x1b$B" + bytes([0x2d, 0x21 + ord(part) - 0x2460]) + b"\x1b(B"
        elif part:
            out += part.encode("iso-2022-jp")
    return out


def sjis_message(subject, body):
    return (b"From: sato@sender.test\n"
            b"To: user@example.test\n"
            b"Subject: =?Shift_JIS?B?" + b64(subject, "shift_jis").encode() + b"?=\n"
            b"Date: Tue, 01 Dec 2026 10:00:00 +0900\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: text/plain; charset=Shift_JIS\n"
            b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("shift_jis") + b"\n")


def attachment_message(name, data, subject="attachment"):
    """multipart/mixed with one attachment named name (RFC 2231, UTF-8)."""
    enc = urllib.parse.quote(name.encode("utf-8"), safe="")
    return (b"From: a@sender.test\nTo: user@example.test\nSubject: " + subject.encode() + b"\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n"
            b"--zz\nContent-Type: text/plain; charset=utf-8\n\nsee attached\n"
            b"--zz\nContent-Type: application/pdf\n"
            b"Content-Disposition: attachment; filename*=UTF-8''" + enc.encode() + b"\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(data) + b"--zz--\n")


def html_message(html, subject="html"):
    return (b"From: h@sender.test\nTo: user@example.test\nSubject: " + subject.encode() + b"\n"
            b"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + html.encode() + b"\n")


def q(folder):
    return urllib.parse.quote(folder, safe="")


def webmail_replies(srv, s, u):
    """(method, path, Response) of every /api/v1/mail route, for the
    OpenAPI check: s an administrator, u the mail user."""
    out = []

    def call(c, method, path, body=None):
        out.append((method, path, c.request(method, path, body)))
        return out[-1][2]

    uid = append(srv, attachment_message("資料.pdf", b"%PDF-1.4 test"))
    call(u, "GET", "/api/v1/mail/folders")
    call(s, "GET", "/api/v1/mail/folders")
    call(u, "POST", "/api/v1/mail/folders", {"name": "Projects"})
    call(u, "POST", "/api/v1/mail/folders", {"name": "Projects"})
    call(u, "PATCH", "/api/v1/mail/folders/Projects", {"name": "案件"})
    call(u, "PATCH", "/api/v1/mail/folders/Trash", {"name": "x"})
    call(u, "GET", "/api/v1/mail/folders/INBOX/messages?limit=10&sort=subject&order=asc")
    call(u, "GET", "/api/v1/mail/folders/INBOX/messages?sort=bogus")
    call(u, "GET", "/api/v1/mail/folders/Nope/messages")
    call(u, "GET", "/api/v1/mail/messages/INBOX/%d" % uid)
    call(u, "GET", "/api/v1/mail/messages/INBOX/999999")
    call(u, "GET", "/api/v1/mail/messages/INBOX/%d/raw" % uid)
    call(u, "GET", "/api/v1/mail/messages/INBOX/%d/parts/2" % uid)
    call(u, "GET", "/api/v1/mail/messages/INBOX/%d/parts/9" % uid)
    call(u, "PATCH", "/api/v1/mail/messages/INBOX/%d" % uid, {"flagged": True})
    call(u, "PATCH", "/api/v1/mail/folders/INBOX/messages", {"uids": [uid], "seen": True})
    call(u, "PATCH", "/api/v1/mail/folders/INBOX/messages", {"uids": []})
    call(u, "POST", "/api/v1/mail/folders/INBOX/move", {"uids": [uid], "to": "案件", "copy": True})
    call(u, "POST", "/api/v1/mail/folders/INBOX/move", {"uids": [uid], "to": "Nope"})
    call(u, "POST", "/api/v1/mail/folders/INBOX/spam", {"uids": [uid]})
    call(u, "POST", "/api/v1/mail/folders/Junk/not-spam", {"uids": [uid]})
    call(u, "POST", "/api/v1/mail/folders/INBOX/delete", {"uids": [uid]})
    call(u, "DELETE", "/api/v1/mail/messages/Trash/%d" % 999999)
    call(u, "POST", "/api/v1/mail/folders/Trash/empty")
    call(u, "POST", "/api/v1/mail/folders/INBOX/empty")
    call(u, "DELETE", "/api/v1/mail/folders/" + q("案件"))
    call(u, "DELETE", "/api/v1/mail/folders/INBOX")
    call(s, "GET", "/api/v1/mail/events")
    return out


def inline_image_message(png, subject="inline image"):
    """multipart/related: HTML showing a PNG of the message by cid:."""
    return (b"From: i@sender.test\nTo: user@example.test\nSubject: " + subject.encode() + b"\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"rr\"\n\n"
            b"--rr\nContent-Type: text/html; charset=utf-8\n\n"
            b"<p>logo: <img id=logo src=\"cid:logo@yubin.test\" alt=logo></p>\n"
            b"--rr\nContent-Type: image/png\nContent-ID: <logo@yubin.test>\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(png) + b"--rr--\n")


def eucjp_message(subject, body):
    return (b"From: suzuki@sender.test\nTo: user@example.test\n"
            b"Subject: =?EUC-JP?B?" + b64(subject, "euc_jp").encode() + b"?=\n"
            b"MIME-Version: 1.0\nContent-Type: text/plain; charset=EUC-JP\n"
            b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("euc_jp") + b"\n")


def qp_utf8_message(subject, body):
    """UTF-8 in quoted-printable, the subject in Q encoding."""
    import quopri
    enc = subject.encode("utf-8")
    q = "".join("=%02X" % c for c in enc)
    return (b"From: qp@sender.test\nTo: user@example.test\nSubject: =?UTF-8?Q?" + q.encode() + b"?=\n"
            b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: quoted-printable\n\n" + quopri.encodestring(body.encode("utf-8")) + b"\n")
