#!/usr/bin/env python3
"""Writes the differential corpus for tests/integration/test_sieve_diff.py:
tests/sieve/corpus/msg/*.eml (messages, Japanese ones in ISO-2022-JP and
Shift_JIS among them), tests/sieve/corpus/script/*.sieve and cases.txt
(one "script message" pair a line). Deterministic: rerun after editing.
  python3 tests/sieve/gen_corpus.py"""
import base64
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def b64word(text, charset, codec):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(codec)).decode())


def msg(headers, body, body_bytes=None):
    head = "".join("%s: %s\r\n" % (k, v) for k, v in headers).encode()
    data = body_bytes if body_bytes is not None else body.encode()
    return head + b"\r\n" + data


MESSAGES = {
    "plain": msg([
        ("Return-Path", "<alice@example.org>"),
        ("Received", "from mx1.example.org by mx.example.com; Tue, 14 Nov 2023 20:00:00 +0000"),
        ("Received", "from client by mx1.example.org; Tue, 14 Nov 2023 19:59:58 +0000"),
        ("From", "Alice Example <alice@example.org>"),
        ("To", "Bob <bob+lists@example.com>, carol@example.net"),
        ("Cc", "dave@Example.COM"),
        ("Subject", "Meeting tomorrow at 10"),
        ("Date", "Tue, 14 Nov 2023 21:13:20 +0100"),
        ("Message-ID", "<plain-1@example.org>"),
        ("X-Priority", "3"),
    ], "Hello Bob,\r\n\r\nthe meeting is tomorrow. Bring the invoice.\r\n"),
    "iso2022jp": msg([
        ("From", "%s <tanaka@example.jp>" % b64word("田中太郎", "ISO-2022-JP", "iso2022_jp")),
        ("To", "suzuki@example.com"),
        ("Subject", b64word("会議のお知らせ", "ISO-2022-JP", "iso2022_jp")),
        ("Date", "Wed, 15 Nov 2023 09:30:00 +0900"),
        ("Message-ID", "<jp-1@example.jp>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=ISO-2022-JP"),
        ("Content-Transfer-Encoding", "7bit"),
    ], None, "明日の会議は十時からです。\r\n請求書を持ってきてください。\r\n".encode("iso2022_jp")),
    "sjis": msg([
        ("From", "%s <sato@example.co.jp>" % b64word("佐藤", "Shift_JIS", "cp932")),
        ("To", "Support <support+billing@example.com>"),
        ("Subject", b64word("請求書の送付について", "Shift_JIS", "cp932")),
        ("Date", "Thu, 16 Nov 2023 18:05:00 +0900"),
        ("Message-ID", "<sjis-1@example.co.jp>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=Shift_JIS"),
        ("Content-Transfer-Encoding", "8bit"),
    ], None, "いつもお世話になっております。\r\n今月の請求書を送付します。\r\n".encode("cp932")),
    "utf8list": msg([
        ("From", "\"News Letter\" <news@lists.example.net>"),
        ("To", "undisclosed-recipients:;"),
        ("Subject", "=?UTF-8?Q?Caf=C3=A9_weekly_=E2=80=93_issue_42?="),
        ("Date", "Fri, 17 Nov 2023 06:00:00 -0500"),
        ("List-Id", "Weekly news <weekly.lists.example.net>"),
        ("Precedence", "bulk"),
        ("Message-ID", "<list-42@lists.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], "This week: caf=C3=A9 prices and the SALE.\r\nUnsubscribe at any time.\r\n"),
    "multipart": msg([
        ("From", "billing@shop.example"),
        ("To", "bob@example.com"),
        ("Subject", "Your order #12345"),
        ("Date", "Sat, 18 Nov 2023 12:00:00 +0000"),
        ("Message-ID", "<order-12345@shop.example>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/alternative; boundary=\"b1\""),
    ], "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nYour order total is 42 EUR.\r\n"
       "--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + base64.b64encode("<p>Your order <b>total</b> is 42 EUR.</p>".encode()).decode() + "\r\n--b1--\r\n"),
    "spam": msg([
        ("From", "Winner <prize@lottery.example>"),
        ("To", "bob@example.com"),
        ("Subject", "[SPAM] You WON a prize!!!"),
        ("Date", "Sun, 19 Nov 2023 03:00:00 +0000"),
        ("X-Spam-Flag", "YES"),
        ("X-Spam-Score", "12"),
        ("Message-ID", "<spam-1@lottery.example>"),
    ], "Click here to claim your prize.\r\n"),
    "big": msg([
        ("From", "reports@example.org"),
        ("To", "bob@example.com"),
        ("Subject", "Monthly report"),
        ("Date", "Mon, 20 Nov 2023 08:00:00 +0000"),
        ("Message-ID", "<big-1@example.org>"),
    ], "".join("line %04d of the monthly report with some padding text\r\n" % i for i in range(200))),
    "utf8raw": msg([
        ("From", "\"Jos\u00e9 M\u00fcller\" <jose.mueller@example.de>"),
        ("To", "team: bob@example.com, \"Smith, J\" <j.smith@example.com>;"),
        ("Cc", "\"quoted local\"@example.com"),
        ("Subject", "R\u00e9sum\u00e9 f\u00fcr das Meeting \u2013 \u65e5\u672c\u8a9e"),
        ("Date", "Tue, 21 Nov 2023 23:59:59 -0800"),
        ("Message-ID", "<utf8-1@example.de>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ], "Gr\u00fc\u00dfe aus M\u00fcnchen. \u65e5\u672c\u8a9e\u306e\u30c6\u30b9\u30c8\u3002\r\n"),
    "jpmulti": msg([
        ("From", "%s <yamada@example.jp>" % b64word("山田花子", "ISO-2022-JP", "iso2022_jp")),
        ("To", "%s <info+order@example.com>" % b64word("受付", "ISO-2022-JP", "iso2022_jp")),
        ("Subject", b64word("【重要】ご注文の確認", "ISO-2022-JP", "iso2022_jp")),
        ("Date", "Wed, 22 Nov 2023 10:00:00 +0900"),
        ("Message-ID", "<jpm-1@example.jp>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed; boundary=\"jp\""),
    ], None, b"--jp\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
       + "ご注文ありがとうございます。合計は三千円です。\r\n".encode("iso2022_jp")
       + b"--jp\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + base64.b64encode("お届け予定日は来週です。".encode("cp932")) + b"\r\n"
       + b"--jp\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + base64.b64encode(b"%PDF-1.4 fake") + b"\r\n--jp--\r\n"),
    # unencoded ISO-2022-JP in the header, as old Japanese mailers send it
    "rawjp": b"From: kato@example.jp\r\nTo: bob@example.com\r\nSubject: "
             + "会議の議事録".encode("iso2022_jp")
             + b"\r\nDate: Thu, 23 Nov 2023 09:00:00 +0900\r\nMessage-ID: <raw-1@example.jp>\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
             + "議事録を送ります。\r\n".encode("iso2022_jp"),
    "autoreply": msg([
        ("From", "carol@example.net"),
        ("To", "bob@example.com"),
        ("Subject", "Re: lunch?"),
        ("Date", "Mon, 20 Nov 2023 12:30:00 +0000"),
        ("Auto-Submitted", "auto-replied"),
        ("Message-ID", "<auto-1@example.net>"),
    ], "I am out of office.\r\n"),
}

# (name, requires, body); each runs against every message
SCRIPTS = [
    ("keep_only", [], "keep;"),
    ("empty", [], "# nothing at all\n"),
    ("discard_all", [], "discard;"),
    ("stop_first", ["fileinto"], "stop;\nfileinto \"Never\";"),
    ("hdr_is_subject", ["fileinto"], 'if header :is "subject" "Meeting tomorrow at 10" { fileinto "Work"; }'),
    ("hdr_contains_ci", ["fileinto"], 'if header :contains "Subject" "MEETING" { fileinto "Work"; }'),
    ("hdr_contains_octet", ["fileinto"],
     'if header :comparator "i;octet" :contains "subject" "meeting" { fileinto "Work"; }'),
    ("hdr_matches", ["fileinto"], 'if header :matches "subject" "*order #*" { fileinto "Orders"; }'),
    ("hdr_matches_q", ["fileinto"], 'if header :matches "x-priority" "?" { fileinto "Prio"; }'),
    ("hdr_matches_escape", ["fileinto"], 'if header :matches "subject" "*\\\\*\\\\**" { fileinto "Stars"; }'),
    ("hdr_multi_names", ["fileinto"], 'if header :contains ["to","cc"] ["dave","carol"] { fileinto "Team"; }'),
    ("hdr_spamflag", ["fileinto", "imap4flags"],
     'if header :is "X-Spam-Flag" "YES" { fileinto :flags "\\\\Seen" "Junk"; stop; }'),
    ("hdr_jp_subject", ["fileinto"], 'if header :contains "subject" "会議" { fileinto "Meetings"; }'),
    ("hdr_jp_sjis", ["fileinto"], 'if header :contains "subject" "請求書" { fileinto "Billing"; }'),
    ("hdr_jp_from", ["fileinto"], 'if header :contains "from" "田中" { fileinto "Tanaka"; }'),
    ("hdr_jp_matches", ["fileinto"], 'if header :matches "subject" "*お知らせ" { fileinto "Notice"; }'),
    ("addr_all", ["fileinto"], 'if address :is "from" "alice@example.org" { fileinto "Alice"; }'),
    ("addr_domain", ["fileinto"], 'if address :domain :is "from" "example.org" { fileinto "Org"; }'),
    ("addr_localpart", ["fileinto"], 'if address :localpart :is "to" "suzuki" { fileinto "Suzuki"; }'),
    ("addr_domain_ci", ["fileinto"], 'if address :domain :is "cc" "example.com" { fileinto "Cc"; }'),
    ("addr_matches", ["fileinto"], 'if address :matches "from" "*@*.example*" { fileinto "Sub"; }'),
    ("addr_user", ["fileinto", "subaddress"], 'if address :user :is "to" "bob" { fileinto "Bob"; }'),
    ("addr_detail", ["fileinto", "subaddress"], 'if address :detail :is "to" "lists" { fileinto "Lists"; }'),
    ("addr_detail_any", ["fileinto", "subaddress"], 'if address :detail :matches "to" "*" { fileinto "Detailed"; }'),
    ("env_from", ["fileinto", "envelope"], 'if envelope :is "from" "sender@example.org" { fileinto "Env"; }'),
    ("env_to_domain", ["fileinto", "envelope"], 'if envelope :domain :is "to" "example.com" { fileinto "Local"; }'),
    ("exists_list", ["fileinto"], 'if exists "list-id" { fileinto "Lists"; }'),
    ("exists_two", ["fileinto"], 'if exists ["from","x-spam-flag"] { fileinto "Flagged"; }'),
    ("size_over", ["fileinto"], 'if size :over 5K { fileinto "Big"; }'),
    ("size_under", ["fileinto"], 'if size :under 1000 { fileinto "Small"; }'),
    ("allof", ["fileinto"],
     'if allof (header :contains "from" "example", not exists "list-id") { fileinto "Direct"; }'),
    ("anyof", ["fileinto"],
     'if anyof (header :contains "subject" "order", header :contains "subject" "report") '
     '{ fileinto "Business"; }'),
    ("elsif_chain", ["fileinto"],
     'if header :contains "subject" "order" { fileinto "A"; }\n'
     'elsif header :contains "subject" "report" { fileinto "B"; }\n'
     'elsif header :contains "subject" "meeting" { fileinto "C"; }\nelse { fileinto "D"; }'),
    ("redirect_one", [], 'if address :domain :is "from" "lottery.example" { redirect "abuse@example.com"; }'),
    ("redirect_copy", ["copy"], 'redirect :copy "archive@example.com";'),
    ("redirect_twice", [], 'redirect "x@example.com";\nredirect "x@example.com";'),
    ("fileinto_copy", ["fileinto", "copy"], 'fileinto :copy "Archive";'),
    ("fileinto_twice", ["fileinto"], 'fileinto "A";\nfileinto "A";\nfileinto "B";'),
    ("reject_spam", ["reject"], 'if header :contains "subject" "SPAM" { reject "no thanks"; }'),
    ("ereject_big", ["ereject"], 'if size :over 10K { ereject "too big"; }'),
    ("reject_conflict", ["reject", "fileinto"],
     'fileinto "X";\nif header :contains "subject" "SPAM" { reject "no"; }'),
    ("flags_add", ["imap4flags"], 'addflag "\\\\Flagged";\naddflag ["\\\\Seen", "$Work"];'),
    ("flags_set_remove", ["imap4flags", "fileinto"],
     'setflag ["\\\\Seen", "\\\\Flagged"];\nremoveflag "\\\\Flagged";\nfileinto "Read";'),
    ("flags_hasflag", ["imap4flags", "fileinto"],
     'addflag "$Label1";\nif hasflag :is "$label1" { fileinto "Labelled"; }'),
    ("flags_keep", ["imap4flags"], 'keep :flags "\\\\Answered";'),
    ("vars_set", ["variables", "fileinto"], 'set "box" "Folder1";\nfileinto "${box}";'),
    ("vars_match", ["variables", "fileinto"],
     'if header :matches "subject" "* *" { fileinto "S-${1}"; }'),
    ("vars_mods", ["variables", "fileinto"],
     'set :lower :upperfirst "b" "WORK";\nfileinto "${b}";'),
    ("vars_length", ["variables", "fileinto"], 'set :length "n" "abcdef";\nfileinto "len${n}";'),
    ("vars_addr", ["variables", "fileinto"],
     'if address :matches :domain "from" "*.*" { fileinto "dom-${1}"; }'),
    ("vars_string", ["variables", "fileinto"],
     'set "a" "x";\nif string :is "${a}" "x" { fileinto "StrOK"; }'),
    ("body_contains", ["body", "fileinto"], 'if body :contains "invoice" { fileinto "Invoice"; }'),
    ("body_text_total", ["body", "fileinto"], 'if body :text :contains "total" { fileinto "Total"; }'),
    ("body_raw", ["body", "fileinto"], 'if body :raw :contains "Content-Type" { fileinto "Raw"; }'),
    ("body_content_html", ["body", "fileinto"],
     'if body :content "text/html" :contains "<b>total</b>" { fileinto "Html"; }'),
    ("body_jp", ["body", "fileinto"], 'if body :contains "請求書" { fileinto "JpBody"; }'),
    ("rel_count", ["relational", "fileinto", "comparator-i;ascii-numeric"],
     'if header :count "ge" :comparator "i;ascii-numeric" "received" "2" { fileinto "Hops"; }'),
    ("rel_value", ["relational", "fileinto", "comparator-i;ascii-numeric"],
     'if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "10" { fileinto "VerySpam"; }'),
    ("rel_addr_count", ["relational", "fileinto", "comparator-i;ascii-numeric"],
     'if address :count "eq" :comparator "i;ascii-numeric" ["to","cc"] "3" { fileinto "Three"; }'),
    ("rel_value_str", ["relational", "fileinto"], 'if header :value "lt" "subject" "N" { fileinto "AtoM"; }'),
    ("date_year", ["date", "fileinto"], 'if date :is "date" "year" "2023" { fileinto "Y2023"; }'),
    ("date_origzone", ["date", "fileinto"],
     'if date :originalzone :is "date" "zone" "+0900" { fileinto "JST"; }'),
    ("date_zone_hour", ["date", "fileinto", "relational"],
     'if date :zone "+0000" :value "lt" "date" "hour" "10" { fileinto "Morning"; }'),
    ("date_weekday", ["date", "fileinto"], 'if date :zone "+0000" :is "date" "weekday" "0" { fileinto "Sunday"; }'),
    ("index_received", ["index", "fileinto"],
     'if header :index 2 :contains "received" "client" { fileinto "Second"; }'),
    ("index_last", ["index", "fileinto"],
     'if header :index 1 :last :contains "received" "mx1" { fileinto "LastHop"; }'),
    ("regex_subject", ["regex", "fileinto"], 'if header :regex "subject" "#[0-9]+$" { fileinto "Numbered"; }'),
    ("regex_vars", ["regex", "variables", "fileinto"],
     'if header :regex "subject" "order #([0-9]+)" { fileinto "order-${1}"; }'),
    ("enc_char", ["encoded-character", "fileinto"],
     'if header :contains "subject" "${hex:4d 65}eting" { fileinto "Enc"; }'),
    ("enc_unicode", ["encoded-character", "fileinto"],
     'if header :contains "subject" "${unicode:4f1a 8b70}" { fileinto "EncJp"; }'),
    ("vacation_basic", ["vacation"], 'vacation :days 7 :subject "Away" "I am away until Monday.";'),
    ("mailbox_create", ["fileinto", "mailbox"], 'fileinto :create "New/Sub";'),
    ("not_test", ["fileinto"], 'if not header :contains "subject" "report" { fileinto "NotReport"; }'),
    ("multiline", ["fileinto"],
     'if header :contains "subject" text:\nMeeting\n.\n{ fileinto "ML"; }'),
    ("comment_block", ["fileinto"],
     '/* a bracketed\n comment */ if true { fileinto "C"; } # trailing'),
    ("bad_syntax", [], 'if header :contains "subject" { keep; }'),
    ("bad_unknown", [], 'frobnicate;'),
    ("bad_require", [], 'fileinto "X";'),
    ("big_number", ["fileinto"], 'if size :over 1M { fileinto "Huge"; } else { fileinto "Normal"; }'),
    ("complex_rules", ["fileinto", "imap4flags", "variables"],
     'if header :contains "list-id" "weekly" { addflag "$List"; fileinto "Lists/Weekly"; stop; }\n'
     'if address :domain :is "from" ["example.org","example.net"] { set "f" "Friends"; }\n'
     'else { set "f" "Other"; }\nfileinto "${f}";'),

    ("hdr_empty_key", ["fileinto"], 'if header :contains "list-id" "" { fileinto "HasList"; }'),
    ("hdr_matches_star_missing", ["fileinto"], 'if header :matches "x-nothing" "*" { fileinto "Never"; }'),
    ("hdr_is_multi_values", ["fileinto"],
     'if header :contains "received" "mx1.example.org by mx.example.com" { fileinto "Hop1"; }'),
    ("hdr_multi_keys", ["fileinto"], 'if header :contains "subject" ["zzz", "prize", "report"] { fileinto "K"; }'),
    ("hdr_jp_from_full", ["fileinto"], 'if header :contains "from" "田中太郎" { fileinto "TT"; }'),
    ("hdr_jp_q_matches", ["fileinto"], 'if header :matches "subject" "?議*" { fileinto "Q"; }'),
    ("hdr_q_ascii", ["fileinto"], 'if header :matches "subject" "?X*" { fileinto "QX"; }'),
    ("hdr_jp_important", ["fileinto"], 'if header :contains "subject" "【重要】" { fileinto "Important"; }'),
    ("hdr_utf8_raw", ["fileinto"], 'if header :contains "subject" "résumé" { fileinto "CV"; }'),
    ("hdr_utf8_jp_raw", ["fileinto"], 'if header :contains "subject" "日本語" { fileinto "JpRaw"; }'),
    ("hdr_octet_utf8", ["fileinto"],
     'if header :comparator "i;octet" :is "subject" "Résumé für das Meeting – 日本語" { fileinto "Exact"; }'),
    ("addr_group", ["fileinto"], 'if address :is "to" "j.smith@example.com" { fileinto "Group"; }'),
    ("addr_quoted_local", ["fileinto"], 'if address :localpart :is "cc" "quoted local" { fileinto "QL"; }'),
    ("addr_jp_name", ["fileinto"], 'if address :localpart :is "from" ["tanaka","yamada","sato"] { fileinto "JpAddr"; }'),
    ("addr_detail_order", ["fileinto", "subaddress"], 'if address :detail :is "to" "order" { fileinto "Orders"; }'),
    ("addr_all_domain_ci", ["fileinto"], 'if address :all :contains "from" "EXAMPLE.ORG" { fileinto "Org"; }'),
    ("env_to_detail", ["fileinto", "envelope", "subaddress"],
     'if envelope :detail :matches "to" "*" { fileinto "EnvDetail"; } else { fileinto "NoDetail"; }'),
    ("keep_twice", [], 'keep;\nkeep;'),
    ("fileinto_inbox_keep", ["fileinto"], 'fileinto "INBOX";\nkeep;'),
    ("fileinto_copy_inbox", ["fileinto", "copy"], 'fileinto :copy "INBOX";'),
    ("vacation_discard", ["vacation"], 'vacation "away";\ndiscard;'),
    ("reject_discard", ["reject"], 'reject "no";\ndiscard;'),
    ("redirect_reject", ["reject"], 'redirect "a@example.com";\nreject "no";'),
    ("redirect_copy_discard", ["copy"], 'redirect :copy "a@example.com";\ndiscard;'),
    ("flags_case", ["imap4flags"], 'addflag "\\\\SEEN";\naddflag "\\\\seen";\nremoveflag "\\\\Deleted";'),
    ("flags_setflag_empty", ["imap4flags"], 'addflag "\\\\Seen";\nsetflag "";'),
    ("flags_count", ["imap4flags", "relational", "comparator-i;ascii-numeric", "fileinto"],
     'addflag ["a", "b c"];\nif hasflag :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "Three"; }'),
    ("flags_fileinto_two", ["imap4flags", "fileinto"],
     'addflag "$x";\nfileinto "A";\naddflag "$y";\nfileinto "B";'),
    ("vars_zero", ["variables", "fileinto"], 'if header :matches "subject" "*" { fileinto "all-${0}"; }'),
    ("vars_nested", ["variables", "fileinto"], 'set "a" "b";\nset "b" "c";\nfileinto "x${${a}}y";'),
    ("vars_empty_ref", ["variables", "fileinto"], 'fileinto "p${}q";'),
    ("vars_quotewildcard", ["variables", "fileinto"],
     'set :quotewildcard "w" "Meeting*";\nif header :matches "subject" "${w}" { fileinto "Lit"; } else { fileinto "NoLit"; }'),
    ("vars_many_matches", ["variables", "fileinto"],
     'if header :matches "from" "*<*@*.*>" { fileinto "${1}|${2}|${3}|${4}"; }'),
    ("vars_jp_match", ["variables", "fileinto"],
     'if header :matches "subject" "*の*" { fileinto "jp-${1}-${2}"; }'),
    ("rel_numeric_inf", ["relational", "comparator-i;ascii-numeric", "fileinto"],
     'if header :value "gt" :comparator "i;ascii-numeric" "subject" "99999" { fileinto "Inf"; }'),
    ("rel_count_missing", ["relational", "comparator-i;ascii-numeric", "fileinto"],
     'if header :count "eq" :comparator "i;ascii-numeric" "x-none" "0" { fileinto "Zero"; }'),
    ("rel_count_casemap", ["relational", "fileinto"], 'if header :count "lt" "received" "10" { fileinto "Lt"; }'),
    ("regex_alt", ["regex", "fileinto"], 'if header :regex "subject" "^(re|fwd?):" { fileinto "Reply"; }'),
    ("regex_ci", ["regex", "fileinto"], 'if header :regex "subject" "MEETING|ORDER" { fileinto "RegCI"; }'),
    ("regex_octet", ["regex", "fileinto"],
     'if header :regex :comparator "i;octet" "subject" "MEETING|ORDER" { fileinto "RegOct"; }'),
    ("body_content_text", ["body", "fileinto"], 'if body :content "text" :contains "total" { fileinto "T"; }'),
    ("body_text_no_tags", ["body", "fileinto"], 'if body :text :contains "<b>" { fileinto "Tag"; }'),
    ("body_text_html_words", ["body", "fileinto"], 'if body :text :contains "order" { fileinto "Order"; }'),
    ("body_jp_iso", ["body", "fileinto"], 'if body :contains "会議" { fileinto "JpIso"; }'),
    ("body_jp_sjis_b64", ["body", "fileinto"], 'if body :contains "来週" { fileinto "JpSjis"; }'),
    ("body_matches", ["body", "fileinto"], 'if body :text :matches "*total is * EUR*" { fileinto "M"; }'),
    ("date_julian", ["date", "fileinto"], 'if date :zone "+0000" :is "date" "julian" "60264" { fileinto "J"; }'),
    ("date_std11", ["date", "fileinto", "variables"],
     'if date :zone "+0000" :matches "date" "std11" "*" { fileinto "${1}"; }'),
    ("date_iso8601", ["date", "fileinto", "variables"],
     'if date :originalzone :matches "date" "iso8601" "*" { fileinto "${1}"; }'),
    ("date_month_rel", ["date", "relational", "fileinto"],
     'if date :zone "+0900" :value "ge" "date" "day" "16" { fileinto "Late"; }'),
    ("stop_in_if", ["fileinto"], 'if true { fileinto "A"; stop; }\nfileinto "B";'),
    ("empty_block", [], 'if true { }'),
    ("nested_blocks", ["fileinto"],
     'if exists "from" { if exists "to" { if header :contains "subject" "e" { fileinto "Deep"; } } }'),
    ("tag_after_arg", ["fileinto", "copy"], 'fileinto "X" :copy;'),
    ("redirect_angle", [], 'redirect "<x@example.com>";'),
    ("numeric_no_require", ["fileinto"],
     'if header :comparator "i;ascii-numeric" :is "x-priority" "3" { fileinto "P"; }'),
    ("bad_header_name", ["fileinto"], 'if header :is "bad name" "x" { fileinto "X"; }'),
    ("enc_hex_empty", ["encoded-character", "fileinto"], 'fileinto "a${hex:}b";'),
    ("enc_unicode_bad", ["encoded-character", "fileinto"], 'fileinto "a${unicode:110000}b";'),
    ("multiline_dot", ["variables", "fileinto"],
     'set "t" text:\n..dotted\n.\n;\nif string :matches "${t}" ".dotted*" { fileinto "Dot"; }'),
    ("string_list_match", ["variables", "fileinto"],
     'if string :is ["a", "b"] "b" { fileinto "InList"; }'),
    ("mod_upper_utf8", ["variables", "fileinto"], 'set :upper "x" "café";\nfileinto "${x}";'),
    ("mod_lower_utf8", ["variables", "fileinto"], 'set :lower "x" "ÉCOLE";\nfileinto "${x}";'),
    ("mod_length_jp", ["variables", "fileinto"], 'set :length "x" "日本語abc";\nfileinto "n${x}";'),
    ("mod_upperfirst_jp", ["variables", "fileinto"], 'set :upperfirst "x" "日本";\nfileinto "${x}";'),
    ("string_count", ["variables", "relational", "comparator-i;ascii-numeric", "fileinto"],
     'if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { fileinto "Two"; }'),
    ("hdr_count_two_names", ["relational", "comparator-i;ascii-numeric", "fileinto"],
     'if header :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "2" { fileinto "Two"; }'),
    ("regex_jp", ["regex", "fileinto"], 'if header :regex "subject" "(会議|請求書)" { fileinto "JpRe"; }'),
    ("rel_value_jp", ["relational", "fileinto"], 'if header :value "gt" "subject" "あ" { fileinto "AfterA"; }'),
    ("vars_match_q_jp", ["variables", "fileinto"],
     'if header :matches "subject" "??*" { fileinto "${1}${2}"; }'),
    ("vars_regex_groups", ["regex", "variables", "fileinto"],
     'if address :regex :all "from" "^([^@]+)@(.+)$" { fileinto "${2}/${1}"; }'),
    ("env_from_matches", ["envelope", "variables", "fileinto"],
     'if envelope :matches "from" "*@*" { fileinto "env-${2}"; }'),
    ("exists_case", ["fileinto"], 'if exists "MESSAGE-ID" { fileinto "HasId"; }'),
    ("hdr_is_folded", ["fileinto"], 'if header :is "to" "Bob <bob+lists@example.com>, carol@example.net" { fileinto "ToExact"; }'),
    ("addr_to_all_list", ["fileinto"], 'if address :all :is ["to", "cc"] ["carol@example.net", "nobody@x"] { fileinto "Carol"; }'),
    ("redirect_case", [], 'redirect "X.Y@Example.COM";'),
    ("fileinto_flags_merge", ["fileinto", "imap4flags"], 'fileinto "A";\nfileinto :flags "$x" "A";'),
    ("keep_flags_then_keep", ["imap4flags"], 'keep :flags "$a";\nkeep :flags "$b";'),
    ("flags_after_fileinto", ["imap4flags", "fileinto", "copy"],
     'fileinto :copy "A";\naddflag "$late";'),
    ("discard_then_keep", [], 'discard;\nkeep;'),
    ("vacation_twice", ["vacation"], 'vacation "a";\nvacation "b";'),
    ("reject_twice", ["reject"], 'reject "a";\nreject "b";'),
    ("size_exact", ["fileinto"], 'SIZE_PLACEHOLDER'),
]


def main():
    for sub in ("msg", "script"):
        d = os.path.join(OUT, sub)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
    for name, data in MESSAGES.items():
        with open(os.path.join(OUT, "msg", name + ".eml"), "wb") as f:
            f.write(data)
    lines = []
    for m, data in MESSAGES.items():
        n = len(data)
        name = "size_exact_" + m
        with open(os.path.join(OUT, "script", name + ".sieve"), "w") as f:
            f.write('require "fileinto";\nif size :over %d { fileinto "o1"; }\n'
                    'if size :over %d { fileinto "o2"; }\nif size :under %d { fileinto "u1"; }\n'
                    'if size :under %d { fileinto "u2"; }\n' % (n - 1, n, n, n + 1))
        lines.append("%s %s\n" % (name, m))
    for name, req, body in SCRIPTS:
        if body == "SIZE_PLACEHOLDER":
            continue
        text = ""
        if req:
            text = "require [%s];\n" % ", ".join('"%s"' % r for r in req)
        text += body + "\n"
        with open(os.path.join(OUT, "script", name + ".sieve"), "w", encoding="utf-8") as f:
            f.write(text)
        for m in MESSAGES:
            lines.append("%s %s\n" % (name, m))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.writelines(lines)
    print("%d scripts x %d messages = %d cases" % (len(SCRIPTS), len(MESSAGES), len(lines)))


if __name__ == "__main__":
    main()
