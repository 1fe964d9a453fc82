/* Unit tests for src/mail/mime_view.c: which parts a reader shows as text,
 * HTML, inline image or attachment, IMAP part numbers, decoded file names
 * (RFC 2231 and RFC 2047, Japanese) and RFC 6266 Content-Disposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/mime_view.h"

static const struct mime_limits lim = { 50, 1000 };

static struct mime_message *parse(const char *s)
{
	struct mime_message *msg = NULL;
	const char *error = NULL;

	assert_int_equal(mime_message_parse(s, strlen(s), &lim, &msg, &error), 0);
	return msg;
}

struct seen {
	char log[512];
};

static void record(const struct mime_part *p, const char *id, enum mime_view_kind kind, void *ctx)
{
	struct seen *s = ctx;
	static const char *const names[] = { "text", "html", "inline", "attachment" };
	struct strbuf name = STRBUF_INIT;

	mime_view_filename(p, &name);
	snprintf(s->log + strlen(s->log), sizeof(s->log) - strlen(s->log), "%s=%s%s%s;", id, names[kind],
		 name.len > 0 ? ":" : "", name.len > 0 ? strbuf_cstr(&name) : "");
	strbuf_free(&name);
}

static const char *mixed =
	"Subject: x\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	"--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
	"--b2\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$BF|K\\\x1b(B\r\n"
	"--b2\r\nContent-Type: multipart/related; boundary=\"b3\"\r\n\r\n"
	"--b3\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi <img src=\"cid:img1@x\"></p>\r\n"
	"--b3\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	"iVBORw0KGgo=\r\n--b3--\r\n--b2--\r\n"
	"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
	" filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf\r\n\r\nPDF\r\n"
	"--b1\r\nContent-Type: text/plain; name=\"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=.txt\"\r\n"
	"Content-Disposition: attachment\r\n\r\nnote\r\n"
	"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;"
	" filename=\"../../etc/passwd\"\r\n\r\nx\r\n--b1--\r\n";

static void test_walk(void **state)
{
	struct mime_message *msg = parse(mixed);
	struct seen s = { "" };

	mime_view_walk(msg, record, &s);
	assert_string_equal(s.log, "1.1=text;1.2.1=html;1.2.2=inline;2=attachment:見積書.pdf;"
				   "3=attachment:日本語.txt;4=attachment:.._.._etc_passwd;");
	mime_message_free(msg);
}

static void test_find_and_decode(void **state)
{
	struct mime_message *msg = parse(mixed);
	const struct mime_part *p = mime_view_part_find(msg, "1.2.2");
	struct strbuf b = STRBUF_INIT;

	assert_non_null(p);
	mime_view_body_decode(msg, p, &b);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\x89PNG\r\n\x1a\n", 8);
	strbuf_truncate(&b, 0);
	mime_view_content_id(p, &b);
	assert_string_equal(strbuf_cstr(&b), "img1@x");
	strbuf_free(&b);
	assert_null(mime_view_part_find(msg, "9"));
	assert_null(mime_view_part_find(msg, "1.2.2.1"));
	assert_null(mime_view_part_find(msg, "0"));
	assert_null(mime_view_part_find(msg, "1."));
	assert_null(mime_view_part_find(msg, ""));
	assert_null(mime_view_part_find(msg, "1..2"));
	assert_non_null(mime_view_part_find(msg, "4"));
	mime_message_free(msg);

	msg = parse("Subject: plain\r\n\r\nbody\r\n");
	assert_ptr_equal(mime_view_part_find(msg, "1"), msg->root);
	assert_null(mime_view_part_find(msg, "2"));
	mime_message_free(msg);
}

static void test_single_html(void **state)
{
	struct mime_message *msg = parse("Content-Type: text/html\r\n\r\n<b>x</b>\r\n");
	struct seen s = { "" };

	mime_view_walk(msg, record, &s);
	assert_string_equal(s.log, "1=html;");
	mime_message_free(msg);
}

static void test_disposition(void **state)
{
	char out[320];

	mime_view_disposition(true, "report.pdf", NULL, out, sizeof(out));
	assert_string_equal(out, "attachment; filename=\"report.pdf\"");
	mime_view_disposition(false, "見積書.pdf", NULL, out, sizeof(out));
	assert_string_equal(out, "inline; filename=\"___.pdf\"; "
				 "filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf");
	mime_view_disposition(true, "a\"b\\c d.txt", NULL, out, sizeof(out));
	assert_string_equal(out, "attachment; filename=\"a_b_c d.txt\"; filename*=UTF-8''a%22b%5Cc%20d.txt");
	mime_view_disposition(true, "", "part-2", out, sizeof(out));
	assert_string_equal(out, "attachment; filename=\"part-2\"");
	mime_view_disposition(true, NULL, NULL, out, sizeof(out));
	assert_string_equal(out, "attachment; filename=\"file\"");
}

static void test_disposition_long(void **state)
{
	char name[3000], out[320], small[64];
	size_t n = 0;

	while (n + 3 < sizeof(name)) {
		memcpy(name + n, "日", 3);
		n += 3;
	}
	name[n] = '\0';
	mime_view_disposition(true, name, NULL, out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
	/* the encoded name ends on a whole character: %E6%97%A5 */
	assert_string_equal(out + strlen(out) - 9, "%E6%97%A5");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	mime_view_disposition(true, name, NULL, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(small[strlen(small) - 1], '"');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_find_and_decode),
		cmocka_unit_test(test_single_html),
		cmocka_unit_test(test_disposition),
		cmocka_unit_test(test_disposition_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
