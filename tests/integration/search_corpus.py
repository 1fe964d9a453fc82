"""A corpus of mail for the search tests: Japanese in ISO-2022-JP,
Shift_JIS, EUC-JP and UTF-8, RFC 2047 subjects and names, base64 and
quoted-printable bodies, HTML, attachments, address groups, and one
message whose text passes the search index's 256 KiB cap."""

import base64
import quopri


def b_word(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def q_word(text, charset="UTF-8"):
    raw = text.encode(charset)
    out = "".join(chr(c) if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) else "=%02X" % c for c in raw)
    return "=?%s?Q?%s?=" % (charset, out)


def msg(headers, body, ctype="text/plain; charset=us-ascii", cte=None):
    h = list(headers) + ["MIME-Version: 1.0", "Content-Type: " + ctype]
    if cte:
        h.append("Content-Transfer-Encoding: " + cte)
    if isinstance(body, str):
        body = body.encode()
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def corpus():
    """A list of (name, message bytes)."""
    out = []
    d = "Date: Mon, 30 Nov 2026 10:00:00 +0900"
    out.append(("iso2022jp", msg(
        ["From: " + b_word("山田 太郎", "iso-2022-jp") + " <taro@example.jp>", "To: hanako@example.jp",
         "Subject: " + b_word("会議の議事録について", "iso-2022-jp"), d],
        "来週の打ち合わせについて連絡します。\n議事録を添付します。\n".encode("iso-2022-jp"),
        "text/plain; charset=ISO-2022-JP", "7bit")))
    out.append(("shiftjis", msg(
        ["From: Keiri <keiri@example.co.jp>", "To: " + b_word("佐藤", "shift_jis") + " <sato@example.jp>",
         "Cc: boss@example.jp", "Subject: " + b_word("請求書送付のご案内", "shift_jis"), d],
        "いつもお世話になっております。\n請求書を送付いたします。①㈱\n".encode("cp932"),
        "text/plain; charset=Shift_JIS", "8bit")))
    out.append(("eucjp", msg(
        ["From: eucjp@example.jp", "To: user@example.test", "Subject: " + b_word("東京オフィス移転", "euc-jp"), d],
        "東京オフィスの移転のお知らせです。\n".encode("euc-jp"), "text/plain; charset=EUC-JP", "8bit")))
    out.append(("utf8b64", msg(
        ["From: " + q_word("鈴木 一郎") + " <ichiro@example.jp>", "To: user@example.test",
         "Subject: " + q_word("新年会のお知らせ"), d],
        base64.encodebytes("新年会を開催します。場所は東京オフィスです。\nMeeting Room A\n".encode()),
        "text/plain; charset=UTF-8", "base64")))
    out.append(("html", msg(
        ["From: News <news@example.com>", "To: user@example.test", "Subject: Weekly Newsletter", d],
        quopri.encodestring("<html><head><style>.x{color:red}</style></head><body><p>Invoice &amp; "
                            "請求書</p><div>Caf&eacute; &#x6771;&#20140; opening</div><script>hiddenscript()"
                            "</script><!-- secretcomment --></body></html>\n".encode()),
        "text/html; charset=UTF-8", "quoted-printable")))
    mixed = ("--XyZ\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n添付ファイルをご確認ください。Quarterly REPORT\r\n"
             "--XyZ\r\nContent-Type: application/pdf; name=\"" + b_word("見積書.pdf", "utf-8") + "\"\r\n"
             "Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XyZ--\r\n")
    out.append(("mixed", msg(
        ["From: \"Sales Team\" <sales@example.com>", "To: Undisclosed:;", "Cc: a@example.com, B <b@example.com>",
         "Subject: Quarterly report", d], mixed, "multipart/mixed; boundary=\"XyZ\"")))
    out.append(("english", msg(
        ["From: Alice Example <alice@example.org>", "To: Bob <bob@example.org>",
         "Subject: Re: MEETING tomorrow", d],
        "Hello Bob,\nthe meeting is at 10:00 tomorrow. CamelCaseWord here.\nAlice\n")))
    filler = ("あいうえおかきくけこ" * 10 + "\n") * 1000    # about 300 KB of UTF-8
    out.append(("large", msg(
        ["From: big@example.org", "To: user@example.test", "Subject: large message", d],
        (filler + "最後の段落にだけある言葉\nEndMarkerWord\n").encode(), "text/plain; charset=UTF-8", "8bit")))
    return out


# (key, needle): the searches compared with the index on and off
QUERIES = [
    ("TEXT", "議事録"), ("BODY", "打ち合わせ"), ("SUBJECT", "会議の議事録"), ("FROM", "山田 太郎"),
    ("FROM", "taro@example"), ("TEXT", "請求書"), ("BODY", "請求書を送付"), ("SUBJECT", "請求書"),
    ("TO", "佐藤"), ("CC", "boss@"), ("BODY", "①㈱"), ("SUBJECT", "オフィス移転"), ("BODY", "東京オフィス"),
    ("TEXT", "東京"), ("BODY", "会議"), ("SUBJECT", "新年会"), ("FROM", "鈴木"), ("BODY", "meeting room"),
    ("TEXT", "MEETING"), ("SUBJECT", "meeting"), ("BODY", "Café"), ("BODY", "東京 opening"),
    ("BODY", "invoice & 請求書"), ("BODY", "hiddenscript"), ("BODY", "secretcomment"), ("BODY", "color:red"),
    ("TEXT", "見積書"), ("BODY", "quarterly report"), ("TO", "Undisclosed"), ("CC", "B <b@"),
    ("TEXT", "camelcaseword"), ("FROM", "alice example <alice@"), ("TO", "bob"), ("BODY", "EndMarkerWord"),
    ("TEXT", "最後の段落"), ("BODY", "あいう"), ("TEXT", "x"), ("BODY", "の"), ("SUBJECT", "re"),
    ("TEXT", "Subject: re: meet"), ("TEXT", "nowhere-in-corpus"), ("FROM", "example"), ("BODY", "\"quoted\""),
]
