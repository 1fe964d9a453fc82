"""Writing in the webmail in a real browser (issue 12: write, address book,
section 4): Debian's chromium through playwright-core
(tests/browser/webmail_compose.js) against a real yubind serving
build/web, checked over IMAP: the message with a Japanese subject and an
uploaded attachment in B's Inbox and A's Sent, \\Answered on the message
replied to, a draft saved by itself in Drafts and gone once continued and
sent, and a send over the hourly limit explained. Screenshots land in
build/screenshots/webmail-compose."""

import base64
import email
import email.header
import email.policy
import json
import os
import re
import shutil
import subprocess

import pytest

import helpers
from helpers import DOMAIN, PASSWORD
from protection_util import submit_session
from webmail_util import append, imap

BROWSER_DIR = os.path.join(helpers.REPO, "tests", "browser")
WEB = os.path.join(helpers.REPO, "build", "web")
SHOTS = os.path.join(helpers.SCREENSHOTS, "webmail-compose")
CHROMIUM = os.environ.get("YUBIN_CHROMIUM", "/usr/bin/chromium")
A = "writer@" + DOMAIN
B = "peer@" + DOMAIN
V = "victim@" + DOMAIN                  # suspended by a burst to new recipients
NEEDS = "scripts/deps.sh test installs chromium and node; make builds build/web; make node-modules (npm ci)"
PEER_SUBJECT = "打ち合わせのご相談"
VCARD = ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:山田 太郎\r\nEMAIL;TYPE=work:taro@vcard.test\r\nEND:VCARD\r\n"
         "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Suzuki;Jiro;;;\r\nFN:Jiro Suzuki\r\nEMAIL:jiro@vcard.test\r\n"
         "END:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:No Address\r\nEND:VCARD\r\n")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    modules = os.path.join(helpers.REPO, "node_modules")
    for what, ok in (("node", shutil.which("node")), (CHROMIUM, os.access(CHROMIUM, os.X_OK)),
                     ("playwright-core", os.path.isdir(os.path.join(modules, "playwright-core"))),
                     ("build/web/mail", os.path.exists(os.path.join(WEB, "mail", "app.js")))):
        assert ok, "%s missing: %s" % (what, NEEDS)
    os.makedirs(SHOTS, exist_ok=True)
    # the second new recipient within ten minutes suspends sending (A only
    # ever writes to B)
    config = {"smtp.max_message_size": "3M", "abuse.new_rcpt_max": "2", "abuse.new_rcpt_window": "600"}
    s = helpers.Server(tmp_path_factory.mktemp("webmail_compose"), config=config,
                       accounts=[(A, PASSWORD, 20), (B, PASSWORD, 20), (V, PASSWORD, 20)]).setup()
    shutil.copytree(WEB, os.path.join(s.data, "web"), dirs_exist_ok=True)
    s.start(wait_port="https")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def browser(srv, tmp_path, phase, user=A):
    vcard = tmp_path / "contacts.vcf"
    vcard.write_text(VCARD, encoding="utf-8")
    many = tmp_path / "many.vcf"
    many.write_text("".join("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Member %03d\r\nEMAIL:m%03d@list.test\r\nEND:VCARD\r\n"
                            % (i, i) for i in range(201)), encoding="utf-8")
    params = {"url": "https://127.0.0.1:%d" % srv.port("https"), "user": user, "peer": B, "password": PASSWORD,
              "phase": phase, "vcard": str(vcard), "many": str(many), "peer_subject": PEER_SUBJECT}
    env = dict(os.environ, YUBIN_SCREENSHOTS=SHOTS)
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, "webmail_compose.js"), json.dumps(params)],
                       cwd=helpers.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "browser scenario webmail_compose %s failed:\n%s" % (phase, out)


def messages(srv, user, folder):
    """[(uid, flags, parsed message)] of folder."""
    m = imap(srv, user)
    try:
        typ, data = m.select('"%s"' % folder, readonly=True)
        assert typ == "OK", data
        if int(data[0]) == 0:
            return []
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
        out = []
        for line in data:
            text = line.decode()
            uid = int(re.search(r"UID (\d+)", text).group(1))
            flags = re.search(r"FLAGS \(([^)]*)\)", text).group(1).split()
            typ, body = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = [x[1] for x in body if isinstance(x, tuple)][0]
            out.append((uid, flags, email.message_from_bytes(raw, policy=email.policy.default)))
        return out
    finally:
        m.logout()


def with_subject(srv, user, folder, subject):
    return [x for x in messages(srv, user, folder) if str(x[2]["Subject"]) == subject]


def test_write_reply_draft_and_limit(srv, tmp_path):
    original = (b"From: Peer <%s>\nTo: %s\nSubject: =?UTF-8?B?%s?=\nMessage-ID: <orig@peer.test>\n"
                b"Date: Mon, 30 Nov 2026 09:00:00 +0900\nMIME-Version: 1.0\n"
                b"Content-Type: text/plain; charset=utf-8\n\nMeeting next week?\n"
                % (B.encode(), A.encode(), base64.b64encode(PEER_SUBJECT.encode())))
    orig_uid = append(srv, original, user=A)

    browser(srv, tmp_path, "a")

    # the message with a Japanese subject and its attachment, in B's Inbox and A's Sent
    for user, folder in ((B, "INBOX"), (A, "Sent")):
        found = with_subject(srv, user, folder, "見積もりのお願い")
        assert len(found) == 1, (user, folder, [str(x[2]["Subject"]) for x in messages(srv, user, folder)])
        msg = found[0][2]
        names = [p.get_filename() for p in msg.iter_attachments()]
        assert names == ["見積書.txt"], names
        body = msg.get_body(("plain",)).get_content()
        assert "見積書を添付します。" in body
        assert str(msg["To"]).endswith(B + ">") or str(msg["To"]) == B, msg["To"]
    # the reply reached B and marked the original \Answered
    found = with_subject(srv, B, "INBOX", "Re: " + PEER_SUBJECT)
    assert len(found) == 1
    assert found[0][2]["In-Reply-To"] == "<orig@peer.test>"
    orig = [x for x in messages(srv, A, "INBOX") if x[0] == orig_uid]
    assert "\\Answered" in orig[0][1], orig[0][1]
    # forwarded as an attachment: the original inside, $Forwarded on it
    found = with_subject(srv, B, "INBOX", "Fwd: " + PEER_SUBJECT)
    assert len(found) == 1
    inner = [p for p in found[0][2].walk() if p.get_content_type() == "message/rfc822"]
    assert len(inner) == 1 and "Meeting next week?" in inner[0].as_string(), found[0][2].as_string()
    assert "$Forwarded" in [x for x in messages(srv, A, "INBOX") if x[0] == orig_uid][0][1]
    # the draft saved by itself
    drafts = with_subject(srv, A, "Drafts", "下書きテスト")
    assert len(drafts) == 1 and "\\Draft" in drafts[0][1], drafts
    assert "途中まで(追記)" in drafts[0][2].get_body(("plain",)).get_content()

    # four recipients an hour: the draft (the fourth) goes, the next is refused
    srv.ctl("account", "set", A, "send-limit-hour", "4")
    browser(srv, tmp_path, "b")

    assert with_subject(srv, A, "Drafts", "下書きテスト") == []
    sent = with_subject(srv, B, "INBOX", "下書きテスト")
    assert len(sent) == 1
    assert "途中まで(追記)、続きを書きました。" in sent[0][2].get_body(("plain",)).get_content()
    assert with_subject(srv, B, "INBOX", "one too many") == []
    assert with_subject(srv, B, "INBOX", "丸数字") == []
    assert with_subject(srv, B, "INBOX", "not mine") == []
    assert with_subject(srv, A, "Drafts", "ことば") == []       # discarded
    # both windows' versions of the draft saved twice are kept
    both = with_subject(srv, A, "Drafts", "競合テスト")
    texts = sorted((x[2].get_body(("plain",)).get_content().strip(), [p.get_filename() for p in x[2].iter_attachments()])
                   for x in both)
    assert texts == [("first window", ["plan.txt"]), ("second window", [])], texts
    # what could not go is kept in Drafts
    assert len(with_subject(srv, A, "Drafts", "one too many")) == 1
    for name in ("webmail-compose", "webmail-reply", "webmail-contacts", "webmail-rate-limited",
                 "webmail-compose-ja-phone"):
        assert os.path.exists(os.path.join(SHOTS, name + ".png")), name


def test_suspended_account_is_told_what_to_do(srv, tmp_path):
    """Sending suspended by the compromise detection: the composer says why
    and what to do (change the password, ask the administrator)."""
    c = submit_session(srv, V)
    c.cmd("MAIL FROM:<%s>" % V).expect(250)
    c.cmd("RCPT TO:<%s>" % A).expect(250)
    c.cmd("RCPT TO:<%s>" % B).expect(550, "5.7.1")      # the second new one
    c.quit()
    browser(srv, tmp_path, "c", user=V)
    assert with_subject(srv, B, "INBOX", "from a suspended account") == []
    kept = with_subject(srv, V, "Drafts", "from a suspended account")
    assert len(kept) == 1 and "written before signing out" in kept[0][2].get_body(("plain",)).get_content()
    assert messages(srv, B, "Drafts") == []
    assert os.path.exists(os.path.join(SHOTS, "webmail-suspended.png"))


def test_folders_name_the_message_size_limit(srv):
    """GET /mail/folders tells the page the largest message it may send,
    which the composer shows beside the attachments."""
    import http.cookiejar
    import ssl
    import urllib.request

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(jar))
    base = "https://127.0.0.1:%d/api/v1" % srv.port("https")
    req = urllib.request.Request(base + "/session", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"kind": "user", "address": B, "password": PASSWORD}).encode())
    op.open(req, timeout=20).read()
    r = json.loads(op.open(base + "/mail/folders", timeout=20).read())
    assert r["max_message_size"] == 3 * 1048576, r
