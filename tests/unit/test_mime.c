/* Unit tests for src/mail/mime.c and src/mail/header.c: offsets and sizes,
 * Content-* fields, RFC 2231 parameters, nested multiparts, missing and
 * broken boundaries, message/rfc822, limits and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/header.h"
#include "mail/mime.h"

static const struct mime_limits limits = { 100, 10000 };

static struct mime_message *parse(const char *s, size_t len)
{
	struct mime_message *msg = NULL;
	const char *error = NULL;

	assert_int_equal(mime_message_parse(s, len, &limits, &msg, &error), 0);
	assert_non_null(msg);
	return msg;
}

/* The body of part as a C string (for comparisons). */
static char *body_of(const struct mime_message *msg, const struct mime_part *p)
{
	static char buf[4096];

	assert_true(p->body_size < sizeof(buf));
	memcpy(buf, msg->data + p->body_offset, p->body_size);
	buf[p->body_size] = '\0';
	return buf;
}

static void test_simple(void **state)
{
	const char *m = "From: a@b.c\r\nSubject: hi\r\n\r\nhello\r\nworld\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *p = msg->root;

	assert_int_equal(p->header_offset, 0);
	assert_int_equal(p->header_size, 28);
	assert_int_equal(p->body_offset, 28);
	assert_int_equal(p->body_size, 14);
	assert_int_equal(p->body_lines, 2);
	assert_string_equal(p->type, "text");
	assert_string_equal(p->subtype, "plain");
	assert_false(p->has_content_type);
	assert_string_equal(p->encoding, "7bit");
	assert_string_equal(mime_part_charset(p), "us-ascii");
	assert_null(p->children);
	assert_int_equal(msg->part_count, 1);
	mime_message_free(msg);
}

static void test_fields(void **state)
{
	const char *m =
		"Content-Type: Text/HTML; Charset=\"ISO-2022-JP\" ; format = flowed (c)\r\n"
		"Content-Transfer-Encoding: Quoted-Printable (comment)\r\n"
		"Content-ID: <id@x>\r\n"
		"Content-Description: a\r\n  folded one\r\n"
		"Content-MD5: Q2hlY2s=\r\n"
		"Content-Disposition: ATTACHMENT; filename=\"a b.txt\"; size=3\r\n"
		"Content-Language: ja, en-US\r\n"
		"Content-Location: http://x/y\r\n"
		"\r\n"
		"x";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *p = msg->root;

	assert_string_equal(p->type, "text");
	assert_string_equal(p->subtype, "html");
	assert_int_equal(p->param_count, 2);
	assert_string_equal(p->params[0].name, "charset");
	assert_string_equal(p->params[0].value, "ISO-2022-JP");
	assert_string_equal(p->params[1].name, "format");
	assert_string_equal(p->params[1].value, "flowed");
	assert_string_equal(p->encoding, "Quoted-Printable");
	assert_string_equal(p->id, "<id@x>");
	assert_string_equal(p->description, "a  folded one");
	assert_string_equal(p->md5, "Q2hlY2s=");
	assert_string_equal(p->disposition, "attachment");
	assert_int_equal(p->disposition_param_count, 2);
	assert_string_equal(p->disposition_params[0].value, "a b.txt");
	assert_int_equal(p->language_count, 2);
	assert_string_equal(p->languages[0], "ja");
	assert_string_equal(p->languages[1], "en-US");
	assert_string_equal(p->location, "http://x/y");
	assert_int_equal(p->body_size, 1);
	assert_int_equal(p->body_lines, 0);
	mime_message_free(msg);
}

static void test_rfc2231(void **state)
{
	const char *m =
		"Content-Type: application/octet-stream;\r\n"
		" name*1*=%E6%9C%AC%E8%AA%9E.txt; name*0*=UTF-8''%E6%97%A5;\r\n"
		" title*=iso-2022-jp'ja'%1B%24B%46%7C%1B%28B;\r\n"
		" long*0=\"abc\"; long*1=def; long*3=gap\r\n"
		"\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *p = msg->root;

	assert_string_equal(mime_part_param(p, "name"), "日本語.txt");
	assert_true(p->params[0].extended);
	assert_string_equal(mime_part_param(p, "title"), "日");
	assert_string_equal(mime_part_param(p, "long"), "abcdef");
	mime_message_free(msg);
}

static const char nested[] =
	"Content-Type: multipart/mixed; boundary=outer\r\n"
	"\r\n"
	"preamble\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
	"\r\n"
	"--inner\r\n"
	"\r\n"
	"plain\r\n"
	"--inner\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<b>x</b>\r\n"
	"\r\n"
	"--inner--\r\n"
	"inner epilogue\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inside\r\n"
	"\r\n"
	"body\r\n"
	"--outer--\r\n"
	"epilogue\r\n";

static void test_nested(void **state)
{
	struct mime_message *msg = parse(nested, strlen(nested));
	const struct mime_part *root = msg->root, *alt, *plain, *html, *rfc, *inner;

	assert_true(root->is_multipart);
	alt = root->children;
	assert_non_null(alt);
	assert_true(alt->is_multipart);
	assert_string_equal(alt->subtype, "alternative");
	plain = alt->children;
	html = plain->next;
	assert_null(html->next);
	assert_int_equal(plain->header_size, 2);
	assert_string_equal(body_of(msg, plain), "plain");
	assert_int_equal(plain->body_lines, 0);
	assert_string_equal(body_of(msg, html), "<b>x</b>\r\n");
	assert_int_equal(html->body_lines, 1);
	assert_string_equal(body_of(msg, alt),
			    "--inner\r\n\r\nplain\r\n--inner\r\nContent-Type: text/html\r\n\r\n"
			    "<b>x</b>\r\n\r\n--inner--\r\ninner epilogue");
	rfc = alt->next;
	assert_true(rfc->is_message);
	inner = rfc->children;
	assert_non_null(inner);
	assert_int_equal(inner->header_offset, rfc->body_offset);
	assert_int_equal(inner->header_size, strlen("Subject: inside\r\n\r\n"));
	assert_string_equal(body_of(msg, inner), "body");
	assert_string_equal(body_of(msg, rfc), "Subject: inside\r\n\r\nbody");
	assert_int_equal(rfc->body_lines, 2);
	assert_int_equal(inner->depth, 2);
	assert_int_equal(msg->part_count, 6);
	assert_int_equal(root->body_size, strlen(nested) - root->body_offset);
	mime_message_free(msg);
}

static void test_bare_lf(void **state)
{
	const char *m = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n\n--b--\n";
	struct mime_message *msg = parse(m, strlen(m));

	assert_non_null(msg->root->children);
	assert_string_equal(body_of(msg, msg->root->children), "one");
	assert_string_equal(body_of(msg, msg->root->children->next), "two\n");
	assert_int_equal(msg->root->children->next->body_lines, 1);
	mime_message_free(msg);
}

static void test_missing_close(void **state)
{
	/* no closing delimiter: the last part runs to the end */
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *two = msg->root->children->next;

	assert_string_equal(body_of(msg, two), "two\r\n");
	assert_null(two->next);
	mime_message_free(msg);
}

static void test_inner_unclosed(void **state)
{
	/* an inner multipart never closed ends at the outer delimiter */
	const char *m =
		"Content-Type: multipart/mixed; boundary=out\r\n\r\n"
		"--out\r\nContent-Type: multipart/related; boundary=in\r\n\r\n"
		"--in\r\n\r\na\r\n"
		"--out\r\n\r\nb\r\n--out--\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *rel = msg->root->children;

	assert_string_equal(body_of(msg, rel->children), "a");
	assert_non_null(rel->next);
	assert_string_equal(body_of(msg, rel->next), "b");
	assert_null(rel->next->next);
	mime_message_free(msg);
}

static void test_no_boundary(void **state)
{
	const char *m = "Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n";
	const char *m2 = "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--b\r\n\r\nx\r\n";
	struct mime_message *msg = parse(m, strlen(m));

	assert_false(msg->root->is_multipart);
	assert_null(msg->root->children);
	assert_int_equal(msg->root->body_size, 10);
	mime_message_free(msg);
	msg = parse(m2, strlen(m2));
	assert_true(msg->root->is_multipart);
	assert_null(msg->root->children);
	mime_message_free(msg);
}

static void test_boundary_prefix(void **state)
{
	/* the longest matching boundary wins, so "ab" lines are not "a" */
	const char *m =
		"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
		"--a\r\nContent-Type: multipart/mixed; boundary=ab\r\n\r\n"
		"--ab\r\n\r\n1\r\n--ab\r\n\r\n2\r\n--ab--\r\n"
		"--a\r\n\r\n3\r\n--a--\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *in = msg->root->children;

	assert_string_equal(body_of(msg, in->children), "1");
	assert_string_equal(body_of(msg, in->children->next), "2");
	assert_string_equal(body_of(msg, in->next), "3");
	assert_int_equal(msg->part_count, 5);
	mime_message_free(msg);
}

static void test_empty_line_before_delimiter(void **state)
{
	/* the header's empty line is also the line end before the delimiter:
	 * it stays the header's, and the parent keeps it too */
	const char *m =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\n--b--\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *c = msg->root->children;

	assert_int_equal(c->header_size, strlen("Content-Type: text/plain\r\n\r\n"));
	assert_int_equal(c->body_size, 0);
	assert_int_equal(c->body_offset + c->body_size,
			 msg->root->body_offset + msg->root->body_size - strlen("--b--\r\n"));
	mime_message_free(msg);
}

static void test_digest(void **state)
{
	const char *m =
		"Content-Type: multipart/digest; boundary=d\r\n\r\n"
		"--d\r\n\r\nSubject: one\r\n\r\nbody one\r\n"
		"--d\r\nContent-Type: text/plain\r\n\r\nnot a message\r\n--d--\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *a = msg->root->children;

	assert_string_equal(a->type, "message");
	assert_string_equal(a->subtype, "rfc822");
	assert_true(a->is_message);
	assert_string_equal(body_of(msg, a->children), "body one");
	assert_string_equal(a->next->type, "text");
	mime_message_free(msg);
}

static void test_broken_headers(void **state)
{
	const char *m =
		" leading continuation\r\n"
		"no colon here\r\n"
		"Bad Name: x\r\n"
		"Content-Type: text\r\n"
		"Content-Type: image/png\r\n"
		"Content-Transfer-Encoding: ?bad\r\n"
		"Content-Type  : ignored/second\r\n"
		"\r\nbody";
	struct mime_message *msg = parse(m, strlen(m));

	/* the first Content-Type is invalid: defaults, no params */
	assert_true(msg->root->has_content_type);
	assert_string_equal(msg->root->type, "text");
	assert_string_equal(msg->root->subtype, "plain");
	assert_string_equal(msg->root->encoding, "7bit");
	assert_string_equal(body_of(msg, msg->root), "body");
	mime_message_free(msg);
}

static void test_header_only(void **state)
{
	const char *m = "Subject: x\r\nFrom: y";
	struct mime_message *msg = parse(m, strlen(m));

	assert_int_equal(msg->root->header_size, strlen(m));
	assert_int_equal(msg->root->body_size, 0);
	assert_int_equal(msg->root->body_offset, strlen(m));
	mime_message_free(msg);
	msg = parse("", 0);
	assert_int_equal(msg->root->header_size, 0);
	assert_int_equal(msg->root->body_size, 0);
	mime_message_free(msg);
}

static void test_nuls_and_8bit(void **state)
{
	static const char m[] =
		"Content-Type: multipart/mixed; boundary=\"\xe5\x8c\xba\"\r\n\r\n"
		"--\xe5\x8c\xba\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		"\0a\0\xff\r\n--\xe5\x8c\xba--\r\n";
	struct mime_message *msg = parse(m, sizeof(m) - 1);
	const struct mime_part *c = msg->root->children;

	assert_non_null(c);
	assert_int_equal(c->body_size, 4);
	assert_memory_equal(msg->data + c->body_offset, "\0a\0\xff", 4);
	mime_message_free(msg);
}

/* Every prefix of a message parses and every part lies inside it. */
static void check_bounds(const struct mime_part *p, size_t size)
{
	for (; p != NULL; p = p->next) {
		assert_true(p->header_offset + p->header_size <= size);
		assert_true(p->body_offset + p->body_size <= size);
		assert_true(p->body_offset >= p->header_offset + p->header_size);
		check_bounds(p->children, size);
	}
}

static void test_truncated(void **state)
{
	for (size_t n = 0; n <= strlen(nested); n++) {
		char *copy = malloc(n + 1);
		struct mime_message *msg;

		memcpy(copy, nested, n);
		msg = parse(copy, n);
		check_bounds(msg->root, n);
		mime_message_free(msg);
		free(copy);
	}
}

static void test_deep_nesting(void **state)
{
	struct mime_limits lim = { 100, 10000 };
	size_t cap = 3000 * 80, len = 0;
	char *m = malloc(cap);
	struct mime_message *msg = NULL;
	const struct mime_part *p;
	const char *error;
	unsigned int depth = 0;

	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(m + len, cap - len,
					"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	assert_int_equal(mime_message_parse(m, len, &lim, &msg, &error), 0);
	assert_true(msg->limit_reached);
	for (p = msg->root; p->children != NULL; p = p->children)
		depth++;
	assert_int_equal(depth, 100);
	check_bounds(msg->root, len);
	mime_message_free(msg);

	/* message/rfc822 inside message/rfc822 */
	len = 0;
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(m + len, cap - len, "Content-Type: message/rfc822\r\n\r\n");
	assert_int_equal(mime_message_parse(m, len, &lim, &msg, &error), 0);
	assert_true(msg->limit_reached);
	mime_message_free(msg);
	free(m);
}

static void test_max_parts(void **state)
{
	struct mime_limits lim = { 10, 50 };
	size_t cap = 100000, len = 0;
	char *m = malloc(cap);
	struct mime_message *msg = NULL;
	const char *error;

	len += (size_t)snprintf(m, cap, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(m + len, cap - len, "--x\r\n\r\npart %d\r\n", i);
	assert_int_equal(mime_message_parse(m, len, &lim, &msg, &error), 0);
	assert_true(msg->limit_reached);
	assert_int_equal(msg->part_count, 50);
	check_bounds(msg->root, len);
	mime_message_free(msg);
	lim.max_parts = 0;
	msg = NULL;
	assert_int_equal(mime_message_parse(m, len, &lim, &msg, &error), -1);
	assert_null(msg);
	assert_string_equal(error, "invalid MIME parser limits");
	free(m);
}

/* Many delimiter-looking lines against a deep stack stay fast. */
static void test_many_dash_lines(void **state)
{
	size_t cap = 4 * 1024 * 1024, len = 0;
	char *m = malloc(cap);
	struct mime_message *msg;

	for (int i = 0; i < 90; i++)
		len += (size_t)snprintf(m + len, cap - len,
					"Content-Type: multipart/mixed; boundary=bbbbbbbbbbbbbbbbbbbb%d\r\n\r\n"
					"--bbbbbbbbbbbbbbbbbbbb%d\r\n", i, i);
	while (len + 40 < cap)
		len += (size_t)snprintf(m + len, cap - len, "--bbbbbbbbbbbbbbbbbbbbX\r\n");
	msg = parse(m, len);
	check_bounds(msg->root, len);
	mime_message_free(msg);
	free(m);
}

static void test_text_decode(void **state)
{
	const char *m =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 =\r\nau lait\r\n"
		"--b\r\nContent-Type: text/plain; charset=shift_jis\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\ngqCCooKkgqaCqA==\r\n"
		"--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n";
	struct mime_message *msg = parse(m, strlen(m));
	const struct mime_part *a = msg->root->children;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(mime_part_text_decode(msg, a, &out), 0);
	assert_string_equal(strbuf_cstr(&out), "café au lait");
	strbuf_truncate(&out, 0);
	assert_int_equal(mime_part_text_decode(msg, a->next, &out), 0);
	assert_string_equal(strbuf_cstr(&out), "あいうえお");
	strbuf_truncate(&out, 0);
	assert_int_equal(mime_part_text_decode(msg, a->next->next, &out), -1);
	assert_int_equal(mime_part_text_decode(msg, msg->root, &out), -1);
	assert_int_equal(out.len, 0);
	strbuf_free(&out);
	mime_message_free(msg);
}

static void test_header_iter(void **state)
{
	const char *h = "From: a\r\nSubject: one\r\n\ttwo\r\nX-Empty:\r\nbroken\r\nTo : c\r\n\r\nBody: no\r\n";
	struct mail_header_iter iter;
	struct mail_header_field f;
	struct strbuf buf = STRBUF_INIT;

	mail_header_iter_init(&iter, h, strlen(h));
	assert_true(mail_header_iter_next(&iter, &f));
	assert_int_equal(f.name_len, 4);
	assert_memory_equal(f.value, " a", 2);
	assert_int_equal(f.value_len, 2);
	assert_true(mail_header_iter_next(&iter, &f));
	assert_true(mail_header_field_is(&f, "SUBJECT"));
	assert_int_equal(f.value_len, strlen(" one\r\n\ttwo"));
	mail_header_unfold(f.value, f.value_len, &buf);
	assert_string_equal(strbuf_cstr(&buf), "one\ttwo");
	assert_true(mail_header_iter_next(&iter, &f));
	assert_int_equal(f.value_len, 0);
	assert_true(mail_header_iter_next(&iter, &f));
	assert_true(mail_header_field_is(&f, "to"));
	assert_false(mail_header_iter_next(&iter, &f));
	assert_false(mail_header_find(h, strlen(h), "body", &f));
	assert_true(mail_header_find(h, strlen(h), "x-empty", &f));
	assert_int_equal(mail_header_block_size(h, strlen(h)), strlen(h) - strlen("Body: no\r\n"));
	strbuf_free(&buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_missing_close),
		cmocka_unit_test(test_inner_unclosed),
		cmocka_unit_test(test_no_boundary),
		cmocka_unit_test(test_boundary_prefix),
		cmocka_unit_test(test_empty_line_before_delimiter),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_broken_headers),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_nuls_and_8bit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_max_parts),
		cmocka_unit_test(test_many_dash_lines),
		cmocka_unit_test(test_text_decode),
		cmocka_unit_test(test_header_iter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
