/* The searchable text of a message (mail/mail_text.c): decoded header and
 * body, HTML reduced to text, addresses as SEARCH compares them, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail_text.h"

static const struct mail_text_limits limits = { 65536, 262144, MAIL_TEXT_MIME_DEPTH, MAIL_TEXT_MIME_PARTS };

static const char jp_msg[] =
	"From: =?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <taro@example.jp>\r\n"
	"To: Hanako <hanako@example.jp>, group: a@b.test, c@d.test;\r\n"
	"Cc: (comment) plain@example.jp\r\n"
	"Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\n"
	"Subject: second subject\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: text/plain; charset=ISO-2022-JP\r\n"
	"\r\n"
	"\x1b$B$3$s$K$A$O\x1b(B\r\n"
	"--b\r\n"
	"Content-Type: text/html; charset=UTF-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"<p>Caf=C3=A9 &amp; <b>Bar</b></p><script>evil()</script><style>x{}</style>&#x6771;&#20140;<br>end\r\n"
	"--b\r\n"
	"Content-Type: application/pdf; name=\"=?UTF-8?B?6KaL56mN5pu4LnBkZg==?=\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"JVBERg==\r\n"
	"--b--\r\n";

static void test_extract(void **state)
{
	struct mail_text t;

	(void)state;
	mail_text_init(&t);
	mail_text_extract(jp_msg, strlen(jp_msg), &limits, &t);
	assert_non_null(strstr(strbuf_cstr(&t.header), "山田"));
	assert_string_equal(strbuf_cstr(&t.subject), "会議\nsecond subject");
	assert_string_equal(strbuf_cstr(&t.from), "山田 太郎 <taro@example.jp>");
	assert_string_equal(strbuf_cstr(&t.to), "Hanako <hanako@example.jp>\ngroup\n<a@b.test>\n<c@d.test>");
	assert_string_equal(strbuf_cstr(&t.cc), "comment <plain@example.jp>");	/* as ENVELOPE names it */
	assert_string_equal(strbuf_cstr(&t.from_display), "山田 太郎 <taro@example.jp>");
	assert_non_null(strstr(strbuf_cstr(&t.body), "こんにちは\n"));
	assert_non_null(strstr(strbuf_cstr(&t.body), "Café & Bar"));
	assert_non_null(strstr(strbuf_cstr(&t.body), "東京\nend"));
	assert_null(strstr(strbuf_cstr(&t.body), "evil"));
	assert_null(strstr(strbuf_cstr(&t.body), "<p>"));
	assert_string_equal(strbuf_cstr(&t.attachments), "見積書.pdf");
	assert_false(t.truncated);
	mail_text_free(&t);
}

static void test_body_is_what_search_reads(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct mail_text t;

	(void)state;
	mail_text_init(&t);
	mail_text_extract(jp_msg, strlen(jp_msg), &limits, &t);
	assert_false(mail_text_body(jp_msg, strlen(jp_msg), &limits, SIZE_MAX, &body));
	assert_int_equal(body.len, t.body.len);
	assert_memory_equal(body.data, t.body.data, body.len);
	strbuf_free(&body);
	mail_text_free(&t);
}

static void test_limits_cut_at_characters(void **state)
{
	const struct mail_text_limits small = { 10, 7, MAIL_TEXT_MIME_DEPTH, MAIL_TEXT_MIME_PARTS };
	const char msg[] = "Subject: x\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nあいうえお\r\n";
	struct strbuf body = STRBUF_INIT;
	struct mail_text t;

	(void)state;
	mail_text_init(&t);
	mail_text_extract(msg, strlen(msg), &small, &t);
	assert_true(t.truncated);
	assert_string_equal(strbuf_cstr(&t.body), "あい");	/* 6 bytes: the third would pass 7 */
	assert_true(t.header.len <= 10);
	mail_text_free(&t);
	assert_true(mail_text_body(msg, strlen(msg), &small, 7, &body));
	assert_string_equal(strbuf_cstr(&body), "あい");
	strbuf_free(&body);
}

static void test_html(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a<b>b</b>c", "abc" },
		{ "1 < 2 &lt; 3", "1 < 2 < 3" },
		{ "<!-- x -->y", "y" },
		{ "<SCRIPT type=x>alert(1)</script >z", "z" },
		{ "&#0;&#xD800;&#1114112;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "&unknown; &amp", "&unknown; &" },
		{ "<p>a</p><div>b", "\na\n\nb" },
		{ "<a href='x'>link", "link" },
		{ "<unterminated", "" },
		{ "<script>never closed", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf out = STRBUF_INIT;
		mail_text_html(cases[i].in, strlen(cases[i].in), &out);
		assert_string_equal(strbuf_cstr(&out), cases[i].out);
		strbuf_free(&out);
	}
}

static void test_fold(void **state)
{
	char s[] = "ABC xyz ÄÖ 東京 Z";

	(void)state;
	mail_text_fold(s, strlen(s));
	assert_string_equal(s, "abc xyz ÄÖ 東京 z");
}

static bool stop_first(const char *text, size_t len, void *ctx)
{
	int *n = ctx;

	(void)text;
	(void)len;
	(*n)++;
	return false;
}

static void test_addresses_stop(void **state)
{
	const char hdr[] = "To: a@b.test, c@d.test\r\nTo: e@f.test\r\n\r\n";
	int n = 0;

	(void)state;
	mail_text_addresses(hdr, strlen(hdr), "To", stop_first, &n);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_body_is_what_search_reads),
		cmocka_unit_test(test_limits_cut_at_characters),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_addresses_stop),
	};

	return cmocka_run_group_tests_name("mail_text", tests, NULL, NULL);
}
