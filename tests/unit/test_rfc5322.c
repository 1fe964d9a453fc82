/* The shared RFC 5322 lexer (mail/rfc5322.c): comments, quoted strings,
 * CFWS; and the parsers that now use it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "lib/strbuf.h"
#include "mail/authres.h"
#include "mail/header.h"
#include "mail/rfc5322.h"

static void check_comment(const char *in, size_t want_len, const char *want_text)
{
	struct strbuf text = STRBUF_INIT;

	assert_int_equal(rfc5322_comment(in, strlen(in), &text), want_len);
	assert_string_equal(strbuf_cstr(&text), want_text);
	assert_int_equal(rfc5322_comment(in, strlen(in), NULL), want_len);
	strbuf_free(&text);
}

static void check_quoted(const char *in, size_t want_len, const char *want_text)
{
	struct strbuf text = STRBUF_INIT;

	assert_int_equal(rfc5322_quoted(in, strlen(in), &text), want_len);
	assert_string_equal(strbuf_cstr(&text), want_text);
	strbuf_free(&text);
}

static void test_comments(void **state)
{
	(void)state;
	check_comment("(plain) rest", 7, "plain");
	check_comment("(a (nested (deeper)) b)x", 23, "a (nested (deeper)) b");
	check_comment("(a \\) still in) out", 15, "a ) still in");	/* quoted-pair */
	check_comment("(a \\( b)x", 8, "a ( b");
	check_comment("(folded\r\n text)", 15, "folded text");
	check_comment("(\\\\)", 4, "\\");
	check_comment("(unterminated (x)", 17, "unterminated (x)");
	check_comment("(ends in a backslash\\", 21, "ends in a backslash\\");
	check_comment("()", 2, "");
}

static void test_quoted(void **state)
{
	(void)state;
	check_quoted("\"Yamada Taro\" <t@x>", 13, "Yamada Taro");
	check_quoted("\"a \\\" b\"x", 8, "a \" b");
	check_quoted("\"back\\\\slash\"", 13, "back\\slash");
	check_quoted("\"(not a comment)\"", 17, "(not a comment)");
	check_quoted("\"folded\r\n line\"", 15, "folded line");
	check_quoted("\"unterminated", 13, "unterminated");
	check_quoted("\"ends \\", 7, "ends \\");
	check_quoted("\"\"", 2, "");
}

static void test_skip_cfws(void **state)
{
	const char *s = " \t(c1 (c2)) \r\n (c\\)3)x (y)";

	(void)state;
	assert_int_equal(rfc5322_skip_cfws(s, strlen(s), 0), 21);
	assert_int_equal(s[21], 'x');
	assert_int_equal(rfc5322_skip_cfws(s, strlen(s), 21), 21);
	assert_int_equal(rfc5322_skip_cfws(s, strlen(s), 22), strlen(s));
	assert_int_equal(rfc5322_skip_cfws("", 0, 0), 0);
	assert_int_equal(rfc5322_skip_cfws("(open", 5, 0), 5);
}

static void test_addr_at(void **state)
{
	const char *a = "\"a@b\\\"@c\"@example.jp", *b = "x@y@z";

	(void)state;
	assert_ptr_equal(rfc5322_addr_at(a, strlen(a)), a + 9);	/* quoted '@' and '\"' */
	assert_ptr_equal(rfc5322_addr_at(b, strlen(b)), b + 3);	/* the last one */
	assert_null(rfc5322_addr_at("\"a@b\"", 6));
	assert_null(rfc5322_addr_at("", 0));
}

/* A date's comments may hold escaped parentheses (the old date lexer
 * ended the comment at "\)"). */
static void test_date_comment_quoted_pair(void **state)
{
	const char *d = "Tue, (odd \\) comment) 1 Dec 2026 (x) 10:00:00 +0000 (UTC)";
	int64_t t;

	(void)state;
	assert_int_equal(mail_date_parse(d, strlen(d), &t), 0);
	assert_true(t == 1796119200);
}

static void test_authres_cfws(void **state)
{
	char id[64];
	const char *v = "(a \\) b) (c (d)) mx.example.jp; spf=pass";

	(void)state;
	assert_int_equal(authres_authserv_id(v, strlen(v), id, sizeof(id)), 0);
	assert_string_equal(id, "mx.example.jp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_skip_cfws),
		cmocka_unit_test(test_addr_at),
		cmocka_unit_test(test_date_comment_quoted_pair),
		cmocka_unit_test(test_authres_cfws),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
