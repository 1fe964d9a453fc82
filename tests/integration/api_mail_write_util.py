"""Replies of the webmail's writing routes (api_mail_write.h) for
test_api_openapi.py, which validates each against openapi.json:
successes and refusals of every route."""

from urllib.parse import quote

from api_util import recorder


def mail_write_replies(srv, s, d, u):
    """(method, path, Response) of calls by the mail user u (and the
    administrators s, d, who may not write mail)."""
    out, call = recorder()

    def raw(method, path, data, ctype):
        out.append((method, path, u.request(method, path, raw=data, content_type=ctype)))
        return out[-1][2]

    up = raw("POST", "/api/v1/mail/uploads?filename=" + quote("資料.txt"), b"hello", "text/plain").json
    raw("POST", "/api/v1/mail/uploads", b"x", "text/plain")                       # no filename: 400
    draft = call(u, "POST", "/api/v1/mail/drafts", {"to": ["second@example.test"], "subject": "件名",
                                                    "text": "本文", "attachments": [{"upload": up["id"]}]}).json
    call(s, "POST", "/api/v1/mail/drafts", {"subject": "x"})
    call(u, "GET", "/api/v1/mail/drafts/%d" % draft["uid"])
    draft = call(u, "PUT", "/api/v1/mail/drafts/%d" % draft["uid"], {"to": ["second@example.test"],
                                                                     "subject": "件名 2"}).json
    call(u, "PUT", "/api/v1/mail/drafts/999999", {"subject": "x"})
    call(u, "DELETE", "/api/v1/mail/drafts/%d" % draft["uid"])
    call(u, "DELETE", "/api/v1/mail/drafts/%d" % draft["uid"])
    call(u, "DELETE", "/api/v1/mail/uploads/" + up["id"])          # the draft took it over: 404
    up = raw("POST", "/api/v1/mail/uploads?filename=" + quote("資料.txt"), b"hello", "text/plain").json
    sent = call(u, "POST", "/api/v1/mail/send", {"to": [{"name": "二番目", "address": "second@example.test"}],
                                                  "subject": "送信", "text": "x",
                                                  "attachments": [{"upload": up["id"]}]}).json
    call(u, "POST", "/api/v1/mail/send", {"from": "alien@other.test", "to": ["second@example.test"]})
    call(u, "POST", "/api/v1/mail/send", {"to": ["bad address"]})
    call(u, "GET", "/api/v1/mail/compose?mode=reply&folder=Sent&uid=%d" % sent["sent"]["uid"])
    call(u, "GET", "/api/v1/mail/compose?mode=forward_inline&folder=Sent&uid=%d" % sent["sent"]["uid"])
    call(u, "GET", "/api/v1/mail/compose?mode=reply&folder=Sent&uid=999999")
    call(u, "DELETE", "/api/v1/mail/uploads/" + up["id"])          # used up by the send: 404
    spare = raw("POST", "/api/v1/mail/uploads?filename=spare.bin", b"\0\1", "application/octet-stream").json
    call(u, "DELETE", "/api/v1/mail/uploads/" + spare["id"])
    c = call(u, "POST", "/api/v1/mail/contacts", {"name": "鈴木", "emails": ["suzuki@example.test"]}).json
    call(u, "POST", "/api/v1/mail/contacts", {"name": "x", "emails": []})
    call(u, "GET", "/api/v1/mail/contacts?q=suzuki")
    call(u, "GET", "/api/v1/mail/contacts/complete?q=" + quote("鈴"))
    call(u, "GET", "/api/v1/mail/contacts/complete")
    call(u, "GET", "/api/v1/mail/contacts/%d" % c["contact"]["id"])
    call(u, "PUT", "/api/v1/mail/contacts/%d" % c["contact"]["id"], {"name": "鈴木 一郎", "emails": [
        {"address": "suzuki@example.test", "label": "work"}]})
    call(u, "GET", "/api/v1/mail/contacts.vcf")
    raw("POST", "/api/v1/mail/contacts.vcf", b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEMAIL:a@x.test\r\n"
        b"END:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nEND:VCARD\r\n", "text/vcard")
    raw("POST", "/api/v1/mail/contacts.vcf", b"nothing", "text/vcard")
    call(u, "DELETE", "/api/v1/mail/contacts/%d" % c["contact"]["id"])
    call(u, "DELETE", "/api/v1/mail/contacts/%d" % c["contact"]["id"])
    call(d, "GET", "/api/v1/mail/contacts")
    return out

