"""The webmail in a real browser (issue 12, section 4): Debian's chromium,
headless, through playwright-core (tests/browser/webmail.js) against a real
yubind serving build/web. Mail is put in over IMAP APPEND and SMTP; a local
HTTP listener stands in for the remote hosts that HTML mail points at, and
must see no request a script or an unasked image would make. What the
browser did is then checked over IMAP (read flags, Junk, an empty Trash).
Screenshots land in build/screenshots/webmail."""

import calendar
import http.server
import json
import os
import shutil
import subprocess
import threading

import pytest

import helpers
from helpers import DOMAIN, PASSWORD
from webmail_util import (append, attachment_message, html_message, imap, inline_image_message,
                          iso2022jp_message, sjis_message)

BROWSER_DIR = os.path.join(helpers.REPO, "tests", "browser")
WEB = os.path.join(helpers.REPO, "build", "web")
SHOTS = os.path.join(helpers.SCREENSHOTS, "webmail")
CHROMIUM = os.environ.get("YUBIN_CHROMIUM", "/usr/bin/chromium")
USER = "reader@" + DOMAIN
FULL = "full@" + DOMAIN                 # 1 MB quota, 95% used
FINDER = "finder@" + DOMAIN             # the search scenario's
NEEDS = "scripts/deps.sh test installs chromium and node; make builds build/web; make node-modules (npm ci)"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class Listener(http.server.ThreadingHTTPServer):
    """The "remote" host of the HTML mail: records every request's path."""

    def __init__(self):
        self.paths = []
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    do_POST = do_GET

    def log_message(self, *args):
        pass


def corpus(base):
    """Classic XSS vectors, each to run parent.postMessage (the page's test
    hook counts it) or to reach the listener under /x/ (never allowed);
    images the reader may allow are under /img/."""
    pm = "parent.postMessage('xss','*')"
    x = base + "/x/"
    img = base + "/img/"
    return [
        "<script>%s;fetch('%sscript')</script>" % (pm, x),
        "<img src=x onerror=\"%s\">" % pm,
        "<svg onload=\"%s\"></svg>" % pm,
        "<svg><script>%s</script></svg>" % pm,
        "<a id=j href=\"javascript:%s\">click</a>" % pm,
        "<a href=\"&#106;avascript:%s\">entity</a>" % pm,
        "<iframe srcdoc=\"<script>parent.parent.postMessage('xss','*')</script>\"></iframe>",
        "<meta http-equiv=\"refresh\" content=\"0;url=%smeta\">" % x,
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:%s\">" % pm,
        "<div style=\"width:expression(%s);background:url('%scss')\">css</div>" % (pm, img),
        "<style>@import '%simport';</style><p>import</p>" % x,
        "<link rel=stylesheet href=\"%slink\"><p>link</p>" % x,
        "<form action=\"%sform\" method=post><input name=a value=b><button>go</button></form>" % x,
        "<form><button formaction=\"javascript:%s\">go</button></form>" % pm,
        "<base href=\"%sbase/\"><a href=\"rel\">relative</a><img src=\"rel.png\">" % x,
        "<object data=\"%sobject\"></object>" % x,
        "<embed src=\"%sembed\">" % x,
        "<body onload=\"%s\"><p>body</p></body>" % pm,
        "<details open ontoggle=\"%s\"><summary>d</summary></details>" % pm,
        "<video><source onerror=\"%s\"></video>" % pm,
        "<math><mtext><table><mglyph><style><img src=x onerror=\"%s\">" % pm,
        "<noscript><p title=\"</noscript><img src=x onerror=%s>\">" % pm,
        "<svg><style><img src=x onerror=\"%s\"></style></svg>" % pm,
        "<a href=\"data:text/html,<script>%s</script>\">data</a>" % pm,
        "<img src=\"javascript:%s\">" % pm,
        "<input autofocus onfocus=\"%s\">" % pm,
        "<marquee onstart=\"%s\">m</marquee>" % pm,
        "<iframe src=\"javascript:%s\"></iframe>" % pm,
        "<svg><animate onbegin=\"%s\" attributeName=x dur=1s></svg>" % pm,
        "<svg><a xlink:href=\"javascript:%s\"><text y=20>x</text></a></svg>" % pm,
        "<img src=x:x onerror=&#x70;arent.postMessage('xss','*')>",
        "<scr<script>ipt>%s</script>" % pm,
        "<object data=\"data:text/html,<script>%s</script>\"></object>" % pm,
        "<svg><foreignObject><iframe srcdoc=\"<script>parent.parent.postMessage('xss','*')</script>\">"
        "</iframe></foreignObject></svg>",
        "<img src=\"%spixel.png\" onload=\"%s\">" % (img, pm),
        "<a href=\"%slink\" ping=\"%sping\">ping</a>" % (img, x),
        "<table background=\"%sbg\"><tr><td>t</td></tr></table>" % x,
        "<div style=\"behavior:url(%shtc)\">htc</div>" % x,
        "<svg><use href=\"data:image/svg+xml,<svg id='u' xmlns='http://www.w3.org/2000/svg'>"
        "<image href='1' onerror='parent.postMessage(1,&quot;*&quot;)'/></svg>#u\"/></svg>",
        "<img srcset=\"%ssrcset 1x\" src=x>" % x,
        "<audio src=x onerror=\"%s\"></audio>" % pm,
        "<template><img src=x onerror=\"%s\"></template>" % pm,
        "<textarea><img src=x onerror=\"%s\"></textarea>" % pm,
    ]


@pytest.fixture(scope="module")
def listener():
    s = Listener()
    t = threading.Thread(target=s.serve_forever, daemon=True)
    t.start()
    yield s
    s.shutdown()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    modules = os.path.join(helpers.REPO, "node_modules")
    for what, ok in (("node", shutil.which("node")), (CHROMIUM, os.access(CHROMIUM, os.X_OK)),
                     ("playwright-core", os.path.isdir(os.path.join(modules, "playwright-core"))),
                     ("build/web/mail", os.path.exists(os.path.join(WEB, "mail", "app.js")))):
        assert ok, "%s missing: %s" % (what, NEEDS)
    shutil.rmtree(SHOTS, ignore_errors=True)
    s = helpers.Server(tmp_path_factory.mktemp("webmail_browser"),
                       accounts=[(USER, PASSWORD, 20), (FULL, PASSWORD, 1), (FINDER, PASSWORD, 20)]).setup()
    shutil.copytree(WEB, os.path.join(s.data, "web"), dirs_exist_ok=True)
    s.start(wait_port="https")
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


def test_webmail_in_the_browser(srv, listener):
    base = "http://127.0.0.1:%d" % listener.server_address[1]
    append(srv, iso2022jp_message("会議の件", "明日の会議は十時からです。"), user=USER)
    append(srv, sjis_message("見積もりのご案内", "お世話になっております。ソフトウェアの表示確認です。"), user=USER)
    append(srv, attachment_message("見積書.pdf", b"%PDF-1.4 yubin\n", subject="添付ファイル"), user=USER)
    append(srv, attachment_message("big.bin", os.urandom(400000), subject="big one"), user=USER)
    append(srv, html_message("<p>cheap</p>", "buy now"), user=USER)
    append(srv, inline_image_message(PNG), user=USER)
    append(srv, b"From: reader@example.test\nTo: =?UTF-8?B?5L2Q6Jek?= <sato@sender.test>\nSubject: sent one\n\nhi\n",
           folder="Sent", user=USER, flags="(\\Seen)")
    append(srv, html_message(
        "<p>visible text</p><script>parent.postMessage('xss','*');fetch('%s/x/evil')</script>"
        "<img src=\"nothing.png\" onerror=\"parent.postMessage('xss','*')\">"
        "<img src=\"%s/evil-img.png\"><a href=\"https://example.test/\">a link</a>" % (base, base),
        "evil html"), user=USER)
    m = imap(srv, USER)
    try:
        assert m.create("XSS")[0] == "OK"
    finally:
        m.logout()
    payloads = corpus(base)
    assert len(payloads) >= 30
    for i, p in enumerate(payloads):
        append(srv, html_message("<p>payload %d</p>%s" % (i, p), "xss %02d" % i), folder="XSS", user=USER)

    append(srv, attachment_message("old.bin", os.urandom(740000), subject="old"), user=FULL)

    env = dict(os.environ, YUBIN_SCREENSHOTS=SHOTS)
    params = {"url": "https://127.0.0.1:%d" % srv.port("https"), "user": USER, "password": PASSWORD,
              "smtp": srv.port("smtp"), "xss": len(payloads), "full": FULL}
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, "webmail.js"), json.dumps(params)],
                       cwd=helpers.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=400)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "browser scenario webmail failed:\n" + out

    # nothing a script, a form, a frame or an unasked image would fetch
    bad = [x for x in listener.paths if x.startswith("/x/") or x.startswith("/evil")]
    assert bad == [], bad
    assert os.path.exists(os.path.join(SHOTS, "webmail-html-blocked.png"))

    # what the browser did, as IMAP sees it
    m = imap(srv, USER)
    try:
        m.select("INBOX")
        typ, data = m.uid("SEARCH", None, "SEEN")
        assert len(data[0].split()) >= 2, data       # the two Japanese messages were read
        typ, data = m.select("Trash")
        assert int(data[0]) == 0                     # emptied
        typ, data = m.select("Junk")
        typ, subjects = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        junk = os.path.join(srv.maildir(USER), ".Junk")
        assert int(data[0]) == 1, (subjects, os.listdir(junk + "/cur"), os.listdir(junk + "/new"))
        typ, data = m.uid("SEARCH", None, "SUBJECT", "\"buy now\"")
        assert data[0].split(), data
    finally:
        m.logout()


def test_webmail_search_in_the_browser(srv):
    """tests/browser/webmail_search.js: a Japanese word in three charsets
    and two folders, a date range of the reader's days (the browser in
    Asia/Tokyo), the sender, one folder; "/" and the phone."""
    utc = lambda *t: calendar.timegm(t + (0, 0, 0))
    m = imap(srv, FINDER)
    try:
        assert m.create("Archive")[0] == "OK"
        for folder, when, raw in (
                ("INBOX", utc(2026, 11, 3, 3, 0, 0), iso2022jp_message("会議の件", "明日の会議です。請求書も見てください。")),
                ("INBOX", utc(2026, 11, 10, 1, 0, 0), sjis_message("見積もりのご案内", "請求書をお送りします。")),
                ("INBOX", utc(2026, 11, 3, 16, 30, 0),     # 01:30 on Nov 4 in Tokyo
                 b"From: night@sender.test\r\nSubject: late night\r\n\r\nsee you\r\n"),
                ("Archive", utc(2025, 12, 1, 0, 0, 0),
                 "From: keiri@example.jp\r\nSubject: 請求書 (古い)\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n去年の請求書です。\r\n".encode())):
            typ, data = m.append(folder, None, when, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert typ == "OK", data
    finally:
        m.logout()
    env = dict(os.environ, YUBIN_SCREENSHOTS=SHOTS, TZ="Asia/Tokyo")
    params = {"url": "https://127.0.0.1:%d" % srv.port("https"), "user": FINDER, "password": PASSWORD}
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, "webmail_search.js"), json.dumps(params)],
                       cwd=helpers.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "browser scenario webmail_search failed:\n" + out
    assert os.path.exists(os.path.join(SHOTS, "webmail-search-ja-phone.png"))


def test_webmail_page_has_its_strict_policy(srv):
    """/mail/ is served with the webmail's Content-Security-Policy: only its
    own script, no forms, no framing; /mail redirects there; the panels
    keep theirs."""
    import http.client
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def get(path):
        c = http.client.HTTPSConnection("127.0.0.1", srv.port("https"), context=ctx, timeout=20)
        try:
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            return r
        finally:
            c.close()

    r = get("/mail/")
    assert r.status == 200
    csp = r.getheader("Content-Security-Policy")
    rules = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";"))
    assert rules["default-src"] == "'none'"
    assert rules["script-src"] == "'self'"
    assert rules["form-action"] == "'none'" and rules["frame-ancestors"] == "'none'"
    assert rules["object-src"] == "'none'" and rules["base-uri"] == "'none'"
    assert r.getheader("X-Frame-Options") == "DENY"
    assert get("/mail/app.js").getheader("Content-Security-Policy") == csp
    r = get("/mail")
    assert r.status == 301 and r.getheader("Location") == "/mail/"
    assert "default-src 'self'" in get("/").getheader("Content-Security-Policy")
