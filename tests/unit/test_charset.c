/* Unit tests for src/mail/charset.c (and src/lib/strbuf.c, which it
 * writes into): Japanese charsets with real bytes, Latin ones, unknown
 * labels, UTF-8 validation and replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/charset.h"

static void check(const char *charset, const char *in, size_t len, int ret, const char *expected)
{
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(charset_to_utf8(charset, in, len, &out), ret);
	assert_string_equal(strbuf_cstr(&out), expected);
	assert_true(charset_utf8_is_valid(out.data != NULL ? out.data : "", out.len));
	strbuf_free(&out);
}

#define CHECK(cs, bytes, ret, expected) check(cs, bytes, sizeof(bytes) - 1, ret, expected)

static void test_iso2022jp(void **state)
{
	/* 本文です */
	CHECK("ISO-2022-JP", "\x1b$BK\\J8$G$9\x1b(B", 0, "本文です");
	/* ASCII around, JIS Roman, line ends reset the mode */
	CHECK("iso-2022-jp", "a\x1b$BF|\x1b(Jb\r\n\x1b$BK\\\x1b(B", 0, "a日b\r\n本");
	/* half-width katakana (ESC ( I): ｱｲ */
	CHECK("ISO-2022-JP", "\x1b(I12\x1b(B", 0, "ｱｲ");
	/* NEC row 13 (①) and IBM extensions work as in CP932 */
	CHECK("ISO-2022-JP", "\x1b$B-!-\"\x1b(B", 0, "①②");
	/* truncated character, unknown escape */
	CHECK("ISO-2022-JP", "\x1b$BF", 0, "\xef\xbf\xbd");
	CHECK("ISO-2022-JP", "\x1bZa", 0, "\xef\xbf\xbd" "Za");
}

static void test_shift_jis(void **state)
{
	CHECK("Shift_JIS", "\x93\xfa\x96\x7b\x8c\xea", 0, "日本語");
	CHECK("shift-jis", "\x87\x40", 0, "①");	/* CP932 extension */
	CHECK("x-sjis", "\xb1\xb2", 0, "ｱｲ");
	CHECK("windows-31j", "\x81\x60", 0, "～");
	/* a lone lead byte at the end */
	CHECK("Shift_JIS", "a\x93", 0, "a\xef\xbf\xbd");
	/* invalid byte in the middle */
	CHECK("Shift_JIS", "\x93\xfa\xa0\x96\x7b", 0, "日\xef\xbf\xbd本");
}

static void test_euc_jp(void **state)
{
	CHECK("EUC-JP", "\xc6\xfc\xcb\xdc\xb8\xec", 0, "日本語");
	CHECK("euc-jp", "\x8e\xb1", 0, "ｱ");
}

static void test_others(void **state)
{
	CHECK("ISO-8859-1", "caf\xe9", 0, "café");
	CHECK("iso-8859-1", "\x80", 0, "€");	/* read as windows-1252 */
	CHECK("ISO-8859-15", "\xa4", 0, "€");
	CHECK("ISO-8859-5", "\xb0", 0, "А");
	CHECK("KOI8-R", "\xc1", 0, "а");
	CHECK("utf-8", "ok \xe6\x97\xa5", 0, "ok 日");
	CHECK("UTF8", "bad \xc0\xaf", 0, "bad \xef\xbf\xbd\xef\xbf\xbd");
	CHECK("us-ascii", "plain", 0, "plain");
	CHECK(NULL, "x\xff", 0, "x\xef\xbf\xbd");
	CHECK("", "y", 0, "y");
	CHECK("utf-16le", "a\0b\0", 0, "ab");
}

static void test_unknown(void **state)
{
	CHECK("x-no-such-charset", "abc \xe6\x97\xa5 \xff", -1, "abc 日 \xef\xbf\xbd");
	CHECK("../../etc/passwd", "a", -1, "a");
	assert_false(charset_is_known("x-no-such-charset"));
	assert_true(charset_is_known("ISO-2022-JP"));
	assert_true(charset_is_known("shift_jis"));
	assert_true(charset_is_known("utf-8"));
	assert_true(charset_is_utf8_compatible("US-ASCII"));
	assert_false(charset_is_utf8_compatible("euc-jp"));
}

static void test_utf8_validation(void **state)
{
	assert_true(charset_utf8_is_valid("", 0));
	assert_true(charset_utf8_is_valid("\xf0\x9f\x93\xae", 4));
	assert_false(charset_utf8_is_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(charset_utf8_is_valid("\xe0\x80\xaf", 3));	/* overlong */
	assert_false(charset_utf8_is_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(charset_utf8_is_valid("\xe6\x97", 2));	/* truncated */
	assert_true(charset_utf8_is_valid("a\0b", 3));
}

static void test_long_input(void **state)
{
	/* more than one iconv output chunk */
	size_t n = 20000;
	char *in = malloc(n * 2);
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		in[2 * i] = '\x93';
		in[2 * i + 1] = '\xfa';
	}
	assert_int_equal(charset_to_utf8("Shift_JIS", in, n * 2, &out), 0);
	assert_int_equal(out.len, n * 3);
	assert_memory_equal(out.data + out.len - 3, "日", 3);
	strbuf_free(&out);
	free(in);
}

static void test_strbuf(void **state)
{
	struct strbuf b = STRBUF_INIT;

	assert_string_equal(strbuf_cstr(&b), "");
	strbuf_reserve(&b, 10);
	assert_string_equal(strbuf_cstr(&b), "");
	strbuf_printf(&b, "%d-%s", 42, "x");
	strbuf_append_c(&b, '!');
	assert_string_equal(strbuf_cstr(&b), "42-x!");
	for (int i = 0; i < 1000; i++)
		strbuf_printf(&b, "%0100d", i);
	assert_int_equal(b.len, 5 + 100000);
	strbuf_truncate(&b, 2);
	assert_string_equal(strbuf_cstr(&b), "42");
	strbuf_truncate(&b, 10);
	assert_int_equal(b.len, 2);
	strbuf_free(&b);
	assert_null(b.data);
	strbuf_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso2022jp),
		cmocka_unit_test(test_shift_jis),
		cmocka_unit_test(test_euc_jp),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_long_input),
		cmocka_unit_test(test_strbuf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
