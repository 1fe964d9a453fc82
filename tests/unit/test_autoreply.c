/* mail/autoreply: who gets an auto-reply (RFC 3834, RFC 5230 4.5) and the
 * reply's fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/autoreply.h"
#include "mail/header.h"
#include "mail/rfc2047.h"

static const char *refused(const char *hdr, const char *from)
{
	static const char *const own[] = { "alias@example.jp" };

	return autoreply_refused(hdr, strlen(hdr), from, "user@example.jp", own, 1);
}

static void test_refused(void **state)
{
	const char *plain = "From: a@b.test\r\nSubject: hi\r\n\r\nbody\r\n";

	(void)state;
	assert_null(refused(plain, "a@b.test"));
	assert_non_null(refused(plain, ""));
	assert_non_null(refused(plain, "MAILER-DAEMON@b.test"));
	assert_non_null(refused(plain, "owner-list@b.test"));
	assert_non_null(refused(plain, "list-request@b.test"));
	assert_non_null(refused(plain, "User@Example.jp"));
	assert_non_null(refused(plain, "alias@example.jp"));
	assert_non_null(refused("List-Id: <l.b.test>\r\n\r\n", "a@b.test"));
	assert_non_null(refused("List-Unsubscribe: <mailto:x@b.test>\r\n\r\n", "a@b.test"));
	assert_non_null(refused("Precedence: bulk\r\n\r\n", "a@b.test"));
	assert_non_null(refused("Precedence: junk\r\n\r\n", "a@b.test"));
	assert_null(refused("Precedence: first-class\r\n\r\n", "a@b.test"));
	assert_non_null(refused("Auto-Submitted: auto-replied\r\n\r\n", "a@b.test"));
	assert_null(refused("Auto-Submitted: no\r\n\r\n", "a@b.test"));
	/* a field in the body is not in the header */
	assert_null(refused("Subject: x\r\n\r\nList-Id: <l>\r\n", "a@b.test"));
}

static char *field(const char *msg, const char *name)
{
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;

	if (!mail_header_find(msg, mail_header_block_size(msg, strlen(msg)), name, &f))
		return NULL;
	mail_header_unfold(f.value, f.value_len, &v);
	return v.data;
}

static void build(const char *hdr, const char *subject, const char *reason, bool mime, const char *from,
		  struct strbuf *out)
{
	struct autoreply_in in = {
		.header = hdr, .header_len = strlen(hdr), .from = from, .account = "user@example.jp",
		.to = "sender@b.test", .subject = subject, .reason = reason, .mime = mime,
		.date = 1796544000, .tz_minutes = 540, .message_id = "<r1@mx.example.jp>",
		.boundary_seed = "abc",
	};
	const char *error = NULL;

	assert_int_equal(autoreply_build(&in, out, &error), 0);
}

static void test_reply_fields(void **state)
{
	const char *hdr = "From: Sender <sender@b.test>\r\nSubject: =?UTF-8?B?5Lya6K2w?=\r\n"
			  "Message-ID: <orig@b.test>\r\nReferences: <first@b.test>\r\n\r\n";
	struct strbuf out = STRBUF_INIT, dec = STRBUF_INIT;
	char *v;

	(void)state;
	build(hdr, NULL, "不在です。\n戻りは月曜です。", false, NULL, &out);
	v = field(out.data, "Subject");
	rfc2047_decode(v, strlen(v), &dec);
	assert_string_equal(dec.data, "Auto: 会議");
	free(v);
	assert_non_null(strstr(out.data, "\r\nAuto-Submitted: auto-replied\r\n"));
	v = field(out.data, "In-Reply-To");
	assert_string_equal(v, "<orig@b.test>");
	free(v);
	v = field(out.data, "References");
	assert_non_null(strstr(v, "<first@b.test>"));
	assert_non_null(strstr(v, "<orig@b.test>"));
	free(v);
	v = field(out.data, "From");
	assert_string_equal(v, "user@example.jp");
	free(v);
	v = field(out.data, "To");
	assert_string_equal(v, "sender@b.test");
	free(v);
	assert_non_null(strstr(out.data, "charset=utf-8") != NULL ? strstr(out.data, "charset=utf-8") :
			strstr(out.data, "charset=UTF-8"));
	strbuf_free(&out);
	strbuf_free(&dec);
}

static void test_subject_from_and_mime(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *v;

	(void)state;
	/* no Message-ID: no In-Reply-To; a given :subject and :from */
	build("Subject: x\r\n\r\n", "Away", "Content-Type: text/plain; charset=us-ascii\n\nAway.\n", true,
	      "Me <me@example.jp>", &out);
	v = field(out.data, "Subject");
	assert_string_equal(v, "Away");
	free(v);
	v = field(out.data, "From");
	assert_string_equal(v, "Me <me@example.jp>");
	free(v);
	assert_null(field(out.data, "In-Reply-To"));
	assert_non_null(strstr(out.data, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAway.\r\n"));
	assert_null(strstr(out.data, "charset=utf-8"));
	strbuf_free(&out);
	/* a malformed original id is left out, the reply still goes */
	build("Message-ID: <bad id>\r\n\r\n", NULL, "x", false, NULL, &out);
	v = field(out.data, "Subject");
	assert_string_equal(v, "Automated reply");
	free(v);
	strbuf_free(&out);
}

/* The quoted original: Japanese charsets decoded, the first text part,
 * bounded, and the reply's body encoded so it decodes back. */
static void test_quote(void **state)
{
	/* "会議" in ISO-2022-JP, then in Shift_JIS */
	static const char jis[] = "From: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= <a@x.test>\r\nDate: Sun, 6 Dec 2026\r\n"
				  "Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B2q5D\x1b(B\r\nline 2\r\n";
	static const char sjis[] = "From: a@x.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative;"
				   " boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
				   "Content-Transfer-Encoding: base64\r\n\r\nie+LYw==\r\n--b\r\n"
				   "Content-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n";
	struct strbuf out = STRBUF_INIT, big = STRBUF_INIT;
	const char *error = NULL;
	struct autoreply_in in = {
		.header = jis, .header_len = strlen(jis), .account = "user@example.jp", .to = "a@x.test",
		.reason = "不在です。", .date = 1796544000, .message_id = "<r1@mx.example.jp>",
		.boundary_seed = "abc", .quote = true, .original = jis, .original_len = strlen(jis),
	};
	(void)state;
	autoreply_quote(jis, strlen(jis), false, &out);
	assert_string_equal(strbuf_cstr(&out), "On Sun, 6 Dec 2026, 会議 <a@x.test> wrote:\n> 会議\n> line 2\n");
	strbuf_truncate(&out, 0);
	autoreply_quote(sjis, strlen(sjis), true, &out);
	assert_non_null(strstr(strbuf_cstr(&out), "\n> 会議\n"));
	assert_non_null(strstr(strbuf_cstr(&out), "?、a@x.test さんは書きました:\n"));	/* no Date */
	assert_true(autoreply_text_is_japanese("不在です"));
	assert_true(autoreply_text_is_japanese("Away / ふざい"));
	assert_false(autoreply_text_is_japanese("Ich bin weg, Grüße"));
	assert_null(strstr(strbuf_cstr(&out), "html"));	/* the text/plain alternative only */
	strbuf_truncate(&out, 0);
	strbuf_append_str(&big, "From: a@x.test\r\n\r\n");
	for (int i = 0; i < 3000; i++)
		strbuf_append_str(&big, "日本語\r\n");
	autoreply_quote(big.data, big.len, false, &out);
	assert_true(out.len < AUTOREPLY_QUOTE_MAX + 3000);
	assert_non_null(strstr(strbuf_cstr(&out), "> [...]\n"));
	strbuf_truncate(&out, 0);
	autoreply_quote("Subject: x\r\nContent-Type: image/png\r\n\r\nxx", 42, false, &out);
	assert_int_equal(out.len, 0);
	assert_int_equal(autoreply_build(&in, &out, &error), 0);
	assert_non_null(strstr(strbuf_cstr(&out), "Content-Type: text/plain; charset=utf-8"));
	assert_null(strstr(strbuf_cstr(&out), "\x1b"));	/* re-encoded, not copied */
	strbuf_free(&out);
	strbuf_free(&big);
}

static void test_refusal(void **state)
{
	const char *hdr = "From: a@x.test\r\nSubject: =?UTF-8?B?5L2V?= hi\r\nMessage-ID: <m1@x.test>\r\n\r\n";
	const char *err = NULL;
	struct strbuf out = STRBUF_INIT;
	char line[REFUSAL_REASON_MAX + 1];
	struct refusal_in in = {
		.header = hdr, .header_len = strlen(hdr), .mdn = true, .account = "u@y.test", .to = "a@x.test",
		.reason = "go\r\naway\t now", .hostname = "mx.y.test", .date = 0, .message_id = "<n@y.test>",
		.boundary_seed = "abc",
	};
	(void)state;
	assert_null(autoreply_refusal_refused(hdr, strlen(hdr), "a@x.test", "u@y.test"));
	assert_non_null(autoreply_refusal_refused(hdr, strlen(hdr), "", "u@y.test"));
	assert_non_null(autoreply_refusal_refused(hdr, strlen(hdr), "MAILER-DAEMON@x.test", "u@y.test"));
	assert_non_null(autoreply_refusal_refused(hdr, strlen(hdr), "u@y.test", "u@y.test"));
	assert_non_null(autoreply_refusal_refused("Auto-Submitted: auto-replied\r\n\r\n", 32, "a@x.test", "u@y.test"));
	assert_null(autoreply_refusal_refused("Auto-Submitted: no\r\n\r\n", 22, "a@x.test", "u@y.test"));
	assert_non_null(autoreply_refusal_refused("Content-Type: multipart/report; report-type=x\r\n\r\n", 49,
						  "a@x.test", "u@y.test"));
	assert_int_equal(autoreply_refusal_line(in.reason, line, sizeof(line)), 1);
	assert_string_equal(line, "go away now");
	assert_int_equal(autoreply_refusal_line("\xe4\xb8\x8d\xe8\xa6\x81", line, sizeof(line)), 0);
	assert_int_equal(autoreply_refusal_build(&in, &out, &err), 0);
	assert_non_null(strstr(strbuf_cstr(&out), "report-type=disposition-notification"));
	assert_non_null(strstr(strbuf_cstr(&out), "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n"));
	assert_non_null(strstr(strbuf_cstr(&out), "Original-Message-ID: <m1@x.test>\r\n"));
	assert_non_null(strstr(strbuf_cstr(&out), "In-Reply-To: <m1@x.test>\r\n"));
	assert_non_null(strstr(strbuf_cstr(&out), "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(strbuf_cstr(&out), "Content-Type: text/rfc822-headers\r\n\r\nFrom: a@x.test\r\n"));
	assert_non_null(strstr(strbuf_cstr(&out), "\r\n--=_refusal_abc--\r\n"));
	strbuf_truncate(&out, 0);
	in.mdn = false;
	assert_int_equal(autoreply_refusal_build(&in, &out, &err), 0);
	assert_non_null(strstr(strbuf_cstr(&out), "From: Mail Delivery System <MAILER-DAEMON@mx.y.test>\r\n"));
	assert_non_null(strstr(strbuf_cstr(&out), "Status: 5.7.1\r\nDiagnostic-Code: smtp; 550 5.7.1 go away now\r\n"));
	/* a subject that is no UTF-8, with a line break encoded in it */
	strbuf_truncate(&out, 0);
	in.header = "Subject: \xff\xfe =?UTF-8?Q?a=0D=0ABcc:_x@y?=\r\n\r\n";
	in.header_len = strlen(in.header);
	assert_int_equal(autoreply_refusal_build(&in, &out, &err), 0);
	*strstr(out.data, "\r\n\r\n") = '\0';	/* the notice's own header */
	assert_null(strstr(strbuf_cstr(&out), "\r\nBcc:"));
	assert_null(strstr(strbuf_cstr(&out), "\xff"));
	assert_non_null(strstr(strbuf_cstr(&out), "Subject: Undeliverable: =?UTF-8?"));
	in.to = "bad <x>";
	assert_int_equal(autoreply_refusal_build(&in, &out, &err), -1);
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reply_fields),
		cmocka_unit_test(test_subject_from_and_mime),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
