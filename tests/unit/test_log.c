/* Log lines: whatever a client sends, a value is logged as valid UTF-8
 * on one line, with controls and invalid bytes as \xNN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "lib/log.h"

static void check(const char *in, size_t len, const char *want)
{
	char out[256];

	assert_int_equal(log_escape(out, sizeof(out), in, len), strlen(want));
	assert_string_equal(out, want);
}

static void test_plain_and_utf8_pass(void **state)
{
	(void)state;
	check("user@example.jp login", 21, "user@example.jp login");
	check("\xe9\x83\xb5\xe4\xbe\xbf", 6, "\xe9\x83\xb5\xe4\xbe\xbf");	/* 郵便 */
	check("\xf0\x9f\x93\xae", 4, "\xf0\x9f\x93\xae");			/* U+1F4EE */
	check("a\\b", 3, "a\\b");
	check("\xc2\xa0", 2, "\xc2\xa0");					/* NBSP: not a control */
}

static void test_controls_escaped(void **state)
{
	(void)state;
	check("a\r\nb", 4, "a\\x0D\\x0Ab");
	check("\t\x1b[31m", 6, "\\x09\\x1B[31m");
	check("x\x7fy", 3, "x\\x7Fy");
	check("\xc2\x85", 2, "\\xC2\\x85");					/* NEL, a C1 control */
	check("a\0b", 3, "a\\x00b");
}

static void test_invalid_utf8_escaped(void **state)
{
	(void)state;
	check("\xff\xfe", 2, "\\xFF\\xFE");
	check("caf\xe9!", 5, "caf\\xE9!");					/* Latin-1 */
	check("\xc0\xaf", 2, "\\xC0\\xAF");					/* overlong '/' */
	check("\xe0\x80\xaf", 3, "\\xE0\\x80\\xAF");				/* overlong */
	check("\xed\xa0\x80", 3, "\\xED\\xA0\\x80");				/* surrogate */
	check("\xf4\x90\x80\x80", 4, "\\xF4\\x90\\x80\\x80");			/* > U+10FFFF */
	check("\xe9\x83", 2, "\\xE9\\x83");					/* truncated */
	check("\xe9\x83" "a", 3, "\\xE9\\x83a");
	check("\x80", 1, "\\x80");						/* lone continuation */
}

static void test_bounded(void **state)
{
	char out[8];

	(void)state;
	/* Stops before an escape or character that does not fit. */
	assert_int_equal(log_escape(out, 7, "abc\x01zz", 6), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(log_escape(out, 8, "abc\x01zz", 6), 7);
	assert_string_equal(out, "abc\\x01");
	assert_int_equal(log_escape(out, sizeof(out), "abcdef\xe9\x83\xb5", 9), 6);
	assert_string_equal(out, "abcdef");
	assert_int_equal(log_escape(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_utf8_pass),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_invalid_utf8_escaped),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
